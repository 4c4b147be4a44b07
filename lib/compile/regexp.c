/*
 * regexp.c — early errors of regular expression literals.
 *
 * The compiler keeps a regex literal's body and flags as text (Duktape's own regex engine runs it, after the
 * lowering passes rewrite what Duktape lacks: named groups, the s/y/d flags). What must happen at compile time is
 * the grammar check ECMAScript requires as an early error (22.2.1 with Annex B.1.2 for non-unicode patterns) and
 * a clear error for the features this project does not support: lookbehind assertions and \p{...} property
 * escapes. This is a validating recursive-descent pass over the pattern; it builds nothing.
 *
 * Characters are compared as code points with the u flag and as UTF-16 code units without it (so `[😀-😂]`
 * without u is, as in engines, a range from a low to a high surrogate and an error).
 */
#include <string.h>

#include "internal.h"

typedef struct rx {
    const unsigned char *s;
    uint32_t len, i;
    bool u;               /* unicode mode */
    bool named;           /* the pattern has named groups (\k is then a reference) */
    uint32_t groups;      /* capturing groups in the whole pattern */
    uint32_t depth;
    const char *err;
    uint32_t err_at;
    /* group names, as offsets into the pattern, to find duplicates and resolve \k */
    uint32_t names[64][2];
    uint32_t nnames;
    uint32_t refs[64][3];  /* \k<name> references: offset, length, position */
    uint32_t nrefs;
    uint32_t pending_low;  /* second UTF-16 unit of an astral character in non-unicode mode */
} rx_t;

#define CLASS_ESCAPE 0x110000u  /* \d \w \s ... in a class: not a single character */

static bool fail(rx_t *r, uint32_t at, const char *msg)
{
    if (!r->err) {
        r->err = msg;
        r->err_at = at;
    }
    return false;
}

static bool eof(const rx_t *r)
{
    return r->i >= r->len;
}

static int peek(const rx_t *r)
{
    return r->i < r->len ? r->s[r->i] : -1;
}

static bool is_syntax_char(int c)
{
    return c >= 0 && strchr("^$\\.*+?()[]{}|/", c) && c != 0;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 32) >= 'a' && (c | 32) <= 'f')
        return (c | 32) - 'a' + 10;
    return -1;
}

/* Reads one source character (code point, or in non-unicode mode one UTF-16 unit). */
static uint32_t read_char(rx_t *r)
{
    if (r->pending_low) {
        uint32_t lo = r->pending_low;
        r->pending_low = 0;
        return lo;
    }
    uint32_t cp;
    uint32_t n = ew__utf8_decode(r->s + r->i, r->len - r->i, &cp);
    if (!n) {
        cp = r->s[r->i];
        n = 1;
    }
    r->i += n;
    if (cp >= 0x10000 && !r->u) {
        r->pending_low = 0xDC00 + ((cp - 0x10000) & 0x3FF);
        return 0xD800 + ((cp - 0x10000) >> 10);
    }
    return cp;
}

/* Parses `{n}`, `{n,}`, `{n,m}` at r->i (pointing at '{'); returns true and advances if it is one. */
static bool read_braces_quantifier(rx_t *r, bool *bad_order)
{
    uint32_t j = r->i + 1;
    double a = 0, b = -1;
    uint32_t nd = 0;
    while (j < r->len && r->s[j] >= '0' && r->s[j] <= '9') {
        a = a * 10 + (r->s[j++] - '0');
        nd++;
    }
    if (!nd)
        return false;
    if (j < r->len && r->s[j] == ',') {
        j++;
        uint32_t nd2 = 0;
        double v = 0;
        while (j < r->len && r->s[j] >= '0' && r->s[j] <= '9') {
            v = v * 10 + (r->s[j++] - '0');
            nd2++;
        }
        if (nd2)
            b = v;
    } else {
        b = a;
    }
    if (j >= r->len || r->s[j] != '}')
        return false;
    *bad_order = b >= 0 && b < a;
    r->i = j + 1;
    return true;
}

