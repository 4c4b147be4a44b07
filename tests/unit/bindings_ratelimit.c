/* Rate limiting (lib/bindings/ratelimit.c): the process-wide counters with an explicit clock, threads
 * sharing them, and the binding's validation through the C API. limit() from a Worker is tested end to end
 * in tests/e2e/test_ratelimit.py. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "bindings/ratelimit.h"

Test(bindings_ratelimit, counts_per_key_and_resets_each_window)
{
    for (int i = 0; i < 3; i++)
        cr_assert_eq(ew__ratelimit_take("7", "a", 1, 3, 10, 1000), 1);
    cr_assert_eq(ew__ratelimit_take("7", "a", 1, 3, 10, 1009), 0, "the 4th use in the window is refused");
    cr_assert_eq(ew__ratelimit_take("7", "b", 1, 3, 10, 1009), 1, "keys count apart");
    cr_assert_eq(ew__ratelimit_take("8", "a", 1, 3, 10, 1009), 1, "namespaces count apart");
    cr_assert_eq(ew__ratelimit_take("7", "a", 1, 3, 10, 1010), 1, "a new window starts at 1010");
    cr_assert_eq(ew__ratelimit_take("7", "a\0b", 3, 1, 60, 1010), 1, "keys may hold NUL bytes");
    cr_assert_eq(ew__ratelimit_take("7", "a\0c", 3, 1, 60, 1010), 1);
}

typedef struct {
    int allowed;
} worker_arg_t;

static void *hammer(void *arg)
{
    worker_arg_t *w = arg;
    for (int i = 0; i < 1000; i++)
        w->allowed += ew__ratelimit_take("99", "shared", 6, 500, 60, 6000) == 1;
    return NULL;
}

Test(bindings_ratelimit, threads_share_one_count)
{
    pthread_t t[4];
    worker_arg_t args[4] = {{0}, {0}, {0}, {0}};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += args[i].allowed;
    }
    cr_assert_eq(total, 500);
}

Test(bindings_ratelimit, configuration_is_validated)
{
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(NULL, &rt, NULL), EW_OK);
    static const char src[] = "addEventListener('fetch', function (e) {});";
    const struct {
        ew_ratelimit_t r;
        const char *why;
    } bad[] = {
        {{"RL", "1001", 10, 30}, "period must be 10 or 60"},
        {{"RL", "1001", 0, 60}, "limit must be at least 1"},
        {{"RL", "abc", 10, 60}, "namespace_id must be a positive integer"},
        {{"", "1", 10, 60}, "the binding name is empty"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ew_worker_config_t cfg = {.source = src, .source_len = sizeof(src) - 1, .ratelimits = &bad[i].r,
                                  .nratelimits = 1};
        ew_worker_t *w;
        ew_error_t err;
        cr_assert_eq(ew_worker_load(rt, &cfg, &w, &err), EW_ERR_INVALID_ARG);
        cr_assert(strstr(err.message, bad[i].why) != NULL, "%s", err.message);
    }
    ew_runtime_destroy(rt);
}
