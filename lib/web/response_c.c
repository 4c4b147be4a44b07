/*
 * response_c.c — responses on the C side: ew__response_extract() turns the Response a Worker returned into
 * an ew_response_t (lib/core/worker.c calls it when the handler's promise settles), ew__response_make()
 * builds the library's own error pages (1101/1102), and ew_response_destroy() (public) frees either.
 *
 * Memory layout of an ew_response_t, so that a response costs two malloc calls whatever its header count:
 *
 *     block:  [ ew_response_t | ew_header_t[nheaders] | status_text\0 | name\0 value\0 name\0 value\0 ... ]
 *     body:   [ body bytes | \0 ]        (a separate allocation: it may be large)
 *
 * Fields are read-only for the receiver: never free or replace one, only ew_response_destroy() the whole.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stream.h"

/* Allocates the block for nheaders headers and `strings` bytes of NUL-terminated strings, plus the body
 * buffer of body_len + 1 bytes. NULL on OOM (nothing left allocated). */
ew_response_t *ew__response_alloc(size_t nheaders, size_t strings, size_t body_len, char **string_area)
{
    size_t head = sizeof(ew_response_t) + nheaders * sizeof(ew_header_t);
    ew_response_t *r = malloc(head + strings);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->body = malloc(body_len + 1);
    if (r->body == NULL) {
        free(r);
        return NULL;
    }
    r->body[body_len] = 0;
    r->body_len = body_len;
    r->headers = nheaders ? (ew_header_t *) (r + 1) : NULL;
    r->nheaders = nheaders;
    *string_area = (char *) r + head;
    return r;
}

/* Copies len bytes + NUL to *area and advances it; returns where the copy starts. */
char *ew__response_put_string(char **area, const void *s, size_t len)
{
    char *dst = *area;
    if (len > 0)
        memcpy(dst, s, len);
    dst[len] = '\0';
    *area = dst + len + 1;
    return dst;
}

EW_API void ew_response_destroy(ew_response_t *resp)
{
    if (resp == NULL)
        return;
    ew__ws_response_gone(resp->websocket);
    ew__body_stream_destroy(resp->body_stream);
    free(resp->body);
    free(resp);
}

ew_response_t *ew__response_make(int status, const char *content_type, const char *body, size_t body_len,
                                 ew_status_t outcome)
{
    size_t ct_len = content_type ? strlen(content_type) : 0;
    size_t strings = 1 + (content_type ? sizeof("content-type") + ct_len + 1 : 0);
    char *area;
    ew_response_t *r = ew__response_alloc(content_type ? 1 : 0, strings, body_len, &area);
    if (r == NULL)
        return NULL;
    r->status = status;
    r->outcome = outcome;
    r->stream_length = -1;
    r->status_text = ew__response_put_string(&area, "", 0);
    if (content_type != NULL) {
        r->headers[0].name = ew__response_put_string(&area, "content-type", sizeof("content-type") - 1);
        r->headers[0].name_len = sizeof("content-type") - 1;
        r->headers[0].value = ew__response_put_string(&area, content_type, ct_len);
        r->headers[0].value_len = ct_len;
    }
    if (body_len > 0)
        memcpy(r->body, body, body_len);
    return r;
}

/* ---------------------------------------------------------------------------------------------------------
 * Extraction. All Duktape work happens in one safe call; the C allocations are recorded in the job so the
 * caller frees them if Duktape fails half-way (an allocation error at the memory limit).
 */

typedef struct extract_job {
    ew_response_t *resp;  /* the result, once allocated */
    const char *bad;      /* why the value is not an acceptable Response (static string), or NULL */
    bool want_stream;     /* a stream body goes to a reader instead of being copied */
    ew__stream_reader_t *reader; /* that reader, once opened */
    double length;        /* the stream's promised length (FixedLengthStream), -1 when unknown */
    bool manual;          /* made with encodeBody: "manual": the body goes as it is */
} extract_job_t;

/* Pushes the status text's storage: "" when the script gave none (the host picks the reason phrase). */
static void push_status_text(duk_context *ctx, duk_idx_t self)
{
    duk_get_prop_literal(ctx, self, EW__WEB_STATUS_TEXT);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        duk_push_literal(ctx, "");
    } else {
        ew__body_push_utf8(ctx, -1);
        duk_remove(ctx, -2);
    }
}

