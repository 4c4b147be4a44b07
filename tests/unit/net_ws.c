/* lib/net/ws.c: the RFC 6455 frame parser (every split point, masking, fragmentation, control frames,
 * close payloads, limits and errors), the frame writer and the handshake's accept key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "net/ws.h"

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Appends a masked (client) or unmasked frame with the given first byte to out; returns its size. */
static size_t frame(uint8_t *out, uint8_t b0, const void *payload, size_t len, bool masked)
{
    size_t n = ew__ws_frame_header(out, b0 & 0x0F, len, masked ? MASK : NULL);
    out[0] = b0;
    memcpy(out + n, payload, len);
    if (masked)
        ew__ws_mask(out + n, len, MASK, 0);
    return n + len;
}

/* Parses all of buf in pieces of `step` bytes; collects the events' payloads joined by '|'. Returns the
 * last result (EVENT/AGAIN or ERROR). */
static int parse_all(ew__ws_parser_t *p, const uint8_t *buf, size_t len, size_t step, char *got, size_t cap)
{
    size_t pos = 0, avail = 0;
    got[0] = '\0';
    int rc = EW__WS_AGAIN;
    while (pos < len) {
        avail = avail + step > len - pos ? len - pos : avail + step;
        size_t used;
        ew__ws_event_t ev;
        rc = ew__ws_parse(p, buf + pos, avail, &used, &ev);
        if (rc == EW__WS_ERROR)
            return rc;
        pos += used;
        avail -= used;
        if (rc == EW__WS_EVENT) {
            char item[64];
            if (ev.type == EW__WS_EV_CLOSE)
                snprintf(item, sizeof(item), "close %d %.*s|", ev.close_code, (int) ev.len, (const char *) ev.data);
            else
                snprintf(item, sizeof(item), "%s%.*s|", ev.type == EW__WS_EV_PING ? "ping " : ev.type == EW__WS_EV_PONG
                         ? "pong " : ev.opcode == EW__WS_OP_TEXT ? "t:" : "b:", (int) ev.len, (const char *) ev.data);
            strncat(got, item, cap - strlen(got) - 1);
        }
    }
    return rc;
}

Test(net_ws, parses_messages_at_every_split_point)
{
    uint8_t buf[512];
    size_t n = 0;
    n += frame(buf + n, 0x81, "hello", 5, true);
    n += frame(buf + n, 0x01, "frag", 4, true);       /* text, not final */
    n += frame(buf + n, 0x89, "pi", 2, true);         /* ping between fragments */
    n += frame(buf + n, 0x80, "ment", 4, true);       /* final continuation */
    n += frame(buf + n, 0x82, "bin", 3, true);
    n += frame(buf + n, 0x88, "\x03\xe8" "bye", 5, true);
    for (size_t step = 1; step <= n; step++) {
        ew__ws_parser_t p;
        ew__ws_parser_init(&p, EW__WS_ROLE_SERVER, 0);
        char got[256];
        int rc = parse_all(&p, buf, n, step, got, sizeof(got));
        cr_assert_neq(rc, EW__WS_ERROR, "step %zu: %s", step, p.error_reason);
        cr_assert_str_eq(got, "t:hello|ping pi|t:fragment|b:bin|close 1000 bye|", "step %zu", step);
        ew__ws_parser_dispose(&p);
    }
}

Test(net_ws, lengths_of_16_and_64_bits)
{
    static uint8_t buf[70000 + 14], payload[70000];
    memset(payload, 'z', sizeof(payload));
    for (size_t len = 125; len <= 70000; len = len < 65536 ? len * 3 : 70000) {
        size_t n = frame(buf, 0x82, payload, len, true);
        cr_assert_eq(n - len, len < 126 ? 6 : len <= 65535 ? 8 : 14);
        ew__ws_parser_t p;
        ew__ws_parser_init(&p, EW__WS_ROLE_SERVER, 0);
        size_t used;
        ew__ws_event_t ev;
        cr_assert_eq(ew__ws_parse(&p, buf, n, &used, &ev), EW__WS_EVENT);
        cr_assert_eq(used, n);
        cr_assert_eq(ev.len, len);
        cr_assert(memcmp(ev.data, payload, len) == 0);
        ew__ws_parser_dispose(&p);
        if (len == 70000)
            break;
    }
}

static int first_error(const uint8_t *buf, size_t n, ew__ws_role_t role, size_t max, const char **why)
{
    ew__ws_parser_t p;
    ew__ws_parser_init(&p, role, max);
    char got[256];
    int rc = parse_all(&p, buf, n, n, got, sizeof(got));
    int code = rc == EW__WS_ERROR ? p.error_code : 0;
    *why = p.error_reason;
    ew__ws_parser_dispose(&p);
    return code;
}

