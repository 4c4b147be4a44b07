/*
 * edgeworker.h — the public API of libedgeworker, an embeddable runtime for Cloudflare-Workers-style
 * JavaScript. This is the only header a host includes; everything else in the library is internal.
 *
 * The model (ARCHITECTURE.md has the design):
 *
 *   ew_runtime_t   one per thread. Owns (or borrows) a libevent event_base and the limits that apply to
 *                  every Worker it runs. All calls on a runtime, its workers and their requests must come
 *                  from the thread that created the runtime; the library starts no threads of its own.
 *   ew_worker_t    one loaded Worker script. It runs in an isolate (one JavaScript heap) that is reused
 *                  across requests; requests interleave at awaits. An isolate that broke a limit is
 *                  replaced transparently; requests already running in it finish there.
 *
 * Requests are dispatched asynchronously (the callback runs from the event loop) or with blocking helpers
 * that run the loop until the answer is complete. Errors are values: every function returns ew_status_t,
 * and where a person needs to know more, an ew_error_t out-parameter says what and where. The library never
 * prints, never exits and never aborts the process because of anything a script or an input does.
 */
#ifndef EDGEWORKER_H
#define EDGEWORKER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(EW_BUILDING_LIBRARY)
#define EW_API __attribute__((visibility("default")))
#else
#define EW_API
#endif

struct event_base;

/* Version of this header and of the library it belongs to. */
#define EW_VERSION_MAJOR 0
#define EW_VERSION_MINOR 3
#define EW_VERSION_PATCH 0

/* Returns the library's version as "MAJOR.MINOR.PATCH" (static storage). */
EW_API const char *ew_version(void);

/* ---------------------------------------------------------------------------------------------------------
 * Status codes and errors
 */

typedef enum ew_status {
    EW_OK = 0,                /* success */
    EW_ERR_INVALID_ARG = 1,   /* a NULL or malformed argument; the message names it */
    EW_ERR_NOMEM = 2,         /* the host's allocator failed */
    EW_ERR_IO = 3,            /* a file could not be read or written; the message has the path and errno text */
    EW_ERR_SYNTAX = 4,        /* the script does not parse; file, line and column are set */
    EW_ERR_EXCEPTION = 5,     /* the script threw and did not catch (Cloudflare error 1101) */
    EW_ERR_CPU_LIMIT = 6,     /* a request used more CPU time than allowed (Cloudflare error 1102) */
    EW_ERR_MEMORY_LIMIT = 7,  /* an isolate grew past its memory limit (Cloudflare error 1102) */
    EW_ERR_NO_HANDLER = 8,    /* the Worker has no handler for this event (no fetch listener, no scheduled) */
    EW_ERR_BAD_RESPONSE = 9,  /* the handler did not produce a Response object */
    EW_ERR_CANCELLED = 10,    /* the request was dropped because its worker or runtime was destroyed */
    EW_ERR_STATE = 11,        /* the call is not allowed now (wrong thread, runtime shutting down, re-entry) */
    EW_ERR_INTERNAL = 12      /* a bug in libedgeworker; the message says where */
} ew_status_t;

/* Returns the constant's name, e.g. "EW_ERR_CPU_LIMIT" (static storage; "EW_ERR_UNKNOWN" for others). */
EW_API const char *ew_status_name(ew_status_t status);

/* What went wrong, filled by functions that take an `ew_error_t *err` (which may be NULL when the caller does
 * not care). The caller owns the struct; the library only writes into its fixed buffers, so there is nothing
 * to free. On success the struct is left with code EW_OK and empty strings. */
typedef struct ew_error {
    ew_status_t code;     /* the same value the function returned */
    char message[1024];   /* a sentence for a person, NUL-terminated; may include a code frame (several lines) */
    char file[256];       /* the script file the error is about, "" when none */
    int line;             /* 1-based line in `file`, 0 when unknown */
    int column;           /* 1-based column in `file`, 0 when unknown */
} ew_error_t;

/* ---------------------------------------------------------------------------------------------------------
 * Logging: the library reports through this callback only. Worker console output arrives here too.
 */

typedef enum ew_log_level {
    EW_LOG_DEBUG = 0,  /* console.debug */
    EW_LOG_INFO = 1,   /* console.log / console.info */
    EW_LOG_WARN = 2,   /* console.warn, and runtime warnings (e.g. an unhandled promise rejection) */
    EW_LOG_ERROR = 3   /* console.error, uncaught exceptions with their stack, limit violations */
} ew_log_level_t;

/* `worker` is the worker's name ("" for runtime-level messages); `msg` is UTF-8, `len` bytes, not
 * necessarily NUL-terminated, valid only during the call. Called on the runtime's thread. */
typedef void (*ew_log_fn)(void *udata, ew_log_level_t level, const char *worker, const char *msg, size_t len);

/* ---------------------------------------------------------------------------------------------------------
 * Runtime
 */

typedef struct ew_runtime ew_runtime_t;

typedef struct ew_runtime_config {
    struct event_base *base;  /* loop to run on; NULL = the runtime creates one and frees it on destroy */
    const char *state_dir;    /* folder for persistent state (bindings); NULL = none; copied */
    uint32_t cpu_ms;          /* CPU time per request (ms), 0 = 50 */
    uint32_t memory_mb;       /* heap limit per isolate (MiB), 0 = 128 */
    uint32_t wait_until_ms;   /* wall time allowed for ctx.waitUntil work after the response (ms), 0 = 30000 */
    ew_log_fn log;            /* where log lines go; NULL = discarded */
    void *log_udata;          /* passed to `log` as is */
    uint32_t cache_mb;        /* Cache API (caches.default/open) size bound per worker (MiB), 0 = 64; the
                                 entries live in <state_dir>/cache/<worker name>.sqlite (in memory without a
                                 state_dir); past the bound, expired entries go first, then the least
                                 recently used */
    const char *ca_file;      /* PEM file of the CAs fetch() trusts for https (e.g. a private or test CA);
                                 NULL = the system bundle /etc/ssl/certs/ca-certificates.crt; copied; an
                                 unreadable file makes ew_runtime_create fail with EW_ERR_IO */
    uint32_t subrequests;     /* fetch() calls allowed per request (workerd's subrequest limit), 0 = 50 */
    const char *connect_to;   /* fetch() connection overrides, like curl's --connect-to: comma-separated
                                 "HOST1:PORT1:HOST2:PORT2" rules; a request for HOST1:PORT1 connects to
                                 HOST2:PORT2 instead, while the URL, Host header, TLS name (SNI) and
                                 certificate check keep HOST1 (e.g. "api.example.com:443:127.0.0.1:8443" to
                                 serve a Worker's upstream locally). NULL = none; copied; a malformed rule
                                 makes ew_runtime_create fail with EW_ERR_INVALID_ARG naming it */
    uint32_t durable_idle_ms; /* a Durable Object with no event for this long is evicted from memory (its
                                 storage stays), 0 = 70000 (Cloudflare evicts after 70-140 s) */
} ew_runtime_config_t;

