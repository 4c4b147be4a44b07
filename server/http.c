/*
 * http.c — ew-server's HTTP/1.1 connections on libevent.
 *
 * One conn per TCP connection, one request in service at a time (pipelined requests wait in the input
 * buffer and are parsed once the previous response is written, so responses keep their order):
 *
 *   READ_HEAD ──head──> READ_BODY ──done──> IN_WORKER ──response──> WRITING ──drained──> READ_HEAD (keep-alive)
 *        │                                            └─stream body─> STREAMING ─end─┘                or close
 *        └──────────── error: 4xx/5xx with Connection: close, then CLOSING ───────────────┘
 *
 * A response whose body is a ReadableStream (ew_worker_fetch_stream gives it with resp->body_stream) goes
 * out with chunked transfer encoding as the Worker produces it, pulled one chunk at a time while the
 * socket's output buffer is below STREAM_HIGH. A body of known length goes as it is (Content-Length); when
 * it is a fetch() body the Worker passed on untouched, it moves from the origin's socket to the client's by
 * splice(2) (ew_body_splice) once the output buffer is empty, one step of up to SPLICE_STEP at a time.
 *
 * The parser (lib/net/http1.c) works on the pulled-up input buffer; the head's slices are copied into the
 * conn's own buffer before the bytes are drained. A client that vanishes while its request is in the Worker
 * leaves the conn as a zombie until the Worker's callback arrives (the callback owns the last reference).
 * Timeouts: idle keep-alive, a deadline for the whole request to arrive (slowloris), and write progress.
 * The conn reads its socket itself ("Reading the socket" below); the bufferevent does the writing.
 *
 * A request body that is large (over REQ_STREAM_MIN), chunked, or awaited with Expect: 100-continue, and
 * not all there yet, streams into the Worker (ew_worker_fetch_body): the Worker starts at the head and
 * request.body is fed as the bytes arrive ("Streamed request bodies" below).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "cf.h"
#include "h2.h"
#include "http.h"
#include "log.h"
#include "net/http1.h"
#include "tls.h"
#include "ws.h"

typedef enum conn_state { READ_HEAD, READ_BODY, IN_WORKER, STREAMING, WRITING, CLOSING, LINGER } conn_state_t;

/* A streamed body is read from the Worker while less than this is waiting to go out to the socket, and
 * resumes when the socket has taken all but STREAM_LOW of it: the Worker's writer waits meanwhile
 * (back-pressure), so memory per streaming connection stays around these figures. */
#define STREAM_HIGH (256 * 1024)
#define STREAM_LOW (64 * 1024)
/* Chunks are handed to the kernel as soon as this much is waiting (no loop turn in between), and after
 * STREAM_BURST chunks in a row the next read waits for a loop turn, so that a fast producer cannot keep
 * the loop from polling the other connections. */
#define STREAM_FLUSH (32 * 1024)
#define STREAM_BURST 16
/* The most one write to the socket may take (libevent's default is 16 KiB). */
#define SOCK_MAX_WRITE (1024 * 1024)
/* Bytes one ew_body_splice step may move before the loop gets a turn (STREAM_BURST steps in a row). */
#define SPLICE_STEP (1024 * 1024)
/* A request body larger than this (or chunked, or behind Expect: 100-continue) that has not fully arrived
 * with its head streams into the Worker; the socket is read on while less than REQ_BODY_HIGH is waiting for
 * the Worker's stream (beyond that the input buffer fills to its watermark and TCP holds the client). */
#define REQ_STREAM_MIN (64 * 1024)
#define REQ_BODY_HIGH (256 * 1024)
/* At most this much is read from the socket per readiness event (libevent's bufferevents read 16 KiB). */
#define READ_CHUNK 16384

typedef struct conn conn_t;

struct srv_http {
    struct event_base *base;
    ew_worker_t *worker;
    srv_http_config_t cfg;
    struct evconnlistener *listener;
    int port;
    char host_default[64];       /* "ip:port" for requests without Host (HTTP/1.0) */
    conn_t *conns;               /* all live conns, zombies included (list) */
    srv_ws_group_t *ws;          /* connections upgraded to WebSocket (ws.c) */
    srv_tls_t *tls;              /* --tls-cert/--tls-key: handshakes and relays (tls.c); NULL = plain */
    srv_h2_group_t *h2;          /* HTTP/2 connections (h2.c) */
    uint32_t nconns;             /* live conns that still have a socket */
    bool draining;
    void (*on_drained)(void *arg);
    void *drained_arg;
};

/* Where one header of the request being assembled sits in conn->head. */
typedef struct hdr_off {
    uint32_t name, name_len, value, value_len;
} hdr_off_t;

struct conn {
    srv_http_t *srv;
    struct bufferevent *bev;     /* NULL once the socket is closed (zombie waiting for the Worker) */
    struct event *rd;            /* owned: the socket's read event (persistent, idle timeout); NULL once handed over */
    struct timeval rd_timeout;   /* the read event's timeout: idle keep-alive, or the lingering close's */
    size_t rd_high;              /* reading stops while the input buffer holds this much (back-pressure) */
    struct evbuffer_cb_entry *rd_cb; /* while stopped by rd_high: resumes reading once the input drains */
    bool rd_want;                /* reading is on (off after an error page, at EOF) */
    bool rd_added;               /* the read event is pending */
    struct event *deadline;      /* request-arrival deadline (owned); left armed between requests */
    bool deadline_armed;         /* the deadline event is pending */
    uint64_t head_since_ms;      /* monotonic ms when the request being read began; 0 = none */
    struct evbuffer *outq;       /* response being composed, written to the socket directly (owned) */
    ew__h1_parser_t parser;
    conn_state_t state;
    char peer[INET6_ADDRSTRLEN];
    srv_cf_conn_t cf;            /* request.cf and the edge's headers (cf.c) */
    bool tls;                    /* the socket is the application end of a TLS relay (tls.c) */
    bool fresh;                  /* nothing read yet: the bytes may be an HTTP/2 preface (h2c) */

    /* The request being assembled: method, URL and header bytes copied out of the input buffer. */
    char *head;                  /* owned: method \0 url \0 then header names and values */
    size_t head_len, head_cap;
    uint32_t url_off;
    hdr_off_t *hdrs;             /* owned */
    ew_header_t *call_hdrs;      /* owned: the ew_header_t array of the request being dispatched */
    size_t call_cap;
    size_t nreq_hdrs;            /* of call_hdrs, the client's (the edge's follow) */
    size_t nhdrs;
    uint8_t *body;               /* owned */
    size_t body_len, body_cap;
    bool keep_alive;
    bool is_head;
    bool http10;                 /* the request was HTTP/1.0: a streamed body is delimited by closing */
    ew_response_t *stream_resp;  /* owned while STREAMING: the response whose body_stream is being sent */
    bool body_reading;           /* an ew_body_read or ew_body_splice is pending */
    bool splicing;               /* that is an ew_body_splice (the library may write to the socket) */
    bool splice_try;             /* the streamed body may go by ew_body_splice (plain TCP, sent as is) */
    struct event *splice_ev;     /* waits for the socket after EW_SPLICE_FULL (owned, made on first use) */
    bool stream_raw;             /* the streamed body goes out as is (Content-Length or HTTP/1.0), not chunked */
    int burst;                   /* chunks read since the loop last polled */
    ew_req_body_t *req_body;     /* owned: the request body streaming into the Worker; NULL when none */
    bool req_body_paused;        /* enough of it waits for the Worker: parsing stops until on_demand */
    bool expect_pending;         /* Expect: 100-continue, answered when the Worker first wants the body */
    bool worker_pending;         /* the Worker still has a request whose answer is dropped (413 sent) */
    struct event *pump_ev;       /* resumes a burst after a loop turn (owned, made on first use) */
    struct timespec started;
    conn_t *next;
};

