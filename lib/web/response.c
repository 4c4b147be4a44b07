/*
 * response.c — the Fetch Response class (https://fetch.spec.whatwg.org/#response-class) as Workers have
 * it: the constructor, Response.json/redirect/error, the accessors and clone(). The C side of responses
 * (ew__response_extract, ew__response_make, ew_response_destroy) lives in response_c.c.
 *
 * A Response is a plain object with Response.prototype and hidden properties (lib/web/internal.h): the
 * state integer (kind, used, guard, error type, and the status in its upper bits), the header list, the
 * body storage (body.c), statusText and cf only when given, and the lazy Headers wrapper.
 * Workers behaviour kept where it differs from the spec: statusText defaults to the status code's reason
 * phrase ("OK"), and a zero-length body with a null-body status (204, 205, 304) is accepted as null.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Conversions
 */

/* WebIDL "unsigned short" of the value at idx: ToNumber, truncated, modulo 2^16. */
static int to_ushort(duk_context *ctx, duk_idx_t idx)
{
    double d = duk_to_number(ctx, idx);
    if (!isfinite(d))
        return 0;
    d = fmod(trunc(d), 65536.0);
    return (int) (d < 0 ? d + 65536.0 : d);
}

/* Throws TypeError unless the string at idx is a reason-phrase: HTAB, SP, VCHAR, obs-text (U+0080-00FF).
 * In Duktape's encoding U+0100 and above start with a byte >= 0xC4, so a byte scan decides. */
static void check_status_text(duk_context *ctx, duk_idx_t idx)
{
    duk_size_t len;
    const unsigned char *s = (const unsigned char *) duk_to_lstring(ctx, idx, &len);
    for (duk_size_t i = 0; i < len; i++) {
        if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F || s[i] >= 0xC4)
            (void) duk_type_error(ctx, "Invalid statusText");
    }
}

static bool is_null_body_status(int status)
{
    return status == 101 || status == 204 || status == 205 || status == 304;
}

static int status_of(uint32_t state)
{
    return (int) (state >> EW__STATE_STATUS_SHIFT);
}

/* ---------------------------------------------------------------------------------------------------------
 * Construction: "initialize a response" shared by the constructor and Response.json
 */

/* encodeBody of a ResponseInit: "automatic" (default: the body is compressed on the way out per its
 * Content-Encoding, lib/web/body_encode.c) or "manual" (already encoded); a Response given as init passes
 * its own on, as in workerd. */
static uint32_t read_encode_body(duk_context *ctx, duk_idx_t init_idx)
{
    uint32_t state = ew__web_state(ctx, init_idx);
    if (state & EW__KIND_RESPONSE)
        return state & EW__STATE_ENCODE_MANUAL;
    duk_get_prop_literal(ctx, init_idx, "encodeBody");
    uint32_t flags = 0;
    if (!duk_is_undefined(ctx, -1)) {
        const char *v = duk_to_string(ctx, -1);
        if (strcmp(v, "manual") == 0)
            flags = EW__STATE_ENCODE_MANUAL;
        else if (strcmp(v, "automatic") != 0)
            (void) duk_type_error(ctx, "encodeBody: unexpected value: %s", v);
    }
    duk_pop(ctx);
    return flags;
}

/* Reads the ResponseInit at init_idx (cf, headers, status, statusText in the dictionary's order) into self
 * and the list slot (left undefined when init has no headers); returns the status. */
