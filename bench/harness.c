/* harness.c — the shared parts of the in-process benchmarks (harness.h). */
#include "harness.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

long bench_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kb;
}

void bench_state_dir(bench_dir_t *dir, const char *name, const char *given)
{
    dir->owned = given == NULL;
    if (given != NULL) {
        snprintf(dir->path, sizeof(dir->path), "%s", given);
        return;
    }
    snprintf(dir->path, sizeof(dir->path), "/tmp/ew-%s-XXXXXX", name);
    if (mkdtemp(dir->path) == NULL) {
        perror(name);
        exit(1);
    }
}

void bench_state_dir_done(const bench_dir_t *dir)
{
    if (!dir->owned)
        return;
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir->path);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir->path);
}

void bench_open(const bench_worker_t *spec, const char *state_dir, ew_runtime_t **rt_out, ew_worker_t **w_out)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.state_dir = state_dir;
    cfg.cpu_ms = 600000;
    char filename[256];
    snprintf(filename, sizeof(filename), "%s.js", spec->name);
    ew_worker_config_t wc = {.name = spec->name,
                             .source = spec->script,
                             .source_len = strlen(spec->script),
                             .filename = filename,
                             .resources = spec->resources,
                             .nresources = spec->nresources,
                             .durable_objects = spec->durable_objects,
                             .ndurable_objects = spec->ndurable_objects,
                             .bindings = spec->bindings,
                             .nbindings = spec->nbindings,
                             .queue_producers = spec->queue_producers,
                             .nqueue_producers = spec->nqueue_producers,
                             .queue_consumers = spec->queue_consumers,
                             .nqueue_consumers = spec->nqueue_consumers};
    ew_error_t err;
    if (ew_runtime_create(&cfg, rt_out, &err) != EW_OK || ew_worker_load(*rt_out, &wc, w_out, &err) != EW_OK) {
        fprintf(stderr, "%s: %s\n", spec->name, err.message);
        exit(1);
    }
}

bool bench_fetch(const char *name, ew_worker_t *w, const char *url, bool fatal)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    ew_status_t st = ew_worker_fetch_sync(w, &req, &resp, &err);
    bool ok = st == EW_OK && resp != NULL && resp->status == 200;
    if (!ok) {
        if (st != EW_OK)
            fprintf(stderr, "%s: %s failed: %s\n", name, url, err.message);
        else
            fprintf(stderr, "%s: %s failed: %d %.*s\n", name, url, resp->status, (int) resp->body_len,
                    (const char *) resp->body);
    }
    ew_response_destroy(resp);
    if (!ok && fatal)
        exit(1);
    return ok;
}

typedef struct {
    const char *name;
    int outstanding;
} concurrent_t;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    concurrent_t *c = udata;
    if (err != NULL)
        fprintf(stderr, "%s: request failed: %s\n", c->name, err->message);
    ew_response_destroy(resp);
    c->outstanding--;
}

double bench_concurrent(const char *name, ew_runtime_t *rt, ew_worker_t *w, const char *url, int conc, int total)
{
    ew_request_t req = {.method = "GET", .url = url};
    concurrent_t c = {name, 0};
    double t0 = bench_now();
    int sent = 0;
    while (sent < total || c.outstanding > 0) {
        while (sent < total && c.outstanding < conc) {
            c.outstanding++;
            sent++;
            ew_worker_fetch(w, &req, on_response, &c);
        }
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE);
    }
    return total / (bench_now() - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

void bench_latency(const char *name, ew_worker_t *w, const char *label, const char *url, int n)
{
    double *t = malloc(sizeof(double) * (size_t) n);
    if (t == NULL)
        exit(1);
    for (int i = 0; i < n / 10; i++) /* warm-up */
        bench_fetch(name, w, url, true);
    for (int i = 0; i < n; i++) {
        double t0 = bench_now();
        bench_fetch(name, w, url, true);
        t[i] = (bench_now() - t0) * 1e6;
    }
    qsort(t, (size_t) n, sizeof(double), cmp_double);
    printf("%-10s p50 %8.1f us   p99 %8.1f us   (%d requests)\n", label, t[n / 2], t[n * 99 / 100], n);
    free(t);
    fflush(stdout);
}
