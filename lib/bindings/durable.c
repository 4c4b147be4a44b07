/*
 * durable.c — Durable Objects: namespaces on env, ids, calls from stubs to the one runtime holding an object,
 * running those calls as events of the object's isolate, answers, the output gate, eviction and alarms.
 * The JavaScript surface (ids, stubs, ctx.storage, the input gate, structured clone) is lib/js/durable.js,
 * loaded into an isolate when its worker has namespaces; this file gives it the natives listed at the end.
 * Storage is do_storage.c; the process-wide registry and the inboxes are do_registry.c.
 *
 *   caller isolate                      this runtime's inbox (or another runtime's)        owner isolate
 *   stub.fetch/rpc ─ native call ─ claim + post(CALL) ───────> handle_call: object record, ─> durable.js
 *        promise <── settle ── handle_reply <── post(REPLY) <── on_call_done (held by the     deliver()
 *                                                               output gate until commit)
 *
 * An object record (ew__do_obj_t) lives in the runtime that claimed the id; its instance lives in the
 * worker's current isolate. When that isolate is replaced (a limit), the next event builds the instance
 * again in the new one (storage is kept; memory state is lost, as when Cloudflare resets an object).
 * Objects with no event for durable_idle_ms are evicted (instance dropped, database closed, claim released).
 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <event2/event.h>
#include <mbedtls/md.h>

#include "core/dispatch.h"
#include "js_bytecode.h"
#include "internal.h"

#define DEFAULT_IDLE_MS 70000
#define API_KEY DUK_HIDDEN_SYMBOL("durableApi")
#define RPC_API_KEY DUK_HIDDEN_SYMBOL("rpcApi")
#define NATIVES_KEY DUK_HIDDEN_SYMBOL("durableNatives")
#define CALLS_KEY DUK_HIDDEN_SYMBOL("durableCalls")

static const char GONE_RUNTIME[] = "The Durable Object's runtime has shut down.";
static const char GONE_ISOLATE[] = "The Durable Object's isolate went away.";

typedef struct do_call {          /* a stub call of this runtime waiting for its answer */
    uint32_t token;
    ew__isolate_t *iso;           /* the caller's isolate (cleared from the list when it goes away) */
    uint32_t req_id;              /* the request that made the call: CPU of the reactions */
    struct do_call *next;
} do_call_t;

typedef struct do_alarm {         /* an alarm timer armed on this runtime's loop */
    ew__do_rt_t *drt;
    char *ns_key;                 /* owned */
    char id[65];
    int retry;                    /* retries so far (0 for the first run) */
    struct event *ev;             /* owned */
    struct do_alarm *next;
} do_alarm_t;

/* One end of a WebSocket carried between an object and its caller (see "WebSocket tunnels" below). */
typedef struct do_tunnel {
    uint32_t id;                  /* process-wide unique: even for an object's end, + 1 for its caller's */
    ew__isolate_t *iso;           /* the isolate whose relay WebSocket (durable.js) this end feeds */
    ew__do_obj_t *obj;            /* the object's end: its object (kept in memory while open); NULL caller */
    ew__do_inbox_t *peer;         /* the other end's inbox (a reference); NULL until the reply left */
    ew_websocket_t *host;         /* a service binding's target end: the Worker's WebSocket as a host handle
                                     (owned; iso and obj are NULL), see ew__do_reply_with_websocket */
    struct event *free_ev;        /* host end: frees it from the loop once both closes passed (owned) */
    struct ew__do_rt *drt;        /* host end: the runtime's state it belongs to */
    ew__do_msg_t *pending;        /* messages written before peer was known (list, in order) */
    ew__do_msg_t **pending_tail;
    bool sent_close, got_close;   /* freed when both happened (or its isolate went away) */
    struct do_tunnel *next;
} do_tunnel_t;

static _Atomic uint32_t next_tunnel_id = 2; /* even: the object's end; its caller's end is id + 1 */

struct ew__do_rt {
    ew_runtime_t *rt;
    do_tunnel_t *tunnels;         /* tunnel ends of this runtime (list) */
    ew__do_inbox_t *inbox;        /* owner's reference */
    ew__do_obj_t *objs;           /* objects held here (list) */
    do_call_t *calls;             /* calls waiting for answers (list) */
    uint32_t next_token;
    struct event *sweep_ev;       /* eviction check, armed while objects are held (owned) */
    do_alarm_t *alarms;           /* armed alarm timers (list) */
};

typedef struct run_ctx {          /* one CALL being run in this runtime */
    ew__do_obj_t *obj;
    ew__do_msg_t *msg;            /* owned until answered */
} run_ctx_t;

static void handle_msg(void *udata, ew__do_msg_t *m);
static void evict(ew__do_obj_t *o);
static do_tunnel_t *tunnel_new(ew__do_rt_t *d, uint32_t id, ew__isolate_t *iso, ew__do_obj_t *obj,
                               ew__do_inbox_t *peer);
static void tunnel_free(ew__do_rt_t *d, do_tunnel_t *t);
static void tunnel_write(do_tunnel_t *t, int kind, const void *data, size_t len, int code);
static void tunnels_isolate_gone(ew__do_rt_t *d, ew__isolate_t *iso);

static ew__do_rt_t *iso_drt(duk_context *ctx)
{
    return ew__isolate_of(ctx)->rt->durable;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec * 1000.0 + (double) (ts.tv_nsec / 1000000);
}

static uint32_t idle_ms(const ew_runtime_t *rt)
{
    return rt->cfg.durable_idle_ms ? rt->cfg.durable_idle_ms : DEFAULT_IDLE_MS;
}

/* ---------------------------------------------------------------------------------------------------------
 * Configuration
 */

/* An export name a binding may name (ASCII identifier: the names wrangler accepts for classes). */
bool ew__is_export_name(const char *s)
{
    if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$'))
            return false;
    }
    return true;
}

ew_status_t ew__durable_copy(ew_worker_t *w, const ew_worker_config_t *cfg, ew_error_t *err)
{
    if (cfg->ndurable_objects == 0)
        return EW_OK;
    if (cfg->durable_objects == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "durable_objects is NULL with ndurable_objects %zu",
                             cfg->ndurable_objects);
    if ((w->durables = calloc(cfg->ndurable_objects, sizeof(*w->durables))) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    const char *base = w->rt->state_dir;
    for (size_t i = 0; i < cfg->ndurable_objects; i++) {
        const ew_durable_object_t *d = &cfg->durable_objects[i];
        if ((d->binding == NULL && d->script_name != NULL) || (d->binding != NULL && d->binding[0] == '\0'))
            return ew__error_set(err, EW_ERR_INVALID_ARG, "durable_objects[%zu]: the binding name is empty", i);
        if (d->script_name != NULL && d->script_name[0] == '\0')
            return ew__error_set(err, EW_ERR_INVALID_ARG, "durable_objects[%zu] (%s): script_name is empty", i,
                                 d->binding);
        if (!ew__is_export_name(d->class_name))
            return ew__error_set(err, EW_ERR_INVALID_ARG,
                                 "durable_objects[%zu] (%s): class_name \"%.100s\" is not a JavaScript identifier", i,
                                 d->binding ? d->binding : "no binding", d->class_name ? d->class_name : "(null)");
        ew__do_ns_t *ns = &w->durables[i];
        w->ndurables = i + 1;
        ns->sql = d->sql != 0;
        ns->external = d->script_name != NULL;
        ns->binding = d->binding != NULL ? strdup(d->binding) : NULL;
        ns->class_name = strdup(d->class_name);
        /* The namespace is the defining worker's: its name keys the objects, ids and storage folder. */
        int n = asprintf(&ns->dir, "%s-%s", d->script_name ? d->script_name : w->name, d->class_name);
        if ((d->binding != NULL && ns->binding == NULL) || ns->class_name == NULL || n < 0) {
            ns->dir = NULL;
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
        }
        for (char *p = ns->dir; *p; p++) /* a folder name: the worker's name may hold anything */
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                  *p == '_' || *p == '.'))
                *p = '_';
        n = base != NULL ? asprintf(&ns->key, "%s|%s", base, ns->dir)
                         : asprintf(&ns->key, "mem:%p|%s", (void *) w->rt, ns->dir);
        if (n < 0) {
            ns->key = NULL;
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
        }
    }
    return EW_OK;
}

