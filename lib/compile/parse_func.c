/*
 * parse_func.c — functions, arrow functions, classes and binding patterns (ECMAScript 2022, 15 and 8.6).
 *
 * A function is parsed in its own function context (ew__fnctx_t: async/generator, what super/new.target/arguments
 * may do) and var scope. Its parameters are parsed first but declared only after the body's directive prologue,
 * because a "use strict" there changes the rules for them retroactively (duplicate names, eval/arguments, reserved
 * words, and the ban on "use strict" with non-simple parameters); see declare_params_hook.
 *
 * Classes are strict code; their private names are collected per class body and references resolved when the
 * body ends (a method may use a name declared further down), unresolved ones moving out to the enclosing class.
 */
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Binding patterns
 */

static ew__node_t *parse_binding_array(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_ArrayPattern, ew__here(p));
    ew__lex_next(p);
    uint32_t mark = ew__list_mark(p);
    while (!ew__eat(p, EW__T_RBRACK)) {
        if (ew__eat(p, EW__T_COMMA)) {
            ew__list_push(p, NULL);
            continue;
        }
        if (p->tok.type == EW__T_ELLIPSIS) {
            ew__node_t *r = ew__node(p, EW__N_RestElement, ew__here(p));
            ew__lex_next(p);
            r->as.argument.argument = ew__parse_binding_target(p);
            ew__list_push(p, ew__finish(p, r));
            if (p->tok.type != EW__T_RBRACK)
                ew__perror(p, p->tok.start, "Rest element must be last element");
            continue;
        }
        ew__list_push(p, ew__parse_binding_element(p));
        if (p->tok.type != EW__T_RBRACK)
            ew__expect(p, EW__T_COMMA);
    }
    n->as.array.elements = ew__list_pop(p, mark);
    return ew__finish(p, n);
}

static ew__node_t *parse_binding_property(ew__parser_t *p)
{
    if (p->tok.type == EW__T_ELLIPSIS) {
        ew__node_t *r = ew__node(p, EW__N_RestElement, ew__here(p));
        ew__lex_next(p);
        r->as.argument.argument = ew__parse_ident(p, true);
        if (p->tok.type != EW__T_RBRACE)
            ew__perror(p, p->tok.start, "Rest element must be last element");
        return ew__finish(p, r);
    }
    ew__node_t *n = ew__node(p, EW__N_Property, ew__here(p));
    bool was_name = p->tok.type == EW__T_NAME;
    ew__token_t key_tok = p->tok;
    bool computed;
    ew__node_t *key = ew__parse_property_key(p, &computed, false);
    n->as.property.key = key;
    n->as.property.computed = computed;
    if (ew__eat(p, EW__T_COLON)) {
        n->as.property.value = ew__parse_binding_element(p);
        return ew__finish(p, n);
    }
    if (!was_name || computed)
        ew__unexpected(p);
    /* Shorthand: the key is also the bound name. */
    ew__node_t *value = ew__ident_from_token(p, &key_tok, true);
    n->as.property.shorthand = true;
    if (p->tok.type == EW__T_ASSIGN) {
        ew__lex_next(p);
        ew__node_t *ap = ew__node(p, EW__N_AssignmentPattern, ew__pos_of(value));
        ap->as.assign_pattern.left = value;
        ap->as.assign_pattern.right = ew__parse_assign(p, false, NULL);
        value = ew__finish(p, ap);
    }
    n->as.property.value = value;
    return ew__finish(p, n);
}

static ew__node_t *parse_binding_object(ew__parser_t *p)
{
    ew__node_t *n = ew__node(p, EW__N_ObjectPattern, ew__here(p));
    ew__lex_next(p);
    uint32_t mark = ew__list_mark(p);
    while (!ew__eat(p, EW__T_RBRACE)) {
        ew__list_push(p, parse_binding_property(p));
        if (p->tok.type != EW__T_RBRACE)
            ew__expect(p, EW__T_COMMA);
    }
    n->as.object.properties = ew__list_pop(p, mark);
    return ew__finish(p, n);
}

