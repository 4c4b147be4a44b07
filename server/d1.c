/*
 * d1.c — `ew-server d1 ...`: wrangler's local D1 commands, on the same state folder the server uses.
 *
 *   ew-server d1 execute DB (--command SQL | --file F) [--json] [--persist-to DIR] [--env NAME] [-c CONFIG]
 *   ew-server d1 migrations apply|list DB [--persist-to DIR] [--env NAME] [-c CONFIG]
 *   ew-server d1 migrations create DB MESSAGE [--env NAME] [-c CONFIG]
 *
 * DB is the binding or the database_name of a [[d1_databases]] entry of the project's configuration (the
 * current folder, or -c/--config: a folder or a wrangler file). The database is
 * STATE/d1/<database_name>.sqlite, opened through lib/store like the Worker's (WAL, synchronous=FULL, the
 * busy handler), so the command may run while ew-server serves the same folder.
 *
 * execute runs every statement of the SQL in one transaction (all or nothing), as wrangler's local execute
 * does; BEGIN/COMMIT lines of a dump file are skipped (the command makes the transaction). Output: wrangler's
 * summary and a table per statement that returned rows, or with --json the array of
 * {results, success, meta} wrangler prints. Errors: "✘ [ERROR] <message>" on stderr, exit 1.
 *
 * migrations apply runs the *.sql files of migrations_dir (default PROJECT/migrations) in file-name order
 * that the migrations table (migrations_table, default d1_migrations: id, name, applied_at, as wrangler
 * creates it) does not list yet, each in its own transaction together with its row in that table;
 * migrations list prints them without applying; migrations create writes the next numbered file
 * (NNNN_message.sql) into migrations_dir.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "bindings/internal.h"
#include "config/wrangler.h"
#include "d1.h"

typedef struct d1_cli {
    const char *sub;          /* "execute" or "migrations apply" */
    const char *db;           /* binding or database_name */
    const char *command, *file, *config, *env, *persist_to;
    const char *message;      /* migrations create: the name's text */
    bool json;
} d1_cli_t;

typedef struct d1_target {
    ew__project_t proj;
    const ew__wrangler_d1_t *d1;  /* into proj.config */
    char *state_dir;              /* owned */
    struct event_base *base;      /* owned: the store wants one for its (unused here) group commit */
    ew__store_t *store;           /* owned */
    sqlite3 *db;                  /* the store's */
} d1_target_t;

static int fail(const char *fmt, const char *a, const char *b)
{
    fputs("✘ [ERROR] ", stderr);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 1;
}

