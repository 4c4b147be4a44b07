/*
 * lower_class.c — classes, super and private names to ES5 (runs first after scope analysis; docs/compiler.md).
 *
 * A class becomes an arrow called at once (the arrow pass keeps the outer this/arguments for `extends` and
 * computed keys), whose body evaluates the heritage, makes the private names (one WeakMap per private field, one
 * WeakSet brand for private methods: weak.c keeps entries in hidden slots, so reflection never sees them),
 * evaluates computed keys once in order, makes the constructor twice from one maker function (`var C =
 * $maker(false)`, the class; `$maker(true)`, the initialiser copy subclasses' super() runs), calls
 * $ew.classCreate (prototype, static inheritance, name, the copy), defines the methods from an object
 * literal with $ew.defineMethods (non-enumerable), runs static fields and blocks with this = C and returns C.
 * Construction is split into allocate and initialise: the class's first statement takes new.target (none:
 * "cannot be invoked without 'new'"); the copy runs on the object it is given, reading newTarget from it only
 * if it needs it. Derived constructors use `$this`, set by super(): `$ew.superCtor(C, $nt, obj).call(obj,
 * args)` runs the parent's copy on obj (the object `new` made, for the constructor's only top-level super();
 * a fresh one otherwise), other parents through a stand-in that constructs them and re-prototypes the result
 * (lib/core/class_helpers.c); base constructors return their object. Instance fields and brands live in one
 * initialiser function, called at the start of base constructors and after super(). super.x goes through
 * the method's home object (the prototype or the class, IIFE locals; an object literal for its methods).
 * Not done: private members as destructuring targets, `o?.#x` short-circuit, async/generator methods
 * (rejected by scope analysis).
 */
#include <stdio.h>
#include <string.h>

#include "lower.h"

enum { PK_FIELD, PK_METHOD, PK_ACCESSOR };
enum { FK_PLAIN, FK_METHOD, FK_BASE_CTOR, FK_DERIVED_CTOR };

typedef struct priv {
    ew__atom_t *name;          /* "#x" */
    uint8_t kind;              /* PK_* */
    bool is_static;
    ew__atom_t *key;           /* field: its WeakMap */
    ew__atom_t *fn, *get, *set;/* method, accessors */
} priv_t;

typedef struct cls {
    struct cls *outer;
    priv_t *privs;
    uint32_t nprivs;
    ew__atom_t *ref, *proto, *brand, *init;
    bool derived;
} cls_t;

/* The non-arrow function a node is in: what super, this and new.target mean there. */
typedef struct fctx {
    struct fctx *outer;
    ew__node_t *fn;
    ew__atom_t *home;          /* super.x's home object; NULL: no super */
    cls_t *cls;
    uint8_t kind;              /* FK_* */
    ew__atom_t *nt, *self;     /* constructors: new.target, derived `this` */
    ew__atom_t *is_init;       /* constructors: the parameter of the maker (true in the initialiser copy) */
    ew__node_t *first_super;   /* derived: the first top-level `super(...);` (this is safe after it) */
    bool this_safe;
    bool one_super;            /* derived: first_super is the constructor's only super(...) call */
} fctx_t;

typedef struct state {
    cls_t *cls;
    fctx_t *f, *next;
    ew__node_t *name_for;      /* an anonymous class expression and the name it infers */
    ew__atom_t *name;
} state_t;

static int find_await(ew__node_t **slot, void *ud);
static ew__node_t *new_target(ew__lower_t *L);

/* A class whose evaluation runs no user code: heritage absent or a name, no computed keys, no static blocks,
 * static fields without initialisers or with literal ones (lower_block.c's TDZ analysis). */
static bool inert_class(const ew__node_t *n)
{
    const ew__node_t *h = n->as.class_.super_class;
    if (h && h->type != EW__N_Identifier)
        return false;
    const ew__nodes_t *l = &n->as.class_.body->as.body.body;
    for (uint32_t i = 0; i < l->len; i++) {
        const ew__node_t *e = l->items[i];
        if (e->type == EW__N_StaticBlock)
            return false;
        if (e->type == EW__N_PropertyDefinition) {
            if (e->as.field.computed ||
                (e->as.field.is_static && e->as.field.value && e->as.field.value->type != EW__N_Literal))
                return false;
        } else if (e->type == EW__N_MethodDefinition && e->as.method.computed) {
            return false;
        }
    }
    return true;
}

#define ID(a, at) ew__b_ident(L, (a), (at))
#define HELPER(name, at, ...) ew__b_helper(L, name, ew__b_list(L, __VA_ARGS__), at)

static ew__node_t *str_atom(ew__lower_t *L, const ew__atom_t *a, const ew__node_t *at)
{
    return ew__b_str(L, a->s, a->len, at);
}

static ew__atom_t *atom(ew__lower_t *L, const char *s, uint32_t len)
{
    ew__atom_t *a = ew__atom_new(L->arena, s, len);
    if (!a)
        ew__lower_error(L, NULL, "out of memory");
    return a;
}

static fctx_t *new_ctx(ew__lower_t *L, uint8_t kind, ew__atom_t *home, cls_t *c)
{
    fctx_t *f = ew__lalloc(L, sizeof *f);
    f->kind = kind;
    f->home = home;
    f->cls = c;
    return f;
}

static ew__node_t *decl(ew__lower_t *L, uint8_t kind, ew__atom_t *name, ew__node_t *init, const ew__node_t *at)
{
    ew__node_t *d = ew__b_var(L, ID(name, at), init, at);
    d->as.var_decl.kind = kind;
    return d;
}

static bool is_super_call(const ew__node_t *s)
{
    return s->type == EW__N_ExpressionStatement && s->as.expr_stmt.expression->type == EW__N_CallExpression &&
           s->as.expr_stmt.expression->as.call.callee->type == EW__N_Super;
}

/* ---------------------------------------------------------------------------------------------------------
 * this, super and private references inside a class
 */

/* `this` as the code at `at` sees it: derived constructors read $this, checked unless after a top super(). */
static ew__node_t *this_value(ew__lower_t *L, state_t *S, const ew__node_t *at)
{
    fctx_t *f = S->f;
    if (f->kind != FK_DERIVED_CTOR)
        return ew__b_this(L, at);
    if (f->this_safe && L->fn->fn == f->fn)
        return ID(f->self, at);
    return ew__b_logical(L, EW__T_OR, ID(f->self, at), HELPER("noThis", at, 0), at);
}

