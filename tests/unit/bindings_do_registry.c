/*
 * Tests of lib/bindings/do_registry.c: the process-wide map from Durable Object id to the runtime holding it,
 * and the inboxes that carry calls and answers between threads.
 */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/internal.h"

typedef struct sink {
    struct event_base *base;
    int got;
    int want;
    uint64_t tokens[256];
    bool failed[256];
} sink_t;

static void on_msg(void *udata, ew__do_msg_t *m)
{
    sink_t *s = udata;
    if (s->got < 256) {
        s->tokens[s->got] = m->token;
        s->failed[s->got] = m->failed;
    }
    s->got++;
    ew__do_msg_free(m);
    if (s->got >= s->want)
        event_base_loopbreak(s->base);
}

static ew__do_msg_t *msg(int type, uint64_t token)
{
    ew__do_msg_t *m = calloc(1, sizeof(*m));
    m->type = type;
    m->token = token;
    m->meta = strdup("[]");
    m->meta_len = 2;
    return m;
}

Test(bindings_do_registry, the_first_claim_wins_until_released)
{
    struct event_base *base = event_base_new();
    sink_t s = {.base = base};
    ew__do_inbox_t *a = ew__do_inbox_create(base, on_msg, &s), *b = ew__do_inbox_create(base, on_msg, &s);
    ew__do_inbox_t *o = ew__do_claim("ns-claim", "id1", a);
    cr_assert_eq(o, a);
    ew__do_inbox_unref(o);
    o = ew__do_claim("ns-claim", "id1", b);
    cr_assert_eq(o, a, "an id already held stays with its holder");
    ew__do_inbox_unref(o);
    o = ew__do_claim("ns-other", "id1", b);
    cr_assert_eq(o, b, "ids are per namespace");
    ew__do_inbox_unref(o);
    ew__do_release("ns-claim", "id1", b); /* not b's: no effect */
    o = ew__do_claim("ns-claim", "id1", b);
    cr_assert_eq(o, a);
    ew__do_inbox_unref(o);
    ew__do_release("ns-claim", "id1", a);
    o = ew__do_claim("ns-claim", "id1", b);
    cr_assert_eq(o, b, "a released id goes to the next claimant");
    ew__do_inbox_unref(o);
    ew__do_inbox_close(a);
    ew__do_inbox_close(b); /* releases b's claims */
    event_base_free(base);
}

struct poster {
    ew__do_inbox_t *to;
    int n;
    uint64_t first;
};

static void *post_many(void *arg)
{
    struct poster *p = arg;
    for (int i = 0; i < p->n; i++)
        ew__do_post(p->to, msg(EW__DO_REPLY, p->first + (uint64_t) i));
    return NULL;
}

Test(bindings_do_registry, messages_from_other_threads_arrive_in_order)
{
    struct event_base *base = event_base_new();
    sink_t s = {.base = base, .want = 200};
    ew__do_inbox_t *in = ew__do_inbox_create(base, on_msg, &s);
    struct poster p1 = {in, 100, 1000}, p2 = {in, 100, 2000};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, post_many, &p1);
    pthread_create(&t2, NULL, post_many, &p2);
    while (s.got < s.want)
        event_base_loop(base, EVLOOP_ONCE);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    uint64_t next1 = 1000, next2 = 2000;
    for (int i = 0; i < 200; i++) {
        if (s.tokens[i] < 2000)
            cr_assert_eq(s.tokens[i], next1++, "FIFO per sender");
        else
            cr_assert_eq(s.tokens[i], next2++, "FIFO per sender");
    }
    ew__do_inbox_close(in);
    event_base_free(base);
}

Test(bindings_do_registry, a_call_to_a_closed_inbox_is_answered_with_an_error)
{
    struct event_base *base = event_base_new();
    sink_t s = {.base = base, .want = 2};
    ew__do_inbox_t *caller = ew__do_inbox_create(base, on_msg, &s);
    ew__do_inbox_t *gone = ew__do_inbox_create(base, on_msg, &s);
    ew__do_inbox_ref(gone);          /* a reference a registry entry or a pending message would hold */
    ew__do_msg_t *queued = msg(EW__DO_CALL, 7);
    ew__do_inbox_ref(caller);
    queued->reply_to = caller;
    ew__do_post(gone, queued);
    ew__do_inbox_close(gone);        /* the queued call is answered */
    ew__do_msg_t *late = msg(EW__DO_CALL, 8);
    ew__do_inbox_ref(caller);
    late->reply_to = caller;
    ew__do_post(gone, late);         /* and so is one posted afterwards */
    ew__do_inbox_unref(gone);
    while (s.got < s.want)
        event_base_loop(base, EVLOOP_ONCE);
    cr_assert_eq(s.tokens[0], 7);
    cr_assert_eq(s.tokens[1], 8);
    cr_assert(s.failed[0] && s.failed[1]);
    ew__do_inbox_close(caller);
    event_base_free(base);
}

Test(bindings_do_registry, a_namespace_is_first_seen_once)
{
    cr_assert(ew__do_first_sight("ns-seen"));
    cr_assert(!ew__do_first_sight("ns-seen"));
    cr_assert(ew__do_first_sight("ns-seen-2"));
}
