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

double ew__bi_to_length(duk_context *ctx, duk_idx_t idx)
{
    double len = ew__bi_to_integer(ctx, idx);
    return len <= 0 ? 0 : len > MAX_SAFE ? MAX_SAFE : len;
}

double ew__bi_length(duk_context *ctx, duk_idx_t obj)
{
    duk_get_prop_literal(ctx, obj, "length");
    double len = ew__bi_to_length(ctx, -1);
    duk_pop(ctx);
    return len;
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

/* Array.of(...items). */
static duk_ret_t array_of(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    duk_push_this(ctx);
    construct_or_array(ctx, n, n); /* n + 1 */
    for (duk_idx_t k = 0; k < n; k++) {
        duk_dup(ctx, k);
        ew__bi_define(ctx, n + 1, k);
    }
    set_length(ctx, n + 1, n);
    return 1;
}

static duk_ret_t get_species(duk_context *ctx)
{
    duk_push_this(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Searching: at, find/findIndex/findLast/findLastIndex, includes
 */

/* at(index) (nargs 1). */
static duk_ret_t array_at(duk_context *ctx)
{
    double len;
    ew__bi_push_this(ctx, &len);
    double rel = ew__bi_to_integer(ctx, 0);
    double k = rel >= 0 ? rel : len + rel;
    if (k < 0 || k >= len)
        return 0;
    ew__bi_get(ctx, 1, k);
    return 1;
}

enum { FIND_LAST = 1, FIND_INDEX = 2 };

/* find/findIndex/findLast/findLastIndex(predicate, thisArg) (nargs 2; magic FIND_* | EW__BI_TYPED). */
static duk_ret_t array_find(duk_context *ctx)
{
    int magic = duk_get_current_magic(ctx);
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len); /* 2 */
    require_callable(ctx, 0, "predicate");
    for (double i = 0; i < len; i++) {
        double k = (magic & FIND_LAST) ? len - 1 - i : i;
        ew__bi_get(ctx, o, k); /* 3 */
        duk_dup(ctx, 0);
        duk_dup(ctx, 1);
        duk_dup(ctx, 3);
        duk_push_number(ctx, k);
        duk_dup(ctx, o);
        duk_call_method(ctx, 3);
        if (duk_to_boolean(ctx, -1)) {
            if (magic & FIND_INDEX)
                duk_push_number(ctx, k);
            else
                duk_dup(ctx, 3);
            return 1;
        }
        duk_pop_2(ctx);
    }
    if (magic & FIND_INDEX)
        duk_push_int(ctx, -1);
    else
        duk_push_undefined(ctx);
    return 1;
}

/* includes(searchElement, fromIndex) (nargs 2): SameValueZero, holes read as undefined. */
static duk_ret_t array_includes(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len);
    if (len == 0) {
        duk_push_false(ctx);
        return 1;
    }
    double n = ew__bi_to_integer(ctx, 1);
    double k = n >= 0 ? n : (len + n < 0 ? 0 : len + n);
    for (; k < len; k++) {
        ew__bi_get(ctx, o, k);
        if (ew__bi_same_value_zero(ctx, -1, 0)) {
            duk_push_true(ctx);
            return 1;
        }
        duk_pop(ctx);
    }
    duk_push_false(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Writing in place: fill, copyWithin
 */

/* fill(value, start, end) (nargs 3). Typed arrays convert the value once, before the indices. */
static duk_ret_t array_fill(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len);
    if (duk_get_current_magic(ctx) & EW__BI_TYPED)
        duk_to_number(ctx, 0);
    double k = ew__bi_clamp_index(ctx, 1, len, 0);
    double end = ew__bi_clamp_index(ctx, 2, len, len);
    for (; k < end; k++) {
        duk_dup(ctx, 0);
        ew__bi_put(ctx, o, k);
    }
    duk_dup(ctx, o);
    return 1;
}

/* copyWithin(target, start, end) (nargs 3): overlapping ranges copy as memmove does. */
static duk_ret_t array_copy_within(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len);
    double to = ew__bi_clamp_index(ctx, 0, len, 0);
    double from = ew__bi_clamp_index(ctx, 1, len, 0);
    double end = ew__bi_clamp_index(ctx, 2, len, len);
    double count = fmin(end - from, len - to);
    double dir = 1;
    if (from < to && to < from + count) {
        dir = -1;
        from += count - 1;
        to += count - 1;
    }
    for (; count > 0; count--, from += dir, to += dir) {
        if (ew__bi_has(ctx, o, from)) {
            ew__bi_get(ctx, o, from);
            ew__bi_put(ctx, o, to);
        } else {
            delete_index(ctx, o, to);
        }
    }
    duk_dup(ctx, o);
    return 1;
}

/* keys/values/entries (nargs 0; magic EW__BI_IT_* | EW__BI_TYPED). */
static duk_ret_t array_iterator(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len);
    ew__bi_push_iterator(ctx, o, duk_get_current_magic(ctx) & 0xff, o);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * flat, flatMap
 */

/* ArraySpeciesCreate(O at o, len). */
static void species_create(duk_context *ctx, duk_idx_t o, double len)
{
    if (!duk_is_array(ctx, o)) {
        ew__bi_push_array(ctx, len);
        return;
    }
    duk_get_prop_literal(ctx, o, "constructor");
    if (duk_is_object(ctx, -1)) {
        duk_push_heap_stash(ctx);
        duk_get_prop_literal(ctx, -1, K_ARRAY);
        duk_get_prop_index(ctx, -1, 0);
        duk_get_prop(ctx, -4);
        duk_replace(ctx, -4);
        duk_pop_2(ctx);
        if (duk_is_null(ctx, -1)) {
            duk_pop(ctx);
            duk_push_undefined(ctx);
        }
    }
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        ew__bi_push_array(ctx, len);
        return;
    }
    if (!duk_is_constructable(ctx, -1))
        (void) duk_type_error(ctx, "species is not a constructor");
    duk_push_number(ctx, len);
    duk_new(ctx, 1);
}

