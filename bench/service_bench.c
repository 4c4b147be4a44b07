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
    bench_latency("service_bench", gw, "plain", "http://bench/plain", n);
    bench_latency("service_bench", gw, "fetch", "http://bench/fetch", n);
    bench_latency("service_bench", gw, "rpc", "http://bench/rpc", n);
    bench_latency("service_bench", gw, "rpc-object", "http://bench/obj", n);
    ew_runtime_destroy(rt);
    return 0;
}
