/*
 * service.c — service bindings: env.NAME is a Fetcher for another worker of the same runtime (ew_service_t,
 * wrangler's `services`). env.NAME.fetch() delivers a fetch event to that worker and env.NAME.method(...)
 * calls a method of its entrypoint (RPC). The calls travel like Durable Object calls (durable.c,
 * do_registry.c): a CALL message through the runtime's own inbox, never re-entering a running heap, and a
 * REPLY that settles the caller's promise from the loop. The JavaScript halves: the caller's (the Fetcher,
 * request and response encoding, shared with Durable Object stubs) is lib/js/service.js, the target's side
 * of RPC is in lib/js/durable.js (next to WorkerEntrypoint). A 101's WebSocket is relayed through durable.c's
 * tunnels (ew__do_reply_with_websocket).
 *
 *   caller isolate                            this runtime's inbox                   target worker
 *   env.AUTH.fetch(req) ── serviceCall ── post(CALL SVC_FETCH) ──> handle_fetch ──> ew_worker_fetch (event)
 *        promise <──── settle ── handle_reply <── post(REPLY) <── on_fetch_done ──┘
 *   env.AUTH.check(x)  ── serviceCall ── post(CALL SVC_RPC) ───> handle_rpc ──> ew__dispatch_call:
 *                                                                                 api.serviceRpc(entry, args)
 *
 * The target is found by name when the call arrives, so workers may be loaded in any order. A fetch is a real
 * fetch event of the target (assets, ctx.waitUntil, its limits); a request body crosses whole, a response
 * body that is a ReadableStream streams (see "Streamed bodies" below). Every call counts as a subrequest of
 * the caller, and the chain depth (events nested through service bindings) is capped at 32.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dispatch.h"
#include "internal.h"
#include "web/stream.h"

#define MAX_CHAIN_DEPTH 32
#define DEFAULT_SUBREQUESTS 50

typedef struct ew__svc {
    char *binding;                /* owned: the env property */
    char *service;                /* owned: the target worker's name */
    char *entrypoint;             /* owned, or NULL: the default export */
} ew__svc_t;

static const char DEPTH_MESSAGE[] =
    "Subrequest depth limit exceeded. This request recursed through Workers too many times. This can happen "
    "e.g. if you have a Worker or Durable Object that calls other Workers or objects recursively.";

/* ---------------------------------------------------------------------------------------------------------
 * Configuration
 */

