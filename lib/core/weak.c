/*
 * weak.c — WeakMap, WeakSet (ECMA-262 §24.3, §24.4, with ES2023 symbols as keys and the upsert methods),
 * WeakRef and FinalizationRegistry (§26.1, §26.2), on an engine without weak references. Installed by
 * ew__collections_init() (collections.c).
 *
 * A weak collection never holds its object keys: the entry lives ON the key, in two hidden slots whose
 * names are unique to the collection ("\xFF" "wk<id>" and "\xFF" "wv<id>"):
 *
 *     key[wk<id>] = pointer to key itself   (presence; proves the slot is the key's own, not inherited
 *                                            from its prototype chain or read through a Proxy's target)
 *     key[wv<id>] = value                   (WeakMap only)
 *
 * so a value lives exactly as long as its key. Keys that cannot carry hidden slots (non-registered
 * symbols, Proxies, plain buffers) go to a table held STRONGLY by the collection (see hold_class).
 * WeakRef and FinalizationRegistry are best effort: see their section.
 */
#include <stdio.h>

#include "collections.h"

#define K_WSTATE DUK_HIDDEN_SYMBOL("cW")  /* weak collection: fixed buffer holding a weak_state_t */
#define K_WKEEP DUK_HIDDEN_SYMBOL("cX")   /* weak collection: [wk name, wv name, strong table holder] */
#define K_REF DUK_HIDDEN_SYMBOL("cQ")     /* WeakRef: its target */
#define K_CLEANUP DUK_HIDDEN_SYMBOL("cC") /* FinalizationRegistry: [[CleanupCallback]] */

enum { W_MAP = 1, W_SET, W_REGISTRY, W_REF };

typedef struct weak_state {
    void *owner;   /* the collection itself: the brand */
    void *sym_k;   /* name of the presence slot on keys */
    void *sym_v;   /* name of the value slot on keys (NULL for WeakSet) */
    void *strong;  /* holder of the table of keys that cannot carry hidden slots, NULL until needed */
    uint32_t kind; /* W_* */
} weak_state_t;

/* The weak state of this (pushed at the top) if it is of `kind`; TypeError otherwise. */
static weak_state_t *require_this(duk_context *ctx, uint32_t kind, const char *what)
{
    duk_push_this(ctx);
    weak_state_t *ws = NULL;
    if (duk_is_object(ctx, -1) && duk_get_prop_literal(ctx, -1, K_WSTATE))
        ws = duk_get_buffer(ctx, -1, NULL);
    duk_pop(ctx);
    if (ws == NULL || ws->owner != duk_get_heapptr(ctx, -1) || ws->kind != kind)
        (void) ew__coll_bad_this(ctx, what);
    return ws;
}

/* ---------------------------------------------------------------------------------------------------------
 * Keys
 */

enum { HOLD_NO, HOLD_SLOTS, HOLD_TABLE };

/* CanBeHeldWeakly, and where the entry of such a key lives. Objects carry hidden slots, except Proxies:
 * Duktape applies a hidden key read through a Proxy to its target (and a write goes nowhere readable),
 * so put_slots detects them and they go, like symbols and plain buffers, to the strong table — which
 * keeps those keys alive as long as the collection. */
static int hold_class(duk_context *ctx, duk_idx_t idx)
{
    switch (duk_get_type(ctx, idx)) {
    case DUK_TYPE_OBJECT:
        return HOLD_SLOTS;
    case DUK_TYPE_BUFFER:
    case DUK_TYPE_LIGHTFUNC:
        return HOLD_TABLE;
    case DUK_TYPE_STRING:
        if (duk_is_symbol(ctx, idx)) {
            /* Duktape's symbols: 0x80 starts a registered one (Symbol.for), which may not be held. */
            const unsigned char *s = (const unsigned char *) duk_get_string(ctx, idx);
            return s[0] == 0x80 ? HOLD_NO : HOLD_TABLE;
        }
        return HOLD_NO;
    default:
        return HOLD_NO;
    }
}

static int require_holdable(duk_context *ctx, duk_idx_t idx, const char *what)
{
    int c = hold_class(ctx, idx);
    if (c == HOLD_NO)
        (void) duk_type_error(ctx, "%s: invalid value used as a weak key", what);
    return c;
}

