/*
 * builtin_iter.c — the built-in iterators Duktape 2.7 lacks: %IteratorPrototype% (shared with collections.c
 * through the heap stash), %ArrayIteratorPrototype% (Array.prototype.{keys,values,entries}, the typed arrays'
 * ones), %StringIteratorPrototype% (by code point) and %RegExpStringIteratorPrototype% (matchAll); and the
 * iteration protocol used by Array.from and Object.fromEntries (GetIterator, IteratorStep, IteratorClose).
 *
 * An iterator keeps its state in two hidden slots: K_TARGET (the iterated value; undefined once done) and
 * K_STATE, a small fixed buffer holding the owner's heap pointer (the brand: an object that merely inherits
 * from an iterator has a state slot whose owner is not itself), the kind and the next index. For the RegExp
 * kinds the string being matched is in K_EXTRA.
 */
#include <string.h>

#include "builtins.h"

#define K_TARGET DUK_HIDDEN_SYMBOL("iT")
#define K_STATE DUK_HIDDEN_SYMBOL("iS")
#define K_EXTRA DUK_HIDDEN_SYMBOL("iX")
/* Heap stash: the three prototypes below (a bare array indexed by proto_slot()), and the intrinsic
 * Array.prototype.values and %ArrayIteratorPrototype%.next, which let ew__bi_iterate walk arrays directly. */
#define K_PROTOS DUK_HIDDEN_SYMBOL("biIterProtos")

enum { P_ARRAY = 0, P_STRING = 1, P_REGEXP = 2, P_VALUES_FN = 3, P_NEXT_FN = 4 };

typedef struct iter_state {
    void *owner;   /* heap pointer of the iterator object itself */
    int kind;      /* EW__BI_IT_* */
    double index;  /* next index (code units for strings) */
} iter_state_t;

static int proto_slot(int kind)
{
    return kind <= EW__BI_IT_ENTRIES ? P_ARRAY : kind == EW__BI_IT_STRING ? P_STRING : P_REGEXP;
}

static void push_stashed(duk_context *ctx, int slot)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_PROTOS);
    duk_get_prop_index(ctx, -1, (duk_uarridx_t) slot);
    duk_replace(ctx, -3);
    duk_pop(ctx);
}

void ew__bi_push_iterator(duk_context *ctx, duk_idx_t target, int kind, duk_idx_t extra)
{
    target = duk_normalize_index(ctx, target);
    extra = duk_normalize_index(ctx, extra);
    duk_push_object(ctx);
    push_stashed(ctx, proto_slot(kind));
    duk_set_prototype(ctx, -2);
    iter_state_t *st = duk_push_fixed_buffer(ctx, sizeof(*st));
    st->owner = duk_get_heapptr(ctx, -2);
    st->kind = kind;
    st->index = 0;
    duk_put_prop_literal(ctx, -2, K_STATE);
    duk_dup(ctx, target);
    duk_put_prop_literal(ctx, -2, K_TARGET);
    if (kind >= EW__BI_IT_REGEXP) {
        duk_dup(ctx, extra);
        duk_put_prop_literal(ctx, -2, K_EXTRA);
    }
}

void ew__bi_iter_result(duk_context *ctx, bool done)
{
    duk_push_object(ctx);
    duk_insert(ctx, -2);
    duk_put_prop_literal(ctx, -2, "value");
    duk_push_boolean(ctx, done);
    duk_put_prop_literal(ctx, -2, "done");
}

/* The state of `this` if it is an iterator of one of the kinds the calling next() serves, else TypeError. */
static iter_state_t *this_state(duk_context *ctx, int proto)
{
    duk_push_this(ctx); /* 0 */
    iter_state_t *st = NULL;
    if (duk_is_object(ctx, 0) && duk_get_prop_literal(ctx, 0, K_STATE))
        st = duk_get_buffer_data(ctx, -1, NULL);
    duk_pop(ctx);
    if (st == NULL || st->owner != duk_get_heapptr(ctx, 0) || proto_slot(st->kind) != proto)
        (void) duk_type_error(ctx, "next: incompatible receiver");
    duk_get_prop_literal(ctx, 0, K_TARGET); /* 1 */
    return st;
}

