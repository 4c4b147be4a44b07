/*
 * console.c — the console object and its formatting, like the Workers runtime shows logs (Node's
 * util.format / util.inspect conventions, which wrangler dev prints):
 *
 *   console.log('%s has %d items', 'cart', 3, { a: [1, 'two'] })   ->  cart has 3 items { a: [ 1, 'two' ] }
 *
 * Values: strings raw at the top level and quoted inside objects ('it''s' -> "it's"), -0, Symbol(x),
 * [Function: f], arrays with <n empty items> and "... n more items" past 100, Map(n) { k => v }, Set(n),
 * typed arrays, ArrayBuffer { [Uint8Contents]: <..>, byteLength }, Date as ISO, RegExp, errors by their
 * stack, boxed primitives, Promise { <pending> }, class instances with their class name, null-prototype
 * objects, accessors as [Getter]/[Setter], nesting deeper than 2 (console.dir: options.depth) as [Object],
 * and cycles as <ref *1> ... [Circular *1]. A value fits on one line when it is short (80 columns with its
 * indentation), else each entry gets its own line, indented by two spaces. Getters are never called.
 *
 * Methods: log/info/debug/warn/error/trace (levels as lib/core maps them), dir, table, time/timeEnd/
 * timeLog, count/countReset, assert, group/groupCollapsed/groupEnd (two spaces per level on every line).
 * Per-isolate state (group depth, timers, counters) lives in a stash object. Output goes through
 * ew__isolate_log. The text is built in an ew__buf_t inside a protected call, so an error half-way (a
 * Proxy trap, a limit) frees it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "isolate.h"

#define STATE_KEY DUK_HIDDEN_SYMBOL("console")
#define BREAK_LENGTH 80
#define MAX_ITEMS 100
#define MAX_LEVELS 64 /* recursion bound whatever depth a caller asks for */

typedef struct fmt {
    ew__buf_t out;
    bool ok;                  /* false once an allocation failed */
    int depth;                /* levels to show below the top (2; console.dir may change it) */
    int indent;               /* current indentation (spaces) of the line being built */
    void *seen[MAX_LEVELS];   /* objects being formatted (ancestors of the current value) */
    size_t seen_start[MAX_LEVELS]; /* where each started in out (for a <ref *n> prefix) */
    int seen_ref[MAX_LEVELS]; /* its ref number once something refers back to it, else 0 */
    int nseen;
    int next_ref;
    int cur_depth;            /* level of the object formatted last (Node's ctx.currentDepth) */
} fmt_t;

static void put(fmt_t *f, const char *s, size_t n)
{
    f->ok = f->ok && ew__buf_append(&f->out, s, n);
}

static void puts_(fmt_t *f, const char *s)
{
    put(f, s, strlen(s));
}

static void inspect_value(duk_context *ctx, fmt_t *f, duk_idx_t v, int level, bool top);

/* ---------------------------------------------------------------------------------------------------------
 * Primitives
 */

static void put_number(duk_context *ctx, fmt_t *f, double d)
{
    if (d == 0 && signbit(d)) {
        puts_(f, "-0");
        return;
    }
    duk_push_number(ctx, d);
    size_t n;
    const char *s = duk_to_lstring(ctx, -1, &n);
    put(f, s, n);
    duk_pop(ctx);
}

/* A string quoted like Node: single quotes unless the text has some and no double quotes (then double),
 * or has both and no backquote (then backquotes); control characters escaped. */
static void put_quoted(duk_context *ctx, fmt_t *f, duk_idx_t idx)
{
    size_t n;
    const char *s = ew__to_utf8(ctx, idx, &n);
    char q = '\'';
    if (memchr(s, '\'', n) != NULL) {
        if (memchr(s, '"', n) == NULL)
            q = '"';
        else if (memchr(s, '`', n) == NULL)
            q = '`';
    }
    put(f, &q, 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        char esc[8];
        const char *e = NULL;
        switch (c) {
        case '\n': e = "\\n"; break;
        case '\t': e = "\\t"; break;
        case '\r': e = "\\r"; break;
        case '\b': e = "\\b"; break;
        case '\f': e = "\\f"; break;
        case '\v': e = "\\v"; break;
        case '\\': e = "\\\\"; break;
        default:
            if (c == (unsigned char) q) {
                esc[0] = '\\';
                esc[1] = q;
                esc[2] = '\0';
                e = esc;
            } else if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof(esc), "\\x%02X", c);
                e = esc;
            }
        }
        if (e != NULL)
            puts_(f, e);
        else
            put(f, s + i, 1);
    }
    put(f, &q, 1);
}

static void put_symbol(duk_context *ctx, fmt_t *f, duk_idx_t idx)
{
    duk_get_prop_literal(ctx, idx, "description");
    puts_(f, "Symbol(");
    if (duk_is_string(ctx, -1)) {
        size_t n;
        const char *s = ew__to_utf8(ctx, -1, &n);
        put(f, s, n);
    }
    puts_(f, ")");
    duk_pop(ctx);
}

/* A property key: identifiers bare, other strings quoted, symbols as [Symbol(x)]. */
static void put_key(duk_context *ctx, fmt_t *f, duk_idx_t key)
{
    if (duk_is_symbol(ctx, key)) {
        puts_(f, "[");
        put_symbol(ctx, f, key);
        puts_(f, "]");
        return;
    }
    size_t n;
    const char *s = duk_get_lstring(ctx, key, &n);
    bool ident = n > 0 && !(s[0] >= '0' && s[0] <= '9');
    for (size_t i = 0; i < n && ident; i++)
        ident = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
                s[i] == '_';
    if (ident)
        put(f, s, n);
    else
        put_quoted(ctx, f, key);
}

/* ---------------------------------------------------------------------------------------------------------
 * Objects: entries are formatted one by one into `out`, then joined on one line or several.
 */

/* Start offsets of the entries of the object being formatted: entries are written one after the other, and
 * join_entries() separates them afterwards. */
typedef struct entries {
    size_t start;       /* where the first entry begins in f->out */
    size_t *offs;       /* malloc'd: where each entry begins */
    int n, cap;
    bool has_more;      /* the last entry is "... n more items" */
} entries_t;

static void entry_begin(fmt_t *f, entries_t *e)
{
    if (e->n == e->cap) {
        int cap = e->cap ? e->cap * 2 : 16;
        size_t *o = realloc(e->offs, (size_t) cap * sizeof(*o));
        if (o == NULL) {
            f->ok = false;
            return;
        }
        e->offs = o;
        e->cap = cap;
    }
    e->offs[e->n++] = f->out.len;
}

/* Display width of n bytes of UTF-8 (code points). */
static size_t width_n(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += ((unsigned char) s[i] & 0xC0) != 0x80;
    return w;
}

/* Arrays of more than six short entries are laid out in columns, as Node does: the number of columns aims
 * at a roughly square block (characters being ~2.5 times as high as wide), at most 80 columns wide, 12
 * entries per row at most (Node's compact 3 x 4), numbers right-aligned and other values left-aligned. The
 * "... n more items" entry keeps its own row. Rewrites the entries in place as rows; false if the entries
 * do not qualify. */
