/* Strings across the C boundary: emoji survive both directions, invalid bytes become U+FFFD. */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

static duk_context *ctx;

static void setup(void)
{
    ctx = duk_create_heap_default();
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

TestSuite(core_utf8, .init = setup, .fini = teardown);

Test(core_utf8, emoji_becomes_surrogate_pair)
{
    ew__push_utf8(ctx, "a\xF0\x9F\x98\x80z", 6);
    duk_get_prop_string(ctx, -1, "length");
    cr_assert_eq(duk_get_int(ctx, -1), 4);
    duk_pop(ctx);
    duk_push_string(ctx, "charCodeAt");
    duk_push_int(ctx, 1);
    duk_call_prop(ctx, -3, 1);
    cr_assert_eq(duk_get_int(ctx, -1), 0xD83D);
}

Test(core_utf8, emoji_round_trips)
{
    const char *in = "h\xC3\xA9llo \xF0\x9F\x8C\x8D \xE2\x82\xAC";
    ew__push_utf8(ctx, in, strlen(in));
    size_t n;
    const char *out = ew__to_utf8(ctx, -1, &n);
    cr_assert_eq(n, strlen(in));
    cr_assert(memcmp(in, out, n) == 0);
}

Test(core_utf8, js_built_pair_comes_out_as_utf8)
{
    duk_eval_string(ctx, "String.fromCharCode(0xD83D, 0xDE00)");
    size_t n;
    const char *out = ew__to_utf8(ctx, -1, &n);
    cr_assert_eq(n, 4);
    cr_assert(memcmp(out, "\xF0\x9F\x98\x80", 4) == 0);
}

Test(core_utf8, lone_surrogate_becomes_replacement)
{
    duk_eval_string(ctx, "'x' + String.fromCharCode(0xD800) + 'y'");
    size_t n;
    const char *out = ew__to_utf8(ctx, -1, &n);
    cr_assert_str_eq(out, "x\xEF\xBF\xBDy");
    cr_assert_eq(n, 5);
}

Test(core_utf8, invalid_input_becomes_replacement)
{
    ew__push_utf8(ctx, "a\xFF" "b\xC0\xAF", 5);
    size_t n;
    const char *out = ew__to_utf8(ctx, -1, &n);
    cr_assert_str_eq(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

Test(core_utf8, validator_rejects_surrogates_and_overlongs)
{
    cr_assert(ew__utf8_valid("plain", 5));
    cr_assert(ew__utf8_valid("\xF0\x9F\x98\x80", 4));
    cr_assert_not(ew__utf8_valid("\xED\xA0\x80", 3));
    cr_assert_not(ew__utf8_valid("\xC0\x80", 2));
    cr_assert_not(ew__utf8_valid("\xF4\x90\x80\x80", 4));
}

/* ew__buf_append_json_string (buf.c): what JSON.parse reads back is the bytes given, UTF-8 untouched. */
Test(core_utf8, json_string_of_bytes_parses_back_to_them)
{
    static const char raw[] = "a\"b\\c\x01\n\x1f \xF0\x9F\x98\x80 end";
    ew__buf_t b;
    ew__buf_init(&b);
    cr_assert(ew__buf_append_json_string(&b, raw, sizeof(raw) - 1));
    cr_assert_str_eq(b.data, "\"a\\\"b\\\\c\\u0001\\u000a\\u001f \xF0\x9F\x98\x80 end\"");
    ew__push_utf8(ctx, b.data, b.len);
    duk_json_decode(ctx, -1);
    size_t n;
    const char *back = ew__to_utf8(ctx, -1, &n);
    cr_assert_eq(n, sizeof(raw) - 1);
    cr_assert(memcmp(back, raw, n) == 0);
    duk_pop(ctx);
    ew__buf_dispose(&b);
    ew__buf_init(&b);
    cr_assert(ew__buf_append_json_string(&b, "", 0));
    cr_assert_str_eq(b.data, "\"\"");
    ew__buf_dispose(&b);
}

/* ew__utf8_valid skips ASCII 8 bytes at a time: a bad or good sequence at any offset is still seen. */
Test(core_utf8, valid_checks_every_offset_around_ascii_runs)
{
    char buf[40];
    for (size_t p = 0; p + 2 <= 25; p++) {
        memset(buf, 'a', 25);
        buf[p] = (char) 0xFF;
        cr_assert_not(ew__utf8_valid(buf, 25), "0xFF at %zu", p);
        memset(buf, 'a', 25);
        buf[p] = (char) 0xC3;
        buf[p + 1] = (char) 0xA9;
        cr_assert(ew__utf8_valid(buf, 25), "U+00E9 at %zu", p);
        cr_assert_not(ew__utf8_valid(buf, p + 1), "cut sequence at %zu", p);
        buf[p + 1] = 'a';
        cr_assert_not(ew__utf8_valid(buf, 25), "lone lead byte at %zu", p);
    }
    cr_assert(ew__utf8_valid("", 0));
}
