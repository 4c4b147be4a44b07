/*
 * lower_global.c — a script's top level on the global object (runs first, for scripts only: L->global_script).
 *
 * A script is compiled into a function (compile.h), where `var` and function declarations would be locals. The
 * specification (GlobalDeclarationInstantiation) makes them properties of the global object, which other
 * scripts, `globalThis.x` and `typeof x` in callbacks see. So this pass:
 *   - collects the names the top-level var scope declares: `var` anywhere outside functions (blocks, loops,
 *     try, switch, labels included) and the function declarations of the program body;
 *   - turns each `var` declaration into assignments (`var a = 1, b;` -> `a = 1;`, `for (var k in o)` ->
 *     `for (k in o)`, patterns become assignment patterns) so that the names resolve to the global object;
 *   - replaces the function declarations by one prologue call, `$ew.declareGlobals(this, [vars], [name, fn,
 *     ...])` (helpers.js), which defines the functions and the missing vars as non-configurable properties, in
 *     the order of the specification.
 * let, const and class stay locals of the script function (not visible to other scripts; documented). Modules
 * and CommonJS files are not touched: their top-level names are theirs.
 */
#include "lower.h"

typedef struct gl {
    ew__lower_t *L;
    ew__nodes_t vars;        /* Identifier nodes, one per name */
    uint32_t vars_cap;
    ew__nodes_t fns;         /* name string, FunctionExpression, ... */
    uint32_t fns_cap;
} gl_t;

static void add_var(gl_t *G, ew__node_t *id)
{
    for (uint32_t i = 0; i < G->vars.len; i++)
        if (ew__atom_eq(G->vars.items[i]->as.ident.name, id->as.ident.name))
            return;
    ew__nodes_push(G->L, &G->vars, &G->vars_cap, id);
}

/* The names a binding pattern declares. */
static void pattern_names(gl_t *G, ew__node_t *p)
{
    if (!p)
        return;
    switch (p->type) {
    case EW__N_Identifier: add_var(G, p); break;
    case EW__N_ObjectPattern:
        for (uint32_t i = 0; i < p->as.object.properties.len; i++) {
            ew__node_t *q = p->as.object.properties.items[i];
            pattern_names(G, q->type == EW__N_Property ? q->as.property.value : q);
        }
        break;
    case EW__N_ArrayPattern:
        for (uint32_t i = 0; i < p->as.array.elements.len; i++)
            pattern_names(G, p->as.array.elements.items[i]);
        break;
    case EW__N_AssignmentPattern: pattern_names(G, p->as.assign_pattern.left); break;
    case EW__N_RestElement: pattern_names(G, p->as.argument.argument); break;
    default: break;
    }
}

/* `var a = 1, {b} = o, c;` -> `a = 1, {b} = o` (NULL when nothing is assigned). */
static ew__node_t *var_to_expr(gl_t *G, ew__node_t *d)
{
    ew__lower_t *L = G->L;
    ew__nodes_t parts = {0};
    uint32_t cap = 0;
    for (uint32_t i = 0; i < d->as.var_decl.declarations.len; i++) {
        ew__node_t *dc = d->as.var_decl.declarations.items[i];
        pattern_names(G, dc->as.declarator.id);
        if (dc->as.declarator.init)
            ew__nodes_push(L, &parts, &cap, ew__b_assign(L, dc->as.declarator.id, dc->as.declarator.init, dc));
    }
    return parts.len ? ew__b_seq(L, parts, d) : NULL;
}

static bool is_var(const ew__node_t *n)
{
    return n && n->type == EW__N_VariableDeclaration && n->as.var_decl.kind == EW__VAR_VAR;
}

static void stmt(gl_t *G, ew__node_t **slot, bool top);

static void stmts(gl_t *G, ew__nodes_t *l, bool top)
{
    for (uint32_t i = 0; i < l->len; i++)
        stmt(G, &l->items[i], top);
}

