/*
 * builtin_misc.c — the entry point of the ES2015+ library layer (ew__builtins_init, called by setup_runtime
 * before ew__promise_init) and the smaller additions: Symbol.asyncIterator, Symbol.species and the other
 * missing well-known symbols in Duktape's well-known form, Symbol.prototype.description, the `cause` option
 * of the Error constructors, and Date.parse / new Date(string) for the HTTP date formats (RFC 1123, RFC 850,
 * asctime) that Duktape rejects.
 * Also the helpers that define built-in functions from tables for all builtin_*.c files.
 *
 * Error and Date are replaced by native wrappers that construct through the engine's own constructor and
 * then adjust the result, so errors the engine throws, instanceof, prototypes and .name stay as they were
 * (see wrap_constructor).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "builtins.h"
#include "compile/compile.h"
#include "dispatch.h"

/* Heap stash: the engine's own constructors behind the wrappers, indexed by the wrapper's magic. */
#define K_ORIGINALS DUK_HIDDEN_SYMBOL("biOrig")

/* ---------------------------------------------------------------------------------------------------------
 * Defining built-ins from tables
 */

void ew__bi_push_function(duk_context *ctx, const ew__bi_method_t *m)
{
    duk_push_c_function(ctx, m->fn, m->nargs);
    duk_set_magic(ctx, -1, m->magic);
    duk_get_global_literal(ctx, "Function");
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_set_prototype(ctx, -3);
    duk_pop(ctx);
    duk_push_literal(ctx, "name");
    if (m->name[0] == '@')
        duk_push_sprintf(ctx, "[Symbol.%s]", m->name + 1);
    else
        duk_push_string(ctx, m->name);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, "length");
    duk_push_int(ctx, m->length);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
}

void ew__bi_def_methods(duk_context *ctx, duk_idx_t obj, const ew__bi_method_t *methods)
{
    obj = duk_require_normalize_index(ctx, obj);
    for (const ew__bi_method_t *m = methods; m->name != NULL; m++) {
        if (m->name[0] == '@') {
            char key[64];
            snprintf(key, sizeof(key), "\x81Symbol.%s\xff", m->name + 1);
            duk_push_string(ctx, key);
        } else {
            duk_push_string(ctx, m->name);
        }
        ew__bi_push_function(ctx, m);
        duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                                   DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
    }
}

void ew__bi_install(duk_context *ctx, const char *name, bool proto, const ew__bi_method_t *methods)
{
    duk_get_global_string(ctx, name);
    if (proto)
        duk_get_prop_literal(ctx, -1, "prototype");
    ew__bi_def_methods(ctx, -1, methods);
    duk_pop_n(ctx, proto ? 2 : 1);
}

void ew__bi_def_tag(duk_context *ctx, duk_idx_t obj, const char *tag)
{
    obj = duk_normalize_index(ctx, obj);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.toStringTag"));
    duk_push_string(ctx, tag);
    duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_CLEAR_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                               DUK_DEFPROP_SET_CONFIGURABLE);
}

/* ---------------------------------------------------------------------------------------------------------
 * Symbol
 *
 * Duktape symbols are strings whose first byte is not valid UTF-8: 0x80 key (Symbol.for), 0x81 description
 * 0xff unique-suffix [0xff when the description is undefined] (Symbol()), 0x81 description 0xff (the
 * well-known symbols, which have no suffix), 0x82 / 0xff (internal and hidden, unreachable from scripts).
 */

static duk_ret_t symbol_description(duk_context *ctx)
{
    duk_push_this(ctx);
    if (duk_is_object(ctx, -1)) /* a Symbol object: its internal value */
        duk_get_prop_literal(ctx, -1, DUK_INTERNAL_SYMBOL("Value"));
    if (!duk_is_symbol(ctx, -1))
        return duk_type_error(ctx, "Symbol.prototype.description: not a symbol");
    duk_size_t len;
    const unsigned char *p = (const unsigned char *) duk_get_lstring(ctx, -1, &len);
    if (len == 0 || (p[0] != 0x80 && p[0] != 0x81))
        return 0;
    if (p[0] == 0x80) {
        duk_push_lstring(ctx, (const char *) p + 1, len - 1);
        return 1;
    }
    const unsigned char *end = memchr(p + 1, 0xff, len - 1);
    if (end == NULL)
        return 0;
    /* A suffix that ends in 0xff marks Symbol() with no description. */
    size_t rest = len - (size_t) (end - p) - 1;
    if (rest > 0 && p[len - 1] == 0xff)
        return 0;
    duk_push_lstring(ctx, (const char *) p + 1, (duk_size_t) (end - p - 1));
    return 1;
}

