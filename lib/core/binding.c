/*
 * binding.c — host bindings: objects a C host (or the Python bindings) puts on env, whose methods call back
 * into the host and return a Promise the host settles (include/edgeworker.h, "Host bindings").
 *
 *   script: env.USERS.get('a', 1)  ──>  args as JSON  ──>  host's ew_binding_fn(call, "get", "[\"a\",1]")
 *   host:   ew_call_resolve_json(call, "{...}")  (now, or later from the loop)  ──>  promise fulfilled
 *
 * A pending call counts as I/O of its isolate (io_pending), so a request awaiting it is not taken for one
 * that can never finish. The promise waits in a stash table keyed by the call's id; the ew_call_t is the
 * host's handle and is freed when the call settles or is cancelled (its isolate went away).
 */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"

#define CALLS_KEY DUK_HIDDEN_SYMBOL("calls")
#define FN_BINDING DUK_HIDDEN_SYMBOL("bi")
#define FN_METHOD DUK_HIDDEN_SYMBOL("bm")
#define STRINGIFY_KEY DUK_HIDDEN_SYMBOL("stringify")

struct ew_call {
    ew__isolate_t *iso;
    uint32_t id;                  /* key of the promise in the stash table */
    uint32_t req_id;              /* request that made the call (0 = none) */
    const ew__host_binding_t *binding;
    struct ew_call *next;         /* in iso->calls */
};

void ew__host_binding_free(ew__host_binding_t *b)
{
    for (size_t i = 0; i < b->nmethods; i++)
        free(b->methods[i]);
    free(b->methods);
    free(b->name);
}

/* ---------------------------------------------------------------------------------------------------------
 * Arguments to JSON
 */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Pushes the standard base64 of n bytes. */
static void push_base64(duk_context *ctx, const unsigned char *p, size_t n)
{
    char *out = duk_push_fixed_buffer(ctx, (n + 2) / 3 * 4);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    duk_buffer_to_string(ctx, -1);
}

/* JSON.stringify replacer: ArrayBuffers and views become {"$bytes": base64}. */
static duk_ret_t bytes_replacer(duk_context *ctx)
{
    if (!duk_is_buffer_data(ctx, 1)) {
        duk_dup(ctx, 1);
        return 1;
    }
    duk_size_t n;
    const unsigned char *p = duk_get_buffer_data(ctx, 1, &n);
    duk_push_object(ctx);
    push_base64(ctx, p, n);
    duk_put_prop_literal(ctx, -2, "$bytes");
    return 1;
}

/* Safe-call body: [args array] -> [json string], with the intrinsic JSON.stringify kept at init. */
static duk_ret_t stringify_args(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, STRINGIFY_KEY);
    duk_remove(ctx, -2);
    duk_insert(ctx, -2);
    duk_push_c_function(ctx, bytes_replacer, 2);
    duk_call(ctx, 2);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Calls
 */

static void push_calls(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, CALLS_KEY);
    duk_remove(ctx, -2);
}

static void call_unlink(ew_call_t *c)
{
    ew__isolate_t *iso = c->iso;
    for (ew_call_t **pp = &iso->calls; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    iso->io_pending--;
}

/* env.NAME.method(...args): the method's binding index and name are hidden on the function itself. */
static duk_ret_t binding_method(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso == NULL || iso->worker == NULL)
        return duk_error(ctx, DUK_ERR_ERROR, "host bindings are not available in this heap");
    duk_idx_t nargs = duk_get_top(ctx);
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, FN_BINDING);
    duk_get_prop_literal(ctx, -2, FN_METHOD);
    size_t bi = (size_t) duk_get_uint(ctx, -2);
    const ew__host_binding_t *b = &iso->worker->bindings[bi];
    const char *method = b->methods[duk_get_uint(ctx, -1)];
    duk_pop_3(ctx);

    duk_push_array(ctx);
    for (duk_idx_t i = 0; i < nargs; i++) {
        duk_dup(ctx, i);
        duk_put_prop_index(ctx, -2, (duk_uarridx_t) i);
    }
    if (duk_safe_call(ctx, stringify_args, NULL, 1, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            return duk_throw(ctx);
        ew__promise_push_rejected(ctx); /* e.g. a cyclic argument: reject rather than throw */
        return 1;
    }
    size_t json_len;
    const char *json = ew__to_utf8(ctx, -1, &json_len);

    ew_call_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory calling %s.%s", b->name, method);
    c->iso = iso;
    c->id = iso->next_call_id++;
    c->req_id = iso->running != NULL ? iso->running->id : 0;
    c->binding = b;
    ew__promise_push_new(ctx);
    push_calls(ctx);
    duk_dup(ctx, -2);
    duk_put_prop_index(ctx, -2, c->id);
    duk_pop(ctx);
    c->next = iso->calls;
    iso->calls = c;
    iso->io_pending++;
    /* The host may settle the call before returning: the promise is already on our stack. The host's
     * own CPU time is not the Worker's. */
    ew__isolate_clock_pause(iso);
    duk_context *prev = iso->binding_ctx;
    iso->binding_ctx = ctx;
    b->call(b->udata, c, method, json, json_len);
    iso->binding_ctx = prev;
    ew__isolate_clock_resume(iso);
    return 1;
}

enum settle_kind { SETTLE_JSON, SETTLE_BYTES, SETTLE_REJECT };

struct settle_args {
    ew_call_t *call;
    enum settle_kind kind;
    const char *data;
    size_t len;
    bool bad_json;
};

