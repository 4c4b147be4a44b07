/*
 * globals.c — the small Workers globals that are not classes: performance, navigator, reportError, and
 * the lazily loaded globals (lazy.c) installed at heap setup.
 *
 * Time: workerd's performance.timeOrigin is 0, so performance.now() is Date.now() with sub-millisecond
 * precision. Cloudflare's production runtime advances both clocks only across I/O (a Spectre mitigation);
 * local development (wrangler dev, workerd) lets them advance continuously, and so do we: ew-server is a
 * development and self-hosting server, where measuring CPU-bound code is useful and the Spectre threat
 * model of a multi-tenant edge does not apply.
 */
#include <time.h>

#include "lazy.h"

double ew__perf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

void ew__report_error(duk_context *ctx, duk_idx_t idx)
{
    (void) ew__log_uncaught(ctx, idx, "Uncaught ");
    duk_pop(ctx);
}