/* True if the object at key carries this collection's entry as its own slot. */
static bool has_slots(duk_context *ctx, const weak_state_t *ws, duk_idx_t key)
{
    duk_get_prop_heapptr(ctx, key, ws->sym_k);
    bool own = duk_is_pointer(ctx, -1) && duk_get_pointer(ctx, -1) == duk_get_heapptr(ctx, key);
    duk_pop(ctx);
    return own;
}

/* Pushes the strong table's holder and returns its table, or returns NULL (nothing pushed) if none. */
static const ew__otab_t *push_strong(duk_context *ctx, const weak_state_t *ws)
{
    if (ws->strong == NULL)
        return NULL;
    duk_push_heapptr(ctx, ws->strong);
    return ew__otab_of(ctx, -1, EW__OTAB_WEAK);
}

/* Finds the key at key; if found and push_value, pushes its value. */
static bool weak_find(duk_context *ctx, const weak_state_t *ws, duk_idx_t key, bool push_value)
{
    key = duk_normalize_index(ctx, key);
    if (duk_is_object(ctx, key) && has_slots(ctx, ws, key)) {
        if (push_value)
            duk_get_prop_heapptr(ctx, key, ws->sym_v);
        return true;
    }
    const ew__otab_t *t = push_strong(ctx, ws);
    if (t == NULL)
        return false;
    uint32_t i = ew__otab_find(ctx, t, key);
    if (i != EW__OTAB_NONE && push_value) {
        ew__otab_push(ctx, t, i, 1);
        duk_remove(ctx, -2);
    } else {
        duk_pop(ctx);
    }
    return i != EW__OTAB_NONE;
}

/* Defines obj[name] = value on top (popped), even on a frozen object. A new slot is non-writable and
 * non-configurable (FORCE still updates it): such a slot never changes what Object.isFrozen/isSealed
 * answer, whatever the object's state is or becomes. The price: delete() leaves an undefined tombstone
 * (dropping the value), and the two slots of an entry stay on its key until the key dies, even after
 * delete() or after the collection itself is gone. */
static void def_slot(duk_context *ctx, duk_idx_t obj, void *name)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_heapptr(ctx, name);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
}

/* Adds a new entry on the object at key; returns false if the object cannot carry it (a Proxy). */
static bool put_slots(duk_context *ctx, const weak_state_t *ws, duk_idx_t key, duk_idx_t value)
{
    key = duk_normalize_index(ctx, key);
    duk_get_prototype(ctx, key);
    bool suspect = duk_is_undefined(ctx, -1); /* Duktape's Proxies have no prototype */
    duk_pop(ctx);
    if (suspect) { /* a hidden slot written through a Proxy cannot be read back through it */
        duk_push_pointer(ctx, duk_get_heapptr(ctx, key));
        def_slot(ctx, key, ws->sym_k);
        if (!has_slots(ctx, ws, key))
            return false;
    }
    if (ws->sym_v != NULL) { /* the value first: an entry is present only once it is complete */
        duk_dup(ctx, value);
        def_slot(ctx, key, ws->sym_v);
    }
    duk_push_pointer(ctx, duk_get_heapptr(ctx, key));
    def_slot(ctx, key, ws->sym_k);
    return true;
}

/* Pushes the strong table's holder, creating it on first use; returns its stack index. */
static duk_idx_t push_strong_created(duk_context *ctx, weak_state_t *ws, duk_idx_t self)
{
    if (ws->strong == NULL) {
        duk_push_bare_object(ctx);
        ew__otab_create(ctx, -1, EW__OTAB_WEAK);
        duk_get_prop_literal(ctx, self, K_WKEEP);
        duk_dup(ctx, -2);
        duk_put_prop_index(ctx, -2, 2);
        duk_pop(ctx);
        ws->strong = duk_get_heapptr(ctx, -1);
        return duk_get_top_index(ctx);
    }
    duk_push_heapptr(ctx, ws->strong);
    return duk_get_top_index(ctx);
}

