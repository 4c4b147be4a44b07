/*
 * web.c — installs the Fetch types (Headers, Request, Response) in a heap, and the few helpers their
 * files share: the prototype registry in the heap stash, brand checks, class setup, HTTP byte classes.
 *
 * lib/core/isolate.c calls ew__web_init() once per heap, after Promise. Each class file defines its
 * constructor and prototype through web_def_class() and keeps no C state: everything per heap lives in the
 * heap (the stash holds the prototypes, so C code can make instances without looking at globals that a
 * script may have replaced). lib/web/internal.h describes the object layouts.
 */
#include <string.h>

#include "core/isolate.h"
#include "crypto.h"
#include "encoding.h"
#include "internal.h"
#include "lazy.h"
#include "net/http1.h"
#include "stream.h"
#include "url.h"

void ew__web_init(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    duk_push_array(ctx);
    duk_put_prop_literal(ctx, -2, EW__WEB_PROTO_KEY);
    duk_pop(ctx);

    duk_push_global_object(ctx);
    duk_idx_t global = duk_get_top_index(ctx);
    duk_get_prop_literal(ctx, global, "Array");
    ew__web_register_proto(ctx, -1, EW__PROTO_ARRAY_CTOR);
    duk_pop(ctx);
    ew__headers_init(ctx, global);
    ew__body_init(ctx);
    ew__request_init(ctx, global);
    ew__response_init(ctx, global);
    ew__url_init(ctx, global);
    ew__domexception_init(ctx, global);
    ew__encoding_init(ctx, global);
    ew__crypto_init(ctx, global);
    ew__lazy_init(ctx, global);
    ew__websocket_init(ctx, global);
    ew__clone_init(ctx, global);
    ew__globals_init(ctx, global);
    ew__stream_init(ctx, global);
    ew__fetch_init(ctx, global);
    duk_pop(ctx);
}

/* The stash's array keeps the prototypes alive; the isolate keeps their heap pointers so that making an
 * instance costs no stash lookup (~1.2k instructions each). Bare test heaps have no isolate. */
void ew__web_push_proto(duk_context *ctx, ew__proto_t which)
{
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && (unsigned) which < EW__WEB_PROTO_SLOTS && iso->web_protos[which] != NULL) {
        duk_push_heapptr(ctx, iso->web_protos[which]);
        return;
    }
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, EW__WEB_PROTO_KEY);
    duk_get_prop_index(ctx, -1, (duk_uarridx_t) which);
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

void ew__web_push_array(duk_context *ctx, duk_uarridx_t n)
{
    if (n == 0) {
        duk_push_array(ctx);
        return;
    }
    ew__web_push_proto(ctx, EW__PROTO_ARRAY_CTOR);
    duk_push_uint(ctx, n);
    duk_call(ctx, 1);
}

void ew__web_pack(duk_context *ctx, duk_idx_t count)
{
    ew__web_push_proto(ctx, EW__PROTO_ARRAY_CTOR);
    duk_insert(ctx, -1 - count);
    duk_call(ctx, count);
}

duk_idx_t ew__web_push_instance(duk_context *ctx, ew__proto_t which)
{
    duk_idx_t idx = duk_push_object(ctx);
    ew__web_push_proto(ctx, which);
    duk_set_prototype(ctx, idx);
    return idx;
}

/* Constructors follow the JS class protocol: `new` is required, and the instance is `this` (made by the
 * engine from new.target's prototype), so a subclass made through Reflect.construct-style lowering works. */
duk_idx_t ew__web_construct_this(duk_context *ctx, const char *class_name)
{
    if (!duk_is_constructor_call(ctx))
        (void) duk_type_error(ctx, "Class constructor %s cannot be invoked without 'new'", class_name);
    duk_push_this(ctx);
    return duk_get_top_index(ctx);
}

duk_idx_t ew__web_def_class(duk_context *ctx, duk_idx_t global_idx, const ew__class_t *cls)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    duk_push_c_function(ctx, cls->ctor, cls->ctor_nargs);
    duk_idx_t ctor = duk_get_top_index(ctx);
    duk_push_literal(ctx, "name");
    duk_push_string(ctx, cls->name);
    duk_def_prop(ctx, ctor, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "length");
    duk_push_int(ctx, cls->ctor_length);
    duk_def_prop(ctx, ctor, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);

    duk_idx_t proto = duk_push_object(ctx);
    duk_dup(ctx, ctor);
    ew__def_hidden_value(ctx, proto, "constructor");
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.toStringTag"));
    duk_push_string(ctx, cls->name);
    duk_def_prop(ctx, proto, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE);
    if (cls->methods != NULL)
        ew__def_methods(ctx, proto, cls->methods);
    for (const ew__getter_t *g = cls->getters; g != NULL && g->name != NULL; g++)
        ew__def_getter(ctx, proto, g->name, g->get, NULL);

    duk_push_literal(ctx, "prototype");
    duk_dup(ctx, proto);
    duk_def_prop(ctx, ctor, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_CLEAR_WEC);
    if (cls->statics != NULL)
        ew__def_methods(ctx, ctor, cls->statics);

    ew__web_register_proto(ctx, proto, cls->proto_slot);
    duk_dup(ctx, ctor);
    ew__def_hidden_value(ctx, global_idx, cls->name);
    duk_remove(ctx, ctor);
    return duk_get_top_index(ctx);
}

