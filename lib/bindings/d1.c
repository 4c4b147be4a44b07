/*
 * d1.c — D1 databases (env.DB.prepare/batch/exec/dump/withSession and D1PreparedStatement
 * bind/first/all/run/raw) over
 * a store (lib/store): one SQLite database per D1 database, <state_dir>/d1/<id>.sqlite, the same file the
 * `ew-server d1 execute|migrations apply` commands work on. Installed on env by resources.c for every
 * EW_RESOURCE_D1 resource of a worker.
 *
 * Semantics follow workerd's D1 client (its bind() checks and result shapes) and the D1 service (its error
 * words): values bind as D1 sends them (numbers: integers when integral and safe, otherwise reals; strings
 * as TEXT; null; booleans as 1/0; ArrayBuffer, typed arrays and arrays of bytes as BLOB); anything else is
 * "D1_TYPE_ERROR: Type '<typeof>' not supported for value '<value>'". Rows come back as objects (all, run,
 * first, batch) or arrays (raw); INTEGER and REAL columns as numbers (integers beyond 2^53 lose precision, as
 * in D1's JSON), BLOB columns as arrays of byte numbers, as D1 returns them. SQL errors are
 * "D1_ERROR: <SQLite's message>: SQLITE_<CODE>", with the message alone as the error's cause.
 *
 * THREADING AND LIMITS. Statements run synchronously on the runtime's thread, inside the native method that
 * the script called, as KV's reads do; the promise is settled before the method returns. So the time a
 * statement takes is CPU time of the request that ran it: a SQLite progress handler asks the CPU-limit
 * check (ew__duk_exec_timeout, lib/core/limits.c) every PROGRESS_OPS virtual-machine steps, and a statement
 * still running at the request's deadline is interrupted and ends the request with 1102, like a loop in
 * JavaScript. No statement can hold the event loop longer than the CPU limit. (On Cloudflare, D1 time is
 * not CPU time; with the default 50 ms limit, a query that scans hundreds of thousands of rows needs a
 * higher [limits] cpu_ms.)
 *
 * DURABILITY AND GROUP COMMIT. The database is in WAL mode with synchronous=FULL (store.h). A write (any
 * statement SQLite does not call read-only, batch(), exec()) runs at once inside the loop turn's group
 * transaction (ew__store_begin), so its result (rows, last_row_id, changes) is known, but its promise
 * resolves only after the group's COMMIT synced the WAL, at the end of the loop turn: a promise that
 * resolved is on disk, and the writes of concurrent requests share one fsync. batch() is a savepoint in
 * that transaction (all or nothing). A read first commits the turn's writes (read_barrier), so no script
 * sees a row whose writer has not been told it is durable. Another connection (thread, process, the d1
 * command) holding the write lock is waited for by the store's busy handler; BUSY that outlasts it is
 * retried before it reaches the Worker.
 *
 * SAFETY. User SQL goes through an authorizer: transactions and savepoints (D1 has batch() for that),
 * ATTACH/DETACH (files outside the state directory) and pragmas other than the read-only/introspection
 * ones D1 allows are refused ("not authorized: SQLITE_AUTH"), as is VACUUM (VACUUM INTO writes files).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "internal.h"

#define DB_KEY DUK_HIDDEN_SYMBOL("d1Db")         /* database and statement objects: the ew__res_store_t */
#define SQL_KEY DUK_HIDDEN_SYMBOL("d1Sql")       /* statement: the SQL text */
#define PARAMS_KEY DUK_HIDDEN_SYMBOL("d1Params") /* statement: the bound values (array, already converted) */
#define DB_PROTO_KEY DUK_HIDDEN_SYMBOL("d1DbProto")
#define STMT_PROTO_KEY DUK_HIDDEN_SYMBOL("d1StmtProto")
#define SESSION_PROTO_KEY DUK_HIDDEN_SYMBOL("d1SessionProto")
#define BOOKMARK_KEY DUK_HIDDEN_SYMBOL("d1Bookmark")  /* session: its constraint or bookmark */

/* Rows are made like D1's Object.fromEntries: own data properties, even for a column named __proto__. */
#define DATA_PROP                                                                                            \
    (DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE)

#define PROGRESS_OPS 2000 /* SQLite VM steps between CPU-limit checks (~20-100 µs) */
#define BUSY_TRIES 3      /* a statement that still finds the database locked after the busy handler */
#define MAX_PARAMS 100    /* D1's limit of bound parameters per query */
#define STMT_CACHE 32     /* prepared statements kept per database, by SQL text (least recently used goes) */

/* A prepared statement of the script's, kept for the next call with the same SQL text. */
typedef struct cached_stmt {
    char *sql;           /* owned copy of the text, NULL = free slot */
    size_t len;
    sqlite3_stmt *st;    /* owned */
    uint64_t used;       /* tick of the last use */
} cached_stmt_t;

/* Per-database state, kept in rs->ext (freed by resources.c through rs->ext_free). */
typedef struct d1_state {
    int user_sql;        /* > 0 while statements from the script are being prepared (the authorizer checks) */
    cached_stmt_t cache[STMT_CACHE];
    uint64_t tick;
} d1_state_t;

typedef enum fmt { FMT_OBJECTS, FMT_ARRAYS } fmt_t;

/* ---------------------------------------------------------------------------------------------------------
 * The authorizer
 */

/* Pragmas a script may run: introspection and per-connection behaviour D1 exposes. */
static const char *const allowed_pragmas[] = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list",
    "foreign_key_check", "foreign_keys", "defer_foreign_keys", "quick_check", "integrity_check", "optimize",
    "case_sensitive_like", "ignore_check_constraints", "legacy_alter_table", "recursive_triggers",
    "reverse_unordered_selects", "data_version", "freelist_count", "page_count", "function_list",
    "collation_list", "pragma_list", NULL,
};

