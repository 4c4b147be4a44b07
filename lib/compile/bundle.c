/*
 * bundle.c — the module graph of a Worker project, compiled into one program (bundle.h has the contract).
 *
 * From the entry path it reads files through a reader callback (disk by default), resolves specifiers
 * (relative with .js/.mjs/.cjs/.json/index.js completion; bare ones from node_modules walking up, with
 * package.json "exports" under the conditions workerd > worker > browser > import > default, then "module",
 * then "main"), and classifies each file: JSON module, CommonJS (require/module/exports and no import/export:
 * wrapped in `function (module, exports, require)`), or ES module. It then links: each ES module's export
 * names, `export *` resolved with ambiguous names left out (ResolveExport of the specification). Every module
 * is then compiled by the ordinary passes (lower_module.c first) in its own arena and printed with its own
 * file index; the texts are joined into `function ($ew) { var R = $ew.modules(...); R.d(0, function ...); ...
 * return R.start(0); }` and their line maps are shifted into one map whose runs carry the file index.
 * Errors are diagnostics at file:line:col of the importing file, except in modules only import()/require()
 * reach: such a module that fails to load, link or compile (or imports one that does) is registered as failed,
 * R.f(k, message), and importing it rejects at run time. Nothing outlives the call but *out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle.h"
#include "lower.h"

typedef struct req {
    const ew__node_t *src;   /* string Literal of an import/export source */
    uint32_t mod;
} req_t;

typedef struct spec {        /* runtime table for import(x) and require(x) */
    ew__str_t s;
    uint32_t mod;
} spec_t;

typedef struct mimport {     /* an import binding, to follow re-exports of imports through */
    const ew__atom_t *local;
    uint32_t mod;
    ew__str_t name;
    bool ns;
} mimport_t;

#define VEC(T, name) T *name; uint32_t name##_n, name##_cap

typedef struct mod {
    char *path;
    char *src;
    size_t len;
    uint8_t kind;                  /* EW__MK_* */
    ew__arena_t arena;
    ew__node_t *prog;
    VEC(req_t, reqs);
    VEC(spec_t, specs);
    VEC(mimport_t, imps);
    VEC(ew__modexport_t, own);     /* as written */
    VEC(uint32_t, stars);
    VEC(ew__modexport_t, all);     /* the namespace */
    char *text;
    size_t tlen;
    ew__linemap_t map;
    char prefix[16];
    bool tla;                      /* has top-level await (or for await at top level) */
    bool async;                    /* tla, or imports an async module (statically) */
    bool script;                   /* the entry, compiled as a script (opts.entry_script) */
    bool loaded;                   /* load() finished (parsed, its static requests loaded) */
    bool failed;                   /* reached only by import()/require() and did not parse, link or compile: the
                                    * bundle registers it as failed (R.f), importing it rejects with err */
    ew__diag_t err;                /* failed: the error (owned) */
} mod_t;

typedef struct bundle {
    const ew__bundle_opts_t *in;
    ew__diag_t *diag;
    mod_t *mods;
    uint32_t nmods, cap;
    jmp_buf fail;
} bundle_t;

