/*
 * build.c — constructors of syntax-tree nodes for the lowering passes.
 *
 * Every builder takes `at`, the node whose position the new node copies (its line decides where the emitter
 * prints it: line retention); NULL gives line 0, printed wherever the output is, which is what code hoisted to
 * a function's top needs. Nodes live in the compilation's arena; a failed allocation fails the compilation
 * through ew__lalloc. Helper calls go through the hidden parameter (L->helpers), never a global.
 */
#include <stdarg.h>
#include <string.h>

#include "lower.h"

ew__node_t *ew__b_node(ew__lower_t *L, ew__node_type_t type, const ew__node_t *at)
{
    ew__node_t *n = ew__lalloc(L, sizeof *n);
    n->type = (uint8_t) type;
    if (at) {
        n->start = at->start;
        n->end = at->end;
        n->line = at->line;
        n->col = at->col;
    }
    return n;
}

ew__node_t *ew__b_ident(ew__lower_t *L, ew__atom_t *name, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_Identifier, at);
    n->as.ident.name = name;
    return n;
}

ew__node_t *ew__b_ident_str(ew__lower_t *L, const char *name, const ew__node_t *at)
{
    ew__atom_t *a = ew__atom_new(L->arena, name, strlen(name));
    if (!a)
        ew__lower_error(L, at, "out of memory");
    return ew__b_ident(L, a, at);
}

ew__node_t *ew__b_clone_ident(ew__lower_t *L, const ew__node_t *id, const ew__node_t *at)
{
    return ew__b_ident(L, id->as.ident.name, at);
}

ew__node_t *ew__b_str(ew__lower_t *L, const char *s, uint32_t len, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_Literal, at);
    n->as.literal.kind = EW__LIT_STRING;
    n->as.literal.string.s = s;
    n->as.literal.string.len = len;
    return n;
}

ew__node_t *ew__b_num(ew__lower_t *L, double v, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_Literal, at);
    n->as.literal.kind = EW__LIT_NUMBER;
    n->as.literal.number = v;
    return n;
}

ew__node_t *ew__b_bool(ew__lower_t *L, bool v, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_Literal, at);
    n->as.literal.kind = EW__LIT_BOOL;
    n->as.literal.boolean = v;
    return n;
}

ew__node_t *ew__b_null(ew__lower_t *L, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_Literal, at);
    n->as.literal.kind = EW__LIT_NULL;
    return n;
}

ew__node_t *ew__b_undefined(ew__lower_t *L, const ew__node_t *at)
{
    return ew__b_unary(L, EW__T_K_VOID, ew__b_num(L, 0, at), at);
}

ew__node_t *ew__b_this(ew__lower_t *L, const ew__node_t *at)
{
    return ew__b_node(L, EW__N_ThisExpression, at);
}

ew__nodes_t ew__b_list_copy(ew__lower_t *L, ew__node_t *const *items, uint32_t n)
{
    ew__nodes_t l = {NULL, n};
    if (n) {
        l.items = ew__lalloc(L, n * sizeof *l.items);
        EW__MEMCPY(l.items, items, n * sizeof *l.items);
    }
    return l;
}

ew__nodes_t ew__b_list(ew__lower_t *L, uint32_t n, ...)
{
    ew__node_t *tmp[16];
    uint32_t k = 0;
    va_list ap;
    va_start(ap, n);
    for (uint32_t i = 0; i < n && i < 16; i++) {
        ew__node_t *x = va_arg(ap, ew__node_t *);
        if (x)
            tmp[k++] = x;
    }
    va_end(ap);
    return ew__b_list_copy(L, tmp, k);
}

ew__node_t *ew__b_member(ew__lower_t *L, ew__node_t *obj, const char *prop, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_MemberExpression, at);
    n->as.member.object = obj;
    n->as.member.property = ew__b_ident_str(L, prop, at);
    return n;
}

ew__node_t *ew__b_index(ew__lower_t *L, ew__node_t *obj, ew__node_t *key, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_MemberExpression, at);
    n->as.member.object = obj;
    n->as.member.property = key;
    n->as.member.computed = true;
    return n;
}

ew__node_t *ew__b_call(ew__lower_t *L, ew__node_t *callee, ew__nodes_t args, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_CallExpression, at);
    n->as.call.callee = callee;
    n->as.call.arguments = args;
    return n;
}

ew__node_t *ew__b_helper(ew__lower_t *L, const char *name, ew__nodes_t args, const ew__node_t *at)
{
    return ew__b_call(L, ew__b_member(L, ew__b_ident(L, L->helpers, at), name, at), args, at);
}

ew__node_t *ew__b_binary(ew__lower_t *L, uint8_t op, ew__node_t *l, ew__node_t *r, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_BinaryExpression, at);
    n->as.binary.op = op;
    n->as.binary.left = l;
    n->as.binary.right = r;
    return n;
}

ew__node_t *ew__b_logical(ew__lower_t *L, uint8_t op, ew__node_t *l, ew__node_t *r, const ew__node_t *at)
{
    ew__node_t *n = ew__b_binary(L, op, l, r, at);
    n->type = EW__N_LogicalExpression;
    return n;
}

