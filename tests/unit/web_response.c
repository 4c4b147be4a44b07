/* Response (lib/web/response.c, response_c.c, body.c): construction, statics, body reads, clone, and the
 * C side (ew__response_extract, ew__response_make, ew_response_destroy). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/internal.h"

static duk_context *ctx;

static void setup(void)
{
    ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__promise_init(ctx);
    ew__web_init(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

TestSuite(web_response, .init = setup, .fini = teardown);

/* Evaluates ES5 source and returns String(result) as UTF-8, or "THROWN <name>: <message>". */
static const char *run(const char *js)
{
    static char out[8192];
    if (duk_peval_string(ctx, js) != DUK_EXEC_SUCCESS) {
        duk_get_prop_string(ctx, -1, "name");
        duk_get_prop_string(ctx, -2, "message");
        snprintf(out, sizeof(out), "THROWN %s: %s", duk_safe_to_string(ctx, -2), duk_safe_to_string(ctx, -1));
        duk_pop_3(ctx);
        return out;
    }
    size_t n;
    const char *s = ew__to_utf8(ctx, -1, &n);
    snprintf(out, sizeof(out), "%.*s", (int) n, s);
    duk_pop(ctx);
    return out;
}

/* Runs js, which settles the global `result` from promise reactions, drains microtasks, returns result. */
static const char *settle(const char *js)
{
    run("var result = 'unsettled';");
    const char *r = run(js);
    if (strncmp(r, "THROWN", 6) == 0)
        return r;
    ew__microtask_drain(ctx);
    return run("String(result)");
}

#define STORE ".then(function (v) { result = v; }, function (e) { result = e.name + ': ' + e.message; })"
#define USED "TypeError: Body has already been used. It can only be used once. Use tee() first if you need to read it twice."

Test(web_response, constructor_without_new_throws_type_error)
{
    cr_assert_str_eq(run("Response('x')"), "THROWN TypeError: Class constructor Response cannot be invoked without 'new'");
}

Test(web_response, defaults)
{
    cr_assert_str_eq(run("var r = new Response(); [r.status, r.statusText, r.ok, r.type, '[' + r.url + ']', r.redirected,"
                         " r.body === null, r.bodyUsed, r.webSocket === null, r.cf, Object.prototype.toString.call(r)]"
                         ".join('|')"),
                     "200|OK|true|default|[]|false|true|false|true||[object Response]");
}

Test(web_response, string_body_defaults_to_text_plain)
{
    cr_assert_str_eq(run("new Response('hi').headers.get('content-type')"), "text/plain;charset=UTF-8");
    cr_assert_str_eq(run("new Response('hi', {headers: {'Content-Type': 'text/html'}}).headers.get('content-type')"),
                     "text/html");
    cr_assert_str_eq(run("new Response(new ArrayBuffer(2)).headers.has('content-type')"), "false");
    cr_assert_str_eq(run("new Response(null).headers.has('content-type')"), "false");
}

Test(web_response, status_and_status_text_come_from_init)
{
    cr_assert_str_eq(run("var r = new Response('x', {status: 404, statusText: 'Nope'}); [r.status, r.statusText, r.ok]"
                         ".join('|')"),
                     "404|Nope|false");
    cr_assert_str_eq(run("var r = new Response(null, {status: '201'}); [r.status, r.statusText].join('|')"), "201|Created");
    cr_assert_str_eq(run("new Response(null, {status: 299, statusText: ''}).statusText.length"), "0");
}

Test(web_response, status_outside_200_to_599_throws_range_error)
{
    const char *msg = "THROWN RangeError: Responses may only be constructed with status codes in the range 200 to 599, "
                      "inclusive.";
    cr_assert_str_eq(run("new Response(null, {status: 199})"), msg);
    cr_assert_str_eq(run("new Response(null, {status: 600})"), msg);
    cr_assert_str_eq(run("new Response(null, {status: 0})"), msg);
}

