/* Request (lib/web/request.c, body.c): construction, init, transfers, body reads, and the C side
 * (ew__request_check, ew__request_push). */
#include <criterion/criterion.h>
#include <stdio.h>
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

TestSuite(web_request, .init = setup, .fini = teardown);

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

/* A reaction pair that stores the value (or "<name>: <message>") in `result`. */
#define STORE ".then(function (v) { result = v; }, function (e) { result = e.name + ': ' + e.message; })"

Test(web_request, constructor_without_new_throws_type_error)
{
    cr_assert_str_eq(run("Request('https://a.example/')"),
                     "THROWN TypeError: Class constructor Request cannot be invoked without 'new'");
}

Test(web_request, url_must_be_absolute)
{
    cr_assert_str_eq(run("new Request('/relative')"), "THROWN TypeError: Invalid URL: /relative");
    cr_assert_str_eq(run("new Request('example.com')"), "THROWN TypeError: Invalid URL: example.com");
}

Test(web_request, url_scheme_and_host_are_normalized)
{
    cr_assert_str_eq(run("new Request('  HTTPS://User@Example.COM').url"), "https://User@example.com/");
    cr_assert_str_eq(run("new Request('http://A.b:8080?Q=1').url"), "http://a.b:8080/?Q=1");
    cr_assert_str_eq(run("new Request('https://x.example/Path/A?B#C').url"), "https://x.example/Path/A?B#C");
}

Test(web_request, defaults)
{
    cr_assert_str_eq(run("var r = new Request('https://a.example/'); [r.method, r.redirect, r.body, r.bodyUsed, "
                         "r.signal, r.cf, Object.prototype.toString.call(r)].join('|')"),
                     "GET|follow||false|||[object Request]");
    cr_assert_str_eq(run("r.body === null && r.signal === null && r.cf === undefined"), "true");
}

Test(web_request, method_is_normalized_only_for_the_standard_six)
{
    cr_assert_str_eq(run("['post', 'Get', 'delete', 'options', 'head', 'put', 'patch', 'PROPFIND'].map(function (m) {"
                         " return new Request('https://a.example/', {method: m}).method; }).join(',')"),
                     "POST,GET,DELETE,OPTIONS,HEAD,PUT,patch,PROPFIND");
}

Test(web_request, bad_or_forbidden_method_throws_type_error)
{
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'BAD METHOD'})"),
                     "THROWN TypeError: Invalid HTTP method string: BAD METHOD");
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'connect'})"),
                     "THROWN TypeError: 'CONNECT' HTTP method is unsupported.");
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'TRACE'})"),
                     "THROWN TypeError: 'TRACE' HTTP method is unsupported.");
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'track'})"),
                     "THROWN TypeError: 'TRACK' HTTP method is unsupported.");
}

Test(web_request, get_or_head_with_a_body_throws_type_error)
{
    cr_assert_str_eq(run("new Request('https://a.example/', {body: 'x'})"),
                     "THROWN TypeError: Request with a GET or HEAD method cannot have a body.");
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'HEAD', body: 'x'})"),
                     "THROWN TypeError: Request with a GET or HEAD method cannot have a body.");
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'GET', body: null}).method"), "GET");
}

Test(web_request, string_body_gets_a_default_content_type)
{
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'POST', body: 'x'}).headers.get('content-type')"),
                     "text/plain;charset=UTF-8");
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'POST', body: 'x', headers: {'Content-Type': "
                         "'application/json'}}).headers.get('content-type')"),
                     "application/json");
    cr_assert_str_eq(run("new Request('https://a.example/', {method: 'POST', body: new Uint8Array(1)}).headers.has("
                         "'content-type')"),
                     "false");
}

Test(web_request, init_headers_cf_and_redirect)
{
    cr_assert_str_eq(run("var cf = {cacheTtl: 5}; var r = new Request('https://a.example/', {headers: [['X-A', '1']],"
                         " cf: cf, redirect: 'manual'}); [r.headers.get('x-a'), r.cf === cf, r.redirect].join('|')"),
                     "1|true|manual");
    cr_assert_str_eq(run("new Request('https://a.example/', {redirect: 'error'}).redirect"), "error");
    cr_assert_str_eq(run("new Request('https://a.example/', {redirect: 'sideways'})"),
                     "THROWN TypeError: Invalid redirect value, must be one of \"follow\", \"manual\" or \"error\".");
}

