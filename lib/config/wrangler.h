/*
 * lib/config/wrangler.h — a Worker project's configuration as `wrangler dev` reads it: wrangler.json,
 * wrangler.jsonc or wrangler.toml (wrangler.c), the `.dev.vars` secrets beside it (dotenv.c), turned into one
 * flat struct that ew-server (server/project.c) maps onto ew_worker_config_t and its own settings.
 *
 *     ew__wrangler_t *wr;
 *     ew_error_t err;
 *     if (ew__wrangler_load("path/to/project", "staging", &wr, &err) != EW_OK)
 *         fprintf(stderr, "%s\n", err.message);      // "path/to/project/wrangler.toml:12:9: 'vars.X' must ..."
 *     for (size_t i = 0; i < wr->nwarnings; i++)
 *         fprintf(stderr, "warning: %s\n", wr->warnings[i]);
 *     ...
 *     ew__wrangler_destroy(wr);
 *
 * What each key means, which keys are honoured, and which are parsed but not supported yet:
 * docs/configuration.md. Environments follow wrangler: with an environment selected, name, main,
 * compatibility_*, triggers, limits, routes (and the other "inheritable" keys) come from [env.NAME] when it
 * sets them and from the top level otherwise; vars and every binding list come from [env.NAME] only.
 *
 * Memory: an ew__wrangler_t owns every string and array it points to (one arena, freed by
 * ew__wrangler_destroy). Pointers stay valid until then. Not tied to a thread; not locked.
 */
#ifndef EW_CONFIG_WRANGLER_H
#define EW_CONFIG_WRANGLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/internal.h"
#include "cron/cron.h"
#include "edgeworker.h"

/* One env variable: a [vars] entry, a .dev.vars secret, or a --var override. */
typedef struct ew__wrangler_var {
    const char *name;        /* UTF-8, NUL-terminated */
    const char *value;       /* a string, or JSON text when is_json */
    bool is_json;            /* non-string [vars] values (numbers, booleans, arrays, tables) as JSON */
    bool secret;             /* from .dev.vars: its value is not to be printed */
} ew__wrangler_var_t;

/* kv_namespaces[]: the local storage is keyed by `id`, as wrangler dev keys it (preview_id is ignored). */
typedef struct ew__wrangler_kv {
    const char *binding;     /* env property */
    const char *id;          /* storage name; the binding when the config gives no id */
} ew__wrangler_kv_t;

/* d1_databases[] */
typedef struct ew__wrangler_d1 {
    const char *binding;
    const char *database_name;   /* the storage name (ew_resource_t.id); NULL falls back to database_id */
    const char *database_id;     /* NULL when absent */
    const char *migrations_dir;  /* resolved against the project folder; default "<project>/migrations" */
    const char *migrations_table; /* the table recording applied migrations; default "d1_migrations" */
} ew__wrangler_d1_t;

/* r2_buckets[] */
typedef struct ew__wrangler_r2 {
    const char *binding;
    const char *bucket_name;     /* the storage name; the binding when the config gives none */
} ew__wrangler_r2_t;

/* [assets]: static files served with the Worker (lib/bindings/assets.c). */
typedef struct ew__wrangler_assets {
    const char *directory;       /* resolved against the project folder */
    const char *binding;         /* NULL when absent */
    ew_html_handling_t html_handling;
    ew_not_found_handling_t not_found_handling;
    bool run_worker_first;       /* a list of route patterns also sets it (every request reaches the Worker) */
} ew__wrangler_assets_t;

/* ratelimits[]: {name, namespace_id, simple: {limit, period}} */
typedef struct ew__wrangler_ratelimit {
    const char *binding;         /* `name` */
    const char *namespace_id;    /* a positive integer, as text */
    uint32_t limit;
    uint32_t period;             /* 10 or 60 */
} ew__wrangler_ratelimit_t;
/* durable_objects.bindings[]: classes of this worker, or of another (script_name). Also, in do_classes, the
 * classes [[migrations]] declare (binding NULL). */
