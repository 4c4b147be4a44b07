/*
 * headers.c — the Fetch Headers class (https://fetch.spec.whatwg.org/#headers-class) and the C helpers
 * Request and Response use on header lists.
 *
 * Storage: one hidden array per list, names and values alternating in insertion order, names lower-case:
 *
 *     [ "content-type", "text/plain", "set-cookie", "a=1", "set-cookie", "b=2" ]
 *
 * Duktape interns every string, so a lookup compares heap pointers instead of bytes. Headers are few,
 * so linear scans beat any index; only iteration sorts (qsort of a snapshot, O(n log n), because native
 * code is not interrupted by the CPU limit). A Request or Response owns its list directly and wraps it in a
 * Headers object only when script asks for .headers (request.c), so a request that never looks at its
 * headers costs no Headers object. Guards: only "immutable" changes behaviour here (as in workerd, where
 * every guard but "none" refuses changes); it is a hidden boolean on the Headers object.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Names and values
 */

/* Replaces the value at idx with its lower-case header name, or throws TypeError naming it. */
static void normalize_name(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    duk_size_t len;
    const char *s = duk_to_lstring(ctx, idx, &len);
    if (!ew__http_is_token(s, len))
        (void) duk_type_error(ctx, "Invalid header name: \"%.64s\"", s);
    size_t i = 0;
    while (i < len && !(s[i] >= 'A' && s[i] <= 'Z'))
        i++;
    if (i == len)
        return; /* already lower-case: the common case, no new string */
    char *low = duk_push_fixed_buffer(ctx, len);
    for (size_t j = 0; j < len; j++)
        low[j] = (s[j] >= 'A' && s[j] <= 'Z') ? (char) (s[j] + 32) : s[j];
    duk_push_lstring(ctx, low, len);
    duk_remove(ctx, -2);
    duk_replace(ctx, idx);
}

/* Replaces the value at idx with its header value: ToString, leading/trailing HTTP whitespace removed; throws
 * TypeError if it contains CR, LF or NUL. `lname` names the header in the message. Duktape's internal
 * encoding keeps U+0000, CR and LF as the single bytes 00, 0D, 0A, so a byte scan finds them. */
static void normalize_value(duk_context *ctx, duk_idx_t idx, duk_idx_t lname_idx)
{
    idx = duk_require_normalize_index(ctx, idx);
    lname_idx = duk_require_normalize_index(ctx, lname_idx);
    duk_size_t len;
    const char *s = duk_to_lstring(ctx, idx, &len);
    size_t b = 0, e = len;
    while (b < e && ew__http_is_ws(s[b]))
        b++;
    while (e > b && ew__http_is_ws(s[e - 1]))
        e--;
    for (size_t i = b; i < e; i++) {
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            (void) duk_type_error(ctx, "Invalid header value for \"%.64s\".", duk_get_string(ctx, lname_idx));
    }
    if (b == 0 && e == len)
        return;
    duk_push_lstring(ctx, s + b, e - b);
    duk_replace(ctx, idx);
}

