/* The public worker API through the blocking helpers: loading, vars, fetch, scheduled events, limits,
 * errors as values, and unloading with requests in flight. */
#include <criterion/criterion.h>
#include <string.h>

#include "edgeworker.h"

static ew_runtime_t *rt;
static char logbuf[16384];

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    (void) level;
    (void) worker;
    size_t used = strlen(logbuf);
    if (used + len + 2 < sizeof(logbuf)) {
        memcpy(logbuf + used, msg, len);
        logbuf[used + len] = '\n';
        logbuf[used + len + 1] = '\0';
    }
}

static void setup(void)
{
    logbuf[0] = '\0';
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.log = on_log;
    cfg.memory_mb = 32;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
}

TestSuite(core_worker, .init = setup, .fini = teardown, .timeout = 60);

static ew_worker_t *load(const char *src, const ew_var_t *vars, size_t nvars)
{
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.name = "t", .source = src, .source_len = strlen(src), .vars = vars, .nvars = nvars};
    ew_status_t st = ew_worker_load(rt, &cfg, &w, &err);
    cr_assert_eq(st, EW_OK, "load failed: %s", err.message);
    return w;
}

static ew_response_t *get(ew_worker_t *w, const char *url)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    (void) ew_worker_fetch_sync(w, &req, &resp, NULL);
    cr_assert_not_null(resp);
    return resp;
}

Test(core_worker, fetch_returns_the_workers_response)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) {"
                          "  e.respondWith(new Response('hi \\ud83d\\ude00', {status: 201, headers: {'X-A': 'b'}}));"
                          "});",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_eq(r->status, 201);
    cr_assert_eq(r->outcome, EW_OK);
    cr_assert_str_eq((char *) r->body, "hi \xF0\x9F\x98\x80");
    bool found = false;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, "x-a") == 0 && strcmp(r->headers[i].value, "b") == 0)
            found = true;
    cr_assert(found);
    ew_response_destroy(r);
}

Test(core_worker, vars_are_globals_and_json_vars_are_parsed)
{
    ew_var_t vars[] = {{"GREETING", "hello", 0}, {"CONF", "{\"n\": 3}", 1}};
    ew_worker_t *w = load("addEventListener('fetch', function (e) {"
                          "  e.respondWith(new Response(GREETING + ' ' + CONF.n));"
                          "});",
                          vars, 2);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "hello 3");
    ew_response_destroy(r);
}

Test(core_worker, syntax_error_names_file_and_line)
{
    const char *src = "var a = 1;\nvar b = ;\n";
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.source = src, .source_len = strlen(src), .filename = "app.js"};
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_ERR_SYNTAX);
    cr_assert_null(w);
    cr_assert_str_eq(err.file, "app.js");
    cr_assert_eq(err.line, 2);
    cr_assert(strstr(err.message, "app.js:2") != NULL, "%s", err.message);
    cr_assert(strstr(err.message, "var b = ;") != NULL, "%s", err.message);
}

Test(core_worker, top_level_exception_fails_the_load)
{
    const char *src = "throw new Error('no');";
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.source = src, .source_len = strlen(src)};
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_ERR_EXCEPTION);
    cr_assert(strstr(err.message, "Uncaught Error: no") != NULL, "%s", err.message);
}

Test(core_worker, missing_file_is_an_io_error)
{
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.path = "/nonexistent/worker.js"};
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_ERR_IO);
    cr_assert(strstr(err.message, "/nonexistent/worker.js") != NULL);
}

