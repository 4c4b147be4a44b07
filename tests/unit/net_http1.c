/*
 * HTTP/1.1 parser (lib/net/http1.c): requests and responses, framing, keep-alive, limits, and every request
 * smuggling construct we reject. Most checks go through run(), which feeds a message in pieces and writes a
 * transcript of the events; "any split gives the same parse" is then a string comparison. run() copies the
 * unused bytes into a fresh, exactly sized allocation before every call, so a parser that kept a pointer
 * across calls or read past `len` is caught by valgrind/ASan.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http1.h"

/* ---------------------------------------------------------------------------------------------------------
 * Harness
 */

typedef struct transcript {
    char text[16384];
    size_t len;
} transcript_t;

static void emit(transcript_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->text + t->len, sizeof t->text - t->len, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof t->text - t->len, "transcript overflow");
    t->len += (size_t)n;
}

/* printf arguments for a slice; %.*s with a NULL pointer is undefined even at length 0. */
#define SL(s) (int)(s).len, (s).ptr ? (s).ptr : ""

static void emit_fields(transcript_t *t, const ew__h1_header_t *f, size_t n)
{
    for (size_t k = 0; k < n; k++)
        emit(t, "  %.*s: [%.*s]\n", (int)f[k].name_len, f[k].name, (int)f[k].value_len, f[k].value);
}

static void emit_head(transcript_t *t, const ew__h1_message_t *m)
{
    emit(t, "HEAD %.*s %.*s 1.%d status=%d reason=[%.*s] framing=%d cl=%llu ka=%d continue=%d upgrade=%d "
            "host=[%.*s]\n",
         SL(m->method), SL(m->target), m->version_minor, m->status, SL(m->reason), (int)m->framing,
         (unsigned long long)m->content_length, m->keep_alive, m->expect_continue, m->upgrade, SL(m->host));
    emit_fields(t, m->headers, m->nheaders);
}

typedef struct feed {
    const ew__h1_config_t *cfg; /* NULL: defaults */
    ew__h1_mode_t mode;
    const char *method;         /* response mode: the request's method, or NULL */
    const size_t *cuts;         /* the input arrives in pieces ending at these offsets (ascending, < len) */
    size_t ncuts;
} feed_t;

/* Parses in[0, len) arriving as f describes, until the parser wants more input than there is (then EOF is
 * signalled with ew__h1_finish) or fails. Body pieces are merged, so the transcript does not depend on how
 * the input was cut. */
static void run(const feed_t *f, const char *in, size_t len, transcript_t *t)
{
    ew__h1_parser_t p;
    char body[8192];
    size_t nbody = 0, start = 0, next = 0;
    size_t arrived = f->ncuts ? f->cuts[next++] : len;
    bool stop = false;

    t->len = 0;
    t->text[0] = 0;
    cr_assert_eq(ew__h1_parser_init(&p, f->mode, f->cfg), 0);
    if (f->method)
        ew__h1_parser_set_request(&p, f->method, strlen(f->method));
    for (int guard = 0; !stop; guard++) {
        size_t n = arrived - start, used;
        char *buf = malloc(n ? n : 1);
        ew__h1_slice_t piece;
        int ev, r;

        cr_assert(guard < 100000, "parser does not make progress");
        memcpy(buf, in + start, n);
        ev = ew__h1_parse(&p, buf, n, &used, &piece);
        cr_assert_leq(used, n);
        if (nbody && (ev != EW__H1_BODY && (ev != EW__H1_AGAIN || arrived == len))) {
            emit(t, "BODY [%.*s]\n", (int)nbody, body);
            nbody = 0;
        }
        switch (ev) {
        case EW__H1_HEAD:
            emit_head(t, &p.msg);
            break;
        case EW__H1_BODY:
            cr_assert(piece.len > 0 && piece.ptr >= buf && piece.ptr + piece.len <= buf + used);
            cr_assert_leq(nbody + piece.len, sizeof body);
            memcpy(body + nbody, piece.ptr, piece.len);
            nbody += piece.len;
            break;
        case EW__H1_DONE:
            emit(t, "DONE ka=%d\n", p.msg.keep_alive);
            emit_fields(t, p.msg.trailers, p.msg.ntrailers);
            break;
        case EW__H1_AGAIN:
            if (arrived < len) {
                arrived = next < f->ncuts ? f->cuts[next++] : len;
                break;
            }
            r = ew__h1_finish(&p);
            emit(t, "EOF %s\n", r == EW__H1_DONE ? "DONE" : r == EW__H1_AGAIN ? "CLEAN" : "");
            if (r == EW__H1_ERROR)
                emit(t, "ERROR %d %s\n", p.error_status, p.error_reason);
            stop = true;
            break;
        default:
            emit(t, "ERROR %d %s\n", p.error_status, p.error_reason);
            stop = true;
        }
        free(buf);
        start += used;
    }
    ew__h1_parser_dispose(&p);
}

