/*
 * lib/core/internal.h — what the files of lib/core share with each other and with the folders above them
 * (lib/web, lib/net users, server/ never: the server uses include/edgeworker.h).
 *
 * Invariants every native function in the library keeps (ARCHITECTURE.md "Execution model"):
 *
 *  1. JavaScript is entered only through duk_pcall/duk_safe_call. A Duktape error outside a protected call
 *     reaches the fatal handler; the isolate then dies (lib/core/isolate.c) but the process does not.
 *  2. When a limit fires (CPU deadline, memory cap), ew__isolate_aborting() turns true and stays true until
 *     control is back at the top-level entry. Native code that catches an error from user code with a
 *     protected call MUST rethrow it when ew__isolate_aborting(ctx) is true, so that no script code (catch
 *     blocks, promise handlers) runs after a limit fired:
 *
 *         if (duk_pcall(ctx, n) != DUK_EXEC_SUCCESS && ew__isolate_aborting(ctx)) (void) duk_throw(ctx);
 *
 *  3. Strings cross the C boundary as UTF-8 through ew__push_utf8()/ew__to_utf8() (utf8.c): Duktape keeps
 *     astral characters as surrogate pairs in CESU-8 form internally.
 *  4. Hidden state lives in DUK_HIDDEN_SYMBOL properties, which scripts cannot see or enumerate.
 */
#ifndef EW_CORE_INTERNAL_H
#define EW_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duktape.h"
#include "edgeworker.h"

/* ---------------------------------------------------------------------------------------------------------
 * Errors (error.c)
 */