/* Sets the entry of the key at key (holdable) to the value at value. */
static void weak_put(duk_context *ctx, weak_state_t *ws, duk_idx_t self, duk_idx_t key, duk_idx_t value)
{
    key = duk_normalize_index(ctx, key);
    value = duk_normalize_index(ctx, value);
    if (duk_is_object(ctx, key)) {
        if (has_slots(ctx, ws, key)) {
            if (ws->sym_v != NULL) {
                duk_dup(ctx, value);
                def_slot(ctx, key, ws->sym_v);
            }
            return;
        }
        if (!weak_find(ctx, ws, key, false) && put_slots(ctx, ws, key, value))
            return;
    }
    duk_idx_t holder = push_strong_created(ctx, ws, self);
    ew__otab_set(ctx, holder, key, value);
    duk_pop(ctx);
}

/* Removes the entry of the key at key; returns whether there was one. */
static bool weak_remove(duk_context *ctx, const weak_state_t *ws, duk_idx_t key)
{
    key = duk_normalize_index(ctx, key);
    if (duk_is_object(ctx, key) && has_slots(ctx, ws, key)) {
        /* The slots cannot be deleted (see def_slot): they become an undefined tombstone, which drops the
         * value; a later set() on the same key reuses them. */
        duk_push_undefined(ctx);
        def_slot(ctx, key, ws->sym_k);
        if (ws->sym_v != NULL) {
            duk_push_undefined(ctx);
            def_slot(ctx, key, ws->sym_v);
        }
        return true;
    }
    if (ws->strong == NULL)
        return false;
    duk_push_heapptr(ctx, ws->strong);
    bool removed = ew__otab_delete(ctx, -1, key);
    duk_pop(ctx);
    return removed;
}

/* ---------------------------------------------------------------------------------------------------------
 * Constructors
 */

/* Gives the object at self its weak state with two fresh slot names. */
static weak_state_t *init_state(duk_context *ctx, duk_idx_t self, uint32_t kind)
{
    self = duk_normalize_index(ctx, self);
    ew__coll_intrinsics_t *I = ew__coll_intrinsics(ctx);
    unsigned long long id = (unsigned long long) I->next_weak_id++;
    char name[40];
    weak_state_t *ws = duk_push_fixed_buffer(ctx, sizeof(*ws));
    ws->owner = duk_get_heapptr(ctx, self);
    ws->kind = kind;
    ew__coll_put_slot(ctx, self, K_WSTATE);
    duk_idx_t keep = duk_push_bare_array(ctx);
    int n = snprintf(name, sizeof(name), "\xff" "wk%llu", id);
    duk_push_lstring(ctx, name, (duk_size_t) n);
    ws->sym_k = duk_get_heapptr(ctx, -1);
    duk_put_prop_index(ctx, keep, 0);
    if (kind != W_SET) {
        n = snprintf(name, sizeof(name), "\xff" "wv%llu", id);
        duk_push_lstring(ctx, name, (duk_size_t) n);
        ws->sym_v = duk_get_heapptr(ctx, -1);
        duk_put_prop_index(ctx, keep, 1);
    }
    ew__coll_put_slot(ctx, self, K_WKEEP);
    return ws;
}

static void direct_weak_map_set(duk_context *ctx, duk_idx_t target, duk_idx_t key, duk_idx_t value)
{
    duk_get_prop_literal(ctx, target, K_WSTATE);
    weak_state_t *ws = duk_get_buffer(ctx, -1, NULL);
    duk_pop(ctx);
    require_holdable(ctx, key, "WeakMap.prototype.set");
    weak_put(ctx, ws, target, key, value);
}

static void direct_weak_set_add(duk_context *ctx, duk_idx_t target, duk_idx_t key, duk_idx_t value)
{
    (void) value;
    duk_get_prop_literal(ctx, target, K_WSTATE);
    weak_state_t *ws = duk_get_buffer(ctx, -1, NULL);
    duk_pop(ctx);
    require_holdable(ctx, key, "WeakSet.prototype.add");
    weak_put(ctx, ws, target, key, key);
}