static bool group_entries(fmt_t *f, entries_t *e, int indent, bool numbers, bool has_more)
{
    int n = e->n - (has_more ? 1 : 0);
    if (n <= 6 || !f->ok)
        return false;
    size_t *len = malloc((size_t) n * sizeof(size_t));
    if (len == NULL)
        return false;
    double total = 0;
    size_t max = 0;
    for (int i = 0; i < n; i++) {
        size_t end = i + 1 < e->n ? e->offs[i + 1] : f->out.len;
        len[i] = width_n(f->out.data + e->offs[i], end - e->offs[i]);
        total += (double) len[i] + 2;
        if (len[i] > max)
            max = len[i];
    }
    double actual = (double) max + 2;
    int columns = 0;
    if (actual * 3 + indent < BREAK_LENGTH && (total / actual > 5 || max <= 6)) {
        double bias = sqrt(actual - total / e->n);
        double biased = fmax(actual - 3 - bias, 1);
        double c = fmin(fmin(round(sqrt(2.5 * biased * n) / biased), floor((BREAK_LENGTH - indent) / actual)),
                        12);
        columns = (int) fmin(c, 15);
    }
    if (columns <= 1) {
        free(len);
        return false;
    }
    size_t *col_width = calloc((size_t) columns, sizeof(size_t));
    size_t body_len = f->out.len - e->start;
    char *copy = malloc(body_len > 0 ? body_len : 1);
    if (col_width == NULL || copy == NULL) {
        free(len);
        free(col_width);
        free(copy);
        return false;
    }
    for (int i = 0; i < n; i++)
        if (len[i] + 2 > col_width[i % columns])
            col_width[i % columns] = len[i] + 2;
    memcpy(copy, f->out.data + e->start, body_len);
    size_t *offs = malloc((size_t) e->n * sizeof(size_t));
    if (offs == NULL) {
        free(len);
        free(col_width);
        free(copy);
        return false;
    }
    memcpy(offs, e->offs, (size_t) e->n * sizeof(size_t));
    int total_entries = e->n;
    f->out.len = e->start;
    e->n = 0;
    for (int row = 0; row < n; row += columns) {
        entry_begin(f, e);
        int last = row + columns < n ? row + columns : n;
        for (int j = row; j < last; j++) {
            size_t from = offs[j] - e->start, end = (j + 1 < total_entries ? offs[j + 1] : e->start + body_len) - e->start;
            size_t width = col_width[j - row], used = len[j] + (j + 1 < last ? 2 : 0);
            size_t target = j + 1 < last ? width : (numbers ? width - 2 : used);
            if (numbers)
                for (size_t k = used; k < target; k++)
                    puts_(f, " ");
            put(f, copy + from, end - from);
            if (j + 1 < last)
                puts_(f, ", ");
            if (!numbers)
                for (size_t k = used; k < target; k++)
                    puts_(f, " ");
        }
    }
    if (has_more) {
        entry_begin(f, e);
        size_t from = offs[total_entries - 1] - e->start;
        put(f, copy + from, body_len - from);
    }
    free(offs);
    free(len);
    free(col_width);
    free(copy);
    return true;
}

/* Rewrites the entries written since e->start as "open e1, e2 close" or one entry per line indented by two
 * spaces relative to the value (the enclosing value re-indents the whole block). Node's rule for one line:
 * nothing more than three levels deep was formatted inside it, no entry spans lines, and the entries with
 * their count twice, the indentation, the opening text and 10 fit in 80 columns. Arrays may be grouped in
 * columns first (group_entries), which then always take several lines. */
static void join_entries(fmt_t *f, entries_t *e, const char *open, const char *close, int indent, int level,
                         int array_kind)
{
    if (!f->ok)
        return;
    size_t open_len = strlen(open);
    if (e->n == 0) {
        /* "{}", "[]", "Map(0) {}": open and close without their inner spaces. */
        f->out.len = e->start - open_len;
        put(f, open, open_len - 1);
        puts_(f, close + 1);
        return;
    }
    bool grouped = array_kind != 0 && group_entries(f, e, indent, array_kind == 2, e->has_more);
    size_t base = open_len - 1 - (open_len > 2 ? 1 : 0); /* "Map(2) {" without the space: base + brace */
    size_t width = (size_t) e->n * 2 + (size_t) indent + base + 10;
    bool multiline = false;
    for (int i = 0; i < e->n; i++) {
        size_t end = i + 1 < e->n ? e->offs[i + 1] : f->out.len;
        width += width_n(f->out.data + e->offs[i], end - e->offs[i]);
        multiline = multiline || memchr(f->out.data + e->offs[i], '\n', end - e->offs[i]) != NULL;
    }
    bool one_line = !grouped && !multiline && f->cur_depth - level < 3 && width <= BREAK_LENGTH;
    /* Copy the entries out, then write them back joined. */
    size_t body_len = f->out.len - e->start;
    char *copy = malloc(body_len > 0 ? body_len : 1);
    if (copy == NULL) {
        f->ok = false;
        return;
    }
    memcpy(copy, f->out.data + e->start, body_len);
    f->out.len = e->start - open_len; /* the caller wrote `open` before the entries */
    if (one_line)
        puts_(f, open);
    else
        put(f, open, open_len - 1); /* "{ " -> "{", then a line per entry */
    for (int i = 0; i < e->n; i++) {
        size_t from = e->offs[i] - e->start;
        size_t end = (i + 1 < e->n ? e->offs[i + 1] : e->start + body_len) - e->start;
        if (one_line) {
            if (i > 0)
                puts_(f, ", ");
            put(f, copy + from, end - from);
        } else {
            puts_(f, i > 0 ? ",\n  " : "\n  ");
            /* Re-indent the entry's own line breaks. */
            for (size_t k = from; k < end; k++) {
                put(f, copy + k, 1);
                if (copy[k] == '\n')
                    puts_(f, "  ");
            }
        }
    }
    free(copy);
    if (one_line) {
        puts_(f, close);
    } else {
        puts_(f, "\n");
        puts_(f, close + 1);
    }
}

/* Name of the constructor of the object at v through its prototype's own "constructor" data property, or
 * NULL; *null_proto when the prototype is null. */
static const char *class_name(duk_context *ctx, duk_idx_t v, bool *null_proto)
{
    *null_proto = false;
    duk_get_prototype(ctx, v);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        *null_proto = true;
        return NULL;
    }
    duk_push_literal(ctx, "constructor");
    duk_get_prop_desc(ctx, -2, 0);
    const char *name = NULL;
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "value");
        if (duk_is_function(ctx, -1)) {
            duk_get_prop_literal(ctx, -1, "name");
            name = duk_get_string(ctx, -1); /* reachable through the prototype while we format */
            duk_pop(ctx);
        }
        duk_pop(ctx);
    }
    duk_pop_2(ctx);
    return name != NULL && *name != '\0' ? name : NULL;
}

/* The own keys to show: enumerable strings and symbols. Pushes an array. */
static void push_keys(duk_context *ctx, duk_idx_t v, bool skip_indices)
{
    duk_push_array(ctx);
    duk_uarridx_t n = 0;
    duk_enum(ctx, v, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_SYMBOLS | (skip_indices ? DUK_ENUM_SORT_ARRAY_INDICES : 0));
    while (duk_next(ctx, -1, 0)) {
        if (skip_indices && duk_is_string(ctx, -1)) {
            const char *k = duk_get_string(ctx, -1);
            char *endp;
            unsigned long idx = strtoul(k, &endp, 10);
            (void) idx;
            if (*k != '\0' && *endp == '\0' && (k[0] != '0' || k[1] == '\0')) {
                duk_pop(ctx);
                continue;
            }
        }
        duk_put_prop_index(ctx, -3, n++);
    }
    duk_pop(ctx);
}

