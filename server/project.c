/*
 * project.c — ew-server's project mode: finds and reads the Worker project (wrangler.json/.jsonc/.toml,
 * .dev.vars) through lib/config/wrangler.c, applies the command line's --env and --var, and builds the
 * ew_worker_config_t every loop thread loads (vars; KV namespaces and R2 buckets as storage resources) and the state
 * folder. main.c calls it once, before any thread starts; afterwards the project is read-only, so the loop
 * threads share it without locks.
 *
 * The project itself is read by lib/config/project_load.c, the code behind the public ew_worker_load_project(),
 * so hosts and ew-server load a project the same way; this file adds the command line (--var between reading
 * and building, --persist-to) and prints its warnings. What the library cannot do yet is reported and left
 * out rather than failing the start: the keys lib/config reports as "not supported yet".
 * docs/configuration.md lists every key and flag.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "project.h"

static void print_warning(void *udata, const char *msg)
{
    (void) udata;
    fprintf(stderr, "ew-server: warning: %s\n", msg);
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
        ew_status_t st = name ? ew__wrangler_set_var(p->proj.config, name, colon + 1, false, false) : EW_ERR_NOMEM;
        free(name);
        if (st != EW_OK) {
            fprintf(stderr, "ew-server: out of memory\n");
            return false;
        }
    }
    return true;
}

/* Reading the configuration, the main check, vars and resources are
 * lib/config/project_load.c's, shared with ew_worker_load_project(); the --var overrides go in between. */
bool project_load(project_t *p, const project_opts_t *o)
{
    memset(p, 0, sizeof(*p));
    ew_error_t err;
    ew_status_t st = ew__project_open(&p->proj, o->path, o->env, print_warning, NULL, &err);
    p->config = p->proj.config;
    if (st == EW_OK && !apply_var_args(p, o))
        return false;
    if (st == EW_OK)
        st = ew__project_build(&p->proj, print_warning, NULL, &err);
    if (st != EW_OK) {
        fprintf(stderr, "ew-server: %s\n", err.message);
        return false;
    }
    p->worker = p->proj.worker;
    if (o->persist_to != NULL) {
        p->state_dir = strdup(o->persist_to);
    } else {
        size_t n = strlen(p->config->project_dir) + sizeof("/.wrangler/state");
        if ((p->state_dir = malloc(n)) != NULL)
            snprintf(p->state_dir, n, "%s/.wrangler/state", p->config->project_dir);
    }
    if (p->state_dir == NULL) {
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
    if (c->nvars + c->nkv + c->nd1 + c->nr2 + c->ndurables + c->nqueue_producers == 0)
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
    if (c->nd1 > 0)
        printf("- D1 Databases:\n");
    for (size_t i = 0; i < c->nd1; i++)
        printf("  - %s: %s\n", c->d1[i].binding, c->d1[i].database_name);
    if (c->nr2 > 0)
        printf("- R2 Buckets:\n");
    for (size_t i = 0; i < c->nr2; i++)
        printf("  - %s: %s\n", c->r2[i].binding, c->r2[i].bucket_name);
    if (c->ndurables > 0)
        printf("- Durable Objects:\n");
    for (size_t i = 0; i < c->ndurables; i++)
        printf("  - %s: %s\n", c->durables[i].binding, c->durables[i].class_name);
    if (c->nqueue_producers > 0)
        printf("- Queues:\n");
    for (size_t i = 0; i < c->nqueue_producers; i++)
        printf("  - %s: %s\n", c->queue_producers[i].binding, c->queue_producers[i].queue);
}

void project_dispose(project_t *p)
{
    ew__project_dispose(&p->proj);
    free(p->state_dir);
    memset(p, 0, sizeof(*p));
}
