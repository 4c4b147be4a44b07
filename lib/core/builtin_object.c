/*
 * builtin_object.c — the Object statics of ES2017–ES2022 that Duktape 2.7 lacks: entries, values,
 * fromEntries, getOwnPropertyDescriptors and hasOwn. Duktape already has assign, is, setPrototypeOf and
 * getOwnPropertySymbols (ES2015), which are left alone.
 *
 * They are written on top of the engine's own intrinsics (Object.keys, Reflect.ownKeys,
 * Object.getOwnPropertyDescriptor, hasOwnProperty, propertyIsEnumerable), kept in the stash when the heap
 * starts so that a script replacing those globals does not change these methods.
 */
#include "builtins.h"

#define K_OBJECT DUK_HIDDEN_SYMBOL("biObject")

enum { I_KEYS, I_OWN_KEYS, I_GET_DESC, I_HAS_OWN, I_IS_ENUM, I_COUNT };

static void push_intrinsic(duk_context *ctx, duk_uarridx_t i)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_OBJECT);
    duk_get_prop_index(ctx, -1, i);
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

/* Calls intrinsic i with this = the value at this_idx and the value at arg as the argument; pushes the
 * result. */
static void call_intrinsic(duk_context *ctx, duk_uarridx_t i, duk_idx_t this_idx, duk_idx_t arg)
{
    this_idx = duk_normalize_index(ctx, this_idx);
    arg = duk_normalize_index(ctx, arg);
    push_intrinsic(ctx, i);
    duk_dup(ctx, this_idx);
    duk_dup(ctx, arg);
    duk_call_method(ctx, 1);
}

/* Object.entries (magic 1) / Object.values (magic 0) (nargs 1): EnumerableOwnProperties; a key that a
 * getter deleted or made non-enumerable meanwhile is skipped, as the specification re-checks each. */
static duk_ret_t object_entries(duk_context *ctx)
{
    bool entries = duk_get_current_magic(ctx) == 1;
    duk_to_object(ctx, 0);
    call_intrinsic(ctx, I_KEYS, 0, 0); /* 1: keys (this is ignored by Object.keys) */
    duk_push_array(ctx);               /* 2 */
    duk_size_t n = duk_get_length(ctx, 1);
    duk_uarridx_t out = 0;
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, 1, i); /* 3: key */
        call_intrinsic(ctx, I_IS_ENUM, 0, 3);
        bool live = duk_get_boolean(ctx, -1);
        duk_pop(ctx);
        if (!live) {
            duk_pop(ctx);
            continue;
        }
        if (entries) {
            duk_push_array(ctx);
            duk_dup(ctx, 3);
            duk_put_prop_index(ctx, -2, 0);
            duk_dup(ctx, 3);
            duk_get_prop(ctx, 0);
            duk_put_prop_index(ctx, -2, 1);
            duk_remove(ctx, -2);
        } else {
            duk_get_prop(ctx, 0);
        }
        duk_put_prop_index(ctx, 2, out++);
    }
    return 1;
}

/* One entry of Object.fromEntries (on top): target[ToPropertyKey(entry[0])] = entry[1]. */
static void from_entry(duk_context *ctx, void *udata, double index)
{
    (void) index;
    duk_idx_t target = *(duk_idx_t *) udata;
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "Object.fromEntries: iterator value is not an entry object");
    duk_get_prop_index(ctx, -1, 0);
    duk_get_prop_index(ctx, -2, 1);
    duk_remove(ctx, -3);
    duk_def_prop(ctx, target, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
}

/* Object.fromEntries(iterable) (nargs 1). */
static duk_ret_t object_from_entries(duk_context *ctx)
{
    if (duk_is_null_or_undefined(ctx, 0))
        return duk_type_error(ctx, "Object.fromEntries: argument is not iterable");
    duk_push_object(ctx); /* 1 */
    ew__bi_push_iterator_method(ctx, 0);
    if (duk_is_undefined(ctx, -1))
        return duk_type_error(ctx, "Object.fromEntries: argument is not iterable");
    duk_idx_t target = 1;
    ew__bi_iterate(ctx, 0, 2, from_entry, &target);
    duk_pop(ctx);
    return 1;
}

/* Object.getOwnPropertyDescriptors(O) (nargs 1). */
static duk_ret_t object_get_descriptors(duk_context *ctx)
{
    duk_to_object(ctx, 0);
    call_intrinsic(ctx, I_OWN_KEYS, 0, 0); /* 1: Reflect.ownKeys(O) */
    duk_push_object(ctx);                  /* 2 */
    duk_size_t n = duk_get_length(ctx, 1);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, 1, i); /* 3 */
        push_intrinsic(ctx, I_GET_DESC);
        duk_push_undefined(ctx);
        duk_dup(ctx, 0);
        duk_dup(ctx, 3);
        duk_call_method(ctx, 2);
        if (duk_is_undefined(ctx, -1))
            duk_pop_2(ctx);
        else
            duk_def_prop(ctx, 2, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
    }
    duk_dup(ctx, 2);
    return 1;
}

