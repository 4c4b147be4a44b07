/* The SQLite store (lib/store/sqlite.c): ids, files and folders, WAL settings, the statement cache, group
 * commit through the event loop, early commit (sync), failures reaching every write of a group, and two
 * connections on one file. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "store/store.h"

static char dir[256];
static struct event_base *base;

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/ew-store-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    base = event_base_new();
}

static void teardown(void)
{
    event_base_free(base);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", dir, dir);
    (void) system(cmd);
}

TestSuite(store_sqlite, .init = setup, .fini = teardown, .timeout = 30);

static const char SCHEMA[] = "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v INTEGER);";
static const char SQL_INSERT[] = "INSERT OR REPLACE INTO t VALUES (?1, ?2)";
static const char SQL_COUNT[] = "SELECT count(*) FROM t";

static ew__store_t *open_store(const char *state_dir, const char *id)
{
    ew__store_t *s = NULL;
    ew_error_t err;
    cr_assert_eq(ew__store_open(base, state_dir, "kv", id, base, SCHEMA, &s, &err), EW_OK, "%s", err.message);
    return s;
}

static int count_rows(ew__store_t *s)
{
    sqlite3_stmt *st = ew__store_stmt(s, SQL_COUNT, NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    ew__store_release(st);
    return n;
}

struct w {
    ew__store_write_t write;
    char key[16];
    int value;
    int *done_count;
    ew_status_t status;
    char message[256];
};

static ew_status_t apply_insert(ew__store_t *s, ew__store_write_t *wr, ew_error_t *err)
{
    struct w *w = wr->udata;
    if (w->value < 0)
        return ew__error_set(err, EW_ERR_IO, "refused %s", w->key);
    sqlite3_stmt *st = ew__store_stmt(s, SQL_INSERT, err);
    sqlite3_bind_text(st, 1, w->key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, w->value);
    int rc = sqlite3_step(st);
    ew__store_release(st);
    return rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "inserting", err);
}

static void on_done(ew__store_write_t *wr, ew_status_t status, const char *message)
{
    struct w *w = wr->udata;
    w->status = status;
    snprintf(w->message, sizeof(w->message), "%s", message ? message : "");
    (*w->done_count)++;
}

static void init_write(struct w *w, const char *key, int value, int *count)
{
    memset(w, 0, sizeof(*w));
    w->write.apply = apply_insert;
    w->write.done = on_done;
    w->write.udata = w;
    snprintf(w->key, sizeof(w->key), "%s", key);
    w->value = value;
    w->done_count = count;
}

Test(store_sqlite, ids_are_validated)
{
    cr_assert(ew__store_id_valid("my-ns_1.2"));
    cr_assert(!ew__store_id_valid(""));
    cr_assert(!ew__store_id_valid("."));
    cr_assert(!ew__store_id_valid(".."));
    cr_assert(!ew__store_id_valid("a/b"));
    cr_assert(!ew__store_id_valid("a b"));
    char long_id[202];
    memset(long_id, 'a', 201);
    long_id[201] = '\0';
    cr_assert(!ew__store_id_valid(long_id));
    long_id[200] = '\0';
    cr_assert(ew__store_id_valid(long_id));
    ew__store_t *s = NULL;
    ew_error_t err;
    cr_assert_eq(ew__store_open(base, dir, "kv", "../x", base, SCHEMA, &s, &err), EW_ERR_INVALID_ARG);
    cr_assert_null(s);
}

Test(store_sqlite, opens_a_wal_file_under_the_state_dir)
{
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/deeper/state", dir);
    ew__store_t *s = open_store(sub, "ns");
    cr_assert_str_eq(ew__store_name(s), "kv/ns");
    char path[400];
    snprintf(path, sizeof(path), "%s/kv/ns.sqlite", sub);
    struct stat stbuf;
    cr_assert_eq(stat(path, &stbuf), 0, "%s missing", path);
    sqlite3_stmt *st = ew__store_stmt(s, "PRAGMA journal_mode", NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *) sqlite3_column_text(st, 0), "wal");
    ew__store_release(st);
    st = ew__store_stmt(s, "PRAGMA synchronous", NULL);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 2); /* FULL */
    ew__store_release(st);
    ew__store_close(s);
}

