/*
 * tls.c — TLS for ew-server's listeners. Each accepted socket gets an mbedTLS server connection
 * (lib/net/tls.c, shared with the fetch() client); after the handshake, a relay moves bytes between it
 * and a local socketpair:
 *
 *   client ══TLS══ tcp_fd ─[relay: decrypt / encrypt]─ pair[0]  ···  pair[1] = app_fd ── http.c / h2.c
 *
 * so the HTTP/1.1, WebSocket and HTTP/2 code serves a TLS connection through the same bufferevent socket
 * code as a plain one (shutdown, back-pressure and close included: the kernel buffers of the pair bound
 * what is in flight, and the application closing app_fd is seen here as EOF). The price is one extra copy
 * per byte through the kernel, small next to the cipher.
 *
 * Each direction holds at most one buffer: bytes are read only when the previous ones are passed on,
 * so a slow reader on either side stops reading on the other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tls.h"
#include "tls.h"

#define BUF 16384
#define HANDSHAKE_S 10

typedef struct relay relay_t;

struct srv_tls {
    struct event_base *base;
    ew__tls_config_t *cfg;
    srv_tls_ready_fn ready;
    void *arg;
    relay_t *relays;
    unsigned count;
};

struct relay {
    srv_tls_t *t;
    ew__tls_conn_t *tls;
    int tcp_fd, pair_fd;           /* pair_fd: our end of the socketpair, -1 until the handshake is done */
    struct event *tcp_rd, *tcp_wr, *pair_rd, *pair_wr, *timer;
    bool handshaking;
    bool tcp_eof;                  /* the client closed (close_notify or EOF) */
    bool app_eof;                  /* the application closed its end */
    int tls_wants;                 /* EV_READ/EV_WRITE the last TLS call asked for */
    uint8_t down[BUF];             /* decrypted, on its way to the application */
    size_t down_len, down_off;
    uint8_t up[BUF];               /* from the application, on its way to be encrypted */
    size_t up_len, up_off;
    relay_t *next;
};

static void relay_free(relay_t *r)
{
    srv_tls_t *t = r->t;
    for (relay_t **pp = &t->relays; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    t->count--;
    struct event *evs[] = {r->tcp_rd, r->tcp_wr, r->pair_rd, r->pair_wr, r->timer};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    if (r->tls != NULL)
        ew__tls_conn_destroy(r->tls);
    close(r->tcp_fd);
    if (r->pair_fd >= 0)
        close(r->pair_fd);
    free(r);
}

static int want_of(ssize_t rc)
{
    return rc == EW__TLS_WANT_READ ? EV_READ : rc == EW__TLS_WANT_WRITE ? EV_WRITE : 0;
}

/* Moves bytes until nothing can move without waiting; returns false when the relay is over. */
static bool pump(relay_t *r)
{
    bool progress = true;
    r->tls_wants = 0;
    while (progress) {
        progress = false;
        /* Client -> application. */
        if (r->down_off == r->down_len && !r->tcp_eof) {
            ssize_t n = ew__tls_read(r->tls, r->down, sizeof(r->down));
            if (n > 0) {
                r->down_len = (size_t) n;
                r->down_off = 0;
                progress = true;
            } else if (n == 0) {
                r->tcp_eof = true;
                shutdown(r->pair_fd, SHUT_WR);
            } else if (n == EW__TLS_ERROR) {
                return false;
            } else {
                r->tls_wants |= want_of(n);
            }
        }
        if (r->down_off < r->down_len) {
            ssize_t n = write(r->pair_fd, r->down + r->down_off, r->down_len - r->down_off);
            if (n > 0) {
                r->down_off += (size_t) n;
                progress = true;
            } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
                return false;
            }
        }
        /* Application -> client. */
        if (r->up_off == r->up_len && !r->app_eof) {
            ssize_t n = read(r->pair_fd, r->up, sizeof(r->up));
            if (n > 0) {
                r->up_len = (size_t) n;
                r->up_off = 0;
                progress = true;
            } else if (n == 0) {
                r->app_eof = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                r->app_eof = true;
            }
        }
        if (r->up_off < r->up_len) {
            ssize_t n = ew__tls_write(r->tls, r->up + r->up_off, r->up_len - r->up_off);
            if (n > 0) {
                r->up_off += (size_t) n;
                progress = true;
            } else if (n == EW__TLS_ERROR) {
                return false;
            } else {
                r->tls_wants |= want_of(n);
            }
        }
    }
    if (r->app_eof && r->up_off == r->up_len) {
        ew__tls_close_notify(r->tls); /* the application is done and everything it wrote is out */
        return false;
    }
    if (r->tcp_eof && r->app_eof)
        return false;
    return true;
}