static priv_t *priv_find(ew__lower_t *L, state_t *S, const ew__node_t *id)
{
    for (cls_t *c = S->cls; c; c = c->outer)
        for (uint32_t i = 0; i < c->nprivs; i++)
            if (c->privs[i].name->len == id->as.ident.name->len + 1 &&
                !memcmp(c->privs[i].name->s + 1, id->as.ident.name->s, id->as.ident.name->len))
                return &c->privs[i];
    ew__lower_error(L, id, "Private field '#%s' must be declared in an enclosing class", id->as.ident.name->s);
}

static cls_t *priv_class(state_t *S, const priv_t *p)
{
    cls_t *c = S->cls;
    while (!(p >= c->privs && p < c->privs + c->nprivs))
        c = c->outer;
    return c;
}

/* The brand a private method or accessor checks: the class itself for static ones. */
static ew__node_t *priv_brand(ew__lower_t *L, state_t *S, const priv_t *p, const ew__node_t *at)
{
    cls_t *c = priv_class(S, p);
    return ID(p->is_static ? c->ref : c->brand, at);
}

/* A reference: private member (priv) or super property (home + key). obj: the receiver (pure). */
typedef struct ref {
    priv_t *priv;
    ew__atom_t *home;
    ew__node_t *key;
} ref_t;

static ew__node_t *ref_get(ew__lower_t *L, state_t *S, ref_t *r, ew__node_t *obj, const ew__node_t *at)
{
    if (r->home)
        return HELPER("superGet", at, 3, ID(r->home, at), r->key, obj);
    priv_t *p = r->priv;
    ew__node_t *name = str_atom(L, p->name, at);
    if (p->kind == PK_FIELD)
        return HELPER("privGet", at, 3, obj, ID(p->key, at), name);
    if (p->kind == PK_METHOD)
        return HELPER("privMethod", at, 4, obj, priv_brand(L, S, p, at), ID(p->fn, at), name);
    return HELPER("privGetter", at, 4, obj, priv_brand(L, S, p, at),
                  p->get ? ID(p->get, at) : ew__b_undefined(L, at), name);
}

static ew__node_t *ref_set(ew__lower_t *L, state_t *S, ref_t *r, ew__node_t *obj, ew__node_t *v,
                           const ew__node_t *at)
{
    if (r->home && !(S->f->fn->flags & EW__NF_STRICT)) /* an object literal's method in sloppy code */
        return HELPER("superSet", at, 5, ID(r->home, at), r->key, v, obj, ew__b_bool(L, true, at));
    if (r->home)
        return HELPER("superSet", at, 4, ID(r->home, at), r->key, v, obj);
    priv_t *p = r->priv;
    ew__node_t *name = str_atom(L, p->name, at);
    if (p->kind == PK_FIELD)
        return HELPER("privSet", at, 4, obj, ID(p->key, at), v, name);
    if (p->kind == PK_METHOD)
        return ew__b_seq(L, ew__b_list(L, 3, obj, v, HELPER("privReadOnly", at, 1, name)), at);
    return HELPER("privSetter", at, 5, obj, priv_brand(L, S, p, at),
                  p->set ? ID(p->set, at) : ew__b_undefined(L, at), v, name);
}

/* A copy of a pure expression (a leaf: literal, this, temp) so that no node is shared. */
static ew__node_t *dup(ew__lower_t *L, const ew__node_t *e)
{
    ew__node_t *c = ew__lalloc(L, sizeof *c);
    EW__MEMCPY(c, e, sizeof *c);
    return c;
}

/* Makes e pure: returns a temp and appends `t = e` to pre, or e itself. */
static ew__node_t *once(ew__lower_t *L, ew__node_t *e, ew__nodes_t *pre, uint32_t *cap)
{
    if (ew__b_is_pure(L, e))
        return e;
    ew__node_t *t = ew__temp(L, e);
    ew__nodes_push(L, pre, cap, ew__b_assign(L, t, e, e));
    return ew__b_clone_ident(L, t, e);
}

static void walk(ew__walk_t *w, ew__node_t **slot)
{
    if (*slot)
        ew__walk(w, slot);
}

/* Is m a private member or a super property? Fills r and walks the object/key; returns the receiver. */
static ew__node_t *ref_of(ew__walk_t *w, ew__node_t *m, ref_t *r)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    memset(r, 0, sizeof *r);
    if (m->type != EW__N_MemberExpression)
        return NULL;
    if (m->as.member.object->type == EW__N_Super) {
        if (!S->f->home)
            ew__lower_error(L, m, "'super' outside class methods is not supported yet");
        r->home = S->f->home;
        if (m->as.member.computed) {
            walk(w, &m->as.member.property);
            r->key = m->as.member.property;
        } else {
            r->key = str_atom(L, m->as.member.property->as.ident.name, m->as.member.property);
        }
        return this_value(L, S, m);
    }
    if (m->as.member.property->type != EW__N_PrivateIdentifier)
        return NULL;
    r->priv = priv_find(L, S, m->as.member.property);
    walk(w, &m->as.member.object);
    return m->as.member.object;
}

static uint8_t compound_op(uint8_t op)
{
    static const uint8_t map[][2] = {
        {EW__T_PLUS_ASSIGN, EW__T_PLUS}, {EW__T_MINUS_ASSIGN, EW__T_MINUS}, {EW__T_STAR_ASSIGN, EW__T_STAR},
        {EW__T_SLASH_ASSIGN, EW__T_SLASH}, {EW__T_PERCENT_ASSIGN, EW__T_PERCENT},
        {EW__T_STARSTAR_ASSIGN, EW__T_STARSTAR}, {EW__T_SHL_ASSIGN, EW__T_SHL}, {EW__T_SAR_ASSIGN, EW__T_SAR},
        {EW__T_SHR_ASSIGN, EW__T_SHR}, {EW__T_AMP_ASSIGN, EW__T_AMP}, {EW__T_PIPE_ASSIGN, EW__T_PIPE},
        {EW__T_CARET_ASSIGN, EW__T_CARET}, {EW__T_AND_ASSIGN, EW__T_AND}, {EW__T_OR_ASSIGN, EW__T_OR},
        {EW__T_NULLISH_ASSIGN, EW__T_NULLISH}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i][0] == op)
            return map[i][1];
    return 0;
}

