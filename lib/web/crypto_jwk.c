/*
 * crypto_jwk.c — JSON Web Key (RFC 7517/7518) import and export for CryptoKey: "oct" keys for HMAC and
 * AES, "RSA" keys for RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP, "EC" keys for ECDSA and ECDH.
 *
 * Import follows the WebCrypto steps: kty must fit the algorithm, "alg" (when present) must name the same
 * algorithm and hash ("HS256", "RS256", "PS384", "RSA-OAEP-256", "A128GCM", "ES256", ...), "ext": false
 * forbids an extractable key, "key_ops" must contain every requested usage; anything else is a DataError.
 * Members are base64url without padding (encoding.c decodes them). Decoded private components sit in
 * scratch buffers that are zeroized once the key is built. Called by crypto_key.c (crypto.h).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>

#include "crypto.h"
#include "encoding.h"

/* Scratch buffers holding decoded secret members, zeroized before returning. */
typedef struct scratch {
    uint8_t *p[8];
    size_t len[8];
    int n;
} scratch_t;

static void scratch_wipe(scratch_t *s)
{
    for (int i = 0; i < s->n; i++)
        mbedtls_platform_zeroize(s->p[i], s->len[i]);
    s->n = 0;
}

/* Pushes and returns the ToString of member `name`, or NULL (nothing pushed) when absent. */
static const char *str_member(duk_context *ctx, duk_idx_t jwk, const char *name)
{
    duk_get_prop_string(ctx, jwk, name);
    if (duk_is_undefined(ctx, -1)) {
        duk_pop(ctx);
        return NULL;
    }
    return duk_to_string(ctx, -1);
}

/* Decodes base64url member `name` into a pushed buffer; NULL when absent and not required (DataError when
 * required, or invalid). */
static const uint8_t *b64_member(duk_context *ctx, duk_idx_t jwk, const char *name, bool required, size_t *len,
                                 scratch_t *wipe)
{
    duk_size_t n;
    duk_get_prop_string(ctx, jwk, name);
    if (duk_is_undefined(ctx, -1)) {
        if (required)
            (void) ew__domexception_throw(ctx, "DataError", "Invalid keyData: the JWK member '%s' is missing", name);
        duk_pop(ctx);
        return NULL;
    }
    if (!duk_is_string(ctx, -1))
        (void) ew__domexception_throw(ctx, "DataError", "Invalid keyData: the JWK member '%s' is not a string", name);
    const char *s = duk_get_lstring(ctx, -1, &n);
    uint8_t *out = duk_push_fixed_buffer(ctx, n / 4 * 3 + 3);
    ptrdiff_t got = ew__base64_decode(s, n, out, true);
    duk_remove(ctx, -2);
    if (got < 0)
        (void) ew__domexception_throw(ctx, "DataError", "Invalid keyData: the JWK member '%s' is not base64url",
                                      name);
    if (wipe != NULL && wipe->n < 8) {
        wipe->p[wipe->n] = out;
        wipe->len[wipe->n++] = (size_t) got;
    }
    *len = (size_t) got;
    return out;
}

/* The JWK "alg" value for a key ("" when the spec sets none, as for EC keys). */
static void jwk_alg_name(ew__calg_id_t id, mbedtls_md_type_t hash, size_t key_bytes, char *out, size_t cap)
{
    int hbits = hash == MBEDTLS_MD_SHA1 ? 1 : hash == MBEDTLS_MD_SHA256 ? 256 : hash == MBEDTLS_MD_SHA384 ? 384 : 512;
    static const char *const aes_modes[] = {"GCM", "CBC", "CTR", "KW"};
    out[0] = '\0';
    switch (id) {
    case EW__ALG_HMAC:
        snprintf(out, cap, "HS%d", hbits);
        break;
    case EW__ALG_AES_GCM:
    case EW__ALG_AES_CBC:
    case EW__ALG_AES_CTR:
    case EW__ALG_AES_KW:
        snprintf(out, cap, "A%d%s", (int) key_bytes * 8, aes_modes[id - EW__ALG_AES_GCM]);
        break;
    case EW__ALG_RSASSA:
        snprintf(out, cap, "RS%d", hbits);
        break;
    case EW__ALG_RSA_PSS:
        snprintf(out, cap, "PS%d", hbits);
        break;
    case EW__ALG_RSA_OAEP:
        if (hbits == 1)
            snprintf(out, cap, "RSA-OAEP");
        else
            snprintf(out, cap, "RSA-OAEP-%d", hbits);
        break;
    default:
        break;
    }
}

