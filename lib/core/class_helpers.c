/*
 * class_helpers.c — the helpers every construction and `super.m()` of a lowered class goes through, in C
 * (lib/compile/lower_class.c emits the calls; lib/js/helpers_class.js, loaded on the first class, hands them
 * to the helper object next to its script helpers). docs/compiler.md "Classes" has the protocol.
 *
 * A compiled class's constructor exists twice, made by one maker function: the class itself (`new` only:
 * without new.target it throws, noNew) and an initialiser copy that subclasses' super() calls on the object
 * being built (`$ew.superCtor(C, nt, obj).call(obj, a, b)`: no arguments array, no native frame between
 * the two constructors, no check in the parent). newTarget reaches the copies as a hidden, read-only property
 * the outermost super() puts on the object (ntOf reads it, only in constructors that need it). Parents that
 * are no compiled class (Error, Array, Map, Response, plain functions) get a native stand-in that constructs
 * them and re-prototypes the result to newTarget.prototype.
 */
#include "builtins.h"

#define K_CLASS DUK_HIDDEN_SYMBOL("ewClass") /* on a compiled class: the class itself (not inherited then) */
#define K_INIT DUK_HIDDEN_SYMBOL("ewInit")   /* on a compiled class: its initialiser copy */
#define K_NT DUK_HIDDEN_SYMBOL("ewNT")       /* on an object super() builds: newTarget (read-only) */
#define K_PARENT DUK_HIDDEN_SYMBOL("ewSupP") /* same, parent not a compiled class: that parent, until called */

/* markClass(C, init): C is a compiled class, init its initialiser copy (named like C for stack traces). The
 * marks are read-only, so Object.isFrozen/isSealed of the class answer as without them. */
static duk_ret_t mark_class(duk_context *ctx)
{
    duk_require_function(ctx, 0);
    duk_require_function(ctx, 1);
    duk_push_literal(ctx, K_CLASS);
    duk_dup(ctx, 0);
    duk_def_prop(ctx, 0, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
    duk_push_literal(ctx, K_INIT);
    duk_dup(ctx, 1);
    duk_def_prop(ctx, 0, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
    duk_push_literal(ctx, "name");
    duk_get_prop_literal(ctx, 0, "name");
    duk_def_prop(ctx, 1, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
    duk_push_undefined(ctx); /* the copy is never `new`ed: drop its .prototype (and that object's cycle) */
    duk_put_prop_literal(ctx, 1, "prototype");
    return 0;
}

static bool is_compiled_class(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_function(ctx, idx))
        return false;
    duk_get_prop_literal(ctx, idx, K_CLASS);
    bool yes = duk_strict_equals(ctx, -1, idx);
    duk_pop(ctx);
    return yes;
}

/* noNew(C): class C's constructor called without new */
static duk_ret_t no_new(duk_context *ctx)
{
    duk_get_prop_literal(ctx, 0, "name");
    return duk_error(ctx, DUK_ERR_TYPE_ERROR, "Class constructor %s cannot be invoked without 'new'",
                     duk_safe_to_string(ctx, -1));
}

/* ntOf(obj): newTarget of the construction obj is in (an initialiser copy that reads new.target) */
static duk_ret_t nt_of(duk_context *ctx)
{
    duk_get_prop_literal(ctx, 0, K_NT);
    return 1;
}

/* The parent of a class that is no compiled class, called as `stand_in.call(obj, ...args)`: Construct(P,
 * args), then the result gets obj's prototype (newTarget.prototype: Duktape's Reflect.construct has no
 * newTarget argument). */
static duk_ret_t construct_parent(duk_context *ctx)
{
    duk_idx_t nargs = duk_get_top(ctx);
    duk_push_this(ctx);
    duk_insert(ctx, 0); /* [obj args...] */
    duk_get_prop_literal(ctx, 0, K_PARENT);
    duk_del_prop_literal(ctx, 0, K_PARENT);
    if (!duk_is_constructable(ctx, -1)) {
        duk_idx_t parent = duk_get_top_index(ctx);
        duk_get_global_literal(ctx, "Function"); /* `extends null`: the parent is %Function.prototype% */
        bool is_fp = duk_is_object(ctx, -1) && duk_get_prop_literal(ctx, -1, "prototype") &&
                     duk_strict_equals(ctx, -1, parent);
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "Super constructor %s of anonymous class is not a constructor",
                         is_fp ? "null" : duk_safe_to_string(ctx, parent));
    }
    duk_insert(ctx, 1);
    duk_new(ctx, nargs); /* [obj result] */
    duk_get_prototype(ctx, 0);
    duk_get_prototype(ctx, 1);
    if (!duk_strict_equals(ctx, -1, -2)) {
        duk_pop(ctx);
        duk_set_prototype(ctx, 1);
    } else {
        duk_pop_2(ctx);
    }
    return 1;
}

/* superCtor(C, newTarget, obj): what super(...) in C's constructor calls with this = obj — the initialiser
 * copy of C's parent (read now: Object.setPrototypeOf may have changed it) when it is a compiled class, else
 * the stand-in above. newTarget is given where obj is new (the outermost super(), or a fresh object) and goes
 * on it; an initialiser copy passes undefined (its obj has it already). */
static duk_ret_t super_ctor(duk_context *ctx)
{
    duk_set_top(ctx, 3);
    duk_require_object(ctx, 2);
    duk_get_prototype(ctx, 0); /* [C nt obj P] */
    if (is_compiled_class(ctx, 3)) {
        if (!duk_is_undefined(ctx, 1)) {
            duk_push_literal(ctx, K_NT);
            duk_dup(ctx, 1);
            /* read-only, so Object.isFrozen/isSealed answer as without it */
            duk_def_prop(ctx, 2, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
        }
        duk_get_prop_literal(ctx, 3, K_INIT);
        return 1;
    }
    duk_put_prop_literal(ctx, 2, K_PARENT);
    duk_push_current_function(ctx);
    duk_get_prop_literal(ctx, -1, DUK_HIDDEN_SYMBOL("standIn"));
    return 1;
}

/* superGet(home, key, this): super[key] in a method whose home object is `home`. A Proxy on the way is
 * read with its own [[Get]] (its trap sees the Proxy as receiver: Duktape passes no other). */
static duk_ret_t super_get(duk_context *ctx)
{
    duk_set_top(ctx, 3);
    duk_require_object(ctx, 0);
    duk_get_prototype(ctx, 0);
    if (duk_is_null_or_undefined(ctx, 3)) /* RequireObjectCoercible(home.[[Prototype]]) */
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "Cannot read properties of null (reading '%s')",
                         duk_safe_to_string(ctx, 1));
    if (ew__duk_get_with_receiver(ctx, 3, 1, 2) == 2) {
        duk_dup(ctx, 1);
        duk_get_prop(ctx, -2);
    }
    return 1;
}

/* field(obj, key, value): a public field, CreateDataPropertyOrThrow (TypeError on a non-extensible object
 * or a non-configurable property of that name). Runs once per field per construction. */
static duk_ret_t field(duk_context *ctx)
{
    duk_set_top(ctx, 3);
    duk_require_object(ctx, 0);
    duk_def_prop(ctx, 0, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE | DUK_DEFPROP_SET_ENUMERABLE |
                             DUK_DEFPROP_SET_CONFIGURABLE);
    return 0;
}

/* Private names: a field's is a WeakMap, the brand of a class with private methods a WeakSet (weak.c keeps
 * the entries in hidden slots on the object: reflection never sees them), a static member's brand the
 * class itself. `name` ("#x") is for the messages. */
static duk_ret_t no_private(duk_context *ctx, duk_idx_t name)
{
    return duk_error(ctx, DUK_ERR_TYPE_ERROR,
                     "Cannot access private member %s on an object whose class did not declare it",
                     duk_safe_to_string(ctx, name));
}

/* privGet(obj, map, name): obj.#x */
static duk_ret_t priv_get(duk_context *ctx)
{
    duk_set_top(ctx, 3);
    if (!ew__weak_lookup(ctx, 1, 0, true))
        return no_private(ctx, 2);
    return 1;
}

/* privSet(obj, map, value, name): obj.#x = value */
static duk_ret_t priv_set(duk_context *ctx)
{
    duk_set_top(ctx, 4);
    if (!ew__weak_lookup(ctx, 1, 0, false))
        return no_private(ctx, 3);
    ew__weak_store(ctx, 1, 0, 2);
    duk_dup(ctx, 2);
    return 1;
}

/* privInit(obj, map, value, name): the field #x of a new object */
static duk_ret_t priv_init(duk_context *ctx)
{
    duk_set_top(ctx, 4);
    if (ew__weak_lookup(ctx, 1, 0, false))
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "Cannot initialize %s twice on the same object",
                         duk_safe_to_string(ctx, 3));
    ew__weak_store(ctx, 1, 0, 2);
    return 0;
}

