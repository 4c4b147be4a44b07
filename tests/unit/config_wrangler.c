/*
 * The wrangler configuration layer (lib/config/wrangler.c, dotenv.c): keys into ew__wrangler_t, [env.NAME]
 * inheritance, type errors with FILE:LINE:COL, unknown-key and not-supported warnings, the same project in
 * TOML, JSON and JSONC, .dev.vars parsing, project discovery on disk, and the cron scheduling function.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/wrangler.h"

/* Parses `text` as `file` (its extension picks the reader) and interprets it with folder "/proj". */
static ew_status_t load_text(const char *file, const char *text, const char *env, ew__wrangler_t **wr,
                             ew_error_t *err)
{
    ew__cfg_doc_t *doc = NULL;
    bool toml = strstr(file, ".toml") != NULL;
    ew_status_t st = toml ? ew__toml_parse(text, strlen(text), file, &doc, err)
                          : ew__jsonc_parse(text, strlen(text), file, &doc, err);
    cr_assert_eq(st, EW_OK, "%s does not parse: %s", file, err->message);
    st = ew__wrangler_from_doc(doc, "/proj", env, wr, err);
    ew__cfg_doc_destroy(doc);
    return st;
}

static ew__wrangler_t *load_ok(const char *text, const char *env)
{
    ew__wrangler_t *wr;
    ew_error_t err;
    ew_status_t st = load_text("wrangler.toml", text, env, &wr, &err);
    cr_assert_eq(st, EW_OK, "load failed: %s", err.message);
    return wr;
}

static void expect_error(const char *file, const char *text, const char *env, const char *message)
{
    ew__wrangler_t *wr = NULL;
    ew_error_t err;
    ew_status_t st = load_text(file, text, env, &wr, &err);
    cr_assert_neq(st, EW_OK, "expected an error for:\n%s", text);
    cr_assert_null(wr);
    cr_assert(strstr(err.message, message) != NULL, "message \"%s\" lacks \"%s\"", err.message, message);
}

static const ew__wrangler_var_t *var(const ew__wrangler_t *wr, const char *name)
{
    for (size_t i = 0; i < wr->nvars; i++)
        if (strcmp(wr->vars[i].name, name) == 0)
            return &wr->vars[i];
    return NULL;
}

static bool has_warning(const ew__wrangler_t *wr, const char *text)
{
    for (size_t i = 0; i < wr->nwarnings; i++)
        if (strstr(wr->warnings[i], text) != NULL)
            return true;
    return false;
}

#define BASE "name = \"app\"\nmain = \"src/index.js\"\ncompatibility_date = \"2024-07-01\"\n"

