/*
 * serve.c — ew-server's threads. Each event-loop thread owns everything it touches: an event_base, an
 * ew_runtime_t with every Worker of the server loaded in it (the first one takes the requests no route
 * matches; service bindings between them stay on the thread), and an HTTP listener on the shared port
 * (SO_REUSEPORT, so the kernel spreads connections). The only state loop threads share is the library's Durable Object registry
 * (a request for an object held by another thread is handed to that thread's loop; docs/architecture.md);
 * the main thread only starts them, waits for them to be ready, handles signals and flushes stdout. Cron triggers fire on thread 0
 * only (one scheduled event per trigger time and Worker, as on Cloudflare, not one per thread).
 *
 *   main: start thread 0 ──(bound port)──> start threads 1..N-1 ──(all ready)──> "Ready on …"
 *   SIGINT/SIGTERM: main activates each thread's stop event (libevent's pthreads locking makes that safe);
 *   each thread drains its connections and leaves its loop; main joins them and exits 0. A second signal,
 *   or the drain deadline, breaks the loops at once.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "edgeworker.h"
#include "http.h"
#include "log.h"
#include "serve.h"

#define DRAIN_DEADLINE_S 30
#define THREAD_STACK (8u << 20) /* Duktape's native stack check needs a known, roomy stack */

typedef struct loop_thread loop_thread_t;

/* Thread 0's cron timer of one Worker: armed for the next minute one of its triggers matches. */
typedef struct cron_timer {
    loop_thread_t *t;
    size_t worker;               /* index in t->workers */
    const ew__wrangler_t *config; /* that Worker's configuration (its crons) */
    struct event *ev;
    int64_t at_ms;               /* when ev is due (UTC ms) */
    bool *due;                   /* which crons fire at at_ms (config->ncrons entries) */
} cron_timer_t;

struct loop_thread {
    pthread_t tid;
    int index;
    const serve_opts_t *opts;
    int port;                    /* the port to bind (thread 0: opts->port; others: thread 0's) */
    struct event_base *base;
    ew_runtime_t *rt;
    ew_worker_t **workers;       /* owned array of set->n, loaded from set->workers; [0] the primary */
    srv_http_t *http;
    cron_timer_t *crons;         /* thread 0: owned array of set->n cron timers (ev NULL: no crons) */
    struct event *stop_ev;       /* activated by the main thread */
    const serve_workers_t *set;  /* the Workers now (routes, crons); replaced by a reload */
    /* Reload (SIGHUP, --watch): the main thread sets next_* under *lock and activates reload_ev; the thread
     * loads the new Worker, switches new requests to it, and clears reload_pending. The old Worker is
     * retired: destroyed once its last request (open WebSockets included) has finished. */
    struct event *reload_ev, *reap_ev;
    const serve_workers_t *next_set;
    bool reload_pending;
    ew_worker_t **retired;       /* owned array of nretired workers still finishing requests */
    size_t nretired;
    /* Start-up handshake with the main thread. */
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int state;                   /* 0 starting, 1 ready, -1 failed (under lock) */
    bool created;                /* the thread exists (also when it then failed): it must be joined */
    atomic_bool finished;
    /* --metrics: this thread's counters, copied every METRICS_MS under *lock for GET /__metrics, which
     * any thread answers by summing all of them (the library's stats belong to their thread). */
    struct event *metrics_ev;
    ew_worker_stats_t snap;
    double cpu_ms;               /* ew_worker_cpu_ms of the current and retired Workers */
    uint32_t conns;
    struct loop_thread *all;     /* every thread's struct (nthreads of them) */
    int nthreads;
};

#define METRICS_MS 250

typedef struct server {
    struct event_base *base;     /* main thread: signals, flush, drain watch */
    loop_thread_t *threads;
    int nthreads;
    bool stopping;
    struct event *sigint, *sigterm, *flush, *watch, *deadline;
    struct event *sighup, *files;  /* reload on SIGHUP; --watch: the poll of the project's files */
    uint64_t files_sig;            /* --watch: signature of the files last seen */
} server_t;

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    srv_log_message(level, worker, msg, len);
}

