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

/* Zero-copy pass-through (Linux splice(2)): the rest of a response body moves from the connection's socket
 * to the owner's file descriptor through a pipe, without entering user space. Possible for a plain-HTTP/1.1
 * response with Content-Length whose head was delivered, none of whose body bytes wait in the connection's
 * buffer (all went out through on_body), and whose request was written whole; never for TLS or HTTP/2.
 * From the first splice on, no on_body comes: the rest of the body is spliced, step by step. */
typedef enum ew__net_splice_result {
    EW__NET_SPLICE_MORE,   /* moved > 0 bytes; more of the body is to come */
    EW__NET_SPLICE_FULL,   /* out_fd took no more (EAGAIN): call again once it is writable (moved may be 0) */
    EW__NET_SPLICE_END,    /* the body is complete (moved may be > 0); on_done follows */
    EW__NET_SPLICE_OUT_ERR,/* writing to out_fd failed (the peer left); the request stays: cancel it */
    EW__NET_SPLICE_LOST,   /* the response was cut short; on_done follows with the error */
} ew__net_splice_result_t;
typedef void (*ew__net_splice_fn)(void *udata, size_t moved, ew__net_splice_result_t result);
/* Starts one step: moves up to max (> 0) body bytes to out_fd, then calls cb once, from the loop (never
 * from inside this call). False (nothing started) when the request cannot splice now or a step is pending,
 * or a pipe could not be made. The owner must not write to out_fd while the body is being spliced, nor
 * close it while a step is pending (cancel the request first). A peer of out_fd that has gone away may
 * raise SIGPIPE, as a write would: the host ignores it. */
bool ew__net_request_splice(ew__net_req_t *r, int out_fd, size_t max, ew__net_splice_fn cb, void *udata);
/* Whether this request's body can be spliced at all (plain HTTP/1.1 with Content-Length bytes still to
 * come, or splicing already): false means never, true that ew__net_request_splice may start now or once
 * the connection's buffered bytes went out through on_body. */
bool ew__net_request_splice_able(const ew__net_req_t *r);
/* Forgets the pending step, if any (no callback; out_fd is not touched again). */
void ew__net_request_splice_stop(ew__net_req_t *r);

/* Number of idle pooled connections (tests and stats). */
uint32_t ew__net_client_idle_count(const ew__net_client_t *c);

#endif
