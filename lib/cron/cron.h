/*
 * lib/cron/cron.h — Cloudflare cron-trigger expressions: parsing (cron.c) and next-fire computation (next.c),
 * for lib/config (validating `triggers.crons`) and server/ (firing a Worker's scheduled() handler).
 *
 * The syntax is the one Cloudflare documents for Workers Cron Triggers (developers.cloudflare.com/workers/
 * configuration/cron-triggers, "Supported cron expressions"): five fields, all times UTC.
 *
 *     field          values                                  also
 *     minute         0-59                                    * , - /
 *     hour           0-23                                    * , - /
 *     day-of-month   1-31                                    * , - /  L  L-n  LW  nW
 *     month          1-12 or JAN-DEC                         * , - /
 *     day-of-week    1-7 or SUN-SAT, 1 = SUN ... 7 = SAT      * , - /  L  nL  n#k
 *
 * Weekdays are numbered as Cloudflare (and Quartz) number them, NOT as Unix cron does: 1 is Sunday, 2 Monday,
 * ... 7 Saturday (Cloudflare's own examples: `0 17 * * 1` is Sunday 17:00, `10 7 * * 2-6` weekdays 07:10,
 * `0 18 * * 6L` the last Friday). 0 is rejected with a message saying so, rather than silently meaning
 * something else. Names (JAN, fri, ...) are three letters, any case, and may be range ends (MON-FRI).
 *
 * Items: `*`; `a`; `a-b` (a <= b: wrap-around ranges are rejected); steps `a-b/n`, `a/n` (a to the field's
 * maximum) and `*` followed by `/n` (the whole field), with 1 <= n <= the field's size; comma lists of any
 * of these. Quartz extensions:
 *   L      day-of-month: the last day of the month.  L-n: n days before it (L-1 on 31 Jan is the 30th).
 *   LW     day-of-month: the last weekday (Mon-Fri) of the month.
 *   nW     day-of-month: the weekday nearest day n, never leaving the month (1W on a Saturday 1st is Monday
 *          the 3rd; 31W on a Sunday 31st is Friday the 29th). No fire in a month that has no day n.
 *   nL     day-of-week: the last weekday n of the month (6L or friL: the last Friday).
 *   L      day-of-week, alone: 7, Saturday (Quartz's reading).
 *   n#k    day-of-week: the k-th (1-5) weekday n of the month (2#1 or MON#1: the first Monday); no fire in a
 *          month without a k-th one.
 * The special items may appear in lists with plain ones ("1,15,L") but take no range or step.
 *
 * Day-of-month and day-of-week combine as in Unix cron: a field written exactly `*` is unrestricted; if both
 * day fields are restricted, a day matches when EITHER matches ("0 0 13 * 6": every 13th and every Friday);
 * otherwise only the restricted one counts. (Anything else counts as restricted, even a step over `*` or `1-31`.)
 * `?` is not accepted: Cloudflare's table does not list it.
 *
 * Threads: a parsed ew__cron_t is immutable; any thread may call ew__cron_next()/ew__cron_matches() on it
 * concurrently. There is no global state.
 */
#ifndef EW_CRON_CRON_H
#define EW_CRON_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "edgeworker.h"

/* The compiled form of one expression: one bit per allowed value. Filled by ew__cron_parse(); it owns
 * `expression`, so copy it with a fresh ew__cron_parse(copy, c->expression), not by assignment. */
typedef struct ew__cron {
    char *expression;      /* copy of the text exactly as configured (what event.cron shows); owned, NUL-terminated */
    uint64_t minutes;      /* bit m: minute m (0-59) */
    uint32_t hours;        /* bit h: hour h (0-23) */
    uint32_t dom_days;     /* bit d: day d of the month (1-31) */
    uint32_t dom_last;     /* bit k: "L-k", k days before the last day of the month (bit 0: "L") */
    uint32_t dom_nearest;  /* bit d: "dW", the weekday nearest day d */
    uint16_t months;       /* bit m: month m (1 = January ... 12) */
    uint8_t dow_days;      /* bit w: weekday w, 0 = Sunday ... 6 = Saturday (internal numbering, see above) */
    uint8_t dow_last;      /* bit w: "wL", the last weekday w of the month */
    uint8_t dow_nth[7];    /* dow_nth[w] bit k: "w#k", the k-th (1-5) weekday w of the month */
    bool dom_last_weekday; /* "LW": the last Monday-to-Friday day of the month */
    bool dom_any;          /* the day-of-month field is exactly "*" */
    bool dow_any;          /* the day-of-week field is exactly "*" */
    bool never;            /* no minute ever matches (e.g. "0 0 30 2 *"); ew__cron_next() always says so */
} ew__cron_t;

/* Parses `expression` into *out. On success returns EW_OK and *out owns a copy of the text: release it with
 * ew__cron_dispose(). On failure returns EW_ERR_INVALID_ARG (or EW_ERR_NOMEM) with *out zeroed (disposing it
 * is harmless) and err->message naming the expression, the field and the offending text, e.g.
 *     cron "5-1 * * * *": minute field: range "5-1" is reversed (wrap-around is not supported: ...)
 * `err` may be NULL. An expression that parses but can never fire (30 February) is not an error: it parses
 * with out->never set, so a config loader can warn about it. */
ew_status_t ew__cron_parse(ew__cron_t *out, const char *expression, ew_error_t *err);

/* Frees what ew__cron_parse() allocated and zeroes *cron. NULL or a zeroed struct is fine. */
void ew__cron_dispose(ew__cron_t *cron);

/* The first minute boundary strictly after `after_ms` (UTC, ms since the Unix epoch) that the expression
 * matches: stores it in *next_ms (a multiple of 60000) and returns true. Returns false, leaving *next_ms
 * alone, when there is none: an expression that never fires, or a result past JavaScript's Date range
 * (+-8.64e15 ms, which is also the accepted range of after_ms). Cost: typically 0.1-0.3 us; it steps by
 * month, day, hour and minute, never minute by minute. The sparsest expressions (the 5th Monday of a
 * February: gaps of up to 40 years) take about 2 us (bench/cron_next.c). */
bool ew__cron_next(const ew__cron_t *cron, int64_t after_ms, int64_t *next_ms);

/* Whether the minute containing `ms` (UTC, ms since the epoch, within the Date range) matches. */
bool ew__cron_matches(const ew__cron_t *cron, int64_t ms);

/* Whether any minute at all matches: the calendar repeats every 400 years (146097 days, a whole number of
 * weeks), so next.c looks at the months of one such cycle. ew__cron_parse() stores the answer in `never`;
 * exposed for that (cron.c) and for tests. */
bool ew__cron_fires_ever(const ew__cron_t *cron);

#endif
