/* The printer (lib/compile/emit.c), as tables: ES2022 sources survive parse -> emit -> parse with the same tree in
 * every layout; ES5 output computes in Duktape what the source computes; lines are retained (and mapped where
 * they cannot be); the edge cases of parenthesisation, spacing, ASI and literals print as expected. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/emit.h"
#include "duktape.h"

/* ---------------------------------------------------------------------------------------------------------
 * Helpers
 */

typedef struct parsed {
    ew__arena_t arena;
    ew__node_t *prog;
    char *dump;
} parsed_t;

static bool parse(parsed_t *p, const char *src, bool module)
{
    ew__arena_init(&p->arena);
    ew__diag_t diag;
    ew__diag_init(&diag);
    ew__parse_opts_t o = {src, strlen(src), "test.js", module};
    p->prog = ew__parse(&p->arena, &o, &diag);
    p->dump = NULL;
    if (!p->prog)
        cr_log_error("parse of <<%s>> failed: %s", src, diag.text ? diag.text : diag.message);
    else
        cr_assert(ew__ast_dump(p->prog, NULL, false, &p->dump, NULL));
    ew__diag_dispose(&diag);
    return p->prog != NULL;
}

static void parsed_dispose(parsed_t *p)
{
    free(p->dump);
    ew__arena_dispose(&p->arena);
}

enum { LAYOUT_RETAIN, LAYOUT_MINIFY, LAYOUT_PRETTY, LAYOUT_COUNT };
static const char *const layout_names[] = {"retained", "minified", "pretty"};

static ew__emit_opts_t layout(int k)
{
    ew__emit_opts_t o;
    ew__emit_opts_init(&o);
    o.minify = k == LAYOUT_MINIFY;
    o.retain_lines = k != LAYOUT_PRETTY;
    return o;
}

/* Emitted text of a tree (caller frees), failing the test if emit fails. */
static char *emit(const ew__node_t *root, int k, ew__linemap_t *map)
{
    ew__emit_opts_t o = layout(k);
    ew__emit_out_t out;
    ew__diag_t diag;
    ew__diag_init(&diag);
    bool ok = ew__emit(root, &o, &out, &diag);
    cr_assert(ok, "emit failed: %s", diag.message);
    ew__diag_dispose(&diag);
    cr_assert_eq(strlen(out.text), out.len);
    if (map)
        *map = out.map;
    else
        ew__linemap_dispose(&out.map);
    return out.text;
}

/* ---------------------------------------------------------------------------------------------------------
 * (1) Round trip: the dumps of the source and of its printed text (positions and raw texts left out) are equal.
 */

typedef struct rt_row {
    const char *src;
    bool module;
} rt_row_t;

