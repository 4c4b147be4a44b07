/*
 * next.c — when a parsed cron expression (cron.c) fires next: ew__cron_next() for server/'s cron ticks, and
 * ew__cron_matches() / ew__cron_fires_ever() beside it.
 *
 * Everything is UTC, so there is no daylight-saving time to get wrong: a time is a count of minutes since
 * the epoch, split into a proleptic Gregorian date with Howard Hinnant's days_from_civil/civil_from_days
 * algorithms (exact for any int64 day count, no libc time functions, no locale, no tables).
 *
 * The search walks months, not minutes. For each candidate month whose bit is set it computes the month's
 * set of matching days as one 32-bit mask (month_days(): plain days, L, W, weekdays, nL, n#k, and the
 * either-day-field rule), takes the first day at or after the current one, then the first matching hour and
 * minute in that day. Every step is a mask-and-count-trailing-zeros, so a search costs a handful of
 * operations per month visited. Because the calendar repeats every 400 years, an expression that fires at
 * all fires within any 400-year window, which bounds the loop; parse time records whether it ever fires.
 */
#include <assert.h>

#include "cron/cron.h"

#define MS_PER_MINUTE INT64_C(60000)
#define MINUTES_PER_DAY 1440
#define DATE_MAX_MS INT64_C(8640000000000000) /* the ECMAScript Date range is +-8.64e15 ms */
#define CYCLE_MONTHS (400 * 12)               /* one Gregorian cycle */

/* Bits 1, 8, 15, 22 and 29: the days of a month that fall on the weekday of the 1st. */
#define WEEKLY_FROM_1ST UINT32_C(0x20408102)

