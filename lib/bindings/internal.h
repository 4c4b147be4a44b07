/*
 * lib/bindings/internal.h — Cloudflare's storage bindings (KV, D1, R2, the Cache API) over the store interface
 * (lib/store/store.h), Durable Objects and service bindings (calls between workers through inboxes): what
 * lib/core calls (first block, and each binding's "What lib/core calls") and what the files of lib/bindings
 * share.
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

/* Makes the heap's tables of pending promises (once per heap; before the first ew__res_push_pending). */
void ew__res_tables_init(duk_context *ctx);
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

/* ---------------------------------------------------------------------------------------------------------
 * Durable Objects (durable.c, do_storage.c, do_registry.c; lib/js/durable.js). Design: docs/architecture.md
 * "Durable Objects".
 */

/* What lib/core calls (durable.c). */
/* Validates and copies the worker config's namespaces into w->durables (class names must be identifiers,
 * bindings non-empty). On error w->durables may hold partial copies: ew__durable_dispose frees them. */
ew_status_t ew__durable_copy(ew_worker_t *w, const ew_worker_config_t *cfg, ew_error_t *err);
void ew__durable_dispose(ew_worker_t *w);
/* At load: joins the runtime to the process-wide registry (once per runtime) and, the first time a
 * namespace is seen in the process, arms the alarms its objects stored. */
ew_status_t ew__durable_open(ew_runtime_t *rt, ew_worker_t *w, ew_error_t *err);
/* After the first isolate ran the script: each namespace's class must be an exported class (a function).
 * EW_ERR_INVALID_ARG naming the binding and class otherwise. */
ew_status_t ew__durable_check_classes(ew__isolate_t *iso, ew_error_t *err);
/* Puts each namespace object on env (and as a global). May throw. */
void ew__durable_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx);
/* The isolate is going away: forgets the objects it held (their storage stays) and its calls in flight. */
void ew__durable_isolate_gone(ew__isolate_t *iso);
/* The worker is going away: evicts its objects. */
void ew__durable_worker_gone(ew_worker_t *w);
/* ew_runtime_destroy: evicts everything, answers queued calls with an error, leaves the registry. */
void ew__durable_shutdown(ew_runtime_t *rt);
/* Pushes the namespace object of `import ... from 'cloudflare:workers'` (helpers_module.js). May throw. */
void ew__durable_push_workers_module(duk_context *ctx);

/* A namespace of a worker (ew_worker_t.durables). */
typedef struct ew__do_ns {
    char *binding;                /* owned; NULL: not on env (the class is served for other workers only) */
    bool external;                /* script_name: the class belongs to another worker (calls only, no objects) */
    char *class_name;             /* owned */
    bool sql;                     /* SQLite-backed class: storage.sql exists */
    char *key;                    /* owned: registry key, "<state dir or runtime>|<worker>-<class>" */
    char *dir;                    /* owned: folder name under <state_dir>/do, "<worker>-<class>" */
} ew__do_ns_t;

/* Messages between runtimes (do_registry.c). */
typedef struct ew__do_inbox ew__do_inbox_t;
typedef struct ew__do_msg ew__do_msg_t;

enum { EW__DO_CALL = 1, EW__DO_REPLY = 2, EW__DO_TUNNEL = 3, EW__DO_STREAM = 4 };
/* EW__DO_STREAM kinds: a service's streamed response body (service.c), token = the stream's id. */
enum { EW__STREAM_PULL = 0, EW__STREAM_DATA = 1, EW__STREAM_DONE = 2, EW__STREAM_FAIL = 3, EW__STREAM_CANCEL = 4 };
enum { EW__TUNNEL_TEXT = 0, EW__TUNNEL_BINARY = 1, EW__TUNNEL_CLOSE = 2 };
enum { EW__DO_FETCH = 0, EW__DO_RPC = 1, EW__DO_ALARM = 2, EW__SVC_FETCH = 3, EW__SVC_RPC = 4 };

struct ew__do_msg {
    ew__do_msg_t *next;           /* in an inbox */
    int type;                     /* EW__DO_CALL or EW__DO_REPLY */
    int kind;                     /* CALL: EW__DO_FETCH / RPC / ALARM */
    char *ns_key;                 /* CALL: owned copy of the namespace's registry key */
    char id[65];                  /* CALL: the object's id, 64 hex digits */
    char *name;                   /* CALL: owned, the name idFromName was given, or NULL */
    bool failed;                  /* REPLY: meta is a serialized error */
    char *meta;                   /* owned, NUL-terminated UTF-8: the request/arguments or the result */
    size_t meta_len;
    void *body;                   /* owned bytes (fetch bodies), NULL when has_body is false */
    size_t body_len;
    bool has_body;
    ew__do_inbox_t *reply_to;     /* CALL: holds a reference; NULL when nobody waits (alarms) */
    uint64_t token;               /* CALL: the caller's key for the answer; copied into the REPLY.
                                     TUNNEL: the tunnel's id (the same on both sides) */
    uint32_t tunnel;              /* REPLY to a fetch answered with a WebSocket: the tunnel's id, else 0 */
    ew__do_inbox_t *from;         /* REPLY with a tunnel: the owner's inbox (a reference) */
    int code;                     /* TUNNEL close: the close code (meta is the reason) */
    int depth;                    /* CALL to a service: the chain depth of the event it starts (1 = called by
                                     an event from the host) */
    uint64_t stream;              /* REPLY of a service fetch whose body streams: the stream's id (then `from`
                                     is the target's inbox), else 0 */
};

