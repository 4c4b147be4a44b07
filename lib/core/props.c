/*
 * props.c — small helpers to define built-in-like properties (non-enumerable methods and accessors) from
 * native tables, so each binding module can end with its table of JS names → C functions (STYLE.md 10).
 */
#include "internal.h"

void ew__def_hidden_value(duk_context *ctx, duk_idx_t obj_idx, const char *name)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    duk_push_string(ctx, name);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj_idx, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                                   DUK_DEFPROP_SET_CONFIGURABLE);
}

/* Duktape gives C functions an internal prototype; scripts expect Function.prototype (call/apply/bind
 * work either way, but Object.getPrototypeOf and instanceof Function must hold as for built-ins). */
static void push_native(duk_context *ctx, duk_c_function fn, duk_idx_t nargs)
{
    duk_push_c_function(ctx, fn, nargs);
    ew__duk_clear_constructable(ctx, -1); /* methods and accessors are not constructors */
    duk_get_global_string(ctx, "Function");
    duk_get_prop_string(ctx, -1, "prototype");
    duk_set_prototype(ctx, -3);
    duk_pop(ctx);
}

void ew__def_methods(duk_context *ctx, duk_idx_t obj_idx, const ew__method_t *methods)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    for (const ew__method_t *m = methods; m->name != NULL; m++) {
        duk_push_string(ctx, m->name);
        push_native(ctx, m->fn, m->nargs);
        duk_push_string(ctx, "name");
        duk_push_string(ctx, m->name);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
        duk_push_string(ctx, "length");
        duk_push_int(ctx, m->length);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
        duk_def_prop(ctx, obj_idx, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE |
                                       DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    }
}

void ew__def_getter(duk_context *ctx, duk_idx_t obj_idx, const char *name, duk_c_function get,
                    duk_c_function set)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    duk_uint_t flags = DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE;
    duk_push_string(ctx, name);
    push_native(ctx, get, 0);
    if (set != NULL) {
        push_native(ctx, set, 1);
        flags |= DUK_DEFPROP_HAVE_SETTER;
    }
    duk_def_prop(ctx, obj_idx, flags);
}
