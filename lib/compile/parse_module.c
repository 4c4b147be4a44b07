/*
 * parse_module.c — import and export declarations (ECMAScript 2022, 16.2) and their early errors.
 *
 * Imported names are lexical declarations of the module scope (so `import {a} from "m"; let a;` is a
 * redeclaration). Exported names must be unique (tracked with a flag on the name's atom, atoms being per parse),
 * and `export { x }` without `from` must name a binding declared somewhere at the module's top level, which can
 * only be known at the end: such names are kept in p->export_refs and checked by ew__check_exports.
 * ES2022 allows string literals as export names (`export { x as "a-b" }`); they must be well-formed Unicode.
 */
#include <string.h>

#include "internal.h"

static void record_export(ew__parser_t *p, ew__atom_t *name, uint32_t pos)
{
    if (name->flags & EW__ATOM_EXPORTED)
        ew__perror(p, pos, "Duplicate export of '%.80s'", name->s);
    name->flags |= EW__ATOM_EXPORTED;
}

/* A lone surrogate (WTF-8 ED A0..BF xx) makes a string unusable as a module export name. */
static bool has_lone_surrogate(ew__str_t s)
{
    for (uint32_t i = 0; i + 2 < s.len; i++)
        if ((unsigned char) s.s[i] == 0xED && ((unsigned char) s.s[i + 1] & 0xE0) == 0xA0)
            return true;
    return false;
}

/* ModuleExportName: an IdentifierName (reserved words included) or a string literal. */
static ew__node_t *parse_export_name(ew__parser_t *p)
{
    if (p->tok.type == EW__T_STRING) {
        if (has_lone_surrogate(p->tok.str))
            ew__perror(p, p->tok.start, "Invalid module export name: contains unpaired surrogate");
        return ew__parse_literal(p);
    }
    if (p->tok.type == EW__T_NAME || p->tok.type >= EW__T_FIRST_KEYWORD) {
        ew__node_t *n = ew__node(p, EW__N_Identifier, ew__here(p));
        n->as.ident.name = p->tok.atom;
        ew__lex_next(p);
        return ew__finish(p, n);
    }
    ew__unexpected(p);
}

static ew__atom_t *export_name_atom(ew__parser_t *p, const ew__node_t *n)
{
    if (n->type == EW__N_Identifier)
        return n->as.ident.name;
    return ew__intern(p, n->as.literal.string.s, n->as.literal.string.len);
}

/* Import attributes, `with { type: 'json' }` (ES2025): accepted and dropped; the bundler goes by file name. */
static void skip_attributes(ew__parser_t *p)
{
    if (p->tok.type != EW__T_K_WITH)
        return;
    ew__lex_next(p);
    ew__expect(p, EW__T_LBRACE);
    while (!ew__eat(p, EW__T_RBRACE)) {
        if (p->tok.type != EW__T_STRING && p->tok.type != EW__T_NAME && p->tok.type < EW__T_FIRST_KEYWORD)
            ew__unexpected(p);
        ew__lex_next(p);
        ew__expect(p, EW__T_COLON);
        if (p->tok.type != EW__T_STRING)
            ew__unexpected(p);
        ew__lex_next(p);
        if (p->tok.type != EW__T_RBRACE)
            ew__expect(p, EW__T_COMMA);
    }
}

static ew__node_t *parse_source(ew__parser_t *p)
{
    ew__expect_name(p, p->n.from);
    if (p->tok.type != EW__T_STRING)
        ew__unexpected(p);
    ew__node_t *src = ew__parse_literal(p);
    skip_attributes(p);
    return src;
}

static void declare_import(ew__parser_t *p, ew__node_t *local)
{
    if (local->as.ident.name == p->n.let)
        ew__perror(p, local->start, "let is disallowed as a lexically bound name");
    ew__declare(p, local->as.ident.name, EW__B_LEXICAL, local->start);
}

