/*
 * set_methods.c — the ES2025 Set methods that take a set-like argument: union, intersection, difference,
 * symmetricDifference, isSubsetOf, isSupersetOf, isDisjointFrom (ECMA-262 §24.2.4). Installed on
 * %Set.prototype% by map_set.c through ew__coll_set_methods_init().
 *
 * The argument is read once as a "set record" (GetSetRecord: size, has, keys, in that order); each method
 * then either walks the receiver calling other.has, or walks other.keys() looking entries up in the
 * receiver, whichever the spec picks from the sizes. Walks of the receiver use a live cursor
 * (ordered_table.c) because has() may change it; results are fresh %Set% instances (no @@species).
 */
#include <math.h>

#include "collections.h"

enum { REC_OBJ, REC_HAS, REC_KEYS, REC_SLOTS }; /* a set record: REC_SLOTS stack slots from its base */

typedef struct set_rec {
    duk_idx_t base;  /* [other, has, keys] */
    double size;     /* ToIntegerOrInfinity(other.size), >= 0 */
} set_rec_t;

/* GetSetRecord(value at idx): pushes [other, has, keys]. May throw. */
static void get_set_record(duk_context *ctx, duk_idx_t idx, set_rec_t *rec)
{
    idx = duk_normalize_index(ctx, idx);
    if (!duk_is_object(ctx, idx))
        (void) duk_type_error(ctx, "set-like argument is not an object");
    rec->base = duk_get_top(ctx);
    duk_dup(ctx, idx);
    duk_get_prop_literal(ctx, idx, "size");
    double size = duk_to_number(ctx, -1);
    duk_pop(ctx);
    if (isnan(size))
        (void) duk_type_error(ctx, "set-like argument has no numeric size");
    size = trunc(size) + 0.0;
    if (size < 0)
        (void) duk_range_error(ctx, "set-like argument has a negative size");
    rec->size = size;
    duk_get_prop_literal(ctx, idx, "has");
    if (!duk_is_callable(ctx, -1))
        (void) duk_type_error(ctx, "set-like argument's has is not a function");
    duk_get_prop_literal(ctx, idx, "keys");
    if (!duk_is_callable(ctx, -1))
        (void) duk_type_error(ctx, "set-like argument's keys is not a function");
}

/* GetKeysIterator(rec): pushes the iterator and its next method. May throw. */
static void get_keys_iterator(duk_context *ctx, const set_rec_t *rec, ew__coll_iter_t *it)
{
    duk_dup(ctx, rec->base + REC_KEYS);
    duk_dup(ctx, rec->base + REC_OBJ);
    duk_call_method(ctx, 0);
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "keys() of the set-like argument did not return an object");
    duk_get_prop_literal(ctx, -1, "next");
    if (!duk_is_callable(ctx, -1))
        (void) duk_type_error(ctx, "the keys iterator's next is not a function");
    it->obj = duk_get_top(ctx) - 2;
    it->next = it->obj + 1;
    it->kind = EW__IT_PROTOCOL;
    it->done = false;
    it->index = 0;
}

/* ToBoolean(rec.has.call(rec.obj, value at v)). May throw. */
static bool other_has(duk_context *ctx, const set_rec_t *rec, duk_idx_t v)
{
    v = duk_normalize_index(ctx, v);
    duk_dup(ctx, rec->base + REC_HAS);
    duk_dup(ctx, rec->base + REC_OBJ);
    duk_dup(ctx, v);
    duk_call_method(ctx, 1);
    bool in = duk_to_boolean(ctx, -1);
    duk_pop(ctx);
    return in;
}

/* IteratorClose with a normal completion: return()'s errors propagate, a non-object result is a TypeError. */
static void close_normally(duk_context *ctx, ew__coll_iter_t *it)
{
    duk_get_prop_literal(ctx, it->obj, "return");
    if (duk_is_null_or_undefined(ctx, -1)) {
        duk_pop(ctx);
        return;
    }
    duk_dup(ctx, it->obj);
    duk_call_method(ctx, 0);
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "iterator return() result is not an object");
    duk_pop(ctx);
}

/* Pushes the next canonical key of the iterator (-0 as +0) and returns true, or false when done. */
static bool step_key(duk_context *ctx, ew__coll_iter_t *it)
{
    if (!ew__coll_iter_step(ctx, it))
        return false;
    if (duk_is_number(ctx, -1) && duk_get_number(ctx, -1) == 0) {
        duk_pop(ctx);
        duk_push_int(ctx, 0);
    }
    return true;
}