/* Defines Symbol[name] as the well-known symbol "\x81Symbol.<name>\xff" unless the engine has one. */
static void def_well_known(duk_context *ctx, duk_idx_t symbol_ctor, const char *name)
{
    symbol_ctor = duk_normalize_index(ctx, symbol_ctor);
    if (duk_get_prop_string(ctx, symbol_ctor, name) && duk_is_symbol(ctx, -1)) {
        duk_pop(ctx);
        return;
    }
    duk_pop(ctx);
    duk_push_string(ctx, name);
    char key[64];
    snprintf(key, sizeof(key), "\x81Symbol.%s\xff", name);
    duk_push_string(ctx, key);
    duk_def_prop(ctx, symbol_ctor, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_CLEAR_WEC | DUK_DEFPROP_FORCE);
}

static void init_symbol(duk_context *ctx)
{
    duk_get_global_literal(ctx, "Symbol");
    /* match..unscopables exist as values only: Duktape's RegExp and `with` do not consult them. */
    static const char *const names[] = {"asyncIterator", "species", "match",  "matchAll",
                                        "replace",       "search",  "split",  "unscopables"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        def_well_known(ctx, -1, names[i]);
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_push_literal(ctx, "description");
    static const ew__bi_method_t getter = {"get description", symbol_description, 0, 0, 0};
    ew__bi_push_function(ctx, &getter);
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop_2(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Constructor wrappers: Error (cause) and Date (HTTP dates)
 */

enum { W_ERROR, W_EVAL, W_RANGE, W_REFERENCE, W_SYNTAX, W_TYPE, W_URI, W_DATE, W_REGEXP, W_COUNT };
static const char *const wrapped_names[W_COUNT] = {"Error",     "EvalError", "RangeError", "ReferenceError",
                                                   "SyntaxError", "TypeError", "URIError", "Date", "RegExp"};

static double parse_http_date(const char *s);

/* Constructs the engine's constructor with the call's arguments (its result replaces nothing: pushed). When
 * new.target is a subclass, the result gets new.target.prototype, as OrdinaryCreateFromConstructor would. */
static void construct_original(duk_context *ctx, int which, duk_idx_t nargs)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_ORIGINALS);
    duk_get_prop_index(ctx, -1, (duk_uarridx_t) which);
    duk_replace(ctx, -3);
    duk_pop(ctx);
    for (duk_idx_t i = 0; i < nargs; i++)
        duk_dup(ctx, i);
    if ((which == W_DATE || which == W_REGEXP) && !duk_is_constructor_call(ctx)) {
        duk_call(ctx, nargs); /* Date(): a string, whatever the arguments; RegExp(re): re itself */
        return;
    }
    duk_new(ctx, nargs);
    if (!duk_is_constructor_call(ctx))
        return;
    duk_push_new_target(ctx);
    duk_push_current_function(ctx);
    if (!duk_strict_equals(ctx, -1, -2) && duk_is_object(ctx, -2)) {
        duk_get_prop_literal(ctx, -2, "prototype");
        if (duk_is_object(ctx, -1)) {
            duk_dup_top(ctx);
            duk_set_prototype(ctx, -5);
        }
        duk_pop(ctx);
    }
    duk_pop_2(ctx);
}

/* new Error(message, options): InstallErrorCause (ES2022 20.5.8.1). */
static duk_ret_t error_wrapper(duk_context *ctx)
{
    int which = duk_get_current_magic(ctx);
    duk_idx_t nargs = duk_get_top(ctx);
    construct_original(ctx, which, nargs > 1 ? 1 : nargs);
    if (nargs > 1 && duk_is_object(ctx, 1) && duk_has_prop_literal(ctx, 1, "cause")) {
        duk_push_literal(ctx, "cause");
        duk_get_prop_literal(ctx, 1, "cause");
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_CLEAR_ENUMERABLE |
                                  DUK_DEFPROP_SET_CONFIGURABLE);
    }
    return 1;
}

/* new Date(string) for a string only the HTTP parser understands; everything else is the engine's. */
static duk_ret_t date_wrapper(duk_context *ctx)
{
    duk_idx_t nargs = duk_get_top(ctx);
    if (nargs == 1 && duk_is_string(ctx, 0) && duk_is_constructor_call(ctx)) {
        double t = parse_http_date(duk_get_string(ctx, 0));
        if (!isnan(t)) {
            duk_push_number(ctx, t);
            duk_replace(ctx, 0);
        }
    }
    construct_original(ctx, W_DATE, nargs);
    return 1;
}

