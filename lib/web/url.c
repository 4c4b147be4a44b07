/*
 * url.c — the URL and URLSearchParams classes of the WHATWG URL Standard (https://url.spec.whatwg.org/#api),
 * over the C parser in url_parse.c. Installed by ew__web_init() (web.c) through ew__url_init().
 *
 * Layout (hidden properties, no closures; methods and accessors live on the prototypes):
 *
 *   URL              URL_REC   the record: a dynamic buffer holding the ew__url_t offsets (href pointer
 *                              unused) followed by the href bytes (always ASCII) and a NUL
 *                    URL_SP    the URLSearchParams object, made on first access to .searchParams
 *   URLSearchParams  SP_LIST   array [name0, value0, name1, value1, ...] of USVStrings; for the params of a
 *                              URL, absent until first needed and dropped when the URL's query changes
 *                    SP_REC    the record of the URL it belongs to (absent for a standalone one)
 *   iterator         IT_LIST, IT_POS   the live list and (index << 2 | kind)
 *
 * The live binding runs both ways through the shared record, updated in place: a URL's search/href setter
 * drops its params' list (parsed again from the new query when next used), and every change to the params
 * writes the serialized list back as the URL's query. The params object does not point at the URL, so the
 * two make no reference cycle (one per request for the common `new URL(request.url).searchParams`, which
 * only mark-and-sweep would free), and params.get() on a list not parsed yet scans the query without making
 * the list. Strings cross into C with ew__to_utf8 (lone
 * surrogates become U+FFFD, which is WebIDL's USVString conversion) and come back with ew__push_utf8.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "url.h"

#define URL_REC DUK_HIDDEN_SYMBOL("ur")
#define URL_SP DUK_HIDDEN_SYMBOL("us")
#define SP_LIST DUK_HIDDEN_SYMBOL("ul")
#define SP_REC DUK_HIDDEN_SYMBOL("uu")
#define IT_LIST DUK_HIDDEN_SYMBOL("ui")
#define IT_POS DUK_HIDDEN_SYMBOL("uk")

/* Prototype slots after lib/web/internal.h's ew__proto_t (to be folded into that enum). */
#define PROTO_URL ((ew__proto_t) (EW__PROTO_ARRAY_CTOR + 1))
#define PROTO_SEARCH_PARAMS ((ew__proto_t) (EW__PROTO_ARRAY_CTOR + 2))
#define PROTO_SP_ITERATOR ((ew__proto_t) (EW__PROTO_ARRAY_CTOR + 3))

/* ---------------------------------------------------------------------------------------------------------
 * URL instances: state in and out
 */

/* Writes u into the record buffer at rec_idx, in place (the URL and its params share the buffer). */
static void rec_write(duk_context *ctx, duk_idx_t rec_idx, const ew__url_t *u)
{
    char *p = duk_resize_buffer(ctx, rec_idx, sizeof(*u) + u->len + 1);
    ew__url_t head = *u;
    head.href = NULL;
    memcpy(p, &head, sizeof(head));
    memcpy(p + sizeof(head), u->href, u->len + 1);
}

typedef struct rec_write_args {
    duk_idx_t idx;        /* the record buffer, or (rec_new) the URL object to store a new record on */
    bool rec_new;
    const ew__url_t *u;
} rec_write_args_t;

static duk_ret_t rec_write_body(duk_context *ctx, void *udata)
{
    const rec_write_args_t *a = udata;
    if (!a->rec_new) {
        rec_write(ctx, a->idx, a->u);
        return 0;
    }
    duk_push_dynamic_buffer(ctx, 0);
    rec_write(ctx, -1, a->u);
    duk_put_prop_literal(ctx, a->idx, URL_REC);
    return 0;
}

/* rec_write for a u whose href the caller malloc'd, into the record at idx or (rec_new) into a new record
 * stored on the URL object at idx: disposes u whether the write succeeds or throws (out of memory). */
static void rec_write_disposing(duk_context *ctx, duk_idx_t idx, bool rec_new, ew__url_t *u)
{
    rec_write_args_t a = {duk_require_normalize_index(ctx, idx), rec_new, u};
    duk_int_t rc = duk_safe_call(ctx, rec_write_body, &a, 0, 1);
    ew__url_dispose(u);
    if (rc != DUK_EXEC_SUCCESS)
        (void) duk_throw(ctx);
    duk_pop(ctx);
}

/* Loads the record at idx into *u (u->href points into the buffer: valid until the buffer changes).
 * False if the value there is no record. */
static bool rec_read(duk_context *ctx, duk_idx_t idx, ew__url_t *u)
{
    duk_size_t n = 0;
    char *p = duk_is_dynamic_buffer(ctx, idx) ? duk_get_buffer(ctx, idx, &n) : NULL;
    if (p == NULL || n < sizeof(*u) + 1)
        return false;
    memcpy(u, p, sizeof(*u));
    if (n != sizeof(*u) + u->len + 1)
        return false;
    u->href = p + sizeof(*u);
    return true;
}

/* Loads this URL's record into *u (u->href points into the record: valid until the URL changes). Throws
 * TypeError for a receiver that is not a URL. Pushes `this`; returns its index. */
