/*
 * r2_write.c — R2 writes: the ops a bucket queues for its store's group commit (apply inside the
 * transaction, done from the loop: settle the promise, unlink the body files the commit made obsolete),
 * put() of bytes or of a ReadableStream, and delete(). r2.c's opening comment has the design; r2.h the
 * shared types.
 *
 * A put of a ReadableStream is read in C (lib/web/stream.h) from the event loop, chunk by chunk into the
 * body file, so the object never sits in memory; its op is queued when the stream ends.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "r2.h"
#include "web/stream.h"

static const char SQL_PUT[] = "INSERT OR REPLACE INTO objects(" R2_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char SQL_CURRENT[] = "SELECT blob, etag, uploaded FROM objects WHERE key = ?1";
static const char SQL_DELETE[] = "DELETE FROM objects WHERE key = ?1";

/* ---------------------------------------------------------------------------------------------------------
 * Ops queued for the group commit
 */

static const char *const OP_NAMES[] = {"put", "delete", "createMultipartUpload", "uploadPart",
                                       "abortMultipartUpload", "completeMultipartUpload"};

static ew__r2_dir_t *op_dir(ew__r2_op_t *op)
{
    return op->base.rs->r2;
}

void ew__r2_op_free(ew__r2_op_t *op)
{
    ew__r2_rec_dispose(&op->rec);
    ew__r2_cond_dispose(&op->cond);
    free(op->part_etag);
    ew__buf_dispose(&op->keys);
    ew__buf_dispose(&op->obsolete);
    free(op);
}

/* Statement helper for apply: err set on failure. */
sqlite3_stmt *ew__r2_stmt(ew__store_t *s, const char *sql, ew_error_t *err)
{
    return ew__store_stmt(s, sql, err);
}

ew_status_t ew__r2_step_done(ew__store_t *s, sqlite3_stmt *st, ew_error_t *err)
{
    int rc = sqlite3_step(st);
    ew__store_release(st);
    return rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "writing", err);
}

bool ew__r2_obsolete_add(ew__r2_op_t *op, const char *name)
{
    return ew__buf_append(&op->obsolete, name, strlen(name) + 1);
}

/* Looks up the current object of key: *exists, and its blob (into blob_out), etag and uploaded. */
static ew_status_t current_object(ew__store_t *s, const char *key, size_t klen, bool *exists, char *blob_out,
                                  char *etag_out, double *uploaded, ew_error_t *err)
{
    sqlite3_stmt *st = ew__r2_stmt(s, SQL_CURRENT, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_blob64(st, 1, key, klen, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    if (*exists) {
        snprintf(blob_out, EW__R2_ID_HEX + 1, "%s", ew__r2_col_text(st, 0));
        snprintf(etag_out, 48, "%s", ew__r2_col_text(st, 1));
        *uploaded = (double) sqlite3_column_int64(st, 2);
    }
    ew__store_release(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "reading", err);
}

static ew_status_t insert_object(ew__store_t *s, const ew__r2_rec_t *r, ew_error_t *err)
{
    sqlite3_stmt *st = ew__r2_stmt(s, SQL_PUT, err);
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
    return ew__r2_step_done(s, st, err);
}

/* Replaces key's object with op->rec (after the precondition, for PUT). */
ew_status_t ew__r2_apply_put(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err)
{
    bool exists;
    char old_blob[EW__R2_ID_HEX + 1], etag[48];
    double uploaded = 0;
    ew_status_t st = current_object(s, op->rec.key, op->rec.key_len, &exists, old_blob, etag, &uploaded, err);
    if (st != EW_OK)
        return st;
    if (op->kind == R2_OP_PUT && !ew__r2_cond_test(&op->cond, exists, exists ? etag : "", uploaded)) {
        op->skipped = true;
        return EW_OK;
    }
    if ((st = insert_object(s, &op->rec, err)) != EW_OK)
        return st;
    if (exists && !ew__r2_obsolete_add(op, old_blob))
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    return EW_OK;
}

static ew_status_t apply_delete(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err)
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
        sqlite3_stmt *q = ew__r2_stmt(s, SQL_DELETE, err);
        if (q == NULL)
            return err->code;
        sqlite3_bind_blob64(q, 1, key, klen, SQLITE_STATIC);
        if ((st = ew__r2_step_done(s, q, err)) != EW_OK)
            return st;
        if (!ew__r2_obsolete_add(op, old_blob))
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    }
    return EW_OK;
}

