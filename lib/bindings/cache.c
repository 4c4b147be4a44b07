/*
 * cache.c — storage of the Cache API (the HTTP rules are lib/js/cache.js, loaded on the first read of the
 * global `caches`, which this file installs for every worker).
 *
 * One SQLite database per worker name: <state_dir>/cache/<worker>.sqlite (in memory without a state
 * directory), opened on first use through resources.c like any store, shared by the runtime's threads and
 * processes on that folder. Rows are keyed by (namespace, url): caches.default is namespace "", caches.open(N)
 * "n:N". Entries carry their expiry (ms since the epoch) and their last use; after each put the database is
 * trimmed to the runtime's bound (ew_runtime_config_t.cache_mb, default EW__CACHE_DEFAULT_MB): expired
 * entries go first, then the least recently used. An entry bigger than the bound is not stored.
 *
 * A cache is allowed to forget: the database runs with synchronous=NORMAL (WAL keeps it consistent; a crash
 * of the machine may lose the last puts), so a put costs no fsync. Calls are synchronous, on the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "js_bytecode.h"

#define CACHES_KEY DUK_HIDDEN_SYMBOL("caches")

const char *const ew__cache_schema =
    "CREATE TABLE IF NOT EXISTS entries ("
    "  ns TEXT NOT NULL,"
    "  url TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  status_text TEXT NOT NULL,"
    "  headers TEXT NOT NULL,"          /* JSON array of [name, value] */
    "  body BLOB NOT NULL,"
    "  expires REAL NOT NULL,"          /* ms since the epoch */
    "  used INTEGER NOT NULL,"          /* use counter: higher = more recent */
    "  size INTEGER NOT NULL,"          /* bytes accounted to the entry */
    "  PRIMARY KEY (ns, url)"
    ");"
    "CREATE INDEX IF NOT EXISTS entries_expires ON entries(expires);"
    "CREATE INDEX IF NOT EXISTS entries_used ON entries(used);";

static const char SQL_PUT[] =
    "INSERT OR REPLACE INTO entries (ns, url, status, status_text, headers, body, expires, used, size) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, (SELECT coalesce(max(used), 0) + 1 FROM entries), ?8)";
static const char SQL_GET[] =
    "SELECT status, status_text, headers, body, expires FROM entries WHERE ns = ?1 AND url = ?2";
static const char SQL_TOUCH[] =
    "UPDATE entries SET used = (SELECT max(used) + 1 FROM entries) WHERE ns = ?1 AND url = ?2";
static const char SQL_DEL[] = "DELETE FROM entries WHERE ns = ?1 AND url = ?2";
static const char SQL_TOTAL[] = "SELECT total(size) FROM entries";
static const char SQL_EXPIRED[] = "DELETE FROM entries WHERE expires <= ?1";
static const char SQL_OLDEST[] = "DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries ORDER BY used LIMIT 1)";

/* The bound in bytes for the running isolate's runtime. */
static double bound_of(ew__isolate_t *iso)
{
    uint32_t mb = iso->rt->cfg.cache_mb ? iso->rt->cfg.cache_mb : EW__CACHE_DEFAULT_MB;
    return (double) mb * 1024.0 * 1024.0;
}

/* The worker's cache store, opened on first use. Throws when it cannot be opened. */
static ew__res_store_t *cache_store(duk_context *ctx)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso == NULL || iso->rt == NULL || iso->worker == NULL)
        (void) duk_error(ctx, DUK_ERR_ERROR, "the Cache API needs a worker of a runtime");
    ew_worker_t *w = iso->worker;
    if (w->cache_store != NULL)
        return w->cache_store;
    const char *id = ew__store_id_valid(w->name) ? w->name : "worker";
    ew_error_t err;
    if (ew__res_store_open(iso->rt, EW__RESOURCE_CACHE, id, &w->cache_store, &err) != EW_OK)
        (void) duk_error(ctx, DUK_ERR_ERROR, "Cache: %s", err.message);
    return w->cache_store;
}

static sqlite3_stmt *stmt(duk_context *ctx, ew__res_store_t *rs, const char *sql)
{
    ew_error_t err;
    sqlite3_stmt *st = ew__store_stmt(rs->store, sql, &err);
    if (st == NULL)
        (void) duk_error(ctx, DUK_ERR_ERROR, "Cache: %s", err.message);
    return st;
}

static void bind_key(duk_context *ctx, sqlite3_stmt *st, duk_idx_t ns_idx, duk_idx_t url_idx)
{
    size_t n;
    const char *s = ew__to_utf8(ctx, ns_idx, &n);
    sqlite3_bind_text64(st, 1, s, n, SQLITE_TRANSIENT, SQLITE_UTF8);
    s = ew__to_utf8(ctx, url_idx, &n);
    sqlite3_bind_text64(st, 2, s, n, SQLITE_TRANSIENT, SQLITE_UTF8);
}

static duk_ret_t step_failed(duk_context *ctx, ew__res_store_t *rs, int rc)
{
    ew_error_t err;
    ew__store_error(rs->store, rc, "Cache", &err);
    return duk_error(ctx, DUK_ERR_ERROR, "%s", err.message);
}

/* Deletes expired entries, then the least recently used, until the total is within the bound. */
static void trim(duk_context *ctx, ew__res_store_t *rs, double bound, double now)
{
    sqlite3_stmt *st = stmt(ctx, rs, SQL_EXPIRED);
    sqlite3_bind_double(st, 1, now);
    (void) sqlite3_step(st);
    ew__store_release(st);
    for (int guard = 0; guard < 100000; guard++) {
        st = stmt(ctx, rs, SQL_TOTAL);
        double total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : 0;
        ew__store_release(st);
        if (total <= bound)
            return;
        st = stmt(ctx, rs, SQL_OLDEST);
        int rc = sqlite3_step(st);
        ew__store_release(st);
        if (rc != SQLITE_DONE || sqlite3_changes(ew__store_db(rs->store)) == 0)
            return;
    }
}