typedef struct ew__wrangler_do {
    const char *binding;         /* env property ("name" in the configuration); NULL in do_classes */
    const char *class_name;
    bool sql;                    /* a [[migrations]] entry lists the class in new_sqlite_classes */
    const char *script_name;     /* the Worker that defines the class, NULL = this one */
} ew__wrangler_do_t;

/* services[]: service bindings to other Workers of the same server (lib/bindings/service.c). */
typedef struct ew__wrangler_service {
    const char *binding;         /* env property */
    const char *service;         /* the target Worker's name */
    const char *entrypoint;      /* a named export of the target, NULL = its default export */
    uint32_t line, col;          /* where the entry is, for errors about a target that is not loaded */
} ew__wrangler_service_t;

/* A route pattern parsed (routes.c): what part of a URL it matches. */
typedef struct ew__route {
    char scheme[8];              /* "http" or "https", "" = either */
    char host[256];              /* lower-case, without the leading '*' and any port */
    char path[2048];             /* starts with '/', without the trailing '*' */
    bool host_prefix;            /* the pattern began with '*': the host must end with `host` */
    bool path_prefix;            /* a trailing '*' (or a custom domain): the path must start with `path` */
    int specificity;             /* higher = more specific; ties go to the route listed first */
} ew__route_t;

/* routes[] (or route): the patterns that send requests to this Worker when one server runs several. */
typedef struct ew__wrangler_route {
    const char *pattern;         /* as written */
    bool custom_domain;
    const char *zone_name;       /* NULL when absent (informational) */
    ew__route_t parsed;
} ew__wrangler_route_t;

typedef struct ew__wrangler {
    const char *config_path;     /* the configuration file read; NULL when PATH was a script */
    const char *project_dir;     /* the config file's folder (or the script's): .dev.vars and state live here */
    const char *env;             /* the environment applied, NULL for the top level */
    const char *name;            /* the Worker's name; "worker" when the config has none */
    const char *main;            /* the entry script, resolved against project_dir; NULL for an assets-only
                                    project (no main, [assets] set) */
    const char *compatibility_date;       /* "YYYY-MM-DD", NULL when absent */
    const char **compatibility_flags;     /* ncompatibility_flags strings */
    size_t ncompatibility_flags;
    ew__wrangler_var_t *vars;    /* [vars], then .dev.vars, then overrides (a later one replaces by name) */
    size_t nvars;
    ew__wrangler_kv_t *kv;
    size_t nkv;
    ew__wrangler_d1_t *d1;
    size_t nd1;
    ew__wrangler_r2_t *r2;
    size_t nr2;
    ew__wrangler_assets_t *assets; /* [assets], NULL when absent */
    ew__wrangler_ratelimit_t *ratelimits;
    size_t nratelimits;
    ew__wrangler_do_t *durables;  /* durable_objects.bindings */
    size_t ndurables;
    ew__wrangler_do_t *do_classes; /* the classes [[migrations]] create (new_classes, new_sqlite_classes) */
    size_t ndo_classes;
    ew__wrangler_service_t *services; /* services[]: bindings to other Workers */
    size_t nservices;
    ew__wrangler_route_t *routes; /* routes[] or route */
    size_t nroutes;
    ew_queue_producer_t *queue_producers; /* queues.producers (strings in the arena) */
    size_t nqueue_producers;
    ew_queue_consumer_t *queue_consumers; /* queues.consumers of type "worker"; max_batch_timeout in ms */
    size_t nqueue_consumers;
    ew__cron_t *crons;           /* triggers.crons, parsed (owned here: disposed by ew__wrangler_destroy) */
    size_t ncrons;
    uint32_t cpu_ms;             /* [limits] cpu_ms (ms), 0 = not set */
    uint32_t subrequests;        /* [limits] subrequests (fetch() calls per request), 0 = not set */
    const char *dev_ip;          /* [dev] ip, NULL when not set */
    int dev_port;                /* [dev] port, -1 when not set */
    int dev_https;               /* [dev] local_protocol: -1 not set, 0 "http", 1 "https" */
    const char *dev_vars_path;   /* the .dev.vars file read, NULL when none */
    const char **warnings;       /* nwarnings messages, "FILE:LINE:COL: text" where a position is known */
    size_t nwarnings;
    ew__cfg_doc_t *pool;         /* private: the arena everything above lives in */
} ew__wrangler_t;