static const rt_row_t round_trips[] = {
    /* precedence and associativity */
    {"a + b * c; (a + b) * c; a - (b - c); a - b - c; a * (b % c); (a, b), c; a, (b, c);", false},
    {"a ** b ** c; (a ** b) ** c; (-a) ** b; (+a) ** b; (typeof a) ** b; (++a) ** b; a ** -b;", false},
    {"a ?\? b ?\? c; a ?\? (b ?\? c); (a || b) ?\? c; a ?\? (b && c); (a ?\? b) || c; (a ?\? b) && c; a || b && c;", false},
    {"(a || b) && c; a | b ^ c & d; (a | b) ^ c; a << b >> c >>> d; a < b == c > d; a instanceof b in c;", false},
    {"a = b = c; (a = b) + c; a += b -= c; a ||= b; a &&= b; a ?\?= b; a **= b; a >>>= b; x = (a, b);", false},
    {"a ? b : c ? d : e; (a ? b : c) ? d : e; a ? (b, c) : (d, e); (a = b) ? c : d; a ? b = c : d = e;", false},
    {"!a; !!a; - -a; + +a; -(-a); - --a; + ++a; a++ + b; a + ++b; a-- - b; a - --b; typeof typeof a;", false},
    {"void 0; delete a.b; delete a[b]; typeof (a + b); !(a && b); -(a ** b); ~a >>> 0;", false},
    /* calls, members, new */
    {"new (f())(); new (a.b())(); new (a().b)(); new a.b(); new a.b.c(d); new new X()(); new X().y; new (X().y);", false},
    {"(new X).y; new X; new (a?.b)(); f()(); f().g(); f()[0]; f()`x`; new f`x`; new (f`x`)(); a.b`c`;", false},
    {"(1).toString(); 1.5.toFixed(); (1e21).x; 1..x; (-1).x; 0x10.y; a[1].b; (a, b).c; (a = b).c;", false},
    {"a?.b; a?.b.c; a?.[b]; a?.(); a?.b(); (a?.b).c; (a?.b)(); a?.b?.c; (a?.b)`x`; new (a?.b.c)();", false},
    {"(function () {})(); (function () {}()); (class {}).x; ({}).x; ({} = a); ({a} = b); [a] = b; ({a, b} = c);", false},
    {"({a: 1}).b; ({}) + 1; (function f() {}).call(); (async function () {})(); !function () {}();", false},
    {"(let)[0] = 1; (let)[a].b = 2;", false},
    {"x = () => ({}); x = () => ({}).y; x = () => ({a} = b); x = () => (a, b); x = async () => {}; x = a => a;", false},
    {"x = (a, b) => c; x = ({a}, [b], c = 1, ...d) => 0; x = async (a) => await a; (() => 0)(); a || (() => b);", false},
    {"x = (() => 0) ? 1 : 2; x = a ? () => b : () => c; x = (a => a).call(); (async () => {})();", false},
    {"function* g() { yield; yield a; yield* a; a = yield; a + (yield b); (yield a) ? b : c; yield (a, b); }", false},
    {"function* g() { f(yield a, yield b); x = [yield, yield a]; ({[yield]: yield}); yield yield a; }", false},
    {"async function f() { await a; (await a) ** 2; await (a + b); (await a).b; await a.b; -(await a); }", false},
    {"async function f() { for await (const x of y) {} await (async () => {})(); }", false},
    /* sequence placement */
    {"f((a, b)); f(a, (b, c)); [(a, b), c]; ({x: (a, b), [(c, d)]: e}); a ? (b, c) : d; `${(a, b)}`; a[(b, c)];", false},
    {"for (a, b; c, d; e, f) {} for (x of (a, b)) {} for (x in a, b) {} x = [...(a, b)]; f(...(a, b));", false},
    /* in inside for heads */
    {"for (var i = (a in b); ;) {} for (var i = (a in b) ? 1 : 2; ;) {} for ((a in b); ;) {}", false},
    {"for (var f = () => (a in b); ;) {} for (var x = [a in b]; ;) {} for (var x = {y: a in b}; ;) {}", false},
    {"for (var x = function () { return a in b; }; ;) {} for (x = (a in b) || c; ;) {} for (;a in b;) {}", false},
    {"for (var a = b in c) {}", false},
    {"for ((let) of x) {} for ((let).a of x) {} for ((let)[a] in x) {} for ((async) of x) {} for (async.x of y) {}", false},
    {"for (let [a, b] of c) {} for (const {a = 1, ...b} of c) {} for ([a, b] of c) {} for ({a} of c) {}", false},
    /* statements */
    {"if (a) b; else c; if (a) { if (b) c; } else d; if (a) { while (b) if (c) d; } else e; if (a) {} else if (b) {} else {}", false},
    {"if (a) { l: if (b) c; } else d; if (a) { for (;;) if (b) c; } else d; if (a) if (b) c; else d;", false},
    {"a: b: for (;;) { continue a; break b; } do x(); while (y); do {} while (0); while (a) ; for (;;) ;", false},
    {"switch (a) { case 1: case 2: b; break; default: c; } switch (a) {} try {} catch {} try {} catch ({a}) {} finally {}", false},
    {"with (a) b; debugger; throw a; throw (a, b); function f() { return; } function g() { return a, b; }", false},
    {"var a, b = 1, [c] = d, {e} = f; let g; const h = 1; let [i] = j;", false},
    {"label: function f() {} if (a) function g() {}", false},
    /* directives */
    {"'use strict'; \"use strict\"; function f() { 'a'; \"b\"; c; }", false},
    {"('use strict'); function f() { ('not a directive'); 'x'.y; }", false},
    {"function f() { 'it\\'s'; \"say \\\"hi\\\"\"; 'a\\\nb'; }", false},
    /* functions and classes */
    {"function f(a, b = 1, [c], {d}, ...e) {} async function g() {} function* h() {} async function* i() {}", false},
    {"x = function () {}; x = function f() {}; x = async function* () {}; x = class {}; x = class A extends B {};", false},
    {"class A extends (B, C) {} class D extends (a ? b : c) {} class E extends f() {} class F extends a.b {}", false},
    {"class A extends B { constructor() { super(); } m() { super.m(); } static s() {} get g() {} set g(v) {} static get sg() {} }", false},
    {"class A { *gen() {} async am() {} async *ag() {} static async *sag() {} ['computed']() {} 'str'() {} 1() {} }", false},
    {"class A { x; y = 1; static z = 2; #p = 3; #q() {} get #r() {} static #s; [k] = 4; static { this.a = 1; } }", false},
    {"class A { static; get; set; async; static static() {} get get() {} set set(v) {} async async() {} }", false},
    {"class A { static = 1; get = 2; 'constructor'() {} has(o) { return #p in o; } #p; }", false},
    {"class A { get\n x() {} static\n y() {} }", false},
    {"x = { a, b: 1, [c]: 2, 'd': 3, 4: 5, get e() {}, set e(v) {}, f() {}, *g() {}, async h() {}, async *i() {} };", false},
    {"x = { __proto__: a, ['__proto__']: b, ...c, if: 1, class: 2, new: 3, get: 4, set: 5, async: 6 };", false},
    {"x = { get() {}, set() {}, async() {}, static() {}, await: 1, 'a b': 2, 0.5: 3, 1e21: 4 };", false},
    {"({a = 1, b: {c} = {}, ...d} = e); [a = 1, [b] = [], ...c] = d; [, a, , b, ,] = c; x = [, , ]; x = [a, , ];", false},
    {"a.if; a.class; a.new.target; a.in; a.instanceof; a.typeof.void; a.null.true.false;", false},
    {"function f() { new.target; } x = function () { return new.target; };", false},
    /* literals */
    {"x = 'a\"b'; x = \"a'b\"; x = 'a\\'b\"c'; x = '\\n\\r\\t\\b\\f\\v\\0'; x = '\\x01\\x7f'; x = '\\u2028\\u2029';", false},
    {"x = '\\uD800'; x = '\\uDC00\\uD800'; x = '\\uD83D\\uDE00'; x = '\xF0\x9F\x98\x80'; x = '\xC3\xA9\xE2\x82\xAC'; x = '\\\\';", false},
    {"x = 0; x = 1; x = 0.1; x = 1e21; x = 1e-7; x = 123456789012345680000; x = 5e-324; x = 1.7976931348623157e308;", false},
    {"x = 0x10; x = 0o17; x = 0b101; x = 1_000_000; x = .5; x = 5.; x = 1e400; x = 0.1 + 0.2; x = 2 ** 53 + 1;", false},
    {"x = 9007199254740993; x = 4.35; x = 1/3; x = 100; x = 1e100; x = 123e-20; x = 0.000001; x = 1e-6;", false},
    {"x = /a/; x = /[/]/g; x = /a\\/b/gimsuy; x = a / /re/; x = a / b / c; x = /=/; x = a /= /b/; x = /(?:)/;", false},
    {"x = `a`; x = `a${b}c`; x = `${a}${b}`; x = `\\n\\${a}\\``; x = `line1\nline2`; x = tag`\\unicode`; x = `${`${a}`}`;", false},
    {"x = null; x = true; x = false; x = this; x = [1, 'a', null];", false},
    /* ASI-sensitive */
    {"function f() { return (\na\n); }", false},
    {"function f() { return (\n`a\nb`); }", false},
    {"function f() { throw (\nnew Error()\n); }", false},
    {"function* g() { yield (\na\n); }", false},
    {"a: for (;;) { break a; continue a; }", false},
    {"x = a\n++b;", false},
    {"x = a\n(b);", false},
    {"var a = b\n/c/g.exec(d);", false},
    /* modules */
    {"import a from 'm'; import * as b from 'm'; import {c, d as e} from 'm'; import f, {g} from 'm'; import 'm';", true},
    {"import h, * as i from 'm'; import {'str' as j} from 'm'; import {default as k} from 'm';", true},
    {"export var a = 1; export let b; export const c = 2; export function d() {} export class E {}", true},
    {"export {a, b as c}; export {d as default}; export {e as 'str'}; var a, b, d, e;", true},
    {"export * from 'm'; export * as ns from 'm'; export * as 'ns2' from 'm'; export {a} from 'm'; export {'x' as y} from 'm';", true},
    {"export default function () {}", true},
    {"export default class {}", true},
    {"export default (function () {});", true},
    {"export default (class {});", true},
    {"export default (a, b);", true},
    {"export default async function f() {}", true},
    {"export default a = 1;", true},
    {"import.meta.url; await x; x = await import('m');", true},
    {"x = import('m'); new (import('m'))();", false},
    /* misc */
    {"#!/usr/bin/env node\nx;", false},
    {"a = b ? c : d; a = (b, c) ? d : e; a = b || c ? d : e; a = (b ? c : d) || e;", false},
    {"x = a !== b === c; x = a < b < c; x = a == (b == c); x = (a, b) + c;", false},
    {"x = -0; x = -1; x = - 1; x = -(1); x = - -1; x = +-1;", false},
};