static duk_ret_t weak_collection_ctor(duk_context *ctx, uint32_t kind)
{
    bool map = kind == W_MAP;
    if (!duk_is_constructor_call(ctx))
        return duk_type_error(ctx, "Constructor %s requires 'new'", map ? "WeakMap" : "WeakSet");
    duk_idx_t iterable = duk_get_top(ctx) > 0 ? 0 : -1;
    duk_push_this(ctx);
    duk_idx_t self = duk_get_top_index(ctx);
    init_state(ctx, self, kind);
    if (iterable < 0 || duk_is_null_or_undefined(ctx, iterable))
        return 0;
    const ew__coll_intrinsics_t *I = ew__coll_intrinsics(ctx);
    if (map)
        ew__coll_add_all(ctx, self, iterable, "set", I->weak_map_set, direct_weak_map_set, true);
    else
        ew__coll_add_all(ctx, self, iterable, "add", I->weak_set_add, direct_weak_set_add, false);
    return 0;
}

static duk_ret_t weak_map_ctor(duk_context *ctx)
{
    return weak_collection_ctor(ctx, W_MAP);
}

static duk_ret_t weak_set_ctor(duk_context *ctx)
{
    return weak_collection_ctor(ctx, W_SET);
}

/* ---------------------------------------------------------------------------------------------------------
 * WeakMap and WeakSet methods (this is pushed right after the fixed arguments)
 */

static duk_ret_t weak_map_get(duk_context *ctx)
{
    weak_state_t *ws = require_this(ctx, W_MAP, "WeakMap.prototype.get");
    if (hold_class(ctx, 0) == HOLD_NO || !weak_find(ctx, ws, 0, true))
        return 0;
    return 1;
}

static duk_ret_t weak_map_set(duk_context *ctx)
{
    weak_state_t *ws = require_this(ctx, W_MAP, "WeakMap.prototype.set");
    require_holdable(ctx, 0, "WeakMap.prototype.set");
    weak_put(ctx, ws, 2, 0, 1);
    return 1;
}

static duk_ret_t weak_has(duk_context *ctx, uint32_t kind, const char *what)
{
    weak_state_t *ws = require_this(ctx, kind, what);
    duk_push_boolean(ctx, hold_class(ctx, 0) != HOLD_NO && weak_find(ctx, ws, 0, false));
    return 1;
}

static duk_ret_t weak_delete(duk_context *ctx, uint32_t kind, const char *what)
{
    weak_state_t *ws = require_this(ctx, kind, what);
    duk_push_boolean(ctx, hold_class(ctx, 0) != HOLD_NO && weak_remove(ctx, ws, 0));
    return 1;
}

static duk_ret_t weak_map_has(duk_context *ctx)
{
    return weak_has(ctx, W_MAP, "WeakMap.prototype.has");
}

static duk_ret_t weak_map_delete(duk_context *ctx)
{
    return weak_delete(ctx, W_MAP, "WeakMap.prototype.delete");
}

static duk_ret_t weak_map_get_or_insert(duk_context *ctx)
{
    weak_state_t *ws = require_this(ctx, W_MAP, "WeakMap.prototype.getOrInsert");
    require_holdable(ctx, 0, "WeakMap.prototype.getOrInsert");
    if (weak_find(ctx, ws, 0, true))
        return 1;
    weak_put(ctx, ws, 2, 0, 1);
    duk_dup(ctx, 1);
    return 1;
}

static duk_ret_t weak_map_get_or_insert_computed(duk_context *ctx)
{
    weak_state_t *ws = require_this(ctx, W_MAP, "WeakMap.prototype.getOrInsertComputed");
    if (!duk_is_callable(ctx, 1))
        return duk_type_error(ctx, "WeakMap.prototype.getOrInsertComputed: callback is not a function");
    require_holdable(ctx, 0, "WeakMap.prototype.getOrInsertComputed");
    if (weak_find(ctx, ws, 0, true))
        return 1;
    duk_dup(ctx, 1);
    duk_push_undefined(ctx);
    duk_dup(ctx, 0);
    duk_call_method(ctx, 1);
    weak_put(ctx, ws, 2, 0, -1);
    return 1;
}

static duk_ret_t weak_set_add(duk_context *ctx)
{
    weak_state_t *ws = require_this(ctx, W_SET, "WeakSet.prototype.add");
    require_holdable(ctx, 0, "WeakSet.prototype.add");
    weak_put(ctx, ws, 1, 0, 0);
    return 1;
}

