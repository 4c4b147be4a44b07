/*
 * d1_bench.c — D1 from inside a Worker: point selects and durable inserts per second on this machine, over
 * a state directory on disk (SQLite, WAL, synchronous=FULL: every resolved insert is on disk).
 *
 *   select      one request issues N `SELECT ... WHERE id = ?` .first() calls (batches of 1000 with
 *               Promise.all) over 10,000 rows
 *   insert-conc C requests in flight at once, each inserting one row with .run()
 *   insert-seq  one request awaits each insert before the next: one commit (one fsync) per insert
 *   batch       one request inserts 1000 rows with db.batch(): one transaction
 *
 *   build/bench/d1_bench [N] [STATE_DIR]   (STATE_DIR default: a fresh folder under /tmp, removed after)
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeworker.h"

static const char SCRIPT[] =
    "export default { async fetch(request, env) {\n"
    "  const url = new URL(request.url), n = +url.searchParams.get('n');\n"
    "  const DB = env.DB;\n"
    "  if (url.pathname === '/setup') {\n"
    "    await DB.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)');\n"
    "    const ins = DB.prepare('INSERT INTO t (id, name, score) VALUES (?, ?, ?)');\n"
    "    for (let b = 0; b < 10; b++) {\n"
    "      const list = [];\n"
    "      for (let i = 0; i < 1000; i++) list.push(ins.bind(b * 1000 + i, 'name ' + i, i / 3));\n"
    "      await DB.batch(list);\n"
    "    }\n"
    "  } else if (url.pathname === '/select') {\n"
    "    const q = DB.prepare('SELECT id, name, score FROM t WHERE id = ?');\n"
    "    for (let left = n; left > 0; left -= 1000) {\n"
    "      const ps = [];\n"
    "      for (let i = 0; i < Math.min(left, 1000); i++) ps.push(q.bind((i * 7919) % 10000).first());\n"
    "      await Promise.all(ps);\n"
    "    }\n"
    "  } else if (url.pathname === '/one') {\n"
    "    await DB.prepare('INSERT INTO e (v) VALUES (?)').bind('value').run();\n"
    "  } else if (url.pathname === '/seq') {\n"
    "    for (let i = 0; i < n; i++) await DB.prepare('INSERT INTO e (v) VALUES (?)').bind('v' + i).run();\n"
    "  } else if (url.pathname === '/batch') {\n"
    "    const ins = DB.prepare('INSERT INTO e (v) VALUES (?)');\n"
    "    const list = [];\n"
    "    for (let i = 0; i < 1000; i++) list.push(ins.bind('b' + i));\n"
    "    await DB.batch(list);\n"
    "  } else if (url.pathname === '/e') {\n"
    "    await DB.exec('CREATE TABLE e (id INTEGER PRIMARY KEY, v TEXT)');\n"
    "  }\n"
    "  return new Response('ok');\n"
    "} };\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void fetch(ew_worker_t *w, const char *url)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    if (ew_worker_fetch_sync(w, &req, &resp, &err) != EW_OK || resp->status != 200)
        fprintf(stderr, "d1_bench: %s failed: %s\n", url, err.message);
    ew_response_destroy(resp);
}

static int outstanding;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) udata;
    if (err != NULL)
        fprintf(stderr, "d1_bench: request failed: %s\n", err->message);
    ew_response_destroy(resp);
    outstanding--;
}

/* Inserts from `conc` requests in flight at once, `total` requests in all. */
static double insert_concurrent(ew_runtime_t *rt, ew_worker_t *w, int conc, int total)
{
    ew_request_t req = {.method = "GET", .url = "http://b/one"};
    double t0 = now_s();
    int sent = 0;
    while (sent < total || outstanding > 0) {
        while (sent < total && outstanding < conc) {
            outstanding++;
            sent++;
            ew_worker_fetch(w, &req, on_response, NULL);
        }
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE);
    }
    return total / (now_s() - t0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    char dir[256] = "/tmp/ew-d1-bench-XXXXXX";
    if (argc > 2)
        snprintf(dir, sizeof(dir), "%s", argv[2]);
    else if (mkdtemp(dir) == NULL)
        return 1;
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.state_dir = dir;
    cfg.cpu_ms = 600000;
    ew_runtime_t *rt;
    ew_worker_t *w;
    ew_error_t err;
    ew_resource_t res[] = {{EW_RESOURCE_D1, "DB", "bench"}};
    ew_worker_config_t wc = {.name = "d1", .source = SCRIPT, .source_len = sizeof(SCRIPT) - 1, .resources = res,
                             .nresources = 1};
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK || ew_worker_load(rt, &wc, &w, &err) != EW_OK) {
        fprintf(stderr, "d1_bench: %s\n", err.message);
        return 1;
    }
    fetch(w, "http://b/setup");
    fetch(w, "http://b/e");
    char url[128];
    snprintf(url, sizeof(url), "http://b/select?n=%d", n);
    double t0 = now_s();
    fetch(w, url);
    printf("D1 point select (in a Worker)           %9.0f /s  (%d .first() calls)\n", n / (now_s() - t0), n);
    printf("D1 insert, 1 per request, 200 in flight %9.0f /s  (5000 requests)\n", insert_concurrent(rt, w, 200, 5000));
    printf("D1 insert, 1 per request, 10 in flight  %9.0f /s  (2000 requests)\n", insert_concurrent(rt, w, 10, 2000));
    t0 = now_s();
    fetch(w, "http://b/seq?n=500");
    printf("D1 insert, awaited one by one (durable) %9.0f /s  (500 inserts, one fsync each)\n", 500 / (now_s() - t0));
    t0 = now_s();
    for (int i = 0; i < 20; i++)
        fetch(w, "http://b/batch");
    printf("D1 insert, batch() of 1000 (durable)    %9.0f /s  (20 batches)\n", 20000 / (now_s() - t0));
    ew_runtime_destroy(rt);
    if (argc <= 2) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void) system(cmd);
    }
    return 0;
}