/* The checks common to every kty: "alg", "ext", "key_ops". */
static void check_common(duk_context *ctx, duk_idx_t jwk, const char *expected_alg, bool extractable, uint32_t usages)
{
    const char *a = str_member(ctx, jwk, "alg");
    if (a != NULL) {
        if (expected_alg[0] != '\0' && strcmp(a, expected_alg) != 0)
            (void) ew__domexception_throw(ctx, "DataError", "The JWK \"alg\" member was inconsistent with that "
                                                             "specified by the Web Crypto call (%s)", expected_alg);
        duk_pop(ctx);
    }
    duk_get_prop_literal(ctx, jwk, "ext");
    if (duk_is_boolean(ctx, -1) && !duk_get_boolean(ctx, -1) && extractable)
        (void) ew__domexception_throw(ctx, "DataError", "The JWK \"ext\" member was false but the key is to be "
                                                         "extractable");
    duk_pop(ctx);
    duk_get_prop_literal(ctx, jwk, "key_ops");
    if (!duk_is_undefined(ctx, -1)) {
        uint32_t ops = ew__calg_read_usages(ctx, duk_get_top_index(ctx));
        if (usages & ~ops)
            (void) ew__domexception_throw(ctx, "DataError", "The JWK \"key_ops\" member does not include the "
                                                             "requested usages");
    }
    duk_pop(ctx);
}

static void require_kty(duk_context *ctx, duk_idx_t jwk, const char *kty)
{
    const char *k = str_member(ctx, jwk, "kty");
    if (k == NULL || strcmp(k, kty) != 0)
        (void) ew__domexception_throw(ctx, "DataError", "The JWK \"kty\" member must be \"%s\"", kty);
    duk_pop(ctx);
}

static void import_oct(duk_context *ctx, duk_idx_t jwk, const ew__calg_t *alg, bool extractable, uint32_t usages)
{
    scratch_t wipe = {.n = 0};
    require_kty(ctx, jwk, "oct");
    size_t len;
    b64_member(ctx, jwk, "k", true, &len, &wipe);
    duk_push_buffer_object(ctx, -1, 0, len, DUK_BUFOBJ_UINT8ARRAY); /* exactly the decoded bytes */
    duk_idx_t raw = duk_get_top_index(ctx);
    char expected[24];
    jwk_alg_name(alg->id, alg->hash, len, expected, sizeof(expected));
    check_common(ctx, jwk, expected, extractable, usages);
    ew__ckey_import(ctx, "raw", raw, alg, extractable, usages);
    scratch_wipe(&wipe);
}

static void import_rsa(duk_context *ctx, duk_idx_t jwk, const ew__calg_t *alg, bool extractable, uint32_t usages)
{
    scratch_t wipe = {.n = 0};
    require_kty(ctx, jwk, "RSA");
    char expected[24];
    jwk_alg_name(alg->id, alg->hash, 0, expected, sizeof(expected));
    check_common(ctx, jwk, expected, extractable, usages);
    size_t nl, el, dl = 0, pl = 0, ql = 0;
    const uint8_t *n = b64_member(ctx, jwk, "n", true, &nl, NULL);
    const uint8_t *e = b64_member(ctx, jwk, "e", true, &el, NULL);
    const uint8_t *d = b64_member(ctx, jwk, "d", false, &dl, &wipe);
    const uint8_t *p = d != NULL ? b64_member(ctx, jwk, "p", false, &pl, &wipe) : NULL;
    const uint8_t *q = d != NULL ? b64_member(ctx, jwk, "q", false, &ql, &wipe) : NULL;
    ew__ckey_t *k = ew__ckey_push_new(ctx, 0);
    int rc = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
    if (rc == 0)
        rc = mbedtls_rsa_import_raw(rsa, n, nl, p, pl, q, ql, d, dl, e, el);
    if (rc == 0)
        rc = mbedtls_rsa_complete(rsa);
    if (rc == 0)
        rc = d != NULL ? mbedtls_rsa_check_privkey(rsa) : mbedtls_rsa_check_pubkey(rsa);
    scratch_wipe(&wipe);
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "DataError", "Importing the RSA JWK", rc);
    ew__ckey_adopt_pk(ctx, k, alg, d != NULL ? EW__KEY_PRIVATE : EW__KEY_PUBLIC);
    ew__ckey_set_usages(ctx, k, usages, extractable);
}

