/*
 * r2_multipart.c — R2 multipart uploads: createMultipartUpload, uploadPart, abort and complete (the natives
 * r2.js calls) and their ops' apply steps. Parts are body files of their own (r2_blob.c); completing checks
 * R2's rules (every part but the last at least 5 MiB, all but the last the same size, the last no larger),
 * concatenates the parts in part-number order into the object's file, and gives the object the etag
 * "<MD5 of the parts' MD5s>-<count>"; the parts' files go once that commit is on disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "r2.h"
#include "web/stream.h"

static const char SQL_UPLOAD[] = "SELECT key, http, custom, storage_class, state FROM uploads WHERE upload_id = ?1";
static const char SQL_UPLOAD_NEW[] = "INSERT INTO uploads(upload_id, key, http, custom, storage_class, state) VALUES (?1, ?2, ?3, ?4, ?5, 0)";
static const char SQL_UPLOAD_STATE[] = "UPDATE uploads SET state = ?2 WHERE upload_id = ?1";
static const char SQL_PART_GET[] = "SELECT blob, size, etag FROM parts WHERE upload_id = ?1 AND part = ?2";
static const char SQL_PART_PUT[] = "INSERT OR REPLACE INTO parts(upload_id, part, blob, size, etag) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_PARTS_OF[] = "SELECT blob FROM parts WHERE upload_id = ?1";
static const char SQL_PARTS_DELETE[] = "DELETE FROM parts WHERE upload_id = ?1";

enum { UPLOAD_IN_PROGRESS = 0, UPLOAD_COMPLETED = 1, UPLOAD_ABORTED = 2 };

/* ---------------------------------------------------------------------------------------------------------
 * Apply steps (inside the group's transaction)
 */

/* The upload's state (-1: no such upload, or one for another key). */
static int upload_state(ew__store_t *s, const char *upload_id, const char *key, size_t klen, ew_error_t *err,
                        ew_status_t *status)
{
    *status = EW_OK;
    sqlite3_stmt *st = ew__r2_stmt(s, SQL_UPLOAD, err);
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
    sqlite3_stmt *st = ew__r2_stmt(s, SQL_UPLOAD_STATE, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, state);
    return ew__r2_step_done(s, st, err);
}

/* Moves the names of the upload's part files to op->obsolete and deletes their rows. */
static ew_status_t drop_parts(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err)
{
    sqlite3_stmt *st = ew__r2_stmt(s, SQL_PARTS_OF, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, op->upload_id, -1, SQLITE_STATIC);
    int rc;
    bool ok = true;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ok = ok && ew__r2_obsolete_add(op, ew__r2_col_text(st, 0));
    ew__store_release(st);
    if (rc != SQLITE_DONE)
        return ew__store_error(s, rc, "reading", err);
    if (!ok)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    if ((st = ew__r2_stmt(s, SQL_PARTS_DELETE, err)) == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, op->upload_id, -1, SQLITE_STATIC);
    return ew__r2_step_done(s, st, err);
}

ew_status_t ew__r2_apply_mp_create(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err)
{
    sqlite3_stmt *st = ew__r2_stmt(s, SQL_UPLOAD_NEW, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, op->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 2, op->rec.key, op->rec.key_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, op->rec.http, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, op->rec.custom, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, op->rec.storage_class, -1, SQLITE_STATIC);
    return ew__r2_step_done(s, st, err);
}

/* The blob of part `part` of the upload into out ("" when there is none). */
static ew_status_t part_blob(ew__store_t *s, const char *upload_id, int part, char *out, ew_error_t *err)
{
    sqlite3_stmt *st = ew__r2_stmt(s, SQL_PART_GET, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, part);
    int rc = sqlite3_step(st);
    snprintf(out, EW__R2_ID_HEX + 1, "%s", rc == SQLITE_ROW ? ew__r2_col_text(st, 0) : "");
    ew__store_release(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "reading", err);
}

ew_status_t ew__r2_apply_mp_part(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err)
{
    ew_status_t st;
    if (upload_state(s, op->upload_id, op->rec.key, op->rec.key_len, err, &st) != UPLOAD_IN_PROGRESS) {
        op->fail = R2_E_NO_UPLOAD;
        return st;
    }
    char old[EW__R2_ID_HEX + 1];
    if ((st = part_blob(s, op->upload_id, op->part, old, err)) != EW_OK)
        return st;
    sqlite3_stmt *q = ew__r2_stmt(s, SQL_PART_PUT, err);
    if (q == NULL)
        return err->code;
    sqlite3_bind_text(q, 1, op->upload_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, op->part);
    sqlite3_bind_text(q, 3, op->rec.blob, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, (sqlite3_int64) op->part_size);
    sqlite3_bind_text(q, 5, op->part_etag, -1, SQLITE_STATIC);
    if ((st = ew__r2_step_done(s, q, err)) != EW_OK)
        return st;
    if (old[0] != '\0' && !ew__r2_obsolete_add(op, old))
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory");
    return EW_OK;
}

