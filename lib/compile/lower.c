/*
 * lower.c — the lowering driver: the shared walker, temporaries and fresh names, the pass order, and the checks
 * that keep a program from being silently wrong.
 *
 * ew__lower_run (called by compile.c) runs scope analysis (scope.c), which also rejects what no pass lowers yet
 * (async functions, generators, ...) with a diagnostic at the construct and notes which constructs the module uses
 * (a pass with nothing to do is skipped: each walk costs about as much as the printer), then the passes in this
 * order: block scoping (it makes arrow functions for per-iteration loop bodies, so it runs before the arrow pass) →
 * async/generators (body closures are arrows too) → arrows → parameters → for-of → destructuring → small syntax (?.
 * ?? **= ...) → spread → templates, after the class pass (lower_class.c, then scope analysis again) when the module
 * has classes; the template walk also verifies that only ES5.1 (plus what Duktape 2.7 parses) is left in what it
 * walks. Parameters are lowered in the arrow pass's walk. Each pass is one walk (ew__walk) over the tree; the
 * walker keeps function frames for temporaries and walks left-deep operator chains iteratively so a long `a + b +
 * ...` does not use C stack per operand. The block pass's walk and each masked walk leave in every node they walk
 * the features of its subtree (ew__node_t.feat, recomputed after the node's post from its own kind and its
 * children's bits; a node a pass builds has none, i.e. unknown, and a pass that changes a body in place outside the
 * current slot clears it there), so the passes from async to spread and templates skip subtrees with nothing for
 * them (the template walk's ES5 check sees the nodes it walks; for the rest, Duktape's parser refuses anything a
 * pass left: "internal compiler error"). See docs/compiler.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lower.h"

/* Nesting limit of the walks: the parser stops at EW__MAX_DEPTH; passes add a few levels. */
#define WALK_MAX_DEPTH (3 * EW__MAX_DEPTH)

void ew__lower_error(ew__lower_t *L, const ew__node_t *n, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t off = n ? n->start : 0, line = n && n->line ? n->line : 1, col = n && n->line ? n->col : 1;
    ew__diag_set(L->diag, L->file, L->src, L->len, off, line, col, msg);
    longjmp(L->fail, 1);
}

void *ew__lalloc(ew__lower_t *L, size_t n)
{
    void *p = ew__arena_zalloc(L->arena, n ? n : 1);
    if (!p)
        ew__lower_error(L, NULL, "out of memory");
    return p;
}

void ew__nodes_push(ew__lower_t *L, ew__nodes_t *v, uint32_t *cap, ew__node_t *n)
{
    if (v->len == *cap) {
        uint32_t c = *cap ? *cap * 2 : 4;
        ew__node_t **items = ew__lalloc(L, c * sizeof *items);
        if (v->len)
            EW__MEMCPY(items, v->items, v->len * sizeof *items);
        v->items = items;
        *cap = c;
    }
    v->items[v->len++] = n;
}

/* ---------------------------------------------------------------------------------------------------------
 * Names and function frames
 */

ew__atom_t *ew__fresh(ew__lower_t *L, const char *hint, uint32_t hint_len)
{
    /* prefix, counter, "_" hint: formatted by hand (snprintf cost 4% of a compilation of dense code) */
    char buf[96], digits[12];
    if (hint_len > 60 || !hint)
        hint_len = hint ? 60 : 0;
    uint32_t n = L->prefix_len, nd = 0;
    EW__MEMCPY(buf, L->prefix, n);
    for (uint32_t c = ++L->counter; c || !nd; c /= 10)
        digits[nd++] = (char) ('0' + c % 10);
    while (nd)
        buf[n++] = digits[--nd];
    if (hint_len) {
        buf[n++] = '_';
        EW__MEMCPY(buf + n, hint, hint_len);
        n += hint_len;
    }
    ew__atom_t *a = ew__atom_new(L->arena, buf, (size_t) n);
    if (!a)
        ew__lower_error(L, NULL, "out of memory");
    return a;
}

ew__node_t *ew__temp(ew__lower_t *L, const ew__node_t *at)
{
    ew__atom_t *a = ew__fresh(L, NULL, 0);
    ew__lfn_t *f = L->fn;
    ew__nodes_push(L, &f->temps, &f->temps_cap, ew__b_ident(L, a, NULL));
    return ew__b_ident(L, a, at);
}

ew__nodes_t *ew__body_of(ew__node_t *fn)
{
    if (fn->type == EW__N_Program)
        return &fn->as.program.body;
    return &fn->as.function.body->as.body.body;
}

