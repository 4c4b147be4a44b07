/*
 * builtin_string.c — the String methods of ES2015–ES2022 that Duktape 2.7 lacks: padStart/padEnd,
 * trimStart/trimEnd (and the trimLeft/trimRight aliases, the same function objects), replaceAll, at,
 * matchAll, normalize, [Symbol.iterator], and String.raw. (codePointAt, fromCodePoint, includes,
 * startsWith, endsWith and repeat are the engine's own.)
 *
 * Strings are CESU-8 inside Duktape: each UTF-16 code unit is one 1-3 byte sequence, so a byte search for
 * a needle's bytes finds exactly the code-unit matches, and results can be assembled from byte ranges in a
 * buffer (string_builder) instead of quadratic concatenation. Positions that scripts see are code units.
 * normalize() uses the tables generated from Python's unicodedata (gen_unicode_tables.py, unicode_norm.c).
 */
#include <string.h>

#include "builtins.h"

#define MAX_STRING_BYTES 0x7fffffffu

/* A result assembled in a dynamic buffer at a fixed stack slot. */
typedef struct string_builder {
    duk_idx_t buf;
    size_t len;
} string_builder_t;

static void sb_init(duk_context *ctx, string_builder_t *sb, size_t hint)
{
    duk_push_dynamic_buffer(ctx, hint);
    sb->buf = duk_get_top_index(ctx);
    sb->len = 0;
}

static void sb_add(duk_context *ctx, string_builder_t *sb, const char *p, size_t n)
{
    duk_size_t cap;
    char *b = duk_get_buffer(ctx, sb->buf, &cap);
    if (n > MAX_STRING_BYTES - sb->len)
        (void) duk_range_error(ctx, "invalid string length");
    if (sb->len + n > cap) {
        size_t want = cap * 2 > sb->len + n ? cap * 2 : sb->len + n;
        b = duk_resize_buffer(ctx, sb->buf, want);
    }
    memcpy(b + sb->len, p, n);
    sb->len += n;
}

/* Replaces the builder's buffer with the string it holds. */
static void sb_finish(duk_context *ctx, string_builder_t *sb)
{
    duk_resize_buffer(ctx, sb->buf, sb->len);
    duk_buffer_to_string(ctx, sb->buf);
}

/* Pushes ToString(RequireObjectCoercible(this)); returns its index. */
static duk_idx_t push_this_string(duk_context *ctx)
{
    duk_push_this(ctx);
    if (duk_is_null_or_undefined(ctx, -1))
        (void) duk_type_error(ctx, "String.prototype method called on null or undefined");
    duk_to_string(ctx, -1);
    return duk_get_top_index(ctx);
}

/* Code units in the CESU-8 bytes p[0, n): one per lead byte, two for a 4-byte sequence (Duktape's form of
 * an astral character pushed from C). */
