/*
 * crypto_alg.c — WebCrypto's "normalize an algorithm" (https://w3c.github.io/webcrypto/#algorithm-normalization)
 * for the algorithms libedgeworker implements, and the key-usage tables.
 *
 * An AlgorithmIdentifier (a name, or a dictionary with a name and members) becomes one flat C struct,
 * ew__calg_t, holding the members the operation reads, converted as WebIDL says: [EnforceRange] integers,
 * BufferSource bytes (pointers into buffers this code leaves on the value stack, so they live as long as
 * the operation) and nested hash identifiers. Which members are read depends on the algorithm and the
 * operation, as in the spec's registry of dictionary types. Ed25519 and X25519 are recognized only to say
 * plainly that they are not supported: mbedTLS 2.28 implements neither. Called by crypto.c, crypto_key.c
 * and crypto_ops.c (crypto.h).
 */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"

const char *const ew__usage_names[EW__USE_COUNT] = {
    "encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey",
};

static const char *const alg_names[EW__ALG_COUNT] = {
    [EW__ALG_HMAC] = "HMAC",       [EW__ALG_AES_GCM] = "AES-GCM", [EW__ALG_AES_CBC] = "AES-CBC",
    [EW__ALG_AES_CTR] = "AES-CTR", [EW__ALG_AES_KW] = "AES-KW",   [EW__ALG_RSASSA] = "RSASSA-PKCS1-v1_5",
    [EW__ALG_RSA_PSS] = "RSA-PSS", [EW__ALG_RSA_OAEP] = "RSA-OAEP", [EW__ALG_ECDSA] = "ECDSA",
    [EW__ALG_ECDH] = "ECDH",       [EW__ALG_HKDF] = "HKDF",       [EW__ALG_PBKDF2] = "PBKDF2",
};

/* Operations each algorithm supports (bit per ew__cop_t), from the spec's registry. */
#define B(op) (1u << (op))
static const uint32_t alg_ops[EW__ALG_COUNT] = {
    [EW__ALG_HMAC] = B(EW__OP_SIGN) | B(EW__OP_VERIFY) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT) |
                     B(EW__OP_GET_KEY_LENGTH),
    [EW__ALG_AES_GCM] = B(EW__OP_ENCRYPT) | B(EW__OP_DECRYPT) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT) |
                        B(EW__OP_GET_KEY_LENGTH),
    [EW__ALG_AES_CBC] = B(EW__OP_ENCRYPT) | B(EW__OP_DECRYPT) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT) |
                        B(EW__OP_GET_KEY_LENGTH),
    [EW__ALG_AES_CTR] = B(EW__OP_ENCRYPT) | B(EW__OP_DECRYPT) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT) |
                        B(EW__OP_GET_KEY_LENGTH),
    [EW__ALG_AES_KW] = B(EW__OP_WRAP) | B(EW__OP_UNWRAP) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT) |
                       B(EW__OP_GET_KEY_LENGTH),
    [EW__ALG_RSASSA] = B(EW__OP_SIGN) | B(EW__OP_VERIFY) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT),
    [EW__ALG_RSA_PSS] = B(EW__OP_SIGN) | B(EW__OP_VERIFY) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT),
    [EW__ALG_RSA_OAEP] = B(EW__OP_ENCRYPT) | B(EW__OP_DECRYPT) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT),
    [EW__ALG_ECDSA] = B(EW__OP_SIGN) | B(EW__OP_VERIFY) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT),
    [EW__ALG_ECDH] = B(EW__OP_DERIVE_BITS) | B(EW__OP_GENERATE) | B(EW__OP_IMPORT),
    [EW__ALG_HKDF] = B(EW__OP_DERIVE_BITS) | B(EW__OP_IMPORT) | B(EW__OP_GET_KEY_LENGTH),
    [EW__ALG_PBKDF2] = B(EW__OP_DERIVE_BITS) | B(EW__OP_IMPORT) | B(EW__OP_GET_KEY_LENGTH),
};

static const char *const op_names[] = {
    "encrypt", "decrypt", "sign", "verify", "digest", "generateKey", "importKey", "deriveBits",
    "get key length", "wrapKey", "unwrapKey",
};

const char *ew__calg_name(ew__calg_id_t id)
{
    return id > EW__ALG_NONE && id < EW__ALG_COUNT ? alg_names[id] : "";
}

