/*
 * jsonc.c — the wrangler.json / wrangler.jsonc reader: JSON (RFC 8259) plus // and block comments and a
 * trailing comma before '}' or ']', which is what wrangler accepts (it reads both files with jsonc-parser).
 * It builds the same tree as toml.c (value.c), so the wrangler-config layer reads one shape; called through
 * ew__jsonc_parse / ew__cfg_read_file.
 *
 * Our own small recursive-descent parser rather than cJSON: cJSON knows neither comments nor trailing commas
 * and keeps no positions, and every value here needs its line:col for later messages. Differences from
 * wrangler, on purpose: a key repeated in one object is an error naming both places (wrangler warns and
 * keeps the last); the top-level value must be an object. Recursion is bounded by EW__CFG_MAX_DEPTH.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct parser {
    const char *s;
    size_t len, pos;
    ew__cfg_doc_t *doc;
    ew_error_t *err;
    ew_status_t status;       /* EW_OK until the first error */
    ew__cfg_locator_t loc;
    int depth;
    char *str;                /* scratch for a decoded string */
    size_t str_len, str_cap;
} parser_t;

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
    if (p->status == EW_OK)
        p->status = ew__cfg_errorf(p->err, EW_ERR_NOMEM, p->doc->file, 0, 0, "out of memory");
    return -1;
}

static int peek(const parser_t *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

/* How to show the byte at p->pos in a message. */
static const char *show(const parser_t *p, char out[32])
{
    int c = peek(p);
    if (c < 0)
        return "end of file";
    if (c < 0x20 || c == 0x7F)
        snprintf(out, 32, "control character U+%04X", c);
    else if (c >= 0x80)
        return "a non-ASCII character";
    else
        snprintf(out, 32, "'%c'", c);
    return out;
}

/* Whitespace and comments. An unterminated block comment is an error at its start. */
static int skip_blank(parser_t *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            p->pos++;
        } else if (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '/') {
            while (p->pos < p->len && p->s[p->pos] != '\n')
                p->pos++;
        } else if (c == '/' && p->pos + 1 < p->len && p->s[p->pos + 1] == '*') {
            const char *end = NULL;
            for (size_t i = p->pos + 2; i + 1 < p->len && !end; i++)
                if (p->s[i] == '*' && p->s[i + 1] == '/')
                    end = p->s + i;
            if (!end)
                return fail(p, p->pos, "unterminated comment (no closing */)");
            p->pos = (size_t)(end - p->s) + 2;
        } else {
            return 0;
        }
    }
    return 0;
}

static ew__cfg_value_t *new_value(parser_t *p, ew__cfg_type_t type, size_t off)
{
    uint32_t line, col;
    ew__cfg_locate(&p->loc, off, &line, &col);
    ew__cfg_value_t *v = ew__cfg_new(p->doc, type, line, col);
    if (!v)
        oom(p);
    return v;
}

/* ---------------------------------------------------------------------------------------------------------
 * Strings
 */

static int put(parser_t *p, const char *data, size_t n)
{
    if (p->str_cap - p->str_len < n) {
        size_t cap = p->str_cap ? p->str_cap : 256;
        while (cap - p->str_len < n)
            cap *= 2;
        char *ns = realloc(p->str, cap);
        if (!ns)
            return oom(p);
        p->str = ns;
        p->str_cap = cap;
    }
    memcpy(p->str + p->str_len, data, n);
    p->str_len += n;
    return 0;
}

static int hex4(const char *s, size_t avail)
{
    if (avail < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* \uXXXX at p->pos (the backslash), with a following \uXXXX when the first is a high surrogate. */
static int parse_unicode_escape(parser_t *p)
{
    size_t at = p->pos;
    int hi = hex4(p->s + at + 2, p->len - at - 2);
    if (hi < 0)
        return fail(p, at, "\\u must be followed by 4 hexadecimal digits");
    uint32_t cp = (uint32_t)hi;
    p->pos += 6;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(p, at, "\\u%04X is a lone low surrogate", (unsigned)cp);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int lo = p->len - p->pos >= 6 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u'
                 ? hex4(p->s + p->pos + 2, p->len - p->pos - 2) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, at, "\\u%04X (a high surrogate) must be followed by a \\u escape of a low surrogate",
                        (unsigned)cp);
        cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
        p->pos += 6;
    }
    char out[4];
    return put(p, out, ew__cfg_utf8_put(out, cp));
}

