/*
 * lib/web/lazy.h — globals implemented in lib/js and loaded on first use (lazy.c), and the C side of the
 * events they define (events.c): how C classes become EventTargets, dispatch events and observe
 * AbortSignals.
 */
#ifndef EW_WEB_LAZY_H
#define EW_WEB_LAZY_H

#include "internal.h"

/* The hidden-symbol key under which the lazily loaded JS keeps the state of its instances. */
#define EW__LAZY_STATE_KEY DUK_HIDDEN_SYMBOL("js")

/* The groups: one lib/js file each. */
typedef enum ew__lazy_group {
    EW__LAZY_EVENTS = 0,  /* events.js: Event, CustomEvent, EventTarget */
    EW__LAZY_ABORT = 1,   /* abort.js: AbortController, AbortSignal, scheduler (needs events.js) */
    EW__LAZY_MESSAGE = 2, /* message.js: MessageChannel, MessagePort, MessageEvent (needs events.js) */
    EW__LAZY_BLOB = 3,    /* blob.js: Blob, File, FormData */
    EW__LAZY_URLPATTERN = 4, /* urlpattern.js: URLPattern (natives in urlpattern.c) */
} ew__lazy_group_t;

/* Defines every lazy global on the global object at global_idx as an accessor that loads its group. Call
 * once per heap from ew__web_init(). May throw (allocation). */
void ew__lazy_init(duk_context *ctx, duk_idx_t global_idx);
/* Pushes the export `name` of `group` (a class or a '_'-prefixed internal), loading the group first if
 * needed. Never reads the global object. May throw (allocation, a limit while the file runs). */
void ew__lazy_push(duk_context *ctx, ew__lazy_group_t group, const char *name);
/* Test hook: every global listed for a group is among the exports of its file. Loads all groups. */
bool ew__lazy_groups_match(duk_context *ctx);

/* globals.c */
/* Installs performance, navigator and reportError on the global object at global_idx. */
void ew__globals_init(duk_context *ctx, duk_idx_t global_idx);
/* performance.now() and Event.timeStamp: milliseconds since the Unix epoch, sub-millisecond precision. */
double ew__perf_now(void);
/* Reports the value at idx as an uncaught error (logged as "Uncaught <stack>"), like workerd's
 * reportError(). Never throws except on a limit. */
void ew__report_error(duk_context *ctx, duk_idx_t idx);

/* clone.c */
/* Installs structuredClone on the global object at global_idx. */
void ew__clone_init(duk_context *ctx, duk_idx_t global_idx);
/* Pushes structuredClone(value at value_idx) transferring the ArrayBuffers of the array at transfer_idx
 * (already checked: ArrayBuffers, not detached, no duplicates), which are detached on success. Throws
 * DataCloneError (a DOMException) for what cannot be cloned. */
void ew__clone_push(duk_context *ctx, duk_idx_t value_idx, duk_idx_t transfer_idx);
/* The same, the transfer array may also hold MessagePorts; their new ports are appended to the array at
 * ports_idx (0 = not wanted). */
void ew__clone_push_ports(duk_context *ctx, duk_idx_t value_idx, duk_idx_t transfer_idx, duk_idx_t ports_idx);
/* native.structuredClone(value, transferArray) for lib/js files (MessagePort). */
duk_ret_t ew__clone_native(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Events from C (events.c)
 *
 * A class written in C (e.g. WebSocket) becomes an EventTarget like this:
 *
 *   At init, after making its prototype `proto` (ew__web_def_class or ew__dom_def_class):
 *       ew__events_push_proto(ctx, "EventTarget");  duk_set_prototype(ctx, proto);
 *       ew__events_def_handler(ctx, proto, "message");   // onmessage, onclose, ... attributes
 *     and set the constructor's own prototype too (duk_set_prototype of the constructor to the pushed
 *     EventTarget constructor, via ew__lazy_push(ctx, EW__LAZY_EVENTS, "EventTarget")) so that static
 *     inheritance matches `class WebSocket extends EventTarget`.
 *   In its constructor (or wherever C makes an instance at this_idx):
 *       ew__events_init_target(ctx, this_idx);
 *   To fire an event from C (inside a macrotask entered through ew__isolate_call/_pcall):
 *       ew__events_push_event(ctx, "message", false);     // a plain Event, isTrusted = true
 *       duk_push_string(ctx, "hello"); duk_put_prop_literal(ctx, -2, "data");   // extra fields
 *       bool not_canceled = ew__events_dispatch(ctx, this_idx, -1);          // may throw what a listener threw
 *       duk_pop(ctx);
 *     A subclass of Event (MessageEvent, CloseEvent) is an object whose prototype inherits
 *     ew__events_push_proto(ctx, "Event"), initialised with ew__events_init_event().
 * Loading the events group happens on the first of these calls (events.js costs ~70 KB of heap).
 */