ew_status_t ew__r2_apply_mp_abort(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err)
{
    ew_status_t st;
    int state = upload_state(s, op->upload_id, op->rec.key, op->rec.key_len, err, &st);
    if (st != EW_OK)
        return st;
    if (state < 0) {
        op->fail = R2_E_NO_UPLOAD;
        return EW_OK;
    }
    if (state != UPLOAD_IN_PROGRESS)
        return EW_OK; /* completed or aborted already: nothing to do */
    if ((st = set_upload_state(s, op->upload_id, UPLOAD_ABORTED, err)) != EW_OK)
        return st;
    return drop_parts(s, op, err);
}

ew_status_t ew__r2_apply_mp_complete(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err)
{
    ew_status_t st;
    if (upload_state(s, op->upload_id, op->rec.key, op->rec.key_len, err, &st) != UPLOAD_IN_PROGRESS) {
        op->fail = R2_E_NO_UPLOAD;
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
            op->fail = R2_E_PART;
            return EW_OK;
        }
    }
    if ((st = ew__r2_apply_put(s, op, err)) != EW_OK || (st = set_upload_state(s, op->upload_id, UPLOAD_COMPLETED, err)) != EW_OK)
        return st;
    return drop_parts(s, op, err);
}

/* ---------------------------------------------------------------------------------------------------------
 * The natives: checks and body files at the call, the metadata through an op
 */

/* At call time: the upload's row must exist for this key and be in progress. Copies its metadata into
 * rec when rec is not NULL. Throws "<op>: ... (10024)" otherwise. */
static void require_upload(duk_context *ctx, ew__res_store_t *rs, const char *op, const char *upload_id,
                           const char *key, size_t klen, ew__r2_rec_t *rec, bool *oom)
{
    ew__r2_read_barrier(rs);
    sqlite3_stmt *st = ew__r2_stmt_or_throw(ctx, rs, SQL_UPLOAD, op);
    sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_ROW && sqlite3_column_int(st, 4) == UPLOAD_IN_PROGRESS &&
              (size_t) sqlite3_column_bytes(st, 0) == klen && memcmp(sqlite3_column_blob(st, 0), key, klen) == 0;
    if (ok && rec != NULL) {
        rec->http = strdup(ew__r2_col_text(st, 1));
        rec->custom = strdup(ew__r2_col_text(st, 2));
        rec->storage_class = strdup(ew__r2_col_text(st, 3));
        *oom = rec->http == NULL || rec->custom == NULL || rec->storage_class == NULL;
    }
    ew__store_release(st);
    if (!ok)
        (void) ew__r2_fail(ctx, op, R2_E_NO_UPLOAD);
}

/* mpCreate(h, key, httpJSON, customJSON, storageClass) -> Promise<uploadId> */
duk_ret_t ew__r2_mp_create(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    size_t klen;
    const char *key = ew__r2_key_arg(ctx, 1, "createMultipartUpload", &klen);
    for (duk_idx_t i = 2; i <= 4; i++)
        (void) duk_require_string(ctx, i); /* so that ew__r2_dup_arg cannot throw below */
    ew__r2_op_t *op = ew__r2_op_new(rs, R2_OP_MP_CREATE);
    bool oom = op == NULL;
    if (!oom) {
        oom = !ew__r2_rec_init(rs, &op->rec, key, klen, "");
        op->rec.http = ew__r2_dup_arg(ctx, 2, &oom);
        op->rec.custom = ew__r2_dup_arg(ctx, 3, &oom);
        op->rec.storage_class = ew__r2_dup_arg(ctx, 4, &oom);
        ew__r2_random_hex(op->upload_id, EW__R2_ID_HEX / 2);
    }
    if (oom) {
        if (op != NULL)
            ew__r2_op_free(op);
        return ew__r2_fail(ctx, "createMultipartUpload", "out of memory");
    }
    return ew__r2_queue_op(ctx, rs, op);
}

struct part_args {
    ew__res_store_t *rs;
    ew__r2_op_t *op;
    ew__r2_writer_t w;
    bool written;
    bool stream;                  /* the value is a ReadableStream: only the op is prepared here */
};

