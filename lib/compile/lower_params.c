/*
 * lower_params.c — default, destructured and rest parameters.
 *
 * A function whose parameters are not all plain names keeps one formal per parameter up to a rest element and
 * gets, at the top of its body (after the arrow captures), in parameter order:
 *   x = d          ->  if (x === void 0) x = d;
 *   {a, b} = d     ->  var {a, b} = $p === void 0 ? d : $p;     (formal $p; lower_destructure.c takes it on)
 *   [a, b]         ->  var [a, b] = $p;
 *   ...r           ->  var r = $ew.rest(arguments, i);
 * Only the parameters before the first default or rest stay formals (the function's `length`); later ones are
 * variables read from arguments[i]. A sloppy function that uses `arguments` copies its named formals into
 * variables, so its arguments object behaves unmapped. A parameter read in its own or an earlier parameter's
 * initialiser (`(a = b, b) => ...`, `(a = a) => ...`) is in its TDZ: the read becomes `$ew.tdz("b")` (a
 * ReferenceError); a read from a closure made there is left alone (it may run later), and so is a write (an
 * assignment's target). Called for every function by the arrow pass's walk
 * (lower_arrow.c), before an arrow becomes a method function. Defaults see the body's `var`s of the same name as
 * parameters (they are the same binding in ES5), which the specification keeps apart.
 */
#include <string.h>

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

/* A pattern parameter (or one with a default) after a default: read from the variable t holding arguments[i]. */
static ew__node_t *param_stmt_from(ew__lower_t *L, ew__node_t *p, ew__node_t *t)
{
    if (p->type == EW__N_AssignmentPattern) {
        ew__node_t *v = ew__b_cond(L, ew__b_is_undefined(L, ew__b_clone_ident(L, t, p), p),
                                   p->as.assign_pattern.right, ew__b_clone_ident(L, t, p), p);
        return ew__b_var(L, p->as.assign_pattern.left, v, p);
    }
    return ew__b_var(L, p, ew__b_clone_ident(L, t, p), p);
}

/* Parameter TDZ: the references of parameter bindings, found through scope analysis (ew__sbinding_t.refs). */
typedef struct ptdz {
    ew__lower_t *L;
    ew__node_t **refs;         /* references of the bindings of parameters i.. (not their declarations) */
    uint32_t n;
} ptdz_t;

static int tdz_visit(ew__node_t **slot, void *ud)
{
    ptdz_t *T = ud;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_FunctionExpression:
    case EW__N_FunctionDeclaration:
    case EW__N_ArrowFunctionExpression:
    case EW__N_ClassExpression: return 0; /* a closure may run after the parameter is initialised */
    case EW__N_AssignmentExpression: return tdz_visit(&n->as.binary.right, ud); /* the target is a write */
    case EW__N_UpdateExpression: return 0;
    case EW__N_Identifier:
        for (uint32_t i = 0; i < T->n; i++) {
            if (T->refs[i] == n) {
                *slot = ew__b_helper(T->L, "tdz", ew__b_list(T->L, 1, ew__b_str(T->L, n->as.ident.name->s,
                                                                                 n->as.ident.name->len, n)), n);
                break;
            }
        }
        return 0;
    default: return ew__node_children(n, tdz_visit, ud);
    }
}

/* The index of the parameter whose source range holds node d, or len. */
static uint32_t param_index(const ew__nodes_t *params, const ew__node_t *d)
{
    for (uint32_t i = 0; i < params->len; i++)
        if (d->start >= params->items[i]->start && d->start < params->items[i]->end)
            return i;
    return params->len;
}

