/*
 * fetch.c — the global fetch(input, init) (https://fetch.spec.whatwg.org/#fetch-method) as Workers have it,
 * over the runtime's HTTP client (lib/net/client.c).
 *
 *   fetch() ── new Request(input, init) ── C copy of method/url/headers/body ── ew__net_request_start
 *      │ returns the promise (kept in a stash table under the fetch's id)          │ (event loop)
 *      ▼                                                                           ▼
 *   on_head: the promise settles with a Response whose body is a ReadableStream fed from C (or a redirect
 *   hop starts: follow, up to 20, the spec's method and body rules; or a TypeError rejects it)
 *   on_body: decoded bytes are enqueued; when the stream's queue is full the network request pauses
 *   (HTTP/1.1 stops reading, HTTP/2 stops opening the window) until the reader pulls again
 *   on_done: the stream closes, or errors with the network error
 *
 * A pending fetch counts as I/O of its isolate (io_pending), belongs to the request that made it (its
 * subrequest count, its CPU charge when the promise settles) and dies with it: when that request is freed,
 * or the isolate destroyed, the network request is cancelled and the promise is dropped unsettled, as
 * workerd drops the I/O of a finished request. Waiting on the network is not CPU time: nothing runs then.
 *
 * Re-entrancy: enqueueing and settling run script (microtasks), which may abort the fetch or cancel its
 * body while a network callback is on the stack; f->depth counts those callbacks and f->doomed defers the
 * free to the outermost one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/isolate.h"
#include "domexception.h"
#include "internal.h"
#include "net/client.h"
#include "net/encode.h"
#include "lazy.h"
#include "net/decode.h"
#include "stream.h"
#include "url.h"

#define FETCHES_KEY DUK_HIDDEN_SYMBOL("fetches")
#define REQUEST_CTOR_KEY DUK_HIDDEN_SYMBOL("fetchReq")
#define FETCH_ID DUK_HIDDEN_SYMBOL("fid")
#define DEFAULT_SUBREQUESTS 50
#define MAX_REDIRECTS 20
#define BODY_HWM (64 * 1024) /* bytes a response body may queue ahead of its reader */
#define BODY_BATCH (256 * 1024) /* body bytes gathered into one chunk (each chunk costs script time) */

static const char GLOBAL_SCOPE_MESSAGE[] =
    "Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or connect()), setting a "
    "timeout, and generating random values are not allowed within global scope. To fix this error, perform this "
    "operation within a handler. https://developers.cloudflare.com/workers/runtime-apis/handlers/";

typedef struct fheader {
    char *name;                   /* owned, lower-case */
    char *value;                  /* owned */
    size_t value_len;
} fheader_t;

struct ew__fetch {
    ew__isolate_t *iso;
    uint32_t id;                  /* key of [promise, signal, listener] in the stash table */
    uint32_t req_id;              /* the request that called fetch() */
    ew__net_req_t *net;           /* the hop in flight; NULL between hops and once done */
    /* The request, kept for redirects. */
    char *method;                 /* owned */
    ew__url_t url;                /* current URL (owned href) */
    fheader_t *headers;           /* owned array of nheaders */
    size_t nheaders;
    char *body;                   /* owned copy; NULL for no body */
    size_t body_len;
    int redirect_mode;            /* 0 follow, 1 manual, 2 error (request.c's encoding) */
    int redirects;                /* hops followed so far */
    bool has_signal;              /* an abort follower was added */
    bool settled;                 /* the promise has settled (the body may still be streaming) */
    int depth;                    /* network callbacks of this fetch on the stack */
    bool doomed;                  /* to be freed when depth drops to 0 */
    bool dying;                   /* the isolate is being destroyed: free without entering the heap */
    ew__stream_src_t *src;        /* the response body's producer handle; NULL when none or ended */
    ew__stream_reader_t *reader;  /* owned: a streamed request body being read whole; NULL otherwise */
    bool pulled;                  /* the stream asked for more since the last enqueue */
    ew__buf_t batch;              /* body bytes read in this loop turn, enqueued as one chunk */
    struct event *flush_ev;       /* owned: enqueues the batch at the end of the loop turn; NULL until needed */
    /* The response of the current hop. */
    int status;
    char *reason;                 /* owned */
    fheader_t *rheaders;          /* owned array of nrheaders */
    size_t nrheaders;
    ew__url_t next_url;           /* a redirect to follow once this hop's body is drained (href NULL: none) */
    ew__decoder_t *decoder;       /* owned; NULL when the body is not content-encoded */
    int coding;                   /* the decoder's coding (an ew__coding_t of net/encode.h) */
    bool body_seen;               /* body bytes of this hop reached the decoder (or the stream) */
    ew__fetch_t *next;            /* in iso->fetches */
};

/* ---------------------------------------------------------------------------------------------------------
 * Freeing
 */

static void free_headers(fheader_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

static void reset_response(ew__fetch_t *f)
{
    free(f->reason);
    f->reason = NULL;
    free_headers(f->rheaders, f->nrheaders);
    f->rheaders = NULL;
    f->nrheaders = 0;
    ew__decoder_destroy(f->decoder);
    f->decoder = NULL;
    ew__url_dispose(&f->next_url);
    f->status = 0;
}

/* Unlinks the fetch from its isolate (one less I/O to wait for), cancels its network request, frees it. */
static void fetch_free(ew__fetch_t *f)
{
    ew__isolate_t *iso = f->iso;
    for (ew__fetch_t **pp = &iso->fetches; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == f) {
            *pp = f->next;
            iso->io_pending--;
            break;
        }
    }
    if (f->net != NULL)
        ew__net_request_cancel(f->net);
    ew__stream_reader_close(f->reader);
    if (f->flush_ev != NULL)
        event_free(f->flush_ev);
    ew__buf_dispose(&f->batch);
    reset_response(f);
    free(f->method);
    ew__url_dispose(&f->url);
    free_headers(f->headers, f->nheaders);
    free(f->body);
    free(f);
}

