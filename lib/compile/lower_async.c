/*
 * lower_async.c — async functions, generators, async generators, for await and top-level await to calls of
 * the coroutine runtime (docs/coroutines.md has the exact contract this pass emits; lib/js/coro.js runs it).
 *
 * It runs after block scoping and before the arrow pass. Each async/generator function keeps its name and
 * (for generators, and for async functions with simple parameters) its parameters, and its body moves into an
 * ArrowFunctionExpression passed to $ew.async / asyncNoAwait / generator / asyncGenerator: the arrow pass then
 * captures this/arguments/new.target for the body, and the body runs on a Duktape thread where `await e`,
 * `yield e`, `yield* e` are plain calls ($ew.await is Duktape.Thread.yield: suspendable at any depth, so
 * try/catch/finally, loops and labels are left exactly as written). Per-iteration loop-body arrows made by the
 * block pass (EW__SP_LOOP_BODY) are part of the enclosing body: awaits and yields inside them count for it.
 * Catch clauses of generator bodies whose try contains a yield rethrow $ew.RET first (return() sentinel);
 * generator bodies carry EW__SP_GEN_BODY so lower_forof.c applies the same rule to its generated catch.
 * Top-level await: a module's body runs through $ew.async (its evaluation finishes asynchronously); its
 * importers await it in their prologue (lower_module.c), so they are async modules too.
 */
#include <string.h>

#include "bundle.h"
#include "lower.h"

enum { K_PLAIN, K_ASYNC, K_GEN, K_ASYNC_GEN, K_PROGRAM };

/* One real function (or the program) being walked; loop-body arrows are transparent. */
typedef struct afn {
    struct afn *parent;
    ew__node_t *node;
    uint8_t kind;
    bool has_await;           /* own body has await or for await: $ew.async, else $ew.asyncNoAwait */
    ew__node_t *first_await;  /* for diagnostics about top-level await */
    uint32_t yields;          /* yield, yield*, for await seen so far (catch clauses compare counts) */
    ew__nodes_t marks;        /* markGenerator(g) statements for generator declarations directly in it */
    uint32_t marks_cap;
    ew__nodes_t returns;      /* async: its own return statements (not those of loop-body arrows) */
    uint32_t returns_cap;
    bool no_inline;           /* async: a try with finally or a loop-body arrow: keep the asyncNoAwait form */
} afn_t;

typedef struct as {
    ew__lower_t *L;
    afn_t *top;
} as_t;

static uint8_t kind_of(const ew__node_t *f)
{
    if (f->as.function.generator)
        return f->as.function.async ? K_ASYNC_GEN : K_GEN;
    return f->as.function.async ? K_ASYNC : K_PLAIN;
}

static bool is_gen(const afn_t *f)
{
    return f->kind == K_GEN || f->kind == K_ASYNC_GEN;
}

/* ---------------------------------------------------------------------------------------------------------
 * Expressions and statements inside bodies
 */

/* `await e` / `yield e` / `yield* e` to helper calls. */
static ew__node_t *lower_await(as_t *A, ew__node_t *n)
{
    A->top->has_await = true;
    if (!A->top->first_await)
        A->top->first_await = n;
    return ew__b_helper(A->L, "await", ew__b_list(A->L, 1, n->as.argument.argument), n);
}

static ew__node_t *lower_yield(as_t *A, ew__node_t *n)
{
    ew__lower_t *L = A->L;
    bool agen = A->top->kind == K_ASYNC_GEN;
    A->top->yields++;
    const char *h = n->as.yield.delegate ? (agen ? "asyncYieldStar" : "yieldStar") : (agen ? "asyncYield" : "yield");
    ew__node_t *arg = n->as.yield.argument;
    return ew__b_helper(L, h, arg ? ew__b_list(L, 1, arg) : ew__b_list(L, 0), n);
}

