/* Queues (lib/bindings/queue.c, queue_consumer.c) through the public API: what a handler's ack/retry/ackAll/
 * retryAll calls and its outcome make of each message (ew_worker_queue), the service-worker form, the
 * validation of producers and consumers, and a runtime's own consumer delivering batches, retrying, moving
 * messages to the dead letter queue, and delivering after a restart what an earlier runtime sent. The
 * producer API's argument errors are in tests/js/queues.test.js; ew-server in tests/e2e/test_queues.py. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bindings/internal.h" /* ew__resources_set_clock: the retention test moves the runtime's clock */
#include "edgeworker.h"

/* ---------------------------------------------------------------------------------------------------------
 * Verdicts
 */

/* The handler's behaviour is chosen by the queue's name. */
static const char verdict_src[] =
    "export default {\n"
    "  async queue(batch, env, ctx) {\n"
    "    const [a, b, c] = batch.messages;\n"
    "    switch (batch.queue) {\n"
    "    case 'ok': return;\n"
    "    case 'throws': a.ack(); throw new Error('boom');\n"
    "    case 'retry-all': batch.retryAll({ delaySeconds: 5 }); a.ack(); return;\n"
    "    case 'ack-all': batch.ackAll(); a.retry(); batch.retryAll(); return;\n"
    "    case 'mixed': a.retry({ delaySeconds: 9 }); b.retry(); a.ack(); batch.ackAll(); return;\n"
    "    case 'props':\n"
    "      if (a.id !== 'm1' || a.attempts !== 3 || !(a.timestamp instanceof Date) ||\n"
    "          a.timestamp.getTime() !== 1000 ||\n"
    "          a.body !== 'hi' || b.body.x !== 1 || new Uint8Array(c.body)[1] !== 2 || batch.messages.length !== 3)\n"
    "        throw new Error('unexpected batch ' + JSON.stringify([a.id, a.attempts, a.body, b.body]));\n"
    "      a.retry();\n"
    "      return;\n"
    "    case 'wait':\n"
    "      ctx.waitUntil(new Promise((r) => setTimeout(r, 10)).then(() => { throw new Error('late'); }));\n"
    "      return;\n"
    "    case 'later': setTimeout(() => a.retry(), 0); return;\n"
    "    }\n"
    "  },\n"
    "  fetch() { return new Response('x'); },\n"
    "};\n";

typedef struct verdicts {
    bool done;
    ew_status_t outcome;
    size_t n;
    ew_queue_verdict_t v[8];
    char message[1024];
} verdicts_t;

static void on_verdicts(void *udata, ew_status_t outcome, const ew_error_t *err, const ew_queue_verdict_t *v, size_t n)
{
    verdicts_t *r = udata;
    r->done = true;
    r->outcome = outcome;
    r->n = n;
    memcpy(r->v, v, n * sizeof(*v));
    snprintf(r->message, sizeof(r->message), "%s", err != NULL ? err->message : "");
}

static ew_runtime_t *rt;
static ew_worker_t *worker;
static char logged[8192]; /* what the runtime logged, one line each */

static void on_log(void *udata, ew_log_level_t level, const char *name, const char *msg, size_t len)
{
    (void) udata;
    (void) level;
    (void) name;
    size_t used = strlen(logged);
    snprintf(logged + used, sizeof(logged) - used, "%.*s\n", (int) len, msg);
}

static void load(const char *src)
{
    ew_error_t err;
    ew_runtime_config_t rc;
    ew_runtime_config_init(&rc);
    rc.log = on_log;
    logged[0] = '\0';
    cr_assert_eq(ew_runtime_create(&rc, &rt, &err), EW_OK, "%s", err.message);
    ew_worker_config_t cfg = {.name = "q", .source = src, .source_len = strlen(src), .filename = "q.js"};
    cr_assert_eq(ew_worker_load(rt, &cfg, &worker, &err), EW_OK, "%s", err.message);
}

static void run_until(const bool *flag)
{
    for (int i = 0; i < 100000 && !*flag; i++)
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE);
    cr_assert(*flag, "the event did not finish");
}

static verdicts_t dispatch(const char *queue, size_t n)
{
    static const unsigned char bytes[] = {1, 2, 3};
    ew_queue_message_t m[3] = {
        {"m1", 1000, 3, "text", "hi", 2},
        {"m2", 2000, 1, "json", "{\"x\":1}", 7},
        {"m3", 3000, 1, "bytes", bytes, 3},
    };
    verdicts_t r = {0};
    cr_assert_eq(ew_worker_queue(worker, queue, m, n, on_verdicts, &r), EW_OK);
    run_until(&r.done);
    return r;
}

