/*
 * lib/bindings/internal.h — Cloudflare's storage bindings (KV, D1, R2, the Cache API) over the store interface
 * (lib/store/store.h): what lib/core calls (first block) and what the files of lib/bindings share.
 *
 *   ew_runtime_t ── res (ew__res_cache_t) ──< ew__res_store_t  one per kind+id: the open store, shared by
 *        │                │                                     every worker of the runtime naming that id
 *        │                └─ inflight: ops whose promise waits for a group commit
 *        └──< ew_worker_t ──< ew__resource_t ── store ──> ew__res_store_t
 *
 * A namespace object in JS holds a plain pointer to its ew__res_store_t (a hidden property): the runtime
 * outlives every isolate, so the pointer stays valid for the heap's lifetime.
 */
#ifndef EW_BINDINGS_INTERNAL_H
#define EW_BINDINGS_INTERNAL_H

#include <mbedtls/md.h>

#include "core/isolate.h"
#include "store/store.h"

/* ---------------------------------------------------------------------------------------------------------
 * What lib/core calls (resources.c)
 */

/* Validates a resource of a worker config (kind known, binding non-empty, id valid) and copies it into d.
 * On error d may hold partial copies:
 * ew__resource_dispose() frees them. */
ew_status_t ew__resource_copy(ew__resource_t *d, const ew_resource_t *r, size_t index, ew_error_t *err);
void ew__resource_dispose(ew__resource_t *r);
/* Opens (or finds among the runtime's) the store of each of the worker's resources. EW_ERR_IO and the path
 * when a database cannot be opened. */
ew_status_t ew__resources_open(ew_runtime_t *rt, ew_worker_t *w, ew_error_t *err);
/* Puts each resource's binding object on the env object at env_idx and as a global. May throw. */
void ew__resources_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx);
/* The isolate is going away: its waiting promises are forgotten (their writes still commit). */
void ew__resources_cancel(ew__isolate_t *iso);
/* Commits what is queued and closes the runtime's stores (ew_runtime_destroy, after the workers). */
void ew__resources_shutdown(ew_runtime_t *rt);

/* The global `caches` (Cache API, cache.c): a getter that loads lib/js/cache.js on first use. */
void ew__cache_install(duk_context *ctx);

/* Seconds since the Unix epoch as the bindings see it (expirations). Tests may replace the clock. */
typedef double (*ew__clock_fn)(void);
void ew__resources_set_clock(ew_runtime_t *rt, ew__clock_fn now);

/* ---------------------------------------------------------------------------------------------------------
 * Shared by the files of lib/bindings
 */

typedef struct ew__res_cache ew__res_cache_t;
typedef struct ew__res_op ew__res_op_t;
typedef struct ew__r2_dir ew__r2_dir_t;

typedef struct ew__res_store {
    ew_resource_kind_t kind;
    char *id;                     /* owned */
    ew__store_t *store;           /* owned */
    ew__res_cache_t *cache;       /* the runtime's */
    bool purge_queued;            /* KV: a sweep of expired keys is queued */
    ew__r2_dir_t *r2;             /* R2: the bodies' folder (owned; closed after the store), NULL for other kinds */
    void *ext;                    /* the binding's own state for this store (D1: d1.c), owned */
    void (*ext_free)(void *ext);  /* frees ext at shutdown (NULL: nothing to free) */
} ew__res_store_t;

/* A write whose promise waits for its group commit. Embedded first in each binding's op struct. */
struct ew__res_op {
    ew__store_write_t write;      /* write.udata points back at this op */
    ew__res_store_t *rs;
    ew__isolate_t *iso;           /* the isolate whose promise waits; NULL: none (internal op, or cancelled) */
    uint32_t id;                  /* key of the promise in the isolate's pending table */
    uint32_t req_id;              /* the request that made the call (0 = none): CPU of the reactions */
    /* On success, pushes the value the promise resolves with, when it is known only then (R2); NULL: the
     * value kept by ew__res_keep_result, or undefined. Runs in a protected call. */
    void (*push_result)(duk_context *ctx, ew__res_op_t *op);
    ew__res_op_t *prev, *next;    /* in cache->inflight while iso != NULL */
};