/* catch (e) { if (e === $ew.RET) throw e; ... } — the param is named when it was a pattern or absent. */
static void rethrow_ret(ew__lower_t *L, ew__node_t *c)
{
    ew__node_t *p = c->as.catch_.param, *body = c->as.catch_.body;
    ew__node_t *e = p && p->type == EW__N_Identifier ? p : ew__b_ident(L, ew__fresh(L, "e", 1), c);
    ew__node_t *pre[2];
    uint32_t n = 0;
    ew__node_t *is_ret = ew__b_binary(L, EW__T_SEQ, ew__b_clone_ident(L, e, c),
                                      ew__b_member(L, ew__b_ident(L, L->helpers, c), "RET", c), c);
    pre[n++] = ew__b_if(L, is_ret, ew__b_throw(L, ew__b_clone_ident(L, e, c), c), NULL, c);
    if (p && p != e) /* catch ({message}) -> catch (e) { ...; var {message} = e; } (destructuring lowers it) */
        pre[n++] = ew__b_var(L, p, ew__b_clone_ident(L, e, c), c);
    c->as.catch_.param = e;
    ew__nodes_t *l = &body->as.body.body;
    ew__node_t **items = ew__lalloc(L, (l->len + n) * sizeof *items);
    EW__MEMCPY(items, pre, n * sizeof *items);
    if (l->len)
        EW__MEMCPY(items + n, l->items, l->len * sizeof *items);
    l->items = items;
    l->len += n;
}

/* A try statement walked here so the yields of its block can be counted (RET rule). */
static void walk_try(ew__walk_t *w, ew__node_t *t)
{
    as_t *A = w->ud;
    afn_t *f = A->top;
    uint32_t before = f->yields;
    ew__walk(w, &t->as.try_.block);
    bool yielded = A->top == f && f->yields != before && is_gen(f);
    if (t->as.try_.handler) {
        ew__walk(w, &t->as.try_.handler);
        if (yielded)
            rethrow_ret(w->L, t->as.try_.handler);
    }
    if (t->as.try_.finalizer)
        ew__walk(w, &t->as.try_.finalizer);
}

/* for await (LEFT of E) BODY, per docs/coroutines.md:
 *   { _r = $ew.asyncIterator(E);
 *     try { while ($ew.asyncNext(_r)) { LEFT = _r.value; BODY } }
 *     catch (_e) { if (_e !== $ew.RET) $ew.asyncCloseThrow(_r); throw _e; }
 *     finally { $ew.asyncClose(_r); } }
 * Same block shape as lower_forof.c (block[1] = try, try.block[0] = loop) so labels move the same way. */
static ew__node_t *lower_for_await(as_t *A, ew__node_t *n)
{
    ew__lower_t *L = A->L;
    A->top->has_await = true;
    if (!A->top->first_await)
        A->top->first_await = n;
    A->top->yields++;
    ew__node_t *r = ew__temp(L, n), *left = n->as.for_in.left, *body = n->as.for_in.body;
    ew__node_t *init = ew__b_expr_stmt(L, ew__b_assign(L, r, ew__b_helper(L, "asyncIterator",
                                                                           ew__b_list(L, 1, n->as.for_in.right), n), n), n);
    ew__node_t *value = ew__b_member(L, ew__b_clone_ident(L, r, left), "value", left), *bind;
    if (left->type == EW__N_VariableDeclaration) {
        left->as.var_decl.declarations.items[0]->as.declarator.init = value;
        bind = left;
    } else {
        bind = ew__b_expr_stmt(L, ew__b_assign(L, left, value, left), left);
    }
    ew__node_t *loop = ew__b_node(L, EW__N_WhileStatement, n);
    loop->as.while_.test = ew__b_helper(L, "asyncNext", ew__b_list(L, 1, ew__b_clone_ident(L, r, n)), n);
    loop->as.while_.body = ew__b_block(L, ew__b_list(L, 2, bind, body), body);
    ew__node_t *e = ew__b_ident(L, ew__fresh(L, "e", 1), n);
    ew__node_t *not_ret = ew__b_binary(L, EW__T_SNE, ew__b_clone_ident(L, e, n),
                                       ew__b_member(L, ew__b_ident(L, L->helpers, n), "RET", n), n);
    ew__node_t *close_throw = ew__b_expr_stmt(L, ew__b_helper(L, "asyncCloseThrow",
                                                              ew__b_list(L, 1, ew__b_clone_ident(L, r, n)), n), n);
    ew__node_t *c = ew__b_node(L, EW__N_CatchClause, n);
    c->as.catch_.param = e;
    c->as.catch_.body = ew__b_block(L, ew__b_list(L, 2, ew__b_if(L, not_ret, close_throw, NULL, n),
                                                  ew__b_throw(L, ew__b_clone_ident(L, e, n), n)), n);
    ew__node_t *t = ew__b_node(L, EW__N_TryStatement, n);
    t->as.try_.block = ew__b_block(L, ew__b_list(L, 1, loop), n);
    t->as.try_.handler = c;
    t->as.try_.finalizer = ew__b_block(L, ew__b_list(L, 1, ew__b_expr_stmt(L, ew__b_helper(L, "asyncClose",
                                                        ew__b_list(L, 1, ew__b_clone_ident(L, r, n)), n), n)), n);
    ew__node_t *blk = ew__b_block(L, ew__b_list(L, 2, init, t), n);
    blk->spare |= EW__SP_DONE;
    return blk;
}

