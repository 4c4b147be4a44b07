/*
 * resources.c — the storage resources of a worker (ew_worker_config_t.resources): validating and copying
 * them at load, opening each store once per runtime and id (shared by all the runtime's workers), putting
 * the binding objects on env, and the promise plumbing every storage binding uses: a write's promise waits
 * in a per-isolate table until its group commit ran (lib/store/store.h), and is settled from the loop.
 *
 * Called by lib/core (worker.c at load and start, isolate.c when an isolate goes away, runtime.c at
 * destroy) and by kv.c. The layering picture is in internal.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "queue.h"

#define PENDING_KEY DUK_HIDDEN_SYMBOL("resPending")
#define RESULTS_KEY DUK_HIDDEN_SYMBOL("resResults") /* id -> the value a pending promise resolves with */

/* ---------------------------------------------------------------------------------------------------------
 * Config
 */

static const char *kind_name(ew_resource_kind_t kind)
{
    switch ((int) kind) {
    case EW_RESOURCE_KV:
        return "kv";
    case EW_RESOURCE_D1:
        return "d1";
    case EW_RESOURCE_R2:
        return "r2";
    case EW__RESOURCE_CACHE:
        return "cache";
    case EW__RESOURCE_QUEUE:
        return "queues";
    }
    return NULL;
}

ew_status_t ew__resource_copy(ew__resource_t *d, const ew_resource_t *r, size_t index, ew_error_t *err)
{
    if (kind_name(r->kind) == NULL || (int) r->kind == EW__RESOURCE_CACHE || (int) r->kind == EW__RESOURCE_QUEUE)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "resources[%zu]: unknown kind %d", index, (int) r->kind);
    if (r->binding == NULL || r->binding[0] == '\0')
        return ew__error_set(err, EW_ERR_INVALID_ARG, "resources[%zu]: the binding name is empty", index);
    if (!ew__store_id_valid(r->id))
        return ew__error_set(err, EW_ERR_INVALID_ARG,
                             "resources[%zu] (%s): invalid id \"%.200s\": use 1-%d characters from A-Z a-z 0-9 . _ -"
                             " (not \".\" or \"..\")",
                             index, r->binding, r->id ? r->id : "(null)", EW__STORE_ID_MAX);
    d->kind = r->kind;
    d->binding = strdup(r->binding);
    d->id = strdup(r->id);
    if (d->binding == NULL || d->id == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    return EW_OK;
}

