/*
 * unicode_norm.c — Unicode normalization (UAX #15) for String.prototype.normalize: NFC, NFD, NFKC and NFKD
 * over the whole code space, with tables generated at build time from Python's unicodedata by
 * gen_unicode_tables.py (about 64 KB of read-only data, shared by every isolate; nothing per heap).
 *
 * Steps: decode the CESU-8 string into code points (surrogate pairs joined, lone surrogates kept), replace
 * each by its full decomposition (table lookup; Hangul syllables by arithmetic), put each run of combining
 * marks in canonical order (stable by combining class), then for NFC/NFKC compose starters with following
 * marks (the table of primary composites; Hangul by arithmetic), and encode back to CESU-8. Strings that
 * cannot change (ASCII; below U+0300 for NFC; below U+00C0 for NFD) are returned as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "unicode_tables.h"

#define SBASE 0xAC00
#define LBASE 0x1100
#define VBASE 0x1161
#define TBASE 0x11A7
#define LCOUNT 19
#define VCOUNT 21
#define TCOUNT 28
#define NCOUNT (VCOUNT * TCOUNT)
#define SCOUNT (LCOUNT * NCOUNT)

/* Index of the entry of sorted `keys` whose key >> shift equals want, or -1. */
static long find32(const uint32_t *keys, size_t n, uint32_t want, int shift)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t k = keys[mid] >> shift;
        if (k == want)
            return (long) mid;
        if (k < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int combining_class(uint32_t cp)
{
    if (cp < 0x300)
        return 0;
    long i = find32(ccc, sizeof(ccc) / sizeof(ccc[0]), cp, 8);
    return i < 0 ? 0 : (int) (ccc[i] & 0xff);
}

/* The primary composite of a + b, or 0. */
static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE && b < TBASE + TCOUNT)
        return a + (b - TBASE);
    uint64_t key = (uint64_t) a << 21 | b;
    size_t lo = 0, hi = sizeof(comp) / sizeof(comp[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t k = comp[mid] >> 21;
        if (k == key)
            return (uint32_t) (comp[mid] & 0x1fffff);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Code points being built, in a duk buffer at a fixed stack slot (freed by the GC even if we throw). */
typedef struct cps {
    duk_idx_t buf;
    uint32_t *v;
    size_t n, cap;
} cps_t;

static void cps_push(duk_context *ctx, cps_t *c, uint32_t cp)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = duk_resize_buffer(ctx, c->buf, c->cap * sizeof(uint32_t));
    }
    c->v[c->n++] = cp;
}

/* Appends the UTF-16 units u[0, n) as code points. */
static void push_units(duk_context *ctx, cps_t *c, const uint16_t *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = u[i];
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF)
            cp = 0x10000 + ((cp - 0xD800) << 10) + (u[++i] - 0xDC00);
        cps_push(ctx, c, cp);
    }
}

/* Appends the full decomposition of cp (compat: NFKD, else NFD). */
static void decompose(duk_context *ctx, cps_t *c, uint32_t cp, bool compat)
{
    if (cp >= SBASE && cp < SBASE + SCOUNT) {
        uint32_t s = cp - SBASE;
        cps_push(ctx, c, LBASE + s / NCOUNT);
        cps_push(ctx, c, VBASE + (s % NCOUNT) / TCOUNT);
        if (s % TCOUNT)
            cps_push(ctx, c, TBASE + s % TCOUNT);
        return;
    }
    if (cp >= 0xC0) {
        long i = compat ? find32(nfkd, sizeof(nfkd) / sizeof(nfkd[0]), cp, 8) : -1;
        if (i >= 0) {
            push_units(ctx, c, nfkd_units + nfkd_off[i], nfkd[i] & 0xff);
            return;
        }
        i = find32(nfd, sizeof(nfd) / sizeof(nfd[0]), cp, 8);
        if (i >= 0) {
            push_units(ctx, c, nfd_units + nfd_off[i], nfd[i] & 0xff);
            return;
        }
    }
    cps_push(ctx, c, cp);
}

/* Canonical ordering: a stable insertion sort of each run of non-starters by combining class. */
static void reorder(uint32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        int cc = combining_class(v[i]);
        if (cc == 0)
            continue;
        size_t j = i;
        uint32_t cp = v[i];
        while (j > 0 && combining_class(v[j - 1]) > cc)
            v[j] = v[j - 1], j--;
        v[j] = cp;
    }
}