ew__node_t *ew__parse_binding_target(ew__parser_t *p)
{
    ew__enter(p);
    ew__node_t *n;
    if (p->tok.type == EW__T_LBRACK)
        n = parse_binding_array(p);
    else if (p->tok.type == EW__T_LBRACE)
        n = parse_binding_object(p);
    else
        n = ew__parse_ident(p, true);
    ew__leave(p);
    return n;
}

ew__node_t *ew__parse_binding_element(ew__parser_t *p)
{
    ew__node_t *target = ew__parse_binding_target(p);
    if (p->tok.type != EW__T_ASSIGN)
        return target;
    ew__lex_next(p);
    ew__node_t *n = ew__node(p, EW__N_AssignmentPattern, ew__pos_of(target));
    n->as.assign_pattern.left = target;
    n->as.assign_pattern.right = ew__parse_assign(p, false, NULL);
    return ew__finish(p, n);
}

/* ---------------------------------------------------------------------------------------------------------
 * Parameters and bodies
 */

static bool params_simple(ew__nodes_t params)
{
    for (uint32_t i = 0; i < params.len; i++)
        if (params.items[i]->type != EW__N_Identifier)
            return false;
    return true;
}

/* Declares each bound name once; a repeated name is an error unless allowed (sloppy simple lists). */
static void declare_param_names(ew__parser_t *p, ew__node_t *n, bool allow_dups)
{
    if (!n)
        return;
    switch (n->type) {
    case EW__N_Identifier: {
        ew__atom_t *a = n->as.ident.name;
        ew__check_binding_name(p, a, n->start);
        ew__binding_t *b = ew__binding_in(a, p->scope);
        if (b && (b->kinds & EW__B_PARAM) && !allow_dups)
            ew__perror(p, n->start, "Duplicate parameter name not allowed in this context");
        ew__declare(p, a, EW__B_VAR | EW__B_PARAM, n->start);
        break;
    }
    case EW__N_ObjectPattern:
        for (uint32_t i = 0; i < n->as.object.properties.len; i++) {
            ew__node_t *prop = n->as.object.properties.items[i];
            declare_param_names(p, prop->type == EW__N_Property ? prop->as.property.value : prop, allow_dups);
        }
        break;
    case EW__N_ArrayPattern:
        for (uint32_t i = 0; i < n->as.array.elements.len; i++)
            declare_param_names(p, n->as.array.elements.items[i], allow_dups);
        break;
    case EW__N_AssignmentPattern:
        declare_param_names(p, n->as.assign_pattern.left, allow_dups);
        break;
    case EW__N_RestElement:
        declare_param_names(p, n->as.argument.argument, allow_dups);
        break;
    default:
        break;
    }
}

typedef struct fn_info {
    ew__node_t *fn;
    bool is_method;        /* methods and arrows never allow duplicate parameters */
    ew__atom_t *expr_name; /* a function expression's own name, checked with the function's rules */
    uint32_t expr_name_pos;
    ew__atom_t *decl_name; /* a declaration's name, re-checked if the body is strict */
    uint32_t decl_name_pos;
} fn_info_t;

/* Called when the body's directive prologue ends: the function's strictness is now known. */
static void declare_params_hook(ew__parser_t *p, void *ud, uint32_t use_strict_pos)
{
    fn_info_t *info = ud;
    ew__node_t *fn = info->fn;
    bool simple = params_simple(fn->as.function.params);
    if (use_strict_pos && !simple)
        ew__perror(p, use_strict_pos - 1, "Illegal 'use strict' directive in function with non-simple parameter list");
    if (p->fn->strict)
        fn->flags |= EW__NF_STRICT;
    if (simple)
        fn->flags |= EW__NF_SIMPLE_PARAMS;
    bool allow_dups = simple && !p->fn->strict && !info->is_method && fn->type != EW__N_ArrowFunctionExpression;
    for (uint32_t i = 0; i < fn->as.function.params.len; i++)
        declare_param_names(p, fn->as.function.params.items[i], allow_dups);
    if (info->expr_name)
        ew__check_binding_name(p, info->expr_name, info->expr_name_pos);
    if (info->decl_name && p->fn->strict) {
        ew__atom_t *a = info->decl_name;
        if (a == p->n.eval || a == p->n.arguments)
            ew__perror(p, info->decl_name_pos, "Unexpected eval or arguments in strict mode");
    }
}

