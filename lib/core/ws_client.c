/*
 * ws_client.c — outbound WebSockets: `new WebSocket("ws://…" or "wss://…")` in a Worker. The script's
 * WebSocket is one end of a pair whose other end is coupled to a host link (websocket.c), exactly as for
 * an end returned in a 101; here the "host" is this file, which owns the network connection:
 *
 *   resolve (evdns) ─> connect ─> TLS (lib/net/tls.c, wss) ─> GET + Upgrade ─> 101 + Sec-WebSocket-Accept
 *   ─> 'open' on the script's end; then frames (lib/net/ws.c, client role: masked) both ways
 *
 * The connection belongs to the runtime (rt->ws_clients) and ends with it. A failure before 'open' gives
 * the script's end a close event 1006 "Failed to establish websocket connection", as in workerd.
 */
#include <errno.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dispatch.h"
#include "net/tls.h"
#include "net/ws.h"

#define HEAD_MAX 8192
#define CONNECT_TIMEOUT_S 10

enum phase { RESOLVING, CONNECTING, TLS_HANDSHAKE, HANDSHAKE, OPEN, DONE };

struct ew__ws_client {
    ew_runtime_t *rt;
    ew_websocket_t *link;          /* owned (attached): the script's peer end */
    enum phase phase;
    char host[256];
    char port[8];
    bool tls;
    struct evdns_base *dns;        /* owned while resolving */
    struct evdns_getaddrinfo_request *lookup;
    int fd;
    ew__tls_config_t *tls_cfg;     /* owned */
    ew__tls_conn_t *tls_conn;      /* owned */
    struct event *rd, *wr, *timer; /* owned */
    struct event *kill;            /* owned: tears the connection down from the loop */
    char accept[29];               /* the Sec-WebSocket-Accept we expect */
    char protocol[128];            /* the Sec-WebSocket-Protocol the server chose, "" = none */
    uint8_t *out;                  /* owned: bytes to send (request, then frames) */
    size_t out_len, out_off, out_cap;
    uint8_t in[16384];
    size_t in_len;                 /* handshake: bytes of the response head so far */
    ew__ws_parser_t parser;
    bool sent_close, got_close;
    ew__ws_client_t *next;         /* in rt->ws_clients */
};

