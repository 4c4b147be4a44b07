/*
 * collections.c — installs the keyed collections (Map, Set, WeakMap, WeakSet, WeakRef,
 * FinalizationRegistry; ECMA-262 §24, §26) on a fresh heap, and holds what their
 * files share: the intrinsics record, helpers that build built-in functions the way the spec describes
 * them, and the iteration protocol with IteratorClose used by every constructor that takes an iterable.
 * ew__collections_init() is called by the isolate's setup_runtime() after ew__promise_init().
 *
 * The parts: ordered_table.c (the hash table behind Map and Set), map_set.c (Map, Set, their iterators),
 * weak.c (WeakMap, WeakSet, WeakRef, FinalizationRegistry). Shared declarations: collections.h.
 * Every call of user code that this module catches is protected and honours invariant 2 of internal.h.
 */
#include <assert.h>
#include <string.h>

#include "builtins.h"
#include "collections.h"

#define K_INTRINSICS DUK_HIDDEN_SYMBOL("cI") /* heap stash: fixed buffer holding ew__coll_intrinsics_t */
#define K_KEEP DUK_HIDDEN_SYMBOL("cK")       /* heap stash: array keeping the intrinsics reachable */

ew__coll_intrinsics_t *ew__coll_intrinsics(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_INTRINSICS);
    ew__coll_intrinsics_t *I = duk_get_buffer(ctx, -1, NULL);
    duk_pop_2(ctx);
    assert(I != NULL && "ew__collections_init() not called");
    return I;
}

void ew__coll_keep(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_KEEP);
    duk_dup(ctx, -3);
    duk_put_prop_index(ctx, -2, (duk_uarridx_t) duk_get_length(ctx, -2));
    duk_pop_3(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Building built-ins
 */

#define FIXED_ATTRS (DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_CLEAR_WEC)

/* Duktape gives C functions %NativeFunctionPrototype% (getters for length and name); built-ins have their
 * own length and name and %Function.prototype%, as the spec wants. */
static void set_function_proto(duk_context *ctx, duk_idx_t fn)
{
    fn = duk_normalize_index(ctx, fn);
    duk_push_heapptr(ctx, ew__coll_intrinsics(ctx)->fn_proto);
    duk_set_prototype(ctx, fn);
}

/* Gives the function at fn its own `length` and `name` (read-only, configurable). */
static void set_length_name(duk_context *ctx, duk_idx_t fn, int length, const char *name)
{
    fn = duk_normalize_index(ctx, fn);
    duk_push_literal(ctx, "length");
    duk_push_int(ctx, length);
    duk_def_prop(ctx, fn, FIXED_ATTRS | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "name");
    duk_push_string(ctx, name);
    duk_def_prop(ctx, fn, FIXED_ATTRS | DUK_DEFPROP_SET_CONFIGURABLE);
}

void ew__coll_push_ctor(duk_context *ctx, duk_c_function fn, const char *name, int length, duk_idx_t proto)
{
    proto = duk_normalize_index(ctx, proto);
    duk_idx_t ctor = duk_push_c_function(ctx, fn, DUK_VARARGS);
    set_function_proto(ctx, ctor);
    set_length_name(ctx, ctor, length, name);
    duk_push_literal(ctx, "prototype");
    duk_dup(ctx, proto);
    duk_def_prop(ctx, ctor, FIXED_ATTRS);
    duk_dup(ctx, ctor);
    ew__def_hidden_value(ctx, proto, "constructor");
}

void ew__coll_def_methods(duk_context *ctx, duk_idx_t obj, const ew__method_t *methods)
{
    obj = duk_normalize_index(ctx, obj);
    ew__def_methods(ctx, obj, methods);
    for (const ew__method_t *m = methods; m->name != NULL; m++) {
        duk_get_prop_string(ctx, obj, m->name);
        set_function_proto(ctx, -1);
        duk_pop(ctx);
    }
}

void ew__coll_def_getter(duk_context *ctx, duk_idx_t obj, const char *name, void *sym, duk_c_function fn)
{
    obj = duk_normalize_index(ctx, obj);
    if (sym != NULL)
        duk_push_heapptr(ctx, sym);
    else
        duk_push_string(ctx, name);
    duk_push_c_function(ctx, fn, 0);
    set_function_proto(ctx, -1);
    duk_push_sprintf(ctx, sym != NULL ? "get [%s]" : "get %s", name);
    set_length_name(ctx, -2, 0, duk_get_string(ctx, -1));
    duk_pop(ctx);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
}

void ew__coll_def_tag(duk_context *ctx, duk_idx_t obj, const char *tag)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_heapptr(ctx, ew__coll_intrinsics(ctx)->to_string_tag);
    duk_push_string(ctx, tag);
    duk_def_prop(ctx, obj, FIXED_ATTRS | DUK_DEFPROP_SET_CONFIGURABLE);
}

