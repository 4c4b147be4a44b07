/*
 * lib/core/isolate.h — runtime, worker, isolate and request structs, shared by the files of lib/core only.
 *
 *   ew_runtime_t ──< ew_worker_t ──< ew__isolate_t ──< ew__req_t
 *                       │ bytecode        │ one Duktape heap        one fetch/scheduled/queue event in flight
 *                       │ vars            │ timers, microtasks
 *                       └ current isolate └ CPU/memory accounting
 *
 * A worker serves new requests from its `current` isolate. When an isolate breaks a limit it is condemned:
 * the worker makes a new current one on the next request, and the condemned one is destroyed once its last
 * request has finished (requests in it are never cut short because a neighbour misbehaved).
 */
#ifndef EW_CORE_ISOLATE_H
#define EW_CORE_ISOLATE_H

#include <event2/event.h>
#include <setjmp.h>

#include "internal.h"

typedef struct ew__isolate ew__isolate_t;
typedef struct ew__req ew__req_t;
typedef struct ew__timer ew__timer_t;
typedef struct ew__fetch ew__fetch_t;

struct ew_runtime {
    struct event_base *base;      /* borrowed from the host, or owned when owns_base */
    bool owns_base;
    ew_runtime_config_t cfg;      /* copy; cfg.state_dir points at state_dir below */
    char *state_dir;              /* owned copy or NULL */
    char *ca_file;                /* owned copy or NULL; cfg.ca_file points at it */
    char *connect_to;             /* owned copy or NULL; cfg.connect_to points at it */
    ew_worker_t *workers;         /* list of loaded workers (owned) */
    int sync_depth;               /* > 0 while a blocking helper runs the loop */
    struct ew__net_client *net;   /* fetch()'s HTTP client (lib/net/client.c); NULL until the first fetch */
    struct ew__ws_client *ws_clients; /* outbound WebSocket connections (ws_client.c; list, owned) */
    struct ew__do_rt *durable;    /* Durable Objects held and called (lib/bindings/durable.c); NULL until a
                                     worker with namespaces loads; freed by ew__durable_shutdown() */
    struct ew__res_cache *res;    /* storage bindings: open stores, ops in flight (lib/bindings); NULL until
                                     a worker with resources loads; freed by ew__resources_shutdown() */
    int chain_depth;              /* the service-binding chain depth that events dispatched now get
                                     (lib/bindings/service.c sets it around its dispatch; 0 otherwise) */
    struct ew__svc_rt *svc;       /* service bindings' streamed bodies (lib/bindings/service.c); NULL until
                                     one streams; freed by ew__service_shutdown() */
};

typedef struct ew__host_binding {
    char *name;                   /* owned */
    char **methods;               /* owned array of nmethods owned strings */
    size_t nmethods;
    ew_binding_fn call;
    ew_binding_cancel_fn cancel;
    void *udata;
    int call_method;              /* index in methods of the method NAME(...) calls, -1 = NAME is an object */
} ew__host_binding_t;

/* A storage resource of a worker (include/edgeworker.h "Storage resources"). */
typedef struct ew__resource {
    ew_resource_kind_t kind;
    char *binding;                /* owned: the env property */
    char *id;                     /* owned: the storage id */
    struct ew__res_store *store;  /* borrowed from rt->res (opened at load, closed with the runtime) */
} ew__resource_t;

typedef struct ew__var {
    char *name;                   /* owned */
    char *value;                  /* owned */
    bool is_json;
} ew__var_t;