static duk_idx_t url_this(duk_context *ctx, ew__url_t *u)
{
    duk_push_this(ctx);
    duk_idx_t self = duk_get_top_index(ctx);
    bool ok = false;
    if (duk_is_object(ctx, self)) {
        duk_get_prop_literal(ctx, self, URL_REC);
        ok = rec_read(ctx, -1, u); /* the object keeps the buffer */
        duk_pop(ctx);
    }
    if (!ok)
        (void) duk_type_error(ctx, "Illegal invocation: this is not a URL");
    return self;
}

/* Parses ToString(value at idx) against the URL at base (NULL = none) into *out. */
static bool parse_value(duk_context *ctx, duk_idx_t idx, const ew__url_t *base, ew__url_t *out)
{
    size_t len;
    const char *s = ew__to_utf8(ctx, idx, &len);
    return ew__url_parse(s, len, base, out);
}

/* Parses (url, base) arguments at 0 and 1 as the constructor does; false if either is invalid. Both are
 * converted (which may run script and throw) before anything is malloc'd. */
static bool parse_args(duk_context *ctx, ew__url_t *out, bool *bad_base)
{
    ew__url_t base;
    *bad_base = false;
    if (duk_is_undefined(ctx, 1))
        return parse_value(ctx, 0, NULL, out);
    size_t len, blen;
    const char *s = ew__to_utf8(ctx, 0, &len);
    const char *b = ew__to_utf8(ctx, 1, &blen);
    if (!ew__url_parse(b, blen, NULL, &base)) {
        *bad_base = true;
        return false;
    }
    bool ok = ew__url_parse(s, len, &base, out);
    ew__url_dispose(&base);
    return ok;
}

static void require_args(duk_context *ctx, duk_idx_t n, const char *what)
{
    if (duk_get_top(ctx) < n)
        (void) duk_type_error(ctx, "Failed to execute '%s': %d argument%s required, but only %d present.", what,
                              (int) n, n > 1 ? "s" : "", (int) duk_get_top(ctx));
}

/* ---------------------------------------------------------------------------------------------------------
 * URLSearchParams lists: parsing, serializing, writing back to the URL
 */

/* Pushes a new list parsed from application/x-www-form-urlencoded bytes. */
static void push_form_list(duk_context *ctx, const char *s, size_t len)
{
    duk_push_array(ctx);
    duk_uarridx_t o = 0;
    ew__buf_t b;
    ew__buf_init(&b);
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && s[e] != '&')
            e++;
        if (e > i) {
            const char *eq = memchr(s + i, '=', e - i);
            size_t nlen = eq ? (size_t) (eq - (s + i)) : e - i;
            b.len = 0;
            bool ok = ew__url_form_append(&b, s + i, nlen, true);
            size_t split = b.len;
            ok &= eq == NULL || ew__url_form_append(&b, eq + 1, (size_t) (s + e - eq - 1), true);
            if (!ok) {
                ew__buf_dispose(&b);
                (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "URLSearchParams: out of memory");
            }
            ew__push_utf8(ctx, b.data ? b.data : "", split);
            duk_put_prop_index(ctx, -2, o++);
            ew__push_utf8(ctx, b.data ? b.data + split : "", b.len - split);
            duk_put_prop_index(ctx, -2, o++);
        }
        i = e + 1;
    }
    ew__buf_dispose(&b);
}

/* Pushes the serialization of the list at list_idx (application/x-www-form-urlencoded). */
static void push_serialized(duk_context *ctx, duk_idx_t list_idx)
{
    list_idx = duk_require_normalize_index(ctx, list_idx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    ew__buf_t b;
    ew__buf_init(&b);
    bool ok = true;
    for (duk_uarridx_t i = 0; i < n && ok; i++) {
        if (i > 0)
            ok = ew__buf_append(&b, i % 2 ? "=" : "&", 1);
        duk_get_prop_index(ctx, list_idx, i);
        size_t len;
        const char *s = ew__to_utf8(ctx, -1, &len);
        ok = ok && ew__url_form_append(&b, s, len, false);
        duk_pop(ctx);
    }
    if (!ok) {
        ew__buf_dispose(&b);
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "URLSearchParams: out of memory");
    }
    duk_push_lstring(ctx, b.data ? b.data : "", b.len);
    ew__buf_dispose(&b);
}

void ew__url_push_form_list(duk_context *ctx, const char *s, size_t len)
{
    push_form_list(ctx, s, len);
}

/* The query of a record without its '?' (empty when null). */
static void rec_query(const ew__url_t *u, const char **q, size_t *len)
{
    uint32_t b, n;
    ew__url_get(u, EW__URL_SEARCH, &b, &n);
    if (n > 0)
        b++, n--;
    *q = u->href + b;
    *len = n;
}

/* Pushes the list of the URLSearchParams at sp_idx, first parsing it from its URL's query when it is not made
 * yet. Returns false (nothing pushed) when the object is not a URLSearchParams. */
static bool push_list(duk_context *ctx, duk_idx_t sp_idx)
{
    sp_idx = duk_require_normalize_index(ctx, sp_idx);
    duk_get_prop_literal(ctx, sp_idx, SP_LIST);
    if (duk_is_array(ctx, -1))
        return true;
    duk_pop(ctx);
    duk_get_prop_literal(ctx, sp_idx, SP_REC);
    ew__url_t u;
    if (!rec_read(ctx, -1, &u)) {
        duk_pop(ctx);
        return false;
    }
    const char *q;
    size_t len;
    rec_query(&u, &q, &len);
    push_form_list(ctx, q, len); /* the record stays on the stack below: q stays valid */
    duk_remove(ctx, -2);
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, sp_idx, SP_LIST);
    return true;
}

