/*
 * main.c — ew-server's command line: serves a Worker project the way `wrangler dev` does.
 *
 *   ew-server [PATH]... [-c|--config PATH]... [--env NAME] [--var KEY:VALUE]... [--persist-to DIR] [--test-scheduled]
 *             [--ip IP] [--port N] [--threads N] [--cpu-ms MS] [--cache-mb MB] [--idle-timeout MS]
 *             [--request-timeout MS] [--colo CODE] [--country CC] [--trust-cf-ipcountry]
 *             [--tls-cert FILE --tls-key FILE] [--log-format pretty|json] [--metrics] [--do-idle-ms MS]
 *             [--watch] [--local-protocol http|https]
 *
 * PATH is a project folder (wrangler.json, wrangler.jsonc or wrangler.toml; or just a script src/index.js,
 * index.js or worker.js), a configuration file, or a Worker script (default: the current folder). Several
 * PATHs (or -c PATH flags) run several Workers in one server, as `wrangler dev -c a -c b` does: the first
 * takes the requests no route matches, the others are reached by their routes and service bindings. The
 * project is read by project.c (configuration errors print FILE:LINE:COL and exit 1); serve.c runs the
 * threads and prints "Ready on http://IP:PORT" once listening, one line per request, and the Worker's
 * console output prefixed by its name. SIGINT/SIGTERM drain in-flight requests and exit 0. This file is the
 * command line only; docs/configuration.md documents every flag and key.
 */
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/client.h"
#include "d1.h"
#include "log.h"
#include "project.h"
#include "selfsigned.h"
#include "serve.h"
#include "tools.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: ew-server [PATH]... [options]\n"
               "       ew-server check [PATH] [--env NAME]            compile only, report errors\n"
               "       ew-server build [PATH] [--env NAME] --emit-js [-o FILE]  print the lowered ES5 program\n"
               "       ew-server d1 execute DB (--command SQL | --file F) [--json] [--persist-to DIR]\n"
               "       ew-server d1 migrations apply DB [--persist-to DIR]   (ew-server d1 --help)\n"
               "  PATH  a project folder (wrangler.json, wrangler.jsonc or wrangler.toml), a config file, or a\n"
               "        Worker script (default: .). Several PATHs run several Workers in one server: the first\n"
               "        takes what no route matches, the others are reached by routes and service bindings\n"
               "  -c, --config PATH     a project to run (repeatable; the same as a PATH argument)\n"
               "  --env NAME            use [env.NAME] of the configuration\n"
               "  --var KEY:VALUE       set env.KEY to the string VALUE (repeatable; overrides [vars], .dev.vars)\n"
               "  --persist-to DIR      state folder for KV and other storage (default: PROJECT/.wrangler/state)\n"
               "  --test-scheduled      GET /__scheduled?cron=... runs the scheduled handler\n"
               "  --ip IP               address to listen on (default 127.0.0.1, or [dev] ip)\n"
               "  --port N              TCP port (default 8787, or [dev] port; 0 picks a free one)\n"
               "  --threads N           event-loop threads, each with its own isolates (default: the cores)\n"
               "  --cpu-ms MS           CPU time per request (default: [limits] cpu_ms, else 50)\n"
               "  --cache-mb MB         size bound of the Cache API's storage per Worker (default 64)\n"
               "  --ca-file FILE        PEM file of the CAs fetch() trusts for https (default: $EW_CA_FILE, else\n"
               "                        the system bundle /etc/ssl/certs/ca-certificates.crt)\n"
               "  --connect-to H1:P1:H2:P2  fetch() to H1:P1 connects to H2:P2 instead (URL, Host, TLS name\n"
               "                        unchanged; repeatable), e.g. to serve an upstream API locally\n"
               "  --idle-timeout MS     close keep-alive connections idle this long (default 60000)\n"
               "  --request-timeout MS  a request's head and body must arrive within this (default 30000)\n"
               "  --watch               reload the Worker when a file of the project changes (also on SIGHUP)\n"
               "  --metrics             GET /__metrics answers Prometheus metrics instead of reaching the Worker\n"
               "  --log-format FMT      pretty (default) or json: one JSON object per request and log line\n"
               "  --tls-cert FILE       serve HTTPS (HTTP/1.1 and h2 by ALPN) with this PEM certificate chain\n"
               "  --tls-key FILE        ... and this private key (both or neither)\n"
               "  --local-protocol P    http (default) or https: without --tls-cert, a self-signed certificate\n"
               "                        for localhost made once in the state folder (STATE/tls/)\n"
               "  --colo CODE           request.cf.colo and the CF-Ray suffix (default DFW)\n"
               "  --country CC          request.cf.country and CF-IPCountry (default XX)\n"
               "  --trust-cf-ipcountry  take the country from the client's CF-IPCountry header (behind a proxy)\n"
               "  --do-idle-ms MS       evict a Durable Object after this long without events (default 70000)\n");
}

