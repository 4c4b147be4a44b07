/*
 * clone.c — structuredClone(value, { transfer }) (HTML "StructuredSerializeWithTransfer" followed by
 * "StructuredDeserializeWithTransfer", done in one pass: the clone is built while the value is walked).
 *
 * Cloned: primitives (not symbols), Boolean/Number/String wrappers, Date, RegExp (source and flags; lastIndex
 * starts at 0), ArrayBuffer, typed arrays and DataView (views sharing a buffer share its clone), Map, Set,
 * Error objects (Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError: name,
 * message and stack; other names become Error), DOMException, Blob and File (their immutable bytes are
 * shared), arrays (length and own enumerable properties) and other objects (own enumerable string-keyed
 * properties, read with their getters; the clone is a plain object). Shared references and cycles are
 * kept: a memory maps each source object (by heap pointer) to its clone. Anything else — functions,
 * symbols, promises, platform objects such as Request or EventTarget — is a DataCloneError DOMException
 * with V8's message "<value> could not be cloned.".
 *
 * Transfer: the listed ArrayBuffers are copied into the clone and detached once the whole clone succeeded
 * (lib/duk/prepare.py's ew__duk_buffer_detach: byteLength 0; views made earlier keep the old bytes, as
 * Duktape has no detached state). Listed MessagePorts (lib/js/message.js) become new ports in the clone:
 * a new port stands for each in the memory, and once the clone succeeded it takes over the old one's
 * entanglement and waiting messages while the old one is left detached (closed, unusable for transfer). The memory lives on the value stack (two arrays and a buffer holding the
 * hash table), so an error thrown half-way leaks nothing.
 */
#include <string.h>

#include "domexception.h"
#include "lazy.h"

#define DETACHED_KEY DUK_HIDDEN_SYMBOL("dt") /* ArrayBuffer: true once transferred */
#define CTORS_KEY DUK_HIDDEN_SYMBOL("cC")    /* stash: [Date, RegExp] as installed (scripts may replace them) */
#define MAX_DEPTH 2000                       /* nesting the C recursion accepts (RangeError past it) */

/* Duktape's class numbers (DUK_HOBJECT_CLASS_*, as ew__duk_class_number returns them). */
enum {
    CLS_OBJECT = 1, CLS_ARRAY = 2, CLS_FUNCTION = 3, CLS_ARGUMENTS = 4, CLS_BOOLEAN = 5, CLS_DATE = 6,
    CLS_ERROR = 7, CLS_NUMBER = 10, CLS_REGEXP = 11, CLS_STRING = 12, CLS_ARRAYBUFFER = 19, CLS_DATAVIEW = 20,
    CLS_FLOAT64ARRAY = 29
};

typedef struct slot {
    void *key;      /* heap pointer of a source object; NULL = empty */
    uint32_t index; /* its position in the srcs/dsts arrays */
} slot_t;

typedef struct clone {
    duk_idx_t srcs;   /* array: source objects (kept reachable: their heap pointers are the keys) */
    duk_idx_t dsts;   /* array: their clones, same positions */
    duk_idx_t table;  /* dynamic buffer: slot_t[cap], open addressing */
    uint32_t count;
    uint32_t cap;     /* power of two */
    int depth;
} clone_t;

static uint32_t hash_ptr(void *p)
{
    uintptr_t x = (uintptr_t) p;
    x ^= x >> 17;
    x *= 0x9E3779B1u;
    return (uint32_t) (x ^ (x >> 15));
}

static slot_t *slots(duk_context *ctx, clone_t *c)
{
    return duk_get_buffer(ctx, c->table, NULL);
}

static uint32_t memory_find(duk_context *ctx, clone_t *c, void *key)
{
    slot_t *s = slots(ctx, c);
    for (uint32_t i = hash_ptr(key) & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
        if (s[i].key == key)
            return s[i].index;
        if (s[i].key == NULL)
            return UINT32_MAX;
    }
}

static void slot_put(slot_t *s, uint32_t cap, void *key, uint32_t index)
{
    uint32_t i = hash_ptr(key) & (cap - 1);
    while (s[i].key != NULL)
        i = (i + 1) & (cap - 1);
    s[i].key = key;
    s[i].index = index;
}