struct ew__res_cache {
    ew__res_store_t **stores;     /* owned array of owned entries */
    size_t nstores;
    ew__res_op_t *inflight;       /* ops with a waiting promise (list) */
    uint32_t next_op_id;
    ew__clock_fn now;
};

/* A store kind of the library's own, next to ew_resource_kind_t's: the Cache API's database of a worker. */
#define EW__RESOURCE_CACHE 100
/* The Cache API's bound when ew_runtime_config_t.cache_mb is 0 (MiB). */
#define EW__CACHE_DEFAULT_MB 64

/* Finds the runtime's store of kind+id, or opens it (folders created, schema applied, shared by all the
 * runtime's workers). EW_ERR_IO with the path, EW_ERR_INVALID_ARG for a bad id, EW_ERR_NOMEM. */
ew_status_t ew__res_store_open(ew_runtime_t *rt, ew_resource_kind_t kind, const char *id, ew__res_store_t **out,
                               ew_error_t *err);

/* Now, in whole seconds since the epoch, from the runtime's clock. */
int64_t ew__res_now(const ew__res_cache_t *c);

/* Pushes a new pending promise and keeps it in the isolate's table under a new id, which it returns.
 * Call from a native method of an isolate of the cache's runtime. May throw (allocation). */
uint32_t ew__res_push_pending(duk_context *ctx, ew__res_cache_t *c);
/* Makes op the owner of the pending promise `id` of the running isolate: the op joins the in-flight list
 * and counts as I/O of the isolate (so a request awaiting it is not taken for a hung one). Never throws. */
void ew__res_op_start(duk_context *ctx, ew__res_op_t *op, uint32_t id);
/* Pops the value on top of the stack and keeps it as what the pending promise `id` resolves with when its op
 * succeeds (default: undefined). May throw (allocation). */
void ew__res_keep_result(duk_context *ctx, uint32_t id);
/* Settles the op's promise (its kept result or undefined, or an Error with `message`) from the loop, then
 * unlinks the op.
 * Does nothing for an op without an isolate. The caller frees the op afterwards. */
void ew__res_op_settle(ew__res_op_t *op, ew_status_t status, const char *message);

/* Calls body(ctx, udata) in a protected call; an error becomes a rejected promise (unless a limit fired:
 * then it is rethrown). body returns with the promise on top. */
duk_ret_t ew__res_call(duk_context *ctx, duk_safe_call_function body, duk_idx_t nargs);

/* KV (kv.c) */
extern const char *const ew__kv_schema;
/* Pushes a new KV namespace object for rs (its prototype made once per heap). May throw. */
void ew__kv_push(duk_context *ctx, ew__res_store_t *rs);

/* ---------------------------------------------------------------------------------------------------------
 * R2 (r2.c: the bucket object and its metadata; r2_blob.c: body files and hashes)
 */

#define EW__R2_NHASH 5            /* MD5, SHA-1, SHA-256, SHA-384, SHA-512, in this order (bit i = hash i) */
#define EW__R2_ID_HEX 32          /* hex digits of body file names, versions and upload ids */

extern const char *const ew__r2_schema;
/* Opens the bucket's folder of bodies for rs (after its store opened) and sweeps orphans. */
ew_status_t ew__r2_open(ew__res_store_t *rs, const char *state_dir, ew_error_t *err);
/* Closes the folder (removing it when it was a temporary one). Call after the store closed. */
void ew__r2_close(ew__res_store_t *rs);
/* Pushes a new bucket object for rs: a native stand-in until its first method call loads r2.js. May throw. */
void ew__r2_push(duk_context *ctx, ew__res_store_t *rs);

struct ew__r2_dir {
    char *path;                   /* owned */
    int fd;                       /* the folder, for *at() calls and fsync */
    bool temporary;               /* made by us (no state dir): removed on close */
    void *streaming;              /* r2.c's puts still reading a stream (list, owned) */
};

typedef struct ew__r2_hash {
    unsigned wanted;              /* bit i: hash i is computed (MD5 always) */
    mbedtls_md_context_t md[EW__R2_NHASH];
    char hex[EW__R2_NHASH][129];  /* lower-case hex digests, after ew__r2_hash_finish */
} ew__r2_hash_t;

