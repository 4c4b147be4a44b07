/*
 * lower_regex.c — regular expression literals for Duktape's ES5 regex engine (called on each literal by the
 * last walk, lower_template.c).
 *
 * Translated:
 *   - the `s` flag: `.` outside classes becomes `[\s\S]` (the flag is dropped);
 *   - the `u` flag: `\u{X}` escapes become `\uXXXX` (or a surrogate pair group outside classes); the flag is
 *     dropped, so `.` and classes see UTF-16 code units (documented deviation);
 *   - named groups: `(?<n>` becomes `(`, `\k<n>` the group's number, and the literal is wrapped in
 *     `$ew.regexGroups(re, names)`, which gives exec() results a `.groups` object.
 *   - the `y` and `d` flags: the literal is compiled with `g` and wrapped in
 *     `$ew.regexFlags(re, source, flags, names, map)` (lib/js/helpers_regex.js, loaded on first use), whose
 *     exec matches only at lastIndex for `y` and adds `.indices` for `d`; for `d` the pattern is rewritten
 *     by lower_regex_indices.c (map: where each original group went and how its start is computed); for
 *     `y` the pattern P becomes `(?:P)|()`: a search from lastIndex then always ends at lastIndex (the
 *     empty alternative matches there when P does not, setting the added last group), so a failing sticky
 *     match costs one attempt, not a scan of the rest of the string.
 * Rejected with a SyntaxError at the literal (no silent wrong result): astral code points inside a class with
 * `u`, and what lower_regex_indices.c cannot place exactly. Lookbehind and `\p{}` are rejected by the parser
 * (regexp.c).
 */
#include <stdio.h>
#include <string.h>

#include "lower.h"

typedef struct rbuf {
    ew__lower_t *L;
    char *s;
    uint32_t len, cap;
} rbuf_t;

static void put(rbuf_t *b, const char *s, uint32_t n)
{
    if (b->len + n > b->cap) {
        uint32_t c = b->cap ? b->cap * 2 : 64;
        while (c < b->len + n)
            c *= 2;
        char *p = ew__lalloc(b->L, c);
        EW__MEMCPY(p, b->s, b->len);
        b->s = p;
        b->cap = c;
    }
    EW__MEMCPY(b->s + b->len, s, n);
    b->len += n;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                                                                       : -1;
}

/* The names of the capturing groups, by number - 1 (NULL for unnamed ones). */
typedef struct groups {
    ew__str_t *names;
    uint32_t n, cap;
    bool any;
} groups_t;

static void scan_groups(ew__lower_t *L, const char *s, uint32_t len, groups_t *g)
{
    bool in_class = false;
    for (uint32_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\') {
            i++;
            continue;
        }
        if (in_class) {
            in_class = c != ']';
            continue;
        }
        if (c == '[') {
            in_class = true;
            continue;
        }
        if (c != '(')
            continue;
        ew__str_t name = {NULL, 0};
        if (i + 1 < len && s[i + 1] == '?') {
            if (!(i + 2 < len && s[i + 2] == '<' && i + 3 < len && s[i + 3] != '=' && s[i + 3] != '!'))
                continue; /* (?: (?= (?! (?<= (?<! : not capturing */
            uint32_t j = i + 3;
            while (j < len && s[j] != '>')
                j++;
            name = (ew__str_t){s + i + 3, j - (i + 3)};
            g->any = true;
        }
        if (g->n == g->cap) {
            uint32_t c2 = g->cap ? g->cap * 2 : 8;
            ew__str_t *p = ew__lalloc(L, c2 * sizeof *p);
            EW__MEMCPY(p, g->names, g->n * sizeof *p);
            g->names = p;
            g->cap = c2;
        }
        g->names[g->n++] = name;
    }
}

static void put_unit(rbuf_t *b, uint32_t u)
{
    char x[16];
    snprintf(x, sizeof x, "\\u%04X", (unsigned) u);
    put(b, x, 6);
}

