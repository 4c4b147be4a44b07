/*
 * server/http.h — ew-server's HTTP/1.1 front end (http.c): listens, parses requests with lib/net's strict
 * parser, hands each one to a Worker through the public API, and writes the response back.
 */
#ifndef EW_SERVER_HTTP_H
#define EW_SERVER_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "cf.h"
#include "edgeworker.h"

typedef struct srv_http srv_http_t;

typedef struct srv_http_config {
    const char *ip;             /* address to listen on, e.g. "127.0.0.1" */
    int port;                   /* TCP port; 0 = any free port */
    uint32_t max_header_bytes;  /* request head (bytes) -> 431 beyond; 0 = 32 KiB */
    uint32_t max_url_bytes;     /* request-target (bytes) -> 414 beyond; 0 = 16 KiB */
    uint64_t max_body_bytes;    /* request body (bytes) -> 413 beyond; 0 = 100 MiB */
    uint32_t idle_timeout_ms;   /* keep-alive connection with no request in progress; 0 = 60000 */
    uint32_t request_timeout_ms;/* whole head + body of one request must arrive within this; 0 = 30000 */
    uint32_t write_timeout_ms;  /* no write progress for this long closes the connection; 0 = 30000 */
    uint32_t max_connections;   /* open connections; more are refused (closed at once); 0 = 10000 */
    size_t max_ws_message;      /* bytes of one WebSocket message from a client -> close 1009; 0 = 1 MiB */
    srv_cf_config_t cf;         /* request.cf and the Cloudflare headers (cf.h) */
    const char *tls_cert;       /* PEM certificate chain: serve TLS (ALPN h2, http/1.1); NULL = plain TCP
                                   (then HTTP/1.1 and h2c with prior knowledge) */
    const char *tls_key;        /* PEM/DER private key of tls_cert */
    /* GET /__metrics: writes the Prometheus text into buf (cap bytes) and returns its length; NULL = the
     * path goes to the Worker like any other. */
    size_t (*metrics)(void *arg, char *buf, size_t cap);
    void *metrics_arg;
    bool log_requests;          /* one line per request on stdout */
    bool reuse_port;            /* SO_REUSEPORT: several threads listen on the same port */
    bool claim_port;            /* the first of those listeners: fail if another process listens there */
    bool test_scheduled;        /* GET /__scheduled?cron=…&time=… fires the scheduled handler (wrangler's
                                   --test-scheduled) instead of reaching the Worker's fetch */
    /* Picks the Worker of a request from its absolute URL (routes, when one server runs several); NULL = the
     * listener's worker. NULL function = always the listener's worker. */
    ew_worker_t *(*route)(void *arg, const char *url);
    void *route_arg;
} srv_http_config_t;

/* Starts listening on base; requests go to worker. Returns NULL and prints why to stderr on failure. */
srv_http_t *srv_http_start(struct event_base *base, ew_worker_t *worker, const srv_http_config_t *cfg);
/* New requests go to `worker` from now on (a reload); those in flight finish where they are. */
void srv_http_set_worker(srv_http_t *s, ew_worker_t *worker);
/* The port actually bound (useful with port 0). */
int srv_http_port(const srv_http_t *s);
/* Stops accepting, closes idle connections, and lets in-flight requests finish; on_drained runs (once)
 * when the last connection is gone. */
void srv_http_drain(srv_http_t *s, void (*on_drained)(void *arg), void *arg);
/* Closes everything now and frees the server. */
void srv_http_free(srv_http_t *s);
/* Open connections now. */
uint32_t srv_http_connections(const srv_http_t *s);

#endif