/* `R = v`, `R op= v`, `R++`, `++R` on a private member or super property. */
static bool lower_write(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    ew__node_t *n = *slot;
    bool update = n->type == EW__N_UpdateExpression;
    ref_t r;
    ew__node_t *obj = ref_of(w, update ? n->as.unary.argument : n->as.binary.left, &r);
    if (!obj)
        return false;
    ew__nodes_t seq = {0};
    uint32_t cap = 0;
    uint8_t op = update ? 0 : n->as.binary.op;
    if (op != EW__T_ASSIGN) {
        obj = once(L, obj, &seq, &cap);
        if (r.home)
            r.key = once(L, r.key, &seq, &cap);
    }
    ew__node_t *res;
    if (update) {
        ew__node_t *old = ew__temp(L, n);
        ew__node_t *num = ew__b_unary(L, EW__T_PLUS, ref_get(L, S, &r, obj, n), n);
        ew__node_t *bump = ew__b_binary(L, n->as.unary.op == EW__T_INC ? EW__T_PLUS : EW__T_MINUS,
                                        ew__b_clone_ident(L, old, n), ew__b_num(L, 1, n), n);
        ew__nodes_push(L, &seq, &cap, ew__b_assign(L, old, num, n));
        if (r.home)
            r.key = dup(L, r.key);
        res = ref_set(L, S, &r, dup(L, obj), bump, n);
        if (!n->as.unary.prefix) {
            ew__nodes_push(L, &seq, &cap, res);
            res = ew__b_clone_ident(L, old, n);
        }
    } else {
        walk(w, &n->as.binary.right);
        ew__node_t *v = n->as.binary.right;
        uint8_t bop = compound_op(op);
        if (op == EW__T_ASSIGN)
            res = ref_set(L, S, &r, obj, v, n);
        else {
            ew__node_t *get = ref_get(L, S, &r, obj, n);
            if (r.home)
                r.key = dup(L, r.key);
            if (bop == EW__T_AND || bop == EW__T_OR || bop == EW__T_NULLISH)
                res = ew__b_logical(L, bop, get, ref_set(L, S, &r, dup(L, obj), v, n), n);
            else
                res = ref_set(L, S, &r, dup(L, obj), ew__b_binary(L, bop, get, v, n), n);
        }
    }
    ew__nodes_push(L, &seq, &cap, res);
    *slot = ew__b_seq(L, seq, n);
    return true;
}

/* `R(args)` on a private method or super property: called with the receiver as this. */
static bool lower_ref_call(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    ew__node_t *n = *slot;
    ref_t r;
    ew__node_t *obj = ref_of(w, n->as.call.callee, &r);
    if (!obj)
        return false;
    ew__nodes_t seq = {0};
    uint32_t cap = 0;
    obj = once(L, obj, &seq, &cap);
    for (uint32_t i = 0; i < n->as.call.arguments.len; i++)
        walk(w, &n->as.call.arguments.items[i]);
    ew__node_t *callee = ew__b_member(L, ref_get(L, S, &r, obj, n), "call", n);
    ew__nodes_t args = {ew__lalloc(L, (n->as.call.arguments.len + 1) * sizeof(ew__node_t *)),
                        n->as.call.arguments.len + 1};
    args.items[0] = dup(L, obj);
    EW__MEMCPY(args.items + 1, n->as.call.arguments.items, n->as.call.arguments.len * sizeof(ew__node_t *));
    ew__nodes_push(L, &seq, &cap, ew__b_call(L, callee, args, n));
    *slot = ew__b_seq(L, seq, n);
    return true;
}

/* `P.call(obj, args)`, or `P.apply(obj, [args])` when an argument is spread (the spread pass lowers the array). */
static ew__node_t *call_on(ew__lower_t *L, ew__node_t *P, ew__node_t *obj, ew__nodes_t args, const ew__node_t *at)
{
    bool spread = false;
    for (uint32_t i = 0; i < args.len; i++)
        spread = spread || args.items[i]->type == EW__N_SpreadElement;
    if (spread)
        return ew__b_call(L, ew__b_member(L, P, "apply", at), ew__b_list(L, 2, obj, ew__b_array(L, args, at)), at);
    ew__nodes_t a = {ew__lalloc(L, (args.len + 1) * sizeof(ew__node_t *)), args.len + 1};
    a.items[0] = obj;
    EW__MEMCPY(a.items + 1, args.items, args.len * sizeof(ew__node_t *));
    return ew__b_call(L, ew__b_member(L, P, "call", at), a, at);
}

/* super(args) in a derived constructor (class_helpers.c has the protocol). The constructor's only super(),
 * at its top level, runs once on the object `new` made: `$this = $ew.superCtor(C, new.target, this).call(this,
 * args)`. Any other: on a fresh object, the binding checked after the parent ran: `$this =
 * $ew.superEnd(($t = $ew.superAlloc($nt), $ew.superCtor(C, $nt, $t).call($t, args)), $this)`. Then the
 * class's instance fields: `, init.call($this), $this`. */
static void lower_super_call(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    ew__node_t *n = *slot;
    fctx_t *f = S->f;
    if (f->kind != FK_DERIVED_CTOR)
        ew__lower_error(L, n, "'super' keyword unexpected here");
    for (uint32_t i = 0; i < n->as.call.arguments.len; i++)
        walk(w, &n->as.call.arguments.items[i]);
    cls_t *c = f->cls;
    bool once = f->one_super && L->fn->fn == f->fn && f->first_super->as.expr_stmt.expression == n;
    ew__node_t *obj = once ? ew__b_this(L, n) : ew__temp(L, n);
    /* new.target, not $nt: undefined in an initialiser copy, whose object already carries newTarget */
    ew__node_t *P = HELPER("superCtor", n, 3, ID(c->ref, n), once ? new_target(L) : ID(f->nt, n),
                           once ? ew__b_this(L, n) : dup(L, obj));
    ew__node_t *v = call_on(L, P, once ? ew__b_this(L, n) : dup(L, obj), n->as.call.arguments, n);
    if (!once) {
        ew__node_t *alloc = ew__b_assign(L, dup(L, obj), HELPER("superAlloc", n, 1, ID(f->nt, n)), n);
        v = HELPER("superEnd", n, 2, ew__b_seq(L, ew__b_list(L, 2, alloc, v), n), ID(f->self, n));
    }
    v = ew__b_assign(L, ID(f->self, n), v, n);
    if (c->init)
        v = ew__b_seq(L, ew__b_list(L, 3, v, ew__b_call(L, ew__b_member(L, ID(c->init, n), "call", n),
                                                        ew__b_list(L, 1, ID(f->self, n)), n), ID(f->self, n)), n);
    *slot = v;
}

/* Does a constructor's body read new.target (arrows included, not other functions)? */
static int find_new_target(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    if (n->type == EW__N_MetaProperty && n->as.meta_property.meta->as.ident.name->len == 3)
        *(bool *) ud = true;
    if (*(bool *) ud || (ew__is_function(n) && n->type != EW__N_ArrowFunctionExpression))
        return 0;
    return ew__node_children(*slot, find_new_target, ud);
}