static void conn_read_loop(conn_t *c);
static void conn_close(conn_t *c);
static void rd_sync(conn_t *c);
static void rd_detach(conn_t *c);
static void srv_peer_name(const struct sockaddr *addr, char *out, size_t outlen);
static void conn_free(conn_t *c);
static void maybe_drained(srv_http_t *s);

/* ---------------------------------------------------------------------------------------------------------
 * Small helpers
 */

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - t0->tv_sec) * 1e3 + (double) (now.tv_nsec - t0->tv_nsec) / 1e6;
}

static struct timeval tv_ms(uint32_t ms)
{
    struct timeval tv = {(time_t) (ms / 1000), (suseconds_t) ((ms % 1000) * 1000)};
    return tv;
}

/* Appends bytes to the head store; returns the offset or UINT32_MAX on OOM. */
static uint32_t head_put(conn_t *c, const char *p, size_t n)
{
    if (c->head_len + n + 1 > c->head_cap) {
        size_t cap = c->head_cap ? c->head_cap : 1024;
        while (cap < c->head_len + n + 1)
            cap *= 2;
        char *h = realloc(c->head, cap);
        if (h == NULL)
            return UINT32_MAX;
        c->head = h;
        c->head_cap = cap;
    }
    uint32_t off = (uint32_t) c->head_len;
    memcpy(c->head + off, p, n);
    c->head[off + n] = '\0';
    c->head_len += n + 1;
    return off;
}

static bool body_put(conn_t *c, const char *p, size_t n)
{
    if (c->body_len + n > c->body_cap) {
        size_t cap = c->body_cap ? c->body_cap : 4096;
        while (cap < c->body_len + n)
            cap *= 2;
        uint8_t *b = realloc(c->body, cap);
        if (b == NULL)
            return false;
        c->body = b;
        c->body_cap = cap;
    }
    memcpy(c->body + c->body_len, p, n);
    c->body_len += n;
    return true;
}

static void request_reset(conn_t *c)
{
    c->head_len = 0;
    c->nhdrs = 0;
    c->body_len = 0;
    c->url_off = 0;
    c->is_head = false;
    c->keep_alive = false;
}

/* ---------------------------------------------------------------------------------------------------------
 * Writing
 */

/* Decimal digits of v into buf (not NUL-terminated); returns their count. buf has room for 20. */
static size_t format_uint(char *buf, unsigned long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v > 0);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static void log_request(conn_t *c, int status, const char *reason)
{
    if (!c->srv->cfg.log_requests || c->head_len == 0)
        return;
    const char *url = c->head + c->url_off;
    const char *path = strstr(url, "://");
    path = path ? strchr(path + 3, '/') : url;
    if (path == NULL)
        path = "/";
    if (srv_log_json()) {
        srv_log_request_json(c->head, path, status, ms_since(&c->started), "HTTP/1.1");
        return;
    }
    /* "GET /path 200 OK (3ms)". Assembled by hand and written with one fwrite: printf's formatting was a
     * measurable part of a hello-world request. stdout is block-buffered and flushed by serve.c's timer. */
    char line[512], num[24];
    size_t n = 0;
    const char *parts[] = {c->head, " ", path, " ", NULL, " ", reason, " (", NULL, "ms)\n"};
    num[format_uint(num, (unsigned long) (status > 0 ? status : 0))] = '\0';
    char msbuf[24];
    msbuf[format_uint(msbuf, (unsigned long) (ms_since(&c->started) + 0.5))] = '\0';
    parts[4] = num;
    parts[8] = msbuf;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t len = strlen(parts[i]);
        if (n + len >= sizeof(line))
            len = sizeof(line) - 1 - n; /* a very long path is cut in the log line only */
        memcpy(line + n, parts[i], len);
        n += len;
    }
    if (n > 0 && line[n - 1] != '\n')
        line[n - 1] = '\n';
    fwrite(line, 1, n, stdout);
}

/* Hop-by-hop and framing headers are the server's business, not the Worker's. */
static bool skip_response_header(const char *name)
{
    return strcmp(name, "connection") == 0 || strcmp(name, "transfer-encoding") == 0 ||
           strcmp(name, "keep-alive") == 0 || strcmp(name, "content-length") == 0 ||
           strcmp(name, "upgrade") == 0;
}

static void free_response_body(const void *data, size_t len, void *arg)
{
    (void) data;
    (void) len;
    ew_response_destroy(arg);
}

/* Queues the response; takes ownership of resp. */
static void response_sent(conn_t *c);

static void write_error(conn_t *c, int status, const char *why);
static void stream_start(conn_t *c, ew_response_t *resp);

/* A response head is built in a local buffer and handed to the evbuffer in one piece (one evbuffer_add per
 * part was ~1 us of a hello-world request); what does not fit goes in more pieces. */
typedef struct headbuf {
    char buf[1024];
    size_t n;
    struct evbuffer *out;
} headbuf_t;

static void hb_flush(headbuf_t *h)
{
    if (h->n > 0)
        evbuffer_add(h->out, h->buf, h->n);
    h->n = 0;
}

static void hb_add(headbuf_t *h, const void *p, size_t len)
{
    if (h->n + len > sizeof(h->buf)) {
        hb_flush(h);
        if (len > sizeof(h->buf)) {
            evbuffer_add(h->out, p, len);
            return;
        }
    }
    memcpy(h->buf + h->n, p, len);
    h->n += len;
}

static void req_body_before_head(conn_t *c, const ew_response_t *resp);

static void write_response(conn_t *c, ew_response_t *resp)
{
    req_body_before_head(c, resp);
    if (c->outq == NULL && (c->outq = evbuffer_new()) == NULL) {
        ew_response_destroy(resp);
        write_error(c, 503, "out of memory");
        return;
    }
    struct evbuffer *out = c->outq;
    headbuf_t hb = {.n = 0, .out = out};
    const char *reason = resp->status_text && resp->status_text[0] ? resp->status_text
                                                                   : ew__h1_reason_phrase(resp->status);
    /* Formatted by hand: printf-style formatting was a measurable part of a hello-world request. */
    char num[24];
    size_t nlen = format_uint(num, (unsigned long) resp->status);
    hb_add(&hb, "HTTP/1.1 ", 9);
    hb_add(&hb, num, nlen);
    hb_add(&hb, " ", 1);
    hb_add(&hb, reason, strlen(reason));
    hb_add(&hb, "\r\n", 2);
    for (size_t i = 0; i < resp->nheaders; i++) {
        const ew_header_t *h = &resp->headers[i];
        if (skip_response_header(h->name))
            continue;
        hb_add(&hb, h->name, h->name_len);
        hb_add(&hb, ": ", 2);
        hb_add(&hb, h->value, h->value_len);
        hb_add(&hb, "\r\n", 2);
    }
    bool no_body = resp->status == 204 || resp->status == 304 || (resp->status >= 100 && resp->status < 200);
    if (resp->body_stream != NULL && !no_body && !c->is_head) {
        c->stream_raw = c->http10 || resp->stream_length >= 0;
        if (resp->stream_length >= 0) { /* a FixedLengthStream, or a fetch() body passed on: its length is known */
            nlen = format_uint(num, (unsigned long) resp->stream_length);
            hb_add(&hb, "content-length: ", 16);
            hb_add(&hb, num, nlen);
            hb_add(&hb, "\r\n", 2);
        } else if (c->http10) {
            c->keep_alive = false; /* the end of the body is the end of the connection */
        } else {
            hb_add(&hb, "transfer-encoding: chunked\r\n", 28);
        }
        if (!c->keep_alive)
            hb_add(&hb, "connection: close\r\n", 19);
        hb_add(&hb, "\r\n", 2);
        hb_flush(&hb);
        log_request(c, resp->status, reason);
        stream_start(c, resp);
        return;
    }
    if (!no_body) {
        nlen = format_uint(num, (unsigned long) resp->body_len);
        hb_add(&hb, "content-length: ", 16);
        hb_add(&hb, num, nlen);
        hb_add(&hb, "\r\n", 2);
    }
    if (!c->keep_alive)
        hb_add(&hb, "connection: close\r\n", 19);
    hb_add(&hb, "\r\n", 2);
    bool body = !no_body && !c->is_head && resp->body_len > 0;
    if (body && resp->body_len <= sizeof(hb.buf) - hb.n) { /* a small body goes out with the head */
        hb_add(&hb, resp->body, resp->body_len);
        body = false;
    }
    hb_flush(&hb);
    log_request(c, resp->status, reason); /* reason may point into resp */
    c->state = WRITING;
    if (body)
        evbuffer_add_reference(out, resp->body, resp->body_len, free_response_body, resp);
    else
        ew_response_destroy(resp);
    /* Try the socket at once: a response that fits the socket buffer then needs no EPOLLOUT registration
     * and no extra loop turn (two epoll_ctl calls fewer per request). What does not fit goes through the
     * bufferevent, whose write callback finishes the response. */
    struct evbuffer *bev_out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(bev_out) == 0)
        (void) evbuffer_write(out, bufferevent_getfd(c->bev));
    if (evbuffer_get_length(out) == 0) {
        response_sent(c);
        return;
    }
    bufferevent_write_buffer(c->bev, out);
}

