/*
 * lower_destructure.c — destructuring in declarations, assignments, catch clauses and for-in heads.
 *
 * ew__destructure turns `pattern = value` into a flat list of simple steps in source order: declarators
 * (`var a = t.a, ...`) for declarations, assignment expressions for assignments (whose value stays the right
 * side: `(t = rhs, a = t[0], b = t[1], t)`). Every value is read once into a temporary where it is used more
 * than once; defaults apply only to undefined (`(t2 = t.a) === void 0 ? d : t2`); object rest copies the
 * remaining own enumerable keys ($ew.objectRest with the keys used, computed keys converted once by $ew.key);
 * `{} = null` throws through $ew.objectCheck. Array patterns go through $ew.arr(value, n) (C,
 * lib/core/builtin_iterfast.c): an array whose iteration is intact is indexed directly (the same as iterating
 * it), anything else is iterated for exactly the n values the pattern needs and then closed with return() if
 * not done. Inside a loop the function reads $ew.arr once into a local (`var $arr = $ew.arr` first in its
 * body): a call through a local costs ~40% less than one through the helper object, which is a closure
 * variable of every function. Deviation (docs/compiler.md): with a
 * non-array iterable, those n steps happen before defaults and nested targets run, not interleaved with them.
 * for-in heads with patterns get `for (var $k in o) { var pattern = $k; ... }`; for-of heads are turned into
 * such declarations by lower_forof.c, parameters by lower_params.c.
 */
#include "lower.h"

typedef struct ds {
    ew__lower_t *L;
    bool decl;
    ew__nodes_t *out;
    uint32_t *cap;
} ds_t;

static void step(ds_t *D, ew__node_t *target, ew__node_t *value)
{
    ew__node_t *n = D->decl ? ew__b_declarator(D->L, target, value, target)
                            : ew__b_assign(D->L, target, value, target);
    ew__nodes_push(D->L, D->out, D->cap, n);
}

/* A fresh name holding value; returns a reader. */
static ew__node_t *hold(ds_t *D, ew__node_t *value)
{
    ew__node_t *t = D->decl ? ew__b_ident(D->L, ew__fresh(D->L, NULL, 0), value) : ew__temp(D->L, value);
    step(D, t, value);
    return ew__b_clone_ident(D->L, t, value);
}

static ew__node_t *copy_pure(ds_t *D, ew__node_t *v)
{
    ew__node_t *c = ew__b_node(D->L, (ew__node_type_t) v->type, v);
    c->as = v->as;
    return c;
}

static void pattern(ds_t *D, ew__node_t *p, ew__node_t *value);

static void object_pattern(ds_t *D, ew__node_t *p, ew__node_t *value)
{
    ew__lower_t *L = D->L;
    ew__nodes_t *props = &p->as.object.properties;
    ew__node_t *o = hold(D, props->len ? value : ew__b_helper(L, "objectCheck", ew__b_list(L, 1, value), p));
    bool has_rest = props->len && props->items[props->len - 1]->type == EW__N_RestElement;
    ew__node_t **used = has_rest ? ew__lalloc(L, props->len * sizeof *used) : NULL;
    uint32_t nused = 0;
    for (uint32_t i = 0; i < props->len; i++) {
        ew__node_t *prop = props->items[i];
        if (prop->type == EW__N_RestElement) {
            ew__node_t *keys = ew__b_array(L, ew__b_list_copy(L, used, nused), prop);
            ew__node_t *rest = ew__b_helper(L, "objectRest", ew__b_list(L, 2, copy_pure(D, o), keys), prop);
            pattern(D, prop->as.argument.argument, rest);
            continue;
        }
        ew__node_t *key = prop->as.property.key, *read;
        if (prop->as.property.computed) {
            if (has_rest)
                key = hold(D, ew__b_helper(L, "key", ew__b_list(L, 1, key), key));
            read = ew__b_index(L, copy_pure(D, o), key, prop);
        } else if (key->type == EW__N_Identifier) {
            read = ew__b_member(L, copy_pure(D, o), key->as.ident.name->s, prop);
            read->as.member.property = ew__b_clone_ident(L, key, key);
        } else {
            read = ew__b_index(L, copy_pure(D, o), key, prop);
        }
        if (has_rest) {
            ew__node_t *k = key;
            if (!prop->as.property.computed && key->type == EW__N_Identifier)
                k = ew__b_str(L, key->as.ident.name->s, key->as.ident.name->len, key);
            else if (!prop->as.property.computed)
                k = ew__b_helper(L, "key", ew__b_list(L, 1, key), key); /* numeric keys: "1" */
            used[nused++] = prop->as.property.computed ? copy_pure(D, key) : k;
        }
        pattern(D, prop->as.property.value, read);
    }
}