static const struct {
    const char *name;
    mbedtls_md_type_t md;
} hashes[] = {
    {"SHA-1", MBEDTLS_MD_SHA1},     {"SHA-256", MBEDTLS_MD_SHA256}, {"SHA-384", MBEDTLS_MD_SHA384},
    {"SHA-512", MBEDTLS_MD_SHA512}, {"MD5", MBEDTLS_MD_MD5},
};

const char *ew__calg_hash_name(mbedtls_md_type_t hash)
{
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        if (hashes[i].md == hash)
            return hashes[i].name;
    }
    return "";
}

static const struct {
    const char *name;
    mbedtls_ecp_group_id id;
} curves[] = {
    {"P-256", MBEDTLS_ECP_DP_SECP256R1},
    {"P-384", MBEDTLS_ECP_DP_SECP384R1},
    {"P-521", MBEDTLS_ECP_DP_SECP521R1},
};

const char *ew__calg_curve_name(mbedtls_ecp_group_id curve)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (curves[i].id == curve)
            return curves[i].name;
    }
    return "";
}

mbedtls_ecp_group_id ew__calg_curve_from_name(const char *s)
{
    for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(curves[i].name, s) == 0)
            return curves[i].id;
    }
    return MBEDTLS_ECP_DP_NONE;
}

/* Pushes the name of the AlgorithmIdentifier at idx (its "name" member, or the string itself), ToString'd;
 * TypeError when an object has no name. */
static const char *push_name(duk_context *ctx, duk_idx_t idx)
{
    if (duk_is_object(ctx, idx)) {
        duk_get_prop_literal(ctx, idx, "name");
        if (duk_is_undefined(ctx, -1))
            (void) duk_type_error(ctx, "Algorithm: name: Missing or not a string");
    } else if (duk_is_string(ctx, idx)) {
        duk_dup(ctx, idx);
    } else {
        (void) duk_type_error(ctx, "Algorithm: must be a string or an object with a name");
    }
    return duk_to_string(ctx, -1);
}

mbedtls_md_type_t ew__calg_read_hash(duk_context *ctx, duk_idx_t idx, bool allow_md5)
{
    const char *name = push_name(ctx, idx);
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
        if (strcasecmp(hashes[i].name, name) == 0 && (allow_md5 || hashes[i].md != MBEDTLS_MD_MD5)) {
            duk_pop(ctx);
            return hashes[i].md;
        }
    }
    return (mbedtls_md_type_t) ew__domexception_throw(ctx, "NotSupportedError", "Unrecognized hash algorithm name: %s",
                                                      name);
}

/* ---------------------------------------------------------------------------------------------------------
 * Dictionary members
 */

/* Pushes member `name` of the dictionary at idx (undefined for a string identifier); returns true if it
 * is present. A required member that is missing is a TypeError. */
static bool member(duk_context *ctx, duk_idx_t idx, const char *name, bool required)
{
    if (duk_is_object(ctx, idx))
        duk_get_prop_string(ctx, idx, name);
    else
        duk_push_undefined(ctx);
    if (duk_is_undefined(ctx, -1)) {
        if (required)
            (void) duk_type_error(ctx, "Algorithm: required member '%s' is missing", name);
        return false;
    }
    return true;
}

/* [EnforceRange] unsigned integer member up to max; the value is popped. */
static bool member_uint(duk_context *ctx, duk_idx_t idx, const char *name, bool required, double max, uint32_t *out)
{
    if (!member(ctx, idx, name, required)) {
        duk_pop(ctx);
        return false;
    }
    double v = duk_to_number(ctx, -1);
    duk_pop(ctx);
    if (!isfinite(v) || trunc(v) < 0 || trunc(v) > max)
        (void) duk_type_error(ctx, "Algorithm: member '%s' is out of range", name);
    *out = (uint32_t) trunc(v);
    return true;
}

/* BufferSource member; the value stays pushed (it keeps the bytes alive). */
static bool member_bytes(duk_context *ctx, duk_idx_t idx, const char *name, bool required, const uint8_t **p,
                         size_t *len)
{
    if (!member(ctx, idx, name, required))
        return false;
    *p = ew__dom_require_bytes(ctx, -1, len, name);
    return true;
}

static void member_hash(duk_context *ctx, duk_idx_t idx, ew__calg_t *alg)
{
    member(ctx, idx, "hash", true);
    alg->hash = ew__calg_read_hash(ctx, -1, false);
    duk_pop(ctx);
}

