/*
 * client.c — the outbound HTTP client of fetch(): requests, connections and HTTP/1.1 (lib/net/client.h
 * has the contract and the diagram; HTTP/2 connections, when ALPN picks h2, are client_h2.c's).
 *
 * Objects: the client (per runtime) owns an evdns base, a TLS client config, the idle pool, the HTTP/2
 * connections and the list of requests in flight. A request owns its serialized bytes, its DNS lookup and, while it runs, one
 * connection. A connection owns its socket, its TLS state, its response parser and its input buffer; it is
 * either attached to one request or idle in the pool (then a read event watches for the server closing
 * it, and a timer for the idle timeout).
 *
 * Re-entrancy: callbacks to the owner are made with r->in_callback set; a cancel from inside only marks the
 * request, and the code that made the callback frees it (and its connection) when the callback returns.
 * Failures found while starting are delivered from a deferred event, so the owner never sees a callback
 * from inside ew__net_request_start.
 *
 * A request sent on a pooled connection that the server closes before any response byte arrives (the
 * keep-alive race) is sent once more on a new connection. A paused request (back-pressure) leaves its bytes
 * in the connection's buffer and stops reading the socket until it is resumed.
 */
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>


#include "client_internal.h"

#define DEFAULT_MAX_IDLE_PER_ORIGIN 32
#define DEFAULT_MAX_IDLE 256
#define DEFAULT_IDLE_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define READ_CHUNK 65536
#define READ_BUDGET (256 * 1024) /* bytes read per readiness event before yielding to the loop */

/* ALPN for the fetch client: HTTP/2 when the server speaks it, else HTTP/1.1. */
static const char *const client_alpn[] = {"h2", "http/1.1", NULL};

static void conn_attach(conn_t *k, ew__net_req_t *r);
static void conn_on_read(evutil_socket_t fd, short what, void *arg);
static void conn_on_write(evutil_socket_t fd, short what, void *arg);
static void conn_on_timer(evutil_socket_t fd, short what, void *arg);
static void req_connect_next(ew__net_req_t *r);
static void req_resolve(ew__net_req_t *r);

/* ---------------------------------------------------------------------------------------------------------
 * Connection overrides (connect_to): "HOST1:PORT1:HOST2:PORT2", comma-separated. Hosts may be bracketed
 * IPv6 literals; ports are 1-65535.
 */

struct connect_rule {
    char *from_host, *to_host;    /* owned; IPv6 without brackets */
    uint16_t from_port, to_port;
};

/* Reads one "HOST:PORT" field at *p (up to ':' / ',' / end); advances *p past it. */
static bool rule_part(const char **p, const char *end, char *host, size_t cap, uint16_t *port)
{
    const char *s = *p, *h_end;
    if (s < end && *s == '[') {
        h_end = memchr(s, ']', (size_t) (end - s));
        if (h_end == NULL || h_end + 1 >= end || h_end[1] != ':')
            return false;
        s++;
    } else {
        h_end = memchr(s, ':', (size_t) (end - s));
        if (h_end == NULL)
            return false;
    }
    size_t hl = (size_t) (h_end - s);
    if (hl == 0 || hl >= cap)
        return false;
    memcpy(host, s, hl);
    host[hl] = '\0';
    const char *q = h_end + (*h_end == ']' ? 2 : 1);
    unsigned long v = 0;
    const char *d = q;
    while (q < end && *q >= '0' && *q <= '9' && v <= 65535)
        v = v * 10 + (unsigned long) (*q++ - '0');
    if (q == d || v == 0 || v > 65535 || (q < end && *q != ':'))
        return false;
    *port = (uint16_t) v;
    *p = q < end ? q + 1 : q;
    return true;
}

/* Parses the list into rules (out may be NULL: check only). */
static bool rules_parse(const char *spec, struct connect_rule **out, size_t *n, char *why, size_t why_len)
{
    size_t count = 0;
    for (const char *p = spec; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        char h1[256], h2[256];
        uint16_t p1, p2;
        const char *q = p;
        if (!rule_part(&q, end, h1, sizeof(h1), &p1) || !rule_part(&q, end, h2, sizeof(h2), &p2) || q != end) {
            if (why != NULL)
                snprintf(why, why_len, "connect_to rule \"%.*s\" is not HOST1:PORT1:HOST2:PORT2", (int) (end - p), p);
            return false;
        }
        if (out != NULL) {
            struct connect_rule *r = &(*out)[count];
            r->from_host = strdup(h1);
            r->to_host = strdup(h2);
            r->from_port = p1;
            r->to_port = p2;
            if (r->from_host == NULL || r->to_host == NULL) {
                free(r->from_host);
                free(r->to_host);
                return false;
            }
        }
        count++;
        p = comma ? comma + 1 : end;
    }
    *n = count;
    return true;
}

