/*
 * Tests of lib/bindings/service.c through the public API: two or three workers loaded in one runtime, one
 * bound to another as a service (ew_service_t): fetch and RPC round trips, errors crossing back, a missing
 * worker, the depth limit of a recursive chain, and configuration errors.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeworker.h"

static const char CALLER[] =
    "export default { async fetch(request, env) {\n"
    "  const u = new URL(request.url);\n"
    "  try {\n"
    "    if (u.pathname === '/fetch') {\n"
    "      const r = await env.AUTH.fetch('https://auth.internal/check?x=1', {method: 'POST', body: 'hello',\n"
    "                                      headers: {'x-token': 'abc'}});\n"
    "      return new Response(r.status + ' ' + r.headers.get('x-seen') + ' ' + await r.text());\n"
    "    }\n"
    "    if (u.pathname === '/rpc') {\n"
    "      const v = await env.AUTH.add(2, 3, {n: new Map([[1, 'a']])});\n"
    "      return new Response(JSON.stringify(v));\n"
    "    }\n"
    "    if (u.pathname === '/throw') { await env.AUTH.boom(); }\n"
    "    if (u.pathname === '/nomethod') { await env.AUTH.nope(); }\n"
    "    if (u.pathname === '/fetchthrow') { await env.AUTH.fetch('https://auth.internal/throw'); }\n"
    "    if (u.pathname === '/missing') { await env.GONE.fetch('https://x/'); }\n"
    "    if (u.pathname === '/obj') { return new Response(String(await env.PLAIN.twice(21))); }\n"
    "    if (u.pathname === '/admin') {\n"
    "      const r = await env.ADMIN.fetch('https://x/a', {method: 'PUT', body: 'b'});\n"
    "      return new Response(r.status + ' ' + r.headers.get('x-admin') + ' ' + await r.text());\n"
    "    }\n"
    "    if (u.pathname === '/loop') { return await env.SELF.fetch(request); }\n"
    "    if (u.pathname === '/stream' || u.pathname === '/broken') {\n"
    "      const r = await env.AUTH.fetch('https://auth.internal' + u.pathname);\n"
    "      return new Response((r.body instanceof ReadableStream ? 'stream:' : 'whole:') + await r.text());\n"
    "    }\n"
    "    return new Response('?');\n"
    "  } catch (e) { return new Response(e.name + ': ' + e.message, {status: 500}); }\n"
    "} };\n";

static const char AUTH[] =
    "import { WorkerEntrypoint } from 'cloudflare:workers';\n"
    "export default class extends WorkerEntrypoint {\n"
    "  async fetch(request) {\n"
    "    const path = new URL(request.url).pathname;\n"
    "    if (path === '/throw') throw new Error('target failed');\n"
    "    if (path === '/stream' || path === '/broken') {\n"
    "      let n = 0;\n"
    "      return new Response(new ReadableStream({ async pull(c) {\n"
    "        await new Promise((r) => setTimeout(r, 1));\n"
    "        if (n === 2 && path === '/broken') { c.error(new Error('producer died')); return; }\n"
    "        if (n++ < 3) c.enqueue(new TextEncoder().encode('c' + n)); else c.close();\n"
    "      } }));\n"
    "    }\n"
    "    const body = await request.text();\n"
    "    return new Response(request.method + ' ' + new URL(request.url).search + ' ' + body,\n"
    "                        {status: 201, headers: {'x-seen': request.headers.get('x-token')}});\n"
    "  }\n"
    "  add(a, b, extra) { return {sum: a + b + this.env.BONUS, tag: extra.n.get(1)}; }\n"
    "  boom() { throw new RangeError('out of range'); }\n"
    "}\n"
    "export class Admin extends WorkerEntrypoint {\n"
    "  async fetch(req) { return new Response('admin ' + req.method + ' ' + new URL(req.url).pathname + ' ' +\n"
    "                                         await req.text(), {status: 202, headers: {'x-admin': '1'}}); }\n"
    "}\n";

static const char PLAIN[] =
    "export default { twice(n) { return n * 2; }, fetch() { return new Response('plain'); } };\n";

typedef struct fixture {
    ew_runtime_t *rt;
    ew_worker_t *caller, *auth, *plain;
} fixture_t;

static void load_all(fixture_t *f)
{
    cr_assert_eq(ew_runtime_create(NULL, &f->rt, NULL), EW_OK);
    ew_error_t err;
    ew_service_t svcs[] = {{"AUTH", "auth", NULL}, {"GONE", "not-loaded", NULL}, {"PLAIN", "plain", NULL},
                           {"SELF", "caller", NULL}, {"ADMIN", "auth", "Admin"}};
    ew_worker_config_t c = {.name = "caller", .source = CALLER, .source_len = sizeof(CALLER) - 1,
                            .filename = "caller.js", .services = svcs, .nservices = 5};
    cr_assert_eq(ew_worker_load(f->rt, &c, &f->caller, &err), EW_OK, "%s", err.message);
    ew_var_t bonus = {"BONUS", "10", 1};
    ew_worker_config_t a = {.name = "auth", .source = AUTH, .source_len = sizeof(AUTH) - 1, .filename = "auth.js",
                            .vars = &bonus, .nvars = 1};
    cr_assert_eq(ew_worker_load(f->rt, &a, &f->auth, &err), EW_OK, "%s", err.message);
    ew_worker_config_t p = {.name = "plain", .source = PLAIN, .source_len = sizeof(PLAIN) - 1,
                            .filename = "plain.js"};
    cr_assert_eq(ew_worker_load(f->rt, &p, &f->plain, &err), EW_OK, "%s", err.message);
}

/* GET path on the caller; returns the body (static buffer) and the status in *status. */
static const char *get(fixture_t *f, const char *path, int *status)
{
    static char body[2048];
    char url[256];
    snprintf(url, sizeof(url), "http://caller.test%s", path);
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    ew_worker_fetch_sync(f->caller, &req, &resp, &err);
    cr_assert_not_null(resp);
    *status = resp->status;
    snprintf(body, sizeof(body), "%.*s", (int) resp->body_len, (const char *) resp->body);
    ew_response_destroy(resp);
    return body;
}

