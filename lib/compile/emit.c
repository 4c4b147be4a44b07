/*
 * emit.c — the printer: a syntax tree (ast.h) back to JavaScript text that Duktape compiles, plus a line map.
 *
 * Called last in the compiler pipeline (after the lowering passes, on ES5.1 trees) and by `ew-server build
 * --emit-js` / pass debugging on any ES2022 tree; API in emit.h. Design in three parts, each above its code:
 *   - output: one growable buffer; tokens are joined by a one-character look-back (`a - -b`, `x / /re/`,
 *     `typeof x`) instead of per-token spacing rules; errors longjmp out (like the parser), so nothing leaks.
 *   - line retention and the line map ("Lines" below): nodes are printed on their original line when possible,
 *     never between a restricted keyword (`return`, `throw`, `yield`, `break`, `continue`, `async`) and what
 *     follows it; the map stores runs of lines.
 *   - parentheses from precedence levels ("Precedence" below), computed from the tree alone, plus the few
 *     positional rules of the grammar (what may not start a statement, an arrow body, a for head).
 * Statements and expressions are printed by one function per node family; left-deep operator chains (long string
 * concatenations) and method chains are printed iteratively so they do not use C stack per link.
 */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"

/* Recursion limit of the printer (expression and statement levels). The parser stops at EW__MAX_DEPTH; passes
 * may nest a little deeper. Measured: this depth needs under 384 KiB of C stack (x86-64, -O2), within the
 * EW__MAX_STACK budget the parse already requires of the calling thread. */
#define EMIT_MAX_DEPTH (2 * EW__MAX_DEPTH)

/* ---------------------------------------------------------------------------------------------------------
 * Precedence. An expression is printed with the `level` its position requires; a node whose own precedence is
 * not above that level gets parentheses (`wrap = level >= prec`). Left-associative operators print their left
 * operand at prec - 1 and their right at prec; `**` and assignment the other way round. The levels follow the
 * grammar's productions from Expression (comma) down to MemberExpression.
 */
enum {
    P_LOWEST, P_COMMA, P_ASSIGN, P_COND, P_NULLISH, P_OR, P_AND, P_BITOR, P_BITXOR, P_BITAND, P_EQ, P_CMP, P_SHIFT,
    P_ADD, P_MUL, P_EXP, P_PREFIX, P_POSTFIX, P_NEW, P_CALL, P_MEMBER
};

/* Flags passed down with the level. */
enum {
    F_FORBID_IN = 1,  /* inside a for-init clause: a bare `in` would end the init */
    F_FORBID_CALL = 2 /* inside a `new` callee: a call would take the `new`'s arguments (`new (f())()`) */
};

/* Positions whose first token is restricted (ECMAScript lookahead rules). emitter_t.start_at marks where such a
 * position begins; a node printed there with nothing but white space before it checks the kind. */
enum {
    S_STMT = 1,   /* expression statement: not `{`, `function`, `async function`, `class`, `let [` */
    S_ARROW = 2,  /* arrow concise body: not `{` */
    S_FOR = 4,    /* for / for-in head expression: not `let [` */
    S_FOROF = 8,  /* for-of left side: not `let` at all (nor `async of`, checked where printed) */
    S_EXPORT = 16 /* export default expression: not `function`, `async function`, `class` */
};

typedef struct emitter {
    char *buf;
    size_t len, cap;
    bool retain, minify, duktape;
    bool strict;            /* printing strict code (see emit_function_body) */
    uint8_t indent;
    uint32_t line;          /* output line being written, 1-based */
    uint32_t depth;         /* block nesting, for indentation */
    uint32_t nesting;       /* recursion depth */
    size_t hold_at;         /* no line break while len == hold_at: right after `return ` and the like */
    size_t start_at;        /* where the current restricted position (S_*) begins */
    unsigned start_kind;    /* its S_* kind */
    size_t regex_end;       /* len right after a regex literal: flags would swallow a following name */
    /* line map under construction */
    ew__linemap_run_t *runs;
    uint32_t nruns, runs_cap;
    uint32_t line_orig;     /* original line of the output line being written */
    bool line_known;        /* line_orig came from a node on this output line (else it is a guess) */
    uint32_t file_index;
    /* scratch stack of nodes for iterative operator and access chains (malloc'd, reused) */
    const ew__node_t **stack;
    uint32_t sp, stack_cap;
    locale_t c_locale;      /* for non-integer numbers, created on first use */
    jmp_buf fail;
    const char *err;
    const ew__node_t *err_node;
} emitter_t;

static void expr(emitter_t *e, const ew__node_t *n, int level, unsigned flags);
static void stmt(emitter_t *e, const ew__node_t *n);
static void stmt_list(emitter_t *e, const ew__nodes_t *l);

__attribute__((noreturn)) static void fail(emitter_t *e, const ew__node_t *n, const char *msg)
{
    e->err = msg;
    e->err_node = n;
    longjmp(e->fail, 1);
}

/* ---------------------------------------------------------------------------------------------------------
 * Output
 */

static void grow(emitter_t *e, size_t n)
{
    size_t cap = e->cap ? e->cap : 256;
    while (cap - e->len <= n)
        cap *= 2;
    char *b = realloc(e->buf, cap);
    if (!b)
        fail(e, NULL, "out of memory");
    e->buf = b;
    e->cap = cap;
}

/* Room for n more bytes and the final NUL. */
static inline void reserve(emitter_t *e, size_t n)
{
    if (e->cap - e->len <= n)
        grow(e, n);
}

static inline void put(emitter_t *e, const char *s, size_t n)
{
    reserve(e, n);
    memcpy(e->buf + e->len, s, n);
    e->len += n;
}

static inline void put_c(emitter_t *e, char c)
{
    reserve(e, 1);
    e->buf[e->len++] = c;
}

#define PUT_LIT(e, s) put((e), (s), sizeof(s) - 1)

/* An optional space (readability only). */
static inline void sp(emitter_t *e)
{
    if (!e->minify)
        put_c(e, ' ');
}

static inline bool is_ident_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
           c == '\\' || c >= 0x80;
}

/* Whether two characters written next to each other would merge into another token: `a` `in`, `+` `+`, `-` `-`,
 * `/` `/` (a comment), `<` `!` (`<!--` opens an HTML-like comment), `-` `>` (`-->` closes one). */
static inline bool must_separate(unsigned char a, unsigned char b)
{
    if (is_ident_char(a))
        return is_ident_char(b);
    switch (a) {
    case '+': return b == '+';
    case '-': return b == '-' || b == '>';
    case '/': return b == '/' || b == '*';
    case '<': return b == '!';
    default: return false;
    }
}

/* A token: separated from the previous output by a space only when they would merge. */
static inline void token(emitter_t *e, const char *s, size_t n)
{
    if (e->len && (must_separate((unsigned char) e->buf[e->len - 1], (unsigned char) s[0]) ||
                   (e->len == e->regex_end && is_ident_char((unsigned char) s[0]))))
        put_c(e, ' ');
    put(e, s, n);
}

#define TOKEN_LIT(e, s) token((e), (s), sizeof(s) - 1)

/* A keyword followed by the space that readable output has after it (the joiner adds it in minified output
 * when the next token needs it). */
static inline void keyword(emitter_t *e, const char *s, size_t n)
{
    token(e, s, n);
    sp(e);
}

#define KEYWORD_LIT(e, s) keyword((e), (s), sizeof(s) - 1)

/* The scratch stack of operator and access chains (emit_binary, emit_access). */
static void push_node(emitter_t *e, const ew__node_t *n)
{
    if (e->sp == e->stack_cap) {
        uint32_t cap = e->stack_cap ? e->stack_cap * 2 : 64;
        const ew__node_t **s = realloc(e->stack, cap * sizeof *s);
        if (!s)
            fail(e, NULL, "out of memory");
        e->stack = s;
        e->stack_cap = cap;
    }
    e->stack[e->sp++] = n;
}

/* True if nothing but white space was printed since the restricted position of a kind in `kinds` began. */
static bool at_start(const emitter_t *e, unsigned kinds)
{
    if (!(e->start_kind & kinds) || e->start_at > e->len)
        return false;
    for (size_t i = e->start_at; i < e->len; i++)
        if (e->buf[i] != ' ' && e->buf[i] != '\n')
            return false;
    return true;
}

static void mark_start(emitter_t *e, unsigned kind)
{
    e->start_at = e->len;
    e->start_kind = kind;
}

/* ---------------------------------------------------------------------------------------------------------
 * Lines. Duktape reports only line numbers, so with retain_lines a node is printed on its original line:
 *
 *   - entering a node whose line is below the output line emits line breaks to catch up (then indentation);
 *     a node above it (moved by a pass) or with line 0 (made by a pass) is printed where the output is;
 *   - no break is inserted while the output ends right after a restricted keyword (hold_at): `return`, `throw`,
 *     `yield`, `break`, `continue` and `async` keep what follows on their line, since a break there changes the
 *     program (ASI);
 *   - the only other breaks are the ones inside template literals and line continuations, which are counted.
 *
 * The map gives each output line the line of the first node with a position entered on it; a line where none
 * starts (blank, or the rest of a template) continues the previous line's numbering. Consecutive lines whose
 * original lines also follow each other form a run {gen_line, orig_line, file}; a file printed with retained lines
 * is one run, and lookups binary-search the runs. Without retain_lines every statement gets its own line and the
 * map has a run wherever numbering jumps.
 */

