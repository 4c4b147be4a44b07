/*
 * dispatch.c — events into a Worker and the lifecycle of each request.
 *
 * A fetch event: ew__dispatch_fetch creates an ew__req_t and, in a protected call charged to it, builds the
 * Request and a FetchEvent (hidden id and flags) and calls the listeners registered through the prelude's
 * addEventListener. event.respondWith/waitUntil are natives: a Response (or a settled promise of one) ends
 * the request at once, a pending promise gets two native reaction handlers carrying the request id, so no
 * JS closure is made per request. The response is handed to the host from the event loop (deliver_ev),
 * never from inside JS, so a host callback cannot re-enter a running heap.
 *
 *   new ──dispatch──> running ──respond/fail──> complete ──loop──> delivered ──waitUntil settled──> freed
 *                                                                      └──────cap timer────────────┘
 *
 * A request whose isolate can no longer make progress (nothing queued, no timers, no I/O) is failed with
 * workerd's message "The script will never generate a response." instead of hanging forever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "dispatch.h"
#include "js_bytecode.h"
#include "bindings/internal.h"
#include "bindings/queue.h"
#include "web/internal.h"
#include "web/stream.h"

#define DISPATCH_KEY DUK_HIDDEN_SYMBOL("dispatch")
#define DEFAULT_WAIT_UNTIL_MS 30000

static const char BODY_1101[] = "Error 1101: Worker threw exception\n";
static const char BODY_1102[] = "Error 1102: Worker exceeded resource limits\n";
static const char BODY_INTERNAL[] = "Error 1101: Worker failed\n";

/* ---------------------------------------------------------------------------------------------------------
 * Request lifecycle
 */

static void on_deliver(evutil_socket_t fd, short what, void *arg);
static void on_wait_cap(evutil_socket_t fd, short what, void *arg);

/* Finished requests are kept for reuse (at most REQ_POOL_KEEP per isolate) with their delivery event:
 * a request then costs no calloc, malloc or free of its own. */
#define REQ_POOL_KEEP 16

static ew__req_t *req_new(ew__isolate_t *iso, ew__req_kind_t kind)
{
    ew__req_t *r = iso->req_pool;
    if (r != NULL) {
        iso->req_pool = r->next;
        iso->req_pooled--;
        struct event *ev = r->deliver_ev;
        memset(r, 0, sizeof(*r));
        r->deliver_ev = ev;
        event_assign(ev, iso->rt->base, -1, 0, on_deliver, r); /* not pending: it was deleted in req_free */
    } else {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return NULL;
        r->deliver_ev = evtimer_new(iso->rt->base, on_deliver, r);
        if (r->deliver_ev == NULL) {
            free(r);
            return NULL;
        }
    }
    r->id = iso->next_req_id++;
    if (iso->next_req_id == 0)
        iso->next_req_id = 1;
    r->kind = kind;
    r->iso = iso;
    r->chain_depth = iso->rt->chain_depth;
    r->next = iso->reqs;
    iso->reqs = r;
    iso->pending++;
    if (iso->worker != NULL)
        iso->worker->stats.requests++;
    return r;
}

static void collect_free(ew__req_t *r);

