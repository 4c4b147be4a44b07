/*
 * toml.c — the TOML 1.0.0 reader (https://toml.io/en/v1.0.0): wrangler.toml → the configuration tree of
 * value.c. Called through ew__toml_parse / ew__cfg_read_file by ew-server's config layer and by the
 * toml-test decoder (tests/config/toml2json.c), which measures it against the toml-test suite.
 *
 * A single-pass recursive-descent parser over the whole buffer: the file is first checked to be UTF-8, then
 * read line by line (key/value pairs, [table] and [[array of tables]] headers). Everything the spec forbids
 * is an error with file:line:col, since a person reads it: control characters, bad escapes, leading zeros,
 * int64 overflow, impossible dates, and the redefinition rules of tables (see the comment above
 * open_header). Values, strings and keys go straight into the document's arena; scratch buffers for decoded
 * strings and key parts are reused, so parsing is linear in the size of the input.
 *
 * Recursion is bounded by EW__CFG_MAX_DEPTH (nested arrays and inline tables), so hostile input cannot
 * exhaust the stack; dotted keys and headers are handled iteratively.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* How a table came to be (value->flags); decides which later definitions are allowed. */
enum {
    F_IMPLICIT = 1 << 0, /* created as a parent by a header ([a.b.c] creates a and a.b); may be defined once */
    F_HEADER = 1 << 1,   /* defined by a [header] (or an element of [[header]]) */
    F_DOTTED = 1 << 2,   /* created by a dotted key (a.b = 1 creates a); dotted keys may add to it */
    F_INLINE = 1 << 3,   /* an inline table or a table inside one: complete as written */
    F_AOT = 1 << 4,      /* on an array: made by [[header]], so [[header]] may append to it */
};

typedef struct buf {
    char *ptr;
    size_t len, cap;
} buf_t;

/* One part of a (possibly dotted) key; the bytes are parser.keys.ptr[off, off + len). */
typedef struct key_part {
    size_t off, len;
    size_t src;               /* offset of the part in the input, for error positions */
    uint32_t line, col;       /* the same as line:col, found while parsing (the locator is fast forwards only) */
} key_part_t;

typedef struct parser {
    const char *s;
    size_t len, pos;
    ew__cfg_doc_t *doc;
    ew_error_t *err;
    ew_status_t status;       /* EW_OK until the first error */
    ew__cfg_locator_t loc;
    ew__cfg_value_t *current; /* the table key/value lines go to (the last header's) */
    int depth;                /* nesting of arrays and inline tables */
    buf_t str;                /* a decoded string */
    buf_t keys;               /* decoded key parts */
    key_part_t *parts;
    size_t nparts, parts_cap;
} parser_t;

/* ---------------------------------------------------------------------------------------------------------
 * Errors and small helpers
 */