static ew__nodes_t parse_params(ew__parser_t *p)
{
    ew__expect(p, EW__T_LPAREN);
    p->fn->flags |= EW__FN_PARAMS;
    uint32_t mark = ew__list_mark(p);
    while (!ew__eat(p, EW__T_RPAREN)) {
        if (p->tok.type == EW__T_ELLIPSIS) {
            ew__node_t *r = ew__node(p, EW__N_RestElement, ew__here(p));
            ew__lex_next(p);
            r->as.argument.argument = ew__parse_binding_target(p);
            if (p->tok.type == EW__T_ASSIGN)
                ew__perror(p, p->tok.start, "Rest parameter may not have a default initializer");
            ew__list_push(p, ew__finish(p, r));
            if (p->tok.type != EW__T_RPAREN)
                ew__perror(p, p->tok.start, "Rest parameter must be last formal parameter");
            continue;
        }
        ew__list_push(p, ew__parse_binding_element(p));
        if (p->tok.type != EW__T_RPAREN)
            ew__expect(p, EW__T_COMMA);
    }
    p->fn->flags &= (uint16_t) ~EW__FN_PARAMS;
    return ew__list_pop(p, mark);
}

/* `{ body }` of a function whose context and scope are entered and parameters parsed. */
static void parse_fn_body(ew__parser_t *p, fn_info_t *info)
{
    ew__node_t *body = ew__node(p, EW__N_BlockStatement, ew__here(p));
    ew__expect(p, EW__T_LBRACE);
    ew__label_t *labels = p->labels;
    p->labels = NULL;
    body->as.body.body = ew__parse_body(p, false, declare_params_hook, info);
    p->labels = labels;
    ew__expect(p, EW__T_RBRACE);
    info->fn->as.function.body = ew__finish(p, body);
}

typedef struct saved_yield {
    uint32_t yield_pos, await_pos, await_ident_pos;
} saved_yield_t;

static saved_yield_t save_yield(ew__parser_t *p)
{
    saved_yield_t s = {p->yield_pos, p->await_pos, p->await_ident_pos};
    p->yield_pos = p->await_pos = p->await_ident_pos = 0;
    return s;
}

static void restore_yield(ew__parser_t *p, saved_yield_t s)
{
    p->yield_pos = s.yield_pos;
    p->await_pos = s.await_pos;
    p->await_ident_pos = s.await_ident_pos;
}

/* ---------------------------------------------------------------------------------------------------------
 * Functions
 */

static uint16_t method_flags(unsigned kind)
{
    uint16_t f = EW__FN_NEW_TARGET;
    if (kind & EW__FK_METHOD)
        f |= EW__FN_SUPER_PROP;
    if ((kind & EW__FK_CTOR) && (kind & EW__FK_DERIVED))
        f |= EW__FN_SUPER_CALL;
    return f;
}

/* Declares a function declaration's name in the enclosing scope, by the Annex B rules (see parser.c). */
static void declare_function_name(ew__parser_t *p, ew__atom_t *name, uint32_t pos, bool is_async, bool gen)
{
    const ew__scope_t *s = p->scope;
    bool as_var = (s->flags & EW__SC_FUNCTION) || (!p->module && (s->flags & EW__SC_TOP));
    uint8_t kind;
    if (p->fn->strict || is_async || gen)
        kind = as_var ? EW__B_VAR : EW__B_LEXICAL;
    else
        kind = EW__B_FUNCTION;
    ew__declare(p, name, kind, pos);
}

