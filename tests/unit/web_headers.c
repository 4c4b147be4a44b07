/* Headers (lib/web/headers.c): case-insensitive lists, validation, combining, sorted iteration, guards. */
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

TestSuite(web_headers, .init = setup, .fini = teardown);

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

Test(web_headers, constructor_without_new_throws_type_error)
{
    cr_assert_str_eq(run("Headers()"), "THROWN TypeError: Class constructor Headers cannot be invoked without 'new'");
}

Test(web_headers, get_is_case_insensitive_and_null_when_absent)
{
    cr_assert_str_eq(run("var h = new Headers(); h.set('Content-Type', 'text/html'); "
                         "[h.get('content-type'), h.get('CONTENT-TYPE'), h.get('x-missing')].join('|')"),
                     "text/html|text/html|");
    cr_assert_str_eq(run("h.get('nope') === null"), "true");
}

Test(web_headers, append_combines_values_with_comma)
{
    cr_assert_str_eq(run("var h = new Headers(); h.append('Accept', 'a'); h.append('accept', 'b'); h.get('ACCEPT')"),
                     "a, b");
}

Test(web_headers, set_replaces_every_value_of_the_name)
{
    cr_assert_str_eq(run("var h = new Headers([['x', '1'], ['y', '2'], ['X', '3']]); h.set('x', '9'); "
                         "JSON.stringify([h.get('x'), h.get('y')])"),
                     "[\"9\",\"2\"]");
}

Test(web_headers, delete_removes_every_value_and_has_reports_it)
{
    cr_assert_str_eq(run("var h = new Headers({a: '1'}); h.append('A', '2'); h.append('b', '3'); var before = h.has('a'); "
                         "h['delete']('a'); [before, h.has('A'), h.get('a'), h.get('b')].join('|')"),
                     "true|false||3");
}

Test(web_headers, values_are_trimmed_of_http_whitespace)
{
    cr_assert_str_eq(run("var h = new Headers({x: ' \\t v a l \\t '}); '[' + h.get('x') + ']'"), "[v a l]");
}

Test(web_headers, invalid_name_throws_type_error_naming_it)
{
    cr_assert_str_eq(run("new Headers({'bad name': 'x'})"), "THROWN TypeError: Invalid header name: \"bad name\"");
    cr_assert_str_eq(run("new Headers().get('a:b')"), "THROWN TypeError: Invalid header name: \"a:b\"");
    cr_assert_str_eq(run("new Headers().append('', 'x')"), "THROWN TypeError: Invalid header name: \"\"");
}

Test(web_headers, value_with_cr_lf_or_nul_throws_type_error_naming_the_header)
{
    cr_assert_str_eq(run("new Headers().set('X-A', 'a\\r\\nb: c')"),
                     "THROWN TypeError: Invalid header value for \"x-a\".");
    cr_assert_str_eq(run("new Headers().append('x-b', 'a\\u0000')"),
                     "THROWN TypeError: Invalid header value for \"x-b\".");
}

Test(web_headers, init_from_record_array_and_headers)
{
    cr_assert_str_eq(run("JSON.stringify([new Headers({A: '1', b: 2}).get('a'), new Headers([['C', 'x']]).get('c'),"
                         " new Headers(new Headers({d: 'y'})).get('D')])"),
                     "[\"1\",\"x\",\"y\"]");
}

Test(web_headers, copy_from_headers_is_independent)
{
    cr_assert_str_eq(run("var a = new Headers({x: '1'}); var b = new Headers(a); b.set('x', '2'); a.get('x') + b.get('x')"),
                     "12");
}

Test(web_headers, pair_with_wrong_length_throws_type_error)
{
    cr_assert_str_eq(run("new Headers([['a', 'b', 'c']])"),
                     "THROWN TypeError: To initialize a Headers object from a sequence, each inner sequence must "
                     "have exactly two elements.");
    cr_assert(strncmp(run("new Headers('x')"), "THROWN TypeError: Headers init", 30) == 0);
    cr_assert(strncmp(run("new Headers(null)"), "THROWN TypeError", 16) == 0);
}

Test(web_headers, init_from_any_iterable_of_pairs)
{
    cr_assert_str_eq(run("var it = {}; it[Symbol.iterator] = function () { var i = 0; return { next: function () {"
                         " i++; return i > 2 ? {done: true} : {done: false, value: ['k' + i, 'v' + i]}; } }; };"
                         "var h = new Headers(it); h.get('k1') + h.get('k2')"),
                     "v1v2");
}

Test(web_headers, for_each_walks_sorted_names_with_combined_values_and_separate_cookies)
{
    cr_assert_str_eq(run("var h = new Headers([['b', '1'], ['Set-Cookie', 'c=1'], ['a', '2'], ['B', '3'], "
                         "['set-cookie', 'd=2']]); var out = []; var self = {};"
                         "h.forEach(function (v, k, obj) { out.push(k + '=' + v + (this === self) + (obj === h)); }, self);"
                         "out.join(';')"),
                     "a=2truetrue;b=1, 3truetrue;set-cookie=c=1truetrue;set-cookie=d=2truetrue");
}

