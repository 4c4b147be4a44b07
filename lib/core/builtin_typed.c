/*
 * builtin_typed.c — the ES2015–ES2023 methods of %TypedArray% and its prototype that Duktape 2.7 lacks (it
 * has only set, subarray and the buffer getters): %TypedArray%.from and .of, the Array methods shared with builtin_array.c (at, find*,
 * includes, fill, copyWithin, keys/values/entries, a numeric sort, toSorted/toReversed/with), map, filter
 * and slice (TypedArraySpeciesCreate), and join, indexOf, lastIndexOf, reverse, some, every, forEach,
 * reduce, reduceRight, toLocaleString, which behave exactly like Array's own on a typed array once `this`
 * is validated, so they call the engine's Array.prototype functions after that check (delegate).
 *
 * Duktape can neither detach nor resize buffers, so the "detached" and "out of bounds" checks of the
 * specification never fire here.
 */
#include "builtins.h"

/* Heap stash: [0, 9) the typed array constructors by kind, [9, ...) the Array.prototype functions that
 * delegate() calls, in the order of delegated[]. */
#define K_TYPED DUK_HIDDEN_SYMBOL("biTyped")

static const char *const kind_names[EW__BI_TYPED_KINDS] = {
    "Int8Array",  "Uint8Array",  "Uint8ClampedArray", "Int16Array",  "Uint16Array",
    "Int32Array", "Uint32Array", "Float32Array",      "Float64Array"};

static const struct {
    const char *name;
    uint8_t length;
} delegated[] = {{"join", 1},  {"indexOf", 1}, {"lastIndexOf", 1}, {"reverse", 0},     {"some", 1},
                 {"every", 1}, {"forEach", 1}, {"reduce", 1},      {"reduceRight", 1}, {"toLocaleString", 0}};
#define N_DELEGATED (sizeof(delegated) / sizeof(delegated[0]))

static void push_stashed(duk_context *ctx, duk_uarridx_t i)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_TYPED);
    duk_get_prop_index(ctx, -1, i);
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

void ew__bi_typed_push_same(duk_context *ctx, duk_idx_t o, double len)
{
    int kind = ew__bi_typed_kind(ctx, o);
    push_stashed(ctx, (duk_uarridx_t) (kind < 0 ? 1 : kind));
    duk_push_number(ctx, len);
    duk_new(ctx, 1);
}

/* TypedArraySpeciesCreate(O at o, [len]): O.constructor[@@species], else O's own intrinsic constructor;
 * the result must be a typed array at least len long. */
static void species_create(duk_context *ctx, duk_idx_t o, double len)
{
    duk_get_prop_literal(ctx, o, "constructor");
    if (!duk_is_undefined(ctx, -1)) {
        if (!duk_is_object(ctx, -1))
            (void) duk_type_error(ctx, "constructor is not an object");
        duk_get_global_literal(ctx, "Symbol");
        duk_get_prop_literal(ctx, -1, "species");
        duk_remove(ctx, -2);
        duk_get_prop(ctx, -2);
        duk_remove(ctx, -2);
    }
    if (duk_is_null_or_undefined(ctx, -1)) {
        duk_pop(ctx);
        ew__bi_typed_push_same(ctx, o, len);
        return;
    }
    if (!duk_is_constructable(ctx, -1))
        (void) duk_type_error(ctx, "species is not a constructor");
    duk_push_number(ctx, len);
    duk_new(ctx, 1);
    if (ew__bi_typed_kind(ctx, -1) < 0)
        (void) duk_type_error(ctx, "species constructor did not make a typed array");
    if ((double) duk_get_length(ctx, -1) < len)
        (void) duk_type_error(ctx, "species constructor made a typed array too short");
}

/* join, indexOf, ... (varargs; magic: index in delegated[]): ValidateTypedArray, then Array's own. */
static duk_ret_t delegate(duk_context *ctx)
{
    duk_idx_t nargs = duk_get_top(ctx);
    push_stashed(ctx, EW__BI_TYPED_KINDS + (duk_uarridx_t) duk_get_current_magic(ctx));
    duk_push_this(ctx);
    if (ew__bi_typed_kind(ctx, -1) < 0)
        return duk_type_error(ctx, "this is not a typed array");
    duk_insert(ctx, 0);
    duk_insert(ctx, 0);
    duk_call_method(ctx, nargs);
    return 1;
}

