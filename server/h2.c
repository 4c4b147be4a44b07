/*
 * h2.c — ew-server's HTTP/2 (RFC 9113) on nghttp2: h2 over TLS when ALPN picks it (tls.c hands over the
 * application end of its relay) and h2c with prior knowledge (http.c hands over a connection whose first
 * bytes are the client preface). nghttp2 runs on memory buffers over a bufferevent:
 *
 *   socket bytes ──nghttp2_session_mem_recv──> callbacks: a stream's headers and body collected
 *   END_STREAM ──> ew_worker_fetch (one Worker request per stream, concurrently) ──> response submitted
 *   (a large body, or one of unknown length: HEADERS ──> the Worker at once, DATA ──> request.body)
 *   nghttp2_session_mem_send ──> bufferevent output, only while it holds less than HIGH_WATER (a slow
 *   reader is not buffered for: the write callback resumes), the body read by a data provider.
 *
 * Flow control of request bodies is ours (no automatic WINDOW_UPDATE): a buffered body's bytes are consumed
 * as they arrive, a streamed body's as the Worker takes them ("Streamed request bodies"); nghttp2 checks HTTP
 * messaging
 * (pseudo-headers, forbidden connection headers, content-length) and resets malformed streams. A stream the
 * client resets, or whose connection goes, while its request is in the Worker becomes a zombie that the
 * Worker's callback frees. A ReadableStream body (ew_worker_fetch_stream) is pulled one chunk at a time
 * as the client's flow-control window and the output buffer allow (the data provider defers while a chunk
 * is read). Shutdown sends GOAWAY and closes once the open streams are answered.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h2.h"
#include "log.h"
#include "net/http1.h"

#define HIGH_WATER ((size_t) 1 << 20)

typedef struct h2_conn h2_conn_t;
typedef struct h2_stream h2_stream_t;

struct srv_h2_group {
    struct event_base *base;
    ew_worker_t *worker;
    srv_h2_config_t cfg;
    h2_conn_t *conns;
    uint32_t count;
    bool draining;
    void (*on_empty)(void *arg);
    void *empty_arg;
};

struct h2_conn {
    srv_h2_group_t *g;
    struct bufferevent *bev;     /* owned */
    nghttp2_session *sess;       /* owned */
    char peer[64];
    bool tls;
    srv_cf_conn_t cf;
    h2_stream_t *streams;        /* open streams (list) */
    h2_conn_t *next;
};

typedef struct hdr {
    uint32_t name, name_len, value, value_len; /* offsets into the stream's text */
} hdr_t;

struct h2_stream {
    h2_conn_t *conn;             /* NULL: a zombie waiting for the Worker's callback */
    int32_t id;
    char *text;                  /* owned: header names and values, NUL-separated */
    size_t text_len, text_cap;
    hdr_t *hdrs;                 /* owned: regular headers */
    size_t nhdrs, hdrs_cap;
    int32_t method, path, authority, scheme; /* offsets of the pseudo-headers' values, -1 = absent */
    uint8_t *body;               /* owned */
    size_t body_len, body_cap;
    bool too_big;                /* the body passed the limit: the answer is 413 */
    ew_req_body_t *req_body;     /* owned: the body streaming into the Worker while it arrives; NULL when none */
    size_t unconsumed;           /* bytes of it not yet taken by the Worker: their window is not given back */
    bool drop_answer;            /* the body broke the limit after the Worker got it: its answer is dropped */
    bool in_worker;
    ew_response_t *resp;         /* owned once answered by the Worker */
    char *own_body;              /* owned: the text of a response made here (413, 503, ...) */
    const uint8_t *out;          /* the response body the data provider reads (resp's or own_body) */
    size_t out_len;
    bool answered;
    size_t sent;                 /* body bytes handed to nghttp2 */
    /* A streamed body (resp->body_stream, ew_worker_fetch_stream): one chunk at a time. */
    bool reading;                /* an ew_body_read is pending: the stream lives until its callback */
    bool body_eof;               /* the stream's end was reported */
    uint8_t *chunk;              /* owned: the chunk being sent */
    size_t chunk_len, chunk_off, chunk_cap;
    struct timespec started;
    h2_stream_t *next;
};

static void conn_close(h2_conn_t *c);
static void flush(h2_conn_t *c);

/* ---------------------------------------------------------------------------------------------------------
 * Streams
 */