static void client_free(ew__ws_client_t *k)
{
    ew_runtime_t *rt = k->rt;
    for (ew__ws_client_t **pp = &rt->ws_clients; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    }
    if (k->lookup != NULL)
        evdns_getaddrinfo_cancel(k->lookup);
    if (k->dns != NULL)
        evdns_base_free(k->dns, 0);
    struct event *evs[] = {k->rd, k->wr, k->timer, k->kill};
    for (size_t i = 0; i < 4; i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (k->tls_conn != NULL)
        ew__tls_conn_destroy(k->tls_conn);
    if (k->tls_cfg != NULL)
        ew__tls_config_destroy(k->tls_cfg);
    if (k->fd >= 0)
        close(k->fd);
    ew__ws_parser_dispose(&k->parser);
    free(k->out);
    ew_websocket_destroy(k->link); /* the script's end sees 1006 unless the close handshake happened */
    free(k);
}

/* Ends the connection; before 'open' the script's end learns that it never opened. From the loop only. */
static void fail(ew__ws_client_t *k)
{
    if (k->phase != OPEN && k->phase != DONE) {
        static const char why[] = "Failed to establish websocket connection";
        (void) ew_websocket_close(k->link, 1006, why, sizeof(why) - 1);
    }
    client_free(k);
}

static bool out_add(ew__ws_client_t *k, const void *p, size_t n)
{
    if (k->out_len + n > k->out_cap) {
        size_t cap = k->out_cap ? k->out_cap * 2 : 4096;
        while (cap < k->out_len + n)
            cap *= 2;
        uint8_t *o = realloc(k->out, cap);
        if (o == NULL)
            return false;
        k->out = o;
        k->out_cap = cap;
    }
    memcpy(k->out + k->out_len, p, n);
    k->out_len += n;
    return true;
}

static ssize_t io_read(ew__ws_client_t *k, void *buf, size_t len)
{
    if (k->tls_conn != NULL)
        return ew__tls_read(k->tls_conn, buf, len);
    ssize_t n = read(k->fd, buf, len);
    return n >= 0 ? n : (errno == EAGAIN || errno == EINTR) ? EW__TLS_WANT_READ : EW__TLS_ERROR;
}

static ssize_t io_write(ew__ws_client_t *k, const void *buf, size_t len)
{
    if (k->tls_conn != NULL)
        return ew__tls_write(k->tls_conn, buf, len);
    ssize_t n = write(k->fd, buf, len);
    return n >= 0 ? n : (errno == EAGAIN || errno == EINTR) ? EW__TLS_WANT_WRITE : EW__TLS_ERROR;
}

/* Appends one masked frame (client to server). */
static bool out_frame(ew__ws_client_t *k, int opcode, const void *data, size_t len)
{
    uint8_t hdr[14], mask[4];
    if (getrandom(mask, sizeof(mask), 0) != (ssize_t) sizeof(mask))
        return false;
    size_t n = ew__ws_frame_header(hdr, opcode, len, mask);
    size_t at = k->out_len;
    if (!out_add(k, hdr, n) || (len > 0 && !out_add(k, data, len)))
        return false;
    ew__ws_mask(k->out + at + n, len, mask, 0);
    return true;
}

/* Sends what is queued; false when the connection is over. Arms the write event while bytes remain. */
static bool flush_out(ew__ws_client_t *k)
{
    while (k->out_off < k->out_len) {
        ssize_t n = io_write(k, k->out + k->out_off, k->out_len - k->out_off);
        if (n == EW__TLS_ERROR)
            return false;
        if (n < 0) {
            event_add(n == EW__TLS_WANT_READ ? k->rd : k->wr, NULL);
            return true;
        }
        k->out_off += (size_t) n;
    }
    k->out_off = k->out_len = 0;
    if (k->sent_close && k->got_close)
        return false; /* both close frames have passed */
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * The script's end (link handler: called from the loop)
 */

static void on_link_message(void *udata, int is_text, const void *data, size_t len)
{
    ew__ws_client_t *k = udata;
    if (k->sent_close || k->phase != OPEN)
        return;
    if (!out_frame(k, is_text ? EW__WS_OP_TEXT : EW__WS_OP_BINARY, data, len) || !flush_out(k))
        event_active(k->kill, EV_TIMEOUT, 1); /* torn down from the loop, not from this callback */
}

static void on_link_close(void *udata, int code, const char *reason, size_t len)
{
    ew__ws_client_t *k = udata;
    if (k->phase != OPEN || k->sent_close) {
        event_active(k->kill, EV_TIMEOUT, 1);
        return;
    }
    uint8_t payload[125];
    size_t n = 0;
    if (code != 1005 && code != 1006) {
        payload[0] = (uint8_t) (code >> 8);
        payload[1] = (uint8_t) code;
        n = 2 + (len > 123 ? 123 : len);
        memcpy(payload + 2, reason, n - 2);
    }
    k->sent_close = true;
    if (!out_frame(k, EW__WS_OP_CLOSE, payload, n) || !flush_out(k))
        event_active(k->kill, EV_TIMEOUT, 1);
    else if (!k->got_close) {
        struct timeval tv = {5, 0}; /* the server has this long to answer */
        event_add(k->timer, &tv);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The connection
 */

/* Frames from the server; false when the connection is over. */
static bool read_frames(ew__ws_client_t *k)
{
    for (;;) {
        ssize_t n = io_read(k, k->in, sizeof(k->in));
        if (n == EW__TLS_WANT_READ || n == EW__TLS_WANT_WRITE) {
            event_add(n == EW__TLS_WANT_READ ? k->rd : k->wr, NULL);
            return true;
        }
        if (n <= 0)
            return false; /* EOF or error: the script's end gets 1006 unless closes were exchanged */
        size_t pos = 0;
        while (pos < (size_t) n && !k->got_close) {
            size_t used;
            ew__ws_event_t ev;
            int rc = ew__ws_parse(&k->parser, k->in + pos, (size_t) n - pos, &used, &ev);
            pos += used;
            if (rc == EW__WS_ERROR) {
                const char *why = k->parser.error_reason;
                (void) ew_websocket_close(k->link, 1006, why, strlen(why));
                return false;
            }
            if (rc == EW__WS_AGAIN)
                break;
            if (ev.type == EW__WS_EV_MESSAGE) {
                (void) ew_websocket_send(k->link, ev.opcode == EW__WS_OP_TEXT, ev.data, ev.len);
            } else if (ev.type == EW__WS_EV_PING && !k->sent_close) {
                if (!out_frame(k, EW__WS_OP_PONG, ev.data, ev.len))
                    return false;
            } else if (ev.type == EW__WS_EV_CLOSE) {
                k->got_close = true;
                (void) ew_websocket_close(k->link, ev.close_code, (const char *) ev.data, ev.len);
            }
        }
        if (!flush_out(k))
            return false;
        if (k->got_close)
            return true; /* the script's answer (or the automatic one) comes through on_link_close */
    }
}

/* Checks the 101 in k->in (head complete at head_len); on success the rest are frames. */
static bool check_response(ew__ws_client_t *k, size_t head_len)
{
    k->in[head_len - 1] = '\0';
    char *line = (char *) k->in, *end = strstr(line, "\r\n");
    if (end == NULL || strncmp(line, "HTTP/1.1 101", 12) != 0)
        return false;
    bool accepted = false;
    for (char *h = end + 2; *h != '\0' && *h != '\r'; h = end + 2) {
        end = strstr(h, "\r\n");
        if (end == NULL)
            break;
        *end = '\0';
        if (strncasecmp(h, "sec-websocket-accept:", 21) == 0) {
            char *v = h + 21;
            while (*v == ' ' || *v == '\t')
                v++;
            accepted = strncmp(v, k->accept, 28) == 0 && (v[28] == '\0' || v[28] == ' ');
        } else if (strncasecmp(h, "sec-websocket-protocol:", 23) == 0) {
            char *v = h + 23;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t n = strcspn(v, " \t");
            snprintf(k->protocol, sizeof(k->protocol), "%.*s", (int) n, v);
        }
    }
    return accepted;
}

static bool read_handshake(ew__ws_client_t *k)
{
    for (;;) {
        if (k->in_len >= HEAD_MAX || k->in_len >= sizeof(k->in))
            return false;
        ssize_t n = io_read(k, k->in + k->in_len, 1); /* byte by byte: frames may follow the head */
        if (n == EW__TLS_WANT_READ || n == EW__TLS_WANT_WRITE) {
            event_add(n == EW__TLS_WANT_READ ? k->rd : k->wr, NULL);
            return true;
        }
        if (n <= 0)
            return false;
        k->in_len++;
        if (k->in_len >= 4 && memcmp(k->in + k->in_len - 4, "\r\n\r\n", 4) == 0) {
            if (!check_response(k, k->in_len))
                return false;
            k->phase = OPEN;
            event_del(k->timer);
            ew__ws_host_open(k->link, k->protocol);
            return read_frames(k);
        }
    }
}

static void step(ew__ws_client_t *k)
{
    bool ok = true;
    if (k->phase == TLS_HANDSHAKE) {
        int rc = ew__tls_handshake(k->tls_conn);
        if (rc == EW__TLS_WANT_READ || rc == EW__TLS_WANT_WRITE) {
            event_add(rc == EW__TLS_WANT_READ ? k->rd : k->wr, NULL);
            return;
        }
        ok = rc == 0;
        if (ok)
            k->phase = HANDSHAKE;
    }
    if (ok && k->phase == HANDSHAKE)
        ok = flush_out(k) && (k->out_len > 0 || read_handshake(k));
    else if (ok && k->phase == OPEN)
        ok = flush_out(k) && read_frames(k);
    if (!ok)
        fail(k);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    ew__ws_client_t *k = arg;
    if (k->phase == CONNECTING && (what & EV_WRITE)) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            fail(k);
            return;
        }
        k->phase = k->tls ? TLS_HANDSHAKE : HANDSHAKE;
        if (k->tls) {
            char msg[256];
            static const char *const alpn[] = {"http/1.1", NULL};
            k->tls_cfg = ew__tls_config_client(k->rt->cfg.ca_file, alpn, msg, sizeof(msg));
            k->tls_conn = k->tls_cfg ? ew__tls_conn_client(k->tls_cfg, k->fd, k->host) : NULL;
            if (k->tls_conn == NULL) {
                fail(k);
                return;
            }
        }
    }
    step(k);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    fail(arg); /* connect/handshake took too long, the close went unanswered, or a callback asked */
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    ew__ws_client_t *k = arg;
    k->lookup = NULL;
    if (result == EVUTIL_EAI_CANCEL)
        return;
    int fd = -1;
    for (struct evutil_addrinfo *a = result == 0 ? res : NULL; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            close(fd);
            fd = -1;
        }
    }
    if (res != NULL)
        evutil_freeaddrinfo(res);
    if (fd < 0) {
        fail(k);
        return;
    }
    k->fd = fd;
    k->phase = CONNECTING;
    k->rd = event_new(k->rt->base, fd, EV_READ, on_io, k);
    k->wr = event_new(k->rt->base, fd, EV_WRITE, on_io, k);
    if (k->rd == NULL || k->wr == NULL) {
        fail(k);
        return;
    }
    event_add(k->wr, NULL);
}

static void on_start(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__ws_client_t *k = arg;
    /* Re-armed as the overall connect timeout; from here on it means "took too long". */
    event_assign(k->timer, k->rt->base, -1, 0, on_timer, k);
    struct timeval tv = {CONNECT_TIMEOUT_S, 0};
    event_add(k->timer, &tv);
    k->dns = evdns_base_new(k->rt->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (k->dns == NULL && (k->dns = evdns_base_new(k->rt->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE)) != NULL)
        (void) evdns_base_load_hosts(k->dns, NULL);
    if (k->dns == NULL) {
        fail(k);
        return;
    }
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    k->lookup = evdns_getaddrinfo(k->dns, k->host, k->port, &hints, on_resolved, k);
}

bool ew__ws_client_start(ew_runtime_t *rt, ew_websocket_t *link, const char *host, int port, bool tls,
                         const char *target, const char *protocols, const char *extra)
{
    ew__ws_client_t *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return false;
    k->rt = rt;
    k->link = link;
    k->fd = -1;
    k->tls = tls;
    ew__ws_parser_init(&k->parser, EW__WS_ROLE_CLIENT, 0);
    /* A bracketed IPv6 literal is resolved without its brackets. */
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']')
        snprintf(k->host, sizeof(k->host), "%.*s", (int) (hl - 2), host + 1);
    else
        snprintf(k->host, sizeof(k->host), "%s", host);
    snprintf(k->port, sizeof(k->port), "%d", port);
    uint8_t raw[16];
    char key[25];
    size_t klen = 0;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    bool ok = getrandom(raw, sizeof(raw), 0) == (ssize_t) sizeof(raw);
    for (size_t i = 0; ok && i < 16; i += 3) {
        uint32_t v = (uint32_t) raw[i] << 16 | (i + 1 < 16 ? (uint32_t) raw[i + 1] << 8 : 0) | (i + 2 < 16 ? raw[i + 2] : 0);
        key[klen++] = b64[v >> 18];
        key[klen++] = b64[(v >> 12) & 63];
        key[klen++] = i + 1 < 16 ? b64[(v >> 6) & 63] : '=';
        key[klen++] = i + 2 < 16 ? b64[v & 63] : '=';
    }
    key[klen] = '\0';
    ok = ok && ew__ws_accept_key(key, klen, k->accept);
    char head[2048];
    int n = snprintf(head, sizeof(head),
                     "GET %s HTTP/1.1\r\nHost: %s%s%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s%s%s",
                     target, host, (tls ? port == 443 : port == 80) ? "" : ":", (tls ? port == 443 : port == 80) ? "" : k->port,
                     key, protocols[0] ? "Sec-WebSocket-Protocol: " : "", protocols, protocols[0] ? "\r\n" : "");
    ok = ok && n > 0 && (size_t) n < sizeof(head) && out_add(k, head, (size_t) n) &&
         out_add(k, extra, strlen(extra)) && out_add(k, "\r\n", 2);
    k->timer = ok ? event_new(rt->base, -1, 0, on_start, k) : NULL;
    k->kill = ok ? event_new(rt->base, -1, 0, on_timer, k) : NULL;
    ew_websocket_handler_t h = {on_link_message, on_link_close, k};
    if (k->timer == NULL || k->kill == NULL || ew_websocket_attach(link, &h) != EW_OK) {
        ew__ws_parser_dispose(&k->parser);
        if (k->timer != NULL)
            event_free(k->timer);
        if (k->kill != NULL)
            event_free(k->kill);
        free(k->out);
        free(k);
        return false;
    }
    k->next = rt->ws_clients;
    rt->ws_clients = k;
    event_active(k->timer, EV_TIMEOUT, 1); /* starts from the loop, not from inside the script */
    return true;
}

void ew__ws_clients_destroy(ew_runtime_t *rt)
{
    while (rt->ws_clients != NULL) {
        ew__ws_client_t *k = rt->ws_clients;
        if (k->phase == OPEN && !k->sent_close) { /* best effort: tell the server we are going away */
            static const uint8_t going_away[] = {0x03, 0xE9};
            k->sent_close = true;
            if (out_frame(k, EW__WS_OP_CLOSE, going_away, sizeof(going_away)))
                (void) flush_out(k);
        }
        client_free(k);
    }
}