Test(config_wrangler, reads_the_basic_keys)
{
    ew__wrangler_t *wr = load_ok(BASE "compatibility_flags = [\"nodejs_compat\"]\n"
                                      "[vars]\nS = \"text\"\nN = 42\nF = 1.5\nB = true\nA = [1, \"two\"]\n"
                                      "T = { k = \"v\\\"q\", n = { m = -3 } }\n",
                                 NULL);
    cr_assert_str_eq(wr->name, "app");
    cr_assert_str_eq(wr->main, "/proj/src/index.js");
    cr_assert_str_eq(wr->compatibility_date, "2024-07-01");
    cr_assert_eq(wr->ncompatibility_flags, 1);
    cr_assert_str_eq(wr->compatibility_flags[0], "nodejs_compat");
    cr_assert_eq(wr->nvars, 6);
    cr_assert_str_eq(var(wr, "S")->value, "text");
    cr_assert_not(var(wr, "S")->is_json);
    cr_assert_str_eq(var(wr, "N")->value, "42");
    cr_assert(var(wr, "N")->is_json);
    cr_assert_str_eq(var(wr, "F")->value, "1.5");
    cr_assert_str_eq(var(wr, "B")->value, "true");
    cr_assert_str_eq(var(wr, "A")->value, "[1,\"two\"]");
    cr_assert_str_eq(var(wr, "T")->value, "{\"k\":\"v\\\"q\",\"n\":{\"m\":-3}}");
    cr_assert_eq(wr->nwarnings, 0, "unexpected warning: %s", wr->nwarnings ? wr->warnings[0] : "");
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, environment_inherits_what_wrangler_inherits)
{
    static const char text[] = BASE "[vars]\nTOP = \"1\"\n[triggers]\ncrons = [\"0 * * * *\"]\n[limits]\ncpu_ms = 100\n"
                                    "[[kv_namespaces]]\nbinding = \"KV\"\nid = \"top\"\n"
                                    "[env.staging]\nmain = \"src/staging.js\"\n"
                                    "[env.prod]\nname = \"app-production\"\nvars = { P = \"yes\" }\n";
    ew__wrangler_t *wr = load_ok(text, "staging");
    cr_assert_str_eq(wr->name, "app-staging"); /* wrangler's "<name>-<env>" */
    cr_assert_str_eq(wr->main, "/proj/src/staging.js");
    cr_assert_str_eq(wr->compatibility_date, "2024-07-01");
    cr_assert_eq(wr->ncrons, 1);
    cr_assert_eq(wr->cpu_ms, 100);
    cr_assert_eq(wr->nvars, 0, "vars are not inherited");
    cr_assert_eq(wr->nkv, 0, "binding lists are not inherited");
    cr_assert(has_warning(wr, "wrangler.toml:4:2: 'vars' exists at the top level but not in [env.staging]"));
    cr_assert(has_warning(wr, "'kv_namespaces' exists at the top level"));
    ew__wrangler_destroy(wr);

    wr = load_ok(text, "prod");
    cr_assert_str_eq(wr->name, "app-production");
    cr_assert_str_eq(wr->main, "/proj/src/index.js");
    cr_assert_eq(wr->nvars, 1);
    cr_assert_str_eq(var(wr, "P")->value, "yes");
    ew__wrangler_destroy(wr);

    wr = load_ok(text, NULL);
    cr_assert_str_eq(wr->name, "app");
    cr_assert_eq(wr->nvars, 1);
    cr_assert_eq(wr->nkv, 1);
    cr_assert_str_eq(wr->kv[0].id, "top");
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, unknown_environment)
{
    expect_error("wrangler.toml", BASE "[env.prod]\n", "stagign", "no environment \"stagign\"");
    ew__wrangler_t *wr = load_ok(BASE "[vars]\nA = \"1\"\n", "dev");
    cr_assert(has_warning(wr, "no environment \"dev\""));
    cr_assert_str_eq(wr->name, "app-dev");
    cr_assert_eq(wr->nvars, 0);
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, wrong_types_are_errors_with_positions)
{
    expect_error("wrangler.toml", "name = 1\nmain = \"a.js\"\n", NULL, "wrangler.toml:1:8: 'name' must be a string, not integer");
    expect_error("wrangler.toml", BASE "[vars]\nD = 1979-05-27\n", NULL,
                 "wrangler.toml:5:5: 'vars.D' must be a string, number, boolean, array or table, not local date");
    expect_error("wrangler.json", "{\"main\": \"a.js\",\n  \"vars\": {\"X\": null}}", NULL,
                 "wrangler.json:2:17: 'vars.X' must be a string, number, boolean, array or object, not null");
    expect_error("wrangler.toml", BASE "[[kv_namespaces]]\nbinding = 7\n", NULL,
                 "wrangler.toml:5:11: 'kv_namespaces[0].binding' must be a string, not integer");
    expect_error("wrangler.toml", BASE "[[kv_namespaces]]\nid = \"x\"\n", NULL, "'kv_namespaces[0].binding' is required");
    expect_error("wrangler.toml", BASE "kv_namespaces = { binding = \"X\" }\n", NULL,
                 "wrangler.toml:4:17: 'kv_namespaces' must be an array of tables, not table");
    expect_error("wrangler.toml", BASE "[[kv_namespaces]]\nbinding = \"K\"\nid = \"a b\"\n", NULL,
                 "wrangler.toml:6:6: 'kv_namespaces[0].id' must be 1 to 200 of the characters");
    expect_error("wrangler.toml", BASE "[limits]\ncpu_ms = 0\n", NULL, "'limits.cpu_ms' must be from 1 to 300000");
    expect_error("wrangler.toml", "main = \"a.js\"\ncompatibility_date = 2024-07-01\n", NULL,
                 "wrangler.toml:2:22: 'compatibility_date' must be a string: quote the date");
    expect_error("wrangler.toml", "main = \"a.js\"\ncompatibility_date = \"July 1\"\n", NULL, "YYYY-MM-DD");
    expect_error("wrangler.toml", "name = \"a\"\n", NULL, "no entry point: set 'main'");
    expect_error("wrangler.toml", BASE "[env.staging]\nvars = [1]\n", "staging",
                 "wrangler.toml:5:8: 'env.staging.vars' must be a table, not array");
    expect_error("wrangler.toml", BASE "env = 3\n", NULL, "'env' must be a table");
}

Test(config_wrangler, binding_names_are_unique)
{
    expect_error("wrangler.toml", BASE "vars = { DATA = \"x\" }\n[[kv_namespaces]]\nbinding = \"DATA\"\n", NULL,
                 "wrangler.toml:6:11: 'kv_namespaces[0]': the binding name \"DATA\" is already used by 'vars.DATA'");
}