bool ew__net_connect_to_valid(const char *spec, char *why, size_t why_len)
{
    size_t n;
    return spec == NULL || rules_parse(spec, NULL, &n, why, why_len);
}

/* ---------------------------------------------------------------------------------------------------------
 * Client
 */

ew__net_client_t *ew__net_client_create(struct event_base *base, const ew__net_client_config_t *cfg)
{
    ew__net_client_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->base = base;
    if (cfg != NULL)
        c->cfg = *cfg;
    if (c->cfg.ca_file != NULL && (c->ca_file = strdup(c->cfg.ca_file)) == NULL) {
        free(c);
        return NULL;
    }
    c->cfg.ca_file = c->ca_file;
    if (c->cfg.connect_to != NULL) {
        size_t n = 1;
        for (const char *s = c->cfg.connect_to; *s != '\0'; s++)
            n += *s == ',';
        c->rules = calloc(n, sizeof(*c->rules));
        if (c->rules == NULL || !rules_parse(c->cfg.connect_to, &c->rules, &c->nrules, NULL, 0)) {
            ew__net_client_destroy(c);
            return NULL;
        }
    }
    c->cfg.connect_to = NULL; /* the rules hold what is needed */
    if (c->cfg.max_idle_per_origin == 0)
        c->cfg.max_idle_per_origin = DEFAULT_MAX_IDLE_PER_ORIGIN;
    if (c->cfg.max_idle == 0)
        c->cfg.max_idle = DEFAULT_MAX_IDLE;
    if (c->cfg.idle_timeout_ms == 0)
        c->cfg.idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS;
    if (c->cfg.connect_timeout_ms == 0)
        c->cfg.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    return c;
}

void ew__net_client_destroy(ew__net_client_t *c)
{
    if (c == NULL)
        return;
    while (c->reqs != NULL)
        ew__net_req_free(c->reqs);
    while (c->idle != NULL)
        ew__net_conn_close(c->idle);
    while (c->h2conns != NULL)
        ew__net_conn_close(c->h2conns);
    if (c->dns != NULL)
        evdns_base_free(c->dns, 0);
    ew__tls_config_destroy(c->tls);
    free(c->ca_file);
    for (size_t i = 0; i < c->nrules; i++) {
        free(c->rules[i].from_host);
        free(c->rules[i].to_host);
    }
    free(c->rules);
    free(c);
}

uint32_t ew__net_client_idle_count(const ew__net_client_t *c)
{
    return c->nidle;
}

struct timeval ew__net_ms_tv(uint32_t ms)
{
    struct timeval tv = {(time_t) (ms / 1000), (suseconds_t) ((ms % 1000) * 1000)};
    return tv;
}

/* ---------------------------------------------------------------------------------------------------------
 * Requests: building, callbacks, freeing
 */

static bool out_append(ew__net_req_t *r, size_t *cap, const void *p, size_t n)
{
    if (r->out_len + n + 1 > *cap) {
        size_t want = (*cap ? *cap : 512);
        while (want < r->out_len + n + 1)
            want *= 2;
        char *grown = realloc(r->out, want);
        if (grown == NULL)
            return false;
        r->out = grown;
        *cap = want;
    }
    memcpy(r->out + r->out_len, p, n);
    r->out_len += n;
    return true;
}

#define OUT_LIT(r, cap, s) out_append((r), (cap), (s), sizeof(s) - 1)
#define OUT_STR(r, cap, s) out_append((r), (cap), (s), strlen(s))

static bool header_is_ours(const ew_header_t *h)
{
    static const char *const ours[] = {"host", "content-length", "connection", "keep-alive", "transfer-encoding",
                                       "te", "upgrade", "proxy-connection"};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (h->name_len == strlen(ours[i]) && strncasecmp(h->name, ours[i], h->name_len) == 0)
            return true;
    return false;
}

