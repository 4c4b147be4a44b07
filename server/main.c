/*
 * main.c — ew-server: serves a Worker over HTTP/1.1 the way `wrangler dev` does.
 *
 *   ew-server [--ip IP] [--port N] [--threads N] [PATH]
 *
 * PATH is a Worker script, or a folder holding src/index.js, index.js or worker.js (default: the current
 * folder). Prints "Ready on http://IP:PORT" once listening, one line per request, and the Worker's console
 * output prefixed by its name. SIGINT/SIGTERM stop accepting, let in-flight requests finish (up to a
 * deadline) and exit 0 (serve.c). The configuration (wrangler.toml) and the other flags of ARCHITECTURE.md
 * come with the ew-server issue; this file is the command line only.
 */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: ew-server [--ip IP] [--port N] [--threads N] [PATH]\n"
               "  PATH  a Worker script, or a folder with src/index.js, index.js or worker.js (default: .)\n"
               "  --ip IP     address to listen on (default 127.0.0.1)\n"
               "  --port N    TCP port (default 8787; 0 picks a free one)\n"
               "  --threads N event-loop threads, each with its own isolates (default: the number of cores)\n"
               "  --cpu-ms MS           CPU time per request (default 50, like [limits] cpu_ms)\n"
               "  --idle-timeout MS     close keep-alive connections idle this long (default 60000)\n"
               "  --request-timeout MS  a request's head and body must arrive within this (default 30000)\n");
}

/* Resolves PATH to a script file; prints why not on failure. */
static bool resolve_script(const char *path, char *out, size_t outlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "ew-server: %s: %s\n", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(out, outlen, "%s", path);
        return true;
    }
    static const char *candidates[] = {"src/index.js", "index.js", "worker.js"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        snprintf(out, outlen, "%s/%s", path, candidates[i]);
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
            return true;
    }
    fprintf(stderr, "ew-server: %s: no Worker script found (looked for src/index.js, index.js, worker.js)\n", path);
    return false;
}

static bool parse_uint(const char *text, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *ip = "127.0.0.1", *path = ".";
    int port = 8787;
    long idle_ms = 0, request_ms = 0, cpu_ms = 0;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool takes_value = strcmp(a, "--ip") == 0 || strcmp(a, "--port") == 0 || strcmp(a, "--idle-timeout") == 0 ||
                           strcmp(a, "--request-timeout") == 0 || strcmp(a, "--threads") == 0 ||
                           strcmp(a, "--cpu-ms") == 0;
        if (takes_value && i + 1 >= argc) {
            fprintf(stderr, "ew-server: %s needs a value\n", a);
            return 2;
        }
        long v;
        if (strcmp(a, "--ip") == 0) {
            ip = argv[++i];
        } else if (strcmp(a, "--port") == 0) {
            if (!parse_uint(argv[++i], 65535, &v)) {
                fprintf(stderr, "ew-server: --port %s is not a port number (0-65535)\n", argv[i]);
                return 2;
            }
            port = (int) v;
        } else if (strcmp(a, "--cpu-ms") == 0) {
            if (!parse_uint(argv[++i], 600000, &cpu_ms) || cpu_ms == 0) {
                fprintf(stderr, "ew-server: --cpu-ms %s is not a number of milliseconds (1-600000)\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_uint(argv[++i], 256, &threads) || threads == 0) {
                fprintf(stderr, "ew-server: --threads %s is not a number of threads (1-256)\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--idle-timeout") == 0 || strcmp(a, "--request-timeout") == 0) {
            if (!parse_uint(argv[++i], 86400000, &v) || v == 0) {
                fprintf(stderr, "ew-server: %s %s is not a number of milliseconds (1-86400000)\n", a, argv[i]);
                return 2;
            }
            *(a[2] == 'i' ? &idle_ms : &request_ms) = v;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ew-server: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            path = a;
        }
    }
    char script[PATH_MAX];
    if (!resolve_script(path, script, sizeof(script)))
        return 1;
    signal(SIGPIPE, SIG_IGN);
    /* stdout (request lines, console output) is block-buffered and flushed ten times a second by serve.c. */
    static char outbuf[65536];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    serve_opts_t opts = {
        .ip = ip,
        .port = port,
        .script = script,
        .threads = (int) threads,
        .idle_timeout_ms = (uint32_t) idle_ms,
        .request_timeout_ms = (uint32_t) request_ms,
        .cpu_ms = (uint32_t) cpu_ms,
    };
    return serve_run(&opts);
}