Test(web_response, bad_status_text_or_init_throws_type_error)
{
    cr_assert_str_eq(run("new Response(null, {statusText: 'a\\r\\nb'})"), "THROWN TypeError: Invalid statusText");
    cr_assert_str_eq(run("new Response(null, {statusText: '\\u0100'})"), "THROWN TypeError: Invalid statusText");
    cr_assert_str_eq(run("new Response(null, {statusText: 'caf\\u00e9'}).statusText"), "caf\xC3\xA9");
    cr_assert_str_eq(run("new Response(null, 5)"), "THROWN TypeError: Failed to construct 'Response': init must be an object");
}

Test(web_response, null_body_status_refuses_a_body_but_accepts_an_empty_one)
{
    cr_assert_str_eq(run("new Response('x', {status: 204})"),
                     "THROWN TypeError: Response with null body status (101, 204, 205, or 304) cannot have a body.");
    cr_assert_str_eq(run("var s = new Response('x').body; new Response(s, {status: 205})"),
                     "THROWN TypeError: Response with null body status (101, 204, 205, or 304) cannot have a body.");
    cr_assert_str_eq(run("new Response(s).bodyUsed"), "false");
    cr_assert_str_eq(run("var r = new Response('', {status: 304}); [r.status, r.body === null, r.headers.has("
                         "'content-type')].join('|')"),
                     "304|true|false");
}

Test(web_response, json_static_serializes_with_json_content_type)
{
    cr_assert_str_eq(settle("var r = Response.json({a: [1, 'x']}, {status: 201, headers: {'X-A': '1'}}); meta = "
                            "[r.status, r.headers.get('content-type'), r.headers.get('x-a'), r instanceof Response]"
                            ".join('|'); r.text()" STORE),
                     "{\"a\":[1,\"x\"]}");
    cr_assert_str_eq(run("meta"), "201|application/json|1|true");
    cr_assert_str_eq(run("Response.json(1, {headers: {'content-type': 'application/vnd+json'}}).headers.get("
                         "'content-type')"),
                     "application/vnd+json");
    cr_assert_str_eq(run("Response.json.length + Response.json.name"), "1json");
}

Test(web_response, json_static_refuses_unserializable_data)
{
    cr_assert_str_eq(run("Response.json(undefined)"),
                     "THROWN TypeError: Response.json: the data is not JSON serializable");
    cr_assert_str_eq(run("Response.json(function () {})"),
                     "THROWN TypeError: Response.json: the data is not JSON serializable");
    cr_assert(strncmp(run("var c = {}; c.c = c; Response.json(c)"), "THROWN TypeError", 16) == 0);
}

Test(web_response, redirect_static_sets_location_and_immutable_headers)
{
    cr_assert_str_eq(run("var r = Response.redirect('https://Example.com'); [r.status, r.headers.get('location'),"
                         " r.body === null, r.statusText].join('|')"),
                     "302|https://example.com/|true|Found");
    cr_assert_str_eq(run("Response.redirect('https://a.example/x', 301).status"), "301");
    cr_assert_str_eq(run("r.headers.set('x', 'y')"), "THROWN TypeError: Can't modify immutable headers.");
    cr_assert_str_eq(run("Response.redirect('https://a.example/', 200)"),
                     "THROWN RangeError: 200 is not a redirect status code. It must be one of: 301, 302, 303, 307, "
                     "or 308.");
    cr_assert_str_eq(run("Response.redirect('/relative')"), "THROWN TypeError: Unable to parse URL: /relative");
}

Test(web_response, error_static_is_a_network_error)
{
    cr_assert_str_eq(run("var r = Response.error(); [r.status, r.type, r.ok, '[' + r.statusText + ']', r.body].join('|')"),
                     "0|error|false|[]|");
    cr_assert_str_eq(run("r.headers.append('x', 'y')"), "THROWN TypeError: Can't modify immutable headers.");
}

Test(web_response, text_reads_once_then_rejects)
{
    cr_assert_str_eq(settle("var r = new Response('body'); r.text()" STORE), "body");
    cr_assert_str_eq(run("r.bodyUsed"), "true");
    cr_assert_str_eq(settle("r.text()" STORE), USED);
    cr_assert_str_eq(settle("r.json()" STORE), USED);
    cr_assert_str_eq(settle("r.bytes()" STORE), USED);
}