/* Fills `cfg` with the defaults (all zero/NULL, meaning the defaults documented above). */
EW_API void ew_runtime_config_init(ew_runtime_config_t *cfg);

/* Creates a runtime bound to the calling thread. `cfg` may be NULL for defaults; it is copied.
 * On success *out is set and must be released with ew_runtime_destroy(). */
EW_API ew_status_t ew_runtime_create(const ew_runtime_config_t *cfg, ew_runtime_t **out, ew_error_t *err);

/* Destroys the workers still loaded (their pending requests complete with EW_ERR_CANCELLED), then the
 * runtime, and the event_base if the runtime created it. NULL is ignored. Not from inside a callback. */
EW_API void ew_runtime_destroy(ew_runtime_t *rt);

/* The event_base the runtime runs on (the host's, or the one it created). */
EW_API struct event_base *ew_runtime_event_base(ew_runtime_t *rt);

/* ---------------------------------------------------------------------------------------------------------
 * Workers
 */

typedef struct ew_worker ew_worker_t;

/* One entry of `env`: env[name] is `value` as a string, or JSON.parse(value) when is_json is non-zero. */
typedef struct ew_var {
    const char *name;   /* UTF-8, NUL-terminated */
    const char *value;  /* UTF-8, NUL-terminated */
    int is_json;        /* non-zero: `value` is JSON text, parsed when the worker loads */
} ew_var_t;

/* ---------------------------------------------------------------------------------------------------------
 * Host bindings: objects the host puts on env (and, for service-worker scripts, as globals). Calling one of
 * their methods from JavaScript returns a Promise that the host settles, during the call or later.
 */

typedef struct ew_call ew_call_t;

/* Called on the runtime's thread when a script calls env.NAME.method(...args). The CPU time the host spends
 * in this callback is not charged to the Worker's request. `args_json` (valid during the
 * call, `args_len` bytes) is the arguments as a JSON array; an ArrayBuffer or typed-array argument becomes
 * {"$bytes": "<base64>"}. The host must settle `call` exactly once, with ew_call_resolve_json(),
 * ew_call_resolve_bytes() or ew_call_reject(), either inside this callback or later from the event loop;
 * until then the request that made the call stays open. Do not call other ew_ functions from inside it. */
typedef void (*ew_binding_fn)(void *udata, ew_call_t *call, const char *method, const char *args_json,
                              size_t args_len);
/* Called when a pending call can no longer be settled because its isolate went away (worker destroyed, or
 * the isolate broke a limit and was discarded); `call` is invalid from then on. */
typedef void (*ew_binding_cancel_fn)(void *udata, ew_call_t *call);

typedef struct ew_binding {
    const char *name;             /* the env property (and global), e.g. "USERS"; copied */
    const char *const *methods;   /* `nmethods` method names (copied); each returns a Promise */
    size_t nmethods;
    ew_binding_fn call;           /* required */
    ew_binding_cancel_fn cancel;  /* may be NULL */
    void *udata;                  /* passed to call/cancel as is; must outlive the worker */
    const char *call_method;      /* NULL, or one of `methods`: then NAME is itself a function, NAME(...)
                                     calling that method, with the methods also as its properties */
} ew_binding_t;

/* Fulfils the call's promise with JSON.parse(json). Invalid JSON rejects it with a SyntaxError and returns
 * EW_ERR_INVALID_ARG. `call` is invalid after any of these three returns. */
EW_API ew_status_t ew_call_resolve_json(ew_call_t *call, const char *json, size_t len);
/* Fulfils the call's promise with an ArrayBuffer holding a copy of the bytes. */
EW_API ew_status_t ew_call_resolve_bytes(ew_call_t *call, const void *data, size_t len);
/* Rejects the call's promise with an Error whose message is `message` (UTF-8, NUL-terminated). */
EW_API ew_status_t ew_call_reject(ew_call_t *call, const char *message);

/* ---------------------------------------------------------------------------------------------------------
 * Storage resources: Cloudflare's bindings backed by the runtime's state directory (SQLite databases, files).
 * A resource is named by its id (KV namespace id, D1 database name, R2 bucket name): every worker, thread and
 * process using the same state directory and id sees the same data. With no state directory the data lives
 * in memory for the runtime's lifetime. Every worker also has the Cache API (caches.default, caches.open),
 * stored in <state_dir>/cache/<worker name>.sqlite (in memory without a state directory), bounded by
 * ew_runtime_config_t.cache_mb.
 */

typedef enum ew_resource_kind {
    EW_RESOURCE_KV = 1,       /* env.NAME is a KV namespace (get/put/delete/list/getWithMetadata) */
    EW_RESOURCE_D1 = 2,       /* env.NAME is a D1 database (prepare/batch/exec/dump): <state_dir>/d1/<id>.sqlite */
    EW_RESOURCE_R2 = 3        /* env.NAME is an R2 bucket (head/get/put/delete/list, multipart uploads); metadata
                                 in <state_dir>/r2/<id>.sqlite, bodies as files in <state_dir>/r2/<id>.blobs/
                                 (with no state_dir: a private temporary folder removed with the runtime) */
} ew_resource_kind_t;

typedef struct ew_resource {
    ew_resource_kind_t kind;
    const char *binding;      /* the env property, e.g. "USERS_KV"; copied */
    const char *id;           /* storage name: [A-Za-z0-9._-]+, at most 200 bytes; copied */
} ew_resource_t;

