/*
 * queue.c — Cloudflare Queues, the producer's side: the queues database's schema and metrics, a worker's
 * producer and consumer configuration, and the producer bindings (env.NAME.send / sendBatch / metrics).
 * What a queue() handler receives is in queue_batch.c, the delivery in queue_consumer.c.
 *
 * send() and sendBatch() check their arguments with workerd's errors (TypeErrors) and the queue service's
 * limits (Errors "Queue send failed: ..." / "Queue sendBatch failed: ..." as workerd reports a refused send),
 * encode each body by its contentType — 'text' (a string, UTF-8), 'bytes' (an ArrayBufferView), 'json'
 * (JSON.stringify) or 'v8' (structured clone; also the default, as in workerd: lib/js/sclone.js's JSON text
 * stands in for V8's serialization format) — and queue one write for the store's group commit (lib/store):
 * the promise resolves once the rows are on disk, with workerd's {metadata: {metrics}} (the backlog then),
 * and the queue's consumer is woken (queue_consumer.c). metrics() reads the backlog.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "queue.h"

#define PRODUCER_KEY DUK_HIDDEN_SYMBOL("qProd")  /* producer object: its ew__queue_producer_t */
#define STORE_KEY DUK_HIDDEN_SYMBOL("qStore")    /* producer object: the runtime's ew__res_store_t */
#define PROTO_KEY DUK_HIDDEN_SYMBOL("qProto")    /* stash: the producer prototype */

const char *const ew__queue_schema =
    "CREATE TABLE IF NOT EXISTS messages ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  queue TEXT NOT NULL,"
    "  id TEXT NOT NULL,"                 /* 32 hex digits */
    "  content_type TEXT NOT NULL,"       /* text, bytes, json or v8 */
    "  body BLOB NOT NULL,"
    "  enqueued_ms INTEGER NOT NULL,"     /* message.timestamp */
    "  visible_ms INTEGER NOT NULL,"      /* not delivered before (delays, retries) */
    "  attempts INTEGER NOT NULL DEFAULT 0" /* failed deliveries so far */
    ");"
    "CREATE INDEX IF NOT EXISTS messages_ready ON messages(queue, visible_ms, seq);"
    "CREATE INDEX IF NOT EXISTS messages_age ON messages(queue, enqueued_ms);"
    /* Each queue's backlog, kept by triggers in the transactions that change it (O(1) metrics). */
    "CREATE TABLE IF NOT EXISTS backlog (queue TEXT PRIMARY KEY, count INTEGER NOT NULL, bytes INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS backlog_in AFTER INSERT ON messages BEGIN"
    "  INSERT INTO backlog(queue, count, bytes) VALUES (NEW.queue, 1, length(NEW.body))"
    "  ON CONFLICT(queue) DO UPDATE SET count = count + 1, bytes = bytes + length(NEW.body);"
    "END;"
    "CREATE TRIGGER IF NOT EXISTS backlog_out AFTER DELETE ON messages BEGIN"
    "  UPDATE backlog SET count = count - 1, bytes = bytes - length(OLD.body) WHERE queue = OLD.queue;"
    "END;"
    "CREATE TRIGGER IF NOT EXISTS backlog_move AFTER UPDATE OF queue ON messages WHEN NEW.queue <> OLD.queue BEGIN"
    "  UPDATE backlog SET count = count - 1, bytes = bytes - length(OLD.body) WHERE queue = OLD.queue;"
    "  INSERT INTO backlog(queue, count, bytes) VALUES (NEW.queue, 1, length(NEW.body))"
    "  ON CONFLICT(queue) DO UPDATE SET count = count + 1, bytes = bytes + length(NEW.body);"
    "END;";

static const char SQL_INSERT[] = "INSERT INTO messages(queue, id, content_type, body, enqueued_ms, visible_ms) "
                                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

static const char SQL_METRICS[] = "SELECT (SELECT count FROM backlog WHERE queue = ?1), (SELECT bytes FROM backlog "
                                  "WHERE queue = ?1), (SELECT MIN(enqueued_ms) FROM messages WHERE queue = ?1)";

