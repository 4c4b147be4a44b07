/*
 * do_storage.c — a Durable Object's storage: one SQLite database per object, and the natives lib/js/durable.js
 * builds ctx.storage (get/put/list/transaction/alarms) and ctx.storage.sql on.
 *
 * Write path (Cloudflare's "write coalescing" with output gates):
 *
 *   put()/sql.exec(write) ── BEGIN (if none open) + the statement, at once: later reads see it
 *          └─ commit event armed ──loop──> COMMIT (WAL, synchronous=FULL: on disk) ──> ew__do_committed():
 *                                           write promises resolve, the input gate reopens, replies the
 *                                           output gate held are sent
 *
 * So every write of one turn of JavaScript shares one fsync, a reply never leaves before the writes made
 * before it are durable, and a write whose promise resolved is on disk. transaction() is a SAVEPOINT inside
 * the open transaction (no COMMIT while one is open). Scripts' own SQL cannot touch our tables (_cf_*) nor
 * run BEGIN/COMMIT/SAVEPOINT: an authorizer refuses them, as Cloudflare does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "internal.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER PRIMARY KEY, value);";

enum { EXEC_INTERNAL = 1, EXEC_UNCONFIRMED = 2 };

/* ---------------------------------------------------------------------------------------------------------
 * Opening
 */

static bool starts_cf(const char *s)
{
    return s != NULL && strncmp(s, "_cf_", 4) == 0;
}

/* Scripts may not touch our tables nor manage transactions themselves. */
static int authorize(void *udata, int action, const char *a, const char *b, const char *db, const char *trig)
{
    (void) db;
    (void) trig;
    ew__do_obj_t *o = udata;
    if (o->internal)
        return SQLITE_OK;
    switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
        return SQLITE_DENY;
    default:
        return starts_cf(a) || starts_cf(b) ? SQLITE_DENY : SQLITE_OK;
    }
}

static void on_commit(evutil_socket_t fd, short what, void *arg);