static void check_round_trip(const rt_row_t *r)
{
    parsed_t a;
    if (!parse(&a, r->src, r->module)) {
        cr_expect_fail("source does not parse: <<%s>>", r->src);
        return;
    }
    for (int k = 0; k < LAYOUT_COUNT; k++) {
        char *text = emit(a.prog, k, NULL);
        parsed_t b;
        if (parse(&b, text, r->module)) {
            cr_expect_str_eq(b.dump, a.dump, "%s round trip of <<%s>> printed <<%s>>", layout_names[k], r->src, text);
            parsed_dispose(&b);
        } else {
            cr_expect_fail("%s output of <<%s>> does not parse: <<%s>>", layout_names[k], r->src, text);
            ew__arena_dispose(&b.arena);
        }
        free(text);
    }
    parsed_dispose(&a);
}

Test(compile_emit, round_trip_keeps_the_tree)
{
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++)
        check_round_trip(&round_trips[i]);
}

/* ---------------------------------------------------------------------------------------------------------
 * (2) ES5 output runs in Duktape with the value of the source.
 */

static const char *const es5_programs[] = {
    "var a = 2, b = 3, c = 4; [a + b * c, (a + b) * c, a - (b - c), a / (b / c), -a * -b, a - -b, a + +b, !a == b,"
    " a % b % c, a % (b % c), (a, b), a << b >> 1, -a >>> 28].join()",
    "var x = 1; var y = x++ + ++x; var z = x-- - --x; [x, y, z].join()",
    "var s = \"x\\u2028y\\0\\\"'\\\\\\t\"; s.length + ':' + s.charCodeAt(1) + ':' + s.charCodeAt(3)",
    "'\\uD800'.length + ':' + '\\uD800'.charCodeAt(0) + ':' + '\\uDE00\\uD83D'.charCodeAt(1)",
    "'\xC3\xA9\xE2\x82\xAC'.length + ':' + '\xC3\xA9'.charCodeAt(0)",
    "[0.1 + 0.2, 1e21, 1e-7, 123456789012345680000, 5e-324, 0x10, 1.7976931348623157e308, 4.35, 1/3, 1e400, -1e400,"
    " 2e-7, 0.000001, 9007199254740992, 0.30000000000000004].join()",
    "[(1).toString(2), 1..toString(), 1.5.toFixed(2), (100).toString(16), 1e21.toString()].join()",
    "var o = {if: 1, 'b c': 2, 3: 4, class: 5, get x() { return 6; }, set x(v) {}}; [o.if, o['b c'], o[3], o.class, o.x].join()",
    "'a/b/c'.split(/\\//).length + ':' + /a\\/b/g.source + ':' + 'x'.replace(/x/g, '/')",
    "function f() { return (\n1\n); } f()",
    "function f() { return (\n\n  'a' +\n 'b'); } f()",
    "var r = ''; lab: for (var i = 0; i < 4; i++) { for (var j = 0; j < 4; j++) { if (j == 2) continue lab;"
    " if (i == 3) break lab; r += i + '' + j; } } r",
    "var r = ''; switch (3) { case 1: r += 'a'; case 3: r += 'b'; case 4: r += 'c'; break; default: r += 'd'; } r",
    "var r = ''; try { try { throw new Error('e'); } finally { r += 'f'; } } catch (e) { r += e.message; } r",
    "var o = {a: 1, b: 2}, k, r = ''; for (k in o) r += k; for (var i = ('a' in o) ? 1 : 0; i < 3; i++) r += i; r",
    "var F = function () { return function () { this.x = 5; }; }; new (F())().x",
    "function G() { this.y = 7; } G.make = function () { return G; }; new (G.make())().y + new G().y",
    "var a = (1, 2); var b = void 0; typeof b + ':' + a + ':' + typeof typeof a",
    "var t = 1 ? 2 ? 'a' : 'b' : 'c'; var u = (0 ? 1 : 0) ? 'x' : 'y'; t + u",
    "(function () { return typeof this; })()",
    "\"use strict\"; (function () { return this === undefined; })()",
    "(function () { 'use strict'; return this; })() === undefined",
    "(function () { ('use strict'); return this !== undefined; })()",
    "var r = 'n'; if (1) { if (0) r = 'a'; } else r = 'b'; r",
    "var f = function () { return 1; }(); f",
    "var x1; (function () { x1 = 3; })(); x1",
    "var o = {}; o.a = o.b = 5; o.a += 1; o.a *= 2; o.b -= 1; o.a + ':' + o.b",
    "var x = 5, y = x-- > 3, z = x < !--x; [x, y, z].join()",
    "var a = [1, , 3, ]; var b = [, ]; a.length + ':' + b.length + ':' + (1 in a)",
    "var s = 0; do s++; while (s < 5); while (s < 10) s += 2; s",
    "var n = 0; with ({n: 4}) { var m = n; } m",
    "var d = delete Object.prototype.nope; !d + ':' + !!d + ':' + ~5 + ':' + -(-3) + ':' + +'4'",
    "var a = 1; a = a ? 2 : 3, a = a + 1; a",
    "var x = /a/.test('a') ? 'y' : 'n'; x + /[/]/.source",
    "(function () { var r = []; for (var i = 0; i < 3; i++) r.push(i); return r; })().join('-')",
    "var o = {toString: function () { return 'o'; }}; '' + o + [o] + (o + 1)",
    "var a = 'x' in {x: 1} ? 1 : 2; var b = !('y' in {}); a + ':' + b",
    "typeof new Date + ':' + (new Date(0)).getTime() + ':' + new Date(0).getTime()",
};