#define PUSH(b, vec, item)                                                                                         \
    do {                                                                                                           \
        if ((vec##_n) == (vec##_cap))                                                                              \
            (vec) = grow_vec((b), (vec), &(vec##_cap), sizeof *(vec));                                             \
        (vec)[(vec##_n)++] = (item);                                                                               \
    } while (0)

static __attribute__((noreturn)) void oom(bundle_t *b)
{
    ew__diag_set(b->diag, b->in->entry, "", 0, 0, 1, 1, "out of memory");
    longjmp(b->fail, 1);
}

static void *grow_vec(bundle_t *b, void *p, uint32_t *cap, size_t size)
{
    uint32_t c = *cap ? *cap * 2 : 8;
    p = realloc(p, c * size);
    if (!p)
        oom(b);
    *cap = c;
    return p;
}

/* Fails at a node of module m (NULL node: its start). */
static __attribute__((noreturn, format(printf, 4, 5))) void fail_at(bundle_t *b, const mod_t *m,
                                                                    const ew__node_t *n, const char *fmt, ...)
{
    char msg[220];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ew__diag_set(b->diag, m->path, m->src ? m->src : "", m->src ? m->len : 0, n ? n->start : 0,
                 n ? n->line : 1, n ? n->col : 1, msg);
    longjmp(b->fail, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Paths and files
 */

/* dir + "/" + rel with "." and ".." segments folded (dir may be "" or rel absolute). malloc'd. */
static char *path_join(bundle_t *b, const char *dir, const char *rel)
{
    size_t dl = rel[0] == '/' ? 0 : strlen(dir), rl = strlen(rel);
    char *tmp = malloc(dl + rl + 2), *out = malloc(dl + rl + 3);
    char **seg = malloc((dl + rl + 2) * sizeof *seg);
    if (!tmp || !out || !seg)
        oom(b);
    snprintf(tmp, dl + rl + 2, "%.*s%s%s", (int) dl, dir, dl ? "/" : "", rel);
    bool abs = tmp[0] == '/';
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(tmp, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
        if (!strcmp(p, "."))
            continue;
        if (!strcmp(p, "..") && n && strcmp(seg[n - 1], ".."))
            n--;
        else if (!(strcmp(p, "..") == 0 && abs))
            seg[n++] = p;
    }
    size_t o = 0;
    if (abs)
        out[o++] = '/';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(seg[i]);
        if (i)
            out[o++] = '/';
        EW__MEMCPY(out + o, seg[i], l);
        o += l;
    }
    out[o] = 0;
    free(seg);
    free(tmp);
    return out;
}

static char *dir_of(bundle_t *b, const char *path)
{
    const char *s = strrchr(path, '/');
    size_t n = s ? (size_t) (s - path) : 0;
    char *d = malloc(n + 2);
    if (!d)
        oom(b);
    if (s == path)
        n = 1; /* "/x" -> "/" */
    EW__MEMCPY(d, path, n);
    d[n] = 0;
    return d;
}

static char *disk_read(void *ud, const char *path, size_t *len)
{
    (void) ud;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc((size_t) st.st_size + 1);
    if (buf && fread(buf, 1, (size_t) st.st_size, f) != (size_t) st.st_size) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[st.st_size] = 0;
        *len = (size_t) st.st_size;
    }
    return buf;
}

/* Modules the runtime provides: resolved by name, loaded as a CommonJS stand-in whose exports the runtime
 * supplies when the bundle runs (helpers_module.js asks $ew.builtinModule for them by URL). */
static const char *const builtins[] = {"cloudflare:workers"};

static bool is_builtin(const char *path)
{
    for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
        if (!strcmp(path, builtins[i]))
            return true;
    return false;
}

static char *read_file(bundle_t *b, const char *path, size_t *len)
{
    *len = 0;
    if (is_builtin(path)) {
        static const char stand_in[] = "module.exports = {};\n";
        char *s = strdup(stand_in);
        if (s)
            *len = sizeof stand_in - 1;
        return s;
    }
    return b->in->read ? b->in->read(b->in->read_ud, path, len) : disk_read(NULL, path, len);
}

static bool exists(bundle_t *b, const char *path)
{
    size_t n;
    char *s = read_file(b, path, &n);
    free(s);
    return s != NULL;
}

/* A file path, or it with an extension, or its index file: the first that exists (malloc'd), else NULL. */
static char *complete_file(bundle_t *b, const char *base)
{
    static const char *const ext[] = {"", ".js", ".mjs", ".cjs", ".json", "/index.js", "/index.mjs", "/index.cjs"};
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t n = strlen(base) + strlen(ext[i]) + 1;
        char *p = malloc(n);
        if (!p)
            oom(b);
        snprintf(p, n, "%s%s", base, ext[i]);
        if (exists(b, p))
            return p;
        free(p);
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------------------------
 * package.json (read with the compiler's own parser as `(<json>)`) and node_modules
 */

static bool str_is(ew__str_t s, const char *c)
{
    return s.len == strlen(c) && !memcmp(s.s, c, s.len);
}

static const ew__node_t *json_get(const ew__node_t *obj, const char *key)
{
    if (!obj || obj->type != EW__N_ObjectExpression)
        return NULL;
    for (uint32_t i = 0; i < obj->as.object.properties.len; i++) {
        const ew__node_t *p = obj->as.object.properties.items[i];
        const ew__node_t *k = p->as.property.key;
        if (p->type == EW__N_Property && k->type == EW__N_Literal && k->as.literal.kind == EW__LIT_STRING &&
            str_is(k->as.literal.string, key))
            return p->as.property.value;
    }
    return NULL;
}

static const char *const conditions[] = {"workerd", "worker", "browser", "import", "default"};

/* A conditional export target: a string, an object of conditions (our priority order, nested), an array
 * (first that gives a string). */
static const ew__node_t *json_target(const ew__node_t *v, int depth)
{
    if (!v || depth > 16)
        return NULL;
    if (v->type == EW__N_Literal)
        return v->as.literal.kind == EW__LIT_STRING ? v : NULL;
    if (v->type == EW__N_ArrayExpression) {
        for (uint32_t i = 0; i < v->as.array.elements.len; i++) {
            const ew__node_t *t = json_target(v->as.array.elements.items[i], depth + 1);
            if (t)
                return t;
        }
        return NULL;
    }
    for (size_t i = 0; i < sizeof conditions / sizeof *conditions; i++) {
        const ew__node_t *t = json_target(json_get(v, conditions[i]), depth + 1);
        if (t)
            return t;
    }
    return NULL;
}

/* "exports" for subpath ("." or "./x"): exact subpath keys only (no "*" patterns). */
static const ew__node_t *exports_target(const ew__node_t *exp, const char *sub)
{
    if (exp->type == EW__N_ObjectExpression && exp->as.object.properties.len) {
        const ew__node_t *k0 = exp->as.object.properties.items[0]->as.property.key;
        if (k0->type == EW__N_Literal && k0->as.literal.string.len && k0->as.literal.string.s[0] == '.')
            return json_target(json_get(exp, sub), 0);
    }
    return strcmp(sub, ".") ? NULL : json_target(exp, 0);
}

/* The file a package directory gives for subpath ("." or "./x"), or NULL. *found: package.json existed. */
static char *package_entry(bundle_t *b, const char *pkgdir, const char *sub, bool *found)
{
    char *pj = path_join(b, pkgdir, "package.json");
    size_t n;
    char *json = read_file(b, pj, &n);
    free(pj);
    *found = json != NULL;
    char *res = NULL;
    if (json) {
        char *wrapped = malloc(n + 4);
        if (!wrapped)
            oom(b);
        snprintf(wrapped, n + 4, "(%.*s\n)", (int) n, json);
        ew__arena_t arena;
        ew__arena_init(&arena);
        ew__diag_t d;
        ew__diag_init(&d);
        ew__parse_opts_t po = {wrapped, strlen(wrapped), "package.json", false};
        ew__node_t *prog = ew__parse(&arena, &po, &d);
        ew__diag_dispose(&d);
        const ew__node_t *root = prog && prog->as.program.body.len == 1
                                     ? prog->as.program.body.items[0]->as.expr_stmt.expression : NULL;
        const ew__node_t *exp = json_get(root, "exports"), *t = NULL;
        if (exp) {
            t = exports_target(exp, sub);
        } else if (!strcmp(sub, ".")) {
            t = json_get(root, "module");
            if (!t || t->type != EW__N_Literal)
                t = json_get(root, "main");
        }
        if (t && t->type == EW__N_Literal && t->as.literal.kind == EW__LIT_STRING) {
            char *rel = strndup(t->as.literal.string.s, t->as.literal.string.len);
            char *full = rel ? path_join(b, pkgdir, rel) : NULL;
            res = full ? complete_file(b, full) : NULL;
            free(rel);
            free(full);
        }
        ew__arena_dispose(&arena);
        free(wrapped);
        free(json);
        if (exp) /* "exports" is the whole public surface */
            return res;
    }
    if (!res) {
        char *full = path_join(b, pkgdir, sub);
        res = complete_file(b, full);
        free(full);
    }
    return res;
}

/* A bare specifier from node_modules directories, walking up from dir. */
static char *resolve_bare(bundle_t *b, const char *dir, const char *spec)
{
    const char *slash = strchr(spec, '/');
    if (spec[0] == '@' && slash)
        slash = strchr(slash + 1, '/');
    size_t nl = slash ? (size_t) (slash - spec) : strlen(spec);
    char sub[1024];
    snprintf(sub, sizeof sub, ".%s", slash ? slash : "");
    char *d = strdup(dir);
    if (!d)
        oom(b);
    for (;;) {
        char rel[1200];
        snprintf(rel, sizeof rel, "node_modules/%.*s", (int) nl, spec);
        char *pkgdir = path_join(b, d, rel);
        bool found;
        char *res = package_entry(b, pkgdir, sub, &found);
        free(pkgdir);
        if (res || found || !d[0] || !strcmp(d, "/")) {
            free(d);
            return res;
        }
        char *up = path_join(b, d, "..");
        free(d);
        d = up;
        if (!strncmp(d, "..", 2)) { /* a relative start: do not climb above it */
            free(d);
            return NULL;
        }
    }
}

static char *resolve(bundle_t *b, const mod_t *from, ew__str_t spec)
{
    char *s = strndup(spec.s, spec.len);
    if (!s)
        oom(b);
    if (is_builtin(s))
        return s;
    char *dir = dir_of(b, from->path), *res;
    if (s[0] == '/' || !strncmp(s, "./", 2) || !strncmp(s, "../", 3) || !strcmp(s, ".") || !strcmp(s, "..")) {
        char *full = path_join(b, dir, s);
        res = complete_file(b, full);
        free(full);
    } else {
        res = resolve_bare(b, dir, s);
    }
    free(dir);
    free(s);
    return res;
}

/* ---------------------------------------------------------------------------------------------------------
 * Loading: parse, classify, find the requests
 */

static bool has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), n = strlen(suf);
    return a >= n && !strcmp(s + a - n, suf);
}

static bool is_name(const ew__node_t *n, const char *name)
{
    return n && n->type == EW__N_Identifier && !strcmp(n->as.ident.name->s, name);
}

/* Uses of require(...), module.x, exports(.x): a CommonJS file (when it has no import/export). */
static int cjs_visit(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    if ((n->type == EW__N_CallExpression && is_name(n->as.call.callee, "require")) ||
        (n->type == EW__N_MemberExpression && (is_name(n->as.member.object, "module") ||
                                               is_name(n->as.member.object, "exports"))))
        *(bool *) ud = true;
    return *(bool *) ud ? 1 : ew__node_children(*slot, cjs_visit, ud);
}

static bool has_module_syntax(const ew__node_t *prog)
{
    for (uint32_t i = 0; i < prog->as.program.body.len; i++) {
        uint8_t t = prog->as.program.body.items[i]->type;
        if (t == EW__N_ImportDeclaration || t == EW__N_ExportNamedDeclaration ||
            t == EW__N_ExportDefaultDeclaration || t == EW__N_ExportAllDeclaration)
            return true;
    }
    return false;
}

static ew__node_t *parse(bundle_t *b, mod_t *m, bool module, ew__diag_t *d)
{
    ew__arena_dispose(&m->arena);
    ew__arena_init(&m->arena);
    ew__parse_opts_t po = {m->src, m->len, m->path, module};
    return ew__parse(&m->arena, &po, d ? d : b->diag);
}

/* Parses m and decides its kind: .json JSON, .cjs CommonJS, .mjs ES; .js ES unless it has no import/export
 * and uses require/module/exports (or only parses as a script and uses them). */
static void classify(bundle_t *b, mod_t *m)
{
    if (has_suffix(m->path, ".json")) {
        m->kind = EW__MK_JSON;
        return;
    }
    bool cjs = has_suffix(m->path, ".cjs");
    if (b->nmods == 1 && b->in->entry_prog) { /* the entry, parsed by the caller (module syntax found) */
        ew__arena_dispose(&m->arena);
        m->arena = *b->in->entry_arena;
        ew__arena_init(b->in->entry_arena); /* (ours now) */
        m->prog = b->in->entry_prog;
        m->kind = EW__MK_ESM;
        return;
    }
    if (b->nmods == 1 && (b->in->entry_esm || b->in->entry_script)) { /* the entry, its form given */
        m->script = b->in->entry_script;
        m->prog = parse(b, m, !m->script, NULL);
        if (!m->prog)
            longjmp(b->fail, 1);
        m->kind = EW__MK_ESM;
        return;
    }
    if (!cjs) {
        ew__diag_t d;
        ew__diag_init(&d);
        m->prog = parse(b, m, true, &d);
        if (m->prog && (has_suffix(m->path, ".mjs") || has_module_syntax(m->prog) ||
                        (ew__node_children(m->prog, cjs_visit, &cjs), !cjs))) {
            ew__diag_dispose(&d);
            m->kind = EW__MK_ESM;
            return;
        }
        if (!m->prog) { /* not a module: a CommonJS file in sloppy mode? */
            m->prog = parse(b, m, false, NULL);
            bool uses = false;
            if (m->prog)
                ew__node_children(m->prog, cjs_visit, &uses);
            if (!uses) {
                ew__diag_dispose(b->diag);
                *b->diag = d; /* the module's own error */
                longjmp(b->fail, 1);
            }
        }
        ew__diag_dispose(&d);
    }
    m->kind = EW__MK_CJS;
    m->prog = parse(b, m, false, NULL);
    if (!m->prog)
        longjmp(b->fail, 1);
}

static uint32_t load(bundle_t *b, char *path);

/* A static request: resolved or an error at the source literal. */
static uint32_t request(bundle_t *b, uint32_t mi, const ew__node_t *src)
{
    char *path = resolve(b, &b->mods[mi], src->as.literal.string);
    if (!path)
        fail_at(b, &b->mods[mi], src, "Cannot find module '%.*s' imported from %s",
                (int) src->as.literal.string.len, src->as.literal.string.s, b->mods[mi].path);
    uint32_t k = load(b, path);
    PUSH(b, b->mods[mi].reqs, ((req_t){src, k}));
    PUSH(b, b->mods[mi].specs, ((spec_t){src->as.literal.string, k})); /* for import(x) with x not a literal */
    return k;
}

/* import('lit') and require('lit'): into the runtime table when they resolve (else a runtime error). */
typedef struct dyn {
    bundle_t *b;
    uint32_t mi;
} dyn_t;

/* Marks module k failed with the error in b->diag (moved), unless it failed already. */
static void set_failed(bundle_t *b, uint32_t k)
{
    mod_t *m = &b->mods[k];
    if (m->failed)
        return;
    m->failed = true;
    m->err = *b->diag;
    ew__diag_init(b->diag);
}

/* load() of a module reached by import('lit') or require('lit'): a module that fails to load (read, parse, a
 * static dependency that fails) does not fail the bundle, which registers it as failed; importing it rejects
 * at run time. A module also imported statically fails the bundle later (check_static_failures). */
static uint32_t load_dynamic(bundle_t *b, char *path)
{
    for (uint32_t i = 0; i < b->nmods; i++) {
        if (!strcmp(b->mods[i].path, path)) {
            free(path);
            return i;
        }
    }
    uint32_t first = b->nmods;
    jmp_buf saved;
    EW__MEMCPY(saved, b->fail, sizeof saved);
    volatile uint32_t k = first;
    if (!setjmp(b->fail)) {
        k = load(b, path);
    } else {
        if (!strcmp(b->diag->message, "out of memory")) {
            EW__MEMCPY(b->fail, saved, sizeof saved);
            longjmp(b->fail, 1);
        }
        /* every module whose loading the failure cut short has that error */
        bool moved = false;
        for (uint32_t i = first; i < b->nmods; i++) {
            if (b->mods[i].loaded || b->mods[i].failed)
                continue;
            if (moved) {
                b->mods[i].failed = true;
                ew__diag_set(&b->mods[i].err, b->mods[first].err.file, NULL, 0, b->mods[first].err.offset,
                             b->mods[first].err.line, b->mods[first].err.column, b->mods[first].err.message);
            } else {
                set_failed(b, i);
                moved = true;
            }
        }
        ew__diag_dispose(b->diag);
        ew__diag_init(b->diag);
    }
    EW__MEMCPY(b->fail, saved, sizeof saved);
    return k;
}

/* Whether a module's text may hold an import(...) or a require(...) call (dyn_visit looks for them in the whole
 * tree, which costs as much as a lowering pass): import() needs `import` followed by `(` after white space or a
 * comment; require may be spelled with \u escapes. Conservative: any doubt says yes. */
static bool may_load_dynamically(const char *s, size_t len)
{
    if (memmem(s, len, "require", 7) || memmem(s, len, "\\u", 2))
        return true;
    const char *end = s + len;
    for (const char *p = s; (p = memmem(p, (size_t) (end - p), "import", 6)) != NULL; p += 6) {
        const char *q = p + 6;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\v' || *q == '\f'))
            q++;
        if (q < end && (*q == '(' || *q == '/' || (unsigned char) *q >= 0x80)) /* call, comment, Unicode space */
            return true;
    }
    return false;
}

static uint32_t load_dynamic(bundle_t *b, char *path);

static int dyn_visit(ew__node_t **slot, void *ud)
{
    dyn_t *D = ud;
    const ew__node_t *n = *slot, *src = NULL;
    if (n->type == EW__N_ImportExpression)
        src = n->as.import_expr.source;
    else if (n->type == EW__N_CallExpression && is_name(n->as.call.callee, "require") &&
             n->as.call.arguments.len == 1)
        src = n->as.call.arguments.items[0];
    if (src && src->type == EW__N_Literal && src->as.literal.kind == EW__LIT_STRING) {
        char *path = resolve(D->b, &D->b->mods[D->mi], src->as.literal.string);
        if (path) {
            uint32_t k = load_dynamic(D->b, path);
            PUSH(D->b, D->b->mods[D->mi].specs, ((spec_t){src->as.literal.string, k}));
        }
    }
    return ew__node_children(*slot, dyn_visit, ud);
}

static void add_export(bundle_t *b, mod_t *m, ew__str_t name, uint8_t kind, ew__atom_t *local, uint32_t mod,
                       ew__str_t import_name)
{
    PUSH(b, m->own, ((ew__modexport_t){name, kind, local, mod, import_name}));
}

static ew__str_t atom_str(const ew__atom_t *a)
{
    return (ew__str_t){a->s, a->len};
}

static ew__str_t node_name(const ew__node_t *n)
{
    return n->type == EW__N_Identifier ? atom_str(n->as.ident.name) : n->as.literal.string;
}

/* The names a declaration pattern binds, each exported under its own name. */
static void export_pattern(bundle_t *b, mod_t *m, const ew__node_t *p)
{
    static const ew__str_t none = {NULL, 0};
    if (!p)
        return;
    switch (p->type) {
    case EW__N_Identifier:
        add_export(b, m, atom_str(p->as.ident.name), EW__EX_LOCAL, p->as.ident.name, 0, none);
        break;
    case EW__N_ObjectPattern:
        for (uint32_t i = 0; i < p->as.object.properties.len; i++) {
            const ew__node_t *q = p->as.object.properties.items[i];
            export_pattern(b, m, q->type == EW__N_Property ? q->as.property.value : q);
        }
        break;
    case EW__N_ArrayPattern:
        for (uint32_t i = 0; i < p->as.array.elements.len; i++)
            export_pattern(b, m, p->as.array.elements.items[i]);
        break;
    case EW__N_AssignmentPattern: export_pattern(b, m, p->as.assign_pattern.left); break;
    case EW__N_RestElement: export_pattern(b, m, p->as.argument.argument); break;
    default: break;
    }
}

/* The import/export statements of ES module mi (b->mods moves while dependencies load: indices only). */
static void scan_esm(bundle_t *b, uint32_t mi)
{
    static const ew__str_t none = {NULL, 0}, dflt = {"default", 7};
    ew__nodes_t *body = &b->mods[mi].prog->as.program.body;
    for (uint32_t i = 0; i < body->len; i++) {
        ew__node_t *n = body->items[i];
        if (n->type == EW__N_ImportDeclaration) {
            uint32_t k = request(b, mi, n->as.import_decl.source);
            for (uint32_t j = 0; j < n->as.import_decl.specifiers.len; j++) {
                const ew__node_t *s = n->as.import_decl.specifiers.items[j];
                mimport_t im = {s->as.import_spec.local->as.ident.name, k, dflt,
                                s->type == EW__N_ImportNamespaceSpecifier};
                if (s->type == EW__N_ImportSpecifier)
                    im.name = node_name(s->as.import_spec.imported);
                PUSH(b, b->mods[mi].imps, im);
            }
        } else if (n->type == EW__N_ExportNamedDeclaration) {
            const ew__node_t *d = n->as.export_named.declaration;
            if (d && d->type == EW__N_VariableDeclaration)
                for (uint32_t j = 0; j < d->as.var_decl.declarations.len; j++)
                    export_pattern(b, &b->mods[mi], d->as.var_decl.declarations.items[j]->as.declarator.id);
            else if (d)
                export_pattern(b, &b->mods[mi], d->type == EW__N_FunctionDeclaration ? d->as.function.id
                                                                                     : d->as.class_.id);
            uint32_t k = n->as.export_named.source ? request(b, mi, n->as.export_named.source) : 0;
            for (uint32_t j = 0; j < n->as.export_named.specifiers.len; j++) {
                const ew__node_t *s = n->as.export_named.specifiers.items[j];
                if (n->as.export_named.source)
                    add_export(b, &b->mods[mi], node_name(s->as.export_spec.exported), EW__EX_INDIRECT, NULL, k,
                               node_name(s->as.export_spec.local));
                else
                    add_export(b, &b->mods[mi], node_name(s->as.export_spec.exported), EW__EX_LOCAL,
                               s->as.export_spec.local->as.ident.name, 0, none);
            }
        } else if (n->type == EW__N_ExportDefaultDeclaration) {
            const ew__node_t *d = n->as.export_default.declaration;
            const ew__node_t *id = d->type == EW__N_FunctionDeclaration ? d->as.function.id
                                   : d->type == EW__N_ClassDeclaration  ? d->as.class_.id
                                                                        : NULL;
            add_export(b, &b->mods[mi], dflt, EW__EX_LOCAL, id ? id->as.ident.name : NULL, 0, none);
        } else if (n->type == EW__N_ExportAllDeclaration) {
            uint32_t k = request(b, mi, n->as.export_all.source);
            if (n->as.export_all.exported)
                add_export(b, &b->mods[mi], node_name(n->as.export_all.exported), EW__EX_NS, NULL, k, none);
            else
                PUSH(b, b->mods[mi].stars, k);
        }
    }
}

/* Adds the file at path (owned) to the graph unless it is there; returns its index. */
static uint32_t load(bundle_t *b, char *path)
{
    for (uint32_t i = 0; i < b->nmods; i++) {
        if (!strcmp(b->mods[i].path, path)) {
            free(path);
            return i;
        }
    }
    if (b->nmods == b->cap) {
        b->mods = grow_vec(b, b->mods, &b->cap, sizeof *b->mods);
    }
    uint32_t mi = b->nmods++;
    mod_t *m = &b->mods[mi];
    memset(m, 0, sizeof *m);
    m->path = path;
    ew__arena_init(&m->arena);
    m->src = read_file(b, path, &m->len);
    if (!m->src) {
        static const char fmt[] = "Cannot read %s";
        char msg[300];
        snprintf(msg, sizeof msg, fmt, path);
        ew__diag_set(b->diag, path, "", 0, 0, 1, 1, msg);
        longjmp(b->fail, 1);
    }
    classify(b, m);
    if (m->kind == EW__MK_ESM)
        scan_esm(b, mi);
    if (b->mods[mi].kind != EW__MK_JSON && may_load_dynamically(b->mods[mi].src, b->mods[mi].len)) {
        dyn_t D = {b, mi};
        ew__node_children(b->mods[mi].prog, dyn_visit, &D);
    }
    b->mods[mi].loaded = true;
    return mi;
}

/* A failed module that the entry reaches through static imports fails the bundle with its error; a module
 * importing a failed one fails with the same error. */
static void check_static_failures(bundle_t *b)
{
    uint8_t *seen = calloc(b->nmods, 1);
    uint32_t *stack = malloc((b->nmods + 1) * sizeof *stack), sp = 0;
    if (!seen || !stack) {
        free(seen);
        free(stack);
        oom(b);
    }
    seen[0] = 1;
    stack[sp++] = 0;
    while (sp) {
        uint32_t i = stack[--sp];
        if (b->mods[i].failed) {
            free(seen);
            free(stack);
            ew__diag_dispose(b->diag);
            *b->diag = b->mods[i].err;
            ew__diag_init(&b->mods[i].err);
            longjmp(b->fail, 1);
        }
        for (uint32_t j = 0; j < b->mods[i].reqs_n; j++) {
            uint32_t k = b->mods[i].reqs[j].mod;
            if (!seen[k]) {
                seen[k] = 1;
                stack[sp++] = k;
            }
        }
    }
    free(seen);
    free(stack);
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = 0; i < b->nmods; i++) {
            mod_t *m = &b->mods[i];
            for (uint32_t j = 0; !m->failed && j < m->reqs_n; j++) {
                const mod_t *d = &b->mods[m->reqs[j].mod];
                if (d->failed) {
                    m->failed = changed = true;
                    ew__diag_set(&m->err, d->err.file, NULL, 0, d->err.offset, d->err.line, d->err.column,
                                 d->err.message);
                }
            }
        }
    }
}

/* Whether the entry reaches module mi through static imports (its failures fail the bundle). */
static bool statically_reached(bundle_t *b, uint32_t mi)
{
    uint8_t *seen = calloc(b->nmods, 1);
    uint32_t *stack = malloc((b->nmods + 1) * sizeof *stack), sp = 0;
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return true;
    }
    bool found = mi == 0;
    seen[0] = 1;
    stack[sp++] = 0;
    while (sp && !found) {
        const mod_t *m = &b->mods[stack[--sp]];
        for (uint32_t j = 0; j < m->reqs_n && !found; j++) {
            uint32_t k = m->reqs[j].mod;
            found = k == mi;
            if (!seen[k]) {
                seen[k] = 1;
                stack[sp++] = k;
            }
        }
    }
    free(seen);
    free(stack);
    return found;
}

/* ---------------------------------------------------------------------------------------------------------
 * Linking (ResolveExport / GetExportedNames of the specification, on the graph)
 */

typedef struct origin {
    int status;       /* 1 found, 0 not found, -1 ambiguous */
    uint32_t mod;
    uint8_t kind;     /* EW__EX_LOCAL (a binding), EW__EX_NS (a namespace), EW__EX_INDIRECT (a CJS name) */
    ew__str_t name;   /* the binding's name ("" = the default slot) or the CJS property */
} origin_t;

typedef struct visit {
    uint32_t mod;
    ew__str_t name;
} visit_t;

static bool str_eq(ew__str_t a, ew__str_t b)
{
    return a.len == b.len && (!a.len || !memcmp(a.s, b.s, a.len));
}

static origin_t resolve_export(bundle_t *b, uint32_t mi, ew__str_t name, visit_t *seen, uint32_t nseen);

static origin_t resolve_local(bundle_t *b, uint32_t mi, const ew__modexport_t *e, visit_t *seen, uint32_t nseen)
{
    const mod_t *m = &b->mods[mi];
    if (e->kind == EW__EX_INDIRECT)
        return resolve_export(b, e->mod, e->import_name, seen, nseen);
    if (e->kind == EW__EX_NS)
        return (origin_t){1, e->mod, EW__EX_NS, {"", 0}};
    for (uint32_t i = 0; e->local && i < m->imps_n; i++) { /* `import {a} ...; export {a}`: follow it */
        if (!ew__atom_eq(m->imps[i].local, e->local))
            continue;
        if (m->imps[i].ns)
            return (origin_t){1, m->imps[i].mod, EW__EX_NS, {"", 0}};
        return resolve_export(b, m->imps[i].mod, m->imps[i].name, seen, nseen);
    }
    return (origin_t){1, mi, EW__EX_LOCAL, e->local ? atom_str(e->local) : (ew__str_t){"", 0}};
}

static origin_t resolve_export(bundle_t *b, uint32_t mi, ew__str_t name, visit_t *seen, uint32_t nseen)
{
    static const origin_t not_found = {0, 0, 0, {NULL, 0}};
    const mod_t *m = &b->mods[mi];
    if (m->kind == EW__MK_CJS)
        return (origin_t){1, mi, EW__EX_INDIRECT, name};
    if (m->kind == EW__MK_JSON)
        return str_eq(name, (ew__str_t){"default", 7}) ? (origin_t){1, mi, EW__EX_LOCAL, {"", 0}} : not_found;
    for (uint32_t i = 0; i < nseen; i++)
        if (seen[i].mod == mi && str_eq(seen[i].name, name))
            return not_found; /* a circular import request */
    if (nseen >= 256)
        return not_found;
    seen[nseen++] = (visit_t){mi, name};
    for (uint32_t i = 0; i < m->own_n; i++)
        if (str_eq(m->own[i].name, name))
            return resolve_local(b, mi, &m->own[i], seen, nseen);
    if (str_eq(name, (ew__str_t){"default", 7}))
        return not_found;
    origin_t star = not_found;
    for (uint32_t i = 0; i < m->stars_n; i++) {
        origin_t r = resolve_export(b, m->stars[i], name, seen, nseen);
        if (r.status < 0)
            return r;
        if (r.status == 0)
            continue;
        if (star.status == 0)
            star = r;
        else if (star.mod != r.mod || star.kind != r.kind || !str_eq(star.name, r.name))
            return (origin_t){-1, 0, 0, {NULL, 0}};
    }
    return star;
}

static int provides(ew__modctx_t *M, uint32_t k, ew__str_t name)
{
    visit_t seen[256];
    return resolve_export(M->ud, k, name, seen, 0).status;
}

/* Names module mi exports, stars included (unfiltered, may repeat); appended to *out. */
static void exported_names(bundle_t *b, uint32_t mi, uint32_t **visited, uint32_t *nv, uint32_t *cv, ew__str_t **out,
                           uint32_t *n, uint32_t *cap, bool star)
{
    for (uint32_t i = 0; i < *nv; i++)
        if ((*visited)[i] == mi)
            return;
    if (*nv == *cv)
        *visited = grow_vec(b, *visited, cv, sizeof **visited);
    (*visited)[(*nv)++] = mi;
    const mod_t *m = &b->mods[mi];
    for (uint32_t i = 0; i < m->own_n; i++) {
        if (star && str_eq(m->own[i].name, (ew__str_t){"default", 7}))
            continue;
        if (*n == *cap)
            *out = grow_vec(b, *out, cap, sizeof **out);
        (*out)[(*n)++] = m->own[i].name;
    }
    for (uint32_t i = 0; i < m->stars_n; i++)
        exported_names(b, m->stars[i], visited, nv, cv, out, n, cap, true);
}

static bool has_name(const ew__modexport_t *v, uint32_t n, ew__str_t name)
{
    for (uint32_t i = 0; i < n; i++)
        if (str_eq(v[i].name, name))
            return true;
    return false;
}

/* m->all: own entries, then each name a star brings that resolves unambiguously, read from that star. */
static void link_module(bundle_t *b, uint32_t mi)
{
    mod_t *m = &b->mods[mi];
    for (uint32_t i = 0; i < m->own_n; i++)
        PUSH(b, m->all, m->own[i]);
    for (uint32_t s = 0; s < m->stars_n; s++) {
        uint32_t *visited = NULL, nv = 0, cv = 0, n = 0, cap = 0;
        ew__str_t *names = NULL;
        exported_names(b, m->stars[s], &visited, &nv, &cv, &names, &n, &cap, true);
        for (uint32_t i = 0; i < n; i++) {
            visit_t seen[256];
            if (has_name(m->all, m->all_n, names[i]) || resolve_export(b, mi, names[i], seen, 0).status != 1)
                continue;
            seen[0].mod = 0;
            if (resolve_export(b, m->stars[s], names[i], seen, 0).status != 1)
                continue; /* another star gives it */
            PUSH(b, m->all, ((ew__modexport_t){names[i], EW__EX_INDIRECT, NULL, m->stars[s], names[i]}));
        }
        free(visited);
        free(names);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Compiling each module
 */

static uint32_t ctx_request(ew__modctx_t *M, const ew__node_t *src)
{
    const mod_t *m = &((bundle_t *) M->ud)->mods[M->index];
    for (uint32_t i = 0; i < m->reqs_n; i++)
        if (m->reqs[i].src == src)
            return m->reqs[i].mod;
    return M->index; /* not reached: every static source was resolved while loading */
}

static uint8_t ctx_kind(ew__modctx_t *M, uint32_t k)
{
    return ((bundle_t *) M->ud)->mods[k].kind;
}

static bool ctx_is_async(ew__modctx_t *M, uint32_t k)
{
    return ((bundle_t *) M->ud)->mods[k].async;
}

/* An await evaluated by the module body itself (not inside a function). */
static int tla_visit(ew__node_t **slot, void *ud)
{
    const ew__node_t *n = *slot;
    if (n->type == EW__N_AwaitExpression || (n->type == EW__N_ForOfStatement && n->as.for_in.await))
        *(bool *) ud = true;
    if (*(bool *) ud || ew__is_function(n))
        return 0;
    return ew__node_children(*slot, tla_visit, ud);
}

/* Async evaluation spreads from modules with top-level await to everything that imports them. */
static void mark_async(bundle_t *b)
{
    for (uint32_t i = 0; i < b->nmods; i++)
        if (b->mods[i].kind == EW__MK_ESM && !b->mods[i].failed)
            ew__node_children(b->mods[i].prog, tla_visit, &b->mods[i].tla);
    for (uint32_t i = 0; i < b->nmods; i++)
        b->mods[i].async = b->mods[i].tla;
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t i = 0; i < b->nmods; i++) {
            mod_t *m = &b->mods[i];
            for (uint32_t j = 0; m->kind == EW__MK_ESM && !m->async && j < m->reqs_n; j++)
                if (b->mods[m->reqs[j].mod].async)
                    m->async = changed = true;
        }
    }
}

/* `function (<helpers>, R) {body}` for an ES module, `function (<helpers>, module, exports, require) {body}`
 * for CommonJS. */
static ew__node_t *wrap_module(ew__lower_t *L, bool esm)
{
    ew__node_t *prog = L->program;
    ew__node_t *fn = ew__b_node(L, EW__N_FunctionExpression, NULL);
    ew__node_t *h = ew__b_ident(L, L->helpers, NULL);
    fn->as.function.params = esm ? ew__b_list(L, 2, h, ew__b_ident(L, L->mod->registry, NULL))
                                 : ew__b_list(L, 4, h, ew__b_ident_str(L, "module", NULL),
                                              ew__b_ident_str(L, "exports", NULL), ew__b_ident_str(L, "require", NULL));
    fn->as.function.body = ew__b_block(L, prog->as.program.body, NULL);
    fn->flags = prog->flags & EW__NF_STRICT;
    return fn;
}

static bool lower_and_emit(ew__lower_t *L, mod_t *m, uint32_t mi)
{
    if (setjmp(L->fail))
        return false;
    ew__lower_run(L);
    ew__node_t *fn = wrap_module(L, m->kind == EW__MK_ESM);
    ew__emit_opts_t eo;
    ew__emit_opts_init(&eo);
    eo.duktape = true;
    eo.file = m->path;
    eo.file_index = mi;
    ew__emit_out_t out;
    if (!ew__emit(fn, &eo, &out, L->diag))
        return false;
    m->text = out.text;
    m->tlen = out.len;
    m->map = out.map;
    EW__MEMCPY(m->prefix, L->prefix, L->prefix_len + 1);
    return true;
}

/* Whether module mi is reachable from its own static requests (its dependencies may call back into it while
 * its prologue evaluates them). */
static bool in_cycle(bundle_t *b, uint32_t mi)
{
    uint8_t *seen = calloc(b->nmods, 1);
    uint32_t *stack = malloc((b->nmods + 1) * sizeof *stack), sp = 0;
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return true; /* (conservative) */
    }
    bool found = false;
    stack[sp++] = mi;
    while (sp && !found) {
        const mod_t *m = &b->mods[stack[--sp]];
        for (uint32_t j = 0; j < m->reqs_n && !found; j++) {
            uint32_t k = m->reqs[j].mod;
            found = k == mi;
            if (!seen[k]) {
                seen[k] = 1;
                stack[sp++] = k;
            }
        }
    }
    free(seen);
    free(stack);
    return found;
}

static void compile_module(bundle_t *b, uint32_t mi)
{
    mod_t *m = &b->mods[mi];
    ew__modctx_t M = {mi, m->all, m->all_n, ctx_request, provides, ctx_kind, ctx_is_async, in_cycle(b, mi), b, NULL};
    ew__lower_t *L = calloc(1, sizeof *L);
    if (!L)
        oom(b);
    L->arena = &m->arena;
    L->src = m->src;
    L->len = m->len;
    L->file = m->path;
    L->diag = b->diag;
    L->program = m->prog;
    L->module = m->kind == EW__MK_ESM && !m->script;
    L->global_script = m->script;
    L->mod = m->kind == EW__MK_ESM ? &M : NULL;
    bool ok = lower_and_emit(L, m, mi);
    free(L);
    if (ok)
        return;
    if (strcmp(b->diag->message, "out of memory") && !statically_reached(b, mi)) {
        set_failed(b, mi); /* a link or compile error of a module only import() reaches: it rejects */
        return;
    }
    longjmp(b->fail, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * The program text and its line map
 */

typedef struct sb {
    bundle_t *b;
    char *s;
    size_t len, cap;
    uint32_t line;            /* current generated line, 1-based */
    ew__linemap_run_t *runs;
    uint32_t nruns, cap_runs;
} sb_t;

static void put(sb_t *o, const char *s, size_t n)
{
    if (o->len + n + 1 > o->cap) {
        size_t c = o->cap ? o->cap : 4096;
        while (c < o->len + n + 1)
            c *= 2;
        char *p = realloc(o->s, c);
        if (!p)
            oom(o->b);
        o->s = p;
        o->cap = c;
    }
    EW__MEMCPY(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = 0;
    for (const char *p = s, *end = s + n; (p = memchr(p, '\n', (size_t) (end - p))) != NULL; p++)
        o->line++;
}

static void puts_(sb_t *o, const char *s)
{
    put(o, s, strlen(s));
}

static void run_at(sb_t *o, uint32_t gen, uint32_t orig, uint32_t file)
{
    if (o->nruns && o->runs[o->nruns - 1].gen_line == gen)
        o->nruns--; /* the later run wins a shared line (a module starts on its wrapper's line) */
    if (o->nruns == o->cap_runs)
        o->runs = grow_vec(o->b, o->runs, &o->cap_runs, sizeof *o->runs);
    o->runs[o->nruns++] = (ew__linemap_run_t){gen, orig, file};
}

/* A JavaScript string literal (JSON-compatible; U+2028/2029 escaped for ES5). */
static void put_string(sb_t *o, const char *s, size_t n)
{
    puts_(o, "\"");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char) c, esc[2] = 0;
            puts_(o, esc);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            puts_(o, esc);
        } else if (c == 0xE2 && i + 2 < n && (unsigned char) s[i + 1] == 0x80 &&
                   ((unsigned char) s[i + 2] & 0xFE) == 0xA8) {
            puts_(o, (unsigned char) s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
            i += 2;
        } else {
            put(o, (const char *) &s[i], 1);
        }
    }
    puts_(o, "\"");
}

/* modules(urls, specifier tables) */
static void put_registry(sb_t *o, const char *P)
{
    bundle_t *b = o->b;
    puts_(o, "var ");
    puts_(o, P);
    puts_(o, "R = ");
    puts_(o, P);
    puts_(o, ".modules([");
    for (uint32_t i = 0; i < b->nmods; i++) {
        const char *p = b->mods[i].path;
        size_t n = strlen(p) + 16;
        char *url = malloc(n);
        if (!url)
            oom(b);
        if (is_builtin(p))
            snprintf(url, n, "%s", p);
        else
            snprintf(url, n, "file://%s%s", p[0] == '/' ? "" : "/", p);
        if (i)
            puts_(o, ", ");
        put_string(o, url, strlen(url));
        free(url);
    }
    puts_(o, "], [");
    for (uint32_t i = 0; i < b->nmods; i++) {
        puts_(o, i ? ", {" : "{");
        for (uint32_t j = 0; j < b->mods[i].specs_n; j++) {
            char num[24];
            if (j)
                puts_(o, ", ");
            put_string(o, b->mods[i].specs[j].s.s, b->mods[i].specs[j].s.len);
            snprintf(num, sizeof num, ": %u", b->mods[i].specs[j].mod);
            puts_(o, num);
        }
        puts_(o, "}");
    }
    puts_(o, "]);");
}

static void put_module(sb_t *o, const char *P, uint32_t mi)
{
    const mod_t *m = &o->b->mods[mi];
    char head[64];
    if (m->failed) { /* R.f(k, message): running or importing it throws a SyntaxError */
        char msg[400];
        int n = snprintf(msg, sizeof msg, "%s:%u:%u: %s", m->err.file ? m->err.file : m->path, m->err.line,
                         m->err.column, m->err.message);
        snprintf(head, sizeof head, "\n%sR.f(%u, ", P, mi);
        puts_(o, head);
        put_string(o, msg, n > 0 && (size_t) n < sizeof msg ? (size_t) n : strlen(msg));
        puts_(o, ");");
        return;
    }
    snprintf(head, sizeof head, "\n%sR.%c(%u, ", P,
             m->script ? 's' : m->kind == EW__MK_ESM ? 'd' : m->kind == EW__MK_CJS ? 'c' : 'j', mi);
    puts_(o, head);
    uint32_t g = o->line;
    if (m->kind == EW__MK_JSON) {
        run_at(o, g, 1, mi);
        put_string(o, m->src, m->len);
    } else {
        for (uint32_t i = 0; i < m->map.count; i++)
            run_at(o, m->map.runs[i].gen_line + g - 1, m->map.runs[i].orig_line, m->map.runs[i].file);
        put(o, m->text, m->tlen);
    }
    puts_(o, ");");
}

static void assemble(bundle_t *b, ew__compile_out_t *out)
{
    const char *P = "$ew";
    for (uint32_t i = 0; i < b->nmods; i++)
        if (strlen(b->mods[i].prefix) > strlen(P))
            P = b->mods[i].prefix;
    sb_t o = {b, NULL, 0, 0, 1, NULL, 0, 0};
    run_at(&o, 1, 0, 0);
    puts_(&o, "function (");
    puts_(&o, P);
    puts_(&o, ") {");
    put_registry(&o, P);
    for (uint32_t i = 0; i < b->nmods; i++)
        put_module(&o, P, i);
    puts_(&o, "\n");
    run_at(&o, o.line, 0, 0);
    if (!b->mods[0].script) /* a module entry gives its namespace */
        puts_(&o, "return ");
    puts_(&o, P);
    puts_(&o, "R.start(0);\n}");
    out->text = o.s;
    out->len = o.len;
    out->map.runs = o.runs;
    out->map.count = o.nruns;
    out->map.gen_lines = o.line;
}

/* ---------------------------------------------------------------------------------------------------------
 * Entry
 */

static bool file_table(ew__compile_out_t *out, bundle_t *b, const char *only)
{
    uint32_t n = only ? 1 : b->nmods;
    out->files = calloc(n, sizeof *out->files);
    if (!out->files)
        return false;
    out->nfiles = n;
    for (uint32_t i = 0; i < n; i++)
        if (!(out->files[i] = strdup(only ? only : b->mods[i].path)))
            return false;
    return true;
}

static bool compile_script(const ew__bundle_opts_t *in, ew__compile_out_t *out, ew__diag_t *diag)
{
    bundle_t b;
    memset(&b, 0, sizeof b);
    b.in = in;
    b.diag = diag;
    size_t len;
    char *src = read_file(&b, in->entry, &len);
    if (!src) {
        ew__diag_set(diag, in->entry, "", 0, 0, 1, 1, "Cannot read the entry file");
        return false;
    }
    ew__compile_opts_t co = {src, len, in->entry, false};
    bool ok = ew__compile(&co, out, diag);
    free(src);
    if (ok && !file_table(out, &b, in->entry)) {
        ew__compile_out_dispose(out);
        ew__diag_set(diag, in->entry, "", 0, 0, 1, 1, "out of memory");
        return false;
    }
    return ok;
}

static void free_bundle(bundle_t *b)
{
    for (uint32_t i = 0; i < b->nmods; i++) {
        mod_t *m = &b->mods[i];
        free(m->path);
        free(m->src);
        ew__arena_dispose(&m->arena);
        free(m->reqs);
        free(m->specs);
        free(m->imps);
        free(m->own);
        free(m->stars);
        free(m->all);
        free(m->text);
        ew__linemap_dispose(&m->map);
        ew__diag_dispose(&m->err);
    }
    free(b->mods);
}

bool ew__compile_bundle(const ew__bundle_opts_t *in, ew__compile_out_t *out, ew__diag_t *diag)
{
    memset(out, 0, sizeof *out);
    if (!in->module)
        return compile_script(in, out, diag);
    bundle_t b;
    memset(&b, 0, sizeof b);
    b.in = in;
    b.diag = diag;
    bool ok = false;
    if (!setjmp(b.fail)) {
        char *entry = strdup(in->entry);
        if (!entry)
            oom(&b);
        load(&b, entry);
        check_static_failures(&b);
        for (uint32_t i = 0; i < b.nmods; i++)
            if (b.mods[i].kind == EW__MK_ESM && !b.mods[i].failed)
                link_module(&b, i);
        mark_async(&b);
        for (uint32_t i = 0; i < b.nmods; i++)
            if (b.mods[i].kind != EW__MK_JSON && !b.mods[i].failed)
                compile_module(&b, i);
        assemble(&b, out);
        if (!file_table(out, &b, NULL))
            oom(&b);
        ok = true;
    } else {
        ew__compile_out_dispose(out);
        /* diag->file pointed at a path this call owns */
        if (diag->file)
            diag->file = b.nmods && !strcmp(diag->file, b.mods[0].path) ? in->entry : NULL;
    }
    free_bundle(&b);
    return ok;
}