static void req_free(ew__req_t *r)
{
    ew__isolate_t *iso = r->iso;
    if (r->body != NULL) {
        ew__body_detach(r->body);
        r->body = NULL;
    }
    collect_free(r);
    for (ew__req_t **pp = &iso->reqs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    iso->pending--;
    ew__timers_cancel_req(iso, r->id);
    ew__fetch_cancel_req(iso, r->id);
    if (iso->running == r)
        iso->running = NULL;
    if (iso->abort_req == r)
        iso->abort_req = NULL;
    if (r->wait_timer != NULL)
        event_free(r->wait_timer);
    ew_response_destroy(r->response);
    ew__queue_result_free(r->queue_result);
    if (iso->req_pooled < REQ_POOL_KEEP) {
        event_del(r->deliver_ev);
        r->next = iso->req_pool;
        iso->req_pool = r;
        iso->req_pooled++;
    } else {
        event_free(r->deliver_ev);
        free(r);
    }
    ew__isolate_maybe_reap(iso);
}

void ew__dispatch_release_pool(ew__isolate_t *iso)
{
    while (iso->req_pool != NULL) {
        ew__req_t *r = iso->req_pool;
        iso->req_pool = r->next;
        event_free(r->deliver_ev);
        free(r);
    }
    iso->req_pooled = 0;
}

ew__req_t *ew__isolate_find_req(ew__isolate_t *iso, uint32_t id)
{
    for (ew__req_t *r = iso->reqs; r != NULL; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

/* Frees the request if everything it owed is done; otherwise arms the waitUntil cap. */
static void req_maybe_free(ew__req_t *r)
{
    if (!r->delivered || r->body != NULL || r->ws_holds > 0)
        return;
    if (r->wait_until <= 0) {
        req_free(r);
        return;
    }
    if (r->wait_timer == NULL) {
        ew_runtime_t *rt = r->iso->rt;
        uint32_t ms = rt->cfg.wait_until_ms ? rt->cfg.wait_until_ms : DEFAULT_WAIT_UNTIL_MS;
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        r->wait_timer = evtimer_new(rt->base, on_wait_cap, r);
        if (r->wait_timer == NULL || evtimer_add(r->wait_timer, &tv) != 0)
            req_free(r);
    }
}

/* A scheduled or queue event: its outcome includes its waitUntil work, as in workerd. */
static bool waits_for_wait_until(const ew__req_t *r)
{
    return r->kind == EW__REQ_SCHEDULED || r->kind == EW__REQ_QUEUE;
}

/* Marks the request complete and schedules delivery from the loop. A scheduled or queue event is delivered
 * only once its waitUntil work has settled (its outcome includes that work). */
static void req_complete(ew__req_t *r)
{
    if (r->complete && r->kind == EW__REQ_FETCH)
        return;
    r->complete = true;
    if (waits_for_wait_until(r) && r->wait_until > 0)
        return;
    event_active(r->deliver_ev, EV_TIMEOUT, 1); /* runs in this loop iteration, after the current callback */
}

/* Tells the host what became of each message of a queue event (the verdicts live on the stack: at most
 * EW__QUEUE_MAX_BATCH messages through the public API, which checks it). */
static void deliver_queue(ew__req_t *r, const ew_error_t *err)
{
    ew_queue_verdict_t v[EW__QUEUE_MAX_BATCH];
    size_t n = r->queue_n <= EW__QUEUE_MAX_BATCH ? r->queue_n : EW__QUEUE_MAX_BATCH;
    ew__queue_verdicts(r->queue_result, r->outcome != EW_OK, v, n);
    if (r->queue_cb != NULL)
        r->queue_cb(r->udata, r->outcome, err, v, n);
}

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__req_t *r = arg;
    if (r->delivered)
        return;
    r->delivered = true;
    const ew_error_t *err = r->outcome != EW_OK ? &r->error : NULL;
    if (r->kind == EW__REQ_FETCH) {
        ew_response_t *resp = r->response;
        r->response = NULL;
        r->in_callback = true; /* the host may drop a WebSocket hold in there: on_deliver frees r below */
        if (r->fetch_cb != NULL)
            r->fetch_cb(r->udata, resp, err);
        else
            ew_response_destroy(resp);
        r->in_callback = false;
    } else if (r->kind == EW__REQ_SCHEDULED) {
        if (r->scheduled_cb != NULL)
            r->scheduled_cb(r->udata, r->outcome, err);
        r->wait_until = 0;
    } else if (r->kind == EW__REQ_QUEUE) {
        deliver_queue(r, err);
        r->wait_until = 0;
    }
    req_maybe_free(r);
}

void ew__req_body_done(ew__req_t *r)
{
    req_maybe_free(r);
}

/* Ends a call request by telling its owner (once). */
static void call_finish(ew__req_t *r, duk_context *ctx, duk_idx_t value, ew_status_t outcome, const char *message)
{
    ew__call_done_fn done = r->call_done;
    r->call_done = NULL;
    if (done != NULL)
        done(r->udata, ctx, value, outcome, message);
}

static void on_wait_cap(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__req_t *r = arg;
    static const char msg[] = "waitUntil() tasks did not complete within the allowed time and were cancelled.";
    if (r->iso->ctx != NULL && !r->iso->dead)
        ew__isolate_log(r->iso->ctx, EW_LOG_WARN, msg, sizeof(msg) - 1);
    r->wait_until = 0;
    if (r->body != NULL || r->ws_holds > 0)
        return; /* its streamed body or its WebSocket still holds it */
    req_free(r);
}

void ew__req_release_ws(ew__isolate_t *iso, uint32_t req_id)
{
    ew__req_t *r = ew__isolate_find_req(iso, req_id);
    if (r != NULL && r->ws_holds > 0 && --r->ws_holds == 0 && !r->in_callback)
        req_maybe_free(r);
}

void ew__req_fail(ew__req_t *r, ew_status_t why, const char *message)
{
    if (r->body != NULL) /* headers went out already: the body ends with the reason */
        ew__body_fail(r->body, why);
    if (r->complete && (r->kind == EW__REQ_FETCH || r->outcome != EW_OK))
        return;
    collect_free(r);
    r->outcome = why;
    ew__error_set(&r->error, why, "%s", message);
    ew_worker_t *w = r->iso->worker;
    if (w != NULL) {
        if (why == EW_ERR_CPU_LIMIT || why == EW_ERR_MEMORY_LIMIT)
            w->stats.limit_errors++;
        else if (why == EW_ERR_EXCEPTION)
            w->stats.exceptions++;
    }
    if (r->kind == EW__REQ_FETCH) {
        bool limit = why == EW_ERR_CPU_LIMIT || why == EW_ERR_MEMORY_LIMIT;
        const char *body = limit ? BODY_1102 : why == EW_ERR_INTERNAL ? BODY_INTERNAL : BODY_1101;
        r->response = ew__response_make(limit ? 503 : 500, "text/plain;charset=UTF-8", body, strlen(body), why);
        if (r->response != NULL)
            r->response->pass_through = r->pass_through;
    } else {
        r->wait_until = 0;
        if (r->kind == EW__REQ_CALL)
            call_finish(r, NULL, 0, why, message);
    }
    req_complete(r);
}

void ew__req_fail_all(ew__isolate_t *iso, ew_status_t why, const char *message)
{
    for (ew__req_t *r = iso->reqs; r != NULL; r = r->next)
        ew__req_fail(r, why, message);
}

void ew__req_check_idle(ew__isolate_t *iso)
{
    if (iso->timers != NULL || iso->io_pending > 0 || iso->dead || ew__microtask_pending(iso->ctx) > 0)
        return;
    ew__req_t *next;
    for (ew__req_t *r = iso->reqs; r != NULL; r = next) {
        next = r->next;
        if (r->body != NULL && ew__body_read_pending(r->body)) {
            static const char msg[] = "The script will never generate a response.";
            ew__isolate_log(iso->ctx, EW_LOG_ERROR, msg, sizeof(msg) - 1);
            ew__body_fail(r->body, EW_ERR_EXCEPTION);
        }
        if (!r->complete) {
            static const char msg[] = "The script will never generate a response.";
            ew__isolate_log(iso->ctx, EW_LOG_ERROR, msg, sizeof(msg) - 1);
            ew__req_fail(r, EW_ERR_EXCEPTION, msg);
        } else if (r->wait_until > 0) {
            /* The waitUntil promises can never settle now; end the work instead of waiting for the cap. */
            r->wait_until = 0;
            if (waits_for_wait_until(r))
                req_complete(r);
            else
                req_maybe_free(r);
        }
    }
}

void ew__req_cancel_all(ew__isolate_t *iso)
{
    while (iso->reqs != NULL) {
        ew__req_t *r = iso->reqs;
        if (!r->delivered) {
            if (!r->complete)
                ew__req_fail(r, EW_ERR_CANCELLED, "The worker was unloaded before the request finished.");
            event_del(r->deliver_ev);
            on_deliver(-1, 0, r);
        }
        if (iso->reqs == r) {
            r->wait_until = 0;
            r->ws_holds = 0;
            req_free(r);
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Natives called by the prelude
 */

/* ---- event state: hidden props on the event object ---- */

#define EV_ID DUK_HIDDEN_SYMBOL("id")
#define EV_FLAGS DUK_HIDDEN_SYMBOL("ef")
#define HANDLER_ID DUK_HIDDEN_SYMBOL("rid")

enum { EV_DISPATCHING = 1, EV_RESPONDED = 2 };

/* Reads the id and flags of the event `this`; NULL request when it is not an event or has finished. */
static ew__req_t *this_event(duk_context *ctx, int *flags)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, EV_ID);
    duk_get_prop_literal(ctx, -2, EV_FLAGS);
    if (!duk_is_number(ctx, -2))
        (void) duk_error(ctx, DUK_ERR_TYPE_ERROR, "Illegal invocation");
    uint32_t id = duk_get_uint(ctx, -2);
    *flags = duk_get_int(ctx, -1);
    duk_pop_3(ctx);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    return iso ? ew__isolate_find_req(iso, id) : NULL;
}

static void set_this_flags(duk_context *ctx, int flags)
{
    duk_push_this(ctx);
    duk_push_int(ctx, flags);
    duk_put_prop_literal(ctx, -2, EV_FLAGS);
    duk_pop(ctx);
}

/* ---- a stream body read whole (ew_worker_fetch): the response waits until the stream ends ---- */

struct ew__collect {
    ew__stream_reader_t *reader;  /* owned */
    ew_response_t *resp;          /* owned: status and headers, body filled at the end */
    ew__buf_t buf;                /* the bytes so far */
    bool pumping, again;          /* trampoline: chunks that are ready at once do not nest calls */
};

static void collect_free(ew__req_t *r)
{
    struct ew__collect *c = r->collect;
    if (c == NULL)
        return;
    r->collect = NULL;
    ew__stream_reader_close(c->reader);
    ew_response_destroy(c->resp);
    ew__buf_dispose(&c->buf);
    free(c);
}

static void fail_with_value(duk_context *ctx, ew__req_t *r, duk_idx_t idx);
static void collect_pump(ew__req_t *r);

static void on_collect(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data, size_t len)
{
    ew__req_t *r = udata;
    struct ew__collect *c = r->collect;
    if (ev == EW__STREAM_CHUNK) {
        /* The whole body is held in C memory here: bound it like the heap it came from. */
        if (c->buf.len + len > r->iso->heap_limit) {
            static const char msg[] = "Worker exceeded memory limit.";
            ew__isolate_log(ctx, EW_LOG_ERROR, msg, sizeof(msg) - 1);
            ew__req_fail(r, EW_ERR_MEMORY_LIMIT, msg);
            return;
        }
        if (!ew__buf_append(&c->buf, data, len)) {
            ew__req_fail(r, EW_ERR_NOMEM, "out of memory reading the response body");
            return;
        }
        collect_pump(r);
    } else if (ev == EW__STREAM_END) {
        if (!ew__buf_reserve(&c->buf, 1)) {
            ew__req_fail(r, EW_ERR_NOMEM, "out of memory reading the response body");
            return;
        }
        ew_response_t *resp = c->resp;
        c->resp = NULL;
        free(resp->body);
        resp->body = (uint8_t *) c->buf.data;
        resp->body_len = c->buf.len;
        resp->body[resp->body_len] = 0;
        ew__buf_init(&c->buf);
        collect_free(r);
        r->response = resp;
        req_complete(r);
    } else if (ctx != NULL) {
        fail_with_value(ctx, r, -1);
    } else {
        ew__req_fail(r, EW_ERR_CANCELLED, "The worker was unloaded before the request finished.");
    }
}

/* Reads the next chunk; a chunk that is there at once is handled by the loop below, not by recursion. */
static void collect_pump(ew__req_t *r)
{
    if (r->collect->pumping) {
        r->collect->again = true;
        return;
    }
    r->collect->pumping = true;
    do {
        r->collect->again = false;
        (void) ew__stream_reader_read(r->collect->reader, on_collect, r);
    } while (r->collect != NULL && r->collect->again);
    if (r->collect != NULL)
        r->collect->pumping = false;
}

/* Microtask: [request id] -> starts reading the request's stream body whole. */
static void collect_start_job(duk_context *ctx, duk_idx_t nargs)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    ew__req_t *r = iso ? ew__isolate_find_req(iso, duk_get_uint(ctx, duk_get_top(ctx) - nargs)) : NULL;
    if (r != NULL && r->collect != NULL)
        collect_pump(r);
}

/* Ends req with the value at idx as its response (or EW_ERR_BAD_RESPONSE). A Response carrying a
 * WebSocket (status 101) hands its end to the host first (websocket.c). A ReadableStream body is read
 * whole first, or, for ew_worker_fetch_stream, handed to the host as resp->body_stream. */
static void respond_with_value(duk_context *ctx, ew__req_t *r, duk_idx_t idx)
{
    if (r == NULL || r->complete || r->collect != NULL)
        return;
    idx = duk_normalize_index(ctx, idx);
    struct ew_websocket *ws = NULL;
    if (ew__response_push_websocket(ctx, idx)) {
        ws = ew__ws_couple(ctx, r, -1);
        if (ws == NULL) {
            fail_with_value(ctx, r, -1);
            duk_pop_2(ctx); /* the error and the WebSocket */
            return;
        }
    }
    duk_pop(ctx);
    ew_response_t *resp = NULL;
    ew__stream_reader_t *reader = NULL;
    ew_error_t err;
    if (ew__response_extract_stream(ctx, idx, &resp, &reader, &err) != EW_OK) {
        ew__ws_abandon(ws);
        ew__isolate_log(ctx, EW_LOG_ERROR, err.message, strlen(err.message));
        ew__req_fail(r, EW_ERR_BAD_RESPONSE, err.message);
        return;
    }
    resp->websocket = ws;
    if (reader != NULL && r->stream_body) {
        resp->body_stream = ew__body_create(r, reader);
        if (resp->body_stream == NULL) {
            ew_response_destroy(resp);
            ew__req_fail(r, EW_ERR_NOMEM, "out of memory streaming the response body");
            return;
        }
    } else if (reader != NULL) {
        struct ew__collect *c = calloc(1, sizeof(*c));
        if (c == NULL) {
            ew__stream_reader_close(reader);
            ew_response_destroy(resp);
            ew__req_fail(r, EW_ERR_NOMEM, "out of memory reading the response body");
            return;
        }
        c->reader = reader;
        c->resp = resp;
        ew__buf_init(&c->buf);
        r->collect = c;
        /* Start from a microtask: this may run on a coroutine's thread (respondWith inside an async
         * listener), and the reads must run on the thread that is running. */
        duk_push_uint(ctx, r->id);
        ew__microtask_enqueue(ctx, collect_start_job, 1);
        return;
    }
    r->response = resp;
    req_complete(r);
}

/* Ends req as an uncaught exception with the error value at idx (logged with its stack). */
static void fail_with_status(duk_context *ctx, ew__req_t *r, duk_idx_t idx, ew_status_t why)
{
    idx = duk_normalize_index(ctx, idx);
    const char *text = ew__log_uncaught(ctx, idx, "Uncaught ");
    if (r != NULL && !r->complete) {
        ew__req_fail(r, why, text);
        /* Where it was thrown, for hosts that show it (e.g. Python's ScriptError.line). */
        ew_error_t where;
        duk_dup(ctx, idx);
        ew__error_from_js(ctx, &where, why);
        duk_pop(ctx);
        memcpy(r->error.file, where.file, sizeof(r->error.file));
        r->error.line = where.line;
        r->error.column = where.column;
    }
    duk_pop(ctx);
}

static void fail_with_value(duk_context *ctx, ew__req_t *r, duk_idx_t idx)
{
    fail_with_status(ctx, r, idx, EW_ERR_EXCEPTION);
}

/* Ends req because the script has no way to answer it (no listener, no respondWith). */
static void fail_no_handler(duk_context *ctx, ew__req_t *r, const char *msg)
{
    duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", msg);
    fail_with_status(ctx, r, -1, EW_ERR_NO_HANDLER);
    duk_pop(ctx);
}

static ew__req_t *handler_req(duk_context *ctx)
{
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, HANDLER_ID);
    uint32_t id = duk_get_uint(ctx, -1);
    duk_pop_2(ctx);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    return iso ? ew__isolate_find_req(iso, id) : NULL;
}

/* Reaction handlers attached by respondWith/waitUntil; magic says which. Each carries the request id. */
enum { H_RESPOND, H_FAIL, H_WAIT_DONE, H_WAIT_FAIL, H_DONE, H_CALL_OK, H_CALL_FAIL };

static void wait_done(ew__req_t *r)
{
    if (r == NULL || r->wait_until <= 0)
        return;
    if (--r->wait_until == 0) {
        if (waits_for_wait_until(r) && r->complete)
            req_complete(r);
        else
            req_maybe_free(r);
    }
}

static duk_ret_t on_settled(duk_context *ctx)
{
    ew__req_t *r = handler_req(ctx);
    switch (duk_get_current_magic(ctx)) {
    case H_RESPOND:
        respond_with_value(ctx, r, 0);
        break;
    case H_FAIL:
        fail_with_value(ctx, r, 0);
        break;
    case H_DONE:
        if (r != NULL && !r->complete)
            req_complete(r);
        break;
    case H_CALL_OK:
    case H_CALL_FAIL:
        if (r != NULL && !r->complete) {
            call_finish(r, ctx, 0, duk_get_current_magic(ctx) == H_CALL_OK ? EW_OK : EW_ERR_EXCEPTION, NULL);
            req_complete(r);
        }
        break;
    case H_WAIT_FAIL:
        (void) ew__log_uncaught(ctx, 0, "Uncaught (in waitUntil) ");
        duk_pop(ctx);
        /* fall through */
    default:
        wait_done(r);
        break;
    }
    return 0;
}

static void push_handler(duk_context *ctx, int magic, uint32_t id)
{
    duk_push_c_function(ctx, on_settled, 1);
    duk_set_magic(ctx, -1, magic);
    duk_push_uint(ctx, id);
    duk_put_prop_literal(ctx, -2, HANDLER_ID);
}

/* Settles the value at idx for req: with an already-settled native promise or a plain value the handler
 * runs now (no microtask turn is observable to the Worker here); otherwise reactions are attached. */
static void when_settled(duk_context *ctx, ew__req_t *r, duk_idx_t idx, int on_ok, int on_err)
{
    idx = duk_require_normalize_index(ctx, idx);
    int st = ew__promise_peek(ctx, idx); /* a settled promise's result is pushed */
    bool thenable = false;
    if (st < 0 && duk_is_object(ctx, idx)) {
        duk_get_prop_literal(ctx, idx, "then");
        thenable = duk_is_callable(ctx, -1);
        duk_pop(ctx);
    }
    if (st == EW__PROMISE_FULFILLED || st == EW__PROMISE_REJECTED) {
        bool ok = st == EW__PROMISE_FULFILLED;
        duk_idx_t v = duk_get_top_index(ctx);
        if (ok && on_ok == H_DONE)
            req_complete(r);
        else if (ok ? on_ok == H_RESPOND : on_err == H_FAIL)
            ok ? respond_with_value(ctx, r, v) : fail_with_value(ctx, r, v);
        else {
            push_handler(ctx, ok ? on_ok : on_err, r->id);
            duk_dup(ctx, v);
            duk_call(ctx, 1);
            duk_pop(ctx);
        }
        duk_pop(ctx);
        return;
    }
    if (!thenable && st < 0) {
        if (on_ok == H_CALL_OK) {
            call_finish(r, ctx, idx, EW_OK, NULL);
            req_complete(r);
        } else if (on_ok == H_RESPOND)
            respond_with_value(ctx, r, idx);
        else if (on_ok == H_DONE)
            req_complete(r);
        else
            wait_done(r);
        return;
    }
    duk_dup(ctx, idx);
    ew__promise_push_resolved(ctx);
    duk_push_string(ctx, "then");
    push_handler(ctx, on_ok, r->id);
    push_handler(ctx, on_err, r->id);
    duk_call_prop(ctx, -4, 2);
    duk_pop_2(ctx);
}

/* FetchEvent.prototype.respondWith(response) */
static duk_ret_t event_respond_with(duk_context *ctx)
{
    int flags;
    ew__req_t *r = this_event(ctx, &flags);
    if (!(flags & EV_DISPATCHING))
        return duk_error(ctx, DUK_ERR_ERROR,
                         "FetchEvent.respondWith() must be called synchronously from the fetch event listener.");
    if (flags & EV_RESPONDED)
        return duk_error(ctx, DUK_ERR_ERROR,
                         "FetchEvent.respondWith() has already been called; it can only be called once.");
    set_this_flags(ctx, flags | EV_RESPONDED);
    duk_set_top(ctx, 1);
    if (r != NULL)
        when_settled(ctx, r, 0, H_RESPOND, H_FAIL);
    return 0;
}

/* FetchEvent/ScheduledEvent.prototype.waitUntil(promise) */
static duk_ret_t event_wait_until(duk_context *ctx)
{
    int flags;
    ew__req_t *r = this_event(ctx, &flags);
    duk_set_top(ctx, 1);
    if (r == NULL)
        return 0;
    r->wait_until++;
    when_settled(ctx, r, 0, H_WAIT_DONE, H_WAIT_FAIL);
    return 0;
}

/* FetchEvent.prototype.passThroughOnException() */
static duk_ret_t event_pass_through(duk_context *ctx)
{
    int flags;
    ew__req_t *r = this_event(ctx, &flags);
    if (r != NULL)
        r->pass_through = true;
    return 0;
}

static const ew__method_t natives[] = {
    {"respondWith", event_respond_with, 1, 1},
    {"waitUntil", event_wait_until, 1, 1},
    {"passThroughOnException", event_pass_through, 0, 0},
    {NULL, NULL, 0, 0},
};

#define HELPERS_KEY DUK_HIDDEN_SYMBOL("helpers")

void ew__push_helpers(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, HELPERS_KEY);
    duk_remove(ctx, -2);
}