/* ---------------------------------------------------------------------------------------------------------
 * Streamed bodies: chunked transfer encoding, pulled from the Worker while the socket keeps up
 */

static void on_body_chunk(void *udata, const void *data, size_t len, ew_status_t status);
static void on_spliced(void *udata, size_t moved, ew_splice_result_t result);
static void stream_end(conn_t *c);

/* Reads the next chunk unless one is pending or enough is waiting for the socket. A body the Worker passed
 * on untouched from a fetch() goes from the origin's socket to the client's with splice(2) instead (no
 * copy through this process), once nothing of ours waits for the socket. */
static void stream_pump(conn_t *c)
{
    if (c->body_reading || c->stream_resp == NULL || c->bev == NULL)
        return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->splice_try && evbuffer_get_length(out) == 0) {
        ew_status_t st = ew_body_splice(c->stream_resp->body_stream, bufferevent_getfd(c->bev), SPLICE_STEP,
                                        on_spliced, c);
        if (st == EW_OK) {
            c->body_reading = c->splicing = true;
            return;
        }
        c->splice_try = ew_body_splicable(c->stream_resp->body_stream); /* read first, or for good */
    }
    if (evbuffer_get_length(out) >= STREAM_HIGH)
        return; /* on_write calls again once the socket has taken most of it */
    c->body_reading = true;
    if (ew_body_read(c->stream_resp->body_stream, on_body_chunk, c) != EW_OK) {
        c->body_reading = false;
        c->keep_alive = false;
        conn_close(c);
    }
}

static void on_pump_ev(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    conn_t *c = arg;
    c->burst = 0;
    stream_pump(c);
}

/* After a chunk: hand what waits to the kernel once there is enough of it, then read on now, or after a
 * loop turn when this burst has been long. */
static void stream_next(conn_t *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) >= STREAM_FLUSH || c->splice_try) /* splicing waits for an empty buffer */
        (void) evbuffer_write(out, bufferevent_getfd(c->bev));
    if (++c->burst < STREAM_BURST) {
        stream_pump(c);
        return;
    }
    if (c->pump_ev == NULL && (c->pump_ev = evtimer_new(c->srv->base, on_pump_ev, c)) == NULL) {
        stream_pump(c);
        return;
    }
    struct timeval now = {0, 0};
    evtimer_add(c->pump_ev, &now); /* timers run after the loop has polled */
}

/* The client's socket can take more after EW_SPLICE_FULL, or it took nothing for the write timeout. */
static void on_splice_ev(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    conn_t *c = arg;
    if (what & EV_TIMEOUT) {
        c->keep_alive = false;
        conn_close(c);
        return;
    }
    stream_pump(c);
}

/* A splice step ended: the bytes are in the client's socket. */
static void on_spliced(void *udata, size_t moved, ew_splice_result_t result)
{
    (void) moved;
    conn_t *c = udata;
    c->body_reading = c->splicing = false;
    if (result == EW_SPLICE_END || result == EW_SPLICE_FAILED) {
        /* A failure after the head: end the connection without the rest (the client sees a short body). */
        if (result == EW_SPLICE_FAILED)
            c->keep_alive = false;
        stream_end(c);
        return;
    }
    if (result == EW_SPLICE_FULL) {
        if (c->splice_ev == NULL &&
            (c->splice_ev = event_new(c->srv->base, bufferevent_getfd(c->bev), EV_WRITE, on_splice_ev, c)) == NULL) {
            c->keep_alive = false;
            conn_close(c);
            return;
        }
        struct timeval wr = tv_ms(c->srv->cfg.write_timeout_ms);
        event_add(c->splice_ev, c->srv->cfg.write_timeout_ms ? &wr : NULL);
        return;
    }
    stream_next(c); /* the next step now, or after a loop turn when this burst has been long */
}

static void stream_start(conn_t *c, ew_response_t *resp)
{
    c->state = STREAMING;
    c->stream_resp = resp;
    c->splice_try = c->stream_raw && !c->tls && ew_body_splicable(resp->body_stream);
    bufferevent_write_buffer(c->bev, c->outq);
    bufferevent_setwatermark(c->bev, EV_WRITE, STREAM_LOW, 0);
    stream_pump(c);
}

static void stream_end(conn_t *c)
{
    ew_response_destroy(c->stream_resp);
    c->stream_resp = NULL;
    c->burst = 0;
    c->splice_try = false;
    if (c->splice_ev != NULL)
        event_del(c->splice_ev);
    if (c->pump_ev != NULL)
        evtimer_del(c->pump_ev);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    c->state = WRITING;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        response_sent(c);
}

static void on_body_chunk(void *udata, const void *data, size_t len, ew_status_t status)
{
    conn_t *c = udata;
    c->body_reading = false;
    if (c->bev == NULL) { /* the client left: conn_close kept the conn for this callback */
        srv_http_t *s = c->srv;
        conn_free(c);
        maybe_drained(s);
        return;
    }
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (status != EW_OK) {
        /* Headers are out: the only way to tell the client is to end the connection without the final
         * chunk (after what was already produced), so that it sees a truncated body, not a complete one. */
        c->keep_alive = false;
        stream_end(c);
        return;
    }
    if (data == NULL) {
        if (!c->stream_raw)
            evbuffer_add(out, "0\r\n\r\n", 5);
        stream_end(c);
        return;
    }
    if (!c->stream_raw) {
        char head[24];
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;
        char tmp[20];
        size_t v = len;
        do {
            tmp[n++] = hex[v & 15];
            v >>= 4;
        } while (v > 0);
        for (size_t i = 0; i < n; i++)
            head[i] = tmp[n - 1 - i];
        head[n++] = '\r';
        head[n++] = '\n';
        evbuffer_add(out, head, n);
        evbuffer_add(out, data, len);
        evbuffer_add(out, "\r\n", 2);
    } else {
        evbuffer_add(out, data, len);
    }
    stream_next(c);
}

/* Answers a protocol error with a short text body and closes after writing. */
static void write_error(conn_t *c, int status, const char *why)
{
    if (c->bev == NULL)
        return;
    char body[256];
    int n = snprintf(body, sizeof(body), "%d %s: %s\n", status, ew__h1_reason_phrase(status), why);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: %d\r\n"
                        "connection: close\r\n\r\n%s",
                        status, ew__h1_reason_phrase(status), n, body);
    if (c->head_len > 0)
        log_request(c, status, ew__h1_reason_phrase(status));
    c->keep_alive = false;
    c->state = CLOSING;
    c->rd_want = false;
    rd_sync(c);
}

/* ---------------------------------------------------------------------------------------------------------
 * The Worker
 */

