/* The ES2015+ library layer (lib/core/builtin_*.c): each test is a table of ES5 scripts and the string
 * their value converts to, run on a bare heap with only ew__builtins_init(). Expected values follow the
 * specification and were checked against Node 20 where engines agree. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct js_case {
    const char *src;
    const char *want;
} js_case_t;

static duk_context *ctx;

static duk_ret_t init_body(duk_context *c, void *udata)
{
    (void) udata;
    ew__builtins_init(c);
    return 0;
}

static void setup(void)
{
    ctx = duk_create_heap_default();
    cr_assert_not_null(ctx);
    cr_assert_eq(duk_safe_call(ctx, init_body, NULL, 0, 1), DUK_EXEC_SUCCESS);
    duk_pop(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

/* Evaluates each script; a thrown error reads as "throws <Name>". */
static void run_cases(const js_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char got[512];
        if (duk_peval_string(ctx, cases[i].src) != 0) {
            duk_get_prop_string(ctx, -1, "name");
            snprintf(got, sizeof(got), "throws %s", duk_safe_to_string(ctx, -1));
            duk_pop(ctx);
        } else {
            snprintf(got, sizeof(got), "%s", duk_safe_to_string(ctx, -1));
        }
        duk_pop(ctx);
        cr_expect_str_eq(got, cases[i].want, "%s", cases[i].src);
    }
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

TestSuite(builtins, .init = setup, .fini = teardown);

Test(builtins, array_iterators_follow_the_protocol)
{
    static const js_case_t c[] = {
        {"Array.prototype.values === Array.prototype[Symbol.iterator]", "true"},
        {"var it = [1, 2].entries(); JSON.stringify([it.next(), it.next(), it.next()])",
         "[{\"value\":[0,1],\"done\":false},{\"value\":[1,2],\"done\":false},{\"done\":true}]"},
        {"Object.prototype.toString.call([].keys())", "[object Array Iterator]"},
        {"var p = Object.getPrototypeOf(Object.getPrototypeOf([].values())); p[Symbol.iterator].call(p) === p", "true"},
        {"var a = [1]; var it = a.values(); it.next(); a.push(2); it.next().value", "2"},
        {"[].keys().next.call({})", "throws TypeError"},
        {"Object.create([].keys()).next()", "throws TypeError"},
        {"var u = new Uint8Array([7, 8]); Array.from(u.entries()).join('|')", "0,7|1,8"},
        {"Uint8Array.prototype[Symbol.iterator] === Uint8Array.prototype.values", "true"},
        {"(function () { return Array.from(arguments).join(); })(1, 2)", "1,2"},
    };
    RUN(c);
}

Test(builtins, string_iterator_walks_code_points)
{
    static const js_case_t c[] = {
        {"Array.from('a\\uD83D\\uDE00b').length", "3"},
        {"Array.from('a\\uD83D\\uDE00b')[1] === '\\uD83D\\uDE00'", "true"},
        {"Array.from('\\uD800x').length", "2"},
        {"Object.prototype.toString.call(''[Symbol.iterator]())", "[object String Iterator]"},
        {"String.prototype[Symbol.iterator].call(null)", "throws TypeError"},
    };
    RUN(c);
}

Test(builtins, array_from_and_of)
{
    static const js_case_t c[] = {
        {"Array.from({length: 3}, function (v, i) { return i * this.m; }, {m: 2}).join()", "0,2,4"},
        {"Array.from([1, , 3]).length + ':' + (1 in Array.from([1, , 3]))", "3:true"},
        {"function C() {} var r = Array.from.call(C, [1, 2]); (r instanceof C) + ':' + r.length", "true:2"},
        {"Array.from([], 5)", "throws TypeError"},
        {"var closed = 0; var it = {}; it[Symbol.iterator] = function () { return {next: function () {"
         " return {value: 1, done: false}; }, 'return': function () { closed++; return {}; }}; };"
         " try { Array.from(it, function () { throw new RangeError('x'); }); } catch (e) {} closed",
         "1"},
        {"Array.of(7).length + ':' + Array.of(1, 2, 3).join()", "1:1,2,3"},
        {"Array[Symbol.species] === Array", "true"},
    };
    RUN(c);
}