static void parse_import_specifiers(ew__parser_t *p)
{
    ew__lex_next(p); /* { */
    while (!ew__eat(p, EW__T_RBRACE)) {
        ew__node_t *s = ew__node(p, EW__N_ImportSpecifier, ew__here(p));
        ew__token_t first = p->tok;
        ew__node_t *imported = parse_export_name(p);
        s->as.import_spec.imported = imported;
        if (ew__is_name(p, p->n.as)) {
            ew__lex_next(p);
            s->as.import_spec.local = ew__parse_ident(p, true);
        } else {
            if (imported->type != EW__N_Identifier)
                ew__unexpected(p);
            s->as.import_spec.local = ew__ident_from_token(p, &first, true);
        }
        declare_import(p, s->as.import_spec.local);
        ew__list_push(p, ew__finish(p, s));
        if (p->tok.type != EW__T_RBRACE)
            ew__expect(p, EW__T_COMMA);
    }
}

ew__node_t *ew__parse_import(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_ImportDeclaration, ew__here(p));
    ew__lex_next(p); /* import */
    uint32_t mark = ew__list_mark(p);
    if (p->tok.type == EW__T_STRING) {
        n->as.import_decl.source = ew__parse_literal(p);
        skip_attributes(p);
    } else {
        bool more = true;
        if (p->tok.type == EW__T_NAME) {
            ew__node_t *s = ew__node(p, EW__N_ImportDefaultSpecifier, ew__here(p));
            s->as.import_spec.local = ew__parse_ident(p, true);
            declare_import(p, s->as.import_spec.local);
            ew__list_push(p, ew__finish(p, s));
            more = ew__eat(p, EW__T_COMMA);
        }
        if (more && p->tok.type == EW__T_STAR) {
            ew__node_t *s = ew__node(p, EW__N_ImportNamespaceSpecifier, ew__here(p));
            ew__lex_next(p);
            ew__expect_name(p, p->n.as);
            s->as.import_spec.local = ew__parse_ident(p, true);
            declare_import(p, s->as.import_spec.local);
            ew__list_push(p, ew__finish(p, s));
        } else if (more && p->tok.type == EW__T_LBRACE) {
            parse_import_specifiers(p);
        } else if (more) {
            ew__unexpected(p);
        }
        n->as.import_decl.source = parse_source(p);
    }
    n->as.import_decl.specifiers = ew__list_pop(p, mark);
    ew__semicolon(p);
    return ew__finish(p, n);
}

/* Records the exported names a declaration binds: var/let/const patterns, function and class names. */
static void export_pattern_names(ew__parser_t *p, ew__node_t *n)
{
    if (!n)
        return;
    switch (n->type) {
    case EW__N_Identifier:
        record_export(p, n->as.ident.name, n->start);
        break;
    case EW__N_ObjectPattern:
        for (uint32_t i = 0; i < n->as.object.properties.len; i++) {
            ew__node_t *prop = n->as.object.properties.items[i];
            export_pattern_names(p, prop->type == EW__N_Property ? prop->as.property.value : prop);
        }
        break;
    case EW__N_ArrayPattern:
        for (uint32_t i = 0; i < n->as.array.elements.len; i++)
            export_pattern_names(p, n->as.array.elements.items[i]);
        break;
    case EW__N_AssignmentPattern:
        export_pattern_names(p, n->as.assign_pattern.left);
        break;
    case EW__N_RestElement:
        export_pattern_names(p, n->as.argument.argument);
        break;
    default:
        break;
    }
}

static ew__node_t *parse_export_default(ew__parser_t *p, ew__node_t *n)
{
    record_export(p, p->n.default_, p->tok.start);
    ew__lex_next(p); /* default */
    n->type = EW__N_ExportDefaultDeclaration;
    ew__pos_t at = ew__here(p);
    if (p->tok.type == EW__T_K_FUNCTION) {
        n->as.export_default.declaration = ew__parse_function(p, at, false, EW__FK_DECL | EW__FK_DEFAULT_EXPORT);
    } else if (p->tok.type == EW__T_K_CLASS) {
        n->as.export_default.declaration = ew__parse_class(p, true, true);
    } else {
        bool nl;
        if (ew__is_name(p, p->n.async) && ew__peek(p, &nl, NULL) == EW__T_K_FUNCTION && !nl) {
            ew__lex_next(p);
            n->as.export_default.declaration = ew__parse_function(p, at, true, EW__FK_DECL | EW__FK_DEFAULT_EXPORT);
        } else {
            n->as.export_default.declaration = ew__parse_assign(p, false, NULL);
            ew__semicolon(p);
        }
    }
    return ew__finish(p, n);
}