/* Closes the output line being written: extends the last run or starts a new one. */
static void end_line(emitter_t *e)
{
    if (e->nruns) {
        const ew__linemap_run_t *r = &e->runs[e->nruns - 1];
        if (r->file == e->file_index && r->orig_line + (e->line - r->gen_line) == e->line_orig)
            return;
    }
    if (e->nruns == e->runs_cap) {
        uint32_t cap = e->runs_cap ? e->runs_cap * 2 : 16;
        ew__linemap_run_t *r = realloc(e->runs, cap * sizeof *r);
        if (!r)
            fail(e, NULL, "out of memory");
        e->runs = r;
        e->runs_cap = cap;
    }
    e->runs[e->nruns++] = (ew__linemap_run_t){e->line, e->line_orig, e->file_index};
}

/* k line breaks, then the indentation of the current block. */
static void newlines(emitter_t *e, uint32_t k)
{
    end_line(e);
    /* No trailing blanks (a line break separates tokens as well); never below a restricted position's start. */
    size_t floor = e->start_at <= e->len ? e->start_at : 0;
    while (e->len > floor && e->buf[e->len - 1] == ' ')
        e->len--;
    size_t ind = e->minify ? 0 : (size_t) e->depth * e->indent;
    reserve(e, k + ind);
    memset(e->buf + e->len, '\n', k);
    memset(e->buf + e->len + k, ' ', ind);
    e->len += k + ind;
    e->line += k;
    e->line_orig = e->retain ? e->line_orig + k : e->line_orig;
    e->line_known = false;
}

/* Called before printing any node: line catch-up and the map. */
static inline void enter(emitter_t *e, const ew__node_t *n)
{
    if (!n->line)
        return;
    if (n->line > e->line && e->retain && e->len != e->hold_at)
        newlines(e, n->line - e->line);
    if (!e->line_known) {
        e->line_orig = n->line;
        e->line_known = true;
    }
}

/* A statement's own line in the non-retaining pretty layout. */
static inline void stmt_break(emitter_t *e)
{
    if (!e->retain && !e->minify && e->len)
        newlines(e, 1);
}

/* Text that may contain line terminators (template raw text, line continuations in directives): copied as is,
 * each terminator counted. orig is the original line where the text starts (0 = unknown). */
static void put_multiline(emitter_t *e, const char *s, size_t n, uint32_t orig)
{
    put(e, s, n);
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        bool brk = c == '\n' || (c == '\r' && !(i + 1 < n && s[i + 1] == '\n')) ||
                   (c == 0xE2 && i + 2 < n && (unsigned char) s[i + 1] == 0x80 &&
                    ((unsigned char) s[i + 2] & 0xFE) == 0xA8);
        if (!brk)
            continue;
        end_line(e);
        e->line++;
        k++;
        e->line_orig = orig ? orig + k : e->line_orig + 1;
        e->line_known = orig != 0;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Literals
 */

/* Non-negative finite v as JavaScript's Number::toString prints it: the shortest digits that read back as v,
 * without exponent from 1e-6 up to 1e21. Integers below 2^53 take a fast path; other values try 15, 16 and 17
 * significant digits (15 suffice for any double that has a shorter form, except denormals, which search from 1).
 * Returns the length written to out (at most 25 bytes). */
static size_t format_number(emitter_t *e, double v, char *out)
{
    if (v < 9007199254740992.0 && v == (double) (uint64_t) v) {
        char tmp[24];
        size_t n = 0;
        uint64_t u = (uint64_t) v;
        do {
            tmp[n++] = (char) ('0' + u % 10);
            u /= 10;
        } while (u);
        for (size_t i = 0; i < n; i++)
            out[i] = tmp[n - 1 - i];
        return n;
    }
    if (!e->c_locale) {
        e->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t) 0);
        if (!e->c_locale)
            fail(e, NULL, "out of memory");
    }
    locale_t old = uselocale(e->c_locale);
    char buf[40];
    int prec = v < DBL_MIN ? 1 : 15;
    for (; prec < 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (prec == 17)
        snprintf(buf, sizeof buf, "%.16e", v);
    uselocale(old);
    /* buf is d.ddde[+-]x: collect the digits (trailing zeros dropped) and the decimal exponent */
    char digits[20];
    int k = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && k < 18)
            digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0')
        k--;
    int n = atoi(p + 1) + 1; /* v = 0.digits * 10^n */
    size_t o = 0;
    if (k <= n && n <= 21) {
        memcpy(out, digits, (size_t) k);
        memset(out + k, '0', (size_t) (n - k));
        o = (size_t) n;
    } else if (0 < n && n <= 21) {
        memcpy(out, digits, (size_t) n);
        out[n] = '.';
        memcpy(out + n + 1, digits + n, (size_t) (k - n));
        o = (size_t) k + 1;
    } else if (-6 < n && n <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        memset(out + o, '0', (size_t) -n);
        o += (size_t) -n;
        memcpy(out + o, digits, (size_t) k);
        o += (size_t) k;
    } else {
        out[o++] = digits[0];
        if (k > 1) {
            out[o++] = '.';
            memcpy(out + o, digits + 1, (size_t) (k - 1));
            o += (size_t) (k - 1);
        }
        o += (size_t) snprintf(out + o, 8, "e%d", n - 1);
    }
    return o;
}

/* A number; negative values (and -0) are a unary minus at prefix precedence. NaN has no literal: (0 / 0). */
static void emit_number(emitter_t *e, double v, int level)
{
    if (isnan(v)) {
        PUT_LIT(e, "(0 / 0)");
        return;
    }
    bool neg = signbit(v);
    bool wrap = neg && level >= P_PREFIX;
    if (wrap)
        put_c(e, '(');
    if (neg) {
        TOKEN_LIT(e, "-");
        v = -v;
    }
    if (isinf(v)) {
        TOKEN_LIT(e, "1e999");
    } else {
        char buf[40];
        token(e, buf, format_number(e, v, buf));
    }
    if (wrap)
        put_c(e, ')');
}

static inline char hex_digit(unsigned v)
{
    return "0123456789ABCDEF"[v & 15];
}

static char *put_u_escape(char *o, unsigned cp)
{
    *o++ = '\\';
    *o++ = 'u';
    *o++ = hex_digit(cp >> 12);
    *o++ = hex_digit(cp >> 8);
    *o++ = hex_digit(cp >> 4);
    *o++ = hex_digit(cp);
    return o;
}

/* Escapes one byte (or 3-byte sequence) of s at *i that cannot be copied; returns the new output end. */
static char *escape_special(const unsigned char *s, size_t *i, char *o, char quote)
{
    unsigned char c = s[*i];
    static const char simple[] = {['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\v'] = 'v', ['\f'] = 'f',
                                  ['\r'] = 'r'};
    if (c == '\\' || c == (unsigned char) quote) {
        *o++ = '\\';
        *o++ = (char) c;
    } else if (c < sizeof simple && simple[c]) {
        *o++ = '\\';
        *o++ = simple[c];
    } else if (c < 0x20 || c == 0x7F) {
        *o++ = '\\';
        *o++ = 'x';
        *o++ = hex_digit(c >> 4);
        *o++ = hex_digit(c);
    } else {
        /* U+2028/U+2029 (line terminators in ES5 strings) and lone surrogates (WTF-8) */
        unsigned cp = ((unsigned) (c & 0x0F) << 12) | ((unsigned) (s[*i + 1] & 0x3F) << 6) | (s[*i + 2] & 0x3Fu);
        o = put_u_escape(o, cp);
        *i += 2;
    }
    return o;
}

/* Which bytes of a WTF-8 string value need escaping: controls, the quote, backslash, U+2028/U+2029 and lone
 * surrogates. Other non-ASCII text stays UTF-8 (Duktape reads a 4-byte sequence in source as a surrogate pair). */
static inline bool needs_escape(const unsigned char *s, size_t n, size_t i, char quote)
{
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x7F)
        return c == '\\' || c == (unsigned char) quote;
    if (c < 0x80)
        return true;
    if (c == 0xE2)
        return i + 2 < n && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8;
    return c == 0xED && i + 2 < n && s[i + 1] >= 0xA0;
}

/* A string value as a literal: double quotes unless the value holds more of them than single quotes. */
static void emit_string(emitter_t *e, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t dq = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        dq += s[i] == '"';
        sq += s[i] == '\'';
    }
    char quote = dq > sq ? '\'' : '"';
    reserve(e, 4 * n + 2); /* worst case: every byte a \xHH escape */
    char *o = e->buf + e->len;
    *o++ = quote;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (!needs_escape(s, n, i, quote)) {
            run++;
            continue;
        }
        memcpy(o, s + i - run, run);
        o += run;
        run = 0;
        o = escape_special(s, &i, o, quote);
    }
    memcpy(o, s + n - run, run);
    o += run;
    *o++ = quote;
    e->len = (size_t) (o - e->buf);
}

static void emit_regex(emitter_t *e, const ew__node_t *n)
{
    const ew__str_t *body = &n->as.literal.string;
    TOKEN_LIT(e, "/");
    if (body->len)
        put(e, body->s, body->len);
    else
        PUT_LIT(e, "(?:)");
    put_c(e, '/');
    if (n->as.literal.flags.len)
        put(e, n->as.literal.flags.s, n->as.literal.flags.len);
    e->regex_end = e->len;
}

