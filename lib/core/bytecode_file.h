/*
 * lib/core/bytecode_file.h — the bytecode bundle format (`ew-server build -o`, ew_compile_bundle, and the on-disk
 * compile cache): a 64-byte header, then the payload = a list of source files with their SHA-256 (only the
 * cache fills it: what to re-check before reusing an entry) followed by duk_dump_function's bytes.
 *
 * Duktape does not validate bytecode: loading a damaged or foreign dump can crash the process. So a bundle is
 * only ever loaded when its magic, format, library version, Duktape version, build fingerprint (a hash of the
 * compiler, the runtime helpers and Duktape's sources and configuration: build_id.h), payload length and
 * FNV-1a checksum all match. Header (integers little-endian):
 *    0  magic "\xFF" "EWBC\r\n\x1A" (0xFF never begins UTF-8 text, so a bundle is never mistaken for a script)
 *    8  u32 format (1)          12  u32 number of source files in the payload
 *   16  char[16] library version, NUL-padded
 *   32  u32 DUK_VERSION         36  u32 0
 *   40  u64 build fingerprint   48  u64 payload length   56  u64 FNV-1a 64 of the payload
 * Payload: per source file: u32 path length, the path, 32 bytes SHA-256 of its content; then the bytecode.
 */
#ifndef EW_CORE_BYTECODE_FILE_H
#define EW_CORE_BYTECODE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duktape.h"
#include "edgeworker.h"

#define EW__BC_HEADER_SIZE 64

/* A source file a compiled program was made from, with the SHA-256 of its content then. */
typedef struct ew__bc_dep {
    char *path;           /* malloc'd */
    uint8_t sha[32];
} ew__bc_dep_t;

/* The compiler's ES5 output (one function expression taking the helper object) to compile, named filename. */
typedef struct ew__bc_text {
    const char *source;
    size_t len;
    const char *filename;
} ew__bc_text_t;

/* Safe-call body: compiles the ew__bc_text_t at udata and dumps it: [] -> [bytecode buffer]. */
duk_ret_t ew__bc_dump_body(duk_context *ctx, void *udata);

/* True when data looks like a bundle rather than a script: it begins with the magic's first byte (0xFF). */
bool ew__bc_is_bundle(const void *data, size_t len);

/* The bundle file for bytecode bc (n bytes) made from deps: *out is malloc'd (free()), *out_len its size. */
ew_status_t ew__bc_encode(const void *bc, size_t n, const ew__bc_dep_t *deps, size_t ndeps, void **out,
                          size_t *out_len, ew_error_t *err);

/* Checks a bundle (`name` is for messages: the file's path) and points *bc / *n into data at its bytecode.
 * With deps non-NULL, *deps gets the malloc'd source list (free with ew__bc_deps_free) and *ndeps its length.
 * Errors (EW_ERR_INVALID_ARG) name the file and say to rebuild it with `ew-server build`. */
ew_status_t ew__bc_decode(const char *name, const void *data, size_t len, const void **bc, size_t *n,
                          ew__bc_dep_t **deps, size_t *ndeps, ew_error_t *err);
void ew__bc_deps_free(ew__bc_dep_t *deps, size_t ndeps);

/* The build fingerprint written in bundles (build_id.h + the engine's data layout). */
uint64_t ew__bc_fingerprint(void);
/* 64-bit FNV-1a. */
uint64_t ew__bc_fnv1a(const void *data, size_t len);
/* SHA-256 of len bytes into out. */
void ew__bc_sha256(const void *data, size_t len, uint8_t out[32]);

/* Lowers a Worker entry (lib/compile: ew__compile_entry_as) into *out (ew__compile_out_dispose), listing in
 * *deps the files read from disk when deps is non-NULL. EW_ERR_SYNTAX with file:line:col on errors. */
struct ew__compile_out;
ew_status_t ew__bc_lower(const char *path, const char *src, size_t len, int form, struct ew__compile_out *out,
                         ew__bc_dep_t **deps, size_t *ndeps, ew_error_t *err);

/* Compiles a Worker entry to bytecode without running it: lowers it (modules bundled from disk relative to
 * path) and compiles it in a plain Duktape heap. *bc is malloc'd (free()). With deps non-NULL, every file the
 * compiler read from disk is listed there (ew__bc_deps_free). Errors as ew_worker_load reports them. */
ew_status_t ew__bc_compile(const char *path, const char *src, size_t len, int form, void **bc, size_t *n,
                           ew__bc_dep_t **deps, size_t *ndeps, ew_error_t *err);

#endif /* EW_CORE_BYTECODE_FILE_H */