/* new RegExp(pattern, flags) with the flags Duktape's engine lacks, as regex literals have them
 * (lib/compile/lower_regex.c): `s` rewrites `.` outside classes to [\s\S]; `y` and `d` compile with g
 * (`d` after the pattern rewrite of lib/compile/lower_regex_indices.c) and wrap the regex with
 * $ew.regexFlags (lib/js/helpers_regex.js). A RegExp pattern gives its source and, without flags, its
 * flags (so a copy of a sticky regex stays sticky). Other flag strings go to the engine. */
static duk_ret_t regexp_wrapper(duk_context *ctx)
{
    duk_set_top(ctx, 2);
    bool rx = ew__bi_is_regexp(ctx, 0);
    if (!duk_is_constructor_call(ctx) && rx && duk_is_undefined(ctx, 1)) {
        construct_original(ctx, W_REGEXP, 1); /* RegExp(re): the spec's same object (or a copy) */
        return 1;
    }
    if (rx) {
        duk_push_literal(ctx, "flags"); /* own on a regex wrapped by regexFlags only */
        duk_get_prop_desc(ctx, 0, 0);
        bool wrapped = !duk_is_undefined(ctx, -1);
        duk_pop(ctx);
        if (!wrapped && duk_is_undefined(ctx, 1)) {
            construct_original(ctx, W_REGEXP, 1);
            return 1;
        }
        if (wrapped && duk_is_undefined(ctx, 1)) {
            duk_get_prop_literal(ctx, 0, "flags");
            duk_replace(ctx, 1);
        }
        duk_get_prop_literal(ctx, 0, "source");
        duk_replace(ctx, 0);
    }
    if (duk_is_undefined(ctx, 1) || !strpbrk(duk_to_string(ctx, 1), "dsy")) {
        construct_original(ctx, W_REGEXP, 2);
        return 1;
    }
    const char *f = duk_get_string(ctx, 1);
    char native[8];
    size_t nn = 0;
    bool dot_all = false, sticky = false, indices = false, global = false;
    for (const char *p = f; *p; p++) {
        if (strchr(p + 1, *p) != NULL || !strchr("dgimsuy", *p))
            return duk_syntax_error(ctx, "Invalid flags supplied to RegExp constructor '%s'", f);
        dot_all |= *p == 's';
        sticky |= *p == 'y';
        indices |= *p == 'd';
        global |= *p == 'g';
        if (*p != 's' && *p != 'y' && *p != 'd')
            native[nn++] = *p;
    }
    if ((sticky || indices) && !global)
        native[nn++] = 'g';
    duk_push_lstring(ctx, native, nn); /* 2: the engine's flags */
    const char *src = duk_is_undefined(ctx, 0) ? "" : duk_to_string(ctx, 0);
    duk_push_string(ctx, src); /* 3: the pattern as written (source) */
    if (dot_all) {
        size_t n = strlen(src), o = 0;
        char *out = duk_push_fixed_buffer(ctx, n * 6 + 1); /* scratch */
        bool in_class = false;
        for (size_t i = 0; i < n; i++) {
            if (src[i] == '\\' && i + 1 < n) {
                out[o++] = src[i++];
                out[o++] = src[i];
            } else if (in_class) {
                in_class = src[i] != ']';
                out[o++] = src[i];
            } else if (src[i] == '.') {
                memcpy(out + o, "[\\s\\S]", 6);
                o += 6;
            } else {
                in_class = src[i] == '[';
                out[o++] = src[i];
            }
        }
        duk_push_lstring(ctx, out, o);
        duk_replace(ctx, 0);
        duk_pop(ctx);
    } else {
        duk_dup(ctx, 3);
        duk_replace(ctx, 0);
    }
    duk_dup(ctx, 2);
    duk_replace(ctx, 1);
    if (indices) { /* 4: the group map */
        duk_size_t plen;
        const char *pat = duk_get_lstring(ctx, 0, &plen);
        char err[200];
        ew__regex_indices_t *r = ew__regex_indices(pat, plen, err, sizeof err);
        if (!r)
            return duk_syntax_error(ctx, "Invalid regular expression: /%s/: %s", src, err);
        duk_push_lstring(ctx, r->pattern, r->pattern_len);
        duk_replace(ctx, 0);
        duk_push_array(ctx);
        const int32_t *m = r->map;
        for (uint32_t g = 0; g < r->groups; g++) {
            int32_t c = *m++;
            duk_push_array(ctx);
            for (int32_t k = 0; k < c; k++) {
                duk_push_int(ctx, *m++);
                duk_put_prop_index(ctx, -2, (duk_uarridx_t) k);
            }
            duk_put_prop_index(ctx, -2, g);
        }
        free(r);
    } else {
        duk_push_null(ctx);
    }
    if (sticky) { /* `(?:P)|()`, as lib/compile/lower_regex.c does */
        duk_push_literal(ctx, "(?:");
        duk_dup(ctx, 0);
        duk_push_literal(ctx, ")|()");
        duk_concat(ctx, 3);
        duk_replace(ctx, 0);
    }
    construct_original(ctx, W_REGEXP, 2); /* 5 */
    if (!sticky && !indices)
        return 1;
    ew__push_helpers(ctx);
    duk_get_prop_literal(ctx, -1, "regexFlags");
    duk_dup(ctx, 5);
    duk_dup(ctx, 3);
    duk_push_string(ctx, f);
    duk_push_null(ctx);
    duk_dup(ctx, 4);
    duk_call(ctx, 5);
    return 1;
}