ew__node_t *ew__parse_function(ew__parser_t *p, ew__pos_t at, bool is_async, unsigned kind)
{
    bool is_decl = (kind & EW__FK_DECL) != 0;
    ew__node_t *fn = ew__node(p, is_decl ? EW__N_FunctionDeclaration : EW__N_FunctionExpression, at);
    ew__lex_next(p); /* function */
    bool gen = ew__eat(p, EW__T_STAR);
    fn_info_t info = {fn, false, NULL, 0, NULL, 0};
    if (is_decl) {
        if (p->tok.type == EW__T_NAME) {
            fn->as.function.id = ew__parse_ident(p, true);
            info.decl_name = fn->as.function.id->as.ident.name;
            info.decl_name_pos = fn->start;
            declare_function_name(p, info.decl_name, fn->as.function.id->start, is_async, gen);
        } else if (!(kind & EW__FK_DEFAULT_EXPORT)) {
            ew__unexpected(p);
        }
    }
    ew__enter(p);
    ew__fnctx_t f;
    ew__scope_t scope;
    saved_yield_t sy = save_yield(p);
    ew__fn_enter(p, &f, (uint16_t) (EW__FN_NEW_TARGET | (is_async ? EW__FN_ASYNC : 0) | (gen ? EW__FN_GENERATOR : 0)));
    ew__scope_enter(p, &scope, EW__SC_VAR | EW__SC_FUNCTION);
    if (!is_decl && p->tok.type == EW__T_NAME) {
        /* The name of a function expression follows the function's own yield/await rules. */
        fn->as.function.id = ew__parse_ident(p, false);
        info.expr_name = fn->as.function.id->as.ident.name;
        info.expr_name_pos = fn->as.function.id->start;
    }
    fn->as.function.generator = gen;
    fn->as.function.async = is_async;
    fn->as.function.params = parse_params(p);
    parse_fn_body(p, &info);
    ew__scope_exit(p);
    ew__fn_exit(p);
    restore_yield(p, sy);
    ew__leave(p);
    return ew__finish(p, fn);
}

ew__node_t *ew__parse_method_function(ew__parser_t *p, bool is_async, bool generator, unsigned kind)
{
    ew__node_t *fn = ew__node(p, EW__N_FunctionExpression, ew__here(p));
    ew__enter(p);
    ew__fnctx_t f;
    ew__scope_t scope;
    saved_yield_t sy = save_yield(p);
    ew__fn_enter(p, &f, (uint16_t) (method_flags(kind) | (is_async ? EW__FN_ASYNC : 0) |
                                    (generator ? EW__FN_GENERATOR : 0)));
    ew__scope_enter(p, &scope, EW__SC_VAR | EW__SC_FUNCTION);
    fn->as.function.generator = generator;
    fn->as.function.async = is_async;
    uint32_t params_at = p->tok.start;
    fn->as.function.params = parse_params(p);
    ew__nodes_t ps = fn->as.function.params;
    if ((kind & EW__FK_GETTER) && ps.len != 0)
        ew__perror(p, params_at, "Getter must not have any formal parameters.");
    if ((kind & EW__FK_SETTER) && (ps.len != 1 || ps.items[0]->type == EW__N_RestElement))
        ew__perror(p, params_at, "Setter must have exactly one formal parameter.");
    fn_info_t info = {fn, true, NULL, 0, NULL, 0};
    parse_fn_body(p, &info);
    ew__scope_exit(p);
    ew__fn_exit(p);
    restore_yield(p, sy);
    ew__leave(p);
    return ew__finish(p, fn);
}

ew__node_t *ew__parse_arrow(ew__parser_t *p, ew__pos_t at, ew__nodes_t params, bool is_async)
{
    ew__node_t *fn = ew__node(p, EW__N_ArrowFunctionExpression, at);
    for (uint32_t i = 0; i < params.len; i++)
        params.items[i] = ew__to_pattern(p, params.items[i], true, NULL);
    fn->as.function.params = params;
    fn->as.function.async = is_async;
    ew__lex_next(p); /* => */
    ew__enter(p);
    ew__fnctx_t f;
    ew__scope_t scope;
    saved_yield_t sy = save_yield(p);
    ew__fn_enter(p, &f, (uint16_t) (EW__FN_ARROW | (is_async ? EW__FN_ASYNC : 0)));
    ew__scope_enter(p, &scope, EW__SC_VAR | EW__SC_FUNCTION);
    fn_info_t info = {fn, true, NULL, 0, NULL, 0};
    if (p->tok.type == EW__T_LBRACE) {
        parse_fn_body(p, &info);
    } else {
        declare_params_hook(p, &info, 0);
        fn->as.function.expression = true;
        ew__label_t *labels = p->labels;
        p->labels = NULL;
        fn->as.function.body = ew__parse_assign(p, false, NULL);
        p->labels = labels;
    }
    ew__scope_exit(p);
    ew__fn_exit(p);
    restore_yield(p, sy);
    ew__leave(p);
    return ew__finish(p, fn);
}

