/* Promise in C (lib/core/promise.c): job ordering as engines with native promises show it, the statics and
 * their iterator handling, finally, subclassing, AggregateError, the ew__promise_* C API, unhandled
 * rejections, the abort rule (invariant 2 of internal.h) and chains too long for any recursion.
 * Scripts are ES5 (Duktape's parser); each pushes what it sees into `log`, and run() drains the microtask
 * queue and returns log.join(' '). Expected orders were checked against Node 20. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isolate.h"

static duk_context *ctx;
static char result[8192];

#define K_UNHANDLED DUK_HIDDEN_SYMBOL("pU") /* promise.c's stash keys, read to see its bookkeeping */
#define K_REPORTED DUK_HIDDEN_SYMBOL("pN")

static const char *prelude = "var log = [];"
                             "function L(x) { log.push(String(x)); }"
                             "function tick4() { Promise.resolve().then(function(){L(1)}).then(function(){L(2)})"
                             "  .then(function(){L(3)}).then(function(){L(4)}); }";

static void eval_or_fail(const char *src)
{
    if (duk_peval_string(ctx, src) != 0) {
        const char *msg = duk_safe_to_string(ctx, -1);
        cr_assert_fail("script threw: %s", msg);
    }
    duk_pop(ctx);
}

static void init_heap(duk_context *c)
{
    ctx = c;
    cr_assert_not_null(ctx);
    ew__microtask_init(ctx);
    ew__promise_init(ctx);
    eval_or_fail(prelude);
}

static void setup(void)
{
    init_heap(duk_create_heap_default());
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
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

static double stash_number(const char *key, bool length)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_string(ctx, -1, key);
    double n = length ? (double) duk_get_length(ctx, -1) : duk_get_number(ctx, -1);
    duk_pop_2(ctx);
    return n;
}

TestSuite(core_promise, .init = setup, .fini = teardown);

/* ---- Job ordering ---- */

Test(core_promise, resolve_with_native_promise_takes_two_extra_ticks)
{
    cr_assert_str_eq(run("new Promise(function(r){ r(Promise.resolve()) }).then(function(){ L('A') }); tick4();"),
                     "1 2 A 3 4");
}

Test(core_promise, handler_returning_promise_adopts_it_two_ticks_later)
{
    cr_assert_str_eq(run("Promise.resolve().then(function(){ L('a'); return Promise.resolve(); })"
                         "  .then(function(){ L('b') }); tick4();"),
                     "a 1 2 3 b 4");
}

Test(core_promise, thenable_then_is_called_in_a_later_job)
{
    cr_assert_str_eq(run("var t = { then: function(f) { L('then'); f('v'); } };"
                         "Promise.resolve(t).then(function(v){ L(v) }); L('sync'); tick4();"),
                     "sync then 1 v 2 3 4");
}

Test(core_promise, nested_thens_interleave_by_tick)
{
    cr_assert_str_eq(run("var p = Promise.resolve();"
                         "p.then(function(){L('a1')}).then(function(){L('a2')});"
                         "p.then(function(){L('b1')}).then(function(){L('b2')});"),
                     "a1 b1 a2 b2");
}

Test(core_promise, await_like_sequences_alternate)
{
    cr_assert_str_eq(run("function seq(name) { var p = Promise.resolve();"
                         "  [0, 1, 2].forEach(function(i){ p = p.then(function(){ L(name + i) }) }); }"
                         "seq('x'); seq('y');"),
                     "x0 y0 x1 y1 x2 y2");
}

Test(core_promise, rejections_and_fulfilments_share_one_queue)
{
    cr_assert_str_eq(run("Promise.reject(1).then(null, function(){ L('r') });"
                         "Promise.resolve().then(function(){ L('f') });"
                         "Promise.reject(2).catch(function(){ L('c') }).then(function(){ L('c2') });"),
                     "r f c c2");
}

Test(core_promise, adoption_job_runs_after_earlier_reactions)
{
    cr_assert_str_eq(run("var p1 = Promise.resolve(); var p2 = new Promise(function(r){ r(p1) });"
                         "p2.then(function(){ L('p2') });"
                         "p1.then(function(){ L('p1') }).then(function(){ L('p1b') }).then(function(){ L('p1c') });"),
                     "p1 p1b p2 p1c");
}

