/*
 * lib/web/crypto.h — what the WebCrypto files share: crypto.c (crypto global, CSPRNG, SubtleCrypto methods,
 * digest), crypto_alg.c (algorithm names and parameter dictionaries), crypto_key.c (CryptoKey, raw/spki/
 * pkcs8 import and export, generateKey), crypto_jwk.c (JWK), crypto_ops.c (sign/verify, encrypt/decrypt,
 * derive, wrap).
 *
 * Every SubtleCrypto method runs its whole operation synchronously inside a protected call and returns a
 * settled promise (crypto.c as_promise), so the C code below may throw freely: a DOMException
 * (ew__domexception_throw) or a TypeError becomes the rejection. Byte pointers taken from JS buffers stay
 * valid for the whole operation because their values stay on the value stack and no script runs meanwhile
 * (a getter on a dictionary member runs only while the dictionary is read, before any pointer is used).
 */
#ifndef EW_WEB_CRYPTO_H
#define EW_WEB_CRYPTO_H

#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "domexception.h"

/* crypto.c: installs `crypto` and Crypto; SubtleCrypto and CryptoKey are made on first use. Call once per
 * heap from ew__web_init(), after DOMException. */
void ew__crypto_init(duk_context *ctx, duk_idx_t global_idx);
/* This thread's CSPRNG (mbedTLS CTR_DRBG seeded from getrandom(), reseeded after fork), in mbedTLS's f_rng
 * form: fills buf and returns 0, or an mbedTLS error code. */
int ew__crypto_rng(void *unused, unsigned char *buf, size_t len);

/* ---------------------------------------------------------------------------------------------------------
 * Algorithms (crypto_alg.c)
 */

typedef enum ew__calg_id {
    EW__ALG_NONE = 0,
    EW__ALG_HMAC,
    EW__ALG_AES_GCM,
    EW__ALG_AES_CBC,
    EW__ALG_AES_CTR,
    EW__ALG_AES_KW,
    EW__ALG_RSASSA,   /* RSASSA-PKCS1-v1_5 */
    EW__ALG_RSA_PSS,
    EW__ALG_RSA_OAEP,
    EW__ALG_ECDSA,
    EW__ALG_ECDH,
    EW__ALG_HKDF,
    EW__ALG_PBKDF2,
    EW__ALG_COUNT
} ew__calg_id_t;

/* Key usages, in the order of the KeyUsage enum (also the order CryptoKey.usages lists them). */
enum {
    EW__USE_ENCRYPT = 1 << 0,
    EW__USE_DECRYPT = 1 << 1,
    EW__USE_SIGN = 1 << 2,
    EW__USE_VERIFY = 1 << 3,
    EW__USE_DERIVE_KEY = 1 << 4,
    EW__USE_DERIVE_BITS = 1 << 5,
    EW__USE_WRAP_KEY = 1 << 6,
    EW__USE_UNWRAP_KEY = 1 << 7
};
#define EW__USE_COUNT 8
extern const char *const ew__usage_names[EW__USE_COUNT];

/* A normalized algorithm: the name and whichever members the operation reads. Byte members point into
 * buffers kept on the value stack by ew__calg_read(). */
typedef struct ew__calg {
    ew__calg_id_t id;
    mbedtls_md_type_t hash;             /* "hash" (MBEDTLS_MD_NONE when absent) */
    mbedtls_ecp_group_id curve;         /* "namedCurve" */
    uint32_t length;                    /* "length": AES/HMAC key bits, AES-CTR counter bits */
    uint32_t tag_length;                /* AES-GCM "tagLength" in bits (128 when absent) */
    uint32_t iterations;                /* PBKDF2 */
    uint32_t salt_length;               /* RSA-PSS "saltLength" */
    uint32_t modulus_length;            /* RSA generateKey */
    bool has_length;
    const uint8_t *iv;                  /* "iv" (AES-GCM, AES-CBC) or "counter" (AES-CTR) */
    size_t iv_len;
    const uint8_t *data;                /* "additionalData" (AES-GCM), "label" (RSA-OAEP), "info" (HKDF) */
    size_t data_len;
    bool has_data;
    const uint8_t *salt;                /* "salt" (HKDF, PBKDF2) */
    size_t salt_len;
    const uint8_t *exponent;            /* "publicExponent" (RSA generateKey) */
    size_t exponent_len;
    duk_idx_t public_idx;               /* ECDH "public": index of the CryptoKey, or DUK_INVALID_INDEX */
} ew__calg_t;

