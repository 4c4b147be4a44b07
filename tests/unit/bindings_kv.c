/* KV namespaces from inside a Worker (lib/bindings/kv.c over lib/store): get/put/delete/list, types,
 * metadata, expiry (with a fake clock), Cloudflare's limits and messages, group commit, persistence. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/internal.h"

static ew_runtime_t *rt;
static char state_dir[256];
static double fake_now = 1700000000.0;

static double test_clock(void)
{
    return fake_now;
}

static void make_runtime(const char *dir)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.memory_mb = 128;
    cfg.cpu_ms = 5000;
    cfg.state_dir = dir;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
}

static void setup(void)
{
    snprintf(state_dir, sizeof(state_dir), "/tmp/ew-kv-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(state_dir));
    fake_now = 1700000000.0;
    make_runtime(state_dir);
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
    (void) system(cmd);
}

TestSuite(bindings_kv, .init = setup, .fini = teardown, .timeout = 60);

/* Loads a worker whose fetch handler evaluates `body` (ES5, returning a value or a promise) and answers
 * with JSON of the result, or "ERR <name>: <message>". */
static ew_worker_t *load(const char *body)
{
    static char src[8192];
    snprintf(src, sizeof(src),
             "function show(v) {"
             "  if (v instanceof Map) { var o = {}; v.forEach(function (x, k) { o[k] = x; }); return 'Map' + JSON.stringify(o); }"
             "  if (v instanceof ArrayBuffer) return 'AB' + JSON.stringify(Array.prototype.slice.call(new Uint8Array(v)));"
             "  return JSON.stringify(v); }"
             "addEventListener('fetch', function (e) {"
             "  e.respondWith(Promise.resolve().then(function () { %s })"
             "    .then(function (v) { return new Response(show(v)); },"
             "          function (err) { return new Response('ERR ' + err.name + ': ' + err.message); }));"
             "});",
             body);
    ew_resource_t res[] = {{EW_RESOURCE_KV, "KV", "ns1"}};
    ew_worker_config_t cfg = {.name = "kv", .source = src, .source_len = strlen(src), .resources = res, .nresources = 1};
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_OK, "load failed: %s", err.message);
    ew__resources_set_clock(rt, test_clock);
    return w;
}

/* Runs one request and returns the body (static buffer). */
static const char *run(ew_worker_t *w)
{
    static char out[8192];
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    ew_response_t *resp = NULL;
    ew_error_t err;
    (void) ew_worker_fetch_sync(w, &req, &resp, &err);
    cr_assert_not_null(resp);
    cr_assert_eq(resp->outcome, EW_OK, "request failed: %s", err.message);
    snprintf(out, sizeof(out), "%s", (char *) resp->body);
    ew_response_destroy(resp);
    return out;
}

static const char *eval(const char *body)
{
    return run(load(body));
}

/* Runs body and compares the answer (printed whole on a mismatch: Criterion truncates long strings). */
#define EXPECT(body, expected)                                                                              \
    do {                                                                                                     \
        const char *actual_ = eval(body);                                                                    \
        if (strcmp(actual_, expected) != 0)                                                                  \
            fprintf(stderr, "actual:   %s\nexpected: %s\n", actual_, expected);                              \
        cr_assert_str_eq(actual_, expected);                                                                 \
    } while (0)

Test(bindings_kv, put_then_get_text)
{
    EXPECT("return KV.put('a', 'h\\u00e9llo \\ud83d\\ude00').then(function (r) {"
           "  return KV.get('a').then(function (v) { return [r === undefined, v]; }); });",
           "[true,\"h\xC3\xA9llo \xF0\x9F\x98\x80\"]");
}

Test(bindings_kv, get_of_a_missing_key_is_null)
{
    EXPECT("return KV.get('nope');", "null");
}

Test(bindings_kv, env_has_the_namespace_too)
{
    ew_worker_t *w = load("return typeof KV.get + typeof KV.put + typeof KV.list;");
    cr_assert_str_eq(run(w), "\"functionfunctionfunction\"");
}

