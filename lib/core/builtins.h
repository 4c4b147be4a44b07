/*
 * builtins.h — what the builtin_*.c files share with each other; nothing else includes it. The rest of the
 * library sees only ew__builtins_init() (internal.h). These files add the ES2015–ES2023 library methods
 * Duktape 2.7 lacks (Array, %TypedArray%, Object, String, Math, Symbol, iterators, Error cause, HTTP dates).
 *
 * Conventions: lengths and indices are doubles (ToLength allows up to 2^53 - 1, beyond Duktape's 32-bit
 * array indices); user code is called with plain duk_call so that its errors propagate (invariant 2 needs
 * no rethrow then); the only protected call is the iterator-closing loop in builtin_iter.c.
 */
#ifndef EW_CORE_BUILTINS_H
#define EW_CORE_BUILTINS_H

#include "internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Property access by double index (builtin_array.c). Each works for any k in [0, 2^53).
 */

/* Pushes O[k]. */
void ew__bi_get(duk_context *ctx, duk_idx_t obj, double k);
/* HasProperty(O, k). */
bool ew__bi_has(duk_context *ctx, duk_idx_t obj, double k);
/* Set(O, k, value on top, true): pops the value; throws on failure. */
void ew__bi_put(duk_context *ctx, duk_idx_t obj, double k);
/* CreateDataPropertyOrThrow(O, k, value on top): pops the value. */
void ew__bi_define(duk_context *ctx, duk_idx_t obj, double k);
/* ToLength(O.length). May throw. */
double ew__bi_length(duk_context *ctx, duk_idx_t obj);
/* ToLength(value at idx). May throw. */
double ew__bi_to_length(duk_context *ctx, duk_idx_t idx);
/* ToIntegerOrInfinity(value at idx). May throw. */
double ew__bi_to_integer(duk_context *ctx, duk_idx_t idx);
/* SameValueZero of the values at a and b. */
bool ew__bi_same_value_zero(duk_context *ctx, duk_idx_t a, duk_idx_t b);
/* Pushes a fresh Array and sets its length (RangeError if len > 2^32 - 1). */
void ew__bi_push_array(duk_context *ctx, double len);
/* IsRegExp without @@match (Duktape has no Symbol.match): the value at idx is an object of class RegExp
 * (builtin_string.c). */
bool ew__bi_is_regexp(duk_context *ctx, duk_idx_t idx);
/* True if the value at idx is a typed array (not an ArrayBuffer or DataView). */
bool ew__bi_is_typed_array(duk_context *ctx, duk_idx_t idx);

/* RelativeIndex of the value at idx clamped to [0, len]; undefined gives dflt. May throw. */
double ew__bi_clamp_index(duk_context *ctx, duk_idx_t idx, double len, double dflt);
/* Defines get C[@@species] returning this on the object at obj. */
void ew__bi_def_species(duk_context *ctx, duk_idx_t obj);

/* Magic bit of the methods shared by Array.prototype and %TypedArray%.prototype: `this` must be a typed
 * array (ValidateTypedArray) and results of the copying methods are typed arrays of the same type. */
#define EW__BI_TYPED 0x100
/* Duktape's class numbers of the typed arrays (Int8Array .. Float64Array), as duk_inspect_value shows. */
#define EW__BI_CLASS_INT8ARRAY 21
#define EW__BI_TYPED_KINDS 9
/* Kind (0 Int8Array .. 8 Float64Array) of the typed array at idx, or -1. */
int ew__bi_typed_kind(duk_context *ctx, duk_idx_t idx);
/* Pushes ToObject(this), or this after ValidateTypedArray when the magic has EW__BI_TYPED; returns its
 * index and stores its length in *len. May throw. */
duk_idx_t ew__bi_push_this(duk_context *ctx, double *len);
/* Pushes a new typed array of the same type as the one at o, of length len (builtin_typed.c). */
void ew__bi_typed_push_same(duk_context *ctx, duk_idx_t o, double len);

/* ---------------------------------------------------------------------------------------------------------
 * Iterators (builtin_iter.c)
 */

/* Kinds of the built-in iterators made by ew__bi_push_iterator. */
enum {
    EW__BI_IT_KEYS = 0,     /* Array Iterator, "keys" */
    EW__BI_IT_VALUES = 1,   /* Array Iterator, "values" */
    EW__BI_IT_ENTRIES = 2,  /* Array Iterator, "key+value" */
    EW__BI_IT_STRING = 3,   /* String Iterator (the target is a string) */
    EW__BI_IT_REGEXP = 4,   /* RegExp String Iterator of a global regexp (target: regexp, extra: string) */
    EW__BI_IT_REGEXP1 = 5   /* RegExp String Iterator of a non-global regexp: one match at most */
};