/* Pushes this after the brand check; returns its index. */
static duk_idx_t require_set(duk_context *ctx, const char *what)
{
    duk_push_this(ctx);
    if (ew__otab_of(ctx, -1, EW__OTAB_SET) == NULL)
        (void) ew__coll_bad_this(ctx, what);
    return duk_get_top_index(ctx);
}

static uint32_t size_of(duk_context *ctx, duk_idx_t set)
{
    return ew__otab_of(ctx, set, EW__OTAB_SET)->size;
}

static bool contains(duk_context *ctx, duk_idx_t set, duk_idx_t v)
{
    return ew__otab_find(ctx, ew__otab_of(ctx, set, EW__OTAB_SET), v) != EW__OTAB_NONE;
}

/* Pushes a new %Set% holding the entries of the set at src (all of them if src < 0: empty). */
static duk_idx_t push_set_copy(duk_context *ctx, duk_idx_t src)
{
    duk_idx_t dst = duk_push_bare_object(ctx);
    duk_push_heapptr(ctx, ew__coll_intrinsics(ctx)->set_proto);
    duk_set_prototype(ctx, dst);
    ew__otab_create(ctx, dst, EW__OTAB_SET);
    if (src < 0)
        return dst;
    const ew__otab_t *t = ew__otab_of(ctx, src, EW__OTAB_SET);
    ew__otab_cursor_t c = { 0, t->gen }; /* no user code runs below: the numbering cannot change */
    for (uint32_t i; (i = ew__otab_next(ctx, src, &c, &t)) != EW__OTAB_NONE;) {
        ew__otab_push(ctx, t, i, 0);
        ew__otab_set(ctx, dst, -1, -1);
        duk_pop(ctx);
    }
    return dst;
}

/* Live walk of the set at set: pushes each entry in turn (the caller pops it) until the end. */
typedef struct walk {
    duk_idx_t set, gen;
    ew__otab_cursor_t c;
} walk_t;

static void walk_start(duk_context *ctx, walk_t *w, duk_idx_t set)
{
    w->set = duk_normalize_index(ctx, set);
    ew__otab_cursor_start(ctx, w->set, &w->c);
    w->gen = duk_get_top_index(ctx);
}

