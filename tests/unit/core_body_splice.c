/* Zero-copy pass-through through the public API: a Worker returns fetch(origin) untouched, the host gets
 * the body with ew_worker_fetch_stream and moves it with ew_body_splice into a TCP socket it reads itself.
 * The origin is a thread of this process answering with a Content-Length body of a known pattern. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edgeworker.h"

static ew_runtime_t *rt;
static ew_worker_t *worker;

/* ---- the origin ---- */

static int origin_fd = -1;
static int origin_port;
static size_t origin_len;         /* bytes announced by Content-Length */
static size_t origin_cut;         /* bytes sent before closing (== origin_len: all) */
static atomic_size_t origin_sent; /* body bytes written so far (all connections) */
static atomic_int origin_accepts;
static pthread_t origin_thread;

static unsigned char pattern(size_t i)
{
    return (unsigned char) (i % 251);
}

static void *origin_main(void *arg)
{
    (void) arg;
    int c;
    while ((c = accept(origin_fd, NULL, NULL)) >= 0) {
        atomic_fetch_add(&origin_accepts, 1);
        char req[4096];
        size_t got = 0;
        for (;;) { /* one request after another on the connection (keep-alive) */
            ssize_t n = 0;
            while ((got < 4 || memmem(req, got, "\r\n\r\n", 4) == NULL) &&
                   (n = recv(c, req + got, sizeof(req) - got, 0)) > 0)
                got += (size_t) n;
            if (n <= 0)
                break;
            got = 0;
            char head[128];
            int hl = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", origin_len);
            if (send(c, head, (size_t) hl, MSG_NOSIGNAL) != hl)
                break;
            unsigned char block[65536];
            size_t off = 0;
            bool ok = true;
            while (ok && off < origin_cut) {
                size_t k = origin_cut - off < sizeof(block) ? origin_cut - off : sizeof(block);
                for (size_t i = 0; i < k; i++)
                    block[i] = pattern(off + i);
                ssize_t w = send(c, block, k, MSG_NOSIGNAL);
                ok = w == (ssize_t) k;
                if (ok) {
                    off += k;
                    atomic_fetch_add(&origin_sent, k);
                }
            }
            if (!ok || origin_cut < origin_len)
                break;
        }
        close(c);
    }
    return NULL;
}

static void start_origin(size_t len, size_t cut)
{
    origin_len = len;
    origin_cut = cut;
    atomic_store(&origin_sent, 0);
    atomic_store(&origin_accepts, 0);
    origin_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(origin_fd, (struct sockaddr *) &a, sizeof(a)), 0);
    cr_assert_eq(listen(origin_fd, 8), 0);
    socklen_t al = sizeof(a);
    getsockname(origin_fd, (struct sockaddr *) &a, &al);
    origin_port = ntohs(a.sin_port);
    pthread_create(&origin_thread, NULL, origin_main, NULL);
}

/* ---- the host's client socket: out (non-blocking, given to ew_body_splice) and the peer we read ---- */

static int out_fd = -1, peer_fd = -1;

static void make_socket_pair(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(l, (struct sockaddr *) &a, sizeof(a)), 0);
    cr_assert_eq(listen(l, 1), 0);
    socklen_t al = sizeof(a);
    getsockname(l, (struct sockaddr *) &a, &al);
    peer_fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(peer_fd, (struct sockaddr *) &a, sizeof(a)), 0);
    out_fd = accept(l, NULL, NULL);
    close(l);
    fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
    fcntl(peer_fd, F_SETFL, fcntl(peer_fd, F_GETFL) | O_NONBLOCK);
}

static const char WORKER[] =
    "export default { async fetch(request) {\n"
    "  const u = new URL(request.url).searchParams.get('u');\n"
    "  if (new URL(request.url).pathname === '/stream') {\n"
    "    const { readable, writable } = new TransformStream();\n"
    "    const w = writable.getWriter(); w.write(new Uint8Array(3)); w.close();\n"
    "    return new Response(readable);\n"
    "  }\n"
    "  if (new URL(request.url).pathname === '/abortable') {\n"
    "    globalThis.aborter = new AbortController();\n"
    "    return fetch(u, { signal: aborter.signal });\n"
    "  }\n"
    "  if (new URL(request.url).pathname === '/abort') { aborter.abort(); return new Response('aborted'); }\n"
    "  return fetch(u);\n"
    "} };\n";