static void import_ec(duk_context *ctx, duk_idx_t jwk, const ew__calg_t *alg, bool extractable, uint32_t usages)
{
    static const char *const es_names[] = {"ES256", "ES384", "ES512"};
    scratch_t wipe = {.n = 0};
    require_kty(ctx, jwk, "EC");
    const char *crv = str_member(ctx, jwk, "crv");
    if (crv == NULL || ew__calg_curve_from_name(crv) != alg->curve)
        (void) ew__domexception_throw(ctx, "DataError", "The JWK \"crv\" member must be \"%s\"",
                                      ew__calg_curve_name(alg->curve));
    duk_pop(ctx);
    int ci = alg->curve == MBEDTLS_ECP_DP_SECP256R1 ? 0 : alg->curve == MBEDTLS_ECP_DP_SECP384R1 ? 1 : 2;
    check_common(ctx, jwk, alg->id == EW__ALG_ECDSA ? es_names[ci] : "", extractable, usages);
    size_t xl, yl, dl = 0;
    const uint8_t *x = b64_member(ctx, jwk, "x", true, &xl, NULL);
    const uint8_t *y = b64_member(ctx, jwk, "y", true, &yl, NULL);
    const uint8_t *d = b64_member(ctx, jwk, "d", false, &dl, &wipe);
    ew__ckey_t *k = ew__ckey_push_new(ctx, 0);
    int rc = ew__ckey_ec_setup(k, alg->curve);
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    size_t plen = (ec->grp.pbits + 7) / 8;
    if (rc == 0 && (xl != plen || yl != plen))
        rc = MBEDTLS_ERR_ECP_INVALID_KEY;
    if (rc == 0 && (rc = mbedtls_mpi_read_binary(&ec->Q.X, x, xl)) == 0 &&
        (rc = mbedtls_mpi_read_binary(&ec->Q.Y, y, yl)) == 0 && (rc = mbedtls_mpi_lset(&ec->Q.Z, 1)) == 0)
        rc = mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q);
    if (rc == 0 && d != NULL && (rc = mbedtls_mpi_read_binary(&ec->d, d, dl)) == 0)
        rc = mbedtls_ecp_check_privkey(&ec->grp, &ec->d);
    scratch_wipe(&wipe);
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "DataError", "Importing the EC JWK", rc);
    ew__ckey_adopt_pk(ctx, k, alg, d != NULL ? EW__KEY_PRIVATE : EW__KEY_PUBLIC);
    ew__ckey_set_usages(ctx, k, usages, extractable);
}

