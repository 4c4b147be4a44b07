/*
 * scope.c — scope analysis for the lowering passes: which declarations exist in which scope, which identifier
 * refers to which declaration, what closures capture, and what each function uses (this, arguments,
 * new.target, super, direct eval).
 *
 * One walk over the tree creates a scope per Program, function, block, loop, switch and catch clause and a
 * binding per declared name (kinds EW__BK_*: var and top-level functions in the function scope, let/const/class
 * and strict block functions in their block, sloppy block functions as var: Annex B simplified). References are
 * queued during the walk and resolved at the end, when every hoisted declaration is known; resolution walks up
 * the scope chain with one hash probe per scope, so the analysis is linear in practice. A binding referenced from
 * a function nested inside its own function is `captured`; a captured lexical binding declared inside a loop
 * marks that loop `wrap_loop` (it needs per-iteration bindings, lower_block.c). The walk also picks the prefix of
 * fresh names: one that no identifier of the module starts with. All memory comes from the compilation's arena.
 */
#include <string.h>

#include "lower.h"

typedef struct pending {
    ew__node_t *ident;
    ew__sscope_t *scope;
    bool write;
} pending_t;

typedef struct sa {
    ew__lower_t *L;
    ew__scopes_t *T;
    ew__sscope_t *scope;
    pending_t *pend;
    uint32_t npend, pend_cap;
    uint32_t max_underscores; /* "$ew" followed by k underscores in some name: k + 1, else 0 */
    uint32_t depth;
} sa_t;

static uint32_t name_hash(const ew__atom_t *a)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < a->len; i++)
        h = (h ^ (unsigned char) a->s[i]) * 16777619u;
    return h;
}

static uint32_t ptr_hash(const void *p)
{
    uintptr_t x = (uintptr_t) p;
    x ^= x >> 17;
    x *= 0xed5ad4bbu;
    x ^= x >> 11;
    return (uint32_t) x;
}

/* ---------------------------------------------------------------------------------------------------------
 * Hash tables (open addressing, power-of-two sizes, grown at 50% load)
 */

static void bind_grow(sa_t *S)
{
    ew__scopes_t *T = S->T;
    uint32_t cap = T->bind_mask ? (T->bind_mask + 1) * 2 : 256;
    ew__sbinding_t **tab = ew__lalloc(S->L, cap * sizeof *tab);
    for (uint32_t i = 0; T->bind_tab && i <= T->bind_mask; i++) {
        for (ew__sbinding_t *b = T->bind_tab[i], *next; b; b = next) {
            next = b->hnext;
            uint32_t h = (name_hash(b->name) ^ ptr_hash(b->scope)) & (cap - 1);
            b->hnext = tab[h];
            tab[h] = b;
        }
    }
    T->bind_tab = tab;
    T->bind_mask = cap - 1;
}

static ew__sbinding_t *bind_find(ew__scopes_t *T, const ew__sscope_t *s, const ew__atom_t *name, uint32_t nh)
{
    for (ew__sbinding_t *b = T->bind_tab[(nh ^ ptr_hash(s)) & T->bind_mask]; b; b = b->hnext)
        if (b->scope == s && ew__atom_eq(b->name, name))
            return b;
    return NULL;
}

static void node_put(sa_t *S, const ew__node_t *n, ew__sscope_t *s)
{
    ew__scopes_t *T = S->T;
    if (2 * (T->nnode + 1) > T->node_mask + 1) {
        uint32_t cap = T->node_mask ? (T->node_mask + 1) * 2 : 256;
        struct ew__scope_slot *tab = ew__lalloc(S->L, cap * sizeof *tab);
        for (uint32_t i = 0; T->node_tab && i <= T->node_mask; i++) {
            if (!T->node_tab[i].node)
                continue;
            uint32_t h = ptr_hash(T->node_tab[i].node) & (cap - 1);
            while (tab[h].node)
                h = (h + 1) & (cap - 1);
            tab[h] = T->node_tab[i];
        }
        T->node_tab = tab;
        T->node_mask = cap - 1;
    }
    uint32_t h = ptr_hash(n) & T->node_mask;
    while (T->node_tab[h].node && T->node_tab[h].node != n)
        h = (h + 1) & T->node_mask;
    if (!T->node_tab[h].node)
        T->nnode++;
    T->node_tab[h].node = n;
    T->node_tab[h].scope = s;
}

