/*
 * r2_bench.c — R2 from inside a Worker: throughput of durable puts and of gets for 1 MiB and 100 MiB
 * objects, and how much the process's RSS grows while moving them, beside the raw disk doing the same
 * (write + fsync + rename of a file, read of it) in the same run.
 *
 *   put 1 MiB     one request puts N objects of 1 MiB, awaiting each (one body fsync + one commit each)
 *   get 1 MiB     one request gets them back (arrayBuffer())
 *   put 100 MiB   one request puts a ReadableStream of 100 chunks of 1 MiB: chunks go to the file as they
 *                 come, so the object never sits in memory
 *   get 100 MiB   one request gets it and reads object.body to the end: a stream fed from the file in
 *                 chunks of 256 KiB
 *
 * Target (issue 6): RSS growth <= 8 MB for the 100 MiB round trip.
 *
 *   build/bench/r2_bench [N] [STATE_DIR]   (N 1 MiB objects, default 50; STATE_DIR default: a fresh folder
 *                                          under /tmp, removed after)
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgeworker.h"

static const char SCRIPT[] =
    "const MiB = 1 << 20;\n"
    "const block = new Uint8Array(MiB); for (let i = 0; i < MiB; i += 4096) block[i] = i & 255;\n"
    "export default { async fetch(request, env) {\n"
    "  const u = new URL(request.url), n = +u.searchParams.get('n');\n"
    "  if (u.pathname === '/put1') { for (let i = 0; i < n; i++) await env.B.put('one' + i, block); }\n"
    "  else if (u.pathname === '/get1') { let t = 0;\n"
    "    for (let i = 0; i < n; i++) t += (await (await env.B.get('one' + i)).arrayBuffer()).byteLength;\n"
    "    if (t !== n * MiB) throw new Error('short read ' + t); }\n"
    "  else if (u.pathname === '/put100') { let i = 0;\n"
    "    const s = new ReadableStream({ pull(c) { if (i++ === 100) c.close(); else { const c1 = new Uint8Array(MiB); c1.set(block); c.enqueue(c1); } } });\n"
    "    const o = await env.B.put('big', s); if (o.size !== 100 * MiB) throw new Error('size ' + o.size); }\n"
    "  else if (u.pathname === '/get100') { let t = 0;\n"
    "    const r = (await env.B.get('big')).body.getReader();\n"
    "    for (;;) { const { done, value } = await r.read(); if (done) break; t += value.byteLength; }\n"
    "    if (t !== 100 * MiB) throw new Error('short read ' + t); }\n"
    "  return new Response('ok');\n"
    "} };\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long rss_kb(void)
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

static int fetch(ew_worker_t *w, const char *url)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    ew_status_t st = ew_worker_fetch_sync(w, &req, &resp, &err);
    int ok = st == EW_OK && resp != NULL && resp->status == 200;
    if (!ok)
        fprintf(stderr, "r2_bench: %s failed: %s %.*s\n", url, st != EW_OK ? err.message : "",
                resp ? (int) resp->body_len : 0, resp ? (const char *) resp->body : "");
    ew_response_destroy(resp);
    return ok;
}

/* Runs url, prints MiB/s for `mib` MiB moved and the RSS growth over the call. */
static void phase(ew_worker_t *w, const char *name, const char *url, double mib)
{
    long before = rss_kb();
    double t0 = now_s();
    int ok = fetch(w, url);
    double dt = now_s() - t0;
    long after = rss_kb();
    printf("%-14s %8.1f MiB/s  %7.3f s  RSS %+6.1f MB (now %.1f MB)%s\n", name, mib / dt, dt,
           (double) (after - before) / 1024.0, (double) after / 1024.0, ok ? "" : "  FAILED");
}

/* The disk alone: n files of `size` bytes written, fsync'd and renamed (as R2 writes a body), then read. */
static void raw_disk(const char *dir, int n, size_t size)
{
    char *buf = calloc(1, size);
    char path[4200], tmp[4200];
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        snprintf(tmp, sizeof(tmp), "%s/raw.tmp", dir);
        snprintf(path, sizeof(path), "%s/raw%d", dir, i);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, buf, size) != (ssize_t) size || fsync(fd) != 0)
            perror("raw write");
        close(fd);
        rename(tmp, path);
    }
    double dt = now_s() - t0;
    printf("%-14s %8.1f MiB/s  (%d x %zu KiB: write + fsync + rename)\n", "raw disk put", (double) n * (double) size / (1 << 20) / dt,
           n, size >> 10);
    t0 = now_s();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/raw%d", dir, i);
        int fd = open(path, O_RDONLY);
        if (fd < 0 || read(fd, buf, size) != (ssize_t) size)
            perror("raw read");
        close(fd);
        unlink(path);
    }
    dt = now_s() - t0;
    printf("%-14s %8.1f MiB/s  (page cache)\n", "raw disk get", (double) n * (double) size / (1 << 20) / dt);
    free(buf);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50;
    char dir[4096];
    bool own = argc <= 2;
    if (own) {
        snprintf(dir, sizeof(dir), "/tmp/r2bench-XXXXXX");
        if (mkdtemp(dir) == NULL) {
            perror("mkdtemp");
            return 1;
        }
    } else {
        snprintf(dir, sizeof(dir), "%s", argv[2]);
    }
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.state_dir = dir;
    cfg.cpu_ms = 600000;
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK) {
        fprintf(stderr, "r2_bench: %s\n", err.message);
        return 1;
    }
    ew_resource_t res = {EW_RESOURCE_R2, "B", "bench"};
    ew_worker_config_t wc = {.name = "r2_bench", .source = SCRIPT, .source_len = sizeof(SCRIPT) - 1,
                             .filename = "r2_bench.js", .resources = &res, .nresources = 1};
    ew_worker_t *w;
    if (ew_worker_load(rt, &wc, &w, &err) != EW_OK) {
        fprintf(stderr, "r2_bench: %s\n", err.message);
        return 1;
    }
    char url[128];
    snprintf(url, sizeof(url), "http://b/put1?n=%d", 2); /* warm-up: code paths, SQLite, page cache */
    fetch(w, url);
    snprintf(url, sizeof(url), "http://b/get1?n=%d", 2);
    fetch(w, url);
    printf("r2_bench: %d objects of 1 MiB, one of 100 MiB, state in %s\n", n, dir);
    snprintf(url, sizeof(url), "http://b/put1?n=%d", n);
    phase(w, "put 1 MiB", url, n);
    snprintf(url, sizeof(url), "http://b/get1?n=%d", n);
    phase(w, "get 1 MiB", url, n);
    phase(w, "put 100 MiB", "http://b/put100", 100);
    phase(w, "get 100 MiB", "http://b/get100", 100);
    raw_disk(dir, n, 1 << 20);
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    if (own) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "r2_bench: could not remove %s\n", dir);
    }
    return 0;
}
