/*
 * lower_misc.c — the small syntax: optional chains, `??`, logical assignment (`||=`, `&&=`, `??=`), optional
 * catch bindings and object spread.
 *
 * Optional chains short-circuit the whole chain: every `?.` link becomes a test of a temporary holding the value
 * so far, and the tests nest to the right, `(t1 = a) == null ? void 0 : (t2 = t1.b) == null ? void 0 : t2.c`.
 * A call keeps its `this`: `a?.b()` calls `t1.b()`, and an optional call of a member, `a.b?.()`, saves the object
 * and calls the function value with `.call(object, ...)`. `delete a?.b` yields true when short-circuited.
 * `a ?? b` and the logical assignments evaluate each operand once through temporaries (a member target's object
 * and key too) and assign only when the operator says so. Object spread `{a, ...b, c}` becomes nested helper
 * calls, `$ew.objectSpread($ew.objectSpread({a: a}, b), {c: c}, 1)`, so pieces run in source order; the helper
 * copies own enumerable properties (strings and symbols) with define semantics, and a literal piece's property
 * descriptors as they are (getters stay getters). Literal properties Duktape 2.7 cannot parse are rewritten:
 * computed accessors and `__proto__: v` become pieces too, computed methods `[k]: method value`, methods named
 * by a reserved word or get/set take a string key, `{get}` becomes `{get: get}`. `**` and `**=` are left
 * alone: Duktape 2.7 parses them.
 */
#include "lower.h"

/* The value of e in a temporary for a test: `(t = e)` (or e itself when it is pure). *use gets the reader. */
static ew__node_t *once(ew__lower_t *L, ew__node_t *e, ew__node_t **use)
{
    if (ew__b_is_pure(L, e)) {
        *use = e;
        return e;
    }
    ew__node_t *t = ew__temp(L, e);
    *use = ew__b_clone_ident(L, t, e);
    return ew__b_assign(L, t, e, e);
}

static ew__node_t *is_nullish(ew__lower_t *L, ew__node_t *e, const ew__node_t *at)
{
    return ew__b_binary(L, EW__T_EQ, e, ew__b_null(L, at), at);
}

typedef struct chain {
    ew__nodes_t conds;
    uint32_t cap;
} chain_t;

/* Tests the value so far: pushes `(t = e) == null` and returns t. */
static ew__node_t *guard(ew__lower_t *L, chain_t *c, ew__node_t *e)
{
    ew__node_t *use;
    ew__node_t *set = once(L, e, &use);
    ew__nodes_push(L, &c->conds, &c->cap, is_nullish(L, set, e));
    return use;
}

static bool is_link(const ew__node_t *n)
{
    return n->type == EW__N_MemberExpression || n->type == EW__N_CallExpression;
}

static ew__node_t *chain_link(ew__lower_t *L, chain_t *c, ew__node_t *n);

/* `m?.()` where m is a member o.p: (tf = (to = o).p) == null ? ... : tf.call(to, args) */
static ew__node_t *optional_method_call(ew__lower_t *L, chain_t *c, ew__node_t *call, ew__node_t *m)
{
    ew__node_t *to = ew__temp(L, m), *tf = ew__temp(L, m);
    ew__node_t *obj = m->as.member.object;
    m->as.member.object = ew__b_assign(L, to, obj, obj);
    ew__nodes_push(L, &c->conds, &c->cap, is_nullish(L, ew__b_assign(L, tf, m, m), m));
    ew__nodes_t *a = &call->as.call.arguments;
    ew__node_t **args = ew__lalloc(L, (a->len + 1) * sizeof *args);
    args[0] = ew__b_clone_ident(L, to, m);
    for (uint32_t i = 0; i < a->len; i++)
        args[i + 1] = a->items[i];
    ew__node_t *callee = ew__b_member(L, ew__b_clone_ident(L, tf, m), "call", m);
    return ew__b_call(L, callee, ew__b_list_copy(L, args, a->len + 1), call);
}

