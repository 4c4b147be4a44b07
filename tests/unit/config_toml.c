/*
 * TOML reader (lib/config/toml.c) and the configuration tree (lib/config/value.c). Valid snippets are a table of
 * TOML and the tree rendered compactly (render() below: {key:value,...} in file order, strings in quotes, typed
 * datetimes); invalid snippets a table of TOML, the expected line:col and a piece of the message. The toml-test
 * suite (tests/config/toml_test.py) covers the grammar exhaustively; these pin our messages, positions, the tree
 * API and the cases wrangler.toml files hit.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Harness
 */

typedef struct out {
    char text[4096];
    size_t len;
} out_t;

static void emit(out_t *o, const char *s, size_t n)
{
    cr_assert(o->len + n < sizeof o->text, "render overflow");
    memcpy(o->text + o->len, s, n);
    o->len += n;
    o->text[o->len] = '\0';
}

static void emits(out_t *o, const char *s)
{
    emit(o, s, strlen(s));
}

static void render(out_t *o, const ew__cfg_value_t *v)
{
    char num[64];
    switch (v->type) {
    case EW__CFG_TABLE:
        emits(o, "{");
        for (size_t i = 0; i < ew__cfg_len(v); i++) {
            const ew__cfg_member_t *m = ew__cfg_member_at(v, i);
            if (i)
                emits(o, ",");
            emit(o, m->key, m->key_len);
            emits(o, ":");
            render(o, m->value);
        }
        emits(o, "}");
        return;
    case EW__CFG_ARRAY:
        emits(o, "[");
        for (size_t i = 0; i < ew__cfg_len(v); i++) {
            if (i)
                emits(o, ",");
            render(o, ew__cfg_at(v, i));
        }
        emits(o, "]");
        return;
    case EW__CFG_STRING:
        emits(o, "\"");
        emit(o, v->u.string.ptr, v->u.string.len);
        emits(o, "\"");
        return;
    case EW__CFG_INTEGER: snprintf(num, sizeof num, "%" PRId64, v->u.integer); break;
    case EW__CFG_FLOAT: snprintf(num, sizeof num, "%.17gf", v->u.number); break;
    case EW__CFG_BOOL: snprintf(num, sizeof num, "%s", v->u.boolean ? "true" : "false"); break;
    case EW__CFG_NULL: snprintf(num, sizeof num, "null"); break;
    default: snprintf(num, sizeof num, "%s(%s)", ew__cfg_type_name(v->type), v->u.datetime.text); break;
    }
    emits(o, num);
}

static ew__cfg_doc_t *parse_ok(const char *toml, size_t len)
{
    ew__cfg_doc_t *doc = (ew__cfg_doc_t *)1;
    ew_error_t err;
    ew_status_t st = ew__toml_parse(toml, len, "wrangler.toml", &doc, &err);
    cr_assert_eq(st, EW_OK, "parse failed: %s\n--- input:\n%s", err.message, toml);
    cr_assert_eq(err.code, EW_OK);
    cr_assert_not_null(doc);
    return doc;
}

/* Parses text that must fail; checks status, position and that the message contains `part`. */
static void parse_err(const char *toml, size_t len, int line, int col, const char *part)
{
    ew__cfg_doc_t *doc = (ew__cfg_doc_t *)1;
    ew_error_t err;
    ew_status_t st = ew__toml_parse(toml, len, "wrangler.toml", &doc, &err);
    cr_assert_eq(st, EW_ERR_SYNTAX, "accepted (status %d): %s", st, toml);
    cr_assert_null(doc);
    cr_assert_eq(err.code, EW_ERR_SYNTAX);
    cr_assert_str_eq(err.file, "wrangler.toml");
    cr_expect(err.line == line && err.column == col, "%s\n  got %d:%d, want %d:%d: %s", toml, err.line, err.column,
              line, col, err.message);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "wrangler.toml:%d:%d: ", line, col);
    cr_expect(strncmp(err.message, prefix, strlen(prefix)) == 0, "message '%s' lacks prefix '%s'", err.message, prefix);
    cr_expect(strstr(err.message, part) != NULL, "%s\n  message '%s' lacks '%s'", toml, err.message, part);
}

/* ---------------------------------------------------------------------------------------------------------
 * Valid documents
 */

typedef struct valid_case {
    const char *toml;
    const char *tree;
} valid_case_t;

