/*
 * isolate.c — one Duktape heap for one Worker: creation (built-ins, runtime layer, the Worker's script from
 * bytecode), the entry protocol that every call into JavaScript goes through, and what happens after each
 * entry (microtask drain, limit handling, replacement of a broken isolate).
 *
 * Entering JS:  ew__isolate_call(iso, req, fn, …)   charge CPU to req, arm the fatal jump, duk_safe_call
 *               ew__isolate_settle(iso)             drain microtasks, fail the request a limit hit, reap
 *
 * Duktape's fatal handler must not return; ours long-jumps back to the innermost guarded call, marks the
 * isolate dead and lets the worker replace it. That path is only a backstop: JS runs only inside protected
 * calls, the heap is created uncapped and capped afterwards, and limits fire as ordinary errors.
 * Design: ARCHITECTURE.md "Execution model"; measured facts: DUKTAPE-NOTES.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/internal.h"
#include "dispatch.h"
#include "isolate.h"
#include "js_bytecode.h"
#include "web/internal.h"
#include "web/stream.h"

#define DEFAULT_HEAP_LIMIT ((size_t) 128 << 20)
#define STARTUP_CPU_MS 400 /* Cloudflare's start-up CPU budget for a script's top level */

ew__isolate_t *ew__isolate_of(duk_context *ctx)
{
    duk_memory_functions mf;
    duk_get_memory_functions(ctx, &mf);
    ew__isolate_t *iso = mf.udata;
    return (iso != NULL && iso->magic == EW__ISOLATE_MAGIC) ? iso : NULL;
}

bool ew__isolate_aborting(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    return iso != NULL && iso->abort_reason != EW_OK;
}

void ew__isolate_log(duk_context *ctx, ew_log_level_t level, const char *msg, size_t len)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso == NULL || iso->rt == NULL || iso->rt->cfg.log == NULL)
        return;
    iso->rt->cfg.log(iso->rt->cfg.log_udata, level, iso->worker ? iso->worker->name : "", msg, len);
}

static void on_fatal(void *udata, const char *msg)
{
    ew__isolate_t *iso = udata;
    iso->dead = true;
    if (iso->rt != NULL && iso->rt->cfg.log != NULL) {
        char line[512];
        int n = snprintf(line, sizeof(line), "isolate failed fatally and was discarded: %s", msg ? msg : "?");
        iso->rt->cfg.log(iso->rt->cfg.log_udata, EW_LOG_ERROR, iso->worker ? iso->worker->name : "", line,
                         (size_t) (n < 0 ? 0 : n));
    }
    /* Every use of the heap runs under guarded() (below), so the jump target is always armed. */
    longjmp(*iso->fatal_jmp, 1);
}

/* duk_safe_call with the fatal jump armed. Returns DUK_EXEC_SUCCESS, DUK_EXEC_ERROR, or -1 when the heap
 * died (then nothing was pushed and the heap must not be touched again). */