void ew__durable_dispose(ew_worker_t *w)
{
    for (size_t i = 0; i < w->ndurables; i++) {
        free(w->durables[i].binding);
        free(w->durables[i].class_name);
        free(w->durables[i].dir);
        free(w->durables[i].key);
    }
    free(w->durables);
    w->durables = NULL;
    w->ndurables = 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * The runtime's part: inbox, sweep, alarms
 */

static void on_sweep(evutil_socket_t fd, short what, void *arg);
static void arm_alarm(ew__do_rt_t *d, const char *ns_key, const char *id, double when_ms, int retry);

ew__do_rt_t *ew__durable_rt(ew_runtime_t *rt)
{
    if (rt->durable != NULL)
        return rt->durable;
    ew__do_rt_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->rt = rt;
    d->next_token = 1;
    d->inbox = ew__do_inbox_create(rt->base, handle_msg, d);
    d->sweep_ev = evtimer_new(rt->base, on_sweep, d);
    if (d->inbox == NULL || d->sweep_ev == NULL) {
        if (d->inbox != NULL)
            ew__do_inbox_close(d->inbox);
        if (d->sweep_ev != NULL)
            event_free(d->sweep_ev);
        free(d);
        return NULL;
    }
    rt->durable = d;
    return d;
}

ew__do_inbox_t *ew__durable_inbox(ew_runtime_t *rt)
{
    return rt->durable != NULL ? rt->durable->inbox : NULL;
}

static bool is_hex_id(const char *s, size_t n)
{
    if (n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* The first runtime of the process to load a namespace arms the alarms its objects stored. */
static void scan_alarms(ew__do_rt_t *d, const ew__do_ns_t *ns)
{
    char *dir;
    if (d->rt->state_dir == NULL || asprintf(&dir, "%s/do/%s", d->rt->state_dir, ns->dir) < 0)
        return;
    DIR *dp = opendir(dir);
    struct dirent *e;
    while (dp != NULL && (e = readdir(dp)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n != 64 + 7 || strcmp(e->d_name + 64, ".sqlite") != 0 || !is_hex_id(e->d_name, 64))
            continue;
        char *path, id[65];
        memcpy(id, e->d_name, 64);
        id[64] = '\0';
        if (asprintf(&path, "%s/%s", dir, e->d_name) < 0)
            continue;
        double when = ew__do_storage_read_alarm(path);
        free(path);
        if (when >= 0)
            arm_alarm(d, ns->key, id, when, 0);
    }
    if (dp != NULL)
        closedir(dp);
    free(dir);
}

ew_status_t ew__durable_open(ew_runtime_t *rt, ew_worker_t *w, ew_error_t *err)
{
    if (w->ndurables == 0)
        return EW_OK;
    ew__do_rt_t *d = ew__durable_rt(rt);
    if (d == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory setting up Durable Objects");
    for (size_t i = 0; i < w->ndurables; i++)
        if (ew__do_first_sight(w->durables[i].key))
            scan_alarms(d, &w->durables[i]);
    return EW_OK;
}

static void alarm_free(do_alarm_t *a)
{
    event_free(a->ev);
    free(a->ns_key);
    free(a);
}

void ew__durable_shutdown(ew_runtime_t *rt)
{
    ew__do_rt_t *d = rt->durable;
    if (d == NULL)
        return;
    while (d->tunnels != NULL) {
        do_tunnel_t *t = d->tunnels;
        if (!t->sent_close)
            tunnel_write(t, EW__TUNNEL_CLOSE, GONE_RUNTIME, sizeof(GONE_RUNTIME) - 1, 1001);
        tunnel_free(d, t);
    }
    while (d->objs != NULL)
        evict(d->objs);
    while (d->alarms != NULL) {
        do_alarm_t *a = d->alarms;
        d->alarms = a->next;
        alarm_free(a);
    }
    while (d->calls != NULL) {
        do_call_t *c = d->calls;
        d->calls = c->next;
        free(c);
    }
    event_free(d->sweep_ev);
    ew__do_inbox_close(d->inbox);
    free(d);
    rt->durable = NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * durable.js in an isolate
 */

static const ew__method_t natives[];

/* Pushes the natives object durable.js and service.js share (made once per heap). */
static void push_natives(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, NATIVES_KEY)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, natives);
        ew__sclone_push(ctx); /* native.codec: structured clone as JSON text (lib/js/sclone.js) */
        duk_put_prop_literal(ctx, -2, "codec");
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, NATIVES_KEY);
    }
    duk_remove(ctx, -2);
}

/* Pushes the isolate's service.js API object (the caller's side of calls), loading the file on first use. */
void ew__service_push_api(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, RPC_API_KEY)) {
        duk_pop(ctx);
        duk_push_external_buffer(ctx);
        duk_config_buffer(ctx, -1, (void *) ew__js_service, ew__js_service_len);
        duk_load_function(ctx);
        push_natives(ctx);
        duk_push_global_object(ctx);
        duk_call(ctx, 2);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, RPC_API_KEY);
        duk_push_bare_object(ctx); /* calls waiting for answers: token -> promise (ew__do_post_call) */
        duk_put_prop_literal(ctx, -3, CALLS_KEY);
    }
    duk_remove(ctx, -2);
}

/* Pushes the isolate's durable.js API object, loading the file (and service.js, which it builds on) on
 * first use. */
void ew__durable_push_api(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, API_KEY)) {
        duk_pop(ctx);
        duk_push_external_buffer(ctx);
        duk_config_buffer(ctx, -1, (void *) ew__js_durable, ew__js_durable_len);
        duk_load_function(ctx);
        push_natives(ctx);
        duk_push_global_object(ctx);
        ew__service_push_api(ctx);
        duk_call(ctx, 3);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, API_KEY);
    }
    duk_remove(ctx, -2);
}

void ew__durable_push_workers_module(duk_context *ctx)
{
    ew__durable_push_api(ctx);
    duk_get_prop_literal(ctx, -1, "workersModule");
    duk_remove(ctx, -2);
}

void ew__durable_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx)
{
    env_idx = duk_require_normalize_index(ctx, env_idx);
    if (w->ndurables == 0)
        return;
    ew__durable_push_api(ctx);
    for (size_t i = 0; i < w->ndurables; i++) {
        duk_push_literal(ctx, "makeNamespace");
        duk_push_uint(ctx, (duk_uint_t) i);
        duk_push_string(ctx, w->durables[i].class_name);
        duk_call_prop(ctx, -4, 2);
        if (w->durables[i].binding == NULL) { /* served for other workers: known to durable.js, not on env */
            duk_pop(ctx);
            continue;
        }
        duk_dup_top(ctx);
        duk_put_global_string(ctx, w->durables[i].binding); /* service-worker scripts see bindings as globals */
        duk_put_prop_string(ctx, env_idx, w->durables[i].binding);
    }
    duk_pop(ctx);
}

