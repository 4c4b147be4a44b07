/*
 * queue_batch.c — what a Queues consumer's handler receives: the MessageBatch {queue, messages, metadata,
 * ackAll(), retryAll()} and its Messages {id, timestamp, body, attempts, ack(), retry()}, and what the
 * handler's calls decide for each message (lib/core/dispatch.c turns that into verdicts once the event ends).
 *
 * The decisions are recorded in C (ew__queue_result_t, owned by the event's request) by natives that find the
 * request through the id hidden on each object, so a batch kept after its event ended records nothing.
 * workerd's rules: ack() after retry() (or retryAll()) and retry() after ack() (or ackAll()) have no effect and
 * log a warning; an explicit retry() wins over ackAll(); an explicit ack() wins over retryAll() and over a
 * failed handler.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

#define BATCH_PROTO_KEY DUK_HIDDEN_SYMBOL("qBatchProto")
#define MSG_PROTO_KEY DUK_HIDDEN_SYMBOL("qMsgProto")
#define RID_KEY DUK_HIDDEN_SYMBOL("rid")    /* batch and messages: the request id */
#define IDX_KEY DUK_HIDDEN_SYMBOL("qIdx")   /* message: its index in the batch */

/* ---------------------------------------------------------------------------------------------------------
 * What a handler decides
 */

enum { M_NONE = 0, M_ACK = 1, M_RETRY = 2 };

struct ew__queue_result {
    bool ack_all, retry_all;
    int32_t retry_all_delay;      /* -1: none given */
    size_t n;
    struct {
        int state;                /* M_* */
        int32_t delay;            /* M_RETRY: -1 when none given */
    } m[];
};

ew__queue_result_t *ew__queue_result_new(size_t n)
{
    ew__queue_result_t *r = calloc(1, sizeof(*r) + n * sizeof(r->m[0]));
    if (r != NULL) {
        r->n = n;
        r->retry_all_delay = -1;
    }
    return r;
}

void ew__queue_result_free(ew__queue_result_t *r)
{
    free(r);
}

void ew__queue_verdicts(const ew__queue_result_t *r, bool failed, ew_queue_verdict_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int state = r != NULL && i < r->n ? r->m[i].state : M_NONE;
        bool all = r != NULL && (r->retry_all || failed);
        if (r == NULL)
            all = true;
        out[i].retry = state == M_RETRY || (all && state != M_ACK);
        out[i].delay_seconds = state == M_RETRY ? r->m[i].delay : r != NULL ? r->retry_all_delay : -1;
    }
}

/* The result of the request whose id is hidden on `this`, or NULL once the event ended. */
static ew__queue_result_t *this_result(duk_context *ctx, int *index)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, RID_KEY);
    duk_get_prop_literal(ctx, -2, IDX_KEY);
    if (!duk_is_number(ctx, -2))
        (void) duk_type_error(ctx, "Illegal invocation");
    uint32_t rid = duk_get_uint(ctx, -2);
    *index = duk_is_number(ctx, -1) ? duk_get_int(ctx, -1) : -1;
    duk_pop_3(ctx);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    ew__req_t *r = iso != NULL ? ew__isolate_find_req(iso, rid) : NULL;
    return r != NULL && !r->delivered ? r->queue_result : NULL;
}

/* The message's id, for warnings. */
static const char *this_id(duk_context *ctx)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, "id");
    const char *id = duk_safe_to_string(ctx, -1);
    duk_remove(ctx, -2); /* leaves the id on the stack so the text stays reachable */
    return id;
}

/* Logs workerd's warning for a call that has no effect; `id` (may be NULL) fills the %s of `fmt`. */
static void warn(duk_context *ctx, const char *fmt, const char *id)
{
    char msg[400];
    int n = snprintf(msg, sizeof(msg), fmt, id != NULL ? id : "");
    ew__isolate_log(ctx, EW_LOG_WARN, msg, n > 0 && (size_t) n < sizeof(msg) ? (size_t) n : strlen(msg));
}