typedef void (*ew__do_inbox_fn)(void *udata, ew__do_msg_t *m);

/* Creates an inbox whose messages are handed to `handle` on base's loop. One reference (the owner's). */
ew__do_inbox_t *ew__do_inbox_create(struct event_base *base, ew__do_inbox_fn handle, void *udata);
/* Owner's thread: releases its claims, stops the loop watch, answers queued calls with an error, drops the
 * owner's reference. Later posts are answered with an error at once. */
void ew__do_inbox_close(ew__do_inbox_t *in);
void ew__do_inbox_ref(ew__do_inbox_t *in);
void ew__do_inbox_unref(ew__do_inbox_t *in);
/* Any thread: hands m (ownership included) to the inbox's runtime. */
void ew__do_post(ew__do_inbox_t *in, ew__do_msg_t *m);
/* The inbox of the runtime holding (ns_key, id), claiming it for `me` when nobody does. The result holds a
 * reference for the caller. */
ew__do_inbox_t *ew__do_claim(const char *ns_key, const char *id, ew__do_inbox_t *me);
/* Drops me's claim on (ns_key, id), if it has it. */
void ew__do_release(const char *ns_key, const char *id, ew__do_inbox_t *me);
void ew__do_release_all(ew__do_inbox_t *me);
/* True exactly once per namespace key in the process (the first runtime arms its stored alarms). */
bool ew__do_first_sight(const char *ns_key);
/* An ASCII identifier naming an export (a Durable Object class, a service entrypoint): durable.c. */
bool ew__is_export_name(const char *s);
void ew__do_msg_free(ew__do_msg_t *m);
/* A REPLY to `call` with copies of meta and body; NULL on OOM. */
ew__do_msg_t *ew__do_reply_new(ew__do_msg_t *call, bool failed, const char *meta, size_t meta_len,
                               const void *body, size_t body_len, bool has_body);
/* Answers `call` with an Error(message) (no quotes in message) and frees it. */
void ew__do_fail_call(ew__do_msg_t *call, const char *message);

typedef struct ew__do_rt ew__do_rt_t;
/* The runtime's Durable Object state (its inbox, calls waiting for answers), made on first use; NULL on OOM. */
ew__do_rt_t *ew__durable_rt(ew_runtime_t *rt);
/* Its inbox (the runtime's own mailbox), or NULL when ew__durable_rt was never called. */
ew__do_inbox_t *ew__durable_inbox(ew_runtime_t *rt);
/* Pushes the isolate's durable.js API object (loading the file, and service.js, on first use). May throw. */
void ew__durable_push_api(duk_context *ctx);
/* Pushes the isolate's service.js API object (the caller's side of stub and service calls, the structured-
 * clone codec; loaded on first use, without durable.js). May throw. */
void ew__service_push_api(duk_context *ctx);
/* A call from an isolate to another runtime's (or this one's) inbox, answered through this runtime's inbox:
 * push_call_promise pushes [calls table, promise] and may throw (call it before allocating the message);
 * post_call registers the CALL m (owned) and posts it to `to` (the caller keeps its reference), leaving the
 * promise its answer settles with [failed, meta, body|null]; false when out of memory (m freed). */
void ew__do_push_call_promise(duk_context *ctx);
bool ew__do_post_call(duk_context *ctx, ew__do_msg_t *m, ew__do_inbox_t *to);
/* Sends the REPLY r (to r->reply_to, whose reference it takes) carrying the WebSocket `ws` a service binding's
 * target answered with: ws is attached to a new tunnel end (owned by it from now on), which relays its
 * messages to the caller's end, as an object's WebSocket is relayed. False (nothing sent; r and ws are still
 * the caller's) when out of memory. */
bool ew__do_reply_with_websocket(ew_runtime_t *rt, ew__do_msg_t *r, ew_websocket_t *ws);
/* Replies to `call`: an Error(message), or the answer [failed, meta, body|null] at idx. NULL on OOM. */
ew__do_msg_t *ew__do_error_reply(ew__do_msg_t *call, const char *message);
ew__do_msg_t *ew__do_result_reply(duk_context *ctx, ew__do_msg_t *call, duk_idx_t idx);

/* Service bindings (service.c): env.NAME of another worker of the same runtime. */
/* Validates and copies the worker config's services into w->services; EW_ERR_INVALID_ARG naming the entry. On
 * error w->services may hold partial copies: ew__service_dispose frees them. */
