/*
 * body.c — the Fetch body mixin (https://fetch.spec.whatwg.org/#body-mixin) shared by Request and Response:
 * BodyInit extraction, text()/json()/arrayBuffer()/bytes(), bodyUsed, body, and the body storage, which the
 * rest of lib/web reads only through this file. Storage, in the owner's hidden EW__WEB_BODY (absent = null):
 *   - a string whose bytes are valid UTF-8 (a BMP string from script: stored as given, text() returns it);
 *   - a fixed buffer (C data, ArrayBuffer copies, strings with astral characters as real UTF-8);
 *   - a ReadableStream (lib/web/stream.h): one given as the body, or made from the bytes when script first
 *     reads .body (so requests that never touch .body never create a stream).
 * Stored bytes never change, so clone() shares them and arrayBuffer()/bytes() copy. A stream made from bytes
 * remembers them: while nobody has read or locked it, passing it on as a body (new Response(res.body, res))
 * or reading it with text() takes the bytes directly instead of pumping the stream. clone() of any other
 * stream body tees it.
 */
#include <string.h>

#include "formdata.h"
#include "internal.h"
#include "lazy.h"
#include "stream.h"
#include "url.h"

#define USED_MESSAGE "Body has already been used. It can only be used once. Use tee() first if you need to read it twice."

static const char *data_bytes(duk_context *ctx, duk_idx_t idx, duk_size_t *len)
{
    if (duk_is_string(ctx, idx))
        return duk_get_lstring(ctx, idx, len);
    return duk_get_buffer_data(ctx, idx, len);
}

#define LOCKED_MESSAGE "This ReadableStream is currently locked to a reader."
#define DISTURBED_MESSAGE "This ReadableStream is disturbed (has already been read from), and cannot be used as a body."

bool ew__body_is_stream(duk_context *ctx, duk_idx_t idx)
{
    return ew__stream_is_readable(ctx, idx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Extracting a body (constructors)
 */

/* ew__to_utf8 returns a buffer larger than the text when it transcodes; storage needs the exact size. */
void ew__body_push_utf8(duk_context *ctx, duk_idx_t idx)
{
    duk_dup(ctx, idx);
    size_t len;
    const char *s = ew__to_utf8(ctx, -1, &len);
    if (duk_is_string(ctx, -1))
        return;
    void *copy = duk_push_fixed_buffer(ctx, len);
    memcpy(copy, s, len);
    duk_remove(ctx, -2);
}

/* Content types made at run time (a Blob's type, a multipart boundary) are kept in the stash under this key
 * until the constructor pushes them (ew__body_push_type); *content_type then points at this marker. */
#define BODY_TYPE_KEY DUK_HIDDEN_SYMBOL("bT")
static const char dynamic_type[] = "";

static void set_dynamic_type(duk_context *ctx, const char **content_type)
{
    if (content_type == NULL || *content_type != NULL) {
        duk_pop(ctx);
        return;
    }
    duk_push_global_stash(ctx);
    duk_insert(ctx, -2);
    duk_put_prop_literal(ctx, -2, BODY_TYPE_KEY);
    duk_pop(ctx);
    *content_type = dynamic_type;
}

void ew__body_push_type(duk_context *ctx, const char *content_type)
{
    if (content_type != dynamic_type) {
        ew__web_push_static(ctx, content_type);
        return;
    }
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, BODY_TYPE_KEY);
    duk_del_prop_literal(ctx, -2, BODY_TYPE_KEY);
    duk_remove(ctx, -2);
}

/* The state object of a Blob or FormData (lib/js/blob.js) at idx, pushed, with its kind; 0 (nothing
 * pushed) for other values. */
enum { FORM_KIND_BLOB = 1, FORM_KIND_FORMDATA = 2 };
static int push_blob_state(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx))
        return 0;
    duk_get_prop_literal(ctx, idx, EW__LAZY_STATE_KEY);
    int kind = 0;
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "blob");
        duk_get_prop_literal(ctx, -2, "fd");
        kind = duk_get_int(ctx, -2) == 1 ? FORM_KIND_BLOB : duk_get_int(ctx, -1) == 1 ? FORM_KIND_FORMDATA : 0;
        duk_pop_2(ctx);
    }
    if (kind == 0)
        duk_pop(ctx);
    return kind;
}