typedef struct flatten {
    duk_idx_t target, mapper, this_arg;
    int levels;  /* recursion guard: nesting beyond this is a RangeError, not a C stack overflow */
} flatten_t;

/* FlattenIntoArray (ES2019 23.1.3.10.1) from the source at src; returns the next target index. */
static double flatten_into(duk_context *ctx, flatten_t *f, duk_idx_t src, double len, double start,
                           double depth)
{
    double t = start;
    if (++f->levels > 10000)
        (void) duk_range_error(ctx, "flat: arrays nested too deeply");
    for (double k = 0; k < len; k++) {
        if (!ew__bi_has(ctx, src, k))
            continue;
        ew__bi_get(ctx, src, k);
        if (f->mapper != DUK_INVALID_INDEX) {
            duk_dup(ctx, f->mapper);
            duk_dup(ctx, f->this_arg);
            duk_dup(ctx, -3);
            duk_push_number(ctx, k);
            duk_dup(ctx, src);
            duk_call_method(ctx, 3);
            duk_remove(ctx, -2);
        }
        if (depth > 0 && duk_is_array(ctx, -1)) {
            duk_idx_t mapper = f->mapper; /* the mapper applies to the outer level only */
            f->mapper = DUK_INVALID_INDEX;
            t = flatten_into(ctx, f, duk_get_top_index(ctx), ew__bi_length(ctx, -1), t, depth - 1);
            f->mapper = mapper;
            duk_pop(ctx);
        } else {
            if (t >= MAX_SAFE)
                (void) duk_type_error(ctx, "flat: result too long");
            ew__bi_define(ctx, f->target, t++);
        }
    }
    f->levels--;
    return t;
}

