/* Coroutines (lib/core/coro.c, lib/js/coro.js): async functions, generators, async generators and for-await,
 * run as the compiler's lowering emits them (docs/coroutines.md). Each test evaluates a hand-lowered ES5
 * program in a bare heap set up like isolate.c's setup_runtime, with the helper object as a global `$ew`
 * (tests only: compiled code gets it as a hidden parameter), drains the microtasks and compares the log
 * with what Node 20 prints for the original source, quoted above each test.
 * Also: a 100,000-iteration await loop and a 10,000-deep await chain (no native stack growth; figures are
 * printed), memory per suspended call, and the CPU limit firing inside a coroutine in a real isolate. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isolate.h"

static duk_context *ctx;
static char result[16384];

static const char *prelude =
    "var log = [];"
    "function L(x) { log.push(String(x)); }"
    "function J(x) { L(JSON.stringify(x)); }"
    "function tick4() { Promise.resolve().then(function(){L(1)}).then(function(){L(2)})"
    "  .then(function(){L(3)}).then(function(){L(4)}); }";

/* setup_runtime's order (isolate.c), then $ew for the test scripts. */
static duk_ret_t init_runtime(duk_context *c, void *udata)
{
    (void) udata;
    ew__microtask_init(c);
    ew__builtins_init(c);
    ew__promise_init(c);
    ew__collections_init(c);
    ew__coro_init(c);
    duk_push_global_object(c);
    duk_push_object(c);
    ew__coro_push_helpers(c);
    duk_put_prop_literal(c, -2, "$ew");
    duk_pop(c);
    return 0;
}

static void init_heap(duk_context *c)
{
    ctx = c;
    cr_assert_not_null(ctx);
    if (duk_safe_call(ctx, init_runtime, NULL, 0, 1) != DUK_EXEC_SUCCESS)
        cr_assert_fail("init: %s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    if (duk_peval_string(ctx, prelude) != 0)
        cr_assert_fail("prelude: %s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
}

static void setup(void)
{
    init_heap(duk_create_heap_default());
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

static void eval_or_fail(const char *src)
{
    if (duk_peval_string(ctx, src) != 0)
        cr_assert_fail("script threw: %s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
}

/* Evaluates src, drains the microtasks, returns the log joined by spaces. */
static const char *run(const char *src)
{
    eval_or_fail(src);
    ew__microtask_drain(ctx);
    duk_peval_string(ctx, "log.join(' ')");
    snprintf(result, sizeof(result), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return result;
}

TestSuite(core_coro, .init = setup, .fini = teardown);

/* ---- async functions: ordering (expected orders from Node 20 for the source in the comment) ---- */

/* async function f() { L('a'); await null; L('b'); await undefined; L('c'); }
 * f().then(() => L('done')); tick4(); L('sync'); */
Test(core_coro, await_of_a_plain_value_takes_one_tick)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { L('a'); $ew.await(null); L('b'); $ew.await(undefined); L('c'); }"
                         "f().then(function () { L('done'); }); tick4(); L('sync');"),
                     "a sync b 1 c 2 done 3 4");
}

/* async function f() { await Promise.resolve(); L('A'); } f(); tick4(); */
Test(core_coro, await_of_a_resolved_promise_takes_one_tick)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { $ew.await(Promise.resolve()); L('A'); }"
                         "f(); tick4();"),
                     "A 1 2 3 4");
}

/* let res; const p = new Promise(r => res = r); async function f() { L('v ' + await p); } f();
 * Promise.resolve().then(() => { L('resolve'); res('P'); }); tick4(); */
Test(core_coro, await_of_a_pending_promise_resumes_in_its_reaction_job)
{
    cr_assert_str_eq(run("var res; var p = new Promise(function (r) { res = r; });"
                         "function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { L('v ' + $ew.await(p)); }"
                         "f(); Promise.resolve().then(function () { L('resolve'); res('P'); }); tick4();"),
                     "resolve 1 v P 2 3 4");
}

/* var th = { then(r) { L('then'); r('v'); } };
 * async function f() { L('before'); var v = await th; L('got ' + v); } f(); L('sync'); tick4(); */
Test(core_coro, await_of_a_thenable_calls_then_in_a_job)
{
    cr_assert_str_eq(run("var th = { then: function (r) { L('then'); r('v'); } };"
                         "function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { L('before'); var v = $ew.await(th); L('got ' + v); }"
                         "f(); L('sync'); tick4();"),
                     "before sync then 1 got v 2 3 4");
}

/* async function f() { var v = await { get then() { L('get'); return undefined; }, x: 1 }; L('x' + v.x); }
 * f(); L('sync'); tick4(); */
Test(core_coro, await_reads_then_synchronously)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { var v = $ew.await({ get then() { L('get'); return undefined; }, x: 1 });"
                         "  L('x' + v.x); }"
                         "f(); L('sync'); tick4();"),
                     "get sync x1 1 2 3 4");
}

/* async function f() { return Promise.resolve('r'); } f().then(v => L(v)); tick4(); */
Test(core_coro, returning_a_promise_adopts_it_in_two_extra_ticks)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { return Promise.resolve('r'); }"
                         "f().then(function (v) { L(v); }); tick4();"),
                     "1 2 r 3 4");
}

/* async function a() { L('a1'); await null; L('a2'); await null; L('a3'); } (b likewise)  a(); b(); L('s'); */
Test(core_coro, two_async_calls_interleave)
{
    cr_assert_str_eq(run("function a() { return $ew.async(a$, this, arguments); }"
                         "function a$() { L('a1'); $ew.await(null); L('a2'); $ew.await(null); L('a3'); }"
                         "function b() { return $ew.async(b$, this, arguments); }"
                         "function b$() { L('b1'); $ew.await(null); L('b2'); $ew.await(null); L('b3'); }"
                         "a(); b(); L('s');"),
                     "a1 b1 s a2 b2 a3 b3");
}

/* async function inner() { L('i1'); await null; L('i2'); return 'iv'; }
 * async function outer() { L('o1'); var v = await inner(); L('o2 ' + v); } outer(); tick4(); */
