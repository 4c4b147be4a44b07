/*
 * encoding.c — atob/btoa (HTML, forgiving-base64), TextDecoder (Encoding Standard) and
 * TextEncoder.prototype.encodeInto, in C.
 *
 * Duktape 2.7's own TextDecoder accepts any label and always decodes UTF-8, so it is replaced here by one
 * that implements the Encoding Standard's decoders for UTF-8, UTF-16LE/BE and windows-1252 (the decoder
 * behind the labels latin1, iso-8859-1, ascii, ...), with fatal, ignoreBOM and streaming. Duktape's
 * TextEncoder is kept (its encode() is correct) and gets encodeInto(). Decoders write Duktape's internal
 * string form directly: UTF-16 code units as 1-3 byte sequences, astral characters as two surrogate
 * sequences (DUKTAPE-NOTES.md "Strings at the C boundary"). A decoder's streaming state is one packed
 * integer in a hidden property, so a TextDecoder is a plain object with no C allocation behind it.
 * The base64 codec is shared with crypto's JWK code (encoding.h). Installed by ew__web_init() (web.c).
 */
#include <string.h>

#include "core/builtins.h"
#include "encoding.h"

/* ---------------------------------------------------------------------------------------------------------
 * Base64 (RFC 4648 sections 4 and 5; WHATWG infra "forgiving-base64 decode")
 */

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t ew__base64_encode(const uint8_t *in, size_t len, char *out, bool url)
{
    const char *abc = url ? b64_url : b64_std;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t) in[i] << 16 | (i + 1 < len ? (uint32_t) in[i + 1] << 8 : 0);
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = abc[(v >> 6) & 63];
        else if (!url)
            out[o++] = '=';
        if (!url)
            out[o++] = '=';
    }
    return o;
}

/* Value of base64 character c in the chosen alphabet, or -1. */
static int b64_value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

static bool is_ascii_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

ptrdiff_t ew__base64_decode(const char *s, size_t len, uint8_t *out, bool url)
{
    size_t data = 0, pad = 0, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) s[i];
        if (!url && is_ascii_ws(c))
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c, url);
        if (v < 0 || pad > 0)
            return -1; /* not in the alphabet, or data after padding */
        data++;
        acc = (acc << 6 | (uint32_t) v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t) (acc >> bits);
        }
    }
    /* Padding is optional, but when present it must complete a quantum of 4 with 1 or 2 '='. */
    if (data % 4 == 1 || pad > 2 || (pad > 0 && (data + pad) % 4 != 0))
        return -1;
    return (ptrdiff_t) o;
}

/* atob(data): the bytes become the code units of the result (Latin-1). */
static duk_ret_t enc_atob(duk_context *ctx)
{
    if (duk_get_top(ctx) < 1)
        return duk_type_error(ctx, "Failed to execute 'atob': 1 argument required, but only 0 present.");
    duk_size_t len;
    const char *s = duk_to_lstring(ctx, 0, &len);
    uint8_t *bytes = duk_push_buffer(ctx, len / 4 * 3 + 3, 0);
    ptrdiff_t n = ew__base64_decode(s, len, bytes, false);
    if (n < 0)
        return ew__domexception_throw(ctx, "InvalidCharacterError",
                                      "The string to be decoded is not correctly encoded.");
    uint8_t *out = duk_push_buffer(ctx, (size_t) n * 2, 0);
    size_t o = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        if (bytes[i] < 0x80) {
            out[o++] = bytes[i];
        } else {
            out[o++] = (uint8_t) (0xC0 | bytes[i] >> 6);
            out[o++] = (uint8_t) (0x80 | (bytes[i] & 0x3F));
        }
    }
    duk_push_lstring(ctx, (const char *) out, o);
    return 1;
}

/* btoa(data): every code unit must be at most U+00FF. Duktape's internal form of such a string has only
 * 1-byte sequences and 2-byte sequences led by C2 or C3. */
