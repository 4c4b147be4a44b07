/*
 * collections.h — what the files behind the keyed collections share with each other (collections.c,
 * ordered_table.c, map_set.c, set_methods.c, weak.c); nothing else includes it. The rest of the library
 * sees only ew__collections_init() and the %IteratorPrototype% stash key in internal.h.
 *
 * Layering: ordered_table.c is the insertion-ordered hash table behind Map and Set (and behind the keys of
 * the weak collections that cannot carry hidden properties); collections.c holds the intrinsics, the
 * iteration protocol and the helpers that build built-in functions; map_set.c, set_methods.c and weak.c
 * are the JS surface. The design is written above the functions that implement it, in ordered_table.c and weak.c.
 */
#ifndef EW_CORE_COLLECTIONS_H
#define EW_CORE_COLLECTIONS_H

#include "internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Intrinsics (collections.c): heap pointers found through the heap stash, kept reachable by a stash array.
 */

typedef struct ew__coll_intrinsics {
    void *fn_proto;        /* %Function.prototype% */
    void *iterator;        /* @@iterator */
    void *species;         /* @@species */
    void *to_string_tag;   /* @@toStringTag */
    void *iter_proto;      /* %IteratorPrototype% */
    void *map_proto;       /* %Map.prototype% */
    void *map_iter_proto;  /* %MapIteratorPrototype% */
    void *set_proto;       /* %Set.prototype% */
    void *set_iter_proto;  /* %SetIteratorPrototype% */
    void *map_set;         /* %Map.prototype.set%: the constructor's adder fast path */
    void *set_add;         /* %Set.prototype.add% */
    void *weak_map_set;    /* %WeakMap.prototype.set% */
    void *weak_set_add;    /* %WeakSet.prototype.add% */
    void *array_values;    /* %Array.prototype.values% if the engine has it (builtin_iter.c), else NULL */
    void *array_iter_proto; /* %ArrayIteratorPrototype%, with array_values */
    void *array_iter_next; /* its original next, with array_values */
    uint64_t next_weak_id; /* numbers the hidden keys of weak collections (weak.c) */
} ew__coll_intrinsics_t;

/* The intrinsics of this heap (mutable: weak.c counts ids in it). Valid while the heap lives. */
ew__coll_intrinsics_t *ew__coll_intrinsics(duk_context *ctx);
/* Keeps the value on top reachable for the heap's lifetime (popped). */
void ew__coll_keep(duk_context *ctx);

/* ---------------------------------------------------------------------------------------------------------
 * Building built-ins (collections.c)
 */

/* Pushes a constructor `name` of `length` calling fn, with the object at proto as its "prototype"
 * (non-writable, non-configurable) and proto.constructor pointing back. */
void ew__coll_push_ctor(duk_context *ctx, duk_c_function fn, const char *name, int length, duk_idx_t proto);
/* ew__def_methods() plus %Function.prototype% as each method's prototype. */
void ew__coll_def_methods(duk_context *ctx, duk_idx_t obj, const ew__method_t *methods);
/* Defines a getter named "get <name>" (length 0) for the property `name` (a string) or, when sym is not
 * NULL, for that symbol with the name "get [<name>]". */
void ew__coll_def_getter(duk_context *ctx, duk_idx_t obj, const char *name, void *sym, duk_c_function fn);
/* Defines obj[@@toStringTag] = tag (non-writable, non-enumerable, configurable). */
void ew__coll_def_tag(duk_context *ctx, duk_idx_t obj, const char *tag);
/* Defines get obj[@@species] returning this. */
void ew__coll_def_species(duk_context *ctx, duk_idx_t obj);
/* Writes the value on top (popped) to the hidden slot `key` of the object at obj even if the object is
 * frozen: internal slots in the spec, which Object.freeze does not touch. A new slot gets no attributes
 * (so a frozen object stays frozen); an existing one keeps its own. Never runs user code. */
void ew__coll_put_slot(duk_context *ctx, duk_idx_t obj, const char *key);
/* Throws TypeError("<what>: incompatible receiver"). */
duk_ret_t ew__coll_bad_this(duk_context *ctx, const char *what);

/* ---------------------------------------------------------------------------------------------------------
 * Iteration protocol (collections.c): GetIterator, IteratorStepValue, IteratorClose. An array whose
 * iteration nobody changed (its @@iterator is the intrinsic Array.prototype.values and
 * %ArrayIteratorPrototype%.next is the original) is walked directly, with the same reads as its iterator
 * and without its objects; so are arrays and strings on a bare Duktape heap, which has no such iterators.
 */

/* The shared iterator protocol of lib/core/iter.c, under the names the collection files use. */
enum { EW__IT_PROTOCOL = EW__ITER_PROTOCOL, EW__IT_ARRAY = EW__ITER_ARRAY, EW__IT_STRING = EW__ITER_STRING };
typedef ew__iter_t ew__coll_iter_t;

/* GetIterator(value at v): pushes two values (iterator and next). May throw. */
void ew__coll_get_iterator(duk_context *ctx, duk_idx_t v, ew__coll_iter_t *it);
#define ew__coll_iter_step ew__iter_step
#define ew__coll_iter_close ew__iter_close

