/* Content-coding encoders (lib/net/encode.c): what they produce decodes back with lib/net/decode.c, also
 * when each piece is flushed on its own (a streamed body) and across large inputs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "net/decode.h"
#include "net/encode.h"

typedef struct sink {
    char *data;
    size_t len, cap;
} sink_t;

static bool collect(void *udata, const char *data, size_t len)
{
    sink_t *s = udata;
    if (s->len + len > s->cap) {
        s->cap = (s->len + len) * 2;
        s->data = realloc(s->data, s->cap);
        cr_assert_not_null(s->data);
    }
    memcpy(s->data + s->len, data, len);
    s->len += len;
    return true;
}

/* Decodes len bytes of `coding` with lib/net/decode.c into *out. */
static void decode_all(const char *coding, const char *data, size_t len, sink_t *out)
{
    bool unknown;
    ew__decoder_t *d = ew__decoder_create(coding, strlen(coding), collect, out, &unknown);
    cr_assert_not_null(d);
    cr_assert_eq(ew__decoder_push(d, data, len), EW__DECODE_OK, "%s", ew__decoder_error(d));
    cr_assert_eq(ew__decoder_finish(d), EW__DECODE_OK, "%s", ew__decoder_error(d));
    ew__decoder_destroy(d);
}

static void round_trip(const char *coding, size_t size, size_t piece)
{
    char *plain = malloc(size);
    cr_assert_not_null(plain);
    for (size_t i = 0; i < size; i++)
        plain[i] = (char) ("abcdefgh"[i % 8] + (i / 4096) % 3);
    ew__encoder_t *e = ew__encoder_create(ew__coding_of(coding, strlen(coding)));
    cr_assert_not_null(e);
    char *out = NULL;
    size_t len = 0, cap = 0;
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        size_t before = len;
        cr_assert(ew__encoder_push(e, plain + off, n, true, &out, &len, &cap));
        cr_assert_gt(len, before, "a flushed piece produces output at once");
        sink_t partial = {0};
        /* everything flushed so far decodes to the plain bytes so far (only checked on small inputs) */
        if (size <= 65536) {
            bool unknown;
            ew__decoder_t *d = ew__decoder_create(coding, strlen(coding), collect, &partial, &unknown);
            cr_assert_eq(ew__decoder_push(d, out, len), EW__DECODE_OK);
            cr_assert_eq(partial.len, off + n);
            cr_assert(memcmp(partial.data, plain, off + n) == 0);
            ew__decoder_destroy(d);
            free(partial.data);
        }
    }
    cr_assert(ew__encoder_finish(e, &out, &len, &cap));
    ew__encoder_destroy(e);
    sink_t back = {0};
    decode_all(coding, out, len, &back);
    cr_assert_eq(back.len, size);
    cr_assert(memcmp(back.data, plain, size) == 0);
    cr_assert_lt(len, size / 2, "%s compresses repetitive text", coding);
    free(back.data);
    free(out);
    free(plain);
}

Test(net_encode, gzip_round_trips_in_flushed_pieces) { round_trip("gzip", 60000, 1000); }
Test(net_encode, deflate_round_trips_in_flushed_pieces) { round_trip("deflate", 60000, 1000); }
Test(net_encode, br_round_trips_in_flushed_pieces) { round_trip("br", 60000, 1000); }
Test(net_encode, large_bodies_round_trip) {
    round_trip("gzip", 8 << 20, 1 << 20);
    round_trip("br", 8 << 20, 1 << 20);
}

Test(net_encode, coding_names)
{
    cr_assert_eq(ew__coding_of("GZip", 4), EW__CODING_GZIP);
    cr_assert_eq(ew__coding_of(" x-gzip ", 8), EW__CODING_GZIP);
    cr_assert_eq(ew__coding_of("deflate", 7), EW__CODING_DEFLATE);
    cr_assert_eq(ew__coding_of("br", 2), EW__CODING_BR);
    cr_assert_eq(ew__coding_of("identity", 8), EW__CODING_NONE);
    cr_assert_eq(ew__coding_of("gzip, br", 8), EW__CODING_NONE);
    cr_assert_eq(ew__coding_of("zstd", 4), EW__CODING_NONE);
    cr_assert_null(ew__encoder_create(EW__CODING_NONE));
}

Test(net_encode, empty_body_has_a_valid_stream)
{
    ew__encoder_t *e = ew__encoder_create(EW__CODING_GZIP);
    char *out = NULL;
    size_t len = 0, cap = 0;
    cr_assert(ew__encoder_finish(e, &out, &len, &cap));
    ew__encoder_destroy(e);
    sink_t back = {0};
    decode_all("gzip", out, len, &back);
    cr_assert_eq(back.len, 0);
    free(out);
}