/* brandAdd(obj, brand): obj is an instance of a class with private methods (its brand, a WeakSet) */
static duk_ret_t brand_add(duk_context *ctx)
{
    duk_set_top(ctx, 2);
    if (ew__weak_lookup(ctx, 1, 0, false))
        return duk_error(ctx, DUK_ERR_TYPE_ERROR, "Cannot initialize private methods twice on the same object");
    ew__weak_store(ctx, 1, 0, 0);
    return 0;
}

/* privMethod(obj, brand, fn, name): obj.#m, fn if obj carries the brand */
static duk_ret_t priv_method(duk_context *ctx)
{
    duk_set_top(ctx, 4);
    bool branded = duk_is_function(ctx, 1) ? duk_strict_equals(ctx, 0, 1) : ew__weak_lookup(ctx, 1, 0, false);
    if (!branded)
        return no_private(ctx, 3);
    duk_dup(ctx, 2);
    return 1;
}

void ew__class_push_natives(duk_context *ctx)
{
    static const struct {
        const char *name;
        duk_c_function fn;
        duk_idx_t nargs;
    } natives[] = {
        {"markClass", mark_class, 2}, {"noNew", no_new, 1},         {"ntOf", nt_of, 1},
        {"superGet", super_get, 3},   {"field", field, 3},          {"privGet", priv_get, 3},
        {"privSet", priv_set, 4},     {"privInit", priv_init, 4},   {"privMethod", priv_method, 4},
        {"brandAdd", brand_add, 2},
    };
    duk_push_object(ctx);
    for (size_t i = 0; i < sizeof(natives) / sizeof(natives[0]); i++) {
        duk_push_c_function(ctx, natives[i].fn, natives[i].nargs);
        duk_put_prop_string(ctx, -2, natives[i].name);
    }
    /* superCtor carries the stand-in that constructs a parent which is not a compiled class */
    duk_push_c_function(ctx, super_ctor, 3);
    duk_push_c_function(ctx, construct_parent, DUK_VARARGS);
    ew__duk_clear_constructable(ctx, -1);
    duk_put_prop_literal(ctx, -2, DUK_HIDDEN_SYMBOL("standIn"));
    duk_put_prop_literal(ctx, -2, "superCtor");
}