/* Helper groups loaded on first use: each file returns an object whose properties are copied onto the
 * helper object; until then the names below are getters that load the group. A Worker that uses no class
 * and no module pays for neither (each is tens of KB of functions per isolate). The lists must match what
 * the files return: ew__helpers_groups_match() checks it in the unit tests. */
typedef struct helper_group {
    const unsigned char *bytecode;
    const size_t *len;
    const char *const *names;
} helper_group_t;

static const char *const class_names[] = {
    "classCreate", "defineMethods", "fnName", "brandAdd", "noNew", "ntOf", "superCtor", "superAlloc", "superEnd",
    "noThis", "derivedReturn", "baseReturn", "superGet", "superSet", "field", "privateName",
    "privateBrand", "privInit", "privGet",
    "privSet", "privMethod", "privGetter", "privSetter", "privHas", "privReadOnly", NULL,
};
static const char *const module_names[] = {"modules", "setName", "immutable", NULL};
static const char *const regex_names[] = {"regexFlags", "regexFlagsInit", NULL};

static const helper_group_t groups[] = {
    {ew__js_helpers_class, &ew__js_helpers_class_len, class_names},
    {ew__js_helpers_module, &ew__js_helpers_module_len, module_names},
    {ew__js_helpers_regex, &ew__js_helpers_regex_len, regex_names},
};
#define N_GROUPS ((int) (sizeof(groups) / sizeof(groups[0])))

