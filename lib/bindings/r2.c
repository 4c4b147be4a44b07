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
 * get() reads the requested range of the body into an ArrayBuffer in one piece: a body is buffered in
 * memory while a script holds it (ReadableStream bodies come with the streams work).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "internal.h"
#include "js_bytecode.h"
#include "web/stream.h"

#define MODULE_KEY DUK_HIDDEN_SYMBOL("r2Module")

#define MAX_KEY 1024
#define MAX_LIST 1000
#define MIN_PART_SIZE (5u * 1024u * 1024u)
#define MAX_PART_NUMBER 10000

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

#define COLS "key, blob, version, size, etag, uploaded, checksums, http, custom, storage_class"
static const char SQL_HEAD[] = "SELECT " COLS " FROM objects WHERE key = ?1";
static const char SQL_PUT[] = "INSERT OR REPLACE INTO objects(" COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char SQL_CURRENT[] = "SELECT blob, etag, uploaded FROM objects WHERE key = ?1";
static const char SQL_DELETE[] = "DELETE FROM objects WHERE key = ?1";
static const char SQL_LIST[] = "SELECT " COLS " FROM objects WHERE key >= ?1 AND key > ?2 ORDER BY key";
static const char SQL_REFERENCED[] = "SELECT 1 FROM objects WHERE blob = ?1 UNION ALL SELECT 1 FROM parts WHERE blob = ?1";
static const char SQL_UPLOAD[] = "SELECT key, http, custom, storage_class, state FROM uploads WHERE upload_id = ?1";
static const char SQL_UPLOAD_NEW[] = "INSERT INTO uploads(upload_id, key, http, custom, storage_class, state) VALUES (?1, ?2, ?3, ?4, ?5, 0)";
static const char SQL_UPLOAD_STATE[] = "UPDATE uploads SET state = ?2 WHERE upload_id = ?1";
static const char SQL_PART_GET[] = "SELECT blob, size, etag FROM parts WHERE upload_id = ?1 AND part = ?2";
static const char SQL_PART_PUT[] = "INSERT OR REPLACE INTO parts(upload_id, part, blob, size, etag) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_PARTS_OF[] = "SELECT blob FROM parts WHERE upload_id = ?1";
static const char SQL_PARTS_DELETE[] = "DELETE FROM parts WHERE upload_id = ?1";

enum { UPLOAD_IN_PROGRESS = 0, UPLOAD_COMPLETED = 1, UPLOAD_ABORTED = 2 };

/* R2's error texts (the service's words, as workerd reports them: "<op>: <text> (<code>)"). */
#define E_INTERNAL "We encountered an internal error. Please try again. (10001)"
#define E_NAME "The specified object name is not valid. (10020)"
#define E_NO_UPLOAD "The specified multipart upload does not exist. (10024)"
#define E_PART "One or more of the specified parts could not be found. (10025)"
#define E_TOO_SMALL "Your proposed upload is smaller than the minimum allowed object size. (10011)"
#define E_BAD_UPLOAD "There was a problem with the multipart upload. (10048)"

static duk_ret_t r2_fail(duk_context *ctx, const char *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static duk_ret_t r2_fail(duk_context *ctx, const char *op, const char *fmt, ...)
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

static ew__res_store_t *bucket_arg(duk_context *ctx)
{
    ew__res_store_t *rs = duk_get_pointer(ctx, 0);
    if (rs == NULL || rs->r2 == NULL)
        (void) duk_type_error(ctx, "Illegal invocation");
    return rs;
}

/* The key at idx as UTF-8 (at most 1024 bytes, else R2's InvalidObjectName). */
static const char *key_arg(duk_context *ctx, duk_idx_t idx, const char *op, size_t *len)
{
    const char *k = ew__to_utf8(ctx, idx, len);
    if (*len > MAX_KEY)
        (void) r2_fail(ctx, op, E_NAME);
    return k;
}

/* Copies an optional string argument (NULL for undefined/null). Never throws; *oom set on failure. */
static char *dup_arg(duk_context *ctx, duk_idx_t idx, bool *oom)
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

static void read_barrier(ew__res_store_t *rs)
{
    if (ew__store_has_queued(rs->store))
        (void) ew__store_sync(rs->store); /* a failed group rejects its own promises; reads go on */
}

static sqlite3_stmt *stmt_or_throw(duk_context *ctx, ew__res_store_t *rs, const char *sql, const char *op)
{
    ew_error_t err;
    sqlite3_stmt *st = ew__store_stmt(rs->store, sql, &err);
    if (st == NULL)
        (void) r2_fail(ctx, op, "%s", err.message);
    return st;
}

/* ---------------------------------------------------------------------------------------------------------
 * Conditions (onlyIf), normalized by r2.js: {etagMatches: [[type, value]...], etagDoesNotMatch: [...],
 * uploadedBefore: ms, uploadedAfter: ms, secondsGranularity: bool}; type "*" (wildcard), "s" strong, "w" weak.
 * The test follows RFC 7232 section 6 as R2 applies it.
 */

typedef struct etag_cond {
    char type;
    char *value;   /* owned; NULL for "*" */
} etag_cond_t;

typedef struct r2_cond {
    bool present;
    etag_cond_t *match, *none;   /* owned arrays, NULL when absent */
    size_t nmatch, nnone;
    bool has_match, has_none, has_before, has_after, seconds;
    double before, after;        /* ms since the epoch */
} r2_cond_t;

static void cond_dispose(r2_cond_t *c)
{
    for (size_t i = 0; i < c->nmatch; i++)
        free(c->match[i].value);
    for (size_t i = 0; i < c->nnone; i++)
        free(c->none[i].value);
    free(c->match);
    free(c->none);
    memset(c, 0, sizeof(*c));
}

static bool read_etags(duk_context *ctx, duk_idx_t obj, const char *name, etag_cond_t **out, size_t *n, bool *has)
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
                (*out)[i].value = dup_arg(ctx, -1, &oom);
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
static void read_cond(duk_context *ctx, duk_idx_t idx, r2_cond_t *c)
{
    memset(c, 0, sizeof(*c));
    if (!duk_is_object(ctx, idx))
        return;
    c->present = true;
    bool ok = read_etags(ctx, idx, "etagMatches", &c->match, &c->nmatch, &c->has_match) &&
              read_etags(ctx, idx, "etagDoesNotMatch", &c->none, &c->nnone, &c->has_none);
    if (!ok) {
        cond_dispose(c);
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

static bool etag_listed(const etag_cond_t *l, size_t n, const char *etag, bool weak_ok)
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
static bool cond_test(const r2_cond_t *c, bool exists, const char *etag, double uploaded)
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

typedef struct r2_rec {
    char *key;                    /* owned, key_len bytes of UTF-8 */
    size_t key_len;
    char blob[EW__R2_ID_HEX + 1];
    char version[EW__R2_ID_HEX + 1];
    uint64_t size;
    char etag[48];
    double uploaded;              /* ms */
    char *checksums, *http, *custom, *storage_class;   /* owned JSON texts / string */
} r2_rec_t;

static void rec_dispose(r2_rec_t *r)
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

static const char *col_text(sqlite3_stmt *st, int i)
{
    const char *s = (const char *) sqlite3_column_text(st, i);
    return s ? s : "";
}

static void push_row(duk_context *ctx, sqlite3_stmt *st)
{
    push_record(ctx, sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), col_text(st, 1),
                col_text(st, 2), (double) sqlite3_column_int64(st, 3), col_text(st, 4),
                (double) sqlite3_column_int64(st, 5), col_text(st, 6), col_text(st, 7), col_text(st, 8),
                col_text(st, 9));
}

static void push_rec(duk_context *ctx, const r2_rec_t *r)
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
    const r2_cond_t *cond;
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
        return r2_fail(ctx, a->op, "%s", err.message);
    }
    push_row(ctx, a->st);
    if (a->cond != NULL &&
        !cond_test(a->cond, true, col_text(a->st, 4), (double) sqlite3_column_int64(a->st, 5))) {
        duk_push_true(ctx);
        duk_put_prop_literal(ctx, -2, "failed");
    }
    return 1;
}