/* How the entry file is read. AUTO (0) decides as wrangler does: an entry with import/export declarations is a
 * module, anything else a service-worker script. MODULE compiles it as an ES module even without import/export
 * (strict, top-level await, import.meta; its top-level names are module bindings). SCRIPT compiles it as a
 * script (sloppy unless "use strict"; top-level var and function declarations are global properties). */
typedef enum ew_source_type {
    EW_SOURCE_AUTO = 0,
    EW_SOURCE_MODULE = 1,
    EW_SOURCE_SCRIPT = 2
} ew_source_type_t;

/* Static assets ([assets] in wrangler.toml): files of a folder served the way Cloudflare serves a Worker's
 * assets — canonical HTML URLs per `html_handling` (307 redirects to them), `not_found_handling`, ETag and
 * Last-Modified with 304 answers, single byte ranges (206/416), content types by extension. Unless
 * run_worker_first is set, a GET or HEAD request that names an asset is answered from the folder without
 * running the Worker; every other request goes to the Worker, which reaches the files through
 * env[binding].fetch(request) when `binding` is set. Files are read per request (at most 25 MiB each);
 * "_headers", "_redirects" and ".assetsignore" at the top of the folder are never served. */
typedef enum ew_html_handling {
    EW_HTML_AUTO_TRAILING_SLASH = 0,  /* /file for file.html, /folder/ for folder/index.html (default) */
    EW_HTML_FORCE_TRAILING_SLASH = 1, /* /file/ and /folder/ */
    EW_HTML_DROP_TRAILING_SLASH = 2,  /* /file and /folder */
    EW_HTML_NONE = 3                  /* only exact file paths */
} ew_html_handling_t;

typedef enum ew_not_found_handling {
    EW_NOT_FOUND_NONE = 0,            /* the Worker gets the request (or 404 when it has no fetch handler) */
    EW_NOT_FOUND_404_PAGE = 1,        /* the nearest 404.html up the path, with status 404 */
    EW_NOT_FOUND_SPA = 2              /* /index.html with status 200 (single-page application) */
} ew_not_found_handling_t;

typedef struct ew_assets {
    const char *directory;            /* the folder served (must exist); copied */
    const char *binding;              /* env property of the assets binding (e.g. "ASSETS"), NULL = none; copied */
    ew_html_handling_t html_handling;
    ew_not_found_handling_t not_found_handling;
    int run_worker_first;             /* non-zero: every request goes to the Worker */
} ew_assets_t;

/* A rate limiting binding ([[ratelimits]] in wrangler.toml): env[binding].limit({key}) resolves to
 * {success}, false once `key` was counted more than `limit` times in the current window of `period` seconds
 * (fixed windows aligned to the clock). Counters are shared by every runtime of the process that uses the
 * same namespace_id — one "location", as Cloudflare counts per location — and are kept in memory only. */
typedef struct ew_ratelimit {
    const char *binding;              /* env property, e.g. "MY_RATE_LIMITER"; copied */
    const char *namespace_id;         /* a positive integer as text, e.g. "1001"; copied */
    uint32_t limit;                   /* requests allowed per period, >= 1 */
    uint32_t period;                  /* seconds: 10 or 60, as Cloudflare allows */
} ew_ratelimit_t;
/* A Durable Object namespace of a worker: env[binding] is a DurableObjectNamespace whose objects are
 * instances of the class the worker's entry module exports as `class_name` (`export class Counter ...`).
 *
 * One live instance per object id in the whole process: every runtime (thread) that loads a worker with
 * the same name, class and state directory shares the namespace; a call from any of them is carried to the
 * one runtime that holds the instance, on that runtime's thread and event loop, and the answer is carried
 * back (docs/architecture.md "Durable Objects"). The runtimes must therefore keep running their loops
 * while others call into them. Each object's storage is a SQLite database
 * <state_dir>/do/<worker name>-<class_name>/<64 hex id>.sqlite (in memory, per runtime, without a state
 * directory). Alarms set by objects fire on the loop of a runtime that loads the worker. */
typedef struct ew_durable_object {
    const char *binding;      /* the env property, e.g. "COUNTER"; copied. NULL: no env property, the worker only
                                 serves the objects of its class to other workers' bindings (script_name) */
    const char *class_name;   /* the exported class, e.g. "Counter"; copied */
    int sql;                  /* non-zero: SQLite-backed class (wrangler new_sqlite_classes): ctx.storage.sql
                                 is available; zero: key-value storage only, like new_classes */
    const char *script_name;  /* NULL: the class is this worker's. Else the name of the worker that exports it
                                 (wrangler's script_name), loaded in this runtime: env[binding] reaches the
                                 objects of that worker's namespace, which live in its isolates (a binding is
                                 then required, and `sql` is the other worker's business). Calls fail with an
                                 Error while no such worker serves the class; copied */
} ew_durable_object_t;

/* Queues ([[queues.producers]] and [[queues.consumers]] in wrangler.toml). Messages live in one SQLite database
 * per state directory, <state_dir>/queues/queues.sqlite (WAL, synchronous=FULL; in memory and private to the
 * runtime without a state directory): send() and sendBatch() resolve only once their messages are on disk, and
 * a message leaves the database only after a consumer acknowledged it, so a crash loses nothing a Worker saw
 * succeed and a batch that was being delivered is delivered again (at least once). Queues are named
 * [A-Za-z0-9._-]+ (at most 200 bytes); every runtime of the process on the same state directory sees the same
 * queues. */

/* env[binding] is a Queue producer: send(body, {contentType, delaySeconds}) and sendBatch(messages,
 * {delaySeconds}), resolving with {metadata: {metrics}} (the queue's backlog), and metrics(); with Cloudflare's
 * limits (128 KB per message, 100 messages and 256 KB per batch, delays of at most 43200 s). */
typedef struct ew_queue_producer {
    const char *binding;      /* env property, e.g. "MY_QUEUE"; copied */
    const char *queue;        /* the queue's name; copied */
    uint32_t delivery_delay;  /* seconds every message waits before it can be delivered (0-43200), unless
                                 send()'s delaySeconds says otherwise */
} ew_queue_producer_t;