/* A group name `name>` after "(?<" or "\k<": an identifier, \u escapes allowed. Returns its end or 0. */
static uint32_t read_group_name(rx_t *r)
{
    uint32_t start = r->i;
    bool first = true;
    while (r->i < r->len && r->s[r->i] != '>') {
        uint32_t cp;
        if (r->s[r->i] == '\\') {
            if (r->i + 1 >= r->len || r->s[r->i + 1] != 'u')
                return 0;
            uint32_t j = r->i + 2;
            int64_t v = 0;
            if (j < r->len && r->s[j] == '{') {
                j++;
                uint32_t nd = 0;
                while (j < r->len && hexv(r->s[j]) >= 0 && v <= 0x10FFFF)
                    v = v * 16 + hexv(r->s[j++]), nd++;
                if (!nd || j >= r->len || r->s[j] != '}' || v > 0x10FFFF)
                    return 0;
                j++;
            } else {
                for (int k = 0; k < 4; k++, j++) {
                    if (j >= r->len || hexv(r->s[j]) < 0)
                        return 0;
                    v = v * 16 + hexv(r->s[j]);
                }
                /* a surrogate pair written as two escapes */
                if (v >= 0xD800 && v <= 0xDBFF && j + 5 < r->len && r->s[j] == '\\' && r->s[j + 1] == 'u') {
                    int64_t lo = 0;
                    bool ok = true;
                    for (int k = 0; k < 4; k++)
                        if (hexv(r->s[j + 2 + k]) < 0)
                            ok = false;
                        else
                            lo = lo * 16 + hexv(r->s[j + 2 + k]);
                    if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                        j += 6;
                    }
                }
            }
            cp = (uint32_t) v;
            r->i = j;
        } else {
            uint32_t n = ew__utf8_decode(r->s + r->i, r->len - r->i, &cp);
            if (!n)
                return 0;
            r->i += n;
        }
        bool ok = cp < 0x80 ? (((cp | 32) >= 'a' && (cp | 32) <= 'z') || cp == '$' || cp == '_' ||
                               (!first && cp >= '0' && cp <= '9'))
                            : (first ? ew__uni_id_start(cp)
                                     : (cp == 0x200C || cp == 0x200D || ew__uni_id_continue(cp)));
        if (!ok)
            return 0;
        first = false;
    }
    if (r->i >= r->len || first)
        return 0;
    uint32_t end = r->i;
    r->i++; /* '>' */
    return end > start ? end : 0;
}

/* An escape after '\' (r->i just past it). In a class, returns the character value or CLASS_ESCAPE; outside a
 * class the value is ignored. */