/* An arrow with an expression body gets `{ return expr; }` so statements can be added. */
static void ensure_block_body(ew__lower_t *L, ew__node_t *fn)
{
    if (fn->type == EW__N_Program || !fn->as.function.expression)
        return;
    ew__node_t *e = fn->as.function.body;
    ew__node_t *ret = ew__b_return(L, e, e);
    fn->as.function.body = ew__b_block(L, ew__b_list(L, 1, ret), NULL);
    fn->as.function.expression = false;
}

void ew__prepend(ew__lower_t *L, ew__node_t *fn, ew__node_t **stmts, uint32_t n)
{
    if (!n)
        return;
    ensure_block_body(L, fn);
    ew__nodes_t *body = ew__body_of(fn);
    uint32_t at = 0;
    while (at < body->len) {
        const ew__node_t *s = body->items[at];
        bool directive = s->type == EW__N_ExpressionStatement && s->as.expr_stmt.directive.s;
        if (!directive && !(s->spare & EW__SP_PROLOGUE))
            break;
        at++;
    }
    ew__node_t **items = ew__lalloc(L, (body->len + n) * sizeof *items);
    if (at > 0) /* body->items may be NULL for an empty body: memcpy must not see it */
        EW__MEMCPY(items, body->items, at * sizeof *items);
    for (uint32_t i = 0; i < n; i++) {
        stmts[i]->spare |= EW__SP_PROLOGUE;
        items[at + i] = stmts[i];
    }
    if (body->len > at)
        EW__MEMCPY(items + at + n, body->items + at, (body->len - at) * sizeof *items);
    body->items = items;
    body->len += n;
    /* a change outside the running walk's slot: the subtree bits of the body and the function are unknown */
    fn->feat = 0;
    if (fn->type != EW__N_Program)
        fn->as.function.body->feat = 0;
}

static void frame_enter(ew__lower_t *L, ew__lfn_t *f, ew__node_t *fn)
{
    memset(f, 0, sizeof *f);
    f->parent = L->fn;
    f->fn = fn;
    f->is_arrow = fn->type == EW__N_ArrowFunctionExpression;
    L->fn = f;
}

/* `var c1 = this, c2 = arguments, c3 = new.target;` for the arrows of a function (arrow pass), and the local
 * copies of helpers other passes asked for. */
static void declare_captures(ew__lower_t *L, ew__lfn_t *f)
{
    ew__node_t *d[5];
    uint32_t n = 0;
    if (f->cap_arr)
        d[n++] = ew__b_declarator(L, ew__b_ident(L, f->cap_arr, NULL),
                                  ew__b_member(L, ew__b_ident(L, L->helpers, NULL), "arr", NULL), NULL);
    if (f->cap_uninit)
        d[n++] = ew__b_declarator(L, ew__b_ident(L, f->cap_uninit, NULL), ew__b_ident(L, L->uninit, NULL), NULL);
    if (f->cap_this)
        d[n++] = ew__b_declarator(L, ew__b_ident(L, f->cap_this, NULL), ew__b_this(L, NULL), NULL);
    if (f->cap_args)
        d[n++] = ew__b_declarator(L, ew__b_ident(L, f->cap_args, NULL), ew__b_ident_str(L, "arguments", NULL),
                                  NULL);
    if (f->cap_new_target) {
        ew__node_t *mp = ew__b_node(L, EW__N_MetaProperty, NULL);
        mp->as.meta_property.meta = ew__b_ident_str(L, "new", NULL);
        mp->as.meta_property.property = ew__b_ident_str(L, "target", NULL);
        d[n++] = ew__b_declarator(L, ew__b_ident(L, f->cap_new_target, NULL), mp, NULL);
    }
    if (!n)
        return;
    ew__node_t *decl = ew__b_node(L, EW__N_VariableDeclaration, NULL);
    decl->as.var_decl.kind = EW__VAR_VAR;
    decl->as.var_decl.declarations = ew__b_list_copy(L, d, n);
    ew__prepend(L, f->fn, &decl, 1);
}