Test(core_coro, awaiting_another_async_call)
{
    cr_assert_str_eq(run("function inner() { return $ew.async(inner$, this, arguments); }"
                         "function inner$() { L('i1'); $ew.await(null); L('i2'); return 'iv'; }"
                         "function outer() { return $ew.async(outer$, this, arguments); }"
                         "function outer$() { L('o1'); var v = $ew.await(inner()); L('o2 ' + v); }"
                         "outer(); tick4();"),
                     "o1 i1 i2 1 o2 iv 2 3 4");
}

/* test262 await-monkey-patched-promise: await uses the intrinsic then, not the patched one.
 * var calls = 0; var patched = Promise.resolve(42); patched.then = function () { calls++; ... };
 * async function t() { L('Await: ' + await patched); } t().then(() => L('calls ' + calls));
 * new Promise(res => { L('Promise: 1'); res(); }).then(() => L('Promise: 2')); */
Test(core_coro, await_ignores_a_patched_then)
{
    cr_assert_str_eq(run("var calls = 0; var patched = Promise.resolve(42);"
                         "patched.then = function () { calls++; return Promise.prototype.then.apply(this, arguments); };"
                         "function t() { return $ew.async(t$, this, arguments); }"
                         "function t$() { L('Await: ' + $ew.await(patched)); }"
                         "t().then(function () { L('calls ' + calls); });"
                         "new Promise(function (res) { L('Promise: 1'); res(); }).then(function () { L('Promise: 2'); });"),
                     "Promise: 1 Await: 42 Promise: 2 calls 0");
}

/* ---- async functions: exceptions ---- */

/* async function f() { L('in'); throw new Error('boom'); }
 * var p; try { p = f(); L('no throw'); } catch (e) { L('threw'); } p.catch(e => L('caught ' + e.message)); tick4(); */
Test(core_coro, throw_before_the_first_await_rejects)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { L('in'); throw new Error('boom'); }"
                         "var p; try { p = f(); L('no throw'); } catch (e) { L('threw'); }"
                         "p.catch(function (e) { L('caught ' + e.message); }); tick4();"),
                     "in no throw caught boom 1 2 3 4");
}

/* async function f() { await 1; throw new Error('late'); } f().catch(e => L('caught ' + e.message)); tick4(); */
Test(core_coro, throw_after_an_await_rejects)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { $ew.await(1); throw new Error('late'); }"
                         "f().catch(function (e) { L('caught ' + e.message); }); tick4();"),
                     "1 caught late 2 3 4");
}

/* async function f() {
 *   try { L('t'); await Promise.reject(new Error('x')); L('unreached'); }
 *   catch (e) { L('c ' + e.message); await null; L('c2'); }
 *   finally { L('f'); await null; L('f2'); }
 *   return 'end'; }
 * f().then(v => L(v)); tick4(); */
Test(core_coro, await_in_try_catch_and_finally)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() {"
                         "  try { L('t'); $ew.await(Promise.reject(new Error('x'))); L('unreached'); }"
                         "  catch (e) { L('c ' + e.message); $ew.await(null); L('c2'); }"
                         "  finally { L('f'); $ew.await(null); L('f2'); }"
                         "  return 'end'; }"
                         "f().then(function (v) { L(v); }); tick4();"),
                     "t c x 1 c2 f 2 f2 3 end 4");
}

/* async function f() { try { return await Promise.resolve(1); } finally { await null; L('fin'); } }
 * f().then(v => L('r' + v)); tick4(); */
Test(core_coro, finally_awaits_after_return)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { try { return $ew.await(Promise.resolve(1)); }"
                         "  finally { $ew.await(null); L('fin'); } }"
                         "f().then(function (v) { L('r' + v); }); tick4();"),
                     "1 fin 2 r1 3 4");
}

/* async function f() { try { await Promise.reject('no'); } catch (e) { L('caught ' + e); } } f(); */
Test(core_coro, awaited_rejection_caught_is_not_reported)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { try { $ew.await(Promise.reject('no')); } catch (e) { L('caught ' + e); } }"
                         "f();"),
                     "caught no");
    duk_push_heap_stash(ctx);
    duk_get_prop_string(ctx, -1, DUK_HIDDEN_SYMBOL("pN")); /* promise.c's count of reported rejections */
    cr_assert_eq(duk_get_int(ctx, -1), 0);
    duk_pop_2(ctx);
}

/* An async function that nobody awaits and that throws is an unhandled rejection, as in V8. */
Test(core_coro, unobserved_async_failure_is_reported)
{
    run("function f() { return $ew.async(f$, this, arguments); }"
        "function f$() { $ew.await(null); throw new Error('lost'); } f();");
    duk_push_heap_stash(ctx);
    duk_get_prop_string(ctx, -1, DUK_HIDDEN_SYMBOL("pN"));
    cr_assert_eq(duk_get_int(ctx, -1), 1);
    duk_pop_2(ctx);
}

/* ---- async functions: shapes ---- */

/* async function f() { var s = 0; for (var i = 0; i < 5; i++) { s += await i; if (i === 3) break; }
 *   while (s < 20) { s += await 5; } do { s += await 1; } while (s < 23); return s; } f().then(v => L(v)); */
Test(core_coro, loops_with_await)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { var s = 0;"
                         "  for (var i = 0; i < 5; i++) { s += $ew.await(i); if (i === 3) break; }"
                         "  while (s < 20) { s += $ew.await(5); }"
                         "  do { s += $ew.await(1); } while (s < 23);"
                         "  return s; }"
                         "f().then(function (v) { L(v); });"),
                     "23");
}

/* var o = { v: 7, async m(a, b) { await null; return this.v + a + b + arguments.length; } };
 * o.m(1, 2).then(v => L(v));   — both lowered shapes: body hoisted with (this, arguments), and a closure */
Test(core_coro, this_and_arguments_reach_the_body)
{
    cr_assert_str_eq(run("var o = { v: 7, m: function (a, b) { return $ew.async(m$, this, arguments); } };"
                         "function m$(a, b) { $ew.await(null); return this.v + a + b + arguments.length; }"
                         "o.m(1, 2).then(function (v) { L(v); });"
                         "var o2 = { v: 7, m: function (a, b) { var _this = this, _args = arguments;"
                         "  return $ew.async(({ b() { $ew.await(null); return _this.v + a + b + _args.length; } }).b); } };"
                         "o2.m(1, 2).then(function (v) { L(v); });"),
                     "12 12");
}

