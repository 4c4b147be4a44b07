/*
 * lib/compile/lower.h — what the lowering passes (lower*.c), the scope analysis (scope.c), the tree builders
 * (build.c) and the pipeline entry (compile.c) share.
 *
 * A pass is a walk over the tree (ew__walk) with a pre and a post callback; the walker keeps a stack of function
 * frames so a pass can ask for a temporary (ew__temp) that is declared with `var` at the top of the innermost
 * function when the walk leaves it. Every node a pass builds copies the position of the node it replaces, so the
 * emitter keeps it on that line; nodes hoisted elsewhere (declarations at a function's top) get line 0 ("print
 * inline"). Errors longjmp back to ew__compile with an ew__diag_t filled, like the parser. Design and pass order:
 * docs/compiler.md.
 */
#ifndef EW_COMPILE_LOWER_H
#define EW_COMPILE_LOWER_H

#include "internal.h"

/* ew__node_t.spare bits used by the passes (the parser leaves spare 0). */
enum {
    EW__SP_PROLOGUE = 1,   /* a statement a pass put at the top of a function body (captures, temps): later
                            * prologue statements go after it */
    EW__SP_WAS_LEXICAL = 2,/* a VariableDeclaration that was let/const/class (block.c), stays in loop bodies */
    EW__SP_CONST_WRITE = 4,/* an Identifier that assigns to a const binding (scope.c) */
    EW__SP_FOROF_BLOCK = 8,/* the block a for-of became; its loop is found by ew__forof_loop_slot */
    EW__SP_LOOP_BODY = 16, /* an arrow made by block.c for a per-iteration loop body */
    EW__SP_DONE = 32,      /* a node a pass made and must not lower again */
    EW__SP_IMPORT_REF = 64,/* lower_module.c: a read of an import binding rewritten to a namespace member */
    EW__SP_GEN_BODY = 128, /* lower_async.c: the body function of a generator (catch clauses rethrow $ew.RET) */
    EW__SP_TDZ = 256,      /* lower_block.c: an Identifier of a let/const/class binding (its TDZ is checked) */
    EW__SP_INERT = 512     /* lower_class.c: a class evaluation that runs no user code (no heritage call,
                            * computed key, static initialiser or block) */
};

/* ---------------------------------------------------------------------------------------------------------
 * Scope analysis (scope.c)
 */

enum { EW__BK_VAR, EW__BK_LET, EW__BK_CONST, EW__BK_CLASS, EW__BK_FUNCTION, EW__BK_PARAM, EW__BK_CATCH,
       EW__BK_IMPORT };

enum { EW__SK_FUNCTION, EW__SK_BLOCK, EW__SK_LOOP, EW__SK_CATCH, EW__SK_CLASS };

/* Uses seen in a non-arrow function (arrows report to their enclosing function). */
enum { EW__USE_THIS = 1, EW__USE_ARGUMENTS = 2, EW__USE_NEW_TARGET = 4, EW__USE_SUPER = 8, EW__USE_EVAL = 16 };

typedef struct ew__sscope ew__sscope_t;

typedef struct ew__sbinding {
    ew__atom_t *name;
    uint8_t kind;                 /* EW__BK_* */
    bool captured;                /* referenced from a function nested in the binding's function */
    bool assigned;                /* written after its declaration */
    ew__sscope_t *scope;
    bool in_init;                 /* lower_block.c: its declarator's initialiser is being walked */
    bool tdz_runtime;             /* lower_block.c: a closure may read it before its declaration ran */
    ew__node_t **refs;            /* Identifier nodes: declarations and references (arena vector) */
    uint32_t nrefs, cap;
    struct ew__sbinding *next;    /* in the scope, declaration order */
    struct ew__sbinding *hnext;   /* hash chain */
} ew__sbinding_t;

struct ew__sscope {
    ew__sscope_t *parent;
    ew__sscope_t *fn;             /* the enclosing function scope (itself for a function) */
    ew__node_t *node;             /* Program, function, block, loop, catch clause, switch, class */
    uint8_t kind;                 /* EW__SK_* */
    uint8_t uses;                 /* EW__USE_* (function scopes) */
    bool strict;
    bool wrap_loop;               /* EW__SK_LOOP: a closure captures a binding declared in the loop */
    uint32_t first_active;        /* lower_block.c: 1 + index of the first statement that may run user code
                                   * (0: not computed yet) */
    ew__sbinding_t *bindings, *last;
};

typedef struct ew__scopes {
    ew__sscope_t *root;
    /* (scope, name) -> binding and node -> scope: open hash tables in the arena */
    ew__sbinding_t **bind_tab;
    uint32_t bind_mask, nbind;
    struct ew__scope_slot { const ew__node_t *node; ew__sscope_t *scope; } *node_tab;
    uint32_t node_mask, nnode;
    /* occurrences of each name in the module (declarations + references) */
    struct ew__name_count { const ew__atom_t *name; uint32_t count; } *name_tab;
    uint32_t name_mask, nname;
} ew__scopes_t;

