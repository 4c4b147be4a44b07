/*
 * kv.c — Workers KV namespaces (env.NAME.get/getWithMetadata/put/delete/list) over a store (lib/store).
 * Installed on env by resources.c for every EW_RESOURCE_KV resource of a worker.
 *
 * Semantics follow Cloudflare's: keys are 1-512 bytes of UTF-8 and not "." or ".."; values up to 25 MiB;
 * metadata is any JSON-serializable value up to 1024 bytes serialized; expirations are seconds since the
 * epoch, at least 60 s ahead; list() returns keys in byte order, 1000 at most per call, with an opaque
 * cursor. Every method returns a promise; invalid input rejects it with the error workerd raises (its
 * client-side checks: TypeError) or with the message the KV service (miniflare's validator) sends, as
 * "KV <OP> failed: <status> <text>". Expired keys are invisible to every read and list and are deleted
 * lazily (a sweep queued with the next group commit). get(..., "stream") rejects: ReadableStream does not
 * exist in this runtime yet. cacheTtl is validated and otherwise ignored (there is one location).
 *
 * Reads run synchronously against SQLite (after committing writes still queued, so a script reads its own
 * writes); writes are queued and group-committed (store.h), their promises resolving once on disk.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/collections.h"
#include "web/stream.h"
#include "internal.h"

#define NS_KEY DUK_HIDDEN_SYMBOL("kvNs")
#define PROTO_KEY DUK_HIDDEN_SYMBOL("kvProto")

#define MAX_KEY 512
#define MAX_VALUE (25u * 1024u * 1024u)
#define MAX_METADATA 1024
#define MAX_LIST 1000
#define MAX_BULK 100
#define MIN_TTL 60
#define MIN_CACHE_TTL 30

const char *const ew__kv_schema =
    "CREATE TABLE IF NOT EXISTS kv ("
    "  key BLOB NOT NULL PRIMARY KEY,"   /* UTF-8 bytes: BLOB order is byte order */
    "  value BLOB NOT NULL,"
    "  expiration INTEGER,"              /* seconds since the epoch, NULL = never */
    "  metadata TEXT"                    /* JSON, NULL = none */
    ");"
    "CREATE INDEX IF NOT EXISTS kv_expiration ON kv(expiration) WHERE expiration IS NOT NULL;";

static const char SQL_GET[] = "SELECT value, expiration, metadata FROM kv WHERE key = ?1";
static const char SQL_PUT[] = "INSERT OR REPLACE INTO kv(key, value, expiration, metadata) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_DELETE[] = "DELETE FROM kv WHERE key = ?1";
static const char SQL_PURGE_KEY[] = "DELETE FROM kv WHERE key = ?1 AND expiration IS NOT NULL AND expiration <= ?2";
static const char SQL_PURGE_ALL[] = "DELETE FROM kv WHERE expiration IS NOT NULL AND expiration <= ?1";
static const char SQL_LIST[] = "SELECT key, expiration, metadata FROM kv WHERE key >= ?1 ORDER BY key";
static const char SQL_LIST_AFTER[] = "SELECT key, expiration, metadata FROM kv WHERE key >= ?1 AND key > ?2 ORDER BY key";

typedef enum value_type { TYPE_TEXT, TYPE_JSON, TYPE_ARRAY_BUFFER, TYPE_STREAM } value_type_t;

/* ---------------------------------------------------------------------------------------------------------
 * Errors and argument checks
 */

