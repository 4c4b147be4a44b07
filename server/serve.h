/*
 * server/serve.h — running ew-server: N event-loop threads, each with its own runtime, Worker isolates and
 * HTTP listener (SO_REUSEPORT), plus the main thread for signals and output (serve.c).
 */
#ifndef EW_SERVER_SERVE_H
#define EW_SERVER_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/wrangler.h"
#include "edgeworker.h"

/* A route of the server: requests whose URL matches `route` go to workers[worker] (serve_workers_t). */
typedef struct serve_route {
    const ew__route_t *route;    /* a pattern of that Worker's configuration (lib/config/routes.c) */
    size_t worker;               /* index in serve_workers_t.workers */
} serve_route_t;

/* The Workers one server runs (ew-server -c a -c b ...): each loop thread loads all of them in its runtime,
 * so that service bindings between them stay on the thread. Read-only while serving. */
typedef struct serve_workers {
    const ew_worker_config_t *workers;    /* n Workers; [0] (the first config) takes what no route matches */
    const ew__wrangler_t *const *configs; /* their configurations: each one's crons fire on thread 0 */
    size_t n;                             /* >= 1 */
    const serve_route_t *routes;          /* nroutes, most specific first (then in configuration order) */
    size_t nroutes;
} serve_workers_t;

typedef struct serve_opts {
    const char *ip;              /* listen address */
    int port;                    /* 0 = any free port (all threads share the one the first thread got) */
    const serve_workers_t *set;  /* the Workers each thread loads (project.c); read-only while serving */
    const char *state_dir;       /* ew_runtime_config_t.state_dir; NULL = none */
    bool test_scheduled;         /* GET /__scheduled fires the scheduled handler (--test-scheduled) */
    int threads;                 /* event-loop threads, >= 1 */
    uint32_t idle_timeout_ms;    /* 0 = default */
    uint32_t request_timeout_ms; /* 0 = default */
    uint32_t cpu_ms;             /* CPU time per request (ms); 0 = the library's default (50) */
    uint32_t cache_mb;           /* Cache API bound per worker (MiB); 0 = the library's default (64) */
    uint32_t subrequests;        /* fetch() calls per request; 0 = the library's default (50) */
    const char *ca_file;         /* CAs fetch() trusts (--ca-file / EW_CA_FILE); NULL = the system bundle */
    const char *connect_to;      /* fetch() connection overrides (--connect-to), NULL = none */
    const char *colo;            /* request.cf.colo (--colo); NULL = "DFW" */
    const char *country;         /* request.cf.country default (--country); NULL = "XX" */
    bool trust_ipcountry;        /* a client's CF-IPCountry sets the country (--trust-cf-ipcountry) */
    bool metrics;                /* --metrics: GET /__metrics answers Prometheus text */
    /* Reload (SIGHUP, --watch): reload() re-reads the projects and gives their Workers (false when they did
     * not load: the current ones stay); then either reload_discard() (one does not compile) or, once every
     * thread has switched, reload_commit() (the previous projects may be freed). Main thread. */
    bool (*reload)(void *arg, const serve_workers_t **set);
    void (*reload_discard)(void *arg);
    void (*reload_commit)(void *arg);
    void *reload_arg;
    const char *const *watch_dirs; /* --watch: reload when a file under one of these folders changes */
    size_t nwatch_dirs;          /* 0 = off */
    const char *tls_cert;        /* --tls-cert: serve TLS with this certificate chain; NULL = plain */
    const char *tls_key;         /* --tls-key */
    uint32_t durable_idle_ms;    /* Durable Object idle eviction (ms); 0 = the library's default (70000) */
} serve_opts_t;

/* Serves until SIGINT/SIGTERM has drained every thread; returns the process exit code. */
int serve_run(const serve_opts_t *opts);

#endif
