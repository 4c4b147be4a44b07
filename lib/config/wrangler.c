/*
 * wrangler.c — a Worker project's configuration (wrangler.json / .jsonc / .toml, read into a tree by toml.c
 * and jsonc.c) turned into an ew__wrangler_t (wrangler.h), the way `wrangler dev` reads it: which file a
 * folder uses, [env.NAME] inheritance, vars as strings or JSON, storage bindings, cron triggers, limits,
 * .dev.vars secrets. ew-server (server/project.c) is the caller; docs/configuration.md is the user's view.
 *
 * Every key of the file falls in one of three groups (the key tables below):
 *   honoured      read into the struct, with its type checked ("FILE:LINE:COL: 'vars.X' must be ...");
 *   unsupported   a valid wrangler key whose feature ew-server lacks (durable_objects, services, ...): its
 *                 shape is still checked, then it is reported as "not supported yet, ignored";
 *   deploy-only   meaningful to `wrangler deploy` only (account_id, workers_dev, ...): accepted silently.
 * Anything else is an unknown key, reported by name and position. Errors stop the load; warnings are
 * collected in wr->warnings for the caller to print.
 *
 * Memory: all of the result lives in one arena (wr->pool, an ew__cfg_doc_t used only for its allocator), so
 * error paths need no cleanup beyond ew__wrangler_destroy; the crons' own copies are disposed there too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wrangler.h"

#define PATH_LEN 256 /* config paths in messages ("env.staging.kv_namespaces[3].binding") */

/* ---------------------------------------------------------------------------------------------------------
 * Key tables
 */

typedef enum key_kind { KEY_HONOURED, KEY_UNSUPPORTED, KEY_DEPLOY_ONLY } key_kind_t;

typedef struct key_spec {
    const char *name;
    key_kind_t kind;
    bool inheritable; /* an [env.NAME] without the key takes the top level's (wrangler's "inheritable") */
    bool top_only;    /* only read at the top level; inside [env.NAME] it is reported and ignored */
} key_spec_t;

/* wrangler's top-level keys (its config schema, v3/v4). Non-inheritable keys are the bindings. */
static const key_spec_t top_keys[] = {
    {"name", KEY_HONOURED, true, false},
    {"main", KEY_HONOURED, true, false},
    {"compatibility_date", KEY_HONOURED, true, false},
    {"compatibility_flags", KEY_HONOURED, true, false},
    {"vars", KEY_HONOURED, false, false},
    {"kv_namespaces", KEY_HONOURED, false, false},
    {"d1_databases", KEY_HONOURED, false, false},
    {"r2_buckets", KEY_HONOURED, false, false},
    {"triggers", KEY_HONOURED, true, false},
    {"limits", KEY_HONOURED, true, false},
    {"dev", KEY_HONOURED, false, true},
    {"env", KEY_HONOURED, false, true},
    {"durable_objects", KEY_HONOURED, false, false},
    {"migrations", KEY_HONOURED, true, false},
    {"services", KEY_HONOURED, false, false},
    {"queues", KEY_HONOURED, false, false},
    {"assets", KEY_HONOURED, true, false},
    {"routes", KEY_HONOURED, true, false},
    {"route", KEY_HONOURED, true, false},
    {"site", KEY_UNSUPPORTED, true, false},
    {"build", KEY_UNSUPPORTED, true, false},
    {"rules", KEY_UNSUPPORTED, true, false},
    {"alias", KEY_UNSUPPORTED, true, false},
    {"define", KEY_UNSUPPORTED, false, false},
    {"node_compat", KEY_UNSUPPORTED, true, false},
    {"no_bundle", KEY_UNSUPPORTED, true, false},
    {"find_additional_modules", KEY_UNSUPPORTED, true, false},
    {"base_dir", KEY_UNSUPPORTED, true, false},
    {"preserve_file_names", KEY_UNSUPPORTED, true, false},
    {"tsconfig", KEY_UNSUPPORTED, true, false},
    {"jsx_factory", KEY_UNSUPPORTED, true, false},
    {"jsx_fragment", KEY_UNSUPPORTED, true, false},
    {"wasm_modules", KEY_UNSUPPORTED, false, false},
    {"text_blobs", KEY_UNSUPPORTED, false, false},
    {"data_blobs", KEY_UNSUPPORTED, false, false},
    {"analytics_engine_datasets", KEY_UNSUPPORTED, false, false},
    {"vectorize", KEY_UNSUPPORTED, false, false},
    {"hyperdrive", KEY_UNSUPPORTED, false, false},
    {"ai", KEY_UNSUPPORTED, false, false},
    {"browser", KEY_UNSUPPORTED, false, false},
    {"images", KEY_UNSUPPORTED, false, false},
    {"mtls_certificates", KEY_UNSUPPORTED, false, false},
    {"send_email", KEY_UNSUPPORTED, false, false},
    {"workflows", KEY_UNSUPPORTED, false, false},
    {"pipelines", KEY_UNSUPPORTED, false, false},
    {"ratelimits", KEY_HONOURED, false, false},
    {"secrets_store_secrets", KEY_UNSUPPORTED, false, false},
    {"dispatch_namespaces", KEY_UNSUPPORTED, false, false},
    {"version_metadata", KEY_UNSUPPORTED, false, false},
    {"containers", KEY_UNSUPPORTED, false, false},
    {"unsafe", KEY_UNSUPPORTED, false, false},
    {"$schema", KEY_DEPLOY_ONLY, false, true},
    {"account_id", KEY_DEPLOY_ONLY, true, false},
    {"workers_dev", KEY_DEPLOY_ONLY, true, false},
    {"preview_urls", KEY_DEPLOY_ONLY, true, false},
    {"zone_id", KEY_DEPLOY_ONLY, true, false},
    {"usage_model", KEY_DEPLOY_ONLY, true, false},
    {"logpush", KEY_DEPLOY_ONLY, true, false},
    {"logfwdr", KEY_DEPLOY_ONLY, true, false},
    {"observability", KEY_DEPLOY_ONLY, true, false},
    {"placement", KEY_DEPLOY_ONLY, true, false},
    {"upload_source_maps", KEY_DEPLOY_ONLY, true, false},
    {"minify", KEY_DEPLOY_ONLY, true, false},
    {"keep_names", KEY_DEPLOY_ONLY, true, false},
    {"first_party_worker", KEY_DEPLOY_ONLY, true, false},
    {"tail_consumers", KEY_DEPLOY_ONLY, false, false},
    {"streaming_tail_consumers", KEY_DEPLOY_ONLY, false, false},
    {"send_metrics", KEY_DEPLOY_ONLY, false, true},
    {"keep_vars", KEY_DEPLOY_ONLY, false, true},
    {"legacy_env", KEY_DEPLOY_ONLY, false, true},
    {"pages_build_output_dir", KEY_DEPLOY_ONLY, false, true},
};

static const key_spec_t *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
        if (strcmp(top_keys[i].name, name) == 0)
            return &top_keys[i];
    return NULL;
}

/* The fields of a table inside a section (a kv_namespaces entry, [limits], ...): name, type, required.
 * Types: 's' string, 'i' integer >= 0, 'b' boolean, 'S' array of strings, '*' anything (checked elsewhere
 * or not at all). A field the table does not list is an unknown key. */
typedef struct field {
    const char *name;
    char type;
    bool required;
} field_t;

/* ---------------------------------------------------------------------------------------------------------
 * Context, warnings, errors
 */

typedef struct ctx {
    ew__wrangler_t *wr;
    const ew__cfg_doc_t *doc;
    ew_error_t *err;
    const char *dir;                /* the project folder main and migrations_dir are resolved against */
    const ew__cfg_value_t *root;
    const ew__cfg_value_t *envt;    /* [env.NAME], NULL when no environment is selected or it is absent */
    bool env_selected;
    bool json;                      /* a JSON file: say "object" where TOML says "table" */
    bool oom;                       /* a warning could not be stored */
    size_t warn_cap, vars_cap;
    const char **claimed;           /* binding names taken so far, and the path that took each */
    const char **claimed_by;
    size_t nclaimed, claimed_cap;
} ctx_t;

/* Formats a config path for messages into out[PATH_LEN] (a long one is cut short, which is harmless). */
static void pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
}