/* function C() { this.x = 'cx'; var f = async () => { await null; return this.x; }; f().then(v => L(v)); } new C(); */
Test(core_coro, async_arrow_captures_this)
{
    cr_assert_str_eq(run("function C() { var _this = this; this.x = 'cx';"
                         "  var f = function () { return $ew.async(function () { $ew.await(null); return _this.x; }); };"
                         "  f().then(function (v) { L(v); }); } new C();"),
                     "cx");
}

/* async function f(x) { L('body'); if (x) throw new Error('e'); return x; }   — no await: the fast path
 * f(0).then(v => L('v' + v)); f(1).catch(e => L('e')); L('sync'); tick4(); */
Test(core_coro, async_without_await_needs_no_coroutine)
{
    cr_assert_str_eq(run("function f(x) { return $ew.asyncNoAwait(f$, this, arguments); }"
                         "function f$(x) { L('body'); if (x) throw new Error('e'); return x; }"
                         "f(0).then(function (v) { L('v' + v); }); f(1).catch(function () { L('e'); });"
                         "L('sync'); tick4();"),
                     "body body sync v0 e 1 2 3 4");
}

/* Async calls started from native callbacks (Array.prototype.map, sort) and awaiting inside them. */
Test(core_coro, async_calls_from_native_callbacks)
{
    cr_assert_str_eq(run("function f(x) { return $ew.async(f$, this, arguments); }"
                         "function f$(x) { $ew.await(null); return x * 2; }"
                         "Promise.all([1, 2, 3].map(f)).then(function (v) { L(v.join()); });"),
                     "2,4,6");
}

/* An await reached through a native frame (here a getter) fails cleanly with the engine's TypeError. */
Test(core_coro, await_under_a_native_frame_throws_inside_the_body)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { var o = { get x() { return $ew.await(1); } };"
                         "  try { return o.x; } catch (e) { L(e.name); } return 'ok'; }"
                         "f().then(function (v) { L(v); });"),
                     "TypeError ok");
}

/* ---- generators ---- */

/* function* g(a) { L('start ' + a); var x = yield 1; L('x ' + x); var y = yield x + 1; L('y ' + y); return 'end'; }
 * var it = g('A'); L('created'); for (var v of ['ignored', 10, 20, 30]) L(JSON.stringify(it.next(v))); */
Test(core_coro, generator_next_passes_values_both_ways)
{
    cr_assert_str_eq(run("function g(a) { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$(a) { L('start ' + a); var x = $ew.yield(1); L('x ' + x);"
                         "  var y = $ew.yield(x + 1); L('y ' + y); return 'end'; }"
                         "var it = g('A'); L('created');"
                         "J(it.next('ignored')); J(it.next(10)); J(it.next(20)); J(it.next(30));"),
                     "created start A {\"value\":1,\"done\":false} x 10 {\"value\":11,\"done\":false} y 20 "
                     "{\"value\":\"end\",\"done\":true} {\"done\":true}");
}

/* function* g() { try { yield 1; yield 2; } finally { L('cleanup'); } }   it.next(); it.return('R'); it.next();
 * function* h() { try { yield 1; } catch (e) { L('wrong catch'); } finally { yield 'f'; L('after f'); } }
 * function* k() { try { yield 1; } finally { return 'override'; } } */
Test(core_coro, generator_return_runs_finally_blocks)
{
    cr_assert_str_eq(run("function g() { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$() { try { $ew.yield(1); $ew.yield(2); } finally { L('cleanup'); } }"
                         "var it = g(); it.next(); J(it['return']('R')); J(it.next());"
                         "function h() { return $ew.generator(h, h$, this, arguments); } $ew.markGenerator(h);"
                         "function h$() { try { $ew.yield(1); } catch (e) { if (e === $ew.RET) throw e; L('wrong catch'); }"
                         "  finally { $ew.yield('f'); L('after f'); } }"
                         "it = h(); it.next(); J(it['return']('R2')); J(it.next());"
                         "function k() { return $ew.generator(k, k$, this, arguments); } $ew.markGenerator(k);"
                         "function k$() { try { $ew.yield(1); } finally { return 'override'; } }"
                         "it = k(); it.next(); J(it['return']('R3'));"),
                     "cleanup {\"value\":\"R\",\"done\":true} {\"done\":true} {\"value\":\"f\",\"done\":false} "
                     "after f {\"value\":\"R2\",\"done\":true} {\"value\":\"override\",\"done\":true}");
}

/* function* g() { while (true) { try { yield 1; } catch (e) { L('caught ' + e); } } }   it.next(); it.throw('E1')
 * function* h() { L('never'); yield 1; }   it2.throw(new Error('early')) before starting, then it2.next()
 * function* k() { yield 1; }   it3.next(); it3.throw('x') uncaught; it3.next() */
Test(core_coro, generator_throw)
{
    cr_assert_str_eq(run("function g() { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$() { while (true) { try { $ew.yield(1); }"
                         "  catch (e) { if (e === $ew.RET) throw e; L('caught ' + e); } } }"
                         "var it = g(); it.next(); J(it['throw']('E1'));"
                         "function h() { return $ew.generator(h, h$, this, arguments); } $ew.markGenerator(h);"
                         "function h$() { L('never'); $ew.yield(1); }"
                         "var it2 = h(); try { it2['throw'](new Error('early')); } catch (e) { L('thrown ' + e.message); }"
                         "J(it2.next());"
                         "function k() { return $ew.generator(k, k$, this, arguments); } $ew.markGenerator(k);"
                         "function k$() { $ew.yield(1); }"
                         "var it3 = k(); it3.next(); try { it3['throw']('x'); } catch (e) { L('out ' + e); } J(it3.next());"),
                     "caught E1 {\"value\":1,\"done\":false} thrown early {\"done\":true} out x {\"done\":true}");
}

/* var it; function* g() { try { it.next(); } catch (e) { L(e.constructor.name + ': ' + e.message); } yield 1; }
 * it = g(); it.next();
 * function* s() { L('no'); yield 1; }  it.return(5) before starting, then it.next() */