/* Runs group g's file: pushes the object of helpers it returns. */
static void push_group(duk_context *ctx, int g)
{
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) groups[g].bytecode, *groups[g].len);
    duk_load_function(ctx);
    if (groups[g].bytecode == ew__js_helpers_class)
        ew__class_push_natives(ctx);
    else
        duk_push_object(ctx);
    duk_push_global_object(ctx);
    duk_call(ctx, 2);
}

/* Getter standing in for group (magic >> 8)'s helper (magic & 0xff) until first use. */
static duk_ret_t lazy_group_helper(duk_context *ctx)
{
    int magic = duk_get_current_magic(ctx), g = magic >> 8;
    duk_push_this(ctx);
    duk_idx_t target = duk_get_top_index(ctx);
    push_group(ctx, g);
    for (const char *const *n = groups[g].names; *n != NULL; n++) {
        duk_push_string(ctx, *n);
        duk_get_prop_string(ctx, -2, *n);
        duk_def_prop(ctx, target, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
                                      DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
    }
    duk_pop(ctx);
    duk_get_prop_string(ctx, target, groups[g].names[magic & 0xff]);
    return 1;
}

static void add_lazy_groups(duk_context *ctx, duk_idx_t target)
{
    target = duk_require_normalize_index(ctx, target);
    for (int g = 0; g < N_GROUPS; g++) {
        for (int i = 0; groups[g].names[i] != NULL; i++) {
            duk_push_string(ctx, groups[g].names[i]);
            duk_push_c_function(ctx, lazy_group_helper, 0);
            duk_set_magic(ctx, -1, (g << 8) | i);
            duk_def_prop(ctx, target, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_SET_ENUMERABLE |
                                          DUK_DEFPROP_SET_CONFIGURABLE);
        }
    }
}

bool ew__helpers_groups_match(duk_context *ctx)
{
    bool ok = true;
    for (int g = 0; g < N_GROUPS; g++) {
        push_group(ctx, g);
        size_t n = 0, expected = 0;
        while (groups[g].names[expected] != NULL)
            ok = ok && duk_has_prop_string(ctx, -1, groups[g].names[expected++]);
        duk_enum(ctx, -1, DUK_ENUM_OWN_PROPERTIES_ONLY);
        while (duk_next(ctx, -1, 0)) {
            n++;
            duk_pop(ctx);
        }
        duk_pop_2(ctx);
        ok = ok && n == expected;
    }
    return ok;
}

/* builtinModule(url): the exports of a module the runtime provides ('cloudflare:workers'). */
static duk_ret_t builtin_module(duk_context *ctx)
{
    const char *url = duk_safe_to_string(ctx, 0);
    if (strcmp(url, "cloudflare:workers") == 0) {
        ew__durable_push_workers_module(ctx);
        return 1;
    }
    return duk_error(ctx, DUK_ERR_ERROR, "No such module \"%s\".", url);
}

void ew__helpers_push_new(duk_context *ctx)
{
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) ew__js_helpers, ew__js_helpers_len);
    duk_load_function(ctx);
    duk_push_object(ctx);
    duk_push_global_object(ctx);
    duk_call(ctx, 2);
    add_lazy_groups(ctx, -1);
    duk_push_c_function(ctx, builtin_module, 1);
    duk_put_prop_literal(ctx, -2, "builtinModule");
    ew__coro_push_helpers(ctx); /* async/generator helpers: loaded on first use */
    ew__coro_push_settlers(ctx);
    ew__bi_object_spread_install(ctx, -1);
    ew__bi_iterfast_install(ctx, -1);
}