static const valid_case_t valid_cases[] = {
    {"", "{}"},
    {"# only a comment\n\n   \t\n", "{}"},
    {"a = 1", "{a:1}"},
    {"a=1\nb = 'two' # comment\n", "{a:1,b:\"two\"}"},
    /* keys */
    {"\"a b\" = 1\n'c.d' = 2\ne.f = 3\n\"\" = 4\n1234 = 5\n-_- = 6", "{a b:1,c.d:2,e:{f:3},:4,1234:5,-_-:6}"},
    {"a . b . c = 1\na.\"x y\" = 2", "{a:{b:{c:1},x y:2}}"},
    {"3.14159 = 'pi'", "{3:{14159:\"pi\"}}"},
    {"[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true",
     "{fruit:{apple:{color:\"red\",taste:{sweet:true},texture:{smooth:true}}}}"},
    /* tables and arrays of tables */
    {"[a.b]\nx = 1\n[a]\ny = 2", "{a:{b:{x:1},y:2}}"},
    {"[ a . \"b c\" ]\nx = 1", "{a:{b c:{x:1}}}"},
    {"[[x]]\na = 1\n[[x]]\na = 2\n[x.s]\nb = 3\n[[x.t]]\n[[x.t]]\nc = 4",
     "{x:[{a:1},{a:2,s:{b:3},t:[{},{c:4}]}]}"},
    {"[[env.production.routes]]\npattern = 'a.com/*'\n[env.production.vars]\nX = '1'",
     "{env:{production:{routes:[{pattern:\"a.com/*\"}],vars:{X:\"1\"}}}}"},
    {"a = {}\nb = { x = 1, y.z = [1, {q = 2}] }", "{a:{},b:{x:1,y:{z:[1,{q:2}]}}}"},
    /* strings */
    {"s = \"tab\\tq\\\"bs\\\\u\\u00e9U\\U0001F600\"", "{s:\"tab\tq\"bs\\u\xc3\xa9U\xf0\x9f\x98\x80\"}"},
    {"s = 'C:\\path\\n'", "{s:\"C:\\path\\n\"}"},
    {"s = \"\"\"\nline1\nline2\"\"\"", "{s:\"line1\nline2\"}"},
    {"s = \"\"\"a \\\n     b \\  \n\n  c\"\"\"", "{s:\"a b c\"}"},
    {"s = \"\"\"q\"\"q\"\"\"\"\"", "{s:\"q\"\"q\"\"\"}"},
    {"s = '''\n raw \\n ''x'' '''", "{s:\" raw \\n ''x'' \"}"},
    {"s = \"\"\"a\r\nb\"\"\"\r\nt = 1\r\n", "{s:\"a\nb\",t:1}"},
    /* integers */
    {"a = +99\nb = -17\nc = 0\nd = -0\ne = 1_000_000\nf = 0xDEAD_beef\ng = 0o755\nh = 0b1101",
     "{a:99,b:-17,c:0,d:0,e:1000000,f:3735928559,g:493,h:13}"},
    {"max = 9223372036854775807\nmin = -9223372036854775808\nhex = 0x7FFFFFFFFFFFFFFF",
     "{max:9223372036854775807,min:-9223372036854775808,hex:9223372036854775807}"},
    /* floats */
    {"a = 1.5\nb = -3e2\nc = 5E+2_2\nd = 6.626e-34\ne = 1_0.0_1\nf = -0.0",
     "{a:1.5f,b:-300f,c:4.9999999999999996e+22f,d:6.6259999999999998e-34f,e:10.01f,f:-0f}"},
    {"a = inf\nb = +inf\nc = -inf", "{a:inff,b:inff,c:-inff}"},
    /* booleans */
    {"t = true\nf = false", "{t:true,f:false}"},
    /* datetimes */
    {"a = 1979-05-27T07:32:00Z\nb = 1979-05-27 00:32:00.999999-07:00\nc = 1979-05-27t07:32:00z",
     "{a:datetime(1979-05-27T07:32:00Z),b:datetime(1979-05-27 00:32:00.999999-07:00),"
     "c:datetime(1979-05-27t07:32:00z)}"},
    {"a = 1979-05-27T07:32:00\nb = 1979-05-27\nc = 07:32:00.5\nd = 2000-02-29\ne = 2024-02-29",
     "{a:local datetime(1979-05-27T07:32:00),b:local date(1979-05-27),c:local time(07:32:00.5),"
     "d:local date(2000-02-29),e:local date(2024-02-29)}"},
    {"d = 1979-05-27 # a date, then a comment", "{d:local date(1979-05-27)}"},
    /* arrays */
    {"a = [1, 'two', 3.0, [4], {five = 5}, 1979-05-27]",
     "{a:[1,\"two\",3f,[4],{five:5},local date(1979-05-27)]}"},
    {"a = [\n  1, # one\n  2,\n  # alone\n]\nb = [ ]\nc = [[],[[]]]", "{a:[1,2],b:[],c:[[],[[]]]}"},
    /* encodings */
    {"\xEF\xBB\xBF" "a = 1", "{a:1}"},
    {"a = 1\r\n[t]\r\nb = 2\r\n", "{a:1,t:{b:2}}"},
    {"\"\xc3\xa9\" = '\xe2\x82\xac' # \xf0\x9f\x98\x80", "{\xc3\xa9:\"\xe2\x82\xac\"}"},
};

