/* Streamed response bodies through the public API: ew_worker_fetch_stream + ew_body_read (pieces, the end,
 * failures, cancellation by ew_response_destroy and by unloading the worker), and ew_worker_fetch_sync
 * reading a stream body whole. */
#include <criterion/criterion.h>
#include <event2/event.h>
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
    cfg.cpu_ms = 10000;
    cfg.memory_mb = 16;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
}

TestSuite(core_body_stream, .init = setup, .fini = teardown, .timeout = 60);

static const char WORKER[] =
    "export default { async fetch(request) {\n"
    "  const url = new URL(request.url);\n"
    "  const enc = new TextEncoder();\n"
    "  if (url.pathname === '/plain') return new Response('whole');\n"
    "  const { readable, writable } = new TransformStream();\n"
    "  const w = writable.getWriter();\n"
    "  globalThis.progress = [];\n"
    "  (async () => {\n"
    "    try {\n"
    "      for (let i = 0; i < 3; i++) { await w.write(enc.encode('part' + i + ';')); progress.push(i); }\n"
    "      if (url.pathname === '/fail') { await w.abort(new Error('producer failed')); return; }\n"
    "      if (url.pathname === '/strings') { await w.write('not bytes'); return; }\n"
    "      if (url.pathname === '/hang') { await new Promise(() => {}); }\n"
    "      if (url.pathname === '/slow') { await new Promise((r) => setTimeout(r, 60000)); }\n"
    "      if (url.pathname === '/huge') { const big = new Uint8Array(1 << 20); for (;;) await w.write(big); }\n"
    "      await w.close();\n"
    "    } catch (e) { globalThis.writerError = String(e); }\n"
    "  })();\n"
    "  return new Response(readable, { headers: { 'x-streamed': 'yes' } });\n"
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
    char body[1024];
    size_t len;
    int chunks;
    bool done;
    ew_status_t status;
    int stop_after; /* destroy the response after this many chunks (0 = read to the end) */
} host_t;

static void on_chunk(void *udata, const void *data, size_t len, ew_status_t status)
{
    host_t *h = udata;
    if (status != EW_OK || data == NULL) {
        h->done = true;
        h->status = status;
        return;
    }
    memcpy(h->body + h->len, data, len);
    h->len += len;
    h->chunks++;
    if (h->stop_after > 0 && h->chunks == h->stop_after) {
        ew_response_destroy(h->resp);
        h->resp = NULL;
        h->done = true;
        return;
    }
    cr_assert_eq(ew_body_read(h->resp->body_stream, on_chunk, h), EW_OK);
    cr_assert_eq(ew_body_read(h->resp->body_stream, on_chunk, h), EW_ERR_STATE, "one read at a time");
}

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) err;
    host_t *h = udata;
    h->resp = resp;
    if (resp->body_stream == NULL) {
        h->done = true;
        return;
    }
    cr_assert_eq(ew_body_read(resp->body_stream, on_chunk, h), EW_OK);
}

