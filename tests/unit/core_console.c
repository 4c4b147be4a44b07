/* console (lib/core/console.c): util.format directives, util.inspect-style values, and the other console
 * methods, as logged through the runtime's log callback. Each case is a Worker whose top level logs. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "edgeworker.h"

static ew_runtime_t *rt;
static char logbuf[16384];

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    (void) worker;
    size_t used = strlen(logbuf);
    if (used + len + 4 < sizeof(logbuf)) {
        logbuf[used++] = (char) ('0' + level);
        logbuf[used++] = ' ';
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

TestSuite(core_console, .init = setup, .fini = teardown, .timeout = 60);

/* Runs src as a Worker's top level; returns what it logged ("<level> <text>\n" per call). */
static const char *logged(const char *src)
{
    logbuf[0] = '\0';
    ew_worker_t *w = NULL;
    ew_error_t err;
    ew_worker_config_t cfg = {.name = "t", .source = src, .source_len = strlen(src)};
    cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_OK, "load failed: %s", err.message);
    ew_worker_destroy(w);
    return logbuf;
}

#define EXPECT(src, out) cr_expect_str_eq(logged(src), (out), "%s", (src))

Test(core_console, levels_and_plain_arguments)
{
    EXPECT("console.log('a', 1, true, null, undefined);", "1 a 1 true null undefined\n");
    EXPECT("console.info('i'); console.debug('d'); console.warn('w'); console.error('e');",
           "1 i\n0 d\n2 w\n3 e\n");
    EXPECT("console.log();", "1 \n");
    EXPECT("console.log(-0, 1.5, NaN, -Infinity);", "1 -0 1.5 NaN -Infinity\n");
    EXPECT("console.log(Symbol('s'));", "1 Symbol(s)\n");
    EXPECT("console.log('emoji \\u{1F600}');", "1 emoji \xF0\x9F\x98\x80\n");
}

Test(core_console, format_directives)
{
    EXPECT("console.log('%s has %d items', 'cart', 3);", "1 cart has 3 items\n");
    EXPECT("console.log('%i|%f|%d', '42.9px', '1.5e3x', '7');", "1 42|1500|7\n");
    EXPECT("console.log('%d %d', {}, Symbol());", "1 NaN NaN\n");
    EXPECT("console.log('%j', {a: [1]});", "1 {\"a\":[1]}\n");
    EXPECT("var o = {}; o.o = o; console.log('%j', o);", "1 [Circular]\n");
    EXPECT("console.log('%o and %O', [1], {a: {b: 1}});", "1 [ 1 ] and { a: { b: 1 } }\n");
    EXPECT("console.log('%c styled', 'color: red');", "1  styled\n");
    EXPECT("console.log('100%% %s');", "1 100% %s\n");
    EXPECT("console.log('%s', 'a', 'extra', 5);", "1 a extra 5\n");
    EXPECT("console.log('%s', {a: {b: 1}});", "1 { a: [Object] }\n");
    EXPECT("console.log('%x %s', 1);", "1 %x 1\n");
    EXPECT("console.log(5, '%s', 'x');", "1 5 %s x\n");
}

