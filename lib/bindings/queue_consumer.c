/*
 * queue_consumer.c — Cloudflare Queues, the delivery side: a consumer per consumed queue that gathers batches
 * from the queues database and hands them to its worker's queue() handler, and the process-wide registry
 * that decides which runtime delivers each queue and lets producers on any thread wake it.
 *
 *   producer (any thread): send() ── group commit ──> ew__queue_wake(key) ── eventfd ──┐
 *   consumer (its runtime's loop): wake / timer ─> pump: SELECT ready rows (visible_ms <= now), skip those in
 *       flight ─> full batch, or the batch window (max_batch_timeout) ran out ─> ew_worker_queue()
 *       ─> verdicts: DELETE acked rows; retried rows: attempts + 1, visible_ms = now + delay; out of retries:
 *       UPDATE queue = dead_letter_queue (the same row: its id and timestamp are kept), or DELETE + warning
 *
 * Nothing marks a row as delivered: the rows of a batch in flight stay in the database untouched (the
 * consumer remembers their seq in memory) until the handler's verdict is committed, so a process that dies
 * mid-delivery delivers them again after a restart (at least once, as on Cloudflare). The consumer reads its
 * own connection's queued writes first (ew__store_sync), so a committed verdict is never delivered twice by
 * the same process. Messages sent from another process on the same state directory are noticed by a poll
 * (POLL_MS); those of this process wake the consumer at once.
 *
 * One consumer per queue and state directory per process delivers at a time: the one started most recently
 * (ew-server loads the worker on each thread, and a reload loads the new Worker before retiring the old); the
 * others stand by and the next one takes over when it goes away. Called by queue.c (consumers of a worker);
 * batches enter the worker through ew_worker_queue (lib/core).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "queue.h"

#define POLL_MS 1000 /* how often a consumer looks for messages committed by other processes */

static const char SQL_READY[] = "SELECT seq, id, content_type, body, enqueued_ms, attempts FROM messages "
                                "WHERE queue = ?1 AND visible_ms <= ?2 ORDER BY visible_ms, seq LIMIT ?3";
static const char SQL_NEXT[] = "SELECT MIN(visible_ms) FROM messages WHERE queue = ?1 AND visible_ms > ?2";
static const char SQL_DELETE[] = "DELETE FROM messages WHERE seq = ?1";
static const char SQL_RETRY[] = "UPDATE messages SET attempts = attempts + 1, visible_ms = ?2 WHERE seq = ?1";
static const char SQL_DEAD[] = "UPDATE messages SET queue = ?2, attempts = 0, visible_ms = ?3 WHERE seq = ?1";
static const char SQL_EXPIRE[] = "DELETE FROM messages WHERE queue = ?1 AND enqueued_ms < ?2";
static const char SQL_HAS_EXPIRED[] = "SELECT 1 FROM messages WHERE queue = ?1 AND enqueued_ms < ?2 LIMIT 1";

/* ---------------------------------------------------------------------------------------------------------
 * Registry: per queue key, the consumers able to deliver it (their eventfds; the most recent one delivers)
 * and the rows in flight in the whole process.
 *
 * The most recent consumer wins so that a reloaded Worker (ew-server loads the new one before retiring the
 * old) takes over at once; when the deliverer goes away, the next most recent is woken and takes over. The
 * in-flight set is process-wide so that a batch handed out by one consumer is not handed out again by
 * another that took over meanwhile (reg_take checks and records under the lock).
 */

typedef struct reg_queue {
    char *key;                    /* owned */
    int *efds;                    /* owned: members' eventfds in joining order; the last one delivers */
    size_t nefds, efd_cap;
    int64_t *inflight;            /* owned: seq of rows in batches being delivered */
    size_t ninflight, cap;
    struct reg_queue *next;
} reg_queue_t;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static reg_queue_t *registry;     /* under reg_lock */

char *ew__queue_key(ew_runtime_t *rt, const char *queue)
{
    char *key = NULL;
    int n = rt->state_dir != NULL ? asprintf(&key, "%s\x1f%s", rt->state_dir, queue)
                                  : asprintf(&key, "%p\x1f%s", (void *) rt, queue);
    return n < 0 ? NULL : key;
}