static ew__node_t *chain_link(ew__lower_t *L, chain_t *c, ew__node_t *n)
{
    if (n->type == EW__N_MemberExpression) {
        ew__node_t *obj = n->as.member.object;
        if (is_link(obj))
            obj = chain_link(L, c, obj);
        if (n->as.member.optional)
            obj = guard(L, c, obj);
        n->as.member.object = obj;
        n->as.member.optional = false;
        return n;
    }
    if (n->type != EW__N_CallExpression)
        return n;
    ew__node_t *callee = n->as.call.callee;
    if (is_link(callee))
        callee = chain_link(L, c, callee);
    if (n->as.call.optional) {
        n->as.call.optional = false;
        if (callee->type == EW__N_MemberExpression)
            return optional_method_call(L, c, n, callee);
        callee = guard(L, c, callee);
    }
    n->as.call.callee = callee;
    return n;
}

/* The whole chain; `del`: the chain is the operand of delete (short-circuit value true). */
ew__node_t *ew__lower_chain(ew__lower_t *L, ew__node_t *chain, bool del)
{
    chain_t c = {{NULL, 0}, 0};
    ew__node_t *e = chain_link(L, &c, chain->as.chain.expression);
    if (del)
        e = ew__b_unary(L, EW__T_K_DELETE, e, chain);
    for (uint32_t i = c.conds.len; i-- > 0;)
        e = ew__b_cond(L, c.conds.items[i], del ? ew__b_bool(L, true, chain) : ew__b_undefined(L, chain), e, chain);
    e->spare |= EW__SP_DONE;
    return e;
}

/* a ?? b  ->  (t = a) != null ? t : b */
static ew__node_t *lower_nullish(ew__lower_t *L, ew__node_t *n)
{
    ew__node_t *use;
    ew__node_t *set = once(L, n->as.binary.left, &use);
    ew__node_t *test = ew__b_binary(L, EW__T_NE, set, ew__b_null(L, n), n);
    return ew__b_cond(L, test, use, n->as.binary.right, n);
}

/* x ||= v, o.p &&= v, o[k] ??= v: the target's parts evaluated once, the assignment only when needed. */
static ew__node_t *lower_logical_assign(ew__lower_t *L, ew__node_t *n)
{
    ew__node_t *target = n->as.binary.left, *read, *write;
    if (target->type == EW__N_Identifier) {
        read = target;
        write = ew__b_clone_ident(L, target, target);
    } else {
        ew__node_t *to = ew__temp(L, target);
        ew__node_t *key = target->as.member.property, *wkey = key;
        if (target->as.member.computed && !ew__b_is_pure(L, key)) {
            ew__node_t *tk = ew__temp(L, key);
            wkey = ew__b_clone_ident(L, tk, key);
            key = ew__b_assign(L, tk, key, key);
        } else if (target->as.member.computed) {
            wkey = ew__b_clone_ident(L, key, key);
        }
        read = ew__b_node(L, EW__N_MemberExpression, target);
        read->as.member.object = ew__b_assign(L, to, target->as.member.object, target);
        read->as.member.property = key;
        read->as.member.computed = target->as.member.computed;
        write = ew__b_node(L, EW__N_MemberExpression, target);
        write->as.member.object = ew__b_clone_ident(L, to, target);
        write->as.member.property = wkey;
        write->as.member.computed = target->as.member.computed;
    }
    ew__node_t *assign = ew__b_assign(L, write, n->as.binary.right, n);
    switch (n->as.binary.op) {
    case EW__T_OR_ASSIGN: return ew__b_logical(L, EW__T_OR, read, assign, n);
    case EW__T_AND_ASSIGN: return ew__b_logical(L, EW__T_AND, read, assign, n);
    default: {
        ew__node_t *use;
        ew__node_t *set = once(L, read, &use);
        return ew__b_cond(L, ew__b_binary(L, EW__T_NE, set, ew__b_null(L, n), n), use, assign, n);
    }
    }
}

/* Object literal properties Duktape 2.7 cannot parse in place: they split the literal into pieces. */
enum { PIECE_NONE, PIECE_SPREAD, PIECE_ACCESSOR, PIECE_PROTO };

