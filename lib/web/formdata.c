/*
 * formdata.c — FormData as a body (multipart/form-data encoding, RFC 7578) and body.formData() (parsing
 * multipart/form-data and application/x-www-form-urlencoded), with workerd's rules and error messages:
 * a part is found after "--boundary" at the start or after "\n--boundary" (a missing CR is tolerated),
 * Content-Disposition parameters must be quoted, a part with a filename becomes a File (its Content-Type
 * or ""), other parts strings (UTF-8 decoded). Encoding escapes '"' and LF in names as %22 and %0A and '\'
 * as "\\", like workerd. FormData and File objects are lib/js/blob.js's; this file reads their state
 * (lazy.h key) and makes new ones through the file's internals. Called by body.c.
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "formdata.h"
#include "lazy.h"
#include "url.h"

/* ---------------------------------------------------------------------------------------------------------
 * Content-Type parsing (enough of the MIME Sniffing Standard's parser for the two form types)
 */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (char) (x - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

/* Finds parameter `name` (lower case) of the media type in s; copies its value (unquoted) into out (at
 * most cap - 1 bytes, NUL-terminated). Returns the value's length, or -1 if absent or too long. */
static long mime_param(const char *s, size_t len, const char *name, char *out, size_t cap)
{
    size_t i = 0;
    while (i < len && s[i] != ';')
        i++;
    while (i < len) {
        i++; /* ';' */
        while (i < len && is_ws(s[i]))
            i++;
        size_t ns = i;
        while (i < len && s[i] != '=' && s[i] != ';')
            i++;
        size_t ne = i;
        while (ne > ns && is_ws(s[ne - 1]))
            ne--;
        if (i >= len || s[i] == ';')
            continue;
        i++; /* '=' */
        size_t o = 0;
        bool too_long = false;
        if (i < len && s[i] == '"') {
            for (i++; i < len && s[i] != '"'; i++) {
                if (s[i] == '\\' && i + 1 < len)
                    i++;
                if (o + 1 < cap)
                    out[o++] = s[i];
                else
                    too_long = true;
            }
            while (i < len && s[i] != ';')
                i++;
        } else {
            size_t vs = i;
            while (i < len && s[i] != ';')
                i++;
            size_t ve = i;
            while (ve > vs && is_ws(s[ve - 1]))
                ve--;
            for (size_t k = vs; k < ve; k++) {
                if (o + 1 < cap)
                    out[o++] = s[k];
                else
                    too_long = true;
            }
        }
        out[o] = '\0';
        if (ieq(s + ns, ne - ns, name))
            return too_long ? -1 : (long) o;
    }
    return -1;
}

/* The essence "type/subtype" of s, trimmed: sets *start and returns its length. */
static size_t mime_essence(const char *s, size_t len, size_t *start)
{
    size_t i = 0;
    while (i < len && is_ws(s[i]))
        i++;
    size_t e = i;
    while (e < len && s[e] != ';')
        e++;
    while (e > i && is_ws(s[e - 1]))
        e--;
    *start = i;
    return e - i;
}

/* ---------------------------------------------------------------------------------------------------------
 * Encoding
 */

/* Appends value escaped for a quoted Content-Disposition parameter. */
static void append_escaped(duk_context *ctx, ew__buf_t *b, const char *s, size_t len, bool *ok)
{
    if (len > 0 && s[len - 1] == '\\') {
        ew__buf_dispose(b);
        (void) duk_type_error(ctx, "Name or filename can't end with backslash");
    }
    for (size_t i = 0; i < len && *ok; i++) {
        if (s[i] == '"')
            *ok = ew__buf_append(b, "%22", 3);
        else if (s[i] == '\n')
            *ok = ew__buf_append(b, "%0A", 3);
        else if (s[i] == '\\')
            *ok = ew__buf_append(b, "\\\\", 2);
        else
            *ok = ew__buf_append(b, s + i, 1);
    }
}

#define APPEND_LIT(b, lit, ok) ((ok) = (ok) && ew__buf_append((b), (lit), sizeof(lit) - 1))

/* Appends one entry (name at name_idx, value at value_idx: a string or a File). May throw: b is then
 * disposed. */
static void encode_entry(duk_context *ctx, ew__buf_t *b, const char *boundary, duk_idx_t name_idx,
                         duk_idx_t value_idx, bool *ok)
{
    name_idx = duk_require_normalize_index(ctx, name_idx);
    value_idx = duk_require_normalize_index(ctx, value_idx);
    size_t len;
    APPEND_LIT(b, "--", *ok);
    *ok = *ok && ew__buf_append(b, boundary, strlen(boundary));
    APPEND_LIT(b, "\r\nContent-Disposition: form-data; name=\"", *ok);
    const char *name = ew__to_utf8(ctx, name_idx, &len);
    append_escaped(ctx, b, name, len, ok);
    if (duk_is_string(ctx, value_idx)) {
        APPEND_LIT(b, "\"\r\n\r\n", *ok);
        const char *v = ew__to_utf8(ctx, value_idx, &len);
        *ok = *ok && ew__buf_append(b, v, len);
    } else {
        duk_get_prop_literal(ctx, value_idx, EW__LAZY_STATE_KEY);
        duk_idx_t st = duk_get_top_index(ctx);
        APPEND_LIT(b, "\"; filename=\"", *ok);
        duk_get_prop_literal(ctx, st, "name");
        const char *fname = ew__to_utf8(ctx, -1, &len);
        append_escaped(ctx, b, fname, len, ok);
        APPEND_LIT(b, "\"\r\nContent-Type: ", *ok);
        duk_get_prop_literal(ctx, st, "type");
        const char *type = ew__to_utf8(ctx, -1, &len);
        if (len == 0)
            APPEND_LIT(b, "application/octet-stream", *ok);
        else
            *ok = *ok && ew__buf_append(b, type, len);
        APPEND_LIT(b, "\r\n\r\n", *ok);
        duk_get_prop_literal(ctx, st, "bytes");
        duk_size_t n = 0;
        const void *p = duk_get_buffer_data(ctx, -1, &n);
        *ok = *ok && (n == 0 || ew__buf_append(b, p, n));
        duk_pop_n(ctx, 4);
    }
    APPEND_LIT(b, "\r\n", *ok);
}

/* A fresh boundary: 32 random alphanumerics after a fixed prefix (RFC 2046 allows up to 70 characters). */
static void make_boundary(char out[64])
{
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t r[32] = {0};
    if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t x = (uint64_t) (uintptr_t) out ^ (uint64_t) ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 32);
        for (size_t i = 0; i < sizeof(r); i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            r[i] = (uint8_t) (x >> 56);
        }
    }
    memcpy(out, "----EdgeWorkerFormBoundary", 26);
    for (size_t i = 0; i < 32; i++)
        out[26 + i] = alnum[r[i] % 62];
    out[58] = '\0';
}

