/*
 * lazy.c — globals whose implementation is JavaScript (lib/js) loaded on first use.
 *
 * Most Workers never touch EventTarget, AbortController, Blob or MessageChannel, and every line of runtime
 * JS costs heap in every isolate (DUKTAPE-NOTES.md). So each of these globals starts as an accessor on the
 * global object; the first read runs its file (one "group": a function (native, global) returning an
 * object of exports), keeps the exports in the heap stash, and replaces every global of the group with a
 * plain data property (writable, configurable, not enumerable, like other Web globals). Assigning to one
 * of them before that just stores the script's value. C code reaches a group's exports (classes and the
 * internals named with a leading '_') through ew__lazy_push(), which loads the group if needed and never
 * looks at the global object, which scripts may have changed.
 *
 * The `native` object every group receives (made once per heap, on the first load):
 *   key                 the hidden-symbol key under which the JS files keep instance state
 *   now()               performance.now(): ms on the wall clock (globals.c explains the choice)
 *   setTimeout(fn, ms)  the runtime's setTimeout, as installed (scripts cannot replace it here)
 *   toArray(iterable)   a fresh array of an iterable's values (lib/js/helpers.js `spread`)
 *   domException(message, name)   a new DOMException (domexception.c)
 *   reportError(error)  logs an uncaught error the way the runtime does
 *   structuredClone(value, transferArray)   clone.c
 */
#include "lazy.h"

#include "core/dispatch.h"
#include "domexception.h"
#include "js_bytecode.h"

#define NATIVE_KEY DUK_HIDDEN_SYMBOL("lzn")

typedef struct lazy_group {
    const unsigned char *bytecode;
    const size_t *len;
    const char *stash_key;         /* where its exports are kept */
    const char *const *globals;    /* the globals it defines (NULL-terminated) */
} lazy_group_t;

static const char *const event_globals[] = {"Event", "CustomEvent", "EventTarget", "AbortController",
                                            "AbortSignal", NULL};

static const lazy_group_t groups[] = {
    [EW__LAZY_EVENTS] = {ew__js_events, &ew__js_events_len, DUK_HIDDEN_SYMBOL("lzE"), event_globals},
};
#define N_GROUPS ((int) (sizeof(groups) / sizeof(groups[0])))

/* ---------------------------------------------------------------------------------------------------------
 * The native object
 */

static duk_ret_t native_now(duk_context *ctx)
{
    duk_push_number(ctx, ew__perf_now());
    return 1;
}

static duk_ret_t native_dom_exception(duk_context *ctx)
{
    const char *name = duk_require_string(ctx, 1);
    ew__domexception_push(ctx, name, "%s", duk_to_string(ctx, 0));
    return 1;
}

static duk_ret_t native_report_error(duk_context *ctx)
{
    ew__report_error(ctx, 0);
    return 0;
}

static const ew__method_t native_functions[] = {
    {"now", native_now, 0, 0},
    {"domException", native_dom_exception, 2, 2},
    {"reportError", native_report_error, 1, 1},
    {"structuredClone", ew__clone_native, 2, 2},
    {NULL, NULL, 0, 0},
};

static void push_native_object(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (duk_get_prop_literal(ctx, -1, NATIVE_KEY)) {
        duk_remove(ctx, -2);
        return;
    }
    duk_pop(ctx);
    duk_idx_t obj = duk_push_object(ctx);
    ew__def_methods(ctx, obj, native_functions);
    duk_push_literal(ctx, EW__LAZY_STATE_KEY);
    duk_put_prop_literal(ctx, obj, "key");
    ew__timers_push_set_timeout(ctx);
    duk_put_prop_literal(ctx, obj, "setTimeout");
    ew__push_helpers(ctx);
    if (duk_is_object(ctx, -1)) { /* absent only on the bare heaps of unit tests */
        duk_get_prop_literal(ctx, -1, "spread");
        duk_put_prop_literal(ctx, obj, "toArray");
    }
    duk_pop(ctx);
    duk_dup(ctx, obj);
    duk_put_prop_literal(ctx, -3, NATIVE_KEY);
    duk_remove(ctx, -2);
}