Test(web_response, json_method_parses_the_body)
{
    cr_assert_str_eq(settle("new Response('{\"ok\":true}').json().then(function (v) { result = v.ok; })"), "true");
}

Test(web_response, json_syntax_error_rejects_the_promise)
{
    const char *r = settle("new Response('not json').json()" STORE);
    cr_assert(strncmp(r, "SyntaxError: ", 13) == 0, "%s", r);
}

Test(web_response, array_buffer_views_are_copied_with_their_offset)
{
    cr_assert_str_eq(settle("var u = new Uint8Array([9, 1, 2, 3, 9]); var r = new Response(u.subarray(1, 4)); u[2] = 7;"
                            "r.arrayBuffer().then(function (b) { result = b.byteLength + ':' + "
                            "Array.prototype.join.call(new Uint8Array(b), ','); })"),
                     "3:1,2,3");
}

Test(web_response, emoji_body_round_trips_through_text)
{
    cr_assert_str_eq(settle("var s = '\\ud83d\\ude00 ok \\ud83c\\udf0d'; new Response(s).text().then(function (v) {"
                            " result = (v === s) + ' ' + v.length; })"),
                     "true 8");
    cr_assert_str_eq(settle("new Response(new Uint8Array([0xF0, 0x9F, 0x98, 0x80, 0xFF])).text().then(function (v) {"
                            " result = v.length + ' ' + v.charCodeAt(0).toString(16) + ' ' + v.charCodeAt(2).toString(16);"
                            " })"),
                     "3 d83d fffd");
}

Test(web_response, text_drops_a_utf8_bom)
{
    cr_assert_str_eq(settle("new Response(new Uint8Array([0xEF, 0xBB, 0xBF, 0x61])).text()" STORE), "a");
    cr_assert_str_eq(settle("new Response('\\ufeffb').text()" STORE), "b");
}

Test(web_response, clone_copies_headers_and_shares_the_body)
{
    cr_assert_str_eq(settle("var a = new Response('same', {status: 202, statusText: 'Yes', headers: {h: '1'}});"
                            "var b = a.clone(); b.headers.set('h', '2'); meta = [b.status, b.statusText, a.headers.get('h'),"
                            " b.headers.get('h')].join('|'); a.text().then(function (x) { return b.text().then("
                            "function (y) { result = x + y; }); })"),
                     "samesame");
    cr_assert_str_eq(run("meta"), "202|Yes|1|2");
    cr_assert_str_eq(run("a.clone()"), "THROWN " USED);
    cr_assert_str_eq(run("var e = Response.error().clone(); e.type + e.status"), "error0");
}

Test(web_response, rewrap_pattern_moves_the_body_and_makes_headers_mutable)
{
    cr_assert_str_eq(settle("var a = Response.redirect('https://a.example/'); var b = new Response(a.body, a);"
                            "b.headers.set('x', '1'); meta = [b.status, b.headers.get('location'), b.headers.get('x'),"
                            " b.body === null].join('|'); 'ok'"),
                     "unsettled");
    cr_assert_str_eq(run("meta"), "302|https://a.example/|1|true");
    cr_assert_str_eq(settle("var c = new Response('payload', {status: 404, headers: {'X-Y': 'z'}});"
                            "var d = new Response(c.body, c); d.headers.set('X-Cache', 'HIT'); meta = [c.bodyUsed,"
                            " d.status, d.statusText, d.headers.get('x-y'), d.headers.get('content-type')].join('|');"
                            "d.text()" STORE),
                     "payload");
    cr_assert_str_eq(run("meta"), "true|404|Not Found|z|text/plain;charset=UTF-8");
    cr_assert_str_eq(settle("c.text()" STORE), USED);
}

Test(web_response, prototype_surface_is_built_in_like)
{
    cr_assert_str_eq(run("var keys = []; for (var k in new Response('x')) keys.push(k); for (k in Response) keys.push(k);"
                         "[keys.length, Response.length, Response.prototype.clone.name, Response.redirect.length,"
                         " Object.getOwnPropertyDescriptor(Response.prototype, 'status').enumerable,"
                         " Response.prototype.constructor === Response].join(',')"),
                     "0,0,clone,1,false,true");
}