Test(core_worker, invalid_arguments_are_rejected)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) { e.respondWith(new Response('x')); });", NULL, 0);
    ew_response_t *resp = NULL;
    ew_error_t err;
    ew_request_t bad_url = {.method = "GET", .url = "not a url"};
    cr_assert_eq(ew_worker_fetch_sync(w, &bad_url, &resp, &err), EW_ERR_INVALID_ARG);
    ew_request_t bad_method = {.method = "G T", .url = "http://x/"};
    cr_assert_eq(ew_worker_fetch_sync(w, &bad_method, &resp, &err), EW_ERR_INVALID_ARG);
    ew_header_t h = {"x", 1, "a\r\nb", 4};
    ew_request_t bad_header = {.method = "GET", .url = "http://x/", .headers = &h, .nheaders = 1};
    cr_assert_eq(ew_worker_fetch_sync(w, &bad_header, &resp, &err), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_worker_fetch_sync(NULL, &bad_header, &resp, &err), EW_ERR_INVALID_ARG);
    cr_assert_null(resp);
}

Test(core_worker, uncaught_exception_gives_1101_and_logs_stack)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) { null.x; });", NULL, 0);
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    ew_response_t *r = NULL;
    ew_error_t err;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &r, &err), EW_ERR_EXCEPTION);
    cr_assert_eq(r->status, 500);
    cr_assert(strstr((char *) r->body, "1101") != NULL);
    cr_assert(strstr(err.message, "TypeError") != NULL, "%s", err.message);
    cr_assert(strstr(logbuf, "TypeError") != NULL, "%s", logbuf);
    ew_response_destroy(r);
}

Test(core_worker, cpu_limit_gives_1102_and_replaces_the_isolate)
{
    ew_worker_t *w = load("var n = 0; addEventListener('fetch', function (e) {"
                          "  n++; if (e.request.url.indexOf('spin') >= 0) for (;;) {}"
                          "  e.respondWith(new Response('n=' + n));"
                          "});",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "n=1");
    ew_response_destroy(r);
    r = get(w, "http://x/spin");
    cr_assert_eq(r->status, 503);
    cr_assert_eq(r->outcome, EW_ERR_CPU_LIMIT);
    cr_assert(strstr((char *) r->body, "1102") != NULL);
    ew_response_destroy(r);
    r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "n=1", "a new isolate starts from the script's top level");
    ew_response_destroy(r);
    ew_worker_stats_t st;
    ew_worker_get_stats(w, &st);
    cr_assert_eq(st.isolates_created, 2);
    cr_assert_eq(st.limit_errors, 1);
    cr_assert(ew_worker_cpu_ms(w) >= 50.0, "the spinning request's CPU time is in the total (%f ms)",
              ew_worker_cpu_ms(w));
}

Test(core_worker, memory_limit_gives_1102)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) {"
                          "  if (e.request.url.indexOf('bomb') >= 0) { var a = [], s = 'xxxxxxxx'; for (;;) { s += s; a.push(s); } }"
                          "  e.respondWith(new Response('fine'));"
                          "});",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/bomb");
    cr_assert_eq(r->status, 503);
    cr_assert_eq(r->outcome, EW_ERR_MEMORY_LIMIT);
    ew_response_destroy(r);
    r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "fine");
    ew_response_destroy(r);
}

Test(core_worker, scheduled_event_runs_listener_and_wait_until)
{
    ew_worker_t *w = load("var seen = '';"
                          "addEventListener('scheduled', function (e) {"
                          "  seen = e.cron + '@' + e.scheduledTime;"
                          "  e.waitUntil(new Promise(function (r) { setTimeout(function () { seen += ' done'; r(); }, 20); }));"
                          "});"
                          "addEventListener('fetch', function (e) { e.respondWith(new Response(seen)); });",
                          NULL, 0);
    ew_error_t err;
    cr_assert_eq(ew_worker_scheduled_sync(w, "*/5 * * * *", 1700000000000.0, &err), EW_OK, "%s", err.message);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "*/5 * * * *@1700000000000 done");
    ew_response_destroy(r);
}