static duk_ret_t enc_btoa(duk_context *ctx)
{
    if (duk_get_top(ctx) < 1)
        return duk_type_error(ctx, "Failed to execute 'btoa': 1 argument required, but only 0 present.");
    duk_size_t len;
    const uint8_t *s = (const uint8_t *) duk_to_lstring(ctx, 0, &len);
    uint8_t *bytes = duk_push_buffer(ctx, len, 0);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < 0x80) {
            bytes[n++] = s[i];
        } else if ((s[i] == 0xC2 || s[i] == 0xC3) && i + 1 < len) {
            bytes[n++] = (uint8_t) ((s[i] & 0x1F) << 6 | (s[i + 1] & 0x3F));
            i++;
        } else {
            return ew__domexception_throw(ctx, "InvalidCharacterError",
                                          "The string to be encoded contains characters outside of the Latin1 range.");
        }
    }
    char *out = duk_push_buffer(ctx, EW__BASE64_ENCODED_LEN(n), 0);
    size_t o = ew__base64_encode(bytes, n, out, false);
    duk_push_lstring(ctx, out, o);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Decoders (Encoding Standard sections 8.1, 9, 10): bytes in, Duktape's internal string form out.
 */

enum { ENC_UTF8 = 0, ENC_UTF16LE = 1, ENC_UTF16BE = 2, ENC_1252 = 3 };
static const char *const enc_names[] = {"utf-8", "utf-16le", "utf-16be", "windows-1252"};

/* Labels of the supported encodings (Encoding Standard section 4.2), sorted by encoding. */
static const struct {
    const char *label;
    uint8_t enc;
} labels[] = {
    {"unicode-1-1-utf-8", ENC_UTF8}, {"unicode11utf8", ENC_UTF8}, {"unicode20utf8", ENC_UTF8},
    {"utf-8", ENC_UTF8}, {"utf8", ENC_UTF8}, {"x-unicode20utf8", ENC_UTF8},
    {"csunicode", ENC_UTF16LE}, {"iso-10646-ucs-2", ENC_UTF16LE}, {"ucs-2", ENC_UTF16LE},
    {"unicode", ENC_UTF16LE}, {"unicodefeff", ENC_UTF16LE}, {"utf-16", ENC_UTF16LE}, {"utf-16le", ENC_UTF16LE},
    {"unicodefffe", ENC_UTF16BE}, {"utf-16be", ENC_UTF16BE},
    {"ansi_x3.4-1968", ENC_1252}, {"ascii", ENC_1252}, {"cp1252", ENC_1252}, {"cp819", ENC_1252},
    {"csisolatin1", ENC_1252}, {"ibm819", ENC_1252}, {"iso-8859-1", ENC_1252}, {"iso-ir-100", ENC_1252},
    {"iso8859-1", ENC_1252}, {"iso88591", ENC_1252}, {"iso_8859-1", ENC_1252}, {"iso_8859-1:1987", ENC_1252},
    {"l1", ENC_1252}, {"latin1", ENC_1252}, {"us-ascii", ENC_1252}, {"windows-1252", ENC_1252},
    {"x-cp1252", ENC_1252},
};