static ew__fetch_t *find_fetch(ew__isolate_t *iso, uint32_t id)
{
    for (ew__fetch_t *f = iso->fetches; f != NULL; f = f->next)
        if (f->id == id)
            return f;
    return NULL;
}

/* Safe-call body: drops the fetch's stash entry [promise, signal, follower] and stops following the signal. */
static duk_ret_t drop_entry(duk_context *ctx, void *udata)
{
    uint32_t id = (uint32_t) (uintptr_t) udata;
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, FETCHES_KEY);
    duk_idx_t table = duk_get_top_index(ctx);
    duk_get_prop_index(ctx, table, id);
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_index(ctx, -1, 1);
        if (ew__abort_signal_is(ctx, -1)) {
            duk_get_prop_index(ctx, -2, 2);
            ew__abort_signal_unfollow(ctx, -2);
        }
        duk_pop(ctx);
    }
    duk_pop(ctx);
    duk_del_prop_index(ctx, table, id);
    return 0;
}

/* Ends a fetch whose heap is alive: drops its entry, then frees it (or marks it, inside a callback). */
static void fetch_end(ew__fetch_t *f)
{
    if (f->depth > 0) {
        if (!f->doomed && f->net != NULL)
            ew__net_request_cancel(f->net); /* allowed inside its callbacks */
        f->net = NULL;
        f->doomed = true;
        return;
    }
    ew__isolate_t *iso = f->iso;
    if (iso->ctx != NULL && !iso->dead)
        (void) ew__isolate_run(iso->ctx, f->req_id, drop_entry, (void *) (uintptr_t) f->id);
    fetch_free(f);
}

void ew__fetch_cancel_req(ew__isolate_t *iso, uint32_t req_id)
{
    /* Ending a fetch may run script (the body stream's readers, microtasks), which may end other fetches:
     * look for the next one from the head each time instead of holding a pointer across it. */
    for (;;) {
        ew__fetch_t *f = iso->fetches;
        while (f != NULL && (f->req_id != req_id || f->doomed))
            f = f->next;
        if (f == NULL)
            break;
        if (f->net != NULL)
            ew__net_request_cancel(f->net);
        f->net = NULL;
        if (f->src != NULL) {
            ew__stream_src_t *src = f->src;
            f->src = NULL;
            f->depth++; /* script run by the error may end f: it is then only marked */
            ew__stream_src_error(src, "The request that made this fetch() has finished; its body cannot be "
                                      "read any more.");
            f->depth--;
        }
        fetch_end(f);
    }
}

void ew__fetch_cancel_all(ew__isolate_t *iso)
{
    ew__fetch_t *next;
    for (ew__fetch_t *f = iso->fetches; f != NULL; f = next) {
        next = f->next;
        if (f->net != NULL)
            ew__net_request_cancel(f->net);
        f->net = NULL;
        /* A streaming body is freed by its cancel hook, which ew__stream_dispose calls before the heap goes. */
        f->dying = true;
        if (f->src == NULL || iso->ctx == NULL || iso->dead)
            fetch_free(f); /* the heap goes away with the promises */
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Settling the promise
 */

enum settle_kind { SETTLE_RESPONSE, SETTLE_TYPE_ERROR, SETTLE_ABORT, SETTLE_VALUE /* reject with the value on top */ };

typedef struct settle_args {
    ew__fetch_t *f;
    enum settle_kind kind;
    const char *message;          /* SETTLE_TYPE_ERROR */
} settle_args_t;

/* The body's length in bytes as the stream will give it: the Content-Length of a body that is not decoded
 * (the HTTP/1.1 parser and nghttp2 hold the server to it), else -1. */
static double body_length(const ew__fetch_t *f)
{
    if (f->decoder != NULL)
        return -1;
    for (size_t i = 0; i < f->nrheaders; i++) {
        if (strcmp(f->rheaders[i].name, "content-length") != 0)
            continue;
        const char *v = f->rheaders[i].value;
        size_t n = f->rheaders[i].value_len;
        double len = 0;
        if (n == 0 || n > 15) /* beyond 15 digits a double would not count every byte */
            return -1;
        for (size_t k = 0; k < n; k++) {
            if (v[k] < '0' || v[k] > '9')
                return -1;
            len = len * 10 + (v[k] - '0');
        }
        return len;
    }
    return -1;
}

static bool null_body_status(int status)
{
    return status == 101 || status == 204 || status == 205 || status == 304;
}

static void body_pull(void *udata, ew__stream_src_t *src);
static void body_cancel(void *udata, ew__stream_src_t *src);
static bool body_raw(void *udata, ew__stream_src_t *src, int coding);
static int body_splice(void *udata, ew__stream_src_t *src, int fd, size_t max);
static const ew__stream_src_hooks_t body_hooks = {body_pull, body_cancel, body_raw, body_splice};

/* Pushes a Response for the current hop: immutable headers (as workerd's fetch() responses), statusText as
 * the server sent it, url and redirected, a streamed body (none for HEAD and null-body statuses). */
static void push_response(duk_context *ctx, ew__fetch_t *f)
{
    duk_idx_t self = ew__web_push_instance(ctx, EW__PROTO_RESPONSE);
    uint32_t state = EW__KIND_RESPONSE | EW__STATE_IMMUTABLE | ((uint32_t) f->status << EW__STATE_STATUS_SHIFT);
    if (f->redirects > 0)
        state |= EW__STATE_REDIRECTED;
    ew__web_set_state(ctx, self, state);
    ew__web_push_array(ctx, (duk_uarridx_t) (2 * f->nrheaders));
    for (size_t i = 0; i < f->nrheaders; i++) {
        duk_push_string(ctx, f->rheaders[i].name);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) (2 * i));
        ew__push_utf8(ctx, f->rheaders[i].value, f->rheaders[i].value_len);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) (2 * i + 1));
    }
    duk_put_prop_literal(ctx, self, EW__WEB_HLIST);
    ew__push_utf8(ctx, f->reason ? f->reason : "", f->reason ? strlen(f->reason) : 0);
    duk_put_prop_literal(ctx, self, EW__WEB_STATUS_TEXT);
    duk_push_lstring(ctx, f->url.href, f->url.len);
    duk_put_prop_literal(ctx, self, EW__WEB_URL);
    if (!null_body_status(f->status) && strcmp(f->method, "HEAD") != 0) {
        f->src = ew__stream_src_push_new(ctx, &body_hooks, f, BODY_HWM);
        double length = body_length(f);
        if (length >= 0) /* workerd's stream knows its length too: `return fetch(url)` keeps it */
            ew__stream_set_expected_length(ctx, -1, length);
        duk_put_prop_literal(ctx, self, EW__WEB_BODY);
    }
}

