/*
 * url_idna.c — "domain to ASCII" of the WHATWG URL Standard: UTS #46 processing (mapping, NFC, label
 * validation with CheckBidi and CheckJoiners, non-transitional, UseSTD3ASCIIRules off, no DNS length check)
 * and Punycode (RFC 3492), for the host parser in url_parse.c.
 *
 * A domain that is all ASCII is only lower-cased: that is what the URL Standard asks (its web-platform-tests
 * keep "xn--a" and "xn--ls8h=" as they are), and it keeps the common case free of any table lookup. Only a
 * domain with a non-ASCII code point goes through the full processing below.
 *
 * The tables (url_idna_tables.h) are generated at build time by gen_idna.py from the Unicode data on the
 * build machine; each is a sorted array of ranges searched by binary search. Memory: read-only data shared by
 * every isolate; the work buffers of one call are malloc'd and freed before returning.
 */
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "web/url_idna_tables.h"

enum { ST_VALID = 0, ST_MAPPED = 1, ST_DISALLOWED = 2, ST_IGNORED = 3 };

/* ---------------------------------------------------------------------------------------------------------
 * Code point vectors and table lookups
 */

typedef struct cpvec {
    uint32_t *v;
    size_t n, cap;
    bool oom;
} cpvec_t;

static void cp_push(cpvec_t *a, uint32_t c)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        uint32_t *v = realloc(a->v, cap * sizeof(*v));
        if (v == NULL) {
            a->oom = true;
            return;
        }
        a->v = v, a->cap = cap;
    }
    a->v[a->n++] = c;
}

/* Value of the range containing cp in a table of (start, value) rows sorted by start (first row 0). */
static uint32_t range_value(const uni_range_t *t, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (t[mid].start <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return t[lo].value;
}

#define RANGE_VALUE(table, cp) range_value(table, sizeof(table) / sizeof(table[0]), cp)

static uint32_t map_info(uint32_t cp)
{
    size_t lo = 0, hi = sizeof(idna_map) / sizeof(idna_map[0]);
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (idna_map[mid].start <= cp)
            lo = mid;
        else
            hi = mid;
    }
    return idna_map[lo].info;
}

static unsigned ccc_of(uint32_t cp) { return cp < 0x300 ? 0 : RANGE_VALUE(nfc_ccc, cp); }

/* Decodes UTF-8 (invalid sequences become U+FFFD, which the mapping then disallows). */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    size_t need = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (need == 0 || need == 9 || *i + need >= len) {
        (*i)++;
        return need == 0 ? c : 0xFFFD;
    }
    uint32_t cp = c & (0x3F >> need);
    for (size_t k = 1; k <= need; k++) {
        if ((s[*i + k] & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[*i + k] & 0x3F);
    }
    static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        (*i)++;
        return 0xFFFD;
    }
    *i += need + 1;
    return cp;
}

static void utf8_put(ew__buf_t *out, uint32_t c, bool *ok)
{
    char b[4];
    size_t n;
    if (c < 0x80)
        b[0] = (char) c, n = 1;
    else if (c < 0x800)
        b[0] = (char) (0xC0 | (c >> 6)), b[1] = (char) (0x80 | (c & 0x3F)), n = 2;
    else if (c < 0x10000)
        b[0] = (char) (0xE0 | (c >> 12)), b[1] = (char) (0x80 | ((c >> 6) & 0x3F)), b[2] = (char) (0x80 | (c & 0x3F)), n = 3;
    else
        b[0] = (char) (0xF0 | (c >> 18)), b[1] = (char) (0x80 | ((c >> 12) & 0x3F)),
        b[2] = (char) (0x80 | ((c >> 6) & 0x3F)), b[3] = (char) (0x80 | (c & 0x3F)), n = 4;
    if (!ew__buf_append(out, b, n))
        *ok = false;
}

/* ---------------------------------------------------------------------------------------------------------
 * Step 1, mapping: each code point becomes itself, its mapping, nothing (ignored), or an error (disallowed).
 */