Test(core_worker, scheduled_exception_is_reported)
{
    ew_worker_t *w = load("addEventListener('scheduled', function (e) { throw new RangeError('bad cron'); });",
                          NULL, 0);
    ew_error_t err;
    cr_assert_eq(ew_worker_scheduled_sync(w, "0 0 * * *", 0, &err), EW_ERR_EXCEPTION);
    cr_assert(strstr(err.message, "RangeError: bad cron") != NULL, "%s", err.message);
}

Test(core_worker, no_fetch_listener_is_an_error_response)
{
    ew_worker_t *w = load("var x = 1;", NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_eq(r->status, 500);
    cr_assert(strstr(logbuf, "No fetch handler") != NULL, "%s", logbuf);
    ew_response_destroy(r);
}

static int cancelled;

static void on_resp(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) udata;
    if (resp->outcome == EW_ERR_CANCELLED && err != NULL)
        cancelled++;
    ew_response_destroy(resp);
}

Test(core_worker, destroy_cancels_requests_in_flight)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) {"
                          "  e.respondWith(new Promise(function (r) { setTimeout(function () { r(new Response('late')); }, 10000); }));"
                          "});",
                          NULL, 0);
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    cancelled = 0;
    cr_assert_eq(ew_worker_fetch(w, &req, on_resp, NULL), EW_OK);
    cr_assert_eq(ew_worker_fetch(w, &req, on_resp, NULL), EW_OK);
    ew_worker_destroy(w);
    cr_assert_eq(cancelled, 2);
}

Test(core_worker, status_names)
{
    cr_assert_str_eq(ew_status_name(EW_ERR_CPU_LIMIT), "EW_ERR_CPU_LIMIT");
    cr_assert_str_eq(ew_status_name((ew_status_t) 999), "EW_ERR_UNKNOWN");
    cr_assert_str_eq(ew_version(), "0.3.0");
}

Test(core_worker, native_loops_over_huge_arrays_stop_at_the_cpu_limit)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) {"
                          "  var u = e.request.url;"
                          "  if (u.indexOf('join') >= 0) new Array(2e8).join('');"
                          "  if (u.indexOf('rev') >= 0) { var a = []; a.length = 2e8; a.reverse(); }"
                          "  e.respondWith(new Response('ok'));"
                          "});",
                          NULL, 0);
    const char *urls[] = {"http://x/join", "http://x/rev"};
    for (int i = 0; i < 2; i++) {
        ew_response_t *r = get(w, urls[i]);
        cr_assert_eq(r->status, 503, "%s", urls[i]);
        cr_assert_eq(r->outcome, EW_ERR_CPU_LIMIT, "%s", urls[i]);
        ew_response_destroy(r);
    }
}

Test(core_worker, microtasks_run_before_timers_in_order)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) {"
                          "  var log = [];"
                          "  setTimeout(function () { log.push('timeout'); }, 0);"
                          "  queueMicrotask(function () { log.push('micro1'); });"
                          "  Promise.resolve().then(function () { log.push('then'); });"
                          "  queueMicrotask(function () { log.push('micro2'); });"
                          "  log.push('sync');"
                          "  e.respondWith(new Promise(function (r) {"
                          "    setTimeout(function () { r(new Response(log.join(','))); }, 5);"
                          "  }));"
                          "});",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "sync,micro1,then,micro2,timeout");
    ew_response_destroy(r);
}

Test(core_worker, clear_timeout_and_intervals)
{
    ew_worker_t *w = load("addEventListener('fetch', function (e) {"
                          "  var n = 0, log = [];"
                          "  var t = setTimeout(function () { log.push('cancelled'); }, 1);"
                          "  clearTimeout(t);"
                          "  var i = setInterval(function (x) { log.push(x + (++n)); if (n === 3) clearInterval(i); }, 1, 'i');"
                          "  e.respondWith(new Promise(function (r) {"
                          "    setTimeout(function () { r(new Response(log.join(','))); }, 60);"
                          "  }));"
                          "});",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "i1,i2,i3");
    ew_response_destroy(r);
}