ew__node_t *ew__b_assign(ew__lower_t *L, ew__node_t *target, ew__node_t *value, const ew__node_t *at)
{
    ew__node_t *n = ew__b_binary(L, EW__T_ASSIGN, target, value, at);
    n->type = EW__N_AssignmentExpression;
    return n;
}

ew__node_t *ew__b_unary(ew__lower_t *L, uint8_t op, ew__node_t *arg, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_UnaryExpression, at);
    n->as.unary.op = op;
    n->as.unary.prefix = true;
    n->as.unary.argument = arg;
    return n;
}

ew__node_t *ew__b_cond(ew__lower_t *L, ew__node_t *test, ew__node_t *yes, ew__node_t *no, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_ConditionalExpression, at);
    n->as.conditional.test = test;
    n->as.conditional.consequent = yes;
    n->as.conditional.alternate = no;
    return n;
}

ew__node_t *ew__b_seq(ew__lower_t *L, ew__nodes_t exprs, const ew__node_t *at)
{
    if (exprs.len == 1)
        return exprs.items[0];
    ew__node_t *n = ew__b_node(L, EW__N_SequenceExpression, at);
    n->as.sequence.expressions = exprs;
    return n;
}

ew__node_t *ew__b_expr_stmt(ew__lower_t *L, ew__node_t *e, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_ExpressionStatement, at);
    n->as.expr_stmt.expression = e;
    return n;
}

ew__node_t *ew__b_declarator(ew__lower_t *L, ew__node_t *id, ew__node_t *init, const ew__node_t *at)
{
    ew__node_t *d = ew__b_node(L, EW__N_VariableDeclarator, at);
    d->as.declarator.id = id;
    d->as.declarator.init = init;
    return d;
}

ew__node_t *ew__b_var(ew__lower_t *L, ew__node_t *id, ew__node_t *init, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_VariableDeclaration, at);
    n->as.var_decl.kind = EW__VAR_VAR;
    n->as.var_decl.declarations = ew__b_list(L, 1, ew__b_declarator(L, id, init, at));
    return n;
}

ew__node_t *ew__b_block(ew__lower_t *L, ew__nodes_t body, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_BlockStatement, at);
    n->as.body.body = body;
    return n;
}

ew__node_t *ew__b_return(ew__lower_t *L, ew__node_t *arg, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_ReturnStatement, at);
    n->as.argument.argument = arg;
    return n;
}

ew__node_t *ew__b_if(ew__lower_t *L, ew__node_t *test, ew__node_t *yes, ew__node_t *no, const ew__node_t *at)
{
    ew__node_t *n = ew__b_cond(L, test, yes, no, at);
    n->type = EW__N_IfStatement;
    return n;
}

ew__node_t *ew__b_throw(ew__lower_t *L, ew__node_t *arg, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_ThrowStatement, at);
    n->as.argument.argument = arg;
    return n;
}

ew__node_t *ew__b_array(ew__lower_t *L, ew__nodes_t elements, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_ArrayExpression, at);
    n->as.array.elements = elements;
    return n;
}

ew__node_t *ew__b_object(ew__lower_t *L, ew__nodes_t props, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_ObjectExpression, at);
    n->as.object.properties = props;
    return n;
}

ew__node_t *ew__b_prop(ew__lower_t *L, ew__node_t *key, ew__node_t *value, const ew__node_t *at)
{
    ew__node_t *n = ew__b_node(L, EW__N_Property, at);
    n->as.property.key = key;
    n->as.property.value = value;
    n->as.property.kind = EW__PROP_INIT;
    return n;
}

ew__node_t *ew__b_is_undefined(ew__lower_t *L, ew__node_t *x, const ew__node_t *at)
{
    return ew__b_binary(L, EW__T_SEQ, x, ew__b_undefined(L, at), at);
}

/* `({name(...) {...}}).name`, or `({""(...) {...}})[""]` for an anonymous function: Duktape gives a method
 * shorthand the key as its name, no .prototype, and makes it non-constructable, like an arrow. */
ew__node_t *ew__b_method_fn(ew__lower_t *L, ew__atom_t *name, ew__node_t *fn, const ew__node_t *at)
{
    fn->type = EW__N_FunctionExpression;
    fn->as.function.id = NULL;
    ew__node_t *key = name ? ew__b_ident(L, name, at) : ew__b_str(L, "", 0, at);
    ew__node_t *p = ew__b_prop(L, key, fn, at);
    p->as.property.method = true;
    p->as.property.kind = EW__PROP_INIT;
    ew__node_t *obj = ew__b_object(L, ew__b_list(L, 1, p), at);
    if (name)
        return ew__b_member(L, obj, name->s, at);
    return ew__b_index(L, obj, ew__b_str(L, "", 0, at), at);
}

bool ew__b_is_pure(ew__lower_t *L, const ew__node_t *e)
{
    (void) L;
    switch (e->type) {
    case EW__N_Literal: return e->as.literal.kind != EW__LIT_REGEX;
    case EW__N_ThisExpression: return true;
    case EW__N_Identifier:
        /* temps only: a user variable may be a global getter or change in between */
        return e->as.ident.name->len >= L->prefix_len && memcmp(e->as.ident.name->s, L->prefix, L->prefix_len) == 0;
    default: return false;
    }
}