ew__sscope_t *ew__scope_of(ew__lower_t *L, const ew__node_t *n)
{
    ew__scopes_t *T = &L->scopes;
    if (!T->node_tab)
        return NULL;
    for (uint32_t h = ptr_hash(n) & T->node_mask; T->node_tab[h].node; h = (h + 1) & T->node_mask)
        if (T->node_tab[h].node == n)
            return T->node_tab[h].scope;
    return NULL;
}

static void count_name(sa_t *S, const ew__atom_t *name)
{
    ew__scopes_t *T = S->T;
    if (2 * (T->nname + 1) > T->name_mask + 1) {
        uint32_t cap = T->name_mask ? (T->name_mask + 1) * 2 : 256;
        struct ew__name_count *tab = ew__lalloc(S->L, cap * sizeof *tab);
        for (uint32_t i = 0; T->name_tab && i <= T->name_mask; i++) {
            if (!T->name_tab[i].name)
                continue;
            uint32_t h = name_hash(T->name_tab[i].name) & (cap - 1);
            while (tab[h].name)
                h = (h + 1) & (cap - 1);
            tab[h] = T->name_tab[i];
        }
        T->name_tab = tab;
        T->name_mask = cap - 1;
    }
    uint32_t h = name_hash(name) & T->name_mask;
    while (T->name_tab[h].name && !ew__atom_eq(T->name_tab[h].name, name))
        h = (h + 1) & T->name_mask;
    if (!T->name_tab[h].name) {
        T->name_tab[h].name = name;
        T->nname++;
    }
    T->name_tab[h].count++;
}

