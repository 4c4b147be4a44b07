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
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeworker.h"

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void fetch(ew_worker_t *w, const char *url)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    if (ew_worker_fetch_sync(w, &req, &resp, &err) != EW_OK || resp->status != 200)
        fprintf(stderr, "kv_bench: %s failed: %s\n", url, err.message);
    ew_response_destroy(resp);
}

static int outstanding;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) udata;
    if (err != NULL)
        fprintf(stderr, "kv_bench: request failed: %s\n", err->message);
    ew_response_destroy(resp);
    outstanding--;
}

/* Puts from `conc` requests in flight at once, `total` requests in all. */
static double put_concurrent(ew_runtime_t *rt, ew_worker_t *w, int conc, int total)
{
    ew_request_t req = {.method = "GET", .url = "http://b/one"};
    double t0 = now_s();
    int sent = 0;
    while (sent < total || outstanding > 0) {
        while (sent < total && outstanding < conc) {
            outstanding++;
            sent++;
            ew_worker_fetch(w, &req, on_response, NULL);
        }
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE);
    }
    return total / (now_s() - t0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    char dir[256] = "/tmp/ew-kv-bench-XXXXXX";
    if (argc > 2)
        snprintf(dir, sizeof(dir), "%s", argv[2]);
    else if (mkdtemp(dir) == NULL)
        return 1;
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.state_dir = dir;
    cfg.cpu_ms = 600000;
    ew_runtime_t *rt;
    ew_worker_t *w;
    ew_error_t err;
    ew_resource_t res[] = {{EW_RESOURCE_KV, "KV", "bench"}};
    ew_worker_config_t wc = {.name = "kv", .source = SCRIPT, .source_len = sizeof(SCRIPT) - 1, .resources = res,
                             .nresources = 1};
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK || ew_worker_load(rt, &wc, &w, &err) != EW_OK) {
        fprintf(stderr, "kv_bench: %s\n", err.message);
        return 1;
    }
    char url[128];
    fetch(w, "http://b/fill");
    snprintf(url, sizeof(url), "http://b/get?n=%d", n);
    double t0 = now_s();
    fetch(w, url);
    printf("KV get (in a Worker)                  %9.0f /s  (%d gets)\n", n / (now_s() - t0), n);
    t0 = now_s();
    for (int i = 0; i < 20; i++)
        fetch(w, "http://b/batch");
    printf("KV put, 1000 per turn (durable)       %9.0f /s  (20000 puts, 20 commits)\n", 20000 / (now_s() - t0));
    printf("KV put, 1 per request, 200 in flight  %9.0f /s  (20000 requests)\n", put_concurrent(rt, w, 200, 20000));
    printf("KV put, 1 per request, 10 in flight   %9.0f /s  (5000 requests)\n", put_concurrent(rt, w, 10, 5000));
    t0 = now_s();
    fetch(w, "http://b/seq?n=500");
    printf("KV put, awaited one by one (durable)  %9.0f /s  (500 puts, one fsync each)\n", 500 / (now_s() - t0));
    ew_runtime_destroy(rt);
    if (argc <= 2) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void) system(cmd);
    }
    return 0;
}
