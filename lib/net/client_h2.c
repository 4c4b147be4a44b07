/*
 * client_h2.c — HTTP/2 for the fetch() client with nghttp2, on TLS connections whose ALPN picked "h2"
 * (client_internal.h has the shared structs; client.c the requests, connections and HTTP/1.1).
 *
 * One connection per origin carries concurrent requests as streams (up to the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS, at most 100 from us). nghttp2 runs on memory buffers: bytes read from
 * the socket go to nghttp2_session_mem_recv, whose callbacks collect a stream's response headers and
 * deliver head, body pieces and the end to the request's owner; what the session wants to send is taken
 * with nghttp2_session_mem_send after each event and written (or kept in conn->hout until writable).
 * Flow control follows the owner: DATA bytes are given back to the windows (1 MiB per stream) as the owner
 * takes them, and held while it has paused the request (back-pressure from a slow body reader).
 *
 * nghttp2 forbids mem_send from inside its callbacks: a request cancelled there gets its RST_STREAM
 * submitted, and the flush after mem_recv sends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

#define H2_MAX_STREAMS 100
#define H2_WINDOW (1u << 20)
#define H2_READ_CHUNK 65536

static void h2_fail_all(conn_t *k, ew__net_error_t err, const char *message);

static ew__net_req_t *stream_req(nghttp2_session *s, int32_t id)
{
    return nghttp2_session_get_stream_user_data(s, id);
}

/* The stream of r is over (closed or abandoned): detach r from the connection. */
static void stream_done(conn_t *k, ew__net_req_t *r)
{
    if (r->h2_unconsumed > 0) /* the connection window must not shrink for good */
        (void) nghttp2_session_consume_connection(k->session, r->h2_unconsumed);
    r->h2_unconsumed = 0;
    nghttp2_session_set_stream_user_data(k->session, r->stream_id, NULL);
    r->stream_id = 0;
    r->conn = NULL;
    if (--k->nstreams == 0) {
        struct timeval tv = ew__net_ms_tv(k->client->cfg.idle_timeout_ms);
        evtimer_add(k->timer, &tv);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * nghttp2 callbacks (user_data is the connection)
 */

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    (void) flags;
    (void) user_data;
    if (frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    ew__net_req_t *r = stream_req(s, frame->hd.stream_id);
    if (r == NULL || r->h2_head_done)
        return 0; /* trailers are not kept */
    if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
        r->h2_status = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++)
            r->h2_status = r->h2_status * 10 + (value[i] - '0');
        return 0;
    }
    if (namelen > 0 && name[0] == ':')
        return 0;
    if (r->nrh == r->caprh) {
        size_t cap = r->caprh ? r->caprh * 2 : 16;
        h2_header_t *grown = realloc(r->rh, cap * sizeof(*grown));
        if (grown == NULL)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
        r->rh = grown;
        r->caprh = cap;
    }
    h2_header_t *h = &r->rh[r->nrh];
    h->name = strndup((const char *) name, namelen);
    h->value = strndup((const char *) value, valuelen);
    if (h->name == NULL || h->value == NULL) {
        free(h->name);
        free(h->value);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    h->name_len = (uint32_t) namelen;
    h->value_len = (uint32_t) valuelen;
    r->nrh++;
    return 0;
}

static void clear_headers(ew__net_req_t *r)
{
    for (size_t i = 0; i < r->nrh; i++) {
        free(r->rh[i].name);
        free(r->rh[i].value);
    }
    r->nrh = 0;
}

/* A complete header block: a 1xx is dropped, the final one is delivered as the response head. */
static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *user_data)
{
    (void) user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_HEADERS))
        return 0;
    ew__net_req_t *r = stream_req(s, frame->hd.stream_id);
    if (r == NULL || r->h2_head_done)
        return 0;
    if (r->h2_status < 200) {
        clear_headers(r);
        return 0;
    }
    r->h2_head_done = true;
    r->got_bytes = true;
    ew__h1_header_t *hs = calloc(r->nrh ? r->nrh : 1, sizeof(*hs));
    if (hs == NULL)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    for (size_t i = 0; i < r->nrh; i++)
        hs[i] = (ew__h1_header_t){r->rh[i].name, r->rh[i].value, r->rh[i].name_len, r->rh[i].value_len};
    /* HTTP/2 has no reason phrase: the standard one stands in, as for Responses made without statusText. */
    const char *reason = ew__h1_reason_phrase(r->h2_status);
    if (strcmp(reason, "Unknown") == 0)
        reason = "";
    (void) ew__net_deliver_head(r, r->h2_status, reason, strlen(reason), hs, r->nrh);
    free(hs);
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                   void *user_data)
{
    (void) flags;
    conn_t *k = user_data;
    ew__net_req_t *r = stream_req(s, stream_id);
    if (r == NULL || !r->h2_head_done) {
        (void) nghttp2_session_consume(s, stream_id, len);
        return 0;
    }
    bool alive = ew__net_deliver_body(r, (const char *) data, len);
    /* The window is given back only for bytes the owner took without pausing (back-pressure). */
    if (alive && r->paused)
        r->h2_unconsumed += len;
    else if (alive || nghttp2_session_find_stream(s, stream_id) != NULL)
        (void) nghttp2_session_consume(s, stream_id, len);
    else
        (void) nghttp2_session_consume_connection(s, len);
    (void) k;
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *user_data)
{
    conn_t *k = user_data;
    ew__net_req_t *r = stream_req(s, stream_id);
    if (r == NULL)
        return 0;
    bool complete = error_code == NGHTTP2_NO_ERROR && r->h2_head_done;
    stream_done(k, r);
    if (complete)
        ew__net_req_finish(r, EW__NET_OK, "");
    else if (error_code == NGHTTP2_NO_ERROR || error_code == NGHTTP2_CANCEL || error_code == NGHTTP2_INTERNAL_ERROR)
        ew__net_req_fail(r, EW__NET_ERR_LOST, "Network connection lost.");
    else
        ew__net_req_fail(r, EW__NET_ERR_PROTOCOL, "The server reset the HTTP/2 stream (%s).",
                         nghttp2_http2_strerror(error_code));
    return 0;
}