Test(core_promise, combinators_settle_on_the_spec_tick)
{
    cr_assert_str_eq(run("Promise.all([1, Promise.resolve(2)]).then(function(v){ L('all' + v.join('')) }); tick4();"),
                     "1 all12 2 3 4");
    cr_assert_str_eq(run("log = []; Promise.race([Promise.resolve('r'), 1]).then(function(v){ L(v) }); tick4();"),
                     "1 r 2 3 4");
    cr_assert_str_eq(run("log = []; Promise.resolve(1).finally(function(){ L('fin') })"
                         "  .then(function(v){ L('v' + v) }); tick4();"),
                     "fin 1 2 3 v1 4");
}

Test(core_promise, promise_resolve_returns_the_same_native_promise)
{
    cr_assert_str_eq(run("var p = Promise.resolve(1); L(Promise.resolve(p) === p);"
                         "var q = new Promise(function(){}); L(Promise.resolve(q) === q);"
                         "var t = { then: function(){} }; L(Promise.resolve(t) === t);"
                         "p.constructor = Object; L(Promise.resolve(p) === p);"),
                     "true true false false");
}

/* ---- Constructor and resolving functions ---- */

Test(core_promise, constructor_requires_new_and_a_callable_executor)
{
    cr_assert_str_eq(run("try { Promise(function(){}) } catch (e) { L(e.name) }"
                         "try { new Promise() } catch (e) { L(e.name) }"
                         "try { new Promise({}) } catch (e) { L(e.name) }"),
                     "TypeError TypeError TypeError");
}

Test(core_promise, executor_throw_rejects_unless_already_resolved)
{
    cr_assert_str_eq(run("new Promise(function(){ throw 'boom' }).catch(function(e){ L('c:' + e) });"
                         "new Promise(function(r){ r('ok'); throw 'late' }).then(function(v){ L('v:' + v) });"),
                     "c:boom v:ok");
}

Test(core_promise, only_the_first_resolve_or_reject_counts)
{
    cr_assert_str_eq(run("new Promise(function(res, rej){ res(1); rej(2); res(3); }).then(function(v){ L(v) });"
                         "new Promise(function(res, rej){ rej(4); res(5); }).catch(function(v){ L(v) });"
                         "new Promise(function(res, rej){ res(new Promise(function(){})); rej(6); })"
                         "  .then(function(){ L('never') }, function(){ L('never') });"),
                     "1 4");
}

Test(core_promise, resolve_with_itself_rejects_with_type_error)
{
    cr_assert_str_eq(run("var r; var p = new Promise(function(res){ r = res }); r(p);"
                         "p.catch(function(e){ L(e instanceof TypeError) });"
                         "var q = Promise.resolve().then(function(){ return q });"
                         "q.catch(function(e){ L(e.name) });"),
                     "true TypeError");
}

Test(core_promise, poisoned_then_getter_rejects)
{
    cr_assert_str_eq(run("var bad = {}; Object.defineProperty(bad, 'then', { get: function(){ throw 'poison' } });"
                         "Promise.resolve(bad).catch(function(e){ L(e) });"),
                     "poison");
}

Test(core_promise, handlers_get_undefined_this_and_non_callables_pass_through)
{
    cr_assert_str_eq(run("Promise.resolve(1).then(function(){ 'use strict'; L(this === undefined) });"
                         "Promise.resolve(2).then(5, {}).then(function(v){ L(v) });"
                         "Promise.reject(3).then(function(){}).then(null, function(e){ L('e' + e) });"),
                     "true 2 e3");
}

Test(core_promise, resolving_functions_are_anonymous_builtins)
{
    cr_assert_str_eq(run("var f; new Promise(function(res){ f = res });"
                         "L(f.length); L(JSON.stringify(f.name));"
                         "L(Object.getPrototypeOf(f) === Function.prototype);"
                         "L(f.hasOwnProperty('prototype'));"
                         "try { new f() } catch (e) { L(e.name) }"),
                     "1 \"\" true false TypeError");
}

Test(core_promise, frozen_promises_still_settle)
{
    cr_assert_str_eq(run("var r; var p = new Promise(function(res){ r = res }); Object.freeze(p);"
                         "p.then(function(v){ L(v) }); r(1);"
                         "var q = Promise.resolve(2); Object.freeze(q); q.then(function(v){ L(v) });"
                         "var d = q.then(function(){ return 3 }); Object.preventExtensions(d);"
                         "d.then(function(v){ L(v) });"),
                     "1 2 3");
}