Test(core_console, objects_and_arrays)
{
    EXPECT("console.log({a: 1, b: 'two', 'c-d': [1, 2]});", "1 { a: 1, b: 'two', 'c-d': [ 1, 2 ] }\n");
    EXPECT("console.log({ 'key with space': 1, valid_id: 2, $d: 3, '1a': 4, 2: 5 });",
           "1 { '2': 5, 'key with space': 1, valid_id: 2, '$d': 3, '1a': 4 }\n");
    EXPECT("console.log({}, [], {a: {}});", "1 {} [] { a: {} }\n");
    EXPECT("console.log({a: {b: {c: {d: 1}}}});", "1 { a: { b: { c: [Object] } } }\n");
    EXPECT("console.log([[[[1]]]]);", "1 [ [ [ [Array] ] ] ]\n");
    EXPECT("console.log([1, , , 4]);", "1 [ 1, <2 empty items>, 4 ]\n");
    EXPECT("var a = [1, 2]; a.x = 'y'; console.log(a);", "1 [ 1, 2, x: 'y' ]\n");
    EXPECT("console.log([\"it's\", 'say \"hi\"', 'both \\'\"', 'nl\\n']);",
           "1 [ \"it's\", 'say \"hi\"', `both '\"`, 'nl\\n' ]\n");
    EXPECT("console.log({[Symbol('k')]: 1});", "1 { [Symbol(k)]: 1 }\n");
    EXPECT("console.log({get g() { return 1; }, set s(v) {}, get gs() { return 1; }, set gs(v) {}});",
           "1 { g: [Getter], s: [Setter], gs: [Getter/Setter] }\n");
    EXPECT("console.log(Object.create(null));", "1 [Object: null prototype] {}\n");
}

Test(core_console, long_values_break_into_lines)
{
    EXPECT("console.log({alpha: 'aaaaaaaaaaaaaaaa', beta: 'bbbbbbbbbbbbbbbbbbbb', gamma: 'cccccccccccccccccccc', delta: 1});",
           "1 {\n  alpha: 'aaaaaaaaaaaaaaaa',\n  beta: 'bbbbbbbbbbbbbbbbbbbb',\n  gamma: 'cccccccccccccccccccc',\n  delta: 1\n}\n");
    EXPECT("console.log({outer: {alpha: 'aaaaaaaaaaaaaaaa', beta: 'bbbbbbbbbbbbbbbbbbbb', gamma: 'cccccccccccccccccccc'}});",
           "1 {\n  outer: {\n    alpha: 'aaaaaaaaaaaaaaaa',\n    beta: 'bbbbbbbbbbbbbbbbbbbb',\n    gamma: 'cccccccccccccccccccc'\n  }\n}\n");
}

Test(core_console, cycles)
{
    EXPECT("var o = {name: 'o'}; o.self = o; console.log(o);", "1 <ref *1> { name: 'o', self: [Circular *1] }\n");
    EXPECT("var a = [1]; a.push(a); console.log([a]);", "1 [ <ref *1> [ 1, [Circular *1] ] ]\n");
    EXPECT("var s = {}; console.log({x: s, y: s});", "1 { x: {}, y: {} }\n");
}

Test(core_console, built_in_types)
{
    EXPECT("console.log(new Map([['a', 1], [{k: 1}, [2]]]));", "1 Map(2) { 'a' => 1, { k: 1 } => [ 2 ] }\n");
    EXPECT("console.log(new Set([1, 'x']), new Set());", "1 Set(2) { 1, 'x' } Set(0) {}\n");
    EXPECT("console.log(new Uint8Array([1, 2, 255]));", "1 Uint8Array(3) [ 1, 2, 255 ]\n");
    EXPECT("console.log(new Uint8Array([1, 2, 10]).buffer);",
           "1 ArrayBuffer { [Uint8Contents]: <01 02 0a>, byteLength: 3 }\n");
    EXPECT("console.log(new Date(0), new Date(NaN));", "1 1970-01-01T00:00:00.000Z Invalid Date\n");
    EXPECT("console.log(/a+b/gi);", "1 /a+b/gi\n");
    EXPECT("console.log(new Number(3), new String('s'), new Boolean(false));",
           "1 [Number: 3] [String: 's'] [Boolean: false]\n");
    EXPECT("console.log(function foo() {}, function () {});", "1 [Function: foo] [Function (anonymous)]\n");
    EXPECT("console.log(Promise.resolve(4), new Promise(function () {}));",
           "1 Promise { 4 } Promise { <pending> }\n");
    EXPECT("var p = Promise.reject(new Error('no')); p.catch(function () {}); console.log(p.constructor.name);",
           "1 Promise\n");
    EXPECT("function Point(x) { this.x = x; } console.log(new Point(1), [new Point(2)]);",
           "1 Point { x: 1 } [ Point { x: 2 } ]\n");
    EXPECT("var big = []; for (var i = 0; i < 102; i++) big.push(0); console.log(big.length, JSON.stringify(big).length);",
           "1 102 205\n");
}