/* Loads lib/js/helpers.js (the runtime helpers lowered code calls) and keeps its object in the stash; the
 * class, module and coroutine helpers are getters that load their files on first use. */
static void load_helpers(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    ew__helpers_push_new(ctx);
    duk_put_prop_literal(ctx, -2, HELPERS_KEY);
    duk_pop(ctx);
}

void ew__dispatch_init(duk_context *ctx)
{
    load_helpers(ctx);
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) ew__js_prelude, ew__js_prelude_len);
    duk_load_function(ctx);
    duk_push_object(ctx);
    ew__def_methods(ctx, -1, natives);
    duk_push_global_object(ctx);
    duk_call(ctx, 2);
    duk_push_global_stash(ctx);
    duk_insert(ctx, -2);
    duk_put_prop_literal(ctx, -2, DISPATCH_KEY);
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Dispatch
 */

/* Pushes the prelude's value `name` (listener lists, event prototypes). */
static void push_dispatch(duk_context *ctx, const char *name)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, DISPATCH_KEY);
    duk_get_prop_string(ctx, -1, name);
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
}

/* [event] -> [event]: calls each listener with the event, as EventTarget does (functions get `this` = the
 * global scope, objects their handleEvent). Returns false if one threw: the error is then on top. */
static bool call_listeners(duk_context *ctx, const char *list_name)
{
    duk_idx_t ev = duk_get_top_index(ctx);
    push_dispatch(ctx, list_name);
    duk_idx_t list = duk_get_top_index(ctx);
    /* Listeners added during this dispatch are not called by it (the length is read once). */
    duk_size_t n = duk_get_length(ctx, list);
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, list, (duk_uarridx_t) i);
        int rc;
        if (duk_is_function(ctx, -1)) {
            duk_push_global_object(ctx);
            duk_dup(ctx, ev);
            rc = duk_pcall_method(ctx, 1);
        } else {
            duk_push_string(ctx, "handleEvent");
            duk_dup(ctx, ev);
            rc = duk_pcall_prop(ctx, -3, 1);
            duk_remove(ctx, -2);
        }
        if (rc != DUK_EXEC_SUCCESS) {
            if (ew__isolate_aborting(ctx))
                (void) duk_throw(ctx);
            duk_remove(ctx, list);
            return false;
        }
        duk_pop(ctx);
    }
    duk_pop(ctx);
    return true;
}