void ew__jwk_import(duk_context *ctx, duk_idx_t jwk_idx, const ew__calg_t *alg, bool extractable, uint32_t usages)
{
    jwk_idx = duk_require_normalize_index(ctx, jwk_idx);
    switch (alg->id) {
    case EW__ALG_RSASSA:
    case EW__ALG_RSA_PSS:
    case EW__ALG_RSA_OAEP:
        import_rsa(ctx, jwk_idx, alg, extractable, usages);
        break;
    case EW__ALG_ECDSA:
    case EW__ALG_ECDH:
        import_ec(ctx, jwk_idx, alg, extractable, usages);
        break;
    case EW__ALG_HKDF:
    case EW__ALG_PBKDF2:
        (void) ew__domexception_throw(ctx, "NotSupportedError", "%s keys cannot be imported in jwk format",
                                      ew__calg_name(alg->id));
        break;
    default:
        import_oct(ctx, jwk_idx, alg, extractable, usages);
        break;
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Export
 */

/* Sets member `name` of the object on top to base64url(bytes). */
static void put_b64(duk_context *ctx, const char *name, const uint8_t *p, size_t len)
{
    char *out = duk_push_fixed_buffer(ctx, EW__BASE64_ENCODED_LEN(len) + 1);
    size_t n = ew__base64_encode(p, len, out, true);
    duk_push_lstring(ctx, out, n);
    mbedtls_platform_zeroize(out, n);
    duk_remove(ctx, -2);
    duk_put_prop_string(ctx, -2, name);
}

/* Sets member `name` to base64url of an MPI, big-endian in `size` bytes (0 = its own size). */
static int put_mpi(duk_context *ctx, const char *name, const mbedtls_mpi *x, size_t size)
{
    uint8_t buf[1024];
    if (size == 0)
        size = mbedtls_mpi_size(x);
    if (size > sizeof(buf))
        return MBEDTLS_ERR_MPI_BUFFER_TOO_SMALL;
    int rc = mbedtls_mpi_write_binary(x, buf, size);
    if (rc == 0)
        put_b64(ctx, name, buf, size);
    mbedtls_platform_zeroize(buf, size);
    return rc;
}

static int export_rsa(duk_context *ctx, ew__ckey_t *k)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
    int rc = put_mpi(ctx, "n", &rsa->N, 0);
    if (rc == 0)
        rc = put_mpi(ctx, "e", &rsa->E, 0);
    if (rc != 0 || k->type != EW__KEY_PRIVATE)
        return rc;
    mbedtls_mpi dp, dq, qi;
    mbedtls_mpi_init(&dp), mbedtls_mpi_init(&dq), mbedtls_mpi_init(&qi);
    rc = mbedtls_rsa_export_crt(rsa, &dp, &dq, &qi);
    if (rc == 0 && (rc = put_mpi(ctx, "d", &rsa->D, 0)) == 0 && (rc = put_mpi(ctx, "p", &rsa->P, 0)) == 0 &&
        (rc = put_mpi(ctx, "q", &rsa->Q, 0)) == 0 && (rc = put_mpi(ctx, "dp", &dp, 0)) == 0 &&
        (rc = put_mpi(ctx, "dq", &dq, 0)) == 0)
        rc = put_mpi(ctx, "qi", &qi, 0);
    mbedtls_mpi_free(&dp), mbedtls_mpi_free(&dq), mbedtls_mpi_free(&qi);
    return rc;
}

static int export_ec(duk_context *ctx, ew__ckey_t *k)
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    duk_push_string(ctx, ew__calg_curve_name(k->curve));
    duk_put_prop_literal(ctx, -2, "crv");
    size_t plen = (ec->grp.pbits + 7) / 8;
    int rc = put_mpi(ctx, "x", &ec->Q.X, plen);
    if (rc == 0)
        rc = put_mpi(ctx, "y", &ec->Q.Y, plen);
    if (rc == 0 && k->type == EW__KEY_PRIVATE)
        rc = put_mpi(ctx, "d", &ec->d, (ec->grp.nbits + 7) / 8);
    return rc;
}

void ew__jwk_export(duk_context *ctx, ew__ckey_t *k)
{
    static const char *const ktys[] = {"oct", "RSA", "EC"};
    bool rsa = k->alg == EW__ALG_RSASSA || k->alg == EW__ALG_RSA_PSS || k->alg == EW__ALG_RSA_OAEP;
    bool ec = k->alg == EW__ALG_ECDSA || k->alg == EW__ALG_ECDH;
    duk_push_object(ctx);
    duk_push_string(ctx, ktys[rsa ? 1 : ec ? 2 : 0]);
    duk_put_prop_literal(ctx, -2, "kty");
    int rc = 0;
    if (rsa)
        rc = export_rsa(ctx, k);
    else if (ec)
        rc = export_ec(ctx, k);
    else
        put_b64(ctx, "k", k->secret, k->len);
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "JWK export", rc);
    char alg[24];
    jwk_alg_name((ew__calg_id_t) k->alg, k->hash, k->len, alg, sizeof(alg));
    if (alg[0] != '\0') {
        duk_push_string(ctx, alg);
        duk_put_prop_literal(ctx, -2, "alg");
    }
    duk_push_array(ctx);
    duk_uarridx_t n = 0;
    for (int i = 0; i < EW__USE_COUNT; i++) {
        if (k->usages & (1u << i)) {
            duk_push_string(ctx, ew__usage_names[i]);
            duk_put_prop_index(ctx, -2, n++);
        }
    }
    duk_put_prop_literal(ctx, -2, "key_ops");
    duk_push_boolean(ctx, k->extractable);
    duk_put_prop_literal(ctx, -2, "ext");
}