/* ---- Statics ---- */

Test(core_promise, all_resolves_in_input_order)
{
    cr_assert_str_eq(run("var late; var p = new Promise(function(r){ late = r });"
                         "Promise.all([p, 2, Promise.resolve(3), { then: function(f){ f(4) } }])"
                         "  .then(function(v){ L(v.join(',')); L(Array.isArray(v)) });"
                         "Promise.resolve().then(function(){ late(1) });"),
                     "1,2,3,4 true");
}

Test(core_promise, all_of_empty_iterable_resolves_with_empty_array)
{
    cr_assert_str_eq(run("Promise.all([]).then(function(v){ L(Array.isArray(v) && v.length === 0) });"
                         "Promise.allSettled([]).then(function(v){ L(v.length) });"),
                     "true 0");
}

Test(core_promise, all_rejects_with_the_first_rejection)
{
    cr_assert_str_eq(run("Promise.all([Promise.reject('x'), Promise.reject('y'), 1])"
                         "  .then(function(){ L('no') }, function(e){ L(e) });"),
                     "x");
}

Test(core_promise, all_settled_reports_each_outcome)
{
    cr_assert_str_eq(run("Promise.allSettled([Promise.reject(1), 2]).then(function(v){ L(JSON.stringify(v)) });"),
                     "[{\"status\":\"rejected\",\"reason\":1},{\"status\":\"fulfilled\",\"value\":2}]");
}

Test(core_promise, race_settles_with_the_first_and_empty_race_stays_pending)
{
    cr_assert_str_eq(run("Promise.race([new Promise(function(){}), Promise.reject('r'), 1])"
                         "  .catch(function(e){ L(e) });"
                         "Promise.race([]).then(function(){ L('no') }, function(){ L('no') });"),
                     "r");
}

Test(core_promise, any_resolves_with_the_first_fulfilment)
{
    cr_assert_str_eq(run("Promise.any([Promise.reject(1), Promise.resolve(2), 3]).then(function(v){ L(v) });"), "2");
}

Test(core_promise, any_rejects_with_aggregate_error_in_input_order)
{
    cr_assert_str_eq(run("var late; var p = new Promise(function(r, j){ late = j });"
                         "Promise.any([p, Promise.reject(2)]).catch(function(e){"
                         "  L(e instanceof AggregateError); L(e.errors.join(',')); L(e.message);"
                         "  L(Object.keys(e).length) });"
                         "Promise.resolve().then(function(){ late(1) });"
                         "Promise.any([]).catch(function(e){ L(e.name + ':' + e.errors.length) });"),
                     "AggregateError:0 true 1,2 All promises were rejected 0");
}

Test(core_promise, combinators_use_the_iterator_protocol)
{
    cr_assert_str_eq(run("var it = {}; it[Symbol.iterator] = function() { var i = 0; return {"
                         "  next: function() { i++; return { done: i > 3, value: i * 10 } } } };"
                         "Promise.all(it).then(function(v){ L(v.join(',')) });"
                         "Promise.all('a\\uD83D\\uDE00').then(function(v){ L(v.length) });"),
                     "10,20,30 2");
}

Test(core_promise, combinators_close_the_iterator_when_a_step_throws)
{
    cr_assert_str_eq(run("var it = {}; it[Symbol.iterator] = function() { return {"
                         "  next: function() { return { done: false, value: 1 } },"
                         "  return: function() { L('closed'); return {} } } };"
                         "var C = function(ex) { return new Promise(ex) };"
                         "C.resolve = function() { throw 'resolve threw' };"
                         "Promise.all.call(C, it).catch(function(e){ L(e) });"
                         "var bad = {}; bad[Symbol.iterator] = function() { return {"
                         "  next: function() { throw 'next threw' }, return: function() { L('wrong') } } };"
                         "Promise.race(bad).catch(function(e){ L(e) });"),
                     "closed resolve threw next threw");
}

Test(core_promise, non_iterables_reject_with_type_error)
{
    cr_assert_str_eq(run("[undefined, null, 1, {}].forEach(function(x) {"
                         "  Promise.all(x).catch(function(e){ L(e.name) }) });"),
                     "TypeError TypeError TypeError TypeError");
}