static int read_init(duk_context *ctx, duk_idx_t self, duk_idx_t init_idx, duk_idx_t list, uint32_t *flags)
{
    int status = 200;
    if (duk_is_null_or_undefined(ctx, init_idx))
        return status;
    if (!duk_is_object(ctx, init_idx))
        (void) duk_type_error(ctx, "Failed to construct 'Response': init must be an object");
    duk_get_prop_literal(ctx, init_idx, "cf");
    if (!duk_is_undefined(ctx, -1))
        duk_put_prop_literal(ctx, self, EW__WEB_CF);
    else
        duk_pop(ctx);
    *flags = read_encode_body(ctx, init_idx);
    duk_get_prop_literal(ctx, init_idx, "headers");
    if (!duk_is_undefined(ctx, -1)) {
        duk_push_array(ctx);
        duk_replace(ctx, list);
        ew__headers_fill(ctx, list, -1);
    }
    duk_pop(ctx);
    duk_get_prop_literal(ctx, init_idx, "status");
    if (!duk_is_undefined(ctx, -1))
        status = to_ushort(ctx, -1);
    duk_pop(ctx);
    duk_get_prop_literal(ctx, init_idx, "statusText");
    if (!duk_is_undefined(ctx, -1)) {
        check_status_text(ctx, -1);
        duk_put_prop_literal(ctx, self, EW__WEB_STATUS_TEXT);
    } else {
        duk_pop(ctx);
    }
    /* webSocket: the client end of a WebSocketPair, for a 101 (only) */
    duk_get_prop_literal(ctx, init_idx, "webSocket");
    bool has_ws = !duk_is_null_or_undefined(ctx, -1);
    if (has_ws && !ew__web_is_websocket(ctx, -1))
        (void) duk_type_error(ctx, "Failed to construct 'Response': member webSocket is not of type WebSocket.");
    if (has_ws && status != 101)
        (void) duk_range_error(ctx, "Responses with a WebSocket must have status code 101.");
    if (has_ws)
        duk_put_prop_literal(ctx, self, EW__WEB_WEBSOCKET);
    else
        duk_pop(ctx);
    if ((status < 200 || status > 599) && !has_ws)
        (void) duk_range_error(ctx, "Responses may only be constructed with status codes in the range 200 to "
                                    "599, inclusive.");
    return status;
}

/* Fills the Response at self from the body value at body_idx and the ResponseInit at init_idx.
 * content_type is the type the body implies when the caller knows it (json), else NULL. The common case,
 * no headers in init and a string body, makes its list [content-type, type] in one step. */
static void setup(duk_context *ctx, duk_idx_t self, duk_idx_t body_idx, duk_idx_t init_idx, const char *content_type)
{
    self = duk_require_normalize_index(ctx, self);
    body_idx = duk_require_normalize_index(ctx, body_idx);
    init_idx = duk_require_normalize_index(ctx, init_idx);
    duk_push_undefined(ctx);
    duk_idx_t list = duk_get_top_index(ctx);
    uint32_t flags = 0;
    int status = read_init(ctx, self, init_idx, list, &flags);
    if (is_null_body_status(status) && ew__body_is_stream(ctx, body_idx))
        (void) duk_type_error(ctx, "Response with null body status (101, 204, 205, or 304) cannot have a body.");
    if (ew__body_extract(ctx, body_idx, &content_type)) {
        if (is_null_body_status(status)) {
            size_t len;
            (void) ew__body_bytes(ctx, -1, &len);
            if (len > 0)
                (void) duk_type_error(ctx, "Response with null body status (101, 204, 205, or 304) cannot have a body.");
            duk_pop(ctx); /* Workers accept an empty body there and treat it as null */
            content_type = NULL;
        } else {
            duk_put_prop_literal(ctx, self, EW__WEB_BODY);
        }
    } else {
        content_type = NULL;
    }
    uint32_t lazy = 0;
    if (duk_is_undefined(ctx, list)) {
        /* The usual lists (none, or just the body's text or JSON type) are left implied by the state until
         * something reads them (ew__web_push_hlist): most responses go straight to C (response_c.c). */
        if (content_type == NULL)
            lazy = EW__LIST_EMPTY;
        else if (strcmp(content_type, ew__response_list_type(EW__LIST_TEXT)) == 0)
            lazy = EW__LIST_TEXT;
        else if (strcmp(content_type, ew__response_list_type(EW__LIST_JSON)) == 0)
            lazy = EW__LIST_JSON;
        else {
            duk_push_literal(ctx, "content-type");
            ew__body_push_type(ctx, content_type);
            ew__web_pack(ctx, 2);
            duk_replace(ctx, list);
        }
    } else if (content_type != NULL && !ew__headers_list_has(ctx, list, "content-type")) {
        ew__body_push_type(ctx, content_type);
        ew__headers_list_add(ctx, list, "content-type");
    }
    if (lazy == 0)
        duk_put_prop_literal(ctx, self, EW__WEB_HLIST);
    else
        duk_pop(ctx); /* the list slot */
    ew__web_set_state(ctx, self, EW__KIND_RESPONSE | flags | ((uint32_t) status << EW__STATE_STATUS_SHIFT) |
                                     (lazy << EW__STATE_LIST_SHIFT));
}

