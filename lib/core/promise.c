/*
 * promise.c — the ECMAScript Promise (ECMA-262 §27.2 "Promise Objects") in C: the global Promise with its
 * statics (resolve, reject, all, allSettled, race, any, withResolvers, try, get @@species), the prototype's
 * then/catch/finally, AggregateError when the engine has none, and the ew__promise_* API of internal.h.
 * ew__promise_init() installs it on a fresh heap after ew__microtask_init(); the isolate, timers, the Web
 * types and the compiler's async lowering all build on it.
 *
 * A promise carries two hidden properties: TAG, a pointer to the object itself with the state in its low
 * bits (so IsPromise is an identity check that neither a prototype nor a Proxy can fake), and VAL, the
 * reactions while pending and the result once settled. Reaction and thenable jobs run as microtasks in
 * the spec's order, so a chain of any length never recurses in C. When the derived promise of a reaction
 * is our own %Promise%, no JS resolving functions are made: the job settles it directly. Rejections that
 * have no handler wait in a stash list until the end of the drain (ew__promise_report_unhandled()).
 * Every call of user code is protected and honours invariant 2 of internal.h (rethrow while aborting).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "isolate.h"

/* Hidden keys (invariant 4), short: they are compared on every access. */
#define K_TAG DUK_HIDDEN_SYMBOL("pT")       /* promise: self pointer | state | FL_HANDLED */
#define K_VAL DUK_HIDDEN_SYMBOL("pV")       /* promise: reactions while pending, result when settled */
#define K_REC DUK_HIDDEN_SYMBOL("pR")       /* resolving and element functions: record shared by a pair */
#define K_ON_F DUK_HIDDEN_SYMBOL("pF")      /* derived promise: its onFulfilled until the reaction ran */
#define K_ON_R DUK_HIDDEN_SYMBOL("pJ")      /* derived promise: its onRejected until the reaction ran */
#define K_ARG1 DUK_HIDDEN_SYMBOL("p1")      /* executor/finally/thunk functions: captured values */
#define K_ARG2 DUK_HIDDEN_SYMBOL("p2")
#define K_INTRINSICS DUK_HIDDEN_SYMBOL("pI") /* heap stash: fixed buffer holding an intrinsics_t */
#define K_KEEP DUK_HIDDEN_SYMBOL("pK")      /* heap stash: array keeping the intrinsics reachable */
#define K_UNHANDLED DUK_HIDDEN_SYMBOL("pU") /* heap stash: rejected promises that had no handler */
#define K_REPORTED DUK_HIDDEN_SYMBOL("pN")  /* heap stash: number of rejections reported so far */

/* The state in the low bits of TAG. LOCKED is "pending, but already resolved to a thenable": only the
 * job adopting that thenable may settle it. Heap objects are at least 8-byte aligned. */
#define ST_PENDING 0u
#define ST_FULFILLED 1u
#define ST_REJECTED 2u
#define ST_LOCKED 3u
#define ST_MASK 3u
#define FL_HANDLED 4u   /* [[PromiseIsHandled]] */
#define TAG_BITS 7u

/* A reaction is, in the common case, the derived promise itself: a %Promise% made by then() that keeps its
 * callable handlers in K_ON_F/K_ON_R until its job runs, and is settled from C (no capability functions
 * exist, and no record is allocated). Otherwise it is a record array [target, onFulfilled, onRejected,
 * resolve, reject] for a capability of another constructor, or a forward record [P] (no handlers: pass
 * the outcome on to P) made when P adopts one of our promises. A pending promise's VAL holds one reaction,
 * or a list [true, reaction, reaction, ...] once it has two. One link of a chain is then one reference
 * deep, which matters to Duktape's mark-and-sweep (its recursion limit makes long chains slow to mark). */
enum { R_TARGET, R_ON_FULFILLED, R_ON_REJECTED, R_RESOLVE, R_REJECT };

/* Heap pointers of the intrinsics, found through the heap stash (so coroutines with their own global
 * environment see the same ones) and kept reachable by K_KEEP. */
typedef struct intrinsics {
    void *promise;    /* %Promise% */
    void *proto;      /* %Promise.prototype% */
    void *then;       /* %Promise.prototype.then% */
    void *species;    /* @@species */
    void *iterator;   /* @@iterator */
    void *agg_proto;  /* %AggregateError.prototype% */
    void *fn_proto;   /* %Function.prototype% */
} intrinsics_t;

static const intrinsics_t *intrinsics(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx); /* the isolate keeps the address after the first lookup */
    if (iso != NULL && iso->promise_intrinsics != NULL)
        return iso->promise_intrinsics;
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_INTRINSICS);
    const intrinsics_t *I = duk_get_buffer_data(ctx, -1, NULL); /* a fixed buffer: its address is stable */
    duk_pop_2(ctx);
    assert(I != NULL && "ew__promise_init() not called");
    if (iso != NULL)
        iso->promise_intrinsics = I;
    return I;
}

#define REJECT_NEW(ctx)                                                                                     \
    do {                                                                                                    \
        if (duk_is_constructor_call(ctx))                                                                   \
            return duk_type_error((ctx), "not a constructor");                                              \
    } while (0)

/* ---------------------------------------------------------------------------------------------------------
 * Small helpers: protected calls (invariant 2), tags, built-in functions, data properties
 */

/* duk_safe_call that rethrows while a limit is unwinding. On failure leaves only the error on top (Duktape
 * puts it in the first of the nrets slots, so at least one is asked for). */
static bool protect(duk_context *ctx, duk_safe_call_function fn, void *udata, duk_idx_t nargs, duk_idx_t nrets)
{
    if (duk_safe_call(ctx, fn, udata, nargs, nrets > 0 ? nrets : 1) == DUK_EXEC_SUCCESS) {
        if (nrets == 0)
            duk_pop(ctx);
        return true;
    }
    if (nrets > 1)
        duk_pop_n(ctx, nrets - 1);
    if (ew__isolate_aborting(ctx))
        (void) duk_throw(ctx);
    return false;
}

/* Jobs and the C API run in their caller's activation (a safe call does not reserve value stack): make
 * room for the deepest path through this file before pushing. */
#define STACK_NEEDED 48

/* Calls user code ([fn args...] or [fn this args...]); false with the error on top if it threw. */
static bool call_user(duk_context *ctx, duk_idx_t nargs, bool method)
{
    duk_int_t rc = method ? duk_pcall_method(ctx, nargs) : duk_pcall(ctx, nargs);
    if (rc != DUK_EXEC_SUCCESS && ew__isolate_aborting(ctx))
        (void) duk_throw(ctx);
    return rc == DUK_EXEC_SUCCESS;
}

/* Writes the value on top (popped) to the hidden property `key` (a literal) of the object at obj, even if
 * the object is frozen or not extensible: these are internal slots in the spec, which Object.freeze does
 * not touch, so a frozen promise still settles. */
#define put_slot(ctx, obj, key) put_slot_raw((ctx), (obj), (key), sizeof(key) - 1)
static void put_slot_raw(duk_context *ctx, duk_idx_t obj, const char *key, size_t len)
{
    if (ew__duk_def_value_literal(ctx, obj, key, len))
        return; /* the same define without the generic descriptor checks */
    obj = duk_normalize_index(ctx, obj);
    duk_push_literal_raw(ctx, key, len);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_FORCE);
}

/* Tag bits of the promise at idx, or -1 if it is not a promise made here (IsPromise). */
static int promise_tag(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx))
        return -1;
    duk_get_prop_literal(ctx, idx, K_TAG);
    uintptr_t t = (uintptr_t) duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (t == 0 || (void *) (t & ~(uintptr_t) TAG_BITS) != duk_get_heapptr(ctx, idx))
        return -1;
    return (int) (t & TAG_BITS);
}

