/*
 * project.c — ew-server's project mode: finds and reads the Worker project (wrangler.json/.jsonc/.toml,
 * .dev.vars) through lib/config/wrangler.c, applies the command line's --env and --var, and builds the
 * ew_worker_config_t every loop thread loads (vars; KV namespaces as storage resources) and the state
 * folder. main.c calls it once, before any thread starts; afterwards the project is read-only, so the loop
 * threads share it without locks.
 *
 * What the library cannot do yet is reported and left out rather than failing the start: D1 and R2 bindings
 * (ew_worker_load would refuse them) and the keys lib/config reports as "not supported yet".
 * docs/configuration.md lists every key and flag.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "project.h"

static void print_warnings(const ew__wrangler_t *c)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        fprintf(stderr, "ew-server: warning: %s\n", c->warnings[i]);
}

/* --var KEY:VALUE, like wrangler's: the value is a string, and overrides [vars] and .dev.vars. */
static bool apply_var_args(project_t *p, const project_opts_t *o)
{
    for (size_t i = 0; i < o->nvar_args; i++) {
        const char *arg = o->var_args[i];
        const char *colon = strchr(arg, ':');
        if (colon == NULL || colon == arg) {
            fprintf(stderr, "ew-server: --var %s: expected KEY:VALUE\n", arg);
            return false;
        }
        char *name = strndup(arg, (size_t) (colon - arg));
        ew_status_t st = name ? ew__wrangler_set_var(p->config, name, colon + 1, false, false) : EW_ERR_NOMEM;
        free(name);
        if (st != EW_OK) {
            fprintf(stderr, "ew-server: out of memory\n");
            return false;
        }
    }
    return true;
}

/* Storage bindings the library supports become resources; the others are reported and skipped. */
static bool build_resources(project_t *p)
{
    const ew__wrangler_t *c = p->config;
    p->resources = calloc(c->nkv + 1, sizeof(*p->resources));
    if (p->resources == NULL)
        return false;
    for (size_t i = 0; i < c->nkv; i++)
        p->resources[i] = (ew_resource_t) {.kind = EW_RESOURCE_KV, .binding = c->kv[i].binding, .id = c->kv[i].id};
    p->worker.resources = p->resources;
    p->worker.nresources = c->nkv;
    for (size_t i = 0; i < c->nd1; i++)
        fprintf(stderr, "ew-server: warning: d1_databases: binding \"%s\" skipped: D1 is not supported yet\n",
                c->d1[i].binding);
    for (size_t i = 0; i < c->nr2; i++)
        fprintf(stderr, "ew-server: warning: r2_buckets: binding \"%s\" skipped: R2 is not supported yet\n",
                c->r2[i].binding);
    return true;
}

static bool build_worker(project_t *p, const project_opts_t *o)
{
    const ew__wrangler_t *c = p->config;
    p->vars = calloc(c->nvars + 1, sizeof(*p->vars));
    if (p->vars == NULL)
        return false;
    for (size_t i = 0; i < c->nvars; i++)
        p->vars[i] = (ew_var_t) {.name = c->vars[i].name, .value = c->vars[i].value, .is_json = c->vars[i].is_json};
    p->worker.name = c->name;
    p->worker.path = c->main;
    p->worker.vars = p->vars;
    p->worker.nvars = c->nvars;
    if (o->persist_to != NULL) {
        p->state_dir = strdup(o->persist_to);
    } else {
        size_t n = strlen(c->project_dir) + sizeof("/.wrangler/state");
        if ((p->state_dir = malloc(n)) != NULL)
            snprintf(p->state_dir, n, "%s/.wrangler/state", c->project_dir);
    }
    return p->state_dir != NULL && build_resources(p);
}

bool project_load(project_t *p, const project_opts_t *o)
{
    memset(p, 0, sizeof(*p));
    ew_error_t err;
    if (ew__wrangler_load(o->path, o->env, &p->config, &err) != EW_OK) {
        fprintf(stderr, "ew-server: %s\n", err.message);
        return false;
    }
    print_warnings(p->config);
    if (o->env != NULL && p->config->config_path == NULL)
        fprintf(stderr, "ew-server: warning: --env %s has no effect without a configuration file\n", o->env);
    if (!apply_var_args(p, o))
        return false;
    struct stat st;
    const char *why = stat(p->config->main, &st) != 0 ? strerror(errno) : !S_ISREG(st.st_mode) ? "not a file" : NULL;
    if (why != NULL) {
        if (p->config->config_path != NULL)
            fprintf(stderr, "ew-server: %s: main: %s: %s\n", p->config->config_path, p->config->main, why);
        else
            fprintf(stderr, "ew-server: %s: %s\n", p->config->main, why);
        return false;
    }
    if (!build_worker(p, o)) {
        fprintf(stderr, "ew-server: out of memory\n");
        return false;
    }
    return true;
}

/* mkdir -p: wrangler creates .wrangler/state the same way, on first use. */
bool project_make_state_dir(const project_t *p)
{
    char *path = strdup(p->state_dir);
    if (path == NULL)
        return false;
    bool ok = true;
    for (char *s = path + 1; ok; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        ok = mkdir(path, 0777) == 0 || errno == EEXIST;
        if (end)
            break;
        *s = '/';
    }
    if (!ok)
        fprintf(stderr, "ew-server: cannot create the state folder %s: %s\n", p->state_dir, strerror(errno));
    free(path);
    return ok;
}

void project_print_bindings(const project_t *p)
{
    const ew__wrangler_t *c = p->config;
    if (c->dev_vars_path != NULL)
        printf("Using vars defined in %s\n", c->dev_vars_path);
    if (c->nvars + c->nkv == 0)
        return;
    printf("Your Worker has access to the following bindings:\n");
    if (c->nvars > 0)
        printf("- Vars:\n");
    for (size_t i = 0; i < c->nvars; i++) {
        const ew__wrangler_var_t *v = &c->vars[i];
        if (v->secret)
            printf("  - %s: \"(hidden)\"\n", v->name);
        else
            printf(v->is_json ? "  - %s: %s\n" : "  - %s: \"%s\"\n", v->name, v->value);
    }
    if (c->nkv > 0)
        printf("- KV Namespaces:\n");
    for (size_t i = 0; i < c->nkv; i++)
        printf("  - %s: %s\n", c->kv[i].binding, c->kv[i].id);
}

void project_dispose(project_t *p)
{
    ew__wrangler_destroy(p->config);
    free(p->vars);
    free(p->resources);
    free(p->state_dir);
    memset(p, 0, sizeof(*p));
}