static duk_ret_t json_decode(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_json_decode(ctx, -1);
    return 1;
}

/* Safe-call body: takes the call's promise out of the table and settles it. */
static duk_ret_t settle_body(duk_context *ctx, void *udata)
{
    struct settle_args *a = udata;
    push_calls(ctx);
    duk_get_prop_index(ctx, -1, a->call->id);
    duk_del_prop_index(ctx, -2, a->call->id);
    duk_remove(ctx, -2);
    duk_idx_t p = duk_get_top_index(ctx);
    bool reject = false;
    switch (a->kind) {
    case SETTLE_JSON:
        ew__push_utf8(ctx, a->data, a->len);
        if (duk_safe_call(ctx, json_decode, NULL, 1, 1) != DUK_EXEC_SUCCESS) {
            if (ew__isolate_aborting(ctx))
                return duk_throw(ctx);
            a->bad_json = true; /* the SyntaxError rejects the promise */
            reject = true;
        }
        break;
    case SETTLE_BYTES: {
        void *buf = duk_push_fixed_buffer(ctx, a->len);
        if (a->len > 0)
            memcpy(buf, a->data, a->len);
        duk_push_buffer_object(ctx, -1, 0, a->len, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
        break;
    }
    case SETTLE_REJECT:
        duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", a->data);
        reject = true;
        break;
    }
    ew__promise_settle(ctx, p, reject);
    return 0;
}

static void call_settle(ew_call_t *c, struct settle_args *a)
{
    ew__isolate_t *iso = c->iso;
    bool nested = iso->depth > 0; /* settled from inside the binding callback: we are in a JS frame */
    if (!nested)
        ew__isolate_enter(iso, c->req_id ? ew__isolate_find_req(iso, c->req_id) : NULL);
    if (nested && iso->binding_ctx != NULL) {
        /* Inside the callback the running thread may be a coroutine's (the method was called from an async
         * function): Duktape refuses a call on the main thread then, so settle on the running one. The
         * entry's fatal jump is armed. */
        (void) duk_safe_call(iso->binding_ctx, settle_body, a, 0, 0); /* fails only by allocation */
    } else {
        (void) ew__isolate_pcall(iso, settle_body, a, 0, 0);
    }
    call_unlink(c);
    free(c);
    if (!nested)
        ew__isolate_settle(iso);
}

EW_API ew_status_t ew_call_resolve_json(ew_call_t *call, const char *json, size_t len)
{
    if (call == NULL || (json == NULL && len > 0))
        return EW_ERR_INVALID_ARG;
    struct settle_args a = {call, SETTLE_JSON, json ? json : "", len, false};
    call_settle(call, &a);
    return a.bad_json ? EW_ERR_INVALID_ARG : EW_OK;
}

EW_API ew_status_t ew_call_resolve_bytes(ew_call_t *call, const void *data, size_t len)
{
    if (call == NULL || (data == NULL && len > 0))
        return EW_ERR_INVALID_ARG;
    struct settle_args a = {call, SETTLE_BYTES, data, len, false};
    call_settle(call, &a);
    return EW_OK;
}

EW_API ew_status_t ew_call_reject(ew_call_t *call, const char *message)
{
    if (call == NULL)
        return EW_ERR_INVALID_ARG;
    struct settle_args a = {call, SETTLE_REJECT, message ? message : "host binding call failed", 0, false};
    call_settle(call, &a);
    return EW_OK;
}

void ew__bindings_cancel_all(ew__isolate_t *iso)
{
    while (iso->calls != NULL) {
        ew_call_t *c = iso->calls;
        iso->calls = c->next;
        iso->io_pending--;
        if (c->binding->cancel != NULL)
            c->binding->cancel(c->binding->udata, c);
        free(c);
    }
}

/* Pushes a function calling method mi of binding bi, named `name`. */
static void push_method(duk_context *ctx, size_t bi, size_t mi, const char *name)
{
    duk_push_c_function(ctx, binding_method, DUK_VARARGS);
    duk_push_uint(ctx, (duk_uint_t) bi);
    duk_put_prop_literal(ctx, -2, FN_BINDING);
    duk_push_uint(ctx, (duk_uint_t) mi);
    duk_put_prop_literal(ctx, -2, FN_METHOD);
    duk_push_string(ctx, "name");
    duk_push_string(ctx, name);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
}

void ew__bindings_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx)
{
    env_idx = duk_require_normalize_index(ctx, env_idx);
    duk_push_global_stash(ctx);
    duk_push_bare_object(ctx);
    duk_put_prop_literal(ctx, -2, CALLS_KEY);
    duk_get_global_literal(ctx, "JSON");
    duk_get_prop_literal(ctx, -1, "stringify");
    duk_put_prop_literal(ctx, -3, STRINGIFY_KEY);
    duk_pop_2(ctx);
    for (size_t bi = 0; bi < w->nbindings; bi++) {
        const ew__host_binding_t *b = &w->bindings[bi];
        if (b->call_method >= 0)
            push_method(ctx, bi, (size_t) b->call_method, b->name); /* NAME(...) itself calls a method */
        else
            duk_push_object(ctx);
        for (size_t mi = 0; mi < b->nmethods; mi++) {
            push_method(ctx, bi, mi, b->methods[mi]);
            duk_put_prop_string(ctx, -2, b->methods[mi]);
        }
        duk_dup_top(ctx);
        duk_put_global_string(ctx, b->name); /* service-worker scripts see bindings as globals */
        duk_put_prop_string(ctx, env_idx, b->name);
    }
}