struct check_args {
    ew_worker_t *w;
    size_t bad;                   /* index of the first namespace whose class is missing, or ndurables */
};

static duk_ret_t check_body(duk_context *ctx, void *udata)
{
    struct check_args *a = udata;
    for (a->bad = 0; a->bad < a->w->ndurables; a->bad++) {
        if (a->w->durables[a->bad].external)
            continue; /* another worker's class */
        ew__dispatch_push_export(ctx, a->w->durables[a->bad].class_name);
        bool ok = duk_is_function(ctx, -1);
        duk_pop(ctx);
        if (!ok)
            break;
    }
    return 0;
}

ew_status_t ew__durable_check_classes(ew__isolate_t *iso, ew_error_t *err)
{
    ew_worker_t *w = iso->worker;
    if (w->ndurables == 0)
        return EW_OK;
    struct check_args a = {w, 0};
    if (ew__isolate_call(iso, NULL, check_body, &a, 0, 0) != DUK_EXEC_SUCCESS)
        return ew__error_set(err, EW_ERR_INTERNAL, "could not check the Durable Object classes");
    if (a.bad < w->ndurables)
        return ew__error_set(err, EW_ERR_INVALID_ARG,
                             "Durable Object binding \"%s\": the Worker's main module does not export a class named "
                             "\"%s\" (add `export class %s ...`)",
                             w->durables[a.bad].binding ? w->durables[a.bad].binding : "(none)",
                             w->durables[a.bad].class_name,
                             w->durables[a.bad].class_name);
    return EW_OK;
}

/* Calls api[fn](nsIndex, id, extra...) in o's isolate as detached work (not charged to a request). */
struct api_args {
    const char *fn;
    ew__do_obj_t *o;
    int ok;                       /* committed: 1 / 0; -1 = no such argument */
    const char *message;
};

static duk_ret_t api_body(duk_context *ctx, void *udata)
{
    struct api_args *a = udata;
    ew__durable_push_api(ctx);
    duk_push_string(ctx, a->fn);
    duk_push_uint(ctx, (duk_uint_t) a->o->ns_index);
    duk_push_string(ctx, a->o->id);
    duk_idx_t n = 2;
    if (a->ok >= 0) {
        duk_push_boolean(ctx, a->ok);
        if (a->message != NULL)
            duk_push_string(ctx, a->message);
        else
            duk_push_undefined(ctx);
        n = 4;
    }
    duk_call_prop(ctx, -2 - n, n);
    return 0;
}

static void call_api(ew__isolate_t *iso, struct api_args *a)
{
    if (iso == NULL || iso->dead || iso->ctx == NULL)
        return;
    bool nested = iso->depth > 0;
    if (!nested)
        ew__isolate_enter(iso, NULL);
    int rc = ew__isolate_pcall(iso, api_body, a, 0, 1);
    if (rc == DUK_EXEC_ERROR)
        (void) ew__log_uncaught(iso->ctx, -1, "Durable Object: ");
    if (rc != -1)
        duk_pop_n(iso->ctx, rc == DUK_EXEC_ERROR ? 2 : 1);
    if (!nested)
        ew__isolate_settle(iso);
}

/* ---------------------------------------------------------------------------------------------------------
 * Objects held by this runtime
 */

/* The object `id` of the namespace `key`, whichever worker holds it: after a reload, an object still in
 * memory keeps its version's code (and its WebSockets) and takes the calls of the new version too, so
 * there is one instance per id (Cloudflare's deferred code update); once evicted, the next call builds it
 * from the newest version. */
static ew__do_obj_t *find_obj(ew__do_rt_t *d, const char *key, const char *id)
{
    for (ew__do_obj_t **pp = &d->objs; *pp != NULL; pp = &(*pp)->next) {
        ew__do_obj_t *o = *pp;
        if (strcmp(o->id, id) == 0 && strcmp(o->w->durables[o->ns_index].key, key) == 0) {
            if (pp != &d->objs) { /* most recently used first: hot objects are found at once */
                *pp = o->next;
                o->next = d->objs;
                d->objs = o;
            }
            return o;
        }
    }
    return NULL;
}

static void arm_sweep(ew__do_rt_t *d)
{
    if (evtimer_pending(d->sweep_ev, NULL))
        return;
    uint32_t ms = idle_ms(d->rt) / 4;
    if (ms < 20)
        ms = 20;
    if (ms > 10000)
        ms = 10000;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(d->sweep_ev, &tv);
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__do_obj_t *o = arg;
    if (o->pump_iso != NULL && o->pump_iso->io_pending > 0)
        o->pump_iso->io_pending--;
    o->pump_iso = NULL;
    struct api_args a = {"pump", o, -1, NULL};
    call_api(o->iso, &a);
}

static ew__do_obj_t *obj_new(ew__do_rt_t *d, ew_worker_t *w, size_t nsi, const char *id, ew_error_t *err)
{
    ew__do_obj_t *o = calloc(1, sizeof(*o));
    if (o == NULL) {
        ew__error_set(err, EW_ERR_NOMEM, "out of memory creating a Durable Object");
        return NULL;
    }
    o->drt = d;
    o->w = w;
    o->ns_index = nsi;
    memcpy(o->id, id, 65);
    o->pump_ev = event_new(d->rt->base, -1, 0, on_pump, o);
    if (o->pump_ev == NULL || ew__do_storage_open(o, err) != EW_OK) {
        if (o->pump_ev != NULL)
            event_free(o->pump_ev);
        ew__do_storage_close(o);
        free(o);
        return NULL;
    }
    o->next = d->objs;
    d->objs = o;
    arm_sweep(d);
    return o;
}