static duk_ret_t finish(duk_context *ctx)
{
    duk_push_undefined(ctx);
    duk_put_prop_literal(ctx, 0, K_TARGET);
    duk_push_undefined(ctx);
    ew__bi_iter_result(ctx, true);
    return 1;
}

/* %ArrayIteratorPrototype%.next: length is read on every step (a growing array yields its new items). */
static duk_ret_t array_iter_next(duk_context *ctx)
{
    iter_state_t *st = this_state(ctx, P_ARRAY);
    if (duk_is_undefined(ctx, 1))
        return finish(ctx);
    double len = ew__bi_length(ctx, 1);
    if (st->index >= len)
        return finish(ctx);
    double k = st->index++;
    if (st->kind == EW__BI_IT_KEYS) {
        duk_push_number(ctx, k);
    } else if (st->kind == EW__BI_IT_VALUES) {
        ew__bi_get(ctx, 1, k);
    } else {
        duk_push_array(ctx);
        duk_push_number(ctx, k);
        duk_put_prop_index(ctx, -2, 0);
        ew__bi_get(ctx, 1, k);
        duk_put_prop_index(ctx, -2, 1);
    }
    ew__bi_iter_result(ctx, false);
    return 1;
}

/* %StringIteratorPrototype%.next: one code point per step (a surrogate pair together). */
static duk_ret_t string_iter_next(duk_context *ctx)
{
    iter_state_t *st = this_state(ctx, P_STRING);
    if (duk_is_undefined(ctx, 1))
        return finish(ctx);
    duk_size_t len = duk_get_length(ctx, 1);
    duk_size_t i = (duk_size_t) st->index;
    if (i >= len)
        return finish(ctx);
    duk_size_t n = 1;
    duk_codepoint_t c = duk_char_code_at(ctx, 1, i);
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < len) {
        duk_codepoint_t d = duk_char_code_at(ctx, 1, i + 1);
        if (d >= 0xDC00 && d <= 0xDFFF)
            n = 2;
    }
    st->index = (double) (i + n);
    duk_substring(ctx, 1, i, i + n); /* in place: slot 1 is our copy */
    duk_dup(ctx, 1);
    ew__bi_iter_result(ctx, false);
    return 1;
}

/* %RegExpStringIteratorPrototype%.next (ES2020 22.2.9.2.1): RegExpExec through the regexp's own exec; an
 * empty match of a global regexp advances lastIndex by one so that the loop ends. */