static bool parse_uint(const char *text, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || v < 0 || v > max)
        return false;
    *out = v;
    return true;
}

typedef struct cli {
    const char *ip;               /* NULL: [dev] ip, else 127.0.0.1 */
    long port;                    /* -1: [dev] port, else 8787 */
    long idle_ms, request_ms, cpu_ms, threads, cache_mb, do_idle_ms;
    const char *ca_file;          /* NULL: $EW_CA_FILE, else the system bundle */
    char *connect_to;             /* owned: the --connect-to rules joined with commas, NULL = none */
    bool test_scheduled;
    bool trust_ipcountry;
    bool metrics;
    bool watch;
    int https;                    /* --local-protocol: -1 not given ([dev] local_protocol, else http), 0, 1 */
    const char *colo, *country;
    const char *tls_cert, *tls_key;
    project_opts_t project;
    const char **paths;           /* the projects (PATH arguments and -c), in order; npaths >= 1 after parsing */
    size_t npaths;
} cli_t;

static const char *const value_flags[] = {"--ip", "--port", "--idle-timeout", "--request-timeout", "--threads",
                                          "--cpu-ms", "--cache-mb", "--env", "--var", "--persist-to", "--ca-file",
                                          "--connect-to", "--colo", "--country", "--tls-cert", "--tls-key",
                                          "--log-format", "--do-idle-ms", "--local-protocol", "-c", "--config"};

static bool takes_value(const char *a)
{
    for (size_t i = 0; i < sizeof(value_flags) / sizeof(value_flags[0]); i++)
        if (strcmp(a, value_flags[i]) == 0)
            return true;
    return false;
}