/* windows-1252 bytes 0x80-0x9F (index-single-byte); other bytes map to themselves. */
static const uint16_t cp1252_high[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* Streaming state, one integer. Bit 31: BOM seen (the first code point was handled). Below it:
 *   UTF-8:  bits 0-15 code point so far, 16-17 bytes needed, 18-19 bytes seen, 20-21 lower-bound index,
 *           22-23 upper-bound index (the tables below: the second byte's range after E0, ED, F0, F4)
 *   UTF-16: bits 0-7 lead byte, bit 8 lead byte present, bits 9-24 lead surrogate (0 = none) */
#define ST_BOM_SEEN 0x80000000u
static const uint8_t utf8_lower[3] = {0x80, 0xA0, 0x90};
static const uint8_t utf8_upper[3] = {0xBF, 0x9F, 0x8F};

typedef struct decoder {
    uint8_t *out;     /* at least 3 bytes per input byte + 8 */
    size_t n;         /* bytes written */
    bool fatal;
    bool ignore_bom;
    bool bom_seen;
    bool failed;      /* fatal mode hit an error */
} decoder_t;

static void put_unit(decoder_t *d, uint32_t u)
{
    uint8_t *o = d->out + d->n;
    if (u < 0x80) {
        o[0] = (uint8_t) u;
        d->n += 1;
    } else if (u < 0x800) {
        o[0] = (uint8_t) (0xC0 | u >> 6);
        o[1] = (uint8_t) (0x80 | (u & 0x3F));
        d->n += 2;
    } else {
        o[0] = (uint8_t) (0xE0 | u >> 12);
        o[1] = (uint8_t) (0x80 | ((u >> 6) & 0x3F));
        o[2] = (uint8_t) (0x80 | (u & 0x3F));
        d->n += 3;
    }
}

/* Emits a code point; the first one is dropped when it is a BOM and ignoreBOM is false. */
static void put_cp(decoder_t *d, uint32_t cp)
{
    if (!d->bom_seen) {
        d->bom_seen = true;
        if (cp == 0xFEFF && !d->ignore_bom)
            return;
    }
    if (cp >= 0x10000) {
        cp -= 0x10000;
        put_unit(d, 0xD800 + (cp >> 10));
        put_unit(d, 0xDC00 + (cp & 0x3FF));
    } else {
        put_unit(d, cp);
    }
}

/* A decoder error: U+FFFD, or (fatal) stop. Returns false to stop. */
static bool put_error(decoder_t *d)
{
    if (d->fatal) {
        d->failed = true;
        return false;
    }
    put_cp(d, 0xFFFD);
    return true;
}

static uint32_t decode_utf8(decoder_t *d, uint32_t st, const uint8_t *p, size_t len, bool flush)
{
    uint32_t cp = st & 0xFFFF, needed = (st >> 16) & 3, seen = (st >> 18) & 3, lo = (st >> 20) & 3,
             hi = (st >> 22) & 3;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = p[i];
        if (needed == 0) {
            if (b < 0x80) {
                put_cp(d, b);
            } else if (b >= 0xC2 && b <= 0xDF) {
                needed = 1, cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                lo = b == 0xE0, hi = b == 0xED, needed = 2, cp = b & 0xF;
            } else if (b >= 0xF0 && b <= 0xF4) {
                lo = b == 0xF0 ? 2 : 0, hi = b == 0xF4 ? 2 : 0, needed = 3, cp = b & 7;
            } else if (!put_error(d)) {
                return 0;
            }
            continue;
        }
        if (b < utf8_lower[lo] || b > utf8_upper[hi]) {
            cp = needed = seen = lo = hi = 0;
            if (!put_error(d))
                return 0;
            i--; /* the byte starts over as a lead byte (unsigned wrap at 0 is undone by i++) */
            continue;
        }
        lo = hi = 0;
        cp = cp << 6 | (b & 0x3F);
        if (++seen == needed) {
            put_cp(d, cp);
            cp = needed = seen = 0;
        }
    }
    if (needed != 0 && flush) {
        cp = needed = seen = lo = hi = 0;
        if (!put_error(d))
            return 0;
    }
    return cp | needed << 16 | seen << 18 | lo << 20 | hi << 22;
}

static uint32_t decode_utf16(decoder_t *d, uint32_t st, const uint8_t *p, size_t len, bool flush, bool be)
{
    int lead_byte = (st & 0x100) ? (int) (st & 0xFF) : -1;
    uint32_t lead_sur = (st >> 9) & 0xFFFF;
    for (size_t i = 0; i < len; i++) {
        if (lead_byte < 0) {
            lead_byte = p[i];
            continue;
        }
        uint32_t cu = be ? (uint32_t) lead_byte << 8 | p[i] : (uint32_t) p[i] << 8 | (uint32_t) lead_byte;
        lead_byte = -1;
        if (lead_sur != 0) {
            uint32_t ls = lead_sur;
            lead_sur = 0;
            if (cu >= 0xDC00 && cu <= 0xDFFF) {
                put_cp(d, 0x10000 + ((ls - 0xD800) << 10) + (cu - 0xDC00));
                continue;
            }
            if (!put_error(d)) /* unpaired lead surrogate; cu is decoded on its own below */
                return 0;
        }
        if (cu >= 0xD800 && cu <= 0xDBFF)
            lead_sur = cu;
        else if (cu >= 0xDC00 && cu <= 0xDFFF) {
            if (!put_error(d))
                return 0;
        } else
            put_cp(d, cu);
    }
    if (flush && (lead_byte >= 0 || lead_sur != 0)) {
        if (!put_error(d))
            return 0;
        return 0;
    }
    return (lead_byte >= 0 ? 0x100u | (uint32_t) lead_byte : 0) | lead_sur << 9;
}

static void decode_1252(decoder_t *d, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        put_unit(d, p[i] >= 0x80 && p[i] < 0xA0 ? cp1252_high[p[i] - 0x80] : p[i]);
}

/* True when UTF-8 input can be pushed as it is: valid, and no 4-byte sequence (those need surrogates). */
static bool utf8_is_plain(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] >= 0xF0)
            return false;
    }
    return ew__utf8_valid((const char *) p, len);
}