const char *ew__response_list_type(uint32_t code)
{
    return code == EW__LIST_TEXT ? "text/plain;charset=UTF-8" : code == EW__LIST_JSON ? "application/json" : NULL;
}

static duk_ret_t response_ctor(duk_context *ctx)
{
    duk_idx_t self = ew__web_construct_this(ctx, "Response");
    setup(ctx, self, 0, 1, NULL);
    return 0;
}

/* Response.json(data, init): the body is JSON.stringify(data), typed application/json unless init says. */
static duk_ret_t response_json(duk_context *ctx)
{
    duk_dup(ctx, 0);
    duk_json_encode(ctx, -1);
    if (!duk_is_string(ctx, -1))
        return duk_type_error(ctx, "Response.json: the data is not JSON serializable");
    duk_idx_t self = ew__web_push_instance(ctx, EW__PROTO_RESPONSE);
    setup(ctx, self, -2, 1, "application/json");
    return 1;
}

/* Pushes a Response with a null body, immutable headers (the spec's guard for these two) and the state. */
static duk_idx_t push_special(duk_context *ctx, uint32_t state)
{
    duk_idx_t self = ew__web_push_instance(ctx, EW__PROTO_RESPONSE);
    ew__web_set_state(ctx, self, EW__KIND_RESPONSE | EW__STATE_IMMUTABLE | state);
    duk_push_array(ctx);
    duk_put_prop_literal(ctx, self, EW__WEB_HLIST);
    return self;
}

static duk_ret_t response_error(duk_context *ctx)
{
    (void) push_special(ctx, EW__STATE_TYPE_ERROR);
    return 1;
}

static duk_ret_t response_redirect(duk_context *ctx)
{
    int status = duk_is_undefined(ctx, 1) ? 302 : to_ushort(ctx, 1);
    if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
        return duk_range_error(ctx, "%d is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.",
                               status);
    if (!ew__web_push_url(ctx, 0))
        return duk_type_error(ctx, "Unable to parse URL: %.200s", duk_get_string(ctx, 0));
    duk_idx_t self = push_special(ctx, (uint32_t) status << EW__STATE_STATUS_SHIFT);
    duk_get_prop_literal(ctx, self, EW__WEB_HLIST);
    duk_dup(ctx, self - 1);
    ew__headers_list_add(ctx, -2, "location");
    duk_pop(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Accessors and clone()
 */

static duk_ret_t response_get_status(duk_context *ctx)
{
    duk_push_int(ctx, status_of(ew__web_require_this(ctx, EW__KIND_RESPONSE)));
    return 1;
}

static duk_ret_t response_get_ok(duk_context *ctx)
{
    int status = status_of(ew__web_require_this(ctx, EW__KIND_RESPONSE));
    duk_push_boolean(ctx, status >= 200 && status <= 299);
    return 1;
}

static duk_ret_t response_get_status_text(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_RESPONSE);
    duk_get_prop_literal(ctx, -1, EW__WEB_STATUS_TEXT);
    if (duk_is_undefined(ctx, -1))
        ew__web_push_static(ctx, ew__web_reason_phrase(status_of(state)));
    return 1;
}

static duk_ret_t response_get_type(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_RESPONSE);
    if (state & EW__STATE_TYPE_ERROR)
        duk_push_literal(ctx, "error");
    else
        duk_push_literal(ctx, "default");
    return 1;
}

/* url: the final URL of a fetch() response, "" for responses made by the script. */
static duk_ret_t response_get_url(duk_context *ctx)
{
    (void) ew__web_require_this(ctx, EW__KIND_RESPONSE);
    duk_get_prop_literal(ctx, -1, EW__WEB_URL);
    if (duk_is_undefined(ctx, -1))
        duk_push_literal(ctx, "");
    return 1;
}