static void array_pattern(ds_t *D, ew__node_t *p, ew__node_t *value)
{
    ew__lower_t *L = D->L;
    ew__nodes_t *el = &p->as.array.elements;
    bool has_rest = el->len && el->items[el->len - 1] && el->items[el->len - 1]->type == EW__N_RestElement;
    ew__node_t *n = ew__b_num(L, has_rest ? -1 : (double) el->len, p);
    ew__node_t *call;
    if (L->fn->loops) { /* in a loop: through a local copy, read once per call of the function (~40% less) */
        if (!L->fn->cap_arr)
            L->fn->cap_arr = ew__fresh(L, "arr", 3);
        call = ew__b_call(L, ew__b_ident(L, L->fn->cap_arr, p), ew__b_list(L, 2, value, n), p);
    } else {
        call = ew__b_helper(L, "arr", ew__b_list(L, 2, value, n), p);
    }
    ew__node_t *a = hold(D, call);
    for (uint32_t i = 0; i < el->len; i++) {
        ew__node_t *e = el->items[i];
        if (!e)
            continue;
        if (e->type == EW__N_RestElement) {
            ew__nodes_t args = ew__b_list(L, 2, copy_pure(D, a), ew__b_num(L, i, e));
            pattern(D, e->as.argument.argument, ew__b_helper(L, "rest", args, e));
            continue;
        }
        pattern(D, e, ew__b_index(L, copy_pure(D, a), ew__b_num(L, i, e), e));
    }
}

static void pattern(ds_t *D, ew__node_t *p, ew__node_t *value)
{
    switch (p->type) {
    case EW__N_ObjectPattern: object_pattern(D, p, value); break;
    case EW__N_ArrayPattern: array_pattern(D, p, value); break;
    case EW__N_AssignmentPattern: {
        ew__node_t *v = ew__b_is_pure(D->L, value) ? value : hold(D, value);
        ew__node_t *c = ew__b_cond(D->L, ew__b_is_undefined(D->L, copy_pure(D, v), p), p->as.assign_pattern.right,
                                   copy_pure(D, v), p);
        pattern(D, p->as.assign_pattern.left, c);
        break;
    }
    default: step(D, p, value); break; /* an identifier or a member expression */
    }
}

void ew__destructure(ew__lower_t *L, ew__node_t *p, ew__node_t *value, bool decl, ew__nodes_t *out, uint32_t *cap)
{
    ds_t D = {L, decl, out, cap};
    pattern(&D, p, value);
}

static bool is_pattern(const ew__node_t *n)
{
    return n && (n->type == EW__N_ObjectPattern || n->type == EW__N_ArrayPattern);
}

static void lower_decl(ew__lower_t *L, ew__node_t *n)
{
    ew__nodes_t *d = &n->as.var_decl.declarations;
    bool any = false;
    for (uint32_t i = 0; i < d->len; i++)
        any |= is_pattern(d->items[i]->as.declarator.id);
    if (!any)
        return;
    ew__nodes_t out = {NULL, 0};
    uint32_t cap = 0;
    for (uint32_t i = 0; i < d->len; i++) {
        ew__node_t *x = d->items[i];
        if (is_pattern(x->as.declarator.id))
            ew__destructure(L, x->as.declarator.id, x->as.declarator.init, true, &out, &cap);
        else
            ew__nodes_push(L, &out, &cap, x);
    }
    n->as.var_decl.declarations = out;
}