/* Records source (at src) -> clone (at dst) in the memory. May throw (allocation). */
static void memory_add(duk_context *ctx, clone_t *c, duk_idx_t src, duk_idx_t dst)
{
    if ((c->count + 1) * 2 > c->cap) {
        uint32_t cap = c->cap * 2;
        duk_push_fixed_buffer(ctx, (duk_size_t) cap * sizeof(slot_t)); /* zeroed */
        slot_t *ns = duk_get_buffer(ctx, -1, NULL), *os = slots(ctx, c);
        for (uint32_t i = 0; i < c->cap; i++)
            if (os[i].key != NULL)
                slot_put(ns, cap, os[i].key, os[i].index);
        duk_replace(ctx, c->table);
        c->cap = cap;
    }
    duk_dup(ctx, src);
    duk_put_prop_index(ctx, c->srcs, c->count);
    duk_dup(ctx, dst);
    duk_put_prop_index(ctx, c->dsts, c->count);
    slot_put(slots(ctx, c), c->cap, duk_get_heapptr(ctx, src), c->count);
    c->count++;
}

/* Throws DataCloneError "<value> could not be cloned." for the value at v. */
static duk_ret_t uncloneable(duk_context *ctx, duk_idx_t v)
{
    v = duk_normalize_index(ctx, v);
    if (duk_is_symbol(ctx, v)) {
        duk_get_prop_literal(ctx, v, "description");
        duk_push_sprintf(ctx, "Symbol(%s)", duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : "");
    } else if (duk_is_function(ctx, v)) {
        duk_get_prop_literal(ctx, v, "name");
        duk_push_sprintf(ctx, "function %s() { [native code] }",
                         duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : "");
    } else {
        duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.toStringTag"));
        duk_get_prop(ctx, v);
        duk_push_sprintf(ctx, "#<%s>", duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : "Object");
    }
    return ew__domexception_throw(ctx, "DataCloneError", "%s could not be cloned.", duk_get_string(ctx, -1));
}

static void clone_value(duk_context *ctx, clone_t *c, duk_idx_t v);

