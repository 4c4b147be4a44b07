/*
 * lib/web/formdata.h — multipart/form-data and urlencoded bodies (formdata.c), for body.c.
 */
#ifndef EW_WEB_FORMDATA_H
#define EW_WEB_FORMDATA_H

#include "internal.h"

/* Encodes the FormData at form_idx as multipart/form-data with a fresh boundary: pushes the bytes (a fixed
 * buffer) and then the Content-Type string ("multipart/form-data; boundary=..."). Throws TypeError for a
 * name or filename ending with a backslash (workerd). */
void ew__formdata_push_encoded(duk_context *ctx, duk_idx_t form_idx);
/* Pushes a new FormData parsed from `len` bytes of body whose Content-Type header value is ctype:
 * multipart/form-data (boundary parameter required) or application/x-www-form-urlencoded (UTF-8 only).
 * Throws workerd's TypeErrors for other types and malformed bodies. */
void ew__formdata_push_parsed(duk_context *ctx, const char *body, size_t len, const char *ctype, size_t ctype_len);

#endif /* EW_WEB_FORMDATA_H */
