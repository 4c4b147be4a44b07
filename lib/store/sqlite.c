/*
 * sqlite.c — the embedded storage backend: one SQLite database per store (store.h has the interface and
 * the durability guarantee). Called by the bindings in lib/bindings on the runtime's thread.
 *
 * Settings and why:
 *   journal_mode=WAL      readers never block the writer and the writer never blocks readers; other
 *                         threads and processes on the same state directory read while one commits
 *   synchronous=FULL      every commit fsyncs the WAL: a write the Worker saw succeed is on disk
 *   busy handler          waits (with backoff, up to BUSY_TIMEOUT_MS) for another connection's write lock;
 *                         write transactions start with BEGIN IMMEDIATE (no read-to-write upgrade deadlock)
 *                         and are retried for BEGIN_TRIES x BUSY_TIMEOUT_MS (with a short sleep when SQLite
 *                         answers BUSY without waiting), so "database is locked" does not reach a Worker
 *                         unless another writer holds the lock for more than half a minute
 *   statement cache       statements are prepared once per store (SQLITE_PREPARE_PERSISTENT)
 *   group commit          writes queued during one loop turn share one transaction (one fsync); see
 *                         run_group() and on_flush()
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/internal.h"
#include "store.h"

#define BUSY_TIMEOUT_MS 10000 /* per attempt: how long the busy handler waits for a lock */
#define BEGIN_TRIES 3         /* busy-handler waits (BUSY_TIMEOUT_MS each) before a write group fails */
#define STMT_CACHE 24         /* statements cached per store */

struct ew__store {
    sqlite3 *db;
    char *name;                       /* "kv/<id>", owned */
    struct event *flush_ev;           /* runs on_flush from the loop (owned) */
    bool flush_scheduled;
    struct {
        const char *sql;              /* the caller's static text: the cache key */
        sqlite3_stmt *st;             /* owned */
    } stmts[STMT_CACHE];
    int nstmts;
    ew__store_write_t *queued;        /* waiting for the next group (FIFO) */
    ew__store_write_t **queued_tail;
    ew__store_write_t *ran;           /* group(s) committed or failed, `done` not yet called (FIFO) */
    ew__store_write_t **ran_tail;
    bool txn_open;                    /* the group's transaction was opened early (ew__store_begin) */
    ew__store_stats_t stats;
    uint64_t busy_start_ms;           /* when the busy handler began waiting for the current lock */
};

/* ---------------------------------------------------------------------------------------------------------
 * Ids, paths, errors
 */

bool ew__store_id_valid(const char *id)
{
    if (id == NULL || id[0] == '\0' || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return false;
    size_t n = 0;
    for (const char *p = id; *p != '\0'; p++, n++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok || n >= EW__STORE_ID_MAX)
            return false;
    }
    return true;
}

ew_status_t ew__store_make_dirs(char *path, ew_error_t *err)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        int rc = mkdir(path, 0777);
        int e = errno;
        *p = saved;
        if (rc != 0 && e != EEXIST)
            return ew__error_set(err, EW_ERR_IO, "cannot create the folder %.*s: %s", (int) (p - path), path,
                                 strerror(e));
        if (saved == '\0')
            return EW_OK;
    }
}

/* fsyncs a folder, so that a file just created in it survives a power loss. Best effort. */
static void sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void) fsync(fd);
        close(fd);
    }
}

static const char *explain(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return "the database stayed locked by another connection for too long";
    case SQLITE_FULL:
        return "the disk is full";
    case SQLITE_IOERR:
        return "an I/O error occurred";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return "the database file is corrupt or is not a database";
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return "the database file is read-only";
    case SQLITE_CANTOPEN:
        return "the database file cannot be opened";
    case SQLITE_NOMEM:
        return "out of memory";
    case SQLITE_TOOBIG:
        return "the value is too big";
    default:
        return "unexpected database error";
    }
}

