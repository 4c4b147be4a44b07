/*
 * tools.c — ew-server's compile-only commands, sharing the exact compile path of Worker loading
 * (ew__compile_entry: module form bundled from the entry, or a service-worker script):
 *
 *   ew-server check [PATH] [--env NAME]            report compile errors only (exit 1 on an error)
 *   ew-server build [PATH] [--env NAME] --emit-js [-o FILE]  print (or write) the lowered ES5 program
 *
 * PATH is a project folder, a wrangler config file or a script, as for serving.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/bundle.h"
#include "config/wrangler.h"
#include "tools.h"

static void on_warn(void *udata, const char *msg)
{
    (void) udata;
    fprintf(stderr, "ew-server: warning: %s\n", msg);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: ew-server check [PATH] [--env NAME]            compile only, report errors\n"
               "       ew-server build [PATH] [--env NAME] --emit-js [-o FILE]  print the lowered ES5 program\n"
               "  PATH        a project folder, a wrangler configuration file or a Worker script (default: .)\n"
               "  --env NAME  use [env.NAME] of the configuration\n"
               "  --emit-js   (build) print the ES5 program the engine runs, bundled from the entry\n"
               "  -o FILE     (build) write it to FILE instead of stdout\n");
}

/* Writes the program to path (NULL: stdout); 0, or 1 with a message when the file cannot be written. */
static int write_program(const char *path, const char *text, size_t len)
{
    if (path == NULL)
        return fwrite(text, 1, len, stdout) == len ? 0 : 1;
    FILE *f = fopen(path, "wb");
    bool ok = f != NULL && fwrite(text, 1, len, f) == len;
    if (f != NULL && fclose(f) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "ew-server build: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int tools_main(int argc, char **argv)
{
    const char *cmd = argv[1], *path = ".", *env = NULL, *outfile = NULL;
    bool emit_js = false;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--emit-js") == 0 && strcmp(cmd, "build") == 0) {
            emit_js = true;
        } else if (strcmp(argv[i], "--env") == 0 && i + 1 < argc) {
            env = argv[++i];
        } else if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--outfile") == 0) && i + 1 < argc &&
                   strcmp(cmd, "build") == 0) {
            outfile = argv[++i];
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "ew-server %s: unknown option %s\n", cmd, argv[i]);
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (strcmp(cmd, "build") == 0 && !emit_js) {
        /* The program is the one output: bytecode is made per heap at load time and cannot be shared. */
        fprintf(stderr, "ew-server build: --emit-js is required (build outputs the lowered ES5 program)\n");
        usage(stderr);
        return 2;
    }
    ew__project_t p;
    memset(&p, 0, sizeof(p));
    ew_error_t err;
    if (ew__project_open(&p, path, env, on_warn, NULL, &err) != EW_OK) {
        fprintf(stderr, "ew-server: %s\n", err.message);
        ew__project_dispose(&p);
        return 1;
    }
    const char *main_path = p.config->main;
    if (main_path == NULL) {
        fprintf(stderr, "ew-server: %s has no 'main' (an assets-only project): nothing to check\n",
                p.config->config_path ? p.config->config_path : path);
        ew__project_dispose(&p);
        return 1;
    }
    size_t len;
    char *src = read_file(main_path, &len);
    if (src == NULL) {
        fprintf(stderr, "ew-server: cannot read %s\n", main_path);
        ew__project_dispose(&p);
        return 1;
    }
    ew__compile_out_t out;
    ew__diag_t d;
    ew__diag_init(&d);
    int rc = 0;
    if (!ew__compile_entry(main_path, src, len, &out, &d)) {
        fprintf(stderr, "%s\n", d.text ? d.text : d.message);
        rc = 1;
    } else {
        if (emit_js)
            rc = write_program(outfile, out.text, out.len);
        else
            fprintf(stderr, "%s: no errors\n", main_path);
        ew__compile_out_dispose(&out);
    }
    ew__diag_dispose(&d);
    free(src);
    ew__project_dispose(&p);
    return rc;
}
