/*
 * lib/compile/internal.h — what the files of the compiler (lib/compile) share.
 *
 * The front end: an arena (arena.c) that holds everything one compilation allocates, diagnostics with a code
 * frame (diag.c), the lexer (lexer.c, regexp.c, unicode_id.c) and the recursive-descent parser (parser.c for the
 * shared machinery and scopes, parse_expr.c, parse_stmt.c, parse_func.c for functions/classes/patterns,
 * parse_module.c). The AST is described in ast.h; ast.c and ast_dump.c reflect over it.
 *
 * Error model: parse errors are values for callers (ew__parse returns NULL and fills an ew__diag_t). Inside the
 * parser the first error longjmps back to ew__parse (like Lua's luaD_throw): the parse is abandoned at once and all
 * memory it used is in the arena or in the parser's own scratch buffers, which ew__parse frees, so nothing leaks
 * and the hundreds of call sites need no error plumbing.
 */
#ifndef EW_COMPILE_INTERNAL_H
#define EW_COMPILE_INTERNAL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ast.h"

/* memcpy that accepts (NULL, NULL, 0): empty node lists have NULL items, and memcpy with a NULL pointer is
 * undefined even for 0 bytes (UBSan reports it). */
#define EW__MEMCPY(dst, src, n)                                                                                    \
    do {                                                                                                           \
        size_t ew__memcpy_n_ = (n);                                                                                \
        if (ew__memcpy_n_ > 0)                                                                                     \
            memcpy((dst), (src), ew__memcpy_n_);                                                                   \
    } while (0)

/* ---------------------------------------------------------------------------------------------------------
 * Arena (arena.c): a bump allocator; one per compilation, freed once.
 */

typedef struct ew__arena_chunk ew__arena_chunk_t;

typedef struct ew__arena {
    ew__arena_chunk_t *head;  /* newest chunk */
    char *ptr;                /* next free byte in head */
    char *end;                /* end of head */
    size_t total;             /* bytes obtained from malloc, for statistics */
} ew__arena_t;

void ew__arena_init(ew__arena_t *a);
/* Frees every chunk; the arena may be reused after ew__arena_init. */
void ew__arena_dispose(ew__arena_t *a);
/* n bytes aligned to 8, uninitialised; NULL when malloc fails. The fast path is inline (one per node). */
void *ew__arena_alloc_slow(ew__arena_t *a, size_t n);
static inline void *ew__arena_alloc(ew__arena_t *a, size_t n)
{
    n = (n + 7) & ~(size_t) 7;
    if (n && (size_t) (a->end - a->ptr) >= n) {
        void *p = a->ptr;
        a->ptr += n;
        return p;
    }
    return ew__arena_alloc_slow(a, n);
}
/* Frees everything but the newest (largest) chunk and rewinds it: a compiler that runs again and again keeps its
 * memory warm instead of faulting in fresh pages for every file. */
void ew__arena_reset(ew__arena_t *a);
/* Like ew__arena_alloc, zero-filled. */
void *ew__arena_zalloc(ew__arena_t *a, size_t n);
/* Shrinks the most recent allocation p (of any size) to n bytes, giving the tail back. */
void ew__arena_shrink_last(ew__arena_t *a, void *p, size_t old_n, size_t n);

/* A new atom that is not interned (for names made by passes). NULL on allocation failure. */
ew__atom_t *ew__atom_new(ew__arena_t *a, const char *s, size_t len);

/* ---------------------------------------------------------------------------------------------------------
 * Diagnostics (diag.c)
 */

typedef struct ew__diag {
    char message[240];   /* "Unexpected token '}'" */
    const char *file;    /* the caller's file name, not copied */
    uint32_t line;       /* 1-based */
    uint32_t column;     /* 1-based, UTF-16 code units */
    uint32_t offset;     /* byte offset in the source */
    char *text;          /* malloc'd: "file:line:col: SyntaxError: message\n<source line>\n<caret>\n"; may be NULL
                          * if that allocation failed; freed by ew__diag_dispose */
} ew__diag_t;

void ew__diag_init(ew__diag_t *d);
void ew__diag_dispose(ew__diag_t *d);
/* Fills d (replacing any earlier text) with a SyntaxError at offset/line/column and formats the code frame from the
 * source. */