Test(builtins, array_search_methods)
{
    static const js_case_t c[] = {
        {"[NaN].includes(NaN) + ':' + [NaN].indexOf(NaN)", "true:-1"},
        {"[-0].includes(0) + ':' + [1, 2, 3].includes(3, -1) + ':' + [1, 2].includes(1, 5)", "true:true:false"},
        {"[, ].includes(undefined)", "true"},
        {"[1, 2, 3].at(-1) + ':' + [1, 2, 3].at(3) + ':' + [1, 2, 3].at(-4)", "3:undefined:undefined"},
        {"[5, 12, 8].find(function (x) { return x > 6; })", "12"},
        {"[5, 12, 8].findIndex(function (x) { return x > 60; })", "-1"},
        {"[5, 12, 8].findLast(function (x) { return x > 6; })", "8"},
        {"[5, 12, 8].findLastIndex(function (x) { return x > 6; })", "2"},
        {"[].find(1)", "throws TypeError"},
        {"Array.prototype.at.call({length: 2, 1: 'b'}, -1)", "b"},
        {"Array.prototype.includes.call({length: Infinity, 0: 'x'}, 'x')", "true"},
    };
    RUN(c);
}

Test(builtins, array_in_place_methods)
{
    static const js_case_t c[] = {
        {"[1, 2, 3, 4].fill(0, 1, -1).join()", "1,0,0,4"},
        {"[1, 2, 3, 4, 5].copyWithin(0, 3).join()", "4,5,3,4,5"},
        {"[1, 2, 3, 4, 5].copyWithin(1, 0, 3).join()", "1,1,2,3,5"},
        {"var a = [1, , 3].copyWithin(0, 1); (0 in a) + ':' + a[1]", "false:3"},
        {"[1, [2, [3, [4]]]].flat().length + ':' + [1, [2, [3, [4]]]].flat(Infinity).join()", "3:1,2,3,4"},
        {"[1, , [2, , 3]].flat().length", "3"},
        {"[1, 2].flatMap(function (x) { return [x, [x * 2]]; }).length", "4"},
        {"Array.prototype.flat.length + ':' + Array.prototype.flatMap.length", "0:1"},
    };
    RUN(c);
}

Test(builtins, sort_is_stable_and_orders_undefined_and_holes_last)
{
    static const js_case_t c[] = {
        {"var a = []; for (var i = 0; i < 1000; i++) a.push({k: i % 7, i: i});"
         " a.sort(function (x, y) { return x.k - y.k; });"
         " var ok = true; for (var i = 1; i < 1000; i++)"
         "   if (a[i - 1].k > a[i].k || (a[i - 1].k === a[i].k && a[i - 1].i > a[i].i)) ok = false; ok",
         "true"},
        {"[10, 9, 1, 100].sort().join()", "1,10,100,9"},
        {"var a = [3, undefined, , 1]; a.sort(); a.length + ':' + a[2] + ':' + (3 in a)",
         "4:undefined:false"},
        {"['b', 'a', '\\uD83D\\uDE00', '\\uFF61'].sort().join() === ['a', 'b', '\\uD83D\\uDE00', '\\uFF61'].join()",
         "true"},
        {"[1, 2].sort(null)", "throws TypeError"},
        {"[2, 1].sort(function () { throw new RangeError('x'); })", "throws RangeError"},
        {"var o = {length: 3, 0: 'c', 2: 'a'}; Array.prototype.sort.call(o); o[0] + o[1] + (2 in o)",
         "acfalse"},
        {"[3, 1, 2].toSorted().join() + ':' + [1, , 3].toSorted().length", "1,2,3:3"},
        {"var a = [3, 1]; a.toSorted(); a.join()", "3,1"},
        {"[1, 2, 3].toReversed().join() + ':' + [1, 2, 3].with(-1, 9).join()", "3,2,1:1,2,9"},
        {"[1, 2].with(2, 0)", "throws RangeError"},
        {"[1, 2, 3, 4].toSpliced(1, 2, 'x').join() + ':' + [1, 2, 3].toSpliced(1).join()", "1,x,4:1"},
    };
    RUN(c);
}

Test(builtins, typed_arrays_get_the_array_methods)
{
    static const js_case_t c[] = {
        {"new Uint8Array([3, 1, 2]).sort().join()", "1,2,3"},
        {"new Float64Array([3, -0, NaN, 0, -1]).sort().join()", "-1,0,0,3,NaN"},
        {"1 / new Float64Array([0, -0]).sort()[0]", "-Infinity"},
        {"new Int8Array([1, 2, 3]).map(function (x) { return x * 2; }).join()", "2,4,6"},
        {"Object.prototype.toString.call(new Int16Array(4).filter(function (x, i) { return i > 1; }))",
         "[object Int16Array]"},
        {"new Uint8Array([1, 2, 3]).slice(-2).join() + ':' + new Uint8Array([1, 2]).at(-1)", "2,3:2"},
        {"new Uint8Array(3).fill(300).join()", "44,44,44"},
        {"new Uint8Array([1, 2, 3]).includes(2) + ':' + new Float32Array([NaN]).includes(NaN)", "true:true"},
        {"new Uint8Array([1, 2, 3]).toReversed().join() + ':' + new Uint8Array([1, 2]).with(0, 7).join()",
         "3,2,1:7,2"},
        {"new Uint8Array([1, 2, 3]).join('-') + ':' + new Uint8Array([1, 2, 3]).indexOf(3)", "1-2-3:2"},
        {"Uint8Array.prototype.join.call([1, 2])", "throws TypeError"},
        {"Uint8Array.prototype.at.call(new DataView(new ArrayBuffer(2)), 0)", "throws TypeError"},
        {"new Uint8Array([1, 2, 3]).reduce(function (a, b) { return a + b; })", "6"},
    };
    RUN(c);
}

