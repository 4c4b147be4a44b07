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
    if (c->nvars + c->nkv + c->nd1 + c->nr2 + c->ndurables + c->nqueue_producers + c->nservices == 0)
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
        printf(c->durables[i].script_name ? "  - %s: %s (defined in %s)\n" : "  - %s: %s\n", c->durables[i].binding,
               c->durables[i].class_name, c->durables[i].script_name);
    if (c->nqueue_producers > 0)
        printf("- Queues:\n");
    for (size_t i = 0; i < c->nqueue_producers; i++)
        printf("  - %s: %s\n", c->queue_producers[i].binding, c->queue_producers[i].queue);
    if (c->nservices > 0)
        printf("- Services:\n");
    for (size_t i = 0; i < c->nservices; i++)
        printf(c->services[i].entrypoint ? "  - %s: %s#%s\n" : "  - %s: %s\n", c->services[i].binding,
               c->services[i].service, c->services[i].entrypoint);
}

void project_dispose(project_t *p)
{
    ew__project_dispose(&p->proj);
    free(p->state_dir);
    memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------------------------------------------------
 * Several projects
 */

static const char *file_of(const project_t *p)
{
    return p->config->config_path != NULL ? p->config->config_path : p->config->main;
}

/* Two Workers may not share a name: service bindings and Durable Object namespaces are keyed by it. */
static bool check_names(const project_set_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->items[i].config->name, s->items[j].config->name) == 0) {
                fprintf(stderr, "ew-server: %s and %s both name their Worker \"%s\"; Workers of one server need "
                        "different names (set `name` in one of them)\n", file_of(&s->items[j]),
                        file_of(&s->items[i]), s->items[i].config->name);
                return false;
            }
    return true;
}

/* A service binding must name a Worker of this server. wrangler dev only warns and lets the calls fail;
 * refusing to start says at once which file and binding are wrong. */
static bool check_services(const project_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const ew__wrangler_t *c = s->items[i].config;
        for (size_t k = 0; k < c->nservices; k++) {
            const ew__wrangler_service_t *svc = &c->services[k];
            bool found = false;
            for (size_t j = 0; j < s->n && !found; j++)
                found = strcmp(s->items[j].config->name, svc->service) == 0;
            if (!found) {
                fprintf(stderr, "ew-server: %s:%u:%u: service binding %s names the Worker \"%s\", which this "
                        "server does not run; add its configuration (ew-server -c %s -c PATH/wrangler.toml)\n",
                        file_of(&s->items[i]), svc->line, svc->col, svc->binding, svc->service, file_of(&s->items[0]));
                return false;
            }
        }
    }
    return true;
}

static int find_project(const project_set_t *s, const char *name)
{
    for (size_t j = 0; j < s->n; j++)
        if (strcmp(s->items[j].config->name, name) == 0)
            return (int) j;
    return -1;
}

/* Durable Object bindings with script_name reach the objects of another Worker of this server. That Worker
 * serves the class even without a binding of its own for it (its [[migrations]] create the class): such a
 * class is added to its namespaces without an env property. */