Test(core_promise, reject_does_not_unwrap_and_with_resolvers_works)
{
    cr_assert_str_eq(run("var p = Promise.resolve(1); Promise.reject(p).catch(function(e){ L(e === p) });"
                         "var w = Promise.withResolvers(); w.promise.then(function(v){ L('w' + v) }); w.resolve(9);"
                         "L(Object.keys(w).join());"),
                     "promise,resolve,reject true w9");
}

Test(core_promise, try_runs_the_callback_now_and_captures_its_outcome)
{
    cr_assert_str_eq(run("Promise.try(function(a, b){ L('now' + a + b); return 3 }, 1, 2).then(function(v){ L(v) });"
                         "Promise.try(function(){ throw 'x' }).catch(function(e){ L(e) });"
                         "Promise.try().catch(function(e){ L(e.name) });"),
                     "now12 3 x TypeError");
}

Test(core_promise, statics_on_non_constructors_throw_type_error)
{
    cr_assert_str_eq(run("try { Promise.resolve.call(1, 2) } catch (e) { L(e.name) }"
                         "try { Promise.reject.call({}, 2) } catch (e) { L(e.name) }"
                         "try { Promise.all.call(undefined, []) } catch (e) { L(e.name) }"
                         "try { Promise.prototype.then.call({}, null) } catch (e) { L(e.name) }"
                         "try { Promise.prototype.then.call(Object.create(Promise.resolve())) } catch (e) { L(e.name) }"
                         "try { new Promise.resolve(1) } catch (e) { L(e.name) }"),
                     "TypeError TypeError TypeError TypeError TypeError TypeError");
}

Test(core_promise, capability_executor_called_twice_is_a_type_error)
{
    cr_assert_str_eq(run("function C(ex) { ex(function(){}, function(){}); ex(function(){}, function(){}); }"
                         "try { Promise.resolve.call(C, 1) } catch (e) { L(e.name) }"
                         "function D(ex) { ex(undefined, undefined); ex(function(){}, function(){}); }"
                         "Promise.resolve.call(D, 1); L('ok');"
                         "function E(ex) { ex(1, 2) } try { Promise.reject.call(E, 1) } catch (e) { L(e.name) }"),
                     "TypeError ok TypeError");
}

Test(core_promise, statics_called_on_other_constructors_use_them)
{
    cr_assert_str_eq(run("var calls = 0; function C(ex) { calls++; var self = this;"
                         "  ex(function(v){ L('res:' + v) }, function(e){ L('rej:' + e) }); }"
                         "var r = Promise.resolve.call(C, 5); L(r instanceof C);"
                         "Promise.reject.call(C, 6); L(calls);"),
                     "res:5 true rej:6 2");
}

/* ---- finally ---- */

Test(core_promise, finally_passes_values_and_reasons_through)
{
    cr_assert_str_eq(run("Promise.resolve(1).finally(function(){ return 'ignored' }).then(function(v){ L('v' + v) });"
                         "Promise.reject(2).finally(function(){ return 'ignored' }).catch(function(e){ L('e' + e) });"
                         "Promise.resolve(3).finally().then(function(v){ L('n' + v) });"),
                     "n3 v1 e2");
}

Test(core_promise, finally_callback_errors_and_waits_override)
{
    cr_assert_str_eq(run("Promise.resolve(1).finally(function(){ throw 'f' }).catch(function(e){ L(e) });"
                         "var go; Promise.resolve(2).finally(function(){ return new Promise(function(r){ go = r }) })"
                         "  .then(function(v){ L('after' + v) });"
                         "Promise.resolve().then(function(){ L('go'); go() });"),
                     "go f after2");
}

Test(core_promise, finally_uses_the_species_constructor)
{
    cr_assert_str_eq(run("var n = 0; function C(ex) { n++; return new Promise(ex) } C[Symbol.species] = C;"
                         "var p = Promise.resolve(1); p.constructor = C;"
                         "p.finally(function(){}).then(function(){ L(n) });"),
                     "2");
}

/* ---- Subclassing and species ---- */