/* ---------------------------------------------------------------------------------------------------------
 * Functions
 */

static bool simple_params(const ew__node_t *f)
{
    for (uint32_t i = 0; i < f->as.function.params.len; i++)
        if (f->as.function.params.items[i]->type != EW__N_Identifier)
            return false;
    return true;
}

/* The statements of f's body, as a block (an expression body becomes `{ return e; }`). */
static ew__nodes_t *block_body(ew__lower_t *L, ew__node_t *f)
{
    if (f->as.function.expression) {
        ew__node_t *e = f->as.function.body;
        f->as.function.body = ew__b_block(L, ew__b_list(L, 1, ew__b_return(L, e, e)), e);
        f->as.function.expression = false;
    }
    return &f->as.function.body->as.body.body;
}

/* Moves f's body (after its directives) into a new arrow `(params) => { ... }` and returns the arrow. */
static ew__node_t *take_body(ew__lower_t *L, ew__node_t *f)
{
    ew__nodes_t *l = block_body(L, f);
    uint32_t d = 0;
    while (d < l->len && l->items[d]->type == EW__N_ExpressionStatement && l->items[d]->as.expr_stmt.directive.s)
        d++;
    ew__node_t *arrow = ew__b_node(L, EW__N_ArrowFunctionExpression, f);
    arrow->flags = (uint8_t) ((f->flags & EW__NF_STRICT) | EW__NF_SIMPLE_PARAMS);
    arrow->as.function.body = ew__b_block(L, ew__b_list_copy(L, l->items + d, l->len - d), f->as.function.body);
    l->len = d;
    L->features |= EW__FEAT_ARROW;
    return arrow;
}

/* Async function with non-simple parameters: they move onto the body (a binding error rejects); the wrapper
 * keeps one formal per parameter before the first default or rest (for `length`: a pattern gets a fresh name)
 * and gathers the rest: `(a, $x, ...$p)` passing `[a, $x].concat($p)` as the body's arguments. */
static ew__node_t *move_params(ew__lower_t *L, ew__node_t *f, ew__node_t *body)
{
    ew__nodes_t *ps = &f->as.function.params;
    body->as.function.params = *ps;
    body->flags &= (uint8_t) ~EW__NF_SIMPLE_PARAMS;
    uint32_t k = 0;
    while (k < ps->len && ps->items[k]->type != EW__N_AssignmentPattern && ps->items[k]->type != EW__N_RestElement)
        k++;
    ew__node_t **outer = ew__lalloc(L, (k + 1) * sizeof *outer), **lead = ew__lalloc(L, (k + 1) * sizeof *lead);
    for (uint32_t i = 0; i < k; i++) {
        ew__node_t *p = ps->items[i];
        outer[i] = p->type == EW__N_Identifier ? ew__b_clone_ident(L, p, p) : ew__b_ident(L, ew__fresh(L, "x", 1), p);
        lead[i] = ew__b_clone_ident(L, outer[i], p);
    }
    ew__node_t *rest_id = ew__b_ident(L, ew__fresh(L, "p", 1), f);
    outer[k] = ew__b_node(L, EW__N_RestElement, f);
    outer[k]->as.argument.argument = rest_id;
    f->as.function.params = ew__b_list_copy(L, outer, k + 1);
    f->flags &= (uint8_t) ~EW__NF_SIMPLE_PARAMS;
    L->features |= EW__FEAT_PARAMS;
    ew__node_t *rest = ew__b_clone_ident(L, rest_id, f);
    if (!k)
        return rest;
    ew__node_t *arr = ew__b_array(L, ew__b_list_copy(L, lead, k), f);
    return ew__b_call(L, ew__b_member(L, arr, "concat", f), ew__b_list(L, 1, rest), f);
}

