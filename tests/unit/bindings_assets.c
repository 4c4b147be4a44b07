/* Static assets through the C API (lib/bindings/assets.c): ew_worker_config_t.assets validated at load, GET
 * requests answered from the folder by both fetch entry points, the rest reaching the Worker, and the
 * assets' answers of a destroyed worker still delivered. The HTTP-level behaviour (html_handling, ranges,
 * 304s, env.ASSETS) is tested end to end in tests/e2e/test_assets.py. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeworker.h"

static ew_runtime_t *rt;
static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/ew-assets-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/hello.txt", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("hello from a file", f);
    fclose(f);
    cr_assert_eq(ew_runtime_create(NULL, &rt, NULL), EW_OK);
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void) system(cmd);
}

TestSuite(bindings_assets, .init = setup, .fini = teardown, .timeout = 60);

static const char WORKER[] = "addEventListener('fetch', function (e) { e.respondWith(new Response('worker')); });";

static ew_status_t load(const ew_assets_t *assets, ew_worker_t **w, ew_error_t *err)
{
    ew_worker_config_t cfg = {.source = WORKER, .source_len = sizeof(WORKER) - 1, .assets = assets};
    return ew_worker_load(rt, &cfg, w, err);
}

Test(bindings_assets, bad_configuration_is_refused_with_a_reason)
{
    ew_worker_t *w;
    ew_error_t err;
    ew_assets_t a = {.directory = "/nonexistent/folder"};
    cr_assert_eq(load(&a, &w, &err), EW_ERR_IO);
    cr_assert(strstr(err.message, "/nonexistent/folder") != NULL, "%s", err.message);
    a = (ew_assets_t) {.directory = NULL};
    cr_assert_eq(load(&a, &w, &err), EW_ERR_INVALID_ARG);
    a = (ew_assets_t) {.directory = dir, .html_handling = (ew_html_handling_t) 9};
    cr_assert_eq(load(&a, &w, &err), EW_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "html_handling") != NULL, "%s", err.message);
    a = (ew_assets_t) {.directory = dir, .binding = ""};
    cr_assert_eq(load(&a, &w, &err), EW_ERR_INVALID_ARG);
}

Test(bindings_assets, files_are_served_and_the_rest_reaches_the_worker)
{
    ew_worker_t *w;
    ew_error_t err;
    ew_assets_t a = {.directory = dir};
    cr_assert_eq(load(&a, &w, &err), EW_OK, "%s", err.message);
    ew_request_t req = {.method = "GET", .url = "http://x.example/hello.txt"};
    ew_response_t *resp;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_OK);
    cr_assert_eq(resp->status, 200);
    cr_assert_str_eq((const char *) resp->body, "hello from a file");
    bool typed = false;
    for (size_t i = 0; i < resp->nheaders; i++)
        typed |= strcmp(resp->headers[i].name, "content-type") == 0 &&
                 strcmp(resp->headers[i].value, "text/plain; charset=utf-8") == 0;
    cr_assert(typed);
    ew_response_destroy(resp);

    req.url = "http://x.example/other";
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_OK);
    cr_assert_str_eq((const char *) resp->body, "worker");
    ew_response_destroy(resp);
    req = (ew_request_t) {.method = "DELETE", .url = "http://x.example/hello.txt"};
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_OK);
    cr_assert_str_eq((const char *) resp->body, "worker");
    ew_response_destroy(resp);
    ew_worker_destroy(w);
}

static int delivered;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) udata;
    cr_assert_null(err);
    cr_assert_eq(resp->status, 200);
    delivered++;
    ew_response_destroy(resp);
}

Test(bindings_assets, async_answers_come_from_the_loop_and_survive_destroy)
{
    ew_worker_t *w;
    ew_assets_t a = {.directory = dir};
    cr_assert_eq(load(&a, &w, NULL), EW_OK);
    ew_request_t req = {.method = "GET", .url = "http://x.example/hello.txt"};
    delivered = 0;
    cr_assert_eq(ew_worker_fetch(w, &req, on_response, NULL), EW_OK);
    cr_assert_eq(delivered, 0, "the callback must not run inside ew_worker_fetch");
    event_base_loop(ew_runtime_event_base(rt), EVLOOP_NONBLOCK);
    cr_assert_eq(delivered, 1);
    cr_assert_eq(ew_worker_fetch(w, &req, on_response, NULL), EW_OK);
    ew_worker_destroy(w);
    cr_assert_eq(delivered, 2, "a queued answer is delivered when its worker goes away");
}
