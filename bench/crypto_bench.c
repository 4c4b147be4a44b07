/*
 * crypto_bench.c — cost of going through crypto.subtle (lib/web/crypto.c) instead of calling mbedTLS
 * directly: SHA-256 digest and HMAC-SHA-256 sign of a 1 MiB buffer, raw mbedTLS against the same work
 * started from JavaScript in a bare heap (argument normalization, the protected call, the ArrayBuffer
 * result, the promise and the microtask drain included). Prints MiB/s for each and the ratio; the issue's
 * target is subtle >= 80% of raw.
 * Usage: crypto_bench [iterations]   (default 50 x 1 MiB per measurement, best of 9 interleaved rounds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>

#include "web/internal.h"

#define MIB (1024 * 1024)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

/* Seconds for `iterations` raw mbedTLS calls over buf (hmac = HMAC-SHA-256 with a 32-byte key). */
static double raw_run(const unsigned char *buf, long iterations, int hmac)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    unsigned char key[32] = {1}, out[32];
    double t0 = now();
    for (long i = 0; i < iterations; i++) {
        if (hmac)
            mbedtls_md_hmac(md, key, sizeof(key), buf, MIB, out);
        else
            mbedtls_md(md, buf, MIB, out);
    }
    return now() - t0;
}

/* Seconds for the same work through crypto.subtle: the JS loop starts every call, then the drain settles
 * the promises. */
static double subtle_run(duk_context *ctx, long iterations, int hmac)
{
    char js[512];
    snprintf(js, sizeof(js),
             "var n = 0; for (var i = 0; i < %ld; i++) %s.then(function () { n++; }); n", iterations,
             hmac ? "crypto.subtle.sign('HMAC', KEY, BUF)" : "crypto.subtle.digest('SHA-256', BUF)");
    double t0 = now();
    if (duk_peval_string(ctx, js) != 0) {
        fprintf(stderr, "%s\n", duk_safe_to_string(ctx, -1));
        exit(1);
    }
    duk_pop(ctx);
    ew__microtask_drain(ctx);
    double t = now() - t0;
    duk_peval_string(ctx, "n");
    if (duk_get_int(ctx, -1) != iterations) {
        fprintf(stderr, "only %d of %ld operations completed\n", duk_get_int(ctx, -1), iterations);
        exit(1);
    }
    duk_pop(ctx);
    return t;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 50;
    unsigned char *buf = malloc(MIB);
    for (size_t i = 0; i < MIB; i++)
        buf[i] = (unsigned char) (i * 131);

    duk_context *ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__builtins_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
    ew__web_init(ctx);
    duk_peval_string(ctx, "var BUF = new Uint8Array(1048576); for (var i = 0; i < BUF.length; i++) BUF[i] = (i * 131) & 255;"
                          "var KEY; crypto.subtle.importKey('raw', new Uint8Array(32), { name: 'HMAC', hash: 'SHA-256' },"
                          " false, ['sign']).then(function (k) { KEY = k; });");
    duk_pop(ctx);
    ew__microtask_drain(ctx);

    static const char *const names[] = {"SHA-256 digest", "HMAC-SHA-256 sign"};
    for (int hmac = 0; hmac <= 1; hmac++) {
        raw_run(buf, iterations / 10 + 1, hmac); /* warm up */
        subtle_run(ctx, iterations / 10 + 1, hmac);
        double best_raw = 1e9, best_subtle = 1e9;
        for (int round = 0; round < 9; round++) {
            double r = raw_run(buf, iterations, hmac), s = subtle_run(ctx, iterations, hmac);
            best_raw = r < best_raw ? r : best_raw;
            best_subtle = s < best_subtle ? s : best_subtle;
        }
        printf("%-18s 1 MiB x %ld: raw mbedTLS %7.1f MiB/s   crypto.subtle %7.1f MiB/s   ratio %.3f\n", names[hmac],
               iterations, iterations / best_raw, iterations / best_subtle, best_raw / best_subtle);
    }
    duk_destroy_heap(ctx);
    free(buf);
    return 0;
}