/* ---------------------------------------------------------------------------------------------------------
 * From C
 */

/* Evaluates js (its value must be left on the stack) and extracts it. */
static ew_status_t extract_js(const char *js, ew_response_t **out, ew_error_t *err)
{
    cr_assert_eq(duk_peval_string(ctx, js), DUK_EXEC_SUCCESS, "%s", duk_safe_to_string(ctx, -1));
    duk_idx_t top = duk_get_top(ctx);
    ew_status_t st = ew__response_extract(ctx, -1, out, err);
    cr_assert_eq(duk_get_top(ctx), top, "extract must leave the stack as it was");
    duk_put_global_string(ctx, "extracted");
    return st;
}

static const char *header_value(const ew_response_t *r, const char *name, size_t nth)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcmp(r->headers[i].name, name) == 0 && nth-- == 0)
            return r->headers[i].value;
    }
    return NULL;
}

Test(web_response, extract_copies_status_headers_and_body)
{
    ew_response_t *r;
    ew_error_t err;
    cr_assert_eq(extract_js("var h = new Headers({'X-Emoji': '\\ud83d\\ude00'}); h.append('Set-Cookie', 'a=1');"
                            "h.append('set-cookie', 'b=2'); new Response('h\\u00e9 \\ud83c\\udf0d', {status: 201, headers: h})",
                            &r, &err),
                 EW_OK);
    cr_assert_eq(err.code, EW_OK);
    cr_assert_eq(r->status, 201);
    cr_assert_str_eq(r->status_text, "");
    cr_assert_eq(r->outcome, EW_OK);
    cr_assert_eq(r->nheaders, 4);
    cr_assert_str_eq(header_value(r, "x-emoji", 0), "\xF0\x9F\x98\x80");
    cr_assert_eq(r->headers[0].value_len, 4);
    cr_assert_str_eq(header_value(r, "set-cookie", 0), "a=1");
    cr_assert_str_eq(header_value(r, "set-cookie", 1), "b=2");
    cr_assert_str_eq(header_value(r, "content-type", 0), "text/plain;charset=UTF-8");
    cr_assert_eq(r->headers[3].name_len, 12);
    cr_assert_eq(r->body_len, 8);
    cr_assert(memcmp(r->body, "h\xC3\xA9 \xF0\x9F\x8C\x8D", 8) == 0);
    cr_assert_eq(r->body[8], 0);
    ew_response_destroy(r);
    cr_assert_str_eq(run("extracted.bodyUsed"), "true");
}

Test(web_response, extract_keeps_a_given_status_text_and_binary_body)
{
    ew_response_t *r;
    cr_assert_eq(extract_js("new Response(new Uint8Array([0, 255, 1]), {status: 418, statusText: 'Teapot \\u00e9'})",
                            &r, NULL),
                 EW_OK);
    cr_assert_str_eq(r->status_text, "Teapot \xC3\xA9");
    cr_assert_eq(r->body_len, 3);
    cr_assert(memcmp(r->body, "\0\xFF\x01", 3) == 0);
    cr_assert_eq(r->nheaders, 0);
    ew_response_destroy(r);
}

Test(web_response, extract_of_a_null_body_gives_an_empty_body)
{
    ew_response_t *r;
    cr_assert_eq(extract_js("new Response(null, {status: 204})", &r, NULL), EW_OK);
    cr_assert_eq(r->status, 204);
    cr_assert_eq(r->body_len, 0);
    cr_assert_eq(r->body[0], 0);
    ew_response_destroy(r);
}

Test(web_response, extract_takes_a_body_that_script_forwarded)
{
    ew_response_t *r;
    cr_assert_eq(extract_js("var a = new Response('fwd'); new Response(a.body, a)", &r, NULL), EW_OK);
    cr_assert_eq(r->body_len, 3);
    cr_assert_str_eq((char *) r->body, "fwd");
    ew_response_destroy(r);
}