static bool link_durable_objects(project_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const ew__wrangler_t *c = s->items[i].config;
        for (size_t k = 0; k < c->ndurables; k++) {
            const ew__wrangler_do_t *d = &c->durables[k];
            if (d->script_name == NULL)
                continue;
            int j = find_project(s, d->script_name);
            if (j < 0) {
                fprintf(stderr, "ew-server: %s: Durable Object binding %s names script_name \"%s\", which this "
                        "server does not run; add its configuration (-c PATH/wrangler.toml)\n",
                        file_of(&s->items[i]), d->binding, d->script_name);
                return false;
            }
            project_t *owner = &s->items[j];
            ew_worker_config_t *w = &owner->proj.worker;
            bool served = false;
            for (size_t m = 0; m < w->ndurable_objects && !served; m++)
                served = w->durable_objects[m].script_name == NULL &&
                         strcmp(w->durable_objects[m].class_name, d->class_name) == 0;
            if (served)
                continue;
            bool sql = false;
            for (size_t m = 0; m < owner->config->ndo_classes; m++)
                if (strcmp(owner->config->do_classes[m].class_name, d->class_name) == 0)
                    sql = owner->config->do_classes[m].sql;
            ew_durable_object_t *grown = realloc(owner->proj.durables, (w->ndurable_objects + 2) * sizeof(*grown));
            if (grown == NULL)
                return false;
            grown[w->ndurable_objects] = (ew_durable_object_t) {.binding = NULL, .class_name = d->class_name,
                                                                .sql = sql};
            owner->proj.durables = grown;
            w->durable_objects = grown;
            w->ndurable_objects++;
            owner->worker = *w;
            s->workers[j] = *w;
        }
    }
    return true;
}

static int route_order(const void *a, const void *b)
{
    const serve_route_t *x = a, *y = b;
    if (x->route->specificity != y->route->specificity)
        return x->route->specificity > y->route->specificity ? -1 : 1;
    /* equal specificity: configuration order (the array was built in that order; qsort is not stable) */
    return x->worker != y->worker ? (x->worker < y->worker ? -1 : 1) : (x->route < y->route ? -1 : x->route > y->route);
}

static bool build_routes(project_set_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->items[i].config->nroutes;
    if ((s->routes = calloc(n + 1, sizeof(*s->routes))) == NULL)
        return false;
    for (size_t i = 0; i < s->n; i++)
        for (size_t k = 0; k < s->items[i].config->nroutes; k++)
            s->routes[s->nroutes++] = (serve_route_t) {&s->items[i].config->routes[k].parsed, i};
    qsort(s->routes, s->nroutes, sizeof(*s->routes), route_order);
    return true;
}

bool project_set_load(project_set_t *s, const project_opts_t *opts, const char *const *paths, size_t npaths)
{
    memset(s, 0, sizeof(*s));
    s->items = calloc(npaths, sizeof(*s->items));
    s->workers = calloc(npaths, sizeof(*s->workers));
    s->configs = calloc(npaths, sizeof(*s->configs));
    if (s->items == NULL || s->workers == NULL || s->configs == NULL) {
        fprintf(stderr, "ew-server: out of memory\n");
        return false;
    }
    for (size_t i = 0; i < npaths; i++) {
        project_opts_t o = *opts;
        o.path = paths[i];
        if (i > 0)
            o.nvar_args = 0; /* --var is for the primary Worker, as wrangler applies it */
        bool ok = project_load(&s->items[i], &o);
        s->n = i + 1;
        if (!ok)
            return false;
        s->workers[i] = s->items[i].worker;
        s->configs[i] = s->items[i].config;
    }
    if (!check_names(s) || !check_services(s) || !link_durable_objects(s))
        return false;
    if (!build_routes(s)) {
        fprintf(stderr, "ew-server: out of memory\n");
        return false;
    }
    s->serve = (serve_workers_t) {s->workers, s->configs, s->n, s->routes, s->nroutes};
    return true;
}

void project_set_print(const project_set_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const ew__wrangler_t *c = s->items[i].config;
        if (s->n > 1)
            printf("Worker \"%s\" (%s)%s\n", c->name, file_of(&s->items[i]),
                   i == 0 ? ": the primary, serving what no route matches" : "");
        project_print_bindings(&s->items[i]);
        for (size_t k = 0; s->n > 1 && k < c->nroutes; k++)
            printf("  route %s\n", c->routes[k].pattern);
    }
}

bool project_set_has_resources(const project_set_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].worker.nresources > 0)
            return true;
    return false;
}

void project_set_dispose(project_set_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        project_dispose(&s->items[i]);
    free(s->items);
    free(s->workers);
    free(s->configs);
    free(s->routes);
    memset(s, 0, sizeof(*s));
}
