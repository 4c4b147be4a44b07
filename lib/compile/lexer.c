/*
 * lexer.c — ECMAScript 2022 tokens from UTF-8 source.
 *
 * The parser drives the lexer: ew__lex_next reads one token into p->tok. Two tokens depend on syntactic context
 * the lexer cannot see, and the parser asks for them explicitly: a "/" where an expression may start is re-read
 * as a regular expression (ew__lex_regex), and the "}" that closes a template substitution is re-read as the next
 * template piece (ew__lex_template_continue). Lookahead is a save/restore of the small lexer state.
 *
 * Speed: identifiers are hashed while they are scanned and interned in an open hash table, so reserved words and
 * contextual keywords are recognised by one lookup and compared by pointer; strings without escapes point into the
 * source; decoded values are written straight into the arena (a decoded literal is never longer than its source
 * text, so the raw length is the allocation and the unused tail is given back).
 *
 * Columns are UTF-16 code units: a line that is pure ASCII so far needs a subtraction; otherwise col_of counts from
 * a cached point on the line (so minified files with one huge non-ASCII line stay linear).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const tok_texts[] = {
#define EW__X_TEXT(n, t) t,
    EW__TOKENS(EW__X_TEXT)
#undef EW__X_TEXT
};

const char *ew__tok_text(ew__tok_t t)
{
    return t < EW__T_COUNT ? tok_texts[t] : "?";
}

/* ---------------------------------------------------------------------------------------------------------
 * Characters
 */

static inline bool ascii_id_start(unsigned c)
{
    return (c | 32) - 'a' < 26 || c == '$' || c == '_';
}

static inline bool ascii_id_part(unsigned c)
{
    return (c | 32) - 'a' < 26 || c - '0' < 10 || c == '$' || c == '_';
}

static inline bool is_digit(unsigned c)
{
    return c - '0' < 10;
}

static int hex_val(unsigned c)
{
    if (c - '0' < 10)
        return (int) (c - '0');
    if ((c | 32) - 'a' < 6)
        return (int) ((c | 32) - 'a' + 10);
    return -1;
}

uint32_t ew__utf8_decode(const unsigned char *s, uint32_t n, uint32_t *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c < 0xC2)
        return 0;
    if (c < 0xE0) {
        if (n < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        *cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (c == 0xE0 && s[1] < 0xA0))
            return 0;
        *cp = ((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80 ||
            (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
            return 0;
        *cp = ((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

uint32_t ew__utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char) (0xC0 | (cp >> 6));
        out[1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char) (0xE0 | (cp >> 12));
        out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char) (0xF0 | (cp >> 18));
    out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}

/* Appends cp to a WTF-8 buffer, joining a low surrogate with a high surrogate written just before it. */
static uint32_t put_cp(char *buf, uint32_t o, uint32_t cp)
{
    if (cp >= 0xDC00 && cp <= 0xDFFF && o >= 3 && (unsigned char) buf[o - 3] == 0xED &&
        ((unsigned char) buf[o - 2] & 0xF0) == 0xA0) {
        uint32_t hi = 0xD000 | (((unsigned char) buf[o - 2] & 0x3Fu) << 6) | ((unsigned char) buf[o - 1] & 0x3Fu);
        cp = 0x10000 + ((hi - 0xD800) << 10) + (cp - 0xDC00);
        o -= 3;
    }
    return o + ew__utf8_encode(cp, buf + o);
}

/* Unicode white space (Zs plus BOM) other than ASCII: its byte length at s, or 0. */
static uint32_t uni_space(const unsigned char *s, uint32_t n)
{
    if (s[0] == 0xC2 && n >= 2 && s[1] == 0xA0)
        return 2;
    if (n < 3)
        return 0;
    if (s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80)
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] <= 0x8A || s[2] == 0xAF))
        return 3;
    if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F)
        return 3;
    if (s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80)
        return 3;
    if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return 3;
    return 0;
}

/* U+2028 / U+2029 at s? */
static inline bool uni_line_sep(const unsigned char *s, uint32_t n)
{
    return n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9);
}

/* ---------------------------------------------------------------------------------------------------------
 * Positions
 */

static void newline(ew__parser_t *p, uint32_t next)
{
    p->line++;
    p->line_start = next;
    p->line_ascii = true;
}

/* Column (1-based, UTF-16 units) of offset `at` on the current line. */
static uint32_t col_of(ew__parser_t *p, uint32_t at)
{
    if (p->line_ascii)
        return at - p->line_start + 1;
    uint32_t from = p->line_start, units = 0;
    if (p->col_pos >= p->line_start && p->col_pos <= at) {
        from = p->col_pos;
        units = p->col_units;
    }
    const unsigned char *s = (const unsigned char *) p->src;
    for (uint32_t i = from; i < at; i++) {
        if ((s[i] & 0xC0) != 0x80)
            units++;
        if (s[i] >= 0xF0)
            units++; /* four bytes: a surrogate pair */
    }
    p->col_pos = at;
    p->col_units = units;
    return units + 1;
}