static uint32_t read_escape(rx_t *r, bool in_class, uint32_t at)
{
    if (eof(r))
        return fail(r, at, "Invalid regular expression: \\ at end of pattern"), 0;
    int c = r->s[r->i];
    switch (c) {
    case 'd': case 'D': case 's': case 'S': case 'w': case 'W':
        r->i++;
        return CLASS_ESCAPE;
    case 'p': case 'P':
        if (r->u)
            return fail(r, at, "Unicode property escapes (\\p{...}) are not supported"), 0;
        r->i++;
        return (uint32_t) c;
    case 'f': r->i++; return '\f';
    case 'n': r->i++; return '\n';
    case 'r': r->i++; return '\r';
    case 't': r->i++; return '\t';
    case 'v': r->i++; return '\v';
    case 'b':
        r->i++;
        return '\b';
    case 'c': {
        int l = r->i + 1 < r->len ? r->s[r->i + 1] : -1;
        if ((l | 32) >= 'a' && (l | 32) <= 'z') {
            r->i += 2;
            return (uint32_t) (l % 32);
        }
        if (!r->u && in_class && ((l >= '0' && l <= '9') || l == '_')) {
            r->i += 2;
            return (uint32_t) (l % 32);
        }
        if (r->u)
            return fail(r, at, "Invalid regular expression: invalid unicode escape"), 0;
        return '\\'; /* Annex B: the backslash is literal, 'c' is read next */
    }
    case 'x': {
        int h1 = r->i + 1 < r->len ? hexv(r->s[r->i + 1]) : -1;
        int h2 = r->i + 2 < r->len ? hexv(r->s[r->i + 2]) : -1;
        if (h1 >= 0 && h2 >= 0) {
            r->i += 3;
            return (uint32_t) (h1 * 16 + h2);
        }
        if (r->u)
            return fail(r, at, "Invalid regular expression: invalid escape"), 0;
        r->i++;
        return 'x';
    }
    case 'u': {
        uint32_t j = r->i + 1;
        if (r->u && j < r->len && r->s[j] == '{') {
            j++;
            uint32_t v = 0, nd = 0;
            while (j < r->len && hexv(r->s[j]) >= 0) {
                v = v * 16 + (uint32_t) hexv(r->s[j++]);
                nd++;
                if (v > 0x10FFFF)
                    return fail(r, at, "Invalid regular expression: invalid unicode escape"), 0;
            }
            if (!nd || j >= r->len || r->s[j] != '}')
                return fail(r, at, "Invalid regular expression: invalid unicode escape"), 0;
            r->i = j + 1;
            return v;
        }
        uint32_t v = 0;
        for (int k = 0; k < 4; k++, j++) {
            if (j >= r->len || hexv(r->s[j]) < 0) {
                if (r->u)
                    return fail(r, at, "Invalid regular expression: invalid unicode escape"), 0;
                r->i++;
                return 'u';
            }
            v = v * 16 + (uint32_t) hexv(r->s[j]);
        }
        r->i = j;
        if (r->u && v >= 0xD800 && v <= 0xDBFF && j + 5 < r->len && r->s[j] == '\\' && r->s[j + 1] == 'u') {
            uint32_t lo = 0;
            bool ok = true;
            for (int k = 0; k < 4; k++) {
                int h = hexv(r->s[j + 2 + k]);
                if (h < 0)
                    ok = false;
                else
                    lo = lo * 16 + (uint32_t) h;
            }
            if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                r->i = j + 6;
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            }
        }
        return v;
    }
    case 'k':
        if (r->u || r->named) {
            r->i++;
            if (peek(r) != '<')
                return fail(r, at, "Invalid regular expression: invalid named reference"), 0;
            r->i++;
            uint32_t start = r->i, end = read_group_name(r);
            if (!end)
                return fail(r, at, "Invalid regular expression: invalid capture group name"), 0;
            if (r->nrefs < 64) {
                r->refs[r->nrefs][0] = start;
                r->refs[r->nrefs][1] = end - start;
                r->refs[r->nrefs][2] = at;
                r->nrefs++;
            }
            return 'k';
        }
        r->i++;
        return 'k';
    case '0':
        if (!(r->i + 1 < r->len && r->s[r->i + 1] >= '0' && r->s[r->i + 1] <= '9')) {
            r->i++;
            return 0;
        }
        if (r->u)
            return fail(r, at, "Invalid regular expression: invalid decimal escape"), 0;
        break; /* legacy octal below */
    case '-':
        if (r->u && !in_class)
            return fail(r, at, "Invalid regular expression: invalid escape"), 0;
        r->i++;
        return '-';
    default:
        break;
    }
    if (c >= '0' && c <= '9') {
        /* A back reference outside classes when it names an existing group; otherwise (non-unicode) a legacy
         * octal escape or an identity escape of 8/9. */
        uint32_t j = r->i, v = 0;
        while (j < r->len && r->s[j] >= '0' && r->s[j] <= '9' && v < 100000)
            v = v * 10 + (uint32_t) (r->s[j++] - '0');
        if (!in_class && v >= 1 && v <= r->groups) {
            r->i = j;
            return 1;
        }
        if (r->u)
            return fail(r, at, "Invalid regular expression: invalid escape"), 0;
        if (c >= '8') {
            r->i++;
            return (uint32_t) c;
        }
        uint32_t o = 0, k = 0;
        while (k < 3 && r->i < r->len && r->s[r->i] >= '0' && r->s[r->i] <= '7' && o * 8 + (uint32_t) (r->s[r->i] - '0') <= 0377) {
            o = o * 8 + (uint32_t) (r->s[r->i] - '0');
            r->i++;
            k++;
        }
        return o;
    }
    if (r->u) {
        if (is_syntax_char(c))
            return r->i++, (uint32_t) c;
        return fail(r, at, "Invalid regular expression: invalid escape"), 0;
    }
    return read_char(r);
}

