/*
 * do_registry.c — the one place in the process that knows which runtime holds each Durable Object, and the
 * mailboxes runtimes use to hand calls (and their answers) to each other's threads.
 *
 *   thread A (caller)                      registry (global, mutex)            thread B (owner)
 *   stub.fetch() ── claim(ns, id, A) ────> id → inbox B (or A if free) ──┐
 *                  post(inbox B, CALL) ─────────────────────────────────> eventfd wakes B's loop:
 *                                                                          durable.c runs the call in B
 *   A's loop <── eventfd ── post(inbox A, REPLY) <─────────────────────────┘
 *
 * An inbox is a mutex-protected FIFO plus an eventfd watched by the owner's event_base, so posting from any
 * thread is safe without libevent's own locking. The registry maps "namespace key \x1f id" to the inbox of
 * the runtime holding the object; a runtime claims a free id before creating the instance, releases it
 * when it evicts the object, and releases everything it holds when it shuts down. A call that reaches a
 * runtime which no longer holds the object is claimed again there (or forwarded), so at most one instance
 * of an id exists at any time. Inboxes are reference-counted: the registry and every message waiting for
 * an answer hold a reference. Called by durable.c only; the design is in docs/architecture.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

#include "internal.h"

#define NBUCKETS 4096

struct ew__do_inbox {
    pthread_mutex_t lock;            /* guards head/tail/closed */
    ew__do_msg_t *head;
    ew__do_msg_t **tail;
    bool closed;                     /* the runtime went away: calls are answered with an error */
    int refs;                        /* guarded by reg_lock */
    int efd;                         /* eventfd: written by posters, read by the owner's loop */
    struct event *ev;                /* owner thread only */
    ew__do_inbox_fn handle;          /* owner thread only */
    void *udata;
};

typedef struct entry {
    char *key;                       /* owned: namespace key, 0x1f, id */
    ew__do_inbox_t *owner;           /* holds a reference */
    struct entry *next;
} entry_t;

typedef struct ns_seen {
    char *key;
    struct ns_seen *next;
} ns_seen_t;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static entry_t *buckets[NBUCKETS];
static ns_seen_t *seen;              /* namespaces whose alarms were scanned in this process */

/* ---------------------------------------------------------------------------------------------------------
 * Messages
 */

void ew__do_msg_free(ew__do_msg_t *m)
{
    if (m == NULL)
        return;
    free(m->ns_key);
    free(m->name);
    free(m->meta);
    free(m->body);
    if (m->reply_to != NULL)
        ew__do_inbox_unref(m->reply_to);
    if (m->from != NULL)
        ew__do_inbox_unref(m->from);
    free(m);
}

ew__do_msg_t *ew__do_reply_new(ew__do_msg_t *call, bool failed, const char *meta, size_t meta_len,
                               const void *body, size_t body_len, bool has_body)
{
    ew__do_msg_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->type = EW__DO_REPLY;
    r->failed = failed;
    r->token = call->token;
    r->meta = malloc(meta_len + 1);
    r->body = has_body ? malloc(body_len ? body_len : 1) : NULL;
    if (r->meta == NULL || (has_body && r->body == NULL)) {
        ew__do_msg_free(r);
        return NULL;
    }
    memcpy(r->meta, meta, meta_len);
    r->meta[meta_len] = '\0';
    r->meta_len = meta_len;
    if (has_body && body_len > 0)
        memcpy(r->body, body, body_len);
    r->body_len = body_len;
    r->has_body = has_body;
    return r;
}

/* Answers a call that cannot be run with an error (message as a serialized Error, see durable.js). */
void ew__do_fail_call(ew__do_msg_t *call, const char *message)
{
    ew__do_inbox_t *to = call->reply_to;
    if (to != NULL) {
        char meta[600];
        /* durable.js's error encoding: ["E", name, message]. The message has no quotes or backslashes. */
        int n = snprintf(meta, sizeof(meta), "[\"E\",\"Error\",\"%s\"]", message);
        ew__do_msg_t *r = ew__do_reply_new(call, true, meta, (size_t) n, NULL, 0, false);
        if (r != NULL)
            ew__do_post(to, r);
    }
    ew__do_msg_free(call);
}

/* ---------------------------------------------------------------------------------------------------------
 * Inboxes
 */

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void) what;
    ew__do_inbox_t *in = arg;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&in->lock);
    ew__do_msg_t *list = in->head;
    in->head = NULL;
    in->tail = &in->head;
    pthread_mutex_unlock(&in->lock);
    while (list != NULL) {
        ew__do_msg_t *m = list;
        list = m->next;
        m->next = NULL;
        in->handle(in->udata, m);
    }
}

ew__do_inbox_t *ew__do_inbox_create(struct event_base *base, ew__do_inbox_fn handle, void *udata)
{
    ew__do_inbox_t *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (in->efd < 0) {
        free(in);
        return NULL;
    }
    in->ev = event_new(base, in->efd, EV_READ | EV_PERSIST, on_wake, in);
    if (in->ev == NULL || event_add(in->ev, NULL) != 0) {
        if (in->ev != NULL)
            event_free(in->ev);
        close(in->efd);
        free(in);
        return NULL;
    }
    pthread_mutex_init(&in->lock, NULL);
    in->tail = &in->head;
    in->refs = 1;
    in->handle = handle;
    in->udata = udata;
    return in;
}