Test(config_wrangler, bad_cron_is_an_error_naming_it)
{
    expect_error("wrangler.toml", BASE "[triggers]\ncrons = [\"* * * * *\", \"61 * * * *\"]\n", NULL,
                 "wrangler.toml:5:23: 'triggers.crons[1]': cron \"61 * * * *\"");
    ew__wrangler_t *wr = load_ok(BASE "[triggers]\ncrons = [\"0 0 30 2 *\"]\n", NULL);
    cr_assert(has_warning(wr, "wrangler.toml:5:10: 'triggers.crons[0]': cron \"0 0 30 2 *\" never fires"));
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, unknown_keys_are_warned_about_by_name)
{
    static const char text[] = BASE "colour = \"red\"\n[[kv_namespaces]]\nbinding = \"K\"\nprevew_id = \"x\"\n"
                                    "[env.staging]\nmian = \"x.js\"\ndev = { port = 1 }\n";
    ew__wrangler_t *wr = load_ok(text, NULL);
    cr_assert(has_warning(wr, "wrangler.toml:4:1: unknown key 'colour' (ignored)"));
    cr_assert(has_warning(wr, "wrangler.toml:7:1: unknown key 'kv_namespaces[0].prevew_id' (ignored)"));
    ew__wrangler_destroy(wr);
    wr = load_ok(text, "staging");
    cr_assert(has_warning(wr, "wrangler.toml:4:1: unknown key 'colour' (ignored)"));
    cr_assert(has_warning(wr, "wrangler.toml:9:1: unknown key 'env.staging.mian' (ignored)"));
    cr_assert(has_warning(wr, "'env.staging.dev' is only read at the top level"));
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, queues_are_read_with_cloudflare_defaults_and_bounds)
{
    ew__wrangler_t *wr = load_ok(
        BASE "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"work\"\ndelivery_delay = 30\n"
             "[[queues.consumers]]\nqueue = \"work\"\nmax_batch_size = 5\nmax_batch_timeout = 0\nmax_retries = 0\n"
             "dead_letter_queue = \"dlq\"\nretry_delay = 7\nmax_concurrency = 4\n"
             "[[queues.consumers]]\nqueue = \"dlq\"\n"
             "[[queues.consumers]]\nqueue = \"pulled\"\ntype = \"http_pull\"\nvisibility_timeout_ms = 5000\n"
             "[env.staging]\n",
        NULL);
    cr_assert_eq(wr->nqueue_producers, 1);
    cr_assert_str_eq(wr->queue_producers[0].binding, "Q");
    cr_assert_str_eq(wr->queue_producers[0].queue, "work");
    cr_assert_eq(wr->queue_producers[0].delivery_delay, 30);
    cr_assert_eq(wr->nqueue_consumers, 2, "the pull consumer is skipped");
    const ew_queue_consumer_t *c = &wr->queue_consumers[0];
    cr_assert_str_eq(c->queue, "work");
    cr_assert_eq(c->max_batch_size, 5);
    cr_assert_eq(c->max_batch_timeout_ms, 0);
    cr_assert_eq(c->max_retries, 0);
    cr_assert_str_eq(c->dead_letter_queue, "dlq");
    cr_assert_eq(c->retry_delay, 7);
    cr_assert_eq(c->max_concurrency, 4);
    c = &wr->queue_consumers[1]; /* Cloudflare's defaults */
    cr_assert_eq(c->max_batch_size, 10);
    cr_assert_eq(c->max_batch_timeout_ms, 5000);
    cr_assert_eq(c->max_retries, 3);
    cr_assert_null(c->dead_letter_queue);
    cr_assert_eq(c->max_concurrency, 1);
    cr_assert(has_warning(wr, "http_pull consumers are not supported"));
    ew__wrangler_destroy(wr);

    /* Not inherited by environments, like every binding. */
    wr = load_ok(BASE "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"work\"\n[env.staging]\n", "staging");
    cr_assert_eq(wr->nqueue_producers, 0);
    cr_assert(has_warning(wr, "'queues' exists at the top level but not in [env.staging]"));
    ew__wrangler_destroy(wr);

    expect_error("wrangler.toml", BASE "[[queues.consumers]]\nqueue = \"q\"\nmax_batch_size = 101\n", NULL,
                 "wrangler.toml:6:18: 'queues.consumers[0].max_batch_size' must be from 1 to 100");
    expect_error("wrangler.toml", BASE "[[queues.consumers]]\nqueue = \"q\"\nmax_batch_timeout = 61\n", NULL,
                 "'queues.consumers[0].max_batch_timeout' must be from 0 to 60");
    expect_error("wrangler.toml", BASE "[[queues.consumers]]\nqueue = \"q\"\ndead_letter_queue = \"q\"\n", NULL,
                 "'queues.consumers[0].dead_letter_queue' cannot be the queue itself");
    expect_error("wrangler.toml", BASE "[[queues.consumers]]\nqueue = \"q\"\n[[queues.consumers]]\nqueue = \"q\"\n",
                 NULL, "\"q\" has a consumer already");
    expect_error("wrangler.toml", BASE "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"a b\"\n", NULL,
                 "'queues.producers[0].queue' must be 1 to 200 of the characters");
    expect_error("wrangler.toml", BASE "[vars]\nQ = \"x\"\n[[queues.producers]]\nbinding = \"Q\"\nqueue = \"q\"\n",
                 NULL, "the binding name \"Q\" is already used by 'vars.Q'");
    expect_error("wrangler.toml", BASE "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"q\"\ndelivery_delay = 43201\n",
                 NULL, "'queues.producers[0].delivery_delay' must be from 0 to 43200");
}