bool ew__url_params_push_serialized(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx) || !push_list(ctx, idx))
        return false;
    push_serialized(ctx, -1);
    duk_remove(ctx, -2);
    return true;
}

/* Sets the query of the record at rec_idx to the ASCII string on top (popped); "" makes it null. */
static void rec_set_query(duk_context *ctx, duk_idx_t rec_idx)
{
    rec_idx = duk_require_normalize_index(ctx, rec_idx);
    duk_size_t len;
    const char *q = duk_get_lstring(ctx, -1, &len);
    ew__url_t u, cur;
    if (!rec_read(ctx, rec_idx, &cur))
        (void) duk_type_error(ctx, "URL: broken record");
    u = cur;
    u.href = malloc(cur.len + 1);
    if (u.href == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "URL: out of memory");
    memcpy(u.href, cur.href, cur.len + 1);
    if (!ew__url_set(&u, EW__URL_SEARCH, q, len)) {
        ew__url_dispose(&u);
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "URL: out of memory");
    }
    rec_write_disposing(ctx, rec_idx, false, &u);
    duk_pop(ctx);
}

/* The params' "update steps": write the list back to the owning URL's record, if any. */
static void params_update(duk_context *ctx, duk_idx_t sp_idx, duk_idx_t list_idx)
{
    sp_idx = duk_require_normalize_index(ctx, sp_idx);
    list_idx = duk_require_normalize_index(ctx, list_idx);
    duk_get_prop_literal(ctx, sp_idx, SP_REC);
    if (duk_is_dynamic_buffer(ctx, -1)) {
        push_serialized(ctx, list_idx);
        rec_set_query(ctx, -2);
    }
    duk_pop(ctx);
}

/* The URL's query changed: its params object (if it was made) parses its list again when next used. */
static void url_drop_params_list(duk_context *ctx, duk_idx_t url_idx)
{
    duk_get_prop_literal(ctx, url_idx, URL_SP);
    if (duk_is_object(ctx, -1)) {
        duk_push_undefined(ctx);
        duk_put_prop_literal(ctx, -2, SP_LIST);
    }
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * URL: constructor, statics, accessors
 */

static duk_ret_t url_ctor(duk_context *ctx)
{
    require_args(ctx, 1, "URL constructor");
    duk_set_top(ctx, 2);
    duk_idx_t self = ew__web_construct_this(ctx, "URL");
    ew__url_t u;
    bool bad_base;
    if (!parse_args(ctx, &u, &bad_base))
        return duk_type_error(ctx, bad_base ? "Invalid base URL string." : "Invalid URL string.");
    rec_write_disposing(ctx, self, true, &u);
    return 0;
}

static duk_ret_t url_can_parse(duk_context *ctx)
{
    require_args(ctx, 1, "URL.canParse");
    duk_set_top(ctx, 2);
    ew__url_t u;
    bool bad_base;
    bool ok = parse_args(ctx, &u, &bad_base);
    if (ok)
        ew__url_dispose(&u);
    duk_push_boolean(ctx, ok);
    return 1;
}

static duk_ret_t url_parse_static(duk_context *ctx)
{
    require_args(ctx, 1, "URL.parse");
    duk_set_top(ctx, 2);
    duk_idx_t self = ew__web_push_instance(ctx, PROTO_URL); /* before anything is malloc'd */
    ew__url_t u;
    bool bad_base;
    if (!parse_args(ctx, &u, &bad_base)) {
        duk_push_null(ctx);
        return 1;
    }
    rec_write_disposing(ctx, self, true, &u);
    duk_set_top(ctx, self + 1);
    return 1;
}

/* Getters that are slices of href. */
static duk_ret_t url_get_part(duk_context *ctx, ew__url_part_t part)
{
    ew__url_t u;
    url_this(ctx, &u);
    uint32_t b, n;
    ew__url_get(&u, part, &b, &n);
    duk_push_lstring(ctx, u.href + b, n);
    return 1;
}

static duk_ret_t url_get_href(duk_context *ctx) { return url_get_part(ctx, EW__URL_HREF); }
static duk_ret_t url_get_protocol(duk_context *ctx) { return url_get_part(ctx, EW__URL_PROTOCOL); }
static duk_ret_t url_get_username(duk_context *ctx) { return url_get_part(ctx, EW__URL_USERNAME); }
static duk_ret_t url_get_password(duk_context *ctx) { return url_get_part(ctx, EW__URL_PASSWORD); }
static duk_ret_t url_get_host(duk_context *ctx) { return url_get_part(ctx, EW__URL_HOST); }
static duk_ret_t url_get_hostname(duk_context *ctx) { return url_get_part(ctx, EW__URL_HOSTNAME); }
static duk_ret_t url_get_port(duk_context *ctx) { return url_get_part(ctx, EW__URL_PORT); }
static duk_ret_t url_get_pathname(duk_context *ctx) { return url_get_part(ctx, EW__URL_PATHNAME); }
static duk_ret_t url_get_search(duk_context *ctx) { return url_get_part(ctx, EW__URL_SEARCH); }
static duk_ret_t url_get_hash(duk_context *ctx) { return url_get_part(ctx, EW__URL_HASH); }

static duk_ret_t url_get_origin(duk_context *ctx)
{
    ew__url_t u;
    url_this(ctx, &u);
    ew__buf_t b;
    ew__buf_init(&b);
    if (!ew__url_origin(&u, &b)) {
        ew__buf_dispose(&b);
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "URL: out of memory");
    }
    duk_push_lstring(ctx, b.data, b.len);
    ew__buf_dispose(&b);
    return 1;
}

