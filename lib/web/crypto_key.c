/*
 * crypto_key.c — CryptoKey (https://w3c.github.io/webcrypto/#cryptokey-interface): the C key behind each
 * key object, importKey/exportKey in the raw, spki and pkcs8 formats (JWK is crypto_jwk.c), and
 * generateKey.
 *
 * A CryptoKey is a plain object with CryptoKey.prototype and one hidden property, a pointer to a malloc'd
 * ew__ckey_t (crypto.h) holding the key material: raw bytes for secret keys, an mbedTLS pk context for RSA
 * and EC keys, parsed once at import so sign/verify do not reparse. The struct records the heap pointer of
 * its owner, so an object that merely inherits the hidden property (Object.create(key)) is not taken for
 * the key, and its finalizer frees only its own struct. Each key object carries the finalizer itself (not
 * through its prototype, which a script may replace): it zeroizes the material and frees it, also at heap
 * destruction. `algorithm` and `usages` are built on first access and cached, as the spec wants the same
 * object each time. The class is made lazily with SubtleCrypto (crypto.c).
 */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>

#include "crypto.h"

#define KEY_PTR DUK_HIDDEN_SYMBOL("kp")
#define KEY_ALG DUK_HIDDEN_SYMBOL("ka")
#define KEY_USAGES DUK_HIDDEN_SYMBOL("ku")
#define STASH_KEY DUK_HIDDEN_SYMBOL("pCK")
#define STASH_KEY_FIN DUK_HIDDEN_SYMBOL("fCK")

/* ---------------------------------------------------------------------------------------------------------
 * Lifecycle
 */

static void key_free(ew__ckey_t *k)
{
    mbedtls_pk_free(&k->pk);
    mbedtls_platform_zeroize(k, sizeof(*k) + k->len);
    free(k);
}

static duk_ret_t key_finalizer(duk_context *ctx)
{
    if (!duk_get_prop_literal(ctx, 0, KEY_PTR))
        return 0;
    ew__ckey_t *k = duk_get_pointer(ctx, -1);
    if (k == NULL || k->owner != duk_get_heapptr(ctx, 0))
        return 0;
    duk_push_pointer(ctx, NULL);
    duk_put_prop_literal(ctx, 0, KEY_PTR);
    key_free(k);
    return 0;
}

void ew__ckey_push_proto(duk_context *ctx)
{
    ew__dom_push_proto(ctx, STASH_KEY);
}

ew__ckey_t *ew__ckey_push_new(duk_context *ctx, size_t secret_len)
{
    duk_idx_t obj = duk_push_object(ctx);
    ew__ckey_push_proto(ctx);
    duk_set_prototype(ctx, obj);
    /* Create the property first: the later store of the real pointer then cannot fail to allocate, so the
     * struct is never left unowned. */
    duk_push_pointer(ctx, NULL);
    duk_put_prop_literal(ctx, obj, KEY_PTR);
    ew__dom_push_proto(ctx, STASH_KEY_FIN);
    duk_set_finalizer(ctx, obj);
    ew__ckey_t *k = calloc(1, sizeof(*k) + secret_len);
    if (k == NULL)
        (void) ew__domexception_throw(ctx, "OperationError", "out of memory for a key");
    mbedtls_pk_init(&k->pk);
    k->owner = duk_get_heapptr(ctx, obj);
    k->len = secret_len;
    duk_push_pointer(ctx, k);
    duk_put_prop_literal(ctx, obj, KEY_PTR);
    return k;
}

/* The key of the CryptoKey at idx, or NULL. */
static ew__ckey_t *key_get(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx))
        return NULL;
    duk_get_prop_literal(ctx, idx, KEY_PTR);
    ew__ckey_t *k = duk_get_pointer(ctx, -1);
    duk_pop(ctx);
    return k != NULL && k->owner == duk_get_heapptr(ctx, idx) ? k : NULL;
}

ew__ckey_t *ew__ckey_require(duk_context *ctx, duk_idx_t idx, const char *what)
{
    ew__ckey_t *k = key_get(ctx, idx);
    if (k == NULL)
        (void) duk_type_error(ctx, "%s is not a CryptoKey", what);
    return k;
}

