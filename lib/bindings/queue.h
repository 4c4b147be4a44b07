/*
 * lib/bindings/queue.h — Cloudflare Queues: what lib/core calls and what queue.c (database, producers),
 * queue_batch.c (the batch objects a handler sees) and queue_consumer.c (the delivery loop and the
 * process-wide registry) share. The semantics
 * are documented with ew_queue_producer_t / ew_queue_consumer_t in include/edgeworker.h; the design is in
 * docs/architecture.md "Queues".
 */
#ifndef EW_BINDINGS_QUEUE_H
#define EW_BINDINGS_QUEUE_H

#include "internal.h"

/* Cloudflare's limits. */
#define EW__QUEUE_MAX_MESSAGE 128000u   /* bytes of one serialized message */
#define EW__QUEUE_MAX_BATCH 100u        /* messages per sendBatch() and per delivered batch */
#define EW__QUEUE_MAX_BATCH_BYTES 256000u
#define EW__QUEUE_MAX_DELAY 43200u      /* seconds (12 hours) */
#define EW__QUEUE_ID_MAX 128            /* bytes of a message id given through ew_worker_queue */
#define EW__QUEUE_RETENTION_S 345600u   /* Cloudflare's default message retention: 4 days */

/* The store kind of the queues database (next to ew_resource_kind_t's, like EW__RESOURCE_CACHE). */
#define EW__RESOURCE_QUEUE 101
extern const char *const ew__queue_schema;

/* ---------------------------------------------------------------------------------------------------------
 * What lib/core calls
 */

typedef struct ew__queues ew__queues_t;

/* Validates and copies the worker config's producers and consumers, and opens the runtime's queue store when
 * there are any. *out stays NULL when there are none. On error nothing is left to free. */
ew_status_t ew__queues_new(ew_runtime_t *rt, const ew_worker_config_t *cfg, ew__queues_t **out, ew_error_t *err);
/* The worker is loaded: its consumers join the process's registry and start delivering from the loop. */
ew_status_t ew__queues_start(ew_worker_t *w, ew_error_t *err);
/* Stops delivery (claims released, timers removed); batches in flight end with EW_ERR_CANCELLED through the
 * worker's request cancellation, their messages left for a later delivery. Then frees. NULL is ignored. */
void ew__queues_free(ew__queues_t *q);
/* Puts env[binding] for each producer on the env object at env_idx (and as a global). May throw. */
void ew__queues_install(duk_context *ctx, const ew__queues_t *q, duk_idx_t env_idx);

/* A queue's backlog (Cloudflare's MessageBatchMetrics / a send's metadata.metrics). */
typedef struct ew__queue_metrics {
    int64_t count;                /* messages stored, delayed and in flight included */
    int64_t bytes;                /* their bodies' bytes */
    int64_t oldest_ms;            /* enqueue time of the oldest, ms since the epoch; 0 when empty */
} ew__queue_metrics_t;

/* Reads queue's backlog from the store (its counters are kept by triggers, see ew__queue_schema). Zeros on
 * failure. */
void ew__queue_read_metrics(ew__store_t *s, const char *queue, ew__queue_metrics_t *out);
/* Pushes {backlogCount, backlogBytes, oldestMessageTimestamp} (a Date, or undefined when empty). */
void ew__queue_push_metrics(duk_context *ctx, const ew__queue_metrics_t *m);

/* lib/core/worker.c: ew_worker_queue with the batch's metadata (NULL: an empty backlog). */
ew_status_t ew__worker_queue(ew_worker_t *w, const char *queue, const ew_queue_message_t *messages, size_t n,
                             const ew__queue_metrics_t *metrics, ew_queue_fn cb, void *udata);

/* What queue.c and queue_consumer.c share about a worker's queues. */
typedef struct ew__queue_producer {
    char *binding;                /* owned: the env property */
    char *queue;                  /* owned */
    char *key;                    /* owned: registry key (ew__queue_key) */
    uint32_t delay;               /* delivery_delay (s) */
} ew__queue_producer_t;

typedef struct ew__queue_consumer ew__queue_consumer_t;

struct ew__queues {
    ew__res_store_t *rs;          /* the runtime's queue store (borrowed from rt->res) */
    ew__queue_producer_t *producers;   /* owned array */
    size_t nproducers;
    ew__queue_consumer_t **consumers;  /* owned array of owned consumers */
    size_t nconsumers;
};

/* queue_consumer.c: a consumer of cfg->queue on rs, validated (index: its place in the config, for messages). */
ew_status_t ew__queue_consumer_new(ew_runtime_t *rt, ew__res_store_t *rs, const ew_queue_consumer_t *cfg,
                                   size_t index, ew__queue_consumer_t **out, ew_error_t *err);
/* Joins the registry for w (the most recent consumer of a queue delivers it) and starts delivering from the
 * loop. EW_ERR_NOMEM. */
ew_status_t ew__queue_consumer_start(ew__queue_consumer_t *c, ew_worker_t *w, ew_error_t *err);
void ew__queue_consumer_free(ew__queue_consumer_t *c);

/* ---------------------------------------------------------------------------------------------------------
 * Batches (queue_batch.c) for dispatch.c: the MessageBatch a handler sees and what it decided.
 */

typedef struct ew__queue_result ew__queue_result_t;

/* A result for n messages, nothing decided yet; NULL on OOM. */
ew__queue_result_t *ew__queue_result_new(size_t n);
void ew__queue_result_free(ew__queue_result_t *r);
/* Pushes a MessageBatch {queue, messages, metadata, ackAll(), retryAll()} whose methods record into the
 * result of request req_id (metrics NULL: an empty backlog). Throws when a body does not decode as its
 * content type. */
void ew__queue_push_batch(duk_context *ctx, uint32_t req_id, const char *queue, const ew_queue_message_t *msgs,
                          size_t n, const ew__queue_metrics_t *metrics);
/* Fills out[n] from what the handler decided; `failed`: the handler did not succeed (every message not
 * explicitly acked is retried). */
void ew__queue_verdicts(const ew__queue_result_t *r, bool failed, ew_queue_verdict_t *out, size_t n);

/* ---------------------------------------------------------------------------------------------------------
 * Registry (queue_consumer.c): which runtime delivers each queue of a state directory, process-wide.
 */

/* "<state dir, or the runtime's address without one>\x1f<queue>": the registry key of a queue. Returns a
 * malloc'd string or NULL. */
char *ew__queue_key(ew_runtime_t *rt, const char *queue);
/* Any thread: tells the consumer of `key`, if the process has one, that messages were committed. */
void ew__queue_wake(const char *key);
/* Milliseconds since the Unix epoch by the runtime's resource clock (ew__resources_set_clock: tests move it). */
int64_t ew__queue_now_ms(const ew__res_store_t *rs);

#endif
