/*
 * events.c — the C side of Event and EventTarget (lib/js/events.js) and AbortSignal (lib/js/abort.js), which
 * are JavaScript loaded on first use by lazy.c. C classes that are EventTargets (WebSocket) and C operations
 * that observe a signal (fetch) go through these functions, which call the files' internals and never the
 * methods a script can replace. lazy.h documents the protocol with examples.
 */
#include "lazy.h"

/* Pushes the internal function `fn` of events.js (the caller pushes its arguments and calls it). */
static void push_internal(duk_context *ctx, const char *fn)
{
    ew__lazy_push(ctx, EW__LAZY_EVENTS, fn);
}

void ew__events_push_proto(duk_context *ctx, const char *name)
{
    ew__lazy_push(ctx, EW__LAZY_EVENTS, name);
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_remove(ctx, -2);
}

void ew__events_init_target(duk_context *ctx, duk_idx_t obj_idx)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    push_internal(ctx, "_initTarget");
    duk_dup(ctx, obj_idx);
    duk_call(ctx, 1);
    duk_pop(ctx);
}

void ew__events_init_event(duk_context *ctx, duk_idx_t obj_idx, const char *type, bool cancelable)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    push_internal(ctx, "_initEvent");
    duk_dup(ctx, obj_idx);
    duk_push_string(ctx, type);
    duk_push_boolean(ctx, cancelable);
    duk_call(ctx, 3);
    duk_pop(ctx);
}

void ew__events_push_event(duk_context *ctx, const char *type, bool cancelable)
{
    duk_push_object(ctx);
    ew__events_push_proto(ctx, "Event");
    duk_set_prototype(ctx, -2);
    ew__events_init_event(ctx, -1, type, cancelable);
}

bool ew__events_dispatch(duk_context *ctx, duk_idx_t target_idx, duk_idx_t event_idx)
{
    target_idx = duk_require_normalize_index(ctx, target_idx);
    event_idx = duk_require_normalize_index(ctx, event_idx);
    push_internal(ctx, "_dispatch");
    duk_dup(ctx, target_idx);
    duk_dup(ctx, event_idx);
    duk_call(ctx, 2);
    bool ok = duk_to_boolean(ctx, -1);
    duk_pop(ctx);
    return ok;
}

void ew__events_def_handler(duk_context *ctx, duk_idx_t proto_idx, const char *type)
{
    proto_idx = duk_require_normalize_index(ctx, proto_idx);
    push_internal(ctx, "_defineHandler");
    duk_dup(ctx, proto_idx);
    duk_push_string(ctx, type);
    duk_call(ctx, 2);
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * AbortSignal
 */

bool ew__abort_signal_is(duk_context *ctx, duk_idx_t idx)
{
    /* No load needed to answer "no": a signal exists only once the group is loaded. */
    if (!duk_is_object(ctx, idx))
        return false;
    duk_get_prop_literal(ctx, idx, EW__LAZY_STATE_KEY);
    bool is = false;
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "sig");
        is = duk_get_int(ctx, -1) == 1;
        duk_pop(ctx);
    }
    duk_pop(ctx);
    return is;
}

/* Pushes the internal function `fn` of abort.js. */
static void push_abort_internal(duk_context *ctx, const char *fn)
{
    ew__lazy_push(ctx, EW__LAZY_ABORT, fn);
}

/* Calls internal fn(signal at idx) and leaves its result. */
static void call_on_signal(duk_context *ctx, const char *fn, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    push_abort_internal(ctx, fn);
    duk_dup(ctx, idx);
    duk_call(ctx, 1);
}

bool ew__abort_signal_aborted(duk_context *ctx, duk_idx_t idx)
{
    call_on_signal(ctx, "_aborted", idx);
    bool aborted = duk_to_boolean(ctx, -1);
    duk_pop(ctx);
    return aborted;
}

void ew__abort_signal_push_reason(duk_context *ctx, duk_idx_t idx)
{
    call_on_signal(ctx, "_reason", idx);
}

/* [fn] -> []: internal name(signal, fn). */
static void signal_with_fn(duk_context *ctx, const char *name, duk_idx_t sig_idx)
{
    sig_idx = duk_require_normalize_index(ctx, sig_idx);
    push_abort_internal(ctx, name);
    duk_dup(ctx, sig_idx);
    duk_pull(ctx, -3);
    duk_call(ctx, 2);
    duk_pop(ctx);
}

void ew__abort_signal_follow(duk_context *ctx, duk_idx_t sig_idx)
{
    signal_with_fn(ctx, "_follow", sig_idx);
}

void ew__abort_signal_unfollow(duk_context *ctx, duk_idx_t sig_idx)
{
    signal_with_fn(ctx, "_unfollow", sig_idx);
}

void ew__abort_signal_push_new(duk_context *ctx)
{
    push_abort_internal(ctx, "_newSignal");
    duk_call(ctx, 0);
}

void ew__abort_signal_abort(duk_context *ctx, duk_idx_t sig_idx)
{
    signal_with_fn(ctx, "_abort", sig_idx);
}
