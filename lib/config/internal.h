/*
 * lib/config/internal.h — the configuration tree shared by the TOML reader (toml.c), the JSONC reader
 * (jsonc.c) and the wrangler-config layer / ew-server that read it.
 *
 * Both readers turn a file into the same tree (value.c): tables whose keys keep file order, arrays, strings,
 * int64 integers, doubles, booleans, the four TOML datetime kinds, and JSON null. Every value and every table
 * key carries the 1-based line and column (in code points, a tab counts as one) where it starts, so a later
 * check can point at it:
 *
 *     const ew__cfg_value_t *v = ew__cfg_lookup(doc->root, "vars.API_KEY");
 *     if (v && v->type != EW__CFG_STRING)
 *         return ew__cfg_error(err, EW_ERR_INVALID_ARG, doc, v, "'vars.API_KEY' must be a string, not %s",
 *                              ew__cfg_type_name(v->type));   // "wrangler.toml:12:9: 'vars.API_KEY' must ..."
 *
 * Memory: a document owns all of its values, keys and strings (one arena, freed by ew__cfg_doc_destroy);
 * every pointer into the tree stays valid until then. The input text is copied where needed, so the caller
 * may free it as soon as the reader returns. A document is not tied to a thread, but is not locked either.
 *
 * Errors: the readers fill an ew_error_t (include/edgeworker.h) whose message reads "FILE:LINE:COL: what is
 * wrong" and whose file/line/column fields hold the same position; the caller owns the struct, nothing to free.
 */
#ifndef EW_CONFIG_INTERNAL_H
#define EW_CONFIG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeworker.h"

/* Deepest nesting of arrays and inline tables / objects a reader accepts (a bound on recursion). */
#define EW__CFG_MAX_DEPTH 128

typedef enum ew__cfg_type {
    EW__CFG_TABLE,          /* TOML table / JSON object: u.table */
    EW__CFG_ARRAY,          /* u.array (TOML 1.0 allows mixed element types) */
    EW__CFG_STRING,         /* u.string */
    EW__CFG_INTEGER,        /* u.integer */
    EW__CFG_FLOAT,          /* u.number (may be inf or nan in TOML) */
    EW__CFG_BOOL,           /* u.boolean */
    EW__CFG_DATETIME,       /* u.datetime: offset date-time, 1979-05-27T07:32:00-07:00 (TOML only) */
    EW__CFG_DATETIME_LOCAL, /* u.datetime: local date-time, 1979-05-27T07:32:00 (TOML only) */
    EW__CFG_DATE_LOCAL,     /* u.datetime: local date, 1979-05-27 (TOML only) */
    EW__CFG_TIME_LOCAL,     /* u.datetime: local time, 07:32:00.999 (TOML only) */
    EW__CFG_NULL,           /* JSON null (JSONC only) */
} ew__cfg_type_t;

/* A datetime as written. Fields a kind does not have are 0. */
typedef struct ew__cfg_datetime {
    int year, month, day;       /* calendar date (validated, leap years included) */
    int hour, minute, second;   /* 0-23, 0-59, 0-60 (60: a leap second, as RFC 3339 allows) */
    int nanosecond;             /* fractional seconds in ns; digits past the 9th are truncated */
    int offset_minutes;         /* EW__CFG_DATETIME: offset east of UTC in minutes ("Z" = 0) */
    const char *text;           /* the original text, NUL-terminated (e.g. "1979-05-27 07:32:00z") */
} ew__cfg_datetime_t;

typedef struct ew__cfg_value ew__cfg_value_t;

/* One key of a table, in file order. */
typedef struct ew__cfg_member {
    const char *key;            /* NUL-terminated; may contain NUL bytes (TOML "\u0000"), hence key_len */
    size_t key_len;             /* bytes, without the terminating NUL */
    uint32_t line, col;         /* where the key (its last part, for a dotted key) is written */
    ew__cfg_value_t *value;
} ew__cfg_member_t;