/* Pushes a new event object of the given prototype with its hidden id and flags. */
static void push_event(duk_context *ctx, const char *proto, uint32_t id, const char *type)
{
    duk_push_object(ctx);
    push_dispatch(ctx, proto);
    duk_set_prototype(ctx, -2);
    duk_push_uint(ctx, id);
    duk_put_prop_literal(ctx, -2, EV_ID);
    duk_push_int(ctx, EV_DISPATCHING);
    duk_put_prop_literal(ctx, -2, EV_FLAGS);
    duk_push_string(ctx, type);
    duk_put_prop_literal(ctx, -2, "type");
}

void ew__push_error_listeners(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, DISPATCH_KEY);
    duk_remove(ctx, -2);
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "errorListeners");
        duk_remove(ctx, -2);
    }
}

struct fetch_args {
    const ew_request_t *req;
    ew__req_t *r;
    const char *cf_json;   /* the host's request.cf (checked), NULL = none */
    size_t cf_json_len;
    ew_req_body_t *body;   /* a body the host feeds as it arrives (req_body.c), NULL = req->body */
};

bool ew__dispatch_cf_known(const ew__isolate_t *iso, const char *json, size_t len)
{
    return iso != NULL && iso->cf_json != NULL && iso->cf_json_len == len && memcmp(iso->cf_json, json, len) == 0;
}

/* Pushes request.cf's JSON as a string. A server sends the same JSON for every request of a connection
 * (and mostly of all of them): the last one stays in the stash as a string, so a repeat costs a memcmp
 * instead of decoding and interning it again. */
static void push_cf_json(duk_context *ctx, const char *json, size_t len)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (ew__dispatch_cf_known(iso, json, len)) {
        duk_push_heapptr(ctx, iso->cf_str);
        return;
    }
    ew__push_utf8(ctx, json, len);
    if (iso == NULL)
        return;
    char *copy = malloc(len + 1);
    free(iso->cf_json);
    iso->cf_json = copy;
    iso->cf_json_len = len;
    if (copy == NULL)
        return;
    memcpy(copy, json, len);
    duk_push_global_stash(ctx);
    duk_dup(ctx, -2);
    duk_put_prop_literal(ctx, -2, DUK_HIDDEN_SYMBOL("cfJson")); /* keeps cf_str reachable */
    duk_pop(ctx);
    iso->cf_str = duk_get_heapptr(ctx, -1);
}

static void push_request(duk_context *ctx, const struct fetch_args *a)
{
    ew__request_push_serialized(ctx, a->req); /* the URL was parsed by the check in worker.c */
    if (a->cf_json != NULL) {
        push_cf_json(ctx, a->cf_json, a->cf_json_len);
        ew__request_set_cf_json(ctx, -2);
    }
    if (a->body != NULL) { /* request.body: a ReadableStream the host keeps feeding */
        ew__req_body_push_stream(ctx, a->body);
        duk_put_prop_literal(ctx, -2, EW__WEB_BODY);
    }
}

#define EXPORTS_KEY DUK_HIDDEN_SYMBOL("exports")

void ew__dispatch_set_exports(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_insert(ctx, -2);
    duk_put_prop_literal(ctx, -2, EXPORTS_KEY);
    duk_pop(ctx);
}

static void push_env(duk_context *ctx);

/* Pushes the module's default export, or returns false with nothing pushed when it is not an object. The
 * default export is read once, after the module ran, and kept (like workerd, which takes the module's
 * exports once when the Worker loads): reading it through the namespace's getter per request is a call
 * into JS. Its handler properties are still read per request (a script may replace `fetch` at run time). */
static bool push_default_export(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && iso->fetch_self != NULL) {
        duk_push_heapptr(ctx, iso->fetch_self);
        return true;
    }
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, EXPORTS_KEY);
    duk_remove(ctx, -2);
    if (!duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        return false;
    }
    duk_get_prop_literal(ctx, -1, "default");
    duk_remove(ctx, -2);
    if (!duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        return false;
    }
    if (iso != NULL) { /* kept reachable by the stash from now on */
        duk_push_global_stash(ctx);
        duk_dup(ctx, -2);
        duk_put_prop_literal(ctx, -2, DUK_HIDDEN_SYMBOL("defaultExport"));
        duk_pop(ctx);
        iso->fetch_self = duk_get_heapptr(ctx, -1);
    }
    return true;
}

/* Pushes the module form's handler `name` of the default export (and the default export under it: with
 * `export default class extends WorkerEntrypoint`, a new instance made with (ctx, env)), or returns false
 * with nothing pushed when the Worker has none (service-worker form). */
static bool push_module_handler(duk_context *ctx, const char *name)
{
    if (!push_default_export(ctx))
        return false;
    if (duk_is_function(ctx, -1)) { /* export default class extends WorkerEntrypoint: an instance per event */
        duk_get_prop_literal(ctx, -1, "prototype");
        duk_get_prop_string(ctx, -1, name);
        bool has = duk_is_function(ctx, -1);
        duk_pop_2(ctx);
        if (!has) {
            duk_pop(ctx);
            return false;
        }
        ew__dispatch_push_context(ctx);
        push_env(ctx);
        duk_new(ctx, 2);
    }
    duk_get_prop_string(ctx, -1, name);
    if (!duk_is_function(ctx, -1)) {
        duk_pop_2(ctx);
        return false;
    }
    duk_swap_top(ctx, -2); /* [fn default] */
    return true;
}