struct ew_worker {
    ew_runtime_t *rt;
    char *name;                   /* owned */
    char *filename;               /* owned: name used in stacks and errors */
    ew_source_type_t source_type; /* module, script or decided from the text (ew_worker_config_t) */
    void *bytecode;               /* owned: duk_dump_function output of the compiled script */
    size_t bytecode_len;
    ew__var_t *vars;              /* owned array of nvars */
    size_t nvars;
    ew__host_binding_t *bindings;      /* owned array of nbindings */
    size_t nbindings;
    ew__resource_t *resources;    /* owned array of nresources */
    size_t nresources;
    struct ew__res_store *cache_store; /* borrowed from rt->res: the Cache API's store, opened on first use */
    struct ew__assets *assets;    /* owned: static assets (lib/bindings/assets.c), NULL = none */
    struct ew__ratelimits *ratelimits; /* owned: rate limiting bindings (lib/bindings/ratelimit.c), or NULL */
    struct ew__do_ns *durables;   /* owned array of ndurables Durable Object namespaces */
    struct ew__queues *queues;    /* owned: Queue producers and consumers (lib/bindings/queue.c), or NULL */
    size_t ndurables;
    struct ew__svc *services;     /* owned array of nservices service bindings (lib/bindings/service.c) */
    size_t nservices;
    ew__isolate_t *current;       /* serves new requests; NULL until needed */
    ew__isolate_t *draining;      /* condemned isolates still finishing requests (list via next) */
    ew_worker_stats_t stats;
    uint64_t cpu_ns_total;        /* CPU time charged to this worker's requests (ew_worker_cpu_ms) */
    struct event *reap_ev;        /* destroys drained isolates from the loop (owned) */
    ew_worker_t *next;            /* in rt->workers */
    /* The last request URL that passed the check and its serialization (owned, one allocation: the input,
     * NUL, the href, NUL): a server sends the same URLs again and again (worker.c). */
    char *url_cache;
    size_t url_cache_in_len;
};

/* Microtask queue state; the job values live in a stash array (microtask.c). */
typedef struct ew__mtq {
    uint32_t head;                /* index of the next job's first slot */
    uint32_t tail;                /* index one past the last job's slots */
} ew__mtq_t;

#define EW__ISOLATE_MAGIC 0x45574953u /* "EWIS": tells our heaps from bare test heaps */

#define EW__WEB_PROTO_SLOTS 16 /* lib/web's ew__proto_t slots cached in the isolate (web.c) */

#define EW__SMALL_CLASSES 16 /* allocator size classes 16 bytes apart: blocks up to 248 bytes (limits.c) */

struct ew__isolate {
    uint32_t magic;               /* EW__ISOLATE_MAGIC */
    duk_context *ctx;             /* the heap's main thread; NULL once destroyed */
    ew_runtime_t *rt;             /* NULL for a heap made by a unit test */
    ew_worker_t *worker;          /* NULL for a heap made by a unit test */

    /* Memory accounting (limits.c allocator). */
    size_t heap_bytes;            /* bytes allocated now, headers included */
    size_t heap_limit;            /* refuse allocations past this; SIZE_MAX until the heap is set up */
    bool gc_tried;                /* the soft limit refused one allocation so that Duktape collects first */

    /* CPU accounting (limits.c). */
    uint64_t deadline_ns;         /* entry clock (V, see isolate.c) deadline; UINT64_MAX = none */
    uint64_t entry_mono_ns;       /* monotonic clock when the running entry started */
    int64_t cpu_offset_ns;        /* once sampled: V = thread CPU clock + this */
    bool cpu_sampled;             /* the entry clock switched to the thread CPU clock */
    uint64_t slice_v_ns;          /* V when CPU started being charged to `running` */
    ew__req_t *running;           /* request the running JS is charged to (NULL: startup or detached) */
    ew_status_t abort_reason;     /* EW_OK, or EW_ERR_CPU_LIMIT / EW_ERR_MEMORY_LIMIT while unwinding */
    ew__req_t *abort_req;         /* the request that was running when the limit fired (NULL: none) */
    int depth;                    /* nesting of ew__isolate_enter */

    bool condemned;               /* serves no new requests; destroyed when `pending` drops to 0 */
    bool dead;                    /* the fatal handler ran: the heap must not be entered again */
    jmp_buf *fatal_jmp;           /* where the fatal handler jumps (set while inside an entry) */