static void setup(void)
{
    ew_runtime_config_t cfg;
    ew_runtime_config_init(&cfg);
    cfg.cpu_ms = 10000;
    cr_assert_eq(ew_runtime_create(&cfg, &rt, NULL), EW_OK);
    ew_error_t err;
    ew_worker_config_t wc = {.name = "t", .source = WORKER, .source_len = strlen(WORKER), .filename = "w.mjs"};
    cr_assert_eq(ew_worker_load(rt, &wc, &worker, &err), EW_OK, "load failed: %s", err.message);
    make_socket_pair();
}

static void teardown(void)
{
    ew_worker_destroy(worker);
    ew_runtime_destroy(rt);
    close(out_fd);
    close(peer_fd);
    if (origin_fd >= 0) {
        shutdown(origin_fd, SHUT_RDWR);
        close(origin_fd);
        pthread_join(origin_thread, NULL);
        origin_fd = -1;
    }
}

TestSuite(core_body_splice, .init = setup, .fini = teardown, .timeout = 60);

/* ---- the host ---- */

typedef struct host {
    ew_response_t *resp;
    bool head, step_done, spliced_once;
    ew_splice_result_t result;
    size_t moved_total;
    size_t received;   /* bytes read from peer_fd */
    bool bad_byte;
    int fulls;
} host_t;

static void on_response(void *udata, ew_response_t *resp, const ew_error_t *err)
{
    (void) err;
    host_t *h = udata;
    h->resp = resp;
    h->head = true;
}

static void on_spliced(void *udata, size_t moved, ew_splice_result_t result)
{
    host_t *h = udata;
    h->moved_total += moved;
    h->result = result;
    h->step_done = true;
    if (result == EW_SPLICE_FULL)
        h->fulls++;
}

static void drain_peer(host_t *h)
{
    unsigned char buf[65536];
    ssize_t n;
    while ((n = recv(peer_fd, buf, sizeof(buf), 0)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != pattern(h->received + (size_t) i))
                h->bad_byte = true;
        h->received += (size_t) n;
    }
}

