/* The memory limit counts live data, not garbage (lib/core/limits.c): an isolate whose requests each make
 * and drop a large buffer held in a reference cycle (freed by mark-and-sweep only) keeps serving, because crossing the soft limit makes Duktape collect first; a
 * request that really holds more than the limit still ends with 1102. */
#include <criterion/criterion.h>
#include <string.h>

#include <stdlib.h>

#include "edgeworker.h"
#include "isolate.h"

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

/* The allocator's small-block cache (limits.c): blocks move between size classes and malloc through
 * realloc with their bytes, and the byte count returns to zero once all are freed. */
Test(core_memory, small_block_cache_keeps_contents_and_accounting)
{
    ew__isolate_t *iso = calloc(1, sizeof(*iso));
    cr_assert_not_null(iso);
    iso->heap_limit = SIZE_MAX;
    enum { N = 200 };
    unsigned char *blocks[N];
    size_t sizes[N];
    for (size_t i = 0; i < N; i++) {
        sizes[i] = (i * 37) % 600;
        blocks[i] = ew__heap_alloc(iso, sizes[i]);
        cr_assert_not_null(blocks[i]);
        memset(blocks[i], (int) (i & 0xff), sizes[i]);
    }
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            size_t to = (i * 53 + (size_t) round * 101) % 700 + 1;
            unsigned char *p = ew__heap_realloc(iso, blocks[i], to);
            cr_assert_not_null(p);
            size_t keep = sizes[i] < to ? sizes[i] : to;
            for (size_t k = 0; k < keep; k++)
                cr_assert_eq(p[k], (unsigned char) (i & 0xff), "block %zu byte %zu after realloc %zu -> %zu", i, k,
                             sizes[i], to);
            memset(p, (int) (i & 0xff), to);
            blocks[i] = p;
            sizes[i] = to;
        }
    }
    for (size_t i = 0; i < N; i++)
        ew__heap_free(iso, blocks[i]);
    cr_assert_eq(iso->heap_bytes, 0);
    /* freed small blocks are reused */
    void *a = ew__heap_alloc(iso, 40);
    ew__heap_free(iso, a);
    cr_assert_eq(ew__heap_alloc(iso, 34), a); /* the same 16-byte class (limits.c) */
    ew__heap_free(iso, a);
    ew__heap_release_cache(iso);
    for (size_t c = 0; c < EW__SMALL_CLASSES; c++)
        cr_assert_null(iso->small_free[c]);
    free(iso);
}
