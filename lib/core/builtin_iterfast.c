/*
 * builtin_iterfast.c — the helpers that lowered for-of loops, array patterns and spread call on every
 * iteration, in C: $ew.iterFast (for-of), $ew.arr (array destructuring), $ew.spread and $ew.concat (spread
 * in array literals and calls), and $ew.objectData (the plain properties after an object spread).
 * lib/compile/lower_forof.c, lower_destructure.c, lower_spread.c and lower_misc.c emit the calls;
 * lib/js/helpers.js keeps the iterator-protocol versions, which the C functions call (kept in the stash table,
 * the C function's magic is their slot) when the fast path does not apply.
 *
 * The fast path: iterating a value with %ArrayIteratorPrototype% reads `length` and then the element at each
 * step, nothing else, so indexing it gives the same values with the same observable reads, without the
 * iterator and result objects. That holds when the value's @@iterator (read once, as GetIterator reads it)
 * is the intrinsic Array.prototype.values, %ArrayIteratorPrototype%.next is still the intrinsic one, and
 * no `return` method has been added to the array iterator's prototype chain (it would be called on an early
 * exit). Like V8's protectors, but checked per use since Duktape cannot tell us of writes; the check walks
 * property tables without running code (ew__duk_iter_is_index, lib/duk/prepare.py), and only when that cannot
 * decide (a Proxy, an accessor) is @@iterator read with [[Get]]. Typed arrays (the iterator reads their
 * internal length) and strings (code points) take the protocol path.
 */
#include <string.h>

#include "builtins.h"
#include "isolate.h"

#define K_TABLE DUK_HIDDEN_SYMBOL("biIterFast")
#define CLASS_ARRAY 2     /* Duktape's DUK_HOBJECT_CLASS_ARRAY */
#define CLASS_ARGUMENTS 4 /* Duktape's DUK_HOBJECT_CLASS_ARGUMENTS */

/* Heap pointers of the intrinsics the check compares with and of the keys it looks up; the stash (K_TABLE's
 * array) keeps them alive. `keys` is in the order ew__duk_iter_is_index (lib/duk/prepare.py) takes. */
typedef struct iter_intrinsics {
    void *values;  /* Array.prototype.values */
    void *keys[6]; /* @@iterator, values, %ArrayIteratorPrototype%, "next", its next, "return" */
} iter_intrinsics_t;

static const iter_intrinsics_t *intrinsics(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && iso->iter_intrinsics != NULL)
        return iso->iter_intrinsics;
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_TABLE);
    duk_get_prop_index(ctx, -1, 5);
    const iter_intrinsics_t *t = duk_get_buffer_data(ctx, -1, NULL);
    duk_pop_3(ctx);
    if (iso != NULL)
        iso->iter_intrinsics = t;
    return t;
}

/* Whether iterating the value at x is indexing it, if that is known without reading anything with [[Get]]. */
static bool known_indexable(duk_context *ctx, duk_idx_t x)
{
    return ew__duk_iter_is_index(ctx, x, intrinsics(ctx)->keys) == 1;
}

/* Whether iterating the value at x, whose @@iterator method is the value at f, is indexing it (above). */
static bool indexable(duk_context *ctx, duk_idx_t x, duk_idx_t f)
{
    if (!duk_is_object(ctx, x) || duk_is_buffer_data(ctx, x))
        return false;
    const iter_intrinsics_t *t = intrinsics(ctx);
    if (duk_get_heapptr(ctx, f) != t->values) {
        /* Duktape's arguments objects have no @@iterator; the specification gives them the array one */
        if (!duk_is_undefined(ctx, f) || ew__duk_class_number(ctx, x) != CLASS_ARGUMENTS)
            return false;
    }
    /* the iterator's next and return, looked up without running a getter the spec would not run */
    return ew__duk_iter_is_index(ctx, DUK_INVALID_INDEX, t->keys) == 1;
}

/* Replaces the call's frame by a call of the script version with (args 0..nargs-1, the @@iterator method
 * at f): the iterator protocol, given the method already read. */
static duk_ret_t call_slow(duk_context *ctx, duk_idx_t nargs, duk_idx_t f)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_TABLE);
    duk_get_prop_index(ctx, -1, (duk_uarridx_t) duk_get_current_magic(ctx));
    duk_push_undefined(ctx);
    for (duk_idx_t i = 0; i < nargs; i++)
        duk_dup(ctx, i);
    duk_dup(ctx, f);
    duk_call_method(ctx, nargs + 1);
    return 1;
}

/* Pushes x[@@iterator] (x at 0; null and undefined give undefined: the script version throws for them). */
static duk_idx_t push_method(duk_context *ctx)
{
    if (duk_is_null_or_undefined(ctx, 0)) {
        duk_push_undefined(ctx);
    } else {
        duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
        duk_get_prop(ctx, 0);
    }
    return duk_get_top_index(ctx);
}

