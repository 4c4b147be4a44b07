/*
 * libFuzzer harness for lib/net/ws.c's frame parser (not built by default). Each input is parsed twice,
 * once whole and once cut into pieces chosen by the input's second byte, each call seeing a fresh, exactly
 * sized copy of the unused bytes; the digests of the two event streams (and their final results) must
 * match, and every event must keep the parser's promises: used <= len, text messages and close reasons
 * valid UTF-8, messages within the limit, control payloads at most 125 bytes, close codes sendable.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Ilib/net tests/fuzz/ws_fuzz.c lib/net/ws.c \
 *         -lmbedcrypto -o ws_fuzz && ./ws_fuzz -max_len=4096
 *
 * Input layout: byte 0 = flags (bit 0 client role, bit 1 a 64-byte message limit), byte 1 = seed for the
 * cut points, then the stream's bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t k = 0; k < n; k++)
        h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}

/* Parses data in pieces (step 0 = all at once); returns the digest of the events and the end state. */
static uint64_t run(const uint8_t *data, size_t len, uint8_t flags, uint8_t seed)
{
    ew__ws_parser_t p;
    size_t max = (flags & 2) ? 64 : 0;
    ew__ws_parser_init(&p, (flags & 1) ? EW__WS_ROLE_CLIENT : EW__WS_ROLE_SERVER, max);
    uint64_t h = 0xcbf29ce484222325ull;
    size_t pos = 0, avail = 0;
    unsigned s = seed;
    int rc = EW__WS_AGAIN;
    while (pos < len) {
        size_t step = seed == 0 ? len : 1 + (s = s * 1103515245u + 12345u) % 7;
        avail = avail + step > len - pos ? len - pos : avail + step;
        uint8_t *copy = malloc(avail ? avail : 1);
        memcpy(copy, data + pos, avail);
        size_t used = 0;
        ew__ws_event_t ev;
        rc = ew__ws_parse(&p, copy, avail, &used, &ev);
        if (used > avail)
            abort();
        if (rc == EW__WS_EVENT) {
            if (ev.type == EW__WS_EV_MESSAGE && ev.opcode == EW__WS_OP_TEXT && !ew__ws_utf8_valid(ev.data, ev.len))
                abort();
            if (ev.type == EW__WS_EV_MESSAGE && ev.len > (max ? max : (size_t) 1 << 20))
                abort();
            if ((ev.type == EW__WS_EV_PING || ev.type == EW__WS_EV_PONG) && ev.len > 125)
                abort();
            if (ev.type == EW__WS_EV_CLOSE &&
                ((ev.close_code != 1005 && !ew__ws_close_code_valid(ev.close_code)) ||
                 !ew__ws_utf8_valid(ev.data, ev.len)))
                abort();
            int rec[2] = {(int) ev.type, ev.type == EW__WS_EV_CLOSE ? ev.close_code : ev.opcode};
            h = mix(h, rec, sizeof(rec));
            h = mix(h, ev.data, ev.len);
        }
        free(copy);
        pos += used;
        avail -= used;
        if (rc == EW__WS_ERROR)
            break;
        if (rc == EW__WS_AGAIN && used == 0 && pos + avail >= len)
            break;
    }
    h = mix(h, &rc, sizeof(rc));
    if (rc == EW__WS_ERROR)
        h = mix(h, &p.error_code, sizeof(p.error_code));
    ew__ws_parser_dispose(&p);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0], seed = data[1];
    if (run(data + 2, size - 2, flags, 0) != run(data + 2, size - 2, flags, seed ? seed : 1))
        abort();
    return 0;
}
