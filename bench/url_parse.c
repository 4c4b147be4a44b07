/*
 * url_parse.c — throughput of the WHATWG URL parser (lib/web/url_parse.c): URLs parsed per second on a mix
 * of what a Worker sees (request URLs with paths and queries, relative references against a base, an IDNA
 * host, an IPv6 literal). Each parse includes the serialization into the URL's own buffer and its free.
 * Usage: url_parse [iterations]   (default 2,000,000 URLs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web/url.h"

static const char *const inputs[] = {
    "https://example.com/",
    "https://api.example.com/v1/users/12345?fields=name,email&limit=10",
    "http://localhost:8787/path/to/resource?x=1#top",
    "https://www.Example.COM/a/b/../c/./d.html",
    "/relative/path?query=string",
    "../up/one?q",
    "https://user:pass@sub.domain.example.org:8443/p?q=a%20b",
    "https://cdn.example.net/assets/app.3f9a1c.js",
    "http://192.168.0.1/admin",
    "https://[2001:db8::1]/",
    "https://bücher.example/",
    "wss://socket.example.com/chat?room=1",
};

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 2000000;
    size_t n = sizeof(inputs) / sizeof(inputs[0]);
    size_t lens[sizeof(inputs) / sizeof(inputs[0])];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(inputs[i]);
    ew__url_t base;
    const char *b = "https://base.example.com/dir/page.html";
    if (!ew__url_parse(b, strlen(b), NULL, &base))
        return 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t bytes = 0;
    for (long k = 0; k < iterations; k++) {
        ew__url_t u;
        size_t i = (size_t) k % n;
        if (!ew__url_parse(inputs[i], lens[i], &base, &u))
            return 1;
        bytes += u.len;
        ew__url_dispose(&u);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("url_parse: %ld URLs in %.3f s = %.2f M URLs/s (%.0f ns/URL, %zu bytes out)\n", iterations, s,
           (double) iterations / s / 1e6, s * 1e9 / (double) iterations, bytes);
    ew__url_dispose(&base);
    return 0;
}
