/* fetch() lifetimes through the public API: a fetch still waiting on the network (or streaming its body)
 * when its worker or its runtime is destroyed is cancelled cleanly (the request's callback says EW_ERR_CANCELLED; ASan checks that
 * nothing leaks or is touched after free). The origin is a listening socket that never accepts: the
 * connection completes in the kernel's backlog and the response never comes. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edgeworker.h"

static int listen_fd = -1;
static int port;

static void open_silent_origin(void)
{
    listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(listen_fd, (struct sockaddr *) &a, sizeof(a)), 0);
    cr_assert_eq(listen(listen_fd, 16), 0);
    socklen_t len = sizeof(a);
    getsockname(listen_fd, (struct sockaddr *) &a, &len);
    port = ntohs(a.sin_port);
}

static void close_silent_origin(void)
{
    close(listen_fd);
}

typedef struct outcome {
    int calls;
    ew_status_t status;
} outcome_t;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    outcome_t *o = udata;
    o->calls++;
    o->status = err != NULL ? err->code : EW_OK;
    ew_response_destroy(resp);
}

static const char SCRIPT[] =
    "export default { async fetch(request) {\n"
    "  const r = await fetch(new URL(request.url).searchParams.get('u'));\n"
    "  return new Response(await r.text());\n"
    "} };\n";

/* Loads the worker, dispatches one request whose fetch hangs, and turns the loop until the connection is up. */
static ew_worker_t *start_hanging(ew_runtime_t *rt, outcome_t *o)
{
    ew_worker_config_t wc = {.name = "w", .source = SCRIPT, .source_len = sizeof(SCRIPT) - 1, .filename = "w.mjs"};
    ew_worker_t *w;
    ew_error_t err;
    cr_assert_eq(ew_worker_load(rt, &wc, &w, &err), EW_OK, "%s", err.message);
    char url[128];
    snprintf(url, sizeof(url), "http://localhost/?u=http://127.0.0.1:%d/never", port);
    ew_request_t req = {.method = "GET", .url = url};
    cr_assert_eq(ew_worker_fetch(w, &req, on_response, o), EW_OK);
    for (int i = 0; i < 50; i++)
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_NONBLOCK);
    ew_worker_stats_t st;
    ew_worker_get_stats(w, &st);
    cr_assert_eq(st.pending, 1, "the request waits on its fetch");
    cr_assert_eq(o->calls, 0);
    return w;
}

Test(web_fetch, worker_destroyed_while_fetch_waits, .init = open_silent_origin, .fini = close_silent_origin)
{
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(NULL, &rt, NULL), EW_OK);
    outcome_t o = {0};
    ew_worker_t *w = start_hanging(rt, &o);
    ew_worker_destroy(w);
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.status, EW_ERR_CANCELLED);
    ew_runtime_destroy(rt);
}

Test(web_fetch, runtime_destroyed_while_fetch_waits, .init = open_silent_origin, .fini = close_silent_origin)
{
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(NULL, &rt, NULL), EW_OK);
    outcome_t o = {0};
    (void) start_hanging(rt, &o);
    ew_runtime_destroy(rt);
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.status, EW_ERR_CANCELLED);
}

/* The response head has arrived and the Worker is reading a body that never ends: destroying the worker
 * cancels the body's stream and the network request together. */
Test(web_fetch, worker_destroyed_while_body_streams, .init = open_silent_origin, .fini = close_silent_origin)
{
    ew_runtime_t *rt;
    cr_assert_eq(ew_runtime_create(NULL, &rt, NULL), EW_OK);
    outcome_t o = {0};
    ew_worker_t *w = start_hanging(rt, &o);
    int conn = accept(listen_fd, NULL, NULL);
    cr_assert_geq(conn, 0);
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial body";
    cr_assert_eq(write(conn, head, sizeof(head) - 1), (ssize_t) (sizeof(head) - 1));
    for (int i = 0; i < 50; i++)
        event_base_loop(ew_runtime_event_base(rt), EVLOOP_NONBLOCK);
    cr_assert_eq(o.calls, 0, "the body is still being read");
    ew_worker_destroy(w);
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.status, EW_ERR_CANCELLED);
    char buf[4096];
    ssize_t n;
    while ((n = read(conn, buf, sizeof(buf))) > 0) /* the request the client sent, then its close */
        ;
    cr_assert_eq(n, 0, "the client closed its connection");
    close(conn);
    ew_runtime_destroy(rt);
}