Test(bindings_queues, handler_decisions_follow_workerd)
{
    load(verdict_src);
    verdicts_t r = dispatch("ok", 3);
    cr_assert_eq(r.outcome, EW_OK);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(r.v[i].retry, 0, "a handler that succeeds acknowledges everything");

    r = dispatch("throws", 3);
    cr_assert_eq(r.outcome, EW_ERR_EXCEPTION);
    cr_assert(strstr(r.message, "boom") != NULL, "%s", r.message);
    cr_assert_eq(r.v[0].retry, 0, "an explicit ack() survives the failure");
    cr_assert(r.v[1].retry && r.v[2].retry && r.v[1].delay_seconds == -1);

    r = dispatch("retry-all", 3);
    cr_assert_eq(r.outcome, EW_OK);
    for (size_t i = 0; i < 3; i++)
        cr_assert(r.v[i].retry && r.v[i].delay_seconds == 5, "ack() after retryAll() has no effect");

    cr_assert(strstr(logged, "Received a call to ack() on message m1 after retryAll() was already called. Calling "
                             "ack() on a message after calling retryAll() has no effect.") != NULL, "%s", logged);

    r = dispatch("ack-all", 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(r.v[i].retry, 0, "retry() and retryAll() after ackAll() have no effect");
    cr_assert(strstr(logged, "Received a call to retry() on message m1 after ackAll() was already called.") != NULL);
    cr_assert(strstr(logged, "Received a call to retryAll() after ackAll() was already called. Calling retryAll() "
                             "after calling ackAll() has no effect.") != NULL);

    r = dispatch("mixed", 3);
    cr_assert(r.v[0].retry && r.v[0].delay_seconds == 9, "retry() wins over a later ack() and ackAll()");
    cr_assert(r.v[1].retry && r.v[1].delay_seconds == -1);
    cr_assert_eq(r.v[2].retry, 0);
    cr_assert(strstr(logged, "Received a call to ack() on message m1 after retry() was already called.") != NULL);

    r = dispatch("props", 3);
    cr_assert_eq(r.outcome, EW_OK, "%s", r.message);
    cr_assert(r.v[0].retry && !r.v[1].retry && !r.v[2].retry);

    r = dispatch("wait", 1);
    cr_assert_eq(r.outcome, EW_OK, "a waitUntil rejection is logged, the event still succeeds");

    r = dispatch("later", 1);
    cr_assert_eq(r.outcome, EW_OK);
    cr_assert_eq(r.v[0].retry, 0, "calls after the event ended record nothing");
    ew_runtime_destroy(rt);
}

Test(bindings_queues, bodies_that_do_not_decode_fail_the_event)
{
    load(verdict_src);
    ew_queue_message_t m = {"bad", 1, 1, "json", "{nope", 5};
    verdicts_t r = {0};
    cr_assert_eq(ew_worker_queue(worker, "ok", &m, 1, on_verdicts, &r), EW_OK);
    run_until(&r.done);
    cr_assert_eq(r.outcome, EW_ERR_EXCEPTION);
    cr_assert(r.v[0].retry);
    m.content_type = "xml";
    m.body = "x";
    m.body_len = 1;
    r = (verdicts_t) {0};
    cr_assert_eq(ew_worker_queue(worker, "ok", &m, 1, on_verdicts, &r), EW_OK);
    run_until(&r.done);
    cr_assert_eq(r.outcome, EW_ERR_EXCEPTION);
    cr_assert(strstr(r.message, "Unsupported queue message content type: xml") != NULL, "%s", r.message);

    ew_queue_message_t many[101];
    for (size_t i = 0; i < 101; i++)
        many[i] = (ew_queue_message_t) {"id", 1, 1, "text", "x", 1};
    cr_assert_eq(ew_worker_queue(worker, "ok", many, 101, on_verdicts, &r), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_worker_queue(worker, "ok", many, 0, on_verdicts, &r), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_worker_queue(worker, NULL, many, 1, on_verdicts, &r), EW_ERR_INVALID_ARG);
    ew_runtime_destroy(rt);
}

Test(bindings_queues, service_worker_form_and_missing_handler)
{
    load("addEventListener('queue', (event) => {\n"
         "  if (event.queue !== 'sw' || event.type !== 'queue') throw new Error('bad event');\n"
         "  event.waitUntil(Promise.resolve());\n"
         "  event.messages[0].retry();\n"
         "  event.ackAll();\n"
         "});\n");
    verdicts_t r = dispatch("sw", 2);
    cr_assert_eq(r.outcome, EW_OK, "%s", r.message);
    cr_assert(r.v[0].retry && !r.v[1].retry);
    ew_runtime_destroy(rt);

    load("export default { fetch() { return new Response('x'); } };");
    r = dispatch("none", 1);
    cr_assert_eq(r.outcome, EW_ERR_NO_HANDLER);
    cr_assert(r.v[0].retry);
    ew_runtime_destroy(rt);
}

/* ---------------------------------------------------------------------------------------------------------
 * Configuration
 */

Test(bindings_queues, consumer_defaults_and_validation)
{
    ew_queue_consumer_t c;
    ew_queue_consumer_init(&c);
    cr_assert_eq(c.max_batch_size, 10);
    cr_assert_eq(c.max_batch_timeout_ms, 5000);
    cr_assert_eq(c.max_retries, 3);
    cr_assert_eq(c.max_concurrency, 1);
    cr_assert_null(c.queue);

    ew_runtime_t *r;
    cr_assert_eq(ew_runtime_create(NULL, &r, NULL), EW_OK);
    static const char src[] = "export default { queue() {} };";
    const char *whys[] = {"max_batch_size must be 1-100", "max_batch_timeout must be at most 60 s",
                          "max_retries must be at most 100", "max_concurrency must be 1-250",
                          "a queue cannot be its own dead_letter_queue", "the queue name must be"};
    for (int i = 0; i < 6; i++) {
        ew_queue_consumer_init(&c);
        c.queue = "q";
        if (i == 0)
            c.max_batch_size = 101;
        if (i == 1)
            c.max_batch_timeout_ms = 60001;
        if (i == 2)
            c.max_retries = 101;
        if (i == 3)
            c.max_concurrency = 0;
        if (i == 4)
            c.dead_letter_queue = "q";
        if (i == 5)
            c.queue = "a/b";
        ew_worker_config_t cfg = {.source = src, .source_len = strlen(src), .queue_consumers = &c,
                                  .nqueue_consumers = 1};
        ew_worker_t *w = NULL;
        ew_error_t err;
        cr_assert_eq(ew_worker_load(r, &cfg, &w, &err), EW_ERR_INVALID_ARG, "case %d", i);
        cr_assert(strstr(err.message, whys[i]) != NULL, "case %d: %s", i, err.message);
        cr_assert_null(w);
    }
    ew_queue_producer_t p = {"Q", "q", 43201};
    ew_worker_config_t cfg = {.source = src, .source_len = strlen(src), .queue_producers = &p, .nqueue_producers = 1};
    ew_worker_t *w = NULL;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(r, &cfg, &w, &err), EW_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "delivery_delay must be at most 43200") != NULL, "%s", err.message);
    ew_runtime_destroy(r);
}