static double count_units(const unsigned char *p, size_t n)
{
    double units = 0;
    for (size_t i = 0; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            units += p[i] >= 0xf0 ? 2 : 1;
    return units;
}

/* padStart (magic 0) / padEnd (magic 1) (nargs 2). */
static duk_ret_t string_pad(duk_context *ctx)
{
    duk_idx_t s = push_this_string(ctx); /* 2 */
    duk_dup(ctx, 0);
    double max = ew__bi_to_integer(ctx, -1);
    duk_pop(ctx);
    double len = (double) duk_get_length(ctx, s);
    if (max <= len)
        return 1;
    if (duk_is_undefined(ctx, 1))
        duk_push_literal(ctx, " ");
    else
        duk_dup(ctx, 1);
    duk_idx_t fill = duk_normalize_index(ctx, -1);
    duk_to_string(ctx, fill);
    double fill_len = (double) duk_get_length(ctx, fill);
    if (fill_len == 0) {
        duk_dup(ctx, s);
        return 1;
    }
    double need = max - len, whole = (double) (long long) (need / fill_len);
    duk_size_t fb, sbytes;
    const char *f = duk_get_lstring(ctx, fill, &fb);
    const char *str = duk_get_lstring(ctx, s, &sbytes);
    if (whole * (double) fb > MAX_STRING_BYTES)
        return duk_range_error(ctx, "invalid string length");
    duk_dup(ctx, fill);
    duk_substring(ctx, -1, 0, (duk_size_t) (need - whole * fill_len)); /* the partial copy */
    duk_size_t pb;
    const char *part = duk_get_lstring(ctx, -1, &pb);
    string_builder_t sb;
    sb_init(ctx, &sb, (size_t) (whole * (double) fb) + pb + sbytes);
    if (duk_get_current_magic(ctx) == 1)
        sb_add(ctx, &sb, str, sbytes);
    for (double i = 0; i < whole; i++)
        sb_add(ctx, &sb, f, fb);
    sb_add(ctx, &sb, part, pb);
    if (duk_get_current_magic(ctx) == 0)
        sb_add(ctx, &sb, str, sbytes);
    sb_finish(ctx, &sb);
    return 1;
}

/* WhiteSpace or LineTerminator (ES2023 12.2, 12.3: Zs as of Unicode 14). */
static bool is_space(duk_codepoint_t c)
{
    if (c < 0x80)
        return c == ' ' || (c >= 0x09 && c <= 0x0d);
    return c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

/* trimStart (magic 1) / trimEnd (magic 2) (nargs 0). */
static duk_ret_t string_trim(duk_context *ctx)
{
    int which = duk_get_current_magic(ctx);
    duk_idx_t s = push_this_string(ctx);
    duk_size_t len = duk_get_length(ctx, s), start = 0, end = len;
    if (which == 1)
        while (start < end && is_space(duk_char_code_at(ctx, s, start)))
            start++;
    else
        while (end > start && is_space(duk_char_code_at(ctx, s, end - 1)))
            end--;
    if (start > 0 || end < len)
        duk_substring(ctx, s, start, end);
    return 1;
}

/* at(index) (nargs 1). */
static duk_ret_t string_at(duk_context *ctx)
{
    duk_idx_t s = push_this_string(ctx);
    double len = (double) duk_get_length(ctx, s);
    double rel = ew__bi_to_integer(ctx, 0);
    double k = rel >= 0 ? rel : len + rel;
    if (k < 0 || k >= len)
        return 0;
    duk_substring(ctx, s, (duk_size_t) k, (duk_size_t) k + 1);
    return 1;
}

/* [Symbol.iterator]() (nargs 0). */
static duk_ret_t string_iterator(duk_context *ctx)
{
    duk_idx_t s = push_this_string(ctx);
    ew__bi_push_iterator(ctx, s, EW__BI_IT_STRING, s);
    return 1;
}

bool ew__bi_is_regexp(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx))
        return false;
    duk_inspect_value(ctx, idx);
    duk_get_prop_literal(ctx, -1, "class");
    bool yes = duk_get_int(ctx, -1) == 11; /* DUK_HOBJECT_CLASS_REGEXP */
    duk_pop_2(ctx);
    return yes;
}

/* For replaceAll and matchAll: TypeError unless the regexp at idx has the g flag. */
static void require_global(duk_context *ctx, duk_idx_t idx, const char *what)
{
    duk_get_prop_literal(ctx, idx, "flags");
    if (duk_is_null_or_undefined(ctx, -1))
        (void) duk_type_error(ctx, "%s: flags is null or undefined", what);
    if (strchr(duk_to_string(ctx, -1), 'g') == NULL)
        (void) duk_type_error(ctx, "%s must be called with a global RegExp", what);
    duk_pop(ctx);
}

/* GetSubstitution without captures (ES2023 22.1.3.19.1) for a match of n bytes at byte offset at of the
 * string str (len bytes): $$, $&, $`, $' are replaced, anything else is literal. */
static void add_substitution(duk_context *ctx, string_builder_t *sb, const char *tpl, size_t tn, const char *str,
                             size_t len, size_t at, size_t n)
{
    size_t lit = 0;
    for (size_t i = 0; i + 1 < tn; i++) {
        if (tpl[i] != '$')
            continue;
        char c = tpl[i + 1];
        if (c != '$' && c != '&' && c != '`' && c != '\'')
            continue;
        sb_add(ctx, sb, tpl + lit, i - lit);
        if (c == '$')
            sb_add(ctx, sb, "$", 1);
        else if (c == '&')
            sb_add(ctx, sb, str + at, n);
        else if (c == '`')
            sb_add(ctx, sb, str, at);
        else
            sb_add(ctx, sb, str + at + n, len - at - n);
        lit = ++i + 1;
    }
    sb_add(ctx, sb, tpl + lit, tn - lit);
}

