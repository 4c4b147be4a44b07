/*
 * ast_dump.c — the syntax tree as ESTree-shaped JSON, for tests and for debugging passes.
 *
 * Driven by the field table of ast.c: `{"type":"Identifier","name":"x"}` in field order, optionally with
 * "start","end","line","col" after the type. Literal gets "value" (null, boolean, number, string, or
 * {"pattern","flags"} for a regex) and, when the source is given, "raw". Strings are escaped for JSON; a lone surrogate kept as WTF-8 in a
 * decoded value is written as its \uXXXX escape so the output stays valid UTF-8. Output goes to one malloc'd buffer
 * that grows by doubling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct out {
    const char *src;  /* for literals' "raw", or NULL */
    char *s;
    size_t len, cap;
    bool oom;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *ns = realloc(o->s, cap);
        if (!ns) {
            o->oom = true;
            return;
        }
        o->s = ns;
        o->cap = cap;
    }
    memcpy(o->s + o->len, s, n);
    o->len += n;
    o->s[o->len] = 0;
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_json_string(out_t *o, const char *s, size_t n)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        char buf[8];
        if (c == '"' || c == '\\') {
            buf[0] = '\\';
            buf[1] = (char) c;
            put(o, buf, 2);
        } else if (c == '\n' || c == '\r' || c == '\t') {
            buf[0] = '\\';
            buf[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            put(o, buf, 2);
        } else if (c < 0x20) {
            snprintf(buf, sizeof buf, "\\u%04x", c);
            put(o, buf, 6);
        } else if (c == 0xED && i + 2 < n && ((unsigned char) s[i + 1] & 0xE0) == 0xA0) {
            unsigned cp = 0xD000 | (((unsigned) s[i + 1] & 0x3F) << 6) | ((unsigned) s[i + 2] & 0x3F);
            snprintf(buf, sizeof buf, "\\u%04x", cp);
            put(o, buf, 6);
            i += 2;
        } else {
            put(o, (const char *) &s[i], 1);
        }
    }
    put(o, "\"", 1);
}

static void put_number(out_t *o, double v)
{
    char buf[40];
    if (isinf(v)) {
        puts_(o, "Infinity");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, sizeof buf, "%.0f", v);
    } else {
        snprintf(buf, sizeof buf, "%.15g", v);
        if (strtod(buf, NULL) != v)
            snprintf(buf, sizeof buf, "%.17g", v);
    }
    puts_(o, buf);
}

static void dump(out_t *o, const ew__node_t *n, bool with_pos);

static void dump_literal_value(out_t *o, const ew__node_t *n)
{
    puts_(o, ",\"value\":");
    switch (n->as.literal.kind) {
    case EW__LIT_NULL: puts_(o, "null"); break;
    case EW__LIT_BOOL: puts_(o, n->as.literal.boolean ? "true" : "false"); break;
    case EW__LIT_NUMBER: put_number(o, n->as.literal.number); break;
    case EW__LIT_STRING: put_json_string(o, n->as.literal.string.s, n->as.literal.string.len); break;
    case EW__LIT_REGEX:
        puts_(o, "{\"pattern\":");
        put_json_string(o, n->as.literal.string.s, n->as.literal.string.len);
        puts_(o, ",\"flags\":");
        put_json_string(o, n->as.literal.flags.s, n->as.literal.flags.len);
        puts_(o, "}");
        break;
    }
    if (o->src) {
        puts_(o, ",\"raw\":");
        put_json_string(o, o->src + n->start, n->end - n->start);
    }
}

static void dump_field(out_t *o, const ew__node_t *n, const ew__field_t *f, bool with_pos)
{
    const char *base = (const char *) n + f->offset;
    static const char *const vkinds[] = {"var", "let", "const"};
    static const char *const pkinds[] = {"init", "get", "set", "method", "constructor"};
    puts_(o, ",\"");
    puts_(o, f->name);
    puts_(o, "\":");
    switch ((ew__field_kind_t) f->kind) {
    case EW__F_NODE: dump(o, *(ew__node_t *const *) (const void *) base, with_pos); break;
    case EW__F_LIST: {
        const ew__nodes_t *l = (const ew__nodes_t *) (const void *) base;
        puts_(o, "[");
        for (uint32_t i = 0; i < l->len; i++) {
            if (i)
                puts_(o, ",");
            dump(o, l->items[i], with_pos);
        }
        puts_(o, "]");
        break;
    }
    case EW__F_BOOL: puts_(o, *(const bool *) base ? "true" : "false"); break;
    case EW__F_OP: put_json_string(o, ew__op_text(*(const uint8_t *) base), strlen(ew__op_text(*(const uint8_t *) base))); break;
    case EW__F_VKIND: put_json_string(o, vkinds[*(const uint8_t *) base], strlen(vkinds[*(const uint8_t *) base])); break;
    case EW__F_PKIND: put_json_string(o, pkinds[*(const uint8_t *) base], strlen(pkinds[*(const uint8_t *) base])); break;
    case EW__F_ATOM: {
        const ew__atom_t *a = *(ew__atom_t *const *) (const void *) base;
        put_json_string(o, a->s, a->len);
        break;
    }
    case EW__F_STR: {
        const ew__str_t *s = (const ew__str_t *) (const void *) base;
        if (s->s)
            put_json_string(o, s->s, s->len);
        else
            puts_(o, "null");
        break;
    }
    }
}

static void dump(out_t *o, const ew__node_t *n, bool with_pos)
{
    if (!n) {
        puts_(o, "null");
        return;
    }
    puts_(o, "{\"type\":\"");
    puts_(o, ew__node_type_name((ew__node_type_t) n->type));
    puts_(o, "\"");
    if (with_pos) {
        char buf[96];
        snprintf(buf, sizeof buf, ",\"start\":%u,\"end\":%u,\"line\":%u,\"col\":%u", n->start, n->end, n->line, n->col);
        puts_(o, buf);
    }
    if (n->type == EW__N_Program)
        puts_(o, n->as.program.module ? ",\"sourceType\":\"module\"" : ",\"sourceType\":\"script\"");
    if (n->type == EW__N_Literal)
        dump_literal_value(o, n);
    for (const ew__field_t *f = ew__node_fields((ew__node_type_t) n->type); f->name; f++) {
        if (n->type == EW__N_ExpressionStatement && f->kind == EW__F_STR && !n->as.expr_stmt.directive.s)
            continue; /* "directive" only on prologue statements, as in ESTree */
        dump_field(o, n, f, with_pos);
    }
    puts_(o, "}");
}

bool ew__ast_dump(const ew__node_t *n, const char *src, bool with_pos, char **out, size_t *out_len)
{
    out_t o = {src, NULL, 0, 0, false};
    dump(&o, n, with_pos);
    if (o.oom) {
        free(o.s);
        return false;
    }
    *out = o.s;
    if (out_len)
        *out_len = o.len;
    return true;
}