static bool grow(ew__cfg_doc_t *pool, void **items, size_t len, size_t *cap, size_t size)
{
    if (len < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *n = ew__cfg_alloc(pool, ncap * size);
    if (n == NULL)
        return false;
    if (len)
        memcpy(n, *items, len * size);
    *items = n;
    *cap = ncap;
    return true;
}

static void add_warning(ew__wrangler_t *wr, size_t *cap, bool *oom, const char *message)
{
    char *copy = ew__cfg_strdup(wr->pool, message, strlen(message));
    if (copy == NULL || !grow(wr->pool, (void **) &wr->warnings, wr->nwarnings, cap, sizeof(char *))) {
        *oom = true;
        return;
    }
    wr->warnings[wr->nwarnings++] = copy;
}

/* Records "FILE:LINE:COL: <fmt>" as a warning (line 0: "FILE: <fmt>"). */
static void warn(ctx_t *x, uint32_t line, uint32_t col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void warn(ctx_t *x, uint32_t line, uint32_t col, const char *fmt, ...)
{
    ew_error_t e;
    va_list ap;
    va_start(ap, fmt);
    ew__cfg_verror(&e, EW_OK, x->doc->file, line, col, fmt, ap);
    va_end(ap);
    add_warning(x->wr, &x->warn_cap, &x->oom, e.message);
}

static const char *type_word(const ctx_t *x, ew__cfg_type_t t)
{
    if (t == EW__CFG_TABLE && x->json)
        return "object";
    return ew__cfg_type_name(t);
}

static ew_status_t type_error(ctx_t *x, const ew__cfg_value_t *v, const char *path, const char *want)
{
    return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, v, "'%s' must be %s, not %s", path, want,
                         type_word(x, v->type));
}

static const char *a_table(const ctx_t *x)
{
    return x->json ? "an object" : "a table";
}

static char *pool_dup(ctx_t *x, const char *s)
{
    char *d = ew__cfg_strdup(x->wr->pool, s, strlen(s));
    if (d == NULL)
        x->oom = true;
    return d;
}

/* ---------------------------------------------------------------------------------------------------------
 * Checking the shape of tables
 */

static ew_status_t check_field(ctx_t *x, const field_t *f, const ew__cfg_value_t *v, const char *path)
{
    switch (f->type) {
    case 's':
        return v->type == EW__CFG_STRING ? EW_OK : type_error(x, v, path, "a string");
    case 'b':
        return v->type == EW__CFG_BOOL ? EW_OK : type_error(x, v, path, "a boolean");
    case 'i':
        if (v->type != EW__CFG_INTEGER)
            return type_error(x, v, path, "an integer");
        if (v->u.integer < 0)
            return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, v, "'%s' must not be negative", path);
        return EW_OK;
    case 'S':
        if (v->type != EW__CFG_ARRAY)
            return type_error(x, v, path, "an array of strings");
        for (size_t i = 0; i < ew__cfg_len(v); i++) {
            const ew__cfg_value_t *e = ew__cfg_at(v, i);
            if (e->type != EW__CFG_STRING) {
                char p[PATH_LEN];
                pathf(p, "%s[%zu]", path, i);
                return type_error(x, e, p, "a string");
            }
        }
        return EW_OK;
    default:
        return EW_OK;
    }
}

/* Checks table `t` (at `path`) against `fields`: types, required fields, and unknown keys (warned). */
static ew_status_t check_fields(ctx_t *x, const ew__cfg_value_t *t, const char *path, const field_t *fields)
{
    char p[PATH_LEN];
    if (t->type != EW__CFG_TABLE)
        return type_error(x, t, path, a_table(x));
    for (const field_t *f = fields; f->name != NULL; f++) {
        const ew__cfg_value_t *v = ew__cfg_get(t, f->name);
        pathf(p, "%s.%s", path, f->name);
        if (v == NULL && f->required)
            return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, t, "'%s' is required", p);
        ew_status_t st = v ? check_field(x, f, v, p) : EW_OK;
        if (st != EW_OK)
            return st;
    }
    for (size_t i = 0; i < ew__cfg_len(t); i++) {
        const ew__cfg_member_t *m = ew__cfg_member_at(t, i);
        const field_t *f = fields;
        while (f->name != NULL && strcmp(f->name, m->key) != 0)
            f++;
        if (f->name == NULL)
            warn(x, m->line, m->col, "unknown key '%s.%s' (ignored)", path, m->key);
    }
    return EW_OK;
}

typedef ew_status_t (*entry_fn)(ctx_t *x, const ew__cfg_value_t *t, const char *path);

/* Checks that `v` is an array and calls fn on each element as "path[i]" (elements must be tables unless
 * `any_element`). */
static ew_status_t each_entry(ctx_t *x, const ew__cfg_value_t *v, const char *path, entry_fn fn, bool any_element)
{
    if (v->type != EW__CFG_ARRAY)
        return type_error(x, v, path, x->json ? "an array of objects" : "an array of tables");
    for (size_t i = 0; i < ew__cfg_len(v); i++) {
        const ew__cfg_value_t *e = ew__cfg_at(v, i);
        char p[PATH_LEN];
        pathf(p, "%s[%zu]", path, i);
        if (!any_element && e->type != EW__CFG_TABLE)
            return type_error(x, e, p, a_table(x));
        ew_status_t st = fn(x, e, p);
        if (st != EW_OK)
            return st;
    }
    return EW_OK;
}

static const char *get_str(const ew__cfg_value_t *t, const char *key)
{
    const ew__cfg_value_t *v = ew__cfg_get(t, key);
    return v && v->type == EW__CFG_STRING ? v->u.string.ptr : NULL;
}

/* get_str, copied into the result's arena (the document may be freed once the load returns). */
static const char *take_str(ctx_t *x, const ew__cfg_value_t *t, const char *key)
{
    const char *s = get_str(t, key);
    return s ? pool_dup(x, s) : NULL;
}

/* Binding names share env: one name, one binding. Errors at the second use. */
static ew_status_t claim_binding(ctx_t *x, const char *name, const ew__cfg_value_t *at, const char *path)
{
    for (size_t i = 0; i < x->nclaimed; i++)
        if (strcmp(x->claimed[i], name) == 0)
            return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, at,
                                 "'%s': the binding name \"%s\" is already used by '%s'", path, name, x->claimed_by[i]);
    size_t cap = x->claimed_cap;
    ew__cfg_doc_t *pool = x->wr->pool;
    if (!grow(pool, (void **) &x->claimed, x->nclaimed, &cap, sizeof(char *)) ||
        !grow(pool, (void **) &x->claimed_by, x->nclaimed, &x->claimed_cap, sizeof(char *)))
        return EW_ERR_NOMEM;
    x->claimed[x->nclaimed] = name;
    x->claimed_by[x->nclaimed++] = pool_dup(x, path);
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

/* A storage name as ew_resource_t accepts it: [A-Za-z0-9._-]+, at most 200 bytes. */
static ew_status_t check_storage_name(ctx_t *x, const ew__cfg_value_t *t, const char *key, const char *path)
{
    const ew__cfg_value_t *v = ew__cfg_get(t, key);
    if (v == NULL)
        return EW_OK;
    size_t n = v->u.string.len;
    bool ok = n > 0 && n <= 200;
    for (size_t i = 0; ok && i < n; i++) {
        char c = v->u.string.ptr[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
             c == '-';
    }
    if (ok)
        return EW_OK;
    return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, v,
                         "'%s.%s' must be 1 to 200 of the characters A-Z a-z 0-9 . _ - (it names local storage)",
                         path, key);
}

/* ---------------------------------------------------------------------------------------------------------
 * JSON text of a var value (numbers, booleans, arrays and tables become is_json vars)
 */

typedef struct jbuf {
    char *p;
    size_t len, cap;
    bool oom;
} jbuf_t;

static void jput(jbuf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void jstring(jbuf_t *b, const char *s, size_t n)
{
    jput(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char) c;
            jput(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            jput(b, esc, 6);
        } else {
            jput(b, (const char *) &s[i], 1);
        }
    }
    jput(b, "\"", 1);
}

/* Appends v as JSON. Floats use the shortest text that reads back the same; inf and nan have no JSON form. */
static ew_status_t jvalue(ctx_t *x, jbuf_t *b, const ew__cfg_value_t *v, const char *path)
{
    char num[40];
    switch (v->type) {
    case EW__CFG_STRING: jstring(b, v->u.string.ptr, v->u.string.len); return EW_OK;
    case EW__CFG_DATETIME:
    case EW__CFG_DATETIME_LOCAL:
    case EW__CFG_DATE_LOCAL:
    case EW__CFG_TIME_LOCAL: /* JSON has no dates: the text as written, as JSON.stringify(Date) gives text */
        jstring(b, v->u.datetime.text, strlen(v->u.datetime.text));
        return EW_OK;
    case EW__CFG_INTEGER:
        jput(b, num, (size_t) snprintf(num, sizeof(num), "%lld", (long long) v->u.integer));
        return EW_OK;
    case EW__CFG_BOOL: jput(b, v->u.boolean ? "true" : "false", v->u.boolean ? 4 : 5); return EW_OK;
    case EW__CFG_NULL: jput(b, "null", 4); return EW_OK;
    case EW__CFG_FLOAT:
        if (v->u.number != v->u.number || v->u.number - v->u.number != 0)
            return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, v, "'%s': inf and nan have no JSON form", path);
        int n = snprintf(num, sizeof(num), "%.15g", v->u.number);
        if (strtod(num, NULL) != v->u.number)
            n = snprintf(num, sizeof(num), "%.17g", v->u.number);
        jput(b, num, (size_t) n);
        return EW_OK;
    case EW__CFG_ARRAY:
    case EW__CFG_TABLE: break;
    }
    bool table = v->type == EW__CFG_TABLE;
    jput(b, table ? "{" : "[", 1);
    for (size_t i = 0; i < ew__cfg_len(v); i++) {
        if (i)
            jput(b, ",", 1);
        if (table) {
            const ew__cfg_member_t *m = ew__cfg_member_at(v, i);
            jstring(b, m->key, m->key_len);
            jput(b, ":", 1);
        }
        ew_status_t st = jvalue(x, b, table ? ew__cfg_member_at(v, i)->value : ew__cfg_at(v, i), path);
        if (st != EW_OK)
            return st;
    }
    jput(b, table ? "}" : "]", 1);
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Picking a key's value under environment inheritance
 */

