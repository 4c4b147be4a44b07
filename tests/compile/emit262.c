/*
 * emit262 — drives lib/compile's printer (emit.c) from the command line: print, round-trip check, speed figure.
 *
 *   emit262 [--module] [--strict] [--minify] [--pretty] FILE    print FILE parsed and emitted (and its line map
 *                                                              on stderr with --map)
 *   emit262 --batch       read "script|strict|module PATH" lines on stdin (parse262's protocol) and answer per line:
 *                         "SKIP" (the source does not parse), "PASS" (parse -> emit -> parse gives the same ESTree
 *                         dump, in the three layouts: retained lines, minified, pretty), or "FAIL layout: reason"
 *   emit262 --bench N [--module] FILE...   parse once, emit N times; prints output MB/s (CPU time)
 *
 * tests/compile/roundtrip262.py runs --batch over test262/test/language. The dumps are compared without positions
 * and without literals' raw text (the printer normalises numbers and strings; their values are compared).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile/emit.h"
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
    char *buf = malloc((size_t) n + plen + 1);
    if (!buf || fread(buf + plen, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    memcpy(buf, prefix, plen);
    buf[plen + (size_t) n] = 0;
    *len = plen + (size_t) n;
    fclose(f);
    return buf;
}

/* Dump of src parsed, or NULL (syntax error; message in diag). */
static char *parse_dump(const char *src, size_t len, bool module, ew__arena_t *arena, ew__node_t **prog,
                        ew__diag_t *diag)
{
    ew__parse_opts_t opts = {src, len, "input", module};
    *prog = ew__parse(arena, &opts, diag);
    char *json = NULL;
    if (*prog && !ew__ast_dump(*prog, NULL, false, &json, NULL))
        json = NULL;
    return json;
}

/* One layout of the round trip; returns NULL or a static reason. */
static const char *round_trip(const ew__node_t *prog, const char *want, bool module, const ew__emit_opts_t *o,
                              char *why, size_t why_len)
{
    ew__emit_out_t out;
    ew__diag_t diag;
    ew__diag_init(&diag);
    if (!ew__emit(prog, o, &out, &diag)) {
        snprintf(why, why_len, "emit: %s", diag.message);
        ew__diag_dispose(&diag);
        return why;
    }
    ew__arena_t arena;
    ew__arena_init(&arena);
    ew__node_t *again;
    char *got = parse_dump(out.text, out.len, module, &arena, &again, &diag);
    const char *r = NULL;
    if (!again) {
        snprintf(why, why_len, "reparse %u:%u %s", diag.line, diag.column, diag.message);
        r = why;
    } else if (!got || strcmp(got, want) != 0) {
        r = "AST differs";
    }
    free(got);
    ew__arena_dispose(&arena);
    ew__diag_dispose(&diag);
    ew__emit_out_dispose(&out);
    return r;
}

static void check_one(const char *src, size_t len, bool module)
{
    ew__arena_t arena;
    ew__arena_init(&arena);
    ew__diag_t diag;
    ew__diag_init(&diag);
    ew__node_t *prog;
    char *want = parse_dump(src, len, module, &arena, &prog, &diag);
    if (!want) {
        printf("SKIP\n");
    } else {
        static const char *const names[] = {"retained", "minified", "pretty"};
        char why[300];
        const char *r = NULL;
        int k = 0;
        for (; k < 3 && !r; k++) {
            ew__emit_opts_t o;
            ew__emit_opts_init(&o);
            o.minify = k == 1;
            o.retain_lines = k != 2;
            r = round_trip(prog, want, module, &o, why, sizeof why);
        }
        if (r)
            printf("FAIL %s: %s\n", names[k - 1], r);
        else
            printf("PASS\n");
    }
    free(want);
    ew__diag_dispose(&diag);
    ew__arena_dispose(&arena);
}

