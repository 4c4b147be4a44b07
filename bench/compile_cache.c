/*
 * compile_cache.c — Worker load time, cold (lower + compile + run the top level) against the paths that skip
 * the compiler: the in-memory compile cache, the disk cache in a state folder (as after a restart), and a
 * bytecode bundle (`ew-server build -o`). Median of RUNS loads each, wall-clock ms.
 * Usage: compile_cache ENTRY [RUNS]   (bench/compile_speed/run.sh-style entry, e.g. bench/compile_speed/worker.js)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compile_cache.h"
#include "edgeworker.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static ew_runtime_t *runtime(const char *state)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.state_dir = state;
    ew_runtime_t *rt = NULL;
    if (ew_runtime_create(&cfg, &rt, NULL) != EW_OK)
        exit(1);
    return rt;
}

/* One load, timed; the worker is destroyed after. */
static double load(ew_runtime_t *rt, const char *path, const void *src, size_t len)
{
    ew_worker_config_t cfg = {.name = "bench", .path = src ? NULL : path, .source = src, .source_len = len,
                              .filename = path};
    ew_worker_t *w = NULL;
    ew_error_t err;
    double t0 = now_ms();
    if (ew_worker_load(rt, &cfg, &w, &err) != EW_OK) {
        fprintf(stderr, "load failed: %s\n", err.message);
        exit(1);
    }
    double t = now_ms() - t0;
    ew_worker_destroy(w);
    return t;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: compile_cache ENTRY [RUNS]\n");
        return 2;
    }
    const char *entry = argv[1];
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > 100)
        runs = 5;
    char state[] = "/tmp/ew-bench-ccache-XXXXXX";
    if (mkdtemp(state) == NULL)
        return 1;
    double cold[100], mem[100], disk[100], bundle[100];
    ew_runtime_t *rt = runtime(state);
    for (int i = 0; i < runs; i++) {
        ew__ccache_clear();
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s/cache", state);
        if (system(cmd) != 0)
            return 1;
        unsigned long c0 = ew_compile_count();
        cold[i] = load(rt, entry, NULL, 0);
        mem[i] = load(rt, entry, NULL, 0);
        ew__ccache_clear(); /* what a restarted process has: only the state folder */
        disk[i] = load(rt, entry, NULL, 0);
        if (ew_compile_count() != c0 + 1) {
            fprintf(stderr, "the cached loads compiled\n");
            return 1;
        }
    }
    void *b = NULL;
    size_t blen = 0;
    ew_error_t err;
    double tb = now_ms();
    if (ew_compile_bundle(entry, NULL, 0, EW_SOURCE_AUTO, &b, &blen, &err) != EW_OK) {
        fprintf(stderr, "bundle failed: %s\n", err.message);
        return 1;
    }
    tb = now_ms() - tb;
    for (int i = 0; i < runs; i++)
        bundle[i] = load(rt, "bench.ewbc", b, blen);
    ew_bundle_free(b);
    ew_runtime_destroy(rt);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
    if (system(cmd) != 0)
        return 1;
    qsort(cold, (size_t) runs, sizeof(double), cmp);
    qsort(mem, (size_t) runs, sizeof(double), cmp);
    qsort(disk, (size_t) runs, sizeof(double), cmp);
    qsort(bundle, (size_t) runs, sizeof(double), cmp);
    int m = runs / 2;
    printf("%s: bytecode %zu bytes (bundle), median of %d loads (ms, the top level run included)\n", entry, blen,
           runs);
    printf("  cold (lower + compile + run)   %8.1f\n", cold[m]);
    printf("  memory cache hit               %8.1f\n", mem[m]);
    printf("  disk cache hit (restart)       %8.1f\n", disk[m]);
    printf("  bytecode bundle                %8.1f\n", bundle[m]);
    printf("  ew_compile_bundle (compile only) %6.1f\n", tb);
    return 0;
}