struct ew__cfg_value {
    ew__cfg_type_t type;
    uint32_t line, col;         /* where the value starts; for an implicitly created TOML table, the key or
                                   header that created it */
    unsigned flags;             /* private to the readers (how a TOML table was defined) */
    union {
        struct {
            const char *ptr;    /* UTF-8, NUL-terminated; may contain NUL bytes, hence len */
            size_t len;         /* bytes, without the terminating NUL */
        } string;
        int64_t integer;
        double number;
        bool boolean;
        ew__cfg_datetime_t datetime;
        struct {
            ew__cfg_value_t **items;
            size_t len, cap;
        } array;
        struct {
            ew__cfg_member_t *items;  /* in file order */
            size_t len, cap;
            uint32_t *index;          /* hash index (member index + 1, 0 = empty) once len > 8, else NULL */
            size_t index_cap;         /* power of two, > 2 * len */
        } table;
    } u;
};

typedef struct ew__cfg_arena_block ew__cfg_arena_block_t;

/* A parsed file. */
typedef struct ew__cfg_doc {
    ew__cfg_value_t *root;      /* always a table */
    const char *file;           /* the name used in messages (a copy of what the reader was given) */
    ew__cfg_arena_block_t *blocks; /* private: the arena everything above lives in */
} ew__cfg_doc_t;

/* ---------------------------------------------------------------------------------------------------------
 * Readers. Each parses `len` bytes of `text` (need not be NUL-terminated; copied where kept) and on success
 * stores a new document in *out (free with ew__cfg_doc_destroy). `file` names the input in messages ("" or
 * NULL: "<input>"). On failure *out is NULL, `err` (may be NULL) holds "FILE:LINE:COL: message", and the
 * return is EW_ERR_SYNTAX (malformed input, incl. invalid UTF-8) or EW_ERR_NOMEM.
 */

/* TOML 1.0.0 (https://toml.io/en/v1.0.0), strict: everything the spec forbids is an error. A UTF-8 BOM at the
 * start is skipped. CRLF inside multi-line strings becomes LF. */
ew_status_t ew__toml_parse(const char *text, size_t len, const char *file, ew__cfg_doc_t **out, ew_error_t *err);

/* JSON (RFC 8259) plus what wrangler accepts in wrangler.json/.jsonc: // and block comments, and a trailing
 * comma after the last array element or object member. The top-level value must be an object. A key that
 * appears twice in one object is an error (wrangler itself only warns; an error that points at both places
 * is kinder than silently taking one). Numbers without fraction or exponent that fit in int64 become
 * EW__CFG_INTEGER, other numbers EW__CFG_FLOAT; a number too large for a double is an error. */
ew_status_t ew__jsonc_parse(const char *text, size_t len, const char *file, ew__cfg_doc_t **out, ew_error_t *err);

/* Reads the file at `path` and parses it by its extension: ".toml" with the TOML reader, ".json" and ".jsonc"
 * with the JSONC reader (anything else: EW_ERR_INVALID_ARG). Messages name the file as `path` is written.
 * Returns EW_ERR_IO (with the errno text) when the file cannot be read, else as the readers. */
ew_status_t ew__cfg_read_file(const char *path, ew__cfg_doc_t **out, ew_error_t *err);

/* Frees the document and everything in it. NULL is allowed. */
void ew__cfg_doc_destroy(ew__cfg_doc_t *doc);

/* ---------------------------------------------------------------------------------------------------------
 * Reading the tree. All take NULL and wrong types gracefully (NULL / 0), so a chain of lookups needs one check.
 */

/* "table", "array", "string", "integer", "float", "boolean", "datetime", "local datetime", "local date",
 * "local time", "null" (static storage). */
const char *ew__cfg_type_name(ew__cfg_type_t type);

/* The value of `key` (NUL-terminated) in `table`, or NULL when absent or `table` is not a table. O(1). */
const ew__cfg_value_t *ew__cfg_get(const ew__cfg_value_t *table, const char *key);
const ew__cfg_member_t *ew__cfg_find(const ew__cfg_value_t *table, const char *key, size_t key_len);

