/*
 * lazy.c — globals whose implementation is JavaScript (lib/js) loaded on first use.
 * Groups: events.js (Event, CustomEvent, EventTarget), abort.js (AbortController, AbortSignal, scheduler),
 * message.js (MessageChannel, MessagePort, MessageEvent), blob.js (Blob, File, FormData). abort.js and
 * message.js build on events.js, whose exports they get as a third parameter.
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
 *   toArray(iterable)   a fresh array of an iterable's values
 *   domException(message, name)   a new DOMException (domexception.c)
 *   reportError(error)  logs an uncaught error the way the runtime does
 *   structuredClone(value, transferArray, sourcePort, portsOut)   clone.c
 *   urlCanon(kind, value[, protocol]), isNameCodePoint(cp, first)   urlpattern.c (for urlpattern.js)
 *   isBufferSource(x), bytesOf(bufferSource) (a copy), utf8(string), utf8Decode(bytes), streamOf(bytes)
 *   iteratorPrototype   %IteratorPrototype%
 *   getter("Class.prop")   a native accessor reading one field of the instance state (state_getters)
 */
#include <string.h>

#include "lazy.h"

#include "domexception.h"
#include "js_bytecode.h"
#include "stream.h"
#include "url.h"

#define NATIVE_KEY DUK_HIDDEN_SYMBOL("lzn")

typedef struct lazy_group {
    const unsigned char *bytecode;
    const size_t *len;
    const char *stash_key;         /* where its exports are kept */
    const char *const *globals;    /* the globals it defines (NULL-terminated) */
    int base;                      /* group whose exports the file gets as its third parameter, or -1 */
} lazy_group_t;

static const char *const event_globals[] = {"Event", "CustomEvent", "EventTarget", NULL};
static const char *const abort_globals[] = {"AbortController", "AbortSignal", "scheduler", NULL};
static const char *const message_globals[] = {"MessageChannel", "MessagePort", "MessageEvent", NULL};
static const char *const blob_globals[] = {"Blob", "File", "FormData", NULL};
static const char *const urlpattern_globals[] = {"URLPattern", NULL};

static const lazy_group_t groups[] = {
    [EW__LAZY_EVENTS] = {ew__js_events, &ew__js_events_len, DUK_HIDDEN_SYMBOL("lzE"), event_globals, -1},
    [EW__LAZY_ABORT] = {ew__js_abort, &ew__js_abort_len, DUK_HIDDEN_SYMBOL("lzA"), abort_globals, EW__LAZY_EVENTS},
    [EW__LAZY_MESSAGE] = {ew__js_message, &ew__js_message_len, DUK_HIDDEN_SYMBOL("lzM"), message_globals,
                          EW__LAZY_EVENTS},
    [EW__LAZY_BLOB] = {ew__js_blob, &ew__js_blob_len, DUK_HIDDEN_SYMBOL("lzB"), blob_globals, -1},
    [EW__LAZY_URLPATTERN] = {ew__js_urlpattern, &ew__js_urlpattern_len, DUK_HIDDEN_SYMBOL("lzU"),
                             urlpattern_globals, -1},
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

static duk_ret_t native_is_buffer_source(duk_context *ctx)
{
    duk_push_boolean(ctx, duk_is_buffer_data(ctx, 0));
    return 1;
}

/* Pushes a new Uint8Array holding a copy of n bytes at p. */
static void push_u8_copy(duk_context *ctx, const void *p, size_t n)
{
    void *q = duk_push_fixed_buffer(ctx, n);
    if (n > 0)
        memcpy(q, p, n);
    duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_UINT8ARRAY);
    duk_remove(ctx, -2);
}

/* bytesOf(bufferSource) -> a Uint8Array copy of its bytes */
static duk_ret_t native_bytes_of(duk_context *ctx)
{
    duk_size_t n = 0;
    const void *p = duk_require_buffer_data(ctx, 0, &n);
    push_u8_copy(ctx, p, n);
    return 1;
}

/* utf8(string) -> a Uint8Array of its UTF-8 (lone surrogates as U+FFFD) */
static duk_ret_t native_utf8(duk_context *ctx)
{
    size_t n;
    const char *p = ew__to_utf8(ctx, 0, &n);
    push_u8_copy(ctx, p, n);
    return 1;
}

/* utf8Decode(bytes) -> string ("UTF-8 decode": a leading BOM dropped, invalid bytes as U+FFFD) */
static duk_ret_t native_utf8_decode(duk_context *ctx)
{
    duk_size_t n = 0;
    const char *p = duk_require_buffer_data(ctx, 0, &n);
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    ew__push_utf8(ctx, p, n);
    return 1;
}

/* toArray(iterable) -> a fresh array of its values (TypeError for a non-iterable) */
static duk_ret_t native_to_array(duk_context *ctx)
{
    duk_push_array(ctx);
    ew__iter_t it;
    ew__iter_open(ctx, 0, &it, NULL);
    duk_uarridx_t n = 0;
    while (ew__iter_step(ctx, &it))
        duk_put_prop_index(ctx, 1, n++);
    duk_pop_2(ctx);
    return 1;
}

/* streamOf(bytes) -> a ReadableStream of a copy of the bytes (lib/web/stream.c) */
static duk_ret_t native_stream_of(duk_context *ctx)
{
    ew__stream_push_from_bytes(ctx, 0);
    return 1;
}

/* Read-only accessors of the JS classes that only read a field of the instance state: C functions (a
 * compiled JS getter costs ~1.5 KB of heap, a native one ~0.1 KB). A row: property, state field, the
 * state's brand field, and what `this` must be. */
