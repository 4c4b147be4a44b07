/*
 * ordered_table.c — the insertion-ordered hash table behind Map and Set (ECMA-262 §24.1, §24.2: keys
 * compared with SameValueZero, iteration in insertion order, live while the table changes), also used by
 * weak.c for keys that cannot carry hidden properties. Callers: map_set.c, set_methods.c, weak.c.
 *
 * C cannot hold Duktape values, so a table is split in two, both in hidden slots of its holder object:
 *
 *   K_TBL  buffer  [ ew__otab_t header | buckets: uint32 x cap | entries: okey + next, 16 bytes x cap ]
 *   K_VALS array   [ key0, value0, key1, value1, ... ]   (stride 2; a Set has stride 1)
 *
 * Entry i of the buffer describes JS slots i*stride.. of the array. A lookup is one hidden-slot read, a
 * hash and a chain walk in C (key identity: key_read); only get() reads the array. Deleted entries leave
 * a hole until a rebuild (see rebuild); iterators survive rebuilds through generations (see below).
 * Nothing here calls user code.
 */
#include <assert.h>
#include <string.h>

#include "collections.h"

#define K_TBL DUK_HIDDEN_SYMBOL("cT")    /* holder: the buffer */
#define K_VALS DUK_HIDDEN_SYMBOL("cV")   /* holder: the values array */
#define K_GEN DUK_HIDDEN_SYMBOL("cG")    /* holder: the current generation, once iterated */
#define K_GREM DUK_HIDDEN_SYMBOL("cR")   /* generation: indices its compaction removed (buffer), or 0 */
#define K_GNEXT DUK_HIDDEN_SYMBOL("cN")  /* generation: the one after its compaction */

#define NIL EW__OTAB_NONE
#define MIN_CAP 4u
#define MAX_CAP (1u << 27)
#define CANONICAL_NAN UINT64_C(0x7ff8000000000000)

/* Key kinds. T_DELETED marks a hole; lightfuncs (not used by this runtime) carry their magic above. */
enum { T_DELETED = 0, T_UNDEFINED, T_NULL, T_BOOLEAN, T_NUMBER, T_HEAP, T_POINTER, T_LIGHTFUNC };

typedef struct okey {
    uint64_t bits;  /* double bits, heap pointer, pointer or boolean */
    uint32_t tag;   /* T_* */
} okey_t;

typedef struct oentry {
    uint64_t bits;
    uint32_t tag;
    uint32_t next;  /* next entry in the bucket's chain, or NIL */
} oentry_t;

_Static_assert(sizeof(ew__otab_t) % 8 == 0, "entries must stay 8-byte aligned");

static inline uint32_t *buckets(const ew__otab_t *t)
{
    return (uint32_t *) (t + 1);
}

static inline oentry_t *entries(const ew__otab_t *t)
{
    return (oentry_t *) (buckets(t) + t->cap);
}

static size_t table_bytes(uint32_t cap)
{
    return sizeof(ew__otab_t) + (size_t) cap * (sizeof(uint32_t) + sizeof(oentry_t));
}

/* SameValueZero identity of the value at idx, without touching JS: heap values (strings, symbols,
 * objects, buffers) by heap pointer — Duktape interns strings and never moves objects, and the values
 * array keeps every key reachable, so the pointer stays unique; numbers by their double's bits (-0 folded
 * into +0, one NaN); other primitives by a tag. */