#define S(lit) lit, sizeof(lit) - 1 /* a literal and its length (inputs may hold NUL bytes) */

static const ew__h1_config_t small = {
    .max_head_bytes = 256, .max_target_len = 32, .max_headers = 4, .max_body_bytes = 16};

static void run_whole(ew__h1_mode_t mode, const char *method, const char *in, size_t len, transcript_t *t)
{
    feed_t f = {.mode = mode, .method = method};
    run(&f, in, len, t);
}

/* The transcript must not depend on where the input is cut: every single cut, one byte at a time, and a
 * few hundred pseudo-random three-piece cuts. */
static void check_every_split(const feed_t *base, const char *in, size_t len)
{
    static transcript_t whole, cut;
    size_t *all = malloc(len * sizeof *all);
    unsigned seed = 12345;
    feed_t f = *base;

    run(base, in, len, &whole);
    for (size_t k = 1; k < len; k++) {
        f.cuts = &k;
        f.ncuts = 1;
        run(&f, in, len, &cut);
        cr_assert_str_eq(cut.text, whole.text, "cut at %zu of:\n%s", k, in);
    }
    for (size_t k = 1; k < len; k++)
        all[k - 1] = k;
    f.cuts = all;
    f.ncuts = len - 1;
    run(&f, in, len, &cut);
    cr_assert_str_eq(cut.text, whole.text, "one byte at a time:\n%s", in);
    for (int r = 0; r < 300 && len > 2; r++) {
        size_t two[2];
        seed = seed * 1103515245u + 12345u;
        two[0] = 1 + (seed >> 8) % (len - 2);
        seed = seed * 1103515245u + 12345u;
        two[1] = two[0] + 1 + (seed >> 8) % (len - 1 - two[0]);
        f.cuts = two;
        f.ncuts = 2;
        run(&f, in, len, &cut);
        cr_assert_str_eq(cut.text, whole.text, "cuts at %zu, %zu", two[0], two[1]);
    }
    free(all);
}

/* One parse call over a whole message; for tests that look at p.msg directly. */
static int parse_once(ew__h1_parser_t *p, ew__h1_mode_t mode, const char *in, size_t *used)
{
    ew__h1_slice_t body;
    cr_assert_eq(ew__h1_parser_init(p, mode, NULL), 0);
    return ew__h1_parse(p, in, strlen(in), used, &body);
}

/* ---------------------------------------------------------------------------------------------------------
 * Requests
 */

Test(net_http1, get_request_gives_line_and_header_slices)
{
    static const char in[] = "GET /a/b?c=d HTTP/1.1\r\n"
                             "Host: example.com\r\n"
                             "Accept: */*\r\n"
                             "X-Empty:\r\n"
                             "X-Ows: \t a  b \t\r\n"
                             "\r\n";
    ew__h1_parser_t p;
    size_t used;

    cr_assert_eq(parse_once(&p, EW__H1_REQUEST, in, &used), EW__H1_HEAD);
    cr_assert_eq(used, strlen(in));
    cr_assert(p.msg.method.len == 3 && memcmp(p.msg.method.ptr, "GET", 3) == 0);
    cr_assert_eq(p.msg.target.len, 8);
    cr_assert(memcmp(p.msg.target.ptr, "/a/b?c=d", 8) == 0);
    cr_assert_eq(p.msg.version_minor, 1);
    cr_assert(p.msg.host.len == 11 && memcmp(p.msg.host.ptr, "example.com", 11) == 0);
    cr_assert_eq(p.msg.nheaders, 4);
    cr_assert(p.msg.headers[1].name_len == 6 && memcmp(p.msg.headers[1].name, "Accept", 6) == 0);
    cr_assert(p.msg.headers[1].value_len == 3 && memcmp(p.msg.headers[1].value, "*/*", 3) == 0);
    cr_assert_eq(p.msg.headers[2].value_len, 0);
    cr_assert(p.msg.headers[3].value_len == 4 && memcmp(p.msg.headers[3].value, "a  b", 4) == 0);
    cr_assert_eq(p.msg.framing, EW__H1_BODY_NONE);
    cr_assert(p.msg.keep_alive);
    ew__h1_slice_t body;
    cr_assert_eq(ew__h1_parse(&p, in + used, 0, &used, &body), EW__H1_DONE);
    cr_assert_eq(used, 0);
    ew__h1_parser_dispose(&p);
}

