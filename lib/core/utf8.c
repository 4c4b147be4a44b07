/*
 * utf8.c — strings across the C/Duktape boundary.
 *
 * Duktape stores strings as CESU-8-like "extended UTF-8": an astral character such as an emoji is a
 * surrogate pair of two 3-byte sequences (ED A0..AF xx, ED B0..BF xx), which is what JavaScript code sees
 * as two UTF-16 code units. Pushing a real 4-byte UTF-8 sequence from C would instead create ONE code unit
 * (wrong .length, wrong charCodeAt), and reading a string back gives CESU-8, which no HTTP client accepts
 * (DUKTAPE-NOTES.md, "Strings at the C boundary"). Every string crossing the boundary goes through here.
 * Both directions take a fast path when the bytes need no change, which is the common case (ASCII).
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid (overlong, surrogate, > U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC2)
        return 0;
    if (c < 0xE0)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (c == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xF4 && s[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

bool ew__utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs 8 bytes at a time: every string crossing the C boundary is scanned here. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i >= len)
            break;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(s + i, len - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

/* Emits the 3-byte encoding of a BMP code unit (used for surrogates and U+FFFD). */
static unsigned char *put3(unsigned char *o, unsigned cp)
{
    *o++ = (unsigned char) (0xE0 | (cp >> 12));
    *o++ = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
    *o++ = (unsigned char) (0x80 | (cp & 0x3F));
    return o;
}

/* Maximal-subpart replacement is what TextDecoder does; one U+FFFD per invalid lead byte is close enough
 * for the boundary and never loses valid text. */
void ew__push_utf8(duk_context *ctx, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len && s[i] < 0x80)
        i++;
    if (i == len || ew__utf8_valid(str + i, len - i)) {
        bool astral = false;
        for (size_t j = i; j < len; j++) {
            if (s[j] >= 0xF0) {
                astral = true;
                break;
            }
        }
        if (!astral) {
            duk_push_lstring(ctx, str, len);
            return;
        }
    }
    /* Slow path: at most 3 output bytes per input byte (an invalid byte becomes U+FFFD). */
    unsigned char *out = duk_push_fixed_buffer(ctx, len * 3 + 1);
    unsigned char *o = out;
    memcpy(o, s, i);
    o += i;
    while (i < len) {
        if (s[i] < 0x80) {
            *o++ = s[i++];
            continue;
        }
        size_t k = utf8_seq(s + i, len - i);
        if (k == 0) {
            o = put3(o, 0xFFFD);
            i++;
        } else if (k == 4) {
            unsigned cp = ((unsigned) (s[i] & 0x07) << 18) | ((unsigned) (s[i + 1] & 0x3F) << 12) |
                          ((unsigned) (s[i + 2] & 0x3F) << 6) | (unsigned) (s[i + 3] & 0x3F);
            cp -= 0x10000;
            o = put3(o, 0xD800 | (cp >> 10));
            o = put3(o, 0xDC00 | (cp & 0x3FF));
            i += 4;
        } else {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        }
    }
    duk_push_lstring(ctx, (const char *) out, (duk_size_t) (o - out));
    duk_remove(ctx, -2);
}

/* Length of a Duktape-internal sequence at s (which may encode surrogates, or code points above U+10FFFF
 * in Duktape's extended forms); 0 if the lead byte is not a valid lead. */
static size_t internal_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t k = c < 0x80 ? 1 : c < 0xC0 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : c < 0xFC ? 5 : c < 0xFE ? 6 : 7;
    if (k == 0 || k > n)
        return 0;
    return k;
}

const char *ew__to_utf8(duk_context *ctx, duk_idx_t idx, size_t *out_len)
{
    idx = duk_require_normalize_index(ctx, idx);
    duk_size_t len;
    const unsigned char *s = (const unsigned char *) duk_to_lstring(ctx, idx, &len);
    bool clean = ew__utf8_valid((const char *) s, len);
    if (clean) {
        if (out_len)
            *out_len = len;
        return (const char *) s;
    }
    /* A pair (6 bytes) becomes 4 and a lone surrogate stays 3, but a stray byte (a string made from raw
     * bytes) becomes a 3-byte U+FFFD: reserve for the worst case. */
    unsigned char *out = duk_push_fixed_buffer(ctx, len * 3 + 1);
    unsigned char *o = out;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            *o++ = s[i++];
            continue;
        }
        size_t k = internal_seq(s + i, len - i);
        if (k == 3 && s[i] == 0xED && s[i + 1] >= 0xA0) {
            unsigned hi = ((unsigned) (s[i] & 0x0F) << 12) | ((unsigned) (s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
            if (hi < 0xDC00 && i + 6 <= len && s[i + 3] == 0xED && s[i + 4] >= 0xB0) {
                unsigned lo = ((unsigned) (s[i + 3] & 0x0F) << 12) | ((unsigned) (s[i + 4] & 0x3F) << 6) |
                              (s[i + 5] & 0x3F);
                unsigned cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                *o++ = (unsigned char) (0xF0 | (cp >> 18));
                *o++ = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
                *o++ = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
                *o++ = (unsigned char) (0x80 | (cp & 0x3F));
                i += 6;
            } else {
                o = put3(o, 0xFFFD);
                i += 3;
            }
        } else if (k != 0 && k <= 4 && utf8_seq(s + i, len - i) == k) {
            memcpy(o, s + i, k);
            o += k;
            i += k;
        } else {
            o = put3(o, 0xFFFD);
            i += k ? k : 1;
        }
    }
    *o = '\0';
    if (out_len)
        *out_len = (size_t) (o - out);
    duk_replace(ctx, idx);
    return (const char *) duk_get_buffer_data(ctx, idx, NULL);
}
