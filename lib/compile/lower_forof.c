/*
 * lower_forof.c — for-of loops to ES5 with the iterator protocol.
 *
 *   for (LEFT of RIGHT) BODY
 * becomes (every $ name a temporary of the enclosing function)
 *   { $a = RIGHT, $it = $ew.iterFast($a), $i = 0, $n = false;
 *     try {
 *       for (; $it ? !($s = $it.next()).done : $i < $a.length; $n = false) {
 *         $v = $it ? $s.value : $a[$i++]; $n = true; LEFT = $v; BODY }
 *       (`var x = $it ? ... ; $n = true; BODY` when LEFT declares a name)
 *     } catch ($e) { if ($n) { $n = false; $ew.close($it, true); } throw $e; }
 *     finally { if ($n) $ew.close($it); } }
 * $ew.iterFast (C, lib/core/builtin_iterfast.c) returns null for a value whose @@iterator is the intrinsic
 * Array.prototype.values while %ArrayIteratorPrototype%.next is intact and no `return` was added to its chain,
 * and indexing such a value is exactly what its iterator does (length read at every step), so the common case
 * costs a test and an index per iteration and never calls a function. $n is true while the body (including
 * LEFT's assignment) runs: leaving the loop then by break, return or a throw calls the iterator's return()
 * (its errors are ignored after a throw, as IteratorClose requires); an exception from next() itself, or from
 * reading its result's value, does not. Labels on the loop move to the
 * inner `for` so `continue L` still works. LEFT stays a declaration or assignment for lower_destructure.c.
 */
#include "lower.h"

static ew__node_t *id(ew__lower_t *L, ew__node_t *t, const ew__node_t *at)
{
    return ew__b_clone_ident(L, t, at);
}

static ew__node_t *expr_stmt_assign(ew__lower_t *L, ew__node_t *t, ew__node_t *v, const ew__node_t *at)
{
    return ew__b_expr_stmt(L, ew__b_assign(L, t, v, at), at);
}

/* Whether the loop is in a generator's body (lower_async.c marks it; per-iteration loop bodies are part of it). */
static bool in_generator_body(ew__lower_t *L)
{
    ew__lfn_t *f = L->fn;
    while (f && (f->fn->spare & EW__SP_LOOP_BODY))
        f = f->parent;
    return f && (f->fn->spare & EW__SP_GEN_BODY);
}

/* catch ($e) { if ($n) { $n = false; $ew.close($it, true); } throw $e; }
 * In a generator body it starts with `if ($e === $ew.RET) throw $e;`: a return() passing through the loop is a
 * return completion, so the finally closes the iterator and errors of its return() propagate
 * (docs/coroutines.md, "catch clauses in generator bodies"). */
static ew__node_t *close_on_throw(ew__lower_t *L, ew__node_t *n, ew__node_t *it, const ew__node_t *at)
{
    ew__node_t *e = ew__b_ident(L, ew__fresh(L, "e", 1), NULL);
    ew__node_t *close = ew__b_expr_stmt(L, ew__b_helper(L, "close", ew__b_list(L, 2, id(L, it, NULL),
                                                        ew__b_bool(L, true, NULL)), NULL), NULL);
    ew__node_t *reset = expr_stmt_assign(L, id(L, n, NULL), ew__b_bool(L, false, NULL), NULL);
    ew__node_t *iff = ew__b_if(L, id(L, n, NULL), ew__b_block(L, ew__b_list(L, 2, reset, close), NULL), NULL, NULL);
    ew__node_t *c = ew__b_node(L, EW__N_CatchClause, at);
    c->as.catch_.param = e;
    ew__node_t *ret = NULL;
    if (in_generator_body(L)) {
        ew__node_t *is_ret = ew__b_binary(L, EW__T_SEQ, id(L, e, NULL),
                                          ew__b_member(L, ew__b_ident(L, L->helpers, NULL), "RET", NULL), NULL);
        ret = ew__b_if(L, is_ret, ew__b_throw(L, id(L, e, NULL), NULL), NULL, NULL);
    }
    c->as.catch_.body = ew__b_block(L, ew__b_list(L, 3, ret, iff, ew__b_throw(L, id(L, e, NULL), NULL)), NULL);
    return c;
}

