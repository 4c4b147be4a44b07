/*
 * json.c — a JSON syntax check (RFC 8259) without allocation, for JSON text a host passes through the C
 * API (ew_request_t.cf_json) that is parsed later, on first use, by Duktape: an invalid text is refused at
 * the call instead of failing inside the script. Strings must be valid UTF-8 (ew__utf8_valid).
 */
#include <string.h>

#include "internal.h"

typedef struct scan {
    const unsigned char *p, *end;
    int depth;
} scan_t;

static void skip_ws(scan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool scan_string(scan_t *s)
{
    const unsigned char *start = ++s->p;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p < 0x20)
            return false;
        if (*s->p == '\\') {
            if (++s->p >= s->end)
                return false;
            if (*s->p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (s->p + i >= s->end || !is_hex(s->p[i]))
                        return false;
                s->p += 4;
            } else if (!strchr("\"\\/bfnrt", *s->p)) {
                return false;
            }
        }
        s->p++;
    }
    if (s->p >= s->end || !ew__utf8_valid((const char *) start, (size_t) (s->p - start)))
        return false;
    s->p++;
    return true;
}

static bool digits(scan_t *s)
{
    const unsigned char *d = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > d;
}

static bool scan_number(scan_t *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!digits(s))
        return false;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!digits(s))
            return false;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!digits(s))
            return false;
    }
    return true;
}

static bool literal(scan_t *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t) (s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool scan_value(scan_t *s);

/* An object or array (open at s->p): members separated by commas. */
static bool scan_container(scan_t *s, bool object)
{
    if (++s->depth > 64)
        return false;
    unsigned char close = object ? '}' : ']';
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (object) {
            if (s->p >= s->end || *s->p != '"' || !scan_string(s))
                return false;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return false;
        }
        if (!scan_value(s))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p++ != close)
            return false;
        s->depth--;
        return true;
    }
}

static bool scan_value(scan_t *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{':
        return scan_container(s, true);
    case '[':
        return scan_container(s, false);
    case '"':
        return scan_string(s);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        return (*s->p == '-' || (*s->p >= '0' && *s->p <= '9')) && scan_number(s);
    }
}

bool ew__json_is_object(const char *text, size_t len)
{
    scan_t s = {(const unsigned char *) text, (const unsigned char *) text + len, 0};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{' || !scan_container(&s, true))
        return false;
    skip_ws(&s);
    return s.p == s.end;
}
