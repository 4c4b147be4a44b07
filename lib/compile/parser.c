/*
 * parser.c — the parser's shared machinery and its entry point, ew__parse.
 *
 * The parser is recursive descent over ES2022 (Script and Module goals), split by area: parse_expr.c
 * (expressions, cover grammars, patterns from expressions), parse_stmt.c (statements, declarations, directive
 * prologues), parse_func.c (functions, arrows, classes, binding patterns) and parse_module.c (import/export).
 * This file holds what they all use: errors (longjmp back to ew__parse, see internal.h), token helpers, node and
 * list allocation, identifier rules, and the scope tracking behind the redeclaration early errors.
 *
 * Scopes: every declaration is a record (name, scope, kinds) hung both on its scope and on the name's atom, so
 * "is x declared in this scope?" is a walk of the few open declarations of x, not of the scope: the checks stay
 * O(1) per declaration on bundles with thousands of top-level names. The rules follow 14.2.1, 15.2.1 and B.3.2-B.3.5
 * (the same as Acorn's): var hoists through block scopes up to the var scope and collides with lexical names on
 * the way; sloppy-mode plain function declarations in blocks may repeat; a simple catch parameter may be
 * redeclared by var.
 */
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Errors
 */

void ew__perror(ew__parser_t *p, uint32_t at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at > p->len)
        at = p->len;
    uint32_t line, col;
    ew__pos_linecol(p, at, &line, &col);
    ew__diag_set(p->diag, p->file, p->src, p->len, at, line, col, msg);
    longjmp(p->fail, 1);
}

void ew__unexpected(ew__parser_t *p)
{
    const ew__token_t *t = &p->tok;
    switch (t->type) {
    case EW__T_EOF:
        ew__perror(p, t->start, "Unexpected end of input");
    case EW__T_NAME:
        if (p->fn && p->fn->strict && (t->atom == p->n.implements || t->atom == p->n.interface ||
                                       t->atom == p->n.package || t->atom == p->n.private_ ||
                                       t->atom == p->n.protected_ || t->atom == p->n.public_ ||
                                       t->atom == p->n.static_ || t->atom == p->n.let || t->atom == p->n.yield))
            ew__perror(p, t->start, "Unexpected strict mode reserved word");
        ew__perror(p, t->start, "Unexpected identifier '%.80s'", t->atom->s);
    case EW__T_PRIVATE:
        ew__perror(p, t->start, "Unexpected identifier '#%.80s'", t->atom->s);
    case EW__T_NUM:
        ew__perror(p, t->start, "Unexpected number");
    case EW__T_STRING:
        ew__perror(p, t->start, "Unexpected string");
    case EW__T_TEMPLATE:
        ew__perror(p, t->start, "Unexpected template string");
    case EW__T_REGEX:
        ew__perror(p, t->start, "Unexpected regular expression");
    default:
        ew__perror(p, t->start, "Unexpected token '%s'", ew__tok_text(t->type));
    }
}

void *ew__palloc(ew__parser_t *p, size_t n)
{
    void *r = ew__arena_alloc(p->arena, n);
    if (!r)
        ew__perror(p, p->tok.start, "Out of memory");
    return r;
}

/* ---------------------------------------------------------------------------------------------------------
 * Tokens
 */

bool ew__eat(ew__parser_t *p, ew__tok_t t)
{
    if (p->tok.type != t)
        return false;
    ew__lex_next(p);
    return true;
}

void ew__expect(ew__parser_t *p, ew__tok_t t)
{
    if (!ew__eat(p, t))
        ew__unexpected(p);
}

void ew__expect_name(ew__parser_t *p, const ew__atom_t *a)
{
    if (!ew__is_name(p, a))
        ew__unexpected(p);
    ew__lex_next(p);
}

void ew__semicolon(ew__parser_t *p)
{
    if (ew__eat(p, EW__T_SEMI))
        return;
    if (p->tok.type == EW__T_RBRACE || p->tok.type == EW__T_EOF || ew__nl_before(p))
        return;
    ew__unexpected(p);
}

ew__tok_t ew__peek(ew__parser_t *p, bool *nl_before, ew__atom_t **atom)
{
    ew__lex_state_t st;
    ew__lex_save(p, &st);
    ew__lex_next(p);
    ew__tok_t t = p->tok.type;
    if (nl_before)
        *nl_before = ew__nl_before(p);
    if (atom)
        *atom = (p->tok.flags & EW__TF_ESCAPED) ? NULL : p->tok.atom;
    ew__lex_restore(p, &st);
    return t;
}