Test(config_toml, valid_snippets_build_the_expected_tree)
{
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        ew__cfg_doc_t *doc = parse_ok(valid_cases[i].toml, strlen(valid_cases[i].toml));
        out_t o = {0};
        render(&o, doc->root);
        cr_expect_str_eq(o.text, valid_cases[i].tree, "case %zu: %s", i, valid_cases[i].toml);
        ew__cfg_doc_destroy(doc);
    }
}

Test(config_toml, nan_and_strings_with_nul)
{
    const char toml[] = "n = nan\nm = -nan\ns = \"a\\u0000b\"\n\"k\\u0000\" = 1";
    ew__cfg_doc_t *doc = parse_ok(toml, sizeof toml - 1);
    cr_assert(isnan(ew__cfg_get(doc->root, "n")->u.number));
    cr_assert(isnan(ew__cfg_get(doc->root, "m")->u.number));
    const ew__cfg_value_t *s = ew__cfg_get(doc->root, "s");
    cr_assert_eq(s->u.string.len, 3);
    cr_assert_eq(memcmp(s->u.string.ptr, "a\0b", 4), 0);
    cr_assert_not_null(ew__cfg_find(doc->root, "k\0", 2));
    ew__cfg_doc_destroy(doc);
}

Test(config_toml, text_need_not_be_nul_terminated)
{
    const char toml[] = "a = 12345";
    ew__cfg_doc_t *doc = parse_ok(toml, 6); /* "a = 12" */
    cr_assert_eq(ew__cfg_get(doc->root, "a")->u.integer, 12);
    ew__cfg_doc_destroy(doc);
}

/* ---------------------------------------------------------------------------------------------------------
 * Invalid documents: position and message
 */

typedef struct invalid_case {
    const char *toml;
    int line, col;
    const char *message;
} invalid_case_t;