int ew__d1_authorize(void *udata, int action, const char *a1, const char *a2, const char *db, const char *trig)
{
    (void) db;
    (void) trig;
    const int *user = udata;
    if (user == NULL || *user == 0)
        return SQLITE_OK;
    switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return SQLITE_DENY;
    case SQLITE_PRAGMA:
        for (const char *const *p = allowed_pragmas; *p != NULL; p++)
            if (a1 != NULL && strcasecmp(a1, *p) == 0)
                return SQLITE_OK;
        (void) a2;
        return SQLITE_DENY;
    default:
        return SQLITE_OK;
    }
}

/* True if the SQL's first keyword (after blanks and comments) is VACUUM, which the authorizer cannot see. */
bool ew__d1_is_vacuum(const char *sql)
{
    const char *p = sql;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == ';')
            p++;
        if (p[0] == '-' && p[1] == '-') {
            p = strchr(p, '\n');
            if (p == NULL)
                return false;
        } else if (p[0] == '/' && p[1] == '*') {
            p = strstr(p + 2, "*/");
            if (p == NULL)
                return false;
            p += 2;
        } else {
            break;
        }
    }
    return strncasecmp(p, "vacuum", 6) == 0 && !((p[6] >= 'a' && p[6] <= 'z') || (p[6] >= 'A' && p[6] <= 'Z') ||
                                                 (p[6] >= '0' && p[6] <= '9') || p[6] == '_');
}

/* SQLITE_<NAME> of a primary result code, as D1 appends it to messages. */
const char *ew__d1_code_name(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_ERROR: return "SQLITE_ERROR";
    case SQLITE_INTERNAL: return "SQLITE_INTERNAL";
    case SQLITE_PERM: return "SQLITE_PERM";
    case SQLITE_ABORT: return "SQLITE_ABORT";
    case SQLITE_BUSY: return "SQLITE_BUSY";
    case SQLITE_LOCKED: return "SQLITE_LOCKED";
    case SQLITE_NOMEM: return "SQLITE_NOMEM";
    case SQLITE_READONLY: return "SQLITE_READONLY";
    case SQLITE_INTERRUPT: return "SQLITE_INTERRUPT";
    case SQLITE_IOERR: return "SQLITE_IOERR";
    case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
    case SQLITE_FULL: return "SQLITE_FULL";
    case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
    case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
    case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
    case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
    case SQLITE_MISUSE: return "SQLITE_MISUSE";
    case SQLITE_AUTH: return "SQLITE_AUTH";
    case SQLITE_RANGE: return "SQLITE_RANGE";
    case SQLITE_NOTADB: return "SQLITE_NOTADB";
    default: return "SQLITE_ERROR";
    }
}

static d1_state_t *state_of(ew__res_store_t *rs)
{
    return rs->ext;
}

static void state_free(void *p)
{
    d1_state_t *s = p;
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(s->cache[i].st);
        free(s->cache[i].sql);
    }
    free(s);
}

ew_status_t ew__d1_attach(ew__res_store_t *rs, ew_error_t *err)
{
    d1_state_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", ew__store_name(rs->store));
    rs->ext = s;
    rs->ext_free = state_free;
    sqlite3 *db = ew__store_db(rs->store);
    sqlite3_set_authorizer(db, ew__d1_authorize, &s->user_sql);
    /* D1's documented limits, enforced by SQLite with its own messages ("statement too long", "string or
     * blob too big", "too many SQL variables", "too many columns"). */
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 100000);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 2000000);
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, MAX_PARAMS);
    sqlite3_limit(db, SQLITE_LIMIT_COLUMN, 100);
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Errors
 */

/* Throws Error("<prefix>: <message>") with cause Error("<message>"), as workerd's D1 client does. */
static duk_ret_t d1_throw(duk_context *ctx, const char *prefix, const char *message)
{
    duk_push_error_object(ctx, DUK_ERR_ERROR, "%s: %s", prefix, message);
    duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", message);
    duk_put_prop_literal(ctx, -2, "cause");
    return duk_throw(ctx);
}

/* The CPU limit fired while SQLite ran (the progress handler): unwind as Duktape's own timeout does, with
 * the interrupt check due at the next instruction so that no catch block of the script runs. */
static duk_ret_t limit_throw(duk_context *ctx)
{
    ew__duk_interrupt_now(ctx);
    return duk_error(ctx, DUK_ERR_RANGE_ERROR, "execution timeout");
}

/* Throws for SQLite result rc on the database: the CPU limit when it interrupted us, else D1_ERROR. */
static duk_ret_t sql_throw(duk_context *ctx, sqlite3 *db, int rc)
{
    if (ew__isolate_aborting(ctx))
        return limit_throw(ctx);
    char msg[1100];
    snprintf(msg, sizeof(msg), "%s: %s", sqlite3_errmsg(db), ew__d1_code_name(rc));
    return d1_throw(ctx, "D1_ERROR", msg);
}

/* ---------------------------------------------------------------------------------------------------------
 * Binding values
 */

