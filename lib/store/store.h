/*
 * lib/store/store.h — the storage backend interface the bindings (lib/bindings) are written against, and
 * its embedded implementation over SQLite (sqlite.c). ARCHITECTURE.md "Storage" has the design.
 *
 * A store is one database: <state_dir>/<kind>/<id>.sqlite (kind "kv", "d1", ...), or, with no state
 * directory, an in-memory database private to one runtime. A store belongs to one thread (its runtime's);
 * several threads and processes may open the same file at once: each has its own connection, and SQLite's
 * locks (WAL mode, a busy timeout, retried write transactions) keep them consistent without "database is
 * locked" errors reaching a Worker.
 *
 * Reads run at once (ew__store_stmt + sqlite3_step). Writes are GROUP-COMMITTED:
 *
 *   ew__store_queue(w1) ew__store_queue(w2) ...        one event-loop turn of JavaScript
 *   ── loop ──> flush: BEGIN IMMEDIATE; w1.apply; w2.apply; ...; COMMIT (fsync of the WAL)
 *               then w1.done(EW_OK), w2.done(EW_OK), ...   (the bindings resolve their promises here)
 *
 * THE GUARANTEE: a write's `done` is called with EW_OK only after the transaction holding it committed with
 * synchronous=FULL, so a write whose promise resolved survives a crash of the process (and, as far as the
 * disk honours fsync, of the machine). A write whose promise did not resolve yet may or may not be there.
 * ew__store_sync() commits the queue early (reads call it first, so a script reads its own writes); the
 * `done` calls still wait for the loop, so they never run inside JavaScript.
 *
 * EAGER WRITES (D1): a binding whose writes must run at once (their results: row ids, changes, rows) calls
 * ew__store_begin(), which opens the group's write transaction now; it then runs its statements itself and
 * queues a write with apply == NULL, whose `done` tells it when the group committed. The transaction stays
 * open until the flush (or ew__store_sync), so the writes of one loop turn still share one commit. The
 * flush is an active event of the same loop pass, so the write lock never outlives that pass (a host that
 * stops running the loop between blocking calls does not keep other connections waiting).
 */
#ifndef EW_STORE_STORE_H
#define EW_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "edgeworker.h"

struct event_base;

typedef struct ew__store ew__store_t;

/* Longest id accepted (bytes). Ids are [A-Za-z0-9._-]+ and not "." or "..". */
#define EW__STORE_ID_MAX 200

/* mkdir -p for `path` (modified in place while walking, restored). EW_ERR_IO with the folder and errno text. */
ew_status_t ew__store_make_dirs(char *path, ew_error_t *err);

/* True if `id` is a valid storage id (see above). */
bool ew__store_id_valid(const char *id);

/* Opens the store `kind`/`id` (kind: a short lower-case folder name, e.g. "kv"). With a state_dir the
 * folders are created as needed and the file is put in WAL mode with synchronous=FULL; with state_dir NULL
 * the database is in memory, named after `mem_owner` (the runtime) so that it is private to it. `schema`
 * (SQL, may be NULL) runs once at open, in a write transaction (use CREATE ... IF NOT EXISTS). Writes are
 * flushed by an event on `base`. On success *out must be released with ew__store_close(). Errors:
 * EW_ERR_INVALID_ARG (bad id), EW_ERR_IO (with the path and SQLite's message), EW_ERR_NOMEM. */
ew_status_t ew__store_open(struct event_base *base, const char *state_dir, const char *kind, const char *id,
                           const void *mem_owner, const char *schema, ew__store_t **out, ew_error_t *err);

/* Commits the queued writes (calling their `done` now), finalizes the statements and closes the
 * database. NULL is ignored. */
void ew__store_close(ew__store_t *s);

/* The store's connection, for bindings that run SQL of their own (D1). The store owns it: do not close it,
 * and leave no transaction open when returning to the loop. */
sqlite3 *ew__store_db(ew__store_t *s);

