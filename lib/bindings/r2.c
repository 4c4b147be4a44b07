/*
 * r2.c — R2 buckets (env.BUCKET): the metadata of objects and multipart uploads in the bucket's SQLite
 * store (lib/store), bodies as files (r2_blob.c), and the native functions the JavaScript half of the
 * binding (lib/js/r2.js: argument checks, R2Object/R2ObjectBody/R2MultipartUpload) calls. Installed on
 * env by resources.c for every EW_RESOURCE_R2 resource.
 *
 * Writes follow the KV binding's pattern: checks and body files happen in the call; the metadata change is
 * an op queued for the store's group commit, whose promise settles once the transaction is on disk. An op
 * re-checks what may have changed since the call inside the transaction (onlyIf preconditions, the state of
 * a multipart upload), so a precondition holds atomically with the write even across threads and
 * processes. Logical outcomes (precondition failed, no such upload) are recorded in the op, not returned
 * as errors, so that one op cannot roll back the others of its group. Body files an op made obsolete are
 * unlinked after its commit; files of a failed op are unlinked at once.
 *
 * Reads (head, get, list) run at once after committing queued writes (ew__store_sync), as KV's do.
 * get() reads a body of up to 1 MiB at once; a larger one only when the script reads it: .body streams the
 * file chunk by chunk, the read methods take the range in one buffer. put() of a ReadableStream reads it to the
 * file chunk by chunk (r2_write.c). Large objects never have to sit in memory either way.
 *
 * This file: the bucket object and its natives table, reads (head, get, read, list), and what the others
 * share (arguments, onlyIf conditions, object records: r2.h). Writes are r2_write.c's, multipart uploads
 * r2_multipart.c's, body files r2_blob.c's.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "js_bytecode.h"
#include "r2.h"
#include "web/stream.h"

#define MODULE_KEY DUK_HIDDEN_SYMBOL("r2Module")        /* stash: r2.js's module, once loaded */
#define LAZY_PROTO_KEY DUK_HIDDEN_SYMBOL("r2Lazy")     /* stash: the stand-in buckets' prototype */
#define HANDLE_KEY DUK_HIDDEN_SYMBOL("r2Handle")       /* stand-in bucket: its ew__res_store_t */

const char *const ew__r2_schema =
    "CREATE TABLE IF NOT EXISTS objects ("
    "  key BLOB NOT NULL PRIMARY KEY,"     /* UTF-8 bytes: BLOB order is byte order, as R2 lists */
    "  blob TEXT NOT NULL,"                /* body file name (r2_blob.c) */
    "  version TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  etag TEXT NOT NULL,"
    "  uploaded INTEGER NOT NULL,"         /* ms since the epoch */
    "  checksums TEXT NOT NULL,"           /* JSON {md5: hex, ...} */
    "  http TEXT NOT NULL,"                /* JSON httpMetadata (cacheExpiry in ms) */
    "  custom TEXT NOT NULL,"              /* JSON customMetadata */
    "  storage_class TEXT NOT NULL"
    ");"
    "CREATE INDEX IF NOT EXISTS objects_blob ON objects(blob);"
    "CREATE TABLE IF NOT EXISTS uploads ("
    "  upload_id TEXT NOT NULL PRIMARY KEY,"
    "  key BLOB NOT NULL,"
    "  http TEXT NOT NULL, custom TEXT NOT NULL, storage_class TEXT NOT NULL,"
    "  state INTEGER NOT NULL"             /* 0 in progress, 1 completed, 2 aborted */
    ");"
    "CREATE TABLE IF NOT EXISTS parts ("
    "  upload_id TEXT NOT NULL, part INTEGER NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,"
    "  etag TEXT NOT NULL, PRIMARY KEY (upload_id, part)"
    ");"
    "CREATE INDEX IF NOT EXISTS parts_blob ON parts(blob);";

static const char SQL_HEAD[] = "SELECT " R2_COLS " FROM objects WHERE key = ?1";
static const char SQL_LIST[] = "SELECT " R2_COLS " FROM objects WHERE key >= ?1 AND key > ?2 ORDER BY key";
static const char SQL_REFERENCED[] = "SELECT 1 FROM objects WHERE blob = ?1 UNION ALL SELECT 1 FROM parts WHERE blob = ?1";

