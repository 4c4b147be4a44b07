/*
 * lower_block.c — block scoping: let, const and block-level functions to ES5 `var`, with per-iteration
 * bindings for loops whose closures capture them.
 *
 * Runs first (after scope.c), on the scopes it computed:
 *   - renaming: a block-level lexical binding whose name also occurs elsewhere in the module (another binding,
 *     or a reference that resolves elsewhere) gets a fresh name at its declaration and every reference, so
 *     hoisting it to a function-level `var` changes nothing. Names used once are kept (readable output).
 *   - `let x;` becomes `var x = void 0;` so a loop body re-entering the block starts from undefined.
 *   - function declarations in blocks (which Duktape rejects) become `var f = function f() {}` at the top of
 *     their block: hoisted within the block; in sloppy code the var is function-scoped (Annex B, simplified).
 *   - assignments to a const throw a TypeError after evaluating the right side ($ew.constAssign).
 *   - a loop marked wrap_loop (a closure captures a binding declared in it) gets its body moved into an arrow
 *     called once per iteration with the head's bindings as parameters, `$r = ((i) => {...})(i)`; `break`,
 *     `continue`, `return` and labelled jumps out of the body are returned as codes (1 = break, "b:L"/"c:L",
 *     {v: value} = return) and re-done after the call; body `var`s are hoisted out of the arrow (assignments
 *     left in place). When a for(;;) body assigns a head variable, the value is copied back after each call.
 *     The arrow pass then captures this/arguments for it. Direct eval sees renamed names (docs/compiler.md).
 *   - TDZ: a let/const/class reference textually before its declaration (or in its own initialiser) in the
 *     same function throws a ReferenceError ($ew.tdz) where it stands. A reference from a closure that may run
 *     before the declaration (a closure written before it, a hoisted function declaration, a module's export
 *     getter) is checked at run time: the binding holds the sentinel $ew.U from the start of its block (or
 *     function) until its declaration runs, and such reads are `(x === U ? $ew.tdz("x") : x)`. Bindings of
 *     loop heads and switch blocks get the static check only.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "lower.h"

typedef struct label {
    ew__atom_t *name;
    ew__node_t *stmt; /* the labelled statement after any further labels */
} label_t;

typedef struct tdz_slot {
    const ew__node_t *ref;
    ew__sbinding_t *b;
} tdz_slot_t;

typedef struct blk {
    ew__lower_t *L;
    label_t *labels;
    uint32_t nlabels, labels_cap;
    tdz_slot_t *tdz;           /* Identifier node -> its let/const/class binding (open addressing) */
    uint32_t tdz_mask;
    ew__atom_t *uninit;        /* the program-level variable holding $ew.U (NULL until needed) */
} blk_t;

/* ---------------------------------------------------------------------------------------------------------
 * Renaming
 */

static bool rename_needed(ew__lower_t *L, const ew__sbinding_t *b)
{
    bool lexical = b->kind == EW__BK_LET || b->kind == EW__BK_CONST || b->kind == EW__BK_CLASS ||
                   (b->kind == EW__BK_FUNCTION && b->scope->kind != EW__SK_FUNCTION) ||
                   (b->kind == EW__BK_CATCH && b->scope->node->as.catch_.param->type != EW__N_Identifier);
    if (!lexical || b->scope->kind == EW__SK_FUNCTION)
        return false;
    return ew__scope_name_count(L, b->name) != b->nrefs;
}