/* ---------------------------------------------------------------------------------------------------------
 * TextDecoder: hidden "tc" = encoding | fatal << 4 | ignoreBOM << 5, "tx" = streaming state.
 */

#define TD_CONFIG DUK_HIDDEN_SYMBOL("tc")
#define TD_STATE DUK_HIDDEN_SYMBOL("tx")
#define TD_FATAL 0x10u
#define TD_IGNORE_BOM 0x20u

/* Reads a boolean member of the dictionary at idx (undefined and null are empty dictionaries). */
static bool dict_bool(duk_context *ctx, duk_idx_t idx, const char *member)
{
    if (duk_is_null_or_undefined(ctx, idx))
        return false;
    if (!duk_is_object(ctx, idx))
        (void) duk_type_error(ctx, "The provided value is not of type 'object'.");
    duk_get_prop_string(ctx, idx, member);
    bool v = duk_to_boolean(ctx, -1);
    duk_pop(ctx);
    return v;
}

/* Index of the encoding for a label (ASCII whitespace trimmed, ASCII case-insensitive), or -1. */
static int find_label(const char *s, size_t len)
{
    while (len > 0 && is_ascii_ws((unsigned char) s[0]))
        s++, len--;
    while (len > 0 && is_ascii_ws((unsigned char) s[len - 1]))
        len--;
    char low[24];
    if (len == 0 || len >= sizeof(low))
        return -1;
    for (size_t i = 0; i < len; i++)
        low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + 32) : s[i];
    low[len] = '\0';
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        if (strcmp(labels[i].label, low) == 0)
            return labels[i].enc;
    }
    return -1;
}

static duk_ret_t td_ctor(duk_context *ctx)
{
    duk_idx_t self = ew__web_construct_this(ctx, "TextDecoder");
    int enc = ENC_UTF8;
    if (!duk_is_undefined(ctx, 0)) {
        duk_size_t len;
        const char *label = duk_to_lstring(ctx, 0, &len);
        enc = find_label(label, len);
        if (enc < 0)
            return duk_range_error(ctx, "The \"%.64s\" encoding is not supported.", label);
    }
    uint32_t config = (uint32_t) enc;
    if (dict_bool(ctx, 1, "fatal"))
        config |= TD_FATAL;
    if (dict_bool(ctx, 1, "ignoreBOM"))
        config |= TD_IGNORE_BOM;
    duk_push_uint(ctx, config);
    duk_put_prop_literal(ctx, self, TD_CONFIG);
    duk_push_uint(ctx, 0);
    duk_put_prop_literal(ctx, self, TD_STATE);
    return 0;
}

/* Pushes `this` and returns its configuration; TypeError unless it is a TextDecoder. */
static uint32_t td_this(duk_context *ctx)
{
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1) || !duk_get_prop_literal(ctx, -1, TD_CONFIG))
        (void) duk_type_error(ctx, "Illegal invocation: this is not a TextDecoder");
    uint32_t config = duk_get_uint(ctx, -1);
    duk_pop(ctx);
    return config;
}

