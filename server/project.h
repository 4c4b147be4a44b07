/*
 * server/project.h — the Worker project ew-server serves (project.c): its configuration read by
 * lib/config/project_load.c (the code behind ew_worker_load_project), command-line overrides applied, and
 * the result as the ew_worker_config_t that every loop thread loads, plus the settings serve.c needs (state
 * folder, cron triggers, limits, [dev] address).
 */
#ifndef EW_SERVER_PROJECT_H
#define EW_SERVER_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/wrangler.h"
#include "edgeworker.h"
#include "serve.h"

typedef struct project_opts {
    const char *path;              /* PATH: a project folder, a config file or a script */
    const char *env;               /* --env NAME, or NULL */
    const char *const *var_args;   /* nvar_args "KEY:VALUE" strings from --var, in order */
    size_t nvar_args;
    const char *persist_to;        /* --persist-to DIR, or NULL for <project>/.wrangler/state */
} project_opts_t;

typedef struct project {
    ew__project_t proj;            /* owned: configuration, vars and KV resources (lib/config/project_load.c) */
    ew__wrangler_t *config;        /* proj.config (owned by proj) */
    char *state_dir;               /* owned */
    ew_worker_config_t worker;     /* proj.worker: what each thread passes to ew_worker_load */
} project_t;

/* Reads the project and applies the overrides. On failure prints why (config errors as FILE:LINE:COL) to
 * stderr and returns false; on success prints the warnings to stderr and returns true. Either way call
 * project_dispose(). */
bool project_load(project_t *p, const project_opts_t *opts);

/* Prints the Worker's bindings to stdout, like wrangler dev does at start (secrets' values hidden). */
void project_print_bindings(const project_t *p);

/* Creates the state folder (and its parents) if missing; false with a message on failure. */
bool project_make_state_dir(const project_t *p);

/* Frees what project_load allocated. */
void project_dispose(project_t *p);

/* ---------------------------------------------------------------------------------------------------------
 * Several projects in one server (ew-server -c a/wrangler.toml -c b/wrangler.toml, or several PATHs), as
 * `wrangler dev -c ... -c ...` runs them: the first is the primary Worker (it gets every request no route
 * matches, and its folder holds the shared state unless --persist-to says otherwise); the others are
 * reached through their routes and through service bindings. --env applies to every project, --var to the
 * primary only.
 */
typedef struct project_set {
    project_t *items;              /* owned array of n projects, in command-line order */
    size_t n;
    ew_worker_config_t *workers;   /* owned array: items[i].worker, each with the shared state folder */
    const ew__wrangler_t **configs; /* owned array: items[i].config */
    serve_route_t *routes;         /* owned: every project's routes, most specific first */
    size_t nroutes;
    serve_workers_t serve;         /* the above as serve.c takes it */
} project_set_t;

/* Loads paths[0..npaths-1] (npaths >= 1) with opts (its `path` is ignored), checks that Worker names are
 * unique and that every service binding names one of the Workers, and builds the routes. On failure prints
 * why to stderr and returns false. Either way call project_set_dispose(). */
bool project_set_load(project_set_t *s, const project_opts_t *opts, const char *const *paths, size_t npaths);
/* Prints each Worker's bindings (and routes) to stdout. */
void project_set_print(const project_set_t *s);
/* Whether any Worker has storage resources (the state folder is then made at start). */
bool project_set_has_resources(const project_set_t *s);
void project_set_dispose(project_set_t *s);

#endif