void ew__pos_linecol(ew__parser_t *p, uint32_t at, uint32_t *line, uint32_t *col)
{
    if (at >= p->line_start && at <= p->len) {
        *line = p->line;
        *col = col_of(p, at);
        return;
    }
    /* An earlier line (errors reported at a declaration seen before): count from the top. Rare, so slow is fine. */
    const unsigned char *s = (const unsigned char *) p->src;
    uint32_t ln = 1, ls = 0;
    for (uint32_t i = 0; i < at && i < p->len; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && !(i + 1 < p->len && s[i + 1] == '\n')) ||
            uni_line_sep(s + i, p->len - i)) {
            ln++;
            ls = i + (s[i] == 0xE2 ? 3 : 1);
        }
    }
    uint32_t units = 0;
    for (uint32_t i = ls; i < at; i++) {
        if ((s[i] & 0xC0) != 0x80)
            units++;
        if (s[i] >= 0xF0)
            units++;
    }
    *line = ln;
    *col = units + 1;
}

void ew__lex_save(const ew__parser_t *p, ew__lex_state_t *s)
{
    s->pos = p->pos;
    s->line = p->line;
    s->line_start = p->line_start;
    s->col_pos = p->col_pos;
    s->col_units = p->col_units;
    s->prev_end = p->prev_end;
    s->prev_line = p->prev_line;
    s->line_ascii = p->line_ascii;
    s->tok = p->tok;
}

void ew__lex_restore(ew__parser_t *p, const ew__lex_state_t *s)
{
    p->pos = s->pos;
    p->line = s->line;
    p->line_start = s->line_start;
    p->col_pos = s->col_pos;
    p->col_units = s->col_units;
    p->prev_end = s->prev_end;
    p->prev_line = s->prev_line;
    p->line_ascii = s->line_ascii;
    p->tok = s->tok;
}

/* ---------------------------------------------------------------------------------------------------------
 * Atoms: FNV-1a hashed, open addressing with linear probing, table doubled at 50% load.
 */

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = FNV_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char) s[i]) * FNV_PRIME;
    return h;
}

static void atoms_grow(ew__parser_t *p)
{
    uint32_t cap = p->atoms ? (p->atom_mask + 1) * 2 : 1024;
    ew__atom_t **tab = ew__palloc(p, cap * sizeof *tab);
    memset(tab, 0, cap * sizeof *tab);
    if (p->atoms) {
        for (uint32_t i = 0; i <= p->atom_mask; i++) {
            ew__atom_t *a = p->atoms[i];
            if (!a)
                continue;
            uint32_t j = a->hash & (cap - 1);
            while (tab[j])
                j = (j + 1) & (cap - 1);
            tab[j] = a;
        }
    }
    p->atoms = tab;
    p->atom_mask = cap - 1;
}

static ew__atom_t *intern_hashed(ew__parser_t *p, const char *s, uint32_t len, uint32_t h)
{
    uint32_t i = h & p->atom_mask;
    for (;;) {
        ew__atom_t *a = p->atoms[i];
        if (!a)
            break;
        if (a->hash == h && a->len == len && memcmp(a->s, s, len) == 0)
            return a;
        i = (i + 1) & p->atom_mask;
    }
    ew__atom_t *a = ew__palloc(p, sizeof *a);
    char *copy = ew__palloc(p, len + 1);
    memcpy(copy, s, len);
    copy[len] = 0;
    memset(a, 0, sizeof *a);
    a->s = copy;
    a->len = len;
    a->hash = h;
    p->atoms[i] = a;
    if (++p->atom_count * 2 > p->atom_mask)
        atoms_grow(p);
    return a;
}

ew__atom_t *ew__intern(ew__parser_t *p, const char *s, size_t len)
{
    return intern_hashed(p, s, (uint32_t) len, hash_bytes(s, len));
}