/* ---------------------------------------------------------------------------------------------------------
 * Private names
 */

void ew__use_private(ew__parser_t *p, ew__atom_t *name, uint32_t pos)
{
    if (!p->cls)
        ew__perror(p, pos, "Private field '#%.80s' must be declared in an enclosing class", name->s);
    ew__private_t *u = ew__palloc(p, sizeof *u);
    memset(u, 0, sizeof *u);
    u->atom = name;
    u->pos = pos;
    u->next = p->cls->used;
    p->cls->used = u;
}

/* kind: 0 field or method, 1 getter, 2 setter. A getter and a setter of the same staticness may share a name. */
static void declare_private(ew__parser_t *p, ew__atom_t *name, uint32_t pos, uint8_t kind, bool is_static)
{
    if (name->len == 11 && memcmp(name->s, "constructor", 11) == 0)
        ew__perror(p, pos, "Classes may not have a private field named '#constructor'");
    for (ew__private_t *d = p->cls->declared; d; d = d->next) {
        if (d->atom != name)
            continue;
        if (kind && d->kind && d->kind != 3 && d->kind != kind && d->is_static == is_static) {
            d->kind = 3;
            return;
        }
        ew__perror(p, pos, "Identifier '#%.80s' has already been declared", name->s);
    }
    ew__private_t *d = ew__palloc(p, sizeof *d);
    memset(d, 0, sizeof *d);
    d->atom = name;
    d->pos = pos;
    d->kind = kind;
    d->is_static = is_static;
    d->next = p->cls->declared;
    p->cls->declared = d;
}