Test(core_console, long_arrays_are_grouped_in_columns)
{
    EXPECT("console.log([1, 2, 3, 4, 5, 6, 7]);", "1 [\n  1, 2, 3, 4,\n  5, 6, 7\n]\n");
    EXPECT("console.log(['a', 'b', 'c', 'd', 'e', 'f', 'g']);", "1 [\n  'a', 'b', 'c',\n  'd', 'e', 'f',\n  'g'\n]\n");
    EXPECT("console.log([1.5, 22, 333, 4, 5, 6, 7, 8]);", "1 [\n  1.5, 22, 333, 4,\n    5,  6,   7, 8\n]\n");
    EXPECT("console.log(new Uint8Array(10));", "1 Uint8Array(10) [\n  0, 0, 0, 0, 0,\n  0, 0, 0, 0, 0\n]\n");
    EXPECT("console.log(new Set([1, 2, 3, 4, 5, 6, 7, 8]));", "1 Set(8) { 1, 2, 3, 4, 5, 6, 7, 8 }\n");
    EXPECT("console.log({a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7});", "1 { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 }\n");
}

Test(core_console, huge_sparse_arrays_are_quick)
{
    EXPECT("var a = []; a[4294967294] = 'end'; a[2] = 'x'; console.log(a);",
           "1 [ <2 empty items>, 'x', <4294967291 empty items>, 'end' ]\n");
    EXPECT("console.log(new Array(1e9));", "1 [ <1000000000 empty items> ]\n");
}

Test(core_console, arrays_past_one_hundred_items_are_cut)
{
    const char *out = logged("var big = []; for (var i = 0; i < 103; i++) big.push(i % 10); console.log(big);");
    cr_expect(strstr(out, "... 3 more items\n]") != NULL, "%s", out);
}

Test(core_console, errors_show_their_stack)
{
    const char *out = logged("console.log(new TypeError('bad'));");
    cr_expect(strncmp(out, "1 TypeError: bad\n    at ", 24) == 0, "%s", out);
    out = logged("console.log({e: new RangeError('r')});");
    cr_expect(strncmp(out, "1 {\n  e: RangeError: r\n      at ", 32) == 0, "%s", out);
}

Test(core_console, dir_takes_a_depth)
{
    EXPECT("console.dir({a: {b: {c: {d: {}}}}}, {depth: 0});", "1 { a: [Object] }\n");
    EXPECT("console.dir({a: {b: {c: {d: {}}}}}, {depth: null});", "1 {\n  a: { b: { c: { d: {} } } }\n}\n");
    EXPECT("console.log({a: {b: {c: {}}}});", "1 { a: { b: { c: {} } } }\n");
    EXPECT("console.dir('str');", "1 'str'\n");
}

Test(core_console, assert_count_and_groups)
{
    EXPECT("console.assert(1 === 1, 'no'); console.assert(false, 'value %d', 5); console.assert(0);",
           "3 Assertion failed: value 5\n3 Assertion failed\n");
    EXPECT("console.count(); console.count(); console.count('x'); console.countReset(); console.count();"
           "console.countReset('nope');",
           "1 default: 1\n1 default: 2\n1 x: 1\n1 default: 1\n2 Count for 'nope' does not exist\n");
    const char *out = logged("console.group('G'); console.log('in'); console.group();"
                             "console.log({a: 1, b: 'x'.repeat(80)}); console.groupEnd(); console.groupEnd();"
                             "console.groupEnd(); console.log('out');");
    cr_expect(strncmp(out, "1 G\n1   in\n1     {\n      a: 1,\n      b: 'xxxx", 43) == 0, "%s", out);
    cr_expect(strstr(out, "xxx'\n    }\n1 out\n") != NULL, "%s", out);
}