/* Finds and reads a project. `path` is a project folder (holding wrangler.json, wrangler.jsonc or
 * wrangler.toml, taken in that order as wrangler does; with none, the script src/index.js, index.js or
 * worker.js), a configuration file (.json, .jsonc, .toml), or a Worker script (no configuration: the Worker
 * is named "worker", and nothing else is set). `env` selects [env.NAME] (NULL: none). Also reads the project's
 * .dev.vars (.dev.vars.<env> instead when `env` is set and that file exists).
 * On success *out is a new configuration (free with ew__wrangler_destroy). On failure *out is NULL and `err`
 * says why: EW_ERR_INVALID_ARG for a configuration error ("FILE:LINE:COL: ..."), EW_ERR_SYNTAX for a file
 * that does not parse, EW_ERR_IO when a file cannot be read or nothing to serve is found, EW_ERR_NOMEM. */
ew_status_t ew__wrangler_load(const char *path, const char *env, ew__wrangler_t **out, ew_error_t *err);

/* The part of ew__wrangler_load after the file is parsed: interprets `doc` as a configuration whose folder
 * is `dir` (main and migrations_dir are resolved against it), with environment `env` (NULL: none). Reads no
 * files (no .dev.vars); config_path is doc->file. `doc` may be destroyed after the call. */
ew_status_t ew__wrangler_from_doc(const ew__cfg_doc_t *doc, const char *dir, const char *env,
                                  ew__wrangler_t **out, ew_error_t *err);

/* Sets env variable `name` to `value` (both copied): replaces a var of that name, or appends one. Used for
 * .dev.vars secrets and --var overrides. EW_ERR_NOMEM or EW_OK. */
ew_status_t ew__wrangler_set_var(ew__wrangler_t *wr, const char *name, const char *value, bool is_json,
                                 bool secret);

/* Frees the configuration and everything it points to. NULL is fine. */
void ew__wrangler_destroy(ew__wrangler_t *wr);

/* Cron scheduling: the first minute strictly after `after_ms` (UTC, ms since the epoch) at which any of the
 * configuration's crons fires. Stores it in *at_ms, sets due[i] (an array of ncrons, may be NULL) to whether
 * crons[i] fires then, and returns true; false when no cron will ever fire (or there are none). */
bool ew__wrangler_next_cron(const ew__wrangler_t *wr, int64_t after_ms, int64_t *at_ms, bool *due);

/* ---------------------------------------------------------------------------------------------------------
 * Route patterns (routes.c): wrangler's `routes`, matched on a request's host and path.
 */

/* Parses `pattern` (a custom domain when custom_domain is set) into *out; false with a sentence in `why`
 * (why_len bytes) when the pattern is not valid (query string, infix wildcard, bad scheme, no host). */
bool ew__route_parse(const char *pattern, bool custom_domain, ew__route_t *out, char *why, size_t why_len);
/* Whether the route matches a request for scheme://host/path (host without port, host_len bytes; path without
 * query, path_len bytes). Host names compare case-insensitively, paths exactly. */
bool ew__route_match(const ew__route_t *r, const char *scheme, const char *host, size_t host_len, const char *path,
                     size_t path_len);
/* Splits an absolute URL into its scheme (copied into scheme, scheme_cap bytes), host (without userinfo and
 * port) and path (without query and fragment; "/" when empty), pointing into url. False when url has no
 * "scheme://". */
bool ew__route_split_url(const char *url, char *scheme, size_t scheme_cap, const char **host, size_t *host_len,
                         const char **path, size_t *path_len);