/* Byte offset of the next match of needle (nn bytes) at or after byte `from`, or -1. An empty needle
 * matches at every code-unit boundary. */
static long find_bytes(const char *hay, size_t hn, const char *needle, size_t nn, size_t from)
{
    if (from > hn)
        return -1;
    if (nn == 0) {
        while (from < hn && ((unsigned char) hay[from] & 0xc0) == 0x80)
            from++;
        return (long) from;
    }
    const char *p = memmem(hay + from, hn - from, needle, nn);
    return p ? (long) (p - hay) : -1;
}

/* Step past one code unit after an empty match at byte offset at. */
static size_t next_unit(const char *s, size_t n, size_t at)
{
    if (at >= n)
        return n + 1;
    at++;
    while (at < n && ((unsigned char) s[at] & 0xc0) == 0x80)
        at++;
    return at;
}

/* replaceAll(searchValue, replaceValue) (nargs 2). A global RegExp goes to the engine's replace, which
 * replaces every match already; a string is searched here. All positions are found before the first call
 * of a replacer function, as the specification orders it. */
static duk_ret_t string_replace_all(duk_context *ctx)
{
    duk_push_this(ctx); /* 2 */
    if (duk_is_null_or_undefined(ctx, 2))
        return duk_type_error(ctx, "String.prototype.replaceAll called on null or undefined");
    if (ew__bi_is_regexp(ctx, 0)) {
        require_global(ctx, 0, "replaceAll");
        duk_get_global_literal(ctx, "String"); /* the engine's replace */
        duk_get_prop_literal(ctx, -1, "prototype");
        duk_get_prop_literal(ctx, -1, "replace");
        duk_dup(ctx, 2);
        duk_dup(ctx, 0);
        duk_dup(ctx, 1);
        duk_call_method(ctx, 2);
        return 1;
    }
    duk_to_string(ctx, 2);
    duk_to_string(ctx, 0);
    bool functional = duk_is_callable(ctx, 1);
    if (!functional)
        duk_to_string(ctx, 1);
    duk_size_t hn, nn, tn = 0;
    const char *hay = duk_get_lstring(ctx, 2, &hn);
    const char *needle = duk_get_lstring(ctx, 0, &nn);
    const char *tpl = functional ? NULL : duk_get_lstring(ctx, 1, &tn);
    duk_push_bare_array(ctx); /* 3: byte offsets of the matches */
    duk_uarridx_t count = 0;
    for (long at = find_bytes(hay, hn, needle, nn, 0); at >= 0;
         at = find_bytes(hay, hn, needle, nn, nn ? (size_t) at + nn : next_unit(hay, hn, (size_t) at))) {
        duk_push_number(ctx, (double) at);
        duk_put_prop_index(ctx, 3, count++);
    }
    string_builder_t sb;
    sb_init(ctx, &sb, hn); /* 4 */
    size_t end = 0;
    double units = 0;
    for (duk_uarridx_t i = 0; i < count; i++) {
        duk_get_prop_index(ctx, 3, i);
        size_t at = (size_t) duk_get_number(ctx, -1);
        duk_pop(ctx);
        sb_add(ctx, &sb, hay + end, at - end);
        if (functional) {
            units += count_units((const unsigned char *) hay + end, at - end);
            duk_dup(ctx, 1);
            duk_push_undefined(ctx);
            duk_dup(ctx, 0);
            duk_push_number(ctx, units);
            duk_dup(ctx, 2);
            duk_call_method(ctx, 3);
            duk_size_t rn;
            const char *r = duk_to_lstring(ctx, -1, &rn);
            sb_add(ctx, &sb, r, rn);
            duk_pop(ctx);
            units += count_units((const unsigned char *) hay + at, nn);
        } else {
            add_substitution(ctx, &sb, tpl, tn, hay, hn, at, nn);
        }
        end = at + nn;
    }
    if (end < hn)
        sb_add(ctx, &sb, hay + end, hn - end);
    sb_finish(ctx, &sb);
    return 1;
}

