/*
 * Tests of lib/bindings/durable.c through the public API: namespace configuration errors, and a worker
 * destroyed while calls to its objects (and their storage commits) are still in flight.
 */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "edgeworker.h"

static const char SCRIPT[] =
    "import { DurableObject } from 'cloudflare:workers';\n"
    "export class Slow extends DurableObject {\n"
    "  async wait(ms) { await this.ctx.storage.put('k', ms); await new Promise((r) => setTimeout(r, ms)); return ms; }\n"
    "}\n"
    "export default { async fetch(request, env) {\n"
    "  return new Response(String(await env.SLOW.getByName('x').wait(10000)));\n"
    "} };\n";

static ew_worker_t *load(ew_runtime_t *rt, const ew_durable_object_t *d, ew_status_t *st, ew_error_t *err)
{
    ew_worker_config_t cfg = {.name = "w", .source = SCRIPT, .source_len = sizeof(SCRIPT) - 1,
                              .filename = "w.js", .durable_objects = d, .ndurable_objects = 1};
    ew_worker_t *w = NULL;
    *st = ew_worker_load(rt, &cfg, &w, err);
    return w;
}

Test(bindings_durable, bad_namespaces_are_load_errors)
{
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(NULL, &rt, NULL), EW_OK);
    ew_error_t err;
    ew_status_t st;
    ew_durable_object_t bad_class = {"SLOW", "not a name", 1, NULL};
    cr_assert_null(load(rt, &bad_class, &st, &err));
    cr_assert_eq(st, EW_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "is not a JavaScript identifier") != NULL, "%s", err.message);
    ew_durable_object_t missing = {"SLOW", "Missing", 1, NULL};
    cr_assert_null(load(rt, &missing, &st, &err));
    cr_assert_eq(st, EW_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "does not export a class named \"Missing\"") != NULL, "%s", err.message);
    ew_durable_object_t no_binding = {"", "Slow", 1, NULL};
    cr_assert_null(load(rt, &no_binding, &st, &err));
    cr_assert_eq(st, EW_ERR_INVALID_ARG);
    ew_runtime_destroy(rt);
}

static int responses;
static ew_status_t last_outcome;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) udata;
    (void) err;
    responses++;
    last_outcome = resp->outcome;
    ew_response_destroy(resp);
}

Test(bindings_durable, destroying_a_worker_with_object_calls_in_flight_cancels_them)
{
    char dir[] = "/tmp/ew-durable-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.state_dir = dir;
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
    ew_error_t err;
    ew_status_t st;
    ew_durable_object_t d = {"SLOW", "Slow", 1, NULL};
    ew_worker_t *w = load(rt, &d, &st, &err);
    cr_assert_eq(st, EW_OK, "%s", err.message);
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    responses = 0;
    cr_assert_eq(ew_worker_fetch(w, &req, on_response, NULL), EW_OK);
    for (int i = 0; i < 20; i++) /* the call reaches the object, its write is queued and committed */
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_NONBLOCK);
    cr_assert_eq(responses, 0);
    ew_worker_destroy(w);
    cr_assert_eq(responses, 1);
    cr_assert_eq(last_outcome, EW_ERR_CANCELLED);
    ew_runtime_destroy(rt);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
