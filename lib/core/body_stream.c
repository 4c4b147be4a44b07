/*
 * body_stream.c — streamed response bodies handed to the host (ew_body_t, include/edgeworker.h): the host
 * pulls one chunk at a time with ew_body_read(); each read asks the Worker's ReadableStream for one chunk
 * through a C reader (lib/web/stream.h), and the answer is delivered from the event loop.
 *
 *   host: ew_body_read ──> reader read ──(chunk pinned in the heap)──> event ──> host's ew_body_fn(data, len)
 *
 * While the body is open its request stays alive after delivery (the Worker's timers keep running and its
 * CPU time for the stream is charged to it). Back-pressure comes for free: the Worker's writer waits on
 * write()/ready until a read takes its chunk, and the host reads only when it has room to send.
 * A chunk's bytes stay pinned in the heap until the next read, so nothing is copied here.
 */
#include <stdlib.h>

#include "dispatch.h"
#include "web/stream.h"

struct ew_body {
    ew__req_t *req;               /* the request whose response this is; NULL once detached */
    ew__stream_reader_t *reader;  /* owned; NULL once the stream ended, failed or was detached */
    struct event *ev;             /* delivers a read's result from the loop (owned) */
    ew_body_fn cb;                /* the pending read's callback, NULL when none */
    void *udata;
    const void *data;             /* the result waiting for ev (data is pinned by the reader) */
    size_t len;
    ew_status_t status;
    bool ready;                   /* a result waits for ev */
    bool ended;                   /* the end or a failure was delivered */
    ew_status_t final;            /* what a read reports once the reader is gone */
    /* Splice (ew_body_splice) */
    ew_body_splice_fn scb;        /* the pending splice's callback, NULL when none */
    void *sudata;
    size_t smoved;                /* the result waiting for ev */
    ew_splice_result_t sresult;
    bool sready;
    bool spliced;                 /* a splice started: the rest of the body goes that way */
};

static void on_ev(evutil_socket_t fd, short what, void *arg);

ew_body_t *ew__body_create(ew__req_t *r, ew__stream_reader_t *reader)
{
    ew_body_t *b = calloc(1, sizeof(*b));
    if (b != NULL)
        b->ev = event_new(r->iso->rt->base, -1, 0, on_ev, b);
    if (b == NULL || b->ev == NULL) {
        free(b);
        ew__stream_reader_close(reader);
        return NULL;
    }
    b->req = r;
    b->reader = reader;
    ew__stream_reader_uncharged(reader);
    b->final = EW_ERR_CANCELLED;
    r->body = b;
    return b;
}

/* Forgets the request (it may be freed afterwards). */
static void release_req(ew_body_t *b)
{
    ew__req_t *r = b->req;
    b->req = NULL;
    if (r != NULL) {
        r->body = NULL;
        ew__req_body_done(r);
    }
}

static void close_reader(ew_body_t *b)
{
    ew__stream_reader_t *reader = b->reader;
    b->reader = NULL;
    ew__stream_reader_close(reader);
}

static void deliver_later(ew_body_t *b, const void *data, size_t len, ew_status_t status)
{
    b->data = data;
    b->len = len;
    b->status = status;
    b->ready = true;
    event_active(b->ev, EV_TIMEOUT, 1);
}

/* A splice step's answer (outside the heap): delivered from the loop. */
static void on_spliced(void *udata, size_t moved, ew__stream_splice_t result)
{
    ew_body_t *b = udata;
    b->smoved = moved;
    b->sresult = result == EW__SPLICE_MORE  ? EW_SPLICE_MORE
                 : result == EW__SPLICE_FULL ? EW_SPLICE_FULL
                 : result == EW__SPLICE_END  ? EW_SPLICE_END
                                             : EW_SPLICE_FAILED;
    b->sready = true;
    event_active(b->ev, EV_TIMEOUT, 1);
}

static void deliver_splice(ew_body_t *b)
{
    ew_body_splice_fn cb = b->scb;
    void *udata = b->sudata;
    size_t moved = b->smoved;
    ew_splice_result_t result = b->sresult;
    b->scb = NULL;
    b->sready = false;
    if (result == EW_SPLICE_END || result == EW_SPLICE_FAILED) { /* the stream is done, so is the request */
        b->ended = true;
        close_reader(b);
        release_req(b);
    }
    cb(udata, moved, result); /* may splice again or destroy the body: b is not touched after this */
}

