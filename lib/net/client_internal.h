/*
 * lib/net/client_internal.h — what client.c (requests, connections, HTTP/1.1) and client_h2.c (HTTP/2 on
 * connections whose TLS handshake selected "h2") share. Nothing outside lib/net includes it.
 *
 * An HTTP/1.1 connection carries one request at a time (conn->req) and sits in the idle pool between
 * requests. An HTTP/2 connection carries many (each request's stream id; conn->nstreams counts them) and
 * stays in client->h2conns for its whole life, with the idle timer armed while it has no stream.
 */
#ifndef EW_NET_CLIENT_INTERNAL_H
#define EW_NET_CLIENT_INTERNAL_H

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <nghttp2/nghttp2.h>

#include "client.h"
#include "tls.h"

typedef struct conn conn_t;

struct ew__net_client {
    struct event_base *base;      /* borrowed */
    struct evdns_base *dns;       /* owned; made on first lookup */
    ew__tls_config_t *tls;        /* owned; made on first https request */
    char *ca_file;                /* owned copy or NULL */
    struct connect_rule *rules;   /* owned: parsed cfg.connect_to */
    size_t nrules;
    ew__net_client_config_t cfg;  /* with defaults filled in; cfg.ca_file points at ca_file */
    conn_t *idle;                 /* HTTP/1.1 idle pool, most recently used first */
    uint32_t nidle;
    conn_t *h2conns;              /* HTTP/2 connections, busy or idle */
    ew__net_req_t *reqs;          /* requests in flight */
};

struct conn {
    ew__net_client_t *client;
    char *key;                    /* owned: origin key "s|host|port" (s = 'h' http, 't' https) */
    int fd;
    ew__tls_conn_t *tls;          /* owned; NULL for plain http */
    struct event *rev, *wev;      /* owned: readable (persistent) / writable (added while waiting) */
    struct event *timer;          /* owned: connect timeout, or idle timeout */
    ew__h1_parser_t parser;       /* HTTP/1.1 responses */
    char *in;                     /* owned input buffer: bytes [in_off, in_len) not yet used */
    size_t in_off, in_len, in_cap;
    ew__net_req_t *req;           /* HTTP/1.1: attached request; NULL when idle */
    bool connecting, handshaking;
    bool tls_wants_write;         /* a TLS read asked for writability */
    /* HTTP/2 */
    bool h2;
    nghttp2_session *session;     /* owned */
    uint32_t nstreams;            /* requests attached */
    bool in_recv;                 /* inside nghttp2_session_mem_recv (no mem_send from callbacks) */
    char *hout;                   /* owned: session output not yet written */
    size_t hout_len, hout_off, hout_cap;
    conn_t *next;                 /* in client->idle (HTTP/1.1) or client->h2conns */
};

/* One response header of an HTTP/2 stream, copied (nghttp2 hands them out one at a time). */
typedef struct h2_header {
    char *name;
    char *value;
    uint32_t name_len, value_len;
} h2_header_t;

