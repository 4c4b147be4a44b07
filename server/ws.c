/*
 * ws.c — ew-server's WebSocket connections. After the Worker answered an upgrade with a 101 (http.c), a
 * ws_conn owns the socket and pumps RFC 6455 frames between the client and the Worker's end:
 *
 *   client frames ──lib/net/ws.c parser──> message: ew_websocket_send   ping: pong   close: ew_websocket_close
 *   Worker        ──handler.message/close (from the loop)──> frames written to the client, unmasked
 *
 * Back-pressure: when the client reads slower than the Worker writes, the output buffer grows; past
 * HIGH_WATER the conn stops reading the client (an echo cannot outrun its reader) and resumes below
 * LOW_WATER; past HARD_LIMIT the client is not reading at all and is dropped. Close handshake: whichever
 * side closes first, the conn closes the TCP connection once both close frames have passed (or after the
 * close timeout). A protocol error from the client is answered with its close code (1002/1007/1009) and
 * the Worker sees an abnormal closure (1006).
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/ws.h"
#include "ws.h"

#define HIGH_WATER ((size_t) 1 << 20)
#define LOW_WATER ((size_t) 256 << 10)
#define HARD_LIMIT ((size_t) 64 << 20)

typedef struct ws_conn ws_conn_t;

struct srv_ws_group {
    srv_ws_config_t cfg;
    ws_conn_t *conns;            /* list */
    uint32_t count;
    bool draining;
    void (*on_empty)(void *arg);
    void *empty_arg;
};

struct ws_conn {
    srv_ws_group_t *g;
    struct bufferevent *bev;     /* owned */
    ew_websocket_t *ws;          /* owned (attached) */
    ew__ws_parser_t parser;
    struct event *timer;         /* close timeout, and deferred teardown (owned) */
    bool sent_close;             /* our close frame is written */
    bool got_close;              /* the client's close frame arrived (or the client broke the protocol) */
    bool finishing;              /* close the TCP connection once the output has drained */
    bool paused;                 /* reading stopped for back-pressure */
    ws_conn_t *next;
};

