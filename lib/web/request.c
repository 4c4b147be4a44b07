/*
 * request.c — the Fetch Request class (https://fetch.spec.whatwg.org/#request-class) as Workers have it,
 * and the two functions lib/core uses for incoming requests: ew__request_check() validates the host's C
 * data, ew__request_push() turns it into a Request (worker.c calls both per fetch event).
 *
 * A Request is a plain object with Request.prototype and hidden properties (lib/web/internal.h):
 * state (kind, used, redirect mode, guard), method, url, the header list, the body storage (body.c), cf
 * (kept as given; for C-made requests an empty object made on first access) and the lazy Headers wrapper.
 * Not yet here (the Web-API issue): integrity/keepalive, FormData/Blob/URLSearchParams
 * bodies, full URL parsing (the minimal check lives in web.c).
 */
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "lazy.h"
#include "url.h"

#define REQ_METHOD EW__WEB_METHOD
#define REQ_URL EW__WEB_URL
#define REQ_CF EW__WEB_CF
#define REQ_CF_JSON DUK_HIDDEN_SYMBOL("rj") /* request from C: the host's cf JSON, decoded on first access */
#define REQ_SIGNAL DUK_HIDDEN_SYMBOL("rg") /* the AbortSignal given (init.signal or the input Request's) */

static const char *const redirect_names[] = {"follow", "manual", "error"};

static uint32_t redirect_of(uint32_t state)
{
    return (state >> EW__STATE_REDIRECT_SHIFT) & 3u;
}

/* ---------------------------------------------------------------------------------------------------------
 * Methods (https://fetch.spec.whatwg.org/#methods)
 */

static bool ieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++) {
        char c = (a[i] >= 'a' && a[i] <= 'z') ? (char) (a[i] - 32) : a[i];
        if (c != b[i])
            return false;
    }
    return true;
}

/* Replaces the value at idx with the normalized method: a token, not CONNECT/TRACE/TRACK, and DELETE, GET,
 * HEAD, OPTIONS, POST, PUT upper-cased (only those: "patch" stays "patch", as the spec says). */
static void normalize_method(duk_context *ctx, duk_idx_t idx)
{
    static const char *const normalized[] = {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"};
    static const char *const forbidden[] = {"CONNECT", "TRACE", "TRACK"};
    idx = duk_require_normalize_index(ctx, idx);
    duk_size_t len;
    const char *m = duk_to_lstring(ctx, idx, &len);
    if (!ew__http_is_token(m, len))
        (void) duk_type_error(ctx, "Invalid HTTP method string: %.64s", m);
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        if (ieq(m, len, forbidden[i]))
            (void) duk_type_error(ctx, "'%s' HTTP method is unsupported.", forbidden[i]);
    }
    for (size_t i = 0; i < sizeof(normalized) / sizeof(normalized[0]); i++) {
        if (ieq(m, len, normalized[i])) {
            ew__web_push_static(ctx, normalized[i]);
            duk_replace(ctx, idx);
            return;
        }
    }
}

static bool is_get_or_head(duk_context *ctx, duk_idx_t idx)
{
    const char *m = duk_get_string(ctx, idx);
    return m != NULL && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0);
}

/* ---------------------------------------------------------------------------------------------------------
 * Constructor: new Request(input, init)
 *
 * Stack slots while it runs, in this order: 0 input, 1 init, then the ones named in req_parts_t. The
 * input Request's body is taken last, after every check, so that a TypeError leaves the input usable.
 */

typedef struct req_parts {
    duk_idx_t self, method, url, list, body, cf, signal;
    uint32_t state;
    bool method_given, body_given;
    const char *content_type;
} req_parts_t;

static bool push_packed_field(duk_context *ctx, duk_idx_t idx, int field);

