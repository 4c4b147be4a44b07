/*
 * harness.h — what the in-process benchmarks (kv_bench, d1_bench, r2_bench, do_bench, queue_bench) share: a clock, a
 * state directory of their own, a runtime with one Worker, a blocking fetch that checks for 200, and a
 * driver that keeps C requests in flight. Every function reports failures on stderr prefixed by the
 * bench's name; benches are programs, so they may print and exit (the library never does).
 */
#ifndef EW_BENCH_HARNESS_H
#define EW_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "edgeworker.h"

/* Monotonic time in seconds. */
double bench_now(void);

/* Resident set size of this process in KiB (-1 if /proc is unreadable). */
long bench_rss_kb(void);

/* The state directory: `given` if not NULL (kept afterwards), else a fresh /tmp/ew-NAME-XXXXXX removed by
 * bench_state_dir_done. Exits on failure. */
typedef struct {
    char path[4096];
    bool owned; /* created here: removed at the end */
} bench_dir_t;

void bench_state_dir(bench_dir_t *dir, const char *name, const char *given);
void bench_state_dir_done(const bench_dir_t *dir);

/* A runtime on `state_dir` with a CPU limit generous enough for whole benchmark loops, and one Worker
 * from `script` (module syntax unless it calls addEventListener) with the resources and Durable Object
 * classes given. Exits on failure, naming `name`. */
typedef struct {
    const char *name; /* bench name: prefixes messages, names the Worker */
    const char *script;
    const ew_resource_t *resources;
    size_t nresources;
    const ew_durable_object_t *durable_objects;
    size_t ndurable_objects;
    const ew_binding_t *bindings;  /* host bindings (queue_bench counts deliveries with one) */
    size_t nbindings;
    const ew_queue_producer_t *queue_producers;
    size_t nqueue_producers;
    const ew_queue_consumer_t *queue_consumers;
    size_t nqueue_consumers;
} bench_worker_t;

void bench_open(const bench_worker_t *spec, const char *state_dir, ew_runtime_t **rt_out, ew_worker_t **w_out);

/* GET url on w, waiting for the whole response. Returns true on 200; otherwise prints the error or the
 * status and body, and returns false (fatal: exits instead). */
bool bench_fetch(const char *name, ew_worker_t *w, const char *url, bool fatal);

/* GETs url n times one after another (after n/10 warm-up requests; any failure exits) and prints the
 * median and 99th percentile round trip as a line labelled `label`. */
void bench_latency(const char *name, ew_worker_t *w, const char *label, const char *url, int n);

/* Sends `total` GETs of url with `conc` in flight at once on rt's loop; returns requests per second. */
double bench_concurrent(const char *name, ew_runtime_t *rt, ew_worker_t *w, const char *url, int conc, int total);

#endif