/* The member that supplies top-level key `key` under the selected environment: [env.NAME]'s if it has it;
 * else the top level's when the key is inheritable (or no environment is selected); else NULL. `path` gets
 * the name to use in messages ("env.staging.vars" or "vars"). */
static const ew__cfg_member_t *pick(ctx_t *x, const char *key, char path[PATH_LEN])
{
    const key_spec_t *k = find_key(key);
    const ew__cfg_member_t *m = x->envt ? ew__cfg_find(x->envt, key, strlen(key)) : NULL;
    if (m != NULL && !k->top_only) {
        pathf(path, "env.%s.%s", x->wr->env, key);
        return m;
    }
    pathf(path, "%s", key);
    if (x->env_selected && !k->inheritable && !k->top_only)
        return NULL;
    return ew__cfg_find(x->root, key, strlen(key));
}

/* Resolves `rel` against the project folder (absolute paths stay). */
static const char *resolve(ctx_t *x, const char *rel)
{
    if (rel[0] == '/' || x->dir == NULL || x->dir[0] == '\0' || strcmp(x->dir, ".") == 0)
        return pool_dup(x, rel);
    size_t dl = strlen(x->dir), rl = strlen(rel);
    bool slash = x->dir[dl - 1] == '/';
    char *out = ew__cfg_alloc(x->wr->pool, dl + rl + 2);
    if (out == NULL) {
        x->oom = true;
        return NULL;
    }
    snprintf(out, dl + rl + 2, "%s%s%s", x->dir, slash ? "" : "/", rel);
    return out;
}

/* ---------------------------------------------------------------------------------------------------------
 * Honoured keys
 */

static ew_status_t read_string_key(ctx_t *x, const char *key, const char **out)
{
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, key, path);
    *out = NULL;
    if (m == NULL)
        return EW_OK;
    if (m->value->type != EW__CFG_STRING)
        return type_error(x, m->value, path, "a string");
    *out = pool_dup(x, m->value->u.string.ptr);
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

/* name, with wrangler's rule for environments: an [env.NAME] without its own name is "<name>-<NAME>". */
static ew_status_t read_name(ctx_t *x)
{
    ew__wrangler_t *wr = x->wr;
    ew_status_t st = read_string_key(x, "name", &wr->name);
    if (st != EW_OK)
        return st;
    bool own = x->envt != NULL && ew__cfg_get(x->envt, "name") != NULL;
    if (wr->name != NULL && x->env_selected && !own) {
        size_t n = strlen(wr->name) + strlen(wr->env) + 2;
        char *s = ew__cfg_alloc(wr->pool, n);
        if (s == NULL)
            return EW_ERR_NOMEM;
        snprintf(s, n, "%s-%s", wr->name, wr->env);
        wr->name = s;
    }
    if (wr->name == NULL)
        wr->name = "worker";
    return EW_OK;
}