/* Writes "key: value" for the own property key (at key) of the object at v, without calling getters. */
static void put_property(duk_context *ctx, fmt_t *f, duk_idx_t v, duk_idx_t key, int level)
{
    put_key(ctx, f, key);
    puts_(f, ": ");
    duk_dup(ctx, key);
    duk_get_prop_desc(ctx, v, 0);
    if (!duk_is_object(ctx, -1)) {
        puts_(f, "undefined");
        duk_pop(ctx);
        return;
    }
    bool has_get = duk_has_prop_literal(ctx, -1, "get"), has_set = duk_has_prop_literal(ctx, -1, "set");
    if (has_get || has_set) {
        duk_get_prop_literal(ctx, -1, "get");
        duk_get_prop_literal(ctx, -2, "set");
        bool g = duk_is_function(ctx, -2), s = duk_is_function(ctx, -1);
        puts_(f, g && s ? "[Getter/Setter]" : g ? "[Getter]" : s ? "[Setter]" : "undefined");
        duk_pop_3(ctx);
        return;
    }
    duk_get_prop_literal(ctx, -1, "value");
    inspect_value(ctx, f, -1, level + 1, false);
    duk_pop_2(ctx);
}

/* Writes the properties in the key array at keys as entries. */
static void put_properties(duk_context *ctx, fmt_t *f, entries_t *e, duk_idx_t v, duk_idx_t keys, int level)
{
    duk_size_t n = duk_get_length(ctx, keys);
    for (duk_size_t i = 0; i < n; i++) {
        entry_begin(f, e);
        duk_get_prop_index(ctx, keys, (duk_uarridx_t) i);
        put_property(ctx, f, v, -1, level);
        duk_pop(ctx);
    }
}

static void put_more(fmt_t *f, entries_t *e, double more)
{
    if (more <= 0)
        return;
    e->has_more = true;
    entry_begin(f, e);
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "... %.0f more item%s", more, more == 1 ? "" : "s");
    puts_(f, tmp);
}

/* The smallest own array index of the array at v that is >= from, or len: found by walking the own keys,
 * which for a sparse array are few (new Array(4e9) has none), instead of probing 4e9 indices. */
static double next_index(duk_context *ctx, duk_idx_t v, double from, double len)
{
    double best = len;
    duk_enum(ctx, v, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_ARRAY_INDICES_ONLY);
    while (duk_next(ctx, -1, 0)) {
        double k = duk_to_number(ctx, -1);
        if (k >= from && k < best)
            best = k;
        duk_pop(ctx);
    }
    duk_pop(ctx);
    return best;
}

/* Array elements (holes as <n empty items>), at most MAX_ITEMS. Returns true if all shown were numbers. */
static bool put_array_items(duk_context *ctx, fmt_t *f, entries_t *e, duk_idx_t v, double len, int level)
{
    double shown = 0, i = 0;
    bool numbers = true;
    while (i < len && shown < MAX_ITEMS) {
        if (!duk_has_prop_index(ctx, v, (duk_uarridx_t) i)) {
            double start = i;
            for (int probe = 0; i < len && probe < 256 && !duk_has_prop_index(ctx, v, (duk_uarridx_t) i); probe++)
                i++;
            if (i < len && !duk_has_prop_index(ctx, v, (duk_uarridx_t) i))
                i = next_index(ctx, v, i, len); /* a long run of holes: jump over it */
            double holes = i - start;
            entry_begin(f, e);
            char tmp[64];
            snprintf(tmp, sizeof(tmp), "<%.0f empty item%s>", holes, holes == 1 ? "" : "s");
            puts_(f, tmp);
            shown++;
            numbers = false;
            continue;
        }
        entry_begin(f, e);
        duk_push_number(ctx, i);
        duk_to_string(ctx, -1);
        duk_get_prop_desc(ctx, v, 0);
        if (duk_is_object(ctx, -1) && duk_has_prop_literal(ctx, -1, "value")) {
            duk_get_prop_literal(ctx, -1, "value");
            numbers = numbers && duk_is_number(ctx, -1);
            inspect_value(ctx, f, -1, level + 1, false);
            duk_pop(ctx);
        } else {
            puts_(f, "[Getter]");
            numbers = false;
        }
        duk_pop(ctx);
        shown++;
        i++;
    }
    put_more(f, e, len - i);
    return numbers;
}

static void put_typed_items(duk_context *ctx, fmt_t *f, entries_t *e, duk_idx_t v, double len)
{
    double i;
    for (i = 0; i < len && i < MAX_ITEMS; i++) {
        entry_begin(f, e);
        duk_get_prop_index(ctx, v, (duk_uarridx_t) i);
        put_number(ctx, f, duk_get_number(ctx, -1));
        duk_pop(ctx);
    }
    put_more(f, e, len - i);
}

static void put_collection_items(duk_context *ctx, fmt_t *f, entries_t *e, duk_idx_t v, int kind, int level)
{
    ew__collection_push_entries(ctx, v);
    duk_idx_t list = duk_get_top_index(ctx);
    duk_size_t n = duk_get_length(ctx, list);
    int stride = kind == EW__COLL_MAP ? 2 : 1;
    duk_size_t i;
    for (i = 0; i < n && i / (duk_size_t) stride < MAX_ITEMS; i += (duk_size_t) stride) {
        entry_begin(f, e);
        duk_get_prop_index(ctx, list, (duk_uarridx_t) i);
        inspect_value(ctx, f, -1, level + 1, false);
        duk_pop(ctx);
        if (stride == 2) {
            puts_(f, " => ");
            duk_get_prop_index(ctx, list, (duk_uarridx_t) i + 1);
            inspect_value(ctx, f, -1, level + 1, false);
            duk_pop(ctx);
        }
    }
    put_more(f, e, (double) (n - i) / stride);
    duk_pop(ctx);
}

static void put_date(duk_context *ctx, fmt_t *f, duk_idx_t v)
{
    duk_get_prop_literal(ctx, v, "\x82" "Value"); /* Duktape's internal time value */
    double t = duk_get_number_default(ctx, -1, NAN);
    duk_pop(ctx);
    if (isnan(t)) {
        puts_(f, "Invalid Date");
        return;
    }
    time_t secs = (time_t) floor(t / 1000);
    int ms = (int) (t - (double) secs * 1000);
    struct tm tm;
    char tmp[64];
    if (gmtime_r(&secs, &tm) == NULL) {
        puts_(f, "Invalid Date");
        return;
    }
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    puts_(f, tmp);
}

static void put_error(duk_context *ctx, fmt_t *f, duk_idx_t v)
{
    duk_get_prop_literal(ctx, v, "stack");
    if (!duk_is_string(ctx, -1)) {
        duk_pop(ctx);
        duk_dup(ctx, v);
        duk_safe_to_string(ctx, -1);
        puts_(f, "[");
        size_t n;
        const char *s = ew__to_utf8(ctx, -1, &n);
        put(f, s, n);
        puts_(f, "]");
    } else {
        size_t n;
        const char *s = ew__to_utf8(ctx, -1, &n);
        put(f, s, n);
    }
    duk_pop(ctx);
}

static void put_function(duk_context *ctx, fmt_t *f, duk_idx_t v)
{
    duk_get_prop_literal(ctx, v, "name");
    if (duk_is_string(ctx, -1) && duk_get_length(ctx, -1) > 0) {
        puts_(f, "[Function: ");
        size_t n;
        const char *s = ew__to_utf8(ctx, -1, &n);
        put(f, s, n);
        puts_(f, "]");
    } else {
        puts_(f, "[Function (anonymous)]");
    }
    duk_pop(ctx);
}

static void put_array_buffer(duk_context *ctx, fmt_t *f, duk_idx_t v)
{
    duk_size_t n = 0;
    const uint8_t *p = duk_get_buffer_data(ctx, v, &n);
    puts_(f, "ArrayBuffer { [Uint8Contents]: <");
    for (duk_size_t i = 0; i < n && i < 50; i++) {
        char tmp[4];
        snprintf(tmp, sizeof(tmp), i ? " %02x" : "%02x", p[i]);
        puts_(f, tmp);
    }
    if (n > 50) {
        char tmp[48];
        snprintf(tmp, sizeof(tmp), " ... %lu more byte%s", (unsigned long) (n - 50), n - 50 == 1 ? "" : "s");
        puts_(f, tmp);
    }
    char tmp[48];
    snprintf(tmp, sizeof(tmp), ">, byteLength: %lu }", (unsigned long) n);
    puts_(f, tmp);
}