/* flat(depth) (magic 0) and flatMap(mapper, thisArg) (magic 1); nargs 2. */
static duk_ret_t array_flat(duk_context *ctx)
{
    bool map = duk_get_current_magic(ctx) == 1;
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len); /* 2 */
    double depth = 1;
    if (map)
        require_callable(ctx, 0, "flatMap: mapper");
    else if (!duk_is_undefined(ctx, 0))
        depth = duk_to_number(ctx, 0) == INFINITY ? INFINITY : ew__bi_to_integer(ctx, 0);
    species_create(ctx, o, 0); /* 3 */
    flatten_t f = {3, map ? 0 : DUK_INVALID_INDEX, 1, 0};
    flatten_into(ctx, &f, o, len, 0, map ? 1 : depth);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Sorting
 *
 * Values to sort sit in a bare array `vals` (n of them, undefined excluded: SortCompare puts them last
 * anyway). sort_perm() orders a permutation of 0..n-1 with a stable top-down merge sort (insertion sort for
 * runs of up to 8); a comparator that is inconsistent still terminates. Default comparison is by string,
 * each value converted once (code unit order: CESU-8 bytes compare like UTF-16 units), or numeric for
 * typed arrays (-0 before +0, NaN last).
 */

enum { ORDER_STRING, ORDER_NUMBER, ORDER_CALL };

typedef struct sorter {
    duk_context *ctx;
    duk_idx_t vals, cmp;
    int order;
    const char **str;    /* ORDER_STRING: bytes of each value's string */
    duk_size_t *str_len;
    double *num;         /* ORDER_NUMBER */
} sorter_t;

/* True if value a must come after value b. */
static bool after(sorter_t *s, uint32_t a, uint32_t b)
{
    if (s->order == ORDER_STRING) {
        duk_size_t la = s->str_len[a], lb = s->str_len[b];
        int c = memcmp(s->str[a], s->str[b], la < lb ? la : lb);
        return c > 0 || (c == 0 && la > lb);
    }
    if (s->order == ORDER_NUMBER) {
        double x = s->num[a], y = s->num[b];
        if (isnan(x))
            return !isnan(y);
        return x > y || (x == 0 && y == 0 && !signbit(x) && signbit(y));
    }
    duk_context *ctx = s->ctx;
    duk_dup(ctx, s->cmp);
    duk_push_undefined(ctx);
    duk_get_prop_index(ctx, s->vals, a);
    duk_get_prop_index(ctx, s->vals, b);
    duk_call_method(ctx, 2);
    double v = duk_to_number(ctx, -1);
    duk_pop(ctx);
    return v > 0;
}

static void merge_sort(sorter_t *s, uint32_t *p, uint32_t *tmp, uint32_t n)
{
    if (n <= 8) {
        for (uint32_t i = 1; i < n; i++) {
            uint32_t v = p[i], j = i;
            for (; j > 0 && after(s, p[j - 1], v); j--)
                p[j] = p[j - 1];
            p[j] = v;
        }
        return;
    }
    uint32_t h = n / 2, i = 0, j = h, k = 0;
    merge_sort(s, p, tmp, h);
    merge_sort(s, p + h, tmp, n - h);
    if (!after(s, p[h - 1], p[h]))
        return; /* already in order: common for sorted input */
    memcpy(tmp, p, h * sizeof(*p));
    while (i < h && j < n)
        p[k++] = after(s, tmp[i], p[j]) ? p[j++] : tmp[i++];
    while (i < h)
        p[k++] = tmp[i++];
}

/* Reorders the n values of the bare array at vals; cmp is the comparator's index or DUK_INVALID_INDEX
 * for the default order (numeric when `numeric`). May throw (comparator, ToString). */