/* Reads input (slot 0): a Request to copy from, or a URL. */
static void read_input(duk_context *ctx, req_parts_t *p, uint32_t in_state)
{
    if (in_state & EW__KIND_REQUEST) {
        ew__request_unpack(ctx, 0);
        duk_get_prop_literal(ctx, 0, REQ_METHOD);
        duk_get_prop_literal(ctx, 0, REQ_URL);
        duk_get_prop_literal(ctx, 0, EW__WEB_HLIST);
        ew__headers_list_copy(ctx, -1);
        duk_remove(ctx, -2);
        duk_get_prop_literal(ctx, 0, REQ_CF);
        p->state |= in_state & ((3u << EW__STATE_REDIRECT_SHIFT) | EW__STATE_CF_LAZY | EW__STATE_NO_STORE);
        duk_get_prop_literal(ctx, 0, REQ_SIGNAL);
    } else {
        duk_push_literal(ctx, "GET");
        duk_dup(ctx, 0);
        if (!ew__web_push_url(ctx, -1))
            (void) duk_type_error(ctx, "Invalid URL: %.200s", duk_get_string(ctx, -1));
        duk_remove(ctx, -2);
        duk_push_array(ctx);
        duk_push_undefined(ctx); /* cf */
        duk_push_undefined(ctx); /* signal */
    }
    duk_push_undefined(ctx); /* body slot */
    p->method = p->self + 1, p->url = p->self + 2, p->list = p->self + 3, p->cf = p->self + 4;
    p->signal = p->self + 5, p->body = p->self + 6;
}

/* Reads the members of init (slot 1) that Workers use, in the dictionary's (lexicographic) order. */
static void read_init(duk_context *ctx, req_parts_t *p)
{
    if (duk_is_null_or_undefined(ctx, 1))
        return;
    if (!duk_is_object(ctx, 1))
        (void) duk_type_error(ctx, "Failed to construct 'Request': init must be an object");
    duk_get_prop_literal(ctx, 1, "body"); /* extracted after every check: taking a stream is a side effect */
    if (!duk_is_null_or_undefined(ctx, -1)) { /* body: null keeps the input's body (spec) */
        duk_replace(ctx, p->body);
        p->body_given = true;
    } else {
        duk_pop(ctx);
    }
    /* cache: Workers supports only 'no-store' (workerd: "Unsupported cache mode: X"). */
    duk_get_prop_literal(ctx, 1, "cache");
    if (!duk_is_undefined(ctx, -1)) {
        const char *mode = duk_to_string(ctx, -1);
        if (strcmp(mode, "no-store") != 0)
            (void) duk_type_error(ctx, "Unsupported cache mode: %.64s", mode);
        p->state |= EW__STATE_NO_STORE;
    }
    duk_pop(ctx);
    duk_get_prop_literal(ctx, 1, "cf");
    if (!duk_is_undefined(ctx, -1)) {
        duk_replace(ctx, p->cf);
        p->state &= ~EW__STATE_CF_LAZY;
    } else {
        duk_pop(ctx);
    }
    duk_get_prop_literal(ctx, 1, "headers");
    if (!duk_is_undefined(ctx, -1)) {
        duk_push_array(ctx);
        duk_replace(ctx, p->list);
        ew__headers_fill(ctx, p->list, -1);
    }
    duk_pop(ctx);
    duk_get_prop_literal(ctx, 1, "method");
    if (!duk_is_undefined(ctx, -1)) {
        normalize_method(ctx, -1);
        duk_replace(ctx, p->method);
        p->method_given = true;
    } else {
        duk_pop(ctx);
    }
    duk_get_prop_literal(ctx, 1, "redirect");
    if (!duk_is_undefined(ctx, -1)) {
        const char *r = duk_to_string(ctx, -1);
        uint32_t mode = 0;
        while (mode < 3 && strcmp(r, redirect_names[mode]) != 0)
            mode++;
        if (mode == 3)
            (void) duk_type_error(ctx, "Invalid redirect value, must be one of \"follow\", \"manual\" or \"error\".");
        p->state = (p->state & ~(3u << EW__STATE_REDIRECT_SHIFT)) | (mode << EW__STATE_REDIRECT_SHIFT);
    }
    duk_pop(ctx);
    duk_get_prop_literal(ctx, 1, "signal");
    if (!duk_is_undefined(ctx, -1)) { /* null drops the input's signal */
        if (!duk_is_null(ctx, -1) && !ew__abort_signal_is(ctx, -1))
            (void) duk_type_error(ctx, "Failed to construct 'Request': member signal is not of type AbortSignal.");
        if (duk_is_null(ctx, -1)) {
            duk_pop(ctx);
            duk_push_undefined(ctx);
        }
        duk_replace(ctx, p->signal);
    } else {
        duk_pop(ctx);
    }
}

