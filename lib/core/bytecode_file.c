/*
 * bytecode_file.c — bytecode bundles (format in bytecode_file.h) and compiling a Worker entry to bytecode
 * without running it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "build_id.h"
#include "bytecode_file.h"
#include "compile/bundle.h"
#include "compile/compile.h"
#include "compile_cache.h"
#include "internal.h"

static const uint8_t magic[8] = {0xFF, 'E', 'W', 'B', 'C', '\r', '\n', 0x1A};
#define FORMAT 1u

uint64_t ew__bc_fnv1a(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void ew__bc_sha256(const void *data, size_t len, uint8_t out[32])
{
    mbedtls_sha256_ret(data, len, out, 0);
}

uint64_t ew__bc_fingerprint(void)
{
    /* The sources (build_id.h) and the data layout the dump depends on (pointer size, byte order). */
    uint16_t one = 1;
    char text[160];
    int n = snprintf(text, sizeof(text), "%s|%ld|%u|%zu|%zu|%d", EW_BUILD_ID, (long) DUK_VERSION, FORMAT,
                     sizeof(void *), sizeof(double), *(const uint8_t *) &one);
    return ew__bc_fnv1a(text, (size_t) n);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

bool ew__bc_is_bundle(const void *data, size_t len)
{
    return len > 0 && ((const uint8_t *) data)[0] == magic[0];
}

