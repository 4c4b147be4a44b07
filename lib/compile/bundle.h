/*
 * lib/compile/bundle.h — ES modules: a Worker project's entry module and everything it imports, compiled into
 * ONE program (bundle.c builds the module graph, lower_module.c lowers each module's import/export).
 *
 * OUTPUT CONTRACT (ew__compile_bundle fills an ew__compile_out_t like ew__compile does):
 *   - text is one function expression `function (<helpers>) { ... }`: compile it with
 *     duk_compile(ctx, DUK_COMPILE_FUNCTION) and call it with `this` = the global object and the helper object
 *     (lib/js/helpers.js) as its argument, exactly like a script.
 *   - Module entry (in->module true): the call RETURNS the entry module's namespace object (sealed, keys
 *     sorted, Symbol.toStringTag 'Module'), so the runtime calls ns.default.fetch(request, env, ctx).
 *     Script entry (in->module false): same as ew__compile (returns undefined); the script cannot import.
 *   - out->map carries, per generated line, (file index, original line): ew__linemap_file / ew__linemap_lookup.
 *     out->files[file index] is that file's path as the bundler resolved it (entry = index 0); out->nfiles.
 *     Wrapper lines the bundler adds map to original line 0.
 *   - import.meta.url is "file://" + the module's absolute path ("file:///" + path when the path given was
 *     relative, e.g. file:///src/index.js): a module's path, not a worker-relative URL.
 *
 * Runtime shape (helpers.js `modules`): every module is a function called once; it first defines the getters
 * of its namespace (live bindings: an imported name is read as `<namespace of the exporter>.<name>`), then
 * evaluates its dependencies in import order, then runs its body. Hoisted functions of a module are therefore
 * usable by the modules it imports (cycles) — but not before the module itself has started (ES links every
 * module first: a hoisted function of a module not yet started reads as undefined; documented deviation).
 * No TDZ: an exported let read before its declaration ran gives undefined. A module with top-level await (or
 * importing one) returns its evaluation promise from its function; importers await R.wait(k) (helpers_module.js).
 */
#ifndef EW_COMPILE_BUNDLE_H
#define EW_COMPILE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compile.h"

/* Reads a file: returns its bytes in a malloc'd buffer (the bundler frees it; a NUL after len is not
 * required) and sets *len, or NULL when there is no such file (resolution then tries the next candidate). */
typedef char *(*ew__bundle_read_fn)(void *ud, const char *path, size_t *len);

typedef struct ew__bundle_opts {
    const char *entry;         /* path of the entry file ("src/index.js", "/w/src/index.js"); not copied */
    ew__bundle_read_fn read;   /* NULL: read files from disk */
    void *read_ud;
    bool module;               /* the entry is an ES module (Workers' module form); false: a script */
    bool entry_esm;            /* with module: the entry is an ES module even without import/export (never
                                * classified as CommonJS) */
    bool entry_script;         /* with module: the entry is a script (sloppy unless "use strict", `this` the
                                * global object, no namespace returned) whose import() calls load modules */
    /* optional: the entry already parsed as a module with import/export (entry.c): its arena is taken over
     * (left empty, the bundler disposes it) and its tree used; its strings point into the caller's source */
    ew__arena_t *entry_arena;
    ew__node_t *entry_prog;
} ew__bundle_opts_t;

/* Compiles the module graph from in->entry. True: *out filled (ew__compile_out_dispose frees it, the file table
 * too). False: diag filled ("file:line:col: SyntaxError: message" + code frame in diag->text; an unresolvable
 * specifier names the importing file:line:col and the specifier). diag->file points at in->entry when the error
 * is in the entry file and is NULL otherwise (the file's name is in diag->text). */
bool ew__compile_bundle(const ew__bundle_opts_t *in, ew__compile_out_t *out, ew__diag_t *diag);

/* Compiles a Worker's entry (entry.c): `src` (len bytes) is the text of the file at `path`; with import or
 * export declarations it is a module bundled with what it imports (read from disk relative to path),
 * otherwise a service-worker script. Same results as ew__compile / ew__compile_bundle. */
bool ew__compile_entry(const char *path, const char *src, size_t len, ew__compile_out_t *out, ew__diag_t *diag);

/* The same with the form given: EW__FORM_AUTO decides as ew__compile_entry does, EW__FORM_MODULE compiles an
 * ES module (bundled) even without import/export, EW__FORM_SCRIPT a script. Values match ew_source_type_t. */
enum { EW__FORM_AUTO = 0, EW__FORM_MODULE = 1, EW__FORM_SCRIPT = 2 };
bool ew__compile_entry_as(const char *path, const char *src, size_t len, int form, ew__compile_out_t *out,
                          ew__diag_t *diag);

/* The same, telling `observe` of every file it reads from disk (modules, package.json files; not the entry,
 * whose text the caller gave): the compile cache keeps them to notice an edited import. */
typedef void (*ew__read_observer_fn)(void *ud, const char *path, const char *data, size_t len);
bool ew__compile_entry_traced(const char *path, const char *src, size_t len, int form, ew__read_observer_fn observe,
                              void *observe_ud, ew__compile_out_t *out, ew__diag_t *diag);

/* ---------------------------------------------------------------------------------------------------------
 * Between bundle.c and lower_module.c (internal)
 */

enum { EW__MK_ESM, EW__MK_CJS, EW__MK_JSON };       /* module kinds */
enum { EW__EX_LOCAL, EW__EX_INDIRECT, EW__EX_NS };  /* how an exported name is read */

typedef struct ew__modexport {
    ew__str_t name;        /* the exported name */
    uint8_t kind;          /* EW__EX_* */
    ew__atom_t *local;     /* LOCAL: the module's binding (NULL: the `export default <expression>` slot) */
    uint32_t mod;          /* INDIRECT, NS: the module it comes from (a direct dependency) */
    ew__str_t import_name; /* INDIRECT: its name there */
} ew__modexport_t;

typedef struct ew__modctx {
    uint32_t index;                    /* this module's index in the bundle */
    const ew__modexport_t *exports;    /* every name of the namespace, star exports resolved, conflicts left out */
    uint32_t nexports;
    /* the module index a static import/export source (a string Literal of this module) resolved to */
    uint32_t (*request)(struct ew__modctx *m, const ew__node_t *source);
    /* whether module k provides name: 1 yes, 0 no, -1 ambiguous (conflicting star exports) */
    int (*provides)(struct ew__modctx *m, uint32_t k, ew__str_t name);
    uint8_t (*kind)(struct ew__modctx *m, uint32_t k); /* EW__MK_* */
    /* whether ES module k evaluates asynchronously: it has top-level await or imports such a module */
    bool (*is_async)(struct ew__modctx *m, uint32_t k);
    bool in_cycle;                     /* this module imports (transitively) itself */
    void *ud;
    ew__atom_t *registry;              /* set by ew__lower_module: the name of the registry parameter */
} ew__modctx_t;

#endif /* EW_COMPILE_BUNDLE_H */