/* Pushes the value at idx converted as workerd's bind() converts it, or throws D1_TYPE_ERROR. */
static void push_bind_value(duk_context *ctx, duk_idx_t idx)
{
    if (duk_is_number(ctx, idx) || duk_is_string(ctx, idx) || duk_is_null(ctx, idx)) {
        duk_dup(ctx, idx);
        return;
    }
    if (duk_is_boolean(ctx, idx)) {
        duk_push_int(ctx, duk_get_boolean(ctx, idx) ? 1 : 0);
        return;
    }
    if (duk_is_buffer_data(ctx, idx)) {
        duk_size_t n;
        const void *p = duk_get_buffer_data(ctx, idx, &n);
        void *copy = duk_push_fixed_buffer(ctx, n);
        if (n > 0)
            memcpy(copy, p, n);
        duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
        return;
    }
    if (duk_is_array(ctx, idx)) {
        bool bytes = true;
        duk_size_t n = duk_get_length(ctx, idx);
        for (duk_size_t i = 0; i < n && bytes; i++) {
            duk_get_prop_index(ctx, idx, (duk_uarridx_t) i);
            double b = duk_is_number(ctx, -1) ? duk_get_number(ctx, -1) : -1;
            bytes = b >= 0 && b < 256;
            duk_pop(ctx);
        }
        if (bytes) {
            uint8_t *copy = duk_push_fixed_buffer(ctx, n);
            for (duk_size_t i = 0; i < n; i++) {
                duk_get_prop_index(ctx, idx, (duk_uarridx_t) i);
                copy[i] = (uint8_t) duk_get_number(ctx, -1);
                duk_pop(ctx);
            }
            duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
            duk_remove(ctx, -2);
            return;
        }
    }
    /* D1_TYPE_ERROR: Type '<typeof>' not supported for value '<String(value)>' */
    const char *type = duk_is_undefined(ctx, idx) ? "undefined"
                       : duk_is_function(ctx, idx) ? "function"
                       : duk_is_symbol(ctx, idx)   ? "symbol"
                                                   : "object";
    duk_dup(ctx, idx);
    const char *text = duk_is_symbol(ctx, -1) ? "Symbol()" : duk_safe_to_string(ctx, -1);
    char msg[400];
    snprintf(msg, sizeof(msg), "Type '%s' not supported for value '%.300s'", type, text);
    (void) d1_throw(ctx, "D1_TYPE_ERROR", msg);
}