/* Throws Error("KV <op> failed: <text>") as workerd reports a failed KV service call. */
static duk_ret_t kv_fail(duk_context *ctx, const char *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static duk_ret_t kv_fail(duk_context *ctx, const char *op, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return duk_error(ctx, DUK_ERR_ERROR, "KV %s failed: %s", op, msg);
}

/* workerd's client-side key checks (TypeError), then the service's length limit. */
static void check_key(duk_context *ctx, const char *op, const char *key, size_t len)
{
    if (len == 0)
        (void) duk_type_error(ctx, "Key name cannot be empty.");
    if (len == 1 && key[0] == '.')
        (void) duk_type_error(ctx, "\".\" is not allowed as a key name.");
    if (len == 2 && key[0] == '.' && key[1] == '.')
        (void) duk_type_error(ctx, "\"..\" is not allowed as a key name.");
    if (len > MAX_KEY)
        (void) kv_fail(ctx, op, "414 UTF-8 encoded length of %zu exceeds key length limit of %d.", len, MAX_KEY);
}

/* The service's key checks as GET_BULK reports them (miniflare's validateKey). */
static void check_bulk_key(duk_context *ctx, const char *key, size_t len)
{
    if (len == 0)
        (void) kv_fail(ctx, "GET_BULK", "400 Key names must not be empty");
    if ((len == 1 && key[0] == '.') || (len == 2 && key[0] == '.' && key[1] == '.'))
        (void) kv_fail(ctx, "GET_BULK", "400 Illegal key name \"%.*s\". Please use a different name.", (int) len, key);
    if (len > MAX_KEY)
        (void) kv_fail(ctx, "GET_BULK", "414 UTF-8 encoded length of %zu exceeds key length limit of %d.", len,
                       MAX_KEY);
}

/* The namespace `this` (stack index 0 in every method body) stands for. */
static ew__res_store_t *require_ns(duk_context *ctx)
{
    ew__res_store_t *rs = NULL;
    if (duk_is_object(ctx, 0) && duk_get_prop_literal(ctx, 0, NS_KEY))
        rs = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (rs == NULL)
        (void) duk_type_error(ctx, "Illegal invocation");
    return rs;
}

/* Formats a JS number as the integer the service would have been sent ("NaN" for NaN). */
static void fmt_int(char *out, size_t n, double v)
{
    if (isnan(v))
        snprintf(out, n, "NaN");
    else
        snprintf(out, n, "%.0f", trunc(v));
}

/* Throws for a store failure on a read. */
static duk_ret_t read_failed(duk_context *ctx, ew__res_store_t *rs, int rc, const char *op)
{
    ew_error_t err;
    ew__store_error(rs->store, rc, "reading", &err);
    return kv_fail(ctx, op, "%s", err.message);
}

static sqlite3_stmt *stmt_or_throw(duk_context *ctx, ew__res_store_t *rs, const char *sql, const char *op)
{
    ew_error_t err;
    sqlite3_stmt *st = ew__store_stmt(rs->store, sql, &err);
    if (st == NULL)
        (void) kv_fail(ctx, op, "%s", err.message);
    return st;
}

/* ---------------------------------------------------------------------------------------------------------
 * Writes: ops queued for the group commit
 */

typedef enum op_kind { OP_PUT, OP_DELETE, OP_PURGE_KEY, OP_PURGE_ALL } op_kind_t;

typedef struct kv_op {
    ew__res_op_t base;            /* first: base.write.udata == this */
    op_kind_t kind;
    int64_t expiration;           /* PUT: seconds since the epoch, 0 = never; PURGE_*: the cut-off (now) */
    size_t key_len, value_len, meta_len;
    bool has_meta;
    char *key, *value, *meta;     /* into bytes[] (never NULL, so empty blobs bind as blobs, not NULL) */
    char bytes[];
} kv_op_t;

static ew_status_t op_apply(ew__store_t *s, ew__store_write_t *w, ew_error_t *err)
{
    kv_op_t *op = w->udata;
    static const char *const sql[] = {SQL_PUT, SQL_DELETE, SQL_PURGE_KEY, SQL_PURGE_ALL};
    sqlite3_stmt *st = ew__store_stmt(s, sql[op->kind], err);
    if (st == NULL)
        return err->code;
    if (op->kind != OP_PURGE_ALL)
        sqlite3_bind_blob64(st, 1, op->key, op->key_len, SQLITE_STATIC);
    if (op->kind == OP_PUT) {
        sqlite3_bind_blob64(st, 2, op->value, op->value_len, SQLITE_STATIC);
        if (op->expiration > 0)
            sqlite3_bind_int64(st, 3, op->expiration);
        if (op->has_meta)
            sqlite3_bind_text64(st, 4, op->meta, op->meta_len, SQLITE_STATIC, SQLITE_UTF8);
    } else if (op->kind == OP_PURGE_KEY || op->kind == OP_PURGE_ALL) {
        sqlite3_bind_int64(st, op->kind == OP_PURGE_KEY ? 2 : 1, op->expiration);
    }
    int rc = sqlite3_step(st);
    ew__store_release(st);
    return rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "writing", err);
}