static void conn_free(conn_t *c)
{
    srv_http_t *s = c->srv;
    for (conn_t **pp = &s->conns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    ew__h1_parser_dispose(&c->parser);
    ew_req_body_destroy(c->req_body); /* fails it for the Worker if it had not ended */
    ew_response_destroy(c->stream_resp); /* cancels the Worker's stream if it had not ended */
    if (c->pump_ev != NULL)
        event_free(c->pump_ev);
    if (c->splice_ev != NULL)
        event_free(c->splice_ev);
    if (c->outq != NULL)
        evbuffer_free(c->outq);
    if (c->deadline != NULL)
        event_free(c->deadline);
    if (c->rd != NULL)
        event_free(c->rd);
    free(c->head);
    free(c->hdrs);
    free(c->call_hdrs);
    free(c->body);
    free(c);
}

static void maybe_drained(srv_http_t *s)
{
    if (s->draining && s->conns == NULL && srv_ws_group_count(s->ws) == 0 && srv_h2_count(s->h2) == 0 &&
        (s->tls == NULL || srv_tls_count(s->tls) == 0) && s->on_drained != NULL) {
        void (*cb)(void *) = s->on_drained;
        s->on_drained = NULL;
        cb(s->drained_arg);
    }
}

/* The Worker answered with a 101 and a WebSocket: check the request's handshake and hand the socket to
 * ws.c, or answer with an error (the Worker's end then sees an abnormal closure). */
static void upgrade(conn_t *c, ew_response_t *resp)
{
    srv_http_t *s = c->srv;
    ew_header_t *hdrs = c->call_hdrs; /* still the request's headers (dispatch) */
    char accept[29];
    const char *why;
    bool not_upgrade;
    int status = srv_ws_check_request(c->head, hdrs, c->nreq_hdrs, accept, &why, &not_upgrade);
    if (status != 0) {
        ew_response_destroy(resp);
        if (not_upgrade)
            write_error(c, 500, "Worker tried to return a WebSocket in a response to a request which did not "
                                "contain the header \"Upgrade: websocket\".");
        else
            write_error(c, status, why);
        bufferevent_enable(c->bev, EV_WRITE);
        return;
    }
    log_request(c, 101, "Switching Protocols");
    rd_detach(c); /* ws.c reads through the bufferevent */
    struct bufferevent *bev = c->bev;
    c->bev = NULL;
    s->nconns--;
    conn_free(c);
    (void) srv_ws_start(s->ws, bev, resp, accept);
    maybe_drained(s);
}

static void on_worker_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) err;
    conn_t *c = udata;
    bool dropped = c->worker_pending; /* the body broke a limit and the client got 413 instead */
    c->worker_pending = false;
    if (c->bev == NULL) { /* the client left meanwhile */
        ew_response_destroy(resp);
        srv_http_t *s = c->srv;
        conn_free(c);
        maybe_drained(s);
        return;
    }
    if (dropped) {
        ew_response_destroy(resp);
        return;
    }
    if (c->srv->draining)
        c->keep_alive = false;
    if (resp->websocket != NULL) {
        upgrade(c, resp);
        return;
    }
    write_response(c, resp);
}

/* ---------------------------------------------------------------------------------------------------------
 * GET /__scheduled?cron=…&time=… (--test-scheduled): fires the Worker's scheduled handler, as `wrangler dev
 * --test-scheduled` does, and answers 200 "Ran scheduled event" (wrangler's text) or 500 with the reason.
 */

/* The query string when the request's path is exactly /__scheduled, else NULL. */
static const char *scheduled_query(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (p == NULL || strncmp(p, "/__scheduled", 12) != 0 || (p[12] != '\0' && p[12] != '?' && p[12] != '#'))
        return NULL;
    return p[12] == '?' ? p + 13 : "";
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Copies parameter `name` of an application/x-www-form-urlencoded query into out, decoded as
 * URLSearchParams decodes it ('+' is a space, %XX a byte). "" when absent; false when it does not fit. */
static bool query_param(const char *q, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *p = q; p != NULL && *p != '\0' && *p != '#'; p = strchr(p, '&'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, nl) != 0 || p[nl] != '=')
            continue;
        size_t o = 0;
        for (p += nl + 1; *p != '\0' && *p != '&' && *p != '#'; p++) {
            char ch = *p == '+' ? ' ' : *p;
            if (*p == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
                ch = (char) (hex_digit(p[1]) * 16 + hex_digit(p[2]));
                p += 2;
            }
            if (o + 1 >= outlen)
                return false;
            out[o++] = ch;
        }
        out[o] = '\0';
        return true; /* the first one, as URLSearchParams.get() */
    }
    return true;
}

/* Queues a short text/plain response (keep-alive preserved). */
static void write_text(conn_t *c, int status, const char *text)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t n = strlen(text);
    evbuffer_add_printf(out,
                        "HTTP/1.1 %d %s\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: %zu\r\n%s\r\n",
                        status, ew__h1_reason_phrase(status), n, c->keep_alive ? "" : "connection: close\r\n");
    if (!c->is_head)
        evbuffer_add(out, text, n);
    log_request(c, status, ew__h1_reason_phrase(status));
    c->state = WRITING;
}

static void on_scheduled_done(void *udata, ew_status_t outcome, const ew_error_t *err)
{
    conn_t *c = udata;
    if (c->bev == NULL) { /* the client left meanwhile */
        srv_http_t *s = c->srv;
        conn_free(c);
        maybe_drained(s);
        return;
    }
    if (c->srv->draining)
        c->keep_alive = false;
    char msg[1200];
    if (outcome != EW_OK)
        snprintf(msg, sizeof(msg), "Scheduled event failed (%s): %s\n", ew_status_name(outcome),
                 err && err->message[0] ? err->message : "no details");
    write_text(c, outcome == EW_OK ? 200 : 500, outcome == EW_OK ? "Ran scheduled event" : msg);
}

/* The Worker of the request in c->head: the one its URL routes to, else the listener's. */
static ew_worker_t *worker_of(conn_t *c)
{
    ew_worker_t *w = c->srv->cfg.route != NULL ? c->srv->cfg.route(c->srv->cfg.route_arg, c->head + c->url_off)
                                               : NULL;
    return w != NULL ? w : c->srv->worker;
}

static bool dispatch_scheduled(conn_t *c)
{
    const char *q = c->srv->cfg.test_scheduled ? scheduled_query(c->head + c->url_off) : NULL;
    if (q == NULL)
        return false;
    char cron[512], time_text[32];
    if (!query_param(q, "cron", cron, sizeof(cron)) || !query_param(q, "time", time_text, sizeof(time_text))) {
        write_error(c, 400, "cron or time parameter too long");
        return true;
    }
    double when = time_text[0] ? strtod(time_text, NULL) : 0; /* ms since the epoch; 0 = now */
    c->state = IN_WORKER;
    ew_status_t st = ew_worker_scheduled(worker_of(c), cron, when, on_scheduled_done, c);
    if (st != EW_OK)
        write_error(c, 503, ew_status_name(st));
    return true;
}

/* GET /__metrics when --metrics is on; false when the request is not for it. */
static bool dispatch_metrics(conn_t *c)
{
    if (c->srv->cfg.metrics == NULL || strcmp(c->head, "GET") != 0)
        return false;
    const char *url = c->head + c->url_off, *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (p == NULL || strncmp(p, "/__metrics", 10) != 0 || (p[10] != '\0' && p[10] != '?'))
        return false;
    char text[4096];
    size_t n = c->srv->cfg.metrics(c->srv->cfg.metrics_arg, text, sizeof(text));
    text[n] = '\0';
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n"
                             "content-length: %zu\r\n%s\r\n%s", n, c->keep_alive ? "" : "connection: close\r\n", text);
    log_request(c, 200, "OK");
    c->state = WRITING;
    return true;
}

static void req_body_drop(conn_t *c);
static void req_body_read(conn_t *c);

