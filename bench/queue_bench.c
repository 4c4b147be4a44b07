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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeworker.h"

static const char SCRIPT[] =
    "export default {\n"
    "  async fetch(request, env) {\n"
    "    const u = new URL(request.url), n = Number(u.searchParams.get('n'));\n"
    "    const body = { user: 42, action: 'signup', note: 'a message of about a hundred bytes in JSON' };\n"
    "    if (u.pathname === '/batch') {\n"
    "      const all = [];\n"
    "      for (let i = 0; i < n; i += 100)\n"
    "        all.push(env.Q.sendBatch(Array.from({ length: Math.min(100, n - i) }, () => ({ body, contentType: 'json' }))));\n"
    "      await Promise.all(all);\n"
    "    } else if (u.pathname === '/conc') {\n"
    "      const all = [];\n"
    "      for (let i = 0; i < n; i++) all.push(env.Q.send(body, { contentType: 'json' }));\n"
    "      await Promise.all(all);\n"
    "    } else {\n"
    "      for (let i = 0; i < n; i++) await env.Q.send(body, { contentType: 'json' });\n"
    "    }\n"
    "    return new Response('ok');\n"
    "  },\n"
    "  async queue(batch, env) { await env.COUNT.add(batch.messages.length); },\n"
    "};\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long delivered;

static void on_count(void *udata, ew_call_t *call, const char *method, const char *args, size_t len)
{
    (void) udata;
    (void) method;
    (void) len;
    delivered += strtol(args + 1, NULL, 10); /* args is "[N]" */
    ew_call_resolve_json(call, "null", 4);
}

static ew_worker_t *load(ew_runtime_t *rt, const char *queue, bool consume)
{
    static const char *const methods[] = {"add"};
    ew_binding_t b = {"COUNT", methods, 1, on_count, NULL, NULL, NULL};
    ew_queue_producer_t p = {"Q", queue, 0};
    ew_queue_consumer_t c;
    ew_queue_consumer_init(&c);
    c.queue = queue;
    c.max_batch_size = 100;
    c.max_batch_timeout_ms = 0;
    ew_worker_config_t cfg = {.name = "bench", .source = SCRIPT, .source_len = strlen(SCRIPT), .bindings = &b,
                              .nbindings = 1, .queue_producers = &p, .nqueue_producers = 1,
                              .queue_consumers = &c, .nqueue_consumers = consume ? 1 : 0};
    ew_worker_t *w;
    ew_error_t err;
    if (ew_worker_load(rt, &cfg, &w, &err) != EW_OK) {
        fprintf(stderr, "load: %s\n", err.message);
        exit(1);
    }
    return w;
}

static void fetch(ew_worker_t *w, const char *url)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    if (ew_worker_fetch_sync(w, &req, &resp, &err) != EW_OK) {
        fprintf(stderr, "%s: %s\n", url, resp ? (const char *) resp->body : err.message);
        exit(1);
    }
    ew_response_destroy(resp);
}

static void send_case(ew_runtime_t *rt, const char *name, const char *path, long n, const char *queue)
{
    ew_worker_t *w = load(rt, queue, false);
    char url[128];
    snprintf(url, sizeof(url), "http://bench/%s?n=%ld", path, n);
    double t0 = now_s();
    fetch(w, url);
    double dt = now_s() - t0;
    printf("%-12s %8ld messages  %8.3f s  %10.0f /s\n", name, n, dt, n / dt);
    ew_worker_destroy(w);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    char tmp[] = "/tmp/ew-queue-bench-XXXXXX";
    const char *dir = argc > 2 ? argv[2] : mkdtemp(tmp);
    if (dir == NULL || n <= 0) {
        fprintf(stderr, "usage: queue_bench [N] [STATE_DIR]\n");
        return 2;
    }
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.state_dir = dir;
    cfg.cpu_ms = 600000;
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK) {
        fprintf(stderr, "runtime: %s\n", err.message);
        return 1;
    }
    send_case(rt, "send-batch", "batch", n, "bench-batch");
    send_case(rt, "send-conc", "conc", n, "bench-conc");
    send_case(rt, "send-seq", "seq", n / 20 > 0 ? n / 20 : 1, "bench-seq");

    /* The consumer drains what send-batch stored. */
    double t0 = now_s();
    ew_worker_t *w = load(rt, "bench-batch", true);
    while (delivered < n && event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE) != -1)
        ;
    double dt = now_s() - t0;
    printf("%-12s %8ld messages  %8.3f s  %10.0f /s\n", "deliver", delivered, dt, delivered / dt);
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    if (argc <= 2) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            return 1;
    }
    return 0;
}