static void set_tag(duk_context *ctx, duk_idx_t idx, unsigned tag)
{
    idx = duk_normalize_index(ctx, idx);
    uintptr_t self = (uintptr_t) duk_get_heapptr(ctx, idx);
    assert(self != 0 && (self & TAG_BITS) == 0);
    duk_push_pointer(ctx, (void *) (self | tag));
    put_slot(ctx, idx, K_TAG);
}

/* Pushes a new pending %Promise%. */
static duk_idx_t push_promise(duk_context *ctx, const intrinsics_t *I)
{
    duk_idx_t idx = duk_push_bare_object(ctx);
    duk_push_heapptr(ctx, I->proto);
    duk_set_prototype(ctx, idx);
    set_tag(ctx, idx, ST_PENDING);
    return idx;
}

/* Duktape gives C functions %NativeFunctionPrototype% (getters for length and name) as prototype; ours
 * have their own length and name and, as the spec wants, %Function.prototype%. */
static void set_function_proto(duk_context *ctx, const intrinsics_t *I, duk_idx_t fn)
{
    fn = duk_normalize_index(ctx, fn);
    duk_push_heapptr(ctx, I->fn_proto);
    duk_set_prototype(ctx, fn);
}

/* Pushes an anonymous built-in function as CreateBuiltinFunction makes it: own `length`, then `name` "",
 * both read-only and configurable; `magic` selects the variant. */
static void push_builtin(duk_context *ctx, const intrinsics_t *I, duk_c_function fn, duk_idx_t nargs, int length,
                         int magic)
{
    duk_push_c_function(ctx, fn, nargs);
    set_function_proto(ctx, I, -1);
    duk_set_magic(ctx, -1, magic);
    duk_push_literal(ctx, "length");
    duk_push_int(ctx, length);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "name");
    duk_push_literal(ctx, "");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
}

#define DATA_PROP (DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE | \
                   DUK_DEFPROP_SET_CONFIGURABLE)
#define HIDDEN_PROP (DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE | \
                     DUK_DEFPROP_SET_CONFIGURABLE)

/* CreateDataProperty(obj, index, value on top): no setter on a prototype is ever called. Pops. */
static void def_index(duk_context *ctx, duk_idx_t obj, duk_uarridx_t index)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_uint(ctx, index);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DATA_PROP);
}

/* Replaces the top n values with a bare array of them (records and lists never meet user code). */
static void pack(duk_context *ctx, duk_idx_t n)
{
    duk_idx_t base = duk_get_top(ctx) - n;
    duk_push_bare_array(ctx);
    for (duk_idx_t i = 0; i < n; i++) {
        duk_dup(ctx, base + i);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) i);
    }
    duk_replace(ctx, base);
    duk_set_top(ctx, base + 1);
}

/* Defines obj[key] = value on top with `flags`. Pops. */
static void def_key(duk_context *ctx, duk_idx_t obj, const char *key, duk_uint_t flags)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_string(ctx, key);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, flags);
}

/* ---------------------------------------------------------------------------------------------------------
 * Settling: FulfillPromise, RejectPromise, TriggerPromiseReactions, the resolve function's steps
 */

static void job_reaction(duk_context *ctx, duk_idx_t nargs);
static void job_thenable(duk_context *ctx, duk_idx_t nargs);

/* Queues NewPromiseReactionJob(reaction at rec, value at val) for outcome `state`. */
static void enqueue_reaction(duk_context *ctx, duk_idx_t rec, duk_idx_t val, unsigned state)
{
    rec = duk_normalize_index(ctx, rec);
    val = duk_normalize_index(ctx, val);
    duk_dup(ctx, rec);
    duk_dup(ctx, val);
    duk_push_uint(ctx, state);
    ew__microtask_enqueue(ctx, job_reaction, 3);
}

/* True if the reactions at idx (not undefined) are a list rather than a single reaction. */
static bool is_reaction_list(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_array(ctx, idx))
        return false;
    duk_get_prop_index(ctx, idx, 0);
    bool list = duk_is_boolean(ctx, -1);
    duk_pop(ctx);
    return list;
}

/* Queues a job per reaction (undefined, one reaction, or a list) in the order they were added. */
static void trigger_reactions(duk_context *ctx, duk_idx_t reactions, duk_idx_t val, unsigned state)
{
    reactions = duk_normalize_index(ctx, reactions);
    if (duk_is_undefined(ctx, reactions))
        return;
    if (!is_reaction_list(ctx, reactions)) {
        enqueue_reaction(ctx, reactions, val, state);
        return;
    }
    duk_size_t n = duk_get_length(ctx, reactions);
    for (duk_uarridx_t i = 1; i < n; i++) {
        duk_get_prop_index(ctx, reactions, i);
        enqueue_reaction(ctx, -1, val, state);
        duk_pop(ctx);
    }
}

/* Records the rejection of a promise nobody handles yet (HostPromiseRejectionTracker "reject"). */
static void track_rejection(duk_context *ctx, duk_idx_t p)
{
    p = duk_normalize_index(ctx, p);
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_UNHANDLED);
    duk_dup(ctx, p);
    duk_put_prop_index(ctx, -2, (duk_uarridx_t) duk_get_length(ctx, -2));
    duk_pop_2(ctx);
}

/* FulfillPromise / RejectPromise (`state`) of the promise at p with the value on top, which is popped.
 * Ignored if p is already settled (only possible when C code and JS both resolve the same promise). */
static void settle(duk_context *ctx, duk_idx_t p, unsigned state)
{
    p = duk_normalize_index(ctx, p);
    int tag = promise_tag(ctx, p);
    unsigned st = tag < 0 ? ST_FULFILLED : (unsigned) tag & ST_MASK;
    if (st != ST_PENDING && st != ST_LOCKED) {
        duk_pop(ctx);
        return;
    }
    duk_idx_t val = duk_get_top_index(ctx);
    duk_get_prop_literal(ctx, p, K_VAL); /* [val reactions] */
    duk_dup(ctx, val);
    put_slot(ctx, p, K_VAL);
    set_tag(ctx, p, state | ((unsigned) tag & FL_HANDLED));
    if (state == ST_REJECTED && !((unsigned) tag & FL_HANDLED))
        track_rejection(ctx, p);
    trigger_reactions(ctx, -1, val, state);
    duk_pop_2(ctx);
}

static duk_ret_t get_then(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_get_prop_literal(ctx, -1, "then");
    return 1;
}

/* Replaces the object on top with its `then`; false with the error there instead if a `then` getter threw.
 * A data property (or none: the common case of a resolution that is no thenable) is read without the
 * protected call (~500 instructions). */
static bool take_then(duk_context *ctx)
{
    if (ew__duk_get_data_literal(ctx, -1, "then", 4) >= 0) {
        duk_remove(ctx, -2);
        return true;
    }
    return protect(ctx, get_then, NULL, 1, 1);
}

/* The steps of a promise resolve function after its already-resolved check (§27.2.1.3.2 steps 7–16):
 * pops the resolution and fulfils, rejects, or locks in the promise at p and queues the adoption of a
 * thenable. The `then` getter runs protected; its error rejects p. */