/* Blob, FormData and URLSearchParams bodies: pushes the storage and returns true, or returns false. */
static bool extract_object(duk_context *ctx, duk_idx_t idx, const char **content_type)
{
    int kind = push_blob_state(ctx, idx);
    if (kind == FORM_KIND_BLOB) {
        duk_get_prop_literal(ctx, -1, "bytes");
        duk_size_t n = 0;
        const void *p = duk_get_buffer_data(ctx, -1, &n);
        void *copy = duk_push_fixed_buffer(ctx, n);
        if (n > 0)
            memcpy(copy, p, n);
        duk_get_prop_literal(ctx, -3, "type");
        if (duk_get_length(ctx, -1) > 0)
            set_dynamic_type(ctx, content_type);
        else
            duk_pop(ctx);
        duk_remove(ctx, -2);
        duk_remove(ctx, -2);
        return true;
    }
    if (kind == FORM_KIND_FORMDATA) {
        duk_pop(ctx);
        ew__formdata_push_encoded(ctx, idx);
        set_dynamic_type(ctx, content_type);
        return true;
    }
    if (ew__url_params_push_serialized(ctx, idx)) {
        if (content_type != NULL && *content_type == NULL)
            *content_type = "application/x-www-form-urlencoded;charset=UTF-8";
        return true;
    }
    return false;
}

bool ew__body_extract(duk_context *ctx, duk_idx_t idx, const char **content_type)
{
    idx = duk_require_normalize_index(ctx, idx);
    if (duk_is_null_or_undefined(ctx, idx))
        return false;
    if (duk_is_buffer_data(ctx, idx)) {
        duk_size_t len;
        const void *src = duk_get_buffer_data(ctx, idx, &len);
        void *copy = duk_push_fixed_buffer(ctx, len);
        if (len > 0)
            memcpy(copy, src, len);
        return true;
    }
    if (ew__body_is_stream(ctx, idx)) {
        if (ew__stream_is_disturbed(ctx, idx))
            (void) duk_type_error(ctx, DISTURBED_MESSAGE);
        if (ew__stream_is_locked(ctx, idx))
            (void) duk_type_error(ctx, LOCKED_MESSAGE);
        if (!ew__stream_push_bytes(ctx, idx, true)) /* a stream of known bytes: keep just the bytes */
            duk_dup(ctx, idx);
        return true;
    }
    if (extract_object(ctx, idx, content_type))
        return true;
    /* Strings, and (WebIDL union fallback) any other value through ToString (ew__body_push_utf8). */
    ew__body_push_utf8(ctx, idx);
    if (content_type != NULL && *content_type == NULL)
        *content_type = "text/plain;charset=UTF-8";
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading the storage (clone, transfer, C export)
 */

bool ew__body_is_used(duk_context *ctx, duk_idx_t obj_idx, uint32_t state)
{
    if (state & EW__STATE_USED)
        return true;
    duk_get_prop_literal(ctx, obj_idx, EW__WEB_BODY);
    bool used = ew__stream_is_disturbed(ctx, -1);
    duk_pop(ctx);
    return used;
}

bool ew__body_push_shared(duk_context *ctx, duk_idx_t obj_idx)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    duk_get_prop_literal(ctx, obj_idx, EW__WEB_BODY);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        return false;
    }
    if (!ew__body_is_stream(ctx, -1))
        return true;
    if (ew__stream_push_bytes(ctx, -1, false)) { /* untouched bytes: share them, keep the stream */
        duk_remove(ctx, -2);
        return true;
    }
    /* Any other stream is teed: the owner keeps branch 1, the clone gets branch 2. */
    ew__stream_push_tee(ctx, -1);
    duk_remove(ctx, -3);
    duk_insert(ctx, -2);
    duk_put_prop_literal(ctx, obj_idx, EW__WEB_BODY);
    return true;
}

bool ew__body_take(duk_context *ctx, duk_idx_t obj_idx)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    duk_get_prop_literal(ctx, obj_idx, EW__WEB_BODY);
    return ew__body_take_pushed(ctx, obj_idx, ew__web_state(ctx, obj_idx));
}