/* The number of super(...) calls in a constructor's body, arrows included (not other functions). */
static int count_super(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    if (n->type == EW__N_CallExpression && n->as.call.callee->type == EW__N_Super)
        ++*(uint32_t *) ud;
    if (ew__is_function(n) && n->type != EW__N_ArrowFunctionExpression)
        return 0;
    return ew__node_children(*slot, count_super, ud);
}

/* ---------------------------------------------------------------------------------------------------------
 * Building a class
 */

typedef struct build {
    ew__node_t *cnode;          /* the class */
    cls_t *c;
    ew__nodes_t stmts;          /* the IIFE's body */
    uint32_t stmts_cap;
    ew__nodes_t proto_props, static_props, init_body, static_body, priv_fns;
    uint32_t proto_cap, static_cap, init_cap, sbody_cap, pfn_cap;
    ew__node_t *ctor;           /* constructor FunctionExpression */
} build_t;

static void add(ew__lower_t *L, ew__nodes_t *v, uint32_t *cap, ew__node_t *n)
{
    ew__nodes_push(L, v, cap, n);
}

/* Registers the private names of the class body (a getter and setter of one name share an entry). */
static void collect_privates(ew__lower_t *L, build_t *b)
{
    ew__nodes_t *els = &b->cnode->as.class_.body->as.body.body;
    cls_t *c = b->c;
    c->privs = ew__lalloc(L, (els->len + 1) * sizeof *c->privs);
    for (uint32_t i = 0; i < els->len; i++) {
        ew__node_t *e = els->items[i];
        if (e->type == EW__N_StaticBlock || e->as.method.key->type != EW__N_PrivateIdentifier)
            continue;
        bool field = e->type == EW__N_PropertyDefinition;
        ew__atom_t *nm = e->as.method.key->as.ident.name;
        priv_t *p = NULL;
        for (uint32_t j = 0; j < c->nprivs; j++)
            if (c->privs[j].name->len == nm->len + 1 && !memcmp(c->privs[j].name->s + 1, nm->s, nm->len))
                p = &c->privs[j];
        if (!p) {
            p = &c->privs[c->nprivs++];
            char buf[128];
            uint32_t len = nm->len > 120 ? 120 : nm->len;
            buf[0] = '#';
            EW__MEMCPY(buf + 1, nm->s, len);
            p->name = atom(L, buf, len + 1);
            p->is_static = field ? e->as.field.is_static : e->as.method.is_static;
        }
        if (field) {
            p->kind = PK_FIELD;
            p->key = ew__fresh(L, "priv", 4); /* not the name: it may not be an ES5 identifier */
        } else if (e->as.method.kind == EW__PROP_METHOD) {
            p->kind = PK_METHOD;
            p->fn = ew__fresh(L, "privm", 5);
        } else {
            p->kind = PK_ACCESSOR;
            *(e->as.method.kind == EW__PROP_GET ? &p->get : &p->set) = ew__fresh(L, "priva", 5);
        }
        if (p->kind != PK_FIELD && !p->is_static && !c->brand)
            c->brand = ew__fresh(L, "brand", 5);
    }
}

/* A class element's key as a property key: computed keys were evaluated into temps (key_tmp). */
static ew__node_t *elem_key(ew__lower_t *L, ew__node_t *key, ew__atom_t *key_tmp, bool *computed)
{
    *computed = key_tmp != NULL;
    if (key_tmp)
        return ID(key_tmp, key);
    if (key->type == EW__N_Identifier) /* a string: Duktape rejects methods named eval/arguments in strict code */
        return str_atom(L, key->as.ident.name, key);
    return key;
}

/* `({"name"(...) {...}})["name"]`: a method-like function value (no .prototype, named). */
static ew__node_t *named_fn(ew__lower_t *L, const ew__atom_t *name, ew__node_t *fn, const ew__node_t *at)
{
    fn->type = EW__N_FunctionExpression;
    fn->as.function.id = NULL;
    ew__node_t *p = ew__b_prop(L, str_atom(L, name, at), fn, at);
    p->as.property.method = true;
    ew__node_t *obj = ew__b_object(L, ew__b_list(L, 1, p), at);
    return ew__b_index(L, obj, str_atom(L, name, at), at);
}

static ew__node_t *new_fn(ew__lower_t *L, ew__nodes_t body, const ew__node_t *at)
{
    ew__node_t *f = ew__b_node(L, EW__N_FunctionExpression, at);
    f->as.function.body = ew__b_block(L, body, at);
    f->flags = EW__NF_STRICT | EW__NF_SIMPLE_PARAMS;
    return f;
}

/* Walks a function of the class with the given context (pushed by pre when the walk enters it). */
static void walk_fn(ew__walk_t *w, ew__node_t **slot, fctx_t *ctx)
{
    state_t *S = w->ud;
    (*slot)->flags |= EW__NF_STRICT;
    S->next = ctx;
    ew__walk(w, slot);
}

static bool is_anon_fn(const ew__node_t *v)
{
    return ((v->type == EW__N_FunctionExpression || v->type == EW__N_ArrowFunctionExpression) && !v->as.function.id) ||
           (v->type == EW__N_ClassExpression && !v->as.class_.id);
}

/* A field: `$ew.field(this, key, value)` or `$ew.privInit(this, $k, value, "#x")` in init_body/static_body. */
static void add_field(ew__lower_t *L, build_t *b, ew__node_t *e, ew__atom_t *key_tmp)
{
    ew__node_t *key = e->as.field.key, *v = e->as.field.value ? e->as.field.value : ew__b_undefined(L, e);
    ew__node_t *call;
    if (key->type == EW__N_PrivateIdentifier) {
        priv_t *p = NULL;
        for (uint32_t i = 0; i < b->c->nprivs; i++)
            if (b->c->privs[i].name->len == key->as.ident.name->len + 1 &&
                !memcmp(b->c->privs[i].name->s + 1, key->as.ident.name->s, key->as.ident.name->len))
                p = &b->c->privs[i];
        if (is_anon_fn(v))
            v = HELPER("fnName", v, 2, v, str_atom(L, p->name, e));
        call = ew__b_helper(L, "privInit", ew__b_list(L, 4, ew__b_this(L, e), ID(p->key, e), v,
                                                      str_atom(L, p->name, e)), e);
    } else {
        bool computed;
        ew__node_t *k = elem_key(L, key, key_tmp, &computed);
        if (k->type == EW__N_Identifier && !computed)
            k = str_atom(L, key->as.ident.name, key);
        if (!computed && is_anon_fn(v)) /* name inference: the field's key */
            v = HELPER("fnName", v, 2, v, k->type == EW__N_Literal && k->as.literal.kind == EW__LIT_STRING ? dup(L, k)
                                            : ew__b_call(L, ew__b_ident_str(L, "String", v), ew__b_list(L, 1, dup(L, k)), v));
        call = ew__b_helper(L, "field", ew__b_list(L, 3, ew__b_this(L, e), k, v), e);
    }
    if (e->as.field.is_static)
        add(L, &b->static_body, &b->sbody_cap, ew__b_expr_stmt(L, call, e));
    else
        add(L, &b->init_body, &b->init_cap, ew__b_expr_stmt(L, call, e));
}

