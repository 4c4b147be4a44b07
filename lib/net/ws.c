/*
 * ws.c — RFC 6455 WebSocket framing: the receiving side's parser (every check section 5 asks of an
 * endpoint: masking direction, reserved bits, opcodes, control-frame size and fragmentation, continuation
 * order, message size, UTF-8 of text and close reasons, close codes), the sending side's frame header and
 * masking, and the handshake's Sec-WebSocket-Accept. ew-server's server/ws.c drives it for upgraded
 * connections; the design is in lib/net/ws.h.
 *
 * Frame layout (section 5.2), for reference while reading parse_header():
 *
 *    byte 0: FIN RSV1 RSV2 RSV3 opcode(4)      byte 1: MASK len7
 *    len7 = 126: 16-bit length follows; 127: 64-bit length (MSB 0); then the 4-byte mask key when MASK
 */
#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

#define DEFAULT_MAX_MESSAGE ((size_t) 1 << 20)

void ew__ws_parser_init(ew__ws_parser_t *p, ew__ws_role_t role, size_t max_message)
{
    memset(p, 0, sizeof(*p));
    p->role = role;
    p->max_message = max_message ? max_message : DEFAULT_MAX_MESSAGE;
}

void ew__ws_parser_dispose(ew__ws_parser_t *p)
{
    free(p->msg);
    p->msg = NULL;
    p->msg_len = p->msg_cap = 0;
}

static int fail(ew__ws_parser_t *p, int code, const char *reason)
{
    p->error_code = code;
    p->error_reason = reason;
    return EW__WS_ERROR;
}

bool ew__ws_close_code_valid(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

bool ew__ws_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

void ew__ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        data[i] ^= mask[(offset + i) & 3];
}

