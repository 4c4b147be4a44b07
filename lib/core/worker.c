/*
 * worker.c — the public worker API: loading a script, dispatching events, the blocking helpers, stats.
 *
 * Loading compiles the script once (in the first isolate; or takes it from the compile cache, or from a bytecode
 * bundle file), keeps the bytecode, and starts every isolate of the worker from that bytecode, so a replacement
 * isolate (after a limit) is ready in about a millisecond.
 * Events go to the worker's current isolate; when it has been condemned, the next event creates a new one.
 * Condemned isolates are reaped from the loop once their last request is done (reap_ev).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/assets.h"
#include "bindings/internal.h"
#include "bindings/queue.h"
#include "bindings/ratelimit.h"
#include "bytecode_file.h"
#include "compile/bundle.h"
#include "compile/compile.h"
#include "compile_cache.h"
#include "dispatch.h"
#include "web/internal.h"
#include "web/url.h"

#define ENV_KEY DUK_HIDDEN_SYMBOL("env")

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static size_t heap_limit(const ew_runtime_t *rt)
{
    return (size_t) (rt->cfg.memory_mb ? rt->cfg.memory_mb : 128) << 20;
}

/* ---------------------------------------------------------------------------------------------------------
 * Compiling and starting
 */

/* Fills err for a syntax error: file:line and the offending line as a code frame. */
static void syntax_error(duk_context *ctx, const ew__bc_text_t *a, ew_error_t *err)
{
    ew__error_from_js(ctx, err, EW_ERR_SYNTAX);
    if (err == NULL)
        return;
    snprintf(err->file, sizeof(err->file), "%s", a->filename);
    duk_get_prop_literal(ctx, -1, "message");
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : "syntax error");
    duk_pop(ctx);
    /* Find the line's text for the code frame. */
    const char *p = a->source, *end = a->source + a->len;
    for (int l = 1; l < err->line && p < end; l++) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        p = nl ? nl + 1 : end;
    }
    const char *eol = memchr(p, '\n', (size_t) (end - p));
    int linelen = (int) ((eol ? eol : end) - p);
    if (linelen > 200)
        linelen = 200;
    snprintf(err->message, sizeof(err->message), "%s:%d: SyntaxError: %s\n%5d | %.*s", a->filename, err->line, msg,
             err->line, linelen, p);
}