static duk_ret_t url_get_search_params(duk_context *ctx)
{
    ew__url_t u;
    duk_idx_t self = url_this(ctx, &u);
    duk_get_prop_literal(ctx, self, URL_SP);
    if (duk_is_object(ctx, -1))
        return 1;
    duk_pop(ctx);
    duk_idx_t sp = ew__web_push_instance(ctx, PROTO_SEARCH_PARAMS);
    duk_get_prop_literal(ctx, self, URL_REC);
    duk_put_prop_literal(ctx, sp, SP_REC); /* the list is parsed from it when first needed */
    duk_dup(ctx, sp);
    duk_put_prop_literal(ctx, self, URL_SP);
    return 1;
}

/* Setters: the value at 0 through ew__url_set (href: a new parse, TypeError when invalid). */
static duk_ret_t url_set_part(duk_context *ctx, ew__url_part_t part)
{
    require_args(ctx, 1, "URL setter");
    ew__url_t u;
    duk_idx_t self = url_this(ctx, &u);
    duk_get_prop_literal(ctx, self, URL_REC); /* before anything is malloc'd: no throw until it is disposed */
    duk_idx_t rec = duk_get_top_index(ctx);
    size_t len;
    const char *v = ew__to_utf8(ctx, 0, &len);
    (void) rec_read(ctx, rec, &u); /* again: converting the value may have run script that changed the URL */
    ew__url_t next;
    if (part == EW__URL_HREF) {
        if (!ew__url_parse(v, len, NULL, &next))
            return duk_type_error(ctx, "Invalid URL string.");
    } else {
        next = u;
        next.href = malloc(u.len + 1);
        if (next.href == NULL)
            return duk_error(ctx, DUK_ERR_RANGE_ERROR, "URL: out of memory");
        memcpy(next.href, u.href, u.len + 1);
        if (!ew__url_set(&next, part, v, len)) {
            ew__url_dispose(&next);
            return duk_error(ctx, DUK_ERR_RANGE_ERROR, "URL: out of memory");
        }
    }
    rec_write_disposing(ctx, rec, false, &next);
    if (part == EW__URL_HREF || part == EW__URL_SEARCH)
        url_drop_params_list(ctx, self);
    return 0;
}

static duk_ret_t url_set_href(duk_context *ctx) { return url_set_part(ctx, EW__URL_HREF); }
static duk_ret_t url_set_protocol(duk_context *ctx) { return url_set_part(ctx, EW__URL_PROTOCOL); }
static duk_ret_t url_set_username(duk_context *ctx) { return url_set_part(ctx, EW__URL_USERNAME); }
static duk_ret_t url_set_password(duk_context *ctx) { return url_set_part(ctx, EW__URL_PASSWORD); }
static duk_ret_t url_set_host(duk_context *ctx) { return url_set_part(ctx, EW__URL_HOST); }
static duk_ret_t url_set_hostname(duk_context *ctx) { return url_set_part(ctx, EW__URL_HOSTNAME); }
static duk_ret_t url_set_port(duk_context *ctx) { return url_set_part(ctx, EW__URL_PORT); }
static duk_ret_t url_set_pathname(duk_context *ctx) { return url_set_part(ctx, EW__URL_PATHNAME); }
static duk_ret_t url_set_search(duk_context *ctx) { return url_set_part(ctx, EW__URL_SEARCH); }
static duk_ret_t url_set_hash(duk_context *ctx) { return url_set_part(ctx, EW__URL_HASH); }

/* ---------------------------------------------------------------------------------------------------------
 * URLSearchParams: constructor
 */

/* Pushes ToString(value at idx) as a USVString (lone surrogates replaced). */
static void push_usv(duk_context *ctx, duk_idx_t idx)
{
    duk_dup(ctx, idx);
    size_t len;
    const char *s = ew__to_utf8(ctx, -1, &len);
    ew__push_utf8(ctx, s, len);
    duk_remove(ctx, -2);
}

/* Appends [name, value] (the two values on top, popped) to the list at list_idx, as USVStrings. */
static void list_append_top(duk_context *ctx, duk_idx_t list_idx)
{
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    push_usv(ctx, -2);
    duk_put_prop_index(ctx, list_idx, n);
    push_usv(ctx, -1);
    duk_put_prop_index(ctx, list_idx, n + 1);
    duk_pop_2(ctx);
}

