/* The C side of events (lib/web/events.c, lazy.c): a C-made object becomes an EventTarget, C dispatches
 * trusted events to listeners and on<type> handlers, C observes and aborts AbortSignals; the lazy globals
 * are what their files export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "web/lazy.h"

static duk_context *ctx;

static void setup(void)
{
    ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__builtins_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
    ew__web_init(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

TestSuite(web_events, .init = setup, .fini = teardown);

static const char *eval_str(const char *js)
{
    static char out[1024];
    if (duk_peval_string(ctx, js) != DUK_EXEC_SUCCESS)
        snprintf(out, sizeof(out), "THROWN %s", duk_safe_to_string(ctx, -1));
    else
        snprintf(out, sizeof(out), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return out;
}

Test(web_events, lazy_globals_match_their_files)
{
    cr_assert(ew__lazy_groups_match(ctx));
}

Test(web_events, globals_start_as_accessors_and_settle_on_first_use)
{
    cr_expect_str_eq(eval_str("typeof Object.getOwnPropertyDescriptor(this, 'Event').get"), "function");
    cr_expect_str_eq(eval_str("typeof new Event('x')"), "object");
    cr_expect_str_eq(eval_str("var d = Object.getOwnPropertyDescriptor(this, 'EventTarget');"
                              "[typeof d.value, d.writable, d.enumerable, d.configurable].join()"),
                     "function,true,false,true");
    /* Each file loads on its own: AbortSignal (abort.js) is still an accessor. */
    cr_expect_str_eq(eval_str("typeof Object.getOwnPropertyDescriptor(this, 'AbortSignal').get"), "function");
}

Test(web_events, assigning_a_lazy_global_keeps_the_script_value)
{
    cr_expect_str_eq(eval_str("EventTarget = 5; EventTarget"), "5");
    /* C code still reaches the real class. */
    ew__events_push_proto(ctx, "EventTarget");
    cr_expect(duk_is_object(ctx, -1));
    duk_get_prop_string(ctx, -1, "addEventListener");
    cr_expect(duk_is_function(ctx, -1));
    duk_pop_2(ctx);
}

static duk_ret_t make_target(duk_context *c)
{
    /* What a C class does: an object whose prototype inherits EventTarget.prototype, with target state. */
    duk_push_object(c);
    duk_push_object(c);
    ew__events_push_proto(c, "EventTarget");
    duk_set_prototype(c, -2);
    ew__events_def_handler(c, -1, "message");
    duk_set_prototype(c, -2);
    ew__events_init_target(c, -1);
    return 1;
}

Test(web_events, c_target_dispatches_to_handler_then_listeners)
{
    duk_push_global_object(ctx);
    duk_push_c_function(ctx, make_target, 0);
    duk_put_prop_string(ctx, -2, "makeTarget");
    duk_pop(ctx);
    cr_assert_str_eq(eval_str("var t = makeTarget(), log = [];"
                              "t.onmessage = function (e) { log.push('on:' + e.data + ':' + e.isTrusted); };"
                              "t.addEventListener('message', function (e) { log.push('l:' + (this === t)); });"
                              "t instanceof EventTarget"),
                     "true");
    duk_get_global_string(ctx, "t");
    ew__events_push_event(ctx, "message", true);
    duk_push_string(ctx, "hi");
    duk_put_prop_string(ctx, -2, "data");
    cr_expect(ew__events_dispatch(ctx, -2, -1));
    duk_pop_2(ctx);
    cr_expect_str_eq(eval_str("log.join()"), "on:hi:true,l:true");
    cr_expect_str_eq(eval_str("t.onmessage = 5; String(t.onmessage)"), "null");
}

static duk_ret_t on_abort(duk_context *c)
{
    duk_push_global_object(c);
    duk_get_prop_string(c, 0, "name");
    duk_put_prop_string(c, -2, "seenByC");
    return 0;
}

Test(web_events, c_follows_and_aborts_a_signal)
{
    cr_assert_str_eq(eval_str("var ac = new AbortController(), order = [];"
                              "ac.signal.addEventListener('abort', function () { order.push('event:' + seenByC); });"
                              "'ok'"),
                     "ok");
    duk_get_global_string(ctx, "ac");
    duk_get_prop_string(ctx, -1, "signal");
    cr_assert(ew__abort_signal_is(ctx, -1));
    cr_expect_not(ew__abort_signal_is(ctx, -2));
    cr_expect_not(ew__abort_signal_aborted(ctx, -1));
    duk_push_c_function(ctx, on_abort, 1);
    ew__abort_signal_follow(ctx, -2);
    duk_pop_2(ctx);
    cr_expect_str_eq(eval_str("ac.abort(); order.join()"), "event:AbortError");
    duk_get_global_string(ctx, "ac");
    duk_get_prop_string(ctx, -1, "signal");
    cr_expect(ew__abort_signal_aborted(ctx, -1));
    ew__abort_signal_push_reason(ctx, -1);
    cr_expect(duk_is_error(ctx, -1));
    duk_pop_3(ctx);
}

Test(web_events, unfollow_forgets_the_function)
{
    ew__abort_signal_push_new(ctx);
    duk_push_c_function(ctx, on_abort, 1);
    duk_dup_top(ctx);
    ew__abort_signal_follow(ctx, -3);
    ew__abort_signal_unfollow(ctx, -2);
    duk_push_string(ctx, "why");
    ew__abort_signal_abort(ctx, -2);
    ew__abort_signal_push_reason(ctx, -1);
    cr_expect_str_eq(duk_get_string(ctx, -1), "why");
    duk_pop_2(ctx);
    cr_expect_str_eq(eval_str("typeof seenByC"), "undefined");
}

Test(web_events, any_forgets_its_followers_once_aborted)
{
    cr_expect_str_eq(eval_str("var keep = new AbortController(), other = new AbortController();"
                              "for (var i = 0; i < 50; i++) AbortSignal.any([keep.signal, other.signal]);"
                              "var s = AbortSignal.any([keep.signal, other.signal]);"
                              "other.abort('o');"
                              "[s.aborted, s.reason].join()"),
                     "true,o");
    /* keep.signal's state holds no followers of the aborted results any more. */
    duk_get_global_string(ctx, "keep");
    duk_get_prop_string(ctx, -1, "signal");
    duk_get_prop_string(ctx, -1, EW__LAZY_STATE_KEY);
    duk_get_prop_string(ctx, -1, "algos");
    cr_expect_eq(duk_get_length(ctx, -1), 0);
    duk_pop_n(ctx, 4);
}

Test(web_events, trusted_message_events_for_other_runtime_code)
{
    ew__lazy_push(ctx, EW__LAZY_MESSAGE, "_newMessageEvent");
    duk_push_string(ctx, "message");
    duk_push_string(ctx, "payload");
    duk_call(ctx, 2);
    duk_put_global_string(ctx, "me");
    cr_expect_str_eq(eval_str("[me instanceof MessageEvent, me instanceof Event, me.isTrusted, me.type, me.data].join()"),
                     "true,true,true,message,payload");
}