/* Calls callbackfn(value, k, O) with thisArg (indices 0, 1; O at o) for element k; pushes value and result. */
static void call_back(duk_context *ctx, duk_idx_t o, double k)
{
    ew__bi_get(ctx, o, k);
    duk_dup(ctx, 0);
    duk_dup(ctx, 1);
    duk_dup(ctx, -3);
    duk_push_number(ctx, k);
    duk_dup(ctx, o);
    duk_call_method(ctx, 3);
}

/* map(callbackfn, thisArg) (nargs 2). */
static duk_ret_t typed_map(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len); /* 2 */
    if (!duk_is_callable(ctx, 0))
        return duk_type_error(ctx, "map: callback is not a function");
    species_create(ctx, o, len); /* 3 */
    for (double k = 0; k < len; k++) {
        call_back(ctx, o, k);
        ew__bi_put(ctx, 3, k);
        duk_pop(ctx);
    }
    return 1;
}

/* filter(callbackfn, thisArg) (nargs 2). */
static duk_ret_t typed_filter(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len); /* 2 */
    if (!duk_is_callable(ctx, 0))
        return duk_type_error(ctx, "filter: callback is not a function");
    duk_push_bare_array(ctx); /* 3: kept values */
    duk_uarridx_t n = 0;
    for (double k = 0; k < len; k++) {
        call_back(ctx, o, k);
        if (duk_to_boolean(ctx, -1)) {
            duk_pop(ctx);
            duk_put_prop_index(ctx, 3, n++);
        } else {
            duk_pop_2(ctx);
        }
    }
    species_create(ctx, o, n); /* 4 */
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, 3, i);
        duk_put_prop_index(ctx, 4, i);
    }
    return 1;
}

/* slice(start, end) (nargs 2). */
static duk_ret_t typed_slice(duk_context *ctx)
{
    double len;
    duk_idx_t o = ew__bi_push_this(ctx, &len); /* 2 */
    double k = ew__bi_clamp_index(ctx, 0, len, 0);
    double end = ew__bi_clamp_index(ctx, 1, len, len);
    double count = end > k ? end - k : 0;
    species_create(ctx, o, count); /* 3 */
    for (double n = 0; k < end; k++, n++) {
        ew__bi_get(ctx, o, k);
        ew__bi_put(ctx, 3, n);
    }
    return 1;
}

static const ew__bi_method_t typed_only[] = {
    {"map", typed_map, 2, 1, EW__BI_TYPED},
    {"filter", typed_filter, 2, 1, EW__BI_TYPED},
    {"slice", typed_slice, 2, 2, EW__BI_TYPED},
    {NULL, NULL, 0, 0, 0}};

/* ---------------------------------------------------------------------------------------------------------
 * %TypedArray%.from and %TypedArray%.of
 */

/* IsConstructor(C). Duktape's %TypedArray% is not constructable, but the specification's is (it throws
 * when constructed), which decides which error comes first. */
static bool is_constructor(duk_context *ctx, duk_idx_t c)
{
    if (duk_is_constructable(ctx, c))
        return true;
    duk_get_global_literal(ctx, "Uint8Array");
    duk_get_prototype(ctx, -1);
    bool abstract = duk_strict_equals(ctx, -1, c);
    duk_pop_2(ctx);
    return abstract;
}

/* TypedArrayCreate(C, len): new C(len), which must be a typed array of at least len elements. */
static void typed_create(duk_context *ctx, duk_idx_t c, double len, const char *who)
{
    if (!duk_is_constructable(ctx, c))
        (void) duk_type_error(ctx, "%s: %s", who,
                              is_constructor(ctx, c) ? "Abstract class TypedArray not directly constructable"
                                                     : "this is not a constructor");
    duk_dup(ctx, c);
    duk_push_number(ctx, len);
    duk_new(ctx, 1);
    if (!duk_is_buffer_data(ctx, -1) || duk_is_buffer(ctx, -1) || ew__bi_length(ctx, -1) < len)
        (void) duk_type_error(ctx, "%s: the constructor did not make a typed array of length %.0f", who, len);
}

static void collect_item(duk_context *ctx, void *udata, double k)
{
    duk_put_prop_index(ctx, *(duk_idx_t *) udata, (duk_uarridx_t) k);
}