void ew__enter(ew__parser_t *p)
{
    uintptr_t here = (uintptr_t) __builtin_frame_address(0);
    if (++p->depth > EW__MAX_DEPTH || (p->stack_base > here && p->stack_base - here > EW__MAX_STACK))
        ew__perror(p, p->tok.start, "Too much nesting");
}

/* ---------------------------------------------------------------------------------------------------------
 * Nodes and lists
 */

ew__node_t *ew__node(ew__parser_t *p, ew__node_type_t type, ew__pos_t at)
{
    ew__node_t *n = ew__palloc(p, sizeof *n);
    memset(n, 0, sizeof *n);
    n->type = (uint8_t) type;
    n->start = at.start;
    n->line = at.line;
    n->col = at.col;
    return n;
}

ew__node_t *ew__finish(ew__parser_t *p, ew__node_t *n)
{
    n->end = p->prev_end;
    return n;
}

void ew__list_push(ew__parser_t *p, ew__node_t *n)
{
    if (p->sp == p->stack_cap) {
        uint32_t cap = p->stack_cap ? p->stack_cap * 2 : 256;
        ew__node_t **s = realloc(p->stack, cap * sizeof *s);
        if (!s)
            ew__perror(p, p->tok.start, "Out of memory");
        p->stack = s;
        p->stack_cap = cap;
    }
    p->stack[p->sp++] = n;
}

ew__nodes_t ew__list_pop(ew__parser_t *p, uint32_t mark)
{
    ew__nodes_t l = {NULL, p->sp - mark};
    if (l.len) {
        l.items = ew__palloc(p, l.len * sizeof *l.items);
        memcpy(l.items, p->stack + mark, l.len * sizeof *l.items);
    }
    p->sp = mark;
    return l;
}

/* ---------------------------------------------------------------------------------------------------------
 * Scopes
 */

void ew__scope_enter(ew__parser_t *p, ew__scope_t *s, uint8_t flags)
{
    s->parent = p->scope;
    s->flags = flags;
    s->decls = NULL;
    p->scope = s;
}

void ew__scope_exit(ew__parser_t *p)
{
    ew__scope_t *s = p->scope;
    for (ew__binding_t *b = s->decls; b; b = b->scope_next) {
        ew__binding_t **link = &b->atom->bindings;
        while (*link != b)
            link = &(*link)->atom_next;
        *link = b->atom_next;
    }
    p->scope = s->parent;
}

ew__binding_t *ew__binding_in(ew__atom_t *name, const ew__scope_t *s)
{
    for (ew__binding_t *b = name->bindings; b; b = b->atom_next)
        if (b->scope == s)
            return b;
    return NULL;
}

static void add_binding(ew__parser_t *p, ew__atom_t *name, ew__scope_t *s, uint8_t kind, uint32_t pos)
{
    ew__binding_t *b = ew__binding_in(name, s);
    if (b) {
        b->kinds |= kind;
        return;
    }
    b = ew__palloc(p, sizeof *b);
    b->atom = name;
    b->scope = s;
    b->kinds = kind;
    b->pos = pos;
    b->atom_next = name->bindings;
    name->bindings = b;
    b->scope_next = s->decls;
    s->decls = b;
}

/* Function declarations directly in this scope behave like var (function bodies; script top level). */
static bool functions_as_var(const ew__parser_t *p, const ew__scope_t *s)
{
    return (s->flags & EW__SC_FUNCTION) || (!p->module && (s->flags & EW__SC_TOP));
}

static void redeclared(ew__parser_t *p, ew__atom_t *name, uint32_t pos)
{
    ew__perror(p, pos, "Identifier '%.80s' has already been declared", name->s);
}

void ew__declare(ew__parser_t *p, ew__atom_t *name, uint8_t kind, uint32_t pos)
{
    ew__scope_t *s = p->scope;
    ew__binding_t *b = ew__binding_in(name, s);
    if (kind & EW__B_LEXICAL) {
        if (b && (b->kinds & (EW__B_VAR | EW__B_LEXICAL | EW__B_FUNCTION | EW__B_CATCH)))
            redeclared(p, name, pos);
        add_binding(p, name, s, kind, pos);
    } else if (kind & EW__B_CATCH) {
        add_binding(p, name, s, kind, pos);
    } else if (kind & EW__B_FUNCTION) {
        uint8_t clash = functions_as_var(p, s) ? (EW__B_LEXICAL | EW__B_CATCH)
                                               : (EW__B_LEXICAL | EW__B_CATCH | EW__B_VAR);
        if (b && (b->kinds & clash))
            redeclared(p, name, pos);
        add_binding(p, name, s, kind, pos);
    } else {
        /* var (and parameters): hoists to the var scope, colliding with lexical names on the way. */
        for (ew__scope_t *sc = s; sc; sc = sc->parent) {
            ew__binding_t *e = sc == s ? b : ew__binding_in(name, sc);
            if (e && ((e->kinds & EW__B_LEXICAL) || (!functions_as_var(p, sc) && (e->kinds & EW__B_FUNCTION))))
                redeclared(p, name, pos);
            add_binding(p, name, sc, kind, pos);
            if (sc->flags & EW__SC_VAR)
                break;
        }
    }
}