static duk_ret_t get_species(duk_context *ctx)
{
    duk_push_this(ctx);
    return 1;
}

void ew__coll_def_species(duk_context *ctx, duk_idx_t obj)
{
    ew__coll_def_getter(ctx, obj, "Symbol.species", ew__coll_intrinsics(ctx)->species, get_species);
}

void ew__coll_put_slot(duk_context *ctx, duk_idx_t obj, const char *key)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_string(ctx, key);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
}

duk_ret_t ew__coll_bad_this(duk_context *ctx, const char *what)
{
    return duk_type_error(ctx, "%s: incompatible receiver", what);
}

/* ---------------------------------------------------------------------------------------------------------
 * Iteration protocol
 */

/* True if the method at m is %Array.prototype.values% and %ArrayIteratorPrototype%.next is unchanged. */
static bool is_intrinsic_array_iteration(duk_context *ctx, const ew__coll_intrinsics_t *I, duk_idx_t m)
{
    if (I->array_values == NULL || duk_get_heapptr(ctx, m) != I->array_values)
        return false;
    duk_push_heapptr(ctx, I->array_iter_proto);
    duk_get_prop_literal(ctx, -1, "next");
    bool same = duk_get_heapptr(ctx, -1) == I->array_iter_next;
    duk_pop_2(ctx);
    return same;
}

static bool coll_fast_array(duk_context *ctx, duk_idx_t m)
{
    return is_intrinsic_array_iteration(ctx, ew__coll_intrinsics(ctx), m);
}

void ew__coll_get_iterator(duk_context *ctx, duk_idx_t v, ew__coll_iter_t *it)
{
    ew__iter_open(ctx, v, it, coll_fast_array);
}

typedef struct add_job {
    duk_idx_t target, adder;
    ew__coll_add_fn direct;  /* NULL: call the adder */
    bool pairs;
} add_job_t;

/* Adds the item on top (popped) to the target: one step of AddEntriesFromIterable. May throw. */
static void add_item(duk_context *ctx, const add_job_t *job)
{
    duk_idx_t item = duk_get_top_index(ctx);
    if (job->pairs) {
        if (!duk_is_object(ctx, item))
            (void) duk_type_error(ctx, "iterator value is not an entry object");
        duk_get_prop_index(ctx, item, 0);
        duk_get_prop_index(ctx, item, 1);
    }
    duk_idx_t key = job->pairs ? item + 1 : item;
    if (job->direct != NULL) {
        job->direct(ctx, job->target, key, job->pairs ? item + 2 : key);
    } else {
        duk_dup(ctx, job->adder);
        duk_dup(ctx, job->target);
        duk_dup(ctx, key);
        if (job->pairs)
            duk_dup(ctx, item + 2);
        duk_call_method(ctx, job->pairs ? 2 : 1);
    }
    duk_set_top(ctx, item);
}

static duk_ret_t add_item_safe(duk_context *ctx, void *udata)
{
    add_item(ctx, udata);
    return 0;
}

void ew__coll_add_all(duk_context *ctx, duk_idx_t target, duk_idx_t iterable, const char *adder_name,
                      void *intrinsic, ew__coll_add_fn direct, bool pairs)
{
    duk_idx_t base = duk_get_top(ctx);
    add_job_t job = { duk_normalize_index(ctx, target), base, NULL, pairs };
    iterable = duk_normalize_index(ctx, iterable);
    duk_get_prop_string(ctx, job.target, adder_name);
    if (!duk_is_callable(ctx, job.adder))
        (void) duk_type_error(ctx, "'%s' of the new collection is not callable", adder_name);
    if (duk_get_heapptr(ctx, job.adder) == intrinsic)
        job.direct = direct;
    ew__coll_iter_t it;
    ew__coll_get_iterator(ctx, iterable, &it);
    while (ew__coll_iter_step(ctx, &it)) {
        if (it.kind != EW__IT_PROTOCOL) { /* nothing to close: no protected call needed */
            add_item(ctx, &job);
            continue;
        }
        if (duk_safe_call(ctx, add_item_safe, &job, 1, 1) != DUK_EXEC_SUCCESS) {
            if (!ew__isolate_aborting(ctx))
                ew__coll_iter_close(ctx, &it);
            (void) duk_throw(ctx);
        }
        duk_pop(ctx);
    }
    duk_set_top(ctx, base);
}