static bool parse_class(rx_t *r)
{
    uint32_t open = r->i - 1;
    if (peek(r) == '^')
        r->i++;
    for (;;) {
        if (eof(r))
            return fail(r, open, "Invalid regular expression: missing /");
        if (r->s[r->i] == ']') {
            r->i++;
            return true;
        }
        uint32_t at = r->i;
        uint32_t a;
        if (r->s[r->i] == '\\') {
            r->i++;
            a = read_escape(r, true, at);
            if (r->err)
                return false;
        } else {
            a = read_char(r);
        }
        if (peek(r) == '-' && r->i + 1 < r->len && r->s[r->i + 1] != ']') {
            r->i++;
            uint32_t bt = r->i, b;
            if (r->s[r->i] == '\\') {
                r->i++;
                b = read_escape(r, true, bt);
                if (r->err)
                    return false;
            } else {
                b = read_char(r);
            }
            if (a == CLASS_ESCAPE || b == CLASS_ESCAPE) {
                if (r->u)
                    return fail(r, at, "Invalid regular expression: invalid character class");
                continue;
            }
            if (a > b)
                return fail(r, at, "Invalid regular expression: range out of order in character class");
        }
    }
}

static bool parse_disjunction(rx_t *r);

/* '(' already read. */
static bool parse_group(rx_t *r, bool *quantifiable)
{
    uint32_t open = r->i - 1;
    *quantifiable = true;
    if (peek(r) == '?') {
        r->i++;
        int c = peek(r);
        if (c == ':') {
            r->i++;
        } else if (c == '=' || c == '!') {
            r->i++;
            *quantifiable = !r->u; /* Annex B: lookaheads are quantifiable without u */
        } else if (c == '<') {
            r->i++;
            int d = peek(r);
            if (d == '=' || d == '!')
                return fail(r, open, "Lookbehind assertions in regular expressions are not supported");
            uint32_t start = r->i, end = read_group_name(r);
            if (!end)
                return fail(r, open, "Invalid regular expression: invalid capture group name");
            for (uint32_t k = 0; k < r->nnames; k++)
                if (r->names[k][1] == end - start && memcmp(r->s + r->names[k][0], r->s + start, end - start) == 0)
                    return fail(r, open, "Invalid regular expression: duplicate capture group name");
            if (r->nnames < 64) {
                r->names[r->nnames][0] = start;
                r->names[r->nnames][1] = end - start;
                r->nnames++;
            }
        } else {
            return fail(r, open, "Invalid regular expression: invalid group");
        }
    }
    if (++r->depth > 500)
        return fail(r, open, "Invalid regular expression: too much nesting");
    if (!parse_disjunction(r))
        return false;
    r->depth--;
    if (peek(r) != ')')
        return fail(r, open, "Invalid regular expression: unterminated group");
    r->i++;
    return true;
}