Test(web_response, extract_refuses_what_is_not_a_usable_response)
{
    const char *bad[] = {"({status: 200})", "'text'", "undefined", "new Request('https://a.example/')",
                         "Object.create(Response.prototype)"};
    ew_error_t err;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ew_response_t *r = (ew_response_t *) 1;
        cr_assert_eq(extract_js(bad[i], &r, &err), EW_ERR_BAD_RESPONSE, "%s", bad[i]);
        cr_assert_null(r);
        cr_assert_str_eq(err.message,
                         "TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    }
    ew_response_t *r;
    cr_assert_eq(extract_js("Response.error()", &r, &err), EW_ERR_BAD_RESPONSE);
    cr_assert(strstr(err.message, "Response.error()") != NULL);
    cr_assert_eq(extract_js("var u = new Response('x'); u.text(); u", &r, &err), EW_ERR_BAD_RESPONSE);
    cr_assert(strstr(err.message, "Body has already been used") != NULL);
}

Test(web_response, extract_twice_refuses_the_second_time)
{
    ew_response_t *r;
    cr_assert_eq(extract_js("var once = new Response('x'); once", &r, NULL), EW_OK);
    ew_response_destroy(r);
    cr_assert_eq(extract_js("once", &r, NULL), EW_ERR_BAD_RESPONSE);
}

Test(web_response, make_builds_an_error_page)
{
    ew_response_t *r = ew__response_make(500, "text/plain;charset=UTF-8", "boom", 4, EW_ERR_EXCEPTION);
    cr_assert_not_null(r);
    cr_assert_eq(r->status, 500);
    cr_assert_str_eq(r->status_text, "");
    cr_assert_eq(r->nheaders, 1);
    cr_assert_str_eq(r->headers[0].name, "content-type");
    cr_assert_eq(r->headers[0].name_len, 12);
    cr_assert_str_eq(r->headers[0].value, "text/plain;charset=UTF-8");
    cr_assert_eq(r->body_len, 4);
    cr_assert_str_eq((char *) r->body, "boom");
    cr_assert_eq(r->outcome, EW_ERR_EXCEPTION);
    cr_assert_eq(r->pass_through, 0);
    ew_response_destroy(r);

    r = ew__response_make(503, NULL, NULL, 0, EW_ERR_CPU_LIMIT);
    cr_assert_eq(r->nheaders, 0);
    cr_assert_eq(r->body_len, 0);
    cr_assert_eq(r->body[0], 0);
    ew_response_destroy(r);
    ew_response_destroy(NULL);
}

/* The default header lists (none, text, JSON) stay implied by the state until read (response.c): reads,
 * changes, clones and the copy to C must all see them. */
Test(web_response, default_header_lists_read_change_and_clone)
{
    cr_assert_str_eq(run("var t = new Response('x'), j = Response.json(1), e = new Response(null);"
                         "[t.headers.get('content-type'), j.headers.get('content-type'), e.headers.has('content-type'),"
                         " t.headers === t.headers].join('|')"),
                     "text/plain;charset=UTF-8|application/json|false|true");
    cr_assert_str_eq(run("var a = new Response('x'), c = a.clone(); a.headers.set('x-a', '1');"
                         "[c.headers.get('content-type'), c.headers.has('x-a'), a.headers.get('x-a')].join('|')"),
                     "text/plain;charset=UTF-8|false|1");
    cr_assert_str_eq(run("var b = Response.json({}); var d = b.clone(); d.headers.delete('content-type');"
                         "[b.headers.get('content-type'), d.headers.has('content-type')].join('|')"),
                     "application/json|false");
}

Test(web_response, extract_of_default_and_changed_lists)
{
    ew_response_t *r;
    ew_error_t err;
    cr_assert_eq(extract_js("new Response('hi')", &r, &err), EW_OK);
    cr_assert_eq(r->nheaders, 1);
    cr_assert_str_eq(header_value(r, "content-type", 0), "text/plain;charset=UTF-8");
    cr_assert_eq(r->headers[0].name_len, 12);
    cr_assert_eq(r->headers[0].value_len, 24);
    ew_response_destroy(r);
    cr_assert_eq(extract_js("Response.json([1])", &r, &err), EW_OK);
    cr_assert_eq(r->nheaders, 1);
    cr_assert_str_eq(header_value(r, "content-type", 0), "application/json");
    cr_assert_str_eq((char *) r->body, "[1]");
    ew_response_destroy(r);
    cr_assert_eq(extract_js("new Response(null, {status: 204})", &r, &err), EW_OK);
    cr_assert_eq(r->nheaders, 0);
    cr_assert_eq(r->status, 204);
    ew_response_destroy(r);
    cr_assert_eq(extract_js("var m = new Response('a'); m.headers.set('content-type', 'text/html'); "
                            "m.headers.append('x-b', '2'); m",
                            &r, &err),
                 EW_OK);
    cr_assert_eq(r->nheaders, 2);
    cr_assert_str_eq(header_value(r, "content-type", 0), "text/html");
    cr_assert_str_eq(header_value(r, "x-b", 0), "2");
    ew_response_destroy(r);
}

/* ---- encodeBody ---- */

#include <zlib.h>

/* gunzip of the response's body (gzip wrapper) or "" when it is not gzip. */
static const char *gunzip(const ew_response_t *r)
{
    static char out[8192];
    z_stream z;
    memset(&z, 0, sizeof(z));
    cr_assert_eq(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = r->body;
    z.avail_in = (uInt) r->body_len;
    z.next_out = (Bytef *) out;
    z.avail_out = sizeof(out) - 1;
    int rc = inflate(&z, Z_FINISH);
    size_t n = sizeof(out) - 1 - z.avail_out;
    inflateEnd(&z);
    out[rc == Z_STREAM_END ? n : 0] = '\0';
    return out;
}

Test(web_response, encode_body_automatic_compresses_per_content_encoding)
{
    ew_response_t *r;
    ew_error_t err;
    cr_assert_eq(extract_js("new Response('squeeze me, squeeze me, squeeze me', "
                            "{headers: {'content-encoding': 'gzip'}})", &r, &err), EW_OK);
    cr_assert_str_eq(gunzip(r), "squeeze me, squeeze me, squeeze me");
    cr_assert_str_eq(header_value(r, "content-encoding", 0), "gzip");
    cr_assert_eq(r->body[r->body_len], 0, "bodies stay NUL-terminated");
    ew_response_destroy(r);
}

Test(web_response, encode_body_manual_and_other_codings_pass_bytes_as_they_are)
{
    ew_response_t *r;
    ew_error_t err;
    cr_assert_eq(extract_js("new Response('already', {headers: {'content-encoding': 'gzip'}, encodeBody: 'manual'})",
                            &r, &err), EW_OK);
    cr_assert_str_eq((const char *) r->body, "already");
    ew_response_destroy(r);
    /* a Response given as init passes its encodeBody on, as in workerd */
    cr_assert_eq(extract_js("new Response('copied', new Response(null, {headers: {'content-encoding': 'gzip'}, "
                            "encodeBody: 'manual'}))", &r, &err), EW_OK);
    cr_assert_str_eq((const char *) r->body, "copied");
    ew_response_destroy(r);
    cr_assert_eq(extract_js("new Response('zstd is not ours', {headers: {'content-encoding': 'zstd'}})", &r, &err),
                 EW_OK);
    cr_assert_str_eq((const char *) r->body, "zstd is not ours");
    ew_response_destroy(r);
    cr_assert_eq(extract_js("new Response('', {headers: {'content-encoding': 'gzip'}})", &r, &err), EW_OK);
    cr_assert_eq(r->body_len, 0, "an empty body stays empty");
    ew_response_destroy(r);
}

Test(web_response, encode_body_clone_keeps_manual)
{
    ew_response_t *r;
    ew_error_t err;
    cr_assert_eq(extract_js("new Response('raw', {headers: {'content-encoding': 'br'}, encodeBody: 'manual'}).clone()",
                            &r, &err), EW_OK);
    cr_assert_str_eq((const char *) r->body, "raw");
    ew_response_destroy(r);
}

Test(web_response, encode_body_rejects_other_values)
{
    cr_assert_str_eq(run("new Response('x', {encodeBody: 'gzip'})"),
                     "THROWN TypeError: encodeBody: unexpected value: gzip");
    cr_assert_str_eq(run("new Response('x', {encodeBody: 'automatic'}).status"), "200");
}