/* Pushes the prototype of the events class `name` ("Event", "EventTarget", "CustomEvent", "AbortSignal",
 * "AbortController"). */
void ew__events_push_proto(duk_context *ctx, const char *name);
/* Gives the object at obj_idx the internal state of an EventTarget (listener lists). Its prototype chain
 * must include EventTarget.prototype for the methods to be reachable. */
void ew__events_init_target(duk_context *ctx, duk_idx_t obj_idx);
/* Makes the object at obj_idx an Event of `type` (trusted) with the given flags. */
void ew__events_init_event(duk_context *ctx, duk_idx_t obj_idx, const char *type, bool cancelable);
/* Pushes a new trusted Event of `type`. */
void ew__events_push_event(duk_context *ctx, const char *type, bool cancelable);
/* Dispatches the event at event_idx on the EventTarget at target_idx (the on<type> handler, then the
 * listeners, in order). Returns false if a listener canceled it. Throws what a listener throws (workerd
 * behaviour); a caller that must go on after a failing listener calls it under duk_pcall and reports the
 * error with ew__report_error() (rethrowing when ew__isolate_aborting()). */
bool ew__events_dispatch(duk_context *ctx, duk_idx_t target_idx, duk_idx_t event_idx);
/* Defines the `on<type>` attribute (a handler run before listeners) on the prototype at proto_idx. */
void ew__events_def_handler(duk_context *ctx, duk_idx_t proto_idx, const char *type);

/* ---------------------------------------------------------------------------------------------------------
 * AbortSignal from C (events.c). How fetch (or any C operation) observes a signal:
 *
 *   if (ew__abort_signal_is(ctx, sig_idx)) {
 *       if (ew__abort_signal_aborted(ctx, sig_idx)) {        // already aborted: fail at once
 *           ew__abort_signal_push_reason(ctx, sig_idx);       // reject with signal.reason
 *           ...
 *       }
 *       duk_push_c_function(ctx, on_abort, 1);              // called with the reason when it aborts,
 *       ...attach the operation's id as a hidden property of that function...
 *       duk_dup_top(ctx);  (keep a copy to unfollow later, e.g. in a hidden property of the operation)
 *       ew__abort_signal_follow(ctx, sig_idx);              // pops the function
 *   }
 *   ...when the operation finishes first: push the same function and call
 *       ew__abort_signal_unfollow(ctx, sig_idx);            // pops it
 *
 * Followers run in order before the 'abort' event is dispatched, from whatever called abort() (a script,
 * a timer of AbortSignal.timeout, another signal of AbortSignal.any). A follower that throws does not stop
 * the others: the first error is rethrown by controller.abort() after the 'abort' event.
 */
bool ew__abort_signal_is(duk_context *ctx, duk_idx_t idx);
bool ew__abort_signal_aborted(duk_context *ctx, duk_idx_t idx);
/* Pushes signal.reason (undefined while not aborted). */
void ew__abort_signal_push_reason(duk_context *ctx, duk_idx_t idx);
/* Pops a function and calls it with the reason when the signal at sig_idx aborts (never if it already
 * has: check ew__abort_signal_aborted first). */
void ew__abort_signal_follow(duk_context *ctx, duk_idx_t sig_idx);
/* Pops a function given to ew__abort_signal_follow and forgets it (no effect if absent). */
void ew__abort_signal_unfollow(duk_context *ctx, duk_idx_t sig_idx);
/* Pushes a new AbortSignal, not aborted, that C code aborts with ew__abort_signal_abort (Request.signal). */
void ew__abort_signal_push_new(duk_context *ctx);
/* Aborts the signal at sig_idx with the reason on top (popped; undefined = AbortError DOMException).
 * Runs followers and listeners; may throw what they throw. */
void ew__abort_signal_abort(duk_context *ctx, duk_idx_t sig_idx);

#endif /* EW_WEB_LAZY_H */