static duk_ret_t date_parse(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_ORIGINALS);
    duk_get_prop_index(ctx, -1, W_COUNT); /* the engine's Date.parse */
    duk_dup(ctx, 0);
    duk_call(ctx, 1);
    if (isnan(duk_get_number(ctx, -1)) && duk_is_string(ctx, 0)) {
        double t = parse_http_date(duk_get_string(ctx, 0));
        if (!isnan(t))
            duk_push_number(ctx, t);
    }
    return 1;
}

/* Copies the own properties of the original constructor at from to the wrapper at to (statics and
 * `prototype`, with their attributes), points prototype.constructor at the wrapper and gives the wrapper
 * the original's [[Prototype]] (TypeError's is Error: the wrapped one, as it is installed first). */
static void adopt_statics(duk_context *ctx, duk_idx_t from, duk_idx_t to)
{
    from = duk_normalize_index(ctx, from);
    to = duk_normalize_index(ctx, to);
    duk_get_global_literal(ctx, "Object");
    duk_get_prop_literal(ctx, -1, "getOwnPropertyNames");
    duk_dup(ctx, from);
    duk_call(ctx, 1);
    duk_size_t n = duk_get_length(ctx, -1);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, -1, i);
        const char *key = duk_get_string(ctx, -1);
        if (strcmp(key, "name") == 0 || strcmp(key, "length") == 0) {
            duk_pop(ctx);
            continue;
        }
        duk_get_prop_literal(ctx, -3, "getOwnPropertyDescriptor");
        duk_dup(ctx, from);
        duk_dup(ctx, -3);
        duk_call(ctx, 2);
        duk_get_prop_literal(ctx, -4, "defineProperty");
        duk_dup(ctx, to);
        duk_dup(ctx, -4);
        duk_dup(ctx, -4);
        duk_call(ctx, 3);
        duk_pop_3(ctx);
    }
    duk_pop_2(ctx);
    duk_get_prop_literal(ctx, to, "prototype");
    duk_dup(ctx, to);
    ew__def_hidden_value(ctx, -2, "constructor");
    duk_pop(ctx);
}

static void wrap_constructor(duk_context *ctx, duk_idx_t originals, int which, duk_c_function fn, int length)
{
    originals = duk_normalize_index(ctx, originals);
    duk_get_global_string(ctx, wrapped_names[which]);
    duk_dup_top(ctx);
    duk_put_prop_index(ctx, originals, (duk_uarridx_t) which);
    ew__bi_method_t m = {wrapped_names[which], fn, DUK_VARARGS, (uint8_t) length, (int16_t) which};
    ew__bi_push_function(ctx, &m);
    adopt_statics(ctx, -2, -1);
    if (which < W_DATE && which != W_ERROR) {
        duk_get_global_literal(ctx, "Error");
        duk_set_prototype(ctx, -2);
    }
    duk_push_global_object(ctx);
    duk_dup(ctx, -2);
    ew__def_hidden_value(ctx, -2, wrapped_names[which]);
    duk_pop_3(ctx);
}