duk_ret_t ew__r2_fail(duk_context *ctx, const char *op, const char *fmt, ...)
{
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return duk_error(ctx, DUK_ERR_ERROR, "%s: %s", op, msg);
}

/* ---------------------------------------------------------------------------------------------------------
 * Arguments shared by the natives: (handle, ...) where handle is the bucket's pointer, which only r2.js
 * holds (scripts never see it).
 */

ew__res_store_t *ew__r2_bucket_arg(duk_context *ctx)
{
    ew__res_store_t *rs = duk_get_pointer(ctx, 0);
    if (rs == NULL || rs->r2 == NULL)
        (void) duk_type_error(ctx, "Illegal invocation");
    return rs;
}

/* The key at idx as UTF-8 (at most 1024 bytes, else R2's InvalidObjectName). */
const char *ew__r2_key_arg(duk_context *ctx, duk_idx_t idx, const char *op, size_t *len)
{
    const char *k = ew__to_utf8(ctx, idx, len);
    if (*len > R2_MAX_KEY)
        (void) ew__r2_fail(ctx, op, R2_E_NAME);
    return k;
}

/* Copies an optional string argument (NULL for undefined/null). Never throws; *oom set on failure. */
char *ew__r2_dup_arg(duk_context *ctx, duk_idx_t idx, bool *oom)
{
    if (duk_is_null_or_undefined(ctx, idx))
        return NULL;
    size_t n;
    const char *s = ew__to_utf8(ctx, idx, &n);
    char *d = malloc(n + 1);
    if (d == NULL) {
        *oom = true;
        return NULL;
    }
    memcpy(d, s, n + 1);
    return d;
}

void ew__r2_read_barrier(ew__res_store_t *rs)
{
    if (ew__store_has_queued(rs->store))
        (void) ew__store_sync(rs->store); /* a failed group rejects its own promises; reads go on */
}

sqlite3_stmt *ew__r2_stmt_or_throw(duk_context *ctx, ew__res_store_t *rs, const char *sql, const char *op)
{
    ew_error_t err;
    sqlite3_stmt *st = ew__store_stmt(rs->store, sql, &err);
    if (st == NULL)
        (void) ew__r2_fail(ctx, op, "%s", err.message);
    return st;
}

/* ---------------------------------------------------------------------------------------------------------
 * Conditions (onlyIf), normalized by r2.js: {etagMatches: [[type, value]...], etagDoesNotMatch: [...],
 * uploadedBefore: ms, uploadedAfter: ms, secondsGranularity: bool}; type "*" (wildcard), "s" strong, "w" weak.
 * The test follows RFC 7232 section 6 as R2 applies it.
 */



void ew__r2_cond_dispose(ew__r2_cond_t *c)
{
    for (size_t i = 0; i < c->nmatch; i++)
        free(c->match[i].value);
    for (size_t i = 0; i < c->nnone; i++)
        free(c->none[i].value);
    free(c->match);
    free(c->none);
    memset(c, 0, sizeof(*c));
}

static bool read_etags(duk_context *ctx, duk_idx_t obj, const char *name, ew__r2_etag_cond_t **out, size_t *n, bool *has)
{
    duk_get_prop_string(ctx, obj, name);
    bool ok = true;
    if (duk_is_array(ctx, -1)) {
        *has = true;
        size_t len = duk_get_length(ctx, -1);
        *out = calloc(len + 1, sizeof(**out));
        ok = *out != NULL;
        for (size_t i = 0; ok && i < len; i++) {
            duk_get_prop_index(ctx, -1, (duk_uarridx_t) i);
            duk_get_prop_index(ctx, -1, 0);
            const char *t = duk_safe_to_string(ctx, -1);
            (*out)[i].type = t[0];
            duk_pop(ctx);
            duk_get_prop_index(ctx, -1, 1);
            if ((*out)[i].type != '*') {
                bool oom = false;
                (*out)[i].value = ew__r2_dup_arg(ctx, -1, &oom);
                ok = !oom && (*out)[i].value != NULL;
            }
            duk_pop_2(ctx);
            *n = i + 1;
        }
    }
    duk_pop(ctx);
    return ok;
}