/* Binds the statement object's params (array at params_idx) to st. Throws on a count mismatch. */
static void bind_params(duk_context *ctx, sqlite3 *db, sqlite3_stmt *st, duk_idx_t params_idx)
{
    duk_size_t n = duk_get_length(ctx, params_idx);
    if ((int) n != sqlite3_bind_parameter_count(st) || n > MAX_PARAMS)
        (void) d1_throw(ctx, "D1_ERROR", "Wrong number of parameter bindings for SQL query.");
    for (duk_size_t i = 0; i < n; i++) {
        int col = (int) i + 1, rc;
        duk_get_prop_index(ctx, params_idx, (duk_uarridx_t) i);
        if (duk_is_null(ctx, -1)) {
            rc = sqlite3_bind_null(st, col);
        } else if (duk_is_number(ctx, -1)) {
            double v = duk_get_number(ctx, -1);
            if (v == trunc(v) && fabs(v) <= 9007199254740991.0)
                rc = sqlite3_bind_int64(st, col, (sqlite3_int64) v);
            else
                rc = sqlite3_bind_double(st, col, v);
        } else if (duk_is_buffer_data(ctx, -1)) {
            duk_size_t len;
            const void *p = duk_get_buffer_data(ctx, -1, &len);
            rc = sqlite3_bind_blob64(st, col, len ? p : "", len, SQLITE_TRANSIENT);
        } else {
            size_t len;
            const char *s = ew__to_utf8(ctx, -1, &len);
            rc = sqlite3_bind_text64(st, col, s, len, SQLITE_TRANSIENT, SQLITE_UTF8);
        }
        duk_pop(ctx);
        if (rc != SQLITE_OK)
            (void) sql_throw(ctx, db, rc);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Running one statement
 */

static int on_progress(void *udata)
{
    return udata != NULL && ew__duk_exec_timeout(udata) != 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* A statement from prepare_user is done: reset it for its next use if the cache keeps it, else finalize. */
static void stmt_done(ew__res_store_t *rs, sqlite3_stmt *st)
{
    d1_state_t *s = state_of(rs);
    for (int i = 0; i < STMT_CACHE; i++) {
        if (s->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return;
        }
    }
    sqlite3_finalize(st);
}

/* Keeps a freshly prepared statement in the cache, in place of the least recently used one. */
static void cache_keep(d1_state_t *s, const char *sql, size_t len, sqlite3_stmt *st)
{
    int victim = 0;
    for (int i = 1; i < STMT_CACHE; i++)
        if (s->cache[i].used < s->cache[victim].used)
            victim = i;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return; /* not cached: finalized after use */
    memcpy(copy, sql, len);
    copy[len] = '\0';
    sqlite3_finalize(s->cache[victim].st);
    free(s->cache[victim].sql);
    s->cache[victim] = (cached_stmt_t) {copy, len, st, ++s->tick};
}

/* Prepares the script's SQL (one statement) under the authorizer, or takes it from the cache. Release it
 * with stmt_done(). Throws D1_ERROR. */
static sqlite3_stmt *prepare_user(duk_context *ctx, ew__res_store_t *rs, const char *sql, size_t len)
{
    sqlite3 *db = ew__store_db(rs->store);
    d1_state_t *s = state_of(rs);
    for (int i = 0; i < STMT_CACHE; i++) {
        cached_stmt_t *c = &s->cache[i];
        if (c->sql != NULL && c->len == len && memcmp(c->sql, sql, len) == 0 && !sqlite3_stmt_busy(c->st)) {
            c->used = ++s->tick;
            return c->st;
        }
    }
    if (ew__d1_is_vacuum(sql))
        (void) d1_throw(ctx, "D1_ERROR", "not authorized: SQLITE_AUTH");
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    s->user_sql++;
    int rc = sqlite3_prepare_v2(db, sql, (int) len, &st, &tail);
    s->user_sql--;
    if (rc != SQLITE_OK)
        (void) sql_throw(ctx, db, rc);
    if (st == NULL)
        (void) d1_throw(ctx, "D1_ERROR", "No SQL statements detected.");
    /* Anything but blanks and comments after the first statement is a second statement. */
    if (tail != NULL && *tail != '\0') {
        sqlite3_stmt *next = NULL;
        s->user_sql++;
        rc = sqlite3_prepare_v2(db, tail, (int) (len - (size_t) (tail - sql)), &next, NULL);
        s->user_sql--;
        sqlite3_finalize(next);
        if (rc != SQLITE_OK || next != NULL) {
            sqlite3_finalize(st);
            (void) d1_throw(ctx, "D1_ERROR", "A prepared SQL statement must contain only one statement.");
        }
    }
    cache_keep(s, sql, len, st);
    return st;
}

/* Pushes a cell of the current row: numbers, UTF-8 text, BLOB as an array of byte numbers, null. */
static void push_cell(duk_context *ctx, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        duk_push_number(ctx, (double) sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        duk_push_number(ctx, sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT:
        ew__push_utf8(ctx, (const char *) sqlite3_column_text(st, i), (size_t) sqlite3_column_bytes(st, i));
        break;
    case SQLITE_BLOB: {
        const uint8_t *p = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        duk_push_array(ctx);
        for (int k = 0; k < n; k++) {
            duk_push_uint(ctx, p[k]);
            duk_put_prop_index(ctx, -2, (duk_uarridx_t) k);
        }
        break;
    }
    default:
        duk_push_null(ctx);
    }
}

struct run_args {
    sqlite3_stmt *st;
    fmt_t fmt;
    bool names;          /* FMT_ARRAYS: the column names first */
    int rc;              /* out: the last sqlite3_step result */
    double rows;         /* out: rows returned */
};

/* Safe-call body: steps the statement and pushes its rows (objects or arrays). Leaves a->rc at the result
 * that ended the loop (SQLITE_DONE on success). */
static duk_ret_t push_rows(duk_context *ctx, void *udata)
{
    struct run_args *a = udata;
    int ncol = sqlite3_column_count(a->st);
    duk_idx_t names = duk_push_array(ctx);
    for (int i = 0; i < ncol; i++) {
        const char *n = sqlite3_column_name(a->st, i);
        ew__push_utf8(ctx, n != NULL ? n : "", n != NULL ? strlen(n) : 0);
        duk_put_prop_index(ctx, names, (duk_uarridx_t) i);
    }
    duk_idx_t rows = duk_push_array(ctx);
    duk_uarridx_t nrows = 0;
    if (a->fmt == FMT_ARRAYS && a->names) {
        duk_dup(ctx, names);
        duk_put_prop_index(ctx, rows, nrows++);
    }
    int retries = 0;
    for (;;) {
        a->rc = sqlite3_step(a->st);
        if ((a->rc & 0xff) == SQLITE_BUSY && a->rows == 0 && ++retries < BUSY_TRIES) {
            sqlite3_reset(a->st);
            continue;
        }
        if (a->rc != SQLITE_ROW)
            break;
        a->rows++;
        if (a->fmt == FMT_ARRAYS)
            duk_push_array(ctx);
        else
            duk_push_object(ctx);
        for (int i = 0; i < ncol; i++) {
            if (a->fmt == FMT_OBJECTS)
                duk_get_prop_index(ctx, names, (duk_uarridx_t) i);
            push_cell(ctx, a->st, i);
            if (a->fmt == FMT_OBJECTS)
                duk_def_prop(ctx, -3, DATA_PROP);
            else
                duk_put_prop_index(ctx, -2, (duk_uarridx_t) i);
        }
        duk_put_prop_index(ctx, rows, nrows++);
    }
    duk_remove(ctx, names);
    return 1;
}

/* Database size in bytes (page_count * page_size). */
static double db_size(ew__res_store_t *rs)
{
    static const char SQL_SIZE[] = "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";
    sqlite3_stmt *st = ew__store_stmt(rs->store, SQL_SIZE, NULL);
    double size = 0;
    if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
        size = (double) sqlite3_column_int64(st, 0);
    ew__store_release(st);
    return size;
}

/* Pushes D1's meta object. */
static void push_meta(duk_context *ctx, ew__res_store_t *rs, double duration, double changes, double last_id,
                      double rows_read, double rows_written)
{
    duk_push_object(ctx);
    duk_push_string(ctx, "edgeworker-d1");
    duk_put_prop_literal(ctx, -2, "served_by");
    duk_push_number(ctx, duration);
    duk_put_prop_literal(ctx, -2, "duration");
    duk_push_number(ctx, changes);
    duk_put_prop_literal(ctx, -2, "changes");
    duk_push_number(ctx, last_id);
    duk_put_prop_literal(ctx, -2, "last_row_id");
    duk_push_boolean(ctx, rows_written > 0);
    duk_put_prop_literal(ctx, -2, "changed_db");
    duk_push_number(ctx, db_size(rs));
    duk_put_prop_literal(ctx, -2, "size_after");
    duk_push_number(ctx, rows_read);
    duk_put_prop_literal(ctx, -2, "rows_read");
    duk_push_number(ctx, rows_written);
    duk_put_prop_literal(ctx, -2, "rows_written");
}

struct stmt_args {
    sqlite3 *db;
    struct run_args run;
    duk_idx_t params;
};

/* Safe-call body: binds the params and pushes the rows. */
static duk_ret_t bind_and_run(duk_context *ctx, void *udata)
{
    struct stmt_args *a = udata;
    bind_params(ctx, a->db, a->run.st, a->params);
    return push_rows(ctx, &a->run);
}

/* Throws D1_ERROR for a store failure (the group's transaction could not start). */
static duk_ret_t store_throw(duk_context *ctx, const ew_error_t *err)
{
    return d1_throw(ctx, "D1_ERROR", err->message);
}

/* Commits the writes of this loop turn before a read, so that no script reads rows whose writer has not
 * been told they are on disk (a failed commit would have shown data that never existed). */
static void read_barrier(ew__res_store_t *rs)
{
    if (ew__store_in_group(rs->store))
        (void) ew__store_sync(rs->store); /* a failure rejects those writes; the read goes on */
}

/* Runs the statement object at stmt_idx and pushes D1's result: {success, meta, results} for
 * FMT_OBJECTS, the array of rows for FMT_ARRAYS. A write runs inside the loop turn's group transaction
 * (ew__store_begin; `in_batch`: the caller's) and the function returns true: the result may only be
 * given to the script once the group committed (settle_later). Throws D1 errors (the statement is
 * finalized first). */
static bool run_statement(duk_context *ctx, ew__res_store_t *rs, duk_idx_t stmt_idx, fmt_t fmt, bool names,
                          bool in_batch)
{
    stmt_idx = duk_require_normalize_index(ctx, stmt_idx);
    sqlite3 *db = ew__store_db(rs->store);
    duk_get_prop_literal(ctx, stmt_idx, SQL_KEY);
    size_t len;
    const char *sql = ew__to_utf8(ctx, -1, &len);
    double t0 = now_ms();
    sqlite3_stmt *st = prepare_user(ctx, rs, sql, len);
    bool ro = sqlite3_stmt_readonly(st) != 0;
    if (!in_batch && ro) {
        read_barrier(rs);
    } else if (!in_batch) {
        ew_error_t err;
        if (ew__store_begin(rs->store, &err) != EW_OK) {
            stmt_done(rs, st);
            (void) store_throw(ctx, &err);
        }
    }
    duk_get_prop_literal(ctx, stmt_idx, PARAMS_KEY);
    struct stmt_args a = {db, {st, fmt, names, SQLITE_OK, 0}, duk_get_top_index(ctx)};
    int64_t total_before = sqlite3_total_changes64(db);
    sqlite3_progress_handler(db, PROGRESS_OPS, on_progress, ew__isolate_of(ctx));
    int prc = duk_safe_call(ctx, bind_and_run, &a, 0, 1);
    sqlite3_progress_handler(db, 0, NULL, NULL);
    int scan = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, 1);
    if (prc != DUK_EXEC_SUCCESS) {
        stmt_done(rs, st);
        (void) duk_throw(ctx);
    }
    if (a.run.rc != SQLITE_DONE) {
        stmt_done(rs, st);
        (void) sql_throw(ctx, db, a.run.rc);
    }
    stmt_done(rs, st);
    double changes = ro ? 0 : (double) sqlite3_changes64(db);
    double written = (double) (sqlite3_total_changes64(db) - total_before);
    if (fmt == FMT_ARRAYS)
        return !ro; /* the rows are on top */
    duk_push_object(ctx);
    duk_push_true(ctx);
    duk_put_prop_literal(ctx, -2, "success");
    push_meta(ctx, rs, now_ms() - t0, changes, (double) sqlite3_last_insert_rowid(db), a.run.rows + scan, written);
    duk_put_prop_literal(ctx, -2, "meta");
    duk_dup(ctx, -2);
    duk_put_prop_literal(ctx, -2, "results");
    duk_remove(ctx, -2);
    return !ro;
}

/* A write whose promise waits for its group commit. */
typedef struct d1_op {
    ew__res_op_t base; /* first: base.write.udata == this */
} d1_op_t;

static void op_done(ew__store_write_t *w, ew_status_t status, const char *message)
{
    d1_op_t *op = w->udata;
    char msg[1200];
    if (status != EW_OK)
        snprintf(msg, sizeof(msg), "D1_ERROR: %s", message);
    ew__res_op_settle(&op->base, status, status == EW_OK ? NULL : msg);
    free(op);
}

/* Replaces the result on top of the stack with the promise the script gets: resolved now for reads, or
 * (wrote) pending until the group holding the write committed, resolving with the result then. */
static void settle_later(duk_context *ctx, ew__res_store_t *rs, bool wrote)
{
    if (!wrote) {
        ew__promise_push_resolved(ctx);
        return;
    }
    uint32_t id = ew__res_push_pending(ctx, rs->cache); /* [result promise] */
    duk_swap_top(ctx, -2);
    ew__res_keep_result(ctx, id);                        /* [promise] */
    d1_op_t *op = calloc(1, sizeof(*op));
    if (op == NULL)
        (void) d1_throw(ctx, "D1_ERROR", "out of memory");
    op->base.rs = rs;
    op->base.write.apply = NULL; /* it ran already, inside the group */
    op->base.write.done = op_done;
    op->base.write.udata = op;
    ew__res_op_start(ctx, &op->base, id);
    ew__store_queue(rs->store, &op->base.write);
}

/* ---------------------------------------------------------------------------------------------------------
 * D1PreparedStatement
 */

/* The database `this` (index 0 in every method body) belongs to. */
static ew__res_store_t *require_db(duk_context *ctx)
{
    ew__res_store_t *rs = NULL;
    if (duk_is_object(ctx, 0) && duk_get_prop_literal(ctx, 0, DB_KEY))
        rs = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (rs == NULL)
        (void) duk_type_error(ctx, "Illegal invocation");
    return rs;
}

/* Pushes a new statement object of database rs for the SQL at sql_idx with the params array at params_idx
 * (0: none). */
static void push_statement(duk_context *ctx, ew__res_store_t *rs, duk_idx_t sql_idx, duk_idx_t params_idx)
{
    sql_idx = duk_require_normalize_index(ctx, sql_idx);
    if (params_idx != 0)
        params_idx = duk_require_normalize_index(ctx, params_idx);
    duk_push_object(ctx);
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, STMT_PROTO_KEY);
    duk_set_prototype(ctx, -3);
    duk_pop(ctx);
    duk_push_pointer(ctx, rs);
    duk_put_prop_literal(ctx, -2, DB_KEY);
    duk_dup(ctx, sql_idx);
    duk_put_prop_literal(ctx, -2, SQL_KEY);
    if (params_idx != 0)
        duk_dup(ctx, params_idx);
    else
        duk_push_array(ctx);
    duk_put_prop_literal(ctx, -2, PARAMS_KEY);
}

/* bind(...values): a new statement with the values converted (throws D1_TYPE_ERROR synchronously, as
 * workerd's bind() does). */
static duk_ret_t stmt_bind(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    duk_push_this(ctx);
    duk_idx_t self = duk_get_top_index(ctx);
    ew__res_store_t *rs = NULL;
    if (duk_is_object(ctx, self) && duk_get_prop_literal(ctx, self, DB_KEY))
        rs = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (rs == NULL)
        return duk_type_error(ctx, "Illegal invocation");
    duk_idx_t params = duk_push_array(ctx);
    for (duk_idx_t i = 0; i < n; i++) {
        push_bind_value(ctx, i);
        duk_put_prop_index(ctx, params, (duk_uarridx_t) i);
    }
    duk_get_prop_literal(ctx, self, SQL_KEY);
    push_statement(ctx, rs, -1, params);
    return 1;
}

/* first(column?): [this, column] */
static duk_ret_t first_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_db(ctx);
    bool has_col = !duk_is_undefined(ctx, 1);
    if (has_col)
        duk_to_string(ctx, 1);
    bool wrote = run_statement(ctx, rs, 0, FMT_ARRAYS, true, false);
    if (duk_get_length(ctx, -1) < 2) {
        duk_push_null(ctx);
        settle_later(ctx, rs, wrote);
        return 1;
    }
    duk_idx_t rows = duk_get_top_index(ctx);
    duk_get_prop_index(ctx, rows, 0); /* names */
    duk_get_prop_index(ctx, rows, 1); /* first row */
    duk_idx_t obj = duk_push_object(ctx);
    duk_size_t ncol = duk_get_length(ctx, -3);
    for (duk_size_t i = 0; i < ncol; i++) {
        duk_get_prop_index(ctx, obj - 2, (duk_uarridx_t) i);
        duk_get_prop_index(ctx, obj - 1, (duk_uarridx_t) i);
        duk_def_prop(ctx, obj, DATA_PROP);
    }
    if (has_col) {
        duk_dup(ctx, 1);
        if (!duk_get_prop(ctx, obj)) {
            char msg[300];
            snprintf(msg, sizeof(msg), "Column not found (%.250s)", duk_get_string(ctx, 1));
            duk_push_error_object(ctx, DUK_ERR_ERROR, "D1_COLUMN_NOTFOUND: %s", msg);
            duk_push_error_object(ctx, DUK_ERR_ERROR, "Column not found");
            duk_put_prop_literal(ctx, -2, "cause");
            return duk_throw(ctx);
        }
    }
    settle_later(ctx, rs, wrote);
    return 1;
}

/* all() and run(): [this] */
static duk_ret_t all_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_db(ctx);
    settle_later(ctx, rs, run_statement(ctx, rs, 0, FMT_OBJECTS, false, false));
    return 1;
}

