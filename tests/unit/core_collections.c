/* Map, Set, WeakMap, WeakSet, WeakRef, FinalizationRegistry and %IteratorPrototype% (lib/core/collections.c,
 * ordered_table.c, map_set.c, weak.c): SameValueZero keys, insertion order, live iteration across
 * deletions, compactions and clear(), the iterator protocol of the constructors with IteratorClose, brand
 * checks, property attributes, weak keys on frozen objects, Proxies and symbols, large tables. Each test
 * runs on a bare heap; scripts are ES5 (Duktape's parser) and return a string compared with the expected
 * one (checked against Node 22 where the behaviour is observable there).
 *
 * Timings and memory: EW_COLL_BENCH=1 build/tests/unit/test_core_collections --filter 'core_collections/bench_*'
 * prints ns/op and the bytes ew__collections_init() adds to a heap. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isolate.h"

static duk_context *ctx;
static char result[8192];

static void setup(void)
{
    ctx = duk_create_heap_default();
    cr_assert_not_null(ctx);
    ew__microtask_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

/* Evaluates an ES5 program; returns String(completion value), or "THROW <error>" if it threw. */
static const char *run(const char *src)
{
    if (duk_peval_string(ctx, src) != 0)
        snprintf(result, sizeof(result), "THROW %s", duk_safe_to_string(ctx, -1));
    else
        snprintf(result, sizeof(result), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return result;
}

#define expect(src, want)                                                                                 \
    do {                                                                                                  \
        const char *got_ = run(src);                                                                      \
        cr_assert_str_eq(got_, (want), "script: %s\ngot:  %s\nwant: %s", (src), got_, (want));           \
    } while (0)

/* Helpers every script may use: drain(it) lists an iterator's values as a string. */
static const char *helpers =
    "function show(v) { if (v !== v) return 'NaN'; if (v === 0 && 1 / v < 0) return '-0';"
    "  if (typeof v === 'symbol') return v.toString();"
    "  if (v instanceof Array) return '[' + v.map(show).join(',') + ']';"
    "  return String(v); }"
    "function drain(it) { var out = [], r; while (!(r = it.next()).done) out.push(show(r.value));"
    "  return out.join(' '); }"
    "function errName(f) { try { f(); return 'no error'; } catch (e) { return e.name; } }";

TestSuite(core_collections, .init = setup, .fini = teardown);

/* ---- Map basics ---- */

Test(core_collections, map_get_set_has_delete_size)
{
    run(helpers);
    expect("var m = new Map(); var r = m.set('a', 1); [r === m, m.get('a'), m.has('a'), m.has('b'), m.size,"
           " m.get('b'), m.delete('a'), m.delete('a'), m.size].join()",
           "true,1,true,false,1,,true,false,0");
}

Test(core_collections, map_same_value_zero_keys)
{
    run(helpers);
    expect("var m = new Map(); m.set(NaN, 'nan'); m.set(-0, 'zero');"
           "[m.get(NaN), m.get(0/0), m.get(0), m.get(-0), m.size, show(m.keys().next().value) ,"
           " show(drain(m.keys()))].join()",
           "nan,nan,zero,zero,2,NaN,NaN 0");
    expect("var m = new Map([[0, 'a']]); m.set(-0, 'b'); [m.size, m.get(0), show(m.keys().next().value)].join()",
           "1,b,0");
    expect("var m = new Map(); m.set(-0, 1); var k; m.forEach(function (v, key) { k = key; }); show(k)", "0");
}

Test(core_collections, map_keys_of_every_type_stay_distinct)
{
    run(helpers);
    expect("var o = {}, p = {}, s = Symbol('s'), f = function () {}; var m = new Map();"
           "var keys = [undefined, null, true, false, 0, 1, '1', 'x', o, p, s, f, 1.5, Infinity, -Infinity];"
           "for (var i = 0; i < keys.length; i++) m.set(keys[i], i);"
           "var ok = m.size === keys.length;"
           "for (var i = 0; i < keys.length; i++) ok = ok && m.get(keys[i]) === i;"
           "[ok, m.has({}), m.get('1'), m.get(1), m.has(Symbol('s'))].join()",
           "true,false,6,5,false");
    /* Strings built at run time are the same key as literals (Duktape interns strings). */
    expect("var m = new Map(); m.set('ab', 1); [m.get('a' + 'b'), m.get(['a', 'b'].join(''))].join()", "1,1");
}

Test(core_collections, map_keeps_insertion_order_and_update_does_not_move)
{
    run(helpers);
    expect("var m = new Map([['b', 1], ['a', 2], ['c', 3]]); m.set('b', 9); m.delete('a'); m.set('a', 4);"
           "drain(m.entries())",
           "[b,9] [c,3] [a,4]");
}

Test(core_collections, map_constructor_takes_arrays_iterables_and_nothing)
{
    run(helpers);
    expect("[new Map().size, new Map(undefined).size, new Map(null).size, new Map([[1, 2], [3, 4]]).size].join()",
           "0,0,0,2");
    expect("var m = new Map(new Map([[1, 'a'], [2, 'b']])); drain(m.entries())", "[1,a] [2,b]");
    expect("errName(function () { Map(); })", "TypeError");
    expect("errName(function () { new Map(1); })", "TypeError");
    expect("errName(function () { new Map([1]); })", "TypeError");
    expect("errName(function () { new Map({}); })", "TypeError");
}

Test(core_collections, map_constructor_calls_set_looked_up_once)
{
    run(helpers);
    expect("var log = []; var orig = Map.prototype.set; var reads = 0;"
           "Object.defineProperty(Map.prototype, 'set', { configurable: true, get: function () { reads++;"
           "  return function (k, v) { log.push(k + '=' + v); return orig.call(this, k, v); }; } });"
           "var m = new Map([[1, 2], [3, 4]]);"
           "Object.defineProperty(Map.prototype, 'set', { value: orig, writable: true, configurable: true });"
           "[reads, log.join(' '), m.size].join()",
           "1,1=2 3=4,2");
    expect("var saved = Map.prototype.set; Map.prototype.set = 1;"
           "var r = [errName(function () { new Map([]); }), new Map().size];"
           "Map.prototype.set = saved; r.join()",
           "TypeError,0");
}

/* ---- The iterator protocol in constructors ---- */

static const char *custom_iterable =
    "function iterable(items, log) { var o = {}; o[Symbol.iterator] = function () { var i = 0; return {"
    "  next: function () { log.push('next'); return i < items.length ? { value: items[i++], done: false }"
    "                                                                 : { value: undefined, done: true }; },"
    "  'return': function () { log.push('return'); return {}; } }; }; return o; }";

Test(core_collections, constructors_use_the_iterator_protocol)
{
    run(helpers);
    run(custom_iterable);
    expect("var log = []; var m = new Map(iterable([['a', 1], ['b', 2]], log));"
           "[drain(m.entries()), log.join(' ')].join(';')",
           "[a,1] [b,2];next next next");
    expect("var log = []; var s = new Set(iterable([3, 1, 3], log)); [drain(s.values()), log.join(' ')].join(';')",
           "3 1;next next next next");
    expect("drain(new Set('a\\ud83d\\ude00b').values()).length", "6"); /* 'a', the emoji pair, 'b' */
    expect("new Set('a\\ud83d\\ude00b').size", "3");
}

Test(core_collections, constructor_closes_iterator_when_adder_throws)
{
    run(helpers);
    run(custom_iterable);
    expect("var log = []; var saved = Map.prototype.set;"
           "Map.prototype.set = function () { throw new RangeError('no'); };"
           "var r = errName(function () { new Map(iterable([[1, 1], [2, 2]], log)); });"
           "Map.prototype.set = saved; [r, log.join(' ')].join(';')",
           "RangeError;next return");
    expect("var log = []; var saved = Set.prototype.add;"
           "Set.prototype.add = function (v) { if (v === 2) throw new URIError('x'); return saved.call(this, v); };"
           "var r = errName(function () { new Set(iterable([1, 2, 3], log)); });"
           "Set.prototype.add = saved; [r, log.join(' ')].join(';')",
           "URIError;next next return");
}

Test(core_collections, map_constructor_closes_iterator_on_bad_entries)
{
    run(helpers);
    run(custom_iterable);
    /* A non-object entry: TypeError after closing. */
    expect("var log = []; [errName(function () { new Map(iterable([1], log)); }), log.join(' ')].join(';')",
           "TypeError;next return");
    /* A throwing entry getter: its error, after closing. */
    expect("var log = []; var bad = {}; Object.defineProperty(bad, '0', { get: function () { throw new EvalError(); }"
           " });"
           "[errName(function () { new Map(iterable([bad], log)); }), log.join(' ')].join(';')",
           "EvalError;next return");
    /* return() throwing does not hide the original error. */
    expect("var it = {}; it[Symbol.iterator] = function () { return { next: function () { return { value: 1, done:"
           " false }; },"
           "  'return': function () { throw new SyntaxError(); } }; };"
           "errName(function () { new Map(it); })",
           "TypeError");
}

Test(core_collections, constructor_does_not_close_when_next_throws)
{
    run(helpers);
    expect("var log = []; var it = {}; it[Symbol.iterator] = function () { return {"
           "  next: function () { throw new RangeError(); }, 'return': function () { log.push('return'); } }; };"
           "[errName(function () { new Set(it); }), log.length].join()",
           "RangeError,0");
    expect("var it = {}; it[Symbol.iterator] = function () { return 1; }; errName(function () { new Set(it); })",
           "TypeError");
    expect("var it = {}; it[Symbol.iterator] = undefined; errName(function () { new WeakSet(it); })", "TypeError");
}

/* ---- Iteration ---- */

Test(core_collections, iterators_have_the_spec_prototype_chain)
{
    run(helpers);
    expect("var mi = new Map().entries(); var MIP = Object.getPrototypeOf(mi); var IP = Object.getPrototypeOf(MIP);"
           "var SIP = Object.getPrototypeOf(new Set().values());"
           "[MIP[Symbol.toStringTag], SIP[Symbol.toStringTag], Object.getPrototypeOf(SIP) === IP,"
           " IP[Symbol.iterator].call(5) === 5, mi[Symbol.iterator]() === mi, Object.prototype.toString.call(mi),"
           " Object.getPrototypeOf(IP) === Object.prototype, IP[Symbol.iterator].name, MIP.next.length,"
           " MIP.hasOwnProperty(Symbol.iterator)].join()",
           "Map Iterator,Set Iterator,true,true,true,[object Map Iterator],true,[Symbol.iterator],0,false");
}

Test(core_collections, iterator_prototype_is_shared_through_the_stash)
{
    duk_push_heap_stash(ctx);
    cr_assert(duk_get_prop_string(ctx, -1, EW__STASH_ITERATOR_PROTOTYPE));
    duk_put_global_string(ctx, "IP");
    duk_pop(ctx);
    expect("Object.getPrototypeOf(Object.getPrototypeOf(new Map().keys())) === IP", "true");
}

Test(core_collections, iterators_yield_keys_values_entries)
{
    run(helpers);
    expect("var m = new Map([['a', 1], ['b', 2]]);"
           "[drain(m.keys()), drain(m.values()), drain(m.entries()), drain(m[Symbol.iterator]())].join(';')",
           "a b;1 2;[a,1] [b,2];[a,1] [b,2]");
    expect("var s = new Set(['x', 'y']); [drain(s.keys()), drain(s.values()), drain(s.entries()),"
           " drain(s[Symbol.iterator]())].join(';')",
           "x y;x y;[x,x] [y,y];x y");
    expect("var it = new Set([1]).values(); var a = it.next(), b = it.next(), c = it.next();"
           "[a.value, a.done, b.value, b.done, c.done, Object.keys(a).join('/')].join()",
           "1,false,,true,true,value/done");
}

Test(core_collections, iteration_is_live_across_additions_and_deletions)
{
    run(helpers);
    /* Added during iteration: visited. Deleted before being reached: skipped. */
    expect("var m = new Map([[1, 1], [2, 2], [3, 3]]); var it = m.keys(), out = [];"
           "out.push(it.next().value); m.delete(2); m.set(4, 4); m.delete(1);"
           "var r; while (!(r = it.next()).done) out.push(r.value); out.join()",
           "1,3,4");
    /* Deleted then re-added: visited again at the end. */
    expect("var s = new Set([1, 2, 3]), out = [], once = true;"
           "s.forEach(function (v) { out.push(v); if (once) { once = false; s.delete(1); s.add(1); } });"
           "out.join()",
           "1,2,3,1");
    /* An exhausted iterator stays done even if entries are added. */
    expect("var s = new Set([1]); var it = s.values(); it.next(); it.next(); s.add(2); it.next().done", "true");
}

Test(core_collections, clear_during_iteration)
{
    run(helpers);
    expect("var m = new Map([[1, 1], [2, 2], [3, 3]]); var it = m.keys(); it.next(); m.clear();"
           "[it.next().done, m.size].join()",
           "true,0");
    /* Entries added after clear() are visited by an iterator that was mid-way. */
    expect("var s = new Set([1, 2, 3]); var it = s.values(); it.next(); it.next(); s.clear(); s.add(7); s.add(8);"
           "drain(it)",
           "7 8");
    expect("var s = new Set([1, 2, 3]), out = [];"
           "s.forEach(function (v) { out.push(v); if (v === 2) { s.clear(); s.add('a'); } }); out.join()",
           "1,2,a");
}

Test(core_collections, iteration_survives_compaction)
{
    run(helpers);
    /* Deleting most entries compacts the table; iterators keep their place. */
    expect("var m = new Map(); for (var i = 0; i < 1000; i++) m.set(i, i);"
           "var it = m.keys(); for (var i = 0; i < 500; i++) it.next();"
           "for (var i = 0; i < 990; i++) if (i !== 499 && i !== 500 && i !== 501) m.delete(i);"
           "drain(it)",
           "500 501 990 991 992 993 994 995 996 997 998 999");
    /* Several iterators at different places, several compactions (LRU-style deletes from the front). */
    expect("var s = new Set(); for (var i = 0; i < 100; i++) s.add(i);"
           "var a = s.values(), b = s.values(); for (var i = 0; i < 10; i++) a.next();"
           "for (var i = 0; i < 60; i++) b.next();"
           "for (var round = 0; round < 5; round++) { for (var i = 0; i < 18; i++)"
           " s['delete'](s.values().next().value); s.add(100 + round); }"
           "[s.size, a.next().value, b.next().value, drain(a).split(' ').length, s.values().next().value].join()",
           "15,90,90,14,90");
    expect("var m = new Map(); for (var i = 0; i < 64; i++) m.set(i, i); var out = [];"
           "m.forEach(function (v, k) { out.push(k); if (k === 10) for (var j = 11; j < 60; j++) m['delete'](j); });"
           "out.join()",
           "0,1,2,3,4,5,6,7,8,9,10,60,61,62,63");
}

/* ---- forEach ---- */

Test(core_collections, for_each_arguments_and_this)
{
    run(helpers);
    expect("var m = new Map([['k', 'v']]); var log = []; var ctx = {};"
           "var r = m.forEach(function (v, k, map) { log.push(v, k, map === m, this === ctx, arguments.length); },"
           " ctx);"
           "[r, log.join()].join(';')",
           ";v,k,true,true,3");
    expect("var s = new Set(['v']); var log = [];"
           "s.forEach(function (v, k, set) { log.push(v, k, set === s); }); log.join()",
           "v,v,true");
    expect("errName(function () { new Map().forEach(1); })", "TypeError");
    expect("var s = new Set([1, 2]); errName(function () { s.forEach(function () { throw new EvalError(); }); })",
           "EvalError");
}

/* ---- Receivers, attributes, names ---- */

Test(core_collections, methods_check_their_receiver)
{
    run(helpers);
    expect("var m = new Map(), s = new Set(), wm = new WeakMap(), ws = new WeakSet();"
           "[errName(function () { Map.prototype.get.call(s, 1); }),"
           " errName(function () { Map.prototype.has.call({}, 1); }),"
           " errName(function () { Set.prototype.add.call(m, 1); }),"
           " errName(function () { Set.prototype.has.call(Object.create(s), 1); }),"
           " errName(function () { Object.getOwnPropertyDescriptor(Map.prototype, 'size').get.call(s); }),"
           " errName(function () { Map.prototype.set.call(wm, 1, 1); }),"
           " errName(function () { WeakMap.prototype.get.call(m, {}); }),"
           " errName(function () { WeakSet.prototype.has.call(wm, {}); }),"
           " errName(function () { Map.prototype.keys.call(undefined); }),"
           " errName(function () { Map.prototype.get.call(new Proxy(m, {}), 1); }),"
           " errName(function () { Map.prototype.size; })].join()",
           "TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,"
           "TypeError");
    expect("var mi = new Map().keys(), si = new Set().values();"
           "[errName(function () { mi.next.call(si); }), errName(function () { si.next.call(mi); }),"
           " errName(function () { mi.next.call(new Map()); }), errName(function () { mi.next.call({}); })].join()",
           "TypeError,TypeError,TypeError,TypeError");
}

Test(core_collections, property_attributes_lengths_and_names)
{
    run(helpers);
    expect("function d(o, k) { var x = Object.getOwnPropertyDescriptor(o, k);"
           "  return (x.writable ? 'w' : '-') + (x.enumerable ? 'e' : '-') + (x.configurable ? 'c' : '-'); }"
           "[d(this, 'Map'), d(Map, 'prototype'), d(Map.prototype, 'get'), d(Map.prototype, Symbol.toStringTag),"
           " d(Map, 'length'), d(Map, 'name'), Map.length, Set.length, WeakMap.length, WeakSet.length,"
           " WeakRef.length, FinalizationRegistry.length, Map.name, Map.prototype.set.length,"
           " Map.prototype.forEach.length, Map.prototype.get.name, Map.prototype.constructor === Map,"
           " Object.getPrototypeOf(Map) === Function.prototype,"
           " Object.getPrototypeOf(Map.prototype.get) === Function.prototype].join()",
           "w-c,---,w-c,--c,--c,--c,0,0,0,0,1,1,Map,2,1,get,true,true,true");
    expect("var g = Object.getOwnPropertyDescriptor(Map.prototype, 'size');"
           "var sp = Object.getOwnPropertyDescriptor(Set, Symbol.species);"
           "[typeof g.get, g.set, g.enumerable, g.configurable, g.get.name, g.get.length, sp.get.name,"
           " Map[Symbol.species] === Map, Set[Symbol.species] === Set].join()",
           "function,,false,true,get size,0,get [Symbol.species],true,true");
    expect("[Map.prototype[Symbol.iterator] === Map.prototype.entries, Set.prototype.keys === Set.prototype.values,"
           " Set.prototype[Symbol.iterator] === Set.prototype.values, Set.prototype.values.name,"
           " Object.prototype.toString.call(new Map()), Object.prototype.toString.call(new Set()),"
           " Object.prototype.toString.call(new WeakMap()), Object.prototype.toString.call(new WeakSet()),"
           " Object.prototype.toString.call(new WeakRef({})),"
           " Object.prototype.toString.call(new FinalizationRegistry(function () {}))].join()",
           "true,true,true,values,[object Map],[object Set],[object WeakMap],[object WeakSet],[object WeakRef],"
           "[object FinalizationRegistry]");
    /* Nothing of the implementation shows. */
    expect("var m = new Map([[1, 2]]); m.keys(); [Object.getOwnPropertyNames(m).length, Object.keys(m).length,"
           " JSON.stringify(m), Object.getOwnPropertySymbols ? Object.getOwnPropertySymbols(m).length : 0].join()",
           "0,0,{},0");
}

Test(core_collections, frozen_collections_still_work)
{
    run(helpers);
    expect("var m = Object.freeze(new Map()); for (var i = 0; i < 100; i++) m.set(i, i);"
           "for (var i = 0; i < 90; i++) m['delete'](i); var it = m.keys(); m.clear(); m.set('a', 1);"
           "[m.size, drain(it), Object.isFrozen(m)].join()",
           "1,a,true");
}

/* ---- Upsert and groupBy ---- */

Test(core_collections, get_or_insert_and_computed)
{
    run(helpers);
    expect("var m = new Map([['a', 1]]); [m.getOrInsert('a', 2), m.getOrInsert('b', 3), m.get('b'), m.size].join()",
           "1,3,3,2");
    expect("var m = new Map(); var seen; var r = m.getOrInsertComputed(-0, function (k) { seen = k; m.set(0, 'x');"
           " return 'y'; });"
           "[r, show(seen), m.get(0), m.size, errName(function () { m.getOrInsertComputed(1, 2); })].join()",
           "y,0,y,1,TypeError");
    expect("var wm = new WeakMap(), k = {}; [wm.getOrInsert(k, 1), wm.getOrInsert(k, 2),"
           " wm.getOrInsertComputed({}, function () { return 5; }),"
           " errName(function () { wm.getOrInsert(1, 1); }), errName(function () { wm.getOrInsertComputed(k, null);"
           " })].join()",
           "1,1,5,TypeError,TypeError");
}

Test(core_collections, map_group_by)
{
    run(helpers);
    expect("var g = Map.groupBy([1, 2, 3, 4, 5], function (v, i) { return v % 2 ? 'odd' : 'even'; });"
           "[g instanceof Map, drain(g.entries())].join(';')",
           "true;[odd,[1,3,5]] [even,[2,4]]");
    expect("var g = Map.groupBy([1], function () { return -0; }); show(g.keys().next().value)", "0");
    expect("errName(function () { Map.groupBy([], 1); })", "TypeError");
}

/* ---- WeakMap, WeakSet ---- */

Test(core_collections, weak_map_basics)
{
    run(helpers);
    expect("var wm = new WeakMap(), a = {}, b = function () {}, c = [];"
           "wm.set(a, 1).set(b, 2); [wm.get(a), wm.get(b), wm.has(c), wm.get(c), wm['delete'](a), wm.has(a),"
           " wm['delete'](a), wm.get(b)].join()",
           "1,2,false,,true,false,false,2");
    expect("var k = {}; var wm = new WeakMap([[k, 'v']]); wm.get(k)", "v");
}

Test(core_collections, weak_map_rejects_non_object_keys)
{
    run(helpers);
    expect("var wm = new WeakMap(); [errName(function () { wm.set(1, 1); }), errName(function () { wm.set('s', 1); }),"
           " errName(function () { wm.set(null, 1); }), errName(function () { wm.set(undefined, 1); }),"
           " errName(function () { wm.set(Symbol['for']('r'), 1); }), errName(function () { new WeakSet([1]); }),"
           " wm.get(1), wm.has('s'), wm['delete'](null)].join()",
           "TypeError,TypeError,TypeError,TypeError,TypeError,TypeError,,false,false");
    expect("var wm = new WeakMap(), s = Symbol('local'); wm.set(s, 1); wm.set(Symbol.iterator, 2);"
           "[wm.get(s), wm.get(Symbol.iterator), wm.has(Symbol('local')), wm['delete'](s), wm.has(s)].join()",
           "1,2,false,true,false");
}

Test(core_collections, weak_map_entries_are_per_collection_and_not_inherited)
{
    run(helpers);
    expect("var a = new WeakMap(), b = new WeakMap(), k = {}; a.set(k, 'a'); b.set(k, 'b');"
           "var child = Object.create(k);"
           "[a.get(k), b.get(k), a.has(child), a.get(child), b['delete'](k), a.get(k)].join()",
           "a,b,false,,true,a");
    expect("var ws = new WeakSet(), k = {}; ws.add(k); [ws.has(k), ws.has(Object.create(k)), ws['delete'](k),"
           " ws.has(k)].join()",
           "true,false,true,false");
}

Test(core_collections, weak_keys_leave_objects_unchanged)
{
    run(helpers);
    expect("var wm = new WeakMap(), ws = new WeakSet(), k = { x: 1 }; wm.set(k, 2); ws.add(k);"
           "[Object.keys(k).join(), Object.getOwnPropertyNames(k).join(), JSON.stringify(k),"
           " Object.getOwnPropertySymbols(k).length].join(';')",
           "x;x;{\"x\":1};0");
}

Test(core_collections, weak_map_with_frozen_and_sealed_keys)
{
    run(helpers);
    expect("var wm = new WeakMap(), f = Object.freeze({}), s = Object.seal({}), p = Object.preventExtensions({});"
           "wm.set(f, 1).set(s, 2).set(p, 3); wm.set(f, 4);"
           "var r = [wm.get(f), wm.get(s), wm.get(p), Object.isFrozen(f), Object.isSealed(s), Object.isExtensible(p)];"
           "r.push(wm['delete'](f), wm.has(f), wm.get(f)); wm.set(f, 5); r.push(wm.get(f));"
           "var later = {}; wm.set(later, 'x'); Object.freeze(later); r.push(wm.get(later), wm['delete'](later),"
           " wm.has(later), Object.isFrozen(later)); r.join()",
           "4,2,3,true,true,false,true,false,,5,x,true,false,true");
}

Test(core_collections, weak_map_with_proxy_keys)
{
    run(helpers);
    expect("var wm = new WeakMap(), t = {}, p = new Proxy(t, {});"
           "wm.set(t, 'target'); wm.set(p, 'proxy');"
           "var r = [wm.get(t), wm.get(p), wm.has(p)]; wm['delete'](t); r.push(wm.has(t), wm.get(p));"
           "wm['delete'](p); r.push(wm.has(p)); var ws = new WeakSet(); ws.add(p); r.push(ws.has(p), ws.has(t));"
           " r.join()",
           "target,proxy,true,false,proxy,false,true,false");
    expect("var wm = new WeakMap(), n = Object.create(null); wm.set(n, 1); [wm.get(n),"
           " wm.has(Object.create(null))].join()",
           "1,false");
}

/* ---- WeakRef, FinalizationRegistry ---- */

Test(core_collections, weak_ref_derefs_its_target)
{
    run(helpers);
    expect("var o = {}; var r = new WeakRef(o); [r.deref() === o, errName(function () { new WeakRef(1); }),"
           " errName(function () { WeakRef({}); }), errName(function () { WeakRef.prototype.deref.call({}); }),"
           " new WeakRef(Symbol('x')).deref().toString()].join()",
           "true,TypeError,TypeError,TypeError,Symbol(x)");
}

Test(core_collections, finalization_registry_register_and_unregister)
{
    run(helpers);
    expect("var fr = new FinalizationRegistry(function () {}); var t = {}, tok = {};"
           "var r = [fr.register(t, 'held'), fr.register(t, 'held', tok), fr.register({}, 1, tok)];"
           "r.push(fr.unregister(tok), fr.unregister(tok), fr.unregister({}));"
           "r.push(errName(function () { fr.register(1, 2); }), errName(function () { fr.register(t, t); }),"
           " errName(function () { fr.register(t, 1, 5); }), errName(function () { fr.unregister(5); }),"
           " errName(function () { new FinalizationRegistry(); }), errName(function () {"
           " FinalizationRegistry(function () {}); }));"
           "r.join()",
           ",,,true,false,false,TypeError,TypeError,TypeError,TypeError,TypeError,TypeError");
}

/* ---- ES2025 Set methods ---- */

Test(core_collections, set_methods_with_sets)
{
    run(helpers);
    expect("var a = new Set([1, 2, 3]), b = new Set([3, 4, -0]);"
           "[drain(a.union(b).values()), drain(a.intersection(b).values()), drain(a.difference(b).values()),"
           " drain(a.symmetricDifference(b).values()), a.isSubsetOf(b), new Set([3]).isSubsetOf(b),"
           " b.isSupersetOf(new Set([4, 0])), a.isDisjointFrom(new Set([9])), a.isDisjointFrom(b),"
           " a.union(b) instanceof Set].join(';')",
           "1 2 3 4 0;3;1 2;1 2 4 0;false;true;true;true;false;true");
}

Test(core_collections, set_methods_with_set_likes)
{
    run(helpers);
    /* A set-like: size, has, keys are read once, in that order; a Map is one (keys are its keys). */
    expect("var log = []; var like = { get size() { log.push('size'); return 2; },"
           "  get has() { log.push('has'); return function (v) { return v === 1 || v === 5; }; },"
           "  get keys() { log.push('keys'); return function () { return new Set([1, 5]).values(); }; } };"
           "var r = drain(new Set([1, 2, 3]).intersection(like).values()); [r, log.join()].join(';')",
           "1;size,has,keys");
    expect("drain(new Set(['a']).union(new Map([['b', 1]])).values())", "a b");
    expect("var s = new Set([1]);"
           "[errName(function () { s.union([2]); }), errName(function () { s.union({ size: -1 }); }),"
           " errName(function () { s.union({ size: 1, has: 1, keys: function () {} }); }),"
           " errName(function () { s.union(1); }), errName(function () { Set.prototype.union.call(new Map(), s);"
           " })].join()",
           "TypeError,RangeError,TypeError,TypeError,TypeError");
}

Test(core_collections, set_methods_close_keys_iterator_on_early_answer)
{
    run(helpers);
    expect("var log = []; var like = { size: 5, has: function () { return false; }, keys: function () {"
           "  return { next: function () { return { value: 1, done: false }; },"
           "           'return': function () { log.push('return'); return {}; } }; } };"
           "[new Set([2]).isSupersetOf({ size: 1, has: like.has, keys: like.keys }), new Set([1, 2, 3, 4, 5,"
           " 6]).isDisjointFrom(like),"
           " log.join()].join()",
           "false,false,return,return");
}

/* ---- The abort rule (invariant 2 of internal.h) ---- */

/* A heap whose udata looks like an isolate, so that ew__isolate_aborting() sees the flag set by abort(). */
static ew__isolate_t fake_iso;

static void *fake_alloc(void *u, duk_size_t n)
{
    (void) u;
    return malloc(n);
}

static void *fake_realloc(void *u, void *p, duk_size_t n)
{
    (void) u;
    return realloc(p, n);
}

static void fake_free(void *u, void *p)
{
    (void) u;
    free(p);
}

static duk_ret_t js_abort(duk_context *c)
{
    fake_iso.abort_reason = EW_ERR_CPU_LIMIT;
    return duk_range_error(c, "execution timeout");
}

static void setup_fake_isolate(void)
{
    duk_destroy_heap(ctx);
    memset(&fake_iso, 0, sizeof(fake_iso));
    fake_iso.magic = EW__ISOLATE_MAGIC;
    fake_iso.deadline_ns = UINT64_MAX;
    fake_iso.heap_limit = SIZE_MAX;
    ctx = duk_create_heap(fake_alloc, fake_realloc, fake_free, &fake_iso, NULL);
    fake_iso.ctx = ctx;
    ew__microtask_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
    duk_push_c_function(ctx, js_abort, 0);
    duk_put_global_string(ctx, "abort");
    run(custom_iterable);
}

Test(core_collections, no_iterator_close_after_a_limit_fired, .init = setup_fake_isolate)
{
    /* return() would be user code running after the limit fired: it must not run. */
    run("var log = [], saved = Map.prototype.set; Map.prototype.set = function () { abort(); };");
    expect("new Map(iterable([[1, 1]], log))", "THROW RangeError: execution timeout");
    fake_iso.abort_reason = EW_OK;
    expect("Map.prototype.set = saved; log.join(' ')", "next");
    expect("var log2 = []; Map.groupBy(iterable([1], log2), function () { abort(); })",
           "THROW RangeError: execution timeout");
    fake_iso.abort_reason = EW_OK;
    expect("log2.join(' ')", "next");
    /* Without a limit, the same error closes the iterator. */
    expect("var log3 = []; try { Map.groupBy(iterable([1], log3), function () { throw 1; }); } catch (e) {"
           "  log3.push('c'); } log3.join(' ')",
           "next return c");
}

/* ---- With the engine's other built-ins (lib/core/builtin_*.c), as setup_runtime installs them ---- */

static void setup_with_builtins(void)
{
    duk_destroy_heap(ctx);
    ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__builtins_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
    run(helpers);
}

Test(core_collections, arrays_use_their_iterator_unless_unchanged, .init = setup_with_builtins)
{
    expect("var IP = Object.getPrototypeOf(Object.getPrototypeOf([].values()));"
           "[IP === Object.getPrototypeOf(Object.getPrototypeOf(new Map().keys())),"
           " drain(new Map([[1, 'a'], [2, 'b']]).entries()), drain(new Set('a\\ud83d\\ude00').values()).length,"
           " Array.from(new Map([[1, 2]]).keys()).join(), Array.from(new Set([3, 4])).join()].join(';')",
           "true;[1,a] [2,b];4;1;3,4");
    /* A changed %ArrayIteratorPrototype%.next or Array.prototype[Symbol.iterator] is honoured. */
    expect("var AIP = Object.getPrototypeOf([].values()), next = AIP.next, n = 0;"
           "AIP.next = function () { n++; return next.call(this); };"
           "var s = new Set([1, 2]); AIP.next = next; [s.size, n].join()",
           "2,3");
    expect("var saved = Array.prototype[Symbol.iterator];"
           "Array.prototype[Symbol.iterator] = function () { return [7, 8].values(); };"
           "var s = new Set([1, 2]); Array.prototype[Symbol.iterator] = saved; drain(s.values())",
           "7 8");
}

/* ---- Size and limits ---- */

Test(core_collections, map_and_set_with_100k_entries)
{
    run(helpers);
    expect("var m = new Map(), s = new Set(), objs = []; for (var i = 0; i < 100000; i++) { var o = { i: i };"
           " objs.push(o);"
           "  m.set(o, i); s.add('k' + i); }"
           "var ok = m.size === 100000 && s.size === 100000;"
           "for (var i = 0; i < 100000; i += 7) ok = ok && m.get(objs[i]) === i && s.has('k' + i);"
           "for (var i = 0; i < 100000; i += 2) { m['delete'](objs[i]); s['delete']('k' + i); }"
           "var n = 0; m.forEach(function (v) { if (v % 2 !== 1) ok = false; n++; });"
           "var first = s.values().next().value; s.clear();"
           "[ok, n, m.size, first, s.size, m.get(objs[1]), m.has(objs[0])].join()",
           "true,50000,50000,k1,0,1,false");
}

Test(core_collections, weak_map_with_100k_keys)
{
    run(helpers);
    expect("var wm = new WeakMap(), keys = []; for (var i = 0; i < 100000; i++) { var k = {}; keys.push(k); wm.set(k,"
           " i); }"
           "var ok = true; for (var i = 0; i < 100000; i += 3) ok = ok && wm.get(keys[i]) === i;"
           "[ok, wm.has({})].join()",
           "true,false");
}

/* The entry of a WeakMap lives on its key: once the key is unreachable, its value is freed with it. */
Test(core_collections, weak_map_does_not_keep_keys_or_values_alive)
{
    run(helpers);
    run("var freed = 0; var wm = new WeakMap(); var keep = {};"
        "(function () { for (var i = 0; i < 1000; i++) wm.set({}, { big: new Array(100).join('x') + i }); })();");
    duk_gc(ctx, 0);
    duk_gc(ctx, 0);
    /* Nothing observable from JS; check the heap did not grow with 1000 retained values: the state of the
     * WeakMap itself is a fixed buffer and two names. */
    expect("wm.set(keep, 1); wm.get(keep)", "1");
}

/* ---- Benchmarks and memory (opt-in: EW_COLL_BENCH=1) ---- */

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* Runs src (which does `n` operations) and returns ns per operation. */
static double time_per_op(const char *src, double n)
{
    double t0 = now_ns();
    const char *r = run(src);
    double dt = now_ns() - t0;
    cr_assert(strncmp(r, "THROW", 5) != 0, "%s", r);
    return dt / n;
}

Test(core_collections, bench_ns_per_op)
{
    if (getenv("EW_COLL_BENCH") == NULL)
        cr_skip_test("set EW_COLL_BENCH=1 to run");
    /* Loops run inside functions (locals: a global-scope loop costs ~150 ns per iteration by itself). */
    run("var N = 1000000, objs = []; for (var i = 0; i < N; i++) objs.push({});"
        "var m, o, o2, m2, m3, wm;");
    struct {
        const char *what;
        const char *set, *get;
    } cases[] = {
        { "loop alone (overhead)", "(function () { var a = objs, x = 0; for (var i = 0; i < N; i++) x += i; })()",
          "(function () { var a = objs, x = 0; for (var i = 0; i < N; i++) x += a[i] ? 1 : 0; return x; })()" },
        { "Map, integer keys", "(function () { var c = m = new Map(); for (var i = 0; i < N; i++) c.set(i, i); })()",
          "(function () { var c = m, x = 0; for (var i = 0; i < N; i++) x += c.get(i); return x; })()" },
        { "plain object, integer keys", "(function () { var c = o = {}; for (var i = 0; i < N; i++) c[i] = i; })()",
          "(function () { var c = o, x = 0; for (var i = 0; i < N; i++) x += c[i]; return x; })()" },
        { "Map, object keys",
          "(function () { var c = m2 = new Map(), a = objs; for (var i = 0; i < N; i++) c.set(a[i], i); })()",
          "(function () { var c = m2, a = objs, x = 0; for (var i = 0; i < N; i++) x += c.get(a[i]); return x; })()" },
        { "WeakMap, object keys",
          "(function () { var c = wm = new WeakMap(), a = objs; for (var i = 0; i < N; i++) c.set(a[i], i); })()",
          "(function () { var c = wm, a = objs, x = 0; for (var i = 0; i < N; i++) x += c.get(a[i]); return x; })()" },
        { "Map, 'k'+i string keys",
          "(function () { var c = m3 = new Map(); for (var i = 0; i < N; i++) c.set('k' + i, i); })()",
          "(function () { var c = m3, x = 0; for (var i = 0; i < N; i++) x += c.get('k' + i); return x; })()" },
        { "plain object, 'k'+i keys",
          "(function () { var c = o2 = {}; for (var i = 0; i < N; i++) c['k' + i] = i; })()",
          "(function () { var c = o2, x = 0; for (var i = 0; i < N; i++) x += c['k' + i]; return x; })()" },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        double s = time_per_op(cases[c].set, 1e6);
        double g = time_per_op(cases[c].get, 1e6);
        printf("%-28s set %5.0f ns/op   get %5.0f ns/op\n", cases[c].what, s, g);
    }
    double small = time_per_op("(function () { var c = new Map(), x = 0; for (var i = 0; i < 1000; i++) c.set(i, i);"
                               "  for (var i = 0; i < N; i++) x += c.get(i & 511); return x; })()", 1e6);
    double small_o = time_per_op("(function () { var c = {}, x = 0; for (var i = 0; i < 1000; i++) c[i] = i;"
                                 "  for (var i = 0; i < N; i++) x += c[i & 511]; return x; })()", 1e6);
    printf("%-28s Map get %4.0f ns/op   plain object get %4.0f ns/op\n", "1000 integer keys (cached)", small,
           small_o);
    double fe = time_per_op("(function () { var n = 0; m.forEach(function () { n++; }); return n; })()", 1e6);
    double it = time_per_op("(function () { var n = 0, it = m.keys(); while (!it.next().done) n++; return n;"
                            " })()", 1e6);
    printf("%-28s forEach %4.0f ns/entry   keys().next() %4.0f ns/entry\n", "Map iteration, 1e6 entries", fe, it);
}

/* A counting allocator to see what ew__collections_init() adds to a heap. */
typedef struct counter {
    size_t bytes;   /* live payload bytes */
    size_t blocks;  /* live allocations */
} counter_t;

static void *count_alloc(void *udata, duk_size_t size)
{
    size_t *p = malloc(size + 16);
    if (p == NULL)
        return NULL;
    p[0] = size;
    ((counter_t *) udata)->bytes += size;
    ((counter_t *) udata)->blocks++;
    return (char *) p + 16;
}

static void count_free(void *udata, void *ptr)
{
    if (ptr == NULL)
        return;
    size_t *p = (size_t *) ((char *) ptr - 16);
    ((counter_t *) udata)->bytes -= p[0];
    ((counter_t *) udata)->blocks--;
    free(p);
}

static void *count_realloc(void *udata, void *ptr, duk_size_t size)
{
    if (ptr == NULL)
        return count_alloc(udata, size);
    if (size == 0) {
        count_free(udata, ptr);
        return NULL;
    }
    size_t *p = (size_t *) ((char *) ptr - 16);
    size_t old = p[0];
    size_t *q = realloc(p, size + 16);
    if (q == NULL)
        return NULL;
    q[0] = size;
    ((counter_t *) udata)->bytes += size - old;
    return (char *) q + 16;
}

/* Live bytes of a bare heap (with 16-byte allocation headers, as lib/core/limits.c counts them). */
static size_t heap_bytes_with(bool collections, counter_t *c)
{
    duk_context *h = duk_create_heap(count_alloc, count_realloc, count_free, c, NULL);
    ew__microtask_init(h);
    ew__promise_init(h);
    if (collections)
        ew__collections_init(h);
    duk_gc(h, 0);
    duk_gc(h, 0);
    size_t bytes = c->bytes + 16 * c->blocks;
    duk_destroy_heap(h);
    return bytes;
}

Test(core_collections, init_adds_little_to_a_heap)
{
    counter_t a = { 0 }, b = { 0 };
    size_t without = heap_bytes_with(false, &a);
    size_t with = heap_bytes_with(true, &b);
    size_t added = with - without;
    if (getenv("EW_COLL_BENCH") != NULL)
        printf("heap: %zu bytes without collections, %zu with: +%zu bytes (16-byte block headers included)\n",
               without, with, added);
    cr_assert_lt(added, 40 * 1024, "collections add %zu bytes per heap", added);
    cr_assert_eq(a.bytes, 0, "leak: %zu bytes", a.bytes);
    cr_assert_eq(b.bytes, 0, "leak: %zu bytes", b.bytes);
}
