/*
 * toml2json — a toml-test decoder (https://github.com/toml-lang/toml-test) over lib/config's TOML reader:
 * reads TOML from the file named on the command line (or stdin), writes the toml-test JSON form to stdout
 * ({"type": "integer", "value": "42"} for scalars; tables and arrays as plain JSON objects and arrays) and
 * exits 0; on a parse error prints "FILE:LINE:COL: message" to stderr and exits 1.
 *
 * tests/config/toml_test.py runs the whole toml-test suite through this program. With --jsonc the input is
 * read with the JSONC reader instead (handy for looking at wrangler.jsonc trees by hand).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static void put_string(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c == '\n')
            fputs("\\n", stdout);
        else if (c < 0x20 || c == 0x7F)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void put_tagged(const char *type, const char *value)
{
    printf("{\"type\": \"%s\", \"value\": ", type);
    put_string(value, strlen(value));
    putchar('}');
}

/* toml-test spells datetimes with 'T' and 'Z'; TOML also allows ' ', 't' and 'z'. */
static void put_datetime(const char *type, const ew__cfg_value_t *v)
{
    char text[128];
    snprintf(text, sizeof text, "%s", v->u.datetime.text);
    if (v->type != EW__CFG_TIME_LOCAL && strlen(text) > 10)
        text[10] = 'T';
    size_t n = strlen(text);
    if (n && text[n - 1] == 'z')
        text[n - 1] = 'Z';
    put_tagged(type, text);
}

static void put_value(const ew__cfg_value_t *v)
{
    char num[64];
    switch (v->type) {
    case EW__CFG_TABLE:
        putchar('{');
        for (size_t i = 0; i < ew__cfg_len(v); i++) {
            const ew__cfg_member_t *m = ew__cfg_member_at(v, i);
            if (i)
                putchar(',');
            put_string(m->key, m->key_len);
            putchar(':');
            put_value(m->value);
        }
        putchar('}');
        break;
    case EW__CFG_ARRAY:
        putchar('[');
        for (size_t i = 0; i < ew__cfg_len(v); i++) {
            if (i)
                putchar(',');
            put_value(ew__cfg_at(v, i));
        }
        putchar(']');
        break;
    case EW__CFG_STRING:
        printf("{\"type\": \"string\", \"value\": ");
        put_string(v->u.string.ptr, v->u.string.len);
        putchar('}');
        break;
    case EW__CFG_INTEGER:
        snprintf(num, sizeof num, "%" PRId64, v->u.integer);
        put_tagged("integer", num);
        break;
    case EW__CFG_FLOAT:
        if (isnan(v->u.number))
            snprintf(num, sizeof num, "nan");
        else if (isinf(v->u.number))
            snprintf(num, sizeof num, "%sinf", v->u.number < 0 ? "-" : "");
        else
            snprintf(num, sizeof num, "%.17g", v->u.number);
        put_tagged("float", num);
        break;
    case EW__CFG_BOOL:
        put_tagged("bool", v->u.boolean ? "true" : "false");
        break;
    case EW__CFG_DATETIME: put_datetime("datetime", v); break;
    case EW__CFG_DATETIME_LOCAL: put_datetime("datetime-local", v); break;
    case EW__CFG_DATE_LOCAL: put_datetime("date-local", v); break;
    case EW__CFG_TIME_LOCAL: put_datetime("time-local", v); break;
    case EW__CFG_NULL: put_tagged("null", "null"); break;
    }
}

static char *read_stream(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb)
            free(buf);
        buf = nb;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    bool jsonc = argc > 1 && strcmp(argv[1], "--jsonc") == 0;
    const char *path = argc > 1 + jsonc ? argv[1 + jsonc] : NULL;
    FILE *f = path ? fopen(path, "rb") : stdin;
    if (!f) {
        perror(path);
        return 2;
    }
    size_t len;
    char *text = read_stream(f, &len);
    if (path)
        fclose(f);
    if (!text) {
        fputs("out of memory\n", stderr);
        return 2;
    }
    ew__cfg_doc_t *doc;
    ew_error_t err;
    const char *name = path ? path : "<stdin>";
    ew_status_t st = jsonc ? ew__jsonc_parse(text, len, name, &doc, &err) : ew__toml_parse(text, len, name, &doc, &err);
    free(text);
    if (st != EW_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    put_value(doc->root);
    putchar('\n');
    ew__cfg_doc_destroy(doc);
    return 0;
}
