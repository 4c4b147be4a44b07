/*
 * builtin_number.c — the ES2015 Math functions Duktape 2.7 lacks (expm1, log1p, sinh, cosh, tanh, asinh,
 * acosh, atanh, fround) and Math[Symbol.toStringTag]. Duktape already has the Number statics of ES2015
 * (EPSILON, MAX/MIN_SAFE_INTEGER, isFinite, isInteger, isNaN, isSafeInteger, parseFloat, parseInt) and
 * Math.trunc, sign, cbrt, log10, log2, hypot, clz32 and imul; those are left alone.
 *
 * One native function serves all of them (magic selects the libm function): each is ToNumber then a
 * single C call, and nine function objects cost the heap the same either way.
 */
#include <math.h>

#include "builtins.h"

enum { M_EXPM1, M_LOG1P, M_SINH, M_COSH, M_TANH, M_ASINH, M_ACOSH, M_ATANH, M_FROUND };

/* Math.<fn>(x) (nargs 1; magic M_*). */
static duk_ret_t math_unary(duk_context *ctx)
{
    double x = duk_to_number(ctx, 0), r;
    switch (duk_get_current_magic(ctx)) {
    case M_EXPM1: r = expm1(x); break;
    case M_LOG1P: r = log1p(x); break;
    case M_SINH: r = sinh(x); break;
    case M_COSH: r = cosh(x); break;
    case M_TANH: r = tanh(x); break;
    case M_ASINH: r = asinh(x); break;
    case M_ACOSH: r = acosh(x); break;
    case M_ATANH: r = atanh(x); break;
    default: r = (double) (float) x; break; /* fround: round to nearest float32, ties to even */
    }
    duk_push_number(ctx, r);
    return 1;
}

static const ew__bi_method_t math_methods[] = {
    {"acosh", math_unary, 1, 1, M_ACOSH},
    {"asinh", math_unary, 1, 1, M_ASINH},
    {"atanh", math_unary, 1, 1, M_ATANH},
    {"cosh", math_unary, 1, 1, M_COSH},
    {"expm1", math_unary, 1, 1, M_EXPM1},
    {"fround", math_unary, 1, 1, M_FROUND},
    {"log1p", math_unary, 1, 1, M_LOG1P},
    {"sinh", math_unary, 1, 1, M_SINH},
    {"tanh", math_unary, 1, 1, M_TANH},
    {NULL, NULL, 0, 0, 0}};

void ew__bi_number_init(duk_context *ctx)
{
    duk_get_global_literal(ctx, "Math");
    ew__bi_def_methods(ctx, -1, math_methods);
    ew__bi_def_tag(ctx, -1, "Math");
    duk_pop(ctx);
}

/* JS names -> C functions of this file:
 *   Math.acosh, asinh, atanh, cosh, expm1, fround, log1p, sinh, tanh    math_unary (magic M_*)
 */