static ew_status_t read_main(ctx_t *x)
{
    const char *main;
    ew_status_t st = read_string_key(x, "main", &main);
    if (st != EW_OK)
        return st;
    char path[PATH_LEN];
    if ((main == NULL || main[0] == '\0') && pick(x, "assets", path) != NULL)
        return EW_OK; /* an assets-only Worker, as wrangler allows */
    if (main == NULL || main[0] == '\0')
        return ew__cfg_errorf(x->err, EW_ERR_INVALID_ARG, x->doc->file, 0, 0,
                              "no entry point: set 'main' to the Worker's script (e.g. main = \"src/index.js\")");
    x->wr->main = resolve(x, main);
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static bool is_date(const char *s)
{
    static const char shape[] = "dddd-dd-dd";
    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (s[i] == '\0' || (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-'))
            return false;
    return s[sizeof(shape) - 1] == '\0';
}

static ew_status_t read_compat(ctx_t *x)
{
    char path[PATH_LEN];
    ew__wrangler_t *wr = x->wr;
    const ew__cfg_member_t *m = pick(x, "compatibility_date", path);
    if (m != NULL && m->value->type == EW__CFG_DATE_LOCAL)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, m->value,
                             "'%s' must be a string: quote the date (\"%s\"), as wrangler requires", path,
                             m->value->u.datetime.text);
    ew_status_t st = read_string_key(x, "compatibility_date", &wr->compatibility_date);
    if (st != EW_OK)
        return st;
    if (wr->compatibility_date != NULL && !is_date(wr->compatibility_date))
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, m->value,
                             "'%s' must be a date written YYYY-MM-DD, not \"%s\"", path, wr->compatibility_date);
    if (wr->compatibility_date == NULL)
        warn(x, 0, 0, "no compatibility_date: set one (e.g. compatibility_date = \"2024-07-01\"), as wrangler asks");
    m = pick(x, "compatibility_flags", path);
    if (m == NULL)
        return EW_OK;
    field_t f = {"", 'S', false};
    if ((st = check_field(x, &f, m->value, path)) != EW_OK)
        return st;
    wr->ncompatibility_flags = ew__cfg_len(m->value);
    wr->compatibility_flags = ew__cfg_alloc(wr->pool, (wr->ncompatibility_flags + 1) * sizeof(char *));
    if (wr->compatibility_flags == NULL)
        return EW_ERR_NOMEM;
    for (size_t i = 0; i < wr->ncompatibility_flags; i++)
        wr->compatibility_flags[i] = pool_dup(x, ew__cfg_at(m->value, i)->u.string.ptr);
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static ew_status_t append_var(ctx_t *x, const char *name, const char *value, bool is_json)
{
    ew__wrangler_t *wr = x->wr;
    if (!grow(wr->pool, (void **) &wr->vars, wr->nvars, &x->vars_cap, sizeof(*wr->vars)))
        return EW_ERR_NOMEM;
    wr->vars[wr->nvars++] = (ew__wrangler_var_t) {.name = name, .value = value, .is_json = is_json};
    return EW_OK;
}

/* One [vars] entry: a string as is; a number, boolean, array or table as JSON (wrangler passes those to
 * env as JSON values); anything else is an error. */
static ew_status_t read_var(ctx_t *x, const ew__cfg_member_t *m, const char *vpath)
{
    char path[PATH_LEN];
    pathf(path, "%s.%s", vpath, m->key);
    const ew__cfg_value_t *v = m->value;
    if (m->key_len == 0 || strlen(m->key) != m->key_len)
        return ew__cfg_errorf(x->err, EW_ERR_INVALID_ARG, x->doc->file, m->line, m->col,
                              "'%s': a var needs a name without NUL characters", vpath);
    ew_status_t st = claim_binding(x, m->key, v, path);
    if (st != EW_OK)
        return st;
    const char *name = pool_dup(x, m->key);
    if (name == NULL)
        return EW_ERR_NOMEM;
    if (v->type == EW__CFG_STRING) {
        const char *value = pool_dup(x, v->u.string.ptr);
        return value ? append_var(x, name, value, false) : EW_ERR_NOMEM;
    }
    if (v->type == EW__CFG_NULL || (v->type >= EW__CFG_DATETIME && v->type <= EW__CFG_TIME_LOCAL))
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, v,
                             "'%s' must be a string, number, boolean, array or %s, not %s", path,
                             x->json ? "object" : "table", type_word(x, v->type));
    jbuf_t b = {0};
    st = jvalue(x, &b, v, path);
    char *json = st == EW_OK && !b.oom ? pool_dup(x, b.p) : NULL;
    free(b.p);
    if (st != EW_OK)
        return st;
    return json ? append_var(x, name, json, true) : EW_ERR_NOMEM;
}

static ew_status_t read_vars(ctx_t *x)
{
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "vars", path);
    if (m == NULL)
        return EW_OK;
    if (m->value->type != EW__CFG_TABLE)
        return type_error(x, m->value, path, a_table(x));
    for (size_t i = 0; i < ew__cfg_len(m->value); i++) {
        ew_status_t st = read_var(x, ew__cfg_member_at(m->value, i), path);
        if (st != EW_OK)
            return st;
    }
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Storage bindings
 */

static const field_t kv_fields[] = {
    {"binding", 's', true}, {"id", 's', false}, {"preview_id", 's', false}, {"remote", 'b', false},
    {"experimental_remote", 'b', false}, {NULL, 0, false},
};

static ew_status_t read_kv_entry(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    ew_status_t st = check_fields(x, t, path, kv_fields);
    if (st == EW_OK)
        st = check_storage_name(x, t, "id", path);
    if (st == EW_OK)
        st = claim_binding(x, get_str(t, "binding"), ew__cfg_get(t, "binding"), path);
    if (st != EW_OK)
        return st;
    ew__wrangler_kv_t *kv = &x->wr->kv[x->wr->nkv++]; /* read_list sized the array */
    kv->binding = take_str(x, t, "binding");
    kv->id = get_str(t, "id") ? take_str(x, t, "id") : kv->binding; /* local storage only needs a stable name */
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static const field_t d1_fields[] = {
    {"binding", 's', true}, {"database_name", 's', false}, {"database_id", 's', false},
    {"preview_database_id", 's', false}, {"migrations_dir", 's', false}, {"migrations_table", 's', false},
    {"database_internal_env", 's', false}, {"remote", 'b', false}, {"experimental_remote", 'b', false},
    {NULL, 0, false},
};

static ew_status_t read_d1_entry(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    ew_status_t st = check_fields(x, t, path, d1_fields);
    if (st == EW_OK)
        st = check_storage_name(x, t, "database_name", path);
    if (st == EW_OK)
        st = claim_binding(x, get_str(t, "binding"), ew__cfg_get(t, "binding"), path);
    if (st != EW_OK)
        return st;
    ew__wrangler_d1_t *d = &x->wr->d1[x->wr->nd1++];
    d->binding = take_str(x, t, "binding");
    d->database_id = take_str(x, t, "database_id");
    d->database_name = get_str(t, "database_name") ? take_str(x, t, "database_name") : d->database_id;
    if (d->database_name == NULL)
        d->database_name = d->binding;
    const char *dir = get_str(t, "migrations_dir");
    d->migrations_dir = resolve(x, dir ? dir : "migrations");
    d->migrations_table = get_str(t, "migrations_table") ? take_str(x, t, "migrations_table") : "d1_migrations";
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static const field_t r2_fields[] = {
    {"binding", 's', true}, {"bucket_name", 's', false}, {"preview_bucket_name", 's', false},
    {"jurisdiction", 's', false}, {"remote", 'b', false}, {"experimental_remote", 'b', false},
    {NULL, 0, false},
};

static ew_status_t read_r2_entry(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    ew_status_t st = check_fields(x, t, path, r2_fields);
    if (st == EW_OK)
        st = check_storage_name(x, t, "bucket_name", path);
    if (st == EW_OK)
        st = claim_binding(x, get_str(t, "binding"), ew__cfg_get(t, "binding"), path);
    if (st != EW_OK)
        return st;
    ew__wrangler_r2_t *r = &x->wr->r2[x->wr->nr2++];
    r->binding = take_str(x, t, "binding");
    r->bucket_name = get_str(t, "bucket_name") ? take_str(x, t, "bucket_name") : r->binding;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static ew_status_t read_ratelimit_entry(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    static const field_t fields[] = {{"name", 's', true}, {"namespace_id", '*', true}, {"simple", '*', true},
                                     {NULL, 0, false}};
    static const field_t simple_fields[] = {{"limit", 'i', true}, {"period", 'i', true}, {NULL, 0, false}};
    char p[PATH_LEN];
    ew_status_t st = check_fields(x, t, path, fields);
    if (st != EW_OK)
        return st;
    const ew__cfg_value_t *ns = ew__cfg_get(t, "namespace_id");
    char nsbuf[32];
    const char *nstext = NULL;
    if (ns->type == EW__CFG_INTEGER && ns->u.integer > 0) {
        snprintf(nsbuf, sizeof(nsbuf), "%lld", (long long) ns->u.integer);
        nstext = nsbuf;
    } else if (ns->type == EW__CFG_STRING) {
        nstext = ns->u.string.ptr;
        bool digits = nstext[0] != '\0' && nstext[0] != '0' && strlen(nstext) <= 19;
        for (const char *c = nstext; digits && *c != '\0'; c++)
            digits = *c >= '0' && *c <= '9';
        if (!digits)
            nstext = NULL;
    }
    pathf(p, "%s.namespace_id", path);
    if (nstext == NULL)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, ns, "'%s' must be a positive integer (e.g. \"1001\")", p);
    const ew__cfg_value_t *simple = ew__cfg_get(t, "simple");
    pathf(p, "%s.simple", path);
    if ((st = check_fields(x, simple, p, simple_fields)) != EW_OK)
        return st;
    const ew__cfg_value_t *limit = ew__cfg_get(simple, "limit"), *period = ew__cfg_get(simple, "period");
    if (limit->u.integer < 1 || limit->u.integer > UINT32_MAX)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, limit, "'%s.limit' must be at least 1", p);
    if (period->u.integer != 10 && period->u.integer != 60)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, period, "'%s.period' must be 10 or 60 (seconds)", p);
    if ((st = claim_binding(x, get_str(t, "name"), ew__cfg_get(t, "name"), path)) != EW_OK)
        return st;
    ew__wrangler_ratelimit_t *r = &x->wr->ratelimits[x->wr->nratelimits++];
    r->binding = take_str(x, t, "name");
    r->namespace_id = pool_dup(x, nstext);
    r->limit = (uint32_t) limit->u.integer;
    r->period = (uint32_t) period->u.integer;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static ew_status_t check_migrations(ctx_t *x, const ew__cfg_value_t *v, const char *path);

/* durable_objects = { bindings = [{ name, class_name, script_name? }] } and [[migrations]]: a class listed in
 * some new_sqlite_classes is SQLite-backed. Bindings to classes of other workers (script_name) are skipped. */
static bool in_sqlite_classes(ctx_t *x, const char *cls)
{
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "migrations", path);
    for (size_t i = 0; m != NULL && m->value->type == EW__CFG_ARRAY && i < ew__cfg_len(m->value); i++) {
        const ew__cfg_value_t *l = ew__cfg_get(ew__cfg_at(m->value, i), "new_sqlite_classes");
        for (size_t j = 0; l != NULL && j < ew__cfg_len(l); j++)
            if (strcmp(ew__cfg_at(l, j)->u.string.ptr, cls) == 0)
                return true;
    }
    return false;
}

/* The classes the migrations create, in order (a class another Worker binds with script_name is served from
 * this list when this Worker has no binding of its own for it). */
static ew_status_t read_migration_classes(ctx_t *x, const ew__cfg_value_t *migrations)
{
    size_t n = 0;
    for (size_t i = 0; i < ew__cfg_len(migrations); i++) {
        const ew__cfg_value_t *m = ew__cfg_at(migrations, i);
        n += ew__cfg_len(ew__cfg_get(m, "new_classes")) + ew__cfg_len(ew__cfg_get(m, "new_sqlite_classes"));
    }
    if ((x->wr->do_classes = ew__cfg_alloc(x->wr->pool, (n + 1) * sizeof(*x->wr->do_classes))) == NULL)
        return EW_ERR_NOMEM;
    memset(x->wr->do_classes, 0, (n + 1) * sizeof(*x->wr->do_classes));
    for (size_t i = 0; i < ew__cfg_len(migrations); i++) {
        const ew__cfg_value_t *m = ew__cfg_at(migrations, i);
        for (int sql = 0; sql < 2; sql++) {
            const ew__cfg_value_t *l = ew__cfg_get(m, sql ? "new_sqlite_classes" : "new_classes");
            for (size_t j = 0; j < ew__cfg_len(l); j++) {
                ew__wrangler_do_t *d = &x->wr->do_classes[x->wr->ndo_classes++];
                d->class_name = pool_dup(x, ew__cfg_at(l, j)->u.string.ptr);
                d->sql = sql;
            }
        }
    }
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static ew_status_t read_do_entry(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    static const field_t f[] = {{"name", 's', true}, {"class_name", 's', true}, {"script_name", 's', false},
                                {"environment", 's', false}, {NULL, 0, false}};
    ew_status_t st = check_fields(x, t, path, f);
    if (st == EW_OK)
        st = claim_binding(x, get_str(t, "name"), ew__cfg_get(t, "name"), path);
    if (st != EW_OK)
        return st;
    ew__wrangler_do_t *d = &x->wr->durables[x->wr->ndurables++];
    d->binding = take_str(x, t, "name");
    d->class_name = take_str(x, t, "class_name");
    d->script_name = take_str(x, t, "script_name");
    d->sql = d->script_name == NULL && in_sqlite_classes(x, d->class_name);
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static ew_status_t read_durable_objects(ctx_t *x)
{
    static const field_t f[] = {{"bindings", '*', false}, {NULL, 0, false}};
    char path[PATH_LEN], bpath[PATH_LEN];
    const ew__cfg_member_t *mig = pick(x, "migrations", path);
    if (mig != NULL) {
        if (mig->value->type != EW__CFG_ARRAY)
            return type_error(x, mig->value, path, "an array of migrations");
        ew_status_t st = check_migrations(x, mig->value, path);
        if (st == EW_OK)
            st = read_migration_classes(x, mig->value);
        if (st != EW_OK)
            return st;
    }
    const ew__cfg_member_t *m = pick(x, "durable_objects", path);
    if (m == NULL)
        return EW_OK;
    ew_status_t st = check_fields(x, m->value, path, f);
    const ew__cfg_value_t *b = ew__cfg_get(m->value, "bindings");
    if (st != EW_OK || b == NULL)
        return st;
    pathf(bpath, "%s.bindings", path);
    if (b->type != EW__CFG_ARRAY)
        return type_error(x, b, bpath, "an array of bindings");
    size_t n = ew__cfg_len(b);
    if ((x->wr->durables = ew__cfg_alloc(x->wr->pool, (n + 1) * sizeof(*x->wr->durables))) == NULL)
        return EW_ERR_NOMEM;
    memset(x->wr->durables, 0, (n + 1) * sizeof(*x->wr->durables));
    return each_entry(x, b, bpath, read_do_entry, false);
}

/* services = [{ binding, service, entrypoint? }]: bindings to other Workers of the same server. Whether the
 * service is loaded is checked by the server, which knows every configuration. */
static ew_status_t read_service_entry(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    static const field_t f[] = {{"binding", 's', true}, {"service", 's', true}, {"environment", 's', false},
                                {"entrypoint", 's', false}, {"remote", 'b', false},
                                {"experimental_remote", 'b', false}, {NULL, 0, false}};
    ew_status_t st = check_fields(x, t, path, f);
    if (st == EW_OK)
        st = claim_binding(x, get_str(t, "binding"), ew__cfg_get(t, "binding"), path);
    if (st != EW_OK)
        return st;
    if (get_str(t, "environment") != NULL)
        warn(x, t->line, t->col, "'%s.environment': service environments are deploy-time only; the Worker named "
             "\"%s\" is used", path, get_str(t, "service"));
    ew__wrangler_service_t *d = &x->wr->services[x->wr->nservices++];
    d->binding = take_str(x, t, "binding");
    d->service = take_str(x, t, "service");
    d->entrypoint = take_str(x, t, "entrypoint");
    d->line = t->line;
    d->col = t->col;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

/* One entry of routes: "pattern" or { pattern, zone_id?, zone_name?, custom_domain? }. */
static ew_status_t read_route_entry(ctx_t *x, const ew__cfg_value_t *v, const char *path)
{
    static const field_t f[] = {{"pattern", 's', true}, {"zone_id", 's', false}, {"zone_name", 's', false},
                                {"custom_domain", 'b', false}, {NULL, 0, false}};
    const char *pattern;
    const ew__cfg_value_t *at = v;
    bool custom = false;
    if (v->type == EW__CFG_STRING) {
        pattern = v->u.string.ptr;
    } else if (v->type != EW__CFG_TABLE) {
        return type_error(x, v, path, x->json ? "a string or an object" : "a string or a table");
    } else {
        ew_status_t st = check_fields(x, v, path, f);
        if (st != EW_OK)
            return st;
        pattern = get_str(v, "pattern");
        at = ew__cfg_get(v, "pattern");
        const ew__cfg_value_t *cd = ew__cfg_get(v, "custom_domain");
        custom = cd != NULL && cd->u.boolean;
    }
    ew__wrangler_route_t *r = &x->wr->routes[x->wr->nroutes];
    char why[400];
    if (!ew__route_parse(pattern, custom, &r->parsed, why, sizeof(why)))
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, at, "'%s': %s", path, why);
    x->wr->nroutes++;
    r->pattern = pool_dup(x, pattern);
    r->custom_domain = custom;
    r->zone_name = v->type == EW__CFG_TABLE ? take_str(x, v, "zone_name") : NULL;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

/* routes = [...] or route = "...": one of the two, as wrangler requires. */
static ew_status_t read_routes(ctx_t *x)
{
    char path[PATH_LEN], one[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "routes", path), *single = pick(x, "route", one);
    if (m != NULL && single != NULL)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, single->value,
                             "'%s' and '%s' are both set; use one of them", one, path);
    if (m == NULL && single == NULL)
        return EW_OK;
    if (m != NULL && m->value->type != EW__CFG_ARRAY)
        return type_error(x, m->value, path, "an array of route patterns");
    size_t n = m != NULL ? ew__cfg_len(m->value) : 1;
    if ((x->wr->routes = ew__cfg_alloc(x->wr->pool, (n + 1) * sizeof(*x->wr->routes))) == NULL)
        return EW_ERR_NOMEM;
    memset(x->wr->routes, 0, (n + 1) * sizeof(*x->wr->routes));
    if (single != NULL)
        return read_route_entry(x, single->value, one);
    return each_entry(x, m->value, path, read_route_entry, true);
}

/* Reads one binding list into an array sized for it (`*items`, `size` bytes per entry). */
static ew_status_t read_list(ctx_t *x, const char *key, void **items, size_t size, entry_fn fn)
{
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, key, path);
    if (m == NULL)
        return EW_OK;
    size_t n = m->value->type == EW__CFG_ARRAY ? ew__cfg_len(m->value) : 0;
    if ((*items = ew__cfg_alloc(x->wr->pool, (n + 1) * size)) == NULL)
        return EW_ERR_NOMEM;
    memset(*items, 0, (n + 1) * size);
    return each_entry(x, m->value, path, fn, false);
}

static ew_status_t check_assets(ctx_t *x, const ew__cfg_value_t *v, const char *path);

/* [assets]. */
static ew_status_t read_assets(ctx_t *x)
{
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "assets", path);
    if (m == NULL)
        return EW_OK;
    const ew__cfg_value_t *t = m->value;
    if (t->type != EW__CFG_TABLE)
        return type_error(x, t, path, x->json ? "an object" : "a table");
    ew_status_t st = check_assets(x, t, path);
    if (st != EW_OK)
        return st;
    const char *dir = get_str(t, "directory");
    if (dir == NULL || dir[0] == '\0')
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, t,
                             "'%s.directory' is required: the folder of files to serve", path);
    ew__wrangler_assets_t *a = ew__cfg_alloc(x->wr->pool, sizeof(*a));
    if (a == NULL)
        return EW_ERR_NOMEM;
    memset(a, 0, sizeof(*a));
    a->directory = resolve(x, dir);
    const char *binding = get_str(t, "binding");
    if (binding != NULL) {
        if ((st = claim_binding(x, binding, ew__cfg_get(t, "binding"), path)) != EW_OK)
            return st;
        a->binding = take_str(x, t, "binding");
    }
    const char *html = get_str(t, "html_handling");
    a->html_handling = html == NULL || strcmp(html, "auto-trailing-slash") == 0 ? EW_HTML_AUTO_TRAILING_SLASH
                       : strcmp(html, "force-trailing-slash") == 0         ? EW_HTML_FORCE_TRAILING_SLASH
                       : strcmp(html, "drop-trailing-slash") == 0          ? EW_HTML_DROP_TRAILING_SLASH
                                                                           : EW_HTML_NONE;
    const char *nf = get_str(t, "not_found_handling");
    a->not_found_handling = nf == NULL || strcmp(nf, "none") == 0 ? EW_NOT_FOUND_NONE
                            : strcmp(nf, "404-page") == 0          ? EW_NOT_FOUND_404_PAGE
                                                                   : EW_NOT_FOUND_SPA;
    const ew__cfg_member_t *rwf = ew__cfg_find(t, "run_worker_first", 16);
    if (rwf != NULL && rwf->value->type == EW__CFG_BOOL) {
        a->run_worker_first = rwf->value->u.boolean;
    } else if (rwf != NULL) {
        a->run_worker_first = true;
        warn(x, rwf->line, rwf->col,
             "'%s.run_worker_first': route patterns are not supported; every request reaches the Worker first", path);
    }
    const ew__cfg_member_t *direct = ew__cfg_find(t, "experimental_serve_directly", 27);
    if (direct != NULL)
        warn(x, direct->line, direct->col, "'%s.experimental_serve_directly' is ignored", path);
    x->wr->assets = a;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * triggers, limits, dev
 */

static ew_status_t read_crons(ctx_t *x, const ew__cfg_value_t *crons, const char *path)
{
    ew__wrangler_t *wr = x->wr;
    size_t n = ew__cfg_len(crons);
    if ((wr->crons = ew__cfg_alloc(wr->pool, (n + 1) * sizeof(ew__cron_t))) == NULL)
        return EW_ERR_NOMEM;
    memset(wr->crons, 0, (n + 1) * sizeof(ew__cron_t));
    for (size_t i = 0; i < n; i++) {
        const ew__cfg_value_t *v = ew__cfg_at(crons, i);
        ew_error_t cerr;
        ew_status_t st = ew__cron_parse(&wr->crons[i], v->u.string.ptr, &cerr);
        if (st == EW_ERR_NOMEM)
            return st;
        if (st != EW_OK)
            return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, v, "'%s[%zu]': %s", path, i, cerr.message);
        wr->ncrons = i + 1;
        if (wr->crons[i].never)
            warn(x, v->line, v->col, "'%s[%zu]': cron \"%s\" never fires (no such date)", path, i,
                 v->u.string.ptr);
    }
    return EW_OK;
}

