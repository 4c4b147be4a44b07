/*
 * host262.c — runs one test262 test for tests/test262/run.py through the public API, the way a Worker runs:
 * the runner sends the whole program (harness files, then the test) on stdin; this loads it as a Worker
 * script (so it goes through the same compile path as every Worker), runs the event loop until nothing is
 * left (async tests print through `print`, which the runner's prelude maps to console.log), and prints:
 *
 *   PRINT <text>                  for each print()/console.log line
 *   RESULT ok | syntax <message> | error <message> | limit <status>
 *
 * Usage: host262 [--cpu-ms N] [--filename PATH] [--module | --script] < program.js
 * (--module: the program is an ES module even without import/export, as test262's `flags: [module]` asks;
 * --script: a script; neither: decided from the text like any Worker entry).
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeworker.h"

static void on_log(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len)
{
    (void) udata;
    (void) worker;
    /* Unhandled rejections and other runtime reports are errors, not prints. */
    printf("%s %.*s\n", level == EW_LOG_INFO ? "PRINT" : "LOG", (int) len, msg);
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
    }
    *len = n;
    return buf;
}

/* Prints the message on one line (newlines as spaces), as the runner expects. */
static void print_result(const char *kind, const char *msg)
{
    printf("RESULT %s ", kind);
    for (const char *p = msg; *p; p++)
        putchar(*p == '\n' || *p == '\r' ? ' ' : *p);
    putchar('\n');
}

int main(int argc, char **argv)
{
    unsigned cpu_ms = 10000;
    const char *filename = "test.js"; /* the test's path: module tests import fixtures next to it */
    ew_source_type_t type = EW_SOURCE_AUTO;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--module") == 0)
            type = EW_SOURCE_MODULE;
        else if (strcmp(argv[i], "--script") == 0)
            type = EW_SOURCE_SCRIPT;
        else if (i + 1 == argc)
            break;
        else if (strcmp(argv[i], "--cpu-ms") == 0)
            cpu_ms = (unsigned) atoi(argv[++i]);
        else if (strcmp(argv[i], "--filename") == 0)
            filename = argv[++i];
    }
    size_t len;
    char *src = read_all(stdin, &len);
    if (src == NULL) {
        print_result("error", "host262: cannot read stdin");
        return 1;
    }
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = cpu_ms;
    cfg.memory_mb = 512;
    cfg.log = on_log;
    ew_runtime_t *rt;
    ew_error_t err;
    if (ew_runtime_create(&cfg, &rt, &err) != EW_OK) {
        print_result("error", err.message);
        return 1;
    }
    ew_worker_t *w = NULL;
    ew_worker_config_t wcfg = {.name = "test262", .source = src, .source_len = len, .filename = filename,
                                .source_type = type};
    ew_status_t st = ew_worker_load(rt, &wcfg, &w, &err);
    if (st == EW_OK) {
        /* Async tests settle through timers and microtasks: run the loop until it has nothing left. */
        while (event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE) == 0)
            ; /* returns 1 once no event is left; the runner's wall-clock timeout bounds the rest */
        print_result("ok", "");
    } else if (st == EW_ERR_SYNTAX) {
        print_result("syntax", err.message);
    } else if (st == EW_ERR_CPU_LIMIT || st == EW_ERR_MEMORY_LIMIT) {
        print_result("limit", ew_status_name(st));
    } else {
        print_result("error", err.message);
    }
    ew_runtime_destroy(rt);
    free(src);
    fflush(stdout);
    return 0;
}