    ew__mtq_t mtq;
    ew__timer_t *timers;          /* live timers (list) */
    uint32_t next_timer_id;
    uint32_t next_req_id;
    ew__req_t *reqs;              /* requests in flight (list) */
    uint32_t io_pending;          /* host I/O the isolate waits for (subrequests, binding calls); 0 = none */
    struct ew_call *calls;        /* pending host-binding calls (binding.c) */
    duk_context *binding_ctx;     /* the running thread while a host binding's callback runs (binding.c) */
    struct ew__fetch *fetches;    /* pending fetch() calls (lib/web/fetch.c), each counted in io_pending */
    uint32_t next_fetch_id;
    uint32_t next_call_id;
    uint32_t pending;             /* number of reqs */
    struct ew_websocket *websockets; /* WebSockets handed to the host (websocket.c; list) */
    uint32_t next_ws_id;
    ew__isolate_t *next;          /* in worker->draining */

    /* Per-request fast paths (dispatch.c). Heap pointers stay valid because the stash (or the module's
     * exports, which the stash holds) keeps each value reachable; NULL = not looked up yet. */
    void *fetch_self;             /* the module's default export (fixed once the module ran) */
    void *fetch_fn;               /* its fetch handler as read at the first request (workerd reads it once) */
    bool fetch_resolved;          /* fetch_self/fetch_fn were looked up (both NULL: service-worker form) */
    void *context_proto;          /* ExecutionContext.prototype */
    void *env;                    /* the env object */
    char *cf_json;                /* the last request.cf JSON dispatched (malloc'd copy; checked valid) */
    size_t cf_json_len;
    void *cf_str;                 /* that JSON as a JS string, kept in the stash */
    const void *promise_intrinsics; /* promise.c's table, a fixed buffer in the heap stash */
    void *web_protos[EW__WEB_PROTO_SLOTS]; /* lib/web's prototypes by slot (ew__web_push_proto), kept
                                             reachable by the stash's array of them; NULL = not registered */
    const void *iter_intrinsics;  /* builtin_iterfast.c's table, a fixed buffer in the heap stash */

    ew__req_t *req_pool;          /* finished requests kept for reuse (dispatch.c; list via next; owned) */
    uint32_t req_pooled;

    /* Small blocks kept for reuse by the allocator (limits.c), per 16-byte size class (owned). */
    void *small_free[EW__SMALL_CLASSES];
    uint16_t small_count[EW__SMALL_CLASSES];
};

typedef enum ew__req_kind { EW__REQ_FETCH, EW__REQ_SCHEDULED, EW__REQ_CALL, EW__REQ_QUEUE } ew__req_kind_t;

/* How an EW__REQ_CALL (ew__dispatch_call, dispatch.h) ends: with ctx and the settled value's index (outcome
 * EW_OK: fulfilled; EW_ERR_EXCEPTION: rejected, the value is the reason), or with ctx NULL and a message when
 * the request failed otherwise (a limit, the isolate went away). Runs exactly once. */
typedef void (*ew__call_done_fn)(void *udata, duk_context *ctx, duk_idx_t value, ew_status_t outcome,
                                 const char *message);