static duk_ret_t part_protected(duk_context *ctx, void *udata)
{
    struct part_args *a = udata;
    size_t klen, vlen;
    const char *key = ew__r2_key_arg(ctx, 1, "uploadPart", &klen);
    const char *upload_id = duk_require_string(ctx, 2);
    bool oom = false;
    require_upload(ctx, a->rs, "uploadPart", upload_id, key, klen, NULL, &oom);
    if (a->stream) {
        if (!ew__r2_rec_init(a->rs, &a->op->rec, key, klen, ""))
            return ew__r2_fail(ctx, "uploadPart", "out of memory");
        snprintf(a->op->upload_id, sizeof(a->op->upload_id), "%s", upload_id);
        return 0;
    }
    const void *value = ew__r2_body_arg(ctx, 4, &vlen);
    ew__r2_make_room(ctx, vlen);
    ew__r2_write_body(ctx, a->rs, &a->w, value, vlen, 0, "uploadPart");
    a->written = true;
    ew__r2_op_t *op = a->op;
    if (!ew__r2_rec_init(a->rs, &op->rec, key, klen, a->w.name) || (op->part_etag = strdup(a->w.hash.hex[0])) == NULL)
        return ew__r2_fail(ctx, "uploadPart", "out of memory");
    op->new_blob = true;
    op->part_size = a->w.size;
    snprintf(op->upload_id, sizeof(op->upload_id), "%s", upload_id);
    return 0;
}

/* mpPart(h, key, uploadId, partNumber, value) -> Promise<{partNumber, etag}>; value: string, buffer, null
 * or a ReadableStream (read to the part's file chunk by chunk). */
duk_ret_t ew__r2_mp_part(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    bool stream = ew__stream_is_readable(ctx, 4);
    if (stream && ew__stream_push_bytes(ctx, 4, true)) { /* a stream of bytes in memory: take them */
        duk_replace(ctx, 4);
        stream = false;
    }
    struct part_args a = {.rs = rs, .op = ew__r2_op_new(rs, R2_OP_MP_PART), .stream = stream};
    if (a.op == NULL)
        return ew__r2_fail(ctx, "uploadPart", "out of memory");
    a.op->part = duk_require_int(ctx, 3);
    if (duk_safe_call(ctx, part_protected, &a, 0, 1) != DUK_EXEC_SUCCESS) {
        if (a.written)
            ew__r2_blob_unlink(rs->r2, a.w.name);
        ew__r2_op_free(a.op);
        return duk_throw(ctx);
    }
    duk_pop(ctx);
    if (stream)
        return ew__r2_stream_to_part(ctx, rs, a.op, 4);
    return ew__r2_queue_op(ctx, rs, a.op);
}

/* mpAbort(h, key, uploadId) -> Promise<undefined> */
duk_ret_t ew__r2_mp_abort(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    size_t klen;
    const char *key = ew__r2_key_arg(ctx, 1, "abortMultipartUpload", &klen);
    const char *upload_id = duk_require_string(ctx, 2);
    ew__r2_op_t *op = ew__r2_op_new(rs, R2_OP_MP_ABORT);
    if (op == NULL || !ew__r2_rec_init(rs, &op->rec, key, klen, "")) {
        if (op != NULL)
            ew__r2_op_free(op);
        return ew__r2_fail(ctx, "abortMultipartUpload", "out of memory");
    }
    snprintf(op->upload_id, sizeof(op->upload_id), "%.*s", EW__R2_ID_HEX, upload_id);
    return ew__r2_queue_op(ctx, rs, op);
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
    ew__r2_op_t *op;
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
                (void) ew__r2_fail(ctx, op, R2_E_INTERNAL);
        sqlite3_stmt *st = ew__r2_stmt_or_throw(ctx, a->rs, SQL_PART_GET, op);
        sqlite3_bind_text(st, 1, upload_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, a->parts[i].number);
        bool found = sqlite3_step(st) == SQLITE_ROW && strcmp(ew__r2_col_text(st, 2), etag) == 0;
        if (found) {
            snprintf(a->parts[i].blob, sizeof(a->parts[i].blob), "%s", ew__r2_col_text(st, 0));
            a->parts[i].size = (uint64_t) sqlite3_column_int64(st, 1);
            for (int b = 0; b < 16; b++)
                a->parts[i].md5[b] = (unsigned char) (ew__r2_hexval(etag[2 * b]) << 4 | ew__r2_hexval(etag[2 * b + 1]));
        }
        ew__store_release(st);
        if (!found)
            (void) ew__r2_fail(ctx, op, R2_E_PART);
        duk_pop_3(ctx);
    }
    for (size_t i = 0; i + 1 < a->nparts; i++)
        if (a->parts[i].size < R2_MIN_PART_SIZE)
            (void) ew__r2_fail(ctx, op, R2_E_TOO_SMALL);
    qsort(a->parts, a->nparts, sizeof(*a->parts), by_number);
    for (size_t i = 0; i + 1 < a->nparts; i++)
        if (a->parts[i].size != a->parts[0].size)
            (void) ew__r2_fail(ctx, op, R2_E_BAD_UPLOAD);
    if (a->nparts > 1 && a->parts[a->nparts - 1].size > a->parts[0].size)
        (void) ew__r2_fail(ctx, op, R2_E_BAD_UPLOAD);
}