static bool is_proto_key(const ew__node_t *p)
{
    const ew__node_t *k = p->as.property.key;
    if (p->as.property.computed || p->as.property.shorthand || p->as.property.method ||
        p->as.property.kind != EW__PROP_INIT)
        return false;
    const char *s = k->type == EW__N_Identifier ? k->as.ident.name->s : NULL;
    uint32_t len = k->type == EW__N_Identifier ? k->as.ident.name->len : 0;
    if (k->type == EW__N_Literal && k->as.literal.kind == EW__LIT_STRING) {
        s = k->as.literal.string.s;
        len = k->as.literal.string.len;
    }
    return s && len == 9 && __builtin_memcmp(s, "__proto__", 9) == 0;
}

static int piece_kind(const ew__node_t *p)
{
    if (p->type == EW__N_SpreadElement)
        return PIECE_SPREAD;
    if (p->as.property.computed && (p->as.property.kind == EW__PROP_GET || p->as.property.kind == EW__PROP_SET))
        return PIECE_ACCESSOR;
    return is_proto_key(p) ? PIECE_PROTO : PIECE_NONE;
}

/* One special piece applied to the object so far. */
static ew__node_t *apply_piece(ew__lower_t *L, ew__node_t *acc, ew__node_t *p)
{
    switch (piece_kind(p)) {
    case PIECE_SPREAD: return ew__b_helper(L, "objectSpread", ew__b_list(L, 2, acc, p->as.argument.argument), p);
    case PIECE_ACCESSOR:
        return ew__b_helper(L, "accessor",
                            ew__b_list(L, 4, acc, p->as.property.key, p->as.property.value,
                                       ew__b_num(L, p->as.property.kind == EW__PROP_SET, p)), p);
    default: return ew__b_helper(L, "setProto", ew__b_list(L, 2, acc, p->as.property.value), p);
    }
}

/* Whether the literal property p can be defined by $ew.objectData from a constant key: `k: v` or shorthand `k`,
 * an identifier or string key, a value that is no function or class (those take their name from the key). */
static bool data_property(const ew__node_t *p)
{
    const ew__node_t *k = p->as.property.key, *v = p->as.property.value;
    if (p->as.property.computed || p->as.property.method || p->as.property.kind != EW__PROP_INIT)
        return false;
    if (v->type == EW__N_FunctionExpression || v->type == EW__N_ArrowFunctionExpression ||
        v->type == EW__N_ClassExpression)
        return false;
    return k->type == EW__N_Identifier || (k->type == EW__N_Literal && k->as.literal.kind == EW__LIT_STRING);
}

/* `$ew.objectData(acc, "k", v, ...)` for the literal properties items[i..j) (all data_property). */
static ew__node_t *object_data(ew__lower_t *L, ew__node_t *acc, ew__node_t **items, uint32_t n)
{
    ew__nodes_t args = {NULL, 0};
    uint32_t cap = 0;
    ew__nodes_push(L, &args, &cap, acc);
    for (uint32_t k = 0; k < n; k++) {
        ew__node_t *key = items[k]->as.property.key;
        if (key->type == EW__N_Identifier)
            key = ew__b_str(L, key->as.ident.name->s, key->as.ident.name->len, key);
        ew__nodes_push(L, &args, &cap, key);
        ew__nodes_push(L, &args, &cap, items[k]->as.property.value);
    }
    return ew__b_helper(L, "objectData", args, items[0]);
}

/* {a, ...b, c}: pieces in order, `$ew.objectSpread($ew.objectSpread({a: a}, b), {c: c}, 2)` (1 when the literal
 * piece has a getter or setter, whose descriptor must be copied as is); a piece of plain `key: value` properties
 * after a spread is `$ew.objectData(acc, "c", c)` instead (no object made and enumerated for it). */
