/*
 * entry.c — compiling a Worker's entry file the way wrangler decides its form: an entry with ES module syntax
 * (import or export declarations) is a module and is bundled with what it imports (bundle.c); anything else
 * is a service-worker script (compile.c). Used by lib/core/worker.c for every Worker and by ew-server's
 * `check` and `build` commands, so both see exactly the same program.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"

/* Parses as a module (goal Module) or a script; returns whether it parsed, and for a module whether it has
 * an import/export declaration. With keep (and module syntax found), the tree and its arena are handed to
 * *keep / *keep_prog instead of being freed: the bundler takes them over, so the entry is parsed once. */
static bool parses(const char *src, size_t len, const char *filename, bool module, bool *has_module_syntax,
                   ew__arena_t *keep, ew__node_t **keep_prog)
{
    ew__arena_t arena;
    ew__arena_init(&arena);
    ew__diag_t d;
    ew__diag_init(&d);
    ew__parse_opts_t opts = {src, len, filename, module};
    ew__node_t *prog = ew__parse(&arena, &opts, &d);
    bool found = false;
    for (uint32_t i = 0; prog != NULL && i < prog->as.program.body.len && !found; i++) {
        uint8_t t = prog->as.program.body.items[i]->type;
        found = t == EW__N_ImportDeclaration || t == EW__N_ExportNamedDeclaration ||
                t == EW__N_ExportDefaultDeclaration || t == EW__N_ExportAllDeclaration;
    }
    if (has_module_syntax != NULL)
        *has_module_syntax = found;
    ew__diag_dispose(&d);
    if (found && keep != NULL) {
        *keep = arena;
        *keep_prog = prog;
    } else {
        ew__arena_dispose(&arena);
    }
    return prog != NULL;
}

/* A line starting with `import` or `export` (after blanks): the author meant a module. */
static bool looks_like_module(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        while (i < len && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if ((len - i >= 7 && memcmp(s + i, "import ", 7) == 0) || (len - i >= 7 && memcmp(s + i, "export ", 7) == 0) ||
            (len - i >= 7 && memcmp(s + i, "import{", 7) == 0) || (len - i >= 7 && memcmp(s + i, "export{", 7) == 0))
            return true;
        const char *nl = memchr(s + i, '\n', len - i);
        i = nl ? (size_t) (nl - s) + 1 : len;
    }
    return false;
}

/* Is this a module-form Worker? With import/export declarations, yes. When the text does not parse as a
 * module, it is a script if it parses as one (sloppy-mode code), and otherwise whichever it looks like, so
 * that the syntax error reported is the one the author will recognise. */
static bool is_module_source(const char *src, size_t len, const char *filename, ew__arena_t *keep,
                             ew__node_t **keep_prog)
{
    bool has_syntax = false;
    if (parses(src, len, filename, true, &has_syntax, keep, keep_prog))
        return has_syntax;
    if (parses(src, len, filename, false, NULL, NULL, NULL))
        return false;
    return looks_like_module(src, len);
}

/* Reader for the bundler: the entry comes from memory (the text the caller has), the rest from disk. */
struct entry_reader {
    const char *path;
    const char *src;
    size_t len;
    ew__read_observer_fn observe; /* optional: told of every file read from disk */
    void *observe_ud;
};

static char *read_disk(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, (cap *= 2) + 1);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    if (buf != NULL && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static char *read_entry_or_disk(void *ud, const char *path, size_t *len)
{
    struct entry_reader *r = ud;
    if (strcmp(path, r->path) != 0) {
        char *data = read_disk(path, len);
        if (data != NULL && r->observe != NULL)
            r->observe(r->observe_ud, path, data, *len);
        return data;
    }
    char *copy = malloc(r->len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, r->src, r->len);
    copy[r->len] = '\0';
    *len = r->len;
    return copy;
}

bool ew__compile_entry(const char *path, const char *src, size_t len, ew__compile_out_t *out, ew__diag_t *diag)
{
    return ew__compile_entry_as(path, src, len, EW__FORM_AUTO, out, diag);
}

bool ew__compile_entry_as(const char *path, const char *src, size_t len, int form, ew__compile_out_t *out,
                          ew__diag_t *diag)
{
    return ew__compile_entry_traced(path, src, len, form, NULL, NULL, out, diag);
}

bool ew__compile_entry_traced(const char *path, const char *src, size_t len, int form, ew__read_observer_fn observe,
                              void *observe_ud, ew__compile_out_t *out, ew__diag_t *diag)
{
    ew__arena_t arena; /* the entry's tree when the detection parse found a module (then passed on) */
    ew__node_t *prog = NULL;
    if (form == EW__FORM_MODULE || (form == EW__FORM_AUTO && is_module_source(src, len, path, &arena, &prog))) {
        struct entry_reader reader = {path, src, len, observe, observe_ud};
        ew__bundle_opts_t in = {path, read_entry_or_disk, &reader, true, form == EW__FORM_MODULE, false, NULL, NULL};
        if (prog != NULL) {
            in.entry_arena = &arena;
            in.entry_prog = prog;
        }
        bool ok = ew__compile_bundle(&in, out, diag);
        if (prog != NULL)
            ew__arena_dispose(&arena); /* empty unless the bundler failed before taking it */
        return ok;
    }
    if (memmem(src, len, "import", 6) != NULL) { /* import() in a script loads modules: the bundler's job */
        struct entry_reader reader = {path, src, len, observe, observe_ud};
        ew__bundle_opts_t in = {path, read_entry_or_disk, &reader, true, false, true, NULL, NULL};
        return ew__compile_bundle(&in, out, diag);
    }
    ew__compile_opts_t in = {src, len, path, false};
    return ew__compile(&in, out, diag);
}
