/*
 * runtime.c — ew_runtime_t: the per-thread owner of workers, limits and the event loop they run on.
 * A runtime either borrows the host's libevent event_base or creates its own (for the blocking helpers).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bindings/internal.h"
#include "net/client.h"
#include "isolate.h"

EW_API void ew_runtime_config_init(ew_runtime_config_t *cfg)
{
    if (cfg != NULL)
        memset(cfg, 0, sizeof(*cfg));
}

EW_API ew_status_t ew_runtime_create(const ew_runtime_config_t *cfg, ew_runtime_t **out, ew_error_t *err)
{
    ew__error_clear(err);
    if (out == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_runtime_create: out is required");
    *out = NULL;
    if (cfg != NULL && cfg->memory_mb > 64 * 1024)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_runtime_create: memory_mb %u is more than 65536",
                             cfg->memory_mb);
    /* A CA file that cannot be read would fail every https fetch(): say so now. */
    if (cfg != NULL && cfg->ca_file != NULL && access(cfg->ca_file, R_OK) != 0)
        return ew__error_set(err, EW_ERR_IO, "ew_runtime_create: ca_file %s: %s", cfg->ca_file, strerror(errno));
    char why[300];
    if (cfg != NULL && !ew__net_connect_to_valid(cfg->connect_to, why, sizeof(why)))
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_runtime_create: %s", why);
    ew_runtime_t *rt = calloc(1, sizeof(*rt));
    if (rt == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory creating a runtime");
    if (cfg != NULL)
        rt->cfg = *cfg;
    if (rt->cfg.connect_to != NULL) {
        if ((rt->connect_to = strdup(rt->cfg.connect_to)) == NULL) {
            free(rt);
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory creating a runtime");
        }
        rt->cfg.connect_to = rt->connect_to;
    }
    if (rt->cfg.ca_file != NULL) {
        rt->ca_file = strdup(rt->cfg.ca_file);
        if (rt->ca_file == NULL) {
            free(rt->connect_to);
            free(rt);
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory creating a runtime");
        }
        rt->cfg.ca_file = rt->ca_file;
    }
    if (rt->cfg.state_dir != NULL) {
        rt->state_dir = strdup(rt->cfg.state_dir);
        if (rt->state_dir == NULL) {
            free(rt->ca_file);
            free(rt->connect_to);
            free(rt);
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory creating a runtime");
        }
        rt->cfg.state_dir = rt->state_dir;
    }
    rt->base = rt->cfg.base;
    if (rt->base == NULL) {
        rt->base = event_base_new();
        rt->owns_base = true;
        if (rt->base == NULL) {
            free(rt->ca_file);
            free(rt->connect_to);
            free(rt->state_dir);
            free(rt);
            return ew__error_set(err, EW_ERR_NOMEM, "could not create an event_base");
        }
    }
    *out = rt;
    return EW_OK;
}

EW_API void ew_runtime_destroy(ew_runtime_t *rt)
{
    if (rt == NULL)
        return;
    while (rt->workers != NULL)
        ew_worker_destroy(rt->workers);
    ew__durable_shutdown(rt);   /* answers calls still queued for this runtime's objects */
    ew__service_shutdown(rt);   /* streamed bodies of service calls still open */
    ew__resources_shutdown(rt); /* commits queued writes, closes the stores */
    ew__net_client_destroy(rt->net); /* after the workers: their fetches are cancelled by now */
    ew__ws_clients_destroy(rt);      /* outbound WebSockets, whose Workers are gone too */
    if (rt->owns_base)
        event_base_free(rt->base);
    free(rt->state_dir);
    free(rt->ca_file);
    free(rt->connect_to);
    free(rt);
}

EW_API struct event_base *ew_runtime_event_base(ew_runtime_t *rt)
{
    return rt != NULL ? rt->base : NULL;
}