void ew__formdata_push_encoded(duk_context *ctx, duk_idx_t form_idx)
{
    form_idx = duk_require_normalize_index(ctx, form_idx);
    char boundary[64];
    make_boundary(boundary);
    duk_get_prop_literal(ctx, form_idx, EW__LAZY_STATE_KEY);
    duk_get_prop_literal(ctx, -1, "list");
    duk_idx_t list = duk_get_top_index(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list);
    ew__buf_t b;
    ew__buf_init(&b);
    bool ok = true;
    for (duk_uarridx_t i = 0; i + 1 < n && ok; i += 2) {
        duk_get_prop_index(ctx, list, i);
        duk_get_prop_index(ctx, list, i + 1);
        encode_entry(ctx, &b, boundary, -2, -1, &ok);
        duk_pop_2(ctx);
    }
    APPEND_LIT(&b, "--", ok);
    ok = ok && ew__buf_append(&b, boundary, strlen(boundary));
    APPEND_LIT(&b, "--", ok);
    if (!ok) {
        ew__buf_dispose(&b);
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory encoding FormData");
    }
    duk_pop_2(ctx);
    void *out = duk_push_fixed_buffer(ctx, b.len);
    memcpy(out, b.data, b.len);
    ew__buf_dispose(&b);
    duk_push_sprintf(ctx, "multipart/form-data; boundary=%s", boundary);
}

/* ---------------------------------------------------------------------------------------------------------
 * Parsing
 */

static const char *find(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0 || hlen < nlen)
        return NULL;
    for (const char *p = hay; (p = memchr(p, needle[0], (size_t) (hay + hlen - p))) != NULL; p++) {
        if ((size_t) (hay + hlen - p) < nlen)
            return NULL;
        if (memcmp(p, needle, nlen) == 0)
            return p;
    }
    return NULL;
}

/* Parses `form-data; name="a"; filename="b"`: name and filename go to the stack as strings (filename
 * undefined when absent). Throws workerd's TypeErrors. */