static void member_curve(duk_context *ctx, duk_idx_t idx, ew__calg_t *alg)
{
    member(ctx, idx, "namedCurve", true);
    const char *s = duk_to_string(ctx, -1);
    alg->curve = ew__calg_curve_from_name(s);
    if (alg->curve == MBEDTLS_ECP_DP_NONE)
        (void) ew__domexception_throw(ctx, "NotSupportedError", "Unrecognized or unsupported EC curve: %s", s);
    duk_pop(ctx);
}

/* Reads the members of an RSA or EC algorithm for op. */
static void read_asym(duk_context *ctx, duk_idx_t idx, ew__cop_t op, ew__calg_t *alg)
{
    bool rsa = alg->id == EW__ALG_RSASSA || alg->id == EW__ALG_RSA_PSS || alg->id == EW__ALG_RSA_OAEP;
    if (op == EW__OP_GENERATE && rsa) {
        member_uint(ctx, idx, "modulusLength", true, 4294967295.0, &alg->modulus_length);
        member_bytes(ctx, idx, "publicExponent", true, &alg->exponent, &alg->exponent_len);
    }
    if ((op == EW__OP_GENERATE || op == EW__OP_IMPORT) && rsa)
        member_hash(ctx, idx, alg);
    if ((op == EW__OP_GENERATE || op == EW__OP_IMPORT) && !rsa)
        member_curve(ctx, idx, alg);
    if ((op == EW__OP_SIGN || op == EW__OP_VERIFY) && alg->id == EW__ALG_RSA_PSS)
        member_uint(ctx, idx, "saltLength", true, 4294967295.0, &alg->salt_length);
    if ((op == EW__OP_SIGN || op == EW__OP_VERIFY) && alg->id == EW__ALG_ECDSA)
        member_hash(ctx, idx, alg);
    if ((op == EW__OP_ENCRYPT || op == EW__OP_DECRYPT) && alg->id == EW__ALG_RSA_OAEP)
        alg->has_data = member_bytes(ctx, idx, "label", false, &alg->data, &alg->data_len);
    if (op == EW__OP_DERIVE_BITS && alg->id == EW__ALG_ECDH) {
        member(ctx, idx, "public", true);
        alg->public_idx = duk_get_top_index(ctx);
    }
}

/* Reads the members of a symmetric algorithm for op. */
static void read_sym(duk_context *ctx, duk_idx_t idx, ew__cop_t op, ew__calg_t *alg)
{
    bool aes = alg->id >= EW__ALG_AES_GCM && alg->id <= EW__ALG_AES_KW;
    if (aes && (op == EW__OP_GENERATE || op == EW__OP_GET_KEY_LENGTH))
        alg->has_length = member_uint(ctx, idx, "length", true, 65535, &alg->length);
    if (alg->id == EW__ALG_HMAC && (op == EW__OP_GENERATE || op == EW__OP_IMPORT || op == EW__OP_GET_KEY_LENGTH)) {
        member_hash(ctx, idx, alg);
        alg->has_length = member_uint(ctx, idx, "length", false, 4294967295.0, &alg->length);
    }
    if (op == EW__OP_ENCRYPT || op == EW__OP_DECRYPT) {
        if (alg->id == EW__ALG_AES_CTR) {
            member_bytes(ctx, idx, "counter", true, &alg->iv, &alg->iv_len);
            alg->has_length = member_uint(ctx, idx, "length", true, 255, &alg->length);
        } else {
            member_bytes(ctx, idx, "iv", true, &alg->iv, &alg->iv_len);
        }
        if (alg->id == EW__ALG_AES_GCM) {
            alg->has_data = member_bytes(ctx, idx, "additionalData", false, &alg->data, &alg->data_len);
            if (!member_uint(ctx, idx, "tagLength", false, 255, &alg->tag_length))
                alg->tag_length = 128;
        }
    }
    if (op == EW__OP_DERIVE_BITS && alg->id == EW__ALG_HKDF) {
        member_hash(ctx, idx, alg);
        member_bytes(ctx, idx, "salt", true, &alg->salt, &alg->salt_len);
        alg->has_data = member_bytes(ctx, idx, "info", true, &alg->data, &alg->data_len);
    }
    if (op == EW__OP_DERIVE_BITS && alg->id == EW__ALG_PBKDF2) {
        member_hash(ctx, idx, alg);
        member_bytes(ctx, idx, "salt", true, &alg->salt, &alg->salt_len);
        member_uint(ctx, idx, "iterations", true, 4294967295.0, &alg->iterations);
    }
}