static const char *const typed_names[] = {"Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array",
                                          "Uint16Array", "Int32Array", "Uint32Array", "Float32Array",
                                          "Float64Array"};

/* Checks the ancestors for v: returns true (and writes [Circular *n]) when v is one of them. */
static bool put_circular(duk_context *ctx, fmt_t *f, duk_idx_t v)
{
    void *p = duk_get_heapptr(ctx, v);
    for (int i = 0; i < f->nseen; i++) {
        if (f->seen[i] == p) {
            if (f->seen_ref[i] == 0)
                f->seen_ref[i] = ++f->next_ref;
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "[Circular *%d]", f->seen_ref[i]);
            puts_(f, tmp);
            return true;
        }
    }
    return false;
}

/* True for an object carrying the hidden state of one of the runtime's classes (Request, Headers, URL,
 * Blob, EventTarget, ...): an own hidden symbol other than the slots weak collections put on keys. */
static bool is_platform_object(duk_context *ctx, duk_idx_t v)
{
    bool found = false;
    duk_enum(ctx, v, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_HIDDEN | DUK_ENUM_INCLUDE_SYMBOLS |
                         DUK_ENUM_INCLUDE_NONENUMERABLE);
    while (!found && duk_next(ctx, -1, 0)) {
        duk_size_t n;
        const unsigned char *k = (const unsigned char *) duk_get_lstring(ctx, -1, &n);
        found = k != NULL && n >= 2 && k[0] == 0xFF && k[1] != 'w';
        duk_pop(ctx);
    }
    duk_pop(ctx);
    return found;
}

/* A prototype whose getters may be shown: any but %Object.prototype% (workerd lists the getters of the
 * class and its parents, e.g. Response and the body mixin). */
static bool is_platform_proto(duk_context *ctx, duk_idx_t proto)
{
    duk_get_prototype(ctx, proto);
    bool root = duk_is_undefined(ctx, -1);
    duk_pop(ctx);
    return !root;
}

static duk_ret_t call_getter_body(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_call_method(ctx, 0); /* [getter this] -> [value] */
    return 1;
}

static duk_ret_t iterate_pairs_body(duk_context *ctx, void *udata)
{
    (void) udata;
    /* [obj] -> [array of values]: the iterator of obj, at most MAX_ITEMS + 1 values */
    duk_idx_t obj = duk_get_top_index(ctx);
    duk_push_array(ctx);
    ew__iter_t it;
    ew__iter_open(ctx, obj, &it, NULL);
    duk_uarridx_t n = 0;
    while (n <= MAX_ITEMS && ew__iter_step(ctx, &it))
        duk_put_prop_index(ctx, obj + 1, n++);
    duk_pop_2(ctx);
    return 1;
}

/* How workerd shows its API objects: an iterable of [key, value] pairs (Headers, URLSearchParams, FormData)
 * as its entries, 'key' => value; other objects by the values of the getters their prototypes define
 * (Request: method, url, ...; skipped: body, which would make a stream, and getters that throw). */
static void put_platform_view(duk_context *ctx, fmt_t *f, entries_t *e, duk_idx_t v, int level)
{
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_get_prop(ctx, v);
    bool iterable = duk_is_function(ctx, -1);
    duk_pop(ctx);
    if (iterable) {
        duk_dup(ctx, v);
        if (duk_safe_call(ctx, iterate_pairs_body, NULL, 1, 1) == DUK_EXEC_SUCCESS) {
            duk_size_t n = duk_get_length(ctx, -1);
            for (duk_size_t i = 0; i < n && i < MAX_ITEMS; i++) {
                entry_begin(f, e);
                duk_get_prop_index(ctx, -1, (duk_uarridx_t) i);
                if (duk_is_array(ctx, -1) && duk_get_length(ctx, -1) == 2) {
                    duk_get_prop_index(ctx, -1, 0);
                    inspect_value(ctx, f, -1, level + 1, false);
                    puts_(f, " => ");
                    duk_get_prop_index(ctx, -2, 1);
                    inspect_value(ctx, f, -1, level + 1, false);
                    duk_pop_2(ctx);
                } else {
                    inspect_value(ctx, f, -1, level + 1, false);
                }
                duk_pop(ctx);
            }
            put_more(f, e, (double) n - MAX_ITEMS);
            duk_pop(ctx);
            return;
        }
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        duk_pop(ctx);
    }
    duk_get_prototype(ctx, v);
    for (int hops = 0; hops < 8 && duk_is_object(ctx, -1); hops++) {
        if (!is_platform_proto(ctx, -1))
            break;
        duk_enum(ctx, -1, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_NONENUMERABLE);
        while (duk_next(ctx, -1, 0)) {
            const char *k = duk_get_string(ctx, -1);
            duk_dup(ctx, -1);
            duk_get_prop_desc(ctx, -4, 0);
            bool getter = duk_is_object(ctx, -1) && duk_get_prop_literal(ctx, -1, "get") && duk_is_function(ctx, -1);
            if (getter && k != NULL && strcmp(k, "body") != 0) {
                duk_dup(ctx, v);
                if (duk_safe_call(ctx, call_getter_body, NULL, 2, 1) == DUK_EXEC_SUCCESS) {
                    entry_begin(f, e);
                    put_key(ctx, f, -3);
                    puts_(f, ": ");
                    inspect_value(ctx, f, -1, level + 1, false);
                } else if (ew__isolate_aborting(ctx)) {
                    (void) duk_throw(ctx);
                }
                duk_pop_3(ctx); /* value, desc, key */
            } else {
                duk_pop_n(ctx, duk_is_object(ctx, -2) ? 3 : 2); /* get?, desc, key */
            }
        }
        duk_pop(ctx);
        duk_get_prototype(ctx, -1);
        duk_remove(ctx, -2);
    }
    duk_pop(ctx);
}