/* A bytecode bundle (`ew-server build -o`, ew_compile_bundle): checked (bytecode_file.c), never compiled. */
static ew_status_t load_bundle(ew_worker_t *w, const char *data, size_t len, ew_error_t *err)
{
    const void *bc;
    size_t n;
    ew_status_t st = ew__bc_decode(w->filename, data, len, &bc, &n, NULL, NULL, err);
    if (st != EW_OK)
        return st;
    if ((w->bytecode = malloc(n)) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading %s", w->filename);
    memcpy(w->bytecode, bc, n);
    w->bytecode_len = n;
    return EW_OK;
}

/* Source to w->bytecode: from the compile cache when this code was compiled before (compile_cache.h), else
 * lowered to ES5 (lib/compile: modules bundled from the entry; syntax errors with their original
 * file:line:col and a code frame), compiled in the isolate (under its memory limit) and dumped. */
static ew_status_t compile_worker(ew__isolate_t *iso, ew_worker_t *w, const char *src, size_t len, ew_error_t *err)
{
    if (ew__bc_is_bundle(src, len))
        return load_bundle(w, src, len, err);
    const char *state_dir = w->rt->cfg.state_dir;
    ew__ccache_ticket_t ticket;
    void *cached;
    size_t cached_len;
    if (ew__ccache_get(state_dir, w->filename, src, len, (int) w->source_type, &cached, &cached_len, &ticket)) {
        w->bytecode = cached;
        w->bytecode_len = cached_len;
        return EW_OK;
    }
    ew__bc_dep_t *deps = NULL;
    size_t ndeps = 0;
    ew__compile_out_t lowered;
    ew_status_t st = ew__bc_lower(w->filename, src, len, (int) w->source_type, &lowered, &deps, &ndeps, err);
    if (st != EW_OK) {
        ew__ccache_abandon(&ticket);
        return st;
    }
    ew__ccache_count_compile();
    ew__bc_text_t a = {lowered.text, lowered.len, w->filename};
    int rc = ew__isolate_call(iso, NULL, ew__bc_dump_body, &a, 0, 1);
    if (rc != DUK_EXEC_SUCCESS) {
        if (rc == -1)
            st = ew__error_set(err, EW_ERR_INTERNAL, "the isolate failed while compiling %s", w->filename);
        else if (iso->abort_reason != EW_OK) {
            iso->abort_reason = EW_OK;
            st = ew__error_set(err, EW_ERR_MEMORY_LIMIT, "%s: compiling the script exceeded the memory limit",
                               w->filename);
        } else {
            /* The compiler's output did not compile: a compiler bug, reported with the generated line. */
            syntax_error(iso->ctx, &a, err);
            if (err != NULL) {
                static const char pre[] = "internal compiler error (please report): ";
                size_t n = strnlen(err->message, sizeof(err->message) - sizeof(pre));
                memmove(err->message + sizeof(pre) - 1, err->message, n);
                memcpy(err->message, pre, sizeof(pre) - 1);
                err->message[n + sizeof(pre) - 1] = '\0';
            }
            st = EW_ERR_INTERNAL;
        }
        if (rc != -1)
            duk_pop(iso->ctx);
        ew__compile_out_dispose(&lowered);
        ew__bc_deps_free(deps, ndeps);
        ew__ccache_abandon(&ticket);
        return st;
    }
    ew__compile_out_dispose(&lowered);
    duk_size_t n;
    const void *bc = duk_get_buffer_data(iso->ctx, -1, &n);
    w->bytecode = malloc(n);
    if (w->bytecode == NULL) {
        duk_pop(iso->ctx);
        ew__bc_deps_free(deps, ndeps);
        ew__ccache_abandon(&ticket);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory keeping the compiled script");
    }
    memcpy(w->bytecode, bc, n);
    w->bytecode_len = n;
    duk_pop(iso->ctx);
    ew__ccache_put(state_dir, &ticket, deps, ndeps, w->bytecode, n);
    ew__bc_deps_free(deps, ndeps);
    return EW_OK;
}

/* Safe-call body: env object, globals for the service-worker form, then the script's top level. */
static duk_ret_t start_body(duk_context *ctx, void *udata)
{
    ew_worker_t *w = udata;
    duk_push_global_stash(ctx);
    duk_push_object(ctx);
    for (size_t i = 0; i < w->nvars; i++) {
        ew__push_utf8(ctx, w->vars[i].value, strlen(w->vars[i].value));
        if (w->vars[i].is_json)
            duk_json_decode(ctx, -1);
        /* Service-worker scripts see their bindings as globals, as on Cloudflare. */
        duk_dup_top(ctx);
        duk_put_global_string(ctx, w->vars[i].name);
        duk_put_prop_string(ctx, -2, w->vars[i].name);
    }
    ew__bindings_install(ctx, w, -1);
    ew__resources_install(ctx, w, -1);
    ew__cache_install(ctx);
    ew__assets_install(ctx, w->assets, -1);
    ew__ratelimits_install(ctx, w->ratelimits, -1);
    ew__durable_install(ctx, w, -1);
    ew__queues_install(ctx, w->queues, -1);
    ew__service_install(ctx, w, -1);
    duk_put_prop_literal(ctx, -2, ENV_KEY);
    duk_pop(ctx);

    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, w->bytecode, w->bytecode_len);
    duk_load_function(ctx);
    duk_push_global_object(ctx);
    ew__push_helpers(ctx); /* the compiled program's hidden parameter */
    duk_call_method(ctx, 1);
    /* A module entry returns its namespace: keep it for export default { fetch, scheduled }. */
    if (duk_is_object(ctx, -1))
        ew__dispatch_set_exports(ctx);
    return 0;
}