static const char *const content_types[] = {"text", "bytes", "json", "v8"};
enum { CT_TEXT, CT_BYTES, CT_JSON, CT_V8 };

int64_t ew__queue_now_ms(const ew__res_store_t *rs)
{
    return (int64_t) (rs->cache->now() * 1000.0);
}

void ew__queue_read_metrics(ew__store_t *s, const char *queue, ew__queue_metrics_t *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = ew__store_stmt(s, SQL_METRICS, NULL);
    if (st == NULL)
        return;
    sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        out->count = sqlite3_column_int64(st, 0);
        out->bytes = sqlite3_column_int64(st, 1);
        out->oldest_ms = sqlite3_column_int64(st, 2);
    }
    ew__store_release(st);
}

void ew__queue_push_metrics(duk_context *ctx, const ew__queue_metrics_t *m)
{
    duk_push_object(ctx);
    duk_push_number(ctx, (double) m->count);
    duk_put_prop_literal(ctx, -2, "backlogCount");
    duk_push_number(ctx, (double) m->bytes);
    duk_put_prop_literal(ctx, -2, "backlogBytes");
    if (m->oldest_ms > 0) {
        duk_get_global_literal(ctx, "Date");
        duk_push_number(ctx, (double) m->oldest_ms);
        duk_new(ctx, 1);
    } else {
        duk_push_undefined(ctx);
    }
    duk_put_prop_literal(ctx, -2, "oldestMessageTimestamp");
}

/* Pushes {metadata: {metrics}}: what send() and sendBatch() resolve with (workerd's SendResponse). */
static void push_send_response(duk_context *ctx, const ew__queue_metrics_t *m)
{
    duk_push_object(ctx);
    duk_push_object(ctx);
    ew__queue_push_metrics(ctx, m);
    duk_put_prop_literal(ctx, -2, "metrics");
    duk_put_prop_literal(ctx, -2, "metadata");
}

/* ---------------------------------------------------------------------------------------------------------
 * Config
 */

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void producers_free(ew__queues_t *q)
{
    for (size_t i = 0; i < q->nproducers; i++) {
        free(q->producers[i].binding);
        free(q->producers[i].queue);
        free(q->producers[i].key);
    }
    free(q->producers);
}

void ew__queues_free(ew__queues_t *q)
{
    if (q == NULL)
        return;
    producers_free(q);
    for (size_t i = 0; i < q->nconsumers; i++)
        ew__queue_consumer_free(q->consumers[i]);
    free(q->consumers);
    free(q);
}