/* Whether a parameter of f is named like f itself (then `g` inside the wrapper is not the function). */
static bool param_shadows(const ew__node_t *f, const ew__atom_t *name)
{
    for (uint32_t i = 0; i < f->as.function.params.len; i++) {
        const ew__node_t *p = f->as.function.params.items[i];
        if (p->type == EW__N_Identifier && ew__atom_eq(p->as.ident.name, name))
            return true;
        if (p->type != EW__N_Identifier)
            return true; /* a pattern may bind it: do not look deeper, pass undefined */
    }
    return false;
}

/* An async function without await, with simple parameters: no coroutine and no inner function either (the
 * hot path of most fetch handlers). The body stays where it is:
 *     f(a) { DIRECTIVES FUNCTION-DECLARATIONS try { REST } catch (e) { return $ew.asyncThrow(e); }
 *            return $ew.asyncReturn(void 0); }
 * with each `return X` of f becoming `return $ew.asyncReturn(X)`. That is the async function's own
 * semantics: the body runs synchronously to its end, a throw rejects the promise, a return resolves it
 * (adopting a thenable). Not used when f has a try with a finally (the returned value would be resolved,
 * and a thenable's then() scheduled, before the finally runs and perhaps throws) or a loop-body arrow (whose
 * returns are signals of the block pass). */
static void inline_no_await(as_t *A, afn_t *fr, ew__node_t *f)
{
    ew__lower_t *L = A->L;
    bool expression = f->as.function.expression;
    ew__nodes_t *l = block_body(L, f);
    if (expression)
        ew__nodes_push(L, &fr->returns, &fr->returns_cap, l->items[0]);
    for (uint32_t i = 0; i < fr->returns.len; i++) {
        ew__node_t *r = fr->returns.items[i];
        ew__node_t *v = r->as.argument.argument ? r->as.argument.argument : ew__b_undefined(L, r);
        r->as.argument.argument = ew__b_helper(L, "asyncReturn", ew__b_list(L, 1, v), r);
    }
    uint32_t d = 0;
    while (d < l->len && l->items[d]->type == EW__N_ExpressionStatement && l->items[d]->as.expr_stmt.directive.s)
        d++;
    ew__node_t **items = ew__lalloc(L, (l->len + 2) * sizeof *items), **rest = ew__lalloc(L, (l->len + 1) * sizeof *rest);
    uint32_t n = 0, nrest = 0;
    for (uint32_t i = 0; i < l->len; i++) {
        ew__node_t *s = l->items[i];
        if (i < d || s->type == EW__N_FunctionDeclaration)
            items[n++] = s; /* directives first; declarations are hoisted anyway */
        else
            rest[nrest++] = s;
    }
    ew__node_t *e = ew__b_ident(L, ew__fresh(L, "e", 1), f);
    ew__node_t *c = ew__b_node(L, EW__N_CatchClause, f);
    c->as.catch_.param = e;
    c->as.catch_.body = ew__b_block(L, ew__b_list(L, 1, ew__b_return(L, ew__b_helper(L, "asyncThrow",
                                                  ew__b_list(L, 1, ew__b_clone_ident(L, e, f)), f), f)), f);
    ew__node_t *t = ew__b_node(L, EW__N_TryStatement, f);
    t->as.try_.block = ew__b_block(L, ew__b_list_copy(L, rest, nrest), f->as.function.body);
    t->as.try_.handler = c;
    items[n++] = t;
    items[n++] = ew__b_return(L, ew__b_helper(L, "asyncReturn", ew__b_list(L, 1, ew__b_undefined(L, f)), f), f);
    l->items = items;
    l->len = n;
    f->as.function.async = false;
}

