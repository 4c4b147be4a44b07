/*
 * worker_call.c — CPU per request of the Worker call alone (no HTTP): a Request in from C, the script's
 * Response out, through the public API the way ew-server calls it (ew_worker_fetch_opts with the 8 headers
 * and the request.cf JSON ew-server sends, the response delivered from the event loop).
 *
 *   hello  examples/hello's Worker: `export default { async fetch() { return new Response('Hello ...') } }`
 *   json   bench/json-api.js: URL and query parsing, a header, Response.json of a small list
 *
 * Target (issue "JS layer"): hello <= 15 us of CPU per request.
 *
 *   build/bench/worker_call [N]    (default 20000 requests per Worker, after 2000 to warm up)
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgeworker.h"

static const char HELLO[] = "export default {\n"
                            "  async fetch(request, env, ctx) {\n"
                            "    return new Response('Hello from Cloudflare Workers!');\n"
                            "  }\n"
                            "};\n";

static const char JSON_API[] =
    "export default {\n"
    "  async fetch(request) {\n"
    "    const url = new URL(request.url);\n"
    "    const id = Number(url.searchParams.get('id') ?? 0);\n"
    "    const items = [];\n"
    "    for (let i = 0; i < 5; i++) items.push({ id: id + i, name: `item-${id + i}`, tags: ['a', 'b'] });\n"
    "    return Response.json({ path: url.pathname, agent: request.headers.get('user-agent'), items });\n"
    "  },\n"
    "};\n";

static const char CF[] = "{\"asn\":0,\"asOrganization\":\"\",\"clientTcpRtt\":0,\"colo\":\"DFW\",\"country\":\"XX\","
                         "\"edgeRequestKeepAliveStatus\":1,\"httpProtocol\":\"HTTP/1.1\",\"requestPriority\":\"\","
                         "\"tlsCipher\":\"\",\"tlsVersion\":\"\",\"tlsClientAuth\":{\"certPresented\":\"0\","
                         "\"certVerified\":\"NONE\",\"certRevoked\":\"0\"}}";

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) err;
    *(ew_response_t **) udata = resp;
}

/* Runs n requests one after the other; returns the CPU seconds they took. */
static double run(ew_runtime_t *rt, ew_worker_t *w, const char *url, int n)
{
    ew_header_t h[] = {
        {"Host", 4, "127.0.0.1:8787", 14},
        {"cf-connecting-ip", 16, "127.0.0.1", 9},
        {"cf-ipcountry", 12, "XX", 2},
        {"cf-ray", 6, "8f3c9a1b2d4e5f60-DFW", 20},
        {"cf-visitor", 10, "{\"scheme\":\"http\"}", 17},
        {"x-forwarded-for", 15, "127.0.0.1", 9},
        {"x-forwarded-proto", 17, "http", 4},
        {"x-real-ip", 9, "127.0.0.1", 9},
    };
    ew_request_t req = {.method = "GET", .url = url, .headers = h, .nheaders = 8};
    ew_fetch_options_t opts = {CF, sizeof(CF) - 1, 0};
    double c0 = cpu_s();
    for (int i = 0; i < n; i++) {
        ew_response_t *resp = NULL;
        if (ew_worker_fetch_opts(w, &req, &opts, on_response, &resp) != EW_OK) {
            fprintf(stderr, "worker_call: fetch refused\n");
            exit(1);
        }
        while (resp == NULL && event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE) != -1)
            ;
        if (resp == NULL || resp->status != 200) {
            fprintf(stderr, "worker_call: request failed\n");
            exit(1);
        }
        ew_response_destroy(resp);
    }
    return cpu_s() - c0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    if (n <= 0)
        n = 20000;
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK) {
        fprintf(stderr, "worker_call: %s\n", err.message);
        return 1;
    }
    struct {
        const char *name, *src, *url;
    } cases[] = {
        {"hello", HELLO, "http://127.0.0.1:8787/"},
        {"json", JSON_API, "http://127.0.0.1:8787/api/items?id=7"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ew_worker_config_t wc = {.name = cases[i].name, .source = cases[i].src, .source_len = strlen(cases[i].src)};
        ew_worker_t *w;
        if (ew_worker_load(rt, &wc, &w, &err) != EW_OK) {
            fprintf(stderr, "worker_call: %s: %s\n", cases[i].name, err.message);
            return 1;
        }
        (void) run(rt, w, cases[i].url, 2000);
        double s = run(rt, w, cases[i].url, n);
        printf("%-6s %6.2f us of CPU per request (%d requests)\n", cases[i].name, s / n * 1e6, n);
        ew_worker_destroy(w);
    }
    ew_runtime_destroy(rt);
    return 0;
}