/* ---------------------------------------------------------------------------------------------------------
 * A runtime's own consumer: the Worker sends to itself and reports each delivery through a host binding.
 */

typedef struct seen {
    char lines[64][96];
    int n;
} seen_t;

static void on_report(void *udata, ew_call_t *call, const char *method, const char *args, size_t len)
{
    (void) method;
    seen_t *s = udata;
    if (s->n < 64)
        snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%.*s", (int) len, args);
    ew_call_resolve_json(call, "null", 4);
}

static const char consumer_src[] =
    "export default {\n"
    "  async fetch(request, env) {\n"
    "    const n = Number(new URL(request.url).searchParams.get('n'));\n"
    "    await env.Q.sendBatch(Array.from({ length: n }, (_, i) => ({ body: { i } })));\n"
    "    await env.Q.send({ i: 'poison' });\n"
    "    return new Response('sent');\n"
    "  },\n"
    "  async queue(batch, env) {\n"
    "    for (const m of batch.messages) {\n"
    "      await env.REPORT.got(batch.queue, m.body.i, m.attempts, batch.messages.length);\n"
    "      if (m.body.i === 'poison') m.retry();\n"
    "    }\n"
    "  },\n"
    "};\n";

static int count(const seen_t *s, const char *needle)
{
    int k = 0;
    for (int i = 0; i < s->n; i++)
        k += strstr(s->lines[i], needle) != NULL;
    return k;
}

