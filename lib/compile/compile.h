/*
 * lib/compile/compile.h — the compiler's entry point for the rest of the library: modern JavaScript in, ES5.1
 * text for Duktape out (parse -> scope analysis -> lowering passes -> emit; docs/compiler.md).
 *
 * The output is the text of ONE function expression, `function ($ew) { <the program> }`, whose single parameter
 * is the runtime helper object (lib/js/helpers.js) under a name no identifier of the source uses. Compile it
 * with duk_compile(ctx, DUK_COMPILE_FUNCTION) and call it with `this` = the global object and the helper object
 * as its argument. Lines are retained: generated line N runs code of source line ew__linemap_lookup(&map, N).
 */
#ifndef EW_COMPILE_COMPILE_H
#define EW_COMPILE_COMPILE_H

#include <stdbool.h>
#include <stddef.h>

#include "emit.h"
#include "internal.h"

typedef struct ew__compile_opts {
    const char *source;   /* UTF-8, not copied; only read during the call */
    size_t len;           /* bytes */
    const char *filename; /* for diagnostics (not copied) */
    bool module;          /* parse as a module (import/export are not lowered yet: an error for now) */
} ew__compile_opts_t;

typedef struct ew__compile_out {
    char *text;           /* malloc'd, NUL-terminated ES5.1: `function (<helpers>) {...}`; freed by dispose */
    size_t len;           /* bytes of text */
    ew__linemap_t map;    /* generated line -> original line (and file index: ew__linemap_file) */
    char **files;         /* malloc'd file names by file index (ew__compile_bundle; NULL from ew__compile) */
    uint32_t nfiles;
} ew__compile_out_t;

/* Compiles one script. Returns true and fills *out (caller disposes with ew__compile_out_dispose), or false
 * with diag filled (file:line:col: message + code frame; dispose diag either way): syntax errors, and features
 * not lowered yet (async functions, generators, classes, modules, ...) reported at their position. Reentrant;
 * any thread; needs about 1 MiB of C stack. */
bool ew__compile(const ew__compile_opts_t *in, ew__compile_out_t *out, ew__diag_t *diag);
void ew__compile_out_dispose(ew__compile_out_t *out);

/* The d flag of `new RegExp(pattern, "d")` (lib/core/builtin_misc.c): the rewrite regex literals get
 * (lower_regex_indices.c) of pattern (ES5 syntax, len bytes). One malloc'd block (free it): the new
 * pattern, and for each original group g in order, map holds a count c, then c ints: g's capture number
 * and the signed capture numbers whose lengths give its start. NULL with a message in err if the pattern
 * has what the rewrite cannot place exactly (or on OOM). */
typedef struct ew__regex_indices {
    uint32_t groups;
    int32_t *map;
    char *pattern; /* NUL-terminated */
    size_t pattern_len;
} ew__regex_indices_t;
ew__regex_indices_t *ew__regex_indices(const char *pattern, size_t len, char *err, size_t err_len);

#endif /* EW_COMPILE_COMPILE_H */