/* What an algorithm dictionary is read for: selects the members (WebCrypto's per-operation dictionaries). */
typedef enum ew__cop {
    EW__OP_ENCRYPT, EW__OP_DECRYPT, EW__OP_SIGN, EW__OP_VERIFY, EW__OP_DIGEST, EW__OP_GENERATE,
    EW__OP_IMPORT, EW__OP_DERIVE_BITS, EW__OP_GET_KEY_LENGTH, EW__OP_WRAP, EW__OP_UNWRAP
} ew__cop_t;

/* Normalizes the AlgorithmIdentifier at idx (a string or an object with "name") for operation op: names
 * match ASCII case-insensitively; members are converted as WebIDL says (TypeError when a required one is
 * missing or of the wrong type). NotSupportedError for unknown names, for algorithms that do not support
 * op, and for Ed25519/X25519 (mbedTLS 2.28 has neither). Pushes the values it keeps alive (their number
 * varies: callers address arguments by absolute index). */
void ew__calg_read(duk_context *ctx, duk_idx_t idx, ew__cop_t op, ew__calg_t *alg);
/* Normalizes the wrap/unwrap algorithm at idx: AES-KW for op EW__OP_WRAP/UNWRAP, any other algorithm as
 * for encrypt/decrypt (the spec's fallback). */
void ew__calg_read_wrap(duk_context *ctx, duk_idx_t idx, bool unwrap, ew__calg_t *alg);
/* Normalizes a hash name ("SHA-256" or { name: "SHA-256" }) at idx; MD5 only when allow_md5 (digest). */
mbedtls_md_type_t ew__calg_read_hash(duk_context *ctx, duk_idx_t idx, bool allow_md5);
/* Registered name ("AES-GCM", "SHA-256", "P-256") for WebCrypto's algorithm objects and errors. */
const char *ew__calg_name(ew__calg_id_t id);
const char *ew__calg_hash_name(mbedtls_md_type_t hash);
const char *ew__calg_curve_name(mbedtls_ecp_group_id curve);
mbedtls_ecp_group_id ew__calg_curve_from_name(const char *s);
/* Usages an algorithm allows for a key of each type (secret keys use `secret`). */
uint32_t ew__calg_usages(ew__calg_id_t id, int key_type);
/* Reads a sequence of KeyUsage strings at idx into a mask (TypeError for an unknown string). */
uint32_t ew__calg_read_usages(duk_context *ctx, duk_idx_t idx);

/* ---------------------------------------------------------------------------------------------------------
 * Keys (crypto_key.c)
 */

enum { EW__KEY_SECRET = 0, EW__KEY_PUBLIC = 1, EW__KEY_PRIVATE = 2 };

/* The C side of a CryptoKey, malloc'd, owned by the key object (its finalizer zeroizes and frees it). */
typedef struct ew__ckey {
    const void *owner;          /* heap pointer of the CryptoKey that owns this: a brand no script forges */
    uint8_t alg;                /* ew__calg_id_t */
    uint8_t type;               /* EW__KEY_* */
    uint8_t extractable;
    uint8_t pad_;
    uint32_t usages;            /* EW__USE_* mask */
    mbedtls_md_type_t hash;     /* HMAC, RSA*: the key's hash */
    mbedtls_ecp_group_id curve; /* ECDSA, ECDH */
    mbedtls_pk_context pk;      /* RSA and EC keys */
    size_t len;                 /* bytes of secret */
    uint8_t secret[];           /* HMAC, AES, HKDF, PBKDF2 key material */
} ew__ckey_t;

/* Pushes a new CryptoKey owning a new ew__ckey_t with room for secret_len bytes of secret (zeroed; pk
 * initialized empty) and returns it. The key is freed with its object, even if the caller throws next. */