static void sort_values(duk_context *ctx, duk_idx_t vals, uint32_t n, duk_idx_t cmp, bool numeric)
{
    vals = duk_normalize_index(ctx, vals);
    int order = cmp != DUK_INVALID_INDEX ? ORDER_CALL : numeric ? ORDER_NUMBER : ORDER_STRING;
    sorter_t s = {ctx, vals, cmp, order, NULL, NULL, NULL};
    if (n < 2)
        return;
    uint32_t *p = duk_push_fixed_buffer(ctx, (size_t) n * 2 * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++)
        p[i] = i;
    if (s.order == ORDER_STRING) {
        duk_push_bare_array(ctx); /* keeps the strings alive */
        s.str = duk_push_fixed_buffer(ctx, (size_t) n * (sizeof(char *) + sizeof(duk_size_t)));
        s.str_len = (duk_size_t *) (s.str + n);
        for (uint32_t i = 0; i < n; i++) {
            duk_get_prop_index(ctx, vals, i);
            s.str[i] = duk_to_lstring(ctx, -1, &s.str_len[i]);
            duk_put_prop_index(ctx, -3, i);
        }
    } else if (s.order == ORDER_NUMBER) {
        s.num = duk_push_fixed_buffer(ctx, (size_t) n * sizeof(double));
        for (uint32_t i = 0; i < n; i++) {
            duk_get_prop_index(ctx, vals, i);
            s.num[i] = duk_get_number(ctx, -1);
            duk_pop(ctx);
        }
    }
    merge_sort(&s, p, p + n, n);
    duk_push_bare_array(ctx);
    for (uint32_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, vals, p[i]);
        duk_put_prop_index(ctx, -2, i);
    }
    duk_replace(ctx, vals);
    duk_set_top(ctx, vals + 1);
}

static void check_comparator(duk_context *ctx)
{
    if (!duk_is_undefined(ctx, 0) && !duk_is_callable(ctx, 0))
        (void) duk_type_error(ctx, "The comparison function must be either a function or undefined");
}

/* sort(comparefn) (nargs 1): holes and undefined go last, holes removed (ES2023 23.1.3.30). */
static duk_ret_t array_sort(duk_context *ctx)
{
    check_comparator(ctx);
    bool typed = duk_get_current_magic(ctx) & EW__BI_TYPED;
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len); /* 1 */
    duk_push_bare_array(ctx);                  /* 2 */
    uint32_t n = 0;
    double undefs = 0;
    for (double k = 0; k < len; k++) {
        if (!typed && !ew__bi_has(ctx, o, k))
            continue;
        ew__bi_get(ctx, o, k);
        if (duk_is_undefined(ctx, -1)) {
            undefs++;
            duk_pop(ctx);
        } else {
            if (n == UINT32_MAX)
                return duk_range_error(ctx, "sort: too many items");
            duk_put_prop_index(ctx, 2, n++);
        }
    }
    sort_values(ctx, 2, n, duk_is_undefined(ctx, 0) ? DUK_INVALID_INDEX : 0, typed);
    double k = 0;
    for (uint32_t i = 0; i < n; i++, k++) {
        duk_get_prop_index(ctx, 2, i);
        ew__bi_put(ctx, o, k);
    }
    for (; undefs > 0; undefs--, k++) {
        duk_push_undefined(ctx);
        ew__bi_put(ctx, o, k);
    }
    for (; k < len; k++)
        delete_index(ctx, o, k);
    duk_dup(ctx, o);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Copying methods (ES2023): toSorted, toReversed, toSpliced, with. Typed arrays make a new array of their
 * own type (TypedArrayCreateSameType); arrays a plain Array (never a species).
 */

static void push_copy_target(duk_context *ctx, duk_idx_t o, double len)
{
    if (duk_get_current_magic(ctx) & EW__BI_TYPED)
        ew__bi_typed_push_same(ctx, o, len);
    else
        ew__bi_push_array(ctx, len);
}