static void init_wrappers(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_push_bare_array(ctx);
    for (int w = W_ERROR; w < W_DATE; w++)
        wrap_constructor(ctx, -1, w, error_wrapper, 1);
    wrap_constructor(ctx, -1, W_DATE, date_wrapper, 7);
    wrap_constructor(ctx, -1, W_REGEXP, regexp_wrapper, 2);
    duk_get_global_literal(ctx, "Date");
    duk_get_prop_literal(ctx, -1, "parse");
    duk_put_prop_index(ctx, -3, W_COUNT);
    static const ew__bi_method_t parse[] = {{"parse", date_parse, 1, 1, 0}, {NULL, NULL, 0, 0, 0}};
    ew__bi_def_methods(ctx, -1, parse);
    duk_pop(ctx);
    duk_put_prop_literal(ctx, -2, K_ORIGINALS);
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * HTTP dates (RFC 7231 7.1.1.1): the three forms servers send, plus the obvious variations browsers accept
 * (any order of day and month name, a numeric zone offset after GMT/UTC or alone).
 *
 *   Sun, 06 Nov 1994 08:49:37 GMT      RFC 1123 (IMF-fixdate)
 *   Sunday, 06-Nov-94 08:49:37 GMT     RFC 850 (two-digit year: < 50 is 20xx)
 *   Sun Nov  6 08:49:37 1994           asctime (no zone: GMT, as HTTP says)
 */

static int month_index(const char *w, size_t n)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 3)
        return -1;
    for (int m = 0; m < 12; m++)
        if (strncasecmp(w, months + 3 * m, 3) == 0)
            return m;
    return -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 0-based). */
static double days_from_civil(double y, int m, int d)
{
    y -= m < 2;
    double era = floor(y / 400);
    double yoe = y - era * 400;
    int mp = (m + 10) % 12;
    double doy = floor((153 * mp + 2) / 5) + d - 1;
    double doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
}

static double parse_http_date(const char *s)
{
    int day = -1, month = -1, hh = -1, mm = 0, ss = 0, offset = 0;
    double year = -1;
    while (*s) {
        if (isspace((unsigned char) *s) || *s == ',' || *s == '-') {
            if (*s == '-' && hh >= 0 && isdigit((unsigned char) s[1]))
                goto zone; /* "-0500" after the time */
            s++;
        } else if (isalpha((unsigned char) *s)) {
            const char *w = s;
            while (isalpha((unsigned char) *s))
                s++;
            size_t n = (size_t) (s - w);
            int m = month_index(w, n);
            if (m >= 0)
                month = month >= 0 ? -2 : m;
            if ((n == 3 && strncasecmp(w, "GMT", 3) == 0) || (n == 3 && strncasecmp(w, "UTC", 3) == 0) ||
                (n == 2 && strncasecmp(w, "UT", 2) == 0) || (n == 1 && (*w == 'Z' || *w == 'z')))
                continue;
        } else if (*s == '+') {
        zone:;
            int sign = *s++ == '-' ? -1 : 1, v = 0, digits = 0;
            for (; isdigit((unsigned char) *s) && digits < 4; s++, digits++)
                v = v * 10 + (*s - '0');
            if (digits != 4)
                return NAN;
            offset = sign * ((v / 100) * 60 + v % 100);
        } else if (isdigit((unsigned char) *s)) {
            long v = 0;
            int digits = 0;
            for (; isdigit((unsigned char) *s) && digits < 7; s++, digits++)
                v = v * 10 + (*s - '0');
            if (*s == ':' && hh < 0) { /* hh:mm[:ss] */
                hh = (int) v;
                if (sscanf(s, ":%2d%n", &mm, &digits) != 1)
                    return NAN;
                s += digits;
                if (*s == ':' && sscanf(s, ":%2d%n", &ss, &digits) == 1)
                    s += digits;
            } else if (day < 0 && year < 0 && digits >= 3) { /* "1994 Nov 06" */
                year = (double) v;
            } else if (day < 0) {
                day = (int) v;
            } else if (year < 0) {
                year = digits <= 2 ? (v < 50 ? 2000 + v : 1900 + v) : (double) v;
            } else {
                return NAN;
            }
        } else {
            return NAN;
        }
    }
    if (day < 1 || day > 31 || month < 0 || year < 0 || hh < 0 || hh > 23 || mm > 59 || ss > 59)
        return NAN;
    double t = (days_from_civil(year, month, day) * 86400 + hh * 3600 + mm * 60 + ss - offset * 60) * 1000;
    return fabs(t) > 8.64e15 ? NAN : t;
}

/* ---------------------------------------------------------------------------------------------------------
 * Entry point
 */

void ew__builtins_init(duk_context *ctx)
{
    init_symbol(ctx);
    ew__bi_iter_init(ctx);
    ew__bi_array_init(ctx);
    ew__bi_iter_keep_values(ctx);
    ew__bi_typed_init(ctx);
    ew__bi_object_init(ctx);
    ew__bi_string_init(ctx);
    ew__bi_number_init(ctx);
    init_wrappers(ctx);
}

/* JS names -> C functions of this file:
 *   get Symbol.prototype.description    symbol_description
 *   Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError   error_wrapper (magic)
 *   Date                                date_wrapper
 *   Date.parse                          date_parse
 *   Symbol.asyncIterator, .species, .match, .matchAll, .replace, .search, .split, .unscopables (values)
 */