/* Pushes the values an iterable yields, as an array (WebIDL's sequence conversion). */
static void push_iterated(duk_context *ctx, duk_idx_t obj_idx, duk_idx_t method_idx)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    method_idx = duk_require_normalize_index(ctx, method_idx);
    duk_push_array(ctx);
    duk_idx_t out = duk_get_top_index(ctx);
    duk_dup(ctx, method_idx);
    duk_dup(ctx, obj_idx);
    duk_call_method(ctx, 0);
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "Result of the Symbol.iterator method is not an object");
    duk_idx_t it = duk_get_top_index(ctx);
    for (duk_uarridx_t i = 0;; i++) {
        duk_get_prop_literal(ctx, it, "next");
        duk_dup(ctx, it);
        duk_call_method(ctx, 0);
        if (!duk_is_object(ctx, -1))
            (void) duk_type_error(ctx, "Iterator result is not an object");
        duk_get_prop_literal(ctx, -1, "done");
        if (duk_to_boolean(ctx, -1)) {
            duk_pop_2(ctx);
            break;
        }
        duk_get_prop_literal(ctx, -2, "value");
        duk_put_prop_index(ctx, out, i);
        duk_pop_2(ctx);
    }
    duk_pop(ctx);
}

/* A sequence of pairs; arrays are read directly (Duktape's own arrays may lack [Symbol.iterator]). */
static void fill_from_pairs(duk_context *ctx, duk_idx_t list_idx, duk_idx_t init_idx, duk_idx_t method_idx)
{
    method_idx = duk_normalize_index(ctx, method_idx);
    if (duk_is_array(ctx, init_idx))
        duk_dup(ctx, init_idx);
    else
        push_iterated(ctx, init_idx, method_idx);
    duk_idx_t seq = duk_get_top_index(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, seq);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, seq, i);
        duk_idx_t pair = duk_get_top_index(ctx);
        if (duk_is_object(ctx, pair) && !duk_is_array(ctx, pair)) {
            duk_get_prop_literal(ctx, pair, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
            if (duk_is_callable(ctx, -1)) {
                push_iterated(ctx, pair, -1);
                duk_replace(ctx, pair);
            }
            duk_pop(ctx);
        }
        if (!duk_is_object(ctx, pair) || duk_get_length(ctx, pair) != 2)
            (void) duk_type_error(ctx, "Failed to construct 'URLSearchParams': Sequence initializer must only "
                                       "contain pair elements");
        duk_get_prop_index(ctx, pair, 0);
        duk_get_prop_index(ctx, pair, 1);
        list_append_top(ctx, list_idx);
        duk_pop(ctx);
    }
    duk_pop(ctx);
}

/* record<USVString, USVString>: own enumerable string keys in property order. */
static void fill_from_record(duk_context *ctx, duk_idx_t list_idx, duk_idx_t obj_idx)
{
    duk_enum(ctx, obj_idx, DUK_ENUM_OWN_PROPERTIES_ONLY);
    while (duk_next(ctx, -1, 0)) {
        duk_dup_top(ctx);
        duk_get_prop(ctx, obj_idx);
        list_append_top(ctx, list_idx);
    }
    duk_pop(ctx);
}

static duk_ret_t params_ctor(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    duk_idx_t self = ew__web_construct_this(ctx, "URLSearchParams");
    if (duk_is_object(ctx, 0) && !duk_is_function(ctx, 0)) {
        duk_push_array(ctx);
        duk_idx_t list = duk_get_top_index(ctx);
        duk_get_prop_literal(ctx, 0, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
        if (duk_is_callable(ctx, -1) || duk_is_array(ctx, 0))
            fill_from_pairs(ctx, list, 0, -1);
        else if (!duk_is_undefined(ctx, -1) && !duk_is_null(ctx, -1))
            return duk_type_error(ctx, "Failed to construct 'URLSearchParams': @@iterator is not callable");
        else
            fill_from_record(ctx, list, 0);
        duk_pop(ctx);
    } else {
        size_t len = 0;
        const char *s = duk_is_undefined(ctx, 0) ? "" : ew__to_utf8(ctx, 0, &len);
        if (len > 0 && s[0] == '?')
            s++, len--;
        push_form_list(ctx, s, len);
    }
    duk_put_prop_literal(ctx, self, SP_LIST);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * URLSearchParams: methods
 */

/* Pushes this's list (TypeError for other receivers); returns its index. `this` sits just below it. */
static duk_idx_t params_this(duk_context *ctx)
{
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1) || !push_list(ctx, -1))
        (void) duk_type_error(ctx, "Illegal invocation: this is not a URLSearchParams");
    return duk_get_top_index(ctx);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char) (c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* application/x-www-form-urlencoded decoding of n bytes into out (room for n: decoding never grows), as
 * ew__url_form_append(..., true) does it; returns the decoded length. */
static size_t form_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0)
            c = (char) (hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])), i += 2;
        out[o++] = c;
    }
    return o;
}

#define QUERY_GET_MAX 512 /* longest name or value query_get decodes on the stack */

/* params.get(name at 0) for the params of a URL whose list is not made yet: scans the URL's query for the
 * first pair whose decoded name is the name, without making the list. The name is a USVString (params_args)
 * and a decoded name that is valid UTF-8 becomes exactly its bytes in the list, so comparing UTF-8 bytes is
 * the list's comparison; a name that is not valid UTF-8 (U+FFFD in the list), or a pair longer than
 * QUERY_GET_MAX, sends the caller to the list. Returns true with the result pushed, false with the stack as
 * it was. */