ew_status_t ew__bc_encode(const void *bc, size_t n, const ew__bc_dep_t *deps, size_t ndeps, void **out,
                          size_t *out_len, ew_error_t *err)
{
    size_t payload = n;
    for (size_t i = 0; i < ndeps; i++)
        payload += 4 + strlen(deps[i].path) + 32;
    uint8_t *f = malloc(EW__BC_HEADER_SIZE + payload);
    if (f == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory writing a bytecode bundle");
    memset(f, 0, EW__BC_HEADER_SIZE);
    memcpy(f, magic, 8);
    put32(f + 8, FORMAT);
    put32(f + 12, (uint32_t) ndeps);
    snprintf((char *) f + 16, 16, "%s", ew_version());
    put32(f + 32, (uint32_t) DUK_VERSION);
    put64(f + 40, ew__bc_fingerprint());
    put64(f + 48, payload);
    uint8_t *p = f + EW__BC_HEADER_SIZE;
    for (size_t i = 0; i < ndeps; i++) {
        size_t pl = strlen(deps[i].path);
        put32(p, (uint32_t) pl);
        memcpy(p + 4, deps[i].path, pl);
        memcpy(p + 4 + pl, deps[i].sha, 32);
        p += 4 + pl + 32;
    }
    memcpy(p, bc, n);
    put64(f + 56, ew__bc_fnv1a(f + EW__BC_HEADER_SIZE, payload));
    *out = f;
    *out_len = EW__BC_HEADER_SIZE + payload;
    return EW_OK;
}

void ew__bc_deps_free(ew__bc_dep_t *deps, size_t ndeps)
{
    if (deps == NULL)
        return;
    for (size_t i = 0; i < ndeps; i++)
        free(deps[i].path);
    free(deps);
}

#define REBUILD "; rebuild it with `ew-server build PATH -o FILE`"

ew_status_t ew__bc_decode(const char *name, const void *data, size_t len, const void **bc, size_t *n,
                          ew__bc_dep_t **deps, size_t *ndeps, ew_error_t *err)
{
    const uint8_t *f = data;
    if (deps != NULL) {
        *deps = NULL;
        *ndeps = 0;
    }
    if (len < EW__BC_HEADER_SIZE || memcmp(f, magic, 8) != 0)
        return ew__error_set(err, EW_ERR_INVALID_ARG,
                             len >= 8 && memcmp(f, magic, 8) == 0 ? "%s: truncated bytecode bundle" REBUILD
                                                                   : "%s: not a bytecode bundle (bad header)" REBUILD,
                             name);
    if (get32(f + 8) != FORMAT)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "%s: bytecode bundle format %u, this build reads %u" REBUILD,
                             name, get32(f + 8), FORMAT);
    char version[17];
    memcpy(version, f + 16, 16);
    version[16] = '\0';
    if (strcmp(version, ew_version()) != 0 || get32(f + 32) != (uint32_t) DUK_VERSION)
        return ew__error_set(err, EW_ERR_INVALID_ARG,
                             "%s: bytecode bundle made by libedgeworker %s (Duktape %u), this is %s (Duktape %u)" REBUILD,
                             name, version, get32(f + 32), ew_version(), (unsigned) DUK_VERSION);
    if (get64(f + 40) != ew__bc_fingerprint())
        return ew__error_set(err, EW_ERR_INVALID_ARG,
                             "%s: bytecode bundle made by a different build of libedgeworker %s" REBUILD, name,
                             version);
    uint64_t payload = get64(f + 48);
    if (payload != len - EW__BC_HEADER_SIZE)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "%s: %s bytecode bundle (%zu of %llu bytes)" REBUILD, name,
                             payload > len - EW__BC_HEADER_SIZE ? "truncated" : "oversized",
                             len - EW__BC_HEADER_SIZE, (unsigned long long) payload);
    const uint8_t *p = f + EW__BC_HEADER_SIZE, *end = p + payload;
    if (ew__bc_fnv1a(p, payload) != get64(f + 56))
        return ew__error_set(err, EW_ERR_INVALID_ARG, "%s: corrupted bytecode bundle (checksum mismatch)" REBUILD,
                             name);
    uint32_t nd = get32(f + 12);
    ew__bc_dep_t *list = NULL;
    if (deps != NULL && nd > 0 && (list = calloc(nd, sizeof(*list))) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory reading %s", name);
    for (uint32_t i = 0; i < nd; i++) {
        uint32_t pl = (size_t) (end - p) >= 4 ? get32(p) : UINT32_MAX;
        if (pl == UINT32_MAX || (size_t) (end - p) - 4 < (size_t) pl + 32) {
            ew__bc_deps_free(list, i);
            return ew__error_set(err, EW_ERR_INVALID_ARG, "%s: corrupted bytecode bundle (source list)" REBUILD,
                                 name);
        }
        if (list != NULL) {
            list[i].path = malloc(pl + 1);
            if (list[i].path == NULL) {
                ew__bc_deps_free(list, i);
                return ew__error_set(err, EW_ERR_NOMEM, "out of memory reading %s", name);
            }
            memcpy(list[i].path, p + 4, pl);
            list[i].path[pl] = '\0';
            memcpy(list[i].sha, p + 4 + pl, 32);
        }
        p += 4 + pl + 32;
    }
    if (p == end) {
        ew__bc_deps_free(list, nd);
        return ew__error_set(err, EW_ERR_INVALID_ARG, "%s: bytecode bundle without a program" REBUILD, name);
    }
    *bc = p;
    *n = (size_t) (end - p);
    if (deps != NULL) {
        *deps = list;
        *ndeps = nd;
    }
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Compiling without running
 */

struct dep_list {
    ew__bc_dep_t *items;
    size_t n, cap;
    bool failed;
};

static void observe_read(void *ud, const char *path, const char *data, size_t len)
{
    struct dep_list *l = ud;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].path, path) == 0)
            return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        ew__bc_dep_t *bigger = realloc(l->items, cap * sizeof(*bigger));
        if (bigger == NULL) {
            l->failed = true;
            return;
        }
        l->items = bigger;
        l->cap = cap;
    }
    ew__bc_dep_t *d = &l->items[l->n];
    size_t pl = strlen(path);
    if ((d->path = malloc(pl + 1)) == NULL) {
        l->failed = true;
        return;
    }
    memcpy(d->path, path, pl + 1);
    ew__bc_sha256(data, len, d->sha);
    l->n++;
}

ew_status_t ew__bc_lower(const char *path, const char *src, size_t len, int form, ew__compile_out_t *out,
                         ew__bc_dep_t **deps, size_t *ndeps, ew_error_t *err)
{
    struct dep_list l = {NULL, 0, 0, false};
    ew__diag_t d;
    ew__diag_init(&d);
    bool ok = ew__compile_entry_traced(path, src, len, form, deps ? observe_read : NULL, &l, out, &d);
    if (!ok) {
        ew__error_set(err, EW_ERR_SYNTAX, "%s", d.text ? d.text : d.message);
        if (err != NULL) {
            snprintf(err->file, sizeof(err->file), "%s", d.file ? d.file : path);
            err->line = (int) d.line;
            err->column = (int) d.column;
        }
        ew__diag_dispose(&d);
        ew__bc_deps_free(l.items, l.n);
        return EW_ERR_SYNTAX;
    }
    ew__diag_dispose(&d);
    if (l.failed) {
        ew__compile_out_dispose(out);
        ew__bc_deps_free(l.items, l.n);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory compiling %s", path);
    }
    if (deps != NULL) {
        *deps = l.items;
        *ndeps = l.n;
    }
    return EW_OK;
}