/* String(value) of evaluating src in a fresh heap, or "ERROR: ...". Caller frees. */
static char *eval_in_duktape(const char *src, size_t len)
{
    duk_context *ctx = duk_create_heap_default();
    cr_assert(ctx);
    int rc = duk_peval_lstring(ctx, src, len);
    const char *s = duk_safe_to_string(ctx, -1);
    size_t n = strlen(s) + 8;
    char *r = malloc(n);
    snprintf(r, n, "%s%s", rc ? "ERROR: " : "", s);
    duk_destroy_heap(ctx);
    return r;
}

Test(compile_emit, es5_output_computes_the_same_in_duktape)
{
    for (size_t i = 0; i < sizeof es5_programs / sizeof es5_programs[0]; i++) {
        const char *src = es5_programs[i];
        char *want = eval_in_duktape(src, strlen(src));
        cr_expect(strncmp(want, "ERROR", 5) != 0, "source fails in Duktape: <<%s>>: %s", src, want);
        parsed_t p;
        cr_assert(parse(&p, src, false));
        for (int k = 0; k < LAYOUT_COUNT; k++) {
            char *text = emit(p.prog, k, NULL);
            char *got = eval_in_duktape(text, strlen(text));
            cr_expect_str_eq(got, want, "%s output <<%s>> of <<%s>> gives <<%s>>, the source <<%s>>", layout_names[k], text, src,
                             got, want);
            free(got);
            free(text);
        }
        free(want);
        parsed_dispose(&p);
    }
}

Test(compile_emit, duktape_error_lines_match_the_source)
{
    const char *src = "var a = 1;\n\n\nfunction f() {\n  var o = null;\n\n  return o.x;\n}\n"
                      "var line;\ntry { f(); } catch (e) { line = e.lineNumber; }\nline";
    parsed_t p;
    cr_assert(parse(&p, src, false));
    char *text = emit(p.prog, LAYOUT_RETAIN, NULL);
    char *got = eval_in_duktape(text, strlen(text));
    cr_expect_str_eq(got, "7", "emitted <<%s>>", text);
    free(got);
    free(text);
    parsed_dispose(&p);
}

/* ---------------------------------------------------------------------------------------------------------
 * (3) Line retention and the line map
 */

/* Line i (0-based) of text, copied into buf. */
static const char *line_of(const char *text, int i, char *buf, size_t cap)
{
    const char *s = text;
    for (; i > 0 && s; i--) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s)
        return NULL;
    size_t n = strcspn(s, "\n");
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

static void expect_lines(const char *src, const char *const *want, int nwant)
{
    parsed_t p;
    cr_assert(parse(&p, src, false));
    ew__linemap_t map;
    char *text = emit(p.prog, LAYOUT_RETAIN, &map);
    char buf[256];
    for (int i = 0; i < nwant; i++) {
        const char *got = line_of(text, i, buf, sizeof buf);
        cr_expect(got != NULL, "output too short: <<%s>>", text);
        if (got)
            cr_expect_str_eq(got, want[i], "line %d of <<%s>>", i + 1, text);
    }
    cr_expect_null(line_of(text, nwant, buf, sizeof buf), "output too long: <<%s>>", text);
    free(text);
    ew__linemap_dispose(&map);
    parsed_dispose(&p);
}

Test(compile_emit, statements_keep_their_lines)
{
    const char *src = "var a = 1;\n"
                      "\n"
                      "function f(x,\n"
                      "           y) {\n"
                      "  if (x)\n"
                      "    return y;\n"
                      "\n"
                      "  return x +\n"
                      "         y;\n"
                      "}\n"
                      "a = f(1, 2); a++;\n"
                      "\n"
                      "\n"
                      "label:\n"
                      "while (a) { a--; }\n";
    const char *const want[] = {
        "var a = 1;",
        "",
        "function f(x,",
        "y) {",
        "  if (x)",
        "  return y;",
        "",
        "  return x +",
        "  y; }",
        "",
        "a = f(1, 2); a++;",
        "",
        "",
        "label:",
        "while (a) { a--; }",
    };
    expect_lines(src, want, (int) (sizeof want / sizeof want[0]));
}