/* Formats the object at v (already known to be an object, not circular, within depth). */
static void inspect_object(duk_context *ctx, fmt_t *f, duk_idx_t v, int level)
{
    int cls = ew__duk_class_number(ctx, v);
    bool null_proto;
    const char *name = class_name(ctx, v, &null_proto);
    entries_t e_storage = {0}, *e = &e_storage;
    int array_kind = 0; /* 1: an array (grouped in columns when long), 2: an array of numbers */
    int saved_depth = f->cur_depth;
    f->cur_depth = level;
    char open[160];
    const char *close = " }";
    int kind = ew__collection_kind(ctx, v);
    bool is_array = duk_is_array(ctx, v);
    bool typed = cls >= 21 && cls <= 29;
    if (is_array || cls == 4 /* arguments */ || typed) {
        double len = (double) duk_get_length(ctx, v);
        if (typed)
            snprintf(open, sizeof(open), "%s(%.0f) [ ", name ? name : typed_names[cls - 21], len);
        else if (cls == 4)
            snprintf(open, sizeof(open), "[Arguments] [ ");
        else if (name != NULL && strcmp(name, "Array") != 0)
            snprintf(open, sizeof(open), "%s(%.0f) [ ", name, len);
        else
            snprintf(open, sizeof(open), "[ ");
        close = " ]";
        puts_(f, open);
        e->start = f->out.len;
        if (typed)
            put_typed_items(ctx, f, e, v, len);
        bool numbers = typed || put_array_items(ctx, f, e, v, len, level);
        int items = e->n;
        push_keys(ctx, v, true);
        put_properties(ctx, f, e, v, -1, level);
        duk_pop(ctx);
        if (e->n == items) /* extra properties: no columns (Node groups only the output of items) */
            array_kind = numbers ? 2 : 1;
    } else {
        if (kind != EW__COLL_NONE) {
            duk_get_prop_literal(ctx, v, "size");
            snprintf(open, sizeof(open), "%s(%.0f) { ", name ? name : kind == EW__COLL_MAP ? "Map" : "Set",
                     duk_get_number_default(ctx, -1, 0));
            duk_pop(ctx);
        } else if (null_proto) {
            snprintf(open, sizeof(open), "[Object: null prototype] { ");
        } else if (ew__promise_is(ctx, v)) {
            snprintf(open, sizeof(open), "%s { ", name ? name : "Promise");
        } else if (name != NULL && strcmp(name, "Object") != 0) {
            snprintf(open, sizeof(open), "%s { ", name);
        } else {
            snprintf(open, sizeof(open), "{ ");
        }
        puts_(f, open);
        e->start = f->out.len;
        if (kind != EW__COLL_NONE) {
            put_collection_items(ctx, f, e, v, kind, level);
        } else if (ew__promise_is(ctx, v)) {
            entry_begin(f, e);
            ew__promise_state_t st = ew__promise_state(ctx, v);
            if (st == EW__PROMISE_PENDING) {
                puts_(f, "<pending>");
            } else {
                if (st == EW__PROMISE_REJECTED)
                    puts_(f, "<rejected> ");
                ew__promise_push_result(ctx, v);
                inspect_value(ctx, f, -1, level + 1, false);
                duk_pop(ctx);
            }
        }
        push_keys(ctx, v, false);
        put_properties(ctx, f, e, v, -1, level);
        duk_pop(ctx);
        if (kind == EW__COLL_NONE && !null_proto && is_platform_object(ctx, v))
            put_platform_view(ctx, f, e, v, level);
    }
    if (e->n == 0)
        f->cur_depth = saved_depth; /* an empty value does not count as a level (Node returns early) */
    join_entries(f, e, open, close, f->indent, level, array_kind);
    free(e->offs);
}

/* True for an object with no own enumerable properties that is not a collection (shown as {} or [] even
 * past the depth limit, as Node does). */
static bool is_empty_plain(duk_context *ctx, duk_idx_t v)
{
    if (ew__collection_kind(ctx, v) != EW__COLL_NONE || ew__promise_is(ctx, v))
        return false;
    duk_enum(ctx, v, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_SYMBOLS);
    bool empty = !duk_next(ctx, -1, 0);
    duk_pop_n(ctx, empty ? 1 : 2);
    return empty;
}