ew_status_t ew__store_error(ew__store_t *s, int rc, const char *what, ew_error_t *err)
{
    int base = rc & 0xff;
    ew_status_t st = base == SQLITE_NOMEM ? EW_ERR_NOMEM
                     : base == SQLITE_TOOBIG ? EW_ERR_INVALID_ARG
                     : (base == SQLITE_ERROR || base == SQLITE_MISUSE || base == SQLITE_RANGE) ? EW_ERR_INTERNAL
                                                                                                : EW_ERR_IO;
    const char *detail = s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    return ew__error_set(err, st, "%s in %s: %s (%s)", what, s != NULL ? s->name : "storage", explain(rc),
                         detail);
}

sqlite3 *ew__store_db(ew__store_t *s)
{
    return s->db;
}

const char *ew__store_name(const ew__store_t *s)
{
    return s->name;
}

/* ---------------------------------------------------------------------------------------------------------
 * Opening and closing
 */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

/* Busy handler: sleeps with a growing backoff (0.1 ms .. 10 ms) until BUSY_TIMEOUT_MS have passed since
 * the first call for this lock attempt (count 0). */
static int on_busy(void *arg, int count)
{
    ew__store_t *s = arg;
    if (count == 0) {
        s->stats.busy_waits++;
        s->busy_start_ms = mono_ms();
    } else if (mono_ms() - s->busy_start_ms >= BUSY_TIMEOUT_MS) {
        return 0;
    }
    long us = count < 7 ? 100L << count : 10000L;
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

/* Runs SQL that needs no result, retrying on SQLITE_BUSY for up to BEGIN_TRIES x BUSY_TIMEOUT_MS. SQLite
 * returns some BUSY results without calling the busy handler (another process recovering or checkpointing
 * the WAL, a connection opening while another holds the lock): those get a short sleep before the next try,
 * so that a burst of them under load does not use up the attempts at once. */
static int exec_retry(ew__store_t *s, const char *sql)
{
    uint64_t start = mono_ms();
    long us = 500;
    for (;;) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        if ((rc & 0xff) != SQLITE_BUSY || mono_ms() - start >= (uint64_t) BEGIN_TRIES * BUSY_TIMEOUT_MS)
            return rc;
        struct timespec ts = {0, us * 1000};
        nanosleep(&ts, NULL);
        if (us < 20000)
            us *= 2;
    }
}

static ew_status_t open_db(ew__store_t *s, const char *state_dir, const char *kind, const char *id,
                           const void *mem_owner, ew_error_t *err)
{
    char *path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (state_dir != NULL) {
        if (asprintf(&path, "%s/%s", state_dir, kind) < 0)
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", s->name);
        ew_status_t st = ew__store_make_dirs(path, err);
        free(path);
        if (st != EW_OK)
            return st;
        if (asprintf(&path, "%s/%s/%s.sqlite", state_dir, kind, id) < 0)
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", s->name);
    } else {
        flags |= SQLITE_OPEN_URI;
        if (asprintf(&path, "file:ew-%p-%s-%s?mode=memory&cache=shared", mem_owner, kind, id) < 0)
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", s->name);
    }
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        ew__error_set(err, EW_ERR_IO, "cannot open %s (%s): %s", path, s->name,
                      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        free(path);
        return EW_ERR_IO;
    }
    free(path);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_handler(s->db, on_busy, s);
    return EW_OK;
}

