/*
 * domexception.c — the WebIDL DOMException (https://webidl.spec.whatwg.org/#idl-DOMException): the error
 * type the Web specs throw with a name ("NotSupportedError", "DataError", ...) and a legacy numeric code.
 *
 * Instances are real Duktape Error objects (class Error, so they carry `stack`, fileName and lineNumber from
 * Duktape's traceback machinery) whose prototype is DOMException.prototype, which inherits Error.prototype.
 * The name lives in a hidden property and is read by the `name` and `code` getters on the prototype, as
 * WebIDL specifies; `message` stays an own data property because Duktape's error objects hold it that way
 * (the spec has a getter; the difference is only visible to getOwnPropertyNames). The constructor returns
 * the Error object it builds in place of the plain `this` Duktape made, so `new DOMException()` in script has
 * a stack too. The legacy code constants sit on the constructor and the prototype, as WebIDL requires.
 * C callers use ew__domexception_push()/_throw() (domexception.h). Installed by ew__web_init() (web.c).
 */
#include <stdarg.h>
#include <string.h>

#include "domexception.h"

#define DE_NAME DUK_HIDDEN_SYMBOL("dn")

/* WebIDL's error names table: legacy code of each name (0 = none: DataError, OperationError, ...). */
static const struct {
    const char *name;
    const char *constant;
    int code;
} names[] = {
    {"IndexSizeError", "INDEX_SIZE_ERR", 1},
    {NULL, "DOMSTRING_SIZE_ERR", 2},
    {"HierarchyRequestError", "HIERARCHY_REQUEST_ERR", 3},
    {"WrongDocumentError", "WRONG_DOCUMENT_ERR", 4},
    {"InvalidCharacterError", "INVALID_CHARACTER_ERR", 5},
    {NULL, "NO_DATA_ALLOWED_ERR", 6},
    {"NoModificationAllowedError", "NO_MODIFICATION_ALLOWED_ERR", 7},
    {"NotFoundError", "NOT_FOUND_ERR", 8},
    {"NotSupportedError", "NOT_SUPPORTED_ERR", 9},
    {"InUseAttributeError", "INUSE_ATTRIBUTE_ERR", 10},
    {"InvalidStateError", "INVALID_STATE_ERR", 11},
    {"SyntaxError", "SYNTAX_ERR", 12},
    {"InvalidModificationError", "INVALID_MODIFICATION_ERR", 13},
    {"NamespaceError", "NAMESPACE_ERR", 14},
    {"InvalidAccessError", "INVALID_ACCESS_ERR", 15},
    {NULL, "VALIDATION_ERR", 16},
    {"TypeMismatchError", "TYPE_MISMATCH_ERR", 17},
    {"SecurityError", "SECURITY_ERR", 18},
    {"NetworkError", "NETWORK_ERR", 19},
    {"AbortError", "ABORT_ERR", 20},
    {"URLMismatchError", "URL_MISMATCH_ERR", 21},
    {"QuotaExceededError", "QUOTA_EXCEEDED_ERR", 22},
    {"TimeoutError", "TIMEOUT_ERR", 23},
    {"InvalidNodeTypeError", "INVALID_NODE_TYPE_ERR", 24},
    {"DataCloneError", "DATA_CLONE_ERR", 25},
};

/* Turns the Error object at err_idx into a DOMException named by the string at name_idx, with the
 * prototype at proto_idx. */
static void brand(duk_context *ctx, duk_idx_t err_idx, duk_idx_t name_idx, duk_idx_t proto_idx)
{
    err_idx = duk_require_normalize_index(ctx, err_idx);
    duk_dup(ctx, proto_idx);
    duk_set_prototype(ctx, err_idx);
    duk_dup(ctx, name_idx);
    duk_put_prop_literal(ctx, err_idx, DE_NAME);
}

static void push_va(duk_context *ctx, const char *name, const char *fmt, va_list ap)
{
    ew__dom_push_proto(ctx, EW__STASH_DOMEXCEPTION);
    ew__web_push_static(ctx, name);
    duk_push_error_object_va(ctx, DUK_ERR_ERROR, fmt, ap);
    brand(ctx, -1, -2, -3);
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

void ew__domexception_push(duk_context *ctx, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push_va(ctx, name, fmt, ap);
    va_end(ap);
}

duk_ret_t ew__domexception_throw(duk_context *ctx, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    push_va(ctx, name, fmt, ap);
    va_end(ap);
    (void) duk_throw(ctx);
    __builtin_unreachable();
}

const char *ew__domexception_name(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx))
        return NULL;
    duk_get_prop_literal(ctx, idx, DE_NAME);
    const char *name = duk_get_string(ctx, -1);
    duk_pop(ctx);
    return name;
}