static duk_ret_t weak_set_has(duk_context *ctx)
{
    return weak_has(ctx, W_SET, "WeakSet.prototype.has");
}

static duk_ret_t weak_set_delete(duk_context *ctx)
{
    return weak_delete(ctx, W_SET, "WeakSet.prototype.delete");
}

/* ---------------------------------------------------------------------------------------------------------
 * Private names of lowered classes (lib/core/class_helpers.c): the class helpers' own WeakMaps and WeakSets,
 * read without a method call
 */

static weak_state_t *state_at(duk_context *ctx, duk_idx_t coll)
{
    weak_state_t *ws = NULL;
    if (duk_is_object(ctx, coll) && duk_get_prop_literal(ctx, coll, K_WSTATE))
        ws = duk_get_buffer(ctx, -1, NULL);
    duk_pop(ctx);
    if (ws == NULL || ws->owner != duk_get_heapptr(ctx, coll) || (ws->kind != W_MAP && ws->kind != W_SET))
        (void) duk_type_error(ctx, "not a WeakMap or WeakSet");
    return ws;
}

bool ew__weak_lookup(duk_context *ctx, duk_idx_t coll, duk_idx_t key, bool push_value)
{
    coll = duk_require_normalize_index(ctx, coll);
    key = duk_require_normalize_index(ctx, key);
    weak_state_t *ws = state_at(ctx, coll);
    return hold_class(ctx, key) != HOLD_NO && weak_find(ctx, ws, key, push_value && ws->kind == W_MAP);
}

void ew__weak_store(duk_context *ctx, duk_idx_t coll, duk_idx_t key, duk_idx_t value)
{
    coll = duk_require_normalize_index(ctx, coll);
    key = duk_require_normalize_index(ctx, key);
    value = duk_require_normalize_index(ctx, value);
    weak_state_t *ws = state_at(ctx, coll);
    require_holdable(ctx, key, ws->kind == W_MAP ? "WeakMap.prototype.set" : "WeakSet.prototype.add");
    weak_put(ctx, ws, coll, key, value);
}

/* ---------------------------------------------------------------------------------------------------------
 * WeakRef and FinalizationRegistry
 *
 * Best effort, as Duktape cannot observe collection. WeakRef holds its target STRONGLY: deref() always
 * returns it, and the target lives as long as the WeakRef (the spec never promises collection, but code
 * that caches through WeakRefs keeps everything alive). FinalizationRegistry validates register() and
 * unregister() and answers unregister() truthfully; its cleanup callback is NEVER called (also allowed:
 * the spec does not require cleanup to ever run). Only tokens are remembered, with the technique above
 * (a registration count on the token), so they are not kept alive; targets and held values are not
 * stored at all.
 */

static duk_ret_t weak_ref_ctor(duk_context *ctx)
{
    if (!duk_is_constructor_call(ctx))
        return duk_type_error(ctx, "Constructor WeakRef requires 'new'");
    duk_set_top(ctx, 1);
    require_holdable(ctx, 0, "WeakRef");
    duk_push_this(ctx);
    weak_state_t *ws = duk_push_fixed_buffer(ctx, sizeof(*ws));
    ws->owner = duk_get_heapptr(ctx, 1);
    ws->kind = W_REF;
    ew__coll_put_slot(ctx, 1, K_WSTATE);
    duk_dup(ctx, 0); /* held strongly: see the top of this file */
    ew__coll_put_slot(ctx, 1, K_REF);
    return 0;
}

static duk_ret_t weak_ref_deref(duk_context *ctx)
{
    require_this(ctx, W_REF, "WeakRef.prototype.deref");
    duk_get_prop_literal(ctx, -1, K_REF);
    return 1;
}

static duk_ret_t registry_ctor(duk_context *ctx)
{
    if (!duk_is_constructor_call(ctx))
        return duk_type_error(ctx, "Constructor FinalizationRegistry requires 'new'");
    duk_set_top(ctx, 1);
    if (!duk_is_callable(ctx, 0))
        return duk_type_error(ctx, "FinalizationRegistry: cleanup callback is not a function");
    duk_push_this(ctx);
    init_state(ctx, 1, W_REGISTRY);
    duk_dup(ctx, 0);
    ew__coll_put_slot(ctx, 1, K_CLEANUP);
    return 0;
}

