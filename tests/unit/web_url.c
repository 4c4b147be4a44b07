/* URL and URLSearchParams (lib/web/url.c, url_parse.c, url_idna.c): the C API on tables of cases, then the JS
 * classes on a bare heap. The full web-platform-tests data runs in tests/e2e/test_url_wpt.py. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "web/internal.h"
#include "web/url.h"

static duk_context *ctx;

static void setup(void)
{
    ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__promise_init(ctx);
    ew__web_init(ctx); /* installs URL and URLSearchParams too (ew__url_init) */
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

TestSuite(web_url, .init = setup, .fini = teardown);

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

/* Parses input against base (NULL = none) and returns the href, or "FAIL". */
static const char *parse(const char *input, const char *base)
{
    static char out[1024];
    ew__url_t b, u;
    bool ok;
    if (base != NULL) {
        cr_assert(ew__url_parse(base, strlen(base), NULL, &b), "base %s", base);
        ok = ew__url_parse(input, strlen(input), &b, &u);
        ew__url_dispose(&b);
    } else {
        ok = ew__url_parse(input, strlen(input), NULL, &u);
    }
    if (!ok)
        return "FAIL";
    snprintf(out, sizeof(out), "%.*s", (int) u.len, u.href);
    ew__url_dispose(&u);
    return out;
}

static const struct {
    const char *input, *base, *href;
} parse_cases[] = {
    {"https://EXAMPLE.com", NULL, "https://example.com/"},
    {"  http://a/b/../c/./d?q#f \n", NULL, "http://a/c/d?q#f"},
    {"http://a:80/", NULL, "http://a/"},
    {"https://a:8443", NULL, "https://a:8443/"},
    {"http://a:65536/", NULL, "FAIL"},
    {"http://0x7f.1/", NULL, "http://127.0.0.1/"},
    {"http://4294967295/", NULL, "http://255.255.255.255/"},
    {"http://4294967296/", NULL, "FAIL"},
    {"http://[0:0:0:0:0:0:0:1]/", NULL, "http://[::1]/"},
    {"http://[::ffff:192.168.0.1]/", NULL, "http://[::ffff:c0a8:1]/"},
    {"http://[1::2::3]/", NULL, "FAIL"},
    {"http://Bücher.de/", NULL, "http://xn--bcher-kva.de/"},
    {"http://faß.de/", NULL, "http://xn--fa-hia.de/"},
    {"http://a b/", NULL, "FAIL"},
    {"sc://a b/", NULL, "FAIL"},
    {"sc://%41/ x", NULL, "sc://%41/%20x"},
    {"mailto:User@Example.com", NULL, "mailto:User@Example.com"},
    {"../x?y", "http://h/a/b/c", "http://h/a/x?y"},
    {"//other/p", "https://h/a", "https://other/p"},
    {"#frag", "data:text/plain,hi", "data:text/plain,hi#frag"},
    {"x", "data:text/plain,hi", "FAIL"},
    {"file:///C|/a/../..", NULL, "file:///C:/"},
    {"file://localhost/etc", NULL, "file:///etc"},
    {"http://u:p@h/", NULL, "http://u:p@h/"},
    {"http://@h/", NULL, "http://h/"},
    {"http://a/%zz^`{}", NULL, "http://a/%zz%5E%60%7B%7D"},
    {"http://a/?'\"", NULL, "http://a/?%27%22"},
    {"web+x:/.//p", NULL, "web+x:/.//p"},
    {"", NULL, "FAIL"},
};

Test(web_url, parse_table_matches_the_standard)
{
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++)
        cr_expect_str_eq(parse(parse_cases[i].input, parse_cases[i].base), parse_cases[i].href, "input %s",
                         parse_cases[i].input);
}

Test(web_url, offsets_slice_every_component)
{
    ew__url_t u;
    const char *s = "https://us:pw@h.example:8080/p/q?x=1#frag";
    cr_assert(ew__url_parse(s, strlen(s), NULL, &u));
    static const struct {
        ew__url_part_t part;
        const char *want;
    } parts[] = {{EW__URL_PROTOCOL, "https:"}, {EW__URL_USERNAME, "us"},      {EW__URL_PASSWORD, "pw"},
                 {EW__URL_HOST, "h.example:8080"}, {EW__URL_HOSTNAME, "h.example"}, {EW__URL_PORT, "8080"},
                 {EW__URL_PATHNAME, "/p/q"}, {EW__URL_SEARCH, "?x=1"},   {EW__URL_HASH, "#frag"}};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        uint32_t b, n;
        ew__url_get(&u, parts[i].part, &b, &n);
        cr_expect(n == strlen(parts[i].want) && memcmp(u.href + b, parts[i].want, n) == 0, "part %d", (int) i);
    }
    cr_expect_eq(u.port, 8080);
    cr_expect_eq(u.scheme, EW__SCHEME_HTTPS);
    ew__url_dispose(&u);
}

