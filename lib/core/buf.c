/*
 * buf.c — a growable byte buffer for C-side assembly of strings and bodies (error texts, responses,
 * transcoding). Grows geometrically; keeps a NUL after the data so callers can hand it out as a C string.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void ew__buf_init(ew__buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void ew__buf_dispose(ew__buf_t *b)
{
    free(b->data);
    ew__buf_init(b);
}

bool ew__buf_reserve(ew__buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return false;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        return false;
    b->data = p;
    b->cap = cap;
    return true;
}

bool ew__buf_append(ew__buf_t *b, const void *data, size_t len)
{
    if (!ew__buf_reserve(b, len))
        return false;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return true;
}

bool ew__buf_append_json_string(ew__buf_t *b, const char *s, size_t n)
{
    bool ok = ew__buf_append(b, "\"", 1);
    size_t run = 0; /* bytes before i that need no escape, appended in one go */
    for (size_t i = 0; i < n && ok; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c != '"' && c != '\\' && c >= 0x20) {
            run++;
            continue;
        }
        char esc[8];
        int m = c < 0x20 ? snprintf(esc, sizeof(esc), "\\u%04x", c) : snprintf(esc, sizeof(esc), "\\%c", c);
        ok = ew__buf_append(b, s + i - run, run) && ew__buf_append(b, esc, (size_t) m);
        run = 0;
    }
    return ok && ew__buf_append(b, s + n - run, run) && ew__buf_append(b, "\"", 1);
}
