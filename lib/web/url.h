/*
 * lib/web/url.h — the WHATWG URL parser of lib/web (url_parse.c, url_idna.c) as a C API, for the URL and
 * URLSearchParams classes (url.c) and the rest of the library (request.c: request URLs).
 *
 * A parsed URL is one serialized buffer (its href, always ASCII) plus offsets of its components, like Ada's
 * url_aggregator: getters are slices, and a URL costs one allocation. Thread-safe: the parser keeps its work
 * buffers per thread.
 */
#ifndef EW_WEB_URL_H
#define EW_WEB_URL_H

#include "core/internal.h"

/* Scheme kinds: the special schemes of the URL Standard, and everything else. */
typedef enum ew__url_scheme {
    EW__SCHEME_OTHER = 0,
    EW__SCHEME_HTTP,
    EW__SCHEME_HTTPS,
    EW__SCHEME_WS,
    EW__SCHEME_WSS,
    EW__SCHEME_FTP,
    EW__SCHEME_FILE
} ew__url_scheme_t;

/* Flags of ew__url_t.flags. */
#define EW__URL_HAS_HOST 0x1u    /* the host is not null (it may be the empty host) */
#define EW__URL_OPAQUE_PATH 0x2u /* "mailto:x", "data:...": the path is an opaque string */
#define EW__URL_HAS_QUERY 0x4u   /* the query is not null (it may be empty: "?") */
#define EW__URL_HAS_HASH 0x8u    /* the fragment is not null (it may be empty: "#") */

/* A parsed URL. Every offset indexes href; a component is href[start, end). */
typedef struct ew__url {
    char *href;            /* malloc'd serialization, NUL-terminated, ASCII; freed by ew__url_dispose */
    uint32_t len;          /* bytes of href, without the NUL */
    uint32_t scheme_end;   /* scheme is href[0, scheme_end); href[scheme_end] == ':' */
    uint32_t user_start, user_end; /* username, percent-encoded (empty when equal) */
    uint32_t pass_start, pass_end; /* password, percent-encoded (empty when equal) */
    uint32_t host_start, host_end; /* serialized host ("[::1]" for IPv6); empty when null or the empty host */
    int32_t port;          /* port number, -1 when null (the scheme's default port is stored as null) */
    uint32_t path_start, path_end; /* path as serialized ("/a/b", or the opaque path) */
    uint32_t query_start;  /* index of '?' when EW__URL_HAS_QUERY (query = href[query_start + 1, query_end)) */
    uint32_t query_end;
    uint32_t hash_start;   /* index of '#' when EW__URL_HAS_HASH (fragment runs to len) */
    uint8_t scheme;        /* ew__url_scheme_t */
    uint8_t flags;         /* EW__URL_* flags above */
} ew__url_t;

/* Parts a setter changes (the URL class's setters, with their exact semantics). */
typedef enum ew__url_part {
    EW__URL_PROTOCOL,
    EW__URL_USERNAME,
    EW__URL_PASSWORD,
    EW__URL_HOST,
    EW__URL_HOSTNAME,
    EW__URL_PORT,
    EW__URL_PATHNAME,
    EW__URL_SEARCH,
    EW__URL_HASH,
    EW__URL_HREF /* getter only */
} ew__url_part_t;

/* The URL Pattern Standard's canonicalization of one component (its "encoding callbacks"), done with the
 * parser's state overrides on the dummy URL https://dummy.invalid/. `protocol` (plen bytes, may be NULL) is
 * the scheme a port is canonicalized for (default ports become ""). Writes the result to `out` (cleared
 * first) and returns 1, or 0 when the parser refuses the value (URLPattern throws a TypeError), -1 when
 * memory ran out. */
typedef enum ew__url_canon {
    EW__CANON_PROTOCOL,
    EW__CANON_USERNAME,
    EW__CANON_PASSWORD,
    EW__CANON_HOSTNAME,
    EW__CANON_PORT,
    EW__CANON_PATHNAME,
    EW__CANON_OPAQUE_PATHNAME,
    EW__CANON_SEARCH,
    EW__CANON_HASH
} ew__url_canon_t;
int ew__url_canon(ew__url_canon_t kind, const char *value, size_t len, const char *protocol, size_t plen,
                  ew__buf_t *out);
/* Parses `len` bytes of UTF-8 `input` (the URL Standard's basic URL parser; leading/trailing C0 controls and
 * spaces and every tab/newline are ignored) against `base` (NULL = none). On success fills *out (whose href
 * the caller frees with ew__url_dispose) and returns true; on failure returns false and *out is zeroed.
 * Invalid UTF-8 bytes are percent-encoded as they are (JS strings always arrive as valid UTF-8). */
bool ew__url_parse(const char *input, size_t len, const ew__url_t *base, ew__url_t *out);
/* The same without the fast path for canonical http(s) URLs (url_parse.c): for tests comparing the two. */
bool ew__url_parse_full(const char *input, size_t len, const ew__url_t *base, ew__url_t *out);
/* A getter's value (every part but origin) as the slice href[*start, *start + *len). */
void ew__url_get(const ew__url_t *url, ew__url_part_t part, uint32_t *start, uint32_t *len);
/* Frees url->href and zeroes the struct; safe on a zeroed struct. */
void ew__url_dispose(ew__url_t *url);
/* Applies a URL setter (href excepted: parse anew) to `url` in place. Returns false only when memory ran
 * out; a value the setter ignores (the spec's "return") leaves the URL as it was and returns true. */
bool ew__url_set(ew__url_t *url, ew__url_part_t part, const char *value, size_t len);
/* Appends the ASCII serialization of the URL's origin ("null" for opaque origins) to out. */
bool ew__url_origin(const ew__url_t *url, ew__buf_t *out);
/* Default port of a scheme kind, -1 when none. */
int ew__url_default_port(ew__url_scheme_t scheme);

/* application/x-www-form-urlencoded (URLSearchParams): appends the serialization of `s` (bytes percent-encoded
 * with the form set, space as '+'), or the percent-decoding of `s` with '+' as space when `decode`. */
bool ew__url_form_append(ew__buf_t *out, const char *s, size_t len, bool decode);

/* url_idna.c: the URL Standard's "domain to ASCII" (beStrict false) of UTF-8 `in`, appended to out. Returns
 * false (out unchanged) on failure, an empty result included. */
bool ew__url_domain_to_ascii(const char *in, size_t len, ew__buf_t *out);

/* url.c: installs URL and URLSearchParams on the global object at global_idx (after ew__web_init's own
 * classes). */
void ew__url_init(duk_context *ctx, duk_idx_t global_idx);
/* urlpattern.c: the natives lib/js/urlpattern.js needs (lib/web/lazy.c loads it on first use of URLPattern):
 * urlCanon(kind, value[, protocol]) -> the canonical component (TypeError when refused), and
 * isNameCodePoint(cp, first). */
duk_ret_t ew__urlpattern_canon(duk_context *ctx);
duk_ret_t ew__urlpattern_is_name(duk_context *ctx);

/* For bodies (lib/web/body.c, formdata.c): pushes the list [name0, value0, ...] parsed from
 * application/x-www-form-urlencoded bytes; and, if the value at idx is a URLSearchParams, pushes its
 * serialization and returns true (else pushes nothing). Both may throw (allocation). */
void ew__url_push_form_list(duk_context *ctx, const char *s, size_t len);
bool ew__url_params_push_serialized(duk_context *ctx, duk_idx_t idx);

#endif /* EW_WEB_URL_H */