void ew__diag_set(ew__diag_t *d, const char *file, const char *src, size_t src_len, uint32_t offset, uint32_t line,
                  uint32_t column, const char *message);

/* ---------------------------------------------------------------------------------------------------------
 * Parsing: the entry point.
 */

typedef struct ew__parse_opts {
    const char *src;     /* UTF-8; must stay valid as long as the arena (string values may point into it) */
    size_t len;          /* bytes; at most 2^32 - 2 */
    const char *file;    /* for diagnostics */
    bool module;         /* goal symbol: Module (strict, import/export, top-level await) or Script */
} ew__parse_opts_t;

/* Parses one file into a Program node allocated in `arena`. Returns NULL on a syntax error (or when out of memory)
 * with diag filled; the caller disposes diag either way. Reentrant; no global state. */
ew__node_t *ew__parse(ew__arena_t *arena, const ew__parse_opts_t *opts, ew__diag_t *diag);

/* src (may be NULL) is the parsed source, for literals' "raw". Appends the ESTree JSON of n to a malloc'd NUL-terminated string (*out, freed by the caller); positions are
 * included as "start","end","line","col" when with_pos. Returns false when out of memory. */
bool ew__ast_dump(const ew__node_t *n, const char *src, bool with_pos, char **out, size_t *out_len);

/* ---------------------------------------------------------------------------------------------------------
 * Tokens. X(name, text); the order groups them: binary operators have precedences (parser.c), the assignment
 * operators are contiguous, reserved words come last (their atoms carry the token type in atom->keyword).
 */

#define EW__TOKENS(X)                                                                                              \
    X(EOF, "end of input")                                                                                         \
    X(NAME, "identifier")                                                                                          \
    X(PRIVATE, "private name")                                                                                     \
    X(NUM, "number")                                                                                               \
    X(STRING, "string")                                                                                            \
    X(TEMPLATE, "template")                                                                                        \
    X(REGEX, "regular expression")                                                                                 \
    X(LBRACE, "{") X(RBRACE, "}") X(LPAREN, "(") X(RPAREN, ")") X(LBRACK, "[") X(RBRACK, "]")                       \
    X(DOT, ".") X(ELLIPSIS, "...") X(SEMI, ";") X(COMMA, ",") X(QUESTION, "?") X(QDOT, "?.") X(COLON, ":")        \
    X(ARROW, "=>") X(INC, "++") X(DEC, "--") X(BANG, "!") X(TILDE, "~")                                            \
    /* binary operators */                                                                                         \
    X(NULLISH, "??") X(OR, "||") X(AND, "&&") X(PIPE, "|") X(CARET, "^") X(AMP, "&")                               \
    X(EQ, "==") X(NE, "!=") X(SEQ, "===") X(SNE, "!==")                                                            \
    X(LT, "<") X(GT, ">") X(LE, "<=") X(GE, ">=")                                                                  \
    X(SHL, "<<") X(SAR, ">>") X(SHR, ">>>") X(PLUS, "+") X(MINUS, "-")                                             \
    X(STAR, "*") X(SLASH, "/") X(PERCENT, "%") X(STARSTAR, "**")                                                   \
    /* assignment operators */                                                                                     \
    X(ASSIGN, "=") X(PLUS_ASSIGN, "+=") X(MINUS_ASSIGN, "-=") X(STAR_ASSIGN, "*=") X(SLASH_ASSIGN, "/=")           \
    X(PERCENT_ASSIGN, "%=") X(STARSTAR_ASSIGN, "**=") X(SHL_ASSIGN, "<<=") X(SAR_ASSIGN, ">>=")                    \
    X(SHR_ASSIGN, ">>>=") X(AMP_ASSIGN, "&=") X(PIPE_ASSIGN, "|=") X(CARET_ASSIGN, "^=")                           \
    X(AND_ASSIGN, "&&=") X(OR_ASSIGN, "||=") X(NULLISH_ASSIGN, "?\?=")                                              \
    /* reserved words */                                                                                           \
    X(K_BREAK, "break") X(K_CASE, "case") X(K_CATCH, "catch") X(K_CLASS, "class") X(K_CONST, "const")              \
    X(K_CONTINUE, "continue") X(K_DEBUGGER, "debugger") X(K_DEFAULT, "default") X(K_DELETE, "delete")              \
    X(K_DO, "do") X(K_ELSE, "else") X(K_ENUM, "enum") X(K_EXPORT, "export") X(K_EXTENDS, "extends")                \
    X(K_FALSE, "false") X(K_FINALLY, "finally") X(K_FOR, "for") X(K_FUNCTION, "function") X(K_IF, "if")           \
    X(K_IMPORT, "import") X(K_IN, "in") X(K_INSTANCEOF, "instanceof") X(K_NEW, "new") X(K_NULL, "null")           \
    X(K_RETURN, "return") X(K_SUPER, "super") X(K_SWITCH, "switch") X(K_THIS, "this") X(K_THROW, "throw")          \
    X(K_TRUE, "true") X(K_TRY, "try") X(K_TYPEOF, "typeof") X(K_VAR, "var") X(K_VOID, "void")                     \
    X(K_WHILE, "while") X(K_WITH, "with")