Test(bindings_kv, json_and_array_buffer_types)
{
    EXPECT("return Promise.all([KV.put('j', '{\"a\":[1,2]}'), KV.put('b', new Uint8Array([1, 2, 255]))])"
           ".then(function () { return Promise.all([KV.get('j', 'json'), KV.get('j', {type: 'json'}),"
           "  KV.get('b', 'arrayBuffer'), KV.get('b', {type: 'arrayBuffer', cacheTtl: 60})]); })"
           ".then(function (r) { return [r[0], r[1], show(r[2]), show(r[3])]; });",
           "[{\"a\":[1,2]},{\"a\":[1,2]},\"AB[1,2,255]\",\"AB[1,2,255]\"]");
}

Test(bindings_kv, array_buffer_views_and_empty_values)
{
    EXPECT("var u = new Uint8Array([9, 8, 7, 6]);"
           "return Promise.all([KV.put('v', new DataView(u.buffer, 1, 2)), KV.put('e', '')])"
           ".then(function () { return Promise.all([KV.get('v', 'arrayBuffer'), KV.get('e')]); })"
           ".then(function (r) { return [show(r[0]), r[1]]; });",
           "[\"AB[8,7]\",\"\"]");
}

Test(bindings_kv, invalid_json_rejects_with_syntax_error)
{
    const char *out = eval("return KV.put('j', 'not json').then(function () { return KV.get('j', 'json'); });");
    cr_assert(strncmp(out, "ERR SyntaxError: ", 17) == 0, "%s", out);
}

Test(bindings_kv, get_with_metadata)
{
    EXPECT("return KV.put('m', 'v', {metadata: {tag: 'x', n: 1}}).then(function () {"
           "  return Promise.all([KV.getWithMetadata('m'), KV.getWithMetadata('none'), KV.put('p', 'q')]); })"
           ".then(function (r) { return KV.getWithMetadata('p').then(function (p) { r.push(p); return r; }); });",
           "[{\"value\":\"v\",\"metadata\":{\"tag\":\"x\",\"n\":1},\"cacheStatus\":null},"
           "{\"value\":null,\"metadata\":null,\"cacheStatus\":null},null,"
           "{\"value\":\"q\",\"metadata\":null,\"cacheStatus\":null}]");
}

Test(bindings_kv, delete_removes_the_key)
{
    EXPECT("return KV.put('d', '1').then(function () { return KV.delete('d'); })"
           ".then(function (r) { return KV.get('d').then(function (v) { return [r === undefined, v]; }); });",
           "[true,null]");
}

Test(bindings_kv, reads_see_writes_not_yet_awaited)
{
    EXPECT("KV.put('k', 'one'); KV.put('k', 'two'); var g = KV.get('k'); KV.delete('x');"
           "return g;",
           "\"two\"");
}

Test(bindings_kv, list_in_byte_order_with_prefix_and_metadata)
{
    EXPECT("return Promise.all([KV.put('b', '1'), KV.put('a/2', '1', {metadata: [1]}), KV.put('a/1', '1'),"
           "  KV.put('\\u00e9', '1'), KV.put('Z', '1'), KV.put('a/3', '1', {expiration: 1700000100})])"
           ".then(function () { return Promise.all([KV.list(), KV.list({prefix: 'a/'})]); })"
           ".then(function (r) { return [r[0].keys.map(function (k) { return k.name; }), r[0].list_complete,"
           "  r[1]]; });",
           "[[\"Z\",\"a/1\",\"a/2\",\"a/3\",\"b\",\"\xC3\xA9\"],true,"
           "{\"keys\":[{\"name\":\"a/1\"},{\"name\":\"a/2\",\"metadata\":[1]},{\"name\":\"a/3\",\"expiration\":1700000100}],"
           "\"list_complete\":true,\"cacheStatus\":null}]");
}

Test(bindings_kv, list_pages_with_a_cursor)
{
    EXPECT("var ps = []; for (var i = 0; i < 25; i++) ps.push(KV.put('k' + (i < 10 ? '0' : '') + i, 'v'));"
           "var seen = [], pages = 0;"
           "function page(c) { return KV.list({limit: 10, cursor: c}).then(function (r) {"
           "  pages++; r.keys.forEach(function (k) { seen.push(k.name); });"
           "  if (!r.list_complete) { if (typeof r.cursor !== 'string') throw new Error('no cursor'); return page(r.cursor); }"
           "  return [pages, seen.length, seen[0], seen[24], 'cursor' in r]; }); }"
           "return Promise.all(ps).then(function () { return page(undefined); });",
           "[3,25,\"k00\",\"k24\",false]");
}

