/*
 * globals.c — the small Workers globals that are not classes: performance (now, timeOrigin), navigator
 * (userAgent "Cloudflare-Workers", hardwareConcurrency 1, as workerd), reportError. Installed by
 * ew__web_init(); scheduler, MessageChannel and the event classes are lazy (lazy.c, lib/js/events.js).
 *
 * Time: workerd's performance.timeOrigin is 0, so performance.now() is Date.now() with sub-millisecond
 * precision. Cloudflare's production runtime advances both clocks only across I/O (a Spectre mitigation);
 * local development (wrangler dev, workerd) lets them advance continuously, and so do we: ew-server is a
 * development and self-hosting server, where measuring CPU-bound code is useful and the Spectre threat
 * model of a multi-tenant edge does not apply.
 */
#include <time.h>

#include "lazy.h"

double ew__perf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

void ew__report_error(duk_context *ctx, duk_idx_t idx)
{
    (void) ew__log_uncaught(ctx, idx, "Uncaught ");
    duk_pop(ctx);
}

static duk_ret_t perf_now(duk_context *ctx)
{
    duk_push_number(ctx, ew__perf_now());
    return 1;
}

static duk_ret_t perf_time_origin(duk_context *ctx)
{
    duk_push_int(ctx, 0);
    return 1;
}

static duk_ret_t perf_to_json(duk_context *ctx)
{
    duk_push_object(ctx);
    duk_push_int(ctx, 0);
    duk_put_prop_literal(ctx, -2, "timeOrigin");
    return 1;
}

static duk_ret_t nav_user_agent(duk_context *ctx)
{
    duk_push_literal(ctx, "Cloudflare-Workers");
    return 1;
}

static duk_ret_t nav_concurrency(duk_context *ctx)
{
    duk_push_int(ctx, 1);
    return 1;
}

/* reportError(error): the global 'error' listeners (prelude.js keeps them) get a cancelable ErrorEvent-like
 * Event (error, message); unless one cancels it, the error is logged as uncaught. */
static duk_ret_t report_error(duk_context *ctx)
{
    if (duk_get_top(ctx) < 1)
        return duk_type_error(ctx, "Failed to execute 'reportError': 1 argument required, but only 0 present.");
    duk_set_top(ctx, 1);
    ew__push_error_listeners(ctx);
    duk_idx_t list = duk_get_top_index(ctx);
    duk_size_t n = duk_is_array(ctx, list) ? duk_get_length(ctx, list) : 0;
    bool canceled = false;
    if (n > 0) {
        ew__events_push_event(ctx, "error", true);
        duk_idx_t ev = duk_get_top_index(ctx);
        duk_dup(ctx, 0);
        duk_put_prop_literal(ctx, ev, "error");
        if (duk_is_object(ctx, 0)) {
            duk_get_prop_literal(ctx, 0, "message");
            duk_put_prop_literal(ctx, ev, "message");
        }
        for (duk_size_t i = 0; i < n; i++) {
            duk_get_prop_index(ctx, list, (duk_uarridx_t) i);
            if (duk_is_function(ctx, -1)) {
                duk_push_global_object(ctx);
                duk_dup(ctx, ev);
                duk_call_method(ctx, 1);
            } else {
                duk_push_literal(ctx, "handleEvent");
                duk_dup(ctx, ev);
                duk_call_prop(ctx, -3, 1);
                duk_remove(ctx, -2);
            }
            duk_pop(ctx);
        }
        duk_get_prop_literal(ctx, ev, "defaultPrevented");
        canceled = duk_to_boolean(ctx, -1);
    }
    if (!canceled)
        ew__report_error(ctx, 0);
    return 0;
}

void ew__globals_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    duk_idx_t perf = duk_push_object(ctx);
    static const ew__method_t perf_methods[] = {
        {"now", perf_now, 0, 0},
        {"toJSON", perf_to_json, 0, 0},
        {NULL, NULL, 0, 0},
    };
    ew__def_methods(ctx, perf, perf_methods);
    ew__def_getter(ctx, perf, "timeOrigin", perf_time_origin, NULL);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.toStringTag"));
    duk_push_literal(ctx, "Performance");
    duk_def_prop(ctx, perf, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE);
    ew__def_hidden_value(ctx, global_idx, "performance");

    duk_idx_t nav = duk_push_object(ctx);
    ew__def_getter(ctx, nav, "userAgent", nav_user_agent, NULL);
    ew__def_getter(ctx, nav, "hardwareConcurrency", nav_concurrency, NULL);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.toStringTag"));
    duk_push_literal(ctx, "Navigator");
    duk_def_prop(ctx, nav, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE);
    ew__def_hidden_value(ctx, global_idx, "navigator");

    static const ew__method_t global_functions[] = {
        {"reportError", report_error, DUK_VARARGS, 1},
        {NULL, NULL, 0, 0},
    };
    ew__def_methods(ctx, global_idx, global_functions);
}