void ew__calg_read(duk_context *ctx, duk_idx_t idx, ew__cop_t op, ew__calg_t *alg)
{
    idx = duk_require_normalize_index(ctx, idx);
    memset(alg, 0, sizeof(*alg));
    alg->public_idx = DUK_INVALID_INDEX;
    const char *name = push_name(ctx, idx);
    for (int i = EW__ALG_NONE + 1; i < EW__ALG_COUNT; i++) {
        if (strcasecmp(alg_names[i], name) == 0)
            alg->id = (ew__calg_id_t) i;
    }
    if (alg->id == EW__ALG_NONE) {
        if (strcasecmp(name, "Ed25519") == 0 || strcasecmp(name, "NODE-ED25519") == 0 ||
            strcasecmp(name, "X25519") == 0 || strcasecmp(name, "Ed448") == 0 || strcasecmp(name, "X448") == 0)
            (void) ew__domexception_throw(ctx, "NotSupportedError",
                                          "%s is not supported: libedgeworker's crypto library (mbedTLS 2.28) "
                                          "does not implement it", name);
        (void) ew__domexception_throw(ctx, "NotSupportedError", "Unrecognized name: %s", name);
    }
    if (!(alg_ops[alg->id] & B(op)))
        (void) ew__domexception_throw(ctx, "NotSupportedError", "%s does not support the %s operation",
                                      alg_names[alg->id], op_names[op]);
    duk_pop(ctx);
    if (alg->id >= EW__ALG_RSASSA && alg->id <= EW__ALG_ECDH)
        read_asym(ctx, idx, op, alg);
    else
        read_sym(ctx, idx, op, alg);
}

void ew__calg_read_wrap(duk_context *ctx, duk_idx_t idx, bool unwrap, ew__calg_t *alg)
{
    idx = duk_require_normalize_index(ctx, idx);
    bool kw = strcasecmp(push_name(ctx, idx), "AES-KW") == 0;
    duk_pop(ctx);
    if (kw)
        ew__calg_read(ctx, idx, unwrap ? EW__OP_UNWRAP : EW__OP_WRAP, alg);
    else
        ew__calg_read(ctx, idx, unwrap ? EW__OP_DECRYPT : EW__OP_ENCRYPT, alg);
}

/* ---------------------------------------------------------------------------------------------------------
 * Usages
 */

uint32_t ew__calg_usages(ew__calg_id_t id, int key_type)
{
    switch (id) {
    case EW__ALG_HMAC:
        return EW__USE_SIGN | EW__USE_VERIFY;
    case EW__ALG_AES_GCM:
    case EW__ALG_AES_CBC:
    case EW__ALG_AES_CTR:
        return EW__USE_ENCRYPT | EW__USE_DECRYPT | EW__USE_WRAP_KEY | EW__USE_UNWRAP_KEY;
    case EW__ALG_AES_KW:
        return EW__USE_WRAP_KEY | EW__USE_UNWRAP_KEY;
    case EW__ALG_RSASSA:
    case EW__ALG_RSA_PSS:
    case EW__ALG_ECDSA:
        return key_type == EW__KEY_PRIVATE ? EW__USE_SIGN : EW__USE_VERIFY;
    case EW__ALG_RSA_OAEP:
        return key_type == EW__KEY_PRIVATE ? EW__USE_DECRYPT | EW__USE_UNWRAP_KEY : EW__USE_ENCRYPT | EW__USE_WRAP_KEY;
    case EW__ALG_ECDH:
        return key_type == EW__KEY_PRIVATE ? EW__USE_DERIVE_KEY | EW__USE_DERIVE_BITS : 0;
    case EW__ALG_HKDF:
    case EW__ALG_PBKDF2:
        return EW__USE_DERIVE_KEY | EW__USE_DERIVE_BITS;
    default:
        return 0;
    }
}

uint32_t ew__calg_read_usages(duk_context *ctx, duk_idx_t idx)
{
    if (!duk_is_object(ctx, idx))
        (void) duk_type_error(ctx, "keyUsages: must be a sequence of strings");
    uint32_t mask = 0;
    duk_size_t n = duk_get_length(ctx, idx);
    for (duk_size_t i = 0; i < n; i++) {
        duk_get_prop_index(ctx, idx, (duk_uarridx_t) i);
        const char *s = duk_to_string(ctx, -1);
        int u = 0;
        while (u < EW__USE_COUNT && strcmp(ew__usage_names[u], s) != 0)
            u++;
        if (u == EW__USE_COUNT)
            (void) duk_type_error(ctx, "keyUsages: '%s' is not a valid KeyUsage", s);
        mask |= 1u << u;
        duk_pop(ctx);
    }
    return mask;
}