static int guarded(ew__isolate_t *iso, duk_safe_call_function fn, void *udata, duk_idx_t nargs,
                   duk_idx_t nrets)
{
    if (iso->dead)
        return -1;
    jmp_buf jb;
    jmp_buf *prev = iso->fatal_jmp;
    volatile int rc = -1;
    iso->fatal_jmp = &jb;
    if (setjmp(jb) == 0)
        rc = duk_safe_call(iso->ctx, fn, udata, nargs, nrets);
    iso->fatal_jmp = prev;
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------
 * CPU charging
 */

static uint64_t budget_ns(ew__isolate_t *iso, ew__req_t *req)
{
    uint64_t limit_ms = iso->rt != NULL && iso->rt->cfg.cpu_ms ? iso->rt->cfg.cpu_ms : 50;
    if (req == NULL)
        return (limit_ms > STARTUP_CPU_MS ? limit_ms : STARTUP_CPU_MS) * 1000000u;
    uint64_t limit = limit_ms * 1000000u;
    return req->cpu_used_ns >= limit ? 0 : limit - req->cpu_used_ns;
}

/* Adds CPU time to the running request and to its worker's total (ew_worker_cpu_ms). */
static void charge_ns(ew__isolate_t *iso, uint64_t ns)
{
    iso->running->cpu_used_ns += ns;
    if (iso->worker != NULL)
        iso->worker->cpu_ns_total += ns;
}

/* CPU accounting. Each entry keeps a virtual clock V (ns since the entry began): the monotonic clock (vDSO,
 * no system call) until the interrupt hook first runs, then the thread CPU clock (a system call) shifted to
 * continue from there (ew__isolate_vclock, limits.c). The hook runs at an entry's first instruction and
 * then every 64k instructions, and switches only once the entry has run 1 ms of wall time
 * (SAMPLE_AFTER_NS), so a typical request reads no CPU clock at all; wall time is an upper bound of
 * the CPU time spent, so a short entry is never under-charged. Deadlines and charges are in V units. */
void ew__isolate_enter(ew__isolate_t *iso, ew__req_t *req)
{
    if (iso->depth++ > 0)
        return;
    ew__stack_limit_init();
    iso->entry_mono_ns = ew__mono_now_ns();
    iso->cpu_sampled = false;
    iso->slice_v_ns = 0;
    iso->running = req;
    iso->deadline_ns = budget_ns(iso, req);
}

void ew__isolate_charge(ew__isolate_t *iso, ew__req_t *req)
{
    if (req == iso->running || iso->depth == 0)
        return;
    uint64_t v = ew__isolate_vclock(iso);
    if (iso->running != NULL)
        charge_ns(iso, v - iso->slice_v_ns);
    iso->slice_v_ns = v;
    iso->running = req;
    iso->deadline_ns = v + budget_ns(iso, req);
}

void ew__isolate_clock_pause(ew__isolate_t *iso)
{
    if (iso->depth == 0)
        return;
    uint64_t v = ew__isolate_vclock(iso);
    if (iso->running != NULL)
        charge_ns(iso, v - iso->slice_v_ns);
    iso->deadline_ns = UINT64_MAX;
}

void ew__isolate_clock_resume(ew__isolate_t *iso)
{
    if (iso->depth == 0)
        return;
    iso->entry_mono_ns = ew__mono_now_ns();
    iso->cpu_sampled = false;
    iso->slice_v_ns = 0;
    iso->deadline_ns = budget_ns(iso, iso->running);
}

void ew__isolate_leave(ew__isolate_t *iso)
{
    if (--iso->depth > 0)
        return;
    if (iso->running != NULL)
        charge_ns(iso, ew__isolate_vclock(iso) - iso->slice_v_ns);
    iso->running = NULL;
    iso->deadline_ns = UINT64_MAX;
}

int ew__isolate_pcall(ew__isolate_t *iso, duk_safe_call_function fn, void *udata, duk_idx_t nargs,
                      duk_idx_t nrets)
{
    return guarded(iso, fn, udata, nargs, nrets);
}

int ew__isolate_call(ew__isolate_t *iso, ew__req_t *req, duk_safe_call_function fn, void *udata,
                     duk_idx_t nargs, duk_idx_t nrets)
{
    ew__isolate_enter(iso, req);
    int rc = guarded(iso, fn, udata, nargs, nrets);
    ew__isolate_leave(iso);
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------
 * After an entry
 */

static duk_ret_t drain_body(duk_context *ctx, void *udata)
{
    (void) udata;
    (void) ew__microtask_drain(ctx);
    return 0;
}

/* A limit fired: end the request it was charged to with 1102 and stop giving this isolate new work. */
static void handle_abort(ew__isolate_t *iso)
{
    ew_status_t why = iso->abort_reason;
    ew__req_t *req = iso->abort_req;
    iso->abort_reason = EW_OK;
    iso->abort_req = NULL;
    ew__isolate_condemn(iso);
    const char *what = why == EW_ERR_CPU_LIMIT ? "Worker exceeded CPU time limit."
                                               : "Worker exceeded memory limit.";
    duk_context *ctx = iso->ctx;
    ew__isolate_log(ctx, EW_LOG_ERROR, what, strlen(what));
    if (req != NULL)
        ew__req_fail(req, why, what);
}

bool ew__isolate_settle(ew__isolate_t *iso)
{
    bool entered = iso->depth > 0;
    if (!entered && !iso->dead && ew__microtask_pending(iso->ctx) > 0) {
        ew__isolate_enter(iso, NULL);
        entered = true;
    }
    for (int round = 0; round < 1000 && !iso->dead; round++) {
        if (iso->abort_reason != EW_OK) {
            handle_abort(iso);
            continue;
        }
        if (ew__microtask_pending(iso->ctx) == 0)
            break;
        if (guarded(iso, drain_body, NULL, 0, 0) == -1)
            break;
    }
    if (entered)
        ew__isolate_leave(iso);
    if (iso->dead) {
        ew__isolate_condemn(iso);
        ew__req_fail_all(iso, EW_ERR_INTERNAL, "The isolate failed fatally and was discarded.");
    } else {
        ew__req_check_idle(iso);
    }
    ew__isolate_maybe_reap(iso);
    return true;
}

struct run_args {
    duk_safe_call_function fn;
    void *udata;
};

/* Safe-call body of ew__isolate_run: fn, with an error it throws logged as uncaught (limits rethrown). */
static duk_ret_t run_body(duk_context *ctx, void *udata)
{
    struct run_args *a = udata;
    if (duk_safe_call(ctx, a->fn, a->udata, 0, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            return duk_throw(ctx);
        (void) ew__log_uncaught(ctx, -1, "Uncaught ");
        duk_pop(ctx);
        duk_push_false(ctx);
        return 1;
    }
    duk_pop(ctx);
    duk_push_true(ctx);
    return 1;
}

bool ew__isolate_run(duk_context *ctx, uint32_t req_id, duk_safe_call_function fn, void *udata)
{
    struct run_args a = {fn, udata};
    ew__isolate_t *iso = ew__isolate_of(ctx);
    bool ok;
    if (iso == NULL) { /* a bare test heap */
        ok = duk_safe_call(ctx, run_body, &a, 0, 1) == DUK_EXEC_SUCCESS && duk_get_boolean(ctx, -1);
        duk_pop(ctx);
        (void) ew__microtask_drain(ctx);
        return ok;
    }
    if (iso->dead)
        return false;
    if (iso->depth > 0) {
        /* Inside JS the running thread may be a coroutine (an async function): the call goes through it,
         * whichever thread's ctx the caller holds (a C producer may keep the heap's main one); the entry's
         * fatal jump is armed. */
        duk_push_current_thread(iso->ctx);
        duk_context *cur = duk_get_context(iso->ctx, -1);
        duk_pop(iso->ctx);
        if (cur == NULL)
            cur = ctx;
        int rc = duk_safe_call(cur, run_body, &a, 0, 1);
        /* invariant 2: no script runs after a limit. The error goes on only into a protected call that
         * encloses this one (fatal_jmp armed): C code that runs between entries with depth > 0 (settle
         * ending a request after a limit, which closes its stream readers) has none, and a throw there
         * would be an uncaught error, which is fatal. */
        if (rc != DUK_EXEC_SUCCESS && ew__isolate_aborting(cur) && iso->fatal_jmp != NULL)
            (void) duk_throw(cur);
        ok = rc == DUK_EXEC_SUCCESS && duk_get_boolean(cur, -1);
        duk_pop(cur);
        return ok;
    }
    ew__isolate_enter(iso, req_id ? ew__isolate_find_req(iso, req_id) : NULL);
    int rc = ew__isolate_pcall(iso, run_body, &a, 0, 1);
    ok = rc == DUK_EXEC_SUCCESS && duk_get_boolean(iso->ctx, -1);
    if (rc != -1)
        duk_pop(iso->ctx);
    ew__isolate_settle(iso);
    return ok;
}

duk_context *ew__isolate_main_ctx(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    return iso != NULL ? iso->ctx : ctx;
}

uint32_t ew__isolate_req_id(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    return iso != NULL && iso->running != NULL ? iso->running->id : 0;
}

void ew__isolate_io_begin(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL)
        iso->io_pending++;
}

void ew__isolate_io_end(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && iso->io_pending > 0)
        iso->io_pending--;
}

void ew__isolate_condemn(ew__isolate_t *iso)
{
    if (iso->condemned)
        return;
    iso->condemned = true;
    ew_worker_t *w = iso->worker;
    if (w != NULL && w->current == iso) {
        w->current = NULL;
        iso->next = w->draining;
        w->draining = iso;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Creation
 */

/* Hides engine-specific globals from Worker code (Duktape, Buffer, CBOR), keeping Duktape in the stash for
 * the runtime layer (coroutines need Duktape.Thread). */
static void hide_engine_globals(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_global_string(ctx, "Duktape");
    duk_put_prop_string(ctx, -2, DUK_HIDDEN_SYMBOL("Duktape"));
    duk_pop(ctx);
    duk_push_global_object(ctx);
    duk_del_prop_literal(ctx, -1, "Duktape");
    duk_del_prop_literal(ctx, -1, "Buffer");
    duk_del_prop_literal(ctx, -1, "CBOR");
    duk_pop(ctx);
}

/* Safe-call body: installs built-ins and runs the prelude; leaves nothing. */
static duk_ret_t setup_runtime(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__microtask_init(ctx);
    ew__builtins_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
    ew__coro_init(ctx);
    ew__web_init(ctx);
    ew__timers_init(ctx);
    ew__console_init(ctx);
    /* globalThis and self, as Workers have them. */
    duk_push_global_object(ctx);
    duk_push_global_object(ctx);
    ew__def_hidden_value(ctx, -2, "globalThis");
    duk_push_global_object(ctx);
    ew__def_hidden_value(ctx, -2, "self");
    duk_pop(ctx);
    ew__dispatch_init(ctx); /* loads lib/js/prelude.js and keeps its dispatch functions */
    hide_engine_globals(ctx);
    return 0;
}

ew__isolate_t *ew__isolate_create(ew_runtime_t *rt, ew_worker_t *w, size_t mem_limit, ew_error_t *err)
{
    ew__isolate_t *iso = calloc(1, sizeof(*iso));
    if (iso == NULL) {
        ew__error_set(err, EW_ERR_NOMEM, "out of memory creating an isolate");
        return NULL;
    }
    iso->magic = EW__ISOLATE_MAGIC;
    iso->rt = rt;
    iso->worker = w;
    iso->heap_limit = SIZE_MAX; /* uncapped while Duktape builds its built-ins (DUKTAPE-NOTES.md) */
    iso->deadline_ns = UINT64_MAX;
    iso->next_timer_id = 1;
    iso->next_req_id = 1;
    iso->next_call_id = 1;
    iso->ctx = duk_create_heap(ew__heap_alloc, ew__heap_realloc, ew__heap_free, iso, on_fatal);
    if (iso->ctx == NULL) {
        ew__heap_release_cache(iso);
        free(iso);
        ew__error_set(err, EW_ERR_NOMEM, "out of memory creating a JavaScript heap");
        return NULL;
    }
    int rc = ew__isolate_call(iso, NULL, setup_runtime, NULL, 0, 1);
    if (rc != DUK_EXEC_SUCCESS) {
        if (rc == DUK_EXEC_ERROR)
            ew__error_from_js(iso->ctx, err, EW_ERR_INTERNAL);
        else
            ew__error_set(err, EW_ERR_INTERNAL, "the runtime layer failed to start");
        ew__isolate_destroy(iso);
        return NULL;
    }
    duk_pop(iso->ctx);
    iso->heap_limit = mem_limit ? mem_limit : DEFAULT_HEAP_LIMIT;
    if (w != NULL && ew__worker_start(iso, err) != EW_OK) {
        ew__isolate_destroy(iso);
        return NULL;
    }
    return iso;
}

void ew__isolate_destroy(ew__isolate_t *iso)
{
    if (iso == NULL)
        return;
    ew__timers_cancel_all(iso);
    ew__bindings_cancel_all(iso);
    ew__ws_isolate_gone(iso);
    ew__fetch_cancel_all(iso);
    ew__resources_cancel(iso);
    ew__durable_isolate_gone(iso);
    if (iso->ctx != NULL && !iso->dead) {
        /* duk_destroy_heap runs finalizers; keep the fatal jump armed around it. */
        jmp_buf jb;
        jmp_buf *prev = iso->fatal_jmp;
        iso->fatal_jmp = &jb;
        iso->heap_limit = SIZE_MAX;
        if (setjmp(jb) == 0) {
            ew__stream_dispose(iso->ctx); /* C producers are told, C readers go dead */
            duk_destroy_heap(iso->ctx);
        }
        iso->fatal_jmp = prev;
    }
    /* A dead heap is abandoned, not freed: its state is unknown after the fatal error. */
    iso->ctx = NULL;
    iso->magic = 0;
    ew__heap_release_cache(iso); /* a dead heap's blocks are abandoned, but the kept ones are free */
    ew__dispatch_release_pool(iso);
    free(iso->cf_json);
    free(iso);
}