static int fail(parser_t *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the first error (at byte offset `off`) and returns -1, which every parse function passes up. */
static int fail(parser_t *p, size_t off, const char *fmt, ...)
{
    if (p->status != EW_OK)
        return -1;
    uint32_t line, col;
    ew__cfg_locate(&p->loc, off, &line, &col);
    va_list ap;
    va_start(ap, fmt);
    p->status = ew__cfg_verror(p->err, EW_ERR_SYNTAX, p->doc->file, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

static int oom(parser_t *p)
{
    if (p->status == EW_OK) {
        ew__cfg_errorf(p->err, EW_ERR_NOMEM, p->doc->file, 0, 0, "out of memory");
        p->status = EW_ERR_NOMEM;
    }
    return -1;
}

/* How to show the byte at `off` in a message: 'x', end of file, a newline, or U+XXXX for control characters. */
static const char *show(const parser_t *p, size_t off, char out[32])
{
    if (off >= p->len)
        return "end of file";
    unsigned char c = (unsigned char)p->s[off];
    if (c == '\n' || c == '\r')
        return "end of line";
    if (c < 0x20 || c == 0x7F)
        snprintf(out, 32, "control character U+%04X", c);
    else if (c >= 0x80)
        return "a non-ASCII character";
    else
        snprintf(out, 32, "'%c'", c);
    return out;
}

static int buf_put(parser_t *p, buf_t *b, const char *data, size_t n)
{
    if (n == 0)
        return 0;
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        char *np = realloc(b->ptr, cap);
        if (!np)
            return oom(p);
        b->ptr = np;
        b->cap = cap;
    }
    memcpy(b->ptr + b->len, data, n);
    b->len += n;
    return 0;
}

static int peek(const parser_t *p, size_t ahead)
{
    return p->pos + ahead < p->len ? (unsigned char)p->s[p->pos + ahead] : -1;
}

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Control characters TOML allows nowhere except tab (and newlines where the grammar says). */
static bool is_control(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7F;
}

static void skip_ws(parser_t *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

/* Consumes a newline (LF or CRLF) if one is next; a CR without LF is an error. 1: consumed, 0: none, -1. */
static int eat_newline(parser_t *p)
{
    int c = peek(p, 0);
    if (c == '\n') {
        p->pos++;
        return 1;
    }
    if (c == '\r') {
        if (peek(p, 1) != '\n')
            return fail(p, p->pos, "carriage return (U+000D) not followed by a line feed");
        p->pos += 2;
        return 1;
    }
    return 0;
}

/* A comment runs from '#' to the end of the line; control characters other than tab are not allowed in it. */
static int skip_comment(parser_t *p)
{
    if (peek(p, 0) != '#')
        return 0;
    for (p->pos++; p->pos < p->len; p->pos++) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '\n' || (c == '\r' && peek(p, 1) == '\n'))
            break;
        if (is_control(c))
            return fail(p, p->pos, "control character U+%04X in a comment", c);
    }
    return 0;
}

/* Whitespace, comments and newlines, as allowed between array elements. */
static int skip_blank(parser_t *p)
{
    for (;;) {
        skip_ws(p);
        if (skip_comment(p) < 0)
            return -1;
        int nl = eat_newline(p);
        if (nl < 0)
            return -1;
        if (nl == 0)
            return 0;
    }
}

/* After a key/value pair or header: optional whitespace and comment, then a newline or the end of file. */
static int end_of_line(parser_t *p, const char *after)
{
    skip_ws(p);
    if (skip_comment(p) < 0)
        return -1;
    if (p->pos >= p->len)
        return 0;
    int nl = eat_newline(p);
    if (nl != 0)
        return nl < 0 ? -1 : 0;
    char tmp[32];
    return fail(p, p->pos, "expected a newline or a comment after %s, found %s", after, show(p, p->pos, tmp));
}

static ew__cfg_value_t *new_value_at(parser_t *p, ew__cfg_type_t type, uint32_t line, uint32_t col)
{
    ew__cfg_value_t *v = ew__cfg_new(p->doc, type, line, col);
    if (!v)
        oom(p);
    return v;
}

/* A value at byte offset `off`: callers ask in increasing order of offsets, which keeps locating linear. */
static ew__cfg_value_t *new_value(parser_t *p, ew__cfg_type_t type, size_t off)
{
    uint32_t line, col;
    ew__cfg_locate(&p->loc, off, &line, &col);
    return new_value_at(p, type, line, col);
}

/* ---------------------------------------------------------------------------------------------------------
 * Strings
 */

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* An escape sequence at p->pos ('\\'), appended decoded to p->str. */
static int parse_escape(parser_t *p)
{
    size_t at = p->pos;
    int c = peek(p, 1);
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *k = c > 0 ? strchr(from, c) : NULL;
    if (k) {
        p->pos += 2;
        return buf_put(p, &p->str, &to[k - from], 1);
    }
    if (c != 'u' && c != 'U') {
        char tmp[32];
        if (c < 0x20 || c >= 0x7F)
            return fail(p, at, "invalid escape sequence: '\\' followed by %s", show(p, at + 1, tmp));
        return fail(p, at, "invalid escape sequence '\\%c' (valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX "
                    "\\UXXXXXXXX)", c);
    }
    int n = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 0; i < n; i++) {
        int h = hex_value(peek(p, 2 + (size_t)i));
        if (h < 0)
            return fail(p, at, "\\%c must be followed by %d hexadecimal digits", c, n);
        cp = cp << 4 | (uint32_t)h;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(p, at, "\\%c%0*X is not a Unicode scalar value", c, n, (unsigned)cp);
    p->pos += 2 + (size_t)n;
    char out[4];
    return buf_put(p, &p->str, out, ew__cfg_utf8_put(out, cp));
}

/* Appends the plain bytes from p->pos up to the first byte that needs attention (quote, backslash, control). */
static int copy_plain(parser_t *p, char quote)
{
    size_t start = p->pos;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == (unsigned char)quote || c == '\\' || c < 0x20 || c == 0x7F)
            break;
        p->pos++;
    }
    return buf_put(p, &p->str, p->s + start, p->pos - start);
}

/* "basic" or 'literal' single-line string at p->pos; decoded into p->str. */
static int parse_line_string(parser_t *p)
{
    char quote = p->s[p->pos];
    size_t start = p->pos++;
    p->str.len = 0;
    for (;;) {
        if (copy_plain(p, quote) < 0)
            return -1;
        int c = peek(p, 0);
        if (c == quote) {
            p->pos++;
            return 0;
        }
        if (c == '\\' && quote == '"') {
            if (parse_escape(p) < 0)
                return -1;
            continue;
        }
        if (c == '\\') {
            p->pos++;
            if (buf_put(p, &p->str, "\\", 1) < 0)
                return -1;
            continue;
        }
        if (c < 0 || c == '\n' || c == '\r')
            return fail(p, start, "unterminated string (a single-line string must end on its line; use %s%s%s for "
                        "multi-line text)", quote == '"' ? "\"\"\"" : "'''", "...", quote == '"' ? "\"\"\"" : "'''");
        if (c == '\t') {
            p->pos++;
            if (buf_put(p, &p->str, "\t", 1) < 0)
                return -1;
            continue;
        }
        return fail(p, p->pos, "control character U+%04X in a string must be escaped", c);
    }
}

/* Inside a multi-line basic string: '\' then optional whitespace then a newline trims everything up to the
 * next non-whitespace character. Returns 1 when that was the case (consumed), 0 when not. */
static int line_ending_backslash(parser_t *p)
{
    size_t i = p->pos + 1;
    while (i < p->len && (p->s[i] == ' ' || p->s[i] == '\t'))
        i++;
    if (i >= p->len || (p->s[i] != '\n' && p->s[i] != '\r'))
        return 0;
    p->pos = i;
    for (;;) {
        skip_ws(p);
        int nl = eat_newline(p);
        if (nl <= 0)
            return nl < 0 ? -1 : 1;
    }
}