static reg_queue_t *reg_find(const char *key)
{
    for (reg_queue_t *q = registry; q != NULL; q = q->next)
        if (strcmp(q->key, key) == 0)
            return q;
    return NULL;
}

static void wake_fd(int efd)
{
    uint64_t one = 1;
    (void) !write(efd, &one, sizeof(one));
}

/* Makes efd the deliverer of key. False on OOM. */
static bool reg_join(const char *key, int efd)
{
    pthread_mutex_lock(&reg_lock);
    reg_queue_t *q = reg_find(key);
    if (q == NULL && (q = calloc(1, sizeof(*q))) != NULL) {
        if ((q->key = strdup(key)) == NULL) {
            free(q);
            q = NULL;
        } else {
            q->next = registry;
            registry = q;
        }
    }
    bool ok = q != NULL;
    if (ok && q->nefds == q->efd_cap) {
        size_t cap = q->efd_cap ? q->efd_cap * 2 : 4;
        int *grown = realloc(q->efds, cap * sizeof(*grown));
        ok = grown != NULL;
        if (ok) {
            q->efds = grown;
            q->efd_cap = cap;
        }
    }
    if (ok)
        q->efds[q->nefds++] = efd;
    pthread_mutex_unlock(&reg_lock);
    return ok;
}

/* Removes efd from key's members; a new deliverer is woken. */
static void reg_leave(const char *key, int efd)
{
    pthread_mutex_lock(&reg_lock);
    reg_queue_t *q = reg_find(key);
    for (size_t i = 0; q != NULL && i < q->nefds; i++) {
        if (q->efds[i] != efd)
            continue;
        bool was_owner = i == q->nefds - 1;
        memmove(q->efds + i, q->efds + i + 1, (q->nefds - i - 1) * sizeof(int));
        q->nefds--;
        if (was_owner && q->nefds > 0)
            wake_fd(q->efds[q->nefds - 1]);
        break;
    }
    if (q != NULL && q->nefds == 0 && q->ninflight == 0) {
        for (reg_queue_t **pp = &registry; *pp != NULL; pp = &(*pp)->next) {
            if (*pp == q) {
                *pp = q->next;
                break;
            }
        }
        free(q->key);
        free(q->efds);
        free(q->inflight);
        free(q);
    }
    pthread_mutex_unlock(&reg_lock);
}

/* If efd delivers key: copies the in-flight set into *buf (grown as needed) and returns true. */
static bool reg_snapshot(const char *key, int efd, int64_t **buf, size_t *n, size_t *cap)
{
    pthread_mutex_lock(&reg_lock);
    reg_queue_t *q = reg_find(key);
    bool owner = q != NULL && q->nefds > 0 && q->efds[q->nefds - 1] == efd;
    if (owner && q->ninflight > *cap) {
        int64_t *grown = realloc(*buf, q->ninflight * 2 * sizeof(int64_t));
        if (grown == NULL) {
            owner = false; /* out of memory: deliver nothing now, the poll tries again */
        } else {
            *buf = grown;
            *cap = q->ninflight * 2;
        }
    }
    if (owner) {
        if (q->ninflight > 0)
            memcpy(*buf, q->inflight, q->ninflight * sizeof(int64_t));
        *n = q->ninflight;
    }
    pthread_mutex_unlock(&reg_lock);
    return owner;
}

static bool has_seq(const int64_t *set, size_t n, int64_t seq)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == seq)
            return true;
    return false;
}

/* Records seq[n] as in flight if efd still delivers key and none of them is in flight already. */
static bool reg_take(const char *key, int efd, const int64_t *seq, size_t n)
{
    pthread_mutex_lock(&reg_lock);
    reg_queue_t *q = reg_find(key);
    bool ok = q != NULL && q->nefds > 0 && q->efds[q->nefds - 1] == efd;
    for (size_t i = 0; ok && i < n; i++)
        ok = !has_seq(q->inflight, q->ninflight, seq[i]);
    if (ok && q->ninflight + n > q->cap) {
        size_t cap = (q->ninflight + n) * 2;
        int64_t *grown = realloc(q->inflight, cap * sizeof(*grown));
        ok = grown != NULL;
        if (ok) {
            q->inflight = grown;
            q->cap = cap;
        }
    }
    if (ok) {
        memcpy(q->inflight + q->ninflight, seq, n * sizeof(int64_t));
        q->ninflight += n;
    }
    pthread_mutex_unlock(&reg_lock);
    return ok;
}