/* head(h, key) -> record | null */
static duk_ret_t r2_head(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    size_t klen;
    const char *key = key_arg(ctx, 1, "head", &klen);
    read_barrier(rs);
    sqlite3_stmt *st = stmt_or_throw(ctx, rs, SQL_HEAD, "head");
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    struct lookup_args a = {rs, st, NULL, "head"};
    with_stmt(ctx, st, push_lookup, &a);
    return 1;
}

struct get_args {
    struct lookup_args l;
    r2_cond_t cond;
};

static duk_ret_t get_protected(duk_context *ctx, void *udata)
{
    struct get_args *g = udata;
    read_cond(ctx, 2, &g->cond);
    g->l.cond = &g->cond;
    with_stmt(ctx, g->l.st, push_lookup, &g->l);
    return 1;
}

/* get(h, key, cond) -> record (failed: true when cond does not hold) | null */
static duk_ret_t r2_get(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    size_t klen;
    const char *key = key_arg(ctx, 1, "get", &klen);
    read_barrier(rs);
    sqlite3_stmt *st = stmt_or_throw(ctx, rs, SQL_HEAD, "get");
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    struct get_args g = {{rs, st, NULL, "get"}, {0}};
    int rc = duk_safe_call(ctx, get_protected, &g, 0, 1);
    ew__store_release(st);
    cond_dispose(&g.cond);
    if (rc != DUK_EXEC_SUCCESS)
        return duk_throw(ctx);
    return 1;
}

/* Before a large allocation: garbage cycles (streams and their buffers are cyclic) are freed only by
 * mark-and-sweep, which the isolate's soft memory limit does not wait for. When the new block would take
 * the heap past half its limit, collect first, so that earlier bodies do not count against this one. */
static void make_room(duk_context *ctx, size_t n)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && iso->heap_limit != SIZE_MAX && n >= (64u << 10) && iso->heap_bytes + n > iso->heap_limit / 2)
        duk_gc(ctx, 0);
}

/* read(h, blob, offset, length) -> ArrayBuffer, or null when the body is gone (replaced meanwhile). */
static duk_ret_t r2_read(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    const char *blob = duk_require_string(ctx, 1);
    double off = duk_require_number(ctx, 2), len = duk_require_number(ctx, 3);
    if (off < 0 || len < 0 || len > (double) SIZE_MAX / 2)
        return duk_range_error(ctx, "invalid range");
    make_room(ctx, (size_t) len);
    int fd = ew__r2_blob_open(rs->r2, blob);
    if (fd < 0) {
        duk_push_null(ctx);
        return 1;
    }
    void *buf = duk_push_fixed_buffer(ctx, (duk_size_t) len); /* may throw: fd closed below on success only */
    bool ok = ew__r2_blob_pread(fd, buf, (size_t) len, (uint64_t) off);
    close(fd);
    if (!ok)
        return r2_fail(ctx, "get", E_INTERNAL);
    duk_push_buffer_object(ctx, -1, 0, (duk_size_t) len, DUK_BUFOBJ_ARRAYBUFFER);
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
            return r2_fail(ctx, "list", "out of memory");
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
        return r2_fail(ctx, "list", "%s", err.message);
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

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes a cursor into out (MAX_KEY + 1 bytes); returns its length, or 0 if it is not one of ours. */
static size_t decode_cursor(const char *s, size_t n, unsigned char *out)
{
    if (n == 0 || n % 2 != 0 || n / 2 > MAX_KEY + 1)
        return 0;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i / 2] = (unsigned char) (hi << 4 | lo);
    }
    return n / 2;
}

static duk_ret_t r2_list(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    struct list_args a = {rs, NULL, "", NULL, 0, 0, MAX_LIST, {NULL, 0, 0}};
    if (!duk_is_null_or_undefined(ctx, 1))
        a.prefix = ew__to_utf8(ctx, 1, &a.prefix_len);
    const char *after = "";
    size_t after_len = 0;
    unsigned char cursor[MAX_KEY + 1];
    if (!duk_is_null_or_undefined(ctx, 5)) {
        size_t n;
        const char *c = duk_require_lstring(ctx, 5, &n);
        if ((after_len = decode_cursor(c, n, cursor)) == 0)
            return r2_fail(ctx, "list", "The provided cursor is not valid: pass the cursor of a previous list() "
                                        "result. (10029)");
        after = (const char *) cursor;
    } else if (!duk_is_null_or_undefined(ctx, 2)) {
        after = ew__to_utf8(ctx, 2, &after_len);
    }
    a.limit = (uint32_t) duk_require_uint(ctx, 3);
    if (!duk_is_null_or_undefined(ctx, 4))
        a.delim = ew__to_utf8(ctx, 4, &a.delim_len);
    read_barrier(rs);
    a.st = stmt_or_throw(ctx, rs, SQL_LIST, "list");
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
 * Writes: ops queued for the group commit
 */

typedef enum op_kind { OP_PUT, OP_DELETE, OP_MP_CREATE, OP_MP_PART, OP_MP_ABORT, OP_MP_COMPLETE } op_kind_t;

static const char *const OP_NAMES[] = {"put", "delete", "createMultipartUpload", "uploadPart",
                                       "abortMultipartUpload", "completeMultipartUpload"};

typedef struct r2_op {
    ew__res_op_t base;            /* first: base.write.udata == this */
    op_kind_t kind;
    r2_rec_t rec;                 /* PUT, MP_COMPLETE: the new object; MP_CREATE: key and metadata */
    r2_cond_t cond;               /* PUT: onlyIf */
    char upload_id[EW__R2_ID_HEX + 1];   /* MP_* */
    int part;                     /* MP_PART: its number */
    char *part_etag;              /* MP_PART: owned */
    uint64_t part_size;           /* MP_PART */
    ew__buf_t keys;               /* DELETE: (uint32 length, bytes)...; MP_COMPLETE: (uint32 part, blob)... */
    ew__buf_t obsolete;           /* body files to unlink once committed: names, each NUL-terminated */
    const char *fail;             /* a logical failure found in apply: rejects with "<op>: <fail>" */
    bool skipped;                 /* PUT: the precondition did not hold (resolves null) */
    bool new_blob;                /* rec.blob is this op's file: unlinked unless committed */
} r2_op_t;

static ew__r2_dir_t *op_dir(r2_op_t *op)
{
    return op->base.rs->r2;
}

static void op_free(r2_op_t *op)
{
    rec_dispose(&op->rec);
    cond_dispose(&op->cond);
    free(op->part_etag);
    ew__buf_dispose(&op->keys);
    ew__buf_dispose(&op->obsolete);
    free(op);
}

/* Statement helper for apply: err set on failure. */
static sqlite3_stmt *stmt(ew__store_t *s, const char *sql, ew_error_t *err)
{
    return ew__store_stmt(s, sql, err);
}

static ew_status_t step_done(ew__store_t *s, sqlite3_stmt *st, ew_error_t *err)
{
    int rc = sqlite3_step(st);
    ew__store_release(st);
    return rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "writing", err);
}

