/*
 * body_encode.c — a Response body leaves compressed as its Content-Encoding header says, unless the
 * Response was made with encodeBody: "manual" (Workers' encodeBody, workerd's "automatic" default).
 *
 * Called by response_c.c when a Response is handed to the host (ew__response_extract*): a buffered body is
 * compressed whole here; a streamed one through its C reader (ew__stream_reader_encode: every chunk
 * compressed and flushed as it passes). Codings: gzip (and x-gzip), deflate (zlib format), br; any other
 * value (identity, lists, unknown codings) leaves the bytes as they are, as workerd does. This is what
 * keeps `return fetch(url)` of a compressed response correct: fetch() decodes the body for the script and
 * keeps the Content-Encoding header, and the body is compressed again on the way out.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "net/encode.h"
#include "stream.h"

static ew__coding_t coding_of_headers(const ew_response_t *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        const ew_header_t *h = &resp->headers[i];
        if (h->name_len == 16 && memcmp(h->name, "content-encoding", 16) == 0)
            return ew__coding_of(h->value, h->value_len);
    }
    return EW__CODING_NONE;
}

/* Compresses resp->body in place (a new NUL-terminated malloc'd buffer). */
static ew_status_t encode_buffer(ew_response_t *resp, ew__coding_t coding)
{
    ew__encoder_t *e = ew__encoder_create(coding);
    if (e == NULL)
        return EW_ERR_NOMEM;
    char *out = NULL;
    size_t len = 0, cap = 0;
    bool ok = ew__encoder_push(e, resp->body, resp->body_len, false, &out, &len, &cap) &&
              ew__encoder_finish(e, &out, &len, &cap);
    ew__encoder_destroy(e);
    if (ok && len == cap) { /* room for the NUL every body has */
        char *p = realloc(out, len + 1);
        ok = p != NULL;
        if (ok)
            out = p;
    }
    if (!ok) {
        free(out);
        return EW_ERR_NOMEM;
    }
    out[len] = '\0';
    free(resp->body);
    resp->body = (uint8_t *) out;
    resp->body_len = len;
    return EW_OK;
}

ew_status_t ew__response_encode(ew_response_t *resp, bool manual, ew__stream_reader_t *reader)
{
    if (manual)
        return EW_OK;
    ew__coding_t coding = coding_of_headers(resp);
    if (coding == EW__CODING_NONE)
        return EW_OK;
    if (reader != NULL) {
        resp->stream_length = -1; /* a FixedLengthStream's length was the plain one */
        return ew__stream_reader_encode(reader, coding) ? EW_OK : EW_ERR_NOMEM;
    }
    if (resp->body_len == 0) /* a null body has nothing to compress (an empty one is left empty too) */
        return EW_OK;
    return encode_buffer(resp, coding);
}