static const invalid_case_t invalid_cases[] = {
    /* redefinitions */
    {"a = 1\na = 2", 2, 1, "duplicate key 'a' (first defined at 1:1)"},
    {"[t]\nx.y = 1\nx.y = 2", 3, 3, "duplicate key 'x.y' (first defined at 2:3)"},
    {"[a]\nx = 1\n[a]", 3, 1, "table [a] is already defined by a header (at 1:1)"},
    {"[a.b]\n[a]\n[a]", 3, 1, "table [a] is already defined"},
    {"a.b.c = 1\n[a.b]", 2, 1, "table [a.b] is already defined by dotted keys (at 1:3)"},
    {"[a.b.c]\nz = 9\n[a]\nb.c.t = 1", 4, 1, "cannot add keys to table 'b' with a dotted key"},
    {"a = 1\na.b = 2", 2, 1, "cannot add keys to 'a': it is already an integer (at 1:1)"},
    {"a = {x = 1}\n[a]", 2, 1, "table [a] is already defined as an inline table (at 1:5)"},
    {"a = {x = 1}\na.y = 2", 2, 1, "it was defined as an inline table at 1:5"},
    {"a = {x = 1}\n[a.b]", 2, 2, "cannot define a table inside 'a': it is an inline table"},
    {"a = {x = {}, x.y = 1}", 1, 14, "cannot add keys to table 'x' with a dotted key"},
    {"a = [1]\n[[a]]", 2, 1, "cannot define [[a]] as an array of tables: 'a' is already a static array"},
    {"a = [{}]\n[a.b]", 2, 2, "it is a static array"},
    {"[[a]]\n[a]", 2, 1, "table [a] is already defined as an array of tables"},
    {"[a]\n[[a]]", 2, 1, "'a' is already a table"},
    /* syntax */
    {"a = {b = 1,}", 1, 11, "trailing comma in an inline table"},
    {"a = {b = 1\n}", 1, 11, "an inline table must close with '}' on the line"},
    {"a = [1 2]", 1, 8, "expected ',' or ']' after an array element, found '2'"},
    {"a = [1,\n2", 1, 5, "unterminated array"},
    {"a =", 1, 4, "expected a value after '='"},
    {"a = hello", 1, 5, "expected a value, found 'h' (strings need quotes)"},
    {"a = True", 1, 5, "found 'T'"},
    {"a b = 1", 1, 3, "expected '=' after a key, found 'b'"},
    {"a = 1 b = 2", 1, 7, "expected a newline or a comment after a key/value pair, found 'b'"},
    {"[a] x = 1", 1, 5, "after a table header"},
    {"[a", 1, 3, "expected ']' to close the [table] header"},
    {"[[a]", 1, 4, "expected ']]' to close"},
    {"[]", 1, 2, "expected a key, found ']'"},
    {"= 1", 1, 1, "expected a key, found '='"},
    {"\"\"\"k\"\"\" = 1", 1, 1, "a multi-line string cannot be a key"},
    /* strings */
    {"a = \"abc\nb = 1", 1, 5, "unterminated string"},
    {"a = \"\"\"abc", 1, 5, "unterminated multi-line string (no closing \"\"\")"},
    {"a = '''abc''''''", 1, 11, "too many quotes"},
    {"a = \"\\x41\"", 1, 6, "invalid escape sequence '\\x'"},
    {"a = \"\\uD800\"", 1, 6, "\\uD800 is not a Unicode scalar value"},
    {"a = \"\\U00110000\"", 1, 6, "\\U00110000 is not a Unicode scalar value"},
    {"a = \"\\u12\"", 1, 6, "\\u must be followed by 4 hexadecimal digits"},
    {"a = \"x\x01y\"", 1, 7, "control character U+0001 in a string must be escaped"},
    {"a = 'x\x7fy'", 1, 7, "control character U+007F"},
    {"a = 1 # bell \x07", 1, 14, "control character U+0007 in a comment"},
    {"a = 1\rb = 2", 1, 6, "carriage return (U+000D) not followed by a line feed"},
    {"a = \"\xff\"", 1, 6, "invalid UTF-8 (byte 0xFF)"},
    {"a = \"\xc0\xaf\"", 1, 6, "invalid UTF-8"},
    {"a = \"\xed\xa0\x80\"", 1, 6, "invalid UTF-8"},
    {"a = \"\xc3\xa9\xc3\xa9\" x", 1, 10, "found 'x'"},
    /* numbers */
    {"a = 9223372036854775808", 1, 5, "does not fit in 64 bits"},
    {"a = -9223372036854775809", 1, 5, "does not fit in 64 bits"},
    {"a = 0x1_0000_0000_0000_0000", 1, 5, "does not fit in 64 bits"},
    {"a = 012", 1, 5, "leading zeros are not allowed"},
    {"a = 1__0", 1, 5, "invalid number '1__0'"},
    {"a = _1", 1, 5, "expected a value, found '_'"},
    {"a = 1_", 1, 5, "invalid number"},
    {"a = -0x1", 1, 5, "invalid number"},
    {"a = 0xG", 1, 5, "invalid hexadecimal integer"},
    {"a = 0b102", 1, 5, "invalid binary integer"},
    {"a = 1.", 1, 5, "invalid number '1.'"},
    {"a = .5", 1, 5, "expected a value"},
    {"a = 1e", 1, 5, "invalid number"},
    {"a = 03.14", 1, 5, "invalid number"},
    {"a = 1e1000", 1, 5, "out of range"},
    {"a = infinity", 1, 5, "expected a value"},
    /* datetimes */
    {"a = 2021-02-29", 1, 5, "'2021-02-29' is not a valid date"},
    {"a = 1900-02-29", 1, 5, "is not a valid date"},
    {"a = 2021-04-31", 1, 5, "is not a valid date"},
    {"a = 2021-13-01", 1, 5, "is not a valid date"},
    {"a = 2021-01-01T24:00:00", 1, 5, "invalid date/time"},
    {"a = 07:32", 1, 5, "invalid date/time '07:32'"},
    {"a = 1979-05-27T07:32:00+25:00", 1, 5, "invalid date/time"},
    {"a = 1979-05-27T07:32:00.", 1, 5, "invalid date/time"},
    {"a = 1979-5-27", 1, 5, "invalid date/time"},
};