Test(config_wrangler, unsupported_keys_are_checked_then_ignored)
{
    ew__wrangler_t *wr = load_ok(
        BASE "routes = [\"example.com/*\", { pattern = \"a.com/*\", zone_name = \"a.com\" }]\n"
             "[[durable_objects.bindings]]\nname = \"COUNTER\"\nclass_name = \"Counter\"\n"
             "[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Counter\"]\n"
             "[[services]]\nbinding = \"AUTH\"\nservice = \"auth\"\n"
             "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"q\"\n"
             "[assets]\ndirectory = \"public\"\nhtml_handling = \"none\"\nnot_found_handling = \"404-page\"\n"
             "[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"main\"\ndatabase_id = \"0a\"\n"
             "[[r2_buckets]]\nbinding = \"B\"\nbucket_name = \"files\"\n"
             "[ai]\nbinding = \"AI\"\n",
        NULL);
    static const char *names[] = {"ai"};
    for (size_t i = 0; i < 3; i++) { /* supported now: checked and read, not warned about */
        static const char *honoured[] = {"routes", "services", "queues"};
        char w[64];
        snprintf(w, sizeof(w), "'%s' is not supported yet, ignored", honoured[i]);
        cr_assert(!has_warning(wr, w), "a warning for %s", honoured[i]);
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char w[64];
        snprintf(w, sizeof(w), "'%s' is not supported yet, ignored", names[i]);
        cr_assert(has_warning(wr, w), "no warning for %s", names[i]);
    }
    cr_assert_not_null(wr->assets);
    cr_assert_str_eq(wr->assets->directory, "/proj/public");
    cr_assert_eq(wr->assets->html_handling, EW_HTML_NONE);
    cr_assert_eq(wr->assets->not_found_handling, EW_NOT_FOUND_404_PAGE);
    cr_assert_null(wr->assets->binding);
    cr_assert_eq(wr->nd1, 1);
    cr_assert_str_eq(wr->d1[0].database_name, "main");
    cr_assert_str_eq(wr->d1[0].migrations_dir, "/proj/migrations");
    cr_assert_eq(wr->nr2, 1);
    cr_assert_str_eq(wr->r2[0].bucket_name, "files");
    ew__wrangler_destroy(wr);

    expect_error("wrangler.toml", BASE "[[services]]\nbinding = \"AUTH\"\n", NULL, "'services[0].service' is required");
    expect_error("wrangler.toml", BASE "[assets]\nhtml_handling = \"auto\"\n", NULL,
                 "wrangler.toml:5:17: 'assets.html_handling' must be one of");
    expect_error("wrangler.toml", BASE "[assets]\nbinding = \"A\"\n", NULL, "'assets.directory' is required");
    expect_error("wrangler.toml", BASE "routes = [3]\n", NULL, "'routes[0]' must be a string or a table");
    expect_error("wrangler.toml", BASE "[[durable_objects.bindings]]\nname = \"X\"\n", NULL,
                 "'durable_objects.bindings[0].class_name' is required");
}