static do_tunnel_t *find_tunnel(ew__do_rt_t *d, uint32_t id)
{
    for (do_tunnel_t *t = d->tunnels; t != NULL; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

/* Sends a reply to the inbox it names (r->reply_to, whose reference the message gives up). A reply that
 * carries a WebSocket tells the caller where the object's end is, and the messages the object's end wrote
 * meanwhile follow it. */
static void send_reply(ew__do_rt_t *d, ew__do_msg_t *r)
{
    ew__do_inbox_t *to = r->reply_to;
    r->reply_to = NULL;
    do_tunnel_t *t = r->tunnel ? find_tunnel(d, r->tunnel) : NULL;
    if (t != NULL) {
        r->from = d->inbox;
        ew__do_inbox_ref(d->inbox);
    }
    ew__do_post(to, r);
    if (t != NULL && t->peer == NULL) {
        t->peer = to; /* the reference moves to the tunnel */
        while (t->pending != NULL) {
            ew__do_msg_t *m = t->pending;
            t->pending = m->next;
            ew__do_post(to, m);
        }
        t->pending_tail = &t->pending;
        return;
    }
    ew__do_inbox_unref(to);
}

/* Drops the object: instance, held replies (sent), database, claim. */
static void evict(ew__do_obj_t *o)
{
    ew__do_rt_t *d = o->drt;
    struct api_args a = {"evict", o, -1, NULL};
    call_api(o->iso, &a);
    o->iso = NULL;
    ew__do_storage_close(o); /* commits what is still open */
    if (o->commit_iso != NULL && o->commit_iso->io_pending > 0)
        o->commit_iso->io_pending--;
    if (o->pump_iso != NULL && o->pump_iso->io_pending > 0)
        o->pump_iso->io_pending--;
    while (o->held != NULL) {
        ew__do_msg_t *r = o->held;
        o->held = r->next;
        send_reply(d, r);
    }
    for (do_tunnel_t *t = d->tunnels, *next; t != NULL; t = next) { /* its WebSockets go away with it */
        next = t->next;
        if (t->obj != o)
            continue;
        if (!t->sent_close)
            tunnel_write(t, EW__TUNNEL_CLOSE, GONE_ISOLATE, sizeof(GONE_ISOLATE) - 1, 1001);
        tunnel_free(d, t);
    }
    ew__do_release(o->w->durables[o->ns_index].key, o->id, d->inbox);
    event_free(o->pump_ev);
    for (ew__do_obj_t **pp = &d->objs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == o) {
            *pp = o->next;
            break;
        }
    }
    free(o);
}

/* An object with a WebSocket still open to a caller stays in memory (Cloudflare does not evict an object
 * holding connected WebSockets either). */
static bool has_tunnels(ew__do_rt_t *d, const ew__do_obj_t *o)
{
    for (do_tunnel_t *t = d->tunnels; t != NULL; t = t->next)
        if (t->obj == o)
            return true;
    return false;
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__do_rt_t *d = arg;
    uint64_t now = now_ms(), idle = idle_ms(d->rt);
    for (ew__do_obj_t *o = d->objs, *next; o != NULL; o = next) {
        next = o->next;
        /* Without a state directory the database lives in memory: closing it would lose the data. */
        if (d->rt->state_dir != NULL && o->active == 0 && !o->in_tx && !o->commit_queued && o->held == NULL &&
            o->savepoints == 0 && now - o->last_ms >= idle && !has_tunnels(d, o))
            evict(o);
    }
    if (d->objs != NULL)
        arm_sweep(d);
}

void ew__durable_isolate_gone(ew__isolate_t *iso)
{
    ew__do_rt_t *d = iso->rt != NULL ? iso->rt->durable : NULL;
    if (d == NULL)
        return;
    for (ew__do_obj_t *o = d->objs; o != NULL; o = o->next) {
        if (o->iso == iso)
            o->iso = NULL;
        if (o->commit_iso == iso)
            o->commit_iso = NULL;
        if (o->pump_iso == iso)
            o->pump_iso = NULL;
    }
    tunnels_isolate_gone(d, iso);
    ew__service_isolate_gone(iso);
    for (do_call_t **pp = &d->calls; *pp != NULL;) {
        do_call_t *c = *pp;
        if (c->iso == iso) {
            *pp = c->next;
            free(c);
        } else {
            pp = &c->next;
        }
    }
}

void ew__durable_worker_gone(ew_worker_t *w)
{
    ew__do_rt_t *d = w->rt->durable;
    if (d == NULL)
        return;
    for (ew__do_obj_t *o = d->objs, *next; o != NULL; o = next) {
        next = o->next;
        if (o->w == w)
            evict(o);
    }
}

void ew__do_committed(ew__do_obj_t *o, bool ok, const char *message)
{
    /* What the output gate held leaves first: messages the script sends once its writes resolve follow. */
    while (o->held != NULL) {
        ew__do_msg_t *r = o->held;
        o->held = r->next;
        send_reply(o->drt, r);
    }
    struct api_args a = {"committed", o, ok, message};
    call_api(o->iso, &a);
}

/* ---------------------------------------------------------------------------------------------------------
 * Running a call in this runtime
 */

/* Finds the worker of this runtime that has the namespace. */
static bool find_ns(ew_runtime_t *rt, const char *key, ew_worker_t **w, size_t *nsi)
{
    for (ew_worker_t *x = rt->workers; x != NULL; x = x->next) {
        for (size_t i = 0; i < x->ndurables; i++) {
            if (!x->durables[i].external && strcmp(x->durables[i].key, key) == 0) {
                *w = x;
                *nsi = i;
                return true;
            }
        }
    }
    return false;
}

/* Safe-call body run as the event: api.deliver(handle, nsIndex, id, name, kind, meta, body) -> promise. */
static duk_ret_t deliver_body(duk_context *ctx, void *udata)
{
    run_ctx_t *x = udata;
    ew__do_msg_t *m = x->msg;
    ew__durable_push_api(ctx);
    duk_push_literal(ctx, "deliver");
    duk_push_pointer(ctx, x->obj);
    duk_push_uint(ctx, (duk_uint_t) x->obj->ns_index);
    duk_push_string(ctx, m->id);
    if (m->name != NULL)
        ew__push_utf8(ctx, m->name, strlen(m->name));
    else
        duk_push_undefined(ctx);
    duk_push_int(ctx, m->kind);
    ew__push_utf8(ctx, m->meta, m->meta_len);
    if (m->has_body) {
        void *buf = duk_push_fixed_buffer(ctx, m->body_len);
        if (m->body_len > 0)
            memcpy(buf, m->body, m->body_len);
        duk_push_buffer_object(ctx, -1, 0, m->body_len, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
    } else {
        duk_push_null(ctx);
    }
    duk_call_prop(ctx, -9, 7);
    duk_remove(ctx, -2);
    return 1;
}

/* A JSON string literal of s into buf (at most cap bytes): the encoding durable.js reads errors from. */
static size_t json_quote(char *buf, size_t cap, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    for (; *s && o + 8 < cap; s++) {
        unsigned char c = (unsigned char) *s;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char) c;
        } else if (c < 0x20) {
            o += (size_t) snprintf(buf + o, cap - o, "\\u%04x", c);
        } else {
            buf[o++] = (char) c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return o;
}

/* An error reply ["E", "Error", message] for the call. */
ew__do_msg_t *ew__do_error_reply(ew__do_msg_t *call, const char *message)
{
    char q[1100], meta[1200];
    json_quote(q, sizeof(q), message);
    int n = snprintf(meta, sizeof(meta), "[\"E\",\"Error\",%s]", q);
    return ew__do_reply_new(call, true, meta, (size_t) n, NULL, 0, false);
}

/* Builds the reply from deliver()'s result [failed, meta, body|null] at idx (never throws). */
ew__do_msg_t *ew__do_result_reply(duk_context *ctx, ew__do_msg_t *call, duk_idx_t idx)
{
    if (!duk_is_array(ctx, idx))
        return ew__do_error_reply(call, "internal error: the Durable Object's answer is malformed");
    duk_get_prop_index(ctx, idx, 0);
    duk_get_prop_index(ctx, idx, 1);
    duk_get_prop_index(ctx, idx, 2);
    ew__do_msg_t *r = NULL;
    if (duk_is_string(ctx, -2)) {
        size_t mlen;
        const char *meta = ew__to_utf8(ctx, -2, &mlen);
        duk_size_t blen = 0;
        const void *body = duk_is_buffer_data(ctx, -1) ? duk_get_buffer_data(ctx, -1, &blen) : NULL;
        r = ew__do_reply_new(call, duk_to_boolean(ctx, -3), meta, mlen, body, blen, duk_is_buffer_data(ctx, -1));
        duk_get_prop_index(ctx, idx, 3);
        if (r != NULL)
            r->tunnel = duk_get_uint(ctx, -1);
        duk_pop(ctx);
    } else {
        r = ew__do_error_reply(call, "internal error: the Durable Object's answer is malformed");
    }
    duk_pop_3(ctx);
    return r;
}

static void on_call_done(void *udata, duk_context *ctx, duk_idx_t value, ew_status_t outcome, const char *message)
{
    run_ctx_t *x = udata;
    ew__do_obj_t *o = x->obj;
    ew__do_msg_t *m = x->msg;
    free(x);
    o->active--;
    o->last_ms = now_ms();
    if (m->reply_to == NULL) { /* an alarm: nobody waits */
        ew__do_msg_free(m);
        return;
    }
    ew__do_msg_t *r;
    if (ctx != NULL && outcome == EW_OK) {
        r = ew__do_result_reply(ctx, m, value);
    } else if (ctx != NULL) {
        duk_dup(ctx, value);
        const char *text = duk_safe_to_string(ctx, -1);
        r = ew__do_error_reply(m, text);
        duk_pop(ctx);
    } else {
        r = ew__do_error_reply(m, message != NULL ? message : "The Durable Object failed.");
    }
    if (r == NULL) {
        ew__do_fail_call(m, "out of memory answering a Durable Object call");
        return;
    }
    r->reply_to = m->reply_to; /* the reference moves to the reply */
    m->reply_to = NULL;
    ew__do_msg_free(m);
    if (o->in_tx && o->confirm) { /* output gate: after the writes made so far are on disk */
        ew__do_msg_t **tail = &o->held;
        while (*tail != NULL)
            tail = &(*tail)->next;
        r->next = NULL;
        *tail = r;
    } else {
        send_reply(o->drt, r);
    }
}

static void handle_call(ew__do_rt_t *d, ew__do_msg_t *m)
{
    ew_worker_t *w;
    size_t nsi;
    if (!find_ns(d->rt, m->ns_key, &w, &nsi)) {
        ew__do_fail_call(m, "The Durable Object's worker is not loaded any more.");
        return;
    }
    ew__do_inbox_t *owner = ew__do_claim(m->ns_key, m->id, d->inbox);
    if (owner != d->inbox) { /* it moved while the call travelled: forward it */
        ew__do_post(owner, m);
        ew__do_inbox_unref(owner);
        return;
    }
    ew__do_inbox_unref(owner);
    ew_error_t err;
    ew__do_obj_t *o = find_obj(d, m->ns_key, m->id);
    if (o == NULL && (o = obj_new(d, w, nsi, m->id, &err)) == NULL) {
        if (d->rt->cfg.log != NULL)
            d->rt->cfg.log(d->rt->cfg.log_udata, EW_LOG_ERROR, w->name, err.message, strlen(err.message));
        ew__do_fail_call(m, "The Durable Object's storage could not be opened.");
        return;
    }
    ew__isolate_t *iso = ew__worker_isolate(o->w, &err);
    if (iso == NULL) {
        ew__do_fail_call(m, "The Durable Object's isolate could not be created.");
        return;
    }
    if (o->iso != iso) { /* its isolate was replaced: the instance is built again in the new one */
        struct api_args a = {"evict", o, -1, NULL};
        call_api(o->iso, &a);
        o->iso = iso;
    }
    run_ctx_t *x = malloc(sizeof(*x));
    if (x == NULL) {
        ew__do_fail_call(m, "out of memory running a Durable Object call");
        return;
    }
    x->obj = o;
    x->msg = m;
    o->active++;
    o->last_ms = now_ms();
    if (ew__dispatch_call(iso, deliver_body, x, on_call_done, x) != EW_OK) {
        o->active--;
        free(x);
        ew__do_fail_call(m, "out of memory running a Durable Object call");
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Calls made by this runtime's isolates, and their answers
 */

struct reply_args {
    ew__do_msg_t *r;
};

/* Safe-call body: settles the call's promise with [failed, meta, body|null]. */
static duk_ret_t reply_body(duk_context *ctx, void *udata)
{
    ew__do_msg_t *r = ((struct reply_args *) udata)->r;
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, CALLS_KEY);
    duk_get_prop_index(ctx, -1, r->token);
    duk_del_prop_index(ctx, -2, r->token);
    duk_idx_t p = duk_get_top_index(ctx);
    duk_push_array(ctx);
    duk_push_boolean(ctx, r->failed);
    duk_put_prop_index(ctx, -2, 0);
    ew__push_utf8(ctx, r->meta, r->meta_len);
    duk_put_prop_index(ctx, -2, 1);
    if (r->has_body) {
        void *buf = duk_push_fixed_buffer(ctx, r->body_len);
        if (r->body_len > 0)
            memcpy(buf, r->body, r->body_len);
        duk_push_buffer_object(ctx, -1, 0, r->body_len, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
    } else {
        duk_push_null(ctx);
    }
    duk_put_prop_index(ctx, -2, 2);
    if (r->tunnel != 0) {
        duk_push_uint(ctx, r->tunnel ^ 1); /* the caller's end */
        duk_put_prop_index(ctx, -2, 3);
    }
    if (r->stream != 0) { /* a service's streamed body (service.c): service.js asks for it by this id */
        duk_push_number(ctx, (double) r->stream);
        duk_put_prop_index(ctx, -2, 4);
    }
    ew__promise_settle(ctx, p, false);
    return 0;
}

static void handle_reply(ew__do_rt_t *d, ew__do_msg_t *r)
{
    do_call_t *c = NULL;
    for (do_call_t **pp = &d->calls; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->token == r->token) {
            c = *pp;
            *pp = c->next;
            break;
        }
    }
    if (c == NULL) { /* the caller's isolate went away */
        ew__do_msg_free(r);
        return;
    }
    ew__isolate_t *iso = c->iso;
    uint32_t req_id = c->req_id;
    free(c);
    if (r->tunnel != 0 && r->from != NULL && tunnel_new(d, r->tunnel ^ 1, iso, NULL, r->from) != NULL)
        r->from = NULL; /* the reference moved to the caller's end */
    if (r->stream != 0 && !ew__service_stream_arrived(d->rt, iso, r))
        r->stream = 0; /* out of memory: the body is cancelled, the Response gets none */
    if (iso->io_pending > 0)
        iso->io_pending--;
    if (!iso->dead && iso->ctx != NULL) {
        struct reply_args a = {r};
        ew__isolate_enter(iso, req_id ? ew__isolate_find_req(iso, req_id) : NULL);
        int rc = ew__isolate_pcall(iso, reply_body, &a, 0, 0);
        if (rc == DUK_EXEC_ERROR)
            duk_pop(iso->ctx);
        ew__isolate_settle(iso);
    }
    ew__do_msg_free(r);
}

static void handle_tunnel(ew__do_rt_t *d, ew__do_msg_t *m);

static void handle_msg(void *udata, ew__do_msg_t *m)
{
    ew__do_rt_t *d = udata;
    if (m->type == EW__DO_REPLY)
        handle_reply(d, m);
    else if (m->type == EW__DO_TUNNEL)
        handle_tunnel(d, m);
    else if (m->type == EW__DO_STREAM)
        ew__service_handle_stream(d->rt, m);
    else if (m->kind == EW__SVC_FETCH || m->kind == EW__SVC_RPC)
        ew__service_handle_call(d->rt, m);
    else
        handle_call(d, m);
}


/* ---------------------------------------------------------------------------------------------------------
 * WebSocket tunnels: an object's fetch() answered 101 with a WebSocket, possibly on another thread. Each side
 * has a relay in durable.js (the object's side: the client end the object returned, accepted; the caller's
 * side: the server end of a new WebSocketPair whose client end goes in the caller's 101 Response), and the
 * two relays exchange whole messages and the close through the inboxes:
 *
 *   host <-> caller's client end <-> caller relay ==TUNNEL msgs==> object relay <-> object's server end
 *
 * The object's end has an even id (process-wide unique), the caller's end that id + 1; a message carries
 * the id of the end it is for (both ends may live in one isolate). The object's end queues what it writes until the reply carrying the
 * id has left (the output gate may hold it), then sends in order behind it.
 */

static do_tunnel_t *tunnel_new(ew__do_rt_t *d, uint32_t id, ew__isolate_t *iso, ew__do_obj_t *obj,
                               ew__do_inbox_t *peer)
{
    do_tunnel_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->id = id;
    t->iso = iso;
    t->obj = obj;
    t->peer = peer;
    t->pending_tail = &t->pending;
    t->next = d->tunnels;
    d->tunnels = t;
    return t;
}

static void tunnel_free(ew__do_rt_t *d, do_tunnel_t *t)
{
    for (do_tunnel_t **pp = &d->tunnels; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    while (t->pending != NULL) {
        ew__do_msg_t *m = t->pending;
        t->pending = m->next;
        ew__do_msg_free(m);
    }
    if (t->peer != NULL)
        ew__do_inbox_unref(t->peer);
    if (t->free_ev != NULL)
        event_free(t->free_ev);
    ew_websocket_destroy(t->host); /* NULL for the relay ends */
    free(t);
}

/* Sends (or queues) one message of this end to the other. */
static void tunnel_write(do_tunnel_t *t, int kind, const void *data, size_t len, int code)
{
    ew__do_msg_t *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->meta = malloc(len + 1)) == NULL) {
        free(m);
        return;
    }
    m->type = EW__DO_TUNNEL;
    m->kind = kind;
    m->token = t->id ^ 1; /* addressed to the other end */
    m->code = code;
    if (len > 0)
        memcpy(m->meta, data, len);
    m->meta[len] = '\0';
    m->meta_len = len;
    if (kind == EW__TUNNEL_CLOSE)
        t->sent_close = true;
    ew__do_obj_t *o = t->obj;
    if (t->peer != NULL && o != NULL && o->in_tx && o->confirm) {
        /* The output gate holds the object's WebSocket messages too, behind the replies it holds. */
        m->reply_to = t->peer;
        ew__do_inbox_ref(t->peer);
        ew__do_msg_t **tail = &o->held;
        while (*tail != NULL)
            tail = &(*tail)->next;
        *tail = m;
    } else if (t->peer != NULL) {
        ew__do_post(t->peer, m);
    } else {
        *t->pending_tail = m;
        t->pending_tail = &m->next;
    }
}

struct tunnel_args {
    ew__do_msg_t *m;
};

/* Safe-call body: api.tunnelEvent(id, kind, data, code). */
static duk_ret_t tunnel_body(duk_context *ctx, void *udata)
{
    ew__do_msg_t *m = ((struct tunnel_args *) udata)->m;
    ew__durable_push_api(ctx);
    duk_push_literal(ctx, "tunnelEvent");
    duk_push_uint(ctx, (duk_uint_t) m->token);
    duk_push_int(ctx, m->kind);
    if (m->kind == EW__TUNNEL_BINARY) {
        void *buf = duk_push_fixed_buffer(ctx, m->meta_len);
        if (m->meta_len > 0)
            memcpy(buf, m->meta, m->meta_len);
        duk_push_buffer_object(ctx, -1, 0, m->meta_len, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
    } else {
        ew__push_utf8(ctx, m->meta, m->meta_len);
    }
    duk_push_int(ctx, m->code);
    duk_call_prop(ctx, -6, 4);
    return 0;
}

static void handle_tunnel(ew__do_rt_t *d, ew__do_msg_t *m)
{
    do_tunnel_t *t = find_tunnel(d, (uint32_t) m->token);
    if (t == NULL || t->got_close) {
        ew__do_msg_free(m);
        return;
    }
    if (m->kind == EW__TUNNEL_CLOSE)
        t->got_close = true;
    if (t->obj != NULL)
        t->obj->last_ms = now_ms();
    uint32_t id = t->id;
    ew__isolate_t *iso = t->iso;
    if (t->host != NULL) { /* to the Worker's end of a service binding's WebSocket */
        size_t rlen = m->meta_len > 123 ? 123 : m->meta_len;
        if (m->kind == EW__TUNNEL_CLOSE && ew_websocket_close(t->host, m->code, m->meta, rlen) == EW_ERR_INVALID_ARG)
            (void) ew_websocket_close(t->host, 1000, m->meta, rlen); /* a code no close frame carries */
        else if (m->kind != EW__TUNNEL_CLOSE)
            (void) ew_websocket_send(t->host, m->kind == EW__TUNNEL_TEXT, m->meta, m->meta_len);
    } else if (iso != NULL && !iso->dead && iso->ctx != NULL) {
        struct tunnel_args a = {m};
        ew__isolate_enter(iso, NULL);
        int rc = ew__isolate_pcall(iso, tunnel_body, &a, 0, 1);
        if (rc == DUK_EXEC_ERROR)
            (void) ew__log_uncaught(iso->ctx, -1, "Durable Object WebSocket: ");
        if (rc != -1)
            duk_pop_n(iso->ctx, rc == DUK_EXEC_ERROR ? 2 : 1);
        ew__isolate_settle(iso);
    }
    t = find_tunnel(d, id); /* the relay may have answered the close, which freed the end */
    if (t != NULL && t->got_close && t->sent_close)
        tunnel_free(d, t);
    ew__do_msg_free(m);
}

/* A service binding's target answered a fetch with a WebSocket (lib/bindings/service.c): the Worker's end is
 * a host handle, coupled here to a tunnel end whose messages go to and come from the caller's relay, as an
 * object's end does. Its callbacks run from the loop; the handle is destroyed from free_ev, never inside
 * them. */
static void host_end_free(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    do_tunnel_t *t = arg;
    tunnel_free(t->drt, t);
}

static void host_end_message(void *udata, int is_text, const void *data, size_t len)
{
    do_tunnel_t *t = udata;
    if (!t->sent_close)
        tunnel_write(t, is_text ? EW__TUNNEL_TEXT : EW__TUNNEL_BINARY, data, len, 0);
}

static void host_end_close(void *udata, int code, const char *reason, size_t reason_len)
{
    do_tunnel_t *t = udata;
    if (!t->sent_close)
        tunnel_write(t, EW__TUNNEL_CLOSE, reason, reason_len, code);
    if (t->got_close)
        event_active(t->free_ev, EV_TIMEOUT, 1);
}

bool ew__do_reply_with_websocket(ew_runtime_t *rt, ew__do_msg_t *r, ew_websocket_t *ws)
{
    ew__do_rt_t *d = rt->durable;
    uint32_t id = atomic_fetch_add(&next_tunnel_id, 2);
    do_tunnel_t *t = d != NULL ? tunnel_new(d, id, NULL, NULL, NULL) : NULL;
    if (t == NULL)
        return false;
    t->drt = d;
    t->free_ev = event_new(rt->base, -1, 0, host_end_free, t);
    ew_websocket_handler_t h = {host_end_message, host_end_close, t};
    if (t->free_ev == NULL || ew_websocket_attach(ws, &h) != EW_OK) {
        tunnel_free(d, t);
        return false;
    }
    t->host = ws; /* owned from now on: the response gave it up with the attach */
    r->tunnel = id;
    send_reply(d, r);
    return true;
}

/* Closes and forgets the tunnel ends an isolate fed: the other ends see 1001 Going Away. */
static void tunnels_isolate_gone(ew__do_rt_t *d, ew__isolate_t *iso)
{
    for (do_tunnel_t *t = d->tunnels, *next; t != NULL; t = next) {
        next = t->next;
        if (t->iso != iso)
            continue;
        if (!t->sent_close)
            tunnel_write(t, EW__TUNNEL_CLOSE, GONE_ISOLATE, sizeof(GONE_ISOLATE) - 1, 1001);
        tunnel_free(d, t);
    }
}

/* The tunnel end `id` of this isolate, or NULL when it has ended (late events of a relay are dropped). */
static do_tunnel_t *tunnel_of(duk_context *ctx, duk_idx_t idx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    do_tunnel_t *t = iso != NULL && iso->rt->durable != NULL ? find_tunnel(iso->rt->durable, duk_get_uint(ctx, idx))
                                                             : NULL;
    return t != NULL && t->iso == iso ? t : NULL;
}

/* tunnelOpen(handle) -> id: the object's end, for the WebSocket its fetch() returned. */
static duk_ret_t native_tunnel_open(duk_context *ctx)
{
    ew__do_obj_t *o = ew__do_require_obj(ctx, 0);
    uint32_t id = atomic_fetch_add(&next_tunnel_id, 2);
    if (tunnel_new(o->drt, id, ew__isolate_of(ctx), o, NULL) == NULL)
        return duk_error(ctx, DUK_ERR_ERROR, "out of memory opening a WebSocket to a Durable Object");
    duk_push_uint(ctx, id);
    return 1;
}

/* tunnelSend(id, data): a message (string: text, ArrayBuffer: binary) to the other end. */
static duk_ret_t native_tunnel_send(duk_context *ctx)
{
    do_tunnel_t *t = tunnel_of(ctx, 0);
    if (t == NULL || t->sent_close)
        return 0;
    if (duk_is_buffer_data(ctx, 1)) {
        duk_size_t n;
        const void *p = duk_get_buffer_data(ctx, 1, &n);
        tunnel_write(t, EW__TUNNEL_BINARY, p, n, 0);
    } else {
        size_t n;
        const char *p = ew__to_utf8(ctx, 1, &n);
        tunnel_write(t, EW__TUNNEL_TEXT, p, n, 0);
    }
    return 0;
}

/* wsModule() -> lib/js/websocket.js's module object (the relays' abortRelay). */
static duk_ret_t native_ws_module(duk_context *ctx)
{
    ew__ws_push_module(ctx);
    return 1;
}

/* tunnelClose(id, code, reason): the close to the other end; the end is freed once both closes passed. */
static duk_ret_t native_tunnel_close(duk_context *ctx)
{
    do_tunnel_t *t = tunnel_of(ctx, 0);
    if (t == NULL || t->sent_close)
        return 0;
    size_t n;
    const char *reason = ew__to_utf8(ctx, 2, &n);
    tunnel_write(t, EW__TUNNEL_CLOSE, reason, n, duk_get_int(ctx, 1));
    if (t->got_close)
        tunnel_free(iso_drt(ctx), t);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Alarms
 */

static void on_alarm(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    do_alarm_t *a = arg;
    ew__do_rt_t *d = a->drt;
    for (do_alarm_t **pp = &d->alarms; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    }
    ew__do_msg_t *m = calloc(1, sizeof(*m));
    char meta[64];
    int n = snprintf(meta, sizeof(meta), "%d", a->retry);
    if (m != NULL && (m->ns_key = strdup(a->ns_key)) != NULL && (m->meta = strdup(meta)) != NULL) {
        m->type = EW__DO_CALL;
        m->kind = EW__DO_ALARM;
        m->meta_len = (size_t) n;
        memcpy(m->id, a->id, 65);
        ew__do_inbox_t *owner = ew__do_claim(m->ns_key, m->id, d->inbox);
        ew__do_post(owner, m);
        ew__do_inbox_unref(owner);
    } else {
        ew__do_msg_free(m);
    }
    alarm_free(a);
}

static void arm_alarm(ew__do_rt_t *d, const char *ns_key, const char *id, double when_ms, int retry)
{
    do_alarm_t *a = calloc(1, sizeof(*a));
    if (a == NULL || (a->ns_key = strdup(ns_key)) == NULL || (a->ev = evtimer_new(d->rt->base, on_alarm, a)) == NULL) {
        if (a != NULL)
            free(a->ns_key);
        free(a);
        return;
    }
    a->drt = d;
    a->retry = retry;
    memcpy(a->id, id, 65);
    double delay = when_ms - wall_ms();
    if (delay < 0)
        delay = 0;
    if (delay > 365.0 * 86400000.0)
        delay = 365.0 * 86400000.0;
    struct timeval tv = {(time_t) (delay / 1000), (suseconds_t) ((uint64_t) delay % 1000) * 1000};
    evtimer_add(a->ev, &tv);
    a->next = d->alarms;
    d->alarms = a;
}

/* ---------------------------------------------------------------------------------------------------------
 * Natives of durable.js
 */

static const ew__do_ns_t *require_ns(duk_context *ctx, duk_idx_t idx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    duk_uint_t i = duk_get_uint(ctx, idx);
    if (iso == NULL || iso->worker == NULL || i >= iso->worker->ndurables)
        (void) duk_type_error(ctx, "Illegal invocation");
    return &iso->worker->durables[i];
}

static void push_hex(duk_context *ctx, const unsigned char *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char out[65];
    for (size_t i = 0; i < n && i < 32; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    duk_push_lstring(ctx, out, 2 * n);
}

static void hmac(const ew__do_ns_t *ns, const void *data, size_t len, unsigned char out[32])
{
    char key[400];
    int n = snprintf(key, sizeof(key), "ew-durable-object|%s", ns->dir);
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *) key, (size_t) n, data, len,
                    out);
}

/* Ids are 32 bytes: 24 identifying the object (random, or derived from the name) and 8 authenticating them
 * for the namespace, so idFromString can tell an id of another namespace (as Cloudflare's can). */
static void finish_id(const ew__do_ns_t *ns, unsigned char id[32])
{
    unsigned char mac[32];
    hmac(ns, id, 24, mac);
    memcpy(id + 24, mac, 8);
}

/* idFromName(nsIndex, name) -> hex */
static duk_ret_t native_id_from_name(duk_context *ctx)
{
    const ew__do_ns_t *ns = require_ns(ctx, 0);
    size_t n;
    const char *name = ew__to_utf8(ctx, 1, &n);
    unsigned char id[32], mac[32];
    char *msg = malloc(n + 5);
    if (msg == NULL)
        return duk_error(ctx, DUK_ERR_ERROR, "out of memory");
    memcpy(msg, "name", 4);
    msg[4] = '\0'; /* "name\0<name>": no other input of the MAC starts this way */
    memcpy(msg + 5, name, n);
    hmac(ns, msg, n + 5, mac);
    free(msg);
    memcpy(id, mac, 24);
    finish_id(ns, id);
    push_hex(ctx, id, 32);
    return 1;
}

/* newUniqueId(nsIndex) -> hex */
static duk_ret_t native_new_unique_id(duk_context *ctx)
{
    const ew__do_ns_t *ns = require_ns(ctx, 0);
    unsigned char id[32];
    if (getrandom(id, 24, 0) != 24)
        return duk_error(ctx, DUK_ERR_ERROR, "the system's random source failed");
    id[0] &= 0x7f; /* unique ids and named ids differ in their first bit, as Cloudflare's do */
    finish_id(ns, id);
    push_hex(ctx, id, 32);
    return 1;
}

/* checkId(nsIndex, string) -> "" when it is an id of this namespace, else workerd's TypeError message. */
static duk_ret_t native_check_id(duk_context *ctx)
{
    const ew__do_ns_t *ns = require_ns(ctx, 0);
    size_t n;
    const char *s = duk_is_string(ctx, 1) ? duk_get_lstring(ctx, 1, &n) : NULL;
    if (s == NULL || !is_hex_id(s, n)) {
        duk_push_string(ctx, "Invalid Durable Object ID: must be 64 hex digits");
        return 1;
    }
    unsigned char id[32], expect[32];
    for (int i = 0; i < 32; i++) {
        int hi = s[2 * i] <= '9' ? s[2 * i] - '0' : s[2 * i] - 'a' + 10;
        int lo = s[2 * i + 1] <= '9' ? s[2 * i + 1] - '0' : s[2 * i + 1] - 'a' + 10;
        id[i] = (unsigned char) (hi << 4 | lo);
    }
    memcpy(expect, id, 32);
    finish_id(ns, expect);
    duk_push_string(ctx, memcmp(expect + 24, id + 24, 8) == 0 ? "" : "Durable Object ID is not valid for this namespace.");
    return 1;
}

/* The two halves of a call from an isolate. push: pushes [calls table, new promise] (may throw, so call it
 * before allocating the message). post: registers m (a CALL, owned) as waiting for its answer, posts it to
 * `to` (whose reference the caller keeps) and leaves only the promise, which the answer settles with
 * [failed, meta, body|null]. False when out of memory (m is freed, the two values are still there). */
void ew__do_push_call_promise(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, CALLS_KEY);
    duk_remove(ctx, -2);
    ew__promise_push_new(ctx);
}

bool ew__do_post_call(duk_context *ctx, ew__do_msg_t *m, ew__do_inbox_t *to)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    ew__do_rt_t *d = iso->rt->durable;
    do_call_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        ew__do_msg_free(m);
        return false;
    }
    c->token = d->next_token++;
    if (d->next_token == 0)
        d->next_token = 1;
    c->iso = iso;
    c->req_id = iso->running != NULL ? iso->running->id : 0;
    c->next = d->calls;
    d->calls = c;
    duk_dup_top(ctx);
    duk_put_prop_index(ctx, -3, c->token);
    duk_remove(ctx, -2);
    m->token = c->token;
    m->reply_to = d->inbox;
    ew__do_inbox_ref(d->inbox);
    iso->io_pending++;
    ew__do_post(to, m);
    return true;
}