static bool obsolete_add(r2_op_t *op, const char *name)
{
    return ew__buf_append(&op->obsolete, name, strlen(name) + 1);
}

/* Looks up the current object of key: *exists, and its blob (into blob_out), etag and uploaded. */
static ew_status_t current_object(ew__store_t *s, const char *key, size_t klen, bool *exists, char *blob_out,
                                  char *etag_out, double *uploaded, ew_error_t *err)
{
    sqlite3_stmt *st = stmt(s, SQL_CURRENT, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    if (*exists) {
        snprintf(blob_out, EW__R2_ID_HEX + 1, "%s", col_text(st, 0));
        snprintf(etag_out, 48, "%s", col_text(st, 1));
        *uploaded = (double) sqlite3_column_int64(st, 2);
    }
    ew__store_release(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "reading", err);
}

static ew_status_t insert_object(ew__store_t *s, const r2_rec_t *r, ew_error_t *err)
{
    sqlite3_stmt *st = stmt(s, SQL_PUT, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_blob64(st, 1, r->key, r->key_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->blob, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64) r->size);
    sqlite3_bind_text(st, 5, r->etag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64) r->uploaded);
    sqlite3_bind_text(st, 7, r->checksums, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, r->http, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, r->custom, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, r->storage_class, -1, SQLITE_STATIC);
    return step_done(s, st, err);
}

/* Replaces key's object with op->rec (after the precondition, for PUT). */
static ew_status_t apply_put(ew__store_t *s, r2_op_t *op, ew_error_t *err)
{
    bool exists;
    char old_blob[EW__R2_ID_HEX + 1], etag[48];
    double uploaded = 0;
    ew_status_t st = current_object(s, op->rec.key, op->rec.key_len, &exists, old_blob, etag, &uploaded, err);
    if (st != EW_OK)
        return st;
    if (op->kind == OP_PUT && !cond_test(&op->cond, exists, exists ? etag : "", uploaded)) {
        op->skipped = true;
        return EW_OK;
    }
    if ((st = insert_object(s, &op->rec, err)) != EW_OK)
        return st;
    if (exists && !obsolete_add(op, old_blob))
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    return EW_OK;
}

static ew_status_t apply_delete(ew__store_t *s, r2_op_t *op, ew_error_t *err)
{
    for (size_t off = 0; off < op->keys.len;) {
        uint32_t klen;
        memcpy(&klen, op->keys.data + off, sizeof(klen));
        const char *key = op->keys.data + off + sizeof(klen);
        off += sizeof(klen) + klen;
        bool exists;
        char old_blob[EW__R2_ID_HEX + 1], etag[48];
        double uploaded;
        ew_status_t st = current_object(s, key, klen, &exists, old_blob, etag, &uploaded, err);
        if (st != EW_OK)
            return st;
        if (!exists)
            continue;
        sqlite3_stmt *q = stmt(s, SQL_DELETE, err);
        if (q == NULL)
            return err->code;
        sqlite3_bind_blob64(q, 1, key, klen, SQLITE_STATIC);
        if ((st = step_done(s, q, err)) != EW_OK)
            return st;
        if (!obsolete_add(op, old_blob))
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    }
    return EW_OK;
}

/* The upload's state (-1: no such upload, or one for another key). */
static int upload_state(ew__store_t *s, const char *upload_id, const char *key, size_t klen, ew_error_t *err,
                        ew_status_t *status)
{
    *status = EW_OK;
    sqlite3_stmt *st = stmt(s, SQL_UPLOAD, err);
    if (st == NULL) {
        *status = err->code;
        return -1;
    }
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), state = -1;
    if (rc == SQLITE_ROW && (size_t) sqlite3_column_bytes(st, 0) == klen &&
        memcmp(sqlite3_column_blob(st, 0), key, klen) == 0)
        state = sqlite3_column_int(st, 4);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        *status = ew__store_error(s, rc, "reading", err);
    ew__store_release(st);
    return state;
}

static ew_status_t set_upload_state(ew__store_t *s, const char *upload_id, int state, ew_error_t *err)
{
    sqlite3_stmt *st = stmt(s, SQL_UPLOAD_STATE, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, state);
    return step_done(s, st, err);
}

/* Moves the names of the upload's part files to op->obsolete and deletes their rows. */
static ew_status_t drop_parts(ew__store_t *s, r2_op_t *op, ew_error_t *err)
{
    sqlite3_stmt *st = stmt(s, SQL_PARTS_OF, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, op->upload_id, -1, SQLITE_STATIC);
    int rc;
    bool ok = true;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ok = ok && obsolete_add(op, col_text(st, 0));
    ew__store_release(st);
    if (rc != SQLITE_DONE)
        return ew__store_error(s, rc, "reading", err);
    if (!ok)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    if ((st = stmt(s, SQL_PARTS_DELETE, err)) == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, op->upload_id, -1, SQLITE_STATIC);
    return step_done(s, st, err);
}

static ew_status_t apply_mp_create(ew__store_t *s, r2_op_t *op, ew_error_t *err)
{
    sqlite3_stmt *st = stmt(s, SQL_UPLOAD_NEW, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, op->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 2, op->rec.key, op->rec.key_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, op->rec.http, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, op->rec.custom, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, op->rec.storage_class, -1, SQLITE_STATIC);
    return step_done(s, st, err);
}

/* The blob of part `part` of the upload into out ("" when there is none). */
static ew_status_t part_blob(ew__store_t *s, const char *upload_id, int part, char *out, ew_error_t *err)
{
    sqlite3_stmt *st = stmt(s, SQL_PART_GET, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, part);
    int rc = sqlite3_step(st);
    snprintf(out, EW__R2_ID_HEX + 1, "%s", rc == SQLITE_ROW ? col_text(st, 0) : "");
    ew__store_release(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "reading", err);
}