/* raw({columnNames}): [this, options] */
static duk_ret_t raw_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_db(ctx);
    bool names = false;
    if (duk_is_object(ctx, 1)) {
        duk_get_prop_literal(ctx, 1, "columnNames");
        names = duk_to_boolean(ctx, -1);
        duk_pop(ctx);
    }
    settle_later(ctx, rs, run_statement(ctx, rs, 0, FMT_ARRAYS, names, false));
    return 1;
}

static duk_ret_t stmt_first(duk_context *ctx)
{
    return ew__res_call(ctx, first_body, 1);
}

static duk_ret_t stmt_all(duk_context *ctx)
{
    return ew__res_call(ctx, all_body, 0);
}

static duk_ret_t stmt_raw(duk_context *ctx)
{
    return ew__res_call(ctx, raw_body, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * D1Database
 */

/* prepare(sql) */
static duk_ret_t db_prepare(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    duk_push_this(ctx);
    ew__res_store_t *rs = NULL;
    if (duk_is_object(ctx, 1) && duk_get_prop_literal(ctx, 1, DB_KEY))
        rs = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (rs == NULL)
        return duk_type_error(ctx, "Illegal invocation");
    if (duk_is_undefined(ctx, 0))
        return duk_type_error(ctx, "Failed to execute 'prepare' on 'D1Database': parameter 1 is not of type 'string'.");
    duk_to_string(ctx, 0);
    push_statement(ctx, rs, 0, 0);
    return 1;
}

struct batch_args {
    ew__res_store_t *rs;
    duk_idx_t list;
};

/* Safe-call body: runs every statement of the list, pushing the array of their results. */
static duk_ret_t batch_run(duk_context *ctx, void *udata)
{
    struct batch_args *a = udata;
    duk_size_t n = duk_get_length(ctx, a->list);
    duk_idx_t out = duk_push_array(ctx);
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, a->list, (duk_uarridx_t) i);
        (void) run_statement(ctx, a->rs, -1, FMT_OBJECTS, false, true);
        duk_put_prop_index(ctx, out, (duk_uarridx_t) i);
        duk_set_top(ctx, out + 1);
    }
    return 1;
}