/* Request body: read from the HTTP/1.1 serialization's body part. */
static ssize_t read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length, uint32_t *flags,
                         nghttp2_data_source *source, void *user_data)
{
    (void) source;
    (void) user_data;
    ew__net_req_t *r = stream_req(s, stream_id);
    if (r == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* abandoned: the stream is reset */
    size_t n = r->body_len - r->body_sent;
    if (n > length)
        n = length;
    if (n > 0)
        memcpy(buf, r->out + r->body_off + r->body_sent, n);
    r->body_sent += n;
    if (r->body_sent == r->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t) n;
}

/* ---------------------------------------------------------------------------------------------------------
 * Session I/O
 */

static bool hout_append(conn_t *k, const uint8_t *p, size_t n)
{
    if (k->hout_len + n > k->hout_cap) {
        size_t cap = k->hout_cap ? k->hout_cap : 16384;
        while (cap < k->hout_len + n)
            cap *= 2;
        char *grown = realloc(k->hout, cap);
        if (grown == NULL)
            return false;
        k->hout = grown;
        k->hout_cap = cap;
    }
    memcpy(k->hout + k->hout_len, p, n);
    k->hout_len += n;
    return true;
}

void ew__net_h2_flush(conn_t *k)
{
    if (k->in_recv)
        return; /* the recv path flushes when nghttp2 has returned */
    for (;;) {
        while (k->hout_off < k->hout_len) {
            ssize_t w = ew__net_conn_write(k, k->hout + k->hout_off, k->hout_len - k->hout_off);
            if (w == -1)
                return;
            if (w < 0) {
                h2_fail_all(k, EW__NET_ERR_LOST, "Network connection lost.");
                return;
            }
            k->hout_off += (size_t) w;
        }
        k->hout_off = k->hout_len = 0;
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(k->session, &data);
        if (n < 0) {
            h2_fail_all(k, EW__NET_ERR_PROTOCOL, "HTTP/2 session error.");
            return;
        }
        if (n == 0)
            break;
        if (!hout_append(k, data, (size_t) n)) {
            h2_fail_all(k, EW__NET_ERR_NOMEM, "Out of memory sending a request.");
            return;
        }
    }
    if (!k->tls_wants_write)
        event_del(k->wev);
    if (!nghttp2_session_want_read(k->session) && !nghttp2_session_want_write(k->session) && k->nstreams == 0)
        ew__net_conn_close(k); /* GOAWAY done and nothing left */
}

void ew__net_h2_on_read(conn_t *k)
{
    if (k->in_cap < H2_READ_CHUNK) {
        char *b = realloc(k->in, H2_READ_CHUNK);
        if (b == NULL) {
            h2_fail_all(k, EW__NET_ERR_NOMEM, "Out of memory reading a response.");
            return;
        }
        k->in = b;
        k->in_cap = H2_READ_CHUNK;
    }
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = ew__net_conn_read(k, k->in, k->in_cap);
        if (n == -1)
            break;
        if (n <= 0) {
            h2_fail_all(k, EW__NET_ERR_LOST, "Network connection lost.");
            return;
        }
        k->in_recv = true;
        ssize_t used = nghttp2_session_mem_recv(k->session, (const uint8_t *) k->in, (size_t) n);
        k->in_recv = false;
        if (used < 0) {
            h2_fail_all(k, EW__NET_ERR_PROTOCOL, "The server sent invalid HTTP/2.");
            return;
        }
        if (rounds == 15 && k->tls != NULL && ew__tls_pending(k->tls))
            event_active(k->rev, EV_READ, 1); /* decrypted bytes left: come back from the loop */
    }
    ew__net_h2_flush(k);
}

/* The connection is unusable: every stream's request fails (from the loop), then it closes. */
static void h2_fail_all(conn_t *k, ew__net_error_t err, const char *message)
{
    for (ew__net_req_t *r = k->client->reqs; r != NULL; r = r->next) {
        if (r->conn == k) {
            stream_done(k, r);
            ew__net_req_fail(r, err, "%s", message);
        }
    }
    ew__net_conn_close(k);
}