Test(bindings_kv, list_limit_over_1000_and_bad_cursor_reject)
{
    EXPECT("return KV.list({limit: 1001}).catch(function (e) { return e.message; }).then(function (a) {"
           "  return KV.list({cursor: '!!'}).catch(function (e) { return [a, e.message]; }); });",
           "[\"KV GET failed: 400 Invalid key_count_limit of 1001. Please specify an integer less than 1000.\","
           "\"KV GET failed: 400 Invalid cursor \\\"!!\\\": pass the cursor of a previous list() result\"]");
}

Test(bindings_kv, expired_keys_are_invisible_and_swept)
{
    ew_worker_t *w = load("if (globalThis.step === undefined) { globalThis.step = 1;"
                          "  return Promise.all([KV.put('t', 'x', {expirationTtl: 60}), KV.put('keep', 'y')]); }"
                          "return Promise.all([KV.get('t'), KV.getWithMetadata('t'), KV.list()]).then(function (r) {"
                          "  return [r[0], r[1].value, r[2].keys.length]; });");
    cr_assert_str_eq(run(w), "[null,null]");
    fake_now += 59;
    cr_assert_str_eq(run(w), "[\"x\",\"x\",2]");
    fake_now += 1;
    cr_assert_str_eq(run(w), "[null,null,1]");
    run(w); /* lets the queued sweep commit */
    sqlite3_stmt *st = ew__store_stmt(rt->res->stores[0]->store, "SELECT count(*) FROM kv", NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 1);
    ew__store_release(st);
}

Test(bindings_kv, key_limits_and_messages)
{
    EXPECT("var long = new Array(514).join('a'), out = [];"
           "function m(p) { return p.then(function () { out.push('ok'); }, function (e) { out.push(e.name + ': ' + e.message); }); }"
           "return m(KV.get(long)).then(function () { return m(KV.put('', 'v')); })"
           ".then(function () { return m(KV.delete('.')); }).then(function () { return m(KV.get('..')); })"
           ".then(function () { return m(KV.put(long + '\\u00e9', 'v')); })"
           ".then(function () { return m(KV.get(new Array(513).join('a'))); })"
           ".then(function () { return out; });",
           "[\"Error: KV GET failed: 414 UTF-8 encoded length of 513 exceeds key length limit of 512.\","
           "\"TypeError: Key name cannot be empty.\",\"TypeError: \\\".\\\" is not allowed as a key name.\","
           "\"TypeError: \\\"..\\\" is not allowed as a key name.\","
           "\"Error: KV PUT failed: 414 UTF-8 encoded length of 515 exceeds key length limit of 512.\",\"ok\"]");
}

Test(bindings_kv, put_option_limits_and_messages)
{
    EXPECT("var out = [];"
           "function m(p) { return p.then(function () { out.push('ok'); }, function (e) { out.push(e.message); }); }"
           "var big = {}; for (var i = 0; i < 100; i++) big['key' + i] = 'value';"
           "return m(KV.put('k', 'v', {expirationTtl: 10}))"
           ".then(function () { return m(KV.put('k', 'v', {expirationTtl: 0})); })"
           ".then(function () { return m(KV.put('k', 'v', {expiration: 1600000000})); })"
           ".then(function () { return m(KV.put('k', 'v', {expiration: 1700000030})); })"
           ".then(function () { return m(KV.put('k', 'v', {expiration: 1700000060, expirationTtl: 60})); })"
           ".then(function () { return m(KV.put('k', 'v', {metadata: big})); })"
           ".then(function () { return m(KV.put('k', new Uint8Array(25 * 1024 * 1024 + 1))); })"
           ".then(function () { return m(KV.put('k', new Uint8Array(25 * 1024 * 1024))); })"
           ".then(function () { return m(KV.get('k', {cacheTtl: 10})); })"
           ".then(function () { return out; });",
           "[\"KV PUT failed: 400 Invalid expiration_ttl of 10. Expiration TTL must be at least 60.\","
           "\"KV PUT failed: 400 Invalid expiration_ttl of 0. Please specify integer greater than 0.\","
           "\"KV PUT failed: 400 Invalid expiration of 1600000000. Please specify integer greater than the current "
           "number of seconds since the UNIX epoch.\","
           "\"KV PUT failed: 400 Invalid expiration of 1700000030. Expiration times must be at least 60 seconds in the "
           "future.\",\"ok\",\"KV PUT failed: 413 Metadata length of 1591 exceeds limit of 1024.\","
           "\"KV PUT failed: 413 Value length of 26214401 exceeds limit of 26214400.\",\"ok\","
           "\"KV GET failed: 400 Invalid cache_ttl of 10. Cache TTL must be at least 30.\"]");
}