void ew__declare_pattern(ew__parser_t *p, ew__node_t *n, uint8_t kind)
{
    if (!n)
        return;
    switch (n->type) {
    case EW__N_Identifier:
        ew__declare(p, n->as.ident.name, kind, n->start);
        break;
    case EW__N_ObjectPattern:
        for (uint32_t i = 0; i < n->as.object.properties.len; i++) {
            ew__node_t *prop = n->as.object.properties.items[i];
            ew__declare_pattern(p, prop->type == EW__N_Property ? prop->as.property.value : prop, kind);
        }
        break;
    case EW__N_ArrayPattern:
        for (uint32_t i = 0; i < n->as.array.elements.len; i++)
            ew__declare_pattern(p, n->as.array.elements.items[i], kind);
        break;
    case EW__N_AssignmentPattern:
        ew__declare_pattern(p, n->as.assign_pattern.left, kind);
        break;
    case EW__N_RestElement:
        ew__declare_pattern(p, n->as.argument.argument, kind);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Function contexts
 */

void ew__fn_enter(ew__parser_t *p, ew__fnctx_t *f, uint16_t flags)
{
    memset(f, 0, sizeof *f);
    f->parent = p->fn;
    f->flags = flags;
    f->strict = p->fn ? p->fn->strict : false;
    if ((flags & EW__FN_ARROW) && p->fn)
        f->flags |= p->fn->flags & (EW__FN_SUPER_PROP | EW__FN_SUPER_CALL | EW__FN_NEW_TARGET | EW__FN_NO_ARGUMENTS);
    p->fn = f;
}

void ew__fn_exit(ew__parser_t *p)
{
    p->fn = p->fn->parent;
}

/* ---------------------------------------------------------------------------------------------------------
 * Identifiers
 */

static bool strict_reserved(const ew__parser_t *p, const ew__atom_t *a)
{
    const ew__names_t *n = &p->n;
    return a == n->implements || a == n->interface || a == n->let || a == n->package || a == n->private_ ||
           a == n->protected_ || a == n->public_ || a == n->static_ || a == n->yield;
}

/* Rules shared by references and bindings: the name `a` (read at pos, escaped or not) is usable here. */
static void check_ident(ew__parser_t *p, ew__atom_t *a, uint32_t pos, bool escaped)
{
    if (!a->keyword && !(a->flags & EW__ATOM_SPECIAL))
        return; /* the common case: an ordinary name */
    if (a->keyword) {
        if (escaped)
            ew__perror(p, pos, "Keyword must not contain escaped characters");
        ew__perror(p, pos, "Unexpected token '%s'", a->s);
    }
    if (a == p->n.yield) {
        if ((p->fn->flags & EW__FN_GENERATOR) && !(p->fn->flags & EW__FN_ARROW))
            ew__perror(p, pos, "Unexpected identifier 'yield' in a generator");
        if (p->fn->strict)
            ew__perror(p, pos, "Unexpected strict mode reserved word");
    } else if (a == p->n.await) {
        if (p->module || (p->fn->flags & EW__FN_ASYNC))
            ew__perror(p, pos, "Unexpected reserved word 'await'");
        if (p->fn->flags & EW__FN_STATIC_BLOCK)
            ew__perror(p, pos, "'await' is not allowed in a class static block");
        if (!p->await_ident_pos)
            p->await_ident_pos = pos + 1;
    } else if (p->fn->strict && strict_reserved(p, a)) {
        ew__perror(p, pos, "Unexpected strict mode reserved word");
    }
}

void ew__check_binding_name(ew__parser_t *p, ew__atom_t *name, uint32_t pos)
{
    if (!(name->flags & EW__ATOM_SPECIAL) || !p->fn->strict)
        return;
    if (p->fn->strict && (name == p->n.eval || name == p->n.arguments))
        ew__perror(p, pos, "Unexpected eval or arguments in strict mode");
    if (name == p->n.yield && p->fn->strict)
        ew__perror(p, pos, "Unexpected strict mode reserved word");
    if (p->fn->strict && strict_reserved(p, name))
        ew__perror(p, pos, "Unexpected strict mode reserved word");
}

void ew__check_reference_name(ew__parser_t *p, ew__atom_t *a, uint32_t pos)
{
    check_ident(p, a, pos, false);
    if (a == p->n.arguments && (p->fn->flags & EW__FN_NO_ARGUMENTS))
        ew__perror(p, pos, "'arguments' is not allowed in class field initializer or static initialization block");
}

ew__node_t *ew__ident_from_token(ew__parser_t *p, const ew__token_t *t, bool binding)
{
    if (t->type != EW__T_NAME)
        ew__unexpected(p);
    ew__atom_t *a = t->atom;
    check_ident(p, a, t->start, (t->flags & EW__TF_ESCAPED) != 0);
    if (binding)
        ew__check_binding_name(p, a, t->start);
    else if (a == p->n.arguments && (p->fn->flags & EW__FN_NO_ARGUMENTS))
        ew__perror(p, t->start, "'arguments' is not allowed in class field initializer or static initialization block");
    ew__pos_t at = {t->start, t->line, t->col};
    ew__node_t *n = ew__node(p, EW__N_Identifier, at);
    n->as.ident.name = a;
    n->end = t->end;
    return n;
}

ew__node_t *ew__parse_ident(ew__parser_t *p, bool binding)
{
    ew__node_t *n = ew__ident_from_token(p, &p->tok, binding);
    ew__lex_next(p);
    return n;
}

bool ew__is_ident_start(const ew__parser_t *p)
{
    return p->tok.type == EW__T_NAME;
}

bool ew__is_property_name(const ew__parser_t *p)
{
    ew__tok_t t = p->tok.type;
    return t == EW__T_NAME || t >= EW__T_FIRST_KEYWORD || t == EW__T_STRING || t == EW__T_NUM ||
           t == EW__T_LBRACK || t == EW__T_PRIVATE;
}

/* ---------------------------------------------------------------------------------------------------------
 * Numbers: strtod in the "C" locale, so a host that set LC_NUMERIC to a comma locale parses 1.5 right.
 */

double ew__strtod_c(ew__parser_t *p, const char *s)
{
    if (!p->c_locale) {
        p->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t) 0);
        if (!p->c_locale)
            ew__perror(p, p->tok.start, "Out of memory");
    }
    return strtod_l(s, NULL, (locale_t) p->c_locale);
}