static bool map_domain(const char *in, size_t len, cpvec_t *out)
{
    const unsigned char *s = (const unsigned char *) in;
    bool ok = true;
    for (size_t i = 0; i < len;) {
        uint32_t cp = utf8_next(s, len, &i);
        uint32_t info = map_info(cp);
        switch (info & 3) {
        case ST_VALID:
            cp_push(out, cp);
            break;
        case ST_IGNORED:
            break;
        case ST_DISALLOWED:
            ok = false; /* recorded; processing would go on, but ToASCII fails anyway */
            break;
        default: {
            size_t off = info >> 10, n = (info >> 2) & 0xFF, k = 0;
            while (k < n)
                cp_push(out, utf8_next((const unsigned char *) idna_pool + off, n, &k));
        }
        }
    }
    return ok && !out->oom;
}

/* ---------------------------------------------------------------------------------------------------------
 * Step 2, NFC: full canonical decomposition (Hangul algorithmically), canonical ordering, then composition.
 */

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7, LCOUNT = 19, VCOUNT = 21, TCOUNT = 28,
       NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT };

static void decompose_one(uint32_t cp, cpvec_t *out)
{
    if (cp >= SBASE && cp < SBASE + SCOUNT) {
        uint32_t s = cp - SBASE;
        cp_push(out, LBASE + s / NCOUNT);
        cp_push(out, VBASE + (s % NCOUNT) / TCOUNT);
        if (s % TCOUNT)
            cp_push(out, TBASE + s % TCOUNT);
        return;
    }
    size_t lo = 0, hi = sizeof(nfc_decomp) / sizeof(nfc_decomp[0]);
    while (cp >= 0xC0 && lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (nfc_decomp[mid].start == cp) {
            uint32_t v = nfc_decomp[mid].value;
            for (uint32_t k = 0; k < (v >> 16); k++)
                cp_push(out, nfc_decomp_pool[(v & 0xFFFF) + k]);
            return;
        }
        if (nfc_decomp[mid].start < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    cp_push(out, cp);
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE && b < TBASE + TCOUNT)
        return a + (b - TBASE);
    size_t lo = 0, hi = sizeof(nfc_pairs) / sizeof(nfc_pairs[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const uni_pair_t *p = &nfc_pairs[mid];
        if (p->first == a && p->second == b)
            return p->composite;
        if (p->first < a || (p->first == a && p->second < b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Replaces *a with its NFC form. Below U+0300 every code point is NFC_Quick_Check=Yes and none combines with
 * a following one, so such a string is its own NFC: the common European case skips all the work. */
static void nfc(cpvec_t *a)
{
    bool simple = true;
    for (size_t i = 0; i < a->n && simple; i++)
        simple = a->v[i] < 0x300;
    if (simple)
        return;
    cpvec_t d = {0};
    for (size_t i = 0; i < a->n; i++)
        decompose_one(a->v[i], &d);
    if (d.oom) {
        a->oom = true;
        free(d.v);
        return;
    }
    for (size_t i = 1; i < d.n; i++) { /* canonical ordering: stable insertion sort of non-starters */
        uint32_t c = d.v[i];
        unsigned cc = ccc_of(c);
        size_t j = i;
        while (cc != 0 && j > 0 && ccc_of(d.v[j - 1]) > cc) {
            d.v[j] = d.v[j - 1];
            j--;
        }
        d.v[j] = c;
    }
    size_t w = 0, starter = SIZE_MAX;
    unsigned last_cc = 0;
    for (size_t i = 0; i < d.n; i++) {
        uint32_t c = d.v[i];
        unsigned cc = ccc_of(c);
        uint32_t comp = 0;
        if (starter != SIZE_MAX && (w == starter + 1 || (last_cc != 0 && last_cc < cc)))
            comp = compose_pair(d.v[starter], c);
        if (comp != 0) {
            d.v[starter] = comp;
            continue;
        }
        if (cc == 0)
            starter = w;
        last_cc = cc;
        d.v[w++] = c;
    }
    free(a->v);
    a->v = d.v, a->n = w, a->cap = d.cap;
}

/* ---------------------------------------------------------------------------------------------------------
 * Punycode (RFC 3492)
 */

enum { PC_BASE = 36, PC_TMIN = 1, PC_TMAX = 26, PC_SKEW = 38, PC_DAMP = 700, PC_IBIAS = 72, PC_IN = 128 };

static uint32_t pc_adapt(uint32_t delta, uint32_t numpoints, bool first)
{
    delta = first ? delta / PC_DAMP : delta / 2;
    delta += delta / numpoints;
    uint32_t k = 0;
    while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
        delta /= PC_BASE - PC_TMIN;
        k += PC_BASE;
    }
    return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

static int pc_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0' + 26;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return (c | 0x20) - 'a';
    return -1;
}

static char pc_digit(uint32_t d) { return (char) (d < 26 ? 'a' + d : '0' + d - 26); }

/* Decodes ASCII Punycode into out; false when malformed or overflowing. */
static bool punycode_decode(const char *s, size_t len, cpvec_t *out)
{
    size_t b = 0;
    for (size_t j = 0; j < len; j++) {
        if (s[j] == '-')
            b = j;
    }
    for (size_t j = 0; j < b; j++)
        cp_push(out, (unsigned char) s[j]);
    uint32_t n = PC_IN, bias = PC_IBIAS, i = 0;
    for (size_t in = b > 0 ? b + 1 : 0; in < len;) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = PC_BASE;; k += PC_BASE) {
            if (in >= len)
                return false;
            int digit = pc_digit_value(s[in++]);
            if (digit < 0 || (uint32_t) digit > (UINT32_MAX - i) / w)
                return false;
            i += (uint32_t) digit * w;
            uint32_t t = k <= bias ? PC_TMIN : k >= bias + PC_TMAX ? PC_TMAX : k - bias;
            if ((uint32_t) digit < t)
                break;
            if (w > UINT32_MAX / (PC_BASE - t))
                return false;
            w *= PC_BASE - t;
        }
        uint32_t count = (uint32_t) out->n + 1;
        bias = pc_adapt(i - oldi, count, oldi == 0);
        if (i / count > 0x10FFFF - n)
            return false;
        n += i / count;
        i %= count;
        if (n >= 0xD800 && n <= 0xDFFF)
            return false;
        cp_push(out, 0);
        if (out->oom)
            return false;
        memmove(out->v + i + 1, out->v + i, (out->n - 1 - i) * sizeof(uint32_t));
        out->v[i++] = n;
    }
    return !out->oom;
}

/* Appends the Punycode of the label (without "xn--"). */
static bool punycode_encode(const uint32_t *in, size_t len, ew__buf_t *out)
{
    bool ok = true;
    size_t b = 0;
    for (size_t j = 0; j < len; j++) {
        if (in[j] < 0x80) {
            char c = (char) in[j];
            ok &= ew__buf_append(out, &c, 1);
            b++;
        }
    }
    if (b > 0)
        ok &= ew__buf_append(out, "-", 1);
    uint32_t n = PC_IN, delta = 0, bias = PC_IBIAS;
    for (size_t h = b; h < len;) {
        uint32_t m = UINT32_MAX;
        for (size_t j = 0; j < len; j++)
            if (in[j] >= n && in[j] < m)
                m = in[j];
        if ((uint64_t) (m - n) * (h + 1) + delta > UINT32_MAX)
            return false;
        delta += (m - n) * (uint32_t) (h + 1);
        n = m;
        for (size_t j = 0; j < len; j++) {
            if (in[j] < n && ++delta == 0)
                return false;
            if (in[j] != n)
                continue;
            uint32_t q = delta;
            for (uint32_t k = PC_BASE;; k += PC_BASE) {
                uint32_t t = k <= bias ? PC_TMIN : k >= bias + PC_TMAX ? PC_TMAX : k - bias;
                if (q < t)
                    break;
                char c = pc_digit(t + (q - t) % (PC_BASE - t));
                ok &= ew__buf_append(out, &c, 1);
                q = (q - t) / (PC_BASE - t);
            }
            char c = pc_digit(q);
            ok &= ew__buf_append(out, &c, 1);
            bias = pc_adapt(delta, (uint32_t) h + 1, h == b);
            delta = 0;
            h++;
        }
        delta++, n++;
    }
    return ok;
}

/* ---------------------------------------------------------------------------------------------------------
 * Step 4, label validation (UTS #46 section 4.1 with the URL Standard's flags)
 */

static bool is_virama(uint32_t cp) { return ccc_of(cp) == 9; }

/* ContextJ (RFC 5892 appendix A.1, A.2) for ZWNJ/ZWJ at position i. */
static bool joiner_ok(const uint32_t *l, size_t n, size_t i)
{
    if (i > 0 && is_virama(l[i - 1]))
        return true;
    if (l[i] == 0x200D)
        return false;
    size_t j = i;
    while (j > 0 && RANGE_VALUE(uni_joining, l[j - 1]) == JT_T)
        j--;
    uint32_t before = j > 0 ? RANGE_VALUE(uni_joining, l[j - 1]) : JT_U;
    if (before != JT_L && before != JT_D)
        return false;
    j = i + 1;
    while (j < n && RANGE_VALUE(uni_joining, l[j]) == JT_T)
        j++;
    uint32_t after = j < n ? RANGE_VALUE(uni_joining, l[j]) : JT_U;
    return after == JT_R || after == JT_D;
}

/* RFC 5893 section 2, rules 1-6, for one non-empty label of a Bidi domain name. */
static bool bidi_ok(const uint32_t *l, size_t n)
{
    uint32_t first = RANGE_VALUE(uni_bidi, l[0]);
    if (first != BIDI_L && first != BIDI_R && first != BIDI_AL)
        return false;
    bool rtl = first != BIDI_L, en = false, an = false;
    size_t last = n;
    while (last > 0 && RANGE_VALUE(uni_bidi, l[last - 1]) == BIDI_NSM)
        last--;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = RANGE_VALUE(uni_bidi, l[i]);
        en |= b == BIDI_EN, an |= b == BIDI_AN;
        bool common = b == BIDI_EN || b == BIDI_ES || b == BIDI_CS || b == BIDI_ET || b == BIDI_ON ||
                      b == BIDI_BN || b == BIDI_NSM;
        if (rtl ? !(common || b == BIDI_R || b == BIDI_AL || b == BIDI_AN) : !(common || b == BIDI_L))
            return false;
    }
    if (last == 0)
        return false;
    uint32_t end = RANGE_VALUE(uni_bidi, l[last - 1]);
    if (rtl)
        return (end == BIDI_R || end == BIDI_AL || end == BIDI_EN || end == BIDI_AN) && !(en && an);
    return end == BIDI_L || end == BIDI_EN;
}

static bool label_valid(const uint32_t *l, size_t n, bool bidi_domain)
{
    if (n == 0)
        return true;
    if (n >= 4 && l[2] == '-' && l[3] == '-' && (l[0] | 0x20) == 'x' && (l[1] | 0x20) == 'n')
        return false;
    if (RANGE_VALUE(uni_mark, l[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (l[i] == '.' || (map_info(l[i]) & 3) != ST_VALID)
            return false;
        if ((l[i] == 0x200C || l[i] == 0x200D) && !joiner_ok(l, n, i))
            return false;
    }
    bool simple = true; /* below U+0300 a string is its own NFC (see nfc()) */
    for (size_t i = 0; i < n && simple; i++)
        simple = l[i] < 0x300;
    if (simple)
        return !bidi_domain || bidi_ok(l, n);
    cpvec_t copy = {0};
    for (size_t i = 0; i < n; i++)
        cp_push(&copy, l[i]);
    nfc(&copy);
    bool normalized = !copy.oom && copy.n == n && memcmp(copy.v, l, n * sizeof(uint32_t)) == 0;
    free(copy.v);
    return normalized && (!bidi_domain || bidi_ok(l, n));
}

/* ---------------------------------------------------------------------------------------------------------
 * Steps 3-5: labels, xn-- decoding, validation, then ToASCII
 */

static bool is_rtl_cp(uint32_t cp)
{
    if (cp < 0x590)
        return false;
    uint32_t b = RANGE_VALUE(uni_bidi, cp);
    return b == BIDI_R || b == BIDI_AL || b == BIDI_AN;
}

/* Rewrites a->v in place into labels with their xn-- forms decoded; `starts` receives label offsets. */
static bool decode_labels(cpvec_t *a, cpvec_t *labels)
{
    cpvec_t out = {0};
    bool ok = true;
    for (size_t i = 0; i <= a->n;) {
        size_t e = i;
        while (e < a->n && a->v[e] != '.')
            e++;
        cp_push(labels, (uint32_t) out.n);
        uint32_t *l = a->v + i;
        size_t n = e - i;
        if (n >= 4 && (l[0] | 0x20) == 'x' && (l[1] | 0x20) == 'n' && l[2] == '-' && l[3] == '-') {
            char ascii[256];
            bool all_ascii = n - 4 < sizeof(ascii);
            for (size_t k = 4; all_ascii && k < n; k++) {
                all_ascii = l[k] < 0x80;
                ascii[k - 4] = (char) l[k];
            }
            size_t before = out.n;
            if (!all_ascii || !punycode_decode(ascii, n - 4, &out) || out.n == before)
                ok = false;
            bool any = false;
            for (size_t k = before; k < out.n; k++)
                any |= out.v[k] >= 0x80;
            ok &= any;
        } else {
            for (size_t k = 0; k < n; k++)
                cp_push(&out, l[k]);
        }
        if (e < a->n)
            cp_push(&out, '.');
        i = e + 1;
    }
    free(a->v);
    *a = out;
    cp_push(labels, (uint32_t) out.n + 1);
    return ok && !a->oom && !labels->oom;
}

/* Validates every label and appends the ASCII form of the domain to out. */
static bool encode_labels(const cpvec_t *a, const cpvec_t *labels, ew__buf_t *out)
{
    bool bidi = false;
    for (size_t i = 0; i < a->n; i++)
        bidi |= is_rtl_cp(a->v[i]);
    bool ok = true;
    for (size_t k = 0; k + 1 < labels->n; k++) {
        const uint32_t *l = a->v + labels->v[k];
        size_t n = labels->v[k + 1] - 1 - labels->v[k];
        if (!label_valid(l, n, bidi))
            return false;
        bool ascii = true;
        for (size_t j = 0; j < n; j++)
            ascii &= l[j] < 0x80;
        if (k > 0)
            ok &= ew__buf_append(out, ".", 1);
        if (ascii) {
            for (size_t j = 0; j < n; j++)
                utf8_put(out, l[j], &ok);
        } else {
            ok &= ew__buf_append(out, "xn--", 4) && punycode_encode(l, n, out);
        }
    }
    return ok;
}

bool ew__url_domain_to_ascii(const char *in, size_t len, ew__buf_t *out)
{
    bool ascii = true;
    for (size_t i = 0; i < len && ascii; i++)
        ascii = (unsigned char) in[i] < 0x80;
    if (ascii) {
        if (!ew__buf_reserve(out, len))
            return false;
        for (size_t i = 0; i < len; i++)
            out->data[out->len++] = (in[i] >= 'A' && in[i] <= 'Z') ? (char) (in[i] + 32) : in[i];
        out->data[out->len] = '\0';
        return len > 0;
    }
    cpvec_t a = {0}, labels = {0};
    size_t start = out->len;
    bool ok = map_domain(in, len, &a);
    if (ok) {
        nfc(&a);
        ok = !a.oom && decode_labels(&a, &labels) && encode_labels(&a, &labels, out);
    }
    free(a.v);
    free(labels.v);
    if (!ok)
        out->len = start;
    return ok && out->len > start;
}