/* Reads the normalized condition at idx (undefined: none). Throws on allocation failure. */
void ew__r2_read_cond(duk_context *ctx, duk_idx_t idx, ew__r2_cond_t *c)
{
    memset(c, 0, sizeof(*c));
    if (!duk_is_object(ctx, idx))
        return;
    c->present = true;
    bool ok = read_etags(ctx, idx, "etagMatches", &c->match, &c->nmatch, &c->has_match) &&
              read_etags(ctx, idx, "etagDoesNotMatch", &c->none, &c->nnone, &c->has_none);
    if (!ok) {
        ew__r2_cond_dispose(c);
        (void) duk_error(ctx, DUK_ERR_ERROR, "out of memory");
    }
    duk_get_prop_literal(ctx, idx, "uploadedBefore");
    if ((c->has_before = duk_is_number(ctx, -1)))
        c->before = duk_get_number(ctx, -1);
    duk_get_prop_literal(ctx, idx, "uploadedAfter");
    if ((c->has_after = duk_is_number(ctx, -1)))
        c->after = duk_get_number(ctx, -1);
    duk_get_prop_literal(ctx, idx, "secondsGranularity");
    c->seconds = duk_to_boolean(ctx, -1);
    duk_pop_3(ctx);
}

static bool etag_listed(const ew__r2_etag_cond_t *l, size_t n, const char *etag, bool weak_ok)
{
    for (size_t i = 0; i < n; i++) {
        if (l[i].type == '*')
            return true;
        if (strcmp(l[i].value, etag) == 0 && (l[i].type == 's' || weak_ok))
            return true;
    }
    return false;
}

/* True if the condition holds for the object (exists, etag, uploaded ms). */
bool ew__r2_cond_test(const ew__r2_cond_t *c, bool exists, const char *etag, double uploaded)
{
    if (!c->present)
        return true;
    if (!exists)
        return !c->has_match && !c->has_after;
    bool if_match = !c->has_match || etag_listed(c->match, c->nmatch, etag, false);
    bool if_none = !c->has_none || !etag_listed(c->none, c->nnone, etag, true);
    double last = c->seconds ? floor(uploaded / 1000) * 1000 : uploaded;
    double after = c->seconds ? floor(c->after / 1000) * 1000 : c->after;
    double before = c->seconds ? floor(c->before / 1000) * 1000 : c->before;
    bool modified_since = !c->has_after || after < last || (c->has_none && if_none);
    bool unmodified_since = !c->has_before || last < before || (c->has_match && if_match);
    return if_match && if_none && modified_since && unmodified_since;
}

/* ---------------------------------------------------------------------------------------------------------
 * Object records: what r2.js turns into R2Object. Pushed from a row (column order COLS) or from an op.
 */


void ew__r2_rec_dispose(ew__r2_rec_t *r)
{
    free(r->key);
    free(r->checksums);
    free(r->http);
    free(r->custom);
    free(r->storage_class);
    memset(r, 0, sizeof(*r));
}

static void push_str_prop(duk_context *ctx, const char *name, const char *s, size_t n)
{
    ew__push_utf8(ctx, s ? s : "", s ? n : 0);
    duk_put_prop_string(ctx, -2, name);
}

static void push_record(duk_context *ctx, const char *key, size_t klen, const char *blob, const char *version,
                        double size, const char *etag, double uploaded, const char *checksums, const char *http,
                        const char *custom, const char *sc)
{
    duk_push_object(ctx);
    push_str_prop(ctx, "key", key, klen);
    duk_push_string(ctx, blob);
    duk_put_prop_literal(ctx, -2, "blob");
    duk_push_string(ctx, version);
    duk_put_prop_literal(ctx, -2, "version");
    duk_push_number(ctx, size);
    duk_put_prop_literal(ctx, -2, "size");
    duk_push_string(ctx, etag);
    duk_put_prop_literal(ctx, -2, "etag");
    duk_push_number(ctx, uploaded);
    duk_put_prop_literal(ctx, -2, "uploaded");
    duk_push_string(ctx, checksums);
    duk_put_prop_literal(ctx, -2, "checksums");
    push_str_prop(ctx, "http", http, strlen(http));
    push_str_prop(ctx, "custom", custom, strlen(custom));
    push_str_prop(ctx, "storageClass", sc, strlen(sc));
}

const char *ew__r2_col_text(sqlite3_stmt *st, int i)
{
    const char *s = (const char *) sqlite3_column_text(st, i);
    return s ? s : "";
}