/* ---------------------------------------------------------------------------------------------------------
 * Entry point
 */

static ew__node_t *parse_program(ew__parser_t *p)
{
    ew__fnctx_t top;
    ew__scope_t scope;
    ew__fn_enter(p, &top, EW__FN_TOP | (p->module ? EW__FN_ASYNC : 0));
    top.strict = p->module;
    ew__scope_enter(p, &scope, EW__SC_VAR | EW__SC_TOP);
    ew__lex_next(p);
    ew__pos_t at = {0, 1, 1};
    ew__node_t *prog = ew__node(p, EW__N_Program, at);
    prog->as.program.body = ew__parse_body(p, true, NULL, NULL);
    prog->as.program.module = p->module;
    if (p->module)
        ew__check_exports(p);
    if (top.strict)
        prog->flags |= EW__NF_STRICT;
    prog->end = p->len;
    ew__scope_exit(p);
    ew__fn_exit(p);
    return prog;
}

ew__node_t *ew__parse(ew__arena_t *arena, const ew__parse_opts_t *opts, ew__diag_t *diag)
{
    /* Heap-allocated so that nothing the parse changes lives in registers across the longjmp. */
    ew__parser_t *p = calloc(1, sizeof *p);
    if (!p) {
        ew__diag_set(diag, opts->file, NULL, 0, 0, 1, 1, "Out of memory");
        return NULL;
    }
    p->arena = arena;
    p->src = opts->src;
    p->len = (uint32_t) opts->len;
    p->file = opts->file;
    p->module = opts->module;
    p->diag = diag;
    ew__node_t *prog = NULL;
    if (opts->len >= UINT32_MAX - 1) {
        ew__diag_set(diag, opts->file, NULL, 0, 0, 1, 1, "Source too large");
    } else if (setjmp(p->fail) == 0) {
        p->stack_base = (uintptr_t) __builtin_frame_address(0);
        ew__lex_init(p);
        prog = parse_program(p);
    } else {
        prog = NULL;
    }
    free(p->stack);
    if (p->c_locale)
        freelocale((locale_t) p->c_locale);
    free(p);
    return prog;
}