/* new DOMException(message = "", name = "Error"). */
static duk_ret_t de_ctor(duk_context *ctx)
{
    duk_idx_t self = ew__web_construct_this(ctx, "DOMException");
    const char *msg = duk_is_undefined(ctx, 0) ? "" : duk_to_string(ctx, 0);
    if (duk_is_undefined(ctx, 1))
        duk_push_literal(ctx, "Error");
    else
        duk_dup(ctx, 1);
    duk_to_string(ctx, -1);
    duk_idx_t name = duk_get_top_index(ctx);
    duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", msg);
    duk_get_prototype(ctx, self); /* new.target's prototype: subclasses keep theirs */
    brand(ctx, -2, name, -1);
    duk_pop(ctx);
    return 1;
}

/* Pushes the hidden name of `this`; TypeError for anything that is not a DOMException. */
static void push_this_name(duk_context *ctx)
{
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1) || !duk_get_prop_literal(ctx, -1, DE_NAME) || !duk_is_string(ctx, -1))
        (void) duk_type_error(ctx, "Illegal invocation: this is not a DOMException");
}

static duk_ret_t de_name(duk_context *ctx)
{
    push_this_name(ctx);
    return 1;
}

static duk_ret_t de_code(duk_context *ctx)
{
    push_this_name(ctx);
    const char *n = duk_get_string(ctx, -1);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].name != NULL && strcmp(names[i].name, n) == 0) {
            duk_push_int(ctx, names[i].code);
            return 1;
        }
    }
    duk_push_int(ctx, 0);
    return 1;
}

static void def_constants(duk_context *ctx, duk_idx_t obj_idx)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        duk_push_string(ctx, names[i].constant);
        duk_push_int(ctx, names[i].code);
        duk_def_prop(ctx, obj_idx, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_ENUMERABLE |
                                       DUK_DEFPROP_CLEAR_WRITABLE | DUK_DEFPROP_CLEAR_CONFIGURABLE);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Class helpers shared with crypto and encoding (domexception.h)
 */

const uint8_t *ew__dom_require_bytes(duk_context *ctx, duk_idx_t idx, size_t *len, const char *what)
{
    static const uint8_t empty[1];
    if (!duk_is_buffer_data(ctx, idx))
        (void) duk_type_error(ctx, "%s must be an ArrayBuffer or ArrayBufferView", what);
    duk_size_t n = 0;
    const uint8_t *p = duk_get_buffer_data(ctx, idx, &n);
    *len = n;
    return p != NULL ? p : empty;
}

void ew__dom_push_proto(duk_context *ctx, const char *stash_key)
{
    duk_push_global_stash(ctx);
    duk_get_prop_string(ctx, -1, stash_key);
    duk_remove(ctx, -2);
}

duk_idx_t ew__dom_def_class(duk_context *ctx, duk_idx_t global_idx, const ew__class_t *cls, const char *stash_key)
{
    global_idx = duk_normalize_index(ctx, global_idx);
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

    duk_push_global_stash(ctx);
    duk_dup(ctx, proto);
    duk_put_prop_string(ctx, -2, stash_key);
    duk_pop(ctx);
    if (global_idx != DUK_INVALID_INDEX) {
        duk_dup(ctx, ctor);
        ew__def_hidden_value(ctx, global_idx, cls->name);
    }
    duk_remove(ctx, ctor);
    return duk_get_top_index(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * JS surface
 *
 *   DOMException(message, name)   de_ctor       constructor
 *   DOMException.prototype.name   de_name       getter
 *   DOMException.prototype.code   de_code       getter
 *   INDEX_SIZE_ERR ... DATA_CLONE_ERR            constants on the constructor and the prototype
 */

static const ew__getter_t de_getters[] = {
    {"name", de_name},
    {"code", de_code},
    {NULL, NULL},
};

static const ew__class_t de_class = {
    .name = "DOMException",
    .ctor = de_ctor,
    .ctor_nargs = 2,
    .ctor_length = 0,
    .getters = de_getters,
};

void ew__domexception_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    duk_idx_t proto = ew__dom_def_class(ctx, global_idx, &de_class, EW__STASH_DOMEXCEPTION);
    duk_get_prop_literal(ctx, global_idx, "Error");
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_set_prototype(ctx, proto);
    duk_pop(ctx);
    def_constants(ctx, proto);
    duk_get_prop_literal(ctx, proto, "constructor");
    def_constants(ctx, duk_get_top_index(ctx));
    duk_pop_2(ctx);
}