Test(config_wrangler, services_and_routes)
{
    ew__wrangler_t *wr = load_ok(
        BASE "routes = [\"example.com/*\", { pattern = \"api.example.com/v1/*\", zone_name = \"example.com\" },\n"
             "          { pattern = \"shop.example.com\", custom_domain = true }]\n"
             "[[services]]\nbinding = \"AUTH\"\nservice = \"auth-worker\"\n"
             "[[services]]\nbinding = \"ADMIN\"\nservice = \"auth-worker\"\nentrypoint = \"Admin\"\n",
        NULL);
    cr_assert_eq(wr->nservices, 2);
    cr_assert_str_eq(wr->services[0].binding, "AUTH");
    cr_assert_str_eq(wr->services[0].service, "auth-worker");
    cr_assert_null(wr->services[0].entrypoint);
    cr_assert_str_eq(wr->services[1].entrypoint, "Admin");
    cr_assert_eq(wr->services[1].line, 9, "line %u", wr->services[1].line);
    cr_assert_eq(wr->nroutes, 3);
    cr_assert_str_eq(wr->routes[0].pattern, "example.com/*");
    cr_assert(wr->routes[0].parsed.path_prefix);
    cr_assert_str_eq(wr->routes[1].zone_name, "example.com");
    cr_assert_str_eq(wr->routes[1].parsed.path, "/v1/");
    cr_assert(wr->routes[2].custom_domain);
    cr_assert_str_eq(wr->routes[2].parsed.host, "shop.example.com");
    cr_assert(!has_warning(wr, "not supported"));
    ew__wrangler_destroy(wr);

    wr = load_ok(BASE "route = \"example.com/x\"\n[env.staging]\nroute = \"staging.example.com/*\"\n", "staging");
    cr_assert_eq(wr->nroutes, 1);
    cr_assert_str_eq(wr->routes[0].parsed.host, "staging.example.com");
    ew__wrangler_destroy(wr);

    expect_error("wrangler.toml", BASE "routes = [\"example.com/a*b\"]\n", NULL,
                 "wrangler.toml:4:11: 'routes[0]': route \"example.com/a*b\": a wildcard '*' may only start the host");
    expect_error("wrangler.toml", BASE "route = \"example.com/?q=1\"\n", NULL, "must not contain a query string");
    expect_error("wrangler.toml", BASE "route = \"a.com/*\"\nroutes = [\"b.com/*\"]\n", NULL,
                 "'route' and 'routes' are both set");
    expect_error("wrangler.toml", BASE "routes = [{ pattern = \"a.com/x\", custom_domain = true }]\n", NULL,
                 "must be a host name only");
    expect_error("wrangler.toml", BASE "[[services]]\nbinding = \"A\"\nservice = \"a\"\n[vars]\nA = \"x\"\n", NULL,
                 "the binding name \"A\" is already used");
}

Test(config_wrangler, durable_objects_and_migrations)
{
    ew__wrangler_t *wr = load_ok(
        BASE "[[durable_objects.bindings]]\nname = \"COUNTER\"\nclass_name = \"Counter\"\n"
             "[[durable_objects.bindings]]\nname = \"ROOMS\"\nclass_name = \"Room\"\n"
             "[[durable_objects.bindings]]\nname = \"EXT\"\nclass_name = \"X\"\nscript_name = \"other\"\n"
             "[[migrations]]\ntag = \"v1\"\nnew_classes = [\"Counter\"]\n"
             "[[migrations]]\ntag = \"v2\"\nnew_sqlite_classes = [\"Room\"]\n",
        NULL);
    cr_assert_eq(wr->ndurables, 3);
    cr_assert_str_eq(wr->durables[0].binding, "COUNTER");
    cr_assert_str_eq(wr->durables[0].class_name, "Counter");
    cr_assert(!wr->durables[0].sql);
    cr_assert_str_eq(wr->durables[1].class_name, "Room");
    cr_assert(wr->durables[1].sql);
    cr_assert_str_eq(wr->durables[2].script_name, "other");
    cr_assert_null(wr->durables[0].script_name);
    cr_assert_eq(wr->ndo_classes, 2);
    cr_assert_str_eq(wr->do_classes[0].class_name, "Counter");
    cr_assert(!wr->do_classes[0].sql);
    cr_assert_str_eq(wr->do_classes[1].class_name, "Room");
    cr_assert(wr->do_classes[1].sql);
    ew__wrangler_destroy(wr);
    expect_error("wrangler.toml", BASE "[[migrations]]\nnew_classes = [\"A\"]\n", NULL, "'migrations[0].tag' is required");
    expect_error("wrangler.toml", BASE "vars = { C = \"x\" }\n[[durable_objects.bindings]]\nname = \"C\"\nclass_name = \"A\"\n",
                 NULL, "\"C\"");
}