static void rename_bindings(ew__lower_t *L)
{
    ew__scopes_t *T = &L->scopes;
    for (uint32_t i = 0; i <= T->bind_mask; i++) {
        for (ew__sbinding_t *b = T->bind_tab[i]; b; b = b->hnext) {
            if (!rename_needed(L, b))
                continue;
            ew__atom_t *a = ew__fresh(L, b->name->s, b->name->len);
            for (uint32_t r = 0; r < b->nrefs; r++)
                b->refs[r]->as.ident.name = a;
            b->name = a;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Declarations
 */

static void lexical_to_var(ew__lower_t *L, ew__node_t *n)
{
    if (n->as.var_decl.kind == EW__VAR_VAR)
        return;
    n->as.var_decl.kind = EW__VAR_VAR;
    n->spare |= EW__SP_WAS_LEXICAL;
    if (n->spare & EW__SP_DONE) /* a for-in/of head: the loop assigns it */
        return;
    for (uint32_t i = 0; i < n->as.var_decl.declarations.len; i++) {
        ew__node_t *d = n->as.var_decl.declarations.items[i];
        if (!d->as.declarator.init)
            d->as.declarator.init = ew__b_undefined(L, d);
    }
}

/* Function declarations of a block's statement list -> `var f = function f() {}` first in the list. */
static void hoist_block_functions(ew__lower_t *L, ew__nodes_t *l)
{
    uint32_t nf = 0;
    for (uint32_t i = 0; i < l->len; i++)
        nf += l->items[i]->type == EW__N_FunctionDeclaration;
    if (!nf)
        return;
    ew__node_t **items = ew__lalloc(L, l->len * sizeof *items);
    uint32_t k = 0, rest = nf;
    for (uint32_t i = 0; i < l->len; i++) {
        ew__node_t *s = l->items[i];
        if (s->type != EW__N_FunctionDeclaration) {
            items[rest++] = s;
            continue;
        }
        ew__node_t *id = s->as.function.id;
        s->type = EW__N_FunctionExpression;
        s->as.function.id = ew__b_clone_ident(L, id, id);
        items[k++] = ew__b_var(L, id, s, s);
    }
    l->items = items;
}

/* x = v where x is const: (v, $ew.constAssign("x")) */
static ew__node_t *const_write(ew__lower_t *L, ew__node_t *n, ew__node_t *id, ew__node_t *value)
{
    ew__atom_t *a = id->as.ident.name;
    ew__node_t *thr = ew__b_helper(L, "constAssign", ew__b_list(L, 1, ew__b_str(L, a->s, a->len, id)), n);
    return value ? ew__b_seq(L, ew__b_list(L, 2, value, thr), n) : thr;
}

/* ---------------------------------------------------------------------------------------------------------
 * Per-iteration loop bodies
 */

typedef struct wrap {
    ew__lower_t *L;
    blk_t *B;
    ew__node_t *loop;
    label_t *inner;            /* labels declared inside the body (scan stack) */
    uint32_t ninner, inner_cap;
    uint32_t loops, switches;  /* nesting inside the body */
    bool brk, ret;
    ew__nodes_t jumps;         /* labelled jumps out: BreakStatement/ContinueStatement nodes (for dispatch) */
    uint32_t jumps_cap;
    ew__node_t **heads;        /* head bindings (Identifiers) */
    uint32_t nheads;
    bool head_written;
} wrap_t;

static bool own_label(wrap_t *W, const ew__atom_t *a)
{
    for (uint32_t i = 0; i < W->B->nlabels; i++)
        if (W->B->labels[i].stmt == W->loop && ew__atom_eq(W->B->labels[i].name, a))
            return true;
    return false;
}

static bool inner_label(wrap_t *W, const ew__atom_t *a)
{
    for (uint32_t i = 0; i < W->ninner; i++)
        if (ew__atom_eq(W->inner[i].name, a))
            return true;
    return false;
}

static ew__node_t *code_str(ew__lower_t *L, char kind, const ew__atom_t *a, const ew__node_t *at)
{
    char *s = ew__lalloc(L, a->len + 3);
    s[0] = kind;
    s[1] = ':';
    EW__MEMCPY(s + 2, a->s, a->len);
    return ew__b_str(L, s, a->len + 2, at);
}

static void scan(wrap_t *W, ew__node_t **slot);

static void scan_list(wrap_t *W, ew__nodes_t *l)
{
    for (uint32_t i = 0; i < l->len; i++)
        scan(W, &l->items[i]);
}

/* `var a = 1, b;` in the body -> `a = 1;` with a and b declared in the enclosing function. */
static ew__node_t *hoist_var(wrap_t *W, ew__node_t *n, bool as_expr)
{
    ew__lower_t *L = W->L;
    ew__nodes_t exprs = {NULL, 0};
    uint32_t cap = 0;
    for (uint32_t i = 0; i < n->as.var_decl.declarations.len; i++) {
        ew__node_t *d = n->as.var_decl.declarations.items[i], *id = d->as.declarator.id;
        if (id->type == EW__N_Identifier)
            ew__nodes_push(L, &L->fn->temps, &L->fn->temps_cap, ew__b_clone_ident(L, id, NULL));
        else
            ew__lower_error(L, id, "a destructuring var in a per-iteration loop body is not supported yet");
        if (d->as.declarator.init)
            ew__nodes_push(L, &exprs, &cap, ew__b_assign(L, ew__b_clone_ident(L, id, id), d->as.declarator.init, d));
    }
    if (as_expr) {
        if (!exprs.len)
            return n->as.var_decl.declarations.items[0]->as.declarator.init ? NULL
                   : ew__b_clone_ident(L, n->as.var_decl.declarations.items[0]->as.declarator.id, n);
        return ew__b_seq(L, exprs, n);
    }
    if (!exprs.len)
        return ew__b_node(L, EW__N_EmptyStatement, n);
    return ew__b_expr_stmt(L, ew__b_seq(L, exprs, n), n);
}

static void scan_jump(wrap_t *W, ew__node_t **slot)
{
    ew__lower_t *L = W->L;
    ew__node_t *n = *slot;
    bool is_break = n->type == EW__N_BreakStatement;
    ew__node_t *label = n->as.jump.label;
    if (label && inner_label(W, label->as.ident.name))
        return;
    if (!label && (W->loops || (is_break && W->switches)))
        return;
    if (!label || own_label(W, label->as.ident.name)) {
        if (is_break) {
            W->brk = true;
            *slot = ew__b_return(L, ew__b_num(L, 1, n), n);
        } else {
            *slot = ew__b_return(L, NULL, n);
        }
        return;
    }
    ew__nodes_push(L, &W->jumps, &W->jumps_cap, n);
    *slot = ew__b_return(L, code_str(L, is_break ? 'b' : 'c', label->as.ident.name, n), n);
}

static void scan_loop(wrap_t *W, ew__node_t *n)
{
    if (n->type == EW__N_ForStatement && n->as.for_.init && n->as.for_.init->type == EW__N_VariableDeclaration &&
        !(n->as.for_.init->spare & EW__SP_WAS_LEXICAL))
        n->as.for_.init = hoist_var(W, n->as.for_.init, true);
    if ((n->type == EW__N_ForInStatement || n->type == EW__N_ForOfStatement) &&
        n->as.for_in.left->type == EW__N_VariableDeclaration && !(n->as.for_in.left->spare & EW__SP_WAS_LEXICAL))
        n->as.for_in.left = hoist_var(W, n->as.for_in.left, true);
    W->loops++;
    scan(W, n->type == EW__N_ForStatement ? &n->as.for_.body
            : n->type == EW__N_ForInStatement || n->type == EW__N_ForOfStatement ? &n->as.for_in.body
                                                                                   : &n->as.while_.body);
    W->loops--;
}

static void scan(wrap_t *W, ew__node_t **slot)
{
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_BlockStatement: scan_list(W, &n->as.body.body); break;
    case EW__N_IfStatement:
        scan(W, &n->as.conditional.consequent);
        if (n->as.conditional.alternate)
            scan(W, &n->as.conditional.alternate);
        break;
    case EW__N_LabeledStatement: {
        label_t l = {n->as.labeled.label->as.ident.name, NULL};
        if (W->ninner == W->inner_cap) {
            uint32_t cap = W->inner_cap ? W->inner_cap * 2 : 4;
            label_t *x = ew__lalloc(W->L, cap * sizeof *x);
            if (W->ninner)
                EW__MEMCPY(x, W->inner, W->ninner * sizeof *x);
            W->inner = x;
            W->inner_cap = cap;
        }
        W->inner[W->ninner++] = l;
        scan(W, &n->as.labeled.body);
        W->ninner--;
        break;
    }
    case EW__N_ForStatement:
    case EW__N_ForInStatement:
    case EW__N_ForOfStatement:
    case EW__N_WhileStatement:
    case EW__N_DoWhileStatement: scan_loop(W, n); break;
    case EW__N_SwitchStatement:
        W->switches++;
        for (uint32_t i = 0; i < n->as.switch_.cases.len; i++)
            scan_list(W, &n->as.switch_.cases.items[i]->as.switch_case.consequent);
        W->switches--;
        break;
    case EW__N_TryStatement:
        scan(W, &n->as.try_.block);
        if (n->as.try_.handler)
            scan(W, &n->as.try_.handler->as.catch_.body);
        if (n->as.try_.finalizer)
            scan(W, &n->as.try_.finalizer);
        break;
    case EW__N_WithStatement: scan(W, &n->as.with.body); break;
    case EW__N_VariableDeclaration:
        if (!(n->spare & EW__SP_WAS_LEXICAL))
            *slot = hoist_var(W, n, false);
        break;
    case EW__N_ReturnStatement: {
        W->ret = true;
        ew__node_t *v = n->as.argument.argument ? n->as.argument.argument : ew__b_undefined(W->L, n);
        ew__node_t *obj = ew__b_object(W->L, ew__b_list(W->L, 1, ew__b_prop(W->L, ew__b_ident_str(W->L, "v", n), v, n)), n);
        n->as.argument.argument = obj;
        break;
    }
    case EW__N_BreakStatement:
    case EW__N_ContinueStatement: scan_jump(W, slot); break;
    default: break;
    }
}

/* Does the subtree assign one of the head names? (functions included: conservative) */
static int find_head_write(ew__node_t **slot, void *ud)
{
    wrap_t *W = ud;
    ew__node_t *n = *slot, *t = NULL;
    if (n->type == EW__N_AssignmentExpression)
        t = n->as.binary.left;
    else if (n->type == EW__N_UpdateExpression)
        t = n->as.unary.argument;
    if (t && t->type == EW__N_Identifier)
        for (uint32_t i = 0; i < W->nheads; i++)
            if (ew__atom_eq(t->as.ident.name, W->heads[i]->as.ident.name))
                return 1;
    return ew__node_children(n, find_head_write, ud);
}

static void collect_names(wrap_t *W, ew__node_t *p, uint32_t *cap)
{
    if (!p)
        return;
    switch (p->type) {
    case EW__N_Identifier:
        if (W->nheads == *cap) {
            *cap = *cap ? *cap * 2 : 4;
            ew__node_t **h = ew__lalloc(W->L, *cap * sizeof *h);
            if (W->nheads)
                EW__MEMCPY(h, W->heads, W->nheads * sizeof *h);
            W->heads = h;
        }
        W->heads[W->nheads++] = p;
        break;
    case EW__N_ObjectPattern:
        for (uint32_t i = 0; i < p->as.object.properties.len; i++) {
            ew__node_t *x = p->as.object.properties.items[i];
            collect_names(W, x->type == EW__N_RestElement ? x->as.argument.argument : x->as.property.value, cap);
        }
        break;
    case EW__N_ArrayPattern:
        for (uint32_t i = 0; i < p->as.array.elements.len; i++)
            collect_names(W, p->as.array.elements.items[i], cap);
        break;
    case EW__N_AssignmentPattern: collect_names(W, p->as.assign_pattern.left, cap); break;
    case EW__N_RestElement: collect_names(W, p->as.argument.argument, cap); break;
    default: break;
    }
}

static void head_bindings(wrap_t *W)
{
    ew__node_t *loop = W->loop, *decl = NULL;
    if (loop->type == EW__N_ForStatement)
        decl = loop->as.for_.init;
    else if (loop->type == EW__N_ForInStatement || loop->type == EW__N_ForOfStatement)
        decl = loop->as.for_in.left;
    if (!decl || decl->type != EW__N_VariableDeclaration || !(decl->spare & EW__SP_WAS_LEXICAL))
        return;
    uint32_t cap = 0;
    for (uint32_t i = 0; i < decl->as.var_decl.declarations.len; i++)
        collect_names(W, decl->as.var_decl.declarations.items[i]->as.declarator.id, &cap);
}

static ew__node_t **body_slot(ew__node_t *loop)
{
    switch (loop->type) {
    case EW__N_ForStatement: return &loop->as.for_.body;
    case EW__N_ForInStatement:
    case EW__N_ForOfStatement: return &loop->as.for_in.body;
    default: return &loop->as.while_.body;
    }
}

/* The statements after the call: re-do each jump the body returned as a code. */
static void dispatch(wrap_t *W, ew__node_t *r, ew__nodes_t *out, uint32_t *cap, const ew__node_t *at)
{
    ew__lower_t *L = W->L;
    if (W->brk)
        ew__nodes_push(L, out, cap, ew__b_if(L, ew__b_binary(L, EW__T_SEQ, ew__b_clone_ident(L, r, at),
                                                              ew__b_num(L, 1, at), at),
                                             ew__b_node(L, EW__N_BreakStatement, at), NULL, at));
    if (W->ret) {
        ew__node_t *test = ew__b_binary(L, EW__T_SEQ, ew__b_unary(L, EW__T_K_TYPEOF, ew__b_clone_ident(L, r, at), at),
                                        ew__b_str(L, "object", 6, at), at);
        ew__node_t *ret = ew__b_return(L, ew__b_member(L, ew__b_clone_ident(L, r, at), "v", at), at);
        ew__nodes_push(L, out, cap, ew__b_if(L, test, ret, NULL, at));
    }
    for (uint32_t i = 0; i < W->jumps.len; i++) {
        ew__node_t *j = W->jumps.items[i];
        char kind = j->type == EW__N_BreakStatement ? 'b' : 'c';
        ew__node_t *test = ew__b_binary(L, EW__T_SEQ, ew__b_clone_ident(L, r, at),
                                        code_str(L, kind, j->as.jump.label->as.ident.name, at), at);
        ew__nodes_push(L, out, cap, ew__b_if(L, test, j, NULL, at));
    }
}

static void wrap_loop(blk_t *B, ew__node_t *loop)
{
    ew__lower_t *L = B->L;
    wrap_t W;
    memset(&W, 0, sizeof W);
    W.L = L;
    W.B = B;
    W.loop = loop;
    head_bindings(&W);
    ew__node_t **bs = body_slot(loop), *body = *bs;
    if (loop->type == EW__N_ForStatement && W.nheads && ew__node_children(body, find_head_write, &W))
        W.head_written = true;
    scan(&W, bs);
    body = *bs;
    if (body->type != EW__N_BlockStatement)
        body = ew__b_block(L, ew__b_list(L, 1, body), body);
    ew__node_t *copy = NULL;
    if (W.head_written) {
        /* try { body } finally { $c = i; } ... i = $c (one head name: the common case) */
        ew__node_t *c = ew__temp(L, body);
        ew__node_t *fin = ew__b_block(L, ew__b_list(L, 1, ew__b_expr_stmt(L, ew__b_assign(L, c,
                                                     ew__b_clone_ident(L, W.heads[0], body), body), body)), body);
        ew__node_t *t = ew__b_node(L, EW__N_TryStatement, body);
        t->as.try_.block = body;
        t->as.try_.finalizer = fin;
        body = ew__b_block(L, ew__b_list(L, 1, t), body);
        copy = ew__b_expr_stmt(L, ew__b_assign(L, ew__b_clone_ident(L, W.heads[0], body),
                                                ew__b_clone_ident(L, c, body), body), body);
    }
    ew__node_t *fn = ew__b_node(L, EW__N_ArrowFunctionExpression, body);
    fn->spare |= EW__SP_LOOP_BODY;
    L->features |= EW__FEAT_ARROW;
    ew__node_t **params = ew__lalloc(L, (W.nheads + 1) * sizeof *params);
    ew__node_t **args = ew__lalloc(L, (W.nheads + 1) * sizeof *args);
    for (uint32_t i = 0; i < W.nheads; i++) {
        params[i] = ew__b_clone_ident(L, W.heads[i], W.heads[i]);
        args[i] = ew__b_clone_ident(L, W.heads[i], body);
    }
    fn->as.function.params = ew__b_list_copy(L, params, W.nheads);
    fn->as.function.body = body;
    ew__node_t *call = ew__b_call(L, fn, ew__b_list_copy(L, args, W.nheads), body);
    ew__nodes_t out = {NULL, 0};
    uint32_t cap = 0;
    if (W.brk || W.ret || W.jumps.len) {
        ew__node_t *r = ew__temp(L, body);
        ew__nodes_push(L, &out, &cap, ew__b_expr_stmt(L, ew__b_assign(L, r, call, body), body));
        if (copy)
            ew__nodes_push(L, &out, &cap, copy);
        dispatch(&W, r, &out, &cap, body);
    } else {
        ew__nodes_push(L, &out, &cap, ew__b_expr_stmt(L, call, body));
        if (copy)
            ew__nodes_push(L, &out, &cap, copy);
    }
    *bs = ew__b_block(L, out, body);
}

/* ---------------------------------------------------------------------------------------------------------
 * TDZ
 */

static bool tdz_kind(const ew__sbinding_t *b)
{
    return b->kind == EW__BK_LET || b->kind == EW__BK_CONST || b->kind == EW__BK_CLASS;
}

static uint32_t tdz_hash(const ew__node_t *n)
{
    uintptr_t p = (uintptr_t) n;
    return (uint32_t) ((p >> 3) ^ (p >> 17)) * 2654435761u;
}

/* Marks every reference of the lexical bindings and maps it to its binding. */
static void tdz_index(blk_t *B)
{
    ew__lower_t *L = B->L;
    ew__scopes_t *T = &L->scopes;
    uint32_t n = 0;
    for (uint32_t i = 0; i <= T->bind_mask; i++)
        for (ew__sbinding_t *b = T->bind_tab[i]; b; b = b->hnext)
            if (tdz_kind(b) && b->nrefs > 1)
                n += b->nrefs;
    if (!n)
        return;
    uint32_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    B->tdz = ew__lalloc(L, cap * sizeof *B->tdz);
    B->tdz_mask = cap - 1;
    for (uint32_t i = 0; i <= T->bind_mask; i++) {
        for (ew__sbinding_t *b = T->bind_tab[i]; b; b = b->hnext) {
            if (!tdz_kind(b) || b->nrefs < 2)
                continue;
            for (uint32_t r = 0; r < b->nrefs; r++) {
                uint32_t h = tdz_hash(b->refs[r]) & B->tdz_mask;
                while (B->tdz[h].ref)
                    h = (h + 1) & B->tdz_mask;
                B->tdz[h] = (tdz_slot_t){b->refs[r], b};
                b->refs[r]->spare |= EW__SP_TDZ;
            }
        }
    }
}

static ew__sbinding_t *tdz_binding(blk_t *B, const ew__node_t *id)
{
    if (!B->tdz || !(id->spare & EW__SP_TDZ))
        return NULL;
    for (uint32_t h = tdz_hash(id) & B->tdz_mask; B->tdz[h].ref; h = (h + 1) & B->tdz_mask)
        if (B->tdz[h].ref == id)
            return B->tdz[h].b;
    return NULL;
}

/* Whether evaluating e can run user code (calls, getters, conversions): literals, names, functions, inert
 * class evaluations, literals of those, and `new` of a few built-ins cannot. */
static bool inert_expr(const ew__node_t *e, int depth)
{
    if (!e)
        return true;
    if (depth > 16)
        return false;
    switch (e->type) {
    case EW__N_Literal:
    case EW__N_Identifier:
    case EW__N_ThisExpression:
    case EW__N_FunctionExpression:
    case EW__N_ArrowFunctionExpression: return true;
    case EW__N_TemplateLiteral: return e->as.template.expressions.len == 0;
    case EW__N_ArrayExpression:
        for (uint32_t i = 0; i < e->as.array.elements.len; i++) {
            const ew__node_t *x = e->as.array.elements.items[i];
            if (x && (x->type == EW__N_SpreadElement || !inert_expr(x, depth + 1)))
                return false;
        }
        return true;
    case EW__N_ObjectExpression:
        for (uint32_t i = 0; i < e->as.object.properties.len; i++) {
            const ew__node_t *p = e->as.object.properties.items[i];
            if (p->type != EW__N_Property || p->as.property.computed || !inert_expr(p->as.property.value, depth + 1))
                return false;
        }
        return true;
    case EW__N_UnaryExpression: return e->as.unary.argument->type == EW__N_Literal;
    case EW__N_CallExpression: return (e->spare & EW__SP_INERT) != 0;
    case EW__N_NewExpression: {
        static const char *const builtins[] = {"Map", "Set", "WeakMap", "WeakSet", "Object", "Array", "Error"};
        const ew__node_t *c = e->as.call.callee;
        bool known = false;
        for (size_t i = 0; c->type == EW__N_Identifier && i < sizeof builtins / sizeof *builtins && !known; i++)
            known = strlen(builtins[i]) == c->as.ident.name->len && !memcmp(builtins[i], c->as.ident.name->s,
                                                                             c->as.ident.name->len);
        for (uint32_t i = 0; known && i < e->as.call.arguments.len; i++)
            known = inert_expr(e->as.call.arguments.items[i], depth + 1) &&
                    e->as.call.arguments.items[i]->type != EW__N_Identifier; /* new Map(iterable) iterates */
        return known;
    }
    default: return false;
    }
}

static bool inert_stmt(const ew__lower_t *L, const ew__node_t *s)
{
    switch (s->type) {
    case EW__N_FunctionDeclaration:
    case EW__N_EmptyStatement: return true;
    case EW__N_ExpressionStatement:
        /* the module prologue: it runs dependencies, which call back into this module only on a cycle */
        return s->as.expr_stmt.directive.s || ((s->spare & EW__SP_PROLOGUE) && !(L->mod && L->mod->in_cycle));
    case EW__N_VariableDeclaration:
        if (s->spare & EW__SP_PROLOGUE)
            return true;
        for (uint32_t i = 0; i < s->as.var_decl.declarations.len; i++) {
            const ew__node_t *d = s->as.var_decl.declarations.items[i];
            if (d->as.declarator.id->type != EW__N_Identifier || !inert_expr(d->as.declarator.init, 0))
                return false;
        }
        return true;
    default: return false;
    }
}

/* Whether user code may run in b's scope before b's declaration has run (then a closure may read it early). */
static bool early_code(blk_t *B, const ew__sbinding_t *b)
{
    ew__sscope_t *S = b->scope;
    ew__node_t *sn = S->node;
    const ew__nodes_t *l = sn->type == EW__N_Program ? &sn->as.program.body
                           : sn->type == EW__N_BlockStatement ? &sn->as.body.body
                           : ew__is_function(sn) && !sn->as.function.expression ? &sn->as.function.body->as.body.body
                                                                               : NULL;
    if (!l)
        return true;
    if (ew__is_function(sn) && !(sn->flags & EW__NF_SIMPLE_PARAMS))
        return true; /* parameter defaults run first */
    if (!S->first_active) {
        uint32_t i = 0;
        while (i < l->len && inert_stmt(B->L, l->items[i]))
            i++;
        S->first_active = i + 1;
    }
    /* the statement holding the declaration */
    const ew__node_t *d = b->refs[0];
    uint32_t k = 0;
    while (k < l->len && !(l->items[k]->start <= d->start && d->start < l->items[k]->end))
        k++;
    return S->first_active - 1 <= k;
}

/* 0: no check, 1: always in the TDZ where it stands, 2: check at run time. */
static int tdz_need(blk_t *B, const ew__sbinding_t *b, const ew__node_t *ref)
{
    const ew__node_t *d = b->refs[0];
    if (ref == d)
        return 0;
    ew__lfn_t *f = B->L->fn;
    const ew__node_t *D = b->scope->fn->node; /* the declaring function (or program) */
    if (f->fn == D) { /* the declaring function itself: before the declaration or in its initialiser */
        if (D->type != EW__N_Program && D->as.function.body && ref->start < D->as.function.body->start &&
            D->as.function.body->start > D->start)
            return 0; /* a parameter default: scope.c resolves it in the body (documented deviation) */
        return ref->start < d->start || b->in_init ? 1 : 0;
    }
    /* the outermost function between the declaring one and the reference */
    while (f->parent && f->parent->fn != D)
        f = f->parent;
    uint8_t st = b->scope->node->type;
    if (st != EW__N_Program && st != EW__N_BlockStatement && !ew__is_function(b->scope->node))
        return 0; /* loop heads, switch blocks, catch clauses: the static check only */
    if ((f->fn->start < d->start || f->fn->type == EW__N_FunctionDeclaration) && early_code(B, b))
        return 2;
    return 0;
}

static ew__node_t *uninit_ref(blk_t *B, const ew__node_t *at)
{
    if (!B->uninit)
        B->L->uninit = B->uninit = ew__fresh(B->L, "U", 1);
    return ew__b_ident(B->L, B->uninit, at);
}

/* The sentinel as a local of the function being walked (`var cU = U` at its top: a register, not a lookup
 * through the scope chain on every guarded read). */
static ew__node_t *uninit_local(blk_t *B, const ew__node_t *at)
{
    uninit_ref(B, at);
    if (!B->L->fn->cap_uninit)
        B->L->fn->cap_uninit = ew__fresh(B->L, "u", 1);
    return ew__b_ident(B->L, B->L->fn->cap_uninit, at);
}

static ew__node_t *tdz_throw(ew__lower_t *L, const ew__sbinding_t *b, const ew__node_t *at)
{
    return ew__b_helper(L, "tdz", ew__b_list(L, 1, ew__b_str(L, b->name->s, b->name->len, at)), at);
}

/* `((t = x) === u ? $ew.tdz("x") : <e>)`; e NULL: t (a read: x is looked up once) */
static ew__node_t *tdz_guard(blk_t *B, const ew__sbinding_t *b, const ew__node_t *id, ew__node_t *e)
{
    ew__lower_t *L = B->L;
    ew__node_t *t = ew__temp(L, id);
    ew__node_t *test = ew__b_binary(L, EW__T_SEQ, ew__b_assign(L, t, ew__b_clone_ident(L, id, id), id),
                                    uninit_local(B, id), id);
    return ew__b_cond(L, test, tdz_throw(L, b, id), e ? e : ew__b_clone_ident(L, t, id), id);
}

/* A read of x (at *slot, an Identifier with EW__SP_TDZ). */
static void tdz_read(blk_t *B, ew__node_t **slot)
{
    ew__node_t *id = *slot;
    ew__sbinding_t *b = tdz_binding(B, id);
    if (!b)
        return;
    int need = tdz_need(B, b, id);
    if (need == 1)
        *slot = tdz_throw(B->L, b, id);
    else if (need == 2) {
        b->tdz_runtime = true;
        *slot = tdz_guard(B, b, id, NULL);
    }
}

/* x = v, x += v, x++ (n at *slot) with x a checked binding: the write is guarded too. The walk goes on into
 * the replacement, and so into n again (its target is no longer marked). */
static void tdz_write(blk_t *B, ew__node_t **slot, ew__node_t *target)
{
    if (target->type != EW__N_Identifier)
        return;
    ew__sbinding_t *b = tdz_binding(B, target);
    if (!b)
        return;
    int need = tdz_need(B, b, target);
    target->spare &= (uint16_t) ~EW__SP_TDZ;
    ew__lower_t *L = B->L;
    ew__node_t *n = *slot;
    if (need == 1) { /* the value is evaluated, then the assignment throws */
        ew__node_t *v = n->type == EW__N_AssignmentExpression && n->as.binary.op == EW__T_ASSIGN ? n->as.binary.right
                                                                                                   : NULL;
        *slot = v ? ew__b_seq(L, ew__b_list(L, 2, v, tdz_throw(L, b, target)), n) : tdz_throw(L, b, target);
    } else if (need == 2) {
        b->tdz_runtime = true;
        *slot = tdz_guard(B, b, target, n);
    }
}

/* Inserts s first in a program or function body, after its directives only: before the module prologue,
 * whose evaluation of dependencies may already call back into this module (cycles). */
static void insert_first(ew__lower_t *L, ew__node_t *fn, ew__node_t **s, uint32_t n)
{
    bool block = fn->type == EW__N_BlockStatement;
    ew__nodes_t *l = block ? &fn->as.body.body : ew__body_of(fn);
    uint32_t at = 0;
    while (!block && at < l->len && l->items[at]->type == EW__N_ExpressionStatement &&
           l->items[at]->as.expr_stmt.directive.s)
        at++;
    ew__node_t **items = ew__lalloc(L, (l->len + n) * sizeof *items);
    if (at)
        EW__MEMCPY(items, l->items, at * sizeof *items);
    for (uint32_t i = 0; i < n; i++) {
        items[at + i] = s[i];
        if (!block)
            s[i]->spare |= EW__SP_PROLOGUE;
    }
    if (l->len > at)
        EW__MEMCPY(items + at + n, l->items + at, (l->len - at) * sizeof *items);
    l->items = items;
    l->len += n;
    fn->feat = 0; /* subtree features unknown now (lower.c) */
    if (!block && fn->type != EW__N_Program)
        fn->as.function.body->feat = 0;
}

typedef struct pending_set {
    ew__node_t *node;          /* the scope's node: block, function or program */
    ew__node_t *set;           /* `x = U;` */
    uint32_t order;
} pending_set_t;

static int cmp_pending_set(const void *a, const void *b)
{
    const pending_set_t *x = a, *y = b;
    if (x->node != y->node)
        return (uintptr_t) x->node < (uintptr_t) y->node ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* `x = U;` at the start of the scope of each binding checked at run time, `var U = $ew.U` for the program. */
static void tdz_finish(blk_t *B)
{
    ew__lower_t *L = B->L;
    if (!B->uninit)
        return;
    ew__scopes_t *T = &L->scopes;
    /* the sets grouped by scope node, inserted once per node (one insertion per binding would copy a module's
     * top-level statement list for each of its guarded constants) */
    uint32_t n = 0, cap = 0;
    pending_set_t *v = NULL;
    for (uint32_t i = 0; i <= T->bind_mask; i++) {
        for (ew__sbinding_t *b = T->bind_tab[i]; b; b = b->hnext) {
            ew__node_t *sn = b->scope->node;
            if (!b->tdz_runtime || (sn->type != EW__N_BlockStatement && sn->type != EW__N_Program &&
                                    sn->as.function.expression))
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                pending_set_t *x = ew__lalloc(L, cap * sizeof *x);
                if (n)
                    EW__MEMCPY(x, v, n * sizeof *x);
                v = x;
            }
            v[n] = (pending_set_t){sn, ew__b_expr_stmt(L, ew__b_assign(L, ew__b_ident(L, b->name, NULL),
                                                                      uninit_ref(B, NULL), NULL), NULL), n};
            n++;
        }
    }
    if (n)
        qsort(v, n, sizeof *v, cmp_pending_set);
    ew__node_t *u = ew__b_var(L, ew__b_ident(L, B->uninit, NULL), ew__b_member(L, ew__b_ident(L, L->helpers, NULL),
                                                                               "U", NULL), NULL);
    bool program_done = false;
    for (uint32_t i = 0, j; i < n; i = j) {
        ew__node_t *sn = v[i].node;
        bool prog = sn->type == EW__N_Program;
        uint32_t k = prog ? 1 : 0;
        for (j = i; j < n && v[j].node == sn; j++)
            k++;
        ew__node_t **s = ew__lalloc(L, k * sizeof *s);
        k = 0;
        if (prog)
            s[k++] = u; /* the sets below read it */
        for (uint32_t m = j; m-- > i;) /* newest first, as one insertion each used to leave them */
            s[k++] = v[m].set;
        insert_first(L, sn, s, k);
        program_done |= prog;
    }
    if (!program_done)
        insert_first(L, L->program, &u, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * The walk
 */

static bool is_loop(const ew__node_t *n)
{
    return n->type == EW__N_ForStatement || n->type == EW__N_ForInStatement || n->type == EW__N_ForOfStatement ||
           n->type == EW__N_WhileStatement || n->type == EW__N_DoWhileStatement;
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    blk_t *B = w->ud;
    ew__node_t *n = *slot;
    if ((n->type == EW__N_ForInStatement || n->type == EW__N_ForOfStatement) &&
        n->as.for_in.left->type == EW__N_VariableDeclaration)
        n->as.for_in.left->spare |= EW__SP_DONE;
    if (B->tdz) {
        switch (n->type) {
        case EW__N_Identifier: tdz_read(B, slot); return true;
        case EW__N_VariableDeclarator: {
            ew__sbinding_t *b = n->as.declarator.id->type == EW__N_Identifier ? tdz_binding(B, n->as.declarator.id)
                                                                              : NULL;
            if (b && b->refs[0] == n->as.declarator.id)
                b->in_init = true; /* `let x = x + 1`: the reference in the initialiser is in the TDZ */
            break;
        }
        case EW__N_AssignmentExpression: tdz_write(B, slot, n->as.binary.left); break;
        case EW__N_UpdateExpression: tdz_write(B, slot, n->as.unary.argument); break;
        default: break; /* (typeof x reads x like any other read) */
        }
    }
    if (n->type == EW__N_LabeledStatement) {
        ew__node_t *s = n->as.labeled.body;
        while (s->type == EW__N_LabeledStatement)
            s = s->as.labeled.body;
        if (B->nlabels == B->labels_cap) {
            uint32_t cap = B->labels_cap ? B->labels_cap * 2 : 8;
            label_t *x = ew__lalloc(B->L, cap * sizeof *x);
            if (B->nlabels)
                EW__MEMCPY(x, B->labels, B->nlabels * sizeof *x);
            B->labels = x;
            B->labels_cap = cap;
        }
        B->labels[B->nlabels++] = (label_t){n->as.labeled.label->as.ident.name, s};
    }
    return false;
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    blk_t *B = w->ud;
    ew__lower_t *L = B->L;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_LabeledStatement: B->nlabels--; break;
    case EW__N_VariableDeclaration: lexical_to_var(L, n); break;
    case EW__N_VariableDeclarator:
        if (B->tdz && n->as.declarator.id->type == EW__N_Identifier) {
            ew__sbinding_t *b = tdz_binding(B, n->as.declarator.id);
            if (b)
                b->in_init = false;
        }
        break;
    case EW__N_BlockStatement:
        if (ew__scope_of(L, n)) /* not a function body */
            hoist_block_functions(L, &n->as.body.body);
        break;
    case EW__N_SwitchCase: hoist_block_functions(L, &n->as.switch_case.consequent); break;
    case EW__N_AssignmentExpression:
        if (n->as.binary.left->type == EW__N_Identifier && (n->as.binary.left->spare & EW__SP_CONST_WRITE))
            *slot = const_write(L, n, n->as.binary.left, n->as.binary.right);
        break;
    case EW__N_UpdateExpression:
        if (n->as.unary.argument->type == EW__N_Identifier && (n->as.unary.argument->spare & EW__SP_CONST_WRITE))
            *slot = const_write(L, n, n->as.unary.argument, NULL);
        break;
    default:
        if (is_loop(n)) {
            ew__sscope_t *s = ew__scope_of(L, n);
            if (s && s->wrap_loop)
                wrap_loop(B, n);
        }
        break;
    }
}

void ew__lower_block(ew__lower_t *L)
{
    rename_bindings(L);
    blk_t B = {L, NULL, 0, 0, NULL, 0, NULL};
    tdz_index(&B);
    ew__walk_t w = {L, pre, post, &B, 0, 0, true}; /* every node: TDZ reads, labels, loops */
    ew__walk(&w, &L->program);
    tdz_finish(&B);
}
