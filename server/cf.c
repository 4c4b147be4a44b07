/*
 * cf.c — Cloudflare's edge in front of the Worker, reproduced the way `wrangler dev` does locally: request.cf
 * with the fields Workers read (colo and country from the command line, the connection's protocol, TLS and
 * RTT; asn 0 and empty geography beyond the country, since no IP database is consulted), and the headers
 * Cloudflare documents for requests to a Worker. A client cannot forge them: its CF-Connecting-IP, CF-Ray,
 * CF-Visitor, X-Real-IP and X-Forwarded-Proto are dropped, its X-Forwarded-For gets the client's address
 * appended (as Cloudflare does), and its CF-IPCountry is used only with --trust-cf-ipcountry.
 * http.c calls it per request; the JSON is rebuilt only when the country changes on a connection.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "cf.h"

void srv_cf_conn_init(srv_cf_conn_t *c, const srv_cf_config_t *cfg, const char *peer, int fd,
                      const char *http_protocol, const char *tls_version, const char *tls_cipher)
{
    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->peer = peer;
    c->http_protocol = http_protocol;
    c->tls_version = tls_version;
    c->tls_cipher = tls_cipher;
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (fd >= 0 && getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
        c->rtt_ms = ti.tcpi_rtt / 1000;
}

static const char *colo_of(const srv_cf_conn_t *c)
{
    return c->cfg->colo ? c->cfg->colo : "DFW";
}

void srv_cf_begin(srv_cf_conn_t *c)
{
    const char *country = c->cfg->country ? c->cfg->country : "XX";
    memcpy(c->country, country, 2);
    c->country[2] = '\0';
    c->xff = NULL;
    c->xff_len = 0;
}

static bool name_is(const char *name, size_t len, const char *what)
{
    return strlen(what) == len && strncasecmp(name, what, len) == 0;
}

bool srv_cf_take_header(srv_cf_conn_t *c, const char *name, size_t name_len, const char *value, size_t value_len)
{
    if (name_len < 5 || ((name[0] | 0x20) != 'c' && (name[0] | 0x20) != 'x'))
        return false; /* the common case, decided at once */
    if (name_is(name, name_len, "x-forwarded-for")) {
        c->xff = value;
        c->xff_len = value_len;
        return true;
    }
    if (name_is(name, name_len, "cf-ipcountry")) {
        if (c->cfg->trust_ipcountry && value_len == 2)
            for (int i = 0; i < 2; i++)
                c->country[i] = (char) (value[i] & ~0x20); /* upper case */
        return true;
    }
    return name_is(name, name_len, "cf-connecting-ip") || name_is(name, name_len, "cf-ray") ||
           name_is(name, name_len, "cf-visitor") || name_is(name, name_len, "x-real-ip") ||
           name_is(name, name_len, "x-forwarded-proto") || name_is(name, name_len, "cf-connecting-ipv6") ||
           name_is(name, name_len, "cf-worker");
}

static void put(ew_header_t *h, const char *name, const char *value, size_t value_len)
{
    h->name = name;
    h->name_len = strlen(name);
    h->value = value;
    h->value_len = value_len;
}

/* A Ray ID: 16 hex digits, then the colo ("8f3c9a1b2d4e5f60-DFW"). */
static void make_ray(srv_cf_conn_t *c)
{
    static _Thread_local uint64_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        state = ((uint64_t) ts.tv_nsec << 20) ^ (uint64_t) ts.tv_sec ^ (uint64_t) (uintptr_t) &state;
        state |= 1;
    }
    state ^= state << 13; /* xorshift64: unique-looking ids, not secrets */
    state ^= state >> 7;
    state ^= state << 17;
    snprintf(c->ray, sizeof(c->ray), "%016llx-%.8s", (unsigned long long) state, colo_of(c));
}

size_t srv_cf_add_headers(srv_cf_conn_t *c, ew_header_t *out, bool https)
{
    size_t n = 0, plen = strlen(c->peer);
    make_ray(c);
    put(&out[n++], "cf-connecting-ip", c->peer, plen);
    put(&out[n++], "cf-ipcountry", c->country, 2);
    put(&out[n++], "cf-ray", c->ray, strlen(c->ray));
    put(&out[n++], "cf-visitor", https ? "{\"scheme\":\"https\"}" : "{\"scheme\":\"http\"}", https ? 18 : 17);
    if (c->xff != NULL && c->xff_len + plen + 2 < sizeof(c->xff_buf)) {
        int len = snprintf(c->xff_buf, sizeof(c->xff_buf), "%.*s, %s", (int) c->xff_len, c->xff, c->peer);
        put(&out[n++], "x-forwarded-for", c->xff_buf, (size_t) len);
    } else {
        put(&out[n++], "x-forwarded-for", c->peer, plen);
    }
    put(&out[n++], "x-forwarded-proto", https ? "https" : "http", https ? 5 : 4);
    put(&out[n++], "x-real-ip", c->peer, plen);
    return n;
}

const char *srv_cf_json(srv_cf_conn_t *c, size_t *len)
{
    if (c->json_len == 0 || memcmp(c->json_country, c->country, 2) != 0) {
        int n = snprintf(c->json, sizeof(c->json),
                         "{\"asn\":0,\"asOrganization\":\"\",\"clientTcpRtt\":%u,\"colo\":\"%.8s\",\"country\":\"%s\","
                         "\"edgeRequestKeepAliveStatus\":1,\"httpProtocol\":\"%s\",\"requestPriority\":\"\","
                         "\"tlsCipher\":\"%s\",\"tlsVersion\":\"%s\",\"tlsClientAuth\":{\"certPresented\":\"0\","
                         "\"certVerified\":\"NONE\",\"certRevoked\":\"0\"}}",
                         c->rtt_ms, colo_of(c), c->country, c->http_protocol, c->tls_cipher, c->tls_version);
        c->json_len = n > 0 && (size_t) n < sizeof(c->json) ? (size_t) n : 0;
        memcpy(c->json_country, c->country, 3);
    }
    *len = c->json_len;
    return c->json_len ? c->json : NULL;
}