/* A run of quote characters inside a multi-line string: fewer than three are content; three end the string,
 * and up to two more right before them are content too ("""a""""" is `a""`). 1: ended, 0: content, -1. */
static int quote_run(parser_t *p, char quote)
{
    size_t n = 0;
    while (p->pos + n < p->len && p->s[p->pos + n] == quote)
        n++;
    if (n > 5)
        return fail(p, p->pos, "too many quotes in a row in a multi-line string (escape some, or use the other "
                    "kind of string)");
    size_t content = n >= 3 ? n - 3 : n;
    char q[2] = {quote, quote};
    if (content && buf_put(p, &p->str, q, content) < 0)
        return -1;
    p->pos += n;
    return n >= 3;
}

/* """multi-line basic""" or '''multi-line literal''' at p->pos; decoded into p->str. A newline right after
 * the opening delimiter is not part of the string; CRLF becomes LF. */
static int parse_multiline_string(parser_t *p)
{
    char quote = p->s[p->pos];
    size_t start = p->pos;
    p->pos += 3;
    p->str.len = 0;
    if (eat_newline(p) < 0)
        return -1;
    for (;;) {
        if (copy_plain(p, quote) < 0)
            return -1;
        int c = peek(p, 0), r;
        if (c < 0)
            return fail(p, start, "unterminated multi-line string (no closing %s)", quote == '"' ? "\"\"\"" : "'''");
        if (c == quote) {
            if ((r = quote_run(p, quote)) != 0)
                return r < 0 ? -1 : 0;
        } else if (c == '\\' && quote == '"') {
            if ((r = line_ending_backslash(p)) < 0 || (r == 0 && parse_escape(p) < 0))
                return -1;
        } else if (c == '\\' || c == '\t') {
            p->pos++;
            if (buf_put(p, &p->str, c == '\t' ? "\t" : "\\", 1) < 0)
                return -1;
        } else if (c == '\n' || c == '\r') {
            if (eat_newline(p) < 0 || buf_put(p, &p->str, "\n", 1) < 0)
                return -1;
        } else {
            return fail(p, p->pos, "control character U+%04X in a string must be escaped", c);
        }
    }
}

static int parse_string_value(parser_t *p, ew__cfg_value_t **out)
{
    size_t start = p->pos;
    char q = p->s[p->pos];
    bool multi = peek(p, 1) == q && peek(p, 2) == q;
    if ((multi ? parse_multiline_string(p) : parse_line_string(p)) < 0)
        return -1;
    ew__cfg_value_t *v = new_value(p, EW__CFG_STRING, start);
    if (!v)
        return -1;
    v->u.string.ptr = ew__cfg_strdup(p->doc, p->str.ptr, p->str.len);
    v->u.string.len = p->str.len;
    if (!v->u.string.ptr)
        return oom(p);
    *out = v;
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Numbers
 */

/* Digits of `base` with single underscores only between two digits ("1_000", not "_1", "1_", "1__0"). */
static bool digits_ok(const char *s, size_t n, int base)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '_') {
            if (i == 0 || i == n - 1 || s[i + 1] == '_')
                return false;
            continue;
        }
        int d = hex_value((unsigned char)s[i]);
        if (d < 0 || d >= base)
            return false;
    }
    return true;
}

/* 0x / 0o / 0b integers (unsigned in TOML: no sign allowed). */
static int parse_prefixed_int(parser_t *p, const char *tok, size_t n, size_t at, int64_t *out)
{
    int base = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
    if (!digits_ok(tok + 2, n - 2, base))
        return fail(p, at, "invalid %s integer '%.*s'", base == 16 ? "hexadecimal" : base == 8 ? "octal" : "binary",
                    (int)n, tok);
    uint64_t v = 0;
    for (size_t i = 2; i < n; i++) {
        if (tok[i] == '_')
            continue;
        uint64_t d = (uint64_t)hex_value((unsigned char)tok[i]);
        if (v > ((uint64_t)INT64_MAX - d) / (uint64_t)base)
            return fail(p, at, "integer '%.*s' does not fit in 64 bits", (int)n, tok);
        v = v * (uint64_t)base + d;
    }
    *out = (int64_t)v;
    return 0;
}

