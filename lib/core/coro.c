/*
 * coro.c — the scheduler glue of async functions and async generators: what happens when a coroutine
 * awaits. lib/js/coro.js runs the bodies on pooled Duktape threads and drives them; when a body awaits a
 * value, its driver calls subscribe() here, which arranges for a JS step function of coro.js to be called
 * with (target, value, rejected) once the value settles. The step function resumes the thread (C cannot
 * resume a thread itself: Duktape.Thread.resume must be called from ECMAScript).
 *
 * Await(v) without the spec's allocations: a primitive, or a promise that is already settled, needs no
 * promise reaction at all; the step is queued as one microtask, in the queue position PerformPromiseThen
 * would have given its reaction job. Only a pending promise gets a reaction: two native handlers that know
 * their target, passed to the intrinsic then (promise.c has no C-level PerformPromiseThen).
 *
 * ew__coro_init() loads coro.js once per heap, after ew__promise_init() and ew__collections_init();
 * ew__coro_push_helpers() puts the helpers on the compiler's helper object. The contract for the lowering
 * pass is docs/coroutines.md; the measured costs are there too.
 */
#include <string.h>

#include "internal.h"
#include "isolate.h"
#include "js_bytecode.h"

/* Hidden keys (invariant 4). */
#define K_STATE DUK_HIDDEN_SYMBOL("coS")   /* heap stash: fixed buffer holding a coro_state_t */
#define K_KEEP DUK_HIDDEN_SYMBOL("coK")    /* heap stash: keeps what the state points to reachable */
#define K_PROMISE DUK_HIDDEN_SYMBOL("coP") /* thread running an async body: the promise of that call */
#define K_TARGET DUK_HIDDEN_SYMBOL("coT")  /* reaction handler: the thread or record its step resumes */
#define K_REQ DUK_HIDDEN_SYMBOL("coR")     /* thread running an async body: id of the request that called it */

/* Indexes into coro.js's `steps` (STEP_* there). */
enum { STEP_ASYNC, STEP_AGEN, STEP_AGEN_RETURN, N_STEPS };

/* Heap pointers kept reachable through K_KEEP. */
#define K_THEN DUK_HIDDEN_SYMBOL("coroThen")

typedef struct coro_state {
    void *steps[N_STEPS]; /* coro.js step functions: (target, value, rejected) */
    void *then;           /* %Promise.prototype.then% as it was before user code ran */
    void *helpers;        /* the helper object coro.js returned */
} coro_state_t;

static coro_state_t *coro_state(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_STATE);
    coro_state_t *S = duk_get_buffer_data(ctx, -1, NULL);
    duk_pop_2(ctx);
    return S;
}

/* ---------------------------------------------------------------------------------------------------------
 * Stepping a coroutine
 */

/* Charges what follows to the request that called the async function on thread `target`, while that
 * request lives. A job runs charged to the request that settled the promise it reacts to; when one request
 * settles a promise another one awaits (a pool's release() handing a slot to a waiting request), the
 * awaiting body must go on as its own request: the fetch() calls and timers it starts belong to it and are
 * not cancelled when the settling request ends, and its CPU time is its own (workerd runs such
 * continuations in the awaiting request's context too). Async generator records keep the job's request. */
static void charge_to_caller(duk_context *ctx, duk_idx_t target)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso == NULL || !duk_is_thread(ctx, target))
        return;
    duk_get_prop_literal(ctx, target, K_REQ);
    uint32_t id = duk_get_uint_default(ctx, -1, 0);
    duk_pop(ctx);
    if (id == 0 || (iso->running != NULL && iso->running->id == id))
        return;
    ew__req_t *req = ew__isolate_find_req(iso, id);
    if (req != NULL)
        ew__isolate_charge(iso, req);
}

/* Calls step(target, value, rejected); `flags` is step << 1 | rejected. Errors propagate: the caller is a
 * microtask job or a promise reaction, which are protected and rethrow while a limit unwinds. */
static void call_step(duk_context *ctx, duk_idx_t target, duk_idx_t value, int flags)
{
    target = duk_normalize_index(ctx, target);
    value = duk_normalize_index(ctx, value);
    duk_require_stack(ctx, 8);
    charge_to_caller(ctx, target);
    duk_push_heapptr(ctx, coro_state(ctx)->steps[flags >> 1]);
    duk_dup(ctx, target);
    duk_dup(ctx, value);
    duk_push_boolean(ctx, flags & 1);
    duk_call(ctx, 3);
    duk_pop(ctx);
}

/* Microtask: [target value flags]. */
static void job_step(duk_context *ctx, duk_idx_t nargs)
{
    duk_idx_t b = duk_get_top(ctx) - nargs;
    call_step(ctx, b, b + 1, duk_get_int(ctx, b + 2));
}