/* Index in the list of the first entry at or after `from` whose name is the string at lname_idx, or -1. */
static duk_int_t list_find(duk_context *ctx, duk_idx_t list_idx, duk_idx_t lname_idx, duk_uarridx_t from)
{
    void *key = duk_get_heapptr(ctx, lname_idx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    for (duk_uarridx_t i = from; i + 1 < n; i += 2) {
        duk_get_prop_index(ctx, list_idx, i);
        void *p = duk_get_heapptr(ctx, -1);
        duk_pop(ctx);
        if (p == key)
            return (duk_int_t) i;
    }
    return -1;
}

/* Removes the entries named lname at index >= from, keeping the order of the others. */
static void list_remove(duk_context *ctx, duk_idx_t list_idx, duk_idx_t lname_idx, duk_uarridx_t from)
{
    void *key = duk_get_heapptr(ctx, lname_idx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    duk_uarridx_t w = from;
    for (duk_uarridx_t r = from; r + 1 < n; r += 2) {
        duk_get_prop_index(ctx, list_idx, r);
        if (duk_get_heapptr(ctx, -1) == key) {
            duk_pop(ctx);
            continue;
        }
        if (w != r) {
            duk_put_prop_index(ctx, list_idx, w);
            duk_get_prop_index(ctx, list_idx, r + 1);
            duk_put_prop_index(ctx, list_idx, w + 1);
        } else {
            duk_pop(ctx);
        }
        w += 2;
    }
    if (w != n)
        duk_set_length(ctx, list_idx, w);
}

/* Appends the name at name_idx and the value at value_idx (both already normalized). */
static void list_append(duk_context *ctx, duk_idx_t list_idx, duk_idx_t name_idx, duk_idx_t value_idx)
{
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    duk_dup(ctx, name_idx);
    duk_put_prop_index(ctx, list_idx, n);
    duk_dup(ctx, value_idx);
    duk_put_prop_index(ctx, list_idx, n + 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Helpers for request.c and response.c
 */

void ew__headers_list_add(duk_context *ctx, duk_idx_t list_idx, const char *lname)
{
    list_idx = duk_require_normalize_index(ctx, list_idx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    ew__web_push_static(ctx, lname);
    duk_put_prop_index(ctx, list_idx, n);
    duk_put_prop_index(ctx, list_idx, n + 1);
}

bool ew__headers_list_has(duk_context *ctx, duk_idx_t list_idx, const char *lname)
{
    list_idx = duk_require_normalize_index(ctx, list_idx);
    ew__web_push_static(ctx, lname);
    bool found = list_find(ctx, list_idx, duk_get_top_index(ctx), 0) >= 0;
    duk_pop(ctx);
    return found;
}

void ew__headers_list_copy(duk_context *ctx, duk_idx_t list_idx)
{
    list_idx = duk_require_normalize_index(ctx, list_idx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    duk_push_array(ctx);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, list_idx, i);
        duk_put_prop_index(ctx, -2, i);
    }
}

void ew__headers_push_wrapper(duk_context *ctx, duk_idx_t list_idx, bool immutable)
{
    list_idx = duk_require_normalize_index(ctx, list_idx);
    duk_idx_t h = ew__web_push_instance(ctx, EW__PROTO_HEADERS);
    duk_dup(ctx, list_idx);
    duk_put_prop_literal(ctx, h, EW__WEB_LIST);
    if (immutable) {
        duk_push_true(ctx);
        duk_put_prop_literal(ctx, h, EW__WEB_GUARD);
    }
}

void ew__headers_push_packed_wrapper(duk_context *ctx, duk_idx_t packed_idx)
{
    packed_idx = duk_require_normalize_index(ctx, packed_idx);
    duk_idx_t h = ew__web_push_instance(ctx, EW__PROTO_HEADERS);
    duk_dup(ctx, packed_idx);
    duk_put_prop_literal(ctx, h, EW__WEB_LIST);
    duk_push_true(ctx);
    duk_put_prop_literal(ctx, h, EW__WEB_GUARD);
}

bool ew__headers_push_list(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx)) {
        duk_push_undefined(ctx);
        return false;
    }
    idx = duk_normalize_index(ctx, idx);
    duk_get_prop_literal(ctx, idx, EW__WEB_LIST);
    if (duk_is_buffer_data(ctx, -1)) { /* still packed (ew__headers_push_packed_wrapper): make the list now */
        ew__request_push_packed_list(ctx, -1);
        duk_remove(ctx, -2);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, idx, EW__WEB_LIST);
    }
    return duk_is_array(ctx, -1);
}

/* get() and has() on headers still packed: answered from the packed bytes (request.c). The name at 0 is
 * normalized. Returns false (nothing pushed) when this is not such a Headers. */
static bool packed_lookup(duk_context *ctx, bool has)
{
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1)) {
        duk_pop(ctx);
        return false;
    }
    duk_get_prop_literal(ctx, -1, EW__WEB_LIST);
    if (!duk_is_buffer_data(ctx, -1)) {
        duk_pop_2(ctx);
        return false;
    }
    duk_size_t len;
    const char *name = duk_get_lstring(ctx, 0, &len);
    int found = ew__request_packed_get(ctx, -1, name, len, !has);
    if (has)
        duk_push_boolean(ctx, found > 0);
    else if (found == 0)
        duk_push_null(ctx);
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Filling a list from HeadersInit: a Headers, a sequence of pairs (array or iterable), or a record.
 */