/* Reads of parameter j in the initialisers and patterns of parameters 0..j (not in closures) throw. */
static void params_tdz(ew__lower_t *L, ew__node_t *f, ew__nodes_t *params)
{
    ew__sscope_t *s = ew__scope_of(L, f);
    if (!s)
        return; /* a function a pass made (e.g. an async body that took the parameters): not analysed */
    for (uint32_t i = 0; i < params->len; i++) {
        ew__node_t *p = params->items[i];
        if (p->type == EW__N_Identifier)
            continue;
        /* the references of the bindings of parameters i.. */
        ptdz_t T = {L, NULL, 0};
        uint32_t cap = 0;
        for (ew__sbinding_t *b = s->bindings; b; b = b->next) {
            if (b->kind != EW__BK_PARAM || !b->nrefs || param_index(params, b->refs[0]) < i)
                continue;
            for (uint32_t k = 1; k < b->nrefs; k++) {
                const ew__node_t *r = b->refs[k];
                if (r->start < p->start || r->start >= p->end)
                    continue; /* only references inside parameter i matter */
                if (T.n == cap) {
                    cap = cap ? 2 * cap : 8;
                    ew__node_t **x = ew__lalloc(L, cap * sizeof *x);
                    if (T.n)
                        EW__MEMCPY(x, T.refs, T.n * sizeof *x);
                    T.refs = x;
                }
                T.refs[T.n++] = b->refs[k];
            }
        }
        if (T.n)
            tdz_visit(&params->items[i], &T);
    }
}

static int find_arguments(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    (void) ud;
    if (n->type == EW__N_Identifier && n->as.ident.name->len == 9 && !memcmp(n->as.ident.name->s, "arguments", 9))
        return 1;
    return ew__node_children(*slot, find_arguments, ud);
}

/* `arguments[i]` */
static ew__node_t *argument(ew__lower_t *L, uint32_t i, const ew__node_t *at)
{
    return ew__b_index(L, ew__b_ident_str(L, "arguments", at), ew__b_num(L, i, at), at);
}

void ew__params_lower_fn(ew__lower_t *L, ew__node_t *f)
{
    ew__nodes_t *params = &f->as.function.params;
    bool simple = true;
    for (uint32_t i = 0; i < params->len; i++)
        simple &= params->items[i]->type == EW__N_Identifier;
    if (simple)
        return;
    params_tdz(L, f, params);
    /* the formals: the parameters before the first default or rest (the function's length) */
    uint32_t nformal = 0;
    while (nformal < params->len && params->items[nformal]->type != EW__N_AssignmentPattern &&
           params->items[nformal]->type != EW__N_RestElement)
        nformal++;
    /* a sloppy function with non-simple parameters has an unmapped arguments object: when it uses arguments,
     * its named formals are copied into variables that writes to arguments[i] do not reach */
    bool unalias = f->type != EW__N_ArrowFunctionExpression && !(f->flags & EW__NF_STRICT) &&
                   ew__node_children(f->as.function.body, find_arguments, NULL);
    ew__node_t **stmts = ew__lalloc(L, 2 * params->len * sizeof *stmts);
    ew__node_t **formals = ew__lalloc(L, params->len * sizeof *formals);
    uint32_t ns = 0, nf = 0;
    for (uint32_t i = 0; i < params->len; i++) {
        ew__node_t *p = params->items[i], *formal;
        if (i >= nformal && p->type != EW__N_RestElement) {
            /* after a default: a variable initialised from arguments[i] */
            bool named = p->type == EW__N_AssignmentPattern && p->as.assign_pattern.left->type == EW__N_Identifier;
            ew__node_t *t = p->type == EW__N_Identifier ? p
                            : named ? p->as.assign_pattern.left : ew__b_ident(L, ew__fresh(L, "p", 1), p);
            stmts[ns++] = ew__b_var(L, ew__b_clone_ident(L, t, p), argument(L, i, p), p);
            if (named)
                stmts[ns++] = param_stmt(L, p, i, &formal); /* if (x === void 0) x = d; */
            else if (p->type != EW__N_Identifier)
                stmts[ns++] = param_stmt_from(L, p, t);
            continue;
        }
        if (p->type == EW__N_Identifier) {
            if (unalias) {
                ew__node_t *t = ew__b_ident(L, ew__fresh(L, "p", 1), p);
                stmts[ns++] = ew__b_var(L, p, ew__b_clone_ident(L, t, p), p);
                p = t;
            }
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