void ew__lower_regex(ew__lower_t *L, ew__node_t **slot)
{
    ew__node_t *n = *slot;
    const char *s = n->as.literal.string.s, *f = n->as.literal.flags.s;
    uint32_t len = n->as.literal.string.len, flen = n->as.literal.flags.len;
    bool dot_all = false, unicode = false;
    char flags[8];
    uint32_t nf = 0;
    bool sticky = false, indices = false, global = false;
    ew__str_t source = n->as.literal.string, flags_given = n->as.literal.flags;
    for (uint32_t i = 0; i < flen; i++) {
        if (f[i] == 's')
            dot_all = true;
        else if (f[i] == 'u')
            unicode = true;
        else if (f[i] == 'y')
            sticky = true;
        else if (f[i] == 'd')
            indices = true;
        else if (nf < sizeof flags - 1)
            flags[nf++] = f[i];
        global |= f[i] == 'g';
    }
    bool emulate = sticky || indices; /* compiled with g; $ew.regexFlags matches from lastIndex itself */
    if (emulate && !global)
        flags[nf++] = 'g';
    groups_t g = {0};
    if (memchr(s, '(', len))
        scan_groups(L, s, len, &g);
    /* Annex B identity escapes Duktape rejects: `\x` and `\u` without their hex digits mean "x" and "u" */
    bool bare_escape = false;
    for (uint32_t i = 0; !unicode && !bare_escape && i + 1 < len; i++) {
        if (s[i] == '\\') {
            bare_escape = s[i + 1] == 'x' || s[i + 1] == 'u';
            i++;
        }
    }
    if (!dot_all && !unicode && !g.any && !bare_escape && !emulate)
        return;
    rbuf_t b = {L, NULL, 0, 0};
    bool in_class = false;
    for (uint32_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < len) {
            char d = s[i + 1];
            if (unicode && d == 'u' && i + 2 < len && s[i + 2] == '{') {
                uint32_t cp = 0, j = i + 3;
                while (j < len && hexval(s[j]) >= 0)
                    cp = cp * 16 + (uint32_t) hexval(s[j++]);
                if (cp <= 0xFFFF) {
                    put_unit(&b, cp);
                } else if (in_class) {
                    ew__lower_error(L, n, "a code point outside the BMP in a character class with the u flag "
                                          "cannot be translated for Duktape's regex engine");
                } else {
                    put(&b, "(?:", 3);
                    put_unit(&b, 0xD800 + ((cp - 0x10000) >> 10));
                    put_unit(&b, 0xDC00 + ((cp - 0x10000) & 0x3FF));
                    put(&b, ")", 1);
                }
                i = j; /* at the '}' */
                continue;
            }
            if (g.any && d == 'k' && i + 2 < len && s[i + 2] == '<') {
                uint32_t j = i + 3;
                while (j < len && s[j] != '>')
                    j++;
                ew__str_t name = {s + i + 3, j - (i + 3)};
                uint32_t k = 0;
                while (k < g.n && !(g.names[k].len == name.len && g.names[k].s &&
                                    !memcmp(g.names[k].s, name.s, name.len)))
                    k++;
                if (k == g.n)
                    ew__lower_error(L, n, "Invalid named capture referenced in regular expression");
                char num[16];
                int m = snprintf(num, sizeof num, "\\%u", k + 1);
                put(&b, num, (uint32_t) m);
                i = j;
                continue;
            }
            if (!unicode && (d == 'x' || d == 'u')) {
                uint32_t need = d == 'x' ? 2 : 4, k = 0;
                while (k < need && i + 2 + k < len && hexval(s[i + 2 + k]) >= 0)
                    k++;
                if (k < need) { /* not an escape: the letter itself */
                    put(&b, &s[i + 1], 1);
                    i++;
                    continue;
                }
            }
            put(&b, s + i, 2);
            i++;
            continue;
        }
        if (in_class) {
            in_class = c != ']';
            if (unicode && (unsigned char) c >= 0xF0)
                ew__lower_error(L, n, "a code point outside the BMP in a character class with the u flag "
                                      "cannot be translated for Duktape's regex engine");
            put(&b, s + i, 1);
            continue;
        }
        if (c == '[') {
            in_class = true;
        } else if (c == '.' && dot_all) {
            put(&b, "[\\s\\S]", 6);
            continue;
        } else if (c == '(' && g.any && i + 2 < len && s[i + 1] == '?' && s[i + 2] == '<' && i + 3 < len &&
                   s[i + 3] != '=' && s[i + 3] != '!') {
            uint32_t j = i + 3;
            while (j < len && s[j] != '>')
                j++;
            put(&b, "(", 1);
            i = j;
            continue;
        }
        put(&b, s + i, 1);
    }
    n->as.literal.string = (ew__str_t){b.s ? b.s : "", b.len};
    char *fl = ew__lalloc(L, nf + 1);
    EW__MEMCPY(fl, flags, nf);
    n->as.literal.flags = (ew__str_t){fl, nf};
    if (!g.any && !emulate)
        return;
    ew__nodes_t names = {0};
    uint32_t cap = 0;
    for (uint32_t i = 0; i < g.n; i++)
        ew__nodes_push(L, &names, &cap, g.names[i].s ? ew__b_str(L, g.names[i].s, g.names[i].len, n)
                                                     : ew__b_null(L, n));
    if (!emulate) {
        *slot = ew__b_helper(L, "regexGroups", ew__b_list(L, 2, n, ew__b_array(L, names, n)), n);
        L->regex_groups = true;
        return;
    }
    L->regex_flags = true;
    ew__node_t *map = indices ? ew__lower_regex_indices(L, n, &n->as.literal.string) : ew__b_null(L, n);
    if (sticky) { /* `(?:P)|()`: the search from lastIndex ends there, the last group set if P fails there */
        ew__str_t p = n->as.literal.string;
        char *w = ew__lalloc(L, p.len + 8);
        EW__MEMCPY(w, "(?:", 3);
        EW__MEMCPY(w + 3, p.s, p.len);
        EW__MEMCPY(w + 3 + p.len, ")|()", 4);
        n->as.literal.string = (ew__str_t){w, p.len + 7};
    }
    *slot = ew__b_helper(L, "regexFlags",
                         ew__b_list(L, 5, n, ew__b_str(L, source.s, source.len, n),
                                    ew__b_str(L, flags_given.s, flags_given.len, n),
                                    g.any ? ew__b_array(L, names, n) : ew__b_null(L, n), map),
                         n);
}