/* WAL + synchronous=FULL (files only), then the schema in a write transaction. */
static ew_status_t setup_db(ew__store_t *s, bool on_disk, const char *schema, ew_error_t *err)
{
    int rc = SQLITE_OK;
    if (on_disk) {
        rc = exec_retry(s, "PRAGMA journal_mode=WAL");
        if (rc == SQLITE_OK)
            rc = exec_retry(s, "PRAGMA synchronous=FULL");
        int persist = 1; /* keep the -wal file: it exists (and its folder entry is synced) from now on */
        if (rc == SQLITE_OK)
            (void) sqlite3_file_control(s->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        if (rc != SQLITE_OK)
            return ew__store_error(s, rc, "setting up", err);
    }
    if (schema == NULL)
        return EW_OK;
    rc = exec_retry(s, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ew__store_error(s, rc, "creating the tables", err);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return err != NULL ? err->code : EW_ERR_IO;
    }
    return EW_OK;
}

static void on_flush(evutil_socket_t fd, short what, void *arg);

ew_status_t ew__store_open(struct event_base *base, const char *state_dir, const char *kind, const char *id,
                           const void *mem_owner, const char *schema, ew__store_t **out, ew_error_t *err)
{
    *out = NULL;
    if (!ew__store_id_valid(id))
        return ew__error_set(err, EW_ERR_INVALID_ARG,
                             "invalid %s id \"%.200s\": use 1-%d characters from A-Z a-z 0-9 . _ - (not \".\" or \"..\")",
                             kind, id ? id : "(null)", EW__STORE_ID_MAX);
    ew__store_t *s = calloc(1, sizeof(*s));
    if (s == NULL || asprintf(&s->name, "%s/%s", kind, id) < 0) {
        free(s);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s/%s", kind, id);
    }
    s->queued_tail = &s->queued;
    s->ran_tail = &s->ran;
    s->flush_ev = event_new(base, -1, 0, on_flush, s);
    ew_status_t st = s->flush_ev != NULL ? EW_OK : ew__error_set(err, EW_ERR_NOMEM, "out of memory opening %s", s->name);
    if (st == EW_OK)
        st = open_db(s, state_dir, kind, id, mem_owner, err);
    if (st == EW_OK)
        st = setup_db(s, state_dir != NULL, schema, err);
    if (st != EW_OK) {
        ew__store_close(s);
        return st;
    }
    if (state_dir != NULL) {
        char *dir;
        if (asprintf(&dir, "%s/%s", state_dir, kind) >= 0) {
            sync_dir(dir);
            free(dir);
        }
    }
    *out = s;
    return EW_OK;
}

static void deliver(ew__store_t *s);

void ew__store_close(ew__store_t *s)
{
    if (s == NULL)
        return;
    if (s->db != NULL)
        (void) ew__store_sync(s);
    deliver(s);
    for (int i = 0; i < s->nstmts; i++)
        sqlite3_finalize(s->stmts[i].st);
    if (s->db != NULL)
        sqlite3_close_v2(s->db);
    if (s->flush_ev != NULL)
        event_free(s->flush_ev);
    free(s->name);
    free(s);
}

/* ---------------------------------------------------------------------------------------------------------
 * Statements
 */

sqlite3_stmt *ew__store_stmt(ew__store_t *s, const char *sql, ew_error_t *err)
{
    for (int i = 0; i < s->nstmts; i++) {
        if (s->stmts[i].sql == sql) {
            sqlite3_stmt *st = s->stmts[i].st;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        ew__store_error(s, rc, "preparing a statement", err);
        return NULL;
    }
    if (s->nstmts < STMT_CACHE) {
        s->stmts[s->nstmts].sql = sql;
        s->stmts[s->nstmts].st = st;
        s->nstmts++;
    } else {
        /* The cache is sized for the bindings' fixed statement sets: this is a bug, but not a fatal one. */
        sqlite3_finalize(st);
        ew__error_set(err, EW_ERR_INTERNAL, "%s: statement cache full (raise STMT_CACHE)", s->name);
        return NULL;
    }
    return st;
}

void ew__store_release(sqlite3_stmt *st)
{
    if (st != NULL)
        sqlite3_reset(st);
}

/* ---------------------------------------------------------------------------------------------------------
 * Group commit
 */

void ew__store_queue(ew__store_t *s, ew__store_write_t *w)
{
    w->next = NULL;
    w->status = EW_OK;
    w->message = NULL;
    *s->queued_tail = w;
    s->queued_tail = &w->next;
    if (!s->flush_scheduled) {
        s->flush_scheduled = true;
        event_active(s->flush_ev, EV_TIMEOUT, 1);
    }
}

static ew_status_t run_group(ew__store_t *s);

bool ew__store_has_queued(const ew__store_t *s)
{
    return s->queued != NULL || s->txn_open;
}

ew_status_t ew__store_begin(ew__store_t *s, ew_error_t *err)
{
    if (s->txn_open && sqlite3_get_autocommit(s->db))
        (void) run_group(s); /* SQLite rolled the group back (ON CONFLICT ROLLBACK): fail it, start anew */
    if (s->txn_open)
        return EW_OK;
    int rc = exec_retry(s, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return ew__store_error(s, rc, "starting a write", err);
    s->txn_open = true;
    if (!s->flush_scheduled) {
        s->flush_scheduled = true;
        event_active(s->flush_ev, EV_TIMEOUT, 1);
    }
    return EW_OK;
}

bool ew__store_in_group(const ew__store_t *s)
{
    return s->txn_open;
}

/* Applies every write of the group inside one transaction (opened here, or earlier by ew__store_begin).
 * Returns the group's status (err set). */
static ew_status_t apply_group(ew__store_t *s, ew__store_write_t *group, ew_error_t *err)
{
    bool eager = s->txn_open;
    s->txn_open = false;
    if (eager && sqlite3_get_autocommit(s->db))
        return ew__error_set(err, EW_ERR_IO, "writing in %s: the transaction was rolled back by an earlier error",
                             s->name);
    int rc = eager ? SQLITE_OK : exec_retry(s, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK)
        return ew__store_error(s, rc, "starting a write", err);
    for (ew__store_write_t *w = group; w != NULL; w = w->next) {
        if (w->apply == NULL)
            continue;
        ew_status_t st = w->apply(s, w, err);
        if (st != EW_OK) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return st;
        }
    }
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        ew__store_error(s, rc, "committing", err);
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return err->code;
    }
    return EW_OK;
}

/* Takes the queued writes as one group, commits them, and moves them to the `ran` list with their status. */
static ew_status_t run_group(ew__store_t *s)
{
    ew__store_write_t *group = s->queued;
    if (group == NULL && !s->txn_open)
        return EW_OK;
    s->queued = NULL;
    s->queued_tail = &s->queued;
    ew_error_t err;
    ew__error_clear(&err);
    ew_status_t st = apply_group(s, group, &err);
    uint64_t n = 0;
    for (ew__store_write_t *w = group; w != NULL; w = w->next, n++) {
        w->status = st;
        if (st != EW_OK)
            w->message = strdup(err.message); /* NULL on OOM: done() then gets a generic message */
    }
    if (st == EW_OK) {
        s->stats.commits++;
        s->stats.writes += n;
    }
    *s->ran_tail = group;
    while (*s->ran_tail != NULL)
        s->ran_tail = &(*s->ran_tail)->next;
    return st;
}

ew_status_t ew__store_sync(ew__store_t *s)
{
    return run_group(s);
}

/* Calls `done` for every write that ran, in order. A done callback may queue new writes (they go to the
 * next group) or commit early through ew__store_sync (their writes are delivered by the next flush). */
static void deliver(ew__store_t *s)
{
    ew__store_write_t *w = s->ran;
    s->ran = NULL;
    s->ran_tail = &s->ran;
    while (w != NULL) {
        ew__store_write_t *next = w->next;
        char *msg = w->message;
        w->message = NULL;
        if (w->done != NULL)
            w->done(w, w->status, w->status == EW_OK ? NULL : msg ? msg : "storage write failed");
        free(msg);
        w = next;
    }
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    ew__store_t *s = arg;
    s->flush_scheduled = false;
    (void) run_group(s);
    deliver(s);
}

void ew__store_get_stats(const ew__store_t *s, ew__store_stats_t *out)
{
    *out = s->stats;
}