static void emit_literal(emitter_t *e, const ew__node_t *n, int level)
{
    switch (n->as.literal.kind) {
    case EW__LIT_NULL: TOKEN_LIT(e, "null"); break;
    case EW__LIT_BOOL:
        if (n->as.literal.boolean)
            TOKEN_LIT(e, "true");
        else
            TOKEN_LIT(e, "false");
        break;
    case EW__LIT_NUMBER: emit_number(e, n->as.literal.number, level); break;
    case EW__LIT_STRING: emit_string(e, n->as.literal.string.s, n->as.literal.string.len); break;
    case EW__LIT_REGEX: emit_regex(e, n); break;
    default: fail(e, n, "unknown literal kind");
    }
}

/* A template piece made by a pass (no raw text): its cooked value with `, \, ${ and CR escaped. */
static void emit_cooked_quasi(emitter_t *e, const ew__str_t *c)
{
    for (uint32_t i = 0; i < c->len; i++) {
        char ch = c->s[i];
        if (ch == '`' || ch == '\\' || (ch == '$' && i + 1 < c->len && c->s[i + 1] == '{'))
            put_c(e, '\\');
        if (ch == '\r')
            PUT_LIT(e, "\\r");
        else if (ch == '\n')
            put_multiline(e, "\n", 1, 0);
        else
            put_c(e, ch);
    }
}

/* Templates as written (raw text); the line breaks inside count as output lines. */
static void emit_template(emitter_t *e, const ew__node_t *n)
{
    const ew__nodes_t *q = &n->as.template.quasis, *x = &n->as.template.expressions;
    TOKEN_LIT(e, "`");
    for (uint32_t i = 0; i < q->len; i++) {
        const ew__node_t *el = q->items[i];
        if (el->as.template_element.raw.s)
            put_multiline(e, el->as.template_element.raw.s, el->as.template_element.raw.len, el->line);
        else if (el->as.template_element.cooked.s)
            emit_cooked_quasi(e, &el->as.template_element.cooked);
        if (i < x->len) {
            PUT_LIT(e, "${");
            expr(e, x->items[i], P_LOWEST, 0);
            put_c(e, '}');
        }
    }
    put_c(e, '`');
}

/* A directive as written (its text between the quotes, which may hold escapes and line continuations). The
 * quote is the one that cannot occur unescaped inside. */
static void emit_directive(emitter_t *e, const ew__node_t *s)
{
    const ew__str_t *d = &s->as.expr_stmt.directive;
    char quote = '"';
    for (uint32_t i = 0; i < d->len; i++) {
        if (d->s[i] == '\\')
            i++;
        else if (d->s[i] == '"')
            quote = '\'';
    }
    put_c(e, quote);
    put_multiline(e, d->s, d->len, s->line);
    put_c(e, quote);
    put_c(e, ';');
}

/* ---------------------------------------------------------------------------------------------------------
 * Names, keys, lists
 */

static bool atom_is(const ew__atom_t *a, const char *s, size_t n)
{
    return a && a->len == n && memcmp(a->s, s, n) == 0;
}

static bool ident_is(const ew__node_t *n, const char *s, size_t len)
{
    return n && n->type == EW__N_Identifier && atom_is(n->as.ident.name, s, len);
}

/* Identifier characters Duktape 2.7's lexer rejects although ES2015+ accepts them: code points outside the BMP
 * (Duktape lexes them as two surrogates) and Other_ID_Start / Other_ID_Continue, which ES5 did not have. */
static bool duk_rejects(uint32_t cp)
{
    return cp >= 0x10000 || cp == 0x2118 || cp == 0x212E || cp == 0x309B || cp == 0x309C || cp == 0x1885 ||
           cp == 0x1886 || cp == 0x00B7 || cp == 0x0387 || (cp >= 0x1369 && cp <= 0x1371) || cp == 0x19DA;
}

/* Whether a name has such a character (then it is printed mangled, or as a string key). */
static bool name_unsafe(const ew__atom_t *a)
{
    for (uint32_t i = 0; i < a->len;) {
        unsigned char c = (unsigned char) a->s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        uint32_t cp, n = ew__utf8_decode((const unsigned char *) a->s + i, a->len - i, &cp);
        if (n == 0 || duk_rejects(cp))
            return true;
        i += n;
    }
    return false;
}

/* A binding or reference name with characters Duktape rejects: each becomes `$U<hex>$` (docs/compiler.md). */
static void emit_mangled(emitter_t *e, const ew__atom_t *a)
{
    bool first = true;
    for (uint32_t i = 0; i < a->len;) {
        uint32_t cp, n = ew__utf8_decode((const unsigned char *) a->s + i, a->len - i, &cp);
        char hex[16];
        const char *piece = a->s + i;
        size_t plen = n ? n : 1;
        if (n == 0 || duk_rejects(cp)) {
            plen = (size_t) snprintf(hex, sizeof hex, "$U%X$", n ? (unsigned) cp : 0xFFFDu);
            piece = hex;
        }
        if (first)
            token(e, piece, plen); /* separates from the token before */
        else
            put(e, piece, plen);
        first = false;
        i += n ? n : 1;
    }
}

static void emit_ident(emitter_t *e, const ew__node_t *n)
{
    const ew__atom_t *a = n->as.ident.name;
    if (!a)
        fail(e, n, "identifier without a name");
    /* `for ((let).x of y)`: a for-of left side may not begin with `let`. */
    bool wrap = (e->start_kind & S_FOROF) && atom_is(a, "let", 3) && at_start(e, S_FOROF);
    if (wrap)
        put_c(e, '(');
    if (n->type == EW__N_PrivateIdentifier)
        TOKEN_LIT(e, "#");
    if (e->duktape && name_unsafe(a))
        emit_mangled(e, a);
    else
        token(e, a->s, a->len);
    if (wrap)
        put_c(e, ')');
}

/* A property key: a name (keywords allowed), a string or number, a private name, or `[expression]`. */
static void emit_key(emitter_t *e, const ew__node_t *key, bool computed)
{
    if (!key)
        fail(e, NULL, "missing property key");
    if (computed) {
        put_c(e, '[');
        expr(e, key, P_COMMA, 0);
        put_c(e, ']');
        return;
    }
    enter(e, key);
    if (key->type == EW__N_Literal)
        emit_literal(e, key, P_LOWEST);
    else if (e->duktape && key->type == EW__N_Identifier && key->as.ident.name && name_unsafe(key->as.ident.name))
        emit_string(e, key->as.ident.name->s, key->as.ident.name->len); /* `℘: 1` -> `"℘": 1` */
    else
        emit_ident(e, key);
}

/* `(a, b = 1, ...c)`: parameters, arguments. */
static void emit_list(emitter_t *e, const ew__nodes_t *l, char open, char close)
{
    put_c(e, open);
    for (uint32_t i = 0; i < l->len; i++) {
        if (i) {
            put_c(e, ',');
            sp(e);
        }
        expr(e, l->items[i], P_COMMA, 0);
    }
    put_c(e, close);
}

/* A block, or a function body (with its directives). use_strict: print a "use strict" directive first. */
static void emit_block_ex(emitter_t *e, const ew__node_t *b, bool use_strict)
{
    if (!b || (b->type != EW__N_BlockStatement && b->type != EW__N_ClassBody && b->type != EW__N_StaticBlock))
        fail(e, b, "expected a block");
    enter(e, b);
    put_c(e, '{');
    if (b->as.body.body.len || use_strict) {
        e->depth++;
        if (use_strict) {
            stmt_break(e);
            sp(e);
            PUT_LIT(e, "\"use strict\";");
        }
        stmt_list(e, &b->as.body.body);
        e->depth--;
        if (!e->retain && !e->minify)
            newlines(e, 1);
        else
            sp(e);
    }
    put_c(e, '}');
}

static void emit_block(emitter_t *e, const ew__node_t *b)
{
    emit_block_ex(e, b, false);
}

/* Whether a body's directive prologue holds "use strict". */
static bool has_use_strict(const ew__nodes_t *body)
{
    for (uint32_t i = 0; i < body->len; i++) {
        const ew__node_t *s = body->items[i];
        if (!s || s->type != EW__N_ExpressionStatement || !s->as.expr_stmt.directive.s)
            return false;
        if (s->as.expr_stmt.directive.len == 10 && memcmp(s->as.expr_stmt.directive.s, "use strict", 10) == 0)
            return true;
    }
    return false;
}

static bool params_simple(const ew__nodes_t *params)
{
    for (uint32_t i = 0; i < params->len; i++)
        if (!params->items[i] || params->items[i]->type != EW__N_Identifier)
            return false;
    return true;
}

/* Strictness is printed, not assumed: a function marked EW__NF_STRICT inside sloppy code (a module body or class
 * method a pass turned into a plain function) gets a "use strict" directive unless it has one; the code inside
 * is then strict and needs none. e->strict tracks the context. */
static void emit_function_body(emitter_t *e, const ew__node_t *f)
{
    bool strict = (f->flags & EW__NF_STRICT) != 0;
    const ew__node_t *body = f->as.function.body;
    bool add = strict && !e->strict && body && body->type == EW__N_BlockStatement &&
               !has_use_strict(&body->as.body.body) && params_simple(&f->as.function.params);
    bool saved = e->strict;
    e->strict = saved || strict;
    emit_block_ex(e, body, add);
    e->strict = saved;
}

/* ---------------------------------------------------------------------------------------------------------
 * Functions and classes
 */

/* `async function* name(params) { body }`, or the part of a method after its key when `method`. */
static void emit_function_rest(emitter_t *e, const ew__node_t *f)
{
    emit_list(e, &f->as.function.params, '(', ')');
    sp(e);
    emit_function_body(e, f);
}

