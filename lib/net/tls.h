/*
 * lib/net/tls.h — TLS on a non-blocking socket with mbedTLS 2.28 (tls.c), for the fetch() client
 * (lib/net/client.c) and ew-server's TLS listeners (server side: certificate + key, ALPN selection).
 *
 * A config (ew__tls_config_t) holds what every connection of one side shares: the mbedTLS configuration,
 * the random generator, the trusted CAs (client) or the certificate chain and key (server). It is made once
 * per thread (per runtime or per listener thread) and outlives its connections. A connection
 * (ew__tls_conn_t) wraps one socket; its functions never block: they return EW__TLS_WANT_READ or
 * EW__TLS_WANT_WRITE and the caller waits for that readiness on the socket, then calls again.
 *
 * Threads: a config and its connections belong to one thread.
 */
#ifndef EW_NET_TLS_H
#define EW_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct ew__tls_config ew__tls_config_t;
typedef struct ew__tls_conn ew__tls_conn_t;

/* Results of the I/O functions below (negative; a read or write returns a byte count >= 0 otherwise). */
enum {
    EW__TLS_ERROR = -1,      /* fatal: ew__tls_conn_error() says why; close the socket */
    EW__TLS_WANT_READ = -2,  /* call again when the socket is readable */
    EW__TLS_WANT_WRITE = -3, /* call again when the socket is writable */
};

/* The system's CA bundle (Debian's ca-certificates), used when a client config gets no ca_file. */
#define EW__TLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* Client config: verifies the server's certificate chain against the CAs in `ca_file` (PEM; NULL = the
 * system bundle) and its name against the host given to ew__tls_conn_client(). `alpn` is a NULL-terminated
 * list of protocols to offer (e.g. {"h2", "http/1.1", NULL}; NULL = none); it must outlive the config.
 * Returns NULL with a message in err (errlen bytes, e.g. "cannot read CA file /x: ...") on failure.
 * Release with ew__tls_config_destroy after its connections. */
ew__tls_config_t *ew__tls_config_client(const char *ca_file, const char *const *alpn, char *err, size_t errlen);

/* Server config: the certificate chain in `cert_file` (PEM, leaf first) and its private key in `key_file`
 * (PEM or DER, unencrypted). `alpn`, as above, is the server's preference order: the first protocol of
 * this list that the client also offers is selected. NULL with a message in err on failure (file missing,
 * unparsable, key not matching the certificate). */
ew__tls_config_t *ew__tls_config_server(const char *cert_file, const char *key_file, const char *const *alpn,
                                        char *err, size_t errlen);

void ew__tls_config_destroy(ew__tls_config_t *cfg);

/* Starts a connection on the connected non-blocking socket fd (borrowed: the caller closes it after
 * ew__tls_conn_destroy). Client side: `host` is the server's name for SNI and certificate verification
 * (an IP literal is verified against the certificate's IP addresses and sends no SNI). NULL on allocation
 * failure. */
ew__tls_conn_t *ew__tls_conn_client(ew__tls_config_t *cfg, int fd, const char *host);
ew__tls_conn_t *ew__tls_conn_server(ew__tls_config_t *cfg, int fd);
void ew__tls_conn_destroy(ew__tls_conn_t *c);

/* Advances the handshake: 0 when it is complete, else EW__TLS_WANT_READ/WANT_WRITE/ERROR. A client whose
 * peer's certificate does not verify gets EW__TLS_ERROR, and ew__tls_conn_error() names the reason. */
int ew__tls_handshake(ew__tls_conn_t *c);

/* Reads decrypted bytes: > 0 bytes read, 0 when the peer closed (close_notify or TCP EOF), or one of
 * the negative results. Bytes may be buffered inside TLS: after a read that filled the whole buffer, call
 * again before waiting for the socket (ew__tls_pending() says whether any are). */
ssize_t ew__tls_read(ew__tls_conn_t *c, void *buf, size_t len);
/* Writes: > 0 bytes written (maybe fewer than len), or one of the negative results. After WANT_*, call
 * again with the same bytes. */
ssize_t ew__tls_write(ew__tls_conn_t *c, const void *buf, size_t len);
/* True if decrypted bytes are waiting in the connection (no socket readiness will signal them). */
bool ew__tls_pending(const ew__tls_conn_t *c);
/* Sends close_notify (best effort, never blocks). */
void ew__tls_close_notify(ew__tls_conn_t *c);

/* The protocol ALPN selected ("h2", "http/1.1"), or NULL when none was negotiated. Valid while c lives. */
const char *ew__tls_alpn(const ew__tls_conn_t *c);
/* After EW__TLS_ERROR: a sentence saying what failed, e.g. "certificate has expired" or "certificate is
 * not valid for host example.com". Static or owned by c; valid while c lives. */
const char *ew__tls_conn_error(const ew__tls_conn_t *c);

#endif