/* Pushes the abort reason of the signal at idx: signal.reason, or an AbortError when it has none. */
static void push_abort_reason(duk_context *ctx, duk_idx_t idx)
{
    if (ew__abort_signal_is(ctx, idx)) {
        ew__abort_signal_push_reason(ctx, idx);
        if (!duk_is_undefined(ctx, -1))
            return;
        duk_pop(ctx);
    }
    ew__domexception_push(ctx, "AbortError", "The operation was aborted.");
}

/* Safe-call body: settles the fetch's promise (the entry keeps the signal and follower while the body
 * streams: an abort then errors the body). */
static duk_ret_t settle_body(duk_context *ctx, void *udata)
{
    settle_args_t *a = udata;
    ew__fetch_t *f = a->f;
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, FETCHES_KEY);
    duk_get_prop_index(ctx, -1, f->id);
    duk_idx_t entry = duk_get_top_index(ctx);
    duk_get_prop_index(ctx, entry, 0);
    duk_idx_t promise = duk_get_top_index(ctx);
    duk_get_prop_index(ctx, entry, 1);
    duk_idx_t signal = duk_get_top_index(ctx);
    duk_push_undefined(ctx);
    duk_put_prop_index(ctx, entry, 0);
    switch (a->kind) {
    case SETTLE_RESPONSE:
        push_response(ctx, f);
        break;
    case SETTLE_TYPE_ERROR:
        duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "%s", a->message);
        break;
    case SETTLE_ABORT:
        push_abort_reason(ctx, signal);
        break;
    case SETTLE_VALUE:
        duk_dup(ctx, entry - 3); /* the caller pushed it before the stash lookups */
        break;
    }
    ew__promise_settle(ctx, promise, a->kind != SETTLE_RESPONSE);
    return 0;
}

/* Settles the fetch's promise; a rejection also ends the fetch. From the loop it is a macrotask charged to
 * the request that called fetch(); from inside JS (an abort) it runs in the caller's entry. */
static void fetch_settle(ew__fetch_t *f, enum settle_kind kind, const char *message)
{
    settle_args_t a = {f, kind, message};
    f->settled = true;
    f->depth++; /* the microtasks run here may end this fetch */
    (void) ew__isolate_run(f->iso->ctx, f->req_id, settle_body, &a);
    f->depth--;
    if (kind != SETTLE_RESPONSE || f->doomed)
        fetch_end(f);
}

/* ---------------------------------------------------------------------------------------------------------
 * Network callbacks
 */

static void start_hop(ew__fetch_t *f);

static void fail_type_error(ew__fetch_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_type_error(ew__fetch_t *f, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!f->settled) {
        fetch_settle(f, SETTLE_TYPE_ERROR, msg);
        return;
    }
    if (f->src != NULL) { /* the Response is out: its body errors */
        ew__stream_src_t *src = f->src;
        f->src = NULL;
        f->depth++;
        ew__stream_src_error(src, msg);
        f->depth--;
    }
    fetch_end(f);
}

/* Enqueues the gathered body bytes as one chunk. False when the stream is gone. */
static bool flush_batch(ew__fetch_t *f)
{
    if (f->batch.len == 0)
        return f->src != NULL && !f->doomed;
    if (f->src == NULL || f->doomed)
        return false;
    f->depth++;
    f->pulled = false;
    ew_status_t st = ew__stream_src_enqueue_buf(f->src, &f->batch); /* empties the batch */
    f->depth--;
    return st == EW_OK && !f->doomed && f->src != NULL;
}