/* Copies the own enumerable string-keyed properties of src into dst as data properties. */
static void copy_properties(duk_context *ctx, clone_t *c, duk_idx_t src, duk_idx_t dst)
{
    duk_enum(ctx, src, DUK_ENUM_OWN_PROPERTIES_ONLY);
    while (duk_next(ctx, -1, 1)) {
        clone_value(ctx, c, -1);
        duk_remove(ctx, -2);
        duk_def_prop(ctx, dst, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
    }
    duk_pop(ctx);
}

/* True if the object at v carries the hidden state of a platform object (Request, Headers, URL,
 * EventTarget, Promise, CryptoKey, ...): any own hidden symbol other than the slots weak collections put on
 * their keys ("\xFF" "w..."). Only asked for objects whose prototype is not %Object.prototype%. */
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

static bool proto_is_object_prototype(duk_context *ctx, duk_idx_t v)
{
    duk_get_prototype(ctx, v);
    bool plain = duk_is_undefined(ctx, -1);
    if (!plain) {
        duk_get_global_literal(ctx, "Object");
        plain = duk_is_object(ctx, -1) && duk_get_prop_literal(ctx, -1, "prototype") && duk_samevalue(ctx, -1, -3);
        duk_pop_2(ctx);
    }
    duk_pop(ctx);
    return plain;
}

/* ArrayBuffer at v -> a new ArrayBuffer with a copy of its bytes. */
static void push_buffer_copy(duk_context *ctx, duk_idx_t v)
{
    duk_size_t n = 0;
    const void *p = duk_get_buffer_data(ctx, v, &n);
    void *q = duk_push_fixed_buffer(ctx, n);
    if (n > 0)
        memcpy(q, p, n);
    duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
    duk_remove(ctx, -2);
}

static bool is_detached(duk_context *ctx, duk_idx_t v)
{
    bool d = duk_get_prop_literal(ctx, v, DETACHED_KEY);
    duk_pop(ctx);
    return d;
}

/* A typed array or DataView at v (class cls): its buffer is cloned through the memory. */
static void clone_view(duk_context *ctx, clone_t *c, duk_idx_t v, int cls)
{
    duk_get_prop_literal(ctx, v, "buffer");
    duk_idx_t ab = duk_get_top_index(ctx);
    duk_size_t view_len = 0, ab_len = 0;
    const uint8_t *vp = duk_get_buffer_data(ctx, v, &view_len);
    const uint8_t *ap = ew__duk_class_number(ctx, ab) == CLS_ARRAYBUFFER ? duk_get_buffer_data(ctx, ab, &ab_len)
                                                                         : NULL;
    if (ap == NULL || is_detached(ctx, ab) || vp < ap || vp + view_len > ap + ab_len)
        (void) ew__domexception_throw(ctx, "DataCloneError", "An ArrayBuffer is detached and could not be cloned.");
    duk_size_t offset = (duk_size_t) (vp - ap);
    clone_value(ctx, c, ab);
    /* DUK_BUFOBJ_DATAVIEW = 2 .. DUK_BUFOBJ_FLOAT64ARRAY = 11 follow the class numbers 20 .. 29. */
    duk_push_buffer_object(ctx, -1, offset, view_len, (duk_uint_t) (cls - CLS_DATAVIEW + DUK_BUFOBJ_DATAVIEW));
    duk_remove(ctx, -2);
    duk_remove(ctx, -2);
}

static const struct {
    const char *name;
    duk_errcode_t code;
} error_types[] = {
    {"EvalError", DUK_ERR_EVAL_ERROR},   {"RangeError", DUK_ERR_RANGE_ERROR}, {"ReferenceError", DUK_ERR_REFERENCE_ERROR},
    {"SyntaxError", DUK_ERR_SYNTAX_ERROR}, {"TypeError", DUK_ERR_TYPE_ERROR}, {"URIError", DUK_ERR_URI_ERROR},
};

/* Error object at v -> a new error of the same standard type (or a DOMException of the same name). */
static void push_error_clone(duk_context *ctx, duk_idx_t v)
{
    const char *dom_name = ew__domexception_name(ctx, v);
    duk_get_prop_literal(ctx, v, "name");
    const char *name = duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : "Error";
    duk_push_literal(ctx, "message");
    duk_get_prop_desc(ctx, v, 0);
    bool has_message = duk_is_object(ctx, -1);
    duk_pop(ctx);
    if (has_message) {
        duk_get_prop_literal(ctx, v, "message");
        duk_to_string(ctx, -1);
    } else {
        duk_push_literal(ctx, "");
    }
    const char *message = duk_get_string(ctx, -1);
    if (dom_name != NULL) {
        ew__domexception_push(ctx, dom_name, "%s", message);
    } else {
        duk_errcode_t code = DUK_ERR_ERROR;
        for (size_t i = 0; i < sizeof(error_types) / sizeof(error_types[0]); i++)
            if (strcmp(name, error_types[i].name) == 0)
                code = error_types[i].code;
        duk_push_error_object(ctx, code, "%s", message);
        if (!has_message)
            duk_del_prop_literal(ctx, -1, "message");
    }
    duk_get_prop_literal(ctx, v, "stack");
    if (duk_is_string(ctx, -1)) {
        duk_push_literal(ctx, "stack");
        duk_insert(ctx, -2);
        duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_CONFIGURABLE |
                                  DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_FORCE);
    } else {
        duk_pop(ctx);
    }
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

/* A Blob or File at v -> a new one over the same (immutable) bytes; false (nothing pushed) for others. */
static bool push_blob_clone(duk_context *ctx, duk_idx_t v)
{
    duk_get_prop_literal(ctx, v, EW__LAZY_STATE_KEY);
    duk_idx_t st = duk_get_top_index(ctx);
    bool blob = false;
    if (duk_is_object(ctx, st)) {
        duk_get_prop_literal(ctx, st, "blob");
        blob = duk_get_int(ctx, -1) == 1;
        duk_pop(ctx);
    }
    if (!blob) {
        duk_pop(ctx);
        return false;
    }
    bool file = duk_get_prop_literal(ctx, st, "name");
    duk_pop(ctx);
    ew__lazy_push(ctx, EW__LAZY_BLOB, file ? "_newFile" : "_newBlob");
    duk_get_prop_literal(ctx, st, "bytes");
    if (file) {
        duk_get_prop_literal(ctx, st, "name");
        duk_get_prop_literal(ctx, st, "type");
        duk_get_prop_literal(ctx, st, "lastModified");
        duk_call(ctx, 4);
    } else {
        duk_get_prop_literal(ctx, st, "type");
        duk_call(ctx, 2);
    }
    duk_remove(ctx, st);
    return true;
}

/* Pushes the original Date (0) or RegExp (1) constructor. */
static void push_ctor(duk_context *ctx, duk_uarridx_t which)
{
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, -1, CTORS_KEY);
    duk_get_prop_index(ctx, -1, which);
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

/* The object at v (not yet in the memory) -> its clone, pushed and recorded. */
static void clone_object(duk_context *ctx, clone_t *c, duk_idx_t v)
{
    int cls = ew__duk_class_number(ctx, v);
    switch (cls) {
    case CLS_BOOLEAN:
    case CLS_NUMBER:
    case CLS_STRING:
        duk_get_prop_literal(ctx, v, "\x82" "Value"); /* the wrapped primitive (Duktape's internal slot) */
        duk_to_object(ctx, -1);
        memory_add(ctx, c, v, -1);
        return;
    case CLS_DATE:
        push_ctor(ctx, 0);
        duk_get_prop_literal(ctx, v, "\x82" "Value");
        duk_new(ctx, 1);
        memory_add(ctx, c, v, -1);
        return;
    case CLS_REGEXP:
        push_ctor(ctx, 1);
        duk_get_prop_literal(ctx, v, "source");
        duk_get_prop_literal(ctx, v, "flags");
        duk_new(ctx, 2);
        memory_add(ctx, c, v, -1);
        return;
    case CLS_ARRAYBUFFER:
        if (is_detached(ctx, v))
            (void) ew__domexception_throw(ctx, "DataCloneError", "An ArrayBuffer is detached and could not be cloned.");
        push_buffer_copy(ctx, v);
        memory_add(ctx, c, v, -1);
        return;
    case CLS_ERROR:
        push_error_clone(ctx, v);
        memory_add(ctx, c, v, -1);
        return;
    case CLS_ARRAY: {
        duk_push_array(ctx);
        duk_push_uint(ctx, (duk_uint_t) duk_get_length(ctx, v));
        duk_put_prop_literal(ctx, -2, "length");
        memory_add(ctx, c, v, -1);
        copy_properties(ctx, c, v, duk_get_top_index(ctx));
        return;
    }
    case CLS_OBJECT:
    case CLS_ARGUMENTS:
        break;
    default:
        if (cls >= CLS_DATAVIEW && cls <= CLS_FLOAT64ARRAY) {
            clone_view(ctx, c, v, cls);
            memory_add(ctx, c, v, -1);
            return;
        }
        if (cls != 8 && cls != 9) /* JSON and Math are ordinary objects; the rest are engine internals */
            (void) uncloneable(ctx, v);
        break;
    }
    int kind = ew__collection_kind(ctx, v);
    if (kind != EW__COLL_NONE) {
        ew__collection_push_new(ctx, kind);
        duk_idx_t dst = duk_get_top_index(ctx);
        memory_add(ctx, c, v, dst);
        ew__collection_push_entries(ctx, v);
        duk_idx_t entries = duk_get_top_index(ctx);
        duk_size_t n = duk_get_length(ctx, entries);
        int stride = kind == EW__COLL_MAP ? 2 : 1;
        for (duk_size_t i = 0; i < n; i += (duk_size_t) stride) {
            duk_get_prop_index(ctx, entries, (duk_uarridx_t) i);
            clone_value(ctx, c, -1);
            if (stride == 2) {
                duk_get_prop_index(ctx, entries, (duk_uarridx_t) i + 1);
                clone_value(ctx, c, -1);
                ew__collection_add(ctx, dst, -3, -1);
                duk_pop_n(ctx, 4);
            } else {
                ew__collection_add(ctx, dst, -1, -1);
                duk_pop_2(ctx);
            }
        }
        duk_pop(ctx);
        return;
    }
    if (!proto_is_object_prototype(ctx, v)) {
        if (push_blob_clone(ctx, v)) {
            memory_add(ctx, c, v, -1);
            return;
        }
        if (is_platform_object(ctx, v))
            (void) uncloneable(ctx, v);
    }
    duk_push_object(ctx);
    memory_add(ctx, c, v, -1);
    copy_properties(ctx, c, v, duk_get_top_index(ctx));
}

/* Pushes the clone of the value at v. */
static void clone_value(duk_context *ctx, clone_t *c, duk_idx_t v)
{
    v = duk_require_normalize_index(ctx, v);
    switch (duk_get_type(ctx, v)) {
    case DUK_TYPE_UNDEFINED:
    case DUK_TYPE_NULL:
    case DUK_TYPE_BOOLEAN:
    case DUK_TYPE_NUMBER:
        duk_dup(ctx, v);
        return;
    case DUK_TYPE_STRING:
        if (duk_is_symbol(ctx, v))
            (void) uncloneable(ctx, v);
        duk_dup(ctx, v);
        return;
    case DUK_TYPE_OBJECT:
        break;
    default: /* plain buffers, pointers, lightfuncs: never given to scripts except lightfuncs */
        (void) uncloneable(ctx, v);
    }
    if (duk_is_function(ctx, v))
        (void) uncloneable(ctx, v);
    uint32_t found = memory_find(ctx, c, duk_get_heapptr(ctx, v));
    if (found != UINT32_MAX) {
        duk_get_prop_index(ctx, c->dsts, found);
        return;
    }
    if (++c->depth > MAX_DEPTH)
        (void) duk_error(ctx, DUK_ERR_RANGE_ERROR, "Maximum call stack size exceeded");
    duk_require_stack(ctx, 16);
    clone_object(ctx, c, v);
    c->depth--;
}

/* True if the value at idx is a MessagePort (message.js state { port: 1 }; none exists before the file is
 * loaded, so nothing is loaded to answer). */
static bool is_port(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx))
        return false;
    duk_get_prop_literal(ctx, idx, EW__LAZY_STATE_KEY);
    bool is = false;
    if (duk_is_object(ctx, -1)) {
        duk_get_prop_literal(ctx, -1, "port");
        is = duk_get_int(ctx, -1) == 1;
        duk_pop(ctx);
    }
    duk_pop(ctx);
    return is;
}