Test(compile_emit, restricted_productions_stay_on_the_keyword_line)
{
    const char *src = "function* f() {\n"
                      "  return (\n"
                      "    a\n"
                      "  );\n"
                      "  throw (\n"
                      "    b);\n"
                      "  yield (\n"
                      "    c);\n"
                      "  x: for (;;) { break x; }\n"
                      "}\n";
    const char *const want_printed[] = {
        "function* f() {",
        "  return a;",
        "",
        "",
        "  throw b;",
        "",
        "  yield c;",
        "",
        "  x: for (;;) { break x; } }",
    };
    expect_lines(src, want_printed, (int) (sizeof want_printed / sizeof want_printed[0]));
}

/* A pass may leave an async method's key on a later line than `async`: they stay together. */
Test(compile_emit, async_method_key_stays_after_async)
{
    parsed_t p;
    cr_assert(parse(&p, "x = { async m() {} };", false));
    ew__node_t *obj = p.prog->as.program.body.items[0]->as.expr_stmt.expression->as.binary.right;
    ew__node_t *prop = obj->as.object.properties.items[0];
    prop->as.property.key->line = 3;
    prop->as.property.value->as.function.body->line = 4;
    char *text = emit(p.prog, LAYOUT_RETAIN, NULL);
    cr_expect_str_eq(text, "x = { async m()\n\n\n{} };");
    free(text);
    parsed_dispose(&p);
}

Test(compile_emit, retained_map_is_one_identity_run)
{
    parsed_t p;
    cr_assert(parse(&p, "a;\n\nb;\nc; d;\n\n\ne;\n", false));
    ew__linemap_t map;
    char *text = emit(p.prog, LAYOUT_RETAIN, &map);
    cr_expect_eq(map.count, 1);
    cr_expect_eq(map.gen_lines, 7);
    for (uint32_t g = 1; g <= 7; g++)
        cr_expect_eq(ew__linemap_lookup(&map, g), g);
    cr_expect_eq(ew__linemap_lookup(&map, 0), 0);
    cr_expect_eq(ew__linemap_lookup(&map, 8), 0);
    free(text);
    ew__linemap_dispose(&map);
    parsed_dispose(&p);
}

Test(compile_emit, map_follows_a_template_held_on_the_keyword_line)
{
    /* The template (original lines 2-3) is printed from line 1, after `return`: output line 2 holds the rest of
     * the template, which is original line 3; the next statement catches up to its own line again. */
    parsed_t p;
    cr_assert(parse(&p, "function f() { return (\n`a\nb`);\n}\n\nx;\n", false));
    ew__linemap_t map;
    char *text = emit(p.prog, LAYOUT_RETAIN, &map);
    cr_expect_str_eq(text, "function f() { return `a\nb`; }\n\n\n\nx;");
    cr_expect_eq(ew__linemap_lookup(&map, 1), 1);
    cr_expect_eq(ew__linemap_lookup(&map, 2), 3);
    cr_expect_eq(ew__linemap_lookup(&map, 6), 6);
    free(text);
    ew__linemap_dispose(&map);
    parsed_dispose(&p);
}

Test(compile_emit, pretty_layout_maps_each_statement)
{
    parsed_t p;
    cr_assert(parse(&p, "a; b;\n\n\nif (c) {\n  d;\n}\n", false));
    ew__linemap_t map;
    char *text = emit(p.prog, LAYOUT_PRETTY, &map);
    cr_expect_str_eq(text, "a;\nb;\nif (c) {\n  d;\n}");
    static const uint32_t want[] = {0, 1, 1, 4, 5, 5};
    for (uint32_t g = 1; g <= 5; g++)
        cr_expect_eq(ew__linemap_lookup(&map, g), want[g], "generated line %u", g);
    free(text);
    ew__linemap_dispose(&map);
    parsed_dispose(&p);
}

/* Nodes moved by a pass: statement 3 printed before statement 2 stays on the output line, a synthetic statement
 * (line 0) is printed inline, and the map records the shifted line. */
Test(compile_emit, moved_and_synthetic_nodes_are_mapped)
{
    parsed_t p;
    cr_assert(parse(&p, "a;\nb;\nc;\nd;\n", false));
    ew__nodes_t *body = &p.prog->as.program.body;
    ew__node_t *b = body->items[1], *c = body->items[2];
    body->items[1] = c; /* c (line 3) first, then b (line 2) */
    body->items[2] = b;
    /* d becomes synthetic: no position */
    body->items[3]->line = 0;
    body->items[3]->as.expr_stmt.expression->line = 0;
    ew__emit_opts_t o;
    ew__emit_opts_init(&o);
    o.file_index = 3;
    ew__emit_out_t out;
    ew__diag_t diag;
    ew__diag_init(&diag);
    cr_assert(ew__emit(p.prog, &o, &out, &diag));
    cr_expect_str_eq(out.text, "a;\n\nc; b; d;");
    cr_expect_eq(ew__linemap_lookup(&out.map, 3), 3);
    cr_expect_eq(ew__linemap_file(&out.map, 3), 3);

    /* Now b (line 2) starts an output line after c's line break in the pretty layout: lines 1 2 3 -> 1 3 2. */
    ew__emit_out_dispose(&out);
    o.retain_lines = false;
    cr_assert(ew__emit(p.prog, &o, &out, &diag));
    cr_expect_str_eq(out.text, "a;\nc;\nb;\nd;");
    cr_expect_eq(ew__linemap_lookup(&out.map, 1), 1);
    cr_expect_eq(ew__linemap_lookup(&out.map, 2), 3);
    cr_expect_eq(ew__linemap_lookup(&out.map, 3), 2);
    cr_expect_eq(ew__linemap_lookup(&out.map, 4), 2); /* synthetic: the line of the code around it */
    ew__emit_out_dispose(&out);
    ew__diag_dispose(&diag);
    parsed_dispose(&p);
}

/* ---------------------------------------------------------------------------------------------------------
 * (4) Edge cases: exact output in the retained layout
 */

typedef struct edge_row {
    const char *src;
    const char *want;
} edge_row_t;