static const char *subclass = "function Sub(ex) { var p = new Promise(ex); Object.setPrototypeOf(p, Sub.prototype);"
                              "  return p; }"
                              "Sub.prototype = Object.create(Promise.prototype,"
                              "  { constructor: { value: Sub, writable: true, configurable: true } });"
                              "Object.setPrototypeOf(Sub, Promise);";

Test(core_promise, es5_subclass_propagates_through_then_and_statics)
{
    eval_or_fail(subclass);
    cr_assert_str_eq(run("var s = new Sub(function(r){ r(1) }); var t = s.then(function(v){ L(v) });"
                         "L(t instanceof Sub); L(Sub.resolve(2) instanceof Sub); L(Sub.all([1]) instanceof Sub);"
                         "L(Sub.resolve(s) === s); L(Promise.resolve(s) === s);"
                         "L(s.finally(function(){}) instanceof Sub);"),
                     "true true true true false true 1");
}

Test(core_promise, species_getter_and_override)
{
    eval_or_fail(subclass);
    cr_assert_str_eq(run("L(typeof Symbol.species); L(Promise[Symbol.species] === Promise);"
                         "L(Sub[Symbol.species] === Sub);"
                         "Object.defineProperty(Sub, Symbol.species, { value: Promise });"
                         "var t = new Sub(function(){}).then(); L(t instanceof Sub); L(t instanceof Promise);"
                         "var d = Object.getOwnPropertyDescriptor(Promise, Symbol.species);"
                         "L(typeof d.get + d.enumerable + d.configurable + d.get.name);"),
                     "symbol true true false true functionfalsetrueget [Symbol.species]");
}

Test(core_promise, bad_constructor_property_is_a_type_error)
{
    cr_assert_str_eq(run("var p = Promise.resolve(); p.constructor = 1;"
                         "try { p.then() } catch (e) { L(e.name) }"
                         "p.constructor = {}; p.constructor[Symbol.species] = 1;"
                         "try { p.then() } catch (e) { L(e.name) }"
                         "p.constructor[Symbol.species] = null; L(p.then() instanceof Promise);"),
                     "TypeError TypeError true");
}

Test(core_promise, proxies_and_inheritors_are_not_promises)
{
    cr_assert_str_eq(run("var p = Promise.resolve(1);"
                         "try { Promise.prototype.then.call(new Proxy(p, {})) } catch (e) { L(e.name) }"
                         "try { Promise.prototype.then.call(Object.create(p)) } catch (e) { L(e.name) }"),
                     "TypeError TypeError");
}

Test(core_promise, properties_have_builtin_attributes)
{
    cr_assert_str_eq(run("function d(o, k) { var x = Object.getOwnPropertyDescriptor(o, k);"
                         "  return '' + (x.writable ? 'w' : '-') + (x.enumerable ? 'e' : '-') + (x.configurable ? 'c' : '-'); }"
                         "L(d(this, 'Promise')); L(d(Promise, 'prototype')); L(d(Promise.prototype, 'then'));"
                         "L(d(Promise.prototype, Symbol.toStringTag)); L(Promise.prototype[Symbol.toStringTag]);"
                         "L(d(Promise, 'all')); L(Promise.length + Promise.name);"
                         "L([Promise.prototype.then.length, Promise.prototype.catch.length, Promise.all.length,"
                         "  Promise.withResolvers.length, Promise.try.length].join(''));"
                         "L(Promise.prototype.finally.name); L(Object.prototype.toString.call(Promise.resolve()));"
                         "L(Object.keys(Promise).length + Object.keys(Promise.prototype).length);"),
                     "w-c --- w-c --c Promise w-c 1Promise 21101 finally [object Promise] 0");
}

/* ---- AggregateError ---- */

Test(core_promise, aggregate_error_is_a_real_error_constructor)
{
    cr_assert_str_eq(run("var e = new AggregateError([1, 2], 'msg', { cause: 'why' });"
                         "L(e instanceof Error); L(e.name); L(e.message); L(e.cause); L(e.errors.join('+'));"
                         "L(Object.keys(e).length); L(String(e)); L(typeof e.stack);"
                         "var it = {}; it[Symbol.iterator] = function(){ return { next: function(){ return { done: true } } } };"
                         "var f = AggregateError(it); L(f instanceof AggregateError); L(f.errors.length);"
                         "L(AggregateError.length); L(Object.getPrototypeOf(AggregateError) === Error);"
                         "L('cause' in new AggregateError([]));"),
                     "true AggregateError msg why 1+2 0 AggregateError: msg string true 0 2 true false");
}