void ew__resource_dispose(ew__resource_t *r)
{
    free(r->binding);
    free(r->id);
    r->binding = r->id = NULL;
    r->store = NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * Stores, once per runtime and id
 */

static double wall_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static ew__res_cache_t *cache_of(ew_runtime_t *rt)
{
    if (rt->res == NULL && (rt->res = calloc(1, sizeof(*rt->res))) != NULL) {
        rt->res->now = wall_clock;
        rt->res->next_op_id = 1;
    }
    return rt->res;
}

int64_t ew__res_now(const ew__res_cache_t *c)
{
    return (int64_t) c->now();
}

void ew__resources_set_clock(ew_runtime_t *rt, ew__clock_fn now)
{
    ew__res_cache_t *c = cache_of(rt);
    if (c != NULL)
        c->now = now != NULL ? now : wall_clock;
}

ew_status_t ew__res_store_open(ew_runtime_t *rt, ew_resource_kind_t kind, const char *id, ew__res_store_t **out,
                               ew_error_t *err)
{
    ew__res_cache_t *c = cache_of(rt);
    if (c == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", id);
    for (size_t i = 0; i < c->nstores; i++) {
        if (c->stores[i]->kind == kind && strcmp(c->stores[i]->id, id) == 0) {
            *out = c->stores[i];
            return EW_OK;
        }
    }
    ew__res_store_t **grown = realloc(c->stores, (c->nstores + 1) * sizeof(*grown));
    if (grown == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", id);
    c->stores = grown;
    ew__res_store_t *rs = calloc(1, sizeof(*rs));
    if (rs == NULL || (rs->id = strdup(id)) == NULL) {
        free(rs);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", id);
    }
    rs->kind = kind;
    rs->cache = c;
    /* A D1 database's tables are the user's; KV, R2 and the Cache API have theirs. */
    const char *schema = kind == EW_RESOURCE_KV             ? ew__kv_schema
                         : kind == EW_RESOURCE_R2           ? ew__r2_schema
                         : (int) kind == EW__RESOURCE_CACHE ? ew__cache_schema
                         : (int) kind == EW__RESOURCE_QUEUE ? ew__queue_schema
                                                            : NULL;
    ew_status_t st = ew__store_open(rt->base, rt->state_dir, kind_name(kind), id, rt, schema, &rs->store, err);
    if (st == EW_OK && kind == EW_RESOURCE_D1 && (st = ew__d1_attach(rs, err)) != EW_OK)
        ew__store_close(rs->store);
    if (st == EW_OK && kind == EW_RESOURCE_R2 && (st = ew__r2_open(rs, rt->state_dir, err)) != EW_OK)
        ew__store_close(rs->store);
    if (st == EW_OK && (int) kind == EW__RESOURCE_CACHE)
        ew__cache_setup(rs);
    if (st != EW_OK) {
        free(rs->id);
        free(rs);
        return st;
    }
    c->stores[c->nstores++] = rs;
    *out = rs;
    return EW_OK;
}

ew_status_t ew__resources_open(ew_runtime_t *rt, ew_worker_t *w, ew_error_t *err)
{
    for (size_t i = 0; i < w->nresources; i++) {
        ew__resource_t *r = &w->resources[i];
        ew_status_t st = ew__res_store_open(rt, r->kind, r->id, &r->store, err);
        if (st != EW_OK)
            return st;
    }
    return EW_OK;
}

void ew__resources_shutdown(ew_runtime_t *rt)
{
    ew__res_cache_t *c = rt->res;
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nstores; i++) {
        if (c->stores[i]->ext_free != NULL) /* first: it may hold statements of the connection */
            c->stores[i]->ext_free(c->stores[i]->ext);
        ew__store_close(c->stores[i]->store); /* commits what is queued; the ops' isolates are gone */
        ew__r2_close(c->stores[i]);
        free(c->stores[i]->id);
        free(c->stores[i]);
    }
    free(c->stores);
    free(c);
    rt->res = NULL;
}

void ew__resources_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx)
{
    env_idx = duk_require_normalize_index(ctx, env_idx);
    if (w->nresources == 0)
        return;
    ew__res_tables_init(ctx);
    for (size_t i = 0; i < w->nresources; i++) {
        const ew__resource_t *r = &w->resources[i];
        if (r->kind == EW_RESOURCE_D1)
            ew__d1_push(ctx, r->store);
        else if (r->kind == EW_RESOURCE_R2)
            ew__r2_push(ctx, r->store);
        else
            ew__kv_push(ctx, r->store); /* the kinds ew__resource_copy lets through */
        duk_dup_top(ctx);
        duk_put_global_string(ctx, r->binding); /* service-worker scripts see bindings as globals */
        duk_put_prop_string(ctx, env_idx, r->binding);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Promises of ops in flight
 */

void ew__res_tables_init(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_has_prop_literal(ctx, -1, PENDING_KEY)) {
        duk_push_bare_object(ctx);
        duk_put_prop_literal(ctx, -2, PENDING_KEY);
        duk_push_bare_object(ctx);
        duk_put_prop_literal(ctx, -2, RESULTS_KEY);
    }
    duk_pop(ctx);
}

static void push_pending_table(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, PENDING_KEY);
    duk_remove(ctx, -2);
}

uint32_t ew__res_push_pending(duk_context *ctx, ew__res_cache_t *c)
{
    uint32_t id = c->next_op_id++;
    if (c->next_op_id == 0)
        c->next_op_id = 1;
    ew__promise_push_new(ctx);
    push_pending_table(ctx);
    duk_dup(ctx, -2);
    duk_put_prop_index(ctx, -2, id);
    duk_pop(ctx);
    return id;
}

void ew__res_keep_result(duk_context *ctx, uint32_t id)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, RESULTS_KEY);
    duk_dup(ctx, -3);
    duk_put_prop_index(ctx, -2, id);
    duk_pop_3(ctx);
}