Test(net_ws, rejects_what_a_receiver_must_reject)
{
    struct {
        uint8_t b0;
        const char *payload;
        size_t len;
        bool masked;
        int code;
    } cases[] = {
        {0x81, "x", 1, false, 1002},              /* unmasked client frame */
        {0xC1, "x", 1, true, 1002},               /* RSV1 */
        {0x83, "x", 1, true, 1002},               /* opcode 3 */
        {0x8B, "x", 1, true, 1002},               /* opcode 0xB */
        {0x80, "x", 1, true, 1002},               /* continuation without a message */
        {0x09, "x", 1, true, 1002},               /* fragmented ping */
        {0x88, "\x03", 1, true, 1002},            /* one-byte close */
        {0x88, "\x03\xed", 2, true, 1002},        /* close code 1005 */
        {0x88, "\x03\xee", 2, true, 1002},        /* close code 1006 */
        {0x88, "\x0b\xb7", 2, true, 1002},        /* close code 2999 */
        {0x88, "\x03\xe8\xff", 3, true, 1007},    /* close reason not UTF-8 */
        {0x81, "\xc0\x80", 2, true, 1007},        /* overlong NUL */
        {0x81, "\xf4\x90\x80\x80", 4, true, 1007},/* above U+10FFFF */
        {0x81, "\xe2\x82", 2, true, 1007},        /* truncated sequence */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[64];
        size_t n = frame(buf, cases[i].b0, cases[i].payload, cases[i].len, cases[i].masked);
        const char *why;
        cr_assert_eq(first_error(buf, n, EW__WS_ROLE_SERVER, 0, &why), cases[i].code, "case %zu", i);
    }
    /* A ping longer than 125 bytes. */
    uint8_t buf[256];
    char big[126];
    memset(big, 'p', sizeof(big));
    size_t n = frame(buf, 0x89, big, sizeof(big), true);
    const char *why;
    cr_assert_eq(first_error(buf, n, EW__WS_ROLE_SERVER, 0, &why), 1002);
    cr_assert_str_eq(why, "control frame payload over 125 bytes");
    /* A new text frame inside a fragmented message. */
    n = frame(buf, 0x01, "a", 1, true);
    n += frame(buf + n, 0x81, "b", 1, true);
    cr_assert_eq(first_error(buf, n, EW__WS_ROLE_SERVER, 0, &why), 1002);
    /* A masked frame from a server. */
    n = frame(buf, 0x81, "a", 1, true);
    cr_assert_eq(first_error(buf, n, EW__WS_ROLE_CLIENT, 0, &why), 1002);
    /* A 64-bit length with the top bit set. */
    uint8_t huge[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
    cr_assert_eq(first_error(huge, sizeof(huge), EW__WS_ROLE_SERVER, 0, &why), 1002);
}

Test(net_ws, message_limit_counts_the_reassembled_message)
{
    uint8_t buf[256];
    char data[100];
    memset(data, 'm', sizeof(data));
    size_t n = frame(buf, 0x82, data, 100, true);
    const char *why;
    cr_assert_eq(first_error(buf, n, EW__WS_ROLE_SERVER, 100, &why), 0);
    n = frame(buf, 0x02, data, 60, true);
    n += frame(buf + n, 0x80, data, 41, true);
    cr_assert_eq(first_error(buf, n, EW__WS_ROLE_SERVER, 100, &why), 1009);
    cr_assert_str_eq(why, "message too big");
}

Test(net_ws, empty_messages_and_close_without_code)
{
    uint8_t buf[64];
    size_t n = frame(buf, 0x81, "", 0, true);
    n += frame(buf + n, 0x88, "", 0, true);
    ew__ws_parser_t p;
    ew__ws_parser_init(&p, EW__WS_ROLE_SERVER, 0);
    char got[128];
    cr_assert_neq(parse_all(&p, buf, n, 1, got, sizeof(got)), EW__WS_ERROR);
    cr_assert_str_eq(got, "t:|close 1005 |");
    ew__ws_parser_dispose(&p);
}

Test(net_ws, client_role_reads_unmasked_frames)
{
    uint8_t buf[64];
    size_t n = frame(buf, 0x81, "srv", 3, false);
    ew__ws_parser_t p;
    ew__ws_parser_init(&p, EW__WS_ROLE_CLIENT, 0);
    char got[64];
    cr_assert_neq(parse_all(&p, buf, n, 2, got, sizeof(got)), EW__WS_ERROR);
    cr_assert_str_eq(got, "t:srv|");
    ew__ws_parser_dispose(&p);
}

Test(net_ws, close_codes_and_utf8)
{
    cr_assert(ew__ws_close_code_valid(1000));
    cr_assert(ew__ws_close_code_valid(1011));
    cr_assert(ew__ws_close_code_valid(4999));
    cr_assert(!ew__ws_close_code_valid(1004));
    cr_assert(!ew__ws_close_code_valid(1005));
    cr_assert(!ew__ws_close_code_valid(1015));
    cr_assert(!ew__ws_close_code_valid(5000));
    cr_assert(ew__ws_utf8_valid((const uint8_t *) "h\xc3\xa9\xf0\x9f\x8e\x89", 8));
    cr_assert(!ew__ws_utf8_valid((const uint8_t *) "\xed\xa0\x80", 3));
}

Test(net_ws, accept_key_of_the_rfc_example)
{
    char out[29];
    cr_assert(ew__ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out));
    cr_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    cr_assert(!ew__ws_accept_key("short", 5, out));
    cr_assert(!ew__ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=!", 24, out));
}