Test(config_toml, invalid_snippets_report_position_and_reason)
{
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++)
        parse_err(invalid_cases[i].toml, strlen(invalid_cases[i].toml), invalid_cases[i].line, invalid_cases[i].col,
                  invalid_cases[i].message);
}

Test(config_toml, nul_byte_in_file_is_rejected)
{
    parse_err("a = 1\n\0", 7, 2, 1, "expected a key, found control character U+0000");
}

Test(config_toml, deep_nesting_is_an_error_not_a_crash)
{
    size_t n = 100000;
    char *toml = malloc(n + 8);
    memcpy(toml, "a = ", 4);
    memset(toml + 4, '[', n);
    parse_err(toml, n + 4, 1, 4 + EW__CFG_MAX_DEPTH + 1, "nested more than 128 deep");
    memset(toml + 4, '{', n); /* "a = {{": a key is expected inside */
    parse_err(toml, n + 4, 1, 6, "expected a key, found '{'");
    free(toml);
}

Test(config_toml, long_dotted_keys_are_not_recursive)
{
    size_t parts = 50000;
    char *toml = malloc(parts * 2 + 16);
    size_t k = 0;
    for (size_t i = 0; i < parts; i++) {
        toml[k++] = 'a';
        toml[k++] = '.';
    }
    memcpy(toml + k, "b = 1", 5);
    ew__cfg_doc_t *doc = parse_ok(toml, k + 5);
    const ew__cfg_value_t *v = doc->root;
    for (size_t i = 0; i < parts; i++)
        v = ew__cfg_get(v, "a");
    cr_assert_eq(ew__cfg_get(v, "b")->u.integer, 1);
    ew__cfg_doc_destroy(doc);
    free(toml);
}

Test(config_toml, null_error_pointer_is_allowed)
{
    ew__cfg_doc_t *doc;
    cr_assert_eq(ew__toml_parse("a = ", 4, NULL, &doc, NULL), EW_ERR_SYNTAX);
    cr_assert_null(doc);
}

Test(config_toml, unnamed_input_is_called_input)
{
    ew__cfg_doc_t *doc;
    ew_error_t err;
    ew__toml_parse("a = ", 4, NULL, &doc, &err);
    cr_assert_str_eq(err.message, "<input>:1:5: expected a value after '='");
}

/* ---------------------------------------------------------------------------------------------------------
 * The tree API
 */

static const char wrangler[] =
    "name = \"my-worker\"\n"
    "main = \"src/index.ts\"\n"
    "compatibility_date = 2024-01-01\n"
    "\n"
    "[vars]\n"
    "API_HOST = \"example.com\"\n"
    "RETRIES = 3\n"
    "\n"
    "[[kv_namespaces]]\n"
    "binding = \"CACHE\"\n"
    "id = \"abc\"\n"
    "\n"
    "[[kv_namespaces]]\n"
    "binding = \"SESSIONS\"\n"
    "id = \"def\"\n"
    "\n"
    "[env.production]\n"
    "routes = [\"a.com/*\", \"b.com/*\"]\n"
    "vars = { API_HOST = \"prod.example.com\", \"dotted.name\" = true }\n";

