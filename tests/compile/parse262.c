/*
 * parse262 — drives lib/compile's parser from the command line, for test262 and for speed figures.
 *
 *   parse262 [--module] [--strict] [--dump] [--pos] FILE...   parse each file; "ok FILE" or the diagnostic
 *   parse262 --batch                                          read "script|strict|module PATH" lines on stdin,
 *                                                             answer "PASS" or "FAIL line:col message" per line
 *   parse262 --bench N [--module] FILE...                     parse the files N times, print MB/s
 *
 * --strict prepends "use strict"; like test262's onlyStrict runs. tests/test262/parse_only.py uses --batch so the
 * 24k files of test/language cost one process. Exit status: 0 if every file parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/internal.h"

static char *read_file(const char *path, bool strict, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    const char *prefix = strict ? "\"use strict\";\n" : "";
    size_t plen = strlen(prefix);
    /* Exactly the source bytes, no NUL after them: the parser must never read past len (valgrind checks). */
    char *buf = malloc((size_t) n + plen + 1);
    if (!buf || fread(buf + plen, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    memcpy(buf, prefix, plen);
    char *exact = malloc((size_t) n + plen ? (size_t) n + plen : 1);
    if (exact)
        memcpy(exact, buf, (size_t) n + plen);
    free(buf);
    buf = exact;
    *len = plen + (size_t) n;
    fclose(f);
    return buf;
}

/* Parses one source; prints per mode. Returns true if it parsed. */
static bool parse_one(const char *path, const char *src, size_t len, bool module, bool dump, bool pos, bool batch)
{
    ew__arena_t arena;
    ew__arena_init(&arena);
    ew__diag_t diag;
    ew__diag_init(&diag);
    ew__parse_opts_t opts = {src, len, path, module};
    ew__node_t *prog = ew__parse(&arena, &opts, &diag);
    if (batch) {
        if (prog)
            printf("PASS\n");
        else
            printf("FAIL %u:%u %s\n", diag.line, diag.column, diag.message);
    } else if (!prog) {
        fputs(diag.text ? diag.text : diag.message, stdout);
    } else if (dump) {
        char *json;
        if (ew__ast_dump(prog, src, pos, &json, NULL)) {
            puts(json);
            free(json);
        }
    } else {
        printf("ok %s\n", path);
    }
    ew__diag_dispose(&diag);
    ew__arena_dispose(&arena);
    return prog != NULL;
}

static int run_batch(void)
{
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        char *sp = strchr(line, ' ');
        if (!sp) {
            printf("FAIL 0:0 bad request\n");
            fflush(stdout);
            continue;
        }
        *sp = 0;
        const char *mode = line, *path = sp + 1;
        bool module = strcmp(mode, "module") == 0, strict = strcmp(mode, "strict") == 0;
        size_t len;
        char *src = read_file(path, strict, &len);
        if (!src)
            printf("FAIL 0:0 cannot read %s\n", path);
        else
            parse_one(path, src, len, module, false, false, true);
        free(src);
        fflush(stdout);
    }
    return 0;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

/* Parses every file n times, cold (a fresh arena each time: page faults included) and warm (one arena reset
 * between parses, as a long-running compiler would keep it). Times are process CPU time, so other load on the
 * machine does not count. */
static int run_bench(int n, bool module, int argc, char **argv, int first)
{
    size_t total = 0;
    double cold = 0, warm = 0;
    for (int i = first; i < argc; i++) {
        size_t len;
        char *src = read_file(argv[i], false, &len);
        if (!src) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 2;
        }
        ew__parse_opts_t opts = {src, len, argv[i], module};
        ew__diag_t diag;
        ew__diag_init(&diag);
        double t0 = cpu_now();
        for (int k = 0; k < n; k++) {
            ew__arena_t arena;
            ew__arena_init(&arena);
            if (!ew__parse(&arena, &opts, &diag)) {
                fputs(diag.text ? diag.text : diag.message, stderr);
                return 1;
            }
            ew__arena_dispose(&arena);
        }
        double t1 = cpu_now();
        ew__arena_t arena;
        ew__arena_init(&arena);
        for (int k = 0; k < n; k++) {
            ew__arena_reset(&arena);
            ew__parse(&arena, &opts, &diag);
        }
        double t2 = cpu_now();
        ew__arena_dispose(&arena);
        ew__diag_dispose(&diag);
        cold += t1 - t0;
        warm += t2 - t1;
        total += len * (size_t) n;
        free(src);
    }
    printf("parsed %.1f MB: cold %.1f MB/s, warm arena %.1f MB/s (CPU time)\n", (double) total / 1e6,
           (double) total / 1e6 / cold, (double) total / 1e6 / warm);
    return 0;
}

int main(int argc, char **argv)
{
    bool module = false, strict = false, dump = false, pos = false;
    int bench = 0, i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--batch") == 0)
            return run_batch();
        else if (strcmp(argv[i], "--module") == 0)
            module = true;
        else if (strcmp(argv[i], "--strict") == 0)
            strict = true;
        else if (strcmp(argv[i], "--dump") == 0)
            dump = true;
        else if (strcmp(argv[i], "--pos") == 0)
            pos = true;
        else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc)
            bench = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: parse262 [--module] [--strict] [--dump] [--pos] [--bench N] FILE... | --batch\n");
            return 2;
        }
    }
    if (bench > 0)
        return run_bench(bench, module, argc, argv, i);
    bool all = true;
    for (; i < argc; i++) {
        size_t len;
        char *src = read_file(argv[i], strict, &len);
        if (!src) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 2;
        }
        all &= parse_one(argv[i], src, len, module, dump, pos, false);
        free(src);
    }
    return all ? 0 : 1;
}
