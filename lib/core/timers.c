/*
 * timers.c — setTimeout/setInterval/clearTimeout/clearInterval and queueMicrotask on libevent.
 *
 * Each timer is a C struct with a libevent timer (EV_PERSIST for intervals) and a stash entry holding the
 * callback and its extra arguments, keyed by the timer's id. Like workerd, a timer belongs to the request
 * that created it: its CPU time is charged to that request, and when the request is over its remaining
 * timers are cancelled (ew__timers_cancel_req), so a forgotten setInterval cannot run forever.
 * A callback runs as a macrotask: one protected call, then the microtask drain (ew__isolate_settle).
 */
#include <math.h>
#include <stdlib.h>

#include "isolate.h"

#define TIMERS_KEY DUK_HIDDEN_SYMBOL("timers")
#define SET_TIMEOUT_KEY DUK_HIDDEN_SYMBOL("setTimeout")
#define MAX_DELAY_MS 2147483647.0

static void push_timer_table(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, TIMERS_KEY);
    duk_remove(ctx, -2);
}

static void timer_unlink(ew__isolate_t *iso, ew__timer_t *t)
{
    for (ew__timer_t **pp = &iso->timers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
}

/* Frees the C side of a timer; the caller removes the stash entry when the heap is usable. */
static void timer_free(ew__isolate_t *iso, ew__timer_t *t)
{
    timer_unlink(iso, t);
    event_free(t->ev);
    free(t);
}

static void forget_entry(duk_context *ctx, uint32_t id)
{
    push_timer_table(ctx);
    duk_del_prop_index(ctx, -1, id);
    duk_pop(ctx);
}

/* Safe-call body: calls the timer's callback with its saved arguments. udata: the entry id. */
static duk_ret_t fire_body(duk_context *ctx, void *udata)
{
    uint32_t id = (uint32_t) (uintptr_t) udata;
    push_timer_table(ctx);
    duk_get_prop_index(ctx, -1, id);
    duk_remove(ctx, -2);
    if (!duk_is_array(ctx, -1))
        return 0;
    duk_idx_t entry = duk_get_top_index(ctx);
    duk_size_t n = duk_get_length(ctx, entry);
    for (duk_size_t i = 0; i < n; i++)
        duk_get_prop_index(ctx, entry, (duk_uarridx_t) i);
    duk_call(ctx, (duk_idx_t) n - 1);
    return 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__timer_t *t = arg;
    ew__isolate_t *iso = t->iso;
    uint32_t id = t->id;
    ew__req_t *req = t->req_id ? ew__isolate_find_req(iso, t->req_id) : NULL;
    bool repeat = t->repeat;
    if (!repeat)
        timer_free(iso, t); /* clearTimeout from inside the callback is then a no-op, as it should be */
    ew__isolate_enter(iso, req);
    int rc = ew__isolate_pcall(iso, fire_body, (void *) (uintptr_t) id, 0, 1);
    if (rc == DUK_EXEC_ERROR && iso->abort_reason == EW_OK) {
        (void) ew__log_uncaught(iso->ctx, -1, "Uncaught ");
        duk_pop(iso->ctx);
    }
    if (rc != -1) {
        duk_pop(iso->ctx);
        if (!repeat)
            forget_entry(iso->ctx, id);
    }
    ew__isolate_settle(iso);
}

/* setTimeout(fn, delay, ...args) / setInterval(...): magic 1 = repeat. */
static duk_ret_t set_timer(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    duk_idx_t nargs = duk_get_top(ctx);
    if (!duk_is_function(ctx, 0))
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "%s: the callback must be a function",
                         duk_get_current_magic(ctx) ? "setInterval" : "setTimeout");
    if (iso == NULL || iso->rt == NULL)
        return duk_error(ctx, DUK_ERR_ERROR, "timers are not available in this heap");
    double ms = nargs > 1 ? duk_to_number(ctx, 1) : 0;
    if (isnan(ms) || ms < 0)
        ms = 0;
    if (ms > MAX_DELAY_MS)
        ms = MAX_DELAY_MS;
    bool repeat = duk_get_current_magic(ctx) != 0;

    uint32_t id = iso->next_timer_id++;
    if (iso->next_timer_id == 0)
        iso->next_timer_id = 1;

    /* Stash entry [fn, args...] first: if it throws (memory limit), no C state is left behind. */
    push_timer_table(ctx);
    duk_push_array(ctx);
    duk_dup(ctx, 0);
    duk_put_prop_index(ctx, -2, 0);
    for (duk_idx_t i = 2; i < nargs; i++) {
        duk_dup(ctx, i);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) (i - 1));
    }
    duk_put_prop_index(ctx, -2, id);
    duk_pop(ctx);

    ew__timer_t *t = calloc(1, sizeof(*t));
    if (t != NULL)
        t->ev = event_new(iso->rt->base, -1, repeat ? EV_PERSIST : 0, on_timer, t);
    if (t == NULL || t->ev == NULL) {
        free(t);
        forget_entry(ctx, id);
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory creating a timer");
    }
    t->id = id;
    t->iso = iso;
    t->repeat = repeat;
    t->req_id = iso->running != NULL ? iso->running->id : 0;

    uint64_t ims = (uint64_t) ms;
    struct timeval tv = {(time_t) (ims / 1000), (suseconds_t) ((ims % 1000) * 1000)};
    evtimer_add(t->ev, &tv);
    t->next = iso->timers;
    iso->timers = t;
    duk_push_uint(ctx, t->id);
    return 1;
}