/* matchAll(regexp) (nargs 1): a RegExp is cloned with its flags and lastIndex (what
 * RegExp.prototype[@@matchAll] does); anything else becomes new RegExp(value, "g"). */
static duk_ret_t string_match_all(duk_context *ctx)
{
    duk_push_this(ctx); /* 1 */
    if (duk_is_null_or_undefined(ctx, 1))
        return duk_type_error(ctx, "String.prototype.matchAll called on null or undefined");
    bool rx = ew__bi_is_regexp(ctx, 0);
    if (rx)
        require_global(ctx, 0, "matchAll");
    duk_to_string(ctx, 1);
    duk_get_global_literal(ctx, "RegExp"); /* 2 */
    if (rx) {
        duk_dup(ctx, 0);
        duk_get_prop_literal(ctx, 0, "flags");
        duk_to_string(ctx, -1);
        bool global = strchr(duk_get_string(ctx, -1), 'g') != NULL;
        duk_new(ctx, 2); /* 2: the matcher */
        duk_get_prop_literal(ctx, 0, "lastIndex");
        duk_push_number(ctx, ew__bi_to_length(ctx, -1));
        duk_put_prop_literal(ctx, 2, "lastIndex");
        duk_pop(ctx);
        ew__bi_push_iterator(ctx, 2, global ? EW__BI_IT_REGEXP : EW__BI_IT_REGEXP1, 1);
        return 1;
    }
    if (duk_is_undefined(ctx, 0))
        duk_push_literal(ctx, "");
    else
        duk_dup(ctx, 0);
    duk_to_string(ctx, -1);
    duk_push_literal(ctx, "g");
    duk_new(ctx, 2); /* 2 */
    ew__bi_push_iterator(ctx, 2, EW__BI_IT_REGEXP, 1);
    return 1;
}

/* String.raw(template, ...substitutions) (varargs). */
static duk_ret_t string_raw(duk_context *ctx)
{
    duk_idx_t nargs = duk_get_top(ctx);
    if (nargs == 0)
        duk_push_undefined(ctx);
    duk_to_object(ctx, 0);
    duk_get_prop_literal(ctx, 0, "raw");
    duk_to_object(ctx, -1);
    duk_idx_t raw = duk_get_top_index(ctx);
    double len = ew__bi_length(ctx, raw);
    string_builder_t sb;
    sb_init(ctx, &sb, 0);
    for (double i = 0; i < len; i++) {
        ew__bi_get(ctx, raw, i);
        duk_size_t n;
        const char *p = duk_to_lstring(ctx, -1, &n);
        sb_add(ctx, &sb, p, n);
        duk_pop(ctx);
        if (i + 1 >= len)
            break;
        if (i + 1 < nargs) {
            p = duk_to_lstring(ctx, (duk_idx_t) i + 1, &n);
            sb_add(ctx, &sb, p, n);
        }
    }
    sb_finish(ctx, &sb);
    return 1;
}

/* normalize(form) (nargs 1): NFC, NFD, NFKC, NFKD (unicode_norm.c). */
static duk_ret_t string_normalize(duk_context *ctx)
{
    duk_idx_t s = push_this_string(ctx);
    static const char *const forms[] = {"NFC", "NFD", "NFKC", "NFKD"};
    int form = 0;
    if (!duk_is_undefined(ctx, 0)) {
        const char *f = duk_to_string(ctx, 0);
        for (form = 0; form < 4 && strcmp(f, forms[form]) != 0; form++)
            ;
        if (form == 4)
            return duk_range_error(ctx, "The normalization form should be one of NFC, NFD, NFKC, NFKD.");
    }
    ew__unicode_normalize(ctx, s, form);
    return 1;
}

static const ew__bi_method_t string_methods[] = {
    {"at", string_at, 1, 1, 0},
    {"matchAll", string_match_all, 1, 1, 0},
    {"normalize", string_normalize, 1, 0, 0},
    {"padEnd", string_pad, 2, 1, 1},
    {"padStart", string_pad, 2, 1, 0},
    {"replaceAll", string_replace_all, 2, 2, 0},
    {"trimEnd", string_trim, 0, 0, 2},
    {"trimStart", string_trim, 0, 0, 1},
    {"@iterator", string_iterator, 0, 0, 0},
    {NULL, NULL, 0, 0, 0}};