/* Pushes an ExecutionContext (or ScheduledController) bound to request r by its hidden id (its flags,
 * which only events use, stay absent: read as 0). The ExecutionContext prototype is looked up once per
 * isolate (the stash keeps it). */
static void push_context(duk_context *ctx, const char *proto, uint32_t id)
{
    duk_push_object(ctx);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    bool cached = iso != NULL && strcmp(proto, "contextProto") == 0;
    if (cached && iso->context_proto != NULL) {
        duk_push_heapptr(ctx, iso->context_proto);
    } else {
        push_dispatch(ctx, proto);
        if (cached)
            iso->context_proto = duk_get_heapptr(ctx, -1);
    }
    duk_set_prototype(ctx, -2);
    duk_push_uint(ctx, id);
    duk_put_prop_literal(ctx, -2, EV_ID);
}

void ew__dispatch_push_context(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    push_context(ctx, "contextProto", iso != NULL && iso->running != NULL ? iso->running->id : 0);
}

void ew__dispatch_push_export(duk_context *ctx, const char *name)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, EXPORTS_KEY);
    duk_remove(ctx, -2);
    if (duk_is_object(ctx, -1))
        duk_get_prop_string(ctx, -1, name);
    else
        duk_push_undefined(ctx);
    duk_remove(ctx, -2);
}

void ew__dispatch_push_env(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, DUK_HIDDEN_SYMBOL("env"));
    duk_remove(ctx, -2);
}

/* The env object is made once per isolate (worker.c) and kept in the stash: its pointer is cached. */
static void push_env(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && iso->env != NULL) {
        duk_push_heapptr(ctx, iso->env);
        return;
    }
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, DUK_HIDDEN_SYMBOL("env"));
    duk_remove(ctx, -2);
    if (iso != NULL && duk_is_object(ctx, -1))
        iso->env = duk_get_heapptr(ctx, -1);
}

/* export default { fetch(request, env, ctx) }: calls it and settles the request with what it returns. */
static bool module_fetch(duk_context *ctx, struct fetch_args *a)
{
    if (!push_module_handler(ctx, "fetch"))
        return false;
    push_request(ctx, a);
    push_env(ctx);
    push_context(ctx, "contextProto", a->r->id);
    if (duk_pcall_method(ctx, 3) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        fail_with_value(ctx, a->r, -1);
    } else {
        when_settled(ctx, a->r, -1, H_RESPOND, H_FAIL);
    }
    duk_pop(ctx);
    return true;
}

static duk_ret_t fetch_body(duk_context *ctx, void *udata)
{
    struct fetch_args *a = udata;
    ew__req_t *r = a->r;
    if (module_fetch(ctx, a))
        return 0;
    push_dispatch(ctx, "fetchListeners");
    duk_size_t n = duk_get_length(ctx, -1);
    duk_pop(ctx);
    if (n == 0) {
        fail_no_handler(ctx, r, "No fetch handler: the Worker has neither export default { fetch } nor "
                                "addEventListener(\"fetch\", ...).");
        return 0;
    }
    push_event(ctx, "fetchProto", r->id, "fetch");
    push_request(ctx, a);
    duk_put_prop_literal(ctx, -2, "request");
    bool ok = call_listeners(ctx, "fetchListeners");
    if (!ok) {
        fail_with_value(ctx, r, -1);
        return 0;
    }
    duk_get_prop_literal(ctx, -1, EV_FLAGS);
    int flags = duk_get_int(ctx, -1);
    duk_pop(ctx);
    duk_push_int(ctx, flags & ~EV_DISPATCHING);
    duk_put_prop_literal(ctx, -2, EV_FLAGS);
    if (!(flags & EV_RESPONDED))
        fail_no_handler(ctx, r, "No response: the fetch event listener did not call event.respondWith().");
    return 0;
}

/* Handles the result of a dispatch entry: an error escaping the prelude is an uncaught exception. */
static void after_dispatch(ew__isolate_t *iso, ew__req_t *r, int rc)
{
    if (rc == DUK_EXEC_ERROR) {
        if (iso->abort_reason == EW_OK) {
            ew__req_fail(r, EW_ERR_EXCEPTION, ew__log_uncaught(iso->ctx, -1, "Uncaught "));
            duk_pop(iso->ctx);
        }
        duk_pop(iso->ctx);
    } else if (rc == DUK_EXEC_SUCCESS) {
        duk_pop(iso->ctx);
    }
    ew__isolate_settle(iso);
}

ew_status_t ew__dispatch_fetch_cf(ew__isolate_t *iso, const ew_request_t *req, const char *cf_json,
                                  size_t cf_json_len, bool stream_body, ew_response_fn cb, void *udata)
{
    return ew__dispatch_fetch_body(iso, req, cf_json, cf_json_len, stream_body, NULL, cb, udata);
}

ew_status_t ew__dispatch_fetch_body(ew__isolate_t *iso, const ew_request_t *req, const char *cf_json,
                                    size_t cf_json_len, bool stream_body, ew_req_body_t *body, ew_response_fn cb,
                                    void *udata)
{
    ew__req_t *r = req_new(iso, EW__REQ_FETCH);
    if (r == NULL)
        return EW_ERR_NOMEM;
    r->stream_body = stream_body;
    r->fetch_cb = cb;
    r->udata = udata;
    struct fetch_args a = {req, r, cf_json, cf_json_len, body};
    ew__isolate_enter(iso, r);
    int rc = ew__isolate_pcall(iso, fetch_body, &a, 0, 1);
    after_dispatch(iso, r, rc);
    return EW_OK;
}

ew_status_t ew__dispatch_fetch(ew__isolate_t *iso, const ew_request_t *req, ew_response_fn cb, void *udata)
{
    return ew__dispatch_fetch_cf(iso, req, NULL, 0, false, cb, udata);
}

ew_status_t ew__dispatch_fetch_stream(ew__isolate_t *iso, const ew_request_t *req, ew_response_fn cb,
                                      void *udata)
{
    return ew__dispatch_fetch_cf(iso, req, NULL, 0, true, cb, udata);
}

struct scheduled_args {
    const char *cron;
    double time_ms;
    ew__req_t *r;
};

/* [handler this arg] -> []: calls a module handler (scheduled, queue) with (arg, env, ctx); the request ends
 * when its promise settles, or fails with what it threw. */
