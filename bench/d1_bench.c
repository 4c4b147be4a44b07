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
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

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

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    bench_dir_t dir;
    bench_state_dir(&dir, "d1_bench", argc > 2 ? argv[2] : NULL);
    ew_resource_t res[] = {{EW_RESOURCE_D1, "DB", "bench"}};
    bench_worker_t spec = {.name = "d1_bench", .script = SCRIPT, .resources = res, .nresources = 1};
    ew_runtime_t *rt;
    ew_worker_t *w;
    bench_open(&spec, dir.path, &rt, &w);
    bench_fetch("d1_bench", w, "http://b/setup", false);
    bench_fetch("d1_bench", w, "http://b/e", false);
    char url[128];
    snprintf(url, sizeof(url), "http://b/select?n=%d", n);
    double t0 = bench_now();
    bench_fetch("d1_bench", w, url, false);
    printf("D1 point select (in a Worker)           %9.0f /s  (%d .first() calls)\n", n / (bench_now() - t0), n);
    printf("D1 insert, 1 per request, 200 in flight %9.0f /s  (5000 requests)\n",
           bench_concurrent("d1_bench", rt, w, "http://b/one", 200, 5000));
    printf("D1 insert, 1 per request, 10 in flight  %9.0f /s  (2000 requests)\n",
           bench_concurrent("d1_bench", rt, w, "http://b/one", 10, 2000));
    t0 = bench_now();
    bench_fetch("d1_bench", w, "http://b/seq?n=500", false);
    printf("D1 insert, awaited one by one (durable) %9.0f /s  (500 inserts, one fsync each)\n", 500 / (bench_now() - t0));
    t0 = bench_now();
    for (int i = 0; i < 20; i++)
        bench_fetch("d1_bench", w, "http://b/batch", false);
    printf("D1 insert, batch() of 1000 (durable)    %9.0f /s  (20 batches)\n", 20000 / (bench_now() - t0));
    ew_worker_destroy(w);
    ew_runtime_destroy(rt);
    bench_state_dir_done(&dir);
    return 0;
}
