/*
 * compile262 — runs test262 tests through the whole compiler (ew__compile: parse, lower, emit) and Duktape, for
 * a first pass rate of the lowering passes. Each path read from stdin (one per line) gets one answer line:
 *   PASS path | FAIL path: reason | UNSUPPORTED path: message (a feature not lowered yet) | SKIP path (module
 *   tests without --module, $262 host features). `flags: [async]` tests pass when $DONE() is called without an
 *   error by the time the microtasks are drained (no timers run).
 * The test runs in a forked child with a 5 s alarm, on a heap prepared like an isolate's (built-ins, Promise,
 * collections, helpers.js). Harness files (assert.js, sta.js, includes) are compiled with the test.
 *
 *   find test262/test/language/expressions -name '*.js' | compile262 TEST262_DIR | sort | uniq -c ...
 *   compile262 --module TEST262_DIR < paths   also runs `flags: [module]` tests through ew__compile_bundle (the
 *     harness as a script first, its top-level names made global; fixtures imported from disk)
 *   compile262 --bench N FILE...    compile speed of Worker entries (bundle + parse + lower + emit), input MB/s
 *     of CPU time (bench/compile_speed/gen.py writes a feature-dense module)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compile/bundle.h"
#include "compile/compile.h"
#include "core/dispatch.h"
#include "core/internal.h"
#include "js_bytecode.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t) n + 1);
    if (b && fread(b, 1, (size_t) n, f) != (size_t) n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        *len = (size_t) n;
    }
    return b;
}

static void append(char **buf, size_t *len, const char *s, size_t n)
{
    *buf = realloc(*buf, *len + n + 2);
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[(*len)++] = '\n';
    (*buf)[*len] = 0;
}

static bool add_include(const char *dir, const char *name, char **buf, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/harness/%s", dir, name);
    size_t n;
    char *s = slurp(path, &n);
    if (!s)
        return false;
    append(buf, len, s, n);
    free(s);
    return true;
}

/* `flags: [async]` tests report through $DONE(error?) after the microtasks ran (doneprintHandle.js's role). */
static char g_done[300];
static duk_ret_t done_fn(duk_context *c)
{
    if (duk_is_undefined(c, 0)) {
        snprintf(g_done, sizeof g_done, "ok");
        return 0;
    }
    duk_get_prop_string(c, 0, "message");
    snprintf(g_done, sizeof g_done, "$DONE(%s: %s)", duk_safe_to_string(c, 0), duk_safe_to_string(c, -1));
    return 0;
}

static duk_ret_t init_body(duk_context *c, void *udata)
{
    (void) udata;
    ew__microtask_init(c);
    ew__builtins_init(c);
    ew__promise_init(c);
    ew__collections_init(c);
    ew__coro_init(c);
    duk_push_c_function(c, done_fn, 1);
    duk_put_global_string(c, "$DONE");
    ew__helpers_push_new(c); /* as an isolate builds it: lazy class/module groups, coroutine helpers */
    return 1;
}

static bool g_module; /* --module */
static bool g_async;  /* the test has flags: [async] */

/* Runs compiled text (after `pre`, the harness, when given); returns NULL or the thrown error's name. */
static const char *run2(const ew__compile_out_t *pre, const ew__compile_out_t *out, char *why, size_t cap);

static const char *run(const ew__compile_out_t *out, char *why, size_t cap)
{
    return run2(NULL, out, why, cap);
}

static const char *run2(const ew__compile_out_t *pre, const ew__compile_out_t *out, char *why, size_t cap)
{
    duk_context *ctx = duk_create_heap_default();
    if (duk_safe_call(ctx, init_body, NULL, 0, 1) != 0) {
        snprintf(why, cap, "init: %s", duk_safe_to_string(ctx, -1));
        return why;
    }
    if (pre) {
        duk_push_lstring(ctx, pre->text, pre->len);
        duk_push_string(ctx, "harness.js");
        if (duk_pcompile(ctx, DUK_COMPILE_FUNCTION) != 0)
            return snprintf(why, cap, "harness %s", duk_safe_to_string(ctx, -1)), why;
        duk_push_global_object(ctx);
        duk_dup(ctx, -3);
        if (duk_pcall_method(ctx, 1) != 0)
            return snprintf(why, cap, "harness %s", duk_safe_to_string(ctx, -1)), why;
        duk_pop(ctx);
    }
    duk_push_lstring(ctx, out->text, out->len);
    duk_push_string(ctx, "test.js");
    if (duk_pcompile(ctx, DUK_COMPILE_FUNCTION) != 0) {
        snprintf(why, cap, "duktape-compile %s", duk_safe_to_string(ctx, -1));
        return why;
    }
    duk_push_global_object(ctx);
    duk_dup(ctx, -3);
    if (duk_pcall_method(ctx, 1) != 0) {
        duk_get_prop_string(ctx, -1, "name");
        duk_get_prop_string(ctx, -2, "message");
        snprintf(why, cap, "%s %s", duk_safe_to_string(ctx, -2), duk_safe_to_string(ctx, -1));
        return why;
    }
    ew__microtask_drain(ctx);
    if (g_async && strcmp(g_done, "ok"))
        return snprintf(why, cap, "%s", g_done[0] ? g_done : "$DONE not called"), why;
    return NULL;
}