ew__ckey_t *ew__ckey_push_new(duk_context *ctx, size_t secret_len);
/* The key of the CryptoKey at idx; TypeError "... is not a CryptoKey" (naming what) otherwise. */
ew__ckey_t *ew__ckey_require(duk_context *ctx, duk_idx_t idx, const char *what);
/* Checks that the key at idx is a CryptoKey of algorithm alg with `usage` (InvalidAccessError). */
ew__ckey_t *ew__ckey_check(duk_context *ctx, duk_idx_t idx, ew__calg_id_t alg, uint32_t usage);
/* Sets usages after checking them against the algorithm and key type (SyntaxError), and extractable. A
 * secret or private key with no usage is a SyntaxError, as the spec says. */
void ew__ckey_set_usages(duk_context *ctx, ew__ckey_t *k, uint32_t usages, bool extractable);
/* importKey(format, keyData, alg, extractable, usages) for a normalized alg: pushes the CryptoKey. */
void ew__ckey_import(duk_context *ctx, const char *format, duk_idx_t data_idx, const ew__calg_t *alg,
                     bool extractable, uint32_t usages);
/* exportKey(format, key): pushes an ArrayBuffer or (jwk) an object. */
void ew__ckey_export(duk_context *ctx, const char *format, duk_idx_t key_idx);
/* Pushes an ArrayBuffer holding a copy of len bytes. */
void ew__crypto_push_ab(duk_context *ctx, const void *p, size_t len);
/* Pushes a fresh n-byte ArrayBuffer and returns its bytes (to fill before any other push). */
uint8_t *ew__crypto_push_ab_new(duk_context *ctx, size_t n);
/* Throws OperationError/DataError naming an mbedTLS failure. */
duk_ret_t ew__crypto_fail(duk_context *ctx, const char *name, const char *what, int mbedtls_err);

/* Sets up k->pk as an EC key on curve (group loaded); returns 0 or an mbedTLS error. */
int ew__ckey_ec_setup(ew__ckey_t *k, mbedtls_ecp_group_id curve);
/* After k->pk was parsed: checks it is RSA or EC (on alg's curve) as alg says (DataError), sets alg, type,
 * hash and curve. */
void ew__ckey_adopt_pk(duk_context *ctx, ew__ckey_t *k, const ew__calg_t *alg, int type);
/* Reads the KeyFormat enum at idx ("raw", "spki", "pkcs8", "jwk"); TypeError otherwise. */
const char *ew__ckey_read_format(duk_context *ctx, duk_idx_t idx);

/* crypto_jwk.c */
void ew__jwk_import(duk_context *ctx, duk_idx_t jwk_idx, const ew__calg_t *alg, bool extractable,
                    uint32_t usages);
void ew__jwk_export(duk_context *ctx, ew__ckey_t *k);

/* crypto_ops.c: the SubtleCrypto operations, each called inside the protected call with the method's
 * arguments at indexes 0.. and leaving its result on top. */
duk_ret_t ew__crypto_sign(duk_context *ctx);
duk_ret_t ew__crypto_verify(duk_context *ctx);
duk_ret_t ew__crypto_encrypt(duk_context *ctx);
duk_ret_t ew__crypto_decrypt(duk_context *ctx);
duk_ret_t ew__crypto_derive_bits(duk_context *ctx);
duk_ret_t ew__crypto_derive_key(duk_context *ctx);
duk_ret_t ew__crypto_wrap_key(duk_context *ctx);
duk_ret_t ew__crypto_unwrap_key(duk_context *ctx);
/* crypto_key.c */
duk_ret_t ew__crypto_generate_key(duk_context *ctx);
duk_ret_t ew__crypto_import_key(duk_context *ctx);
duk_ret_t ew__crypto_export_key(duk_context *ctx);
/* Lazily made classes (crypto_key.c): pushes CryptoKey.prototype, creating the class on first use. */
void ew__ckey_push_proto(duk_context *ctx);
void ew__ckey_def_class(duk_context *ctx);

#endif /* EW_WEB_CRYPTO_H */
