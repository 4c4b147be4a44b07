/*
 * req_body.c — request bodies the host feeds as they arrive (ew_req_body_t, include/edgeworker.h): the
 * Worker starts before an upload has arrived, and request.body is a ReadableStream fed from C
 * (lib/web/stream.h) with the host's bytes.
 *
 *   host: write(bytes) ──> queue ──(the stream pulls: a read waits)──> one chunk of everything queued
 *   host <── on_demand ── the queue was handed over (or the Worker cancelled): read the socket again
 *
 * Back-pressure: the stream pulls only when a read waits (high-water mark 0), and the host stops reading
 * its socket while ew_req_body_buffered() is above its own bound, until on_demand. So a Worker that reads
 * slowly keeps at most the host's bound queued here. Everything touching the heap happens from the loop
 * (an event), never inside a host call: a host may write from any callback.
 *
 * Lifetime: two references, the host's (ew_req_body_destroy) and the request's stream (dropped when the
 * stream closes, errors, is cancelled or the isolate goes away). A body no request took is "discarding":
 * writes are dropped and demand is always there.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "web/stream.h"

struct ew_req_body {
    int refs;                     /* the host's + the stream's */
    struct event *ev;             /* moves bytes and the end to the stream from the loop (owned) */
    ew_req_body_demand_fn on_demand;
    void *udata;
    ew__buf_t queue;              /* written by the host, not yet in the stream */
    ew__stream_src_t *src;        /* the Worker's stream while it is open */
    bool attached;                /* a request took the body (before that, nothing is discarded) */
    bool discarding;              /* nobody will read: writes are dropped */
    bool pulled;                  /* the stream wants bytes and got none yet */
    bool ended, failed;           /* the host said the body is complete / broken */
    bool host_gone;               /* ew_req_body_destroy was called */
    bool demand_due;              /* on_demand is owed to the host (called from the event) */
};

static void release(ew_req_body_t *b)
{
    if (--b->refs > 0)
        return;
    event_free(b->ev);
    ew__buf_dispose(&b->queue);
    free(b);
}

/* Hands what is queued to the stream (one chunk), then the end or the failure once all is out. Only from
 * on_ev, which holds a reference: the stream's reference is dropped here without freeing. */
static void feed(ew_req_body_t *b)
{
    if (b->src == NULL)
        return;
    if (b->pulled && b->queue.len > 0) {
        b->pulled = false;
        ew__stream_src_t *src = b->src;
        ew_status_t st = ew__stream_src_enqueue(src, b->queue.data, b->queue.len); /* copies */
        b->queue.len = 0;
        b->demand_due = true;
        if (st != EW_OK && b->src == src) { /* the copy failed (a limit): the body cannot go on */
            b->src = NULL;
            ew__stream_src_error(src, "The request body could not be read (out of memory).");
            b->refs--;
            return;
        }
    }
    if (b->src != NULL && b->queue.len == 0 && (b->ended || b->failed)) {
        ew__stream_src_t *src = b->src;
        b->src = NULL;
        if (b->failed)
            ew__stream_src_error(src, "The client closed the connection before the request body arrived.");
        else
            ew__stream_src_close(src);
        b->refs--;
    }
}

static void on_ev(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew_req_body_t *b = arg;
    b->refs++; /* the host's callback may destroy its handle meanwhile */
    feed(b);
    if (b->demand_due && !b->host_gone && !b->ended && !b->failed) {
        b->demand_due = false;
        b->on_demand(b->udata);
    }
    release(b);
}

static void kick(ew_req_body_t *b)
{
    event_active(b->ev, EV_TIMEOUT, 1);
}

/* The stream wants bytes (a read waits). */
static void on_pull(void *udata, ew__stream_src_t *src)
{
    (void) src;
    ew_req_body_t *b = udata;
    b->pulled = true;
    if (b->queue.len == 0)
        b->demand_due = true; /* nothing to give: the host reads on */
    kick(b);
}

/* The Worker cancelled the body, or the isolate is going away: what comes next is dropped. */
static void on_cancel(void *udata, ew__stream_src_t *src)
{
    (void) src;
    ew_req_body_t *b = udata;
    b->src = NULL;
    b->discarding = true;
    b->queue.len = 0;
    b->demand_due = true;
    kick(b);
    release(b);
}

void ew__req_body_push_stream(duk_context *ctx, ew_req_body_t *b)
{
    static const ew__stream_src_hooks_t hooks = {on_pull, on_cancel, NULL, NULL};
    b->src = ew__stream_src_push_new(ctx, &hooks, b, 0);
    b->refs++;
    b->attached = true;
    if (b->queue.len > 0 || b->ended || b->failed)
        kick(b);
}

void ew__req_body_unused(ew_req_body_t *b)
{
    if (b == NULL || b->attached)
        return;
    b->discarding = true;
    b->queue.len = 0;
    b->demand_due = true;
    kick(b);
}

EW_API ew_req_body_t *ew_req_body_create(ew_worker_t *w, ew_req_body_demand_fn on_demand, void *udata)
{
    if (w == NULL || on_demand == NULL)
        return NULL;
    ew_req_body_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    b->ev = event_new(w->rt->base, -1, 0, on_ev, b);
    if (b->ev == NULL) {
        free(b);
        return NULL;
    }
    b->refs = 1;
    b->on_demand = on_demand;
    b->udata = udata;
    ew__buf_init(&b->queue);
    return b;
}

EW_API ew_status_t ew_req_body_write(ew_req_body_t *b, const void *data, size_t len)
{
    if (b == NULL || (data == NULL && len > 0))
        return EW_ERR_INVALID_ARG;
    if (b->ended || b->failed)
        return EW_ERR_STATE;
    if (b->discarding || len == 0)
        return EW_OK;
    if (!ew__buf_append(&b->queue, data, len))
        return EW_ERR_NOMEM;
    if (b->pulled)
        kick(b);
    return EW_OK;
}

EW_API size_t ew_req_body_buffered(const ew_req_body_t *b)
{
    return b != NULL ? b->queue.len : 0;
}

EW_API ew_status_t ew_req_body_end(ew_req_body_t *b)
{
    if (b == NULL)
        return EW_ERR_INVALID_ARG;
    if (b->ended || b->failed)
        return EW_ERR_STATE;
    b->ended = true;
    kick(b);
    return EW_OK;
}

EW_API ew_status_t ew_req_body_fail(ew_req_body_t *b)
{
    if (b == NULL)
        return EW_ERR_INVALID_ARG;
    if (b->ended || b->failed)
        return EW_ERR_STATE;
    b->failed = true;
    b->queue.len = 0;
    kick(b);
    return EW_OK;
}

EW_API void ew_req_body_destroy(ew_req_body_t *b)
{
    if (b == NULL)
        return;
    if (!b->ended && !b->failed) { /* the host let go before the end: the Worker's reads fail */
        b->failed = true;
        b->queue.len = 0;
        kick(b);
    }
    b->host_gone = true;
    release(b);
}