ew_status_t ew__do_storage_open(ew__do_obj_t *o, ew_error_t *err)
{
    ew_runtime_t *rt = o->w->rt;
    const ew__do_ns_t *ns = &o->w->durables[o->ns_index];
    char *path = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int n;
    if (rt->state_dir != NULL) {
        n = asprintf(&path, "%s/do/%s", rt->state_dir, ns->dir);
        if (n >= 0 && ew__store_make_dirs(path, err) != EW_OK) {
            free(path);
            return EW_ERR_IO;
        }
        free(path);
        n = asprintf(&path, "%s/do/%s/%s.sqlite", rt->state_dir, ns->dir, o->id);
    } else {
        flags |= SQLITE_OPEN_URI;
        n = asprintf(&path, "file:ew-do-%p-%s-%s?mode=memory&cache=shared", (void *) rt, ns->dir, o->id);
    }
    if (n < 0)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening a Durable Object");
    int rc = sqlite3_open_v2(path, &o->db, flags, NULL);
    if (rc == SQLITE_OK && rt->state_dir != NULL) {
        rc = sqlite3_exec(o->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(o->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(o->db, SCHEMA, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ew__error_set(err, EW_ERR_IO, "cannot open the storage of Durable Object %s (%s): %s", o->id, path,
                      o->db ? sqlite3_errmsg(o->db) : sqlite3_errstr(rc));
        free(path);
        return EW_ERR_IO;
    }
    free(path);
    sqlite3_extended_result_codes(o->db, 1);
    sqlite3_busy_timeout(o->db, 10000);
    sqlite3_set_authorizer(o->db, authorize, o);
    o->commit_ev = event_new(rt->base, -1, 0, on_commit, o);
    if (o->commit_ev == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening a Durable Object");
    return EW_OK;
}

/* Runs SQL of ours that needs no result. */
static int exec_internal(ew__do_obj_t *o, const char *sql)
{
    bool was = o->internal; /* a statement being run may be re-prepared after this: keep its setting */
    o->internal = true;
    int rc = sqlite3_exec(o->db, sql, NULL, NULL, NULL);
    o->internal = was;
    return rc;
}

void ew__do_storage_close(ew__do_obj_t *o)
{
    if (o->db != NULL && o->in_tx && exec_internal(o, "COMMIT") != SQLITE_OK)
        exec_internal(o, "ROLLBACK");
    o->in_tx = false;
    for (int i = 0; i < o->nstmts; i++) {
        sqlite3_finalize(o->stmts[i].st);
        free(o->stmts[i].sql);
    }
    o->nstmts = 0;
    if (o->db != NULL)
        sqlite3_close_v2(o->db);
    o->db = NULL;
    if (o->commit_ev != NULL)
        event_free(o->commit_ev);
    o->commit_ev = NULL;
}

double ew__do_storage_read_alarm(const char *path)
{
    sqlite3 *db = NULL;
    double when = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, "SELECT value FROM _cf_METADATA WHERE key = 1", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            when = sqlite3_column_double(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close_v2(db);
    return when;
}

/* ---------------------------------------------------------------------------------------------------------
 * The write transaction and its commit
 */

static void schedule_commit(ew__do_obj_t *o)
{
    if (o->commit_queued)
        return;
    o->commit_queued = true;
    if (o->iso != NULL)
        o->iso->io_pending++; /* a request awaiting a write is waiting for I/O, not hung */
    o->commit_iso = o->iso;
    if (o->savepoints == 0)
        event_active(o->commit_ev, EV_TIMEOUT, 1);
}

/* Opens the implicit write transaction (once per commit group). */
static int begin(ew__do_obj_t *o)
{
    if (o->in_tx)
        return SQLITE_OK;
    int rc = exec_internal(o, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) {
        o->in_tx = true;
        schedule_commit(o);
    }
    return rc;
}

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__do_obj_t *o = arg;
    if (o->savepoints > 0)
        return; /* transaction() still open: re-armed when it ends */
    o->commit_queued = false;
    if (o->commit_iso != NULL && o->commit_iso->io_pending > 0)
        o->commit_iso->io_pending--;
    o->commit_iso = NULL;
    bool ok = true;
    char msg[512] = "";
    if (o->in_tx) {
        int rc = exec_internal(o, "COMMIT");
        if (rc != SQLITE_OK) {
            ok = false;
            snprintf(msg, sizeof(msg), "Durable Object storage write failed: %s", sqlite3_errmsg(o->db));
            if (!sqlite3_get_autocommit(o->db))
                exec_internal(o, "ROLLBACK");
        }
    }
    o->in_tx = false;
    o->confirm = false;
    ew__do_committed(o, ok, ok ? NULL : msg);
}

/* ---------------------------------------------------------------------------------------------------------
 * Natives
 */

ew__do_obj_t *ew__do_require_obj(duk_context *ctx, duk_idx_t idx)
{
    ew__do_obj_t *o = duk_get_pointer(ctx, idx);
    if (o == NULL || o->db == NULL)
        (void) duk_type_error(ctx, "Illegal invocation: this Durable Object's storage is no longer available.");
    return o;
}

#define PROGRESS_OPS 1000 /* SQLite VM steps between CPU-limit checks */

/* SQLite's progress handler: a statement is CPU time of the request running it, so the CPU limit stops
 * it (a recursive CTE must not hang the thread). udata is the isolate. */
static int on_progress(void *udata)
{
    return udata != NULL && ew__duk_exec_timeout(udata) != 0;
}

/* Throws the SQLite error of the object's database the way workerd reports it: "<message>: SQLITE_<CODE>";
 * when the CPU limit interrupted the statement, unwinds as Duktape's own timeout does. */
static duk_ret_t throw_sql(duk_context *ctx, ew__do_obj_t *o, int rc)
{
    if (ew__isolate_aborting(ctx)) {
        ew__duk_interrupt_now(ctx);
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "execution timeout");
    }
    const char *code;
    switch (rc & 0xff) {
    case SQLITE_AUTH:
        code = "AUTH";
        break;
    case SQLITE_CONSTRAINT:
        code = "CONSTRAINT";
        break;
    case SQLITE_RANGE:
        code = "RANGE";
        break;
    case SQLITE_FULL:
        code = "FULL";
        break;
    case SQLITE_TOOBIG:
        code = "TOOBIG";
        break;
    case SQLITE_MISMATCH:
        code = "MISMATCH";
        break;
    case SQLITE_IOERR:
        code = "IOERR";
        break;
    default:
        code = "ERROR";
        break;
    }
    return duk_error(ctx, DUK_ERR_ERROR, "%s: SQLITE_%s", sqlite3_errmsg(o->db), code);
}

/* A cached statement for sql (UTF-8, n bytes), prepared on first use; *tail gets the rest of the text. */
static int prepare(ew__do_obj_t *o, const char *sql, size_t n, sqlite3_stmt **out, const char **tail)
{
    for (int i = 0; i < o->nstmts; i++) {
        if (strlen(o->stmts[i].sql) == n && memcmp(o->stmts[i].sql, sql, n) == 0) {
            *out = o->stmts[i].st;
            *tail = sql + n;
            return SQLITE_OK;
        }
    }
    int rc = sqlite3_prepare_v3(o->db, sql, (int) n, SQLITE_PREPARE_PERSISTENT, out, tail);
    if (rc != SQLITE_OK || *out == NULL || *tail != sql + n || o->nstmts == 16)
        return rc; /* several statements or a full cache: not cached (the caller finalizes) */
    char *copy = malloc(n + 1);
    if (copy == NULL)
        return rc;
    memcpy(copy, sql, n);
    copy[n] = '\0';
    o->stmts[o->nstmts].sql = copy;
    o->stmts[o->nstmts].st = *out;
    o->nstmts++;
    return rc;
}

static bool is_cached(const ew__do_obj_t *o, const sqlite3_stmt *st)
{
    for (int i = 0; i < o->nstmts; i++)
        if (o->stmts[i].st == st)
            return true;
    return false;
}

/* Binds the values of the array at arr_idx from *next on to the statement's parameters. */
static void bind_params(duk_context *ctx, sqlite3_stmt *st, duk_idx_t arr_idx, duk_uarridx_t *next)
{
    int np = sqlite3_bind_parameter_count(st);
    duk_uarridx_t total = (duk_uarridx_t) duk_get_length(ctx, arr_idx);
    for (int p = 1; p <= np; p++) {
        if (*next >= total)
            break;
        duk_get_prop_index(ctx, arr_idx, (*next)++);
        if (duk_is_null_or_undefined(ctx, -1)) {
            sqlite3_bind_null(st, p);
        } else if (duk_is_boolean(ctx, -1)) {
            sqlite3_bind_int(st, p, duk_get_boolean(ctx, -1));
        } else if (duk_is_number(ctx, -1)) {
            double v = duk_get_number(ctx, -1);
            if (v == trunc(v) && fabs(v) <= 9007199254740992.0)
                sqlite3_bind_int64(st, p, (sqlite3_int64) v);
            else
                sqlite3_bind_double(st, p, v);
        } else if (duk_is_string(ctx, -1)) {
            size_t n;
            const char *s = ew__to_utf8(ctx, -1, &n);
            sqlite3_bind_text64(st, p, s, n, SQLITE_TRANSIENT, SQLITE_UTF8);
        } else if (duk_is_buffer_data(ctx, -1)) {
            duk_size_t n;
            const void *b = duk_get_buffer_data(ctx, -1, &n);
            sqlite3_bind_blob64(st, p, n ? b : "", n, SQLITE_TRANSIENT);
        } else {
            (void) duk_type_error(ctx, "Unsupported type of value for SQL binding %d (use a string, number, null "
                                       "or ArrayBuffer).", p);
        }
        duk_pop(ctx);
    }
}

static void push_column(duk_context *ctx, sqlite3_stmt *st, int c)
{
    switch (sqlite3_column_type(st, c)) {
    case SQLITE_INTEGER:
        duk_push_number(ctx, (double) sqlite3_column_int64(st, c));
        break;
    case SQLITE_FLOAT:
        duk_push_number(ctx, sqlite3_column_double(st, c));
        break;
    case SQLITE_TEXT:
        ew__push_utf8(ctx, (const char *) sqlite3_column_text(st, c), (size_t) sqlite3_column_bytes(st, c));
        break;
    case SQLITE_BLOB: {
        size_t n = (size_t) sqlite3_column_bytes(st, c);
        void *buf = duk_push_fixed_buffer(ctx, n);
        if (n > 0)
            memcpy(buf, sqlite3_column_blob(st, c), n);
        duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
        break;
    }
    default:
        duk_push_null(ctx);
    }
}

struct exec_state {
    ew__do_obj_t *o;
    sqlite3_stmt *st;             /* the statement being stepped (released on error by the caller) */
};

/* Steps one statement into the result object at res: columns and rows replace the previous statement's. */
static void run_statement(duk_context *ctx, struct exec_state *x, duk_idx_t res, double *read, double *written)
{
    ew__do_obj_t *o = x->o;
    sqlite3_stmt *st = x->st;
    if (!sqlite3_stmt_readonly(st)) {
        int rc = begin(o);
        if (rc != SQLITE_OK)
            (void) throw_sql(ctx, o, rc);
    }
    int ncol = sqlite3_column_count(st);
    duk_idx_t cols = duk_push_array(ctx);
    for (int c = 0; c < ncol; c++) {
        const char *name = sqlite3_column_name(st, c);
        ew__push_utf8(ctx, name ? name : "", name ? strlen(name) : 0);
        duk_put_prop_index(ctx, cols, (duk_uarridx_t) c);
    }
    duk_idx_t rows = duk_push_array(ctx);
    duk_uarridx_t nrows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        duk_idx_t row = duk_push_array(ctx);
        for (int c = 0; c < ncol; c++) {
            push_column(ctx, st, c);
            duk_put_prop_index(ctx, row, (duk_uarridx_t) c);
        }
        duk_put_prop_index(ctx, rows, nrows++);
    }
    if (rc != SQLITE_DONE)
        (void) throw_sql(ctx, o, rc);
    *read += nrows;
    if (!sqlite3_stmt_readonly(st)) {
        *written += sqlite3_changes(o->db);
        /* A write reads the rows it touches, as Cloudflare counts them. */
        *read += sqlite3_changes(o->db);
    }
    if (ncol > 0 || nrows > 0) {
        duk_put_prop_literal(ctx, res, "rows");
        duk_put_prop_literal(ctx, res, "columns");
    } else {
        duk_pop_2(ctx);
    }
}

/* Safe-call body of exec: [handle sql bindings flags] -> [result]. */
static duk_ret_t exec_body(duk_context *ctx, void *udata)
{
    struct exec_state *x = udata;
    ew__do_obj_t *o = x->o;
    int flags = duk_get_int(ctx, 3);
    size_t n;
    const char *sql = ew__to_utf8(ctx, 1, &n);
    const char *end = sql + n;
    duk_idx_t res = duk_push_object(ctx);
    duk_push_array(ctx);
    duk_put_prop_literal(ctx, res, "columns");
    duk_push_array(ctx);
    duk_put_prop_literal(ctx, res, "rows");
    double read = 0, written = 0;
    duk_uarridx_t next = 0;
    bool any = false;
    while (sql < end) {
        const char *tail = NULL;
        x->st = NULL;
        int rc = prepare(o, sql, (size_t) (end - sql), &x->st, &tail);
        if (rc != SQLITE_OK)
            (void) throw_sql(ctx, o, rc);
        if (x->st == NULL) /* only whitespace or comments left */
            break;
        any = true;
        bind_params(ctx, x->st, 2, &next);
        if ((flags & EXEC_UNCONFIRMED) == 0 && !sqlite3_stmt_readonly(x->st))
            o->confirm = true;
        run_statement(ctx, x, res, &read, &written);
        if (is_cached(o, x->st)) {
            sqlite3_reset(x->st);
            sqlite3_clear_bindings(x->st);
        } else {
            sqlite3_finalize(x->st);
        }
        x->st = NULL;
        sql = tail;
    }
    if (!any && (flags & EXEC_INTERNAL) == 0)
        return duk_error(ctx, DUK_ERR_ERROR, "SQL code did not contain a statement.: SQLITE_MISUSE");
    if (next < (duk_uarridx_t) duk_get_length(ctx, 2))
        return duk_range_error(ctx, "Wrong number of parameter bindings for SQL query.");
    duk_push_number(ctx, read);
    duk_put_prop_literal(ctx, res, "rowsRead");
    duk_push_number(ctx, written);
    duk_put_prop_literal(ctx, res, "rowsWritten");
    return 1;
}

/* exec(handle, sql, bindings[], flags) -> {columns, rows, rowsRead, rowsWritten}: runs every statement of
 * sql (bindings consumed in order); the result is the last statement's. Writes open the implicit
 * transaction. flags: EXEC_INTERNAL (durable.js's own tables), EXEC_UNCONFIRMED (allowUnconfirmed). */
duk_ret_t ew__do_native_exec(duk_context *ctx)
{
    duk_set_top(ctx, 4);
    struct exec_state x = {ew__do_require_obj(ctx, 0), NULL};
    if (!duk_is_array(ctx, 2)) {
        duk_push_array(ctx);
        duk_replace(ctx, 2);
    }
    x.o->internal = (duk_get_int(ctx, 3) & EXEC_INTERNAL) != 0;
    sqlite3_progress_handler(x.o->db, PROGRESS_OPS, on_progress, ew__isolate_of(ctx));
    int rc = duk_safe_call(ctx, exec_body, &x, 4, 1);
    sqlite3_progress_handler(x.o->db, 0, NULL, NULL);
    x.o->internal = false;
    if (x.st != NULL) {
        if (is_cached(x.o, x.st)) {
            sqlite3_reset(x.st);
            sqlite3_clear_bindings(x.st);
        } else {
            sqlite3_finalize(x.st);
        }
    }
    if (rc != DUK_EXEC_SUCCESS)
        return duk_throw(ctx);
    return 1;
}

/* txn(handle, op): 0 opens a nested transaction (SAVEPOINT), 1 keeps it (RELEASE), 2 undoes it. */
duk_ret_t ew__do_native_txn(duk_context *ctx)
{
    ew__do_obj_t *o = ew__do_require_obj(ctx, 0);
    int op = duk_require_int(ctx, 1);
    int rc = SQLITE_OK;
    if (op == 0) {
        rc = begin(o);
        if (rc == SQLITE_OK)
            rc = exec_internal(o, "SAVEPOINT ew_txn");
        if (rc == SQLITE_OK)
            o->savepoints++;
    } else if (o->savepoints > 0) {
        if (op == 2)
            rc = exec_internal(o, "ROLLBACK TO ew_txn");
        int rc2 = exec_internal(o, "RELEASE ew_txn");
        if (rc == SQLITE_OK)
            rc = rc2;
        if (--o->savepoints == 0 && o->commit_queued)
            event_active(o->commit_ev, EV_TIMEOUT, 1);
    }
    if (rc != SQLITE_OK)
        return throw_sql(ctx, o, rc);
    return 0;
}

/* size(handle) -> bytes of the database (pages in use times the page size). */
duk_ret_t ew__do_native_size(duk_context *ctx)
{
    ew__do_obj_t *o = ew__do_require_obj(ctx, 0);
    sqlite3_stmt *st = NULL;
    double size = 0;
    bool was = o->internal;
    o->internal = true;
    if (sqlite3_prepare_v2(o->db, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_double(st, 0);
    o->internal = was;
    sqlite3_finalize(st);
    duk_push_number(ctx, size);
    return 1;
}