static duk_ret_t complete_protected(duk_context *ctx, void *udata)
{
    struct complete_args *a = udata;
    const char *op_name = "completeMultipartUpload";
    size_t klen;
    const char *key = ew__r2_key_arg(ctx, 1, op_name, &klen);
    const char *upload_id = duk_require_string(ctx, 2);
    ew__r2_op_t *op = a->op;
    bool oom = false;
    require_upload(ctx, a->rs, op_name, upload_id, key, klen, &op->rec, &oom);
    a->nparts = duk_get_length(ctx, 3);
    if (a->nparts == 0)
        return ew__r2_fail(ctx, op_name, R2_E_BAD_UPLOAD);
    if (oom || (a->parts = calloc(a->nparts, sizeof(*a->parts))) == NULL)
        return ew__r2_fail(ctx, op_name, "out of memory");
    complete_check_parts(ctx, a, upload_id);
    /* Concatenate; the etag is the MD5 of the parts' MD5s, then "-<count>". */
    ew_error_t err;
    if (ew__r2_blob_begin(a->rs->r2, &a->w, 0, &err) != EW_OK)
        return ew__r2_fail(ctx, op_name, "%s", err.message);
    a->writing = true;
    ew__r2_hash_t etag;
    if (!ew__r2_hash_start(&etag, 1))
        return ew__r2_fail(ctx, op_name, "out of memory");
    ew_status_t st = EW_OK;
    for (size_t i = 0; i < a->nparts && st == EW_OK; i++) {
        ew__r2_hash_update(&etag, a->parts[i].md5, 16);
        st = ew__r2_blob_append_file(a->rs->r2, &a->w, a->parts[i].blob, &err);
        oom = oom || !ew__buf_append(&op->keys, &a->parts[i].number, sizeof(int)) ||
              !ew__buf_append(&op->keys, a->parts[i].blob, EW__R2_ID_HEX + 1);
    }
    ew__r2_hash_finish(&etag);
    if (st != EW_OK)
        return ew__r2_fail(ctx, op_name, "%s", err.message);
    a->writing = false;
    if (ew__r2_blob_commit(a->rs->r2, &a->w, &err) != EW_OK)
        return ew__r2_fail(ctx, op_name, "%s", err.message);
    a->written = true;
    if (oom || !ew__r2_rec_init(a->rs, &op->rec, key, klen, a->w.name) || (op->rec.checksums = strdup("{}")) == NULL)
        return ew__r2_fail(ctx, op_name, "out of memory");
    op->new_blob = true;
    op->rec.size = a->w.size;
    snprintf(op->rec.etag, sizeof(op->rec.etag), "%.32s-%zu", etag.hex[0], a->nparts);
    snprintf(op->upload_id, sizeof(op->upload_id), "%s", upload_id);
    return 0;
}

/* mpComplete(h, key, uploadId, [[partNumber, etag], ...]) -> Promise<record> */
duk_ret_t ew__r2_mp_complete(duk_context *ctx)
{
    ew__res_store_t *rs = ew__r2_bucket_arg(ctx);
    struct complete_args a = {.rs = rs, .op = ew__r2_op_new(rs, R2_OP_MP_COMPLETE)};
    if (a.op == NULL)
        return ew__r2_fail(ctx, "completeMultipartUpload", "out of memory");
    int rc = duk_safe_call(ctx, complete_protected, &a, 0, 1);
    free(a.parts);
    if (rc != DUK_EXEC_SUCCESS) {
        if (a.writing)
            ew__r2_blob_abort(rs->r2, &a.w);
        if (a.written)
            ew__r2_blob_unlink(rs->r2, a.w.name);
        ew__r2_op_free(a.op);
        return duk_throw(ctx);
    }
    duk_pop(ctx);
    return ew__r2_queue_op(ctx, rs, a.op);
}