static ew_status_t read_triggers(ctx_t *x)
{
    static const field_t fields[] = {{"crons", 'S', false}, {NULL, 0, false}};
    char path[PATH_LEN], cpath[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "triggers", path);
    if (m == NULL)
        return EW_OK;
    ew_status_t st = check_fields(x, m->value, path, fields);
    if (st != EW_OK)
        return st;
    const ew__cfg_value_t *crons = ew__cfg_get(m->value, "crons");
    pathf(cpath, "%s.crons", path);
    return crons ? read_crons(x, crons, cpath) : EW_OK;
}

static ew_status_t read_limits(ctx_t *x)
{
    static const field_t fields[] = {{"cpu_ms", 'i', false}, {"subrequests", 'i', false}, {NULL, 0, false}};
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "limits", path);
    if (m == NULL)
        return EW_OK;
    ew_status_t st = check_fields(x, m->value, path, fields);
    if (st != EW_OK)
        return st;
    const ew__cfg_value_t *cpu = ew__cfg_get(m->value, "cpu_ms");
    if (cpu != NULL && (cpu->u.integer < 1 || cpu->u.integer > 300000))
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, cpu,
                             "'%s.cpu_ms' must be from 1 to 300000 (Cloudflare's maximum, 5 minutes)", path);
    x->wr->cpu_ms = cpu ? (uint32_t) cpu->u.integer : 0;
    const ew__cfg_value_t *sub = ew__cfg_get(m->value, "subrequests");
    if (sub != NULL && (sub->u.integer < 1 || sub->u.integer > 10000000))
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, sub,
                             "'%s.subrequests' must be from 1 to 10000000", path);
    x->wr->subrequests = sub ? (uint32_t) sub->u.integer : 0;
    return EW_OK;
}