/* Back-pressure: the stream pulls again after an enqueue while it wants more (inside the enqueue, or later
 * when its reader catches up); until then the network waits. */
static void maybe_pause(ew__fetch_t *f)
{
    if (f->src != NULL && f->net != NULL && !f->doomed && !f->pulled)
        ew__net_request_pause(f->net, true);
}

/* End of the loop turn that read body bytes: they go to the stream together. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__fetch_t *f = arg;
    f->depth++;
    if (flush_batch(f))
        maybe_pause(f);
    if (--f->depth == 0 && f->doomed)
        fetch_end(f);
}

/* Decoded body bytes: gathered for the stream (false stops the decoder when the stream is gone). Bytes
 * that arrive in one loop turn become one chunk: each enqueue runs the stream's script, so fewer, larger
 * chunks cost less CPU time than one per socket read. */
static bool append_body(void *udata, const char *data, size_t len)
{
    ew__fetch_t *f = udata;
    if (f->src == NULL || f->doomed)
        return false;
    if (!ew__buf_append(&f->batch, data, len))
        return false;
    if (f->batch.len >= BODY_BATCH)
        return flush_batch(f);
    if (f->flush_ev == NULL && (f->flush_ev = event_new(f->iso->rt->base, -1, 0, on_flush, f)) == NULL)
        return flush_batch(f);
    event_active(f->flush_ev, EV_TIMEOUT, 1);
    return true;
}

/* The stream wants bytes again: let the network deliver. */
static void body_pull(void *udata, ew__stream_src_t *src)
{
    (void) src;
    ew__fetch_t *f = udata;
    f->pulled = true;
    if (f->net != NULL)
        ew__net_request_pause(f->net, false);
}

/* A reader that sends the body on compressed as `coding` asks for the bytes as the server sent them:
 * possible while nothing was decoded yet and the server's coding is that one (`return fetch(url)` of a
 * gzip response then passes the gzip bytes through, as workerd does, instead of decoding and compressing
 * them again). */
static bool body_raw(void *udata, ew__stream_src_t *src, int coding)
{
    (void) src;
    ew__fetch_t *f = udata;
    if (f->decoder == NULL || f->body_seen || f->batch.len > 0 || f->coding != coding ||
        coding == EW__CODING_NONE)
        return false;
    ew__decoder_destroy(f->decoder);
    f->decoder = NULL;
    return true;
}

/* A splice step of the network request ended: tell the stream's reader (outside the heap). */
static void on_spliced(void *udata, size_t moved, ew__net_splice_result_t result)
{
    ew__fetch_t *f = udata;
    ew__stream_splice_t r = result == EW__NET_SPLICE_MORE  ? EW__SPLICE_MORE
                            : result == EW__NET_SPLICE_FULL ? EW__SPLICE_FULL
                            : result == EW__NET_SPLICE_END  ? EW__SPLICE_END
                                                            : EW__SPLICE_FAILED;
    ew__stream_src_spliced(f->src, moved, r);
}

/* The reader passes the body on untouched and asks for the bytes to go straight from the socket to fd:
 * possible for bytes that need no decoding (plain HTTP/1.1, Content-Length: ew__net_request_splice_able),
 * once everything that arrived so far went to the stream (the batch is empty). */
static int body_splice(void *udata, ew__stream_src_t *src, int fd, size_t max)
{
    (void) src;
    ew__fetch_t *f = udata;
    if (fd < 0) {
        if (f->net != NULL)
            ew__net_request_splice_stop(f->net);
        return 0;
    }
    if (f->net == NULL || f->doomed || f->decoder != NULL || f->next_url.href != NULL ||
        !ew__net_request_splice_able(f->net))
        return -1;
    if (max == 0 || f->batch.len > 0)
        return 0;
    return ew__net_request_splice(f->net, fd, max, on_spliced, f) ? 1 : 0;
}

/* The reader cancelled the body, or the isolate is going away: stop the network request. src is freed by
 * the caller when this returns. */
static void body_cancel(void *udata, ew__stream_src_t *src)
{
    (void) src;
    ew__fetch_t *f = udata;
    f->src = NULL;
    if (f->dying) {
        fetch_free(f);
        return;
    }
    fetch_end(f);
}

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static char *dup_lower(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + 32) : s[i];
    d[n] = '\0';
    return d;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        if (n > 0)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Copies the head; picks a decoder; decides whether this hop is a redirect to follow. */
