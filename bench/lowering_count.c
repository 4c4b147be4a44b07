/*
 * lowering_count.c — one part of bench/lowering_cost.c's workload, for instruction counts under callgrind
 * (repeatable on a loaded machine, where lowering_cost's CPU times are not):
 *
 *   valgrind --tool=callgrind --toggle-collect=measured_requests \
 *       build/bench/lowering_count bench/lowering/modern.js classes 2000 5
 *
 * loads the Worker FILE, answers two warm-up requests `?part=PART&n=N` (lazily loaded helpers, caches),
 * then REQUESTS more inside measured_requests(), the only function callgrind counts with that option; the
 * printed "totals" divided by REQUESTS x N is the cost per iteration. Run it for modern.js and es5.js.
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

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

/* Not inlined: callgrind's --toggle-collect names it. */
__attribute__((noinline)) static void measured_requests(ew_worker_t *w, const char *url, int requests)
{
    for (int i = 0; i < requests; i++)
        bench_fetch("lowering_count", w, url, true);
}

int main(int argc, char **argv)
{
    if (argc != 5 || atoi(argv[3]) < 1 || atoi(argv[4]) < 1) {
        fprintf(stderr, "usage: lowering_count FILE PART N REQUESTS\n");
        return 2;
    }
    char *src = read_file(argv[1]);
    bench_worker_t spec = {.name = "lowering_count", .script = src};
    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&spec, NULL, &rt, &w);
    char url[256];
    snprintf(url, sizeof(url), "http://b/?part=%s&n=%d", argv[2], atoi(argv[3]));
    bench_fetch("lowering_count", w, url, true);
    bench_fetch("lowering_count", w, url, true);
    measured_requests(w, url, atoi(argv[4]));
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    free(src);
    return 0;
}