static void on_warn(void *udata, const char *msg)
{
    (void) udata;
    fprintf(stderr, "ew-server: warning: %s\n", msg);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------------------------------------------------
 * Finding and opening the database
 */

static int open_target(d1_target_t *t, const d1_cli_t *c)
{
    memset(t, 0, sizeof(*t));
    ew_error_t err;
    if (ew__project_open(&t->proj, c->config ? c->config : ".", c->env, on_warn, NULL, &err) != EW_OK)
        return fail("%s%s", err.message, "");
    const ew__wrangler_t *cfg = t->proj.config;
    for (size_t i = 0; i < cfg->nd1 && t->d1 == NULL; i++)
        if (strcmp(cfg->d1[i].binding, c->db) == 0 || strcmp(cfg->d1[i].database_name, c->db) == 0)
            t->d1 = &cfg->d1[i];
    if (t->d1 == NULL)
        return fail("Couldn't find a D1 DB with the name or binding '%s' in your %s file.", c->db,
                    cfg->config_path ? cfg->config_path : "wrangler configuration");
    if (c->persist_to != NULL) {
        t->state_dir = strdup(c->persist_to);
    } else if (asprintf(&t->state_dir, "%s/.wrangler/state", cfg->project_dir) < 0) {
        t->state_dir = NULL;
    }
    t->base = event_base_new();
    if (t->state_dir == NULL || t->base == NULL)
        return fail("out of memory%s%s", "", "");
    if (ew__store_open(t->base, t->state_dir, "d1", t->d1->database_name, NULL, NULL, &t->store, &err) != EW_OK)
        return fail("%s%s", err.message, "");
    t->db = ew__store_db(t->store);
    return 0;
}

static void close_target(d1_target_t *t)
{
    ew__store_close(t->store);
    if (t->base != NULL)
        event_base_free(t->base);
    free(t->state_dir);
    ew__project_dispose(&t->proj);
}

/* ---------------------------------------------------------------------------------------------------------
 * Output: JSON and tables
 */

static void json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char) s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch == '\r')
            fputs("\\r", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* Text of a cell for tables (malloc'd). */
static char *cell_text(sqlite3_stmt *st, int i)
{
    char *out = NULL;
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        out = strdup("null");
        break;
    case SQLITE_BLOB: {
        int n = sqlite3_column_bytes(st, i);
        const unsigned char *p = sqlite3_column_blob(st, i);
        size_t cap = (size_t) n * 4 + 3, o = 0;
        out = malloc(cap);
        if (out == NULL)
            break;
        out[o++] = '[';
        for (int k = 0; k < n; k++)
            o += (size_t) snprintf(out + o, cap - o, k ? ",%u" : "%u", p[k]);
        out[o++] = ']';
        out[o] = '\0';
        break;
    }
    default:
        out = strdup((const char *) sqlite3_column_text(st, i));
    }
    return out != NULL ? out : strdup("");
}

static void json_cell(FILE *f, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        fprintf(f, "%lld", (long long) sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        if (v != v || v - v != 0)
            fputs("null", f);
        else
            fprintf(f, "%.17g", v);
        break;
    }
    case SQLITE_TEXT:
        json_string(f, (const char *) sqlite3_column_text(st, i), (size_t) sqlite3_column_bytes(st, i));
        break;
    case SQLITE_BLOB: {
        char *t = cell_text(st, i);
        fputs(t, f);
        free(t);
        break;
    }
    default:
        fputs("null", f);
    }
}

/* Display width of UTF-8 text (code points; good enough for a table). */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char) *s & 0xC0) != 0x80;
    return w;
}

typedef struct table {
    int ncol;
    char **cells;       /* rows * ncol, row 0 the header; owned */
    size_t nrows, cap;
} table_t;

static void table_line(const table_t *t, const size_t *w, const char *l, const char *m, const char *r)
{
    fputs(l, stdout);
    for (int c = 0; c < t->ncol; c++) {
        for (size_t k = 0; k < w[c] + 2; k++)
            fputs("─", stdout);
        fputs(c + 1 < t->ncol ? m : r, stdout);
    }
    fputc('\n', stdout);
}

static void table_free(table_t *t)
{
    for (size_t i = 0; i < t->nrows * (size_t) t->ncol; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

/* Prints the table with box-drawing lines, as wrangler does. */
static void table_show(const table_t *t)
{
    size_t *w = calloc((size_t) t->ncol, sizeof(size_t));
    for (size_t r = 0; w != NULL && r < t->nrows; r++)
        for (int c = 0; c < t->ncol; c++)
            if (width(t->cells[r * (size_t) t->ncol + (size_t) c]) > w[c])
                w[c] = width(t->cells[r * (size_t) t->ncol + (size_t) c]);
    if (w != NULL) {
        table_line(t, w, "┌", "┬", "┐");
        for (size_t r = 0; r < t->nrows; r++) {
            fputs("│", stdout);
            for (int c = 0; c < t->ncol; c++) {
                const char *s = t->cells[r * (size_t) t->ncol + (size_t) c];
                printf(" %s%*s │", s, (int) (w[c] - width(s)), "");
            }
            fputc('\n', stdout);
            if (r == 0)
                table_line(t, w, "├", "┼", "┤");
        }
        table_line(t, w, "└", "┴", "┘");
    }
    free(w);
}

/* Prints the table and frees it. */
static void table_print(table_t *t)
{
    table_show(t);
    table_free(t);
}

static bool table_add(table_t *t, char **row)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **grown = realloc(t->cells, cap * (size_t) t->ncol * sizeof(char *));
        if (grown == NULL)
            return false;
        t->cells = grown;
        t->cap = cap;
    }
    memcpy(t->cells + t->nrows * (size_t) t->ncol, row, (size_t) t->ncol * sizeof(char *));
    t->nrows++;
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * execute
 */

/* True if the statement is transaction control (BEGIN/COMMIT/END/ROLLBACK): a dump file's own, skipped. */
static bool is_txn_control(sqlite3_stmt *st)
{
    const char *s = sqlite3_sql(st);
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    static const char *const words[] = {"BEGIN", "COMMIT", "END", "ROLLBACK"};
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(words[i]);
        if (strncasecmp(s, words[i], n) == 0 && (s[n] == '\0' || s[n] == ' ' || s[n] == ';' || s[n] == '\n' ||
                                                 s[n] == '\t' || s[n] == '\r'))
            return true;
    }
    return false;
}