/* Canonical composition in place (UAX #15's reference algorithm); returns the new length. A mark is
 * blocked from the last starter when a mark of the same or higher class came between them. */
static size_t compose(uint32_t *v, size_t n)
{
    if (n == 0)
        return 0;
    size_t starter = 0, out = 1;
    int last_cc = combining_class(v[0]) ? 256 : 0; /* a leading mark: nothing composes until a starter */
    for (size_t i = 1; i < n; i++) {
        uint32_t cp = v[i];
        int cc = combining_class(cp);
        if (last_cc < cc || last_cc == 0) {
            uint32_t composite = compose_pair(v[starter], cp);
            if (composite) {
                v[starter] = composite;
                continue;
            }
        }
        if (cc == 0)
            starter = out;
        last_cc = cc;
        v[out++] = cp;
    }
    return out;
}

/* Decodes the CESU-8 (or UTF-8) bytes of the string at s into code points. */
static void decode(duk_context *ctx, cps_t *c, const unsigned char *p, size_t n, int form)
{
    bool compat = form >= 2;
    uint32_t pending_high = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = p[i];
        int extra = cp < 0x80 ? 0 : cp < 0xE0 ? 1 : cp < 0xF0 ? 2 : 3;
        cp &= extra == 0 ? 0x7f : extra == 1 ? 0x1f : extra == 2 ? 0x0f : 0x07;
        for (int k = 1; k <= extra && i + k < n; k++)
            cp = cp << 6 | (p[i + k] & 0x3f);
        i += (size_t) extra + 1;
        if (pending_high) {
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                decompose(ctx, c, 0x10000 + ((pending_high - 0xD800) << 10) + (cp - 0xDC00), compat);
                pending_high = 0;
                continue;
            }
            cps_push(ctx, c, pending_high);
            pending_high = 0;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF)
            pending_high = cp;
        else
            decompose(ctx, c, cp, compat);
    }
    if (pending_high)
        cps_push(ctx, c, pending_high);
}

static void encode(duk_context *ctx, const uint32_t *v, size_t n)
{
    unsigned char *out = duk_push_fixed_buffer(ctx, n * 6);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = v[i];
        if (cp >= 0x10000) {
            cp -= 0x10000;
            uint32_t hi = 0xD800 + (cp >> 10), lo = 0xDC00 + (cp & 0x3ff);
            for (int k = 0; k < 2; k++) {
                uint32_t u = k ? lo : hi;
                out[o++] = (unsigned char) (0xE0 | u >> 12);
                out[o++] = (unsigned char) (0x80 | ((u >> 6) & 0x3f));
                out[o++] = (unsigned char) (0x80 | (u & 0x3f));
            }
        } else if (cp >= 0x800) {
            out[o++] = (unsigned char) (0xE0 | cp >> 12);
            out[o++] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
            out[o++] = (unsigned char) (0x80 | (cp & 0x3f));
        } else if (cp >= 0x80) {
            out[o++] = (unsigned char) (0xC0 | cp >> 6);
            out[o++] = (unsigned char) (0x80 | (cp & 0x3f));
        } else {
            out[o++] = (unsigned char) cp;
        }
    }
    duk_push_lstring(ctx, (const char *) out, o);
    duk_remove(ctx, -2);
}

void ew__unicode_normalize(duk_context *ctx, duk_idx_t s, int form)
{
    s = duk_normalize_index(ctx, s);
    duk_size_t n;
    const unsigned char *p = (const unsigned char *) duk_get_lstring(ctx, s, &n);
    /* Bytes below 0xCC decode to code points below U+0300 (all NFC-stable), below 0xC3 to code points
     * below U+00C0 (none decomposes canonically); the compatibility forms change U+00A0 already. */
    unsigned char limit = form == 0 ? 0xCC : form == 1 ? 0xC3 : 0x80;
    size_t i = 0;
    while (i < n && p[i] < limit)
        i++;
    if (i == n) {
        duk_dup(ctx, s);
        return;
    }
    cps_t c = {0, NULL, 0, 0};
    duk_push_dynamic_buffer(ctx, 0);
    c.buf = duk_get_top_index(ctx);
    decode(ctx, &c, p, n, form);
    reorder(c.v, c.n);
    if (form == 0 || form == 2)
        c.n = compose(c.v, c.n);
    encode(ctx, c.v, c.n);
    duk_remove(ctx, -2);
}