static void field(const char *meta, const char *key, char *out, size_t cap)
{
    out[0] = 0;
    const char *p = strstr(meta, key);
    if (!p)
        return;
    p += strlen(key);
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t) (e - p) : strlen(p);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
}

/* The harness's top-level function and var names, made global (the compiled script keeps them local). */
static void export_harness_names(char **buf, size_t *len)
{
    char *names = NULL;
    size_t nl = 0;
    for (const char *p = *buf; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        const char *q = !strncmp(p, "function ", 9) ? p + 9 : !strncmp(p, "var ", 4) ? p + 4 : NULL;
        size_t n = q ? strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$") : 0;
        if (!n)
            continue;
        char line[300];
        int k = snprintf(line, sizeof line, "this.%.*s = %.*s;", (int) n, q, (int) n, q);
        append(&names, &nl, line, (size_t) k);
    }
    if (names)
        append(buf, len, names, nl);
    free(names);
}

static int one_module(const char *dir, const char *path, const char *flags, char *includes, const char *phase,
                      const char *type, char *msg, size_t cap)
{
    char *buf = NULL;
    size_t len = 0;
    if (!strstr(flags, "raw")) {
        add_include(dir, "assert.js", &buf, &len);
        add_include(dir, "sta.js", &buf, &len);
        for (char *t = strtok(includes, "[], "); t; t = strtok(NULL, "[], "))
            add_include(dir, t, &buf, &len);
    }
    append(&buf, &len, "", 0);
    export_harness_names(&buf, &len);
    ew__compile_opts_t hin = {buf, len, "harness.js", false};
    ew__compile_out_t harness, out;
    ew__diag_t d;
    ew__diag_init(&d);
    bool ok = ew__compile(&hin, &harness, &d);
    free(buf);
    if (!ok)
        return snprintf(msg, cap, "harness: %s", d.message), ew__diag_dispose(&d), 1;
    ew__bundle_opts_t in = {path, NULL, NULL, true, false, false, NULL, NULL};
    ok = ew__compile_bundle(&in, &out, &d);
    bool negative = strstr(phase, "parse") || strstr(phase, "early") || strstr(phase, "resolution");
    if (!ok) {
        int r = strstr(d.message, "not supported yet") ? 2 : negative ? 0 : 1;
        snprintf(msg, cap, "%s", d.message);
        ew__diag_dispose(&d);
        ew__compile_out_dispose(&harness);
        return r;
    }
    ew__diag_dispose(&d);
    char why[512];
    const char *err = negative ? "expected a SyntaxError" : run2(&harness, &out, why, sizeof why);
    ew__compile_out_dispose(&harness);
    ew__compile_out_dispose(&out);
    if (!negative && type[0] && strstr(phase, "runtime")) {
        if (err && !strncmp(err, type, strlen(type)))
            return 0;
        return snprintf(msg, cap, "expected %s, got %s", type, err ? err : "no error"), 1;
    }
    return err ? (snprintf(msg, cap, "%s", err), 1) : 0;
}

static int one(const char *dir, const char *path, char *msg, size_t cap)
{
    size_t n;
    char *src = slurp(path, &n);
    if (!src)
        return snprintf(msg, cap, "unreadable"), 1;
    char *m0 = strstr(src, "/*---"), *m1 = m0 ? strstr(m0, "---*/") : NULL;
    char meta[8192] = "";
    if (m0 && m1 && (size_t) (m1 - m0) < sizeof meta) {
        memcpy(meta, m0, (size_t) (m1 - m0));
        meta[m1 - m0] = 0;
    }
    char flags[512], includes[1024], phase[64], type[64];
    field(meta, "flags:", flags, sizeof flags);
    field(meta, "includes:", includes, sizeof includes);
    field(meta, "  phase:", phase, sizeof phase);
    field(meta, "  type:", type, sizeof type);
    memmove(type, type + strspn(type, " "), strlen(type + strspn(type, " ")) + 1);
    if (g_module && strstr(flags, "module") && !strstr(flags, "async") && !strstr(src, "$262"))
        return free(src), one_module(dir, path, flags, includes, phase, type, msg, cap);
    g_async = strstr(flags, "async") != NULL;
    if (strstr(flags, "module") || strstr(src, "$262") || strstr(phase, "resolution"))
        return free(src), 3;
    char *buf = NULL;
    size_t len = 0;
    bool raw = strstr(flags, "raw") != NULL;
    if (strstr(flags, "onlyStrict"))
        append(&buf, &len, "\"use strict\";", 13);
    if (!raw) {
        add_include(dir, "assert.js", &buf, &len);
        add_include(dir, "sta.js", &buf, &len);
        for (char *t = strtok(includes, "[], "); t; t = strtok(NULL, "[], "))
            add_include(dir, t, &buf, &len);
    }
    append(&buf, &len, src, n);
    free(src);
    ew__compile_opts_t in = {buf, len, path, false};
    ew__compile_out_t out;
    ew__diag_t d;
    ew__diag_init(&d);
    bool ok = ew__compile(&in, &out, &d);
    free(buf);
    bool negative_parse = strstr(phase, "parse") || strstr(phase, "early");
    if (!ok) {
        int r = strstr(d.message, "not supported yet") ? 2 : negative_parse ? 0 : 1;
        snprintf(msg, cap, "%s", d.message);
        ew__diag_dispose(&d);
        return r;
    }
    ew__diag_dispose(&d);
    if (negative_parse)
        return ew__compile_out_dispose(&out), snprintf(msg, cap, "expected a SyntaxError"), 1;
    char why[512];
    const char *err = run(&out, why, sizeof why);
    ew__compile_out_dispose(&out);
    if (type[0] && strstr(phase, "runtime")) {
        if (err && !strncmp(err, type, strlen(type)))
            return 0;
        return snprintf(msg, cap, "expected %s, got %s", type, err ? err : "no error"), 1;
    }
    if (err)
        return snprintf(msg, cap, "%s", err), 1;
    return 0;
}

