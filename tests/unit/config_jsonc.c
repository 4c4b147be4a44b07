/*
 * JSONC reader (lib/config/jsonc.c): JSON plus comments and trailing commas, as wrangler.json / wrangler.jsonc
 * accept, into the same tree as the TOML reader. Valid snippets are a table of input and the compactly
 * rendered tree; invalid ones a table of input, line:col and a piece of the message.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/internal.h"

typedef struct out {
    char text[2048];
    size_t len;
} out_t;

static void emit(out_t *o, const char *s, size_t n)
{
    cr_assert(o->len + n < sizeof o->text, "render overflow");
    memcpy(o->text + o->len, s, n);
    o->len += n;
    o->text[o->len] = '\0';
}

static void render(out_t *o, const ew__cfg_value_t *v)
{
    char num[64];
    switch (v->type) {
    case EW__CFG_TABLE:
        emit(o, "{", 1);
        for (size_t i = 0; i < ew__cfg_len(v); i++) {
            const ew__cfg_member_t *m = ew__cfg_member_at(v, i);
            if (i)
                emit(o, ",", 1);
            emit(o, m->key, m->key_len);
            emit(o, ":", 1);
            render(o, m->value);
        }
        emit(o, "}", 1);
        return;
    case EW__CFG_ARRAY:
        emit(o, "[", 1);
        for (size_t i = 0; i < ew__cfg_len(v); i++) {
            if (i)
                emit(o, ",", 1);
            render(o, ew__cfg_at(v, i));
        }
        emit(o, "]", 1);
        return;
    case EW__CFG_STRING:
        emit(o, "\"", 1);
        emit(o, v->u.string.ptr, v->u.string.len);
        emit(o, "\"", 1);
        return;
    case EW__CFG_INTEGER: snprintf(num, sizeof num, "%" PRId64, v->u.integer); break;
    case EW__CFG_FLOAT: snprintf(num, sizeof num, "%.17gf", v->u.number); break;
    case EW__CFG_BOOL: snprintf(num, sizeof num, "%s", v->u.boolean ? "true" : "false"); break;
    case EW__CFG_NULL: snprintf(num, sizeof num, "null"); break;
    default: snprintf(num, sizeof num, "?"); break;
    }
    emit(o, num, strlen(num));
}

static ew__cfg_doc_t *parse_ok(const char *text, size_t len)
{
    ew__cfg_doc_t *doc;
    ew_error_t err;
    ew_status_t st = ew__jsonc_parse(text, len, "wrangler.jsonc", &doc, &err);
    cr_assert_eq(st, EW_OK, "parse failed: %s\n--- input:\n%s", err.message, text);
    cr_assert_eq(err.code, EW_OK);
    return doc;
}

typedef struct valid_case {
    const char *json;
    const char *tree;
} valid_case_t;

static const valid_case_t valid_cases[] = {
    {"{}", "{}"},
    {"  \n{ }\n  ", "{}"},
    {"{\"a\": 1, \"b\": \"two\", \"c\": true, \"d\": false, \"e\": null}", "{a:1,b:\"two\",c:true,d:false,e:null}"},
    {"{\"n\": [0, -0, 12, -9223372036854775808, 9223372036854775807, 9223372036854775808, 1.5, -2e3, 1E-2]}",
     "{n:[0,0,12,-9223372036854775808,9223372036854775807,9.2233720368547758e+18f,1.5f,-2000f,0.01f]}"},
    {"{\"s\": \"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00\"}",
     "{s:\"q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xf0\x9f\x98\x80\"}"},
    {"{\"nested\": {\"a\": [1, [2, {\"b\": []}]], \"c\": {}}}", "{nested:{a:[1,[2,{b:[]}]],c:{}}}"},
    /* what wrangler.jsonc adds to JSON */
    {"// wrangler.jsonc\n{\n  // the name\n  \"name\": \"w\", /* inline */ \"main\": \"src/index.ts\",\n}\n// end",
     "{name:\"w\",main:\"src/index.ts\"}"},
    {"{\"a\": [1, 2, 3,], \"b\": {\"c\": 1,},}", "{a:[1,2,3],b:{c:1}}"},
    {"{\"a\": [ /* none */ ], \"b\" /* k */ : /* v */ 1 // trailing\n}", "{a:[],b:1}"},
    {"/* a ** tricky / comment **/{\"a\":\"// not a comment\",\"b\":\"/* nor this */\"}",
     "{a:\"// not a comment\",b:\"/* nor this */\"}"},
    {"\xEF\xBB\xBF{\"bom\": 1}", "{bom:1}"},
    {"{\"\": 1, \"\xc3\xa9\": \"\xe2\x82\xac\"}", "{:1,\xc3\xa9:\"\xe2\x82\xac\"}"},
    {"{\"a\":1}\r\n", "{a:1}"},
};