static void resolve_promise(duk_context *ctx, duk_idx_t p)
{
    p = duk_normalize_index(ctx, p);
    duk_idx_t r = duk_get_top_index(ctx);
    if (!duk_is_object(ctx, r)) {
        settle(ctx, p, ST_FULFILLED);
        return;
    }
    if (duk_get_heapptr(ctx, r) == duk_get_heapptr(ctx, p)) {
        duk_pop(ctx);
        (void) duk_push_error_object(ctx, DUK_ERR_TYPE_ERROR, "Chaining cycle detected for promise");
        settle(ctx, p, ST_REJECTED);
        return;
    }
    duk_dup(ctx, r);
    if (!take_then(ctx)) { /* [r err] */
        duk_remove(ctx, r);
        settle(ctx, p, ST_REJECTED);
        return;
    }
    if (!duk_is_callable(ctx, -1)) {
        duk_pop(ctx);
        settle(ctx, p, ST_FULFILLED);
        return;
    }
    int tag = promise_tag(ctx, p);
    if (tag >= 0 && ((unsigned) tag & ST_MASK) == ST_PENDING)
        set_tag(ctx, p, ST_LOCKED | ((unsigned) tag & FL_HANDLED));
    duk_dup(ctx, p);
    duk_insert(ctx, r); /* [p r then] */
    ew__microtask_enqueue(ctx, job_thenable, 3);
}

/* ---------------------------------------------------------------------------------------------------------
 * Resolving functions (CreateResolvingFunctions) and PerformPromiseThen
 */

/* Promise resolve (magic 0) and reject (magic 1) functions. K_REC is the record [promise] the pair shares;
 * its slot is cleared by the first call, which is [[AlreadyResolved]] (and lets the promise go). */
static duk_ret_t resolving_fn(duk_context *ctx)
{
    REJECT_NEW(ctx);
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, K_REC); /* [value fn rec] */
    duk_get_prop_index(ctx, -1, 0);
    if (duk_is_undefined(ctx, -1))
        return 0;
    duk_push_undefined(ctx);
    duk_put_prop_index(ctx, -3, 0);
    duk_dup(ctx, 0); /* [value fn rec promise value] */
    if (duk_get_current_magic(ctx) == 1)
        settle(ctx, -2, ST_REJECTED);
    else
        resolve_promise(ctx, -2);
    return 0;
}

/* Pushes a fresh resolve and reject function pair for the promise at p. */
static void push_resolving_functions(duk_context *ctx, const intrinsics_t *I, duk_idx_t p)
{
    p = duk_normalize_index(ctx, p);
    duk_push_bare_array(ctx);
    duk_dup(ctx, p);
    duk_put_prop_index(ctx, -2, 0);
    for (int magic = 0; magic < 2; magic++) {
        push_builtin(ctx, I, resolving_fn, 1, 1, magic);
        duk_dup(ctx, -2 - magic);
        duk_put_prop_literal(ctx, -2, K_REC);
    }
    duk_remove(ctx, -3);
}

/* Appends the reaction on top (popped) to the reactions of the pending promise at p. */
static void add_reaction(duk_context *ctx, duk_idx_t p)
{
    duk_get_prop_literal(ctx, p, K_VAL); /* [rec old] */
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        put_slot(ctx, p, K_VAL);
        return;
    }
    if (is_reaction_list(ctx, -1)) {
        duk_swap_top(ctx, -2); /* [list rec] */
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) duk_get_length(ctx, -2));
        duk_pop(ctx);
        return;
    }
    duk_push_true(ctx);
    duk_insert(ctx, -3); /* [true rec old] */
    duk_swap_top(ctx, -2);
    pack(ctx, 3);
    put_slot(ctx, p, K_VAL);
}

/* PerformPromiseThen for the promise at p with the reaction on top (popped). */
static void perform_then(duk_context *ctx, duk_idx_t p)
{
    p = duk_normalize_index(ctx, p);
    int tag = promise_tag(ctx, p);
    assert(tag >= 0);
    unsigned st = (unsigned) tag & ST_MASK;
    if (st == ST_PENDING || st == ST_LOCKED) {
        add_reaction(ctx, p);
    } else {
        duk_get_prop_literal(ctx, p, K_VAL);
        enqueue_reaction(ctx, -2, -1, st);
        duk_pop_2(ctx);
    }
    if (!((unsigned) tag & FL_HANDLED))
        set_tag(ctx, p, st | FL_HANDLED);
}

/* ---------------------------------------------------------------------------------------------------------
 * Capabilities, SpeciesConstructor, PromiseResolve
 */

/* GetCapabilitiesExecutor: stores resolve/reject on itself (K_ARG1/K_ARG2), once. */
static duk_ret_t capability_executor(duk_context *ctx)
{
    REJECT_NEW(ctx);
    duk_push_current_function(ctx); /* [resolve reject fn] */
    duk_get_prop_literal(ctx, 2, K_ARG1);
    duk_get_prop_literal(ctx, 2, K_ARG2);
    if (!duk_is_undefined(ctx, -2) || !duk_is_undefined(ctx, -1))
        return duk_type_error(ctx, "Promise executor has already been invoked");
    duk_pop_2(ctx);
    duk_dup(ctx, 0);
    put_slot(ctx, 2, K_ARG1);
    duk_dup(ctx, 1);
    put_slot(ctx, 2, K_ARG2);
    return 0;
}

/* NewPromiseCapability(C at c): pushes [promise resolve reject]. For %Promise% itself no executor runs, and
 * with fns false the functions stay undefined (see cap_call): nobody will ever see them. May throw. */
static duk_idx_t push_capability(duk_context *ctx, const intrinsics_t *I, duk_idx_t c, bool fns)
{
    c = duk_normalize_index(ctx, c);
    duk_idx_t base = duk_get_top(ctx);
    if (duk_get_heapptr(ctx, c) == I->promise) {
        push_promise(ctx, I);
        if (fns) {
            push_resolving_functions(ctx, I, base);
        } else {
            duk_push_undefined(ctx);
            duk_push_undefined(ctx);
        }
        return base;
    }
    if (!duk_is_constructable(ctx, c))
        (void) duk_type_error(ctx, "Promise capability: not a constructor");
    push_builtin(ctx, I, capability_executor, 2, 2, 0);
    duk_dup(ctx, c);
    duk_dup(ctx, base);
    duk_new(ctx, 1); /* [executor promise] */
    duk_get_prop_literal(ctx, base, K_ARG1);
    duk_get_prop_literal(ctx, base, K_ARG2);
    if (!duk_is_callable(ctx, -2))
        (void) duk_type_error(ctx, "Promise capability: resolve is not a function");
    if (!duk_is_callable(ctx, -1))
        (void) duk_type_error(ctx, "Promise capability: reject is not a function");
    duk_remove(ctx, base);
    return base;
}

/* Calls the capability's resolve or reject (cap: [promise resolve reject]) with the value on top (popped).
 * Errors of a user-supplied function propagate. */
static void cap_call(duk_context *ctx, duk_idx_t cap, bool reject)
{
    cap = duk_normalize_index(ctx, cap);
    duk_dup(ctx, cap + (reject ? 2 : 1));
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        if (reject)
            settle(ctx, cap, ST_REJECTED);
        else
            resolve_promise(ctx, cap);
        return;
    }
    duk_swap_top(ctx, -2);
    duk_call(ctx, 1);
    duk_pop(ctx);
}

/* SpeciesConstructor(O, %Promise%): replaces the object on top with the constructor to use. May throw. */
static void species_constructor(duk_context *ctx, const intrinsics_t *I)
{
    duk_get_prop_literal(ctx, -1, "constructor");
    if (duk_is_undefined(ctx, -1))
        goto use_default;
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "promise.constructor is not an object");
    duk_push_heapptr(ctx, I->species);
    duk_get_prop(ctx, -2); /* [O C S] */
    if (duk_is_null_or_undefined(ctx, -1)) {
        duk_pop(ctx);
        goto use_default;
    }
    if (!duk_is_constructable(ctx, -1))
        (void) duk_type_error(ctx, "promise.constructor[Symbol.species] is not a constructor");
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
    return;
use_default:
    duk_pop_2(ctx);
    duk_push_heapptr(ctx, I->promise);
}

static duk_ret_t species_constructor_safe(duk_context *ctx, void *udata)
{
    species_constructor(ctx, udata);
    return 1;
}