static void stream_free(h2_stream_t *st)
{
    ew_req_body_destroy(st->req_body); /* fails it for the Worker if it had not ended */
    ew_response_destroy(st->resp);
    free(st->own_body);
    free(st->chunk);
    free(st->text);
    free(st->hdrs);
    free(st->body);
    free(st);
}

/* Out of the connection's list (the stream is closed or the connection goes). */
static void stream_unlink(h2_stream_t *st)
{
    h2_conn_t *c = st->conn;
    if (c == NULL)
        return;
    for (h2_stream_t **pp = &c->streams; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    st->conn = NULL;
}

/* Appends a NUL-terminated copy; returns its offset or -1 when the header block is too big. */
static int32_t text_put(h2_stream_t *st, const uint8_t *p, size_t n, size_t limit)
{
    if (st->text_len + n + 1 > limit)
        return -1;
    if (st->text_len + n + 1 > st->text_cap) {
        size_t cap = st->text_cap ? st->text_cap * 2 : 512;
        while (cap < st->text_len + n + 1)
            cap *= 2;
        char *t = realloc(st->text, cap);
        if (t == NULL)
            return -1;
        st->text = t;
        st->text_cap = cap;
    }
    int32_t off = (int32_t) st->text_len;
    memcpy(st->text + off, p, n);
    st->text[off + n] = '\0';
    st->text_len += n + 1;
    return off;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - t0->tv_sec) * 1e3 + (double) (now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void log_request(h2_stream_t *st, int status)
{
    h2_conn_t *c = st->conn;
    if (c == NULL || !c->g->cfg.log_requests)
        return;
    const char *method = st->method >= 0 ? st->text + st->method : "?";
    const char *path = st->path >= 0 ? st->text + st->path : "/";
    if (srv_log_json())
        srv_log_request_json(method, path, status, ms_since(&st->started), "HTTP/2");
    else
        printf("%s %.400s %d %s (%.0fms)\n", method, path, status, ew__h1_reason_phrase(status),
               ms_since(&st->started));
}

/* ---------------------------------------------------------------------------------------------------------
 * Responses
 */

/* The Worker has the stream's request, or a chunk of its body is on its way: the stream outlives its
 * connection until that callback. */
static bool stream_busy(const h2_stream_t *st)
{
    return st->in_worker || st->reading;
}

static void on_body_chunk(void *udata, const void *data, size_t len, ew_status_t status)
{
    h2_stream_t *st = udata;
    st->reading = false;
    h2_conn_t *c = st->conn;
    if (c == NULL) {
        stream_free(st);
        return;
    }
    if (status != EW_OK) { /* headers are out: a reset tells the client the body is not complete */
        st->body_eof = true;
        nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    } else if (data == NULL) {
        st->body_eof = true;
    } else {
        if (len > st->chunk_cap) {
            uint8_t *b = realloc(st->chunk, len);
            if (b == NULL) {
                st->body_eof = true;
                nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
                flush(c);
                return;
            }
            st->chunk = b;
            st->chunk_cap = len;
        }
        memcpy(st->chunk, data, len);
        st->chunk_len = len;
        st->chunk_off = 0;
    }
    nghttp2_session_resume_data(c->sess, st->id);
    flush(c);
}

/* Data provider of a streamed body: what the current chunk has, else DEFERRED while the next is read. */
static ssize_t read_stream_body(h2_stream_t *st, uint8_t *buf, size_t len, uint32_t *flags)
{
    if (st->chunk_off < st->chunk_len) {
        size_t n = st->chunk_len - st->chunk_off < len ? st->chunk_len - st->chunk_off : len;
        memcpy(buf, st->chunk + st->chunk_off, n);
        st->chunk_off += n;
        return (ssize_t) n;
    }
    if (st->body_eof) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
    }
    if (!st->reading) {
        st->reading = true;
        if (ew_body_read(st->resp->body_stream, on_body_chunk, st) != EW_OK) {
            st->reading = false;
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
        }
    }
    return NGHTTP2_ERR_DEFERRED;
}

static ssize_t read_body(nghttp2_session *sess, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *udata)
{
    (void) sess;
    (void) id;
    (void) udata;
    h2_stream_t *st = src->ptr;
    if (st->resp != NULL && st->resp->body_stream != NULL)
        return read_stream_body(st, buf, len, flags);
    size_t left = st->out_len - st->sent;
    size_t n = left < len ? left : len;
    if (n > 0)
        memcpy(buf, st->out + st->sent, n);
    st->sent += n;
    if (st->sent == st->out_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t) n;
}

/* Connection-specific fields are forbidden in HTTP/2 (RFC 9113 8.2.2); content-length is ours. */
static bool skip_header(const char *name)
{
    return strcmp(name, "connection") == 0 || strcmp(name, "keep-alive") == 0 ||
           strcmp(name, "transfer-encoding") == 0 || strcmp(name, "upgrade") == 0 ||
           strcmp(name, "proxy-connection") == 0 || strcmp(name, "content-length") == 0;
}

/* Submits the answer: status, headers (lower-case names), body (kept alive by the stream until it closes). */
static void submit_common(h2_stream_t *st, int status, const ew_header_t *headers, size_t nheaders,
                          const uint8_t *body, size_t body_len, bool streamed)
{
    h2_conn_t *c = st->conn;
    st->answered = true;
    st->out = body;
    st->out_len = body_len;
    char status_text[8], length[24];
    snprintf(status_text, sizeof(status_text), "%d", status);
    snprintf(length, sizeof(length), "%zu", body_len);
    nghttp2_nv *nva = calloc(nheaders + 2, sizeof(*nva));
    if (nva == NULL) {
        nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    size_t n = 0;
    nva[n++] = (nghttp2_nv){(uint8_t *) ":status", (uint8_t *) status_text, 7, strlen(status_text),
                            NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; i < nheaders; i++) {
        const ew_header_t *h = &headers[i];
        if (skip_header(h->name))
            continue;
        nva[n++] = (nghttp2_nv){(uint8_t *) h->name, (uint8_t *) h->value, h->name_len, h->value_len,
                                NGHTTP2_NV_FLAG_NONE};
    }
    bool head = st->method >= 0 && strcmp(st->text + st->method, "HEAD") == 0;
    bool no_body = status == 204 || status == 304 || status < 200;
    if (!no_body && !streamed)
        nva[n++] = (nghttp2_nv){(uint8_t *) "content-length", (uint8_t *) length, 14, strlen(length),
                                NGHTTP2_NV_FLAG_NONE};
    nghttp2_data_provider prd = {.source.ptr = st, .read_callback = read_body};
    bool with_body = !no_body && !head && (body_len > 0 || streamed);
    if (nghttp2_submit_response(c->sess, st->id, nva, n, with_body ? &prd : NULL) != 0)
        nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    free(nva); /* nghttp2 copies the header block */
    log_request(st, status);
}

/* Submits the Worker's response (owned from now on). */
static void submit(h2_stream_t *st, ew_response_t *resp)
{
    st->resp = resp;
    submit_common(st, resp->status, resp->headers, resp->nheaders, resp->body, resp->body_len,
                  resp->body_stream != NULL);
}

/* Submits a short text/plain answer made by the server. */
static void submit_typed(h2_stream_t *st, int status, const char *text, const ew_header_t *ct);

static void submit_text(h2_stream_t *st, int status, const char *text)
{
    static const ew_header_t ct = {"content-type", 12, "text/plain;charset=UTF-8", 24};
    submit_typed(st, status, text, &ct);
}

static void submit_typed(h2_stream_t *st, int status, const char *text, const ew_header_t *ct)
{
    st->own_body = strdup(text);
    if (st->own_body == NULL) {
        st->answered = true;
        nghttp2_submit_rst_stream(st->conn->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        return;
    }
    submit_common(st, status, ct, 1, (const uint8_t *) st->own_body, strlen(text), false);
}

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) err;
    h2_stream_t *st = udata;
    st->in_worker = false;
    h2_conn_t *c = st->conn;
    if (c == NULL) { /* reset by the client, or its connection went */
        ew_response_destroy(resp);
        stream_free(st);
        return;
    }
    if (st->drop_answer) { /* the client got 413 instead */
        ew_response_destroy(resp);
        return;
    }
    if (resp->websocket != NULL) { /* WebSockets over HTTP/2 (RFC 8441) are not negotiated here */
        ew_response_destroy(resp);
        submit_text(st, 500, "Worker tried to return a WebSocket in a response to a request which did not "
                             "contain the header \"Upgrade: websocket\".\n");
    } else {
        submit(st, resp);
    }
    flush(c);
}

/* The request of stream st is complete: to the Worker. */
static void dispatch(h2_stream_t *st)
{
    h2_conn_t *c = st->conn;
    if (st->too_big) {
        submit_text(st, 413, "413 Payload Too Large: request body too large\n");
        return;
    }
    const char *path0 = st->path >= 0 ? st->text + st->path : "/";
    if (c->g->cfg.metrics != NULL && st->method >= 0 && strcmp(st->text + st->method, "GET") == 0 &&
        strncmp(path0, "/__metrics", 10) == 0 && (path0[10] == '\0' || path0[10] == '?')) {
        static const ew_header_t prom = {"content-type", 12, "text/plain; version=0.0.4; charset=utf-8", 40};
        char text[4096];
        size_t n = c->g->cfg.metrics(c->g->cfg.metrics_arg, text, sizeof(text));
        text[n] = '\0';
        submit_typed(st, 200, text, &prom);
        return;
    }
    const char *scheme = st->scheme >= 0 ? st->text + st->scheme : c->tls ? "https" : "http";
    const char *authority = st->authority >= 0 ? st->text + st->authority : NULL;
    ew_header_t *hdrs = calloc(st->nhdrs + SRV_CF_MAX_HEADERS, sizeof(*hdrs));
    if (hdrs == NULL) {
        submit_text(st, 503, "503 Service Unavailable: out of memory\n");
        return;
    }
    size_t n = 0;
    srv_cf_begin(&c->cf);
    for (size_t i = 0; i < st->nhdrs; i++) {
        const char *name = st->text + st->hdrs[i].name, *value = st->text + st->hdrs[i].value;
        if (authority == NULL && strcmp(name, "host") == 0)
            authority = value;
        if (srv_cf_take_header(&c->cf, name, st->hdrs[i].name_len, value, st->hdrs[i].value_len))
            continue;
        hdrs[n++] = (ew_header_t){name, st->hdrs[i].name_len, value, st->hdrs[i].value_len};
    }
    n += srv_cf_add_headers(&c->cf, hdrs + n, c->tls);
    if (authority == NULL)
        authority = c->g->cfg.host_default;
    const char *path = st->path >= 0 ? st->text + st->path : "/";
    size_t ulen = strlen(scheme) + strlen(authority) + strlen(path) + 4;
    char *url = malloc(ulen);
    if (url == NULL) {
        free(hdrs);
        submit_text(st, 503, "503 Service Unavailable: out of memory\n");
        return;
    }
    snprintf(url, ulen, "%s://%s%s", scheme, authority, path);
    size_t cf_len;
    const char *cf = srv_cf_json(&c->cf, &cf_len);
    ew_request_t req = {
        .method = st->method >= 0 ? st->text + st->method : "GET",
        .url = url,
        .headers = hdrs,
        .nheaders = n,
        .body = st->body_len ? st->body : NULL,
        .body_len = st->body_len,
    };
    ew_fetch_options_t opts = {.cf_json = cf, .cf_json_len = cf_len, .stream_body = 1};
    ew_worker_t *w = c->g->cfg.route != NULL ? c->g->cfg.route(c->g->cfg.route_arg, url) : NULL;
    ew_status_t rc = ew_worker_fetch_body(w != NULL ? w : c->g->worker, &req, &opts, st->req_body, on_response, st);
    free(url);
    free(hdrs);
    if (rc == EW_OK)
        st->in_worker = true;
    else
        submit_text(st, rc == EW_ERR_INVALID_ARG ? 400 : 503, rc == EW_ERR_INVALID_ARG ? "400 Bad Request\n"
                                                                                     : "503 Service Unavailable\n");
}

/* ---------------------------------------------------------------------------------------------------------
 * nghttp2 callbacks
 */

static int on_begin_headers(nghttp2_session *sess, const nghttp2_frame *frame, void *udata)
{
    h2_conn_t *c = udata;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_stream_t *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->conn = c;
    st->id = frame->hd.stream_id;
    st->method = st->path = st->authority = st->scheme = -1;
    clock_gettime(CLOCK_MONOTONIC, &st->started);
    st->next = c->streams;
    c->streams = st;
    nghttp2_session_set_stream_user_data(sess, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *sess, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *udata)
{
    (void) flags;
    h2_conn_t *c = udata;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    size_t limit = c->g->cfg.max_header_bytes ? c->g->cfg.max_header_bytes : 32768;
    int32_t voff = text_put(st, value, valuelen, limit);
    if (voff < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets this stream only */
    if (namelen > 0 && name[0] == ':') {
        int32_t *slot = namelen == 7 && memcmp(name, ":method", 7) == 0      ? &st->method
                        : namelen == 5 && memcmp(name, ":path", 5) == 0      ? &st->path
                        : namelen == 10 && memcmp(name, ":authority", 10) == 0 ? &st->authority
                        : namelen == 7 && memcmp(name, ":scheme", 7) == 0    ? &st->scheme
                                                                             : NULL;
        if (slot != NULL)
            *slot = voff;
        return 0;
    }
    int32_t noff = text_put(st, name, namelen, limit);
    if (noff < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (st->nhdrs == st->hdrs_cap) {
        size_t cap = st->hdrs_cap ? st->hdrs_cap * 2 : 16;
        hdr_t *h = realloc(st->hdrs, cap * sizeof(*h));
        if (h == NULL)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        st->hdrs = h;
        st->hdrs_cap = cap;
    }
    st->hdrs[st->nhdrs++] = (hdr_t){(uint32_t) noff, (uint32_t) namelen, (uint32_t) voff, (uint32_t) valuelen};
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Streamed request bodies (as server/http.c's): a request whose body is large or of unknown length goes to
 * the Worker at its HEADERS; DATA feeds request.body, and the flow-control window is given back only as the
 * Worker takes the bytes (the session does no automatic WINDOW_UPDATE), so a slow reader holds the client
 * at one window.
 */

#define REQ_STREAM_MIN (64 * 1024)

static void on_h2_demand(void *udata)
{
    h2_stream_t *st = udata;
    h2_conn_t *c = st->conn;
    if (c == NULL || st->unconsumed == 0)
        return;
    (void) nghttp2_session_consume(c->sess, st->id, st->unconsumed);
    st->unconsumed = 0;
    flush(c);
}

/* The body passed the limit while the Worker reads it: its reads fail; the client gets 413 if nothing was
 * answered yet (the Worker's answer is then dropped), else a reset. */
static void body_too_big(h2_stream_t *st)
{
    ew_req_body_fail(st->req_body);
    ew_req_body_destroy(st->req_body);
    st->req_body = NULL;
    h2_conn_t *c = st->conn;
    if (st->unconsumed > 0)
        (void) nghttp2_session_consume(c->sess, st->id, st->unconsumed);
    st->unconsumed = 0;
    if (st->in_worker && !st->answered) {
        st->drop_answer = true;
        submit_text(st, 413, "413 Payload Too Large: request body too large\n");
    } else {
        (void) nghttp2_submit_rst_stream(c->sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
    }
}

/* The response went out complete while the body still arrives: nobody reads the rest. The client is
 * asked to stop sending with RST_STREAM NO_ERROR (RFC 9113 8.1), and the window it used comes back. */
static int on_frame_sent(nghttp2_session *sess, const nghttp2_frame *frame, void *udata)
{
    (void) udata;
    if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
        !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (st == NULL || st->req_body == NULL)
        return 0;
    ew_req_body_destroy(st->req_body);
    st->req_body = NULL;
    if (st->unconsumed > 0)
        (void) nghttp2_session_consume_connection(sess, st->unconsumed);
    st->unconsumed = 0;
    (void) nghttp2_submit_rst_stream(sess, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    return 0;
}

/* At HEADERS without END_STREAM: stream the body when it is large or its length unknown. */
static bool wants_streaming(const h2_stream_t *st)
{
    for (size_t i = 0; i < st->nhdrs; i++) {
        if (strcmp(st->text + st->hdrs[i].name, "content-length") == 0)
            return strtoull(st->text + st->hdrs[i].value, NULL, 10) > REQ_STREAM_MIN;
    }
    return true;
}

static int on_data(nghttp2_session *sess, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *udata)
{
    (void) flags;
    h2_conn_t *c = udata;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(sess, id);
    if (st == NULL) /* the window comes back at once */
        (void) nghttp2_session_consume_connection(sess, len);
    else if (st->too_big || st->req_body == NULL)
        (void) nghttp2_session_consume(sess, id, len);
    if (st == NULL || st->too_big)
        return 0;
    uint64_t max = c->g->cfg.max_body_bytes ? c->g->cfg.max_body_bytes : (uint64_t) 100 << 20;
    if (st->body_len + len > max) {
        st->too_big = true;
        if (st->req_body != NULL)
            body_too_big(st);
        return 0;
    }
    if (st->req_body != NULL) { /* streamed: the window comes back when the Worker takes the bytes */
        st->body_len += len;
        st->unconsumed += len;
        if (ew_req_body_write(st->req_body, data, len) != EW_OK) {
            st->too_big = true;
            body_too_big(st);
        } else if (ew_req_body_buffered(st->req_body) == 0) { /* dropped: the Worker cancelled the body */
            (void) nghttp2_session_consume(sess, id, st->unconsumed);
            st->unconsumed = 0;
        }
        return 0;
    }
    if (st->body_len + len > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap * 2 : 4096;
        while (cap < st->body_len + len)
            cap *= 2;
        uint8_t *b = realloc(st->body, cap);
        if (b == NULL) {
            st->too_big = true;
            return 0;
        }
        st->body = b;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, len);
    st->body_len += len;
    return 0;
}

static int on_frame(nghttp2_session *sess, const nghttp2_frame *frame, void *udata)
{
    h2_conn_t *c = udata;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(sess, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (!end) {
        /* the request's head, with a body to come: the Worker may start now */
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST && !st->in_worker &&
            !st->answered && !c->g->draining && wants_streaming(st)) {
            st->req_body = ew_req_body_create(c->g->worker, on_h2_demand, st);
            if (st->req_body != NULL)
                dispatch(st);
            if (!st->in_worker) { /* not dispatched: the body is read whole after all */
                ew_req_body_destroy(st->req_body);
                st->req_body = NULL;
            }
        }
        return 0;
    }
    if (st->req_body != NULL) { /* the streamed body is complete */
        (void) ew_req_body_end(st->req_body);
        ew_req_body_destroy(st->req_body);
        st->req_body = NULL;
        return 0;
    }
    if (!st->in_worker && !st->answered)
        dispatch(st);
    return 0;
}

static int on_stream_close(nghttp2_session *sess, int32_t id, uint32_t error_code, void *udata)
{
    (void) error_code;
    (void) udata;
    h2_stream_t *st = nghttp2_session_get_stream_user_data(sess, id);
    if (st == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(sess, id, NULL);
    if (st->unconsumed > 0) /* bytes the Worker will not take: the connection's window comes back */
        (void) nghttp2_session_consume_connection(sess, st->unconsumed);
    st->unconsumed = 0;
    if (st->req_body != NULL) { /* reset before its body ended: the Worker's reads fail */
        ew_req_body_destroy(st->req_body);
        st->req_body = NULL;
    }
    stream_unlink(st);
    if (!stream_busy(st))
        stream_free(st); /* else a zombie: on_response or on_body_chunk frees it */
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * The connection
 */

/* Sends what nghttp2 has while the output is not backed up; closes when the session is over. */
static void flush(h2_conn_t *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (evbuffer_get_length(out) < HIGH_WATER) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->sess, &data);
        if (n < 0) {
            conn_close(c);
            return;
        }
        if (n == 0)
            break;
        evbuffer_add(out, data, (size_t) n);
    }
    if (!nghttp2_session_want_read(c->sess) && !nghttp2_session_want_write(c->sess) &&
        evbuffer_get_length(out) == 0)
        conn_close(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    h2_conn_t *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return;
    const uint8_t *data = evbuffer_pullup(in, -1);
    ssize_t used = nghttp2_session_mem_recv(c->sess, data, len);
    if (used < 0) { /* a connection error: nghttp2 has queued GOAWAY where it could */
        nghttp2_session_terminate_session(c->sess, NGHTTP2_PROTOCOL_ERROR);
        evbuffer_drain(in, len);
        flush(c);
        return;
    }
    evbuffer_drain(in, (size_t) used);
    flush(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void) bev;
    flush(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    h2_conn_t *c = arg;
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && c->streams != NULL) {
        bufferevent_enable(bev, EV_READ); /* idle only counts when no stream is open */
        return;
    }
    conn_close(c);
}

static void conn_close(h2_conn_t *c)
{
    srv_h2_group_t *g = c->g;
    for (h2_conn_t **pp = &g->conns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    g->count--;
    nghttp2_session_del(c->sess);
    while (c->streams != NULL) {
        h2_stream_t *st = c->streams;
        stream_unlink(st);
        if (!stream_busy(st))
            stream_free(st);
    }
    bufferevent_free(c->bev);
    free(c);
    if (g->draining && g->count == 0 && g->on_empty != NULL)
        g->on_empty(g->empty_arg);
}

static nghttp2_session_callbacks *make_callbacks(void)
{
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_sent);
    return cbs;
}

static void start(srv_h2_group_t *g, struct bufferevent *bev, const char *peer, int tcp_fd,
                  const srv_tls_info_t *tls)
{
    h2_conn_t *c = calloc(1, sizeof(*c));
    nghttp2_session_callbacks *cbs = c ? make_callbacks() : NULL;
    nghttp2_option *opt = NULL;
    if (cbs != NULL && nghttp2_option_new(&opt) == 0)
        nghttp2_option_set_no_auto_window_update(opt, 1); /* the window follows what Workers take */
    if (cbs == NULL || opt == NULL || nghttp2_session_server_new2(&c->sess, cbs, c, opt) != 0) {
        if (cbs != NULL)
            nghttp2_session_callbacks_del(cbs);
        nghttp2_option_del(opt);
        free(c);
        bufferevent_free(bev);
        return;
    }
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    c->g = g;
    c->bev = bev;
    c->tls = tls != NULL;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    srv_cf_conn_init(&c->cf, g->cfg.cf, c->peer, tcp_fd, "HTTP/2", tls ? tls->version : "", tls ? tls->cipher : "");
    c->next = g->conns;
    g->conns = c;
    g->count++;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, g->cfg.max_streams ? g->cfg.max_streams : 100},
    };
    nghttp2_submit_settings(c->sess, NGHTTP2_FLAG_NONE, iv, 1);
    uint32_t idle = g->cfg.idle_timeout_ms ? g->cfg.idle_timeout_ms : 60000;
    uint32_t wr = g->cfg.write_timeout_ms ? g->cfg.write_timeout_ms : 30000;
    struct timeval tv_idle = {(time_t) (idle / 1000), (suseconds_t) ((idle % 1000) * 1000)};
    struct timeval tv_wr = {(time_t) (wr / 1000), (suseconds_t) ((wr % 1000) * 1000)};
    bufferevent_set_timeouts(bev, &tv_idle, &tv_wr);
    bufferevent_setwatermark(bev, EV_READ, 0, 0);
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (g->draining)
        nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
    on_read(bev, c); /* the preface may already be in the input (h2c) */
}

void srv_h2_adopt(srv_h2_group_t *g, int fd, const struct sockaddr *addr, const srv_tls_info_t *tls)
{
    struct bufferevent *bev = bufferevent_socket_new(g->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    char peer[64] = "";
    if (addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *) addr)->sin_addr, peer, sizeof(peer));
    else if (addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) addr)->sin6_addr, peer, sizeof(peer));
    start(g, bev, peer, tls ? tls->tcp_fd : fd, tls);
}

void srv_h2_adopt_bev(srv_h2_group_t *g, struct bufferevent *bev, const char *peer, int tcp_fd)
{
    start(g, bev, peer, tcp_fd, NULL);
}

/* ---------------------------------------------------------------------------------------------------------
 * The group
 */

srv_h2_group_t *srv_h2_group_new(struct event_base *base, ew_worker_t *worker, const srv_h2_config_t *cfg,
                                 void (*on_empty)(void *arg), void *arg)
{
    srv_h2_group_t *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->base = base;
    g->worker = worker;
    g->cfg = *cfg;
    g->on_empty = on_empty;
    g->empty_arg = arg;
    return g;
}

void srv_h2_set_worker(srv_h2_group_t *g, ew_worker_t *worker)
{
    g->worker = worker;
}

uint32_t srv_h2_count(const srv_h2_group_t *g)
{
    return g->count;
}

void srv_h2_drain(srv_h2_group_t *g)
{
    g->draining = true;
    h2_conn_t *next;
    for (h2_conn_t *c = g->conns; c != NULL; c = next) {
        next = c->next;
        nghttp2_submit_goaway(c->sess, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->sess),
                              NGHTTP2_NO_ERROR, NULL, 0);
        flush(c); /* may close c */
    }
    if (g->count == 0 && g->on_empty != NULL)
        g->on_empty(g->empty_arg);
}

void srv_h2_group_free(srv_h2_group_t *g)
{
    if (g == NULL)
        return;
    g->on_empty = NULL;
    while (g->conns != NULL)
        conn_close(g->conns);
    free(g);
}