typedef enum ew__tok {
#define EW__X_TOK(n, t) EW__T_##n,
    EW__TOKENS(EW__X_TOK)
#undef EW__X_TOK
    EW__T_COUNT
} ew__tok_t;

#define EW__T_FIRST_KEYWORD EW__T_K_BREAK

/* ew__token_t.flags */
enum {
    EW__TF_NL_BEFORE = 1,    /* a line terminator precedes the token (ASI, restricted productions) */
    EW__TF_ESCAPED = 2,      /* NAME: written with \u escapes (such a keyword is only an identifier, if anything) */
    EW__TF_OCTAL = 4,        /* NUM: legacy octal/leading zero; STRING: \0nn or \8 \9 escape (strict errors) */
    EW__TF_TPL_TAIL = 8,     /* TEMPLATE: ends with a backtick, not with "${" */
    EW__TF_TPL_BAD = 16      /* TEMPLATE: an invalid escape (cooked is NULL; an error unless tagged) */
};

typedef struct ew__token {
    uint8_t type;        /* ew__tok_t */
    uint8_t flags;       /* EW__TF_* */
    uint32_t start, end; /* byte offsets */
    uint32_t line, col;  /* of start */
    uint32_t bad_pos;    /* offset of the octal escape (TF_OCTAL) or invalid template escape (TF_TPL_BAD) */
    ew__atom_t *atom;    /* NAME, PRIVATE (without '#'), reserved words */
    double num;          /* NUM */
    ew__str_t str;       /* STRING, TEMPLATE: cooked value */
    ew__str_t raw;       /* TEMPLATE: raw text; REGEX: body */
    ew__str_t rflags;    /* REGEX: flags */
} ew__token_t;

/* ---------------------------------------------------------------------------------------------------------
 * Parser state, shared by lexer.c and the parse_*.c files. Scopes, function contexts and classes are described
 * in parser.c where they are managed.
 */

typedef struct ew__scope ew__scope_t;
typedef struct ew__fnctx ew__fnctx_t;
typedef struct ew__classctx ew__classctx_t;
typedef struct ew__label ew__label_t;

/* ew__atom_t.flags */
enum {
    EW__ATOM_EXPORTED = 1, /* exported by this module (duplicate exports) */
    EW__ATOM_SPECIAL = 2   /* a name with rules: contextual keyword, strict-mode reserved, eval, arguments */
};

/* Contextual keywords and special names, interned once so the parser compares pointers. */
typedef struct ew__names {
    ew__atom_t *let, *static_, *yield, *await, *async, *of, *get, *set, *as, *from, *target, *meta;
    ew__atom_t *eval, *arguments, *constructor, *prototype, *proto, *default_, *star;
    ew__atom_t *implements, *interface, *package, *private_, *protected_, *public_;
} ew__names_t;