static void on_head(void *udata, int status, const char *reason, size_t reason_len, const ew__h1_header_t *h,
                    size_t n)
{
    ew__fetch_t *f = udata;
    reset_response(f);
    f->status = status;
    f->reason = dup_bytes(reason, reason_len);
    f->rheaders = calloc(n ? n : 1, sizeof(*f->rheaders));
    bool oom = f->reason == NULL || f->rheaders == NULL;
    const ew__h1_header_t *location = NULL, *coding = NULL;
    for (size_t i = 0; !oom && i < n; i++) {
        fheader_t *d = &f->rheaders[f->nrheaders];
        d->name = dup_lower(h[i].name, h[i].name_len);
        d->value = dup_bytes(h[i].value, h[i].value_len);
        d->value_len = h[i].value_len;
        f->nrheaders++;
        oom = d->name == NULL || d->value == NULL;
        if (!oom && strcmp(d->name, "location") == 0)
            location = &h[i];
        else if (!oom && strcmp(d->name, "content-encoding") == 0)
            coding = &h[i];
    }
    if (oom) {
        ew__net_request_cancel(f->net);
        f->net = NULL;
        fail_type_error(f, "Out of memory reading the response of %s.", f->url.href);
        return;
    }
    if (is_redirect(status) && location != NULL && f->redirect_mode != 1) {
        if (f->redirect_mode == 2) {
            ew__net_request_cancel(f->net);
            f->net = NULL;
            fail_type_error(f, "Fetch failed: %s redirected (status %d) and the request's redirect mode is "
                               "\"error\".", f->url.href, status);
            return;
        }
        char *loc = dup_bytes(location->value, location->value_len);
        bool ok = loc != NULL && ew__url_parse(loc, location->value_len, &f->url, &f->next_url);
        free(loc);
        if (!ok) {
            ew__net_request_cancel(f->net);
            f->net = NULL;
            fail_type_error(f, "Fetch failed: %s redirected to an invalid URL.", f->url.href);
            return;
        }
        return; /* the body is drained and dropped; on_done follows the redirect */
    }
    if (coding != NULL && !null_body_status(status) && strcmp(f->method, "HEAD") != 0) {
        bool unknown;
        f->decoder = ew__decoder_create(coding->value, coding->value_len, append_body, f, &unknown);
        f->coding = ew__coding_of(coding->value, coding->value_len);
        /* An unknown coding is passed through as it is (Workers does the same). */
        if (f->decoder == NULL && !unknown) {
            ew__net_request_cancel(f->net);
            f->net = NULL;
            fail_type_error(f, "Out of memory reading the response of %s.", f->url.href);
            return;
        }
        /* The headers stay as the server sent them (content-encoding, content-length), as in workerd:
         * the script reads decoded bytes, and a Response returned with them is compressed again on the
         * way out (encodeBody "automatic", lib/web/body_encode.c). */
    }
    fetch_settle(f, SETTLE_RESPONSE, NULL);
}

static void on_body(void *udata, const char *data, size_t len)
{
    ew__fetch_t *f = udata;
    if (f->next_url.href != NULL || f->src == NULL)
        return; /* a redirect's body, or one nobody reads any more */
    int rc;
    f->body_seen = true;
    if (f->decoder != NULL)
        rc = ew__decoder_push(f->decoder, data, len);
    else
        rc = append_body(f, data, len) ? EW__DECODE_OK : EW__DECODE_STOPPED;
    if (rc == EW__DECODE_ERROR) {
        ew__net_request_cancel(f->net);
        f->net = NULL;
        fail_type_error(f, "The response body of %s could not be decoded: %s.", f->url.href,
                        ew__decoder_error(f->decoder));
        return;
    }
    if (f->batch.len == 0) /* a batch went out in this call */
        maybe_pause(f);
}

/* Applies the spec's redirect rules to the request and starts the next hop. */
static void follow_redirect(ew__fetch_t *f)
{
    if (++f->redirects > MAX_REDIRECTS) {
        fail_type_error(f, "Fetch failed: too many redirects (more than %d), the last to %s.", MAX_REDIRECTS,
                        f->next_url.href);
        return;
    }
    if (f->next_url.scheme != EW__SCHEME_HTTP && f->next_url.scheme != EW__SCHEME_HTTPS) {
        fail_type_error(f, "Fetch API cannot load: %s", f->next_url.href);
        return;
    }
    int status = f->status;
    bool to_get = ((status == 301 || status == 302) && strcmp(f->method, "POST") == 0) ||
                  (status == 303 && strcmp(f->method, "GET") != 0 && strcmp(f->method, "HEAD") != 0);
    bool same_origin = f->url.scheme == f->next_url.scheme && f->url.port == f->next_url.port &&
                       f->url.host_end - f->url.host_start == f->next_url.host_end - f->next_url.host_start &&
                       memcmp(f->url.href + f->url.host_start, f->next_url.href + f->next_url.host_start,
                              f->url.host_end - f->url.host_start) == 0;
    size_t kept = 0;
    for (size_t i = 0; i < f->nheaders; i++) {
        const char *nm = f->headers[i].name;
        bool drop = (!same_origin && strcmp(nm, "authorization") == 0) ||
                    (to_get && (strcmp(nm, "content-type") == 0 || strcmp(nm, "content-encoding") == 0 ||
                                strcmp(nm, "content-language") == 0 || strcmp(nm, "content-location") == 0));
        if (drop) {
            free(f->headers[i].name);
            free(f->headers[i].value);
        } else {
            f->headers[kept++] = f->headers[i];
        }
    }
    f->nheaders = kept;
    if (to_get) {
        if (strcmp(f->method, "HEAD") != 0) {
            free(f->method);
            f->method = strdup("GET");
        }
        free(f->body);
        f->body = NULL;
        f->body_len = 0;
    }
    ew__url_dispose(&f->url);
    f->url = f->next_url;
    memset(&f->next_url, 0, sizeof(f->next_url));
    if (f->method == NULL) {
        fail_type_error(f, "Out of memory following a redirect.");
        return;
    }
    reset_response(f);
    start_hop(f);
}