/* Pushes a new iterator of `kind` over the value at target (and the string at extra for the RegExp
 * kinds; extra is ignored otherwise). */
void ew__bi_push_iterator(duk_context *ctx, duk_idx_t target, int kind, duk_idx_t extra);
/* Replaces the value on top with a fresh { value, done } object. */
void ew__bi_iter_result(duk_context *ctx, bool done);

/* Body of a loop over an iterable: called with the item on top (to be consumed), may throw. */
typedef void (*ew__bi_each_fn)(duk_context *ctx, void *udata, double index);

/* For each value of the iterable at iterable, whose @@iterator method is at method: pushes the value and
 * calls fn. When fn throws, the iterator is closed (its `return` called, its own error ignored) and the
 * error rethrown, as IteratorClose for a throw completion; a limit (invariant 2) closes nothing. Arrays
 * with the built-in, unmodified iterator are walked by index (the same observable reads). May throw. */
void ew__bi_iterate(duk_context *ctx, duk_idx_t iterable, duk_idx_t method, ew__bi_each_fn fn, void *udata);
/* Pushes the @@iterator method of the value at idx (GetMethod: undefined when absent; TypeError when
 * present but not callable). */
void ew__bi_push_iterator_method(duk_context *ctx, duk_idx_t idx);

/* Pushes the normalization of the string at s: form 0 NFC, 1 NFD, 2 NFKC, 3 NFKD (unicode_norm.c). */
void ew__unicode_normalize(duk_context *ctx, duk_idx_t s, int form);

/* ---------------------------------------------------------------------------------------------------------
 * Per-file installation, called in this order by ew__builtins_init (builtin_misc.c)
 */

void ew__bi_iter_init(duk_context *ctx);
/* Pushes %IteratorPrototype% (created in the heap stash on first use). */
void ew__bi_push_iterator_prototype(duk_context *ctx);
void ew__bi_array_init(duk_context *ctx);
void ew__bi_typed_init(duk_context *ctx);
void ew__bi_object_init(duk_context *ctx);
/* Replaces the helper object's (at `helpers`) script objectSpread with the C one, which keeps it for Proxy
 * sources and literal pieces. */
void ew__bi_object_spread_install(duk_context *ctx, duk_idx_t helpers);
/* Replaces the helpers iterFast, arr, spread and concat (object at helpers) by their C versions
 * (builtin_iterfast.c). */
void ew__bi_iterfast_install(duk_context *ctx, duk_idx_t helpers);
void ew__bi_string_init(duk_context *ctx);
void ew__bi_number_init(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Defining built-ins (builtin_misc.c)
 */

/* One entry of a method table. A name starting with '@' names a well-known symbol: "@iterator" is defined
 * under Symbol.iterator with the function name "[Symbol.iterator]". */
typedef struct ew__bi_method {
    const char *name;
    duk_c_function fn;
    int8_t nargs;     /* DUK_VARARGS or the fixed count */
    uint8_t length;   /* the JS-visible .length */
    int16_t magic;    /* duk_get_current_magic() */
} ew__bi_method_t;

/* Pushes a native function with %Function.prototype% as its prototype and own name and length. */
void ew__bi_push_function(duk_context *ctx, const ew__bi_method_t *m);
/* Defines each method of the table (ends with name NULL) on the object at obj, writable, configurable,
 * non-enumerable. */
void ew__bi_def_methods(duk_context *ctx, duk_idx_t obj, const ew__bi_method_t *methods);
/* Same on the global's `name` (or its .prototype when proto is true). */
void ew__bi_install(duk_context *ctx, const char *name, bool proto, const ew__bi_method_t *methods);
/* Defines obj[@@toStringTag] = tag (non-writable, non-enumerable, configurable). */
void ew__bi_def_tag(duk_context *ctx, duk_idx_t obj, const char *tag);
/* Array.prototype methods that %TypedArray%.prototype shares (builtin_array.c); name NULL ends it. */
extern const ew__bi_method_t ew__bi_array_shared[];
/* Stores Array.prototype.values for the fast path of ew__bi_iterate (builtin_iter.c). */
void ew__bi_iter_keep_values(duk_context *ctx);

#endif /* EW_CORE_BUILTINS_H */