static void key_read(duk_context *ctx, duk_idx_t idx, okey_t *k)
{
    k->bits = 0;
    switch (duk_get_type(ctx, idx)) {
    case DUK_TYPE_NONE:
    case DUK_TYPE_UNDEFINED:
        k->tag = T_UNDEFINED;
        break;
    case DUK_TYPE_NULL:
        k->tag = T_NULL;
        break;
    case DUK_TYPE_BOOLEAN:
        k->tag = T_BOOLEAN;
        k->bits = duk_get_boolean(ctx, idx) ? 1 : 0;
        break;
    case DUK_TYPE_NUMBER: {
        double d = duk_get_number(ctx, idx);
        k->tag = T_NUMBER;
        if (d != d)
            k->bits = CANONICAL_NAN;
        else if (d != 0) /* +0 and -0 both keep bits 0 */
            memcpy(&k->bits, &d, sizeof(d));
        break;
    }
    case DUK_TYPE_POINTER:
        k->tag = T_POINTER;
        k->bits = (uint64_t) (uintptr_t) duk_get_pointer(ctx, idx);
        break;
    case DUK_TYPE_LIGHTFUNC:
        k->tag = T_LIGHTFUNC | ((uint32_t) (duk_get_magic(ctx, idx) & 0xffff) << 8);
        k->bits = (uint64_t) (uintptr_t) duk_get_c_function(ctx, idx);
        break;
    default: /* string, symbol, object, buffer */
        k->tag = T_HEAP;
        k->bits = (uint64_t) (uintptr_t) duk_get_heapptr(ctx, idx);
        break;
    }
}

static inline uint32_t key_hash(uint64_t bits, uint32_t tag)
{
    uint64_t x = bits ^ ((uint64_t) tag << 56);
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return (uint32_t) x;
}

static uint32_t find_key(const ew__otab_t *t, const okey_t *k)
{
    if (t->cap == 0)
        return NIL;
    const oentry_t *e = entries(t);
    uint32_t i = buckets(t)[key_hash(k->bits, k->tag) & (t->cap - 1)];
    while (i != NIL && (e[i].bits != k->bits || e[i].tag != k->tag))
        i = e[i].next;
    return i;
}

/* Appends entry k to a table that has room (used < cap); the JS slots are the caller's business. */
static uint32_t link_entry(ew__otab_t *t, const okey_t *k)
{
    assert(t->used < t->cap);
    uint32_t i = t->used++;
    uint32_t *b = &buckets(t)[key_hash(k->bits, k->tag) & (t->cap - 1)];
    oentry_t *e = &entries(t)[i];
    e->bits = k->bits;
    e->tag = k->tag;
    e->next = *b;
    *b = i;
    t->size++;
    return i;
}

static void unlink_entry(ew__otab_t *t, uint32_t i)
{
    oentry_t *e = entries(t);
    uint32_t *p = &buckets(t)[key_hash(e[i].bits, e[i].tag) & (t->cap - 1)];
    while (*p != i)
        p = &e[*p].next;
    *p = e[i].next;
    e[i].tag = T_DELETED;
    e[i].next = NIL;
    t->size--;
}

/* ---------------------------------------------------------------------------------------------------------
 * Access
 */

/* The holder's table, unchecked (callers hold a holder). */
static ew__otab_t *table(duk_context *ctx, duk_idx_t obj)
{
    duk_get_prop_literal(ctx, obj, K_TBL);
    ew__otab_t *t = duk_get_buffer(ctx, -1, NULL);
    duk_pop(ctx);
    assert(t != NULL);
    return t;
}

ew__otab_t *ew__otab_of(duk_context *ctx, duk_idx_t idx, uint32_t kind)
{
    if (!duk_is_object(ctx, idx))
        return NULL;
    duk_get_prop_literal(ctx, idx, K_TBL);
    ew__otab_t *t = duk_get_buffer(ctx, -1, NULL);
    duk_pop(ctx);
    if (t == NULL || t->kind != kind || t->owner != duk_get_heapptr(ctx, idx))
        return NULL;
    return t;
}

void ew__otab_create(duk_context *ctx, duk_idx_t obj, uint32_t kind)
{
    obj = duk_normalize_index(ctx, obj);
    ew__otab_t *t = duk_push_fixed_buffer(ctx, table_bytes(0));
    memset(t, 0, sizeof(*t));
    t->owner = duk_get_heapptr(ctx, obj);
    t->kind = kind;
    t->stride = kind == EW__OTAB_SET ? 1 : 2;
    duk_push_bare_array(ctx);
    t->vals = duk_get_heapptr(ctx, -1);
    ew__coll_put_slot(ctx, obj, K_VALS);
    ew__coll_put_slot(ctx, obj, K_TBL);
}