/* $ew.iterFast(x) (for-of): null when indexing x is iterating it, else its iterator. */
static duk_ret_t iter_fast(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    if (known_indexable(ctx, 0)) { /* most calls end here */
        duk_push_null(ctx);
        return 1;
    }
    duk_idx_t f = push_method(ctx);
    if (indexable(ctx, 0, f)) {
        duk_push_null(ctx);
        return 1;
    }
    return call_slow(ctx, 1, f);
}

/* $ew.arr(x, n) (array pattern of n elements before any rest): x itself when indexing is iterating, else
 * an array of its first n values (all with n < 0), the iterator closed if it was not done. */
static duk_ret_t arr(duk_context *ctx)
{
    duk_set_top(ctx, 2);
    if (known_indexable(ctx, 0)) {
        duk_dup(ctx, 0);
        return 1;
    }
    duk_idx_t f = push_method(ctx);
    if (indexable(ctx, 0, f)) {
        duk_dup(ctx, 0);
        return 1;
    }
    return call_slow(ctx, 2, f);
}

/* The length of the value at idx as the array iterator reads it; a plain Array's directly. */
static double length_of(duk_context *ctx, duk_idx_t idx)
{
    if (ew__duk_class_number(ctx, idx) == CLASS_ARRAY && !ew__duk_is_proxy(ctx, idx))
        return (double) duk_get_length(ctx, idx);
    return ew__bi_length(ctx, idx);
}

/* Values for a new array are pushed on the value stack and packed into one (ew__duk_pack: one allocation, the
 * intrinsic Array.prototype, elements stored as CreateDataProperty would, no setter called). At most this
 * many: more would need a value stack as large. */
#define PACK_MAX 100000

static void spread_item(duk_context *ctx, void *udata, double index)
{
    if (index >= UINT32_MAX - 1)
        (void) duk_range_error(ctx, "Invalid array length");
    duk_put_prop_index(ctx, *(duk_idx_t *) udata, (duk_uarridx_t) index);
}

/* [...x] of any other iterable with an @@iterator method f (Set, Map, strings, generators): the protocol in C
 * (ew__bi_iterate), into an array without a prototype until it is full (a setter of an Array.prototype index
 * must not run: the elements are CreateDataProperty). */
static duk_ret_t spread_protocol(duk_context *ctx, duk_idx_t f)
{
    duk_idx_t a = duk_push_bare_array(ctx);
    ew__bi_iterate(ctx, 0, f, spread_item, &a);
    duk_push_array(ctx); /* made with the intrinsic Array.prototype, whatever the global Array now is */
    duk_get_prototype(ctx, -1);
    duk_set_prototype(ctx, a);
    duk_pop(ctx);
    return 1;
}

/* $ew.spread(x) ([...x], f(...x)): a fresh array of x's values. Holes read as undefined (through the
 * prototype chain, like the iterator), length is read at every step like the iterator does. */
static duk_ret_t spread(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    duk_idx_t f = 0;
    if (!known_indexable(ctx, 0)) {
        f = push_method(ctx);
        if (!indexable(ctx, 0, f))
            return duk_is_function(ctx, f) ? spread_protocol(ctx, f) : call_slow(ctx, 1, f);
    }
    duk_int_t dense = ew__duk_push_dense_items(ctx, 0);
    if (dense >= 0) {
        ew__duk_pack(ctx, dense);
        return 1;
    }
    duk_uarridx_t k = 0;
    bool more = true; /* the last length read allowed another item */
    while (k < PACK_MAX && (more = k < length_of(ctx, 0))) {
        duk_require_stack(ctx, 1);
        duk_get_prop_index(ctx, 0, k++);
    }
    ew__duk_pack(ctx, (duk_idx_t) k);
    for (double i = k; more && i < length_of(ctx, 0); i++) { /* a long one: the rest one by one */
        ew__bi_get(ctx, 0, i);
        ew__bi_define(ctx, -2, i);
    }
    return 1;
}

/* $ew.concat(a, b, ...) ([a, ...b, c]): a fresh array of the arrays the compiler made (literal pieces and
 * results of $ew.spread) one after another, keeping the literal pieces' holes (then written one by one). */