static ew_status_t apply_mp_part(ew__store_t *s, r2_op_t *op, ew_error_t *err)
{
    ew_status_t st;
    if (upload_state(s, op->upload_id, op->rec.key, op->rec.key_len, err, &st) != UPLOAD_IN_PROGRESS) {
        op->fail = E_NO_UPLOAD;
        return st;
    }
    char old[EW__R2_ID_HEX + 1];
    if ((st = part_blob(s, op->upload_id, op->part, old, err)) != EW_OK)
        return st;
    sqlite3_stmt *q = stmt(s, SQL_PART_PUT, err);
    if (q == NULL)
        return err->code;
    sqlite3_bind_text(q, 1, op->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, op->part);
    sqlite3_bind_text(q, 3, op->rec.blob, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (sqlite3_int64) op->part_size);
    sqlite3_bind_text(q, 5, op->part_etag, -1, SQLITE_STATIC);
    if ((st = step_done(s, q, err)) != EW_OK)
        return st;
    if (old[0] != '\0' && !obsolete_add(op, old))
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    return EW_OK;
}

static ew_status_t apply_mp_abort(ew__store_t *s, r2_op_t *op, ew_error_t *err)
{
    ew_status_t st;
    int state = upload_state(s, op->upload_id, op->rec.key, op->rec.key_len, err, &st);
    if (st != EW_OK)
        return st;
    if (state < 0) {
        op->fail = E_NO_UPLOAD;
        return EW_OK;
    }
    if (state != UPLOAD_IN_PROGRESS)
        return EW_OK; /* completed or aborted already: nothing to do */
    if ((st = set_upload_state(s, op->upload_id, UPLOAD_ABORTED, err)) != EW_OK)
        return st;
    return drop_parts(s, op, err);
}

static ew_status_t apply_mp_complete(ew__store_t *s, r2_op_t *op, ew_error_t *err)
{
    ew_status_t st;
    if (upload_state(s, op->upload_id, op->rec.key, op->rec.key_len, err, &st) != UPLOAD_IN_PROGRESS) {
        op->fail = E_NO_UPLOAD;
        return st;
    }
    /* The parts must still be the ones concatenated at the call (an uploadPart may have replaced one). */
    for (size_t off = 0; off < op->keys.len; off += sizeof(int) + EW__R2_ID_HEX + 1) {
        int part;
        memcpy(&part, op->keys.data + off, sizeof(part));
        char now[EW__R2_ID_HEX + 1];
        if ((st = part_blob(s, op->upload_id, part, now, err)) != EW_OK)
            return st;
        if (strcmp(now, op->keys.data + off + sizeof(int)) != 0) {
            op->fail = E_PART;
            return EW_OK;
        }
    }
    if ((st = apply_put(s, op, err)) != EW_OK || (st = set_upload_state(s, op->upload_id, UPLOAD_COMPLETED, err)) != EW_OK)
        return st;
    return drop_parts(s, op, err);
}

static ew_status_t op_apply(ew__store_t *s, ew__store_write_t *w, ew_error_t *err)
{
    r2_op_t *op = w->udata;
    op->fail = NULL;
    op->skipped = false;
    op->obsolete.len = 0;
    switch (op->kind) {
    case OP_PUT:
        return apply_put(s, op, err);
    case OP_DELETE:
        return apply_delete(s, op, err);
    case OP_MP_CREATE:
        return apply_mp_create(s, op, err);
    case OP_MP_PART:
        return apply_mp_part(s, op, err);
    case OP_MP_ABORT:
        return apply_mp_abort(s, op, err);
    case OP_MP_COMPLETE:
        return apply_mp_complete(s, op, err);
    }
    return EW_OK;
}

static void push_op_result(duk_context *ctx, ew__res_op_t *base)
{
    r2_op_t *op = (r2_op_t *) base;
    switch (op->kind) {
    case OP_PUT:
    case OP_MP_COMPLETE:
        if (op->skipped)
            duk_push_null(ctx);
        else
            push_rec(ctx, &op->rec);
        break;
    case OP_MP_CREATE:
        duk_push_string(ctx, op->upload_id);
        break;
    case OP_MP_PART:
        duk_push_object(ctx);
        duk_push_int(ctx, op->part);
        duk_put_prop_literal(ctx, -2, "partNumber");
        duk_push_string(ctx, op->part_etag);
        duk_put_prop_literal(ctx, -2, "etag");
        break;
    default:
        duk_push_undefined(ctx);
        break;
    }
}

static void op_done(ew__store_write_t *w, ew_status_t status, const char *message)
{
    r2_op_t *op = w->udata;
    ew__r2_dir_t *dir = op_dir(op);
    bool committed = status == EW_OK && op->fail == NULL && !op->skipped;
    if (op->new_blob && !committed)
        ew__r2_blob_unlink(dir, op->rec.blob);
    if (committed)
        for (size_t off = 0; off < op->obsolete.len; off += strlen(op->obsolete.data + off) + 1)
            ew__r2_blob_unlink(dir, op->obsolete.data + off);
    char msg[1200];
    if (status != EW_OK)
        snprintf(msg, sizeof(msg), "%s: %s", OP_NAMES[op->kind], message);
    else if (op->fail != NULL)
        snprintf(msg, sizeof(msg), "%s: %s", OP_NAMES[op->kind], op->fail);
    ew__res_op_settle(&op->base, status != EW_OK ? status : op->fail ? EW_ERR_INVALID_ARG : EW_OK, msg);
    op_free(op);
}

static r2_op_t *op_new(ew__res_store_t *rs, op_kind_t kind)
{
    r2_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return NULL;
    op->base.rs = rs;
    op->base.write.apply = op_apply;
    op->base.write.done = op_done;
    op->base.write.udata = op;
    op->base.push_result = push_op_result;
    op->kind = kind;
    ew__buf_init(&op->keys);
    ew__buf_init(&op->obsolete);
    return op;
}

struct pending_args {
    ew__res_cache_t *cache;
    uint32_t id;
};

static duk_ret_t push_pending_protected(duk_context *ctx, void *udata)
{
    struct pending_args *p = udata;
    p->id = ew__res_push_pending(ctx, p->cache);
    return 1;
}

/* Pushes the promise of op and queues it. If that fails (allocation), frees the op (and its new body
 * file) and throws. */
