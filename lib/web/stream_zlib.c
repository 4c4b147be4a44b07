/*
 * stream_zlib.c — the zlib natives behind CompressionStream and DecompressionStream (lib/js/streams.js):
 *
 *   zlib(format, inflate) -> handle       format 'gzip' | 'deflate' | 'deflate-raw'
 *   zlibPush(handle, bytes | null) -> [Uint8Array, ...]    null = end of input (flush, check completeness)
 *
 * The z_stream lives in a fixed Duktape buffer (which never moves) held by the handle object; a finalizer
 * ends it when the handle is collected. zlib's own allocations use malloc: they are bounded by zlib's window
 * sizes, not by the data. Output comes in chunks of at most OUT_CHUNK bytes.
 */
#include <string.h>
#include <zlib.h>

#include "internal.h"

#define K_Z DUK_HIDDEN_SYMBOL("z")
#define OUT_CHUNK 16384

typedef struct zstate {
    z_stream z;
    bool inflate;
    bool live;      /* deflateInit/inflateInit succeeded and End has not run */
    bool finished;  /* inflate saw the end of the compressed data */
} zstate_t;

static void zstate_end(zstate_t *s)
{
    if (!s->live)
        return;
    if (s->inflate)
        inflateEnd(&s->z);
    else
        deflateEnd(&s->z);
    s->live = false;
}

static duk_ret_t z_finalize(duk_context *ctx)
{
    duk_get_prop_literal(ctx, 0, K_Z);
    zstate_t *s = duk_get_buffer_data(ctx, -1, NULL);
    if (s != NULL)
        zstate_end(s);
    return 0;
}

/* zlib(format, inflate) */
static duk_ret_t n_zlib(duk_context *ctx)
{
    const char *format = duk_require_string(ctx, 0);
    bool inflate = duk_to_boolean(ctx, 1);
    int bits = strcmp(format, "gzip") == 0 ? 15 + 16 : strcmp(format, "deflate") == 0 ? 15 : -15;
    duk_push_object(ctx);
    zstate_t *s = duk_push_fixed_buffer(ctx, sizeof(zstate_t));
    memset(s, 0, sizeof(*s));
    s->inflate = inflate;
    int rc = inflate ? inflateInit2(&s->z, bits) : deflateInit2(&s->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8,
                                                                 Z_DEFAULT_STRATEGY);
    if (rc != Z_OK)
        return duk_error(ctx, DUK_ERR_RANGE_ERROR, "zlib could not start: %s", s->z.msg ? s->z.msg : "out of memory");
    s->live = true;
    duk_put_prop_literal(ctx, -2, K_Z);
    duk_push_c_function(ctx, z_finalize, 1);
    duk_set_finalizer(ctx, -2);
    return 1;
}

/* Appends the output buffer (first n bytes of the fixed buffer on top) to the array at arr as a Uint8Array;
 * pops the buffer. */
static void emit(duk_context *ctx, duk_idx_t arr, size_t n)
{
    duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_UINT8ARRAY);
    duk_put_prop_index(ctx, arr, (duk_uarridx_t) duk_get_length(ctx, arr));
    duk_pop(ctx);
}

/* zlibPush(handle, bytes | null) */
static duk_ret_t n_zlib_push(duk_context *ctx)
{
    duk_get_prop_literal(ctx, 0, K_Z);
    zstate_t *s = duk_get_buffer_data(ctx, -1, NULL);
    if (s == NULL || !s->live)
        return duk_type_error(ctx, "The compression stream has ended.");
    bool end = duk_is_null_or_undefined(ctx, 1);
    duk_size_t in_len = 0;
    unsigned char *in = end ? NULL : duk_require_buffer_data(ctx, 1, &in_len);
    duk_idx_t arr = duk_push_array(ctx);
    if (s->inflate && s->finished) {
        if (!end && in_len > 0)
            return duk_type_error(ctx, "Trailing bytes after end of compressed data");
        zstate_end(s);
        return 1;
    }
    s->z.next_in = in;
    s->z.avail_in = (uInt) in_len;
    for (;;) {
        unsigned char *out = duk_push_fixed_buffer(ctx, OUT_CHUNK);
        s->z.next_out = out;
        s->z.avail_out = OUT_CHUNK;
        int rc = s->inflate ? inflate(&s->z, end ? Z_FINISH : Z_NO_FLUSH) : deflate(&s->z, end ? Z_FINISH : Z_NO_FLUSH);
        size_t produced = OUT_CHUNK - s->z.avail_out;
        if (rc == Z_STREAM_ERROR || rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR) {
            const char *why = s->z.msg ? s->z.msg : "invalid data";
            zstate_end(s);
            return duk_type_error(ctx, "Decompression failed: %s", why);
        }
        if (produced > 0)
            emit(ctx, arr, produced);
        else
            duk_pop(ctx);
        if (rc == Z_STREAM_END) {
            if (s->inflate) {
                s->finished = true;
                if (s->z.avail_in > 0)
                    return duk_type_error(ctx, "Trailing bytes after end of compressed data");
            }
            if (end || !s->inflate)
                zstate_end(s);
            break;
        }
        if (s->z.avail_out > 0 && (s->z.avail_in == 0 || rc == Z_BUF_ERROR)) {
            if (end && s->inflate) {
                zstate_end(s);
                return duk_type_error(ctx, "Decompression failed: the compressed data ended too early");
            }
            if (!end)
                break;
        }
    }
    return 1;
}

void ew__stream_zlib_natives(duk_context *ctx, duk_idx_t natives_idx)
{
    natives_idx = duk_require_normalize_index(ctx, natives_idx);
    duk_push_c_function(ctx, n_zlib, 2);
    duk_put_prop_literal(ctx, natives_idx, "zlib");
    duk_push_c_function(ctx, n_zlib_push, 2);
    duk_put_prop_literal(ctx, natives_idx, "zlibPush");
}