/* Queues the step for (target, value) as a microtask. */
static void enqueue_step(duk_context *ctx, duk_idx_t target, duk_idx_t value, int step, bool rejected)
{
    target = duk_normalize_index(ctx, target);
    value = duk_normalize_index(ctx, value);
    duk_dup(ctx, target);
    duk_dup(ctx, value);
    duk_push_int(ctx, step << 1 | (rejected ? 1 : 0));
    ew__microtask_enqueue(ctx, job_step, 3);
}

/* Reaction handler of a pending awaited promise: [value]; magic is the step flags. */
static duk_ret_t on_settled(duk_context *ctx)
{
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, K_TARGET); /* [value fn target] */
    call_step(ctx, 2, 0, duk_get_current_magic(ctx));
    return 0;
}

static void push_handler(duk_context *ctx, duk_idx_t target, int flags)
{
    target = duk_normalize_index(ctx, target);
    duk_push_c_function(ctx, on_settled, 1);
    duk_set_magic(ctx, -1, flags);
    duk_dup(ctx, target);
    duk_put_prop_literal(ctx, -2, K_TARGET);
}

static duk_ret_t promise_resolve_safe(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__promise_push_resolved(ctx);
    return 1;
}

/* PerformPromiseThen(p, handlers for target). Errors (a user-patched constructor or @@species of p) reject
 * the await instead. */
static void then_with_handlers(duk_context *ctx, duk_idx_t p, duk_idx_t target, int step)
{
    p = duk_normalize_index(ctx, p);
    target = duk_normalize_index(ctx, target);
    duk_push_heapptr(ctx, coro_state(ctx)->then);
    duk_dup(ctx, p);
    push_handler(ctx, target, step << 1);
    push_handler(ctx, target, step << 1 | 1);
    if (duk_pcall_method(ctx, 2) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        enqueue_step(ctx, target, -1, step, true);
    }
    duk_pop(ctx);
}

/* Await(value at v) for the coroutine behind target: arranges step(target, result, rejected) to run once
 * the value has settled, in the order the spec's reaction job would run. */