/* "..." at p->pos, decoded into p->str / p->str_len. */
static int parse_string(parser_t *p)
{
    size_t start = p->pos++;
    p->str_len = 0;
    for (;;) {
        size_t run = p->pos;
        while (p->pos < p->len && p->s[p->pos] != '"' && p->s[p->pos] != '\\' && (unsigned char)p->s[p->pos] >= 0x20)
            p->pos++;
        if (put(p, p->s + run, p->pos - run) < 0)
            return -1;
        int c = peek(p);
        if (c == '"') {
            p->pos++;
            return 0;
        }
        if (c < 0 || c == '\n' || c == '\r')
            return fail(p, start, "unterminated string (strings end on the line where they start)");
        if (c != '\\')
            return fail(p, p->pos, "control character U+%04X in a string must be escaped", c);
        int e = p->pos + 1 < p->len ? (unsigned char)p->s[p->pos + 1] : -1;
        if (e == 'u') {
            if (parse_unicode_escape(p) < 0)
                return -1;
            continue;
        }
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = e > 0 ? strchr(from, e) : NULL;
        if (!k)
            return fail(p, p->pos, "invalid escape sequence in a string (valid: \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
                        "\\uXXXX)");
        p->pos += 2;
        if (put(p, &to[k - from], 1) < 0)
            return -1;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Numbers and literals
 */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static size_t skip_digits(const parser_t *p, size_t i)
{
    while (i < p->len && is_digit((unsigned char)p->s[i]))
        i++;
    return i;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? : an integer when it has neither fraction nor exponent and
 * fits in int64, else a float. */
static int parse_number(parser_t *p, ew__cfg_value_t **out)
{
    size_t start = p->pos, i = p->pos;
    if (p->s[i] == '-')
        i++;
    size_t int_start = i;
    i = skip_digits(p, i);
    if (i == int_start)
        return fail(p, start, "invalid number: expected a digit after '-'");
    if (p->s[int_start] == '0' && i - int_start > 1)
        return fail(p, start, "leading zeros are not allowed in JSON numbers");
    bool integer = true;
    if (i < p->len && p->s[i] == '.') {
        size_t f = ++i;
        if ((i = skip_digits(p, i)) == f)
            return fail(p, start, "invalid number: expected a digit after '.'");
        integer = false;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        size_t e = i;
        if ((i = skip_digits(p, i)) == e)
            return fail(p, start, "invalid number: expected a digit in the exponent");
        integer = false;
    }
    char text[400], *end;
    if (i - start >= sizeof text)
        return fail(p, start, "number too long");
    memcpy(text, p->s + start, i - start);
    text[i - start] = '\0';
    p->pos = i;
    errno = 0;
    long long ll = integer ? strtoll(text, &end, 10) : 0;
    if (integer && errno == 0) {
        if (!(*out = new_value(p, EW__CFG_INTEGER, start)))
            return -1;
        (*out)->u.integer = ll;
        return 0;
    }
    errno = 0;
    double d = strtod(text, &end);
    if (errno == ERANGE && isinf(d))
        return fail(p, start, "number %s is too large", text);
    if (!(*out = new_value(p, EW__CFG_FLOAT, start)))
        return -1;
    (*out)->u.number = d;
    return 0;
}

/* true, false or null at p->pos. */
static int parse_literal(parser_t *p, ew__cfg_value_t **out)
{
    static const struct { const char *word; ew__cfg_type_t type; bool value; } words[] = {
        {"true", EW__CFG_BOOL, true}, {"false", EW__CFG_BOOL, false}, {"null", EW__CFG_NULL, false},
    };
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++) {
        size_t n = strlen(words[k].word);
        if (p->len - p->pos >= n && memcmp(p->s + p->pos, words[k].word, n) == 0 &&
            (p->pos + n == p->len || !((p->s[p->pos + n] | 0x20) >= 'a' && (p->s[p->pos + n] | 0x20) <= 'z'))) {
            if (!(*out = new_value(p, words[k].type, p->pos)))
                return -1;
            (*out)->u.boolean = words[k].value;
            p->pos += n;
            return 0;
        }
    }
    char tmp[32];
    return fail(p, p->pos, "expected a value (string, number, object, array, true, false or null), found %s%s",
                show(p, tmp), peek(p) == '\'' ? " (JSON strings use double quotes)" : "");
}

/* ---------------------------------------------------------------------------------------------------------
 * Objects and arrays
 */

static int parse_value(parser_t *p, ew__cfg_value_t **out);

/* One "key": value member of object `obj`, p->pos at the key's opening quote. */
static int parse_member(parser_t *p, ew__cfg_value_t *obj)
{
    size_t key_at = p->pos;
    if (parse_string(p) < 0)
        return -1;
    const ew__cfg_member_t *dup = ew__cfg_find(obj, p->str ? p->str : "", p->str_len);
    if (dup)
        return fail(p, key_at, "duplicate key \"%.*s\" (first defined at %u:%u)", (int)p->str_len, p->str,
                    (unsigned)dup->line, (unsigned)dup->col);
    uint32_t line, col;
    ew__cfg_locate(&p->loc, key_at, &line, &col);
    ew__cfg_member_t *m = ew__cfg_table_add(p->doc, obj, p->str ? p->str : "", p->str_len, line, col, NULL);
    if (!m)
        return oom(p);
    if (skip_blank(p) < 0)
        return -1;
    if (peek(p) != ':') {
        char tmp[32];
        return fail(p, p->pos, "expected ':' after object key, found %s", show(p, tmp));
    }
    p->pos++;
    if (skip_blank(p) < 0)
        return -1;
    return parse_value(p, &m->value);
}

static int parse_object(parser_t *p, ew__cfg_value_t **out)
{
    size_t start = p->pos++;
    ew__cfg_value_t *obj = new_value(p, EW__CFG_TABLE, start);
    if (!(*out = obj))
        return -1;
    char tmp[32];
    for (;;) {
        if (skip_blank(p) < 0)
            return -1;
        int c = peek(p);
        if (c == '}') {
            p->pos++;
            return 0;
        }
        if (c != '"')
            return fail(p, p->pos, "expected a string key or '}' in object, found %s%s", show(p, tmp),
                        c == ',' ? " (an extra comma?)" : c == '\'' ? " (JSON keys use double quotes)" :
                        c < 0 ? "" : " (keys must be quoted)");
        if (parse_member(p, obj) < 0 || skip_blank(p) < 0)
            return -1;
        c = peek(p);
        if (c == ',')
            p->pos++;
        else if (c != '}')
            return fail(p, p->pos, "expected ',' or '}' after object member, found %s", show(p, tmp));
    }
}

static int parse_array(parser_t *p, ew__cfg_value_t **out)
{
    size_t start = p->pos++;
    ew__cfg_value_t *a = new_value(p, EW__CFG_ARRAY, start);
    if (!(*out = a))
        return -1;
    char tmp[32];
    for (;;) {
        if (skip_blank(p) < 0)
            return -1;
        if (peek(p) == ']') {
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
        int c = peek(p);
        if (c == ',')
            p->pos++;
        else if (c != ']')
            return fail(p, p->pos, "expected ',' or ']' after array element, found %s", show(p, tmp));
    }
}

static int parse_value(parser_t *p, ew__cfg_value_t **out)
{
    int c = peek(p), r;
    if (c == '{' || c == '[') {
        if (++p->depth > EW__CFG_MAX_DEPTH)
            return fail(p, p->pos, "objects and arrays nested more than %d deep", EW__CFG_MAX_DEPTH);
        r = c == '{' ? parse_object(p, out) : parse_array(p, out);
        p->depth--;
        return r;
    }
    if (c == '"') {
        size_t start = p->pos;
        if (parse_string(p) < 0 || !(*out = new_value(p, EW__CFG_STRING, start)))
            return -1;
        (*out)->u.string.ptr = ew__cfg_strdup(p->doc, p->str, p->str_len);
        (*out)->u.string.len = p->str_len;
        return (*out)->u.string.ptr ? 0 : oom(p);
    }
    if (c == '-' || is_digit(c))
        return parse_number(p, out);
    return parse_literal(p, out);
}

/* The document: one object, with only whitespace and comments around it. The root table created by
 * ew__cfg_doc_create is replaced by the parsed object (which carries its position). */
static int parse_document(parser_t *p)
{
    if (p->len >= 3 && memcmp(p->s, "\xEF\xBB\xBF", 3) == 0)
        p->pos = 3;
    if (skip_blank(p) < 0)
        return -1;
    if (peek(p) != '{') {
        char tmp[32];
        return fail(p, p->pos, "expected '{' (a configuration file holds one JSON object), found %s", show(p, tmp));
    }
    if (parse_value(p, &p->doc->root) < 0 || skip_blank(p) < 0)
        return -1;
    if (p->pos < p->len) {
        char tmp[32];
        return fail(p, p->pos, "unexpected %s after the end of the top-level object", show(p, tmp));
    }
    return 0;
}

ew_status_t ew__jsonc_parse(const char *text, size_t len, const char *file, ew__cfg_doc_t **out, ew_error_t *err)
{
    *out = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    parser_t p = {.s = text, .len = len, .err = err, .status = EW_OK};
    if (!(p.doc = ew__cfg_doc_create(file)))
        return ew__cfg_errorf(err, EW_ERR_NOMEM, file, 0, 0, "out of memory");
    ew__cfg_locator_init(&p.loc, text, len);
    size_t bad;
    p.str = malloc(256);
    p.str_cap = 256;
    if (!p.str)
        oom(&p);
    else if (!ew__cfg_utf8_valid(text, len, &bad))
        fail(&p, bad, "invalid UTF-8 (byte 0x%02X); configuration files must be UTF-8", (unsigned char)text[bad]);
    else
        parse_document(&p);
    free(p.str);
    if (p.status != EW_OK) {
        ew__cfg_doc_destroy(p.doc);
        return p.status;
    }
    *out = p.doc;
    return EW_OK;
}
