/*
 * lowering_cost.c — how much slower the compiler's ES5 output runs than the same program written by hand in
 * ES5 (issue "compiler": lowered non-async code <= 1.3x slower). bench/lowering/modern.js is the workload in
 * ES2022 (classes with super, arrows, let closures in loops, for-of with destructuring, template literals,
 * spread, default and rest parameters, ?. and ??); bench/lowering/es5.js is the same algorithms by hand.
 * Each part runs as one request of N iterations in each Worker, alternating, ROUNDS times; reported are the
 * median CPU times and their ratio. The two Workers' answers (checksums) must be equal, or the bench fails.
 *
 *   build/bench/lowering_cost [N] [ROUNDS]   (from the checkout's top folder; default N 100000, ROUNDS 5)
 *   build/bench/lowering_cost N ROUNDS PART modern|es5|FILE.js
 *
 * The second form runs one part in one Worker only (ROUNDS + 1 requests, the answer printed; FILE.js: a variant
 * of either program to try), for counting its instructions on a loaded machine, where CPU time is noise:
 *   valgrind --tool=callgrind --toggle-collect=ew_worker_fetch_sync build/bench/lowering_cost 20000 1 spread modern
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static const char *const PARTS[] = {"classes", "arrows", "closures", "destructuring", "templates", "spread",
                                    "defaults"};
#define NPARTS (sizeof(PARTS) / sizeof(PARTS[0]))

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t) n + 1);
    if (s == NULL || fread(s, 1, (size_t) n, f) != (size_t) n)
        exit(1);
    s[n] = '\0';
    fclose(f);
    return s;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* One request; returns its CPU seconds and copies the answer into out. */
static double run(ew_worker_t *w, const char *url, char *out, size_t cap)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    double t0 = cpu_s();
    ew_status_t st = ew_worker_fetch_sync(w, &req, &resp, &err);
    double dt = cpu_s() - t0;
    if (st != EW_OK || resp->status != 200) {
        fprintf(stderr, "lowering_cost: %s failed: %s\n", url, st != EW_OK ? err.message : (const char *) resp->body);
        exit(1);
    }
    snprintf(out, cap, "%.*s", (int) resp->body_len, (const char *) resp->body);
    ew_response_destroy(resp);
    return dt;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* One part (by name) in one Worker (side "modern", "es5" or a file): rounds + 1 requests; prints the answer. */
static int run_one(int n, int rounds, const char *part, const char *side)
{
    const char *path = strcmp(side, "es5") == 0      ? "bench/lowering/es5.js"
                       : strcmp(side, "modern") == 0 ? "bench/lowering/modern.js"
                                                     : side;
    char *src = read_file(path);
    bench_worker_t bw = {.name = side, .script = src};
    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&bw, NULL, &rt, &w);
    char url[128], answer[128];
    snprintf(url, sizeof(url), "http://b/?part=%s&n=%d", part, n);
    double t = 0;
    for (int r = 0; r <= rounds; r++)
        t += run(w, url, answer, sizeof(answer));
    printf("%s %s: %s (%.2f ms per request)\n", side, part, answer, t * 1e3 / (rounds + 1));
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    free(src);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 64 || rounds < 1 || rounds > 99)
        return 2;
    if (argc > 3)
        return run_one(n, rounds, argv[3], argc > 4 ? argv[4] : "modern");
    char *modern_src = read_file("bench/lowering/modern.js"), *es5_src = read_file("bench/lowering/es5.js");
    bench_worker_t modern = {.name = "modern", .script = modern_src};
    bench_worker_t es5 = {.name = "es5", .script = es5_src};
    ew_runtime_t *rt_m, *rt_e;
    ew_worker_t *w_m, *w_e;
    bench_open(&modern, NULL, &rt_m, &w_m);
    bench_open(&es5, NULL, &rt_e, &w_e);
    printf("%-14s %12s %12s %7s   (N = %d, median of %d, CPU time per request)\n", "part", "lowered ms", "ES5 ms",
           "ratio", n, rounds);
    double total_m = 0, total_e = 0;
    for (size_t p = 0; p < NPARTS; p++) {
        char url[128], a[128], b[128];
        snprintf(url, sizeof(url), "http://b/?part=%s&n=%d", PARTS[p], n);
        double tm[99], te[99];
        run(w_m, url, a, sizeof(a)); /* warm-up */
        run(w_e, url, b, sizeof(b));
        for (int r = 0; r < rounds; r++) {
            tm[r] = run(w_m, url, a, sizeof(a));
            te[r] = run(w_e, url, b, sizeof(b));
        }
        if (strcmp(a, b) != 0) {
            fprintf(stderr, "lowering_cost: %s: the lowered program answered %s, the ES5 one %s\n", PARTS[p], a, b);
            return 1;
        }
        qsort(tm, (size_t) rounds, sizeof(double), cmp_double);
        qsort(te, (size_t) rounds, sizeof(double), cmp_double);
        double m = tm[rounds / 2], e = te[rounds / 2];
        total_m += m;
        total_e += e;
        printf("%-14s %12.2f %12.2f %6.2fx\n", PARTS[p], m * 1e3, e * 1e3, m / e);
    }
    printf("%-14s %12.2f %12.2f %6.2fx\n", "all", total_m * 1e3, total_e * 1e3, total_m / total_e);
    ew_worker_destroy(w_m);
    ew_worker_destroy(w_e);
    ew_runtime_destroy(rt_m);
    ew_runtime_destroy(rt_e);
    free(modern_src);
    free(es5_src);
    return 0;
}