static int usage_index(uint32_t usage)
{
    int i = 0;
    while (i < EW__USE_COUNT && (1u << i) != usage)
        i++;
    return i;
}

ew__ckey_t *ew__ckey_check(duk_context *ctx, duk_idx_t idx, ew__calg_id_t alg, uint32_t usage)
{
    ew__ckey_t *k = ew__ckey_require(ctx, idx, "key");
    if (k->alg != alg)
        (void) ew__domexception_throw(ctx, "InvalidAccessError",
                                      "The requested operation is not valid for the provided key: the key is "
                                      "for %s, not %s", ew__calg_name((ew__calg_id_t) k->alg), ew__calg_name(alg));
    if (!(k->usages & usage))
        (void) ew__domexception_throw(ctx, "InvalidAccessError",
                                      "The requested operation is not valid for the provided key: its usages do "
                                      "not include '%s'", ew__usage_names[usage_index(usage)]);
    return k;
}

void ew__ckey_set_usages(duk_context *ctx, ew__ckey_t *k, uint32_t usages, bool extractable)
{
    if (usages & ~ew__calg_usages((ew__calg_id_t) k->alg, k->type))
        (void) ew__domexception_throw(ctx, "SyntaxError", "Cannot create a key using the specified key usages.");
    if (usages == 0 && k->type != EW__KEY_PUBLIC)
        (void) ew__domexception_throw(ctx, "SyntaxError", "Usages cannot be empty when creating a key.");
    k->usages = usages;
    k->extractable = extractable;
}

/* ---------------------------------------------------------------------------------------------------------
 * CryptoKey accessors
 */

static ew__ckey_t *this_key(duk_context *ctx)
{
    duk_push_this(ctx);
    ew__ckey_t *k = key_get(ctx, -1);
    if (k == NULL)
        (void) duk_type_error(ctx, "Illegal invocation: this is not a CryptoKey");
    return k;
}

static duk_ret_t key_type(duk_context *ctx)
{
    static const char *const types[] = {"secret", "public", "private"};
    ew__web_push_static(ctx, types[this_key(ctx)->type]);
    return 1;
}

static duk_ret_t key_extractable(duk_context *ctx)
{
    duk_push_boolean(ctx, this_key(ctx)->extractable);
    return 1;
}

static void put_name_object(duk_context *ctx, const char *member, const char *name)
{
    duk_push_object(ctx);
    duk_push_string(ctx, name);
    duk_put_prop_literal(ctx, -2, "name");
    duk_put_prop_string(ctx, -2, member);
}

/* Pushes the KeyAlgorithm dictionary of k (RsaHashedKeyAlgorithm, EcKeyAlgorithm, ...). */
static void push_algorithm(duk_context *ctx, ew__ckey_t *k)
{
    duk_push_object(ctx);
    duk_push_string(ctx, ew__calg_name((ew__calg_id_t) k->alg));
    duk_put_prop_literal(ctx, -2, "name");
    switch (k->alg) {
    case EW__ALG_HMAC:
        put_name_object(ctx, "hash", ew__calg_hash_name(k->hash));
        /* fall through */
    case EW__ALG_AES_GCM:
    case EW__ALG_AES_CBC:
    case EW__ALG_AES_CTR:
    case EW__ALG_AES_KW:
        duk_push_uint(ctx, (duk_uint_t) k->len * 8);
        duk_put_prop_literal(ctx, -2, "length");
        break;
    case EW__ALG_RSASSA:
    case EW__ALG_RSA_PSS:
    case EW__ALG_RSA_OAEP: {
        mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
        duk_push_uint(ctx, (duk_uint_t) mbedtls_pk_get_bitlen(&k->pk));
        duk_put_prop_literal(ctx, -2, "modulusLength");
        size_t n = mbedtls_mpi_size(&rsa->E);
        uint8_t *e = duk_push_fixed_buffer(ctx, n);
        mbedtls_mpi_write_binary(&rsa->E, e, n);
        duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_UINT8ARRAY);
        duk_remove(ctx, -2);
        duk_put_prop_literal(ctx, -2, "publicExponent");
        put_name_object(ctx, "hash", ew__calg_hash_name(k->hash));
        break;
    }
    case EW__ALG_ECDSA:
    case EW__ALG_ECDH:
        duk_push_string(ctx, ew__calg_curve_name(k->curve));
        duk_put_prop_literal(ctx, -2, "namedCurve");
        break;
    default:
        break;
    }
}

