/*
 * lib/compile/emit.h — the compiler's printer: a syntax tree back to JavaScript text, plus a line map.
 *
 * The last step of the pipeline (docs: /work/shared/COMPILER-NOTES.md): after the lowering passes the tree holds
 * only ES5.1 and ew__emit prints it for Duktape. It prints every ES2022 node too (unlowered code for
 * `ew-server build --emit-js` and for debugging a pass). Parentheses come from precedence alone: EW__NF_PAREN is
 * ignored, so trees built by passes need no care beyond correct shape and positions.
 *
 * Line retention: Duktape reports only line numbers, so by default every node is printed on its original line
 * (node->line) when the output has not passed it yet; code made by passes (line 0) is printed inline. The line map
 * records where generated and original lines differ. See emit.c for the rules.
 */
#ifndef EW_COMPILE_EMIT_H
#define EW_COMPILE_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* One run of the line map: generated lines gen_line, gen_line + 1, ... come from original lines orig_line,
 * orig_line + 1, ... of file `file`, up to the next run's gen_line. With line retention a whole file is usually
 * one run {1, 1, file}. */
typedef struct ew__linemap_run {
    uint32_t gen_line;   /* first generated line of the run, 1-based */
    uint32_t orig_line;  /* original line of gen_line, 1-based (0 = unknown: synthetic code only) */
    uint32_t file;       /* source file index (ew__emit_opts_t.file_index), for bundles */
} ew__linemap_run_t;

typedef struct ew__linemap {
    ew__linemap_run_t *runs; /* malloc'd, sorted by gen_line, runs[0].gen_line == 1; freed by ew__linemap_dispose */
    uint32_t count;          /* number of runs */
    uint32_t gen_lines;      /* number of generated lines (1 + newlines in the text) */
} ew__linemap_t;

/* Original line of a generated line (1-based); 0 if gen_line is out of range. O(log runs). */
uint32_t ew__linemap_lookup(const ew__linemap_t *map, uint32_t gen_line);
/* Source file index of a generated line; 0 if out of range. */
uint32_t ew__linemap_file(const ew__linemap_t *map, uint32_t gen_line);
/* Frees the runs; the map is empty afterwards (disposing twice is harmless). */
void ew__linemap_dispose(ew__linemap_t *map);

typedef struct ew__emit_opts {
    bool retain_lines;   /* keep nodes on their original lines (default true); false: one statement per line */
    bool minify;         /* no optional spaces or indentation (default false) */
    bool duktape;        /* print for Duktape 2.7's parser (default false): identifiers it cannot lex become
                          * string keys or `$U<hex>$` names, method names it cannot parse string keys, and a
                          * for-init holding `in` is parenthesised (the compiler's output sets it) */
    uint8_t indent;      /* spaces per block level when not minified (default 2) */
    uint32_t file_index; /* stamped into the line map's runs (default 0) */
    const char *file;    /* for diagnostics, not copied (may be NULL) */
} ew__emit_opts_t;

/* Fills o with the defaults above. */
void ew__emit_opts_init(ew__emit_opts_t *o);

typedef struct ew__emit_out {
    char *text;          /* malloc'd, NUL-terminated JavaScript; freed by the caller with free() or ew__emit_out_dispose */
    size_t len;          /* bytes of text, without the NUL */
    ew__linemap_t map;   /* generated line -> original line */
} ew__emit_out_t;

/* Prints `root` (a Program, or any statement or expression node for debugging) with opts (NULL = defaults).
 * On success fills *out (caller owns it) and returns true. Returns false with diag set (and *out zeroed) when out
 * of memory, when the tree is nested too deeply, or when it holds a node that cannot be printed (a NULL where a
 * node is required, an unknown type). The tree is not modified; runs on any thread. */
bool ew__emit(const ew__node_t *root, const ew__emit_opts_t *opts, ew__emit_out_t *out, ew__diag_t *diag);

/* Frees text and map; *out is zeroed. */
void ew__emit_out_dispose(ew__emit_out_t *out);

#endif /* EW_COMPILE_EMIT_H */
