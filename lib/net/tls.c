/*
 * tls.c — TLS with mbedTLS 2.28 on non-blocking sockets (lib/net/tls.h has the contract).
 *
 * The client side (fetch()) verifies by default: the chain against the system CA bundle or a configured
 * file, the host name against the certificate (SNI sent), TLS 1.2 at least. The server side (ew-server's
 * TLS listeners) loads a certificate chain and key and picks the ALPN protocol in its own preference
 * order. One ew__tls_config_t per side and thread holds the mbedTLS configuration and a CTR-DRBG seeded
 * from the system's entropy; connections only reference it.
 */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

struct ew__tls_config {
    bool server;
    mbedtls_ssl_config conf;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt certs;   /* client: trusted CAs; server: its own chain */
    mbedtls_pk_context key;   /* server: its private key */
};

struct ew__tls_conn {
    ew__tls_config_t *cfg;    /* borrowed */
    mbedtls_ssl_context ssl;
    int fd;                   /* borrowed */
    char error[256];          /* the last fatal error, for ew__tls_conn_error */
};

/* ---------------------------------------------------------------------------------------------------------
 * Socket callbacks: mbedTLS reads and writes through these (non-blocking fd).
 */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    ew__tls_conn_t *c = ctx;
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int) n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    ew__tls_conn_t *c = ctx;
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n >= 0)
        return (int) n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_READ;
    return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

/* ---------------------------------------------------------------------------------------------------------
 * Configs
 */

static void set_mbed_error(char *err, size_t errlen, const char *what, const char *path, int rc)
{
    char text[128];
    mbedtls_strerror(rc, text, sizeof(text));
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s %s: %s", what, path, text);
}

static ew__tls_config_t *config_new(bool server, const char *const *alpn, char *err, size_t errlen)
{
    ew__tls_config_t *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        snprintf(err, errlen, "out of memory setting up TLS");
        return NULL;
    }
    cfg->server = server;
    mbedtls_ssl_config_init(&cfg->conf);
    mbedtls_entropy_init(&cfg->entropy);
    mbedtls_ctr_drbg_init(&cfg->drbg);
    mbedtls_x509_crt_init(&cfg->certs);
    mbedtls_pk_init(&cfg->key);
    static const char pers[] = "edgeworker-tls";
    int rc = mbedtls_ctr_drbg_seed(&cfg->drbg, mbedtls_entropy_func, &cfg->entropy, (const unsigned char *) pers,
                                   sizeof(pers) - 1);
    if (rc == 0)
        rc = mbedtls_ssl_config_defaults(&cfg->conf, server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                         MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) {
        set_mbed_error(err, errlen, "cannot set up TLS", "", rc);
        ew__tls_config_destroy(cfg);
        return NULL;
    }
    mbedtls_ssl_conf_rng(&cfg->conf, mbedtls_ctr_drbg_random, &cfg->drbg);
    mbedtls_ssl_conf_min_version(&cfg->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    /* mbedTLS keeps the pointer; the list is static in our callers (documented in tls.h). */
    if (alpn != NULL && alpn[0] != NULL)
        mbedtls_ssl_conf_alpn_protocols(&cfg->conf, (const char **) alpn);
    return cfg;
}

ew__tls_config_t *ew__tls_config_client(const char *ca_file, const char *const *alpn, char *err, size_t errlen)
{
    ew__tls_config_t *cfg = config_new(false, alpn, err, errlen);
    if (cfg == NULL)
        return NULL;
    const char *path = ca_file != NULL ? ca_file : EW__TLS_SYSTEM_CA_FILE;
    /* A bundle may hold certificates mbedTLS cannot parse (rc > 0 counts them): the rest are still used. */
    int rc = mbedtls_x509_crt_parse_file(&cfg->certs, path);
    if (rc < 0 || cfg->certs.version == 0) {
        set_mbed_error(err, errlen, "cannot read CA file", path, rc < 0 ? rc : MBEDTLS_ERR_X509_INVALID_FORMAT);
        ew__tls_config_destroy(cfg);
        return NULL;
    }
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&cfg->conf, &cfg->certs, NULL);
    return cfg;
}

ew__tls_config_t *ew__tls_config_server(const char *cert_file, const char *key_file, const char *const *alpn,
                                        char *err, size_t errlen)
{
    if (cert_file == NULL || key_file == NULL) {
        snprintf(err, errlen, "TLS needs both a certificate file and a key file");
        return NULL;
    }
    ew__tls_config_t *cfg = config_new(true, alpn, err, errlen);
    if (cfg == NULL)
        return NULL;
    int rc = mbedtls_x509_crt_parse_file(&cfg->certs, cert_file);
    if (rc != 0) {
        set_mbed_error(err, errlen, "cannot read certificate file", cert_file, rc < 0 ? rc : MBEDTLS_ERR_X509_INVALID_FORMAT);
        goto fail;
    }
    rc = mbedtls_pk_parse_keyfile(&cfg->key, key_file, NULL);
    if (rc != 0) {
        set_mbed_error(err, errlen, "cannot read key file", key_file, rc);
        goto fail;
    }
    rc = mbedtls_ssl_conf_own_cert(&cfg->conf, &cfg->certs, &cfg->key);
    if (rc == 0 && mbedtls_pk_check_pair(&cfg->certs.pk, &cfg->key) != 0) {
        snprintf(err, errlen, "key file %s does not match the certificate in %s", key_file, cert_file);
        goto fail;
    }
    if (rc != 0) {
        set_mbed_error(err, errlen, "cannot use certificate", cert_file, rc);
        goto fail;
    }
    mbedtls_ssl_conf_authmode(&cfg->conf, MBEDTLS_SSL_VERIFY_NONE);
    return cfg;
fail:
    ew__tls_config_destroy(cfg);
    return NULL;
}