void ew__do_inbox_ref(ew__do_inbox_t *in)
{
    pthread_mutex_lock(&reg_lock);
    in->refs++;
    pthread_mutex_unlock(&reg_lock);
}

void ew__do_inbox_unref(ew__do_inbox_t *in)
{
    pthread_mutex_lock(&reg_lock);
    bool last = --in->refs == 0;
    pthread_mutex_unlock(&reg_lock);
    if (!last)
        return;
    /* Only a closed inbox can lose its last reference (the owner holds one until close). */
    pthread_mutex_destroy(&in->lock);
    close(in->efd);
    free(in);
}

void ew__do_post(ew__do_inbox_t *in, ew__do_msg_t *m)
{
    m->next = NULL;
    pthread_mutex_lock(&in->lock);
    bool closed = in->closed;
    if (!closed) {
        *in->tail = m;
        in->tail = &m->next;
    }
    pthread_mutex_unlock(&in->lock);
    if (closed) {
        if (m->type == EW__DO_CALL)
            ew__do_fail_call(m, "The Durable Object's runtime has shut down.");
        else
            ew__do_msg_free(m);
        return;
    }
    uint64_t one = 1;
    ssize_t w = write(in->efd, &one, sizeof(one));
    (void) w; /* EAGAIN only when the counter is saturated: the reader is woken anyway */
}

void ew__do_inbox_close(ew__do_inbox_t *in)
{
    ew__do_release_all(in);
    pthread_mutex_lock(&in->lock);
    in->closed = true;
    ew__do_msg_t *list = in->head;
    in->head = NULL;
    in->tail = &in->head;
    pthread_mutex_unlock(&in->lock);
    event_free(in->ev);
    in->ev = NULL;
    while (list != NULL) {
        ew__do_msg_t *m = list;
        list = m->next;
        if (m->type == EW__DO_CALL)
            ew__do_fail_call(m, "The Durable Object's runtime has shut down.");
        else
            ew__do_msg_free(m);
    }
    ew__do_inbox_unref(in);
}

/* ---------------------------------------------------------------------------------------------------------
 * The registry
 */

static uint32_t hash(const char *ns_key, const char *id)
{
    uint32_t h = 2166136261u;
    for (const char *p = ns_key; *p; p++)
        h = (h ^ (uint8_t) *p) * 16777619u;
    for (const char *p = id; *p; p++)
        h = (h ^ (uint8_t) *p) * 16777619u;
    return h % NBUCKETS;
}

static bool key_is(const entry_t *e, const char *ns_key, const char *id)
{
    size_t n = strlen(ns_key);
    return strncmp(e->key, ns_key, n) == 0 && e->key[n] == '\x1f' && strcmp(e->key + n + 1, id) == 0;
}

ew__do_inbox_t *ew__do_claim(const char *ns_key, const char *id, ew__do_inbox_t *me)
{
    uint32_t h = hash(ns_key, id);
    pthread_mutex_lock(&reg_lock);
    entry_t *e = buckets[h];
    while (e != NULL && !key_is(e, ns_key, id))
        e = e->next;
    if (e == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
        size_t a = strlen(ns_key), b = strlen(id);
        if ((e->key = malloc(a + b + 2)) == NULL) {
            free(e);
            e = NULL;
        } else {
            memcpy(e->key, ns_key, a);
            e->key[a] = '\x1f';
            memcpy(e->key + a + 1, id, b + 1);
            e->owner = me;
            me->refs++;
            e->next = buckets[h];
            buckets[h] = e;
        }
    }
    ew__do_inbox_t *owner = e != NULL ? e->owner : me; /* out of memory: serve it here */
    owner->refs++;
    pthread_mutex_unlock(&reg_lock);
    return owner;
}

void ew__do_release(const char *ns_key, const char *id, ew__do_inbox_t *me)
{
    uint32_t h = hash(ns_key, id);
    pthread_mutex_lock(&reg_lock);
    for (entry_t **pp = &buckets[h]; *pp != NULL; pp = &(*pp)->next) {
        entry_t *e = *pp;
        if (e->owner == me && key_is(e, ns_key, id)) {
            *pp = e->next;
            me->refs--; /* never the last: the owner still holds its own */
            free(e->key);
            free(e);
            break;
        }
    }
    pthread_mutex_unlock(&reg_lock);
}

void ew__do_release_all(ew__do_inbox_t *me)
{
    pthread_mutex_lock(&reg_lock);
    for (int h = 0; h < NBUCKETS; h++) {
        for (entry_t **pp = &buckets[h]; *pp != NULL;) {
            entry_t *e = *pp;
            if (e->owner == me) {
                *pp = e->next;
                me->refs--;
                free(e->key);
                free(e);
            } else {
                pp = &e->next;
            }
        }
    }
    pthread_mutex_unlock(&reg_lock);
}

bool ew__do_first_sight(const char *ns_key)
{
    bool first = true;
    pthread_mutex_lock(&reg_lock);
    for (ns_seen_t *s = seen; s != NULL && first; s = s->next)
        first = strcmp(s->key, ns_key) != 0;
    if (first) {
        ns_seen_t *s = calloc(1, sizeof(*s));
        if (s != NULL && (s->key = strdup(ns_key)) != NULL) {
            s->next = seen;
            seen = s;
        } else {
            free(s);
        }
    }
    pthread_mutex_unlock(&reg_lock);
    return first;
}