/* Runs the decoder of `config` over the bytes; pushes the string, or returns false (fatal error). */
static bool td_run(duk_context *ctx, uint32_t config, uint32_t *st, const uint8_t *p, size_t len, bool stream)
{
    unsigned enc = config & 0xF;
    if (len > (SIZE_MAX - 8) / 3)
        (void) duk_range_error(ctx, "input too large");
    decoder_t d = {.out = duk_push_buffer_raw(ctx, len * 3 + 8, DUK_BUF_FLAG_NOZERO),
                   .fatal = (config & TD_FATAL) != 0,
                   .ignore_bom = (config & TD_IGNORE_BOM) != 0,
                   .bom_seen = (*st & ST_BOM_SEEN) != 0};
    uint32_t s = *st & ~ST_BOM_SEEN;
    if (enc == ENC_UTF8)
        s = decode_utf8(&d, s, p, len, !stream);
    else if (enc == ENC_1252)
        decode_1252(&d, p, len);
    else
        s = decode_utf16(&d, s, p, len, !stream, enc == ENC_UTF16BE);
    if (d.failed) {
        duk_pop(ctx);
        return false;
    }
    *st = s | (d.bom_seen ? ST_BOM_SEEN : 0);
    duk_push_lstring(ctx, (const char *) d.out, d.n);
    duk_remove(ctx, -2);
    return true;
}

/* decode(input, { stream }): a call without stream flushes; the next call starts a new stream. */
static duk_ret_t td_decode(duk_context *ctx)
{
    uint32_t config = td_this(ctx);
    duk_idx_t self = duk_get_top_index(ctx);
    bool stream = dict_bool(ctx, 1, "stream");
    size_t len = 0;
    const uint8_t *p = duk_is_undefined(ctx, 0) ? (const uint8_t *) "" : ew__dom_require_bytes(ctx, 0, &len, "input");
    duk_get_prop_literal(ctx, self, TD_STATE);
    uint32_t st = duk_get_uint(ctx, -1);
    duk_pop(ctx);

    bool ok;
    if ((config & 0xF) == ENC_UTF8 && st == 0 && utf8_is_plain(p, len)) {
        size_t skip = (!(config & TD_IGNORE_BOM) && len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) ? 3 : 0;
        duk_push_lstring(ctx, (const char *) p + skip, len - skip);
        st = len > 0 ? ST_BOM_SEEN : 0;
        ok = true;
    } else {
        ok = td_run(ctx, config, &st, p, len, stream);
    }
    duk_push_uint(ctx, ok && stream ? st : 0);
    duk_put_prop_literal(ctx, self, TD_STATE);
    if (!ok)
        return duk_type_error(ctx, "The encoded data was not valid for encoding %s", enc_names[config & 0xF]);
    return 1;
}

static duk_ret_t td_encoding(duk_context *ctx)
{
    ew__web_push_static(ctx, enc_names[td_this(ctx) & 0xF]);
    return 1;
}

static duk_ret_t td_fatal(duk_context *ctx)
{
    duk_push_boolean(ctx, (td_this(ctx) & TD_FATAL) != 0);
    return 1;
}