static duk_ret_t regexp_iter_next(duk_context *ctx)
{
    iter_state_t *st = this_state(ctx, P_REGEXP);
    if (duk_is_undefined(ctx, 1))
        return finish(ctx);
    duk_get_prop_literal(ctx, 0, K_EXTRA); /* 2: the string */
    duk_get_prop_literal(ctx, 1, "exec");
    if (!duk_is_callable(ctx, -1))
        return duk_type_error(ctx, "RegExp exec is not a function");
    duk_dup(ctx, 1);
    duk_dup(ctx, 2);
    duk_call_method(ctx, 1); /* 3: the match */
    if (!duk_is_object(ctx, 3)) {
        if (!duk_is_null(ctx, 3))
            return duk_type_error(ctx, "RegExp exec returned a non-object");
        return finish(ctx);
    }
    if (st->kind == EW__BI_IT_REGEXP1) {
        duk_push_undefined(ctx);
        duk_put_prop_literal(ctx, 0, K_TARGET);
    } else {
        duk_get_prop_index(ctx, 3, 0);
        if (duk_get_length(ctx, -1) == 0 && duk_to_string(ctx, -1) && duk_get_length(ctx, -1) == 0) {
            duk_get_prop_literal(ctx, 1, "lastIndex");
            double next = ew__bi_to_length(ctx, -1) + 1; /* AdvanceStringIndex: no u flag in Duktape */
            duk_push_number(ctx, next);
            duk_put_prop_literal(ctx, 1, "lastIndex");
        }
    }
    duk_dup(ctx, 3);
    ew__bi_iter_result(ctx, false);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * The iteration protocol
 */

void ew__bi_push_iterator_method(duk_context *ctx, duk_idx_t idx)
{
    idx = duk_normalize_index(ctx, idx);
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    if (duk_is_null_or_undefined(ctx, idx)) {
        duk_pop(ctx);
        duk_push_undefined(ctx);
        return;
    }
    duk_dup(ctx, idx);
    duk_to_object(ctx, -1);
    duk_swap_top(ctx, -2);
    duk_get_prop(ctx, -2);
    duk_remove(ctx, -2);
    if (duk_is_null(ctx, -1)) {
        duk_pop(ctx);
        duk_push_undefined(ctx);
    } else if (!duk_is_undefined(ctx, -1) && !duk_is_callable(ctx, -1)) {
        (void) duk_type_error(ctx, "Symbol.iterator is not a function");
    }
}

typedef struct iterate_job {
    duk_idx_t iterable, iter, next;
    ew__bi_each_fn fn;
    void *udata;
    bool in_body;  /* an error now comes from fn: the iterator must be closed */
} iterate_job_t;

/* Arrays whose iteration nobody changed: the same reads as the built-in iterator, without its objects. */
static bool can_walk_directly(duk_context *ctx, duk_idx_t iterable, duk_idx_t method)
{
    if (!duk_is_array(ctx, iterable))
        return false;
    push_stashed(ctx, P_VALUES_FN);
    bool same = duk_samevalue(ctx, -1, method);
    duk_pop(ctx);
    if (!same)
        return false;
    push_stashed(ctx, P_ARRAY);
    duk_get_prop_literal(ctx, -1, "next");
    push_stashed(ctx, P_NEXT_FN);
    same = duk_samevalue(ctx, -1, -2);
    duk_pop_3(ctx);
    return same;
}

static duk_ret_t iterate_loop(duk_context *ctx, void *udata)
{
    iterate_job_t *job = udata;
    for (double i = 0;; i++) {
        job->in_body = false;
        duk_dup(ctx, job->next);
        duk_dup(ctx, job->iter);
        duk_call_method(ctx, 0);
        if (!duk_is_object(ctx, -1))
            return duk_type_error(ctx, "iterator result is not an object");
        duk_get_prop_literal(ctx, -1, "done");
        if (duk_to_boolean(ctx, -1))
            break;
        duk_pop(ctx);
        duk_get_prop_literal(ctx, -1, "value");
        duk_remove(ctx, -2);
        job->in_body = true;
        job->fn(ctx, job->udata, i);
    }
    duk_pop_2(ctx);
    return 0;
}

/* IteratorClose after a throw completion: the original error wins over anything `return` does. */
static void close_iterator(duk_context *ctx, duk_idx_t iter)
{
    duk_get_prop_literal(ctx, iter, "return"); /* may throw: then that error replaces ours, as in engines */
    if (duk_is_null_or_undefined(ctx, -1)) {
        duk_pop(ctx);
        return;
    }
    duk_dup(ctx, iter);
    if (duk_pcall_method(ctx, 0) != DUK_EXEC_SUCCESS && ew__isolate_aborting(ctx))
        (void) duk_throw(ctx);
    duk_pop(ctx);
}

void ew__bi_iterate(duk_context *ctx, duk_idx_t iterable, duk_idx_t method, ew__bi_each_fn fn, void *udata)
{
    iterable = duk_normalize_index(ctx, iterable);
    method = duk_normalize_index(ctx, method);
    if (can_walk_directly(ctx, iterable, method)) {
        for (double i = 0; i < ew__bi_length(ctx, iterable); i++) {
            ew__bi_get(ctx, iterable, i);
            fn(ctx, udata, i);
        }
        return;
    }
    duk_dup(ctx, method);
    duk_dup(ctx, iterable);
    duk_call_method(ctx, 0);
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "iterator is not an object");
    iterate_job_t job = {iterable, duk_get_top_index(ctx), 0, fn, udata, false};
    duk_get_prop_literal(ctx, job.iter, "next");
    job.next = duk_get_top_index(ctx);
    if (duk_safe_call(ctx, iterate_loop, &job, 0, 1) != DUK_EXEC_SUCCESS) {
        if (job.in_body && !ew__isolate_aborting(ctx))
            close_iterator(ctx, job.iter);
        (void) duk_throw(ctx);
    }
    duk_pop_3(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * Installation
 */

static duk_ret_t iterator_proto_iterator(duk_context *ctx)
{
    duk_push_this(ctx);
    return 1;
}

/* %IteratorPrototype%, kept in the heap stash; collections.c finds it through this function too. */
void ew__bi_push_iterator_prototype(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    if (!duk_get_prop_literal(ctx, -1, EW__STASH_ITERATOR_PROTOTYPE)) {
        duk_pop(ctx);
        duk_push_object(ctx);
        static const ew__bi_method_t m[] = {{"@iterator", iterator_proto_iterator, 0, 0, 0}, {NULL, NULL, 0, 0, 0}};
        ew__bi_def_methods(ctx, -1, m);
        duk_dup_top(ctx);
        duk_put_prop_literal(ctx, -3, EW__STASH_ITERATOR_PROTOTYPE);
    }
    duk_remove(ctx, -2);
}

static const ew__bi_method_t array_iter_methods[] = {{"next", array_iter_next, 0, 0, 0}, {NULL, NULL, 0, 0, 0}};
static const ew__bi_method_t string_iter_methods[] = {{"next", string_iter_next, 0, 0, 0}, {NULL, NULL, 0, 0, 0}};
static const ew__bi_method_t regexp_iter_methods[] = {{"next", regexp_iter_next, 0, 0, 0}, {NULL, NULL, 0, 0, 0}};

void ew__bi_iter_init(duk_context *ctx)
{
    static const struct {
        const ew__bi_method_t *methods;
        const char *tag;
    } protos[] = {{array_iter_methods, "Array Iterator"},
                  {string_iter_methods, "String Iterator"},
                  {regexp_iter_methods, "RegExp String Iterator"}};
    duk_push_heap_stash(ctx);
    duk_push_bare_array(ctx);
    ew__bi_push_iterator_prototype(ctx);
    for (duk_uarridx_t i = 0; i < 3; i++) {
        duk_push_object(ctx);
        duk_dup(ctx, -2);
        duk_set_prototype(ctx, -2);
        ew__bi_def_methods(ctx, -1, protos[i].methods);
        ew__bi_def_tag(ctx, -1, protos[i].tag);
        if (i == P_ARRAY) {
            duk_get_prop_literal(ctx, -1, "next");
            duk_put_prop_index(ctx, -4, P_NEXT_FN);
        }
        duk_put_prop_index(ctx, -3, i);
    }
    duk_pop(ctx);
    duk_put_prop_literal(ctx, -2, K_PROTOS);
    duk_pop(ctx);
}

void ew__bi_iter_keep_values(duk_context *ctx)
{
    duk_push_heap_stash(ctx);
    duk_get_prop_literal(ctx, -1, K_PROTOS);
    duk_get_global_literal(ctx, "Array");
    duk_get_prop_literal(ctx, -1, "prototype");
    duk_get_prop_literal(ctx, -1, "values");
    duk_put_prop_index(ctx, -4, P_VALUES_FN);
    duk_pop_n(ctx, 4);
}

/* JS names -> C functions of this file:
 *   %IteratorPrototype%[Symbol.iterator]      iterator_proto_iterator
 *   %ArrayIteratorPrototype%.next             array_iter_next
 *   %StringIteratorPrototype%.next            string_iter_next
 *   %RegExpStringIteratorPrototype%.next      regexp_iter_next
 */