/* Replaces the header list at list_idx (pushed) with what the C side copies from: the list itself when every
 * string's bytes are already UTF-8 (the common case: nothing is made), else a copy with the other strings
 * transcoded into exact-size buffers. Returns the bytes of all the strings with their NULs. */
static size_t utf8_list(duk_context *ctx, duk_idx_t list_idx)
{
    duk_uarridx_t n = (duk_uarridx_t) duk_get_length(ctx, list_idx);
    size_t total = 0;
    bool clean = true;
    for (duk_uarridx_t i = 0; i < n; i++) {
        duk_size_t len;
        duk_get_prop_index(ctx, list_idx, i);
        const char *s = duk_get_lstring(ctx, -1, &len);
        clean = clean && s != NULL && ew__utf8_valid(s, len);
        total += len + 1;
        duk_pop(ctx);
    }
    if (clean)
        return total;
    ew__web_push_array(ctx, n);
    total = 0;
    for (duk_uarridx_t i = 0; i < n; i++) {
        size_t len;
        duk_get_prop_index(ctx, list_idx, i);
        ew__body_push_utf8(ctx, -1);
        (void) ew__body_bytes(ctx, -1, &len);
        total += len + 1;
        duk_put_prop_index(ctx, -3, i);
        duk_pop(ctx);
    }
    duk_replace(ctx, list_idx);
    return total;
}

/* Copies the strings of the list at list_idx into the response's headers. Allocates nothing in Duktape. */
static void copy_headers(duk_context *ctx, duk_idx_t list_idx, ew_response_t *r, char **area)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        size_t len;
        duk_get_prop_index(ctx, list_idx, (duk_uarridx_t) (2 * i));
        const void *p = ew__body_bytes(ctx, -1, &len);
        r->headers[i].name = ew__response_put_string(area, p, len);
        r->headers[i].name_len = len;
        duk_get_prop_index(ctx, list_idx, (duk_uarridx_t) (2 * i + 1));
        p = ew__body_bytes(ctx, -1, &len);
        r->headers[i].value = ew__response_put_string(area, p, len);
        r->headers[i].value_len = len;
        duk_pop_2(ctx);
    }
}

/* Why the value at idx cannot be sent (a static message), or NULL. Its body storage is at body_idx. */
static const char *refusal(duk_context *ctx, duk_idx_t body_idx, uint32_t state)
{
    if (!(state & EW__KIND_RESPONSE))
        return "TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'.";
    if (state & EW__STATE_TYPE_ERROR)
        return "TypeError: Return value from the handler is Response.error(), a network error.";
    if ((state & EW__STATE_USED) || ew__stream_is_disturbed(ctx, body_idx))
        return "TypeError: Body has already been used. It can only be used once.";
    return NULL;
}