Test(bindings_kv, value_types_and_unknown_get_types)
{
    EXPECT("var out = [];"
           "function m(p) { return p.then(function (v) { out.push(v); }, function (e) { out.push(e.name + ': ' + e.message); }); }"
           "return m(KV.put('k', {a: 1})).then(function () { return m(KV.put('n', 42)); })"
           ".then(function () { return m(KV.get('n')); })"
           ".then(function () { return m(KV.get('n', 'blob')); })"
           ".then(function () { return m(KV.get('n', 'stream').then(function (s) {"
           "  return (s instanceof ReadableStream ? 'stream:' : 'not a stream:') + 0; })); })"
           ".then(function () { return m(KV.get('n', 'stream').then(function (s) { return new Response(s).text(); })); })"
           ".then(function () { return m(KV.put('c', 'v', {metadata: (function () { var o = {}; o.o = o; return o; })()})); })"
           ".then(function () { return out; });",
           "[\"TypeError: KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.\","
           "null,\"42\",\"TypeError: Unknown response type. Possible types are \\\"text\\\", \\\"arrayBuffer\\\", "
           "\\\"json\\\", and \\\"stream\\\".\",\"stream:0\",\"42\","
           "\"TypeError: cyclic input\"]");
}

Test(bindings_kv, bulk_get_returns_a_map)
{
    EXPECT("return Promise.all([KV.put('a', '{\"x\":1}', {metadata: 'm'}), KV.put('b', '2')]).then(function () {"
           "  return Promise.all([KV.get(['a', 'b', 'c']), KV.get(['a', 'b'], 'json'), KV.getWithMetadata(['a', 'c']),"
           "    KV.get([]).catch(function (e) { return e.message; }),"
           "    KV.get(['a'], 'arrayBuffer').catch(function (e) { return e.message; }),"
           "    KV.put('t', 'text').then(function () { return KV.get(['t'], 'json'); }).catch(function (e) { return e.message; })]); })"
           ".then(function (r) { return [show(r[0]), show(r[1]), show(r[2]), r[3], r[4], r[5]]; });",
           "[\"Map{\\\"a\\\":\\\"{\\\\\\\"x\\\\\\\":1}\\\",\\\"b\\\":\\\"2\\\",\\\"c\\\":null}\","
           "\"Map{\\\"a\\\":{\\\"x\\\":1},\\\"b\\\":2}\","
           "\"Map{\\\"a\\\":{\\\"value\\\":\\\"{\\\\\\\"x\\\\\\\":1}\\\",\\\"metadata\\\":\\\"m\\\",\\\"cacheStatus\\\":null},\\\"c\\\":null}\","
           "\"KV GET_BULK failed: 400 You must request a minimum of 1 key\","
           "\"KV GET_BULK failed: 400 \\\"arrayBuffer\\\" is not a valid type. Use \\\"json\\\" or \\\"text\\\"\","
           "\"KV GET_BULK failed: 400 At least one of the requested keys corresponds to a non-json value\"]");
}

Test(bindings_kv, bulk_get_of_more_than_100_keys_rejects)
{
    EXPECT("var ks = []; for (var i = 0; i < 101; i++) ks.push('k' + i);"
           "return KV.get(ks).catch(function (e) { return e.message; });",
           "\"KV GET_BULK failed: 400 You can request a maximum of 100 keys\"");
}