Test(core_console, group_indents_every_line)
{
    const char *out = logged("console.group(); console.log('a\\nb');");
    cr_expect_str_eq(out, "1   a\n  b\n");
}

Test(core_console, timers)
{
    const char *out = logged("console.time(); console.timeLog(undefined, 'mid', 1); console.timeEnd();"
                             "console.timeEnd(); console.time('t'); console.time('t');");
    cr_expect(strstr(out, "1 default: ") == out, "%s", out);
    cr_expect(strstr(out, "ms mid 1\n1 default: ") != NULL, "%s", out);
    cr_expect(strstr(out, "2 Warning: No such label 'default' for console.timeEnd()\n") != NULL, "%s", out);
    cr_expect(strstr(out, "2 Warning: Label 't' already exists for console.time()\n") != NULL, "%s", out);
}

Test(core_console, table)
{
    EXPECT("console.table([{a: 1, b: 'x'}, {a: 2, c: true}]);",
           "1 ┌─────────┬───┬─────┬──────┐\n"
           "│ (index) │ a │ b   │ c    │\n"
           "├─────────┼───┼─────┼──────┤\n"
           "│ 0       │ 1 │ 'x' │      │\n"
           "│ 1       │ 2 │     │ true │\n"
           "└─────────┴───┴─────┴──────┘\n");
    EXPECT("console.table(['p', 'q']);",
           "1 ┌─────────┬────────┐\n"
           "│ (index) │ Values │\n"
           "├─────────┼────────┤\n"
           "│ 0       │ 'p'    │\n"
           "│ 1       │ 'q'    │\n"
           "└─────────┴────────┘\n");
    EXPECT("console.table({r1: {a: 1, b: 2}}, ['b']);",
           "1 ┌─────────┬───┐\n"
           "│ (index) │ b │\n"
           "├─────────┼───┤\n"
           "│ r1      │ 2 │\n"
           "└─────────┴───┘\n");
    EXPECT("console.table('not tabular');", "1 not tabular\n");
}

Test(core_console, trace_logs_a_stack)
{
    const char *out = logged("console.trace('here %d', 1);");
    cr_expect(strncmp(out, "1 Trace: here 1\n1 ", 18) == 0, "%s", out);
}

Test(core_console, getters_are_not_called)
{
    EXPECT("console.log({get x() { throw new Error('no'); }});", "1 { x: [Getter] }\n");
    EXPECT("var p = new Proxy({}, {}); console.log(typeof p); console.log('after');", "1 object\n1 after\n");
}

Test(core_console, report_error_logs_an_uncaught_error)
{
    const char *out = logged("reportError(new TypeError('reported'));");
    cr_expect(strncmp(out, "3 Uncaught TypeError: reported\n    at ", 38) == 0, "%s", out);
    out = logged("addEventListener('error', function (e) { console.log('seen', e.error); });"
                 "reportError('plain');");
    cr_expect_str_eq(out, "1 seen plain\n3 Uncaught plain\n");
}

Test(core_console, runtime_objects_show_their_state)
{
    EXPECT("console.log(new Headers({a: '1'}), new URLSearchParams('x=2'));",
           "1 Headers { 'a' => '1' } URLSearchParams { 'x' => '2' }\n");
    EXPECT("console.log(new Blob(['xy'], {type: 'text/plain'}));", "1 Blob { size: 2, type: 'text/plain' }\n");
    const char *out = logged("console.log(new Response('hi', {status: 201}));");
    cr_expect(strstr(out, "1 Response {\n  status: 201,\n  statusText: 'Created',\n  ok: true,") == out, "%s", out);
    cr_expect(strstr(out, "headers: Headers { 'content-type' => 'text/plain;charset=UTF-8' },\n  bodyUsed: false\n}")
                  != NULL, "%s", out);
    /* .body is not touched: logging does not turn the body into a stream. */
    EXPECT("var r = new Response('x'); console.log(r.bodyUsed); var s = String(r); r.text().then(function (t) {"
           " console.log(t); });", "1 false\n1 x\n");
}