/* ---- host bindings ---- */

#include <event2/event.h>

static char last_args[256];
static ew_call_t *parked;
static int cancels;

static void on_binding_call(void *udata, ew_call_t *call, const char *method, const char *args, size_t len)
{
    (void) udata;
    snprintf(last_args, sizeof(last_args), "%s%.*s", method, (int) len, args);
    if (strcmp(method, "get") == 0)
        {
        const char *j = "{\"v\": [1, \"\\u00e9\"]}";
        cr_assert_eq(ew_call_resolve_json(call, j, strlen(j)), EW_OK);
    }
    else if (strcmp(method, "fail") == 0)
        ew_call_reject(call, "no such key");
    else if (strcmp(method, "bytes") == 0)
        ew_call_resolve_bytes(call, "\x01\x02\x03", 3);
    else if (strcmp(method, "bad") == 0)
        cr_assert_eq(ew_call_resolve_json(call, "{nope", 5), EW_ERR_INVALID_ARG);
    else
        parked = call; /* "later": settled from the loop by the test */
}

static void on_binding_cancel(void *udata, ew_call_t *call)
{
    (void) udata;
    if (call == parked)
        parked = NULL;
    cancels++;
}

static void settle_parked(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    (void) arg;
    if (parked != NULL) {
        ew_call_t *c = parked;
        parked = NULL;
        ew_call_resolve_json(c, "\"later\"", 7);
    }
}

static ew_worker_t *load_with_binding(const char *src)
{
    static const char *methods[] = {"get", "fail", "bytes", "bad", "wait"};
    ew_binding_t b = {"STORE", methods, 5, on_binding_call, on_binding_cancel, NULL, NULL};
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.source = src, .source_len = strlen(src), .bindings = &b, .nbindings = 1};
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_OK, "%s", err.message);
    return w;
}

Test(core_worker, host_binding_settled_inside_its_callback_from_an_async_function)
{
    /* The call comes from a coroutine (an async function past an await): settling during the callback must
     * run on that thread, not the heap's main one. */
    ew_worker_t *w = load_with_binding(
        "export default { async fetch() {"
        "  await null;"
        "  const v = await STORE.get('k');"
        "  const e = await STORE.fail().catch((x) => x.message);"
        "  return new Response(JSON.stringify(v) + '|' + e);"
        "} };");
    ew_response_t *r = get(w, "http://x/");
    cr_assert_eq(r->outcome, EW_OK, "%s", logbuf);
    cr_assert_str_eq((char *) r->body, "{\"v\":[1,\"\xC3\xA9\"]}|no such key");
    ew_response_destroy(r);
}

Test(core_worker, host_binding_calls_settle_promises)
{
    ew_worker_t *w = load_with_binding(
        "addEventListener('fetch', function (e) {"
        "  var out = [];"
        "  e.respondWith(STORE.get('k', 2, new Uint8Array([104, 105])).then(function (v) {"
        "    out.push(JSON.stringify(v));"
        "    return STORE.fail();"
        "  }).catch(function (err) {"
        "    out.push(err.message);"
        "    return STORE.bytes();"
        "  }).then(function (buf) {"
        "    out.push(buf instanceof ArrayBuffer, Array.prototype.join.call(new Uint8Array(buf), '-'));"
        "    return STORE.bad().catch(function (err) { out.push(err.name); });"
        "  }).then(function () {"
        "    return STORE.wait();"
        "  }).then(function (v) {"
        "    out.push(v);"
        "    return new Response(out.join('|'));"
        "  }));"
        "});");
    struct event *ev = evtimer_new(ew_runtime_event_base(rt), settle_parked, NULL);
    struct timeval tv = {0, 20000};
    evtimer_add(ev, &tv);
    ew_response_t *r = get(w, "http://x/");
    event_free(ev);
    cr_assert_str_eq((char *) r->body, "{\"v\":[1,\"\xC3\xA9\"]}|no such key|true|1-2-3|SyntaxError|later", "%s",
                     logbuf);
    ew_response_destroy(r);
}