ew_status_t ew__service_copy(ew_worker_t *w, const ew_worker_config_t *cfg, ew_error_t *err);
void ew__service_dispose(ew_worker_t *w);
/* At load: the runtime's inbox, through which calls travel. */
ew_status_t ew__service_open(ew_runtime_t *rt, ew_worker_t *w, ew_error_t *err);
/* Puts each service binding (a Fetcher from durable.js) on env and as a global. May throw. */
void ew__service_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx);
/* A CALL of kind EW__SVC_FETCH / EW__SVC_RPC reached this runtime's inbox: runs it in the target worker. */
void ew__service_handle_call(ew_runtime_t *rt, ew__do_msg_t *m);
/* Natives of durable.js: serviceCall(index, kind, meta, body|null) -> promise; context() -> ctx. */
duk_ret_t ew__service_native_call(duk_context *ctx);
duk_ret_t ew__service_native_context(duk_context *ctx);
/* Streamed response bodies of service fetches. arrived: the REPLY r (for a call of iso) names a stream; the
 * caller's record takes r->from (false when out of memory: the stream is cancelled). stream_body(id) -> the
 * ReadableStream fed from it (service.js). handle_stream: a PULL/DATA/DONE/FAIL/CANCEL message. isolate_gone
 * and worker_gone drop the streams of a caller isolate or a target worker; shutdown frees what is left. */
bool ew__service_stream_arrived(ew_runtime_t *rt, ew__isolate_t *iso, ew__do_msg_t *r);
duk_ret_t ew__service_native_stream_body(duk_context *ctx);
void ew__service_handle_stream(ew_runtime_t *rt, ew__do_msg_t *m);
void ew__service_isolate_gone(ew__isolate_t *iso);
void ew__service_worker_gone(ew_worker_t *w);
void ew__service_shutdown(ew_runtime_t *rt);

/* An object held by this runtime (durable.c), with its storage (do_storage.c). */
typedef struct ew__do_obj ew__do_obj_t;

struct ew__do_obj {
    ew__do_rt_t *drt;
    ew_worker_t *w;               /* the worker whose class it is an instance of */
    size_t ns_index;              /* in w->durables */
    char id[65];
    ew__isolate_t *iso;           /* the isolate holding its instance (it alone holds this pointer) or NULL */
    int active;                   /* events being run */
    uint64_t last_ms;             /* monotonic time of the last event */
    /* storage (do_storage.c) */
    sqlite3 *db;
    bool internal;                /* our own statements run: the authorizer lets them touch _cf_ tables */
    bool in_tx;                   /* BEGIN issued, COMMIT pending */
    bool confirm;                 /* the open transaction holds writes outputs must wait for */
    int savepoints;               /* transaction() depth: no COMMIT while > 0 */
    bool commit_queued;
    ew__isolate_t *commit_iso;    /* the isolate whose io_pending counts the queued commit, or NULL */
    struct event *commit_ev;      /* owned */
    struct { char *sql; sqlite3_stmt *st; } stmts[16];  /* statement cache (owned) */
    int nstmts;
    ew__do_msg_t *held;           /* replies waiting for the output gate (list) */
    struct event *pump_ev;        /* reopens durable.js's input gate from a later macrotask (owned) */
    ew__isolate_t *pump_iso;      /* the isolate whose io_pending counts the queued pump, or NULL */
    ew__do_obj_t *next;
};

/* do_storage.c */
/* Opens the object's database (<state_dir>/do/<ns dir>/<id>.sqlite, or in memory) with its tables. */
ew_status_t ew__do_storage_open(ew__do_obj_t *o, ew_error_t *err);
/* Commits what is open, finalizes the statements, closes the database. */
void ew__do_storage_close(ew__do_obj_t *o);
/* Natives of durable.js working on an object's database: exec, txn, size, commit scheduling. */
duk_ret_t ew__do_native_exec(duk_context *ctx);
duk_ret_t ew__do_native_txn(duk_context *ctx);
duk_ret_t ew__do_native_size(duk_context *ctx);
/* Pushes the pointer of the object handle at idx (a durable.js record's handle); throws when absent. */
ew__do_obj_t *ew__do_require_obj(duk_context *ctx, duk_idx_t idx);
/* Called by do_storage.c once the object's transaction committed (ok) or failed: tells durable.js and
 * releases the replies held by the output gate. */
void ew__do_committed(ew__do_obj_t *o, bool ok, const char *message);
/* The alarm time stored in a database file (ms since the epoch), or -1 (do_storage.c, at start-up). */
double ew__do_storage_read_alarm(const char *path);

/* Structured clone as JSON text (sclone.c, lib/js/sclone.js). push: the { serialize, deserialize } object
 * (loaded once per heap). call: [value] -> [codec[fn](value)] (may throw DataCloneError / SyntaxError). */
void ew__sclone_push(duk_context *ctx);
void ew__sclone_call(duk_context *ctx, const char *fn);

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