uint32_t ew__otab_find(duk_context *ctx, const ew__otab_t *t, duk_idx_t key)
{
    okey_t k;
    key_read(ctx, key, &k);
    return find_key(t, &k);
}

void ew__otab_push(duk_context *ctx, const ew__otab_t *t, uint32_t i, uint32_t slot)
{
    duk_push_heapptr(ctx, t->vals);
    duk_get_prop_index(ctx, -1, i * t->stride + slot);
    duk_remove(ctx, -2);
}

void ew__otab_set_value(duk_context *ctx, const ew__otab_t *t, uint32_t i, duk_idx_t value)
{
    value = duk_normalize_index(ctx, value);
    duk_push_heapptr(ctx, t->vals);
    duk_dup(ctx, value);
    duk_put_prop_index(ctx, -2, i * t->stride + 1);
    duk_pop(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Generations: live iteration across compactions
 *
 * The spec's iterators walk the entry list by index, and deletions leave holes, so an index stays valid
 * until a compaction renumbers the entries. An iterator (or forEach) therefore holds an index together
 * with the generation object that numbering belongs to. The holder keeps its current generation in K_GEN;
 * a compaction records in it the sorted indices it removed (K_GREM; clear() stores 0, "all removed") and
 * a link to a fresh generation (K_GNEXT), which becomes current. A cursor from an older generation walks
 * the links, each time moving its index down by the number of removed indices below it. Nobody needs to
 * know which iterators are alive: a generation is only referenced by the iterators that still use it
 * (and by its predecessor), so once they are gone, Duktape frees it. Holders never iterated have none.
 */

static void push_generation(duk_context *ctx)
{
    duk_push_bare_object(ctx);
    duk_push_undefined(ctx); /* both slots exist from the start: a commit only overwrites (cannot fail) */
    ew__coll_put_slot(ctx, -2, K_GREM);
    duk_push_undefined(ctx);
    ew__coll_put_slot(ctx, -2, K_GNEXT);
}

void ew__otab_cursor_start(duk_context *ctx, duk_idx_t obj, ew__otab_cursor_t *c)
{
    obj = duk_normalize_index(ctx, obj);
    ew__otab_t *t = table(ctx, obj);
    if (t->gen == NULL) {
        push_generation(ctx);
        void *gen = duk_get_heapptr(ctx, -1);
        ew__coll_put_slot(ctx, obj, K_GEN);
        t = table(ctx, obj);
        t->gen = gen;
    }
    c->index = 0;
    c->gen = t->gen;
    duk_push_heapptr(ctx, c->gen);
}

/* Number of entries of the sorted list rem[0..n) below index. */
static uint32_t count_below(const uint32_t *rem, uint32_t n, uint32_t index)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (rem[mid] < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Moves the cursor to the table's current generation. */
static void cursor_sync(duk_context *ctx, const ew__otab_t *t, ew__otab_cursor_t *c)
{
    while (c->gen != t->gen && c->gen != NULL) {
        duk_push_heapptr(ctx, c->gen);
        duk_get_prop_literal(ctx, -1, K_GREM);
        duk_size_t bytes = 0;
        const uint32_t *rem = duk_get_buffer(ctx, -1, &bytes);
        if (rem != NULL)
            c->index -= count_below(rem, (uint32_t) (bytes / sizeof(uint32_t)), c->index);
        else
            c->index = 0; /* cleared */
        duk_pop(ctx);
        duk_get_prop_literal(ctx, -1, K_GNEXT);
        c->gen = duk_get_heapptr(ctx, -1);
        duk_pop_2(ctx);
    }
}

uint32_t ew__otab_next(duk_context *ctx, duk_idx_t obj, ew__otab_cursor_t *c, const ew__otab_t **tp)
{
    const ew__otab_t *t = table(ctx, obj);
    *tp = t;
    if (c->gen != t->gen)
        cursor_sync(ctx, t, c);
    const oentry_t *e = entries(t);
    while (c->index < t->used) {
        uint32_t i = c->index++;
        if (e[i].tag != T_DELETED)
            return i;
    }
    return NIL;
}

/* ---------------------------------------------------------------------------------------------------------
 * Rebuilding
 */

/* Capacity for n live entries: at most half full after a rebuild, so growth and compaction stay
 * amortized O(1) per operation. */
static uint32_t cap_for(duk_context *ctx, uint32_t n)
{
    uint32_t cap = MIN_CAP;
    while (cap < 2 * (uint64_t) n) {
        if (cap >= MAX_CAP)
            (void) duk_range_error(ctx, "too many entries in a Map or Set");
        cap <<= 1;
    }
    return cap;
}

/* Copies the live entries of t into the fresh table n (and, when compacting, their JS slots into the
 * array at nvals and the removed indices into rem). May throw from the JS copies; nothing is committed. */
static void copy_entries(duk_context *ctx, const ew__otab_t *t, ew__otab_t *n, duk_idx_t nvals, uint32_t *rem)
{
    const oentry_t *e = entries(t);
    uint32_t r = 0;
    if (nvals >= 0)
        duk_push_heapptr(ctx, t->vals);
    for (uint32_t i = 0; i < t->used; i++) {
        if (e[i].tag == T_DELETED) {
            if (rem != NULL)
                rem[r++] = i;
            continue;
        }
        okey_t k = { e[i].bits, e[i].tag };
        uint32_t j = link_entry(n, &k);
        for (uint32_t s = 0; nvals >= 0 && s < t->stride; s++) {
            duk_get_prop_index(ctx, -1, i * t->stride + s);
            duk_put_prop_index(ctx, nvals, j * t->stride + s);
        }
    }
    if (nvals >= 0)
        duk_pop(ctx);
}

/* Rebuilds the table of the holder at obj with room for `cap` entries, dropping holes (tag T_DELETED,
 * slots undefined). Called when an insertion finds every entry taken, or a deletion leaves fewer than a
 * quarter live; cap_for() sizes the table for twice the live entries, so it grows, stays or shrinks.
 * Makes a new buffer and, when there are holes, a new array; everything is allocated before the first
 * slot is replaced, and the replacing steps only overwrite existing slots, which neither allocates nor
 * throws: a failed allocation or a CPU-limit error midway leaves the old table intact. Returns the new
 * table. */
static ew__otab_t *rebuild(duk_context *ctx, duk_idx_t obj, uint32_t cap)
{
    obj = duk_normalize_index(ctx, obj);
    duk_idx_t base = duk_get_top(ctx);
    duk_require_stack(ctx, 8);
    ew__otab_t *n = duk_push_fixed_buffer(ctx, table_bytes(cap));
    const ew__otab_t *t = table(ctx, obj);
    bool compact = t->used != t->size;
    *n = *t;
    n->cap = cap;
    n->used = n->size = 0;
    memset(buckets(n), 0xff, cap * sizeof(uint32_t));
    duk_idx_t nvals = compact ? duk_push_bare_array(ctx) : -1;
    uint32_t *rem = NULL;
    if (compact && t->gen != NULL) {
        rem = duk_push_fixed_buffer(ctx, (t->used - t->size) * sizeof(uint32_t));
        push_generation(ctx);
    }
    copy_entries(ctx, t, n, nvals, rem);
    /* Commit. */
    if (rem != NULL) {
        duk_push_heapptr(ctx, t->gen); /* [.. n nvals rem newgen oldgen] */
        duk_dup(ctx, -3);
        ew__coll_put_slot(ctx, -2, K_GREM);
        duk_dup(ctx, -2);
        ew__coll_put_slot(ctx, -2, K_GNEXT);
        duk_pop(ctx);
        n->gen = duk_get_heapptr(ctx, -1);
        ew__coll_put_slot(ctx, obj, K_GEN);
    }
    if (compact) {
        n->vals = duk_get_heapptr(ctx, nvals);
        duk_dup(ctx, nvals);
        ew__coll_put_slot(ctx, obj, K_VALS);
    }
    duk_dup(ctx, base);
    ew__coll_put_slot(ctx, obj, K_TBL); /* frees the old buffer: t is gone */
    duk_set_top(ctx, base);
    return n;
}

/* ---------------------------------------------------------------------------------------------------------
 * Changes
 */

void ew__otab_set(duk_context *ctx, duk_idx_t obj, duk_idx_t key, duk_idx_t value)
{
    obj = duk_normalize_index(ctx, obj);
    key = duk_normalize_index(ctx, key);
    value = duk_normalize_index(ctx, value);
    okey_t k;
    key_read(ctx, key, &k);
    ew__otab_t *t = table(ctx, obj);
    uint32_t i = find_key(t, &k);
    if (i != NIL) {
        if (t->stride == 2)
            ew__otab_set_value(ctx, t, i, value);
        return;
    }
    if (t->used == t->cap)
        t = rebuild(ctx, obj, cap_for(ctx, t->size));
    /* The JS slots first: if they fail, the table has not taken the entry. */
    uint32_t at = t->used * t->stride;
    duk_push_heapptr(ctx, t->vals);
    if (k.tag == T_NUMBER && k.bits == 0)
        duk_push_int(ctx, 0); /* -0 is stored as +0 */
    else
        duk_dup(ctx, key);
    duk_put_prop_index(ctx, -2, at);
    if (t->stride == 2) {
        duk_dup(ctx, value);
        duk_put_prop_index(ctx, -2, at + 1);
    }
    duk_pop(ctx);
    t = table(ctx, obj); /* same buffer (only rebuild replaces it); re-read rather than trust that */
    link_entry(t, &k);
}

bool ew__otab_delete(duk_context *ctx, duk_idx_t obj, duk_idx_t key)
{
    obj = duk_normalize_index(ctx, obj);
    okey_t k;
    key_read(ctx, key, &k);
    ew__otab_t *t = table(ctx, obj);
    uint32_t i = find_key(t, &k);
    if (i == NIL)
        return false;
    /* The entry first: if clearing the slots fails, they only keep a value alive a little longer. */
    unlink_entry(t, i);
    uint32_t stride = t->stride;
    duk_push_heapptr(ctx, t->vals);
    for (uint32_t s = 0; s < stride; s++) {
        duk_push_undefined(ctx);
        duk_put_prop_index(ctx, -2, i * stride + s);
    }
    duk_pop(ctx);
    t = table(ctx, obj);
    if (t->cap > MIN_CAP && t->size < t->cap / 4)
        (void) rebuild(ctx, obj, cap_for(ctx, t->size));
    return true;
}

void ew__otab_clear(duk_context *ctx, duk_idx_t obj)
{
    obj = duk_normalize_index(ctx, obj);
    duk_idx_t base = duk_get_top(ctx);
    duk_require_stack(ctx, 8);
    ew__otab_t *n = duk_push_fixed_buffer(ctx, table_bytes(0));
    const ew__otab_t *t = table(ctx, obj);
    *n = *t;
    n->cap = n->used = n->size = 0;
    duk_push_bare_array(ctx);
    if (t->gen != NULL && t->used > 0) {
        push_generation(ctx);
        duk_push_heapptr(ctx, t->gen);
        duk_push_uint(ctx, 0);
        ew__coll_put_slot(ctx, -2, K_GREM);
        duk_dup(ctx, -2);
        ew__coll_put_slot(ctx, -2, K_GNEXT);
        duk_pop(ctx);
        n->gen = duk_get_heapptr(ctx, -1);
        ew__coll_put_slot(ctx, obj, K_GEN);
    }
    n->vals = duk_get_heapptr(ctx, -1);
    ew__coll_put_slot(ctx, obj, K_VALS);
    ew__coll_put_slot(ctx, obj, K_TBL);
    duk_set_top(ctx, base);
}