/* Stores the parts on the new object. */
static void store_parts(duk_context *ctx, const req_parts_t *p)
{
    ew__web_set_state(ctx, p->self, p->state);
    duk_dup(ctx, p->method);
    duk_put_prop_literal(ctx, p->self, REQ_METHOD);
    duk_dup(ctx, p->url);
    duk_put_prop_literal(ctx, p->self, REQ_URL);
    duk_dup(ctx, p->list);
    duk_put_prop_literal(ctx, p->self, EW__WEB_HLIST);
    if (!duk_is_undefined(ctx, p->cf)) {
        duk_dup(ctx, p->cf);
        duk_put_prop_literal(ctx, p->self, REQ_CF);
    }
    if (!duk_is_undefined(ctx, p->body)) {
        duk_dup(ctx, p->body);
        duk_put_prop_literal(ctx, p->self, EW__WEB_BODY);
    }
    if (!duk_is_undefined(ctx, p->signal)) {
        duk_dup(ctx, p->signal);
        duk_put_prop_literal(ctx, p->self, REQ_SIGNAL);
    }
}

static duk_ret_t request_ctor(duk_context *ctx)
{
    req_parts_t p = {.self = ew__web_construct_this(ctx, "Request"), .state = EW__KIND_REQUEST};
    uint32_t in_state = ew__web_state(ctx, 0);
    if (!(in_state & EW__KIND_REQUEST))
        in_state = 0;
    read_input(ctx, &p, in_state);
    read_init(ctx, &p);
    /* A used body is a non-null body (reads drop the bytes but set the used bit). */
    bool take_input = !p.body_given && in_state != 0 &&
                      ((in_state & EW__STATE_USED) || duk_has_prop_literal(ctx, 0, EW__WEB_BODY));
    if (take_input && ew__body_is_used(ctx, 0, in_state))
        return duk_type_error(ctx, "Cannot construct a Request with a Request object that has already been used.");
    if ((p.method_given || p.body_given) && (p.body_given || take_input) && is_get_or_head(ctx, p.method))
        return duk_type_error(ctx, "Request with a GET or HEAD method cannot have a body.");
    if (p.body_given && ew__body_extract(ctx, p.body, &p.content_type))
        duk_replace(ctx, p.body);
    if (p.content_type != NULL && !ew__headers_list_has(ctx, p.list, "content-type")) {
        ew__body_push_type(ctx, p.content_type);
        ew__headers_list_add(ctx, p.list, "content-type");
    }
    if (take_input && ew__body_take(ctx, 0))
        duk_replace(ctx, p.body);
    store_parts(ctx, &p);
    if (p.state & EW__STATE_CF_LAZY) /* the input's host cf, still undecoded, goes along as it is */
        EW__WEB_COPY_HIDDEN(ctx, 0, p.self, REQ_CF_JSON);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Accessors and methods
 */

static duk_ret_t request_get_method(duk_context *ctx)
{
    if (!(ew__web_require_this(ctx, EW__KIND_REQUEST) & EW__STATE_PACKED) || !push_packed_field(ctx, -1, 0))
        duk_get_prop_literal(ctx, -1, REQ_METHOD);
    return 1;
}

static duk_ret_t request_get_url(duk_context *ctx)
{
    if (!(ew__web_require_this(ctx, EW__KIND_REQUEST) & EW__STATE_PACKED) || !push_packed_field(ctx, -1, 1))
        duk_get_prop_literal(ctx, -1, REQ_URL);
    return 1;
}

static duk_ret_t request_get_redirect(duk_context *ctx)
{
    ew__web_push_static(ctx, redirect_names[redirect_of(ew__web_require_this(ctx, EW__KIND_REQUEST))]);
    return 1;
}

/* cache: "no-store" when given, else undefined (the only mode Workers supports). */
static duk_ret_t request_get_cache(duk_context *ctx)
{
    if (ew__web_require_this(ctx, EW__KIND_REQUEST) & EW__STATE_NO_STORE)
        duk_push_literal(ctx, "no-store");
    else
        duk_push_undefined(ctx);
    return 1;
}

/* cf: what the constructor was given (undefined when nothing); a request from C gets an empty object on
 * first access, kept so that every access returns the same object. */
static void push_cf(duk_context *ctx, duk_idx_t self, uint32_t state)
{
    self = duk_normalize_index(ctx, self);
    duk_get_prop_literal(ctx, self, REQ_CF);
    if (duk_is_undefined(ctx, -1) && (state & EW__STATE_CF_LAZY)) {
        duk_pop(ctx);
        duk_get_prop_literal(ctx, self, REQ_CF_JSON); /* the host's cf, checked to be a JSON object */
        if (duk_is_string(ctx, -1)) {
            duk_json_decode(ctx, -1);
        } else {
            duk_pop(ctx);
            duk_push_object(ctx);
        }
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, self, REQ_CF);
    }
}