static void dispatch(conn_t *c)
{
    c->head_since_ms = 0; /* the deadline stays armed: on_deadline re-arms or ignores it (no del + add per request) */
    if (dispatch_scheduled(c) || dispatch_metrics(c)) {
        req_body_drop(c); /* nobody reads it: the connection ends after the answer */
        return;
    }
    size_t cap = c->nhdrs + SRV_CF_MAX_HEADERS;
    if (cap > c->call_cap) { /* the array handed to the Worker, reused across requests */
        ew_header_t *grown = realloc(c->call_hdrs, cap * sizeof(*grown));
        if (grown == NULL) {
            write_error(c, 503, "out of memory");
            return;
        }
        c->call_hdrs = grown;
        c->call_cap = cap;
    }
    /* The client's headers, less those Cloudflare's edge owns, then the edge's own (cf.c). */
    ew_header_t *hdrs = c->call_hdrs;
    size_t n = 0;
    srv_cf_begin(&c->cf);
    for (size_t i = 0; i < c->nhdrs; i++) {
        const char *name = c->head + c->hdrs[i].name, *value = c->head + c->hdrs[i].value;
        if (srv_cf_take_header(&c->cf, name, c->hdrs[i].name_len, value, c->hdrs[i].value_len))
            continue;
        hdrs[n].name = name;
        hdrs[n].name_len = c->hdrs[i].name_len;
        hdrs[n].value = value;
        hdrs[n].value_len = c->hdrs[i].value_len;
        n++;
    }
    c->nreq_hdrs = n;
    n += srv_cf_add_headers(&c->cf, hdrs + n, c->tls);
    size_t cf_len;
    const char *cf = srv_cf_json(&c->cf, &cf_len);
    ew_request_t req = {
        .method = c->head,
        .url = c->head + c->url_off,
        .headers = hdrs,
        .nheaders = n,
        .body = c->body_len ? c->body : NULL,
        .body_len = c->body_len,
    };
    /* Reading stays enabled (no epoll change per request): pipelined bytes wait in the input buffer,
     * bounded by its high watermark, and are parsed once the response is written. */
    c->state = IN_WORKER;
    ew_fetch_options_t opts = {.cf_json = cf, .cf_json_len = cf_len, .stream_body = 1};
    ew_status_t st = ew_worker_fetch_body(worker_of(c), &req, &opts, c->req_body, on_worker_response, c);
    if (st != EW_OK) {
        req_body_drop(c);
        write_error(c, st == EW_ERR_INVALID_ARG ? 400 : 503, ew_status_name(st));
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Streamed request bodies: the Worker runs while its request body arrives
 *
 *   head ──> dispatch with an ew_req_body_t ──> IN_WORKER / STREAMING / WRITING, while on the side:
 *   socket ──parse──> ew_req_body_write ──(REQ_BODY_HIGH waiting: stop parsing)──> on_demand ──> parse on
 *                      DONE: ew_req_body_end          error (413, bad chunk): fail + 413 if nothing was sent
 *
 * Stopping the parse is the back-pressure: the input buffer fills to its read watermark, libevent stops
 * reading the socket, and TCP holds the client. Expect: 100-continue is answered when the Worker first
 * asks for the body, so a Worker that answers without reading it saves the client the upload.
 */

static bool req_body_should_stream(const conn_t *c, size_t buffered)
{
    const ew__h1_message_t *m = &c->parser.msg;
    if (c->srv->draining)
        return false;
    if (m->framing == EW__H1_BODY_CHUNKED)
        return true;
    return m->framing == EW__H1_BODY_LENGTH && m->content_length > buffered &&
           (m->content_length > REQ_STREAM_MIN || m->expect_continue);
}

/* Lets go of the streamed body (nobody will read the rest): the connection cannot carry another request. */
static void req_body_drop(conn_t *c)
{
    if (c->req_body == NULL)
        return;
    ew_req_body_destroy(c->req_body);
    c->req_body = NULL;
    c->req_body_paused = false;
    c->expect_pending = false;
    c->keep_alive = false;
}

/* A streamed response head is about to go out while the request body still streams in and the client
 * waits for 100 Continue: it comes first, since the Worker may read the body while it sends its response
 * (an echo), and a client that got a final status without 100 Continue gives up its upload. A complete
 * response means the Worker is done: the client is spared the upload. */
static void req_body_before_head(conn_t *c, const ew_response_t *resp)
{
    if (c->expect_pending && c->req_body != NULL && c->bev != NULL && resp->body_stream != NULL) {
        c->expect_pending = false;
        bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
}

static void on_req_body_demand(void *udata)
{
    conn_t *c = udata;
    if (c->req_body == NULL || c->bev == NULL)
        return;
    if (c->expect_pending) {
        c->expect_pending = false;
        bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    c->req_body_paused = false;
    req_body_read(c);
}

/* The body broke a limit or the framing: the Worker's stream fails; the client gets the error page if no
 * response went out yet (the Worker's answer is then dropped), else the connection just ends. */
static void req_body_error(conn_t *c, int status, const char *why)
{
    ew_req_body_fail(c->req_body);
    req_body_drop(c);
    if (c->state == IN_WORKER) {
        c->worker_pending = true;
        write_error(c, status, why);
        bufferevent_enable(c->bev, EV_WRITE);
    } else {
        conn_close(c);
    }
}

/* Parses body bytes that arrived and hands them to the Worker's stream, until the body ends, the parser
 * needs more, or enough waits for the Worker. */
static void req_body_read(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (c->req_body != NULL && !c->req_body_paused) {
        size_t len = evbuffer_get_length(in);
        const char *buf = len ? (const char *) evbuffer_pullup(in, -1) : "";
        size_t used = 0;
        ew__h1_slice_t body;
        int ev = ew__h1_parse(&c->parser, buf, len, &used, &body);
        switch (ev) {
        case EW__H1_AGAIN:
            evbuffer_drain(in, used);
            return;
        case EW__H1_BODY:
            if (ew_req_body_write(c->req_body, body.ptr, body.len) != EW_OK) {
                evbuffer_drain(in, used);
                req_body_error(c, 503, "out of memory");
                return;
            }
            evbuffer_drain(in, used);
            if (ew_req_body_buffered(c->req_body) >= REQ_BODY_HIGH)
                c->req_body_paused = true; /* on_demand parses on */
            break;
        case EW__H1_DONE:
            evbuffer_drain(in, used);
            (void) ew_req_body_end(c->req_body);
            ew_req_body_destroy(c->req_body);
            c->req_body = NULL;
            c->expect_pending = false;
            return;
        default:
            req_body_error(c, c->parser.error_status, c->parser.error_reason);
            return;
        }
    }
}

/* Starts the Worker with a body that streams in, then feeds it what already arrived. */
static void req_body_start(conn_t *c)
{
    c->req_body = ew_req_body_create(worker_of(c), on_req_body_demand, c);
    if (c->req_body == NULL) {
        write_error(c, 503, "out of memory");
        return;
    }
    c->req_body_paused = false;
    c->expect_pending = c->parser.msg.expect_continue;
    dispatch(c);
    if (c->req_body != NULL && c->bev != NULL)
        req_body_read(c);
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading
 */

/* Copies the head out of the input buffer: method, absolute URL, headers. Returns false on OOM. */
static bool take_head(conn_t *c, const ew__h1_message_t *m)
{
    request_reset(c);
    clock_gettime(CLOCK_MONOTONIC, &c->started);
    if (head_put(c, m->method.ptr, m->method.len) == UINT32_MAX)
        return false;
    c->is_head = m->method.len == 4 && memcmp(m->method.ptr, "HEAD", 4) == 0;
    c->http10 = m->version_minor == 0;
    c->keep_alive = m->keep_alive && !c->srv->draining;
    /* Absolute URL: absolute-form targets as sent, origin-form ones behind http://Host. */
    bool absolute = m->target.len > 0 && m->target.ptr[0] != '/' && m->target.ptr[0] != '*';
    const char *host = m->host.len ? m->host.ptr : c->srv->host_default;
    size_t host_len = m->host.len ? m->host.len : strlen(c->srv->host_default);
    if (absolute) {
        if ((c->url_off = head_put(c, m->target.ptr, m->target.len)) == UINT32_MAX)
            return false;
    } else {
        /* "http://" + Host + target, assembled in place (no temporary allocation per request). */
        if ((c->url_off = head_put(c, c->tls ? "https://" : "http://", c->tls ? 8 : 7)) == UINT32_MAX)
            return false;
        c->head_len--; /* continue the same string over its NUL */
        if (head_put(c, host, host_len) == UINT32_MAX)
            return false;
        c->head_len--;
        if (head_put(c, m->target.ptr, m->target.len) == UINT32_MAX)
            return false;
    }
    hdr_off_t *hdrs = realloc(c->hdrs, (m->nheaders ? m->nheaders : 1) * sizeof(*hdrs));
    if (hdrs == NULL)
        return false;
    c->hdrs = hdrs;
    for (size_t i = 0; i < m->nheaders; i++) {
        const ew__h1_header_t *h = &m->headers[i];
        hdrs[i].name = head_put(c, h->name, h->name_len);
        hdrs[i].value = head_put(c, h->value, h->value_len);
        if (hdrs[i].name == UINT32_MAX || hdrs[i].value == UINT32_MAX)
            return false;
        hdrs[i].name_len = h->name_len;
        hdrs[i].value_len = h->value_len;
    }
    c->nhdrs = m->nheaders;
    return true;
}

static uint64_t mono_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t) now.tv_sec * 1000u + (uint64_t) now.tv_nsec / 1000000u;
}

static void arm_deadline(conn_t *c, uint32_t ms)
{
    struct timeval tv = tv_ms(ms);
    c->deadline_armed = event_add(c->deadline, &tv) == 0;
}

/* Parses what has arrived, one event at a time, until the parser needs more bytes or a request is in the
 * Worker. */
static bool req_body_should_stream(const conn_t *c, size_t buffered);
static void req_body_start(conn_t *c);

static void conn_read_loop(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (c->state == READ_HEAD || c->state == READ_BODY) {
        size_t len = evbuffer_get_length(in);
        const char *buf = len ? (const char *) evbuffer_pullup(in, -1) : "";
        if (len > 0 && c->state == READ_HEAD && c->head_since_ms == 0) {
            c->head_since_ms = mono_ms();
            if (!c->deadline_armed)
                arm_deadline(c, c->srv->cfg.request_timeout_ms);
        }
        size_t used = 0;
        ew__h1_slice_t body;
        int ev = ew__h1_parse(&c->parser, buf, len, &used, &body);
        switch (ev) {
        case EW__H1_AGAIN:
            evbuffer_drain(in, used);
            return;
        case EW__H1_HEAD:
            if (!take_head(c, &c->parser.msg)) {
                write_error(c, 503, "out of memory");
                return;
            }
            c->state = READ_BODY;
            evbuffer_drain(in, used);
            if (req_body_should_stream(c, evbuffer_get_length(in))) {
                req_body_start(c); /* dispatches now; the body follows as it arrives */
                return;
            }
            if (c->parser.msg.expect_continue)
                bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
            break;
        case EW__H1_BODY:
            if (!body_put(c, body.ptr, body.len)) {
                write_error(c, 413, "request body too large for this server's memory");
                return;
            }
            evbuffer_drain(in, used);
            break;
        case EW__H1_DONE:
            evbuffer_drain(in, used);
            dispatch(c);
            return;
        default:
            write_error(c, c->parser.error_status, c->parser.error_reason);
            return;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading the socket
 *
 * The conn reads its socket itself, into the bufferevent's input buffer (the bufferevent only writes):
 * libevent's read (evbuffer_read) asks the kernel how much is waiting (ioctl FIONREAD) before every read,
 * a system call per request that one readv into space reserved in the buffer does without. The read event
 * is persistent and carries the idle timeout (libevent re-arms it whenever bytes arrive); it stays added
 * across requests (no epoll change per request, pipelined bytes wait in the buffer) and is removed only
 * while the input holds rd_high bytes or more (TCP then holds the client) or reading is off. h2.c and ws.c
 * read through the bufferevent: a conn handed to them gives up its read event first (rd_detach).
 */

static void on_read(conn_t *c);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void on_input_drained(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    (void) in;
    if (info->n_deleted > 0)
        rd_sync(arg);
}

/* Adds or removes the read event as reading is wanted and the input buffer has room. */
static void rd_sync(conn_t *c)
{
    if (c->bev == NULL || c->rd == NULL)
        return;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    bool full = evbuffer_get_length(in) >= c->rd_high;
    if (full && c->rd_want && c->rd_cb == NULL)
        c->rd_cb = evbuffer_add_cb(in, on_input_drained, c); /* only while full: none on the hot path */
    else if ((!full || !c->rd_want) && c->rd_cb != NULL) {
        evbuffer_remove_cb_entry(in, c->rd_cb);
        c->rd_cb = NULL;
    }
    bool on = c->rd_want && !full;
    if (on == c->rd_added)
        return;
    if (on)
        c->rd_added = event_add(c->rd, &c->rd_timeout) == 0;
    else {
        event_del(c->rd);
        c->rd_added = false;
    }
}

/* Gives up the read event (the socket closes or changes hands): the bufferevent's input is as it made it. */
static void rd_detach(conn_t *c)
{
    if (c->rd_cb != NULL) {
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->rd_cb);
        c->rd_cb = NULL;
    }
    if (c->rd != NULL) {
        event_free(c->rd);
        c->rd = NULL;
        evbuffer_freeze(bufferevent_get_input(c->bev), 0);
    }
    c->rd_added = false;
}

/* The socket is readable (or idle for rd_timeout): one readv into reserved space, then the parser. */
static void on_sock_read(evutil_socket_t fd, short what, void *arg)
{
    conn_t *c = arg;
    if (what & EV_TIMEOUT) {
        c->rd_want = false;
        rd_sync(c);
        on_event(c->bev, BEV_EVENT_TIMEOUT | BEV_EVENT_READING, c);
        return;
    }
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in), want = READ_CHUNK;
    if (len + want > c->rd_high)
        want = len < c->rd_high ? c->rd_high - len : 0;
    if (want == 0) {
        rd_sync(c);
        return;
    }
    struct evbuffer_iovec v[2];
    int nv = evbuffer_reserve_space(in, (ev_ssize_t) want, v, 2);
    if (nv <= 0) {
        c->rd_want = false;
        rd_sync(c);
        on_event(c->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, c);
        return;
    }
    struct iovec iov[2];
    for (int i = 0; i < nv; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    ssize_t n = readv(fd, iov, nv);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return; /* spurious wakeup: the reservation is reused by the next read */
    if (n <= 0) {
        c->rd_want = false;
        rd_sync(c);
        on_event(c->bev, (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR) | BEV_EVENT_READING, c);
        return;
    }
    int used = 0;
    for (size_t left = (size_t) n; used < nv && left > 0; used++) {
        if (v[used].iov_len > left)
            v[used].iov_len = left;
        left -= v[used].iov_len;
    }
    evbuffer_commit_space(in, v, used);
    if (len + (size_t) n >= c->rd_high)
        rd_sync(c); /* full: stop reading until the parser takes some */
    on_read(c); /* may free c */
}

/* HTTP/2 with prior knowledge (h2c): a new connection that opens with the client preface goes to h2.c.
 * Returns true when the conn is handed over or must wait for more of the preface. */
static bool h2c_preface(conn_t *c)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in), n = len < 24 ? len : 24;
    const char *p = (const char *) evbuffer_pullup(in, (ev_ssize_t) n);
    if (p == NULL || memcmp(p, preface, n) != 0) {
        c->fresh = false;
        return false;
    }
    if (n < 24)
        return true;
    srv_http_t *s = c->srv;
    struct bufferevent *bev = c->bev;
    char peer[sizeof(c->peer)];
    memcpy(peer, c->peer, sizeof(peer));
    rd_detach(c); /* h2.c reads through the bufferevent */
    c->bev = NULL;
    s->nconns--;
    conn_free(c);
    srv_h2_adopt_bev(s->h2, bev, peer, bufferevent_getfd(bev));
    return true;
}

/* Bytes arrived in the input buffer. */
static void on_read(conn_t *c)
{
    if (c->state == LINGER) {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (c->fresh && c->state == READ_HEAD && h2c_preface(c))
        return;
    if (c->state == READ_HEAD || c->state == READ_BODY)
        conn_read_loop(c);
    else if (c->req_body != NULL)
        req_body_read(c);
}

/* After an error page: stop sending but keep reading (and discarding) for a moment, so that a client still
 * sending its oversized request reads our answer instead of a connection reset (a "lingering close"). */
static void linger(conn_t *c)
{
    c->state = LINGER;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    c->rd_timeout = (struct timeval){2, 0};
    c->rd_want = true;
    if (c->rd_added) { /* re-added below with the new timeout */
        event_del(c->rd);
        c->rd_added = false;
    }
    rd_sync(c);
}

/* The response (or error page) has been written out. */
static void on_write(struct bufferevent *bev, void *arg)
{
    (void) bev;
    conn_t *c = arg;
    if (c->state == CLOSING) {
        linger(c);
        return;
    }
    if (c->state == WRITING)
        response_sent(c);
    else if (c->state == STREAMING)
        stream_pump(c); /* the socket took most of what was waiting: read on */
}

/* The response is out: close, or wait for (or parse the already buffered) next request. */
static void response_sent(conn_t *c)
{
    if (c->req_body != NULL) {
        /* Answered before its body arrived: the rest of the body is not for anyone. Stop sending, read and
         * drop what the client still sends for a moment, then close (the next request cannot be found). */
        req_body_drop(c);
        linger(c);
        return;
    }
    if (!c->keep_alive) {
        conn_close(c);
        return;
    }
    c->state = READ_HEAD;
    request_reset(c);
    /* The idle and write timeouts set at accept still hold (only linger() changes them). */
    conn_read_loop(c); /* a pipelined request may be waiting */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void) bev;
    conn_t *c = arg;
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && c->req_body == NULL &&
        (c->state == IN_WORKER || c->state == STREAMING || c->state == WRITING)) {
        /* The idle timeout is for a connection between requests: a client waiting for its answer (a slow
         * Worker, a long streamed body) sends nothing meanwhile. It cut such responses after
         * idle_timeout_ms. Reading resumes with the timer re-armed; the write timeout still ends a client
         * that takes nothing, and a request body still arriving keeps the idle bound. */
        c->rd_want = true; /* on_sock_read stopped it to report the timeout */
        rd_sync(c);
        return;
    }
    if ((what & BEV_EVENT_EOF) && c->req_body != NULL) {
        req_body_read(c); /* what arrived before the end */
        if (c->req_body != NULL) { /* the body was cut short */
            ew_req_body_fail(c->req_body);
            req_body_drop(c);
        }
    }
    if (what & BEV_EVENT_EOF) {
        /* A half-closed client may still wait for the response to what it sent. */
        if (c->state == IN_WORKER || c->state == WRITING || c->state == STREAMING)
            return;
        if (c->state == READ_BODY || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
            conn_close(c);
            return;
        }
    }
    conn_close(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    conn_t *c = arg;
    c->deadline_armed = false;
    if ((c->state != READ_HEAD && c->state != READ_BODY) || c->head_since_ms == 0)
        return; /* armed for an earlier request: the next one arms it again */
    uint64_t waited = mono_ms() - c->head_since_ms;
    if (waited < c->srv->cfg.request_timeout_ms) { /* armed for an earlier request: the rest of this one's time */
        arm_deadline(c, (uint32_t) (c->srv->cfg.request_timeout_ms - waited));
        return;
    }
    write_error(c, 408, "the request did not arrive in time");
    bufferevent_enable(c->bev, EV_WRITE);
}

/* Closes the socket. The conn itself goes too, unless the Worker still has its request. */
static void conn_close(conn_t *c)
{
    srv_http_t *s = c->srv;
    if (c->splice_ev != NULL)
        event_del(c->splice_ev); /* before the socket closes */
    if (c->splicing) { /* the library may write to the socket: cancel that before it closes */
        ew_response_destroy(c->stream_resp);
        c->stream_resp = NULL;
        c->body_reading = c->splicing = false;
    }
    if (c->bev != NULL) {
        rd_detach(c);
        bufferevent_free(c->bev);
        c->bev = NULL;
        s->nconns--;
    }
    if (c->req_body != NULL) { /* the client is gone: the Worker's reads of the rest fail */
        ew_req_body_destroy(c->req_body);
        c->req_body = NULL;
    }
    if (c->state == IN_WORKER || c->worker_pending)
        return; /* on_worker_response frees it */
    if (c->state == STREAMING && c->body_reading)
        return; /* on_body_chunk frees it */
    conn_free(c);
    maybe_drained(s);
}

/* ---------------------------------------------------------------------------------------------------------
 * Accepting
 */

/* Serves an HTTP/1.1 connection on fd (a TCP socket, or the application end of a TLS relay). `addr` is the
 * client's address; `tls` the relay's handshake results, NULL for plain TCP. */
static void conn_adopt(srv_http_t *s, evutil_socket_t fd, const struct sockaddr *addr, const srv_tls_info_t *tls)
{
    conn_t *c = calloc(1, sizeof(*c));
    ew__h1_config_t pcfg = {
        .max_head_bytes = s->cfg.max_header_bytes,
        .max_target_len = s->cfg.max_url_bytes,
        .max_body_bytes = s->cfg.max_body_bytes,
    };
    if (c == NULL || ew__h1_parser_init(&c->parser, EW__H1_REQUEST, &pcfg) != 0) {
        free(c);
        evutil_closesocket(fd);
        return;
    }
    c->srv = s;
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->deadline = evtimer_new(s->base, on_deadline, c);
    c->rd = event_new(s->base, fd, EV_READ | EV_PERSIST, on_sock_read, c);
    if (c->bev == NULL || c->deadline == NULL || c->rd == NULL) {
        if (c->bev != NULL)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        ew__h1_parser_dispose(&c->parser);
        if (c->deadline != NULL)
            event_free(c->deadline);
        if (c->rd != NULL)
            event_free(c->rd);
        free(c);
        return;
    }
    srv_peer_name(addr, c->peer, sizeof(c->peer));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->tls = tls != NULL;
    c->fresh = tls == NULL; /* over TLS, HTTP/2 is chosen by ALPN */
    srv_cf_conn_init(&c->cf, &s->cfg.cf, c->peer, tls ? tls->tcp_fd : fd, "HTTP/1.1", tls ? tls->version : "",
                     tls ? tls->cipher : "");
    c->next = s->conns;
    s->conns = c;
    s->nconns++;
    struct timeval wr = tv_ms(s->cfg.write_timeout_ms);
    bufferevent_set_timeouts(c->bev, NULL, &wr);
    bufferevent_setcb(c->bev, NULL, on_write, on_event, c);
    bufferevent_enable(c->bev, EV_WRITE);
    size_t head_max = s->cfg.max_header_bytes ? s->cfg.max_header_bytes : 32768;
    c->rd_high = head_max * 2 > 262144 ? head_max * 2 : 262144;
    c->rd_timeout = tv_ms(s->cfg.idle_timeout_ms);
    c->rd_want = true;
    evbuffer_unfreeze(bufferevent_get_input(c->bev), 0); /* a bufferevent keeps its input's end frozen for its own reads */
    /* libevent hands the socket at most 16 KiB per write by default: a streamed body would cost a writev
     * and a loop turn per 16 KiB. Let one write take all that may wait (STREAM_HIGH plus a chunk). */
    bufferevent_set_max_single_write(c->bev, SOCK_MAX_WRITE);
    rd_sync(c);
}

static void srv_peer_name(const struct sockaddr *addr, char *out, size_t outlen)
{
    out[0] = '\0';
    if (addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *) addr)->sin_addr, out, (socklen_t) outlen);
    else if (addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) addr)->sin6_addr, out, (socklen_t) outlen);
}