struct ew__req {
    uint32_t id;                  /* key of this request in JS (hidden glue state) */
    ew__req_kind_t kind;
    ew__isolate_t *iso;
    uint64_t cpu_used_ns;         /* CPU time charged so far */
    bool complete;                /* fetch: the response is made; scheduled: the handler has finished */
    bool delivered;               /* the host's callback has run */
    bool pass_through;            /* passThroughOnException() was called */
    int wait_until;               /* waitUntil promises not settled yet */
    int ws_holds;                 /* WebSockets of this request still open to the host (websocket.c) */
    bool in_callback;             /* the host's response callback is running (on_deliver) */
    uint32_t subrequests;         /* fetch() calls made so far (the subrequest limit) */
    int chain_depth;              /* Workers this event is nested in through service bindings (0: the host's) */
    struct event *deliver_ev;     /* fires the host's callback from the loop (owned) */
    struct event *wait_timer;     /* caps waitUntil work after delivery (owned) */
    ew_response_t *response;      /* made, waiting to be delivered (owned until delivered) */
    bool stream_body;             /* fetch: the host takes ReadableStream bodies in pieces (fetch_stream) */
    ew_body_t *body;              /* the streamed body the host reads, while open: keeps the request alive
                                     (timers, CPU charging) after delivery (body_stream.c) */
    struct ew__collect *collect;  /* fetch without stream_body: a stream body being read whole (owned) */
    ew_status_t outcome;
    ew_error_t error;             /* details when outcome != EW_OK */
    ew_response_fn fetch_cb;
    ew_scheduled_fn scheduled_cb;
    ew__call_done_fn call_done;   /* EW__REQ_CALL: until it has run */
    ew_queue_fn queue_cb;         /* EW__REQ_QUEUE */
    struct ew__queue_result *queue_result; /* EW__REQ_QUEUE: what the handler decided (owned) */
    size_t queue_n;               /* EW__REQ_QUEUE: messages in the batch */
    void *udata;
    ew__req_t *next;              /* in iso->reqs */
};

struct ew__timer {
    uint32_t id;                  /* the number setTimeout returned */
    ew__isolate_t *iso;
    struct event *ev;             /* owned */
    uint32_t req_id;              /* request that created it (0 = none) */
    bool repeat;
    ew__timer_t *next;            /* in iso->timers */
};

/* Returns the isolate whose heap ctx belongs to, or NULL for a bare heap (unit tests). */
ew__isolate_t *ew__isolate_of(duk_context *ctx);

/* Creates an isolate for worker w (NULL for a bare runtime heap in unit tests) with the memory limit in
 * bytes (0 = 128 MiB): heap, microtasks, Promise, Web types, the runtime layer (lib/js), and then, if w is
 * not NULL, the worker's script from its bytecode. Returns NULL with err set on failure. */
ew__isolate_t *ew__isolate_create(ew_runtime_t *rt, ew_worker_t *w, size_t mem_limit, ew_error_t *err);
/* Cancels timers, frees the heap and the struct. Pending requests must have been finished first. */
void ew__isolate_destroy(ew__isolate_t *iso);

/* Runs fn in a protected call charged to req (NULL: start-up budget or detached work), with the fatal
 * jump armed. Returns DUK_EXEC_SUCCESS, DUK_EXEC_ERROR (error value pushed, nrets values in all), or -1 if
 * the heap died (nothing pushed). Call ew__isolate_settle() afterwards. */
int ew__isolate_call(ew__isolate_t *iso, ew__req_t *req, duk_safe_call_function fn, void *udata,
                     duk_idx_t nargs, duk_idx_t nrets);
/* The protected call alone (the caller has entered); same results as ew__isolate_call. */
int ew__isolate_pcall(ew__isolate_t *iso, duk_safe_call_function fn, void *udata, duk_idx_t nargs,
                      duk_idx_t nrets);
/* Stops giving the isolate new requests; it is destroyed once its last request has finished. */
void ew__isolate_condemn(ew__isolate_t *iso);
/* Schedules destruction of the worker's condemned isolates that have no requests left. */
void ew__isolate_maybe_reap(ew__isolate_t *iso);

/* Top-level entry protocol. enter() starts charging CPU to req (NULL = startup/detached budget); leave()
 * stops charging. Between them call JS through ew__isolate_pcall() only. A macrotask is
 *     ew__isolate_enter(iso, req); rc = ew__isolate_pcall(iso, fn, …); …; ew__isolate_settle(iso);
 * where settle drains the microtasks inside the same entry and then leaves (two CPU clock reads per
 * macrotask: the thread CPU clock is a system call, the monotonic clock used inside is not). */
void ew__isolate_enter(ew__isolate_t *iso, ew__req_t *req);
void ew__isolate_leave(ew__isolate_t *iso);
/* Stops and restarts the entry clock around host code called from JS (binding callbacks): the time in
 * between is not charged to the running request. */