static bool port_detached(duk_context *ctx, duk_idx_t idx)
{
    duk_get_prop_literal(ctx, idx, EW__LAZY_STATE_KEY);
    duk_get_prop_literal(ctx, -1, "detached");
    bool yes = duk_to_boolean(ctx, -1);
    duk_pop_2(ctx);
    return yes;
}

/* Checks one entry of a transfer list (on top) against those before it (list[0..n)); source: the port
 * posting the message (its own transfer is refused), 0 when none. */
static void check_transferable(duk_context *ctx, duk_idx_t list, duk_uarridx_t n, duk_idx_t source)
{
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "Failed to execute 'structuredClone': Iterator value is not an object.");
    bool port = is_port(ctx, -1);
    if (port) {
        if (source != 0 && duk_samevalue(ctx, -1, source))
            (void) ew__domexception_throw(ctx, "DataCloneError", "Port at index %u contains the source port.",
                                          (unsigned) n);
        if (port_detached(ctx, -1))
            (void) ew__domexception_throw(ctx, "DataCloneError", "Port at index %u is already neutered.",
                                          (unsigned) n);
    } else if (ew__duk_class_number(ctx, -1) != CLS_ARRAYBUFFER) {
        (void) uncloneable(ctx, -1);
    } else if (is_detached(ctx, -1)) {
        (void) ew__domexception_throw(ctx, "DataCloneError", "An ArrayBuffer is detached and could not be transferred.");
    }
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, list, i);
        bool dup = duk_samevalue(ctx, -1, -2);
        duk_pop(ctx);
        if (dup && port)
            (void) ew__domexception_throw(ctx, "DataCloneError", "Port at index %u is a duplicate of an earlier port.",
                                          (unsigned) n);
        if (dup)
            (void) ew__domexception_throw(ctx, "DataCloneError",
                                          "ArrayBuffer at index %u is a duplicate of an earlier ArrayBuffer.",
                                          (unsigned) n);
    }
}