/* The batch holding seq[n] ended: they are no longer in flight. */
static void reg_give_back(const char *key, const int64_t *seq, size_t n)
{
    pthread_mutex_lock(&reg_lock);
    reg_queue_t *q = reg_find(key);
    for (size_t k = 0; q != NULL && k < n; k++) {
        for (size_t i = 0; i < q->ninflight; i++) {
            if (q->inflight[i] == seq[k]) {
                q->inflight[i] = q->inflight[--q->ninflight];
                break;
            }
        }
    }
    pthread_mutex_unlock(&reg_lock);
}

void ew__queue_wake(const char *key)
{
    pthread_mutex_lock(&reg_lock); /* held while writing: a consumer closes its eventfd only after leaving */
    reg_queue_t *q = reg_find(key);
    if (q != NULL && q->nefds > 0)
        wake_fd(q->efds[q->nefds - 1]);
    pthread_mutex_unlock(&reg_lock);
}

/* ---------------------------------------------------------------------------------------------------------
 * Consumers
 */

struct ew__queue_consumer {
    ew_runtime_t *rt;
    ew_worker_t *w;               /* set by start */
    ew__res_store_t *rs;          /* the runtime's queue store (borrowed) */
    char *queue, *dlq;            /* owned; dlq NULL = none */
    char *key, *dlq_key;          /* owned registry keys */
    uint32_t batch_size, timeout_ms, max_retries, retry_delay, concurrency;
    bool joined;                  /* a member of the registry (the most recent member delivers) */
    int efd;                      /* eventfd producers write to (owned) */
    struct event *wake_ev;        /* owned */
    struct event *timer;          /* owned: the batch window, delayed messages, the poll */
    int64_t *inflight;            /* owned: the registry's in-flight set as of this pump (reg_snapshot) */
    size_t ninflight, cap;
    uint32_t batches;             /* batches in flight */
    int64_t window_ms;            /* when the current partial batch began waiting; 0 = none */
    int64_t swept_ms;             /* when messages past the retention period were last looked for */
};

/* A batch in flight: what the verdict callback needs. */
typedef struct batch {
    ew__queue_consumer_t *c;
    size_t n;
    int64_t *seq;                 /* n, into the allocation */
    uint32_t *attempts;           /* failed deliveries before this one */
    char (*ids)[33];
} batch_t;

static void log_rt(ew__queue_consumer_t *c, ew_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void log_rt(ew__queue_consumer_t *c, ew_log_level_t level, const char *fmt, ...)
{
    if (c->rt->cfg.log == NULL)
        return;
    char msg[1400];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t) n < sizeof(msg) ? (size_t) n : sizeof(msg) - 1;
    c->rt->cfg.log(c->rt->cfg.log_udata, level, c->w != NULL ? ew_worker_name(c->w) : "", msg, len);
}

static void pump(ew__queue_consumer_t *c);

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void) what;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    pump(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    pump(arg);
}

static bool in_flight(const ew__queue_consumer_t *c, int64_t seq)
{
    return has_seq(c->inflight, c->ninflight, seq);
}

/* ---- verdicts: one write per batch, group-committed ---- */

typedef struct verdict_op {
    ew__store_write_t write;
    char *key;                    /* owned copy: the rows leave the in-flight set once this write ran */
    char *dlq;                    /* owned copy, or NULL */
    char *dlq_key;                /* owned copy: woken after the commit when rows moved there */
    int64_t now_ms;
    size_t n;
    struct {
        int64_t seq;
        int action;               /* A_DELETE, A_RETRY, A_DEAD */
        int64_t visible_ms;
    } a[];
} verdict_op_t;

enum { A_DELETE, A_RETRY, A_DEAD };

