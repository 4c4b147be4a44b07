/*
 * lib/bindings/ratelimit.h — rate limiting bindings (ratelimit.c): what lib/core calls. The semantics are
 * described with ew_ratelimit_t in include/edgeworker.h.
 */
#ifndef EW_BINDINGS_RATELIMIT_H
#define EW_BINDINGS_RATELIMIT_H

#include "core/isolate.h"

typedef struct ew__ratelimits ew__ratelimits_t;

/* Validates and copies the worker's rate limiting bindings; *out stays NULL when n is 0. */
ew_status_t ew__ratelimits_new(const ew_ratelimit_t *cfg, size_t n, ew__ratelimits_t **out, ew_error_t *err);
void ew__ratelimits_free(ew__ratelimits_t *r);
/* Puts env[binding] (an object with limit(options) → Promise<{success}>) on the env object at env_idx and
 * as a global, for each binding. May throw. */
void ew__ratelimits_install(duk_context *ctx, const ew__ratelimits_t *r, duk_idx_t env_idx);

/* The counter itself (process-wide, thread-safe): counts one use of `key` in namespace `ns` at time `now`
 * (seconds since the epoch). Returns 1 when it stays within `limit` for the window of `period` seconds, 0
 * when over it, -1 when memory ran out (limit() then rejects: nothing is decided silently). */
int ew__ratelimit_take(const char *ns, const char *key, size_t key_len, uint32_t limit, uint32_t period,
                        int64_t now);

#endif
