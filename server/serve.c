/*
 * serve.c — ew-server's threads. Each event-loop thread owns everything it touches: an event_base, an
 * ew_runtime_t with the Worker loaded in it, and an HTTP listener on the shared port (SO_REUSEPORT, so the
 * kernel spreads connections). No mutable state is shared between loop threads; the main thread only
 * starts them, waits for them to be ready, handles signals and flushes stdout. Cron triggers fire on thread 0
 * only (one scheduled event per trigger time, as on Cloudflare, not one per thread).
 *
 *   main: start thread 0 ──(bound port)──> start threads 1..N-1 ──(all ready)──> "Ready on …"
 *   SIGINT/SIGTERM: main activates each thread's stop event (libevent's pthreads locking makes that safe);
 *   each thread drains its connections and leaves its loop; main joins them and exits 0. A second signal,
 *   or the drain deadline, breaks the loops at once.
 */
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
#include <time.h>

#include "edgeworker.h"
#include "http.h"
#include "serve.h"

#define DRAIN_DEADLINE_S 30
#define THREAD_STACK (8u << 20) /* Duktape's native stack check needs a known, roomy stack */

typedef struct loop_thread {
    pthread_t tid;
    int index;
    const serve_opts_t *opts;
    int port;                    /* the port to bind (thread 0: opts->port; others: thread 0's) */
    struct event_base *base;
    ew_runtime_t *rt;
    ew_worker_t *worker;
    srv_http_t *http;
    struct event *cron_ev;       /* thread 0, when the project has crons: the next trigger time */
    int64_t cron_at_ms;          /* when cron_ev is due (UTC ms) */
    bool *cron_due;              /* which crons fire at cron_at_ms (opts->config->ncrons entries) */
    struct event *stop_ev;       /* activated by the main thread */
    /* Start-up handshake with the main thread. */
    pthread_mutex_t *lock;
    pthread_cond_t *cond;
    int state;                   /* 0 starting, 1 ready, -1 failed (under lock) */
    bool created;                /* the thread exists (also when it then failed): it must be joined */
    atomic_bool finished;
} loop_thread_t;

typedef struct server {
    struct event_base *base;     /* main thread: signals, flush, drain watch */
    loop_thread_t *threads;
    int nthreads;
    bool stopping;
    struct event *sigint, *sigterm, *flush, *watch, *deadline;
} server_t;

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    FILE *f = level >= EW_LOG_WARN ? stderr : stdout;
    if (worker[0])
        fprintf(f, "[%s] %.*s\n", worker, (int) len, msg);
    else
        fprintf(f, "%.*s\n", (int) len, msg);
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
    if (t->cron_ev != NULL)
        event_del(t->cron_ev);
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
    const char *expr = udata;
    if (outcome == EW_OK)
        printf("[scheduled] \"%s\" ok\n", expr);
    else
        fprintf(stderr, "[scheduled] \"%s\" failed (%s): %s\n", expr, ew_status_name(outcome),
                err && err->message[0] ? err->message : "no details");
}

static void arm_cron(loop_thread_t *t, int64_t after_ms)
{
    const ew__wrangler_t *c = t->opts->config;
    if (!ew__wrangler_next_cron(c, after_ms, &t->cron_at_ms, t->cron_due))
        return;
    int64_t delay = t->cron_at_ms - wall_ms();
    if (delay < 0)
        delay = 0;
    struct timeval tv = {(time_t) (delay / 1000), (suseconds_t) (delay % 1000) * 1000};
    event_add(t->cron_ev, &tv);
}

static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    loop_thread_t *t = arg;
    const ew__wrangler_t *c = t->opts->config;
    int64_t now = wall_ms();
    if (now < t->cron_at_ms) {
        arm_cron(t, t->cron_at_ms - 1);
        return;
    }
    for (size_t i = 0; i < c->ncrons; i++) {
        if (!t->cron_due[i])
            continue;
        const char *expr = c->crons[i].expression;
        ew_status_t st = ew_worker_scheduled(t->worker, expr, (double) t->cron_at_ms, on_cron_done, (void *) expr);
        if (st != EW_OK)
            fprintf(stderr, "[scheduled] \"%s\" not dispatched: %s\n", expr, ew_status_name(st));
    }
    arm_cron(t, now);
}

static bool cron_start(loop_thread_t *t)
{
    const ew__wrangler_t *c = t->opts->config;
    if (t->index != 0 || c == NULL || c->ncrons == 0)
        return true;
    t->cron_due = calloc(c->ncrons, sizeof(bool));
    t->cron_ev = t->cron_due ? evtimer_new(t->base, on_cron, t) : NULL;
    if (t->cron_ev == NULL)
        return false;
    arm_cron(t, wall_ms());
    return true;
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
    cfg.state_dir = o->state_dir;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &t->rt, &err) != EW_OK) {
        fprintf(stderr, "ew-server: cannot create the runtime: %s\n", err.message);
        return false;
    }
    if (ew_worker_load(t->rt, o->worker, &t->worker, &err) != EW_OK) {
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
        .test_scheduled = o->test_scheduled,
    };
    t->http = srv_http_start(t->base, t->worker, &hcfg);
    if (t->http == NULL)
        return false;
    t->port = srv_http_port(t->http);
    t->stop_ev = event_new(t->base, -1, 0, on_stop, t);
    return t->stop_ev != NULL && cron_start(t);
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
    if (t->cron_ev != NULL)
        event_free(t->cron_ev);
    free(t->cron_due);
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
        t->port = i == 0 ? opts->port : s.threads[0].port;
        t->lock = &lock;
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
        bool v6 = strchr(opts->ip, ':') != NULL;
        printf("Ready on http://%s%s%s:%d\n", v6 ? "[" : "", opts->ip, v6 ? "]" : "", s.threads[0].port);
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
