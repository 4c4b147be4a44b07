/*
 * lower_regex_indices.c — the `d` flag (match indices) for Duktape's regex engine, which reports only the
 * text of each capture: the pattern (already ES5 syntax, after lower_regex.c's translation) is rewritten so
 * that every original group's start offset is a sum of capture lengths of the rewritten match.
 *
 * In an alternative, a term starts where the previous terms' text ends; so each term before a term holding a
 * group is wrapped in a capture (`a+` → `(a+)`, `(?:x)` → `(x)`) and a group's start is the start of its
 * alternative plus the lengths of those captures. A quantified group holding a group matches its captures in
 * its last iteration only (the specification resets them at each iteration, as Duktape does): the whole
 * quantified term and its body are captured (`(?:B)*` → `((B)*)`), and the last iteration starts at the
 * term's end minus the body's length. Lookaheads are zero-width: their body starts where they stand.
 * Backreferences are renumbered. What this cannot place exactly is a compile error: a group inside a
 * quantified lookahead, and a `\N` escape above the group count (an octal escape that would become a
 * backreference to an added group).
 *
 * The result: the rewritten pattern and, for each original group, [its capture number, then the signed
 * capture numbers whose lengths give its start from match.index] (lib/js/helpers_regex.js reads it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "lower.h"

/* Where the rewrite allocates and fails: the lowering's arena and error at compile time (L set), its own
 * arena and a longjmp with the message at run time (ew__regex_indices). */
typedef struct rx {
    ew__lower_t *L;
    const ew__node_t *at;
    ew__arena_t arena;
    jmp_buf fail;
    char msg[200];
} rx_t;

static void *rx_alloc(rx_t *X, size_t n);

__attribute__((noreturn, format(printf, 2, 3))) static void rx_error(rx_t *X, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(X->msg, sizeof X->msg, fmt, ap);
    va_end(ap);
    if (X->L)
        ew__lower_error(X->L, X->at, "%s", X->msg);
    longjmp(X->fail, 1);
}

static void *rx_alloc(rx_t *X, size_t n)
{
    if (X->L)
        return ew__lalloc(X->L, n);
    void *p = ew__arena_zalloc(&X->arena, n ? n : 1);
    if (!p)
        rx_error(X, "out of memory");
    return p;
}

enum { R_ATOM, R_ASSERT, R_GROUP, R_NCGROUP, R_LOOK };

typedef struct rterm rterm_t;
typedef struct ralt {
    rterm_t *t;
    uint32_t n, cap;
} ralt_t;
typedef struct rdisj {
    ralt_t *alts;
    uint32_t n, cap;
} rdisj_t;
struct rterm {
    uint8_t kind;
    bool hascap;      /* holds a capturing group */
    uint32_t a, b;    /* source span of the atom without its quantifier (a group: its opening only) */
    uint32_t qa, qb;  /* quantifier span; qa == qb: none */
    uint32_t group;   /* R_GROUP: its original number */
    uint32_t backref; /* R_ATOM `\N`: N, else 0 */
    rdisj_t *body;    /* groups and lookaheads */
};

typedef struct rparse {
    rx_t *X;
    const char *s;
    uint32_t len, i, groups;
} rparse_t;