/* [+-] decimal integer without leading zeros, within int64. */
static int parse_dec_int(parser_t *p, const char *tok, size_t n, size_t at, int64_t *out)
{
    bool neg = tok[0] == '-';
    size_t i = tok[0] == '-' || tok[0] == '+';
    if (!digits_ok(tok + i, n - i, 10))
        return fail(p, at, "invalid number '%.*s'", (int)n, tok);
    if (tok[i] == '0' && n - i > 1)
        return fail(p, at, "leading zeros are not allowed in '%.*s'", (int)n, tok);
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (; i < n; i++) {
        if (tok[i] == '_')
            continue;
        uint64_t d = (uint64_t)(tok[i] - '0');
        if (v > (limit - d) / 10)
            return fail(p, at, "integer '%.*s' does not fit in 64 bits", (int)n, tok);
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* [+-] int-part [. digits] [e [+-] digits] (at least one of the last two), or [+-] inf / nan. */
static int parse_float(parser_t *p, const char *tok, size_t n, size_t at, double *out)
{
    size_t i = tok[0] == '-' || tok[0] == '+';
    if (n - i == 3 && (memcmp(tok + i, "inf", 3) == 0 || memcmp(tok + i, "nan", 3) == 0)) {
        double v = tok[i] == 'i' ? INFINITY : NAN;
        *out = tok[0] == '-' ? -v : v;
        return 0;
    }
    size_t e = i;
    while (e < n && tok[e] != '.' && tok[e] != 'e' && tok[e] != 'E')
        e++;
    size_t frac = e, exp = e;
    if (e < n && tok[e] == '.')
        for (exp = e + 1; exp < n && tok[exp] != 'e' && tok[exp] != 'E'; exp++)
            ;
    bool ok = digits_ok(tok + i, e - i, 10) && !(tok[i] == '0' && e - i > 1);
    if (ok && frac < n && tok[frac] == '.')
        ok = digits_ok(tok + frac + 1, exp - frac - 1, 10);
    if (ok && exp < n) {
        size_t d = exp + 1 + (exp + 1 < n && (tok[exp + 1] == '+' || tok[exp + 1] == '-'));
        ok = digits_ok(tok + d, n - d, 10);
    }
    if (!ok)
        return fail(p, at, "invalid number '%.*s'", (int)n, tok);
    char clean[512], *end;
    size_t k = 0;
    for (size_t j = 0; j < n && k < sizeof clean - 1; j++)
        if (tok[j] != '_')
            clean[k++] = tok[j];
    if (k == sizeof clean - 1)
        return fail(p, at, "number too long");
    clean[k] = '\0';
    errno = 0;
    *out = strtod(clean, &end);
    if (errno == ERANGE && isinf(*out))
        return fail(p, at, "float '%.*s' is out of range", (int)n, tok);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Datetimes
 */

static bool fixed_digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* "HH:MM:SS[.frac]" at tok; returns the bytes used, 0 when malformed. */
static size_t parse_time_part(const char *tok, size_t n, ew__cfg_datetime_t *dt)
{
    if (n < 8 || tok[2] != ':' || tok[5] != ':' || !fixed_digits(tok, 2, &dt->hour) ||
        !fixed_digits(tok + 3, 2, &dt->minute) || !fixed_digits(tok + 6, 2, &dt->second))
        return 0;
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
        return 0;
    size_t i = 8;
    if (i < n && tok[i] == '.') {
        size_t d = 0;
        int ns = 0;
        for (i++; i < n && is_digit((unsigned char)tok[i]); i++, d++)
            if (d < 9)
                ns = ns * 10 + (tok[i] - '0');
        if (d == 0)
            return 0;
        for (; d < 9; d++)
            ns *= 10;
        dt->nanosecond = ns;
    }
    return i;
}

/* "Z" or "+HH:MM" / "-HH:MM"; returns the bytes used, 0 when malformed. */
static size_t parse_offset(const char *tok, size_t n, ew__cfg_datetime_t *dt)
{
    if (n >= 1 && (tok[0] == 'Z' || tok[0] == 'z'))
        return 1;
    int h, m;
    if (n < 6 || (tok[0] != '+' && tok[0] != '-') || tok[3] != ':' || !fixed_digits(tok + 1, 2, &h) ||
        !fixed_digits(tok + 4, 2, &m) || h > 23 || m > 59)
        return 0;
    dt->offset_minutes = (tok[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 6;
}

/* One of the four datetime kinds; tok[0, n) was already recognised as starting like a date or a time. */
static int parse_datetime(parser_t *p, const char *tok, size_t n, size_t at, ew__cfg_value_t **out)
{
    ew__cfg_datetime_t dt = {0};
    ew__cfg_type_t type;
    size_t i = 0, used;
    if (tok[2] == ':') {
        type = EW__CFG_TIME_LOCAL;
        if ((i = parse_time_part(tok, n, &dt)) == 0)
            goto bad;
    } else {
        if (n < 10 || tok[4] != '-' || tok[7] != '-' || !fixed_digits(tok, 4, &dt.year) ||
            !fixed_digits(tok + 5, 2, &dt.month) || !fixed_digits(tok + 8, 2, &dt.day))
            goto bad;
        if (dt.month < 1 || dt.month > 12 || dt.day < 1 || dt.day > days_in_month(dt.year, dt.month))
            return fail(p, at, "'%.*s' is not a valid date", (int)n, tok);
        type = EW__CFG_DATE_LOCAL;
        i = 10;
        if (i < n) {
            if (tok[i] != 'T' && tok[i] != 't' && tok[i] != ' ')
                goto bad;
            if ((used = parse_time_part(tok + i + 1, n - i - 1, &dt)) == 0)
                goto bad;
            i += 1 + used;
            type = EW__CFG_DATETIME_LOCAL;
            if (i < n) {
                if ((used = parse_offset(tok + i, n - i, &dt)) == 0)
                    goto bad;
                i += used;
                type = EW__CFG_DATETIME;
            }
        }
    }
    if (i != n)
        goto bad;
    ew__cfg_value_t *v = new_value(p, type, at);
    if (!v)
        return -1;
    dt.text = ew__cfg_strdup(p->doc, tok, n);
    if (!dt.text)
        return oom(p);
    v->u.datetime = dt;
    *out = v;
    return 0;
bad:
    return fail(p, at, "invalid date/time '%.*s' (expected e.g. 1979-05-27T07:32:00Z, 1979-05-27 07:32:00, "
                "1979-05-27 or 07:32:00)", (int)n, tok);
}

/* ---------------------------------------------------------------------------------------------------------
 * Number-like values: integers, floats, datetimes (all start with a digit, a sign, 'i' or 'n')
 */

static bool is_token_char(int c)
{
    return is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* The extent of a number or datetime at p->pos. A date followed by a space and a time is one token
 * ("1979-05-27 07:32:00"): the only place TOML allows a space inside a value. */
static size_t scan_token(parser_t *p)
{
    size_t i = p->pos;
    while (i < p->len && is_token_char((unsigned char)p->s[i]))
        i++;
    const char *t = p->s + p->pos;
    if (i - p->pos == 10 && t[4] == '-' && t[7] == '-' && i + 3 < p->len && p->s[i] == ' ' &&
        is_digit((unsigned char)p->s[i + 1]) && is_digit((unsigned char)p->s[i + 2]) && p->s[i + 3] == ':') {
        for (i++; i < p->len && is_token_char((unsigned char)p->s[i]); i++)
            ;
    }
    return i - p->pos;
}

static int parse_number_like(parser_t *p, ew__cfg_value_t **out)
{
    size_t at = p->pos, n = scan_token(p);
    const char *tok = p->s + at;
    p->pos += n;
    if (n == 0) {
        char tmp[32];
        return fail(p, at, "expected a value, found %s", show(p, at, tmp));
    }
    if (n >= 3 && is_digit((unsigned char)tok[0]) && is_digit((unsigned char)tok[1]) &&
        (tok[2] == ':' || (n >= 5 && tok[4] == '-' && is_digit((unsigned char)tok[2]))))
        return parse_datetime(p, tok, n, at, out);
    if (n > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'o' || tok[1] == 'b')) {
        ew__cfg_value_t *v = new_value(p, EW__CFG_INTEGER, at);
        *out = v;
        return v ? parse_prefixed_int(p, tok, n, at, &v->u.integer) : -1;
    }
    bool is_float = memchr(tok, '.', n) || memchr(tok, 'e', n) || memchr(tok, 'E', n) ||
                    memchr(tok, 'i', n) || memchr(tok, 'n', n);
    ew__cfg_value_t *v = new_value(p, is_float ? EW__CFG_FLOAT : EW__CFG_INTEGER, at);
    *out = v;
    if (!v)
        return -1;
    return is_float ? parse_float(p, tok, n, at, &v->u.number) : parse_dec_int(p, tok, n, at, &v->u.integer);
}

/* ---------------------------------------------------------------------------------------------------------
 * Keys
 */

/* A human-readable dotted key for messages: parts [0, n) of p->parts, quoted where not bare, truncated. */
static const char *key_text(const parser_t *p, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && k + 8 < cap; i++) {
        const char *s = p->keys.ptr + p->parts[i].off;
        size_t len = p->parts[i].len;
        bool bare = len > 0;
        for (size_t j = 0; j < len; j++)
            bare = bare && is_bare((unsigned char)s[j]);
        int w = snprintf(out + k, cap - k, "%s%s%.*s%s", i ? "." : "", bare ? "" : "\"", (int)len, s, bare ? "" : "\"");
        k = w < 0 || (size_t)w >= cap - k ? cap - 1 : k + (size_t)w;
    }
    return out;
}

/* One simple key (bare, "basic" or 'literal') at p->pos, appended to p->parts. */
static int parse_simple_key(parser_t *p)
{
    size_t at = p->pos;
    int c = peek(p, 0);
    if (c == '"' || c == '\'') {
        if (peek(p, 1) == c && peek(p, 2) == c)
            return fail(p, at, "a multi-line string cannot be a key");
        if (parse_line_string(p) < 0)
            return -1;
    } else {
        while (p->pos < p->len && is_bare((unsigned char)p->s[p->pos]))
            p->pos++;
        if (p->pos == at) {
            char tmp[32];
            return fail(p, at, "expected a key, found %s (bare keys may contain A-Z a-z 0-9 _ -; quote others)",
                        show(p, at, tmp));
        }
        p->str.len = 0;
        if (buf_put(p, &p->str, p->s + at, p->pos - at) < 0)
            return -1;
    }
    if (p->nparts == p->parts_cap) {
        size_t cap = p->parts_cap ? 2 * p->parts_cap : 8;
        key_part_t *np = realloc(p->parts, cap * sizeof *np);
        if (!np)
            return oom(p);
        p->parts = np;
        p->parts_cap = cap;
    }
    key_part_t *part = &p->parts[p->nparts++];
    *part = (key_part_t){.off = p->keys.len, .len = p->str.len, .src = at};
    ew__cfg_locate(&p->loc, at, &part->line, &part->col);
    return buf_put(p, &p->keys, p->str.ptr ? p->str.ptr : "", p->str.len);
}

/* A dotted key: simple keys separated by '.', with optional whitespace around the dots. */
static int parse_key(parser_t *p)
{
    p->nparts = 0;
    p->keys.len = 0;
    for (;;) {
        if (parse_simple_key(p) < 0)
            return -1;
        skip_ws(p);
        if (peek(p, 0) != '.')
            return 0;
        p->pos++;
        skip_ws(p);
    }
}

static const ew__cfg_member_t *find_part(const parser_t *p, const ew__cfg_value_t *t, size_t i)
{
    return ew__cfg_find(t, p->keys.ptr + p->parts[i].off, p->parts[i].len);
}

static ew__cfg_member_t *add_part(parser_t *p, ew__cfg_value_t *t, size_t i, ew__cfg_value_t *v)
{
    const key_part_t *k = &p->parts[i];
    ew__cfg_member_t *m = ew__cfg_table_add(p->doc, t, p->keys.ptr + k->off, k->len, k->line, k->col, v);
    if (!m)
        oom(p);
    return m;
}

/* ---------------------------------------------------------------------------------------------------------
 * Values, arrays, inline tables
 */

static int parse_value(parser_t *p, ew__cfg_value_t **out);
static int parse_keyval(parser_t *p, ew__cfg_value_t *table, bool in_inline);

static int parse_array(parser_t *p, ew__cfg_value_t **out)
{
    size_t start = p->pos++;
    ew__cfg_value_t *a = new_value(p, EW__CFG_ARRAY, start);
    if (!(*out = a))
        return -1;
    for (;;) {
        if (skip_blank(p) < 0)
            return -1;
        if (peek(p, 0) == ']') {
            p->pos++;
            return 0;
        }
        ew__cfg_value_t *v;
        if (parse_value(p, &v) < 0)
            return -1;
        if (!ew__cfg_array_push(p->doc, a, v))
            return oom(p);
        if (skip_blank(p) < 0)
            return -1;
        int c = peek(p, 0);
        if (c == ',') {
            p->pos++;
        } else if (c != ']') {
            char tmp[32];
            if (c < 0)
                return fail(p, start, "unterminated array (no closing ']')");
            return fail(p, p->pos, "expected ',' or ']' after an array element, found %s", show(p, p->pos, tmp));
        }
    }
}

/* { key = value, ... } on one line, no trailing comma (TOML 1.0). Tables it creates are F_INLINE: no header
 * or dotted key outside it may add to them. */
static int parse_inline_table(parser_t *p, ew__cfg_value_t **out)
{
    size_t start = p->pos++;
    ew__cfg_value_t *t = new_value(p, EW__CFG_TABLE, start);
    if (!(*out = t))
        return -1;
    t->flags = F_INLINE;
    skip_ws(p);
    if (peek(p, 0) == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (parse_keyval(p, t, true) < 0)
            return -1;
        skip_ws(p);
        int c = peek(p, 0);
        char tmp[32];
        if (c == '}') {
            p->pos++;
            return 0;
        }
        if (c == ',') {
            p->pos++;
            skip_ws(p);
            if (peek(p, 0) == '}')
                return fail(p, p->pos - 1, "trailing comma in an inline table (not allowed in TOML 1.0)");
            continue;
        }
        if (c < 0 || c == '\n' || c == '\r')
            return fail(p, p->pos, "unterminated inline table: an inline table must close with '}' on the line "
                        "where it starts");
        return fail(p, p->pos, "expected ',' or '}' after a key/value pair of an inline table, found %s",
                    show(p, p->pos, tmp));
    }
}

static bool match_word(const parser_t *p, const char *w)
{
    size_t n = strlen(w);
    return p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0 &&
           (p->pos + n == p->len || !is_token_char((unsigned char)p->s[p->pos + n]));
}

static int parse_value(parser_t *p, ew__cfg_value_t **out)
{
    int c = peek(p, 0), r;
    if (c == '"' || c == '\'')
        return parse_string_value(p, out);
    if (c == 't' || c == 'f') {
        bool b = c == 't';
        if (!match_word(p, b ? "true" : "false"))
            return fail(p, p->pos, "expected a value (booleans are lowercase true and false; strings need quotes)");
        if (!(*out = new_value(p, EW__CFG_BOOL, p->pos)))
            return -1;
        (*out)->u.boolean = b;
        p->pos += b ? 4 : 5;
        return 0;
    }
    if (c == '[' || c == '{') {
        if (++p->depth > EW__CFG_MAX_DEPTH)
            return fail(p, p->pos, "arrays and inline tables nested more than %d deep", EW__CFG_MAX_DEPTH);
        r = c == '[' ? parse_array(p, out) : parse_inline_table(p, out);
        p->depth--;
        return r;
    }
    if (c == '+' || c == '-' || is_digit(c) || match_word(p, "inf") || match_word(p, "nan"))
        return parse_number_like(p, out);
    char tmp[32];
    if (c < 0 || c == '\n' || c == '\r' || c == '#')
        return fail(p, p->pos, "expected a value after '='");
    return fail(p, p->pos, "expected a value, found %s (strings need quotes)", show(p, p->pos, tmp));
}

/* ---------------------------------------------------------------------------------------------------------
 * Key/value pairs and headers: where definitions may go
 *
 * TOML lets a table be defined once. How it was created decides what may follow (value->flags):
 *   [a.b.c]      defines a.b.c (F_HEADER) and creates a, a.b implicitly (F_IMPLICIT); a later [a] or [a.b]
 *                may define those once, turning them into F_HEADER.
 *   a.b.c = 1    creates a, a.b (F_DOTTED); later dotted keys in the same section may add to them, and a
 *                header may go *through* them ([a.b.x]) but not define them ([a.b]).
 *   a = { ... }  (F_INLINE) and a = [ ... ] are complete as written: nothing may add to them.
 *   [[a]]        appends a table to the array of tables a (F_AOT); [a.x] then refers to its last element.
 * Dotted keys may only enter tables they created themselves (F_DOTTED): adding a.b.c = 1 under [a] when
 * [a.b] was a header elsewhere is the "too confusing" case the spec forbids (toml-lang/toml#846).
 */

/* Stores `v` under the dotted key in p->parts relative to `table` (a key/value line or inline table entry). */
static int assign(parser_t *p, ew__cfg_value_t *table, ew__cfg_value_t *v, bool in_inline)
{
    char name[200];
    ew__cfg_value_t *t = table;
    for (size_t i = 0; i + 1 < p->nparts; i++) {
        const ew__cfg_member_t *m = find_part(p, t, i);
        if (!m) {
            ew__cfg_value_t *nt = new_value_at(p, EW__CFG_TABLE, p->parts[i].line, p->parts[i].col);
            if (!nt || !add_part(p, t, i, nt))
                return -1;
            nt->flags = F_DOTTED | (in_inline ? F_INLINE : 0);
            t = nt;
            continue;
        }
        ew__cfg_value_t *cur = m->value;
        if (cur->type != EW__CFG_TABLE)
            return fail(p, p->parts[i].src, "cannot add keys to '%s': it is already %s %s (at %u:%u)",
                        key_text(p, i + 1, name, sizeof name),
                        strchr("aeiou", ew__cfg_type_name(cur->type)[0]) ? "an" : "a",
                        ew__cfg_type_name(cur->type), (unsigned)m->line, (unsigned)m->col);
        if (!(cur->flags & F_DOTTED))
            return fail(p, p->parts[i].src, "cannot add keys to table '%s' with a dotted key: it was defined %s at "
                        "%u:%u", key_text(p, i + 1, name, sizeof name),
                        cur->flags & F_INLINE ? "as an inline table" : "by a [table] header",
                        (unsigned)cur->line, (unsigned)cur->col);
        t = cur;
    }
    size_t last = p->nparts - 1;
    const ew__cfg_member_t *m = find_part(p, t, last);
    if (m)
        return fail(p, p->parts[last].src, "duplicate key '%s' (first defined at %u:%u)",
                    key_text(p, p->nparts, name, sizeof name), (unsigned)m->line, (unsigned)m->col);
    return add_part(p, t, last, v) ? 0 : -1;
}

static int parse_keyval(parser_t *p, ew__cfg_value_t *table, bool in_inline)
{
    if (parse_key(p) < 0)
        return -1;
    if (peek(p, 0) != '=') {
        char tmp[32];
        return fail(p, p->pos, "expected '=' after a key, found %s", show(p, p->pos, tmp));
    }
    p->pos++;
    skip_ws(p);
    ew__cfg_value_t *v;
    int c = peek(p, 0);
    if (c != '{' && c != '[')
        return parse_value(p, &v) < 0 ? -1 : assign(p, table, v, in_inline);
    /* An inline table (perhaps inside an array) has keys of its own, which reuse p->parts: keep this key's. */
    size_t nparts = p->nparts, keys_len = p->keys.len;
    key_part_t small[8], *saved = nparts <= 8 ? small : malloc(nparts * sizeof *saved);
    char *saved_keys = malloc(keys_len ? keys_len : 1);
    int r = -1;
    if (!saved || !saved_keys) {
        oom(p);
        goto done;
    }
    memcpy(saved, p->parts, nparts * sizeof *saved);
    memcpy(saved_keys, p->keys.ptr, keys_len);
    if (parse_value(p, &v) < 0)
        goto done;
    memcpy(p->parts, saved, nparts * sizeof *saved);
    p->nparts = nparts;
    p->keys.len = 0;
    if (buf_put(p, &p->keys, saved_keys, keys_len) < 0)
        goto done;
    r = assign(p, table, v, in_inline);
done:
    if (saved != small)
        free(saved);
    free(saved_keys);
    return r;
}

/* Walks the header's key parts [0, nparts - 1) from the root, creating implicit tables; the parent table. */
static ew__cfg_value_t *header_parent(parser_t *p)
{
    char name[200];
    ew__cfg_value_t *t = p->doc->root;
    for (size_t i = 0; i + 1 < p->nparts; i++) {
        const ew__cfg_member_t *m = find_part(p, t, i);
        if (!m) {
            ew__cfg_value_t *nt = new_value_at(p, EW__CFG_TABLE, p->parts[i].line, p->parts[i].col);
            if (!nt || !add_part(p, t, i, nt))
                return NULL;
            nt->flags = F_IMPLICIT;
            t = nt;
            continue;
        }
        ew__cfg_value_t *cur = m->value;
        if (cur->type == EW__CFG_ARRAY && (cur->flags & F_AOT)) {
            t = cur->u.array.items[cur->u.array.len - 1];
            continue;
        }
        if (cur->type != EW__CFG_TABLE || (cur->flags & F_INLINE)) {
            fail(p, p->parts[i].src, "cannot define a table inside '%s': it is %s (at %u:%u)%s",
                 key_text(p, i + 1, name, sizeof name),
                 cur->type == EW__CFG_TABLE ? "an inline table" : cur->type == EW__CFG_ARRAY ? "a static array"
                 : "not a table", (unsigned)m->line, (unsigned)m->col,
                 cur->type == EW__CFG_TABLE ? ", and inline tables are complete as written" : "");
            return NULL;
        }
        t = cur;
    }
    return t;
}

/* [[name]]: appends a new table to the array of tables `cur` (creating it under `parent` when NULL). */
static int append_aot_table(parser_t *p, ew__cfg_value_t *parent, ew__cfg_value_t *cur, size_t start, uint32_t line,
                            uint32_t col)
{
    char name[200];
    key_text(p, p->nparts, name, sizeof name);
    if (cur && !(cur->type == EW__CFG_ARRAY && (cur->flags & F_AOT)))
        return fail(p, start, "cannot define [[%s]] as an array of tables: '%s' is already %s (at %u:%u)",
                    name, name, cur->type == EW__CFG_ARRAY ? "a static array" : cur->type == EW__CFG_TABLE ?
                    "a table" : ew__cfg_type_name(cur->type), (unsigned)cur->line, (unsigned)cur->col);
    if (!cur) {
        if (!(cur = new_value_at(p, EW__CFG_ARRAY, line, col)) || !add_part(p, parent, p->nparts - 1, cur))
            return -1;
        cur->flags = F_AOT;
    }
    ew__cfg_value_t *t = new_value_at(p, EW__CFG_TABLE, line, col);
    if (!t || !ew__cfg_array_push(p->doc, cur, t))
        return t ? oom(p) : -1;
    t->flags = F_HEADER;
    p->current = t;
    return 0;
}

/* [name]: defines the table `cur` (creating it under `parent` when NULL); only an implicit table may be. */
static int define_table(parser_t *p, ew__cfg_value_t *parent, ew__cfg_value_t *cur, size_t start, uint32_t line,
                        uint32_t col)
{
    if (cur && !(cur->type == EW__CFG_TABLE && cur->flags == F_IMPLICIT)) {
        char name[200];
        const char *why = cur->type != EW__CFG_TABLE ? (cur->flags & F_AOT ? "an array of tables" : "a value")
                          : cur->flags & F_INLINE ? "an inline table" : cur->flags & F_DOTTED ? "by dotted keys"
                          : "by a header";
        return fail(p, start, "table [%s] is already defined %s%s (at %u:%u)",
                    key_text(p, p->nparts, name, sizeof name),
                    cur->type == EW__CFG_TABLE && !(cur->flags & F_INLINE) ? "" : "as ", why,
                    (unsigned)cur->line, (unsigned)cur->col);
    }
    if (!cur && (!(cur = new_value_at(p, EW__CFG_TABLE, line, col)) || !add_part(p, parent, p->nparts - 1, cur)))
        return -1;
    cur->flags = F_HEADER;
    cur->line = line; /* an implicit table now points at its header */
    cur->col = col;
    p->current = cur;
    return 0;
}

/* [a.b] or [[a.b]] at p->pos: defines the table (or appends one to the array of tables) and makes it current. */
static int parse_header(parser_t *p)
{
    size_t start = p->pos;
    uint32_t line, col;
    ew__cfg_locate(&p->loc, start, &line, &col);
    bool aot = peek(p, 1) == '[';
    p->pos += aot ? 2 : 1;
    skip_ws(p);
    if (parse_key(p) < 0)
        return -1;
    if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
        char tmp[32];
        return fail(p, p->pos, "expected '%s' to close the %s header, found %s", aot ? "]]" : "]",
                    aot ? "[[array of tables]]" : "[table]", show(p, p->pos, tmp));
    }
    p->pos += aot ? 2 : 1;
    ew__cfg_value_t *parent = header_parent(p);
    if (!parent)
        return -1;
    const ew__cfg_member_t *m = find_part(p, parent, p->nparts - 1);
    ew__cfg_value_t *cur = m ? m->value : NULL;
    return aot ? append_aot_table(p, parent, cur, start, line, col) : define_table(p, parent, cur, start, line, col);
}

/* ---------------------------------------------------------------------------------------------------------
 * Document
 */

static int parse_document(parser_t *p)
{
    if (p->len >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0)
        p->pos = 3;
    while (p->pos < p->len) {
        skip_ws(p);
        int c = peek(p, 0), r;
        if (c == '#' || c == '\n' || c == '\r' || c < 0)
            r = end_of_line(p, "whitespace");
        else if (c == '[')
            r = parse_header(p) < 0 ? -1 : end_of_line(p, "a table header");
        else
            r = parse_keyval(p, p->current, false) < 0 ? -1 : end_of_line(p, "a key/value pair");
        if (r < 0)
            return -1;
    }
    return 0;
}

ew_status_t ew__toml_parse(const char *text, size_t len, const char *file, ew__cfg_doc_t **out, ew_error_t *err)
{
    *out = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    parser_t p = {.s = text, .len = len, .err = err, .status = EW_OK};
    if (!(p.doc = ew__cfg_doc_create(file))) {
        ew__cfg_errorf(err, EW_ERR_NOMEM, file, 0, 0, "out of memory");
        return EW_ERR_NOMEM;
    }
    ew__cfg_locator_init(&p.loc, text, len);
    p.current = p.doc->root;
    /* Never NULL, so empty keys and strings need no special case. */
    p.str = (buf_t){malloc(256), 0, 256};
    p.keys = (buf_t){malloc(256), 0, 256};
    size_t bad;
    if (!p.str.ptr || !p.keys.ptr)
        oom(&p);
    else if (!ew__cfg_utf8_valid(text, len, &bad))
        fail(&p, bad, "invalid UTF-8 (byte 0x%02X); TOML files must be UTF-8", (unsigned char)text[bad]);
    else
        parse_document(&p);
    free(p.str.ptr);
    free(p.keys.ptr);
    free(p.parts);
    if (p.status != EW_OK) {
        ew__cfg_doc_destroy(p.doc);
        return p.status;
    }
    *out = p.doc;
    return EW_OK;
}
