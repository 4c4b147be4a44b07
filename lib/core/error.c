/*
 * error.c — status names and ew_error_t filling. Errors are values in libedgeworker (STYLE.md rule 5):
 * every function returns an ew_status_t, and ew_error_t carries the sentence and position a person needs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

EW_API const char *ew_version(void)
{
    return "0.3.0";
}

EW_API const char *ew_status_name(ew_status_t status)
{
    switch (status) {
    case EW_OK: return "EW_OK";
    case EW_ERR_INVALID_ARG: return "EW_ERR_INVALID_ARG";
    case EW_ERR_NOMEM: return "EW_ERR_NOMEM";
    case EW_ERR_IO: return "EW_ERR_IO";
    case EW_ERR_SYNTAX: return "EW_ERR_SYNTAX";
    case EW_ERR_EXCEPTION: return "EW_ERR_EXCEPTION";
    case EW_ERR_CPU_LIMIT: return "EW_ERR_CPU_LIMIT";
    case EW_ERR_MEMORY_LIMIT: return "EW_ERR_MEMORY_LIMIT";
    case EW_ERR_NO_HANDLER: return "EW_ERR_NO_HANDLER";
    case EW_ERR_BAD_RESPONSE: return "EW_ERR_BAD_RESPONSE";
    case EW_ERR_CANCELLED: return "EW_ERR_CANCELLED";
    case EW_ERR_STATE: return "EW_ERR_STATE";
    case EW_ERR_INTERNAL: return "EW_ERR_INTERNAL";
    }
    return "EW_ERR_UNKNOWN";
}

void ew__error_clear(ew_error_t *err)
{
    if (err == NULL)
        return;
    err->code = EW_OK;
    err->message[0] = '\0';
    err->file[0] = '\0';
    err->line = 0;
    err->column = 0;
}

ew_status_t ew__error_set(ew_error_t *err, ew_status_t code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    ew__error_clear(err);
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

/* Reads one property of the error object as a string, inside a safe call (getters may throw). */
static duk_ret_t get_prop_string(duk_context *ctx, void *udata)
{
    const char *key = udata;
    duk_get_prop_string(ctx, -1, key);
    if (duk_is_undefined(ctx, -1))
        return 1;
    (void) ew__to_utf8(ctx, -1, NULL);
    return 1;
}

/* Copies the string (or "") of prop `key` of the value on top into dst. */
static void copy_prop(duk_context *ctx, const char *key, char *dst, size_t dstlen)
{
    dst[0] = '\0';
    duk_dup_top(ctx);
    if (duk_safe_call(ctx, get_prop_string, (void *) key, 1, 1) == DUK_EXEC_SUCCESS) {
        if (duk_is_string(ctx, -1))
            snprintf(dst, dstlen, "%s", duk_get_string(ctx, -1));
        else if (duk_is_buffer_data(ctx, -1)) {
            duk_size_t n;
            const char *p = duk_get_buffer_data(ctx, -1, &n);
            snprintf(dst, dstlen, "%.*s", (int) n, p);
        }
    }
    duk_pop(ctx);
}

void ew__error_from_js(duk_context *ctx, ew_error_t *err, ew_status_t code)
{
    if (err == NULL)
        return;
    ew__error_clear(err);
    err->code = code;
    duk_dup_top(ctx);
    ew__push_error_text(ctx, -1);
    snprintf(err->message, sizeof(err->message), "%s", duk_get_string(ctx, -1));
    duk_pop_2(ctx);
    if (duk_is_object(ctx, -1)) {
        char num[32];
        copy_prop(ctx, "fileName", err->file, sizeof(err->file));
        copy_prop(ctx, "lineNumber", num, sizeof(num));
        err->line = num[0] ? atoi(num) : 0;
        copy_prop(ctx, "columnNumber", num, sizeof(num));
        err->column = num[0] ? atoi(num) : 0;
    }
}

/* Duktape's stack lines carry engine details a Worker author cannot use: frames inside the engine's own C
 * files ("at [anon] (duk_api_stack.c:2205) internal") and call flags after the position ("preventsyield",
 * "strict", "construct", "tailcall", "native"). Keeps "    at fn (file:line)" lines only, like V8's. */
static bool is_flag_word(const char *w, size_t n)
{
    static const char *flags[] = {"preventsyield", "strict", "construct", "tailcall", "native", "internal"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (strlen(flags[i]) == n && memcmp(flags[i], w, n) == 0)
            return true;
    return false;
}

static void push_clean_stack(duk_context *ctx, const char *s, size_t len)
{
    duk_push_fixed_buffer(ctx, len + 1);
    char *out = duk_get_buffer_data(ctx, -1, NULL);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t end = nl ? (size_t) (nl - s) : len, n = end - i;
        const char *line = s + i;
        if (memmem(line, n, ") internal", 10) != NULL && memmem(line, n, "(duk_", 5) != NULL) {
            i = nl ? end + 1 : len;
            continue; /* a frame inside the engine */
        }
        /* Cut after the last ')' when only flag words follow it. */
        size_t paren = n;
        while (paren > 0 && line[paren - 1] != ')')
            paren--;
        if (paren > 0) {
            bool only_flags = true;
            for (size_t w = paren; w < n && only_flags;) {
                while (w < n && line[w] == ' ')
                    w++;
                size_t we = w;
                while (we < n && line[we] != ' ')
                    we++;
                if (we > w && !is_flag_word(line + w, we - w))
                    only_flags = false;
                w = we;
            }
            if (only_flags)
                n = paren;
        }
        if (n >= 3 && memcmp(line + n - 3, " ()", 3) == 0) {
            i = nl ? end + 1 : len;
            continue; /* a native frame without a position (e.g. the Error constructor itself) */
        }
        if (o > 0)
            out[o++] = '\n';
        memcpy(out + o, line, n);
        o += n;
        i = nl ? end + 1 : len;
    }
    duk_push_lstring(ctx, out, o);
    duk_remove(ctx, -2);
}

/* Safe-call body: [value] -> [text]. Prefers .stack (it includes the message) for Error objects. */
static duk_ret_t error_text(duk_context *ctx, void *udata)
{
    (void) udata;
    if (duk_is_error(ctx, -1)) {
        duk_get_prop_string(ctx, -1, "stack");
        if (duk_is_string(ctx, -1)) {
            size_t len;
            const char *stack = ew__to_utf8(ctx, -1, &len);
            push_clean_stack(ctx, stack, len);
            return 1;
        }
        duk_pop(ctx);
    }
    (void) ew__to_utf8(ctx, -1, NULL);
    return 1;
}

void ew__push_error_text(duk_context *ctx, duk_idx_t idx)
{
    duk_dup(ctx, idx);
    if (duk_safe_call(ctx, error_text, NULL, 1, 1) != DUK_EXEC_SUCCESS || !duk_is_string(ctx, -1)) {
        duk_pop(ctx);
        duk_push_string(ctx, "(error value could not be converted to a string)");
    } else if (!duk_is_string(ctx, -1)) {
        duk_size_t n;
        const char *p = duk_get_buffer_data(ctx, -1, &n);
        duk_push_lstring(ctx, p, n);
        duk_remove(ctx, -2);
    }
}

const char *ew__log_uncaught(duk_context *ctx, duk_idx_t idx, const char *prefix)
{
    idx = duk_normalize_index(ctx, idx);
    duk_push_string(ctx, prefix);
    ew__push_error_text(ctx, idx);
    duk_concat(ctx, 2);
    size_t len;
    const char *text = ew__to_utf8(ctx, -1, &len);
    ew__isolate_log(ctx, EW_LOG_ERROR, text, len);
    return text;
}
