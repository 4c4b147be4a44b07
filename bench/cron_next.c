/*
 * cron_next.c — how long ew__cron_next() takes (lib/cron/next.c), for a spread of expressions from the
 * cheap (every minute) to the sparse (29 February, the 5th Monday of a February, which fires every ~40 years).
 *
 * For each expression: N calls chained from 2024-01-01, each starting where the previous fire was (what a
 * server's scheduler does), plus N calls from pseudo-random instants over 1970-2100. Prints ns per call.
 * The target (issue "cron") is 1e5 computations in well under a second for ordinary expressions.
 *
 *   build/bench/cron_next [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cron/cron.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* Time per call, chaining next() from the previous result. */
static double chained(const ew__cron_t *c, int n)
{
    int64_t t = INT64_C(1704067200000); /* 2024-01-01T00:00Z */
    double t0 = now_ns();
    for (int i = 0; i < n; i++)
        if (!ew__cron_next(c, t, &t))
            break;
    return (now_ns() - t0) / n;
}

/* Keeps the results alive so the compiler cannot drop the calls. */
static volatile int64_t sink;

/* Time per call from scattered instants (xorshift, fixed seed: the same sequence on every run). */
static double scattered(const ew__cron_t *c, int n)
{
    uint64_t x = 88172645463325252u;
    int64_t out;
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (ew__cron_next(c, (int64_t) (x % UINT64_C(4102444800000)), &out))
            sink = out;
    }
    return (now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
    static const char *const EXPRS[] = {
        "* * * * *", "*/5 * * * *", "0 0 * * *", "0 */6 * * *", "10 7 * * mon-fri", "59 23 LW * *",
        "0 18 * * 6L", "0 9 15W * *", "0 0 13 * 6", "0 12 29 2 *", "0 0 * 2 MON#5", "0 0 30 2 *",
    };
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    if (n <= 0)
        n = 100000;
    printf("%-20s %14s %14s   (%d calls each)\n", "expression", "chained ns", "scattered ns", n);
    for (size_t i = 0; i < sizeof EXPRS / sizeof EXPRS[0]; i++) {
        ew__cron_t c;
        if (ew__cron_parse(&c, EXPRS[i], NULL) != EW_OK) {
            fprintf(stderr, "parse failed: %s\n", EXPRS[i]);
            return 1;
        }
        double a = chained(&c, n), b = scattered(&c, n);
        printf("%-20s %14.1f %14.1f%s\n", EXPRS[i], a, b, c.never ? "   (never fires)" : "");
        ew__cron_dispose(&c);
    }
    return 0;
}