/* The database's size in bytes (page_count * page_size). */
static long long db_size(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long size = 0;
    if (sqlite3_prepare_v2(db, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()", -1,
                           &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        size = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return size;
}

typedef struct exec_out {
    bool json;
    int count;           /* statements run */
    FILE *json_f;        /* a memory stream collecting the JSON array (printed after COMMIT) */
    table_t *tables;     /* tables to print after COMMIT */
    int ntables;
} exec_out_t;

/* Runs one prepared statement, appending its result to out. Returns the SQLite result. */
static int run_one(sqlite3 *db, sqlite3_stmt *st, exec_out_t *out)
{
    int ncol = sqlite3_column_count(st);
    double t0 = now_ms();
    int64_t before = sqlite3_total_changes64(db);
    table_t tab = {ncol, NULL, 0, 0};
    char **row = ncol > 0 ? calloc((size_t) ncol, sizeof(char *)) : NULL;
    if (ncol > 0 && !out->json) {
        for (int i = 0; i < ncol && row; i++)
            row[i] = strdup(sqlite3_column_name(st, i));
        if (row == NULL || !table_add(&tab, row))
            return SQLITE_NOMEM;
    }
    FILE *f = out->json_f;
    if (out->json)
        fprintf(f, "%s\n  {\n    \"results\": [", out->count ? "," : "");
    int rc, nrows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->json) {
            fprintf(f, "%s\n      {", nrows ? "," : "");
            for (int i = 0; i < ncol; i++) {
                fputs(i ? ", " : "", f);
                const char *name = sqlite3_column_name(st, i);
                json_string(f, name, strlen(name));
                fputs(": ", f);
                json_cell(f, st, i);
            }
            fputc('}', f);
        } else {
            for (int i = 0; i < ncol && row; i++)
                row[i] = cell_text(st, i);
            if (row == NULL || !table_add(&tab, row))
                return SQLITE_NOMEM;
        }
        nrows++;
    }
    free(row);
    if (rc == SQLITE_DONE && out->json) {
        long long written = (long long) (sqlite3_total_changes64(db) - before);
        fprintf(f, "%s],\n    \"success\": true,\n    \"meta\": {\"served_by\": \"edgeworker-d1\", "
                   "\"duration\": %.3f, \"changes\": %lld, \"last_row_id\": %lld, \"changed_db\": %s, "
                   "\"size_after\": %lld, \"rows_read\": %d, \"rows_written\": %lld}\n  }",
                nrows ? "\n    " : "", now_ms() - t0,
                (long long) (sqlite3_stmt_readonly(st) ? 0 : sqlite3_changes64(db)),
                (long long) sqlite3_last_insert_rowid(db), written > 0 ? "true" : "false", db_size(db), nrows,
                written);
    }
    if (rc == SQLITE_DONE && !out->json && nrows > 0) {
        table_t *grown = realloc(out->tables, (size_t) (out->ntables + 1) * sizeof(table_t));
        if (grown == NULL)
            return SQLITE_NOMEM;
        out->tables = grown;
        out->tables[out->ntables++] = tab;
    } else {
        table_free(&tab);
    }
    out->count++;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Runs every statement of sql (inside the caller's transaction). Returns the SQLite result. */
static int run_all(sqlite3 *db, const char *sql, exec_out_t *out)
{
    const char *p = sql;
    while (p != NULL && *p != '\0') {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(db, p, -1, &st, &p);
        if (rc != SQLITE_OK)
            return rc;
        if (st == NULL)
            break;
        rc = is_txn_control(st) ? SQLITE_OK : run_one(db, st, out);
        sqlite3_finalize(st);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    ew__buf_t b;
    ew__buf_init(&b);
    char chunk[65536];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ok = ew__buf_append(&b, chunk, n);
    ok = ok && !ferror(f) && ew__buf_append(&b, "", 1);
    fclose(f);
    if (!ok) {
        ew__buf_dispose(&b);
        return NULL;
    }
    return b.data;
}

/* BEGIN IMMEDIATE, sql, COMMIT; on error ROLLBACK. Returns the SQLite result. */
static int in_transaction(sqlite3 *db, const char *sql, exec_out_t *out, const char *record_sql, const char *name)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = run_all(db, sql, out);
    if (rc == SQLITE_OK && record_sql != NULL) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, record_sql, -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(db)) {
        char *msg = strdup(sqlite3_errmsg(db)); /* ROLLBACK would replace the message */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        fprintf(stderr, "✘ [ERROR] %s: %s\n", msg ? msg : "error", ew__d1_code_name(rc));
        free(msg);
    } else if (rc != SQLITE_OK) {
        fprintf(stderr, "✘ [ERROR] %s: %s\n", sqlite3_errmsg(db), ew__d1_code_name(rc));
    }
    return rc;
}

static int cmd_execute(const d1_cli_t *c)
{
    if ((c->command == NULL) == (c->file == NULL))
        return fail("Error: specify exactly one of --command or --file%s%s", "", "");
    char *sql = c->file ? slurp(c->file) : strdup(c->command);
    if (sql == NULL)
        return fail("cannot read %s: %s", c->file ? c->file : "the command", strerror(errno));
    d1_target_t t;
    int rc = open_target(&t, c);
    if (rc != 0) {
        free(sql);
        close_target(&t);
        return rc;
    }
    if (!c->json)
        printf("🌀 Executing on local database %s (%s) from %s/d1:\n", t.d1->binding, t.d1->database_name,
               t.state_dir);
    char *json_text = NULL;
    size_t json_len = 0;
    exec_out_t out = {c->json, 0, c->json ? open_memstream(&json_text, &json_len) : NULL, NULL, 0};
    if (c->json && out.json_f == NULL)
        rc = SQLITE_NOMEM;
    else
        rc = in_transaction(t.db, sql, &out, NULL, NULL);
    if (out.json_f != NULL)
        fclose(out.json_f);
    if (rc == SQLITE_OK && c->json)
        printf("[%s\n]\n", json_text ? json_text : "");
    if (rc == SQLITE_OK && !c->json)
        printf("🚣 %d command%s executed successfully.\n", out.count, out.count == 1 ? "" : "s");
    for (int i = 0; i < out.ntables; i++) {
        if (rc == SQLITE_OK)
            table_print(&out.tables[i]);
        else
            table_free(&out.tables[i]);
    }
    free(out.tables);
    free(json_text);
    free(sql);
    close_target(&t);
    return rc == SQLITE_OK ? 0 : 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * migrations apply
 */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The *.sql file names of dir, sorted (malloc'd array of malloc'd names). -1 when dir cannot be read. */
static int list_migrations(const char *dir, char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".sql") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(*out, (size_t) cap * sizeof(char *));
            if (grown == NULL)
                break;
            *out = grown;
        }
        if (((*out)[n] = strdup(e->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (n > 0)
        qsort(*out, (size_t) n, sizeof(char *), by_name);
    return n;
}

/* True if the migrations table names `name` already. */
static bool applied(sqlite3 *db, const char *table, const char *name)
{
    char *sql = sqlite3_mprintf("SELECT 1 FROM \"%w\" WHERE name = ?1", table);
    sqlite3_stmt *st = NULL;
    bool yes = false;
    if (sql != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    sqlite3_free(sql);
    return yes;
}

/* `migrations create DB MESSAGE`: the next numbered file in migrations_dir, as wrangler names it. */
static int cmd_migrations_create(const d1_cli_t *c)
{
    d1_target_t t;
    int rc = open_target(&t, c);
    char **files = NULL;
    int n = rc == 0 ? list_migrations(t.d1->migrations_dir, &files) : 0;
    if (rc == 0 && n < 0 && mkdir(t.d1->migrations_dir, 0777) != 0)
        rc = fail("cannot create %s: %s", t.d1->migrations_dir, strerror(errno));
    long next = 1;
    for (int i = 0; i < n; i++) {
        long num = strtol(files[i], NULL, 10);
        if (num >= next)
            next = num + 1;
    }
    char name[300];
    size_t o = (size_t) snprintf(name, sizeof(name), "%04ld_", next);
    for (const char *m = c->message; rc == 0 && *m != '\0' && o < sizeof(name) - 5; m++)
        name[o++] = (*m == ' ' || *m == '/' || *m == '\\') ? '_' : *m;
    name[o] = '\0';
    strcat(name, ".sql");
    char *path = NULL;
    FILE *f = NULL;
    if (rc == 0 && (asprintf(&path, "%s/%s", t.d1->migrations_dir, name) < 0 || (f = fopen(path, "wx")) == NULL))
        rc = fail("cannot create %s: %s", path ? path : name, strerror(errno));
    if (f != NULL) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
        fprintf(f, "-- Migration number: %04ld \t %s\n", next, stamp);
        if (fclose(f) != 0)
            rc = fail("cannot write %s: %s", path, strerror(errno));
        else
            printf("✅ Successfully created Migration '%s'!\n\nThe migration is available for editing here\n%s\n",
                   name, path);
    }
    free(path);
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
    close_target(&t);
    return rc;
}

static int cmd_migrations_apply(const d1_cli_t *c, bool list_only)
{
    d1_target_t t;
    int rc = open_target(&t, c);
    char **files = NULL;
    int n = 0;
    const char *table = rc == 0 ? t.d1->migrations_table : NULL;
    char *create = NULL, *record = NULL;
    if (rc == 0) {
        create = sqlite3_mprintf("CREATE TABLE IF NOT EXISTS \"%w\"(\n"
                                 "    id         INTEGER PRIMARY KEY AUTOINCREMENT,\n"
                                 "    name       TEXT UNIQUE,\n"
                                 "    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL\n"
                                 ")", table);
        record = sqlite3_mprintf("INSERT INTO \"%w\" (name) VALUES (?1)", table);
        if (sqlite3_exec(t.db, create, NULL, NULL, NULL) != SQLITE_OK)
            rc = fail("%s: %s", sqlite3_errmsg(t.db), "SQLITE_ERROR");
    }
    if (rc == 0 && (n = list_migrations(t.d1->migrations_dir, &files)) < 0)
        rc = fail("No migrations folder found. Set `migrations_dir` in your wrangler configuration, or create "
                  "%s (%s)", t.d1->migrations_dir, strerror(errno));
    table_t pending = {1, NULL, 0, 0};
    char *header = strdup("Name");
    if (rc == 0 && (header == NULL || !table_add(&pending, &header)))
        rc = fail("out of memory%s%s", "", "");
    for (int i = 0; rc == 0 && i < n; i++) {
        if (applied(t.db, table, files[i]))
            continue;
        char *name = strdup(files[i]);
        if (name == NULL || !table_add(&pending, &name)) {
            free(name);
            rc = fail("out of memory%s%s", "", "");
        }
    }
    int done = 0;
    if (rc == 0 && pending.nrows <= 1) {
        printf("✅ No migrations to apply!\n");
    } else if (rc == 0) {
        printf("Migrations to be applied:\n");
        table_show(&pending);
        for (size_t i = 1; rc == 0 && !list_only && i < pending.nrows; i++) {
            const char *name = pending.cells[i];
            char *path = NULL, *sql = NULL;
            if (asprintf(&path, "%s/%s", t.d1->migrations_dir, name) < 0 || (sql = slurp(path)) == NULL) {
                rc = fail("cannot read %s: %s", path ? path : name, strerror(errno));
            } else {
                exec_out_t out = {false, 0, NULL, NULL, 0};
                if (in_transaction(t.db, sql, &out, record, name) != SQLITE_OK) {
                    fprintf(stderr, "✘ [ERROR] Migration %s failed; it was rolled back and the ones after it were "
                                    "not applied.\n", name);
                    rc = 1;
                } else {
                    printf("🌀 Applied %s\n", name);
                    done++;
                }
                for (int k = 0; k < out.ntables; k++)
                    table_free(&out.tables[k]);
                free(out.tables);
            }
            free(sql);
            free(path);
        }
        if (rc == 0 && !list_only)
            printf("✅ Applied %d migration%s.\n", done, done == 1 ? "" : "s");
    } else {
        free(header);
    }
    table_free(&pending);
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
    sqlite3_free(create);
    sqlite3_free(record);
    close_target(&t);
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------
 * Command line
 */

static void usage(FILE *f)
{
    fprintf(f, "usage: ew-server d1 execute DB (--command SQL | --file FILE) [--json] [options]\n"
               "       ew-server d1 migrations apply|list DB [options]\n"
               "       ew-server d1 migrations create DB MESSAGE [options]\n"
               "  DB                  the binding or database_name of a [[d1_databases]] entry\n"
               "  -c, --config PATH   the project folder or wrangler configuration file (default: .)\n"
               "  --env NAME          use [env.NAME] of the configuration\n"
               "  --persist-to DIR    the state folder (default: PROJECT/.wrangler/state, as ew-server)\n"
               "  --local             accepted for wrangler compatibility (the database is always local)\n");
}

int d1_main(int argc, char **argv)
{
    d1_cli_t c;
    memset(&c, 0, sizeof(c));
    int i = 2;
    if (i < argc && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (i < argc && strcmp(argv[i], "execute") == 0) {
        c.sub = "execute";
        i++;
    } else if (i + 1 < argc && strcmp(argv[i], "migrations") == 0 &&
               (strcmp(argv[i + 1], "apply") == 0 || strcmp(argv[i + 1], "list") == 0 ||
                strcmp(argv[i + 1], "create") == 0)) {
        c.sub = strcmp(argv[i + 1], "apply") == 0  ? "migrations apply"
                : strcmp(argv[i + 1], "list") == 0 ? "migrations list"
                                                   : "migrations create";
        i += 2;
    } else {
        usage(stderr);
        return 2;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--command") == 0                          ? &c.command
                            : strcmp(a, "--file") == 0                           ? &c.file
                            : strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0 ? &c.config
                            : strcmp(a, "--env") == 0 || strcmp(a, "-e") == 0    ? &c.env
                            : strcmp(a, "--persist-to") == 0                     ? &c.persist_to
                                                                                 : NULL;
        if (slot != NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ew-server d1: %s needs a value\n", a);
                return 2;
            }
            *slot = argv[++i];
        } else if (strncmp(a, "--command=", 10) == 0) {
            c.command = a + 10;
        } else if (strncmp(a, "--file=", 7) == 0) {
            c.file = a + 7;
        } else if (strcmp(a, "--json") == 0) {
            c.json = true;
        } else if (strcmp(a, "--local") == 0 || strcmp(a, "-y") == 0 || strcmp(a, "--yes") == 0) {
            /* always local; never asks */
        } else if (strcmp(a, "--remote") == 0) {
            fprintf(stderr, "ew-server d1: --remote: ew-server only has local databases\n");
            return 2;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "ew-server d1: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (c.db == NULL) {
            c.db = a;
        } else if (strcmp(c.sub, "migrations create") == 0 && c.message == NULL) {
            c.message = a;
        } else {
            fprintf(stderr, "ew-server d1: unexpected argument %s\n", a);
            return 2;
        }
    }
    if (c.db == NULL) {
        fprintf(stderr, "ew-server d1 %s: the database (binding or database_name) is required\n", c.sub);
        return 2;
    }
    if (strcmp(c.sub, "execute") != 0 && (c.command || c.file || c.json)) {
        fprintf(stderr, "ew-server d1 %s: --command, --file and --json belong to execute\n", c.sub);
        return 2;
    }
    if (strcmp(c.sub, "migrations create") == 0 && (c.message == NULL || c.message[0] == '\0')) {
        fprintf(stderr, "ew-server d1 migrations create: a message naming the migration is required\n");
        return 2;
    }
    if (strcmp(c.sub, "execute") == 0)
        return cmd_execute(&c);
    if (strcmp(c.sub, "migrations create") == 0)
        return cmd_migrations_create(&c);
    return cmd_migrations_apply(&c, strcmp(c.sub, "migrations list") == 0);
}
