/*
 * Cron expressions (lib/cron): parsing and its error messages, next-fire times (month ends, leap years, the
 * Quartz L/W/# forms, Cloudflare's weekday numbering, the either-day-field rule, UTC only), and a
 * cross-check of ew__cron_next() against a slow reference written differently: it walks day by day with
 * libc's timegm/gmtime_r and decides each day with per-day predicates, where the library builds month masks.
 * Times in the tables are ISO-like UTC strings ("2024-02-29T23:59:59.999"), converted with timegm().
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cron/cron.h"

/* ---------------------------------------------------------------------------------------------------------
 * Helpers
 */

/* "YYYY-MM-DD[THH:MM[:SS[.mmm]]]" (UTC) to ms since the epoch. */
static int64_t ms_of(const char *iso)
{
    struct tm tm = {0};
    int sec = 0, msec = 0;
    int n = sscanf(iso, "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &sec, &msec);
    cr_assert(n == 3 || n >= 5, "bad test time \"%s\"", iso);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_sec = sec;
    return (int64_t) timegm(&tm) * 1000 + msec;
}

/* ms since the epoch to "YYYY-MM-DDTHH:MM" (plus ":SS.mmm" when not on a minute), in a rotating buffer. */
static const char *iso_of(int64_t ms)
{
    static char bufs[4][40];
    static int next;
    char *b = bufs[next++ % 4];
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    time_t t = (time_t) s;
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(b, 40, "%04d-%02d-%02dT%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min);
    if (ms % 60000 != 0)
        snprintf(b + n, (size_t) (40 - n), ":%02d.%03d", tm.tm_sec, (int) (ms - s * 1000));
    return b;
}

static ew__cron_t parse_ok(const char *expr)
{
    ew__cron_t c;
    ew_error_t err;
    ew_status_t st = ew__cron_parse(&c, expr, &err);
    cr_assert_eq(st, EW_OK, "\"%s\" should parse, got: %s", expr, err.message);
    return c;
}

/* ew__cron_next() as a string: the time, or "never". */
static const char *next_of(const ew__cron_t *c, int64_t after)
{
    int64_t t = 0;
    return ew__cron_next(c, after, &t) ? iso_of(t) : "never";
}

/* ---------------------------------------------------------------------------------------------------------
 * Parsing
 */

Test(cron_cron, parse_accepts_documented_forms)
{
    static const char *const OK[] = {
        "0 0 * * *", "*/5 * * * *", "0 */6 * * *", "* * * * *", "*/3 * * * *", "0 15 1 * *", "59 23 LW * *",
        "45 * * * *", "0 17 * * sun", "0 17 * * 1", "10 7 * * mon-fri", "10 7 * * 2-6", "0 18 * * 6L",
        "0 18 * * friL", "0 18 * * FRIl", "0 0 1,15,L * *", "0 0 L-3 * *", "0 0 15W * *", "0 0 lw * *",
        "0 0 * * MON#2,FRI#1", "0 0 * jan-mar,Dec *", "0-59/15 * * * *", "5/15 * * * *", "0 0 * * L",
        "0 0 * * 1,7", "0 0 L-0 * *", "0 0 1W,L * *", "0 0 * * SUN/2", "  0\t0  * * *  ", "0 0 30 2 *",
    };
    for (size_t i = 0; i < sizeof OK / sizeof OK[0]; i++) {
        ew__cron_t c = parse_ok(OK[i]);
        cr_expect_str_eq(c.expression, OK[i], "the text is kept exactly");
        ew__cron_dispose(&c);
    }
}

Test(cron_cron, parse_builds_bitmasks)
{
    ew__cron_t c = parse_ok("5/15 0-3,22 L 2-4 MON-FRI");
    cr_expect_eq(c.minutes, (1ull << 5) | (1ull << 20) | (1ull << 35) | (1ull << 50));
    cr_expect_eq(c.hours, 0xFu | (1u << 22));
    cr_expect_eq(c.dom_days, 0u);
    cr_expect_eq(c.dom_last, 1u);
    cr_expect_eq(c.months, (1u << 2) | (1u << 3) | (1u << 4));
    cr_expect_eq(c.dow_days, 0x3E, "Mon-Fri are bits 1-5 (0 = Sunday)");
    cr_expect(!c.dom_any && !c.dow_any && !c.never);
    ew__cron_dispose(&c);

    c = parse_ok("*/20 * 31W,LW * 1,7,3L,MON#5");
    cr_expect_eq(c.minutes, (1ull << 0) | (1ull << 20) | (1ull << 40));
    cr_expect_eq(c.hours, 0xFFFFFFu);
    cr_expect_eq(c.dom_nearest, 1u << 31);
    cr_expect(c.dom_last_weekday);
    cr_expect_eq(c.months, 0x1FFEu);
    cr_expect_eq(c.dow_days, 0x41, "1 = Sunday, 7 = Saturday");
    cr_expect_eq(c.dow_last, 1u << 2, "3L = last Tuesday");
    cr_expect_eq(c.dow_nth[1], 1u << 5, "MON#5");
    cr_expect(c.dow_any == false && c.dom_any == false);
    ew__cron_dispose(&c);

    c = parse_ok("0 0 * * *");
    cr_expect(c.dom_any && c.dow_any);
    ew__cron_dispose(&c);
    c = parse_ok("0 0 */1 * *");
    cr_expect(!c.dom_any && c.dow_any, "only a bare * is unrestricted");
    ew__cron_dispose(&c);
}

Test(cron_cron, parse_rejects_with_messages)
{
    static const struct {
        const char *expr;
        const char *message;
    } BAD[] = {
        {"", "cron \"\": expected 5 fields (minute hour day-of-month month day-of-week), found 0"},
        {"   ", "cron \"   \": expected 5 fields (minute hour day-of-month month day-of-week), found 0"},
        {"* * * *", "cron \"* * * *\": expected 5 fields (minute hour day-of-month month day-of-week), found 4"},
        {"0 * * * * *", "cron \"0 * * * * *\": expected 5 fields (minute hour day-of-month month day-of-week), "
                        "found 6"},
        {"@daily", "cron \"@daily\": expected 5 fields (minute hour day-of-month month day-of-week), found 1"},
        {"*/0 * * * *", "cron \"*/0 * * * *\": minute field: step must be at least 1"},
        {"1-5/0 * * * *", "cron \"1-5/0 * * * *\": minute field: step must be at least 1"},
        {"*/61 * * * *", "cron \"*/61 * * * *\": minute field: step 61 is larger than the field's range 0-59"},
        {"*/ * * * *", "cron \"*/ * * * *\": minute field: expected a number after \"/\" in \"*/\""},
        {"60 * * * *", "cron \"60 * * * *\": minute field: value 60 is out of range 0-59"},
        {"1000 * * * *", "cron \"1000 * * * *\": minute field: value 1000 is out of range 0-59"},
        {"* 24 * * *", "cron \"* 24 * * *\": hour field: value 24 is out of range 0-23"},
        {"* * 0 * *", "cron \"* * 0 * *\": day-of-month field: value 0 is out of range 1-31"},
        {"* * 32 * *", "cron \"* * 32 * *\": day-of-month field: value 32 is out of range 1-31"},
        {"* * * 13 *", "cron \"* * * 13 *\": month field: value 13 is out of range 1-12 (or JAN-DEC)"},
        {"* * * 0 *", "cron \"* * * 0 *\": month field: value 0 is out of range 1-12 (or JAN-DEC)"},
        {"* * * * 0", "cron \"* * * * 0\": day-of-week field: value 0 is out of range 1-7 (Cloudflare numbers "
                      "weekdays 1 = SUN to 7 = SAT; names SUN-SAT work too)"},
        {"* * * * 8", "cron \"* * * * 8\": day-of-week field: value 8 is out of range 1-7 (Cloudflare numbers "
                      "weekdays 1 = SUN to 7 = SAT; names SUN-SAT work too)"},
        {"1,,2 * * * *", "cron \"1,,2 * * * *\": minute field: empty item in a list (two commas, or a comma at "
                         "an end)"},
        {",1 * * * *", "cron \",1 * * * *\": minute field: empty item in a list (two commas, or a comma at an "
                       "end)"},
        {"* 1, * * *", "cron \"* 1, * * *\": hour field: empty item in a list (two commas, or a comma at an end)"},
        {"5-1 * * * *", "cron \"5-1 * * * *\": minute field: range \"5-1\" is reversed (wrap-around is not "
                        "supported: write 5-59,0-1)"},
        {"* * * * FRI-MON", "cron \"* * * * FRI-MON\": day-of-week field: range \"FRI-MON\" is reversed "
                            "(wrap-around is not supported: write 6-7,1-2)"},
        {"* * * FOO *", "cron \"* * * FOO *\": month field: unknown name \"FOO\" (expected JAN-DEC)"},
        {"* * * JANUARY *", "cron \"* * * JANUARY *\": month field: unknown name \"JANUARY\" (expected JAN-DEC)"},
        {"* * * * FRIDAY", "cron \"* * * * FRIDAY\": day-of-week field: unknown name \"FRIDAY\" (expected "
                           "SUN-SAT)"},
        {"* * * * MON-", "cron \"* * * * MON-\": day-of-week field: a value is missing at the end of an item"},
        {"5x * * * *", "cron \"5x * * * *\": minute field: unexpected \"x\" after \"5\""},
        {"** * * * *", "cron \"** * * * *\": minute field: unexpected \"*\" after \"*\""},
        {"L * * * *", "cron \"L * * * *\": minute field: expected a number, found \"L\""},
        {"* * W * *", "cron \"* * W * *\": day-of-month field: expected a number, found \"W\""},
        {"* * * L *", "cron \"* * * L *\": month field: unknown name \"L\" (expected JAN-DEC)"},
        {"* * * * MON#6", "cron \"* * * * MON#6\": day-of-week field: \"MON#6\": the number after # must be 1-5"},
        {"* * * * 2#0", "cron \"* * * * 2#0\": day-of-week field: \"2#0\": the number after # must be 1-5"},
        {"* * * * 2#", "cron \"* * * * 2#\": day-of-week field: \"2#\": the number after # must be 1-5"},
        {"* * * * 0L", "cron \"* * * * 0L\": day-of-week field: value 0 is out of range 1-7 (Cloudflare numbers "
                       "weekdays 1 = SUN to 7 = SAT; names SUN-SAT work too)"},
        {"* * * * 5LL", "cron \"* * * * 5LL\": day-of-week field: unexpected \"L\" after \"5L\""},
        {"* * * * L2", "cron \"* * * * L2\": day-of-week field: \"L2\": a weekday must come before L"},
        {"* * * * #2", "cron \"* * * * #2\": day-of-week field: \"#2\": a weekday must come before #"},
        {"* * * * 1-5L", "cron \"* * * * 1-5L\": day-of-week field: unexpected \"-5\" after \"1\""},
        {"* * L-31 * *", "cron \"* * L-31 * *\": day-of-month field: \"L-31\": the offset after L- must be a "
                         "number 0-30"},
        {"* * L- * *", "cron \"* * L- * *\": day-of-month field: \"L-\": the offset after L- must be a number "
                       "0-30"},
        {"* * LX * *", "cron \"* * LX * *\": day-of-month field: unexpected \"X\" after \"L\""},
        {"* * 32W * *", "cron \"* * 32W * *\": day-of-month field: \"32W\": the day before W must be 1-31"},
        {"* * 1-5W * *", "cron \"* * 1-5W * *\": day-of-month field: unexpected \"W\" after \"1-5\""},
        {"* * 15WW * *", "cron \"* * 15WW * *\": day-of-month field: unexpected \"W\" after \"15W\""},
        {"0 0 ? * MON", "cron \"0 0 ? * MON\": day-of-month field: \"?\" is not supported by Cloudflare cron "
                        "triggers; use \"*\""},
        {"* * * * MON/0", "cron \"* * * * MON/0\": day-of-week field: step must be at least 1"},
        {"1.5 * * * *", "cron \"1.5 * * * *\": minute field: unexpected \".5\" after \"1\""},
        {"-1 * * * *", "cron \"-1 * * * *\": minute field: expected a number, found \"-1\""},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        ew__cron_t c;
        ew_error_t err;
        memset(&c, 0xAB, sizeof c);
        ew_status_t st = ew__cron_parse(&c, BAD[i].expr, &err);
        cr_expect_eq(st, EW_ERR_INVALID_ARG, "\"%s\" should be rejected", BAD[i].expr);
        cr_expect_eq(err.code, EW_ERR_INVALID_ARG);
        cr_expect_str_eq(err.message, BAD[i].message);
        cr_expect_null(c.expression, "a failed parse leaves nothing to free");
        ew__cron_dispose(&c);
    }
}

Test(cron_cron, parse_handles_null_and_long_input)
{
    ew__cron_t c;
    ew_error_t err;
    cr_expect_eq(ew__cron_parse(&c, NULL, &err), EW_ERR_INVALID_ARG);
    cr_expect_str_eq(err.message, "cron expression is NULL");
    cr_expect_eq(ew__cron_parse(&c, "nope", NULL), EW_ERR_INVALID_ARG, "err may be NULL");

    char long_expr[1200];
    size_t n = 0;
    for (int i = 0; i < 500; i++)
        n += (size_t) snprintf(long_expr + n, sizeof long_expr - n, "0,");
    snprintf(long_expr + n, sizeof long_expr - n, "x * * * *");
    cr_expect_eq(ew__cron_parse(&c, long_expr, &err), EW_ERR_INVALID_ARG);
    cr_expect(strstr(err.message, "...\": minute field: expected a number, found \"x\"") != NULL, "%s",
              err.message);

    /* A list that long is still fine when valid; the text is kept whole. */
    long_expr[n - 1] = ' ';
    long_expr[n] = '\0';
    strcat(long_expr, "* * * *");
    c = parse_ok(long_expr);
    cr_expect_eq(strlen(c.expression), strlen(long_expr));
    cr_expect_eq(c.minutes, 1u);
    ew__cron_dispose(&c);
    ew__cron_dispose(NULL);
}

/* ---------------------------------------------------------------------------------------------------------
 * Next fire
 */

typedef struct next_case {
    const char *expr;
    const char *after;
    const char *expect; /* "YYYY-MM-DDTHH:MM" or "never" */
} next_case_t;

static void check_next_cases(const next_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ew__cron_t c = parse_ok(cases[i].expr);
        const char *got = next_of(&c, ms_of(cases[i].after));
        cr_expect_str_eq(got, cases[i].expect, "\"%s\" after %s", cases[i].expr, cases[i].after);
        ew__cron_dispose(&c);
    }
}

#define CHECK_NEXT(table) check_next_cases(table, sizeof table / sizeof table[0])

Test(cron_cron, next_seed_expressions)
{
    static const next_case_t CASES[] = {
        {"0 0 * * *", "2024-05-17T13:45:30", "2024-05-18T00:00"},
        {"0 0 * * *", "2024-05-17T00:00", "2024-05-18T00:00"}, /* strictly after */
        {"0 0 * * *", "2024-05-16T23:59:59.999", "2024-05-17T00:00"},
        {"0 0 * * *", "2024-12-31T12:00", "2025-01-01T00:00"},
        {"*/5 * * * *", "2024-05-17T13:45", "2024-05-17T13:50"},
        {"*/5 * * * *", "2024-05-17T13:46:10", "2024-05-17T13:50"},
        {"*/5 * * * *", "2024-05-17T13:44:59.999", "2024-05-17T13:45"},
        {"*/5 * * * *", "2024-12-31T23:59", "2025-01-01T00:00"},
        {"0 */6 * * *", "2024-05-17T13:45", "2024-05-17T18:00"},
        {"0 */6 * * *", "2024-05-17T18:00", "2024-05-18T00:00"},
        {"0 */6 * * *", "2024-05-17T00:00", "2024-05-17T06:00"},
        {"* * * * *", "2024-02-28T23:59:59.999", "2024-02-29T00:00"},
        {"* * * * *", "2024-02-29T23:59", "2024-03-01T00:00"},
    };
    CHECK_NEXT(CASES);
}

Test(cron_cron, next_month_ends_and_leap_years)
{
    static const next_case_t CASES[] = {
        {"0 0 31 * *", "2024-01-31T00:00", "2024-03-31T00:00"},
        {"0 0 31 * *", "2024-03-31T00:00", "2024-05-31T00:00"},
        {"0 0 31 * *", "2024-07-31T00:00", "2024-08-31T00:00"},
        {"0 0 30 * *", "2024-01-30T00:00", "2024-03-30T00:00"},
        {"30 12 1 * *", "2024-12-15", "2025-01-01T12:30"},
        {"0 0 L * *", "2024-01-31T00:00", "2024-02-29T00:00"},
        {"0 0 L * *", "2023-02-01", "2023-02-28T00:00"},
        {"0 0 L * *", "2024-04-01", "2024-04-30T00:00"},
        {"0 0 L-1 * *", "2023-02-01", "2023-02-27T00:00"},
        {"0 0 L-1 * *", "2024-02-01", "2024-02-28T00:00"},
        {"0 0 L-30 * *", "2024-02-01", "2024-03-01T00:00"},
        {"0 0 1,15,L * *", "2024-02-15T00:00", "2024-02-29T00:00"},
        {"0 0 29 2 *", "2024-03-01", "2028-02-29T00:00"},
        {"0 0 29 2 *", "2024-02-28T23:59", "2024-02-29T00:00"},
        {"0 0 29 2 *", "2096-03-01", "2104-02-29T00:00"}, /* 2100 is not a leap year */
        {"0 0 29 2 *", "1999-01-01", "2000-02-29T00:00"}, /* 2000 is */
        {"0 0 L 2 *", "2100-01-01", "2100-02-28T00:00"},
        {"0 0 L FEB *", "2000-01-01", "2000-02-29T00:00"},
        {"59 23 31 12 *", "2024-12-31T23:59", "2025-12-31T23:59"},
    };
    CHECK_NEXT(CASES);
}

Test(cron_cron, next_nearest_weekday)
{
    static const next_case_t CASES[] = {
        {"0 0 15W * *", "2024-05-01", "2024-05-15T00:00"},  /* a Wednesday: itself */
        {"0 0 15W * *", "2024-09-01", "2024-09-16T00:00"},  /* Sunday -> Monday */
        {"0 0 15W * *", "2024-06-01", "2024-06-14T00:00"},  /* Saturday -> Friday */
        {"0 0 1W * *", "2024-05-31", "2024-06-03T00:00"},   /* Saturday the 1st -> Monday the 3rd */
        {"0 0 1W * *", "2024-08-31", "2024-09-02T00:00"},   /* Sunday the 1st -> Monday the 2nd */
        {"0 0 31W * *", "2025-08-01", "2025-08-29T00:00"},  /* Sunday the 31st -> Friday the 29th */
        {"0 0 31W * *", "2024-09-01", "2024-10-31T00:00"},  /* September has no 31st */
        {"0 0 30W * *", "2026-05-01", "2026-05-29T00:00"},  /* Saturday -> Friday */
        {"59 23 LW * *", "2024-08-01", "2024-08-30T23:59"}, /* the 31st is a Saturday */
        {"59 23 LW * *", "2025-08-01", "2025-08-29T23:59"}, /* the 31st is a Sunday */
        {"59 23 LW * *", "2024-12-01", "2024-12-31T23:59"}, /* a Tuesday */
        {"59 23 LW * *", "2024-08-30T23:59", "2024-09-30T23:59"},
    };
    CHECK_NEXT(CASES);
}

/* Cloudflare numbers weekdays 1 = Sunday ... 7 = Saturday (its docs: "0 17 * * sun or 0 17 * * 1"). */
Test(cron_cron, next_weekdays_cloudflare_numbering)
{
    static const next_case_t CASES[] = {
        {"0 17 * * 1", "2024-05-17", "2024-05-19T17:00"}, /* from a Friday to Sunday */
        {"0 17 * * sun", "2024-05-17", "2024-05-19T17:00"},
        {"0 17 * * SUN", "2024-05-17", "2024-05-19T17:00"},
        {"0 17 * * Sun", "2024-05-19T16:59", "2024-05-19T17:00"},
        {"10 7 * * mon-fri", "2024-05-17T08:00", "2024-05-20T07:10"},
        {"10 7 * * 2-6", "2024-05-17T08:00", "2024-05-20T07:10"},
        {"10 7 * * 2-6", "2024-05-17T07:00", "2024-05-17T07:10"},
        {"0 0 * * 7", "2024-05-17", "2024-05-18T00:00"}, /* 7 is Saturday */
        {"0 0 * * SAT", "2024-05-17", "2024-05-18T00:00"},
        {"0 0 * * L", "2024-05-17", "2024-05-18T00:00"}, /* Quartz: L alone is 7 */
        {"0 0 * * 1,7", "2024-05-18", "2024-05-19T00:00"},
        {"0 0 * * */2", "2024-05-19", "2024-05-21T00:00"}, /* 1,3,5,7: Sun, Tue, Thu, Sat */
        {"0 0 * JAN MON", "2024-02-01", "2025-01-06T00:00"},
    };
    CHECK_NEXT(CASES);
}

Test(cron_cron, next_last_and_nth_weekday)
{
    static const next_case_t CASES[] = {
        {"0 18 * * 6L", "2024-05-01", "2024-05-31T18:00"}, /* last Friday */
        {"0 18 * * friL", "2024-06-01", "2024-06-28T18:00"},
        {"0 18 * * FRIL", "2024-05-31T18:00", "2024-06-28T18:00"},
        {"0 0 * * 1L", "2024-06-01", "2024-06-30T00:00"}, /* last Sunday, on the last day */
        {"0 0 * * 2#1", "2024-06-01", "2024-06-03T00:00"}, /* first Monday */
        {"0 0 * * MON#2", "2024-06-01", "2024-06-10T00:00"},
        {"0 0 * * 1#5", "2024-06-01", "2024-06-30T00:00"}, /* fifth Sunday */
        {"0 0 * * 1#5", "2024-07-01", "2024-09-29T00:00"}, /* July and August have four */
        {"0 0 * 2 2#5", "2024-01-01", "2044-02-29T00:00"}, /* a February with five Mondays */
        {"0 0 * 2 2#5", "2072-03-01", "2112-02-29T00:00"}, /* the longest gap there is: 40 years */
        {"0 0 * * MON#1,FRI#3", "2024-06-04", "2024-06-21T00:00"},
    };
    CHECK_NEXT(CASES);
}

/* When both day fields are restricted a day matching either fires; a bare * leaves only the other. */
Test(cron_cron, next_both_day_fields)
{
    static const next_case_t CASES[] = {
        {"0 0 13 * 6", "2024-09-01", "2024-09-06T00:00"}, /* a Friday before the 13th */
        {"0 0 13 * FRI", "2024-09-06", "2024-09-13T00:00"},
        {"0 0 13 * FRI", "2024-09-13", "2024-09-20T00:00"},
        {"0 0 1 * MON", "2024-08-27", "2024-09-01T00:00"}, /* the 1st, a Sunday */
        {"0 0 1 * MON", "2024-09-01", "2024-09-02T00:00"}, /* then Monday */
        {"0 0 */10 * MON", "2024-09-01", "2024-09-02T00:00"},
        {"0 0 L * 2#1", "2024-06-01", "2024-06-03T00:00"},
        {"0 0 L * 2#1", "2024-06-03", "2024-06-30T00:00"},
        {"0 0 13 * *", "2024-09-01", "2024-09-13T00:00"},
        {"0 0 * * FRI", "2024-09-01", "2024-09-06T00:00"},
        {"0 0 30 2 MON", "2024-02-01", "2024-02-05T00:00"}, /* impossible day, but Mondays exist */
    };
    CHECK_NEXT(CASES);
}

Test(cron_cron, next_never_for_impossible_days)
{
    static const char *const NEVER[] = {
        "0 0 30 2 *", "0 0 31 2 *", "0 0 31 4,6,9,11 *", "0 0 L-30 2 *", "0 0 31W 2 *", "0 0 30,31 FEB *",
    };
    for (size_t i = 0; i < sizeof NEVER / sizeof NEVER[0]; i++) {
        ew__cron_t c = parse_ok(NEVER[i]);
        cr_expect(c.never, "\"%s\" can never fire", NEVER[i]);
        cr_expect(!ew__cron_fires_ever(&c));
        cr_expect_str_eq(next_of(&c, ms_of("2024-01-01")), "never", "%s", NEVER[i]);
        ew__cron_dispose(&c);
    }
    ew__cron_t c = parse_ok("0 0 29 2 *");
    cr_expect(!c.never && ew__cron_fires_ever(&c));
    ew__cron_dispose(&c);
}

/* UTC has no daylight-saving time: across the US (10 March) and EU (31 March) changes nothing moves. */
Test(cron_cron, next_ignores_daylight_saving)
{
    static const char *const EXPECT[] = {
        "2024-03-09T02:30", "2024-03-10T02:30", "2024-03-11T02:30",
    };
    static const char *const EXPECT_EU[] = {
        "2024-03-30T01:30", "2024-03-31T01:30", "2024-04-01T01:30",
    };
    ew__cron_t c = parse_ok("30 2 * * *");
    int64_t t = ms_of("2024-03-09");
    for (size_t i = 0; i < 3; i++) {
        cr_assert(ew__cron_next(&c, t, &t));
        cr_expect_str_eq(iso_of(t), EXPECT[i]);
    }
    ew__cron_dispose(&c);
    c = parse_ok("30 1 * * *");
    t = ms_of("2024-03-30");
    for (size_t i = 0; i < 3; i++) {
        cr_assert(ew__cron_next(&c, t, &t));
        cr_expect_str_eq(iso_of(t), EXPECT_EU[i]);
    }
    ew__cron_dispose(&c);
}

Test(cron_cron, next_at_the_edges_of_time)
{
    static const next_case_t CASES[] = {
        {"0 0 * * *", "1969-12-31T12:00", "1970-01-01T00:00"},
        {"0 12 * * *", "1969-07-20", "1969-07-20T12:00"},
        {"*/5 * * * *", "1969-12-31T23:58:30", "1970-01-01T00:00"},
        {"0 0 29 2 *", "1895-01-01", "1896-02-29T00:00"},
        {"0 0 1 1 *", "9999-12-31T23:59", "10000-01-01T00:00"},
    };
    CHECK_NEXT(CASES);
    ew__cron_t c = parse_ok("0 0 * * *");
    int64_t t = 0;
    const int64_t max = INT64_C(8640000000000000); /* +275760-09-13T00:00Z, the last valid Date */
    cr_expect(ew__cron_next(&c, max - 1, &t));
    cr_expect_eq(t, max);
    cr_expect(!ew__cron_next(&c, max, &t), "after_ms outside the Date range");
    cr_expect(!ew__cron_next(&c, INT64_MAX, &t));
    cr_expect(!ew__cron_next(&c, INT64_MIN, &t));
    cr_expect(ew__cron_next(&c, -max, &t));
    ew__cron_dispose(&c);
    c = parse_ok("0 0 1 1 *");
    cr_expect(!ew__cron_next(&c, max - 1, &t), "the next one would be past the Date range");
    ew__cron_dispose(&c);
}

Test(cron_cron, matches_agrees_with_next)
{
    ew__cron_t c = parse_ok("*/15 9-17 * * mon-fri");
    cr_expect(ew__cron_matches(&c, ms_of("2024-05-17T09:45:59.999")));
    cr_expect(!ew__cron_matches(&c, ms_of("2024-05-17T09:46")));
    cr_expect(!ew__cron_matches(&c, ms_of("2024-05-18T09:45")), "Saturday");
    cr_expect(!ew__cron_matches(&c, ms_of("2024-05-17T18:00")));
    ew__cron_dispose(&c);
}

/* ---------------------------------------------------------------------------------------------------------
 * Cross-check against a slow reference
 */

/* Does day tm match the day fields? Written per day from struct tm, unlike next.c's month masks. */
static bool ref_day(const ew__cron_t *c, const struct tm *tm)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = tm->tm_year + 1900, n = DAYS[tm->tm_mon], d = tm->tm_mday, w = tm->tm_wday;
    if (tm->tm_mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        n = 29;
    bool dom = (c->dom_days >> d) & 1;
    for (int k = 0; k <= 30; k++)
        dom |= ((c->dom_last >> k) & 1) && d == n - k;
    bool weekday = w >= 1 && w <= 5;
    for (int t = 1; t <= 31; t++) { /* day t's nearest weekday: try t, then t-1/t+1, then t-2/t+2 */
        if (!((c->dom_nearest >> t) & 1) || t > n || !weekday)
            continue;
        int wt = ((w - (d - t)) % 7 + 7) % 7; /* weekday of day t */
        int target = wt == 6 ? (t > 1 ? t - 1 : t + 2) : wt == 0 ? (t < n ? t + 1 : t - 2) : t;
        dom |= d == target;
    }
    if (c->dom_last_weekday) /* the last weekday: no weekday after it in the month */
        dom |= weekday && (d == n || (w == 5 && d >= n - 2));
    bool dow = (c->dow_days >> w) & 1;
    dow |= ((c->dow_last >> w) & 1) && d + 7 > n;
    dow |= (c->dow_nth[w] >> ((d - 1) / 7 + 1)) & 1;
    if (c->dom_any && c->dow_any)
        return true;
    if (c->dom_any)
        return dow;
    if (c->dow_any)
        return dom;
    return dom || dow;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The first matching minute strictly after `after`, walking day by day for up to `years`; -1 if none. */
static int64_t ref_next(const ew__cron_t *c, int64_t after, int years)
{
    const int64_t DAY = 86400000;
    int64_t t = floor_div(after, 60000) * 60000 + 60000;
    for (int day = 0; day < years * 366; day++) {
        int64_t midnight = floor_div(t, DAY) * DAY;
        time_t s = (time_t) (midnight / 1000);
        struct tm tm;
        gmtime_r(&s, &tm);
        if (((c->months >> (tm.tm_mon + 1)) & 1) && ref_day(c, &tm)) {
            for (int m = (int) ((t - midnight) / 60000); m < 1440; m++)
                if (((c->hours >> (m / 60)) & 1) && ((c->minutes >> (m % 60)) & 1))
                    return midnight + m * INT64_C(60000);
        }
        t = midnight + DAY;
    }
    return -1;
}

/* xorshift64: a fixed sequence, so a failure reproduces. */
static uint64_t rnd(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random expressions from pieces chosen to hit month ends, leap days, W/L/# and both-field days. */
Test(cron_cron, next_matches_reference_on_random_expressions)
{
    static const char *const MIN[] = {"*", "0", "59", "*/7", "5-10,30", "45/5"};
    static const char *const HOUR[] = {"*", "0", "23", "*/6", "9-17", "3,15"};
    static const char *const DOM[] = {"*", "1", "L", "LW", "15W", "1W", "31W", "L-2", "29", "31", "1,15,L",
                                      "*/10", "30W", "28-31"};
    static const char *const MON[] = {"*", "2", "FEB", "1-3", "*/4", "12", "2,8"};
    static const char *const DOW[] = {"*", "1", "MON-FRI", "6L", "2#5", "MON#1", "L", "7", "sun,sat", "3#4,1L"};
    uint64_t x = 0x9E3779B97F4A7C15u;
#define PICK(a) a[rnd(&x) % (sizeof a / sizeof a[0])]
    int checked = 0;
    for (int i = 0; i < 1500; i++) {
        char expr[128];
        const char *mi = PICK(MIN), *h = PICK(HOUR), *dom = PICK(DOM), *mo = PICK(MON), *dow = PICK(DOW);
        snprintf(expr, sizeof expr, "%s %s %s %s %s", mi, h, dom, mo, dow);
        ew__cron_t c = parse_ok(expr);
        /* a start between 1970 and 2100, at any millisecond */
        int64_t after = (int64_t) (rnd(&x) % UINT64_C(4102444800000));
        int64_t got = 0;
        bool ok = ew__cron_next(&c, after, &got);
        int64_t want = ref_next(&c, after, 45);
        if (ok && got - after > INT64_C(44) * 365 * 86400000) {
            cr_expect_eq(want, -1, "\"%s\" after %s: reference found %s", expr, iso_of(after), iso_of(want));
        } else {
            cr_expect_eq(ok, want >= 0, "\"%s\" after %s: next %s, reference %s", expr, iso_of(after),
                         ok ? iso_of(got) : "never", want >= 0 ? iso_of(want) : "never");
            if (ok && want >= 0)
                cr_expect_eq(got, want, "\"%s\" after %s: next %s, reference %s", expr, iso_of(after),
                             iso_of(got), iso_of(want));
            if (ok)
                cr_expect(ew__cron_matches(&c, got), "\"%s\": %s", expr, iso_of(got));
            checked++;
        }
        ew__cron_dispose(&c);
    }
#undef PICK
    cr_log_info("cron: %d random expressions checked against the reference", checked);
}

/* 1e5 next-fire computations, chained as a scheduler would: a benchmark print, not a timed assertion.
 * Sparse expressions run past the end of the Date range (year 275760) and start again from 2024. */
Test(cron_cron, next_is_fast)
{
    static const char *const EXPRS[] = {"*/5 * * * *", "0 0 * * *", "59 23 LW * *", "0 12 29 2 *"};
    for (size_t i = 0; i < sizeof EXPRS / sizeof EXPRS[0]; i++) {
        ew__cron_t c = parse_ok(EXPRS[i]);
        const int64_t start = ms_of("2024-01-01");
        int64_t t = start;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int k = 0; k < 100000; k++)
            if (!ew__cron_next(&c, t, &t))
                t = start;
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ms = (double) (b.tv_sec - a.tv_sec) * 1e3 + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
        cr_log_info("cron: 1e5 x next(\"%s\") in %.1f ms (ends at %s)", EXPRS[i], ms, iso_of(t));
        ew__cron_dispose(&c);
    }
}