/* ---- C API ---- */

Test(core_promise, c_api_settles_and_reads_state)
{
    ew__promise_push_new(ctx);
    cr_assert(ew__promise_is(ctx, -1));
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_PENDING);
    duk_push_int(ctx, 42);
    ew__promise_settle(ctx, -2, false);
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_FULFILLED);
    duk_push_int(ctx, 7);
    ew__promise_settle(ctx, -2, true); /* already resolved: ignored */
    ew__promise_push_result(ctx, -1);
    cr_assert_eq(duk_get_int(ctx, -1), 42);
    duk_pop(ctx);
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_FULFILLED);
    duk_put_global_string(ctx, "cp");
    cr_assert_str_eq(run("cp.then(function(v){ L(v) })"), "42");
    duk_push_object(ctx);
    cr_assert(!ew__promise_is(ctx, -1));
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_PENDING);
    duk_push_int(ctx, 1);
    ew__promise_settle(ctx, -2, false); /* not a promise: ignored */
    duk_pop(ctx);
    cr_assert_eq(duk_get_top(ctx), 0);
}

Test(core_promise, c_api_settle_adopts_thenables_and_rejects)
{
    ew__promise_push_new(ctx);
    duk_peval_string(ctx, "Promise.resolve('adopted')");
    ew__promise_settle(ctx, -2, false);
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_PENDING); /* locked in, waiting for the job */
    duk_push_int(ctx, 1);
    ew__promise_settle(ctx, -2, true); /* already resolved to the thenable: ignored */
    duk_put_global_string(ctx, "a");
    ew__promise_push_new(ctx);
    duk_push_string(ctx, "no");
    ew__promise_settle(ctx, -2, true);
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_REJECTED);
    duk_put_global_string(ctx, "b");
    cr_assert_str_eq(run("a.then(function(v){ L(v) }); b.catch(function(e){ L(e) });"), "no adopted");
}

Test(core_promise, c_api_push_resolved_and_rejected)
{
    duk_peval_string(ctx, "Promise.resolve(1)");
    duk_dup(ctx, -1);
    ew__promise_push_resolved(ctx);
    cr_assert(duk_strict_equals(ctx, -1, -2));
    duk_pop_2(ctx);
    duk_push_int(ctx, 5);
    ew__promise_push_resolved(ctx);
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_FULFILLED);
    duk_pop(ctx);
    duk_push_string(ctx, "bad");
    ew__promise_push_rejected(ctx);
    cr_assert_eq(ew__promise_state(ctx, -1), EW__PROMISE_REJECTED);
    ew__promise_push_result(ctx, -1);
    cr_assert_str_eq(duk_get_string(ctx, -1), "bad");
    duk_pop(ctx);
    ew__promise_mark_handled(ctx, -1);
    duk_pop(ctx);
    cr_assert_eq(duk_get_top(ctx), 0);
    run("");
    cr_assert_eq(stash_number(K_REPORTED, false), 0);
}

/* ---- Unhandled rejections ---- */

Test(core_promise, unhandled_rejection_is_reported_once_and_forgotten)
{
    eval_or_fail("Promise.reject(new Error('lost'))");
    cr_assert_eq(stash_number(K_UNHANDLED, true), 1);
    run("");
    cr_assert_eq(stash_number(K_UNHANDLED, true), 0);
    cr_assert_eq(stash_number(K_REPORTED, false), 1);
    run("");
    cr_assert_eq(stash_number(K_REPORTED, false), 1);
}

Test(core_promise, handler_attached_before_the_drain_ends_prevents_the_report)
{
    run("var p = Promise.reject(1); Promise.resolve().then(function(){ p.catch(function(){}) });"
        "Promise.reject(2).then(function(){});"); /* the derived promise of this one is unhandled */
    cr_assert_eq(stash_number(K_REPORTED, false), 1);
}

/* A heap whose udata looks like an isolate, so that logging and the abort flag reach this test. */
static ew__isolate_t fake_iso;
static ew_runtime_t fake_rt;
static char logged[4096];

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    (void) worker;
    if (level == EW_LOG_ERROR)
        snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%.*s|", (int) len, msg);
}

