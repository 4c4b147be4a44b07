/* R2 buckets' storage (lib/bindings/r2.c, r2_blob.c): the layout on disk, the sweep of files no row names
 * when a bucket opens, a bucket without a state folder, resource validation. The JavaScript API is tested
 * in tests/js/r2_*.test.js and end to end in tests/e2e/test_r2.py. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "bindings/internal.h"

static char state_dir[256];

static void setup(void)
{
    snprintf(state_dir, sizeof(state_dir), "/tmp/ew-r2-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(state_dir));
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", state_dir);
    (void) system(cmd);
}

TestSuite(bindings_r2, .init = setup, .fini = teardown, .timeout = 60);

static const char SCRIPT[] =
    "addEventListener('fetch', function (e) {"
    "  var u = new URL(e.request.url), k = u.searchParams.get('k');"
    "  var p = u.pathname === '/put' ? B.put(k, u.searchParams.get('v')).then(function (o) { return o.etag; })"
    "        : u.pathname === '/del' ? B.delete(k).then(function () { return 'deleted'; })"
    "        : u.pathname === '/unread' ? (function loop(i) { return i === 0 ? 'done' :"
    "            B.get(k).then(function (o) { if (o !== null) o.size; return loop(i - 1); }); })(+u.searchParams.get('n'))"
    "        : B.get(k).then(function (o) { return o === null ? 'null' : o.text(); });"
    "  e.respondWith(p.then(function (t) { return new Response(t); },"
    "                       function (err) { return new Response('ERR ' + err.message); }));"
    "});";

static ew_runtime_t *runtime(const char *dir)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = 5000;
    cfg.state_dir = dir;
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
    return rt;
}

static ew_worker_t *load(ew_runtime_t *rt)
{
    ew_resource_t res = {EW_RESOURCE_R2, "B", "unit"};
    ew_worker_config_t cfg = {.source = SCRIPT, .source_len = sizeof(SCRIPT) - 1, .resources = &res, .nresources = 1};
    ew_worker_t *w;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_OK, "%s", err.message);
    return w;
}

static char *get(ew_worker_t *w, const char *path)
{
    static char out[256];
    char url[256];
    snprintf(url, sizeof(url), "http://unit%s", path);
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_OK, "%s", err.message);
    snprintf(out, sizeof(out), "%.*s", (int) resp->body_len, (const char *) resp->body);
    ew_response_destroy(resp);
    return out;
}

/* Names of the files in the bucket's body folder, sorted, joined by spaces. */
static char *blob_files(void)
{
    static char out[4096];
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/r2/unit.blobs", state_dir);
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    cr_assert_geq(n, 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.' || strncmp(list[i]->d_name, ".tmp-", 5) == 0) {
            strcat(out, out[0] ? " " : "");
            strcat(out, list[i]->d_name);
        }
        free(list[i]);
    }
    free(list);
    return out;
}

static void make_file(const char *name, int age_s)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/r2/unit.blobs/%s", state_dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "orphan", 6), 6);
    close(fd);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= age_s;
    tv[1] = tv[0];
    cr_assert_eq(utimes(path, tv), 0);
}

Test(bindings_r2, objects_are_a_database_and_one_file_each)
{
    ew_runtime_t *rt = runtime(state_dir);
    ew_worker_t *w = load(rt);
    cr_assert_str_eq(get(w, "/put?k=a&v=hello"), "5d41402abc4b2a76b9719d911017c592");
    get(w, "/put?k=b&v=x");
    get(w, "/put?k=a&v=replaced");
    cr_assert_str_eq(get(w, "/get?k=a"), "replaced");
    char db[512];
    snprintf(db, sizeof(db), "%s/r2/unit.sqlite", state_dir);
    struct stat sb;
    cr_assert_eq(stat(db, &sb), 0);
    char *files = blob_files();
    cr_assert_eq(strlen(files), 2 * EW__R2_ID_HEX + 1, "two bodies: %s", files); /* the replaced one is gone */
    get(w, "/del?k=a");
    get(w, "/del?k=b");
    cr_assert_str_eq(blob_files(), "");
    ew_runtime_destroy(rt);
}

Test(bindings_r2, opening_sweeps_stale_orphans_only)
{
    ew_runtime_t *rt = runtime(state_dir);
    ew_worker_t *w = load(rt);
    get(w, "/put?k=kept&v=data");
    ew_runtime_destroy(rt);
    char kept[256];
    snprintf(kept, sizeof(kept), "%s", blob_files());
    /* A crash between a body's rename and its commit leaves a file no row names; one mid-write leaves a
     * temporary file. Old ones are swept; young ones may belong to a put still running elsewhere. */
    make_file("0123456789abcdef0123456789abcdef", 3600);
    make_file(".tmp-00000000000000000000000000000000", 3600);
    make_file("fedcba9876543210fedcba9876543210", 0);
    make_file("not-a-body-file", 3600);
    rt = runtime(state_dir);
    w = load(rt);
    char *now = blob_files();
    cr_assert(strstr(now, kept) != NULL, "%s", now);
    cr_assert(strstr(now, "fedcba9876543210fedcba9876543210") != NULL, "%s", now);
    cr_assert(strstr(now, "not-a-body-file") != NULL, "%s", now);
    cr_assert(strstr(now, "0123456789abcdef0123456789abcdef") == NULL, "%s", now);
    cr_assert(strstr(now, ".tmp-") == NULL, "%s", now);
    cr_assert_eq(strlen(now), 2 * EW__R2_ID_HEX + 1 + strlen(" not-a-body-file"), "%s", now);
    cr_assert_str_eq(get(w, "/get?k=kept"), "data");
    ew_runtime_destroy(rt);
}

Test(bindings_r2, without_a_state_dir_bodies_live_in_a_private_temporary_folder)
{
    ew_runtime_t *rt = runtime(NULL);
    ew_worker_t *w = load(rt);
    get(w, "/put?k=a&v=in%20memory");
    cr_assert_str_eq(get(w, "/get?k=a"), "in memory");
    ew_runtime_destroy(rt);
    rt = runtime(NULL);
    w = load(rt);
    cr_assert_str_eq(get(w, "/get?k=a"), "null");
    ew_runtime_destroy(rt);
}

/* Gets whose bodies nobody reads must not keep files open (their objects are freed by the collector, which
 * may run long after). */
Test(bindings_r2, bodies_never_read_hold_no_files)
{
    struct rlimit lim = {64, 64}; /* each test runs in its own process */
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
    ew_runtime_t *rt = runtime(state_dir);
    ew_worker_t *w = load(rt);
    get(w, "/put?k=small&v=x");
    cr_assert_str_eq(get(w, "/unread?k=small&n=500"), "done");
    ew_runtime_destroy(rt);
}

Test(bindings_r2, resource_ids_are_validated)
{
    ew_runtime_t *rt = runtime(state_dir);
    ew_resource_t res = {EW_RESOURCE_R2, "B", "../escape"};
    ew_worker_config_t cfg = {.source = SCRIPT, .source_len = sizeof(SCRIPT) - 1, .resources = &res, .nresources = 1};
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "invalid id \"../escape\"") != NULL, "%s", err.message);
    cr_assert_null(w);
    ew_runtime_destroy(rt);
}