Test(core_coro, generator_states)
{
    cr_assert_str_eq(run("var it; function g() { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$() { try { it.next(); } catch (e) { L(e.constructor.name + ': ' + e.message); }"
                         "  $ew.yield(1); }"
                         "it = g(); it.next();"
                         "function s() { return $ew.generator(s, s$, this, arguments); } $ew.markGenerator(s);"
                         "function s$() { L('no'); $ew.yield(1); }"
                         "var it2 = s(); J(it2['return'](5)); J(it2.next());"),
                     "TypeError: Generator is already running {\"value\":5,\"done\":true} {\"done\":true}");
}

/* function* inner() { try { var a = yield 'i1'; L('inner got ' + a); var b = yield 'i2'; L('inner got ' + b);
 *   return 'iret'; } finally { L('inner finally'); } }
 * function* outer() { var r = yield* inner(); L('outer got ' + r); yield 'o1'; }
 * function* in2() { try { yield 1; } catch (e) { L('in2 caught ' + e); yield 'recovered'; } }
 * function* out2() { yield* in2(); yield 'after'; }   next/throw/return through the delegation */
Test(core_coro, yield_star_forwards_next_throw_and_return)
{
    cr_assert_str_eq(
        run("function inner() { return $ew.generator(inner, inner$, this, arguments); } $ew.markGenerator(inner);"
            "function inner$() { try { var a = $ew.yield('i1'); L('inner got ' + a); var b = $ew.yield('i2');"
            "  L('inner got ' + b); return 'iret'; } finally { L('inner finally'); } }"
            "function outer() { return $ew.generator(outer, outer$, this, arguments); } $ew.markGenerator(outer);"
            "function outer$() { var r = $ew.yieldStar(inner()); L('outer got ' + r); $ew.yield('o1'); }"
            "var it = outer(); J(it.next('x')); J(it.next('A')); J(it.next('B')); J(it.next());"
            "function in2() { return $ew.generator(in2, in2$, this, arguments); } $ew.markGenerator(in2);"
            "function in2$() { try { $ew.yield(1); } catch (e) { if (e === $ew.RET) throw e; L('in2 caught ' + e);"
            "  $ew.yield('recovered'); } }"
            "function out2() { return $ew.generator(out2, out2$, this, arguments); } $ew.markGenerator(out2);"
            "function out2$() { $ew.yieldStar(in2()); $ew.yield('after'); }"
            "it = out2(); it.next(); J(it['throw']('T')); J(it.next());"
            "it = outer(); it.next(); J(it['return']('RR')); J(it.next());"),
        "{\"value\":\"i1\",\"done\":false} inner got A {\"value\":\"i2\",\"done\":false} inner got B inner finally "
        "outer got iret {\"value\":\"o1\",\"done\":false} {\"done\":true} in2 caught T "
        "{\"value\":\"recovered\",\"done\":false} {\"value\":\"after\",\"done\":false} inner finally "
        "{\"value\":\"RR\",\"done\":true} {\"done\":true}");
}

/* function* g() { yield* [1, 2]; return 3; } L(Array.from(g()).join());
 * var res = { done: false, value: 'v' }; var iter = { [Symbol.iterator]() { return this; }, next() { return res; } };
 * function* h() { yield* iter; } L(h().next() === res);
 * noThrow iterator (no throw method): it.throw('x') closes it and throws a TypeError */
Test(core_coro, yield_star_iterator_protocol)
{
    cr_assert_str_eq(run("function g() { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$() { $ew.yieldStar([1, 2]); return 3; }"
                         "L(Array.from(g()).join());"
                         "var res = { done: false, value: 'v' }; var iter = { next: function () { return res; } };"
                         "iter[Symbol.iterator] = function () { return this; };"
                         "function h() { return $ew.generator(h, h$, this, arguments); } $ew.markGenerator(h);"
                         "function h$() { $ew.yieldStar(iter); }"
                         "L(h().next() === res);"
                         "var noThrow = { next: function () { return { done: false, value: 1 }; },"
                         "  'return': function () { L('closed'); return {}; } };"
                         "noThrow[Symbol.iterator] = function () { return this; };"
                         "function k() { return $ew.generator(k, k$, this, arguments); } $ew.markGenerator(k);"
                         "function k$() { $ew.yieldStar(noThrow); }"
                         "var it = k(); it.next(); try { it['throw']('x'); } catch (e) { L(e.constructor.name); }"),
                     "1,2 true closed TypeError");
}

/* The closure shape: parameters (and their defaults) stay on the wrapper, so they are evaluated at the call.
 * var o = { k: 'k', *g(a, b = a + 1) { yield this.k + a + b + arguments.length; } }; L(o.g(1).next().value);
 * function* g2(a = (() => { throw 'p'; })()) { L('body'); } try { g2(); L('no throw'); } catch (e) { L('threw ' + e); }
 * async function f(a = (() => { throw 'q'; })()) { L('body'); }  — the hoisted-parameter shape: errors reject
 * var p; try { p = f(); L('no throw'); } catch (e) { L('threw'); } p.catch(e => L('rejected ' + e)); */
Test(core_coro, lowered_shapes_for_parameters)
{
    cr_assert_str_eq(run("function g(a, b) { var _this = this, _args = arguments; if (b === undefined) b = a + 1;"
                         "  return $ew.generator(g, ({ b$() { $ew.yield(_this.k + a + b + _args.length); } }).b$); }"
                         "$ew.markGenerator(g);"
                         "var o = { k: 'k', g: g }; L(o.g(1).next().value);"
                         "function g2(a) { if (a === undefined) a = (function () { throw 'p'; })();"
                         "  return $ew.generator(g2, ({ b$() { L('body'); } }).b$); } $ew.markGenerator(g2);"
                         "try { g2(); L('no throw'); } catch (e) { L('threw ' + e); }"
                         "function f() { return $ew.async(({ b$(a) { if (a === undefined) a = (function () { throw 'q'; })();"
                         "  L('body'); } }).b$, this, arguments); }"
                         "var p; try { p = f(); L('no throw'); } catch (e) { L('threw'); }"
                         "p['catch'](function (e) { L('rejected ' + e); });"),
                     "k121 threw p no throw rejected q");
}