ew_status_t ew__service_copy(ew_worker_t *w, const ew_worker_config_t *cfg, ew_error_t *err)
{
    if (cfg->nservices == 0)
        return EW_OK;
    if (cfg->services == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "services is NULL with nservices %zu", cfg->nservices);
    if ((w->services = calloc(cfg->nservices, sizeof(*w->services))) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    for (size_t i = 0; i < cfg->nservices; i++) {
        const ew_service_t *s = &cfg->services[i];
        if (s->binding == NULL || s->binding[0] == '\0')
            return ew__error_set(err, EW_ERR_INVALID_ARG, "services[%zu]: the binding name is empty", i);
        if (s->service == NULL || s->service[0] == '\0')
            return ew__error_set(err, EW_ERR_INVALID_ARG, "services[%zu] (%s): the service (worker name) is empty",
                                 i, s->binding);
        if (s->entrypoint != NULL && !ew__is_export_name(s->entrypoint))
            return ew__error_set(err, EW_ERR_INVALID_ARG,
                                 "services[%zu] (%s): entrypoint \"%.100s\" is not a JavaScript identifier", i,
                                 s->binding, s->entrypoint);
        ew__svc_t *d = &w->services[i];
        w->nservices = i + 1;
        d->binding = strdup(s->binding);
        d->service = strdup(s->service);
        d->entrypoint = s->entrypoint != NULL ? strdup(s->entrypoint) : NULL;
        if (d->binding == NULL || d->service == NULL || (s->entrypoint != NULL && d->entrypoint == NULL))
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    }
    return EW_OK;
}

void ew__service_dispose(ew_worker_t *w)
{
    for (size_t i = 0; i < w->nservices; i++) {
        free(w->services[i].binding);
        free(w->services[i].service);
        free(w->services[i].entrypoint);
    }
    free(w->services);
    w->services = NULL;
    w->nservices = 0;
}

ew_status_t ew__service_open(ew_runtime_t *rt, ew_worker_t *w, ew_error_t *err)
{
    if (w->nservices > 0 && ew__durable_rt(rt) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory setting up service bindings");
    return EW_OK;
}

void ew__service_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx)
{
    env_idx = duk_require_normalize_index(ctx, env_idx);
    if (w->nservices == 0)
        return;
    ew__service_push_api(ctx); /* service.js only: durable.js loads when the Worker receives a call */
    for (size_t i = 0; i < w->nservices; i++) {
        duk_push_literal(ctx, "makeService");
        duk_push_uint(ctx, (duk_uint_t) i);
        duk_call_prop(ctx, -3, 1);
        duk_dup_top(ctx);
        duk_put_global_string(ctx, w->services[i].binding); /* service-worker scripts see bindings as globals */
        duk_put_prop_string(ctx, env_idx, w->services[i].binding);
    }
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * The caller's side
 */

/* serviceCall(index, kind, meta, body|null) -> promise of [failed, meta, body|null]. For a fetch, meta is
 * "method\0url\0name\0value\0..." (durable.js); for RPC, the structured-clone text of [method, args]. */
duk_ret_t ew__service_native_call(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    duk_uint_t si = duk_get_uint(ctx, 0);
    int kind = duk_get_int(ctx, 1);
    if (iso == NULL || iso->worker == NULL || si >= iso->worker->nservices || iso->rt->durable == NULL ||
        (kind != EW__SVC_FETCH && kind != EW__SVC_RPC))
        return duk_type_error(ctx, "Illegal invocation");
    ew__req_t *r = iso->running;
    if (r == NULL)
        return duk_error(ctx, DUK_ERR_ERROR,
                         "Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or "
                         "connect()), setting a timeout, and generating random values are not allowed within "
                         "global scope. To fix this error, perform this operation within a handler. "
                         "https://developers.cloudflare.com/workers/runtime-apis/handlers/");
    uint32_t limit = iso->rt->cfg.subrequests ? iso->rt->cfg.subrequests : DEFAULT_SUBREQUESTS;
    if (r->subrequests >= limit)
        return duk_error(ctx, DUK_ERR_ERROR, "Too many subrequests by single Worker invocation.");
    if (r->chain_depth + 1 >= MAX_CHAIN_DEPTH)
        return duk_error(ctx, DUK_ERR_ERROR, "%s", DEPTH_MESSAGE);
    const ew__svc_t *svc = &iso->worker->services[si];
    size_t mlen;
    const char *meta = ew__to_utf8(ctx, 2, &mlen);
    duk_size_t blen = 0;
    const void *body = duk_is_buffer_data(ctx, 3) ? duk_get_buffer_data(ctx, 3, &blen) : NULL;
    bool has_body = duk_is_buffer_data(ctx, 3);
    ew__do_push_call_promise(ctx); /* may throw: nothing allocated in C yet */
    ew__do_msg_t *m = calloc(1, sizeof(*m));
    if (m != NULL) {
        m->ns_key = strdup(svc->service);
        m->name = svc->entrypoint != NULL ? strdup(svc->entrypoint) : NULL;
        m->meta = malloc(mlen + 1);
        m->body = has_body ? malloc(blen ? blen : 1) : NULL;
    }
    if (m == NULL || m->ns_key == NULL || m->meta == NULL || (svc->entrypoint != NULL && m->name == NULL) ||
        (has_body && m->body == NULL)) {
        ew__do_msg_free(m);
        return duk_error(ctx, DUK_ERR_ERROR, "out of memory calling a service binding");
    }
    m->type = EW__DO_CALL;
    m->kind = kind;
    memcpy(m->meta, meta, mlen);
    m->meta[mlen] = '\0';
    m->meta_len = mlen;
    if (has_body && blen > 0)
        memcpy(m->body, body, blen);
    m->body_len = blen;
    m->has_body = has_body;
    m->depth = r->chain_depth + 1;
    r->subrequests++;
    if (!ew__do_post_call(ctx, m, ew__durable_inbox(iso->rt)))
        return duk_error(ctx, DUK_ERR_ERROR, "out of memory calling a service binding");
    return 1;
}

/* context() -> an ExecutionContext of the running request (a WorkerEntrypoint's ctx). */
duk_ret_t ew__service_native_context(duk_context *ctx)
{
    ew__dispatch_push_context(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * The target's side
 */

typedef struct svc_run {          /* one call being run in a target worker */
    ew__do_msg_t *msg;            /* owned until answered */
    ew_runtime_t *rt;
    ew_worker_t *w;               /* the target */
} svc_run_t;

/* Sends r (or, when it could not be made, an out-of-memory error) to the caller and frees the call. */
static void answer(ew__do_msg_t *call, ew__do_msg_t *r)
{
    if (r == NULL) {
        ew__do_fail_call(call, "out of memory answering a service binding call");
        return;
    }
    ew__do_inbox_t *to = call->reply_to;
    call->reply_to = NULL;
    ew__do_msg_free(call);
    ew__do_post(to, r);
    ew__do_inbox_unref(to);
}

static void fail(ew__do_msg_t *call, const char *message)
{
    answer(call, ew__do_error_reply(call, message));
}

static ew_worker_t *find_worker(ew_runtime_t *rt, const char *name)
{
    for (ew_worker_t *w = rt->workers; w != NULL; w = w->next)
        if (strcmp(w->name, name) == 0)
            return w;
    return NULL;
}

/* The target's error, as one line the caller's Error carries: "Uncaught Error: boom\n  at ..." -> "boom". */
static void error_line(const ew_error_t *err, ew_status_t outcome, char *out, size_t cap)
{
    const char *msg = err != NULL && err->message[0] ? err->message : ew_status_name(outcome);
    if (strncmp(msg, "Uncaught ", 9) == 0)
        msg += 9;
    size_t n = strcspn(msg, "\n");
    const char *colon = memchr(msg, ':', n);
    if (colon != NULL && colon[1] == ' ' && strncmp(msg, "Error", 5) == 0) { /* "Error: x" -> "x" */
        n -= (size_t) (colon + 2 - msg);
        msg = colon + 2;
    }
    snprintf(out, cap, "%.*s", (int) (n < cap ? n : cap - 1), msg);
}

static ew__do_msg_t *stream_reply(ew_runtime_t *rt, ew__do_msg_t *call, const char *meta, size_t len,
                                  ew_response_t *resp, ew_worker_t *w);

static void on_fetch_done(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    svc_run_t *x = udata;
    ew__do_msg_t *call = x->msg;
    ew_runtime_t *rt = x->rt;
    ew_worker_t *w = x->w;
    free(x);
    if (resp->outcome != EW_OK) {
        char line[1024];
        error_line(err, resp->outcome, line, sizeof(line));
        ew_response_destroy(resp);
        fail(call, line);
        return;
    }
    /* [status, statusText, [[name, value], ...]], as durable.js reads a Durable Object's answer. */
    ew__buf_t t;
    ew__buf_init(&t);
    char num[16];
    bool ok = ew__buf_append(&t, num, (size_t) snprintf(num, sizeof(num), "[%d,", resp->status)) &&
              ew__buf_append_json_string(&t, resp->status_text, strlen(resp->status_text)) &&
              ew__buf_append(&t, ",[", 2);
    for (size_t i = 0; i < resp->nheaders && ok; i++)
        ok = ew__buf_append(&t, i ? ",[" : "[", i ? 2 : 1) &&
             ew__buf_append_json_string(&t, resp->headers[i].name, resp->headers[i].name_len) &&
             ew__buf_append(&t, ",", 1) &&
             ew__buf_append_json_string(&t, resp->headers[i].value, resp->headers[i].value_len) &&
             ew__buf_append(&t, "]", 1);
    ok = ok && ew__buf_append(&t, "]]", 2);
    if (ok && resp->body_stream != NULL) { /* the caller pulls the body: the response stays here */
        ew__do_msg_t *r = stream_reply(rt, call, t.data, t.len, resp, w);
        ew__buf_dispose(&t);
        if (r == NULL)
            ew_response_destroy(resp);
        answer(call, r);
        return;
    }
    ew__do_msg_t *r = ok ? ew__do_reply_new(call, false, t.data, t.len, resp->body, resp->body_len,
                                            resp->websocket == NULL)
                         : NULL;
    ew__buf_dispose(&t);
    if (r != NULL && resp->websocket != NULL) { /* a 101: the WebSocket is relayed to the caller */
        r->reply_to = call->reply_to; /* the reference moves to the reply */
        call->reply_to = NULL;
        if (!ew__do_reply_with_websocket(rt, r, resp->websocket)) {
            call->reply_to = r->reply_to;
            r->reply_to = NULL;
            ew__do_msg_free(r);
            r = NULL;
        } else {
            resp->websocket = NULL; /* attached: the tunnel owns it */
            ew__do_msg_free(call);
            ew_response_destroy(resp);
            return;
        }
    }
    ew_response_destroy(resp);
    answer(call, r);
}

/* Splits meta "method\0url\0name\0value\0..." into a request; false when it is malformed. */
static bool parse_fetch(ew__do_msg_t *m, ew_request_t *req, ew_header_t **hdrs)
{
    const char *p = m->meta, *end = m->meta + m->meta_len;
    size_t nfields = 0;
    for (const char *q = p; q < end; q++)
        nfields += *q == '\0';
    nfields++; /* the last field ends at meta_len (its NUL is the terminator) */
    if (nfields < 2 || nfields % 2 != 0)
        return false;
    size_t nh = (nfields - 2) / 2;
    *hdrs = nh ? calloc(nh, sizeof(**hdrs)) : NULL;
    if (nh && *hdrs == NULL)
        return false;
    req->method = p;
    p += strlen(p) + 1;
    req->url = p;
    p += strlen(p) + 1;
    for (size_t i = 0; i < nh; i++) {
        (*hdrs)[i].name = p;
        (*hdrs)[i].name_len = strlen(p);
        p += (*hdrs)[i].name_len + 1;
        (*hdrs)[i].value = p;
        (*hdrs)[i].value_len = strlen(p);
        p += (*hdrs)[i].value_len + 1;
    }
    req->headers = *hdrs;
    req->nheaders = nh;
    req->body = m->has_body ? m->body : NULL;
    req->body_len = m->has_body ? m->body_len : 0;
    return true;
}

static void handle_fetch(ew_runtime_t *rt, ew_worker_t *w, ew__do_msg_t *m)
{
    ew_request_t req;
    ew_header_t *hdrs = NULL;
    svc_run_t *x = malloc(sizeof(*x));
    if (x == NULL || !parse_fetch(m, &req, &hdrs)) {
        free(x);
        free(hdrs);
        fail(m, x == NULL ? "out of memory running a service binding call" : "malformed service binding request");
        return;
    }
    x->msg = m;
    x->rt = rt;
    x->w = w;
    rt->chain_depth = m->depth;
    ew_status_t st = ew_worker_fetch_stream(w, &req, on_fetch_done, x);
    rt->chain_depth = 0;
    free(hdrs);
    if (st != EW_OK) {
        free(x);
        fail(m, st == EW_ERR_INVALID_ARG ? "The request cannot be delivered to the Worker (invalid method, URL or "
                                           "header)." : "The Worker could not take the request.");
    }
}

/* Safe-call body run as the event: api.serviceRpc(entrypoint|null, meta) -> promise of [failed, meta], or for
 * a fetch of a named entrypoint api.serviceFetch(entrypoint, meta, body|null) -> [failed, meta, body]. */
static duk_ret_t rpc_body(duk_context *ctx, void *udata)
{
    ew__do_msg_t *m = ((svc_run_t *) udata)->msg;
    bool fetch = m->kind == EW__SVC_FETCH;
    ew__durable_push_api(ctx);
    if (fetch)
        duk_push_literal(ctx, "serviceFetch");
    else
        duk_push_literal(ctx, "serviceRpc");
    if (m->name != NULL)
        duk_push_string(ctx, m->name);
    else
        duk_push_null(ctx);
    ew__push_utf8(ctx, m->meta, m->meta_len);
    if (fetch && m->has_body) {
        void *buf = duk_push_fixed_buffer(ctx, m->body_len);
        if (m->body_len > 0)
            memcpy(buf, m->body, m->body_len);
        duk_push_buffer_object(ctx, -1, 0, m->body_len, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
    } else if (fetch) {
        duk_push_null(ctx);
    }
    duk_call_prop(ctx, fetch ? -5 : -4, fetch ? 3 : 2);
    duk_remove(ctx, -2);
    return 1;
}

static void on_rpc_done(void *udata, duk_context *ctx, duk_idx_t value, ew_status_t outcome, const char *message)
{
    svc_run_t *x = udata;
    ew__do_msg_t *call = x->msg;
    free(x);
    if (ctx != NULL && outcome == EW_OK) {
        answer(call, ew__do_result_reply(ctx, call, value));
    } else if (ctx != NULL) {
        duk_dup(ctx, value);
        ew__do_msg_t *r = ew__do_error_reply(call, duk_safe_to_string(ctx, -1));
        duk_pop(ctx);
        answer(call, r);
    } else {
        fail(call, message != NULL ? message : "The Worker failed.");
    }
}

static void handle_rpc(ew_runtime_t *rt, ew_worker_t *w, ew__do_msg_t *m)
{
    ew_error_t err;
    ew__isolate_t *iso = ew__worker_isolate(w, &err);
    svc_run_t *x = iso != NULL ? malloc(sizeof(*x)) : NULL;
    if (x == NULL) {
        fail(m, iso == NULL ? "The Worker's isolate could not be created." : "out of memory running a service "
                                                                           "binding call");
        return;
    }
    x->msg = m;
    x->rt = rt;
    x->w = w;
    rt->chain_depth = m->depth;
    ew_status_t st = ew__dispatch_call(iso, rpc_body, x, on_rpc_done, x);
    rt->chain_depth = 0;
    if (st != EW_OK) {
        free(x);
        fail(m, "out of memory running a service binding call");
    }
}

void ew__service_handle_call(ew_runtime_t *rt, ew__do_msg_t *m)
{
    ew_worker_t *w = find_worker(rt, m->ns_key);
    if (w == NULL) {
        char line[400];
        snprintf(line, sizeof(line), "Service binding: the Worker \"%.200s\" is not loaded.", m->ns_key);
        fail(m, line);
        return;
    }
    if (m->kind == EW__SVC_FETCH && m->name == NULL) /* the default export: an ordinary fetch event */
        handle_fetch(rt, w, m);
    else
        handle_rpc(rt, w, m);
}

/* ---------------------------------------------------------------------------------------------------------
 * Streamed bodies: a target's Response whose body is a ReadableStream (a TransformStream it keeps writing,
 * server-sent events) reaches the caller as it is produced, one chunk per pull:
 *
 *   caller: Response body = ReadableStream fed by svc_in ── pull ──> post(PULL id) ──> target: svc_out
 *           ew__stream_src_enqueue <── DATA id (bytes) <── post <── ew_body_read(resp->body_stream) chunk
 *           close / error          <── DONE / FAIL <──────────────── end / failure (the response is freed)
 *           cancel (or isolate gone) ── post(CANCEL id) ────────────> response freed (the stream is cancelled)
 *
 * One PULL is outstanding at a time, so the target produces only as fast as the caller reads. Both records
 * live in the runtime's svc list (a service call never leaves its runtime); ids are process-wide.
 */

typedef struct ew__svc_rt ew__svc_rt_t;

typedef struct svc_out {          /* target side: a body being sent */
    uint64_t id;
    ew_response_t *resp;          /* owned: its body_stream is read */
    ew_worker_t *w;               /* the worker whose request produces it */
    ew__svc_rt_t *sr;             /* the runtime's list it is in */
    ew__do_inbox_t *to;           /* the caller's inbox (a reference) */
    bool reading;                 /* an ew_body_read is pending */
    bool cancelled;               /* CANCEL came while reading: freed when the read reports */
    struct svc_out *next;
} svc_out_t;

typedef struct svc_in {           /* caller side: a body being received */
    uint64_t id;
    ew__isolate_t *iso;           /* the caller's isolate */
    ew__do_inbox_t *from;         /* the target's inbox (a reference) */
    ew__stream_src_t *src;        /* the Response body's source; NULL until streamBody() */
    bool pulling;                 /* a PULL is out */
    struct svc_in *next;
} svc_in_t;

struct ew__svc_rt {
    ew_runtime_t *rt;
    svc_out_t *outs;
    svc_in_t *ins;
};

static _Atomic uint64_t next_stream_id = 1;

static ew__svc_rt_t *svc_rt(ew_runtime_t *rt)
{
    if (rt->svc == NULL && (rt->svc = calloc(1, sizeof(*rt->svc))) != NULL)
        rt->svc->rt = rt;
    return rt->svc;
}

/* Posts a stream message of `kind` for stream id (bytes copied) to `to`; dropped when out of memory. */
static void post_stream(ew__do_inbox_t *to, uint64_t id, int kind, const void *data, size_t len)
{
    ew__do_msg_t *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->meta = malloc(len + 1)) == NULL) {
        free(m);
        return;
    }
    m->type = EW__DO_STREAM;
    m->kind = kind;
    m->token = id;
    if (len > 0)
        memcpy(m->meta, data, len);
    m->meta[len] = '\0';
    m->meta_len = len;
    ew__do_post(to, m);
}

static void out_free(ew__svc_rt_t *sr, svc_out_t *o)
{
    for (svc_out_t **pp = &sr->outs; *pp != NULL; pp = &(*pp)->next)
        if (*pp == o) {
            *pp = o->next;
            break;
        }
    ew_response_destroy(o->resp); /* cancels a body that has not ended */
    ew__do_inbox_unref(o->to);
    free(o);
}

static void in_free(ew__svc_rt_t *sr, svc_in_t *in)
{
    for (svc_in_t **pp = &sr->ins; *pp != NULL; pp = &(*pp)->next)
        if (*pp == in) {
            *pp = in->next;
            break;
        }
    ew__do_inbox_unref(in->from);
    free(in);
}

/* The REPLY to a fetch whose body streams: meta only, with the stream's id; the response is kept. NULL (the
 * caller then destroys resp) when out of memory. */
static ew__do_msg_t *stream_reply(ew_runtime_t *rt, ew__do_msg_t *call, const char *meta, size_t len,
                                  ew_response_t *resp, ew_worker_t *w)
{
    ew__svc_rt_t *sr = svc_rt(rt);
    svc_out_t *o = sr != NULL ? calloc(1, sizeof(*o)) : NULL;
    ew__do_msg_t *r = o != NULL ? ew__do_reply_new(call, false, meta, len, NULL, 0, false) : NULL;
    ew__do_inbox_t *own = ew__durable_inbox(rt);
    if (r == NULL || own == NULL) {
        free(o);
        ew__do_msg_free(r);
        return NULL;
    }
    o->id = atomic_fetch_add(&next_stream_id, 1);
    o->resp = resp;
    o->w = w;
    o->sr = sr;
    o->to = call->reply_to;
    ew__do_inbox_ref(o->to);
    o->next = sr->outs;
    sr->outs = o;
    r->stream = o->id;
    r->from = own;
    ew__do_inbox_ref(own);
    return r;
}

bool ew__service_stream_arrived(ew_runtime_t *rt, ew__isolate_t *iso, ew__do_msg_t *r)
{
    ew__svc_rt_t *sr = svc_rt(rt);
    svc_in_t *in = sr != NULL && r->from != NULL ? calloc(1, sizeof(*in)) : NULL;
    if (in == NULL) {
        if (r->from != NULL)
            post_stream(r->from, r->stream, EW__STREAM_CANCEL, NULL, 0);
        return false;
    }
    in->id = r->stream;
    in->iso = iso;
    in->from = r->from; /* the reference moves here */
    r->from = NULL;
    in->next = sr->ins;
    sr->ins = in;
    return true;
}

static svc_in_t *find_in(ew__svc_rt_t *sr, uint64_t id)
{
    for (svc_in_t *in = sr != NULL ? sr->ins : NULL; in != NULL; in = in->next)
        if (in->id == id)
            return in;
    return NULL;
}

static void on_src_pull(void *udata, ew__stream_src_t *src)
{
    (void) src;
    svc_in_t *in = udata;
    if (!in->pulling) {
        in->pulling = true;
        post_stream(in->from, in->id, EW__STREAM_PULL, NULL, 0);
    }
}

static void on_src_cancel(void *udata, ew__stream_src_t *src)
{
    (void) src;
    svc_in_t *in = udata;
    post_stream(in->from, in->id, EW__STREAM_CANCEL, NULL, 0);
    in_free(in->iso->rt->svc, in);
}

/* streamBody(id) -> a ReadableStream of the target's body (once per id). */
duk_ret_t ew__service_native_stream_body(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    svc_in_t *in = iso != NULL ? find_in(iso->rt->svc, (uint64_t) duk_require_number(ctx, 0)) : NULL;
    if (in == NULL || in->iso != iso || in->src != NULL)
        return duk_type_error(ctx, "Illegal invocation");
    static const ew__stream_src_hooks_t hooks = {on_src_pull, on_src_cancel, NULL, NULL};
    in->src = ew__stream_src_push_new(ctx, &hooks, in, 0);
    return 1;
}

static void on_body_chunk(void *udata, const void *data, size_t len, ew_status_t status)
{
    svc_out_t *o = udata;
    ew__svc_rt_t *sr = o->sr;
    o->reading = false;
    if (o->cancelled) {
        out_free(sr, o);
        return;
    }
    if (status == EW_OK && len > 0) {
        post_stream(o->to, o->id, EW__STREAM_DATA, data, len);
        return;
    }
    if (status == EW_OK) {
        post_stream(o->to, o->id, EW__STREAM_DONE, NULL, 0);
    } else {
        char msg[200];
        int n = snprintf(msg, sizeof(msg), "The service's response body failed (%s).", ew_status_name(status));
        post_stream(o->to, o->id, EW__STREAM_FAIL, msg, (size_t) n);
    }
    out_free(sr, o);
}

void ew__service_handle_stream(ew_runtime_t *rt, ew__do_msg_t *m)
{
    ew__svc_rt_t *sr = rt->svc;
    if (m->kind == EW__STREAM_PULL || m->kind == EW__STREAM_CANCEL) { /* for a target */
        svc_out_t *o = sr != NULL ? sr->outs : NULL;
        while (o != NULL && o->id != m->token)
            o = o->next;
        if (o != NULL && m->kind == EW__STREAM_CANCEL) {
            if (o->reading)
                o->cancelled = true; /* freed when the read reports (not from inside ew_body_read's caller) */
            else
                out_free(sr, o);
        } else if (o != NULL && !o->reading) {
            o->reading = true;
            if (ew_body_read(o->resp->body_stream, on_body_chunk, o) != EW_OK) {
                static const char msg[] = "The service's response body cannot be read.";
                o->reading = false;
                post_stream(o->to, o->id, EW__STREAM_FAIL, msg, sizeof(msg) - 1);
                out_free(sr, o);
            }
        }
    } else { /* DATA, DONE or FAIL for a caller */
        svc_in_t *in = find_in(sr, m->token);
        if (in != NULL && in->src != NULL) {
            in->pulling = false;
            ew__stream_src_t *src = in->src;
            if (m->kind == EW__STREAM_DATA) {
                (void) ew__stream_src_enqueue(src, m->meta, m->meta_len); /* may pull again at once */
            } else {
                in_free(sr, in); /* close and error free the source: its cancel hook does not run */
                if (m->kind == EW__STREAM_DONE)
                    ew__stream_src_close(src);
                else
                    ew__stream_src_error(src, m->meta);
            }
        }
    }
    ew__do_msg_free(m);
}

void ew__service_isolate_gone(ew__isolate_t *iso)
{
    ew__svc_rt_t *sr = iso->rt != NULL ? iso->rt->svc : NULL;
    for (svc_in_t *in = sr != NULL ? sr->ins : NULL, *next; in != NULL; in = next) {
        next = in->next;
        if (in->iso == iso && in->src == NULL) { /* never turned into a stream: nobody will cancel it */
            post_stream(in->from, in->id, EW__STREAM_CANCEL, NULL, 0);
            in_free(sr, in);
        }
    }
}

void ew__service_worker_gone(ew_worker_t *w)
{
    ew__svc_rt_t *sr = w->rt->svc;
    for (svc_out_t *o = sr != NULL ? sr->outs : NULL, *next; o != NULL; o = next) {
        next = o->next;
        if (o->w != w)
            continue;
        static const char msg[] = "The service's Worker was unloaded.";
        post_stream(o->to, o->id, EW__STREAM_FAIL, msg, sizeof(msg) - 1);
        if (o->reading)
            o->cancelled = true; /* the pending read reports EW_ERR_CANCELLED when the worker goes */
        else
            out_free(sr, o);
    }
}

void ew__service_shutdown(ew_runtime_t *rt)
{
    ew__svc_rt_t *sr = rt->svc;
    if (sr == NULL)
        return;
    while (sr->outs != NULL)
        out_free(sr, sr->outs);
    while (sr->ins != NULL)
        in_free(sr, sr->ins);
    free(sr);
    rt->svc = NULL;
}