static bool query_get(duk_context *ctx)
{
    duk_push_this(ctx);
    bool listed = !duk_is_object(ctx, -1);
    if (!listed) {
        duk_get_prop_literal(ctx, -1, SP_LIST);
        listed = !duk_is_undefined(ctx, -1);
        duk_pop(ctx);
    }
    ew__url_t u;
    if (listed || (duk_get_prop_literal(ctx, -1, SP_REC), !rec_read(ctx, -1, &u))) {
        duk_set_top(ctx, 1);
        return false;
    }
    duk_dup(ctx, 0); /* ew__to_utf8 may replace the slot: the list path compares slot 0 itself */
    size_t klen;
    const char *key = ew__to_utf8(ctx, -1, &klen);
    const char *q;
    size_t len;
    rec_query(&u, &q, &len);
    char buf[QUERY_GET_MAX];
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && q[e] != '&')
            e++;
        if (e > i) {
            const char *eq = memchr(q + i, '=', e - i);
            size_t nlen = eq ? (size_t) (eq - (q + i)) : e - i, vlen = eq ? (size_t) (q + e - eq - 1) : 0;
            if (nlen > sizeof(buf) || vlen > sizeof(buf))
                goto use_list;
            size_t dlen = form_decode(q + i, nlen, buf);
            if (!ew__utf8_valid(buf, dlen))
                goto use_list;
            if (dlen == klen && memcmp(buf, key, klen) == 0) {
                dlen = eq ? form_decode(eq + 1, vlen, buf) : 0;
                duk_set_top(ctx, 1);
                ew__push_utf8(ctx, buf, dlen);
                return true;
            }
        }
        i = e + 1;
    }
    duk_set_top(ctx, 1);
    duk_push_null(ctx);
    return true;
use_list:
    duk_set_top(ctx, 1);
    return false;
}

static duk_idx_t params_args(duk_context *ctx, duk_idx_t need, duk_idx_t max, const char *method)
{
    duk_idx_t have = duk_get_top(ctx);
    if (have < need)
        (void) duk_type_error(ctx, "Failed to execute '%s' on 'URLSearchParams': %d argument%s required, but only "
                              "%d present.", method, (int) need, need > 1 ? "s" : "", (int) have);
    duk_idx_t n = have < max ? have : max;
    duk_set_top(ctx, n);
    for (duk_idx_t i = 0; i < n; i++) {
        if (i >= need && duk_is_undefined(ctx, i)) {
            n = i; /* an optional value given as undefined counts as absent */
            duk_set_top(ctx, n);
            break;
        }
        push_usv(ctx, i);
        duk_replace(ctx, i);
    }
    return n;
}

/* True if entry i of the list has the name at 0 (and, when with_value, the value at 1). */
static bool entry_matches(duk_context *ctx, duk_idx_t list, duk_uarridx_t i, bool with_value)
{
    duk_get_prop_index(ctx, list, i);
    bool m = duk_get_heapptr(ctx, -1) == duk_get_heapptr(ctx, 0);
    duk_pop(ctx);
    if (m && with_value) {
        duk_get_prop_index(ctx, list, i + 1);
        m = duk_get_heapptr(ctx, -1) == duk_get_heapptr(ctx, 1);
        duk_pop(ctx);
    }
    return m;
}

static duk_ret_t params_append(duk_context *ctx)
{
    params_args(ctx, 2, 2, "append");
    duk_idx_t list = params_this(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list);
    duk_dup(ctx, 0);
    duk_put_prop_index(ctx, list, n);
    duk_dup(ctx, 1);
    duk_put_prop_index(ctx, list, n + 1);
    params_update(ctx, list - 1, list);
    return 0;
}

/* Removes the entries that match (name, and value when given), from index `from` on. */
static void list_remove(duk_context *ctx, duk_idx_t list, duk_uarridx_t from, bool with_value)
{
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list), w = from;
    for (duk_uarridx_t r = from; r + 1 < n; r += 2) {
        if (entry_matches(ctx, list, r, with_value))
            continue;
        if (w != r) {
            duk_get_prop_index(ctx, list, r);
            duk_put_prop_index(ctx, list, w);
            duk_get_prop_index(ctx, list, r + 1);
            duk_put_prop_index(ctx, list, w + 1);
        }
        w += 2;
    }
    duk_set_length(ctx, list, w);
}

static duk_ret_t params_delete(duk_context *ctx)
{
    duk_idx_t nargs = params_args(ctx, 1, 2, "delete");
    duk_idx_t list = params_this(ctx);
    list_remove(ctx, list, 0, nargs > 1);
    params_update(ctx, list - 1, list);
    return 0;
}

static duk_ret_t params_get(duk_context *ctx)
{
    params_args(ctx, 1, 1, "get");
    if (query_get(ctx))
        return 1;
    duk_idx_t list = params_this(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list);
    for (duk_uarridx_t i = 0; i + 1 < n; i += 2) {
        if (entry_matches(ctx, list, i, false)) {
            duk_get_prop_index(ctx, list, i + 1);
            return 1;
        }
    }
    duk_push_null(ctx);
    return 1;
}

static duk_ret_t params_get_all(duk_context *ctx)
{
    params_args(ctx, 1, 1, "getAll");
    duk_idx_t list = params_this(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list), o = 0;
    duk_push_array(ctx);
    for (duk_uarridx_t i = 0; i + 1 < n; i += 2) {
        if (entry_matches(ctx, list, i, false)) {
            duk_get_prop_index(ctx, list, i + 1);
            duk_put_prop_index(ctx, -2, o++);
        }
    }
    return 1;
}