/* batch(statements): [this, statements]. One transaction: all or nothing. */
static duk_ret_t batch_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_db(ctx);
    if (!duk_is_array(ctx, 1))
        return duk_type_error(ctx, "Failed to execute 'batch' on 'D1Database': parameter 1 is not of type 'Array'.");
    duk_size_t n = duk_get_length(ctx, 1);
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, 1, (duk_uarridx_t) i);
        ew__res_store_t *owner = NULL;
        if (duk_is_object(ctx, -1) && duk_get_prop_literal(ctx, -1, SQL_KEY)) {
            duk_pop(ctx);
            duk_get_prop_literal(ctx, -1, DB_KEY);
            owner = duk_get_pointer(ctx, -1);
        }
        duk_pop_2(ctx);
        if (owner != rs)
            return duk_type_error(ctx, "Failed to execute 'batch' on 'D1Database': statement %lu is not a "
                                       "D1PreparedStatement of this database.", (unsigned long) i);
    }
    /* The batch is a savepoint inside the loop turn's group transaction: all or nothing, one commit with
     * the turn's other writes. */
    sqlite3 *db = ew__store_db(rs->store);
    ew_error_t err;
    if (ew__store_begin(rs->store, &err) != EW_OK)
        return store_throw(ctx, &err);
    int rc = sqlite3_exec(db, "SAVEPOINT d1_batch", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sql_throw(ctx, db, rc);
    struct batch_args a = {rs, 1};
    if (duk_safe_call(ctx, batch_run, &a, 0, 1) != DUK_EXEC_SUCCESS) {
        if (!sqlite3_get_autocommit(db)) {
            sqlite3_exec(db, "ROLLBACK TO d1_batch", NULL, NULL, NULL);
            sqlite3_exec(db, "RELEASE d1_batch", NULL, NULL, NULL);
        }
        return duk_throw(ctx);
    }
    rc = sqlite3_exec(db, "RELEASE d1_batch", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return sql_throw(ctx, db, rc);
    settle_later(ctx, rs, true);
    return 1;
}

/* Runs every statement of one exec() line (several may share a line). Returns SQLITE_OK or the error code. */
static int exec_line(duk_context *ctx, ew__res_store_t *rs, const char *line, size_t len)
{
    sqlite3 *db = ew__store_db(rs->store);
    d1_state_t *s = state_of(rs);
    const char *p = line, *end = line + len;
    if (ew__d1_is_vacuum(line))
        return SQLITE_AUTH;
    while (p < end) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        s->user_sql++;
        int rc = sqlite3_prepare_v2(db, p, (int) (end - p), &st, &tail);
        s->user_sql--;
        if (rc != SQLITE_OK)
            return rc;
        if (st == NULL)
            break;
        sqlite3_progress_handler(db, PROGRESS_OPS, on_progress, ew__isolate_of(ctx));
        int tries = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW || ((rc & 0xff) == SQLITE_BUSY && ++tries < BUSY_TRIES))
            if (rc != SQLITE_ROW)
                sqlite3_reset(st);
        sqlite3_progress_handler(db, 0, NULL, NULL);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return rc;
        p = tail;
    }
    return SQLITE_OK;
}