Test(builtins, object_statics)
{
    static const js_case_t c[] = {
        {"JSON.stringify(Object.entries({a: 1, b: 2}))", "[[\"a\",1],[\"b\",2]]"},
        {"Object.values('ab').join()", "a,b"},
        {"var o = {get a() { delete this.b; return 1; }, b: 2}; Object.values(o).join()", "1"},
        {"JSON.stringify(Object.fromEntries([['a', 1], ['b', 2]]))", "{\"a\":1,\"b\":2}"},
        {"Object.fromEntries([1])", "throws TypeError"},
        {"Object.fromEntries(null)", "throws TypeError"},
        {"var d = Object.getOwnPropertyDescriptors({get x() { return 1; }}); typeof d.x.get", "function"},
        {"var s = Symbol(); var o = {}; o[s] = 1; Object.getOwnPropertyDescriptors(o)[s].value", "1"},
        {"Object.hasOwn({a: 1}, 'a') + ':' + Object.hasOwn(Object.create({a: 1}), 'a')", "true:false"},
        {"Object.hasOwn(null, 'a')", "throws TypeError"},
    };
    RUN(c);
}

Test(builtins, string_padding_trimming_and_at)
{
    static const js_case_t c[] = {
        {"'abc'.padStart(6, '12') + '|' + 'abc'.padEnd(6) + '|'", "121abc|abc   |"},
        {"'abc'.padStart(2) + ':' + 'abc'.padStart(6, '')", "abc:abc"},
        {"var p = 'x'.padStart(4, '\\uD83D\\uDE00'); p.length + ':' + p.charCodeAt(2).toString(16)", "4:d83d"},
        {"'\\u00a0\\ufeff x \\n'.trimStart() + '|'", "x \n|"},
        {"'|' + ' x \\u2028'.trimEnd()", "| x"},
        {"String.prototype.trimLeft === String.prototype.trimStart && String.prototype.trimRight.name",
         "trimEnd"},
        {"'a\\uD83D\\uDE00'.at(-1).charCodeAt(0).toString(16) + ':' + 'abc'.at(5)", "de00:undefined"},
        {"'\\uD83D\\uDE00'.codePointAt(0).toString(16) + ':' + String.fromCodePoint(0x1F600).length", "1f600:2"},
        {"String.raw({raw: ['a', 'b', 'c']}, 1, 2, 3)", "a1b2c"},
    };
    RUN(c);
}

Test(builtins, replace_all_and_match_all)
{
    static const js_case_t c[] = {
        {"'aXbXc'.replaceAll('X', '[$&]')", "a[X]b[X]c"},
        {"'aXbXc'.replaceAll('X', \"$`|$'|$$|$1\")", "aa|bXc|$|$1baXb|c|$|$1c"},
        {"'xx'.replaceAll('', '_')", "_x_x_"},
        {"escape('\\uD83D\\uDE00-\\uD83D\\uDE00'.replaceAll('-', function (m, i) { return i; }))",
         "%uD83D%uDE002%uD83D%uDE00"},
        {"'a1b22'.replaceAll(/(\\d)/g, '<$1>')", "a<1>b<2><2>"},
        {"'a1'.replaceAll(/\\d/, 'x')", "throws TypeError"},
        {"var r = []; var it = 'a1b22'.matchAll(/\\d+/g), x;"
         " while (!(x = it.next()).done) r.push(x.value[0] + '@' + x.value.index); r.join()",
         "1@1,22@3"},
        {"'ab'.matchAll(/b/)", "throws TypeError"},
        {"var it = 'a.b'.matchAll('.'); it.next().value[0] + it.next().value[0]", "a."},
        {"var n = 0, it = 'abc'.matchAll(/(?:)/g); while (!it.next().done) n++; n", "4"},
        {"Object.prototype.toString.call('a'.matchAll(/a/g))", "[object RegExp String Iterator]"},
    };
    RUN(c);
}

