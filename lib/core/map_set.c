/*
 * map_set.c — Map and Set (ECMA-262 §24.1, §24.2) with their iterators (%MapIteratorPrototype%,
 * %SetIteratorPrototype%), Map.groupBy (ES2024) and the upsert methods getOrInsert/getOrInsertComputed.
 * Installed by ew__collections_init() (collections.c).
 *
 * A Map or Set is an ordinary object holding an ordered table (ordered_table.c) in hidden slots; the
 * table's owner pointer is the brand every method checks, so neither an object inheriting from a Map nor
 * a Proxy of one passes. An iterator keeps [map, cursor] in hidden slots and walks the table live: entries
 * added meanwhile are visited, deleted ones skipped, and clear() or a compaction moves its position the
 * way the spec's index-based walk would. Callbacks (forEach, getOrInsertComputed, groupBy) are called
 * without catching, except where an iterator must be closed (collections.c: ew__coll_add_all).
 */
#include <string.h>

#include "collections.h"

#define K_ITER DUK_HIDDEN_SYMBOL("cS")    /* iterator: fixed buffer holding an iter_state_t */
#define K_ITMAP DUK_HIDDEN_SYMBOL("cM")   /* iterator: the Map or Set, until exhausted */
#define K_ITGEN DUK_HIDDEN_SYMBOL("cY")   /* iterator: the generation of its cursor (ordered_table.c) */

enum { WHAT_KEYS, WHAT_VALUES, WHAT_ENTRIES };

typedef struct iter_state {
    void *owner;               /* the iterator itself: the brand */
    void *map;                 /* the collection (kept by K_ITMAP), NULL once exhausted */
    ew__otab_cursor_t cursor;  /* its generation is kept by K_ITGEN */
    uint32_t kind;             /* EW__OTAB_MAP or EW__OTAB_SET */
    uint32_t what;             /* WHAT_* */
} iter_state_t;

#define DATA_PROP (DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC)

/* CreateDataProperty(obj, key, value on top): no setter on a prototype is ever called. Pops. */
static void def_data(duk_context *ctx, duk_idx_t obj, const char *key)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_string(ctx, key);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DATA_PROP);
}

static void def_index(duk_context *ctx, duk_idx_t obj, duk_uarridx_t index)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_uint(ctx, index);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DATA_PROP);
}

/* Pushes this after checking it holds a table of `kind`; returns its stack index. */
static duk_idx_t require_this(duk_context *ctx, uint32_t kind, const char *what, const ew__otab_t **t)
{
    duk_push_this(ctx);
    const ew__otab_t *tab = ew__otab_of(ctx, -1, kind);
    if (tab == NULL)
        (void) ew__coll_bad_this(ctx, what);
    if (t != NULL)
        *t = tab;
    return duk_get_top_index(ctx);
}