static void loop_once(void)
{
    event_base_loop(ew_runtime_event_base(rt), EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void run_until(bool *flag)
{
    for (int i = 0; i < 2000000 && !*flag; i++)
        loop_once();
    cr_assert(*flag, "the loop went idle");
}

static void request_path(host_t *h, const char *path)
{
    char url[128];
    snprintf(url, sizeof(url), "http://w%s?u=http://127.0.0.1:%d/body", path, origin_port);
    ew_request_t req = {.method = "GET", .url = url};
    cr_assert_eq(ew_worker_fetch_stream(worker, &req, on_response, h), EW_OK);
    run_until(&h->head);
    cr_assert_not_null(h->resp->body_stream);
}

static void request(host_t *h)
{
    request_path(h, "/");
}

static char readbuf[1 << 20];
static size_t read_len;
static bool read_done;
static ew_status_t read_status;

static void on_chunk(void *udata, const void *data, size_t len, ew_status_t status)
{
    (void) udata;
    if (data == NULL) {
        read_done = true;
        read_status = status;
        return;
    }
    cr_assert(read_len + len <= sizeof(readbuf));
    memcpy(readbuf + read_len, data, len);
    read_len += len;
    read_done = true;
    read_status = EW_OK;
}

/* Sends what a read gave to out_fd (blocking writes are fine here: the peer is drained meanwhile). */
static void send_read_bytes(host_t *h)
{
    size_t off = 0;
    while (off < read_len) {
        ssize_t w = send(out_fd, readbuf + off, read_len - off, MSG_NOSIGNAL);
        if (w > 0)
            off += (size_t) w;
        drain_peer(h);
    }
    read_len = 0;
}

/* Pumps the body the way ew-server does: splice when possible, else read (the first bytes arrive with the
 * head and go through a read), draining the peer as we go. Returns how the body ended. */
static ew_splice_result_t pump(host_t *h)
{
    for (;;) {
        h->step_done = false;
        ew_status_t st = ew_body_splice(h->resp->body_stream, out_fd, 256 * 1024, on_spliced, h);
        if (st == EW_OK) {
            h->spliced_once = true;
            cr_assert_eq(ew_body_splice(h->resp->body_stream, out_fd, 1, on_spliced, h), EW_ERR_STATE,
                         "one step at a time");
            run_until(&h->step_done);
            drain_peer(h);
            if (h->result == EW_SPLICE_END || h->result == EW_SPLICE_FAILED)
                return h->result;
            continue;
        }
        cr_assert_eq(st, EW_ERR_STATE);
        cr_assert(!h->spliced_once, "once spliced, always spliced");
        read_done = false;
        cr_assert_eq(ew_body_read(h->resp->body_stream, on_chunk, h), EW_OK);
        run_until(&read_done);
        if (read_len == 0)
            return read_status == EW_OK ? EW_SPLICE_END : EW_SPLICE_FAILED;
        send_read_bytes(h);
    }
}

Test(core_body_splice, a_passed_on_body_is_spliced_whole_and_the_connection_reused)
{
    size_t n = 8 << 20;
    start_origin(n, n);
    host_t h = {0};
    request(&h);
    cr_assert_eq(h.resp->stream_length, (int64_t) n, "the origin's Content-Length is kept");
    cr_assert(ew_body_splicable(h.resp->body_stream));
    cr_assert_eq(pump(&h), EW_SPLICE_END);
    cr_assert(h.spliced_once, "the body went by splice");
    for (int i = 0; i < 1000 && h.received < n; i++)
        drain_peer(&h);
    cr_assert_eq(h.received, n);
    cr_assert(!h.bad_byte, "the bytes arrived in order, unchanged");
    cr_assert_eq(ew_body_splice(h.resp->body_stream, out_fd, 1024, on_spliced, &h), EW_ERR_STATE, "ended");
    cr_assert_eq(ew_body_read(h.resp->body_stream, on_chunk, &h), EW_ERR_STATE, "ended");
    cr_assert(!ew_body_splicable(h.resp->body_stream));
    ew_response_destroy(h.resp);

    /* The response completed normally: its connection went back to the pool and serves the next one. */
    host_t h2 = {0};
    request(&h2);
    cr_assert_eq(pump(&h2), EW_SPLICE_END);
    ew_response_destroy(h2.resp);
    cr_assert_eq(atomic_load(&origin_accepts), 1);
}

/* Reads (draining the peer) until the body goes by splice, then splices without reading the peer until
 * the socket is full: the state of a client that stopped reading. */
static void fill(host_t *h)
{
    for (;;) {
        h->step_done = false;
        if (ew_body_splice(h->resp->body_stream, out_fd, 1 << 20, on_spliced, h) == EW_OK)
            break;
        read_done = false;
        cr_assert_eq(ew_body_read(h->resp->body_stream, on_chunk, h), EW_OK);
        run_until(&read_done);
        cr_assert(read_len > 0);
        send_read_bytes(h);
    }
    for (;;) {
        run_until(&h->step_done);
        if (h->result == EW_SPLICE_FULL)
            return;
        cr_assert_eq(h->result, EW_SPLICE_MORE);
        h->step_done = false;
        cr_assert_eq(ew_body_splice(h->resp->body_stream, out_fd, 1 << 20, on_spliced, h), EW_OK);
    }
}

Test(core_body_splice, a_client_that_does_not_read_holds_the_origin)
{
    size_t n = 256u << 20;
    start_origin(n, n);
    host_t h = {0};
    request(&h);
    fill(&h);
    /* Nobody reads peer_fd: more steps end FULL at once, and the origin is held by TCP, not by buffering. */
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 1000; i++)
            loop_once();
        usleep(20000);
        h.step_done = false;
        cr_assert_eq(ew_body_splice(h.resp->body_stream, out_fd, 1 << 20, on_spliced, &h), EW_OK);
        run_until(&h.step_done);
        cr_assert_eq(h.result, EW_SPLICE_FULL);
    }
    size_t held = atomic_load(&origin_sent);
    cr_assert_lt(held, (size_t) 64 << 20, "the origin sent %zu of %zu bytes to a client that reads nothing", held, n);
    /* The client reads again: the body arrives whole. */
    cr_assert_eq(pump(&h), EW_SPLICE_END);
    for (int i = 0; i < 1000 && h.received < n; i++)
        drain_peer(&h);
    cr_assert_eq(h.received, n);
    cr_assert(!h.bad_byte);
    ew_response_destroy(h.resp);
}