/* Keeps the request's parts for HTTP/2: authority, target, and the headers (lower-cased names, one blob). */
static bool keep_parts(ew__net_req_t *r, const ew__net_request_t *q)
{
    char port[8] = "";
    if (q->port != (q->https ? 443 : 80))
        snprintf(port, sizeof(port), ":%u", (unsigned) q->port);
    size_t alen = strlen(q->host) + strlen(port) + 1;
    r->authority = malloc(alen);
    r->target = strdup(q->target);
    size_t blob = 0;
    for (size_t i = 0; i < q->nheaders; i++)
        blob += q->headers[i].name_len + q->headers[i].value_len + 2;
    r->hblob = malloc(blob ? blob : 1);
    r->headers = calloc(q->nheaders ? q->nheaders : 1, sizeof(*r->headers));
    if (r->authority == NULL || r->target == NULL || r->hblob == NULL || r->headers == NULL)
        return false;
    snprintf(r->authority, alen, "%s%s", q->host, port);
    char *p = r->hblob;
    for (size_t i = 0; i < q->nheaders; i++) {
        const ew_header_t *h = &q->headers[i];
        ew_header_t *d = &r->headers[r->nheaders++];
        for (size_t j = 0; j < h->name_len; j++)
            p[j] = (h->name[j] >= 'A' && h->name[j] <= 'Z') ? (char) (h->name[j] + 32) : h->name[j];
        p[h->name_len] = '\0';
        d->name = p;
        d->name_len = h->name_len;
        p += h->name_len + 1;
        if (h->value_len > 0)
            memcpy(p, h->value, h->value_len);
        p[h->value_len] = '\0';
        d->value = p;
        d->value_len = h->value_len;
        p += h->value_len + 1;
    }
    return true;
}

/* Serializes the request line, the headers and the body into r->out. */
static bool serialize(ew__net_req_t *r, const ew__net_request_t *q)
{
    size_t cap = 0;
    char num[32];
    bool ok = OUT_STR(r, &cap, q->method) && OUT_LIT(r, &cap, " ") && OUT_STR(r, &cap, q->target) &&
              OUT_LIT(r, &cap, " HTTP/1.1\r\nHost: ") && OUT_STR(r, &cap, q->host);
    bool default_port = q->port == (q->https ? 443 : 80);
    if (ok && !default_port) {
        snprintf(num, sizeof(num), ":%u", (unsigned) q->port);
        ok = OUT_STR(r, &cap, num);
    }
    ok = ok && OUT_LIT(r, &cap, "\r\n");
    for (size_t i = 0; ok && i < q->nheaders; i++) {
        const ew_header_t *h = &q->headers[i];
        if (header_is_ours(h))
            continue;
        ok = out_append(r, &cap, h->name, h->name_len) && OUT_LIT(r, &cap, ": ") &&
             out_append(r, &cap, h->value, h->value_len) && OUT_LIT(r, &cap, "\r\n");
    }
    /* A body, even empty, is announced; so is the empty body of POST/PUT without one (RFC 9110 8.6). */
    bool wants_length = q->body != NULL || strcmp(q->method, "POST") == 0 || strcmp(q->method, "PUT") == 0 ||
                        strcmp(q->method, "PATCH") == 0;
    if (ok && wants_length) {
        snprintf(num, sizeof(num), "Content-Length: %zu\r\n", q->body != NULL ? q->body_len : 0);
        ok = OUT_STR(r, &cap, num);
    }
    ok = ok && OUT_LIT(r, &cap, "\r\n");
    r->body_off = r->out_len;
    r->body_len = q->body != NULL ? q->body_len : 0;
    r->has_body = q->body != NULL;
    if (ok && q->body != NULL && q->body_len > 0)
        ok = out_append(r, &cap, q->body, q->body_len);
    return ok;
}