static duk_ret_t queue_op(duk_context *ctx, ew__res_store_t *rs, r2_op_t *op)
{
    struct pending_args p = {rs->cache, 0};
    if (duk_safe_call(ctx, push_pending_protected, &p, 0, 1) != DUK_EXEC_SUCCESS) {
        if (op->new_blob)
            ew__r2_blob_unlink(rs->r2, op->rec.blob);
        op_free(op);
        return duk_throw(ctx);
    }
    ew__res_op_start(ctx, &op->base, p.id);
    ew__store_queue(rs->store, &op->base.write);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * put, delete
 */

/* The body argument at idx: string (UTF-8), ArrayBuffer / view (bytes), null/undefined (empty). */
static const void *body_arg(duk_context *ctx, duk_idx_t idx, size_t *len)
{
    if (duk_is_null_or_undefined(ctx, idx)) {
        *len = 0;
        return "";
    }
    if (duk_is_buffer_data(ctx, idx)) {
        duk_size_t n;
        const void *p = duk_get_buffer_data(ctx, idx, &n);
        *len = n;
        return p ? p : "";
    }
    return ew__to_utf8(ctx, idx, len);
}

/* Writes a body to a new file: w->name, w->size and the digests (MD5 + `hashes`) are set on success. */
static void write_body(duk_context *ctx, ew__res_store_t *rs, ew__r2_writer_t *w, const void *p, size_t n,
                       unsigned hashes, const char *op)
{
    ew_error_t err;
    ew_status_t st = ew__r2_blob_begin(rs->r2, w, hashes, &err);
    if (st == EW_OK && (st = ew__r2_blob_write(rs->r2, w, p, n, &err)) != EW_OK)
        ew__r2_blob_abort(rs->r2, w);
    if (st == EW_OK)
        st = ew__r2_blob_commit(rs->r2, w, &err);
    if (st != EW_OK)
        (void) r2_fail(ctx, op, "%s", err.message);
}

/* Fills the common fields of a new object record (key copy, blob, version, uploaded). False on OOM. */
static bool rec_init(ew__res_store_t *rs, r2_rec_t *r, const char *key, size_t klen, const char *blob)
{
    r->key = malloc(klen + 1);
    if (r->key == NULL)
        return false;
    memcpy(r->key, key, klen);
    r->key[klen] = '\0';
    r->key_len = klen;
    snprintf(r->blob, sizeof(r->blob), "%s", blob);
    ew__r2_random_hex(r->version, EW__R2_ID_HEX / 2);
    r->uploaded = floor(rs->cache->now() * 1000);
    return true;
}

/* A put in progress: the op to queue, the body file being written, the digests to check. Puts of a
 * ReadableStream that is not just bytes in memory stay here while its chunks arrive (listed on the bucket so
 * that a runtime going away frees them). */
typedef struct put_job {
    ew__res_store_t *rs;
    r2_op_t *op;
    ew__r2_writer_t w;
    bool begun, written;          /* the temporary file exists / the body file is committed */
    unsigned wanted;              /* digests asked for (bits, as ew__r2_hash_t.wanted) */
    char expected[EW__R2_NHASH][129];
    ew__stream_reader_t *reader;  /* stream puts */
    struct event *next_read;      /* stream puts: runs pump from the loop (owned) */
    bool sync, again, ended;      /* pump's trampoline (see pump); the stream ended or errored */
    char fail[600];               /* why the put fails ("" while it does not) */
    struct put_job *next;         /* in rs->r2->streaming */
} put_job_t;

static const char *const HASH_FIELDS[EW__R2_NHASH] = {"md5", "sha1", "sha256", "sha384", "sha512"};

/* Reads put()'s arguments into the job: key, expected digests, metadata, condition. May throw. */
static void put_prepare(duk_context *ctx, put_job_t *j)
{
    r2_op_t *op = j->op;
    size_t klen;
    const char *key = key_arg(ctx, 1, "put", &klen);
    for (int i = 0; i < EW__R2_NHASH && duk_is_object(ctx, 6); i++) {
        if (duk_get_prop_string(ctx, 6, HASH_FIELDS[i]) && duk_is_string(ctx, -1)) {
            snprintf(j->expected[i], sizeof(j->expected[i]), "%s", duk_get_string(ctx, -1));
            j->wanted |= 1u << i;
        }
        duk_pop(ctx);
    }
    read_cond(ctx, 7, &op->cond);
    bool oom = !rec_init(j->rs, &op->rec, key, klen, "");
    op->rec.http = dup_arg(ctx, 3, &oom);
    op->rec.custom = dup_arg(ctx, 4, &oom);
    op->rec.storage_class = dup_arg(ctx, 5, &oom);
    if (oom || op->rec.http == NULL || op->rec.custom == NULL || op->rec.storage_class == NULL)
        (void) r2_fail(ctx, "put", "out of memory");
}

/* After the body file is committed: checks the digests and completes the record. Returns NULL, or the
 * message put rejects with (written to msg). Never throws. */
static const char *put_finish(put_job_t *j, char *msg, size_t n)
{
    r2_op_t *op = j->op;
    const ew__r2_hash_t *h = &j->w.hash;
    for (int i = 0; i < EW__R2_NHASH; i++) {
        if ((j->wanted & (1u << i)) && strcmp(j->expected[i], h->hex[i]) != 0) {
            snprintf(msg, n,
                     "The %s checksum you specified did not match what we received.\n"
                     "You provided a %s checksum with value: %s\nActual %s was: %s (10037)",
                     ew__r2_hash_name(i), ew__r2_hash_name(i), j->expected[i], ew__r2_hash_name(i), h->hex[i]);
            return msg;
        }
    }
    snprintf(op->rec.blob, sizeof(op->rec.blob), "%s", j->w.name);
    op->new_blob = true;
    op->rec.size = j->w.size;
    snprintf(op->rec.etag, sizeof(op->rec.etag), "%.32s", h->hex[0]);
    ew__buf_t js;
    ew__buf_init(&js);
    bool ok = ew__buf_append(&js, "{", 1);
    for (int i = 0; i < EW__R2_NHASH && ok; i++) {
        if (!(h->wanted & (1u << i)))
            continue;
        char item[160];
        int k = snprintf(item, sizeof(item), "%s\"%s\":\"%s\"", js.len > 1 ? "," : "", HASH_FIELDS[i], h->hex[i]);
        ok = ew__buf_append(&js, item, (size_t) k);
    }
    ok = ok && ew__buf_append(&js, "}", 1);
    op->rec.checksums = js.data;
    return ok ? NULL : "out of memory";
}

/* Frees a job. While it still holds its op (not queued), nothing of the put may remain: the body file goes
 * too. Once the op is queued, the file is the op's. */
static void put_job_free(put_job_t *j)
{
    if (j->next_read != NULL)
        event_free(j->next_read);
    if (j->op != NULL) {
        if (j->begun && !j->written)
            ew__r2_blob_abort(j->rs->r2, &j->w);
        else if (j->written)
            ew__r2_blob_unlink(j->rs->r2, j->w.name);
        op_free(j->op);
    }
    free(j);
}

/* Safe-call body of a put of bytes: everything up to a committed body file and a complete record. */
static duk_ret_t put_bytes_protected(duk_context *ctx, void *udata)
{
    put_job_t *j = udata;
    put_prepare(ctx, j);
    size_t vlen;
    const void *value = body_arg(ctx, 2, &vlen);
    make_room(ctx, vlen); /* the body is in the heap already: collect what earlier ones left */
    ew_error_t err;
    ew_status_t st = ew__r2_blob_begin(j->rs->r2, &j->w, j->wanted, &err);
    j->begun = st == EW_OK;
    if (st == EW_OK)
        st = ew__r2_blob_write(j->rs->r2, &j->w, value, vlen, &err);
    if (st == EW_OK && (st = ew__r2_blob_commit(j->rs->r2, &j->w, &err)) == EW_OK)
        j->written = true;
    if (st != EW_OK)
        return r2_fail(ctx, "put", "%s", err.message);
    char msg[700];
    const char *why = put_finish(j, msg, sizeof(msg));
    if (why != NULL)
        return r2_fail(ctx, "put", "%s", why);
    return 0;
}

/* --- puts of a stream: its chunks go to the file as they come, the op is queued at its end --- */

static void stream_put_unlink(put_job_t *j)
{
    for (put_job_t **p = (put_job_t **) &j->rs->r2->streaming; *p != NULL; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            break;
        }
    }
}

