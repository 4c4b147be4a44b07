/*
 * project_load.c — a Worker project (wrangler.json/.jsonc/.toml and .dev.vars, read by wrangler.c) turned
 * into the ew_worker_config_t that ew_worker_load takes: vars, KV namespaces, D1 databases (named by
 * database_name) and R2 buckets (named by bucket_name) as storage resources, the configuration's name and
 * main. This is the one implementation shared by the public
 * ew_worker_load_project() (hosts, the Python bindings) and ew-server (server/project.c, which applies its
 * --var overrides between ew__project_open and ew__project_build).
 *
 * What the library cannot do yet is reported through a warning callback and left out rather than failing
 * the load: the keys wrangler.c reports as "not supported yet". A main script that does not exist fails here, with the configuration file named, before
 * ew_worker_load is reached.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/isolate.h"
#include "wrangler.h"

static void warnf(ew__project_warn_fn warn, void *udata, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void warnf(ew__project_warn_fn warn, void *udata, const char *fmt, ...)
{
    if (warn == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    warn(udata, msg);
}

ew_status_t ew__project_open(ew__project_t *p, const char *path, const char *env, ew__project_warn_fn warn,
                             void *udata, ew_error_t *err)
{
    memset(p, 0, sizeof(*p));
    ew_status_t st = ew__wrangler_load(path, env, &p->config, err);
    if (st != EW_OK)
        return st;
    const ew__wrangler_t *c = p->config;
    for (size_t i = 0; i < c->nwarnings; i++)
        warnf(warn, udata, "%s", c->warnings[i]);
    if (env != NULL && c->config_path == NULL)
        warnf(warn, udata, "environment \"%s\" has no effect without a configuration file", env);
    if (c->main == NULL)
        return EW_OK; /* assets only: ew__project_build supplies the script */
    struct stat sb;
    const char *why = stat(c->main, &sb) != 0 ? strerror(errno) : !S_ISREG(sb.st_mode) ? "not a file" : NULL;
    if (why == NULL)
        return EW_OK;
    if (c->config_path != NULL)
        return ew__cfg_errorf(err, EW_ERR_IO, c->config_path, 0, 0, "main: %s: %s", c->main, why);
    return ew__cfg_errorf(err, EW_ERR_IO, c->main, 0, 0, "%s", why);
}

/* The Worker of an assets-only project (no main): what the folder does not answer is 404, as on Cloudflare. */
static const char ASSETS_ONLY_WORKER[] =
    "export default { fetch() { return new Response(null, { status: 404 }); } };\n";

/* services[] as the library's ew_service_t (the targets are found by name when called). */
static ew_status_t build_services(ew__project_t *p)
{
    const ew__wrangler_t *c = p->config;
    free(p->services);
    if ((p->services = calloc(c->nservices + 1, sizeof(*p->services))) == NULL)
        return EW_ERR_NOMEM;
    for (size_t i = 0; i < c->nservices; i++)
        p->services[i] = (ew_service_t) {.binding = c->services[i].binding, .service = c->services[i].service,
                                         .entrypoint = c->services[i].entrypoint};
    p->worker.services = p->services;
    p->worker.nservices = c->nservices;
    return EW_OK;
}