/* function* g() {} var it = g(); prototype chain, toStringTag, [Symbol.iterator], GeneratorFunction */
Test(core_coro, generator_prototype_chain)
{
    cr_assert_str_eq(run("function g() { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$() {}"
                         "function g2() { return $ew.generator(g2, g2$, this, arguments); } $ew.markGenerator(g2);"
                         "function g2$() {}"
                         "var it = g();"
                         "L(Object.getPrototypeOf(it) === g.prototype);"
                         "L(Object.prototype.toString.call(it));"
                         "L(it[Symbol.iterator]() === it);"
                         "var GP = Object.getPrototypeOf(g.prototype);"
                         "L(Object.getPrototypeOf(GP) === Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));"
                         "L(GP.hasOwnProperty('next'));"
                         "L(Object.getPrototypeOf(g) === Object.getPrototypeOf(g2));"
                         "L(Object.prototype.toString.call(g));"),
                     "true [object Generator] true true true true [object GeneratorFunction]");
}

/* A generator whose fn.prototype is not an object falls back to %GeneratorPrototype%; a bad receiver throws. */
Test(core_coro, generator_receivers)
{
    cr_assert_str_eq(run("function g() { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g); function g$() {}"
                         "g.prototype = 5; var it = g(); L(Object.prototype.toString.call(it));"
                         "try { it.next.call({}); } catch (e) { L(e.name); }"),
                     "[object Generator] TypeError");
}

/* Generators are pooled coroutines too: many short-lived generators and async calls reuse threads. */
Test(core_coro, many_generators_reuse_threads)
{
    cr_assert_str_eq(run("function g(n) { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$(n) { for (var i = 0; i < n; i++) $ew.yield(i); return n; }"
                         "var s = 0; for (var k = 0; k < 2000; k++) { var it = g(3), r;"
                         "  while (!(r = it.next()).done) s += r.value; s += r.value; }"
                         "L(s);"),
                     "12000");
}

/* ---- async generators ---- */

/* async function* g() { L('start'); var x = yield 1; L('x ' + x); await null; yield 2; L('end'); }
 * var it = g(); ['a','b','c','d'].forEach((v, i) => it.next(v).then(r => L('r' + (i + 1) + ' ' + JSON.stringify(r))));
 * L('sync'); */
Test(core_coro, async_generator_queues_requests)
{
    cr_assert_str_eq(run("function g() { return $ew.asyncGenerator(g, g$, this, arguments); } $ew.markAsyncGenerator(g);"
                         "function g$() { L('start'); var x = $ew.asyncYield(1); L('x ' + x); $ew.await(null);"
                         "  $ew.asyncYield(2); L('end'); }"
                         "var it = g(); ['a', 'b', 'c', 'd'].forEach(function (v, i) {"
                         "  it.next(v).then(function (r) { L('r' + (i + 1) + ' ' + JSON.stringify(r)); }); });"
                         "L('sync');"),
                     "start sync x b r1 {\"value\":1,\"done\":false} end r2 {\"value\":2,\"done\":false} "
                     "r3 {\"done\":true} r4 {\"done\":true}");
}

/* async function* g() { var x = yield Promise.resolve(5); L('x ' + x); return Promise.resolve(6); }
 * var it = g(); it.next().then(r => { L(JSON.stringify(r)); return it.next('in'); }).then(r => L(JSON.stringify(r))); tick4(); */
Test(core_coro, async_generator_awaits_yield_and_return_operands)
{
    cr_assert_str_eq(run("function g() { return $ew.asyncGenerator(g, g$, this, arguments); } $ew.markAsyncGenerator(g);"
                         "function g$() { var x = $ew.asyncYield(Promise.resolve(5)); L('x ' + x);"
                         "  return $ew.await(Promise.resolve(6)); }"
                         "var it = g(); it.next().then(function (r) { J(r); return it.next('in'); })"
                         "  .then(function (r) { J(r); }); tick4();"),
                     "1 {\"value\":5,\"done\":false} x in 2 3 4 {\"value\":6,\"done\":true}");
}

/* async function* g() { try { yield 1; yield 2; } finally { L('fin'); await null; L('fin2'); } }
 * it.next() then it.return('R');  it2.return('early') before start;  it3.throw(new Error('t')) before start, then next() */
Test(core_coro, async_generator_return_and_throw)
{
    cr_assert_str_eq(run("function g() { return $ew.asyncGenerator(g, g$, this, arguments); } $ew.markAsyncGenerator(g);"
                         "function g$() { try { $ew.asyncYield(1); $ew.asyncYield(2); }"
                         "  finally { L('fin'); $ew.await(null); L('fin2'); } }"
                         "var it = g(); it.next().then(function (r) { L('n ' + JSON.stringify(r)); return it['return']('R'); })"
                         "  .then(function (r) { L('ret ' + JSON.stringify(r)); });"
                         "var it2 = g(); it2['return']('early').then(function (r) { L('early ' + JSON.stringify(r)); });"
                         "var it3 = g(); it3['throw'](new Error('t'))['catch'](function (e) { L('t ' + e.message); });"
                         "it3.next().then(function (r) { L('after throw ' + JSON.stringify(r)); });"),
                     "t t after throw {\"done\":true} n {\"value\":1,\"done\":false} early {\"value\":\"early\",\"done\":true} "
                     "fin fin2 ret {\"value\":\"R\",\"done\":true}");
}

/* async function* inner() { yield 'a'; await null; yield 'b'; return 'r'; }
 * async function* outer() { var r = yield* inner(); L('inner returned ' + r); yield* ['s1', Promise.resolve('s2')]; }
 * async function f() { for await (var x of outer()) L(x); } f(); */
Test(core_coro, async_yield_star_delegates)
{
    cr_assert_str_eq(run("function inner() { return $ew.asyncGenerator(inner, inner$, this, arguments); } $ew.markAsyncGenerator(inner);"
                         "function inner$() { $ew.asyncYield('a'); $ew.await(null); $ew.asyncYield('b'); return $ew.await('r'); }"
                         "function outer() { return $ew.asyncGenerator(outer, outer$, this, arguments); } $ew.markAsyncGenerator(outer);"
                         "function outer$() { var r = $ew.asyncYieldStar(inner()); L('inner returned ' + r);"
                         "  $ew.asyncYieldStar(['s1', Promise.resolve('s2')]); }"
                         "function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { var x, _r = $ew.asyncIterator(outer());"
                         "  try { while ($ew.asyncNext(_r)) { x = _r.value; L(x); } }"
                         "  catch (_e) { if (_e !== $ew.RET) $ew.asyncCloseThrow(_r); throw _e; }"
                         "  finally { $ew.asyncClose(_r); } }"
                         "f();"),
                     "a b inner returned r s1 s2");
}