/* Bytes of every source file a compilation read (the entry and each bundled module: out->files). */
static double bundled_bytes(const ew__compile_out_t *out, size_t entry_len)
{
    if (!out->nfiles)
        return (double) entry_len;
    double sum = 0;
    for (uint32_t i = 0; i < out->nfiles; i++) {
        struct stat st;
        if (out->files[i] && stat(out->files[i], &st) == 0)
            sum += (double) st.st_size;
    }
    return sum;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* --bench N FILE...: compiles each file N times as a Worker entry (bundling, parse, lower, emit); prints the
 * source bytes read per compilation (entry + bundled modules) and the median MB/s of CPU time over the N runs. */
static int bench(int n, char **files, int nfiles)
{
    if (n < 1)
        n = 1;
    double *rate = calloc((size_t) n, sizeof *rate), bytes = 0;
    double *secs = calloc((size_t) n, sizeof *secs);
    if (!rate || !secs)
        return fprintf(stderr, "out of memory\n"), 1;
    uint32_t modules = 0;
    for (int i = 0; i < nfiles; i++) {
        size_t len;
        char *src = slurp(files[i], &len);
        if (!src)
            return fprintf(stderr, "%s: unreadable\n", files[i]), 1;
        for (int k = 0; k < n; k++) {
            ew__compile_out_t out;
            ew__diag_t d;
            ew__diag_init(&d);
            clock_t t0 = clock();
            /* the path a Worker's entry takes: a module is bundled (imports read from disk), a script compiled */
            if (!ew__compile_entry(files[i], src, len, &out, &d)) {
                fprintf(stderr, "%s\n", d.text ? d.text : d.message);
                ew__diag_dispose(&d);
                free(src);
                return 1;
            }
            secs[k] += (double) (clock() - t0) / CLOCKS_PER_SEC;
            if (k == 0) {
                bytes += bundled_bytes(&out, len);
                modules += out.nfiles ? out.nfiles : 1;
            }
            ew__diag_dispose(&d);
            ew__compile_out_dispose(&out);
        }
        free(src);
    }
    for (int k = 0; k < n; k++)
        rate[k] = secs[k] > 0 ? bytes / secs[k] / 1e6 : 0;
    qsort(rate, (size_t) n, sizeof *rate, cmp_double);
    printf("%.2f MB/s median of %d (min %.2f, max %.2f): %.0f source bytes in %u files per run\n", rate[n / 2], n,
           rate[0], rate[n - 1], bytes, modules);
    free(rate);
    free(secs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 3 && !strcmp(argv[1], "--bench"))
        return bench(atoi(argv[2]), argv + 3, argc - 3);
    if (argc > 1 && !strcmp(argv[1], "--module")) {
        g_module = true;
        argv++;
        argc--;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: compile262 [--module] TEST262_DIR < paths\n");
        return 2;
    }
    char path[4096];
    while (fgets(path, sizeof path, stdin)) {
        path[strcspn(path, "\n")] = 0;
        int fd[2];
        if (pipe(fd))
            return 1;
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            alarm(5);
            char msg[600] = "";
            int r = one(argv[1], path, msg, sizeof msg);
            for (char *c = msg; *c; c++)
                if (*c == '\n')
                    *c = ' ';
            dprintf(fd[1], "%s", msg);
            _exit(r);
        }
        close(fd[1]);
        char msg[700] = "";
        ssize_t k = read(fd[0], msg, sizeof msg - 1);
        msg[k > 0 ? k : 0] = 0;
        close(fd[0]);
        int st;
        waitpid(pid, &st, 0);
        int r = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        const char *tag[] = {"PASS", "FAIL", "UNSUPPORTED", "SKIP"};
        if (r < 0)
            printf("FAIL %s: crashed or timed out (signal %d)\n", path, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
        else
            printf("%s %s%s%s\n", tag[r], path, msg[0] ? ": " : "", msg);
        fflush(stdout);
    }
    return 0;
}