/* Adds one value (pairs: key, value) to the collection at target; may throw. */
typedef void (*ew__coll_add_fn)(duk_context *ctx, duk_idx_t target, duk_idx_t key, duk_idx_t value);

/* AddEntriesFromIterable / the Set constructor's loop: reads target[adder_name] once (TypeError if not
 * callable), then for each item of the iterable at iterable calls it with the item (pairs = false) or
 * with item[0], item[1] (pairs = true; a non-object item is a TypeError), closing the iterator on an
 * abrupt completion. When the adder is `intrinsic` (the unmodified built-in), `direct` is called instead:
 * same effect, no JS call. May throw. */
void ew__coll_add_all(duk_context *ctx, duk_idx_t target, duk_idx_t iterable, const char *adder_name,
                      void *intrinsic, ew__coll_add_fn direct, bool pairs);

/* ---------------------------------------------------------------------------------------------------------
 * Insertion-ordered hash table (ordered_table.c)
 *
 * A holder object (a Map, a Set, or an internal object of a weak collection) carries the table in hidden
 * slots. The C part — a header, the buckets and one 16-byte entry per key — is a Duktape buffer; the JS
 * values (the keys, and for stride 2 the values) are in a bare array, `stride` slots per entry, in
 * insertion order. Keys are identified in C without touching JS (see okey_t in ordered_table.c).
 */

enum { EW__OTAB_MAP = 1, EW__OTAB_SET = 2, EW__OTAB_WEAK = 3 };

typedef struct ew__otab {
    void *owner;      /* heap pointer of the holder: the brand, and proof the slot is not inherited */
    void *vals;       /* heap pointer of the values array (kept reachable by the holder) */
    void *gen;        /* current generation object, NULL until the first iteration (ordered_table.c) */
    uint32_t kind;    /* EW__OTAB_* */
    uint32_t stride;  /* JS slots per entry in vals: 2 (key, value) or 1 (key) */
    uint32_t size;    /* live entries */
    uint32_t used;    /* entries [0, used) are taken, deleted ones included */
    uint32_t cap;     /* entry capacity = number of buckets: 0 or a power of two */
    uint32_t spare;
} ew__otab_t;

#define EW__OTAB_NONE UINT32_MAX

/* Makes the object at obj a holder of an empty table of `kind` (stride 2 for maps, else 1). */
void ew__otab_create(duk_context *ctx, duk_idx_t obj, uint32_t kind);
/* The table of the object at idx if it holds one of `kind` as an own slot, else NULL. Never throws. The
 * pointer is valid until the table is next modified. */
ew__otab_t *ew__otab_of(duk_context *ctx, duk_idx_t idx, uint32_t kind);
/* Entry index of the key at key (SameValueZero), or EW__OTAB_NONE. */
uint32_t ew__otab_find(duk_context *ctx, const ew__otab_t *t, duk_idx_t key);
/* Pushes JS slot `slot` (0 key, 1 value) of entry i. */
void ew__otab_push(duk_context *ctx, const ew__otab_t *t, uint32_t i, uint32_t slot);
/* Sets the key at key (-0 stored as +0) to the value at value (ignored for stride 1), appending it if
 * new. May throw (allocation, RangeError past 2^27 entries). */
void ew__otab_set(duk_context *ctx, duk_idx_t obj, duk_idx_t key, duk_idx_t value);
/* Overwrites the value of entry i with the value at value (stride 2). May throw (allocation). */
void ew__otab_set_value(duk_context *ctx, const ew__otab_t *t, uint32_t i, duk_idx_t value);
/* Removes the key; returns whether it was there. May throw (allocation while shrinking). */
bool ew__otab_delete(duk_context *ctx, duk_idx_t obj, duk_idx_t key);
/* Removes every entry. May throw (allocation). */
void ew__otab_clear(duk_context *ctx, duk_idx_t obj);

/* A position in a table that survives deletions, compactions and clear() (the spec's live iteration). */
typedef struct ew__otab_cursor {
    uint32_t index;  /* next entry to look at, in the numbering of generation gen */
    void *gen;       /* the generation that numbering belongs to; the caller keeps it reachable */
} ew__otab_cursor_t;

/* Starts a cursor at the first entry and pushes its generation object, which the caller must keep
 * reachable while it uses the cursor (or until it stores a newer one, see ew__otab_next). */
void ew__otab_cursor_start(duk_context *ctx, duk_idx_t obj, ew__otab_cursor_t *c);
/* Next live entry of the table at obj at or after the cursor, or EW__OTAB_NONE at the end; *t is set to
 * the table (for ew__otab_push). Moves the cursor past the entry; c->gen may change to the table's
 * current generation (reachable from the holder), and the caller should then keep that one instead. */
uint32_t ew__otab_next(duk_context *ctx, duk_idx_t obj, ew__otab_cursor_t *c, const ew__otab_t **t);

/* ---------------------------------------------------------------------------------------------------------
 * Installation of each part
 */

void ew__coll_map_set_init(duk_context *ctx, duk_idx_t global);
/* Defines union, intersection, ... on %Set.prototype% at set_proto (set_methods.c). */
void ew__coll_set_methods_init(duk_context *ctx, duk_idx_t set_proto);
void ew__coll_weak_init(duk_context *ctx, duk_idx_t global);

#endif /* EW_CORE_COLLECTIONS_H */