static void call_module_handler(duk_context *ctx, ew__req_t *r)
{
    push_env(ctx);
    push_context(ctx, "contextProto", r->id);
    if (duk_pcall_method(ctx, 3) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        fail_with_value(ctx, r, -1);
    } else {
        when_settled(ctx, r, -1, H_DONE, H_FAIL);
    }
    duk_pop(ctx);
}

static duk_ret_t scheduled_body(duk_context *ctx, void *udata)
{
    struct scheduled_args *a = udata;
    ew__req_t *r = a->r;
    if (push_module_handler(ctx, "scheduled")) { /* export default { scheduled(controller, env, ctx) } */
        push_context(ctx, "controllerProto", r->id);
        ew__push_utf8(ctx, a->cron, strlen(a->cron));
        duk_put_prop_literal(ctx, -2, "cron");
        duk_push_number(ctx, a->time_ms);
        duk_put_prop_literal(ctx, -2, "scheduledTime");
        duk_push_string(ctx, "scheduled");
        duk_put_prop_literal(ctx, -2, "type");
        call_module_handler(ctx, r);
        return 0;
    }
    push_dispatch(ctx, "scheduledListeners");
    duk_size_t n = duk_get_length(ctx, -1);
    duk_pop(ctx);
    if (n == 0) {
        fail_no_handler(ctx, r,
                        "No scheduled handler: the script did not call addEventListener(\"scheduled\", ...).");
        return 0;
    }
    push_event(ctx, "scheduledProto", r->id, "scheduled");
    ew__push_utf8(ctx, a->cron, strlen(a->cron));
    duk_put_prop_literal(ctx, -2, "cron");
    duk_push_number(ctx, a->time_ms);
    duk_put_prop_literal(ctx, -2, "scheduledTime");
    if (!call_listeners(ctx, "scheduledListeners")) {
        fail_with_value(ctx, r, -1);
        return 0;
    }
    if (!r->complete)
        req_complete(r);
    return 0;
}

ew_status_t ew__dispatch_scheduled(ew__isolate_t *iso, const char *cron, double scheduled_ms, ew_scheduled_fn cb,
                                   void *udata)
{
    ew__req_t *r = req_new(iso, EW__REQ_SCHEDULED);
    if (r == NULL)
        return EW_ERR_NOMEM;
    r->scheduled_cb = cb;
    r->udata = udata;
    struct scheduled_args a = {cron, scheduled_ms, r};
    ew__isolate_enter(iso, r);
    int rc = ew__isolate_pcall(iso, scheduled_body, &a, 0, 1);
    after_dispatch(iso, r, rc);
    return EW_OK;
}

struct call_args {
    duk_safe_call_function body;
    void *args;
    ew__req_t *r;
};

static duk_ret_t call_body(duk_context *ctx, void *udata)
{
    struct call_args *a = udata;
    a->body(ctx, a->args);
    when_settled(ctx, a->r, -1, H_CALL_OK, H_CALL_FAIL);
    return 0;
}

ew_status_t ew__dispatch_call(ew__isolate_t *iso, duk_safe_call_function body, void *args, ew__call_done_fn done,
                              void *udata)
{
    ew__req_t *r = req_new(iso, EW__REQ_CALL);
    if (r == NULL)
        return EW_ERR_NOMEM;
    r->call_done = done;
    r->udata = udata;
    struct call_args a = {body, args, r};
    ew__isolate_enter(iso, r);
    int rc = ew__isolate_pcall(iso, call_body, &a, 0, 1);
    after_dispatch(iso, r, rc);
    return EW_OK;
}

struct queue_args {
    const char *queue;
    const ew_queue_message_t *msgs;
    size_t n;
    const ew__queue_metrics_t *metrics;
    ew__req_t *r;
};

/* [batch] -> [batch]: makes the batch the service-worker form's event ('queue', with waitUntil). */
static void make_queue_event(duk_context *ctx, uint32_t id)
{
    duk_push_uint(ctx, id);
    duk_put_prop_literal(ctx, -2, EV_ID);
    duk_push_int(ctx, EV_DISPATCHING);
    duk_put_prop_literal(ctx, -2, EV_FLAGS);
    duk_push_literal(ctx, "queue");
    duk_put_prop_literal(ctx, -2, "type");
    push_dispatch(ctx, "contextProto"); /* its waitUntil reads the hidden id of `this` */
    duk_get_prop_literal(ctx, -1, "waitUntil");
    duk_put_prop_literal(ctx, -3, "waitUntil");
    duk_pop(ctx);
}

static duk_ret_t queue_body(duk_context *ctx, void *udata)
{
    struct queue_args *a = udata;
    ew__req_t *r = a->r;
    if (push_module_handler(ctx, "queue")) { /* export default { queue(batch, env, ctx) } */
        ew__queue_push_batch(ctx, r->id, a->queue, a->msgs, a->n, a->metrics);
        call_module_handler(ctx, r);
        return 0;
    }
    push_dispatch(ctx, "queueListeners");
    duk_size_t n = duk_get_length(ctx, -1);
    duk_pop(ctx);
    if (n == 0) {
        fail_no_handler(ctx, r, "No event listener registered for queue messages: the Worker has neither export "
                                "default { queue } nor addEventListener(\"queue\", ...).");
        return 0;
    }
    ew__queue_push_batch(ctx, r->id, a->queue, a->msgs, a->n, a->metrics);
    make_queue_event(ctx, r->id);
    if (!call_listeners(ctx, "queueListeners")) {
        fail_with_value(ctx, r, -1);
        return 0;
    }
    if (!r->complete)
        req_complete(r);
    return 0;
}

ew_status_t ew__dispatch_queue(ew__isolate_t *iso, const char *queue, const ew_queue_message_t *msgs, size_t n,
                               const ew__queue_metrics_t *metrics, ew_queue_fn cb, void *udata)
{
    ew__queue_result_t *result = ew__queue_result_new(n);
    ew__req_t *r = result != NULL ? req_new(iso, EW__REQ_QUEUE) : NULL;
    if (r == NULL) {
        ew__queue_result_free(result);
        return EW_ERR_NOMEM;
    }
    r->queue_cb = cb;
    r->queue_result = result;
    r->queue_n = n;
    r->udata = udata;
    struct queue_args a = {queue, msgs, n, metrics, r};
    ew__isolate_enter(iso, r);
    int rc = ew__isolate_pcall(iso, queue_body, &a, 0, 1);
    after_dispatch(iso, r, rc);
    return EW_OK;
}
