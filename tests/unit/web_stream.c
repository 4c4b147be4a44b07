/* The C interface of lib/web/stream.h: ReadableStreams fed from C (push, close, error, pull on demand,
 * cancel) and read from C chunk by chunk, on a bare heap with the Web types. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "web/internal.h"
#include "web/stream.h"

static duk_context *ctx;

static void setup(void)
{
    ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__builtins_init(ctx);
    ew__promise_init(ctx);
    ew__web_init(ctx);
}

static void teardown(void)
{
    ew__stream_dispose(ctx);
    duk_destroy_heap(ctx);
}

TestSuite(web_stream, .init = setup, .fini = teardown);

/* Evaluates ES5 source, drains microtasks, returns String(result) or "THROWN <text>". */
static const char *run(const char *js)
{
    static char out[4096];
    if (duk_peval_string(ctx, js) != DUK_EXEC_SUCCESS) {
        snprintf(out, sizeof(out), "THROWN %s", duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
        return out;
    }
    ew__microtask_drain(ctx);
    snprintf(out, sizeof(out), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return out;
}

static const char *global_string(const char *name)
{
    static char out[4096];
    ew__microtask_drain(ctx);
    duk_get_global_string(ctx, name);
    snprintf(out, sizeof(out), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return out;
}

/* ---- sources ---- */

typedef struct producer {
    int pulls;
    int cancels;
    ew__stream_src_t *src;
    bool answer_pull; /* enqueue one chunk per pull */
} producer_t;

static void on_pull(void *udata, ew__stream_src_t *src)
{
    producer_t *p = udata;
    p->pulls++;
    if (p->answer_pull) {
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "p%d;", p->pulls);
        cr_assert_eq(ew__stream_src_enqueue(src, buf, (size_t) n), EW_OK);
        if (p->pulls == 3) {
            ew__stream_src_close(src);
            p->src = NULL;
        }
    }
}

static void on_cancel(void *udata, ew__stream_src_t *src)
{
    producer_t *p = udata;
    (void) src;
    p->cancels++;
    p->src = NULL;
}

static producer_t *prod;

/* Safe-call body: makes a source stream and stores it in the global `s`. */
static duk_ret_t make_source(duk_context *c, void *udata)
{
    size_t hwm = (size_t) (uintptr_t) udata;
    ew__stream_src_hooks_t hooks = {on_pull, on_cancel, NULL, NULL};
    prod->src = ew__stream_src_push_new(c, &hooks, prod, hwm);
    duk_put_global_string(c, "s");
    return 0;
}

static void new_source(producer_t *p, size_t hwm)
{
    prod = p;
    cr_assert_eq(duk_safe_call(ctx, make_source, (void *) (uintptr_t) hwm, 0, 1), DUK_EXEC_SUCCESS);
    duk_pop(ctx);
}

Test(web_stream, source_chunks_pushed_from_c_are_read_by_script)
{
    producer_t p = {0};
    new_source(&p, 0);
    cr_assert_str_eq(run("s instanceof ReadableStream"), "true");
    run("var out = ''; new Response(s).text().then(function (t) { out = t; }, function (e) { out = 'ERR ' + e; })");
    cr_assert_eq(ew__stream_src_enqueue(p.src, "hello ", 6), EW_OK);
    cr_assert_eq(ew__stream_src_enqueue(p.src, "world", 5), EW_OK);
    ew__stream_src_close(p.src);
    cr_assert_str_eq(global_string("out"), "hello world");
    cr_assert_eq(p.cancels, 0);
}

Test(web_stream, source_is_pulled_only_on_demand)
{
    producer_t p = {0};
    p.answer_pull = true;
    new_source(&p, 0);
    run("1");
    cr_assert_eq(p.pulls, 0, "a stream with hwm 0 and no reader must not pull (pulled %d)", p.pulls);
    run("var r = s.getReader(), got = []; function next() { r.read().then(function (x) {"
        " if (x.done) { got.push('END'); return; } got.push(new TextDecoder().decode(x.value)); next(); }); } next()");
    cr_assert_str_eq(global_string("got"), "p1;,p2;,p3;,END");
    cr_assert_eq(p.pulls, 3);
}

Test(web_stream, source_bytes_work_with_a_byob_reader)
{
    producer_t p = {0};
    new_source(&p, 0);
    run("var v = ''; s.getReader({mode: 'byob'}).read(new Uint8Array(3)).then(function (x) {"
        " v = Array.prototype.join.call(x.value, ','); })");
    cr_assert_eq(ew__stream_src_enqueue(p.src, "\x01\x02\x03\x04", 4), EW_OK);
    cr_assert_str_eq(global_string("v"), "1,2,3");
    ew__stream_src_close(p.src);
}

Test(web_stream, source_error_rejects_the_reader_with_a_type_error)
{
    producer_t p = {0};
    new_source(&p, 0);
    run("var e = ''; s.getReader().read().then(null, function (x) { e = x.name + ': ' + x.message; })");
    ew__stream_src_error(p.src, "upstream connection reset");
    cr_assert_str_eq(global_string("e"), "TypeError: upstream connection reset");
}

Test(web_stream, script_cancel_reaches_the_producer)
{
    producer_t p = {0};
    new_source(&p, 0);
    run("s.cancel('no thanks')");
    cr_assert_eq(p.cancels, 1);
    cr_assert_null(p.src);
}

Test(web_stream, dispose_cancels_live_sources)
{
    producer_t p = {0};
    new_source(&p, 0);
    ew__stream_dispose(ctx);
    cr_assert_eq(p.cancels, 1);
}

Test(web_stream, desired_size_follows_the_high_water_mark)
{
    producer_t p = {0};
    new_source(&p, 10);
    cr_assert_float_eq(ew__stream_src_desired(p.src), 10, 0.001);
    cr_assert_eq(ew__stream_src_enqueue(p.src, "12345678", 8), EW_OK);
    cr_assert_float_eq(ew__stream_src_desired(p.src), 2, 0.001);
    ew__stream_src_close(p.src);
}

/* ---- readers ---- */

typedef struct consumer {
    char data[256];
    size_t len;
    int chunks;
    int ends;
    int errors;
    char error[256];
    ew__stream_reader_t *r;
    bool again; /* read the next chunk from inside the callback */
} consumer_t;

static void on_read(duk_context *c, void *udata, ew__stream_event_t ev, const void *data, size_t len)
{
    consumer_t *k = udata;
    if (ev == EW__STREAM_CHUNK) {
        memcpy(k->data + k->len, data, len);
        k->len += len;
        k->chunks++;
        if (k->again)
            cr_assert_eq(ew__stream_reader_read(k->r, on_read, k), EW_OK);
    } else if (ev == EW__STREAM_END) {
        k->ends++;
    } else {
        k->errors++;
        if (c != NULL)
            snprintf(k->error, sizeof(k->error), "%s", duk_safe_to_string(c, -1));
    }
}

static duk_ret_t open_reader(duk_context *c, void *udata)
{
    consumer_t *k = udata;
    duk_get_global_string(c, "s");
    k->r = ew__stream_reader_open(c, -1);
    return 0;
}

static int open_global_reader(consumer_t *k)
{
    int rc = duk_safe_call(ctx, open_reader, k, 0, 1);
    if (rc != DUK_EXEC_SUCCESS)
        snprintf(k->error, sizeof(k->error), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return rc;
}

Test(web_stream, reader_gets_chunks_one_read_at_a_time_then_end)
{
    run("var s = new ReadableStream({ start: function (c) { c.enqueue(new TextEncoder().encode('ab'));"
        " c.enqueue(new Uint8Array([99]).buffer); c.close(); } })");
    consumer_t k = {0};
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_SUCCESS);
    cr_assert_str_eq(run("s.locked"), "true");
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    cr_assert_eq(k.chunks, 1);
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    cr_assert_eq(k.chunks, 2);
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    cr_assert_eq(k.ends, 1);
    cr_assert_eq(k.len, 3);
    cr_assert_eq(memcmp(k.data, "abc", 3), 0);
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_ERR_STATE);
    ew__stream_reader_close(k.r);
    cr_assert_str_eq(run("s.locked"), "false");
}

Test(web_stream, reader_waits_for_a_writer_and_gives_back_pressure)
{
    run("var ts = new TransformStream(), s = ts.readable, w = ts.writable.getWriter(), done = [];"
        "w.write(new Uint8Array([1])).then(function () { done.push(1); });"
        "w.write(new Uint8Array([2])).then(function () { done.push(2); });");
    consumer_t k = {0};
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_SUCCESS);
    cr_assert_str_eq(global_string("done"), "", "no write completes before the C side reads");
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    cr_assert_eq(k.chunks, 1);
    cr_assert_str_eq(global_string("done"), "1");
    k.again = true;
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    run("w.close()");
    cr_assert_eq(k.chunks, 2);
    cr_assert_eq(k.ends, 1);
    ew__stream_reader_close(k.r);
}