/* put(ns, url, status, statusText, headersJson, body, expiresMs) */
static duk_ret_t native_put(duk_context *ctx)
{
    ew__res_store_t *rs = cache_store(ctx);
    duk_size_t body_len = 0;
    const void *body = duk_get_buffer_data(ctx, 5, &body_len);
    size_t st_len, h_len;
    const char *status_text = ew__to_utf8(ctx, 3, &st_len);
    const char *headers = ew__to_utf8(ctx, 4, &h_len);
    double size = (double) body_len + (double) h_len + 256.0;
    double bound = bound_of(ew__isolate_of(ctx));
    if (size > bound)
        return 0; /* could never fit: not stored, like an object over Cloudflare's size limit */
    sqlite3_stmt *st = stmt(ctx, rs, SQL_PUT);
    bind_key(ctx, st, 0, 1);
    sqlite3_bind_int(st, 3, duk_to_int(ctx, 2));
    sqlite3_bind_text64(st, 4, status_text, st_len, SQLITE_TRANSIENT, SQLITE_UTF8);
    sqlite3_bind_text64(st, 5, headers, h_len, SQLITE_TRANSIENT, SQLITE_UTF8);
    sqlite3_bind_blob64(st, 6, body != NULL ? body : "", body_len, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 7, duk_to_number(ctx, 6));
    sqlite3_bind_double(st, 8, size);
    int rc = sqlite3_step(st);
    ew__store_release(st);
    if (rc != SQLITE_DONE)
        return step_failed(ctx, rs, rc);
    trim(ctx, rs, bound, (double) ew__res_now(rs->cache) * 1000.0);
    return 0;
}

/* get(ns, url, nowMs) -> [status, statusText, headersJson, body] | null */
static duk_ret_t native_get(duk_context *ctx)
{
    ew__res_store_t *rs = cache_store(ctx);
    double now = duk_to_number(ctx, 2);
    sqlite3_stmt *st = stmt(ctx, rs, SQL_GET);
    bind_key(ctx, st, 0, 1);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        ew__store_release(st);
        if (rc != SQLITE_DONE)
            return step_failed(ctx, rs, rc);
        duk_push_null(ctx);
        return 1;
    }
    if (sqlite3_column_double(st, 4) <= now) {
        ew__store_release(st);
        duk_push_null(ctx); /* expired: trimmed by the next put */
        return 1;
    }
    duk_push_array(ctx);
    duk_push_int(ctx, sqlite3_column_int(st, 0));
    duk_put_prop_index(ctx, -2, 0);
    ew__push_utf8(ctx, (const char *) sqlite3_column_text(st, 1), (size_t) sqlite3_column_bytes(st, 1));
    duk_put_prop_index(ctx, -2, 1);
    ew__push_utf8(ctx, (const char *) sqlite3_column_text(st, 2), (size_t) sqlite3_column_bytes(st, 2));
    duk_put_prop_index(ctx, -2, 2);
    size_t n = (size_t) sqlite3_column_bytes(st, 3);
    void *buf = duk_push_fixed_buffer(ctx, n);
    if (n > 0)
        memcpy(buf, sqlite3_column_blob(st, 3), n);
    duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
    duk_remove(ctx, -2);
    duk_put_prop_index(ctx, -2, 3);
    ew__store_release(st);
    st = stmt(ctx, rs, SQL_TOUCH);
    bind_key(ctx, st, 0, 1);
    (void) sqlite3_step(st); /* recency only: a failure costs nothing but LRU precision */
    ew__store_release(st);
    return 1;
}

/* del(ns, url) -> boolean */
static duk_ret_t native_del(duk_context *ctx)
{
    ew__res_store_t *rs = cache_store(ctx);
    sqlite3_stmt *st = stmt(ctx, rs, SQL_DEL);
    bind_key(ctx, st, 0, 1);
    int rc = sqlite3_step(st);
    ew__store_release(st);
    if (rc != SQLITE_DONE)
        return step_failed(ctx, rs, rc);
    duk_push_boolean(ctx, sqlite3_changes(ew__store_db(rs->store)) > 0);
    return 1;
}

/* Getter of the global `caches`: runs cache.js once per heap and keeps its CacheStorage in the stash. */
static duk_ret_t caches_get(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (duk_get_prop_literal(ctx, -1, CACHES_KEY))
        return 1;
    duk_pop(ctx);
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) ew__js_cache, ew__js_cache_len);
    duk_load_function(ctx);
    duk_push_object(ctx);
    static const struct {
        const char *name;
        duk_c_function fn;
        duk_idx_t nargs;
    } natives[] = {{"put", native_put, 7}, {"get", native_get, 3}, {"del", native_del, 2}};
    for (size_t i = 0; i < sizeof(natives) / sizeof(natives[0]); i++) {
        duk_push_c_function(ctx, natives[i].fn, natives[i].nargs);
        duk_put_prop_string(ctx, -2, natives[i].name);
    }
    duk_push_global_object(ctx);
    duk_call(ctx, 2);
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, -3, CACHES_KEY);
    return 1;
}

void ew__cache_install(duk_context *ctx)
{
    duk_push_global_object(ctx);
    duk_push_literal(ctx, "caches");
    duk_push_c_function(ctx, caches_get, 0);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_CLEAR_ENUMERABLE);
    duk_pop(ctx);
}

void ew__cache_setup(ew__res_store_t *rs)
{
    (void) sqlite3_exec(ew__store_db(rs->store), "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
}