static duk_ret_t key_algorithm(duk_context *ctx)
{
    ew__ckey_t *k = this_key(ctx);
    if (duk_get_prop_literal(ctx, -1, KEY_ALG))
        return 1;
    duk_pop(ctx);
    push_algorithm(ctx, k);
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, -3, KEY_ALG);
    return 1;
}

static duk_ret_t key_usages(duk_context *ctx)
{
    ew__ckey_t *k = this_key(ctx);
    if (duk_get_prop_literal(ctx, -1, KEY_USAGES))
        return 1;
    duk_pop(ctx);
    duk_push_array(ctx);
    duk_uarridx_t n = 0;
    for (int i = 0; i < EW__USE_COUNT; i++) {
        if (k->usages & (1u << i)) {
            duk_push_string(ctx, ew__usage_names[i]);
            duk_put_prop_index(ctx, -2, n++);
        }
    }
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, -3, KEY_USAGES);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * Import: raw, spki, pkcs8 (jwk: crypto_jwk.c)
 */

static bool alg_is_rsa(int alg)
{
    return alg == EW__ALG_RSASSA || alg == EW__ALG_RSA_PSS || alg == EW__ALG_RSA_OAEP;
}

static bool alg_is_ec(int alg)
{
    return alg == EW__ALG_ECDSA || alg == EW__ALG_ECDH;
}

/* Secret keys from raw bytes: HMAC, AES-*, HKDF, PBKDF2. */
static void import_secret(duk_context *ctx, const uint8_t *p, size_t len, const ew__calg_t *alg, bool extractable,
                          uint32_t usages)
{
    bool aes = alg->id >= EW__ALG_AES_GCM && alg->id <= EW__ALG_AES_KW;
    if (aes && len != 16 && len != 24 && len != 32)
        (void) ew__domexception_throw(ctx, "DataError", "Imported AES key length must be 128, 192 or 256 bits but "
                                                         "provided %lu.", (unsigned long) len * 8);
    if (alg->id == EW__ALG_HMAC && len == 0)
        (void) ew__domexception_throw(ctx, "DataError", "HMAC key data must not be empty");
    if (alg->id == EW__ALG_HMAC && alg->has_length && alg->length != len * 8)
        (void) ew__domexception_throw(ctx, "DataError", "HMAC key length (%u bits) does not match the key data "
                                                         "(%lu bits)", (unsigned) alg->length, (unsigned long) len * 8);
    if ((alg->id == EW__ALG_HKDF || alg->id == EW__ALG_PBKDF2) && extractable)
        (void) ew__domexception_throw(ctx, "SyntaxError", "%s keys cannot be extractable", ew__calg_name(alg->id));
    ew__ckey_t *k = ew__ckey_push_new(ctx, len);
    memcpy(k->secret, p, len);
    k->alg = (uint8_t) alg->id;
    k->type = EW__KEY_SECRET;
    k->hash = alg->hash;
    ew__ckey_set_usages(ctx, k, usages, extractable);
}

int ew__ckey_ec_setup(ew__ckey_t *k, mbedtls_ecp_group_id curve)
{
    int rc = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_group_load(&mbedtls_pk_ec(k->pk)->grp, curve);
    k->curve = curve;
    return rc;
}

/* EC public key from an uncompressed point. */
static void import_ec_raw(duk_context *ctx, const uint8_t *p, size_t len, const ew__calg_t *alg, bool extractable,
                          uint32_t usages)
{
    ew__ckey_t *k = ew__ckey_push_new(ctx, 0);
    k->alg = (uint8_t) alg->id;
    k->type = EW__KEY_PUBLIC;
    int rc = ew__ckey_ec_setup(k, alg->curve);
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "EC setup", rc);
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    if (mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, p, len) != 0 || mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q) != 0)
        (void) ew__domexception_throw(ctx, "DataError", "Invalid EC public key: expected an uncompressed %s point",
                                      ew__calg_curve_name(alg->curve));
    ew__ckey_set_usages(ctx, k, usages, extractable);
}