/* Writes the value at v. level: nesting (0 = an argument of console.log); top: strings raw. */
static void inspect_value(duk_context *ctx, fmt_t *f, duk_idx_t v, int level, bool top)
{
    v = duk_require_normalize_index(ctx, v);
    duk_require_stack(ctx, 12);
    switch (duk_get_type(ctx, v)) {
    case DUK_TYPE_UNDEFINED:
        puts_(f, "undefined");
        return;
    case DUK_TYPE_NULL:
        puts_(f, "null");
        return;
    case DUK_TYPE_BOOLEAN:
        puts_(f, duk_get_boolean(ctx, v) ? "true" : "false");
        return;
    case DUK_TYPE_NUMBER:
        put_number(ctx, f, duk_get_number(ctx, v));
        return;
    case DUK_TYPE_STRING:
        if (duk_is_symbol(ctx, v)) {
            put_symbol(ctx, f, v);
        } else if (top) {
            size_t n;
            const char *s = ew__to_utf8(ctx, v, &n);
            put(f, s, n);
        } else {
            put_quoted(ctx, f, v);
        }
        return;
    case DUK_TYPE_OBJECT:
        break;
    default:
        puts_(f, "[unknown]");
        return;
    }
    if (duk_is_function(ctx, v)) {
        put_function(ctx, f, v);
        return;
    }
    int cls = ew__duk_class_number(ctx, v);
    switch (cls) {
    case 5: /* Boolean */
    case 10: /* Number */
    case 12: /* String */
        duk_get_prop_literal(ctx, v, "\x82" "Value");
        puts_(f, cls == 5 ? "[Boolean: " : cls == 10 ? "[Number: " : "[String: ");
        inspect_value(ctx, f, -1, level + 1, false);
        puts_(f, "]");
        duk_pop(ctx);
        return;
    case 6:
        put_date(ctx, f, v);
        return;
    case 7:
        put_error(ctx, f, v);
        return;
    case 11: {
        duk_dup(ctx, v);
        size_t n;
        duk_safe_to_string(ctx, -1);
        const char *s = ew__to_utf8(ctx, -1, &n);
        put(f, s, n);
        duk_pop(ctx);
        return;
    }
    case 19:
        put_array_buffer(ctx, f, v);
        return;
    default:
        break;
    }
    if (put_circular(ctx, f, v))
        return;
    if (level > f->depth && !is_empty_plain(ctx, v)) {
        bool null_proto;
        const char *name = class_name(ctx, v, &null_proto);
        char tmp[160];
        snprintf(tmp, sizeof(tmp), "[%s]", duk_is_array(ctx, v) ? "Array" : name ? name : "Object");
        puts_(f, tmp);
        return;
    }
    if (f->nseen >= MAX_LEVELS) {
        puts_(f, "[Object]");
        return;
    }
    int slot = f->nseen++;
    f->seen[slot] = duk_get_heapptr(ctx, v);
    f->seen_start[slot] = f->out.len;
    f->seen_ref[slot] = 0;
    int saved_indent = f->indent;
    f->indent += 2 * (level > 0);
    inspect_object(ctx, f, v, level);
    f->indent = saved_indent;
    f->nseen--;
    if (f->seen_ref[slot] != 0 && f->ok) {
        char tmp[32];
        int n = snprintf(tmp, sizeof(tmp), "<ref *%d> ", f->seen_ref[slot]);
        size_t at = f->seen_start[slot];
        if (ew__buf_reserve(&f->out, (size_t) n)) {
            memmove(f->out.data + at + n, f->out.data + at, f->out.len - at);
            memcpy(f->out.data + at, tmp, (size_t) n);
            f->out.len += (size_t) n;
        } else {
            f->ok = false;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * util.format
 */

/* Appends ToString of a call's result: fn_name(value at v) through the global function (Number, parseInt,
 * parseFloat), formatted as a number. */
static void put_converted_number(duk_context *ctx, fmt_t *f, duk_idx_t v, const char *fn)
{
    if (duk_is_symbol(ctx, v)) {
        puts_(f, "NaN");
        return;
    }
    duk_get_global_string(ctx, fn);
    duk_dup(ctx, v);
    duk_call(ctx, 1);
    put_number(ctx, f, duk_to_number(ctx, -1));
    duk_pop(ctx);
}

static duk_ret_t json_body(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_json_encode(ctx, -1);
    return 1;
}

static void put_json(duk_context *ctx, fmt_t *f, duk_idx_t v)
{
    duk_dup(ctx, v);
    if (duk_safe_call(ctx, json_body, NULL, 1, 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        puts_(f, "[Circular]");
    } else if (duk_is_string(ctx, -1)) {
        size_t n;
        const char *s = ew__to_utf8(ctx, -1, &n);
        put(f, s, n);
    } else {
        puts_(f, "undefined");
    }
    duk_pop(ctx);
}

/* Args [first, nargs): util.format semantics when the first is a string with % directives. */
static void format_args(duk_context *ctx, fmt_t *f, duk_idx_t first, duk_idx_t nargs)
{
    duk_idx_t a = first;
    if (nargs > first && duk_is_string(ctx, first) && !duk_is_symbol(ctx, first)) {
        size_t n;
        duk_dup(ctx, first);
        const char *s = ew__to_utf8(ctx, -1, &n);
        a = first + 1; /* s stays valid: its stack slot is not touched until the pop below */
        size_t last = 0;
        for (size_t i = 0; i + 1 < n; i++) {
            if (s[i] != '%')
                continue;
            char c = s[i + 1];
            if (c == '%') {
                put(f, s + last, i - last);
                puts_(f, "%");
                last = i + 2;
                i++;
                continue;
            }
            if (strchr("sdifjoOc", c) == NULL || a >= nargs)
                continue;
            put(f, s + last, i - last);
            int saved_depth = f->depth;
            switch (c) {
            case 's':
                if (duk_is_object(ctx, a) && !duk_is_function(ctx, a)) {
                    f->depth = 0;
                    inspect_value(ctx, f, a, 0, false);
                } else {
                    inspect_value(ctx, f, a, 0, true);
                }
                break;
            case 'd':
                put_converted_number(ctx, f, a, "Number");
                break;
            case 'i':
                put_converted_number(ctx, f, a, "parseInt");
                break;
            case 'f':
                put_converted_number(ctx, f, a, "parseFloat");
                break;
            case 'j':
                put_json(ctx, f, a);
                break;
            case 'o':
                f->depth = 4;
                inspect_value(ctx, f, a, 0, false);
                break;
            case 'O':
                inspect_value(ctx, f, a, 0, false);
                break;
            default: /* %c: CSS, consumed */
                break;
            }
            f->depth = saved_depth;
            a++;
            last = i + 2;
            i++;
        }
        put(f, s + last, n - last);
        duk_pop(ctx);
    }
    for (; a < nargs; a++) {
        if (a > first)
            puts_(f, " ");
        inspect_value(ctx, f, a, 0, true);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Output
 */

struct format_job {
    fmt_t *f;
    duk_idx_t first, nargs;
    int mode; /* 0 format, 1 inspect the first argument (dir) */
};

static duk_ret_t format_body(duk_context *ctx, void *udata)
{
    struct format_job *j = udata;
    if (j->mode == 1)
        inspect_value(ctx, j->f, j->first, 0, false);
    else
        format_args(ctx, j->f, j->first, j->nargs);
    return 0;
}

/* Pushes the state object (indent, timers, counts), made on first use. */
static duk_idx_t push_state(duk_context *ctx)
{
    duk_push_global_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, STATE_KEY)) {
        duk_pop(ctx);
        duk_push_bare_object(ctx);
        duk_push_int(ctx, 0);
        duk_put_prop_literal(ctx, -2, "indent");
        duk_push_bare_object(ctx);
        duk_put_prop_literal(ctx, -2, "timers");
        duk_push_bare_object(ctx);
        duk_put_prop_literal(ctx, -2, "counts");
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, STATE_KEY);
    }
    duk_remove(ctx, -2);
    return duk_get_top_index(ctx);
}

static int group_indent(duk_context *ctx)
{
    push_state(ctx);
    duk_get_prop_literal(ctx, -1, "indent");
    int n = duk_get_int(ctx, -1);
    duk_pop_2(ctx);
    return n;
}

/* Logs text with the group indentation on every line. */
static void emit(duk_context *ctx, ew_log_level_t level, const char *text, size_t len)
{
    int indent = group_indent(ctx);
    if (indent <= 0) {
        ew__isolate_log(ctx, level, text, len);
        return;
    }
    ew__buf_t b;
    ew__buf_init(&b);
    bool ok = true;
    for (size_t i = 0; i <= len && ok; i++) {
        if (i == 0 || text[i - 1] == '\n')
            for (int k = 0; k < indent && ok; k++)
                ok = ew__buf_append(&b, " ", 1);
        if (i < len)
            ok = ok && ew__buf_append(&b, text + i, 1);
    }
    if (ok)
        ew__isolate_log(ctx, level, b.data, b.len);
    ew__buf_dispose(&b);
}

/* Formats args [first, nargs) (mode 0) or inspects args[first] with `depth` (mode 1) and logs the text with
 * `prefix` before it. */
static void output(duk_context *ctx, ew_log_level_t level, const char *prefix, duk_idx_t first, duk_idx_t nargs,
                   int mode, int depth)
{
    fmt_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory formatting a log line");
    ew__buf_init(&f->out);
    f->ok = true;
    f->depth = depth;
    if (prefix != NULL)
        puts_(f, prefix);
    struct format_job j = {f, first, nargs, mode};
    if (duk_safe_call(ctx, format_body, &j, 0, 1) != DUK_EXEC_SUCCESS) {
        ew__buf_dispose(&f->out);
        free(f);
        (void) duk_throw(ctx);
    }
    duk_pop(ctx);
    if (f->ok)
        emit(ctx, level, f->out.data ? f->out.data : "", f->out.len);
    ew__buf_dispose(&f->out);
    free(f);
}

/* log, info, debug, warn, error (magic: the level) */
static duk_ret_t console_log(duk_context *ctx)
{
    output(ctx, (ew_log_level_t) duk_get_current_magic(ctx), NULL, 0, duk_get_top(ctx), 0, 2);
    return 0;
}

/* console.trace(...): "Trace: <message>" and the stack. */
static duk_ret_t console_trace(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    duk_push_error_object(ctx, DUK_ERR_ERROR, "trace");
    duk_get_prop_literal(ctx, -1, "stack");
    const char *stack = duk_get_string(ctx, -1);
    const char *at = stack != NULL ? strchr(stack, '\n') : NULL;
    output(ctx, EW_LOG_INFO, n > 0 ? "Trace: " : "Trace", 0, n, 0, 2);
    if (at != NULL)
        emit(ctx, EW_LOG_INFO, at + 1, strlen(at + 1));
    return 0;
}

/* console.dir(value, options): inspection only (no format directives); options.depth (null = no limit). */
static duk_ret_t console_dir(duk_context *ctx)
{
    int depth = 2;
    if (duk_is_object(ctx, 1)) {
        duk_get_prop_literal(ctx, 1, "depth");
        if (duk_is_null(ctx, -1))
            depth = MAX_LEVELS;
        else if (duk_is_number(ctx, -1))
            depth = duk_get_number(ctx, -1) > MAX_LEVELS ? MAX_LEVELS : duk_get_int(ctx, -1);
        duk_pop(ctx);
    }
    duk_set_top(ctx, 1);
    output(ctx, EW_LOG_INFO, NULL, 0, 1, 1, depth);
    return 0;
}

/* console.assert(condition, ...data) */
static duk_ret_t console_assert(duk_context *ctx)
{
    if (duk_to_boolean(ctx, 0))
        return 0;
    duk_idx_t n = duk_get_top(ctx);
    output(ctx, EW_LOG_ERROR, n > 1 ? "Assertion failed: " : "Assertion failed", 1, n, 0, 2);
    return 0;
}

/* group/groupCollapsed(...label): logs the label (if any) then indents by two. */
static duk_ret_t console_group(duk_context *ctx)
{
    duk_idx_t n = duk_get_top(ctx);
    if (n > 0)
        output(ctx, EW_LOG_INFO, NULL, 0, n, 0, 2);
    duk_idx_t st = push_state(ctx);
    duk_get_prop_literal(ctx, st, "indent");
    duk_push_int(ctx, duk_get_int(ctx, -1) + 2);
    duk_put_prop_literal(ctx, st, "indent");
    return 0;
}

static duk_ret_t console_group_end(duk_context *ctx)
{
    duk_idx_t st = push_state(ctx);
    duk_get_prop_literal(ctx, st, "indent");
    int n = duk_get_int(ctx, -1);
    duk_push_int(ctx, n >= 2 ? n - 2 : 0);
    duk_put_prop_literal(ctx, st, "indent");
    return 0;
}

/* Pushes the label argument ("default" when undefined) as a string. */
static const char *push_label(duk_context *ctx)
{
    if (duk_is_undefined(ctx, 0))
        duk_push_literal(ctx, "default");
    else
        duk_dup(ctx, 0);
    return duk_to_string(ctx, -1);
}

static void warn_fmt(duk_context *ctx, const char *fmt, const char *label)
{
    duk_push_sprintf(ctx, fmt, label);
    size_t n;
    const char *s = duk_get_lstring(ctx, -1, &n);
    emit(ctx, EW_LOG_WARN, s, n);
    duk_pop(ctx);
}

/* count(label) / countReset(label) (magic 1 = reset) */
static duk_ret_t console_count(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    const char *label = push_label(ctx);
    duk_idx_t st = push_state(ctx);
    duk_get_prop_literal(ctx, st, "counts");
    duk_idx_t counts = duk_get_top_index(ctx);
    if (duk_get_current_magic(ctx)) {
        if (!duk_has_prop_string(ctx, counts, label))
            warn_fmt(ctx, "Count for '%s' does not exist", label);
        else
            duk_del_prop_string(ctx, counts, label);
        return 0;
    }
    duk_get_prop_string(ctx, counts, label);
    double c = duk_get_number_default(ctx, -1, 0) + 1;
    duk_push_number(ctx, c);
    duk_put_prop_string(ctx, counts, label);
    duk_push_sprintf(ctx, "%s: %.0f", label, c);
    size_t n;
    const char *s = duk_get_lstring(ctx, -1, &n);
    emit(ctx, EW_LOG_INFO, s, n);
    return 0;
}

/* time(label) */
static duk_ret_t console_time(duk_context *ctx)
{
    duk_set_top(ctx, 1);
    const char *label = push_label(ctx);
    duk_idx_t st = push_state(ctx);
    duk_get_prop_literal(ctx, st, "timers");
    if (duk_has_prop_string(ctx, -1, label)) {
        warn_fmt(ctx, "Warning: Label '%s' already exists for console.time()", label);
        return 0;
    }
    duk_push_number(ctx, (double) ew__mono_now_ns() / 1e6);
    duk_put_prop_string(ctx, -2, label);
    return 0;
}

/* timeLog(label, ...data) / timeEnd(label) (magic 1 = end) */
static duk_ret_t console_time_end(duk_context *ctx)
{
    bool end = duk_get_current_magic(ctx) != 0;
    duk_idx_t nargs = duk_get_top(ctx);
    if (nargs == 0) {
        duk_push_undefined(ctx);
        nargs = 1;
    }
    const char *label = push_label(ctx);
    duk_idx_t lab = duk_get_top_index(ctx);
    duk_idx_t st = push_state(ctx);
    duk_get_prop_literal(ctx, st, "timers");
    if (!duk_get_prop_string(ctx, -1, label)) {
        warn_fmt(ctx, end ? "Warning: No such label '%s' for console.timeEnd()"
                          : "Warning: No such label '%s' for console.timeLog()", label);
        return 0;
    }
    double ms = (double) ew__mono_now_ns() / 1e6 - duk_get_number(ctx, -1);
    duk_pop(ctx);
    if (end)
        duk_del_prop_string(ctx, -1, label);
    if (ms >= 1000)
        duk_push_sprintf(ctx, "%s: %.3fs", duk_get_string(ctx, lab), ms / 1000);
    else
        duk_push_sprintf(ctx, "%s: %.3fms", duk_get_string(ctx, lab), ms);
    if (!end && nargs > 1)
        duk_push_literal(ctx, " ");
    else
        duk_push_literal(ctx, "");
    duk_concat(ctx, 2);
    output(ctx, EW_LOG_INFO, duk_get_string(ctx, -1), 1, end ? 1 : nargs, 0, 2);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * console.table(data, columns)
 */

/* Pushes a table cell's text: the value inspected as inside an object, depth 0 ("" if that failed). */
static void push_cell(duk_context *ctx, duk_idx_t v)
{
    fmt_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory formatting a table");
    ew__buf_init(&f->out);
    f->ok = true;
    f->depth = 0;
    struct format_job j = {f, duk_require_normalize_index(ctx, v), 0, 1};
    int rc = duk_safe_call(ctx, format_body, &j, 0, 1);
    if (rc != DUK_EXEC_SUCCESS && ew__isolate_aborting(ctx)) {
        ew__buf_dispose(&f->out);
        free(f);
        (void) duk_throw(ctx); /* invariant 2 of internal.h: a limit keeps unwinding */
    }
    duk_pop(ctx);
    if (rc == DUK_EXEC_SUCCESS && f->ok)
        ew__push_utf8(ctx, f->out.data ? f->out.data : "", f->out.len);
    else
        duk_push_literal(ctx, "");
    ew__buf_dispose(&f->out);
    free(f);
}

/* Display width of a UTF-8 string (code points). */
static size_t width_of(const char *s)
{
    return width_n(s, strlen(s));
}

/* Adds header name at key (string) to the columns array if new; returns its index. */
static duk_uarridx_t column_of(duk_context *ctx, duk_idx_t cols, duk_idx_t key)
{
    key = duk_require_normalize_index(ctx, key);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, cols);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, cols, i);
        bool same = duk_strict_equals(ctx, -1, key);
        duk_pop(ctx);
        if (same)
            return i;
    }
    duk_dup(ctx, key);
    duk_put_prop_index(ctx, cols, n);
    return n;
}

static void table_line(ew__buf_t *b, bool *ok, const char *l, const char *m, const char *r, const size_t *w,
                       duk_uarridx_t ncols)
{
    *ok = *ok && ew__buf_append(b, l, strlen(l));
    for (duk_uarridx_t c = 0; c < ncols; c++) {
        for (size_t k = 0; k < w[c] + 2; k++)
            *ok = *ok && ew__buf_append(b, "─", 3);
        const char *sep = c + 1 < ncols ? m : r;
        *ok = *ok && ew__buf_append(b, sep, strlen(sep));
    }
    *ok = *ok && ew__buf_append(b, "\n", 1);
}

/* The rows array at rows holds arrays of cell strings (one per column, undefined = empty). */
static void table_row(duk_context *ctx, ew__buf_t *b, bool *ok, duk_idx_t row, const size_t *w, duk_uarridx_t ncols)
{
    *ok = *ok && ew__buf_append(b, "│", 3);
    for (duk_uarridx_t c = 0; c < ncols; c++) {
        duk_get_prop_index(ctx, row, c);
        const char *s = duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : "";
        size_t sw = width_of(s);
        *ok = *ok && ew__buf_append(b, " ", 1) && ew__buf_append(b, s, strlen(s));
        for (size_t k = sw; k < w[c] + 1; k++)
            *ok = *ok && ew__buf_append(b, " ", 1);
        *ok = *ok && ew__buf_append(b, "│", 3);
        duk_pop(ctx);
    }
    *ok = *ok && ew__buf_append(b, "\n", 1);
}

static duk_ret_t console_table(duk_context *ctx)
{
    duk_set_top(ctx, 2);
    if (!duk_is_object(ctx, 0) || duk_is_function(ctx, 0)) {
        output(ctx, EW_LOG_INFO, NULL, 0, 1, 0, 2);
        return 0;
    }
    duk_idx_t cols = duk_push_array(ctx);  /* header names (strings); 0 is "(index)" */
    duk_idx_t rows = duk_push_array(ctx);  /* arrays of cell strings */
    duk_push_literal(ctx, "(index)");
    duk_put_prop_index(ctx, cols, 0);
    bool has_values = false;
    duk_idx_t filter = duk_is_array(ctx, 1) ? 1 : -1;
    if (filter >= 0) {
        duk_size_t nf = duk_get_length(ctx, filter);
        for (duk_size_t i = 0; i < nf; i++) {
            duk_get_prop_index(ctx, filter, (duk_uarridx_t) i);
            duk_to_string(ctx, -1);
            (void) column_of(ctx, cols, -1);
            duk_pop(ctx);
        }
    }
    int kind = ew__collection_kind(ctx, 0);
    if (kind != EW__COLL_NONE) {
        ew__collection_push_entries(ctx, 0);
    } else {
        duk_push_array(ctx); /* [key0, value0, ...] */
        duk_uarridx_t k = 0;
        duk_enum(ctx, 0, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_SORT_ARRAY_INDICES);
        while (duk_next(ctx, -1, 1)) {
            duk_put_prop_index(ctx, -4, k + 1);
            duk_put_prop_index(ctx, -3, k);
            k += 2;
        }
        duk_pop(ctx);
    }
    duk_idx_t pairs = duk_get_top_index(ctx);
    duk_size_t np = duk_get_length(ctx, pairs);
    int stride = kind == EW__COLL_SET ? 1 : 2;
    for (duk_size_t i = 0, r = 0; i < np; i += (duk_size_t) stride, r++) {
        duk_idx_t row = duk_push_array(ctx);
        if (kind == EW__COLL_SET) {
            duk_push_number(ctx, (double) r);
            duk_to_string(ctx, -1);
        } else {
            duk_get_prop_index(ctx, pairs, (duk_uarridx_t) i);
            if (kind == EW__COLL_MAP) {
                push_cell(ctx, -1);
                duk_remove(ctx, -2);
            } else {
                duk_to_string(ctx, -1);
            }
        }
        duk_put_prop_index(ctx, row, 0);
        duk_get_prop_index(ctx, pairs, (duk_uarridx_t) (kind == EW__COLL_SET ? i : i + 1));
        duk_idx_t val = duk_get_top_index(ctx);
        if (duk_is_object(ctx, val) && !duk_is_function(ctx, val)) {
            duk_enum(ctx, val, DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_SORT_ARRAY_INDICES);
            while (duk_next(ctx, -1, 1)) {
                duk_uarridx_t c;
                if (filter >= 0) {
                    duk_uarridx_t ncols = (duk_uarridx_t) duk_get_length(ctx, cols);
                    for (c = 1; c < ncols; c++) {
                        duk_get_prop_index(ctx, cols, c);
                        bool same = duk_strict_equals(ctx, -1, -3);
                        duk_pop(ctx);
                        if (same)
                            break;
                    }
                    if (c >= ncols) {
                        duk_pop_2(ctx);
                        continue;
                    }
                } else {
                    c = column_of(ctx, cols, -2);
                }
                push_cell(ctx, -1);
                duk_put_prop_index(ctx, row, c);
                duk_pop_2(ctx);
            }
            duk_pop(ctx);
        } else {
            has_values = true;
            push_cell(ctx, val);
            duk_put_prop_string(ctx, row, "v"); /* the Values column, placed below */
        }
        duk_pop(ctx);
        duk_put_prop_index(ctx, rows, (duk_uarridx_t) r);
    }
    duk_uarridx_t ncols = (duk_uarridx_t) duk_get_length(ctx, cols);
    duk_uarridx_t nrows = (duk_uarridx_t) duk_get_length(ctx, rows);
    if (has_values) {
        duk_push_literal(ctx, "Values");
        duk_put_prop_index(ctx, cols, ncols);
        for (duk_uarridx_t r = 0; r < nrows; r++) {
            duk_get_prop_index(ctx, rows, r);
            duk_get_prop_literal(ctx, -1, "v");
            duk_put_prop_index(ctx, -2, ncols);
            duk_pop(ctx);
        }
        ncols++;
    }
    size_t *w = calloc(ncols, sizeof(size_t));
    if (w == NULL)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory formatting a table");
    for (duk_uarridx_t c = 0; c < ncols; c++) {
        duk_get_prop_index(ctx, cols, c);
        w[c] = width_of(duk_to_string(ctx, -1));
        duk_pop(ctx);
        for (duk_uarridx_t r = 0; r < nrows; r++) {
            duk_get_prop_index(ctx, rows, r);
            duk_get_prop_index(ctx, -1, c);
            if (duk_is_string(ctx, -1) && width_of(duk_get_string(ctx, -1)) > w[c])
                w[c] = width_of(duk_get_string(ctx, -1));
            duk_pop_2(ctx);
        }
    }
    ew__buf_t b;
    ew__buf_init(&b);
    bool ok = true;
    table_line(&b, &ok, "┌", "┬", "┐", w, ncols);
    table_row(ctx, &b, &ok, cols, w, ncols);
    table_line(&b, &ok, "├", "┼", "┤", w, ncols);
    for (duk_uarridx_t r = 0; r < nrows; r++) {
        duk_get_prop_index(ctx, rows, r);
        table_row(ctx, &b, &ok, duk_get_top_index(ctx), w, ncols);
        duk_pop(ctx);
    }
    table_line(&b, &ok, "└", "┴", "┘", w, ncols);
    free(w);
    if (ok)
        emit(ctx, EW_LOG_INFO, b.data, b.len - 1); /* without the last newline */
    ew__buf_dispose(&b);
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * For other C code, and the table of console methods
 */

void ew__inspect_push(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    push_cell(ctx, idx);
}

static const struct {
    const char *name;
    duk_c_function fn;
    duk_idx_t nargs;
    int magic;
} console_methods[] = {
    {"log", console_log, DUK_VARARGS, EW_LOG_INFO},
    {"info", console_log, DUK_VARARGS, EW_LOG_INFO},
    {"debug", console_log, DUK_VARARGS, EW_LOG_DEBUG},
    {"warn", console_log, DUK_VARARGS, EW_LOG_WARN},
    {"error", console_log, DUK_VARARGS, EW_LOG_ERROR},
    {"trace", console_trace, DUK_VARARGS, 0},
    {"dir", console_dir, 2, 0},
    {"table", console_table, 2, 0},
    {"assert", console_assert, DUK_VARARGS, 0},
    {"group", console_group, DUK_VARARGS, 0},
    {"groupCollapsed", console_group, DUK_VARARGS, 0},
    {"groupEnd", console_group_end, 0, 0},
    {"count", console_count, 1, 0},
    {"countReset", console_count, 1, 1},
    {"time", console_time, 1, 0},
    {"timeEnd", console_time_end, 1, 1},
    {"timeLog", console_time_end, DUK_VARARGS, 0},
};

void ew__console_init(duk_context *ctx)
{
    duk_push_global_object(ctx);
    duk_idx_t console = duk_push_object(ctx);
    for (size_t i = 0; i < sizeof(console_methods) / sizeof(console_methods[0]); i++) {
        duk_push_c_function(ctx, console_methods[i].fn, console_methods[i].nargs);
        duk_set_magic(ctx, -1, console_methods[i].magic);
        duk_push_literal(ctx, "name");
        duk_push_string(ctx, console_methods[i].name);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
        ew__def_hidden_value(ctx, console, console_methods[i].name);
    }
    ew__def_hidden_value(ctx, -2, "console");
    duk_pop(ctx);
}