static ew_status_t verdict_apply(ew__store_t *s, ew__store_write_t *w, ew_error_t *err)
{
    verdict_op_t *op = w->udata;
    static const char *const sql[] = {SQL_DELETE, SQL_RETRY, SQL_DEAD};
    for (size_t i = 0; i < op->n; i++) {
        sqlite3_stmt *st = ew__store_stmt(s, sql[op->a[i].action], err);
        if (st == NULL)
            return err->code;
        sqlite3_bind_int64(st, 1, op->a[i].seq);
        if (op->a[i].action == A_RETRY)
            sqlite3_bind_int64(st, 2, op->a[i].visible_ms);
        if (op->a[i].action == A_DEAD) {
            sqlite3_bind_text(st, 2, op->dlq, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, op->now_ms);
        }
        int rc = sqlite3_step(st);
        ew__store_release(st);
        if (rc != SQLITE_DONE)
            return ew__store_error(s, rc, "recording a queue delivery", err);
    }
    return EW_OK;
}

static void verdict_done(ew__store_write_t *w, ew_status_t status, const char *message)
{
    verdict_op_t *op = w->udata;
    (void) message; /* a failed verdict leaves the rows as they were: they are delivered again */
    for (size_t i = 0; i < op->n; i++)
        reg_give_back(op->key, &op->a[i].seq, 1);
    ew__queue_wake(op->key); /* retried rows may be ready again */
    if (status == EW_OK && op->dlq_key != NULL)
        ew__queue_wake(op->dlq_key);
    free(op->key);
    free(op->dlq);
    free(op->dlq_key);
    free(op);
}

/* Ends batch b without a verdict: its rows are left as they were, for a later delivery. */
static void drop_batch(batch_t *b)
{
    reg_give_back(b->c->key, b->seq, b->n);
    free(b);
}

/* The handler's verdicts for batch b: queued as one write; the rows leave the in-flight set once it ran (so
 * no consumer picks them up before the verdict is committed). */
static void on_batch_done(void *udata, ew_status_t outcome, const ew_error_t *err, const ew_queue_verdict_t *v,
                          size_t n)
{
    batch_t *b = udata;
    ew__queue_consumer_t *c = b->c;
    c->batches--;
    if (outcome == EW_ERR_CANCELLED) { /* the worker is going away */
        drop_batch(b);
        return;
    }
    if (outcome != EW_OK)
        log_rt(c, EW_LOG_ERROR, "Queue \"%s\": the consumer failed (%s), the batch of %zu will be retried: %s",
               c->queue, ew_status_name(outcome), n, err != NULL ? err->message : "");
    verdict_op_t *op = calloc(1, sizeof(*op) + n * sizeof(op->a[0]));
    if (op == NULL || (op->key = strdup(c->key)) == NULL) {
        free(op);
        drop_batch(b); /* out of memory: nothing recorded, the messages are delivered again */
        return;
    }
    op->write.apply = verdict_apply;
    op->write.done = verdict_done;
    op->write.udata = op;
    op->now_ms = ew__queue_now_ms(c->rs);
    op->n = n;
    bool dead = false;
    for (size_t i = 0; i < n; i++) {
        op->a[i].seq = b->seq[i];
        if (!v[i].retry) {
            op->a[i].action = A_DELETE;
        } else if (b->attempts[i] + 1 <= c->max_retries) {
            uint32_t delay = v[i].delay_seconds >= 0 ? (uint32_t) v[i].delay_seconds : c->retry_delay;
            op->a[i].action = A_RETRY;
            op->a[i].visible_ms = op->now_ms + (int64_t) delay * 1000;
        } else if (c->dlq != NULL) {
            op->a[i].action = A_DEAD;
            dead = true;
        } else {
            op->a[i].action = A_DELETE;
            log_rt(c, EW_LOG_WARN, "Dropped message \"%s\" on queue \"%s\" after %u failed attempts", b->ids[i],
                   c->queue, c->max_retries + 1);
        }
    }
    if (dead && ((op->dlq = strdup(c->dlq)) == NULL || (op->dlq_key = strdup(c->dlq_key)) == NULL)) {
        free(op->dlq);
        free(op->key);
        free(op);
        drop_batch(b);
        return;
    }
    ew__store_queue(c->rs->store, &op->write);
    free(b);
}