/* One option with its value; returns 0 to go on, or an exit code (2: usage error; 0 after --help). */
static int parse_option(cli_t *c, const char *a, const char *val, const char **vars)
{
    long v;
    if (strcmp(a, "--ip") == 0) {
        c->ip = val;
    } else if (strcmp(a, "--port") == 0) {
        if (!parse_uint(val, 65535, &c->port)) {
            fprintf(stderr, "ew-server: --port %s is not a port number (0-65535)\n", val);
            return 2;
        }
    } else if (strcmp(a, "--cpu-ms") == 0) {
        if (!parse_uint(val, 600000, &c->cpu_ms) || c->cpu_ms == 0) {
            fprintf(stderr, "ew-server: --cpu-ms %s is not a number of milliseconds (1-600000)\n", val);
            return 2;
        }
    } else if (strcmp(a, "--do-idle-ms") == 0) {
        if (!parse_uint(val, 86400000, &c->do_idle_ms) || c->do_idle_ms == 0) {
            fprintf(stderr, "ew-server: --do-idle-ms %s is not a number of milliseconds (1-86400000)\n", val);
            return 2;
        }
    } else if (strcmp(a, "--cache-mb") == 0) {
        if (!parse_uint(val, 1048576, &c->cache_mb) || c->cache_mb == 0) {
            fprintf(stderr, "ew-server: --cache-mb %s is not a number of MiB (1-1048576)\n", val);
            return 2;
        }
    } else if (strcmp(a, "--threads") == 0) {
        if (!parse_uint(val, 256, &c->threads) || c->threads == 0) {
            fprintf(stderr, "ew-server: --threads %s is not a number of threads (1-256)\n", val);
            return 2;
        }
    } else if (strcmp(a, "--idle-timeout") == 0 || strcmp(a, "--request-timeout") == 0) {
        if (!parse_uint(val, 86400000, &v) || v == 0) {
            fprintf(stderr, "ew-server: %s %s is not a number of milliseconds (1-86400000)\n", a, val);
            return 2;
        }
        *(a[2] == 'i' ? &c->idle_ms : &c->request_ms) = v;
    } else if (strcmp(a, "--env") == 0) {
        c->project.env = val;
    } else if (strcmp(a, "--var") == 0) {
        if (strchr(val, ':') == NULL || val[0] == ':') {
            fprintf(stderr, "ew-server: --var %s: expected KEY:VALUE\n", val);
            return 2;
        }
        vars[c->project.nvar_args++] = val;
    } else if (strcmp(a, "--local-protocol") == 0) {
        if (strcmp(val, "http") != 0 && strcmp(val, "https") != 0) {
            fprintf(stderr, "ew-server: --local-protocol %s: expected http or https\n", val);
            return 2;
        }
        c->https = val[4] == 's' ? 1 : 0;
    } else if (strcmp(a, "--connect-to") == 0) {
        char why[300];
        if (strchr(val, ',') != NULL || !ew__net_connect_to_valid(val, why, sizeof(why))) {
            fprintf(stderr, "ew-server: --connect-to %s: expected HOST1:PORT1:HOST2:PORT2\n", val);
            return 2;
        }
        size_t old = c->connect_to ? strlen(c->connect_to) : 0;
        char *joined = realloc(c->connect_to, old + strlen(val) + 2);
        if (joined == NULL)
            return 2;
        snprintf(joined + old, strlen(val) + 2, "%s%s", old ? "," : "", val);
        c->connect_to = joined;
    } else if (strcmp(a, "--log-format") == 0) {
        if (!srv_log_set_format(val)) {
            fprintf(stderr, "ew-server: --log-format %s: expected pretty or json\n", val);
            return 2;
        }
    } else if (strcmp(a, "--tls-cert") == 0 || strcmp(a, "--tls-key") == 0) {
        if (access(val, R_OK) != 0) {
            fprintf(stderr, "ew-server: %s %s: %s\n", a, val, strerror(errno));
            return 2;
        }
        *(a[6] == 'c' ? &c->tls_cert : &c->tls_key) = val;
    } else if (strcmp(a, "--colo") == 0 || strcmp(a, "--country") == 0) {
        bool colo = a[2] == 'c' && a[3] == 'o' && a[4] == 'l';
        size_t n = strlen(val);
        bool ok = colo ? n >= 3 && n <= 8 : n == 2;
        for (size_t i = 0; ok && i < n; i++)
            ok = (val[i] >= 'A' && val[i] <= 'Z') || (colo && val[i] >= '0' && val[i] <= '9');
        if (!ok) {
            fprintf(stderr, "ew-server: %s %s: expected %s\n", a, val,
                    colo ? "3-8 upper-case letters or digits (e.g. DFW)" : "two upper-case letters (e.g. US)");
            return 2;
        }
        *(colo ? &c->colo : &c->country) = val;
    } else if (strcmp(a, "--ca-file") == 0) {
        if (access(val, R_OK) != 0) {
            fprintf(stderr, "ew-server: --ca-file %s: %s\n", val, strerror(errno));
            return 2;
        }
        c->ca_file = val;
    } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
        c->paths[c->npaths++] = val;
    } else if (strcmp(a, "--persist-to") == 0) {
        if (val[0] == '\0') {
            fprintf(stderr, "ew-server: --persist-to needs a folder\n");
            return 2;
        }
        c->project.persist_to = val;
    }
    return 0;
}

