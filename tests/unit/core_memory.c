/* The memory limit counts live data, not garbage (lib/core/limits.c): an isolate whose requests each make
 * and drop a large buffer held in a reference cycle (freed by mark-and-sweep only) keeps serving, because crossing the soft limit makes Duktape collect first; a
 * request that really holds more than the limit still ends with 1102. */
#include <criterion/criterion.h>
#include <string.h>

#include "edgeworker.h"

static const char WORKER[] =
    "var kept = [];\n"
    "addEventListener('fetch', function (e) {\n"
    "  var url = e.request.url;\n"
    "  if (url.indexOf('/keep') >= 0) { for (;;) kept.push(new Uint8Array(4 << 20)); }\n"
    "  var b = new Uint8Array(6 << 20); b[0] = 1;\n"
    "  var cycle = { b: b }; cycle.self = cycle; /* garbage that only mark-and-sweep frees */\n"
    "  e.respondWith(new Response(String(b.length)));\n"
    "});\n";

Test(core_memory, garbage_is_collected_before_the_limit_is_declared)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.memory_mb = 24;
    cfg.cpu_ms = 5000;
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
    ew_worker_config_t wcfg = {.source = WORKER, .source_len = sizeof(WORKER) - 1};
    ew_worker_t *w;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(rt, &wcfg, &w, &err), EW_OK, "%s", err.message);
    ew_request_t req = {.method = "GET", .url = "http://x.example/"};
    for (int i = 0; i < 40; i++) {
        ew_response_t *resp;
        cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_OK, "request %d: %s", i, err.message);
        cr_assert_eq(resp->status, 200);
        ew_response_destroy(resp);
    }
    ew_worker_stats_t stats;
    ew_worker_get_stats(w, &stats);
    cr_assert_eq(stats.limit_errors, 0);
    cr_assert_eq(stats.isolates_created, 1, "no isolate was replaced");

    req.url = "http://x.example/keep";
    ew_response_t *resp;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_ERR_MEMORY_LIMIT);
    cr_assert_eq(resp->status, 503);
    ew_response_destroy(resp);
    req.url = "http://x.example/";
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_OK, "a fresh isolate serves the next request");
    ew_response_destroy(resp);
    ew_runtime_destroy(rt);
}