static ew__node_t *lower_object_pieces(ew__lower_t *L, ew__node_t *n)
{
    ew__nodes_t *p = &n->as.object.properties;
    uint32_t i = 0;
    while (i < p->len && piece_kind(p->items[i]) == PIECE_NONE)
        i++;
    ew__node_t *acc = ew__b_object(L, ew__b_list_copy(L, p->items, i), n);
    while (i < p->len) {
        ew__node_t *s = p->items[i];
        if (piece_kind(s) != PIECE_NONE) {
            acc = apply_piece(L, acc, s);
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < p->len && piece_kind(p->items[j]) == PIECE_NONE)
            j++;
        bool plain = true;
        for (uint32_t k = i; k < j; k++)
            plain = plain && data_property(p->items[k]);
        if (plain) {
            acc = object_data(L, acc, p->items + i, j - i);
            i = j;
            continue;
        }
        ew__node_t *lit = ew__b_object(L, ew__b_list_copy(L, p->items + i, j - i), s);
        /* 1: copy the piece's descriptors (it has accessors); 2: only data properties, copy the values */
        int how = 2;
        for (uint32_t k = i; k < j; k++)
            if (p->items[k]->as.property.kind == EW__PROP_GET || p->items[k]->as.property.kind == EW__PROP_SET)
                how = 1;
        acc = ew__b_helper(L, "objectSpread", ew__b_list(L, 3, acc, lit, ew__b_num(L, how, s)), s);
        i = j;
    }
    return acc;
}

static bool is_get_set(const ew__atom_t *a)
{
    return a->len == 3 && (a->s[0] == 'g' || a->s[0] == 's') && a->s[1] == 'e' && a->s[2] == 't';
}

/* Fixes a property in place for Duktape's parser; returns whether it needs the piecewise form. */
static bool fix_property(ew__lower_t *L, ew__node_t *p)
{
    if (piece_kind(p) != PIECE_NONE)
        return true;
    ew__node_t *k = p->as.property.key;
    if (p->as.property.method && p->as.property.computed) {
        /* `[k]() {}` -> `[k]: ({""() {}})[""]` (a method value without .prototype) */
        p->as.property.value = ew__b_method_fn(L, NULL, p->as.property.value, p->as.property.value);
        p->as.property.method = false;
    } else if (k->type == EW__N_Identifier && !p->as.property.computed) {
        ew__atom_t *a = k->as.ident.name;
        if (p->as.property.shorthand && is_get_set(a))
            p->as.property.shorthand = false; /* `{get}` -> `{get: get}` */
        else if (p->as.property.method && (is_get_set(a) || a->keyword))
            p->as.property.key = ew__b_str(L, a->s, a->len, k); /* `new() {}` -> `"new"() {}` */
    }
    return false;
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    ew__node_t *n = *slot;
    if (n->type == EW__N_UnaryExpression && n->as.unary.op == EW__T_K_DELETE &&
        n->as.unary.argument->type == EW__N_ChainExpression)
        n->as.unary.argument->spare |= EW__SP_DONE; /* tells post that delete applies to the chain's end */
    (void) w;
    return false;
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_ChainExpression: *slot = ew__lower_chain(L, n, (n->spare & EW__SP_DONE) != 0); break;
    case EW__N_UnaryExpression:
        if (n->as.unary.op == EW__T_K_DELETE && (n->as.unary.argument->spare & EW__SP_DONE))
            *slot = n->as.unary.argument;
        break;
    case EW__N_LogicalExpression:
        if (n->as.binary.op == EW__T_NULLISH)
            *slot = lower_nullish(L, n);
        break;
    case EW__N_AssignmentExpression:
        if (n->as.binary.op >= EW__T_AND_ASSIGN)
            *slot = lower_logical_assign(L, n);
        break;
    case EW__N_CatchClause:
        if (!n->as.catch_.param)
            n->as.catch_.param = ew__b_ident(L, ew__fresh(L, "e", 1), n);
        break;
    case EW__N_ObjectExpression: {
        bool pieces = false;
        for (uint32_t i = 0; i < n->as.object.properties.len; i++)
            pieces |= fix_property(L, n->as.object.properties.items[i]);
        if (pieces)
            *slot = lower_object_pieces(L, n);
        break;
    }
    default: break;
    }
}

void ew__lower_misc(ew__lower_t *L)
{
    ew__walk_t w = {L, pre, post, NULL, EW__FEAT_MISC, 0, false};
    ew__walk(&w, &L->program);
}