static void req_unlink(ew__net_req_t *r)
{
    ew__net_client_t *c = r->client;
    if (r->prev != NULL)
        r->prev->next = r->next;
    else if (c->reqs == r)
        c->reqs = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

/* Frees the request; its connection, if any, is closed (a response cut short cannot be reused). */
void ew__net_req_free(ew__net_req_t *r)
{
    req_unlink(r);
    if (r->dns != NULL) {
        struct evdns_getaddrinfo_request *d = r->dns;
        r->dns = NULL;
        evdns_getaddrinfo_cancel(d); /* calls on_resolved with EVUTIL_EAI_CANCEL, which ignores it */
    }
    if (r->conn != NULL && r->conn->h2) {
        ew__net_h2_detach(r);
    } else if (r->conn != NULL) {
        conn_t *k = r->conn;
        k->req = NULL;
        r->conn = NULL;
        ew__net_conn_close(k);
    }
    if (r->addrs != NULL)
        evutil_freeaddrinfo(r->addrs);
    if (r->ev != NULL)
        event_free(r->ev);
    for (size_t i = 0; i < r->nrh; i++) {
        free(r->rh[i].name);
        free(r->rh[i].value);
    }
    free(r->rh);
    free(r->authority);
    free(r->target);
    free(r->headers);
    free(r->hblob);
    free(r->method);
    free(r->host);
    free(r->key);
    free(r->out);
    ew__net_splice_dispose(r);
    free(r);
}

void ew__net_request_pause(ew__net_req_t *r, bool paused)
{
    if (r->paused == paused)
        return;
    r->paused = paused;
    conn_t *k = r->conn;
    if (k == NULL || k->connecting || k->handshaking)
        return;
    if (k->h2) {
        ew__net_h2_pause(r, paused);
    } else if (!paused) {
        event_add(k->rev, NULL);
        event_active(k->rev, EV_READ, 1); /* parse what is buffered, then read on */
    }
}

void ew__net_request_cancel(ew__net_req_t *r)
{
    if (r == NULL)
        return;
    if (r->in_callback) {
        r->cancelled = true; /* freed by whoever made the callback, when it returns */
        return;
    }
    ew__net_req_free(r);
}

/* Delivers on_done and frees the request. The connection must already be detached (or is closed here). */
void ew__net_req_finish(ew__net_req_t *r, ew__net_error_t err, const char *message)
{
    if (!r->cancelled) {
        r->in_callback = true;
        r->h.on_done(r->udata, err, message);
        r->in_callback = false;
    }
    ew__net_req_free(r);
}

static void on_deferred_fail(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__net_req_t *r = arg;
    ew__net_req_finish(r, r->err, r->msg);
}

/* Fails the request from the loop (never from inside the caller's stack): closes what it holds now. */
void ew__net_req_fail(ew__net_req_t *r, ew__net_error_t err, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    r->err = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
    va_end(ap);
    if (r->conn != NULL && r->conn->h2) {
        ew__net_h2_detach(r);
    } else if (r->conn != NULL) {
        conn_t *k = r->conn;
        k->req = NULL;
        r->conn = NULL;
        ew__net_conn_close(k);
    }
    event_del(r->ev);
    event_assign(r->ev, r->client->base, -1, 0, on_deferred_fail, r);
    event_active(r->ev, EV_TIMEOUT, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Connections
 */

void ew__net_conn_close(conn_t *k)
{
    ew__net_client_t *c = k->client;
    if (k->h2) {
        for (conn_t **pp = &c->h2conns; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == k) {
                *pp = k->next;
                break;
            }
        }
        ew__net_h2_dispose(k);
    } else if (k->req == NULL) { /* idle: unlink from the pool */
        for (conn_t **pp = &c->idle; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == k) {
                *pp = k->next;
                c->nidle--;
                break;
            }
        }
    }
    if (k->tls != NULL) {
        if (!k->connecting && !k->handshaking)
            ew__tls_close_notify(k->tls);
        ew__tls_conn_destroy(k->tls);
    }
    if (k->rev != NULL)
        event_free(k->rev);
    if (k->wev != NULL)
        event_free(k->wev);
    if (k->timer != NULL)
        event_free(k->timer);
    if (k->fd >= 0)
        close(k->fd);
    ew__h1_parser_dispose(&k->parser);
    free(k->in);
    free(k->key);
    free(k);
}

/* Makes a connection object for a socket being connected to one of r's addresses. */
static conn_t *conn_new(ew__net_req_t *r, int fd)
{
    conn_t *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    k->client = r->client;
    k->fd = fd;
    /* Response limits: the body is bounded by the caller (fetch caps what it buffers). */
    ew__h1_config_t hc = {.max_head_bytes = 256 * 1024, .max_headers = 1000, .max_body_bytes = UINT64_MAX};
    if (ew__h1_parser_init(&k->parser, EW__H1_RESPONSE, &hc) != 0) {
        free(k);
        return NULL;
    }
    k->key = strdup(r->key);
    k->rev = event_new(r->client->base, fd, EV_READ | EV_PERSIST, conn_on_read, k);
    k->wev = event_new(r->client->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, k);
    k->timer = evtimer_new(r->client->base, conn_on_timer, k);
    if (k->key == NULL || k->rev == NULL || k->wev == NULL || k->timer == NULL) {
        k->fd = -1; /* the caller closes fd */
        ew__net_conn_close(k);
        return NULL;
    }
    return k;
}

/* Detaches the connection from its request and puts it in the pool, or closes it over the limits. */
static void conn_release(conn_t *k)
{
    ew__net_client_t *c = k->client;
    k->req = NULL;
    uint32_t same = 0;
    for (conn_t *o = c->idle; o != NULL; o = o->next)
        if (strcmp(o->key, k->key) == 0)
            same++;
    if (same >= c->cfg.max_idle_per_origin || c->nidle >= c->cfg.max_idle || k->in_len > k->in_off) {
        ew__net_conn_close(k);
        return;
    }
    event_del(k->wev);
    struct timeval tv = ew__net_ms_tv(c->cfg.idle_timeout_ms);
    evtimer_add(k->timer, &tv);
    k->in_off = k->in_len = 0;
    k->next = c->idle;
    c->idle = k;
    c->nidle++;
}

/* Takes a pooled connection for the request's origin, or NULL. */
static conn_t *pool_take(ew__net_client_t *c, const char *key)
{
    for (conn_t **pp = &c->idle; *pp != NULL; pp = &(*pp)->next) {
        conn_t *k = *pp;
        if (strcmp(k->key, key) == 0) {
            *pp = k->next;
            k->next = NULL;
            c->nidle--;
            evtimer_del(k->timer);
            return k;
        }
    }
    return NULL;
}

ssize_t ew__net_conn_read(conn_t *k, char *buf, size_t cap)
{
    if (k->tls != NULL) {
        ssize_t n = ew__tls_read(k->tls, buf, cap);
        k->tls_wants_write = n == EW__TLS_WANT_WRITE;
        if (n == EW__TLS_WANT_WRITE)
            event_add(k->wev, NULL);
        if (n == EW__TLS_WANT_READ || n == EW__TLS_WANT_WRITE)
            return -1;
        return n == EW__TLS_ERROR ? -2 : n;
    }
    ssize_t n = recv(k->fd, buf, cap, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
    return n;
}

ssize_t ew__net_conn_write(conn_t *k, const char *buf, size_t len)
{
    ssize_t w;
    if (k->tls != NULL) {
        w = ew__tls_write(k->tls, buf, len);
        if (w == EW__TLS_WANT_WRITE || w == EW__TLS_WANT_READ)
            w = -1;
        else if (w < 0)
            w = -2;
    } else {
        w = send(k->fd, buf, len, MSG_NOSIGNAL);
        if (w < 0)
            w = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? -1 : -2;
    }
    if (w == -1)
        event_add(k->wev, NULL);
    return w;
}

/* Writes what is left of the request; waits for writability when the socket is full. */
static void conn_flush(conn_t *k)
{
    ew__net_req_t *r = k->req;
    while (r->out_off < r->out_len) {
        ssize_t w = ew__net_conn_write(k, r->out + r->out_off, r->out_len - r->out_off);
        if (w == -1)
            return;
        if (w < 0) {
            /* The server may have answered and closed (e.g. 413 before the whole body): read that. */
            event_del(k->wev);
            r->out_off = r->out_len;
            return;
        }
        r->out_off += (size_t) w;
    }
    if (!k->tls_wants_write)
        event_del(k->wev);
}

/* The request is ready to go on this connected (and, for https, handshaken) connection. */
static void conn_attach(conn_t *k, ew__net_req_t *r)
{
    k->req = r;
    r->conn = k;
    r->out_off = 0;
    ew__h1_parser_set_request(&k->parser, r->method, strlen(r->method));
    event_add(k->rev, NULL);
    conn_flush(k);
}

/* The connection ended before the response did: retry once if it was a pooled one that never answered. */
static void conn_lost(conn_t *k)
{
    ew__net_req_t *r = k->req;
    if (r->reused && !r->got_bytes && !r->retried) {
        k->req = NULL;
        r->conn = NULL;
        ew__net_conn_close(k);
        r->retried = true;
        r->reused = false;
        if (r->addrs == NULL) {
            req_resolve(r); /* the pooled connection spared the lookup; do it now */
            return;
        }
        r->next_addr = r->addrs;
        req_connect_next(r);
        return;
    }
    ew__net_req_fail(r, EW__NET_ERR_LOST, "Network connection lost.");
}

bool ew__net_deliver_head(ew__net_req_t *r, int status, const char *reason, size_t reason_len,
                          const ew__h1_header_t *headers, size_t n)
{
    r->in_callback = true;
    r->h.on_head(r->udata, status, reason, reason_len, headers, n);
    r->in_callback = false;
    if (r->cancelled) {
        ew__net_req_free(r);
        return false;
    }
    return true;
}

bool ew__net_deliver_body(ew__net_req_t *r, const char *p, size_t n)
{
    r->in_callback = true;
    r->h.on_body(r->udata, p, n);
    r->in_callback = false;
    if (r->cancelled) {
        ew__net_req_free(r);
        return false;
    }
    return true;
}

/* Runs the parser over the buffered bytes. Returns false when the connection is gone. */
static bool conn_parse(conn_t *k)
{
    for (;;) {
        ew__net_req_t *r = k->req;
        size_t used = 0;
        ew__h1_slice_t body;
        int ev = ew__h1_parse(&k->parser, k->in != NULL ? k->in + k->in_off : NULL, k->in_len - k->in_off, &used,
                              &body);
        switch (ev) {
        case EW__H1_AGAIN:
            k->in_off += used;
            return true;
        case EW__H1_HEAD:
            if (k->parser.msg.status == 101) {
                ew__net_req_fail(r, EW__NET_ERR_PROTOCOL, "The server switched protocols, which this request did not ask for.");
                return false;
            }
            if (k->parser.msg.status >= 200 &&
                !ew__net_deliver_head(r, k->parser.msg.status, k->parser.msg.reason.ptr, k->parser.msg.reason.len,
                                      k->parser.msg.headers, k->parser.msg.nheaders))
                return false;
            break;
        case EW__H1_BODY:
            if (!ew__net_deliver_body(r, body.ptr, body.len))
                return false;
            if (r->paused) { /* keep the rest buffered; ew__net_request_pause(r, false) comes back here */
                k->in_off += used;
                event_del(k->rev);
                return false;
            }
            break;
        case EW__H1_DONE:
            k->in_off += used;
            if (k->parser.msg.status < 200)
                continue; /* 1xx interim response: the final one follows */
            {
                bool keep = k->parser.msg.keep_alive && !r->failed;
                r->conn = NULL;
                if (keep)
                    conn_release(k);
                else {
                    k->req = NULL;
                    ew__net_conn_close(k);
                }
                ew__net_req_finish(r, EW__NET_OK, "");
            }
            return false;
        default: /* EW__H1_ERROR */
            ew__net_req_fail(r, EW__NET_ERR_PROTOCOL, "The server sent an invalid HTTP response (%s).",
                     k->parser.error_reason ? k->parser.error_reason : "malformed");
            return false;
        }
        k->in_off += used;
    }
}

bool ew__net_conn_parse(conn_t *k)
{
    return conn_parse(k);
}

/* Reads what the socket has (up to a budget) and parses it; bytes held while paused are parsed first. */
static void conn_read_active(conn_t *k)
{
    if (k->req->paused)
        return;
    if (!conn_parse(k)) /* what was held while paused; also an event the parser owes without input (DONE) */
        return;
    size_t budget = READ_BUDGET;
    while (budget > 0) {
        if (k->in_off == k->in_len)
            k->in_off = k->in_len = 0;
        else if (k->in_off > 0 && k->in_cap - k->in_len < READ_CHUNK) {
            memmove(k->in, k->in + k->in_off, k->in_len - k->in_off);
            k->in_len -= k->in_off;
            k->in_off = 0;
        }
        if (k->in_cap - k->in_len < READ_CHUNK) {
            size_t want = k->in_cap ? k->in_cap * 2 : READ_CHUNK * 2;
            char *grown = realloc(k->in, want);
            if (grown == NULL) {
                ew__net_req_fail(k->req, EW__NET_ERR_NOMEM, "Out of memory reading the response.");
                return;
            }
            k->in = grown;
            k->in_cap = want;
        }
        ssize_t n = ew__net_conn_read(k, k->in + k->in_len, k->in_cap - k->in_len);
        if (n == -1)
            return;
        if (n < 0) {
            conn_lost(k);
            return;
        }
        if (n == 0) { /* EOF: ends a close-delimited body, or cuts the response short */
            ew__net_req_t *r = k->req;
            int fin = r->got_bytes ? ew__h1_finish(&k->parser) : EW__H1_AGAIN;
            if (fin == EW__H1_DONE && k->parser.msg.status >= 200) {
                r->conn = NULL;
                k->req = NULL;
                ew__net_conn_close(k);
                ew__net_req_finish(r, EW__NET_OK, "");
            } else {
                conn_lost(k);
            }
            return;
        }
        k->req->got_bytes = true;
        k->in_len += (size_t) n;
        budget = (size_t) n >= budget ? 0 : budget - (size_t) n;
        if (!conn_parse(k))
            return;
    }
    /* Budget used up: come back from the loop (TLS may hold decrypted bytes no readiness would signal). */
    event_active(k->rev, EV_READ, 1);
}

/* The TLS handshake advanced; on completion the request goes out. */
static void conn_handshake(conn_t *k)
{
    int rc = ew__tls_handshake(k->tls);
    if (rc == EW__TLS_WANT_READ) {
        event_del(k->wev);
        event_add(k->rev, NULL);
        return;
    }
    if (rc == EW__TLS_WANT_WRITE) {
        event_add(k->wev, NULL);
        return;
    }
    evtimer_del(k->timer);
    ew__net_req_t *r = k->req;
    if (rc != 0) {
        ew__net_req_fail(r, EW__NET_ERR_TLS, "TLS handshake with %s failed: %s.", r->host, ew__tls_conn_error(k->tls));
        return;
    }
    k->handshaking = false;
    event_del(k->wev);
    const char *alpn = ew__tls_alpn(k->tls);
    if (alpn != NULL && strcmp(alpn, "h2") == 0) {
        ew__net_h2_start(k, r);
        return;
    }
    conn_attach(k, r);
}

/* The non-blocking connect finished (writable): check its outcome. */
static void conn_connected(conn_t *k)
{
    ew__net_req_t *r = k->req;
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    if (soerr != 0) {
        snprintf(r->msg, sizeof(r->msg), "%s", strerror(soerr));
        k->req = NULL;
        r->conn = NULL;
        ew__net_conn_close(k);
        req_connect_next(r);
        return;
    }
    k->connecting = false;
    event_del(k->wev);
    if (r->https) {
        if (r->client->tls == NULL) {
            char err[256];
            r->client->tls = ew__tls_config_client(r->client->cfg.ca_file, client_alpn, err, sizeof(err));
            if (r->client->tls == NULL) {
                ew__net_req_fail(r, EW__NET_ERR_TLS, "TLS set-up failed: %s.", err);
                return;
            }
        }
        k->tls = ew__tls_conn_client(r->client->tls, k->fd, r->host);
        if (k->tls == NULL) {
            ew__net_req_fail(r, EW__NET_ERR_NOMEM, "Out of memory starting TLS.");
            return;
        }
        k->handshaking = true;
        conn_handshake(k);
        return;
    }
    evtimer_del(k->timer);
    conn_attach(k, r);
}

static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    conn_t *k = arg;
    if (k->h2) {
        if (k->tls_wants_write) {
            k->tls_wants_write = false;
            ew__net_h2_on_read(k);
        } else {
            ew__net_h2_flush(k);
        }
        return;
    }
    if (k->req == NULL) {
        event_del(k->wev);
        return;
    }
    if (k->connecting)
        conn_connected(k);
    else if (k->handshaking)
        conn_handshake(k);
    else if (k->tls_wants_write) {
        k->tls_wants_write = false;
        event_del(k->wev);
        conn_read_active(k);
    } else
        conn_flush(k);
}

static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    conn_t *k = arg;
    if (k->h2) {
        ew__net_h2_on_read(k);
        return;
    }
    if (k->req == NULL) { /* idle: the server closed it, or sent bytes nobody asked for */
        ew__net_conn_close(k);
        return;
    }
    if (k->req->splicing) {
        ew__net_splice_on_read(k);
        return;
    }
    if (k->handshaking)
        conn_handshake(k);
    else if (!k->connecting)
        conn_read_active(k);
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    conn_t *k = arg;
    ew__net_req_t *r = k->req;
    if (r == NULL || k->h2) { /* idle timeout */
        ew__net_conn_close(k);
        return;
    }
    /* connect or handshake timeout: next address, or fail */
    bool handshake = k->handshaking;
    k->req = NULL;
    r->conn = NULL;
    ew__net_conn_close(k);
    if (handshake) {
        ew__net_req_fail(r, EW__NET_ERR_TLS, "TLS handshake with %s timed out.", r->host);
        return;
    }
    snprintf(r->msg, sizeof(r->msg), "connection timed out");
    req_connect_next(r);
}