/* ---------------------------------------------------------------------------------------------------------
 * Loop threads
 */

static void on_thread_drained(void *arg)
{
    loop_thread_t *t = arg;
    event_base_loopexit(t->base, NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    loop_thread_t *t = arg;
    for (size_t i = 0; t->crons != NULL && i < t->set->n; i++)
        if (t->crons[i].ev != NULL)
            event_del(t->crons[i].ev);
    srv_http_drain(t->http, on_thread_drained, t);
}

static void set_state(loop_thread_t *t, int state)
{
    pthread_mutex_lock(t->lock);
    t->state = state;
    pthread_cond_broadcast(t->cond);
    pthread_mutex_unlock(t->lock);
}

/* ---------------------------------------------------------------------------------------------------------
 * Cron triggers (thread 0): one timer armed for the next minute any trigger matches. Timers run on the
 * monotonic clock while cron times are UTC wall-clock times, so each firing re-reads the wall clock: early
 * (the clock was set back) re-arms for the rest; late (the process was stopped) fires once, not once per
 * missed minute, and schedules from now.
 */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_cron_done(void *udata, ew_status_t outcome, const ew_error_t *err)
{
    char *expr = udata; /* a copy: a reload may free the configuration meanwhile */
    char line[1400];
    int n;
    if (outcome == EW_OK)
        n = snprintf(line, sizeof(line), "\"%s\" ok", expr);
    else
        n = snprintf(line, sizeof(line), "\"%s\" failed (%s): %s", expr, ew_status_name(outcome),
                     err && err->message[0] ? err->message : "no details");
    srv_log_message(outcome == EW_OK ? EW_LOG_INFO : EW_LOG_ERROR, "scheduled", line,
                    n < 0 ? 0 : (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
    free(expr);
}

static void arm_cron(cron_timer_t *c, int64_t after_ms)
{
    if (!ew__wrangler_next_cron(c->config, after_ms, &c->at_ms, c->due))
        return;
    int64_t delay = c->at_ms - wall_ms();
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t) (delay / 1000), (suseconds_t) (delay % 1000) * 1000};
    event_add(c->ev, &tv);
}

static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    cron_timer_t *c = arg;
    const ew__wrangler_t *cfg = c->config;
    int64_t now = wall_ms();
    if (now < c->at_ms) {
        arm_cron(c, c->at_ms - 1);
        return;
    }
    for (size_t i = 0; i < cfg->ncrons; i++) {
        if (!c->due[i])
            continue;
        const char *expr = cfg->crons[i].expression;
        char *copy = strdup(expr);
        ew_status_t st = copy ? ew_worker_scheduled(c->t->workers[c->worker], expr, (double) c->at_ms, on_cron_done,
                                                    copy)
                              : EW_ERR_NOMEM;
        if (st != EW_OK) {
            free(copy);
            fprintf(stderr, "[scheduled] \"%s\" not dispatched: %s\n", expr, ew_status_name(st));
        }
    }
    arm_cron(c, now);
}

static void cron_stop(loop_thread_t *t)
{
    for (size_t i = 0; t->crons != NULL && i < t->set->n; i++) {
        if (t->crons[i].ev != NULL)
            event_free(t->crons[i].ev);
        free(t->crons[i].due);
    }
    free(t->crons);
    t->crons = NULL;
}

