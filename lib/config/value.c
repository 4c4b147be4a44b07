/*
 * value.c — the configuration tree that both readers (toml.c, jsonc.c) build and that the wrangler-config
 * layer reads: documents, the arena their values live in, tables with ordered keys and a hash index, arrays,
 * lookups by dotted path, positions (byte offset → line:col) and "FILE:LINE:COL: message" errors.
 *
 * Memory: every allocation of a document comes from one arena (a list of blocks) freed at once by
 * ew__cfg_doc_destroy, so the readers need no per-value cleanup on their error paths. Growing arrays and
 * tables leave their old storage in the arena; growth doubles, so the waste is bounded by the live size.
 *
 * Tables keep members in an array (file order) and, once they have more than 8 keys, an open-addressing
 * index of member numbers, so a table with 100 000 keys is built and read in linear time.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---------------------------------------------------------------------------------------------------------
 * Arena
 */

struct ew__cfg_arena_block {
    ew__cfg_arena_block_t *next;
    size_t used, size;
    max_align_t data[];
};

#define ARENA_BLOCK (32 * 1024)

void *ew__cfg_alloc(ew__cfg_doc_t *doc, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    ew__cfg_arena_block_t *b = doc->blocks;
    if (!b || b->size - b->used < n) {
        /* A request larger than a quarter block gets its own block, kept behind the current one so the
         * current block's free space is not abandoned. */
        size_t size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
        ew__cfg_arena_block_t *nb = malloc(sizeof *nb + size);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->size = size;
        if (b && size != ARENA_BLOCK) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            doc->blocks = nb;
        }
        b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

char *ew__cfg_strdup(ew__cfg_doc_t *doc, const char *ptr, size_t len)
{
    char *s = ew__cfg_alloc(doc, len + 1);
    if (!s)
        return NULL;
    if (len)
        memcpy(s, ptr, len);
    s[len] = '\0';
    return s;
}

ew__cfg_doc_t *ew__cfg_doc_create(const char *file)
{
    ew__cfg_doc_t *doc = calloc(1, sizeof *doc);
    if (!doc)
        return NULL;
    if (!file || !*file)
        file = "<input>";
    doc->file = ew__cfg_strdup(doc, file, strlen(file));
    doc->root = ew__cfg_new(doc, EW__CFG_TABLE, 1, 1);
    if (!doc->file || !doc->root) {
        ew__cfg_doc_destroy(doc);
        return NULL;
    }
    return doc;
}

void ew__cfg_doc_destroy(ew__cfg_doc_t *doc)
{
    if (!doc)
        return;
    ew__cfg_arena_block_t *b = doc->blocks;
    while (b) {
        ew__cfg_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    free(doc);
}

/* ---------------------------------------------------------------------------------------------------------
 * Building
 */

ew__cfg_value_t *ew__cfg_new(ew__cfg_doc_t *doc, ew__cfg_type_t type, uint32_t line, uint32_t col)
{
    ew__cfg_value_t *v = ew__cfg_alloc(doc, sizeof *v);
    if (!v)
        return NULL;
    memset(v, 0, sizeof *v);
    v->type = type;
    v->line = line;
    v->col = col;
    return v;
}

/* FNV-1a: keys are short; anything better is wasted here. */
static uint32_t hash_key(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

static void index_insert(uint32_t *index, size_t cap, const ew__cfg_member_t *items, uint32_t k)
{
    size_t mask = cap - 1;
    size_t i = hash_key(items[k].key, items[k].key_len) & mask;
    while (index[i])
        i = (i + 1) & mask;
    index[i] = k + 1;
}

/* Rebuilds the index at twice the capacity the table needs, keeping the load factor under one half. */
static bool index_rebuild(ew__cfg_doc_t *doc, ew__cfg_value_t *t)
{
    size_t cap = 16;
    while (cap < 4 * t->u.table.len)
        cap *= 2;
    uint32_t *index = ew__cfg_alloc(doc, cap * sizeof *index);
    if (!index)
        return false;
    memset(index, 0, cap * sizeof *index);
    for (size_t k = 0; k < t->u.table.len; k++)
        index_insert(index, cap, t->u.table.items, (uint32_t)k);
    t->u.table.index = index;
    t->u.table.index_cap = cap;
    return true;
}

ew__cfg_member_t *ew__cfg_table_add(ew__cfg_doc_t *doc, ew__cfg_value_t *table, const char *key, size_t key_len,
                                    uint32_t line, uint32_t col, ew__cfg_value_t *value)
{
    assert(table->type == EW__CFG_TABLE);
    if (table->u.table.len == UINT32_MAX - 1)
        return NULL;
    if (table->u.table.len == table->u.table.cap) {
        size_t cap = table->u.table.cap ? 2 * table->u.table.cap : 4;
        ew__cfg_member_t *items = ew__cfg_alloc(doc, cap * sizeof *items);
        if (!items)
            return NULL;
        if (table->u.table.len)
            memcpy(items, table->u.table.items, table->u.table.len * sizeof *items);
        table->u.table.items = items;
        table->u.table.cap = cap;
    }
    ew__cfg_member_t *m = &table->u.table.items[table->u.table.len];
    m->key = ew__cfg_strdup(doc, key, key_len);
    if (!m->key)
        return NULL;
    m->key_len = key_len;
    m->line = line;
    m->col = col;
    m->value = value;
    size_t k = table->u.table.len++;
    if (table->u.table.index && 2 * table->u.table.len < table->u.table.index_cap)
        index_insert(table->u.table.index, table->u.table.index_cap, table->u.table.items, (uint32_t)k);
    else if (table->u.table.len > 8 && !index_rebuild(doc, table))
        return NULL;
    return m;
}

bool ew__cfg_array_push(ew__cfg_doc_t *doc, ew__cfg_value_t *array, ew__cfg_value_t *value)
{
    assert(array->type == EW__CFG_ARRAY);
    if (array->u.array.len == array->u.array.cap) {
        size_t cap = array->u.array.cap ? 2 * array->u.array.cap : 4;
        ew__cfg_value_t **items = ew__cfg_alloc(doc, cap * sizeof *items);
        if (!items)
            return false;
        if (array->u.array.len)
            memcpy(items, array->u.array.items, array->u.array.len * sizeof *items);
        array->u.array.items = items;
        array->u.array.cap = cap;
    }
    array->u.array.items[array->u.array.len++] = value;
    return true;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading
 */

const char *ew__cfg_type_name(ew__cfg_type_t type)
{
    switch (type) {
    case EW__CFG_TABLE: return "table";
    case EW__CFG_ARRAY: return "array";
    case EW__CFG_STRING: return "string";
    case EW__CFG_INTEGER: return "integer";
    case EW__CFG_FLOAT: return "float";
    case EW__CFG_BOOL: return "boolean";
    case EW__CFG_DATETIME: return "datetime";
    case EW__CFG_DATETIME_LOCAL: return "local datetime";
    case EW__CFG_DATE_LOCAL: return "local date";
    case EW__CFG_TIME_LOCAL: return "local time";
    case EW__CFG_NULL: return "null";
    }
    return "unknown";
}

const ew__cfg_member_t *ew__cfg_find(const ew__cfg_value_t *table, const char *key, size_t key_len)
{
    if (!table || table->type != EW__CFG_TABLE)
        return NULL;
    const ew__cfg_member_t *items = table->u.table.items;
    if (table->u.table.index) {
        size_t mask = table->u.table.index_cap - 1;
        for (size_t i = hash_key(key, key_len) & mask; table->u.table.index[i]; i = (i + 1) & mask) {
            const ew__cfg_member_t *m = &items[table->u.table.index[i] - 1];
            if (m->key_len == key_len && memcmp(m->key, key, key_len) == 0)
                return m;
        }
        return NULL;
    }
    for (size_t k = 0; k < table->u.table.len; k++)
        if (items[k].key_len == key_len && memcmp(items[k].key, key, key_len) == 0)
            return &items[k];
    return NULL;
}

const ew__cfg_value_t *ew__cfg_get(const ew__cfg_value_t *table, const char *key)
{
    const ew__cfg_member_t *m = ew__cfg_find(table, key, strlen(key));
    return m ? m->value : NULL;
}

/* One step of ew__cfg_lookup: the segment seg[0, len) applied to v (an array index when v is an array). */
static const ew__cfg_value_t *lookup_step(const ew__cfg_value_t *v, const char *seg, size_t len)
{
    if (v && v->type == EW__CFG_ARRAY) {
        if (len == 0 || len > 18)
            return NULL;
        size_t i = 0;
        for (size_t k = 0; k < len; k++) {
            if (seg[k] < '0' || seg[k] > '9')
                return NULL;
            i = i * 10 + (size_t)(seg[k] - '0');
        }
        return ew__cfg_at(v, i);
    }
    const ew__cfg_member_t *m = ew__cfg_find(v, seg, len);
    return m ? m->value : NULL;
}

const ew__cfg_value_t *ew__cfg_lookup(const ew__cfg_value_t *v, const char *path)
{
    const char *p = path;
    if (!v || !*p)
        return v;
    for (;;) {
        const char *seg = p, *end;
        if (*p == '"') {
            seg = p + 1;
            end = strchr(seg, '"');
            if (!end)
                return NULL;
            p = end + 1;
        } else {
            end = seg + strcspn(seg, ".");
            p = end;
        }
        v = lookup_step(v, seg, (size_t)(end - seg));
        if (!v)
            return NULL;
        if (*p == '\0')
            return v;
        if (*p != '.')
            return NULL;
        p++;
    }
}

size_t ew__cfg_len(const ew__cfg_value_t *v)
{
    if (!v)
        return 0;
    if (v->type == EW__CFG_ARRAY)
        return v->u.array.len;
    if (v->type == EW__CFG_TABLE)
        return v->u.table.len;
    return 0;
}

const ew__cfg_value_t *ew__cfg_at(const ew__cfg_value_t *array, size_t i)
{
    if (!array || array->type != EW__CFG_ARRAY || i >= array->u.array.len)
        return NULL;
    return array->u.array.items[i];
}

const ew__cfg_member_t *ew__cfg_member_at(const ew__cfg_value_t *table, size_t i)
{
    if (!table || table->type != EW__CFG_TABLE || i >= table->u.table.len)
        return NULL;
    return &table->u.table.items[i];
}

/* ---------------------------------------------------------------------------------------------------------
 * Errors
 */

ew_status_t ew__cfg_verror(ew_error_t *err, ew_status_t code, const char *file, uint32_t line, uint32_t col,
                           const char *fmt, va_list ap)
{
    if (!err)
        return code;
    if (!file || !*file)
        file = "<input>";
    err->code = code;
    snprintf(err->file, sizeof err->file, "%s", file);
    err->line = (int)line;
    err->column = (int)col;
    int n;
    if (line)
        n = snprintf(err->message, sizeof err->message, "%s:%u:%u: ", file, (unsigned)line, (unsigned)col);
    else
        n = snprintf(err->message, sizeof err->message, "%s: ", file);
    if (n < 0 || (size_t)n >= sizeof err->message)
        n = 0;
    vsnprintf(err->message + n, sizeof err->message - (size_t)n, fmt, ap);
    return code;
}

ew_status_t ew__cfg_errorf(ew_error_t *err, ew_status_t code, const char *file, uint32_t line, uint32_t col,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ew__cfg_verror(err, code, file, line, col, fmt, ap);
    va_end(ap);
    return code;
}

ew_status_t ew__cfg_error(ew_error_t *err, ew_status_t code, const ew__cfg_doc_t *doc, const ew__cfg_value_t *at,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ew__cfg_verror(err, code, doc ? doc->file : NULL, at ? at->line : 0, at ? at->col : 0, fmt, ap);
    va_end(ap);
    return code;
}

/* ---------------------------------------------------------------------------------------------------------
 * Positions and UTF-8
 */

void ew__cfg_locator_init(ew__cfg_locator_t *loc, const char *text, size_t len)
{
    loc->text = text;
    loc->len = len;
    loc->off = 0;
    loc->line = 1;
    loc->col = 1;
}

/* Columns count code points: a UTF-8 continuation byte (10xxxxxx) does not advance the column. */
void ew__cfg_locate(ew__cfg_locator_t *loc, size_t off, uint32_t *line, uint32_t *col)
{
    if (off > loc->len)
        off = loc->len;
    if (off < loc->off)
        ew__cfg_locator_init(loc, loc->text, loc->len);
    for (size_t i = loc->off; i < off; i++) {
        unsigned char c = (unsigned char)loc->text[i];
        if (c == '\n') {
            loc->line++;
            loc->col = 1;
        } else if ((c & 0xC0) != 0x80) {
            loc->col++;
        }
    }
    loc->off = off;
    *line = loc->line;
    *col = loc->col;
}

bool ew__cfg_utf8_valid(const char *text, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; min = 0x10000; }
        else goto fail;
        if (len - i <= n)
            goto fail;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto fail;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto fail;
        i += n + 1;
    }
    return true;
fail:
    *bad = i;
    return false;
}

size_t ew__cfg_utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---------------------------------------------------------------------------------------------------------
 * Reading a file
 */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Reads the whole file into a malloc'ed buffer; NULL with errno set on failure. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
        errno = EIO;
    }
    fclose(f);
    *len = n;
    return buf;
}

ew_status_t ew__cfg_read_file(const char *path, ew__cfg_doc_t **out, ew_error_t *err)
{
    *out = NULL;
    bool toml = ends_with(path, ".toml");
    if (!toml && !ends_with(path, ".json") && !ends_with(path, ".jsonc"))
        return ew__cfg_errorf(err, EW_ERR_INVALID_ARG, path, 0, 0,
                              "not a configuration file (expected .toml, .json or .jsonc)");
    size_t len;
    char *text = read_all(path, &len);
    if (!text)
        return ew__cfg_errorf(err, errno == ENOMEM ? EW_ERR_NOMEM : EW_ERR_IO, path, 0, 0,
                              "cannot read: %s", strerror(errno));
    ew_status_t st = toml ? ew__toml_parse(text, len, path, out, err) : ew__jsonc_parse(text, len, path, out, err);
    free(text);
    return st;
}