static duk_ret_t concat(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    double total = 0;
    for (duk_idx_t i = 0; i < n; i++)
        total += (double) duk_get_length(ctx, i);
    if (total >= UINT32_MAX)
        return duk_range_error(ctx, "Invalid array length");
    if (total <= PACK_MAX) {
        duk_idx_t i = 0;
        while (i < n && ew__duk_push_dense_items(ctx, i) >= 0) /* not when a literal piece has a hole */
            i++;
        if (i == n) {
            ew__duk_pack(ctx, (duk_idx_t) total);
            return 1;
        }
        duk_set_top(ctx, n);
    }
    duk_idx_t a = duk_push_array(ctx);
    double len = 0;
    for (duk_idx_t i = 0; i < n; i++) {
        duk_size_t m = duk_get_length(ctx, i);
        for (duk_uarridx_t k = 0; k < m; k++) {
            if (duk_get_prop_index(ctx, i, k)) /* present: not a hole of a literal piece */
                ew__bi_define(ctx, a, len + k);
            else
                duk_pop(ctx);
        }
        len += (double) m;
    }
    duk_push_number(ctx, len);
    duk_put_prop_literal(ctx, a, "length");
    return 1;
}

/* $ew.objectData(target, key, value, ...) (the `k: v` properties after a spread, `{...o, k: v}`): defines
 * each key as an enumerable, writable, configurable data property of target in order, as the literal would
 * (no setter of Object.prototype is called); returns target. */
static duk_ret_t object_data(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    for (duk_idx_t i = 1; i + 1 < n; i += 2) {
        duk_dup(ctx, i);
        duk_dup(ctx, i + 1);
        duk_def_prop(ctx, 0, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
    }
    duk_set_top(ctx, 1);
    return 1;
}

/* Replaces helpers[name] by the C function fn, keeping the script version (if slot > 0) in the stash table at
 * slot, which is fn's magic. Lightweight functions: a call costs less than one of a function object. */
static void install(duk_context *ctx, duk_idx_t helpers, const char *name, duk_c_function fn, duk_idx_t nargs,
                    int slot)
{
    if (slot > 0) {
        duk_push_heap_stash(ctx);
        duk_get_prop_literal(ctx, -1, K_TABLE);
        duk_get_prop_string(ctx, helpers, name);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) slot);
        duk_pop_2(ctx);
    }
    duk_push_c_lightfunc(ctx, fn, nargs, nargs == DUK_VARARGS ? 0 : nargs, slot);
    duk_put_prop_string(ctx, helpers, name);
}

/* Keeps the intrinsics in the heap stash: [values, proto, next, "next", "return", table buffer, @@iterator]
 * (then the script versions, install()). Runs before user code. */
static void keep_intrinsics(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    if (duk_has_prop_literal(ctx, -1, K_TABLE)) {
        duk_pop(ctx);
        return;
    }
    duk_idx_t table = duk_push_bare_array(ctx);
    duk_get_global_literal(ctx, "Array");
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_get_prop(ctx, -2);                /* values */
    duk_dup_top(ctx);
    duk_push_array(ctx);
    duk_call_method(ctx, 0);              /* an array iterator */
    duk_get_prototype(ctx, -1);
    duk_remove(ctx, -2);                  /* proto */
    duk_get_prop_literal(ctx, -1, "next"); /* next */
    duk_push_literal(ctx, "next");
    duk_push_literal(ctx, "return");
    iter_intrinsics_t *t = duk_push_fixed_buffer(ctx, sizeof(*t));
    t->values = duk_get_heapptr(ctx, -6);
    void *keys[6] = {NULL, t->values, duk_get_heapptr(ctx, -5), duk_get_heapptr(ctx, -3), duk_get_heapptr(ctx, -4),
                     duk_get_heapptr(ctx, -2)};
    memcpy(t->keys, keys, sizeof(keys));
    for (duk_uarridx_t i = 6; i-- > 0;)
        duk_put_prop_index(ctx, table, i);
    duk_pop_2(ctx); /* Array, Array.prototype */
    /* the symbol key: a string the stash keeps (Symbol.iterator is one interned string for the heap) */
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    t->keys[0] = duk_get_heapptr(ctx, -1);
    duk_put_prop_index(ctx, table, 6);
    duk_put_prop_literal(ctx, -2, K_TABLE);
    duk_pop(ctx);
}

void ew__bi_iterfast_install(duk_context *ctx, duk_idx_t helpers)
{
    helpers = duk_normalize_index(ctx, helpers);
    keep_intrinsics(ctx);
    install(ctx, helpers, "iterFast", iter_fast, 1, 7);
    install(ctx, helpers, "spread", spread, 1, 8);
    install(ctx, helpers, "arr", arr, 2, 9);
    install(ctx, helpers, "concat", concat, DUK_VARARGS, 0);
    install(ctx, helpers, "objectData", object_data, DUK_VARARGS, 0);
}

/* JS names -> C functions of this file:
 *   $ew.iterFast     iter_fast
 *   $ew.arr          arr
 *   $ew.spread       spread
 *   $ew.concat       concat
 *   $ew.objectData   object_data
 */