ew_status_t ew__project_build(ew__project_t *p, ew__project_warn_fn warn, void *udata, ew_error_t *err)
{
    (void) warn; /* every binding kind the configuration reads is supported now: nothing to skip */
    (void) udata;
    const ew__wrangler_t *c = p->config;
    free(p->vars);
    free(p->resources);
    free(p->durables);
    p->vars = calloc(c->nvars + 1, sizeof(*p->vars));
    p->resources = calloc(c->nkv + c->nd1 + c->nr2 + 1, sizeof(*p->resources));
    p->durables = calloc(c->ndurables + 1, sizeof(*p->durables));
    if (p->vars == NULL || p->resources == NULL || p->durables == NULL)
        return ew__cfg_errorf(err, EW_ERR_NOMEM, c->config_path ? c->config_path : "(project)", 0, 0, "out of memory");
    for (size_t i = 0; i < c->nvars; i++)
        p->vars[i] = (ew_var_t) {.name = c->vars[i].name, .value = c->vars[i].value, .is_json = c->vars[i].is_json};
    for (size_t i = 0; i < c->nkv; i++)
        p->resources[i] = (ew_resource_t) {.kind = EW_RESOURCE_KV, .binding = c->kv[i].binding, .id = c->kv[i].id};
    for (size_t i = 0; i < c->ndurables; i++)
        p->durables[i] = (ew_durable_object_t) {.binding = c->durables[i].binding,
                                                .class_name = c->durables[i].class_name,
                                                .sql = c->durables[i].sql,
                                                .script_name = c->durables[i].script_name};
    for (size_t i = 0; i < c->nd1; i++)
        p->resources[c->nkv + i] = (ew_resource_t) {
            .kind = EW_RESOURCE_D1, .binding = c->d1[i].binding, .id = c->d1[i].database_name};
    for (size_t i = 0; i < c->nr2; i++)
        p->resources[c->nkv + c->nd1 + i] =
            (ew_resource_t) {.kind = EW_RESOURCE_R2, .binding = c->r2[i].binding, .id = c->r2[i].bucket_name};
    p->worker = (ew_worker_config_t) {
        .name = c->name,
        .path = c->main,
        .vars = p->vars,
        .nvars = c->nvars,
        .resources = p->resources,
        .nresources = c->nkv + c->nd1 + c->nr2,
        .durable_objects = p->durables,
        .ndurable_objects = c->ndurables,
    };
    if (c->main == NULL) {
        p->worker.source = ASSETS_ONLY_WORKER;
        p->worker.source_len = sizeof(ASSETS_ONLY_WORKER) - 1;
        p->worker.filename = "(assets only)";
    }
    free(p->ratelimits);
    p->ratelimits = calloc(c->nratelimits + 1, sizeof(*p->ratelimits));
    if (p->ratelimits == NULL)
        return ew__cfg_errorf(err, EW_ERR_NOMEM, c->config_path ? c->config_path : "(project)", 0, 0, "out of memory");
    for (size_t i = 0; i < c->nratelimits; i++)
        p->ratelimits[i] = (ew_ratelimit_t) {.binding = c->ratelimits[i].binding,
                                             .namespace_id = c->ratelimits[i].namespace_id,
                                             .limit = c->ratelimits[i].limit, .period = c->ratelimits[i].period};
    p->worker.ratelimits = p->ratelimits;
    p->worker.nratelimits = c->nratelimits;
    p->worker.queue_producers = c->queue_producers; /* the library's own structs, in the config's arena */
    p->worker.nqueue_producers = c->nqueue_producers;
    p->worker.queue_consumers = c->queue_consumers;
    p->worker.nqueue_consumers = c->nqueue_consumers;
    if (build_services(p) != EW_OK)
        return ew__cfg_errorf(err, EW_ERR_NOMEM, c->config_path ? c->config_path : "(project)", 0, 0, "out of memory");
    if (c->assets != NULL) {
        p->assets = (ew_assets_t) {
            .directory = c->assets->directory,
            .binding = c->assets->binding,
            .html_handling = c->assets->html_handling,
            .not_found_handling = c->assets->not_found_handling,
            .run_worker_first = c->assets->run_worker_first,
        };
        p->worker.assets = &p->assets;
    }
    return EW_OK;
}

void ew__project_dispose(ew__project_t *p)
{
    ew__wrangler_destroy(p->config);
    free(p->vars);
    free(p->resources);
    free(p->ratelimits);
    free(p->durables);
    free(p->services);
    memset(p, 0, sizeof(*p));
}

/* Warnings of ew_worker_load_project go to the runtime's log callback, as runtime-level messages. */
static void log_warning(void *udata, const char *msg)
{
    ew_runtime_t *rt = udata;
    if (rt->cfg.log != NULL)
        rt->cfg.log(rt->cfg.log_udata, EW_LOG_WARN, "", msg, strlen(msg));
}

EW_API ew_status_t ew_worker_load_project(ew_runtime_t *rt, const char *path, const char *env_name,
                                          ew_worker_t **out, ew_error_t *err)
{
    ew__error_clear(err);
    if (out != NULL)
        *out = NULL;
    if (rt == NULL || path == NULL || out == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_worker_load_project: rt, path and out are required");
    if (path[0] == '\0')
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_worker_load_project: path is empty");
    ew__project_t p;
    ew_status_t st = ew__project_open(&p, path, env_name, log_warning, rt, err);
    if (st == EW_OK)
        st = ew__project_build(&p, log_warning, rt, err);
    if (st == EW_OK)
        st = ew_worker_load(rt, &p.worker, out, err);
    ew__project_dispose(&p);
    return st;
}