Test(net_http1, post_with_content_length_delivers_body)
{
    static transcript_t t;
    run_whole(EW__H1_REQUEST, NULL, S("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"), &t);
    cr_assert_str_eq(t.text, "HEAD POST /x 1.1 status=0 reason=[] framing=1 cl=11 ka=1 continue=0 upgrade=0 host=[a]\n"
                             "  Host: [a]\n"
                             "  Content-Length: [11]\n"
                             "BODY [hello world]\n"
                             "DONE ka=1\n"
                             "EOF CLEAN\n");
}

Test(net_http1, post_chunked_delivers_dechunked_body_and_trailers)
{
    static transcript_t t;
    run_whole(EW__H1_REQUEST, NULL,
              S("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                "5\r\nhello\r\n"
                "6;name=value ; other=\"q s\"\r\n world\r\n"
                "A \t; x\r\n0123456789\r\n"
                "0\r\nX-Sum: abc \r\nX-Other:\tz\r\n\r\n"),
              &t);
    cr_assert_str_eq(t.text,
                     "HEAD POST /up 1.1 status=0 reason=[] framing=2 cl=0 ka=1 continue=0 upgrade=0 host=[a]\n"
                     "  Host: [a]\n"
                     "  Transfer-Encoding: [chunked]\n"
                     "  Trailer: [X-Sum]\n"
                     "BODY [hello world0123456789]\n"
                     "DONE ka=1\n"
                     "  X-Sum: [abc]\n"
                     "  X-Other: [z]\n"
                     "EOF CLEAN\n");
}