static void emit_function(emitter_t *e, const ew__node_t *f)
{
    bool wrap = f->type == EW__N_FunctionExpression && at_start(e, S_STMT | S_EXPORT);
    if (wrap)
        put_c(e, '(');
    if (f->as.function.async)
        KEYWORD_LIT(e, "async");
    TOKEN_LIT(e, "function");
    if (f->as.function.generator)
        put_c(e, '*');
    if (f->as.function.id) {
        sp(e);
        expr(e, f->as.function.id, P_LOWEST, 0);
    }
    emit_function_rest(e, f);
    if (wrap)
        put_c(e, ')');
}

static void emit_arrow(emitter_t *e, const ew__node_t *f, int level, unsigned flags)
{
    bool wrap = level >= P_ASSIGN;
    if (wrap) {
        put_c(e, '(');
        flags = 0;
    }
    if (f->as.function.async)
        KEYWORD_LIT(e, "async"); /* `async (` on one line: no break can come between them */
    emit_list(e, &f->as.function.params, '(', ')');
    sp(e);
    PUT_LIT(e, "=>");
    sp(e);
    if (f->as.function.expression) {
        mark_start(e, S_ARROW);
        expr(e, f->as.function.body, P_COMMA, flags & F_FORBID_IN);
    } else {
        emit_function_body(e, f);
    }
    if (wrap)
        put_c(e, ')');
}

/* `static async *[key](params) { }`, `get key() { }` (class and object methods). value is the function. */
/* Method names Duktape 2.7 does not parse in method shorthand (`get() {}`, `static() {}`, strict-mode reserved
 * words): printed as string keys, which it does parse. */