/* Ends a stream put from the loop: queues its op (msg NULL) or settles its promise with "put: msg"; frees
 * the job. */
static void stream_put_end(put_job_t *j, const char *msg)
{
    stream_put_unlink(j);
    ew__stream_reader_close(j->reader);
    j->reader = NULL;
    if (msg == NULL) {
        r2_op_t *op = j->op;
        j->op = NULL;
        ew__store_queue(j->rs->store, &op->base.write);
    } else {
        char full[800];
        snprintf(full, sizeof(full), "put: %s", msg);
        ew__res_op_settle(&j->op->base, EW_ERR_IO, full);
    }
    put_job_free(j);
}

/* The reader's callback. It may run inside any JavaScript of the isolate (a coroutine writing to the
 * stream, a microtask), where entering the isolate again is not possible: so it only writes the chunk to
 * the file (C only) and records what happened; pump(), from the event loop, does the rest. */
static void on_stream_event(duk_context *ctx, void *udata, ew__stream_event_t ev, const void *data, size_t len)
{
    put_job_t *j = udata;
    ew_error_t err;
    if (ev == EW__STREAM_CHUNK) {
        if (ctx != NULL)
            make_room(ctx, len); /* chunks a stream is done with wait for mark-and-sweep (cycles) */
        if (j->fail[0] == '\0' && ew__r2_blob_write(j->rs->r2, &j->w, data, len, &err) != EW_OK)
            snprintf(j->fail, sizeof(j->fail), "%.500s", err.message);
    } else if (ev == EW__STREAM_ERROR) {
        const char *m = "the stream's isolate went away";
        if (ctx != NULL) {
            duk_dup_top(ctx);
            m = duk_safe_to_string(ctx, -1);
        }
        if (j->fail[0] == '\0')
            snprintf(j->fail, sizeof(j->fail), "%s", m);
        if (ctx != NULL)
            duk_pop(ctx);
        j->ended = true;
    } else {
        j->ended = true;
    }
    if (j->sync)
        j->again = true;
    else
        event_active(j->next_read, EV_TIMEOUT, 1);
}

/* From the event loop: reads chunks while they arrive at once (a chunk delivered during the read sets
 * `again`); a later one schedules pump again. At the end, commits the file and queues the op. */
static void pump(put_job_t *j)
{
    for (;;) {
        if (j->ended || j->fail[0] != '\0') {
            char msg[700];
            ew_error_t err;
            const char *why = j->fail[0] != '\0' ? j->fail : NULL;
            if (why == NULL && ew__r2_blob_commit(j->rs->r2, &j->w, &err) != EW_OK) {
                j->begun = false; /* commit removed the temporary file */
                snprintf(msg, sizeof(msg), "%.600s", err.message);
                why = msg;
            } else if (why == NULL) {
                j->written = true;
                why = put_finish(j, msg, sizeof(msg));
            }
            stream_put_end(j, why);
            return;
        }
        j->sync = true;
        j->again = false;
        (void) ew__stream_reader_read(j->reader, on_stream_event, j);
        j->sync = false;
        if (!j->again)
            return;
    }
}

static void on_next_read(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    pump(arg);
}

/* Safe-call body of a put of a stream: arguments, the file, the reader. */
static duk_ret_t put_stream_protected(duk_context *ctx, void *udata)
{
    put_job_t *j = udata;
    put_prepare(ctx, j);
    if (ew__stream_is_disturbed(ctx, 2))
        return duk_type_error(ctx, "This ReadableStream is disturbed (has already been read from), and cannot "
                                   "be used as a body.");
    ew_error_t err;
    if (ew__r2_blob_begin(j->rs->r2, &j->w, j->wanted, &err) != EW_OK)
        return r2_fail(ctx, "put", "%s", err.message);
    j->begun = true;
    ew__isolate_t *iso = ew__isolate_of(ctx);
    j->next_read = event_new(iso->rt->base, -1, 0, on_next_read, j);
    if (j->next_read == NULL || (j->reader = ew__stream_reader_open(ctx, 2)) == NULL)
        return r2_fail(ctx, "put", "out of memory");
    return 0;
}

/* put(h, key, value, httpJSON, customJSON, storageClass, hashes, cond) -> Promise<record | null>
 * value: string, buffer, null, or a ReadableStream (read to the file chunk by chunk). */
static duk_ret_t r2_put(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    bool stream = ew__stream_is_readable(ctx, 2);
    if (stream && ew__stream_push_bytes(ctx, 2, true)) { /* a stream of bytes in memory: take them */
        duk_replace(ctx, 2);
        stream = false;
    }
    put_job_t *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->op = op_new(rs, OP_PUT)) == NULL) {
        free(j);
        return r2_fail(ctx, "put", "out of memory");
    }
    j->rs = rs;
    if (duk_safe_call(ctx, stream ? put_stream_protected : put_bytes_protected, j, 0, 1) != DUK_EXEC_SUCCESS) {
        if (j->reader != NULL)
            ew__stream_reader_close(j->reader);
        put_job_free(j);
        return duk_throw(ctx);
    }
    duk_pop(ctx);
    r2_op_t *op = j->op;
    if (!stream) {
        free(j); /* the op owns the file now */
        return queue_op(ctx, rs, op);
    }
    struct pending_args p = {rs->cache, 0};
    if (duk_safe_call(ctx, push_pending_protected, &p, 0, 1) != DUK_EXEC_SUCCESS) {
        ew__stream_reader_close(j->reader);
        put_job_free(j);
        return duk_throw(ctx);
    }
    ew__res_op_start(ctx, &op->base, p.id);
    j->next = rs->r2->streaming;
    rs->r2->streaming = j;
    event_active(j->next_read, EV_TIMEOUT, 1); /* reading starts from the loop, outside this call */
    return 1;
}