static int run_batch(void)
{
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        char *space = strchr(line, ' ');
        if (!space) {
            printf("FAIL bad request\n");
            fflush(stdout);
            continue;
        }
        *space = 0;
        bool module = strcmp(line, "module") == 0, strict = strcmp(line, "strict") == 0;
        size_t len;
        char *src = read_file(space + 1, strict, &len);
        if (!src)
            printf("FAIL cannot read %s\n", space + 1);
        else
            check_one(src, len, module);
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

/* Output MB/s of ew__emit alone (the tree parsed once) and of parse + emit, in process CPU time. */
static int run_bench(int n, bool module, int argc, char **argv, int first)
{
    size_t out_total = 0, in_total = 0;
    double emit_time = 0, both_time = 0;
    for (int i = first; i < argc; i++) {
        size_t len;
        char *src = read_file(argv[i], false, &len);
        if (!src)
            return 2;
        ew__parse_opts_t popts = {src, len, argv[i], module};
        ew__diag_t diag;
        ew__diag_init(&diag);
        ew__arena_t arena;
        ew__arena_init(&arena);
        ew__node_t *prog = ew__parse(&arena, &popts, &diag);
        if (!prog) {
            fputs(diag.text ? diag.text : diag.message, stderr);
            return 1;
        }
        double t0 = cpu_now();
        for (int k = 0; k < n; k++) {
            ew__emit_out_t out;
            if (!ew__emit(prog, NULL, &out, &diag))
                return 1;
            out_total += out.len;
            ew__emit_out_dispose(&out);
        }
        double t1 = cpu_now();
        for (int k = 0; k < n; k++) {
            ew__arena_reset(&arena);
            prog = ew__parse(&arena, &popts, &diag);
            ew__emit_out_t out;
            if (!prog || !ew__emit(prog, NULL, &out, &diag))
                return 1;
            ew__emit_out_dispose(&out);
        }
        both_time += cpu_now() - t1;
        emit_time += t1 - t0;
        in_total += len * (size_t) n;
        ew__arena_dispose(&arena);
        ew__diag_dispose(&diag);
        free(src);
    }
    printf("emitted %.1f MB: emit alone %.1f MB/s of output; parse + emit %.1f MB/s of input (CPU time)\n",
           (double) out_total / 1e6, (double) out_total / 1e6 / emit_time, (double) in_total / 1e6 / both_time);
    return 0;
}

static int print_one(const char *path, bool module, bool strict, const ew__emit_opts_t *o, bool map)
{
    size_t len;
    char *src = read_file(path, strict, &len);
    if (!src) {
        fprintf(stderr, "cannot read %s\n", path);
        return 2;
    }
    ew__arena_t arena;
    ew__arena_init(&arena);
    ew__diag_t diag;
    ew__diag_init(&diag);
    ew__parse_opts_t popts = {src, len, path, module};
    ew__node_t *prog = ew__parse(&arena, &popts, &diag);
    ew__emit_out_t out;
    int rc = 1;
    if (!prog) {
        fputs(diag.text ? diag.text : diag.message, stderr);
    } else if (!ew__emit(prog, o, &out, &diag)) {
        fprintf(stderr, "emit: %s\n", diag.message);
    } else {
        fwrite(out.text, 1, out.len, stdout);
        putchar('\n');
        for (uint32_t r = 0; map && r < out.map.count; r++)
            fprintf(stderr, "run: generated %u -> original %u (file %u)\n", out.map.runs[r].gen_line,
                    out.map.runs[r].orig_line, out.map.runs[r].file);
        ew__emit_out_dispose(&out);
        rc = 0;
    }
    ew__diag_dispose(&diag);
    ew__arena_dispose(&arena);
    free(src);
    return rc;
}

int main(int argc, char **argv)
{
    bool module = false, strict = false, map = false;
    int bench = 0, i = 1;
    ew__emit_opts_t o;
    ew__emit_opts_init(&o);
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (strcmp(argv[i], "--batch") == 0)
            return run_batch();
        else if (strcmp(argv[i], "--module") == 0)
            module = true;
        else if (strcmp(argv[i], "--strict") == 0)
            strict = true;
        else if (strcmp(argv[i], "--minify") == 0)
            o.minify = true;
        else if (strcmp(argv[i], "--pretty") == 0)
            o.retain_lines = false;
        else if (strcmp(argv[i], "--map") == 0)
            map = true;
        else if (strcmp(argv[i], "--bench") == 0 && i + 1 < argc)
            bench = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: emit262 [--module] [--strict] [--minify] [--pretty] [--map] FILE | --batch | "
                            "--bench N [--module] FILE...\n");
            return 2;
        }
    }
    if (bench > 0)
        return run_bench(bench, module, argc, argv, i);
    if (i + 1 != argc) {
        fprintf(stderr, "one FILE expected\n");
        return 2;
    }
    return print_one(argv[i], module, strict, &o, map);
}