static ew_status_t copy_producers(ew_runtime_t *rt, ew__queues_t *q, const ew_worker_config_t *cfg,
                                  ew_error_t *err)
{
    if (cfg->nqueue_producers > 0 && cfg->queue_producers == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "queue_producers is NULL with nqueue_producers %zu",
                             cfg->nqueue_producers);
    if (cfg->nqueue_producers > 0 &&
        (q->producers = calloc(cfg->nqueue_producers, sizeof(*q->producers))) == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    for (size_t i = 0; i < cfg->nqueue_producers; i++) {
        const ew_queue_producer_t *p = &cfg->queue_producers[i];
        const char *why = p->binding == NULL || p->binding[0] == '\0' ? "the binding name is empty"
                          : !ew__store_id_valid(p->queue) ? "the queue name must be 1-200 characters from "
                                                            "A-Z a-z 0-9 . _ -"
                          : p->delivery_delay > EW__QUEUE_MAX_DELAY ? "delivery_delay must be at most 43200 (s)"
                                                                    : NULL;
        if (why != NULL)
            return ew__error_set(err, EW_ERR_INVALID_ARG, "queue_producers[%zu] (%s): %s", i,
                                 p->binding ? p->binding : "(null)", why);
        ew__queue_producer_t *d = &q->producers[q->nproducers++];
        d->binding = dup_or_null(p->binding);
        d->queue = dup_or_null(p->queue);
        d->key = ew__queue_key(rt, p->queue);
        d->delay = p->delivery_delay;
        if (d->binding == NULL || d->queue == NULL || d->key == NULL)
            return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    }
    return EW_OK;
}

ew_status_t ew__queues_new(ew_runtime_t *rt, const ew_worker_config_t *cfg, ew__queues_t **out, ew_error_t *err)
{
    *out = NULL;
    if (cfg->nqueue_producers == 0 && cfg->nqueue_consumers == 0)
        return EW_OK;
    if (cfg->nqueue_consumers > 0 && cfg->queue_consumers == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "queue_consumers is NULL with nqueue_consumers %zu",
                             cfg->nqueue_consumers);
    ew__queues_t *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    ew_status_t st = ew__res_store_open(rt, EW__RESOURCE_QUEUE, "queues", &q->rs, err);
    if (st == EW_OK)
        st = copy_producers(rt, q, cfg, err);
    if (st == EW_OK && cfg->nqueue_consumers > 0 &&
        (q->consumers = calloc(cfg->nqueue_consumers, sizeof(*q->consumers))) == NULL)
        st = ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    for (size_t i = 0; st == EW_OK && i < cfg->nqueue_consumers; i++) {
        for (size_t j = 0; j < i && st == EW_OK; j++)
            if (cfg->queue_consumers[i].queue != NULL && cfg->queue_consumers[j].queue != NULL &&
                strcmp(cfg->queue_consumers[i].queue, cfg->queue_consumers[j].queue) == 0)
                st = ew__error_set(err, EW_ERR_INVALID_ARG, "queue_consumers[%zu]: queue \"%s\" has a consumer already",
                                   i, cfg->queue_consumers[i].queue);
        if (st == EW_OK)
            st = ew__queue_consumer_new(rt, q->rs, &cfg->queue_consumers[i], i, &q->consumers[i], err);
        if (st == EW_OK)
            q->nconsumers = i + 1;
    }
    if (st != EW_OK) {
        ew__queues_free(q);
        return st;
    }
    *out = q;
    return EW_OK;
}

ew_status_t ew__queues_start(ew_worker_t *w, ew_error_t *err)
{
    ew__queues_t *q = w->queues;
    for (size_t i = 0; q != NULL && i < q->nconsumers; i++) {
        ew_status_t st = ew__queue_consumer_start(q->consumers[i], w, err);
        if (st != EW_OK)
            return st;
    }
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Encoding a body
 */

/* The JS `typeof` of the value at idx, for workerd's messages. */
static const char *type_of(duk_context *ctx, duk_idx_t idx)
{
    switch (duk_get_type(ctx, idx)) {
    case DUK_TYPE_UNDEFINED:
        return "undefined";
    case DUK_TYPE_BOOLEAN:
        return "boolean";
    case DUK_TYPE_NUMBER:
        return "number";
    case DUK_TYPE_STRING:
        return duk_is_symbol(ctx, idx) ? "symbol" : "string";
    default:
        return duk_is_function(ctx, idx) ? "function" : "object";
    }
}

/* contentType (the value at idx, a string) as CT_*; TypeError for others, as workerd (case-insensitive). */
static int content_type_of(duk_context *ctx, duk_idx_t idx)
{
    const char *s = duk_to_string(ctx, idx);
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, content_types[i]) == 0)
            return i;
    return duk_type_error(ctx, "Unsupported queue message content type: %s", s);
}

/* A delay in seconds from the value at idx (undefined: `dflt`); an Error "<what> failed: message delay X is
 * invalid" for anything but an integer of 0-43200. */
static uint32_t delay_of(duk_context *ctx, duk_idx_t idx, uint32_t dflt, const char *what)
{
    if (duk_is_undefined(ctx, idx))
        return dflt;
    double d = duk_to_number(ctx, idx);
    if (!(d >= 0 && d <= EW__QUEUE_MAX_DELAY) || floor(d) != d)
        (void) duk_error(ctx, DUK_ERR_ERROR, "%s failed: message delay %s is invalid", what,
                         duk_safe_to_string(ctx, idx));
    return (uint32_t) d;
}