static void *fake_alloc(void *u, duk_size_t n) { (void) u; return malloc(n); }
static void *fake_realloc(void *u, void *p, duk_size_t n) { (void) u; return realloc(p, n); }
static void fake_free(void *u, void *p) { (void) u; free(p); }

static duk_ret_t js_abort(duk_context *c)
{
    fake_iso.abort_reason = EW_ERR_CPU_LIMIT;
    return duk_range_error(c, "execution timeout");
}

/* Test-level init: runs after the suite's setup(), whose plain heap it replaces. */
static void setup_fake_isolate(void)
{
    duk_destroy_heap(ctx);
    memset(&fake_iso, 0, sizeof(fake_iso));
    memset(&fake_rt, 0, sizeof(fake_rt));
    logged[0] = '\0';
    fake_rt.cfg.log = on_log;
    fake_iso.magic = EW__ISOLATE_MAGIC;
    fake_iso.rt = &fake_rt;
    fake_iso.deadline_ns = UINT64_MAX;
    fake_iso.heap_limit = SIZE_MAX;
    init_heap(duk_create_heap(fake_alloc, fake_realloc, fake_free, &fake_iso, NULL));
    fake_iso.ctx = ctx;
    duk_push_c_function(ctx, js_abort, 0);
    duk_put_global_string(ctx, "abort");
}

Test(core_promise, unhandled_rejection_is_logged_with_its_stack, .init = setup_fake_isolate)
{
    run("Promise.reject(new Error('lost')); Promise.reject('plain');"
        "Promise.reject('handled-one').catch(function(){});");
    cr_assert(strstr(logged, "Uncaught (in promise) Error: lost\n    at ") != NULL, "%s", logged);
    cr_assert(strstr(logged, "|Uncaught (in promise) plain|") != NULL, "%s", logged);
    cr_assert(strstr(logged, "handled-one") == NULL, "%s", logged);
}

Test(core_promise, no_handler_runs_after_a_limit_fired, .init = setup_fake_isolate)
{
    eval_or_fail("Promise.resolve().then(function(){ abort() }).catch(function(){ L('caught') })"
                 "  .finally(function(){ L('finally') });"
                 "new Promise(function(r){ r() }).then(function(){ L('later') });");
    cr_assert(!ew__microtask_drain(ctx));
    fake_iso.abort_reason = EW_OK;
    cr_assert_eq(duk_peval_string(ctx, "log.join(' ')"), 0);
    cr_assert_str_eq(duk_get_string(ctx, -1), "");
    duk_pop(ctx);
    cr_assert_eq(strstr(logged, "timeout"), NULL, "%s", logged);
    /* the executor case: the constructor rethrows instead of rejecting */
    cr_assert_neq(duk_peval_string(ctx, "new Promise(function(){ abort() })"), 0);
    fake_iso.abort_reason = EW_OK;
    duk_pop(ctx);
}

/* ---- Long chains ---- */

Test(core_promise, chain_of_100000_thens_does_not_overflow)
{
    cr_assert_str_eq(run("var p = Promise.resolve(0);"
                         "for (var i = 0; i < 100000; i++) p = p.then(function(v){ return v + 1 });"
                         "p.then(function(v){ L(v) });"),
                     "100000");
}

Test(core_promise, chain_of_100000_adoptions_does_not_overflow)
{
    cr_assert_str_eq(run("function f(n) { return n === 0 ? Promise.resolve('deep')"
                         "  : Promise.resolve().then(function(){ return f(n - 1) }) }"
                         "f(100000).then(function(v){ L(v) });"),
                     "deep");
    cr_assert_str_eq(run("log = []; var first, q = new Promise(function(r){ first = r });"
                         "for (var i = 0; i < 100000; i++) q = new Promise(function(r){ r(q) });"
                         "q.then(function(v){ L(v) }); first('pending-root');"),
                     "pending-root");
}

Test(core_promise, one_promise_with_100000_reactions)
{
    cr_assert_str_eq(run("var n = 0, r, p = new Promise(function(res){ r = res });"
                         "for (var i = 0; i < 100000; i++) p.then(function(){ n++ });"
                         "r(); Promise.resolve().then(function(){}).then(function(){ L(n) });"),
                     "100000");
}