typedef struct ew__lower ew__lower_t;

/* Builds the scopes of the tree in L->program (after earlier passes); fills L->scopes. */
void ew__scope_analyze(ew__lower_t *L);
/* The scope a node opened (function, block, loop, catch, switch, class), or NULL. */
ew__sscope_t *ew__scope_of(ew__lower_t *L, const ew__node_t *n);
/* Declarations + references of a name anywhere in the module. */
uint32_t ew__scope_name_count(ew__lower_t *L, const ew__atom_t *name);

/* ---------------------------------------------------------------------------------------------------------
 * The lowering context and the walker (lower.c)
 */

typedef struct ew__lfn {
    struct ew__lfn *parent;
    ew__node_t *fn;               /* function node or Program */
    ew__nodes_t temps;            /* Identifier nodes to declare with var (arena vector) */
    uint32_t temps_cap;
    bool is_arrow;
    /* arrow pass: temporaries holding this / arguments / new.target of this (non-arrow) function, declared
     * first in its body when the walk leaves it */
    ew__atom_t *cap_this, *cap_args, *cap_new_target;
    ew__atom_t *cap_uninit;       /* block pass: a local copy of L->uninit for this function's TDZ guards */
    ew__atom_t *cap_arr;          /* destructuring pass: a local copy of $ew.arr for array patterns in loops */
    uint32_t loops;               /* destructuring pass: loops of this function the walk is in */
} ew__lfn_t;

struct ew__lower {
    ew__arena_t *arena;
    const char *src;
    size_t len;
    const char *file;
    ew__diag_t *diag;
    jmp_buf fail;
    ew__node_t *program;
    bool module;
    /* fresh names: prefix (no name in the module starts with it) + counter */
    char prefix[16];
    uint32_t prefix_len;
    uint32_t counter;
    ew__atom_t *helpers;          /* the hidden parameter: the runtime helper object */
    ew__nodes_t module_vars;      /* per-site caches (templates) declared at the top of the program */
    uint32_t module_vars_cap;
    ew__lfn_t *fn;                /* innermost function frame of the running walk */
    uint32_t depth;
    ew__scopes_t scopes;
    unsigned features;            /* EW__FEAT_*: what the module uses (scope.c); passes with nothing to do are skipped */
    struct ew__modctx *mod;       /* the bundle's view of this ES module (lower_module.c); NULL outside the bundler:
                                   * then import/export are errors */
    ew__atom_t *uninit;           /* block pass: the program-level variable holding $ew.U (TDZ sentinel) */
    bool regex_groups;            /* lower_regex.c: a literal with named groups (the program starts with
                                   * $ew.regexInit(), so String.prototype.match/replace see .groups) */
    bool regex_flags;             /* lower_regex.c: a literal with the y or d flag (the program starts with
                                   * $ew.regexFlagsInit(), so String.prototype methods follow them) */
    bool global_script;           /* a script: its top-level var/function declarations are global properties
                                   * (lower_global.c) */
};

/* Constructs seen by scope analysis: each pass runs only if the module has what it lowers. */
enum {
    EW__FEAT_BLOCK = 1, EW__FEAT_ARROW = 2, EW__FEAT_PARAMS = 4, EW__FEAT_FOROF = 8, EW__FEAT_PATTERN = 16,
    EW__FEAT_MISC = 32, EW__FEAT_SPREAD = 64, EW__FEAT_CLASS = 128,
    EW__FEAT_CORO = 256, /* async functions, generators, await, yield, for await */
    EW__FEAT_THIS = 512, /* ew__node_t.feat only: this, arguments, new.target (what an arrow captures) */
    EW__FEAT_TEMPLATE = 1024, /* ew__node_t.feat only: template literals and regex literals (last pass) */
    EW__FEAT_VALID = 0x80000000u /* ew__node_t.feat: the bits are known for the whole subtree */
};
/* The EW__FEAT_* bits a node needs by itself (not its children); also what scope analysis records. */
unsigned ew__node_own_features(const ew__node_t *n);

/* Fails the compilation at node n (or at the start when NULL) with a message: longjmps to ew__compile. */
__attribute__((noreturn, format(printf, 3, 4))) void ew__lower_error(ew__lower_t *L, const ew__node_t *n,
                                                                     const char *fmt, ...);
/* Arena memory (zeroed); fails the compilation when out of memory. */
void *ew__lalloc(ew__lower_t *L, size_t n);
/* Appends to an arena vector of nodes (doubling). */
void ew__nodes_push(ew__lower_t *L, ew__nodes_t *v, uint32_t *cap, ew__node_t *n);