/* ---------------------------------------------------------------------------------------------------------
 * Resolving and connecting
 */

/* Tries the next resolved address; fails the request when none is left. */
static void req_connect_next(ew__net_req_t *r)
{
    while (r->next_addr != NULL) {
        struct evutil_addrinfo *a = r->next_addr;
        r->next_addr = a->ai_next;
        int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(r->msg, sizeof(r->msg), "%s", strerror(errno));
            continue;
        }
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
            snprintf(r->msg, sizeof(r->msg), "%s", strerror(errno));
            close(fd);
            continue;
        }
        conn_t *k = conn_new(r, fd);
        if (k == NULL) {
            close(fd);
            ew__net_req_fail(r, EW__NET_ERR_NOMEM, "Out of memory connecting.");
            return;
        }
        k->connecting = true;
        k->req = r;
        r->conn = k;
        struct timeval tv = ew__net_ms_tv(r->client->cfg.connect_timeout_ms);
        evtimer_add(k->timer, &tv);
        event_add(k->wev, NULL);
        return;
    }
    char why[sizeof(r->msg)]; /* req_fail writes r->msg */
    snprintf(why, sizeof(why), "%s", r->msg[0] ? r->msg : "no address");
    ew__net_req_fail(r, EW__NET_ERR_CONNECT, "Could not connect to %s port %u: %s.", r->host, (unsigned) r->port, why);
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    if (result == EVUTIL_EAI_CANCEL)
        return; /* req_free is cancelling the lookup */
    ew__net_req_t *r = arg;
    r->dns = NULL;
    r->resolving = false;
    if (result != 0 || res == NULL) {
        if (res != NULL)
            evutil_freeaddrinfo(res);
        ew__net_req_fail(r, EW__NET_ERR_DNS, "DNS lookup failed for %s: %s.", r->host,
                 result == EVUTIL_EAI_NONAME || result == EVUTIL_EAI_NODATA ? "no such host"
                                                                              : evutil_gai_strerror(result));
        return;
    }
    r->addrs = res;
    r->next_addr = res;
    r->msg[0] = '\0';
    req_connect_next(r);
}