/* [dev]: wrangler dev's own settings; ip, port and local_protocol are honoured (the command line wins). */
static ew_status_t read_dev(ctx_t *x)
{
    static const field_t fields[] = {
        {"ip", 's', false}, {"port", 'i', false}, {"local_protocol", 's', false}, {"upstream_protocol", 's', false},
        {"host", 's', false}, {"inspector_port", 'i', false}, {"container_engine", 's', false},
        {"enable_containers", 'b', false}, {"generate_types", 'b', false}, {NULL, 0, false},
    };
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "dev", path);
    if (m == NULL)
        return EW_OK;
    ew_status_t st = check_fields(x, m->value, path, fields);
    if (st != EW_OK)
        return st;
    const ew__cfg_value_t *port = ew__cfg_get(m->value, "port");
    if (port != NULL && port->u.integer > 65535)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, port, "'dev.port' must be a port (0-65535)");
    x->wr->dev_port = port ? (int) port->u.integer : -1;
    x->wr->dev_ip = take_str(x, m->value, "ip");
    const char *proto = get_str(m->value, "local_protocol"); /* a string: check_fields saw to it */
    if (proto != NULL && strcmp(proto, "http") != 0 && strcmp(proto, "https") != 0)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, ew__cfg_get(m->value, "local_protocol"),
                             "'dev.local_protocol' must be \"http\" or \"https\", not \"%s\"", proto);
    x->wr->dev_https = proto == NULL ? -1 : strcmp(proto, "https") == 0;
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Unsupported keys whose shape is still checked (so the project is right when ew-server gains them)
 */

static ew_status_t check_rename(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    static const field_t f[] = {{"from", 's', true}, {"to", 's', true}, {"from_script", 's', false},
                                {NULL, 0, false}};
    return check_fields(x, t, path, f);
}

static ew_status_t check_migration(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    static const field_t f[] = {{"tag", 's', true}, {"new_classes", 'S', false}, {"new_sqlite_classes", 'S', false},
                                {"deleted_classes", 'S', false}, {"renamed_classes", '*', false},
                                {"transferred_classes", '*', false}, {NULL, 0, false}};
    ew_status_t st = check_fields(x, t, path, f);
    static const char *lists[] = {"renamed_classes", "transferred_classes"};
    for (size_t i = 0; st == EW_OK && i < 2; i++) {
        const ew__cfg_value_t *l = ew__cfg_get(t, lists[i]);
        char p[PATH_LEN];
        pathf(p, "%s.%s", path, lists[i]);
        if (l != NULL)
            st = each_entry(x, l, p, check_rename, false);
    }
    return st;
}

/* ---------------------------------------------------------------------------------------------------------
 * queues = { producers = [{binding, queue, delivery_delay}], consumers = [{queue, max_batch_size, ...}] }:
 * read into the library's own structs (ew_queue_producer_t, ew_queue_consumer_t; strings in the arena).
 * Cloudflare's bounds are checked here so that a mistake points at its line.
 */

/* An integer field of t within [lo, hi] into *out (left alone when absent). */
static ew_status_t queue_int(ctx_t *x, const ew__cfg_value_t *t, const char *key, const char *path, int64_t lo,
                             int64_t hi, uint32_t *out)
{
    const ew__cfg_value_t *v = ew__cfg_get(t, key);
    if (v == NULL)
        return EW_OK;
    if (v->u.integer < lo || v->u.integer > hi)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, v, "'%s.%s' must be from %lld to %lld", path, key,
                             (long long) lo, (long long) hi);
    *out = (uint32_t) v->u.integer;
    return EW_OK;
}

static ew_status_t read_producer(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    static const field_t f[] = {{"binding", 's', true}, {"queue", 's', true}, {"delivery_delay", 'i', false},
                                {"remote", 'b', false}, {"experimental_remote", 'b', false}, {NULL, 0, false}};
    ew_queue_producer_t *p = &x->wr->queue_producers[x->wr->nqueue_producers];
    ew_status_t st = check_fields(x, t, path, f);
    if (st == EW_OK)
        st = check_storage_name(x, t, "queue", path);
    if (st == EW_OK)
        st = queue_int(x, t, "delivery_delay", path, 0, 43200, &p->delivery_delay);
    if (st == EW_OK)
        st = claim_binding(x, get_str(t, "binding"), ew__cfg_get(t, "binding"), path);
    if (st != EW_OK)
        return st;
    p->binding = take_str(x, t, "binding");
    p->queue = take_str(x, t, "queue");
    x->wr->nqueue_producers++;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static ew_status_t read_consumer(ctx_t *x, const ew__cfg_value_t *t, const char *path)
{
    static const field_t f[] = {{"queue", 's', true}, {"type", 's', false}, {"max_batch_size", 'i', false},
                                {"max_batch_timeout", 'i', false}, {"max_retries", 'i', false},
                                {"dead_letter_queue", 's', false}, {"max_concurrency", '*', false},
                                {"visibility_timeout_ms", 'i', false}, {"retry_delay", 'i', false},
                                {NULL, 0, false}};
    ew_status_t st = check_fields(x, t, path, f);
    if (st != EW_OK)
        return st;
    const char *type = get_str(t, "type");
    if (type != NULL && strcmp(type, "worker") != 0) {
        const ew__cfg_value_t *v = ew__cfg_get(t, "type");
        warn(x, v->line, v->col, "'%s': %s consumers are not supported (only Worker consumers), ignored", path, type);
        return EW_OK;
    }
    ew_queue_consumer_t *c = &x->wr->queue_consumers[x->wr->nqueue_consumers];
    ew_queue_consumer_init(c);
    uint32_t timeout_s = c->max_batch_timeout_ms / 1000;
    if ((st = check_storage_name(x, t, "queue", path)) != EW_OK ||
        (st = check_storage_name(x, t, "dead_letter_queue", path)) != EW_OK ||
        (st = queue_int(x, t, "max_batch_size", path, 1, 100, &c->max_batch_size)) != EW_OK ||
        (st = queue_int(x, t, "max_batch_timeout", path, 0, 60, &timeout_s)) != EW_OK ||
        (st = queue_int(x, t, "max_retries", path, 0, 100, &c->max_retries)) != EW_OK ||
        (st = queue_int(x, t, "retry_delay", path, 0, 43200, &c->retry_delay)) != EW_OK)
        return st;
    const ew__cfg_value_t *mc = ew__cfg_get(t, "max_concurrency");
    if (mc != NULL && mc->type != EW__CFG_NULL) { /* null: scale automatically (here: one batch at a time) */
        char p[PATH_LEN];
        pathf(p, "%s.max_concurrency", path);
        if (mc->type != EW__CFG_INTEGER)
            return type_error(x, mc, p, "an integer");
        if ((st = queue_int(x, t, "max_concurrency", path, 1, 250, &c->max_concurrency)) != EW_OK)
            return st;
    }
    const ew__cfg_value_t *vt = ew__cfg_get(t, "visibility_timeout_ms");
    if (vt != NULL)
        warn(x, vt->line, vt->col, "'%s.visibility_timeout_ms' only applies to pull consumers, ignored", path);
    c->max_batch_timeout_ms = timeout_s * 1000;
    c->queue = take_str(x, t, "queue");
    c->dead_letter_queue = take_str(x, t, "dead_letter_queue");
    if (c->dead_letter_queue != NULL && strcmp(c->dead_letter_queue, c->queue) == 0)
        return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, ew__cfg_get(t, "dead_letter_queue"),
                             "'%s.dead_letter_queue' cannot be the queue itself", path);
    for (size_t i = 0; i < x->wr->nqueue_consumers; i++)
        if (strcmp(x->wr->queue_consumers[i].queue, c->queue) == 0)
            return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, ew__cfg_get(t, "queue"),
                                 "'%s.queue': \"%s\" has a consumer already (one consumer per queue)", path, c->queue);
    x->wr->nqueue_consumers++;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

static ew_status_t read_queues(ctx_t *x)
{
    static const field_t f[] = {{"producers", '*', false}, {"consumers", '*', false}, {NULL, 0, false}};
    static const entry_fn fns[] = {read_producer, read_consumer};
    char path[PATH_LEN];
    const ew__cfg_member_t *m = pick(x, "queues", path);
    if (m == NULL)
        return EW_OK;
    ew_status_t st = check_fields(x, m->value, path, f);
    for (size_t i = 0; st == EW_OK && i < 2; i++) {
        const ew__cfg_value_t *l = ew__cfg_get(m->value, f[i].name);
        size_t n = l != NULL && l->type == EW__CFG_ARRAY ? ew__cfg_len(l) : 0;
        void *items = ew__cfg_alloc(x->wr->pool, (n + 1) * (i == 0 ? sizeof(ew_queue_producer_t)
                                                                   : sizeof(ew_queue_consumer_t)));
        if (items == NULL)
            return EW_ERR_NOMEM;
        memset(items, 0, (n + 1) * (i == 0 ? sizeof(ew_queue_producer_t) : sizeof(ew_queue_consumer_t)));
        if (i == 0)
            x->wr->queue_producers = items;
        else
            x->wr->queue_consumers = items;
        char p[PATH_LEN];
        pathf(p, "%s.%s", path, f[i].name);
        if (l != NULL)
            st = each_entry(x, l, p, fns[i], false);
    }
    return st;
}

