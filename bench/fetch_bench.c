/*
 * fetch_bench.c — fetch() from a Worker against a loopback origin on this machine: latency of sequential
 * small fetches (keep-alive), throughput of concurrent ones, and the rate a large body streams through
 * response.arrayBuffer() and through a reader loop.
 *
 * The origin is libevent's evhttp on its own thread and event_base (so the Worker's loop only runs the
 * client side). The Worker runs with a generous CPU limit: the figures are about the network path.
 *
 *   build/bench/fetch_bench [N]     (N sequential fetches, default 2000)
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeworker.h"

static const char SCRIPT[] =
    "export default { async fetch(request) {\n"
    "  const q = new URL(request.url).searchParams, base = q.get('o'), n = +q.get('n');\n"
    "  const mode = new URL(request.url).pathname;\n"
    "  if (mode === '/seq') { for (let i = 0; i < n; i++) await (await fetch(base + '/small')).text(); }\n"
    "  else if (mode === '/par') {\n"
    "    const c = +q.get('c'); let left = n;\n"
    "    const lane = async () => { while (left-- > 0) await (await fetch(base + '/small')).text(); };\n"
    "    await Promise.all(Array.from({ length: c }, lane));\n"
    "  } else if (mode === '/big') { const b = await (await fetch(base + '/big')).arrayBuffer();\n"
    "    if (b.byteLength !== n) throw new Error('short body ' + b.byteLength); }\n"
    "  else if (mode === '/reader') { const rd = (await fetch(base + '/big')).body.getReader(); let got = 0;\n"
    "    for (;;) { const { done, value } = await rd.read(); if (done) break; got += value.byteLength; }\n"
    "    if (got !== n) throw new Error('short body ' + got); }\n"
    "  return new Response('ok');\n"
    "} };\n";

#define BIG (32 * 1024 * 1024)
static char *big_body;

static void on_origin(struct evhttp_request *req, void *arg)
{
    (void) arg;
    struct evbuffer *out = evbuffer_new();
    const char *uri = evhttp_request_get_uri(req);
    if (strcmp(uri, "/big") == 0)
        evbuffer_add_reference(out, big_body, BIG, NULL, NULL);
    else
        evbuffer_add(out, "small body from the origin", 26);
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void *origin_thread(void *arg)
{
    event_base_dispatch(arg);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* CPU time of the calling thread (the Worker's loop; the origin runs on its own thread). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double last_cpu;

static double run(ew_worker_t *w, const char *url)
{
    double c0 = cpu_s();
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    double t0 = now_s();
    ew_status_t st = ew_worker_fetch_sync(w, &req, &resp, &err);
    double dt = now_s() - t0;
    last_cpu = cpu_s() - c0;
    if (st != EW_OK || resp->status != 200) {
        fprintf(stderr, "fetch_bench: %s failed: %s\n", url, err.message);
        exit(1);
    }
    ew_response_destroy(resp);
    return dt;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    big_body = malloc(BIG);
    memset(big_body, 'b', BIG);
    struct event_base *obase = event_base_new();
    struct evhttp *http = evhttp_new(obase);
    evhttp_set_gencb(http, on_origin, NULL);
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    if (sock == NULL)
        return 1;
    struct sockaddr_storage ss;
    ev_socklen_t sl = sizeof(ss);
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *) &ss, &sl);
    int port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
    pthread_t th;
    pthread_create(&th, NULL, origin_thread, obase);

    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = 60000;
    cfg.subrequests = 1000000;
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK)
        return 1;
    ew_worker_config_t wc = {.name = "fetch-bench", .source = SCRIPT, .source_len = sizeof(SCRIPT) - 1,
                             .filename = "bench.mjs"};
    ew_worker_t *w;
    if (ew_worker_load(rt, &wc, &w, &err) != EW_OK) {
        fprintf(stderr, "fetch_bench: %s\n", err.message);
        return 1;
    }
    char url[256];
    snprintf(url, sizeof(url), "http://localhost/seq?o=http://127.0.0.1:%d&n=10", port);
    run(w, url); /* warm up: connection, isolate */

    snprintf(url, sizeof(url), "http://localhost/seq?o=http://127.0.0.1:%d&n=%d", port, n);
    double dt = run(w, url);
    printf("sequential small fetches (keep-alive): %d in %.3f s = %.1f us each, %.0f/s; loop thread CPU %.1f us "
           "each\n", n, dt, dt * 1e6 / n, n / dt, last_cpu * 1e6 / n);
    for (int c = 8; c <= 32; c *= 4) {
        snprintf(url, sizeof(url), "http://localhost/par?o=http://127.0.0.1:%d&n=%d&c=%d", port, n, c);
        dt = run(w, url);
        printf("concurrent small fetches, %d in flight: %d in %.3f s = %.0f/s\n", c, n, dt, n / dt);
    }
    snprintf(url, sizeof(url), "http://localhost/big?o=http://127.0.0.1:%d&n=%d", port, BIG);
    dt = run(w, url);
    printf("32 MiB body, arrayBuffer(): %.3f s = %.0f MiB/s; loop thread CPU %.3f s\n", dt, 32 / dt, last_cpu);
    snprintf(url, sizeof(url), "http://localhost/reader?o=http://127.0.0.1:%d&n=%d", port, BIG);
    dt = run(w, url);
    printf("32 MiB body, reader loop: %.3f s = %.0f MiB/s; loop thread CPU %.3f s\n", dt, 32 / dt, last_cpu);

    ew_runtime_destroy(rt);
    event_base_loopbreak(obase);
    pthread_join(th, NULL);
    evhttp_free(http);
    event_base_free(obase);
    free(big_body);
    return 0;
}