static void on_done(void *udata, ew__net_error_t err, const char *message)
{
    ew__fetch_t *f = udata;
    if (f->doomed)
        return;
    if (err == EW__NET_ERR_LOST) {
        fail_type_error(f, "Network connection lost.");
        return;
    }
    if (err != EW__NET_OK) {
        fail_type_error(f, "%s", message);
        return;
    }
    if (f->next_url.href != NULL) {
        follow_redirect(f);
        return;
    }
    if (f->decoder != NULL && ew__decoder_finish(f->decoder) != EW__DECODE_OK) {
        fail_type_error(f, "The response body of %s could not be decoded: %s.", f->url.href,
                        ew__decoder_error(f->decoder));
        return;
    }
    (void) flush_batch(f); /* the last bytes; a stream gone meanwhile just ends the fetch below */
    if (f->src != NULL && !f->doomed) {
        ew__stream_src_t *src = f->src;
        f->src = NULL;
        f->depth++;
        ew__stream_src_close(src);
        f->depth--;
    }
    fetch_end(f);
}

/* The client's callbacks, counted in f->depth so that script run from inside them cannot free f. */
static void net_head(void *udata, int status, const char *reason, size_t reason_len, const ew__h1_header_t *h,
                     size_t n)
{
    ew__fetch_t *f = udata;
    f->depth++;
    on_head(f, status, reason, reason_len, h, n);
    if (--f->depth == 0 && f->doomed)
        fetch_end(f);
}

static void net_body(void *udata, const char *data, size_t len)
{
    ew__fetch_t *f = udata;
    f->depth++;
    on_body(f, data, len);
    if (--f->depth == 0 && f->doomed)
        fetch_end(f);
}

static void net_done(void *udata, ew__net_error_t err, const char *message)
{
    ew__fetch_t *f = udata;
    f->net = NULL; /* the client frees it when this returns */
    f->depth++;
    on_done(f, err, message);
    if (--f->depth == 0 && f->doomed)
        fetch_end(f);
}

static const ew__net_handler_t handler = {net_head, net_body, net_done};

/* Starts a network request for the fetch's current method, URL, headers and body. */
static void start_hop(ew__fetch_t *f)
{
    ew__isolate_t *iso = f->iso;
    ew_runtime_t *rt = iso->rt;
    if (rt->net == NULL) {
        ew__net_client_config_t cfg = {.ca_file = rt->cfg.ca_file, .connect_to = rt->cfg.connect_to};
        rt->net = ew__net_client_create(rt->base, &cfg);
        if (rt->net == NULL) {
            fail_type_error(f, "Out of memory starting a fetch.");
            return;
        }
    }
    ew_header_t *hs = calloc(f->nheaders + 1, sizeof(*hs));
    if (hs == NULL) {
        fail_type_error(f, "Out of memory starting a fetch.");
        return;
    }
    for (size_t i = 0; i < f->nheaders; i++)
        hs[i] = (ew_header_t){f->headers[i].name, strlen(f->headers[i].name), f->headers[i].value,
                              f->headers[i].value_len};
    const ew__url_t *u = &f->url;
    char host[300];
    snprintf(host, sizeof(host), "%.*s", (int) (u->host_end - u->host_start), u->href + u->host_start);
    uint32_t target_end = (u->flags & EW__URL_HAS_QUERY) ? u->query_end : u->path_end;
    char *target = dup_bytes(u->href + u->path_start, target_end - u->path_start);
    bool https = u->scheme == EW__SCHEME_HTTPS;
    ew__net_request_t q = {
        .method = f->method,
        .https = https,
        .host = host,
        .port = (uint16_t) (u->port >= 0 ? u->port : https ? 443 : 80),
        .target = target != NULL && target[0] ? target : "/",
        .headers = hs,
        .nheaders = f->nheaders,
        .body = f->body,
        .body_len = f->body_len,
    };
    f->net = target != NULL ? ew__net_request_start(rt->net, &q, &handler, f) : NULL;
    free(target);
    free(hs);
    if (f->net == NULL)
        fail_type_error(f, "Out of memory starting a fetch.");
}

/* ---------------------------------------------------------------------------------------------------------
 * fetch(input, init)
 */

/* The signal's follower (its fetch id is a hidden property of the function): before the response, the
 * promise rejects with the signal's reason; during the body, the body errors. */
static duk_ret_t on_abort(duk_context *ctx)
{
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, FETCH_ID);
    uint32_t id = duk_get_uint(ctx, -1);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    ew__fetch_t *f = iso != NULL ? find_fetch(iso, id) : NULL;
    if (f == NULL || f->doomed)
        return 0;
    if (f->net != NULL)
        ew__net_request_cancel(f->net);
    f->net = NULL;
    if (!f->settled)
        fetch_settle(f, SETTLE_ABORT, NULL);
    else
        fail_type_error(f, "The operation was aborted.");
    return 0;
}

/* A streamed request body being read whole before the request goes out. */
static void on_request_chunk(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data, size_t len);

static void add_header(duk_context *ctx, ew__fetch_t *f, const char *name, const char *value)
{
    fheader_t *d = &f->headers[f->nheaders];
    d->name = strdup(name);
    d->value = strdup(value);
    d->value_len = strlen(value);
    f->nheaders++;
    if (d->name == NULL || d->value == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "fetch: out of memory");
}

/* Copies the header list at list_idx into f, adding accept-encoding when the script set none, and for
 * cache: 'no-store' the no-cache headers Workers forwards (pragma, cache-control) unless already set. */