/* Reads options.transfer into a new array of ArrayBuffers and MessagePorts (pushed), checking each. */
static void push_transfer_list(duk_context *ctx, duk_idx_t options)
{
    duk_push_array(ctx);
    duk_idx_t list = duk_get_top_index(ctx);
    if (duk_is_null_or_undefined(ctx, options))
        return;
    if (!duk_is_object(ctx, options))
        (void) duk_type_error(ctx, "Failed to execute 'structuredClone': The provided value is not of type "
                                   "'StructuredSerializeOptions'.");
    duk_get_prop_literal(ctx, options, "transfer");
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        return;
    }
    ew__iter_t it;
    ew__iter_open(ctx, -1, &it, NULL);
    duk_uarridx_t n = 0;
    while (ew__iter_step(ctx, &it)) {
        check_transferable(ctx, list, n, 0);
        duk_put_prop_index(ctx, list, n++);
    }
    duk_pop_2(ctx); /* iterator and next */
    duk_pop(ctx);   /* transfer */
}

void ew__clone_push(duk_context *ctx, duk_idx_t value, duk_idx_t transfer)
{
    ew__clone_push_ports(ctx, value, transfer, 0);
}

void ew__clone_push_ports(duk_context *ctx, duk_idx_t value, duk_idx_t transfer, duk_idx_t ports_out)
{
    value = duk_require_normalize_index(ctx, value);
    transfer = duk_require_normalize_index(ctx, transfer);
    if (ports_out != 0)
        ports_out = duk_require_normalize_index(ctx, ports_out);
    clone_t c = {0};
    c.srcs = duk_push_array(ctx);
    c.dsts = duk_push_array(ctx);
    c.cap = 16;
    duk_push_fixed_buffer(ctx, c.cap * sizeof(slot_t));
    c.table = duk_get_top_index(ctx);
    duk_size_t n = duk_get_length(ctx, transfer);
    duk_uarridx_t nports = 0;
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, transfer, (duk_uarridx_t) i);
        if (is_port(ctx, -1)) {
            ew__lazy_push(ctx, EW__LAZY_MESSAGE, "_portShell");
            duk_call(ctx, 0);
            if (ports_out != 0) {
                duk_dup_top(ctx);
                duk_put_prop_index(ctx, ports_out, nports++);
            }
        } else {
            push_buffer_copy(ctx, -1);
        }
        memory_add(ctx, &c, -2, -1);
        duk_pop_2(ctx);
    }
    clone_value(ctx, &c, value);
    /* The clone succeeded: now the transfers happen (none did if it failed). */
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, transfer, (duk_uarridx_t) i);
        if (is_port(ctx, -1)) {
            ew__lazy_push(ctx, EW__LAZY_MESSAGE, "_portMove");
            duk_dup(ctx, -2);
            duk_get_prop_index(ctx, c.dsts, memory_find(ctx, &c, duk_get_heapptr(ctx, -1)));
            duk_call(ctx, 2);
            duk_pop(ctx);
        } else {
            ew__duk_buffer_detach(ctx, -1);
            duk_push_true(ctx);
            duk_put_prop_literal(ctx, -2, DETACHED_KEY);
        }
        duk_pop(ctx);
    }
    duk_replace(ctx, c.srcs);
    duk_pop_2(ctx);
}