/* A walk: pre runs before a node's children (return true to skip them), post after; either may replace *slot.
 * Function frames are pushed for Program and function nodes, and their temps declared when the walk leaves.
 * A walk with a mask skips, without calling pre or post, every subtree known to hold none of the mask's
 * features, unless noskip (which a pass raises while it is inside a construct where every node matters, e.g. an
 * arrow's body) is set; it leaves in every node it walked the features of its subtree (ew__node_t.feat), and so
 * does a walk with feats set (the block pass, the last full walk before the masked ones). The walks before it
 * (modules, classes) and after the masked ones (templates) neither read nor write the bits. */
typedef struct ew__walk {
    ew__lower_t *L;
    bool (*pre)(struct ew__walk *w, ew__node_t **slot);
    void (*post)(struct ew__walk *w, ew__node_t **slot);
    void *ud;
    unsigned mask;                /* EW__FEAT_* this walk has work for (0: walk everything) */
    unsigned noskip;              /* > 0: walk everything */
    bool feats;                   /* compute ew__node_t.feat even without a mask */
} ew__walk_t;
void ew__walk(ew__walk_t *w, ew__node_t **slot);

/* A fresh Identifier (declared in the innermost function when the walk leaves it), at n's position. */
ew__node_t *ew__temp(ew__lower_t *L, const ew__node_t *at);
/* A fresh name not declared anywhere (the caller declares it). `hint` (may be NULL) is appended for reading. */
ew__atom_t *ew__fresh(ew__lower_t *L, const char *hint, uint32_t hint_len);
/* Inserts statements at the top of a function body or Program (after directives and earlier prologue). */
void ew__prepend(ew__lower_t *L, ew__node_t *fn_or_program, ew__node_t **stmts, uint32_t n);
/* The statement list of a function (block body) or Program. */
ew__nodes_t *ew__body_of(ew__node_t *fn_or_program);
/* Is n a function node (declaration, expression, arrow)? */
static inline bool ew__is_function(const ew__node_t *n)
{
    return n->type == EW__N_FunctionExpression || n->type == EW__N_FunctionDeclaration ||
           n->type == EW__N_ArrowFunctionExpression;
}

/* ---------------------------------------------------------------------------------------------------------
 * Tree builders (build.c). `at` gives the position (NULL: line 0, printed inline).
 */
ew__node_t *ew__b_node(ew__lower_t *L, ew__node_type_t type, const ew__node_t *at);
ew__node_t *ew__b_ident(ew__lower_t *L, ew__atom_t *name, const ew__node_t *at);
ew__node_t *ew__b_ident_str(ew__lower_t *L, const char *name, const ew__node_t *at);
ew__node_t *ew__b_clone_ident(ew__lower_t *L, const ew__node_t *id, const ew__node_t *at);
ew__node_t *ew__b_str(ew__lower_t *L, const char *s, uint32_t len, const ew__node_t *at);
ew__node_t *ew__b_num(ew__lower_t *L, double v, const ew__node_t *at);
ew__node_t *ew__b_bool(ew__lower_t *L, bool v, const ew__node_t *at);
ew__node_t *ew__b_null(ew__lower_t *L, const ew__node_t *at);
ew__node_t *ew__b_undefined(ew__lower_t *L, const ew__node_t *at);   /* void 0 */
ew__node_t *ew__b_this(ew__lower_t *L, const ew__node_t *at);
ew__nodes_t ew__b_list(ew__lower_t *L, uint32_t n, ...);            /* n nodes (NULLs skipped) */
ew__nodes_t ew__b_list_copy(ew__lower_t *L, ew__node_t *const *items, uint32_t n);
ew__node_t *ew__b_member(ew__lower_t *L, ew__node_t *obj, const char *prop, const ew__node_t *at);
ew__node_t *ew__b_index(ew__lower_t *L, ew__node_t *obj, ew__node_t *key, const ew__node_t *at);
ew__node_t *ew__b_call(ew__lower_t *L, ew__node_t *callee, ew__nodes_t args, const ew__node_t *at);
/* $ew.name(args...): a call of a runtime helper through the hidden parameter. */
ew__node_t *ew__b_helper(ew__lower_t *L, const char *name, ew__nodes_t args, const ew__node_t *at);
ew__node_t *ew__b_binary(ew__lower_t *L, uint8_t op, ew__node_t *l, ew__node_t *r, const ew__node_t *at);
ew__node_t *ew__b_logical(ew__lower_t *L, uint8_t op, ew__node_t *l, ew__node_t *r, const ew__node_t *at);
ew__node_t *ew__b_assign(ew__lower_t *L, ew__node_t *target, ew__node_t *value, const ew__node_t *at);
ew__node_t *ew__b_unary(ew__lower_t *L, uint8_t op, ew__node_t *arg, const ew__node_t *at);
ew__node_t *ew__b_cond(ew__lower_t *L, ew__node_t *test, ew__node_t *yes, ew__node_t *no, const ew__node_t *at);
ew__node_t *ew__b_seq(ew__lower_t *L, ew__nodes_t exprs, const ew__node_t *at); /* one item: that item */
ew__node_t *ew__b_expr_stmt(ew__lower_t *L, ew__node_t *e, const ew__node_t *at);
ew__node_t *ew__b_var(ew__lower_t *L, ew__node_t *id, ew__node_t *init, const ew__node_t *at);
ew__node_t *ew__b_declarator(ew__lower_t *L, ew__node_t *id, ew__node_t *init, const ew__node_t *at);
ew__node_t *ew__b_block(ew__lower_t *L, ew__nodes_t body, const ew__node_t *at);
ew__node_t *ew__b_return(ew__lower_t *L, ew__node_t *arg, const ew__node_t *at);
ew__node_t *ew__b_if(ew__lower_t *L, ew__node_t *test, ew__node_t *yes, ew__node_t *no, const ew__node_t *at);
ew__node_t *ew__b_throw(ew__lower_t *L, ew__node_t *arg, const ew__node_t *at);
ew__node_t *ew__b_array(ew__lower_t *L, ew__nodes_t elements, const ew__node_t *at);
ew__node_t *ew__b_object(ew__lower_t *L, ew__nodes_t props, const ew__node_t *at);
ew__node_t *ew__b_prop(ew__lower_t *L, ew__node_t *key, ew__node_t *value, const ew__node_t *at);
/* `x === void 0` */
ew__node_t *ew__b_is_undefined(ew__lower_t *L, ew__node_t *x, const ew__node_t *at);
/* A method-shorthand function value: `({name(params) {body}}).name` (no .prototype: freed by refcount). */
ew__node_t *ew__b_method_fn(ew__lower_t *L, ew__atom_t *name, ew__node_t *fn, const ew__node_t *at);
/* Whether evaluating e twice is harmless and cheap (a literal, `this`, a temp). */
bool ew__b_is_pure(ew__lower_t *L, const ew__node_t *e);