static ew__node_t *lower_for_of(ew__lower_t *L, ew__node_t *n)
{
    ew__node_t *a = ew__temp(L, n), *it = ew__temp(L, n), *i = ew__temp(L, n), *flag = ew__temp(L, n),
               *s = ew__temp(L, n);
    ew__node_t *right = n->as.for_in.right, *left = n->as.for_in.left, *body = n->as.for_in.body;
    ew__node_t *init = ew__b_seq(L, ew__b_list(L, 4, ew__b_assign(L, a, right, right),
                                               ew__b_assign(L, it, ew__b_helper(L, "iterFast", ew__b_list(L, 1,
                                                            id(L, a, n)), n), n),
                                               ew__b_assign(L, i, ew__b_num(L, 0, n), n),
                                               ew__b_assign(L, flag, ew__b_bool(L, false, n), n)), n);
    ew__node_t *next = ew__b_call(L, ew__b_member(L, id(L, it, n), "next", n), ew__b_list(L, 0), n);
    ew__node_t *not_done = ew__b_unary(L, EW__T_BANG, ew__b_member(L, ew__b_assign(L, id(L, s, n), next, n),
                                                                   "done", n), n);
    ew__node_t *in_range = ew__b_binary(L, EW__T_LT, id(L, i, n), ew__b_member(L, id(L, a, n), "length", n), n);
    ew__node_t *loop = ew__b_node(L, EW__N_ForStatement, n);
    loop->as.for_.test = ew__b_cond(L, id(L, it, n), not_done, in_range, n);
    loop->as.for_.update = ew__b_assign(L, id(L, flag, n), ew__b_bool(L, false, n), n);
    ew__node_t *bump = ew__b_node(L, EW__N_UpdateExpression, n);
    bump->as.unary.op = EW__T_INC;
    bump->as.unary.argument = id(L, i, n);
    ew__node_t *value = ew__b_cond(L, id(L, it, left), ew__b_member(L, id(L, s, left), "value", left),
                                   ew__b_index(L, id(L, a, left), bump, left), left);
    /* The value is read before $n is set (an error of the result's `value` getter does not close): a
     * declared name is bound first (that cannot throw), anything else (a pattern, an assignment target)
     * after the value went through $v. */
    ew__node_t *enter = expr_stmt_assign(L, id(L, flag, n), ew__b_bool(L, true, n), n);
    if (left->type == EW__N_VariableDeclaration &&
        left->as.var_decl.declarations.items[0]->as.declarator.id->type == EW__N_Identifier) {
        left->as.var_decl.declarations.items[0]->as.declarator.init = value;
        loop->as.for_.body = ew__b_block(L, ew__b_list(L, 3, left, enter, body), body);
    } else {
        ew__node_t *v = ew__temp(L, n), *bind;
        if (left->type == EW__N_VariableDeclaration) {
            left->as.var_decl.declarations.items[0]->as.declarator.init = id(L, v, left);
            bind = left;
        } else {
            bind = expr_stmt_assign(L, left, id(L, v, left), left);
        }
        ew__node_t *read = expr_stmt_assign(L, id(L, v, left), value, left);
        loop->as.for_.body = ew__b_block(L, ew__b_list(L, 4, read, enter, bind, body), body);
    }
    ew__node_t *t = ew__b_node(L, EW__N_TryStatement, n);
    t->as.try_.block = ew__b_block(L, ew__b_list(L, 1, loop), n);
    t->as.try_.handler = close_on_throw(L, flag, it, n);
    ew__node_t *close = ew__b_helper(L, "close", ew__b_list(L, 1, id(L, it, NULL)), NULL);
    t->as.try_.finalizer = ew__b_block(L, ew__b_list(L, 1, ew__b_if(L, id(L, flag, NULL), ew__b_expr_stmt(L, close,
                                                                    NULL), NULL, NULL)), NULL);
    ew__node_t *blk = ew__b_block(L, ew__b_list(L, 2, ew__b_expr_stmt(L, init, n), t), n);
    blk->spare |= EW__SP_FOROF_BLOCK;
    return blk;
}

/* The slot of the inner `for` in a block made by lower_for_of. */
static ew__node_t **loop_slot(ew__node_t *blk)
{
    ew__node_t *t = blk->as.body.body.items[1];
    return &t->as.try_.block->as.body.body.items[0];
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    ew__node_t *n = *slot;
    if (n->type == EW__N_ForOfStatement) {
        *slot = lower_for_of(w->L, n);
    } else if (n->type == EW__N_LabeledStatement && (n->as.labeled.body->spare & EW__SP_FOROF_BLOCK)) {
        /* L: for (x of y) ... -> { ...; try { L: for (;;) ... } ... } */
        ew__node_t *blk = n->as.labeled.body, **ls = loop_slot(blk);
        n->as.labeled.body = *ls;
        *ls = n;
        *slot = blk;
    }
}

void ew__lower_forof(ew__lower_t *L)
{
    ew__walk_t w = {L, NULL, post, NULL, EW__FEAT_FOROF, 0, false};
    ew__walk(&w, &L->program);
}