static duk_ret_t response_get_redirected(duk_context *ctx)
{
    duk_push_boolean(ctx, (ew__web_require_this(ctx, EW__KIND_RESPONSE) & EW__STATE_REDIRECTED) != 0);
    return 1;
}

/* webSocket: the WebSocket given to the constructor, else null. */
static duk_ret_t response_get_web_socket(duk_context *ctx)
{
    (void) ew__web_require_this(ctx, EW__KIND_RESPONSE);
    duk_get_prop_literal(ctx, -1, EW__WEB_WEBSOCKET);
    if (duk_is_undefined(ctx, -1))
        duk_push_null(ctx);
    return 1;
}

bool ew__response_push_websocket(duk_context *ctx, duk_idx_t idx)
{
    uint32_t state = ew__web_state(ctx, idx); /* only a 101 can carry one (read_init) */
    if (!(state & EW__KIND_RESPONSE) || (state >> EW__STATE_STATUS_SHIFT) != 101) {
        duk_push_undefined(ctx);
        return false;
    }
    duk_get_prop_literal(ctx, idx, EW__WEB_WEBSOCKET);
    return !duk_is_undefined(ctx, -1);
}

static duk_ret_t response_get_cf(duk_context *ctx)
{
    (void) ew__web_require_this(ctx, EW__KIND_RESPONSE);
    duk_get_prop_literal(ctx, -1, EW__WEB_CF);
    return 1;
}

/* clone(): same status, statusText, type, url, redirected, cf, guard; a copy of the header list; the same body bytes. */
static duk_ret_t response_clone(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_RESPONSE);
    duk_idx_t self = duk_get_top_index(ctx);
    if (ew__body_is_used(ctx, self, state))
        return duk_type_error(ctx, "Body has already been used. It can only be used once. Use tee() first if "
                                   "you need to read it twice.");
    duk_idx_t copy = ew__web_push_instance(ctx, EW__PROTO_RESPONSE);
    ew__web_set_state(ctx, copy, state & ~(EW__STATE_USED | EW__STATE_LIST_MASK));
    EW__WEB_COPY_HIDDEN(ctx, self, copy, EW__WEB_STATUS_TEXT);
    EW__WEB_COPY_HIDDEN(ctx, self, copy, EW__WEB_CF);
    EW__WEB_COPY_HIDDEN(ctx, self, copy, EW__WEB_URL);
    ew__web_push_hlist(ctx, self, state);
    ew__headers_list_copy(ctx, -1);
    duk_put_prop_literal(ctx, copy, EW__WEB_HLIST);
    duk_pop(ctx);
    if (ew__body_push_shared(ctx, self))
        duk_put_prop_literal(ctx, copy, EW__WEB_BODY);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * JS names -> C functions (text/json/arrayBuffer/bytes, headers, body, bodyUsed: body.c)
 */

static const ew__method_t response_methods[] = {
    {"clone", response_clone, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__method_t response_statics[] = {
    {"error", response_error, 0, 0},
    {"json", response_json, 2, 1},
    {"redirect", response_redirect, 2, 1},
    {NULL, NULL, 0, 0},
};

static const ew__getter_t response_getters[] = {
    {"status", response_get_status},
    {"statusText", response_get_status_text},
    {"ok", response_get_ok},
    {"type", response_get_type},
    {"url", response_get_url},
    {"redirected", response_get_redirected},
    {"webSocket", response_get_web_socket},
    {"cf", response_get_cf},
    {NULL, NULL},
};

static const ew__class_t response_class = {
    .name = "Response",
    .ctor = response_ctor,
    .ctor_nargs = 2,
    .ctor_length = 0,
    .methods = response_methods,
    .getters = response_getters,
    .statics = response_statics,
    .proto_slot = EW__PROTO_RESPONSE,
};

/* Needs Request.prototype made first: the body mixin's functions are shared with it. */
void ew__response_init(duk_context *ctx, duk_idx_t global_idx)
{
    duk_idx_t proto = ew__web_def_class(ctx, global_idx, &response_class);
    ew__web_push_proto(ctx, EW__PROTO_REQUEST);
    ew__body_install(ctx, proto, -1);
    duk_pop_2(ctx);
}