static ew_worker_t *load_consumer(ew_runtime_t *r, seen_t *seen, bool consume)
{
    static const char *const methods[] = {"got"};
    ew_binding_t b = {"REPORT", methods, 1, on_report, NULL, seen, NULL};
    ew_queue_producer_t p = {"Q", "work", 0};
    ew_queue_consumer_t c[2];
    ew_queue_consumer_init(&c[0]);
    c[0].queue = "work";
    c[0].max_batch_size = 2;
    c[0].max_batch_timeout_ms = 0;
    c[0].max_retries = 1;
    c[0].dead_letter_queue = "dead";
    ew_queue_consumer_init(&c[1]);
    c[1].queue = "dead";
    c[1].max_batch_timeout_ms = 0;
    ew_worker_config_t cfg = {.name = "consumer", .source = consumer_src, .source_len = strlen(consumer_src),
                              .bindings = &b, .nbindings = 1, .queue_producers = &p, .nqueue_producers = 1,
                              .queue_consumers = c, .nqueue_consumers = consume ? 2 : 0};
    ew_worker_t *w;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(r, &cfg, &w, &err), EW_OK, "%s", err.message);
    return w;
}

static void fetch(ew_worker_t *w, const char *url)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp;
    ew_error_t err;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, &err), EW_OK, "%s", err.message);
    ew_response_destroy(resp);
}

static void loop_until(ew_runtime_t *r, const seen_t *s, const char *needle, int want)
{
    for (int i = 0; i < 200000 && count(s, needle) < want; i++)
        event_base_loop(ew_runtime_event_base(r), EVLOOP_ONCE);
    cr_assert_geq(count(s, needle), want, "%d of %d \"%s\" seen", count(s, needle), want, needle);
}

Test(bindings_queues, runtime_consumer_batches_retries_dead_letters_and_survives_restart)
{
    char dir[] = "/tmp/ew-queues-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    ew_runtime_config_t rc;
    ew_runtime_config_init(&rc);
    rc.state_dir = dir;

    /* A runtime without the consumer sends five messages and a poison one, then goes away. */
    seen_t seen = {0};
    ew_runtime_t *r;
    cr_assert_eq(ew_runtime_create(&rc, &r, NULL), EW_OK);
    ew_worker_t *w = load_consumer(r, &seen, false);
    fetch(w, "http://q/?n=5");
    ew_runtime_destroy(r);
    cr_assert_eq(seen.n, 0);

    /* A new runtime on the same state directory consumes them: batches of two, the poison message twice
     * (max_retries 1) and then once from the dead letter queue. */
    cr_assert_eq(ew_runtime_create(&rc, &r, NULL), EW_OK);
    w = load_consumer(r, &seen, true);
    loop_until(r, &seen, "[\"dead\",\"poison\"", 1);
    for (int i = 0; i < 5; i++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "[\"work\",%d,1,", i);
        cr_assert_eq(count(&seen, needle), 1, "message %d delivered once", i);
    }
    cr_assert_eq(count(&seen, "[\"work\",\"poison\",1,"), 1);
    cr_assert_eq(count(&seen, "[\"work\",\"poison\",2,"), 1);
    cr_assert_eq(count(&seen, "[\"dead\",\"poison\",1,1]"), 1);
    cr_assert_eq(count(&seen, ",2]"), 6, "six messages of the work queue came in batches of two");
    ew_runtime_destroy(r);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Two workers consuming one queue: the one loaded last delivers; when it goes, the other takes over. */
static const char handover_src[] =
    "export default {\n"
    "  async fetch(request, env) {\n"
    "    await env.Q.send(new URL(request.url).searchParams.get('m'), { contentType: 'text' });\n"
    "    return new Response('sent');\n"
    "  },\n"
    "  async queue(batch, env) { for (const m of batch.messages) await env.REPORT.got(env.WHO, m.body); },\n"
    "};\n";

