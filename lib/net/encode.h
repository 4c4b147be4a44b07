/*
 * lib/net/encode.h — streaming encoders for HTTP content codings (encode.c): gzip and deflate (zlib format)
 * with zlib, br with libbrotlienc. The counterpart of decode.h; used to send a Response body compressed as
 * its Content-Encoding header says (Workers' encodeBody "automatic", lib/web/body_encode.c).
 *
 * Push plain bytes in with a flag saying whether everything so far must be decodable by the peer now (a
 * streamed body's chunk: the client sees it without waiting for more), collect the compressed bytes from a
 * growable output buffer owned by the caller. One thread per encoder; no global state.
 */
#ifndef EW_NET_ENCODE_H
#define EW_NET_ENCODE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ew__coding {
    EW__CODING_NONE = 0, /* identity, or a coding this module cannot produce */
    EW__CODING_GZIP,
    EW__CODING_DEFLATE,
    EW__CODING_BR,
} ew__coding_t;

typedef struct ew__encoder ew__encoder_t;

/* The coding a Content-Encoding value names when it is exactly one of gzip, x-gzip, deflate, br
 * (case-insensitive, surrounding spaces ignored); EW__CODING_NONE for anything else (identity, a list,
 * an unknown coding). */
ew__coding_t ew__coding_of(const char *value, size_t len);

/* A new encoder (default compression level; brotli at quality 5, a streaming setting), or NULL on
 * allocation failure or coding NONE. Release with ew__encoder_destroy. */
ew__encoder_t *ew__encoder_create(ew__coding_t coding);
void ew__encoder_destroy(ew__encoder_t *e);

/* Compresses len bytes. The output is appended to *out (malloc'd, grown as needed; *out_len and *out_cap
 * describe it; the caller frees it). flush: everything pushed so far becomes decodable from the output.
 * False when memory ran out (the encoder is then unusable). */
bool ew__encoder_push(ew__encoder_t *e, const void *data, size_t len, bool flush, char **out, size_t *out_len,
                      size_t *out_cap);
/* Ends the compressed stream (trailer), appending to the same kind of buffer. False on allocation failure. */
bool ew__encoder_finish(ew__encoder_t *e, char **out, size_t *out_len, size_t *out_cap);

#endif