/* The worker consumes `queue`: its `queue(batch, env, ctx)` handler (or addEventListener('queue')) receives
 * batches. The runtime that loads such a worker delivers the batches from its own event loop (timers and an
 * eventfd on its event_base: the host only has to keep running the loop); one consumer per queue and state
 * directory in the process delivers at a time (the worker loaded most recently, so a reloaded worker takes
 * over; when it is destroyed the next one does). A message is
 * acknowledged (deleted) when the handler's promise fulfils, unless it was retried; retried (handler threw,
 * message.retry(), batch.retryAll()) it comes back after its delay, with attempts + 1; after max_retries
 * retries it moves to dead_letter_queue (or is deleted, with a warning, when there is none). Fill with
 * ew_queue_consumer_init() first: a zero field is a real value here. */
typedef struct ew_queue_consumer {
    const char *queue;            /* the queue consumed; copied */
    uint32_t max_batch_size;      /* messages per batch, 1-100 (default 10) */
    uint32_t max_batch_timeout_ms;/* how long a batch that is not full waits for more messages (ms), at most
                                     60000 (default 5000) */
    uint32_t max_retries;         /* retries after the first delivery, 0-100 (default 3) */
    const char *dead_letter_queue;/* queue that receives messages out of retries, NULL = none; copied */
    uint32_t retry_delay;         /* seconds a retried message waits when retry() gave no delay, 0-43200
                                     (default 0) */
    uint32_t max_concurrency;     /* batches in flight at once, 1-250 (default 1) */
} ew_queue_consumer_t;

/* Fills `c` with the defaults above (queue and dead_letter_queue NULL). */
EW_API void ew_queue_consumer_init(ew_queue_consumer_t *c);

/* A service binding: env[binding] is a Fetcher for another worker loaded in the same runtime.
 * env[binding].fetch(input, init) delivers a fetch event to that worker (its Request built as for the global
 * fetch(); its body is passed whole; a ReadableStream response body streams to the caller as it is read, and
 * a WebSocket it answers with is relayed) and resolves with its Response; env[binding].NAME(...args) calls method
 * NAME of the target's entrypoint (the export `entrypoint`, or the default export): a class extending
 * WorkerEntrypoint (from 'cloudflare:workers') is constructed per call with (ctx, env), a plain object is used
 * as it is; arguments and the result are structured-cloned, and an exception rejects the call with an error
 * of the same type and message. The target is looked up by name when a call is made, so workers may be
 * loaded in any order; a call to a worker that is not loaded rejects with an Error naming it. Each call
 * counts against the caller's subrequest limit (ew_runtime_config_t.subrequests), and a chain of calls
 * through workers is limited to 32 invocations, as on Cloudflare. Calls run on the runtime's thread through
 * its event loop (never re-entering the caller), as a request of the target with its own CPU budget. */
typedef struct ew_service {
    const char *binding;      /* the env property, e.g. "AUTH"; copied */
    const char *service;      /* the target worker's name (its ew_worker_config_t.name); copied */
    const char *entrypoint;   /* NULL = the default export; else the name of an exported WorkerEntrypoint class
                                 or object; copied */
} ew_service_t;

typedef struct ew_worker_config {
    const char *name;         /* the worker's name, for logs; NULL = "worker" */
    const char *path;         /* script file to load, or NULL when `source` is given */
    const char *source;       /* script text (UTF-8), used when `path` is NULL */
    size_t source_len;        /* bytes of `source` */
    const char *filename;     /* name used in errors and stacks for `source`; NULL = "worker.js" */
    const ew_var_t *vars;     /* `nvars` entries of env, copied */
    size_t nvars;
    const ew_binding_t *bindings; /* `nbindings` host bindings on env, copied */
    size_t nbindings;
    const ew_resource_t *resources; /* `nresources` storage bindings on env, copied */
    size_t nresources;
    const ew_assets_t *assets;        /* static assets served with the Worker, NULL = none; copied */
    const ew_ratelimit_t *ratelimits; /* `nratelimits` rate limiting bindings, copied */
    size_t nratelimits;
    ew_source_type_t source_type; /* EW_SOURCE_AUTO (0) unless the caller knows the form */
    const ew_durable_object_t *durable_objects; /* `ndurable_objects` Durable Object namespaces, copied */
    size_t ndurable_objects;
    const ew_queue_producer_t *queue_producers; /* `nqueue_producers` Queue producer bindings, copied */
    size_t nqueue_producers;
    const ew_queue_consumer_t *queue_consumers; /* `nqueue_consumers` queues this worker consumes, copied */
    size_t nqueue_consumers;
    const ew_service_t *services; /* `nservices` service bindings to workers of the same runtime, copied */
    size_t nservices;
} ew_worker_config_t;

/* Loads a Worker: compiles the script once (modern JavaScript is lowered to what the engine runs; an entry
 * with import/export declarations is a module and is bundled with what it imports), runs its top level in a
 * fresh isolate, and keeps the compiled bytecode so that replacement isolates start fast. Accepted forms:
 * modules (export default { fetch, scheduled }) and the service-worker form (addEventListener('fetch', …)
 * / addEventListener('scheduled', …)). Everything in `cfg` is copied.
 * A syntax error returns EW_ERR_SYNTAX with file:line:col; an exception in the top level EW_ERR_EXCEPTION.
 * Compiling happens once per process for the same code: the bytecode is cached in memory (process-wide, all
 * runtimes and threads, keyed by the entry's name, text and form plus the content of every file it imported;
 * bounded to 64 MiB, least recently used out) and, when the runtime has a state_dir, in
 * <state_dir>/cache/compile/ so the next process skips the compiler too (docs/compiler.md).
 * A script (path or source) that is a bytecode bundle (ew_compile_bundle) is loaded without compiling; one
 * made by another libedgeworker version or build, truncated or corrupted, is refused with EW_ERR_INVALID_ARG
 * naming the file and saying to rebuild it. */
EW_API ew_status_t ew_worker_load(ew_runtime_t *rt, const ew_worker_config_t *cfg, ew_worker_t **out,
                                  ew_error_t *err);

