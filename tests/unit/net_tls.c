/* lib/net/tls.c: a client and a server config talking over a socketpair (non-blocking, handshakes stepped
 * in turn): ALPN in the server's order, data both ways, host-name and trust failures named, bad key files
 * refused. Certificates come from /usr/bin/openssl into a temporary folder. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tls.h"

static char dir[64];

static void sh(const char *fmt, const char *arg)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg, arg, arg, arg);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void make_certs(void)
{
    snprintf(dir, sizeof(dir), "/tmp/ew-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    sh("cd %s && /usr/bin/openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
       "-subj /CN=testca -keyout ca.key -out ca.pem 2>/dev/null", dir);
    sh("cd %s && /usr/bin/openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
       "-keyout host.key -out host.csr 2>/dev/null && printf 'subjectAltName=DNS:localhost\\n' > ext && "
       "/usr/bin/openssl x509 -req -in host.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext "
       "-out host.pem 2>/dev/null", dir);
    sh("cd %s && /usr/bin/openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other "
       "-keyout other.key -out other.csr 2>/dev/null", dir);
}

static void cleanup(void)
{
    sh("rm -rf %s", dir);
}

static const char *path(const char *name)
{
    static char buf[4][128];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
    return buf[i];
}

typedef struct pair {
    int fds[2];
    ew__tls_config_t *ccfg, *scfg;
    ew__tls_conn_t *client, *server;
} pair_t;

static void pair_open(pair_t *p, const char *const *calpn, const char *const *salpn, const char *host,
                      const char *ca)
{
    char err[256] = "";
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
    for (int i = 0; i < 2; i++)
        fcntl(p->fds[i], F_SETFL, O_NONBLOCK);
    p->scfg = ew__tls_config_server(path("host.pem"), path("host.key"), salpn, err, sizeof(err));
    cr_assert_not_null(p->scfg, "%s", err);
    p->ccfg = ew__tls_config_client(ca, calpn, err, sizeof(err));
    cr_assert_not_null(p->ccfg, "%s", err);
    p->client = ew__tls_conn_client(p->ccfg, p->fds[0], host);
    p->server = ew__tls_conn_server(p->scfg, p->fds[1]);
    cr_assert(p->client != NULL && p->server != NULL);
}

static void pair_close(pair_t *p)
{
    ew__tls_conn_destroy(p->client);
    ew__tls_conn_destroy(p->server);
    ew__tls_config_destroy(p->ccfg);
    ew__tls_config_destroy(p->scfg);
    close(p->fds[0]);
    close(p->fds[1]);
}

/* Steps both handshakes until both are done or one fails; returns the client's result. */
static int handshake(pair_t *p)
{
    int c = EW__TLS_WANT_READ, s = EW__TLS_WANT_READ;
    for (int i = 0; i < 200 && (c != 0 || s != 0); i++) {
        if (c != 0 && c != EW__TLS_ERROR)
            c = ew__tls_handshake(p->client);
        if (s != 0 && s != EW__TLS_ERROR)
            s = ew__tls_handshake(p->server);
        if (c == EW__TLS_ERROR)
            return c;
        if (s == EW__TLS_ERROR && c != 0)
            return EW__TLS_ERROR;
    }
    return c;
}

static const char *const both[] = {"h2", "http/1.1", NULL};
static const char *const h1_first[] = {"http/1.1", "h2", NULL};
static const char *const h1_only[] = {"http/1.1", NULL};

Test(net_tls, handshake_alpn_in_server_order_and_data_both_ways, .init = make_certs, .fini = cleanup)
{
    pair_t p;
    pair_open(&p, h1_first, both, "localhost", path("ca.pem"));
    cr_assert_eq(handshake(&p), 0, "%s", ew__tls_conn_error(p.client));
    cr_assert_str_eq(ew__tls_alpn(p.client), "h2"); /* the server prefers h2, the client offers it second */
    cr_assert_str_eq(ew__tls_alpn(p.server), "h2");
    cr_assert_eq(ew__tls_write(p.client, "ping", 4), 4);
    char buf[16];
    cr_assert_eq(ew__tls_read(p.server, buf, sizeof(buf)), 4);
    cr_assert(memcmp(buf, "ping", 4) == 0);
    cr_assert_eq(ew__tls_write(p.server, "pong!", 5), 5);
    cr_assert_eq(ew__tls_read(p.client, buf, sizeof(buf)), 5);
    cr_assert_eq(ew__tls_read(p.client, buf, sizeof(buf)), EW__TLS_WANT_READ);
    ew__tls_close_notify(p.server);
    cr_assert_eq(ew__tls_read(p.client, buf, sizeof(buf)), 0); /* close_notify reads as the end */
    pair_close(&p);
}

Test(net_tls, alpn_falls_back_to_what_both_offer, .init = make_certs, .fini = cleanup)
{
    pair_t p;
    pair_open(&p, h1_only, both, "localhost", path("ca.pem"));
    cr_assert_eq(handshake(&p), 0);
    cr_assert_str_eq(ew__tls_alpn(p.client), "http/1.1");
    pair_close(&p);
}

Test(net_tls, wrong_host_name_is_refused_by_name, .init = make_certs, .fini = cleanup)
{
    pair_t p;
    pair_open(&p, both, both, "example.com", path("ca.pem"));
    cr_assert_eq(handshake(&p), EW__TLS_ERROR);
    cr_assert_str_eq(ew__tls_conn_error(p.client), "certificate is not valid for this host name");
    pair_close(&p);
}

Test(net_tls, untrusted_chain_is_refused, .init = make_certs, .fini = cleanup)
{
    pair_t p;
    pair_open(&p, both, both, "localhost", NULL); /* the system bundle does not know the test CA */
    cr_assert_eq(handshake(&p), EW__TLS_ERROR);
    cr_assert_str_eq(ew__tls_conn_error(p.client), "certificate is not signed by a trusted certificate authority");
    pair_close(&p);
}

Test(net_tls, bad_files_are_refused_with_a_message, .init = make_certs, .fini = cleanup)
{
    char err[256];
    cr_assert_null(ew__tls_config_server(path("missing.pem"), path("host.key"), NULL, err, sizeof(err)));
    cr_assert(strstr(err, "cannot read certificate file") != NULL, "%s", err);
    cr_assert_null(ew__tls_config_server(path("host.pem"), path("other.key"), NULL, err, sizeof(err)));
    cr_assert(strstr(err, "does not match the certificate") != NULL, "%s", err);
    cr_assert_null(ew__tls_config_client(path("missing.pem"), NULL, err, sizeof(err)));
    cr_assert(strstr(err, "cannot read CA file") != NULL, "%s", err);
    cr_assert_null(ew__tls_config_server(NULL, path("host.key"), NULL, err, sizeof(err)));
}
