/*
 * libFuzzer harness for lib/net/http1.c (not built by default). Each input is parsed twice, once in one
 * piece and once cut into pieces chosen by the input's header bytes, each call seeing a fresh, exactly sized
 * copy of the unused bytes; the two digests of the event stream must match, and every event must keep the
 * parser's promises (used <= len, slices inside the buffer, no CR/LF/NUL in a field value).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib/net tests/fuzz/http1_fuzz.c lib/net/http1.c \
 *         -o http1_fuzz && ./http1_fuzz -max_len=4096
 *
 * Input layout: byte 0 = flags (bit 0 response mode, bits 1-2 request method HEAD/CONNECT, bit 3 small
 * limits), byte 1 = seed for the cut points, then the message bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

static const ew__h1_config_t small = {
    .max_head_bytes = 128, .max_target_len = 16, .max_headers = 4, .max_body_bytes = 64};

typedef struct digest {
    uint64_t events; /* FNV-1a over event records */
    uint64_t body;   /* FNV-1a over the body bytes not yet folded into events */
    uint64_t nbody;
} digest_t;

static void mix(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        *h = (*h ^ b[k]) * 0x100000001b3ull;
}

static void check_fields(const ew__h1_header_t *f, size_t n, digest_t *d)
{
    for (size_t k = 0; k < n; k++) {
        for (uint32_t i = 0; i < f[k].value_len; i++)
            if (f[k].value[i] == '\r' || f[k].value[i] == '\n' || f[k].value[i] == 0)
                __builtin_trap();
        if (f[k].name_len == 0)
            __builtin_trap();
        mix(&d->events, f[k].name, f[k].name_len);
        mix(&d->events, ":", 1);
        mix(&d->events, f[k].value, f[k].value_len);
    }
}

static void record(const ew__h1_parser_t *p, int ev, digest_t *d)
{
    const ew__h1_message_t *m = &p->msg;
    int64_t facts[10] = {ev, m->status, m->version_minor, m->framing, (int64_t)m->content_length,
                         m->keep_alive, m->expect_continue, m->upgrade, p->error_status, (int64_t)d->nbody};

    mix(&d->events, &d->body, sizeof d->body);
    d->body = 0xcbf29ce484222325ull;
    mix(&d->events, facts, sizeof facts);
    d->nbody = 0;
    if (ev == EW__H1_HEAD) {
        mix(&d->events, m->method.ptr, m->method.len);
        mix(&d->events, m->target.ptr, m->target.len);
        mix(&d->events, m->reason.ptr, m->reason.len);
        check_fields(m->headers, m->nheaders, d);
    } else if (ev == EW__H1_DONE) {
        check_fields(m->trailers, m->ntrailers, d);
    }
}

/* Feeds data[0, n) in pieces ending at the cut points (none: one piece). */
static uint64_t run(const uint8_t *data, size_t n, unsigned flags, unsigned seed, int cut)
{
    static const char *const methods[4] = {"GET", "HEAD", "CONNECT", "POST"};
    ew__h1_parser_t p;
    digest_t d = {0xcbf29ce484222325ull, 0xcbf29ce484222325ull, 0};
    size_t start = 0, arrived = cut ? (n ? seed % (n + 1) : 0) : n;
    bool stop = false;

    if (ew__h1_parser_init(&p, flags & 1 ? EW__H1_RESPONSE : EW__H1_REQUEST, flags & 8 ? &small : NULL) != 0)
        abort();
    ew__h1_parser_set_request(&p, methods[(flags >> 1) & 3], strlen(methods[(flags >> 1) & 3]));
    while (!stop) {
        size_t len = arrived - start, used;
        char *buf = malloc(len ? len : 1);
        ew__h1_slice_t body;
        int ev;

        memcpy(buf, data + start, len);
        ev = ew__h1_parse(&p, buf, len, &used, &body);
        if (used > len)
            __builtin_trap();
        if (ev == EW__H1_BODY) {
            if (body.len == 0 || body.ptr < buf || body.ptr + body.len > buf + used)
                __builtin_trap();
            mix(&d.body, body.ptr, body.len);
            d.nbody += body.len;
        } else if (ev != EW__H1_AGAIN) {
            record(&p, ev, &d);
        } else if (arrived < n) {
            seed = seed * 1103515245u + 12345u;
            arrived += 1 + (seed >> 16) % (n - arrived);
        } else {
            record(&p, 100 + ew__h1_finish(&p), &d);
            stop = true;
        }
        free(buf);
        start += used;
        stop = stop || ev == EW__H1_ERROR;
    }
    ew__h1_parser_dispose(&p);
    return d.events;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (run(data + 2, size - 2, data[0], data[1], 0) != run(data + 2, size - 2, data[0], data[1], 1))
        __builtin_trap();
    return 0;
}
