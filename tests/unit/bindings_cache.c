/* The Cache API's storage (lib/bindings/cache.c): the size bound with expired-first then least-recently-used
 * eviction (with a fake bindings clock for expiry), entries too big for the bound, persistence in the state
 * directory, the file per worker. The HTTP rules are tested in tests/js/cache_api.test.js. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "bindings/internal.h"

static ew_runtime_t *rt;
static char state_dir[256];
static double fake_now;

static double test_clock(void)
{
    return fake_now;
}

static void make_runtime(void)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = 5000;
    cfg.state_dir = state_dir;
    cfg.cache_mb = 1;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
}

static void setup(void)
{
    snprintf(state_dir, sizeof(state_dir), "/tmp/ew-cache-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(state_dir));
    struct timeval tv;
    gettimeofday(&tv, NULL);
    fake_now = (double) tv.tv_sec;
    make_runtime();
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
    (void) system(cmd);
}

TestSuite(bindings_cache, .init = setup, .fini = teardown, .timeout = 60);

/* GET /put?KEY&KB&CACHE_CONTROL stores KB KiB under KEY; GET /has?KEY answers "yes" or "no". */
static const char WORKER[] =
    "export default { async fetch(request) {\n"
    "  const url = new URL(request.url);\n"
    "  const [key, kb, cc] = url.search.slice(1).split('&');\n"
    "  const k = 'https://example.com/' + key;\n"
    "  if (url.pathname === '/put') {\n"
    "    await caches.default.put(k, new Response(new Uint8Array(kb * 1024),\n"
    "      { headers: { 'cache-control': decodeURIComponent(cc || 'max-age=3600') } }));\n"
    "    return new Response('stored');\n"
    "  }\n"
    "  return new Response((await caches.default.match(k)) ? 'yes' : 'no');\n"
    "} };\n";

static ew_worker_t *load(const char *name)
{
    ew_worker_config_t cfg = {.name = name, .source = WORKER, .source_len = strlen(WORKER)};
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_OK, "load failed: %s", err.message);
    ew__resources_set_clock(rt, test_clock);
    return w;
}

static const char *get(ew_worker_t *w, const char *path)
{
    static char out[256];
    char url[256];
    snprintf(url, sizeof(url), "http://x%s", path);
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    (void) ew_worker_fetch_sync(w, &req, &resp, &err);
    cr_assert_not_null(resp);
    cr_assert_eq(resp->outcome, EW_OK, "request failed: %s", err.message);
    snprintf(out, sizeof(out), "%s", (char *) resp->body);
    ew_response_destroy(resp);
    return out;
}

Test(bindings_cache, bound_evicts_the_least_recently_used)
{
    ew_worker_t *w = load("lru");
    cr_assert_str_eq(get(w, "/put?a&400"), "stored");
    cr_assert_str_eq(get(w, "/put?b&400"), "stored");
    cr_assert_str_eq(get(w, "/has?a"), "yes"); /* a is now more recent than b */
    cr_assert_str_eq(get(w, "/put?c&400"), "stored");
    cr_assert_str_eq(get(w, "/has?b"), "no");
    cr_assert_str_eq(get(w, "/has?a"), "yes");
    cr_assert_str_eq(get(w, "/has?c"), "yes");
}

Test(bindings_cache, expired_entries_go_before_recent_ones)
{
    ew_worker_t *w = load("expiry");
    get(w, "/put?a&400");
    get(w, "/put?c&400");
    get(w, "/put?x&100&s-maxage%3D5");
    cr_assert_str_eq(get(w, "/has?x"), "yes"); /* the most recently used */
    fake_now += 100;                            /* x has expired for the eviction clock */
    get(w, "/put?y&150");
    cr_assert_str_eq(get(w, "/has?x"), "no");
    cr_assert_str_eq(get(w, "/has?a"), "yes"); /* the oldest survived: the expired entry made the room */
    cr_assert_str_eq(get(w, "/has?y"), "yes");
}

Test(bindings_cache, an_entry_over_the_bound_is_not_stored)
{
    ew_worker_t *w = load("big");
    get(w, "/put?small&10");
    get(w, "/put?huge&2048");
    cr_assert_str_eq(get(w, "/has?huge"), "no");
    cr_assert_str_eq(get(w, "/has?small"), "yes");
}

Test(bindings_cache, entries_persist_per_worker_in_the_state_directory)
{
    ew_worker_t *w = load("site");
    get(w, "/put?p&1");
    ew_worker_t *other = load("other-site");
    cr_assert_str_eq(get(other, "/has?p"), "no");
    ew_runtime_destroy(rt);
    char path[400];
    snprintf(path, sizeof(path), "%s/cache/site.sqlite", state_dir);
    cr_assert_eq(access(path, F_OK), 0, "%s", path);
    make_runtime();
    cr_assert_str_eq(get(load("site"), "/has?p"), "yes");
}
