/* Async functions, generators, async generators, for await and top-level await (lib/compile/lower_async.c):
 * each row is a modern script that logs through L(x); it is compiled with ew__compile (modules: the bundler),
 * run in a Duktape heap prepared like an isolate's (microtasks, built-ins, Promise, collections, the coroutine
 * runtime and the helper object built as lib/core/dispatch.c's load_helpers does), the microtasks are drained,
 * and the log joined with spaces is compared. Expected logs are what Node 20 prints for the same source (the
 * rows were run through `node -e` with the same L and a timer after the microtasks), so they check the order
 * of microtask turns, not just the values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/bundle.h"
#include "compile/compile.h"
#include "core/dispatch.h"
#include "core/internal.h"
#include "js_bytecode.h"

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
    ew__coro_init(c);
    ew__helpers_push_new(c); /* the helper object exactly as an isolate builds it (coroutine helpers included) */
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

/* Runs compiled program text with the helpers, drains the microtasks; the log (or the error) into got. */
static void run_text(const char *text, size_t len, char *got, size_t cap)
{
    if (duk_peval_string(ctx, "var log = []; function L(x) { log.push(String(x)); }") != 0)
        cr_assert_fail("prelude");
    duk_pop(ctx);
    duk_push_lstring(ctx, text, len);
    duk_push_string(ctx, "test.js");
    if (duk_pcompile(ctx, DUK_COMPILE_FUNCTION) != 0) {
        snprintf(got, cap, "duktape: %s", duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
        return;
    }
    duk_push_global_object(ctx);
    duk_get_global_string(ctx, "\xff" "helpers");
    if (duk_pcall_method(ctx, 1) != 0) {
        snprintf(got, cap, "throws %s", duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
        return;
    }
    duk_pop(ctx);
    ew__microtask_drain(ctx);
    if (duk_peval_string(ctx, "log.join(' ')") != 0)
        cr_assert_fail("log");
    snprintf(got, cap, "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
}

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
    run_text(out.text, out.len, got, cap);
    ew__compile_out_dispose(&out);
}

static void run_cases(const js_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char got[1024];
        char *js;
        run_one(cases[i].src, got, sizeof got, &js);
        cr_expect_str_eq(got, cases[i].want, "row %zu: %s\n--- got: %s\n--- compiled:\n%s", i, cases[i].src, got,
                         js ? js : "(none)");
        free(js);
    }
}

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

TestSuite(async, .init = setup, .fini = teardown);

/* Every row of the table, against Node 20. */
Test(async, rows_match_node)
{
    static const js_case_t c[] = {
    {"async function f() { L('a'); await null; L('c'); } f(); L('b');",
     "a b c"},
    {"async function f(x) { return x * 2; } f(21).then(L);",
     "42"},
    /* async functions without await (settled in place by $ew.asyncReturn): thenables and `then` getters */
    {"async function f() { return { then(r) { L('then'); r(7); } }; } f().then(L); L('sync');",
     "sync then 7"},
    {"async function f() { try { return { get then() { throw new Error('g'); } }; } catch (e) { L('caught'); } }"
     " f().then(() => L('no'), e => L('rej:' + e.message));",
     "rej:g"},
    {"let n = 0; async function f() { return { get then() { n++; return undefined; }, v: 1 }; }"
     " f().then(o => L(n + ':' + o.v)); L('n' + n);",
     "n1 1:1"},
    {"async function f() { throw new Error('boom'); } f().catch(e => L(e.message)); L('sync');",
     "sync boom"},
    {"async function f() { await 1; throw new TypeError('late'); } f().then(() => L('no'), e => L(e.name));",
     "TypeError"},
    {"async function a() { L('a1'); await b(); L('a2'); } async function b() { L('b1'); await null; L('b2'); } a(); Promise.resolve().then(() => L('p1')).then(() => L('p2')).then(() => L('p3'));",
     "a1 b1 b2 p1 a2 p2 p3"},
    {"async function f() { return Promise.resolve(1); } f().then(L); Promise.resolve().then(() => L('t1')).then(() => L('t2')).then(() => L('t3'));",
     "t1 t2 1 t3"},
    {"const f = async () => { await null; return 5; }; f().then(L);",
     "5"},
    {"const f = async x => x + 1; f(1).then(L);",
     "2"},
    {"const o = { v: 3, async m() { await null; return this.v; } }; o.m().then(L);",
     "3"},
    {"const o = { v: 4, m() { return (async () => { await null; return this.v; })(); } }; o.m().then(L);",
     "4"},
    {"function F() { this.v = 9; } F.prototype.go = async function () { const r = await Promise.resolve(this.v); return r + arguments.length; }; new F().go(1, 2).then(L);",
     "11"},
    {"async function f() { const a = [await 1, await 2, 3 + await 4]; L(a.join()); } f();",
     "1,2,7"},
    {"async function f() { L(String(await 'x') + (await 'y')); L((await 2) ** 2); } f();",
     "xy 4"},
    {"async function f(p) { return (await p) ? await 'yes' : await 'no'; } f(Promise.resolve(0)).then(L);",
     "no"},
    {"async function f() { let s = 0; for (let i = 0; i < 4; i++) s += await i; L(s); } f();",
     "6"},
    {"async function f() { let i = 0; while (await (i < 3)) i++; L(i); do { i--; } while (await i > 0); L(i); } f();",
     "3 0"},
    {"async function f() { for (const k in {a: 1, b: 2}) L(await k); } f();",
     "a b"},
    {"async function f() { for (const x of [1, 2]) L(await x * 10); } f();",
     "10 20"},
    {"async function f() { const fs = []; for (let i = 0; i < 3; i++) { await null; fs.push(() => i); } L(fs.map(g => g()).join()); } f();",
     "0,1,2"},
    {"async function f() { switch (await 2) { case 1: L('one'); break; case await 2: L('two'); break; } } f();",
     "two"},
    {"async function f() { return Math.max(await 3, await 7, 5); } f().then(L);",
     "7"},
    {"async function f() { L(`a${await 1}b${await 'c'}`); } f();",
     "a1bc"},
    {"async function f() { const {a, b = await 2} = {a: await 1}; L(a + b); } f();",
     "3"},
    {"async function f() { const o = {[await 'k']: await 'v'}; L(JSON.stringify(o)); } f();",
     "{\"k\":\"v\"}"},
    {"async function f(x) { if (await x) L('t'); else L('f'); L(await x && await 'and'); L(await null ?? 'nn'); } f(1);",
     "t and nn"},
    {"async function f() { outer: for (let i = 0; i < 3; i++) { for (let j = 0; j < 3; j++) { if (await j === 1) continue outer; if (i === 2) break outer; L(i + '' + j); } } } f();",
     "00 10"},
    {"async function f() { try { await Promise.reject(new Error('r')); } catch (e) { L('c:' + e.message); await null; L('after'); } finally { L('fin'); await null; L('fin2'); } return 'done'; } f().then(L);",
     "c:r after fin fin2 done"},
    {"async function f() { try { return await 'v'; } finally { L('f'); } } f().then(L);",
     "f v"},
    {"async function f() { try { throw 1; } catch { L(await 'caught'); } } f();",
     "caught"},
    {"async function f() { try { await null; return 'a'; } finally { await null; L('fin'); } } f().then(L);",
     "fin a"},
    {"async function f() { for (let i = 0; i < 3; i++) { try { if (i === 1) continue; await i; L(i); } finally { L('f' + i); } } } f();",
     "0 f0 f1 2 f2"},
    {"async function f(a = 1, {b} = {b: 2}, ...r) { return a + b + r.length; } f(undefined, undefined, 7, 8).then(L); L(f.length);",
     "0 5"},
    {"async function f(a, {b}) { return a + b; } f(1).catch(e => L(e.name)); L('no throw'); L(f.length);",
     "no throw 2 TypeError"},
    {"async function f(a, b) { return arguments.length + a + b; } f(1, 2, 3).then(L);",
     "6"},
    {"const env = { KV: { get(k) { return Promise.resolve(k === 'users' ? '[{\"id\":1},{\"id\":2}]' : null); } } };\n"
     " async function handle(env) { const raw = await env.KV.get('users'); const users = raw ? JSON.parse(raw) : []; const miss = await env.KV.get('x'); return users.length + ':' + miss; }\n"
     " handle(env).then(L);",
     "2:null"},
    {"async function g(x) { await null; return x * 2; } Promise.all([g(1), g(2), g(3)]).then(v => L(v.join()));",
     "2,4,6"},
    {"function* g() { L('start'); const x = yield 1; L('got ' + x); yield x * 2; return 'end'; }\n"
     " const it = g(); L('made'); L(JSON.stringify(it.next('ignored'))); L(JSON.stringify(it.next(5))); L(JSON.stringify(it.next())); L(JSON.stringify(it.next()));",
     "made start {\"value\":1,\"done\":false} got 5 {\"value\":10,\"done\":false} {\"value\":\"end\",\"done\":true} {\"done\":true}"},
    {"function* g() { try { yield 1; yield 2; } finally { L('cleanup'); } } const it = g(); it.next(); L(JSON.stringify(it.return(9))); L(JSON.stringify(it.next()));",
     "cleanup {\"value\":9,\"done\":true} {\"done\":true}"},
    {"function* g() { try { yield 1; } catch (e) { L('caught ' + e); yield 'c'; } } const it = g(); it.next(); L(JSON.stringify(it.throw('x'))); L(JSON.stringify(it.next()));",
     "caught x {\"value\":\"c\",\"done\":false} {\"done\":true}"},
    {"function* g() { try { yield 1; } catch (e) { L('wrong'); } finally { L('fin'); } } const it = g(); it.next(); L(JSON.stringify(it.return(3)));",
     "fin {\"value\":3,\"done\":true}"},
    {"function* g() { try { yield 1; } catch { L('wrong'); } } const it = g(); it.next(); L(JSON.stringify(it.return(4)));",
     "{\"value\":4,\"done\":true}"},
    {"function* inner() { const x = yield 'i1'; L('inner got ' + x); return 'ret'; } function* outer() { const r = yield* inner(); L('r=' + r); yield* [7, 8]; }\n"
     " L([...outer()].join());",
     "inner got undefined r=ret i1,7,8"},
    {"function* fib() { let [a, b] = [0, 1]; for (;;) { yield a; [a, b] = [b, a + b]; } } const out = []; for (const x of fib()) { if (x > 20) break; out.push(x); } L(out.join());",
     "0,1,1,2,3,5,8,13"},
    {"function* g() { for (const x of [1, 2, 3]) { try { yield x; } finally { L('f' + x); } } } const it = g(); it.next(); it.next(); L(JSON.stringify(it.return(0)));",
     "f1 f2 {\"value\":0,\"done\":true}"},
    {"function* g() { for (let i = 0; i < 3; i++) { const f = () => i; yield f; } } L([...g()].map(f => f()).join());",
     "0,1,2"},
    {"const o = { *items() { yield* [1, 2]; }, v: 5, *self() { yield this.v; } }; L([...o.items()].join() + ' ' + [...o.self()].join());",
     "1,2 5"},
    {"function* g(a, b = a + 1) { yield arguments.length; yield b; } L([...g(1)].join());",
     "1,2"},
    {"function* g() { yield 1; } const it = g(); L(Object.getPrototypeOf(it) === g.prototype); L(it[Symbol.iterator]() === it); L(String(it));",
     "true true [object Generator]"},
    {"function* g() { const x = yield; L(x); } const it = g(); it.next(); it.next('v'); L(JSON.stringify(it.next()));",
     "v {\"done\":true}"},
    {"function* g() { return 5; } const it = g(); L(JSON.stringify(it.next()));",
     "{\"value\":5,\"done\":true}"},
    {"function* g() { try { yield 1; } finally { return 'override'; } } const it = g(); it.next(); L(JSON.stringify(it.return(1)));",
     "{\"value\":\"override\",\"done\":true}"},
    {"async function* ag() { L('s'); yield 1; await null; yield 2; return 3; }\n"
     " const it = ag(); it.next().then(r => L(JSON.stringify(r))); it.next().then(r => L(JSON.stringify(r))); it.next().then(r => L(JSON.stringify(r))); it.next().then(r => L(JSON.stringify(r))); L('queued');",
     "s queued {\"value\":1,\"done\":false} {\"value\":2,\"done\":false} {\"value\":3,\"done\":true} {\"done\":true}"},
    {"async function* ag() { yield Promise.resolve('p'); return Promise.resolve('r'); } (async () => { const it = ag(); L(JSON.stringify(await it.next())); L(JSON.stringify(await it.next())); })();",
     "{\"value\":\"p\",\"done\":false} {\"value\":\"r\",\"done\":true}"},
    {"async function* ag() { try { yield 1; yield 2; } finally { L('fin'); } } (async () => { for await (const x of ag()) { L(x); break; } L('after'); })();",
     "1 fin after"},
    {"async function* ag() { yield* [1, 2]; const r = yield* (async function* () { yield 3; return 'inner'; })(); L(r); } (async () => { const out = []; for await (const x of ag()) out.push(x); L(out.join()); })();",
     "inner 1,2,3"},
    {"const o = { async *g() { yield this.v; }, v: 'ov' }; (async () => { for await (const x of o.g()) L(x); })();",
     "ov"},
    /* an inner result whose value getter throws ends the yield* with that error (it is not sent to throw()) */
    {"const it = { [Symbol.asyncIterator]() { return this; }, next() { return { done: false, value: 1 }; },"
     " throw() { return { done: false, get value() { throw 'tok'; } }; } };"
     " async function* ag() { try { yield* it; } catch (e) { return 'caught ' + e; } }"
     " const g = ag(); g.next().then(() => g.throw('x')).then(r => L(r.value + ' ' + r.done));",
     "caught tok true"},
    {"async function f() { for await (const x of [Promise.resolve(1), 2, Promise.resolve(3)]) L(x); L('done'); } f();",
     "1 2 3 done"},
    {"async function f() { for await (const [a, {b}] of [[1, {b: 2}], Promise.resolve([3, {b: 4}])]) L(a + b); } f();",
     "3 7"},
    {"async function f() { let x; for await (x of [1, 2]); L(x); } f();",
     "2"},
    {"async function f() { const it = { [Symbol.asyncIterator]() { let i = 0; return { next() { return Promise.resolve({ value: i++, done: i > 3 }); }, return() { L('closed'); return Promise.resolve({}); } }; } };\n"
     "  for await (const v of it) { if (v === 1) break; L(v); } L('end'); } f();",
     "0 closed end"},
    {"async function f() { try { for await (const v of [1, 2]) { throw new Error('in ' + v); } } catch (e) { L(e.message); } } f();",
     "in 1"},
    {"async function f() { lbl: for await (const v of [1, 2, 3]) { for (const w of [1]) { if (v === 2) continue lbl; L(v); } } } f();",
     "1 3"},
    {"async function f() { const fs = []; for await (const v of [1, 2]) fs.push(() => v); L(fs.map(g => g()).join()); } f();",
     "1,2"},
    {"async function f() { for await (const v of [Promise.reject(new Error('rej'))]) L(v); } f().catch(e => L(e.message));",
     "rej"},
    {"async function f() { return typeof this; } f().then(L);",
     "object"},
    {"var n = 0; async function f() { if (++n < 5) await f(); return n; } f().then(L);",
     "5"},
    {"async function f() { const r = []; for (let i = 0; i < 3; i++) r.push(await new Promise(res => res(i))); return r.join(); } f().then(L);",
     "0,1,2"},
    {"function* g() { let i = 0; while (true) { const cmd = yield i++; if (cmd === 'stop') return 'stopped'; } } const it = g(); it.next(); it.next(); L(JSON.stringify(it.next('stop')));",
     "{\"value\":\"stopped\",\"done\":true}"},
    };
    RUN(c);
}

/* Async and generator methods of classes (lower_class.c runs first and keeps the flags on the method functions);
 * against Node 20 like the rows above. */
Test(async, class_methods_match_node)
{
    static const js_case_t c[] = {
    {"class Pool { constructor(n) { this.free = n; this.queue = []; }\n"
     "  async acquire() { if (this.free > 0) { this.free--; return; } await new Promise(resolve => this.queue.push(resolve)); }\n"
     "  release() { const r = this.queue.shift(); if (r) r(); else this.free++; } }\n"
     " const p = new Pool(1);\n"
     " async function job(n) { await p.acquire(); L('start' + n); await null; L('end' + n); p.release(); }\n"
     " job(1); job(2); job(3);",
     "start1 end1 start2 end2 start3 end3"},
    {"class A { async m() { await null; return 'A' + this.x; } constructor() { this.x = 1; } static async s() { return 's'; } }\n"
     " class B extends A { async m() { const r = await super.m(); return r + 'B'; } }\n"
     " new B().m().then(L); A.s().then(L);",
     "s A1B"},
    {"class C { constructor() { this.a = [3, 4]; } *[Symbol.iterator]() { yield* this.a; } } L([...new C()].join());",
     "3,4"},
    };
    RUN(c);
}

/* ---------------------------------------------------------------------------------------------------------
 * Top-level await (modules of a bundle)
 */

typedef struct mods {
    const char *files[3][2]; /* path, source; [0] is the entry */
    const char *want;
} mods_t;

static char *mem_read(void *ud, const char *path, size_t *len)
{
    const mods_t *m = ud;
    for (int i = 0; i < 3 && m->files[i][0]; i++) {
        if (!strcmp(m->files[i][0], path)) {
            *len = strlen(m->files[i][1]);
            return strdup(m->files[i][1]);
        }
    }
    return NULL;
}

static void run_modules(const mods_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ew__bundle_opts_t in = {cases[i].files[0][0], mem_read, (void *) &cases[i], true, false, false, NULL, NULL};
        ew__compile_out_t out;
        ew__diag_t d;
        char got[1024];
        ew__diag_init(&d);
        if (!ew__compile_bundle(&in, &out, &d)) {
            snprintf(got, sizeof got, "compile error: %s", d.message);
            cr_expect_str_eq(got, cases[i].want, "case %zu", i);
            ew__diag_dispose(&d);
            continue;
        }
        ew__diag_dispose(&d);
        run_text(out.text, out.len, got, sizeof got);
        cr_expect_str_eq(got, cases[i].want, "case %zu: got %s\n--- compiled:\n%s", i, got, out.text);
        ew__compile_out_dispose(&out);
    }
}

Test(async, top_level_await)
{
    static const mods_t c[] = {
        {{{"/m/main.js", "import {v} from './dep.js';\n"
                         "L('start ' + v);\n"
                         "const x = await Promise.resolve(1);\n"
                         "for await (const y of [2, Promise.resolve(3)]) L(y);\n"
                         "L('x ' + x);\n"
                         "export const later = x + 1;"},
          {"/m/dep.js", "export const v = 'dep';"}},
         "start dep 2 3 x 1"},
        {{{"/m/main.js", "L(typeof f()); export function f() { return 'hoisted'; } await null; L(f());"}},
         "string hoisted"},
        {{{"/m/main.js", "try { await Promise.reject(new Error('e')); } catch (e) { L('caught ' + e.message); }"}},
         "caught e"},
        /* the importer waits for an imported module's top-level await */
        {{{"/m/main.js", "import {v} from './dep.js'; L(v);"}, {"/m/dep.js", "export const v = await 1;"}}, "1"},
    };
    run_modules(c, sizeof c / sizeof c[0]);
}