/* Checks a parsed pk against the algorithm (RSA or EC on the named curve); sets type and curve. */
void ew__ckey_adopt_pk(duk_context *ctx, ew__ckey_t *k, const ew__calg_t *alg, int type)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&k->pk);
    k->alg = (uint8_t) alg->id;
    k->type = (uint8_t) type;
    k->hash = alg->hash;
    if (alg_is_rsa(alg->id) && t != MBEDTLS_PK_RSA)
        (void) ew__domexception_throw(ctx, "DataError", "The key is not an RSA key");
    if (alg_is_ec(alg->id)) {
        if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECKEY_DH)
            (void) ew__domexception_throw(ctx, "DataError", "The key is not an EC key");
        k->curve = mbedtls_pk_ec(k->pk)->grp.id;
        if (k->curve != alg->curve)
            (void) ew__domexception_throw(ctx, "DataError", "The key's curve (%s) does not match namedCurve %s",
                                          ew__calg_curve_name(k->curve), ew__calg_curve_name(alg->curve));
    }
}

static void import_der(duk_context *ctx, bool private_key, const uint8_t *p, size_t len, const ew__calg_t *alg,
                       bool extractable, uint32_t usages)
{
    if (!alg_is_rsa(alg->id) && !alg_is_ec(alg->id))
        (void) ew__domexception_throw(ctx, "NotSupportedError", "%s keys cannot be imported in %s format",
                                      ew__calg_name(alg->id), private_key ? "pkcs8" : "spki");
    ew__ckey_t *k = ew__ckey_push_new(ctx, 0);
    int rc = private_key ? mbedtls_pk_parse_key(&k->pk, p, len, NULL, 0) : mbedtls_pk_parse_public_key(&k->pk, p, len);
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "DataError", private_key ? "Parsing the pkcs8 key" : "Parsing the spki key", rc);
    ew__ckey_adopt_pk(ctx, k, alg, private_key ? EW__KEY_PRIVATE : EW__KEY_PUBLIC);
    ew__ckey_set_usages(ctx, k, usages, extractable);
}

void ew__ckey_import(duk_context *ctx, const char *format, duk_idx_t data_idx, const ew__calg_t *alg,
                     bool extractable, uint32_t usages)
{
    if (strcmp(format, "jwk") == 0) {
        if (!duk_is_object(ctx, data_idx) || duk_is_buffer_data(ctx, data_idx))
            (void) duk_type_error(ctx, "keyData must be a JsonWebKey object for the jwk format");
        ew__jwk_import(ctx, data_idx, alg, extractable, usages);
        return;
    }
    size_t len;
    const uint8_t *p = ew__dom_require_bytes(ctx, data_idx, &len, "keyData");
    if (strcmp(format, "raw") == 0) {
        if (alg_is_ec(alg->id))
            import_ec_raw(ctx, p, len, alg, extractable, usages);
        else if (alg_is_rsa(alg->id))
            (void) ew__domexception_throw(ctx, "NotSupportedError", "RSA keys cannot be imported in raw format");
        else
            import_secret(ctx, p, len, alg, extractable, usages);
    } else if (strcmp(format, "spki") == 0 || strcmp(format, "pkcs8") == 0) {
        import_der(ctx, format[0] == 'p', p, len, alg, extractable, usages);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * Export
 */

/* Wraps the PKCS#1 or SEC1 private key mbedTLS writes at the end of buf into a PKCS#8 PrivateKeyInfo
 * (RFC 5208): SEQUENCE { INTEGER 0, AlgorithmIdentifier, OCTET STRING key }. Returns its length (it ends at
 * buf + size) or an mbedTLS error. */
static int write_pkcs8(ew__ckey_t *k, uint8_t *buf, size_t size)
{
    int ret = mbedtls_pk_write_key_der(&k->pk, buf, size);
    if (ret < 0)
        return ret;
    size_t len = (size_t) ret, par_len = 0;
    unsigned char *p = buf + size - len;
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_OCTET_STRING));
    const char *oid;
    size_t oid_len;
    if (alg_is_rsa(k->alg)) {
        oid = MBEDTLS_OID_PKCS1_RSA; /* par_len 0: the writer adds the NULL parameters itself */
        oid_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_RSA);
    } else {
        const char *coid;
        size_t clen;
        if ((ret = mbedtls_oid_get_oid_by_ec_grp(k->curve, &coid, &clen)) != 0)
            return ret;
        MBEDTLS_ASN1_CHK_ADD(par_len, mbedtls_asn1_write_oid(&p, buf, coid, clen));
        oid = MBEDTLS_OID_EC_ALG_UNRESTRICTED;
        oid_len = MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_ALG_UNRESTRICTED);
    }
    /* The count it returns includes the parameters written just above. */
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_algorithm_identifier(&p, buf, oid, oid_len, par_len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_int(&p, buf, 0));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
    MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    return (int) len;
}