static void op_done(ew__store_write_t *w, ew_status_t status, const char *message)
{
    kv_op_t *op = w->udata;
    if (op->kind == OP_PURGE_ALL)
        op->base.rs->purge_queued = false;
    if (status == EW_OK) {
        ew__res_op_settle(&op->base, EW_OK, NULL);
    } else {
        char msg[1200];
        snprintf(msg, sizeof(msg), "KV %s failed: %s", op->kind == OP_PUT ? "PUT" : "DELETE", message);
        ew__res_op_settle(&op->base, status, msg);
    }
    free(op);
}

/* Allocates an op with room for copies of key, value and metadata (each may be NULL with length 0). */
static kv_op_t *op_new(ew__res_store_t *rs, op_kind_t kind, const char *key, size_t klen, const char *value,
                       size_t vlen, const char *meta, size_t mlen)
{
    kv_op_t *op = malloc(sizeof(*op) + klen + vlen + mlen + 3);
    if (op == NULL)
        return NULL;
    memset(op, 0, sizeof(*op));
    op->base.rs = rs;
    op->base.write.apply = op_apply;
    op->base.write.done = op_done;
    op->base.write.udata = op;
    op->kind = kind;
    op->key = op->bytes;
    op->value = op->key + klen + 1;
    op->meta = op->value + vlen + 1;
    if (klen > 0)
        memcpy(op->key, key, klen);
    if (vlen > 0)
        memcpy(op->value, value, vlen);
    if (mlen > 0)
        memcpy(op->meta, meta, mlen);
    op->key_len = klen;
    op->value_len = vlen;
    op->meta_len = mlen;
    return op;
}

/* Queues a sweep of expired keys (one key, or all when key is NULL); no promise waits for it. */
static void queue_purge(ew__res_store_t *rs, const char *key, size_t klen)
{
    if (key == NULL && rs->purge_queued)
        return;
    kv_op_t *op = op_new(rs, key ? OP_PURGE_KEY : OP_PURGE_ALL, key, klen, NULL, 0, NULL, 0);
    if (op == NULL)
        return; /* only a sweep: the keys stay invisible */
    op->expiration = ew__res_now(rs->cache);
    if (key == NULL)
        rs->purge_queued = true;
    ew__store_queue(rs->store, &op->base.write);
}

/* Pushes the promise of a new write op and queues it. Never returns an op the caller must free. */
static void queue_write(duk_context *ctx, ew__res_store_t *rs, kv_op_t *op_or_null, const char *op_name)
{
    /* The promise first (it may throw): only then is the op handed over. */
    uint32_t id = ew__res_push_pending(ctx, rs->cache);
    if (op_or_null == NULL)
        (void) kv_fail(ctx, op_name, "out of memory");
    ew__res_op_start(ctx, &op_or_null->base, id);
    ew__store_queue(rs->store, &op_or_null->base.write);
}

/* ---------------------------------------------------------------------------------------------------------
 * Reads
 */

/* Commits this store's queued writes first, so that reads see every write made before them. */
static void read_barrier(ew__res_store_t *rs)
{
    if (ew__store_has_queued(rs->store))
        (void) ew__store_sync(rs->store); /* a failure rejects those writes; the read goes on */
}

/* Steps a lookup of key: true with the row current, false when absent or expired (then queues a sweep). */
static bool lookup(duk_context *ctx, ew__res_store_t *rs, sqlite3_stmt *st, const char *key, size_t klen,
                   const char *op)
{
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        ew__store_release(st);
        return false;
    }
    if (rc != SQLITE_ROW) {
        ew__store_release(st);
        (void) read_failed(ctx, rs, rc, op);
    }
    if (sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_int64(st, 1) <= ew__res_now(rs->cache)) {
        ew__store_release(st);
        queue_purge(rs, key, klen);
        return false;
    }
    return true;
}