/* async function* g() {} var it = g(); [Symbol.asyncIterator], toStringTag, prototype */
Test(core_coro, async_generator_prototype_chain)
{
    cr_assert_str_eq(run("function g() { return $ew.asyncGenerator(g, g$, this, arguments); } $ew.markAsyncGenerator(g);"
                         "function g$() {}"
                         "var it = g(); L(it[Symbol.asyncIterator]() === it); L(Object.prototype.toString.call(it));"
                         "L(Object.getPrototypeOf(it) === g.prototype);"),
                     "true [object AsyncGenerator] true");
}

/* ---- for await ---- */

/* async function f() { for await (var x of [Promise.resolve(1), 2, Promise.resolve(3)]) L('x' + x); L('done'); }
 * f(); tick4(); */
Test(core_coro, for_await_over_a_sync_iterable_of_promises)
{
    cr_assert_str_eq(run("function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { var x, _r = $ew.asyncIterator([Promise.resolve(1), 2, Promise.resolve(3)]);"
                         "  try { while ($ew.asyncNext(_r)) { x = _r.value; L('x' + x); } }"
                         "  catch (_e) { if (_e !== $ew.RET) $ew.asyncCloseThrow(_r); throw _e; }"
                         "  finally { $ew.asyncClose(_r); }"
                         "  L('done'); }"
                         "f(); tick4();"),
                     "1 x1 2 3 x2 4 x3 done");
}

/* async function* g() { try { yield 1; yield 2; yield 3; } finally { L('closed'); } }
 * async function f() { for await (var x of g()) { L(x); if (x === 2) break; } L('after'); } f(); */
Test(core_coro, for_await_break_closes_the_iterator)
{
    cr_assert_str_eq(run("function g() { return $ew.asyncGenerator(g, g$, this, arguments); } $ew.markAsyncGenerator(g);"
                         "function g$() { try { $ew.asyncYield(1); $ew.asyncYield(2); $ew.asyncYield(3); }"
                         "  finally { L('closed'); } }"
                         "function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { var x, _r = $ew.asyncIterator(g());"
                         "  try { while ($ew.asyncNext(_r)) { x = _r.value; L(x); if (x === 2) break; } }"
                         "  catch (_e) { if (_e !== $ew.RET) $ew.asyncCloseThrow(_r); throw _e; }"
                         "  finally { $ew.asyncClose(_r); }"
                         "  L('after'); }"
                         "f();"),
                     "1 2 closed after");
}

/* var it = { i: 0, [Symbol.iterator]() { return this; }, next() { return { value: this.i++, done: false }; },
 *   return() { L('sync return'); return { done: true }; } };
 * async function f() { for await (var x of it) { L(x); if (x === 1) break; } L('after'); }
 * async function g() { try { for await (var x of [1, Promise.reject('bad'), 3]) L(x); } catch (e) { L('caught ' + e); } }
 * async function h() { try { for await (var x of [1, 2]) { L(x); throw 'body'; } } catch (e) { L('h caught ' + e); } }
 * f().then(g).then(h); */
Test(core_coro, for_await_over_sync_iterators_closes_and_rejects)
{
    cr_assert_str_eq(run("var it = { i: 0, next: function () { return { value: this.i++, done: false }; },"
                         "  'return': function () { L('sync return'); return { done: true }; } };"
                         "it[Symbol.iterator] = function () { return this; };"
                         "function forAwait(iterable, fn) { return $ew.async(forAwait$, this, arguments); }"
                         "function forAwait$(iterable, fn) { var _r = $ew.asyncIterator(iterable);"
                         "  try { while ($ew.asyncNext(_r)) { if (fn(_r.value) === 'break') break; } }"
                         "  catch (_e) { if (_e !== $ew.RET) $ew.asyncCloseThrow(_r); throw _e; }"
                         "  finally { $ew.asyncClose(_r); } }"
                         "function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { $ew.await(forAwait(it, function (x) { L(x); if (x === 1) return 'break'; }));"
                         "  L('after'); }"
                         "function g() { return $ew.async(g$, this, arguments); }"
                         "function g$() { try { $ew.await(forAwait([1, Promise.reject('bad'), 3], L)); }"
                         "  catch (e) { L('caught ' + e); } }"
                         "function h() { return $ew.async(h$, this, arguments); }"
                         "function h$() { try { $ew.await(forAwait([1, 2], function (x) { L(x); throw 'body'; })); }"
                         "  catch (e) { L('h caught ' + e); } }"
                         "f().then(g).then(h);"),
                     "0 1 sync return after 1 caught bad 1 h caught body");
}

/* ES2025 (AsyncFromSyncIteratorContinuation, closeOnRejection): a rejected value closes the sync iterator.
 * Node 20 prints "1 caught bad" (no close); test262 expects the close. */
Test(core_coro, for_await_closes_a_sync_iterator_whose_value_rejects)
{
    cr_assert_str_eq(run("var it = { i: 0, next: function () { this.i++;"
                         "  return { value: this.i === 2 ? Promise.reject('bad') : this.i, done: false }; },"
                         "  'return': function () { L('return called'); return { done: true }; } };"
                         "it[Symbol.iterator] = function () { return this; };"
                         "function f() { return $ew.async(f$, this, arguments); }"
                         "function f$() { var x, _r = $ew.asyncIterator(it);"
                         "  try { try { while ($ew.asyncNext(_r)) { x = _r.value; L(x); } }"
                         "    catch (_e) { if (_e !== $ew.RET) $ew.asyncCloseThrow(_r); throw _e; }"
                         "    finally { $ew.asyncClose(_r); } }"
                         "  catch (e) { L('caught ' + e); } }"
                         "f();"),
                     "1 return called caught bad");
}

/* ---- native stack, cost and memory ---- */