static ew_status_t check_enum(ctx_t *x, const ew__cfg_value_t *t, const char *key, const char *path,
                              const char *const *allowed, const char *list)
{
    const char *s = get_str(t, key);
    if (s == NULL)
        return EW_OK;
    for (; *allowed != NULL; allowed++)
        if (strcmp(s, *allowed) == 0)
            return EW_OK;
    return ew__cfg_error(x->err, EW_ERR_INVALID_ARG, x->doc, ew__cfg_get(t, key),
                         "'%s.%s' must be one of %s, not \"%s\"",
                         path, key, list, s);
}

static ew_status_t check_assets(ctx_t *x, const ew__cfg_value_t *v, const char *path)
{
    static const field_t f[] = {{"directory", 's', false}, {"binding", 's', false}, {"html_handling", 's', false},
                                {"not_found_handling", 's', false}, {"run_worker_first", '*', false},
                                {"experimental_serve_directly", 'b', false}, {NULL, 0, false}};
    static const char *html[] = {"auto-trailing-slash", "force-trailing-slash", "drop-trailing-slash", "none", NULL};
    static const char *not_found[] = {"single-page-application", "404-page", "none", NULL};
    ew_status_t st = check_fields(x, v, path, f);
    if (st == EW_OK)
        st = check_enum(x, v, "html_handling", path, html,
                        "\"auto-trailing-slash\", \"force-trailing-slash\", \"drop-trailing-slash\", \"none\"");
    if (st == EW_OK)
        st = check_enum(x, v, "not_found_handling", path, not_found,
                        "\"single-page-application\", \"404-page\", \"none\"");
    const ew__cfg_value_t *rwf = ew__cfg_get(v, "run_worker_first");
    if (st == EW_OK && rwf != NULL && rwf->type != EW__CFG_BOOL) {
        char p[PATH_LEN];
        pathf(p, "%s.run_worker_first", path);
        field_t sf = {"", 'S', false};
        if (rwf->type != EW__CFG_ARRAY)
            return type_error(x, rwf, p, "a boolean or an array of route patterns");
        st = check_field(x, &sf, rwf, p);
    }
    return st;
}

static ew_status_t check_migrations(ctx_t *x, const ew__cfg_value_t *v, const char *path)
{
    return each_entry(x, v, path, check_migration, false);
}