void ew__res_op_start(duk_context *ctx, ew__res_op_t *op, uint32_t id)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    ew__res_cache_t *c = op->rs->cache;
    op->iso = iso;
    op->id = id;
    op->req_id = iso->running != NULL ? iso->running->id : 0;
    op->prev = NULL;
    op->next = c->inflight;
    if (c->inflight != NULL)
        c->inflight->prev = op;
    c->inflight = op;
    iso->io_pending++;
}

static void op_unlink(ew__res_op_t *op)
{
    ew__res_cache_t *c = op->rs->cache;
    if (op->prev != NULL)
        op->prev->next = op->next;
    else
        c->inflight = op->next;
    if (op->next != NULL)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
    op->iso = NULL;
}

struct settle_args {
    ew__res_op_t *op;
    uint32_t id;
    ew_status_t status;
    const char *message;
};

/* Safe-call body: takes the promise out of the table and settles it. */
static duk_ret_t settle_body(duk_context *ctx, void *udata)
{
    struct settle_args *a = udata;
    push_pending_table(ctx);
    duk_get_prop_index(ctx, -1, a->id);
    duk_del_prop_index(ctx, -2, a->id);
    duk_remove(ctx, -2);
    duk_idx_t p = duk_get_top_index(ctx);
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, RESULTS_KEY);
    duk_get_prop_index(ctx, -1, a->id); /* undefined when the op kept no result */
    duk_del_prop_index(ctx, -2, a->id);
    duk_replace(ctx, -3);
    duk_pop(ctx);
    if (a->status == EW_OK && a->op->push_result != NULL) { /* a result known only now (R2) */
        duk_pop(ctx);
        a->op->push_result(ctx, a->op);
    } else if (a->status != EW_OK) {
        duk_pop(ctx);
        duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", a->message);
    }
    ew__promise_settle(ctx, p, a->status != EW_OK);
    return 0;
}

void ew__res_op_settle(ew__res_op_t *op, ew_status_t status, const char *message)
{
    ew__isolate_t *iso = op->iso;
    if (iso == NULL)
        return;
    op_unlink(op);
    iso->io_pending--;
    if (iso->dead || iso->ctx == NULL)
        return;
    struct settle_args a = {op, op->id, status, message};
    bool nested = iso->depth > 0;
    if (!nested)
        ew__isolate_enter(iso, op->req_id ? ew__isolate_find_req(iso, op->req_id) : NULL);
    (void) ew__isolate_pcall(iso, settle_body, &a, 0, 0);
    if (!nested)
        ew__isolate_settle(iso);
}

void ew__resources_cancel(ew__isolate_t *iso)
{
    ew__res_cache_t *c = iso->rt != NULL ? iso->rt->res : NULL;
    if (c == NULL)
        return;
    for (ew__res_op_t *op = c->inflight, *next; op != NULL; op = next) {
        next = op->next;
        if (op->iso == iso) {
            op_unlink(op);
            iso->io_pending--;
        }
    }
}

duk_ret_t ew__res_call(duk_context *ctx, duk_safe_call_function body, duk_idx_t nargs)
{
    duk_set_top(ctx, nargs);
    duk_push_this(ctx);
    duk_insert(ctx, 0);
    if (duk_safe_call(ctx, body, NULL, nargs + 1, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            return duk_throw(ctx);
        ew__promise_push_rejected(ctx);
    }
    return 1;
}