void ew__isolate_clock_pause(ew__isolate_t *iso);
void ew__isolate_clock_resume(ew__isolate_t *iso);
/* Switches CPU charging to another request inside an entry (microtask drain). */
void ew__isolate_charge(ew__isolate_t *iso, ew__req_t *req);
/* Finds a request in flight by id (NULL if finished). */
ew__req_t *ew__isolate_find_req(ew__isolate_t *iso, uint32_t id);

/* Ends a macrotask: drains microtasks (inside the caller's entry, or a new one), handles a limit that fired
 * (fails the request it was charged to, condemns the isolate), leaves the entry, fails requests that can
 * never complete, and schedules the reaping of a condemned idle isolate. Returns true. */
bool ew__isolate_settle(ew__isolate_t *iso);

/* Computes this thread's stack limit for the native stack check, once per thread (limits.c). */
void ew__stack_limit_init(void);
/* The running entry's clock V in ns since it began (see isolate.c; limits.c). */
uint64_t ew__isolate_vclock(ew__isolate_t *iso);
/* Thread CPU clock in ns (a system call) and monotonic clock in ns (vDSO) (limits.c). */
uint64_t ew__cpu_now_ns(void);
uint64_t ew__mono_now_ns(void);
/* Allocator functions given to duk_create_heap (limits.c). udata is the isolate. */
void *ew__heap_alloc(void *udata, duk_size_t size);
void *ew__heap_realloc(void *udata, void *ptr, duk_size_t size);
void ew__heap_free(void *udata, void *ptr);
/* Frees the small blocks the allocator keeps for reuse (after the heap is gone). */
void ew__heap_release_cache(ew__isolate_t *iso);

/* Host bindings (binding.c): puts each of the worker's bindings on the env object at env_idx (and as a
 * global); cancels pending calls when an isolate goes away. */
void ew__bindings_install(duk_context *ctx, ew_worker_t *w, duk_idx_t env_idx);
void ew__bindings_cancel_all(ew__isolate_t *iso);
void ew__host_binding_free(ew__host_binding_t *b);

/* Timers (timers.c): installs setTimeout & co. on the global object; cancels all on destroy. */
void ew__timers_init(duk_context *ctx);
void ew__timers_cancel_all(ew__isolate_t *iso);
/* Cancels the timers a finished request left behind. */
void ew__timers_cancel_req(ew__isolate_t *iso, uint32_t req_id);

/* WebSockets (websocket.c). */
/* Couples the WebSocket at ws_idx (from a Response's webSocket) to a new host handle kept open by req:
 * returns it, or NULL with the error thrown by the checks (e.g. the socket was accepted) pushed. May throw
 * only for a limit (invariant 2). */
struct ew_websocket *ew__ws_couple(duk_context *ctx, ew__req_t *req, duk_idx_t ws_idx);
/* The response carrying ws could not be made: the handle goes away without reaching the host. */
void ew__ws_abandon(struct ew_websocket *ws);
/* The isolate is being destroyed: its WebSockets close toward the host (1001). */
void ew__ws_isolate_gone(ew__isolate_t *iso);
/* The host side of an outbound WebSocket connected: the script's end gets 'open' (websocket.c). */
void ew__ws_host_open(struct ew_websocket *ws, const char *protocol);
/* Outbound WebSockets (ws_client.c). Starts connecting `link` (attached here) to host:port (TLS for wss)
 * with GET `target`, the Sec-WebSocket-Protocol list `protocols` ("" = none) and `extra` header lines
 * ("Name: value\r\n" each, checked by the caller; "" = none); false on OOM. */
typedef struct ew__ws_client ew__ws_client_t;
bool ew__ws_client_start(ew_runtime_t *rt, struct ew_websocket *link, const char *host, int port, bool tls,
                         const char *target, const char *protocols, const char *extra);
/* Closes every outbound WebSocket of the runtime (ew_runtime_destroy, after the workers). */
void ew__ws_clients_destroy(ew_runtime_t *rt);

#endif /* EW_CORE_ISOLATE_H */