/* Replaces -0 at idx by +0 (CanonicalizeKeyedCollectionKey). */
static void canonicalize_key(duk_context *ctx, duk_idx_t idx)
{
    if (duk_is_number(ctx, idx) && duk_get_number(ctx, idx) == 0) {
        duk_push_int(ctx, 0);
        duk_replace(ctx, idx);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Constructors
 */

static void direct_map_set(duk_context *ctx, duk_idx_t target, duk_idx_t key, duk_idx_t value)
{
    ew__otab_set(ctx, target, key, value);
}

static void direct_set_add(duk_context *ctx, duk_idx_t target, duk_idx_t key, duk_idx_t value)
{
    (void) value;
    ew__otab_set(ctx, target, key, key);
}

/* new Map([iterable]) / new Set([iterable]): the instance Duktape made for `new` gets its table, then the
 * entries are added through this.set / this.add, looked up once. */
static duk_ret_t collection_ctor(duk_context *ctx, uint32_t kind)
{
    bool map = kind == EW__OTAB_MAP;
    if (!duk_is_constructor_call(ctx))
        return duk_type_error(ctx, "Constructor %s requires 'new'", map ? "Map" : "Set");
    duk_idx_t iterable = duk_get_top(ctx) > 0 ? 0 : -1;
    duk_push_this(ctx);
    duk_idx_t self = duk_get_top_index(ctx);
    ew__otab_create(ctx, self, kind);
    if (iterable < 0 || duk_is_null_or_undefined(ctx, iterable))
        return 0;
    const ew__coll_intrinsics_t *I = ew__coll_intrinsics(ctx);
    if (map)
        ew__coll_add_all(ctx, self, iterable, "set", I->map_set, direct_map_set, true);
    else
        ew__coll_add_all(ctx, self, iterable, "add", I->set_add, direct_set_add, false);
    return 0;
}

static duk_ret_t map_ctor(duk_context *ctx)
{
    return collection_ctor(ctx, EW__OTAB_MAP);
}

static duk_ret_t set_ctor(duk_context *ctx)
{
    return collection_ctor(ctx, EW__OTAB_SET);
}

/* ---------------------------------------------------------------------------------------------------------
 * Methods shared by Map and Set
 */

static duk_ret_t common_has(duk_context *ctx, uint32_t kind, const char *what)
{
    const ew__otab_t *t;
    require_this(ctx, kind, what, &t);
    duk_push_boolean(ctx, ew__otab_find(ctx, t, 0) != EW__OTAB_NONE);
    return 1;
}

static duk_ret_t common_delete(duk_context *ctx, uint32_t kind, const char *what)
{
    duk_idx_t self = require_this(ctx, kind, what, NULL);
    duk_push_boolean(ctx, ew__otab_delete(ctx, self, 0));
    return 1;
}

static duk_ret_t common_clear(duk_context *ctx, uint32_t kind, const char *what)
{
    duk_idx_t self = require_this(ctx, kind, what, NULL);
    ew__otab_clear(ctx, self);
    return 0;
}

static duk_ret_t common_size(duk_context *ctx, uint32_t kind, const char *what)
{
    const ew__otab_t *t;
    require_this(ctx, kind, what, &t);
    duk_push_uint(ctx, t->size);
    return 1;
}

/* forEach(callback, thisArg): callback(value, key, collection) for each entry, live (nargs 2). */
static duk_ret_t common_for_each(duk_context *ctx, uint32_t kind, const char *what)
{
    duk_idx_t self = require_this(ctx, kind, what, NULL);
    if (!duk_is_callable(ctx, 0))
        return duk_type_error(ctx, "%s: callback is not a function", what);
    ew__otab_cursor_t c;
    ew__otab_cursor_start(ctx, self, &c);
    duk_idx_t gen = duk_get_top_index(ctx);
    for (;;) {
        const ew__otab_t *t;
        void *before = c.gen;
        uint32_t i = ew__otab_next(ctx, self, &c, &t);
        if (c.gen != before) {
            duk_push_heapptr(ctx, c.gen);
            duk_replace(ctx, gen);
        }
        if (i == EW__OTAB_NONE)
            return 0;
        duk_dup(ctx, 0);
        duk_dup(ctx, 1);
        ew__otab_push(ctx, t, i, t->stride - 1);
        ew__otab_push(ctx, t, i, 0);
        duk_dup(ctx, self);
        duk_call_method(ctx, 3);
        duk_pop(ctx);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Iterators
 */

static duk_ret_t make_iterator(duk_context *ctx, uint32_t kind, uint32_t what, const char *name)
{
    duk_idx_t self = require_this(ctx, kind, name, NULL);
    const ew__coll_intrinsics_t *I = ew__coll_intrinsics(ctx);
    duk_idx_t it = duk_push_bare_object(ctx);
    duk_push_heapptr(ctx, kind == EW__OTAB_MAP ? I->map_iter_proto : I->set_iter_proto);
    duk_set_prototype(ctx, it);
    iter_state_t *st = duk_push_fixed_buffer(ctx, sizeof(*st));
    st->owner = duk_get_heapptr(ctx, it);
    st->map = duk_get_heapptr(ctx, self);
    st->kind = kind;
    st->what = what;
    ew__coll_put_slot(ctx, it, K_ITER);
    ew__otab_cursor_start(ctx, self, &st->cursor);
    ew__coll_put_slot(ctx, it, K_ITGEN);
    duk_dup(ctx, self);
    ew__coll_put_slot(ctx, it, K_ITMAP);
    return 1;
}

/* Pushes CreateIterResultObject(value on top, done), replacing the value. */
static void push_result(duk_context *ctx, bool done)
{
    duk_push_object(ctx);
    duk_insert(ctx, -2);
    def_data(ctx, -2, "value");
    duk_push_boolean(ctx, done);
    def_data(ctx, -2, "done");
}

/* Pushes what the iterator yields for entry i. */
static void push_yield(duk_context *ctx, const ew__otab_t *t, uint32_t i, uint32_t what)
{
    if (what == WHAT_ENTRIES) {
        duk_push_array(ctx);
        ew__otab_push(ctx, t, i, 0);
        def_index(ctx, -2, 0);
        ew__otab_push(ctx, t, i, t->stride - 1);
        def_index(ctx, -2, 1);
    } else {
        ew__otab_push(ctx, t, i, what == WHAT_VALUES ? t->stride - 1 : 0);
    }
}

/* %MapIteratorPrototype%.next / %SetIteratorPrototype%.next (nargs 0: this is at 0). */
static duk_ret_t iterator_next(duk_context *ctx, uint32_t kind, const char *what)
{
    duk_push_this(ctx);
    iter_state_t *st = NULL;
    if (duk_is_object(ctx, 0) && duk_get_prop_literal(ctx, 0, K_ITER))
        st = duk_get_buffer(ctx, -1, NULL);
    duk_pop(ctx);
    if (st == NULL || st->owner != duk_get_heapptr(ctx, 0) || st->kind != kind)
        return ew__coll_bad_this(ctx, what);
    if (st->map == NULL) {
        duk_push_undefined(ctx);
        push_result(ctx, true);
        return 1;
    }
    duk_push_heapptr(ctx, st->map);
    const ew__otab_t *t;
    void *before = st->cursor.gen;
    uint32_t i = ew__otab_next(ctx, 1, &st->cursor, &t);
    if (st->cursor.gen != before) {
        duk_push_heapptr(ctx, st->cursor.gen);
        ew__coll_put_slot(ctx, 0, K_ITGEN);
    }
    if (i == EW__OTAB_NONE) { /* exhausted for good: drop the collection and the generation */
        st->map = NULL;
        st->cursor.gen = NULL;
        duk_push_undefined(ctx);
        ew__coll_put_slot(ctx, 0, K_ITMAP);
        duk_push_undefined(ctx);
        ew__coll_put_slot(ctx, 0, K_ITGEN);
        duk_push_undefined(ctx);
        push_result(ctx, true);
        return 1;
    }
    push_yield(ctx, t, i, st->what);
    push_result(ctx, false);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Map
 */

static duk_ret_t map_get(duk_context *ctx)
{
    const ew__otab_t *t;
    require_this(ctx, EW__OTAB_MAP, "Map.prototype.get", &t);
    uint32_t i = ew__otab_find(ctx, t, 0);
    if (i == EW__OTAB_NONE)
        return 0;
    ew__otab_push(ctx, t, i, 1);
    return 1;
}

static duk_ret_t map_set(duk_context *ctx)
{
    duk_idx_t self = require_this(ctx, EW__OTAB_MAP, "Map.prototype.set", NULL);
    ew__otab_set(ctx, self, 0, 1);
    return 1;
}

static duk_ret_t map_has(duk_context *ctx)
{
    return common_has(ctx, EW__OTAB_MAP, "Map.prototype.has");
}

static duk_ret_t map_delete(duk_context *ctx)
{
    return common_delete(ctx, EW__OTAB_MAP, "Map.prototype.delete");
}

static duk_ret_t map_clear(duk_context *ctx)
{
    return common_clear(ctx, EW__OTAB_MAP, "Map.prototype.clear");
}

static duk_ret_t map_size(duk_context *ctx)
{
    return common_size(ctx, EW__OTAB_MAP, "get Map.prototype.size");
}

static duk_ret_t map_for_each(duk_context *ctx)
{
    return common_for_each(ctx, EW__OTAB_MAP, "Map.prototype.forEach");
}

static duk_ret_t map_entries(duk_context *ctx)
{
    return make_iterator(ctx, EW__OTAB_MAP, WHAT_ENTRIES, "Map.prototype.entries");
}

static duk_ret_t map_keys(duk_context *ctx)
{
    return make_iterator(ctx, EW__OTAB_MAP, WHAT_KEYS, "Map.prototype.keys");
}

static duk_ret_t map_values(duk_context *ctx)
{
    return make_iterator(ctx, EW__OTAB_MAP, WHAT_VALUES, "Map.prototype.values");
}

static duk_ret_t map_iterator_next(duk_context *ctx)
{
    return iterator_next(ctx, EW__OTAB_MAP, "%MapIteratorPrototype%.next");
}

/* getOrInsert(key, value): the existing value, or value after appending it. */
static duk_ret_t map_get_or_insert(duk_context *ctx)
{
    const ew__otab_t *t;
    duk_idx_t self = require_this(ctx, EW__OTAB_MAP, "Map.prototype.getOrInsert", &t);
    uint32_t i = ew__otab_find(ctx, t, 0);
    if (i != EW__OTAB_NONE) {
        ew__otab_push(ctx, t, i, 1);
        return 1;
    }
    ew__otab_set(ctx, self, 0, 1);
    duk_dup(ctx, 1);
    return 1;
}

/* getOrInsertComputed(key, callback): the existing value, or callback(key)'s result, stored even if the
 * callback inserted the key itself meanwhile. */
static duk_ret_t map_get_or_insert_computed(duk_context *ctx)
{
    const ew__otab_t *t;
    duk_idx_t self = require_this(ctx, EW__OTAB_MAP, "Map.prototype.getOrInsertComputed", &t);
    if (!duk_is_callable(ctx, 1))
        return duk_type_error(ctx, "Map.prototype.getOrInsertComputed: callback is not a function");
    canonicalize_key(ctx, 0);
    uint32_t i = ew__otab_find(ctx, t, 0);
    if (i != EW__OTAB_NONE) {
        ew__otab_push(ctx, t, i, 1);
        return 1;
    }
    duk_dup(ctx, 1);
    duk_push_undefined(ctx);
    duk_dup(ctx, 0);
    duk_call_method(ctx, 1);
    ew__otab_set(ctx, self, 0, -1);
    return 1;
}

typedef struct group_job {
    duk_idx_t map, callback;
    double k;
} group_job_t;

/* One step of GroupBy for a Map: the value on top goes to the group of callback(value, k). Pops. */
static duk_ret_t group_item(duk_context *ctx, void *udata)
{
    group_job_t *job = udata;
    duk_idx_t value = duk_get_top_index(ctx);
    duk_dup(ctx, job->callback);
    duk_push_undefined(ctx);
    duk_dup(ctx, value);
    duk_push_number(ctx, job->k++);
    duk_call_method(ctx, 2);
    canonicalize_key(ctx, -1);
    const ew__otab_t *t = ew__otab_of(ctx, job->map, EW__OTAB_MAP);
    uint32_t i = ew__otab_find(ctx, t, -1);
    if (i == EW__OTAB_NONE) {
        duk_push_array(ctx);
        ew__otab_set(ctx, job->map, -2, -1);
    } else {
        ew__otab_push(ctx, t, i, 1);
    }
    duk_dup(ctx, value);
    def_index(ctx, -2, (duk_uarridx_t) duk_get_length(ctx, -2));
    duk_set_top(ctx, value);
    return 0;
}

/* Map.groupBy(items, callback) (nargs 2). */
static duk_ret_t map_group_by(duk_context *ctx)
{
    if (duk_is_null_or_undefined(ctx, 0))
        return duk_type_error(ctx, "Map.groupBy: items is null or undefined");
    if (!duk_is_callable(ctx, 1))
        return duk_type_error(ctx, "Map.groupBy: callback is not a function");
    group_job_t job = { duk_push_bare_object(ctx), 1, 0 };
    duk_push_heapptr(ctx, ew__coll_intrinsics(ctx)->map_proto);
    duk_set_prototype(ctx, job.map);
    ew__otab_create(ctx, job.map, EW__OTAB_MAP);
    ew__coll_iter_t it;
    ew__coll_get_iterator(ctx, 0, &it);
    while (ew__coll_iter_step(ctx, &it)) {
        if (it.kind != EW__IT_PROTOCOL) {
            group_item(ctx, &job);
        } else if (duk_safe_call(ctx, group_item, &job, 1, 1) != DUK_EXEC_SUCCESS) {
            if (!ew__isolate_aborting(ctx))
                ew__coll_iter_close(ctx, &it);
            (void) duk_throw(ctx);
        } else {
            duk_pop(ctx);
        }
    }
    duk_dup(ctx, job.map);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Set
 */

static duk_ret_t set_add(duk_context *ctx)
{
    duk_idx_t self = require_this(ctx, EW__OTAB_SET, "Set.prototype.add", NULL);
    ew__otab_set(ctx, self, 0, 0);
    return 1;
}

static duk_ret_t set_has(duk_context *ctx)
{
    return common_has(ctx, EW__OTAB_SET, "Set.prototype.has");
}

static duk_ret_t set_delete(duk_context *ctx)
{
    return common_delete(ctx, EW__OTAB_SET, "Set.prototype.delete");
}

static duk_ret_t set_clear(duk_context *ctx)
{
    return common_clear(ctx, EW__OTAB_SET, "Set.prototype.clear");
}

static duk_ret_t set_size(duk_context *ctx)
{
    return common_size(ctx, EW__OTAB_SET, "get Set.prototype.size");
}

static duk_ret_t set_for_each(duk_context *ctx)
{
    return common_for_each(ctx, EW__OTAB_SET, "Set.prototype.forEach");
}

static duk_ret_t set_entries(duk_context *ctx)
{
    return make_iterator(ctx, EW__OTAB_SET, WHAT_ENTRIES, "Set.prototype.entries");
}

static duk_ret_t set_values(duk_context *ctx)
{
    return make_iterator(ctx, EW__OTAB_SET, WHAT_VALUES, "Set.prototype.values");
}

static duk_ret_t set_iterator_next(duk_context *ctx)
{
    return iterator_next(ctx, EW__OTAB_SET, "%SetIteratorPrototype%.next");
}

/* ---------------------------------------------------------------------------------------------------------
 * Installation: JS names -> C functions
 */

static const ew__method_t map_methods[] = {
    { "get", map_get, 1, 1 },
    { "set", map_set, 2, 2 },
    { "has", map_has, 1, 1 },
    { "delete", map_delete, 1, 1 },
    { "clear", map_clear, 0, 0 },
    { "forEach", map_for_each, 2, 1 },
    { "entries", map_entries, 0, 0 },
    { "keys", map_keys, 0, 0 },
    { "values", map_values, 0, 0 },
    { "getOrInsert", map_get_or_insert, 2, 2 },
    { "getOrInsertComputed", map_get_or_insert_computed, 2, 2 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t map_statics[] = {
    { "groupBy", map_group_by, 2, 2 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t set_methods[] = {
    { "add", set_add, 1, 1 },
    { "has", set_has, 1, 1 },
    { "delete", set_delete, 1, 1 },
    { "clear", set_clear, 0, 0 },
    { "forEach", set_for_each, 2, 1 },
    { "entries", set_entries, 0, 0 },
    { "values", set_values, 0, 0 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t map_iterator_methods[] = {
    { "next", map_iterator_next, 0, 0 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t set_iterator_methods[] = {
    { "next", set_iterator_next, 0, 0 },
    { NULL, NULL, 0, 0 },
};

/* Defines proto[alias] = proto[name] (the same function object, as the spec requires). */
static void def_alias(duk_context *ctx, duk_idx_t proto, void *alias_sym, const char *alias, const char *name)
{
    proto = duk_normalize_index(ctx, proto);
    duk_get_prop_string(ctx, proto, name);
    if (alias_sym != NULL) {
        duk_push_heapptr(ctx, alias_sym);
        duk_insert(ctx, -2);
        duk_def_prop(ctx, proto, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE |
                                     DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    } else {
        ew__def_hidden_value(ctx, proto, alias);
    }
}

/* Pushes %MapIteratorPrototype% or %SetIteratorPrototype%. */
static void push_iterator_proto(duk_context *ctx, const ew__method_t *methods, const char *tag)
{
    duk_idx_t proto = duk_push_object(ctx);
    duk_push_heapptr(ctx, ew__coll_intrinsics(ctx)->iter_proto);
    duk_set_prototype(ctx, proto);
    ew__coll_def_methods(ctx, proto, methods);
    ew__coll_def_tag(ctx, proto, tag);
}

/* Builds one of Map and Set, defines it on the global at global and records its intrinsics. */
static void init_one(duk_context *ctx, duk_idx_t global, bool map)
{
    ew__coll_intrinsics_t *I = ew__coll_intrinsics(ctx);
    duk_idx_t proto = duk_push_object(ctx);
    ew__coll_def_methods(ctx, proto, map ? map_methods : set_methods);
    ew__coll_def_getter(ctx, proto, "size", NULL, map ? map_size : set_size);
    if (!map) {
        ew__coll_set_methods_init(ctx, proto);
        def_alias(ctx, proto, NULL, "keys", "values");
    }
    def_alias(ctx, proto, I->iterator, NULL, map ? "entries" : "values");
    ew__coll_def_tag(ctx, proto, map ? "Map" : "Set");
    /* The adder fast path compares against the built-in adder, groupBy makes Maps: both are kept reachable
     * even if a script deletes them. */
    duk_get_prop_string(ctx, proto, map ? "set" : "add");
    *(map ? &I->map_set : &I->set_add) = duk_get_heapptr(ctx, -1);
    ew__coll_keep(ctx);
    *(map ? &I->map_proto : &I->set_proto) = duk_get_heapptr(ctx, proto);
    duk_dup(ctx, proto);
    ew__coll_keep(ctx);

    push_iterator_proto(ctx, map ? map_iterator_methods : set_iterator_methods,
                        map ? "Map Iterator" : "Set Iterator");
    *(map ? &I->map_iter_proto : &I->set_iter_proto) = duk_get_heapptr(ctx, -1);
    ew__coll_keep(ctx);

    ew__coll_push_ctor(ctx, map ? map_ctor : set_ctor, map ? "Map" : "Set", 0, proto);
    ew__coll_def_species(ctx, -1);
    if (map)
        ew__coll_def_methods(ctx, -1, map_statics);
    ew__def_hidden_value(ctx, global, map ? "Map" : "Set"); /* global.Map: writable, configurable */
    duk_pop(ctx);
}

void ew__coll_map_set_init(duk_context *ctx, duk_idx_t global)
{
    global = duk_normalize_index(ctx, global);
    init_one(ctx, global, true);
    init_one(ctx, global, false);
}

/* ---------------------------------------------------------------------------------------------------------
 * For C code elsewhere (internal.h)
 */

int ew__collection_kind(duk_context *ctx, duk_idx_t idx)
{
    if (ew__otab_of(ctx, idx, EW__OTAB_MAP) != NULL)
        return EW__COLL_MAP;
    if (ew__otab_of(ctx, idx, EW__OTAB_SET) != NULL)
        return EW__COLL_SET;
    return EW__COLL_NONE;
}

void ew__collection_push_entries(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    duk_idx_t arr = duk_push_array(ctx);
    ew__otab_cursor_t c;
    ew__otab_cursor_start(ctx, idx, &c);
    const ew__otab_t *t;
    uint32_t i;
    duk_uarridx_t n = 0;
    while ((i = ew__otab_next(ctx, idx, &c, &t)) != EW__OTAB_NONE) {
        for (uint32_t slot = 0; slot < t->stride; slot++) {
            ew__otab_push(ctx, t, i, slot);
            duk_put_prop_index(ctx, arr, n++);
        }
    }
    duk_pop(ctx); /* the cursor's generation */
}

void ew__collection_push_new(duk_context *ctx, int kind)
{
    duk_idx_t obj = duk_push_object(ctx);
    const ew__coll_intrinsics_t *I = ew__coll_intrinsics(ctx);
    duk_push_heapptr(ctx, kind == EW__COLL_MAP ? I->map_proto : I->set_proto);
    duk_set_prototype(ctx, obj);
    ew__otab_create(ctx, obj, kind == EW__COLL_MAP ? EW__OTAB_MAP : EW__OTAB_SET);
}

void ew__collection_add(duk_context *ctx, duk_idx_t obj, duk_idx_t key, duk_idx_t value)
{
    obj = duk_require_normalize_index(ctx, obj);
    key = duk_require_normalize_index(ctx, key);
    bool map = ew__otab_of(ctx, obj, EW__OTAB_MAP) != NULL;
    value = map ? duk_require_normalize_index(ctx, value) : key;
    duk_dup(ctx, key);
    canonicalize_key(ctx, -1);
    ew__otab_set(ctx, obj, duk_get_top_index(ctx), map ? value : duk_get_top_index(ctx));
    duk_pop(ctx);
}