static void stmt(gl_t *G, ew__node_t **slot, bool top)
{
    ew__lower_t *L = G->L;
    ew__node_t *n = *slot;
    if (!n)
        return;
    switch (n->type) {
    case EW__N_VariableDeclaration: {
        if (!is_var(n))
            return;
        ew__node_t *e = var_to_expr(G, n);
        *slot = e ? ew__b_expr_stmt(L, e, n) : ew__b_node(L, EW__N_EmptyStatement, n);
        return;
    }
    case EW__N_FunctionDeclaration:
        if (!top)
            return; /* in a block: block scoping makes it a local (documented deviation) */
        add_var(G, n->as.function.id); /* (defined by declareGlobals, before the vars) */
        ew__nodes_push(L, &G->fns, &G->fns_cap, ew__b_str(L, n->as.function.id->as.ident.name->s,
                                                            n->as.function.id->as.ident.name->len, n));
        n->type = EW__N_FunctionExpression; /* keeps its name: `f.name`, and f inside refers to itself */
        ew__nodes_push(L, &G->fns, &G->fns_cap, n);
        *slot = ew__b_node(L, EW__N_EmptyStatement, NULL);
        return;
    case EW__N_BlockStatement: stmts(G, &n->as.body.body, false); return;
    case EW__N_IfStatement:
        stmt(G, &n->as.conditional.consequent, false);
        stmt(G, &n->as.conditional.alternate, false);
        return;
    case EW__N_LabeledStatement: stmt(G, &n->as.labeled.body, false); return;
    case EW__N_WithStatement: stmt(G, &n->as.with.body, false); return;
    case EW__N_WhileStatement:
    case EW__N_DoWhileStatement: stmt(G, &n->as.while_.body, false); return;
    case EW__N_ForStatement:
        if (is_var(n->as.for_.init))
            n->as.for_.init = var_to_expr(G, n->as.for_.init);
        stmt(G, &n->as.for_.body, false);
        return;
    case EW__N_ForInStatement:
    case EW__N_ForOfStatement: {
        ew__node_t *left = n->as.for_in.left;
        if (is_var(left) && left->as.var_decl.declarations.len == 1 &&
            !left->as.var_decl.declarations.items[0]->as.declarator.init) {
            ew__node_t *id = left->as.var_decl.declarations.items[0]->as.declarator.id;
            pattern_names(G, id);
            n->as.for_in.left = id;
        }
        stmt(G, &n->as.for_in.body, false);
        return;
    }
    case EW__N_TryStatement:
        stmt(G, &n->as.try_.block, false);
        if (n->as.try_.handler)
            stmt(G, &n->as.try_.handler->as.catch_.body, false);
        stmt(G, &n->as.try_.finalizer, false);
        return;
    case EW__N_SwitchStatement:
        for (uint32_t i = 0; i < n->as.switch_.cases.len; i++)
            stmts(G, &n->as.switch_.cases.items[i]->as.switch_case.consequent, false);
        return;
    default: return;
    }
}

void ew__lower_global(ew__lower_t *L)
{
    gl_t G = {.L = L};
    stmts(&G, &L->program->as.program.body, true);
    if (!G.vars.len)
        return;
    /* a function's name is declared by its definition: only the others are plain vars */
    ew__nodes_t names = {0};
    uint32_t cap = 0;
    for (uint32_t i = 0; i < G.vars.len; i++) {
        const ew__atom_t *a = G.vars.items[i]->as.ident.name;
        bool fn = false;
        for (uint32_t j = 0; j < G.fns.len && !fn; j += 2)
            fn = G.fns.items[j]->as.literal.string.len == a->len &&
                 !memcmp(G.fns.items[j]->as.literal.string.s, a->s, a->len);
        if (!fn)
            ew__nodes_push(L, &names, &cap, ew__b_str(L, a->s, a->len, NULL));
    }
    ew__node_t *call = ew__b_helper(L, "declareGlobals", ew__b_list(L, 3, ew__b_this(L, NULL),
                                    ew__b_array(L, names, NULL), ew__b_array(L, G.fns, NULL)), NULL);
    ew__node_t *s = ew__b_expr_stmt(L, call, NULL);
    ew__prepend(L, L->program, &s, 1);
}