/* spki or pkcs8 DER into a scratch buffer, copied out to an ArrayBuffer; the scratch is zeroized. */
static void export_der(duk_context *ctx, ew__ckey_t *k, bool private_key)
{
    if (!alg_is_rsa(k->alg) && !alg_is_ec(k->alg))
        (void) ew__domexception_throw(ctx, "NotSupportedError", "%s keys cannot be exported in %s format",
                                      ew__calg_name((ew__calg_id_t) k->alg), private_key ? "pkcs8" : "spki");
    if (k->type != (private_key ? EW__KEY_PRIVATE : EW__KEY_PUBLIC))
        (void) ew__domexception_throw(ctx, "InvalidAccessError", "Only %s keys can be exported in %s format",
                                      private_key ? "private" : "public", private_key ? "pkcs8" : "spki");
    size_t size = 16384;
    uint8_t *buf = duk_push_fixed_buffer(ctx, size);
    int n = private_key ? write_pkcs8(k, buf, size) : mbedtls_pk_write_pubkey_der(&k->pk, buf, size);
    if (n < 0) {
        mbedtls_platform_zeroize(buf, size);
        (void) ew__crypto_fail(ctx, "OperationError", "Key export", n);
    }
    ew__crypto_push_ab(ctx, buf + size - (size_t) n, (size_t) n);
    mbedtls_platform_zeroize(buf, size);
    duk_remove(ctx, -2);
}

void ew__ckey_export(duk_context *ctx, const char *format, duk_idx_t key_idx)
{
    ew__ckey_t *k = ew__ckey_require(ctx, key_idx, "key");
    if (!k->extractable)
        (void) ew__domexception_throw(ctx, "InvalidAccessError", "The key is not extractable");
    if (strcmp(format, "jwk") == 0) {
        if (k->alg == EW__ALG_HKDF || k->alg == EW__ALG_PBKDF2)
            (void) ew__domexception_throw(ctx, "NotSupportedError", "%s keys cannot be exported",
                                          ew__calg_name((ew__calg_id_t) k->alg));
        ew__jwk_export(ctx, k);
    } else if (strcmp(format, "raw") == 0) {
        if (alg_is_ec(k->alg) && k->type == EW__KEY_PUBLIC) {
            mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
            uint8_t pt[1 + 2 * 66];
            size_t n;
            int rc = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, pt, sizeof(pt));
            if (rc != 0)
                (void) ew__crypto_fail(ctx, "OperationError", "Key export", rc);
            ew__crypto_push_ab(ctx, pt, n);
        } else if (k->type == EW__KEY_SECRET && k->alg != EW__ALG_HKDF && k->alg != EW__ALG_PBKDF2) {
            ew__crypto_push_ab(ctx, k->secret, k->len);
        } else {
            (void) ew__domexception_throw(ctx, "InvalidAccessError", "This key cannot be exported in raw format");
        }
    } else {
        export_der(ctx, k, strcmp(format, "pkcs8") == 0);
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * generateKey
 */

/* Default HMAC key length: the hash's block size. */
static size_t hmac_default_bytes(mbedtls_md_type_t h)
{
    return h == MBEDTLS_MD_SHA384 || h == MBEDTLS_MD_SHA512 ? 128 : 64;
}

static void generate_secret(duk_context *ctx, const ew__calg_t *alg, bool extractable, uint32_t usages)
{
    size_t bits;
    if (alg->id == EW__ALG_HMAC) {
        bits = alg->has_length ? alg->length : hmac_default_bytes(alg->hash) * 8;
        if (bits == 0 || bits % 8 != 0)
            (void) ew__domexception_throw(ctx, "OperationError", "HMAC key length must be a non-zero multiple of 8");
    } else {
        bits = alg->length;
        if (bits != 128 && bits != 192 && bits != 256)
            (void) ew__domexception_throw(ctx, "OperationError", "AES key length must be 128, 192 or 256 bits");
    }
    ew__ckey_t *k = ew__ckey_push_new(ctx, bits / 8);
    k->alg = (uint8_t) alg->id;
    k->type = EW__KEY_SECRET;
    k->hash = alg->hash;
    ew__ckey_set_usages(ctx, k, usages, extractable);
    int rc = ew__crypto_rng(NULL, k->secret, k->len);
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "Key generation", rc);
}