Test(web_request, headers_getter_returns_the_same_mutable_object)
{
    cr_assert_str_eq(run("var r = new Request('https://a.example/', {headers: {a: '1'}}); r.headers.set('b', '2');"
                         "[r.headers === r.headers, r.headers.get('b'), r.headers instanceof Headers].join('|')"),
                     "true|2|true");
}

Test(web_request, copy_from_request_takes_its_body_and_keeps_the_rest)
{
    cr_assert_str_eq(settle("var a = new Request('https://a.example/p', {method: 'POST', body: 'payload', headers: {x: "
                            "'1'}, redirect: 'manual'}); var b = new Request(a); b.headers.set('x', '2');"
                            "var meta = [b.method, b.url, b.redirect, a.headers.get('x'), b.headers.get('x'), a.bodyUsed, "
                            "b.bodyUsed].join('|'); b.text()" STORE "; a.text()" STORE "; meta"),
                     "TypeError: Body has already been used. It can only be used once. Use tee() first if you need to "
                     "read it twice.");
    cr_assert_str_eq(run("meta"), "POST|https://a.example/p|manual|1|2|true|false");
}

Test(web_request, copy_with_new_url_and_init_request_keeps_method_headers_and_body)
{
    cr_assert_str_eq(settle("var a = new Request('https://a.example/', {method: 'PUT', body: 'data', headers: {k: 'v'}});"
                            "var b = new Request('https://b.example/x', a); meta = [b.url, b.method, b.headers.get('k'),"
                            " a.bodyUsed].join('|'); b.text()" STORE),
                     "data");
    cr_assert_str_eq(run("meta"), "https://b.example/x|PUT|v|true");
}

Test(web_request, copy_from_a_used_request_throws_type_error)
{
    cr_assert_str_eq(settle("var a = new Request('https://a.example/', {method: 'POST', body: 'x'});"
                            "a.text()" STORE),
                     "x");
    cr_assert_str_eq(run("new Request(a)"),
                     "THROWN TypeError: Cannot construct a Request with a Request object that has already been used.");
    cr_assert_str_eq(run("new Request(a, {body: 'fresh'}).method"), "POST");
}

Test(web_request, body_stand_in_forwards_the_body_like_a_stream)
{
    cr_assert_str_eq(settle("var a = new Request('https://a.example/', {method: 'POST', body: 'fwd'}); var s = a.body;"
                            "meta = [s === a.body, Object.prototype.toString.call(s), a.bodyUsed].join('|');"
                            "var b = new Request('https://b.example/', {method: 'POST', body: a.body});"
                            "meta += '|' + a.bodyUsed; b.text()" STORE),
                     "fwd");
    cr_assert_str_eq(run("meta"), "true|[object ReadableStream]|false|true");
    cr_assert_str_eq(run("var t = new Request('https://a.example/', {method: 'POST', body: 'kept'}).body;"
                         "new Request('https://c.example/', {method: 'BAD METHOD', body: t})"),
                     "THROWN TypeError: Invalid HTTP method string: BAD METHOD");
    cr_assert_str_eq(settle("new Request('https://c.example/', {method: 'POST', body: t}).text()" STORE), "kept");
    cr_assert_str_eq(run("new Request('https://c.example/', {method: 'POST', body: s})"),
                     "THROWN TypeError: This ReadableStream is disturbed (has already been read from), and cannot "
                     "be used as a body.");
}

Test(web_request, text_reads_once_then_rejects)
{
    cr_assert_str_eq(settle("var r = new Request('https://a.example/', {method: 'POST', body: 'hello'});"
                            "r.text()" STORE),
                     "hello");
    cr_assert_str_eq(run("r.bodyUsed"), "true");
    cr_assert_str_eq(settle("r.text()" STORE),
                     "TypeError: Body has already been used. It can only be used once. Use tee() first if you need "
                     "to read it twice.");
    cr_assert_str_eq(settle("r.arrayBuffer()" STORE),
                     "TypeError: Body has already been used. It can only be used once. Use tee() first if you need "
                     "to read it twice.");
}