/* A static block: `(() => { body })();` in the static initialiser (its vars stay its own). */
static void add_static_block(ew__lower_t *L, build_t *b, ew__node_t *e)
{
    ew__node_t *arrow = ew__b_node(L, EW__N_ArrowFunctionExpression, e);
    arrow->as.function.body = ew__b_block(L, e->as.body.body, e);
    arrow->flags = EW__NF_STRICT | EW__NF_SIMPLE_PARAMS;
    add(L, &b->static_body, &b->sbody_cap, ew__b_expr_stmt(L, ew__b_call(L, arrow, ew__b_list(L, 0), e), e));
}

/* A method: a property of the literal given to defineMethods, or a private function in the IIFE. */
static void add_method(ew__walk_t *w, build_t *b, ew__node_t *e, ew__atom_t *key_tmp)
{
    ew__lower_t *L = w->L;
    cls_t *c = b->c;
    bool st = e->as.method.is_static;
    walk_fn(w, &e->as.method.value, new_ctx(L, FK_METHOD, st ? c->ref : c->proto, c));
    ew__node_t *key = e->as.method.key, *fn = e->as.method.value;
    uint8_t kind = e->as.method.kind;
    if (key->type == EW__N_PrivateIdentifier) {
        priv_t *p = priv_find(L, &(state_t){.cls = c}, key);
        ew__atom_t *name = p->kind == PK_METHOD ? p->fn : kind == EW__PROP_GET ? p->get : p->set;
        ew__node_t *fname = p->kind == PK_METHOD ? str_atom(L, p->name, e) : NULL;
        if (!fname) {
            char buf[140];
            int len = snprintf(buf, sizeof buf, "%s %s", kind == EW__PROP_GET ? "get" : "set", p->name->s);
            fname = str_atom(L, atom(L, buf, (uint32_t) len), e);
        }
        ew__node_t *value = HELPER("fnName", e, 2, named_fn(L, p->name, fn, e), fname);
        add(L, &b->priv_fns, &b->pfn_cap, decl(L, EW__VAR_VAR, name, value, e));
        return;
    }
    bool computed;
    ew__node_t *prop = ew__b_prop(L, elem_key(L, key, key_tmp, &computed), fn, e);
    prop->as.property.computed = computed;
    prop->as.property.kind = kind == EW__PROP_METHOD ? EW__PROP_INIT : kind;
    prop->as.property.method = kind == EW__PROP_METHOD;
    if (st)
        add(L, &b->static_props, &b->static_cap, prop);
    else
        add(L, &b->proto_props, &b->proto_cap, prop);
}

static ew__node_t *new_target(ew__lower_t *L)
{
    ew__node_t *mp = ew__b_node(L, EW__N_MetaProperty, NULL);
    mp->as.meta_property.meta = ew__b_ident_str(L, "new", NULL);
    mp->as.meta_property.property = ew__b_ident_str(L, "target", NULL);
    return mp;
}

/* The constructor: the user's (walked) or the implicit one, with its prologue
 * `var $nt = new.target || ($isinit ? NT : $ew.noNew(C)), $this;` (+ `init.call(this)` in base classes; NT is
 * `$ew.ntOf(this)` when the body needs newTarget, else undefined) and a final `return this` (base) or
 * `return $this` (derived). It becomes the body of a maker, `function ($isinit) { return function (…) {…}; }`,
 * called twice (assemble): the class itself and the initialiser superCtor hands to subclasses. */
static void build_ctor(ew__walk_t *w, build_t *b)
{
    ew__lower_t *L = w->L;
    cls_t *c = b->c;
    ew__node_t *n = b->cnode, *m = NULL;
    ew__nodes_t *els = &n->as.class_.body->as.body.body;
    for (uint32_t i = 0; i < els->len; i++)
        if (els->items[i]->type == EW__N_MethodDefinition && els->items[i]->as.method.kind == EW__PROP_CONSTRUCTOR)
            m = els->items[i];
    fctx_t *f = new_ctx(L, c->derived ? FK_DERIVED_CTOR : FK_BASE_CTOR, c->proto, c);
    f->nt = ew__fresh(L, "newtarget", 9);
    f->self = c->derived ? ew__fresh(L, "this", 4) : NULL;
    ew__node_t *fn;
    bool needs_nt = false; /* new.target read, or a super() that builds on a fresh object */
    f->is_init = ew__fresh(L, "isinit", 6);
    if (m) {
        ew__nodes_t *body = &m->as.method.value->as.function.body->as.body.body;
        ew__node_children(m->as.method.value->as.function.body, find_new_target, &needs_nt);
        for (uint32_t i = 0; i < body->len && !f->first_super; i++)
            if (is_super_call(body->items[i]))
                f->first_super = body->items[i];
        uint32_t nsuper = 0;
        ew__node_children(m->as.method.value->as.function.body, count_super, &nsuper);
        f->one_super = f->first_super && nsuper == 1;
        needs_nt = needs_nt || (nsuper > 0 && !f->one_super);
        walk_fn(w, &m->as.method.value, f);
        fn = m->as.method.value;
    } else {
        fn = new_fn(L, ew__b_list(L, 0), n);
        if (c->derived) { /* constructor(...args) { super(...args); } */
            ew__node_t *P = HELPER("superCtor", n, 3, ID(c->ref, n), new_target(L), ew__b_this(L, n));
            ew__node_t *v = ew__b_call(L, ew__b_member(L, P, "apply", n),
                                       ew__b_list(L, 2, ew__b_this(L, n), ew__b_ident_str(L, "arguments", n)), n);
            ew__nodes_t *body = ew__body_of(fn);
            uint32_t cap = 0;
            ew__nodes_push(L, body, &cap, ew__b_expr_stmt(L, ew__b_assign(L, ID(f->self, n), v, n), n));
            if (c->init) {
                ew__node_t *init = ew__b_call(L, ew__b_member(L, ID(c->init, n), "call", n),
                                              ew__b_list(L, 1, ID(f->self, n)), n);
                ew__nodes_push(L, body, &cap, ew__b_expr_stmt(L, init, n));
            }
            f->this_safe = true;
        }
    }
    fn->type = EW__N_FunctionExpression;
    fn->as.function.id = NULL; /* `C` inside is the class, also in the initialiser copy (named by markClass) */
    fn->flags |= EW__NF_STRICT;
    ew__node_t *pro[2];
    uint32_t np = 0;
    ew__node_t *nt_init = needs_nt ? HELPER("ntOf", NULL, 1, ew__b_this(L, NULL)) : ew__b_undefined(L, NULL);
    ew__node_t *ntv = ew__b_logical(L, EW__T_OR, new_target(L),
                                    ew__b_cond(L, ID(f->is_init, NULL), nt_init,
                                               HELPER("noNew", NULL, 1, ID(c->ref, NULL)), NULL), NULL);
    ew__node_t *v = decl(L, EW__VAR_VAR, f->nt, ntv, NULL);
    if (f->self)
        ew__nodes_push(L, &v->as.var_decl.declarations, &(uint32_t){v->as.var_decl.declarations.len},
                       ew__b_declarator(L, ID(f->self, NULL), NULL, NULL));
    pro[np++] = v;
    if (!c->derived && c->init)
        pro[np++] = ew__b_expr_stmt(L, ew__b_call(L, ew__b_member(L, ID(c->init, NULL), "call", NULL),
                                                  ew__b_list(L, 1, ew__b_this(L, NULL)), NULL), NULL);
    ew__prepend(L, fn, pro, np);
    if (!c->derived) { /* called by a subclass's super(), it returns the object it initialised */
        ew__nodes_t *body = ew__body_of(fn);
        uint32_t cap = body->len;
        ew__nodes_push(L, body, &cap, ew__b_return(L, ew__b_this(L, NULL), NULL));
    }
    if (c->derived) {
        ew__nodes_t *body = ew__body_of(fn);
        uint32_t cap = body->len;
        ew__node_t *self = f->this_safe ? ID(f->self, NULL)
                                        : ew__b_logical(L, EW__T_OR, ID(f->self, NULL), HELPER("noThis", NULL, 0), NULL);
        ew__nodes_push(L, body, &cap, ew__b_return(L, self, NULL));
    }
    ew__node_t *maker = new_fn(L, ew__b_list(L, 1, ew__b_return(L, fn, n)), n);
    maker->as.function.params = ew__b_list(L, 1, ID(f->is_init, n));
    b->ctor = ew__b_method_fn(L, NULL, maker, n);
}

