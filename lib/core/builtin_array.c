/*
 * builtin_array.c — the ES2015–ES2023 Array methods Duktape 2.7 lacks (from, of, at, find*, includes, fill,
 * copyWithin, flat/flatMap, keys/values/entries, toSorted/toReversed/toSpliced/with, get [Symbol.species])
 * and a stable Array.prototype.sort (ES2019) in place of Duktape's unstable one. The methods that
 * %TypedArray%.prototype shares (at, find*, includes, fill, copyWithin, iterators, sort) take a TYPED magic
 * bit and are installed there by builtin_typed.c. Also the index/length helpers of builtins.h.
 *
 * All methods are generic over array-likes, as ECMA-262 23.1.3 says: `this` goes through ToObject, the
 * length through ToLength, and reads and writes are ordinary Get/Set/HasProperty/CreateDataProperty, so
 * proxies, getters and holes behave as in engines. Sorting is a merge sort over a permutation of indices
 * (sort_perm); the values sit in a private bare array, so a comparator that mutates the array being sorted
 * cannot disturb it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"

#define MAX_SAFE 9007199254740991.0
#define MAX_ARRAY_INDEX 4294967294.0 /* a duk_uarridx_t that is still an array index */

/* Heap stash: [0] the @@species symbol found or made at init. */
#define K_ARRAY DUK_HIDDEN_SYMBOL("biArray")

/* ---------------------------------------------------------------------------------------------------------
 * Helpers shared through builtins.h
 */

static void push_key(duk_context *ctx, double k)
{
    duk_push_number(ctx, k);
    duk_to_string(ctx, -1);
}

void ew__bi_get(duk_context *ctx, duk_idx_t obj, double k)
{
    if (k <= MAX_ARRAY_INDEX) {
        duk_get_prop_index(ctx, obj, (duk_uarridx_t) k);
        return;
    }
    obj = duk_normalize_index(ctx, obj);
    push_key(ctx, k);
    duk_get_prop(ctx, obj);
}

bool ew__bi_has(duk_context *ctx, duk_idx_t obj, double k)
{
    if (k <= MAX_ARRAY_INDEX)
        return duk_has_prop_index(ctx, obj, (duk_uarridx_t) k);
    obj = duk_normalize_index(ctx, obj);
    push_key(ctx, k);
    return duk_has_prop(ctx, obj);
}

void ew__bi_put(duk_context *ctx, duk_idx_t obj, double k)
{
    if (k <= MAX_ARRAY_INDEX) {
        duk_put_prop_index(ctx, obj, (duk_uarridx_t) k);
        return;
    }
    obj = duk_normalize_index(ctx, obj);
    push_key(ctx, k);
    duk_swap_top(ctx, -2);
    duk_put_prop(ctx, obj);
}

static void delete_index(duk_context *ctx, duk_idx_t obj, double k)
{
    if (k <= MAX_ARRAY_INDEX) {
        duk_del_prop_index(ctx, obj, (duk_uarridx_t) k);
        return;
    }
    obj = duk_normalize_index(ctx, obj);
    push_key(ctx, k);
    duk_del_prop(ctx, obj);
}

void ew__bi_define(duk_context *ctx, duk_idx_t obj, double k)
{
    obj = duk_normalize_index(ctx, obj);
    if (k <= MAX_ARRAY_INDEX)
        duk_push_uint(ctx, (duk_uint_t) k);
    else
        push_key(ctx, k);
    duk_swap_top(ctx, -2);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
}

double ew__bi_to_integer(duk_context *ctx, duk_idx_t idx)
{
    double d = duk_to_number(ctx, idx);
    if (isnan(d))
        return 0;
    return trunc(d) + 0.0; /* + 0.0: -0 becomes +0 */
}

double ew__bi_length(duk_context *ctx, duk_idx_t obj)
{
    duk_get_prop_literal(ctx, obj, "length");
    double len = ew__bi_to_integer(ctx, -1);
    duk_pop(ctx);
    return len <= 0 ? 0 : len > MAX_SAFE ? MAX_SAFE : len;
}

bool ew__bi_same_value_zero(duk_context *ctx, duk_idx_t a, duk_idx_t b)
{
    if (duk_is_number(ctx, a) && duk_is_number(ctx, b)) {
        double x = duk_get_number(ctx, a), y = duk_get_number(ctx, b);
        return x == y || (isnan(x) && isnan(y));
    }
    return duk_strict_equals(ctx, a, b);
}

void ew__bi_push_array(duk_context *ctx, double len)
{
    if (len > 4294967295.0)
        (void) duk_range_error(ctx, "invalid array length");
    duk_push_array(ctx);
    if (len > 0) {
        duk_push_number(ctx, len);
        duk_put_prop_literal(ctx, -2, "length");
    }
}