static char *stack_base;
static long stack_max;

/* stackUse(): bytes of native stack between the test function and this call. */
static duk_ret_t js_stack_use(duk_context *c)
{
    char here;
    long used = (long) (stack_base - &here);
    if (used > stack_max)
        stack_max = used;
    duk_push_number(c, (double) used);
    return 1;
}

static void install_stack_probe(void)
{
    char here;
    stack_base = &here;
    stack_max = 0;
    duk_push_c_function(ctx, js_stack_use, 0);
    duk_put_global_string(ctx, "stackUse");
}

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

/* One coroutine awaiting 100,000 times: every resume comes from a microtask, never from a deeper C frame. */
Test(core_coro, await_loop_of_100000_iterations)
{
    install_stack_probe();
    eval_or_fail("function loop(n) { return $ew.async(loop$, this, arguments); }"
                 "function loop$(n) { var s = 0; for (var i = 0; i < n; i++) {"
                 "  s += $ew.await(i); if (i === 10 || i === n - 1) stackUse(); } return s; }");
    double t0 = cpu_us();
    const char *r = run("loop(100000).then(function (s) { L(s); });");
    double us = (cpu_us() - t0) / 100000;
    cr_assert_str_eq(r, "4999950000");
    cr_assert_lt(stack_max, 64 * 1024, "native stack grew to %ld bytes", stack_max);
    printf("core_coro: %.2f us per await (100,000 awaits), native stack %ld bytes\n", us, stack_max);
}

/* async f(n) awaits f(n - 1): 10,000 coroutines nested by synchronous resumes, then unwound by 10,000
 * microtasks. Resuming from ECMAScript costs no native stack: the depth at the bottom is that at the top. */
Test(core_coro, nested_async_calls_10000_deep_use_no_native_stack)
{
    install_stack_probe();
    cr_assert_str_eq(run("var top, bottom;"
                         "function f(n) { return $ew.async(f$, this, arguments); }"
                         "function f$(n) { if (n === 9990) top = stackUse();"
                         "  if (n === 0) { bottom = stackUse(); $ew.await(null); return 0; }"
                         "  return $ew.await(f(n - 1)) + 1; }"
                         "f(10000).then(function (v) { L(v); L(bottom === top); });"),
                     "10000 true");
    cr_assert_lt(stack_max, 64 * 1024, "native stack grew to %ld bytes", stack_max);
}

/* Generators iterated inside generators, 10,000 deep through yield*. */
Test(core_coro, nested_yield_star_10000_deep)
{
    cr_assert_str_eq(run("function g(n) { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                         "function g$(n) { if (n === 0) { $ew.yield('bottom'); return 0; } return $ew.yieldStar(g(n - 1)) + 1; }"
                         "var it = g(10000); L(it.next().value); L(it.next().value);"),
                     "bottom 10000");
}