/* retry()'s and retryAll()'s {delaySeconds}: -1 when not given. */
static int32_t retry_delay_of(duk_context *ctx)
{
    if (!duk_is_object(ctx, 0))
        return -1;
    duk_get_prop_literal(ctx, 0, "delaySeconds");
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        return -1;
    }
    double d = duk_to_number(ctx, -1);
    if (!(d >= 0 && d <= EW__QUEUE_MAX_DELAY) || floor(d) != d)
        (void) duk_range_error(ctx, "delaySeconds must be an integer from 0 to 43200, not %s",
                               duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return (int32_t) d;
}

/* Message.prototype.ack() */
static duk_ret_t msg_ack(duk_context *ctx)
{
    int i;
    ew__queue_result_t *r = this_result(ctx, &i);
    if (r == NULL || i < 0 || (size_t) i >= r->n || r->ack_all)
        return 0;
    if (r->retry_all)
        warn(ctx, "Received a call to ack() on message %s after retryAll() was already called. Calling ack() on a "
                  "message after calling retryAll() has no effect.", this_id(ctx));
    else if (r->m[i].state == M_RETRY)
        warn(ctx, "Received a call to ack() on message %s after retry() was already called. Calling ack() on a "
                  "message after calling retry() has no effect.", this_id(ctx));
    else
        r->m[i].state = M_ACK;
    return 0;
}

/* Message.prototype.retry(options) */
static duk_ret_t msg_retry(duk_context *ctx)
{
    int i;
    int32_t delay = retry_delay_of(ctx);
    ew__queue_result_t *r = this_result(ctx, &i);
    if (r == NULL || i < 0 || (size_t) i >= r->n)
        return 0;
    if (r->ack_all)
        warn(ctx, "Received a call to retry() on message %s after ackAll() was already called. Calling retry() on "
                  "a message after calling ackAll() has no effect.", this_id(ctx));
    else if (r->m[i].state == M_ACK)
        warn(ctx, "Received a call to retry() on message %s after ack() was already called. Calling retry() on a "
                  "message after calling ack() has no effect.", this_id(ctx));
    else {
        r->m[i].state = M_RETRY;
        r->m[i].delay = delay;
    }
    return 0;
}

/* MessageBatch.prototype.ackAll() */
static duk_ret_t batch_ack_all(duk_context *ctx)
{
    int i;
    ew__queue_result_t *r = this_result(ctx, &i);
    if (r == NULL)
        return 0;
    if (r->retry_all)
        warn(ctx, "Received a call to ackAll() after retryAll() was already called. Calling ackAll() after "
                  "calling retryAll() has no effect.", NULL);
    else
        r->ack_all = true;
    return 0;
}

/* MessageBatch.prototype.retryAll(options) */
static duk_ret_t batch_retry_all(duk_context *ctx)
{
    int i;
    int32_t delay = retry_delay_of(ctx);
    ew__queue_result_t *r = this_result(ctx, &i);
    if (r == NULL)
        return 0;
    if (r->ack_all) {
        warn(ctx, "Received a call to retryAll() after ackAll() was already called. Calling retryAll() after "
                  "calling ackAll() has no effect.", NULL);
        return 0;
    }
    r->retry_all = true;
    if (delay >= 0)
        r->retry_all_delay = delay;
    return 0;
}

static const ew__method_t msg_methods[] = {
    {"ack", msg_ack, 0, 0},
    {"retry", msg_retry, 1, 0},
    {NULL, NULL, 0, 0},
};

static const ew__method_t batch_methods[] = {
    {"ackAll", batch_ack_all, 0, 0},
    {"retryAll", batch_retry_all, 1, 0},
    {NULL, NULL, 0, 0},
};

/* Pushes the stash's prototype under key, made with `methods` on first use. */
static void push_proto(duk_context *ctx, const char *key, const ew__method_t *methods)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_string(ctx, -1, key)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        ew__def_methods(ctx, -1, methods);
        duk_dup_top(ctx);
        duk_put_prop_string(ctx, -3, key);
    }
    duk_remove(ctx, -2);
}

