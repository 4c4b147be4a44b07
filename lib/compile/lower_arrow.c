/*
 * lower_arrow.c — arrow functions to ES5 functions.
 *
 * An arrow's `this`, `arguments` and `new.target` are those of the enclosing non-arrow function: each use inside
 * an arrow becomes a temporary that the enclosing function (or the program) sets first thing in its body
 * (`var $ew1 = this;`, declared by the walker's frame, lower.c). The arrow itself becomes a method-shorthand
 * function, `({name(params) {body}}).name` (docs/compiler.md): like an arrow it has no .prototype and is not
 * constructable, and reference counting frees it at once (a `function` expression's prototype cycle would wait
 * for mark-and-sweep). The method key gives the function the name an arrow would get by inference
 * (`const f = () => {}` has f.name === "f"); an anonymous arrow uses the key "". Expression bodies become
 * `{ return expr; }` with the return on the expression's line. Parameters are left to lower_params.c.
 */
#include "lower.h"

/* The nearest non-arrow function frame (the program's at worst). */
static ew__lfn_t *outer_fn(ew__lower_t *L)
{
    ew__lfn_t *f = L->fn;
    while (f->is_arrow && f->parent)
        f = f->parent;
    return f;
}

static bool in_arrow(ew__lower_t *L)
{
    return L->fn->is_arrow;
}

static ew__node_t *capture(ew__lower_t *L, ew__atom_t **slot, const char *hint, const ew__node_t *at)
{
    if (!*slot)
        *slot = ew__fresh(L, hint, (uint32_t) __builtin_strlen(hint));
    return ew__b_ident(L, *slot, at);
}

static bool is_arguments(const ew__node_t *n)
{
    const ew__atom_t *a = n->as.ident.name;
    return a->len == 9 && __builtin_memcmp(a->s, "arguments", 9) == 0;
}

/* `const f = () => ...`, `f = () => ...`, `{f: () => ...}`: the name the arrow gets, kept in its (unused) id. */
static void name_arrow(ew__lower_t *L, ew__node_t *value, const ew__node_t *name_node)
{
    if (!value || value->type != EW__N_ArrowFunctionExpression || !name_node ||
        name_node->type != EW__N_Identifier || (name_node->flags & EW__NF_PAREN))
        return;
    value->as.function.id = ew__b_clone_ident(L, name_node, name_node);
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_ThisExpression:
        if (in_arrow(L))
            *slot = capture(L, &outer_fn(L)->cap_this, "this", n);
        break;
    case EW__N_Identifier:
        if (in_arrow(L) && is_arguments(n) && outer_fn(L)->fn->type != EW__N_Program)
            *slot = capture(L, &outer_fn(L)->cap_args, "arguments", n);
        break;
    case EW__N_MetaProperty:
        if (in_arrow(L))
            *slot = capture(L, &outer_fn(L)->cap_new_target, "newtarget", n);
        break;
    case EW__N_VariableDeclarator: name_arrow(L, n->as.declarator.init, n->as.declarator.id); break;
    case EW__N_AssignmentExpression:
        if (n->as.binary.op == EW__T_ASSIGN || n->as.binary.op >= EW__T_AND_ASSIGN)
            name_arrow(L, n->as.binary.right, n->as.binary.left);
        break;
    case EW__N_Property:
        if (!n->as.property.computed && n->as.property.kind == EW__PROP_INIT)
            name_arrow(L, n->as.property.value, n->as.property.key);
        break;
    case EW__N_AssignmentPattern: name_arrow(L, n->as.assign_pattern.right, n->as.assign_pattern.left); break;
    default: break;
    }
    return false;
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    ew__node_t *f = *slot;
    if (ew__is_function(f) && (L->features & EW__FEAT_PARAMS))
        ew__params_lower_fn(L, f);
    if (f->type != EW__N_ArrowFunctionExpression)
        return;
    if (f->as.function.expression) {
        ew__node_t *e = f->as.function.body;
        f->as.function.body = ew__b_block(L, ew__b_list(L, 1, ew__b_return(L, e, e)), e);
        f->as.function.expression = false;
    }
    ew__atom_t *name = f->as.function.id ? f->as.function.id->as.ident.name : NULL;
    *slot = ew__b_method_fn(L, name, f, f);
}

void ew__lower_arrow(ew__lower_t *L)
{
    ew__walk_t w = {L, pre, post, NULL, EW__FEAT_ARROW | EW__FEAT_PARAMS | EW__FEAT_THIS, 0, false};
    ew__walk(&w, &L->program);
}