static void parse_disposition(duk_context *ctx, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_ws(s[i]))
        i++;
    size_t ts = i;
    while (i < len && (ew__http_is_token(s + i, 1)))
        i++;
    if (i == ts)
        (void) duk_type_error(ctx, "Invalid Content-Disposition header found in FormData part.");
    size_t te = i;
    duk_push_undefined(ctx); /* name */
    duk_push_undefined(ctx); /* filename */
    ew__buf_t v;
    ew__buf_init(&v);
    while (i < len && is_ws(s[i]))
        i++;
    while (i < len) {
        bool bad = s[i] != ';';
        size_t ks = 0, ke = 0;
        if (!bad) {
            i++;
            while (i < len && is_ws(s[i]))
                i++;
            ks = i;
            while (i < len && ew__http_is_token(s + i, 1))
                i++;
            ke = i;
            while (i < len && is_ws(s[i]))
                i++;
            bad = ke == ks || i >= len || s[i] != '=';
        }
        if (!bad) {
            i++;
            while (i < len && is_ws(s[i]))
                i++;
            bad = i >= len || s[i] != '"';
        }
        v.len = 0;
        if (!bad) {
            for (i++; i < len && s[i] != '"' && !bad; i++) {
                if (s[i] == '\n' || (s[i] == '\\' && (i + 1 >= len || s[i + 1] == '\n')))
                    bad = true;
                else if (s[i] == '\\')
                    i++;
                if (!bad && !ew__buf_append(&v, s + i, 1))
                    bad = true;
            }
            bad = bad || v.len == 0 || i >= len;
            i++; /* closing quote */
            while (i < len && is_ws(s[i]))
                i++;
        }
        if (bad) {
            ew__buf_dispose(&v);
            (void) duk_type_error(ctx, "Invalid Content-Disposition header found in FormData part.");
        }
        bool is_name = ke - ks == 4 && memcmp(s + ks, "name", 4) == 0;
        bool is_file = ke - ks == 8 && memcmp(s + ks, "filename", 8) == 0;
        if (is_name || is_file) {
            ew__push_utf8(ctx, v.data, v.len);
            duk_replace(ctx, is_name ? -3 : -2);
        }
    }
    ew__buf_dispose(&v);
    if (!(te - ts == 9 && memcmp(s + ts, "form-data", 9) == 0))
        (void) duk_type_error(ctx, "Content-Disposition header for FormData part must have the value "
                                   "\"form-data\", possibly followed by parameters. Got: \"%.*s\"",
                              (int) (te - ts), s + ts);
    if (duk_is_undefined(ctx, -2))
        (void) duk_type_error(ctx, "Content-Disposition header in FormData part is missing a name.");
}

/* Parses a part's header block (lines "Name: value" ending in LF or CRLF, then an empty line). Finds
 * Content-Disposition (required) and Content-Type; pushes name, filename, type (type "" when absent). */
static void parse_part_headers(duk_context *ctx, const char *s, size_t len)
{
    const char *disp = NULL, *type = NULL;
    size_t disp_len = 0, type_len = 0;
    size_t i = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && s[e] != '\n')
            e++;
        size_t le = e;
        if (le > i && s[le - 1] == '\r')
            le--;
        if (le > i) {
            const char *colon = memchr(s + i, ':', le - i);
            if (colon == NULL || colon == s + i || !ew__http_is_token(s + i, (size_t) (colon - (s + i))))
                (void) duk_type_error(ctx, "FormData part had invalid headers.");
            size_t vs = (size_t) (colon - s) + 1, ve = le;
            while (vs < ve && (s[vs] == ' ' || s[vs] == '\t'))
                vs++;
            while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
                ve--;
            size_t nlen = (size_t) (colon - (s + i));
            if (ieq(s + i, nlen, "content-disposition")) {
                disp = s + vs;
                disp_len = ve - vs;
            } else if (ieq(s + i, nlen, "content-type")) {
                type = s + vs;
                type_len = ve - vs;
            }
        }
        i = e + 1;
    }
    if (disp == NULL)
        (void) duk_type_error(ctx, "No valid Content-Disposition header found in FormData part.");
    parse_disposition(ctx, disp, disp_len);
    ew__push_utf8(ctx, type != NULL ? type : "", type_len);
}