Test(web_url, setters_follow_state_overrides)
{
    ew__url_t u;
    const char *s = "http://h/p";
    cr_assert(ew__url_parse(s, strlen(s), NULL, &u));
    cr_assert(ew__url_set(&u, EW__URL_PROTOCOL, "https", 5));
    cr_assert(ew__url_set(&u, EW__URL_PORT, "443", 3));    /* default port: stays null */
    cr_assert(ew__url_set(&u, EW__URL_PROTOCOL, "foo", 3)); /* special -> non-special: refused */
    cr_assert(ew__url_set(&u, EW__URL_SEARCH, "a b", 3));
    cr_assert(ew__url_set(&u, EW__URL_HASH, "#x", 2));
    cr_assert(ew__url_set(&u, EW__URL_HOST, "Example.com:81", 14));
    cr_expect_str_eq(u.href, "https://example.com:81/p?a%20b#x");
    ew__url_dispose(&u);
}

Test(web_url, domain_to_ascii_runs_uts46)
{
    static const struct {
        const char *in, *out;
    } cases[] = {{"ẞ.com", "xn--zca.com"}, {"a\xC2\xAD" "b", "ab"}, {"xn--a", "xn--a"}, {"\xE2\x80\x8D.example", NULL},
                 {"يa", NULL},             {"www.lookout.сом", "www.lookout.xn--l1adi"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ew__buf_t b;
        ew__buf_init(&b);
        bool ok = ew__url_domain_to_ascii(cases[i].in, strlen(cases[i].in), &b);
        if (cases[i].out == NULL)
            cr_expect(!ok, "%s should fail", cases[i].in);
        else
            cr_expect(ok && strcmp(b.data, cases[i].out) == 0, "%s -> %s", cases[i].in, ok ? b.data : "FAIL");
        ew__buf_dispose(&b);
    }
}

Test(web_url, origin_of_special_file_and_blob_urls)
{
    static const struct {
        const char *in, *origin;
    } cases[] = {{"https://h:444/x", "https://h:444"}, {"file:///x", "null"}, {"blob:https://a.com/uuid", "https://a.com"},
                 {"blob:data:x", "null"}, {"sc://h/", "null"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ew__url_t u;
        ew__buf_t b;
        ew__buf_init(&b);
        cr_assert(ew__url_parse(cases[i].in, strlen(cases[i].in), NULL, &u));
        cr_assert(ew__url_origin(&u, &b));
        cr_expect_str_eq(b.data, cases[i].origin);
        ew__buf_dispose(&b);
        ew__url_dispose(&u);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The JS classes
 */

Test(web_url, constructor_parses_with_base_and_throws_type_error)
{
    cr_assert_str_eq(run("new URL('../x', 'https://h/a/b').href"), "https://h/x");
    cr_assert_str_eq(run("new URL('nope')"), "THROWN TypeError: Invalid URL string.");
    cr_assert_str_eq(run("new URL('/x', 'nope')"), "THROWN TypeError: Invalid base URL string.");
    cr_assert_str_eq(run("URL('https://h')"), "THROWN TypeError: Class constructor URL cannot be invoked without 'new'");
    cr_assert_str_eq(run("try { new URL() } catch (e) { e instanceof TypeError }"), "true");
}

Test(web_url, getters_return_each_component)
{
    cr_assert_str_eq(run("var u = new URL('https://us:pw@Ex.com:8080/p?q=1#h'); [u.href, u.origin, u.protocol, "
                         "u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash].join('|')"),
                     "https://us:pw@ex.com:8080/p?q=1#h|https://ex.com:8080|https:|us|pw|ex.com:8080|ex.com|8080|/p|?q=1|#h");
    cr_assert_str_eq(run("String(u) === u.href && u.toJSON() === u.href && JSON.stringify({u: u})"),
                     "{\"u\":\"https://us:pw@ex.com:8080/p?q=1#h\"}");
}

Test(web_url, setters_update_href)
{
    cr_assert_str_eq(run("var u = new URL('http://h/'); u.protocol = 'https'; u.hostname = 'EX.org'; u.port = '8443'; "
                         "u.pathname = 'a b'; u.search = 'x=1'; u.hash = 'top'; u.username = 'me'; u.href"),
                     "https://me@ex.org:8443/a%20b?x=1#top");
    cr_assert_str_eq(run("u.href = 'nope'"), "THROWN TypeError: Invalid URL string.");
    cr_assert_str_eq(run("u.href = 'ws://w/'; u.origin"), "ws://w");
}

Test(web_url, static_can_parse_and_parse)
{
    cr_assert_str_eq(run("[URL.canParse('https://h'), URL.canParse('x'), URL.canParse('x', 'https://h/')].join()"),
                     "true,false,true");
    cr_assert_str_eq(run("URL.parse('x') === null && URL.parse('/p', 'https://h').href"), "https://h/p");
    cr_assert_str_eq(run("URL.parse('https://h') instanceof URL"), "true");
}

Test(web_url, strings_cross_as_utf8_with_usv_conversion)
{
    cr_assert_str_eq(run("new URL('https://h/\\ud83d\\ude00?\\u00e9').href"), "https://h/%F0%9F%98%80?%C3%A9");
    cr_assert_str_eq(run("new URL('https://h/\\ud800').pathname"), "/%EF%BF%BD");
    cr_assert_str_eq(run("new URLSearchParams('a=%F0%9F%98%80').get('a') === '\\ud83d\\ude00'"), "true");
}

Test(web_url, search_params_is_live_and_the_same_object)
{
    cr_assert_str_eq(run("var u = new URL('https://h/?a=1&b=2'); var sp = u.searchParams; sp === u.searchParams"), "true");
    cr_assert_str_eq(run("sp.append('c', '3 4'); u.href"), "https://h/?a=1&b=2&c=3+4");
    cr_assert_str_eq(run("u.search = '?z=9'; [sp.get('z'), sp.has('a'), sp.size].join()"), "9,false,1");
    cr_assert_str_eq(run("sp['delete']('z'); u.href"), "https://h/");
    cr_assert_str_eq(run("u.href = 'https://x/?k=v'; sp.get('k')"), "v");
}

Test(web_url, search_params_constructors)
{
    cr_assert_str_eq(run("new URLSearchParams('?a=1&a=2&b').toString()"), "a=1&a=2&b=");
    cr_assert_str_eq(run("new URLSearchParams({x: 'y', 'sp ace': '&'}).toString()"), "x=y&sp+ace=%26");
    cr_assert_str_eq(run("new URLSearchParams([['a', 'b'], ['c', 'd']]).toString()"), "a=b&c=d");
    cr_assert_str_eq(run("new URLSearchParams(new URLSearchParams('q=1')).get('q')"), "1");
    cr_assert_str_eq(run("new URLSearchParams([['a']])"),
                     "THROWN TypeError: Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements");
    cr_assert_str_eq(run("new URLSearchParams().toString() + '|' + new URLSearchParams('').size"), "|0");
}

Test(web_url, search_params_methods)
{
    cr_assert_str_eq(run("var p = new URLSearchParams('a=1&b=2&a=3'); "
                         "[p.get('a'), p.getAll('a').join('+'), p.get('x'), p.has('a', '3'), p.has('a', '9')].join()"),
                     "1,1+3,,true,false");
    cr_assert_str_eq(run("p.set('a', '0'); p.toString()"), "a=0&b=2");
    cr_assert_str_eq(run("p.append('a', '5'); p['delete']('a', '0'); p.toString()"), "b=2&a=5");
    cr_assert_str_eq(run("p.get()"), "THROWN TypeError: Failed to execute 'get' on 'URLSearchParams': 1 argument required, "
                                     "but only 0 present.");
}

Test(web_url, sort_is_stable_by_utf16_code_units)
{
    cr_assert_str_eq(run("var p = new URLSearchParams('z=1&\\ud83d\\ude00=2&\\ufb03=3&a=4&z=5&a=6'); p.sort(); "
                         "var k = []; p.forEach(function (v, n) { k.push(v); }); k.join()"),
                     "4,6,1,5,2,3");
}

Test(web_url, iterators_walk_the_live_list)
{
    cr_assert_str_eq(run("var p = new URLSearchParams('a=1&b=2'); var it = p[Symbol.iterator](); var out = []; "
                         "for (var r = it.next(); !r.done; r = it.next()) { out.push(r.value.join(':')); "
                         "if (out.length === 1) p.append('c', '3'); } out.join()"),
                     "a:1,b:2,c:3");
    cr_assert_str_eq(run("var ks = p.keys(); ks.next().value + ks.next().value + '|' + p.values().next().value"), "ab|1");
    cr_assert_str_eq(run("Object.prototype.toString.call(p.entries())"), "[object URLSearchParams Iterator]");
}

Test(web_url, methods_check_their_receiver)
{
    cr_assert_str_eq(run("Object.getOwnPropertyDescriptor(URL.prototype, 'href').get.call({})"),
                     "THROWN TypeError: Illegal invocation: this is not a URL");
    cr_assert_str_eq(run("URLSearchParams.prototype.get.call({}, 'a')"),
                     "THROWN TypeError: Illegal invocation: this is not a URLSearchParams");
}

/* The fast path of ew__url_parse (canonical http(s) URLs taken as they are) must give exactly what the full
 * parser gives, for every shape near its edges: hosts, IPv4 forms, ports, dot segments, encodings. */
Test(web_url, fast_path_agrees_with_the_full_parser)
{
    static const char *const schemes[] = {"http://", "https://", "HTTP://", "ws://", "http:/"};
    static const char *const hosts[] = {
        "example.com", "a.b-c.d", "127.0.0.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3", "01.2.3.4",
        "1.2.3.4.", "0x7f.1", "example.123", "ex--ample.com", "xn--nxasmq6b.com", "xn--a.com", "a..b", ".a",
        "a.", "Example.com", "ex_ample.com", "localhost", "0x100000000", "1.2.3.4.5", "a.0x", "",
    };
    static const char *const ports[] = {"", ":8787", ":80", ":443", ":0", ":08", ":65535", ":65536", ":", ":1x"};
    static const char *const paths[] = {
        "", "/", "/a/b", "/a/./b", "/a/../b", "/.", "/..", "/a/.", "/a/..", "/.a", "/..a/b", "/a%2e/b",
        "/%2e%2e/x", "/a b", "/a\"b", "/a\\b", "/a`b", "/a{b}", "//x", "/~!$&'()*+,;=:@", "/\x7f", "/a#f",
    };
    static const char *const queries[] = {"", "?", "?a=1&b=2", "?a'b", "?a b", "?a%zz", "?a`{}|", "?a#b", "?\"x"};
    char url[256];
    size_t checked = 0;
    for (size_t s = 0; s < sizeof(schemes) / sizeof(*schemes); s++)
        for (size_t h = 0; h < sizeof(hosts) / sizeof(*hosts); h++)
            for (size_t p = 0; p < sizeof(ports) / sizeof(*ports); p++)
                for (size_t a = 0; a < sizeof(paths) / sizeof(*paths); a++)
                    for (size_t q = 0; q < sizeof(queries) / sizeof(*queries); q++) {
                        snprintf(url, sizeof(url), "%s%s%s%s%s", schemes[s], hosts[h], ports[p], paths[a],
                                 queries[q]);
                        ew__url_t fast, full;
                        bool ok_fast = ew__url_parse(url, strlen(url), NULL, &fast);
                        bool ok_full = ew__url_parse_full(url, strlen(url), NULL, &full);
                        cr_assert_eq(ok_fast, ok_full, "%s", url);
                        if (ok_fast) {
                            cr_assert_str_eq(fast.href, full.href, "%s", url);
                            cr_assert_eq(fast.len, full.len, "%s", url);
                            cr_assert(fast.scheme_end == full.scheme_end && fast.user_start == full.user_start &&
                                          fast.user_end == full.user_end && fast.pass_start == full.pass_start &&
                                          fast.pass_end == full.pass_end && fast.host_start == full.host_start &&
                                          fast.host_end == full.host_end && fast.port == full.port &&
                                          fast.path_start == full.path_start && fast.path_end == full.path_end &&
                                          fast.query_start == full.query_start &&
                                          fast.query_end == full.query_end && fast.hash_start == full.hash_start &&
                                          fast.scheme == full.scheme && fast.flags == full.flags,
                                      "offsets differ for %s", url);
                            ew__url_dispose(&fast);
                            ew__url_dispose(&full);
                        }
                        checked++;
                    }
    cr_assert_gt(checked, 10000);
}
