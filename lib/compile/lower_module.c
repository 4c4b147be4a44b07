/*
 * lower_module.c — the modules pass: one ES module's import/export declarations become calls of the bundle's
 * module registry (helpers.js `modules`), so the module is an ordinary function body the later passes lower.
 *
 * It runs first (ew__lower_run, when bundle.c set L->mod), analyses scopes itself and rewrites:
 *   - imports: every reference to an imported binding (the binding's refs, scope.c) becomes a read of the
 *     exporter's namespace object, `$d.name` (a getter: live), `$d` for `import * as`; calls get `(0, $d.f)()`
 *     so `this` stays undefined; writes throw a TypeError at run time (getter without setter, strict code);
 *   - exports: declarations lose `export`, the namespace getters are defined in one `R.e(k, {get x() {...}})`;
 *     `export default <expr>` is kept in a fresh variable, anonymous default functions get the name "default";
 *   - `import.meta` -> `R.meta(k)`, `import(x)` -> `R.imp(k, x)` (a promise of the namespace).
 * The prologue it puts at the top: namespace variables of the dependencies, the getters (so the module's hoisted
 * functions are visible to modules on a cycle), then the evaluation of the dependencies in import order.
 * Link errors (a name a module does not export, a conflicting star export) are reported at the import.
 */
#include <string.h>

#include "bundle.h"
#include "lower.h"

typedef struct dep {
    uint32_t mod;
    ew__atom_t *var;  /* holds the dependency's namespace */
} dep_t;

typedef struct imp {
    ew__atom_t *local;
    uint32_t dep;     /* index into deps */
    ew__str_t name;   /* imported name; unused for a namespace import */
    bool ns;
} imp_t;

typedef struct mp {
    ew__lower_t *L;
    ew__modctx_t *M;
    dep_t *deps;
    uint32_t ndeps, deps_cap;
    imp_t *imps;
    uint32_t nimps, imps_cap;
    ew__atom_t *default_slot;    /* `export default <expr>` or an anonymous default function */
    ew__node_t *default_fn;      /* an anonymous default function declaration (renamed "default" at run time) */
} mp_t;

static void *grow(ew__lower_t *L, void *items, uint32_t n, uint32_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    uint32_t c = *cap ? *cap * 2 : 8;
    void *p = ew__lalloc(L, c * size);
    if (n)
        EW__MEMCPY(p, items, n * size);
    *cap = c;
    return p;
}

static ew__str_t name_of(const ew__node_t *n)
{
    if (n->type == EW__N_Identifier)
        return (ew__str_t){n->as.ident.name->s, n->as.ident.name->len};
    return n->as.literal.string;
}

static bool is_ident_name(ew__str_t s)
{
    if (!s.len || (s.s[0] >= '0' && s.s[0] <= '9'))
        return false;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$'))
            return false;
    }
    return true;
}

/* obj.name, or obj["name"] when name is not an identifier */
static ew__node_t *read_prop(ew__lower_t *L, ew__node_t *obj, ew__str_t name, const ew__node_t *at)
{
    if (!is_ident_name(name))
        return ew__b_index(L, obj, ew__b_str(L, name.s, name.len, at), at);
    ew__node_t *n = ew__b_node(L, EW__N_MemberExpression, at);
    n->as.member.object = obj;
    ew__atom_t *a = ew__atom_new(L->arena, name.s, name.len);
    if (!a)
        ew__lower_error(L, at, "out of memory");
    n->as.member.property = ew__b_ident(L, a, at);
    return n;
}

/* The dependency record of module k (added in the order of first request: the evaluation order). */
static uint32_t dep_of(mp_t *P, uint32_t k)
{
    for (uint32_t i = 0; i < P->ndeps; i++)
        if (P->deps[i].mod == k)
            return i;
    P->deps = grow(P->L, P->deps, P->ndeps, &P->deps_cap, sizeof *P->deps);
    P->deps[P->ndeps] = (dep_t){k, ew__fresh(P->L, "ns", 2)};
    return P->ndeps++;
}

static void check_provides(mp_t *P, uint32_t k, const ew__node_t *src, const ew__node_t *name_node)
{
    ew__str_t name = name_node ? name_of(name_node) : (ew__str_t){"default", 7};
    int r = P->M->provides(P->M, k, name);
    if (r > 0)
        return;
    const ew__str_t s = src->as.literal.string;
    ew__lower_error(P->L, name_node ? name_node : src,
                    r < 0 ? "The requested module '%.*s' contains conflicting star exports for name '%.*s'"
                          : "The requested module '%.*s' does not provide an export named '%.*s'",
                    (int) s.len, s.s, (int) name.len, name.s);
}