/* ---------------------------------------------------------------------------------------------------------
 * Passes, in pipeline order (lower.c runs them)
 */
/* lower_class.c: classes, super, private names (then scope analysis runs again on its output). */
void ew__lower_class(ew__lower_t *L);
void ew__lower_block(ew__lower_t *L);
/* lower_async.c: async functions, generators, await/yield, for await, top-level await (docs/coroutines.md). */
void ew__lower_async(ew__lower_t *L);
void ew__lower_arrow(ew__lower_t *L);
void ew__lower_forof(ew__lower_t *L);
void ew__lower_destructure(ew__lower_t *L);
void ew__lower_misc(ew__lower_t *L);
/* lower_misc.c: an optional chain to conditionals (`del`: it is the operand of delete, which it includes); also
 * used by the class pass for chains that reach a private name (`o?.c.#f`). */
ew__node_t *ew__lower_chain(ew__lower_t *L, ew__node_t *chain, bool del);
void ew__lower_spread(ew__lower_t *L);
void ew__lower_template(ew__lower_t *L);
/* lower_regex.c: one regex literal for Duktape (s/u flags, named groups; y/d rejected). */
void ew__lower_regex(ew__lower_t *L, ew__node_t **slot);
/* lower_regex_indices.c: rewrites *pattern (ES5 syntax) for the d flag; returns the group map array. */
ew__node_t *ew__lower_regex_indices(ew__lower_t *L, const ew__node_t *at, ew__str_t *pattern);
/* lower_global.c: a script's top-level var and function declarations to global properties. */
void ew__lower_global(ew__lower_t *L);
/* lower_module.c: import/export to registry calls (runs first, when L->mod is set; see lower_module.h). */
void ew__lower_module(ew__lower_t *L);
/* lower_params.c: one function's parameters (called by the arrow pass's walk). */
void ew__params_lower_fn(ew__lower_t *L, ew__node_t *f);
/* lower.c: fails on a node that only ES2015+ has (called on each node by the template pass's walk, last). */
void ew__check_es5_node(ew__lower_t *L, const ew__node_t *n);
/* lower.c: fails on a feature no pass lowers yet (called on each node by scope analysis). */
void ew__check_supported_node(ew__lower_t *L, const ew__node_t *n);
/* Runs scope analysis and every pass on L->program. */
void ew__lower_run(ew__lower_t *L);

/* Destructuring (lower_destructure.c), also used by for-of and params: appends to `out` the pieces of
 * `pattern = value` as expressions (decl false: assignments) or declarators (decl true). */
void ew__destructure(ew__lower_t *L, ew__node_t *pattern, ew__node_t *value, bool decl, ew__nodes_t *out,
                     uint32_t *cap);

#endif /* EW_COMPILE_LOWER_H */
