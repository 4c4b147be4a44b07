/*
 * lib/core/dispatch.h — events into a Worker and their requests' lifecycle (dispatch.c), and the worker
 * start-up that isolate.c calls (worker.c). Shared by the files of lib/core only.
 */
#ifndef EW_CORE_DISPATCH_H
#define EW_CORE_DISPATCH_H

#include "isolate.h"

/* Pops the value on top: the module namespace the Worker's program returned (module form), kept for
 * dispatch (export default { fetch, scheduled }). */
void ew__dispatch_set_exports(duk_context *ctx);
/* Pushes a new helper object as an isolate builds it (lib/js/helpers.js, with the class, module and
 * coroutine groups as getters loading on first use). Needs the heap's built-ins, Promise, collections and
 * ew__coro_init first. Used by dispatch.c and by the compiler's unit tests. */
void ew__helpers_push_new(duk_context *ctx);
/* Test hook: the names dispatch.c lists for each lazily loaded helper file are exactly what it returns. */
bool ew__helpers_groups_match(duk_context *ctx);
/* Pushes the helper object compiled programs take as their hidden parameter (lib/js/helpers.js). */
void ew__push_helpers(duk_context *ctx);
/* Loads the runtime layer (lib/js/prelude.js, helpers.js) into a new heap and keeps what it returns. */
void ew__dispatch_init(duk_context *ctx);

/* Dispatches a fetch event (req already checked) into iso; cb runs later from the loop. */
ew_status_t ew__dispatch_fetch(ew__isolate_t *iso, const ew_request_t *req, ew_response_fn cb, void *udata);
/* Frees the finished requests iso keeps for reuse (isolate.c, when the isolate goes). */
void ew__dispatch_release_pool(ew__isolate_t *iso);
/* True if json (len bytes) is the request.cf JSON iso last dispatched (already checked then): the check of
 * ew_worker_fetch_opts and the string it becomes are skipped for a repeat. */
bool ew__dispatch_cf_known(const ew__isolate_t *iso, const char *json, size_t len);
/* Dispatches a scheduled event into iso; cb runs later from the loop. */
ew_status_t ew__dispatch_scheduled(ew__isolate_t *iso, const char *cron, double scheduled_ms, ew_scheduled_fn cb,
                                   void *udata);

/* Dispatches a queue event (arguments already checked; metrics: batch.metadata.metrics, NULL = an empty
 * backlog) into iso; cb runs later from the loop. */
struct ew__queue_metrics;
ew_status_t ew__dispatch_queue(ew__isolate_t *iso, const char *queue, const ew_queue_message_t *msgs, size_t n,
                               const struct ew__queue_metrics *metrics, ew_queue_fn cb, void *udata);

/* Runs `body` (a safe-call body taking `args` that pushes one value: the result or a promise of it) in iso as
 * a request of its own: charged CPU like a fetch, failed when it can never finish. `done` runs once when the
 * value settles or the request fails (isolate.h ew__call_done_fn). Used for Durable Object events. */
ew_status_t ew__dispatch_call(ew__isolate_t *iso, duk_safe_call_function body, void *args, ew__call_done_fn done,
                              void *udata);
/* Pushes the entry module's export `name` (undefined when none or not a module). */
void ew__dispatch_push_export(duk_context *ctx, const char *name);
/* Pushes an ExecutionContext (waitUntil, passThroughOnException) bound to the running request. */
void ew__dispatch_push_context(duk_context *ctx);
/* Pushes the worker's env object. */
void ew__dispatch_push_env(duk_context *ctx);
/* The isolate that takes the worker's next event (worker.c): the current one, or a new one. NULL with err. */
ew__isolate_t *ew__worker_isolate(ew_worker_t *w, ew_error_t *err);

/* Ends a request with an error: a fetch gets the 1101/1102 page (unless it already has a response), a
 * scheduled event the outcome. `message` is copied into the request's ew_error_t. */
void ew__req_fail(ew__req_t *req, ew_status_t why, const char *message);
/* Fails every request of the isolate (the heap died). */
void ew__req_fail_all(ew__isolate_t *iso, ew_status_t why, const char *message);
/* When the isolate has nothing left that could ever run (no microtasks, timers or I/O), fails requests that
 * still wait for a response ("The script will never generate a response.") and ends hung waitUntil work. */
void ew__req_check_idle(ew__isolate_t *iso);
/* Drops one WebSocket hold of request id (websocket.c); the request ends when nothing else keeps it. */
void ew__req_release_ws(ew__isolate_t *iso, uint32_t req_id);
/* Completes every request of the isolate with EW_ERR_CANCELLED, calling the callbacks now. */
void ew__req_cancel_all(ew__isolate_t *iso);

/* Dispatches a fetch event whose ReadableStream body the host reads in pieces (ew_worker_fetch_stream). */
ew_status_t ew__dispatch_fetch_stream(ew__isolate_t *iso, const ew_request_t *req, ew_response_fn cb,
                                      void *udata);
/* Either of the two, with the host's request.cf JSON (checked; NULL = none). */
ew_status_t ew__dispatch_fetch_cf(ew__isolate_t *iso, const ew_request_t *req, const char *cf_json,
                                  size_t cf_json_len, bool stream_body, ew_response_fn cb, void *udata);
/* The same with a body the host feeds as it arrives (body non-NULL, req->body NULL): request.body is a
 * ReadableStream fed by it (req_body.c). */
ew_status_t ew__dispatch_fetch_body(ew__isolate_t *iso, const ew_request_t *req, const char *cf_json,
                                    size_t cf_json_len, bool stream_body, ew_req_body_t *body, ew_response_fn cb,
                                    void *udata);
/* req_body.c: pushes the ReadableStream of a host-fed body (inside a JS entry; may throw). */
void ew__req_body_push_stream(duk_context *ctx, ew_req_body_t *b);
/* req_body.c: no request took the body (static assets answered, dispatch failed): drop what comes. */
void ew__req_body_unused(ew_req_body_t *b);
/* The request's streamed body ended or was destroyed (r->body is NULL again): free the request if it owes
 * nothing else. */
void ew__req_body_done(ew__req_t *r);

/* Streamed bodies handed to the host (body_stream.c). create: a body reading `reader` (taken) for request
 * r, which it keeps alive; NULL on OOM (the reader is closed then). fail: ends the body with `why` (a
 * pending read reports it; the stream is cancelled). detach: the request is going away (fail with
 * EW_ERR_CANCELLED, forget the request). idle: the isolate can never run again; a pending read fails. */
struct ew__stream_reader;
ew_body_t *ew__body_create(ew__req_t *r, struct ew__stream_reader *reader);
void ew__body_fail(ew_body_t *body, ew_status_t why);
void ew__body_detach(ew_body_t *body);
bool ew__body_read_pending(const ew_body_t *body);

/* Runs the worker's script (from its bytecode) in a new isolate: env, globals, top level (worker.c). */
ew_status_t ew__worker_start(ew__isolate_t *iso, ew_error_t *err);

#endif