/* Defines a read-only enumerable property from the value on top (popped). */
static void put_readonly(duk_context *ctx, duk_idx_t obj, const char *name)
{
    duk_push_string(ctx, name);
    duk_insert(ctx, -2);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_ENUMERABLE | DUK_DEFPROP_CLEAR_WRITABLE |
                               DUK_DEFPROP_CLEAR_CONFIGURABLE);
}

/* Pushes a message's body decoded from its content type. Throws for a body that does not decode. */
static void push_body(duk_context *ctx, const ew_queue_message_t *m)
{
    const char *ct = m->content_type != NULL ? m->content_type : "v8";
    if (strcmp(ct, "bytes") == 0) {
        void *buf = duk_push_fixed_buffer(ctx, m->body_len);
        if (m->body_len > 0)
            memcpy(buf, m->body, m->body_len);
        duk_push_buffer_object(ctx, -1, 0, m->body_len, DUK_BUFOBJ_ARRAYBUFFER);
        duk_remove(ctx, -2);
        return;
    }
    ew__push_utf8(ctx, m->body != NULL ? m->body : "", m->body_len);
    if (strcmp(ct, "json") == 0)
        duk_json_decode(ctx, -1);
    else if (strcmp(ct, "v8") == 0)
        ew__sclone_call(ctx, "deserialize");
    else if (strcmp(ct, "text") != 0)
        (void) duk_type_error(ctx, "Unsupported queue message content type: %s", ct);
}

void ew__queue_push_batch(duk_context *ctx, uint32_t req_id, const char *queue, const ew_queue_message_t *msgs,
                          size_t n, const ew__queue_metrics_t *metrics)
{
    duk_push_object(ctx);
    duk_idx_t batch = duk_get_top_index(ctx);
    push_proto(ctx, BATCH_PROTO_KEY, batch_methods);
    duk_set_prototype(ctx, batch);
    duk_push_uint(ctx, req_id);
    duk_put_prop_literal(ctx, batch, RID_KEY);
    ew__push_utf8(ctx, queue, strlen(queue));
    put_readonly(ctx, batch, "queue");
    duk_push_array(ctx);
    duk_idx_t arr = duk_get_top_index(ctx);
    push_proto(ctx, MSG_PROTO_KEY, msg_methods);
    duk_idx_t proto = duk_get_top_index(ctx);
    for (size_t i = 0; i < n; i++) {
        duk_push_object(ctx);
        duk_idx_t o = duk_get_top_index(ctx);
        duk_dup(ctx, proto);
        duk_set_prototype(ctx, o);
        duk_push_uint(ctx, req_id);
        duk_put_prop_literal(ctx, o, RID_KEY);
        duk_push_uint(ctx, (duk_uint_t) i);
        duk_put_prop_literal(ctx, o, IDX_KEY);
        ew__push_utf8(ctx, msgs[i].id, strlen(msgs[i].id));
        put_readonly(ctx, o, "id");
        duk_get_global_literal(ctx, "Date");
        duk_push_number(ctx, msgs[i].timestamp_ms);
        duk_new(ctx, 1);
        put_readonly(ctx, o, "timestamp");
        push_body(ctx, &msgs[i]);
        put_readonly(ctx, o, "body");
        duk_push_uint(ctx, msgs[i].attempts);
        put_readonly(ctx, o, "attempts");
        duk_put_prop_index(ctx, arr, (duk_uarridx_t) i);
    }
    duk_pop(ctx); /* proto */
    put_readonly(ctx, batch, "messages");
    static const ew__queue_metrics_t empty = {0, 0, 0};
    duk_push_object(ctx);
    ew__queue_push_metrics(ctx, metrics != NULL ? metrics : &empty);
    duk_put_prop_literal(ctx, -2, "metrics");
    put_readonly(ctx, batch, "metadata");
}