/* ---- retention: messages older than Cloudflare's default retention period (4 days) are deleted undelivered ---- */

typedef struct expire_op {
    ew__store_write_t write;
    char *queue;                  /* owned */
    int64_t before_ms;
} expire_op_t;

static ew_status_t expire_apply(ew__store_t *s, ew__store_write_t *w, ew_error_t *err)
{
    expire_op_t *op = w->udata;
    sqlite3_stmt *st = ew__store_stmt(s, SQL_EXPIRE, err);
    if (st == NULL)
        return err->code;
    sqlite3_bind_text(st, 1, op->queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, op->before_ms);
    int rc = sqlite3_step(st);
    ew__store_release(st);
    return rc == SQLITE_DONE ? EW_OK : ew__store_error(s, rc, "deleting expired messages", err);
}

static void expire_done(ew__store_write_t *w, ew_status_t status, const char *message)
{
    (void) status;
    (void) message; /* a failed sweep is tried again later */
    expire_op_t *op = w->udata;
    free(op->queue);
    free(op);
}

/* At most once a minute: deletes (in the next group commit) the queue's messages past the retention period,
 * rows in flight excepted (their verdict decides). The check itself is one indexed lookup. */
static void sweep_expired(ew__queue_consumer_t *c, int64_t now)
{
    if (c->swept_ms != 0 && now - c->swept_ms < 60000 && now >= c->swept_ms)
        return;
    c->swept_ms = now;
    int64_t before = now - (int64_t) EW__QUEUE_RETENTION_S * 1000;
    sqlite3_stmt *st = ew__store_stmt(c->rs->store, SQL_HAS_EXPIRED, NULL);
    if (st == NULL)
        return;
    sqlite3_bind_text(st, 1, c->queue, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, before);
    bool any = sqlite3_step(st) == SQLITE_ROW;
    ew__store_release(st);
    expire_op_t *op = any && c->ninflight == 0 ? calloc(1, sizeof(*op)) : NULL;
    if (op == NULL || (op->queue = strdup(c->queue)) == NULL) {
        free(op);
        return;
    }
    op->write.apply = expire_apply;
    op->write.done = expire_done;
    op->write.udata = op;
    op->before_ms = before;
    ew__store_queue(c->rs->store, &op->write);
    (void) ew__store_sync(c->rs->store); /* before the batch is chosen below; a failure is retried later */
}