static duk_ret_t request_get_cf(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_REQUEST);
    push_cf(ctx, -1, state);
    return 1;
}

/* signal: the AbortSignal the Request was made with (fetch() honours it), else null. */
static duk_ret_t request_get_signal(duk_context *ctx)
{
    (void) ew__web_require_this(ctx, EW__KIND_REQUEST);
    duk_get_prop_literal(ctx, -1, REQ_SIGNAL);
    if (duk_is_undefined(ctx, -1))
        duk_push_null(ctx);
    return 1;
}

/* clone(): same method, url, redirect, cf, a copy of the headers (same guard) and the same body bytes. */
static duk_ret_t request_clone(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_REQUEST);
    duk_idx_t self = duk_get_top_index(ctx);
    if (ew__body_is_used(ctx, self, state))
        return duk_type_error(ctx, "Body has already been used. It can only be used once. Use tee() first if "
                                   "you need to read it twice.");
    ew__request_unpack(ctx, self);
    state &= ~EW__STATE_PACKED;
    duk_idx_t copy = ew__web_push_instance(ctx, EW__PROTO_REQUEST);
    ew__web_set_state(ctx, copy, state & ~EW__STATE_USED);
    EW__WEB_COPY_HIDDEN(ctx, self, copy, REQ_METHOD);
    EW__WEB_COPY_HIDDEN(ctx, self, copy, REQ_URL);
    EW__WEB_COPY_HIDDEN(ctx, self, copy, REQ_CF);
    EW__WEB_COPY_HIDDEN(ctx, self, copy, REQ_CF_JSON); /* the host's cf, when not decoded yet */
    EW__WEB_COPY_HIDDEN(ctx, self, copy, REQ_SIGNAL);
    duk_get_prop_literal(ctx, self, EW__WEB_HLIST);
    ew__headers_list_copy(ctx, -1);
    duk_put_prop_literal(ctx, copy, EW__WEB_HLIST);
    duk_pop(ctx);
    if (ew__body_push_shared(ctx, self))
        duk_put_prop_literal(ctx, copy, EW__WEB_BODY);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * From C (lib/core/worker.c)
 */

/* URL check for ew__request_check: no bytes a request line cannot carry (controls, space, DEL: the URL
 * parser would silently strip tabs and newlines), and an absolute http(s) URL by the WHATWG parser. */