/* Pushes column col of the current row as `type`. May throw (SyntaxError for json). */
static void push_value(duk_context *ctx, sqlite3_stmt *st, int col, value_type_t type)
{
    const char *v = sqlite3_column_blob(st, col);
    size_t n = (size_t) sqlite3_column_bytes(st, col);
    if (type == TYPE_ARRAY_BUFFER || type == TYPE_STREAM) {
        void *buf = duk_push_fixed_buffer(ctx, n);
        if (n > 0)
            memcpy(buf, v, n);
        if (type == TYPE_STREAM)
            ew__stream_push_from_bytes(ctx, -1); /* a byte ReadableStream of the value */
        else
            duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
        return;
    }
    ew__push_utf8(ctx, v != NULL ? v : "", n);
    if (type == TYPE_JSON)
        duk_json_decode(ctx, -1);
}

/* Pushes the metadata column (JSON) parsed, or null. */
static void push_metadata(duk_context *ctx, sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        duk_push_null(ctx);
        return;
    }
    ew__push_utf8(ctx, (const char *) sqlite3_column_text(st, col), (size_t) sqlite3_column_bytes(st, col));
    duk_json_decode(ctx, -1);
}

struct row_args {
    sqlite3_stmt *st;
    value_type_t type;
    bool with_meta;
    bool found;
};

/* Safe-call body: pushes get()'s or getWithMetadata()'s result for the row (or its absence). */
static duk_ret_t push_get_result(duk_context *ctx, void *udata)
{
    struct row_args *a = udata;
    if (a->with_meta)
        duk_push_object(ctx);
    if (a->found)
        push_value(ctx, a->st, 0, a->type);
    else
        duk_push_null(ctx);
    if (!a->with_meta)
        return 1;
    duk_put_prop_literal(ctx, -2, "value");
    if (a->found)
        push_metadata(ctx, a->st, 2);
    else
        duk_push_null(ctx);
    duk_put_prop_literal(ctx, -2, "metadata");
    duk_push_null(ctx);
    duk_put_prop_literal(ctx, -2, "cacheStatus");
    return 1;
}

/* Runs fn(udata) protected, then releases st whatever happened; rethrows fn's error. Leaves fn's result. */
static void with_row(duk_context *ctx, sqlite3_stmt *st, duk_safe_call_function fn, void *udata)
{
    int rc = duk_safe_call(ctx, fn, udata, 0, 1);
    ew__store_release(st);
    if (rc != DUK_EXEC_SUCCESS)
        (void) duk_throw(ctx);
}

/* get()'s options (stack index idx): a type string or {type, cacheTtl}. */
static value_type_t get_options(duk_context *ctx, duk_idx_t idx, const char *op)
{
    value_type_t type = TYPE_TEXT;
    if (duk_is_null_or_undefined(ctx, idx))
        return type;
    bool is_obj = duk_is_object(ctx, idx) && !duk_is_function(ctx, idx);
    if (is_obj) {
        duk_get_prop_literal(ctx, idx, "cacheTtl");
        if (!duk_is_undefined(ctx, -1)) {
            double ttl = duk_to_number(ctx, -1);
            if (isnan(ttl) || ttl < MIN_CACHE_TTL) {
                char n[32];
                fmt_int(n, sizeof(n), ttl);
                (void) kv_fail(ctx, op, "400 Invalid cache_ttl of %s. Cache TTL must be at least %d.", n,
                               MIN_CACHE_TTL);
            }
        }
        duk_pop(ctx);
        duk_get_prop_literal(ctx, idx, "type");
    } else {
        duk_dup(ctx, idx);
    }
    if (!duk_is_undefined(ctx, -1)) {
        const char *t = duk_to_string(ctx, -1);
        type = strcmp(t, "text") == 0          ? TYPE_TEXT
               : strcmp(t, "json") == 0        ? TYPE_JSON
               : strcmp(t, "arrayBuffer") == 0 ? TYPE_ARRAY_BUFFER
               : strcmp(t, "stream") == 0      ? TYPE_STREAM
                                               : (value_type_t) -1;
        if ((int) type == -1 && strcmp(op, "GET_BULK") == 0)
            (void) kv_fail(ctx, op, "400 \"%s\" is not a valid type. Use \"json\" or \"text\"", t);
        if ((int) type == -1)
            (void) duk_type_error(ctx, "Unknown response type. Possible types are \"text\", \"arrayBuffer\", "
                                       "\"json\", and \"stream\".");
    }
    duk_pop(ctx);
    return type;
}