static duk_ret_t params_has(duk_context *ctx)
{
    duk_idx_t nargs = params_args(ctx, 1, 2, "has");
    duk_idx_t list = params_this(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list);
    bool found = false;
    for (duk_uarridx_t i = 0; i + 1 < n && !found; i += 2)
        found = entry_matches(ctx, list, i, nargs > 1);
    duk_push_boolean(ctx, found);
    return 1;
}

static duk_ret_t params_set(duk_context *ctx)
{
    params_args(ctx, 2, 2, "set");
    duk_idx_t list = params_this(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list), i = 0;
    while (i + 1 < n && !entry_matches(ctx, list, i, false))
        i += 2;
    if (i >= n) {
        duk_dup(ctx, 0);
        duk_put_prop_index(ctx, list, n);
    } else {
        list_remove(ctx, list, i + 2, false);
    }
    duk_dup(ctx, 1);
    duk_put_prop_index(ctx, list, i + 1);
    params_update(ctx, list - 1, list);
    return 0;
}

typedef struct sort_entry {
    const char *name; /* Duktape's internal (CESU-8) bytes: their order is UTF-16 code unit order */
    duk_size_t len;
    duk_uarridx_t pos;
} sort_entry_t;

static int cmp_entry(const void *a, const void *b)
{
    const sort_entry_t *x = a, *y = b;
    int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos); /* stable: ties keep list order */
}

static duk_ret_t params_sort(duk_context *ctx)
{
    duk_idx_t list = params_this(ctx);
    size_t n = duk_get_length(ctx, list) / 2;
    if (n > 1) {
        sort_entry_t *e = duk_push_fixed_buffer(ctx, n * sizeof(*e));
        for (size_t i = 0; i < n; i++) {
            duk_get_prop_index(ctx, list, (duk_uarridx_t) (2 * i));
            e[i].name = duk_get_lstring(ctx, -1, &e[i].len); /* the list keeps the string alive */
            e[i].pos = (duk_uarridx_t) (2 * i);
            duk_pop(ctx);
        }
        qsort(e, n, sizeof(*e), cmp_entry);
        duk_require_stack(ctx, 2);
        ew__headers_list_copy(ctx, list); /* a snapshot to read from while the list is rewritten */
        for (size_t i = 0; i < n; i++) {
            duk_get_prop_index(ctx, -1, e[i].pos);
            duk_put_prop_index(ctx, list, (duk_uarridx_t) (2 * i));
            duk_get_prop_index(ctx, -1, e[i].pos + 1);
            duk_put_prop_index(ctx, list, (duk_uarridx_t) (2 * i + 1));
        }
    }
    params_update(ctx, list - 1, list);
    return 0;
}

static duk_ret_t params_to_string(duk_context *ctx)
{
    push_serialized(ctx, params_this(ctx));
    return 1;
}

static duk_ret_t params_get_size(duk_context *ctx)
{
    duk_push_uint(ctx, (duk_uint_t) (duk_get_length(ctx, params_this(ctx)) / 2));
    return 1;
}