/* Safe-call body: [value] -> [undefined]. */
static duk_ret_t extract(duk_context *ctx, void *udata)
{
    extract_job_t *job = udata;
    duk_idx_t self = duk_get_top_index(ctx);
    uint32_t state = ew__web_state(ctx, self);
    if (!(state & EW__KIND_RESPONSE)) {
        job->bad = refusal(ctx, self, state);
        return 0;
    }
    duk_require_stack(ctx, 8);
    duk_get_prop_literal(ctx, self, EW__WEB_BODY);
    duk_idx_t body_slot = duk_get_top_index(ctx);
    job->bad = refusal(ctx, body_slot, state);
    if (job->bad != NULL)
        return 0;
    job->manual = (state & EW__STATE_ENCODE_MANUAL) != 0;
    push_status_text(ctx, self);
    duk_idx_t text = duk_get_top_index(ctx);
    size_t text_len;
    const void *text_bytes = ew__body_bytes(ctx, text, &text_len);
    /* A default list implied by the state (response.c) is copied from C strings, not made. */
    const char *lazy_type = ew__response_list_type((state & EW__STATE_LIST_MASK) >> EW__STATE_LIST_SHIFT);
    bool lazy = (state & EW__STATE_LIST_MASK) != 0;
    if (lazy)
        duk_push_undefined(ctx);
    else
        ew__web_push_hlist(ctx, self, state);
    duk_idx_t list = duk_get_top_index(ctx);
    size_t strings = text_len + 1, nheaders;
    if (!lazy) {
        strings += utf8_list(ctx, list);
        nheaders = duk_get_length(ctx, list) / 2;
    } else {
        nheaders = lazy_type != NULL ? 1 : 0;
        strings += lazy_type != NULL ? sizeof("content-type") + strlen(lazy_type) + 1 : 0;
    }
    duk_dup(ctx, body_slot);
    if (!ew__body_take_pushed(ctx, self, state))
        duk_push_fixed_buffer(ctx, 0);
    if (ew__body_is_stream(ctx, -1)) {
        if (!job->want_stream)
            return duk_error(ctx, DUK_ERR_ERROR, "a stream body must be read before the response is copied");
        job->length = ew__stream_expected_length(ctx, -1);
        job->reader = ew__stream_reader_open(ctx, -1); /* TypeError if locked */
        if (job->reader == NULL)
            return duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
        duk_pop(ctx);
        duk_push_fixed_buffer(ctx, 0);
    }
    size_t body_len;
    const void *body = ew__body_bytes(ctx, -1, &body_len);

    /* From here on no Duktape call allocates: the stack has room and every value exists. */
    char *area;
    job->resp = ew__response_alloc(nheaders, strings, body_len, &area);
    if (job->resp == NULL)
        return 0;
    ew_response_t *r = job->resp;
    r->status = (int) (state >> EW__STATE_STATUS_SHIFT);
    r->outcome = EW_OK;
    r->stream_length = job->reader != NULL && job->length >= 0 ? (int64_t) job->length : -1;
    if (body_len > 0)
        memcpy(r->body, body, body_len);
    r->status_text = ew__response_put_string(&area, text_bytes, text_len);
    if (!lazy) {
        copy_headers(ctx, list, r, &area);
    } else if (lazy_type != NULL) {
        r->headers[0].name = ew__response_put_string(&area, "content-type", sizeof("content-type") - 1);
        r->headers[0].name_len = sizeof("content-type") - 1;
        r->headers[0].value = ew__response_put_string(&area, lazy_type, strlen(lazy_type));
        r->headers[0].value_len = strlen(lazy_type);
    }
    return 0;
}

static ew_status_t run_extract(duk_context *ctx, duk_idx_t idx, ew_response_t **out, extract_job_t *job,
                               ew_error_t *err)
{
    *out = NULL;
    duk_dup(ctx, idx);
    if (duk_safe_call(ctx, extract, job, 1, 1) != DUK_EXEC_SUCCESS) {
        ew_response_destroy(job->resp);
        ew__stream_reader_close(job->reader);
        job->reader = NULL;
        ew_status_t code = ew__isolate_aborting(ctx) ? EW_ERR_MEMORY_LIMIT
                           : duk_is_error(ctx, -1) && duk_get_error_code(ctx, -1) == DUK_ERR_TYPE_ERROR
                               ? EW_ERR_BAD_RESPONSE : EW_ERR_NOMEM;
        if (code == EW_ERR_BAD_RESPONSE) /* a locked stream body */
            ew__error_set(err, code, "%s", duk_safe_to_string(ctx, -1));
        else
            ew__error_from_js(ctx, err, code);
        duk_pop(ctx);
        return code;
    }
    duk_pop(ctx);
    if (job->bad != NULL)
        return ew__error_set(err, EW_ERR_BAD_RESPONSE, "%s", job->bad);
    if (job->resp == NULL) {
        ew__stream_reader_close(job->reader);
        job->reader = NULL;
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory copying the response");
    }
    if (ew__response_encode(job->resp, job->manual, job->reader) != EW_OK) {
        ew_response_destroy(job->resp);
        ew__stream_reader_close(job->reader);
        job->reader = NULL;
        return ew__error_set(err, EW_ERR_NOMEM, "out of memory compressing the response body");
    }
    ew__error_clear(err);
    *out = job->resp;
    return EW_OK;
}

ew_status_t ew__response_extract(duk_context *ctx, duk_idx_t idx, ew_response_t **out, ew_error_t *err)
{
    extract_job_t job = {NULL, NULL, false, NULL, -1, false};
    return run_extract(ctx, idx, out, &job, err);
}

ew_status_t ew__response_extract_stream(duk_context *ctx, duk_idx_t idx, ew_response_t **out,
                                        ew__stream_reader_t **reader, ew_error_t *err)
{
    extract_job_t job = {NULL, NULL, true, NULL, -1, false};
    ew_status_t st = run_extract(ctx, idx, out, &job, err);
    *reader = job.reader;
    return st;
}