/* get([k1, k2, ...], type): a Map from each key to its value (or {value, metadata}), null when absent. */
static duk_ret_t get_bulk(duk_context *ctx, ew__res_store_t *rs, bool with_meta)
{
    value_type_t type = get_options(ctx, 2, "GET_BULK");
    if (type != TYPE_TEXT && type != TYPE_JSON)
        (void) kv_fail(ctx, "GET_BULK", "400 \"%s\" is not a valid type. Use \"json\" or \"text\"",
                       type == TYPE_STREAM ? "stream" : "arrayBuffer");
    duk_size_t n = duk_get_length(ctx, 1);
    if (n < 1)
        (void) kv_fail(ctx, "GET_BULK", "400 You must request a minimum of 1 key");
    if (n > MAX_BULK)
        (void) kv_fail(ctx, "GET_BULK", "400 You can request a maximum of %d keys", MAX_BULK);
    read_barrier(rs);
    duk_idx_t map = duk_push_bare_object(ctx);
    duk_push_heapptr(ctx, ew__coll_intrinsics(ctx)->map_proto);
    duk_set_prototype(ctx, map);
    ew__otab_create(ctx, map, EW__OTAB_MAP);
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, 1, (duk_uarridx_t) i);
        duk_to_string(ctx, -1);
        duk_dup_top(ctx);
        size_t klen;
        const char *key = ew__to_utf8(ctx, -1, &klen);
        check_bulk_key(ctx, key, klen);
        sqlite3_stmt *st = stmt_or_throw(ctx, rs, SQL_GET, "GET_BULK");
        struct row_args a = {st, type, with_meta, lookup(ctx, rs, st, key, klen, "GET_BULK")};
        if (!a.found) {
            duk_push_null(ctx);
        } else {
            int rc = duk_safe_call(ctx, push_get_result, &a, 0, 1);
            ew__store_release(st);
            if (rc != DUK_EXEC_SUCCESS)
                (void) kv_fail(ctx, "GET_BULK", "400 At least one of the requested keys corresponds to a non-%s value",
                               type == TYPE_JSON ? "json" : "text");
        }
        ew__otab_set(ctx, map, -3, -1);
        duk_pop_3(ctx);
    }
    ew__promise_push_resolved(ctx);
    return 1;
}

/* get(key, type | {type, cacheTtl}) and getWithMetadata(key, ...): [this, key, options]. */
static duk_ret_t do_get(duk_context *ctx, bool with_meta)
{
    ew__res_store_t *rs = require_ns(ctx);
    if (duk_is_array(ctx, 1))
        return get_bulk(ctx, rs, with_meta);
    size_t klen;
    const char *key = ew__to_utf8(ctx, 1, &klen);
    check_key(ctx, "GET", key, klen);
    value_type_t type = get_options(ctx, 2, "GET");
    read_barrier(rs);
    sqlite3_stmt *st = stmt_or_throw(ctx, rs, SQL_GET, "GET");
    struct row_args a = {st, type, with_meta, lookup(ctx, rs, st, key, klen, "GET")};
    with_row(ctx, st, push_get_result, &a);
    ew__promise_push_resolved(ctx);
    return 1;
}

static duk_ret_t get_body(duk_context *ctx, void *udata)
{
    (void) udata;
    return do_get(ctx, false);
}

static duk_ret_t get_with_metadata_body(duk_context *ctx, void *udata)
{
    (void) udata;
    return do_get(ctx, true);
}

/* ---------------------------------------------------------------------------------------------------------
 * put and delete
 */

struct put_options {
    int64_t expiration;           /* 0 = never */
    const char *meta;             /* JSON, NULL = none; valid while its stack slot lives */
    size_t meta_len;
};

/* Validates put()'s expiration options at idx as the KV service does (miniflare's validatePutOptions):
 * expirationTtl wins over expiration. */