static void copy_headers(duk_context *ctx, ew__fetch_t *f, duk_idx_t list_idx, bool no_store)
{
    duk_size_t n = duk_get_length(ctx, list_idx) / 2;
    f->headers = calloc(n + 3, sizeof(*f->headers));
    if (f->headers == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "fetch: out of memory");
    bool has_ae = false, has_pragma = false, has_cc = false;
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, list_idx, 2 * i);
        duk_get_prop_index(ctx, list_idx, 2 * i + 1);
        size_t nlen, vlen;
        const char *name = duk_get_lstring(ctx, -2, &nlen);
        const char *value = ew__to_utf8(ctx, -1, &vlen);
        fheader_t *d = &f->headers[f->nheaders];
        d->name = dup_lower(name, nlen);
        d->value = dup_bytes(value, vlen);
        d->value_len = vlen;
        f->nheaders++;
        if (d->name == NULL || d->value == NULL)
            (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "fetch: out of memory");
        has_ae = has_ae || strcmp(d->name, "accept-encoding") == 0;
        has_pragma = has_pragma || strcmp(d->name, "pragma") == 0;
        has_cc = has_cc || strcmp(d->name, "cache-control") == 0;
        duk_pop_2(ctx);
    }
    if (!has_ae) /* the codings on_head can decode, as the Workers edge asks origins for */
        add_header(ctx, f, "accept-encoding", "gzip, deflate, br");
    if (no_store && !has_pragma)
        add_header(ctx, f, "pragma", "no-cache");
    if (no_store && !has_cc)
        add_header(ctx, f, "cache-control", "no-cache");
}

/* Pushes the AbortSignal to honour: the Request's signal when it has one, else init.signal, else undefined.
 * TypeError for a signal member that is not an AbortSignal. */
static void push_signal(duk_context *ctx, duk_idx_t request_idx, duk_idx_t init_idx)
{
    duk_get_prop_literal(ctx, request_idx, "signal");
    if (ew__abort_signal_is(ctx, -1))
        return;
    duk_pop(ctx);
    if (duk_is_object(ctx, init_idx)) {
        duk_get_prop_literal(ctx, init_idx, "signal");
        if (ew__abort_signal_is(ctx, -1))
            return;
        if (!duk_is_null_or_undefined(ctx, -1))
            (void) duk_type_error(ctx, "Failed to execute 'fetch': member signal is not of type AbortSignal.");
        duk_pop(ctx);
    }
    duk_push_undefined(ctx);
}

/* Copies the body storage on top (a string or a buffer) into f. */
static void copy_body_bytes(duk_context *ctx, ew__fetch_t *f)
{
    size_t blen;
    const void *b = ew__body_bytes(ctx, -1, &blen);
    f->body = malloc(blen ? blen : 1);
    if (f->body == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "fetch: out of memory");
    if (blen > 0)
        memcpy(f->body, b, blen);
    f->body_len = blen;
}

/* Copies method, redirect mode, headers and body of the Request at req into f. A body stream made by
 * script is opened for reading (f->reader), to be read whole before the request goes out. */
static void copy_request(duk_context *ctx, ew__fetch_t *f, duk_idx_t req)
{
    ew__request_unpack(ctx, req); /* always a new Request today; kept safe if that changes */
    uint32_t state = ew__web_state(ctx, req);
    duk_get_prop_literal(ctx, req, EW__WEB_METHOD);
    f->method = strdup(duk_get_string(ctx, -1));
    duk_pop(ctx);
    if (f->method == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "fetch: out of memory");
    f->redirect_mode = (int) ((state >> EW__STATE_REDIRECT_SHIFT) & 3u);
    duk_get_prop_literal(ctx, req, EW__WEB_HLIST);
    copy_headers(ctx, f, duk_get_top_index(ctx), (state & EW__STATE_NO_STORE) != 0);
    duk_pop(ctx);
    if (!ew__body_take(ctx, req))
        return;
    if (!ew__stream_is_readable(ctx, -1)) {
        copy_body_bytes(ctx, f);
    } else if (ew__stream_push_bytes(ctx, -1, true)) { /* a stream made from bytes: take them */
        copy_body_bytes(ctx, f);
        duk_pop(ctx);
    } else {
        f->reader = ew__stream_reader_open(ctx, -1);
        if (f->reader == NULL)
            (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "fetch: out of memory");
    }
    duk_pop(ctx);
}

/* Stores [promise, signal, follower] under f's id and follows the signal (if any). Last step of prepare:
 * nothing after it throws, so a follower is never left behind by a rejected fetch(). */
static void register_fetch(duk_context *ctx, ew__fetch_t *f, duk_idx_t promise, duk_idx_t signal)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, FETCHES_KEY);
    duk_dup(ctx, promise);
    duk_dup(ctx, signal);
    duk_push_c_function(ctx, on_abort, 1);
    duk_push_uint(ctx, f->id);
    duk_put_prop_literal(ctx, -2, FETCH_ID);
    ew__web_pack(ctx, 3);
    duk_put_prop_index(ctx, -2, f->id);
    if (!duk_is_undefined(ctx, signal)) {
        duk_get_prop_index(ctx, -1, f->id);
        duk_get_prop_index(ctx, -1, 2);
        ew__abort_signal_follow(ctx, signal);
        duk_pop(ctx);
        f->has_signal = true;
    }
    duk_pop_2(ctx);
}

/* Safe-call body: [input, init, promise] -> [signal]. Builds the Request and copies what the network needs
 * into f; throws what fetch() must reject with. */