/* async function / arrow / method: `return $ew.async(() => { BODY' })` (or asyncNoAwait, moved params). */
static void lower_async_fn(as_t *A, afn_t *fr, ew__node_t *f)
{
    ew__lower_t *L = A->L;
    if (!fr->has_await && !fr->no_inline && simple_params(f)) {
        inline_no_await(A, fr, f);
        return;
    }
    ew__node_t *body = take_body(L, f), *args = NULL;
    if (!simple_params(f))
        args = move_params(L, f, body);
    ew__nodes_t call_args = args ? ew__b_list(L, 3, body, ew__b_undefined(L, f), args) : ew__b_list(L, 1, body);
    ew__node_t *call = ew__b_helper(L, fr->has_await ? "async" : "asyncNoAwait", call_args, f);
    ew__nodes_t *l = &f->as.function.body->as.body.body;
    ew__node_t **items = ew__lalloc(L, (l->len + 1) * sizeof *items);
    if (l->len)
        EW__MEMCPY(items, l->items, l->len * sizeof *items);
    items[l->len] = ew__b_return(L, call, f);
    l->items = items;
    l->len++;
    f->as.function.async = false;
}

/* function* g(params) { BODY } -> function g(params) { return $ew.generator(g, () => { BODY' }); } plus
 * $ew.markGenerator(g) (a declaration: at the top of its scope; an expression: wrapped around it). Methods and
 * anonymous expressions (no name to refer to themselves) pass undefined (docs/coroutines.md: objects then inherit %GeneratorPrototype%). */
static void lower_gen_fn(as_t *A, afn_t *fr, ew__node_t **slot)
{
    ew__lower_t *L = A->L;
    ew__node_t *f = *slot;
    bool agen = fr->kind == K_ASYNC_GEN;
    ew__node_t *body = take_body(L, f);
    body->spare |= EW__SP_GEN_BODY;
    ew__node_t *id = f->as.function.id;
    bool named = id && !param_shadows(f, id->as.ident.name);
    ew__node_t *self = named ? ew__b_clone_ident(L, id, f) : ew__b_undefined(L, f);
    ew__node_t *call = ew__b_helper(L, agen ? "asyncGenerator" : "generator", ew__b_list(L, 2, self, body), f);
    ew__nodes_t *l = &f->as.function.body->as.body.body;
    ew__node_t **items = ew__lalloc(L, (l->len + 1) * sizeof *items);
    if (l->len)
        EW__MEMCPY(items, l->items, l->len * sizeof *items);
    items[l->len] = ew__b_return(L, call, f);
    l->items = items;
    l->len++;
    f->as.function.async = f->as.function.generator = false;
    const char *mark = agen ? "markAsyncGenerator" : "markGenerator";
    if (!named)
        return;
    if (f->type == EW__N_FunctionDeclaration) {
        afn_t *outer = fr->parent;
        ew__node_t *s = ew__b_expr_stmt(L, ew__b_helper(L, mark, ew__b_list(L, 1, ew__b_clone_ident(L, id, NULL)),
                                                        NULL), NULL);
        ew__nodes_push(L, &outer->marks, &outer->marks_cap, s);
    } else {
        *slot = ew__b_helper(L, mark, ew__b_list(L, 1, f), f);
    }
}