bool ew__body_take_pushed(duk_context *ctx, duk_idx_t obj_idx, uint32_t state)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        return false; /* a null body is never "used" (Fetch: bodyUsed needs a body) */
    }
    ew__web_set_state(ctx, obj_idx, state | EW__STATE_USED);
    if (ew__body_is_stream(ctx, -1)) {
        /* Keep the stream (script may hold it: it must read as disturbed); hand over its bytes when it is
         * one of known bytes, else the stream itself, which the caller reads. */
        if (ew__stream_push_bytes(ctx, -1, true))
            duk_remove(ctx, -2);
    } else {
        duk_del_prop_literal(ctx, obj_idx, EW__WEB_BODY); /* frees the bytes as soon as the caller is done */
    }
    return true;
}

const void *ew__body_bytes(duk_context *ctx, duk_idx_t data_idx, size_t *len)
{
    duk_size_t n = 0;
    const void *p = data_bytes(ctx, data_idx, &n);
    *len = (size_t) n;
    return p;
}

/* ---------------------------------------------------------------------------------------------------------
 * text() / json() / arrayBuffer() / bytes()
 */

typedef enum consume_mode { READ_TEXT, READ_JSON, READ_ARRAY_BUFFER, READ_BYTES, READ_BLOB, READ_FORM } consume_mode_t;

/* Pushes the owner's Content-Type header value (its first one), or undefined. */
static void push_content_type(duk_context *ctx, duk_idx_t self)
{
    ew__web_push_hlist(ctx, self, ew__web_state(ctx, self));
    duk_size_t n = duk_is_array(ctx, -1) ? duk_get_length(ctx, -1) : 0;
    for (duk_size_t i = 0; i + 1 < n; i += 2) {
        duk_get_prop_index(ctx, -1, (duk_uarridx_t) i);
        bool hit = duk_is_string(ctx, -1) && strcmp(duk_get_string(ctx, -1), "content-type") == 0;
        duk_pop(ctx);
        if (hit) {
            duk_get_prop_index(ctx, -1, (duk_uarridx_t) i + 1);
            duk_remove(ctx, -2);
            return;
        }
    }
    duk_pop(ctx);
    duk_push_undefined(ctx);
}

/* Pushes the UTF-8 decoding of the data at idx (U+FFFD for invalid bytes, a leading BOM dropped, as
 * "UTF-8 decode" does); stored strings come back as they are. */
static void push_text(duk_context *ctx, duk_idx_t idx)
{
    duk_size_t len;
    const char *p = data_bytes(ctx, idx, &len);
    bool bom = len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0;
    if (duk_is_string(ctx, idx) && !bom)
        duk_dup(ctx, idx);
    else if (bom)
        ew__push_utf8(ctx, p + 3, len - 3);
    else
        ew__push_utf8(ctx, p, len);
}

/* Pushes the result of reading the bytes at data (a storage value or a Uint8Array) in the given mode; type
 * is the Content-Type value (or undefined) for blob() and formData(). */
static void push_converted(duk_context *ctx, duk_idx_t data, consume_mode_t mode, duk_idx_t type)
{
    data = duk_require_normalize_index(ctx, data);
    type = duk_require_normalize_index(ctx, type);
    if (mode == READ_FORM) {
        if (!duk_is_string(ctx, type))
            (void) duk_type_error(ctx, "Parsing a Body as FormData requires a Content-Type header.");
        duk_size_t len, tlen;
        const char *p = data_bytes(ctx, data, &len);
        const char *t = duk_get_lstring(ctx, type, &tlen);
        ew__formdata_push_parsed(ctx, p, len, t, tlen);
        return;
    }
    if (mode == READ_BLOB) {
        ew__lazy_push(ctx, EW__LAZY_BLOB, "_newBlob");
        duk_size_t len;
        const char *p = data_bytes(ctx, data, &len);
        void *copy = duk_push_fixed_buffer(ctx, len);
        if (len > 0)
            memcpy(copy, p, len);
        duk_push_buffer_object(ctx, -1, 0, len, DUK_BUFOBJ_UINT8ARRAY);
        duk_remove(ctx, -2);
        if (duk_is_string(ctx, type))
            duk_dup(ctx, type);
        else
            duk_push_literal(ctx, "");
        duk_call(ctx, 2);
        return;
    }
    if (mode == READ_TEXT || mode == READ_JSON) {
        push_text(ctx, data);
        if (mode == READ_JSON)
            duk_json_decode(ctx, -1);
        return;
    }
    duk_size_t len;
    const char *p = data_bytes(ctx, data, &len);
    void *copy = duk_push_fixed_buffer(ctx, len);
    if (len > 0)
        memcpy(copy, p, len);
    duk_push_buffer_object(ctx, -1, 0, len, mode == READ_BYTES ? DUK_BUFOBJ_UINT8ARRAY : DUK_BUFOBJ_ARRAYBUFFER);
    duk_remove(ctx, -2);
}