/* Fills pub with the public half of the private key priv. */
static int copy_public(const ew__ckey_t *priv, ew__ckey_t *pub)
{
    int rc = mbedtls_pk_setup(&pub->pk, mbedtls_pk_info_from_type(mbedtls_pk_get_type(&priv->pk)));
    if (rc != 0)
        return rc;
    if (mbedtls_pk_get_type(&priv->pk) == MBEDTLS_PK_RSA) {
        mbedtls_rsa_context *s = mbedtls_pk_rsa(priv->pk), *d = mbedtls_pk_rsa(pub->pk);
        if ((rc = mbedtls_rsa_import(d, &s->N, NULL, NULL, NULL, &s->E)) == 0)
            rc = mbedtls_rsa_complete(d);
        return rc;
    }
    mbedtls_ecp_keypair *s = mbedtls_pk_ec(priv->pk), *d = mbedtls_pk_ec(pub->pk);
    if ((rc = mbedtls_ecp_group_copy(&d->grp, &s->grp)) == 0)
        rc = mbedtls_ecp_copy(&d->Q, &s->Q);
    return rc;
}

/* RSA or EC: pushes { publicKey, privateKey }. */
static void generate_pair(duk_context *ctx, const ew__calg_t *alg, bool extractable, uint32_t usages)
{
    uint32_t pub_ok = ew__calg_usages(alg->id, EW__KEY_PUBLIC), priv_ok = ew__calg_usages(alg->id, EW__KEY_PRIVATE);
    if (usages & ~(pub_ok | priv_ok))
        (void) ew__domexception_throw(ctx, "SyntaxError", "Cannot create a key using the specified key usages.");
    duk_idx_t pair = duk_push_object(ctx);
    ew__ckey_t *priv = ew__ckey_push_new(ctx, 0);
    priv->alg = (uint8_t) alg->id;
    priv->type = EW__KEY_PRIVATE;
    priv->hash = alg->hash;
    ew__ckey_set_usages(ctx, priv, usages & priv_ok, extractable);
    int rc;
    if (alg_is_rsa(alg->id)) {
        uint32_t e = 0;
        for (size_t i = 0; i < alg->exponent_len; i++)
            e = (e > 0xFFFFFF) ? 0xFFFFFFFF : e << 8 | alg->exponent[i];
        if (e < 3 || e % 2 == 0 || e > 0x7FFFFFFF || alg->modulus_length < 512 || alg->modulus_length > 8192 ||
            alg->modulus_length % 8 != 0)
            (void) ew__domexception_throw(ctx, "OperationError", "Unsupported RSA modulusLength or publicExponent");
        rc = mbedtls_pk_setup(&priv->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
        if (rc == 0)
            rc = mbedtls_rsa_gen_key(mbedtls_pk_rsa(priv->pk), ew__crypto_rng, NULL, alg->modulus_length, (int) e);
    } else {
        rc = ew__ckey_ec_setup(priv, alg->curve);
        if (rc == 0)
            rc = mbedtls_ecp_gen_key(alg->curve, mbedtls_pk_ec(priv->pk), ew__crypto_rng, NULL);
    }
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "Key generation", rc);
    ew__ckey_t *pub = ew__ckey_push_new(ctx, 0);
    pub->alg = priv->alg;
    pub->type = EW__KEY_PUBLIC;
    pub->hash = priv->hash;
    pub->curve = priv->curve;
    ew__ckey_set_usages(ctx, pub, usages & pub_ok, true);
    if ((rc = copy_public(priv, pub)) != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "Key generation", rc);
    duk_put_prop_literal(ctx, pair, "publicKey");
    duk_put_prop_literal(ctx, pair, "privateKey");
}

