/*
 * dotenv.c — the `.dev.vars` format (wrangler.h has the grammar). wrangler reads .dev.vars with the `dotenv`
 * npm package, so this follows what that package does, including its quirks, rather than a shell's rules: an
 * unquoted value ends at the first '#', only \n and \r are escapes (and only inside double quotes), a quoted
 * value may span lines, and a value whose closing quote is followed by more than a comment is read as an
 * unquoted value, quotes included. A project's secrets must read the same here as under `wrangler dev`.
 *
 * Called by wrangler.c (ew__wrangler_load) with the configuration's arena; everything it returns lives there.
 * One pass over the text after CRLF/CR line ends become LF (as dotenv does first).
 */
#include <string.h>

#include "wrangler.h"

typedef struct cursor {
    const char *p, *end;
    uint32_t line;
} cursor_t;

static bool is_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static void skip_blanks(cursor_t *c)
{
    while (c->p < c->end && is_blank(*c->p))
        c->p++;
}

/* Moves past the end of the current line (its LF included). */
static void skip_line(cursor_t *c)
{
    while (c->p < c->end && *c->p != '\n')
        c->p++;
    if (c->p < c->end) {
        c->p++;
        c->line++;
    }
}

/* Whether only blanks and an optional '#' comment follow on this line. */
static bool rest_is_comment(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p == end || *p == '\n' || *p == '#';
}

/* Finds a quoted value's closing quote starting at p (just past the opening one); a double-quoted value
 * skips \" as dotenv's pattern does. NULL when there is none. */
static const char *closing_quote(const char *p, const char *end, char q)
{
    for (; p < end; p++) {
        if (q == '"' && *p == '\\' && p + 1 < end && p[1] == '"')
            p++;
        else if (*p == q)
            return p;
    }
    return NULL;
}

/* Copies a double-quoted value's body into the pool with \n and \r expanded (the only escapes dotenv has). */
static char *expand_escapes(ew__cfg_doc_t *pool, const char *s, size_t n)
{
    char *out = ew__cfg_alloc(pool, n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == 'n' || s[i + 1] == 'r')) {
            out[o++] = s[i + 1] == 'n' ? '\n' : '\r';
            i++;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Reads the value at c->p (after the separator); leaves c at the start of the next line. NULL on OOM. */
static char *read_value(ew__cfg_doc_t *pool, cursor_t *c)
{
    skip_blanks(c);
    const char *v = c->p;
    if (v < c->end && (*v == '"' || *v == '\'' || *v == '`')) {
        const char *q = closing_quote(v + 1, c->end, *v);
        if (q != NULL && rest_is_comment(q + 1, c->end)) {
            for (const char *p = v; p < q; p++)
                c->line += *p == '\n';
            c->p = q + 1;
            skip_line(c);
            if (*v == '"')
                return expand_escapes(pool, v + 1, (size_t) (q - v - 1));
            return ew__cfg_strdup(pool, v + 1, (size_t) (q - v - 1));
        }
    }
    /* Unquoted (or a quote that does not close cleanly): up to '#' or the line's end, trimmed. */
    const char *e = v;
    while (e < c->end && *e != '\n' && *e != '#')
        e++;
    const char *t = e;
    while (t > v && is_blank(t[-1]))
        t--;
    c->p = e;
    skip_line(c);
    return ew__cfg_strdup(pool, v, (size_t) (t - v));
}

/* Stores key=value, replacing an earlier value of the same key in place. */
static bool put_entry(ew__cfg_doc_t *pool, ew__dotenv_t *out, size_t *cap, const char *key, const char *value,
                      uint32_t line)
{
    for (size_t i = 0; i < out->len; i++) {
        if (strcmp(out->entries[i].key, key) == 0) {
            out->entries[i].value = value;
            return true;
        }
    }
    if (out->len == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        ew__dotenv_entry_t *n = ew__cfg_alloc(pool, ncap * sizeof(*n));
        if (n == NULL)
            return false;
        if (out->len)
            memcpy(n, out->entries, out->len * sizeof(*n));
        out->entries = n;
        *cap = ncap;
    }
    out->entries[out->len++] = (ew__dotenv_entry_t) {.key = key, .value = value, .line = line};
    return true;
}

static bool note_bad_line(ew__cfg_doc_t *pool, ew__dotenv_t *out, size_t *cap, uint32_t line)
{
    if (out->nbad == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        uint32_t *n = ew__cfg_alloc(pool, ncap * sizeof(*n));
        if (n == NULL)
            return false;
        if (out->nbad)
            memcpy(n, out->bad_lines, out->nbad * sizeof(*n));
        out->bad_lines = n;
        *cap = ncap;
    }
    out->bad_lines[out->nbad++] = line;
    return true;
}

/* Reads `export`? KEY (= | ": ") at the start of a line; returns the key (in the pool), or NULL with *bad set
 * when the line is not an assignment (*bad false: out of memory). */
static char *read_key(ew__cfg_doc_t *pool, cursor_t *c, bool *bad)
{
    *bad = true;
    if (c->end - c->p > 7 && memcmp(c->p, "export", 6) == 0 && is_blank(c->p[6])) {
        c->p += 6;
        skip_blanks(c);
    }
    const char *k = c->p;
    while (c->p < c->end && is_key_char(*c->p))
        c->p++;
    const char *ke = c->p;
    skip_blanks(c);
    if (ke == k || c->p >= c->end)
        return NULL;
    if (*c->p == '=')
        c->p++;
    else if (*c->p == ':' && c->p + 1 < c->end && (is_blank(c->p[1]) || c->p[1] == '\n'))
        c->p++;
    else
        return NULL;
    *bad = false;
    return ew__cfg_strdup(pool, k, (size_t) (ke - k));
}

ew_status_t ew__dotenv_parse(ew__cfg_doc_t *pool, const char *text, size_t len, ew__dotenv_t *out)
{
    memset(out, 0, sizeof(*out));
    /* dotenv first turns CRLF and lone CR into LF. */
    char *norm = ew__cfg_alloc(pool, len + 1);
    if (norm == NULL)
        return EW_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
            continue;
        norm[n++] = text[i] == '\r' ? '\n' : text[i];
    }
    cursor_t c = {.p = norm, .end = norm + n, .line = 1};
    size_t cap = 0, bad_cap = 0;
    while (c.p < c.end) {
        skip_blanks(&c);
        if (c.p == c.end)
            break;
        if (*c.p == '\n' || *c.p == '#') {
            skip_line(&c);
            continue;
        }
        uint32_t line = c.line;
        bool bad;
        char *key = read_key(pool, &c, &bad);
        if (key == NULL) {
            if (!bad || !note_bad_line(pool, out, &bad_cap, line))
                return EW_ERR_NOMEM;
            skip_line(&c);
            continue;
        }
        char *value = read_value(pool, &c);
        if (value == NULL || !put_entry(pool, out, &cap, key, value, line))
            return EW_ERR_NOMEM;
    }
    return EW_OK;
}