/* Fills c from argv; returns -1 to go on, or an exit code. `vars` has room for argc entries. */
static int parse_args(cli_t *c, int argc, char **argv, const char **vars)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (takes_value(a)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ew-server: %s needs a value\n", a);
                return 2;
            }
            int rc = parse_option(c, a, argv[++i], vars);
            if (rc != 0)
                return rc;
        } else if (strcmp(a, "--test-scheduled") == 0) {
            c->test_scheduled = true;
        } else if (strcmp(a, "--trust-cf-ipcountry") == 0) {
            c->trust_ipcountry = true;
        } else if (strcmp(a, "--metrics") == 0) {
            c->metrics = true;
        } else if (strcmp(a, "--watch") == 0) {
            c->watch = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "ew-server: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            c->paths[c->npaths++] = a;
        }
    }
    if (c->npaths == 0)
        c->paths[c->npaths++] = ".";
    c->project.path = c->paths[0];
    if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
        fprintf(stderr, "ew-server: --tls-cert and --tls-key go together\n");
        return 2;
    }
    return -1;
}

/* Serves the loaded project until a signal has drained the threads; returns the exit code. */
/* ---------------------------------------------------------------------------------------------------------
 * Reload (SIGHUP, --watch): serve.c asks for the project again; the new one replaces the current one in
 * place once every thread has switched (a shallow copy: the threads keep no pointer into the struct itself).
 */

typedef struct reloader {
    const cli_t *cli;
    project_set_t *current;      /* the projects being served: main()'s at first, then the last reload's */
    bool current_owned;          /* current was allocated by a reload (freed by the next one, or by run()) */
    project_set_t *next;         /* owned: read, waiting for commit or discard */
} reloader_t;

static bool reload_project(void *arg, const serve_workers_t **set)
{
    reloader_t *r = arg;
    r->next = calloc(1, sizeof(*r->next));
    if (r->next == NULL)
        return false;
    if (!project_set_load(r->next, &r->cli->project, r->cli->paths, r->cli->npaths) ||
        (project_set_has_resources(r->next) && !project_make_state_dir(&r->next->items[0]))) {
        fprintf(stderr, "ew-server: reload refused, the previous Workers keep serving\n");
        project_set_dispose(r->next);
        free(r->next);
        r->next = NULL;
        return false;
    }
    *set = &r->next->serve;
    return true;
}

static void reload_discard(void *arg)
{
    reloader_t *r = arg;
    project_set_dispose(r->next);
    free(r->next);
    r->next = NULL;
}

static void reload_commit(void *arg)
{
    reloader_t *r = arg;
    project_set_dispose(r->current); /* the threads hold &next->serve now: the new set stays where it is */
    if (r->current_owned)
        free(r->current);
    r->current = r->next;
    r->current_owned = true;
    r->next = NULL;
}

/* The folder --watch polls for one project: PATH itself, or the folder of the file PATH names. A new string
 * (the caller frees it), NULL when out of memory. */
static char *watch_dir_of(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return strdup(path);
    char *dir = strdup(path);
    char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
    if (dir != NULL && slash == NULL) {
        free(dir);
        return strdup(".");
    }
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    return dir;
}