/* PromiseResolve(C at c, x at x): pushes x itself if it is a promise whose constructor is C, else a new
 * promise of C resolved with x. May throw. */
static void push_promise_resolve(duk_context *ctx, const intrinsics_t *I, duk_idx_t c, duk_idx_t x)
{
    c = duk_normalize_index(ctx, c);
    x = duk_normalize_index(ctx, x);
    if (promise_tag(ctx, x) >= 0) {
        duk_get_prop_literal(ctx, x, "constructor");
        bool same = duk_samevalue(ctx, -1, c);
        duk_pop(ctx);
        if (same) {
            duk_dup(ctx, x);
            return;
        }
    }
    duk_idx_t cap = push_capability(ctx, I, c, false);
    duk_dup(ctx, x);
    cap_call(ctx, cap, false);
    duk_pop_2(ctx);
}

/* Pushes the derived promise of then() for handlers at on_f/on_r (non-callables dropped) and C at c, then
 * its reaction: the derived promise again, or a record with the capability functions of C. */
static void push_then_reaction(duk_context *ctx, const intrinsics_t *I, duk_idx_t on_f, duk_idx_t on_r,
                               duk_idx_t c)
{
    on_f = duk_normalize_index(ctx, on_f);
    on_r = duk_normalize_index(ctx, on_r);
    if (duk_get_heapptr(ctx, c) == I->promise) {
        duk_idx_t d = push_promise(ctx, I);
        if (duk_is_callable(ctx, on_f)) {
            duk_dup(ctx, on_f);
            duk_put_prop_literal(ctx, d, K_ON_F);
        }
        if (duk_is_callable(ctx, on_r)) {
            duk_dup(ctx, on_r);
            duk_put_prop_literal(ctx, d, K_ON_R);
        }
        duk_dup(ctx, d);
        return;
    }
    duk_idx_t cap = push_capability(ctx, I, c, false); /* [promise resolve reject] */
    duk_dup(ctx, cap);
    if (duk_is_callable(ctx, on_f))
        duk_dup(ctx, on_f);
    else
        duk_push_undefined(ctx);
    if (duk_is_callable(ctx, on_r))
        duk_dup(ctx, on_r);
    else
        duk_push_undefined(ctx);
    duk_dup(ctx, cap + 1);
    duk_dup(ctx, cap + 2);
    pack(ctx, 5);
    duk_remove(ctx, cap + 1);
    duk_remove(ctx, cap + 1); /* [promise record] */
}

/* The body of Promise.prototype.then once C is known: [p onF onR C] -> pushes the derived promise. */
static void then_with_constructor(duk_context *ctx, const intrinsics_t *I, duk_idx_t p)
{
    p = duk_normalize_index(ctx, p);
    push_then_reaction(ctx, I, p + 1, p + 2, p + 3);
    perform_then(ctx, p);
}

static duk_ret_t then_with_constructor_safe(duk_context *ctx, void *udata)
{
    then_with_constructor(ctx, udata, duk_get_top(ctx) - 4);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Jobs
 */

/* Pushes the handler of the derived promise at d for the outcome and forgets both (the job runs once; this
 * also lets the closures go while the promise lives on). */
static void take_handler(duk_context *ctx, duk_idx_t d, bool rejected)
{
    duk_get_prop_literal(ctx, d, K_ON_F);
    duk_get_prop_literal(ctx, d, K_ON_R);
    for (int i = 0; i < 2; i++) {
        if (!duk_is_undefined(ctx, -2 + i)) {
            duk_push_undefined(ctx);
            if (i == 0)
                put_slot(ctx, d, K_ON_F);
            else
                put_slot(ctx, d, K_ON_R);
        }
    }
    if (rejected)
        duk_swap_top(ctx, -2); /* [onF onR] -> [onR onF] */
    duk_pop(ctx);
}

/* NewPromiseReactionJob: [reaction, argument, state]. Runs the handler (this undefined) and settles the
 * derived promise from C, or calls the capability's functions (whose errors reach the drain's log). */
static void job_reaction(duk_context *ctx, duk_idx_t nargs)
{
    duk_require_stack(ctx, STACK_NEEDED);
    duk_idx_t b = duk_get_top(ctx) - nargs;
    bool rejected = duk_get_uint(ctx, b + 2) == ST_REJECTED;
    bool derived = !duk_is_array(ctx, b);
    if (derived)
        take_handler(ctx, b, rejected);
    else
        duk_get_prop_index(ctx, b, rejected ? R_ON_REJECTED : R_ON_FULFILLED);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        duk_dup(ctx, b + 1);
    } else {
        duk_dup(ctx, b + 1);
        rejected = !call_user(ctx, 1, false);
    }
    if (derived)
        duk_push_undefined(ctx);
    else
        duk_get_prop_index(ctx, b, rejected ? R_REJECT : R_RESOLVE); /* [.. result fn] */
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        if (derived)
            duk_dup(ctx, b);
        else
            duk_get_prop_index(ctx, b, R_TARGET);
        duk_swap_top(ctx, -2);
        if (rejected)
            settle(ctx, -2, ST_REJECTED);
        else
            resolve_promise(ctx, -2);
        return;
    }
    duk_swap_top(ctx, -2);
    duk_call(ctx, 1);
}

/* NewPromiseResolveThenableJob: [promise, thenable, then]. When `then` is the intrinsic one on our own
 * promise and the species is %Promise%, nothing user-visible would see the resolving functions or the
 * derived promise: a forward record [promise] on the thenable does the same work in C. */