void ew__tls_config_destroy(ew__tls_config_t *cfg)
{
    if (cfg == NULL)
        return;
    mbedtls_ssl_config_free(&cfg->conf);
    mbedtls_x509_crt_free(&cfg->certs);
    mbedtls_pk_free(&cfg->key);
    mbedtls_ctr_drbg_free(&cfg->drbg);
    mbedtls_entropy_free(&cfg->entropy);
    free(cfg);
}

/* ---------------------------------------------------------------------------------------------------------
 * Connections
 */

static ew__tls_conn_t *conn_new(ew__tls_config_t *cfg, int fd)
{
    ew__tls_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->cfg = cfg;
    c->fd = fd;
    mbedtls_ssl_init(&c->ssl);
    if (mbedtls_ssl_setup(&c->ssl, &cfg->conf) != 0) {
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return NULL;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    return c;
}

ew__tls_conn_t *ew__tls_conn_client(ew__tls_config_t *cfg, int fd, const char *host)
{
    ew__tls_conn_t *c = conn_new(cfg, fd);
    if (c != NULL && host != NULL && mbedtls_ssl_set_hostname(&c->ssl, host) != 0) {
        ew__tls_conn_destroy(c);
        return NULL;
    }
    return c;
}

ew__tls_conn_t *ew__tls_conn_server(ew__tls_config_t *cfg, int fd)
{
    return conn_new(cfg, fd);
}

void ew__tls_conn_destroy(ew__tls_conn_t *c)
{
    if (c == NULL)
        return;
    mbedtls_ssl_free(&c->ssl);
    free(c);
}

/* Describes the verification flags of a failed handshake in one sentence. */
static void describe_verify(ew__tls_conn_t *c, uint32_t flags)
{
    const char *why = "certificate verification failed";
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH)
        why = "certificate is not valid for this host name";
    else if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        why = "certificate has expired";
    else if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        why = "certificate is not valid yet";
    else if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        why = "certificate is not signed by a trusted certificate authority";
    else if (flags & MBEDTLS_X509_BADCERT_REVOKED)
        why = "certificate has been revoked";
    snprintf(c->error, sizeof(c->error), "%s", why);
}

static int io_result(ew__tls_conn_t *c, int rc)
{
    if (rc == MBEDTLS_ERR_SSL_WANT_READ)
        return EW__TLS_WANT_READ;
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return EW__TLS_WANT_WRITE;
    if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        describe_verify(c, mbedtls_ssl_get_verify_result(&c->ssl));
        return EW__TLS_ERROR;
    }
    if (rc == MBEDTLS_ERR_NET_CONN_RESET) {
        snprintf(c->error, sizeof(c->error), "connection reset by peer");
        return EW__TLS_ERROR;
    }
    char text[160];
    mbedtls_strerror(rc, text, sizeof(text));
    snprintf(c->error, sizeof(c->error), "%s", text);
    return EW__TLS_ERROR;
}

int ew__tls_handshake(ew__tls_conn_t *c)
{
    int rc = mbedtls_ssl_handshake(&c->ssl);
    if (rc == 0)
        return 0;
    return io_result(c, rc);
}

ssize_t ew__tls_read(ew__tls_conn_t *c, void *buf, size_t len)
{
    int rc = mbedtls_ssl_read(&c->ssl, buf, len);
    if (rc >= 0)
        return rc;
    if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        return 0;
    return io_result(c, rc);
}

ssize_t ew__tls_write(ew__tls_conn_t *c, const void *buf, size_t len)
{
    int rc = mbedtls_ssl_write(&c->ssl, buf, len);
    if (rc >= 0)
        return rc;
    return io_result(c, rc);
}

bool ew__tls_pending(const ew__tls_conn_t *c)
{
    return mbedtls_ssl_get_bytes_avail(&c->ssl) > 0;
}

void ew__tls_close_notify(ew__tls_conn_t *c)
{
    (void) mbedtls_ssl_close_notify(&c->ssl);
}

const char *ew__tls_alpn(const ew__tls_conn_t *c)
{
    return mbedtls_ssl_get_alpn_protocol(&c->ssl);
}

const char *ew__tls_conn_error(const ew__tls_conn_t *c)
{
    return c->error[0] ? c->error : "TLS error";
}