static void resolve_privates(ew__parser_t *p, ew__classctx_t *c)
{
    ew__private_t *u = c->used;
    while (u) {
        ew__private_t *next = u->next;
        bool found = false;
        for (ew__private_t *d = c->declared; d && !found; d = d->next)
            found = d->atom == u->atom;
        if (!found) {
            if (!c->parent)
                ew__perror(p, u->pos, "Private field '#%.80s' must be declared in an enclosing class", u->atom->s);
            u->next = c->parent->used;
            c->parent->used = u;
        }
        u = next;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Classes
 */

static bool key_named(const ew__node_t *key, const char *name)
{
    size_t len = strlen(name);
    if (key->type == EW__N_Identifier)
        return key->as.ident.name->len == len && memcmp(key->as.ident.name->s, name, len) == 0;
    if (key->type == EW__N_Literal && key->as.literal.kind == EW__LIT_STRING)
        return key->as.literal.string.len == len && memcmp(key->as.literal.string.s, name, len) == 0;
    return false;
}

static bool is_element_name_start(const ew__parser_t *p)
{
    ew__tok_t t = p->tok.type;
    return t == EW__T_NAME || t == EW__T_PRIVATE || t == EW__T_NUM || t == EW__T_STRING || t == EW__T_LBRACK ||
           t >= EW__T_FIRST_KEYWORD;
}

static ew__node_t *parse_static_block(ew__parser_t *p, ew__pos_t at)
{
    ew__node_t *n = ew__node(p, EW__N_StaticBlock, at);
    ew__lex_next(p); /* { */
    ew__fnctx_t f;
    ew__scope_t scope;
    saved_yield_t sy = save_yield(p);
    ew__fn_enter(p, &f, EW__FN_STATIC_BLOCK | EW__FN_SUPER_PROP | EW__FN_NEW_TARGET | EW__FN_NO_ARGUMENTS);
    ew__scope_enter(p, &scope, EW__SC_VAR | EW__SC_FUNCTION);
    ew__label_t *labels = p->labels;
    p->labels = NULL;
    n->as.body.body = ew__parse_body(p, false, NULL, NULL);
    p->labels = labels;
    ew__expect(p, EW__T_RBRACE);
    ew__scope_exit(p);
    ew__fn_exit(p);
    restore_yield(p, sy);
    return ew__finish(p, n);
}

/* A field initializer runs like a method body: this/super.x/new.target allowed, `arguments` not. */
static ew__node_t *parse_field_init(ew__parser_t *p)
{
    ew__fnctx_t f;
    ew__scope_t scope;
    saved_yield_t sy = save_yield(p);
    ew__fn_enter(p, &f, EW__FN_SUPER_PROP | EW__FN_NEW_TARGET | EW__FN_NO_ARGUMENTS);
    ew__scope_enter(p, &scope, EW__SC_VAR | EW__SC_FUNCTION);
    ew__node_t *v = ew__parse_assign(p, false, NULL);
    ew__scope_exit(p);
    ew__fn_exit(p);
    restore_yield(p, sy);
    return v;
}

typedef struct class_state {
    bool derived;
    bool has_ctor;
} class_state_t;

static ew__node_t *parse_class_method(ew__parser_t *p, ew__node_t *n, class_state_t *cs, uint8_t kind,
                                      bool is_async, bool gen)
{
    ew__node_t *key = n->as.method.key;
    bool is_static = n->as.method.is_static, computed = n->as.method.computed;
    bool is_private = key->type == EW__N_PrivateIdentifier;
    unsigned fk = EW__FK_METHOD | EW__FK_CLASS_METHOD;
    if (!is_static && !computed && !is_private && key_named(key, "constructor")) {
        if (kind != EW__PROP_METHOD || is_async || gen)
            ew__perror(p, key->start, "Class constructor may not be a%s",
                       kind == EW__PROP_GET ? " getter" : kind == EW__PROP_SET ? " setter"
                       : gen ? " generator" : "n async method");
        if (cs->has_ctor)
            ew__perror(p, key->start, "A class may only have one constructor");
        cs->has_ctor = true;
        kind = EW__PROP_CONSTRUCTOR;
        fk |= EW__FK_CTOR | (cs->derived ? EW__FK_DERIVED : 0);
    }
    if (is_static && !computed && key_named(key, "prototype"))
        ew__perror(p, key->start, "Classes may not have a static property named 'prototype'");
    if (kind == EW__PROP_GET)
        fk |= EW__FK_GETTER;
    if (kind == EW__PROP_SET)
        fk |= EW__FK_SETTER;
    if (is_private)
        declare_private(p, key->as.ident.name, key->start, kind == EW__PROP_GET ? 1 : kind == EW__PROP_SET ? 2 : 0,
                        is_static);
    n->as.method.kind = kind;
    n->as.method.value = ew__parse_method_function(p, is_async, gen, fk);
    return ew__finish(p, n);
}

static ew__node_t *parse_class_field(ew__parser_t *p, ew__node_t *n)
{
    /* The element was started as a MethodDefinition; move its parts to the field shape. */
    ew__node_t *key = n->as.method.key;
    bool computed = n->as.method.computed, is_static = n->as.method.is_static;
    n->type = EW__N_PropertyDefinition;
    memset(&n->as, 0, sizeof n->as);
    n->as.field.key = key;
    n->as.field.computed = computed;
    n->as.field.is_static = is_static;
    if (!n->as.field.computed && key->type != EW__N_PrivateIdentifier) {
        if (key_named(key, "constructor"))
            ew__perror(p, key->start, "Classes may not have a field named 'constructor'");
        if (n->as.field.is_static && key_named(key, "prototype"))
            ew__perror(p, key->start, "Classes may not have a static property named 'prototype'");
    }
    if (key->type == EW__N_PrivateIdentifier)
        declare_private(p, key->as.ident.name, key->start, 0, n->as.field.is_static);
    if (ew__eat(p, EW__T_ASSIGN))
        n->as.field.value = parse_field_init(p);
    ew__semicolon(p);
    return ew__finish(p, n);
}

/* A modifier word (static/async/get/set) just read: as a key when no element name follows it. */
static ew__node_t *word_key(ew__parser_t *p, const ew__token_t *t)
{
    ew__pos_t at = {t->start, t->line, t->col};
    ew__node_t *k = ew__node(p, EW__N_Identifier, at);
    k->as.ident.name = t->atom;
    k->end = t->end;
    return k;
}

static ew__node_t *parse_class_element(ew__parser_t *p, class_state_t *cs)
{
    ew__pos_t at = ew__here(p);
    ew__node_t *n = ew__node(p, EW__N_MethodDefinition, at);
    ew__node_t *key = NULL;
    bool is_static = false, is_async = false, gen = false;
    uint8_t kind = EW__PROP_METHOD;
    if (ew__is_name(p, p->n.static_)) {
        ew__token_t t = p->tok;
        ew__lex_next(p);
        if (p->tok.type == EW__T_LBRACE)
            return parse_static_block(p, at);
        if (is_element_name_start(p) || p->tok.type == EW__T_STAR)
            is_static = true;
        else
            key = word_key(p, &t);
    }
    if (!key && ew__is_name(p, p->n.async)) {
        ew__token_t t = p->tok;
        ew__lex_next(p);
        if ((is_element_name_start(p) || p->tok.type == EW__T_STAR) && !ew__nl_before(p))
            is_async = true;
        else
            key = word_key(p, &t);
    }
    if (!key && ew__eat(p, EW__T_STAR))
        gen = true;
    if (!key && !is_async && !gen && (ew__is_name(p, p->n.get) || ew__is_name(p, p->n.set))) {
        ew__token_t t = p->tok;
        ew__lex_next(p);
        if (is_element_name_start(p))
            kind = t.atom == p->n.get ? EW__PROP_GET : EW__PROP_SET;
        else
            key = word_key(p, &t);
    }
    bool computed = false;
    if (!key)
        key = ew__parse_property_key(p, &computed, true);
    n->as.method.key = key;
    n->as.method.computed = computed;
    n->as.method.is_static = is_static;
    if (p->tok.type == EW__T_LPAREN || kind != EW__PROP_METHOD || is_async || gen)
        return parse_class_method(p, n, cs, kind, is_async, gen);
    return parse_class_field(p, n);
}

ew__node_t *ew__parse_class(ew__parser_t *p, bool is_stmt, bool id_optional)
{
    ew__node_t *n = ew__node(p, is_stmt ? EW__N_ClassDeclaration : EW__N_ClassExpression, ew__here(p));
    ew__lex_next(p); /* class */
    bool old_strict = p->fn->strict;
    p->fn->strict = true;
    if (p->tok.type == EW__T_NAME) {
        n->as.class_.id = ew__parse_ident(p, true);
        if (n->as.class_.id->as.ident.name == p->n.let)
            ew__perror(p, n->as.class_.id->start, "let is disallowed as a lexically bound name");
        if (is_stmt)
            ew__declare(p, n->as.class_.id->as.ident.name, EW__B_LEXICAL, n->as.class_.id->start);
    } else if (is_stmt && !id_optional) {
        ew__unexpected(p);
    }
    ew__enter(p);
    if (ew__eat(p, EW__T_K_EXTENDS))
        n->as.class_.super_class = ew__parse_lhs(p);
    ew__classctx_t cls = {p->cls, NULL, NULL};
    p->cls = &cls;
    class_state_t cs = {n->as.class_.super_class != NULL, false};
    ew__node_t *body = ew__node(p, EW__N_ClassBody, ew__here(p));
    ew__expect(p, EW__T_LBRACE);
    uint32_t mark = ew__list_mark(p);
    while (!ew__eat(p, EW__T_RBRACE)) {
        if (ew__eat(p, EW__T_SEMI))
            continue;
        ew__list_push(p, parse_class_element(p, &cs));
    }
    body->as.body.body = ew__list_pop(p, mark);
    n->as.class_.body = ew__finish(p, body);
    p->cls = cls.parent;
    resolve_privates(p, &cls);
    p->fn->strict = old_strict;
    ew__leave(p);
    return ew__finish(p, n);
}