/* Walks heritage, computed keys and elements; fills b (statements of the IIFE so far, literals, bodies). */
static void build_elements(ew__walk_t *w, build_t *b)
{
    ew__lower_t *L = w->L;
    cls_t *c = b->c;
    ew__nodes_t *els = &b->cnode->as.class_.body->as.body.body;
    for (uint32_t i = 0; i < c->nprivs; i++)
        if (c->privs[i].kind == PK_FIELD)
            add(L, &b->stmts, &b->stmts_cap, decl(L, EW__VAR_VAR, c->privs[i].key, HELPER("privateName", NULL, 0), NULL));
    if (c->brand)
        add(L, &b->stmts, &b->stmts_cap, decl(L, EW__VAR_VAR, c->brand, HELPER("privateBrand", NULL, 0), NULL));
    ew__atom_t **ktmp = ew__lalloc(L, (els->len + 1) * sizeof *ktmp);
    for (uint32_t i = 0; i < els->len; i++) {
        ew__node_t *e = els->items[i];
        if (e->type == EW__N_PropertyDefinition && !e->as.field.is_static)
            c->init = c->init ? c->init : ew__fresh(L, "init", 4);
        if (e->type == EW__N_StaticBlock ||
            !(e->type == EW__N_PropertyDefinition ? e->as.field.computed : e->as.method.computed))
            continue;
        ew__node_t **key = e->type == EW__N_PropertyDefinition ? &e->as.field.key : &e->as.method.key;
        walk(w, key);
        ktmp[i] = ew__fresh(L, "key", 3);
        add(L, &b->stmts, &b->stmts_cap, decl(L, EW__VAR_VAR, ktmp[i], HELPER("key", *key, 1, *key), *key));
    }
    if (c->brand && !c->init)
        c->init = ew__fresh(L, "init", 4);
    if (c->brand)
        add(L, &b->init_body, &b->init_cap,
            ew__b_expr_stmt(L, HELPER("brandAdd", NULL, 2, ew__b_this(L, NULL), ID(c->brand, NULL)), NULL));
    for (uint32_t i = 0; i < els->len; i++) {
        ew__node_t *e = els->items[i];
        if (e->type == EW__N_MethodDefinition && e->as.method.kind != EW__PROP_CONSTRUCTOR)
            add_method(w, b, e, ktmp[i]);
        else if (e->type == EW__N_PropertyDefinition)
            add_field(L, b, e, ktmp[i]);
        else if (e->type == EW__N_StaticBlock)
            add_static_block(L, b, e);
    }
}

/* The IIFE's remaining statements: constructor, classCreate, methods, private functions, initialisers. */
static void assemble(ew__walk_t *w, build_t *b, ew__atom_t *heritage, ew__atom_t *name)
{
    ew__lower_t *L = w->L;
    cls_t *c = b->c;
    ew__node_t *n = b->cnode;
    ew__node_t *init_fn = NULL, *static_fn = NULL;
    if (c->init) {
        init_fn = new_fn(L, b->init_body, n);
        walk_fn(w, &init_fn, new_ctx(L, FK_METHOD, c->proto, c));
    }
    if (b->static_body.len) {
        static_fn = new_fn(L, b->static_body, n);
        walk_fn(w, &static_fn, new_ctx(L, FK_METHOD, c->ref, c));
    }
    build_ctor(w, b);
    ew__atom_t *maker = ew__fresh(L, "maker", 5), *init_copy = ew__fresh(L, "initcopy", 8);
    add(L, &b->stmts, &b->stmts_cap, decl(L, EW__VAR_VAR, maker, b->ctor, n));
    add(L, &b->stmts, &b->stmts_cap,
        decl(L, EW__VAR_CONST, c->ref, ew__b_call(L, ID(maker, n), ew__b_list(L, 1, ew__b_bool(L, false, n)), n), n));
    add(L, &b->stmts, &b->stmts_cap,
        decl(L, EW__VAR_VAR, init_copy, ew__b_call(L, ID(maker, n), ew__b_list(L, 1, ew__b_bool(L, true, n)), n), n));
    if (!name && n->as.class_.id)
        name = n->as.class_.id->as.ident.name;
    ew__node_t *create = HELPER("classCreate", n, 5, ID(c->ref, n), ew__b_bool(L, c->derived, n),
                                heritage ? ID(heritage, n) : ew__b_undefined(L, n),
                                name ? str_atom(L, name, n) : ew__b_str(L, "", 0, n), ID(init_copy, n));
    add(L, &b->stmts, &b->stmts_cap, decl(L, EW__VAR_VAR, c->proto, create, n));
    if (b->proto_props.len)
        add(L, &b->stmts, &b->stmts_cap, ew__b_expr_stmt(L, HELPER("defineMethods", n, 2, ID(c->proto, n),
                                                                ew__b_object(L, b->proto_props, n)), n));
    if (b->static_props.len)
        add(L, &b->stmts, &b->stmts_cap, ew__b_expr_stmt(L, HELPER("defineMethods", n, 2, ID(c->ref, n),
                                                                ew__b_object(L, b->static_props, n)), n));
    for (uint32_t i = 0; i < b->priv_fns.len; i++)
        add(L, &b->stmts, &b->stmts_cap, b->priv_fns.items[i]);
    if (init_fn)
        add(L, &b->stmts, &b->stmts_cap, decl(L, EW__VAR_VAR, c->init, ew__b_method_fn(L, NULL, init_fn, n), n));
    if (static_fn)
        add(L, &b->stmts, &b->stmts_cap,
            ew__b_expr_stmt(L, ew__b_call(L, ew__b_member(L, ew__b_method_fn(L, NULL, static_fn, n), "call", n),
                                          ew__b_list(L, 1, ID(c->ref, n)), n), n));
    add(L, &b->stmts, &b->stmts_cap, ew__b_return(L, ID(c->ref, n), n));
}