/* Validates and appends the pair [name value] on top of the stack (popped). */
static void fill_pair(duk_context *ctx, duk_idx_t list_idx)
{
    duk_idx_t name = duk_get_top_index(ctx) - 1;
    normalize_name(ctx, name);
    normalize_value(ctx, name + 1, name);
    list_append(ctx, list_idx, name, name + 1);
    duk_pop_2(ctx);
}

/* Pushes the values an iterable yields, as an array (the generic sequence conversion of WebIDL). */
static void push_iterated(duk_context *ctx, duk_idx_t obj_idx)
{
    duk_push_array(ctx);
    duk_idx_t out = duk_get_top_index(ctx);
    duk_get_prop_literal(ctx, obj_idx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
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

static bool is_iterable(duk_context *ctx, duk_idx_t idx)
{
    duk_get_prop_literal(ctx, idx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    bool callable = duk_is_callable(ctx, -1);
    duk_pop(ctx);
    return callable;
}

/* Each element of the sequence at seq_idx (an array) must be a pair. */
static void fill_from_sequence(duk_context *ctx, duk_idx_t list_idx, duk_idx_t seq_idx)
{
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, seq_idx);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, seq_idx, i);
        duk_idx_t pair = duk_get_top_index(ctx);
        if (duk_is_object(ctx, pair) && !duk_is_array(ctx, pair) && is_iterable(ctx, pair)) {
            push_iterated(ctx, pair);
            duk_replace(ctx, pair);
        }
        if (!duk_is_object(ctx, pair) || duk_get_length(ctx, pair) != 2)
            (void) duk_type_error(ctx, "To initialize a Headers object from a sequence, each inner sequence "
                                       "must have exactly two elements.");
        duk_get_prop_index(ctx, pair, 0);
        duk_get_prop_index(ctx, pair, 1);
        fill_pair(ctx, list_idx);
        duk_pop(ctx);
    }
}

/* record<ByteString, ByteString>: own enumerable string keys in property order. */
static void fill_from_record(duk_context *ctx, duk_idx_t list_idx, duk_idx_t obj_idx)
{
    duk_enum(ctx, obj_idx, DUK_ENUM_OWN_PROPERTIES_ONLY);
    while (duk_next(ctx, -1, 0)) {
        duk_dup_top(ctx);
        duk_get_prop(ctx, obj_idx);
        fill_pair(ctx, list_idx);
    }
    duk_pop(ctx);
}

void ew__headers_fill(duk_context *ctx, duk_idx_t list_idx, duk_idx_t init_idx)
{
    list_idx = duk_require_normalize_index(ctx, list_idx);
    init_idx = duk_require_normalize_index(ctx, init_idx);
    if (duk_is_undefined(ctx, init_idx))
        return;
    if (!duk_is_object(ctx, init_idx) || duk_is_function(ctx, init_idx))
        (void) duk_type_error(ctx, "Headers init must be a Headers object, an array of [name, value] pairs "
                                   "or an object of name: value properties");
    duk_require_stack(ctx, 8);
    if (ew__headers_push_list(ctx, init_idx)) {
        /* Headers: copied as is (already valid), like workerd; it ignores a replaced Symbol.iterator. */
        duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, -1);
        duk_uarridx_t base = (duk_uarridx_t) duk_get_length(ctx, list_idx);
        for (duk_uarridx_t i = 0; i < n; i++) {
            duk_get_prop_index(ctx, -1, i);
            duk_put_prop_index(ctx, list_idx, base + i);
        }
    } else if (duk_is_array(ctx, init_idx)) {
        fill_from_sequence(ctx, list_idx, init_idx);
    } else if (is_iterable(ctx, init_idx)) {
        push_iterated(ctx, init_idx);
        fill_from_sequence(ctx, list_idx, duk_get_top_index(ctx));
        duk_pop(ctx);
    } else {
        fill_from_record(ctx, list_idx, init_idx);
    }
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Sorted snapshot: what forEach and the iterators walk ("sort and combine" in the spec).
 */

typedef struct sort_entry {
    const char *name;
    duk_size_t len;
    duk_uarridx_t pos; /* index of the name in the list; ties keep insertion order */
} sort_entry_t;