static bool url_ok(const char *u, ew__url_t *out)
{
    for (const unsigned char *s = (const unsigned char *) u; *s; s++) {
        if (*s <= 0x20 || *s == 0x7F)
            return false;
    }
    ew__url_t parsed;
    if (!ew__url_parse(u, strlen(u), NULL, &parsed))
        return false;
    bool http = parsed.scheme == EW__SCHEME_HTTP || parsed.scheme == EW__SCHEME_HTTPS;
    if (http && out != NULL)
        *out = parsed;
    else
        ew__url_dispose(&parsed);
    return http;
}

/* True if the value has a CR, LF or NUL. Eight bytes at a time: a word with no byte below 0x0E (which covers
 * the three; a tab, 0x09, sends its word to the byte loop) is skipped whole; ~5x fewer instructions than a
 * byte loop over a request's header values. */
static bool value_has_crlf_nul(const char *v, size_t len)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        if (((w - ones * 0x0E) & ~w & highs) == 0)
            continue; /* no byte below 0x0E in this word */
        for (size_t j = i; j < i + 8; j++)
            if (v[j] == '\r' || v[j] == '\n' || v[j] == '\0')
                return true;
    }
    for (; i < len; i++)
        if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
            return true;
    return false;
}

ew_status_t ew__request_check(const ew_request_t *req, ew_error_t *err)
{
    return ew__request_check_url(req, NULL, err, false);
}

ew_status_t ew__request_check_url(const ew_request_t *req, ew__url_t *url_out, ew_error_t *err, bool url_known)
{
    if (req == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "request: req is NULL");
    if (req->method == NULL || !ew__http_is_token(req->method, strlen(req->method)))
        return ew__error_set(err, EW_ERR_INVALID_ARG, "request: method \"%.64s\" is not an HTTP token",
                             req->method ? req->method : "(null)");
    if (req->url == NULL || (!url_known && !url_ok(req->url, url_out)))
        return ew__error_set(err, EW_ERR_INVALID_ARG, "request: url \"%.200s\" is not an absolute http(s) URL",
                             req->url ? req->url : "(null)");
    if (req->nheaders > 0 && req->headers == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "request: headers is NULL but nheaders is %zu",
                             req->nheaders);
    for (size_t i = 0; i < req->nheaders; i++) {
        const ew_header_t *h = &req->headers[i];
        if (h->name == NULL || !ew__http_is_token(h->name, h->name_len))
            return ew__error_set(err, EW_ERR_INVALID_ARG, "request: header %zu: name \"%.*s\" is not an HTTP token",
                                 i, h->name ? (int) (h->name_len > 64 ? 64 : h->name_len) : 6,
                                 h->name ? h->name : "(null)");
        if (h->value == NULL && h->value_len > 0)
            return ew__error_set(err, EW_ERR_INVALID_ARG, "request: header \"%.*s\": value is NULL",
                                 (int) (h->name_len > 64 ? 64 : h->name_len), h->name);
        if (h->value_len > 0 && value_has_crlf_nul(h->value, h->value_len))
            return ew__error_set(err, EW_ERR_INVALID_ARG, "request: header \"%.*s\": value contains CR, LF or NUL",
                                 (int) (h->name_len > 64 ? 64 : h->name_len), h->name);
    }
    if (req->body == NULL && req->body_len > 0)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "request: body is NULL but body_len is %zu", req->body_len);
    ew__error_clear(err);
    return EW_OK;
}

/* Request header names common enough to keep interned in every heap (through the literal cache), so that
 * a typical request allocates no string for its names. From HPACK's static table, plus a few. */
static const char *const common_names[] = {
    "accept", "accept-charset", "accept-encoding", "accept-language", "authorization", "cache-control",
    "cf-connecting-ip", "cf-ipcountry", "cf-ray", "cf-visitor", "connection", "content-encoding", "content-length", "content-type", "cookie", "host",
    "if-modified-since", "if-none-match", "origin", "pragma", "range", "referer", "sec-fetch-dest",
    "sec-fetch-mode", "sec-fetch-site", "upgrade-insecure-requests", "user-agent", "x-forwarded-for",
    "x-forwarded-proto", "x-real-ip",
};