/* ---------------------------------------------------------------------------------------------------------
 * %IteratorPrototype% and installation
 */

/* Pushes the well-known symbol Symbol[name], creating it (non-writable, like the others) if the engine
 * lacks it: Duktape 2.7 has no Symbol.species (promise.c creates it first, normally). */
static void push_well_known_symbol(duk_context *ctx, const char *name)
{
    duk_get_global_literal(ctx, "Symbol");
    if (duk_get_prop_string(ctx, -1, name) && duk_is_symbol(ctx, -1)) {
        duk_remove(ctx, -2);
        return;
    }
    duk_pop(ctx);
    duk_dup(ctx, -1);
    duk_push_sprintf(ctx, "Symbol.%s", name);
    duk_call(ctx, 1);
    duk_push_string(ctx, name);
    duk_dup(ctx, -2);
    duk_def_prop(ctx, -4, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
    duk_remove(ctx, -2);
}

/* Stores the heap pointer of the value on top in *slot and keeps the value reachable (popped). */
static void intrinsic(duk_context *ctx, void **slot)
{
    *slot = duk_get_heapptr(ctx, -1);
    ew__coll_keep(ctx);
}

/* Records %IteratorPrototype%, which builtin_iter.c owns. */
static void init_iterator_prototype(duk_context *ctx, ew__coll_intrinsics_t *I)
{
    ew__bi_push_iterator_prototype(ctx);
    I->iter_proto = duk_get_heapptr(ctx, -1);
    duk_pop(ctx);
}

/* Records the intrinsics of array iteration, if the engine's built-ins (builtin_iter.c) installed them
 * before: Array.prototype[@@iterator], %ArrayIteratorPrototype% and its next. */
static void init_array_iteration(duk_context *ctx, ew__coll_intrinsics_t *I)
{
    duk_idx_t base = duk_get_top(ctx);
    duk_idx_t arr = duk_push_array(ctx);
    duk_push_heapptr(ctx, I->iterator);
    duk_get_prop(ctx, arr);
    duk_idx_t values = duk_get_top_index(ctx);
    if (duk_is_callable(ctx, values)) {
        duk_dup(ctx, values);
        duk_dup(ctx, arr);
        duk_call_method(ctx, 0);
        duk_get_prototype(ctx, -1);
        duk_idx_t proto = duk_get_top_index(ctx);
        duk_get_prop_literal(ctx, proto, "next");
        if (duk_is_object(ctx, proto) && duk_is_callable(ctx, -1)) {
            intrinsic(ctx, &I->array_iter_next);
            duk_dup(ctx, proto);
            intrinsic(ctx, &I->array_iter_proto);
            duk_dup(ctx, values);
            intrinsic(ctx, &I->array_values);
        }
    }
    duk_set_top(ctx, base);
}

void ew__collections_init(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    ew__coll_intrinsics_t *I = duk_push_fixed_buffer(ctx, sizeof(*I));
    memset(I, 0, sizeof(*I));
    duk_put_prop_literal(ctx, -2, K_INTRINSICS);
    duk_push_bare_array(ctx);
    duk_put_prop_literal(ctx, -2, K_KEEP);
    duk_pop(ctx);

    duk_get_global_literal(ctx, "Function");
    duk_get_prop_literal(ctx, -1, "prototype");
    intrinsic(ctx, &I->fn_proto);
    duk_pop(ctx);
    push_well_known_symbol(ctx, "iterator");
    intrinsic(ctx, &I->iterator);
    push_well_known_symbol(ctx, "species");
    intrinsic(ctx, &I->species);
    push_well_known_symbol(ctx, "toStringTag");
    intrinsic(ctx, &I->to_string_tag);
    init_iterator_prototype(ctx, I);
    init_array_iteration(ctx, I);

    duk_push_global_object(ctx);
    ew__coll_map_set_init(ctx, -1);
    ew__coll_weak_init(ctx, -1);
    duk_pop(ctx);
}

/* JS names -> C functions of this file:
 *   get Map[Symbol.species], get Set[Symbol.species]   get_species (via ew__coll_def_species)
 */