Test(web_request, null_body_reads_as_empty_and_never_becomes_used)
{
    cr_assert_str_eq(settle("var r = new Request('https://a.example/'); r.text().then(function (v) { "
                            "return r.text().then(function (w) { result = '[' + v + w + ']' + r.bodyUsed; }); })"),
                     "[]false");
}

Test(web_request, json_parses_and_rejects_syntax_errors)
{
    cr_assert_str_eq(settle("new Request('https://a.example/', {method: 'POST', body: '{\"a\":[1,2]}'}).json()"
                            ".then(function (v) { result = v.a[1]; })"),
                     "2");
    cr_assert(strncmp(settle("new Request('https://a.example/', {method: 'POST', body: '{bad'}).json()" STORE),
                      "SyntaxError", 11) == 0);
}

Test(web_request, array_buffer_and_bytes_copy_the_bytes)
{
    cr_assert_str_eq(settle("new Request('https://a.example/', {method: 'POST', body: new Uint8Array([1, 2, 255])})"
                            ".arrayBuffer().then(function (b) { var u = new Uint8Array(b); result = "
                            "(b instanceof ArrayBuffer) + ' ' + b.byteLength + ' ' + u[2]; })"),
                     "true 3 255");
    cr_assert_str_eq(settle("new Request('https://a.example/', {method: 'POST', body: 'h\\u00e9'}).bytes()"
                            ".then(function (u) { result = (u instanceof Uint8Array) + ' ' + u.length + ' ' + u[1] + "
                            "',' + u[2]; })"),
                     "true 3 195,169");
}

Test(web_request, emoji_body_round_trips_through_text)
{
    cr_assert_str_eq(settle("var s = 'a\\ud83d\\ude00\\u00e9\\u20ac'; new Request('https://a.example/', {method: 'POST',"
                            " body: s}).text().then(function (v) { result = (v === s) + ' ' + v.length; })"),
                     "true 5");
    cr_assert_str_eq(settle("new Request('https://a.example/', {method: 'POST', body: 'x\\ud83d\\ude00'}).bytes()"
                            ".then(function (u) { result = Array.prototype.join.call(u, ','); })"),
                     "120,240,159,152,128");
}

Test(web_request, clone_reads_independently_and_refuses_used_bodies)
{
    cr_assert_str_eq(settle("var a = new Request('https://a.example/', {method: 'POST', body: 'twice', headers: {h: '1'}});"
                            "var b = a.clone(); b.headers.set('h', '2'); meta = [b.method, b.url, a.headers.get('h'),"
                            " b.headers.get('h')].join('|'); a.text().then(function (x) { return b.text().then("
                            "function (y) { result = x + y; }); })"),
                     "twicetwice");
    cr_assert_str_eq(run("meta"), "POST|https://a.example/|1|2");
    cr_assert_str_eq(run("a.clone()"),
                     "THROWN TypeError: Body has already been used. It can only be used once. Use tee() first if you "
                     "need to read it twice.");
}

Test(web_request, methods_and_accessors_are_non_enumerable_prototype_properties)
{
    cr_assert_str_eq(run("var keys = []; for (var k in new Request('https://a.example/')) keys.push(k);"
                         "var p = Request.prototype; [keys.length, typeof Object.getOwnPropertyDescriptor(p, 'url').get,"
                         " p.text.name, p.clone.length, Request.length, Request.name, p.text === Response.prototype.text]"
                         ".join(',')"),
                     "0,function,text,0,1,Request,true");
}

Test(web_request, accessors_refuse_other_receivers)
{
    cr_assert_str_eq(run("Object.getOwnPropertyDescriptor(Request.prototype, 'url').get.call(new Response())"),
                     "THROWN TypeError: Illegal invocation: this is not a Request");
    cr_assert_str_eq(settle("Request.prototype.text.call({})" STORE),
                     "TypeError: Illegal invocation: this is not a Request or a Response");
}

/* ---------------------------------------------------------------------------------------------------------
 * From C
 */

