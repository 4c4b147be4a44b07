/* Bytecode bundles (lib/core/bytecode_file.c) and the compile cache (lib/core/compile_cache.c): a bundle
 * round-trips and loads without the compiler; truncated, corrupted and foreign bundles are refused with an
 * error naming the file; a second load of the same code is a cache hit; an edited import is a miss; the disk
 * cache serves a fresh process. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytecode_file.h"
#include "compile_cache.h"
#include "edgeworker.h"

static ew_runtime_t *rt;
static char dir[64];

static void make_runtime(const char *state_dir)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.memory_mb = 32;
    cfg.state_dir = state_dir;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
}

static void write_file(const char *name, const char *text, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/ew-bc-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    write_file("lib.js", "export const word = 'one';\n", 27);
    write_file("index.js",
               "import { word } from './lib.js';\n"
               "export default { fetch() { return new Response(`word=${word}`); } };\n",
               102);
    make_runtime(NULL);
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
    ew__ccache_clear();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(core_bytecode, .init = setup, .fini = teardown, .timeout = 60);

static char *path_of(const char *name)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static ew_status_t try_load(const char *path, const void *src, size_t len, ew_worker_t **w, ew_error_t *err)
{
    ew_worker_config_t cfg = {.name = "t", .path = src ? NULL : path, .source = src, .source_len = len,
                              .filename = path};
    return ew_worker_load(rt, &cfg, w, err);
}

static void expect_body(ew_worker_t *w, const char *want)
{
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    ew_response_t *resp = NULL;
    (void) ew_worker_fetch_sync(w, &req, &resp, NULL);
    cr_assert_not_null(resp);
    cr_expect_str_eq((const char *) resp->body, want);
    ew_response_destroy(resp);
}

static void *bundle_of(const char *name, size_t *len)
{
    void *b = NULL;
    ew_error_t err;
    cr_assert_eq(ew_compile_bundle(path_of(name), NULL, 0, EW_SOURCE_AUTO, &b, len, &err), EW_OK, "%s",
                 err.message);
    return b;
}

Test(core_bytecode, bundle_round_trip_loads_without_compiling)
{
    size_t len;
    void *b = bundle_of("index.js", &len);
    cr_assert_gt(len, EW__BC_HEADER_SIZE);
    cr_expect_eq(((unsigned char *) b)[0], 0xFF, "a bundle never starts like UTF-8 text");
    write_file("w.ewbc", b, len);
    unsigned long before = ew__ccache_compiles();
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(try_load(path_of("w.ewbc"), NULL, 0, &w, &err), EW_OK, "%s", err.message);
    cr_expect_eq(ew__ccache_compiles(), before, "a bundle is not compiled");
    expect_body(w, "word=one");
    ew_worker_destroy(w);
    /* The bytes as cfg->source work the same. */
    cr_assert_eq(try_load("mem.ewbc", b, len, &w, &err), EW_OK, "%s", err.message);
    expect_body(w, "word=one");
    ew_worker_destroy(w);
    ew_bundle_free(b);
}

static void expect_refused(const void *b, size_t len, const char *words)
{
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(try_load("bad.ewbc", b, len, &w, &err), EW_ERR_INVALID_ARG);
    cr_expect_null(w);
    cr_expect(strstr(err.message, "bad.ewbc") != NULL, "names the file: %s", err.message);
    cr_expect(strstr(err.message, words) != NULL, "says '%s': %s", words, err.message);
    cr_expect(strstr(err.message, "ew-server build") != NULL, "says how to rebuild: %s", err.message);
}

Test(core_bytecode, truncated_corrupted_and_foreign_bundles_are_refused)
{
    size_t len;
    unsigned char *b = bundle_of("index.js", &len);
    unsigned char *copy = malloc(len);
    expect_refused(b, 1, "not a bytecode bundle");
    expect_refused(b, 40, "truncated");
    expect_refused(b, len - 1, "truncated");
    memcpy(copy, b, len);
    copy[len - 3] ^= 0x40; /* a bytecode byte */
    expect_refused(copy, len, "checksum");
    memcpy(copy, b, len);
    copy[16] = '9'; /* library version "9.3.0" */
    expect_refused(copy, len, "made by libedgeworker 9.3.0");
    memcpy(copy, b, len);
    copy[44] ^= 1; /* build fingerprint */
    expect_refused(copy, len, "different build");
    memcpy(copy, b, len);
    copy[8] = 7; /* format */
    expect_refused(copy, len, "format 7");
    free(copy);
    ew_bundle_free(b);
}