static void subscribe(duk_context *ctx, duk_idx_t v, duk_idx_t target, int step)
{
    v = duk_normalize_index(ctx, v);
    target = duk_normalize_index(ctx, target);
    duk_require_stack(ctx, 16);
    if (!duk_is_object(ctx, v)) {
        enqueue_step(ctx, target, v, step, false);
        return;
    }
    duk_dup(ctx, v);
    /* PromiseResolve(%Promise%, v) can only throw from a user `constructor` getter of a promise: the spec
     * throws at the await itself; we reject the await one job later. */
    if (duk_safe_call(ctx, promise_resolve_safe, NULL, 1, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        enqueue_step(ctx, target, -1, step, true);
        duk_pop(ctx);
        return;
    }
    ew__promise_state_t st = ew__promise_state(ctx, -1);
    if (st == EW__PROMISE_PENDING) {
        then_with_handlers(ctx, -1, target, step);
    } else {
        ew__promise_mark_handled(ctx, -1);
        ew__promise_push_result(ctx, -1);
        enqueue_step(ctx, target, -1, step, st == EW__PROMISE_REJECTED);
        duk_pop(ctx);
    }
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Natives for coro.js
 */

/* subscribe(v, target, step) */
static duk_ret_t native_subscribe(duk_context *ctx)
{
    subscribe(ctx, 0, 1, duk_require_int(ctx, 2));
    return 0;
}

/* startAwait(t, v): the async body on thread t awaits v for the first time: makes the promise of the call,
 * remembers it and the calling request (charge_to_caller) on the thread and subscribes. Returns the promise. */
static duk_ret_t native_start_await(duk_context *ctx)
{
    ew__promise_push_new(ctx); /* [t v P] */
    duk_dup(ctx, 2);
    duk_put_prop_literal(ctx, 0, K_PROMISE);
    duk_push_uint(ctx, ew__isolate_req_id(ctx));
    duk_put_prop_literal(ctx, 0, K_REQ);
    subscribe(ctx, 1, 0, STEP_ASYNC);
    return 1;
}

/* finish(t, v, reject): the async body on thread t has finished: settles the promise of its call. */
static duk_ret_t native_finish(duk_context *ctx)
{
    bool reject = duk_to_boolean(ctx, 2);
    duk_get_prop_literal(ctx, 0, K_PROMISE); /* [t v reject P] */
    duk_push_undefined(ctx);
    duk_put_prop_literal(ctx, 0, K_PROMISE);
    duk_dup(ctx, 1);
    ew__promise_settle(ctx, 3, reject);
    return 0;
}

/* settled(v, reject): a new promise resolved (with thenable adoption) or rejected with v. */
static duk_ret_t native_settled(duk_context *ctx)
{
    bool reject = duk_to_boolean(ctx, 1);
    ew__promise_push_new(ctx);
    duk_dup(ctx, 0);
    ew__promise_settle(ctx, -2, reject);
    return 1;
}

/* settle(p, v, reject) */
static duk_ret_t native_settle(duk_context *ctx)
{
    bool reject = duk_to_boolean(ctx, 2);
    duk_set_top(ctx, 2);
    ew__promise_settle(ctx, 0, reject);
    return 0;
}

static duk_ret_t native_new_promise(duk_context *ctx)
{
    ew__promise_push_new(ctx);
    return 1;
}

/* promiseResolve(v): PromiseResolve(%Promise%, v); may throw. */
static duk_ret_t native_promise_resolve(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    ew__promise_push_resolved(ctx);
    return 1;
}

/* bareArray(): an array without a prototype, so no setter user code puts on Array.prototype sees it. */
static duk_ret_t native_bare_array(duk_context *ctx)
{
    duk_push_bare_array(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Installation
 */

/* Pushes Duktape.Thread (from the global, or from the stash once hide_engine_globals has run). */
static void push_thread_constructor(duk_context *ctx)
{
    duk_get_global_literal(ctx, "Duktape");
    if (!duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        duk_push_global_stash(ctx);
        duk_get_prop_literal(ctx, -1, DUK_HIDDEN_SYMBOL("Duktape"));
        duk_remove(ctx, -2);
    }
    duk_get_prop_literal(ctx, -1, "Thread");
    duk_remove(ctx, -2);
}

/* Pushes the `native` argument of coro.js. */
static void push_natives(duk_context *ctx, void **then)
{
    static const ew__method_t natives[] = {
        { "subscribe", native_subscribe, 3, 3 },
        { "startAwait", native_start_await, 2, 2 },
        { "finish", native_finish, 3, 3 },
        { "settled", native_settled, 2, 2 },
        { "settle", native_settle, 3, 3 },
        { "newPromise", native_new_promise, 0, 0 },
        { "promiseResolve", native_promise_resolve, 1, 1 },
        { "bareArray", native_bare_array, 0, 0 },
        { NULL, NULL, 0, 0 },
    };
    duk_idx_t obj = duk_push_object(ctx);
    ew__def_methods(ctx, obj, natives);
    push_thread_constructor(ctx);
    duk_put_prop_literal(ctx, obj, "Thread");
    /* %Promise.prototype.then% as captured by ew__coro_init, before any user code could replace it. */
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_THEN);
    *then = duk_get_heapptr(ctx, -1);
    duk_put_prop_literal(ctx, obj, "then");
    duk_pop(ctx);
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, EW__STASH_ITERATOR_PROTOTYPE);
    duk_put_prop_literal(ctx, obj, "IteratorPrototype");
    duk_pop(ctx);
    duk_push_object(ctx);
    duk_push_literal(ctx, DUK_HIDDEN_SYMBOL("coG"));
    duk_put_prop_literal(ctx, -2, "gen");
    duk_push_literal(ctx, DUK_HIDDEN_SYMBOL("coA"));
    duk_put_prop_literal(ctx, -2, "agen");
    duk_push_literal(ctx, DUK_HIDDEN_SYMBOL("coF"));
    duk_put_prop_literal(ctx, -2, "afs");
    duk_put_prop_literal(ctx, obj, "keys");
}

/* The names lib/js/coro.js returns in `helpers`; test core_coro checks the two lists agree. */
static const char *const helper_names[] = {
    "async", "asyncNoAwait", "await", "generator", "yield", "yieldStar", "asyncGenerator", "asyncYield",
    "asyncYieldStar", "asyncIterator", "asyncNext", "asyncClose", "asyncCloseThrow", "markAsync",
    "markGenerator", "markAsyncGenerator", "RET",
};
#define N_HELPERS (sizeof(helper_names) / sizeof(helper_names[0]))

void ew__coro_init(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    coro_state_t *S = duk_push_fixed_buffer(ctx, sizeof(coro_state_t));
    memset(S, 0, sizeof(*S));
    duk_put_prop_literal(ctx, -2, K_STATE);
    duk_get_global_literal(ctx, "Promise");
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_get_prop_literal(ctx, -1, "then");
    duk_put_prop_literal(ctx, -4, K_THEN);
    duk_pop_3(ctx);
}

/* Loads lib/js/coro.js (about 80 KB of functions per heap, so only in heaps whose code uses async functions
 * or generators: ew__coro_push_helpers installs getters that call this on first use). */
static void load_coro(duk_context *ctx)
{
    coro_state_t *S = coro_state(ctx);
    if (S->helpers != NULL)
        return;
    duk_push_heap_stash(ctx);
    duk_idx_t stash = duk_get_top_index(ctx);
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) ew__js_coro, ew__js_coro_len);
    duk_load_function(ctx);
    push_natives(ctx, &S->then);
    duk_push_global_object(ctx);
    duk_call(ctx, 2); /* [stash {helpers, steps}] */

    duk_get_prop_literal(ctx, -1, "steps");
    for (int i = 0; i < N_STEPS; i++) {
        duk_get_prop_index(ctx, -1, (duk_uarridx_t) i);
        S->steps[i] = duk_require_heapptr(ctx, -1);
        duk_pop(ctx);
    }
    duk_pop(ctx);
    duk_get_prop_literal(ctx, -1, "helpers");
    S->helpers = duk_require_heapptr(ctx, -1);
    duk_pop(ctx);
    duk_push_heapptr(ctx, S->then);
    duk_put_prop_literal(ctx, -2, "then"); /* the result object keeps everything S points to */
    duk_put_prop_literal(ctx, stash, K_KEEP);
    duk_pop(ctx);
}