/* A TLS handshake finished (tls.c): HTTP/2 when ALPN chose it, else HTTP/1.1. */
static void on_tls_ready(void *arg, int app_fd, const srv_tls_info_t *info)
{
    srv_http_t *s = arg;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    memset(&ss, 0, sizeof(ss));
    (void) getpeername(info->tcp_fd, (struct sockaddr *) &ss, &len);
    if (info->alpn != NULL && strcmp(info->alpn, "h2") == 0)
        srv_h2_adopt(s->h2, app_fd, (struct sockaddr *) &ss, info);
    else
        conn_adopt(s, app_fd, (struct sockaddr *) &ss, info);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int socklen, void *arg)
{
    (void) l;
    (void) socklen;
    srv_http_t *s = arg;
    if (s->draining || srv_http_connections(s) >= s->cfg.max_connections) {
        evutil_closesocket(fd);
        return;
    }
    if (s->tls != NULL) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        srv_tls_accept(s->tls, fd);
        return;
    }
    conn_adopt(s, fd, addr, NULL);
}

static void ws_group_empty(void *arg)
{
    maybe_drained(arg);
}

/* Whether a socket other than ours listens on sa. SO_REUSEPORT, which the loop threads share the port with,
 * would let a second ew-server bind the same port and silently take part of its connections; a bind
 * without it fails while anyone listens there. */
