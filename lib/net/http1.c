/*
 * http1.c — the HTTP/1.1 message parser behind lib/net/http1.h: requests for ew-server, responses for the
 * fetch() client. Written from the RFCs (9110 semantics, 9112 message syntax), not from another parser.
 *
 * Strict on purpose: every construct two implementations could frame differently (bare CR or LF, obs-fold,
 * whitespace before a colon, malformed or conflicting Content-Length, Transfer-Encoding with Content-Length
 * or in HTTP/1.0, chunked not final, chunk sizes that overflow, data not followed by CRLF) is an error that
 * carries the status to answer with, so no request can be smuggled past a proxy in front of us.
 *
 * Speed: the head is scanned by a state machine whose states each run a tight loop over a 256-entry class
 * table; state is saved only when the input runs out, so a head that arrives in pieces is never re-scanned.
 * Fields are recorded as offsets and become pointers once the head is complete, so the caller may move its
 * buffer between calls. Body pieces are slices of the input with the chunk framing stripped. One event per
 * call keeps pausing (pipelining, back-pressure) trivial for the caller.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

/* What ew__h1_parse() is reading (p->phase). */
enum { P_HEAD, P_NO_BODY, P_LENGTH, P_CLOSE, P_CHUNKED, P_TRAILERS, P_UPGRADED, P_ERROR };

/* Where the head scanner is (p->state while phase is P_HEAD or P_TRAILERS). */
enum {
    S_BEGIN,       /* nothing of this message parsed yet: the per-message state is reset first */
    S_START,       /* at the start line (requests: empty lines before it are skipped, RFC 9112 2.2) */
    S_START_LF,    /* the CR of such an empty line was read */
    S_METHOD,
    S_TARGET,
    S_REQ_VERSION, /* "HTTP/x.y\r\n", p->vpos bytes matched */
    S_RES_VERSION, /* "HTTP/x.y ", p->vpos bytes matched */
    S_STATUS,      /* p->vpos digits read */
    S_REASON,
    S_LINE_LF,     /* the CR ending the status line was read */
    S_FIELD_START, /* at the start of a field line or of the blank line ending the section */
    S_NAME,
    S_OWS,
    S_VALUE,
    S_VALUE_LF,
    S_END_LF,
};

/* Where the chunked-body reader is (p->state while phase is P_CHUNKED). */
enum { C_SIZE, C_BWS, C_EXT, C_SIZE_LF, C_DATA, C_DATA_CR, C_DATA_LF };

/* Framing facts collected from header fields (p->flags), judged once the head is complete. */
enum {
    F_CL = 1 << 0,               /* a Content-Length was seen (value in msg.content_length) */
    F_TE = 1 << 1,               /* a Transfer-Encoding was seen */
    F_TE_CHUNKED = 1 << 2,       /* ... listing chunked */
    F_TE_LAST_CHUNKED = 1 << 3,  /* ... as the last coding so far */
    F_TE_TWICE = 1 << 4,         /* ... more than once */
    F_TE_OTHER = 1 << 5,         /* ... and some other coding */
    F_CONN_CLOSE = 1 << 6,       /* Connection: close */
    F_CONN_KEEP_ALIVE = 1 << 7,  /* Connection: keep-alive */
    F_CONN_UPGRADE = 1 << 8,     /* Connection: upgrade */
    F_UPGRADE = 1 << 9,          /* a non-empty Upgrade field */
    F_EXPECT_CONTINUE = 1 << 10, /* Expect: 100-continue */
    F_HOST_TWICE = 1 << 11,      /* more than one Host field */
};

/* Byte classes (RFC 9110 5.6.2 tchar, 5.5 field-vchar / SP / HTAB / obs-text; 9112 3.2 request-target). */
enum { C_TOKEN = 1, C_VALUE = 2, C_TARGET = 4, C_HEX = 8, C_OWS = 16 };

static const unsigned char cls[256] = {
     0,  0,  0,  0,  0,  0,  0,  0,  0, 18,  0,  0,  0,  0,  0,  0, /* 00 */
     0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, /* 10 */
    18,  7,  6,  7,  7,  7,  7,  7,  6,  6,  7,  7,  6,  7,  7,  6, /* 20 */
    15, 15, 15, 15, 15, 15, 15, 15, 15, 15,  6,  6,  6,  6,  6,  6, /* 30 */
     6, 15, 15, 15, 15, 15, 15,  7,  7,  7,  7,  7,  7,  7,  7,  7, /* 40 */
     7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  6,  6,  6,  7,  7, /* 50 */
     7, 15, 15, 15, 15, 15, 15,  7,  7,  7,  7,  7,  7,  7,  7,  7, /* 60 */
     7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  6,  7,  6,  7,  0, /* 70 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 80 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* 90 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* A0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* B0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* C0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* D0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* E0 */
     6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6,  6, /* F0 */
};