static void lower_class(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    ew__node_t *n = *slot;
    build_t b;
    memset(&b, 0, sizeof b);
    b.cnode = n;
    cls_t *c = b.c = ew__lalloc(L, sizeof *c);
    c->derived = n->as.class_.super_class != NULL;
    ew__node_t *id = n->as.class_.id;
    ew__atom_t *name = !id && S->name_for == n ? S->name : NULL;
    c->ref = id ? id->as.ident.name : ew__fresh(L, "class", 5);
    c->proto = ew__fresh(L, "proto", 5);
    collect_privates(L, &b);
    ew__atom_t *heritage = NULL;
    if (c->derived) { /* evaluated outside the class's private environment */
        walk(w, &n->as.class_.super_class);
        heritage = ew__fresh(L, "super", 5);
        add(L, &b.stmts, &b.stmts_cap, decl(L, EW__VAR_VAR, heritage, n->as.class_.super_class, n));
    }
    c->outer = S->cls;
    S->cls = c;
    build_elements(w, &b);
    assemble(w, &b, heritage, name);
    S->cls = c->outer;
    ew__node_t *arrow = ew__b_node(L, EW__N_ArrowFunctionExpression, n);
    arrow->as.function.body = ew__b_block(L, b.stmts, n);
    arrow->flags = EW__NF_STRICT | EW__NF_SIMPLE_PARAMS;
    bool awaits = false;
    ew__node_children(arrow->as.function.body, find_await, &awaits);
    arrow->as.function.async = awaits;
    ew__node_t *call = ew__b_call(L, arrow, ew__b_list(L, 0), n);
    if (inert_class(n))
        call->spare |= EW__SP_INERT;
    if (awaits) { /* `extends (await x)`, `[await k]() {}`: the class is evaluated by an awaited async arrow */
        ew__node_t *aw = ew__b_node(L, EW__N_AwaitExpression, n);
        aw->as.argument.argument = call;
        call = aw;
    }
    if (n->type == EW__N_ClassDeclaration)
        *slot = decl(L, EW__VAR_LET, id->as.ident.name, call, n);
    else
        *slot = call;
}

/* An await evaluated by the class IIFE itself (heritage, computed keys), not by a function inside it. */
static int find_await(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    if (n->type == EW__N_AwaitExpression || (n->type == EW__N_ForOfStatement && n->as.for_in.await))
        *(bool *) ud = true;
    if (*(bool *) ud || ew__is_function(n))
        return 0;
    return ew__node_children(*slot, find_await, ud);
}

/* ---------------------------------------------------------------------------------------------------------
 * super in object literals: `{__proto__: base, m() { return super.m(); }}` ->
 * `(h => h = {__proto__: base, m() { return $ew.superGet(h, "m", this)(); }})()`: the object is the home of
 * its methods, one per evaluation (the arrow's parameter; the arrow pass keeps this/arguments of the code
 * around). An awaiting property makes the arrow async and awaited (like a class).
 */

static int find_yield(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    if (n->type == EW__N_YieldExpression)
        *(const ew__node_t **) ud = n;
    if (*(const ew__node_t **) ud || ew__is_function(n))
        return 0;
    return ew__node_children(*slot, find_yield, ud);
}

/* A method or accessor of an object literal whose body (or an arrow in it) uses super. */
static bool uses_super(ew__lower_t *L, const ew__node_t *p)
{
    if (p->type != EW__N_Property || !(p->as.property.method || p->as.property.kind != EW__PROP_INIT))
        return false;
    ew__sscope_t *s = ew__scope_of(L, p->as.property.value);
    return s && (s->uses & EW__USE_SUPER);
}

static bool object_uses_super(ew__lower_t *L, const ew__node_t *n)
{
    for (uint32_t i = 0; i < n->as.object.properties.len; i++)
        if (uses_super(L, n->as.object.properties.items[i]))
            return true;
    return false;
}

static void lower_object_super(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    ew__node_t *n = *slot;
    const ew__node_t *yield = NULL;
    ew__node_children(n, find_yield, &yield);
    if (yield)
        ew__lower_error(L, yield, "yield in an object literal whose methods use super is not supported");
    bool awaits = false;
    ew__node_children(n, find_await, &awaits);
    ew__atom_t *h = ew__fresh(L, "home", 4);
    for (uint32_t i = 0; i < n->as.object.properties.len; i++) {
        ew__node_t **ps = &n->as.object.properties.items[i], *p = *ps;
        if (p->type != EW__N_Property) {
            walk(w, ps);
            continue;
        }
        if (p->as.property.computed)
            walk(w, &p->as.property.key);
        if (uses_super(L, p))
            S->next = new_ctx(L, FK_METHOD, h, NULL); /* taken by the method's function (pre) */
        walk(w, &p->as.property.value);
        S->next = NULL;
    }
    ew__node_t *arrow = ew__b_node(L, EW__N_ArrowFunctionExpression, n);
    arrow->flags = (uint8_t) (((L->fn->fn->flags & EW__NF_STRICT) || L->module ? EW__NF_STRICT : 0) |
                              EW__NF_SIMPLE_PARAMS);
    arrow->as.function.params = ew__b_list(L, 1, ID(h, n));
    arrow->as.function.expression = true;
    arrow->as.function.body = ew__b_assign(L, ID(h, n), n, n);
    arrow->as.function.async = awaits;
    ew__node_t *call = ew__b_call(L, arrow, ew__b_list(L, 0), n);
    if (awaits) {
        ew__node_t *aw = ew__b_node(L, EW__N_AwaitExpression, n);
        aw->as.argument.argument = call;
        call = aw;
    }
    *slot = call;
}