/* (t = rhs, targets..., t) */
static ew__node_t *lower_assign(ew__lower_t *L, ew__node_t *n)
{
    ew__nodes_t out = {NULL, 0};
    uint32_t cap = 0;
    ew__node_t *rhs = n->as.binary.right, *t = rhs;
    if (!ew__b_is_pure(L, rhs)) {
        t = ew__temp(L, rhs);
        ew__nodes_push(L, &out, &cap, ew__b_assign(L, t, rhs, rhs));
        t = ew__b_clone_ident(L, t, rhs);
    }
    ew__destructure(L, n->as.binary.left, t, false, &out, &cap);
    ew__node_t *last = ew__b_node(L, (ew__node_type_t) t->type, t);
    last->as = t->as;
    ew__nodes_push(L, &out, &cap, last);
    return ew__b_seq(L, out, n);
}

/* catch ({a}) {...} -> catch ($e) { var {a} = $e; ... } (block scoping already renamed colliding names) */
static void lower_catch(ew__lower_t *L, ew__node_t *c)
{
    ew__node_t *p = c->as.catch_.param;
    ew__node_t *e = ew__b_ident(L, ew__fresh(L, "e", 1), p);
    c->as.catch_.param = e;
    ew__node_t *decl = ew__b_var(L, p, ew__b_clone_ident(L, e, p), p);
    lower_decl(L, decl);
    ew__nodes_t *body = &c->as.catch_.body->as.body.body;
    ew__node_t **items = ew__lalloc(L, (body->len + 1) * sizeof *items);
    items[0] = decl;
    for (uint32_t i = 0; i < body->len; i++)
        items[i + 1] = body->items[i];
    body->items = items;
    body->len++;
    c->as.catch_.body->feat = 0; /* changed in place: its subtree features are unknown (lower.c) */
}

/* for (var [a, b] in o) body  ->  for (var $k in o) { var [a, b] = $k; body } (assignment patterns alike) */
static void lower_for_in_head(ew__lower_t *L, ew__node_t *n)
{
    ew__node_t *left = n->as.for_in.left, *p = left;
    bool decl = left->type == EW__N_VariableDeclaration;
    if (decl)
        p = left->as.var_decl.declarations.items[0]->as.declarator.id;
    if (!is_pattern(p))
        return;
    ew__node_t *k = ew__b_ident(L, ew__fresh(L, "k", 1), p);
    n->as.for_in.left = ew__b_var(L, k, NULL, left);
    ew__node_t *first = decl ? ew__b_var(L, p, ew__b_clone_ident(L, k, p), p)
                             : ew__b_expr_stmt(L, ew__b_assign(L, p, ew__b_clone_ident(L, k, p), p), p);
    n->as.for_in.body = ew__b_block(L, ew__b_list(L, 2, first, n->as.for_in.body), n->as.for_in.body);
}

static bool is_loop(const ew__node_t *n)
{
    return n->type == EW__N_ForStatement || n->type == EW__N_ForInStatement || n->type == EW__N_ForOfStatement ||
           n->type == EW__N_WhileStatement || n->type == EW__N_DoWhileStatement;
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    if ((*slot)->type == EW__N_ForInStatement)
        lower_for_in_head(w->L, *slot);
    if (is_loop(*slot))
        w->L->fn->loops++;
    return false;
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    ew__node_t *n = *slot;
    if (is_loop(n))
        L->fn->loops--;
    switch (n->type) {
    case EW__N_VariableDeclaration: lower_decl(L, n); break;
    case EW__N_AssignmentExpression:
        if (n->as.binary.op == EW__T_ASSIGN && is_pattern(n->as.binary.left))
            *slot = lower_assign(L, n);
        break;
    case EW__N_CatchClause:
        if (is_pattern(n->as.catch_.param))
            lower_catch(L, n);
        break;
    default: break;
    }
}

void ew__lower_destructure(ew__lower_t *L)
{
    ew__walk_t w = {L, pre, post, NULL, EW__FEAT_PATTERN, 0, false};
    ew__walk(&w, &L->program);
}