/* The first index in [i, lim) whose byte is not in class `mask`, or lim. This is the hot loop of the head
 * scan: unrolled by 8 so most iterations do one bounds check for eight bytes. */
static inline size_t skip(const unsigned char *b, size_t i, size_t lim, unsigned mask)
{
    while (lim - i >= 8) {
        if (!(cls[b[i]] & mask)) return i;
        if (!(cls[b[i + 1]] & mask)) return i + 1;
        if (!(cls[b[i + 2]] & mask)) return i + 2;
        if (!(cls[b[i + 3]] & mask)) return i + 3;
        if (!(cls[b[i + 4]] & mask)) return i + 4;
        if (!(cls[b[i + 5]] & mask)) return i + 5;
        if (!(cls[b[i + 6]] & mask)) return i + 6;
        if (!(cls[b[i + 7]] & mask)) return i + 7;
        i += 8;
    }
    while (i < lim && (cls[b[i]] & mask))
        i++;
    return i;
}

/* Records an error; in response mode every error is a 502 (what a gateway answers for a broken upstream).
 * Always returns EW__H1_ERROR, and the parser stays failed. */
static int fail(ew__h1_parser_t *p, int status, const char *reason)
{
    p->phase = P_ERROR;
    p->error_status = p->mode == EW__H1_RESPONSE ? 502 : status;
    p->error_reason = reason;
    return EW__H1_ERROR;
}

/* ---------------------------------------------------------------------------------------------------------
 * Lifecycle
 */

int ew__h1_parser_init(ew__h1_parser_t *p, ew__h1_mode_t mode, const ew__h1_config_t *cfg)
{
    ew__h1_config_t c = cfg ? *cfg : (ew__h1_config_t){0};

    /* Offsets are 32-bit, hence the clamps; 16 MiB of head is far beyond any sane client anyway. */
    if (c.max_head_bytes == 0)
        c.max_head_bytes = 32 * 1024;
    if (c.max_head_bytes > 16u * 1024 * 1024)
        c.max_head_bytes = 16u * 1024 * 1024;
    if (c.max_target_len == 0)
        c.max_target_len = 8 * 1024;
    if (c.max_headers == 0)
        c.max_headers = 100;
    if (c.max_headers > 65535)
        c.max_headers = 65535;
    if (c.max_body_bytes == 0)
        c.max_body_bytes = 100u * 1024 * 1024;

    memset(p, 0, sizeof *p);
    p->fields = malloc(c.max_headers * (sizeof *p->fields + 2 * sizeof *p->offs));
    if (!p->fields)
        return -1;
    p->offs = (uint32_t *)(p->fields + c.max_headers);
    p->cap = (uint32_t)c.max_headers;
    p->cfg = c;
    p->mode = mode;
    ew__h1_parser_reset(p);
    return 0;
}

void ew__h1_parser_dispose(ew__h1_parser_t *p)
{
    free(p->fields);
    p->fields = NULL;
    p->offs = NULL;
    p->cap = 0;
}

void ew__h1_parser_reset(ew__h1_parser_t *p)
{
    ew__h1_parser_t keep = *p;

    memset(p, 0, sizeof *p);
    p->cfg = keep.cfg;
    p->mode = keep.mode;
    p->fields = keep.fields;
    p->offs = keep.offs;
    p->cap = keep.cap;
    p->phase = P_HEAD;
    p->state = S_BEGIN;
}

void ew__h1_parser_set_request(ew__h1_parser_t *p, const char *method, size_t len)
{
    p->req_head = len == 4 && memcmp(method, "HEAD", 4) == 0;
    p->req_connect = len == 7 && memcmp(method, "CONNECT", 7) == 0;
}