/* delete(h, keys[]) -> Promise<undefined> */
static duk_ret_t r2_delete(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    duk_size_t n = duk_get_length(ctx, 1);
    for (duk_size_t i = 0; i < n; i++) { /* check every key before anything is allocated */
        duk_get_prop_index(ctx, 1, (duk_uarridx_t) i);
        size_t klen;
        (void) key_arg(ctx, -1, "delete", &klen);
        duk_pop(ctx);
    }
    r2_op_t *op = op_new(rs, OP_DELETE);
    if (op == NULL)
        return r2_fail(ctx, "delete", "out of memory");
    bool ok = true;
    for (duk_size_t i = 0; i < n && ok; i++) {
        duk_get_prop_index(ctx, 1, (duk_uarridx_t) i);
        size_t klen;
        const char *k = ew__to_utf8(ctx, -1, &klen); /* strings already (r2.js), so no throw */
        uint32_t l = (uint32_t) klen;
        ok = ew__buf_append(&op->keys, &l, sizeof(l)) && ew__buf_append(&op->keys, k, klen);
        duk_pop(ctx);
    }
    if (!ok) {
        op_free(op);
        return r2_fail(ctx, "delete", "out of memory");
    }
    return queue_op(ctx, rs, op);
}

/* ---------------------------------------------------------------------------------------------------------
 * Multipart uploads. Parts are body files of their own; completing concatenates them (in part-number
 * order) into the object's file, and the parts' files go once that commit is on disk.
 */

/* At call time: the upload's row must exist for this key and be in progress. Copies its metadata into
 * rec when rec is not NULL. Throws "<op>: ... (10024)" otherwise. */
static void require_upload(duk_context *ctx, ew__res_store_t *rs, const char *op, const char *upload_id,
                           const char *key, size_t klen, r2_rec_t *rec, bool *oom)
{
    read_barrier(rs);
    sqlite3_stmt *st = stmt_or_throw(ctx, rs, SQL_UPLOAD, op);
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_ROW && sqlite3_column_int(st, 4) == UPLOAD_IN_PROGRESS &&
              (size_t) sqlite3_column_bytes(st, 0) == klen && memcmp(sqlite3_column_blob(st, 0), key, klen) == 0;
    if (ok && rec != NULL) {
        rec->http = strdup(col_text(st, 1));
        rec->custom = strdup(col_text(st, 2));
        rec->storage_class = strdup(col_text(st, 3));
        *oom = rec->http == NULL || rec->custom == NULL || rec->storage_class == NULL;
    }
    ew__store_release(st);
    if (!ok)
        (void) r2_fail(ctx, op, E_NO_UPLOAD);
}

/* mpCreate(h, key, httpJSON, customJSON, storageClass) -> Promise<uploadId> */
static duk_ret_t r2_mp_create(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    size_t klen;
    const char *key = key_arg(ctx, 1, "createMultipartUpload", &klen);
    for (duk_idx_t i = 2; i <= 4; i++)
        (void) duk_require_string(ctx, i); /* so that dup_arg cannot throw below */
    r2_op_t *op = op_new(rs, OP_MP_CREATE);
    bool oom = op == NULL;
    if (!oom) {
        oom = !rec_init(rs, &op->rec, key, klen, "");
        op->rec.http = dup_arg(ctx, 2, &oom);
        op->rec.custom = dup_arg(ctx, 3, &oom);
        op->rec.storage_class = dup_arg(ctx, 4, &oom);
        ew__r2_random_hex(op->upload_id, EW__R2_ID_HEX / 2);
    }
    if (oom) {
        if (op != NULL)
            op_free(op);
        return r2_fail(ctx, "createMultipartUpload", "out of memory");
    }
    return queue_op(ctx, rs, op);
}

struct part_args {
    ew__res_store_t *rs;
    r2_op_t *op;
    ew__r2_writer_t w;
    bool written;
};

static duk_ret_t part_protected(duk_context *ctx, void *udata)
{
    struct part_args *a = udata;
    size_t klen, vlen;
    const char *key = key_arg(ctx, 1, "uploadPart", &klen);
    const char *upload_id = duk_require_string(ctx, 2);
    bool oom = false;
    require_upload(ctx, a->rs, "uploadPart", upload_id, key, klen, NULL, &oom);
    const void *value = body_arg(ctx, 4, &vlen);
    make_room(ctx, vlen);
    write_body(ctx, a->rs, &a->w, value, vlen, 0, "uploadPart");
    a->written = true;
    r2_op_t *op = a->op;
    if (!rec_init(a->rs, &op->rec, key, klen, a->w.name) || (op->part_etag = strdup(a->w.hash.hex[0])) == NULL)
        return r2_fail(ctx, "uploadPart", "out of memory");
    op->new_blob = true;
    op->part_size = a->w.size;
    snprintf(op->upload_id, sizeof(op->upload_id), "%s", upload_id);
    return 0;
}

/* mpPart(h, key, uploadId, partNumber, value) -> Promise<{partNumber, etag}> */
static duk_ret_t r2_mp_part(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    struct part_args a = {.rs = rs, .op = op_new(rs, OP_MP_PART)};
    if (a.op == NULL)
        return r2_fail(ctx, "uploadPart", "out of memory");
    a.op->part = duk_require_int(ctx, 3);
    if (duk_safe_call(ctx, part_protected, &a, 0, 1) != DUK_EXEC_SUCCESS) {
        if (a.written)
            ew__r2_blob_unlink(rs->r2, a.w.name);
        op_free(a.op);
        return duk_throw(ctx);
    }
    duk_pop(ctx);
    return queue_op(ctx, rs, a.op);
}

/* mpAbort(h, key, uploadId) -> Promise<undefined> */
static duk_ret_t r2_mp_abort(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    size_t klen;
    const char *key = key_arg(ctx, 1, "abortMultipartUpload", &klen);
    const char *upload_id = duk_require_string(ctx, 2);
    r2_op_t *op = op_new(rs, OP_MP_ABORT);
    if (op == NULL || !rec_init(rs, &op->rec, key, klen, "")) {
        if (op != NULL)
            op_free(op);
        return r2_fail(ctx, "abortMultipartUpload", "out of memory");
    }
    snprintf(op->upload_id, sizeof(op->upload_id), "%.*s", EW__R2_ID_HEX, upload_id);
    return queue_op(ctx, rs, op);
}

typedef struct chosen_part {
    int number;
    uint64_t size;
    char blob[EW__R2_ID_HEX + 1];
    unsigned char md5[16];
} chosen_part_t;

static int by_number(const void *x, const void *y)
{
    const chosen_part_t *a = x, *b = y;
    return (a->number > b->number) - (a->number < b->number);
}

struct complete_args {
    ew__res_store_t *rs;
    r2_op_t *op;
    chosen_part_t *parts;         /* owned */
    size_t nparts;
    ew__r2_writer_t w;
    bool writing, written;
};