/* [..., body] -> [..., encoded]: the body (at idx) encoded as content type ct, pushed as a string or a
 * buffer; its bytes in *p / *len (valid while it stays on the stack). Throws workerd's TypeErrors. */
static void encode_body(duk_context *ctx, duk_idx_t idx, int ct, const char **p, size_t *len)
{
    idx = duk_require_normalize_index(ctx, idx);
    switch (ct) {
    case CT_TEXT:
        if (!duk_is_string(ctx, idx) || duk_is_symbol(ctx, idx))
            (void) duk_type_error(ctx, "Content Type \"text\" requires a value of type string, but received: %s",
                                  type_of(ctx, idx));
        duk_dup(ctx, idx);
        break;
    case CT_BYTES: {
        int cls = duk_is_object(ctx, idx) ? ew__duk_class_number(ctx, idx) : 0;
        if (cls < 20 || cls > 29) /* DataView and the typed arrays (Duktape's class numbers) */
            (void) duk_type_error(ctx,
                                  "Content Type \"bytes\" requires a value of type ArrayBufferView, but received: %s",
                                  type_of(ctx, idx));
        duk_size_t n = 0;
        const void *data = duk_get_buffer_data(ctx, idx, &n);
        void *copy = duk_push_fixed_buffer(ctx, n);
        if (n > 0)
            memcpy(copy, data, n);
        *p = copy;
        *len = n;
        return;
    }
    case CT_JSON:
        duk_dup(ctx, idx);
        duk_json_encode(ctx, -1);
        if (!duk_is_string(ctx, -1)) /* JSON.stringify gave undefined (a function, a symbol) */
            (void) duk_type_error(ctx, "Content Type \"json\" requires a value that JSON.stringify can serialize, "
                                       "but received: %s", type_of(ctx, idx));
        break;
    default:
        duk_dup(ctx, idx);
        ew__sclone_call(ctx, "serialize"); /* DataCloneError for functions, symbols, cycles */
        break;
    }
    *p = ew__to_utf8(ctx, -1, len);
}

/* ---------------------------------------------------------------------------------------------------------
 * Writes: one op per send()/sendBatch(), group-committed
 */

typedef struct queued_msg {
    char id[33];
    int ct;
    uint32_t delay;
    size_t len;
    char *body;                   /* into the op's bytes */
} queued_msg_t;

typedef struct send_op {
    ew__res_op_t base;            /* first: base.write.udata == this */
    char *queue, *key;            /* owned copies: the commit may outlive the worker at runtime shutdown */
    int64_t now_ms;
    const char *what;             /* "Queue send" or "Queue sendBatch" */
    ew__queue_metrics_t metrics;  /* the backlog once committed: the promise's value */
    size_t n;
    queued_msg_t *msgs;           /* into bytes */
    char bytes[];
} send_op_t;

static ew_status_t send_apply(ew__store_t *s, ew__store_write_t *w, ew_error_t *err)
{
    send_op_t *op = w->udata;
    for (size_t i = 0; i < op->n; i++) {
        queued_msg_t *m = &op->msgs[i];
        sqlite3_stmt *st = ew__store_stmt(s, SQL_INSERT, err);
        if (st == NULL)
            return err->code;
        sqlite3_bind_text(st, 1, op->queue, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, content_types[m->ct], -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 4, m->body, m->len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, op->now_ms);
        sqlite3_bind_int64(st, 6, op->now_ms + (int64_t) m->delay * 1000);
        int rc = sqlite3_step(st);
        ew__store_release(st);
        if (rc != SQLITE_DONE)
            return ew__store_error(s, rc, "writing a message", err);
    }
    return EW_OK;
}

/* The backlog after the group commit that just ran: read once per commit and queue (the sends of one group
 * share it), so that thousands of concurrent sends do not each query it. */