Test(core_worker, host_binding_arguments_are_json_with_bytes_as_base64)
{
    ew_worker_t *w = load_with_binding("addEventListener('fetch', function (e) {"
                                       "  e.respondWith(env_get().then(function () { return new Response('ok'); }));"
                                       "});"
                                       "function env_get() { return STORE.get('a', {b: null}, new Uint8Array([1, 2, 250]).buffer); }");
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "ok");
    cr_assert_str_eq(last_args, "get[\"a\",{\"b\":null},{\"$bytes\":\"AQL6\"}]");
    ew_response_destroy(r);
}

Test(core_worker, pending_host_calls_are_cancelled_with_the_worker)
{
    ew_worker_t *w = load_with_binding("addEventListener('fetch', function (e) {"
                                       "  e.respondWith(STORE.wait().then(function () { return new Response('x'); }));"
                                       "});");
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    cancels = 0;
    parked = NULL;
    cr_assert_eq(ew_worker_fetch(w, &req, on_resp, NULL), EW_OK);
    cr_assert_not_null(parked);
    ew_worker_destroy(w);
    cr_assert_eq(cancels, 1);
    cr_assert_null(parked);
}

/* ---- lazily loaded helper groups ---- */

#include "dispatch.h"

static duk_ret_t groups_body(duk_context *c, void *udata)
{
    ew__microtask_init(c); /* the built-ins the helper files capture, as in an isolate */
    ew__builtins_init(c);
    ew__promise_init(c);
    ew__collections_init(c);
    *(bool *) udata = ew__helpers_groups_match(c);
    return 0;
}

Test(core_worker, lazy_helper_groups_list_what_their_files_return)
{
    duk_context *c = duk_create_heap_default();
    bool ok = false;
    cr_assert_eq(duk_safe_call(c, groups_body, &ok, 0, 1), DUK_EXEC_SUCCESS, "%s", duk_safe_to_string(c, -1));
    cr_assert(ok, "dispatch.c's class/module helper name lists differ from what the files return");
    duk_destroy_heap(c);
}

Test(core_worker, classes_and_modules_load_their_helpers_on_first_use)
{
    ew_worker_t *w = load("class A { #x = 1; get x() { return this.#x; } }\n"
                          "class B extends A { constructor() { super(); this.y = 2; } }\n"
                          "addEventListener('fetch', (e) => { const b = new B(); e.respondWith(new Response(`${b.x}${b.y}`)); });",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "12");
    ew_response_destroy(r);
}

/* The module form with an async fetch handler (lower_async.c): awaits of a stub binding's promises, a helper
 * async function, Promise.all, and top-level await in the entry module, served through the public API. */
Test(core_worker, async_module_fetch_handler_awaits)
{
    ew_worker_t *w = load("const kv = { get: async (k) => { await null; return k === 'n' ? '41' : null; } };\n"
                          "async function something() { const v = await kv.get('n'); return Number(v) + 1; }\n"
                          "const base = await Promise.resolve('base');\n"
                          "export default {\n"
                          "  async fetch(request, env, ctx) {\n"
                          "    const x = await something();\n"
                          "    const [a, b] = await Promise.all([kv.get('n'), kv.get('zz')]);\n"
                          "    let s = 0; for await (const v of [1, Promise.resolve(2)]) s += v;\n"
                          "    return new Response(`${base} ${x} ${a} ${b} ${s} ${new URL(request.url).pathname}`);\n"
                          "  }\n"
                          "};\n",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/p");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq((char *) r->body, "base 42 41 null 3 /p");
    ew_response_destroy(r);
}

/* A rejection after the first await of an async fetch handler is an uncaught exception of the request. */
Test(core_worker, async_fetch_handler_rejection_is_an_error)
{
    ew_worker_t *w = load("export default { async fetch() { await null; throw new Error('late'); } };", NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_eq(r->status, 500);
    ew_response_destroy(r);
}

static ew_response_t *cf_response;

static void on_cf_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) udata;
    (void) err;
    cf_response = resp;
}