/* Loads a Worker project the way ew-server (and `wrangler dev`) does, then calls ew_worker_load.
 * `path` is a project folder (holding wrangler.json, wrangler.jsonc or wrangler.toml, looked for in that
 * order; with none, the script src/index.js, index.js or worker.js), a configuration file (.json, .jsonc,
 * .toml), or a Worker script. `env_name` selects [env.NAME] of the configuration (NULL = the top level).
 * The worker gets the configuration's name (NULL there = "worker") and its `main` script, env vars from
 * [vars] and the project's .dev.vars (.dev.vars.<env_name> when that file exists), its kv_namespaces as
 * EW_RESOURCE_KV resources (keyed by their id), its d1_databases as EW_RESOURCE_D1 resources (keyed by
 * database_name, else database_id) and its r2_buckets as EW_RESOURCE_R2 resources (keyed by bucket_name, or
 * the binding when there is none), in the runtime's state_dir, its durable_objects.bindings as
 * ew_durable_object_t (sql set for classes a [[migrations]] entry lists in new_sqlite_classes; script_name
 * kept: such a binding reaches the class of the worker of that name loaded in this runtime), its
 * queues.producers and queues.consumers as ew_queue_producer_t / ew_queue_consumer_t (max_batch_timeout in
 * seconds there; pull consumers are skipped with a warning), and its services as ew_service_t (routes are
 * read and checked; choosing between workers is the host's business). Configuration keys it ignores
 * are skipped with a warning through the runtime's
 * log callback (EW_LOG_WARN, worker name ""), not failed. Nothing in the project is kept after the call but
 * what ew_worker_load copies; the files are read during the call only. On success *out is set, as for
 * ew_worker_load (release with ew_worker_destroy, or with the runtime). Same thread rule as ew_worker_load.
 * Errors: a configuration that is not acceptable is EW_ERR_INVALID_ARG, one that does not parse
 * EW_ERR_SYNTAX, both with the configuration file, line and column in `err` (message "FILE:LINE:COL: ...");
 * EW_ERR_IO when a file cannot be read, nothing to load is found in the folder, or `main` is missing; then
 * whatever ew_worker_load returns (e.g. EW_ERR_SYNTAX for the script). NULL rt/path/out: EW_ERR_INVALID_ARG. */
EW_API ew_status_t ew_worker_load_project(ew_runtime_t *rt, const char *path, const char *env_name,
                                          ew_worker_t **out, ew_error_t *err);

/* Compiles a Worker entry to a bytecode bundle without running it (what `ew-server build -o FILE` writes):
 * `path` is the entry file (imports are resolved from it and read from disk); `source` (source_len bytes)
 * its text, or NULL to read `path`; `source_type` as in ew_worker_config_t. On success *out is a malloc'd
 * buffer of *out_len bytes, released with ew_bundle_free; save it to a file and give that file to
 * ew_worker_load (cfg->path), ew_worker_load_project (`main`) or ew-server, or pass the bytes as cfg->source.
 * A bundle is TRUSTED input, like a shared library: the engine does not verify bytecode, so only load bundles
 * you built. The header (library version, a fingerprint of this build's compiler and engine configuration,
 * length and checksum) is checked, so a bundle is only valid for the same libedgeworker build; rebuild it
 * after upgrading. Errors as ew_worker_load reports compile errors (EW_ERR_SYNTAX with file:line:col,
 * EW_ERR_IO when the file cannot be read); NULL path/out/out_len: EW_ERR_INVALID_ARG. Any thread. */
EW_API ew_status_t ew_compile_bundle(const char *path, const char *source, size_t source_len,
                                     ew_source_type_t source_type, void **out, size_t *out_len, ew_error_t *err);
/* Frees a bundle from ew_compile_bundle (NULL is fine). */
EW_API void ew_bundle_free(void *bundle);
/* Worker programs this process has compiled so far (ew_worker_load and ew_compile_bundle); loads served by
 * the compile cache or from a bundle do not count. Any thread. */
EW_API uint64_t ew_compile_count(void);

/* Unloads the worker. Requests still pending complete with EW_ERR_CANCELLED before this returns.
 * NULL is ignored. Not from inside one of this worker's callbacks. */
EW_API void ew_worker_destroy(ew_worker_t *w);

/* The worker's name as configured (valid until the worker is destroyed). */
EW_API const char *ew_worker_name(const ew_worker_t *w);

/* ---------------------------------------------------------------------------------------------------------
 * Fetch events
 */

typedef struct ew_header {
    const char *name;    /* bytes, not NUL-terminated */
    size_t name_len;
    const char *value;   /* bytes, not NUL-terminated */
    size_t value_len;
} ew_header_t;

typedef struct ew_request {
    const char *method;         /* "GET", "POST", …; NUL-terminated */
    const char *url;            /* absolute URL, e.g. "http://localhost:8787/path?q"; NUL-terminated */
    const ew_header_t *headers; /* `nheaders` entries, in arrival order */
    size_t nheaders;
    const void *body;           /* request body bytes, NULL when none */
    size_t body_len;
} ew_request_t;

typedef struct ew_websocket ew_websocket_t;
/* A response body that arrives in pieces (see ew_worker_fetch_stream). */
typedef struct ew_body ew_body_t;

/* A complete response, allocated by the library and owned by whoever receives it: release it with
 * ew_response_destroy(). Header names are lower-case, as the Headers class stores them. */
typedef struct ew_response {
    int status;              /* HTTP status, 200–599, or 101 when the Worker accepted a WebSocket upgrade */
    char *status_text;       /* NUL-terminated; "" when the Worker gave none */
    ew_header_t *headers;    /* `nheaders` entries; each name/value is also NUL-terminated */
    size_t nheaders;
    uint8_t *body;           /* `body_len` bytes (plus a NUL after them, not counted) */
    size_t body_len;
    ew_status_t outcome;     /* EW_OK: the Worker produced it; otherwise the library produced an error page
                                for this reason (1101 for EW_ERR_EXCEPTION, 1102 for the limits) */
    int pass_through;        /* non-zero: the Worker failed after calling passThroughOnException(); a proxy
                                host should send the request to its origin instead of using this page */
    ew_websocket_t *websocket; /* status 101: the Worker's end of the WebSocket (see "WebSockets" below);
                                  NULL otherwise. Owned by the response until ew_websocket_attach() */
    ew_body_t *body_stream;  /* NULL: the body is body/body_len. Non-NULL (only from ew_worker_fetch_stream,
                                when the Worker's body is a ReadableStream): body_len is 0 and the bytes come
                                through ew_body_read(); the response owns it */
    int64_t stream_length;   /* with body_stream: the length in bytes the Worker promised (the readable side
                                of a FixedLengthStream: send it as Content-Length), -1 when unknown */
} ew_response_t;