Test(builtins, normalize_round_trips)
{
    static const js_case_t c[] = {
        {"'e\\u0301'.normalize() === '\\u00e9'", "true"},
        {"'\\u00e9'.normalize('NFD') === 'e\\u0301'", "true"},
        {"'\\u00f1'.normalize('NFD').normalize('NFC') === '\\u00f1'", "true"},
        {"'\\uD55C'.normalize('NFD').length + ':' + ('\\u1112\\u1161\\u11AB'.normalize() === '\\uD55C')", "3:true"},
        {"'a\\u0323\\u0307'.normalize('NFD') === 'a\\u0323\\u0307' &&"
         " 'a\\u0307\\u0323'.normalize('NFD') === 'a\\u0323\\u0307'",
         "true"},
        {"'\\u1E0B\\u0323'.normalize() === '\\u1E0D\\u0307'", "true"},
        {"'\\uFB01'.normalize('NFKC') + ':' + '\\uFB01'.normalize('NFC').length", "fi:1"},
        {"'\\uD834\\uDD5E'.normalize('NFD') === '\\uD834\\uDD57\\uD834\\uDD65'", "true"},
        {"'abc'.normalize('nfc')", "throws RangeError"},
    };
    RUN(c);
}

Test(builtins, math_and_number)
{
    static const js_case_t c[] = {
        {"Math.fround(5.5) + ':' + Math.fround(5.05).toFixed(7) + ':' + Math.fround(2e40)", "5.5:5.0500002:Infinity"},
        {"Math.sinh(0) + ':' + Math.tanh(Infinity) + ':' + Math.acosh(1) + ':' + Math.expm1(0)", "0:1:0:0"},
        {"Math.atanh(1) + ':' + Math.log1p(-1) + ':' + 1 / Math.asinh(-0)", "Infinity:-Infinity:-Infinity"},
        {"Object.prototype.toString.call(Math)", "[object Math]"},
        {"Number.isSafeInteger(Math.pow(2, 53)) + ':' + Number.EPSILON", "false:2.220446049250313e-16"},
    };
    RUN(c);
}

Test(builtins, symbols)
{
    static const js_case_t c[] = {
        {"String(Symbol.asyncIterator) + ':' + typeof Symbol.asyncIterator", "Symbol(Symbol.asyncIterator):symbol"},
        {"var d = Object.getOwnPropertyDescriptor(Symbol, 'asyncIterator'); d.writable || d.configurable", "false"},
        {"Symbol('x').description + ':' + Symbol().description + ':' + Symbol('').description.length", "x:undefined:0"},
        {"Symbol.for('k').description + ':' + Symbol.iterator.description + ':' + Object(Symbol('o')).description",
         "k:Symbol.iterator:o"},
        {"typeof Symbol.species", "symbol"},
    };
    RUN(c);
}

Test(builtins, error_cause)
{
    static const js_case_t c[] = {
        {"var e = new Error('m', {cause: 0}); e.cause + ':' + Object.prototype.propertyIsEnumerable.call(e, 'cause')",
         "0:false"},
        {"'cause' in new Error('m', {}) || 'cause' in new Error('m')", "false"},
        {"var e = TypeError('m', {cause: 'c'});"
         " (e instanceof TypeError) + ':' + (e instanceof Error) + ':' + e.cause + ':' + e.name",
         "true:true:c:TypeError"},
        {"Error.prototype.constructor === Error && Object.getPrototypeOf(RangeError) === Error", "true"},
        {"Error.length + ':' + Error.name + ':' + URIError.name", "1:Error:URIError"},
        {"try { null.x; } catch (e) { (e instanceof TypeError) + ':' + (e.constructor === TypeError); }", "true:true"},
    };
    RUN(c);
}

Test(builtins, http_dates_parse)
{
    static const js_case_t c[] = {
        {"Date.parse('Sun, 06 Nov 1994 08:49:37 GMT')", "784111777000"},
        {"Date.parse('Sunday, 06-Nov-94 08:49:37 GMT')", "784111777000"},
        {"Date.parse('Sun Nov  6 08:49:37 1994')", "784111777000"},
        {"Date.parse('Sun, 06 Nov 1994 09:49:37 +0100')", "784111777000"},
        {"new Date('Sun, 06 Nov 1994 08:49:37 GMT').getTime()", "784111777000"},
        {"Date.parse('1994-11-06T08:49:37Z') + ':' + new Date(0).getTime() + ':' + new Date(2000, 0).getFullYear()",
         "784111777000:0:2000"},
        {"isNaN(Date.parse('Sun, 32 Nov 1994 08:49:37 GMT')) + ':' + isNaN(Date.parse('garbage'))", "true:true"},
        {"typeof Date() + ':' + (new Date() instanceof Date) + ':' + (Date.prototype.constructor === Date)",
         "string:true:true"},
    };
    RUN(c);
}