Test(core_worker, request_cf_comes_from_the_hosts_json)
{
    ew_worker_t *w = load("export default { fetch(r) { return new Response(JSON.stringify(r.cf) + ' ' + "
                          "(r.cf === r.cf)); } };", NULL, 0);
    static const char cf[] = " {\"colo\":\"AMS\",\"asn\":0,\"tlsClientAuth\":{\"certPresented\":\"0\"},"
                             "\"city\":\"K\\u00f8benhavn\",\"list\":[1,-2.5e3,true,null]} ";
    ew_request_t req = {.method = "GET", .url = "http://x/"};
    ew_fetch_options_t opts = {.cf_json = cf, .cf_json_len = sizeof(cf) - 1};
    cr_assert_eq(ew_worker_fetch_opts(w, &req, &opts, on_cf_response, NULL), EW_OK);
    while (cf_response == NULL)
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE);
    cr_assert_str_eq((const char *) cf_response->body, "{\"colo\":\"AMS\",\"asn\":0,\"tlsClientAuth\":{\"certPresented\":"
                                                       "\"0\"},\"city\":\"K\u00f8benhavn\",\"list\":[1,-2500,true,null]} true");
    ew_response_destroy(cf_response);
    ew_response_t *resp = get(w, "http://x/"); /* no cf: an empty object */
    cr_assert_str_eq((const char *) resp->body, "{} true");
    ew_response_destroy(resp);
    static const char *const bad[] = {"[1]", "{\"a\":}", "{\"a\":1,}", "{'a':1}", "{\"a\":\"\xff\"}", "{} x", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ew_fetch_options_t b = {.cf_json = bad[i], .cf_json_len = strlen(bad[i])};
        cr_assert_eq(ew_worker_fetch_opts(w, &req, &b, on_cf_response, NULL), EW_ERR_INVALID_ARG, "accepted %s", bad[i]);
    }
    ew_worker_destroy(w);
}

/* The dispatch fast paths (dispatch.c keeps the default export, env and the last request.cf per isolate)
 * must not change what a Worker sees. */
static void on_sync(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) err;
    *(ew_response_t **) udata = resp;
}

static ew_response_t *fetch_cf(ew_worker_t *w, const char *method, const char *body, const ew_header_t *h,
                               size_t nh, const char *cf, ew_status_t *st)
{
    ew_request_t req = {.method = method, .url = "http://x/", .headers = h, .nheaders = nh, .body = body,
                        .body_len = body ? strlen(body) : 0};
    ew_fetch_options_t opts = {cf, cf ? strlen(cf) : 0, 0};
    ew_response_t *out = NULL;
    *st = ew_worker_fetch_opts(w, &req, &opts, on_sync, &out);
    if (*st != EW_OK)
        return NULL;
    while (out == NULL && event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE) != -1)
        ;
    return out;
}

Test(core_worker, default_export_with_a_fetch_getter_and_a_replaced_handler)
{
    ew_worker_t *w = load("class H { constructor() { this.n = 0; }"
                          "  get fetch() { this.n++; return (req, env, ctx) => new Response('get' + this.n + (this === h)); } }"
                          "const h = new H();"
                          "export default h;",
                          NULL, 0);
    ew_response_t *r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "get1true");
    ew_response_destroy(r);
    r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "get2true"); /* the getter runs per request */
    ew_response_destroy(r);
    w = load("export default { fetch(req, env, ctx) {"
             "  this.fetch = () => new Response('second');"
             "  return new Response('first:' + typeof ctx.waitUntil + typeof env); } };",
             NULL, 0);
    r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "first:functionobject");
    ew_response_destroy(r);
    r = get(w, "http://x/");
    cr_assert_str_eq((char *) r->body, "second");
    ew_response_destroy(r);
}