Test(config_toml, lookup_by_dotted_path)
{
    ew__cfg_doc_t *doc = parse_ok(wrangler, sizeof wrangler - 1);
    const ew__cfg_value_t *r = doc->root;
    cr_assert_str_eq(ew__cfg_lookup(r, "name")->u.string.ptr, "my-worker");
    cr_assert_str_eq(ew__cfg_lookup(r, "vars.API_HOST")->u.string.ptr, "example.com");
    cr_assert_eq(ew__cfg_lookup(r, "vars.RETRIES")->u.integer, 3);
    cr_assert_str_eq(ew__cfg_lookup(r, "kv_namespaces.1.binding")->u.string.ptr, "SESSIONS");
    cr_assert_str_eq(ew__cfg_lookup(r, "env.production.routes.0")->u.string.ptr, "a.com/*");
    cr_assert_str_eq(ew__cfg_lookup(r, "env.production.vars.API_HOST")->u.string.ptr, "prod.example.com");
    cr_assert_eq(ew__cfg_lookup(r, "env.production.vars.\"dotted.name\"")->u.boolean, true);
    cr_assert_eq(ew__cfg_lookup(r, ""), r);
    cr_assert_null(ew__cfg_lookup(r, "vars.MISSING"));
    cr_assert_null(ew__cfg_lookup(r, "kv_namespaces.2.binding"));
    cr_assert_null(ew__cfg_lookup(r, "kv_namespaces.x"));
    cr_assert_null(ew__cfg_lookup(r, "name.x"));
    cr_assert_null(ew__cfg_lookup(r, "vars."));
    cr_assert_null(ew__cfg_lookup(r, "env.production.vars.\"dotted.name"));
    cr_assert_null(ew__cfg_lookup(NULL, "name"));
    cr_assert_null(ew__cfg_get(ew__cfg_get(r, "name"), "x"));
    cr_assert_null(ew__cfg_at(r, 0));
    cr_assert_null(ew__cfg_member_at(ew__cfg_get(r, "kv_namespaces"), 0));
    cr_assert_eq(ew__cfg_len(ew__cfg_get(r, "name")), 0);
    ew__cfg_doc_destroy(doc);
}

Test(config_toml, values_have_types_and_positions)
{
    ew__cfg_doc_t *doc = parse_ok(wrangler, sizeof wrangler - 1);
    const ew__cfg_value_t *r = doc->root;
    const ew__cfg_value_t *date = ew__cfg_get(r, "compatibility_date");
    cr_assert_eq(date->type, EW__CFG_DATE_LOCAL);
    cr_assert_eq(date->u.datetime.year, 2024);
    cr_assert_str_eq(date->u.datetime.text, "2024-01-01");
    cr_assert_eq(date->line, 3);
    cr_assert_eq(date->col, 22);
    const ew__cfg_value_t *retries = ew__cfg_lookup(r, "vars.RETRIES");
    cr_assert_eq(retries->type, EW__CFG_INTEGER);
    cr_assert_eq(retries->line, 7);
    cr_assert_eq(retries->col, 11);
    const ew__cfg_member_t *m = ew__cfg_member_at(ew__cfg_get(r, "vars"), 1);
    cr_assert_str_eq(m->key, "RETRIES");
    cr_assert_eq(m->line, 7);
    cr_assert_eq(m->col, 1);
    const ew__cfg_value_t *kv = ew__cfg_lookup(r, "kv_namespaces.1");
    cr_assert_eq(kv->type, EW__CFG_TABLE);
    cr_assert_eq(kv->line, 13);
    cr_assert_eq(kv->col, 1);
    const ew__cfg_value_t *prod = ew__cfg_lookup(r, "env.production.vars.API_HOST");
    cr_assert_eq(prod->line, 19);
    cr_assert_eq(prod->col, 21);
    cr_assert_str_eq(ew__cfg_type_name(EW__CFG_DATE_LOCAL), "local date");
    cr_assert_str_eq(ew__cfg_type_name(EW__CFG_TABLE), "table");

    ew_error_t err;
    ew_status_t st = ew__cfg_error(&err, EW_ERR_INVALID_ARG, doc, retries, "'vars.%s' must be a string, not %s",
                                   "RETRIES", ew__cfg_type_name(retries->type));
    cr_assert_eq(st, EW_ERR_INVALID_ARG);
    cr_assert_str_eq(err.message, "wrangler.toml:7:11: 'vars.RETRIES' must be a string, not integer");
    cr_assert_eq(err.line, 7);
    cr_assert_eq(err.column, 11);
    cr_assert_str_eq(err.file, "wrangler.toml");
    ew__cfg_error(&err, EW_ERR_INVALID_ARG, doc, NULL, "no 'main'");
    cr_assert_str_eq(err.message, "wrangler.toml: no 'main'");
    ew__cfg_doc_destroy(doc);
}

