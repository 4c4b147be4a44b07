/*
 * lower_params.c — default, destructured and rest parameters.
 *
 * A function whose parameters are not all plain names keeps one formal per parameter up to a rest element and
 * gets, at the top of its body (after the arrow captures), in parameter order:
 *   x = d          ->  if (x === void 0) x = d;
 *   {a, b} = d     ->  var {a, b} = $p === void 0 ? d : $p;     (formal $p; lower_destructure.c takes it on)
 *   [a, b]         ->  var [a, b] = $p;
 *   ...r           ->  var r = $ew.rest(arguments, i);
 * Deviations (docs/compiler.md): the function's `length` counts the defaulted parameters; a parameter read
 * before its initialisation (`(a = b, b) => ...`) gives undefined instead of a ReferenceError; in sloppy
 * functions `arguments` stays mapped to the formals. Called for every function by the arrow pass's walk
 * (lower_arrow.c), before an arrow becomes a method function. Defaults see the body's `var`s of the same name as
 * parameters (they are the same binding in ES5), which the specification keeps apart.
 */
#include "lower.h"

static ew__node_t *param_stmt(ew__lower_t *L, ew__node_t *p, uint32_t index, ew__node_t **formal)
{
    if (p->type == EW__N_RestElement) {
        *formal = NULL;
        ew__nodes_t args = ew__b_list(L, 2, ew__b_ident_str(L, "arguments", p), ew__b_num(L, index, p));
        return ew__b_var(L, p->as.argument.argument, ew__b_helper(L, "rest", args, p), p);
    }
    if (p->type == EW__N_AssignmentPattern && p->as.assign_pattern.left->type == EW__N_Identifier) {
        ew__node_t *x = p->as.assign_pattern.left;
        *formal = x;
        ew__node_t *set = ew__b_assign(L, ew__b_clone_ident(L, x, x), p->as.assign_pattern.right, p);
        return ew__b_if(L, ew__b_is_undefined(L, ew__b_clone_ident(L, x, x), p), ew__b_expr_stmt(L, set, p),
                        NULL, p);
    }
    ew__node_t *t = ew__b_ident(L, ew__fresh(L, "p", 1), p);
    *formal = t;
    if (p->type == EW__N_AssignmentPattern) {
        ew__node_t *v = ew__b_cond(L, ew__b_is_undefined(L, ew__b_clone_ident(L, t, p), p),
                                   p->as.assign_pattern.right, ew__b_clone_ident(L, t, p), p);
        return ew__b_var(L, p->as.assign_pattern.left, v, p);
    }
    return ew__b_var(L, p, ew__b_clone_ident(L, t, p), p);
}

void ew__params_lower_fn(ew__lower_t *L, ew__node_t *f)
{
    ew__nodes_t *params = &f->as.function.params;
    bool simple = true;
    for (uint32_t i = 0; i < params->len; i++)
        simple &= params->items[i]->type == EW__N_Identifier;
    if (simple)
        return;
    ew__node_t **stmts = ew__lalloc(L, params->len * sizeof *stmts);
    ew__node_t **formals = ew__lalloc(L, params->len * sizeof *formals);
    uint32_t ns = 0, nf = 0;
    for (uint32_t i = 0; i < params->len; i++) {
        ew__node_t *p = params->items[i], *formal;
        if (p->type == EW__N_Identifier) {
            formals[nf++] = p;
            continue;
        }
        stmts[ns++] = param_stmt(L, p, i, &formal);
        if (formal)
            formals[nf++] = formal;
    }
    f->as.function.params = ew__b_list_copy(L, formals, nf);
    f->flags |= EW__NF_SIMPLE_PARAMS;
    ew__prepend(L, f, stmts, ns);
}