/* ---------------------------------------------------------------------------------------------------------
 * Calendar (proleptic Gregorian, UTC)
 */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                  /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The date of day z since 1970-01-01 (Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int DAYS[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : DAYS[m];
}

/* 0 = Sunday ... 6 = Saturday, of day z since the epoch (a Thursday). */
static int weekday(int64_t z)
{
    return (int) (((z + 4) % 7 + 7) % 7);
}

/* ---------------------------------------------------------------------------------------------------------
 * The days of one month that match
 */

/* The weekday (Mon-Fri) nearest day d of a month of n days whose 1st is weekday w1, not leaving the month:
 * Saturday moves back to Friday unless that is in the previous month (then forward to Monday the 3rd),
 * Sunday forward to Monday unless that is in the next month (then back to Friday). Quartz's "dW". */
static int nearest_weekday(int d, int n, int w1)
{
    int w = (w1 + d - 1) % 7;
    if (w == 6)
        return d == 1 ? 3 : d - 1;
    if (w == 0)
        return d == n ? d - 2 : d + 1;
    return d;
}

/* Day-of-month matches (bit d = day d) in a month of n days starting on weekday w1. */
static uint32_t dom_days(const ew__cron_t *c, int n, int w1)
{
    uint32_t days = c->dom_days;
    for (uint32_t k = c->dom_last; k != 0; k &= k - 1) {
        int d = n - __builtin_ctz(k);
        if (d >= 1)
            days |= UINT32_C(1) << d;
    }
    for (uint32_t w = c->dom_nearest; w != 0; w &= w - 1) {
        int d = __builtin_ctz(w);
        if (d <= n) /* "31W" does not fire in a 30-day month */
            days |= UINT32_C(1) << nearest_weekday(d, n, w1);
    }
    if (c->dom_last_weekday)
        days |= UINT32_C(1) << nearest_weekday(n, n, w1);
    return days;
}

/* Day-of-week matches (bit d = day d) in a month of n days starting on weekday w1. */
static uint32_t dow_days(const ew__cron_t *c, int n, int w1)
{
    uint32_t days = 0;
    for (int w = 0; w < 7; w++) {
        int first = 1 + (w - w1 + 7) % 7; /* the first day of the month that is weekday w */
        if (c->dow_days & (1u << w))
            days |= WEEKLY_FROM_1ST << (first - 1);
        if (c->dow_last & (1u << w))
            days |= UINT32_C(1) << (first + 7 * ((n - first) / 7));
        for (unsigned k = c->dow_nth[w]; k != 0; k &= k - 1) {
            int d = first + 7 * (__builtin_ctz(k) - 1);
            if (d <= n)
                days |= UINT32_C(1) << d;
        }
    }
    return days;
}

/* The days of month m of year y that match both day fields (bit d = day d, 1-31), per the rule in cron.h:
 * a field written "*" is ignored; when both are restricted a day matching either one is enough. */
static uint32_t month_days(const ew__cron_t *c, int64_t y, int m)
{
    int n = days_in_month(y, m);
    uint32_t all = (UINT32_C(0xFFFFFFFF) >> (32 - n)) << 1; /* bits 1..n */
    if (c->dom_any && c->dow_any)
        return all;
    int w1 = weekday(days_from_civil(y, m, 1));
    if (c->dom_any)
        return dow_days(c, n, w1) & all;
    if (c->dow_any)
        return dom_days(c, n, w1) & all;
    return (dom_days(c, n, w1) | dow_days(c, n, w1)) & all;
}

/* ---------------------------------------------------------------------------------------------------------
 * Search
 */

/* The lowest set bit of mask at or above `from`, or -1. */
static int next_bit(uint64_t mask, int from)
{
    if (from > 63)
        return -1;
    mask &= ~UINT64_C(0) << from;
    return mask ? __builtin_ctzll(mask) : -1;
}

/* Moves *h:*m to the first matching hour:minute at or after it on the same day; false if there is none.
 * The hour and minute masks are never empty (every item selects at least one value). */
static bool first_time_of_day(const ew__cron_t *c, int *h, int *m)
{
    int hour = next_bit(c->hours, *h);
    if (hour == *h) {
        int minute = next_bit(c->minutes, *m);
        if (minute >= 0) {
            *m = minute;
            return true;
        }
        hour = next_bit(c->hours, *h + 1);
    }
    if (hour < 0)
        return false;
    *h = hour;
    *m = __builtin_ctzll(c->minutes);
    return true;
}

bool ew__cron_next(const ew__cron_t *c, int64_t after_ms, int64_t *next_ms)
{
    assert(c != NULL && next_ms != NULL);
    if (c->never || after_ms < -DATE_MAX_MS || after_ms >= DATE_MAX_MS)
        return false;
    int64_t minute = floor_div(after_ms, MS_PER_MINUTE) + 1; /* strictly after: the next boundary */
    int64_t day = floor_div(minute, MINUTES_PER_DAY);
    int in_day = (int) (minute - day * MINUTES_PER_DAY);
    int hh = in_day / 60, mm = in_day % 60, mon, d;
    int64_t y;
    civil_from_days(day, &y, &mon, &d);
    /* One Gregorian cycle plus a month always holds a fire (c->never is false); the bound is a backstop. */
    for (int visited = 0; visited <= CYCLE_MONTHS + 1; visited++) {
        uint32_t days = (c->months & (1u << mon)) ? month_days(c, y, mon) & (~UINT32_C(0) << d) : 0;
        for (; days != 0; days &= days - 1) {
            int first = __builtin_ctz(days);
            if (first != d) {
                d = first;
                hh = mm = 0;
            }
            if (first_time_of_day(c, &hh, &mm)) {
                int64_t ms = ((days_from_civil(y, mon, d) * MINUTES_PER_DAY) + hh * 60 + mm) * MS_PER_MINUTE;
                if (ms > DATE_MAX_MS)
                    return false;
                *next_ms = ms;
                return true;
            }
            hh = mm = 0; /* nothing left today: the next matching day, from midnight */
        }
        if (++mon > 12) {
            mon = 1;
            y++;
        }
        d = 1;
        hh = mm = 0;
    }
    return false;
}

bool ew__cron_matches(const ew__cron_t *c, int64_t ms)
{
    int64_t minute = floor_div(ms, MS_PER_MINUTE);
    int64_t day = floor_div(minute, MINUTES_PER_DAY);
    int in_day = (int) (minute - day * MINUTES_PER_DAY), mon, d;
    int64_t y;
    civil_from_days(day, &y, &mon, &d);
    return ((c->minutes >> (in_day % 60)) & 1) && ((c->hours >> (in_day / 60)) & 1) && ((c->months >> mon) & 1) &&
           ((month_days(c, y, mon) >> d) & 1);
}

bool ew__cron_fires_ever(const ew__cron_t *c)
{
    for (int i = 0; i < CYCLE_MONTHS; i++) {
        int m = i % 12 + 1;
        if ((c->months & (1u << m)) && month_days(c, 2000 + i / 12, m) != 0)
            return true;
    }
    return false;
}