static void committed_metrics(ew__store_t *s, const char *queue, ew__queue_metrics_t *out)
{
    static _Thread_local struct {
        const ew__store_t *store;
        uint64_t commits;
        char queue[EW__STORE_ID_MAX + 1];
        ew__queue_metrics_t m;
    } last;
    ew__store_stats_t st;
    ew__store_get_stats(s, &st);
    if (last.store == s && last.commits == st.commits && strcmp(last.queue, queue) == 0) {
        *out = last.m;
        return;
    }
    ew__queue_read_metrics(s, queue, out);
    last.store = s;
    last.commits = st.commits;
    snprintf(last.queue, sizeof(last.queue), "%s", queue);
    last.m = *out;
}

static void send_done(ew__store_write_t *w, ew_status_t status, const char *message)
{
    send_op_t *op = w->udata;
    if (status == EW_OK) {
        ew__queue_wake(op->key);
        if (op->base.iso != NULL)
            committed_metrics(op->base.rs->store, op->queue, &op->metrics);
        ew__res_op_settle(&op->base, EW_OK, NULL);
    } else {
        char msg[1200];
        snprintf(msg, sizeof(msg), "%s failed: %s", op->what, message);
        ew__res_op_settle(&op->base, status, msg);
    }
    free(op->queue);
    free(op->key);
    free(op);
}

static void push_send_result(duk_context *ctx, ew__res_op_t *base)
{
    push_send_response(ctx, &((send_op_t *) base)->metrics);
}

/* The producer `this` stands for (stack index 0 in the method bodies), and the store. */
static const ew__queue_producer_t *require_producer(duk_context *ctx, ew__res_store_t **rs)
{
    const ew__queue_producer_t *p = NULL;
    if (duk_is_object(ctx, 0)) {
        duk_get_prop_literal(ctx, 0, PRODUCER_KEY);
        duk_get_prop_literal(ctx, 0, STORE_KEY);
        p = duk_get_pointer(ctx, -2);
        *rs = duk_get_pointer(ctx, -1);
        duk_pop_2(ctx);
    }
    if (p == NULL || *rs == NULL)
        (void) duk_type_error(ctx, "Illegal invocation");
    return p;
}

/* Encodes one message (body at body_idx, contentType and delaySeconds values at ct_idx / delay_idx) into
 * an array slot: [..] -> [.., encoded]. Fills m (body points into the pushed value). */
static void encode_message(duk_context *ctx, duk_idx_t body_idx, duk_idx_t ct_idx, duk_idx_t delay_idx,
                           uint32_t dflt_delay, const char *what, queued_msg_t *m)
{
    if (duk_is_undefined(ctx, body_idx))
        (void) duk_type_error(ctx, "Message body cannot be undefined");
    m->ct = duk_is_undefined(ctx, ct_idx) ? CT_V8 : content_type_of(ctx, ct_idx);
    m->delay = delay_of(ctx, delay_idx, dflt_delay, what);
    const char *p;
    encode_body(ctx, body_idx, m->ct, &p, &m->len);
    m->body = (char *) p;
}

/* Builds the op from n encoded messages and queues it; pushes the promise. */
static void queue_send(duk_context *ctx, ew__res_store_t *rs, const ew__queue_producer_t *p, queued_msg_t *msgs,
                       size_t n, const char *what)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += msgs[i].len;
    uint32_t id = ew__res_push_pending(ctx, rs->cache); /* may throw: before anything is allocated */
    send_op_t *op = malloc(sizeof(*op) + n * sizeof(queued_msg_t) + total + 1);
    char *queue = strdup(p->queue), *key = strdup(p->key);
    if (op == NULL || queue == NULL || key == NULL) {
        free(op);
        free(queue);
        free(key);
        (void) duk_error(ctx, DUK_ERR_ERROR, "%s failed: out of memory", what);
    }
    memset(op, 0, sizeof(*op));
    op->base.rs = rs;
    op->base.write.apply = send_apply;
    op->base.write.done = send_done;
    op->base.write.udata = op;
    op->base.push_result = push_send_result;
    op->queue = queue;
    op->key = key;
    op->what = what;
    op->now_ms = ew__queue_now_ms(rs);
    op->n = n;
    op->msgs = (queued_msg_t *) op->bytes;
    char *at = op->bytes + n * sizeof(queued_msg_t);
    for (size_t i = 0; i < n; i++) {
        op->msgs[i] = msgs[i];
        ew__r2_random_hex(op->msgs[i].id, 16);
        if (msgs[i].len > 0)
            memcpy(at, msgs[i].body, msgs[i].len);
        op->msgs[i].body = at;
        at += msgs[i].len;
    }
    ew__res_op_start(ctx, &op->base, id);
    ew__store_queue(rs->store, &op->base.write);
}