static void push_row(duk_context *ctx, sqlite3_stmt *st)
{
    push_record(ctx, sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), ew__r2_col_text(st, 1),
                ew__r2_col_text(st, 2), (double) sqlite3_column_int64(st, 3), ew__r2_col_text(st, 4),
                (double) sqlite3_column_int64(st, 5), ew__r2_col_text(st, 6), ew__r2_col_text(st, 7), ew__r2_col_text(st, 8),
                ew__r2_col_text(st, 9));
}

void ew__r2_push_rec(duk_context *ctx, const ew__r2_rec_t *r)
{
    push_record(ctx, r->key, r->key_len, r->blob, r->version, (double) r->size, r->etag, r->uploaded,
                r->checksums, r->http, r->custom, r->storage_class);
}

/* Runs fn protected, then releases st whatever happened; rethrows fn's error. */
static void with_stmt(duk_context *ctx, sqlite3_stmt *st, duk_safe_call_function fn, void *udata)
{
    int rc = duk_safe_call(ctx, fn, udata, 0, 1);
    ew__store_release(st);
    if (rc != DUK_EXEC_SUCCESS)
        (void) duk_throw(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Reads
 */

struct lookup_args {
    ew__res_store_t *rs;
    sqlite3_stmt *st;
    const ew__r2_cond_t *cond;
    const char *op;
};

/* Safe-call body: pushes the record of the looked-up row (with failed: true when the condition does not
 * hold), or null. */
static duk_ret_t push_lookup(duk_context *ctx, void *udata)
{
    struct lookup_args *a = udata;
    int rc = sqlite3_step(a->st);
    if (rc == SQLITE_DONE) {
        duk_push_null(ctx);
        return 1;
    }
    if (rc != SQLITE_ROW) {
        ew_error_t err;
        ew__store_error(a->rs->store, rc, "reading", &err);
        return ew__r2_fail(ctx, a->op, "%s", err.message);
    }
    push_row(ctx, a->st);
    if (a->cond != NULL &&
        !ew__r2_cond_test(a->cond, true, ew__r2_col_text(a->st, 4), (double) sqlite3_column_int64(a->st, 5))) {
        duk_push_true(ctx);
        duk_put_prop_literal(ctx, -2, "failed");
    }
    return 1;
}

/* head(h, key) -> record | null */
static duk_ret_t r2_head(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    size_t klen;
    const char *key = ew__r2_key_arg(ctx, 1, "head", &klen);
    ew__r2_read_barrier(rs);
    sqlite3_stmt *st = ew__r2_stmt_or_throw(ctx, rs, SQL_HEAD, "head");
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    struct lookup_args a = {rs, st, NULL, "head"};
    with_stmt(ctx, st, push_lookup, &a);
    return 1;
}

struct get_args {
    struct lookup_args l;
    ew__r2_cond_t cond;
};

static duk_ret_t get_protected(duk_context *ctx, void *udata)
{
    struct get_args *g = udata;
    ew__r2_read_cond(ctx, 2, &g->cond);
    g->l.cond = &g->cond;
    with_stmt(ctx, g->l.st, push_lookup, &g->l);
    return 1;
}

/* get(h, key, cond) -> record (failed: true when cond does not hold) | null */
static duk_ret_t r2_get(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    size_t klen;
    const char *key = ew__r2_key_arg(ctx, 1, "get", &klen);
    ew__r2_read_barrier(rs);
    sqlite3_stmt *st = ew__r2_stmt_or_throw(ctx, rs, SQL_HEAD, "get");
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    struct get_args g = {{rs, st, NULL, "get"}, {0}};
    int rc = duk_safe_call(ctx, get_protected, &g, 0, 1);
    ew__store_release(st);
    ew__r2_cond_dispose(&g.cond);
    if (rc != DUK_EXEC_SUCCESS)
        return duk_throw(ctx);
    return 1;
}

/* Before a large allocation: garbage cycles (streams and their buffers are cyclic) are freed only by
 * mark-and-sweep, which the isolate's soft memory limit does not wait for. When the new block would take
 * the heap past half its limit, collect first, so that earlier bodies do not count against this one. */
void ew__r2_make_room(duk_context *ctx, size_t n)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && iso->heap_limit != SIZE_MAX && n >= (64u << 10) && iso->heap_bytes + n > iso->heap_limit / 2)
        duk_gc(ctx, 0);
}