typedef struct ew__parser {
    ew__arena_t *arena;
    const char *src;
    uint32_t len;
    const char *file;
    bool module;
    ew__diag_t *diag;
    jmp_buf fail;

    /* lexer position */
    uint32_t pos;          /* next byte to read */
    uint32_t line;         /* line of pos */
    uint32_t line_start;   /* offset where that line starts */
    uint32_t col_pos;      /* column cache for lines with non-ASCII text: a known (offset, column) pair ... */
    uint32_t col_units;    /* ... on the current line */
    bool line_ascii;       /* nothing but ASCII seen on the current line so far */
    ew__token_t tok;       /* the current token */
    uint32_t prev_end;     /* end of the previous token (node ends) */
    uint32_t prev_line;    /* line of the previous token's end, for ASI in do-while */

    /* atoms: open hash table, in the arena */
    ew__atom_t **atoms;
    uint32_t atom_mask;
    uint32_t atom_count;
    ew__names_t n;

    /* scratch stack of nodes for building lists (malloc'd, reused; lists are copied to the arena) */
    ew__node_t **stack;
    uint32_t sp, stack_cap;

    /* contexts */
    ew__scope_t *scope;
    ew__fnctx_t *fn;
    ew__classctx_t *cls;
    ew__label_t *labels;
    struct ew__export_ref *export_refs;   /* module: local names exported by `export { x }`, checked at the end */
    void *c_locale;                       /* locale_t for strtod, created on first use */
    uint32_t depth;                       /* nesting depth (limit EW__MAX_DEPTH) */
    uintptr_t stack_base;                 /* frame address at ew__parse entry (limit EW__MAX_STACK) */

    /* cover grammar bookkeeping (positions + 1; 0 = none), saved and reset around candidate arrow params */
    uint32_t yield_pos, await_pos, await_ident_pos;
    uint32_t potential_arrow_at;          /* start of the current AssignmentExpression + 1: where an arrow may begin */
} ew__parser_t;

/* Nesting limits: a program nested deeper gets a "Too much nesting" SyntaxError instead of a C stack overflow.
 * Besides the depth count, the C stack used by the parse is capped: the thread calling ew__parse needs
 * EW__MAX_STACK plus a margin (say 128 KiB) of stack. 512 KiB allows ~700 nested parentheses or ~400 nested
 * functions, far beyond real code. */
#define EW__MAX_DEPTH 1500
#define EW__MAX_STACK (512u * 1024u)

/* Reports a SyntaxError at byte offset `at` and longjmps out of the parse. */
__attribute__((noreturn, format(printf, 3, 4))) void ew__perror(ew__parser_t *p, uint32_t at, const char *fmt, ...);
/* "Unexpected token 'x'" (or end of input, string, number ...) at the current token. */
__attribute__((noreturn)) void ew__unexpected(ew__parser_t *p);
/* Line and column of a byte offset (at or before the lexer position). */
void ew__pos_linecol(ew__parser_t *p, uint32_t at, uint32_t *line, uint32_t *col);

/* Arena allocation that longjmps with "out of memory" on failure. */
void *ew__palloc(ew__parser_t *p, size_t n);

/* lexer.c */
void ew__lex_init(ew__parser_t *p);
/* Reads the next token into p->tok ("/" and "/=" are division; see ew__lex_regex). */
void ew__lex_next(ew__parser_t *p);
/* Re-reads the current "/" or "/=" token as a regular expression literal. */
void ew__lex_regex(ew__parser_t *p);
/* After the `}` closing a template substitution (the current token): reads the next template piece. */
void ew__lex_template_continue(ew__parser_t *p);
/* Interns a name. */
ew__atom_t *ew__intern(ew__parser_t *p, const char *s, size_t len);
/* Text of a token type. */
const char *ew__tok_text(ew__tok_t t);

/* Lexer state to look ahead and come back. */
typedef struct ew__lex_state {
    uint32_t pos, line, line_start, col_pos, col_units, prev_end, prev_line;
    bool line_ascii;
    ew__token_t tok;
} ew__lex_state_t;
void ew__lex_save(const ew__parser_t *p, ew__lex_state_t *s);
void ew__lex_restore(ew__parser_t *p, const ew__lex_state_t *s);

/* regexp.c: validates a regex body and flags; returns NULL or an error message, with *err_at the offset within the
 * body (or flags) of the problem. Rejects out-of-scope features (lookbehind, \p{...}) with a message saying so. */
const char *ew__regexp_check(const char *body, uint32_t len, const char *flags, uint32_t flags_len, uint32_t *err_at,
                             bool *in_flags);

