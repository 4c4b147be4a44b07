/* Coroutines (lib/core/coro.c, lib/js/coro.js): smoke test while bringing the runtime up. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "isolate.h"

static duk_context *ctx;
static char result[16384];

static duk_ret_t init_runtime(duk_context *c, void *udata)
{
    (void) udata;
    ew__microtask_init(c);
    ew__builtins_init(c);
    ew__promise_init(c);
    ew__collections_init(c);
    ew__coro_init(c);
    duk_push_global_object(c);
    duk_push_object(c);
    ew__coro_push_helpers(c);
    duk_put_prop_literal(c, -2, "$ew");
    duk_pop(c);
    return 0;
}

static void setup(void)
{
    ctx = duk_create_heap_default();
    cr_assert_not_null(ctx);
    if (duk_safe_call(ctx, init_runtime, NULL, 0, 1) != DUK_EXEC_SUCCESS)
        cr_assert_fail("init: %s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    cr_assert_eq(duk_peval_string(ctx, "var log = []; function L(x) { log.push(String(x)); }"), 0);
    duk_pop(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

static const char *run(const char *src)
{
    if (duk_peval_string(ctx, src) != 0)
        cr_assert_fail("script threw: %s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    ew__microtask_drain(ctx);
    duk_peval_string(ctx, "log.join(' ')");
    snprintf(result, sizeof(result), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return result;
}

TestSuite(core_coro, .init = setup, .fini = teardown);

Test(core_coro, smoke)
{
    cr_assert_str_eq(run("function f(a) { return $ew.async(f$, this, arguments); }"
                         "function f$(a) { L('f' + a); var v = $ew.await(a + 1); L('v' + v); return v * 2; }"
                         "f(1).then(function (r) { L('r' + r); }); L('sync');"),
                     "f1 sync v2 r4");
}