Test(bindings_service, fetch_reaches_the_target_with_method_body_and_headers)
{
    fixture_t f;
    load_all(&f);
    int status;
    cr_assert_str_eq(get(&f, "/fetch", &status), "201 abc POST ?x=1 hello");
    cr_assert_eq(status, 200);
    ew_runtime_destroy(f.rt);
}

Test(bindings_service, rpc_calls_a_worker_entrypoint_method_with_cloned_arguments)
{
    fixture_t f;
    load_all(&f);
    int status;
    cr_assert_str_eq(get(&f, "/rpc", &status), "{\"sum\":15,\"tag\":\"a\"}");
    cr_assert_str_eq(get(&f, "/obj", &status), "42");
    cr_assert_str_eq(get(&f, "/admin", &status), "202 1 admin PUT /a b"); /* fetch() of a named entrypoint */
    ew_runtime_destroy(f.rt);
}

Test(bindings_service, errors_cross_back_with_their_type_and_message)
{
    fixture_t f;
    load_all(&f);
    int status;
    cr_assert_str_eq(get(&f, "/throw", &status), "RangeError: out of range");
    cr_assert_str_eq(get(&f, "/nomethod", &status), "TypeError: The RPC receiver does not implement the method \"nope\".");
    cr_assert_str_eq(get(&f, "/fetchthrow", &status), "Error: target failed");
    cr_assert_str_eq(get(&f, "/missing", &status), "Error: Service binding: the Worker \"not-loaded\" is not loaded.");
    ew_runtime_destroy(f.rt);
}

Test(bindings_service, a_streamed_response_body_arrives_chunk_by_chunk)
{
    fixture_t f;
    load_all(&f);
    int status;
    cr_assert_str_eq(get(&f, "/stream", &status), "stream:c1c2c3");
    cr_assert_str_eq(get(&f, "/broken", &status), "TypeError: The service's response body failed (EW_ERR_EXCEPTION).");
    cr_assert_str_eq(get(&f, "/stream", &status), "stream:c1c2c3"); /* nothing left behind by the failure */
    ew_runtime_destroy(f.rt);
}

Test(bindings_service, a_recursive_chain_stops_at_the_depth_limit)
{
    fixture_t f;
    load_all(&f);
    int status;
    const char *body = get(&f, "/loop", &status);
    cr_assert_eq(status, 500);
    cr_assert(strstr(body, "Subrequest depth limit exceeded.") != NULL, "%s", body);
    ew_runtime_destroy(f.rt);
}

Test(bindings_service, bad_service_entries_are_load_errors)
{
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(NULL, &rt, NULL), EW_OK);
    ew_error_t err;
    ew_worker_t *w = NULL;
    ew_service_t no_name = {"AUTH", "", NULL};
    ew_worker_config_t c = {.name = "c", .source = PLAIN, .source_len = sizeof(PLAIN) - 1, .services = &no_name,
                            .nservices = 1};
    cr_assert_eq(ew_worker_load(rt, &c, &w, &err), EW_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "services[0] (AUTH)") != NULL, "%s", err.message);
    ew_service_t bad_entry = {"AUTH", "auth", "not an identifier"};
    c.services = &bad_entry;
    cr_assert_eq(ew_worker_load(rt, &c, &w, &err), EW_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "is not a JavaScript identifier") != NULL, "%s", err.message);
    c.services = NULL;
    cr_assert_eq(ew_worker_load(rt, &c, &w, &err), EW_ERR_INVALID_ARG);
    ew_runtime_destroy(rt);
}
