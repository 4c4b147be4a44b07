/*
 * server/h2.h — ew-server's HTTP/2 connections (h2.c, on nghttp2): h2 over TLS (ALPN) and h2c with prior
 * knowledge. Every stream is one Worker request; responses go out with flow control and back-pressure;
 * shutdown sends GOAWAY and lets open streams finish.
 */
#ifndef EW_SERVER_H2_H
#define EW_SERVER_H2_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cf.h"
#include "edgeworker.h"
#include "tls.h"

typedef struct srv_h2_group srv_h2_group_t;

typedef struct srv_h2_config {
    uint32_t max_header_bytes;   /* a stream's header block (bytes); beyond: the stream is reset; 0 = 32 KiB */
    uint64_t max_body_bytes;     /* request body (bytes); beyond: 413; 0 = 100 MiB */
    uint32_t max_streams;        /* SETTINGS_MAX_CONCURRENT_STREAMS; 0 = 100 */
    uint32_t idle_timeout_ms;    /* a connection with no stream open for this long is closed; 0 = 60000 */
    uint32_t write_timeout_ms;   /* no write progress for this long drops the connection; 0 = 30000 */
    bool log_requests;           /* one line per request on stdout, as for HTTP/1.1 */
    const srv_cf_config_t *cf;   /* request.cf and the edge's headers (borrowed) */
    const char *host_default;    /* authority for requests without :authority or Host (borrowed) */
    size_t (*metrics)(void *arg, char *buf, size_t cap); /* GET /__metrics (http.h); NULL = to the Worker */
    void *metrics_arg;
    ew_worker_t *(*route)(void *arg, const char *url); /* the Worker of a request (http.h); NULL = `worker` */
    void *route_arg;
} srv_h2_config_t;

/* HTTP/2 connections of one listener, serving `worker`. on_empty (may be NULL) runs when the last
 * connection of a draining group is gone. NULL on OOM. */
srv_h2_group_t *srv_h2_group_new(struct event_base *base, ew_worker_t *worker, const srv_h2_config_t *cfg,
                                 void (*on_empty)(void *arg), void *arg);
/* Serves HTTP/2 on fd (owned): the application end of a TLS relay whose ALPN chose h2. */
void srv_h2_adopt(srv_h2_group_t *g, int fd, const struct sockaddr *addr, const srv_tls_info_t *tls);
/* Serves h2c on a connection http.c has read the client preface's first bytes on: bev (owned) still holds
 * them in its input. `peer` is copied. */
void srv_h2_adopt_bev(srv_h2_group_t *g, struct bufferevent *bev, const char *peer, int tcp_fd);
/* Shutdown: GOAWAY on every connection; each closes once its open streams are answered. */
void srv_h2_drain(srv_h2_group_t *g);
/* New streams go to `worker` from now on (a reload). */
void srv_h2_set_worker(srv_h2_group_t *g, ew_worker_t *worker);
/* Open connections. */
uint32_t srv_h2_count(const srv_h2_group_t *g);
/* Closes everything now (streams in the Worker are answered into nothing) and frees g. NULL is ignored. */
void srv_h2_group_free(srv_h2_group_t *g);

#endif
