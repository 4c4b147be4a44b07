/*
 * do_bench.c — Durable Object round trips, as a Worker sees them: one request to the Worker makes one call to
 * an object and returns what it got. Latency per request (p50 / p99, microseconds) of:
 *
 *   plain        the Worker answers by itself (the baseline the others add to)
 *   fetch        stub.fetch() to an object held by the same runtime (thread)
 *   rpc          stub.method() to an object held by the same runtime
 *   rpc-write    stub.method() that does storage.put (the reply waits for the commit: one fsync)
 *   fetch-x      stub.fetch() to an object held by another runtime on another thread (handed over)
 *   rpc-x        stub.method() to an object held by another runtime on another thread
 *
 *   build/bench/do_bench [N] [STATE_DIR]   (N requests per case, default 2000; STATE_DIR default: a fresh
 *                                           folder under /tmp, removed after)
 */
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static const char SCRIPT[] =
    "import { DurableObject } from 'cloudflare:workers';\n"
    "export class Obj extends DurableObject {\n"
    "  ping(x) { return x + 1; }\n"
    "  async write(x) { await this.ctx.storage.put('k', x); return x; }\n"
    "  fetch(request) { return new Response('pong'); }\n"
    "}\n"
    "export default {\n"
    "  async fetch(request, env) {\n"
    "    const u = new URL(request.url), stub = env.OBJ.getByName(u.searchParams.get('o') || 'a');\n"
    "    switch (u.pathname) {\n"
    "    case '/plain': return new Response('pong');\n"
    "    case '/fetch': return stub.fetch('http://do/');\n"
    "    case '/rpc': return new Response(String(await stub.ping(1)));\n"
    "    default: return new Response(String(await stub.write(1)));\n"
    "    }\n"
    "  }\n"
    "};\n";

static const ew_durable_object_t OBJ = {"OBJ", "Obj", 1, NULL};

static const bench_worker_t SPEC = {.name = "do_bench", .script = SCRIPT, .durable_objects = &OBJ, .ndurable_objects = 1};

/* The other thread: a runtime that holds object "x" and serves calls to it until told to stop. */
typedef struct owner {
    const char *state_dir;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int ready;
    atomic_bool stop;
    struct event_base *base;
} owner_t;

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    owner_t *o = arg;
    if (atomic_load(&o->stop))
        event_base_loopbreak(o->base);
}

static void *owner_main(void *arg)
{
    owner_t *o = arg;
    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&SPEC, o->state_dir, &rt, &w);
    bench_fetch("do_bench", w, "http://bench/rpc?o=x", true); /* claims object x for this runtime */
    o->base = ew_runtime_event_base(rt);
    struct event *tick = event_new(o->base, -1, EV_PERSIST, on_tick, o);
    struct timeval every = {0, 20000};
    event_add(tick, &every);
    pthread_mutex_lock(&o->lock);
    o->ready = 1;
    pthread_cond_signal(&o->cond);
    pthread_mutex_unlock(&o->lock);
    event_base_dispatch(o->base);
    event_free(tick);
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n < 10)
        return 2;
    bench_dir_t dir;
    bench_state_dir(&dir, "do_bench", argc > 2 ? argv[2] : NULL);
    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&SPEC, dir.path, &rt, &w);

    owner_t o = {.state_dir = dir.path};
    pthread_mutex_init(&o.lock, NULL);
    pthread_cond_init(&o.cond, NULL);
    pthread_t tid;
    pthread_create(&tid, NULL, owner_main, &o);
    pthread_mutex_lock(&o.lock);
    while (!o.ready)
        pthread_cond_wait(&o.cond, &o.lock);
    pthread_mutex_unlock(&o.lock);

    bench_latency("do_bench", w, "plain", "http://bench/plain", n);
    bench_latency("do_bench", w, "fetch", "http://bench/fetch", n);
    bench_latency("do_bench", w, "rpc", "http://bench/rpc", n);
    bench_latency("do_bench", w, "rpc-write", "http://bench/write", n / 4);
    bench_latency("do_bench", w, "fetch-x", "http://bench/fetch?o=x", n);
    bench_latency("do_bench", w, "rpc-x", "http://bench/rpc?o=x", n);

    atomic_store(&o.stop, true);
    pthread_join(tid, NULL);
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    bench_state_dir_done(&dir);
    return 0;
}