static void conn_free(ws_conn_t *c)
{
    srv_ws_group_t *g = c->g;
    for (ws_conn_t **pp = &g->conns; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    g->count--;
    ew_websocket_destroy(c->ws); /* the Worker sees 1006 unless the close handshake happened */
    bufferevent_free(c->bev);
    ew__ws_parser_dispose(&c->parser);
    event_free(c->timer);
    free(c);
    if (g->draining && g->count == 0 && g->on_empty != NULL)
        g->on_empty(g->empty_arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    conn_free(arg);
}

/* Frees the conn from the loop: the Worker's callbacks must not call back into the library. */
static void free_soon(ws_conn_t *c)
{
    struct timeval now = {0, 0};
    event_add(c->timer, &now);
}

static size_t out_len(ws_conn_t *c)
{
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

static void write_frame(ws_conn_t *c, int opcode, const void *data, size_t len)
{
    uint8_t hdr[14];
    size_t n = ew__ws_frame_header(hdr, opcode, len, NULL);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, hdr, n);
    if (len > 0)
        evbuffer_add(out, data, len);
}

static void write_close(ws_conn_t *c, int code, const char *reason, size_t reason_len)
{
    if (c->sent_close)
        return;
    c->sent_close = true;
    uint8_t payload[125];
    size_t n = 0;
    if (code != 1005 && code != 1006) {
        payload[0] = (uint8_t) (code >> 8);
        payload[1] = (uint8_t) code;
        if (reason_len > 123)
            reason_len = 123;
        memcpy(payload + 2, reason, reason_len);
        n = 2 + reason_len;
    }
    write_frame(c, EW__WS_OP_CLOSE, payload, n);
}

/* After both close frames (or a fatal error): close once the output is out, at the latest after the
 * close timeout. */
static void finish(ws_conn_t *c)
{
    c->finishing = true;
    bufferevent_disable(c->bev, EV_READ);
    if (out_len(c) == 0)
        free_soon(c);
}

static void arm_close_timeout(ws_conn_t *c)
{
    uint32_t ms = c->g->cfg.close_timeout_ms ? c->g->cfg.close_timeout_ms : 5000;
    struct timeval tv = {(time_t) (ms / 1000), (suseconds_t) ((ms % 1000) * 1000)};
    event_add(c->timer, &tv);
}

static void apply_backpressure(ws_conn_t *c)
{
    size_t n = out_len(c);
    if (!c->paused && n > HIGH_WATER && !c->got_close) {
        c->paused = true;
        bufferevent_disable(c->bev, EV_READ);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The Worker's side (called from the library's event, never from inside an ew_ call)
 */

static void on_worker_message(void *udata, int is_text, const void *data, size_t len)
{
    ws_conn_t *c = udata;
    if (c->sent_close || c->finishing)
        return;
    if (out_len(c) + len > HARD_LIMIT) { /* the client has stopped reading */
        c->finishing = true;
        free_soon(c);
        return;
    }
    write_frame(c, is_text ? EW__WS_OP_TEXT : EW__WS_OP_BINARY, data, len);
    apply_backpressure(c);
}

static void on_worker_close(void *udata, int code, const char *reason, size_t reason_len)
{
    ws_conn_t *c = udata;
    write_close(c, code, reason, reason_len);
    if (c->got_close)
        finish(c);
    else
        arm_close_timeout(c);
}

/* ---------------------------------------------------------------------------------------------------------
 * The client's side
 */

/* Handles one parsed event; false when the conn stops reading. */
static bool on_client_event(ws_conn_t *c, const ew__ws_event_t *ev)
{
    switch (ev->type) {
    case EW__WS_EV_MESSAGE:
        if (!c->got_close)
            (void) ew_websocket_send(c->ws, ev->opcode == EW__WS_OP_TEXT, ev->data, ev->len);
        return true;
    case EW__WS_EV_PING:
        if (!c->sent_close)
            write_frame(c, EW__WS_OP_PONG, ev->data, ev->len);
        return true;
    case EW__WS_EV_PONG:
        return true;
    case EW__WS_EV_CLOSE:
        c->got_close = true;
        bufferevent_disable(c->bev, EV_READ);
        (void) ew_websocket_close(c->ws, ev->close_code, (const char *) ev->data, ev->len);
        if (c->sent_close)
            finish(c);
        else
            arm_close_timeout(c); /* the Worker answers (itself or automatically) through on_worker_close */
        return false;
    }
    return true;
}

static void process_input(ws_conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->got_close && !c->finishing) {
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            break;
        const uint8_t *buf = evbuffer_pullup(in, -1);
        size_t used = 0;
        ew__ws_event_t ev;
        int rc = ew__ws_parse(&c->parser, buf, len, &used, &ev);
        if (rc == EW__WS_ERROR) {
            evbuffer_drain(in, len);
            const char *why = c->parser.error_reason;
            write_close(c, c->parser.error_code, why, strlen(why));
            c->got_close = true;
            (void) ew_websocket_close(c->ws, 1006, why, strlen(why));
            finish(c);
            return;
        }
        if (rc == EW__WS_AGAIN) {
            evbuffer_drain(in, used);
            break;
        }
        bool more = on_client_event(c, &ev); /* ev points into the parser or the input: drain after */
        evbuffer_drain(in, used);
        if (!more)
            break;
    }
    apply_backpressure(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void) bev;
    process_input(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void) bev;
    ws_conn_t *c = arg;
    if (c->finishing) {
        free_soon(c);
        return;
    }
    if (c->paused && out_len(c) <= LOW_WATER) {
        c->paused = false;
        bufferevent_enable(c->bev, EV_READ);
        process_input(c); /* what arrived while paused */
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void) bev;
    (void) what;
    conn_free(arg); /* EOF, error or write timeout: the Worker sees 1006 unless both closes passed */
}

/* ---------------------------------------------------------------------------------------------------------
 * Handshake
 */

/* True if the comma-separated header value contains `token` (case-insensitive). */
static bool has_token(const char *v, size_t n, const char *token)
{
    size_t tl = strlen(token), i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < n && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tl && strncasecmp(v + start, token, tl) == 0)
            return true;
    }
    return false;
}

static const ew_header_t *find(const ew_header_t *h, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (h[i].name_len == nl && strncasecmp(h[i].name, name, nl) == 0)
            return &h[i];
    return NULL;
}