/* unicode_id.c: ID_Start / ID_Continue for code points >= 0x80. */
bool ew__uni_id_start(uint32_t cp);
bool ew__uni_id_continue(uint32_t cp);

/* UTF-8 helpers (lexer.c): decode one code point at s (n bytes available); returns its length, 0 if invalid. */
uint32_t ew__utf8_decode(const unsigned char *s, uint32_t n, uint32_t *cp);
/* Encodes cp (surrogates allowed: WTF-8) into out; returns the length (1-4). */
uint32_t ew__utf8_encode(uint32_t cp, char *out);


/* ---------------------------------------------------------------------------------------------------------
 * Parser internals shared by parser.c and parse_*.c. Scope and context rules are explained in parser.c.
 */

/* Kinds of declaration, a bit set per (name, scope) record. */
enum {
    EW__B_VAR = 1,          /* var, and function declarations treated like var (function top level, sloppy) */
    EW__B_LEXICAL = 2,      /* let, const, class, strict/module/generator/async function in a block */
    EW__B_FUNCTION = 4,     /* sloppy-mode plain function declaration in a block (Annex B duplicates allowed) */
    EW__B_CATCH = 8,        /* the simple identifier parameter of a catch clause */
    EW__B_PARAM = 16        /* a formal parameter (also VAR) */
};

typedef struct ew__binding {
    ew__atom_t *atom;
    ew__scope_t *scope;
    uint8_t kinds;                 /* EW__B_* */
    uint32_t pos;                  /* first declaration, for messages */
    struct ew__binding *atom_next; /* other open scopes declaring this name */
    struct ew__binding *scope_next;
} ew__binding_t;

/* ew__scope_t.flags */
enum {
    EW__SC_VAR = 1,          /* a var scope: function body, program, static block */
    EW__SC_TOP = 2,          /* the program */
    EW__SC_SIMPLE_CATCH = 4, /* a catch clause with a simple identifier parameter (its body shares the scope) */
    EW__SC_FUNCTION = 8      /* a function's var scope (functions declared at its top level act like var) */
};

struct ew__scope {
    ew__scope_t *parent;
    uint8_t flags;
    ew__binding_t *decls;
};

/* ew__fnctx_t.flags: what the innermost function (arrows included) allows. */
enum {
    EW__FN_ASYNC = 1,
    EW__FN_GENERATOR = 2,
    EW__FN_ARROW = 4,
    EW__FN_SUPER_PROP = 8,     /* super.x allowed (methods, field initialisers, static blocks; inherited by arrows) */
    EW__FN_SUPER_CALL = 16,    /* super() allowed (derived constructors; inherited by arrows) */
    EW__FN_NEW_TARGET = 32,    /* new.target allowed (any non-arrow function; inherited by arrows) */
    EW__FN_NO_ARGUMENTS = 64,  /* `arguments` forbidden (field initialisers, static blocks; inherited by arrows) */
    EW__FN_STATIC_BLOCK = 128, /* a class static block (await reserved, no return) */
    EW__FN_TOP = 256,          /* the program itself */
    EW__FN_PARAMS = 512        /* parsing the formal parameters */
};

struct ew__fnctx {
    ew__fnctx_t *parent;
    uint16_t flags;
    bool strict;
    uint32_t iter_depth;     /* enclosing loops (continue) */
    uint32_t break_depth;    /* enclosing loops and switches (break) */
};

typedef struct ew__private {
    ew__atom_t *atom;
    uint32_t pos;
    uint8_t kind;            /* 0 field/method, 1 getter, 2 setter, 3 getter+setter */
    bool is_static;
    struct ew__private *next;
} ew__private_t;

struct ew__classctx {
    ew__classctx_t *parent;
    ew__private_t *declared;
    ew__private_t *used;     /* references not yet resolved */
};

struct ew__label {
    ew__label_t *parent;
    ew__atom_t *atom;
    bool loop;               /* labels a loop: `continue L` allowed */
    bool pending;            /* its statement has not started yet (`a: b: while ...` makes both loop labels) */
};

typedef struct ew__export_ref {
    ew__atom_t *atom;
    uint32_t pos;
    struct ew__export_ref *next;
} ew__export_ref_t;