/* ---------------------------------------------------------------------------------------------------------
 * Loading
 */

/* Defines `name` on the global object as a plain data property with the value on top (popped). */
static void define_global(duk_context *ctx, const char *name)
{
    duk_push_global_object(ctx);
    duk_push_string(ctx, name);
    duk_dup(ctx, -3);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                              DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
    duk_pop_2(ctx);
}

/* Pushes group g's exports, running its file the first time. With `settle`, the group's globals that are
 * still the original accessors become data properties holding the exports. */
static void push_group(duk_context *ctx, int g, bool settle)
{
    duk_push_global_stash(ctx);
    if (duk_get_prop_string(ctx, -1, groups[g].stash_key)) {
        duk_remove(ctx, -2);
        return;
    }
    duk_pop(ctx);
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) groups[g].bytecode, *groups[g].len);
    duk_load_function(ctx);
    push_native_object(ctx);
    duk_push_global_object(ctx);
    duk_call(ctx, 2);
    duk_dup_top(ctx);
    duk_put_prop_string(ctx, -3, groups[g].stash_key);
    duk_remove(ctx, -2);
    if (!settle)
        return;
    /* Replace the accessors that are still ours (a script may have redefined some of them). */
    duk_push_global_object(ctx);
    for (const char *const *n = groups[g].globals; *n != NULL; n++) {
        duk_push_string(ctx, *n);
        duk_get_prop_desc(ctx, -2, 0);
        bool ours = false;
        if (duk_is_object(ctx, -1)) {
            duk_get_prop_literal(ctx, -1, "get");
            ours = duk_get_c_function(ctx, -1) == ew__lazy_getter;
            duk_pop(ctx);
        }
        duk_pop(ctx);
        if (ours) {
            duk_get_prop_string(ctx, -2, *n);
            define_global(ctx, *n);
        }
    }
    duk_pop(ctx);
}

duk_ret_t ew__lazy_getter(duk_context *ctx)
{
    int magic = duk_get_current_magic(ctx), g = magic >> 8;
    push_group(ctx, g, true);
    duk_get_prop_string(ctx, -1, groups[g].globals[magic & 0xff]);
    return 1;
}

static duk_ret_t lazy_setter(duk_context *ctx)
{
    int magic = duk_get_current_magic(ctx);
    duk_dup(ctx, 0);
    define_global(ctx, groups[magic >> 8].globals[magic & 0xff]);
    return 0;
}

void ew__lazy_push(duk_context *ctx, ew__lazy_group_t group, const char *name)
{
    push_group(ctx, (int) group, true);
    duk_get_prop_string(ctx, -1, name);
    duk_remove(ctx, -2);
}

void ew__lazy_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    for (int g = 0; g < N_GROUPS; g++) {
        for (int i = 0; groups[g].globals[i] != NULL; i++) {
            duk_push_string(ctx, groups[g].globals[i]);
            duk_push_c_function(ctx, ew__lazy_getter, 0);
            duk_set_magic(ctx, -1, (g << 8) | i);
            duk_push_c_function(ctx, lazy_setter, 1);
            duk_set_magic(ctx, -1, (g << 8) | i);
            duk_def_prop(ctx, global_idx, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
                                              DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
        }
    }
}

bool ew__lazy_groups_match(duk_context *ctx)
{
    bool ok = true;
    for (int g = 0; g < N_GROUPS; g++) {
        push_group(ctx, g, false);
        for (int i = 0; groups[g].globals[i] != NULL; i++)
            ok = ok && duk_has_prop_string(ctx, -1, groups[g].globals[i]);
        duk_pop(ctx);
    }
    return ok;
}