static void run_until(bool *flag)
{
    struct event_base *base = ew_runtime_event_base(rt);
    for (int i = 0; i < 100000 && !*flag; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    cr_assert(*flag, "the loop went idle before the body was done");
}

static void stream(ew_worker_t *w, const char *url, host_t *h)
{
    ew_request_t req = {.method = "GET", .url = url};
    cr_assert_eq(ew_worker_fetch_stream(w, &req, on_response, h), EW_OK);
    run_until(&h->done);
}

Test(core_body_stream, a_stream_body_arrives_in_pieces_then_ends)
{
    ew_worker_t *w = load();
    host_t h = {0};
    stream(w, "http://x/ok", &h);
    cr_assert_eq(h.status, EW_OK);
    cr_assert_eq(h.resp->status, 200);
    cr_assert_eq(h.resp->body_len, 0);
    cr_assert_eq(h.chunks, 3);
    cr_assert_eq(h.len, 18);
    cr_assert_eq(memcmp(h.body, "part0;part1;part2;", 18), 0);
    cr_assert_eq(ew_body_read(h.resp->body_stream, on_chunk, &h), EW_ERR_STATE, "no read after the end");
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, a_buffered_body_is_not_streamed)
{
    ew_worker_t *w = load();
    host_t h = {0};
    stream(w, "http://x/plain", &h);
    cr_assert_null(h.resp->body_stream);
    cr_assert_eq(h.resp->body_len, 5);
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, fetch_sync_reads_a_stream_body_whole)
{
    ew_worker_t *w = load();
    ew_request_t req = {.method = "GET", .url = "http://x/ok"};
    ew_response_t *resp = NULL;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, NULL), EW_OK);
    cr_assert_null(resp->body_stream);
    cr_assert_eq(resp->body_len, 18);
    cr_assert_str_eq((const char *) resp->body, "part0;part1;part2;");
    cr_assert_eq(resp->nheaders, 1);
    ew_response_destroy(resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, fetch_sync_of_a_failing_stream_is_a_1101)
{
    ew_worker_t *w = load();
    ew_request_t req = {.method = "GET", .url = "http://x/fail"};
    ew_response_t *resp = NULL;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, NULL), EW_ERR_EXCEPTION);
    cr_assert_eq(resp->status, 500);
    cr_assert(strstr(logbuf, "producer failed") != NULL, "log: %s", logbuf);
    ew_response_destroy(resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, fetch_sync_bounds_a_stream_body_by_the_memory_limit)
{
    ew_worker_t *w = load();
    ew_request_t req = {.method = "GET", .url = "http://x/huge"};
    ew_response_t *resp = NULL;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, NULL), EW_ERR_MEMORY_LIMIT);
    cr_assert_eq(resp->status, 503);
    ew_response_destroy(resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, a_failing_stream_ends_the_body_with_exception)
{
    ew_worker_t *w = load();
    host_t h = {0};
    stream(w, "http://x/fail", &h);
    cr_assert_eq(h.status, EW_ERR_EXCEPTION);
    cr_assert_eq(h.len, 18, "what was written before the failure arrives first");
    cr_assert(strstr(logbuf, "Uncaught (in response body) Error: producer failed") != NULL, "log: %s", logbuf);
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, non_byte_chunks_end_the_body_with_exception)
{
    ew_worker_t *w = load();
    host_t h = {0};
    stream(w, "http://x/strings", &h);
    cr_assert_eq(h.status, EW_ERR_EXCEPTION);
    cr_assert(strstr(logbuf, "This ReadableStream did not return bytes.") != NULL, "log: %s", logbuf);
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, a_stream_that_can_never_continue_fails_the_read)
{
    ew_worker_t *w = load();
    host_t h = {0};
    stream(w, "http://x/hang", &h);
    cr_assert_eq(h.status, EW_ERR_EXCEPTION);
    cr_assert(strstr(logbuf, "The script will never generate a response.") != NULL, "log: %s", logbuf);
    ew_response_destroy(h.resp);
    ew_worker_destroy(w);
}

Test(core_body_stream, destroying_the_response_cancels_the_writer)
{
    ew_worker_t *w = load();
    host_t h = {0};
    h.stop_after = 1;
    stream(w, "http://x/ok", &h);
    /* The writer's next write fails: the stream was cancelled. Ask the worker what it saw. */
    ew_request_t req = {.method = "GET", .url = "http://x/plain"};
    ew_response_t *resp = NULL;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, NULL), EW_OK);
    ew_response_destroy(resp);
    ew_worker_stats_t st;
    ew_worker_get_stats(w, &st);
    cr_assert_eq(st.pending, 0, "the streaming request must be finished once its body is gone");
    ew_worker_destroy(w);
}

Test(core_body_stream, unloading_the_worker_cancels_a_pending_read)
{
    ew_worker_t *w = load();
    host_t h = {0};
    ew_request_t req = {.method = "GET", .url = "http://x/slow"};
    cr_assert_eq(ew_worker_fetch_stream(w, &req, on_response, &h), EW_OK);
    struct event_base *base = ew_runtime_event_base(rt);
    for (int i = 0; i < 1000 && h.chunks < 3; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    cr_assert_eq(h.chunks, 3, "the parts before the timer arrive");
    cr_assert(!h.done);
    ew_worker_destroy(w); /* a read is pending: the writer waits for its 60 s timer */
    run_until(&h.done);
    cr_assert_eq(h.status, EW_ERR_CANCELLED);
    ew_response_destroy(h.resp);
}

Test(core_body_stream, bad_arguments)
{
    cr_assert_eq(ew_body_read(NULL, on_chunk, NULL), EW_ERR_INVALID_ARG);
    ew_worker_t *w = load();
    ew_request_t req = {.method = "GET", .url = "not a url"};
    cr_assert_eq(ew_worker_fetch_stream(w, &req, on_response, NULL), EW_ERR_INVALID_ARG);
    ew_worker_destroy(w);
}