/* Early errors that depend on what an expression turns into (cover grammars), as positions + 1 (0 = none). */
typedef struct ew__cover {
    uint32_t shorthand_assign;  /* `{a = 1}`: only valid as a pattern */
    uint32_t trailing_comma;    /* `[...a, ]`: invalid as a pattern */
    uint32_t double_proto;      /* `{__proto__: 1, __proto__: 2}`: only valid as a pattern */
} ew__cover_t;

/* Start of a node: taken from a token or an earlier node. */
typedef struct ew__pos {
    uint32_t start, line, col;
} ew__pos_t;

/* parser.c: tokens */
static inline bool ew__is(const ew__parser_t *p, ew__tok_t t)
{
    return p->tok.type == t;
}
/* The current token is the contextual keyword `a` (an unescaped name). */
static inline bool ew__is_name(const ew__parser_t *p, const ew__atom_t *a)
{
    return p->tok.type == EW__T_NAME && p->tok.atom == a && !(p->tok.flags & EW__TF_ESCAPED);
}
static inline bool ew__nl_before(const ew__parser_t *p)
{
    return (p->tok.flags & EW__TF_NL_BEFORE) != 0;
}
bool ew__eat(ew__parser_t *p, ew__tok_t t);
void ew__expect(ew__parser_t *p, ew__tok_t t);
void ew__expect_name(ew__parser_t *p, const ew__atom_t *a);
/* Consumes a `;` or applies automatic semicolon insertion. */
void ew__semicolon(ew__parser_t *p);
/* Type of the token after the current one (and whether a line break precedes it); the state is unchanged. */
ew__tok_t ew__peek(ew__parser_t *p, bool *nl_before, ew__atom_t **atom);
/* Recursion guard around every recursive production. */
void ew__enter(ew__parser_t *p);
static inline void ew__leave(ew__parser_t *p)
{
    p->depth--;
}

/* parser.c: nodes and lists */
static inline ew__pos_t ew__here(const ew__parser_t *p)
{
    ew__pos_t r = {p->tok.start, p->tok.line, p->tok.col};
    return r;
}
static inline ew__pos_t ew__pos_of(const ew__node_t *n)
{
    ew__pos_t r = {n->start, n->line, n->col};
    return r;
}
ew__node_t *ew__node(ew__parser_t *p, ew__node_type_t type, ew__pos_t at);
/* Sets n->end to the end of the previous token and returns n. */
ew__node_t *ew__finish(ew__parser_t *p, ew__node_t *n);
static inline uint32_t ew__list_mark(const ew__parser_t *p)
{
    return p->sp;
}
void ew__list_push(ew__parser_t *p, ew__node_t *n);
/* Copies the nodes pushed since mark into the arena and pops them. */
ew__nodes_t ew__list_pop(ew__parser_t *p, uint32_t mark);

/* parser.c: scopes and declarations */
void ew__scope_enter(ew__parser_t *p, ew__scope_t *s, uint8_t flags);
void ew__scope_exit(ew__parser_t *p);
/* Declares name (kind EW__B_*) in the current scope, applying the redeclaration early errors. */
void ew__declare(ew__parser_t *p, ew__atom_t *name, uint8_t kind, uint32_t pos);
/* Declares every name bound by a pattern. */
void ew__declare_pattern(ew__parser_t *p, ew__node_t *pattern, uint8_t kind);
/* Binding in scope s of the name, or NULL. */
ew__binding_t *ew__binding_in(ew__atom_t *name, const ew__scope_t *s);
void ew__fn_enter(ew__parser_t *p, ew__fnctx_t *f, uint16_t flags);
void ew__fn_exit(ew__parser_t *p);

