/*
 * kvload — a minimal C host (public API only) driving a KV namespace in a state directory, for the
 * durability tests in tests/e2e/test_kv_durability.py.
 *
 *   kvload DIR load PREFIX        puts PREFIX-0, PREFIX-1, ... (value "v-<key>") forever, 20 per request;
 *                                 prints "ACK <key>" the moment each put's promise resolved (console.log
 *                                 -> the log callback -> stdout, unbuffered). The test SIGKILLs it.
 *   kvload DIR mixed PREFIX N     writes N keys in batches of 10, reading back its own and the other
 *                                 process's keys meanwhile; prints "ERR ..." on any failure, "DONE n" at the end
 *   kvload DIR check              lists every key and prints "HAVE <key> <value>", then "COUNT n"
 *
 * Exit status: 0, or 1 if any line logged at EW_LOG_ERROR / starting with "ERR", 2 on a setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeworker.h"

static int errors;

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    (void) worker;
    if (level == EW_LOG_ERROR || (len >= 3 && memcmp(msg, "ERR", 3) == 0))
        errors++;
    fwrite(msg, 1, len, stdout);
    fputc('\n', stdout);
}

static const char LOAD_JS[] =
    "var n = 0;"
    "addEventListener('fetch', function (e) {"
    "  var ps = [];"
    "  for (var i = 0; i < 20; i++) (function (k) {"
    "    ps.push(KV.put(k, 'v-' + k).then(function () { console.log('ACK ' + k); }));"
    "  })(PREFIX + '-' + (n++));"
    "  e.respondWith(Promise.all(ps).then(function () { return new Response('ok'); },"
    "    function (err) { console.error('ERR ' + err.message); return new Response('err', {status: 500}); }));"
    "});";

static const char MIXED_JS[] =
    "var n = 0;"
    "function fail(m) { console.error('ERR ' + m); }"
    "addEventListener('fetch', function (e) {"
    "  var ps = [], mine = [];"
    "  for (var i = 0; i < 10 && n < +TOTAL; i++) mine.push(PREFIX + '-' + (n++));"
    "  mine.forEach(function (k) { ps.push(KV.put(k, 'v-' + k)); });"
    "  var other = (PREFIX === 'a' ? 'b' : 'a') + '-' + Math.floor(Math.random() * n);"
    "  e.respondWith(Promise.all(ps).then(function () {"
    "    return Promise.all(mine.map(function (k) { return KV.get(k); }).concat([KV.get(other), KV.list({limit: 5})]));"
    "  }).then(function (r) {"
    "    mine.forEach(function (k, i) { if (r[i] !== 'v-' + k) fail('read back ' + k + ': ' + r[i]); });"
    "    var o = r[mine.length]; if (o !== null && o !== 'v-' + other) fail('other ' + other + ': ' + o);"
    "    return new Response(String(n));"
    "  }, function (err) { fail(err.message); return new Response('err', {status: 500}); }));"
    "});";

static const char CHECK_JS[] =
    "addEventListener('fetch', function (e) {"
    "  var count = 0;"
    "  function page(c) { return KV.list({cursor: c}).then(function (r) {"
    "    return Promise.all(r.keys.map(function (k) { return KV.get(k.name).then(function (v) {"
    "      console.log('HAVE ' + k.name + ' ' + v); count++; }); }))"
    "    .then(function () { return r.list_complete ? count : page(r.cursor); }); }); }"
    "  e.respondWith(page(undefined).then(function (n) { console.log('COUNT ' + n); return new Response('ok'); },"
    "    function (err) { console.error('ERR ' + err.message); return new Response('err'); }));"
    "});";

/* Runs one request; returns the response body as a number (mixed mode counts keys written). */
static long fetch_once(ew_worker_t *w)
{
    ew_request_t req = {.method = "GET", .url = "http://kvload/"};
    ew_response_t *resp = NULL;
    ew_error_t err;
    ew_status_t st = ew_worker_fetch_sync(w, &req, &resp, &err);
    long n = resp != NULL && resp->body != NULL ? strtol((char *) resp->body, NULL, 10) : -1;
    if (st != EW_OK) {
        printf("ERR request failed: %s\n", err.message);
        errors++;
        n = -1;
    }
    ew_response_destroy(resp);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: kvload DIR load PREFIX | mixed PREFIX N | check\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0); /* an acknowledged key is printed before the next one is written */
    const char *mode = argv[2];
    const char *src = strcmp(mode, "load") == 0 ? LOAD_JS : strcmp(mode, "mixed") == 0 ? MIXED_JS : CHECK_JS;
    ew_runtime_config_t rcfg;
    ew_runtime_config_init(&rcfg);
    rcfg.state_dir = argv[1];
    rcfg.log = on_log;
    rcfg.cpu_ms = 10000;
    ew_runtime_t *rt = NULL;
    ew_error_t err;
    if (ew_runtime_create(&rcfg, &rt, &err) != EW_OK) {
        fprintf(stderr, "kvload: %s\n", err.message);
        return 2;
    }
    ew_var_t vars[] = {{"PREFIX", argc > 3 ? argv[3] : "x", 0}, {"TOTAL", argc > 4 ? argv[4] : "0", 0}};
    ew_resource_t res[] = {{EW_RESOURCE_KV, "KV", "durability"}};
    ew_worker_config_t wcfg = {.name = "kvload", .source = src, .source_len = strlen(src), .vars = vars, .nvars = 2,
                               .resources = res, .nresources = 1};
    ew_worker_t *w = NULL;
    if (ew_worker_load(rt, &wcfg, &w, &err) != EW_OK) {
        fprintf(stderr, "kvload: %s\n", err.message);
        ew_runtime_destroy(rt);
        return 2;
    }
    if (strcmp(mode, "load") == 0) {
        for (;;)
            fetch_once(w);
    } else if (strcmp(mode, "mixed") == 0) {
        long total = argc > 4 ? strtol(argv[4], NULL, 10) : 0, n = 0;
        while (n >= 0 && n < total)
            n = fetch_once(w);
        printf("DONE %ld\n", n);
    } else {
        fetch_once(w);
    }
    ew_runtime_destroy(rt);
    return errors > 0 ? 1 : 0;
}