static void put_expiration(duk_context *ctx, ew__res_store_t *rs, duk_idx_t idx, struct put_options *o)
{
    if (!duk_is_object(ctx, idx))
        return;
    int64_t now = ew__res_now(rs->cache);
    char n[32];
    duk_get_prop_literal(ctx, idx, "expirationTtl");
    duk_get_prop_literal(ctx, idx, "expiration");
    if (!duk_is_undefined(ctx, -2)) {
        double ttl = trunc(duk_to_number(ctx, -2));
        fmt_int(n, sizeof(n), ttl);
        if (isnan(ttl) || ttl <= 0)
            (void) kv_fail(ctx, "PUT", "400 Invalid expiration_ttl of %s. Please specify integer greater than 0.", n);
        if (ttl < MIN_TTL)
            (void) kv_fail(ctx, "PUT", "400 Invalid expiration_ttl of %s. Expiration TTL must be at least %d.", n,
                           MIN_TTL);
        o->expiration = now + (ttl > 1e15 ? (int64_t) 1e15 : (int64_t) ttl);
    } else if (!duk_is_undefined(ctx, -1)) {
        double e = trunc(duk_to_number(ctx, -1));
        fmt_int(n, sizeof(n), e);
        if (isnan(e) || e <= (double) now)
            (void) kv_fail(ctx, "PUT", "400 Invalid expiration of %s. Please specify integer greater than the current "
                                       "number of seconds since the UNIX epoch.", n);
        if (e < (double) (now + MIN_TTL))
            (void) kv_fail(ctx, "PUT", "400 Invalid expiration of %s. Expiration times must be at least %d seconds "
                                       "in the future.", n, MIN_TTL);
        o->expiration = e > 1e15 ? (int64_t) 1e15 : (int64_t) e;
    }
    duk_pop_2(ctx);
}

/* Serializes put()'s metadata option (JSON, at most 1024 bytes). Leaves one value on the stack: the JSON
 * text o->meta points into, or undefined when there is no metadata. */
static void put_metadata(duk_context *ctx, duk_idx_t idx, struct put_options *o)
{
    if (duk_is_object(ctx, idx))
        duk_get_prop_literal(ctx, idx, "metadata");
    else
        duk_push_undefined(ctx);
    if (duk_is_null_or_undefined(ctx, -1))
        return;
    duk_json_encode(ctx, -1); /* TypeError for cycles, like JSON.stringify */
    if (duk_is_undefined(ctx, -1))
        return; /* a function or a symbol: nothing to store */
    o->meta = ew__to_utf8(ctx, -1, &o->meta_len);
    if (o->meta_len > MAX_METADATA)
        (void) kv_fail(ctx, "PUT", "413 Metadata length of %zu exceeds limit of %d.", o->meta_len, MAX_METADATA);
}

/* put(key, value, options): [this, key, value, options]. */
static duk_ret_t put_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_ns(ctx);
    size_t klen, vlen;
    const char *key = ew__to_utf8(ctx, 1, &klen);
    check_key(ctx, "PUT", key, klen);
    const char *value;
    if (duk_is_buffer_data(ctx, 2)) {
        duk_size_t n;
        value = duk_get_buffer_data(ctx, 2, &n);
        vlen = n;
    } else if (duk_is_object(ctx, 2)) {
        return duk_type_error(ctx, "KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and "
                                   "ReadableStreams as values.");
    } else {
        value = ew__to_utf8(ctx, 2, &vlen);
    }
    struct put_options o = {0, NULL, 0};
    put_expiration(ctx, rs, 3, &o);
    put_metadata(ctx, 3, &o);
    if (vlen > MAX_VALUE)
        return kv_fail(ctx, "PUT", "413 Value length of %zu exceeds limit of %u.", vlen, MAX_VALUE);
    kv_op_t *op = op_new(rs, OP_PUT, key, klen, value, vlen, o.meta, o.meta_len);
    if (op != NULL) {
        op->expiration = o.expiration;
        op->has_meta = o.meta != NULL;
    }
    queue_write(ctx, rs, op, "PUT");
    return 1;
}