/* Pushes the lower-case form of a (token) header name. */
static void push_lower_name(duk_context *ctx, const char *name, size_t len)
{
    char small[64];
    char *low = len <= sizeof(small) ? small : duk_push_fixed_buffer(ctx, len);
    for (size_t i = 0; i < len; i++)
        low[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char) (name[i] + 32) : name[i];
    if (low == small) {
        for (size_t i = 0; i < sizeof(common_names) / sizeof(common_names[0]); i++) {
            if (common_names[i][0] == low[0] && strlen(common_names[i]) == len && memcmp(common_names[i], low, len) == 0) {
                ew__web_push_static(ctx, common_names[i]);
                return;
            }
        }
    }
    duk_push_lstring(ctx, low, len);
    if (low != small)
        duk_remove(ctx, -2);
}

/* A request from C is kept packed until script reads it: one fixed buffer (REQ_PACKED) holding the method,
 * the URL and the headers as the host gave them, and EW__STATE_PACKED in the state. Building the JS strings
 * and the header list costs ~1 us per request, and most Workers read a few parts or none: the url and
 * method getters read the buffer directly, anything else that needs the list calls ew__request_unpack
 * first. Layout (native byte order, unaligned; read with memcpy):
 *     u32 method_len, u32 url_len, u32 nheaders, method, url,
 *     nheaders x (u32 name_len, u32 value_len, name as given, value trimmed of HTTP whitespace) */
#define REQ_PACKED DUK_HIDDEN_SYMBOL("rp")

typedef struct packed_reader {
    const unsigned char *p, *end;
} packed_reader_t;

static uint32_t packed_u32(packed_reader_t *r)
{
    uint32_t v = 0;
    if (r->end - r->p >= 4) {
        memcpy(&v, r->p, 4);
        r->p += 4;
    }
    return v;
}

static const char *packed_bytes(packed_reader_t *r, uint32_t len)
{
    const char *s = (const char *) r->p;
    r->p += (size_t) (r->end - r->p) < len ? (size_t) (r->end - r->p) : len;
    return s;
}

/* Pushes the packed buffer of the Request at idx and sets r to it; false (nothing pushed) when not packed. */
static bool packed_open(duk_context *ctx, duk_idx_t idx, packed_reader_t *r)
{
    duk_get_prop_literal(ctx, idx, REQ_PACKED);
    duk_size_t len = 0;
    const unsigned char *b = duk_get_buffer_data(ctx, -1, &len);
    if (b == NULL || len < 12) {
        duk_pop(ctx);
        return false;
    }
    r->p = b;
    r->end = b + len;
    return true;
}

/* Pushes the method of a packed request (the common ones without allocation). */
static void push_packed_method(duk_context *ctx, const char *m, uint32_t len)
{
    static const char *const common[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        if (strlen(common[i]) == len && memcmp(common[i], m, len) == 0) {
            ew__web_push_static(ctx, common[i]);
            return;
        }
    }
    duk_push_lstring(ctx, m, len);
}

/* Pushes field 0 (method) or 1 (url) of the packed request at idx; false when it is not packed. */
static bool push_packed_field(duk_context *ctx, duk_idx_t idx, int field)
{
    packed_reader_t r;
    idx = duk_normalize_index(ctx, idx);
    if (!packed_open(ctx, idx, &r))
        return false;
    uint32_t mlen = packed_u32(&r), ulen = packed_u32(&r);
    (void) packed_u32(&r);
    const char *m = packed_bytes(&r, mlen), *u = packed_bytes(&r, ulen);
    if (field == 0)
        push_packed_method(ctx, m, mlen);
    else
        ew__push_utf8(ctx, u, ulen);
    duk_remove(ctx, -2);
    return true;
}

