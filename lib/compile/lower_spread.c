/*
 * lower_spread.c — spread elements in array literals, calls and `new`.
 *
 * `[a, ...b, c]` becomes `$ew.concat([a], $ew.spread(b), [c])`: the arguments run in source order (b is
 * iterated completely before c is evaluated, as the specification's evaluation order requires), $ew.spread
 * follows the iterator protocol (C with a fast path for arrays whose iteration is intact,
 * lib/core/builtin_iterfast.c) and always returns a fresh array, and holes of the literal pieces are kept. A call `f(...x)` becomes
 * `$ew.apply(f, void 0, args)` and a method call `o.m(...x)` `$ew.apply((t = o).m, t, args)`, which keeps
 * `this` and evaluates o and o.m before the arguments; $ew.apply is Reflect.apply itself, which Duktape runs
 * without a native frame (DUKTAPE-NOTES.md), so a coroutine may still yield inside the callee.
 * `new C(...x)` becomes `$ew.construct(C, args)` (Reflect.construct).
 */
#include "lower.h"

static bool has_spread(const ew__nodes_t *l)
{
    for (uint32_t i = 0; i < l->len; i++)
        if (l->items[i] && l->items[i]->type == EW__N_SpreadElement)
            return true;
    return false;
}

/* An array expression with the values of a list holding spreads. */
static ew__node_t *spread_list(ew__lower_t *L, const ew__nodes_t *l, const ew__node_t *at)
{
    ew__nodes_t pieces = {NULL, 0};
    uint32_t cap = 0, i = 0;
    while (i < l->len) {
        ew__node_t *x = l->items[i];
        if (x && x->type == EW__N_SpreadElement) {
            ew__node_t *arg = x->as.argument.argument;
            ew__nodes_push(L, &pieces, &cap, ew__b_helper(L, "spread", ew__b_list(L, 1, arg), x));
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < l->len && !(l->items[j] && l->items[j]->type == EW__N_SpreadElement))
            j++;
        ew__nodes_push(L, &pieces, &cap, ew__b_array(L, ew__b_list_copy(L, l->items + i, j - i), x ? x : at));
        i = j;
    }
    if (pieces.len == 1)
        return pieces.items[0];
    return ew__b_helper(L, "concat", pieces, at);
}

static ew__node_t *lower_call(ew__lower_t *L, ew__node_t *n)
{
    ew__node_t *args = spread_list(L, &n->as.call.arguments, n);
    ew__node_t *callee = n->as.call.callee, *self;
    if (callee->type == EW__N_MemberExpression) {
        ew__node_t *obj = callee->as.member.object;
        if (ew__b_is_pure(L, obj)) {
            self = ew__b_node(L, obj->type, obj);
            self->as = obj->as;
        } else {
            ew__node_t *t = ew__temp(L, obj);
            callee->as.member.object = ew__b_assign(L, t, obj, obj);
            self = ew__b_clone_ident(L, t, obj);
        }
    } else {
        self = ew__b_undefined(L, n);
    }
    return ew__b_helper(L, "apply", ew__b_list(L, 3, callee, self, args), n);
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_ArrayExpression:
        if (has_spread(&n->as.array.elements))
            *slot = spread_list(L, &n->as.array.elements, n);
        break;
    case EW__N_CallExpression:
        if (has_spread(&n->as.call.arguments))
            *slot = lower_call(L, n);
        break;
    case EW__N_NewExpression:
        if (has_spread(&n->as.call.arguments))
            *slot = ew__b_helper(L, "construct",
                                 ew__b_list(L, 2, n->as.call.callee, spread_list(L, &n->as.call.arguments, n)), n);
        break;
    default: break;
    }
}

void ew__lower_spread(ew__lower_t *L)
{
    ew__walk_t w = {L, NULL, post, NULL, EW__FEAT_SPREAD, 0, false};
    ew__walk(&w, &L->program);
}