Test(web_stream, reader_reports_non_byte_chunks_as_errors_and_cancels)
{
    run("var why; var s = new ReadableStream({ start: function (c) { c.enqueue('text'); },"
        " cancel: function (r) { why = r.message; } })");
    consumer_t k = {0};
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_SUCCESS);
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    cr_assert_eq(k.errors, 1);
    cr_assert_str_eq(k.error, "TypeError: This ReadableStream did not return bytes.");
    cr_assert_str_eq(global_string("why"), "This ReadableStream did not return bytes.");
    ew__stream_reader_close(k.r);
}

Test(web_stream, reader_reports_stream_errors)
{
    run("var s = new ReadableStream({ start: function (c) { c.error(new RangeError('nope')); } })");
    consumer_t k = {0};
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_SUCCESS);
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    cr_assert_eq(k.errors, 1);
    cr_assert_str_eq(k.error, "RangeError: nope");
    ew__stream_reader_close(k.r);
}

Test(web_stream, closing_a_reader_early_cancels_the_stream)
{
    run("var why; var s = new ReadableStream({ pull: function (c) { c.enqueue(new Uint8Array(1)); },"
        " cancel: function (r) { why = r.message; } })");
    consumer_t k = {0};
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_SUCCESS);
    ew__stream_reader_close(k.r);
    cr_assert_str_eq(global_string("why"), "The reader was closed.");
}