/* Pushes the header list of the n entries r points at. */
static void push_packed_entries(duk_context *ctx, packed_reader_t *r, uint32_t n)
{
    ew__web_push_array(ctx, 2 * n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nlen = packed_u32(r), vlen = packed_u32(r);
        const char *name = packed_bytes(r, nlen), *value = packed_bytes(r, vlen);
        push_lower_name(ctx, name, nlen);
        duk_put_prop_index(ctx, -2, 2 * i);
        ew__push_utf8(ctx, value, vlen);
        duk_put_prop_index(ctx, -2, 2 * i + 1);
    }
}

/* Sets r on the packed buffer at buf_idx and skips to its headers; returns their number (0 if not packed). */
static uint32_t packed_headers(duk_context *ctx, duk_idx_t buf_idx, packed_reader_t *r)
{
    duk_size_t len = 0;
    const unsigned char *b = duk_get_buffer_data(ctx, buf_idx, &len);
    if (b == NULL || len < 12)
        return 0;
    r->p = b;
    r->end = b + len;
    uint32_t mlen = packed_u32(r), ulen = packed_u32(r), n = packed_u32(r);
    (void) packed_bytes(r, mlen);
    (void) packed_bytes(r, ulen);
    return n;
}

void ew__request_push_packed_list(duk_context *ctx, duk_idx_t buf_idx)
{
    packed_reader_t r;
    uint32_t n = packed_headers(ctx, buf_idx, &r);
    push_packed_entries(ctx, &r, n);
}

static bool name_ieq(const char *raw, size_t rlen, const char *lname, size_t len)
{
    if (rlen != len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = (raw[i] >= 'A' && raw[i] <= 'Z') ? (char) (raw[i] + 32) : raw[i];
        if (c != lname[i])
            return false;
    }
    return true;
}

int ew__request_packed_get(duk_context *ctx, duk_idx_t buf_idx, const char *lname, size_t len, bool push_value)
{
    packed_reader_t r;
    uint32_t n = packed_headers(ctx, buf_idx, &r);
    int found = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nlen = packed_u32(&r), vlen = packed_u32(&r);
        const char *name = packed_bytes(&r, nlen), *value = packed_bytes(&r, vlen);
        if (!name_ieq(name, nlen, lname, len))
            continue;
        if (push_value) {
            if (found == 0)
                duk_push_literal(ctx, ", ");
            duk_require_stack(ctx, 1);
            ew__push_utf8(ctx, value, vlen);
        }
        found++;
    }
    if (push_value && found > 0) {
        if (found > 1)
            duk_join(ctx, found);
        else
            duk_remove(ctx, -2);
    }
    return found;
}

bool ew__request_push_packed(duk_context *ctx, duk_idx_t idx)
{
    duk_get_prop_literal(ctx, idx, REQ_PACKED);
    if (duk_is_buffer_data(ctx, -1))
        return true;
    duk_pop(ctx);
    return false;
}

void ew__request_unpack(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    uint32_t state = ew__web_state(ctx, idx);
    if (!(state & EW__STATE_PACKED))
        return;
    packed_reader_t r;
    if (!packed_open(ctx, idx, &r))
        return;
    duk_idx_t buf = duk_get_top_index(ctx);
    uint32_t mlen = packed_u32(&r), ulen = packed_u32(&r), n = packed_u32(&r);
    const char *m = packed_bytes(&r, mlen), *u = packed_bytes(&r, ulen);
    push_packed_method(ctx, m, mlen);
    duk_put_prop_literal(ctx, idx, REQ_METHOD);
    ew__push_utf8(ctx, u, ulen);
    duk_put_prop_literal(ctx, idx, REQ_URL);
    push_packed_entries(ctx, &r, n);
    duk_put_prop_literal(ctx, idx, EW__WEB_HLIST);
    ew__web_set_state(ctx, idx, state & ~EW__STATE_PACKED);
    duk_del_prop_literal(ctx, idx, REQ_PACKED);
    duk_remove(ctx, buf);
}