static ew_worker_t *load_handover(ew_runtime_t *r, seen_t *seen, const char *who)
{
    static const char *const methods[] = {"got"};
    ew_binding_t b = {"REPORT", methods, 1, on_report, NULL, seen, NULL};
    ew_var_t v = {"WHO", who, 0};
    ew_queue_producer_t p = {"Q", "shared", 0};
    ew_queue_consumer_t c;
    ew_queue_consumer_init(&c);
    c.queue = "shared";
    c.max_batch_timeout_ms = 0;
    ew_worker_config_t cfg = {.name = who, .source = handover_src, .source_len = strlen(handover_src),
                              .vars = &v, .nvars = 1, .bindings = &b, .nbindings = 1, .queue_producers = &p,
                              .nqueue_producers = 1, .queue_consumers = &c, .nqueue_consumers = 1};
    ew_worker_t *w;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(r, &cfg, &w, &err), EW_OK, "%s", err.message);
    return w;
}

Test(bindings_queues, the_latest_consumer_delivers_and_another_takes_over)
{
    seen_t seen = {0};
    ew_runtime_t *r;
    cr_assert_eq(ew_runtime_create(NULL, &r, NULL), EW_OK);
    ew_worker_t *a = load_handover(r, &seen, "a");
    ew_worker_t *b = load_handover(r, &seen, "b");
    fetch(a, "http://q/?m=one");
    loop_until(r, &seen, "\"one\"", 1);
    cr_assert_eq(count(&seen, "[\"b\",\"one\"]"), 1, "the worker loaded last delivers");
    ew_worker_destroy(b);
    fetch(a, "http://q/?m=two");
    loop_until(r, &seen, "\"two\"", 1);
    cr_assert_eq(count(&seen, "[\"a\",\"two\"]"), 1, "the remaining consumer took over");
    cr_assert_eq(seen.n, 2);
    ew_runtime_destroy(r);
}

/* Messages older than the retention period (4 days) are deleted without being delivered. */
static double fake_now;

static double fake_clock(void)
{
    return fake_now;
}

static const char retention_src[] =
    "export default {\n"
    "  async fetch(request, env) {\n"
    "    const m = new URL(request.url).searchParams.get('m');\n"
    "    if (m === 'count') return new Response(String((await env.Q.metrics()).backlogCount));\n"
    "    await env.Q.send(m, { contentType: 'text' });\n"
    "    return new Response('sent');\n"
    "  },\n"
    "  async queue(batch, env) { for (const m of batch.messages) await env.REPORT.got(m.body); },\n"
    "};\n";

static ew_worker_t *load_retention(ew_runtime_t *r, seen_t *seen, bool consume)
{
    static const char *const methods[] = {"got"};
    ew_binding_t b = {"REPORT", methods, 1, on_report, NULL, seen, NULL};
    ew_queue_producer_t p = {"Q", "kept", 0};
    ew_queue_consumer_t c;
    ew_queue_consumer_init(&c);
    c.queue = "kept";
    c.max_batch_timeout_ms = 0;
    ew_worker_config_t cfg = {.source = retention_src, .source_len = strlen(retention_src), .bindings = &b,
                              .nbindings = 1, .queue_producers = &p, .nqueue_producers = 1, .queue_consumers = &c,
                              .nqueue_consumers = consume ? 1 : 0};
    ew_worker_t *w;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(r, &cfg, &w, &err), EW_OK, "%s", err.message);
    return w;
}

static char *body_of(ew_worker_t *w, const char *url)
{
    ew_request_t req = {.method = "GET", .url = url};
    ew_response_t *resp;
    cr_assert_eq(ew_worker_fetch_sync(w, &req, &resp, NULL), EW_OK);
    char *text = strdup((const char *) resp->body);
    ew_response_destroy(resp);
    return text;
}

Test(bindings_queues, messages_past_the_retention_period_are_not_delivered)
{
    seen_t seen = {0};
    ew_runtime_t *r;
    cr_assert_eq(ew_runtime_create(NULL, &r, NULL), EW_OK);
    ew__resources_set_clock(r, fake_clock);
    fake_now = 1.7e9;
    ew_worker_t *producer = load_retention(r, &seen, false);
    fetch(producer, "http://q/?m=old");
    fake_now += 4 * 86400 - 10; /* not expired yet */
    fetch(producer, "http://q/?m=younger");
    fake_now += 20;             /* "old" is now 4 days and 10 s old */
    ew_worker_t *consumer = load_retention(r, &seen, true);
    loop_until(r, &seen, "younger", 1);
    char *backlog = body_of(producer, "http://q/?m=count");
    cr_assert_str_eq(backlog, "0", "the expired message was deleted");
    free(backlog);
    cr_assert_eq(count(&seen, "\"old\""), 0, "the expired message was not delivered");
    (void) consumer;
    ew_runtime_destroy(r);
}