Test(store_sqlite, statements_are_cached_by_address)
{
    ew__store_t *s = open_store(dir, "ns");
    sqlite3_stmt *a = ew__store_stmt(s, SQL_COUNT, NULL);
    ew__store_release(a);
    cr_assert_eq(ew__store_stmt(s, SQL_COUNT, NULL), a);
    ew__store_release(a);
    ew_error_t err;
    cr_assert_null(ew__store_stmt(s, "SELEC nonsense", &err));
    cr_assert_eq(err.code, EW_ERR_INTERNAL);
    cr_assert(strstr(err.message, "kv/ns") != NULL, "%s", err.message);
    ew__store_close(s);
}

Test(store_sqlite, writes_of_one_turn_commit_together_before_done)
{
    ew__store_t *s = open_store(dir, "ns");
    int done = 0;
    struct w ws[50];
    for (int i = 0; i < 50; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        init_write(&ws[i], k, i, &done);
        ew__store_queue(s, &ws[i].write);
    }
    cr_assert(ew__store_has_queued(s));
    cr_assert_eq(done, 0);
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(done, 50);
    cr_assert_eq(ws[49].status, EW_OK);
    ew__store_stats_t stats;
    ew__store_get_stats(s, &stats);
    cr_assert_eq(stats.commits, 1);
    cr_assert_eq(stats.writes, 50);
    cr_assert_eq(count_rows(s), 50);
    ew__store_close(s);
}

Test(store_sqlite, sync_commits_early_and_done_still_waits_for_the_loop)
{
    ew__store_t *s = open_store(dir, "ns");
    int done = 0;
    struct w w1;
    init_write(&w1, "a", 1, &done);
    ew__store_queue(s, &w1.write);
    cr_assert_eq(ew__store_sync(s), EW_OK);
    cr_assert(!ew__store_has_queued(s));
    cr_assert_eq(count_rows(s), 1);
    cr_assert_eq(done, 0);
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(done, 1);
    ew__store_close(s);
}

Test(store_sqlite, a_failing_write_fails_its_whole_group)
{
    ew__store_t *s = open_store(dir, "ns");
    int done = 0;
    struct w a, b;
    init_write(&a, "a", 1, &done);
    init_write(&b, "b", -1, &done);
    ew__store_queue(s, &a.write);
    ew__store_queue(s, &b.write);
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(done, 2);
    cr_assert_eq(a.status, EW_ERR_IO);
    cr_assert_str_eq(a.message, "refused b");
    cr_assert_eq(count_rows(s), 0);
    ew__store_close(s);
}

Test(store_sqlite, close_commits_and_reports_queued_writes)
{
    ew__store_t *s = open_store(dir, "ns");
    int done = 0;
    struct w a;
    init_write(&a, "a", 1, &done);
    ew__store_queue(s, &a.write);
    ew__store_close(s);
    cr_assert_eq(done, 1);
    s = open_store(dir, "ns");
    cr_assert_eq(count_rows(s), 1);
    ew__store_close(s);
}

Test(store_sqlite, two_connections_on_one_file_see_each_others_commits)
{
    ew__store_t *a = open_store(dir, "ns");
    ew__store_t *b = open_store(dir, "ns");
    int done = 0;
    struct w w1, w2;
    init_write(&w1, "x", 1, &done);
    init_write(&w2, "y", 2, &done);
    ew__store_queue(a, &w1.write);
    ew__store_queue(b, &w2.write);
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(done, 2);
    cr_assert_eq(w1.status, EW_OK);
    cr_assert_eq(w2.status, EW_OK);
    cr_assert_eq(count_rows(a), 2);
    cr_assert_eq(count_rows(b), 2);
    ew__store_close(a);
    ew__store_close(b);
}

Test(store_sqlite, memory_stores_are_private_to_their_owner)
{
    static int owner1, owner2;
    ew__store_t *a = NULL, *b = NULL, *c = NULL;
    cr_assert_eq(ew__store_open(base, NULL, "kv", "m", &owner1, SCHEMA, &a, NULL), EW_OK);
    cr_assert_eq(ew__store_open(base, NULL, "kv", "m", &owner2, SCHEMA, &b, NULL), EW_OK);
    int done = 0;
    struct w w1;
    init_write(&w1, "x", 1, &done);
    ew__store_queue(a, &w1.write);
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(count_rows(a), 1);
    cr_assert_eq(count_rows(b), 0);
    cr_assert_eq(ew__store_open(base, NULL, "kv", "m", &owner1, SCHEMA, &c, NULL), EW_OK);
    cr_assert_eq(count_rows(c), 1);
    ew__store_close(a);
    ew__store_close(b);
    ew__store_close(c);
}