/* Delivers the k rows of st's result that are not in flight (the caller stepped none yet). */
static void deliver(ew__queue_consumer_t *c, sqlite3_stmt *st, size_t k)
{
    batch_t *b = calloc(1, sizeof(*b) + k * (sizeof(int64_t) + sizeof(uint32_t) + 33));
    ew_queue_message_t *msgs = calloc(k, sizeof(*msgs));
    char **bodies = calloc(k, sizeof(char *));
    char (*cts)[8] = calloc(k, 8);
    bool ok = b != NULL && msgs != NULL && bodies != NULL && cts != NULL;
    size_t n = 0;
    if (ok) {
        b->c = c;
        b->seq = (int64_t *) (b + 1);
        b->attempts = (uint32_t *) (b->seq + k);
        b->ids = (char (*)[33]) (b->attempts + k);
    }
    while (ok && n < k && sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        if (in_flight(c, seq))
            continue;
        size_t len = (size_t) sqlite3_column_bytes(st, 3);
        const void *body = sqlite3_column_blob(st, 3);
        if ((bodies[n] = malloc(len + 1)) == NULL) {
            ok = false;
            break;
        }
        if (len > 0)
            memcpy(bodies[n], body, len);
        b->seq[n] = seq;
        b->attempts[n] = (uint32_t) sqlite3_column_int64(st, 5);
        snprintf(b->ids[n], 33, "%s", (const char *) sqlite3_column_text(st, 1));
        snprintf(cts[n], 8, "%s", (const char *) sqlite3_column_text(st, 2));
        msgs[n] = (ew_queue_message_t) {.id = b->ids[n], .timestamp_ms = (double) sqlite3_column_int64(st, 4),
                                        .attempts = b->attempts[n] + 1, .content_type = cts[n],
                                        .body = bodies[n], .body_len = len};
        n++;
    }
    ew__store_release(st);
    if (b != NULL)
        b->n = n;
    if (ok && n > 0 && c->ninflight + n > c->cap) { /* the local snapshot grows with what this pump hands out */
        size_t cap = (c->ninflight + n) * 2;
        int64_t *grown = realloc(c->inflight, cap * sizeof(*grown));
        ok = grown != NULL;
        if (ok) {
            c->inflight = grown;
            c->cap = cap;
        }
    }
    /* Recorded as in flight before the dispatch: the handler may run (and other runtimes pump) meanwhile. */
    bool taken = ok && n > 0 && reg_take(c->key, c->efd, b->seq, n);
    ew__queue_metrics_t metrics;
    if (taken)
        ew__queue_read_metrics(c->rs->store, c->queue, &metrics);
    ew_status_t rc = taken ? ew__worker_queue(c->w, c->queue, msgs, n, &metrics, on_batch_done, b) : EW_ERR_NOMEM;
    if (rc == EW_OK) {
        memcpy(c->inflight + c->ninflight, b->seq, n * sizeof(int64_t));
        c->ninflight += n;
        c->batches++;
    } else {
        if (taken) {
            reg_give_back(c->key, b->seq, n);
            log_rt(c, EW_LOG_ERROR, "Queue \"%s\": could not deliver a batch (%s); trying again later", c->queue,
                   ew_status_name(rc));
        }
        free(b);
    }
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
    free(bodies);
    free(cts);
    free(msgs);
}