/* exec(sql): [this, sql]. Like D1, each line of the trimmed text is one query (of one or more statements);
 * the first failing line stops it: "D1_EXEC_ERROR: Error in line N: <line>: <message>". */
static duk_ret_t exec_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_db(ctx);
    sqlite3 *db = ew__store_db(rs->store);
    size_t len;
    const char *sql = ew__to_utf8(ctx, 1, &len);
    while (len > 0 && (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r'))
        sql++, len--;
    while (len > 0 && (sql[len - 1] == ' ' || sql[len - 1] == '\t' || sql[len - 1] == '\n' || sql[len - 1] == '\r'))
        len--;
    double t0 = now_ms();
    size_t count = 0;
    const char *p = sql, *end = sql + len;
    ew_error_t err;
    if (ew__store_begin(rs->store, &err) != EW_OK)
        return store_throw(ctx, &err);
    do {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        const char *eol = nl != NULL ? nl : end;
        count++;
        char *line = strndup(p, (size_t) (eol - p));
        if (line == NULL)
            return duk_error(ctx, DUK_ERR_ERROR, "D1_EXEC_ERROR: out of memory");
        int rc = exec_line(ctx, rs, line, (size_t) (eol - p));
        if (rc != SQLITE_OK) {
            if (ew__isolate_aborting(ctx)) {
                free(line);
                return limit_throw(ctx);
            }
            char msg[1400];
            snprintf(msg, sizeof(msg), "Error in line %zu: %.300s: %s: %s", count, line,
                     rc == SQLITE_AUTH ? "not authorized" : sqlite3_errmsg(db), ew__d1_code_name(rc));
            free(line);
            return d1_throw(ctx, "D1_EXEC_ERROR", msg);
        }
        free(line);
        p = eol + 1;
    } while (p <= end && len > 0);
    duk_push_object(ctx);
    duk_push_number(ctx, (double) count);
    duk_put_prop_literal(ctx, -2, "count");
    duk_push_number(ctx, now_ms() - t0);
    duk_put_prop_literal(ctx, -2, "duration");
    settle_later(ctx, rs, true);
    return 1;
}

/* dump(): the database file's bytes (a consistent snapshot, as SQLite serializes it). */
static duk_ret_t dump_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs = require_db(ctx);
    sqlite3 *db = ew__store_db(rs->store);
    read_barrier(rs);
    sqlite3_int64 size = 0;
    unsigned char *bytes = sqlite3_serialize(db, "main", &size, 0);
    if (bytes == NULL && size != 0)
        return d1_throw(ctx, "D1_DUMP_ERROR", "out of memory");
    void *buf = duk_push_fixed_buffer(ctx, (duk_size_t) size);
    if (size > 0)
        memcpy(buf, bytes, (size_t) size);
    sqlite3_free(bytes);
    duk_push_buffer_object(ctx, -1, 0, (duk_size_t) size, DUK_BUFOBJ_ARRAYBUFFER);
    ew__promise_push_resolved(ctx);
    return 1;
}