/* Thread 0: one timer per Worker that has cron triggers. */
static bool cron_start(loop_thread_t *t)
{
    if (t->index != 0)
        return true;
    if ((t->crons = calloc(t->set->n, sizeof(*t->crons))) == NULL)
        return false;
    for (size_t i = 0; i < t->set->n; i++) {
        cron_timer_t *c = &t->crons[i];
        c->t = t;
        c->worker = i;
        c->config = t->set->configs[i];
        if (c->config == NULL || c->config->ncrons == 0)
            continue;
        c->due = calloc(c->config->ncrons, sizeof(bool));
        c->ev = c->due ? evtimer_new(t->base, on_cron, c) : NULL;
        if (c->ev == NULL)
            return false;
        arm_cron(c, wall_ms());
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Routes: which Worker a request goes to (lib/config/routes.c matching); NULL = the primary.
 */

static ew_worker_t *route_request(void *arg, const char *url)
{
    loop_thread_t *t = arg;
    const serve_workers_t *set = t->set;
    char scheme[16];
    const char *host, *path;
    size_t hl, pl;
    if (set->nroutes == 0 || !ew__route_split_url(url, scheme, sizeof(scheme), &host, &hl, &path, &pl))
        return NULL;
    for (size_t i = 0; i < set->nroutes; i++)
        if (ew__route_match(set->routes[i].route, scheme, host, hl, path, pl))
            return t->workers[set->routes[i].worker];
    return NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * GET /__metrics (--metrics): Prometheus text format 0.0.4, summed over the loop threads.
 */

static void on_metrics_tick(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    loop_thread_t *t = arg;
    ew_worker_stats_t st;
    memset(&st, 0, sizeof(st));
    double cpu = 0;
    for (size_t i = 0; i < t->set->n; i++) { /* every Worker of the server, summed */
        ew_worker_stats_t one;
        ew_worker_get_stats(t->workers[i], &one);
        st.requests += one.requests;
        st.exceptions += one.exceptions;
        st.limit_errors += one.limit_errors;
        st.isolates += one.isolates;
        st.isolates_created += one.isolates_created;
        st.heap_bytes += one.heap_bytes;
        st.pending += one.pending;
        cpu += ew_worker_cpu_ms(t->workers[i]);
    }
    for (size_t i = 0; i < t->nretired; i++) /* a reload's old Workers may still be finishing requests */
        cpu += ew_worker_cpu_ms(t->retired[i]);
    uint32_t conns = srv_http_connections(t->http);
    pthread_mutex_lock(t->lock);
    t->snap = st;
    t->cpu_ms = cpu;
    t->conns = conns;
    pthread_mutex_unlock(t->lock);
}

static size_t metrics_text(void *arg, char *buf, size_t cap)
{
    loop_thread_t *self = arg;
    on_metrics_tick(-1, 0, self); /* this thread's figures are current; the others' at most METRICS_MS old */
    ew_worker_stats_t sum;
    memset(&sum, 0, sizeof(sum));
    uint64_t conns = 0;
    double cpu_ms = 0;
    pthread_mutex_lock(self->lock);
    for (int i = 0; i < self->nthreads; i++) {
        const loop_thread_t *t = &self->all[i];
        sum.requests += t->snap.requests;
        sum.exceptions += t->snap.exceptions;
        sum.limit_errors += t->snap.limit_errors;
        sum.isolates += t->snap.isolates;
        sum.isolates_created += t->snap.isolates_created;
        sum.heap_bytes += t->snap.heap_bytes;
        sum.pending += t->snap.pending;
        cpu_ms += t->cpu_ms;
        conns += t->conns;
    }
    pthread_mutex_unlock(self->lock);
    int n = snprintf(buf, cap,
        "# HELP ew_requests_total Events dispatched to the Worker (fetch and scheduled).\n"
        "# TYPE ew_requests_total counter\new_requests_total %llu\n"
        "# HELP ew_errors_total Events that ended with an uncaught exception or a broken limit.\n"
        "# TYPE ew_errors_total counter\new_errors_total{kind=\"exception\"} %llu\n"
        "ew_errors_total{kind=\"limit\"} %llu\n"
        "# HELP ew_cpu_seconds_total CPU time charged to the Worker's requests.\n"
        "# TYPE ew_cpu_seconds_total counter\new_cpu_seconds_total %.6f\n"
        "# HELP ew_requests_in_flight Requests being handled now (open WebSockets included).\n"
        "# TYPE ew_requests_in_flight gauge\new_requests_in_flight %u\n"
        "# HELP ew_isolates Isolates alive now.\n# TYPE ew_isolates gauge\new_isolates %u\n"
        "# HELP ew_isolates_created_total Isolates created (replacements after a broken limit included).\n"
        "# TYPE ew_isolates_created_total counter\new_isolates_created_total %u\n"
        "# HELP ew_heap_bytes Bytes allocated by the live isolates' heaps.\n"
        "# TYPE ew_heap_bytes gauge\new_heap_bytes %zu\n"
        "# HELP ew_connections Open client connections.\n# TYPE ew_connections gauge\new_connections %llu\n"
        "# HELP ew_compiles_total Worker programs compiled by this process (compile-cache hits and bytecode "
        "bundles skip the compiler).\n# TYPE ew_compiles_total counter\new_compiles_total %llu\n",
        (unsigned long long) sum.requests, (unsigned long long) sum.exceptions,
        (unsigned long long) sum.limit_errors, cpu_ms / 1000.0, sum.pending, sum.isolates,
        sum.isolates_created, sum.heap_bytes, (unsigned long long) conns, (unsigned long long) ew_compile_count());
    return n < 0 ? 0 : (size_t) n < cap ? (size_t) n : cap - 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reload (loop threads)
 */

/* Destroys retired Workers that have no request left. */
static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    loop_thread_t *t = arg;
    size_t keep = 0;
    for (size_t i = 0; i < t->nretired; i++) {
        ew_worker_stats_t st;
        ew_worker_get_stats(t->retired[i], &st);
        if (st.pending == 0)
            ew_worker_destroy(t->retired[i]);
        else
            t->retired[keep++] = t->retired[i];
    }
    t->nretired = keep;
    if (keep == 0)
        event_del(t->reap_ev);
}

/* Loads every Worker of `set` into the thread's runtime: a new array, or NULL (with err, and the workers
 * loaded so far destroyed) when one fails. */
static ew_worker_t **load_workers(loop_thread_t *t, const serve_workers_t *set, ew_error_t *err)
{
    ew_worker_t **ws = calloc(set->n, sizeof(*ws));
    if (ws == NULL) {
        snprintf(err->message, sizeof(err->message), "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < set->n; i++) {
        if (ew_worker_load(t->rt, &set->workers[i], &ws[i], err) != EW_OK) {
            while (i-- > 0)
                ew_worker_destroy(ws[i]);
            free(ws);
            return NULL;
        }
    }
    return ws;
}

static void on_reload(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    loop_thread_t *t = arg;
    pthread_mutex_lock(t->lock);
    const serve_workers_t *set = t->next_set;
    pthread_mutex_unlock(t->lock);
    ew_error_t err;
    ew_worker_t **grown = realloc(t->retired, (t->nretired + t->set->n) * sizeof(*grown));
    if (grown != NULL)
        t->retired = grown;
    ew_worker_t **nw = grown != NULL ? load_workers(t, set, &err) : NULL;
    if (nw == NULL) {
        if (t->index == 0) /* the main thread compiled them first: only resources can fail here */
            fprintf(stderr, "ew-server: reload failed, the previous Workers keep serving: %s\n",
                    grown ? err.message : "out of memory");
    } else {
        if (t->index == 0)
            cron_stop(t);
        for (size_t i = 0; i < t->set->n; i++)
            t->retired[t->nretired++] = t->workers[i];
        free(t->workers);
        t->workers = nw;
        t->set = set;
        srv_http_set_worker(t->http, nw[0]);
        struct timeval every = {0, 100000};
        event_add(t->reap_ev, &every);
        if (t->index == 0 && !cron_start(t))
            fprintf(stderr, "ew-server: out of memory re-arming the cron triggers\n");
    }
    pthread_mutex_lock(t->lock);
    t->reload_pending = false;
    pthread_cond_broadcast(t->cond);
    pthread_mutex_unlock(t->lock);
}

/* Creates the thread's loop, runtime, Worker and listener; false (with a message printed) on failure. */
static bool thread_setup(loop_thread_t *t)
{
    const serve_opts_t *o = t->opts;
    t->base = event_base_new();
    if (t->base == NULL) {
        fprintf(stderr, "ew-server: cannot create an event loop\n");
        return false;
    }
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.base = t->base;
    cfg.log = on_log;
    cfg.cpu_ms = o->cpu_ms;
    cfg.cache_mb = o->cache_mb;
    cfg.subrequests = o->subrequests;
    cfg.ca_file = o->ca_file;
    cfg.connect_to = o->connect_to;
    cfg.durable_idle_ms = o->durable_idle_ms;
    cfg.state_dir = o->state_dir;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &t->rt, &err) != EW_OK) {
        fprintf(stderr, "ew-server: cannot create the runtime: %s\n", err.message);
        return false;
    }
    if ((t->workers = load_workers(t, t->set, &err)) == NULL) {
        if (t->index == 0) /* every thread would say the same */
            fprintf(stderr, "ew-server: %s\n", err.message);
        return false;
    }
    srv_http_config_t hcfg = {
        .ip = o->ip,
        .port = t->port,
        .idle_timeout_ms = o->idle_timeout_ms,
        .request_timeout_ms = o->request_timeout_ms,
        .log_requests = true,
        .reuse_port = true,
        .claim_port = t->index == 0,
        .test_scheduled = o->test_scheduled,
        .cf = {.colo = o->colo, .country = o->country, .trust_ipcountry = o->trust_ipcountry},
        .tls_cert = o->tls_cert,
        .tls_key = o->tls_key,
        .route = route_request,
        .route_arg = t,
    };
    if (o->metrics) {
        hcfg.metrics = metrics_text;
        hcfg.metrics_arg = t;
    }
    t->http = srv_http_start(t->base, t->workers[0], &hcfg);
    if (t->http == NULL)
        return false;
    if (o->metrics) {
        struct timeval every = {0, METRICS_MS * 1000};
        t->metrics_ev = event_new(t->base, -1, EV_PERSIST, on_metrics_tick, t);
        if (t->metrics_ev == NULL || event_add(t->metrics_ev, &every) != 0)
            return false;
    }
    t->port = srv_http_port(t->http);
    t->stop_ev = event_new(t->base, -1, 0, on_stop, t);
    t->reload_ev = event_new(t->base, -1, 0, on_reload, t);
    t->reap_ev = event_new(t->base, -1, EV_PERSIST, on_reap, t);
    return t->stop_ev != NULL && t->reload_ev != NULL && t->reap_ev != NULL && cron_start(t);
}

static void *thread_main(void *arg)
{
    loop_thread_t *t = arg;
    if (!thread_setup(t)) {
        set_state(t, -1);
        return NULL;
    }
    set_state(t, 1);
    event_base_dispatch(t->base);
    ew_runtime_destroy(t->rt); /* requests still in flight after a forced stop complete as cancelled */
    t->rt = NULL;
    srv_http_free(t->http);
    t->http = NULL;
    atomic_store(&t->finished, true);
    return NULL;
}

static void thread_free(loop_thread_t *t)
{
    if (t->reload_ev != NULL)
        event_free(t->reload_ev);
    if (t->reap_ev != NULL)
        event_free(t->reap_ev);
    free(t->retired); /* the workers themselves went with the runtime */
    free(t->workers);
    if (t->metrics_ev != NULL)
        event_free(t->metrics_ev);
    cron_stop(t);
    if (t->rt != NULL)
        ew_runtime_destroy(t->rt);
    if (t->http != NULL)
        srv_http_free(t->http);
    if (t->stop_ev != NULL)
        event_free(t->stop_ev);
    if (t->base != NULL)
        event_base_free(t->base);
}

/* Starts thread t and waits until it is listening (true) or has failed (false). */
static bool thread_start(loop_thread_t *t)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    /* Loop threads must not take the process signals: the main thread handles them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&t->tid, &attr, thread_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "ew-server: cannot start a thread: %s\n", strerror(rc));
        t->state = -1;
        return false;
    }
    t->created = true;
    pthread_mutex_lock(t->lock);
    while (t->state == 0)
        pthread_cond_wait(t->cond, t->lock);
    pthread_mutex_unlock(t->lock);
    return t->state == 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Main thread
 */

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
    fflush(stdout);
}

/* Exits the main loop once every loop thread has left its loop. */
static void on_watch(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    server_t *s = arg;
    for (int i = 0; i < s->nthreads; i++)
        if (!atomic_load(&s->threads[i].finished))
            return;
    event_base_loopexit(s->base, NULL);
}

static void break_all(server_t *s)
{
    for (int i = 0; i < s->nthreads; i++)
        event_base_loopbreak(s->threads[i].base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    fprintf(stderr, "ew-server: in-flight requests did not finish within %d s; exiting\n", DRAIN_DEADLINE_S);
    break_all(arg);
}

/* ---------------------------------------------------------------------------------------------------------
 * Reload (main thread): re-read the project, compile it once here so that a broken edit is refused
 * before any thread sees it, then let every thread switch and wait for them before freeing the old one.
 */

static bool compiles(const serve_workers_t *set)
{
    ew_runtime_t *rt;
    ew_worker_t *worker;
    ew_error_t err;
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK)
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < set->n; i++) {
        ew_worker_config_t check = set->workers[i];
        check.nresources = 0; /* compiling needs no storage */
        check.resources = NULL;
        ok = ew_worker_load(rt, &check, &worker, &err) == EW_OK;
    }
    if (!ok)
        fprintf(stderr, "ew-server: reload refused, the previous Workers keep serving: %s\n", err.message);
    ew_runtime_destroy(rt);
    return ok;
}