ew_status_t ew__worker_start(ew__isolate_t *iso, ew_error_t *err)
{
    ew_worker_t *w = iso->worker;
    ew__isolate_enter(iso, NULL);
    int rc = ew__isolate_pcall(iso, start_body, w, 0, 1);
    if (rc != DUK_EXEC_SUCCESS)
        ew__isolate_leave(iso);
    if (rc == -1)
        return ew__error_set(err, EW_ERR_INTERNAL, "the isolate failed while starting %s", w->filename);
    if (rc != DUK_EXEC_SUCCESS) {
        ew_status_t why = iso->abort_reason;
        iso->abort_reason = EW_OK;
        iso->abort_req = NULL;
        if (why == EW_ERR_CPU_LIMIT) {
            duk_pop(iso->ctx);
            return ew__error_set(err, why, "%s: the script's top level exceeded the CPU time limit", w->filename);
        }
        if (why == EW_ERR_MEMORY_LIMIT) {
            duk_pop(iso->ctx);
            return ew__error_set(err, why, "%s: the script's top level exceeded the memory limit", w->filename);
        }
        ew__error_from_js(iso->ctx, err, EW_ERR_EXCEPTION);
        if (err != NULL) {
            static const char pre[] = "Uncaught ";
            size_t n = strlen(err->message);
            if (n + sizeof(pre) > sizeof(err->message))
                n = sizeof(err->message) - sizeof(pre);
            memmove(err->message + sizeof(pre) - 1, err->message, n);
            memcpy(err->message, pre, sizeof(pre) - 1);
            err->message[n + sizeof(pre) - 1] = '\0';
        }
        duk_pop(iso->ctx);
        return EW_ERR_EXCEPTION;
    }
    duk_pop(iso->ctx);
    ew__isolate_settle(iso);
    if (iso->condemned)
        return ew__error_set(err, EW_ERR_CPU_LIMIT, "%s: the script's start-up work exceeded a limit", w->filename);
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Loading
 */

static ew_status_t read_file(const char *path, char **out, size_t *len, ew_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ew__error_set(err, EW_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    ew__buf_t b;
    ew__buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (!ew__buf_append(&b, chunk, n)) {
            fclose(f);
            ew__buf_dispose(&b);
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory reading %s", path);
        }
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        ew__buf_dispose(&b);
        return ew__error_set(err, EW_ERR_IO, "cannot read %s", path);
    }
    if (!ew__buf_append(&b, "", 0)) {
        ew__buf_dispose(&b);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory reading %s", path);
    }
    *out = b.data;
    *len = b.len;
    return EW_OK;
}

static void on_reap(evutil_socket_t fd, short what, void *arg);

static void worker_free(ew_worker_t *w)
{
    if (w == NULL)
        return;
    free(w->url_cache);
    if (w->reap_ev != NULL)
        event_free(w->reap_ev);
    for (size_t i = 0; i < w->nvars; i++) {
        free(w->vars[i].name);
        free(w->vars[i].value);
    }
    free(w->vars);
    for (size_t i = 0; i < w->nbindings; i++)
        ew__host_binding_free(&w->bindings[i]);
    free(w->bindings);
    for (size_t i = 0; i < w->nresources; i++)
        ew__resource_dispose(&w->resources[i]);
    free(w->resources);
    ew__assets_free(w->assets);
    ew__ratelimits_free(w->ratelimits);
    ew__queues_free(w->queues);
    ew__durable_dispose(w);
    ew__service_dispose(w);
    free(w->bytecode);
    free(w->filename);
    free(w->name);
    free(w);
}

static ew_status_t copy_config(ew_worker_t *w, const ew_worker_config_t *cfg, ew_error_t *err)
{
    const char *fname = cfg->path ? cfg->path : cfg->filename ? cfg->filename : "worker.js";
    w->name = dup_str(cfg->name ? cfg->name : "worker");
    w->filename = dup_str(fname);
    if (cfg->source_type != EW_SOURCE_AUTO && cfg->source_type != EW_SOURCE_MODULE &&
        cfg->source_type != EW_SOURCE_SCRIPT)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "source_type must be EW_SOURCE_AUTO, _MODULE or _SCRIPT");
    w->source_type = cfg->source_type;
    w->reap_ev = evtimer_new(w->rt->base, on_reap, w);
    if (cfg->nvars > 0)
        w->vars = calloc(cfg->nvars, sizeof(*w->vars));
    if (w->name == NULL || w->filename == NULL || w->reap_ev == NULL || (cfg->nvars > 0 && w->vars == NULL))
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    if (cfg->nbindings > 0 && (w->bindings = calloc(cfg->nbindings, sizeof(*w->bindings))) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    for (size_t i = 0; i < cfg->nbindings; i++) {
        const ew_binding_t *b = &cfg->bindings[i];
        if (b->name == NULL || b->name[0] == '\0' || b->call == NULL || (b->nmethods > 0 && b->methods == NULL))
            return ew__error_set(err, EW_ERR_INVALID_ARG, "bindings[%zu]: name and call are required", i);
        ew__host_binding_t *d = &w->bindings[i];
        w->nbindings = i + 1;
        d->call = b->call;
        d->cancel = b->cancel;
        d->udata = b->udata;
        d->call_method = -1;
        d->name = dup_str(b->name);
        d->methods = b->nmethods ? calloc(b->nmethods, sizeof(char *)) : NULL;
        if (d->name == NULL || (b->nmethods > 0 && d->methods == NULL))
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
        for (size_t m = 0; m < b->nmethods; m++) {
            if (b->methods[m] == NULL || b->methods[m][0] == '\0')
                return ew__error_set(err, EW_ERR_INVALID_ARG, "bindings[%zu].methods[%zu] is empty", i, m);
            if ((d->methods[m] = dup_str(b->methods[m])) == NULL)
                return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
            d->nmethods = m + 1;
            if (b->call_method != NULL && strcmp(b->call_method, b->methods[m]) == 0)
                d->call_method = (int) m;
        }
        if (b->call_method != NULL && d->call_method < 0)
            return ew__error_set(err, EW_ERR_INVALID_ARG, "bindings[%zu].call_method \"%s\" is not one of its methods",
                                 i, b->call_method);
    }
    if (cfg->nresources > 0 && cfg->resources == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "resources is NULL with nresources %zu", cfg->nresources);
    if (cfg->nresources > 0 && (w->resources = calloc(cfg->nresources, sizeof(*w->resources))) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    for (size_t i = 0; i < cfg->nresources; i++) {
        w->nresources = i + 1;
        ew_status_t st = ew__resource_copy(&w->resources[i], &cfg->resources[i], i, err);
        if (st != EW_OK)
            return st;
    }
    ew_status_t dst = ew__durable_copy(w, cfg, err);
    if (dst == EW_OK)
        dst = ew__service_copy(w, cfg, err);
    if (dst != EW_OK)
        return dst;
    for (size_t i = 0; i < cfg->nvars; i++) {
        const ew_var_t *v = &cfg->vars[i];
        if (v->name == NULL || v->name[0] == '\0' || v->value == NULL)
            return ew__error_set(err, EW_ERR_INVALID_ARG, "vars[%zu]: name and value are required", i);
        w->vars[i].name = dup_str(v->name);
        w->vars[i].value = dup_str(v->value);
        w->vars[i].is_json = v->is_json != 0;
        w->nvars = i + 1;
        if (w->vars[i].name == NULL || w->vars[i].value == NULL)
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    }
    return EW_OK;
}

EW_API ew_status_t ew_worker_load(ew_runtime_t *rt, const ew_worker_config_t *cfg, ew_worker_t **out,
                                  ew_error_t *err)
{
    ew__error_clear(err);
    if (out != NULL)
        *out = NULL;
    if (rt == NULL || cfg == NULL || out == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_worker_load: rt, cfg and out are required");
    if (cfg->path == NULL && cfg->source == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_worker_load: cfg->path or cfg->source is required");
    ew_worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    w->rt = rt;
    char *file_src = NULL;
    size_t len = cfg->source_len;
    ew_status_t st = copy_config(w, cfg, err);
    if (st == EW_OK)
        st = ew__assets_new(cfg->assets, rt->base, &w->assets, err);
    if (st == EW_OK)
        st = ew__ratelimits_new(cfg->ratelimits, cfg->nratelimits, &w->ratelimits, err);
    if (st == EW_OK)
        st = ew__resources_open(rt, w, err);
    if (st == EW_OK)
        st = ew__durable_open(rt, w, err);
    if (st == EW_OK)
        st = ew__queues_new(rt, cfg, &w->queues, err);
    if (st == EW_OK)
        st = ew__service_open(rt, w, err);
    if (st == EW_OK && cfg->path != NULL)
        st = read_file(cfg->path, &file_src, &len, err);
    if (st != EW_OK) {
        worker_free(w);
        return st;
    }
    ew__isolate_t *iso = ew__isolate_create(rt, NULL, heap_limit(rt), err);
    if (iso == NULL) {
        free(file_src);
        worker_free(w);
        return err ? err->code : EW_ERR_INTERNAL;
    }
    iso->worker = w;
    st = compile_worker(iso, w, file_src ? file_src : cfg->source, len, err);
    free(file_src);
    if (st == EW_OK)
        st = ew__worker_start(iso, err);
    if (st == EW_OK)
        st = ew__durable_check_classes(iso, err);
    if (st == EW_OK)
        st = ew__queues_start(w, err); /* consumers join the registry; delivery starts from the loop */
    if (st != EW_OK) {
        iso->worker = NULL;
        ew__isolate_destroy(iso);
        worker_free(w);
        return st;
    }
    w->current = iso;
    w->stats.isolates_created = 1;
    w->next = rt->workers;
    rt->workers = w;
    *out = w;
    return EW_OK;
}

EW_API void ew_worker_destroy(ew_worker_t *w)
{
    if (w == NULL)
        return;
    ew_runtime_t *rt = w->rt;
    ew__service_worker_gone(w); /* its streamed bodies to callers end first (their responses hold its requests) */
    for (ew_worker_t **pp = &rt->workers; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    if (w->current != NULL)
        ew__isolate_condemn(w->current);
    while (w->draining != NULL) {
        ew__isolate_t *iso = w->draining;
        w->draining = iso->next;
        iso->worker = w; /* the callbacks below still name the worker in logs */
        ew__req_cancel_all(iso);
        ew__isolate_destroy(iso);
    }
    ew__durable_worker_gone(w); /* after the isolates: cancelled object events above still use the objects */
    worker_free(w);
}

EW_API const char *ew_worker_name(const ew_worker_t *w)
{
    return w != NULL ? w->name : "";
}

/* ---------------------------------------------------------------------------------------------------------
 * Isolate selection and reaping
 */

/* The isolate that takes the next event: the current one, or a new one from the bytecode. */
static ew__isolate_t *isolate_for_event(ew_worker_t *w, ew_error_t *err)
{
    if (w->current != NULL && !w->current->condemned)
        return w->current;
    ew__isolate_t *iso = ew__isolate_create(w->rt, w, heap_limit(w->rt), err);
    if (iso == NULL)
        return NULL;
    w->current = iso;
    w->stats.isolates_created++;
    return iso;
}

ew__isolate_t *ew__worker_isolate(ew_worker_t *w, ew_error_t *err)
{
    return isolate_for_event(w, err);
}

void ew__isolate_maybe_reap(ew__isolate_t *iso)
{
    ew_worker_t *w = iso->worker;
    if (w == NULL || !iso->condemned || iso->pending > 0 || w->reap_ev == NULL)
        return;
    static const struct timeval zero = {0, 0};
    evtimer_add(w->reap_ev, &zero);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew_worker_t *w = arg;
    for (ew__isolate_t **pp = &w->draining; *pp != NULL;) {
        ew__isolate_t *iso = *pp;
        if (iso->pending == 0) {
            *pp = iso->next;
            ew__isolate_destroy(iso);
        } else {
            pp = &iso->next;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Events
 */

EW_API ew_status_t ew_worker_fetch_opts(ew_worker_t *w, const ew_request_t *req, const ew_fetch_options_t *opts,
                                        ew_response_fn cb, void *udata)
{
    return ew_worker_fetch_body(w, req, opts, NULL, cb, udata);
}

EW_API ew_status_t ew_worker_fetch_body(ew_worker_t *w, const ew_request_t *req, const ew_fetch_options_t *opts,
                                        ew_req_body_t *body, ew_response_fn cb, void *udata)
{
    if (w == NULL || req == NULL || cb == NULL || (body != NULL && req->body != NULL))
        return EW_ERR_INVALID_ARG;
    static const ew_fetch_options_t none = {NULL, 0, 0};
    if (opts == NULL)
        opts = &none;
    if (opts->cf_json != NULL && !ew__dispatch_cf_known(w->current, opts->cf_json, opts->cf_json_len) &&
        !ew__json_is_object(opts->cf_json, opts->cf_json_len))
        return EW_ERR_INVALID_ARG;
    bool stream_body = opts->stream_body != 0;
    ew_request_t normalized = *req;
    ew_status_t st;
    size_t in_len = req->url != NULL ? strlen(req->url) : 0;
    if (w->url_cache != NULL && in_len == w->url_cache_in_len && memcmp(req->url, w->url_cache, in_len) == 0) {
        st = ew__request_check_url(req, NULL, NULL, true); /* the URL passed before: the rest is checked */
        if (st != EW_OK)
            return st;
        normalized.url = w->url_cache + in_len + 1;
    } else {
        ew__url_t url;
        st = ew__request_check_url(req, &url, NULL, false);
        if (st != EW_OK)
            return st;
        char *cache = malloc(in_len + 1 + url.len + 1);
        free(w->url_cache);
        w->url_cache = cache;
        w->url_cache_in_len = in_len;
        if (cache != NULL) {
            memcpy(cache, req->url, in_len + 1);
            memcpy(cache + in_len + 1, url.href, url.len + 1);
            normalized.url = cache + in_len + 1;
        }
        ew__url_dispose(&url);
        if (cache == NULL)
            return EW_ERR_NOMEM;
    }
    if (ew__assets_fetch(w->assets, &normalized, cb, udata)) {
        ew__req_body_unused(body);
        return EW_OK;
    }
    ew__isolate_t *iso = isolate_for_event(w, NULL);
    if (iso == NULL)
        return EW_ERR_NOMEM;
    st = ew__dispatch_fetch_body(iso, &normalized, opts->cf_json, opts->cf_json_len, stream_body, body, cb, udata);
    ew__req_body_unused(body); /* when the request never got as far as making its stream */
    return st;
}

EW_API ew_status_t ew_worker_fetch(ew_worker_t *w, const ew_request_t *req, ew_response_fn cb, void *udata)
{
    return ew_worker_fetch_opts(w, req, NULL, cb, udata);
}

EW_API ew_status_t ew_worker_fetch_stream(ew_worker_t *w, const ew_request_t *req, ew_response_fn cb,
                                          void *udata)
{
    ew_fetch_options_t opts = {NULL, 0, 1};
    return ew_worker_fetch_opts(w, req, &opts, cb, udata);
}

struct sync_fetch {
    bool done;
    ew_response_t *resp;
    ew_error_t *err;
};

static void on_sync_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    struct sync_fetch *s = udata;
    s->done = true;
    s->resp = resp;
    if (err != NULL && s->err != NULL)
        *s->err = *err;
}

EW_API ew_status_t ew_worker_fetch_sync(ew_worker_t *w, const ew_request_t *req, ew_response_t **out,
                                        ew_error_t *err)
{
    ew__error_clear(err);
    if (out != NULL)
        *out = NULL;
    if (w == NULL || req == NULL || out == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_worker_fetch_sync: w, req and out are required");
    ew__url_t url;
    ew_status_t st = ew__request_check_url(req, &url, err, false);
    if (st != EW_OK)
        return st;
    ew_request_t normalized = *req;
    normalized.url = url.href;
    if ((*out = ew__assets_fetch_now(w->assets, &normalized)) != NULL) {
        ew__url_dispose(&url);
        return (*out)->outcome;
    }
    ew__isolate_t *iso = isolate_for_event(w, err);
    if (iso == NULL) {
        ew__url_dispose(&url);
        return err ? err->code : EW_ERR_NOMEM;
    }
    struct sync_fetch s = {false, NULL, err};
    st = ew__dispatch_fetch(iso, &normalized, on_sync_response, &s);
    ew__url_dispose(&url);
    if (st != EW_OK)
        return ew__error_set(err, st, "could not dispatch the request");
    w->rt->sync_depth++;
    while (!s.done && event_base_loop(w->rt->base, EVLOOP_ONCE) != -1)
        ;
    w->rt->sync_depth--;
    if (!s.done)
        return ew__error_set(err, EW_ERR_INTERNAL, "the event loop failed before the response was complete");
    *out = s.resp;
    return s.resp != NULL ? s.resp->outcome : EW_ERR_NOMEM;
}

EW_API ew_status_t ew_worker_scheduled(ew_worker_t *w, const char *cron, double scheduled_time_ms,
                                       ew_scheduled_fn cb, void *udata)
{
    if (w == NULL || cron == NULL || cb == NULL)
        return EW_ERR_INVALID_ARG;
    ew__isolate_t *iso = isolate_for_event(w, NULL);
    if (iso == NULL)
        return EW_ERR_NOMEM;
    if (scheduled_time_ms == 0) {
        struct timeval tv;
        evutil_gettimeofday(&tv, NULL);
        scheduled_time_ms = (double) tv.tv_sec * 1000.0 + (double) (tv.tv_usec / 1000);
    }
    return ew__dispatch_scheduled(iso, cron, scheduled_time_ms, cb, udata);
}

struct sync_scheduled {
    bool done;
    ew_status_t outcome;
    ew_error_t *err;
};

static void on_sync_scheduled(void *udata, ew_status_t outcome, const ew_error_t *err)
{
    struct sync_scheduled *s = udata;
    s->done = true;
    s->outcome = outcome;
    if (err != NULL && s->err != NULL)
        *s->err = *err;
}

EW_API ew_status_t ew_worker_scheduled_sync(ew_worker_t *w, const char *cron, double scheduled_time_ms,
                                            ew_error_t *err)
{
    ew__error_clear(err);
    struct sync_scheduled s = {false, EW_OK, err};
    ew_status_t st = ew_worker_scheduled(w, cron, scheduled_time_ms, on_sync_scheduled, &s);
    if (st != EW_OK)
        return ew__error_set(err, st, "ew_worker_scheduled_sync: could not dispatch (%s)", ew_status_name(st));
    w->rt->sync_depth++;
    while (!s.done && event_base_loop(w->rt->base, EVLOOP_ONCE) != -1)
        ;
    w->rt->sync_depth--;
    if (!s.done)
        return ew__error_set(err, EW_ERR_INTERNAL, "the event loop failed before the event was complete");
    return s.outcome;
}

EW_API ew_status_t ew_worker_queue(ew_worker_t *w, const char *queue, const ew_queue_message_t *messages, size_t n,
                                   ew_queue_fn cb, void *udata)
{
    return ew__worker_queue(w, queue, messages, n, NULL, cb, udata);
}

ew_status_t ew__worker_queue(ew_worker_t *w, const char *queue, const ew_queue_message_t *messages, size_t n,
                             const ew__queue_metrics_t *metrics, ew_queue_fn cb, void *udata)
{
    if (w == NULL || queue == NULL || cb == NULL || messages == NULL || n == 0 || n > EW__QUEUE_MAX_BATCH)
        return EW_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++) {
        const ew_queue_message_t *m = &messages[i];
        if (m->id == NULL || strlen(m->id) > EW__QUEUE_ID_MAX || m->content_type == NULL ||
            (m->body == NULL && m->body_len > 0))
            return EW_ERR_INVALID_ARG;
    }
    ew__isolate_t *iso = isolate_for_event(w, NULL);
    if (iso == NULL)
        return EW_ERR_NOMEM;
    return ew__dispatch_queue(iso, queue, messages, n, metrics, cb, udata);
}

struct sync_queue {
    bool done;
    ew_status_t outcome;
    ew_error_t *err;
    ew_queue_verdict_t *verdicts;
};

static void on_sync_queue(void *udata, ew_status_t outcome, const ew_error_t *err, const ew_queue_verdict_t *v,
                          size_t n)
{
    struct sync_queue *s = udata;
    s->done = true;
    s->outcome = outcome;
    if (err != NULL && s->err != NULL)
        *s->err = *err;
    if (s->verdicts != NULL)
        memcpy(s->verdicts, v, n * sizeof(*v));
}

EW_API ew_status_t ew_worker_queue_sync(ew_worker_t *w, const char *queue, const ew_queue_message_t *messages,
                                        size_t n, ew_queue_verdict_t *verdicts, ew_error_t *err)
{
    ew__error_clear(err);
    struct sync_queue s = {false, EW_OK, err, verdicts};
    ew_status_t st = ew_worker_queue(w, queue, messages, n, on_sync_queue, &s);
    if (st != EW_OK)
        return ew__error_set(err, st, "ew_worker_queue_sync: could not dispatch (%s)", ew_status_name(st));
    w->rt->sync_depth++;
    while (!s.done && event_base_loop(w->rt->base, EVLOOP_ONCE) != -1)
        ;
    w->rt->sync_depth--;
    if (!s.done)
        return ew__error_set(err, EW_ERR_INTERNAL, "the event loop failed before the event was complete");
    return s.outcome;
}

EW_API double ew_worker_cpu_ms(const ew_worker_t *w)
{
    return w != NULL ? (double) w->cpu_ns_total / 1e6 : 0.0;
}

EW_API void ew_worker_get_stats(const ew_worker_t *w, ew_worker_stats_t *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof(*out));
    if (w == NULL)
        return;
    *out = w->stats;
    out->isolates = 0;
    out->heap_bytes = 0;
    out->pending = 0;
    const ew__isolate_t *list[2] = {w->current, w->draining};
    for (int k = 0; k < 2; k++) {
        for (const ew__isolate_t *iso = list[k]; iso != NULL; iso = k == 0 ? NULL : iso->next) {
            out->isolates++;
            out->heap_bytes += iso->heap_bytes;
            out->pending += iso->pending;
        }
    }
}