static bool port_taken(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false; /* the real bind will say what is wrong */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* TIME_WAIT leftovers do not count */
    bool taken = bind(fd, sa, len) != 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

srv_http_t *srv_http_start(struct event_base *base, ew_worker_t *worker, const srv_http_config_t *cfg)
{
    srv_http_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->base = base;
    s->worker = worker;
    s->cfg = *cfg;
    srv_ws_config_t wcfg = {.max_message = cfg->max_ws_message, .write_timeout_ms = cfg->write_timeout_ms};
    srv_h2_config_t hcfg = {
        .max_header_bytes = cfg->max_header_bytes,
        .max_body_bytes = cfg->max_body_bytes,
        .idle_timeout_ms = cfg->idle_timeout_ms,
        .write_timeout_ms = cfg->write_timeout_ms,
        .log_requests = cfg->log_requests,
        .cf = &s->cfg.cf,
        .host_default = s->host_default,
        .metrics = cfg->metrics,
        .metrics_arg = cfg->metrics_arg,
        .route = cfg->route,
        .route_arg = cfg->route_arg,
    };
    s->ws = srv_ws_group_new(&wcfg, ws_group_empty, s);
    s->h2 = srv_h2_group_new(base, worker, &hcfg, ws_group_empty, s);
    if (cfg->tls_cert != NULL)
        s->tls = srv_tls_new(base, cfg->tls_cert, cfg->tls_key, true, on_tls_ready, s);
    if (s->ws == NULL || s->h2 == NULL || (cfg->tls_cert != NULL && s->tls == NULL)) {
        srv_ws_group_free(s->ws);
        srv_h2_group_free(s->h2);
        free(s);
        return NULL;
    }
    if (!s->cfg.idle_timeout_ms)
        s->cfg.idle_timeout_ms = 60000;
    if (!s->cfg.request_timeout_ms)
        s->cfg.request_timeout_ms = 30000;
    if (!s->cfg.write_timeout_ms)
        s->cfg.write_timeout_ms = 30000;
    if (!s->cfg.max_connections)
        s->cfg.max_connections = 10000;
    if (!s->cfg.max_url_bytes)
        s->cfg.max_url_bytes = 16384;

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    int sslen;
    char spec[128];
    bool v6 = strchr(cfg->ip, ':') != NULL;
    snprintf(spec, sizeof(spec), v6 ? "[%s]:%d" : "%s:%d", cfg->ip, cfg->port);
    if (v6) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *) &ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t) cfg->port);
        sslen = sizeof(*sa);
        v6 = inet_pton(AF_INET6, cfg->ip, &sa->sin6_addr) == 1;
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *) &ss;
        sa->sin_family = AF_INET;
        sa->sin_port = htons((uint16_t) cfg->port);
        sslen = sizeof(*sa);
        v6 = inet_pton(AF_INET, cfg->ip, &sa->sin_addr) != 1;
        if (v6) {
            fprintf(stderr, "ew-server: --ip %s is not an IP address\n", cfg->ip);
            srv_ws_group_free(s->ws);
            srv_h2_group_free(s->h2);
            srv_tls_free(s->tls);
            free(s);
            return NULL;
        }
    }
    if (ss.ss_family == AF_INET6 && !v6) {
        fprintf(stderr, "ew-server: --ip %s is not an IP address\n", cfg->ip);
        srv_ws_group_free(s->ws);
        free(s);
        return NULL;
    }
    v6 = ss.ss_family == AF_INET6;
    if (cfg->claim_port && cfg->port != 0 && port_taken((struct sockaddr *) &ss, (socklen_t) sslen)) {
        fprintf(stderr, "ew-server: cannot listen on %s: %s (another server is listening there)\n", spec,
                strerror(EADDRINUSE));
        srv_ws_group_free(s->ws);
        srv_h2_group_free(s->h2);
        srv_tls_free(s->tls);
        free(s);
        return NULL;
    }
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | (cfg->reuse_port ? LEV_OPT_REUSEABLE_PORT : 0);
    s->listener = evconnlistener_new_bind(base, on_accept, s, flags, 1024,
                                          (struct sockaddr *) &ss, sslen);
    if (s->listener == NULL) {
        fprintf(stderr, "ew-server: cannot listen on %s: %s\n", spec, strerror(errno));
        srv_ws_group_free(s->ws);
        srv_h2_group_free(s->h2);
        srv_tls_free(s->tls);
        free(s);
        return NULL;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *) &bound, &blen);
    s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &bound)->sin6_port
                                                 : ((struct sockaddr_in *) &bound)->sin_port);
    snprintf(s->host_default, sizeof(s->host_default), v6 ? "[%s]:%d" : "%s:%d", cfg->ip, s->port);
    return s;
}

