/*
 * cron.c — parses a Cloudflare cron-trigger expression into the bitmask form of ew__cron_t. The syntax and its
 * meaning are documented in cron.h; next.c computes fire times from the result.
 *
 * Shape: the text is split into five whitespace-separated fields, each field into comma-separated items, and
 * each item is parsed by a small recursive-descent reader over [s, end) that sets bits. Plain items (`*`,
 * `a`, `a-b`, with an optional `/n`) go through parse_range_item() for every field; the day fields first try
 * their Quartz forms (L, W, #). Every error names the whole expression, the field and the offending text, so
 * a person reading a config error can fix it without knowing this grammar. Nothing here allocates except the
 * copy of the expression kept for event.cron.
 *
 * Weekdays are read as Cloudflare numbers them (1 = Sunday ... 7 = Saturday) and stored 0-based (0 = Sunday),
 * which is what next.c's calendar arithmetic produces (weekday_bit() and the dow_nth index do the mapping).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron/cron.h"
#include "core/internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Fields
 */

typedef enum field_kind { F_MINUTE, F_HOUR, F_DOM, F_MONTH, F_DOW, F_COUNT } field_kind_t;

typedef struct field {
    const char *name;          /* as shown in messages */
    int min, max;              /* accepted values */
    const char *const *names;  /* three-letter names for min, min+1, ..., or NULL */
    const char *hint;          /* appended to out-of-range messages, "" for none */
} field_t;