static duk_ret_t prepare(duk_context *ctx, void *udata)
{
    ew__fetch_t *f = udata;
    duk_idx_t input = duk_get_top(ctx) - 3, init = input + 1, promise = input + 2;
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, REQUEST_CTOR_KEY);
    duk_remove(ctx, -2);
    duk_dup(ctx, input);
    duk_dup(ctx, init);
    duk_new(ctx, 2);
    duk_idx_t req = duk_get_top_index(ctx);

    push_signal(ctx, req, init);
    duk_idx_t signal = duk_get_top_index(ctx);
    if (!duk_is_undefined(ctx, signal) && ew__abort_signal_aborted(ctx, signal)) {
        push_abort_reason(ctx, signal); /* rejected with the signal's reason, before any I/O */
        return duk_throw(ctx);
    }

    duk_get_prop_literal(ctx, req, EW__WEB_URL);
    size_t ulen;
    const char *url = ew__to_utf8(ctx, -1, &ulen);
    if (!ew__url_parse(url, ulen, NULL, &f->url))
        return duk_type_error(ctx, "Fetch API cannot load: %s", url);
    if (f->url.scheme != EW__SCHEME_HTTP && f->url.scheme != EW__SCHEME_HTTPS)
        return duk_type_error(ctx, "Fetch API cannot load: %s", f->url.href);
    duk_pop(ctx);

    ew_runtime_t *rt = f->iso->rt;
    ew__req_t *r = f->iso->running;
    uint32_t limit = rt->cfg.subrequests ? rt->cfg.subrequests : DEFAULT_SUBREQUESTS;
    if (r->subrequests >= limit)
        return duk_error(ctx, DUK_ERR_ERROR, "Too many subrequests by single Worker invocation.");
    copy_request(ctx, f, req);
    r->subrequests++;
    register_fetch(ctx, f, promise, signal);
    duk_dup(ctx, signal);
    return 1;
}

static void on_request_chunk(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data, size_t len)
{
    ew__fetch_t *f = udata;
    if (ev == EW__STREAM_CHUNK) {
        char *grown = realloc(f->body, f->body_len + len);
        if (grown == NULL) {
            fail_type_error(f, "Out of memory reading the request body.");
            return;
        }
        memcpy(grown + f->body_len, data, len);
        f->body = grown;
        f->body_len += len;
        if (ew__stream_reader_read(f->reader, on_request_chunk, f) != EW_OK)
            fail_type_error(f, "The request body stream could not be read.");
        return;
    }
    ew__stream_reader_close(f->reader);
    f->reader = NULL;
    if (ev == EW__STREAM_END) {
        if (f->body == NULL && (f->body = malloc(1)) == NULL) {
            fail_type_error(f, "Out of memory reading the request body.");
            return;
        }
        start_hop(f);
        return;
    }
    if (ctx == NULL) /* the isolate went away */
        return;
    duk_dup_top(ctx); /* the stream's error rejects the fetch */
    f->settled = true;
    settle_args_t a = {f, SETTLE_VALUE, NULL};
    (void) settle_body(ctx, &a);
    fetch_end(f);
}

static duk_ret_t fetch_fn(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso == NULL || iso->rt == NULL)
        return duk_error(ctx, DUK_ERR_ERROR, "fetch() needs a runtime (this heap has none)");
    if (iso->running == NULL)
        return duk_error(ctx, DUK_ERR_ERROR, "%s", GLOBAL_SCOPE_MESSAGE);
    duk_set_top(ctx, 2);
    if (ew__ws_fetch_is_upgrade(ctx)) { /* Upgrade: websocket goes to lib/core/ws_client.c */
        ew__ws_fetch_upgrade(ctx);
        return 1;
    }
    ew__promise_push_new(ctx);
    ew__fetch_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "fetch: out of memory");
    f->iso = iso;
    f->id = iso->next_fetch_id++;
    f->req_id = iso->running->id;
    f->next = iso->fetches;
    iso->fetches = f;
    iso->io_pending++;
    duk_dup(ctx, 0);
    duk_dup(ctx, 1);
    duk_dup(ctx, 2);
    if (duk_safe_call(ctx, prepare, f, 3, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx)) {
            fetch_free(f);
            return duk_throw(ctx);
        }
        (void) duk_safe_call(ctx, drop_entry, (void *) (uintptr_t) f->id, 0, 1);
        duk_pop(ctx);
        fetch_free(f);
        ew__promise_settle(ctx, 2, true); /* rejects with the error on top */
        duk_dup(ctx, 2);
        return 1;
    }
    duk_pop(ctx);
    if (f->reader != NULL) { /* the body stream is read first; its END starts the request */
        if (ew__stream_reader_read(f->reader, on_request_chunk, f) != EW_OK)
            fail_type_error(f, "The request body stream could not be read.");
    } else {
        start_hop(f); /* failures here reject the promise from inside this call: it is already ours */
    }
    duk_dup(ctx, 2);
    return 1;
}

void ew__fetch_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    duk_push_global_stash(ctx);
    duk_push_bare_object(ctx);
    duk_put_prop_literal(ctx, -2, FETCHES_KEY);
    duk_get_prop_literal(ctx, global_idx, "Request");
    duk_put_prop_literal(ctx, -2, REQUEST_CTOR_KEY);
    duk_pop(ctx);
    duk_push_c_function(ctx, fetch_fn, 2);
    duk_push_literal(ctx, "name");
    duk_push_literal(ctx, "fetch");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "length");
    duk_push_int(ctx, 1); /* WebIDL: one required argument */
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    ew__def_hidden_value(ctx, global_idx, "fetch");
}