/* clearTimeout(id) / clearInterval(id) */
static duk_ret_t clear_timer(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso == NULL || !duk_is_number(ctx, 0))
        return 0;
    uint32_t id = duk_get_uint(ctx, 0);
    for (ew__timer_t *t = iso->timers; t != NULL; t = t->next) {
        if (t->id == id) {
            timer_free(iso, t);
            forget_entry(ctx, id);
            break;
        }
    }
    return 0;
}

static void run_callback_job(duk_context *ctx, duk_idx_t nargs)
{
    duk_dup(ctx, duk_get_top(ctx) - nargs);
    duk_call(ctx, 0);
    duk_pop(ctx);
}

/* queueMicrotask(fn) */
static duk_ret_t queue_microtask(duk_context *ctx)
{
    if (!duk_is_function(ctx, 0))
        return duk_error(ctx, DUK_ERR_TYPE_ERROR,
                         "Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
    duk_dup(ctx, 0);
    ew__microtask_enqueue(ctx, run_callback_job, 1);
    return 0;
}

void ew__timers_cancel_all(ew__isolate_t *iso)
{
    while (iso->timers != NULL)
        timer_free(iso, iso->timers);
}

void ew__timers_cancel_req(ew__isolate_t *iso, uint32_t req_id)
{
    ew__timer_t *next;
    for (ew__timer_t *t = iso->timers; t != NULL; t = next) {
        next = t->next;
        if (t->req_id == req_id) {
            uint32_t id = t->id;
            timer_free(iso, t);
            if (iso->ctx != NULL && !iso->dead)
                forget_entry(iso->ctx, id);
        }
    }
}

static const ew__method_t timer_functions[] = {
    {"clearTimeout", clear_timer, 1, 1},
    {"clearInterval", clear_timer, 1, 1},
    {"queueMicrotask", queue_microtask, 1, 1},
    {NULL, NULL, 0, 0},
};

void ew__timers_init(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_push_object(ctx);
    duk_put_prop_literal(ctx, -2, TIMERS_KEY);
    duk_pop(ctx);
    duk_push_global_object(ctx);
    ew__def_methods(ctx, -1, timer_functions);
    static const char *names[2] = {"setTimeout", "setInterval"};
    for (int repeat = 0; repeat < 2; repeat++) {
        duk_push_c_function(ctx, set_timer, DUK_VARARGS);
        duk_set_magic(ctx, -1, repeat);
        duk_push_string(ctx, "name");
        duk_push_string(ctx, names[repeat]);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
        duk_push_string(ctx, "length");
        duk_push_int(ctx, 1);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
        if (repeat == 0) {
            duk_push_global_stash(ctx);
            duk_dup(ctx, -2);
            duk_put_prop_literal(ctx, -2, SET_TIMEOUT_KEY);
            duk_pop(ctx);
        }
        ew__def_hidden_value(ctx, -2, names[repeat]);
    }
    duk_pop(ctx);
}

void ew__timers_push_set_timeout(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, SET_TIMEOUT_KEY);
    duk_remove(ctx, -2);
}