/* forEach(callback, thisArg): callback(value, name, params), over the live list. */
static duk_ret_t params_for_each(duk_context *ctx)
{
    duk_set_top(ctx, 2);
    duk_idx_t list = params_this(ctx);
    if (!duk_is_callable(ctx, 0))
        return duk_type_error(ctx, "URLSearchParams.forEach: the callback is not a function");
    for (duk_uarridx_t i = 0; i + 1 < (duk_uarridx_t) duk_get_length(ctx, list); i += 2) {
        duk_dup(ctx, 0);
        duk_dup(ctx, 1);
        duk_get_prop_index(ctx, list, i + 1);
        duk_get_prop_index(ctx, list, i);
        duk_dup(ctx, list - 1);
        duk_call_method(ctx, 3);
        duk_pop(ctx);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Iterators: live over the list (index << 2 | kind)
 */

enum { ITER_ENTRIES = 0, ITER_KEYS = 1, ITER_VALUES = 2 };

static duk_ret_t push_iterator(duk_context *ctx, unsigned kind)
{
    duk_idx_t list = params_this(ctx);
    duk_idx_t it = ew__web_push_instance(ctx, PROTO_SP_ITERATOR);
    duk_dup(ctx, list);
    duk_put_prop_literal(ctx, it, IT_LIST);
    duk_push_uint(ctx, kind);
    duk_put_prop_literal(ctx, it, IT_POS);
    return 1;
}

static duk_ret_t params_entries(duk_context *ctx) { return push_iterator(ctx, ITER_ENTRIES); }
static duk_ret_t params_keys(duk_context *ctx) { return push_iterator(ctx, ITER_KEYS); }
static duk_ret_t params_values(duk_context *ctx) { return push_iterator(ctx, ITER_VALUES); }

static duk_ret_t iterator_next(duk_context *ctx)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, IT_LIST);
    duk_get_prop_literal(ctx, -2, IT_POS);
    if (!duk_is_array(ctx, -2) || !duk_is_number(ctx, -1))
        return duk_type_error(ctx, "Illegal invocation: this is not a URLSearchParams iterator");
    duk_uint_t state = duk_get_uint(ctx, -1);
    duk_uarridx_t pos = (duk_uarridx_t) (state >> 2), kind = state & 3;
    duk_idx_t res = duk_push_object(ctx);
    bool done = 2 * pos + 1 >= duk_get_length(ctx, -3);
    if (done) {
        duk_push_undefined(ctx);
    } else if (kind == ITER_ENTRIES) {
        duk_get_prop_index(ctx, -3, 2 * pos);
        duk_get_prop_index(ctx, -4, 2 * pos + 1);
        ew__web_pack(ctx, 2);
    } else {
        duk_get_prop_index(ctx, -3, 2 * pos + (kind == ITER_VALUES));
    }
    duk_put_prop_literal(ctx, res, "value");
    duk_push_boolean(ctx, done);
    duk_put_prop_literal(ctx, res, "done");
    if (!done) {
        duk_push_uint(ctx, ((pos + 1) << 2) | kind);
        duk_put_prop_literal(ctx, -5, IT_POS);
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * JS names -> C functions
 */

static const ew__method_t url_methods[] = {
    {"toString", url_get_href, 0, 0},
    {"toJSON", url_get_href, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__method_t url_statics[] = {
    {"canParse", url_can_parse, DUK_VARARGS, 1},
    {"parse", url_parse_static, DUK_VARARGS, 1},
    {NULL, NULL, 0, 0},
};

static const struct {
    const char *name;
    duk_c_function get, set;
} url_accessors[] = {
    {"href", url_get_href, url_set_href},
    {"origin", url_get_origin, NULL},
    {"protocol", url_get_protocol, url_set_protocol},
    {"username", url_get_username, url_set_username},
    {"password", url_get_password, url_set_password},
    {"host", url_get_host, url_set_host},
    {"hostname", url_get_hostname, url_set_hostname},
    {"port", url_get_port, url_set_port},
    {"pathname", url_get_pathname, url_set_pathname},
    {"search", url_get_search, url_set_search},
    {"searchParams", url_get_search_params, NULL},
    {"hash", url_get_hash, url_set_hash},
};

static const ew__class_t url_class = {
    .name = "URL",
    .ctor = url_ctor,
    .ctor_nargs = DUK_VARARGS,
    .ctor_length = 1,
    .methods = url_methods,
    .statics = url_statics,
    .proto_slot = PROTO_URL,
};

static const ew__method_t params_methods[] = {
    {"append", params_append, DUK_VARARGS, 2},
    {"delete", params_delete, DUK_VARARGS, 1},
    {"get", params_get, DUK_VARARGS, 1},
    {"getAll", params_get_all, DUK_VARARGS, 1},
    {"has", params_has, DUK_VARARGS, 1},
    {"set", params_set, DUK_VARARGS, 2},
    {"sort", params_sort, 0, 0},
    {"toString", params_to_string, 0, 0},
    {"forEach", params_for_each, DUK_VARARGS, 1},
    {"entries", params_entries, 0, 0},
    {"keys", params_keys, 0, 0},
    {"values", params_values, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__getter_t params_getters[] = {
    {"size", params_get_size},
    {NULL, NULL},
};

static const ew__class_t params_class = {
    .name = "URLSearchParams",
    .ctor = params_ctor,
    .ctor_nargs = DUK_VARARGS,
    .ctor_length = 0,
    .methods = params_methods,
    .getters = params_getters,
    .proto_slot = PROTO_SEARCH_PARAMS,
};

static const ew__method_t iterator_methods[] = {
    {"next", iterator_next, 0, 0},
    {NULL, NULL, 0, 0},
};

static duk_ret_t iterator_self(duk_context *ctx)
{
    duk_push_this(ctx);
    return 1;
}

/* The iterator prototype inherits from %IteratorPrototype% when lib/core made one (the bare heap of a unit
 * test has none: then it gets its own [Symbol.iterator]). */
static void init_iterator_proto(duk_context *ctx)
{
    duk_idx_t proto = duk_push_object(ctx);
    ew__def_methods(ctx, proto, iterator_methods);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.toStringTag"));
    duk_push_literal(ctx, "URLSearchParams Iterator");
    duk_def_prop(ctx, proto, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_heap_stash(ctx); /* %IteratorPrototype% lives in the heap stash (lib/core) */
    duk_get_prop_literal(ctx, -1, EW__STASH_ITERATOR_PROTOTYPE);
    if (duk_is_object(ctx, -1)) {
        duk_set_prototype(ctx, proto);
    } else {
        duk_pop(ctx);
        duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
        duk_push_c_function(ctx, iterator_self, 0);
        duk_def_prop(ctx, proto, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    }
    duk_pop(ctx);
    ew__web_register_proto(ctx, proto, PROTO_SP_ITERATOR);
    duk_pop(ctx);
}

void ew__url_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    duk_idx_t proto = ew__web_def_class(ctx, global_idx, &url_class);
    for (size_t i = 0; i < sizeof(url_accessors) / sizeof(url_accessors[0]); i++)
        ew__def_getter(ctx, proto, url_accessors[i].name, url_accessors[i].get, url_accessors[i].set);
    duk_pop(ctx);

    proto = ew__web_def_class(ctx, global_idx, &params_class);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_get_prop_literal(ctx, proto, "entries");
    duk_def_prop(ctx, proto, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop(ctx);
    init_iterator_proto(ctx);
}
