/*
 * urlpattern.c — URLPattern (the URL Pattern Standard). The pattern machinery (tokenizer, parsers, regular
 * expression generation, matching) is lib/js/urlpattern.js; this file gives it what only C has — the URL
 * parser's state overrides for canonicalizing components (url_parse.c: ew__url_canon) and Unicode identifier
 * classes for group names (lib/compile/unicode_id.c) — and installs the global lazily.
 *
 * Most Workers never use URLPattern, and its JS costs tens of KB per heap, so `URLPattern` starts as an
 * accessor on the global object: the first read loads urlpattern.js and replaces the accessor with the
 * constructor (a plain writable, non-enumerable property like the other globals); an assignment before that
 * just stores the value.
 */
#include <string.h>

#include "compile/internal.h" /* ew__uni_id_start / ew__uni_id_continue: the ECMAScript identifier classes */
#include "internal.h"
#include "js/js_bytecode.h"
#include "url.h"

/* canon(kind, value[, protocol]) -> the canonical string; throws TypeError when the URL parser refuses it. */
static duk_ret_t up_canon(duk_context *ctx)
{
    duk_int_t kind = duk_require_int(ctx, 0);
    if (kind < EW__CANON_PROTOCOL || kind > EW__CANON_HASH)
        return duk_range_error(ctx, "bad canonicalization kind");
    size_t len, plen = 0;
    const char *protocol = NULL;
    if (!duk_is_undefined(ctx, 2))
        protocol = ew__to_utf8(ctx, 2, &plen);
    const char *value = ew__to_utf8(ctx, 1, &len);
    ew__buf_t out = {0};
    int rc = ew__url_canon((ew__url_canon_t) kind, value, len, protocol, plen, &out);
    if (rc < 0) {
        free(out.data);
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
    }
    if (rc == 0) {
        free(out.data);
        return duk_type_error(ctx, "Invalid URL pattern component: '%s'", value);
    }
    ew__push_utf8(ctx, out.data != NULL ? (const char *) out.data : "", out.len);
    free(out.data);
    return 1;
}

/* isNameCodePoint(cp, first) -> whether cp may start (first) or continue a group name. */
static duk_ret_t up_is_name(duk_context *ctx)
{
    uint32_t cp = (uint32_t) duk_require_uint(ctx, 0);
    bool first = duk_to_boolean(ctx, 1);
    bool ok;
    if (cp < 0x80) {
        ok = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '$' || cp == '_' ||
             (!first && cp >= '0' && cp <= '9');
    } else {
        ok = first ? ew__uni_id_start(cp) : ew__uni_id_continue(cp) || cp == 0x200c || cp == 0x200d;
    }
    duk_push_boolean(ctx, ok);
    return 1;
}

static const ew__method_t natives[] = {
    {"canon", up_canon, 3, 3},
    {"isNameCodePoint", up_is_name, 2, 2},
    {NULL, NULL, 0, 0},
};

/* Defines global.URLPattern as a plain data property holding the value on top (popped). */
static void define_global(duk_context *ctx)
{
    duk_push_global_object(ctx);
    duk_push_literal(ctx, "URLPattern");
    duk_dup(ctx, -3);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                              DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
    duk_pop_2(ctx);
}

static duk_ret_t lazy_get(duk_context *ctx)
{
    duk_push_external_buffer(ctx);
    duk_config_buffer(ctx, -1, (void *) ew__js_urlpattern, ew__js_urlpattern_len);
    duk_load_function(ctx);
    duk_push_object(ctx);
    ew__def_methods(ctx, -1, natives);
    duk_push_global_object(ctx);
    duk_call(ctx, 2); /* -> the URLPattern constructor */
    duk_dup_top(ctx);
    define_global(ctx);
    return 1;
}

static duk_ret_t lazy_set(duk_context *ctx)
{
    duk_dup(ctx, 0);
    define_global(ctx);
    return 0;
}

void ew__urlpattern_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    duk_push_literal(ctx, "URLPattern");
    duk_push_c_function(ctx, lazy_get, 0);
    duk_push_c_function(ctx, lazy_set, 1);
    duk_def_prop(ctx, global_idx, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
                                      DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
}
