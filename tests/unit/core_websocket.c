/* The public WebSocket API as a host that is not ew-server uses it: a 101 response carries the Worker's
 * end; the host attaches a handler, feeds client messages and closes in, and gets the Worker's out. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <string.h>

#include "edgeworker.h"

static ew_runtime_t *rt;
static char logbuf[8192];
static char got[4096];       /* what the handler saw, one item per line */
static int closes;

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

static void on_message(void *udata, int is_text, const void *data, size_t len)
{
    (void) udata;
    char item[256];
    snprintf(item, sizeof(item), "%s:%.*s\n", is_text ? "t" : "b", (int) len, (const char *) data);
    strncat(got, item, sizeof(got) - strlen(got) - 1);
}

static void on_close(void *udata, int code, const char *reason, size_t len)
{
    (void) udata;
    char item[256];
    snprintf(item, sizeof(item), "close %d %.*s\n", code, (int) len, reason);
    strncat(got, item, sizeof(got) - strlen(got) - 1);
    closes++;
}

static void setup(void)
{
    logbuf[0] = got[0] = '\0';
    closes = 0;
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.log = on_log;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
}

TestSuite(core_websocket, .init = setup, .fini = teardown, .timeout = 60);

static const char ECHO[] =
    "export default { fetch(request) {\n"
    "  const [client, server] = Object.values(new WebSocketPair());\n"
    "  server.accept();\n"
    "  server.send('hello');\n"
    "  server.addEventListener('message', (e) => server.send(typeof e.data === 'string' ? 'echo:' + e.data\n"
    "                                                        : new Uint8Array(e.data).length + ' bytes'));\n"
    "  server.addEventListener('close', (e) => console.log('closed', e.code, e.reason, e.wasClean));\n"
    "  return new Response(null, {status: 101, webSocket: client, headers: {'sec-websocket-protocol': 'chat'}});\n"
    "} };\n";

static ew_worker_t *load(const char *src)
{
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.name = "t", .source = src, .source_len = strlen(src), .filename = "ws.mjs"};
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_OK, "%s", err.message);
    return w;
}

static ew_response_t *upgrade(ew_worker_t *w)
{
    ew_header_t h[] = {{"upgrade", 7, "websocket", 9}};
    ew_request_t req = {.method = "GET", .url = "http://x/chat", .headers = h, .nheaders = 1};
    ew_response_t *resp = NULL;
    (void) ew_worker_fetch_sync(w, &req, &resp, NULL);
    cr_assert_not_null(resp);
    return resp;
}

static void run_loop(void)
{
    for (int i = 0; i < 5; i++)
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_NONBLOCK);
}

Test(core_websocket, messages_flow_both_ways_and_close_is_answered)
{
    ew_worker_t *w = load(ECHO);
    ew_response_t *resp = upgrade(w);
    cr_assert_eq(resp->status, 101);
    cr_assert_eq(resp->outcome, EW_OK);
    cr_assert_not_null(resp->websocket);
    cr_assert_eq(resp->nheaders, 1);
    cr_assert_str_eq(resp->headers[0].value, "chat");
    ew_websocket_t *ws = resp->websocket;
    ew_websocket_handler_t h = {on_message, on_close, NULL};
    cr_assert_eq(ew_websocket_attach(ws, &h), EW_OK);
    cr_assert_eq(ew_websocket_attach(ws, &h), EW_ERR_STATE);
    ew_response_destroy(resp); /* the host owns ws now */
    run_loop();
    cr_assert_str_eq(got, "t:hello\n");

    cr_assert_eq(ew_websocket_send(ws, 1, "abc", 3), EW_OK);
    cr_assert_eq(ew_websocket_send(ws, 0, "\x00\x01\x02\x03", 4), EW_OK);
    cr_assert_eq(ew_websocket_send(ws, 1, "\xff", 1), EW_ERR_INVALID_ARG);
    run_loop();
    cr_assert_str_eq(got, "t:hello\nt:echo:abc\nt:4 bytes\n");
    ew_worker_stats_t st;
    ew_worker_get_stats(w, &st);
    cr_assert_eq(st.pending, 1, "the request stays open while the WebSocket is");

    cr_assert_eq(ew_websocket_close(ws, 1004, NULL, 0), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_websocket_close(ws, 1000, "bye", 3), EW_OK);
    run_loop();
    cr_assert_str_eq(got, "t:hello\nt:echo:abc\nt:4 bytes\nclose 1000 \n");
    cr_assert(strstr(logbuf, "closed 1000 bye true") != NULL, "%s", logbuf);
    cr_assert_eq(ew_websocket_send(ws, 1, "late", 4), EW_ERR_STATE);
    ew_worker_get_stats(w, &st);
    cr_assert_eq(st.pending, 0, "the request ends with the WebSocket");
    ew_websocket_destroy(ws);
    ew_worker_destroy(w);
}

