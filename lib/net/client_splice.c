/*
 * client_splice.c — zero-copy pass-through of a response body (lib/net/client.h, ew__net_request_splice):
 * the bytes go from the connection's socket into a pipe and from the pipe to the owner's descriptor with
 * splice(2), so they never enter user space (a proxied body otherwise crosses it twice: recv into the
 * connection's buffer, then a copy on the way to the client's socket).
 *
 *   socket ──splice──> pipe (at most PIPE_BYTES) ──splice──> out_fd
 *
 * Back-pressure: the socket is read into the pipe only when the pipe is empty, so a slow out_fd holds at
 * most one pipe of the body in the kernel and none in the process; the rest stays in the socket buffers
 * and TCP holds the server. The parser is told how many body bytes went by (ew__h1_length_skip); when none
 * is left, it completes the response as if it had seen them (keep-alive, on_done).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "client_internal.h"

/* The pipe's size, asked for with F_SETPIPE_SZ (the default 64 KiB if refused): 1 MiB, the most an
 * unprivileged process may ask (/proc/sys/fs/pipe-max-size), took a proxied 100 MiB in 25% less CPU time
 * than 256 KiB and 40% less than 64 KiB (fewer moves). The pipe holds references to the socket's pages. */
#define PIPE_BYTES (1024 * 1024)

void ew__net_splice_dispose(ew__net_req_t *r)
{
    if (!r->has_pipe)
        return;
    close(r->pipe_rd);
    close(r->pipe_wr);
    r->has_pipe = false;
}

/* Answers the pending step. False when the owner cancelled the request inside (it is freed then). */
static bool report(ew__net_req_t *r, ew__net_splice_result_t result)
{
    ew__net_splice_fn cb = r->splice_cb;
    size_t moved = r->splice_moved;
    r->splice_cb = NULL;
    r->splice_moved = 0;
    r->in_callback = true;
    cb(r->splice_udata, moved, result);
    r->in_callback = false;
    if (r->cancelled) {
        ew__net_req_free(r);
        return false;
    }
    return true;
}

/* Moves bytes until the step's max is reached, out_fd is full, the socket has nothing, or the body ends. */
static void splice_step(ew__net_req_t *r)
{
    conn_t *k = r->conn;
    for (;;) {
        if (r->in_pipe > 0) {
            size_t want = r->splice_max - r->splice_moved;
            if (want == 0) {
                (void) report(r, EW__NET_SPLICE_MORE);
                return;
            }
            ssize_t n = splice(r->pipe_rd, NULL, r->splice_fd, NULL, want < r->in_pipe ? want : r->in_pipe,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                (void) report(r, EW__NET_SPLICE_FULL);
                return;
            }
            if (n <= 0) {
                (void) report(r, EW__NET_SPLICE_OUT_ERR);
                return;
            }
            r->in_pipe -= (size_t) n;
            r->splice_moved += (size_t) n;
            continue;
        }
        uint64_t left = ew__h1_length_left(&k->parser);
        if (left == 0) { /* all of it went out: the parser completes the response (DONE, on_done) */
            if (!report(r, EW__NET_SPLICE_END))
                return;
            r->splicing = false;
            (void) ew__net_conn_parse(k);
            return;
        }
        if (r->splice_moved >= r->splice_max) {
            (void) report(r, EW__NET_SPLICE_MORE);
            return;
        }
        size_t want = left < PIPE_BYTES ? (size_t) left : PIPE_BYTES;
        ssize_t n = splice(k->fd, NULL, r->pipe_wr, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Nothing to read now: report what moved, or wait for the socket. */
            if (r->splice_moved > 0) {
                (void) report(r, EW__NET_SPLICE_MORE);
                return;
            }
            event_add(k->rev, NULL);
            return;
        }
        if (n <= 0) { /* EOF or a reset before Content-Length bytes: the body was cut short */
            if (!report(r, EW__NET_SPLICE_LOST))
                return;
            ew__net_req_fail(r, EW__NET_ERR_LOST, "Network connection lost.");
            return;
        }
        r->got_bytes = true;
        ew__h1_length_skip(&k->parser, (uint64_t) n);
        r->in_pipe += (size_t) n;
    }
}

void ew__net_splice_on_read(conn_t *k)
{
    ew__net_req_t *r = k->req;
    if (r->splice_cb == NULL) { /* no step pending: leave the bytes in the socket (back-pressure) */
        event_del(k->rev);
        return;
    }
    splice_step(r);
}

bool ew__net_request_splice_able(const ew__net_req_t *r)
{
    const conn_t *k = r->conn;
    if (r->failed || r->cancelled || k == NULL || k->h2 || k->tls != NULL || k->connecting || k->handshaking)
        return false;
    return r->splicing || ew__h1_length_left(&k->parser) > 0;
}

void ew__net_request_splice_stop(ew__net_req_t *r)
{
    r->splice_cb = NULL;
    r->splice_moved = 0;
}

bool ew__net_request_splice(ew__net_req_t *r, int out_fd, size_t max, ew__net_splice_fn cb, void *udata)
{
    conn_t *k = r->conn;
    if (r->splice_cb != NULL || cb == NULL || max == 0 || out_fd < 0 || !ew__net_request_splice_able(r) ||
        r->out_off < r->out_len)
        return false;
    if (!r->splicing && k->in_off < k->in_len)
        return false; /* bytes of the body wait in the buffer: they go through on_body first */
    if (!r->has_pipe) {
        int p[2];
        if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
            return false;
        (void) fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES); /* fewer, larger moves; the default works too */
        r->pipe_rd = p[0];
        r->pipe_wr = p[1];
        r->has_pipe = true;
    }
    r->splicing = true;
    r->splice_fd = out_fd;
    r->splice_max = max;
    r->splice_moved = 0;
    r->splice_cb = cb;
    r->splice_udata = udata;
    /* The step runs from the loop: the owner never sees its callback from inside this call. */
    event_add(k->rev, NULL);
    event_active(k->rev, EV_READ, 1);
    return true;
}