/* The module's body through $ew.async: `return $ew.async(() => { BODY' });` (entry module only). */
static void lower_program(as_t *A, afn_t *fr)
{
    ew__lower_t *L = A->L;
    ew__node_t *p = L->program;
    if (!fr->has_await)
        return;
    if (!L->module || !L->mod)
        ew__lower_error(L, fr->first_await, "top-level await is only allowed in modules");
    ew__nodes_t *l = &p->as.program.body;
    uint32_t d = 0;
    while (d < l->len && l->items[d]->type == EW__N_ExpressionStatement && l->items[d]->as.expr_stmt.directive.s)
        d++;
    ew__node_t *arrow = ew__b_node(L, EW__N_ArrowFunctionExpression, NULL);
    arrow->flags = (uint8_t) ((p->flags & EW__NF_STRICT) | EW__NF_SIMPLE_PARAMS);
    arrow->as.function.body = ew__b_block(L, ew__b_list_copy(L, l->items + d, l->len - d), NULL);
    L->features |= EW__FEAT_ARROW;
    ew__node_t *ret = ew__b_return(L, ew__b_helper(L, "async", ew__b_list(L, 1, arrow), NULL), NULL);
    ew__node_t **items = ew__lalloc(L, (d + 1) * sizeof *items);
    EW__MEMCPY(items, l->items, d * sizeof *items);
    items[d] = ret;
    l->items = items;
    l->len = d + 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * The walk
 */

static bool transparent(const ew__node_t *n)
{
    return n->type == EW__N_ArrowFunctionExpression && (n->spare & EW__SP_LOOP_BODY);
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    as_t *A = w->ud;
    ew__node_t *n = *slot;
    if ((ew__is_function(n) && !transparent(n)) || n->type == EW__N_Program) {
        afn_t *f = ew__lalloc(w->L, sizeof *f);
        f->parent = A->top;
        f->node = n;
        f->kind = n->type == EW__N_Program ? K_PROGRAM : kind_of(n);
        A->top = f;
        if (f->kind != K_PLAIN && f->kind != K_PROGRAM)
            w->noskip++; /* every return, try and loop body of a coroutine matters */
        return false;
    }
    if (A->top != NULL && A->top->kind == K_ASYNC &&
        ((n->type == EW__N_TryStatement && n->as.try_.finalizer != NULL) || transparent(n)))
        A->top->no_inline = true;
    if (n->type == EW__N_TryStatement) {
        walk_try(w, n);
        return true;
    }
    return false;
}

/* Leaving a real function: marks of generator declarations go first in its body, then it is lowered. */
static void leave_fn(ew__walk_t *w, as_t *A, ew__node_t **slot)
{
    ew__lower_t *L = A->L;
    afn_t *f = A->top;
    A->top = f->parent;
    if (f->kind != K_PLAIN && f->kind != K_PROGRAM)
        w->noskip--;
    if (f->marks.len)
        ew__prepend(L, f->node, f->marks.items, f->marks.len);
    if (f->kind == K_PROGRAM)
        lower_program(A, f);
    else if (f->kind == K_ASYNC)
        lower_async_fn(A, f, *slot);
    else if (f->kind != K_PLAIN)
        lower_gen_fn(A, f, slot);
    if (f->kind != K_PLAIN) { /* bodies changed in place: their subtree features are unknown (lower.c) */
        f->node->feat = 0;
        if (f->kind != K_PROGRAM)
            f->node->as.function.body->feat = 0;
    }
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    as_t *A = w->ud;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_AwaitExpression: *slot = lower_await(A, n); break;
    case EW__N_YieldExpression: *slot = lower_yield(A, n); break;
    case EW__N_ReturnStatement:
        if (A->top->kind == K_ASYNC && w->L->fn->fn == A->top->node)
            ew__nodes_push(w->L, &A->top->returns, &A->top->returns_cap, n);
        /* async generators await the operand of return (a loop-body arrow's returns are signals: skipped) */
        if (A->top->kind == K_ASYNC_GEN && n->as.argument.argument && w->L->fn->fn == A->top->node)
            n->as.argument.argument = ew__b_helper(w->L, "await", ew__b_list(w->L, 1, n->as.argument.argument), n);
        break;
    case EW__N_ForOfStatement:
        if (n->as.for_in.await)
            *slot = lower_for_await(A, n);
        break;
    case EW__N_LabeledStatement: {
        ew__node_t *b = n->as.labeled.body;
        if (b->type == EW__N_BlockStatement && (b->spare & EW__SP_DONE) && b->as.body.body.len == 2 &&
            b->as.body.body.items[1]->type == EW__N_TryStatement) { /* L: for await -> { ...; try { L: while } } */
            ew__node_t **ls = &b->as.body.body.items[1]->as.try_.block->as.body.body.items[0];
            n->as.labeled.body = *ls;
            *ls = n;
            *slot = b;
        }
        break;
    }
    default:
        if ((ew__is_function(n) && !transparent(n)) || n->type == EW__N_Program)
            leave_fn(w, A, slot);
        break;
    }
}

void ew__lower_async(ew__lower_t *L)
{
    as_t A = {L, NULL};
    ew__walk_t w = {L, pre, post, &A, EW__FEAT_CORO, 0, false};
    ew__walk(&w, &L->program);
}