/* A body being written: ".tmp-<name>" until committed as "<name>". */
typedef struct ew__r2_writer {
    char name[EW__R2_ID_HEX + 1];
    char tmp[EW__R2_ID_HEX + 6];
    int fd;
    uint64_t size;
    ew__r2_hash_t hash;           /* digests valid after ew__r2_blob_commit */
} ew__r2_writer_t;

const char *ew__r2_hash_name(int i);   /* "SHA-256" */
size_t ew__r2_hash_size(int i);        /* bytes */
/* Writes 2 * nbytes random lower-case hex digits and a NUL to out (nbytes <= 32). */
void ew__r2_random_hex(char *out, size_t nbytes);
void ew__r2_hex(const unsigned char *p, size_t n, char *out);
bool ew__r2_hash_start(ew__r2_hash_t *h, unsigned wanted);
void ew__r2_hash_update(ew__r2_hash_t *h, const void *p, size_t n);
void ew__r2_hash_finish(ew__r2_hash_t *h);   /* fills hex[] and disposes */
void ew__r2_hash_dispose(ew__r2_hash_t *h);

ew_status_t ew__r2_dir_open(ew__r2_dir_t *d, const char *state_dir, const char *id, ew_error_t *err);
void ew__r2_dir_close(ew__r2_dir_t *d);
/* Removes stale temporary files and bodies `referenced` says no row names (see r2_blob.c). */
void ew__r2_blob_sweep(ew__r2_dir_t *d, bool (*referenced)(void *udata, const char *name), void *udata);
/* Writing a body: begin, write*, then commit (durable under its name) or abort (nothing left). */
ew_status_t ew__r2_blob_begin(ew__r2_dir_t *d, ew__r2_writer_t *w, unsigned hashes, ew_error_t *err);
ew_status_t ew__r2_blob_write(ew__r2_dir_t *d, ew__r2_writer_t *w, const void *p, size_t n, ew_error_t *err);
ew_status_t ew__r2_blob_append_file(ew__r2_dir_t *d, ew__r2_writer_t *w, const char *name, ew_error_t *err);
ew_status_t ew__r2_blob_commit(ew__r2_dir_t *d, ew__r2_writer_t *w, ew_error_t *err);
void ew__r2_blob_abort(ew__r2_dir_t *d, ew__r2_writer_t *w);
void ew__r2_blob_unlink(ew__r2_dir_t *d, const char *name);
/* Opens a body for reading (-1 with errno when it is gone); reads exactly n bytes at offset. */
int ew__r2_blob_open(ew__r2_dir_t *d, const char *name);
bool ew__r2_blob_pread(int fd, void *out, size_t n, uint64_t offset);
/* Cache API storage (cache.c) */
extern const char *const ew__cache_schema;
/* Sets up a freshly opened cache store (synchronous=NORMAL: a cache may forget). */
void ew__cache_setup(ew__res_store_t *rs);

/* D1 (d1.c) */
/* Sets up a freshly opened D1 store (its state in rs->ext, the authorizer). EW_ERR_NOMEM. */
ew_status_t ew__d1_attach(ew__res_store_t *rs, ew_error_t *err);
/* Pushes a new D1Database object for rs (prototypes made once per heap). May throw. */
void ew__d1_push(duk_context *ctx, ew__res_store_t *rs);
/* SQLite authorizer for SQL from users (the ew-server d1 command uses it too): while *(int *)udata is
 * non-zero, refuses transactions, savepoints, ATTACH/DETACH and pragmas outside D1's allowed list. */
int ew__d1_authorize(void *udata, int action, const char *a1, const char *a2, const char *db, const char *trig);
/* True if the SQL's first keyword is VACUUM (refused for users: VACUUM INTO writes files). */
bool ew__d1_is_vacuum(const char *sql);
/* "SQLITE_CONSTRAINT" etc. for a result code, as D1 appends it to error messages. */
const char *ew__d1_code_name(int rc);

#endif /* EW_BINDINGS_INTERNAL_H */
