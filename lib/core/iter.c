/*
 * iter.c — the iterator protocol for the C built-ins (GetIterator, IteratorStepValue, IteratorClose), shared
 * by Promise's combinators (promise.c) and the collections' constructors (collections.c, set_methods.c).
 *
 * Arrays and strings may be walked directly instead of through iterator objects: always when they have no
 * @@iterator at all (a bare Duktape heap), and, when the caller passes a check, when their iteration is the
 * untouched built-in one — the same reads as the iterator would make, without its objects.
 */
#include "internal.h"

void ew__iter_open(duk_context *ctx, duk_idx_t v, ew__iter_t *it, ew__iter_fast_fn fast)
{
    v = duk_normalize_index(ctx, v);
    it->done = true;
    it->index = 0;
    it->kind = EW__ITER_PROTOCOL;
    if (duk_is_null_or_undefined(ctx, v))
        (void) duk_type_error(ctx, "%s is not iterable", duk_is_null(ctx, v) ? "null" : "undefined");
    duk_push_literal(ctx, DUK_WELLKNOWN_SYMBOL("Symbol.iterator"));
    duk_get_prop(ctx, v);
    bool str = duk_is_string(ctx, v) && !duk_is_symbol(ctx, v);
    bool none = duk_is_null_or_undefined(ctx, -1);
    if ((none && str) || ((none || (fast != NULL && fast(ctx, -1))) && duk_is_array(ctx, v))) {
        it->kind = str ? EW__ITER_STRING : EW__ITER_ARRAY;
        duk_pop(ctx);
        duk_dup(ctx, v);
        duk_push_undefined(ctx);
    } else {
        if (!duk_is_callable(ctx, -1))
            (void) duk_type_error(ctx, "object is not iterable");
        duk_dup(ctx, v);
        duk_call_method(ctx, 0);
        if (!duk_is_object(ctx, -1))
            (void) duk_type_error(ctx, "iterator is not an object");
        duk_get_prop_literal(ctx, -1, "next");
    }
    it->obj = duk_get_top(ctx) - 2;
    it->next = it->obj + 1;
    it->done = false;
}

/* One code point of the string at it->obj: pushes it and advances. */
static void string_step(duk_context *ctx, ew__iter_t *it)
{
    duk_size_t len = duk_get_length(ctx, it->obj);
    duk_uarridx_t end = it->index + 1;
    duk_codepoint_t c = duk_char_code_at(ctx, it->obj, it->index);
    if (c >= 0xD800 && c <= 0xDBFF && end < len) {
        duk_codepoint_t d = duk_char_code_at(ctx, it->obj, end);
        if (d >= 0xDC00 && d <= 0xDFFF)
            end++;
    }
    duk_dup(ctx, it->obj);
    duk_substring(ctx, -1, it->index, end);
    it->index = end;
}

bool ew__iter_step(duk_context *ctx, ew__iter_t *it)
{
    if (it->kind != EW__ITER_PROTOCOL) {
        if (it->index >= duk_get_length(ctx, it->obj)) {
            it->done = true;
            return false;
        }
        if (it->kind == EW__ITER_STRING)
            string_step(ctx, it);
        else
            duk_get_prop_index(ctx, it->obj, it->index++);
        return true;
    }
    it->done = true; /* an abrupt completion of next() or of the result's getters needs no close */
    duk_dup(ctx, it->next);
    duk_dup(ctx, it->obj);
    duk_call_method(ctx, 0);
    if (!duk_is_object(ctx, -1))
        (void) duk_type_error(ctx, "iterator result is not an object");
    duk_get_prop_literal(ctx, -1, "done");
    if (duk_to_boolean(ctx, -1)) {
        duk_pop_2(ctx);
        return false;
    }
    duk_pop(ctx);
    duk_get_prop_literal(ctx, -1, "value");
    duk_remove(ctx, -2);
    it->done = false;
    return true;
}

static duk_ret_t call_return(duk_context *ctx, void *udata)
{
    ew__iter_t *it = udata;
    duk_get_prop_literal(ctx, it->obj, "return");
    if (!duk_is_null_or_undefined(ctx, -1)) {
        duk_dup(ctx, it->obj);
        duk_call_method(ctx, 0);
    }
    return 0;
}

void ew__iter_close(duk_context *ctx, ew__iter_t *it)
{
    if (it->done || it->kind != EW__ITER_PROTOCOL)
        return;
    it->done = true;
    /* The original error wins over anything `return` does, except a limit that fired meanwhile. */
    if (duk_safe_call(ctx, call_return, it, 0, 1) != DUK_EXEC_SUCCESS && ew__isolate_aborting(ctx))
        (void) duk_throw(ctx);
    duk_pop(ctx);
}