/* Arms the timer for the earliest of: `at_ms` (0 = none), the next delayed message, the poll. */
static void arm(ew__queue_consumer_t *c, int64_t now, int64_t at_ms)
{
    int64_t when = now + POLL_MS;
    if (at_ms > 0 && at_ms < when)
        when = at_ms;
    sqlite3_stmt *st = ew__store_stmt(c->rs->store, SQL_NEXT, NULL);
    if (st != NULL) {
        sqlite3_bind_text(st, 1, c->queue, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
            sqlite3_column_int64(st, 0) < when)
            when = sqlite3_column_int64(st, 0);
        ew__store_release(st);
    }
    int64_t ms = when > now ? when - now : 0;
    struct timeval tv = {(time_t) (ms / 1000), (suseconds_t) (ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

/* Gathers and delivers batches while the concurrency allows, then arms the timer. */
static void pump(ew__queue_consumer_t *c)
{
    if (!c->joined || c->w == NULL || !reg_snapshot(c->key, c->efd, &c->inflight, &c->ninflight, &c->cap))
        return; /* another consumer of the process delivers this queue now */
    if (ew__store_has_queued(c->rs->store))
        (void) ew__store_sync(c->rs->store); /* verdicts and sends of this runtime first */
    int64_t now = ew__queue_now_ms(c->rs), at = 0;
    sweep_expired(c, now);
    while (c->batches < c->concurrency) {
        sqlite3_stmt *st = ew__store_stmt(c->rs->store, SQL_READY, NULL);
        if (st == NULL)
            break;
        sqlite3_bind_text(st, 1, c->queue, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) (c->batch_size + c->ninflight));
        size_t ready = 0;
        while (ready < c->batch_size && sqlite3_step(st) == SQLITE_ROW)
            if (!in_flight(c, sqlite3_column_int64(st, 0)))
                ready++;
        sqlite3_reset(st);
        if (ready == 0) {
            ew__store_release(st);
            c->window_ms = 0;
            break;
        }
        if (ready < c->batch_size) {
            if (c->window_ms == 0)
                c->window_ms = now;
            if (now < c->window_ms + c->timeout_ms) {
                ew__store_release(st);
                at = c->window_ms + c->timeout_ms;
                break;
            }
        }
        c->window_ms = 0;
        deliver(c, st, ready);
    }
    arm(c, now, at);
}

EW_API void ew_queue_consumer_init(ew_queue_consumer_t *c)
{
    if (c == NULL)
        return;
    memset(c, 0, sizeof(*c));
    c->max_batch_size = 10;
    c->max_batch_timeout_ms = 5000;
    c->max_retries = 3;
    c->max_concurrency = 1;
}

ew_status_t ew__queue_consumer_new(ew_runtime_t *rt, ew__res_store_t *rs, const ew_queue_consumer_t *cfg,
                                   size_t index, ew__queue_consumer_t **out, ew_error_t *err)
{
    *out = NULL;
    const char *why = !ew__store_id_valid(cfg->queue) ? "the queue name must be 1-200 characters from A-Z a-z 0-9 . _ -"
                      : cfg->max_batch_size < 1 || cfg->max_batch_size > EW__QUEUE_MAX_BATCH
                          ? "max_batch_size must be 1-100"
                      : cfg->max_batch_timeout_ms > 60000 ? "max_batch_timeout must be at most 60 s"
                      : cfg->max_retries > 100            ? "max_retries must be at most 100"
                      : cfg->retry_delay > EW__QUEUE_MAX_DELAY ? "retry_delay must be at most 43200 (s)"
                      : cfg->max_concurrency < 1 || cfg->max_concurrency > 250 ? "max_concurrency must be 1-250"
                      : cfg->dead_letter_queue != NULL && !ew__store_id_valid(cfg->dead_letter_queue)
                          ? "the dead_letter_queue name must be 1-200 characters from A-Z a-z 0-9 . _ -"
                      : cfg->dead_letter_queue != NULL && strcmp(cfg->dead_letter_queue, cfg->queue) == 0
                          ? "a queue cannot be its own dead_letter_queue"
                          : NULL;
    if (why != NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "queue_consumers[%zu] (%s): %s", index,
                             cfg->queue ? cfg->queue : "(null)", why);
    ew__queue_consumer_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker");
    c->rt = rt;
    c->rs = rs;
    c->efd = -1;
    c->batch_size = cfg->max_batch_size;
    c->timeout_ms = cfg->max_batch_timeout_ms;
    c->max_retries = cfg->max_retries;
    c->retry_delay = cfg->retry_delay;
    c->concurrency = cfg->max_concurrency;
    c->queue = strdup(cfg->queue);
    c->key = ew__queue_key(rt, cfg->queue);
    if (cfg->dead_letter_queue != NULL) {
        c->dlq = strdup(cfg->dead_letter_queue);
        c->dlq_key = ew__queue_key(rt, cfg->dead_letter_queue);
    }
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    c->timer = evtimer_new(rt->base, on_timer, c);
    c->wake_ev = c->efd >= 0 ? event_new(rt->base, c->efd, EV_READ | EV_PERSIST, on_wake, c) : NULL;
    bool dlq_ok = cfg->dead_letter_queue == NULL || (c->dlq != NULL && c->dlq_key != NULL);
    if (c->queue == NULL || c->key == NULL || !dlq_ok || c->timer == NULL || c->wake_ev == NULL) {
        ew__queue_consumer_free(c);
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory loading a worker (queue consumer)");
    }
    *out = c;
    return EW_OK;
}

ew_status_t ew__queue_consumer_start(ew__queue_consumer_t *c, ew_worker_t *w, ew_error_t *err)
{
    c->w = w;
    if (!reg_join(c->key, c->efd))
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory starting the consumer of queue %s", c->queue);
    c->joined = true;
    event_add(c->wake_ev, NULL);
    struct timeval now = {0, 0};
    evtimer_add(c->timer, &now); /* messages left from before (a restart) are delivered from the loop */
    return EW_OK;
}

void ew__queue_consumer_free(ew__queue_consumer_t *c)
{
    if (c == NULL)
        return;
    if (c->joined)
        reg_leave(c->key, c->efd);
    if (c->wake_ev != NULL)
        event_free(c->wake_ev);
    if (c->timer != NULL)
        event_free(c->timer);
    if (c->efd >= 0)
        close(c->efd);
    free(c->inflight);
    free(c->queue);
    free(c->dlq);
    free(c->key);
    free(c->dlq_key);
    free(c);
}