Test(core_websocket, unattached_response_is_an_abnormal_close_for_the_worker)
{
    ew_worker_t *w = load(ECHO);
    ew_response_t *resp = upgrade(w);
    cr_assert_not_null(resp->websocket);
    ew_response_destroy(resp);
    run_loop();
    cr_assert(strstr(logbuf, "closed 1006 WebSocket disconnected without sending Close frame. false") != NULL,
              "%s", logbuf);
    ew_worker_stats_t st;
    ew_worker_get_stats(w, &st);
    cr_assert_eq(st.pending, 0);
    ew_worker_destroy(w);
}

Test(core_websocket, worker_close_reaches_the_host_once)
{
    ew_worker_t *w = load("export default { fetch() {\n"
                          "  const [client, server] = Object.values(new WebSocketPair());\n"
                          "  server.accept();\n"
                          "  server.addEventListener('message', () => { server.close(4321, 'done'); server.close(); });\n"
                          "  return new Response(null, {status: 101, webSocket: client});\n"
                          "} };\n");
    ew_response_t *resp = upgrade(w);
    ew_websocket_t *ws = resp->websocket;
    ew_websocket_handler_t h = {on_message, on_close, NULL};
    cr_assert_eq(ew_websocket_attach(ws, &h), EW_OK);
    ew_response_destroy(resp);
    cr_assert_eq(ew_websocket_send(ws, 1, "go", 2), EW_OK);
    run_loop();
    cr_assert_str_eq(got, "close 4321 done\n");
    cr_assert_eq(ew_websocket_close(ws, 4321, NULL, 0), EW_OK);
    run_loop();
    cr_assert_eq(closes, 1);
    ew_websocket_destroy(ws);
    ew_worker_destroy(w);
}

Test(core_websocket, unloading_the_worker_closes_with_1001)
{
    ew_worker_t *w = load(ECHO);
    ew_response_t *resp = upgrade(w);
    ew_websocket_t *ws = resp->websocket;
    ew_websocket_handler_t h = {on_message, on_close, NULL};
    cr_assert_eq(ew_websocket_attach(ws, &h), EW_OK);
    ew_response_destroy(resp);
    ew_worker_destroy(w);
    run_loop();
    cr_assert_str_eq(got, "t:hello\nclose 1001 The Worker was unloaded.\n");
    cr_assert_eq(ew_websocket_send(ws, 1, "x", 1), EW_ERR_STATE);
    ew_websocket_destroy(ws);
}

Test(core_websocket, returning_an_accepted_end_is_an_exception)
{
    ew_worker_t *w = load("export default { fetch() {\n"
                          "  const [client] = Object.values(new WebSocketPair());\n"
                          "  client.accept();\n"
                          "  return new Response(null, {status: 101, webSocket: client});\n"
                          "} };\n");
    ew_response_t *resp = upgrade(w);
    cr_assert_eq(resp->status, 500);
    cr_assert_eq(resp->outcome, EW_ERR_EXCEPTION);
    cr_assert_null(resp->websocket);
    cr_assert(strstr(logbuf, "Can't return WebSocket in a Response after calling accept().") != NULL, "%s", logbuf);
    ew_response_destroy(resp);
    ew_worker_destroy(w);
}

Test(core_websocket, cpu_budget_is_per_message)
{
    /* Each message spends up to 30 ms of the 50 ms budget; six of them would exceed one request's budget. */
    ew_worker_t *w = load("export default { fetch() {\n"
                          "  const [client, server] = Object.values(new WebSocketPair());\n"
                          "  server.accept();\n"
                          "  server.addEventListener('message', () => {\n"
                          "    const end = Date.now() + 30; while (Date.now() < end) {}\n"
                          "    server.send('done');\n"
                          "  });\n"
                          "  return new Response(null, {status: 101, webSocket: client});\n"
                          "} };\n");
    ew_response_t *resp = upgrade(w);
    ew_websocket_t *ws = resp->websocket;
    ew_websocket_handler_t h = {on_message, on_close, NULL};
    cr_assert_eq(ew_websocket_attach(ws, &h), EW_OK);
    ew_response_destroy(resp);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(ew_websocket_send(ws, 1, "x", 1), EW_OK);
    run_loop();
    cr_assert_str_eq(got, "t:done\nt:done\nt:done\nt:done\nt:done\nt:done\n", "%s / %s", got, logbuf);
    ew_websocket_destroy(ws);
    ew_worker_destroy(w);
}