/* delete(key): [this, key]. */
static duk_ret_t delete_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_ns(ctx);
    size_t klen;
    const char *key = ew__to_utf8(ctx, 1, &klen);
    check_key(ctx, "DELETE", key, klen);
    queue_write(ctx, rs, op_new(rs, OP_DELETE, key, klen, NULL, 0, NULL, 0), "DELETE");
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * list
 */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Pushes the cursor for a page that ended at key: base64url of its bytes, no padding. */
static void push_cursor(duk_context *ctx, const unsigned char *p, size_t n)
{
    char out[(MAX_KEY + 2) / 3 * 4 + 1];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        out[o++] = B64URL[v >> 18];
        out[o++] = B64URL[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = B64URL[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = B64URL[v & 63];
    }
    duk_push_lstring(ctx, out, o);
}

/* Decodes a cursor into out (MAX_KEY bytes); returns its length, or 0 if it is not one of ours. */
static size_t decode_cursor(const char *s, size_t n, unsigned char *out)
{
    if (n == 0 || n % 4 == 1 || n > (MAX_KEY + 2) / 3 * 4)
        return 0;
    uint32_t acc = 0;
    size_t bits = 0, o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = memchr(B64URL, s[i], 64);
        if (c == NULL || s[i] == '\0')
            return 0;
        acc = acc << 6 | (uint32_t) (c - B64URL);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char) (acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return acc == 0 && o <= MAX_KEY ? o : 0;
}

struct list_args {
    ew__res_store_t *rs;
    sqlite3_stmt *st;
    const char *prefix;
    size_t prefix_len;
    uint32_t limit;
};

/* Pushes {name, expiration?, metadata?} for the current row. */
static void push_list_key(duk_context *ctx, sqlite3_stmt *st)
{
    duk_push_object(ctx);
    ew__push_utf8(ctx, sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0));
    duk_put_prop_literal(ctx, -2, "name");
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        duk_push_number(ctx, (double) sqlite3_column_int64(st, 1));
        duk_put_prop_literal(ctx, -2, "expiration");
    }
    if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
        push_metadata(ctx, st, 2);
        duk_put_prop_literal(ctx, -2, "metadata");
    }
}