Test(config_wrangler, toml_json_and_jsonc_read_the_same)
{
    static const char toml[] = "name = \"w\"\nmain = \"index.js\"\ncompatibility_date = \"2024-01-01\"\n"
                               "vars = { A = \"x\", N = 2 }\n[[kv_namespaces]]\nbinding = \"K\"\nid = \"k1\"\n"
                               "[triggers]\ncrons = [\"*/5 * * * *\"]\n[env.e]\nvars = { A = \"y\" }\n";
    static const char json[] = "{\"name\": \"w\", \"main\": \"index.js\", \"compatibility_date\": \"2024-01-01\",\n"
                               "\"vars\": {\"A\": \"x\", \"N\": 2}, \"kv_namespaces\": [{\"binding\": \"K\", \"id\": \"k1\"}],\n"
                               "\"triggers\": {\"crons\": [\"*/5 * * * *\"]}, \"env\": {\"e\": {\"vars\": {\"A\": \"y\"}}}}";
    static const char jsonc[] = "// comment\n{\"name\": \"w\", \"main\": \"index.js\", \"compatibility_date\": \"2024-01-01\",\n"
                                "/* block */ \"vars\": {\"A\": \"x\", \"N\": 2,}, \"kv_namespaces\": [{\"binding\": \"K\", "
                                "\"id\": \"k1\"},],\n\"triggers\": {\"crons\": [\"*/5 * * * *\"]}, "
                                "\"env\": {\"e\": {\"vars\": {\"A\": \"y\"}}},}";
    const char *files[] = {"wrangler.toml", "wrangler.json", "wrangler.jsonc"};
    const char *texts[] = {toml, json, jsonc};
    for (int i = 0; i < 3; i++) {
        for (int e = 0; e < 2; e++) {
            ew__wrangler_t *wr;
            ew_error_t err;
            cr_assert_eq(load_text(files[i], texts[i], e ? "e" : NULL, &wr, &err), EW_OK, "%s", err.message);
            cr_assert_str_eq(wr->name, e ? "w-e" : "w");
            cr_assert_str_eq(wr->main, "/proj/index.js");
            cr_assert_str_eq(var(wr, "A")->value, e ? "y" : "x");
            cr_assert_eq(wr->nvars, e ? 1 : 2);
            cr_assert_eq(wr->nkv, e ? 0 : 1);
            cr_assert_eq(wr->ncrons, 1);
            cr_assert_str_eq(wr->crons[0].expression, "*/5 * * * *");
            if (!e) {
                cr_assert_str_eq(var(wr, "N")->value, "2");
                cr_assert_str_eq(wr->kv[0].id, "k1");
            }
            ew__wrangler_destroy(wr);
        }
    }
}

Test(config_wrangler, kv_without_id_uses_the_binding_and_dev_settings_are_read)
{
    ew__wrangler_t *wr = load_ok(BASE "[[kv_namespaces]]\nbinding = \"CACHE\"\npreview_id = \"p\"\n"
                                      "[dev]\nip = \"0.0.0.0\"\nport = 9000\n",
                                 NULL);
    cr_assert_str_eq(wr->kv[0].id, "CACHE");
    cr_assert_str_eq(wr->dev_ip, "0.0.0.0");
    cr_assert_eq(wr->dev_port, 9000);
    cr_assert_eq(wr->dev_https, -1);
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, dev_local_protocol_is_read_and_checked)
{
    ew__wrangler_t *wr = load_ok(BASE "[dev]\nlocal_protocol = \"https\"\n", NULL);
    cr_assert_eq(wr->dev_https, 1);
    cr_assert_not(has_warning(wr, "local_protocol"));
    ew__wrangler_destroy(wr);
    wr = load_ok(BASE "[dev]\nlocal_protocol = \"http\"\n", NULL);
    cr_assert_eq(wr->dev_https, 0);
    ew__wrangler_destroy(wr);
    expect_error("wrangler.toml", "main = \"a.js\"\n[dev]\nlocal_protocol = \"spdy\"\n", NULL,
                 "wrangler.toml:3:18: 'dev.local_protocol' must be \"http\" or \"https\", not \"spdy\"");
}

Test(config_wrangler, set_var_overrides_and_appends)
{
    ew__wrangler_t *wr = load_ok(BASE "vars = { A = 1, B = \"b\" }\n", NULL);
    cr_assert_eq(ew__wrangler_set_var(wr, "A", "over", false, false), EW_OK);
    cr_assert_eq(ew__wrangler_set_var(wr, "C", "secret", false, true), EW_OK);
    cr_assert_eq(wr->nvars, 3);
    cr_assert_str_eq(var(wr, "A")->value, "over");
    cr_assert_not(var(wr, "A")->is_json);
    cr_assert(var(wr, "C")->secret);
    cr_assert_str_eq(wr->vars[1].name, "B");
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, missing_compatibility_date_is_a_warning)
{
    ew__wrangler_t *wr = load_ok("main = \"a.js\"\n", NULL);
    cr_assert(has_warning(wr, "wrangler.toml: no compatibility_date"));
    cr_assert_str_eq(wr->name, "worker");
    ew__wrangler_destroy(wr);
}

/* ---------------------------------------------------------------------------------------------------------
 * Cron scheduling
 */