static ew_status_t op_apply(ew__store_t *s, ew__store_write_t *w, ew_error_t *err)
{
    ew__r2_op_t *op = w->udata;
    op->fail = NULL;
    op->skipped = false;
    op->obsolete.len = 0;
    switch (op->kind) {
    case R2_OP_PUT:
        return ew__r2_apply_put(s, op, err);
    case R2_OP_DELETE:
        return apply_delete(s, op, err);
    case R2_OP_MP_CREATE:
        return ew__r2_apply_mp_create(s, op, err);
    case R2_OP_MP_PART:
        return ew__r2_apply_mp_part(s, op, err);
    case R2_OP_MP_ABORT:
        return ew__r2_apply_mp_abort(s, op, err);
    case R2_OP_MP_COMPLETE:
        return ew__r2_apply_mp_complete(s, op, err);
    }
    return EW_OK;
}

static void push_op_result(duk_context *ctx, ew__res_op_t *base)
{
    ew__r2_op_t *op = (ew__r2_op_t *) base;
    switch (op->kind) {
    case R2_OP_PUT:
    case R2_OP_MP_COMPLETE:
        if (op->skipped)
            duk_push_null(ctx);
        else
            ew__r2_push_rec(ctx, &op->rec);
        break;
    case R2_OP_MP_CREATE:
        duk_push_string(ctx, op->upload_id);
        break;
    case R2_OP_MP_PART:
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
    ew__r2_op_t *op = w->udata;
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
    ew__r2_op_free(op);
}

ew__r2_op_t *ew__r2_op_new(ew__res_store_t *rs, ew__r2_op_kind_t kind)
{
    ew__r2_op_t *op = calloc(1, sizeof(*op));
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
duk_ret_t ew__r2_queue_op(duk_context *ctx, ew__res_store_t *rs, ew__r2_op_t *op)
{
    struct pending_args p = {rs->cache, 0};
    if (duk_safe_call(ctx, push_pending_protected, &p, 0, 1) != DUK_EXEC_SUCCESS) {
        if (op->new_blob)
            ew__r2_blob_unlink(rs->r2, op->rec.blob);
        ew__r2_op_free(op);
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
const void *ew__r2_body_arg(duk_context *ctx, duk_idx_t idx, size_t *len)
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
void ew__r2_write_body(duk_context *ctx, ew__res_store_t *rs, ew__r2_writer_t *w, const void *p, size_t n,
                       unsigned hashes, const char *op)
{
    ew_error_t err;
    ew_status_t st = ew__r2_blob_begin(rs->r2, w, hashes, &err);
    if (st == EW_OK && (st = ew__r2_blob_write(rs->r2, w, p, n, &err)) != EW_OK)
        ew__r2_blob_abort(rs->r2, w);
    if (st == EW_OK)
        st = ew__r2_blob_commit(rs->r2, w, &err);
    if (st != EW_OK)
        (void) ew__r2_fail(ctx, op, "%s", err.message);
}

/* Fills the common fields of a new object record (key copy, blob, version, uploaded). False on OOM. */
bool ew__r2_rec_init(ew__res_store_t *rs, ew__r2_rec_t *r, const char *key, size_t klen, const char *blob)
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
    ew__r2_op_t *op;
    ew__r2_writer_t w;
    bool begun, written;          /* the temporary file exists / the body file is committed */
    unsigned wanted;              /* digests asked for (bits, as ew__r2_hash_t.wanted) */
    char expected[EW__R2_NHASH][129];
    ew__stream_reader_t *reader;  /* stream puts */
    duk_idx_t value_idx;          /* stream puts: the stream's stack index at the call */
    struct event *next_read;      /* stream puts: runs pump from the loop (owned) */
    bool sync, again, ended;      /* pump's trampoline (see pump); the stream ended or errored */
    char fail[600];               /* why the put fails ("" while it does not) */
    struct put_job *next;         /* in rs->r2->streaming */
} put_job_t;

static const char *const HASH_FIELDS[EW__R2_NHASH] = {"md5", "sha1", "sha256", "sha384", "sha512"};

/* Reads put()'s arguments into the job: key, expected digests, metadata, condition. May throw. */
static void put_prepare(duk_context *ctx, put_job_t *j)
{
    ew__r2_op_t *op = j->op;
    size_t klen;
    const char *key = ew__r2_key_arg(ctx, 1, "put", &klen);
    for (int i = 0; i < EW__R2_NHASH && duk_is_object(ctx, 6); i++) {
        if (duk_get_prop_string(ctx, 6, HASH_FIELDS[i]) && duk_is_string(ctx, -1)) {
            snprintf(j->expected[i], sizeof(j->expected[i]), "%s", duk_get_string(ctx, -1));
            j->wanted |= 1u << i;
        }
        duk_pop(ctx);
    }
    ew__r2_read_cond(ctx, 7, &op->cond);
    bool oom = !ew__r2_rec_init(j->rs, &op->rec, key, klen, "");
    op->rec.http = ew__r2_dup_arg(ctx, 3, &oom);
    op->rec.custom = ew__r2_dup_arg(ctx, 4, &oom);
    op->rec.storage_class = ew__r2_dup_arg(ctx, 5, &oom);
    if (oom || op->rec.http == NULL || op->rec.custom == NULL || op->rec.storage_class == NULL)
        (void) ew__r2_fail(ctx, "put", "out of memory");
}

/* After the body file is committed: checks the digests and completes the record. Returns NULL, or the
 * message put rejects with (written to msg). Never throws. */
static const char *put_finish(put_job_t *j, char *msg, size_t n)
{
    ew__r2_op_t *op = j->op;
    if (op->kind == R2_OP_MP_PART) { /* a part read from a stream: its etag is its MD5 */
        snprintf(op->rec.blob, sizeof(op->rec.blob), "%s", j->w.name);
        op->new_blob = true;
        op->part_size = j->w.size;
        op->part_etag = strdup(j->w.hash.hex[0]);
        return op->part_etag != NULL ? NULL : "out of memory";
    }
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
        ew__r2_op_free(j->op);
    }
    free(j);
}

static duk_ret_t put_prepare_protected(duk_context *ctx, void *udata)
{
    put_prepare(ctx, udata);
    return 0;
}

/* Safe-call body of a put of bytes: everything up to a committed body file and a complete record. */
static duk_ret_t put_bytes_protected(duk_context *ctx, void *udata)
{
    put_job_t *j = udata;
    put_prepare(ctx, j);
    size_t vlen;
    const void *value = ew__r2_body_arg(ctx, 2, &vlen);
    ew__r2_make_room(ctx, vlen); /* the body is in the heap already: collect what earlier ones left */
    ew_error_t err;
    ew_status_t st = ew__r2_blob_begin(j->rs->r2, &j->w, j->wanted, &err);
    j->begun = st == EW_OK;
    if (st == EW_OK)
        st = ew__r2_blob_write(j->rs->r2, &j->w, value, vlen, &err);
    if (st == EW_OK && (st = ew__r2_blob_commit(j->rs->r2, &j->w, &err)) == EW_OK)
        j->written = true;
    if (st != EW_OK)
        return ew__r2_fail(ctx, "put", "%s", err.message);
    char msg[700];
    const char *why = put_finish(j, msg, sizeof(msg));
    if (why != NULL)
        return ew__r2_fail(ctx, "put", "%s", why);
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
        ew__r2_op_t *op = j->op;
        j->op = NULL;
        ew__store_queue(j->rs->store, &op->base.write);
    } else {
        char full[800];
        snprintf(full, sizeof(full), "%s: %s", OP_NAMES[j->op->kind], msg);
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
            ew__r2_make_room(ctx, len); /* chunks a stream is done with wait for mark-and-sweep (cycles) */
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

/* Safe-call body: the body file and the reader of the stream at j->value_idx. */
static duk_ret_t stream_begin_protected(duk_context *ctx, void *udata)
{
    put_job_t *j = udata;
    const char *name = OP_NAMES[j->op->kind];
    if (ew__stream_is_disturbed(ctx, j->value_idx))
        return duk_type_error(ctx, "This ReadableStream is disturbed (has already been read from), and cannot "
                                   "be used as a body.");
    ew_error_t err;
    if (ew__r2_blob_begin(j->rs->r2, &j->w, j->wanted, &err) != EW_OK)
        return ew__r2_fail(ctx, name, "%s", err.message);
    j->begun = true;
    ew__isolate_t *iso = ew__isolate_of(ctx);
    j->next_read = event_new(iso->rt->base, -1, 0, on_next_read, j);
    if (j->next_read == NULL || (j->reader = ew__stream_reader_open(ctx, j->value_idx)) == NULL)
        return ew__r2_fail(ctx, name, "out of memory");
    return 0;
}

/* Starts reading the stream into the job's body file, pushes the op's promise; the op is queued when the
 * stream ends (pump). On failure frees the job (and its op) and throws. */
static duk_ret_t stream_start(duk_context *ctx, put_job_t *j)
{
    ew__res_store_t *rs = j->rs;
    if (duk_safe_call(ctx, stream_begin_protected, j, 0, 1) != DUK_EXEC_SUCCESS) {
        ew__stream_reader_close(j->reader);
        j->reader = NULL;
        put_job_free(j);
        return duk_throw(ctx);
    }
    duk_pop(ctx);
    struct pending_args p = {rs->cache, 0};
    if (duk_safe_call(ctx, push_pending_protected, &p, 0, 1) != DUK_EXEC_SUCCESS) {
        ew__stream_reader_close(j->reader);
        j->reader = NULL;
        put_job_free(j);
        return duk_throw(ctx);
    }
    ew__res_op_start(ctx, &j->op->base, p.id);
    j->next = rs->r2->streaming;
    rs->r2->streaming = j;
    event_active(j->next_read, EV_TIMEOUT, 1); /* reading starts from the loop, outside this call */
    return 1;
}

duk_ret_t ew__r2_stream_to_part(duk_context *ctx, ew__res_store_t *rs, ew__r2_op_t *op, duk_idx_t idx)
{
    put_job_t *j = calloc(1, sizeof(*j));
    if (j == NULL) {
        ew__r2_op_free(op);
        return ew__r2_fail(ctx, "uploadPart", "out of memory");
    }
    j->rs = rs;
    j->op = op;
    j->value_idx = duk_require_normalize_index(ctx, idx);
    return stream_start(ctx, j);
}

/* put(h, key, value, httpJSON, customJSON, storageClass, hashes, cond) -> Promise<record | null>
 * value: string, buffer, null, or a ReadableStream (read to the file chunk by chunk). */
duk_ret_t ew__r2_put(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    bool stream = ew__stream_is_readable(ctx, 2);
    if (stream && ew__stream_push_bytes(ctx, 2, true)) { /* a stream of bytes in memory: take them */
        duk_replace(ctx, 2);
        stream = false;
    }
    put_job_t *j = calloc(1, sizeof(*j));
    if (j == NULL || (j->op = ew__r2_op_new(rs, R2_OP_PUT)) == NULL) {
        free(j);
        return ew__r2_fail(ctx, "put", "out of memory");
    }
    j->rs = rs;
    j->value_idx = 2;
    if (duk_safe_call(ctx, stream ? put_prepare_protected : put_bytes_protected, j, 0, 1) != DUK_EXEC_SUCCESS) {
        put_job_free(j);
        return duk_throw(ctx);
    }
    duk_pop(ctx);
    if (stream)
        return stream_start(ctx, j);
    ew__r2_op_t *op = j->op;
    free(j); /* the op owns the file now */
    return ew__r2_queue_op(ctx, rs, op);
}

/* delete(h, keys[]) -> Promise<undefined> */
duk_ret_t ew__r2_delete(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    duk_size_t n = duk_get_length(ctx, 1);
    for (duk_size_t i = 0; i < n; i++) { /* check every key before anything is allocated */
        duk_get_prop_index(ctx, 1, (duk_uarridx_t) i);
        size_t klen;
        (void) ew__r2_key_arg(ctx, -1, "delete", &klen);
        duk_pop(ctx);
    }
    ew__r2_op_t *op = ew__r2_op_new(rs, R2_OP_DELETE);
    if (op == NULL)
        return ew__r2_fail(ctx, "delete", "out of memory");
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
        ew__r2_op_free(op);
        return ew__r2_fail(ctx, "delete", "out of memory");
    }
    return ew__r2_queue_op(ctx, rs, op);
}

void ew__r2_stream_puts_free(ew__res_store_t *rs)
{
    while (rs->r2->streaming != NULL) { /* puts whose stream never ended (their isolate went away) */
        put_job_t *j = rs->r2->streaming;
        rs->r2->streaming = j->next;
        ew__stream_reader_close(j->reader);
        j->reader = NULL;
        put_job_free(j);
    }
}
