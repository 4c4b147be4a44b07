/*
 * lib/web/domexception.h — DOMException (domexception.c) for the C code of lib/web that reports errors by
 * the Web specs' names (crypto, encoding, later streams and fetch aborts), and the small class helper the
 * crypto and encoding modules share.
 */
#ifndef EW_WEB_DOMEXCEPTION_H
#define EW_WEB_DOMEXCEPTION_H

#include "internal.h"

/* Heap stash keys of the prototypes these modules keep (C code never looks them up on the global object,
 * which a script may have changed). */
#define EW__STASH_DOMEXCEPTION DUK_HIDDEN_SYMBOL("pDE")

/* Installs DOMException on the global object. Call once per heap from ew__web_init(). May throw. */
void ew__domexception_init(duk_context *ctx, duk_idx_t global_idx);
/* Pushes a new DOMException with `name` (a WebIDL error name such as "DataError", a static string) and a
 * printf-style message. It is an Error object (stack, fileName, lineNumber) whose prototype is
 * DOMException.prototype. May throw a Duktape alloc error. */
void ew__domexception_push(duk_context *ctx, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The name of the DOMException at idx (a static or heap string valid while it stays reachable), or NULL if
 * the value is not one. Runs no script. */
const char *ew__domexception_name(duk_context *ctx, duk_idx_t idx);
/* Pushes and throws a new DOMException. Never returns. */
duk_ret_t ew__domexception_throw(duk_context *ctx, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

/* Returns the bytes of the BufferSource (ArrayBuffer, typed array, DataView) at idx, never NULL (a static
 * empty array for 0 bytes); throws TypeError naming `what` for anything else. Valid while the value stays
 * on the stack and no script runs. */
const uint8_t *ew__dom_require_bytes(duk_context *ctx, duk_idx_t idx, size_t *len, const char *what);

/* Defines a class made of native functions on the global object (when global_idx is valid) and stores its
 * prototype in the heap stash under stash_key. Like ew__web_def_class() (web.c) without the fixed slot
 * registry. Leaves the prototype pushed and returns its index. */
duk_idx_t ew__dom_def_class(duk_context *ctx, duk_idx_t global_idx, const ew__class_t *cls, const char *stash_key);
/* Pushes the prototype stored under stash_key (undefined if none). */
void ew__dom_push_proto(duk_context *ctx, const char *stash_key);

#endif /* EW_WEB_DOMEXCEPTION_H */