/* generateKey(algorithm, extractable, keyUsages) */
duk_ret_t ew__crypto_generate_key(duk_context *ctx)
{
    ew__calg_t alg;
    ew__calg_read(ctx, 0, EW__OP_GENERATE, &alg);
    bool extractable = duk_to_boolean(ctx, 1);
    uint32_t usages = ew__calg_read_usages(ctx, 2);
    if (alg_is_rsa(alg.id) || alg_is_ec(alg.id))
        generate_pair(ctx, &alg, extractable, usages);
    else
        generate_secret(ctx, &alg, extractable, usages);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * importKey / exportKey
 */

/* Reads the KeyFormat enum at idx (TypeError for other strings, as WebIDL). */
const char *ew__ckey_read_format(duk_context *ctx, duk_idx_t idx)
{
    static const char *const formats[] = {"raw", "spki", "pkcs8", "jwk"};
    const char *s = duk_to_string(ctx, idx);
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(formats[i], s) == 0)
            return formats[i];
    }
    (void) duk_type_error(ctx, "'%s' is not a valid KeyFormat", s);
    return NULL;
}

/* importKey(format, keyData, algorithm, extractable, keyUsages) */
duk_ret_t ew__crypto_import_key(duk_context *ctx)
{
    const char *format = ew__ckey_read_format(ctx, 0);
    ew__calg_t alg;
    ew__calg_read(ctx, 2, EW__OP_IMPORT, &alg);
    bool extractable = duk_to_boolean(ctx, 3);
    uint32_t usages = ew__calg_read_usages(ctx, 4);
    ew__ckey_import(ctx, format, 1, &alg, extractable, usages);
    return 1;
}

/* exportKey(format, key) */
duk_ret_t ew__crypto_export_key(duk_context *ctx)
{
    const char *format = ew__ckey_read_format(ctx, 0);
    ew__ckey_export(ctx, format, 1);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * JS surface (the class is made on first use of crypto.subtle or the global CryptoKey: crypto.c)
 *
 *   CryptoKey()                        illegal_ctor (TypeError)
 *   CryptoKey.prototype.type           key_type         getter: "secret" | "public" | "private"
 *   CryptoKey.prototype.extractable    key_extractable  getter
 *   CryptoKey.prototype.algorithm      key_algorithm    getter, cached KeyAlgorithm dictionary
 *   CryptoKey.prototype.usages         key_usages       getter, cached array
 */

static duk_ret_t illegal_ctor(duk_context *ctx)
{
    return duk_type_error(ctx, "Illegal constructor");
}

static const ew__getter_t key_getters[] = {
    {"type", key_type},
    {"extractable", key_extractable},
    {"algorithm", key_algorithm},
    {"usages", key_usages},
    {NULL, NULL},
};

static const ew__class_t key_class = {
    .name = "CryptoKey",
    .ctor = illegal_ctor,
    .getters = key_getters,
};

void ew__ckey_def_class(duk_context *ctx)
{
    duk_push_global_object(ctx);
    ew__dom_def_class(ctx, -1, &key_class, STASH_KEY);
    duk_push_global_stash(ctx);
    duk_push_c_function(ctx, key_finalizer, 2);
    duk_put_prop_literal(ctx, -2, STASH_KEY_FIN);
    duk_pop_3(ctx);
}