static int cmp_entry(const void *a, const void *b)
{
    const sort_entry_t *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c != 0)
        return c;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Appends one [name, value] to the flat output at out_idx (position *o): the run e[0..k) of equal names
 * becomes one combined value, except set-cookie, which stays one entry per value. */
static void emit_run(duk_context *ctx, duk_idx_t list_idx, duk_idx_t out_idx, duk_uarridx_t *o,
                     const sort_entry_t *e, size_t k)
{
    bool separate = e[0].len == 10 && memcmp(e[0].name, "set-cookie", 10) == 0;
    for (size_t i = 0; i < k; i++) {
        duk_get_prop_index(ctx, list_idx, e[i].pos);
        duk_put_prop_index(ctx, out_idx, (*o)++);
        if (separate || k == 1) {
            duk_get_prop_index(ctx, list_idx, e[i].pos + 1);
        } else {
            duk_require_stack(ctx, (duk_idx_t) k + 1);
            duk_push_literal(ctx, ", ");
            for (size_t j = 0; j < k; j++)
                duk_get_prop_index(ctx, list_idx, e[j].pos + 1);
            duk_join(ctx, (duk_idx_t) k);
            i = k;
        }
        duk_put_prop_index(ctx, out_idx, (*o)++);
    }
}

/* Pushes a new flat array [name0, value0, ...] sorted by name with values combined. */
static void push_sorted(duk_context *ctx, duk_idx_t list_idx)
{
    list_idx = duk_require_normalize_index(ctx, list_idx);
    size_t n = duk_get_length(ctx, list_idx) / 2;
    duk_push_array(ctx);
    duk_idx_t out = duk_get_top_index(ctx);
    if (n == 0)
        return;
    sort_entry_t *e = duk_push_fixed_buffer(ctx, n * sizeof(sort_entry_t));
    for (size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, list_idx, (duk_uarridx_t) (2 * i));
        e[i].name = duk_get_lstring(ctx, -1, &e[i].len); /* stays valid: the list holds the string */
        e[i].pos = (duk_uarridx_t) (2 * i);
        duk_pop(ctx);
    }
    qsort(e, n, sizeof(*e), cmp_entry);
    duk_uarridx_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        while (i + k < n && e[i + k].len == e[i].len && memcmp(e[i + k].name, e[i].name, e[i].len) == 0)
            k++;
        emit_run(ctx, list_idx, out, &o, e + i, k);
        i += k;
    }
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Headers methods
 */

/* WebIDL arity: the methods are registered with DUK_VARARGS so that a missing argument is a TypeError rather
 * than the string "undefined"; extra arguments are dropped. */
static void require_args(duk_context *ctx, duk_idx_t n, const char *method)
{
    duk_idx_t have = duk_get_top(ctx);
    if (have < n)
        (void) duk_type_error(ctx, "Failed to execute '%s' on 'Headers': %d argument%s required, but only %d present.",
                              method, (int) n, n > 1 ? "s" : "", (int) have);
    duk_set_top(ctx, n);
}

/* Pushes this's list (throws TypeError "Illegal invocation" for other receivers); with `mutating`, also
 * refuses immutable headers. Returns the list's index. */
static duk_idx_t this_list(duk_context *ctx, bool mutating)
{
    duk_push_this(ctx);
    if (!ew__headers_push_list(ctx, -1))
        (void) duk_type_error(ctx, "Illegal invocation: this is not a Headers object");
    if (mutating) {
        duk_get_prop_literal(ctx, -2, EW__WEB_GUARD);
        if (duk_get_boolean(ctx, -1))
            (void) duk_type_error(ctx, "Can't modify immutable headers.");
        duk_pop(ctx);
    }
    return duk_get_top_index(ctx);
}

static duk_ret_t headers_ctor(duk_context *ctx)
{
    duk_idx_t self = ew__web_construct_this(ctx, "Headers");
    duk_push_array(ctx);
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, self, EW__WEB_LIST);
    ew__headers_fill(ctx, -1, 0);
    return 0;
}