Test(config_toml, datetime_fields)
{
    const char toml[] = "a = 1979-05-27T00:32:00.999999999999-07:30\nb = 23:59:60.5\nc = 1979-05-27 07:32:00";
    ew__cfg_doc_t *doc = parse_ok(toml, sizeof toml - 1);
    const ew__cfg_datetime_t *a = &ew__cfg_get(doc->root, "a")->u.datetime;
    cr_assert_eq(a->year * 10000 + a->month * 100 + a->day, 19790527);
    cr_assert_eq(a->hour * 10000 + a->minute * 100 + a->second, 3200);
    cr_assert_eq(a->nanosecond, 999999999);
    cr_assert_eq(a->offset_minutes, -450);
    const ew__cfg_datetime_t *b = &ew__cfg_get(doc->root, "b")->u.datetime;
    cr_assert_eq(b->second, 60);
    cr_assert_eq(b->nanosecond, 500000000);
    cr_assert_eq(ew__cfg_get(doc->root, "c")->type, EW__CFG_DATETIME_LOCAL);
    cr_assert_str_eq(ew__cfg_get(doc->root, "c")->u.datetime.text, "1979-05-27 07:32:00");
    ew__cfg_doc_destroy(doc);
}

Test(config_toml, large_tables_keep_file_order_and_find_every_key)
{
    size_t n = 5000;
    char *toml = malloc(n * 32);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)sprintf(toml + k, "k%zu = %zu\n", (i * 7919) % n, i);
    ew__cfg_doc_t *doc = parse_ok(toml, k);
    cr_assert_eq(ew__cfg_len(doc->root), n);
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%zu", (i * 7919) % n);
        cr_assert_str_eq(ew__cfg_member_at(doc->root, i)->key, key);
        const ew__cfg_value_t *v = ew__cfg_get(doc->root, key);
        cr_assert_not_null(v, "%s", key);
        cr_assert_eq(v->u.integer, (int64_t)i);
    }
    cr_assert_null(ew__cfg_get(doc->root, "k5000"));
    free(toml);
    ew__cfg_doc_destroy(doc);
}

/* A 1 MB wrangler-like file: many tables, keys, strings and arrays. The bound is loose so the test also holds
 * under valgrind and sanitizers; the optimized build parses it in a few milliseconds. */
Test(config_toml, one_megabyte_parses_quickly)
{
    size_t cap = 1100 * 1024, k = 0;
    char *toml = malloc(cap);
    for (size_t i = 0; k < 1024 * 1024; i++)
        k += (size_t)snprintf(toml + k, cap - k, "[[routes]]\npattern = \"site%zu.example.com/*\"\nzone = %zu\n"
                              "tags = [\"a\", \"b\", 1.5, 0x%zx]\n[routes.meta]\nx.y = 'z'\n", i, i, i);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ew__cfg_doc_t *doc = parse_ok(toml, k);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_assert_gt(ew__cfg_len(ew__cfg_get(doc->root, "routes")), 5000);
    cr_log_info("1 MB TOML parsed in %.1f ms", ms);
    cr_expect_lt(ms, 5000.0);
    free(toml);
    ew__cfg_doc_destroy(doc);
}

Test(config_toml, read_file_picks_the_reader_by_extension)
{
    char dir[] = "/tmp/ew-config-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/wrangler.toml", dir);
    FILE *f = fopen(path, "w");
    fputs("name = \"w\"\n[vars]\nA = 1\n", f);
    fclose(f);
    ew__cfg_doc_t *doc;
    ew_error_t err;
    cr_assert_eq(ew__cfg_read_file(path, &doc, &err), EW_OK, "%s", err.message);
    cr_assert_eq(ew__cfg_lookup(doc->root, "vars.A")->u.integer, 1);
    cr_assert_str_eq(doc->file, path);
    ew__cfg_doc_destroy(doc);

    f = fopen(path, "w");
    fputs("name = \"w\"\nname = 2\n", f);
    fclose(f);
    cr_assert_eq(ew__cfg_read_file(path, &doc, &err), EW_ERR_SYNTAX);
    cr_assert_str_eq(err.file, path);
    cr_assert(strstr(err.message, "/wrangler.toml:2:1: duplicate key 'name'"), "%s", err.message);
    unlink(path);

    cr_assert_eq(ew__cfg_read_file(path, &doc, &err), EW_ERR_IO);
    cr_assert(strstr(err.message, "cannot read: No such file or directory"), "%s", err.message);
    cr_assert_eq(ew__cfg_read_file("/tmp/wrangler.yaml", &doc, &err), EW_ERR_INVALID_ARG);
    cr_assert_null(doc);
    rmdir(dir);
}