static const struct {
    const char *prop, *field, *brand, *what;
} state_getters[] = {
    {"Event.type", "type", "ev", "an Event"},
    {"Event.target", "target", "ev", "an Event"},
    {"Event.srcElement", "target", "ev", "an Event"},
    {"Event.currentTarget", "current", "ev", "an Event"},
    {"Event.eventPhase", "phase", "ev", "an Event"},
    {"Event.bubbles", "bubbles", "ev", "an Event"},
    {"Event.cancelable", "cancelable", "ev", "an Event"},
    {"Event.composed", "composed", "ev", "an Event"},
    {"Event.defaultPrevented", "canceled", "ev", "an Event"},
    {"Event.isTrusted", "trusted", "ev", "an Event"},
    {"Event.timeStamp", "time", "ev", "an Event"},
    {"AbortSignal.aborted", "aborted", "sig", "an AbortSignal"},
    {"AbortSignal.reason", "reason", "sig", "an AbortSignal"},
    {"MessageEvent.data", "data", "msg", "a MessageEvent"},
    {"MessageEvent.origin", "origin", "msg", "a MessageEvent"},
    {"MessageEvent.lastEventId", "lastEventId", "msg", "a MessageEvent"},
    {"MessageEvent.source", "source", "msg", "a MessageEvent"},
    {"MessageEvent.ports", "ports", "msg", "a MessageEvent"},
};

static duk_ret_t state_getter(duk_context *ctx)
{
    int row = duk_get_current_magic(ctx);
    duk_push_this(ctx);
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, EW__LAZY_STATE_KEY);
        if (duk_is_object(ctx, -1)) {
            duk_get_prop_string(ctx, -1, state_getters[row].brand);
            bool branded = !duk_is_undefined(ctx, -1);
            duk_pop(ctx);
            if (branded) {
                duk_get_prop_string(ctx, -1, state_getters[row].field);
                return 1;
            }
        }
    }
    return duk_type_error(ctx, "Illegal invocation: this is not %s", state_getters[row].what);
}

/* getter("Class.prop") -> the native accessor for that row */
static duk_ret_t native_getter(duk_context *ctx)
{
    const char *prop = duk_require_string(ctx, 0);
    for (size_t i = 0; i < sizeof(state_getters) / sizeof(state_getters[0]); i++) {
        if (strcmp(state_getters[i].prop, prop) == 0) {
            duk_push_c_function(ctx, state_getter, 0);
            duk_set_magic(ctx, -1, (int) i);
            return 1;
        }
    }
    return duk_error(ctx, DUK_ERR_ERROR, "no native getter for %s", prop);
}

static const ew__method_t native_functions[] = {
    {"getter", native_getter, 1, 1},
    {"isBufferSource", native_is_buffer_source, 1, 1},
    {"bytesOf", native_bytes_of, 1, 1},
    {"utf8", native_utf8, 1, 1},
    {"utf8Decode", native_utf8_decode, 1, 1},
    {"streamOf", native_stream_of, 1, 1},
    {"toArray", native_to_array, 1, 1},
    {"now", native_now, 0, 0},
    {"domException", native_dom_exception, 2, 2},
    {"reportError", native_report_error, 1, 1},
    {"structuredClone", ew__clone_native, 4, 4},
    {"urlCanon", ew__urlpattern_canon, 3, 3},
    {"isNameCodePoint", ew__urlpattern_is_name, 2, 2},
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
    duk_push_heap_stash(ctx); /* where lib/core keeps %IteratorPrototype% */
    duk_get_prop_literal(ctx, -1, EW__STASH_ITERATOR_PROTOTYPE);
    duk_put_prop_literal(ctx, obj, "iteratorPrototype");
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

static duk_ret_t lazy_getter(duk_context *ctx);

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
    if (groups[g].base >= 0)
        push_group(ctx, groups[g].base, true);
    else
        duk_push_undefined(ctx);
    duk_call(ctx, 3);
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
            ours = duk_get_c_function(ctx, -1) == lazy_getter;
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

/* Finds the group and index of the lazy global named by the string at idx; false if it is none of ours. */
static bool find_global(duk_context *ctx, duk_idx_t idx, int *group, int *index)
{
    const char *name = duk_get_string(ctx, idx);
    for (int g = 0; name != NULL && g < N_GROUPS; g++) {
        for (int i = 0; groups[g].globals[i] != NULL; i++) {
            if (strcmp(groups[g].globals[i], name) == 0) {
                *group = g;
                *index = i;
                return true;
            }
        }
    }
    return false;
}

/* One getter and one setter serve every lazy global: Duktape passes accessors the property key as an extra
 * argument (DUK_USE_NONSTD_GETTER_KEY_ARGUMENT / _SETTER_), which says which global is meant. */
static duk_ret_t lazy_getter(duk_context *ctx)
{
    int g, i;
    if (!find_global(ctx, 0, &g, &i))
        return 0;
    push_group(ctx, g, true);
    duk_get_prop_string(ctx, -1, groups[g].globals[i]);
    return 1;
}

static duk_ret_t lazy_setter(duk_context *ctx)
{
    int g, i;
    if (!find_global(ctx, 1, &g, &i))
        return 0;
    duk_dup(ctx, 0);
    define_global(ctx, groups[g].globals[i]);
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
    duk_push_c_function(ctx, lazy_getter, 1);
    duk_push_c_function(ctx, lazy_setter, 2);
    for (int g = 0; g < N_GROUPS; g++) {
        for (int i = 0; groups[g].globals[i] != NULL; i++) {
            duk_push_string(ctx, groups[g].globals[i]);
            duk_dup(ctx, -3);
            duk_dup(ctx, -3);
            duk_def_prop(ctx, global_idx, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
                                              DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
        }
    }
    duk_pop_2(ctx);
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