static duk_ret_t headers_get(duk_context *ctx)
{
    require_args(ctx, 1, "get");
    normalize_name(ctx, 0);
    if (packed_lookup(ctx, false))
        return 1;
    duk_idx_t list = this_list(ctx, false);
    void *key = duk_get_heapptr(ctx, 0);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list);
    duk_idx_t found = 0;
    duk_push_literal(ctx, ", ");
    for (duk_uarridx_t i = 0; i + 1 < n; i += 2) {
        duk_get_prop_index(ctx, list, i);
        bool match = duk_get_heapptr(ctx, -1) == key;
        duk_pop(ctx);
        if (match) {
            duk_require_stack(ctx, 1);
            duk_get_prop_index(ctx, list, i + 1);
            found++;
        }
    }
    if (found == 0)
        duk_push_null(ctx);
    else if (found > 1)
        duk_join(ctx, found);
    return 1;
}

static duk_ret_t headers_get_set_cookie(duk_context *ctx)
{
    duk_idx_t list = this_list(ctx, false);
    duk_push_array(ctx);
    duk_push_literal(ctx, "set-cookie");
    duk_uarridx_t o = 0;
    for (duk_int_t i = list_find(ctx, list, -1, 0); i >= 0; i = list_find(ctx, list, -1, (duk_uarridx_t) i + 2)) {
        duk_get_prop_index(ctx, list, (duk_uarridx_t) i + 1);
        duk_put_prop_index(ctx, -3, o++);
    }
    duk_pop(ctx);
    return 1;
}

static duk_ret_t headers_has(duk_context *ctx)
{
    require_args(ctx, 1, "has");
    normalize_name(ctx, 0);
    if (packed_lookup(ctx, true))
        return 1;
    duk_idx_t list = this_list(ctx, false);
    duk_push_boolean(ctx, list_find(ctx, list, 0, 0) >= 0);
    return 1;
}

static duk_ret_t headers_set(duk_context *ctx)
{
    require_args(ctx, 2, "set");
    normalize_name(ctx, 0);
    normalize_value(ctx, 1, 0);
    duk_idx_t list = this_list(ctx, true);
    duk_int_t at = list_find(ctx, list, 0, 0);
    if (at < 0) {
        list_append(ctx, list, 0, 1);
        return 0;
    }
    duk_dup(ctx, 1);
    duk_put_prop_index(ctx, list, (duk_uarridx_t) at + 1);
    list_remove(ctx, list, 0, (duk_uarridx_t) at + 2);
    return 0;
}

static duk_ret_t headers_append(duk_context *ctx)
{
    require_args(ctx, 2, "append");
    normalize_name(ctx, 0);
    normalize_value(ctx, 1, 0);
    list_append(ctx, this_list(ctx, true), 0, 1);
    return 0;
}

static duk_ret_t headers_delete(duk_context *ctx)
{
    require_args(ctx, 1, "delete");
    normalize_name(ctx, 0);
    list_remove(ctx, this_list(ctx, true), 0, 0);
    return 0;
}

/* forEach(callback, thisArg): callback(value, name, headers) over the sorted snapshot, so changes made by
 * the callback do not disturb the walk. */