Test(core_worker, request_cf_and_headers_reach_the_worker_unchanged)
{
    ew_worker_t *w = load("export default { async fetch(req) {"
                          "  const b = await req.blob();"
                          "  return new Response([req.cf.country, b.type, b.size, req.headers.get('x-a'), req.method].join('|'));"
                          "} };",
                          NULL, 0);
    ew_header_t h[] = {{"Content-Type", 12, "text/x-a", 8}, {"X-A", 3, " v ", 3}};
    ew_status_t st;
    const char *cfs[] = {"{\"country\":\"FR\"}", "{\"country\":\"FR\"}", "{\"country\":\"DE\"}", "{\"country\":\"FR\"}"};
    for (int i = 0; i < 4; i++) {
        ew_response_t *r = fetch_cf(w, "POST", "abc", h, 2, cfs[i], &st);
        cr_assert_eq(st, EW_OK);
        char want[64];
        snprintf(want, sizeof(want), "%.2s|text/x-a|3|v|POST", cfs[i] + 12);
        cr_assert_str_eq((char *) r->body, want);
        ew_response_destroy(r);
    }
    /* a bad cf is refused even right after a good one was cached */
    cr_assert_null(fetch_cf(w, "POST", "abc", h, 2, "{\"country\":\"FR\"", &st));
    cr_assert_eq(st, EW_ERR_INVALID_ARG);
    cr_assert_null(fetch_cf(w, "POST", "abc", h, 2, "[1]", &st));
    cr_assert_eq(st, EW_ERR_INVALID_ARG);
}

/* worker.c keeps the last URL that passed the check: repeats, changes and bad requests after a cached URL. */
Test(core_worker, request_urls_are_normalized_and_checked_every_time)
{
    ew_worker_t *w = load("export default { fetch(req) { return new Response(req.url); } };", NULL, 0);
    const char *urls[] = {"http://EXAMPLE.com/a/../b?x#f", "http://EXAMPLE.com/a/../b?x#f", "http://example.com/c",
                          "http://EXAMPLE.com/a/../b?x#f"};
    const char *want[] = {"http://example.com/b?x#f", "http://example.com/b?x#f", "http://example.com/c",
                          "http://example.com/b?x#f"};
    for (int i = 0; i < 4; i++) {
        ew_request_t req = {.method = "GET", .url = urls[i]};
        ew_response_t *out = NULL;
        cr_assert_eq(ew_worker_fetch_opts(w, &req, NULL, on_sync, &out), EW_OK);
        while (out == NULL && event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE) != -1)
            ;
        cr_assert_str_eq((char *) out->body, want[i]);
        ew_response_destroy(out);
    }
    ew_response_t *out = NULL;
    ew_header_t bad[] = {{"X-A", 3, "a\r\nb", 4}};
    ew_request_t req = {.method = "GET", .url = "http://example.com/c", .headers = bad, .nheaders = 1};
    cr_assert_eq(ew_worker_fetch_opts(w, &req, NULL, on_sync, &out), EW_ERR_INVALID_ARG);
    req = (ew_request_t){.method = "G T", .url = "http://example.com/c"};
    cr_assert_eq(ew_worker_fetch_opts(w, &req, NULL, on_sync, &out), EW_ERR_INVALID_ARG);
    req = (ew_request_t){.method = "GET", .url = "http://example.com/c d"};
    cr_assert_eq(ew_worker_fetch_opts(w, &req, NULL, on_sync, &out), EW_ERR_INVALID_ARG);
    req = (ew_request_t){.method = "GET", .url = NULL};
    cr_assert_eq(ew_worker_fetch_opts(w, &req, NULL, on_sync, &out), EW_ERR_INVALID_ARG);
    cr_assert_null(out);
}