/* ---------------------------------------------------------------------------------------------------------
 * Bodies. A small body (r2.js: up to 1 MiB) is read at get() into one buffer, so a replaced object cannot
 * pull it away. A larger one is read only when the script reads it: all at once for arrayBuffer()/text()
 * (read), or chunk by chunk for .body (stream: a ReadableStream fed from C, which ew-server sends as it is
 * read). Files are open only while they are being read (a get whose body is never read holds nothing).
 */

#define READ_CHUNK (256u * 1024u)

static void range_args(duk_context *ctx, duk_idx_t idx, double *off, double *len)
{
    *off = duk_require_number(ctx, idx);
    *len = duk_require_number(ctx, idx + 1);
    if (!(*off >= 0) || !(*len >= 0) || *len > (double) SIZE_MAX / 2)
        (void) duk_range_error(ctx, "invalid range");
}

/* read(h, blob, offset, length) -> ArrayBuffer of the range, or null when the body is gone (the object was
 * replaced or deleted: r2.js looks the key up again, or reports it). */
static duk_ret_t r2_read(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    const char *blob = duk_require_string(ctx, 1);
    double off, len;
    range_args(ctx, 2, &off, &len);
    ew__r2_make_room(ctx, (size_t) len);
    void *buf = duk_push_fixed_buffer(ctx, (duk_size_t) len); /* before the open: nothing to leak if it throws */
    int fd = ew__r2_blob_open(rs->r2, blob);
    if (fd < 0) {
        duk_push_null(ctx);
        return 1;
    }
    bool ok = ew__r2_blob_pread(fd, buf, (size_t) len, (uint64_t) off);
    close(fd);
    if (!ok)
        return ew__r2_fail(ctx, "get", R2_E_INTERNAL);
    duk_push_buffer_object(ctx, -1, 0, (duk_size_t) len, DUK_BUFOBJ_ARRAYBUFFER);
    return 1;
}

/* A body stream's source: the file (opened at the first pull), where it is, what is left. A stream made but
 * never read holds just this struct. */
typedef struct file_src {
    ew__r2_dir_t *dir;
    char blob[EW__R2_ID_HEX + 1];
    int fd;                       /* -1 until the first pull */
    uint64_t off, left;
    bool busy;                    /* inside pull (enqueue may re-enter pull or cancel) */
    bool cancelled;               /* cancel came while busy: pull frees */
} file_src_t;

static void fs_free(file_src_t *f)
{
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}

static void fs_cancel(void *udata, ew__stream_src_t *src)
{
    (void) src;
    file_src_t *f = udata;
    if (f->busy)
        f->cancelled = true;
    else
        fs_free(f);
}

static void fs_pull(void *udata, ew__stream_src_t *src)
{
    file_src_t *f = udata;
    if (f->busy)
        return;
    if (f->fd < 0 && (f->fd = ew__r2_blob_open(f->dir, f->blob)) < 0) {
        ew__stream_src_error(src, "get: " R2_E_INTERNAL " (the object was replaced while its body was unread)");
        fs_free(f);
        return;
    }
    size_t n = f->left < READ_CHUNK ? (size_t) f->left : READ_CHUNK;
    char *buf = malloc(n);
    if (buf == NULL || !ew__r2_blob_pread(f->fd, buf, n, f->off)) {
        free(buf);
        ew__stream_src_error(src, buf == NULL ? "get: out of memory" : "get: " R2_E_INTERNAL);
        fs_free(f);
        return;
    }
    f->off += n;
    f->left -= n;
    f->busy = true;
    ew_status_t st = ew__stream_src_enqueue(src, buf, n); /* copies */
    f->busy = false;
    free(buf);
    if (f->cancelled) { /* the handle is gone with the cancel */
        fs_free(f);
        return;
    }
    if (st != EW_OK) {
        if (st != EW_ERR_STATE)
            ew__stream_src_error(src, "get: out of memory");
        fs_free(f);
        return;
    }
    if (f->left == 0) {
        ew__stream_src_close(src);
        fs_free(f);
    }
}

struct src_args {
    file_src_t *f;
    ew__stream_src_t *src;
};

static duk_ret_t push_src_protected(duk_context *ctx, void *udata)
{
    static const ew__stream_src_hooks_t hooks = {fs_pull, fs_cancel, NULL, NULL};
    struct src_args *a = udata;
    a->src = ew__stream_src_push_new(ctx, &hooks, a->f, READ_CHUNK);
    return 1;
}