/* Clears what one message leaves behind, before the first byte of the next is looked at. */
static void begin_message(ew__h1_parser_t *p)
{
    memset(&p->msg, 0, sizeof p->msg);
    p->state = S_START;
    p->in_trailers = false;
    p->pos = p->mark = 0;
    p->vpos = 0;
    p->host_idx = 0;
    p->flags = 0;
    p->remaining = p->body_total = p->chunk_ext = 0;
    p->chunk_digits = 0;
    p->nfields = 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Head: start line
 */

/* Matches "HTTP/" DIGIT "." DIGIT and then `tail` ("\r\n" ends a request line, " " follows the version in a
 * status line), resuming after p->vpos matched bytes. Only 1.0 and 1.1 pass (other versions: 505).
 * Returns 1 when matched, 0 when the input ran out (*ip == lim), or EW__H1_ERROR. */
static int match_version(ew__h1_parser_t *p, const unsigned char *b, size_t lim, size_t *ip, const char *tail)
{
    static const char prefix[] = "HTTP/0.0";
    size_t i = *ip, n = 8 + strlen(tail);

    while (p->vpos < n) {
        unsigned v = p->vpos, c;
        bool ok;

        if (i == lim) {
            *ip = i;
            return 0;
        }
        c = b[i];
        if (v >= 8)
            ok = c == (unsigned char)tail[v - 8];
        else
            ok = (v == 5 || v == 7) ? c - '0' < 10 : c == (unsigned char)prefix[v];
        if (!ok)
            return fail(p, 400, c == '\n' ? "bare LF" : v == 9 ? "bare CR" : "invalid HTTP version");
        if (v == 7) {
            /* The whole version is "HTTP/x.y": the major digit is two bytes back, still in the buffer. */
            if (b[i - 2] != '1' || c > '1')
                return fail(p, 505, "HTTP version not supported");
            p->msg.version_minor = (int)(c - '0');
        }
        i++;
        p->vpos++;
    }
    *ip = i;
    return 1;
}

/* Request line: method SP request-target SP HTTP-version CRLF (RFC 9112 3), after optional empty lines.
 * Returns 1 when done (state S_FIELD_START), 0 when the input ran out, or EW__H1_ERROR. */
static int scan_request_line(ew__h1_parser_t *p, const unsigned char *b, size_t lim, size_t *ip)
{
    size_t i = *ip;

    for (;;) {
        if (i == lim)
            break;
        switch (p->state) {
        case S_START_LF:
            if (b[i] != '\n')
                return fail(p, 400, "bare CR");
            i++;
            p->state = S_START;
            continue;
        case S_START:
            if (b[i] == '\r') {
                i++;
                p->state = S_START_LF;
                continue;
            }
            p->mark = (uint32_t)i;
            p->state = S_METHOD;
            /* fall through */
        case S_METHOD:
            i = skip(b, i, lim, C_TOKEN);
            if (i == lim)
                goto more;
            if (b[i] != ' ' || i == p->mark)
                return fail(p, 400, b[i] == '\n' ? "bare LF" : "invalid method");
            p->method_off = p->mark;
            p->method_end = (uint32_t)i++;
            p->mark = (uint32_t)i;
            p->state = S_TARGET;
            /* fall through */
        case S_TARGET:
            i = skip(b, i, lim, C_TARGET);
            if (i - p->mark > p->cfg.max_target_len)
                return fail(p, 414, "request-target too long");
            if (i == lim)
                goto more;
            if (b[i] != ' ' || i == p->mark)
                return fail(p, 400, "invalid request-target");
            p->target_off = p->mark;
            p->target_end = (uint32_t)i++;
            p->vpos = 0;
            p->state = S_REQ_VERSION;
            /* fall through */
        default: { /* S_REQ_VERSION */
            int r = match_version(p, b, lim, &i, "\r\n");
            if (r < 0)
                return r;
            if (r == 0)
                goto more;
            p->state = S_FIELD_START;
            *ip = i;
            return 1;
        }
        }
    }
more:
    *ip = i;
    return 0;
}

/* Status line: HTTP-version SP 3DIGIT SP reason-phrase CRLF (RFC 9112 4). The SP before an empty reason
 * is often left out by servers; that is accepted. Same returns as scan_request_line. */
static int scan_status_line(ew__h1_parser_t *p, const unsigned char *b, size_t lim, size_t *ip)
{
    size_t i = *ip;
    int r;

    switch (p->state) {
    case S_START:
        if (i == lim) /* stay in S_START: ew__h1_finish() counts that as between messages */
            goto more;
        p->vpos = 0;
        p->state = S_RES_VERSION;
        /* fall through */
    case S_RES_VERSION:
        if ((r = match_version(p, b, lim, &i, " ")) <= 0)
            goto out;
        p->vpos = 0;
        p->state = S_STATUS;
        /* fall through */
    case S_STATUS:
        for (; p->vpos < 3; p->vpos++, i++) {
            if (i == lim)
                goto more;
            if ((unsigned)(b[i] - '0') >= 10)
                return fail(p, 400, "invalid status code");
            p->msg.status = p->msg.status * 10 + (b[i] - '0');
        }
        if (p->msg.status < 100)
            return fail(p, 400, "invalid status code");
        if (i == lim)
            goto more;
        if (b[i] == '\r') {
            p->reason_off = p->reason_end = (uint32_t)i++;
            p->state = S_LINE_LF;
            goto lf;
        }
        if (b[i] != ' ')
            return fail(p, 400, "invalid status code");
        p->mark = (uint32_t)++i;
        p->state = S_REASON;
        /* fall through */
    case S_REASON:
        i = skip(b, i, lim, C_VALUE);
        if (i == lim)
            goto more;
        if (b[i] != '\r')
            return fail(p, 400, b[i] == '\n' ? "bare LF" : "invalid reason phrase");
        p->reason_off = p->mark;
        p->reason_end = (uint32_t)i++;
        p->state = S_LINE_LF;
        /* fall through */
    default:
    lf:
        if (i == lim)
            goto more;
        if (b[i] != '\n')
            return fail(p, 400, "bare CR");
        p->state = S_FIELD_START;
        *ip = i + 1;
        return 1;
    }
more:
    r = 0;
out:
    *ip = i;
    return r;
}

/* ---------------------------------------------------------------------------------------------------------
 * Head: header fields and what they say about framing
 */

/* Case-insensitive compare of n bytes of a token or field value against a lowercase literal of letters,
 * digits and '-'. `| 0x20` folds only letters here: the other bytes that it could map onto the literal's
 * characters are CTLs, which the scanner has already rejected. */
static bool lower_eq(const unsigned char *a, const char *lit, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if ((a[k] | 0x20) != (unsigned char)lit[k])
            return false;
    return true;
}

/* The next element of a comma-separated list (RFC 9110 5.6.1) at *pos: *start and *len with OWS trimmed, maybe
 * empty. An empty value is one empty element. Returns false once the list is exhausted. */
static bool next_element(const unsigned char *v, size_t n, size_t *pos, size_t *start, size_t *len)
{
    size_t i = *pos, e;

    if (i > n)
        return false;
    while (i < n && (cls[v[i]] & C_OWS))
        i++;
    *start = i;
    while (i < n && v[i] != ',')
        i++;
    for (e = i; e > *start && (cls[v[e - 1]] & C_OWS); e--)
        ;
    *len = e - *start;
    *pos = i + 1;
    return true;
}

/* Content-Length = 1*DIGIT, possibly as a list (RFC 9110 8.6): every element, in every field, must be the
 * same number, else the length is ambiguous and the message is rejected. */
static int on_content_length(ew__h1_parser_t *p, const unsigned char *v, size_t n)
{
    size_t pos = 0, s, len;

    while (next_element(v, n, &pos, &s, &len)) {
        uint64_t x = 0;

        if (len == 0)
            return fail(p, 400, "invalid Content-Length");
        for (size_t k = s; k < s + len; k++) {
            unsigned d = v[k] - (unsigned)'0';
            if (d > 9)
                return fail(p, 400, "invalid Content-Length");
            if (x > (UINT64_MAX - d) / 10)
                return fail(p, 400, "Content-Length too large");
            x = x * 10 + d;
        }
        if ((p->flags & F_CL) && x != p->msg.content_length)
            return fail(p, 400, "conflicting Content-Length values");
        p->flags |= F_CL;
        p->msg.content_length = x;
    }
    return 0;
}

/* Transfer-Encoding: the codings of all fields form one list; only where "chunked" sits matters here. */
static int on_transfer_encoding(ew__h1_parser_t *p, const unsigned char *v, size_t n)
{
    size_t pos = 0, s, len;

    p->flags |= F_TE;
    while (next_element(v, n, &pos, &s, &len)) {
        if (len == 0)
            return fail(p, 400, "invalid Transfer-Encoding");
        if (len == 7 && lower_eq(v + s, "chunked", 7)) {
            if (p->flags & F_TE_CHUNKED)
                p->flags |= F_TE_TWICE;
            p->flags |= F_TE_CHUNKED | F_TE_LAST_CHUNKED;
        } else {
            p->flags = (p->flags & ~(uint32_t)F_TE_LAST_CHUNKED) | F_TE_OTHER;
        }
    }
    return 0;
}

/* Sets `flag` for each list element equal to one of the up to three (literal, flag) pairs. */
static void match_list(ew__h1_parser_t *p, const unsigned char *v, size_t n, const char *const lit[3],
                       const uint32_t flag[3])
{
    size_t pos = 0, s, len;

    while (next_element(v, n, &pos, &s, &len))
        for (int k = 0; k < 3 && lit[k]; k++)
            if (len == strlen(lit[k]) && lower_eq(v + s, lit[k], len))
                p->flags |= flag[k];
}

/* Looks at one completed header field (not trailers) for the few names that decide framing and connection
 * handling. Dispatches on the length first, so most fields cost one switch. Returns 0 or EW__H1_ERROR. */
static int on_field(ew__h1_parser_t *p, const unsigned char *b, uint32_t idx)
{
    static const char *const conn_lit[3] = {"close", "keep-alive", "upgrade"};
    static const uint32_t conn_flag[3] = {F_CONN_CLOSE, F_CONN_KEEP_ALIVE, F_CONN_UPGRADE};
    static const char *const expect_lit[3] = {"100-continue", NULL, NULL};
    static const uint32_t expect_flag[3] = {F_EXPECT_CONTINUE, 0, 0};
    const unsigned char *name = b + p->offs[2 * idx], *v = b + p->offs[2 * idx + 1];
    size_t vn = p->fields[idx].value_len;

    switch (p->fields[idx].name_len) {
    case 4:
        if (lower_eq(name, "host", 4)) {
            if (p->host_idx)
                p->flags |= F_HOST_TWICE;
            p->host_idx = idx + 1;
        }
        break;
    case 6:
        if (lower_eq(name, "expect", 6))
            match_list(p, v, vn, expect_lit, expect_flag);
        break;
    case 7:
        if (lower_eq(name, "upgrade", 7) && vn > 0)
            p->flags |= F_UPGRADE;
        break;
    case 10:
        if (lower_eq(name, "connection", 10))
            match_list(p, v, vn, conn_lit, conn_flag);
        break;
    case 14:
        if (lower_eq(name, "content-length", 14))
            return on_content_length(p, v, vn);
        break;
    case 17:
        if (lower_eq(name, "transfer-encoding", 17))
            return on_transfer_encoding(p, v, vn);
        break;
    }
    return 0;
}

/* Stores the field whose value ends at the CR at b[cr]: trailing OWS is trimmed here (leading OWS was
 * skipped by S_OWS), so the value never starts or ends with whitespace. */
static void record_field(ew__h1_parser_t *p, const unsigned char *b, size_t cr)
{
    uint32_t n = p->nfields++;
    size_t s = p->mark, e = cr;

    while (e > s && (cls[b[e - 1]] & C_OWS))
        e--;
    p->fields[n].name_len = p->name_end - p->offs[2 * n];
    p->offs[2 * n + 1] = (uint32_t)s;
    p->fields[n].value_len = (uint32_t)(e - s);
}

/* Field lines up to and including the blank line (RFC 9112 5): name ":" OWS value OWS CRLF. Rejects
 * obs-fold, whitespace before the colon, bare CR/LF and CTLs in values. Returns 1 when the blank line has
 * been read, 0 when the input ran out, or EW__H1_ERROR. */
static int scan_fields(ew__h1_parser_t *p, const unsigned char *b, size_t lim, size_t *ip)
{
    size_t i = *ip;

    for (;;) {
        if (i == lim)
            break;
        switch (p->state) {
        case S_FIELD_START:
            if (b[i] == '\r') {
                i++;
                p->state = S_END_LF;
                continue;
            }
            if (!(cls[b[i]] & C_TOKEN))
                return fail(p, 400, (cls[b[i]] & C_OWS) ? "obs-fold or whitespace before field name"
                                    : b[i] == '\n'      ? "bare LF"
                                                        : "invalid header name");
            if (p->nfields == p->cap)
                return fail(p, 431, "too many header fields");
            p->offs[2 * p->nfields] = (uint32_t)i;
            p->state = S_NAME;
            /* fall through */
        case S_NAME:
            i = skip(b, i, lim, C_TOKEN);
            if (i == lim)
                goto more;
            if (b[i] != ':')
                return fail(p, 400, (cls[b[i]] & C_OWS) ? "whitespace before colon" : "invalid header name");
            p->name_end = (uint32_t)i++;
            p->state = S_OWS;
            /* fall through */
        case S_OWS:
            while (i < lim && (cls[b[i]] & C_OWS))
                i++;
            if (i == lim)
                goto more;
            p->mark = (uint32_t)i;
            p->state = S_VALUE;
            /* fall through */
        case S_VALUE:
            i = skip(b, i, lim, C_VALUE);
            if (i == lim)
                goto more;
            if (b[i] != '\r')
                return fail(p, 400, b[i] == '\n' ? "bare LF" : "invalid character in header value");
            record_field(p, b, i++);
            p->state = S_VALUE_LF;
            if (i == lim)
                goto more;
            /* fall through */
        case S_VALUE_LF:
            if (b[i] != '\n')
                return fail(p, 400, "bare CR");
            i++;
            if (!p->in_trailers && on_field(p, b, p->nfields - 1) < 0)
                return EW__H1_ERROR;
            p->state = S_FIELD_START;
            continue;
        case S_END_LF:
            if (b[i] != '\n')
                return fail(p, 400, "bare CR");
            *ip = i + 1;
            return 1;
        }
    }
more:
    *ip = i;
    return 0;
}

/* Scans a head (or, with p->in_trailers, a trailer section) in b[0, len), resuming at p->pos. At most
 * max_head_bytes are looked at: a section not complete by then is too large (431; 414 while still in the
 * request-target). Returns EW__H1_HEAD when complete (p->pos = its length), EW__H1_AGAIN, or EW__H1_ERROR. */
static int scan_section(ew__h1_parser_t *p, const unsigned char *b, size_t len)
{
    size_t lim = len < p->cfg.max_head_bytes ? len : p->cfg.max_head_bytes;
    size_t i = p->pos;
    int r = 1;

    assert(i <= len); /* the caller passes again every byte it has not been told it may drop */
    if (p->state < S_FIELD_START)
        r = p->mode == EW__H1_REQUEST ? scan_request_line(p, b, lim, &i) : scan_status_line(p, b, lim, &i);
    if (r > 0)
        r = scan_fields(p, b, lim, &i);
    if (r < 0)
        return EW__H1_ERROR;
    p->pos = (uint32_t)i;
    if (r > 0)
        return EW__H1_HEAD;
    if (lim < len)
        return p->state == S_TARGET ? fail(p, 414, "request-target too long")
                                    : fail(p, 431, p->in_trailers ? "trailer section too large" : "head too large");
    return EW__H1_AGAIN;
}

/* Turns the recorded offsets of nfields fields into pointers into buf. */
static void make_fields(ew__h1_parser_t *p, const char *buf)
{
    for (uint32_t k = 0; k < p->nfields; k++) {
        p->fields[k].name = buf + p->offs[2 * k];
        p->fields[k].value = buf + p->offs[2 * k + 1];
    }
}

/* Transfer-Encoding was sent: 0 if the body is (only) chunked, else EW__H1_ERROR (RFC 9112 6.1, 6.3). */
static int check_chunked(ew__h1_parser_t *p)
{
    if (p->msg.version_minor == 0)
        return fail(p, 400, "Transfer-Encoding in HTTP/1.0");
    if (p->flags & F_CL)
        return fail(p, 400, "both Transfer-Encoding and Content-Length");
    if (!(p->flags & F_TE_LAST_CHUNKED))
        return fail(p, 400, "chunked is not the final transfer coding");
    if (p->flags & F_TE_TWICE)
        return fail(p, 400, "chunked applied more than once");
    if (p->flags & F_TE_OTHER)
        return fail(p, 501, "unsupported transfer coding");
    return 0;
}

/* HTTP/1.1 defaults to keep-alive unless "close"; HTTP/1.0 to close unless "keep-alive" (RFC 9112 9.3). */
static bool keep_alive(const ew__h1_parser_t *p)
{
    if (p->flags & F_CONN_CLOSE)
        return false;
    return p->msg.version_minor == 1 || (p->flags & F_CONN_KEEP_ALIVE);
}

/* Request framing (RFC 9112 6.3): chunked, Content-Length, or no body. Also Host, Expect and Upgrade,
 * which HTTP/1.0 requests do not get (RFC 9110 7.8, 10.1.1). */
static int request_framing(ew__h1_parser_t *p)
{
    ew__h1_message_t *m = &p->msg;

    if (p->flags & F_HOST_TWICE)
        return fail(p, 400, "more than one Host");
    if (m->version_minor == 1 && !p->host_idx)
        return fail(p, 400, "missing Host");
    if (p->host_idx)
        m->host = (ew__h1_slice_t){p->fields[p->host_idx - 1].value, p->fields[p->host_idx - 1].value_len};
    if (p->flags & F_TE) {
        if (check_chunked(p) < 0)
            return EW__H1_ERROR;
        m->framing = EW__H1_BODY_CHUNKED;
    } else if (m->content_length > 0) {
        if (m->content_length > p->cfg.max_body_bytes)
            return fail(p, 413, "body too large");
        m->framing = EW__H1_BODY_LENGTH;
    }
    m->keep_alive = keep_alive(p);
    if (m->version_minor == 1) {
        m->expect_continue = (p->flags & F_EXPECT_CONTINUE) != 0;
        m->upgrade = (p->flags & (F_CONN_UPGRADE | F_UPGRADE)) == (F_CONN_UPGRADE | F_UPGRADE);
    }
    return 0;
}

/* Response framing (RFC 9112 6.3): no body for HEAD, 1xx, 204 and 304 whatever the fields say; a 101, or
 * a 2xx to CONNECT, ends HTTP on the connection; without Content-Length or chunked, the body runs until
 * the server closes. The fields are still checked for conflicts: a server that sends them is broken. */
static int response_framing(ew__h1_parser_t *p)
{
    ew__h1_message_t *m = &p->msg;
    int st = m->status;

    if (p->flags & F_TE) {
        if (check_chunked(p) < 0)
            return EW__H1_ERROR;
        m->framing = EW__H1_BODY_CHUNKED;
    } else if (p->flags & F_CL) {
        m->framing = m->content_length > 0 ? EW__H1_BODY_LENGTH : EW__H1_BODY_NONE;
    } else {
        m->framing = EW__H1_BODY_CLOSE;
    }
    if (p->req_head || st < 200 || st == 204 || st == 304)
        m->framing = EW__H1_BODY_NONE;
    if (st == 101 || (p->req_connect && st / 100 == 2)) {
        m->upgrade = true;
        m->framing = EW__H1_BODY_NONE;
    }
    if (m->framing == EW__H1_BODY_LENGTH && m->content_length > p->cfg.max_body_bytes)
        return fail(p, 413, "body too large");
    m->keep_alive = keep_alive(p) && m->framing != EW__H1_BODY_CLOSE && !m->upgrade;
    return 0;
}

/* The head is complete in buf[0, p->pos): hand out slices, judge the framing, pick the body phase. */
static int parse_head(ew__h1_parser_t *p, const char *buf, size_t len, size_t *used)
{
    ew__h1_message_t *m = &p->msg;
    int r;

    if (p->state == S_BEGIN)
        begin_message(p);
    if ((r = scan_section(p, (const unsigned char *)buf, len)) != EW__H1_HEAD)
        return r;
    make_fields(p, buf);
    m->headers = p->fields;
    m->nheaders = p->nfields;
    if (p->mode == EW__H1_REQUEST) {
        m->method = (ew__h1_slice_t){buf + p->method_off, p->method_end - p->method_off};
        m->target = (ew__h1_slice_t){buf + p->target_off, p->target_end - p->target_off};
        r = request_framing(p);
    } else {
        m->reason = (ew__h1_slice_t){buf + p->reason_off, p->reason_end - p->reason_off};
        r = response_framing(p);
    }
    if (r < 0)
        return EW__H1_ERROR;
    switch (m->framing) {
    case EW__H1_BODY_NONE: p->phase = P_NO_BODY; break;
    case EW__H1_BODY_LENGTH: p->phase = P_LENGTH; p->remaining = m->content_length; break;
    case EW__H1_BODY_CHUNKED: p->phase = P_CHUNKED; p->state = C_SIZE; break;
    case EW__H1_BODY_CLOSE: p->phase = P_CLOSE; break;
    }
    *used = p->pos;
    return EW__H1_HEAD;
}

/* ---------------------------------------------------------------------------------------------------------
 * Body
 */

/* The message is over. A final response (not 1xx, or 101) uses up the request method set for it; after a
 * 101 or a CONNECT tunnel the connection no longer speaks HTTP. msg stays readable until the next call. */
static int message_done(ew__h1_parser_t *p)
{
    if (p->mode == EW__H1_RESPONSE && (p->msg.status >= 200 || p->msg.status == 101))
        p->req_head = p->req_connect = false;
    p->phase = p->mode == EW__H1_RESPONSE && p->msg.upgrade ? P_UPGRADED : P_HEAD;
    p->state = S_BEGIN;
    return EW__H1_DONE;
}

/* Trailer section after the last chunk, starting at buf[base]; it is parsed like a head (same rules and
 * limits) and handed out at EW__H1_DONE. Until it is complete, nothing from base on is used. */
static int parse_trailers(ew__h1_parser_t *p, const char *buf, size_t len, size_t base, size_t *used)
{
    int r = scan_section(p, (const unsigned char *)buf + base, len - base);

    if (r != EW__H1_HEAD) {
        *used = base;
        return r;
    }
    make_fields(p, buf + base);
    p->msg.trailers = p->fields;
    p->msg.ntrailers = p->nfields;
    *used = base + p->pos;
    return message_done(p);
}

/* The last chunk's line ended at buf[i]: switch to the trailer section (the head's fields are gone). */
static int begin_trailers(ew__h1_parser_t *p, const char *buf, size_t len, size_t i, size_t *used)
{
    p->phase = P_TRAILERS;
    p->state = S_FIELD_START;
    p->in_trailers = true;
    p->pos = 0;
    p->nfields = 0;
    p->msg.headers = NULL;
    p->msg.nheaders = 0;
    p->msg.host = (ew__h1_slice_t){NULL, 0};
    return parse_trailers(p, buf, len, i, used);
}

/* One byte of chunk framing (RFC 9112 7.1): chunk-size [ BWS ";" chunk-ext ] CRLF, and the CRLF after the
 * data. The size accumulates in p->remaining. Returns 0, 1 when the last chunk's line is complete, or
 * EW__H1_ERROR. */
static int chunk_byte(ew__h1_parser_t *p, unsigned char c)
{
    switch (p->state) {
    case C_SIZE:
        if (cls[c] & C_HEX) {
            if (p->chunk_digits++ == 16)
                return fail(p, 400, "chunk size too long");
            p->remaining = p->remaining << 4 | (uint64_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            return 0;
        }
        if (p->chunk_digits == 0 || !(c == '\r' || c == ';' || (cls[c] & C_OWS)))
            return fail(p, 400, c == '\n' ? "bare LF" : "invalid chunk size");
        p->state = c == '\r' ? C_SIZE_LF : c == ';' ? C_EXT : C_BWS;
        return 0;
    case C_BWS:
        if (++p->chunk_ext > p->cfg.max_head_bytes)
            return fail(p, 400, "chunk extensions too long");
        if (c == ';')
            p->state = C_EXT;
        else if (!(cls[c] & C_OWS))
            return fail(p, 400, "invalid chunk extension");
        return 0;
    case C_EXT: /* the run of extension bytes was skipped by the caller: c ends it */
        if (c != '\r')
            return fail(p, 400, c == '\n' ? "bare LF" : "invalid chunk extension");
        p->state = C_SIZE_LF;
        return 0;
    case C_SIZE_LF:
        if (c != '\n')
            return fail(p, 400, "bare CR");
        p->chunk_digits = 0;
        if (p->remaining == 0)
            return 1;
        if (p->remaining > p->cfg.max_body_bytes - p->body_total)
            return fail(p, 413, "body too large");
        p->body_total += p->remaining;
        p->state = C_DATA;
        return 0;
    case C_DATA_CR:
    case C_DATA_LF:
        if (c != (p->state == C_DATA_CR ? '\r' : '\n'))
            return fail(p, 400, "chunk data not followed by CRLF");
        p->state = p->state == C_DATA_CR ? C_DATA_LF : C_SIZE;
        return 0;
    }
    return fail(p, 400, "invalid chunk"); /* not reached: C_DATA is handled by parse_chunked */
}

/* Chunked body: framing bytes are used as they are read (their meaning is kept in p), data is handed out
 * as slices of buf. Extensions are skipped, bounded per message by max_head_bytes. */
static int parse_chunked(ew__h1_parser_t *p, const char *buf, size_t len, size_t *used, ew__h1_slice_t *body)
{
    const unsigned char *b = (const unsigned char *)buf;
    size_t i = 0;

    for (;;) {
        int r;

        if (p->state == C_DATA) {
            size_t n = len - i < p->remaining ? len - i : (size_t)p->remaining;
            if (n == 0)
                break;
            *body = (ew__h1_slice_t){buf + i, n};
            p->remaining -= n;
            if (p->remaining == 0)
                p->state = C_DATA_CR;
            *used = i + n;
            return EW__H1_BODY;
        }
        if (p->state == C_EXT) {
            size_t s = i;
            while (i < len && (cls[b[i]] & C_VALUE))
                i++;
            p->chunk_ext += i - s;
            if (p->chunk_ext > p->cfg.max_head_bytes)
                return fail(p, 400, "chunk extensions too long");
        }
        if (i == len)
            break;
        if ((r = chunk_byte(p, b[i++])) < 0)
            return r;
        if (r > 0)
            return begin_trailers(p, buf, len, i, used);
    }
    *used = i;
    return EW__H1_AGAIN;
}

int ew__h1_parse(ew__h1_parser_t *p, const char *buf, size_t len, size_t *used, ew__h1_slice_t *body)
{
    size_t n;

    if (buf == NULL) /* allowed with len 0; slices must not be offsets from NULL */
        buf = "";
    *used = 0;
    *body = (ew__h1_slice_t){NULL, 0};
    switch (p->phase) {
    case P_HEAD:
        return parse_head(p, buf, len, used);
    case P_NO_BODY:
        return message_done(p);
    case P_LENGTH:
        if (p->remaining == 0)
            return message_done(p);
        n = len < p->remaining ? len : (size_t)p->remaining;
        if (n == 0)
            return EW__H1_AGAIN;
        p->remaining -= n;
        break;
    case P_CLOSE: /* up to the limit, then fail: the same pieces whatever the reads were */
        if (len == 0)
            return EW__H1_AGAIN;
        n = len < p->cfg.max_body_bytes - p->body_total ? len : (size_t)(p->cfg.max_body_bytes - p->body_total);
        if (n == 0)
            return fail(p, 413, "body too large");
        p->body_total += n;
        break;
    case P_CHUNKED:
        return parse_chunked(p, buf, len, used, body);
    case P_TRAILERS:
        return parse_trailers(p, buf, len, 0, used);
    case P_UPGRADED: /* the bytes after a 101 or a CONNECT tunnel's 2xx belong to another protocol */
        return len == 0 ? EW__H1_AGAIN : fail(p, 400, "connection switched protocols");
    default:
        return EW__H1_ERROR;
    }
    *body = (ew__h1_slice_t){buf, n};
    *used = n;
    return EW__H1_BODY;
}

uint64_t ew__h1_length_left(const ew__h1_parser_t *p)
{
    return p->phase == P_LENGTH ? p->remaining : 0;
}

void ew__h1_length_skip(ew__h1_parser_t *p, uint64_t n)
{
    if (p->phase == P_LENGTH)
        p->remaining -= n < p->remaining ? n : p->remaining;
}

int ew__h1_finish(ew__h1_parser_t *p)
{
    switch (p->phase) {
    case P_HEAD:
        /* Between messages (possibly after empty lines) a close is clean. */
        if (p->state == S_BEGIN || p->state == S_START || p->state == S_START_LF)
            return EW__H1_AGAIN;
        break;
    case P_NO_BODY:
    case P_CLOSE:
        return message_done(p);
    case P_LENGTH:
        if (p->remaining == 0)
            return message_done(p);
        break;
    case P_UPGRADED:
        return EW__H1_AGAIN;
    case P_ERROR:
        return EW__H1_ERROR;
    }
    return fail(p, 400, "connection closed mid-message");
}

/* ---------------------------------------------------------------------------------------------------------
 * Reason phrases (RFC 9110 15, plus the registered WebDAV/extension codes)
 */

const char *ew__h1_reason_phrase(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
    }
}
