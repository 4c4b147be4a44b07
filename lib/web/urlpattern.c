/*
 * urlpattern.c — URLPattern (the URL Pattern Standard). The pattern machinery (tokenizer, parsers, regular
 * expression generation, matching) is lib/js/urlpattern.js; this file gives it what only C has — the URL
 * parser's state overrides for canonicalizing components (url_parse.c: ew__url_canon) and Unicode identifier
 * classes for group names (lib/compile/unicode_id.c).
 *
 * Most Workers never use URLPattern, and its JS costs tens of KB per heap: lib/web/lazy.c installs it like
 * its other lazy globals (an accessor until first use), and its shared native object carries these two
 * functions as urlCanon and isNameCodePoint.
 */
#include <string.h>

#include "compile/internal.h" /* ew__uni_id_start / ew__uni_id_continue: the ECMAScript identifier classes */
#include "internal.h"
#include "url.h"

/* canon(kind, value[, protocol]) -> the canonical string; throws TypeError when the URL parser refuses it. */
duk_ret_t ew__urlpattern_canon(duk_context *ctx)
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
duk_ret_t ew__urlpattern_is_name(duk_context *ctx)
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