/* parser.c: identifier rules */
/* Checks that the current NAME token may be used as an identifier here (reference or binding) and consumes it. */
ew__node_t *ew__parse_ident(ew__parser_t *p, bool binding);
/* The same checks for a NAME token read earlier; makes the Identifier node without moving. */
ew__node_t *ew__ident_from_token(ew__parser_t *p, const ew__token_t *t, bool binding);
/* Rules for an identifier reference already read (a shorthand property `{x}`). */
void ew__check_reference_name(ew__parser_t *p, ew__atom_t *a, uint32_t pos);
/* Rules for a binding name already read (strict eval/arguments, reserved words). */
void ew__check_binding_name(ew__parser_t *p, ew__atom_t *name, uint32_t pos);
/* Whether the current token can start an identifier (a name, or yield/await/let... where allowed). */
bool ew__is_ident_start(const ew__parser_t *p);
/* A property name token (identifier, reserved word, string, number, private name when allowed). */
bool ew__is_property_name(const ew__parser_t *p);

/* parse_expr.c */
ew__node_t *ew__parse_expression(ew__parser_t *p, bool no_in, ew__cover_t *cover);
ew__node_t *ew__parse_assign(ew__parser_t *p, bool no_in, ew__cover_t *cover);
ew__node_t *ew__parse_lhs(ew__parser_t *p);
/* `{a, b} = ...` etc.: turns an expression into an assignment/binding target; checks simple targets. */
ew__node_t *ew__to_pattern(ew__parser_t *p, ew__node_t *n, bool binding, ew__cover_t *cover);
void ew__check_simple_target(ew__parser_t *p, ew__node_t *n);
void ew__check_cover(ew__parser_t *p, const ew__cover_t *c);
ew__node_t *ew__parse_template(ew__parser_t *p, bool tagged);
ew__node_t *ew__parse_literal(ew__parser_t *p);
ew__node_t *ew__parse_property_key(ew__parser_t *p, bool *computed, bool allow_private);

/* parse_func.c: functions, arrows, classes, binding patterns */
/* Statement contexts: where a declaration may appear */
enum { EW__CTX_DECL, EW__CTX_STMT, EW__CTX_IF_BODY, EW__CTX_LABELED };
enum { EW__FK_DECL = 1, EW__FK_EXPR = 2, EW__FK_METHOD = 4, EW__FK_GETTER = 8, EW__FK_SETTER = 16,
       EW__FK_CTOR = 32, EW__FK_DERIVED = 64, EW__FK_DEFAULT_EXPORT = 128, EW__FK_CLASS_METHOD = 256 };
/* `function` (the current token; `async` already read) ... A declaration's name is declared in the current scope. */
ew__node_t *ew__parse_function(ew__parser_t *p, ew__pos_t at, bool is_async, unsigned kind);
/* The function value of a method (params and body; current token '('). */
ew__node_t *ew__parse_method_function(ew__parser_t *p, bool is_async, bool generator, unsigned kind);
/* An arrow function from already-parsed parameters (the cover list); current token '=>'. */
ew__node_t *ew__parse_arrow(ew__parser_t *p, ew__pos_t at, ew__nodes_t params, bool is_async);
ew__node_t *ew__parse_class(ew__parser_t *p, bool is_stmt, bool id_optional);
ew__node_t *ew__parse_binding_target(ew__parser_t *p);
/* A binding element: a target with an optional initializer. */
ew__node_t *ew__parse_binding_element(ew__parser_t *p);
void ew__use_private(ew__parser_t *p, ew__atom_t *name, uint32_t pos);

/* parse_stmt.c */
ew__node_t *ew__parse_statement(ew__parser_t *p, int ctx);
/* Statements until `}` (or end of input at top level); parses the directive prologue when `directives`; returns
 * whether it found "use strict" and sets *strict_at. */
typedef void (*ew__prologue_fn)(ew__parser_t *p, void *ud, uint32_t use_strict_pos);
ew__nodes_t ew__parse_body(ew__parser_t *p, bool top, ew__prologue_fn after_prologue, void *ud);
ew__node_t *ew__parse_block(ew__parser_t *p, bool new_scope);
ew__node_t *ew__parse_var(ew__parser_t *p, uint8_t kind, bool for_init, ew__pos_t at);

/* parse_module.c */
ew__node_t *ew__parse_import(ew__parser_t *p);
ew__node_t *ew__parse_export(ew__parser_t *p);
void ew__check_exports(ew__parser_t *p);

/* parser.c: decimal strings to double without depending on the host's locale */
double ew__strtod_c(ew__parser_t *p, const char *s);

#endif /* EW_COMPILE_INTERNAL_H */