bool ew__bi_is_typed_array(duk_context *ctx, duk_idx_t idx)
{
    return ew__bi_typed_kind(ctx, idx) >= 0;
}

int ew__bi_typed_kind(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx) || !duk_is_buffer_data(ctx, idx))
        return -1;
    duk_inspect_value(ctx, idx); /* the only public view of the object's class */
    duk_get_prop_literal(ctx, -1, "class");
    int cls = duk_get_int(ctx, -1) - EW__BI_CLASS_INT8ARRAY;
    duk_pop_2(ctx);
    return cls >= 0 && cls < EW__BI_TYPED_KINDS ? cls : -1;
}

/* Pushes ToObject(this) (or, with EW__BI_TYPED in magic, this after ValidateTypedArray) and returns its
 * index; *len gets its length. */
duk_idx_t ew__bi_push_this(duk_context *ctx, double *len)
{
    duk_push_this(ctx);
    duk_idx_t o = duk_get_top_index(ctx);
    if (duk_get_current_magic(ctx) & EW__BI_TYPED) {
        if (!ew__bi_is_typed_array(ctx, o))
            (void) duk_type_error(ctx, "this is not a typed array");
        *len = (double) duk_get_length(ctx, o);
    } else {
        duk_to_object(ctx, o);
        *len = ew__bi_length(ctx, o);
    }
    return o;
}

/* RelativeIndex clamped to [0, len]; an undefined argument gives dflt. */
double ew__bi_clamp_index(duk_context *ctx, duk_idx_t idx, double len, double dflt)
{
    if (duk_is_undefined(ctx, idx))
        return dflt;
    double r = ew__bi_to_integer(ctx, idx);
    return r < 0 ? (len + r < 0 ? 0 : len + r) : (r > len ? len : r);
}

/* Throws TypeError unless the value at idx is callable. */
static void require_callable(duk_context *ctx, duk_idx_t idx, const char *what)
{
    if (!duk_is_callable(ctx, idx))
        (void) duk_type_error(ctx, "%s is not a function", what);
}

/* ---------------------------------------------------------------------------------------------------------
 * Array.from, Array.of, get Array[@@species]
 */

/* Pushes new C(...) (C at c, with `len` as the only argument when len >= 0) if C is a constructor, else a
 * new Array (of length len). */
static void construct_or_array(duk_context *ctx, duk_idx_t c, double len)
{
    if (duk_is_constructable(ctx, c)) {
        duk_dup(ctx, c);
        if (len >= 0)
            duk_push_number(ctx, len);
        duk_new(ctx, len >= 0 ? 1 : 0);
    } else {
        ew__bi_push_array(ctx, len < 0 ? 0 : len);
    }
}

typedef struct from_job {
    duk_idx_t target, mapfn, this_arg;
    double count;  /* items added so far */
} from_job_t;

/* One item of Array.from (value on top): map it, then CreateDataPropertyOrThrow. */
static void from_item(duk_context *ctx, void *udata, double k)
{
    from_job_t *job = udata;
    if (!duk_is_undefined(ctx, job->mapfn)) {
        duk_dup(ctx, job->mapfn);
        duk_dup(ctx, job->this_arg);
        duk_dup(ctx, -3);
        duk_push_number(ctx, k);
        duk_call_method(ctx, 2);
        duk_remove(ctx, -2);
    }
    if (k >= MAX_SAFE)
        (void) duk_type_error(ctx, "too many items");
    ew__bi_define(ctx, job->target, k);
    job->count = k + 1;
}

static void set_length(duk_context *ctx, duk_idx_t obj, double len)
{
    duk_push_number(ctx, len);
    duk_put_prop_literal(ctx, obj, "length");
}

/* Array.from(items, mapfn, thisArg) (nargs 3). */
static duk_ret_t array_from(duk_context *ctx)
{
    duk_push_this(ctx); /* 3: C */
    if (!duk_is_undefined(ctx, 1))
        require_callable(ctx, 1, "Array.from: mapper");
    ew__bi_push_iterator_method(ctx, 0); /* 4 */
    from_job_t job = {5, 1, 2, 0};
    if (!duk_is_undefined(ctx, 4)) {
        construct_or_array(ctx, 3, -1); /* 5 */
        ew__bi_iterate(ctx, 0, 4, from_item, &job);
        set_length(ctx, 5, job.count);
        return 1;
    }
    duk_dup(ctx, 0);
    duk_to_object(ctx, -1);
    duk_replace(ctx, 4); /* 4: arrayLike */
    double len = ew__bi_length(ctx, 4);
    construct_or_array(ctx, 3, len); /* 5 */
    for (double k = 0; k < len; k++) {
        ew__bi_get(ctx, 4, k);
        from_item(ctx, &job, k);
    }
    set_length(ctx, 5, len);
    return 1;
}