/* Writes the value on top (popped) at index k of a target made by push_copy_target. */
static void store(duk_context *ctx, duk_idx_t target, double k)
{
    if (duk_get_current_magic(ctx) & EW__BI_TYPED)
        ew__bi_put(ctx, target, k);
    else
        ew__bi_define(ctx, target, k);
}

/* toSorted(comparefn) (nargs 1). */
static duk_ret_t array_to_sorted(duk_context *ctx)
{
    check_comparator(ctx);
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len); /* 1 */
    push_copy_target(ctx, o, len);             /* 2 */
    duk_push_bare_array(ctx);                  /* 3 */
    uint32_t n = 0;
    double undefs = 0;
    for (double k = 0; k < len; k++) {
        ew__bi_get(ctx, o, k);
        if (duk_is_undefined(ctx, -1)) {
            undefs++;
            duk_pop(ctx);
        } else {
            duk_put_prop_index(ctx, 3, n++);
        }
    }
    sort_values(ctx, 3, n, duk_is_undefined(ctx, 0) ? DUK_INVALID_INDEX : 0,
                duk_get_current_magic(ctx) & EW__BI_TYPED);
    double k = 0;
    for (uint32_t i = 0; i < n; i++, k++) {
        duk_get_prop_index(ctx, 3, i);
        store(ctx, 2, k);
    }
    for (; undefs > 0; undefs--, k++) {
        duk_push_undefined(ctx);
        store(ctx, 2, k);
    }
    duk_pop(ctx);
    return 1;
}

/* toReversed() (nargs 0). */
static duk_ret_t array_to_reversed(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len);
    push_copy_target(ctx, o, len);
    for (double k = 0; k < len; k++) {
        ew__bi_get(ctx, o, len - 1 - k);
        store(ctx, -2, k);
    }
    return 1;
}

/* with(index, value) (nargs 2): RangeError for an index outside the array. */
static duk_ret_t array_with(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len);
    double rel = ew__bi_to_integer(ctx, 0);
    double at = rel >= 0 ? rel : len + rel;
    if (duk_get_current_magic(ctx) & EW__BI_TYPED)
        duk_to_number(ctx, 1);
    if (at < 0 || at >= len)
        return duk_range_error(ctx, "with: index out of range");
    push_copy_target(ctx, o, len);
    for (double k = 0; k < len; k++) {
        if (k == at)
            duk_dup(ctx, 1);
        else
            ew__bi_get(ctx, o, k);
        store(ctx, -2, k);
    }
    return 1;
}