static bool walk_next(duk_context *ctx, walk_t *w)
{
    const ew__otab_t *t;
    void *before = w->c.gen;
    uint32_t i = ew__otab_next(ctx, w->set, &w->c, &t);
    if (w->c.gen != before) {
        duk_push_heapptr(ctx, w->c.gen);
        duk_replace(ctx, w->gen);
    }
    if (i == EW__OTAB_NONE)
        return false;
    ew__otab_push(ctx, t, i, 0);
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * The methods (nargs 1: other at 0, this at 1)
 */

static duk_ret_t set_union(duk_context *ctx)
{
    duk_idx_t self = require_set(ctx, "Set.prototype.union");
    set_rec_t rec;
    get_set_record(ctx, 0, &rec);
    ew__coll_iter_t it;
    get_keys_iterator(ctx, &rec, &it);
    duk_idx_t result = push_set_copy(ctx, self);
    while (step_key(ctx, &it)) {
        ew__otab_set(ctx, result, -1, -1);
        duk_pop(ctx);
    }
    duk_dup(ctx, result);
    return 1;
}

static duk_ret_t set_intersection(duk_context *ctx)
{
    duk_idx_t self = require_set(ctx, "Set.prototype.intersection");
    set_rec_t rec;
    get_set_record(ctx, 0, &rec);
    duk_idx_t result = push_set_copy(ctx, -1);
    if (size_of(ctx, self) <= rec.size) {
        walk_t w;
        walk_start(ctx, &w, self);
        while (walk_next(ctx, &w)) {
            if (other_has(ctx, &rec, -1))
                ew__otab_set(ctx, result, -1, -1);
            duk_pop(ctx);
        }
    } else {
        ew__coll_iter_t it;
        get_keys_iterator(ctx, &rec, &it);
        while (step_key(ctx, &it)) {
            if (contains(ctx, self, -1))
                ew__otab_set(ctx, result, -1, -1);
            duk_pop(ctx);
        }
    }
    duk_dup(ctx, result);
    return 1;
}

static duk_ret_t set_difference(duk_context *ctx)
{
    duk_idx_t self = require_set(ctx, "Set.prototype.difference");
    set_rec_t rec;
    get_set_record(ctx, 0, &rec);
    duk_idx_t result = push_set_copy(ctx, self);
    if (size_of(ctx, self) <= rec.size) {
        /* Walks the copy, which user code cannot reach: has() may change this, not the result. */
        walk_t w;
        walk_start(ctx, &w, result);
        while (walk_next(ctx, &w)) {
            if (other_has(ctx, &rec, -1))
                ew__otab_delete(ctx, result, -1);
            duk_pop(ctx);
        }
    } else {
        ew__coll_iter_t it;
        get_keys_iterator(ctx, &rec, &it);
        while (step_key(ctx, &it)) {
            ew__otab_delete(ctx, result, -1);
            duk_pop(ctx);
        }
    }
    duk_dup(ctx, result);
    return 1;
}

static duk_ret_t set_symmetric_difference(duk_context *ctx)
{
    duk_idx_t self = require_set(ctx, "Set.prototype.symmetricDifference");
    set_rec_t rec;
    get_set_record(ctx, 0, &rec);
    ew__coll_iter_t it;
    get_keys_iterator(ctx, &rec, &it);
    duk_idx_t result = push_set_copy(ctx, self);
    while (step_key(ctx, &it)) {
        if (contains(ctx, self, -1))
            ew__otab_delete(ctx, result, -1);
        else
            ew__otab_set(ctx, result, -1, -1);
        duk_pop(ctx);
    }
    duk_dup(ctx, result);
    return 1;
}

static duk_ret_t set_is_subset_of(duk_context *ctx)
{
    duk_idx_t self = require_set(ctx, "Set.prototype.isSubsetOf");
    set_rec_t rec;
    get_set_record(ctx, 0, &rec);
    bool subset = size_of(ctx, self) <= rec.size;
    walk_t w;
    if (subset)
        walk_start(ctx, &w, self);
    while (subset && walk_next(ctx, &w)) {
        subset = other_has(ctx, &rec, -1);
        duk_pop(ctx);
    }
    duk_push_boolean(ctx, subset);
    return 1;
}

static duk_ret_t set_is_superset_of(duk_context *ctx)
{
    duk_idx_t self = require_set(ctx, "Set.prototype.isSupersetOf");
    set_rec_t rec;
    get_set_record(ctx, 0, &rec);
    if (size_of(ctx, self) < rec.size) {
        duk_push_false(ctx);
        return 1;
    }
    ew__coll_iter_t it;
    get_keys_iterator(ctx, &rec, &it);
    while (step_key(ctx, &it)) {
        if (!contains(ctx, self, -1)) {
            close_normally(ctx, &it);
            duk_push_false(ctx);
            return 1;
        }
        duk_pop(ctx);
    }
    duk_push_true(ctx);
    return 1;
}

static duk_ret_t set_is_disjoint_from(duk_context *ctx)
{
    duk_idx_t self = require_set(ctx, "Set.prototype.isDisjointFrom");
    set_rec_t rec;
    get_set_record(ctx, 0, &rec);
    if (size_of(ctx, self) <= rec.size) {
        walk_t w;
        walk_start(ctx, &w, self);
        while (walk_next(ctx, &w)) {
            if (other_has(ctx, &rec, -1)) {
                duk_push_false(ctx);
                return 1;
            }
            duk_pop(ctx);
        }
    } else {
        ew__coll_iter_t it;
        get_keys_iterator(ctx, &rec, &it);
        while (step_key(ctx, &it)) {
            if (contains(ctx, self, -1)) {
                close_normally(ctx, &it);
                duk_push_false(ctx);
                return 1;
            }
            duk_pop(ctx);
        }
    }
    duk_push_true(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Installation: JS names -> C functions
 */

static const ew__method_t set_methods[] = {
    { "union", set_union, 1, 1 },
    { "intersection", set_intersection, 1, 1 },
    { "difference", set_difference, 1, 1 },
    { "symmetricDifference", set_symmetric_difference, 1, 1 },
    { "isSubsetOf", set_is_subset_of, 1, 1 },
    { "isSupersetOf", set_is_superset_of, 1, 1 },
    { "isDisjointFrom", set_is_disjoint_from, 1, 1 },
    { NULL, NULL, 0, 0 },
};

void ew__coll_set_methods_init(duk_context *ctx, duk_idx_t set_proto)
{
    ew__coll_def_methods(ctx, set_proto, set_methods);
}
