/*
 * decode.c — streaming content decoders for fetch() responses (lib/net/decode.h): gzip and deflate with
 * zlib, br with libbrotli's decoder. "deflate" is the zlib format by RFC 9110, but servers have long sent
 * raw deflate under that name; the first two bytes tell which (a zlib header is a multiple of 31 with
 * method 8), as browsers and curl decide.
 */
#include "decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/decode.h>
#include <zlib.h>

#define OUT_CHUNK 65536

typedef enum { K_GZIP, K_DEFLATE, K_BR } kind_t;

struct ew__decoder {
    kind_t kind;
    bool started;             /* zlib: inflateInit2 has run (deflate waits for its first two bytes) */
    bool ended;               /* the compressed stream is complete; later bytes are ignored */
    unsigned char head[2];    /* deflate: the first byte while the second is awaited */
    size_t nhead;
    z_stream z;
    BrotliDecoderState *br;
    ew__decode_sink_fn sink;
    void *udata;
    const char *error;
    char out[OUT_CHUNK];
};

ew__decoder_t *ew__decoder_create(const char *coding, size_t len, ew__decode_sink_fn sink, void *udata,
                                  bool *unknown)
{
    kind_t kind;
    *unknown = false;
    if ((len == 4 && strncasecmp(coding, "gzip", 4) == 0) || (len == 6 && strncasecmp(coding, "x-gzip", 6) == 0))
        kind = K_GZIP;
    else if (len == 7 && strncasecmp(coding, "deflate", 7) == 0)
        kind = K_DEFLATE;
    else if (len == 2 && strncasecmp(coding, "br", 2) == 0)
        kind = K_BR;
    else {
        *unknown = true;
        return NULL;
    }
    ew__decoder_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->kind = kind;
    d->sink = sink;
    d->udata = udata;
    if (kind == K_BR) {
        d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        if (d->br == NULL) {
            free(d);
            return NULL;
        }
    } else if (kind == K_GZIP) {
        if (inflateInit2(&d->z, 16 + MAX_WBITS) != Z_OK) {
            free(d);
            return NULL;
        }
        d->started = true;
    }
    return d;
}

void ew__decoder_destroy(ew__decoder_t *d)
{
    if (d == NULL)
        return;
    if (d->br != NULL)
        BrotliDecoderDestroyInstance(d->br);
    if (d->started)
        inflateEnd(&d->z);
    free(d);
}

static int fail(ew__decoder_t *d, const char *why)
{
    d->error = why;
    return EW__DECODE_ERROR;
}

static int inflate_bytes(ew__decoder_t *d, const unsigned char *p, size_t len)
{
    d->z.next_in = (unsigned char *) p;
    d->z.avail_in = (uInt) len;
    while (!d->ended && (d->z.avail_in > 0 || d->z.avail_out == 0)) {
        d->z.next_out = (unsigned char *) d->out;
        d->z.avail_out = OUT_CHUNK;
        int rc = inflate(&d->z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return fail(d, d->kind == K_GZIP ? "invalid gzip data" : "invalid deflate data");
        size_t n = OUT_CHUNK - d->z.avail_out;
        if (n > 0 && !d->sink(d->udata, d->out, n))
            return EW__DECODE_STOPPED;
        if (rc == Z_STREAM_END)
            d->ended = true;
        else if (rc == Z_BUF_ERROR)
            break;
    }
    return EW__DECODE_OK;
}

/* deflate: picks the zlib or raw format from the first two bytes, then inflates. */
static int push_deflate(ew__decoder_t *d, const unsigned char *p, size_t len)
{
    if (!d->started) {
        while (d->nhead < 2 && len > 0) {
            d->head[d->nhead++] = *p++;
            len--;
        }
        if (d->nhead < 2)
            return EW__DECODE_OK;
        bool zlib_header = (d->head[0] & 0x0F) == 8 && ((d->head[0] << 8) | d->head[1]) % 31 == 0;
        if (inflateInit2(&d->z, zlib_header ? MAX_WBITS : -MAX_WBITS) != Z_OK)
            return fail(d, "out of memory");
        d->started = true;
        int rc = inflate_bytes(d, d->head, 2);
        if (rc != EW__DECODE_OK)
            return rc;
    }
    return inflate_bytes(d, p, len);
}

static int push_br(ew__decoder_t *d, const unsigned char *p, size_t len)
{
    size_t avail_in = len;
    const uint8_t *next_in = p;
    for (;;) {
        size_t avail_out = OUT_CHUNK;
        uint8_t *next_out = (uint8_t *) d->out;
        BrotliDecoderResult r = BrotliDecoderDecompressStream(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        if (r == BROTLI_DECODER_RESULT_ERROR)
            return fail(d, "invalid brotli data");
        size_t n = OUT_CHUNK - avail_out;
        if (n > 0 && !d->sink(d->udata, d->out, n))
            return EW__DECODE_STOPPED;
        if (r == BROTLI_DECODER_RESULT_SUCCESS) {
            d->ended = true;
            return EW__DECODE_OK;
        }
        if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
            return EW__DECODE_OK;
    }
}

int ew__decoder_push(ew__decoder_t *d, const void *data, size_t len)
{
    if (d->ended || len == 0)
        return EW__DECODE_OK;
    switch (d->kind) {
    case K_GZIP: return inflate_bytes(d, data, len);
    case K_DEFLATE: return push_deflate(d, data, len);
    default: return push_br(d, data, len);
    }
}

int ew__decoder_finish(ew__decoder_t *d)
{
    if (d->ended)
        return EW__DECODE_OK;
    if (d->kind == K_DEFLATE && !d->started && d->nhead == 0)
        return EW__DECODE_OK; /* an empty body is an empty body */
    if (d->kind == K_GZIP && d->z.total_in == 0)
        return EW__DECODE_OK;
    return fail(d, d->kind == K_BR ? "truncated brotli data" : d->kind == K_GZIP ? "truncated gzip data"
                                                                                 : "truncated deflate data");
}

const char *ew__decoder_error(const ew__decoder_t *d)
{
    return d->error ? d->error : "decoding error";
}