static void arm(relay_t *r)
{
    if (r->tls_wants & EV_READ)
        event_add(r->tcp_rd, NULL);
    if (r->tls_wants & EV_WRITE)
        event_add(r->tcp_wr, NULL);
    if (r->down_off < r->down_len)
        event_add(r->pair_wr, NULL);
    if (r->up_off == r->up_len && !r->app_eof)
        event_add(r->pair_rd, NULL);
}

static void on_io(evutil_socket_t fd, short what, void *arg);

/* The handshake is done: make the socketpair and hand its other end to the application. */
static bool start_relay(relay_t *r)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
        return false;
    r->pair_fd = sv[0];
    r->pair_rd = event_new(r->t->base, sv[0], EV_READ, on_io, r);
    r->pair_wr = event_new(r->t->base, sv[0], EV_WRITE, on_io, r);
    if (r->pair_rd == NULL || r->pair_wr == NULL) {
        close(sv[1]);
        return false;
    }
    event_del(r->timer);
    r->handshaking = false;
    srv_tls_info_t info = {ew__tls_alpn(r->tls), ew__tls_version(r->tls), ew__tls_cipher(r->tls), r->tcp_fd};
    r->t->ready(r->t->arg, sv[1], &info);
    return true;
}

static void step(relay_t *r)
{
    if (r->handshaking) {
        int rc = ew__tls_handshake(r->tls);
        if (rc == EW__TLS_WANT_READ || rc == EW__TLS_WANT_WRITE) {
            event_add(rc == EW__TLS_WANT_READ ? r->tcp_rd : r->tcp_wr, NULL);
            return;
        }
        if (rc != 0 || !start_relay(r)) {
            relay_free(r); /* a failed handshake is the client's business: nothing to log per connection */
            return;
        }
    }
    if (!pump(r)) {
        relay_free(r);
        return;
    }
    arm(r);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    step(arg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    relay_free(arg); /* the handshake did not finish in time */
}

void srv_tls_accept(srv_tls_t *t, int fd)
{
    relay_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        close(fd);
        return;
    }
    r->t = t;
    r->tcp_fd = fd;
    r->pair_fd = -1;
    r->handshaking = true;
    r->next = t->relays;
    t->relays = r;
    t->count++;
    evutil_make_socket_nonblocking(fd);
    r->tls = ew__tls_conn_server(t->cfg, fd);
    r->tcp_rd = event_new(t->base, fd, EV_READ, on_io, r);
    r->tcp_wr = event_new(t->base, fd, EV_WRITE, on_io, r);
    r->timer = evtimer_new(t->base, on_timeout, r);
    if (r->tls == NULL || r->tcp_rd == NULL || r->tcp_wr == NULL || r->timer == NULL) {
        relay_free(r);
        return;
    }
    struct timeval tv = {HANDSHAKE_S, 0};
    event_add(r->timer, &tv);
    step(r);
}

srv_tls_t *srv_tls_new(struct event_base *base, const char *cert_file, const char *key_file, bool offer_h2,
                       srv_tls_ready_fn ready, void *arg)
{
    static const char *const with_h2[] = {"h2", "http/1.1", NULL};
    static const char *const h1_only[] = {"http/1.1", NULL};
    srv_tls_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    char err[512];
    t->cfg = ew__tls_config_server(cert_file, key_file, offer_h2 ? with_h2 : h1_only, err, sizeof(err));
    if (t->cfg == NULL) {
        fprintf(stderr, "ew-server: %s\n", err);
        free(t);
        return NULL;
    }
    t->base = base;
    t->ready = ready;
    t->arg = arg;
    return t;
}

unsigned srv_tls_count(const srv_tls_t *t)
{
    return t->count;
}

void srv_tls_free(srv_tls_t *t)
{
    if (t == NULL)
        return;
    while (t->relays != NULL)
        relay_free(t->relays);
    ew__tls_config_destroy(t->cfg);
    free(t);
}