/* One term: an assertion or an atom with an optional quantifier. */
static bool parse_term(rx_t *r)
{
    uint32_t at = r->i;
    int c = r->s[r->i];
    bool quantifiable = true;
    switch (c) {
    case '^': case '$':
        r->i++;
        quantifiable = false;
        break;
    case '*': case '+': case '?':
        return fail(r, at, "Invalid regular expression: nothing to repeat");
    case '{': {
        bool bad;
        if (r->u || read_braces_quantifier(r, &bad))
            return fail(r, at, "Invalid regular expression: nothing to repeat");
        r->i++;
        break;
    }
    case '}': case ']':
        if (r->u)
            return fail(r, at, "Invalid regular expression: lone quantifier brackets");
        r->i++;
        break;
    case '(':
        r->i++;
        if (!parse_group(r, &quantifiable))
            return false;
        break;
    case '[':
        r->i++;
        if (!parse_class(r))
            return false;
        break;
    case '\\':
        r->i++;
        if (peek(r) == 'b' || peek(r) == 'B') {
            r->i++;
            quantifiable = false;
            break;
        }
        read_escape(r, false, at);
        if (r->err)
            return false;
        break;
    default:
        read_char(r);
        if (r->pending_low)
            read_char(r);
    }
    /* quantifier */
    int q = peek(r);
    bool bad = false;
    if (q == '*' || q == '+' || q == '?' || (q == '{' && read_braces_quantifier(r, &bad))) {
        if (q != '{')
            r->i++;
        else if (bad)
            return fail(r, at, "Invalid regular expression: numbers out of order in {} quantifier");
        if (!quantifiable)
            return fail(r, at, "Invalid regular expression: nothing to repeat");
        if (peek(r) == '?')
            r->i++;
    } else if (q == '{' && r->u) {
        return fail(r, r->i, "Invalid regular expression: incomplete quantifier");
    }
    return true;
}

static bool parse_disjunction(rx_t *r)
{
    for (;;) {
        while (!eof(r) && r->s[r->i] != '|' && r->s[r->i] != ')')
            if (!parse_term(r))
                return false;
        if (eof(r) || r->s[r->i] == ')')
            return true;
        r->i++; /* '|' */
    }
}

/* Counts capturing groups and notes named ones before parsing (back references may point forward). */
static void prescan(rx_t *r)
{
    bool in_class = false;
    for (uint32_t i = 0; i < r->len; i++) {
        unsigned char c = r->s[i];
        if (c == '\\') {
            i++;
        } else if (c == '[') {
            in_class = true;
        } else if (c == ']') {
            in_class = false;
        } else if (c == '(' && !in_class) {
            if (i + 1 < r->len && r->s[i + 1] == '?') {
                if (i + 2 < r->len && r->s[i + 2] == '<' && i + 3 < r->len && r->s[i + 3] != '=' &&
                    r->s[i + 3] != '!') {
                    r->groups++;
                    r->named = true;
                }
            } else {
                r->groups++;
            }
        }
    }
}

const char *ew__regexp_check(const char *body, uint32_t len, const char *flags, uint32_t flags_len, uint32_t *err_at,
                             bool *in_flags)
{
    rx_t r;
    memset(&r, 0, sizeof r);
    const char *known = "dgimsuy";
    bool seen[7] = {0};
    for (uint32_t i = 0; i < flags_len; i++) {
        const char *f = strchr(known, flags[i]);
        if (!f || !flags[i] || seen[f - known]) {
            *err_at = i;
            *in_flags = true;
            return "Invalid regular expression flags";
        }
        seen[f - known] = true;
    }
    r.s = (const unsigned char *) body;
    r.len = len;
    r.u = seen[5];
    prescan(&r);
    if (parse_disjunction(&r) && !eof(&r))
        fail(&r, r.i, "Invalid regular expression: unmatched ')'");
    for (uint32_t k = 0; !r.err && k < r.nrefs; k++) {
        bool found = false;
        for (uint32_t g = 0; g < r.nnames && !found; g++)
            found = r.names[g][1] == r.refs[k][1] && memcmp(body + r.names[g][0], body + r.refs[k][0], r.refs[k][1]) == 0;
        if (!found)
            fail(&r, r.refs[k][2], "Invalid regular expression: invalid named capture referenced");
    }
    *in_flags = false;
    *err_at = r.err_at;
    return r.err;
}