static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static void req_resolve(ew__net_req_t *r)
{
    ew__net_client_t *c = r->client;
    /* RFC 6761 6.4: names under .invalid never resolve; answering at once spares a resolver round trip. */
    if (ends_with_ci(r->host, ".invalid") || strcasecmp(r->host, "invalid") == 0) {
        ew__net_req_fail(r, EW__NET_ERR_DNS, "DNS lookup failed for %s: no such host.", r->host);
        return;
    }
    if (c->dns == NULL) {
        /* Reads /etc/resolv.conf and the hosts file; without resolv.conf, evdns falls back to 127.0.0.1. */
        c->dns = evdns_base_new(c->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (c->dns == NULL) {
            c->dns = evdns_base_new(c->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
            if (c->dns != NULL)
                (void) evdns_base_load_hosts(c->dns, NULL);
        }
        if (c->dns == NULL) {
            ew__net_req_fail(r, EW__NET_ERR_NOMEM, "DNS resolver could not be set up.");
            return;
        }
        (void) evdns_base_set_option(c->dns, "timeout:", "3");
        (void) evdns_base_set_option(c->dns, "attempts:", "2");
    }
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    /* connect_to: another address for this host and port; the URL, Host, SNI and certificate keep r->host */
    const char *host = r->host;
    unsigned port_no = r->port;
    for (size_t i = 0; i < c->nrules; i++) {
        if (c->rules[i].from_port == r->port && strcasecmp(c->rules[i].from_host, r->host) == 0) {
            host = c->rules[i].to_host;
            port_no = c->rules[i].to_port;
            break;
        }
    }
    char port[8];
    snprintf(port, sizeof(port), "%u", port_no);
    r->resolving = true;
    /* The callback may run before this returns (IP literals, hosts-file names); it defers failures. */
    struct evdns_getaddrinfo_request *d = evdns_getaddrinfo(c->dns, host, port, &hints, on_resolved, r);
    if (r->resolving)
        r->dns = d;
}

/* The deferred start: a pooled connection if one is idle for this origin, else a new one. */
static void on_start(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__net_req_t *r = arg;
    conn_t *k = r->https ? ew__net_h2_find(r->client, r->key) : NULL;
    if (k != NULL) {
        r->reused = true;
        ew__net_h2_attach(k, r);
        return;
    }
    k = pool_take(r->client, r->key);
    if (k != NULL) {
        r->reused = true;
        conn_attach(k, r);
        return;
    }
    req_resolve(r);
}

ew__net_req_t *ew__net_request_start(ew__net_client_t *c, const ew__net_request_t *q, const ew__net_handler_t *h,
                                     void *udata)
{
    ew__net_req_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->client = c;
    r->h = *h;
    r->udata = udata;
    r->port = q->port;
    r->https = q->https;
    size_t hl = strlen(q->host);
    if (hl >= 2 && q->host[0] == '[' && q->host[hl - 1] == ']')
        r->host = strndup(q->host + 1, hl - 2);
    else
        r->host = strdup(q->host);
    r->method = strdup(q->method);
    size_t klen = hl + 16;
    r->key = malloc(klen);
    r->ev = event_new(c->base, -1, 0, on_start, r);
    if (r->host == NULL || r->method == NULL || r->key == NULL || r->ev == NULL || !serialize(r, q) ||
        !keep_parts(r, q)) {
        ew__net_req_free(r);
        return NULL;
    }
    snprintf(r->key, klen, "%c|%s|%u", q->https ? 't' : 'h', r->host, (unsigned) q->port);
    r->next = c->reqs;
    if (c->reqs != NULL)
        c->reqs->prev = r;
    c->reqs = r;
    event_active(r->ev, EV_TIMEOUT, 1);
    return r;
}