static const char *const MONTH_NAMES[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const DAY_NAMES[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

static const field_t FIELDS[F_COUNT] = {
    [F_MINUTE] = {"minute", 0, 59, NULL, ""},
    [F_HOUR] = {"hour", 0, 23, NULL, ""},
    [F_DOM] = {"day-of-month", 1, 31, NULL, ""},
    [F_MONTH] = {"month", 1, 12, MONTH_NAMES, " (or JAN-DEC)"},
    [F_DOW] = {"day-of-week", 1, 7, DAY_NAMES,
               " (Cloudflare numbers weekdays 1 = SUN to 7 = SAT; names SUN-SAT work too)"},
};

/* Expressions are echoed in messages up to this many bytes, so the field's complaint always fits. */
#define ECHO_MAX 200

typedef struct parser {
    const char *expr;    /* the whole expression, for messages */
    const field_t *field; /* the field being read */
    ew_error_t *err;
} parser_t;

/* Sets the error "cron "<expr>": <field> field: <message>" and returns EW_ERR_INVALID_ARG. */
__attribute__((format(printf, 2, 3))) static ew_status_t fail(const parser_t *p, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t len = strlen(p->expr);
    int echo = (int) (len > ECHO_MAX ? ECHO_MAX : len);
    return ew__error_set(p->err, EW_ERR_INVALID_ARG, "cron \"%.*s%s\": %s%s%s", echo, p->expr,
                         len > ECHO_MAX ? "..." : "", p->field ? p->field->name : "", p->field ? " field: " : "", what);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char) (c - 32) : c;
}

/* Length of the text shown for [s, end) in messages (long garbage is cut, the prefix is enough). */
static int shown(const char *s, const char *end)
{
    return end - s > 40 ? 40 : (int) (end - s);
}

/* ---------------------------------------------------------------------------------------------------------
 * Values: numbers and names
 */

/* Reads decimal digits at *s (at least one) into *v; more than 4 digits reads as 9999, out of every range. */
static bool read_number(const char **s, const char *end, int *v)
{
    const char *q = *s;
    int n = 0;
    while (q < end && is_digit(*q)) {
        n = n > 999 ? 9999 : n * 10 + (*q - '0');
        q++;
    }
    if (q == *s)
        return false;
    *s = q;
    *v = n;
    return true;
}

/* Reads a three-letter name of the current field at *s into its value. A day-of-week name may be followed
 * directly by the L of "friL", so a four-letter run ending in L is read as name + L (left unread). */
static ew_status_t read_name(parser_t *p, const char **s, const char *end, int *v)
{
    const char *q = *s;
    while (q < end && is_alpha(*q))
        q++;
    size_t run = (size_t) (q - *s);
    if (run == 4 && p->field == &FIELDS[F_DOW] && upper((*s)[3]) == 'L')
        run = 3;
    const field_t *f = p->field;
    for (int i = 0; run == 3 && i <= f->max - f->min; i++) {
        const char *n = f->names[i];
        if (upper((*s)[0]) == n[0] && upper((*s)[1]) == n[1] && upper((*s)[2]) == n[2]) {
            *v = f->min + i;
            *s += 3;
            return EW_OK;
        }
    }
    return fail(p, "unknown name \"%.*s\" (expected %s-%s)", shown(*s, q), *s, f->names[0],
                f->names[f->max - f->min]);
}

/* Reads one value (a number, or a name where the field has names) at *s, and checks its range. */
static ew_status_t read_value(parser_t *p, const char **s, const char *end, int *v)
{
    const field_t *f = p->field;
    const char *start = *s;
    if (f->names != NULL && start < end && is_alpha(*start))
        return read_name(p, s, end, v);
    if (!read_number(s, end, v)) {
        if (start == end)
            return fail(p, "a value is missing at the end of an item");
        return fail(p, "expected a number%s, found \"%.*s\"", f->names ? " or a name" : "", shown(start, end),
                    start);
    }
    if (*v < f->min || *v > f->max)
        return fail(p, "value %.*s is out of range %d-%d%s", shown(start, *s), start, f->min, f->max, f->hint);
    return EW_OK;
}

/* Fails with "unexpected ..." unless the item ends at s. */
static ew_status_t expect_end(parser_t *p, const char *item, const char *s, const char *end)
{
    if (s == end)
        return EW_OK;
    return fail(p, "unexpected \"%.*s\" after \"%.*s\"", shown(s, end), s, shown(item, s), item);
}

/* ---------------------------------------------------------------------------------------------------------
 * Items
 */

/* `*`, `a`, `a-b`, each optionally followed by `/n`: sets bit v of *mask for every value v selected. A step
 * on a single value (`a/n`) runs from a to the field's maximum, as in Quartz and Vixie cron. */
static ew_status_t parse_range_item(parser_t *p, const char *item, const char *end, uint64_t *mask)
{
    const field_t *f = p->field;
    const char *s = item;
    int lo = f->min, hi = f->max, step = 1;
    bool single = false;
    ew_status_t st;
    if (s < end && *s == '*') {
        s++;
    } else {
        if ((st = read_value(p, &s, end, &lo)) != EW_OK)
            return st;
        hi = lo;
        single = true;
        if (s < end && *s == '-') {
            s++;
            if ((st = read_value(p, &s, end, &hi)) != EW_OK)
                return st;
            single = false;
            if (hi < lo)
                return fail(p, "range \"%.*s\" is reversed (wrap-around is not supported: write %d-%d,%d-%d)",
                            shown(item, s), item, lo, f->max, f->min, hi);
        }
    }
    if (s < end && *s == '/') {
        const char *num = ++s;
        if (!read_number(&s, end, &step))
            return fail(p, "expected a number after \"/\" in \"%.*s\"", shown(item, end), item);
        if (step < 1)
            return fail(p, "step must be at least 1");
        if (step > f->max - f->min + 1)
            return fail(p, "step %.*s is larger than the field's range %d-%d", shown(num, s), num, f->min, f->max);
        if (single)
            hi = f->max;
    }
    if ((st = expect_end(p, item, s, end)) != EW_OK)
        return st;
    for (int v = lo; v <= hi; v += step)
        *mask |= (uint64_t) 1 << v;
    return EW_OK;
}

/* Day-of-month Quartz forms: L, L-n, LW, nW. Returns EW_OK with *handled false for anything else. */
static ew_status_t parse_dom_special(parser_t *p, const char *item, const char *end, ew__cron_t *c, bool *handled)
{
    const char *s = item;
    int v;
    *handled = true;
    if (upper(*s) == 'L') {
        s++;
        if (s < end && upper(*s) == 'W') {
            c->dom_last_weekday = true;
            return expect_end(p, item, s + 1, end);
        }
        if (s < end && *s == '-') {
            s++;
            if (!read_number(&s, end, &v) || v > 30)
                return fail(p, "\"%.*s\": the offset after L- must be a number 0-30", shown(item, end), item);
        } else {
            v = 0;
        }
        c->dom_last |= (uint32_t) 1 << v;
        return expect_end(p, item, s, end);
    }
    if (is_digit(*s) && read_number(&s, end, &v) && s < end && upper(*s) == 'W') {
        if (v < 1 || v > 31)
            return fail(p, "\"%.*s\": the day before W must be 1-31", shown(item, end), item);
        c->dom_nearest |= (uint32_t) 1 << v;
        return expect_end(p, item, s + 1, end);
    }
    *handled = false;
    return EW_OK;
}

/* Maps a weekday as written (1 = Sunday ... 7 = Saturday) to its bit in the 0-based masks. */
static uint8_t weekday_bit(int v)
{
    return (uint8_t) (1u << (v - 1));
}

/* Day-of-week Quartz forms: L alone, nL, n#k (n a number or a name). *handled false for anything else. */
static ew_status_t parse_dow_special(parser_t *p, const char *item, const char *end, ew__cron_t *c, bool *handled)
{
    const char *s = item;
    int v, k;
    ew_status_t st;
    *handled = true;
    if (end - item == 1 && upper(*item) == 'L') {
        c->dow_days |= weekday_bit(7); /* Quartz: "L" alone is the last day of the week, Saturday */
        return EW_OK;
    }
    const char *q = s;
    while (q < end && *q != 'L' && *q != 'l' && *q != '#')
        q++;
    if (q == end) {
        *handled = false;
        return EW_OK;
    }
    if (q == s)
        return fail(p, "\"%.*s\": a weekday must come before %c", shown(item, end), item, *q == '#' ? '#' : 'L');
    if ((st = read_value(p, &s, q, &v)) != EW_OK)
        return st;
    if ((st = expect_end(p, item, s, q)) != EW_OK)
        return st;
    if (*q != '#') {
        c->dow_last |= weekday_bit(v);
        return expect_end(p, item, q + 1, end);
    }
    s = q + 1;
    if (!read_number(&s, end, &k) || k < 1 || k > 5)
        return fail(p, "\"%.*s\": the number after # must be 1-5", shown(item, end), item);
    c->dow_nth[v - 1] |= (uint8_t) (1u << k);
    return expect_end(p, item, s, end);
}

/* ---------------------------------------------------------------------------------------------------------
 * Fields and the expression
 */

/* Parses one comma-separated item of field `kind` into c (plain values into *mask). */
static ew_status_t parse_item(parser_t *p, field_kind_t kind, const char *item, const char *end, ew__cron_t *c,
                              uint64_t *mask)
{
    bool handled = false;
    ew_status_t st = EW_OK;
    if (item == end)
        return fail(p, "empty item in a list (two commas, or a comma at an end)");
    if (*item == '?')
        return fail(p, "\"?\" is not supported by Cloudflare cron triggers; use \"*\"");
    if (kind == F_DOM)
        st = parse_dom_special(p, item, end, c, &handled);
    else if (kind == F_DOW)
        st = parse_dow_special(p, item, end, c, &handled);
    if (st != EW_OK || handled)
        return st;
    return parse_range_item(p, item, end, mask);
}

/* Parses field `kind`, the text [s, end), into c. */
static ew_status_t parse_field(parser_t *p, field_kind_t kind, const char *s, const char *end, ew__cron_t *c)
{
    uint64_t mask = 0;
    bool star = end - s == 1 && *s == '*'; /* unrestricted, for the day-field rule in cron.h */
    p->field = &FIELDS[kind];
    for (;;) {
        const char *comma = memchr(s, ',', (size_t) (end - s));
        const char *item_end = comma ? comma : end;
        ew_status_t st = parse_item(p, kind, s, item_end, c, &mask);
        if (st != EW_OK)
            return st;
        if (comma == NULL)
            break;
        s = comma + 1;
    }
    switch (kind) {
    case F_MINUTE: c->minutes = mask; break;
    case F_HOUR: c->hours = (uint32_t) mask; break;
    case F_DOM: c->dom_days = (uint32_t) mask; c->dom_any = star; break;
    case F_MONTH: c->months = (uint16_t) mask; break;
    case F_DOW: c->dow_days |= (uint8_t) (mask >> 1); c->dow_any = star; break;
    default: break;
    }
    return EW_OK;
}

/* Splits the expression into its fields; fails unless there are exactly five. */
static ew_status_t split_fields(parser_t *p, const char *expr, const char *start[5], const char *end[5])
{
    int n = 0;
    const char *s = expr;
    for (;;) {
        while (is_space(*s))
            s++;
        if (*s == '\0')
            break;
        const char *e = s;
        while (*e != '\0' && !is_space(*e))
            e++;
        if (n < 5) {
            start[n] = s;
            end[n] = e;
        }
        n++;
        s = e;
    }
    if (n != 5)
        return fail(p, "expected 5 fields (minute hour day-of-month month day-of-week), found %d", n);
    return EW_OK;
}

ew_status_t ew__cron_parse(ew__cron_t *out, const char *expression, ew_error_t *err)
{
    const char *start[5], *end[5];
    parser_t p = {expression, NULL, err};
    ew_status_t st;
    assert(out != NULL);
    memset(out, 0, sizeof *out);
    if (expression == NULL)
        return ew__error_set(err, EW_ERR_INVALID_ARG, "cron expression is NULL");
    if ((st = split_fields(&p, expression, start, end)) != EW_OK)
        return st;
    for (int k = 0; k < F_COUNT; k++) {
        if ((st = parse_field(&p, (field_kind_t) k, start[k], end[k], out)) != EW_OK) {
            memset(out, 0, sizeof *out);
            return st;
        }
    }
    out->never = !ew__cron_fires_ever(out);
    out->expression = strdup(expression);
    if (out->expression == NULL) {
        memset(out, 0, sizeof *out);
        return ew__error_set(err, EW_ERR_NOMEM, "cron \"%.*s\": out of memory", ECHO_MAX, expression);
    }
    ew__error_clear(err);
    return EW_OK;
}

void ew__cron_dispose(ew__cron_t *cron)
{
    if (cron == NULL)
        return;
    free(cron->expression);
    memset(cron, 0, sizeof *cron);
}