static void job_thenable(duk_context *ctx, duk_idx_t nargs)
{
    duk_require_stack(ctx, STACK_NEEDED);
    duk_idx_t b = duk_get_top(ctx) - nargs;
    const intrinsics_t *I = intrinsics(ctx);
    bool intrinsic = duk_get_heapptr(ctx, b + 2) == I->then && promise_tag(ctx, b + 1) >= 0;
    if (intrinsic) {
        duk_dup(ctx, b + 1);
        if (!protect(ctx, species_constructor_safe, (void *) I, 1, 1)) {
            settle(ctx, b, ST_REJECTED);
            return;
        }
        if (duk_get_heapptr(ctx, -1) == I->promise) {
            duk_pop(ctx);
            duk_dup(ctx, b);
            pack(ctx, 1);
            perform_then(ctx, b + 1);
            return;
        }
    }
    /* [p thenable then C?] -> [p thenable then C? resolve reject] */
    push_resolving_functions(ctx, I, b);
    duk_idx_t fns = duk_get_top(ctx) - 2;
    bool ok;
    if (intrinsic) {
        duk_dup(ctx, b + 1);
        duk_dup(ctx, fns);
        duk_dup(ctx, fns + 1);
        duk_dup(ctx, fns - 1);
        ok = protect(ctx, then_with_constructor_safe, (void *) I, 4, 1);
    } else {
        duk_dup(ctx, b + 2);
        duk_dup(ctx, b + 1);
        duk_dup(ctx, fns);
        duk_dup(ctx, fns + 1);
        ok = call_user(ctx, 2, true);
    }
    if (!ok) {
        duk_dup(ctx, fns + 1);
        duk_swap_top(ctx, -2);
        duk_call(ctx, 1);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Promise constructor and prototype methods
 */

static duk_ret_t promise_ctor(duk_context *ctx)
{
    if (!duk_is_constructor_call(ctx))
        return duk_type_error(ctx, "Promise constructor cannot be invoked without 'new'");
    if (!duk_is_callable(ctx, 0))
        return duk_type_error(ctx, "Promise resolver is not a function");
    duk_push_this(ctx); /* [executor promise] */
    set_tag(ctx, 1, ST_PENDING);
    push_resolving_functions(ctx, intrinsics(ctx), 1);
    duk_dup(ctx, 0);
    duk_dup(ctx, 2);
    duk_dup(ctx, 3);
    if (!call_user(ctx, 2, false)) {
        duk_dup(ctx, 3);
        duk_swap_top(ctx, -2);
        duk_call(ctx, 1);
    }
    duk_dup(ctx, 1);
    return 1;
}

static duk_ret_t promise_then(duk_context *ctx)
{
    REJECT_NEW(ctx);
    const intrinsics_t *I = intrinsics(ctx);
    duk_push_this(ctx); /* [onF onR promise] */
    if (promise_tag(ctx, 2) < 0)
        return duk_type_error(ctx, "Promise.prototype.then called on an object that is not a promise");
    duk_insert(ctx, 0);
    duk_dup(ctx, 0);
    species_constructor(ctx, I); /* [promise onF onR C] */
    then_with_constructor(ctx, I, 0);
    return 1;
}

static duk_ret_t promise_catch(duk_context *ctx)
{
    REJECT_NEW(ctx);
    duk_push_this(ctx); /* [onR promise] */
    duk_get_prop_literal(ctx, 1, "then");
    duk_dup(ctx, 1);
    duk_push_undefined(ctx);
    duk_dup(ctx, 0);
    duk_call_method(ctx, 2);
    return 1;
}

enum { FIN_THEN, FIN_CATCH, THUNK_VALUE, THUNK_THROW };

/* valueThunk / thrower of Promise.prototype.finally: returns or throws K_ARG1. */
static duk_ret_t finally_thunk(duk_context *ctx)
{
    REJECT_NEW(ctx);
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, K_ARG1);
    if (duk_get_current_magic(ctx) == THUNK_THROW)
        return duk_throw(ctx);
    return 1;
}

/* thenFinally / catchFinally: calls onFinally (K_ARG1), waits for PromiseResolve(C (K_ARG2), its result),
 * then passes the original value or reason on. */
static duk_ret_t finally_fn(duk_context *ctx)
{
    REJECT_NEW(ctx);
    const intrinsics_t *I = intrinsics(ctx);
    int magic = duk_get_current_magic(ctx);
    duk_push_current_function(ctx); /* [value fn] */
    duk_get_prop_literal(ctx, 1, K_ARG1);
    duk_call(ctx, 0); /* [value fn result] */
    duk_get_prop_literal(ctx, 1, K_ARG2);
    push_promise_resolve(ctx, I, 3, 2); /* [value fn result C p] */
    duk_get_prop_literal(ctx, 4, "then");
    duk_dup(ctx, 4);
    push_builtin(ctx, I, finally_thunk, 0, 0, magic == FIN_THEN ? THUNK_VALUE : THUNK_THROW);
    duk_dup(ctx, 0);
    duk_put_prop_literal(ctx, -2, K_ARG1);
    duk_call_method(ctx, 1);
    return 1;
}

static duk_ret_t promise_finally(duk_context *ctx)
{
    REJECT_NEW(ctx);
    const intrinsics_t *I = intrinsics(ctx);
    duk_push_this(ctx); /* [onFinally promise] */
    if (!duk_is_object(ctx, 1))
        return duk_type_error(ctx, "Promise.prototype.finally called on a non-object");
    duk_dup(ctx, 1);
    species_constructor(ctx, I); /* [onFinally promise C] */
    duk_get_prop_literal(ctx, 1, "then");
    duk_dup(ctx, 1);
    if (!duk_is_callable(ctx, 0)) {
        duk_dup(ctx, 0);
        duk_dup(ctx, 0);
    } else {
        for (int magic = FIN_THEN; magic <= FIN_CATCH; magic++) {
            push_builtin(ctx, I, finally_fn, 1, 1, magic);
            duk_dup(ctx, 0);
            duk_put_prop_literal(ctx, -2, K_ARG1);
            duk_dup(ctx, 2);
            duk_put_prop_literal(ctx, -2, K_ARG2);
        }
    }
    duk_call_method(ctx, 2);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Statics: resolve, reject, withResolvers, try, get [Symbol.species]
 */

static duk_ret_t promise_resolve(duk_context *ctx)
{
    REJECT_NEW(ctx);
    const intrinsics_t *I = intrinsics(ctx);
    duk_push_this(ctx);
    if (!duk_is_object(ctx, 1))
        return duk_type_error(ctx, "Promise.resolve called on a non-object");
    push_promise_resolve(ctx, I, 1, 0);
    return 1;
}

static duk_ret_t promise_reject(duk_context *ctx)
{
    REJECT_NEW(ctx);
    const intrinsics_t *I = intrinsics(ctx);
    duk_push_this(ctx);
    duk_idx_t cap = push_capability(ctx, I, 1, false);
    duk_dup(ctx, 0);
    cap_call(ctx, cap, true);
    duk_dup(ctx, cap);
    return 1;
}

static duk_ret_t promise_with_resolvers(duk_context *ctx)
{
    REJECT_NEW(ctx);
    const intrinsics_t *I = intrinsics(ctx);
    duk_push_this(ctx);
    duk_idx_t cap = push_capability(ctx, I, 0, true);
    duk_push_object(ctx);
    static const char *const names[] = { "promise", "resolve", "reject" };
    for (int i = 0; i < 3; i++) {
        duk_dup(ctx, cap + i);
        def_key(ctx, -2, names[i], DATA_PROP);
    }
    return 1;
}

/* Promise.try(callback, ...args) (ES2025). */
static duk_ret_t promise_try(duk_context *ctx)
{
    REJECT_NEW(ctx);
    const intrinsics_t *I = intrinsics(ctx);
    if (duk_get_top(ctx) == 0)
        duk_push_undefined(ctx); /* calling it rejects with a TypeError */
    duk_idx_t n = duk_get_top(ctx);
    duk_push_this(ctx);
    if (!duk_is_object(ctx, n))
        return duk_type_error(ctx, "Promise.try called on a non-object");
    duk_idx_t cap = push_capability(ctx, I, n, false);
    for (duk_idx_t i = 0; i < n; i++)
        duk_dup(ctx, i);
    bool ok = call_user(ctx, n - 1, false);
    cap_call(ctx, cap, !ok);
    duk_dup(ctx, cap);
    return 1;
}

static duk_ret_t promise_get_species(duk_context *ctx)
{
    duk_push_this(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Iteration (GetIterator, IteratorStepValue, IteratorClose) for the combinators and AggregateError.
 * Duktape 2.7 has Symbol.iterator but no iterators on Array.prototype or String.prototype: while those are
 * missing, real arrays and strings are walked directly, as their built-in iterators would.
 */

/* The iterator protocol is lib/core/iter.c's (shared with the collections). */
typedef ew__iter_t iter_t;

/* IterableToList: pushes an array of the values of the iterable at v. May throw. */
static void push_iterable_list(duk_context *ctx, duk_idx_t v)
{
    v = duk_normalize_index(ctx, v);
    iter_t it;
    duk_idx_t arr = duk_push_array(ctx);
    ew__iter_open(ctx, v, &it, NULL);
    for (duk_uarridx_t i = 0; ew__iter_step(ctx, &it); i++)
        def_index(ctx, arr, i);
    duk_pop_2(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * AggregateError
 */

/* Pushes an AggregateError (prototype %AggregateError.prototype%) whose errors are the array at errors. */
static void push_aggregate_error(duk_context *ctx, const intrinsics_t *I, duk_idx_t errors)
{
    errors = duk_normalize_index(ctx, errors);
    (void) duk_push_error_object(ctx, DUK_ERR_ERROR, "All promises were rejected");
    duk_push_heapptr(ctx, I->agg_proto);
    duk_set_prototype(ctx, -2);
    duk_dup(ctx, errors);
    def_key(ctx, -2, "errors", HIDDEN_PROP);
}

/* AggregateError(errors, message, options): called without new it constructs all the same. */
static duk_ret_t aggregate_error_ctor(duk_context *ctx)
{
    if (!duk_is_constructor_call(ctx)) {
        duk_push_current_function(ctx);
        duk_insert(ctx, 0);
        duk_new(ctx, 3);
        return 1;
    }
    duk_push_this(ctx); /* [errors message options O] */
    if (!duk_is_undefined(ctx, 1)) {
        duk_dup(ctx, 1);
        duk_to_string(ctx, -1);
        def_key(ctx, 3, "message", HIDDEN_PROP);
    }
    if (duk_is_object(ctx, 2) && duk_has_prop_literal(ctx, 2, "cause")) {
        duk_get_prop_literal(ctx, 2, "cause");
        def_key(ctx, 3, "cause", HIDDEN_PROP);
    }
    push_iterable_list(ctx, 0);
    def_key(ctx, 3, "errors", HIDDEN_PROP);
    return 0;
}

/* Installs a global AggregateError unless the engine (or an earlier layer) has one; records its prototype. */
static void init_aggregate_error(duk_context *ctx, intrinsics_t *I, duk_idx_t keep)
{
    duk_push_global_object(ctx);
    if (duk_get_prop_literal(ctx, -1, "AggregateError") && duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "prototype");
    } else {
        duk_pop(ctx);
        duk_push_c_function(ctx, aggregate_error_ctor, 3);
        duk_push_int(ctx, 2);
        def_key(ctx, -2, "length", DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
        duk_push_literal(ctx, "AggregateError");
        def_key(ctx, -2, "name", DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
        duk_get_global_literal(ctx, "Error");
        duk_set_prototype(ctx, -2);
        duk_push_object(ctx);
        duk_get_global_literal(ctx, "Error");
        duk_get_prop_literal(ctx, -1, "prototype");
        duk_set_prototype(ctx, -3);
        duk_pop(ctx);
        duk_dup(ctx, -2);
        def_key(ctx, -2, "constructor", HIDDEN_PROP);
        duk_push_literal(ctx, "");
        def_key(ctx, -2, "message", HIDDEN_PROP);
        duk_push_literal(ctx, "AggregateError");
        def_key(ctx, -2, "name", HIDDEN_PROP);
        duk_dup(ctx, -1);
        def_key(ctx, -3, "prototype", DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
        duk_dup(ctx, -2);
        def_key(ctx, -4, "AggregateError", HIDDEN_PROP);
    }
    I->agg_proto = duk_get_heapptr(ctx, -1);
    duk_put_prop_index(ctx, keep, (duk_uarridx_t) duk_get_length(ctx, keep));
    duk_pop_2(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Combinators: all, allSettled, any, race (§27.2.4.1–5) share one loop.
 *
 *   [iterable C promise resolve reject | promiseResolve iterator next | state]
 *    0        1 2       3       4         5              6        7      8
 *
 * state is [values, capability function, remaining]: the list of values (errors for any), the function
 * called when remaining drops to 0 (resolve, or reject for any), and remainingElementsCount. Element
 * functions hold a record [state, index] in K_REC; clearing its slot 0 is [[AlreadyCalled]], shared by
 * the two functions of an allSettled element.
 */

enum { ALL, ALL_SETTLED, ANY, RACE };                 /* magic of the statics */
enum { EL_ALL, EL_FULFILLED, EL_REJECTED, EL_ANY };   /* magic of the element functions */
enum { S_VALUES, S_FN, S_REMAINING };
enum { CB_ITERABLE, CB_C, CB_CAP, CB_RESOLVE = 5, CB_STATE = 8 };

typedef struct combinator {
    const intrinsics_t *I;
    int mode;
    iter_t it;
} combinator_t;

/* Adds delta to remainingElementsCount of the state at s; returns the new count. */
static double add_remaining(duk_context *ctx, duk_idx_t s, double delta)
{
    duk_get_prop_index(ctx, s, S_REMAINING);
    double n = duk_get_number(ctx, -1) + delta;
    duk_pop(ctx);
    duk_push_number(ctx, n);
    duk_put_prop_index(ctx, s, S_REMAINING);
    return n;
}

/* Pushes the { status, value|reason } object of allSettled for the value at v. */
static void push_settled_entry(duk_context *ctx, duk_idx_t v, bool fulfilled)
{
    v = duk_normalize_index(ctx, v);
    duk_push_object(ctx);
    duk_push_string(ctx, fulfilled ? "fulfilled" : "rejected");
    def_key(ctx, -2, "status", DATA_PROP);
    duk_dup(ctx, v);
    def_key(ctx, -2, fulfilled ? "value" : "reason", DATA_PROP);
}

/* Resolve/reject element functions (magic EL_*). */
static duk_ret_t element_fn(duk_context *ctx)
{
    REJECT_NEW(ctx);
    int magic = duk_get_current_magic(ctx);
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, 1, K_REC); /* [x fn rec] */
    duk_get_prop_index(ctx, 2, 0);       /* [x fn rec state] */
    if (duk_is_undefined(ctx, 3))
        return 0;
    duk_push_undefined(ctx);
    duk_put_prop_index(ctx, 2, 0);
    duk_get_prop_index(ctx, 2, 1);
    duk_uarridx_t index = duk_get_uint(ctx, -1);
    duk_get_prop_index(ctx, 3, S_VALUES); /* [x fn rec state index values] */
    if (magic == EL_FULFILLED || magic == EL_REJECTED)
        push_settled_entry(ctx, 0, magic == EL_FULFILLED);
    else
        duk_dup(ctx, 0);
    def_index(ctx, 5, index);
    if (add_remaining(ctx, 3, -1) != 0)
        return 0;
    duk_get_prop_index(ctx, 3, S_FN);
    if (magic == EL_ANY)
        push_aggregate_error(ctx, intrinsics(ctx), 5);
    else
        duk_dup(ctx, 5);
    duk_call(ctx, 1);
    return 1;
}

/* Pushes an element function of kind magic over a new or the given (rec >= 0) record. */
static void push_element_fn(duk_context *ctx, const intrinsics_t *I, int magic, duk_idx_t rec)
{
    rec = duk_normalize_index(ctx, rec);
    push_builtin(ctx, I, element_fn, 1, 1, magic);
    duk_dup(ctx, rec);
    duk_put_prop_literal(ctx, -2, K_REC);
}

/* Pushes onFulfilled and onRejected for element `index` of the combinator. */
static void push_element_handlers(duk_context *ctx, const intrinsics_t *I, int mode, duk_uarridx_t index)
{
    if (mode == RACE) {
        duk_dup(ctx, CB_CAP + 1);
        duk_dup(ctx, CB_CAP + 2);
        return;
    }
    duk_dup(ctx, CB_STATE);
    duk_push_uint(ctx, index);
    pack(ctx, 2); /* [rec] */
    if (mode == ALL) {
        push_element_fn(ctx, I, EL_ALL, -1);
        duk_dup(ctx, CB_CAP + 2);
    } else if (mode == ALL_SETTLED) {
        push_element_fn(ctx, I, EL_FULFILLED, -1);
        push_element_fn(ctx, I, EL_REJECTED, -2);
    } else {
        duk_dup(ctx, CB_CAP + 1);
        push_element_fn(ctx, I, EL_ANY, -2);
    }
    duk_remove(ctx, -3);
}

/* The setup steps: promiseResolve = GetPromiseResolve(C), then GetIterator(iterable). */
static duk_ret_t combinator_setup(duk_context *ctx, void *udata)
{
    combinator_t *cb = udata;
    duk_get_prop_literal(ctx, CB_C, "resolve");
    if (!duk_is_callable(ctx, -1))
        return duk_type_error(ctx, "Promise resolve is not a function");
    ew__iter_open(ctx, CB_ITERABLE, &cb->it, NULL);
    return 3;
}

/* PerformPromiseAll/AllSettled/Any/Race: the loop over the iterator. */
static duk_ret_t combinator_loop(duk_context *ctx, void *udata)
{
    combinator_t *cb = udata;
    if (cb->mode != RACE) {
        duk_push_array(ctx);
        duk_dup(ctx, CB_CAP + (cb->mode == ANY ? 2 : 1));
        duk_push_int(ctx, 1);
        pack(ctx, 3); /* state at CB_STATE */
    }
    duk_uarridx_t index = 0;
    for (;; index++) {
        if (!ew__iter_step(ctx, &cb->it))
            break;
        duk_idx_t next = duk_get_top_index(ctx);
        if (cb->mode != RACE) {
            duk_get_prop_index(ctx, CB_STATE, S_VALUES);
            duk_push_undefined(ctx);
            def_index(ctx, -2, index);
            duk_pop(ctx);
        }
        duk_dup(ctx, CB_RESOLVE);
        duk_dup(ctx, CB_C);
        duk_dup(ctx, next);
        duk_call_method(ctx, 1); /* [next nextPromise] */
        push_element_handlers(ctx, cb->I, cb->mode, index);
        if (cb->mode != RACE)
            add_remaining(ctx, CB_STATE, 1);
        duk_get_prop_literal(ctx, next + 1, "then"); /* Invoke(nextPromise, "then", handlers) */
        duk_insert(ctx, next + 1);
        duk_call_method(ctx, 2);
        duk_set_top(ctx, next);
    }
    if (cb->mode == RACE || add_remaining(ctx, CB_STATE, -1) != 0)
        return 0;
    duk_get_prop_index(ctx, CB_STATE, S_VALUES);
    if (cb->mode == ANY) {
        push_aggregate_error(ctx, cb->I, -1);
        return duk_throw(ctx);
    }
    duk_dup(ctx, CB_CAP + 1);
    duk_swap_top(ctx, -2);
    duk_call(ctx, 1);
    return 0;
}

static duk_ret_t combinator(duk_context *ctx, int mode)
{
    REJECT_NEW(ctx);
    duk_require_stack(ctx, STACK_NEEDED);
    const intrinsics_t *I = intrinsics(ctx);
    duk_set_top(ctx, 1);
    duk_push_this(ctx);
    push_capability(ctx, I, CB_C, true);
    combinator_t cb = { .I = I, .mode = mode, .it = { .done = true } };
    if (!protect(ctx, combinator_setup, &cb, 0, 3) || !protect(ctx, combinator_loop, &cb, 0, 0)) {
        duk_idx_t err = duk_get_top_index(ctx); /* IfAbruptRejectPromise */
        ew__iter_close(ctx, &cb.it);
        duk_dup(ctx, err);
        cap_call(ctx, CB_CAP, true);
    }
    duk_dup(ctx, CB_CAP);
    return 1;
}

static duk_ret_t promise_all(duk_context *ctx) { return combinator(ctx, ALL); }
static duk_ret_t promise_all_settled(duk_context *ctx) { return combinator(ctx, ALL_SETTLED); }
static duk_ret_t promise_any(duk_context *ctx) { return combinator(ctx, ANY); }
static duk_ret_t promise_race(duk_context *ctx) { return combinator(ctx, RACE); }

/* ---------------------------------------------------------------------------------------------------------
 * Unhandled rejections
 */

/* Logs the rejections in the K_UNHANDLED list that are still unhandled, then empties it. The error text
 * may run user getters (err.stack): stop logging if one of them hits a limit. */
static duk_ret_t report_unhandled(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_require_stack(ctx, STACK_NEEDED);
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_UNHANDLED); /* [stash list] */
    duk_size_t n = duk_get_length(ctx, -1);
    duk_uint_t reported = 0;
    for (duk_uarridx_t i = 0; i < n && !ew__isolate_aborting(ctx); i++) {
        duk_get_prop_index(ctx, -1, i);
        int tag = promise_tag(ctx, -1);
        if (tag >= 0 && ((unsigned) tag & (ST_MASK | FL_HANDLED)) == ST_REJECTED) {
            duk_push_literal(ctx, "Uncaught (in promise) ");
            duk_get_prop_literal(ctx, -2, K_VAL);
            ew__push_error_text(ctx, -1);
            duk_remove(ctx, -2);
            duk_concat(ctx, 2);
            size_t len;
            const char *msg = ew__to_utf8(ctx, -1, &len);
            ew__isolate_log(ctx, EW_LOG_ERROR, msg, len);
            duk_pop(ctx);
            reported++;
        }
        duk_pop(ctx);
    }
    duk_set_length(ctx, -1, 0);
    duk_get_prop_literal(ctx, -2, K_REPORTED);
    duk_push_number(ctx, duk_get_number(ctx, -1) + reported);
    duk_put_prop_literal(ctx, -4, K_REPORTED);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * C API (internal.h)
 */

void ew__promise_push_new(duk_context *ctx)
{
    duk_require_stack(ctx, STACK_NEEDED);
    push_promise(ctx, intrinsics(ctx));
}

void ew__promise_settle(duk_context *ctx, duk_idx_t promise_idx, bool reject)
{
    promise_idx = duk_normalize_index(ctx, promise_idx);
    duk_require_stack(ctx, STACK_NEEDED);
    int tag = promise_tag(ctx, promise_idx);
    if (tag < 0 || ((unsigned) tag & ST_MASK) != ST_PENDING) {
        duk_pop(ctx);
        return;
    }
    if (reject)
        settle(ctx, promise_idx, ST_REJECTED);
    else
        resolve_promise(ctx, promise_idx);
}

void ew__promise_push_resolution(duk_context *ctx)
{
    duk_require_stack(ctx, STACK_NEEDED);
    const intrinsics_t *I = intrinsics(ctx);
    duk_idx_t v = duk_get_top_index(ctx);
    bool thenable = false;
    if (duk_is_object(ctx, v)) {
        duk_dup(ctx, v);
        if (!take_then(ctx)) { /* [v err]: the `then` getter threw */
            push_promise(ctx, I);
            duk_swap_top(ctx, -2);
            settle(ctx, -2, ST_REJECTED); /* [v p] */
            duk_remove(ctx, v);
            return;
        }
        thenable = duk_is_callable(ctx, -1);
        if (!thenable)
            duk_pop(ctx);
    }
    if (thenable) { /* [v then]: locked in, adopted from a job (as resolve_promise does) */
        push_promise(ctx, I);
        duk_idx_t p = duk_get_top_index(ctx);
        set_tag(ctx, p, ST_LOCKED);
        duk_dup(ctx, p);
        duk_dup(ctx, v);
        duk_dup(ctx, v + 1); /* [v then p p v then] */
        ew__microtask_enqueue(ctx, job_thenable, 3);
        duk_replace(ctx, v); /* [p then] */
        duk_pop(ctx);
        return;
    }
    /* A fulfilled promise made in its final state: no reactions can exist yet. */
    duk_idx_t p = duk_push_bare_object(ctx);
    duk_push_heapptr(ctx, I->proto);
    duk_set_prototype(ctx, p);
    duk_dup(ctx, v);
    put_slot(ctx, p, K_VAL);
    set_tag(ctx, p, ST_FULFILLED);
    duk_replace(ctx, v);
}

int ew__promise_peek(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_normalize_index(ctx, idx);
    int tag = promise_tag(ctx, idx);
    if (tag < 0)
        return -1;
    unsigned st = (unsigned) tag & ST_MASK;
    if (st != ST_FULFILLED && st != ST_REJECTED)
        return EW__PROMISE_PENDING;
    if (st == ST_REJECTED && !((unsigned) tag & FL_HANDLED))
        set_tag(ctx, idx, (unsigned) tag | FL_HANDLED);
    duk_get_prop_literal(ctx, idx, K_VAL);
    return st == ST_FULFILLED ? EW__PROMISE_FULFILLED : EW__PROMISE_REJECTED;
}

void ew__promise_push_resolved(duk_context *ctx)
{
    duk_require_stack(ctx, STACK_NEEDED);
    const intrinsics_t *I = intrinsics(ctx);
    duk_push_heapptr(ctx, I->promise);
    push_promise_resolve(ctx, I, -1, -2);
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
}

void ew__promise_push_rejected(duk_context *ctx)
{
    duk_require_stack(ctx, STACK_NEEDED);
    push_promise(ctx, intrinsics(ctx));
    duk_swap_top(ctx, -2);
    settle(ctx, -2, ST_REJECTED);
}

bool ew__promise_is(duk_context *ctx, duk_idx_t idx)
{
    return promise_tag(ctx, idx) >= 0;
}

ew__promise_state_t ew__promise_state(duk_context *ctx, duk_idx_t idx)
{
    int tag = promise_tag(ctx, idx);
    unsigned st = tag < 0 ? ST_PENDING : (unsigned) tag & ST_MASK;
    if (st == ST_FULFILLED)
        return EW__PROMISE_FULFILLED;
    if (st == ST_REJECTED)
        return EW__PROMISE_REJECTED;
    return EW__PROMISE_PENDING;
}

void ew__promise_push_result(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_normalize_index(ctx, idx);
    if (ew__promise_state(ctx, idx) == EW__PROMISE_PENDING)
        duk_push_undefined(ctx);
    else
        duk_get_prop_literal(ctx, idx, K_VAL);
}

void ew__promise_mark_handled(duk_context *ctx, duk_idx_t idx)
{
    int tag = promise_tag(ctx, idx);
    if (tag >= 0)
        set_tag(ctx, idx, (unsigned) tag | FL_HANDLED);
}

void ew__promise_report_unhandled(duk_context *ctx)
{
    (void) duk_safe_call(ctx, report_unhandled, NULL, 0, 1); /* on error (out of memory): forget them */
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Installation
 */

static const ew__method_t proto_methods[] = {
    { "then", promise_then, 2, 2 },
    { "catch", promise_catch, 1, 1 },
    { "finally", promise_finally, 1, 1 },
    { NULL, NULL, 0, 0 },
};

static const ew__method_t static_methods[] = {
    { "resolve", promise_resolve, 1, 1 },
    { "reject", promise_reject, 1, 1 },
    { "all", promise_all, 1, 1 },
    { "allSettled", promise_all_settled, 1, 1 },
    { "any", promise_any, 1, 1 },
    { "race", promise_race, 1, 1 },
    { "withResolvers", promise_with_resolvers, 0, 0 },
    { "try", promise_try, DUK_VARARGS, 1 },
    { NULL, NULL, 0, 0 },
};

/* ew__def_methods, then %Function.prototype% as the methods' prototype (see set_function_proto). */
static void def_methods(duk_context *ctx, const intrinsics_t *I, duk_idx_t obj, const ew__method_t *methods)
{
    ew__def_methods(ctx, obj, methods);
    for (const ew__method_t *m = methods; m->name != NULL; m++) {
        duk_get_prop_string(ctx, obj, m->name);
        set_function_proto(ctx, I, -1);
        duk_pop(ctx);
    }
}

/* Pushes the well-known symbol Symbol[name], creating it (non-writable, like the others) if the engine
 * lacks it: Duktape 2.7 has no Symbol.species. */
static void push_well_known_symbol(duk_context *ctx, const char *name)
{
    duk_get_global_literal(ctx, "Symbol");
    if (duk_get_prop_string(ctx, -1, name) && duk_is_symbol(ctx, -1)) {
        duk_remove(ctx, -2);
        return;
    }
    duk_pop(ctx);
    duk_dup(ctx, -1);
    duk_push_sprintf(ctx, "Symbol.%s", name);
    duk_call(ctx, 1);
    duk_push_string(ctx, name);
    duk_dup(ctx, -2);
    duk_def_prop(ctx, -4, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
    duk_remove(ctx, -2);
}

/* Builds %Promise.prototype% on the constructor at ctor. */
static void init_prototype(duk_context *ctx, duk_idx_t ctor, intrinsics_t *I)
{
    duk_idx_t proto = duk_push_object(ctx);
    def_methods(ctx, I, proto, proto_methods);
    duk_dup(ctx, ctor);
    ew__def_hidden_value(ctx, proto, "constructor");
    duk_get_global_literal(ctx, "Symbol");
    duk_get_prop_literal(ctx, -1, "toStringTag");
    duk_remove(ctx, -2);
    duk_push_literal(ctx, "Promise");
    duk_def_prop(ctx, proto, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_get_prop_literal(ctx, proto, "then");
    I->then = duk_get_heapptr(ctx, -1);
    duk_pop(ctx);
    I->proto = duk_get_heapptr(ctx, proto);
    def_key(ctx, ctor, "prototype", DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
}

/* Defines get Promise[Symbol.species] (the symbol is on top, popped). */
static void init_species_getter(duk_context *ctx, const intrinsics_t *I, duk_idx_t ctor)
{
    duk_push_c_function(ctx, promise_get_species, 0);
    set_function_proto(ctx, I, -1);
    duk_push_literal(ctx, "name");
    duk_push_literal(ctx, "get [Symbol.species]");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "length");
    duk_push_int(ctx, 0);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_def_prop(ctx, ctor, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
}

void ew__promise_init(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_idx_t stash = duk_get_top_index(ctx);
    intrinsics_t *I = duk_push_fixed_buffer(ctx, sizeof(intrinsics_t));
    memset(I, 0, sizeof(*I));
    duk_put_prop_literal(ctx, stash, K_INTRINSICS);
    duk_idx_t keep = duk_push_bare_array(ctx);

    duk_get_global_literal(ctx, "Function");
    duk_get_prop_literal(ctx, -1, "prototype");
    I->fn_proto = duk_get_heapptr(ctx, -1);
    duk_pop_2(ctx);

    duk_idx_t ctor = duk_push_c_function(ctx, promise_ctor, 1);
    set_function_proto(ctx, I, ctor);
    duk_push_int(ctx, 1);
    def_key(ctx, ctor, "length", DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "Promise");
    def_key(ctx, ctor, "name", DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    I->promise = duk_get_heapptr(ctx, ctor);
    init_prototype(ctx, ctor, I);
    def_methods(ctx, I, ctor, static_methods);

    push_well_known_symbol(ctx, "iterator");
    I->iterator = duk_get_heapptr(ctx, -1);
    duk_put_prop_index(ctx, keep, 0);
    push_well_known_symbol(ctx, "species");
    I->species = duk_get_heapptr(ctx, -1);
    duk_dup_top(ctx);
    duk_put_prop_index(ctx, keep, 1);
    init_species_getter(ctx, I, ctor);

    duk_dup(ctx, ctor);
    duk_put_prop_index(ctx, keep, 2);
    duk_push_heapptr(ctx, I->then); /* user code may delete Promise.prototype.then: keep the pointer valid */
    duk_put_prop_index(ctx, keep, 3);
    duk_push_global_object(ctx);
    duk_dup(ctx, ctor);
    ew__def_hidden_value(ctx, -2, "Promise");
    duk_pop_2(ctx);

    init_aggregate_error(ctx, I, keep);
    duk_put_prop_literal(ctx, stash, K_KEEP);
    duk_push_bare_array(ctx); /* bare: no setter on Array.prototype can see or steal the entries */
    duk_put_prop_literal(ctx, stash, K_UNHANDLED);
    duk_push_uint(ctx, 0);
    duk_put_prop_literal(ctx, stash, K_REPORTED);
    duk_pop(ctx);
}