/* Checks and reports each unsupported key that the selected environment uses. */
static ew_status_t read_unsupported(ctx_t *x)
{
    static const struct {
        const char *key;
        entry_fn check;
    } checked[] = {
        {"assets", check_assets},
    };
    for (size_t i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++) {
        if (top_keys[i].kind != KEY_UNSUPPORTED)
            continue;
        char path[PATH_LEN];
        const ew__cfg_member_t *m = pick(x, top_keys[i].name, path);
        if (m == NULL)
            continue;
        for (size_t c = 0; c < sizeof(checked) / sizeof(checked[0]); c++) {
            ew_status_t st = strcmp(checked[c].key, m->key) == 0 ? checked[c].check(x, m->value, path) : EW_OK;
            if (st != EW_OK)
                return st;
        }
        warn(x, m->line, m->col, "'%s' is not supported yet, ignored", path);
    }
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Top level and environments
 */

/* Warns about unknown keys of `t` (the root or an [env.NAME]) and keys in the wrong place. */
static void check_top_keys(ctx_t *x, const ew__cfg_value_t *t, const char *prefix)
{
    for (size_t i = 0; i < ew__cfg_len(t); i++) {
        const ew__cfg_member_t *m = ew__cfg_member_at(t, i);
        const key_spec_t *k = find_key(m->key);
        if (k == NULL)
            warn(x, m->line, m->col, "unknown key '%s%s' (ignored)", prefix, m->key);
        else if (k->top_only && prefix[0] != '\0')
            warn(x, m->line, m->col, "'%s%s' is only read at the top level (ignored here)", prefix, m->key);
    }
}

/* wrangler's advice when an environment lacks a binding list the top level has (they are not inherited). */
static void check_not_inherited(ctx_t *x)
{
    for (size_t i = 0; i < ew__cfg_len(x->root); i++) {
        const ew__cfg_member_t *m = ew__cfg_member_at(x->root, i);
        const key_spec_t *k = find_key(m->key);
        if (k == NULL || k->inheritable || k->top_only || ew__cfg_get(x->envt, m->key) != NULL)
            continue;
        warn(x, m->line, m->col,
             "'%s' exists at the top level but not in [env.%s]; it is not inherited by environments, so "
             "env \"%s\" has none (add it to [env.%s] if it should)",
             m->key, x->wr->env, x->wr->env, x->wr->env);
    }
}

/* Selects [env.NAME]. A missing one is an error when the file has other environments (a typo), else a
 * warning, as in wrangler; either way the non-inherited keys are then empty. */
static ew_status_t select_env(ctx_t *x, const char *env)
{
    const ew__cfg_value_t *envs = ew__cfg_get(x->root, "env");
    if (envs != NULL && envs->type != EW__CFG_TABLE)
        return type_error(x, envs, "env", a_table(x));
    for (size_t i = 0; i < ew__cfg_len(envs); i++) {
        const ew__cfg_member_t *m = ew__cfg_member_at(envs, i);
        char path[PATH_LEN];
        pathf(path, "env.%s", m->key);
        if (m->value->type != EW__CFG_TABLE)
            return type_error(x, m->value, path, a_table(x));
    }
    if (env == NULL)
        return EW_OK;
    x->env_selected = true;
    if ((x->wr->env = pool_dup(x, env)) == NULL)
        return EW_ERR_NOMEM;
    x->envt = ew__cfg_get(envs, env);
    if (x->envt != NULL)
        return EW_OK;
    if (ew__cfg_len(envs) > 0)
        return ew__cfg_errorf(x->err, EW_ERR_INVALID_ARG, x->doc->file, 0, 0,
                              "no environment \"%s\" (add [env.%s]; the file has %zu other environment%s)", env, env,
                              ew__cfg_len(envs), ew__cfg_len(envs) == 1 ? "" : "s");
    warn(x, 0, 0, "no environment \"%s\" in the file (add [env.%s]); using the top level without its bindings",
         env, env);
    return EW_OK;
}

static ew__wrangler_t *wrangler_new(void)
{
    ew__wrangler_t *wr = calloc(1, sizeof(*wr));
    if (wr == NULL)
        return NULL;
    wr->dev_port = -1;
    wr->dev_https = -1;
    if ((wr->pool = ew__cfg_doc_create("")) == NULL) {
        free(wr);
        return NULL;
    }
    return wr;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads every honoured section in order; the first error stops. */
static ew_status_t read_all(ctx_t *x)
{
    ew__wrangler_t *wr = x->wr;
    ew_status_t st;
    if ((st = read_name(x)) != EW_OK || (st = read_main(x)) != EW_OK || (st = read_compat(x)) != EW_OK ||
        (st = read_vars(x)) != EW_OK ||
        (st = read_list(x, "kv_namespaces", (void **) &wr->kv, sizeof(*wr->kv), read_kv_entry)) != EW_OK ||
        (st = read_list(x, "d1_databases", (void **) &wr->d1, sizeof(*wr->d1), read_d1_entry)) != EW_OK ||
        (st = read_list(x, "r2_buckets", (void **) &wr->r2, sizeof(*wr->r2), read_r2_entry)) != EW_OK ||
        (st = read_assets(x)) != EW_OK ||
        (st = read_list(x, "ratelimits", (void **) &wr->ratelimits, sizeof(*wr->ratelimits),
                        read_ratelimit_entry)) != EW_OK ||
        (st = read_durable_objects(x)) != EW_OK || (st = read_queues(x)) != EW_OK ||
        (st = read_list(x, "services", (void **) &wr->services, sizeof(*wr->services), read_service_entry)) != EW_OK ||
        (st = read_routes(x)) != EW_OK ||
        (st = read_triggers(x)) != EW_OK || (st = read_limits(x)) != EW_OK || (st = read_dev(x)) != EW_OK ||
        (st = read_unsupported(x)) != EW_OK)
        return st;
    return x->oom ? EW_ERR_NOMEM : EW_OK;
}

ew_status_t ew__wrangler_from_doc(const ew__cfg_doc_t *doc, const char *dir, const char *env,
                                  ew__wrangler_t **out, ew_error_t *err)
{
    *out = NULL;
    ew__wrangler_t *wr = wrangler_new();
    if (wr == NULL)
        return ew__cfg_errorf(err, EW_ERR_NOMEM, doc->file, 0, 0, "out of memory");
    ctx_t x = {.wr = wr, .doc = doc, .err = err, .dir = dir, .root = doc->root};
    x.json = ends_with(doc->file, ".json") || ends_with(doc->file, ".jsonc");
    wr->config_path = pool_dup(&x, doc->file);
    wr->project_dir = pool_dup(&x, dir ? dir : ".");
    ew_status_t st = select_env(&x, env);
    if (st == EW_OK) {
        check_top_keys(&x, x.root, "");
        if (x.envt != NULL) {
            char prefix[PATH_LEN];
            pathf(prefix, "env.%s.", env);
            check_top_keys(&x, x.envt, prefix);
            check_not_inherited(&x);
        }
        st = read_all(&x);
    }
    if (st == EW_OK && x.oom)
        st = EW_ERR_NOMEM;
    if (st != EW_OK) {
        if (st == EW_ERR_NOMEM)
            ew__cfg_errorf(err, st, doc->file, 0, 0, "out of memory");
        ew__wrangler_destroy(wr);
        return st;
    }
    *out = wr;
    return EW_OK;
}

/* ---------------------------------------------------------------------------------------------------------
 * Vars set after loading, cron scheduling, destroy
 */

ew_status_t ew__wrangler_set_var(ew__wrangler_t *wr, const char *name, const char *value, bool is_json,
                                 bool secret)
{
    char *n = ew__cfg_strdup(wr->pool, name, strlen(name));
    char *v = ew__cfg_strdup(wr->pool, value, strlen(value));
    if (n == NULL || v == NULL)
        return EW_ERR_NOMEM;
    ew__wrangler_var_t var = {.name = n, .value = v, .is_json = is_json, .secret = secret};
    for (size_t i = 0; i < wr->nvars; i++) {
        if (strcmp(wr->vars[i].name, name) == 0) {
            wr->vars[i] = var;
            return EW_OK;
        }
    }
    /* Grows by one: a handful of secrets and overrides, so copying is cheaper than tracking capacity. */
    ew__wrangler_var_t *nv = ew__cfg_alloc(wr->pool, (wr->nvars + 1) * sizeof(*nv));
    if (nv == NULL)
        return EW_ERR_NOMEM;
    if (wr->nvars)
        memcpy(nv, wr->vars, wr->nvars * sizeof(*nv));
    nv[wr->nvars++] = var;
    wr->vars = nv;
    return EW_OK;
}

bool ew__wrangler_next_cron(const ew__wrangler_t *wr, int64_t after_ms, int64_t *at_ms, bool *due)
{
    int64_t best = 0;
    bool any = false;
    for (size_t i = 0; i < wr->ncrons; i++) {
        int64_t t;
        if (ew__cron_next(&wr->crons[i], after_ms, &t) && (!any || t < best)) {
            best = t;
            any = true;
        }
    }
    if (!any)
        return false;
    /* ew__cron_next gives minute boundaries, so "fires at the same time" is plain equality. */
    for (size_t i = 0; due != NULL && i < wr->ncrons; i++) {
        int64_t t;
        due[i] = ew__cron_next(&wr->crons[i], after_ms, &t) && t == best;
    }
    *at_ms = best;
    return true;
}

void ew__wrangler_destroy(ew__wrangler_t *wr)
{
    if (wr == NULL)
        return;
    for (size_t i = 0; i < wr->ncrons; i++)
        ew__cron_dispose(&wr->crons[i]);
    ew__cfg_doc_destroy(wr->pool);
    free(wr);
}

/* ---------------------------------------------------------------------------------------------------------
 * Finding the project (ew__wrangler_load)
 */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir + "/" + name into buf; "." as dir gives just name, so messages read "wrangler.toml:3:1". */
static void join(char *buf, size_t len, const char *dir, const char *name)
{
    if (strcmp(dir, ".") == 0)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", name);
}

/* The folder of `path` ("." when it has none), in the pool. */
static const char *dir_of(ew__cfg_doc_t *pool, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return ew__cfg_strdup(pool, ".", 1);
    return ew__cfg_strdup(pool, path, slash == path ? 1 : (size_t) (slash - path));
}

/* A project without a configuration: just the script. */
static ew_status_t script_only(const char *script, ew__wrangler_t **out, ew_error_t *err)
{
    ew__wrangler_t *wr = wrangler_new();
    if (wr == NULL)
        return ew__cfg_errorf(err, EW_ERR_NOMEM, script, 0, 0, "out of memory");
    wr->name = "worker";
    wr->main = ew__cfg_strdup(wr->pool, script, strlen(script));
    wr->project_dir = dir_of(wr->pool, script);
    if (wr->main == NULL || wr->project_dir == NULL) {
        ew__wrangler_destroy(wr);
        return ew__cfg_errorf(err, EW_ERR_NOMEM, script, 0, 0, "out of memory");
    }
    *out = wr;
    return EW_OK;
}

/* In a folder: wrangler.json, wrangler.jsonc, wrangler.toml (wrangler's order), else a script. */
static ew_status_t find_in_folder(const char *dir, char *config, size_t len, bool *is_config, ew_error_t *err)
{
    static const char *configs[] = {"wrangler.json", "wrangler.jsonc", "wrangler.toml"};
    static const char *scripts[] = {"src/index.js", "index.js", "worker.js"};
    for (size_t i = 0; i < 3; i++) {
        join(config, len, dir, configs[i]);
        if (is_file(config)) {
            *is_config = true;
            return EW_OK;
        }
    }
    for (size_t i = 0; i < 3; i++) {
        join(config, len, dir, scripts[i]);
        if (is_file(config)) {
            *is_config = false;
            return EW_OK;
        }
    }
    return ew__cfg_errorf(err, EW_ERR_IO, dir, 0, 0,
                          "no wrangler.json, wrangler.jsonc or wrangler.toml here, and no Worker script "
                          "(src/index.js, index.js, worker.js)");
}

/* Reads the project's .dev.vars (.dev.vars.<env> instead, when there is one) as secret vars. */
static ew_status_t load_dev_vars(ew__wrangler_t *wr, ew_error_t *err)
{
    char path[4096], name[300];
    snprintf(name, sizeof(name), ".dev.vars.%s", wr->env ? wr->env : "");
    join(path, sizeof(path), wr->project_dir, name);
    if (wr->env == NULL || !is_file(path))
        join(path, sizeof(path), wr->project_dir, ".dev.vars");
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? EW_OK : ew__cfg_errorf(err, EW_ERR_IO, path, 0, 0, "cannot read: %s", strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            char *t = realloc(text, cap);
            if (t == NULL)
                break;
            text = t;
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    bool failed = ferror(f) || (n > 0);
    fclose(f);
    ew__dotenv_t env;
    ew_status_t st = failed ? EW_ERR_IO : ew__dotenv_parse(wr->pool, text ? text : "", len, &env);
    free(text);
    if (st != EW_OK)
        return ew__cfg_errorf(err, st, path, 0, 0, st == EW_ERR_IO ? "cannot read" : "out of memory");
    wr->dev_vars_path = ew__cfg_strdup(wr->pool, path, strlen(path));
    for (size_t i = 0; st == EW_OK && i < env.len; i++)
        st = ew__wrangler_set_var(wr, env.entries[i].key, env.entries[i].value, false, true);
    bool oom = false;
    size_t wcap = wr->nwarnings; /* grow() doubles from here */
    for (size_t i = 0; i < env.nbad; i++) {
        char msg[4200];
        snprintf(msg, sizeof(msg), "%s:%u: not KEY=VALUE; line skipped", path, (unsigned) env.bad_lines[i]);
        add_warning(wr, &wcap, &oom, msg);
    }
    if (st != EW_OK || oom || wr->dev_vars_path == NULL)
        return ew__cfg_errorf(err, EW_ERR_NOMEM, path, 0, 0, "out of memory");
    return EW_OK;
}

static ew_status_t load_config(const char *config, const char *env, ew__wrangler_t **out, ew_error_t *err)
{
    ew__cfg_doc_t *doc;
    ew_status_t st = ew__cfg_read_file(config, &doc, err);
    if (st != EW_OK)
        return st;
    char *dir = strdup(config);
    if (dir == NULL) {
        ew__cfg_doc_destroy(doc);
        return ew__cfg_errorf(err, EW_ERR_NOMEM, config, 0, 0, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        strcpy(dir, ".");
    else
        slash[slash == dir ? 1 : 0] = '\0';
    st = ew__wrangler_from_doc(doc, dir, env, out, err);
    free(dir);
    ew__cfg_doc_destroy(doc);
    return st;
}

ew_status_t ew__wrangler_load(const char *path, const char *env, ew__wrangler_t **out, ew_error_t *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ew__cfg_errorf(err, EW_ERR_IO, path, 0, 0, "%s", strerror(errno));
    char found[4096];
    bool is_config = ends_with(path, ".toml") || ends_with(path, ".json") || ends_with(path, ".jsonc");
    snprintf(found, sizeof(found), "%s", path);
    if (S_ISDIR(sb.st_mode)) {
        ew_status_t st = find_in_folder(path, found, sizeof(found), &is_config, err);
        if (st != EW_OK)
            return st;
    }
    ew_status_t st = is_config ? load_config(found, env, out, err) : script_only(found, out, err);
    if (st == EW_OK && (st = load_dev_vars(*out, err)) != EW_OK) {
        ew__wrangler_destroy(*out);
        *out = NULL;
    }
    return st;
}