/* Safe-call body: walks the rows from the start key, skipping expired ones, and pushes list()'s result. */
static duk_ret_t push_list_result(duk_context *ctx, void *udata)
{
    struct list_args *a = udata;
    int64_t now = ew__res_now(a->rs->cache);
    duk_idx_t res = duk_push_object(ctx);
    duk_idx_t keys = duk_push_array(ctx);
    uint32_t count = 0;
    bool complete = true, expired = false;
    int rc;
    while ((rc = sqlite3_step(a->st)) == SQLITE_ROW) {
        const char *k = sqlite3_column_blob(a->st, 0);
        size_t klen = (size_t) sqlite3_column_bytes(a->st, 0);
        if (klen < a->prefix_len || memcmp(k, a->prefix, a->prefix_len) != 0)
            break; /* past the keys with this prefix */
        if (sqlite3_column_type(a->st, 1) != SQLITE_NULL && sqlite3_column_int64(a->st, 1) <= now) {
            expired = true;
            continue;
        }
        if (count == a->limit) {
            complete = false;
            break;
        }
        push_list_key(ctx, a->st);
        duk_put_prop_index(ctx, keys, count++);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return read_failed(ctx, a->rs, rc, "GET");
    if (expired)
        queue_purge(a->rs, NULL, 0);
    duk_put_prop_literal(ctx, res, "keys");
    duk_push_boolean(ctx, complete);
    duk_put_prop_literal(ctx, res, "list_complete");
    if (!complete) {
        duk_get_prop_literal(ctx, res, "keys");
        duk_get_prop_index(ctx, -1, count - 1);
        duk_get_prop_literal(ctx, -1, "name");
        size_t n;
        const char *last = ew__to_utf8(ctx, -1, &n);
        push_cursor(ctx, (const unsigned char *) last, n);
        duk_put_prop_literal(ctx, res, "cursor");
        duk_pop_3(ctx);
    }
    duk_push_null(ctx);
    duk_put_prop_literal(ctx, res, "cacheStatus");
    return 1;
}

/* list()'s limit option: 1..1000 (a value <= 0 or none means 1000, as workerd sends no limit then). */
static uint32_t list_limit(duk_context *ctx, duk_idx_t opts)
{
    uint32_t limit = MAX_LIST;
    duk_get_prop_literal(ctx, opts, "limit");
    if (!duk_is_undefined(ctx, -1)) {
        double l = trunc(duk_to_number(ctx, -1));
        if (l > MAX_LIST) {
            char n[32];
            fmt_int(n, sizeof(n), l);
            (void) kv_fail(ctx, "GET", "400 Invalid key_count_limit of %s. Please specify an integer less than %d.", n,
                           MAX_LIST);
        }
        if (l > 0)
            limit = (uint32_t) l;
    }
    duk_pop(ctx);
    return limit;
}

/* list({prefix, limit, cursor}): [this, options]. */
static duk_ret_t list_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_ns(ctx);
    if (duk_is_null_or_undefined(ctx, 1)) {
        duk_push_object(ctx);
        duk_replace(ctx, 1);
    }
    struct list_args a = {rs, NULL, "", 0, list_limit(ctx, 1)};
    duk_get_prop_literal(ctx, 1, "prefix"); /* [2] */
    if (!duk_is_null_or_undefined(ctx, 2)) {
        a.prefix = ew__to_utf8(ctx, 2, &a.prefix_len);
        if (a.prefix_len > MAX_KEY)
            (void) kv_fail(ctx, "GET", "414 UTF-8 encoded length of %zu exceeds key length limit of %d.", a.prefix_len,
                           MAX_KEY);
    }
    duk_get_prop_literal(ctx, 1, "cursor"); /* [3] */
    unsigned char after[MAX_KEY];
    size_t after_len = 0;
    if (!duk_is_null_or_undefined(ctx, 3) && !(duk_is_string(ctx, 3) && duk_get_length(ctx, 3) == 0)) {
        size_t n;
        const char *c = duk_to_lstring(ctx, 3, &n);
        if ((after_len = decode_cursor(c, n, after)) == 0)
            (void) kv_fail(ctx, "GET", "400 Invalid cursor \"%.100s\": pass the cursor of a previous list() result",
                           c);
    }
    read_barrier(rs);
    a.st = stmt_or_throw(ctx, rs, after_len > 0 ? SQL_LIST_AFTER : SQL_LIST, "GET");
    sqlite3_bind_blob64(a.st, 1, a.prefix, a.prefix_len, SQLITE_STATIC);
    if (after_len > 0)
        sqlite3_bind_blob64(a.st, 2, after, after_len, SQLITE_STATIC);
    with_row(ctx, a.st, push_list_result, &a);
    ew__promise_push_resolved(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * The namespace object
 */

static duk_ret_t kv_get(duk_context *ctx)
{
    return ew__res_call(ctx, get_body, 2);
}

static duk_ret_t kv_get_with_metadata(duk_context *ctx)
{
    return ew__res_call(ctx, get_with_metadata_body, 2);
}

static duk_ret_t kv_put(duk_context *ctx)
{
    return ew__res_call(ctx, put_body, 3);
}

static duk_ret_t kv_delete(duk_context *ctx)
{
    return ew__res_call(ctx, delete_body, 1);
}

static duk_ret_t kv_list(duk_context *ctx)
{
    return ew__res_call(ctx, list_body, 1);
}

static const ew__method_t kv_methods[] = {
    {"get", kv_get, DUK_VARARGS, 2},
    {"getWithMetadata", kv_get_with_metadata, DUK_VARARGS, 2},
    {"put", kv_put, DUK_VARARGS, 3},
    {"delete", kv_delete, DUK_VARARGS, 1},
    {"list", kv_list, DUK_VARARGS, 1},
    {NULL, NULL, 0, 0},
};

void ew__kv_push(duk_context *ctx, ew__res_store_t *rs)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, PROTO_KEY)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, kv_methods);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, PROTO_KEY);
    }
    duk_remove(ctx, -2);
    duk_push_object(ctx);
    duk_insert(ctx, -2);
    duk_set_prototype(ctx, -2);
    duk_push_pointer(ctx, rs);
    duk_put_prop_literal(ctx, -2, NS_KEY);
}
