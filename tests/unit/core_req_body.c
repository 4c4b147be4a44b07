/* Request bodies fed by the host as they arrive (lib/core/req_body.c) through the public API:
 * ew_req_body_* and ew_worker_fetch_body. The Worker runs before the body is complete, reads what the host
 * wrote, gets the end or the failure, and demand tells the host when to write more. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <string.h>

#include "edgeworker.h"

static ew_runtime_t *rt;

static void setup(void)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = 10000;
    cfg.memory_mb = 32;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
}

TestSuite(core_req_body, .init = setup, .fini = teardown, .timeout = 60);

static const char WORKER[] =
    "export default { async fetch(request) {\n"
    "  const url = new URL(request.url);\n"
    "  if (url.pathname === '/text') return new Response('got: ' + await request.text());\n"
    "  if (url.pathname === '/first') {\n"
    "    const r = request.body.getReader();\n"
    "    const { value } = await r.read();\n"
    "    globalThis.first = new TextDecoder().decode(value);\n"
    "    try { for (;;) { const { done } = await r.read(); if (done) break; } globalThis.outcome = 'end'; }\n"
    "    catch (e) { globalThis.outcome = e.name + ': ' + e.message; }\n"
    "    return new Response(globalThis.first + '|' + globalThis.outcome);\n"
    "  }\n"
    "  if (url.pathname === '/cancel') { await request.body.cancel('no thanks'); return new Response('cancelled'); }\n"
    "  return new Response('ignored');\n"
    "} };\n";

static ew_worker_t *load(void)
{
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.name = "t", .source = WORKER, .source_len = strlen(WORKER), .filename = "w.mjs"};
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_OK, "load failed: %s", err.message);
    return w;
}

typedef struct host {
    ew_response_t *resp;
    bool done;
    int demands;
} host_t;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) err;
    host_t *h = udata;
    h->resp = resp;
    h->done = true;
}

static void on_demand(void *udata)
{
    host_t *h = udata;
    h->demands++;
}

static void spin(int turns)
{
    struct event_base *base = ew_runtime_event_base(rt);
    for (int i = 0; i < turns; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void run_until(bool *flag)
{
    struct event_base *base = ew_runtime_event_base(rt);
    for (int i = 0; i < 100000 && !*flag; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    cr_assert(*flag, "the loop went idle before the response");
}

static void body_is(const ew_response_t *r, const char *text)
{
    cr_assert_eq(r->body_len, strlen(text), "body %.*s", (int) r->body_len, (const char *) r->body);
    cr_assert_eq(memcmp(r->body, text, r->body_len), 0, "body %.*s", (int) r->body_len, (const char *) r->body);
}

Test(core_req_body, the_worker_runs_before_the_body_is_complete)
{
    ew_worker_t *w = load();
    host_t h = {0};
    ew_req_body_t *b = ew_req_body_create(w, on_demand, &h);
    cr_assert_not_null(b);
    ew_request_t req = {.method = "POST", .url = "http://x/text"};
    cr_assert_eq(ew_worker_fetch_body(w, &req, NULL, b, on_response, &h), EW_OK);
    spin(50);
    cr_assert(!h.done, "text() waits for the end");
    cr_assert_gt(h.demands, 0, "the Worker asked for the body");
    cr_assert_eq(ew_req_body_write(b, "hello ", 6), EW_OK);
    spin(20);
    cr_assert_eq(ew_req_body_buffered(b), 0, "the stream took what was written");
    cr_assert_eq(ew_req_body_write(b, "world", 5), EW_OK);
    cr_assert_eq(ew_req_body_end(b), EW_OK);
    cr_assert_eq(ew_req_body_write(b, "!", 1), EW_ERR_STATE, "no bytes after the end");
    ew_req_body_destroy(b);
    run_until(&h.done);
    body_is(h.resp, "got: hello world");
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_req_body, a_body_that_breaks_off_fails_the_read)
{
    ew_worker_t *w = load();
    host_t h = {0};
    ew_req_body_t *b = ew_req_body_create(w, on_demand, &h);
    ew_request_t req = {.method = "POST", .url = "http://x/first"};
    cr_assert_eq(ew_worker_fetch_body(w, &req, NULL, b, on_response, &h), EW_OK);
    cr_assert_eq(ew_req_body_write(b, "part one", 8), EW_OK);
    spin(50);
    ew_req_body_destroy(b); /* before the end: the client went away */
    run_until(&h.done);
    body_is(h.resp, "part one|TypeError: The client closed the connection before the request body arrived.");
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_req_body, writes_after_a_cancel_are_dropped_and_demand_goes_on)
{
    ew_worker_t *w = load();
    host_t h = {0};
    ew_req_body_t *b = ew_req_body_create(w, on_demand, &h);
    ew_request_t req = {.method = "POST", .url = "http://x/cancel"};
    cr_assert_eq(ew_worker_fetch_body(w, &req, NULL, b, on_response, &h), EW_OK);
    run_until(&h.done);
    body_is(h.resp, "cancelled");
    spin(10);
    int before = h.demands;
    cr_assert_gt(before, 0, "a cancel tells the host to read on (and drop)");
    cr_assert_eq(ew_req_body_write(b, "ignored", 7), EW_OK);
    cr_assert_eq(ew_req_body_buffered(b), 0);
    cr_assert_eq(ew_req_body_end(b), EW_OK);
    ew_req_body_destroy(b);
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_req_body, arguments_are_checked)
{
    ew_worker_t *w = load();
    host_t h = {0};
    cr_assert_null(ew_req_body_create(NULL, on_demand, &h));
    cr_assert_null(ew_req_body_create(w, NULL, &h));
    ew_req_body_t *b = ew_req_body_create(w, on_demand, &h);
    ew_request_t req = {.method = "POST", .url = "http://x/text", .body = "x", .body_len = 1};
    cr_assert_eq(ew_worker_fetch_body(w, &req, NULL, b, on_response, &h), EW_ERR_INVALID_ARG,
                 "a body pointer and a streamed body at once");
    cr_assert_eq(ew_req_body_write(b, NULL, 3), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_req_body_fail(b), EW_OK);
    cr_assert_eq(ew_req_body_end(b), EW_ERR_STATE);
    ew_req_body_destroy(b);
    ew_req_body_destroy(NULL);
    ew_worker_destroy(w);
}

Test(core_req_body, a_body_nobody_takes_is_freed_with_the_host_handle)
{
    ew_worker_t *w = load();
    host_t h = {0};
    ew_req_body_t *b = ew_req_body_create(w, on_demand, &h);
    cr_assert_eq(ew_req_body_write(b, "never read", 10), EW_OK);
    ew_req_body_destroy(b); /* leak-checked under ASan */
    spin(5);
    ew_worker_destroy(w);
}

Test(core_req_body, unloading_the_worker_while_text_waits_frees_everything)
{
    ew_worker_t *w = load();
    host_t h = {0};
    ew_req_body_t *b = ew_req_body_create(w, on_demand, &h);
    ew_request_t req = {.method = "POST", .url = "http://x/text"};
    cr_assert_eq(ew_worker_fetch_body(w, &req, NULL, b, on_response, &h), EW_OK);
    cr_assert_eq(ew_req_body_write(b, "half of it", 10), EW_OK);
    spin(50);
    cr_assert(!h.done);
    ew_worker_destroy(w); /* leak-checked under ASan: the read-whole in C, the stream, the body */
    run_until(&h.done);
    cr_assert_neq(h.resp->outcome, EW_OK);
    ew_response_destroy(h.resp);
    ew_req_body_destroy(b);
}