static duk_ret_t headers_for_each(duk_context *ctx)
{
    duk_idx_t list = this_list(ctx, false);
    if (!duk_is_callable(ctx, 0))
        (void) duk_type_error(ctx, "Headers.forEach: the callback is not a function");
    push_sorted(ctx, list);
    duk_idx_t snap = duk_get_top_index(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, snap);
    for (duk_uarridx_t i = 0; i + 1 < n; i += 2) {
        duk_dup(ctx, 0);
        duk_dup(ctx, 1);
        duk_get_prop_index(ctx, snap, i + 1);
        duk_get_prop_index(ctx, snap, i);
        duk_dup(ctx, list - 1);
        duk_call_method(ctx, 3);
        duk_pop(ctx);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Iterators: a snapshot array plus (position << 2 | kind) in hidden properties.
 */

#define ITER_SNAP DUK_HIDDEN_SYMBOL("is")
#define ITER_POS DUK_HIDDEN_SYMBOL("ip")

enum { ITER_ENTRIES = 0, ITER_KEYS = 1, ITER_VALUES = 2 };

static duk_ret_t push_iterator(duk_context *ctx, int kind)
{
    duk_idx_t list = this_list(ctx, false);
    duk_idx_t it = ew__web_push_instance(ctx, EW__PROTO_ITERATOR);
    push_sorted(ctx, list);
    duk_put_prop_literal(ctx, it, ITER_SNAP);
    duk_push_uint(ctx, (duk_uint_t) kind);
    duk_put_prop_literal(ctx, it, ITER_POS);
    return 1;
}

static duk_ret_t headers_entries(duk_context *ctx) { return push_iterator(ctx, ITER_ENTRIES); }
static duk_ret_t headers_keys(duk_context *ctx) { return push_iterator(ctx, ITER_KEYS); }
static duk_ret_t headers_values(duk_context *ctx) { return push_iterator(ctx, ITER_VALUES); }

static duk_ret_t iterator_next(duk_context *ctx)
{
    duk_push_this(ctx);
    duk_get_prop_literal(ctx, -1, ITER_SNAP);
    duk_get_prop_literal(ctx, -2, ITER_POS);
    if (!duk_is_array(ctx, -2) || !duk_is_number(ctx, -1))
        return duk_type_error(ctx, "Illegal invocation: this is not a Headers iterator");
    duk_uint_t state = duk_get_uint(ctx, -1);
    duk_uarridx_t pos = (duk_uarridx_t) (state >> 2), kind = state & 3;
    duk_idx_t res = duk_push_object(ctx);
    if (2 * pos + 1 >= duk_get_length(ctx, -3)) {
        duk_push_undefined(ctx);
        duk_put_prop_literal(ctx, res, "value");
        duk_push_true(ctx);
        duk_put_prop_literal(ctx, res, "done");
        return 1;
    }
    if (kind == ITER_ENTRIES) {
        duk_push_array(ctx);
        duk_get_prop_index(ctx, -4, 2 * pos);
        duk_put_prop_index(ctx, -2, 0);
        duk_get_prop_index(ctx, -4, 2 * pos + 1);
        duk_put_prop_index(ctx, -2, 1);
    } else {
        duk_get_prop_index(ctx, -3, 2 * pos + (kind == ITER_VALUES));
    }
    duk_put_prop_literal(ctx, res, "value");
    duk_push_false(ctx);
    duk_put_prop_literal(ctx, res, "done");
    duk_push_uint(ctx, ((pos + 1) << 2) | kind);
    duk_put_prop_literal(ctx, -5, ITER_POS);
    return 1;
}

static duk_ret_t iterator_self(duk_context *ctx)
{
    duk_push_this(ctx);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * JS names -> C functions
 */

static const ew__method_t headers_methods[] = {
    {"append", headers_append, DUK_VARARGS, 2},
    {"delete", headers_delete, DUK_VARARGS, 1},
    {"get", headers_get, DUK_VARARGS, 1},
    {"getSetCookie", headers_get_set_cookie, 0, 0},
    {"has", headers_has, DUK_VARARGS, 1},
    {"set", headers_set, DUK_VARARGS, 2},
    {"forEach", headers_for_each, 2, 1},
    {"entries", headers_entries, 0, 0},
    {"keys", headers_keys, 0, 0},
    {"values", headers_values, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__method_t iterator_methods[] = {
    {"next", iterator_next, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__class_t headers_class = {
    .name = "Headers",
    .ctor = headers_ctor,
    .ctor_nargs = 1,
    .ctor_length = 0,
    .methods = headers_methods,
    .proto_slot = EW__PROTO_HEADERS,
};

void ew__headers_init(duk_context *ctx, duk_idx_t global_idx)
{
    duk_idx_t proto = ew__web_def_class(ctx, global_idx, &headers_class);
    /* Headers.prototype[Symbol.iterator] is the same function as entries (WebIDL pair iterators). */
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_get_prop_literal(ctx, proto, "entries");
    duk_def_prop(ctx, proto, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_pop(ctx);

    duk_idx_t iter = duk_push_object(ctx);
    ew__def_methods(ctx, iter, iterator_methods);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_push_c_function(ctx, iterator_self, 0);
    duk_push_literal(ctx, "name");
    duk_push_literal(ctx, "[Symbol.iterator]");
    duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_def_prop(ctx, iter, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.toStringTag"));
    duk_push_literal(ctx, "Headers Iterator");
    duk_def_prop(ctx, iter, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE);
    ew__web_register_proto(ctx, iter, EW__PROTO_ITERATOR);
    duk_pop(ctx);
}