uint32_t ew__scope_name_count(ew__lower_t *L, const ew__atom_t *name)
{
    ew__scopes_t *T = &L->scopes;
    if (!T->name_tab)
        return 0;
    for (uint32_t h = name_hash(name) & T->name_mask; T->name_tab[h].name; h = (h + 1) & T->name_mask)
        if (ew__atom_eq(T->name_tab[h].name, name))
            return T->name_tab[h].count;
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Scopes, declarations, references
 */

/* Names starting with "$ew": the fresh-name prefix must not be a prefix of any of them. */
static void see_name(sa_t *S, const ew__atom_t *a)
{
    if (a->len < 3 || memcmp(a->s, "$ew", 3) != 0)
        return;
    uint32_t k = 0;
    while (3 + k < a->len && a->s[3 + k] == '_')
        k++;
    if (k + 1 > S->max_underscores)
        S->max_underscores = k + 1;
}

static ew__sscope_t *scope_open(sa_t *S, ew__node_t *n, uint8_t kind)
{
    ew__sscope_t *s = ew__lalloc(S->L, sizeof *s);
    s->parent = S->scope;
    s->kind = kind;
    s->node = n;
    s->fn = kind == EW__SK_FUNCTION ? s : S->scope->fn;
    s->strict = kind == EW__SK_FUNCTION ? (n->flags & EW__NF_STRICT) != 0 : S->scope->strict;
    if (S->scope && S->scope->strict)
        s->strict = true;
    node_put(S, n, s);
    S->scope = s;
    return s;
}

static void add_ref(sa_t *S, ew__sbinding_t *b, ew__node_t *id)
{
    if (b->nrefs == b->cap) {
        uint32_t cap = b->cap ? b->cap * 2 : 4;
        ew__node_t **r = ew__lalloc(S->L, cap * sizeof *r);
        if (b->nrefs)
            EW__MEMCPY(r, b->refs, b->nrefs * sizeof *r);
        b->refs = r;
        b->cap = cap;
    }
    b->refs[b->nrefs++] = id;
}

static void declare(sa_t *S, ew__sscope_t *s, ew__node_t *id, uint8_t kind)
{
    ew__atom_t *name = id->as.ident.name;
    uint32_t nh = name_hash(name);
    count_name(S, name);
    see_name(S, name);
    if (2 * (S->T->nbind + 1) > S->T->bind_mask + 1)
        bind_grow(S);
    ew__sbinding_t *b = bind_find(S->T, s, name, nh);
    if (!b) {
        b = ew__lalloc(S->L, sizeof *b);
        b->name = name;
        b->kind = kind;
        b->scope = s;
        if (s->last)
            s->last->next = b;
        else
            s->bindings = b;
        s->last = b;
        ew__sbinding_t **head = &S->T->bind_tab[(nh ^ ptr_hash(s)) & S->T->bind_mask];
        b->hnext = *head;
        *head = b;
        S->T->nbind++;
    }
    add_ref(S, b, id);
}

static void reference(sa_t *S, ew__node_t *id, bool write)
{
    count_name(S, id->as.ident.name);
    see_name(S, id->as.ident.name);
    if (S->npend == S->pend_cap) {
        uint32_t cap = S->pend_cap ? S->pend_cap * 2 : 64;
        pending_t *p = ew__lalloc(S->L, cap * sizeof *p);
        if (S->npend)
            EW__MEMCPY(p, S->pend, S->npend * sizeof *p);
        S->pend = p;
        S->pend_cap = cap;
    }
    S->pend[S->npend++] = (pending_t){id, S->scope, write};
}

/* The function whose this/arguments/new.target/super an expression here sees (arrows look through). */
static ew__sscope_t *this_fn(sa_t *S)
{
    ew__sscope_t *f = S->scope->fn;
    while (f->node->type == EW__N_ArrowFunctionExpression && f->parent)
        f = f->parent->fn;
    return f;
}

static bool is_lexical(uint8_t kind)
{
    return kind == EW__BK_LET || kind == EW__BK_CONST || kind == EW__BK_CLASS || kind == EW__BK_CATCH;
}

static void resolve(sa_t *S, const pending_t *r)
{
    ew__atom_t *name = r->ident->as.ident.name;
    uint32_t nh = name_hash(name);
    for (ew__sscope_t *s = r->scope; s; s = s->parent) {
        ew__sbinding_t *b = bind_find(S->T, s, name, nh);
        if (!b)
            continue;
        add_ref(S, b, r->ident);
        if (r->write) {
            b->assigned = true;
            if (b->kind == EW__BK_CONST || b->kind == EW__BK_IMPORT) /* imports are immutable too */
                r->ident->spare |= EW__SP_CONST_WRITE;
        }
        if (b->scope->fn != r->scope->fn) {
            b->captured = true;
            bool lexical = is_lexical(b->kind) || (b->kind == EW__BK_FUNCTION && b->scope->kind != EW__SK_FUNCTION);
            for (ew__sscope_t *l = b->scope; lexical && l != b->scope->fn; l = l->parent) {
                if (l->kind == EW__SK_LOOP) {
                    l->wrap_loop = true;
                    break;
                }
            }
        }
        return;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The walk
 */

static void visit(sa_t *S, ew__node_t *n);

/* ---------------------------------------------------------------------------------------------------------
 * Function name inference (NamedEvaluation): `f = function () {}` gives the function the name "f". Duktape
 * names only named function expressions, so the anonymous function gets the name as its id when that cannot
 * change what a name means inside it: the body does not mention the name (a named function expression binds
 * it), and the name is allowed as a function name in strict code. Arrows (lower_arrow.c) and classes
 * (lower_class.c) are named by their passes. Done here, before any pass renames bindings.
 */

static int find_name(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    if ((n->type == EW__N_Identifier || n->type == EW__N_PrivateIdentifier) && ew__atom_eq(n->as.ident.name, ud))
        return 1;
    return ew__node_children(*slot, find_name, ud);
}

static bool name_allowed(const ew__atom_t *a)
{
    static const char *const bad[] = {"eval", "arguments", "yield", "await", "let", "static", "implements",
                                      "interface", "package", "private", "protected", "public", "enum"};
    if (a->keyword) /* `{return: function () {}}`: a reserved word cannot name a function */
        return false;
    for (uint32_t i = 0; i < a->len; i++)
        if ((unsigned char) a->s[i] >= 0x80)
            return false; /* printed mangled (emit.c) */
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (strlen(bad[i]) == a->len && !memcmp(bad[i], a->s, a->len))
            return false;
    return true;
}

static void name_function(sa_t *S, ew__node_t *value, const ew__node_t *target)
{
    if (!value || value->type != EW__N_FunctionExpression || value->as.function.id || !target ||
        target->type != EW__N_Identifier || (target->flags & EW__NF_PAREN) || !name_allowed(target->as.ident.name))
        return;
    for (uint32_t i = 0; i < value->as.function.params.len; i++)
        if (find_name(&value->as.function.params.items[i], target->as.ident.name))
            return;
    if (find_name(&value->as.function.body, target->as.ident.name))
        return;
    value->as.function.id = ew__b_clone_ident(S->L, target, target);
}

static int visit_child(ew__node_t **slot, void *ud)
{
    visit((sa_t *) ud, *slot);
    return 0;
}

/* A binding or assignment target. kind < 0: an assignment (write references); else declarations of that kind
 * in scope s. */
static void visit_pattern(sa_t *S, ew__node_t *p, int kind, ew__sscope_t *s)
{
    if (!p)
        return;
    switch (p->type) {
    case EW__N_Identifier:
        if (kind < 0)
            reference(S, p, true);
        else
            declare(S, s, p, (uint8_t) kind);
        break;
    case EW__N_ObjectPattern:
        S->L->features |= EW__FEAT_PATTERN;
        for (uint32_t i = 0; i < p->as.object.properties.len; i++) {
            ew__node_t *prop = p->as.object.properties.items[i];
            if (prop->type == EW__N_RestElement) {
                visit_pattern(S, prop->as.argument.argument, kind, s);
                continue;
            }
            if (prop->as.property.computed)
                visit(S, prop->as.property.key);
            visit_pattern(S, prop->as.property.value, kind, s);
        }
        break;
    case EW__N_ArrayPattern:
        S->L->features |= EW__FEAT_PATTERN;
        for (uint32_t i = 0; i < p->as.array.elements.len; i++)
            visit_pattern(S, p->as.array.elements.items[i], kind, s);
        break;
    case EW__N_AssignmentPattern:
        name_function(S, p->as.assign_pattern.right, p->as.assign_pattern.left);
        visit_pattern(S, p->as.assign_pattern.left, kind, s);
        visit(S, p->as.assign_pattern.right);
        break;
    case EW__N_RestElement: visit_pattern(S, p->as.argument.argument, kind, s); break;
    default: visit(S, p); break; /* a member expression target */
    }
}

static void visit_var(sa_t *S, ew__node_t *n)
{
    uint8_t k = n->as.var_decl.kind;
    if (k != EW__VAR_VAR)
        S->L->features |= EW__FEAT_BLOCK;
    int kind = k == EW__VAR_LET ? EW__BK_LET : k == EW__VAR_CONST ? EW__BK_CONST : EW__BK_VAR;
    ew__sscope_t *s = kind == EW__BK_VAR ? S->scope->fn : S->scope;
    for (uint32_t i = 0; i < n->as.var_decl.declarations.len; i++) {
        ew__node_t *d = n->as.var_decl.declarations.items[i];
        name_function(S, d->as.declarator.init, d->as.declarator.id);
        visit_pattern(S, d->as.declarator.id, kind, s);
        if (d->as.declarator.init)
            visit(S, d->as.declarator.init);
    }
}

static void visit_function(sa_t *S, ew__node_t *f)
{
    ew__sscope_t *saved = S->scope;
    if (f->type == EW__N_ArrowFunctionExpression)
        S->L->features |= EW__FEAT_ARROW;
    if (!(f->flags & EW__NF_SIMPLE_PARAMS))
        S->L->features |= EW__FEAT_PARAMS;
    ew__sscope_t *s = scope_open(S, f, EW__SK_FUNCTION);
    if (f->type == EW__N_FunctionExpression && f->as.function.id)
        declare(S, s, f->as.function.id, EW__BK_FUNCTION);
    for (uint32_t i = 0; i < f->as.function.params.len; i++)
        visit_pattern(S, f->as.function.params.items[i], EW__BK_PARAM, s);
    ew__node_t *body = f->as.function.body;
    if (f->as.function.expression)
        visit(S, body);
    else
        for (uint32_t i = 0; i < body->as.body.body.len; i++)
            visit(S, body->as.body.body.items[i]);
    S->scope = saved;
}

/* A function declaration's name: var-like at a function's top level and in sloppy blocks (Annex B, simplified),
 * block-scoped in strict blocks. */
static void declare_function(sa_t *S, ew__node_t *f)
{
    ew__sscope_t *s = S->scope;
    if (s->kind != EW__SK_FUNCTION)
        S->L->features |= EW__FEAT_BLOCK;
    if (s->kind != EW__SK_FUNCTION && !s->strict)
        s = s->fn;
    declare(S, s, f->as.function.id, EW__BK_FUNCTION);
}

static void visit_statements(sa_t *S, ew__nodes_t *l)
{
    for (uint32_t i = 0; i < l->len; i++)
        visit(S, l->items[i]);
}

static void mark_use(sa_t *S, uint8_t use)
{
    this_fn(S)->uses |= use;
}

static void visit_loop(sa_t *S, ew__node_t *n)
{
    ew__sscope_t *saved = S->scope;
    scope_open(S, n, EW__SK_LOOP);
    if (n->type == EW__N_ForInStatement || n->type == EW__N_ForOfStatement) {
        ew__node_t *left = n->as.for_in.left;
        if (left->type == EW__N_VariableDeclaration)
            visit_var(S, left);
        else
            visit_pattern(S, left, -1, NULL);
        visit(S, n->as.for_in.right);
        visit(S, n->as.for_in.body);
    } else {
        ew__node_children(n, visit_child, S);
    }
    S->scope = saved;
}

static void visit_catch(sa_t *S, ew__node_t *n)
{
    ew__sscope_t *saved = S->scope;
    ew__sscope_t *s = scope_open(S, n, EW__SK_CATCH);
    visit_pattern(S, n->as.catch_.param, EW__BK_CATCH, s);
    visit_statements(S, &n->as.catch_.body->as.body.body);
    S->scope = saved;
}

static void visit_scoped(sa_t *S, ew__node_t *n, ew__nodes_t *stmts)
{
    ew__sscope_t *saved = S->scope;
    scope_open(S, n, EW__SK_BLOCK);
    visit_statements(S, stmts);
    S->scope = saved;
}

static void visit_switch(sa_t *S, ew__node_t *n)
{
    visit(S, n->as.switch_.discriminant);
    ew__sscope_t *saved = S->scope;
    scope_open(S, n, EW__SK_BLOCK);
    for (uint32_t i = 0; i < n->as.switch_.cases.len; i++) {
        ew__node_t *c = n->as.switch_.cases.items[i];
        if (c->as.switch_case.test)
            visit(S, c->as.switch_case.test);
        visit_statements(S, &c->as.switch_case.consequent);
    }
    S->scope = saved;
}

static void visit_expr_special(sa_t *S, ew__node_t *n)
{
    switch (n->type) {
    case EW__N_MemberExpression:
        visit(S, n->as.member.object);
        if (n->as.member.computed)
            visit(S, n->as.member.property);
        break;
    case EW__N_MethodDefinition: /* a class method's name is not a reference (unless computed) */
        if (n->as.method.computed)
            visit(S, n->as.method.key);
        visit(S, n->as.method.value);
        break;
    case EW__N_PropertyDefinition: /* nor a class field's */
        if (n->as.field.computed)
            visit(S, n->as.field.key);
        if (n->as.field.value != NULL)
            visit(S, n->as.field.value);
        break;
    case EW__N_Property:
        if (n->as.property.computed)
            visit(S, n->as.property.key);
        else if (n->as.property.kind == EW__PROP_INIT && !n->as.property.method)
            name_function(S, n->as.property.value, n->as.property.key);
        visit(S, n->as.property.value);
        break;
    case EW__N_AssignmentExpression:
        if (n->as.binary.op == EW__T_ASSIGN || n->as.binary.op >= EW__T_AND_ASSIGN)
            name_function(S, n->as.binary.right, n->as.binary.left);
        visit_pattern(S, n->as.binary.left, -1, NULL);
        visit(S, n->as.binary.right);
        break;
    case EW__N_UpdateExpression:
        visit_pattern(S, n->as.unary.argument, -1, NULL);
        break;
    case EW__N_CallExpression: {
        ew__node_t *c = n->as.call.callee;
        if (c->type == EW__N_Identifier && c->as.ident.name->len == 4 && !memcmp(c->as.ident.name->s, "eval", 4))
            for (ew__sscope_t *f = S->scope->fn; f; f = f->parent ? f->parent->fn : NULL)
                f->uses |= EW__USE_EVAL;
        ew__node_children(n, visit_child, S);
        break;
    }
    default: ew__node_children(n, visit_child, S); break;
    }
}

/* Object literal properties lower_misc.c rewrites (spread, computed, methods, shorthand, __proto__). */
static bool object_needs_misc(const ew__node_t *n)
{
    for (uint32_t i = 0; i < n->as.object.properties.len; i++) {
        const ew__node_t *p = n->as.object.properties.items[i];
        if (p->type != EW__N_Property || p->as.property.computed || p->as.property.method ||
            p->as.property.shorthand)
            return true;
        const ew__node_t *k = p->as.property.key;
        if ((k->type == EW__N_Identifier && k->as.ident.name->len == 9) ||
            (k->type == EW__N_Literal && k->as.literal.kind == EW__LIT_STRING && k->as.literal.string.len == 9))
            return true; /* maybe __proto__ */
    }
    return false;
}

/* The passes a node itself calls for, as scope analysis records them for the module. */
static unsigned feature_bits(const ew__node_t *n)
{
    unsigned f = 0;
    switch (n->type) {
    case EW__N_ForOfStatement: f = EW__FEAT_FOROF; break;
    case EW__N_ChainExpression: f = EW__FEAT_MISC; break;
    case EW__N_LogicalExpression: f = n->as.binary.op == EW__T_NULLISH ? EW__FEAT_MISC : 0; break;
    case EW__N_AssignmentExpression: f = n->as.binary.op >= EW__T_AND_ASSIGN ? EW__FEAT_MISC : 0; break;
    case EW__N_CatchClause: f = n->as.catch_.param ? 0 : EW__FEAT_MISC; break;
    case EW__N_ObjectExpression: f = object_needs_misc(n) ? EW__FEAT_MISC : 0; break;
    case EW__N_SpreadElement: f = EW__FEAT_SPREAD; break;
    case EW__N_ClassDeclaration:
    case EW__N_ClassExpression:
    case EW__N_Super: f = EW__FEAT_CLASS; break;
    case EW__N_AwaitExpression:
    case EW__N_YieldExpression: f = EW__FEAT_CORO; break;
    case EW__N_FunctionDeclaration:
    case EW__N_FunctionExpression:
    case EW__N_ArrowFunctionExpression:
        f = n->as.function.async || n->as.function.generator ? EW__FEAT_CORO : 0;
        break;
    default: break;
    }
    if (n->type == EW__N_ForOfStatement && n->as.for_in.await)
        f |= EW__FEAT_CORO;
    return f;
}

static void note_feature(sa_t *S, const ew__node_t *n)
{
    S->L->features |= feature_bits(n);
}

/* For the walker's subtree bits, also what scope analysis notes from the context (declarations, parameters,
 * patterns), conservatively: any function declaration counts as block-scoped. */
unsigned ew__node_own_features(const ew__node_t *n)
{
    unsigned f = feature_bits(n);
    switch (n->type) {
    case EW__N_Identifier:
        if (n->as.ident.name->len == 9 && !memcmp(n->as.ident.name->s, "arguments", 9))
            f |= EW__FEAT_THIS;
        break;
    case EW__N_ThisExpression:
    case EW__N_MetaProperty: f |= EW__FEAT_THIS; break;
    case EW__N_TemplateLiteral:
    case EW__N_TaggedTemplateExpression: f |= EW__FEAT_TEMPLATE; break;
    case EW__N_Literal:
        if (n->as.literal.kind == EW__LIT_REGEX)
            f |= EW__FEAT_TEMPLATE;
        break;
    case EW__N_ArrowFunctionExpression: f |= EW__FEAT_ARROW; /* fall through */
    case EW__N_FunctionExpression:
    case EW__N_FunctionDeclaration:
        if (!(n->flags & EW__NF_SIMPLE_PARAMS))
            f |= EW__FEAT_PARAMS;
        if (n->type == EW__N_FunctionDeclaration)
            f |= EW__FEAT_BLOCK;
        break;
    case EW__N_ObjectPattern:
    case EW__N_ArrayPattern: f |= EW__FEAT_PATTERN; break;
    case EW__N_VariableDeclaration:
        if (n->as.var_decl.kind != EW__VAR_VAR)
            f |= EW__FEAT_BLOCK;
        break;
    default: break;
    }
    return f;
}

/* Module declarations: imports declare EW__BK_IMPORT bindings of the module scope; `export {x}` reads x; names
 * after `as` and `from` sources are not references; an anonymous default function declares nothing. */
static void visit_module_decl(sa_t *S, ew__node_t *n)
{
    switch (n->type) {
    case EW__N_ImportDeclaration:
        for (uint32_t i = 0; i < n->as.import_decl.specifiers.len; i++)
            declare(S, S->T->root, n->as.import_decl.specifiers.items[i]->as.import_spec.local, EW__BK_IMPORT);
        break;
    case EW__N_ExportNamedDeclaration:
        if (n->as.export_named.declaration)
            visit(S, n->as.export_named.declaration);
        for (uint32_t i = 0; !n->as.export_named.source && i < n->as.export_named.specifiers.len; i++)
            reference(S, n->as.export_named.specifiers.items[i]->as.export_spec.local, false);
        break;
    case EW__N_ExportDefaultDeclaration: {
        ew__node_t *d = n->as.export_default.declaration;
        if (d->type == EW__N_FunctionDeclaration && !d->as.function.id)
            visit_function(S, d);
        else
            visit(S, d);
        break;
    }
    default: break; /* export * from */
    }
}

static void visit(sa_t *S, ew__node_t *n)
{
    if (!n)
        return;
    if (++S->depth > 3 * EW__MAX_DEPTH)
        ew__lower_error(S->L, n, "Too much nesting");
    ew__check_supported_node(S->L, n);
    note_feature(S, n);
    switch (n->type) {
    case EW__N_Identifier:
        if (n->as.ident.name->len == 9 && !memcmp(n->as.ident.name->s, "arguments", 9))
            mark_use(S, EW__USE_ARGUMENTS);
        reference(S, n, false);
        break;
    case EW__N_ThisExpression: mark_use(S, EW__USE_THIS); break;
    case EW__N_Super: mark_use(S, EW__USE_SUPER); break;
    case EW__N_MetaProperty: mark_use(S, EW__USE_NEW_TARGET); break;
    case EW__N_LabeledStatement: visit(S, n->as.labeled.body); break;
    case EW__N_BreakStatement:
    case EW__N_ContinueStatement: break;
    case EW__N_VariableDeclaration: visit_var(S, n); break;
    case EW__N_FunctionDeclaration:
        declare_function(S, n);
        visit_function(S, n);
        break;
    case EW__N_FunctionExpression:
    case EW__N_ArrowFunctionExpression: visit_function(S, n); break;
    case EW__N_BlockStatement: visit_scoped(S, n, &n->as.body.body); break;
    case EW__N_ForStatement:
    case EW__N_ForInStatement:
    case EW__N_ForOfStatement:
    case EW__N_WhileStatement:
    case EW__N_DoWhileStatement: visit_loop(S, n); break;
    case EW__N_SwitchStatement: visit_switch(S, n); break;
    case EW__N_CatchClause: visit_catch(S, n); break;
    case EW__N_ImportDeclaration:
    case EW__N_ExportNamedDeclaration:
    case EW__N_ExportDefaultDeclaration:
    case EW__N_ExportAllDeclaration: visit_module_decl(S, n); break;
    default: visit_expr_special(S, n); break;
    }
    S->depth--;
}

void ew__scope_analyze(ew__lower_t *L)
{
    memset(&L->scopes, 0, sizeof L->scopes);
    sa_t S = {L, &L->scopes, NULL, NULL, 0, 0, 0, 0};
    bind_grow(&S);
    ew__node_t *prog = L->program;
    ew__sscope_t *root = ew__lalloc(L, sizeof *root);
    root->kind = EW__SK_FUNCTION;
    root->node = prog;
    root->fn = root;
    root->strict = (prog->flags & EW__NF_STRICT) != 0 || prog->as.program.module;
    S.scope = root;
    L->scopes.root = root;
    node_put(&S, prog, root);
    visit_statements(&S, &prog->as.program.body);
    for (uint32_t i = 0; i < S.npend; i++)
        resolve(&S, &S.pend[i]);
    if (!L->prefix_len) {
        uint32_t k = S.max_underscores;
        if (k > 8)
            ew__lower_error(L, NULL, "too many names starting with $ew");
        EW__MEMCPY(L->prefix, "$ew", 3);
        memset(L->prefix + 3, '_', k);
        L->prefix_len = 3 + k;
        L->prefix[L->prefix_len] = 0;
    }
}