static const edge_row_t edges[] = {
    {"(function () {})();", "(function() {})();"},
    {"(function () {}());", "(function() {})();"},
    {"(async function () {});", "(async function() {});"},
    {"(function* () {}).x;", "(function*() {}).x;"},
    {"(class {}).x;", "(class {}).x;"},
    {"({}).x;", "({}).x;"},
    {"({}) + 1;", "({}) + 1;"},
    {"({a} = b);", "({ a } = b);"},
    {"({a} = b), c;", "({ a } = b), c;"},
    {"(let)[0] = 1;", "(let)[0] = 1;"},
    {"(let)[0].x;", "(let)[0].x;"},
    {"x = () => ({});", "x = () => ({});"},
    {"x = () => ({}).y;", "x = () => ({}).y;"},
    {"x = () => ({a} = b);", "x = () => ({ a } = b);"},
    {"new (f())();", "new (f())();"},
    {"new (a.b())();", "new (a.b())();"},
    {"new (a().b)();", "new (a()).b();"},
    {"new a.b;", "new a.b();"},
    {"(new X).y;", "new X().y;"},
    {"new (a?.b)();", "new (a?.b)();"},
    {"(1).toString();", "(1).toString();"},
    {"1..toString();", "(1).toString();"},
    {"1.5.toFixed();", "1.5.toFixed();"},
    {"(1e21).x;", "1e21.x;"},
    {"for (var i = (a in b); ;) {}", "for (var i = (a in b);;) {}"},
    {"for (var f = () => (a in b); ;) {}", "for (var f = () => (a in b);;) {}"},
    {"for (x = [a in b]; ;) {}", "for (x = [a in b];;) {}"},
    {"for ((let) of x);", "for ((let) of x);"},
    {"for ((async) of x);", "for ((async) of x);"},
    {"(-1) ** 2;", "(-1) ** 2;"},
    {"(-a) ** 2;", "(-a) ** 2;"},
    {"async function f() { (await a) ** 2; }", "async function f() { (await a) ** 2; }"},
    {"a ** -b;", "a ** -b;"},
    {"a ?\? (b || c);", "a ?\? (b || c);"},
    {"(a && b) ?\? c;", "(a && b) ?\? c;"},
    {"(a ?\? b) || c;", "(a ?\? b) || c;"},
    {"f((a, b), c);", "f((a, b), c);"},
    {"[(a, b)];", "[(a, b)];"},
    {"({a: (b, c)});", "({ a: (b, c) });"},
    {"a ? (b, c) : (d, e);", "a ? (b, c) : (d, e);"},
    {"function* g() { a + (yield b); }", "function* g() { a + (yield b); }"},
    {"a || (() => b);", "a || (() => b);"},
    {"(() => {})();", "(() => {})();"},
    {"(a?.b).c;", "(a?.b).c;"},
    {"a?.b.c;", "a?.b.c;"},
    {"a?.[0]?.(1);", "a?.[0]?.(1);"},
    {"a + +b;", "a + +b;"},
    {"a - -b;", "a - -b;"},
    {"a++ + b;", "a++ + b;"},
    {"a - --b;", "a - --b;"},
    {"- -a;", "- -a;"},
    {"+ +a;", "+ +a;"},
    {"a / /re/g;", "a / /re/g;"},
    {"x = /re/g instanceof RegExp;", "x = /re/g instanceof RegExp;"},
    {"a.if; a.class; ({if: 1, class: 2, new: 3});", "a.if; a.class; ({ if: 1, class: 2, new: 3 });"},
    {"'use strict'; a;", "\"use strict\"; a;"},
    {"\"use strict\"; a;", "\"use strict\"; a;"},
    {"('use strict'); a;", "(\"use strict\"); a;"},
    {"function f() { 'a\"b'; }", "function f() { 'a\"b'; }"},
    {"if (a) { if (b) c; } else d;", "if (a) { if (b) c; } else d;"},
    {"if (a) { while (b) if (c) d; } else e;", "if (a) { while (b) if (c) d; } else e;"},
    {"x = 'a\\u2028b\\u2029';", "x = \"a\\u2028b\\u2029\";"},
    {"x = '\\uD800x\\uDFFF';", "x = \"\\uD800x\\uDFFF\";"},
    {"x = '\\uD83D\\uDE00';", "x = \"\xF0\x9F\x98\x80\";"},
    {"x = '\\u00e9\\u20ac';", "x = \"\xC3\xA9\xE2\x82\xAC\";"},
    {"x = '\\0\\x01\\x1f\\x7f';", "x = \"\\x00\\x01\\x1F\\x7F\";"},
    {"x = '\\b\\t\\n\\v\\f\\r';", "x = \"\\b\\t\\n\\v\\f\\r\";"},
    {"x = 'say \"hi\"';", "x = 'say \"hi\"';"},
    {"x = \"it's\";", "x = \"it's\";"},
    {"x = 'a\\'b\"c';", "x = \"a'b\\\"c\";"},
    {"x = '\\\\';", "x = \"\\\\\";"},
    {"x = 0x10 + 0o17 + 0b11 + 1_000;", "x = 16 + 15 + 3 + 1000;"},
    {"x = [.5, 5., 1e3, 1e21, 1e-7, 0.1, 1e400];", "x = [0.5, 5, 1000, 1e21, 1e-7, 0.1, 1e999];"},
    {"x = [123456789012345680000, 5e-324, 1.7976931348623157e308];",
     "x = [123456789012345680000, 5e-324, 1.7976931348623157e308];"},
    {"x = [9007199254740993, 4.35, 0.000001, 2e-7, 1/3];",
     "x = [9007199254740992, 4.35, 0.000001, 2e-7, 1 / 3];"},
    {"x = /[/]\\//gi;", "x = /[/]\\//gi;"},
    {"x = `a${b}\\n${`c`}`;", "x = `a${b}\\n${`c`}`;"},
    {"x = [a, , b, ,];", "x = [a, , b, ,];"},
    {"x = [, ];", "x = [,];"},
    {"class A { get; static; x = 1; [y]; }", "class A { get; static; x = 1; [y]; }"},
    {"x = {a, b: b, c = 1} = d;", "x = { a, b: b, c = 1 } = d;"},
};