static bool duk_method_name_quirk(const ew__atom_t *a)
{
    static const char *const names[] = {"get", "set", "static", "yield", "let", "await", "implements", "interface",
                                        "package", "private", "protected", "public", "enum", "eval", "arguments"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (atom_is(a, names[i], strlen(names[i])))
            return true;
    return false;
}

static void emit_method(emitter_t *e, const ew__node_t *key, const ew__node_t *value, uint8_t kind, bool computed,
                        bool is_static)
{
    if (!value || value->type != EW__N_FunctionExpression)
        fail(e, value, "method without a function");
    if (is_static)
        KEYWORD_LIT(e, "static");
    if (kind == EW__PROP_GET)
        KEYWORD_LIT(e, "get");
    else if (kind == EW__PROP_SET)
        KEYWORD_LIT(e, "set");
    if (value->as.function.async) {
        KEYWORD_LIT(e, "async");
        e->hold_at = e->len; /* `async` [no LineTerminator here] name */
    }
    if (value->as.function.generator)
        put_c(e, '*');
    if (e->duktape && !computed && key && key->type == EW__N_Identifier && duk_method_name_quirk(key->as.ident.name)) {
        enter(e, key); /* `private() {}` -> `"private"() {}` */
        emit_string(e, key->as.ident.name->s, key->as.ident.name->len);
    } else {
        emit_key(e, key, computed);
    }
    emit_function_rest(e, value);
}

static void emit_class_member(emitter_t *e, const ew__node_t *m)
{
    enter(e, m);
    switch (m->type) {
    case EW__N_MethodDefinition:
        emit_method(e, m->as.method.key, m->as.method.value, m->as.method.kind, m->as.method.computed,
                    m->as.method.is_static);
        break;
    case EW__N_PropertyDefinition:
        if (m->as.field.is_static)
            KEYWORD_LIT(e, "static");
        emit_key(e, m->as.field.key, m->as.field.computed);
        if (m->as.field.value) {
            sp(e);
            put_c(e, '=');
            sp(e);
            expr(e, m->as.field.value, P_COMMA, 0);
        }
        put_c(e, ';'); /* a field never runs into the next member: `a; [b]() {}`, `get; x() {}` */
        break;
    case EW__N_StaticBlock:
        KEYWORD_LIT(e, "static");
        emit_block(e, m);
        break;
    default: fail(e, m, "unexpected class member");
    }
}

static void emit_class(emitter_t *e, const ew__node_t *c)
{
    bool wrap = c->type == EW__N_ClassExpression && at_start(e, S_STMT | S_EXPORT);
    if (wrap)
        put_c(e, '(');
    bool saved_strict = e->strict;
    e->strict = true; /* all of a class is strict code */
    TOKEN_LIT(e, "class");
    if (c->as.class_.id) {
        sp(e);
        expr(e, c->as.class_.id, P_LOWEST, 0);
    }
    if (c->as.class_.super_class) {
        put_c(e, ' ');
        KEYWORD_LIT(e, "extends");
        expr(e, c->as.class_.super_class, P_POSTFIX, 0);
    }
    sp(e);
    const ew__node_t *body = c->as.class_.body;
    if (!body || body->type != EW__N_ClassBody)
        fail(e, c, "class without a body");
    enter(e, body);
    put_c(e, '{');
    e->depth++;
    for (uint32_t i = 0; i < body->as.body.body.len; i++) {
        const ew__node_t *m = body->as.body.body.items[i];
        stmt_break(e);
        if (e->retain && !e->minify && (!m->line || m->line <= e->line))
            put_c(e, ' ');
        emit_class_member(e, m);
    }
    e->depth--;
    if (body->as.body.body.len) {
        if (!e->retain && !e->minify)
            newlines(e, 1);
        else
            sp(e);
    }
    put_c(e, '}');
    e->strict = saved_strict;
    if (wrap)
        put_c(e, ')');
}

/* ---------------------------------------------------------------------------------------------------------
 * Object and array literals and patterns
 */

/* A shorthand property prints as its value when the value still is the key's name (`{a}`, `{a = 1}` in a
 * pattern); a pass that renamed the value gets `a: _a`. */
static bool prints_as_shorthand(const emitter_t *e, const ew__node_t *p)
{
    const ew__node_t *k = p->as.property.key, *v = p->as.property.value;
    if (!p->as.property.shorthand || p->as.property.computed || !k || k->type != EW__N_Identifier || !v ||
        (e->duktape && name_unsafe(k->as.ident.name)))
        return false;
    if (v->type == EW__N_AssignmentPattern)
        v = v->as.assign_pattern.left;
    return v && v->type == EW__N_Identifier && ew__atom_eq(v->as.ident.name, k->as.ident.name);
}

static void emit_property(emitter_t *e, const ew__node_t *p)
{
    if (p->type != EW__N_Property) {
        expr(e, p, P_COMMA, 0); /* SpreadElement, RestElement */
        return;
    }
    enter(e, p);
    uint8_t kind = p->as.property.kind;
    if (kind == EW__PROP_GET || kind == EW__PROP_SET || p->as.property.method) {
        emit_method(e, p->as.property.key, p->as.property.value, kind, p->as.property.computed, false);
    } else if (prints_as_shorthand(e, p)) {
        expr(e, p->as.property.value, P_COMMA, 0);
    } else {
        emit_key(e, p->as.property.key, p->as.property.computed);
        put_c(e, ':');
        sp(e);
        expr(e, p->as.property.value, P_COMMA, 0);
    }
}

static void emit_object(emitter_t *e, const ew__node_t *n)
{
    /* `({}).x;`, `() => ({})`; a pattern is never wrapped (that is the assignment's job, see emit_assign). */
    bool wrap = n->type == EW__N_ObjectExpression && at_start(e, S_STMT | S_ARROW);
    if (wrap)
        put_c(e, '(');
    const ew__nodes_t *l = &n->as.object.properties;
    put_c(e, '{');
    for (uint32_t i = 0; i < l->len; i++) {
        if (i)
            put_c(e, ',');
        sp(e);
        emit_property(e, l->items[i]);
    }
    if (l->len)
        sp(e);
    put_c(e, '}');
    if (wrap)
        put_c(e, ')');
}

static void emit_array(emitter_t *e, const ew__node_t *n)
{
    const ew__nodes_t *l = &n->as.array.elements;
    put_c(e, '[');
    for (uint32_t i = 0; i < l->len; i++) {
        if (i) {
            put_c(e, ',');
            sp(e);
        }
        if (l->items[i])
            expr(e, l->items[i], P_COMMA, 0);
    }
    if (l->len && !l->items[l->len - 1])
        put_c(e, ','); /* a trailing hole needs its own comma: `[a, ,]` has length 2 */
    put_c(e, ']');
}

/* ---------------------------------------------------------------------------------------------------------
 * Operators
 */

static int binary_prec(uint8_t op)
{
    switch (op) {
    case EW__T_NULLISH: return P_NULLISH;
    case EW__T_OR: return P_OR;
    case EW__T_AND: return P_AND;
    case EW__T_PIPE: return P_BITOR;
    case EW__T_CARET: return P_BITXOR;
    case EW__T_AMP: return P_BITAND;
    case EW__T_EQ: case EW__T_NE: case EW__T_SEQ: case EW__T_SNE: return P_EQ;
    case EW__T_LT: case EW__T_GT: case EW__T_LE: case EW__T_GE:
    case EW__T_K_INSTANCEOF: case EW__T_K_IN: return P_CMP;
    case EW__T_SHL: case EW__T_SAR: case EW__T_SHR: return P_SHIFT;
    case EW__T_PLUS: case EW__T_MINUS: return P_ADD;
    case EW__T_STAR: case EW__T_SLASH: case EW__T_PERCENT: return P_MUL;
    case EW__T_STARSTAR: return P_EXP;
    default: return -1;
    }
}

static bool is_binary(const ew__node_t *n)
{
    return n && (n->type == EW__N_BinaryExpression || n->type == EW__N_LogicalExpression);
}

static bool is_or_and(const ew__node_t *n)
{
    return is_binary(n) && (n->as.binary.op == EW__T_OR || n->as.binary.op == EW__T_AND);
}

/* The levels of a binary node's operands (see Precedence), including the two mixing rules of the grammar:
 * `??` takes no bare `||`/`&&` operand, and `**` no unary left operand (`(-a) ** b`, `(await x) ** 2`). */
static void operand_levels(const ew__node_t *n, int prec, int *ll, int *rl)
{
    const ew__node_t *l = n->as.binary.left, *r = n->as.binary.right;
    *ll = prec - 1;
    *rl = prec;
    if (n->as.binary.op == EW__T_STARSTAR) {
        *ll = prec;
        *rl = prec - 1;
        if (l && (l->type == EW__N_UnaryExpression || l->type == EW__N_AwaitExpression ||
                  (l->type == EW__N_Literal && l->as.literal.kind == EW__LIT_NUMBER && signbit(l->as.literal.number))))
            *ll = P_CALL;
    } else if (n->as.binary.op == EW__T_NULLISH) {
        if (is_or_and(l))
            *ll = P_PREFIX;
        if (is_or_and(r))
            *rl = P_PREFIX;
    }
}

static bool binary_wraps(const ew__node_t *n, int level, unsigned flags)
{
    int prec = binary_prec(n->as.binary.op);
    return level >= prec || (n->as.binary.op == EW__T_K_IN && (flags & F_FORBID_IN));
}

static void emit_operator(emitter_t *e, uint8_t op)
{
    const char *t = ew__op_text(op);
    sp(e);
    token(e, t, strlen(t));
    sp(e);
}

/* Binary and logical expressions. The left spine of operands that need no parentheses (`a + b + c + ...`, as
 * long as a file wants) is walked with a scratch stack, not recursion: the operator nodes are entered top-down
 * (line catch-up), the leftmost operand printed, then each operator and right operand bottom-up. */
static void emit_binary(emitter_t *e, const ew__node_t *n, int level, unsigned flags)
{
    if (binary_prec(n->as.binary.op) < 0)
        fail(e, n, "unknown binary operator");
    bool wrap = binary_wraps(n, level, flags);
    if (wrap) {
        put_c(e, '(');
        flags = 0;
    }
    flags &= F_FORBID_IN;
    uint32_t base = e->sp;
    const ew__node_t *cur = n;
    int ll, rl;
    for (;;) {
        push_node(e, cur);
        operand_levels(cur, binary_prec(cur->as.binary.op), &ll, &rl);
        const ew__node_t *l = cur->as.binary.left;
        if (!is_binary(l) || binary_prec(l->as.binary.op) < 0 || binary_wraps(l, ll, flags))
            break;
        enter(e, l);
        cur = l;
    }
    expr(e, cur->as.binary.left, ll, flags);
    while (e->sp > base) {
        const ew__node_t *b = e->stack[--e->sp];
        operand_levels(b, binary_prec(b->as.binary.op), &ll, &rl);
        emit_operator(e, b->as.binary.op);
        expr(e, b->as.binary.right, rl, flags);
    }
    if (wrap)
        put_c(e, ')');
}

static void emit_assign(emitter_t *e, const ew__node_t *n, int level, unsigned flags)
{
    const ew__node_t *left = n->as.binary.left;
    /* `({a} = b);` — a statement (or arrow body) may not begin with `{`, and a pattern may not be parenthesised
     * alone, so the whole assignment is. */
    bool wrap = level >= P_ASSIGN ||
                (left && left->type == EW__N_ObjectPattern && at_start(e, S_STMT | S_ARROW));
    if (wrap) {
        put_c(e, '(');
        flags = 0;
    }
    expr(e, left, P_POSTFIX, flags & F_FORBID_IN);
    emit_operator(e, n->as.binary.op);
    expr(e, n->as.binary.right, P_COMMA, flags & F_FORBID_IN);
    if (wrap)
        put_c(e, ')');
}

static void emit_unary(emitter_t *e, const ew__node_t *n, int level)
{
    const char *t = ew__op_text(n->as.unary.op);
    size_t tl = strlen(t);
    if (n->type == EW__N_UpdateExpression && !n->as.unary.prefix) {
        bool wrap = level >= P_POSTFIX;
        if (wrap)
            put_c(e, '(');
        expr(e, n->as.unary.argument, P_POSTFIX, 0);
        token(e, t, tl);
        if (wrap)
            put_c(e, ')');
        return;
    }
    bool wrap = level >= P_PREFIX;
    if (wrap)
        put_c(e, '(');
    if (is_ident_char((unsigned char) t[0]))
        keyword(e, t, tl); /* typeof, void, delete */
    else
        token(e, t, tl);   /* the joiner separates `- -a`, `+ ++a` */
    expr(e, n->as.unary.argument, P_PREFIX - 1, 0);
    if (wrap)
        put_c(e, ')');
}

static void emit_conditional(emitter_t *e, const ew__node_t *n, int level, unsigned flags)
{
    bool wrap = level >= P_COND;
    if (wrap) {
        put_c(e, '(');
        flags = 0;
    }
    expr(e, n->as.conditional.test, P_COND, flags & F_FORBID_IN);
    sp(e);
    put_c(e, '?');
    sp(e);
    expr(e, n->as.conditional.consequent, P_COMMA, 0); /* `? AssignmentExpression[+In] :` */
    sp(e);
    put_c(e, ':');
    sp(e);
    expr(e, n->as.conditional.alternate, P_COMMA, flags & F_FORBID_IN);
    if (wrap)
        put_c(e, ')');
}

static void emit_sequence(emitter_t *e, const ew__node_t *n, int level, unsigned flags)
{
    bool wrap = level >= P_COMMA;
    if (wrap) {
        put_c(e, '(');
        flags = 0;
    }
    const ew__nodes_t *l = &n->as.sequence.expressions;
    for (uint32_t i = 0; i < l->len; i++) {
        if (i) {
            put_c(e, ',');
            sp(e);
        }
        expr(e, l->items[i], P_COMMA, flags & F_FORBID_IN);
    }
    if (wrap)
        put_c(e, ')');
}

/* `yield`, `yield* x`, `await x` */
static void emit_yield_await(emitter_t *e, const ew__node_t *n, int level, unsigned flags)
{
    bool is_yield = n->type == EW__N_YieldExpression;
    bool wrap = level >= (is_yield ? P_ASSIGN : P_PREFIX);
    if (wrap) {
        put_c(e, '(');
        flags = 0;
    }
    if (!is_yield) {
        KEYWORD_LIT(e, "await");
        expr(e, n->as.argument.argument, P_PREFIX - 1, 0);
    } else {
        TOKEN_LIT(e, "yield");
        if (n->as.yield.delegate)
            put_c(e, '*');
        if (n->as.yield.argument) {
            sp(e);
            e->hold_at = e->len; /* `yield` [no LineTerminator here] argument */
            expr(e, n->as.yield.argument, P_COMMA, flags & F_FORBID_IN);
        }
    }
    if (wrap)
        put_c(e, ')');
}

/* ---------------------------------------------------------------------------------------------------------
 * Calls, members, chains
 */

/* An optional chain used as the object of a member, callee or tag is parenthesised: `(a?.b).c` does not
 * short-circuit `.c`, `a?.b.c` does. */
static void emit_chain_head(emitter_t *e, const ew__node_t *n, unsigned flags)
{
    if (n && n->type == EW__N_ChainExpression) {
        put_c(e, '(');
        expr(e, n, P_LOWEST, 0);
        put_c(e, ')');
    } else {
        expr(e, n, P_POSTFIX, flags);
    }
}

/* `1 .x` would read as `1.` then `x`: an integer literal gets parentheses as an object. */
static bool is_integer_literal(const ew__node_t *n)
{
    if (n->type != EW__N_Literal || n->as.literal.kind != EW__LIT_NUMBER)
        return false;
    double v = n->as.literal.number;
    return !signbit(v) && !isinf(v) && v == floor(v) && v < 1e21;
}

/* What an access (member, call, tagged template) is applied to. */
static void emit_access_head(emitter_t *e, const ew__node_t *n, unsigned flags)
{
    if (n->type == EW__N_CallExpression) {
        emit_chain_head(e, n->as.call.callee, 0);
        return;
    }
    if (n->type == EW__N_TaggedTemplateExpression) {
        emit_chain_head(e, n->as.tagged.tag, flags & F_FORBID_CALL);
        return;
    }
    const ew__node_t *obj = n->as.member.object;
    bool computed = n->as.member.computed;
    /* `(let)[x] = 1;`: a statement or for head may not begin with `let [`. */
    if (obj && ((!computed && is_integer_literal(obj)) ||
                (computed && ident_is(obj, "let", 3) && at_start(e, S_STMT | S_FOR | S_FOROF)))) {
        put_c(e, '(');
        expr(e, obj, P_LOWEST, 0);
        put_c(e, ')');
    } else {
        emit_chain_head(e, obj, flags & F_FORBID_CALL);
    }
}

/* The part of an access after its head: `.x`, `?.[i]`, `(args)`, a template. */
static void emit_access_suffix(emitter_t *e, const ew__node_t *n)
{
    if (n->type == EW__N_CallExpression) {
        if (n->as.call.optional)
            PUT_LIT(e, "?.");
        emit_list(e, &n->as.call.arguments, '(', ')');
        return;
    }
    if (n->type == EW__N_TaggedTemplateExpression) {
        const ew__node_t *q = n->as.tagged.quasi;
        if (!q || q->type != EW__N_TemplateLiteral)
            fail(e, n, "tagged template without a template");
        enter(e, q);
        emit_template(e, q);
        return;
    }
    if (n->as.member.optional)
        PUT_LIT(e, "?.");
    if (n->as.member.computed) {
        put_c(e, '[');
        expr(e, n->as.member.property, P_LOWEST, 0);
        put_c(e, ']');
        return;
    }
    const ew__node_t *p = n->as.member.property;
    if (!p || (p->type != EW__N_Identifier && p->type != EW__N_PrivateIdentifier) || !p->as.ident.name)
        fail(e, n, "member without a property name");
    if (e->duktape && p->type == EW__N_Identifier && !n->as.member.optional && name_unsafe(p->as.ident.name)) {
        enter(e, p); /* `c.℘` -> `c["℘"]` */
        put_c(e, '[');
        emit_string(e, p->as.ident.name->s, p->as.ident.name->len);
        put_c(e, ']');
        return;
    }
    if (!n->as.member.optional)
        put_c(e, '.');
    enter(e, p);
    if (p->type == EW__N_PrivateIdentifier)
        put_c(e, '#');
    put(e, p->as.ident.name->s, p->as.ident.name->len);
}

/* Members, calls and tagged templates: `a.b(c)[d]`x``. Like operator chains, the spine of accesses applied to
 * accesses (method chains of any length) is walked with the scratch stack: entered top-down, the innermost head
 * printed, then the suffixes bottom-up. A call below is part of the spine unless a `new` callee forbids calls. */
static void emit_access(emitter_t *e, const ew__node_t *n, unsigned flags)
{
    uint32_t base = e->sp;
    const ew__node_t *cur = n;
    for (;;) {
        push_node(e, cur);
        const ew__node_t *child = cur->type == EW__N_CallExpression ? cur->as.call.callee
                                  : cur->type == EW__N_TaggedTemplateExpression ? cur->as.tagged.tag
                                                                                : cur->as.member.object;
        unsigned child_flags = cur->type == EW__N_CallExpression ? 0 : flags & F_FORBID_CALL;
        if (!child)
            fail(e, cur, "access without an object");
        bool spine = child->type == EW__N_MemberExpression || child->type == EW__N_TaggedTemplateExpression ||
                     (child->type == EW__N_CallExpression && !(child_flags & F_FORBID_CALL));
        if (!spine)
            break;
        flags = child_flags;
        enter(e, child);
        cur = child;
    }
    emit_access_head(e, cur, flags);
    while (e->sp > base)
        emit_access_suffix(e, e->stack[--e->sp]);
}

static void emit_call(emitter_t *e, const ew__node_t *n, unsigned flags)
{
    bool wrap = (flags & F_FORBID_CALL) != 0;
    if (wrap)
        put_c(e, '(');
    if (n->type == EW__N_ImportExpression) {
        TOKEN_LIT(e, "import");
        put_c(e, '(');
        expr(e, n->as.import_expr.source, P_COMMA, 0);
        put_c(e, ')');
    } else {
        emit_access(e, n, 0);
    }
    if (wrap)
        put_c(e, ')');
}

/* `new C(args)`: always with arguments; a call in the callee is parenthesised (F_FORBID_CALL). */
static void emit_new(emitter_t *e, const ew__node_t *n)
{
    KEYWORD_LIT(e, "new");
    const ew__node_t *callee = n->as.call.callee;
    if (callee && callee->type == EW__N_ChainExpression) {
        put_c(e, '(');
        expr(e, callee, P_LOWEST, 0);
        put_c(e, ')');
    } else {
        expr(e, callee, P_NEW, F_FORBID_CALL);
    }
    emit_list(e, &n->as.call.arguments, '(', ')');
}

static void emit_meta_property(emitter_t *e, const ew__node_t *n)
{
    const ew__node_t *m = n->as.meta_property.meta, *p = n->as.meta_property.property;
    if (!m || !p || m->type != EW__N_Identifier || p->type != EW__N_Identifier)
        fail(e, n, "malformed meta property");
    token(e, m->as.ident.name->s, m->as.ident.name->len);
    put_c(e, '.');
    put(e, p->as.ident.name->s, p->as.ident.name->len);
}

/* ---------------------------------------------------------------------------------------------------------
 * Expressions: the dispatcher
 */

static void expr(emitter_t *e, const ew__node_t *n, int level, unsigned flags)
{
    if (!n)
        fail(e, NULL, "missing expression");
    if (++e->nesting > EMIT_MAX_DEPTH)
        fail(e, n, "expression nested too deeply to print");
    enter(e, n);
    switch ((ew__node_type_t) n->type) {
    case EW__N_Identifier:
    case EW__N_PrivateIdentifier: emit_ident(e, n); break;
    case EW__N_Literal: emit_literal(e, n, level); break;
    case EW__N_TemplateLiteral: emit_template(e, n); break;
    case EW__N_TaggedTemplateExpression: emit_access(e, n, flags); break;
    case EW__N_ThisExpression: TOKEN_LIT(e, "this"); break;
    case EW__N_Super: TOKEN_LIT(e, "super"); break;
    case EW__N_ArrayExpression:
    case EW__N_ArrayPattern: emit_array(e, n); break;
    case EW__N_ObjectExpression:
    case EW__N_ObjectPattern: emit_object(e, n); break;
    case EW__N_FunctionExpression: emit_function(e, n); break;
    case EW__N_ArrowFunctionExpression: emit_arrow(e, n, level, flags); break;
    case EW__N_ClassExpression: emit_class(e, n); break;
    case EW__N_UnaryExpression:
    case EW__N_UpdateExpression: emit_unary(e, n, level); break;
    case EW__N_BinaryExpression:
    case EW__N_LogicalExpression: emit_binary(e, n, level, flags); break;
    case EW__N_AssignmentExpression: emit_assign(e, n, level, flags); break;
    case EW__N_AssignmentPattern:
        expr(e, n->as.assign_pattern.left, P_POSTFIX, 0);
        sp(e);
        put_c(e, '=');
        sp(e);
        expr(e, n->as.assign_pattern.right, P_COMMA, 0);
        break;
    case EW__N_ConditionalExpression: emit_conditional(e, n, level, flags); break;
    case EW__N_CallExpression:
    case EW__N_ImportExpression: emit_call(e, n, flags); break;
    case EW__N_NewExpression: emit_new(e, n); break;
    case EW__N_MemberExpression: emit_access(e, n, flags); break;
    case EW__N_ChainExpression:
        if (flags & F_FORBID_CALL) {
            put_c(e, '(');
            expr(e, n->as.chain.expression, P_LOWEST, 0);
            put_c(e, ')');
        } else {
            expr(e, n->as.chain.expression, level, flags);
        }
        break;
    case EW__N_SequenceExpression: emit_sequence(e, n, level, flags); break;
    case EW__N_YieldExpression:
    case EW__N_AwaitExpression: emit_yield_await(e, n, level, flags); break;
    case EW__N_SpreadElement:
    case EW__N_RestElement:
        TOKEN_LIT(e, "...");
        expr(e, n->as.argument.argument, P_COMMA, 0);
        break;
    case EW__N_MetaProperty: emit_meta_property(e, n); break;
    default: fail(e, n, "not an expression");
    }
    e->nesting--;
}

/* ---------------------------------------------------------------------------------------------------------
 * Statements
 */

/* `var a = 1, b` (no semicolon: for heads share it). flags: F_FORBID_IN in a for head. */
static void emit_var_decl(emitter_t *e, const ew__node_t *n, unsigned flags)
{
    static const char *const kinds[] = {"var", "let", "const"};
    uint8_t k = n->as.var_decl.kind;
    if (k > EW__VAR_CONST)
        fail(e, n, "unknown declaration kind");
    keyword(e, kinds[k], strlen(kinds[k]));
    const ew__nodes_t *l = &n->as.var_decl.declarations;
    for (uint32_t i = 0; i < l->len; i++) {
        const ew__node_t *d = l->items[i];
        if (!d || d->type != EW__N_VariableDeclarator)
            fail(e, n, "malformed declaration");
        if (i) {
            put_c(e, ',');
            sp(e);
        }
        enter(e, d);
        expr(e, d->as.declarator.id, P_COMMA, 0);
        if (d->as.declarator.init) {
            sp(e);
            put_c(e, '=');
            sp(e);
            expr(e, d->as.declarator.init, P_COMMA, flags);
        }
    }
}

/* The dangling else: `if (a) { if (b) x; } else y;` needs its braces. */
static bool ends_with_if_without_else(const ew__node_t *s)
{
    while (s) {
        switch (s->type) {
        case EW__N_IfStatement:
            if (!s->as.conditional.alternate)
                return true;
            s = s->as.conditional.alternate;
            break;
        case EW__N_WhileStatement: s = s->as.while_.body; break;
        case EW__N_ForStatement: s = s->as.for_.body; break;
        case EW__N_ForInStatement:
        case EW__N_ForOfStatement: s = s->as.for_in.body; break;
        case EW__N_LabeledStatement: s = s->as.labeled.body; break;
        case EW__N_WithStatement: s = s->as.with.body; break;
        default: return false;
        }
    }
    return false;
}

/* The body of if/loops/labels/with: after a space, on the same line unless its line says otherwise. */
static void emit_body(emitter_t *e, const ew__node_t *s)
{
    if (s && s->type != EW__N_EmptyStatement)
        sp(e);
    stmt(e, s);
}

static void emit_if(emitter_t *e, const ew__node_t *n)
{
    const ew__node_t *cons = n->as.conditional.consequent, *alt = n->as.conditional.alternate;
    KEYWORD_LIT(e, "if");
    put_c(e, '(');
    expr(e, n->as.conditional.test, P_LOWEST, 0);
    put_c(e, ')');
    sp(e);
    if (alt && ends_with_if_without_else(cons)) {
        put_c(e, '{');
        sp(e);
        stmt(e, cons);
        sp(e);
        put_c(e, '}');
    } else {
        stmt(e, cons);
    }
    if (alt) {
        sp(e);
        KEYWORD_LIT(e, "else");
        stmt(e, alt);
    }
}

static bool is_in(const ew__node_t *n)
{
    return n->type == EW__N_BinaryExpression && n->as.binary.op == EW__T_K_IN;
}

static int find_in(ew__node_t **slot, void *ud)
{
    return is_in(*slot) || ew__node_children(*slot, find_in, ud);
}

static void emit_for(emitter_t *e, const ew__node_t *n)
{
    KEYWORD_LIT(e, "for");
    put_c(e, '(');
    const ew__node_t *init = n->as.for_.init;
    if (init && init->type == EW__N_VariableDeclaration) {
        enter(e, init);
        emit_var_decl(e, init, F_FORBID_IN);
    } else if (init) {
        /* Duktape rejects `in` anywhere in a for-init expression, even where the grammar allows it (a
         * conditional's middle, call arguments): such an init is printed in parentheses */
        bool wrap = e->duktape && (ew__node_children((ew__node_t *) init, find_in, NULL) != 0 || is_in(init));
        if (wrap)
            put_c(e, '(');
        mark_start(e, S_FOR);
        expr(e, init, P_LOWEST, wrap ? 0 : F_FORBID_IN);
        if (wrap)
            put_c(e, ')');
    }
    put_c(e, ';');
    if (n->as.for_.test) {
        sp(e);
        expr(e, n->as.for_.test, P_LOWEST, 0);
    }
    put_c(e, ';');
    if (n->as.for_.update) {
        sp(e);
        expr(e, n->as.for_.update, P_LOWEST, 0);
    }
    put_c(e, ')');
    emit_body(e, n->as.for_.body);
}

static void emit_for_in(emitter_t *e, const ew__node_t *n)
{
    bool of = n->type == EW__N_ForOfStatement;
    KEYWORD_LIT(e, "for");
    if (of && n->as.for_in.await)
        KEYWORD_LIT(e, "await");
    put_c(e, '(');
    const ew__node_t *left = n->as.for_in.left;
    if (left && left->type == EW__N_VariableDeclaration) {
        enter(e, left);
        emit_var_decl(e, left, F_FORBID_IN); /* Annex B: `for (var a = b in c)` */
    } else if (of && ident_is(left, "async", 5)) {
        put_c(e, '('); /* `for (async of x)` would start an async arrow */
        expr(e, left, P_LOWEST, 0);
        put_c(e, ')');
    } else {
        mark_start(e, of ? S_FOROF : S_FOR);
        expr(e, left, P_POSTFIX, 0);
    }
    put_c(e, ' ');
    if (of)
        KEYWORD_LIT(e, "of");
    else
        KEYWORD_LIT(e, "in");
    expr(e, n->as.for_in.right, of ? P_COMMA : P_LOWEST, 0);
    put_c(e, ')');
    emit_body(e, n->as.for_in.body);
}

static void emit_switch(emitter_t *e, const ew__node_t *n)
{
    KEYWORD_LIT(e, "switch");
    put_c(e, '(');
    expr(e, n->as.switch_.discriminant, P_LOWEST, 0);
    put_c(e, ')');
    sp(e);
    put_c(e, '{');
    e->depth++;
    const ew__nodes_t *cases = &n->as.switch_.cases;
    for (uint32_t i = 0; i < cases->len; i++) {
        const ew__node_t *c = cases->items[i];
        if (!c || c->type != EW__N_SwitchCase)
            fail(e, n, "malformed switch");
        stmt_break(e);
        if (e->retain && !e->minify && (!c->line || c->line <= e->line))
            put_c(e, ' ');
        enter(e, c);
        if (c->as.switch_case.test) {
            KEYWORD_LIT(e, "case");
            expr(e, c->as.switch_case.test, P_LOWEST, 0);
        } else {
            TOKEN_LIT(e, "default");
        }
        put_c(e, ':');
        e->depth++;
        stmt_list(e, &c->as.switch_case.consequent);
        e->depth--;
    }
    e->depth--;
    if (cases->len) {
        if (!e->retain && !e->minify)
            newlines(e, 1);
        else
            sp(e);
    }
    put_c(e, '}');
}

static void emit_try(emitter_t *e, const ew__node_t *n)
{
    KEYWORD_LIT(e, "try");
    emit_block(e, n->as.try_.block);
    const ew__node_t *h = n->as.try_.handler;
    if (h) {
        if (h->type != EW__N_CatchClause)
            fail(e, h, "malformed catch");
        sp(e);
        enter(e, h);
        TOKEN_LIT(e, "catch");
        sp(e);
        if (h->as.catch_.param) {
            put_c(e, '(');
            expr(e, h->as.catch_.param, P_LOWEST, 0);
            put_c(e, ')');
            sp(e);
        }
        emit_block(e, h->as.catch_.body);
    }
    if (n->as.try_.finalizer) {
        sp(e);
        KEYWORD_LIT(e, "finally");
        emit_block(e, n->as.try_.finalizer);
    }
}

/* `return x;`, `throw x;`, `break L;`, `continue L;`: the operand stays on the keyword's line (hold_at). */
static void emit_jump(emitter_t *e, const char *kw, const ew__node_t *operand)
{
    token(e, kw, strlen(kw));
    if (operand) {
        sp(e);
        e->hold_at = e->len;
        expr(e, operand, P_LOWEST, 0);
    }
    put_c(e, ';');
}

static void emit_expression_statement(emitter_t *e, const ew__node_t *n)
{
    if (n->as.expr_stmt.directive.s) {
        emit_directive(e, n);
        return;
    }
    const ew__node_t *x = n->as.expr_stmt.expression;
    /* A string statement that is not a directive stays one: `("use strict");` */
    if (x && x->type == EW__N_Literal && x->as.literal.kind == EW__LIT_STRING) {
        put_c(e, '(');
        expr(e, x, P_LOWEST, 0);
        put_c(e, ')');
    } else {
        mark_start(e, S_STMT);
        expr(e, x, P_LOWEST, 0);
    }
    put_c(e, ';');
}

/* ---------------------------------------------------------------------------------------------------------
 * Modules
 */

/* A module export/import name: an identifier or a string (`export { a as "a-b" }`). */
static void emit_module_name(emitter_t *e, const ew__node_t *n)
{
    if (!n)
        fail(e, NULL, "missing module name");
    enter(e, n);
    if (n->type == EW__N_Literal)
        emit_literal(e, n, P_LOWEST);
    else
        emit_ident(e, n);
}

static bool same_name(const ew__node_t *a, const ew__node_t *b)
{
    return a && b && a->type == EW__N_Identifier && b->type == EW__N_Identifier &&
           ew__atom_eq(a->as.ident.name, b->as.ident.name);
}

/* `{ a, b as c }` for import (imported as local) and export (local as exported) specifiers. */
static void emit_specifiers(emitter_t *e, const ew__nodes_t *l, uint32_t from, bool import)
{
    put_c(e, '{');
    for (uint32_t i = from; i < l->len; i++) {
        const ew__node_t *s = l->items[i];
        const ew__node_t *first = import ? s->as.import_spec.imported : s->as.export_spec.local;
        const ew__node_t *second = import ? s->as.import_spec.local : s->as.export_spec.exported;
        if (i > from)
            put_c(e, ',');
        sp(e);
        emit_module_name(e, first);
        if (!same_name(first, second)) {
            put_c(e, ' ');
            KEYWORD_LIT(e, "as");
            emit_module_name(e, second);
        }
    }
    if (l->len > from)
        sp(e);
    put_c(e, '}');
}

static void emit_from(emitter_t *e, const ew__node_t *source)
{
    sp(e);
    KEYWORD_LIT(e, "from");
    expr(e, source, P_LOWEST, 0);
}

static void emit_import(emitter_t *e, const ew__node_t *n)
{
    const ew__nodes_t *l = &n->as.import_decl.specifiers;
    KEYWORD_LIT(e, "import");
    uint32_t i = 0;
    if (l->len && l->items[0]->type == EW__N_ImportDefaultSpecifier) {
        emit_module_name(e, l->items[0]->as.import_spec.local);
        i = 1;
        if (i < l->len) {
            put_c(e, ',');
            sp(e);
        }
    }
    if (i < l->len && l->items[i]->type == EW__N_ImportNamespaceSpecifier) {
        put_c(e, '*');
        put_c(e, ' ');
        KEYWORD_LIT(e, "as");
        emit_module_name(e, l->items[i]->as.import_spec.local);
    } else if (i < l->len) {
        emit_specifiers(e, l, i, true);
    }
    if (l->len)
        emit_from(e, n->as.import_decl.source);
    else
        expr(e, n->as.import_decl.source, P_LOWEST, 0);
    put_c(e, ';');
}

static void emit_export(emitter_t *e, const ew__node_t *n)
{
    KEYWORD_LIT(e, "export");
    switch (n->type) {
    case EW__N_ExportNamedDeclaration:
        if (n->as.export_named.declaration) {
            stmt(e, n->as.export_named.declaration);
            return;
        }
        emit_specifiers(e, &n->as.export_named.specifiers, 0, false);
        if (n->as.export_named.source)
            emit_from(e, n->as.export_named.source);
        break;
    case EW__N_ExportDefaultDeclaration: {
        const ew__node_t *d = n->as.export_default.declaration;
        KEYWORD_LIT(e, "default");
        if (d && (d->type == EW__N_FunctionDeclaration || d->type == EW__N_ClassDeclaration)) {
            stmt(e, d);
            return;
        }
        mark_start(e, S_EXPORT);
        expr(e, d, P_COMMA, 0);
        break;
    }
    default: /* ExportAllDeclaration */
        put_c(e, '*');
        if (n->as.export_all.exported) {
            put_c(e, ' ');
            KEYWORD_LIT(e, "as");
            emit_module_name(e, n->as.export_all.exported);
        }
        emit_from(e, n->as.export_all.source);
        break;
    }
    put_c(e, ';');
}

/* ---------------------------------------------------------------------------------------------------------
 * Statements: the dispatcher
 */

static void stmt(emitter_t *e, const ew__node_t *n)
{
    if (!n)
        fail(e, NULL, "missing statement");
    if (++e->nesting > EMIT_MAX_DEPTH)
        fail(e, n, "statement nested too deeply to print");
    enter(e, n);
    switch ((ew__node_type_t) n->type) {
    case EW__N_ExpressionStatement: emit_expression_statement(e, n); break;
    case EW__N_VariableDeclaration:
        emit_var_decl(e, n, 0);
        put_c(e, ';');
        break;
    case EW__N_FunctionDeclaration: emit_function(e, n); break;
    case EW__N_ClassDeclaration: emit_class(e, n); break;
    case EW__N_BlockStatement: emit_block(e, n); break;
    case EW__N_EmptyStatement: put_c(e, ';'); break;
    case EW__N_DebuggerStatement: TOKEN_LIT(e, "debugger;"); break;
    case EW__N_ReturnStatement: emit_jump(e, "return", n->as.argument.argument); break;
    case EW__N_ThrowStatement: emit_jump(e, "throw", n->as.argument.argument); break;
    case EW__N_BreakStatement: emit_jump(e, "break", n->as.jump.label); break;
    case EW__N_ContinueStatement: emit_jump(e, "continue", n->as.jump.label); break;
    case EW__N_IfStatement: emit_if(e, n); break;
    case EW__N_ForStatement: emit_for(e, n); break;
    case EW__N_ForInStatement:
    case EW__N_ForOfStatement: emit_for_in(e, n); break;
    case EW__N_WhileStatement:
        KEYWORD_LIT(e, "while");
        put_c(e, '(');
        expr(e, n->as.while_.test, P_LOWEST, 0);
        put_c(e, ')');
        emit_body(e, n->as.while_.body);
        break;
    case EW__N_DoWhileStatement:
        KEYWORD_LIT(e, "do");
        stmt(e, n->as.while_.body);
        sp(e);
        KEYWORD_LIT(e, "while");
        put_c(e, '(');
        expr(e, n->as.while_.test, P_LOWEST, 0);
        PUT_LIT(e, ");");
        break;
    case EW__N_LabeledStatement:
        expr(e, n->as.labeled.label, P_LOWEST, 0);
        put_c(e, ':');
        emit_body(e, n->as.labeled.body);
        break;
    case EW__N_SwitchStatement: emit_switch(e, n); break;
    case EW__N_TryStatement: emit_try(e, n); break;
    case EW__N_WithStatement:
        KEYWORD_LIT(e, "with");
        put_c(e, '(');
        expr(e, n->as.with.object, P_LOWEST, 0);
        put_c(e, ')');
        emit_body(e, n->as.with.body);
        break;
    case EW__N_ImportDeclaration: emit_import(e, n); break;
    case EW__N_ExportNamedDeclaration:
    case EW__N_ExportDefaultDeclaration:
    case EW__N_ExportAllDeclaration: emit_export(e, n); break;
    default: fail(e, n, "not a statement");
    }
    e->nesting--;
}

/* Statements of a block, function body, case or program: one per line in the pretty layout; with retained lines
 * a space separates statements that share a line. */
static void stmt_list(emitter_t *e, const ew__nodes_t *l)
{
    for (uint32_t i = 0; i < l->len; i++) {
        const ew__node_t *s = l->items[i];
        stmt_break(e);
        char last = e->len ? e->buf[e->len - 1] : '\n';
        if (e->retain && !e->minify && last != '\n' && last != ' ' && s && (!s->line || s->line <= e->line))
            put_c(e, ' ');
        stmt(e, s);
    }
}

static bool is_statement(const ew__node_t *n)
{
    switch (n->type) {
    case EW__N_ExpressionStatement: case EW__N_BlockStatement: case EW__N_EmptyStatement:
    case EW__N_DebuggerStatement: case EW__N_WithStatement: case EW__N_ReturnStatement:
    case EW__N_LabeledStatement: case EW__N_BreakStatement: case EW__N_ContinueStatement:
    case EW__N_IfStatement: case EW__N_SwitchStatement: case EW__N_ThrowStatement: case EW__N_TryStatement:
    case EW__N_WhileStatement: case EW__N_DoWhileStatement: case EW__N_ForStatement: case EW__N_ForInStatement:
    case EW__N_ForOfStatement: case EW__N_FunctionDeclaration: case EW__N_VariableDeclaration:
    case EW__N_ClassDeclaration: case EW__N_ImportDeclaration: case EW__N_ExportNamedDeclaration:
    case EW__N_ExportDefaultDeclaration: case EW__N_ExportAllDeclaration:
        return true;
    default:
        return false;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Entry points
 */

void ew__emit_opts_init(ew__emit_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->retain_lines = true;
    o->indent = 2;
}

/* The part of ew__emit that may longjmp: e lives in the caller's frame, so its fields are well defined after a
 * failure. */
static bool run(emitter_t *e, const ew__node_t *root)
{
    if (setjmp(e->fail))
        return false;
    size_t guess = root->end > root->start ? (size_t) (root->end - root->start) : 0;
    reserve(e, guess + guess / 8 + 256);
    if (root->type == EW__N_Program) {
        const ew__nodes_t *body = &root->as.program.body;
        e->strict = root->as.program.module || (root->flags & EW__NF_STRICT);
        if ((root->flags & EW__NF_STRICT) && !root->as.program.module && !has_use_strict(body))
            PUT_LIT(e, "\"use strict\";");
        stmt_list(e, body);
    }
    else if (is_statement(root))
        stmt(e, root);
    else
        expr(e, root, P_LOWEST, 0);
    end_line(e);
    e->buf[e->len] = 0;
    return true;
}

bool ew__emit(const ew__node_t *root, const ew__emit_opts_t *opts, ew__emit_out_t *out, ew__diag_t *diag)
{
    ew__emit_opts_t defaults;
    if (!opts) {
        ew__emit_opts_init(&defaults);
        opts = &defaults;
    }
    memset(out, 0, sizeof *out);
    emitter_t e;
    memset(&e, 0, sizeof e);
    e.retain = opts->retain_lines;
    e.minify = opts->minify;
    e.duktape = opts->duktape;
    e.indent = opts->indent;
    e.file_index = opts->file_index;
    e.line = 1;
    e.line_orig = 1;
    e.hold_at = e.start_at = e.regex_end = (size_t) -1;
    bool ok = root && run(&e, root);
    free(e.stack);
    if (e.c_locale)
        freelocale(e.c_locale);
    if (!ok) {
        const ew__node_t *n = e.err_node;
        ew__diag_set(diag, opts->file, NULL, 0, n ? n->start : 0, n ? n->line : 0, n ? n->col : 0,
                     root ? e.err : "nothing to print");
        free(e.buf);
        free(e.runs);
        return false;
    }
    out->text = e.buf;
    out->len = e.len;
    out->map.runs = e.runs;
    out->map.count = e.nruns;
    out->map.gen_lines = e.line;
    return true;
}

void ew__emit_out_dispose(ew__emit_out_t *out)
{
    free(out->text);
    ew__linemap_dispose(&out->map);
    memset(out, 0, sizeof *out);
}

/* The run holding gen_line, or NULL. */
static const ew__linemap_run_t *find_run(const ew__linemap_t *map, uint32_t gen_line)
{
    if (!map->count || gen_line < 1 || gen_line > map->gen_lines)
        return NULL;
    uint32_t lo = 0, hi = map->count; /* the answer is the last run with gen_line <= the line */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (map->runs[mid].gen_line <= gen_line)
            lo = mid;
        else
            hi = mid;
    }
    return &map->runs[lo];
}

uint32_t ew__linemap_lookup(const ew__linemap_t *map, uint32_t gen_line)
{
    const ew__linemap_run_t *r = find_run(map, gen_line);
    return r ? r->orig_line + (gen_line - r->gen_line) : 0;
}

uint32_t ew__linemap_file(const ew__linemap_t *map, uint32_t gen_line)
{
    const ew__linemap_run_t *r = find_run(map, gen_line);
    return r ? r->file : 0;
}

void ew__linemap_dispose(ew__linemap_t *map)
{
    free(map->runs);
    memset(map, 0, sizeof *map);
}