/* ---------------------------------------------------------------------------------------------------------
 * Streams
 */

void ew__net_h2_attach(conn_t *k, ew__net_req_t *r)
{
    static const char *const skip[] = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                       "upgrade", "host", "te", "content-length"};
    nghttp2_nv *nva = calloc(r->nheaders + 5, sizeof(*nva));
    if (nva == NULL) {
        ew__net_req_fail(r, EW__NET_ERR_NOMEM, "Out of memory sending a request.");
        return;
    }
    size_t n = 0;
#define NV(nm, v, vl) nva[n++] = (nghttp2_nv){(uint8_t *) (nm), (uint8_t *) (v), strlen(nm), (vl), NGHTTP2_NV_FLAG_NONE}
    NV(":method", r->method, strlen(r->method));
    NV(":scheme", "https", 5);
    NV(":authority", r->authority, strlen(r->authority));
    NV(":path", r->target, strlen(r->target));
    for (size_t i = 0; i < r->nheaders; i++) {
        bool drop = false;
        for (size_t j = 0; j < sizeof(skip) / sizeof(skip[0]) && !drop; j++)
            drop = strcmp(r->headers[i].name, skip[j]) == 0;
        if (!drop)
            NV(r->headers[i].name, r->headers[i].value, r->headers[i].value_len);
    }
    char clen[24];
    if (r->has_body) {
        snprintf(clen, sizeof(clen), "%zu", r->body_len);
        NV("content-length", clen, strlen(clen));
    }
#undef NV
    nghttp2_data_provider body = {.read_callback = read_body};
    r->body_sent = 0;
    int32_t id = nghttp2_submit_request(k->session, NULL, nva, n, r->has_body ? &body : NULL, r);
    free(nva);
    if (id < 0) {
        ew__net_req_fail(r, EW__NET_ERR_PROTOCOL, "The request cannot be sent over HTTP/2 (%s).",
                         nghttp2_strerror(id));
        return;
    }
    r->stream_id = id;
    r->conn = k;
    if (k->nstreams++ == 0)
        evtimer_del(k->timer);
    ew__net_h2_flush(k);
}

void ew__net_h2_pause(ew__net_req_t *r, bool paused)
{
    conn_t *k = r->conn;
    if (paused || r->stream_id <= 0 || r->h2_unconsumed == 0)
        return;
    (void) nghttp2_session_consume(k->session, r->stream_id, r->h2_unconsumed);
    r->h2_unconsumed = 0;
    event_active(k->wev, EV_WRITE, 1); /* send the WINDOW_UPDATE from the loop */
}

void ew__net_h2_detach(ew__net_req_t *r)
{
    conn_t *k = r->conn;
    if (r->stream_id > 0) {
        (void) nghttp2_submit_rst_stream(k->session, NGHTTP2_FLAG_NONE, r->stream_id, NGHTTP2_CANCEL);
        stream_done(k, r);
        event_active(k->wev, EV_WRITE, 1); /* send the RST_STREAM from the loop */
    } else {
        r->conn = NULL;
    }
}

conn_t *ew__net_h2_find(ew__net_client_t *c, const char *key)
{
    for (conn_t *k = c->h2conns; k != NULL; k = k->next) {
        if (strcmp(k->key, key) != 0 || !nghttp2_session_want_read(k->session))
            continue;
        uint32_t max = nghttp2_session_get_remote_settings(k->session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
        if (k->nstreams < max && k->nstreams < H2_MAX_STREAMS)
            return k;
    }
    return NULL;
}

void ew__net_h2_start(conn_t *k, ew__net_req_t *r)
{
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
        ew__net_req_fail(r, EW__NET_ERR_NOMEM, "Out of memory starting HTTP/2.");
        return;
    }
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_option *opt;
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cbs);
        ew__net_req_fail(r, EW__NET_ERR_NOMEM, "Out of memory starting HTTP/2.");
        return;
    }
    nghttp2_option_set_no_auto_window_update(opt, 1); /* windows follow what the owner consumes */
    int rc = nghttp2_session_client_new2(&k->session, cbs, k, opt);
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) {
        ew__net_req_fail(r, EW__NET_ERR_NOMEM, "Out of memory starting HTTP/2.");
        return;
    }
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
                                   {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
                                   {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
    (void) nghttp2_submit_settings(k->session, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
    (void) nghttp2_session_set_local_window_size(k->session, NGHTTP2_FLAG_NONE, 0, 4 * H2_WINDOW);
    /* From now on the connection belongs to the client's HTTP/2 list, not to r. */
    k->h2 = true;
    k->req = NULL;
    r->conn = NULL;
    k->next = k->client->h2conns;
    k->client->h2conns = k;
    event_add(k->rev, NULL);
    ew__net_h2_attach(k, r);
}

void ew__net_h2_dispose(conn_t *k)
{
    if (k->session != NULL)
        nghttp2_session_del(k->session);
    k->session = NULL;
    free(k->hout);
    k->hout = NULL;
}