/* Declares the frame's captures and temps: `var t1, t2;` at the top of its function. */
static void frame_exit(ew__lower_t *L, ew__lfn_t *f)
{
    L->fn = f->parent;
    declare_captures(L, f);
    if (!f->temps.len)
        return;
    ew__node_t *decl = ew__b_node(L, EW__N_VariableDeclaration, NULL);
    decl->as.var_decl.kind = EW__VAR_VAR;
    decl->as.var_decl.declarations.items = ew__lalloc(L, f->temps.len * sizeof(ew__node_t *));
    decl->as.var_decl.declarations.len = f->temps.len;
    for (uint32_t i = 0; i < f->temps.len; i++)
        decl->as.var_decl.declarations.items[i] = ew__b_declarator(L, f->temps.items[i], NULL, NULL);
    ew__prepend(L, f->fn, &decl, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * The walker
 */

static int walk_child(ew__node_t **slot, void *ud)
{
    ew__walk((ew__walk_t *) ud, slot);
    return 0;
}

/* Subtree features: a node's own bits and its children's; valid only when every child's are. */
static int feat_child(ew__node_t **slot, void *ud)
{
    unsigned *acc = ud, c = (*slot)->feat;
    *acc = (*acc | (c & ~EW__FEAT_VALID)) & (c | ~EW__FEAT_VALID); /* features OR, validity AND */
    return 0;
}

static void feat_compute(ew__node_t *n)
{
    switch (n->type) { /* the most frequent leaves */
    case EW__N_Identifier: n->feat = EW__FEAT_VALID | ew__node_own_features(n); return;
    case EW__N_Literal:
        n->feat = EW__FEAT_VALID | (n->as.literal.kind == EW__LIT_REGEX ? EW__FEAT_TEMPLATE : 0);
        return;
    case EW__N_ThisExpression: n->feat = EW__FEAT_VALID | EW__FEAT_THIS; return;
    default: break;
    }
    unsigned acc = EW__FEAT_VALID | ew__node_own_features(n);
    ew__node_children(n, feat_child, &acc);
    n->feat = acc;
}

/* Nothing in n's subtree for this walk: known bits without any of the walk's features. */
static bool skippable(const ew__walk_t *w, const ew__node_t *n)
{
    return w->mask && !w->noskip && (n->feat & EW__FEAT_VALID) && !(n->feat & w->mask);
}

static bool is_binary(const ew__node_t *n)
{
    return n && (n->type == EW__N_BinaryExpression || n->type == EW__N_LogicalExpression);
}

/* `a + b + c + ...`: pre on the spine top-down, the leftmost operand, then each right operand and post
 * bottom-up. Pre must not replace a binary node of the spine. */
static void walk_chain(ew__walk_t *w, ew__node_t **slot)
{
    uint32_t k = 0;
    for (ew__node_t *n = *slot; is_binary(n); n = n->as.binary.left)
        k++;
    ew__node_t ***spine = ew__lalloc(w->L, k * sizeof *spine);
    ew__node_t **s = slot;
    for (uint32_t i = 0; i < k; i++) {
        spine[i] = s;
        if (w->pre)
            w->pre(w, s);
        s = &(*s)->as.binary.left;
    }
    ew__walk(w, s);
    for (uint32_t i = k; i-- > 0;) {
        ew__walk(w, &(*spine[i])->as.binary.right);
        if (w->post)
            w->post(w, spine[i]);
        if (w->mask || w->feats)
            feat_compute(*spine[i]);
    }
}

void ew__walk(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    if (skippable(w, *slot))
        return;
    if (++L->depth > WALK_MAX_DEPTH)
        ew__lower_error(L, *slot, "Too much nesting");
    if (is_binary(*slot) && is_binary((*slot)->as.binary.left)) {
        walk_chain(w, slot);
        L->depth--;
        return;
    }
    if (!(w->pre && w->pre(w, slot))) {
        ew__node_t *n = *slot;
        if (ew__is_function(n) || n->type == EW__N_Program) {
            ew__lfn_t f;
            frame_enter(L, &f, n);
            ew__node_children(n, walk_child, w);
            frame_exit(L, &f);
        } else {
            ew__node_children(n, walk_child, w);
        }
    }
    if (w->post)
        w->post(w, slot);
    if (w->mask || w->feats)
        feat_compute(*slot);
    L->depth--;
}

/* ---------------------------------------------------------------------------------------------------------
 * Checks. Before lowering: features no pass handles yet are errors at their position (never silently wrong).
 * After lowering: anything Duktape 2.7 would not parse is an internal error of a pass.
 */

void ew__check_supported_node(ew__lower_t *L, const ew__node_t *n)
{
    switch (n->type) {
    case EW__N_ImportDeclaration:
    case EW__N_ExportNamedDeclaration:
    case EW__N_ExportDefaultDeclaration:
    case EW__N_ExportAllDeclaration:
    case EW__N_ImportExpression:
        /* lower_module.c lowers them for modules compiled by the bundler (bundle.c) */
        if (!L->mod)
            ew__lower_error(L, n, "modules are compiled by the bundler (ew__compile_bundle), not as a single script");
        break;
    case EW__N_MetaProperty:
        if (n->as.meta_property.meta->as.ident.name->len == 6 && !L->mod) /* import.meta */
            ew__lower_error(L, n, "import.meta needs the bundler (ew__compile_bundle)");
        break;
    default: break;
    }
}

/* Nodes that only ES2015+ has (Duktape 2.7 parses method shorthand, computed keys, shorthand properties, `**`,
 * new.target). */
void ew__check_es5_node(ew__lower_t *L, const ew__node_t *n)
{
    const char *what = NULL;
    switch (n->type) {
    case EW__N_ArrowFunctionExpression: what = "arrow function"; break;
    case EW__N_FunctionDeclaration:
    case EW__N_FunctionExpression:
        if (n->as.function.async || n->as.function.generator)
            what = "async function or generator";
        break;
    case EW__N_AwaitExpression:
    case EW__N_YieldExpression: what = "await/yield"; break;
    case EW__N_TemplateLiteral:
    case EW__N_TaggedTemplateExpression: what = "template"; break;
    case EW__N_ArrayPattern:
    case EW__N_ObjectPattern:
    case EW__N_AssignmentPattern: what = "pattern"; break;
    case EW__N_SpreadElement:
    case EW__N_RestElement: what = "spread/rest"; break;
    case EW__N_ChainExpression: what = "optional chain"; break;
    case EW__N_ForOfStatement: what = "for-of"; break;
    case EW__N_VariableDeclaration:
        if (n->as.var_decl.kind != EW__VAR_VAR)
            what = "let/const";
        break;
    case EW__N_LogicalExpression:
        if (n->as.binary.op == EW__T_NULLISH)
            what = "??";
        break;
    case EW__N_AssignmentExpression:
        if (n->as.binary.op >= EW__T_AND_ASSIGN)
            what = "logical assignment";
        break;
    case EW__N_CatchClause:
        if (!n->as.catch_.param)
            what = "catch without binding";
        break;
    default: break;
    }
    if (what)
        ew__lower_error(L, n, "internal error: %s left after lowering", what);
}

/* Module-level caches (tagged templates): `var c1, c2;` at the top of the program. */
static void declare_module_vars(ew__lower_t *L)
{
    if (!L->module_vars.len)
        return;
    ew__node_t *decl = ew__b_node(L, EW__N_VariableDeclaration, NULL);
    decl->as.var_decl.kind = EW__VAR_VAR;
    ew__nodes_t *d = &decl->as.var_decl.declarations;
    d->items = ew__lalloc(L, L->module_vars.len * sizeof(ew__node_t *));
    d->len = L->module_vars.len;
    for (uint32_t i = 0; i < d->len; i++)
        d->items[i] = ew__b_declarator(L, L->module_vars.items[i], NULL, NULL);
    ew__prepend(L, L->program, &decl, 1);
}

void ew__lower_run(ew__lower_t *L)
{
    if (L->mod)
        ew__lower_module(L); /* modules first: it analyses scopes itself, the passes below see a script body */
    ew__scope_analyze(L); /* also rejects what no pass lowers yet (ew__check_supported_node) */
    L->helpers = ew__atom_new(L->arena, L->prefix, L->prefix_len);
    if (!L->helpers)
        ew__lower_error(L, NULL, "out of memory");
    if (L->global_script) {
        ew__lower_global(L);  /* top-level var/function declarations to global properties: */
        ew__scope_analyze(L); /* those names are free references now */
    }
    if (L->features & EW__FEAT_CLASS) {
        ew__lower_class(L);   /* classes become functions, lets and arrows: */
        ew__scope_analyze(L); /* the passes below need the scopes of that */
    }
    unsigned f = L->features;
    if (f & EW__FEAT_BLOCK)
        ew__lower_block(L);
    if (f & EW__FEAT_CORO)
        ew__lower_async(L); /* its body functions are arrows: the arrow pass captures this/arguments for them */
    if (L->features & (EW__FEAT_ARROW | EW__FEAT_PARAMS)) /* block scoping may have made arrows */
        ew__lower_arrow(L);                               /* and parameters, in the same walk */
    if (f & EW__FEAT_FOROF)
        ew__lower_forof(L);
    if (f & EW__FEAT_PATTERN)
        ew__lower_destructure(L);
    if (f & EW__FEAT_MISC)
        ew__lower_misc(L);
    if (f & EW__FEAT_SPREAD)
        ew__lower_spread(L);
    ew__lower_template(L); /* and the ES5 check of the nodes it walks, in the same walk */
    declare_module_vars(L);
    if (L->regex_groups) { /* before any `s.match(/(?<n>x)/)` reads String.prototype.match */
        ew__node_t *init = ew__b_expr_stmt(L, ew__b_helper(L, "regexInit", ew__b_list(L, 0), NULL), NULL);
        ew__prepend(L, L->program, &init, 1);
    }
    if (L->regex_flags) { /* the same for the y and d flags (helpers_regex.js) */
        ew__node_t *init = ew__b_expr_stmt(L, ew__b_helper(L, "regexFlagsInit", ew__b_list(L, 0), NULL), NULL);
        ew__prepend(L, L->program, &init, 1);
    }
}