Test(web_headers, for_each_requires_a_function)
{
    cr_assert(strncmp(run("new Headers().forEach(1)"), "THROWN TypeError", 16) == 0);
}

Test(web_headers, get_set_cookie_returns_each_value)
{
    cr_assert_str_eq(run("var h = new Headers(); h.append('Set-Cookie', 'a=1'); h.append('set-cookie', 'b=2; Path=/');"
                         "JSON.stringify([h.getSetCookie(), h.get('set-cookie'), new Headers().getSetCookie()])"),
                     "[[\"a=1\",\"b=2; Path=/\"],\"a=1, b=2; Path=/\",[]]");
}

Test(web_headers, iterators_follow_the_protocol_and_are_iterable)
{
    cr_assert_str_eq(run("var h = new Headers({b: '2', a: '1'}); var it = h.entries(); var r1 = it.next(), r2 = it.next(),"
                         " r3 = it.next(); JSON.stringify([r1, r2, r3.done, r3.value === undefined, it[Symbol.iterator]() === it])"),
                     "[{\"value\":[\"a\",\"1\"],\"done\":false},{\"value\":[\"b\",\"2\"],\"done\":false},true,true,true]");
    cr_assert_str_eq(run("var k = h.keys(), v = h.values(); [k.next().value, k.next().value, v.next().value, "
                         "v.next().value, v.next().done].join(',')"),
                     "a,b,1,2,true");
    cr_assert_str_eq(run("Headers.prototype[Symbol.iterator] === Headers.prototype.entries"), "true");
    cr_assert_str_eq(run("h[Symbol.iterator]().next().value.join('=')"), "a=1");
    cr_assert_str_eq(run("Object.prototype.toString.call(h.keys())"), "[object Headers Iterator]");
}

Test(web_headers, iterator_is_a_snapshot)
{
    cr_assert_str_eq(run("var h = new Headers({a: '1'}); var it = h.keys(); h.append('b', '2'); h['delete']('a');"
                         "[it.next().value, it.next().done].join(',')"),
                     "a,true");
}

Test(web_headers, many_headers_iterate_in_sorted_order)
{
    cr_assert_str_eq(run("var h = new Headers(); for (var i = 999; i >= 0; i--) h.append('x-' + (1000 + i), String(i));"
                         "var prev = '', ok = true, n = 0; h.forEach(function (v, k) { if (k <= prev) ok = false; prev = k; n++; });"
                         "ok + ' ' + n"),
                     "true 1000");
}

Test(web_headers, emoji_value_round_trips)
{
    cr_assert_str_eq(run("var h = new Headers({x: 'caf\\u00e9 \\ud83d\\ude00'}); h.get('x').length + ' ' + h.get('x')"),
                     "7 caf\xC3\xA9 \xF0\x9F\x98\x80");
}

Test(web_headers, methods_are_non_enumerable_with_name_and_length)
{
    cr_assert_str_eq(run("var p = Headers.prototype, keys = []; for (var k in p) keys.push(k);"
                         "[keys.length, p.append.name, p.append.length, p.get.length, p.forEach.length, Headers.length,"
                         " Headers.name, Object.prototype.toString.call(new Headers())].join(',')"),
                     "0,append,2,1,1,0,Headers,[object Headers]");
}

Test(web_headers, missing_arguments_throw_type_error)
{
    cr_assert_str_eq(run("new Headers().set('x')"),
                     "THROWN TypeError: Failed to execute 'set' on 'Headers': 2 arguments required, but only 1 present.");
    cr_assert_str_eq(run("new Headers().get()"),
                     "THROWN TypeError: Failed to execute 'get' on 'Headers': 1 argument required, but only 0 present.");
    cr_assert_str_eq(run("new Headers({a: '1'}).get('a', 'extra')"), "1");
}

Test(web_headers, methods_refuse_other_receivers)
{
    cr_assert_str_eq(run("Headers.prototype.get.call({}, 'a')"),
                     "THROWN TypeError: Illegal invocation: this is not a Headers object");
}

Test(web_headers, immutable_headers_refuse_changes_but_allow_reads)
{
    cr_assert_str_eq(run("var h = Response.error().headers; var r = []; "
                         "['set', 'append', 'delete'].forEach(function (m) { try { h[m]('x', 'y'); r.push('ok'); }"
                         " catch (e) { r.push(e.name + ': ' + e.message); } }); r.push(h.get('x')); r.join('|')"),
                     "TypeError: Can't modify immutable headers.|TypeError: Can't modify immutable headers.|"
                     "TypeError: Can't modify immutable headers.|");
}
