/*
 * jstest — runs one tests/js/NAME.test.js file: loads it as a module Worker through the public API, sends it
 * one request, prints the lines the harness (tests/js/harness.js) answers, and exits 1 when a case failed,
 * the response was not 200, or the Worker logged an uncaught error.
 *
 *   jstest FILE [CASE]     (CASE: run only the case of that name)
 *
 * The runtime gets a fresh state directory under $TMPDIR so binding tests start empty, and a CPU limit of
 * 10 s per request (JSTEST_CPU_MS overrides it): a test file is one request, and runs under ASan too. The
 * Worker has the storage bindings env.KV (KV namespace "jstest-kv") and env.DB (D1 database "jstest-d1"),
 * and those its file asks for with comment lines at its top: `// @binding kv|r2 NAME ID` (env.NAME,
 * storage id ID).
 * When NAME.wrangler.json sits beside the file, the Worker is loaded from that configuration instead (its
 * main is the test file) the way ew-server loads a project, so tests get its bindings (Durable Objects).
 * EW_DURABLE_IDLE_MS sets the runtime's Durable Object idle timeout.
 */
#include <edgeworker.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int logged_errors;

#define MAX_BINDINGS 8

/* Reads the `// @binding KIND NAME ID` lines of the test file into res (names and ids into store). */
static size_t read_bindings(const char *path, ew_resource_t *res, char store[][2][128])
{
    FILE *f = fopen(path, "r");
    size_t n = 0;
    char line[512], kind[16];
    while (f != NULL && n < MAX_BINDINGS && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "// @binding %15s %127s %127s", kind, store[n][0], store[n][1]) != 3)
            continue;
        res[n].kind = strcmp(kind, "r2") == 0 ? EW_RESOURCE_R2 : EW_RESOURCE_KV;
        res[n].binding = store[n][0];
        res[n].id = store[n][1];
        n++;
    }
    if (f != NULL)
        fclose(f);
    return n;
}

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    if (level >= EW_LOG_ERROR)
        logged_errors++;
    fprintf(stderr, "[%s] %.*s\n", worker, (int) len, msg);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: jstest FILE [CASE]\n");
        return 2;
    }
    char state_dir[] = "/tmp/jstest-XXXXXX";
    const char *tmp = getenv("TMPDIR");
    char state_buf[4096];
    if (tmp != NULL && tmp[0] != '\0') {
        snprintf(state_buf, sizeof(state_buf), "%s/jstest-XXXXXX", tmp);
    } else {
        snprintf(state_buf, sizeof(state_buf), "%s", state_dir);
    }
    if (mkdtemp(state_buf) == NULL) {
        perror("mkdtemp");
        return 2;
    }

    ew_resource_t res[MAX_BINDINGS + 2] = {
        {.kind = EW_RESOURCE_KV, .binding = "KV", .id = "jstest-kv"},
        {.kind = EW_RESOURCE_D1, .binding = "DB", .id = "jstest-d1"},
    };
    char names[MAX_BINDINGS][2][128];
    size_t nres = 2 + read_bindings(argv[1], res + 2, names);

    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.log = on_log;
    cfg.state_dir = state_buf;
    cfg.cpu_ms = 10000;
    const char *cpu = getenv("JSTEST_CPU_MS");
    if (cpu != NULL && atoi(cpu) > 0)
        cfg.cpu_ms = (uint32_t) atoi(cpu);
    const char *idle = getenv("EW_DURABLE_IDLE_MS");
    if (idle != NULL)
        cfg.durable_idle_ms = (uint32_t) strtoul(idle, NULL, 10);
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK) {
        fprintf(stderr, "runtime: %s\n", err.message);
        return 2;
    }
    ew_worker_t *worker;
    ew_worker_config_t wcfg = {.name = "jstest", .path = argv[1], .resources = res, .nresources = nres};
    char project[4096];
    size_t n = strlen(argv[1]);
    snprintf(project, sizeof(project), "%.*s.wrangler.json", (int) (n > 8 ? n - 8 : n), argv[1]);
    FILE *pf = n > 8 && strcmp(argv[1] + n - 8, ".test.js") == 0 ? fopen(project, "r") : NULL;
    if (pf != NULL)
        fclose(pf);
    ew_status_t lst = pf != NULL ? ew_worker_load_project(rt, project, NULL, &worker, &err)
                                 : ew_worker_load(rt, &wcfg, &worker, &err);
    if (lst != EW_OK) {
        fprintf(stderr, "%s: load: %s (%s)\n", argv[1], err.message, ew_status_name(err.code));
        ew_runtime_destroy(rt);
        return 1;
    }

    char url[1024] = "http://jstest.local/";
    if (argc == 3)
        snprintf(url, sizeof(url), "http://jstest.local/?only=%s", argv[2]);
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp = NULL;
    ew_status_t st = ew_worker_fetch_sync(worker, &req, &resp, &err);
    int failed = 0;
    if (resp == NULL) {
        fprintf(stderr, "%s: fetch: %s\n", argv[1], err.message);
        failed = 1;
    } else {
        fwrite(resp->body, 1, resp->body_len, stdout);
        if (st != EW_OK || resp->status != 200) {
            fprintf(stderr, "%s: response %d (%s)\n", argv[1], resp->status, ew_status_name(st));
            failed = 1;
        }
        const char *p = (const char *) resp->body;
        const char *end = p + resp->body_len;
        int cases = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t) (end - p));
            if (nl == NULL)
                nl = end;
            if ((size_t) (nl - p) >= 6 && memcmp(p, "not ok", 6) == 0)
                failed = 1;
            cases++;
            p = nl + 1;
        }
        if (cases == 0) {
            fprintf(stderr, "%s: no test case ran\n", argv[1]);
            failed = 1;
        }
        ew_response_destroy(resp);
    }
    ew_worker_destroy(worker);
    ew_runtime_destroy(rt);
    if (logged_errors > 0)
        failed = 1;

    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_buf);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", state_buf);
    return failed;
}
