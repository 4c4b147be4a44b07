/* ew_worker_load_project (lib/config/project_load.c): a wrangler project on disk (wrangler.toml, .dev.vars,
 * src/index.js as an ES module Worker) loaded through the public API and fetched with ew_worker_fetch_sync:
 * name and main from the configuration, vars and secrets, a KV namespace as a storage resource (persisting
 * in the state folder), D1 databases (by database_name), [env.NAME], and config
 * errors with FILE:LINE:COL. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeworker.h"

static char dir[256];
static char state[300];
static char logged[4096];
static ew_runtime_t *rt;

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    if (level == EW_LOG_WARN && worker[0] == '\0') {
        size_t used = strlen(logged);
        snprintf(logged + used, sizeof(logged) - used, "%.*s\n", (int) len, msg);
    }
}

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/ew-project-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char src[300];
    snprintf(src, sizeof(src), "%s/src", dir);
    cr_assert_eq(mkdir(src, 0777), 0);
    snprintf(state, sizeof(state), "%s/state", dir);
    logged[0] = '\0';
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = 5000;
    cfg.state_dir = state;
    cfg.log = on_log;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
    write_file("src/index.js",
               "export default {\n"
               "  async fetch(request, env) {\n"
               "    const url = new URL(request.url);\n"
               "    if (url.pathname === '/put') await env.USERS_KV.put('k', url.search.slice(1));\n"
               "    const v = await env.USERS_KV.get('k');\n"
               "    return Response.json({v, greeting: env.GREETING, secret: env.SECRET ?? null,\n"
               "                          db: typeof env.DB});\n"
               "  }\n"
               "};\n");
}

static void teardown(void)
{
    ew_runtime_destroy(rt);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void) system(cmd);
}

TestSuite(config_project, .init = setup, .fini = teardown, .timeout = 60);

#define TOML                                                                                                \
    "name = \"users-api\"\n"                                                                                \
    "main = \"src/index.js\"\n"                                                                             \
    "[vars]\nGREETING = \"hello\"\n"                                                                        \
    "[[kv_namespaces]]\nbinding = \"USERS_KV\"\nid = \"users\"\n"                                           \
    "[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"db\"\ndatabase_id = \"x\"\n"                     \
    "[env.staging]\nname = \"users-staging\"\n"                                                             \
    "[env.staging.vars]\nGREETING = \"staging\"\n"                                                          \
    "[[env.staging.kv_namespaces]]\nbinding = \"USERS_KV\"\nid = \"users-staging\"\n"

/* GET `path` and return the body (static buffer). */
static const char *get(ew_worker_t *w, const char *path)
{
    static char out[4096];
    char url[256];
    snprintf(url, sizeof(url), "http://localhost%s", path);
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_error_t err;
    (void) ew_worker_fetch_sync(w, &req, &resp, &err);
    cr_assert_not_null(resp);
    cr_assert_eq(resp->outcome, EW_OK, "request failed: %s", err.message);
    cr_assert_eq(resp->status, 200);
    snprintf(out, sizeof(out), "%s", (char *) resp->body);
    ew_response_destroy(resp);
    return out;
}

static ew_worker_t *load_ok(const char *path, const char *env)
{
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(ew_worker_load_project(rt, path, env, &w, &err), EW_OK, "%s", err.message);
    cr_assert_not_null(w);
    return w;
}

Test(config_project, folder_with_kv_vars_and_secrets)
{
    write_file("wrangler.toml", TOML);
    write_file(".dev.vars", "SECRET=s3cret\n");
    ew_worker_t *w = load_ok(dir, NULL);
    cr_assert_str_eq(ew_worker_name(w), "users-api");
    cr_assert_str_eq(get(w, "/"), "{\"v\":null,\"greeting\":\"hello\",\"secret\":\"s3cret\",\"db\":\"object\"}");
    cr_assert_str_eq(get(w, "/put?alice"),
                     "{\"v\":\"alice\",\"greeting\":\"hello\",\"secret\":\"s3cret\",\"db\":\"object\"}");
    char d1[400];
    snprintf(d1, sizeof(d1), "%s/d1/db.sqlite", state);
    cr_assert_eq(access(d1, F_OK), 0, "the D1 database is named by database_name: %s", d1);
    ew_worker_destroy(w);

    /* The same KV id in the same state folder: the data persists across runtimes. */
    ew_runtime_destroy(rt);
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = 5000;
    cfg.state_dir = state;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
    char file[300];
    snprintf(file, sizeof(file), "%s/wrangler.toml", dir);
    w = load_ok(file, NULL);
    cr_assert(strncmp(get(w, "/"), "{\"v\":\"alice\"", 12) == 0);
}

Test(config_project, environment_selects_name_vars_and_namespace)
{
    write_file("wrangler.toml", TOML);
    ew_worker_t *w = load_ok(dir, "staging");
    cr_assert_str_eq(ew_worker_name(w), "users-staging");
    get(w, "/put?bob");
    ew_worker_t *top = load_ok(dir, NULL);
    cr_assert_str_eq(get(top, "/"), "{\"v\":null,\"greeting\":\"hello\",\"secret\":null,\"db\":\"object\"}");
    cr_assert_str_eq(get(w, "/"), "{\"v\":\"bob\",\"greeting\":\"staging\",\"secret\":null,\"db\":\"undefined\"}");
}

Test(config_project, config_error_has_file_line_and_column)
{
    write_file("wrangler.toml", "name = \"x\"\nmain = \"src/index.js\"\n[vars]\nA = 1\n[limits]\ncpu_ms = \"no\"\n");
    ew_worker_t *w = (ew_worker_t *) 1;
    ew_error_t err;
    cr_assert_eq(ew_worker_load_project(rt, dir, NULL, &w, &err), EW_ERR_INVALID_ARG);
    cr_assert_null(w);
    cr_assert(strstr(err.file, "wrangler.toml") != NULL, "%s", err.file);
    cr_assert_eq(err.line, 6, "%s", err.message);
    cr_assert_gt(err.column, 0);
    cr_assert(strstr(err.message, "wrangler.toml:6:") != NULL, "%s", err.message);
}

Test(config_project, syntax_error_and_missing_main)
{
    ew_error_t err;
    ew_worker_t *w = NULL;
    write_file("wrangler.toml", "name = \"x\"\nmain = \n");
    cr_assert_eq(ew_worker_load_project(rt, dir, NULL, &w, &err), EW_ERR_SYNTAX);
    cr_assert_eq(err.line, 2, "%s", err.message);
    write_file("wrangler.toml", "name = \"x\"\nmain = \"src/nope.js\"\n");
    cr_assert_eq(ew_worker_load_project(rt, dir, NULL, &w, &err), EW_ERR_IO);
    cr_assert(strstr(err.message, "main: ") != NULL, "%s", err.message);
    cr_assert_eq(ew_worker_load_project(rt, NULL, NULL, &w, &err), EW_ERR_INVALID_ARG);
}
