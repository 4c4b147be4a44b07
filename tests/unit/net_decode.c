/* lib/net/decode.c: gzip, deflate (zlib and raw) and br bodies decoded whole and split at every byte,
 * truncated and corrupt inputs rejected, unknown codings reported as such. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <brotli/encode.h>
#include <zlib.h>

#include "net/decode.h"

typedef struct sink {
    char *data;
    size_t len;
    size_t stop_after; /* the sink refuses once this many bytes arrived (0 = never) */
} sink_t;

static bool collect(void *udata, const char *data, size_t len)
{
    sink_t *s = udata;
    s->data = realloc(s->data, s->len + len);
    cr_assert(s->data != NULL);
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return s->stop_after == 0 || s->len < s->stop_after;
}

static char plain[100000];

static void fill_plain(void)
{
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (char) ('a' + (i * 7 + i / 13) % 26);
}

/* Compresses plain with zlib: windowBits 15 + 16 (gzip), 15 (zlib) or -15 (raw deflate). */
static unsigned char *zcompress(int window_bits, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    cr_assert(deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    size_t cap = deflateBound(&z, sizeof(plain));
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *) plain;
    z.avail_in = sizeof(plain);
    z.next_out = out;
    z.avail_out = (uInt) cap;
    cr_assert(deflate(&z, Z_FINISH) == Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static unsigned char *brcompress(size_t *out_len)
{
    size_t cap = BrotliEncoderMaxCompressedSize(sizeof(plain));
    unsigned char *out = malloc(cap);
    *out_len = cap;
    cr_assert(BrotliEncoderCompress(5, 22, BROTLI_MODE_TEXT, sizeof(plain), (const uint8_t *) plain, out_len, out));
    return out;
}

/* Decodes `in` pushed in pieces of `step` bytes; returns the finish result; the output lands in *s. */
static int decode(const char *coding, const unsigned char *in, size_t len, size_t step, sink_t *s)
{
    bool unknown;
    ew__decoder_t *d = ew__decoder_create(coding, strlen(coding), collect, s, &unknown);
    cr_assert(d != NULL, "coding %s", coding);
    int rc = EW__DECODE_OK;
    for (size_t off = 0; off < len && rc == EW__DECODE_OK; off += step)
        rc = ew__decoder_push(d, in + off, len - off < step ? len - off : step);
    if (rc == EW__DECODE_OK)
        rc = ew__decoder_finish(d);
    ew__decoder_destroy(d);
    return rc;
}

static void check_roundtrip(const char *coding, const unsigned char *in, size_t len)
{
    static const size_t steps[] = {1, 2, 3, 7, 100, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sink_t s = {0};
        cr_assert_eq(decode(coding, in, len, steps[i], &s), EW__DECODE_OK, "%s step %zu", coding, steps[i]);
        cr_assert_eq(s.len, sizeof(plain), "%s step %zu", coding, steps[i]);
        cr_assert(memcmp(s.data, plain, sizeof(plain)) == 0);
        free(s.data);
    }
}

Test(net_decode, gzip_zlib_raw_and_br_decode_at_every_split)
{
    fill_plain();
    size_t n;
    unsigned char *gz = zcompress(15 + 16, &n);
    check_roundtrip("gzip", gz, n);
    check_roundtrip("X-GZIP", gz, n);
    free(gz);
    unsigned char *zl = zcompress(15, &n);
    check_roundtrip("deflate", zl, n);
    free(zl);
    unsigned char *raw = zcompress(-15, &n);
    check_roundtrip("Deflate", raw, n);
    free(raw);
    unsigned char *br = brcompress(&n);
    check_roundtrip("br", br, n);
    free(br);
}

Test(net_decode, truncated_streams_are_errors)
{
    fill_plain();
    size_t n, gzn;
    unsigned char *gz = zcompress(15 + 16, &gzn);
    unsigned char *br = brcompress(&n);
    sink_t s = {0};
    cr_assert_eq(decode("gzip", gz, gzn / 2, 64, &s), EW__DECODE_ERROR);
    free(s.data);
    memset(&s, 0, sizeof(s));
    cr_assert_eq(decode("br", br, n - 3, 64, &s), EW__DECODE_ERROR);
    free(s.data);
    free(gz);
    free(br);
}

Test(net_decode, corrupt_input_is_an_error_with_a_reason)
{
    static const unsigned char junk[] = "this is not compressed at all";
    sink_t s = {0};
    cr_assert_eq(decode("gzip", junk, sizeof(junk) - 1, 5, &s), EW__DECODE_ERROR);
    free(s.data);
    bool unknown;
    ew__decoder_t *d = ew__decoder_create("br", 2, collect, &s, &unknown);
    memset(&s, 0, sizeof(s));
    int rc = ew__decoder_push(d, "\xff\xff\xff\xff", 4);
    cr_assert_eq(rc, EW__DECODE_ERROR);
    cr_assert_str_eq(ew__decoder_error(d), "invalid brotli data");
    ew__decoder_destroy(d);
    free(s.data);
}

Test(net_decode, empty_bodies_are_empty)
{
    sink_t s = {0};
    cr_assert_eq(decode("gzip", (const unsigned char *) "", 0, 1, &s), EW__DECODE_OK);
    cr_assert_eq(decode("deflate", (const unsigned char *) "", 0, 1, &s), EW__DECODE_OK);
    cr_assert_eq(s.len, 0);
}

Test(net_decode, unknown_codings_are_reported)
{
    bool unknown = false;
    cr_assert_null(ew__decoder_create("zstd", 4, collect, NULL, &unknown));
    cr_assert(unknown);
    cr_assert_null(ew__decoder_create("identity", 8, collect, NULL, &unknown));
    cr_assert(unknown);
}

Test(net_decode, a_refusing_sink_stops_decoding)
{
    fill_plain();
    size_t n;
    unsigned char *gz = zcompress(15 + 16, &n);
    sink_t s = {.stop_after = 1000};
    cr_assert_eq(decode("gzip", gz, n, n, &s), EW__DECODE_STOPPED);
    cr_assert_lt(s.len, sizeof(plain));
    free(s.data);
    free(gz);
}