static void reload(server_t *s, const serve_opts_t *o, const char *why)
{
    const serve_workers_t *set;
    if (s->stopping || o->reload == NULL)
        return;
    if (!o->reload(o->reload_arg, &set))
        return; /* the projects did not load: reload() printed why, the current ones stay */
    if (!compiles(set)) {
        o->reload_discard(o->reload_arg);
        return;
    }
    for (int i = 0; i < s->nthreads; i++) {
        loop_thread_t *t = &s->threads[i];
        pthread_mutex_lock(t->lock);
        t->next_set = set;
        t->reload_pending = true;
        pthread_mutex_unlock(t->lock);
        event_active(t->reload_ev, EV_TIMEOUT, 1);
    }
    for (int i = 0; i < s->nthreads; i++) {
        loop_thread_t *t = &s->threads[i];
        pthread_mutex_lock(t->lock);
        while (t->reload_pending)
            pthread_cond_wait(t->cond, t->lock);
        pthread_mutex_unlock(t->lock);
    }
    o->reload_commit(o->reload_arg); /* no thread refers to the previous projects any more */
    fprintf(stderr, "ew-server: %s: reloaded the Worker%s\n", why, set->n > 1 ? "s" : "");
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
    (void) sig;
    (void) what;
    server_t *s = arg;
    reload(s, s->threads[0].opts, "SIGHUP");
}

