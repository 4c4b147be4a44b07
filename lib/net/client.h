/*
 * lib/net/client.h — the outbound HTTP client under fetch() (client.c): DNS with libevent's evdns (the
 * hosts file first), TCP, TLS (tls.c), HTTP/1.1 requests with responses parsed by http1.c, HTTP/2 when
 * the TLS handshake's ALPN picks h2 (client_h2.c), and a keep-alive pool per origin. One client per
 * runtime (one thread, one event_base).
 *
 *   start ──(loop)──> pool hit? ──no──> resolve ──> connect ──> TLS handshake ──> write request
 *                         └──yes─────────────────────────────────────────────────────┘
 *   response: on_head (final response only; 1xx are skipped) ──> on_body* ──> on_done (always last)
 *
 * Every callback comes from the event loop, never from inside ew__net_request_start. A callback may call
 * ew__net_request_cancel on its own request (then no further callback comes). After on_done the request
 * is freed by the client: its owner must forget the pointer.
 */
#ifndef EW_NET_CLIENT_H
#define EW_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeworker.h"
#include "http1.h"

struct event_base;

typedef struct ew__net_client ew__net_client_t;
typedef struct ew__net_req ew__net_req_t;

typedef struct ew__net_client_config {
    const char *ca_file;            /* PEM file of trusted CAs for https; NULL = the system bundle; copied */
    uint32_t max_idle_per_origin;   /* idle keep-alive connections kept per origin, 0 = 32 */
    uint32_t max_idle;              /* idle connections kept in all, 0 = 256 */
    uint32_t idle_timeout_ms;       /* an idle connection is closed after this (ms), 0 = 30000 */
    uint32_t connect_timeout_ms;    /* per address tried (ms), 0 = 10000 */
    const char *connect_to;         /* "HOST1:PORT1:HOST2:PORT2,..." (ew_runtime_config_t.connect_to); copied */
} ew__net_client_config_t;

/* Checks a connect_to list; on a malformed rule writes why (naming it) to `why` and returns false. */
bool ew__net_connect_to_valid(const char *spec, char *why, size_t why_len);

/* Creates a client on `base` (borrowed; must outlive the client). cfg may be NULL. NULL on OOM. DNS and
 * TLS are set up on first use. */
ew__net_client_t *ew__net_client_create(struct event_base *base, const ew__net_client_config_t *cfg);
/* Frees the client, its connections and any request still in flight (without calling their callbacks). */
void ew__net_client_destroy(ew__net_client_t *c);

/* Why a request failed (on_done). */
typedef enum ew__net_error {
    EW__NET_OK = 0,
    EW__NET_ERR_DNS,       /* the host name did not resolve */
    EW__NET_ERR_CONNECT,   /* no address accepted a connection (refused, unreachable, timed out) */
    EW__NET_ERR_TLS,       /* TLS set-up or handshake failed, certificate verification included */
    EW__NET_ERR_LOST,      /* the connection closed or broke before the response was complete */
    EW__NET_ERR_PROTOCOL,  /* the server's response is not valid HTTP */
    EW__NET_ERR_NOMEM,     /* out of memory */
} ew__net_error_t;

/* One request. Everything is copied by ew__net_request_start. */
typedef struct ew__net_request {
    const char *method;          /* an HTTP token, NUL-terminated */
    bool https;
    const char *host;            /* URL host: a name, an IPv4 literal or "[IPv6]" */
    uint16_t port;
    const char *target;          /* origin-form: path and query, e.g. "/a?b" */
    const ew_header_t *headers;  /* sent as given; Host, Content-Length, Connection are the client's own */
    size_t nheaders;
    const void *body;            /* body bytes; NULL when the request has none */
    size_t body_len;
} ew__net_request_t;

typedef struct ew__net_handler {
    /* The final response's head; the slices are valid during the call only. */
    void (*on_head)(void *udata, int status, const char *reason, size_t reason_len,
                    const ew__h1_header_t *headers, size_t nheaders);
    /* The next `len` bytes of the (de-chunked, still content-encoded) body, valid during the call. */
    void (*on_body)(void *udata, const char *data, size_t len);
    /* The end: EW__NET_OK when the response is complete, else why not with a sentence for a person
     * (NUL-terminated, valid during the call). Always the last callback. */
    void (*on_done)(void *udata, ew__net_error_t err, const char *message);
} ew__net_handler_t;

/* Starts a request; the work begins from the event loop. `handler` is copied; `udata` is passed to it.
 * NULL on OOM (nothing is called then). */
ew__net_req_t *ew__net_request_start(ew__net_client_t *c, const ew__net_request_t *req, const ew__net_handler_t *h,
                                     void *udata);
/* Abandons a request (no further callback); its connection is closed unless the request was not yet on
 * one. Allowed from inside the request's own on_head/on_body callbacks, not from on_done. */
void ew__net_request_cancel(ew__net_req_t *r);

/* Back-pressure: while paused, no more on_body comes (the connection stops reading; HTTP/2 stops granting
 * the stream flow-control window); resuming delivers what was held, from the loop. Allowed from inside
 * on_head/on_body. */
void ew__net_request_pause(ew__net_req_t *r, bool paused);

/* Number of idle pooled connections (tests and stats). */
uint32_t ew__net_client_idle_count(const ew__net_client_t *c);

#endif