Test(config_wrangler, next_cron_picks_the_earliest_and_marks_all_due)
{
    ew__wrangler_t *wr = load_ok(BASE "[triggers]\ncrons = [\"*/5 * * * *\", \"0 * * * *\", \"0 0 30 2 *\"]\n", NULL);
    const int64_t noon = 1719835200000; /* 2024-07-01T12:00:00Z */
    int64_t at;
    bool due[3];
    cr_assert(ew__wrangler_next_cron(wr, noon - 1, &at, due));
    cr_assert_eq(at, noon);
    cr_assert(due[0] && due[1] && !due[2]);
    cr_assert(ew__wrangler_next_cron(wr, noon, &at, due)); /* strictly after */
    cr_assert_eq(at, noon + 5 * 60000);
    cr_assert(due[0] && !due[1] && !due[2]);
    ew__wrangler_destroy(wr);

    wr = load_ok(BASE "[triggers]\ncrons = [\"* * * * *\"]\n", NULL);
    cr_assert(ew__wrangler_next_cron(wr, noon + 12345, &at, NULL));
    cr_assert_eq(at, noon + 60000);
    ew__wrangler_destroy(wr);

    wr = load_ok(BASE, NULL);
    cr_assert_not(ew__wrangler_next_cron(wr, noon, &at, NULL));
    ew__wrangler_destroy(wr);
}

/* ---------------------------------------------------------------------------------------------------------
 * .dev.vars (dotenv)
 */

static const struct {
    const char *text;
    const char *key;
    const char *value;
} dotenv_cases[] = {
    {"A=1", "A", "1"},
    {"A = spaced value  ", "A", "spaced value"},
    {"export A=exported", "A", "exported"},
    {"A: colon", "A", "colon"},
    {"A=value # comment", "A", "value"},
    {"A=\"quoted # not a comment\"", "A", "quoted # not a comment"},
    {"A=\"two\\nlines\"", "A", "two\nlines"},
    {"A='single \\n stays'", "A", "single \\n stays"},
    {"A=`back tick`", "A", "back tick"},
    {"A=\"multi\nline\"", "A", "multi\nline"},
    {"A=", "A", ""},
    {"A=\"  padded  \"", "A", "  padded  "},
    {"A.b-c_d=ok", "A.b-c_d", "ok"},
    {"A=1\r\nB=2", "B", "2"},
    {"A=first\nA=second", "A", "second"},
    {"A=\"unclosed", "A", "\"unclosed"},
    {"A=\"a\\\"b\"", "A", "a\\\"b"}, /* dotenv keeps \" as written */
};

Test(config_wrangler, dotenv_reads_what_the_dotenv_package_reads)
{
    for (size_t i = 0; i < sizeof(dotenv_cases) / sizeof(dotenv_cases[0]); i++) {
        ew__cfg_doc_t *pool = ew__cfg_doc_create("");
        ew__dotenv_t env;
        cr_assert_eq(ew__dotenv_parse(pool, dotenv_cases[i].text, strlen(dotenv_cases[i].text), &env), EW_OK);
        const char *got = NULL;
        for (size_t k = 0; k < env.len; k++)
            if (strcmp(env.entries[k].key, dotenv_cases[i].key) == 0)
                got = env.entries[k].value;
        cr_assert_not_null(got, "case %zu: no key %s", i, dotenv_cases[i].key);
        cr_assert_str_eq(got, dotenv_cases[i].value, "case %zu (%s)", i, dotenv_cases[i].text);
        cr_assert_eq(env.nbad, 0, "case %zu", i);
        ew__cfg_doc_destroy(pool);
    }
}

Test(config_wrangler, dotenv_reports_lines_it_skips)
{
    static const char text[] = "# header\n\nGOOD=1\nnot an assignment\n=novalue\nexport\nLAST=\"x\"\n";
    ew__cfg_doc_t *pool = ew__cfg_doc_create("");
    ew__dotenv_t env;
    cr_assert_eq(ew__dotenv_parse(pool, text, strlen(text), &env), EW_OK);
    cr_assert_eq(env.len, 2);
    cr_assert_str_eq(env.entries[0].key, "GOOD");
    cr_assert_eq(env.entries[0].line, 3);
    cr_assert_str_eq(env.entries[1].value, "x");
    cr_assert_eq(env.entries[1].line, 7);
    cr_assert_eq(env.nbad, 3);
    cr_assert_eq(env.bad_lines[0], 4);
    cr_assert_eq(env.bad_lines[1], 5);
    cr_assert_eq(env.bad_lines[2], 6);
    ew__cfg_doc_destroy(pool);
}

/* ---------------------------------------------------------------------------------------------------------
 * Finding a project on disk
 */

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ew_wrangler_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