/* stream(h, blob, offset, length) -> ReadableStream of the range, read from the file as it is consumed. */
static duk_ret_t r2_stream(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    const char *blob = duk_require_string(ctx, 1);
    double off, len;
    range_args(ctx, 2, &off, &len);
    file_src_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return ew__r2_fail(ctx, "get", "out of memory");
    f->dir = rs->r2;
    snprintf(f->blob, sizeof(f->blob), "%s", blob);
    f->fd = -1;
    f->off = (uint64_t) off;
    f->left = (uint64_t) len;
    struct src_args a = {f, NULL};
    if (duk_safe_call(ctx, push_src_protected, &a, 0, 1) != DUK_EXEC_SUCCESS) {
        free(f);
        return duk_throw(ctx);
    }
    if (f->left == 0) {
        ew__stream_src_close(a.src);
        fs_free(f);
    }
    return 1;
}

/* isDisturbed(stream) -> whether the stream was read from (R2ObjectBody.bodyUsed). */
static duk_ret_t r2_is_disturbed(duk_context *ctx)
{
    duk_push_boolean(ctx, ew__stream_is_disturbed(ctx, 0));
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * list(h, prefix, startAfter, limit, delimiter, cursor) -> {objects, truncated, delimitedPrefixes, cursor?}
 *
 * The cursor is the hex of the bytes the next page starts after: the last key listed, or, when the page
 * ended on a delimited prefix, that prefix followed by 0xff (no UTF-8 key has that byte, so every key under
 * the prefix sorts before it and is skipped).
 */

struct list_args {
    ew__res_store_t *rs;
    sqlite3_stmt *st;
    const char *prefix, *delim;
    size_t prefix_len, delim_len;
    uint32_t limit;
    ew__buf_t last;               /* bytes the next page starts after */
};

/* Where the delimiter first occurs in the key after the prefix: returns the length of the delimited
 * prefix (through the delimiter), or 0. */
static size_t delimited_len(const struct list_args *a, const char *k, size_t klen)
{
    if (a->delim_len == 0)
        return 0;
    for (size_t i = a->prefix_len; i + a->delim_len <= klen; i++)
        if (memcmp(k + i, a->delim, a->delim_len) == 0)
            return i + a->delim_len;
    return 0;
}

static bool set_last(ew__buf_t *b, const char *k, size_t n, bool past_prefix)
{
    b->len = 0;
    return ew__buf_append(b, k, n) && (!past_prefix || ew__buf_append(b, "\xff", 1));
}

static duk_ret_t push_list(duk_context *ctx, void *udata)
{
    struct list_args *a = udata;
    duk_idx_t res = duk_push_object(ctx);
    duk_idx_t objs = duk_push_array(ctx);
    duk_idx_t prefixes = duk_push_array(ctx);
    uint32_t nobj = 0, npre = 0;
    bool truncated = false, under_prefix = false;
    int rc;
    while ((rc = sqlite3_step(a->st)) == SQLITE_ROW) {
        const char *k = sqlite3_column_blob(a->st, 0);
        size_t klen = (size_t) sqlite3_column_bytes(a->st, 0);
        if (klen < a->prefix_len || memcmp(k, a->prefix, a->prefix_len) != 0)
            break;
        if (under_prefix && klen >= a->last.len - 1 && memcmp(k, a->last.data, a->last.len - 1) == 0)
            continue; /* under the delimited prefix just listed */
        if (nobj + npre == a->limit) {
            truncated = true;
            break;
        }
        size_t dl = delimited_len(a, k, klen);
        under_prefix = dl > 0;
        if (!set_last(&a->last, k, dl > 0 ? dl : klen, dl > 0))
            return ew__r2_fail(ctx, "list", "out of memory");
        if (dl > 0) {
            ew__push_utf8(ctx, k, dl);
            duk_put_prop_index(ctx, prefixes, npre++);
        } else {
            push_row(ctx, a->st);
            duk_put_prop_index(ctx, objs, nobj++);
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        ew_error_t err;
        ew__store_error(a->rs->store, rc, "reading", &err);
        return ew__r2_fail(ctx, "list", "%s", err.message);
    }
    duk_put_prop_literal(ctx, res, "delimitedPrefixes");
    duk_put_prop_literal(ctx, res, "objects");
    duk_push_boolean(ctx, truncated);
    duk_put_prop_literal(ctx, res, "truncated");
    if (truncated) {
        char *hex = duk_push_fixed_buffer(ctx, a->last.len * 2 + 1);
        ew__r2_hex((const unsigned char *) a->last.data, a->last.len, hex);
        duk_push_string(ctx, hex);
        duk_put_prop_literal(ctx, res, "cursor");
        duk_pop(ctx);
    }
    return 1;
}

int ew__r2_hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes a cursor into out (R2_MAX_KEY + 1 bytes); returns its length, or 0 if it is not one of ours. */
static size_t decode_cursor(const char *s, size_t n, unsigned char *out)
{
    if (n == 0 || n % 2 != 0 || n / 2 > R2_MAX_KEY + 1)
        return 0;
    for (size_t i = 0; i < n; i += 2) {
        int hi = ew__r2_hexval(s[i]), lo = ew__r2_hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i / 2] = (unsigned char) (hi << 4 | lo);
    }
    return n / 2;
}

static duk_ret_t r2_list(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    struct list_args a = {rs, NULL, "", NULL, 0, 0, R2_MAX_LIST, {NULL, 0, 0}};
    if (!duk_is_null_or_undefined(ctx, 1))
        a.prefix = ew__to_utf8(ctx, 1, &a.prefix_len);
    const char *after = "";
    size_t after_len = 0;
    unsigned char cursor[R2_MAX_KEY + 1];
    if (!duk_is_null_or_undefined(ctx, 5)) {
        size_t n;
        const char *c = duk_require_lstring(ctx, 5, &n);
        if ((after_len = decode_cursor(c, n, cursor)) == 0)
            return ew__r2_fail(ctx, "list", "The provided cursor is not valid: pass the cursor of a previous list() "
                                        "result. (10029)");
        after = (const char *) cursor;
    } else if (!duk_is_null_or_undefined(ctx, 2)) {
        after = ew__to_utf8(ctx, 2, &after_len);
    }
    a.limit = (uint32_t) duk_require_uint(ctx, 3);
    if (!duk_is_null_or_undefined(ctx, 4))
        a.delim = ew__to_utf8(ctx, 4, &a.delim_len);
    ew__r2_read_barrier(rs);
    a.st = ew__r2_stmt_or_throw(ctx, rs, SQL_LIST, "list");
    sqlite3_bind_blob64(a.st, 1, a.prefix, a.prefix_len, SQLITE_STATIC);
    sqlite3_bind_blob64(a.st, 2, after, after_len, SQLITE_STATIC);
    int rc = duk_safe_call(ctx, push_list, &a, 0, 1);
    ew__store_release(a.st);
    ew__buf_dispose(&a.last);
    if (rc != DUK_EXEC_SUCCESS)
        return duk_throw(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Opening, and the bucket object
 */

static bool blob_referenced(void *udata, const char *name)
{
    ew__res_store_t *rs = udata;
    ew_error_t err;
    sqlite3_stmt *st = ew__store_stmt(rs->store, SQL_REFERENCED, &err);
    if (st == NULL)
        return true; /* when in doubt, keep it */
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    ew__store_release(st);
    return rc != SQLITE_DONE;
}

ew_status_t ew__r2_open(ew__res_store_t *rs, const char *state_dir, ew_error_t *err)
{
    ew__r2_dir_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening r2/%s", rs->id);
    ew_status_t st = ew__r2_dir_open(d, state_dir, rs->id, err);
    if (st != EW_OK) {
        free(d);
        return st;
    }
    rs->r2 = d;
    if (state_dir != NULL)
        ew__r2_blob_sweep(d, blob_referenced, rs);
    return EW_OK;
}

void ew__r2_close(ew__res_store_t *rs)
{
    if (rs->r2 == NULL)
        return;
    ew__r2_stream_puts_free(rs);
    ew__r2_dir_close(rs->r2);
    free(rs->r2);
    rs->r2 = NULL;
}

static const ew__method_t natives[] = {
    {"head", r2_head, 2, 2},
    {"get", r2_get, 3, 3},
    {"read", r2_read, 4, 4},
    {"stream", r2_stream, 4, 4},
    {"isDisturbed", r2_is_disturbed, 1, 1},
    {"put", ew__r2_put, 8, 8},
    {"del", ew__r2_delete, 2, 2},
    {"list", r2_list, 6, 6},
    {"mpCreate", ew__r2_mp_create, 5, 5},
    {"mpPart", ew__r2_mp_part, 5, 5},
    {"mpAbort", ew__r2_mp_abort, 3, 3},
    {"mpComplete", ew__r2_mp_complete, 4, 4},
    {NULL, NULL, 0, 0},
};

/* Pushes the heap's r2.js module ({adopt, proto}), loading it on first use. */
static void push_module(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, MODULE_KEY)) {
        duk_pop(ctx);
        duk_push_external_buffer(ctx);
        duk_config_buffer(ctx, -1, (void *) ew__js_r2, ew__js_r2_len);
        duk_load_function(ctx);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, natives);
        duk_push_int(ctx, R2_MAX_LIST);
        duk_put_prop_literal(ctx, -2, "maxList");
        duk_push_int(ctx, R2_MAX_PART_NUMBER);
        duk_put_prop_literal(ctx, -2, "maxPart");
        duk_push_global_object(ctx);
        duk_call(ctx, 2);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, MODULE_KEY);
    }
    duk_remove(ctx, -2);
}