Test(config_jsonc, valid_snippets_build_the_expected_tree)
{
    for (size_t i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
        ew__cfg_doc_t *doc = parse_ok(valid_cases[i].json, strlen(valid_cases[i].json));
        out_t o = {0};
        render(&o, doc->root);
        cr_expect_str_eq(o.text, valid_cases[i].tree, "case %zu: %s", i, valid_cases[i].json);
        ew__cfg_doc_destroy(doc);
    }
}

typedef struct invalid_case {
    const char *json;
    int line, col;
    const char *message;
} invalid_case_t;

static const invalid_case_t invalid_cases[] = {
    {"", 1, 1, "expected '{' (a configuration file holds one JSON object), found end of file"},
    {"[1]", 1, 1, "expected '{'"},
    {"{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected ',' or '}' after object member, found '\"'"},
    {"{\n  \"name\": \"w\",\n  \"name\": \"x\"\n}", 3, 3, "duplicate key \"name\" (first defined at 2:3)"},
    {"{\"a\": [1 2]}", 1, 10, "expected ',' or ']' after array element, found '2'"},
    {"{\"a\": [1,,2]}", 1, 10, "expected a value"},
    {"{,}", 1, 2, "expected a string key or '}' in object, found ',' (an extra comma?)"},
    {"{\"a\": 1,,}", 1, 9, "(an extra comma?)"},
    {"{a: 1}", 1, 2, "found 'a' (keys must be quoted)"},
    {"{'a': 1}", 1, 2, "(JSON keys use double quotes)"},
    {"{\"a\": 'x'}", 1, 7, "(JSON strings use double quotes)"},
    {"{\"a\" 1}", 1, 6, "expected ':' after object key, found '1'"},
    {"{\"a\": }", 1, 7, "expected a value"},
    {"{\"a\": tru}", 1, 7, "expected a value"},
    {"{\"a\": True}", 1, 7, "expected a value"},
    {"{\"a\": nullx}", 1, 7, "expected a value"},
    {"{\"a\": 01}", 1, 7, "leading zeros are not allowed"},
    {"{\"a\": 1.}", 1, 7, "expected a digit after '.'"},
    {"{\"a\": .5}", 1, 7, "expected a value"},
    {"{\"a\": -}", 1, 7, "expected a digit after '-'"},
    {"{\"a\": 1e}", 1, 7, "expected a digit in the exponent"},
    {"{\"a\": +1}", 1, 7, "expected a value"},
    {"{\"a\": 1e999}", 1, 7, "too large"},
    {"{\"a\": \"x\n\"}", 1, 7, "unterminated string"},
    {"{\"a\": \"x\ty\"}", 1, 9, "control character U+0009 in a string must be escaped"},
    {"{\"a\": \"\\x\"}", 1, 8, "invalid escape sequence"},
    {"{\"a\": \"\\u12g4\"}", 1, 8, "\\u must be followed by 4 hexadecimal digits"},
    {"{\"a\": \"\\ud800\"}", 1, 8, "must be followed by a \\u escape of a low surrogate"},
    {"{\"a\": \"\\udc00\"}", 1, 8, "lone low surrogate"},
    {"{\"a\": \"\xff\"}", 1, 8, "invalid UTF-8 (byte 0xFF)"},
    {"{\"a\": 1 /* open", 1, 9, "unterminated comment"},
    {"{\"a\": 1", 1, 8, "expected ',' or '}' after object member, found end of file"},
    {"{\"a\": 1}}", 1, 9, "unexpected '}' after the end of the top-level object"},
    {"{\"a\": 1} {\"b\": 2}", 1, 10, "unexpected '{'"},
    {"{\"\xc3\xa9\xc3\xa9\": 1 x}", 1, 10, "found 'x'"},
};

