/*
 * lib/net/decode.h — streaming decoders for HTTP content codings (decode.c): gzip, deflate (zlib, and raw
 * deflate as some servers send it) with zlib, br with libbrotli. Used by fetch() on response bodies.
 *
 * Push compressed bytes in, get decoded bytes out through a callback, in pieces of at most 16 KiB. The
 * decoder allocates its state once; it never blocks and keeps no global state (one thread per decoder).
 */
#ifndef EW_NET_DECODE_H
#define EW_NET_DECODE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ew__decoder ew__decoder_t;

/* Receives `len` decoded bytes (valid during the call). Returns false to stop decoding (the push then
 * returns EW__DECODE_STOPPED). */
typedef bool (*ew__decode_sink_fn)(void *udata, const char *data, size_t len);

enum {
    EW__DECODE_OK = 0,       /* the bytes were consumed */
    EW__DECODE_ERROR = -1,   /* the input is not valid for the coding: ew__decoder_error() says why */
    EW__DECODE_STOPPED = -2, /* the sink returned false */
};

/* A decoder for the Content-Encoding value `coding` (case-insensitive, `len` bytes: "gzip", "x-gzip",
 * "deflate", "br"). Returns NULL when the coding is not one of those (or on allocation failure, which
 * *unknown = false tells apart). Release with ew__decoder_destroy. */
ew__decoder_t *ew__decoder_create(const char *coding, size_t len, ew__decode_sink_fn sink, void *udata,
                                  bool *unknown);
void ew__decoder_destroy(ew__decoder_t *d);
/* Decodes `len` more bytes of the body. */
int ew__decoder_push(ew__decoder_t *d, const void *data, size_t len);
/* The body ended: EW__DECODE_OK if the compressed stream was complete, else EW__DECODE_ERROR
 * ("truncated ..."). */
int ew__decoder_finish(ew__decoder_t *d);
/* A short static description of the last error. */
const char *ew__decoder_error(const ew__decoder_t *d);

#endif