Test(bindings_kv, methods_need_a_namespace_this)
{
    EXPECT("var g = KV.get; return g('a').catch(function (e) { return e.name + ': ' + e.message; });",
           "\"TypeError: Illegal invocation\"");
}

Test(bindings_kv, writes_of_one_turn_share_one_commit)
{
    ew_worker_t *w = load("var ps = []; for (var i = 0; i < 200; i++) ps.push(KV.put('k' + i, 'v' + i));"
                          "return Promise.all(ps).then(function () { return KV.get('k199'); });");
    ew__store_stats_t before, after;
    ew__store_get_stats(rt->res->stores[0]->store, &before);
    cr_assert_str_eq(run(w), "\"v199\"");
    ew__store_get_stats(rt->res->stores[0]->store, &after);
    cr_assert_eq(after.commits - before.commits, 1);
    cr_assert_eq(after.writes - before.writes, 200);
}

Test(bindings_kv, data_survives_the_runtime)
{
    cr_assert_str_eq(eval("return KV.put('p', 'persisted', {metadata: {v: 1}});"), "");
    ew_runtime_destroy(rt);
    make_runtime(state_dir);
    EXPECT("return KV.getWithMetadata('p');", "{\"value\":\"persisted\",\"metadata\":{\"v\":1},\"cacheStatus\":null}");
    char path[400];
    snprintf(path, sizeof(path), "%s/kv/ns1.sqlite", state_dir);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "no database at %s", path);
    fclose(f);
}

Test(bindings_kv, two_workers_share_a_namespace_id)
{
    ew_worker_t *a = load("return KV.put('shared', 'from a');");
    ew_worker_t *b = load("return KV.get('shared');");
    run(a);
    cr_assert_str_eq(run(b), "\"from a\"");
    cr_assert_eq(rt->res->nstores, 1);
}

Test(bindings_kv, without_a_state_dir_data_lives_in_memory)
{
    ew_runtime_destroy(rt);
    make_runtime(NULL);
    ew_worker_t *w = load("if (!globalThis.done) { globalThis.done = 1; return KV.put('m', 'mem'); } return KV.get('m');");
    run(w);
    cr_assert_str_eq(run(w), "\"mem\"");
}

Test(bindings_kv, unloading_with_writes_in_flight_still_commits_them)
{
    ew_worker_t *w = load("return 1;");
    (void) w;
    static const char src[] = "addEventListener('fetch', function (e) { KV.put('late', 'yes');"
                              "  e.respondWith(new Response('ok')); });";
    ew_resource_t res[] = {{EW_RESOURCE_KV, "KV", "ns1"}};
    ew_worker_config_t cfg = {.source = src, .source_len = strlen(src), .resources = res, .nresources = 1};
    ew_worker_t *w2 = NULL;
    cr_assert_eq(ew_worker_load(rt, &cfg, &w2, NULL), EW_OK);
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    ew_response_t *resp = NULL;
    ew_worker_fetch_sync(w2, &req, &resp, NULL);
    ew_response_destroy(resp);
    ew_worker_destroy(w2);
    EXPECT("return KV.get('late');", "\"yes\"");
}

Test(bindings_kv, resource_config_is_validated)
{
    static const char src[] = "addEventListener('fetch', function () {});";
    struct {
        ew_resource_t r;
        const char *msg;
    } bad[] = {
        {{(ew_resource_kind_t) 9, "X", "x"}, "resources[0]: unknown kind 9"},
        {{EW_RESOURCE_KV, "", "x"}, "resources[0]: the binding name is empty"},
        {{EW_RESOURCE_KV, "KV", "../etc"}, "resources[0] (KV): invalid id \"../etc\""},
        {{EW_RESOURCE_KV, "KV", ".."}, "resources[0] (KV): invalid id \"..\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ew_worker_config_t cfg = {.source = src, .source_len = strlen(src), .resources = &bad[i].r, .nresources = 1};
        ew_worker_t *w = NULL;
        ew_error_t err;
        cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_ERR_INVALID_ARG, "case %zu", i);
        cr_assert(strncmp(err.message, bad[i].msg, strlen(bad[i].msg)) == 0, "case %zu: %s", i, err.message);
        cr_assert_null(w);
    }
}
