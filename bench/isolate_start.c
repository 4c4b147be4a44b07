/*
 * isolate_start.c — how fast a new isolate is ready to serve, and what an idle one costs.
 *
 * For a Worker loaded once (compiled to bytecode), creates N fresh isolates the way a worker does when it
 * replaces one (heap + runtime layer + the Worker's bytecode + its top level), keeping them all alive, then
 * reports the median/p90 creation time and the heap bytes per idle isolate (the allocator's exact count,
 * block headers included) and the process RSS growth per isolate. Targets (issue "Foundation"): median
 * <= 1 ms, <= 300 KB per idle isolate.
 *
 *   build/bench/isolate_start [N] [worker.js]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"

static const char HELLO[] =
    "addEventListener('fetch', function (event) {\n"
    "  event.respondWith(new Response('Hello from Cloudflare Workers!'));\n"
    "});\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * 4;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 500;
    if (n < 1)
        n = 1;
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(NULL, &rt, &err) != EW_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ew_worker_config_t cfg = {.name = "bench", .source = HELLO, .source_len = strlen(HELLO)};
    if (argc > 2) {
        cfg.path = argv[2];
        cfg.source = NULL;
    }
    ew_worker_t *w;
    if (ew_worker_load(rt, &cfg, &w, &err) != EW_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    ew__isolate_t **isos = calloc((size_t) n, sizeof(*isos));
    double *ms = calloc((size_t) n, sizeof(*ms));
    size_t heap_total = 0;
    long rss0 = rss_kb();
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        isos[i] = ew__isolate_create(rt, w, 128u << 20, &err);
        ms[i] = now_ms() - t0;
        if (isos[i] == NULL) {
            fprintf(stderr, "isolate %d: %s\n", i, err.message);
            return 1;
        }
        heap_total += isos[i]->heap_bytes;
    }
    long rss1 = rss_kb();
    qsort(ms, (size_t) n, sizeof(*ms), cmp_double);
    printf("isolates: %d, bytecode: %zu bytes\n", n, w->bytecode_len);
    printf("create+load median: %.3f ms, p90: %.3f ms, min: %.3f ms\n", ms[n / 2], ms[n * 9 / 10], ms[0]);
    printf("heap per idle isolate: %.1f KB (allocator count)\n", (double) heap_total / n / 1024.0);
    printf("RSS growth per isolate: %.1f KB\n", (double) (rss1 - rss0) / n);
    for (int i = 0; i < n; i++) {
        isos[i]->worker = NULL; /* not the worker's: destroy directly */
        ew__isolate_destroy(isos[i]);
    }
    free(isos);
    free(ms);
    ew_runtime_destroy(rt);
    return 0;
}