static void scan_import(mp_t *P, ew__node_t *n)
{
    ew__node_t *src = n->as.import_decl.source;
    uint32_t d = dep_of(P, P->M->request(P->M, src)); /* (dep_of may move P->deps) */
    for (uint32_t i = 0; i < n->as.import_decl.specifiers.len; i++) {
        ew__node_t *s = n->as.import_decl.specifiers.items[i];
        imp_t im = {s->as.import_spec.local->as.ident.name, d, {"default", 7}, false};
        if (s->type == EW__N_ImportNamespaceSpecifier)
            im.ns = true;
        else if (s->type == EW__N_ImportSpecifier)
            im.name = name_of(s->as.import_spec.imported);
        if (!im.ns)
            check_provides(P, P->deps[d].mod, src, s->type == EW__N_ImportSpecifier ? s->as.import_spec.imported
                                                                                  : NULL);
        P->imps = grow(P->L, P->imps, P->nimps, &P->imps_cap, sizeof *P->imps);
        P->imps[P->nimps++] = im;
    }
}

static bool is_anonymous_fn(const ew__node_t *e)
{
    return (((e->type == EW__N_FunctionExpression || e->type == EW__N_ClassExpression) &&
             !(e->type == EW__N_FunctionExpression ? e->as.function.id : e->as.class_.id)) ||
            e->type == EW__N_ArrowFunctionExpression);
}

/* export default ...: the statement that replaces it (NULL: removed). */
static ew__node_t *lower_default(mp_t *P, ew__node_t *n)
{
    ew__lower_t *L = P->L;
    ew__node_t *d = n->as.export_default.declaration;
    if (d->type == EW__N_FunctionDeclaration || d->type == EW__N_ClassDeclaration) {
        ew__node_t **id = d->type == EW__N_FunctionDeclaration ? &d->as.function.id : &d->as.class_.id;
        if (*id)
            return d;
        P->default_slot = ew__fresh(L, "default", 7);
        *id = ew__b_ident(L, P->default_slot, d);
        if (d->type == EW__N_FunctionDeclaration) { /* hoisted: renamed in the prologue */
            P->default_fn = d;
            return d;
        }
        d->type = EW__N_ClassExpression; /* var slot = setName(class slot {...}, "default") */
        return ew__b_var(L, ew__b_ident(L, P->default_slot, n),
                         ew__b_helper(L, "setName", ew__b_list(L, 2, d, ew__b_str(L, "default", 7, d)), d), n);
    }
    P->default_slot = ew__fresh(L, "default", 7);
    ew__node_t *v = d;
    if (is_anonymous_fn(d)) /* NamedEvaluation: the function's name is "default" */
        v = ew__b_helper(L, "setName", ew__b_list(L, 2, d, ew__b_str(L, "default", 7, d)), d);
    return ew__b_var(L, ew__b_ident(L, P->default_slot, n), v, n);
}

/* One top-level statement: the statement that replaces it, NULL to drop it. */
static ew__node_t *lower_toplevel(mp_t *P, ew__node_t *n)
{
    switch (n->type) {
    case EW__N_ImportDeclaration: scan_import(P, n); return NULL;
    case EW__N_ExportNamedDeclaration: {
        ew__node_t *src = n->as.export_named.source;
        if (src) {
            uint32_t k = P->M->request(P->M, src);
            dep_of(P, k);
            for (uint32_t i = 0; i < n->as.export_named.specifiers.len; i++)
                check_provides(P, k, src, n->as.export_named.specifiers.items[i]->as.export_spec.local);
        }
        return n->as.export_named.declaration;
    }
    case EW__N_ExportDefaultDeclaration: return lower_default(P, n);
    case EW__N_ExportAllDeclaration: dep_of(P, P->M->request(P->M, n->as.export_all.source)); return NULL;
    default: return n;
    }
}