Test(web_stream, opening_a_reader_on_a_locked_stream_throws)
{
    run("var s = new ReadableStream(); s.getReader()");
    consumer_t k = {0};
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_ERROR);
    cr_assert_str_eq(k.error, "TypeError: This ReadableStream is currently locked to a reader.");
    run("var s = 5");
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_ERROR);
    cr_assert_str_eq(k.error, "TypeError: The value is not a ReadableStream.");
}

Test(web_stream, dispose_makes_readers_dead)
{
    run("var s = new ReadableStream()");
    consumer_t k = {0};
    cr_assert_eq(open_global_reader(&k), DUK_EXEC_SUCCESS);
    ew__stream_dispose(ctx);
    cr_assert_eq(ew__stream_reader_read(k.r, on_read, &k), EW_OK);
    cr_assert_eq(k.errors, 1);
    ew__stream_reader_close(k.r);
}

Test(web_stream, stream_globals_load_on_first_use_only)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_string(ctx, -1, DUK_HIDDEN_SYMBOL("sA"));
    cr_assert(duk_is_undefined(ctx, -1), "streams.js must not load at heap start");
    duk_pop_2(ctx);
    cr_assert_str_eq(run("typeof TransformStream"), "function");
    cr_assert_str_eq(run("Object.getOwnPropertyDescriptor(this, 'ReadableStream').value === ReadableStream"), "true");
    cr_assert_str_eq(run("ReadableStream = 5; ReadableStream"), "5");
}