static const edge_row_t edges_module[] = {
    {"import a, {b as c, d} from 'm';", "import a, { b as c, d } from \"m\";"},
    {"export default (function () {});", "export default (function() {});"},
    {"export default (class {});", "export default (class {});"},
    {"export default function () {}", "export default function() {}"},
    {"export * as ns from 'm';", "export * as ns from \"m\";"},
    {"export {a as 'b c'}; var a;", "export { a as \"b c\" }; var a;"},
};

static void check_edges(const edge_row_t *rows, size_t n, bool module)
{
    for (size_t i = 0; i < n; i++) {
        parsed_t p;
        if (!parse(&p, rows[i].src, module)) {
            ew__arena_dispose(&p.arena);
            continue; /* a row for the other goal */
        }
        char *text = emit(p.prog, LAYOUT_RETAIN, NULL);
        cr_expect_str_eq(text, rows[i].want, "source <<%s>> printed <<%s>>", rows[i].src, text);
        free(text);
        parsed_dispose(&p);
    }
}

Test(compile_emit, edge_cases_print_as_expected)
{
    check_edges(edges, sizeof edges / sizeof edges[0], false);
    check_edges(edges_module, sizeof edges_module / sizeof edges_module[0], true);
}

Test(compile_emit, minified_output_separates_tokens_only_where_needed)
{
    static const edge_row_t rows[] = {
        {"a + +b; a - -b; a++ + b; a - --b; - -a;", "a+ +b;a- -b;a++ +b;a- --b;- -a;"},
        {"a / /re/; x = /a/ in b; x = /a/g instanceof c;", "a/ /re/;x=/a/ in b;x=/a/g instanceof c;"},
        {"a < !--b; a-- > b;", "a< !--b;a-- >b;"},
        {"typeof a; void 0; delete a.b; typeof (a);", "typeof a;void 0;delete a.b;typeof a;"},
        {"function f() { return a; } x = new X; x = a in b;", "function f(){return a;}x=new X();x=a in b;"},
        {"x = 1 .toString(); x = '1' in a;", "x=(1).toString();x=\"1\"in a;"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        parsed_t p;
        cr_assert(parse(&p, rows[i].src, false));
        char *text = emit(p.prog, LAYOUT_MINIFY, NULL);
        cr_expect_str_eq(text, rows[i].want, "source <<%s>> printed <<%s>>", rows[i].src, text);
        free(text);
        parsed_dispose(&p);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Trees built by a pass: no EW__NF_PAREN, no positions, values without source text.
 */

typedef struct builder {
    ew__arena_t arena;
} builder_t;

static ew__node_t *node(builder_t *b, ew__node_type_t type)
{
    ew__node_t *n = ew__arena_zalloc(&b->arena, sizeof *n);
    n->type = (uint8_t) type;
    return n;
}

static ew__node_t *ident(builder_t *b, const char *name)
{
    ew__node_t *n = node(b, EW__N_Identifier);
    n->as.ident.name = ew__atom_new(&b->arena, name, strlen(name));
    return n;
}

static ew__node_t *num(builder_t *b, double v)
{
    ew__node_t *n = node(b, EW__N_Literal);
    n->as.literal.kind = EW__LIT_NUMBER;
    n->as.literal.number = v;
    return n;
}

static ew__node_t *str(builder_t *b, const char *s, size_t len)
{
    ew__node_t *n = node(b, EW__N_Literal);
    n->as.literal.kind = EW__LIT_STRING;
    n->as.literal.string.s = s;
    n->as.literal.string.len = (uint32_t) len;
    return n;
}

static ew__node_t *bin(builder_t *b, ew__node_type_t type, uint8_t op, ew__node_t *l, ew__node_t *r)
{
    ew__node_t *n = node(b, type);
    n->as.binary.op = op;
    n->as.binary.left = l;
    n->as.binary.right = r;
    return n;
}

static ew__node_t *member(builder_t *b, ew__node_t *obj, const char *prop)
{
    ew__node_t *n = node(b, EW__N_MemberExpression);
    n->as.member.object = obj;
    n->as.member.property = ident(b, prop);
    return n;
}

static void expect_tree(const ew__node_t *n, const char *want)
{
    char *text = emit(n, LAYOUT_RETAIN, NULL);
    cr_expect_str_eq(text, want);
    free(text);
}

Test(compile_emit, synthetic_trees_get_parentheses_from_precedence)
{
    builder_t b;
    ew__arena_init(&b.arena);
    ew__node_t *a = ident(&b, "a"), *c = ident(&b, "c");
    expect_tree(bin(&b, EW__N_BinaryExpression, EW__T_STAR, a, bin(&b, EW__N_BinaryExpression, EW__T_PLUS, a, c)),
                "a * (a + c)");
    expect_tree(bin(&b, EW__N_BinaryExpression, EW__T_MINUS, a, num(&b, -1)), "a - -1");
    expect_tree(bin(&b, EW__N_BinaryExpression, EW__T_STARSTAR, num(&b, -2), a), "(-2) ** a");
    expect_tree(member(&b, num(&b, -1), "x"), "(-1).x");
    expect_tree(member(&b, num(&b, 3), "x"), "(3).x");
    expect_tree(member(&b, num(&b, 0.5), "x"), "0.5.x");
    expect_tree(num(&b, -0.0), "-0");
    expect_tree(num(&b, NAN), "(0 / 0)");
    expect_tree(num(&b, -INFINITY), "-1e999");
    expect_tree(bin(&b, EW__N_BinaryExpression, EW__T_STAR, num(&b, NAN), a), "(0 / 0) * a");
    /* a sequence as an argument, a conditional as a member object, an assignment as an operand */
    ew__node_t *seq = node(&b, EW__N_SequenceExpression);
    ew__node_t *items[] = {a, c};
    seq->as.sequence.expressions = (ew__nodes_t){items, 2};
    ew__node_t *call = node(&b, EW__N_CallExpression);
    call->as.call.callee = ident(&b, "f");
    ew__node_t *args[] = {seq, a};
    call->as.call.arguments = (ew__nodes_t){args, 2};
    expect_tree(call, "f((a, c), a)");
    ew__node_t *cond = node(&b, EW__N_ConditionalExpression);
    cond->as.conditional.test = a;
    cond->as.conditional.consequent = seq;
    cond->as.conditional.alternate = c;
    expect_tree(member(&b, cond, "y"), "(a ? (a, c) : c).y");
    expect_tree(bin(&b, EW__N_LogicalExpression, EW__T_OR, bin(&b, EW__N_AssignmentExpression, EW__T_ASSIGN, a, c), c),
                "(a = c) || c");
    /* a lone surrogate and U+2028 in a value, a quote-heavy value */
    static const char wtf8[] = "x\xED\xA0\x80y\xE2\x80\xA8";
    expect_tree(str(&b, wtf8, sizeof wtf8 - 1), "\"x\\uD800y\\u2028\"");
    expect_tree(str(&b, "\"\"'", 3), "'\"\"\\''");
    /* a synthetic template piece (cooked only) */
    ew__node_t *tpl = node(&b, EW__N_TemplateLiteral), *q = node(&b, EW__N_TemplateElement);
    q->as.template_element.cooked = (ew__str_t){"a`${\\", 5};
    q->as.template_element.tail = true;
    ew__node_t *qs[] = {q};
    tpl->as.template.quasis = (ew__nodes_t){qs, 1};
    expect_tree(tpl, "`a\\`\\${\\\\`");
    ew__arena_dispose(&b.arena);
}

Test(compile_emit, long_operator_and_method_chains_need_no_recursion)
{
    /* 200,000 operands: a left-deep tree far deeper than the printer's recursion limit. */
    const int n = 200000;
    builder_t b;
    ew__arena_init(&b.arena);
    ew__node_t *x = ident(&b, "x");
    ew__node_t *t = x;
    for (int i = 1; i < n; i++)
        t = bin(&b, EW__N_BinaryExpression, EW__T_PLUS, t, x);
    char *text = emit(t, LAYOUT_MINIFY, NULL);
    cr_expect_eq(strlen(text), (size_t) (2 * n - 1));
    free(text);
    /* and a method chain x.b().b()... of as many links */
    t = x;
    for (int i = 1; i < n; i++) {
        ew__node_t *c = node(&b, EW__N_CallExpression);
        c->as.call.callee = member(&b, t, "b");
        t = c;
    }
    text = emit(t, LAYOUT_MINIFY, NULL);
    cr_expect_eq(strlen(text), (size_t) (1 + 4 * (n - 1)));
    cr_expect(strncmp(text, "x.b().b()", 9) == 0);
    free(text);
    ew__arena_dispose(&b.arena);
}

Test(compile_emit, too_deep_trees_fail_with_a_diagnostic)
{
    builder_t b;
    ew__arena_init(&b.arena);
    ew__node_t *t = ident(&b, "x");
    for (int i = 0; i < 100000; i++) {
        ew__node_t *u = node(&b, EW__N_UnaryExpression);
        u->as.unary.op = EW__T_BANG;
        u->as.unary.prefix = true;
        u->as.unary.argument = t;
        t = u;
    }
    ew__emit_out_t out;
    ew__diag_t diag;
    ew__diag_init(&diag);
    cr_expect(!ew__emit(t, NULL, &out, &diag));
    cr_expect(strstr(diag.message, "too deeply") != NULL, "%s", diag.message);
    cr_expect_null(out.text);
    ew__diag_dispose(&diag);
    /* a node that is not an expression where one is required */
    ew__node_t *bad = bin(&b, EW__N_BinaryExpression, EW__T_PLUS, ident(&b, "a"), node(&b, EW__N_EmptyStatement));
    ew__diag_init(&diag);
    cr_expect(!ew__emit(bad, NULL, &out, &diag));
    cr_expect_str_eq(diag.message, "not an expression");
    ew__diag_dispose(&diag);
    ew__arena_dispose(&b.arena);
}

/* A strict function in sloppy surroundings (a module body wrapped in a function, a class method a pass made
 * plain) says so with a directive; the code inside it, and code already strict, gets none. */
Test(compile_emit, strict_functions_get_their_directive_once)
{
    parsed_t p;
    cr_assert(parse(&p, "var x = function () { return this; };\nclass A { m() {} }", true));
    ew__node_t *fn = ew__arena_zalloc(&p.arena, sizeof *fn), *body = ew__arena_zalloc(&p.arena, sizeof *body);
    fn->type = EW__N_FunctionExpression;
    fn->flags = EW__NF_STRICT;
    body->type = EW__N_BlockStatement;
    body->as.body.body = p.prog->as.program.body;
    fn->as.function.body = body;
    char *text = emit(fn, LAYOUT_RETAIN, NULL);
    cr_expect_str_eq(text, "function() { \"use strict\"; var x = function() { return this; };\n  class A { m() {} } }");
    free(text);
    /* a method turned into a plain function inside sloppy code */
    ew__node_t *m = p.prog->as.program.body.items[1]->as.class_.body->as.body.body.items[0]->as.method.value;
    cr_assert(m->flags & EW__NF_STRICT);
    text = emit(m, LAYOUT_RETAIN, NULL);
    cr_expect_str_eq(text, "\nfunction() { \"use strict\"; }"); /* kept on its line 2 */
    free(text);
    parsed_dispose(&p);
    /* a script whose directive is already there gets no second one */
    cr_assert(parse(&p, "'use strict'; function f() {}", false));
    text = emit(p.prog, LAYOUT_RETAIN, NULL);
    cr_expect_str_eq(text, "\"use strict\"; function f() {}");
    free(text);
    parsed_dispose(&p);
}
