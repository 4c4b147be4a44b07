/*
 * lib/bindings/r2.h — what the files of the R2 binding share (r2.c: the bucket object, reads, conditions and
 * records; r2_write.c: ops of the group commit, put, delete; r2_multipart.c: multipart uploads). Body files
 * and hashes are r2_blob.c's (internal.h). The design is in r2.c's opening comment and docs/architecture.md.
 */
#ifndef EW_BINDINGS_R2_H
#define EW_BINDINGS_R2_H

#include "internal.h"

#define R2_MAX_KEY 1024
#define R2_MAX_LIST 1000
#define R2_MIN_PART_SIZE (5u * 1024u * 1024u)
#define R2_MAX_PART_NUMBER 10000

/* R2's error texts (the service's words, as workerd reports them: "<op>: <text> (<code>)"). */
#define R2_E_INTERNAL "We encountered an internal error. Please try again. (10001)"
#define R2_E_NAME "The specified object name is not valid. (10020)"
#define R2_E_NO_UPLOAD "The specified multipart upload does not exist. (10024)"
#define R2_E_PART "One or more of the specified parts could not be found. (10025)"
#define R2_E_TOO_SMALL "Your proposed upload is smaller than the minimum allowed object size. (10011)"
#define R2_E_BAD_UPLOAD "There was a problem with the multipart upload. (10048)"

/* The columns of an object row, in the order ew__r2_push_row reads them. */
#define R2_COLS "key, blob, version, size, etag, uploaded, checksums, http, custom, storage_class"

/* ---------------------------------------------------------------------------------------------------------
 * r2.c: arguments and errors (the natives take (handle, ...): the bucket's pointer, which only r2.js holds)
 */

