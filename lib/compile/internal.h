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

#include "ast.h"

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
/* n bytes aligned to 8, uninitialised; NULL when malloc fails. */
void *ew__arena_alloc(ew__arena_t *a, size_t n);
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

/* Appends the ESTree JSON of n to a malloc'd NUL-terminated string (*out, freed by the caller); positions are
 * included as "start","end","line","col" when with_pos. Returns false when out of memory. */
bool ew__ast_dump(const ew__node_t *n, bool with_pos, char **out, size_t *out_len);

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
    X(AND_ASSIGN, "&&=") X(OR_ASSIGN, "||=") X(NULLISH_ASSIGN, "??=")                                              \
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

    /* cover grammar bookkeeping (positions + 1; 0 = none), saved and reset around candidate arrow params */
    uint32_t yield_pos, await_pos, await_ident_pos;
} ew__parser_t;

#define EW__MAX_DEPTH 1500

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

#endif /* EW_COMPILE_INTERNAL_H */