/* The options argument at idx as an object: undefined and null become {}, other non-objects are workerd's
 * TypeError ("... parameter N is not of type 'TYPE'."). */
static void options_at(duk_context *ctx, duk_idx_t idx, const char *method, const char *type)
{
    if (duk_is_null_or_undefined(ctx, idx)) {
        duk_push_object(ctx);
        duk_replace(ctx, idx);
    } else if (!duk_is_object(ctx, idx)) {
        (void) duk_type_error(ctx, "Failed to execute '%s' on 'WorkerQueue': parameter 2 is not of type '%s'.", method,
                              type);
    }
}

/* send(body, options): [this, body, options] */
static duk_ret_t send_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs;
    const ew__queue_producer_t *p = require_producer(ctx, &rs);
    duk_idx_t opts = 2;
    options_at(ctx, opts, "send", "QueueSendOptions");
    duk_get_prop_literal(ctx, opts, "contentType");  /* [3] */
    duk_get_prop_literal(ctx, opts, "delaySeconds"); /* [4] */
    queued_msg_t m;
    encode_message(ctx, 1, 3, 4, p->delay, "Queue send", &m);
    if (m.len > EW__QUEUE_MAX_MESSAGE)
        (void) duk_error(ctx, DUK_ERR_ERROR, "Queue send failed: message length of %zu bytes exceeds limit of %u",
                         m.len, EW__QUEUE_MAX_MESSAGE);
    queue_send(ctx, rs, p, &m, 1, "Queue send");
    return 1;
}

/* sendBatch(messages, options): [this, messages, options] */
static duk_ret_t send_batch_body(duk_context *ctx, void *udata)
{
    (void) udata;
    static const char what[] = "Queue sendBatch";
    ew__res_store_t *rs;
    const ew__queue_producer_t *p = require_producer(ctx, &rs);
    options_at(ctx, 2, "sendBatch", "QueueSendBatchOptions");
    duk_get_prop_literal(ctx, 2, "delaySeconds");
    uint32_t dflt = delay_of(ctx, -1, p->delay, what);
    duk_pop(ctx);
    /* Any iterable, as jsg::Sequence takes: collected into an array first. */
    duk_push_array(ctx);
    duk_idx_t arr = duk_get_top_index(ctx);
    ew__iter_t it;
    if (duk_is_null_or_undefined(ctx, 1) || !duk_is_object(ctx, 1))
        (void) duk_type_error(ctx, "Failed to execute 'sendBatch' on 'WorkerQueue': parameter 1 is not of type "
                                   "'Iterable'.");
    ew__iter_open(ctx, 1, &it, NULL);
    for (duk_uarridx_t i = 0; ew__iter_step(ctx, &it); i++)
        duk_put_prop_index(ctx, arr, i);
    duk_size_t n = duk_get_length(ctx, arr);
    if (n == 0)
        (void) duk_type_error(ctx, "sendBatch() requires at least one message");
    queued_msg_t *msgs = duk_push_fixed_buffer(ctx, n * sizeof(queued_msg_t));
    size_t total = 0, largest = 0;
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, arr, (duk_uarridx_t) i);
        duk_idx_t e = duk_get_top_index(ctx);
        if (!duk_is_object(ctx, e))
            (void) duk_type_error(ctx, "Message body cannot be undefined");
        duk_get_prop_literal(ctx, e, "body");
        duk_get_prop_literal(ctx, e, "contentType");
        duk_get_prop_literal(ctx, e, "delaySeconds");
        encode_message(ctx, e + 1, e + 2, e + 3, dflt, what, &msgs[i]);
        duk_put_prop_index(ctx, arr, (duk_uarridx_t) (n + i)); /* keeps the encoded bytes reachable */
        duk_pop_n(ctx, 4);
        total += msgs[i].len;
        if (msgs[i].len > largest)
            largest = msgs[i].len;
    }
    if (n > EW__QUEUE_MAX_BATCH)
        (void) duk_error(ctx, DUK_ERR_ERROR, "%s failed: batch message count of %zu exceeds limit of %u", what,
                         (size_t) n, EW__QUEUE_MAX_BATCH);
    if (largest > EW__QUEUE_MAX_MESSAGE)
        (void) duk_error(ctx, DUK_ERR_ERROR,
                         "%s failed: message in batch has length %zu bytes which exceeds single message size limit "
                         "of %u", what, largest, EW__QUEUE_MAX_MESSAGE);
    if (total > EW__QUEUE_MAX_BATCH_BYTES)
        (void) duk_error(ctx, DUK_ERR_ERROR, "%s failed: batch size of %zu bytes exceeds limit of %u", what, total,
                         EW__QUEUE_MAX_BATCH_BYTES);
    queue_send(ctx, rs, p, msgs, n, what);
    return 1;
}