static duk_ret_t td_ignore_bom(duk_context *ctx)
{
    duk_push_boolean(ctx, (td_this(ctx) & TD_IGNORE_BOM) != 0);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * TextEncoder.prototype.encodeInto(source, destination) -> { read, written }
 *
 * Walks Duktape's internal form of the string: each 1-3 byte sequence is one UTF-16 code unit. A lead
 * surrogate followed by a trail surrogate becomes one 4-byte UTF-8 sequence (read += 2); lone surrogates
 * become U+FFFD. Stops before the first character whose UTF-8 does not fit.
 */

/* Decodes the sequence at s[i] (Duktape's internal form); returns its length and sets *u. */
static size_t internal_unit(const uint8_t *s, size_t len, size_t i, uint32_t *u)
{
    uint8_t b = s[i];
    if (b < 0x80 || i + 1 >= len) {
        *u = b;
        return 1;
    }
    if (b < 0xE0) {
        *u = (uint32_t) (b & 0x1F) << 6 | (s[i + 1] & 0x3F);
        return 2;
    }
    if (b < 0xF0 || i + 3 >= len) {
        *u = (uint32_t) (b & 0x0F) << 12 | (uint32_t) (s[i + 1] & 0x3F) << 6 | (s[i + 2] & 0x3F);
        return 3;
    }
    *u = (uint32_t) (b & 0x07) << 18 | (uint32_t) (s[i + 1] & 0x3F) << 12 | (uint32_t) (s[i + 2] & 0x3F) << 6 |
         (s[i + 3] & 0x3F);
    return 4; /* a non-BMP character stored as one unit (pushed raw from C): counts as two code units */
}

static duk_ret_t te_encode_into(duk_context *ctx)
{
    duk_size_t slen;
    const uint8_t *s = (const uint8_t *) duk_to_lstring(ctx, 0, &slen);
    if (ew__bi_typed_kind(ctx, 1) != 1)
        return duk_type_error(ctx, "Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type "
                                   "'Uint8Array'.");
    duk_size_t cap;
    uint8_t *dst = duk_get_buffer_data(ctx, 1, &cap);
    size_t read = 0, written = 0, i = 0;
    while (i < slen) {
        uint32_t u, u2 = 0;
        size_t n = internal_unit(s, slen, i, &u), n2 = 0, units = n == 4 ? 2 : 1;
        if (u >= 0xD800 && u <= 0xDBFF && i + n < slen) {
            n2 = internal_unit(s, slen, i + n, &u2);
            if (u2 >= 0xDC00 && u2 <= 0xDFFF) {
                u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
                units = 2;
            } else {
                n2 = 0;
            }
        }
        if (u >= 0xD800 && u <= 0xDFFF)
            u = 0xFFFD;
        size_t need = u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;
        if (written + need > cap)
            break;
        uint8_t *o = dst + written;
        if (need == 1) {
            o[0] = (uint8_t) u;
        } else if (need == 2) {
            o[0] = (uint8_t) (0xC0 | u >> 6), o[1] = (uint8_t) (0x80 | (u & 0x3F));
        } else if (need == 3) {
            o[0] = (uint8_t) (0xE0 | u >> 12), o[1] = (uint8_t) (0x80 | ((u >> 6) & 0x3F));
            o[2] = (uint8_t) (0x80 | (u & 0x3F));
        } else {
            o[0] = (uint8_t) (0xF0 | u >> 18), o[1] = (uint8_t) (0x80 | ((u >> 12) & 0x3F));
            o[2] = (uint8_t) (0x80 | ((u >> 6) & 0x3F)), o[3] = (uint8_t) (0x80 | (u & 0x3F));
        }
        written += need;
        read += units;
        i += n + n2;
    }
    duk_push_object(ctx);
    duk_push_number(ctx, (double) read);
    duk_put_prop_literal(ctx, -2, "read");
    duk_push_number(ctx, (double) written);
    duk_put_prop_literal(ctx, -2, "written");
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * JS surface
 *
 *   atob(data)                              enc_atob
 *   btoa(data)                              enc_btoa
 *   TextDecoder(label, { fatal, ignoreBOM }) td_ctor       replaces Duktape's TextDecoder
 *   TextDecoder.prototype.decode            td_decode
 *   TextDecoder.prototype.encoding          td_encoding    getter
 *   TextDecoder.prototype.fatal             td_fatal       getter
 *   TextDecoder.prototype.ignoreBOM         td_ignore_bom  getter
 *   TextEncoder.prototype.encodeInto        te_encode_into added to Duktape's TextEncoder
 */

static const ew__method_t global_fns[] = {
    {"atob", enc_atob, DUK_VARARGS, 1},
    {"btoa", enc_btoa, DUK_VARARGS, 1},
    {NULL, NULL, 0, 0},
};

static const ew__method_t td_methods[] = {
    {"decode", td_decode, 2, 0},
    {NULL, NULL, 0, 0},
};

static const ew__getter_t td_getters[] = {
    {"encoding", td_encoding},
    {"fatal", td_fatal},
    {"ignoreBOM", td_ignore_bom},
    {NULL, NULL},
};

static const ew__class_t td_class = {
    .name = "TextDecoder",
    .ctor = td_ctor,
    .ctor_nargs = 2,
    .ctor_length = 0,
    .methods = td_methods,
    .getters = td_getters,
};

static const ew__method_t te_methods[] = {
    {"encodeInto", te_encode_into, 2, 2},
    {NULL, NULL, 0, 0},
};

void ew__encoding_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    ew__def_methods(ctx, global_idx, global_fns);
    ew__dom_def_class(ctx, global_idx, &td_class, DUK_HIDDEN_SYMBOL("pTD"));
    duk_pop(ctx);
    duk_get_prop_literal(ctx, global_idx, "TextEncoder");
    if (duk_is_function(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "prototype");
        ew__def_methods(ctx, duk_get_top_index(ctx), te_methods);
        duk_pop(ctx);
    }
    duk_pop(ctx);
}