/* A cheap signature of a folder's files: names, sizes and modification times, recursively, skipping
 * folders whose name starts with '.' (.git, .wrangler state) and node_modules. */
static uint64_t tree_signature(const char *dir, int depth, int *budget)
{
    uint64_t sig = 1469598103934665603ull;
    DIR *d = opendir(dir);
    if (d == NULL || depth > 8)
        return d ? (closedir(d), sig) : sig;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL && --*budget > 0) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (lstat(path, &st) != 0)
            continue;
        uint64_t h;
        if (S_ISDIR(st.st_mode)) {
            if (e->d_name[0] == '.' || strcmp(e->d_name, "node_modules") == 0)
                continue;
            h = tree_signature(path, depth + 1, budget);
        } else {
            h = (uint64_t) st.st_size * 31u + (uint64_t) st.st_mtim.tv_sec * 1000000007u + (uint64_t) st.st_mtim.tv_nsec;
        }
        for (const char *p = e->d_name; *p; p++)
            h = (h ^ (unsigned char) *p) * 1099511628211ull;
        sig += h * 0x9E3779B97F4A7C15ull; /* order-independent: readdir's order may change */
    }
    closedir(d);
    return sig;
}

/* The signature of every watched folder (one per project). */
static uint64_t watch_signature(const serve_opts_t *o, int *budget)
{
    uint64_t sig = 0;
    for (size_t i = 0; i < o->nwatch_dirs; i++)
        sig = sig * 1099511628211ull + tree_signature(o->watch_dirs[i], 0, budget);
    return sig;
}