/* metrics(): [this] -> a promise of the backlog, read after this runtime's queued writes committed. */
static duk_ret_t metrics_body(duk_context *ctx, void *udata)
{
    (void) udata;
    ew__res_store_t *rs;
    const ew__queue_producer_t *p = require_producer(ctx, &rs);
    if (ew__store_has_queued(rs->store))
        (void) ew__store_sync(rs->store);
    ew__queue_metrics_t m;
    ew__queue_read_metrics(rs->store, p->queue, &m);
    ew__queue_push_metrics(ctx, &m);
    ew__promise_push_resolved(ctx);
    return 1;
}

static duk_ret_t q_send(duk_context *ctx)
{
    return ew__res_call(ctx, send_body, 2);
}

static duk_ret_t q_metrics(duk_context *ctx)
{
    return ew__res_call(ctx, metrics_body, 0);
}

static duk_ret_t q_send_batch(duk_context *ctx)
{
    return ew__res_call(ctx, send_batch_body, 2);
}

static const ew__method_t producer_methods[] = {
    {"send", q_send, DUK_VARARGS, 2},
    {"sendBatch", q_send_batch, DUK_VARARGS, 2},
    {"metrics", q_metrics, DUK_VARARGS, 0},
    {NULL, NULL, 0, 0},
};

void ew__queues_install(duk_context *ctx, const ew__queues_t *q, duk_idx_t env_idx)
{
    if (q == NULL || q->nproducers == 0)
        return;
    env_idx = duk_require_normalize_index(ctx, env_idx);
    ew__res_tables_init(ctx);
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, PROTO_KEY)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, producer_methods);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, PROTO_KEY);
    }
    duk_remove(ctx, -2);
    for (size_t i = 0; i < q->nproducers; i++) {
        duk_push_object(ctx);
        duk_dup(ctx, -2);
        duk_set_prototype(ctx, -2);
        duk_push_pointer(ctx, &q->producers[i]);
        duk_put_prop_literal(ctx, -2, PRODUCER_KEY);
        duk_push_pointer(ctx, q->rs);
        duk_put_prop_literal(ctx, -2, STORE_KEY);
        duk_dup_top(ctx);
        duk_put_global_string(ctx, q->producers[i].binding); /* service-worker scripts see bindings as globals */
        duk_put_prop_string(ctx, env_idx, q->producers[i].binding);
    }
    duk_pop(ctx);
}