duk_ret_t ew__bc_dump_body(duk_context *ctx, void *udata)
{
    ew__bc_text_t *a = udata;
    ew__push_utf8(ctx, a->source, a->len);
    duk_push_string(ctx, a->filename);
    duk_compile(ctx, DUK_COMPILE_FUNCTION);
    duk_dump_function(ctx);
    return 1;
}

ew_status_t ew__bc_compile(const char *path, const char *src, size_t len, int form, void **bc, size_t *n,
                           ew__bc_dep_t **deps, size_t *ndeps, ew_error_t *err)
{
    ew__compile_out_t out;
    ew_status_t st = ew__bc_lower(path, src, len, form, &out, deps, ndeps, err);
    if (st != EW_OK)
        return st;
    duk_context *ctx = duk_create_heap_default();
    if (ctx == NULL) {
        ew__compile_out_dispose(&out);
        st = ew__error_set(err, EW_ERR_NOMEM, "out of memory compiling %s", path);
    } else {
        ew__ccache_count_compile();
        ew__bc_text_t a = {out.text, out.len, path};
        if (duk_safe_call(ctx, ew__bc_dump_body, &a, 0, 1) != DUK_EXEC_SUCCESS) {
            ew__error_from_js(ctx, err, EW_ERR_INTERNAL);
            if (err != NULL) {
                static const char pre[] = "internal compiler error (please report): ";
                size_t m = strnlen(err->message, sizeof(err->message) - sizeof(pre));
                memmove(err->message + sizeof(pre) - 1, err->message, m);
                memcpy(err->message, pre, sizeof(pre) - 1);
                err->message[m + sizeof(pre) - 1] = '\0';
            }
            st = EW_ERR_INTERNAL;
        } else {
            duk_size_t sz;
            const void *data = duk_get_buffer_data(ctx, -1, &sz);
            if ((*bc = malloc(sz)) == NULL)
                st = ew__error_set(err, EW_ERR_NOMEM, "out of memory compiling %s", path);
            else {
                memcpy(*bc, data, sz);
                *n = sz;
            }
        }
        duk_destroy_heap(ctx);
        ew__compile_out_dispose(&out);
    }
    if (st != EW_OK && deps != NULL) {
        ew__bc_deps_free(*deps, *ndeps);
        *deps = NULL;
        *ndeps = 0;
    }
    return st;
}

/* ---------------------------------------------------------------------------------------------------------
 * Public API
 */

EW_API ew_status_t ew_compile_bundle(const char *path, const char *source, size_t source_len,
                                     ew_source_type_t source_type, void **out, size_t *out_len, ew_error_t *err)
{
    ew__error_clear(err);
    if (out != NULL)
        *out = NULL;
    if (path == NULL || out == NULL || out_len == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_compile_bundle: path, out and out_len are required");
    if ((unsigned) source_type > EW__FORM_SCRIPT)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "ew_compile_bundle: unknown source_type %d", (int) source_type);
    char *file = NULL;
    size_t len = source_len;
    if (source == NULL) {
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            return ew__error_set(err, EW_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        ew__buf_t b;
        ew__buf_init(&b);
        char chunk[65536];
        size_t got;
        bool ok = true;
        while (ok && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
            ok = ew__buf_append(&b, chunk, got);
        bool failed = ferror(f);
        fclose(f);
        if (!ok || failed) {
            ew__buf_dispose(&b);
            return ok ? ew__error_set(err, EW_ERR_IO, "cannot read %s", path)
                      : ew__error_set(err, EW_ERR_NOMEM, "out of memory reading %s", path);
        }
        file = b.data;
        len = b.len;
        source = file ? file : "";
    }
    if (ew__bc_is_bundle(source, len)) {
        free(file);
        return ew__error_set(err, EW_ERR_INVALID_ARG, "%s is already a bytecode bundle", path);
    }
    void *bc = NULL;
    size_t n = 0;
    ew_status_t st = ew__bc_compile(path, source, len, (int) source_type, &bc, &n, NULL, NULL, err);
    free(file);
    if (st == EW_OK) {
        st = ew__bc_encode(bc, n, NULL, 0, out, out_len, err);
        free(bc);
    }
    return st;
}

EW_API void ew_bundle_free(void *bundle)
{
    free(bundle);
}