int srv_ws_check_request(const char *method, const ew_header_t *hdrs, size_t nhdrs, char accept[29],
                         const char **why, bool *not_upgrade)
{
    const ew_header_t *up = find(hdrs, nhdrs, "upgrade"), *conn = find(hdrs, nhdrs, "connection");
    const ew_header_t *key = find(hdrs, nhdrs, "sec-websocket-key");
    const ew_header_t *ver = find(hdrs, nhdrs, "sec-websocket-version");
    *not_upgrade = up == NULL || !has_token(up->value, up->value_len, "websocket");
    if (*not_upgrade) {
        *why = "the request has no \"Upgrade: websocket\" header";
        return 400;
    }
    if (strcmp(method, "GET") != 0) {
        *why = "a WebSocket handshake must be a GET request";
        return 400;
    }
    if (conn == NULL || !has_token(conn->value, conn->value_len, "upgrade")) {
        *why = "the request has no \"Connection: Upgrade\" header";
        return 400;
    }
    if (ver == NULL || ver->value_len != 2 || memcmp(ver->value, "13", 2) != 0) {
        *why = "unsupported Sec-WebSocket-Version (this server speaks 13)";
        return 426;
    }
    if (key == NULL || !ew__ws_accept_key(key->value, key->value_len, accept)) {
        *why = "Sec-WebSocket-Key must be 16 bytes in base64";
        return 400;
    }
    return 0;
}

static bool skip_header(const char *name)
{
    return strcmp(name, "connection") == 0 || strcmp(name, "upgrade") == 0 ||
           strcmp(name, "content-length") == 0 || strcmp(name, "transfer-encoding") == 0 ||
           strcmp(name, "sec-websocket-accept") == 0 || strcmp(name, "keep-alive") == 0;
}

static void write_handshake(struct evbuffer *out, const ew_response_t *resp, const char *accept)
{
    evbuffer_add_printf(out, "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                             "sec-websocket-accept: %s\r\n", accept);
    for (size_t i = 0; i < resp->nheaders; i++) {
        const ew_header_t *h = &resp->headers[i];
        if (skip_header(h->name))
            continue;
        evbuffer_add(out, h->name, h->name_len);
        evbuffer_add(out, ": ", 2);
        evbuffer_add(out, h->value, h->value_len);
        evbuffer_add(out, "\r\n", 2);
    }
    evbuffer_add(out, "\r\n", 2);
}

bool srv_ws_start(srv_ws_group_t *g, struct bufferevent *bev, ew_response_t *resp, const char *accept)
{
    ws_conn_t *c = calloc(1, sizeof(*c));
    struct event *timer = c ? evtimer_new(bufferevent_get_base(bev), on_timer, c) : NULL;
    if (timer == NULL) {
        free(c);
        bufferevent_free(bev);
        ew_response_destroy(resp);
        return false;
    }
    c->g = g;
    c->bev = bev;
    c->timer = timer;
    c->ws = resp->websocket;
    ew_websocket_handler_t h = {on_worker_message, on_worker_close, c};
    (void) ew_websocket_attach(c->ws, &h); /* the response no longer owns it */
    write_handshake(bufferevent_get_output(bev), resp, accept);
    ew_response_destroy(resp);
    ew__ws_parser_init(&c->parser, EW__WS_ROLE_SERVER, g->cfg.max_message);
    c->next = g->conns;
    g->conns = c;
    g->count++;
    uint32_t wms = g->cfg.write_timeout_ms ? g->cfg.write_timeout_ms : 30000;
    struct timeval wr = {(time_t) (wms / 1000), (suseconds_t) ((wms % 1000) * 1000)};
    bufferevent_set_timeouts(bev, NULL, &wr); /* a WebSocket may be idle as long as it likes */
    bufferevent_setwatermark(bev, EV_READ, 0, 0);
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (g->draining) {
        write_close(c, 1001, "server shutting down", 20);
        arm_close_timeout(c);
    }
    process_input(c); /* frames the client sent right behind its request */
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * The group
 */

srv_ws_group_t *srv_ws_group_new(const srv_ws_config_t *cfg, void (*on_empty)(void *arg), void *arg)
{
    srv_ws_group_t *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->cfg = *cfg;
    g->on_empty = on_empty;
    g->empty_arg = arg;
    return g;
}

uint32_t srv_ws_group_count(const srv_ws_group_t *g)
{
    return g->count;
}

void srv_ws_group_drain(srv_ws_group_t *g)
{
    g->draining = true;
    for (ws_conn_t *c = g->conns; c != NULL; c = c->next) {
        if (c->sent_close)
            continue;
        static const char why[] = "server shutting down";
        write_close(c, 1001, why, sizeof(why) - 1);
        if (c->got_close)
            finish(c);
        else
            arm_close_timeout(c);
    }
    if (g->count == 0 && g->on_empty != NULL)
        g->on_empty(g->empty_arg);
}

void srv_ws_group_free(srv_ws_group_t *g)
{
    if (g == NULL)
        return;
    g->on_empty = NULL;
    while (g->conns != NULL)
        conn_free(g->conns);
    free(g);
}