Test(config_wrangler, folder_prefers_json_then_jsonc_then_toml, .init = make_tmpdir, .fini = remove_tmpdir)
{
    write_file("wrangler.toml", "name = \"from-toml\"\nmain = \"w.js\"\ncompatibility_date = \"2024-01-01\"\n");
    write_file("wrangler.jsonc", "{\"name\": \"from-jsonc\", \"main\": \"w.js\", \"compatibility_date\": \"2024-01-01\"}");
    ew__wrangler_t *wr;
    ew_error_t err;
    cr_assert_eq(ew__wrangler_load(tmpdir, NULL, &wr, &err), EW_OK, "%s", err.message);
    cr_assert_str_eq(wr->name, "from-jsonc");
    cr_assert_str_eq(wr->project_dir, tmpdir);
    ew__wrangler_destroy(wr);
    write_file("wrangler.json", "{\"name\": \"from-json\", \"main\": \"w.js\", \"compatibility_date\": \"2024-01-01\"}");
    cr_assert_eq(ew__wrangler_load(tmpdir, NULL, &wr, &err), EW_OK, "%s", err.message);
    cr_assert_str_eq(wr->name, "from-json");
    ew__wrangler_destroy(wr);

    char path[512];
    snprintf(path, sizeof(path), "%s/wrangler.toml", tmpdir);
    cr_assert_eq(ew__wrangler_load(path, NULL, &wr, &err), EW_OK, "%s", err.message);
    cr_assert_str_eq(wr->name, "from-toml");
    snprintf(path, sizeof(path), "%s/w.js", tmpdir);
    cr_assert_str_eq(wr->main, path);
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, dev_vars_are_secrets_and_env_files_replace_them, .init = make_tmpdir, .fini = remove_tmpdir)
{
    write_file("wrangler.toml", "main = \"w.js\"\ncompatibility_date = \"2024-01-01\"\nvars = { A = \"config\" }\n"
                                "[env.staging]\nvars = { A = \"staging\" }\n[env.prod]\n");
    write_file(".dev.vars", "A=devvars\nTOKEN=t0\nbroken line\n");
    write_file(".dev.vars.staging", "TOKEN=t-staging\n");
    ew__wrangler_t *wr;
    ew_error_t err;
    cr_assert_eq(ew__wrangler_load(tmpdir, NULL, &wr, &err), EW_OK, "%s", err.message);
    cr_assert_str_eq(var(wr, "A")->value, "devvars");
    cr_assert(var(wr, "A")->secret);
    cr_assert_str_eq(var(wr, "TOKEN")->value, "t0");
    cr_assert(has_warning(wr, ".dev.vars:3: not KEY=VALUE; line skipped"));
    ew__wrangler_destroy(wr);

    cr_assert_eq(ew__wrangler_load(tmpdir, "staging", &wr, &err), EW_OK, "%s", err.message);
    cr_assert_str_eq(var(wr, "A")->value, "staging");
    cr_assert_str_eq(var(wr, "TOKEN")->value, "t-staging");
    cr_assert(strstr(wr->dev_vars_path, ".dev.vars.staging") != NULL);
    ew__wrangler_destroy(wr);

    cr_assert_eq(ew__wrangler_load(tmpdir, "prod", &wr, &err), EW_OK, "%s", err.message);
    cr_assert_str_eq(var(wr, "TOKEN")->value, "t0"); /* no .dev.vars.prod: .dev.vars */
    ew__wrangler_destroy(wr);
}

Test(config_wrangler, a_script_or_a_folder_with_only_a_script, .init = make_tmpdir, .fini = remove_tmpdir)
{
    write_file("index.js", "addEventListener('fetch', function () {});");
    ew__wrangler_t *wr;
    ew_error_t err;
    cr_assert_eq(ew__wrangler_load(tmpdir, NULL, &wr, &err), EW_OK, "%s", err.message);
    cr_assert_null(wr->config_path);
    cr_assert_str_eq(wr->name, "worker");
    cr_assert(strstr(wr->main, "/index.js") != NULL);
    ew__wrangler_destroy(wr);

    cr_assert_neq(ew__wrangler_load("/nonexistent/project", NULL, &wr, &err), EW_OK);
    cr_assert(strstr(err.message, "/nonexistent/project") != NULL);
    char path[512];
    snprintf(path, sizeof(path), "%s/empty", tmpdir);
    cr_assert_eq(mkdir(path, 0755), 0);
    cr_assert_eq(ew__wrangler_load(path, NULL, &wr, &err), EW_ERR_IO);
    cr_assert(strstr(err.message, "no wrangler.json, wrangler.jsonc or wrangler.toml") != NULL);
}

Test(config_wrangler, syntax_errors_keep_their_position, .init = make_tmpdir, .fini = remove_tmpdir)
{
    write_file("wrangler.toml", "name = \"x\"\nmain = \n");
    ew__wrangler_t *wr;
    ew_error_t err;
    cr_assert_eq(ew__wrangler_load(tmpdir, NULL, &wr, &err), EW_ERR_SYNTAX);
    cr_assert(strstr(err.message, "wrangler.toml:2:") != NULL, "%s", err.message);
    cr_assert_eq(err.line, 2);
}