struct ew__net_req {
    ew__net_client_t *client;
    ew__net_handler_t h;
    void *udata;
    char *method;                 /* owned */
    char *host;                   /* owned: for DNS and TLS (IPv6 without brackets) */
    char *authority;              /* owned: host[:port] as the Host header / :authority */
    char *target;                 /* owned: path and query */
    char *key;                    /* owned: origin key */
    uint16_t port;
    bool https;
    ew_header_t *headers;         /* owned array (its strings in hblob): for HTTP/2 */
    size_t nheaders;
    char *hblob;                  /* owned */
    char *out;                    /* owned: HTTP/1.1 serialization (head and body) */
    size_t out_len, out_off;
    size_t body_off, body_len;    /* the body inside out */
    bool has_body;
    struct evutil_addrinfo *addrs;    /* owned: DNS result */
    struct evutil_addrinfo *next_addr;
    struct evdns_getaddrinfo_request *dns; /* in-flight lookup */
    bool resolving;               /* inside or waiting for the lookup */
    conn_t *conn;
    struct event *ev;             /* owned: deferred start or deferred failure */
    bool reused, got_bytes, retried, in_callback, cancelled, failed;
    bool paused;                  /* the owner has no room for body bytes (ew__net_request_pause) */
    ew__net_error_t err;
    char msg[320];
    /* Splice (client_splice.c): once set, the body goes from the socket to the owner's fd through a pipe */
    bool splicing;                /* no on_body any more: the rest of the body is spliced */
    bool has_pipe;                /* pipe_rd/pipe_wr are open (owned) */
    int pipe_rd, pipe_wr;
    size_t in_pipe;               /* body bytes in the pipe, not yet written to the owner's fd */
    int splice_fd;                /* the pending step's destination (borrowed) */
    size_t splice_max, splice_moved;
    ew__net_splice_fn splice_cb;  /* the pending step's callback; NULL when none is pending */
    void *splice_udata;
    /* HTTP/2 stream state */
    int32_t stream_id;            /* 0 = not on a stream */
    size_t body_sent;
    int h2_status;
    bool h2_head_done;
    size_t h2_unconsumed;         /* DATA bytes received while paused, not yet given back to flow control */
    h2_header_t *rh;              /* owned: response headers collected so far */
    size_t nrh, caprh;
    ew__net_req_t *next, *prev;   /* in client->reqs */
};

/* client.c */
void ew__net_conn_close(conn_t *k);
struct timeval ew__net_ms_tv(uint32_t ms);
/* Reads up to cap decrypted/plain bytes: > 0 read, 0 EOF, -1 nothing now (wait), -2 broken. */
ssize_t ew__net_conn_read(conn_t *k, char *buf, size_t cap);
/* Writes: > 0 written, -1 wait for writability (wev added), -2 broken. */
ssize_t ew__net_conn_write(conn_t *k, const char *buf, size_t len);
void ew__net_req_free(ew__net_req_t *r);
void ew__net_req_finish(ew__net_req_t *r, ew__net_error_t err, const char *message);
void ew__net_req_fail(ew__net_req_t *r, ew__net_error_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Callback wrappers: false when the owner cancelled the request inside (it is freed then). */
bool ew__net_deliver_head(ew__net_req_t *r, int status, const char *reason, size_t reason_len,
                          const ew__h1_header_t *headers, size_t n);
bool ew__net_deliver_body(ew__net_req_t *r, const char *p, size_t n);

/* Parses what the connection holds (and what the parser owes without input). False when it is gone. */
bool ew__net_conn_parse(conn_t *k);

/* client_splice.c */
/* Readiness on a connection whose request is splicing. */
void ew__net_splice_on_read(conn_t *k);
/* Closes the request's pipe (request free). */
void ew__net_splice_dispose(ew__net_req_t *r);

/* client_h2.c */
/* The handshake selected h2: sets up the session and sends r on it. */
void ew__net_h2_start(conn_t *k, ew__net_req_t *r);
/* An HTTP/2 connection to key with room for one more stream, or NULL. */
conn_t *ew__net_h2_find(ew__net_client_t *c, const char *key);
/* Sends r as a new stream on k. */
void ew__net_h2_attach(conn_t *k, ew__net_req_t *r);
/* Takes r off its stream (RST_STREAM CANCEL if still open); the connection stays. */
void ew__net_h2_detach(ew__net_req_t *r);
/* Readiness on an HTTP/2 connection. */
void ew__net_h2_on_read(conn_t *k);
void ew__net_h2_flush(conn_t *k);
/* The owner paused or resumed r's body. */
void ew__net_h2_pause(ew__net_req_t *r, bool paused);
/* Frees the connection's HTTP/2 state (conn close). */
void ew__net_h2_dispose(conn_t *k);

#endif