void ew__lex_init(ew__parser_t *p)
{
    atoms_grow(p);
    for (int t = EW__T_FIRST_KEYWORD; t < EW__T_COUNT; t++)
        ew__intern(p, tok_texts[t], strlen(tok_texts[t]))->keyword = (uint8_t) t;
    ew__names_t *n = &p->n;
#define NAME(field, text) (n->field = ew__intern(p, text, sizeof text - 1))->flags |= EW__ATOM_SPECIAL
    NAME(let, "let"); NAME(static_, "static"); NAME(yield, "yield"); NAME(await, "await");
    NAME(async, "async"); NAME(of, "of"); NAME(get, "get"); NAME(set, "set"); NAME(as, "as");
    NAME(from, "from"); NAME(target, "target"); NAME(meta, "meta"); NAME(eval, "eval");
    NAME(arguments, "arguments"); NAME(constructor, "constructor"); NAME(prototype, "prototype");
    NAME(proto, "__proto__"); NAME(default_, "default"); NAME(star, "*");
    NAME(implements, "implements"); NAME(interface, "interface"); NAME(package, "package");
    NAME(private_, "private"); NAME(protected_, "protected"); NAME(public_, "public");
#undef NAME
    p->line = 1;
    p->line_start = 0;
    p->line_ascii = true;
    /* A hashbang line is a comment, only at the very start. */
    if (p->len >= 2 && p->src[0] == '#' && p->src[1] == '!') {
        uint32_t i = 2;
        while (i < p->len && p->src[i] != '\n' && p->src[i] != '\r' &&
               !uni_line_sep((const unsigned char *) p->src + i, p->len - i))
            i++;
        p->pos = i;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * White space and comments
 */

static void skip_block_comment(ew__parser_t *p, uint32_t start)
{
    const unsigned char *s = (const unsigned char *) p->src;
    uint32_t i = p->pos + 2;
    for (;;) {
        if (i >= p->len)
            ew__perror(p, start, "Unterminated comment");
        unsigned c = s[i];
        if (c == '*' && i + 1 < p->len && s[i + 1] == '/') {
            p->pos = i + 2;
            return;
        }
        if (c == '\n' || (c == '\r' && !(i + 1 < p->len && s[i + 1] == '\n'))) {
            newline(p, i + 1);
            p->tok.flags |= EW__TF_NL_BEFORE;
        } else if (c >= 0x80) {
            if (uni_line_sep(s + i, p->len - i)) {
                newline(p, i + 3);
                p->tok.flags |= EW__TF_NL_BEFORE;
                i += 3;
                continue;
            }
            p->line_ascii = false;
        }
        i++;
    }
}

static void skip_line_comment(ew__parser_t *p, uint32_t i)
{
    const unsigned char *s = (const unsigned char *) p->src;
    while (i < p->len && s[i] != '\n' && s[i] != '\r') {
        if (s[i] >= 0x80) {
            if (uni_line_sep(s + i, p->len - i))
                break;
            p->line_ascii = false;
        }
        i++;
    }
    p->pos = i;
}

/* Skips white space, line terminators and comments before a token, noting a line break for ASI. */
static void skip_space(ew__parser_t *p)
{
    const unsigned char *s = (const unsigned char *) p->src;
    for (;;) {
        if (p->pos >= p->len)
            return;
        unsigned c = s[p->pos];
        switch (c) {
        case ' ': case '\t': case '\v': case '\f':
            p->pos++;
            continue;
        case '\n':
            p->pos++;
            newline(p, p->pos);
            p->tok.flags |= EW__TF_NL_BEFORE;
            continue;
        case '\r':
            p->pos += (p->pos + 1 < p->len && s[p->pos + 1] == '\n') ? 2 : 1;
            newline(p, p->pos);
            p->tok.flags |= EW__TF_NL_BEFORE;
            continue;
        case '/':
            if (p->pos + 1 < p->len && s[p->pos + 1] == '/') {
                skip_line_comment(p, p->pos + 2);
                continue;
            }
            if (p->pos + 1 < p->len && s[p->pos + 1] == '*') {
                skip_block_comment(p, p->pos);
                continue;
            }
            return;
        case '<':
            /* Annex B: `<!--` starts a single-line comment in scripts. */
            if (!p->module && p->pos + 3 < p->len && memcmp(s + p->pos, "<!--", 4) == 0) {
                skip_line_comment(p, p->pos + 4);
                continue;
            }
            return;
        case '-':
            /* Annex B: `-->` at the start of a line (after only space/comments) is a single-line comment. */
            if (!p->module && (p->tok.flags & EW__TF_NL_BEFORE || p->prev_end == 0) && p->pos + 2 < p->len &&
                s[p->pos + 1] == '-' && s[p->pos + 2] == '>') {
                skip_line_comment(p, p->pos + 3);
                continue;
            }
            return;
        default:
            if (c < 0x80)
                return;
            if (uni_line_sep(s + p->pos, p->len - p->pos)) {
                p->pos += 3;
                newline(p, p->pos);
                p->tok.flags |= EW__TF_NL_BEFORE;
                continue;
            }
            uint32_t n = uni_space(s + p->pos, p->len - p->pos);
            if (!n)
                return;
            p->line_ascii = false;
            p->pos += n;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Identifiers
 */

/* Reads a \u escape at s[*i] (pointing at the backslash); returns the code point or -1. */
static int64_t read_unicode_escape(const char *s, uint32_t len, uint32_t *i)
{
    uint32_t j = *i;
    if (j + 1 >= len || s[j] != '\\' || s[j + 1] != 'u')
        return -1;
    j += 2;
    int64_t cp = 0;
    if (j < len && s[j] == '{') {
        j++;
        uint32_t digits = 0;
        while (j < len && hex_val((unsigned char) s[j]) >= 0) {
            cp = cp * 16 + hex_val((unsigned char) s[j]);
            if (cp > 0x10FFFF)
                return -1;
            j++;
            digits++;
        }
        if (!digits || j >= len || s[j] != '}')
            return -1;
        *i = j + 1;
        return cp;
    }
    for (int k = 0; k < 4; k++, j++) {
        int h = j < len ? hex_val((unsigned char) s[j]) : -1;
        if (h < 0)
            return -1;
        cp = cp * 16 + h;
    }
    *i = j;
    return cp;
}

static bool cp_id_start(uint32_t cp)
{
    return cp < 0x80 ? ascii_id_start(cp) : ew__uni_id_start(cp);
}

static bool cp_id_part(uint32_t cp)
{
    return cp < 0x80 ? ascii_id_part(cp) : (cp == 0x200C || cp == 0x200D || ew__uni_id_continue(cp));
}

/* Slow path for identifiers with escapes or non-ASCII characters: decodes from `start` into the arena. */
static ew__atom_t *read_ident_slow(ew__parser_t *p, uint32_t start, bool *escaped)
{
    const char *s = p->src;
    uint32_t i = start, cap = 0;
    /* First pass: find the end (decoded length <= source length). */
    for (;;) {
        if (i >= p->len)
            break;
        unsigned c = (unsigned char) s[i];
        if (c < 0x80 && ascii_id_part(c)) {
            i++;
        } else if (c == '\\') {
            uint32_t j = i;
            if (read_unicode_escape(s, p->len, &j) < 0)
                ew__perror(p, i, "Invalid Unicode escape sequence");
            i = j;
        } else if (c >= 0x80) {
            uint32_t cp, n = ew__utf8_decode((const unsigned char *) s + i, p->len - i, &cp);
            if (!n)
                ew__perror(p, i, "Invalid UTF-8 in source");
            if (!cp_id_part(cp))
                break;
            i += n;
        } else {
            break;
        }
    }
    cap = i - start;
    char *buf = ew__palloc(p, cap + 4);
    uint32_t o = 0;
    *escaped = false;
    for (uint32_t j = start; j < i;) {
        uint32_t cp;
        uint32_t at = j;
        if (s[j] == '\\') {
            cp = (uint32_t) read_unicode_escape(s, p->len, &j);
            *escaped = true;
        } else {
            j += ew__utf8_decode((const unsigned char *) s + j, p->len - j, &cp);
        }
        if (o == 0 ? !cp_id_start(cp) : !cp_id_part(cp))
            ew__perror(p, at, "Invalid or unexpected token");
        o += ew__utf8_encode(cp, buf + o);
    }
    p->pos = i;
    p->line_ascii = false;
    ew__atom_t *a = ew__intern(p, buf, o);
    ew__arena_shrink_last(p->arena, buf, cap + 4, 0);
    return a;
}

static void read_ident(ew__parser_t *p, uint32_t start)
{
    const unsigned char *s = (const unsigned char *) p->src;
    uint32_t i = start, h = FNV_OFFSET;
    while (i < p->len && ascii_id_part(s[i])) {
        h = (h ^ s[i]) * FNV_PRIME;
        i++;
    }
    ew__atom_t *a;
    bool escaped = false;
    if (i < p->len && (s[i] == '\\' || s[i] >= 0x80)) {
        a = read_ident_slow(p, start, &escaped);
    } else {
        a = intern_hashed(p, (const char *) s + start, i - start, h);
        p->pos = i;
    }
    p->tok.atom = a;
    p->tok.type = EW__T_NAME;
    if (escaped)
        p->tok.flags |= EW__TF_ESCAPED;
    else if (a->keyword)
        p->tok.type = a->keyword;
}

/* `#name` */
static void read_private(ew__parser_t *p, uint32_t start)
{
    uint32_t i = start + 1;
    unsigned c = i < p->len ? (unsigned char) p->src[i] : 0;
    if (!(ascii_id_start(c) || c == '\\' || c >= 0x80))
        ew__perror(p, start, "Invalid or unexpected token");
    read_ident(p, i);
    if (p->tok.atom->len == 0)
        ew__perror(p, start, "Invalid or unexpected token");
    p->tok.type = EW__T_PRIVATE;
}

/* ---------------------------------------------------------------------------------------------------------
 * Numbers
 */

/* Digits of `radix` with numeric separators from *i; appends the digits (no '_') to buf[*o] if buf.
 * Returns the number of digits. A separator must sit between two digits. */
static uint32_t read_digits(ew__parser_t *p, uint32_t *i, int radix, bool seps, char *buf, uint32_t *o, double *val)
{
    const char *s = p->src;
    uint32_t n = 0;
    bool last_sep = false;
    while (*i < p->len) {
        unsigned c = (unsigned char) s[*i];
        if (c == '_' && seps) {
            if (n == 0 || last_sep)
                ew__perror(p, *i, "Numeric separators are not allowed here");
            last_sep = true;
            (*i)++;
            continue;
        }
        int d = hex_val(c);
        if (d < 0 || d >= radix)
            break;
        if (val)
            *val = *val * radix + d;
        if (buf)
            buf[(*o)++] = (char) c;
        last_sep = false;
        n++;
        (*i)++;
    }
    if (last_sep)
        ew__perror(p, *i - 1, "Numeric separators are not allowed at the end of numeric literals");
    return n;
}

static void number_tail(ew__parser_t *p, uint32_t i, uint32_t start)
{
    if (i < p->len && p->src[i] == 'n')
        ew__perror(p, start, "BigInt literals are not supported");
    unsigned c = i < p->len ? (unsigned char) p->src[i] : 0;
    if (ascii_id_part(c) || c == '\\' || c >= 0x80) {
        uint32_t cp = c;
        if (c >= 0x80)
            ew__utf8_decode((const unsigned char *) p->src + i, p->len - i, &cp);
        if (c < 0x80 || c == '\\' || cp_id_start(cp))
            ew__perror(p, i, "Invalid or unexpected token");
    }
    p->pos = i;
    p->tok.type = EW__T_NUM;
}


static void read_number(ew__parser_t *p, uint32_t start)
{
    const char *s = p->src;
    uint32_t i = start;
    double v = 0;
    if (s[i] == '0' && i + 1 < p->len) {
        unsigned c = (unsigned char) s[i + 1] | 32;
        int radix = c == 'x' ? 16 : c == 'o' ? 8 : c == 'b' ? 2 : 0;
        if (radix) {
            i += 2;
            if (!read_digits(p, &i, radix, true, NULL, NULL, &v))
                ew__perror(p, start, "Invalid or unexpected token");
            p->tok.num = v;
            number_tail(p, i, start);
            return;
        }
        if (is_digit((unsigned char) s[i + 1]) || s[i + 1] == '_') {
            /* Legacy octal (017) or a decimal with a leading zero (089): sloppy mode only, no separators. */
            bool octal = true;
            uint32_t j = i + 1;
            while (j < p->len && is_digit((unsigned char) s[j])) {
                if (s[j] >= '8')
                    octal = false;
                j++;
            }
            if (j < p->len && s[j] == '_')
                ew__perror(p, j, "Numeric separators are not allowed here");
            p->tok.flags |= EW__TF_OCTAL;
            p->tok.bad_pos = start;
            if (octal) {
                for (uint32_t k = i + 1; k < j; k++)
                    v = v * 8 + (s[k] - '0');
                p->tok.num = v;
                number_tail(p, j, start);
                return;
            }
            /* 089 and 08.5 are decimal; fall through to the decimal reader. */
        }
    }
    char small[128];
    char *buf = small;
    uint32_t cap = 0;
    for (uint32_t j = i; j < p->len && (ascii_id_part((unsigned char) s[j]) || s[j] == '.' ||
                                         ((s[j] == '+' || s[j] == '-') && (s[j - 1] | 32) == 'e'));
         j++)
        cap++;
    if (cap + 8 > sizeof small)
        buf = ew__palloc(p, cap + 8);
    uint32_t o = 0;
    bool is_int = true;
    bool seps = !(p->tok.flags & EW__TF_OCTAL);
    if (s[i] != '.')
        read_digits(p, &i, 10, seps, buf, &o, NULL);
    if (i < p->len && s[i] == '.') {
        is_int = false;
        buf[o++] = '.';
        i++;
        if (i < p->len && s[i] == '_')
            ew__perror(p, i, "Numeric separators are not allowed here");
        read_digits(p, &i, 10, seps, buf, &o, NULL);
    }
    if (i < p->len && (s[i] | 32) == 'e') {
        is_int = false;
        buf[o++] = 'e';
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-'))
            buf[o++] = s[i++];
        if (i < p->len && s[i] == '_')
            ew__perror(p, i, "Numeric separators are not allowed here");
        if (!read_digits(p, &i, 10, seps, buf, &o, NULL))
            ew__perror(p, start, "Invalid or unexpected token");
    }
    buf[o] = 0;
    if (is_int && o <= 15) {
        for (uint32_t k = 0; k < o; k++)
            v = v * 10 + (buf[k] - '0');
    } else {
        v = ew__strtod_c(p, buf);
    }
    if (is_int && (p->tok.flags & EW__TF_OCTAL) && i < p->len && s[i] == 'n')
        ew__perror(p, start, "Invalid or unexpected token");
    p->tok.num = v;
    number_tail(p, i, start);
}

/* ---------------------------------------------------------------------------------------------------------
 * Strings and templates
 */

/* Decodes one escape sequence at s[*i] (just after the backslash) into buf at *o. Returns false if the escape is
 * invalid (bad \x or \u); *octal is set for legacy octal escapes and \8 \9. Line continuations produce nothing. */
static bool decode_escape(ew__parser_t *p, uint32_t *i, char *buf, uint32_t *o, bool *octal)
{
    const char *s = p->src;
    unsigned c = (unsigned char) s[*i];
    uint32_t cp;
    switch (c) {
    case 'n': cp = '\n'; break;
    case 't': cp = '\t'; break;
    case 'r': cp = '\r'; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'v': cp = '\v'; break;
    case '\r':
        if (*i + 1 < p->len && s[*i + 1] == '\n')
            (*i)++;
        /* fallthrough */
    case '\n':
        (*i)++;
        newline(p, *i);
        return true;
    case 'x': {
        int h1 = *i + 1 < p->len ? hex_val((unsigned char) s[*i + 1]) : -1;
        int h2 = *i + 2 < p->len ? hex_val((unsigned char) s[*i + 2]) : -1;
        if (h1 < 0 || h2 < 0)
            return false;
        *i += 3;
        *o = put_cp(buf, *o, (uint32_t) (h1 * 16 + h2));
        return true;
    }
    case 'u': {
        uint32_t j = *i - 1;
        int64_t v = read_unicode_escape(s, p->len, &j);
        if (v < 0)
            return false;
        *i = j;
        *o = put_cp(buf, *o, (uint32_t) v);
        return true;
    }
    default:
        if (c >= '0' && c <= '7') {
            /* \0 not followed by a digit is NUL; anything else is a legacy octal escape (up to \377). */
            uint32_t v = c - '0', j = *i + 1;
            if (c == '0' && !(j < p->len && is_digit((unsigned char) s[j]))) {
                cp = 0;
                break;
            }
            *octal = true;
            if (j < p->len && s[j] >= '0' && s[j] <= '7') {
                v = v * 8 + (uint32_t) (s[j++] - '0');
                if (c <= '3' && j < p->len && s[j] >= '0' && s[j] <= '7')
                    v = v * 8 + (uint32_t) (s[j++] - '0');
            }
            *i = j;
            *o = put_cp(buf, *o, v);
            return true;
        }
        if (c == '8' || c == '9') {
            *octal = true;
            cp = c;
            break;
        }
        if (c >= 0x80) {
            uint32_t n = ew__utf8_decode((const unsigned char *) s + *i, p->len - *i, &cp);
            if (!n)
                ew__perror(p, *i, "Invalid UTF-8 in source");
            p->line_ascii = false;
            if (cp == 0x2028 || cp == 0x2029) {
                *i += n;
                newline(p, *i);
                return true; /* line continuation */
            }
            memcpy(buf + *o, s + *i, n);
            *o += n;
            *i += n;
            return true;
        }
        cp = c;
    }
    (*i)++;
    *o = put_cp(buf, *o, cp);
    return true;
}

static void read_string(ew__parser_t *p, uint32_t start)
{
    const unsigned char *s = (const unsigned char *) p->src;
    unsigned quote = s[start];
    uint32_t i = start + 1;
    /* Fast path: no escapes; the value points into the source. */
    while (i < p->len && s[i] != quote && s[i] != '\\' && s[i] != '\n' && s[i] != '\r') {
        if (s[i] >= 0x80)
            p->line_ascii = false;
        i++;
    }
    if (i < p->len && s[i] == quote) {
        p->tok.str.s = p->src + start + 1;
        p->tok.str.len = i - start - 1;
        p->pos = i + 1;
        p->tok.type = EW__T_STRING;
        return;
    }
    uint32_t cap = p->len - start;
    uint32_t end = i;
    while (end < p->len && s[end] != quote) {
        if (s[end] == '\\')
            end++;
        else if (s[end] == '\n' || s[end] == '\r')
            break;
        end++;
    }
    cap = end - start + 4;
    char *buf = ew__palloc(p, cap);
    uint32_t o = i - start - 1;
    memcpy(buf, s + start + 1, o);
    for (;;) {
        if (i >= p->len || s[i] == '\n' || s[i] == '\r')
            ew__perror(p, start, "Invalid or unexpected token");
        unsigned c = s[i];
        if (c == quote)
            break;
        if (c == '\\') {
            bool octal = false;
            uint32_t at = i;
            i++;
            if (i >= p->len)
                ew__perror(p, start, "Invalid or unexpected token");
            if (!decode_escape(p, &i, buf, &o, &octal))
                ew__perror(p, at, "Invalid hexadecimal escape sequence");
            if (octal && !(p->tok.flags & EW__TF_OCTAL)) {
                p->tok.flags |= EW__TF_OCTAL;
                p->tok.bad_pos = at;
            }
            continue;
        }
        if (c >= 0x80)
            p->line_ascii = false;
        buf[o++] = (char) c;
        i++;
    }
    ew__arena_shrink_last(p->arena, buf, cap, o);
    p->tok.str.s = buf;
    p->tok.str.len = o;
    p->pos = i + 1;
    p->tok.type = EW__T_STRING;
}

/* A template piece from `i` (just after "`" or "}") to "`" or "${". Invalid escapes make cooked NULL. */
static void read_template(ew__parser_t *p, uint32_t i)
{
    const unsigned char *s = (const unsigned char *) p->src;
    uint32_t begin = i, end = i;
    bool simple = true;
    while (end < p->len && s[end] != '`' && !(s[end] == '$' && end + 1 < p->len && s[end + 1] == '{')) {
        if (s[end] == '\\') {
            simple = false;
            end++;
        } else if (s[end] == '\r') {
            simple = false;
        }
        end++;
    }
    if (end >= p->len)
        ew__perror(p, p->tok.start, "Unterminated template literal");
    char *cooked = NULL, *raw = NULL;
    uint32_t o = 0, ro = 0, cap = end - begin + 4;
    if (!simple) {
        cooked = ew__palloc(p, cap);
        raw = ew__palloc(p, cap);
    }
    bool bad = false;
    while (i < end) {
        unsigned c = s[i];
        if (c == '\n' || c == '\r' || (c == 0xE2 && uni_line_sep(s + i, p->len - i))) {
            uint32_t n = c == 0xE2 ? 3 : (c == '\r' && i + 1 < end && s[i + 1] == '\n') ? 2 : 1;
            if (!simple) {
                /* CR and CRLF become LF in both the raw and the cooked value. */
                const char *nl = c == 0xE2 ? (const char *) s + i : "\n";
                uint32_t nn = c == 0xE2 ? 3 : 1;
                memcpy(cooked + o, nl, nn);
                memcpy(raw + ro, nl, nn);
                o += nn;
                ro += nn;
            }
            i += n;
            newline(p, i);
            continue;
        }
        if (c == '\\' && !simple) {
            uint32_t at = i, j = i + 1;
            bool octal = false;
            bool ok = decode_escape(p, &j, cooked, &o, &octal);
            if ((!ok || octal) && !bad) {
                bad = true;
                p->tok.bad_pos = at;
            }
            if (!ok)
                j = at + 2;
            /* raw keeps the escape's source text (with CRLF normalised in a line continuation) */
            for (uint32_t k = at; k < j; k++) {
                if (s[k] == '\r') {
                    raw[ro++] = '\n';
                    if (k + 1 < j && s[k + 1] == '\n')
                        k++;
                } else {
                    raw[ro++] = (char) s[k];
                }
            }
            i = j;
            continue;
        }
        if (c >= 0x80)
            p->line_ascii = false;
        if (!simple) {
            cooked[o++] = (char) c;
            raw[ro++] = (char) c;
        }
        i++;
    }
    if (simple) {
        p->tok.str.s = (const char *) s + begin;
        p->tok.str.len = end - begin;
        p->tok.raw = p->tok.str;
    } else {
        p->tok.str.s = bad ? NULL : cooked;
        p->tok.str.len = bad ? 0 : o;
        p->tok.raw.s = raw;
        p->tok.raw.len = ro;
    }
    if (bad)
        p->tok.flags |= EW__TF_TPL_BAD;
    p->tok.type = EW__T_TEMPLATE;
    if (s[end] == '`') {
        p->tok.flags |= EW__TF_TPL_TAIL;
        p->pos = end + 1;
    } else {
        p->pos = end + 2;
    }
}

void ew__lex_template_continue(ew__parser_t *p)
{
    /* The current token is the "}" that ends a substitution; the piece starts right after it. */
    p->tok.flags &= EW__TF_NL_BEFORE;
    p->tok.atom = NULL;
    read_template(p, p->tok.start + 1);
    p->tok.end = p->pos;
}

/* ---------------------------------------------------------------------------------------------------------
 * Regular expressions
 */

void ew__lex_regex(ew__parser_t *p)
{
    const unsigned char *s = (const unsigned char *) p->src;
    uint32_t start = p->tok.start, i = start + 1;
    bool in_class = false;
    for (;;) {
        if (i >= p->len || s[i] == '\n' || s[i] == '\r' || uni_line_sep(s + i, p->len - i))
            ew__perror(p, start, "Invalid regular expression: missing /");
        unsigned c = s[i];
        if (c == '\\') {
            i++;
            if (i >= p->len || s[i] == '\n' || s[i] == '\r' || uni_line_sep(s + i, p->len - i))
                ew__perror(p, start, "Invalid regular expression: missing /");
        } else if (c == '[') {
            in_class = true;
        } else if (c == ']') {
            in_class = false;
        } else if (c == '/' && !in_class) {
            break;
        } else if (c >= 0x80) {
            p->line_ascii = false;
        }
        i++;
    }
    uint32_t body_end = i++;
    uint32_t fstart = i;
    while (i < p->len) {
        unsigned c = s[i];
        if (c == '\\')
            ew__perror(p, i, "Invalid regular expression flags");
        if (c >= 0x80) {
            uint32_t cp, n = ew__utf8_decode(s + i, p->len - i, &cp);
            if (n && cp_id_part(cp))
                ew__perror(p, i, "Invalid regular expression flags");
            break;
        }
        if (!ascii_id_part(c))
            break;
        i++;
    }
    p->tok.type = EW__T_REGEX;
    p->tok.raw.s = (const char *) s + start + 1;
    p->tok.raw.len = body_end - start - 1;
    p->tok.rflags.s = (const char *) s + fstart;
    p->tok.rflags.len = i - fstart;
    p->pos = i;
    p->tok.end = i;
    uint32_t err_at = 0;
    bool in_flags = false;
    const char *msg = ew__regexp_check(p->tok.raw.s, p->tok.raw.len, p->tok.rflags.s, p->tok.rflags.len, &err_at,
                                       &in_flags);
    if (msg)
        ew__perror(p, in_flags ? fstart + err_at : start + 1 + err_at, "%s", msg);
}

/* ---------------------------------------------------------------------------------------------------------
 * Punctuators
 */

/* Longest match of an operator starting with c; sets type and returns its length. */
static uint32_t read_punct(ew__parser_t *p, const unsigned char *s, uint32_t n)
{
    unsigned c = s[0], c1 = n > 1 ? s[1] : 0, c2 = n > 2 ? s[2] : 0, c3 = n > 3 ? s[3] : 0;
    uint8_t *t = &p->tok.type;
    switch (c) {
    case '{': *t = EW__T_LBRACE; return 1;
    case '}': *t = EW__T_RBRACE; return 1;
    case '(': *t = EW__T_LPAREN; return 1;
    case ')': *t = EW__T_RPAREN; return 1;
    case '[': *t = EW__T_LBRACK; return 1;
    case ']': *t = EW__T_RBRACK; return 1;
    case ';': *t = EW__T_SEMI; return 1;
    case ',': *t = EW__T_COMMA; return 1;
    case ':': *t = EW__T_COLON; return 1;
    case '~': *t = EW__T_TILDE; return 1;
    case '.':
        if (c1 == '.' && c2 == '.') { *t = EW__T_ELLIPSIS; return 3; }
        *t = EW__T_DOT; return 1;
    case '?':
        if (c1 == '?') {
            if (c2 == '=') { *t = EW__T_NULLISH_ASSIGN; return 3; }
            *t = EW__T_NULLISH; return 2;
        }
        /* `a?.5:b` is a conditional, not optional chaining */
        if (c1 == '.' && !is_digit(c2)) { *t = EW__T_QDOT; return 2; }
        *t = EW__T_QUESTION; return 1;
    case '=':
        if (c1 == '>') { *t = EW__T_ARROW; return 2; }
        if (c1 == '=') {
            if (c2 == '=') { *t = EW__T_SEQ; return 3; }
            *t = EW__T_EQ; return 2;
        }
        *t = EW__T_ASSIGN; return 1;
    case '!':
        if (c1 == '=') {
            if (c2 == '=') { *t = EW__T_SNE; return 3; }
            *t = EW__T_NE; return 2;
        }
        *t = EW__T_BANG; return 1;
    case '+':
        if (c1 == '+') { *t = EW__T_INC; return 2; }
        if (c1 == '=') { *t = EW__T_PLUS_ASSIGN; return 2; }
        *t = EW__T_PLUS; return 1;
    case '-':
        if (c1 == '-') { *t = EW__T_DEC; return 2; }
        if (c1 == '=') { *t = EW__T_MINUS_ASSIGN; return 2; }
        *t = EW__T_MINUS; return 1;
    case '*':
        if (c1 == '*') {
            if (c2 == '=') { *t = EW__T_STARSTAR_ASSIGN; return 3; }
            *t = EW__T_STARSTAR; return 2;
        }
        if (c1 == '=') { *t = EW__T_STAR_ASSIGN; return 2; }
        *t = EW__T_STAR; return 1;
    case '/':
        if (c1 == '=') { *t = EW__T_SLASH_ASSIGN; return 2; }
        *t = EW__T_SLASH; return 1;
    case '%':
        if (c1 == '=') { *t = EW__T_PERCENT_ASSIGN; return 2; }
        *t = EW__T_PERCENT; return 1;
    case '<':
        if (c1 == '<') {
            if (c2 == '=') { *t = EW__T_SHL_ASSIGN; return 3; }
            *t = EW__T_SHL; return 2;
        }
        if (c1 == '=') { *t = EW__T_LE; return 2; }
        *t = EW__T_LT; return 1;
    case '>':
        if (c1 == '>') {
            if (c2 == '>') {
                if (c3 == '=') { *t = EW__T_SHR_ASSIGN; return 4; }
                *t = EW__T_SHR; return 3;
            }
            if (c2 == '=') { *t = EW__T_SAR_ASSIGN; return 3; }
            *t = EW__T_SAR; return 2;
        }
        if (c1 == '=') { *t = EW__T_GE; return 2; }
        *t = EW__T_GT; return 1;
    case '&':
        if (c1 == '&') {
            if (c2 == '=') { *t = EW__T_AND_ASSIGN; return 3; }
            *t = EW__T_AND; return 2;
        }
        if (c1 == '=') { *t = EW__T_AMP_ASSIGN; return 2; }
        *t = EW__T_AMP; return 1;
    case '|':
        if (c1 == '|') {
            if (c2 == '=') { *t = EW__T_OR_ASSIGN; return 3; }
            *t = EW__T_OR; return 2;
        }
        if (c1 == '=') { *t = EW__T_PIPE_ASSIGN; return 2; }
        *t = EW__T_PIPE; return 1;
    case '^':
        if (c1 == '=') { *t = EW__T_CARET_ASSIGN; return 2; }
        *t = EW__T_CARET; return 1;
    default:
        return 0;
    }
}

void ew__lex_next(ew__parser_t *p)
{
    p->prev_end = p->tok.end;
    p->prev_line = p->line;
    p->tok.flags = 0;
    skip_space(p);
    uint32_t start = p->pos;
    p->tok.start = start;
    p->tok.line = p->line;
    p->tok.col = col_of(p, start);
    p->tok.atom = NULL;
    if (start >= p->len) {
        p->tok.type = EW__T_EOF;
        p->tok.end = start;
        return;
    }
    const unsigned char *s = (const unsigned char *) p->src + start;
    unsigned c = s[0];
    if (ascii_id_start(c) || c == '\\') {
        read_ident(p, start);
    } else if (is_digit(c) || (c == '.' && start + 1 < p->len && is_digit(s[1]))) {
        read_number(p, start);
    } else if (c == '"' || c == '\'') {
        read_string(p, start);
    } else if (c == '`') {
        read_template(p, start + 1);
    } else if (c == '#') {
        read_private(p, start);
    } else if (c >= 0x80) {
        uint32_t cp;
        if (!ew__utf8_decode(s, p->len - start, &cp))
            ew__perror(p, start, "Invalid UTF-8 in source");
        if (!ew__uni_id_start(cp))
            ew__perror(p, start, "Invalid or unexpected token");
        read_ident(p, start);
    } else {
        uint32_t n = read_punct(p, s, p->len - start);
        if (!n)
            ew__perror(p, start, "Invalid or unexpected token");
        p->pos = start + n;
    }
    p->tok.end = p->pos;
}