static void parse_export_specifiers(ew__parser_t *p, ew__node_t *n)
{
    ew__lex_next(p); /* { */
    uint32_t mark = ew__list_mark(p);
    while (!ew__eat(p, EW__T_RBRACE)) {
        ew__node_t *s = ew__node(p, EW__N_ExportSpecifier, ew__here(p));
        s->as.export_spec.local = parse_export_name(p);
        s->as.export_spec.exported = s->as.export_spec.local;
        if (ew__is_name(p, p->n.as)) {
            ew__lex_next(p);
            s->as.export_spec.exported = parse_export_name(p);
        }
        record_export(p, export_name_atom(p, s->as.export_spec.exported), s->as.export_spec.exported->start);
        ew__list_push(p, ew__finish(p, s));
        if (p->tok.type != EW__T_RBRACE)
            ew__expect(p, EW__T_COMMA);
    }
    n->as.export_named.specifiers = ew__list_pop(p, mark);
    if (ew__is_name(p, p->n.from)) {
        n->as.export_named.source = parse_source(p);
        return;
    }
    /* Local exports: real identifiers, declared somewhere at the top level (checked at the end). */
    for (uint32_t i = 0; i < n->as.export_named.specifiers.len; i++) {
        ew__node_t *local = n->as.export_named.specifiers.items[i]->as.export_spec.local;
        if (local->type != EW__N_Identifier)
            ew__perror(p, local->start, "Unexpected string");
        ew__atom_t *a = local->as.ident.name;
        if (a->keyword || a == p->n.await || a == p->n.implements || a == p->n.interface || a == p->n.package ||
            a == p->n.private_ || a == p->n.protected_ || a == p->n.public_ || a == p->n.let ||
            a == p->n.static_ || a == p->n.yield)
            ew__perror(p, local->start, "Unexpected reserved word '%.80s'", a->s);
        ew__export_ref_t *r = ew__palloc(p, sizeof *r);
        r->atom = a;
        r->pos = local->start;
        r->next = p->export_refs;
        p->export_refs = r;
    }
}

ew__node_t *ew__parse_export(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_ExportNamedDeclaration, ew__here(p));
    ew__lex_next(p); /* export */
    if (p->tok.type == EW__T_STAR) {
        n->type = EW__N_ExportAllDeclaration;
        ew__lex_next(p);
        if (ew__is_name(p, p->n.as)) {
            ew__lex_next(p);
            ew__node_t *e = parse_export_name(p);
            record_export(p, export_name_atom(p, e), e->start);
            n->as.export_all.exported = e;
        }
        n->as.export_all.source = parse_source(p);
        ew__semicolon(p);
        return ew__finish(p, n);
    }
    if (p->tok.type == EW__T_K_DEFAULT)
        return parse_export_default(p, n);
    if (p->tok.type == EW__T_LBRACE) {
        parse_export_specifiers(p, n);
        ew__semicolon(p);
        return ew__finish(p, n);
    }
    ew__tok_t t = p->tok.type;
    if (t != EW__T_K_VAR && t != EW__T_K_CONST && t != EW__T_K_FUNCTION && t != EW__T_K_CLASS &&
        !ew__is_name(p, p->n.let) && !ew__is_name(p, p->n.async))
        ew__unexpected(p);
    ew__node_t *d = ew__parse_statement(p, EW__CTX_DECL);
    if (d->type == EW__N_VariableDeclaration) {
        for (uint32_t i = 0; i < d->as.var_decl.declarations.len; i++)
            export_pattern_names(p, d->as.var_decl.declarations.items[i]->as.declarator.id);
    } else if (d->type == EW__N_FunctionDeclaration || d->type == EW__N_ClassDeclaration) {
        ew__node_t *id = d->type == EW__N_FunctionDeclaration ? d->as.function.id : d->as.class_.id;
        record_export(p, id->as.ident.name, id->start);
    } else {
        ew__perror(p, d->start, "Unexpected token 'export'");
    }
    n->as.export_named.declaration = d;
    return ew__finish(p, n);
}

void ew__check_exports(ew__parser_t *p)
{
    for (ew__export_ref_t *r = p->export_refs; r; r = r->next)
        if (!ew__binding_in(r->atom, p->scope))
            ew__perror(p, r->pos, "Export '%.80s' is not defined in module", r->atom->s);
}