/* Sets err (if not NULL) to code + printf-style message; returns code. */
ew_status_t ew__error_set(ew_error_t *err, ew_status_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clears err to EW_OK (if not NULL). */
void ew__error_clear(ew_error_t *err);
/* Sets err from the JS error value on top of the stack (message, fileName, lineNumber); does not pop.
 * Safe for any value (never throws). */
void ew__error_from_js(duk_context *ctx, ew_error_t *err, ew_status_t code);
/* Pushes the best description of the value at idx: err.stack, else String(value). Never throws. */
void ew__push_error_text(duk_context *ctx, duk_idx_t idx);
/* Logs `prefix` + the description of the error value at idx at EW_LOG_ERROR and returns that text as
 * UTF-8, left on the stack (pop it when done; valid until then). */
const char *ew__log_uncaught(duk_context *ctx, duk_idx_t idx, const char *prefix);

/* ---------------------------------------------------------------------------------------------------------
 * Growable byte buffer (buf.c). Owned by whoever holds the struct; ew__buf_dispose frees the bytes.
 */

typedef struct ew__buf {
    char *data;   /* malloc'd, NUL-terminated when len > 0 or after ew__buf_nul; NULL when empty */
    size_t len;
    size_t cap;
} ew__buf_t;

void ew__buf_init(ew__buf_t *b);
void ew__buf_dispose(ew__buf_t *b);
/* Returns false on allocation failure (the buffer keeps what it had). */
bool ew__buf_append(ew__buf_t *b, const void *data, size_t len);
bool ew__buf_reserve(ew__buf_t *b, size_t extra);
/* Appends the n bytes at s as a JSON string: quotes, `"` and `\` escaped, control characters as \u00XX,
 * other bytes as they are (UTF-8 passes through). False on allocation failure. */
bool ew__buf_append_json_string(ew__buf_t *b, const char *s, size_t n);

/* ---------------------------------------------------------------------------------------------------------
 * UTF-8 at the Duktape boundary (utf8.c)
 */

/* Pushes `len` bytes of UTF-8 as a JS string: 4-byte sequences become surrogate pairs; invalid sequences
 * become U+FFFD (as TextDecoder does). Never fails except by a Duktape alloc error (throws). */
void ew__push_utf8(duk_context *ctx, const char *s, size_t len);
/* ToString()s the value at idx and returns real UTF-8 for it (surrogate pairs joined, lone surrogates as
 * U+FFFD). The returned pointer is NUL-terminated and valid while the stack slot idx is unchanged (the slot
 * may be replaced by a buffer holding the transcoded bytes). May throw (ToString of an object). */
const char *ew__to_utf8(duk_context *ctx, duk_idx_t idx, size_t *len);
/* Returns true if the bytes are valid UTF-8 (no surrogates, no overlongs). */
bool ew__utf8_valid(const char *s, size_t len);

/* ---------------------------------------------------------------------------------------------------------
 * Microtasks (microtask.c): a FIFO in the heap stash, drained after every macrotask.
 */

/* A job runs inside a protected call with its `nargs` saved values on top of the stack (at
 * duk_get_top(ctx) - nargs ..; duk_safe_call runs in the caller's frame, so lower slots belong to the
 * drain loop and must not be touched); it may throw (reported as an uncaught exception). */
typedef void (*ew__job_fn)(duk_context *ctx, duk_idx_t nargs);

/* Creates the queue in a fresh heap. Call once per heap, before ew__promise_init(). */
void ew__microtask_init(duk_context *ctx);
/* Pops `nargs` (0–3) values from the stack and queues fn to run with them. Records the request that is
 * running now, so the job's CPU time is charged to it. May throw a Duktape alloc error. */
void ew__microtask_enqueue(duk_context *ctx, ew__job_fn fn, duk_idx_t nargs);
/* Runs jobs until the queue is empty (jobs queued meanwhile run too). Must be called outside any JS frame
 * (from the top-level entry). Returns false if it stopped because a limit fired (ew__isolate_aborting);
 * the remaining jobs stay queued. A job that throws is reported through the isolate's log. */
bool ew__microtask_drain(duk_context *ctx);
/* Number of queued jobs. */
size_t ew__microtask_pending(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Promise (promise.c): the ECMAScript Promise, in C.
 */

/* Installs Promise on the global object. Needs ew__microtask_init() first. */
void ew__promise_init(duk_context *ctx);
/* Pushes a new pending %Promise%. */
void ew__promise_push_new(duk_context *ctx);
/* Resolves (reject = false: with thenable adoption, like the resolve function) or rejects the promise at
 * promise_idx with the value on top of the stack, which is popped. No effect if already resolved. */
void ew__promise_settle(duk_context *ctx, duk_idx_t promise_idx, bool reject);
/* Pops a value and pushes Promise.resolve(value) (the value itself if it is already a %Promise%). */
void ew__promise_push_resolved(duk_context *ctx);
/* Pops a value and pushes a new %Promise% resolved with it, as a promise resolve function would (what an
 * async function's return does): a thenable is adopted from a job, a throwing `then` getter rejects it,
 * anything else fulfils it at once. */
void ew__promise_push_resolution(duk_context *ctx);
/* Pops a value and pushes a %Promise% rejected with it. */
void ew__promise_push_rejected(duk_context *ctx);
/* True if the value at idx is a promise made by this module (or a subclass instance). */
bool ew__promise_is(duk_context *ctx, duk_idx_t idx);

typedef enum ew__promise_state {
    EW__PROMISE_PENDING = 0,
    EW__PROMISE_FULFILLED = 1,
    EW__PROMISE_REJECTED = 2
} ew__promise_state_t;

/* State of the promise at idx (PENDING for a non-promise). */
ew__promise_state_t ew__promise_state(duk_context *ctx, duk_idx_t idx);
/* Pushes the fulfilment value or rejection reason (undefined while pending). */
void ew__promise_push_result(duk_context *ctx, duk_idx_t idx);
/* One look at the value at idx: -1 if it is not a promise made here; EW__PROMISE_PENDING; or
 * EW__PROMISE_FULFILLED / EW__PROMISE_REJECTED with the result pushed (a rejected one is marked handled). */
int ew__promise_peek(duk_context *ctx, duk_idx_t idx);
/* Marks a rejected promise as handled (no unhandled-rejection report). */
void ew__promise_mark_handled(duk_context *ctx, duk_idx_t idx);
/* Reports rejections still unhandled at the end of a drain to the isolate log, as
 * "Uncaught (in promise) <stack>", then forgets them. Called by the drain loop. */
void ew__promise_report_unhandled(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Isolates (isolate.c) — see lib/core/isolate.h for the struct; here what other folders may call.
 */

/* True while a CPU or memory limit has fired in this heap and the error is still unwinding. */
bool ew__isolate_aborting(duk_context *ctx);
/* Logs a message through the runtime's log callback, attributed to this heap's worker. Safe for any ctx
 * (a bare test heap logs nowhere). */
void ew__isolate_log(duk_context *ctx, ew_log_level_t level, const char *msg, size_t len);

/* Frees a streamed body (ew_response_destroy calls it): cancels the stream if it has not ended. */
void ew__body_stream_destroy(ew_body_t *body);

/* Runs fn(ctx, udata) in the heap for C code that may be outside any JavaScript frame (a libevent callback
 * of a stream producer or consumer): outside, it enters charged to request req_id (0 or a finished request:
 * detached), makes a protected call on the heap's main thread, drains the microtasks and settles
 * (ew__isolate_settle); inside JS (a native called from script, a reaction) it is a plain protected call on
 * ctx, which must then be the running thread (the ctx the native was given: Duktape refuses calls on a
 * thread that is not running, such as the main thread while a coroutine runs). fn is a duk_safe_call body with 0
 * arguments and 0 results. An error it throws is logged as uncaught (a limit is handled as usual). Returns
 * false if fn threw or the heap is dead. Works on a bare test heap too (then the queue is drained directly). */
bool ew__isolate_run(duk_context *ctx, uint32_t req_id, duk_safe_call_function fn, void *udata);
/* The heap's main thread (the isolate's ctx); ctx itself for a bare test heap. Keep this one, not a
 * coroutine's ctx, in anything that outlives a call. */
duk_context *ew__isolate_main_ctx(duk_context *ctx);
/* Id of the request the running JS is charged to (0 = none). */
uint32_t ew__isolate_req_id(duk_context *ctx);
/* Counts host I/O the isolate waits for (a C stream producer): while any is open, a request waiting for it
 * is not taken for one that can never finish. Bare test heaps ignore it. */
void ew__isolate_io_begin(duk_context *ctx);
void ew__isolate_io_end(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * WebSocket (websocket.c, lib/js/websocket.js)
 */

/* Hidden key of a WebSocket's state object: its brand. */
#define EW__WS_STATE_KEY DUK_HIDDEN_SYMBOL("ws")
/* Defines WebSocketPair, WebSocket and CloseEvent on the global object as getters that load
 * lib/js/websocket.js on first use (MessageEvent is lib/js/message.js's). Call once per heap from ew__web_init(). */
void ew__websocket_init(duk_context *ctx, duk_idx_t global_idx);
/* Pushes what lib/js/websocket.js returns (loading it on first use): Durable Object relays (durable.js) use
 * its `abortRelay`. */
void ew__ws_push_module(duk_context *ctx);
/* fetch() with `Upgrade: websocket` (lib/web/fetch.c): with [input, init] at indices 0 and 1 of the
 * running native call, is_upgrade says whether the request asks for one (no side effect on the inputs);
 * fetch_upgrade pushes the promise of a 101 Response whose webSocket is the connected end (accept() it).
 * Both may throw (the TypeErrors fetch() rejects with are thrown here too). */
bool ew__ws_fetch_is_upgrade(duk_context *ctx);
void ew__ws_fetch_upgrade(duk_context *ctx);
/* ew_response_destroy() of a response with ws (NULL ignored): unless the host attached it, it goes away as
 * ew_websocket_destroy() would. */
void ew__ws_response_gone(ew_websocket_t *ws);

/* ---------------------------------------------------------------------------------------------------------
 * Property helpers
 */

/* Defines a non-enumerable, writable, configurable property `name` on the object at obj_idx with the
 * value on top (popped), like a built-in method. */
void ew__def_hidden_value(duk_context *ctx, duk_idx_t obj_idx, const char *name);
/* One entry of a native method table. */
typedef struct ew__method {
    const char *name;
    duk_c_function fn;
    duk_idx_t nargs;  /* DUK_VARARGS or the fixed count */
    int length;       /* the JS-visible .length */
} ew__method_t;
/* Defines each method (non-enumerable, like built-ins) on the object at obj_idx; table ends with name NULL. */
void ew__def_methods(duk_context *ctx, duk_idx_t obj_idx, const ew__method_t *methods);
/* Defines an accessor property `name` with a native getter (and optional setter). Non-enumerable. */
void ew__def_getter(duk_context *ctx, duk_idx_t obj_idx, const char *name, duk_c_function get,
                    duk_c_function set);

/* ---------------------------------------------------------------------------------------------------------
 * Keyed collections (collections.c, ordered_table.c, map_set.c, set_methods.c, weak.c): Map, Set,
 * WeakMap, WeakSet, WeakRef, FinalizationRegistry. WeakRef holds its target strongly and
 * FinalizationRegistry never calls its callbacks (Duktape has no weak references; see weak.c).
 */

/* Heap stash key of %IteratorPrototype% (the object with [Symbol.iterator]() { return this }), created
 * by ew__bi_push_iterator_prototype (builtin_iter.c); every built-in iterator prototype (Map, Set, Array, String,
 * RegExp String) must inherit from this one object. */
#define EW__STASH_ITERATOR_PROTOTYPE DUK_HIDDEN_SYMBOL("IteratorPrototype")

/* Installs Map, Set (with the ES2025 set methods), WeakMap, WeakSet, WeakRef and FinalizationRegistry on
 * the global object, and %IteratorPrototype% if absent. Call once per heap, after ew__promise_init() and
 * ew__builtins_init(): it records Array.prototype.values then, so that constructors walk unmodified arrays
 * without iterator objects (on a heap without them, arrays and strings are walked directly). */
void ew__collections_init(duk_context *ctx);

/* Map and Set for C code outside the collection files (structuredClone). Kinds: */
enum { EW__COLL_NONE = 0, EW__COLL_MAP = 1, EW__COLL_SET = 2 };
/* EW__COLL_MAP / _SET if the value at idx is a Map / Set (subclass instances too), else EW__COLL_NONE. */
int ew__collection_kind(duk_context *ctx, duk_idx_t idx);
/* Pushes a snapshot of the entries of the Map or Set at idx as one array: [k0, v0, k1, v1, ...] for a Map,
 * [k0, k1, ...] for a Set. Runs no script. */
void ew__collection_push_entries(duk_context *ctx, duk_idx_t idx);
/* Pushes a new, empty %Map% or %Set% (kind EW__COLL_MAP / _SET). */
void ew__collection_push_new(duk_context *ctx, int kind);
/* Adds key (and value, for a Map) to the collection at obj as set()/add() would, without calling them. */
void ew__collection_add(duk_context *ctx, duk_idx_t obj, duk_idx_t key, duk_idx_t value);

/* ---------------------------------------------------------------------------------------------------------
 * ES2015+ library built-ins (builtin_*.c; their shared declarations are in builtins.h)
 */

/* Installs the ES2015-ES2023 Array, %TypedArray%, Object, String, Math and Symbol methods Duktape lacks,
 * the iterators, a stable sort, Error's cause option and HTTP dates in Date.parse. Call once per heap,
 * before ew__promise_init() (Symbol.species is made here in Duktape's well-known form). %ArrayIteratorPrototype%
 * and the other iterator prototypes inherit from EW__STASH_ITERATOR_PROTOTYPE's object (created here if
 * absent). May throw. */
void ew__builtins_init(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Coroutines (coro.c, lib/js/coro.js): async functions, generators and async generators on Duktape threads.
 * The helpers' contract for the compiler's lowering is docs/coroutines.md.
 */

/* Loads the coroutine runtime (lib/js/coro.js). Call once per heap, after ew__promise_init() and
 * ew__collections_init() (it needs %Promise% and %IteratorPrototype%), before user code runs. May throw. */
void ew__coro_init(duk_context *ctx);
/* Adds the coroutine helpers (async, await, generator, yield, yieldStar, asyncGenerator, asyncYield,
 * asyncYieldStar, asyncIterator, asyncNext, asyncClose, asyncCloseThrow, asyncNoAwait, markAsync,
 * markGenerator, markAsyncGenerator, RET) as properties of the object on top of the stack, which stays
 * there. The same function objects each time: they belong to the heap, not to a module. */
/* Test hook: true if the names coro.js exports are exactly the ones the lazy getters stand for. */
bool ew__coro_helper_names_match(duk_context *ctx);
void ew__coro_push_helpers(duk_context *ctx);
/* Pushes an object with the C helpers of lowered classes (class_helpers.c: markClass, noNew, ntOf,
 * superCtor, superGet, field, brandAdd, privInit, privGet, privSet, privMethod), given to
 * lib/js/helpers_class.js when it loads. */
void ew__class_push_natives(duk_context *ctx);
/* For class private names (class_helpers.c), on the WeakMap or WeakSet at coll (TypeError if it is none):
 * whether key has an entry, pushing its value (WeakMap, push_value) only then; and set key's entry to the
 * value at value (TypeError for a key that cannot be held weakly). weak.c. */
bool ew__weak_lookup(duk_context *ctx, duk_idx_t coll, duk_idx_t key, bool push_value);
void ew__weak_store(duk_context *ctx, duk_idx_t coll, duk_idx_t key, duk_idx_t value);
/* Puts $ew.asyncReturn and $ew.asyncThrow (C, not lazy) on the helper object on top. */
void ew__coro_push_settlers(duk_context *ctx);

/* Pushes the array of listeners the script added with addEventListener('error', ...) on the global scope
 * (dispatch.c; undefined on a heap without the runtime layer). */
void ew__push_error_listeners(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Console (console.c)
 */

/* Installs the console object on the global object. */
void ew__console_init(duk_context *ctx);
/* Pushes the value at idx formatted as console.log shows a value nested in an object (strings quoted,
 * depth 0). Never throws except when a limit fired. */
void ew__inspect_push(duk_context *ctx, duk_idx_t idx);

/* ---------------------------------------------------------------------------------------------------------
 * Timers (timers.c)
 */

/* Pushes the runtime's setTimeout function as installed (for runtime JS that must not use a setTimeout a
 * script replaced: AbortSignal.timeout, scheduler.wait). */
void ew__timers_push_set_timeout(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * The iterator protocol for C built-ins (iter.c)
 */

enum { EW__ITER_PROTOCOL, EW__ITER_ARRAY, EW__ITER_STRING };

typedef struct ew__iter {
    duk_idx_t obj;        /* the iterator, or the array or string walked directly */
    duk_idx_t next;       /* the iterator's next method (undefined when walked directly) */
    int kind;             /* EW__ITER_* */
    bool done;            /* [[Done]]: no IteratorClose is due */
    duk_uarridx_t index;  /* EW__ITER_ARRAY / EW__ITER_STRING position */
} ew__iter_t;

/* May an array whose @@iterator (at idx) is given be walked directly? NULL: only when it has none. */
typedef bool (*ew__iter_fast_fn)(duk_context *ctx, duk_idx_t idx);

/* GetIterator(value at v): pushes two values (iterator and next). TypeError for null/undefined and
 * non-iterables. May throw. */
void ew__iter_open(duk_context *ctx, duk_idx_t v, ew__iter_t *it, ew__iter_fast_fn fast);
/* IteratorStepValue: pushes the next value and returns true, or returns false when done. May throw (then
 * [[Done]] is set: no close is due). */
bool ew__iter_step(duk_context *ctx, ew__iter_t *it);
/* IteratorClose for a throw completion: calls `return` if due, ignoring its outcome (except a limit:
 * invariant 2). Leaves the stack as it was. */
void ew__iter_close(duk_context *ctx, ew__iter_t *it);

#endif /* EW_CORE_INTERNAL_H */