/* "kv/<id>" or similar: names the store in messages (valid while the store is open). */
const char *ew__store_name(const ew__store_t *s);

/* ---------------------------------------------------------------------------------------------------------
 * Statements and errors
 */

/* Returns the store's prepared statement for `sql`, preparing it on first use. The cache is keyed by the
 * ADDRESS of sql, so pass string literals (or other static text). The statement comes back reset with its
 * bindings cleared; the caller binds, steps, and calls ew__store_release() when done (a SELECT left unreset
 * would hold its read snapshot open). The store owns it. NULL on error, with err set. */
sqlite3_stmt *ew__store_stmt(ew__store_t *s, const char *sql, ew_error_t *err);
/* Resets a statement obtained from ew__store_stmt (ends its read snapshot). NULL is ignored. */
void ew__store_release(sqlite3_stmt *st);

/* Turns SQLite result `rc` on this store into a status and a message "<what> in <name>: <explanation>"
 * (e.g. EW_ERR_IO "... the disk is full"). Returns the status. */
ew_status_t ew__store_error(ew__store_t *s, int rc, const char *what, ew_error_t *err);

/* ---------------------------------------------------------------------------------------------------------
 * Group commit
 */

typedef struct ew__store_write ew__store_write_t;

/* Runs inside the group's write transaction: performs the write's statements. Returns EW_OK, or an error
 * with err set (then the whole group is rolled back and every write in it fails with that message). */
typedef ew_status_t (*ew__store_apply_fn)(ew__store_t *s, ew__store_write_t *w, ew_error_t *err);
/* Called once, from the event loop, after the group committed (status EW_OK) or failed (status and a
 * message, valid during the call). The callee may free the struct that embeds `w`. */
typedef void (*ew__store_done_fn)(ew__store_write_t *w, ew_status_t status, const char *message);

/* One queued write. The caller owns the memory (usually embedded in its own op struct) and fills apply,
 * done and udata; the store links it in until it calls done. */
struct ew__store_write {
    ew__store_apply_fn apply;   /* NULL: the write ran already, inside the group (ew__store_begin) */
    ew__store_done_fn done;     /* may be NULL: nothing to tell (the store then forgets w after commit) */
    void *udata;                /* the caller's */
    ew_status_t status;         /* set by the store once the group ran */
    char *message;              /* store-owned copy of the failure message, NULL on success */
    ew__store_write_t *next;    /* store-owned link */
};

/* Opens the group's write transaction now (BEGIN IMMEDIATE, waiting for other connections' locks) unless it
 * is open already, and schedules its commit. Statements run until then belong to the group: queue a write
 * with apply == NULL to learn when it committed. EW_OK, or the error that kept the transaction from
 * starting (err set). */
ew_status_t ew__store_begin(ew__store_t *s, ew_error_t *err);
/* True while the group's write transaction is open (ew__store_begin ran and the group did not commit). */
bool ew__store_in_group(const ew__store_t *s);

/* Queues w for the next group commit and makes sure a flush is scheduled on the loop. Never fails. */
void ew__store_queue(ew__store_t *s, ew__store_write_t *w);
/* True if writes are queued (or the group's transaction is open) and not yet committed. */
bool ew__store_has_queued(const ew__store_t *s);
/* Commits the queued writes now, in one transaction (their `done` calls still wait for the loop).
 * Returns the group's status (EW_OK when nothing was queued). */
ew_status_t ew__store_sync(ew__store_t *s);

/* ---------------------------------------------------------------------------------------------------------
 * Statistics (for tests and benchmarks)
 */

typedef struct ew__store_stats {
    uint64_t commits;     /* write transactions committed */
    uint64_t writes;      /* writes committed in them */
    uint64_t busy_waits;  /* times a write transaction found the database locked and waited */
} ew__store_stats_t;

void ew__store_get_stats(const ew__store_t *s, ew__store_stats_t *out);

#endif /* EW_STORE_STORE_H */