static void on_files(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    server_t *s = arg;
    int budget = 20000;
    uint64_t sig = watch_signature(s->threads[0].opts, &budget);
    if (sig != s->files_sig) {
        s->files_sig = sig;
        reload(s, s->threads[0].opts, "a file changed");
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void) what;
    server_t *s = arg;
    if (s->stopping) {
        break_all(s); /* a second signal: stop now */
        return;
    }
    s->stopping = true;
    fprintf(stderr, "ew-server: %s received, draining\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    for (int i = 0; i < s->nthreads; i++)
        event_active(s->threads[i].stop_ev, EV_TIMEOUT, 1);
    struct timeval deadline = {DRAIN_DEADLINE_S, 0}, every = {0, 20000};
    event_add(s->deadline, &deadline);
    event_add(s->watch, &every);
}

int serve_run(const serve_opts_t *opts)
{
    if (evthread_use_pthreads() != 0) {
        fprintf(stderr, "ew-server: libevent has no pthreads support\n");
        return 1;
    }
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    server_t s = {.nthreads = opts->threads};
    s.threads = calloc((size_t) opts->threads, sizeof(*s.threads));
    s.base = event_base_new();
    if (s.threads == NULL || s.base == NULL) {
        fprintf(stderr, "ew-server: out of memory\n");
        return 1;
    }
    int started = 0, rc = 0;
    for (int i = 0; i < s.nthreads; i++) {
        loop_thread_t *t = &s.threads[i];
        t->index = i;
        t->opts = opts;
        t->set = opts->set;
        t->port = i == 0 ? opts->port : s.threads[0].port;
        t->lock = &lock;
        t->all = s.threads;
        t->nthreads = s.nthreads;
        t->cond = &cond;
        if (!thread_start(t)) {
            rc = 1;
            break;
        }
        started++;
    }
    if (rc == 0) {
        s.sigint = evsignal_new(s.base, SIGINT, on_signal, &s);
        s.sigterm = evsignal_new(s.base, SIGTERM, on_signal, &s);
        s.flush = event_new(s.base, -1, EV_PERSIST, on_flush, NULL);
        s.watch = event_new(s.base, -1, EV_PERSIST, on_watch, &s);
        s.deadline = evtimer_new(s.base, on_deadline, &s);
        struct timeval flush_every = {0, 100000};
        event_add(s.flush, &flush_every);
        event_add(s.sigint, NULL);
        event_add(s.sigterm, NULL);
        s.sighup = evsignal_new(s.base, SIGHUP, on_sighup, &s);
        event_add(s.sighup, NULL);
        if (opts->nwatch_dirs > 0) {
            int budget = 20000;
            s.files_sig = watch_signature(opts, &budget);
            s.files = event_new(s.base, -1, EV_PERSIST, on_files, &s);
            struct timeval poll = {0, 300000};
            event_add(s.files, &poll);
        }
        bool v6 = strchr(opts->ip, ':') != NULL;
        printf("Ready on %s://%s%s%s:%d\n", opts->tls_cert ? "https" : "http", v6 ? "[" : "", opts->ip, v6 ? "]" : "",
               s.threads[0].port);
        fflush(stdout);
        event_base_dispatch(s.base);
    } else {
        for (int i = 0; i < started; i++)
            event_active(s.threads[i].stop_ev, EV_TIMEOUT, 1);
    }
    for (int i = 0; i < s.nthreads; i++)
        if (s.threads[i].created)
            pthread_join(s.threads[i].tid, NULL); /* a thread that failed to start is joined too */
    for (int i = 0; i < s.nthreads; i++)
        thread_free(&s.threads[i]);
    if (s.sigint != NULL) {
        event_free(s.sighup);
        if (s.files != NULL)
            event_free(s.files);
        event_free(s.sigint);
        event_free(s.sigterm);
        event_free(s.flush);
        event_free(s.watch);
        event_free(s.deadline);
    }
    event_base_free(s.base);
    free(s.threads);
    fflush(stdout);
    return rc;
}