/* Looks up the chosen parts (in argument order) and checks R2's rules on them. */
static void complete_check_parts(duk_context *ctx, struct complete_args *a, const char *upload_id)
{
    const char *op = "completeMultipartUpload";
    for (size_t i = 0; i < a->nparts; i++) {
        duk_get_prop_index(ctx, 3, (duk_uarridx_t) i);
        duk_get_prop_index(ctx, -1, 0);
        duk_get_prop_index(ctx, -2, 1);
        a->parts[i].number = duk_to_int(ctx, -2);
        const char *etag = duk_to_string(ctx, -1);
        for (size_t j = 0; j < i; j++)
            if (a->parts[j].number == a->parts[i].number)
                (void) r2_fail(ctx, op, E_INTERNAL);
        sqlite3_stmt *st = stmt_or_throw(ctx, a->rs, SQL_PART_GET, op);
        sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, a->parts[i].number);
        bool found = sqlite3_step(st) == SQLITE_ROW && strcmp(col_text(st, 2), etag) == 0;
        if (found) {
            snprintf(a->parts[i].blob, sizeof(a->parts[i].blob), "%s", col_text(st, 0));
            a->parts[i].size = (uint64_t) sqlite3_column_int64(st, 1);
            for (int b = 0; b < 16; b++)
                a->parts[i].md5[b] = (unsigned char) (hexval(etag[2 * b]) << 4 | hexval(etag[2 * b + 1]));
        }
        ew__store_release(st);
        if (!found)
            (void) r2_fail(ctx, op, E_PART);
        duk_pop_3(ctx);
    }
    for (size_t i = 0; i + 1 < a->nparts; i++)
        if (a->parts[i].size < MIN_PART_SIZE)
            (void) r2_fail(ctx, op, E_TOO_SMALL);
    qsort(a->parts, a->nparts, sizeof(*a->parts), by_number);
    for (size_t i = 0; i + 1 < a->nparts; i++)
        if (a->parts[i].size != a->parts[0].size)
            (void) r2_fail(ctx, op, E_BAD_UPLOAD);
    if (a->nparts > 1 && a->parts[a->nparts - 1].size > a->parts[0].size)
        (void) r2_fail(ctx, op, E_BAD_UPLOAD);
}

static duk_ret_t complete_protected(duk_context *ctx, void *udata)
{
    struct complete_args *a = udata;
    const char *op_name = "completeMultipartUpload";
    size_t klen;
    const char *key = key_arg(ctx, 1, op_name, &klen);
    const char *upload_id = duk_require_string(ctx, 2);
    r2_op_t *op = a->op;
    bool oom = false;
    require_upload(ctx, a->rs, op_name, upload_id, key, klen, &op->rec, &oom);
    a->nparts = duk_get_length(ctx, 3);
    if (a->nparts == 0)
        return r2_fail(ctx, op_name, E_BAD_UPLOAD);
    if (oom || (a->parts = calloc(a->nparts, sizeof(*a->parts))) == NULL)
        return r2_fail(ctx, op_name, "out of memory");
    complete_check_parts(ctx, a, upload_id);
    /* Concatenate; the etag is the MD5 of the parts' MD5s, then "-<count>". */
    ew_error_t err;
    if (ew__r2_blob_begin(a->rs->r2, &a->w, 0, &err) != EW_OK)
        return r2_fail(ctx, op_name, "%s", err.message);
    a->writing = true;
    ew__r2_hash_t etag;
    if (!ew__r2_hash_start(&etag, 1))
        return r2_fail(ctx, op_name, "out of memory");
    ew_status_t st = EW_OK;
    for (size_t i = 0; i < a->nparts && st == EW_OK; i++) {
        ew__r2_hash_update(&etag, a->parts[i].md5, 16);
        st = ew__r2_blob_append_file(a->rs->r2, &a->w, a->parts[i].blob, &err);
        oom = oom || !ew__buf_append(&op->keys, &a->parts[i].number, sizeof(int)) ||
              !ew__buf_append(&op->keys, a->parts[i].blob, EW__R2_ID_HEX + 1);
    }
    ew__r2_hash_finish(&etag);
    if (st != EW_OK)
        return r2_fail(ctx, op_name, "%s", err.message);
    a->writing = false;
    if (ew__r2_blob_commit(a->rs->r2, &a->w, &err) != EW_OK)
        return r2_fail(ctx, op_name, "%s", err.message);
    a->written = true;
    if (oom || !rec_init(a->rs, &op->rec, key, klen, a->w.name) || (op->rec.checksums = strdup("{}")) == NULL)
        return r2_fail(ctx, op_name, "out of memory");
    op->new_blob = true;
    op->rec.size = a->w.size;
    snprintf(op->rec.etag, sizeof(op->rec.etag), "%.32s-%zu", etag.hex[0], a->nparts);
    snprintf(op->upload_id, sizeof(op->upload_id), "%s", upload_id);
    return 0;
}

/* mpComplete(h, key, uploadId, [[partNumber, etag], ...]) -> Promise<record> */
static duk_ret_t r2_mp_complete(duk_context *ctx)
{
    ew__res_store_t *rs = bucket_arg(ctx);
    struct complete_args a = {.rs = rs, .op = op_new(rs, OP_MP_COMPLETE)};
    if (a.op == NULL)
        return r2_fail(ctx, "completeMultipartUpload", "out of memory");
    int rc = duk_safe_call(ctx, complete_protected, &a, 0, 1);
    free(a.parts);
    if (rc != DUK_EXEC_SUCCESS) {
        if (a.writing)
            ew__r2_blob_abort(rs->r2, &a.w);
        if (a.written)
            ew__r2_blob_unlink(rs->r2, a.w.name);
        op_free(a.op);
        return duk_throw(ctx);
    }
    duk_pop(ctx);
    return queue_op(ctx, rs, a.op);
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
    while (rs->r2->streaming != NULL) { /* puts whose stream never ended (their isolate went away) */
        put_job_t *j = rs->r2->streaming;
        rs->r2->streaming = j->next;
        ew__stream_reader_close(j->reader);
        put_job_free(j);
    }
    ew__r2_dir_close(rs->r2);
    free(rs->r2);
    rs->r2 = NULL;
}

static const ew__method_t natives[] = {
    {"head", r2_head, 2, 2},
    {"get", r2_get, 3, 3},
    {"read", r2_read, 4, 4},
    {"put", r2_put, 8, 8},
    {"del", r2_delete, 2, 2},
    {"list", r2_list, 6, 6},
    {"mpCreate", r2_mp_create, 5, 5},
    {"mpPart", r2_mp_part, 5, 5},
    {"mpAbort", r2_mp_abort, 3, 3},
    {"mpComplete", r2_mp_complete, 4, 4},
    {NULL, NULL, 0, 0},
};

void ew__r2_push(duk_context *ctx, ew__res_store_t *rs)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, MODULE_KEY)) {
        duk_pop(ctx);
        duk_push_external_buffer(ctx);
        duk_config_buffer(ctx, -1, (void *) ew__js_r2, ew__js_r2_len);
        duk_load_function(ctx);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, natives);
        duk_push_int(ctx, MAX_LIST);
        duk_put_prop_literal(ctx, -2, "maxList");
        duk_push_int(ctx, MAX_PART_NUMBER);
        duk_put_prop_literal(ctx, -2, "maxPart");
        duk_push_global_object(ctx);
        duk_call(ctx, 2);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, MODULE_KEY);
    }
    duk_remove(ctx, -2);
    duk_get_prop_literal(ctx, -1, "bucket");
    duk_remove(ctx, -2);
    duk_push_pointer(ctx, rs);
    duk_call(ctx, 1);
}