/* call(nsIndex, id, name, kind, meta, body|null) -> promise of [failed, meta, body|null] */
static duk_ret_t native_call(duk_context *ctx)
{
    const ew__do_ns_t *ns = require_ns(ctx, 0);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    ew__do_rt_t *d = iso->rt->durable;
    size_t idlen, mlen, nlen = 0;
    const char *id = duk_require_lstring(ctx, 1, &idlen);
    if (d == NULL || !is_hex_id(id, idlen))
        return duk_type_error(ctx, "Illegal invocation");
    const char *name = duk_is_string(ctx, 2) ? ew__to_utf8(ctx, 2, &nlen) : NULL;
    const char *meta = ew__to_utf8(ctx, 4, &mlen);
    duk_size_t blen = 0;
    const void *body = duk_is_buffer_data(ctx, 5) ? duk_get_buffer_data(ctx, 5, &blen) : NULL;
    bool has_body = duk_is_buffer_data(ctx, 5);
    ew__do_push_call_promise(ctx); /* may throw: nothing allocated in C yet */
    ew__do_msg_t *m = calloc(1, sizeof(*m));
    if (m != NULL) {
        m->ns_key = strdup(ns->key);
        m->name = name != NULL ? strndup(name, nlen) : NULL;
        m->meta = strndup(meta, mlen);
        m->body = has_body ? malloc(blen ? blen : 1) : NULL;
    }
    if (m == NULL || m->ns_key == NULL || m->meta == NULL || (name != NULL && m->name == NULL) ||
        (has_body && m->body == NULL)) {
        ew__do_msg_free(m);
        return duk_error(ctx, DUK_ERR_ERROR, "out of memory calling a Durable Object");
    }
    m->type = EW__DO_CALL;
    m->kind = duk_get_int(ctx, 3);
    memcpy(m->id, id, 64);
    m->id[64] = '\0';
    m->meta_len = mlen;
    if (has_body && blen > 0)
        memcpy(m->body, body, blen);
    m->body_len = blen;
    m->has_body = has_body;
    ew__do_inbox_t *owner = ew__do_claim(ns->key, m->id, d->inbox);
    bool posted = ew__do_post_call(ctx, m, owner);
    ew__do_inbox_unref(owner);
    if (!posted)
        return duk_error(ctx, DUK_ERR_ERROR, "out of memory calling a Durable Object");
    return 1;
}