/* Pushes the FormData list parsed from a multipart body. */
static void parse_multipart(duk_context *ctx, const char *body, size_t len, const char *boundary)
{
    size_t blen = strlen(boundary);
    duk_push_array(ctx);
    duk_idx_t list = duk_get_top_index(ctx);
    duk_uarridx_t n = 0;
    /* "\n--" + boundary; the first delimiter may come without its LF. */
    duk_push_sprintf(ctx, "\n--%s", boundary);
    const char *delim = duk_get_string(ctx, -1);
    size_t dlen = blen + 3;
    const char *p = find(body, len, delim + 1, dlen - 1);
    if (p == NULL || p + dlen - 1 == body + len)
        (void) duk_type_error(ctx, "No initial boundary string (or you have a truncated message).");
    const char *end = body + len;
    p += dlen - 1;
    for (;;) {
        if (end - p >= 1 && p[0] == '\n')
            p += 1;
        else if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
            p += 2;
        else if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break;
        else
            (void) duk_type_error(ctx, "Boundary string was not succeeded by CRLF, LF, or '--'.");
        /* Header block: up to \r?\n\r?\n. */
        const char *h = p, *hend = NULL;
        for (const char *q = p; q < end && hend == NULL; q++) {
            if (*q != '\n')
                continue;
            const char *r = q + 1;
            if (r < end && *r == '\r')
                r++;
            if (r < end && *r == '\n')
                hend = r + 1;
        }
        if (hend == NULL)
            (void) duk_type_error(ctx, "No multipart message header termination found.");
        parse_part_headers(ctx, h, (size_t) (hend - h)); /* [name filename type] */
        p = hend;
        const char *m = find(p, (size_t) (end - p), delim, dlen);
        if (m == NULL || m + dlen == end)
            (void) duk_type_error(ctx, "No subsequent boundary string after multipart message.");
        size_t mlen = (size_t) (m - p);
        if (mlen > 0 && p[mlen - 1] == '\r')
            mlen--;
        duk_dup(ctx, -3);
        duk_put_prop_index(ctx, list, n++);
        if (duk_is_undefined(ctx, -2)) {
            ew__push_utf8(ctx, p, mlen);
        } else {
            ew__lazy_push(ctx, EW__LAZY_BLOB, "_newFile");
            void *copy = duk_push_fixed_buffer(ctx, mlen);
            if (mlen > 0)
                memcpy(copy, p, mlen);
            duk_push_buffer_object(ctx, -1, 0, mlen, DUK_BUFOBJ_UINT8ARRAY);
            duk_remove(ctx, -2);
            duk_dup(ctx, -4); /* filename */
            duk_dup(ctx, -4); /* type */
            duk_push_number(ctx, ew__perf_now());
            duk_call(ctx, 4);
        }
        duk_put_prop_index(ctx, list, n++);
        duk_pop_3(ctx);
        p = m + dlen;
    }
    duk_pop(ctx); /* delimiter */
}

void ew__formdata_push_parsed(duk_context *ctx, const char *body, size_t len, const char *ctype, size_t ctype_len)
{
    size_t es;
    size_t elen = mime_essence(ctype, ctype_len, &es);
    char param[128];
    if (ieq(ctype + es, elen, "multipart/form-data")) {
        long blen = mime_param(ctype, ctype_len, "boundary", param, sizeof(param));
        if (blen <= 0)
            (void) duk_type_error(ctx, "No boundary string in Content-Type header. The multipart/form-data MIME "
                                       "type requires a boundary parameter, e.g. 'Content-Type: "
                                       "multipart/form-data; boundary=\"abcd\"'. See RFC 7578, section 4.");
        parse_multipart(ctx, body, len, param);
    } else if (ieq(ctype + es, elen, "application/x-www-form-urlencoded")) {
        long clen = mime_param(ctype, ctype_len, "charset", param, sizeof(param));
        if (clen >= 0 && !ieq(param, (size_t) clen, "utf-8") && !ieq(param, (size_t) clen, "utf8") &&
            !ieq(param, (size_t) clen, "unicode-1-1-utf-8"))
            (void) duk_type_error(ctx, "Non-utf-8 application/x-www-form-urlencoded body.");
        ew__url_push_form_list(ctx, body, len);
    } else {
        (void) duk_type_error(ctx, "Unrecognized Content-Type header value. FormData can only parse the "
                                   "following MIME types: multipart/form-data, application/x-www-form-urlencoded");
    }
    ew__lazy_push(ctx, EW__LAZY_BLOB, "_newFormData");
    duk_insert(ctx, -2);
    duk_call(ctx, 1);
}