static ew_request_t c_request(const char *method, const char *url, const ew_header_t *h, size_t nh)
{
    ew_request_t r = {.method = method, .url = url, .headers = h, .nheaders = nh};
    return r;
}

Test(web_request, check_accepts_a_valid_request)
{
    ew_header_t h[] = {{"Host", 4, "a.example", 9}, {"X-Empty", 7, "", 0}};
    ew_request_t r = c_request("GET", "https://a.example/x?y", h, 2);
    ew_error_t err;
    cr_assert_eq(ew__request_check(&r, &err), EW_OK);
    cr_assert_eq(err.code, EW_OK);
}

Test(web_request, check_names_the_bad_method_or_url)
{
    ew_error_t err;
    ew_request_t r = c_request("GE T", "https://a.example/", NULL, 0);
    cr_assert_eq(ew__request_check(&r, &err), EW_ERR_INVALID_ARG);
    cr_assert_str_eq(err.message, "request: method \"GE T\" is not an HTTP token");
    const char *bad_urls[] = {"/path", "ftp://a.example/", "https://", "http://a.example/a b", "http://[::1/"};
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
        r = c_request("GET", bad_urls[i], NULL, 0);
        cr_assert_eq(ew__request_check(&r, &err), EW_ERR_INVALID_ARG, "%s", bad_urls[i]);
        cr_assert(strstr(err.message, "is not an absolute http(s) URL") != NULL, "%s", err.message);
    }
    cr_assert_eq(ew__request_check(NULL, NULL), EW_ERR_INVALID_ARG);
}

Test(web_request, check_names_the_bad_header)
{
    ew_error_t err;
    ew_header_t bad_name[] = {{"Good", 4, "v", 1}, {"Bad Name", 8, "v", 1}};
    ew_request_t r = c_request("GET", "http://a.example/", bad_name, 2);
    cr_assert_eq(ew__request_check(&r, &err), EW_ERR_INVALID_ARG);
    cr_assert_str_eq(err.message, "request: header 1: name \"Bad Name\" is not an HTTP token");
    ew_header_t bad_value[] = {{"X-Inject", 8, "a\r\nb", 4}};
    r = c_request("GET", "http://a.example/", bad_value, 1);
    cr_assert_eq(ew__request_check(&r, &err), EW_ERR_INVALID_ARG);
    cr_assert_str_eq(err.message, "request: header \"X-Inject\": value contains CR, LF or NUL");
    ew_header_t nul_value[] = {{"X-Nul", 5, "a\0b", 3}};
    r = c_request("GET", "http://a.example/", nul_value, 1);
    cr_assert_eq(ew__request_check(&r, &err), EW_ERR_INVALID_ARG);
}

Test(web_request, check_finds_cr_lf_nul_anywhere_in_long_values)
{
    ew_error_t err;
    char v[41];
    for (size_t len = 1; len <= 40; len++) {
        for (size_t at = 0; at < len; at++) {
            for (int k = 0; k < 3; k++) {
                memset(v, 'a', sizeof(v));
                v[len / 2] = '\t'; /* allowed, and below 0x0E like the three */
                v[at] = "\r\n"[k]; /* k == 2: the string's NUL */
                ew_header_t h[] = {{"X-Long", 6, v, len}};
                ew_request_t r = c_request("GET", "http://a.example/", h, 1);
                cr_assert_eq(ew__request_check(&r, &err), EW_ERR_INVALID_ARG, "len %zu at %zu kind %d", len, at, k);
            }
        }
        memset(v, 'a', sizeof(v));
        v[len / 2] = '\t';
        ew_header_t ok[] = {{"X-Long", 6, v, len}};
        ew_request_t r = c_request("GET", "http://a.example/", ok, 1);
        cr_assert_eq(ew__request_check(&r, &err), EW_OK, "len %zu: %s", len, err.message);
    }
}

