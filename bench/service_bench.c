/*
 * service_bench.c — service binding round trips, as a Worker sees them: one request to the gateway Worker
 * makes one call to another Worker of the same runtime and returns what it got. Latency per request
 * (p50 / p99, microseconds) of:
 *
 *   plain        the gateway answers by itself (the baseline the others add to)
 *   fetch        env.SVC.fetch() to the target's fetch handler (a fetch event of the target)
 *   rpc          env.SVC.ping(1) on the target's WorkerEntrypoint (a call event of the target)
 *   rpc-object   env.OBJ.ping(1) on a plain object default export
 *
 *   build/bench/service_bench [N]   (N requests per case, default 2000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeworker.h"
#include "harness.h"

static const char GATEWAY[] =
    "export default {\n"
    "  async fetch(request, env) {\n"
    "    switch (new URL(request.url).pathname) {\n"
    "    case '/plain': return new Response('pong');\n"
    "    case '/fetch': return env.SVC.fetch('http://svc/');\n"
    "    case '/rpc': return new Response(String(await env.SVC.ping(1)));\n"
    "    default: return new Response(String(await env.OBJ.ping(1)));\n"
    "    }\n"
    "  },\n"
    "};\n";

static const char TARGET[] =
    "import { WorkerEntrypoint } from 'cloudflare:workers';\n"
    "export default class extends WorkerEntrypoint {\n"
    "  fetch(request) { return new Response('pong'); }\n"
    "  ping(x) { return x + 1; }\n"
    "}\n";

static const char OBJECT[] = "export default { ping(x) { return x + 1; }, fetch() { return new Response('x'); } };\n";

static ew_worker_t *load(ew_runtime_t *rt, const char *name, const char *src, const ew_service_t *svcs, size_t n)
{
    ew_worker_config_t cfg = {.name = name, .source = src, .source_len = strlen(src), .filename = name,
                              .services = svcs, .nservices = n};
    ew_worker_t *w;
    ew_error_t err;
    if (ew_worker_load(rt, &cfg, &w, &err) != EW_OK) {
        fprintf(stderr, "service_bench: load %s: %s\n", name, err.message);
        exit(1);
    }
    return w;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void measure(ew_worker_t *w, const char *name, const char *url, int n)
{
    double *t = malloc(sizeof(double) * (size_t) n);
    for (int i = 0; i < n / 10; i++) /* warm-up */
        bench_fetch("service_bench", w, url, true);
    for (int i = 0; i < n; i++) {
        double t0 = bench_now();
        bench_fetch("service_bench", w, url, true);
        t[i] = (bench_now() - t0) * 1e6;
    }
    qsort(t, (size_t) n, sizeof(double), cmp);
    printf("%-10s p50 %8.1f us   p99 %8.1f us   (%d requests)\n", name, t[n / 2], t[n * 99 / 100], n);
    free(t);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    if (n < 10)
        n = 10;
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(NULL, &rt, &err) != EW_OK)
        return 1;
    ew_service_t svcs[] = {{"SVC", "target", NULL}, {"OBJ", "object", NULL}};
    ew_worker_t *gw = load(rt, "gateway", GATEWAY, svcs, 2);
    load(rt, "target", TARGET, NULL, 0);
    load(rt, "object", OBJECT, NULL, 0);
    measure(gw, "plain", "http://bench/plain", n);
    measure(gw, "fetch", "http://bench/fetch", n);
    measure(gw, "rpc", "http://bench/rpc", n);
    measure(gw, "rpc-object", "http://bench/obj", n);
    ew_runtime_destroy(rt);
    return 0;
}
