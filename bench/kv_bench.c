/*
 * kv_bench.c — Workers KV from inside a Worker: reads and durable writes per second on this machine, over
 * a state directory on disk (SQLite, WAL, synchronous=FULL: every resolved put is on disk).
 *
 *   get        one request issues N gets (batches of 1000 with Promise.all) over 1000 stored keys
 *   put-batch  one request issues 1000 puts at once, repeated: one group commit (one fsync) per 1000
 *   put-conc   C requests in flight at once, each putting one key: the group commit spans requests
 *   put-seq    one request awaits each put before the next: one commit (one fsync) per put
 *
 * Targets (issue "bindings"): get >= 50k/s, durable put >= 10k/s.
 *
 *   build/bench/kv_bench [N] [STATE_DIR]   (STATE_DIR default: a fresh folder under /tmp, removed after)
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

static const char SCRIPT[] =
    "function batch(n, f) { var ps = []; for (var i = 0; i < n; i++) ps.push(f(i)); return Promise.all(ps); }"
    "function gets(n) { var left = n;"
    "  function step() { if (left <= 0) return null; var m = left < 1000 ? left : 1000; left -= m;"
    "    return batch(m, function (i) { return KV.get('k' + (i % 1000)); }).then(step); }"
    "  return Promise.resolve().then(step); }"
    "function seq(n, i) { return i >= n ? null : KV.put('s' + i, 'value ' + i).then(function () { return seq(n, i + 1); }); }"
    "var seqNo = 0;"
    "addEventListener('fetch', function (e) {"
    "  var u = e.request.url, n = +u.split('n=')[1];"
    "  var p = u.indexOf('/fill') > 0 ? batch(1000, function (i) { return KV.put('k' + i, 'value number ' + i); })"
    "    : u.indexOf('/get') > 0 ? gets(n)"
    "    : u.indexOf('/batch') > 0 ? batch(1000, function (i) { return KV.put('b' + (seqNo++), 'value ' + i); })"
    "    : u.indexOf('/one') > 0 ? KV.put('c' + (seqNo++), 'value')"
    "    : seq(n, 0);"
    "  e.respondWith(p.then(function () { return new Response('ok'); }));"
    "});";

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    bench_dir_t dir;
    bench_state_dir(&dir, "kv_bench", argc > 2 ? argv[2] : NULL);
    ew_resource_t res[] = {{EW_RESOURCE_KV, "KV", "bench"}};
    bench_worker_t spec = {.name = "kv_bench", .script = SCRIPT, .resources = res, .nresources = 1};
    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&spec, dir.path, &rt, &w);
    char url[128];
    bench_fetch("kv_bench", w, "http://b/fill", false);
    snprintf(url, sizeof(url), "http://b/get?n=%d", n);
    double t0 = bench_now();
    bench_fetch("kv_bench", w, url, false);
    printf("KV get (in a Worker)                  %9.0f /s  (%d gets)\n", n / (bench_now() - t0), n);
    t0 = bench_now();
    for (int i = 0; i < 20; i++)
        bench_fetch("kv_bench", w, "http://b/batch", false);
    printf("KV put, 1000 per turn (durable)       %9.0f /s  (20000 puts, 20 commits)\n", 20000 / (bench_now() - t0));
    printf("KV put, 1 per request, 200 in flight  %9.0f /s  (20000 requests)\n",
           bench_concurrent("kv_bench", rt, w, "http://b/one", 200, 20000));
    printf("KV put, 1 per request, 10 in flight   %9.0f /s  (5000 requests)\n",
           bench_concurrent("kv_bench", rt, w, "http://b/one", 10, 5000));
    t0 = bench_now();
    bench_fetch("kv_bench", w, "http://b/seq?n=500", false);
    printf("KV put, awaited one by one (durable)  %9.0f /s  (500 puts, one fsync each)\n", 500 / (bench_now() - t0));
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    bench_state_dir_done(&dir);
    return 0;
}