static void on_ev(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew_body_t *b = arg;
    if (b->sready && b->scb != NULL) {
        deliver_splice(b);
        return;
    }
    if (!b->ready || b->cb == NULL)
        return;
    ew_body_fn cb = b->cb;
    void *udata = b->udata;
    const void *data = b->data;
    size_t len = b->len;
    ew_status_t status = b->status;
    b->cb = NULL;
    b->ready = false;
    if (data == NULL) { /* the end or a failure: the stream is done, so is the request */
        b->ended = true;
        close_reader(b);
        release_req(b);
    }
    cb(udata, data, len, status); /* may read again or destroy the body: b is not touched after this */
}

/* Reader callback, inside the heap. */
static void on_read(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data, size_t len)
{
    ew_body_t *b = udata;
    if (ev == EW__STREAM_CHUNK) {
        deliver_later(b, data, len, EW_OK);
    } else if (ev == EW__STREAM_END) {
        deliver_later(b, NULL, 0, EW_OK);
    } else {
        if (ctx != NULL) {
            (void) ew__log_uncaught(ctx, -1, "Uncaught (in response body) ");
            duk_pop(ctx);
        }
        deliver_later(b, NULL, 0, ctx != NULL ? EW_ERR_EXCEPTION : EW_ERR_CANCELLED);
    }
}

EW_API ew_status_t ew_body_read(ew_body_t *body, ew_body_fn cb, void *udata)
{
    if (body == NULL || cb == NULL)
        return EW_ERR_INVALID_ARG;
    if (body->ended || body->cb != NULL || body->scb != NULL || body->spliced)
        return EW_ERR_STATE;
    body->cb = cb;
    body->udata = udata;
    if (body->reader == NULL) {
        deliver_later(body, NULL, 0, body->final);
        return EW_OK;
    }
    ew_status_t st = ew__stream_reader_read(body->reader, on_read, body);
    if (st != EW_OK) {
        body->cb = NULL;
        return st;
    }
    return EW_OK;
}

EW_API ew_status_t ew_body_splice(ew_body_t *body, int fd, size_t max, ew_body_splice_fn cb, void *udata)
{
    if (body == NULL || cb == NULL || fd < 0 || max == 0)
        return EW_ERR_INVALID_ARG;
    if (body->ended || body->cb != NULL || body->scb != NULL)
        return EW_ERR_STATE;
    if (body->reader == NULL && !body->spliced)
        return EW_ERR_STATE;
    body->scb = cb;
    body->sudata = udata;
    if (body->reader == NULL) { /* failed between steps (the worker went away): that is the answer */
        on_spliced(body, 0, EW__SPLICE_FAILED);
        return EW_OK;
    }
    if (ew__stream_reader_splice(body->reader, fd, max, on_spliced, body) != EW_OK) {
        body->scb = NULL;
        return EW_ERR_STATE;
    }
    body->spliced = true;
    return EW_OK;
}

EW_API int ew_body_splicable(const ew_body_t *body)
{
    if (body == NULL || body->ended || body->reader == NULL)
        return 0;
    return ew__stream_reader_splicable(body->reader) ? 1 : 0;
}

bool ew__body_read_pending(const ew_body_t *body)
{
    return body->cb != NULL && !body->ready;
}

void ew__body_fail(ew_body_t *b, ew_status_t why)
{
    if (b->ended || b->reader == NULL)
        return;
    b->final = why;
    bool pending = ew__body_read_pending(b);
    if (b->ready && b->data != NULL) /* a chunk not delivered yet: its bytes go with the reader */
        b->ready = false, pending = true;
    bool spliced = b->scb != NULL && !b->sready; /* a step the reader will no longer answer */
    close_reader(b);
    if (pending)
        deliver_later(b, NULL, 0, why);
    if (spliced)
        on_spliced(b, 0, EW__SPLICE_FAILED);
}

void ew__body_detach(ew_body_t *b)
{
    ew__body_fail(b, EW_ERR_CANCELLED);
    b->req = NULL;
}

void ew__body_stream_destroy(ew_body_t *b)
{
    if (b == NULL)
        return;
    close_reader(b);
    release_req(b);
    event_free(b->ev);
    free(b);
}