Test(core_bytecode, second_load_is_a_cache_hit_and_an_edited_import_a_miss)
{
    ew_worker_t *w1 = NULL, *w2 = NULL, *w3 = NULL;
    ew_error_t err;
    unsigned long c0 = ew__ccache_compiles();
    cr_assert_eq(try_load(path_of("index.js"), NULL, 0, &w1, &err), EW_OK, "%s", err.message);
    cr_expect_eq(ew__ccache_compiles(), c0 + 1);
    cr_assert_eq(try_load(path_of("index.js"), NULL, 0, &w2, &err), EW_OK, "%s", err.message);
    cr_expect_eq(ew__ccache_compiles(), c0 + 1, "the second load skips the compiler");
    expect_body(w2, "word=one");
    write_file("lib.js", "export const word = 'two';\n", 27);
    cr_assert_eq(try_load(path_of("index.js"), NULL, 0, &w3, &err), EW_OK, "%s", err.message);
    cr_expect_eq(ew__ccache_compiles(), c0 + 2, "an edited import compiles again");
    expect_body(w3, "word=two");
    ew_worker_destroy(w1);
    ew_worker_destroy(w2);
    ew_worker_destroy(w3);
}

Test(core_bytecode, a_failed_compile_is_not_cached)
{
    write_file("broken.js", "export default {\n", 17);
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(try_load(path_of("broken.js"), NULL, 0, &w, &err), EW_ERR_SYNTAX);
    cr_assert_eq(try_load(path_of("broken.js"), NULL, 0, &w, &err), EW_ERR_SYNTAX, "still an error, not a hang");
}

Test(core_bytecode, disk_cache_serves_a_new_process_and_damaged_entries_are_recompiled)
{
    ew_runtime_destroy(rt);
    char state[128];
    snprintf(state, sizeof(state), "%s/state", dir);
    make_runtime(state);
    ew_worker_t *w = NULL;
    ew_error_t err;
    unsigned long c0 = ew__ccache_compiles();
    cr_assert_eq(try_load(path_of("index.js"), NULL, 0, &w, &err), EW_OK, "%s", err.message);
    ew_worker_destroy(w);
    cr_expect_eq(ew__ccache_compiles(), c0 + 1);
    /* What a restarted process sees: an empty memory cache, the files in state/cache/compile. */
    ew__ccache_clear();
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test $(ls %s/cache/compile/*.ewbc | wc -l) = 1", state);
    cr_assert_eq(system(cmd), 0, "one cache file");
    cr_assert_eq(try_load(path_of("index.js"), NULL, 0, &w, &err), EW_OK, "%s", err.message);
    cr_expect_eq(ew__ccache_compiles(), c0 + 1, "served from the disk cache");
    expect_body(w, "word=one");
    ew_worker_destroy(w);
    /* A damaged cache file is ignored and replaced. */
    ew__ccache_clear();
    snprintf(cmd, sizeof(cmd), "for f in %s/cache/compile/*.ewbc; do head -c 100 $f > $f.x && mv $f.x $f; done",
             state);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(try_load(path_of("index.js"), NULL, 0, &w, &err), EW_OK, "%s", err.message);
    cr_expect_eq(ew__ccache_compiles(), c0 + 2, "recompiled");
    expect_body(w, "word=one");
    ew_worker_destroy(w);
    ew__ccache_clear();
    cr_assert_eq(try_load(path_of("index.js"), NULL, 0, &w, &err), EW_OK, "%s", err.message);
    cr_expect_eq(ew__ccache_compiles(), c0 + 2, "the rewritten file serves the next process");
    ew_worker_destroy(w);
}

Test(core_bytecode, compile_bundle_reports_errors)
{
    void *b = (void *) 1;
    size_t len;
    ew_error_t err;
    cr_expect_eq(ew_compile_bundle(NULL, NULL, 0, EW_SOURCE_AUTO, &b, &len, &err), EW_ERR_INVALID_ARG);
    cr_expect_eq(ew_compile_bundle(path_of("missing.js"), NULL, 0, EW_SOURCE_AUTO, &b, &len, &err), EW_ERR_IO);
    cr_expect_null(b);
    cr_expect_eq(ew_compile_bundle("x.js", "let = ;", 7, EW_SOURCE_AUTO, &b, &len, &err), EW_ERR_SYNTAX);
    cr_expect_str_eq(err.file, "x.js");
    cr_expect_eq(err.line, 1);
}

Test(core_bytecode, disk_cache_keeps_a_bounded_number_of_programs)
{
    ew_runtime_destroy(rt);
    char state[128];
    snprintf(state, sizeof(state), "%s/state", dir);
    make_runtime(state);
    for (int i = 0; i < 140; i++) {
        char src[128];
        snprintf(src, sizeof(src), "export default { fetch() { return new Response('%d'); } };", i);
        ew_worker_t *w = NULL;
        ew_error_t err;
        cr_assert_eq(try_load("gen.js", src, strlen(src), &w, &err), EW_OK, "%s", err.message);
        ew_worker_destroy(w);
    }
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test $(ls %s/cache/compile | wc -l) = 128", state);
    cr_expect_eq(system(cmd), 0, "the oldest programs were removed");
}