Test(net_http1, chunked_without_trailers_ends_at_blank_line)
{
    static transcript_t t;
    run_whole(EW__H1_REQUEST, NULL,
              S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n\r\n3\r\nabc\r\n0\r\n\r\n"), &t);
    cr_assert(strstr(t.text, "BODY [abc]\nDONE ka=1\nEOF CLEAN\n") != NULL, "%s", t.text);
}

Test(net_http1, pipelined_requests_parse_one_after_another_and_can_pause)
{
    static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                             "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                             "POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
                             "\r\nGET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    static const char *const targets[] = {"/1", "/2", "/3", "/4"};
    static const char *const bodies[] = {"", "abc", "de", ""};
    ew__h1_parser_t p;
    ew__h1_slice_t body;
    size_t off = 0, used;

    cr_assert_eq(ew__h1_parser_init(&p, EW__H1_REQUEST, NULL), 0);
    for (int k = 0; k < 4; k++) {
        char got[16] = "";
        cr_assert_eq(ew__h1_parse(&p, in + off, strlen(in) - off, &used, &body), EW__H1_HEAD, "request %d", k);
        cr_assert(p.msg.target.len == 2 && memcmp(p.msg.target.ptr, targets[k], 2) == 0);
        off += used;
        for (;;) {
            int ev = ew__h1_parse(&p, in + off, strlen(in) - off, &used, &body);
            off += used;
            if (ev == EW__H1_DONE)
                break;
            cr_assert_eq(ev, EW__H1_BODY);
            strncat(got, body.ptr, body.len);
        }
        cr_assert_str_eq(got, bodies[k]);
        cr_assert_eq(p.msg.keep_alive, k < 3);
        /* Paused here: nothing is consumed until the caller comes back with the rest. */
    }
    cr_assert_eq(off, strlen(in));
    cr_assert_eq(ew__h1_parse(&p, in + off, 0, &used, &body), EW__H1_AGAIN);
    cr_assert_eq(ew__h1_finish(&p), EW__H1_AGAIN);
    ew__h1_parser_dispose(&p);
}

Test(net_http1, head_is_not_used_until_complete)
{
    static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    ew__h1_parser_t p;
    ew__h1_slice_t body;
    size_t used;

    cr_assert_eq(ew__h1_parser_init(&p, EW__H1_REQUEST, NULL), 0);
    for (size_t n = 0; n < strlen(in); n++) {
        cr_assert_eq(ew__h1_parse(&p, in, n, &used, &body), EW__H1_AGAIN);
        cr_assert_eq(used, 0);
    }
    cr_assert_eq(ew__h1_parse(&p, in, strlen(in), &used, &body), EW__H1_HEAD);
    cr_assert_eq(used, strlen(in));
    ew__h1_parser_dispose(&p);
}

Test(net_http1, accepted_edge_cases_parse)
{
    static const struct {
        const char *name, *in, *expect; /* expect: a substring of the transcript */
    } cases[] = {
        {"empty lines before request line", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD GET / 1.1"},
        {"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", "HEAD GET / 1.0 status=0 reason=[] framing=0 cl=0 ka=0"},
        {"obs-text in value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\xff\r\n\r\n", "  X: [caf\xc3\xa9\xff]\n"},
        {"identical Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
         "BODY [abc]\nDONE"},
        {"repeated identical Content-Length",
         "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 003\r\n\r\nabc", "BODY [abc]\nDONE"},
        {"Content-Length zero", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "framing=0 cl=0"},
        {"asterisk-form", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD OPTIONS * 1.1"},
        {"absolute-form", "GET http://a/b HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD GET http://a/b 1.1"},
        {"any token method", "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", "HEAD M-SEARCH *"},
        {"uppercase hex chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "A\r\n0123456789\r\n0\r\n\r\n", "BODY [0123456789]"},
        {"16-digit chunk size with leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                   "0000000000000002\r\nab\r\n0\r\n\r\n", "BODY [ab]"},
        {"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "host=[]"},
    };
    static transcript_t t;

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run_whole(EW__H1_REQUEST, NULL, cases[k].in, strlen(cases[k].in), &t);
        cr_assert(strstr(t.text, cases[k].expect) != NULL && strstr(t.text, "ERROR") == NULL, "%s:\n%s",
                  cases[k].name, t.text);
    }
}

Test(net_http1, keep_alive_follows_version_and_connection_tokens)
{
    static const struct {
        int minor;
        const char *connection; /* NULL: no Connection field */
        bool keep_alive;
    } cases[] = {
        {1, NULL, true},          {1, "close", false},          {1, "Close", false},
        {1, "keep-alive", true},  {1, "foo, CLOSE", false},     {1, "closed", true},
        {1, "upgrade , close", false}, {0, NULL, false},        {0, "keep-alive", true},
        {0, "Keep-Alive", true},  {0, "keep-alive, close", false}, {0, "x-keep-alive", false},
        {0, " ,keep-alive,", true},
    };
    char in[256];
    ew__h1_parser_t p;
    size_t used;

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(in, sizeof in, "GET / HTTP/1.%d\r\nHost: a\r\n%s%s%s\r\n", cases[k].minor,
                 cases[k].connection ? "Connection: " : "", cases[k].connection ? cases[k].connection : "",
                 cases[k].connection ? "\r\n" : "");
        cr_assert_eq(parse_once(&p, EW__H1_REQUEST, in, &used), EW__H1_HEAD, "%s", in);
        cr_assert_eq(p.msg.keep_alive, cases[k].keep_alive, "%s", in);
        ew__h1_parser_dispose(&p);
    }
}

Test(net_http1, expect_100_continue_only_in_http11)
{
    static const struct {
        const char *in;
        bool expect;
    } cases[] = {
        {"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", true},
        {"POST / HTTP/1.1\r\nHost: a\r\nExpect:  100-Continue \r\nContent-Length: 1\r\n\r\n", true},
        {"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", false},
        {"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n", false},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", false},
    };
    ew__h1_parser_t p;
    size_t used;

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cr_assert_eq(parse_once(&p, EW__H1_REQUEST, cases[k].in, &used), EW__H1_HEAD);
        cr_assert_eq(p.msg.expect_continue, cases[k].expect, "%s", cases[k].in);
        ew__h1_parser_dispose(&p);
    }
}

Test(net_http1, upgrade_needs_connection_token_and_upgrade_field)
{
    static const struct {
        const char *in;
        bool upgrade;
    } cases[] = {
        {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", true},
        {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, upgrade\r\nUpgrade: websocket\r\n\r\n", true},
        {"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", false},
        {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", false},
        {"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade:\r\n\r\n", false},
        {"GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", false},
    };
    ew__h1_parser_t p;
    size_t used;

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        cr_assert_eq(parse_once(&p, EW__H1_REQUEST, cases[k].in, &used), EW__H1_HEAD);
        cr_assert_eq(p.msg.upgrade, cases[k].upgrade, "%s", cases[k].in);
        ew__h1_parser_dispose(&p);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Rejected requests: smuggling constructs and limits, each with the status to answer
 */

#define POST_TE "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
#define GET_LINE "GET / HTTP/1.1\r\n"

static const struct bad_request {
    const char *name;
    const char *in;
    size_t len;
    bool small; /* use the small limits */
    int status;
} bad_requests[] = {
    {"method with a non-token byte", S("G(ET / HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"tab after method", S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"empty method", S(" / HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"control byte in target", S("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"DEL in target", S("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"tab in target", S("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"NUL in target", S("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"two spaces after method", S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"no version", S("GET /\r\nHost: a\r\n\r\n"), false, 400},
    {"HTTP/0.9 style line", S("GET / \r\n\r\n"), false, 400},
    {"HTTP/2.0", S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), false, 505},
    {"HTTP/1.2", S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), false, 505},
    {"HTTP/0.9", S("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), false, 505},
    {"HTTP/1.10", S("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), false, 400},
    {"lowercase http", S("GET / http/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"space after version", S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), false, 400},
    {"bare LF after request line", S("GET / HTTP/1.1\nHost: a\r\n\r\n"), false, 400},
    {"bare LF after field", S(GET_LINE "Host: a\n\r\n"), false, 400},
    {"bare LF ending head", S(GET_LINE "Host: a\r\n\n"), false, 400},
    {"bare CR inside value", S(GET_LINE "Host: a\rb\r\n\r\n"), false, 400},
    {"bare CR ending head", S(GET_LINE "Host: a\r\n\rX\r\n\r\n"), false, 400},
    {"bare CR before request line", S("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"bare LF before request line", S("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), false, 400},
    {"space before colon", S(GET_LINE "Host : a\r\n\r\n"), false, 400},
    {"tab before colon", S(GET_LINE "Host\t: a\r\n\r\n"), false, 400},
    {"empty field name", S(GET_LINE "Host: a\r\n: x\r\n\r\n"), false, 400},
    {"non-token byte in field name", S(GET_LINE "Host: a\r\nX(y): z\r\n\r\n"), false, 400},
    {"field line without colon", S(GET_LINE "Host: a\r\nJunk\r\n\r\n"), false, 400},
    {"obs-fold", S(GET_LINE "Host: a\r\nX: b\r\n c\r\n\r\n"), false, 400},
    {"whitespace before first field", S(GET_LINE " Host: a\r\n\r\n"), false, 400},
    {"NUL in value", S(GET_LINE "Host: a\r\nX: a\0b\r\n\r\n"), false, 400},
    {"control byte in value", S(GET_LINE "Host: a\r\nX: a\x01\r\n\r\n"), false, 400},
    {"DEL in value", S(GET_LINE "Host: a\r\nX: a\x7f\r\n\r\n"), false, 400},
    {"ESC in value", S(GET_LINE "Host: a\r\nX: \x1b[0m\r\n\r\n"), false, 400},
    {"Content-Length letters", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n"), false, 400},
    {"Content-Length negative", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), false, 400},
    {"Content-Length plus sign", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n"), false, 400},
    {"Content-Length hex", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n"), false, 400},
    {"Content-Length decimal point", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1.0\r\n\r\n"), false, 400},
    {"Content-Length empty", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), false, 400},
    {"Content-Length inner space", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n"), false, 400},
    {"Content-Length empty element", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,,1\r\n\r\n"), false, 400},
    {"Content-Length list differs", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), false, 400},
    {"two Content-Lengths differ",
     S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), false, 400},
    {"Content-Length overflows",
     S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n"), false, 400},
    {"Content-Length at uint64 max is too large",
     S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n"), false, 413},
    {"Transfer-Encoding and Content-Length",
     S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), false, 400},
    {"Content-Length and Transfer-Encoding",
     S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), false, 400},
    {"Transfer-Encoding gzip only", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), false, 400},
    {"chunked not final", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), false, 400},
    {"chunked not final across fields",
     S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"), false, 400},
    {"coding before chunked", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), false, 501},
    {"chunked twice", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), false, 400},
    {"chunked twice across fields",
     S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), false, 400},
    {"Transfer-Encoding identity", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"), false, 400},
    {"Transfer-Encoding xchunked", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), false, 400},
    {"Transfer-Encoding with parameter",
     S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n"), false, 400},
    {"Transfer-Encoding empty", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), false, 400},
    {"Transfer-Encoding trailing comma", S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked,\r\n\r\n"),
     false, 400},
    {"Transfer-Encoding in HTTP/1.0", S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), false, 400},
    {"chunk size not hex", S(POST_TE "g\r\n"), false, 400},
    {"chunk size missing", S(POST_TE "\r\n"), false, 400},
    {"chunk size 17 digits", S(POST_TE "00000000000000001\r\nx\r\n0\r\n\r\n"), false, 400},
    {"chunk size beyond body limit", S(POST_TE "ffffffffffffffff\r\n"), false, 413},
    {"chunk size with 0x", S(POST_TE "0x5\r\nhello\r\n0\r\n\r\n"), false, 400},
    {"chunk size negative", S(POST_TE "-1\r\n"), false, 400},
    {"space before chunk size", S(POST_TE " 5\r\nhello\r\n0\r\n\r\n"), false, 400},
    {"space after chunk size without extension", S(POST_TE "5 \r\nhello\r\n0\r\n\r\n"), false, 400},
    {"bare LF after chunk size", S(POST_TE "5\nhello\r\n0\r\n\r\n"), false, 400},
    {"bare CR after chunk size", S(POST_TE "5\rhello\r\n0\r\n\r\n"), false, 400},
    {"chunk data too long", S(POST_TE "5\r\nhelloX\r\n0\r\n\r\n"), false, 400},
    {"bare LF after chunk data", S(POST_TE "5\r\nhello\n0\r\n\r\n"), false, 400},
    {"control byte in chunk extension", S(POST_TE "5;a=\x01\r\nhello\r\n0\r\n\r\n"), false, 400},
    {"bare LF in chunk extension", S(POST_TE "5;a\nhello\r\n0\r\n\r\n"), false, 400},
    {"obs-fold in trailers", S(POST_TE "0\r\nX: a\r\n b\r\n\r\n"), false, 400},
    {"bare LF in trailers", S(POST_TE "0\r\nX: a\n\r\n"), false, 400},
    {"space before colon in trailers", S(POST_TE "0\r\nX : a\r\n\r\n"), false, 400},
    {"missing Host", S("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), false, 400},
    {"two Hosts", S("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), false, 400},
    {"two Hosts in HTTP/1.0", S("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), false, 400},
    {"head over limit",
     S(GET_LINE "Host: a\r\nX-1: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                "X-2: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                "X-3: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
     true, 431},
    {"target over limit", S("GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n"), true, 414},
    {"too many fields", S(GET_LINE "Host: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), true, 431},
    {"Content-Length over body limit", S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\n"), true, 413},
    {"chunks over body limit", S(POST_TE "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"), true, 413},
    {"chunk extensions over limit",
     S(POST_TE "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n"
               "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n"
               "1;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n"),
     true, 400},
    {"chunk whitespace over limit",
     S(POST_TE "1                                                                                                    "
               "                                                                                                     "
               "                                                                                               ;x\r\n"),
     true, 400},
    {"too many trailer fields", S(POST_TE "0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"), true, 431},
};

Test(net_http1, smuggling_and_limit_cases_fail_with_status)
{
    static transcript_t whole, bytewise;

    for (size_t k = 0; k < sizeof bad_requests / sizeof bad_requests[0]; k++) {
        const struct bad_request *c = &bad_requests[k];
        feed_t f = {.mode = EW__H1_REQUEST, .cfg = c->small ? &small : NULL};
        size_t *all = malloc(c->len * sizeof *all);
        const char *err;
        int status = 0;

        run(&f, c->in, c->len, &whole);
        err = strstr(whole.text, "ERROR ");
        cr_assert(err && sscanf(err, "ERROR %d", &status) == 1, "%s: no error:\n%s", c->name, whole.text);
        cr_assert_eq(status, c->status, "%s: %s", c->name, err);
        for (size_t n = 1; n < c->len; n++)
            all[n - 1] = n;
        f.cuts = all;
        f.ncuts = c->len - 1;
        run(&f, c->in, c->len, &bytewise);
        cr_assert_str_eq(bytewise.text, whole.text, "%s, one byte at a time", c->name);
        free(all);
    }
}

Test(net_http1, error_is_sticky)
{
    ew__h1_parser_t p;
    ew__h1_slice_t body;
    size_t used;

    cr_assert_eq(parse_once(&p, EW__H1_REQUEST, "GET / HTTP/1.1\nHost: a\r\n\r\n", &used), EW__H1_ERROR);
    cr_assert_eq(p.error_status, 400);
    cr_assert_str_eq(p.error_reason, "bare LF");
    cr_assert_eq(ew__h1_parse(&p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, &used, &body), EW__H1_ERROR);
    cr_assert_eq(ew__h1_finish(&p), EW__H1_ERROR);
    ew__h1_parser_reset(&p);
    cr_assert_eq(ew__h1_parse(&p, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, &used, &body), EW__H1_HEAD);
    ew__h1_parser_dispose(&p);
}

Test(net_http1, eof_mid_message_is_an_error_and_between_messages_is_clean)
{
    static const struct {
        const char *in;
        const char *tail;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "DONE ka=1\nEOF CLEAN\n"},
        {"\r\n", "EOF CLEAN\n"},
        {"GET / HTTP/1.1\r\nHost: a\r\n", "EOF \nERROR 400 connection closed mid-message\n"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabc",
         "BODY [abc]\nEOF \nERROR 400 connection closed mid-message\n"},
        {POST_TE "3\r\nabc\r\n", "BODY [abc]\nEOF \nERROR 400 connection closed mid-message\n"},
        {POST_TE "0\r\nX: y\r\n", "EOF \nERROR 400 connection closed mid-message\n"},
    };
    static transcript_t t;

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = strlen(cases[k].tail);
        run_whole(EW__H1_REQUEST, NULL, cases[k].in, strlen(cases[k].in), &t);
        cr_assert(t.len >= n && strcmp(t.text + t.len - n, cases[k].tail) == 0, "%s\n---\n%s", cases[k].in, t.text);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Responses
 */

Test(net_http1, response_framing_follows_method_and_status)
{
    static const struct {
        const char *name, *method, *in, *expect; /* expect: the whole transcript */
    } cases[] = {
        {"content-length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
         "HEAD   1.1 status=200 reason=[OK] framing=1 cl=5 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Content-Length: [5]\nBODY [hello]\nDONE ka=1\nEOF CLEAN\n"},
        {"HEAD has no body", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
         "HEAD   1.1 status=200 reason=[OK] framing=0 cl=5 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Content-Length: [5]\nDONE ka=1\nEOF CLEAN\n"},
        {"HEAD with chunked has no body", "HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
         "HEAD   1.1 status=200 reason=[OK] framing=0 cl=0 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Transfer-Encoding: [chunked]\nDONE ka=1\nEOF CLEAN\n"},
        {"204 has no body", "GET", "HTTP/1.1 204 No Content\r\n\r\n",
         "HEAD   1.1 status=204 reason=[No Content] framing=0 cl=0 ka=1 continue=0 upgrade=0 host=[]\n"
         "DONE ka=1\nEOF CLEAN\n"},
        {"304 has no body", "GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
         "HEAD   1.1 status=304 reason=[Not Modified] framing=0 cl=99 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Content-Length: [99]\nDONE ka=1\nEOF CLEAN\n"},
        {"close-delimited", "GET", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the end",
         "HEAD   1.1 status=200 reason=[OK] framing=3 cl=0 ka=0 continue=0 upgrade=0 host=[]\n"
         "  Server: [x]\nBODY [until the end]\nEOF DONE\n"},
        {"HTTP/1.0 close-delimited", "GET", "HTTP/1.0 200 OK\r\n\r\nold",
         "HEAD   1.0 status=200 reason=[OK] framing=3 cl=0 ka=0 continue=0 upgrade=0 host=[]\n"
         "BODY [old]\nEOF DONE\n"},
        {"chunked with trailers", "GET",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\nX-T: 1\r\n\r\n",
         "HEAD   1.1 status=200 reason=[OK] framing=2 cl=0 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Transfer-Encoding: [chunked]\nBODY [Wikipedia]\nDONE ka=1\n  X-T: [1]\nEOF CLEAN\n"},
        {"100 Continue then final, HEAD holds across it", "HEAD",
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
         "HEAD   1.1 status=100 reason=[Continue] framing=0 cl=0 ka=1 continue=0 upgrade=0 host=[]\n"
         "DONE ka=1\n"
         "HEAD   1.1 status=200 reason=[OK] framing=0 cl=3 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Content-Length: [3]\nDONE ka=1\nEOF CLEAN\n"},
        {"HEAD applies to one final response only", "HEAD",
         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
         "HEAD   1.1 status=200 reason=[OK] framing=0 cl=3 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Content-Length: [3]\nDONE ka=1\n"
         "HEAD   1.1 status=200 reason=[OK] framing=1 cl=3 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Content-Length: [3]\nBODY [abc]\nDONE ka=1\nEOF CLEAN\n"},
        {"101 switches protocols", "GET",
         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
         "HEAD   1.1 status=101 reason=[Switching Protocols] framing=0 cl=0 ka=0 continue=0 upgrade=1 host=[]\n"
         "  Upgrade: [websocket]\n  Connection: [Upgrade]\nDONE ka=0\nERROR 502 connection switched protocols\n"},
        {"2xx to CONNECT is a tunnel", "CONNECT", "HTTP/1.1 200 Connection established\r\n\r\n",
         "HEAD   1.1 status=200 reason=[Connection established] framing=0 cl=0 ka=0 continue=0 upgrade=1 host=[]\n"
         "DONE ka=0\nEOF CLEAN\n"},
        {"no reason phrase", "GET", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
         "HEAD   1.1 status=200 reason=[] framing=0 cl=0 ka=1 continue=0 upgrade=0 host=[]\n"
         "  Content-Length: [0]\nDONE ka=1\nEOF CLEAN\n"},
        {"Connection: close", "GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
         "HEAD   1.1 status=200 reason=[OK] framing=0 cl=0 ka=0 continue=0 upgrade=0 host=[]\n"
         "  Connection: [close]\n  Content-Length: [0]\nDONE ka=0\nEOF CLEAN\n"},
    };
    static transcript_t t;

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run_whole(EW__H1_RESPONSE, cases[k].method, cases[k].in, strlen(cases[k].in), &t);
        cr_assert_str_eq(t.text, cases[k].expect, "%s:\n%s", cases[k].name, t.text);
    }
}

Test(net_http1, bad_responses_fail_with_502)
{
    static const char *const cases[] = {
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 099 Nope\r\n\r\n",
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 O\x01K\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcdeX",
    };
    static transcript_t t;

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        run_whole(EW__H1_RESPONSE, "GET", cases[k], strlen(cases[k]), &t);
        cr_assert(strstr(t.text, "ERROR 502 ") != NULL, "%s\n---\n%s", cases[k], t.text);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Incremental parsing: any cut gives the same result
 */

Test(net_http1, every_split_point_gives_the_same_parse)
{
    static const struct {
        ew__h1_mode_t mode;
        const char *method;
        const char *in;
    } cases[] = {
        {EW__H1_REQUEST, NULL,
         "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n"
         "Accept:  text/html ,*/*;q=0.8 \r\nConnection: keep-alive\r\n\r\n"},
        {EW__H1_REQUEST, NULL,
         "POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, world"},
        {EW__H1_REQUEST, NULL,
         "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
         "4;ext=1\r\nWiki\r\n5 ; a=\"b\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\nX: y\r\n\r\n"},
        {EW__H1_REQUEST, NULL,
         "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy"
         "\r\nPUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
         "GET /4 HTTP/1.0\r\n\r\n"},
        {EW__H1_REQUEST, NULL, "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n"},
        {EW__H1_REQUEST, NULL, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nX: y\n\r\n"},
        {EW__H1_RESPONSE, "GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\nhello"},
        {EW__H1_RESPONSE, "GET",
         "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
        {EW__H1_RESPONSE, "GET", "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil close"},
        {EW__H1_RESPONSE, "HEAD",
         "HTTP/1.1 200\r\nContent-Length: 10\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx"},
    };

    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        feed_t f = {.mode = cases[k].mode, .method = cases[k].method};
        check_every_split(&f, cases[k].in, strlen(cases[k].in));
    }
}

Test(net_http1, every_split_point_gives_the_same_error)
{
    for (size_t k = 0; k < sizeof bad_requests / sizeof bad_requests[0]; k++) {
        feed_t f = {.mode = EW__H1_REQUEST, .cfg = bad_requests[k].small ? &small : NULL};
        check_every_split(&f, bad_requests[k].in, bad_requests[k].len);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Reason phrases
 */

Test(net_http1, reason_phrases_are_standard)
{
    cr_assert_str_eq(ew__h1_reason_phrase(200), "OK");
    cr_assert_str_eq(ew__h1_reason_phrase(101), "Switching Protocols");
    cr_assert_str_eq(ew__h1_reason_phrase(404), "Not Found");
    cr_assert_str_eq(ew__h1_reason_phrase(413), "Content Too Large");
    cr_assert_str_eq(ew__h1_reason_phrase(431), "Request Header Fields Too Large");
    cr_assert_str_eq(ew__h1_reason_phrase(505), "HTTP Version Not Supported");
    cr_assert_str_eq(ew__h1_reason_phrase(299), "Unknown");
    cr_assert_str_eq(ew__h1_reason_phrase(-1), "Unknown");
}

/* ---------------------------------------------------------------------------------------------------------
 * Body bytes moved past the parser (the fetch client's zero-copy splice)
 */

Test(net_http1, length_body_bytes_skipped_count_as_parsed)
{
    ew__h1_parser_t p;
    cr_assert_eq(ew__h1_parser_init(&p, EW__H1_RESPONSE, NULL), 0);
    ew__h1_parser_set_request(&p, "GET", 3);
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    size_t used = 0;
    ew__h1_slice_t body;
    cr_assert_eq(ew__h1_length_left(&p), 0, "no body before the head");
    cr_assert_eq(ew__h1_parse(&p, head, strlen(head), &used, &body), EW__H1_HEAD);
    cr_assert_eq(used, strlen(head));
    cr_assert_eq(ew__h1_length_left(&p), 10);
    ew__h1_length_skip(&p, 4); /* four bytes went elsewhere */
    cr_assert_eq(ew__h1_length_left(&p), 6);
    cr_assert_eq(ew__h1_parse(&p, "abcdefXYZ", 9, &used, &body), EW__H1_BODY);
    cr_assert_eq(body.len, 6, "the parser takes only what is left of the body");
    cr_assert_eq(ew__h1_parse(&p, "XYZ", 0, &used, &body), EW__H1_DONE);
    ew__h1_length_skip(&p, 1); /* outside a length body: nothing happens */
    cr_assert_eq(ew__h1_length_left(&p), 0);

    /* All of it skipped: the message is done without a byte of body seen. */
    const char *head2 = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
    cr_assert_eq(ew__h1_parse(&p, head2, strlen(head2), &used, &body), EW__H1_HEAD);
    ew__h1_length_skip(&p, 3);
    cr_assert_eq(ew__h1_parse(&p, NULL, 0, &used, &body), EW__H1_DONE);

    /* Other framings have no length to skip. */
    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    cr_assert_eq(ew__h1_parse(&p, chunked, strlen(chunked), &used, &body), EW__H1_HEAD);
    cr_assert_eq(ew__h1_length_left(&p), 0);
    ew__h1_parser_dispose(&p);
}