/* Does the spine of an optional chain (objects of members, callees of calls) reach a private name? */
static bool chain_has_private(const ew__node_t *n)
{
    for (;;) {
        if (n->type == EW__N_MemberExpression) {
            if (n->as.member.property->type == EW__N_PrivateIdentifier)
                return true;
            n = n->as.member.object;
        } else if (n->type == EW__N_CallExpression) {
            n = n->as.call.callee;
        } else {
            return false;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * The walk
 */

static bool is_anon_class(const ew__node_t *v)
{
    return v && v->type == EW__N_ClassExpression && !v->as.class_.id;
}

static void infer_name(state_t *S, ew__node_t *value, const ew__node_t *key)
{
    if (!is_anon_class(value) || !key)
        return;
    if (key->type == EW__N_Identifier && !(key->flags & EW__NF_PAREN)) {
        S->name_for = value;
        S->name = key->as.ident.name;
    }
}

static bool is_new_target(const ew__node_t *n)
{
    return n->as.meta_property.meta->as.ident.name->len == 3;
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_FunctionExpression:
    case EW__N_FunctionDeclaration: {
        fctx_t *f = S->next ? S->next : new_ctx(L, FK_PLAIN, NULL, NULL);
        S->next = NULL;
        f->fn = n;
        f->outer = S->f;
        S->f = f;
        return false;
    }
    case EW__N_ClassDeclaration:
    case EW__N_ClassExpression: lower_class(w, slot); return true;
    case EW__N_ChainExpression: /* `o?.c.#f`: the chain becomes conditionals first, its private names below */
        if (chain_has_private(n->as.chain.expression))
            *slot = ew__lower_chain(L, n, false);
        return false;
    case EW__N_UnaryExpression:
        if (n->as.unary.op == EW__T_K_DELETE && n->as.unary.argument->type == EW__N_ChainExpression &&
            chain_has_private(n->as.unary.argument->as.chain.expression))
            *slot = ew__lower_chain(L, n->as.unary.argument, true);
        return false;
    case EW__N_ObjectExpression:
        if (!object_uses_super(L, n))
            return false;
        lower_object_super(w, slot);
        return true;
    case EW__N_ThisExpression:
        if (S->f->kind == FK_DERIVED_CTOR)
            *slot = this_value(L, S, n);
        return true;
    case EW__N_MetaProperty:
        if (is_new_target(n) && (S->f->kind == FK_DERIVED_CTOR || S->f->kind == FK_BASE_CTOR))
            *slot = ID(S->f->nt, n);
        return true;
    case EW__N_VariableDeclarator: infer_name(S, n->as.declarator.init, n->as.declarator.id); return false;
    case EW__N_AssignmentPattern: infer_name(S, n->as.assign_pattern.right, n->as.assign_pattern.left); return false;
    case EW__N_Property:
        if (!n->as.property.computed && n->as.property.kind == EW__PROP_INIT)
            infer_name(S, n->as.property.value, n->as.property.key);
        return false;
    case EW__N_AssignmentExpression:
        if (n->as.binary.op == EW__T_ASSIGN || n->as.binary.op >= EW__T_AND_ASSIGN)
            infer_name(S, n->as.binary.right, n->as.binary.left);
        return lower_write(w, slot);
    case EW__N_UpdateExpression: return lower_write(w, slot);
    case EW__N_CallExpression:
        if (n->as.call.callee->type == EW__N_Super) {
            lower_super_call(w, slot);
            return true;
        }
        return lower_ref_call(w, slot);
    case EW__N_MemberExpression:
        if (n->as.member.object->type == EW__N_Super) {
            ref_t r;
            ew__node_t *obj = ref_of(w, n, &r);
            *slot = ref_get(L, S, &r, obj, n);
            return true;
        }
        return false;
    case EW__N_Super: ew__lower_error(L, n, "'super' keyword unexpected here");
    default: return false;
    }
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    ew__lower_t *L = w->L;
    state_t *S = w->ud;
    ew__node_t *n = *slot;
    switch (n->type) {
    case EW__N_FunctionExpression:
    case EW__N_FunctionDeclaration:
        if (S->f->fn == n)
            S->f = S->f->outer;
        break;
    case EW__N_MemberExpression:
        if (n->as.member.property->type == EW__N_PrivateIdentifier) {
            ref_t r = {priv_find(L, S, n->as.member.property), NULL, NULL};
            *slot = ref_get(L, S, &r, n->as.member.object, n);
        }
        break;
    case EW__N_BinaryExpression:
        if (n->as.binary.op == EW__T_K_IN && n->as.binary.left->type == EW__N_PrivateIdentifier) {
            priv_t *p = priv_find(L, S, n->as.binary.left);
            ew__node_t *k = p->kind == PK_FIELD ? ID(p->key, n) : priv_brand(L, S, p, n);
            *slot = HELPER("privHas", n, 2, n->as.binary.right, k);
        }
        break;
    case EW__N_ExpressionStatement:
        if (S->f->first_super == n)
            S->f->this_safe = true;
        break;
    case EW__N_ReturnStatement:
        if (S->f->kind == FK_DERIVED_CTOR && L->fn->fn == S->f->fn) {
            ew__node_t *a = n->as.argument.argument;
            n->as.argument.argument = a ? HELPER("derivedReturn", n, 2, a, ID(S->f->self, n)) : this_value(L, S, n);
        } else if (S->f->kind == FK_BASE_CTOR && L->fn->fn == S->f->fn) {
            ew__node_t *a = n->as.argument.argument;
            n->as.argument.argument = a ? HELPER("baseReturn", n, 2, a, ew__b_this(L, n)) : ew__b_this(L, n);
        }
        break;
    default: break;
    }
}

void ew__lower_class(ew__lower_t *L)
{
    state_t S;
    memset(&S, 0, sizeof S);
    S.f = new_ctx(L, FK_PLAIN, NULL, NULL);
    S.f->fn = L->program;
    ew__walk_t w = {L, pre, post, &S, 0, 0, false};
    ew__walk(&w, &L->program);
}