/* loadDurable(): loads durable.js into this isolate (service.js needs its WebSocket relays). */
static duk_ret_t native_load_durable(duk_context *ctx)
{
    ew__durable_push_api(ctx);
    return 0;
}

/* exportOf(name) -> the entry module's export */
static duk_ret_t native_export_of(duk_context *ctx)
{
    ew__dispatch_push_export(ctx, duk_require_string(ctx, 0));
    return 1;
}

/* env() -> the worker's env */
static duk_ret_t native_env(duk_context *ctx)
{
    ew__dispatch_push_env(ctx);
    return 1;
}

/* sqlEnabled(nsIndex) -> whether the class is SQLite-backed */
static duk_ret_t native_sql_enabled(duk_context *ctx)
{
    duk_push_boolean(ctx, require_ns(ctx, 0)->sql);
    return 1;
}

/* armAlarm(handle, whenMs, retry): a timer that delivers alarm() to the object at whenMs. */
static duk_ret_t native_arm_alarm(duk_context *ctx)
{
    ew__do_obj_t *o = ew__do_require_obj(ctx, 0);
    arm_alarm(o->drt, o->w->durables[o->ns_index].key, o->id, duk_require_number(ctx, 1), duk_get_int(ctx, 2));
    return 0;
}

/* schedulePump(handle): api.pump(nsIndex, id) runs from the loop, after this macrotask's microtasks. */
static duk_ret_t native_schedule_pump(duk_context *ctx)
{
    ew__do_obj_t *o = ew__do_require_obj(ctx, 0);
    if (o->pump_iso == NULL && o->iso != NULL) {
        o->pump_iso = o->iso; /* events queued behind the gate are waiting for this, not hung */
        o->iso->io_pending++;
    }
    event_active(o->pump_ev, EV_TIMEOUT, 1);
    return 0;
}

static const ew__method_t natives[] = {
    {"schedulePump", native_schedule_pump, 1, 1},
    {"tunnelOpen", native_tunnel_open, 1, 1},
    {"tunnelSend", native_tunnel_send, 2, 2},
    {"tunnelClose", native_tunnel_close, 3, 3},
    {"wsModule", native_ws_module, 0, 0},
    {"idFromName", native_id_from_name, 2, 2},
    {"newUniqueId", native_new_unique_id, 1, 1},
    {"checkId", native_check_id, 2, 2},
    {"call", native_call, 6, 6},
    {"exportOf", native_export_of, 1, 1},
    {"env", native_env, 0, 0},
    {"sqlEnabled", native_sql_enabled, 1, 1},
    {"armAlarm", native_arm_alarm, 3, 3},
    {"exec", ew__do_native_exec, DUK_VARARGS, 4},
    {"txn", ew__do_native_txn, 2, 2},
    {"size", ew__do_native_size, 1, 1},
    {"serviceCall", ew__service_native_call, 4, 4},
    {"context", ew__service_native_context, 0, 0},
    {"loadDurable", native_load_durable, 0, 0},
    {"streamBody", ew__service_native_stream_body, 1, 1},
    {NULL, NULL, 0, 0},
};