Test(config_jsonc, invalid_snippets_report_position_and_reason)
{
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++) {
        const invalid_case_t *c = &invalid_cases[i];
        ew__cfg_doc_t *doc = (ew__cfg_doc_t *)1;
        ew_error_t err;
        ew_status_t st = ew__jsonc_parse(c->json, strlen(c->json), "wrangler.jsonc", &doc, &err);
        cr_assert_eq(st, EW_ERR_SYNTAX, "accepted: %s", c->json);
        cr_assert_null(doc);
        cr_expect(err.line == c->line && err.column == c->col, "%s\n  got %d:%d, want %d:%d: %s", c->json,
                  err.line, err.column, c->line, c->col, err.message);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "wrangler.jsonc:%d:%d: ", c->line, c->col);
        cr_expect(strncmp(err.message, prefix, strlen(prefix)) == 0, "'%s' lacks prefix '%s'", err.message, prefix);
        cr_expect(strstr(err.message, c->message) != NULL, "%s\n  '%s' lacks '%s'", c->json, err.message, c->message);
    }
}

Test(config_jsonc, deep_nesting_is_an_error_not_a_crash)
{
    size_t n = 100000;
    char *json = malloc(n + 8);
    memcpy(json, "{\"a\":", 5);
    memset(json + 5, '[', n);
    ew__cfg_doc_t *doc;
    ew_error_t err;
    cr_assert_eq(ew__jsonc_parse(json, n + 5, "w.json", &doc, &err), EW_ERR_SYNTAX);
    cr_assert(strstr(err.message, "nested more than 128 deep"), "%s", err.message);
    free(json);
}

static const char wrangler[] =
    "{\n"
    "  \"name\": \"my-worker\",\n"
    "  \"main\": \"src/index.ts\",\n"
    "  \"vars\": { \"API_HOST\": \"example.com\", \"RETRIES\": 3 },\n"
    "  \"kv_namespaces\": [\n"
    "    { \"binding\": \"CACHE\", \"id\": \"abc\" },\n"
    "    { \"binding\": \"SESSIONS\", \"id\": \"def\" },\n"
    "  ],\n"
    "  \"env\": { \"production\": { \"vars\": { \"a.b\": true } } }\n"
    "}\n";

Test(config_jsonc, tree_api_and_positions)
{
    ew__cfg_doc_t *doc = parse_ok(wrangler, sizeof wrangler - 1);
    const ew__cfg_value_t *r = doc->root;
    cr_assert_eq(r->line, 1);
    cr_assert_eq(r->col, 1);
    cr_assert_str_eq(ew__cfg_member_at(r, 0)->key, "name");
    cr_assert_str_eq(ew__cfg_member_at(r, 4)->key, "env");
    cr_assert_str_eq(ew__cfg_lookup(r, "kv_namespaces.1.binding")->u.string.ptr, "SESSIONS");
    cr_assert_eq(ew__cfg_lookup(r, "env.production.vars.\"a.b\"")->u.boolean, true);
    const ew__cfg_value_t *retries = ew__cfg_lookup(r, "vars.RETRIES");
    cr_assert_eq(retries->type, EW__CFG_INTEGER);
    cr_assert_eq(retries->line, 4);
    cr_assert_eq(retries->col, 51);
    const ew__cfg_member_t *m = ew__cfg_find(ew__cfg_get(r, "vars"), "RETRIES", 7);
    cr_assert_eq(m->line, 4);
    cr_assert_eq(m->col, 40);
    const ew__cfg_value_t *kv = ew__cfg_lookup(r, "kv_namespaces.1");
    cr_assert_eq(kv->line, 7);
    cr_assert_eq(kv->col, 5);
    ew_error_t err;
    ew__cfg_error(&err, EW_ERR_INVALID_ARG, doc, retries, "'vars.RETRIES' must be a string");
    cr_assert_str_eq(err.message, "wrangler.jsonc:4:51: 'vars.RETRIES' must be a string");
    ew__cfg_doc_destroy(doc);
}

Test(config_jsonc, read_file_handles_json_and_jsonc)
{
    char dir[] = "/tmp/ew-config-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const char *names[] = {"wrangler.json", "wrangler.jsonc"};
    for (int i = 0; i < 2; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        fputs("{\n  // c\n  \"name\": \"w\",\n}\n", f);
        fclose(f);
        ew__cfg_doc_t *doc;
        ew_error_t err;
        cr_assert_eq(ew__cfg_read_file(path, &doc, &err), EW_OK, "%s", err.message);
        cr_assert_str_eq(ew__cfg_get(doc->root, "name")->u.string.ptr, "w");
        cr_assert_eq(ew__cfg_get(doc->root, "name")->line, 3);
        ew__cfg_doc_destroy(doc);
        unlink(path);
    }
    rmdir(dir);
}