static void *grow(rx_t *X, void *old, uint32_t n, uint32_t *cap, size_t size)
{
    if (n < *cap)
        return old;
    uint32_t c = *cap ? *cap * 2 : 4;
    void *p = rx_alloc(X, c * size);
    if (n)
        EW__MEMCPY(p, old, n * size);
    *cap = c;
    return p;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static rdisj_t *parse_disj(rparse_t *P);

/* `{n}`, `{n,}`, `{n,m}` at i: its length, else 0 (Annex B: a literal brace). */
static uint32_t brace_quantifier(const char *s, uint32_t len, uint32_t i)
{
    uint32_t j = i + 1, d = 0;
    while (j < len && is_digit(s[j]))
        j++, d++;
    if (!d)
        return 0;
    if (j < len && s[j] == ',') {
        j++;
        while (j < len && is_digit(s[j]))
            j++;
    }
    return j < len && s[j] == '}' ? j + 1 - i : 0;
}

/* One escape at P->i (the backslash) outside a class: its end. */
static uint32_t escape_end(rparse_t *P, uint32_t *backref)
{
    const char *s = P->s;
    uint32_t i = P->i + 1, len = P->len;
    if (i >= len)
        return len;
    char d = s[i];
    uint32_t need = d == 'x' ? 2 : d == 'u' ? 4 : 0, k = 0;
    if (need) {
        while (k < need && i + 1 + k < len && is_hex(s[i + 1 + k]))
            k++;
        return k == need ? i + 1 + need : i + 1;
    }
    if (d == 'c' && i + 1 < len && ((s[i + 1] | 0x20) >= 'a' && (s[i + 1] | 0x20) <= 'z'))
        return i + 2;
    if (is_digit(d)) {
        uint32_t v = 0;
        while (i < len && is_digit(s[i]))
            v = v > 100000 ? v : v * 10 + (uint32_t) (s[i++] - '0');
        if (d != '0')
            *backref = v;
        return i;
    }
    i++;
    while (i < len && ((unsigned char) s[i] & 0xc0) == 0x80) /* the rest of a UTF-8 sequence */
        i++;
    return i;
}

static void parse_term(rparse_t *P, rterm_t *t)
{
    const char *s = P->s;
    uint32_t len = P->len;
    memset(t, 0, sizeof *t);
    t->a = P->i;
    char c = s[P->i];
    if (c == '^' || c == '$' || (c == '\\' && P->i + 1 < len && (s[P->i + 1] == 'b' || s[P->i + 1] == 'B'))) {
        t->kind = R_ASSERT;
        P->i += c == '\\' ? 2 : 1;
        t->b = t->qa = t->qb = P->i;
        return;
    }
    if (c == '(') {
        if (P->i + 2 < len && s[P->i + 1] == '?') {
            t->kind = s[P->i + 2] == ':' ? R_NCGROUP : R_LOOK;
            P->i += 3;
        } else {
            t->kind = R_GROUP;
            t->group = ++P->groups;
            t->hascap = true;
            P->i++;
        }
        t->b = P->i;
        t->body = parse_disj(P);
        if (P->i < len) /* the ')' */
            P->i++;
        for (uint32_t k = 0; k < t->body->n; k++)
            for (uint32_t j = 0; j < t->body->alts[k].n; j++)
                t->hascap |= t->body->alts[k].t[j].hascap;
    } else if (c == '\\') {
        t->kind = R_ATOM;
        P->i = escape_end(P, &t->backref);
        t->b = P->i;
    } else if (c == '[') {
        t->kind = R_ATOM;
        uint32_t j = P->i + 1;
        if (j < len && s[j] == '^')
            j++;
        while (j < len && s[j] != ']')
            j += s[j] == '\\' ? 2 : 1;
        P->i = j < len ? j + 1 : len;
        t->b = P->i;
    } else {
        t->kind = R_ATOM;
        P->i++;
        while (P->i < len && ((unsigned char) s[P->i] & 0xc0) == 0x80)
            P->i++;
        t->b = P->i;
    }
    t->qa = P->i;
    if (P->i < len) {
        uint32_t q = s[P->i] == '*' || s[P->i] == '+' || s[P->i] == '?' ? 1
                     : s[P->i] == '{'                                   ? brace_quantifier(s, len, P->i)
                                                                        : 0;
        if (q) {
            P->i += q;
            if (P->i < len && s[P->i] == '?')
                P->i++;
        }
    }
    t->qb = P->i;
}

static rdisj_t *parse_disj(rparse_t *P)
{
    rdisj_t *d = rx_alloc(P->X, sizeof *d);
    memset(d, 0, sizeof *d);
    for (;;) {
        d->alts = grow(P->X, d->alts, d->n, &d->cap, sizeof *d->alts);
        ralt_t *alt = &d->alts[d->n++];
        memset(alt, 0, sizeof *alt);
        while (P->i < P->len && P->s[P->i] != '|' && P->s[P->i] != ')') {
            alt->t = grow(P->X, alt->t, alt->n, &alt->cap, sizeof *alt->t);
            parse_term(P, &alt->t[alt->n]);
            alt->n++;
        }
        if (P->i < P->len && P->s[P->i] == '|') {
            P->i++;
            continue;
        }
        return d;
    }
}

/* A start formula: signed capture numbers whose lengths add up to an offset from match.index. */
typedef struct formula {
    int32_t *k;
    uint32_t n;
} formula_t;

typedef struct remit {
    rx_t *X;
    const char *s;
    char *out;
    uint32_t len, cap;
    int32_t ncap;       /* captures emitted so far */
    uint32_t groups;    /* original group count */
    int32_t *number;    /* original group g (1-based) → its capture number (from the first pass) */
    formula_t *starts;  /* original group g → its start formula */
} remit_t;

static void put(remit_t *E, const char *s, uint32_t n)
{
    while (E->len + n > E->cap) {
        uint32_t c = E->cap ? E->cap * 2 : 64;
        char *p = rx_alloc(E->X, c);
        if (E->len)
            EW__MEMCPY(p, E->out, E->len);
        E->out = p;
        E->cap = c;
    }
    EW__MEMCPY(E->out + E->len, s, n);
    E->len += n;
}

static formula_t extend(remit_t *E, formula_t f, int32_t a, int32_t b)
{
    formula_t r = {rx_alloc(E->X, (f.n + 2) * sizeof(int32_t)), f.n};
    if (f.n)
        EW__MEMCPY(r.k, f.k, f.n * sizeof(int32_t));
    if (a)
        r.k[r.n++] = a;
    if (b)
        r.k[r.n++] = b;
    return r;
}

static void emit_disj(remit_t *E, const rdisj_t *d, formula_t f);

/* A term's atom text (a backreference renumbered; a group's body emitted by the caller). */
static void emit_atom(remit_t *E, const rterm_t *t)
{
    if (!t->backref) {
        put(E, E->s + t->a, t->b - t->a);
        return;
    }
    if (t->backref > E->groups)
        rx_error(E->X, "with the d flag, the octal escape \\%u (the pattern has %u groups) would "
                                     "become a backreference; write it as \\xHH",
                        t->backref, E->groups);
    char num[16];
    int m = snprintf(num, sizeof num, "\\%d", E->number ? E->number[t->backref] : 1);
    put(E, num, (uint32_t) m);
}

static void emit_alt(remit_t *E, const ralt_t *alt, formula_t f)
{
    for (uint32_t i = 0; i < alt->n; i++) {
        const rterm_t *t = &alt->t[i];
        bool later = false, quantified = t->qa < t->qb;
        for (uint32_t j = i + 1; j < alt->n && !later; j++)
            later = alt->t[j].hascap;
        const char *q = E->s + t->qa;
        uint32_t qn = t->qb - t->qa;
        if (t->kind == R_ASSERT) {
            put(E, E->s + t->a, t->b - t->a);
        } else if (t->kind == R_LOOK) {
            if (quantified && t->hascap)
                rx_error(E->X, "with the d flag, a group inside a quantified lookahead has no "
                                             "exact index");
            put(E, E->s + t->a, 3);
            emit_disj(E, t->body, f);
            put(E, ")", 1);
            put(E, q, qn);
        } else if (t->kind == R_ATOM || (!t->hascap && quantified)) {
            int32_t k = later ? ++E->ncap : 0;
            if (k)
                put(E, "(", 1);
            if (t->kind == R_ATOM) {
                emit_atom(E, t);
            } else {
                put(E, "(?:", 3);
                emit_disj(E, t->body, f);
                put(E, ")", 1);
            }
            put(E, q, qn);
            if (k) {
                put(E, ")", 1);
                f = extend(E, f, k, 0);
            }
        } else if (!quantified) {
            int32_t k = t->kind == R_GROUP || later ? ++E->ncap : 0;
            if (t->kind == R_GROUP) {
                E->number[t->group] = k;
                E->starts[t->group] = f;
            }
            put(E, k ? "(" : "(?:", k ? 1 : 3);
            emit_disj(E, t->body, f);
            put(E, ")", 1);
            if (k && later)
                f = extend(E, f, k, 0);
        } else { /* a quantified group holding groups: ((B)q), its last iteration starts at end - len(B) */
            int32_t outer = ++E->ncap, body = ++E->ncap;
            formula_t bf = extend(E, f, outer, -body);
            if (t->kind == R_GROUP) {
                E->number[t->group] = body;
                E->starts[t->group] = bf;
            }
            put(E, "((", 2);
            emit_disj(E, t->body, bf);
            put(E, ")", 1);
            put(E, q, qn);
            put(E, ")", 1);
            f = extend(E, f, outer, 0);
        }
    }
}

static void emit_disj(remit_t *E, const rdisj_t *d, formula_t f)
{
    for (uint32_t i = 0; i < d->n; i++) {
        if (i)
            put(E, "|", 1);
        emit_alt(E, &d->alts[i], f);
    }
}

/* Rewrites the pattern; fills E (number[g], starts[g] for g in 1..E->groups) and returns the new pattern. */
static ew__str_t rewrite(rx_t *X, ew__str_t pattern, remit_t *E)
{
    rparse_t P = {X, pattern.s, pattern.len, 0, 0};
    rdisj_t *top = parse_disj(&P);
    if (P.i < P.len) /* a stray ')': the parser rejects it first */
        rx_error(X, "unbalanced parenthesis in regular expression");
    *E = (remit_t){X, pattern.s, NULL, 0, 0, 0, P.groups, NULL, NULL};
    size_t n = (P.groups + 1) * sizeof *E->number;
    int32_t *number = rx_alloc(X, n);
    E->starts = rx_alloc(X, (P.groups + 1) * sizeof *E->starts);
    /* the first pass numbers the groups (a backreference may precede its group), the second writes */
    E->number = rx_alloc(X, n);
    emit_disj(E, top, (formula_t){NULL, 0});
    EW__MEMCPY(number, E->number, n);
    E->number = number;
    E->len = 0;
    E->ncap = 0;
    emit_disj(E, top, (formula_t){NULL, 0});
    return (ew__str_t){E->out ? E->out : "", E->len};
}

ew__node_t *ew__lower_regex_indices(ew__lower_t *L, const ew__node_t *at, ew__str_t *pattern)
{
    rx_t X = {.L = L, .at = at};
    remit_t E;
    *pattern = rewrite(&X, *pattern, &E);
    ew__nodes_t map = {0};
    uint32_t cap = 0;
    for (uint32_t g = 1; g <= E.groups; g++) {
        ew__nodes_t entry = {0};
        uint32_t ecap = 0;
        ew__nodes_push(L, &entry, &ecap, ew__b_num(L, E.number[g], at));
        for (uint32_t k = 0; k < E.starts[g].n; k++)
            ew__nodes_push(L, &entry, &ecap, ew__b_num(L, E.starts[g].k[k], at));
        ew__nodes_push(L, &map, &cap, ew__b_array(L, entry, at));
    }
    return ew__b_array(L, map, at);
}

static ew__regex_indices_t *indices_run(rx_t *X, const char *pattern, size_t len)
{
    if (len > UINT32_MAX / 8)
        rx_error(X, "regular expression too large");
    remit_t E;
    ew__str_t out = rewrite(X, (ew__str_t){pattern, (uint32_t) len}, &E);
    size_t ints = 0;
    for (uint32_t g = 1; g <= E.groups; g++)
        ints += 2 + E.starts[g].n;
    ew__regex_indices_t *r = malloc(sizeof *r + ints * sizeof(int32_t) + out.len + 1);
    if (!r)
        rx_error(X, "out of memory");
    r->groups = E.groups;
    r->map = (int32_t *) (r + 1);
    r->pattern = (char *) (r->map + ints);
    r->pattern_len = out.len;
    EW__MEMCPY(r->pattern, out.s, out.len);
    r->pattern[out.len] = '\0';
    int32_t *m = r->map;
    for (uint32_t g = 1; g <= E.groups; g++) {
        *m++ = (int32_t) (1 + E.starts[g].n);
        *m++ = E.number[g];
        for (uint32_t k = 0; k < E.starts[g].n; k++)
            *m++ = E.starts[g].k[k];
    }
    return r;
}

ew__regex_indices_t *ew__regex_indices(const char *pattern, size_t len, char *err, size_t err_len)
{
    rx_t X = {0};
    ew__arena_init(&X.arena);
    if (setjmp(X.fail)) {
        snprintf(err, err_len, "%s", X.msg);
        ew__arena_dispose(&X.arena);
        return NULL;
    }
    ew__regex_indices_t *r = indices_run(&X, pattern, len);
    ew__arena_dispose(&X.arena);
    return r;
}