Test(store_sqlite, an_unwritable_state_dir_is_an_io_error)
{
    if (geteuid() == 0)
        cr_skip_test("root ignores folder permissions");
    chmod(dir, 0500);
    ew__store_t *s = NULL;
    ew_error_t err;
    cr_assert_eq(ew__store_open(base, dir, "kv", "ns", base, SCHEMA, &s, &err), EW_ERR_IO);
    cr_assert(strstr(err.message, dir) != NULL, "%s", err.message);
    cr_assert_null(s);
}

Test(store_sqlite, eager_writes_run_now_and_commit_with_their_group)
{
    ew__store_t *s = open_store(dir, "ns");
    ew__store_t *other = open_store(dir, "ns");
    ew_error_t err;
    cr_assert_eq(ew__store_begin(s, &err), EW_OK, "%s", err.message);
    cr_assert(ew__store_in_group(s));
    cr_assert_eq(ew__store_begin(s, &err), EW_OK); /* already open: nothing to do */
    int done = 0;
    struct w eager, queued;
    init_write(&eager, "e", 1, &done);
    eager.write.apply = NULL; /* runs now, by the caller */
    cr_assert_eq(sqlite3_exec(ew__store_db(s), "INSERT INTO t VALUES ('e', 1)", NULL, NULL, NULL), SQLITE_OK);
    ew__store_queue(s, &eager.write);
    init_write(&queued, "q", 2, &done);
    ew__store_queue(s, &queued.write);
    cr_assert_eq(count_rows(s), 1);     /* the connection sees its own write at once */
    cr_assert_eq(count_rows(other), 0); /* nobody else does before the commit */
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(done, 2);
    cr_assert_eq(eager.status, EW_OK);
    cr_assert_eq(queued.status, EW_OK);
    cr_assert(!ew__store_in_group(s));
    cr_assert_eq(count_rows(other), 2);
    ew__store_stats_t stats;
    ew__store_get_stats(s, &stats);
    cr_assert_eq(stats.commits, 1);
    ew__store_close(s);
    ew__store_close(other);
}

Test(store_sqlite, an_eager_group_rolled_back_by_sqlite_fails_its_writes)
{
    ew__store_t *s = open_store(dir, "ns");
    ew_error_t err;
    cr_assert_eq(ew__store_begin(s, &err), EW_OK);
    int done = 0;
    struct w eager;
    init_write(&eager, "e", 1, &done);
    eager.write.apply = NULL;
    cr_assert_eq(sqlite3_exec(ew__store_db(s), "INSERT INTO t VALUES ('e', 1)", NULL, NULL, NULL), SQLITE_OK);
    ew__store_queue(s, &eager.write);
    /* A statement with ON CONFLICT ROLLBACK undoes the whole transaction behind the store's back. */
    cr_assert_neq(sqlite3_exec(ew__store_db(s), "INSERT OR ROLLBACK INTO t VALUES ('e', 2)", NULL, NULL, NULL),
                  SQLITE_OK);
    /* The next eager write starts a new group: the lost one fails, the new one commits. */
    cr_assert_eq(ew__store_begin(s, &err), EW_OK);
    struct w later;
    init_write(&later, "l", 3, &done);
    later.write.apply = NULL;
    cr_assert_eq(sqlite3_exec(ew__store_db(s), "INSERT INTO t VALUES ('l', 3)", NULL, NULL, NULL), SQLITE_OK);
    ew__store_queue(s, &later.write);
    event_base_loop(base, EVLOOP_NONBLOCK);
    cr_assert_eq(done, 2);
    cr_assert_eq(eager.status, EW_ERR_IO);
    cr_assert(strstr(eager.message, "rolled back") != NULL, "%s", eager.message);
    cr_assert_eq(later.status, EW_OK);
    cr_assert_eq(count_rows(s), 1);
    ew__store_close(s);
}