/* The bucket's methods before r2.js is loaded: the first call loads it, turns `this` (if it is a bucket
 * stand-in) into an R2Bucket, and calls the real method with the same arguments. */
static const char *const BUCKET_METHODS[] = {"head", "get", "put", "delete", "list", "createMultipartUpload",
                                             "resumeMultipartUpload"};

static duk_ret_t lazy_method(duk_context *ctx)
{
    const char *name = BUCKET_METHODS[duk_get_current_magic(ctx)];
    duk_idx_t nargs = duk_get_top(ctx);
    push_module(ctx);                                /* [args module] */
    duk_push_this(ctx);                              /* [args module this] */
    if (duk_is_object(ctx, -1) && duk_get_prop_literal(ctx, -1, HANDLE_KEY) && duk_is_pointer(ctx, -1)) {
        duk_get_prop_literal(ctx, -3, "adopt");
        duk_dup(ctx, -3);
        duk_dup(ctx, -3);
        duk_call(ctx, 2);
        duk_pop(ctx);
        duk_del_prop_literal(ctx, -2, HANDLE_KEY);
    }
    duk_pop(ctx);                                    /* [args module this] */
    duk_get_prop_literal(ctx, -2, "proto");
    duk_get_prop_string(ctx, -1, name);              /* [args module this proto fn] */
    duk_dup(ctx, -3);
    for (duk_idx_t i = 0; i < nargs; i++)
        duk_dup(ctx, i);
    duk_call_method(ctx, nargs);
    return 1;
}

