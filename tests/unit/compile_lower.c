/* The lowering passes (lib/compile/lower*.c): each test is a table of modern scripts and the string their
 * result R converts to, compiled with ew__compile and run in a Duktape heap prepared like an isolate's
 * (microtasks, built-ins, Promise, collections, the helpers of lib/js/helpers.js as the hidden parameter).
 * A thrown error reads "throws <Name>", a compile error "compile error: <message>". Expected values follow the
 * specification (checked against Node 20 where engines agree). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "compile/compile.h"
#include "core/dispatch.h"
#include "core/internal.h"
#include "js_bytecode.h"
#include "web/internal.h"

typedef struct js_case {
    const char *src;
    const char *want;
} js_case_t;

static duk_context *ctx;

static duk_ret_t init_body(duk_context *c, void *udata)
{
    (void) udata;
    ew__microtask_init(c);
    ew__builtins_init(c);
    ew__promise_init(c);
    ew__collections_init(c);
    ew__web_init(c); /* Response, Request, Headers: classes extend them */
    ew__coro_init(c);
    ew__helpers_push_new(c); /* the helper object exactly as an isolate builds it */
    duk_put_global_string(c, "\xff" "helpers"); /* hidden: a key user code cannot spell */
    return 0;
}

static void setup(void)
{
    ctx = duk_create_heap_default();
    cr_assert_not_null(ctx);
    if (duk_safe_call(ctx, init_body, NULL, 0, 1) != DUK_EXEC_SUCCESS)
        cr_assert_fail("init: %s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

/* Compiles src and runs it; returns its R (or the error) as text in got. */
static void run_one(const char *src, char *got, size_t cap, char **js)
{
    ew__compile_opts_t in = {src, strlen(src), "test.js", false};
    ew__compile_out_t out;
    ew__diag_t d;
    ew__diag_init(&d);
    *js = NULL;
    if (!ew__compile(&in, &out, &d)) {
        snprintf(got, cap, "compile error: %s", d.message);
        ew__diag_dispose(&d);
        return;
    }
    ew__diag_dispose(&d);
    *js = strdup(out.text);
    duk_push_undefined(ctx);
    duk_put_global_string(ctx, "R");
    duk_push_lstring(ctx, out.text, out.len);
    duk_push_string(ctx, "test.js");
    ew__compile_out_dispose(&out);
    if (duk_pcompile(ctx, DUK_COMPILE_FUNCTION) != 0) {
        snprintf(got, cap, "duktape: %s", duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
        return;
    }
    duk_push_global_object(ctx);
    duk_get_global_string(ctx, "\xff" "helpers");
    if (duk_pcall_method(ctx, 1) != 0) {
        duk_get_prop_string(ctx, -1, "name");
        snprintf(got, cap, "throws %s", duk_safe_to_string(ctx, -1));
        duk_pop_2(ctx);
        return;
    }
    duk_pop(ctx);
    ew__microtask_drain(ctx); /* promise reactions (classes extending Promise, Response) */
    duk_get_global_string(ctx, "R");
    snprintf(got, cap, "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
}

static void run_cases(const js_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char got[512];
        char *js;
        run_one(cases[i].src, got, sizeof got, &js);
        cr_expect_str_eq(got, cases[i].want, "%s\n--- got: %s\n--- compiled:\n%s", cases[i].src, got, js ? js : "(none)");
        free(js);
    }
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

TestSuite(lower, .init = setup, .fini = teardown);

Test(lower, compile_arrow_keeps_this)
{
    static const js_case_t c[] = {
        {"R = [1, 2, 3].map(x => x * 2).join()", "2,4,6"},
        {"var o = {v: 7, f: function () { return () => this.v; }}; R = o.f()()", "7"},
        {"function f() { return () => arguments[0]; } R = f(5)()", "5"},
        {"function f() { return (() => () => arguments.length)()(); } R = f(1, 2, 3)", "3"},
        {"function F() { this.g = () => new.target === F; } R = new F().g()", "true"},
        {"var f = () => {}; R = f.name + ',' + typeof f.prototype", "f,undefined"},
        {"var f = () => 1; try { new f(); R = 'no'; } catch (e) { R = e.name; }", "TypeError"},
        {"R = (() => ({a: 1}))().a", "1"},
        {"var o = {m() { return [1].map(() => this === o)[0]; }}; R = o.m()", "true"},
        {"R = ((a, b) => a + b)(2, 3)", "5"},
        {"var o = {f: () => 1}; R = o.f.name", "f"},
        {"R = (() => {}).name === ''", "true"},
    };
    RUN(c);
}

Test(lower, compile_templates)
{
    static const js_case_t c[] = {
        {"var x = 1, y = 2; R = `a${x}b${y}`", "a1b2"},
        {"var x = 1, y = 2; R = `${x}${y}`", "12"},
        {"R = `line1\nline2`.length", "11"},
        {"R = `\\u0041${'B'}`", "AB"},
        {"function tag(s, a) { return s.raw[0] + '|' + s[0] + '|' + a + '|' + Object.isFrozen(s); } R = tag`x\\ny${1}`",
         "x\\ny|x\ny|1|true"},
        {"function t(s) { return s; } function g() { return t`a`; } R = g() === g()", "true"},
        {"function t(s) { return s; } R = t`a` === t`a`", "false"},
        {"var o = {v: 3, t(s, x) { return this.v + x; }}; R = o.t`${4}`", "7"},
        {"function t(s) { return s[0] === undefined && s.raw[0] === '\\\\u'; } R = t`\\u`", "true"},
        {"R = `${1 + 1}${'a' + 'b'}${[1, 2]}`", "2ab1,2"},
        /* `${x}b` starts with x + "b": still a string, x converted once, in order */
        {"var n = 1, m = 2; R = `${n}-${m}` + typeof `${n}b`", "1-2string"},
        {"var log = []; var o = {valueOf() { log.push('v'); return 7; }}; R = `${o}:` + log.join()", "7:v"},
        {"var t; try { `${Symbol()}x`; } catch (e) { t = e instanceof TypeError; } R = t", "true"},
    };
    RUN(c);
}

Test(lower, compile_optional_chains)
{
    static const js_case_t c[] = {
        {"var a = null; R = a?.b.c.d", "undefined"},
        {"var a = {b: {c: 5}}; R = a?.b.c", "5"},
        {"var a = undefined; R = a?.b()", "undefined"}, /* (a script's `var a;` keeps the global a of earlier cases) */
        {"var a = {v: 2, b() { return this.v; }}; R = a?.b()", "2"},
        {"var a = {v: 3, b() { return this.v; }}; R = a.b?.()", "3"},
        {"var a = {}; R = a.b?.()", "undefined"},
        {"var n = 0, a = null; a?.[n++]; R = n", "0"},
        {"var a = {b: 1}; R = delete a?.b && !('b' in a)", "true"},
        {"var a = null; R = delete a?.b", "true"},
        {"var f = null; R = f?.()", "undefined"},
        {"var o = {a: {b() { return this === o.a; }}}; R = o?.a.b()", "true"},
        {"var c = 0, o = {get a() { c++; return {b: 1}; }}; o.a?.b; R = c", "1"},
    };
    RUN(c);
}

Test(lower, compile_nullish_and_logical_assignment)
{
    static const js_case_t c[] = {
        {"R = [null ?? 1, undefined ?? 2, 0 ?? 3, '' ?? 4, false ?? 5].join()", "1,2,0,,false"},
        {"var x = null; x ?\?= 5; R = x", "5"},
        {"var x = 0; x ?\?= 5; R = x", "0"},
        {"var x = 0; x ||= 5; R = x", "5"},
        {"var x = 1; x &&= 7; R = x", "7"},
        {"var n = 0, o = {get p() { n++; return 1; }, set p(v) { n += 10; }}; o.p ||= 2; R = n", "1"},
        {"var n = 0, o = {}; function k() { n++; return 'q'; } o[k()] ?\?= 4; R = n + ':' + o.q", "1:4"},
        {"var s = 0, o = {set p(v) { s++; }, get p() { return 1; }}; o.p &&= 3; R = s", "1"},
        {"R = 2 ** 10", "1024"},
        {"var x = 3; x **= 2; R = x", "9"},
        {"var c = 0; function f() { c++; return null; } f() ?? 1; R = c", "1"},
    };
    RUN(c);
}

Test(lower, compile_misc_syntax)
{
    static const js_case_t c[] = {
        {"try { throw 1; } catch { R = 'caught'; }", "caught"},
        {"var b = {x: 1, y: 2}; var o = {...b, z: 3}; R = JSON.stringify(o)", "{\"x\":1,\"y\":2,\"z\":3}"},
        {"var o = {a: 0, ...{a: 1}, ...null, ...undefined}; R = o.a", "1"},
        {"var p = Object.create({inh: 1}); p.own = 2; R = JSON.stringify({...p})", "{\"own\":2}"},
        {"var s = Symbol('s'); var o = {...{[s]: 1}}; R = o[s]", "1"},
        {"var o = {...{}, get g() { return 5; }}; R = typeof Object.getOwnPropertyDescriptor(o, 'g').get", "function"},
        {"R = 1_000_000 + 0b1_0", "1000002"},
        {"var k = 'x'; R = {[k + 1]: 2}.x1", "2"},
        {"var a = 1; R = {a}.a", "1"},
        {"R = {m() { return 4; }}.m()", "4"},
        {"function f(a, b,) { return a + b; } R = f(1, 2,)", "3"},
        {"var n = 0; var o = {get x() { return ++n; }}; var c = {...o}; c.x; R = n", "1"},
    };
    RUN(c);
}

Test(lower, compile_spread)
{
    static const js_case_t c[] = {
        {"function f(a, b, c) { return a + b + c; } R = f(...[1, 2, 3])", "6"},
        {"function f() { return arguments.length; } R = f(1, ...[2, 3], 4)", "4"},
        {"var o = {v: 1, m(a) { return this.v + a; }}; R = o.m(...[2])", "3"},
        {"R = [0, ...[1, 2], 3].join()", "0,1,2,3"},
        {"R = [...'ab'].join()", "a,b"},
        {"var m = new Map([[1, 2]]); R = [...m.keys()].join()", "1"},
        {"function P(a, b) { this.s = a + b; } R = new P(...[1, 2]).s", "3"},
        {"R = new Date(...[2020, 0, 2]).getDate()", "2"},
        {"var a = [1, 2]; var b = [...a]; b.push(3); R = a.length", "2"},
        {"R = [, ...[1]].length + ':' + (0 in [, ...[1]])", "2:false"},
        {"var it = {[Symbol.iterator]() { var i = 0; return {next() { return {done: i >= 2, value: i++}; }}; }}; R = [...it].join()", "0,1"},
        {"var order = []; function g(x) { order.push(x); return [x]; } [g(1), ...g(2), g(3)]; R = order.join()", "1,2,3"},
        {"try { [...1]; } catch (e) { R = e.name; }", "TypeError"},
        {"var o = {a: {f() { return this === o.a; }}}; R = o.a.f(...[])", "true"},
        /* the C fast paths (lib/core/builtin_iterfast.c) and their fallbacks */
        {"function f() { return [...arguments].join(); } R = f(1, 2)", "1,2"},
        {"var a = [1, , 3]; R = [...a].length + ':' + (1 in [...a])", "3:true"},
        {"var a = [1, 2]; a[Symbol.iterator] = function () { return [7][Symbol.iterator](); }; R = [...a, ...a].join()",
         "7,7"},
        {"var b = {a: 1, d: 0}; var d = 2; var o = {...b, d, e: 3}; R = Object.keys(o).join() + ':' + o.d", "a,d,e:2"},
        {"Object.defineProperty(Object.prototype, 'q', {set(v) { R = 'setter'; }, configurable: true});"
         " var o = {...{}, q: 1}; delete Object.prototype.q; R = o.q", "1"},
    };
    RUN(c);
}

Test(lower, compile_reports_unsupported)
{
    static const js_case_t c[] = {
        /* lowered by lower_async.c since (tests/unit/compile_async.c) */
        {"async function f() { return 1; } f().then(function (v) { R = v; })", "1"},
        {"function* g() { yield 2; } R = g().next().value", "2"},
        {"var x = ;", "compile error: Unexpected token ';'"},
    };
    RUN(c);
}

Test(lower, compile_object_literals_duktape_cannot_parse)
{
    static const js_case_t c[] = {
        {"var o = {[Symbol.iterator]() { return 1; }}; R = o[Symbol.iterator]()", "1"},
        {"var k = 'a'; var o = {get [k]() { return 2; }, set [k](v) { this.v = v; }}; o.a = 5; R = o.a + o.v", "7"},
        {"var o = {__proto__: Array.prototype}; R = o instanceof Array", "true"},
        {"var get = 1, set = 2; R = {get, set}.set", "2"},
        {"R = {new() { return 3; }}.new() + {get() { return 1; }}.get()", "4"},
        {"var n = 0; var o = {a: n++, ['b' + n++]() { return n; }, c: n++}; R = Object.keys(o).join()", "a,b1,c"},
        {"var o = {private() { return 1; }, get() { return 2; }, static() { return 3; }}; R = o.private() + o.get() + o.static()", "6"},
        {"var k = 0; for (true ? 'x' in {x: 1} : 0; k < 1; k++); R = k", "1"},
    };
    RUN(c);
}

/* Identifier characters ES2015 accepts and Duktape's lexer does not (Other_ID_Start, astral planes): keys and
 * members become strings, bindings are renamed. */
Test(lower, compile_identifiers_duktape_cannot_lex)
{
    static const js_case_t c[] = {
        {"var \\u2118 = 1; var o = {\\u2118: 2, \\u2118x() { return 3; }}; R = \\u2118 + o.\\u2118 + o.\\u2118x()", "6"},
        {"var o = {}; o.\\u{10000} = 'astral'; R = o['\\u{10000}'] + Object.keys(o)[0].length", "astral2"},
        {"let \\u2118 = 4; const p = {℘}; R = p['\\u2118'] + (function (\\u2118) { return \\u2118; })(1)", "5"},
        {"class C { static \\u2118() { return 'm'; } } R = C.\\u2118()", "m"},
    };
    RUN(c);
}

/* TDZ: ReferenceError for let/const/class reads and writes before the declaration ran. */
Test(lower, compile_tdz)
{
    static const js_case_t c[] = {
        {"try { tx; R = 'no'; } catch (e) { R = e.name; } let tx = 1;", "ReferenceError"},
        {"try { typeof ty; R = 'no'; } catch (e) { R = e.name; } const ty = 1;", "ReferenceError"},
        {"try { let tz = tz + 1; R = 'no'; } catch (e) { R = e.name; }", "ReferenceError"},
        {"try { tw = 2; R = 'no'; } catch (e) { R = e.name; } let tw;", "ReferenceError"},
        /* closures that run before the declaration: checked at run time, fine afterwards */
        {"function tf() { return tv; } var r = []; try { tf(); } catch (e) { r.push(e.message); } const tv = 2; r.push(tf()); R = r.join();",
         "Cannot access \"tv\" before initialization,2"},
        {"{ const g = () => { tq = 5; }; try { g(); } catch (e) { R = e.name; } let tq; g(); R += tq; }", "ReferenceError5"},
        {"try { new TC(); } catch (e) { R = e.name; } class TC {} R += typeof new TC();", "ReferenceErrorobject"},
        /* per block entry: a loop body starts uninitialised each time */
        {"var out = []; for (var i = 0; i < 2; i++) { function h() { return tl; } try { h(); } catch (e) { out.push('tdz'); } let tl = i; out.push(h()); } R = out.join();",
         "tdz,0,tdz,1"},
        /* nothing runs before the declaration: no check needed, and none is made */
        {"const tk = 3; function tg() { return tk; } R = tg();", "3"},
    };
    RUN(c);
}

/* Function name inference (NamedEvaluation) for anonymous function expressions. */
Test(lower, compile_function_names)
{
    static const js_case_t c[] = {
        {"var a = function () {}; let b = function* () {}; const o = {c: function () {}, d: async function () {}};"
         " R = [a.name, b.name, o.c.name, o.d.name].join()", "a,b,c,d"},
        {"var [f = function () {}] = []; var {g = function () {}} = {}; function h(p = function () {}) { return p.name; }"
         " R = f.name + g.name + h()", "fgp"},
        {"var x; x = function () {}; var y = null; y ?\?= function () {}; R = x.name + y.name", "xy"},
        /* the body names the variable: naming the function would rebind it inside, so it stays anonymous */
        {"var e = function () { return e; }; R = JSON.stringify(e.name) + (e() === e)", "\"\"true"},
        /* reserved words and parenthesised targets do not name */
        {"var o = {return: function () { return 1; }}; var z; (z) = function () {}; R = o.return() + JSON.stringify(z.name)", "1\"\""},
        {"var n = function named() {}; R = n.name", "named"},
    };
    RUN(c);
}

/* Regular expressions: s and u flags translated, named groups numbered with .groups on exec results. */
Test(lower, compile_regex)
{
    static const js_case_t c[] = {
        {"R = /a.b/s.test('a\\nb') + ',' + /a.b/.test('a\\nb') + ',' + /[.]/s.test('x')", "true,false,false"},
        {"var m = /(?<y>\\d+)-(?:x)?(?<m>\\d+)\\k<y>/.exec('x12-312'); R = m.groups.y + '/' + m.groups.m + '/' + m[0]", "12/3/12-312"},
        {"R = /^\\u{1F600}$/u.test('\\u{1F600}') + ',' + /^[\\u{41}-\\u{5A}]+$/u.test('QZ')", "true,true"},
        {"R = /(?<a>x)|y/.exec('y').groups.a", "undefined"},
        {"R = 'x'.split(/\\x/).length + ',' + /\\x41\\u0042/.test('AB') + ',' + /a\\u/.test('au')", "2,true,true"},
        {"var o = {eval() { return 1; }, arguments() { return 2; }}; R = o.eval() + o.arguments()", "3"},
        {"var m = '2024-05'.match(/(?<y>\\d{4})-(?<m>\\d\\d)/); R = m.groups.y + m.groups.m + ',' +"
         " '2024-05 2023-01'.replace(/(?<y>\\d{4})-(?<m>\\d\\d)/g, '$<m>/$<y>') + ',' +"
         " 'a1b2'.replace(/(?<d>\\d)/g, function (all, d, pos, str, groups) { return '[' + groups.d + pos + ']'; }) + ',' +"
         " 'abc'.replace(/b/, '$&$&')", "202405,05/2024 01/2023,a[11]b[23],abbc"},
    };
    RUN(c);
}

Test(lower, compile_regex_rejects_what_duktape_cannot_run)
{
    static const js_case_t c[] = {
        {"var r = /(?=(a))*b/d;", "compile error: with the d flag, a group inside a quantified lookahead has no exact index"},
        {"var r = /(a)\\2/d;", "compile error: with the d flag, the octal escape \\2 (the pattern has 1 groups) would become a backreference; write it as \\xHH"},
        {"var r = /a/y; R = r.sticky + r.flags", "truey"},
        {"var r = /[\\u{1F600}]/u;", "compile error: a code point outside the BMP in a character class with the u flag cannot be translated for Duktape's regex engine"},
    };
    RUN(c);
}

/* A script's top-level var and function declarations are properties of the global object. */
Test(lower, compile_script_globals)
{
    static const js_case_t c[] = {
        {"var gx = 1; function gf() { return 2; } R = globalThis.gx + globalThis.gf() + typeof Object.getOwnPropertyDescriptor(globalThis, 'gf').value", "3function"},
        {"var gd = Object.getOwnPropertyDescriptor(globalThis, 'gy'); var gy = 1; R = gd.configurable + ',' + gd.enumerable + ',' + (delete globalThis.gy)", "false,true,false"},
        {"R = typeof gh; function gh() {}", "function"},
        {"for (var gi = 0; gi < 2; gi++) {} for (var gk in {a: 1}); var {gp, q: [gr]} = {gp: 1, q: [2]}; R = '' + globalThis.gi + globalThis.gk + globalThis.gp + globalThis.gr", "2a12"},
        {"'use strict'; var gs; R = ('gs' in globalThis) + typeof gz; function* gz() {}", "truefunction"},
        {"{ let gl = 1; var gv = gl; } R = typeof globalThis.gl + globalThis.gv", "undefined1"},
        {"function gargs() { return [...arguments].join(); } R = gargs(1, 2)", "1,2"},
    };
    RUN(c);
}

Test(lower, compile_params)
{
    static const js_case_t c[] = {
        {"function f(a, b = 2) { return a + b; } R = f(1) + f(1, 3) + f(1, undefined)", "10"},
        {"function f(a = 1) { return a; } R = f(null)", "null"},
        {"function f(a, b = a * 2) { return b; } R = f(4)", "8"},
        {"function f(...r) { return r.length + ':' + Array.isArray(r); } R = f(1, 2, 3)", "3:true"},
        {"function f(a, ...r) { return r.join(); } R = f(1, 2, 3)", "2,3"},
        {"var f = (...a) => a.length; R = f(1, 2)", "2"},
        {"function f({a, b}, [c]) { return a + b + c; } R = f({a: 1, b: 2}, [3])", "6"},
        {"function f({a} = {a: 5}) { return a; } R = f() + f({a: 1})", "6"},
        {"var n = 0; function f(a = n++) { return a; } f(); f(1); f(); R = n", "2"},
        {"function f(a = () => this) { return a(); } var o = {f}; R = o.f() === o", "true"},
        {"var f = (a, {b = 2} = {}) => a + b; R = f(1)", "3"},
        /* length counts the parameters before the first default or rest; later ones still bind */
        {"function f(a, b = 1, c, {d} = {d: 4}, [e] = [5], ...r) { return [a, b, c, d, e, r.length].join(); }"
         " R = f(1, undefined, 3, undefined, undefined, 6, 7) + ' ' + f.length", "1,1,3,4,5,2 1"},
        {"R = ((a, b = 2, c) => a + b + c).length + ',' + (function ([a], {b}, c = 1) {}).length", "1,2"},
        /* sloppy functions with non-simple parameters have unmapped arguments */
        {"function f(a, ...rest) { arguments[0] = 9; a = 2; return a + arguments[0]; } R = f(3, 4)", "11"},
    };
    RUN(c);
}

Test(lower, compile_destructuring)
{
    static const js_case_t c[] = {
        {"var {a, b: {c}} = {a: 1, b: {c: 2}}; R = a + c", "3"},
        {"var [x, , y = 5] = [1, 2]; R = x + y", "6"},
        {"var [x = 1] = [null]; R = x", "null"},
        {"var {a = 1} = {a: undefined}; R = a", "1"},
        {"var {a, ...rest} = {a: 1, b: 2, c: 3}; R = JSON.stringify(rest)", "{\"b\":2,\"c\":3}"},
        {"var [a, ...rest] = 'xyz'; R = a + rest.join('')", "xyz"},
        {"var a = 1, b = 2; [a, b] = [b, a]; R = a + ',' + b", "2,1"},
        {"var o = {}; ({x: o.p, y: o['q']} = {x: 1, y: 2}); R = o.p + o.q", "3"},
        {"var n = 0, src = {get a() { n++; return 1; }}; var {a} = src; R = n", "1"},
        {"try { var {} = null; } catch (e) { R = e.name; }", "TypeError"},
        {"try { var {a} = undefined; } catch (e) { R = e.name; }", "TypeError"},
        {"var k = 'z'; var {[k]: v} = {z: 9}; R = v", "9"},
        {"var closed = 0; var it = {[Symbol.iterator]() { var i = 0; return {next() { return {value: i++, done: false}; }, return() { closed++; return {}; }}; }};"
         " var [a, b] = it; R = a + b + ':' + closed", "1:1"},
        {"var order = []; var {a = order.push('a'), b = order.push('b')} = {}; R = order.join()", "a,b"},
        {"var r; R = (r = [1, 2], [a1, a2] = r) === r", "true"},
        {"try { throw {m: 3}; } catch ({m}) { R = m; }", "3"},
        /* array patterns in loops call $ew.arr through a local copy of the function */
        {"var s = ''; for (var i = 0; i < 2; i++) { var [a, b] = [i, i * 2]; s += a + b; } R = s", "03"},
        {"function* g() { for (const p of [[1, 2], [3, 4]]) { const [a, b] = p; yield a + b; } } R = [...g()].join()",
         "3,7"},
        {"async function f() { let s = 0; for (const p of [[1, 2], 'ab']) { const [a, b] = await p; s += a + b; }"
         " return s; } f().then(v => { R = v; })", "3ab"},
        {"var s = 0, q = [[1, 2], [3, 4]]; outer: while (q.length) { var [x, y] = q.shift(); if (x > 2) continue outer;"
         " s += x * y; } R = s", "2"},
        {"var fs = []; for (let [a, b] of [[1, 2], [3, 4]]) fs.push(() => a + b); R = fs.map(f => f()).join()", "3,7"},
        {"var s = ''; for (var [k, v] in {ab: 1}) s += k + v; R = s", "ab"},
        {"var {0: z, length} = 'hi'; R = z + length", "h2"},
        {"var {1: one, ...others} = ['a', 'b', 'c']; R = one + Object.keys(others).join()", "b0,2"},
    };
    RUN(c);
}

Test(lower, compile_block_scoping)
{
    static const js_case_t c[] = {
        {"let x = 1; { let x = 2; } R = x", "1"},
        {"const a = 5; R = a", "5"},
        {"var x = 'g'; function f() { { let x = 'b'; } return x; } R = f()", "g"},
        {"var fs = []; for (let i = 0; i < 3; i++) fs.push(() => i); R = fs.map(f => f()).join()", "0,1,2"},
        {"var fs = []; for (let i = 0; i < 3; i++) { fs.push(() => i); i++; } R = fs.map(f => f()).join()", "1,3"},
        {"var fs = []; for (const k in {a: 1, b: 2}) fs.push(() => k); R = fs.map(f => f()).join()", "a,b"},
        {"var fs = []; for (var i = 0; i < 3; i++) { let j = i; fs.push(() => j); } R = fs.map(f => f()).join()", "0,1,2"},
        {"function f() { for (let i = 0; i < 5; i++) { if (i == 2) return i; (() => i)(); } } R = f()", "2"},
        {"var s = 0; for (let i = 0; i < 5; i++) { if (i == 3) break; s += i; (() => i)(); } R = s", "3"},
        {"var s = 0; for (let i = 0; i < 5; i++) { if (i % 2) continue; s += i; (() => i)(); } R = s", "6"},
        {"var s = 0; outer: for (var j = 0; j < 3; j++) { for (let i = 0; i < 3; i++) { (() => i)(); if (i == 1) continue outer; if (j == 2) break outer; s++; } } R = s", "2"},
        {"var s = []; for (let i = 0; i < 2; i++) { var v = i; s.push(() => i); } R = v", "1"},
        {"try { const c = 1; c = 2; R = 'no'; } catch (e) { R = e.name; }", "TypeError"},
        {"try { const c = 1; c++; } catch (e) { R = e.name; }", "TypeError"},
        {"for (let i = 0; i < 2; i++) { let x; if (i == 0) x = 5; R = x; }", "undefined"},
        {"{ function g() { return 1; } } R = g()", "1"},
        {"R = (function () { 'use strict'; var r = typeof h; { function h() {} } return r; })()", "undefined"},
        {"let a = 1; { let a = 2; { let a = 3; R = a; } }", "3"},
        {"var o = {x: 0}; { let x = 1; o = {x}; } R = o.x", "1"},
        {"var x = 10; { let x = 1; var f = function () { return x; }; } R = f() + x", "11"},
        {"var fs = []; let i = 0; while (i < 2) { let j = i++; fs.push(() => j); } R = fs.map(f => f()).join()", "0,1"},
        {"var fs = []; for (let [a, b] of [[1, 2], [3, 4]]) fs.push(() => a + b); R = fs.map(f => f()).join()", "3,7"},
        {"function f() { var o = {v: 1}; for (let i = 0; i < 1; i++) { (() => i)(); return this === o; } } var o2 = {f}; R = o2.f()", "false"},
        {"var o = {f() { for (let i = 0; i < 1; i++) { (() => i)(); return this; } }}; R = o.f() === o", "true"},
        {"function f() { for (let i = 0; i < 1; i++) { (() => i)(); return arguments[0]; } } R = f(7)", "7"},
    };
    RUN(c);
}

Test(lower, compile_for_of)
{
    static const js_case_t c[] = {
        {"var s = 0; for (var x of [1, 2, 3]) s += x; R = s", "6"},
        {"var s = ''; for (const ch of 'ab') s += ch; R = s", "ab"},
        {"var s = 0; for (const [k, v] of new Map([[1, 2], [3, 4]])) s += k * v; R = s", "14"},
        {"var a = [1, 2]; var n = 0; for (var x of a) { if (n++ < 2) a.push(x); } R = a.join()", "1,2,1,2"},
        {"var closed = 0; function It() { var i = 0; return {[Symbol.iterator]() { return this; },"
         " next() { return {value: i++, done: false}; }, return() { closed++; return {}; }}; }"
         " for (var x of It()) { if (x == 2) break; } R = closed", "1"},
        {"var closed = 0; var it = {[Symbol.iterator]() { return this; }, next() { return {value: 1, done: false}; },"
         " return() { closed++; return {}; }}; try { for (var x of it) throw 1; } catch (e) {} R = closed", "1"},
        {"var closed = 0; var it = {[Symbol.iterator]() { return this; }, next() { return {value: 1, done: false}; },"
         " return() { closed++; return {}; }}; function f() { for (var x of it) return 5; } R = f() + ':' + closed", "5:1"},
        {"var closed = 0; var it = {[Symbol.iterator]() { return this; }, next() { throw 7; },"
         " return() { closed++; return {}; }}; try { for (var x of it); } catch (e) { R = e + ':' + closed; }", "7:0"},
        {"var s = 0; outer: for (var a of [1, 2]) { for (var b of [1, 2]) { if (b == 2) continue outer; s += a * b; } } R = s", "3"},
        {"var o = {}; for (o.p of [4]); R = o.p", "4"},
        {"var s = 0; for ({a: s} of [{a: 9}]); R = s", "9"},
        {"var fs = []; for (let x of [1, 2]) fs.push(() => x); R = fs.map(f => f()).join()", "1,2"},
        {"var saved = Array.prototype[Symbol.iterator]; Array.prototype[Symbol.iterator] = function () {"
         " var d = false; return {next() { var r = {value: 'x', done: d}; d = true; return r; }}; };"
         " var s = ''; for (var v of [1, 2]) s += v; Array.prototype[Symbol.iterator] = saved; R = s", "x"},
        {"try { for (var x of 5); } catch (e) { R = e.name; }", "TypeError"},
        {"var closed = 0; var it = {[Symbol.iterator]() { return this; }, next() { return {done: false, get value() {"
         " throw 7; }}; }, return() { closed++; return {}; }}; try { for (var [x] of it); } catch (e) { R = e + ':' + closed; }",
         "7:0"},
        {"var IP = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())); var n = 0;"
         " IP.return = function () { n++; return {}; }; for (var x of [1, 2]) break; var [y] = [3, 4];"
         " delete IP.return; R = n + ':' + y", "2:3"},
        {"var AIP = Object.getPrototypeOf([][Symbol.iterator]()), next = AIP.next, n = 0;"
         " AIP.next = function () { n++; return next.call(this); }; for (var x of [1, 2]); var [y] = [3];"
         " AIP.next = next; R = n + ':' + y", "4:3"},
        {"var s = 0; for (var x of new Set([1, 2, 2])) s += x; R = s", "3"},
    };
    RUN(c);
}

Test(lower, compile_classes_basic)
{
    static const js_case_t c[] = {
        {"class A { constructor(x) { this.x = x; } get() { return this.x; } } R = new A(3).get()", "3"},
        {"class A { m() {} } R = Object.keys(A.prototype).length + ':' + typeof A.prototype.m", "0:function"},
        {"class A { static s() { return 1; } } R = A.s() + ':' + Object.keys(A).length", "1:0"},
        {"class A {} try { A(); R = 'no'; } catch (e) { R = e.name + ':' + e.message; }",
         "TypeError:Class constructor A cannot be invoked without 'new'"},
        {"var A = class {}; R = A.name", "A"},
        {"var A = class B { m() { return B; } }; R = A.name + ':' + (new A().m() === A)", "B:true"},
        {"R = (class {}).name === '' && Object.prototype.hasOwnProperty.call(class {}, 'name')", "true"},
        {"class A { get v() { return 5; } set v(x) { this.w = x; } } var a = new A(); a.v = 2; R = a.v + a.w", "7"},
        {"var n = 0; var k = () => 'k' + n++; class A { [k()]() { return 1; } static [k()]() { return 2; } }"
         " R = A.prototype.k0() + A.k1() + ':' + n", "3:2"},
        {"class A { m() { 'x'; return this; } } R = A.prototype.m.call(undefined)", "undefined"},
        {"class A { constructor() { R = new.target === A; } } new A()", "true"},
        {"class A {} R = Object.getOwnPropertyDescriptor(A, 'prototype').writable", "false"},
        {"class A { constructor(a, b) {} } R = A.length", "2"},
        {"class A {} R = typeof A + ':' + (new A() instanceof A)", "function:true"},
        {"class C { static [Symbol.hasInstance](x) { return x === 1; } } R = 1 instanceof C", "true"},
        {"try { class A { m() { A = 1; } } new A().m(); R = 'no'; } catch (e) { R = e.name; }", "TypeError"},
        {"class A {} var B = A; A = 1; R = typeof B", "function"},
        {"class A { constructor() { return {o: 1}; } } R = new A().o", "1"},
        {"class A { static name() { return 'n'; } } R = A.name()", "n"},
        {"var o = {K: class {}}; R = o.K.name", "K"},
        {"var s = Symbol('d'); class A { m() {} 'q r'() {} get g() {} static [s]() {} } var d = Object.getOwnPropertyDescriptor(A.prototype, 'g');"
         " R = [A.prototype.m.name, A.prototype['q r'].name, d.get.name, A[s].name].join()", "m,q r,get g,[d]"},
        {"class A { static f = function () {}; #g = () => 1; h() { return this.#g.name; } } R = A.f.name + new A().h()", "f#g"},
        {"class A { #m() {} n() { return this.#m.name; } } R = new A().n()", "#m"},
    };
    RUN(c);
}

Test(lower, compile_classes_extends)
{
    static const js_case_t c[] = {
        {"class A { constructor(x) { this.x = x; } m() { return 'A' + this.x; } }"
         " class B extends A { constructor() { super(2); } m() { return 'B' + super.m(); } } R = new B().m()", "BA2"},
        {"class A { constructor() { this.t = new.target; } } class B extends A {} var b = new B();"
         " R = (b.t === B) + ':' + (b instanceof A) + ':' + (b instanceof B)", "true:true:true"},
        {"class A {} class B extends A {} class C extends B { constructor() { super(); R = new.target === C; } } new C()", "true"},
        {"class A { static s() { return 'as'; } } class B extends A { static s() { return super.s() + 'b'; } } R = B.s()", "asb"},
        {"class A {} class B extends A { constructor() { this.x = 1; super(); } } try { new B(); } catch (e) { R = e.name; }",
         "ReferenceError"},
        {"class A {} class B extends A { constructor() { super(); super(); } } try { new B(); } catch (e) { R = e.name; }",
         "ReferenceError"},
        {"class A {} class B extends A { constructor() { } } try { new B(); } catch (e) { R = e.name; }", "ReferenceError"},
        {"class A {} class B extends A { constructor() { return {z: 1}; } } R = new B().z", "1"},
        {"class A {} class B extends A { constructor() { super(); return 1; } } try { new B(); } catch (e) { R = e.name; }",
         "TypeError"},
        {"class A {} class B extends A { constructor() { super(); return undefined; } } R = new B() instanceof B", "true"},
        {"class B extends null { constructor() { return Object.create(B.prototype); } } R = Object.getPrototypeOf(B.prototype)", "null"},
        {"class B extends null {} try { new B(); } catch (e) { R = e.name; }", "TypeError"},
        {"try { class B extends 5 {} } catch (e) { R = e.name; }", "TypeError"},
        {"function P(a) { this.a = a; } P.prototype.g = function () { return this.a; }; class C extends P {} R = new C(4).g()", "4"},
        {"class A { get x() { return this._x; } set x(v) { this._x = v * 2; } } class B extends A { m() { super.x = 3; return super.x; } } R = new B().m()", "6"},
        {"class A {} A.prototype.v = 1; class B extends A { m() { super.v += 2; return this.v + ':' + A.prototype.v; } } R = new B().m()", "3:1"},
        {"class A { m() { return 1; } } class B extends A { m() { return (() => super.m() + 1)(); } } R = new B().m()", "2"},
        {"class A { constructor(...a) { this.n = a.length; } } class B extends A {} R = new B(1, 2, 3).n", "3"},
        {"class A {} class B extends A { constructor() { var f = () => super(); f(); R = this instanceof B; } } new B()", "true"},
        {"class A { constructor(x) { this.x = x; } } class B extends A { constructor(...a) { super(...a); } } R = new B(7).x", "7"},
        {"var B = class extends Object {}; R = B.name + (new B() instanceof Object)", "Btrue"},
    };
    RUN(c);
}

Test(lower, compile_classes_builtins)
{
    static const js_case_t c[] = {
        {"class E extends Error { constructor(m) { super(m); this.name = 'E'; } } var e = new E('boom');"
         " R = [e.message, e.name, e instanceof E, e instanceof Error, typeof e.stack, String(e)].join()",
         "boom,E,true,true,string,E: boom"},
        {"class E extends Error {} var e = new E('m'); R = e.message + (e instanceof E) + Object.prototype.toString.call(e)",
         "mtrue[object Error]"},
        {"class L extends Array { sum() { return this.reduce((a, b) => a + b, 0); } } var l = new L(); l.push(1, 2); l[5] = 3;"
         " R = l.length + ':' + l.sum() + ':' + Array.isArray(l) + ':' + (l instanceof L)", "6:6:true:true"},
        {"class M extends Map { getOr(k, d) { return this.has(k) ? this.get(k) : d; } } var m = new M([[1, 'a']]);"
         " R = m.getOr(1) + m.getOr(2, 'd') + Map.prototype.get.call(m, 1) + m.size", "ada1"},
        {"class S extends Set {} var s = new S([1, 1, 2]); R = s.size + ':' + (s instanceof S)", "2:true"},
        {"class P extends Promise {} var p = new P(r => r(1)); var q = p.then(v => { R += ':' + v; });"
         " R = (q instanceof P) + ':' + (p instanceof Promise) + ':' + (P.resolve(2) instanceof P)", "true:true:true:1"},
        {"class X extends Response { constructor(b) { super(b); } } new X('hi').text().then(t => { R = t; })", "hi"},
        {"function F() { return new.target; } R = (new F() === F) + ':' + (F() === undefined)", "true:true"},
        {"class X extends Response { constructor(b) { super(b); } } var x = new X('hi'); R = (x instanceof Response) + ':' + (x instanceof X)",
         "true:true"},
        {"class H extends Headers { constructor() { super({a: '1'}); } } R = new H().get('a')", "1"},
        {"class Q extends Request { } R = new Q('https://x.test/a').url", "https://x.test/a"},
    };
    RUN(c);
}

Test(lower, compile_classes_fields)
{
    static const js_case_t c[] = {
        {"class A { x = 1; y = this.x + 1; } var a = new A(); R = a.x + a.y + ':' + Object.keys(a).join()", "3:x,y"},
        {"var order = []; class A { constructor() { order.push('a'); } } class B extends A { f = order.push('f');"
         " constructor() { order.push('b0'); super(); order.push('b1'); } } new B(); R = order.join()", "b0,a,f,b1"},
        {"class A { x = 1; constructor() { R = this.x; } } new A()", "1"},
        {"class A { static s = 1; static t = A.s + 1; static u = this.t + 1; } R = A.s + A.t + A.u", "6"},
        {"var n = 0; class A { [n++] = n; [n++] = n; } var a = new A(); R = a[0] + ':' + a[1] + ':' + n", "2:2:2"},
        {"class A { set x(v) { R = 'setter'; } } class B extends A { x = 1; } R = 'none'; var b = new B(); R += Object.getOwnPropertyDescriptor(b, 'x').value", "none1"},
        {"class A { f = () => this; } var a = new A(); R = a.f() === a", "true"},
        {"class A { f = () => 1; } R = new A().f.name", "f"},
        {"class A { x; } R = 'x' in new A()", "true"},
        {"class A { v = 1; } class B extends A { w = this.v + 1; } R = new B().w", "2"},
        {"class A { m() { return 'am'; } } class B extends A { x = super.m(); } R = new B().x", "am"},
        {"class A { static x = 1; static { this.y = this.x + 1; } static z = A.y + 1; } R = A.x + A.y + A.z", "6"},
        {"class A { static { var q = 5; A.q = q; } } R = A.q + typeof q", "5undefined"},
        {"var K = class { static n = this.name; }; R = K.n", "K"},
    };
    RUN(c);
}

Test(lower, compile_classes_private)
{
    static const js_case_t c[] = {
        {"class A { #x = 1; get() { return this.#x; } set(v) { this.#x = v; } } var a = new A(); a.set(5); R = a.get()", "5"},
        {"class A { #x = 1; } var a = new A(); R = Object.getOwnPropertyNames(a).length + Object.getOwnPropertySymbols(a).length"
         " + JSON.stringify(a)", "0{}"},
        {"class A { #x = 1; static get(o) { return o.#x; } } try { A.get({}); } catch (e) { R = e.name; }", "TypeError"},
        {"class A { #x = 1; static has(o) { return #x in o; } } R = A.has(new A()) + ':' + A.has({})", "true:false"},
        {"class A { #m() { return this.v; } v = 3; call() { return this.#m(); } } R = new A().call()", "3"},
        {"class A { #m() {} static t(o) { return #m in o; } } R = A.t(new A()) + ':' + A.t({})", "true:false"},
        {"class A { #m() {} static t(o) { o.#m(); } } try { A.t({}); } catch (e) { R = e.name; }", "TypeError"},
        {"class A { #m() {} t() { this.#m = 1; } } try { new A().t(); } catch (e) { R = e.name; }", "TypeError"},
        {"class A { #v = 0; get #a() { return this.#v; } set #a(x) { this.#v = x * 2; } t() { this.#a = 4; return this.#a; } } R = new A().t()", "8"},
        {"class A { #n = 1; inc() { this.#n++; ++this.#n; this.#n += 10; return this.#n; } } R = new A().inc()", "13"},
        {"class A { #n = 1; f() { return this.#n++; } } var a = new A(); R = a.f() + ':' + a.f()", "1:2"},
        {"class A { #n = null; f() { this.#n ?\?= 5; this.#n ||= 6; return this.#n; } } R = new A().f()", "5"},
        {"class A { static #c = 0; static inc() { return ++A.#c; } } A.inc(); R = A.inc()", "2"},
        {"class A { static #s() { return 's'; } static t() { return this.#s(); } } R = A.t()", "s"},
        {"class A { static #s() {} static t(o) { return o.#s(); } } try { A.t(new A()); } catch (e) { R = e.name; }", "TypeError"},
        {"function mk() { return class { #x = 1; static g(o) { return o.#x; } }; } var A = mk(), B = mk();"
         " try { A.g(new B()); } catch (e) { R = e.name; }", "TypeError"},
        {"class A { #x = 1; m() { class B { g(o) { return o.#x; } } return new B().g(this); } } R = new A().m()", "1"},
        {"class A { #x = 1; m() { return [1, 2].map(v => v + this.#x).join(); } } R = new A().m()", "2,3"},
        {"class A { constructor(o) { return o; } } class B extends A { #p = 7; static g(o) { return o.#p; } }"
         " var o = {}; new B(o); R = B.g(o)", "7"},
        {"class A { #x = 1; static g(o) { return o.#x; } } try { A.g(null); } catch (e) { R = e.name; }", "TypeError"},
        {"class A { #f() { return this; } g() { var o = this; return o.#f() === this; } } R = new A().g()", "true"},
        {"class A { #x = 1; m(o) { return (o || this).#x; } } R = new A().m()", "1"},
        {"class A { constructor(o) { return o; } } class B extends A { #m() {} } var o = {}; new B(o);"
         " try { new B(o); } catch (e) { R = e.name; }", "TypeError"},
    };
    RUN(c);
}

Test(lower, compile_classes_seed)
{
    static const js_case_t c[] = {
        {"class ConnectionPool {\n"
         "  constructor(maxConnections = 10) { this.maxConnections = maxConnections; this.activeConnections = 0; this.waitingQueue = []; }\n"
         "  acquire() {\n"
         "    if (this.activeConnections < this.maxConnections) { this.activeConnections++; return new PooledConnection(this); }\n"
         "    return new Promise((resolve) => { this.waitingQueue.push(resolve); });\n"
         "  }\n"
         "  release() {\n"
         "    this.activeConnections--;\n"
         "    if (this.waitingQueue.length > 0) { const resolve = this.waitingQueue.shift(); this.activeConnections++;"
         " resolve(new PooledConnection(this)); }\n"
         "  }\n"
         "}\n"
         "class PooledConnection {\n"
         "  constructor(pool) { this.pool = pool; this.released = false; }\n"
         "  release() { if (!this.released) { this.released = true; this.pool.release(); } }\n"
         "}\n"
         "const pool = new ConnectionPool(1);\n"
         "const c1 = pool.acquire(); const p2 = pool.acquire();\n"
         "var got; p2.then(c => { got = c; });\n"
         "c1.release(); c1.release();\n"
         "R = [pool.maxConnections, pool.activeConnections, pool.waitingQueue.length, c1.released, new ConnectionPool().maxConnections,"
         " p2 instanceof Promise, c1 instanceof PooledConnection].join()",
         "1,1,0,true,10,true,true"},
        {"class ChatRoom {\n"
         "  sessions = new Set();\n"
         "  #log = [];\n"
         "  constructor(state, env) { this.state = state; this.env = env; }\n"
         "  join(ws) { this.sessions.add(ws); this.#log.push('join'); return this.sessions.size; }\n"
         "  leave(ws) { this.sessions.delete(ws); this.#log.push('leave'); }\n"
         "  get log() { return this.#log.join(); }\n"
         "  broadcast(msg) { let n = 0; for (const s of this.sessions) { s.sent.push(msg); n++; } return n; }\n"
         "}\n"
         "const room = new ChatRoom({id: 1}, {});\n"
         "const a = {sent: []}, b = {sent: []};\n"
         "room.join(a); room.join(b); room.join(a);\n"
         "const n = room.broadcast('hi'); room.leave(a);\n"
         "R = [n, room.sessions.size, b.sent.join(), room.log, room.state.id, Object.keys(room).join('|')].join()",
         "2,1,hi,join,join,join,leave,1,sessions|state|env"},
    };
    RUN(c);
}

/* Parameter TDZ: a parameter read in its own or an earlier parameter's initialiser throws a ReferenceError
 * (closures made there and writes are left alone); later parameters see earlier ones. */
Test(lower, compile_param_tdz)
{
    static const js_case_t c[] = {
        {"try { (function (x = y, y) {})(); R = 'no'; } catch (e) { R = e.name; }", "ReferenceError"},
        {"try { (function (x = x) {})(); R = 'no'; } catch (e) { R = e.name; }", "ReferenceError"},
        {"try { ((x = typeof y, y) => 0)(); R = 'no'; } catch (e) { R = e.name; }", "ReferenceError"},
        {"try { (function ({a = b}, b) {})({}); R = 'no'; } catch (e) { R = e.name; }", "ReferenceError"},
        {"var n = 0; try { (function (x = y, y) { n++; })(); } catch (e) {} R = n", "0"},
        {"R = (function (x, y = x + 1) { return y; })(1)", "2"},
        {"R = (function (x = y, y) { return x; })(5, 6)", "5"},
        {"R = (function (x = () => y, y = 3) { return x(); })()", "3"},
        {"R = (function (x = {y: 1}.y, y) { return x; })()", "1"},
        {"class A { m(a = b, b) {} } try { new A().m(); R = 'no'; } catch (e) { R = e.name; }", "ReferenceError"},
    };
    RUN(c);
}

/* super in object-literal methods and accessors: the literal is their home object, one per evaluation. */
Test(lower, compile_object_super)
{
    static const js_case_t c[] = {
        {"var base = {m() { return 'b' + this.t; }}; R = ({__proto__: base, t: 1, m() { return super.m() + '!'; }}).m()",
         "b1!"},
        {"var base = {get g() { return 'g' + this.t; }}; R = ({__proto__: base, t: 2, get g() { return super.g; }}).g",
         "g2"},
        {"var base = {x: 1}; var o = {__proto__: base, set s(v) { super.x = v; }}; o.s = 5; R = o.x + ',' + base.x",
         "5,1"},
        {"var base = {v: 7}; R = ({__proto__: base, a() { return (() => super.v)(); }}).a()", "7"},
        {"var os = []; for (var i = 0; i < 2; i++) os.push({__proto__: {w() { return i; }}, m() { return super.w; }});"
         " R = os[0].m() !== os[1].m()", "true"},
        {"var p = {__proto__: {who() { return 'a'; }}, who() { return super.who(); }};"
         " Object.setPrototypeOf(p, {who() { return 'b'; }}); R = p.who()", "b"},
        {"var k = 'm'; R = ({__proto__: {m() { return 1; }}, [k]() { return super[k]() + 1; }}).m()", "2"},
        {"var o = {__proto__: {m() { return this; }}, m() { return super.m(); }}; R = o.m() === o", "true"},
        {"var o = {m() { try { super.x; return 'no'; } catch (e) { return e.name; } }}; Object.setPrototypeOf(o, null);"
         " R = o.m()", "TypeError"},
        {"var o = {m() { super.x = 8; Object.freeze(o); super.y = 9; return Object.keys(o).join(); }}; R = o.m()", "m,x"},
        {"'use strict'; var o = {m() { Object.freeze(o); try { super.y = 9; return 'no'; } catch (e) { return e.name; } }};"
         " R = o.m()", "TypeError"},
    };
    RUN(c);
}

/* An optional chain that reaches a private name short-circuits as a whole (`o?.c.#f`, `o?.#f`, calls). */
Test(lower, compile_chain_private)
{
    static const js_case_t c[] = {
        {"class A { #f = 42; static g(o) { return o?.c.#f; } } R = [A.g({c: new A()}), A.g(null), A.g(undefined)].join()",
         "42,,"},
        {"class A { #f = 1; static g(o) { return o?.#f; } } R = [A.g(new A()), A.g(null)].join()", "1,"},
        {"class A { #f = 1; static g(o) { return o?.#f; } } try { A.g({}); R = 'no'; } catch (e) { R = e.name; }",
         "TypeError"},
        {"class A { #m() { return this.v; } v = 3; static g(o) { return o?.c.#m(); } } R = [A.g({c: new A()}), A.g(null)].join()",
         "3,"},
        {"class A { #f = 9; static g(o) { return o?.a?.b.#f; } } R = [A.g({a: null}), A.g({a: {b: new A()}})].join()",
         ",9"},
    };
    RUN(c);
}