static void pack_u32(unsigned char **p, size_t v)
{
    uint32_t u = (uint32_t) v;
    memcpy(*p, &u, 4);
    *p += 4;
}

static void pack_bytes(unsigned char **p, const char *s, size_t len)
{
    if (len > 0)
        memcpy(*p, s, len);
    *p += len;
}

/* Headers of an incoming request are immutable, as in workerd (guard "request", which refuses changes) and
 * the service-worker FetchEvent; scripts copy with new Request(request) to change them. The body exists
 * when the host gave a non-NULL body pointer, even of 0 bytes. */
void ew__request_push(duk_context *ctx, const ew_request_t *req)
{
    ew__url_t u; /* request.url is the URL's serialization, as in Workers (checked by ew__request_check) */
    if (ew__url_parse(req->url, strlen(req->url), NULL, &u)) {
        ew_request_t copy = *req;
        copy.url = u.href;
        ew__request_push_serialized(ctx, &copy);
        ew__url_dispose(&u);
    } else {
        ew__request_push_serialized(ctx, req);
    }
}

void ew__request_push_serialized(duk_context *ctx, const ew_request_t *req)
{
    duk_idx_t self = ew__web_push_instance(ctx, EW__PROTO_REQUEST);
    ew__web_set_state(ctx, self, EW__KIND_REQUEST | EW__STATE_CF_LAZY | EW__STATE_IMMUTABLE | EW__STATE_PACKED);
    size_t mlen = strlen(req->method), ulen = strlen(req->url), size = 12 + mlen + ulen;
    for (size_t i = 0; i < req->nheaders; i++)
        size += 8 + req->headers[i].name_len + req->headers[i].value_len;
    unsigned char *p = duk_push_fixed_buffer(ctx, size);
    pack_u32(&p, mlen);
    pack_u32(&p, ulen);
    pack_u32(&p, req->nheaders);
    pack_bytes(&p, req->method, mlen);
    pack_bytes(&p, req->url, ulen);
    for (size_t i = 0; i < req->nheaders; i++) {
        const ew_header_t *h = &req->headers[i];
        size_t b = 0, e = h->value_len;
        while (b < e && ew__http_is_ws(h->value[b]))
            b++;
        while (e > b && ew__http_is_ws(h->value[e - 1]))
            e--;
        pack_u32(&p, h->name_len);
        pack_u32(&p, e - b);
        pack_bytes(&p, h->name, h->name_len);
        pack_bytes(&p, h->value + b, e - b);
    }
    duk_put_prop_literal(ctx, self, REQ_PACKED);
    if (req->body != NULL) {
        void *b = duk_push_fixed_buffer(ctx, req->body_len);
        if (req->body_len > 0)
            memcpy(b, req->body, req->body_len);
        duk_put_prop_literal(ctx, self, EW__WEB_BODY);
    }
}

void ew__request_set_cf_json(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    duk_put_prop_literal(ctx, idx, REQ_CF_JSON);
}

/* ---------------------------------------------------------------------------------------------------------
 * JS names -> C functions (text/json/arrayBuffer/bytes, headers, body, bodyUsed: body.c)
 */

static const ew__method_t request_methods[] = {
    {"clone", request_clone, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__getter_t request_getters[] = {
    {"method", request_get_method},
    {"url", request_get_url},
    {"redirect", request_get_redirect},
    {"cache", request_get_cache},
    {"cf", request_get_cf},
    {"signal", request_get_signal},
    {NULL, NULL},
};

static const ew__class_t request_class = {
    .name = "Request",
    .ctor = request_ctor,
    .ctor_nargs = 2,
    .ctor_length = 1,
    .methods = request_methods,
    .getters = request_getters,
    .proto_slot = EW__PROTO_REQUEST,
};

void ew__request_init(duk_context *ctx, duk_idx_t global_idx)
{
    duk_idx_t proto = ew__web_def_class(ctx, global_idx, &request_class);
    ew__body_install(ctx, proto, DUK_INVALID_INDEX);
    duk_pop(ctx);
}