/* Follows a dotted path from `v`: "env.production.vars.API_KEY". A segment may be double-quoted to hold dots
 * ("routes.\"a.b\""); a decimal segment indexes an array ("kv_namespaces.0.id"). An empty path returns `v`.
 * NULL when any step is missing. */
const ew__cfg_value_t *ew__cfg_lookup(const ew__cfg_value_t *v, const char *path);

/* Number of elements of an array or keys of a table; 0 for other values. */
size_t ew__cfg_len(const ew__cfg_value_t *v);
/* The i-th element of an array / member of a table (file order), NULL when out of range or wrong type. */
const ew__cfg_value_t *ew__cfg_at(const ew__cfg_value_t *array, size_t i);
const ew__cfg_member_t *ew__cfg_member_at(const ew__cfg_value_t *table, size_t i);

/* Fills `err` (may be NULL) with code `code`, file doc->file, the position of `at` (NULL: line 0) and the
 * message "FILE:LINE:COL: <fmt...>". Returns `code`, so a check can `return ew__cfg_error(...)`. */
ew_status_t ew__cfg_error(ew_error_t *err, ew_status_t code, const ew__cfg_doc_t *doc, const ew__cfg_value_t *at,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---------------------------------------------------------------------------------------------------------
 * For the readers (value.c): building the tree and positions. Not for consumers of the tree.
 */

/* Creates an empty document whose root table is at 1:1; NULL when out of memory. */
ew__cfg_doc_t *ew__cfg_doc_create(const char *file);
/* `n` bytes from the document's arena, aligned for any type; NULL when out of memory. */
void *ew__cfg_alloc(ew__cfg_doc_t *doc, size_t n);
/* A NUL-terminated copy of ptr[0, len) in the arena. */
char *ew__cfg_strdup(ew__cfg_doc_t *doc, const char *ptr, size_t len);
/* A new value of `type` at line:col, zeroed otherwise. */
ew__cfg_value_t *ew__cfg_new(ew__cfg_doc_t *doc, ew__cfg_type_t type, uint32_t line, uint32_t col);
/* Appends `key` (copied) → `value` to `table`; the caller has checked that the key is new. NULL on OOM. */
ew__cfg_member_t *ew__cfg_table_add(ew__cfg_doc_t *doc, ew__cfg_value_t *table, const char *key, size_t key_len,
                                    uint32_t line, uint32_t col, ew__cfg_value_t *value);
/* Appends `value` to `array`. false on OOM. */
bool ew__cfg_array_push(ew__cfg_doc_t *doc, ew__cfg_value_t *array, ew__cfg_value_t *value);

/* Turns byte offsets of one text into line:col. Cheap when offsets come in increasing order (each call scans
 * only from the previous offset); an earlier offset rescans from the start. */
typedef struct ew__cfg_locator {
    const char *text;
    size_t len;
    size_t off;                 /* the offset line/col describe */
    uint32_t line, col;
} ew__cfg_locator_t;

void ew__cfg_locator_init(ew__cfg_locator_t *loc, const char *text, size_t len);
void ew__cfg_locate(ew__cfg_locator_t *loc, size_t off, uint32_t *line, uint32_t *col);

/* Checks that text[0, len) is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). Returns
 * true, or false with the offset of the first bad byte in *bad. */
bool ew__cfg_utf8_valid(const char *text, size_t len, size_t *bad);
/* Appends the UTF-8 encoding of scalar value `cp` to out (room for 4 bytes); returns the bytes written. */
size_t ew__cfg_utf8_put(char *out, uint32_t cp);

/* Sets err (may be NULL): code, file, line, col and "FILE:LINE:COL: <message>" ("FILE: <message>" when line
 * is 0). Returns code. */
ew_status_t ew__cfg_verror(ew_error_t *err, ew_status_t code, const char *file, uint32_t line, uint32_t col,
                           const char *fmt, va_list ap);
ew_status_t ew__cfg_errorf(ew_error_t *err, ew_status_t code, const char *file, uint32_t line, uint32_t col,
                           const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