void ew__web_register_proto(duk_context *ctx, duk_idx_t proto_idx, ew__proto_t slot)
{
    proto_idx = duk_require_normalize_index(ctx, proto_idx);
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, EW__WEB_PROTO_KEY);
    duk_dup(ctx, proto_idx);
    duk_put_prop_index(ctx, -2, (duk_uarridx_t) slot);
    duk_pop_2(ctx);
    ew__isolate_t *iso = ew__isolate_of(ctx);
    if (iso != NULL && (unsigned) slot < EW__WEB_PROTO_SLOTS)
        iso->web_protos[slot] = duk_get_heapptr(ctx, proto_idx); /* the stash's array keeps it */
}

/* ---------------------------------------------------------------------------------------------------------
 * HTTP byte classes (RFC 9110): token characters for names and methods, whitespace for trimming.
 */

static const uint8_t token_chars[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

void ew__web_push_static(duk_context *ctx, const char *s)
{
#if defined(DUK_USE_PREFER_SIZE)
    duk_push_string(ctx, s);
#else
    duk_push_literal_raw(ctx, s, strlen(s));
#endif
}

bool ew__http_is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!token_chars[(unsigned char) s[i]])
            return false;
    }
    return true;
}

bool ew__http_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---------------------------------------------------------------------------------------------------------
 * Instance state (the EW__WEB_STATE integer) and brand checks
 */

uint32_t ew__web_state(duk_context *ctx, duk_idx_t obj_idx)
{
    if (!duk_is_object(ctx, obj_idx))
        return 0;
    duk_get_prop_literal(ctx, obj_idx, EW__WEB_STATE);
    uint32_t state = (uint32_t) duk_get_uint_default(ctx, -1, 0);
    duk_pop(ctx);
    return state;
}

void ew__web_set_state(duk_context *ctx, duk_idx_t obj_idx, uint32_t state)
{
    obj_idx = duk_require_normalize_index(ctx, obj_idx);
    duk_push_uint(ctx, state);
    duk_put_prop_literal(ctx, obj_idx, EW__WEB_STATE);
}

void ew__web_push_hlist(duk_context *ctx, duk_idx_t self, uint32_t state)
{
    self = duk_require_normalize_index(ctx, self);
    if (state & EW__STATE_PACKED) {
        ew__request_unpack(ctx, self);
    } else if ((state & EW__KIND_RESPONSE) && (state & EW__STATE_LIST_MASK)) {
        const char *type = ew__response_list_type((state & EW__STATE_LIST_MASK) >> EW__STATE_LIST_SHIFT);
        if (type != NULL) {
            duk_push_literal(ctx, "content-type");
            ew__web_push_static(ctx, type);
            ew__web_pack(ctx, 2);
        } else {
            duk_push_array(ctx);
        }
        duk_put_prop_literal(ctx, self, EW__WEB_HLIST);
        ew__web_set_state(ctx, self, state & ~EW__STATE_LIST_MASK);
    }
    duk_get_prop_literal(ctx, self, EW__WEB_HLIST);
}

uint32_t ew__web_require_this(duk_context *ctx, uint32_t kinds)
{
    duk_push_this(ctx);
    uint32_t state = ew__web_state(ctx, -1);
    if ((state & kinds & EW__STATE_KIND_MASK) == 0)
        (void) duk_type_error(ctx, "Illegal invocation: this is not a %s",
                              kinds == EW__KIND_REQUEST ? "Request" : kinds == EW__KIND_RESPONSE ? "Response"
                                                                                                 : "Request or Response");
    return state;
}

/* ---------------------------------------------------------------------------------------------------------
 * URLs: Request and Response.redirect keep the WHATWG serialization of the URL they were given (url.c).
 */

bool ew__web_push_url(duk_context *ctx, duk_idx_t idx)
{
    size_t len;
    const char *s = ew__to_utf8(ctx, idx, &len);
    ew__url_t u;
    if (!ew__url_parse(s, len, NULL, &u))
        return false;
    duk_push_lstring(ctx, u.href, u.len);
    ew__url_dispose(&u);
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reason phrases (RFC 9110 section 15), what Workers return as statusText when none was given.
 */

const char *ew__web_reason_phrase(int status)
{
    /* One table for the whole library: lib/net's. Unknown codes give "" here, as workerd's statusText. */
    const char *phrase = ew__h1_reason_phrase(status);
    return strcmp(phrase, "Unknown") == 0 ? "" : phrase;
}

/* ---------------------------------------------------------------------------------------------------------
 * Table of this module's JS surface: see headers.c, request.c, response.c and body.c; each ends with its
 * own table. ew__web_init() installs, in order:
 *
 *   Headers                  headers.c   (and the "Headers Iterator" prototype)
 *   Request                  request.c   (body methods from body.c)
 *   Response                 response.c  (body methods from body.c)
 *   ReadableStream & co.     stream.c    lazy globals: lib/js/streams.js loads on first use
 */
