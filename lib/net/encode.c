/*
 * encode.c — streaming content-coding encoders (encode.h): gzip/deflate through zlib's deflate(), br
 * through libbrotlienc's stream API. Output goes into a caller-owned growable buffer, grown before each
 * call so that the compressor always has room to make progress.
 */
#include "encode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <brotli/encode.h>
#include <zlib.h>

#define OUT_STEP (16 * 1024)

struct ew__encoder {
    ew__coding_t coding;
    z_stream z;                  /* gzip, deflate */
    BrotliEncoderState *br;      /* br */
};

ew__coding_t ew__coding_of(const char *value, size_t len)
{
    while (len > 0 && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if ((len == 4 && strncasecmp(value, "gzip", 4) == 0) || (len == 6 && strncasecmp(value, "x-gzip", 6) == 0))
        return EW__CODING_GZIP;
    if (len == 7 && strncasecmp(value, "deflate", 7) == 0)
        return EW__CODING_DEFLATE;
    if (len == 2 && strncasecmp(value, "br", 2) == 0)
        return EW__CODING_BR;
    return EW__CODING_NONE;
}

ew__encoder_t *ew__encoder_create(ew__coding_t coding)
{
    if (coding == EW__CODING_NONE)
        return NULL;
    ew__encoder_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->coding = coding;
    if (coding == EW__CODING_BR) {
        e->br = BrotliEncoderCreateInstance(NULL, NULL, NULL);
        if (e->br == NULL || !BrotliEncoderSetParameter(e->br, BROTLI_PARAM_QUALITY, 5)) {
            if (e->br != NULL)
                BrotliEncoderDestroyInstance(e->br);
            free(e);
            return NULL;
        }
        return e;
    }
    /* windowBits 15 + 16 asks zlib for the gzip wrapper; plain 15 for the zlib format of "deflate". */
    int bits = coding == EW__CODING_GZIP ? 15 + 16 : 15;
    if (deflateInit2(&e->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(e);
        return NULL;
    }
    return e;
}

void ew__encoder_destroy(ew__encoder_t *e)
{
    if (e == NULL)
        return;
    if (e->coding == EW__CODING_BR)
        BrotliEncoderDestroyInstance(e->br);
    else
        deflateEnd(&e->z);
    free(e);
}

/* Makes room for at least OUT_STEP more bytes. */
static bool grow(char **out, size_t *out_len, size_t *out_cap)
{
    if (*out_cap - *out_len >= OUT_STEP && *out != NULL)
        return true;
    size_t cap = *out_cap < OUT_STEP ? 2 * OUT_STEP : *out_cap * 2;
    char *p = realloc(*out, cap);
    if (p == NULL)
        return false;
    *out = p;
    *out_cap = cap;
    return true;
}

/* Runs zlib with `mode` (Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH) until the input is used and, for a flush or
 * finish, until zlib has nothing more to write. */
static bool run_zlib(ew__encoder_t *e, const void *data, size_t len, int mode, char **out, size_t *out_len,
                     size_t *out_cap)
{
    e->z.next_in = (Bytef *) (uintptr_t) data;
    e->z.avail_in = (uInt) len;
    for (;;) {
        if (!grow(out, out_len, out_cap))
            return false;
        size_t room = *out_cap - *out_len;
        e->z.next_out = (Bytef *) *out + *out_len;
        e->z.avail_out = (uInt) room;
        int rc = deflate(&e->z, mode);
        *out_len += room - e->z.avail_out;
        if (rc == Z_STREAM_END)
            return true;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return false;
        if (e->z.avail_in == 0 && e->z.avail_out != 0)
            return true; /* everything consumed and flushed (a full output buffer may hide more) */
    }
}

static bool run_brotli(ew__encoder_t *e, const void *data, size_t len, BrotliEncoderOperation op, char **out,
                       size_t *out_len, size_t *out_cap)
{
    const uint8_t *in = data;
    size_t avail_in = len;
    for (;;) {
        if (!grow(out, out_len, out_cap))
            return false;
        size_t avail_out = *out_cap - *out_len;
        uint8_t *next_out = (uint8_t *) *out + *out_len;
        size_t before = avail_out;
        if (!BrotliEncoderCompressStream(e->br, op, &avail_in, &in, &avail_out, &next_out, NULL))
            return false;
        *out_len += before - avail_out;
        if (avail_in == 0 && !BrotliEncoderHasMoreOutput(e->br) &&
            (op != BROTLI_OPERATION_FINISH || BrotliEncoderIsFinished(e->br)))
            return true;
    }
}

bool ew__encoder_push(ew__encoder_t *e, const void *data, size_t len, bool flush, char **out, size_t *out_len,
                      size_t *out_cap)
{
    if (e->coding == EW__CODING_BR)
        return run_brotli(e, data, len, flush ? BROTLI_OPERATION_FLUSH : BROTLI_OPERATION_PROCESS, out, out_len,
                          out_cap);
    /* zlib takes at most 4 GiB per call (uInt): feed larger inputs in slices */
    const char *p = data;
    while (len > (size_t) 1 << 30) {
        if (!run_zlib(e, p, (size_t) 1 << 30, Z_NO_FLUSH, out, out_len, out_cap))
            return false;
        p += (size_t) 1 << 30;
        len -= (size_t) 1 << 30;
    }
    return run_zlib(e, p, len, flush ? Z_SYNC_FLUSH : Z_NO_FLUSH, out, out_len, out_cap);
}

bool ew__encoder_finish(ew__encoder_t *e, char **out, size_t *out_len, size_t *out_cap)
{
    if (e->coding == EW__CODING_BR)
        return run_brotli(e, NULL, 0, BROTLI_OPERATION_FINISH, out, out_len, out_cap);
    return run_zlib(e, NULL, 0, Z_FINISH, out, out_len, out_cap);
}