/* Reaction to a stream body fully read: (bytes) -> result; the mode is the function's magic. */
static duk_ret_t on_stream_read(duk_context *ctx)
{
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, BODY_TYPE_KEY);
    push_converted(ctx, 0, (consume_mode_t) duk_get_current_magic(ctx), -1);
    return 1;
}

/* Safe-call body: [this] -> [result]. Everything that can go wrong rejects the promise (WebIDL converts
 * exceptions of promise-returning operations into rejections). A stream body gives a promise as result. */
static duk_ret_t consume(duk_context *ctx, void *udata)
{
    consume_mode_t mode = (consume_mode_t) (uintptr_t) udata;
    duk_idx_t self = duk_get_top_index(ctx);
    uint32_t state = ew__web_state(ctx, self);
    if ((state & EW__STATE_KIND_MASK) == 0)
        return duk_type_error(ctx, "Illegal invocation: this is not a Request or a Response");
    if (ew__body_is_used(ctx, self, state))
        return duk_type_error(ctx, USED_MESSAGE);
    duk_get_prop_literal(ctx, self, EW__WEB_BODY);
    bool locked = ew__stream_is_locked(ctx, -1);
    duk_pop(ctx);
    if (locked)
        return duk_type_error(ctx, LOCKED_MESSAGE);
    push_content_type(ctx, self);
    duk_idx_t type = duk_get_top_index(ctx);
    if (!ew__body_take(ctx, self))
        duk_push_fixed_buffer(ctx, 0);
    duk_idx_t data = duk_get_top_index(ctx);
    if (ew__body_is_stream(ctx, data)) {
        ew__stream_push_read_all(ctx, data);
        duk_push_literal(ctx, "then");
        duk_push_c_function(ctx, on_stream_read, 1);
        duk_set_magic(ctx, -1, (int) mode);
        duk_dup(ctx, type);
        duk_put_prop_literal(ctx, -2, BODY_TYPE_KEY);
        duk_call_prop(ctx, -3, 1);
        return 1;
    }
    push_converted(ctx, data, mode, type);
    return 1;
}

static duk_ret_t read_body(duk_context *ctx, consume_mode_t mode)
{
    duk_push_this(ctx);
    if (duk_safe_call(ctx, consume, (void *) (uintptr_t) mode, 1, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        ew__promise_push_rejected(ctx);
        return 1;
    }
    ew__promise_push_resolved(ctx);
    return 1;
}

static duk_ret_t body_text(duk_context *ctx) { return read_body(ctx, READ_TEXT); }
static duk_ret_t body_json(duk_context *ctx) { return read_body(ctx, READ_JSON); }
static duk_ret_t body_array_buffer(duk_context *ctx) { return read_body(ctx, READ_ARRAY_BUFFER); }
static duk_ret_t body_bytes(duk_context *ctx) { return read_body(ctx, READ_BYTES); }
static duk_ret_t body_blob(duk_context *ctx) { return read_body(ctx, READ_BLOB); }
static duk_ret_t body_form_data(duk_context *ctx) { return read_body(ctx, READ_FORM); }

/* ---------------------------------------------------------------------------------------------------------
 * Accessors shared by Request and Response
 */

static duk_ret_t body_get_used(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_REQUEST | EW__KIND_RESPONSE);
    duk_push_boolean(ctx, ew__body_is_used(ctx, -1, state));
    return 1;
}