/* Frees the response; a streamed body that has not ended is cancelled (the Worker's stream sees cancel). */
EW_API void ew_response_destroy(ew_response_t *resp);

/* Called once per dispatched request, from the event loop, on the runtime's thread. `resp` is never NULL:
 * when the Worker failed, it is the error response the library made (see resp->outcome), and `err` (valid
 * only during the call) says why; `err` is NULL on success. The callee owns `resp`. */
typedef void (*ew_response_fn)(void *udata, ew_response_t *resp, const ew_error_t *err);

/* Dispatches a fetch event. Everything in `req` is copied before this returns. `cb` runs later from the
 * event loop, never from inside this call. Returns EW_ERR_INVALID_ARG for a bad method/url/header. */
EW_API ew_status_t ew_worker_fetch(ew_worker_t *w, const ew_request_t *req, ew_response_fn cb, void *udata);

/* Like ew_worker_fetch, but a response whose body is a ReadableStream (e.g. the readable side of a
 * TransformStream the Worker keeps writing to after returning) is delivered as soon as its status and
 * headers are known, with resp->body_stream set: the host then pulls the body with ew_body_read(), one chunk
 * at a time, at its own pace (back-pressure: the Worker's writes wait until the host reads). Other bodies
 * arrive whole, as with ew_worker_fetch (which reads a stream body to its end before calling back). */
EW_API ew_status_t ew_worker_fetch_stream(ew_worker_t *w, const ew_request_t *req, ew_response_fn cb,
                                          void *udata);

/* What ew_worker_fetch_opts adds to a request (ew_request_t itself keeps its size for existing callers). */
typedef struct ew_fetch_options {
    const char *cf_json;   /* request.cf as a JSON object text (UTF-8, `cf_json_len` bytes, copied), e.g.
                              {"colo":"DFW","country":"US"}; NULL = an empty object. Not JSON or not an
                              object: EW_ERR_INVALID_ARG. Duktape parses it when the script first reads cf */
    size_t cf_json_len;
    int stream_body;       /* non-zero: a ReadableStream body is delivered as for ew_worker_fetch_stream */
} ew_fetch_options_t;

/* ew_worker_fetch / ew_worker_fetch_stream with options (opts may be NULL: no options). Same rules. */
EW_API ew_status_t ew_worker_fetch_opts(ew_worker_t *w, const ew_request_t *req, const ew_fetch_options_t *opts,
                                        ew_response_fn cb, void *udata);

/* ---------------------------------------------------------------------------------------------------------
 * Request bodies that stream in. A host receiving a large or slow body (an upload) can start the Worker
 * before the body has arrived: request.body is then a ReadableStream the host feeds as bytes arrive, with
 * back-pressure. `await request.text()` and the other body methods work as usual.
 *
 *   b = ew_req_body_create(w, on_demand, udata);
 *   ew_worker_fetch_body(w, &req, &opts, b, cb, udata);      req.body must be NULL
 *   as bytes arrive: ew_req_body_write(b, data, len);
 *       stop reading the socket while ew_req_body_buffered(b) is above your bound; on_demand says when
 *       the Worker took the bytes (or will never read them: they are then dropped) and more are welcome
 *   ew_req_body_end(b) when the body is complete (or ew_req_body_fail(b) when the client went away), then
 *   ew_req_body_destroy(b) (also allowed earlier: the Worker's reads then fail)
 *
 * All on the runtime's thread; the functions may be called from any callback (they never enter the
 * Worker: the bytes move from the event loop). The body is shared between the host and the request: each
 * lets go on its own, and it is freed after both. */
typedef struct ew_req_body ew_req_body_t;
/* The Worker's stream took what was buffered (or cancelled the body): the host may read more. Called from
 * the event loop, never from inside an ew_req_body_* call; not after ew_req_body_end/fail/destroy. */
typedef void (*ew_req_body_demand_fn)(void *udata);

/* A new body for a request to `w` (not yet started). NULL on allocation failure or bad arguments. */
EW_API ew_req_body_t *ew_req_body_create(ew_worker_t *w, ew_req_body_demand_fn on_demand, void *udata);
/* Appends a copy of len bytes. EW_ERR_STATE after end/fail. Bytes written after the Worker cancelled
 * the body (or when no request took it) are dropped. */
EW_API ew_status_t ew_req_body_write(ew_req_body_t *b, const void *data, size_t len);
/* Bytes written and not yet taken by the Worker's stream. */
EW_API size_t ew_req_body_buffered(const ew_req_body_t *b);
/* The body is complete: the stream ends after the bytes written. EW_ERR_STATE when already ended/failed. */
EW_API ew_status_t ew_req_body_end(ew_req_body_t *b);
/* The body broke off (the client went away): the Worker's reads fail with a TypeError. */
EW_API ew_status_t ew_req_body_fail(ew_req_body_t *b);
/* Releases the host's handle (after end or fail; before them it fails the body). NULL is ignored. Destroy it
 * before the worker and the runtime. */
EW_API void ew_req_body_destroy(ew_req_body_t *b);
/* ew_worker_fetch_opts with request.body fed by `body` (req->body must be NULL; body NULL = no stream). */
EW_API ew_status_t ew_worker_fetch_body(ew_worker_t *w, const ew_request_t *req, const ew_fetch_options_t *opts,
                                        ew_req_body_t *body, ew_response_fn cb, void *udata);