/* Reports the cost of the common shapes (CPU time; see docs/coroutines.md for the reference figures). */
Test(core_coro, cost_of_async_calls)
{
    eval_or_fail("var N = 20000;"
                 "function f0() { return $ew.async(f0$, this); } function f0$() { return 1; }"
                 "function fn() { return $ew.asyncNoAwait(f0$, this); }"
                 "function f1() { return $ew.async(f1$, this); } function f1$() { $ew.await(null); return 1; }"
                 "function seq(f) { return $ew.async(seq$, this, arguments); }"
                 "function seq$(f) { for (var i = 0; i < N; i++) $ew.await(f()); }"
                 "function g() { return $ew.generator(g, g$, this); } $ew.markGenerator(g);"
                 "function g$() { $ew.yield(1); $ew.yield(2); }");
    static const struct { const char *what, *src; } cases[] = {
        { "async call, no await", "for (var i = 0; i < N; i++) f0();" },
        { "asyncNoAwait call", "for (var i = 0; i < N; i++) fn();" },
        { "await f0() in a loop (call + await of a settled promise)", "seq(f0);" },
        { "await f1() in a loop (call + await null + await of a pending promise)", "seq(f1);" },
        { "generator: create + 3 next()", "for (var i = 0; i < N; i++) { var it = g(); it.next(); it.next(); it.next(); }" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        duk_gc(ctx, 0);
        double t0 = cpu_us();
        eval_or_fail(cases[i].src);
        ew__microtask_drain(ctx);
        printf("core_coro: %6.2f us  %s\n", (cpu_us() - t0) / 20000, cases[i].what);
    }
}

static size_t counted_bytes;

static void *count_alloc(void *u, duk_size_t n)
{
    (void) u;
    size_t *p = malloc(n + sizeof(max_align_t));
    if (p == NULL)
        return NULL;
    *p = n;
    counted_bytes += n;
    return (char *) p + sizeof(max_align_t);
}

static void count_free(void *u, void *q)
{
    (void) u;
    if (q == NULL)
        return;
    size_t *p = (size_t *) ((char *) q - sizeof(max_align_t));
    counted_bytes -= *p;
    free(p);
}

static void *count_realloc(void *u, void *q, duk_size_t n)
{
    if (q == NULL)
        return count_alloc(u, n);
    if (n == 0) {
        count_free(u, q);
        return NULL;
    }
    size_t *p = (size_t *) ((char *) q - sizeof(max_align_t));
    size_t old = *p;
    p = realloc(p, n + sizeof(max_align_t));
    if (p == NULL)
        return NULL;
    *p = n;
    counted_bytes = counted_bytes - old + n;
    return (char *) p + sizeof(max_align_t);
}

/* Test-level inits run after the suite's setup(), whose plain heap they replace. */
static void setup_counted(void)
{
    duk_destroy_heap(ctx);
    init_heap(duk_create_heap(count_alloc, count_realloc, count_free, NULL, NULL));
}

/* What a call suspended on a pending promise keeps alive: thread, promise, reaction (docs/coroutines.md). */
Test(core_coro, memory_per_suspended_call, .init = setup_counted)
{
    eval_or_fail("var never = new Promise(function () {}), keep = [];"
                 "function s() { return $ew.async(s$, this, arguments); } function s$() { $ew.await(never); }"
                 "keep.push(s()); keep = [];"); /* the first use loads coro.js: not part of the per-call cost */
    duk_gc(ctx, 0);
    size_t before = counted_bytes;
    eval_or_fail("for (var i = 0; i < 2000; i++) keep.push(s());");
    duk_gc(ctx, 0);
    size_t per_call = (counted_bytes - before) / 2000;
    printf("core_coro: %zu bytes per async call suspended on a pending promise\n", per_call);
    cr_assert_lt(per_call, 5000);
    eval_or_fail("keep = null; never = null;");
    duk_gc(ctx, 0);
    cr_assert_lt(counted_bytes, before + 16 * 1024, "suspended calls were not freed: %zu", counted_bytes - before);
}

/* ---- limits: a heap whose udata is an isolate, so the real interrupt hook of limits.c runs ---- */

static ew__isolate_t fake_iso;

static void *iso_alloc(void *u, duk_size_t n) { (void) u; return malloc(n); }
static void *iso_realloc(void *u, void *p, duk_size_t n) { (void) u; return realloc(p, n); }
static void iso_free(void *u, void *p) { (void) u; free(p); }

/* abort(): what the allocator does at the memory cap (limits.c): flag, interrupt at once, throw. */
static duk_ret_t js_abort(duk_context *c)
{
    fake_iso.abort_reason = EW_ERR_MEMORY_LIMIT;
    ew__duk_interrupt_now(c);
    return duk_range_error(c, "out of memory (test)");
}

static void setup_isolate(void)
{
    duk_destroy_heap(ctx);
    memset(&fake_iso, 0, sizeof(fake_iso));
    fake_iso.magic = EW__ISOLATE_MAGIC;
    fake_iso.deadline_ns = UINT64_MAX;
    fake_iso.heap_limit = SIZE_MAX;
    init_heap(duk_create_heap(iso_alloc, iso_realloc, iso_free, &fake_iso, NULL));
    fake_iso.ctx = ctx;
    duk_push_c_function(ctx, js_abort, 0);
    duk_put_global_string(ctx, "abort");
}

/* Starts a 30 ms CPU budget, as ew__isolate_enter does for a request. */
static void arm_deadline(void)
{
    fake_iso.entry_mono_ns = ew__mono_now_ns();
    fake_iso.cpu_sampled = false;
    fake_iso.deadline_ns = 30u * 1000000u;
}

static void disarm(void)
{
    fake_iso.abort_reason = EW_OK;
    fake_iso.deadline_ns = UINT64_MAX;
}

static const char *log_text(void)
{
    duk_peval_string(ctx, "log.join(' ')");
    snprintf(result, sizeof(result), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return result;
}

/* The CPU limit fires inside a coroutine resumed by a microtask: no catch or finally block of the body,
 * no rejection handler, no later job runs; the heap stays usable (the dead thread is not pooled). */
Test(core_coro, cpu_limit_inside_a_coroutine_is_not_catchable, .init = setup_isolate)
{
    eval_or_fail("function f() { return $ew.async(f$, this, arguments); }"
                 "function f$() { $ew.await(null); L('resumed');"
                 "  try { while (true) {} } catch (e) { L('caught'); } finally { L('finally'); } }"
                 "f()['catch'](function () { L('rejected'); });"
                 "Promise.resolve().then(function () {}).then(function () { L('later job'); });");
    arm_deadline();
    cr_assert(!ew__microtask_drain(ctx));
    cr_assert_eq(fake_iso.abort_reason, EW_ERR_CPU_LIMIT);
    disarm();
    cr_assert_str_eq(log_text(), "resumed");
    /* The jobs the limit left queued run on the next drain (microtask.c); new coroutines work. */
    cr_assert_str_eq(run("log = []; function g() { return $ew.async(g$, this, arguments); }"
                         "function g$() { $ew.await(null); return 'ok'; } g().then(L); g().then(L);"),
                     "later job ok ok");
}

/* Before the first await the body runs inside the caller's resume: the error leaves the whole script. */
Test(core_coro, cpu_limit_before_the_first_await_unwinds_the_caller, .init = setup_isolate)
{
    arm_deadline();
    int rc = duk_peval_string(ctx, "function f() { return $ew.async(f$, this, arguments); }"
                                   "function f$() { try { while (true) {} } catch (e) { L('body caught'); } }"
                                   "try { f(); } catch (e) { L('caller caught'); }");
    cr_assert_neq(rc, 0);
    cr_assert_eq(fake_iso.abort_reason, EW_ERR_CPU_LIMIT);
    duk_pop(ctx);
    disarm();
    cr_assert_str_eq(log_text(), "");
}

/* A limit inside a generator (sync driver) and inside an async generator's await. */
Test(core_coro, limit_inside_generators_is_not_catchable, .init = setup_isolate)
{
    int rc = duk_peval_string(ctx, "function g() { return $ew.generator(g, g$, this, arguments); } $ew.markGenerator(g);"
                                   "function g$() { try { $ew.yield(1); abort(); } catch (e) { L('gen caught'); } }"
                                   "var it = g(); it.next(); try { it.next(); } catch (e) { L('caller caught'); }");
    cr_assert_neq(rc, 0);
    duk_pop(ctx);
    disarm();
    eval_or_fail("function ag() { return $ew.asyncGenerator(ag, ag$, this, arguments); } $ew.markAsyncGenerator(ag);"
                 "function ag$() { try { $ew.await(null); abort(); } catch (e) { L('agen caught'); }"
                 "  finally { L('agen finally'); } }"
                 "ag().next()['catch'](function () { L('rejected'); });");
    ew__microtask_drain(ctx); /* returns true here: the limit fired in the last job (see microtask.c) */
    cr_assert_eq(fake_iso.abort_reason, EW_ERR_MEMORY_LIMIT);
    disarm();
    cr_assert_str_eq(log_text(), "");
}

Test(core_coro, helpers_are_loaded_on_first_use_only, .init = setup_counted)
{
    duk_gc(ctx, 0);
    size_t before = counted_bytes;
    eval_or_fail("typeof $ew.async"); /* the getter loads coro.js */
    duk_gc(ctx, 0);
    cr_assert_gt(counted_bytes, before + 16 * 1024, "coro.js should load on first use");
    cr_assert(ew__coro_helper_names_match(ctx), "coro.js exports and coro.c's lazy names differ");
}