static duk_ret_t db_batch(duk_context *ctx)
{
    return ew__res_call(ctx, batch_body, 1);
}

static duk_ret_t db_exec(duk_context *ctx)
{
    return ew__res_call(ctx, exec_body, 1);
}

static duk_ret_t db_dump(duk_context *ctx)
{
    return ew__res_call(ctx, dump_body, 0);
}

/* withSession(constraintOrBookmark?): the Sessions API. There are no read replicas here, so every query of
 * a session sees the latest writes whatever the constraint, and no new bookmarks appear: getBookmark()
 * gives back a bookmark the session was opened with, or null for the constraints "first-primary" and
 * "first-unconstrained" (the default). */
static duk_ret_t db_with_session(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    duk_push_this(ctx);
    ew__res_store_t *rs = NULL;
    if (duk_is_object(ctx, 1) && duk_get_prop_literal(ctx, 1, DB_KEY))
        rs = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    if (rs == NULL)
        return duk_type_error(ctx, "Illegal invocation");
    if (duk_is_null_or_undefined(ctx, 0)) {
        duk_push_literal(ctx, "");
        duk_replace(ctx, 0);
    }
    duk_push_literal(ctx, "trim");
    duk_call_prop(ctx, 0, 0); /* as workerd's constraintOrBookmark?.trim(): a TypeError for non-strings */
    if (duk_is_string(ctx, -1) && duk_get_length(ctx, -1) == 0) {
        duk_pop(ctx);
        duk_push_literal(ctx, "first-unconstrained");
    }
    duk_push_object(ctx);
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, SESSION_PROTO_KEY);
    duk_set_prototype(ctx, -3);
    duk_pop(ctx);
    duk_push_pointer(ctx, rs);
    duk_put_prop_literal(ctx, -2, DB_KEY);
    duk_swap_top(ctx, -2);
    duk_put_prop_literal(ctx, -2, BOOKMARK_KEY);
    return 1;
}

/* getBookmark() of a session. */
static duk_ret_t session_get_bookmark(duk_context *ctx)
{
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1) || !duk_get_prop_literal(ctx, -1, BOOKMARK_KEY))
        return duk_type_error(ctx, "Illegal invocation");
    const char *b = duk_safe_to_string(ctx, -1);
    if (strcmp(b, "first-primary") == 0 || strcmp(b, "first-unconstrained") == 0)
        duk_push_null(ctx);
    return 1;
}

static const ew__method_t db_methods[] = {
    {"prepare", db_prepare, DUK_VARARGS, 1},
    {"batch", db_batch, DUK_VARARGS, 1},
    {"exec", db_exec, DUK_VARARGS, 1},
    {"dump", db_dump, DUK_VARARGS, 0},
    {"withSession", db_with_session, DUK_VARARGS, 0},
    {NULL, NULL, 0, 0},
};

static const ew__method_t session_methods[] = {
    {"prepare", db_prepare, DUK_VARARGS, 1},
    {"batch", db_batch, DUK_VARARGS, 1},
    {"getBookmark", session_get_bookmark, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__method_t stmt_methods[] = {
    {"bind", stmt_bind, DUK_VARARGS, 0},
    {"first", stmt_first, DUK_VARARGS, 0},
    {"all", stmt_all, DUK_VARARGS, 0},
    {"run", stmt_all, DUK_VARARGS, 0},
    {"raw", stmt_raw, DUK_VARARGS, 0},
    {NULL, NULL, 0, 0},
};

/* Makes the two prototypes once per heap (kept in the stash). */
static void make_protos(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_has_prop_literal(ctx, -1, DB_PROTO_KEY)) {
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, db_methods);
        duk_put_prop_literal(ctx, -2, DB_PROTO_KEY);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, stmt_methods);
        duk_put_prop_literal(ctx, -2, STMT_PROTO_KEY);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, session_methods);
        duk_put_prop_literal(ctx, -2, SESSION_PROTO_KEY);
    }
    duk_pop(ctx);
}

void ew__d1_push(duk_context *ctx, ew__res_store_t *rs)
{
    make_protos(ctx);
    duk_push_object(ctx);
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, DB_PROTO_KEY);
    duk_set_prototype(ctx, -3);
    duk_pop(ctx);
    duk_push_pointer(ctx, rs);
    duk_put_prop_literal(ctx, -2, DB_KEY);
}
