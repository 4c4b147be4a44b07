/*
 * microtask.c — the microtask queue: promise jobs and queueMicrotask callbacks, in FIFO order, drained
 * after every macrotask (a request dispatch, a timer) by ew__isolate_settle().
 *
 * Jobs live in one stash array, EW__MT_SLOTS slots per job: [job fn pointer, request id, arg0, arg1, arg2].
 * head/tail are C integers (in the isolate struct, or in a fixed buffer in the stash for the bare heaps of
 * unit tests). Each job runs in its own protected call, charged to the request that queued it, so a job
 * that throws or times out affects only that request.
 */
#include "isolate.h"

#define EW__MT_SLOTS 5
#define MTQ_KEY DUK_HIDDEN_SYMBOL("mtq")
#define MTQ_STATE_KEY DUK_HIDDEN_SYMBOL("mtqs")

static ew__mtq_t *queue_state(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL)
        return &iso->mtq;
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, MTQ_STATE_KEY);
    ew__mtq_t *q = duk_get_buffer_data(ctx, -1, NULL);
    duk_pop_2(ctx);
    return q;
}

/* Pushes the job array. */
static void push_queue(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, MTQ_KEY);
    duk_remove(ctx, -2);
}

void ew__microtask_init(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_push_bare_array(ctx); /* no Array.prototype: a setter on it must not see job values */
    duk_put_prop_literal(ctx, -2, MTQ_KEY);
    if (ew__isolate_of(ctx) == NULL) {
        ew__mtq_t *q = duk_push_fixed_buffer(ctx, sizeof(ew__mtq_t));
        q->head = q->tail = 0;
        duk_put_prop_literal(ctx, -2, MTQ_STATE_KEY);
    }
    duk_pop(ctx);
}

void ew__microtask_enqueue(duk_context *ctx, ew__job_fn fn, duk_idx_t nargs)
{
    ew__mtq_t *q = queue_state(ctx);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    duk_idx_t base = duk_get_top(ctx) - nargs;
    push_queue(ctx);
    uint32_t t = q->tail;
    duk_push_pointer(ctx, (void *) fn);
    duk_put_prop_index(ctx, -2, t);
    duk_push_uint(ctx, (iso != NULL && iso->running != NULL) ? iso->running->id : 0);
    duk_put_prop_index(ctx, -2, t + 1);
    for (duk_idx_t i = 0; i < 3; i++) {
        if (i < nargs)
            duk_dup(ctx, base + i);
        else
            duk_push_undefined(ctx);
        duk_put_prop_index(ctx, -2, t + 2 + (uint32_t) i);
    }
    q->tail = t + EW__MT_SLOTS;
    duk_pop(ctx);
    duk_pop_n(ctx, nargs);
}

size_t ew__microtask_pending(duk_context *ctx)
{
    ew__mtq_t *q = queue_state(ctx);
    return (q->tail - q->head) / EW__MT_SLOTS;
}

/* Safe-call body: [arg0 arg1 arg2] with the job function as udata. */
static duk_ret_t run_job(duk_context *ctx, void *udata)
{
    ew__job_fn fn = (ew__job_fn) udata;
    fn(ctx, 3);
    return 0;
}

bool ew__microtask_drain(duk_context *ctx)
{
    ew__mtq_t *q = queue_state(ctx);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    bool completed = true;
    push_queue(ctx);
    duk_idx_t qidx = duk_get_top_index(ctx);
    while (q->head < q->tail) {
        if (iso != NULL && iso->abort_reason != EW_OK) {
            completed = false;
            break;
        }
        uint32_t h = q->head;
        duk_get_prop_index(ctx, qidx, h);
        ew__job_fn fn = (ew__job_fn) duk_get_pointer(ctx, -1);
        duk_get_prop_index(ctx, qidx, h + 1);
        uint32_t req_id = duk_get_uint(ctx, -1);
        duk_pop_2(ctx);
        for (uint32_t i = 0; i < 3; i++)
            duk_get_prop_index(ctx, qidx, h + 2 + i);
        /* Release the slots now so the values can be collected as soon as the job is done with them. */
        for (uint32_t i = 0; i < EW__MT_SLOTS; i++) {
            duk_push_undefined(ctx);
            duk_put_prop_index(ctx, qidx, h + i);
        }
        q->head = h + EW__MT_SLOTS;
        if (iso != NULL)
            ew__isolate_charge(iso, req_id ? ew__isolate_find_req(iso, req_id) : NULL);
        if (duk_safe_call(ctx, run_job, (void *) fn, 3, 1) != DUK_EXEC_SUCCESS &&
            (iso == NULL || iso->abort_reason == EW_OK)) {
            ew__push_error_text(ctx, -1);
            duk_size_t n;
            const char *text = duk_get_lstring(ctx, -1, &n);
            ew__isolate_log(ctx, EW_LOG_ERROR, text, n);
            duk_pop(ctx);
        }
        duk_pop(ctx);
        if (q->head == q->tail) {
            q->head = q->tail = 0;
            duk_set_length(ctx, qidx, 0);
        }
    }
    duk_pop(ctx);
    if (completed)
        ew__promise_report_unhandled(ctx);
    return completed;
}
