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
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

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

/* Runs url, prints MiB/s for `mib` MiB moved and the RSS growth over the call. */
static void phase(ew_worker_t *w, const char *name, const char *url, double mib)
{
    long before = bench_rss_kb();
    double t0 = bench_now();
    bool ok = bench_fetch("r2_bench", w, url, false);
    double dt = bench_now() - t0;
    long after = bench_rss_kb();
    printf("%-14s %8.1f MiB/s  %7.3f s  RSS %+6.1f MB (now %.1f MB)%s\n", name, mib / dt, dt,
           (double) (after - before) / 1024.0, (double) after / 1024.0, ok ? "" : "  FAILED");
}

/* The disk alone: n files of `size` bytes written, fsync'd and renamed (as R2 writes a body), then read. */
static void raw_disk(const char *dir, int n, size_t size)
{
    char *buf = calloc(1, size);
    char path[4200], tmp[4200];
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        snprintf(tmp, sizeof(tmp), "%s/raw.tmp", dir);
        snprintf(path, sizeof(path), "%s/raw%d", dir, i);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, buf, size) != (ssize_t) size || fsync(fd) != 0)
            perror("raw write");
        close(fd);
        rename(tmp, path);
    }
    double dt = bench_now() - t0;
    printf("%-14s %8.1f MiB/s  (%d x %zu KiB: write + fsync + rename)\n", "raw disk put", (double) n * (double) size / (1 << 20) / dt,
           n, size >> 10);
    t0 = bench_now();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/raw%d", dir, i);
        int fd = open(path, O_RDONLY);
        if (fd < 0 || read(fd, buf, size) != (ssize_t) size)
            perror("raw read");
        close(fd);
        unlink(path);
    }
    dt = bench_now() - t0;
    printf("%-14s %8.1f MiB/s  (page cache)\n", "raw disk get", (double) n * (double) size / (1 << 20) / dt);
    free(buf);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50;
    bench_dir_t dir;
    bench_state_dir(&dir, "r2_bench", argc > 2 ? argv[2] : NULL);
    ew_resource_t res = {EW_RESOURCE_R2, "B", "bench"};
    bench_worker_t spec = {.name = "r2_bench", .script = SCRIPT, .resources = &res, .nresources = 1};
    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&spec, dir.path, &rt, &w);
    char url[128];
    snprintf(url, sizeof(url), "http://b/put1?n=%d", 2); /* warm-up: code paths, SQLite, page cache */
    bench_fetch("r2_bench", w, url, false);
    snprintf(url, sizeof(url), "http://b/get1?n=%d", 2);
    bench_fetch("r2_bench", w, url, false);
    printf("r2_bench: %d objects of 1 MiB, one of 100 MiB, state in %s\n", n, dir.path);
    snprintf(url, sizeof(url), "http://b/put1?n=%d", n);
    phase(w, "put 1 MiB", url, n);
    snprintf(url, sizeof(url), "http://b/get1?n=%d", n);
    phase(w, "get 1 MiB", url, n);
    phase(w, "put 100 MiB", "http://b/put100", 100);
    phase(w, "get 100 MiB", "http://b/get100", 100);
    raw_disk(dir.path, n, 1 << 20);
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    bench_state_dir_done(&dir);
    return 0;
}
