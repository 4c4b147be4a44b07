/*
 * embed-c — the smallest C host: load a Worker, send it one request, print the response.
 *
 *   cc main.c $(pkg-config --cflags --libs edgeworker) -o embed && ./embed [worker.js]
 *
 * Without an argument it runs a built-in Worker. The blocking helper ew_worker_fetch_sync() runs the
 * runtime's own event loop; a server would pass its libevent event_base in ew_runtime_config_t instead and
 * use ew_worker_fetch() with a callback (see docs/embedding.md).
 */
#include <edgeworker.h>
#include <stdio.h>
#include <string.h>

static const char WORKER[] =
    "addEventListener('fetch', function (event) {\n"
    "  var url = event.request.url;\n"
    "  event.respondWith(new Response('Hello from ' + GREETER + ' at ' + url + '\\n',\n"
    "                                 { headers: { 'X-Powered-By': 'libedgeworker' } }));\n"
    "});\n";

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    fprintf(level >= EW_LOG_WARN ? stderr : stdout, "[%s] %.*s\n", worker, (int) len, msg);
}

int main(int argc, char **argv)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.log = on_log;
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK) {
        fprintf(stderr, "runtime: %s\n", err.message);
        return 1;
    }

    ew_var_t vars[] = {{"GREETER", "a C host", 0}};
    ew_worker_config_t wcfg = {.name = "embed", .vars = vars, .nvars = 1};
    if (argc > 1) {
        wcfg.path = argv[1];
    } else {
        wcfg.source = WORKER;
        wcfg.source_len = strlen(WORKER);
        wcfg.filename = "embedded.js";
    }
    ew_worker_t *worker;
    if (ew_worker_load(rt, &wcfg, &worker, &err) != EW_OK) {
        fprintf(stderr, "load: %s (%s)\n", err.message, ew_status_name(err.code));
        ew_runtime_destroy(rt);
        return 1;
    }

    ew_header_t headers[] = {{"accept", 6, "text/plain", 10}};
    ew_request_t req = {.method = "GET", .url = "http://example.com/hello", .headers = headers, .nheaders = 1};
    ew_response_t *resp;
    ew_status_t st = ew_worker_fetch_sync(worker, &req, &resp, &err);
    if (resp == NULL) {
        fprintf(stderr, "fetch: %s\n", err.message);
        ew_runtime_destroy(rt);
        return 1;
    }
    printf("%d %s\n", resp->status, ew_status_name(st));
    for (size_t i = 0; i < resp->nheaders; i++)
        printf("%s: %s\n", resp->headers[i].name, resp->headers[i].value);
    printf("\n%.*s", (int) resp->body_len, (const char *) resp->body);
    ew_response_destroy(resp);
    ew_runtime_destroy(rt);
    return st == EW_OK ? 0 : 1;
}