/* toSpliced(start, skipCount, ...items) (varargs). */
static duk_ret_t array_to_spliced(duk_context *ctx)
{
    duk_idx_t nargs = duk_get_top(ctx);
    if (nargs < 2)
        duk_set_top(ctx, 2);
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len);
    double start = ew__bi_clamp_index(ctx, 0, len, 0);
    double skip = 0, inserts = nargs > 2 ? nargs - 2 : 0;
    if (nargs == 1) {
        skip = len - start;
    } else if (nargs >= 2) {
        skip = ew__bi_to_integer(ctx, 1);
        skip = skip < 0 ? 0 : fmin(skip, len - start);
    }
    double new_len = len + inserts - skip;
    if (new_len > MAX_SAFE)
        return duk_type_error(ctx, "toSpliced: result too long");
    ew__bi_push_array(ctx, new_len);
    duk_idx_t a = duk_get_top_index(ctx);
    double i = 0;
    for (; i < start; i++) {
        ew__bi_get(ctx, o, i);
        ew__bi_define(ctx, a, i);
    }
    for (duk_idx_t j = 2; j < nargs; j++, i++) {
        duk_dup(ctx, j);
        ew__bi_define(ctx, a, i);
    }
    for (double r = start + skip; i < new_len; i++, r++) {
        ew__bi_get(ctx, o, r);
        ew__bi_define(ctx, a, i);
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Installation
 */

/* Shared with %TypedArray%.prototype (builtin_typed.c adds EW__BI_TYPED to each magic). */
const ew__bi_method_t ew__bi_array_shared[] = {
    {"at", array_at, 1, 1, 0},
    {"copyWithin", array_copy_within, 3, 2, 0},
    {"entries", array_iterator, 0, 0, EW__BI_IT_ENTRIES},
    {"fill", array_fill, 3, 1, 0},
    {"find", array_find, 2, 1, 0},
    {"findIndex", array_find, 2, 1, FIND_INDEX},
    {"findLast", array_find, 2, 1, FIND_LAST},
    {"findLastIndex", array_find, 2, 1, FIND_LAST | FIND_INDEX},
    {"includes", array_includes, 2, 1, 0},
    {"keys", array_iterator, 0, 0, EW__BI_IT_KEYS},
    {"sort", array_sort, 1, 1, 0},
    {"toReversed", array_to_reversed, 0, 0, 0},
    {"toSorted", array_to_sorted, 1, 1, 0},
    {"values", array_iterator, 0, 0, EW__BI_IT_VALUES},
    {"with", array_with, 2, 2, 0},
    {NULL, NULL, 0, 0, 0}};

static const ew__bi_method_t array_only[] = {
    {"flat", array_flat, 2, 0, 0},
    {"flatMap", array_flat, 2, 1, 1},
    {"toSpliced", array_to_spliced, DUK_VARARGS, 2, 0},
    {NULL, NULL, 0, 0, 0}};

static const ew__bi_method_t array_statics[] = {
    {"from", array_from, 3, 1, 0},
    {"of", array_of, DUK_VARARGS, 0, 0},
    {NULL, NULL, 0, 0, 0}};

/* Defines get C[@@species] returning this on the object at obj. */
void ew__bi_def_species(duk_context *ctx, duk_idx_t obj)
{
    obj = duk_normalize_index(ctx, obj);
    duk_get_global_literal(ctx, "Symbol");
    duk_get_prop_literal(ctx, -1, "species");
    duk_remove(ctx, -2);
    static const ew__bi_method_t getter = {"get [Symbol.species]", get_species, 0, 0, 0};
    ew__bi_push_function(ctx, &getter);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
}

void ew__bi_array_init(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_push_bare_array(ctx);
    duk_get_global_literal(ctx, "Symbol");
    duk_get_prop_literal(ctx, -1, "species");
    duk_put_prop_index(ctx, -3, 0);
    duk_pop(ctx);
    duk_put_prop_literal(ctx, -2, K_ARRAY);
    duk_pop(ctx);

    duk_get_global_literal(ctx, "Array");
    ew__bi_def_methods(ctx, -1, array_statics);
    ew__bi_def_species(ctx, -1);
    duk_get_prop_literal(ctx, -1, "prototype");
    ew__bi_def_methods(ctx, -1, ew__bi_array_shared);
    ew__bi_def_methods(ctx, -1, array_only);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_get_prop_literal(ctx, -2, "values");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                              DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop_2(ctx);
}

/* JS names -> C functions of this file:
 *   Array.from, Array.of                          array_from, array_of
 *   get Array[Symbol.species]                     get_species (also typed arrays, via ew__bi_def_species)
 *   Array.prototype.at                            array_at
 *   .find, .findIndex, .findLast, .findLastIndex  array_find (magic FIND_LAST | FIND_INDEX)
 *   .includes                                     array_includes
 *   .fill, .copyWithin                            array_fill, array_copy_within
 *   .keys, .values (= [Symbol.iterator]), .entries  array_iterator (magic EW__BI_IT_*)
 *   .flat, .flatMap                               array_flat (magic 0 / 1)
 *   .sort, .toSorted                              array_sort, array_to_sorted (merge sort: sort_values)
 *   .toReversed, .toSpliced, .with                array_to_reversed, array_to_spliced, array_with
 * The first group also serves %TypedArray%.prototype with EW__BI_TYPED in the magic (builtin_typed.c).
 */
