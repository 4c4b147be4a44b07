/*
 * server/tls.h — ew-server's TLS listeners (tls.c): the handshake with lib/net/tls.c (mbedTLS, ALPN h2 and
 * http/1.1), then a relay between the TLS socket and one end of a local socketpair, whose other end the
 * HTTP/1.1 (http.c) or HTTP/2 (h2.c) code serves exactly like a plain TCP connection.
 */
#ifndef EW_SERVER_TLS_H
#define EW_SERVER_TLS_H

#include <event2/event.h>
#include <stdbool.h>

typedef struct srv_tls srv_tls_t;

/* What the application side learns of a finished handshake (strings static or owned by the relay, valid
 * while the relay lives, i.e. until the application closes app_fd and the relay notices). */
typedef struct srv_tls_info {
    const char *alpn;            /* "h2", "http/1.1", or NULL when the client offered none */
    const char *version;         /* "TLSv1.2", ... */
    const char *cipher;          /* mbedTLS's suite name */
    int tcp_fd;                  /* the TCP socket (for TCP_INFO); owned by the relay */
} srv_tls_info_t;

/* Called once per connection whose handshake succeeded; the callee owns app_fd (non-blocking) and closes
 * it when done, which ends the TLS connection (close_notify) once everything is relayed. */
typedef void (*srv_tls_ready_fn)(void *arg, int app_fd, const srv_tls_info_t *info);

/* A TLS side for one loop thread. NULL with a message printed to stderr when the files do not load. */
srv_tls_t *srv_tls_new(struct event_base *base, const char *cert_file, const char *key_file, bool offer_h2,
                       srv_tls_ready_fn ready, void *arg);
/* Takes an accepted TCP socket: handshake (10 s at most), then ready(). */
void srv_tls_accept(srv_tls_t *t, int fd);
/* Relays still open (handshakes included). */
unsigned srv_tls_count(const srv_tls_t *t);
/* Closes every relay and frees t. NULL is ignored. */
void srv_tls_free(srv_tls_t *t);

#endif
