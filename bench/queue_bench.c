/*
 * queue_bench.c — Cloudflare Queues in one process, over a state directory on disk (SQLite, WAL,
 * synchronous=FULL: a resolved send is on disk): messages sent and delivered per second on this machine.
 *
 *   send-batch  one request sends N messages with sendBatch() of 100 at once, all batches in flight together
 *   send-conc   one request calls send() N times without awaiting (the group commit spans them)
 *   send-seq    one request awaits each send() before the next: one commit (one fsync) per message
 *   deliver     a consumer (max_batch_size 100, max_batch_timeout 0) drains the N messages of send-batch:
 *               each batch is handed to queue(), acknowledged, and the acknowledgement committed
 *
 *   build/bench/queue_bench [N] [STATE_DIR]   (N default 20000; STATE_DIR default: a fresh folder under /tmp,
 *                                              removed after)
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Three producers (one queue per send case), so that each case starts from an empty queue. */
static const char SCRIPT[] =
    "export default {\n"
    "  async fetch(request, env) {\n"
    "    const u = new URL(request.url), n = Number(u.searchParams.get('n'));\n"
    "    const body = { user: 42, action: 'signup', note: 'a message of about a hundred bytes in JSON' };\n"
    "    if (u.pathname === '/batch') {\n"
    "      const all = [];\n"
    "      for (let i = 0; i < n; i += 100)\n"
    "        all.push(env.QB.sendBatch(Array.from({ length: Math.min(100, n - i) },\n"
    "                                             () => ({ body, contentType: 'json' }))));\n"
    "      await Promise.all(all);\n"
    "    } else if (u.pathname === '/conc') {\n"
    "      const all = [];\n"
    "      for (let i = 0; i < n; i++) all.push(env.QC.send(body, { contentType: 'json' }));\n"
    "      await Promise.all(all);\n"
    "    } else {\n"
    "      for (let i = 0; i < n; i++) await env.QS.send(body, { contentType: 'json' });\n"
    "    }\n"
    "    return new Response('ok');\n"
    "  },\n"
    "  async queue(batch, env) { await env.COUNT.add(batch.messages.length); },\n"
    "};\n";

static long delivered;

static void on_count(void *udata, ew_call_t *call, const char *method, const char *args, size_t len)
{
    (void) udata;
    (void) method;
    (void) len;
    delivered += strtol(args + 1, NULL, 10); /* args is "[N]" */
    ew_call_resolve_json(call, "null", 4);
}

static void send_case(ew_worker_t *w, const char *name, const char *path, long n)
{
    char url[128];
    snprintf(url, sizeof(url), "http://bench/%s?n=%ld", path, n);
    double t0 = bench_now();
    bench_fetch("queue_bench", w, url, true);
    double dt = bench_now() - t0;
    printf("%-12s %8ld messages  %8.3f s  %10.0f /s\n", name, n, dt, n / dt);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    if (n <= 0) {
        fprintf(stderr, "usage: queue_bench [N] [STATE_DIR]\n");
        return 2;
    }
    bench_dir_t dir;
    bench_state_dir(&dir, "queue-bench", argc > 2 ? argv[2] : NULL);
    static const char *const methods[] = {"add"};
    ew_binding_t count = {"COUNT", methods, 1, on_count, NULL, NULL, NULL};
    ew_queue_producer_t producers[] = {{"QB", "bench-batch", 0}, {"QC", "bench-conc", 0}, {"QS", "bench-seq", 0}};
    bench_worker_t spec = {.name = "queue_bench", .script = SCRIPT, .bindings = &count, .nbindings = 1,
                           .queue_producers = producers, .nqueue_producers = 3};

    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&spec, dir.path, &rt, &w);
    send_case(w, "send-batch", "batch", n);
    send_case(w, "send-conc", "conc", n);
    send_case(w, "send-seq", "seq", n / 20 > 0 ? n / 20 : 1);
    ew_runtime_destroy(rt);

    /* A runtime with a consumer drains what send-batch stored. */
    ew_queue_consumer_t consumer;
    ew_queue_consumer_init(&consumer);
    consumer.queue = "bench-batch";
    consumer.max_batch_size = 100;
    consumer.max_batch_timeout_ms = 0;
    spec.queue_consumers = &consumer;
    spec.nqueue_consumers = 1;
    double t0 = bench_now();
    bench_open(&spec, dir.path, &rt, &w);
    while (delivered < n && event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE) != -1)
        ;
    double dt = bench_now() - t0;
    printf("%-12s %8ld messages  %8.3f s  %10.0f /s\n", "deliver", delivered, dt, delivered / dt);
    ew_runtime_destroy(rt);
    bench_state_dir_done(&dir);
    return 0;
}
