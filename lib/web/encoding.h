/*
 * lib/web/encoding.h — the Encoding Standard and HTML base64 globals (encoding.c), and the base64 codec they
 * share with crypto (JWK members are base64url).
 */
#ifndef EW_WEB_ENCODING_H
#define EW_WEB_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domexception.h"

/* Installs atob, btoa, TextDecoder (replacing Duktape's, which knows only UTF-8) and
 * TextEncoder.prototype.encodeInto. Call once per heap from ew__web_init(), after DOMException. May throw. */
void ew__encoding_init(duk_context *ctx, duk_idx_t global_idx);

/* Bytes ew__base64_encode writes for len input bytes (padded form; the unpadded one is at most this). */
#define EW__BASE64_ENCODED_LEN(len) ((((len) + 2) / 3) * 4)
/* Encodes len bytes into out (EW__BASE64_ENCODED_LEN(len) bytes); url = base64url without padding.
 * Returns the characters written (no NUL). */
size_t ew__base64_encode(const uint8_t *in, size_t len, char *out, bool url);
/* Decodes s into out (at least len * 3 / 4 + 3 bytes). url = false: the WHATWG forgiving-base64 decode
 * (ASCII whitespace ignored, padding optional but exact). url = true: the base64url alphabet, no whitespace,
 * optional padding (what JWK readers accept). Returns the byte count, or -1 for invalid input. */
ptrdiff_t ew__base64_decode(const char *s, size_t len, uint8_t *out, bool url);

#endif /* EW_WEB_ENCODING_H */