static const ew__bi_method_t string_statics[] = {{"raw", string_raw, DUK_VARARGS, 1, 0}, {NULL, NULL, 0, 0, 0}};

/* get RegExp.prototype.sticky / .hasIndices (magic 0 / 1): false on Duktape's own regexes, which have
 * neither flag (regex literals with them are wrapped by lib/js/helpers_regex.js, which gives the wrapped
 * regex own values); undefined on RegExp.prototype itself (ES2022 22.2.5.x). */
static duk_ret_t regexp_flag_getter(duk_context *ctx)
{
    static const char *const names[] = {"sticky", "hasIndices"};
    duk_push_this(ctx);
    if (duk_is_object(ctx, -1) && ew__bi_is_regexp(ctx, -1))
        return duk_push_false(ctx), 1;
    duk_get_global_literal(ctx, "RegExp");
    duk_get_prop_literal(ctx, -1, "prototype");
    if (duk_is_object(ctx, -3) && duk_samevalue(ctx, -1, -3))
        return 0;
    return duk_type_error(ctx, "RegExp.prototype.%s getter called on non-RegExp",
                          names[duk_get_current_magic(ctx) & 1]);
}

/* get RegExp.prototype.flags (ES2024 22.2.6.4): from the flag properties, so that it sees the ones
 * Duktape lacks (sticky, hasIndices) and a wrapped regex's own values. */
static duk_ret_t regexp_flags_getter(duk_context *ctx)
{
    static const char props[][11] = {"hasIndices", "global", "ignoreCase", "multiline", "dotAll",
                                     "unicode",    "unicodeSets", "sticky"};
    static const char letters[] = "dgimsuvy";
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1))
        return duk_type_error(ctx, "RegExp.prototype.flags getter called on non-object");
    char out[9];
    size_t n = 0;
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        duk_get_prop_string(ctx, -1, props[i]);
        if (duk_to_boolean(ctx, -1))
            out[n++] = letters[i];
        duk_pop(ctx);
    }
    duk_push_lstring(ctx, out, n);
    return 1;
}

void ew__bi_string_init(duk_context *ctx)
{
    static const ew__bi_method_t getters[] = {{"get sticky", regexp_flag_getter, 0, 0, 0},
                                              {"get hasIndices", regexp_flag_getter, 0, 0, 1},
                                              {"get flags", regexp_flags_getter, 0, 0, 0}};
    duk_get_global_literal(ctx, "RegExp");
    duk_get_prop_literal(ctx, -1, "prototype");
    for (int i = 0; i < 3; i++) {
        duk_push_string(ctx, getters[i].name + 4);
        ew__bi_push_function(ctx, &getters[i]);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    }
    duk_pop_2(ctx);
    ew__bi_install(ctx, "String", false, string_statics);
    duk_get_global_literal(ctx, "String");
    duk_get_prop_literal(ctx, -1, "prototype");
    ew__bi_def_methods(ctx, -1, string_methods);
    duk_get_prop_literal(ctx, -1, "trimStart");
    ew__def_hidden_value(ctx, -2, "trimLeft");
    duk_get_prop_literal(ctx, -1, "trimEnd");
    ew__def_hidden_value(ctx, -2, "trimRight");
    duk_pop_2(ctx);
}

/* JS names -> C functions of this file:
 *   String.raw                                       string_raw
 *   String.prototype.at                              string_at
 *   .padStart, .padEnd                               string_pad (magic 0 / 1)
 *   .trimStart (= .trimLeft), .trimEnd (= .trimRight)  string_trim (magic 1 / 2)
 *   .replaceAll, .matchAll                           string_replace_all, string_match_all
 *   .normalize                                       string_normalize (tables: unicode_norm.c)
 *   [Symbol.iterator]                                string_iterator
 *   get RegExp.prototype.sticky, .hasIndices         regexp_flag_getter (magic 0 / 1)
 *   get RegExp.prototype.flags                       regexp_flags_getter
 */
