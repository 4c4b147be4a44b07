/*
 * diag.c — syntax errors a person can act on.
 *
 * A diagnostic is a message plus file:line:col (column in UTF-16 code units, 1-based, as engines report it)
 * and a formatted text with a code frame, V8/Node style:
 *
 *     app.js:3:14: SyntaxError: Unexpected token '}'
 *         let x = {a: };
 *                     ^
 *
 * The caret line copies the tabs of the source line so it lines up in a terminal; a line longer than the frame
 * width is shown as a window around the column. Called by the parser (ew__perror) and later by the lowering
 * passes for their compile errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FRAME_WIDTH 160

void ew__diag_init(ew__diag_t *d)
{
    memset(d, 0, sizeof *d);
}

void ew__diag_dispose(ew__diag_t *d)
{
    free(d->text);
    d->text = NULL;
}

static bool is_line_end(const char *src, size_t len, size_t i)
{
    unsigned char c = (unsigned char) src[i];
    if (c == '\n' || c == '\r')
        return true;
    /* U+2028 and U+2029 are line terminators in JavaScript too. */
    return c == 0xE2 && i + 2 < len && (unsigned char) src[i + 1] == 0x80 &&
           ((unsigned char) src[i + 2] == 0xA8 || (unsigned char) src[i + 2] == 0xA9);
}

/* Formats the source line holding `offset` and a caret under it into out (size cap). */
static void format_frame(char *out, size_t cap, const char *src, size_t len, size_t offset)
{
    if (offset > len)
        offset = len;
    size_t ls = offset, le = offset;
    while (ls > 0 && !is_line_end(src, len, ls - 1) &&
           !(ls >= 3 && is_line_end(src, len, ls - 3) && (unsigned char) src[ls - 3] == 0xE2))
        ls--;
    while (le < len && !is_line_end(src, len, le))
        le++;
    /* Window of at most FRAME_WIDTH bytes around the offset, cut at UTF-8 character boundaries. */
    if (le - ls > FRAME_WIDTH) {
        size_t from = offset > ls + FRAME_WIDTH / 2 ? offset - FRAME_WIDTH / 2 : ls;
        while (from > ls && ((unsigned char) src[from] & 0xC0) == 0x80)
            from--;
        size_t to = from + FRAME_WIDTH < le ? from + FRAME_WIDTH : le;
        while (to < le && ((unsigned char) src[to] & 0xC0) == 0x80)
            to++;
        ls = from;
        le = to;
    }
    size_t o = 0;
    for (size_t i = ls; i < le && o + 2 < cap; i++)
        out[o++] = src[i];
    if (o + 1 < cap)
        out[o++] = '\n';
    for (size_t i = ls; i < offset && o + 2 < cap; i++) {
        unsigned char c = (unsigned char) src[i];
        if ((c & 0xC0) == 0x80)
            continue; /* one caret column per character, not per byte */
        out[o++] = c == '\t' ? '\t' : ' ';
    }
    if (o + 2 < cap)
        out[o++] = '^';
    if (o + 1 < cap)
        out[o++] = '\n';
    out[o] = 0;
}

void ew__diag_set(ew__diag_t *d, const char *file, const char *src, size_t src_len, uint32_t offset, uint32_t line,
                  uint32_t column, const char *message)
{
    free(d->text);
    d->text = NULL;
    snprintf(d->message, sizeof d->message, "%s", message);
    d->file = file;
    d->line = line;
    d->column = column;
    d->offset = offset;
    size_t cap = strlen(d->message) + (file ? strlen(file) : 0) + 2 * FRAME_WIDTH + 128;
    char *text = malloc(cap);
    if (!text)
        return;
    int n = snprintf(text, cap, "%s:%u:%u: SyntaxError: %s\n", file ? file : "<input>", line, column, d->message);
    if (n > 0 && (size_t) n < cap && src)
        format_frame(text + n, cap - (size_t) n, src, src_len, offset);
    d->text = text;
}