Test(web_request, push_builds_a_request_from_c_data)
{
    ew_header_t h[] = {
        {"Content-Type", 12, "text/plain", 10},
        {"X-Emoji", 7, "  \xF0\x9F\x98\x80 ", 7},
        {"X-Bad", 5, "a\xFFz", 3},
        {"set-cookie", 10, "a=1", 3},
        {"Set-Cookie", 10, "b=2", 3},
    };
    ew_request_t r = c_request("POST", "https://a.example/p?q=1", h, 5);
    r.body = "h\xC3\xA9llo \xF0\x9F\x8C\x8D";
    r.body_len = strlen(r.body);
    cr_assert_eq(ew__request_check(&r, NULL), EW_OK);
    ew__request_push(ctx, &r);
    duk_put_global_string(ctx, "req");
    cr_assert_str_eq(run("[req.method, req.url, req.headers.get('CONTENT-TYPE'), req.headers.get('x-emoji').length,"
                         " req.headers.get('x-bad') === 'a\\ufffdz', req.headers.getSetCookie().join(';'), req.redirect,"
                         " req instanceof Request].join('|')"),
                     "POST|https://a.example/p?q=1|text/plain|2|true|a=1;b=2|follow|true");
    cr_assert_str_eq(run("req.headers.get('x-emoji')"), "\xF0\x9F\x98\x80");
    cr_assert_str_eq(settle("req.text()" STORE), "h\xC3\xA9llo \xF0\x9F\x8C\x8D");
}

Test(web_request, pushed_request_has_empty_cf_and_immutable_headers)
{
    ew_header_t h[] = {{"Accept", 6, "*/*", 3}};
    ew_request_t r = c_request("GET", "http://a.example/", h, 1);
    ew__request_push(ctx, &r);
    duk_put_global_string(ctx, "req");
    cr_assert_str_eq(run("[typeof req.cf, req.cf === req.cf, JSON.stringify(req.cf), req.body, req.bodyUsed].join('|')"),
                     "object|true|{}||false");
    cr_assert_str_eq(run("req.headers.set('x', 'y')"), "THROWN TypeError: Can't modify immutable headers.");
    cr_assert_str_eq(run("var copy = new Request(req); copy.headers.set('x', 'y'); copy.headers.get('x') + "
                         "copy.headers.get('accept') + JSON.stringify(copy.cf)"),
                     "y*/*{}");
}

Test(web_request, pushed_request_with_empty_body_pointer_has_an_empty_body)
{
    ew_request_t r = c_request("POST", "http://a.example/", NULL, 0);
    r.body = "";
    r.body_len = 0;
    ew__request_push(ctx, &r);
    duk_put_global_string(ctx, "req");
    cr_assert_str_eq(run("req.body !== null"), "true");
    cr_assert_str_eq(settle("req.text().then(function (v) { result = '[' + v + ']' + req.bodyUsed; })"), "[]true");
}

/* A request from C stays packed in C until script reads it (request.c): every way in must see the same
 * Request as one built at once. */
Test(web_request, packed_request_reads_the_same_in_any_order)
{
    ew_header_t h[] = {{"Content-Type", 12, "text/x-a", 8}, {"X-One", 5, " 1 ", 3}};
    ew_request_t r = c_request("PROPFIND", "https://a.example/p?q=%C3%A9", h, 2);
    r.body = "abc";
    r.body_len = 3;
    ew__request_push(ctx, &r);
    duk_put_global_string(ctx, "req");
    /* url and method before the headers are unpacked, then after */
    cr_assert_str_eq(run("[req.method, req.url, req.url === req.url].join('|')"),
                     "PROPFIND|https://a.example/p?q=%C3%A9|true");
    cr_assert_str_eq(run("var h = req.headers; [h === req.headers, h.get('x-one'), (function () { var k = 0; h.forEach(function () { k++; }); return k; })(), req.method, "
                         "req.url].join('|')"),
                     "true|1|2|PROPFIND|https://a.example/p?q=%C3%A9");
    cr_assert_str_eq(run("req.headers.append('x', 'y')"), "THROWN TypeError: Can't modify immutable headers.");
    cr_assert_str_eq(settle("req.text()" STORE), "abc");
}