static duk_ret_t illegal_constructor(duk_context *ctx)
{
    return duk_type_error(ctx, "Illegal constructor");
}

void ew__r2_push(duk_context *ctx, ew__res_store_t *rs)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, LAZY_PROTO_KEY)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        for (int i = 0; i < (int) (sizeof(BUCKET_METHODS) / sizeof(BUCKET_METHODS[0])); i++) {
            ew__method_t m[2] = {{BUCKET_METHODS[i], lazy_method, DUK_VARARGS, 1}, {NULL, NULL, 0, 0}};
            ew__def_methods(ctx, -1, m);
            duk_get_prop_string(ctx, -1, BUCKET_METHODS[i]);
            duk_set_magic(ctx, -1, i);
            duk_pop(ctx);
        }
        duk_push_c_function(ctx, illegal_constructor, 0);
        ew__def_hidden_value(ctx, -2, "constructor");
        duk_push_string(ctx, "R2Bucket");
        duk_push_global_object(ctx);
        duk_get_prop_literal(ctx, -1, "Symbol");
        duk_get_prop_literal(ctx, -1, "toStringTag");
        duk_remove(ctx, -2);
        duk_remove(ctx, -2);                         /* [stash proto "R2Bucket" @@toStringTag] */
        duk_swap_top(ctx, -2);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, LAZY_PROTO_KEY);
    }
    duk_remove(ctx, -2);
    duk_push_object(ctx);
    duk_insert(ctx, -2);
    duk_set_prototype(ctx, -2);
    duk_push_pointer(ctx, rs);
    duk_put_prop_literal(ctx, -2, HANDLE_KEY);
}
