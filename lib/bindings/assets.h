/*
 * lib/bindings/assets.h — a Worker's static assets (assets.c): what lib/core calls. The serving rules are
 * described with ew_assets_t in include/edgeworker.h.
 */
#ifndef EW_BINDINGS_ASSETS_H
#define EW_BINDINGS_ASSETS_H

#include "core/isolate.h"

typedef struct ew__assets ew__assets_t;

/* Validates and copies cfg (the directory must be a readable folder). *out is NULL when cfg is NULL. */
ew_status_t ew__assets_new(const ew_assets_t *cfg, struct event_base *base, ew__assets_t **out, ew_error_t *err);
/* Delivers the answers still queued (their callbacks run now), then frees. NULL is ignored. */
void ew__assets_free(ew__assets_t *a);

/* Assets-first serving for ew_worker_fetch: when the request is a GET/HEAD that the folder answers (a file,
 * a redirect, or the not-found page), queues the answer for `cb` (run from the loop, never inside this call)
 * and returns true; false: the Worker must take the request. `req->url` is the normalized absolute URL. */
bool ew__assets_fetch(ew__assets_t *a, const ew_request_t *req, ew_response_fn cb, void *udata);
/* The same for the blocking helper: the answer, or NULL when the Worker must take the request. */
ew_response_t *ew__assets_fetch_now(ew__assets_t *a, const ew_request_t *req);

/* Puts env[binding] (an object with fetch(input) → Promise<Response>) on the env object at env_idx and as a
 * global, when the assets have a binding name. May throw. */
void ew__assets_install(duk_context *ctx, ew__assets_t *a, duk_idx_t env_idx);

#endif