/* Called once per ew_body_read(), from the event loop on the runtime's thread, never from inside
 * ew_body_read. A chunk: status EW_OK, len > 0, data valid during the call only. The end: status EW_OK,
 * data NULL, len 0. A failure ends the body too: data NULL, len 0, status EW_ERR_EXCEPTION (the script
 * errored or cancelled the stream, or its chunks were not bytes), EW_ERR_CPU_LIMIT / EW_ERR_MEMORY_LIMIT,
 * or EW_ERR_CANCELLED (the worker was unloaded). The callee may call ew_body_read again, or destroy the
 * response, from inside the callback. */
typedef void (*ew_body_fn)(void *udata, const void *data, size_t len, ew_status_t status);

/* Asks for the next chunk of a streamed body; `cb` runs later, exactly once. EW_ERR_STATE while a read is
 * pending or after the end was reported; EW_ERR_INVALID_ARG for NULL body or cb. The Worker's CPU time
 * spent producing the chunk is charged to the request. The body (and its response) must be destroyed
 * before the worker and the runtime. */
EW_API ew_status_t ew_body_read(ew_body_t *body, ew_body_fn cb, void *udata);

/* Zero-copy pass-through (Linux): when the body is a fetch() response the Worker returned untouched, over
 * plain HTTP/1.1 with a Content-Length and not content-decoded, its bytes can go from the origin's socket
 * to the host's socket `fd` with splice(2), never entering user space. The host sends them as they are
 * (the response has stream_length set: no chunked framing) and writes nothing else to fd until the body
 * has ended. Typical use: try ew_body_splice before each ew_body_read, once the host's own output buffer
 * for fd is empty; on EW_ERR_STATE read instead.
 *
 * How a step ended (ew_body_splice_fn): */
typedef enum ew_splice_result {
    EW_SPLICE_MORE = 0,   /* `moved` > 0 bytes were written to fd; call ew_body_splice (or read) again */
    EW_SPLICE_FULL = 1,   /* fd took no more (EAGAIN): call again once fd is writable; moved may be 0 */
    EW_SPLICE_END = 2,    /* the body is complete (moved may be > 0): it has ended, as a read's end */
    EW_SPLICE_FAILED = 3  /* the origin's response broke, the Worker was unloaded, or writing to fd failed
                             (moved may be > 0): the body has ended unfinished; end the connection */
} ew_splice_result_t;

/* Called once per ew_body_splice() that returned EW_OK, from the event loop on the runtime's thread, never
 * from inside ew_body_splice. The callee may splice, read or destroy the response from inside. */
typedef void (*ew_body_splice_fn)(void *udata, size_t moved, ew_splice_result_t result);

/* Moves up to `max` (> 0) of the body's next bytes to the socket fd (non-blocking, owned by the host). The
 * library does not wait on fd: when fd is full it answers EW_SPLICE_FULL and keeps the bytes it holds (at
 * most one pipe, 1 MiB, in the kernel) for the next call; the origin is read only while the host asks,
 * so a slow client holds the origin by TCP (back-pressure), not by buffering. EW_ERR_STATE (nothing
 * started) when this body cannot be spliced now: not such a body, bytes of it are already buffered (read
 * them first), a read or splice is pending, or it ended. Once a splice has started, ew_body_read fails
 * with EW_ERR_STATE: the rest of the body is spliced, and a body that ended or broke between two steps
 * (say, the Worker aborted the fetch while the host waited for fd) answers the next ew_body_splice with
 * EW_SPLICE_END or EW_SPLICE_FAILED. EW_ERR_INVALID_ARG for NULL body/cb, fd < 0 or
 * max 0. Destroying the response cancels a pending splice (cb does not run; fd is not touched after
 * ew_response_destroy returns). The host ignores SIGPIPE (a peer of fd gone may raise it, as a write). */
EW_API ew_status_t ew_body_splice(ew_body_t *body, int fd, size_t max, ew_body_splice_fn cb, void *udata);

/* Non-zero if ew_body_splice may start for this body, now or once the bytes it already holds were read;
 * zero if it never will (another kind of body, or it ended): the host then need not keep its output
 * buffer empty for it. */
EW_API int ew_body_splicable(const ew_body_t *body);

/* Blocking helper: dispatches and runs the event loop until the response is complete. *out receives the
 * response (also on Worker failure, as for the callback) and must be released with ew_response_destroy().
 * Returns the response's outcome. Other events on the loop run meanwhile. Not from inside a callback. */
EW_API ew_status_t ew_worker_fetch_sync(ew_worker_t *w, const ew_request_t *req, ew_response_t **out,
                                        ew_error_t *err);

/* ---------------------------------------------------------------------------------------------------------
 * WebSockets. A Worker accepts an upgrade by answering `new Response(null, {status: 101, webSocket:
 * client})`: the host then gets a response with status 101 and `websocket` set, which stands for `client`.
 * The host does the HTTP handshake (Sec-WebSocket-Accept; the response's headers, such as
 * Sec-WebSocket-Protocol, passed on) and the framing (ew-server uses lib/net/ws.c), and connects the two:
 *
 *   client message/close  ──ew_websocket_send / ew_websocket_close──>  'message'/'close' on the Worker's end
 *   Worker send()/close() ──handler.message / handler.close──────────>  host writes a frame to the client
 *
 * Messages are whole messages (the host reassembles fragments, answers pings, enforces its size limit).
 * The request that returned the 101 stays open while the WebSocket is (its timers keep running); each
 * message from the client gets a fresh CPU-time budget, as on Cloudflare. All calls on the runtime's thread.
 */

typedef struct ew_websocket_handler {
    /* The Worker sent a message: text (UTF-8) when is_text is non-zero, else binary. `data` is valid
     * during the call only. */
    void (*message)(void *udata, int is_text, const void *data, size_t len);
    /* The Worker closed its end: `code` 1005 when it gave none (send a close frame without a code), or
     * 1001 when the Worker was unloaded. `reason` is UTF-8, `reason_len` bytes (at most 123), valid during
     * the call. No message follows. */
    void (*close)(void *udata, int code, const char *reason, size_t reason_len);
    void *udata;  /* passed as is */
} ew_websocket_handler_t;

/* Takes the WebSocket over from its response: from now on the host owns `ws` and releases it with
 * ew_websocket_destroy() (ew_response_destroy() no longer does). Messages the Worker sent before are
 * delivered first, in order. Callbacks run from the event loop, never from inside another ew_ call; do not
 * call ew_websocket_* functions from inside them. `h` is copied. EW_ERR_STATE if already attached. */