/* ---------------------------------------------------------------------------------------------------------
 * dotenv (dotenv.c): the .dev.vars format, as the `dotenv` npm package that wrangler uses parses it.
 *
 *     # a comment                      KEY=value           value to the first '#', trimmed
 *     export KEY=value                 KEY="a\nb"          double quotes: \n and \r become newlines
 *     KEY: value                       KEY='literal'       single quotes (and `backticks`): as written
 *                                      KEY="line one       a quoted value may span lines
 *                                      line two"
 * Keys are [A-Za-z0-9_.-]+; a later key replaces an earlier one. Lines that are none of these are skipped
 * and reported in bad_lines (dotenv skips them silently; a person wants to know).
 */
typedef struct ew__dotenv_entry {
    const char *key;
    const char *value;
    uint32_t line;           /* 1-based line of the key */
} ew__dotenv_entry_t;

typedef struct ew__dotenv {
    ew__dotenv_entry_t *entries; /* in file order, duplicates already merged (last value wins, first place) */
    size_t len;
    uint32_t *bad_lines;         /* nbad 1-based line numbers of lines that were skipped */
    size_t nbad;
} ew__dotenv_t;

/* Parses `len` bytes of `text` into *out, every string and array allocated from `pool` (a document used as
 * an arena: ew__cfg_doc_create). EW_OK, or EW_ERR_NOMEM. */
ew_status_t ew__dotenv_parse(ew__cfg_doc_t *pool, const char *text, size_t len, ew__dotenv_t *out);

/* ---------------------------------------------------------------------------------------------------------
 * Projects (project_load.c): a configuration turned into the ew_worker_config_t ew_worker_load takes. The
 * one implementation behind ew_worker_load_project() and ew-server (server/project.c).
 *
 *     ew__project_t p;
 *     if (ew__project_open(&p, path, env, warn, udata, &err) == EW_OK      // read; main must exist
 *         && (... ew__wrangler_set_var(p.config, ...) overrides ...,
 *             ew__project_build(&p, warn, udata, &err) == EW_OK))         // vars + KV/R2 resources
 *         ew_worker_load(rt, &p.worker, &w, &err);
 *     ew__project_dispose(&p);
 */

/* Called once per warning (a configuration warning); `msg` is valid during the call. */
typedef void (*ew__project_warn_fn)(void *udata, const char *msg);

typedef struct ew__project {
    ew__wrangler_t *config;        /* owned */
    ew_var_t *vars;                /* owned array (by ew__project_build); strings point into config */
    ew_resource_t *resources;      /* owned array, KV then D1 then R2; strings point into config */
    ew_assets_t assets;            /* [assets] as the library takes them (strings point into config) */
    ew_ratelimit_t *ratelimits;    /* owned array (by ew__project_build); strings point into config */
    ew_durable_object_t *durables; /* owned array; strings point into config */
    ew_service_t *services;        /* owned array; strings point into config */
    ew_worker_config_t worker;     /* set by ew__project_build: name, main, vars, resources (into the above) */
} ew__project_t;

/* ew__wrangler_load(path, env), then reports the configuration's warnings through `warn` (may be NULL) and
 * checks that main is a file (EW_ERR_IO "CONFIG: main: MAIN: <why>" otherwise). Errors as ew__wrangler_load.
 * Call ew__project_dispose() whatever it returns. */
ew_status_t ew__project_open(ew__project_t *p, const char *path, const char *env, ew__project_warn_fn warn,
                             void *udata, ew_error_t *err);

/* Builds p->worker from p->config as it is now (after any ew__wrangler_set_var overrides): vars, and the
 * KV namespaces as EW_RESOURCE_KV resources, the D1 databases as EW_RESOURCE_D1 (id: database_name) and the
 * R2 buckets as EW_RESOURCE_R2 (id: bucket_name).
 * May be called again after more overrides. EW_OK or EW_ERR_NOMEM. */
ew_status_t ew__project_build(ew__project_t *p, ew__project_warn_fn warn, void *udata, ew_error_t *err);

/* Frees what ew__project_open/_build allocated (fine on a zeroed or failed project). */
void ew__project_dispose(ew__project_t *p);

#endif