/* %TypedArray%.from(source, mapfn, thisArg) (nargs 3): iterable sources are read to the end first. */
static duk_ret_t typed_from(duk_context *ctx)
{
    duk_push_this(ctx); /* 3: C */
    if (!is_constructor(ctx, 3))
        return duk_type_error(ctx, "TypedArray.from: this is not a constructor");
    if (!duk_is_undefined(ctx, 1) && !duk_is_callable(ctx, 1))
        return duk_type_error(ctx, "TypedArray.from: the mapper is not a function");
    ew__bi_push_iterator_method(ctx, 0); /* 4 */
    if (!duk_is_undefined(ctx, 4)) {
        duk_idx_t list = duk_push_bare_array(ctx); /* 5 */
        ew__bi_iterate(ctx, 0, 4, collect_item, &list);
        duk_replace(ctx, 4);
    } else {
        duk_dup(ctx, 0);
        duk_to_object(ctx, -1);
        duk_replace(ctx, 4); /* 4: arrayLike */
    }
    double len = ew__bi_length(ctx, 4);
    typed_create(ctx, 3, len, "TypedArray.from"); /* 5 */
    for (double k = 0; k < len; k++) {
        ew__bi_get(ctx, 4, k);
        if (!duk_is_undefined(ctx, 1)) {
            duk_dup(ctx, 1);
            duk_dup(ctx, 2);
            duk_dup(ctx, -3);
            duk_push_number(ctx, k);
            duk_call_method(ctx, 2);
            duk_remove(ctx, -2);
        }
        duk_put_prop_index(ctx, 5, (duk_uarridx_t) k);
    }
    return 1;
}

/* %TypedArray%.of(...items). */
static duk_ret_t typed_of(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    duk_push_this(ctx);
    typed_create(ctx, n, n, "TypedArray.of");
    for (duk_idx_t k = 0; k < n; k++) {
        duk_dup(ctx, k);
        duk_put_prop_index(ctx, n + 1, (duk_uarridx_t) k);
    }
    return 1;
}

static const ew__bi_method_t typed_statics[] = {
    {"from", typed_from, 3, 1, 0},
    {"of", typed_of, DUK_VARARGS, 0, 0},
    {NULL, NULL, 0, 0, 0}};

/* Stash: constructors by kind and the Array.prototype functions delegate() calls. */
static void init_stash(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_push_bare_array(ctx);
    for (duk_uarridx_t i = 0; i < EW__BI_TYPED_KINDS; i++) {
        duk_get_global_string(ctx, kind_names[i]);
        duk_put_prop_index(ctx, -2, i);
    }
    duk_get_global_literal(ctx, "Array");
    duk_get_prop_literal(ctx, -1, "prototype");
    for (duk_uarridx_t i = 0; i < N_DELEGATED; i++) {
        duk_get_prop_string(ctx, -1, delegated[i].name);
        duk_put_prop_index(ctx, -4, EW__BI_TYPED_KINDS + i);
    }
    duk_pop_2(ctx);
    duk_put_prop_literal(ctx, -2, K_TYPED);
    duk_pop(ctx);
}

void ew__bi_typed_init(duk_context *ctx)
{
    init_stash(ctx);
    duk_get_global_literal(ctx, "Uint8Array");
    duk_get_prototype(ctx, -1); /* %TypedArray% */
    ew__bi_def_species(ctx, -1);
    ew__bi_def_methods(ctx, -1, typed_statics);
    duk_get_prop_literal(ctx, -1, "prototype");
    ew__bi_method_t m[2] = {{NULL, NULL, 0, 0, 0}, {NULL, NULL, 0, 0, 0}};
    for (const ew__bi_method_t *s = ew__bi_array_shared; s->name != NULL; s++) {
        m[0] = *s;
        m[0].magic = (int16_t) (s->magic | EW__BI_TYPED);
        ew__bi_def_methods(ctx, -1, m);
    }
    for (size_t i = 0; i < N_DELEGATED; i++) {
        m[0] = (ew__bi_method_t){delegated[i].name, delegate, DUK_VARARGS, delegated[i].length, (int16_t) i};
        ew__bi_def_methods(ctx, -1, m);
    }
    ew__bi_def_methods(ctx, -1, typed_only);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_get_prop_literal(ctx, -2, "values");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                              DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "toString");
    duk_get_global_literal(ctx, "Array");
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_get_prop_literal(ctx, -1, "toString");
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                              DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop_3(ctx);
}

/* JS names -> C functions of this file (%TypedArray%.prototype unless noted):
 *   at, copyWithin, entries, fill, find, findIndex, findLast, findLastIndex, includes, keys, sort,
 *   toReversed, toSorted, values (= [Symbol.iterator]), with     builtin_array.c's, magic | EW__BI_TYPED
 *   join, indexOf, lastIndexOf, reverse, some, every, forEach, reduce, reduceRight, toLocaleString
 *                                                               delegate (magic: index in delegated[])
 *   map, filter, slice                                          typed_map, typed_filter, typed_slice
 *   toString                                                    Array.prototype.toString itself
 *   get %TypedArray%[Symbol.species]                            builtin_array.c's get_species
 */