void srv_http_set_worker(srv_http_t *s, ew_worker_t *worker)
{
    s->worker = worker;
    srv_h2_set_worker(s->h2, worker);
}

int srv_http_port(const srv_http_t *s)
{
    return s->port;
}

uint32_t srv_http_connections(const srv_http_t *s)
{
    /* A TLS connection counts once: its relay, whose application end is one of the others. */
    return s->tls != NULL ? srv_tls_count(s->tls) : s->nconns + srv_ws_group_count(s->ws) + srv_h2_count(s->h2);
}

void srv_http_drain(srv_http_t *s, void (*on_drained)(void *arg), void *arg)
{
    s->draining = true;
    s->on_drained = on_drained;
    s->drained_arg = arg;
    if (s->listener != NULL) {
        evconnlistener_free(s->listener);
        s->listener = NULL;
    }
    conn_t *next;
    for (conn_t *c = s->conns; c != NULL; c = next) {
        next = c->next;
        /* Idle keep-alive connections, and requests that have not fully arrived, are closed now. */
        if (c->bev != NULL && c->state == READ_HEAD)
            conn_close(c);
        else
            c->keep_alive = false;
    }
    srv_ws_group_drain(s->ws);
    srv_h2_drain(s->h2);
    maybe_drained(s);
}

void srv_http_free(srv_http_t *s)
{
    if (s == NULL)
        return;
    if (s->listener != NULL)
        evconnlistener_free(s->listener);
    while (s->conns != NULL) {
        conn_t *c = s->conns;
        if (c->bev != NULL) {
            rd_detach(c);
            bufferevent_free(c->bev);
            c->bev = NULL;
        }
        conn_free(c);
    }
    srv_ws_group_free(s->ws);
    srv_h2_group_free(s->h2);
    srv_tls_free(s->tls); /* after the groups: it closes the relays' ends */
    free(s);
}