Test(web_request, packed_request_copies_and_clones_keep_everything)
{
    ew_header_t h[] = {{"Accept", 6, "*/*", 3}, {"X-Two", 5, "2", 1}};
    ew_request_t r = c_request("DELETE", "http://a.example/d", h, 2);
    ew__request_push(ctx, &r);
    static const char cf[] = "{\"colo\":\"DFW\",\"country\":\"FR\"}";
    duk_push_string(ctx, cf);
    ew__request_set_cf_json(ctx, -2);
    duk_put_global_string(ctx, "req");
    /* nothing read before copying: the copies unpack the original */
    cr_assert_str_eq(run("var c = req.clone(), n = new Request(req); [c.method, c.url, c.headers.get('x-two'), "
                         "n.method, n.url, n.headers.get('accept'), c.cf.country, n.cf.colo].join('|')"),
                     "DELETE|http://a.example/d|2|DELETE|http://a.example/d|*/*|FR|DFW");
    cr_assert_str_eq(run("c.headers.set('x', 'y')"), "THROWN TypeError: Can't modify immutable headers.");
    cr_assert_str_eq(run("n.headers.set('x', 'y'); n.headers.get('x') + req.headers.has('x')"), "yfalse");
    cr_assert_str_eq(run("req.cf.country + (req.cf === req.cf)"), "FRtrue");
}

Test(web_request, packed_request_with_many_and_long_headers)
{
    static ew_header_t h[100];
    static char names[100][80];
    for (int i = 0; i < 100; i++) {
        /* names past the 64-byte fast path too */
        int n = snprintf(names[i], sizeof(names[i]), "X-H%d-%s", i, i % 2 ? "" : "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij");
        h[i].name = names[i];
        h[i].name_len = (size_t) n;
        h[i].value = "v";
        h[i].value_len = 1;
    }
    ew_request_t r = c_request("GET", "http://a.example/", h, 100);
    ew__request_push(ctx, &r);
    duk_put_global_string(ctx, "req");
    cr_assert_str_eq(run("var n = 0; req.headers.forEach(function () { n++; }); n + '|' + "
                         "req.headers.has('x-h98-abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij') + '|' + "
                         "req.headers.has('x-h99-')"),
                     "100|true|true");
}

/* request.headers of a request from C answers get/has from the packed bytes until something needs the list. */
Test(web_request, packed_headers_answer_get_and_has_then_make_the_list)
{
    ew_header_t h[] = {{"Accept", 6, "a", 1}, {"X-Dup", 5, "1", 1}, {"x-dup", 5, " 2 ", 3},
                       {"X-Bad", 5, "a\xFFz", 3}, {"Set-Cookie", 10, "c=1", 3}, {"set-cookie", 10, "d=2", 3}};
    ew_request_t r = c_request("GET", "http://a.example/", h, 6);
    ew__request_push(ctx, &r);
    duk_put_global_string(ctx, "req");
    cr_assert_str_eq(run("var h = req.headers; [h.get('X-DUP'), h.get('accept'), h.get('nope'), h.has('Set-Cookie'),"
                         " h.has('x'), h.get('x-bad') === 'a\\ufffdz', h.get('set-cookie'), h === req.headers].join('|')"),
                     "1, 2|a||true|false|true|c=1, d=2|true");
    cr_assert_str_eq(run("h.get('bad name')"), "THROWN TypeError: Invalid header name: \"bad name\"");
    cr_assert_str_eq(run("h.delete('accept')"), "THROWN TypeError: Can't modify immutable headers.");
    /* a copy made from the packed Headers, then the list itself */
    cr_assert_str_eq(run("var c = new Headers(h); c.set('accept', 'b'); c.get('accept') + '|' + h.get('accept')"),
                     "b|a");
    cr_assert_str_eq(run("var names = []; h.forEach(function (v, k) { names.push(k + '=' + v); }); names.join(';')"),
                     "accept=a;set-cookie=c=1;set-cookie=d=2;x-bad=a\xEF\xBF\xBDz;x-dup=1, 2");
    cr_assert_str_eq(run("h.getSetCookie().join(';') + '|' + h.get('x-dup') + '|' + (h === req.headers)"),
                     "c=1;d=2|1, 2|true");
    cr_assert_str_eq(run("new Request(req).headers.get('x-dup')"), "1, 2");
}