static const imp_t *find_import(const mp_t *P, const ew__atom_t *a)
{
    for (uint32_t i = 0; i < P->nimps; i++)
        if (ew__atom_eq(P->imps[i].local, a))
            return &P->imps[i];
    return NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * References to imports, import.meta, import()
 */

/* Rewrites an Identifier marked EW__SP_IMPORT_REF in place (every ref of the binding is the same node object
 * its parent holds, so no slot is needed). */
static void rewrite_ref(mp_t *P, ew__node_t *id)
{
    ew__lower_t *L = P->L;
    const imp_t *im = find_import(P, id->as.ident.name);
    ew__atom_t *var = P->deps[im->dep].var;
    bool write = (id->spare & EW__SP_CONST_WRITE) != 0;
    ew__node_t copy = *id;
    ew__node_t *m;
    if (im->ns && !write) {
        id->as.ident.name = var;
        id->spare &= (uint16_t) ~(EW__SP_IMPORT_REF | EW__SP_CONST_WRITE);
        return;
    }
    if (im->ns) /* a namespace import is immutable: a write to a frozen object's property (TypeError) */
        m = ew__b_member(L, ew__b_member(L, ew__b_ident(L, L->helpers, &copy), "immutable", &copy), "binding",
                         &copy);
    else
        m = read_prop(L, ew__b_ident(L, var, &copy), im->name, &copy);
    *id = *m;
    id->spare = EW__SP_IMPORT_REF;
}

static bool pre(ew__walk_t *w, ew__node_t **slot)
{
    (void) w;
    ew__node_t *n = *slot;
    if (n->type == EW__N_Property && n->as.property.shorthand) {
        ew__node_t *v = n->as.property.value;
        if (v->type == EW__N_AssignmentPattern)
            v = v->as.assign_pattern.left;
        if (v->type == EW__N_Identifier && (v->spare & EW__SP_IMPORT_REF))
            n->as.property.shorthand = false; /* {x} -> {x: ns.x} */
    }
    return false;
}

static void post(ew__walk_t *w, ew__node_t **slot)
{
    mp_t *P = w->ud;
    ew__lower_t *L = P->L;
    ew__node_t *n = *slot;
    ew__node_t **callee = NULL;
    switch (n->type) {
    case EW__N_Identifier:
        if (n->spare & EW__SP_IMPORT_REF)
            rewrite_ref(P, n);
        break;
    case EW__N_CallExpression: callee = &n->as.call.callee; break;
    case EW__N_TaggedTemplateExpression: callee = &n->as.tagged.tag; break;
    case EW__N_MetaProperty:
        if (n->as.meta_property.meta->as.ident.name->len == 6) /* import.meta */
            *slot = ew__b_call(L, ew__b_member(L, ew__b_ident(L, P->M->registry, n), "meta", n),
                               ew__b_list(L, 1, ew__b_num(L, P->M->index, n)), n);
        break;
    case EW__N_ImportExpression:
        *slot = ew__b_call(L, ew__b_member(L, ew__b_ident(L, P->M->registry, n), "imp", n),
                           ew__b_list(L, 2, ew__b_num(L, P->M->index, n), n->as.import_expr.source), n);
        break;
    default: break;
    }
    if (callee && (*callee)->type == EW__N_MemberExpression && ((*callee)->spare & EW__SP_IMPORT_REF))
        *callee = ew__b_seq(L, ew__b_list(L, 2, ew__b_num(L, 0, *callee), *callee), *callee);
}

/* Marks every reference (not the declaration) of each import binding. */
/* Marks the references of import bindings; returns how many. */
static uint32_t mark_refs(mp_t *P)
{
    uint32_t n = 0;
    for (ew__sbinding_t *b = P->L->scopes.root->bindings; b; b = b->next) {
        if (b->kind != EW__BK_IMPORT)
            continue;
        for (uint32_t i = 1; i < b->nrefs; i++, n++)
            b->refs[i]->spare |= EW__SP_IMPORT_REF;
    }
    return n;
}

/* Whether the source may hold import() or import.meta: `import` followed by `(`, `.`, or (conservatively) a
 * comment or non-ASCII white space; the walk below has nothing else to do in a module with no import references. */
static bool may_use_import_expr(const char *s, size_t len)
{
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t) (end - p), "import", 6)) != NULL; p += 6) {
        const char *q = p + 6;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\v' || *q == '\f'))
            q++;
        if (q < end && (*q == '(' || *q == '.' || *q == '/' || (unsigned char) *q >= 0x80))
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------------------------------------------------
 * The prologue
 */

/* What the getter of an exported local name returns. */
static ew__node_t *local_read(mp_t *P, ew__atom_t *local)
{
    ew__lower_t *L = P->L;
    if (!local)
        return ew__b_ident(L, P->default_slot, NULL);
    const imp_t *im = find_import(P, local);
    if (!im)
        return ew__b_ident(L, local, NULL);
    ew__node_t *ns = ew__b_ident(L, P->deps[im->dep].var, NULL);
    return im->ns ? ns : read_prop(L, ns, im->name, NULL);
}

static ew__node_t *export_getter(mp_t *P, const ew__modexport_t *e)
{
    ew__lower_t *L = P->L;
    ew__node_t *v;
    if (e->kind == EW__EX_LOCAL)
        v = local_read(P, e->local);
    else {
        uint32_t d = dep_of(P, e->mod); /* (dep_of may move P->deps) */
        ew__node_t *ns = ew__b_ident(L, P->deps[d].var, NULL);
        v = e->kind == EW__EX_NS ? ns : read_prop(L, ns, e->import_name, NULL);
    }
    ew__node_t *fn = ew__b_node(L, EW__N_FunctionExpression, NULL);
    fn->as.function.body = ew__b_block(L, ew__b_list(L, 1, ew__b_return(L, v, NULL)), NULL);
    fn->flags = EW__NF_STRICT | EW__NF_SIMPLE_PARAMS;
    ew__node_t *p = ew__b_prop(L, ew__b_str(L, e->name.s, e->name.len, NULL), fn, NULL);
    p->as.property.kind = EW__PROP_GET;
    return p;
}

static ew__node_t *registry_call(mp_t *P, const char *fn, ew__nodes_t args)
{
    ew__lower_t *L = P->L;
    return ew__b_call(L, ew__b_member(L, ew__b_ident(L, P->M->registry, NULL), fn, NULL), args, NULL);
}

static void prologue(mp_t *P)
{
    ew__lower_t *L = P->L;
    ew__modctx_t *M = P->M;
    uint32_t cap = 0;
    ew__nodes_t out = {0};
    ew__nodes_t decls = {0};
    uint32_t dcap = 0;
    /* namespaces of ES dependencies exist before they run (cycles); the others are made by running them */
    for (uint32_t i = 0; i < P->ndeps; i++) {
        bool esm = M->kind(M, P->deps[i].mod) == EW__MK_ESM;
        ew__node_t *init = esm ? ew__b_index(L, ew__b_member(L, ew__b_ident(L, M->registry, NULL), "n", NULL),
                                             ew__b_num(L, P->deps[i].mod, NULL), NULL)
                               : NULL;
        ew__nodes_push(L, &decls, &dcap, ew__b_declarator(L, ew__b_ident(L, P->deps[i].var, NULL), init, NULL));
    }
    if (decls.len) {
        ew__node_t *v = ew__b_node(L, EW__N_VariableDeclaration, NULL);
        v->as.var_decl.kind = EW__VAR_VAR;
        v->as.var_decl.declarations = decls;
        ew__nodes_push(L, &out, &cap, v);
    }
    ew__nodes_t props = {0};
    uint32_t pcap = 0;
    for (uint32_t i = 0; i < M->nexports; i++)
        ew__nodes_push(L, &props, &pcap, export_getter(P, &M->exports[i]));
    ew__node_t *idx = ew__b_num(L, M->index, NULL);
    ew__nodes_push(L, &out, &cap, ew__b_expr_stmt(L, registry_call(P, "e", ew__b_list(L, 2, idx,
                                                                           ew__b_object(L, props, NULL))), NULL));
    if (P->default_fn)
        ew__nodes_push(L, &out, &cap, ew__b_expr_stmt(L, ew__b_helper(L, "setName", ew__b_list(L, 2,
                                      ew__b_ident(L, P->default_slot, NULL), ew__b_str(L, "default", 7, NULL)), NULL),
                                      NULL));
    for (uint32_t i = 0; i < P->ndeps; i++) {
        uint32_t k = P->deps[i].mod;
        bool wait = M->kind(M, k) == EW__MK_ESM && M->is_async(M, k);
        ew__node_t *run = registry_call(P, wait ? "wait" : "run", ew__b_list(L, 1, ew__b_num(L, k, NULL)));
        if (M->kind(M, k) != EW__MK_ESM)
            run = ew__b_assign(L, ew__b_ident(L, P->deps[i].var, NULL), run, NULL);
        if (wait) { /* an async dependency: evaluated before this body (the body becomes async too) */
            ew__node_t *aw = ew__b_node(L, EW__N_AwaitExpression, NULL);
            aw->as.argument.argument = run;
            run = aw;
        }
        ew__nodes_push(L, &out, &cap, ew__b_expr_stmt(L, run, NULL));
    }
    if (M->is_async(M, M->index)) /* dependencies done: importers may wait for this body from now on */
        ew__nodes_push(L, &out, &cap, ew__b_expr_stmt(L, registry_call(P, "b", ew__b_list(L, 1, ew__b_num(L,
                                                                       M->index, NULL))), NULL));
    ew__prepend(L, L->program, out.items, out.len);
}

void ew__lower_module(ew__lower_t *L)
{
    ew__scope_analyze(L);
    L->helpers = ew__atom_new(L->arena, L->prefix, L->prefix_len);
    if (!L->helpers)
        ew__lower_error(L, NULL, "out of memory");
    mp_t P = {.L = L, .M = L->mod};
    P.M->registry = ew__fresh(L, "R", 1);
    ew__nodes_t *body = &L->program->as.program.body;
    uint32_t k = 0;
    for (uint32_t i = 0; i < body->len; i++) {
        ew__node_t *s = lower_toplevel(&P, body->items[i]);
        if (s)
            body->items[k++] = s;
    }
    body->len = k;
    if (mark_refs(&P) || may_use_import_expr(L->src, L->len)) {
        ew__walk_t w = {L, pre, post, &P, 0, 0, false};
        ew__walk(&w, &L->program);
    }
    prologue(&P);
    if (L->module) /* (a script entry keeps its own strictness) */
        L->program->flags |= EW__NF_STRICT;
    L->program->as.program.module = false; /* a function body from now on */
}