/* Throws Error("<op>: <text>"). */
duk_ret_t ew__r2_fail(duk_context *ctx, const char *op, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The bucket of the handle at index 0; TypeError "Illegal invocation" otherwise. */
ew__res_store_t *ew__r2_bucket_arg(duk_context *ctx);
/* The key at idx as UTF-8 (at most 1024 bytes, else R2's InvalidObjectName for `op`). May throw. */
const char *ew__r2_key_arg(duk_context *ctx, duk_idx_t idx, const char *op, size_t *len);
/* A malloc'd copy of the string at idx (NULL for null/undefined; *oom set when the copy failed). */
char *ew__r2_dup_arg(duk_context *ctx, duk_idx_t idx, bool *oom);
/* Commits queued writes first, so a script reads its own writes. */
void ew__r2_read_barrier(ew__res_store_t *rs);
sqlite3_stmt *ew__r2_stmt_or_throw(duk_context *ctx, ew__res_store_t *rs, const char *sql, const char *op);
/* Runs mark-and-sweep before a block of n bytes when the heap is past half its limit (see r2.c). */
void ew__r2_make_room(duk_context *ctx, size_t n);
const char *ew__r2_col_text(sqlite3_stmt *st, int i);   /* "" for NULL */
int ew__r2_hexval(char c);                               /* -1 when not a lower-case hex digit */

/* onlyIf, normalized by r2.js; the test follows RFC 7232 section 6 as R2 applies it. */
typedef struct ew__r2_etag_cond {
    char type;
    char *value;   /* owned; NULL for "*" */
} ew__r2_etag_cond_t;

typedef struct ew__r2_cond {
    bool present;
    ew__r2_etag_cond_t *match, *none;   /* owned arrays, NULL when absent */
    size_t nmatch, nnone;
    bool has_match, has_none, has_before, has_after, seconds;
    double before, after;        /* ms since the epoch */
} ew__r2_cond_t;

/* Reads the normalized condition at idx (undefined: none). Throws on allocation failure. */
void ew__r2_read_cond(duk_context *ctx, duk_idx_t idx, ew__r2_cond_t *c);
void ew__r2_cond_dispose(ew__r2_cond_t *c);
/* True if the condition holds for the object (exists, etag, uploaded ms). */
bool ew__r2_cond_test(const ew__r2_cond_t *c, bool exists, const char *etag, double uploaded);

/* An object record: what r2.js turns into an R2Object. */
typedef struct ew__r2_rec {
    char *key;                    /* owned, key_len bytes of UTF-8 */
    size_t key_len;
    char blob[EW__R2_ID_HEX + 1];
    char version[EW__R2_ID_HEX + 1];
    uint64_t size;
    char etag[48];
    double uploaded;              /* ms */
    char *checksums, *http, *custom, *storage_class;   /* owned JSON texts / string */
} ew__r2_rec_t;

void ew__r2_rec_dispose(ew__r2_rec_t *r);
void ew__r2_push_rec(duk_context *ctx, const ew__r2_rec_t *r);

/* ---------------------------------------------------------------------------------------------------------
 * r2_write.c: writes, ops queued for the group commit
 */

typedef enum ew__r2_op_kind { R2_OP_PUT, R2_OP_DELETE, R2_OP_MP_CREATE, R2_OP_MP_PART, R2_OP_MP_ABORT, R2_OP_MP_COMPLETE } ew__r2_op_kind_t;

typedef struct ew__r2_op {
    ew__res_op_t base;            /* first: base.write.udata == this */
    ew__r2_op_kind_t kind;
    ew__r2_rec_t rec;                 /* PUT, MP_COMPLETE: the new object; MP_CREATE: key and metadata */
    ew__r2_cond_t cond;               /* PUT: onlyIf */
    char upload_id[EW__R2_ID_HEX + 1];   /* MP_* */
    int part;                     /* MP_PART: its number */
    char *part_etag;              /* MP_PART: owned */
    uint64_t part_size;           /* MP_PART */
    ew__buf_t keys;               /* DELETE: (uint32 length, bytes)...; MP_COMPLETE: (uint32 part, blob)... */
    ew__buf_t obsolete;           /* body files to unlink once committed: names, each NUL-terminated */
    const char *fail;             /* a logical failure found in apply: rejects with "<op>: <fail>" */
    bool skipped;                 /* PUT: the precondition did not hold (resolves null) */
    bool new_blob;                /* rec.blob is this op's file: unlinked unless committed */
} ew__r2_op_t;

ew__r2_op_t *ew__r2_op_new(ew__res_store_t *rs, ew__r2_op_kind_t kind);   /* NULL on OOM */
void ew__r2_op_free(ew__r2_op_t *op);
/* Pushes the promise of op and queues it. If that fails, frees the op (and its new body file) and throws. */
duk_ret_t ew__r2_queue_op(duk_context *ctx, ew__res_store_t *rs, ew__r2_op_t *op);
/* Key copy, blob name, new version and upload time of a new record. False on OOM. */
bool ew__r2_rec_init(ew__res_store_t *rs, ew__r2_rec_t *r, const char *key, size_t klen, const char *blob);
/* The body argument at idx: string (UTF-8), ArrayBuffer / view (bytes), null/undefined (empty). */
const void *ew__r2_body_arg(duk_context *ctx, duk_idx_t idx, size_t *len);
/* Writes a body file (MD5 and the `hashes` computed); throws "<op>: ..." on failure. */
void ew__r2_write_body(duk_context *ctx, ew__res_store_t *rs, ew__r2_writer_t *w, const void *p, size_t n,
                       unsigned hashes, const char *op);
/* For apply functions (inside the group's transaction; err set on failure). */
sqlite3_stmt *ew__r2_stmt(ew__store_t *s, const char *sql, ew_error_t *err);
ew_status_t ew__r2_step_done(ew__store_t *s, sqlite3_stmt *st, ew_error_t *err);
bool ew__r2_obsolete_add(ew__r2_op_t *op, const char *name);
/* Replaces key's object with op->rec (after onlyIf, for a put); the old body becomes obsolete. */
ew_status_t ew__r2_apply_put(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err);
/* uploadPart of a ReadableStream: op (an R2_OP_MP_PART with key and upload id set) gets the part read from
 * the stream at idx into its body file; pushes its promise. Frees op and throws on failure. */
duk_ret_t ew__r2_stream_to_part(duk_context *ctx, ew__res_store_t *rs, ew__r2_op_t *op, duk_idx_t idx);
/* Frees the puts still reading a stream (their isolate went away): at close. */
void ew__r2_stream_puts_free(ew__res_store_t *rs);
/* The natives (r2.js: put(h, key, value, httpJSON, customJSON, storageClass, hashes, cond), del(h, keys)). */
duk_ret_t ew__r2_put(duk_context *ctx);
duk_ret_t ew__r2_delete(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * r2_multipart.c
 */

ew_status_t ew__r2_apply_mp_create(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err);
ew_status_t ew__r2_apply_mp_part(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err);
ew_status_t ew__r2_apply_mp_abort(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err);
ew_status_t ew__r2_apply_mp_complete(ew__store_t *s, ew__r2_op_t *op, ew_error_t *err);
/* mpCreate(h, key, http, custom, sc), mpPart(h, key, id, n, value), mpAbort(h, key, id),
 * mpComplete(h, key, id, [[n, etag]...]) */
duk_ret_t ew__r2_mp_create(duk_context *ctx);
duk_ret_t ew__r2_mp_part(duk_context *ctx);
duk_ret_t ew__r2_mp_abort(duk_context *ctx);
duk_ret_t ew__r2_mp_complete(duk_context *ctx);

#endif /* EW_BINDINGS_R2_H */