/* Copies the loaded helpers onto the object at target as plain data properties (replacing the getters). */
static void copy_helpers(duk_context *ctx, duk_idx_t target)
{
    target = duk_require_normalize_index(ctx, target);
    duk_push_heapptr(ctx, coro_state(ctx)->helpers);
    for (size_t i = 0; i < N_HELPERS; i++) {
        duk_push_string(ctx, helper_names[i]);
        duk_get_prop_string(ctx, -2, helper_names[i]);
        duk_def_prop(ctx, target, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
                                      DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
    }
    duk_pop(ctx);
}

/* Getter standing in for a coroutine helper until the first use: loads coro.js, replaces all the getters of
 * `this` (the helper object) with the real functions, and returns the one asked for (magic = index). */
static duk_ret_t lazy_helper(duk_context *ctx)
{
    load_coro(ctx);
    duk_push_this(ctx);
    copy_helpers(ctx, -1);
    duk_get_prop_string(ctx, -1, helper_names[duk_get_current_magic(ctx)]);
    return 1;
}

/* $ew.asyncReturn(v) / $ew.asyncThrow(e): the promise an async function without await returns (lower_async.c
 * leaves such a body in place: no coroutine, no closure). Resolution adopts thenables, as the async function's
 * own return does. Plain C helpers, so that such functions never load coro.js. */
static duk_ret_t native_async_return(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    ew__promise_push_resolution(ctx);
    return 1;
}

static duk_ret_t native_async_throw(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    ew__promise_push_new(ctx);
    duk_dup(ctx, 0);
    ew__promise_settle(ctx, -2, true);
    return 1;
}

void ew__coro_push_settlers(duk_context *ctx)
{
    static const ew__method_t settlers[] = {
        {"asyncReturn", native_async_return, 1, 1},
        {"asyncThrow", native_async_throw, 1, 1},
        {NULL, NULL, 0, 0},
    };
    ew__def_methods(ctx, -1, settlers);
}

void ew__coro_push_helpers(duk_context *ctx)
{
    duk_idx_t target = duk_get_top_index(ctx);
    if (coro_state(ctx)->helpers != NULL) {
        copy_helpers(ctx, target);
        return;
    }
    for (size_t i = 0; i < N_HELPERS; i++) {
        duk_push_string(ctx, helper_names[i]);
        duk_push_c_function(ctx, lazy_helper, 0);
        duk_set_magic(ctx, -1, (duk_int_t) i);
        duk_def_prop(ctx, target, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_SET_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    }
}

/* Test hook: the helper names coro.js returns match helper_names (order aside). */
bool ew__coro_helper_names_match(duk_context *ctx)
{
    load_coro(ctx);
    duk_push_heapptr(ctx, coro_state(ctx)->helpers);
    size_t n = 0;
    duk_enum(ctx, -1, DUK_ENUM_OWN_PROPERTIES_ONLY);
    bool ok = true;
    while (duk_next(ctx, -1, 0)) {
        const char *k = duk_get_string(ctx, -1);
        bool found = false;
        for (size_t i = 0; i < N_HELPERS && !found; i++)
            found = strcmp(k, helper_names[i]) == 0;
        ok = ok && found;
        n++;
        duk_pop(ctx);
    }
    duk_pop_2(ctx);
    return ok && n == N_HELPERS;
}
