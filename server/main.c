/*
 * main.c — ew-server: serves a Worker over HTTP/1.1 the way `wrangler dev` does.
 *
 *   ew-server [--ip IP] [--port N] [PATH]
 *
 * PATH is a Worker script, or a folder holding src/index.js, index.js or worker.js (default: the current
 * folder). Prints "Ready on http://IP:PORT" once listening, one line per request, and the Worker's console
 * output prefixed by its name. SIGINT/SIGTERM stop accepting, let in-flight requests finish (up to a
 * deadline) and exit 0. The configuration (wrangler.toml) and the other flags of ARCHITECTURE.md come with
 * the ew-server issue; this file stays the thin composition of lib (runtime, worker) and http.c.
 */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "edgeworker.h"
#include "http.h"

#define DRAIN_DEADLINE_S 30

typedef struct server {
    struct event_base *base;
    srv_http_t *http;
    struct event *sigint, *sigterm, *drain_deadline, *flush;
    bool stopping;
} server_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: ew-server [--ip IP] [--port N] [PATH]\n"
               "  PATH  a Worker script, or a folder with src/index.js, index.js or worker.js (default: .)\n"
               "  --ip IP     address to listen on (default 127.0.0.1)\n"
               "  --port N    TCP port (default 8787; 0 picks a free one)\n"
               "  --idle-timeout MS     close keep-alive connections idle this long (default 60000)\n"
               "  --request-timeout MS  a request's head and body must arrive within this (default 30000)\n");
}

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    FILE *f = level >= EW_LOG_WARN ? stderr : stdout;
    if (worker[0])
        fprintf(f, "[%s] %.*s\n", worker, (int) len, msg);
    else
        fprintf(f, "%.*s\n", (int) len, msg);
}

/* Resolves PATH to a script file; prints why not on failure. */
static bool resolve_script(const char *path, char *out, size_t outlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "ew-server: %s: %s\n", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(out, outlen, "%s", path);
        return true;
    }
    static const char *candidates[] = {"src/index.js", "index.js", "worker.js"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        snprintf(out, outlen, "%s/%s", path, candidates[i]);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
            return true;
    }
    fprintf(stderr, "ew-server: %s: no Worker script found (looked for src/index.js, index.js, worker.js)\n", path);
    return false;
}

/* stdout (request lines, console output) is block-buffered; this flushes it ten times a second. */
static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
    fflush(stdout);
}

static void on_drained(void *arg)
{
    server_t *s = arg;
    event_base_loopexit(s->base, NULL);
}

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    server_t *s = arg;
    fprintf(stderr, "ew-server: in-flight requests did not finish within %d s; exiting\n", DRAIN_DEADLINE_S);
    event_base_loopexit(s->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void) what;
    server_t *s = arg;
    if (s->stopping) {
        event_base_loopexit(s->base, NULL); /* a second signal: stop now */
        return;
    }
    s->stopping = true;
    fprintf(stderr, "ew-server: %s received, draining %u connection(s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
            srv_http_connections(s->http));
    struct timeval tv = {DRAIN_DEADLINE_S, 0};
    event_add(s->drain_deadline, &tv);
    srv_http_drain(s->http, on_drained, s);
}

static bool parse_uint(const char *text, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *ip = "127.0.0.1", *path = ".";
    int port = 8787;
    long idle_ms = 0, request_ms = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool takes_value = strcmp(a, "--ip") == 0 || strcmp(a, "--port") == 0 || strcmp(a, "--idle-timeout") == 0 ||
                           strcmp(a, "--request-timeout") == 0;
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "ew-server: %s needs a value\n", a);
            return 2;
        }
        long v;
        if (strcmp(a, "--ip") == 0) {
            ip = argv[++i];
        } else if (strcmp(a, "--port") == 0) {
            if (!parse_uint(argv[++i], 65535, &v)) {
                fprintf(stderr, "ew-server: --port %s is not a port number (0-65535)\n", argv[i]);
                return 2;
            }
            port = (int) v;
        } else if (strcmp(a, "--idle-timeout") == 0 || strcmp(a, "--request-timeout") == 0) {
            if (!parse_uint(argv[++i], 86400000, &v) || v == 0) {
                fprintf(stderr, "ew-server: %s %s is not a number of milliseconds (1-86400000)\n", a, argv[i]);
                return 2;
            }
            *(a[2] == 'i' ? &idle_ms : &request_ms) = v;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ew-server: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            path = a;
        }
    }
    char script[PATH_MAX];
    if (!resolve_script(path, script, sizeof(script)))
        return 1;
    signal(SIGPIPE, SIG_IGN);
    static char outbuf[65536];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

    server_t srv = {0};
    srv.base = event_base_new();
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.base = srv.base;
    cfg.log = on_log;
    ew_runtime_t *rt = NULL;
    ew_error_t err;
    if (srv.base == NULL || ew_runtime_create(&cfg, &rt, &err) != EW_OK) {
        fprintf(stderr, "ew-server: cannot create the runtime: %s\n", srv.base ? err.message : "no event base");
        return 1;
    }
    ew_worker_t *worker = NULL;
    ew_worker_config_t wcfg = {.name = "worker", .path = script};
    if (ew_worker_load(rt, &wcfg, &worker, &err) != EW_OK) {
        fprintf(stderr, "ew-server: %s\n", err.message);
        ew_runtime_destroy(rt);
        event_base_free(srv.base);
        return 1;
    }
    srv_http_config_t hcfg = {
        .ip = ip,
        .port = port,
        .idle_timeout_ms = (uint32_t) idle_ms,
        .request_timeout_ms = (uint32_t) request_ms,
        .log_requests = true,
    };
    srv.http = srv_http_start(srv.base, worker, &hcfg);
    if (srv.http == NULL) {
        ew_runtime_destroy(rt);
        event_base_free(srv.base);
        return 1;
    }
    srv.sigint = evsignal_new(srv.base, SIGINT, on_signal, &srv);
    srv.sigterm = evsignal_new(srv.base, SIGTERM, on_signal, &srv);
    srv.drain_deadline = evtimer_new(srv.base, on_drain_deadline, &srv);
    srv.flush = event_new(srv.base, -1, EV_PERSIST, on_flush, NULL);
    struct timeval flush_every = {0, 100000};
    event_add(srv.flush, &flush_every);
    event_add(srv.sigint, NULL);
    event_add(srv.sigterm, NULL);
    printf("Ready on http://%s%s%s:%d\n", strchr(ip, ':') ? "[" : "", ip, strchr(ip, ':') ? "]" : "",
           srv_http_port(srv.http));
    fflush(stdout);

    event_base_dispatch(srv.base);

    ew_runtime_destroy(rt); /* in-flight requests (after a deadline) complete as cancelled */
    srv_http_free(srv.http);
    event_free(srv.sigint);
    event_free(srv.sigterm);
    event_free(srv.drain_deadline);
    event_free(srv.flush);
    fflush(stdout);
    event_base_free(srv.base);
    return 0;
}