/* Object.hasOwn(O, P) (nargs 2): ToObject before ToPropertyKey, unlike hasOwnProperty. */
static duk_ret_t object_has_own(duk_context *ctx)
{
    duk_to_object(ctx, 0);
    duk_to_primitive(ctx, 1, DUK_HINT_STRING); /* ToPropertyKey: a symbol may come out of an object */
    if (!duk_is_symbol(ctx, 1))
        duk_to_string(ctx, 1);
    call_intrinsic(ctx, I_HAS_OWN, 0, 1);
    return 1;
}

static const ew__bi_method_t object_statics[] = {
    {"entries", object_entries, 1, 1, 1},
    {"fromEntries", object_from_entries, 1, 1, 0},
    {"getOwnPropertyDescriptors", object_get_descriptors, 1, 1, 0},
    {"hasOwn", object_has_own, 2, 2, 0},
    {"values", object_entries, 1, 1, 0},
    {NULL, NULL, 0, 0, 0}};

/* $ew.objectSpread(target, src, literal) for `{...src}` (lib/compile/lower_misc.c): CopyDataProperties of
 * src's own enumerable string and symbol keys onto target as data properties, in C. A Proxy source and a
 * literal piece with accessors (literal 1: they must be copied as accessors) go to the script version, kept as the
 * function's hidden "slow" property. The values are read with [[Get]] in key order, so getters run as the
 * spec says; a key a getter deleted is skipped (Duktape's enumerator checks that each key still exists). */
static duk_ret_t object_spread(duk_context *ctx)
{
    duk_set_top(ctx, 3);
    if (duk_is_null_or_undefined(ctx, 1)) {
        duk_set_top(ctx, 1);
        return 1;
    }
    /* literal 2: a literal piece of data properties only (the compiler knows), copied like a source */
    if (duk_get_int(ctx, 2) == 1 || (duk_is_object(ctx, 1) && ew__duk_is_proxy(ctx, 1))) {
        duk_push_current_function(ctx);
        duk_get_prop_literal(ctx, -1, DUK_HIDDEN_SYMBOL("slow"));
        duk_insert(ctx, 0);
        duk_pop(ctx);
        duk_call(ctx, 3);
        return 1;
    }
    duk_to_object(ctx, 1);
    duk_int_t n = ew__duk_push_own_data(ctx, 1); /* a plain object of data properties: no enumerator */
    for (duk_int_t i = 0; i < n; i++) {
        duk_dup(ctx, 3 + 2 * i);
        duk_dup(ctx, 4 + 2 * i);
        duk_def_prop(ctx, 0, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
    }
    if (n >= 0) {
        duk_set_top(ctx, 1);
        return 1;
    }
    duk_enum(ctx, 1, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_SYMBOLS);
    while (duk_next(ctx, -1, 1))
        duk_def_prop(ctx, 0, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
                                 DUK_DEFPROP_SET_CONFIGURABLE);
    duk_set_top(ctx, 1);
    return 1;
}

void ew__bi_object_spread_install(duk_context *ctx, duk_idx_t helpers)
{
    helpers = duk_normalize_index(ctx, helpers);
    duk_push_c_function(ctx, object_spread, 3);
    duk_get_prop_literal(ctx, helpers, "objectSpread");
    duk_put_prop_literal(ctx, -2, DUK_HIDDEN_SYMBOL("slow"));
    duk_put_prop_literal(ctx, helpers, "objectSpread");
}

void ew__bi_object_init(duk_context *ctx)
{
    static const char *const paths[I_COUNT][2] = {{"Object", "keys"},
                                                   {"Reflect", "ownKeys"},
                                                   {"Object", "getOwnPropertyDescriptor"},
                                                   {"Object.prototype", "hasOwnProperty"},
                                                   {"Object.prototype", "propertyIsEnumerable"}};
    duk_push_heap_stash(ctx);
    duk_push_bare_array(ctx);
    for (duk_uarridx_t i = 0; i < I_COUNT; i++) {
        duk_get_global_literal(ctx, "Object");
        if (paths[i][0][0] == 'R') {
            duk_pop(ctx);
            duk_get_global_literal(ctx, "Reflect");
        } else if (paths[i][0][6] == '.') {
            duk_get_prop_literal(ctx, -1, "prototype");
            duk_remove(ctx, -2);
        }
        duk_get_prop_string(ctx, -1, paths[i][1]);
        duk_remove(ctx, -2);
        duk_put_prop_index(ctx, -2, i);
    }
    duk_put_prop_literal(ctx, -2, K_OBJECT);
    duk_pop(ctx);
    ew__bi_install(ctx, "Object", false, object_statics);
}

/* JS names -> C functions of this file:
 *   Object.entries, Object.values        object_entries (magic 1 / 0)
 *   Object.fromEntries                   object_from_entries
 *   Object.getOwnPropertyDescriptors     object_get_descriptors
 *   Object.hasOwn                        object_has_own
 */