/* register(target, heldValue, unregisterToken): validated; only the token is remembered (a count of its
 * registrations, weakly), so that unregister() answers truthfully. nargs 3: this at 3. */
static duk_ret_t registry_register(duk_context *ctx)
{
    weak_state_t *ws = require_this(ctx, W_REGISTRY, "FinalizationRegistry.prototype.register");
    require_holdable(ctx, 0, "FinalizationRegistry.prototype.register");
    if (duk_samevalue(ctx, 0, 1))
        return duk_type_error(ctx, "FinalizationRegistry.prototype.register: target and held value are the same");
    if (hold_class(ctx, 2) == HOLD_NO) {
        if (!duk_is_undefined(ctx, 2))
            return duk_type_error(ctx, "FinalizationRegistry.prototype.register: invalid unregister token");
        return 0;
    }
    double count = 0;
    if (weak_find(ctx, ws, 2, true)) {
        count = duk_get_number_default(ctx, -1, 0);
        duk_pop(ctx);
    }
    duk_push_number(ctx, count + 1);
    weak_put(ctx, ws, 3, 2, -1);
    return 0;
}

static duk_ret_t registry_unregister(duk_context *ctx)
{
    weak_state_t *ws = require_this(ctx, W_REGISTRY, "FinalizationRegistry.prototype.unregister");
    require_holdable(ctx, 0, "FinalizationRegistry.prototype.unregister");
    duk_push_boolean(ctx, weak_remove(ctx, ws, 0));
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Installation: JS names -> C functions
 */

static const ew__method_t weak_map_methods[] = {
    { "get", weak_map_get, 1, 1 },
    { "set", weak_map_set, 2, 2 },
    { "has", weak_map_has, 1, 1 },
    { "delete", weak_map_delete, 1, 1 },
    { "getOrInsert", weak_map_get_or_insert, 2, 2 },
    { "getOrInsertComputed", weak_map_get_or_insert_computed, 2, 2 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t weak_set_methods[] = {
    { "add", weak_set_add, 1, 1 },
    { "has", weak_set_has, 1, 1 },
    { "delete", weak_set_delete, 1, 1 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t weak_ref_methods[] = {
    { "deref", weak_ref_deref, 0, 0 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t registry_methods[] = {
    { "register", registry_register, 3, 2 },
    { "unregister", registry_unregister, 1, 1 },
    { NULL, NULL, 0, 0 },
};

typedef struct weak_class {
    const char *name;
    duk_c_function ctor;
    int length;
    const ew__method_t *methods;
    const char *adder;  /* recorded in the intrinsics for the constructor's fast path, or NULL */
} weak_class_t;

static const weak_class_t classes[] = {
    { "WeakMap", weak_map_ctor, 0, weak_map_methods, "set" },
    { "WeakSet", weak_set_ctor, 0, weak_set_methods, "add" },
    { "WeakRef", weak_ref_ctor, 1, weak_ref_methods, NULL },
    { "FinalizationRegistry", registry_ctor, 1, registry_methods, NULL },
};

void ew__coll_weak_init(duk_context *ctx, duk_idx_t global)
{
    global = duk_normalize_index(ctx, global);
    ew__coll_intrinsics_t *I = ew__coll_intrinsics(ctx);
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
        const weak_class_t *k = &classes[c];
        duk_idx_t proto = duk_push_object(ctx);
        ew__coll_def_methods(ctx, proto, k->methods);
        ew__coll_def_tag(ctx, proto, k->name);
        if (k->adder != NULL) {
            duk_get_prop_string(ctx, proto, k->adder);
            *(c == 0 ? &I->weak_map_set : &I->weak_set_add) = duk_get_heapptr(ctx, -1);
            ew__coll_keep(ctx);
        }
        ew__coll_push_ctor(ctx, k->ctor, k->name, k->length, proto);
        ew__def_hidden_value(ctx, global, k->name);
        duk_pop(ctx);
    }
}