EW_API ew_status_t ew_websocket_attach(ew_websocket_t *ws, const ew_websocket_handler_t *h);
/* Delivers a message from the client to the Worker's end ('message' event; data is a string for text,
 * else an ArrayBuffer). Text must be valid UTF-8 (EW_ERR_INVALID_ARG otherwise). `data` is copied.
 * EW_ERR_STATE after ew_websocket_close() or when the Worker's isolate is gone. */
EW_API ew_status_t ew_websocket_send(ew_websocket_t *ws, int is_text, const void *data, size_t len);
/* The client closed: `code` from its close frame (1005 = the frame had no code), or 1006 when the
 * connection dropped without one (then wasClean is false). The Worker's end gets its 'close' event; if
 * the Worker does not close in return, the library answers with the same code (handler.close). `reason`
 * (UTF-8, at most 123 bytes) is copied. EW_ERR_INVALID_ARG for a code a close frame cannot carry. */
EW_API ew_status_t ew_websocket_close(ew_websocket_t *ws, int code, const char *reason, size_t reason_len);
/* Releases the host's handle. If the client has not closed, the Worker sees an abnormal closure (1006,
 * "WebSocket disconnected without sending Close frame."). NULL is ignored. */
EW_API void ew_websocket_destroy(ew_websocket_t *ws);

/* ---------------------------------------------------------------------------------------------------------
 * Scheduled events (cron triggers)
 */

/* Called once per scheduled event with its outcome: EW_OK when the handler's promise fulfilled (and the
 * waitUntil work settled), otherwise why not, with `err` (valid during the call) giving details. */
typedef void (*ew_scheduled_fn)(void *udata, ew_status_t outcome, const ew_error_t *err);

/* Dispatches a scheduled event: `cron` (NUL-terminated, copied) is the trigger's expression, as the
 * handler sees in event.cron; `scheduled_time_ms` is milliseconds since the Unix epoch (0 = now). */
EW_API ew_status_t ew_worker_scheduled(ew_worker_t *w, const char *cron, double scheduled_time_ms,
                                       ew_scheduled_fn cb, void *udata);

/* Blocking helper for ew_worker_scheduled(); returns the outcome. Not from inside a callback. */
EW_API ew_status_t ew_worker_scheduled_sync(ew_worker_t *w, const char *cron, double scheduled_time_ms,
                                            ew_error_t *err);

/* ---------------------------------------------------------------------------------------------------------
 * Queue events: a batch of messages handed to the Worker's queue(batch, env, ctx) handler by the host itself
 * (the runtime's own consumers, ew_queue_consumer_t, use the same path).
 */

/* One message of a batch. */
typedef struct ew_queue_message {
    const char *id;           /* message.id, NUL-terminated (at most 128 bytes); copied */
    double timestamp_ms;      /* message.timestamp, ms since the Unix epoch */
    uint32_t attempts;        /* message.attempts: 1 on the first delivery */
    const char *content_type; /* how body is encoded: "text" (UTF-8), "bytes" (an ArrayBuffer), "json" (JSON
                                 text) or "v8" (the library's structured-clone text, as send() stores it) */
    const void *body;         /* `body_len` bytes; copied */
    size_t body_len;
} ew_queue_message_t;

/* What became of one message of a dispatched batch. */
typedef struct ew_queue_verdict {
    int retry;                /* non-zero: deliver it again; zero: acknowledged (delete it) */
    int32_t delay_seconds;    /* with retry: the delay retry()/retryAll() asked for, -1 when none */
} ew_queue_verdict_t;

/* Called once per dispatched batch from the event loop: outcome EW_OK when the handler's promise fulfilled
 * (and its waitUntil work settled), else why not, with `err` (valid during the call). verdicts[i] (valid
 * during the call, n entries) is for messages[i]: when the handler failed, every message it did not ack() is
 * retried, as on Cloudflare. */
typedef void (*ew_queue_fn)(void *udata, ew_status_t outcome, const ew_error_t *err,
                            const ew_queue_verdict_t *verdicts, size_t n);

/* Dispatches a queue event for `queue` (batch.queue; NUL-terminated, copied) with n messages (1-100, all
 * copied). A body that cannot be decoded as its content type fails the event (EW_ERR_EXCEPTION, every message
 * retried). EW_ERR_INVALID_ARG for bad arguments; `cb` runs later from the loop, never from inside this call. */
EW_API ew_status_t ew_worker_queue(ew_worker_t *w, const char *queue, const ew_queue_message_t *messages, size_t n,
                                   ew_queue_fn cb, void *udata);

/* Blocking helper for ew_worker_queue(): runs the loop until the event ends, fills verdicts[n] (may be NULL)
 * and returns the outcome (err set when it is not EW_OK). Not from inside a callback. */
EW_API ew_status_t ew_worker_queue_sync(ew_worker_t *w, const char *queue, const ew_queue_message_t *messages,
                                        size_t n, ew_queue_verdict_t *verdicts, ew_error_t *err);

/* ---------------------------------------------------------------------------------------------------------
 * Introspection (for metrics and benchmarks)
 */

typedef struct ew_worker_stats {
    uint64_t requests;          /* fetch and scheduled events dispatched */
    uint64_t exceptions;        /* of those, ended by an uncaught exception */
    uint64_t limit_errors;      /* of those, ended by the CPU or memory limit */
    uint32_t isolates;          /* isolates alive now (1 + those still finishing after a replacement) */
    uint32_t isolates_created;  /* isolates created so far, the first included */
    size_t heap_bytes;          /* bytes allocated by the live isolates' heaps */
    uint32_t pending;           /* requests in flight now */
} ew_worker_stats_t;

EW_API void ew_worker_get_stats(const ew_worker_t *w, ew_worker_stats_t *out);
/* CPU time charged to the worker's requests so far (ms), all isolates included; 0 for NULL. A function
 * rather than a field of ew_worker_stats_t, which callers allocate (a larger struct would break them). */
EW_API double ew_worker_cpu_ms(const ew_worker_t *w);

#ifdef __cplusplus
}
#endif

#endif /* EDGEWORKER_H */