/* .body: null for a null body; otherwise a ReadableStream, made from the stored bytes on first access and
 * kept as the storage (the same object every time). After the body was read it is a disturbed stream. */
static duk_ret_t body_get_body(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_REQUEST | EW__KIND_RESPONSE);
    duk_idx_t self = duk_get_top_index(ctx);
    duk_get_prop_literal(ctx, self, EW__WEB_BODY);
    if (ew__body_is_stream(ctx, -1))
        return 1;
    if (duk_is_undefined(ctx, -1) && !(state & EW__STATE_USED)) {
        duk_push_null(ctx);
        return 1;
    }
    if (duk_is_undefined(ctx, -1)) { /* read already: a disturbed stream */
        duk_pop(ctx);
        duk_push_fixed_buffer(ctx, 0);
        ew__stream_push_from_bytes(ctx, -1);
        (void) ew__stream_push_bytes(ctx, -1, true);
        duk_pop(ctx);
    } else {
        ew__stream_push_from_bytes(ctx, -1);
    }
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, self, EW__WEB_BODY);
    return 1;
}

/* .headers: the Headers wrapper over the owner's list, made on first access (headers.c). */
static duk_ret_t body_get_headers(duk_context *ctx)
{
    uint32_t state = ew__web_require_this(ctx, EW__KIND_REQUEST | EW__KIND_RESPONSE);
    duk_idx_t self = duk_get_top_index(ctx);
    duk_get_prop_literal(ctx, self, EW__WEB_HEADERS);
    if (!duk_is_undefined(ctx, -1))
        return 1;
    if ((state & EW__STATE_PACKED) && ew__request_push_packed(ctx, self)) {
        ew__headers_push_packed_wrapper(ctx, -1); /* a request from C: get/has read the bytes */
    } else {
        ew__web_push_hlist(ctx, self, state);
        ew__headers_push_wrapper(ctx, -1, (state & EW__STATE_IMMUTABLE) != 0);
    }
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, self, EW__WEB_HEADERS);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * JS names -> C functions. Request.prototype and Response.prototype share these function objects (one
 * set per heap instead of two).
 */

static const ew__method_t body_methods[] = {
    {"arrayBuffer", body_array_buffer, 0, 0},
    {"blob", body_blob, 0, 0},
    {"bytes", body_bytes, 0, 0},
    {"formData", body_form_data, 0, 0},
    {"json", body_json, 0, 0},
    {"text", body_text, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__getter_t body_getters[] = {
    {"headers", body_get_headers},
    {"body", body_get_body},
    {"bodyUsed", body_get_used},
    {NULL, NULL},
};

/* Defines the mixin on the prototype at proto_idx: fresh functions when from_idx is DUK_INVALID_INDEX,
 * otherwise the same function objects as the prototype at from_idx. */
void ew__body_install(duk_context *ctx, duk_idx_t proto_idx, duk_idx_t from_idx)
{
    proto_idx = duk_require_normalize_index(ctx, proto_idx);
    if (from_idx == DUK_INVALID_INDEX) {
        ew__def_methods(ctx, proto_idx, body_methods);
        for (const ew__getter_t *g = body_getters; g->name != NULL; g++)
            ew__def_getter(ctx, proto_idx, g->name, g->get, NULL);
        return;
    }
    from_idx = duk_require_normalize_index(ctx, from_idx);
    for (const ew__method_t *m = body_methods; m->name != NULL; m++) {
        duk_get_prop_string(ctx, from_idx, m->name);
        ew__def_hidden_value(ctx, proto_idx, m->name);
    }
    for (const ew__getter_t *g = body_getters; g->name != NULL; g++) {
        duk_push_string(ctx, g->name); /* the key for duk_def_prop */
        duk_push_string(ctx, g->name); /* replaced by the descriptor */
        duk_get_prop_desc(ctx, from_idx, 0);
        duk_get_prop_literal(ctx, -1, "get");
        duk_remove(ctx, -2);
        duk_def_prop(ctx, proto_idx, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE |
                                         DUK_DEFPROP_SET_CONFIGURABLE);
    }
}

/* Nothing per heap yet: streams load on first use (lib/web/stream.c). */
void ew__body_init(duk_context *ctx)
{
    (void) ctx;
}
