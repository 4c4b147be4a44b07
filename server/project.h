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

#endif