size_t ew__ws_frame_header(uint8_t *out, int opcode, uint64_t len, const uint8_t *mask)
{
    size_t n = 0;
    out[n++] = (uint8_t) (0x80 | (opcode & 0x0F));
    uint8_t mbit = mask ? 0x80 : 0;
    if (len < 126) {
        out[n++] = (uint8_t) (mbit | len);
    } else if (len <= 0xFFFF) {
        out[n++] = (uint8_t) (mbit | 126);
        out[n++] = (uint8_t) (len >> 8);
        out[n++] = (uint8_t) len;
    } else {
        out[n++] = (uint8_t) (mbit | 127);
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t) (len >> (8 * i));
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

/* Header size implied by its first two bytes. */
static size_t header_size(const uint8_t *h)
{
    size_t n = 2;
    uint8_t len7 = h[1] & 0x7F;
    n += len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    return n + ((h[1] & 0x80) ? 4 : 0);
}

/* Checks the first two bytes against the frame rules that do not need the length. */
static int check_start(ew__ws_parser_t *p)
{
    uint8_t b0 = p->hdr[0], b1 = p->hdr[1], op = b0 & 0x0F;
    if (b0 & 0x70)
        return fail(p, EW__WS_CLOSE_PROTOCOL, "reserved bits set without a negotiated extension");
    if (op != EW__WS_OP_CONT && op != EW__WS_OP_TEXT && op != EW__WS_OP_BINARY && op != EW__WS_OP_CLOSE &&
        op != EW__WS_OP_PING && op != EW__WS_OP_PONG)
        return fail(p, EW__WS_CLOSE_PROTOCOL, "unknown opcode");
    if (op & 0x8) {
        if (!(b0 & 0x80))
            return fail(p, EW__WS_CLOSE_PROTOCOL, "fragmented control frame");
        if ((b1 & 0x7F) > 125)
            return fail(p, EW__WS_CLOSE_PROTOCOL, "control frame payload over 125 bytes");
    } else if (op == EW__WS_OP_CONT && p->msg_opcode == 0) {
        return fail(p, EW__WS_CLOSE_PROTOCOL, "continuation frame without a message to continue");
    } else if (op != EW__WS_OP_CONT && p->msg_opcode != 0) {
        return fail(p, EW__WS_CLOSE_PROTOCOL, "new data frame inside a fragmented message");
    }
    bool masked = (b1 & 0x80) != 0;
    if (p->role == EW__WS_ROLE_SERVER && !masked)
        return fail(p, EW__WS_CLOSE_PROTOCOL, "client frame not masked");
    if (p->role == EW__WS_ROLE_CLIENT && masked)
        return fail(p, EW__WS_CLOSE_PROTOCOL, "server frame masked");
    return EW__WS_AGAIN;
}

/* Decodes the complete header into the frame fields and reserves room for a data frame's payload. */
static int parse_header(ew__ws_parser_t *p)
{
    const uint8_t *h = p->hdr;
    p->opcode = h[0] & 0x0F;
    p->fin = (h[0] & 0x80) != 0;
    p->masked = (h[1] & 0x80) != 0;
    uint64_t len = h[1] & 0x7F;
    size_t k = 2;
    if (len == 126) {
        len = ((uint64_t) h[2] << 8) | h[3];
        k = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | h[2 + i];
        k = 10;
        if (len >> 63)
            return fail(p, EW__WS_CLOSE_PROTOCOL, "frame length with the most significant bit set");
    }
    if (p->masked)
        memcpy(p->mask, h + k, 4);
    p->remaining = len;
    p->frame_pos = 0;
    p->ctl_len = 0;
    if (!(p->opcode & 0x8)) {
        if (p->opcode != EW__WS_OP_CONT)
            p->msg_opcode = p->opcode;
        if (len > p->max_message - p->msg_len)
            return fail(p, EW__WS_CLOSE_TOO_BIG, "message too big");
        size_t need = p->msg_len + (size_t) len;
        if (need > p->msg_cap) {
            size_t cap = p->msg_cap ? p->msg_cap : 256;
            while (cap < need)
                cap *= 2;
            uint8_t *m = realloc(p->msg, cap);
            if (m == NULL)
                return fail(p, EW__WS_CLOSE_INTERNAL, "out of memory");
            p->msg = m;
            p->msg_cap = cap;
        }
    }
    return EW__WS_AGAIN;
}

/* The frame whose payload has just been read completely: an event, or AGAIN for a non-final fragment. */
static int frame_end(ew__ws_parser_t *p, ew__ws_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    switch (p->opcode) {
    case EW__WS_OP_PING:
    case EW__WS_OP_PONG:
        ev->type = p->opcode == EW__WS_OP_PING ? EW__WS_EV_PING : EW__WS_EV_PONG;
        ev->data = p->ctl;
        ev->len = p->ctl_len;
        return EW__WS_EVENT;
    case EW__WS_OP_CLOSE:
        ev->type = EW__WS_EV_CLOSE;
        ev->close_code = EW__WS_CLOSE_NO_STATUS;
        if (p->ctl_len == 1)
            return fail(p, EW__WS_CLOSE_PROTOCOL, "close frame with a one-byte payload");
        if (p->ctl_len >= 2) {
            ev->close_code = (p->ctl[0] << 8) | p->ctl[1];
            if (!ew__ws_close_code_valid(ev->close_code))
                return fail(p, EW__WS_CLOSE_PROTOCOL, "invalid close code");
            if (!ew__ws_utf8_valid(p->ctl + 2, p->ctl_len - 2))
                return fail(p, EW__WS_CLOSE_INVALID_DATA, "close reason is not valid UTF-8");
            ev->data = p->ctl + 2;
            ev->len = p->ctl_len - 2;
        }
        return EW__WS_EVENT;
    default:
        if (!p->fin)
            return EW__WS_AGAIN;
        if (p->msg_opcode == EW__WS_OP_TEXT && !ew__ws_utf8_valid(p->msg, p->msg_len))
            return fail(p, EW__WS_CLOSE_INVALID_DATA, "text message is not valid UTF-8");
        ev->type = EW__WS_EV_MESSAGE;
        ev->opcode = p->msg_opcode;
        ev->data = p->msg ? p->msg : (const uint8_t *) "";
        ev->len = p->msg_len;
        p->msg_done = true;
        return EW__WS_EVENT;
    }
}

int ew__ws_parse(ew__ws_parser_t *p, const uint8_t *buf, size_t len, size_t *used, ew__ws_event_t *ev)
{
    size_t pos = 0;
    int rc = EW__WS_AGAIN;
    if (p->msg_done) { /* the previous event handed out the message: start a new one */
        p->msg_done = false;
        p->msg_len = 0;
        p->msg_opcode = 0;
    }
    for (;;) {
        if (!p->in_payload) {
            size_t need = p->hdr_len >= 2 ? header_size(p->hdr) : 2;
            while (p->hdr_len < need && pos < len) {
                p->hdr[p->hdr_len++] = buf[pos++];
                if (p->hdr_len == 2) {
                    if ((rc = check_start(p)) != EW__WS_AGAIN)
                        goto out;
                    need = header_size(p->hdr);
                }
            }
            if (p->hdr_len < need)
                goto out;
            p->hdr_len = 0;
            if ((rc = parse_header(p)) != EW__WS_AGAIN)
                goto out;
            p->in_payload = true;
        }
        size_t take = (size_t) (p->remaining < len - pos ? p->remaining : len - pos);
        if (take > 0) {
            uint8_t *dst = (p->opcode & 0x8) ? p->ctl + p->ctl_len : p->msg + p->msg_len;
            memcpy(dst, buf + pos, take);
            if (p->masked)
                ew__ws_mask(dst, take, p->mask, p->frame_pos);
            if (p->opcode & 0x8)
                p->ctl_len += take;
            else
                p->msg_len += take;
        }
        pos += take;
        p->remaining -= take;
        p->frame_pos += take;
        if (p->remaining > 0)
            goto out;
        p->in_payload = false;
        if ((rc = frame_end(p, ev)) != EW__WS_AGAIN)
            goto out;
    }
out:
    *used = pos;
    return rc;
}

bool ew__ws_accept_key(const char *key, size_t key_len, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    uint8_t raw[32];
    size_t raw_len = 0;
    if (key_len != 24 || mbedtls_base64_decode(raw, sizeof(raw), &raw_len, (const unsigned char *) key, key_len) != 0 ||
        raw_len != 16)
        return false;
    char joined[24 + sizeof(guid)];
    memcpy(joined, key, 24);
    memcpy(joined + 24, guid, sizeof(guid) - 1);
    uint8_t digest[20];
    if (mbedtls_sha1_ret((const unsigned char *) joined, 24 + sizeof(guid) - 1, digest) != 0)
        return false;
    size_t olen = 0;
    if (mbedtls_base64_encode((unsigned char *) out, 29, &olen, digest, sizeof(digest)) != 0 || olen != 28)
        return false;
    out[28] = '\0';
    return true;
}