static int run(const cli_t *c, project_set_t *set)
{
    project_t *project = &set->items[0]; /* the primary: its settings ([dev], [limits], state) are the server's */
    const ew__wrangler_t *cfg = project->config;
    if (project_set_has_resources(set) && !project_make_state_dir(project))
        return 1;
    static char cert[4096], key[4096];
    const char *tls_cert = c->tls_cert, *tls_key = c->tls_key;
    bool https = c->https >= 0 ? c->https == 1 : cfg->dev_https == 1; /* the flag wins over [dev] */
    if (https && tls_cert == NULL) {
        if (!project_make_state_dir(project) || !srv_selfsigned_ensure(project->state_dir, cert, key, sizeof(cert)))
            return 1;
        tls_cert = cert;
        tls_key = key;
    }
    signal(SIGPIPE, SIG_IGN);
    /* stdout (request lines, console output) is block-buffered and flushed ten times a second by serve.c. */
    static char outbuf[65536];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
    project_set_print(set);
    serve_opts_t opts = {
        .ip = c->ip ? c->ip : cfg->dev_ip ? cfg->dev_ip : "127.0.0.1",
        .port = (int) (c->port >= 0 ? c->port : cfg->dev_port >= 0 ? cfg->dev_port : 8787),
        .set = &set->serve,
        .state_dir = project->state_dir,
        .test_scheduled = c->test_scheduled,
        .threads = (int) c->threads,
        .idle_timeout_ms = (uint32_t) c->idle_ms,
        .request_timeout_ms = (uint32_t) c->request_ms,
        .cpu_ms = (uint32_t) (c->cpu_ms ? c->cpu_ms : cfg->cpu_ms), /* --cpu-ms wins over [limits] */
        .cache_mb = (uint32_t) c->cache_mb,
        .colo = c->colo,
        .country = c->country,
        .trust_ipcountry = c->trust_ipcountry,
        .metrics = c->metrics,
        .tls_cert = tls_cert,
        .tls_key = tls_key,
        .subrequests = cfg->subrequests,
        .ca_file = c->ca_file ? c->ca_file : getenv("EW_CA_FILE"),
        .connect_to = c->connect_to,
        .durable_idle_ms = (uint32_t) c->do_idle_ms,
    };
    reloader_t reloader = {c, set, false, NULL};
    opts.reload = reload_project;
    opts.reload_discard = reload_discard;
    opts.reload_commit = reload_commit;
    opts.reload_arg = &reloader;
    char **dirs = c->watch ? calloc(c->npaths, sizeof(char *)) : NULL; /* one folder per project */
    for (size_t i = 0; dirs != NULL && i < c->npaths; i++)
        if ((dirs[i] = watch_dir_of(c->paths[i])) == NULL)
            return 1;
    opts.watch_dirs = (const char *const *) dirs;
    opts.nwatch_dirs = dirs != NULL ? c->npaths : 0;
    int rc = serve_run(&opts);
    for (size_t i = 0; i < opts.nwatch_dirs; i++)
        free(dirs[i]);
    free(dirs);
    if (reloader.current_owned) { /* main() disposes its own set (already emptied by the first reload) */
        project_set_dispose(reloader.current);
        free(reloader.current);
    }
    free(c->connect_to);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "build") == 0))
        return tools_main(argc, argv);
    if (argc > 1 && strcmp(argv[1], "d1") == 0)
        return d1_main(argc, argv);
    cli_t c = {.port = -1, .https = -1, .project = {.path = "."}};
    c.threads = sysconf(_SC_NPROCESSORS_ONLN);
    if (c.threads < 1)
        c.threads = 1;
    const char **vars = calloc((size_t) argc, sizeof(char *)); /* --var values: at most one per argument */
    c.paths = calloc((size_t) argc + 1, sizeof(char *));      /* PATHs and -c values, likewise */
    if (vars == NULL || c.paths == NULL)
        return 1;
    c.project.var_args = vars;
    int rc = parse_args(&c, argc, argv, vars);
    if (rc < 0) {
        project_set_t set;
        rc = project_set_load(&set, &c.project, c.paths, c.npaths) ? run(&c, &set) : 1;
        project_set_dispose(&set);
    }
    free(c.paths);
    free(vars);
    return rc;
}