/* structuredClone(value, options) */
static duk_ret_t structured_clone(duk_context *ctx)
{
    if (duk_get_top(ctx) < 1)
        return duk_type_error(ctx, "Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
    duk_set_top(ctx, 2);
    push_transfer_list(ctx, 1);
    ew__clone_push(ctx, 0, 2);
    return 1;
}

/* native.structuredClone(value, transferArray, sourcePort, portsOut): the list is checked as
 * structuredClone's (sourcePort may not be in it); the new ports, in list order, go into portsOut. */
duk_ret_t ew__clone_native(duk_context *ctx)
{
    duk_set_top(ctx, 4);
    if (!duk_is_array(ctx, 1)) {
        duk_push_array(ctx);
        duk_replace(ctx, 1);
    }
    duk_push_array(ctx);
    duk_idx_t list = duk_get_top_index(ctx);
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, 1);
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, 1, i);
        check_transferable(ctx, list, i, is_port(ctx, 2) ? 2 : 0);
        duk_put_prop_index(ctx, list, i);
    }
    ew__clone_push_ports(ctx, 0, list, duk_is_array(ctx, 3) ? 3 : 0);
    return 1;
}

static const ew__method_t clone_functions[] = {
    {"structuredClone", structured_clone, DUK_VARARGS, 1},
    {NULL, NULL, 0, 0},
};

void ew__clone_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    ew__def_methods(ctx, global_idx, clone_functions);
    duk_push_global_stash(ctx);
    duk_get_prop_literal(ctx, global_idx, "Date");
    duk_get_prop_literal(ctx, global_idx, "RegExp");
    ew__web_pack(ctx, 2);
    duk_put_prop_literal(ctx, -2, CTORS_KEY);
    duk_pop(ctx);
}