Test(core_body_splice, a_body_cut_short_fails_the_splice)
{
    size_t n = 4 << 20;
    start_origin(n, n / 2);
    host_t h = {0};
    request(&h);
    cr_assert_eq(pump(&h), EW_SPLICE_FAILED);
    cr_assert(h.spliced_once);
    drain_peer(&h);
    cr_assert_lt(h.received, n);
    ew_response_destroy(h.resp);
}

Test(core_body_splice, destroying_the_response_cancels_a_pending_splice)
{
    size_t n = 64u << 20;
    start_origin(n, n);
    host_t h = {0};
    request(&h);
    fill(&h);
    /* The peer starts reading, a step is pending, and the host goes away: no callback, fd left alone. */
    h.step_done = false;
    cr_assert_eq(ew_body_splice(h.resp->body_stream, out_fd, 1 << 20, on_spliced, &h), EW_OK);
    ew_response_destroy(h.resp);
    drain_peer(&h);
    for (int i = 0; i < 1000; i++)
        loop_once();
    cr_assert(!h.step_done, "no callback after ew_response_destroy");
}

Test(core_body_splice, a_fetch_aborted_between_steps_fails_the_next_one)
{
    size_t n = 256u << 20;
    start_origin(n, n);
    host_t h = {0};
    request_path(&h, "/abortable");
    fill(&h); /* the host now waits for its socket */
    ew_request_t req = {.method = "GET", .url = "http://w/abort"};
    ew_response_t *resp = NULL;
    cr_assert_eq(ew_worker_fetch_sync(worker, &req, &resp, NULL), EW_OK);
    cr_assert_eq(resp->status, 200);
    ew_response_destroy(resp);
    h.step_done = false;
    cr_assert_eq(ew_body_splice(h.resp->body_stream, out_fd, 1 << 20, on_spliced, &h), EW_OK);
    cr_assert(!h.step_done, "never from inside ew_body_splice");
    run_until(&h.step_done);
    cr_assert_eq(h.result, EW_SPLICE_FAILED);
    cr_assert_eq(ew_body_splice(h.resp->body_stream, out_fd, 1 << 20, on_spliced, &h), EW_ERR_STATE, "ended");
    ew_response_destroy(h.resp);
}

Test(core_body_splice, bodies_that_cannot_be_spliced_say_so)
{
    host_t h = {0};
    ew_request_t req = {.method = "GET", .url = "http://w/stream"};
    cr_assert_eq(ew_worker_fetch_stream(worker, &req, on_response, &h), EW_OK);
    run_until(&h.head);
    cr_assert_not_null(h.resp->body_stream);
    ew_body_t *b = h.resp->body_stream;
    cr_assert_eq(ew_body_splice(NULL, out_fd, 1, on_spliced, &h), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_body_splice(b, -1, 1, on_spliced, &h), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_body_splice(b, out_fd, 0, on_spliced, &h), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_body_splice(b, out_fd, 1, NULL, &h), EW_ERR_INVALID_ARG);
    cr_assert_eq(ew_body_splice(b, out_fd, 1024, on_spliced, &h), EW_ERR_STATE, "a TransformStream body");
    cr_assert(!ew_body_splicable(b));
    cr_assert(!ew_body_splicable(NULL));
    read_done = false;
    cr_assert_eq(ew_body_read(b, on_chunk, &h), EW_OK, "a refused splice leaves the body readable");
    run_until(&read_done);
    cr_assert_eq(read_len, 3);
    read_len = 0;
    ew_response_destroy(h.resp);
}
