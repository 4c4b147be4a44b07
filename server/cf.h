/*
 * server/cf.h — what Cloudflare's edge adds to a request before the Worker sees it, as ew-server
 * reproduces it locally (cf.c): request.cf (colo, country, httpProtocol, tls*, clientTcpRtt, asn, ...) as
 * JSON for ew_request_t.cf_json, and the CF-Connecting-IP, CF-IPCountry, CF-Ray, CF-Visitor,
 * X-Forwarded-For, X-Forwarded-Proto and X-Real-IP headers, replacing any a client sent.
 */
#ifndef EW_SERVER_CF_H
#define EW_SERVER_CF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeworker.h"

#define SRV_CF_MAX_HEADERS 7 /* headers srv_cf_add_headers() may add */

typedef struct srv_cf_config {
    const char *colo;           /* cf.colo and CF-Ray's suffix (IATA-style code); NULL = "DFW" */
    const char *country;        /* cf.country / CF-IPCountry by default (ISO 3166 alpha-2); NULL = "XX" */
    bool trust_ipcountry;       /* a CF-IPCountry header from the client sets the country (behind a proxy
                                   that sets it); otherwise a client's CF-* headers are dropped */
} srv_cf_config_t;

/* Per-connection state; the values the Worker gets point into it until the next request on the conn. */
typedef struct srv_cf_conn {
    const srv_cf_config_t *cfg;
    const char *peer;           /* client IP (the conn's buffer) */
    const char *http_protocol;  /* "HTTP/1.1", "HTTP/2" */
    const char *tls_version;    /* "" without TLS, else e.g. "TLSv1.3" */
    const char *tls_cipher;     /* "" without TLS */
    uint32_t rtt_ms;            /* clientTcpRtt */
    /* Per request: */
    const char *xff;            /* the client's X-Forwarded-For, NULL when none */
    size_t xff_len;
    char country[3];
    char ray[40];
    char xff_buf[1024];
    char json[768];
    size_t json_len;
    char json_country[3];       /* country the cached json was built for */
} srv_cf_conn_t;

/* Starts the connection's state (rtt from the socket's TCP_INFO). */
void srv_cf_conn_init(srv_cf_conn_t *c, const srv_cf_config_t *cfg, const char *peer, int fd,
                      const char *http_protocol, const char *tls_version, const char *tls_cipher);
/* Starts a request. */
void srv_cf_begin(srv_cf_conn_t *c);
/* True if the client's header is one the edge owns: the caller leaves it out (its value is noted when it
 * matters: X-Forwarded-For is extended, a trusted CF-IPCountry kept). */
bool srv_cf_take_header(srv_cf_conn_t *c, const char *name, size_t name_len, const char *value, size_t value_len);
/* Writes the edge's headers into out (room for SRV_CF_MAX_HEADERS); returns how many. */
size_t srv_cf_add_headers(srv_cf_conn_t *c, ew_header_t *out, bool https);
/* request.cf for this request as JSON (valid until the next request on the conn). */
const char *srv_cf_json(srv_cf_conn_t *c, size_t *len);

#endif
