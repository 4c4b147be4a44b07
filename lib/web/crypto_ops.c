/*
 * crypto_ops.c — the SubtleCrypto operations on keys: sign/verify (HMAC, RSASSA-PKCS1-v1_5, RSA-PSS,
 * ECDSA), encrypt/decrypt (AES-GCM, AES-CBC, AES-CTR, RSA-OAEP), deriveBits/deriveKey (ECDH, HKDF,
 * PBKDF2) and wrapKey/unwrapKey (AES-KW, or any encryption algorithm), on mbedTLS 2.28.
 *
 * Each ew__crypto_* function is called by crypto.c inside a protected call with the JS arguments at
 * indexes 0.., and leaves its result on top; errors are thrown as the DOMExceptions the spec names
 * (OperationError for a failed decryption or a bad parameter value, InvalidAccessError for a key that does
 * not fit). ECDSA signatures are the IEEE P1363 form WebCrypto uses (r || s), not DER. AES-CTR is done
 * here block by block because WebCrypto's counter wraps within its low `length` bits, which mbedTLS's CTR
 * mode does not do; AES-KW (RFC 3394) is here because Debian's mbedTLS is built without NIST_KW.
 */
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>

#include "crypto.h"

/* Hashes data with h into out (MBEDTLS_MD_MAX_SIZE bytes); returns the digest length. */
static size_t hash_message(mbedtls_md_type_t h, const uint8_t *p, size_t len, uint8_t *out)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(h);
    mbedtls_md(md, p, len, out);
    return mbedtls_md_get_size(md);
}

/* ---------------------------------------------------------------------------------------------------------
 * sign / verify
 */

static int ecdsa_sign(ew__ckey_t *k, mbedtls_md_type_t h, const uint8_t *hash, size_t hlen, uint8_t *sig, size_t *slen)
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    size_t n = (ec->grp.nbits + 7) / 8;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r), mbedtls_mpi_init(&s);
    int rc = mbedtls_ecdsa_sign_det_ext(&ec->grp, &r, &s, &ec->d, hash, hlen, h, ew__crypto_rng, NULL);
    if (rc == 0 && (rc = mbedtls_mpi_write_binary(&r, sig, n)) == 0)
        rc = mbedtls_mpi_write_binary(&s, sig + n, n);
    mbedtls_mpi_free(&r), mbedtls_mpi_free(&s);
    *slen = 2 * n;
    return rc;
}

static bool ecdsa_verify(ew__ckey_t *k, const uint8_t *hash, size_t hlen, const uint8_t *sig, size_t slen)
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    size_t n = (ec->grp.nbits + 7) / 8;
    if (slen != 2 * n)
        return false;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r), mbedtls_mpi_init(&s);
    int rc = mbedtls_mpi_read_binary(&r, sig, n);
    if (rc == 0 && (rc = mbedtls_mpi_read_binary(&s, sig + n, n)) == 0)
        rc = mbedtls_ecdsa_verify(&ec->grp, hash, hlen, &ec->Q, &r, &s);
    mbedtls_mpi_free(&r), mbedtls_mpi_free(&s);
    return rc == 0;
}

/* Signs into sig (room for 1024 bytes); returns an mbedTLS error or 0. */
static int sign_raw(const ew__calg_t *alg, ew__ckey_t *k, const uint8_t *p, size_t len, uint8_t *sig, size_t *slen)
{
    uint8_t hash[MBEDTLS_MD_MAX_SIZE];
    if (alg->id == EW__ALG_HMAC) {
        const mbedtls_md_info_t *md = mbedtls_md_info_from_type(k->hash);
        *slen = mbedtls_md_get_size(md);
        return mbedtls_md_hmac(md, k->secret, k->len, p, len, sig);
    }
    if (alg->id == EW__ALG_ECDSA) {
        size_t hlen = hash_message(alg->hash, p, len, hash);
        return ecdsa_sign(k, alg->hash, hash, hlen, sig, slen);
    }
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
    size_t hlen = hash_message(k->hash, p, len, hash);
    *slen = mbedtls_rsa_get_len(rsa);
    if (*slen > 1024)
        return MBEDTLS_ERR_RSA_BAD_INPUT_DATA;
    if (alg->id == EW__ALG_RSA_PSS) {
        mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, k->hash);
        return mbedtls_rsa_rsassa_pss_sign_ext(rsa, ew__crypto_rng, NULL, k->hash, (unsigned) hlen, hash,
                                               (int) alg->salt_length, sig);
    }
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, 0);
    return mbedtls_rsa_rsassa_pkcs1_v15_sign(rsa, ew__crypto_rng, NULL, MBEDTLS_RSA_PRIVATE, k->hash, (unsigned) hlen,
                                             hash, sig);
}

/* sign(algorithm, key, data) */
duk_ret_t ew__crypto_sign(duk_context *ctx)
{
    ew__calg_t alg;
    ew__calg_read(ctx, 0, EW__OP_SIGN, &alg);
    ew__ckey_t *k = ew__ckey_check(ctx, 1, alg.id, EW__USE_SIGN);
    size_t len, slen = 0;
    const uint8_t *p = ew__dom_require_bytes(ctx, 2, &len, "data");
    uint8_t sig[1024];
    int rc = sign_raw(&alg, k, p, len, sig, &slen);
    if (rc != 0)
        return ew__crypto_fail(ctx, "OperationError", "Signing", rc);
    ew__crypto_push_ab(ctx, sig, slen);
    return 1;
}

static bool verify_raw(const ew__calg_t *alg, ew__ckey_t *k, const uint8_t *sig, size_t slen, const uint8_t *p,
                       size_t len)
{
    uint8_t hash[MBEDTLS_MD_MAX_SIZE];
    if (alg->id == EW__ALG_HMAC) {
        uint8_t mac[MBEDTLS_MD_MAX_SIZE];
        const mbedtls_md_info_t *md = mbedtls_md_info_from_type(k->hash);
        size_t n = mbedtls_md_get_size(md);
        if (slen != n || mbedtls_md_hmac(md, k->secret, k->len, p, len, mac) != 0)
            return false;
        volatile uint8_t diff = 0;
        for (size_t i = 0; i < n; i++)
            diff |= mac[i] ^ sig[i];
        return diff == 0;
    }
    if (alg->id == EW__ALG_ECDSA) {
        size_t hlen = hash_message(alg->hash, p, len, hash);
        return ecdsa_verify(k, hash, hlen, sig, slen);
    }
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
    if (slen != mbedtls_rsa_get_len(rsa))
        return false;
    size_t hlen = hash_message(k->hash, p, len, hash);
    if (alg->id == EW__ALG_RSA_PSS) {
        mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, k->hash);
        return mbedtls_rsa_rsassa_pss_verify_ext(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, k->hash, (unsigned) hlen, hash,
                                                 k->hash, (int) alg->salt_length, sig) == 0;
    }
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V15, 0);
    return mbedtls_rsa_rsassa_pkcs1_v15_verify(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, k->hash, (unsigned) hlen, hash,
                                               sig) == 0;
}

/* verify(algorithm, key, signature, data) */
duk_ret_t ew__crypto_verify(duk_context *ctx)
{
    ew__calg_t alg;
    ew__calg_read(ctx, 0, EW__OP_VERIFY, &alg);
    ew__ckey_t *k = ew__ckey_check(ctx, 1, alg.id, EW__USE_VERIFY);
    size_t slen, len;
    const uint8_t *sig = ew__dom_require_bytes(ctx, 2, &slen, "signature");
    const uint8_t *p = ew__dom_require_bytes(ctx, 3, &len, "data");
    duk_push_boolean(ctx, verify_raw(&alg, k, sig, slen, p, len));
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * encrypt / decrypt
 */

static void aes_gcm(duk_context *ctx, const ew__calg_t *alg, ew__ckey_t *k, const uint8_t *p, size_t len, bool enc)
{
    uint32_t t = alg->tag_length;
    if (t != 32 && t != 64 && t != 96 && t != 104 && t != 112 && t != 120 && t != 128)
        (void) ew__domexception_throw(ctx, "OperationError", "Invalid AES-GCM tagLength %u", (unsigned) t);
    if (alg->iv_len == 0)
        (void) ew__domexception_throw(ctx, "OperationError", "AES-GCM iv must not be empty");
    size_t tl = t / 8;
    if (!enc && len < tl)
        (void) ew__domexception_throw(ctx, "OperationError", "The ciphertext is shorter than the tag");
    size_t out_len = enc ? len + tl : len - tl;
    uint8_t *out = ew__crypto_push_ab_new(ctx, out_len);
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int rc = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, k->secret, (unsigned) k->len * 8);
    if (rc == 0 && enc)
        rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, alg->iv, alg->iv_len, alg->data, alg->data_len,
                                       p, out, tl, out + len);
    else if (rc == 0)
        rc = mbedtls_gcm_auth_decrypt(&gcm, out_len, alg->iv, alg->iv_len, alg->data, alg->data_len, p + out_len, tl,
                                      p, out);
    mbedtls_gcm_free(&gcm);
    if (rc != 0)
        (void) ew__domexception_throw(ctx, "OperationError", enc ? "AES-GCM encryption failed"
                                                                 : "Decryption failed: the data or the tag is invalid");
}

static void aes_cbc(duk_context *ctx, const ew__calg_t *alg, ew__ckey_t *k, const uint8_t *p, size_t len, bool enc)
{
    if (alg->iv_len != 16)
        (void) ew__domexception_throw(ctx, "OperationError", "AES-CBC iv must be 16 bytes");
    if (!enc && (len == 0 || len % 16 != 0))
        (void) ew__domexception_throw(ctx, "OperationError", "AES-CBC ciphertext length must be a multiple of 16");
    uint8_t iv[16];
    memcpy(iv, alg->iv, 16);
    size_t padded = enc ? (len / 16 + 1) * 16 : len;
    uint8_t *buf = duk_push_fixed_buffer(ctx, padded);
    memcpy(buf, p, len);
    if (enc)
        memset(buf + len, (int) (padded - len), padded - len); /* PKCS#7 */
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int rc = enc ? mbedtls_aes_setkey_enc(&aes, k->secret, (unsigned) k->len * 8)
                 : mbedtls_aes_setkey_dec(&aes, k->secret, (unsigned) k->len * 8);
    if (rc == 0)
        rc = mbedtls_aes_crypt_cbc(&aes, enc ? MBEDTLS_AES_ENCRYPT : MBEDTLS_AES_DECRYPT, padded, iv, buf, buf);
    mbedtls_aes_free(&aes);
    size_t out_len = padded;
    if (rc == 0 && !enc) {
        uint8_t pad = buf[padded - 1];
        bool ok = pad >= 1 && pad <= 16;
        for (size_t i = 0; ok && i < pad; i++)
            ok = buf[padded - 1 - i] == pad;
        if (!ok)
            (void) ew__domexception_throw(ctx, "OperationError", "Decryption failed: bad padding");
        out_len -= pad;
    }
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "AES-CBC", rc);
    ew__crypto_push_ab(ctx, buf, out_len);
}

/* Adds 1 to the low `bits` bits of the 128-bit big-endian counter, wrapping within them. */
static void ctr_increment(uint8_t ctr[16], unsigned bits)
{
    for (int i = 15; i >= 0 && bits > 0; i--) {
        if (bits >= 8) {
            if (++ctr[i] != 0)
                return;
            bits -= 8;
        } else {
            uint8_t mask = (uint8_t) ((1u << bits) - 1);
            ctr[i] = (uint8_t) ((ctr[i] & ~mask) | ((ctr[i] + 1) & mask));
            return;
        }
    }
}

static void aes_ctr(duk_context *ctx, const ew__calg_t *alg, ew__ckey_t *k, const uint8_t *p, size_t len)
{
    if (alg->iv_len != 16)
        (void) ew__domexception_throw(ctx, "OperationError", "AES-CTR counter must be 16 bytes");
    if (alg->length == 0 || alg->length > 128)
        (void) ew__domexception_throw(ctx, "OperationError", "AES-CTR length must be between 1 and 128");
    size_t blocks = (len + 15) / 16;
    if (alg->length < 64 && blocks > ((uint64_t) 1 << alg->length))
        (void) ew__domexception_throw(ctx, "OperationError", "The input is too long for the counter length");
    uint8_t ctr[16], ks[16];
    memcpy(ctr, alg->iv, 16);
    uint8_t *out = ew__crypto_push_ab_new(ctx, len);
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int rc = mbedtls_aes_setkey_enc(&aes, k->secret, (unsigned) k->len * 8);
    for (size_t off = 0; rc == 0 && off < len; off += 16) {
        rc = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, ctr, ks);
        size_t n = len - off < 16 ? len - off : 16;
        for (size_t i = 0; i < n; i++)
            out[off + i] = p[off + i] ^ ks[i];
        ctr_increment(ctr, alg->length);
    }
    mbedtls_aes_free(&aes);
    mbedtls_platform_zeroize(ks, sizeof(ks));
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "AES-CTR", rc);
}

static void rsa_oaep(duk_context *ctx, const ew__calg_t *alg, ew__ckey_t *k, const uint8_t *p, size_t len, bool enc)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
    size_t klen = mbedtls_rsa_get_len(rsa), hlen = mbedtls_md_get_size(mbedtls_md_info_from_type(k->hash));
    mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, k->hash);
    if (enc && (klen < 2 * hlen + 2 || len > klen - 2 * hlen - 2))
        (void) ew__domexception_throw(ctx, "OperationError", "The data is too long for RSA-OAEP with this key");
    if (!enc && len != klen)
        (void) ew__domexception_throw(ctx, "OperationError", "Decryption failed: wrong ciphertext length");
    uint8_t *buf = duk_push_fixed_buffer(ctx, klen);
    size_t out_len = klen;
    int rc = enc ? mbedtls_rsa_rsaes_oaep_encrypt(rsa, ew__crypto_rng, NULL, MBEDTLS_RSA_PUBLIC, alg->data,
                                                  alg->data_len, len, p, buf)
                 : mbedtls_rsa_rsaes_oaep_decrypt(rsa, ew__crypto_rng, NULL, MBEDTLS_RSA_PRIVATE, alg->data,
                                                  alg->data_len, &out_len, p, buf, klen);
    if (rc != 0)
        (void) ew__domexception_throw(ctx, "OperationError", enc ? "RSA-OAEP encryption failed" : "Decryption failed");
    ew__crypto_push_ab(ctx, buf, out_len);
    mbedtls_platform_zeroize(buf, klen);
}

/* Encrypts or decrypts with a checked key; pushes the ArrayBuffer result. */
static void run_cipher(duk_context *ctx, const ew__calg_t *alg, ew__ckey_t *k, const uint8_t *p, size_t len, bool enc)
{
    switch (alg->id) {
    case EW__ALG_AES_GCM:
        aes_gcm(ctx, alg, k, p, len, enc);
        break;
    case EW__ALG_AES_CBC:
        aes_cbc(ctx, alg, k, p, len, enc);
        break;
    case EW__ALG_AES_CTR:
        aes_ctr(ctx, alg, k, p, len);
        break;
    default:
        rsa_oaep(ctx, alg, k, p, len, enc);
        break;
    }
}

static duk_ret_t encrypt_or_decrypt(duk_context *ctx, bool enc)
{
    ew__calg_t alg;
    ew__calg_read(ctx, 0, enc ? EW__OP_ENCRYPT : EW__OP_DECRYPT, &alg);
    ew__ckey_t *k = ew__ckey_check(ctx, 1, alg.id, enc ? EW__USE_ENCRYPT : EW__USE_DECRYPT);
    size_t len;
    const uint8_t *p = ew__dom_require_bytes(ctx, 2, &len, "data");
    run_cipher(ctx, &alg, k, p, len, enc);
    return 1;
}

duk_ret_t ew__crypto_encrypt(duk_context *ctx)
{
    return encrypt_or_decrypt(ctx, true);
}

duk_ret_t ew__crypto_decrypt(duk_context *ctx)
{
    return encrypt_or_decrypt(ctx, false);
}

/* ---------------------------------------------------------------------------------------------------------
 * deriveBits / deriveKey
 */

/* ECDH: the shared secret's x coordinate, big-endian, the curve's field size. */
static void ecdh_bits(duk_context *ctx, const ew__calg_t *alg, ew__ckey_t *k, bool has_length, uint32_t length)
{
    ew__ckey_t *pub = ew__ckey_require(ctx, alg->public_idx, "algorithm.public");
    if (pub->type != EW__KEY_PUBLIC || pub->alg != EW__ALG_ECDH || pub->curve != k->curve)
        (void) ew__domexception_throw(ctx, "InvalidAccessError",
                                      "algorithm.public must be an ECDH public key on the same curve");
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    size_t n = (ec->grp.pbits + 7) / 8;
    if (has_length && length > n * 8)
        (void) ew__domexception_throw(ctx, "OperationError", "The requested length exceeds the shared secret");
    mbedtls_mpi z;
    mbedtls_mpi_init(&z);
    uint8_t secret[66];
    int rc = mbedtls_ecdh_compute_shared(&ec->grp, &z, &mbedtls_pk_ec(pub->pk)->Q, &ec->d, ew__crypto_rng, NULL);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&z, secret, n);
    mbedtls_mpi_free(&z);
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", "ECDH", rc);
    size_t out = has_length ? (length + 7) / 8 : n;
    if (has_length && length % 8 != 0)
        secret[out - 1] &= (uint8_t) (0xFF << (8 - length % 8));
    ew__crypto_push_ab(ctx, secret, out);
    mbedtls_platform_zeroize(secret, sizeof(secret));
}

/* Pushes `length` derived bits from the base key k (deriveBits' steps after the usage check). */
static void derive(duk_context *ctx, const ew__calg_t *alg, ew__ckey_t *k, bool has_length, uint32_t length)
{
    if (alg->id == EW__ALG_ECDH) {
        ecdh_bits(ctx, alg, k, has_length, length);
        return;
    }
    if (!has_length || length % 8 != 0)
        (void) ew__domexception_throw(ctx, "OperationError", "%s length must be a multiple of 8",
                                      ew__calg_name(alg->id));
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(alg->hash);
    uint8_t *out = ew__crypto_push_ab_new(ctx, length / 8);
    int rc = 0;
    if (length == 0) {
        /* nothing to derive */
    } else if (alg->id == EW__ALG_HKDF) {
        if (length / 8 > 255 * mbedtls_md_get_size(md))
            (void) ew__domexception_throw(ctx, "OperationError", "HKDF length is too large");
        rc = mbedtls_hkdf(md, alg->salt, alg->salt_len, k->secret, k->len, alg->data, alg->data_len, out, length / 8);
    } else {
        if (alg->iterations == 0)
            (void) ew__domexception_throw(ctx, "OperationError", "PBKDF2 iterations must not be zero");
        mbedtls_md_context_t mdc;
        mbedtls_md_init(&mdc);
        rc = mbedtls_md_setup(&mdc, md, 1);
        if (rc == 0)
            rc = mbedtls_pkcs5_pbkdf2_hmac(&mdc, k->secret, k->len, alg->salt, alg->salt_len, alg->iterations,
                                           length / 8, out);
        mbedtls_md_free(&mdc);
    }
    if (rc != 0)
        (void) ew__crypto_fail(ctx, "OperationError", ew__calg_name(alg->id), rc);
}

/* deriveBits(algorithm, baseKey, length) */
duk_ret_t ew__crypto_derive_bits(duk_context *ctx)
{
    ew__calg_t alg;
    ew__calg_read(ctx, 0, EW__OP_DERIVE_BITS, &alg);
    ew__ckey_t *k = ew__ckey_check(ctx, 1, alg.id, EW__USE_DERIVE_BITS);
    bool has_length = !duk_is_null_or_undefined(ctx, 2);
    double l = has_length ? duk_to_number(ctx, 2) : 0;
    if (l != l || l < 0 || l > 4294967295.0)
        return duk_type_error(ctx, "length is out of range");
    derive(ctx, &alg, k, has_length, (uint32_t) l);
    return 1;
}

/* deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) */
duk_ret_t ew__crypto_derive_key(duk_context *ctx)
{
    ew__calg_t alg, key_alg, len_alg;
    ew__calg_read(ctx, 0, EW__OP_DERIVE_BITS, &alg);
    ew__calg_read(ctx, 2, EW__OP_IMPORT, &key_alg);
    ew__calg_read(ctx, 2, EW__OP_GET_KEY_LENGTH, &len_alg);
    bool extractable = duk_to_boolean(ctx, 3);
    uint32_t usages = ew__calg_read_usages(ctx, 4);
    ew__ckey_t *k = ew__ckey_check(ctx, 1, alg.id, EW__USE_DERIVE_KEY);
    uint32_t length = 0;
    bool has_length = true;
    if (len_alg.id == EW__ALG_HMAC) {
        bool big = len_alg.hash == MBEDTLS_MD_SHA384 || len_alg.hash == MBEDTLS_MD_SHA512;
        length = len_alg.has_length ? len_alg.length : big ? 1024 : 512; /* the hash's block size */
    } else if (len_alg.id >= EW__ALG_AES_GCM && len_alg.id <= EW__ALG_AES_KW) {
        length = len_alg.length;
        if (length != 128 && length != 192 && length != 256)
            return ew__domexception_throw(ctx, "OperationError", "AES key length must be 128, 192 or 256 bits");
    } else {
        has_length = false; /* HKDF, PBKDF2: the spec's null length */
    }
    derive(ctx, &alg, k, has_length, length);
    duk_idx_t bits = duk_get_top_index(ctx);
    ew__ckey_import(ctx, "raw", bits, &key_alg, extractable, usages);
    duk_size_t n;
    void *p = duk_get_buffer_data(ctx, bits, &n);
    mbedtls_platform_zeroize(p, n);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * wrapKey / unwrapKey
 */

/* RFC 3394 key wrap with the default IV: out has len + 8 bytes. */
static int aes_kw_wrap(ew__ckey_t *k, const uint8_t *in, size_t len, uint8_t *out)
{
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int rc = mbedtls_aes_setkey_enc(&aes, k->secret, (unsigned) k->len * 8);
    size_t n = len / 8;
    uint8_t b[16];
    memset(out, 0xA6, 8);
    memmove(out + 8, in, len);
    for (uint64_t j = 0; rc == 0 && j < 6; j++) {
        for (size_t i = 1; rc == 0 && i <= n; i++) {
            memcpy(b, out, 8);
            memcpy(b + 8, out + 8 * i, 8);
            rc = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, b, b);
            uint64_t t = n * j + i;
            for (int x = 7; x >= 0; x--, t >>= 8)
                b[x] ^= (uint8_t) t;
            memcpy(out, b, 8);
            memcpy(out + 8 * i, b + 8, 8);
        }
    }
    mbedtls_aes_free(&aes);
    mbedtls_platform_zeroize(b, sizeof(b));
    return rc;
}

/* RFC 3394 unwrap: out has len - 8 bytes; returns -1 when the integrity check fails. */
static int aes_kw_unwrap(ew__ckey_t *k, const uint8_t *in, size_t len, uint8_t *out)
{
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int rc = mbedtls_aes_setkey_dec(&aes, k->secret, (unsigned) k->len * 8);
    size_t n = len / 8 - 1;
    uint8_t a[8], b[16];
    memcpy(a, in, 8);
    memmove(out, in + 8, len - 8);
    for (uint64_t j = 6; rc == 0 && j-- > 0;) {
        for (size_t i = n; rc == 0 && i >= 1; i--) {
            uint64_t t = n * j + i;
            memcpy(b, a, 8);
            for (int x = 7; x >= 0; x--, t >>= 8)
                b[x] ^= (uint8_t) t;
            memcpy(b + 8, out + 8 * (i - 1), 8);
            rc = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_DECRYPT, b, b);
            memcpy(a, b, 8);
            memcpy(out + 8 * (i - 1), b + 8, 8);
        }
    }
    mbedtls_aes_free(&aes);
    mbedtls_platform_zeroize(b, sizeof(b));
    static const uint8_t iv[8] = {0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6};
    return rc != 0 ? rc : memcmp(a, iv, 8) == 0 ? 0 : -1;
}

static void aes_kw(duk_context *ctx, ew__ckey_t *k, const uint8_t *p, size_t len, bool wrap)
{
    if (len % 8 != 0 || len < (wrap ? 16u : 24u))
        (void) ew__domexception_throw(ctx, "OperationError", "AES-KW data must be a multiple of 8 bytes, at least %d",
                                      wrap ? 16 : 24);
    uint8_t *out = ew__crypto_push_ab_new(ctx, wrap ? len + 8 : len - 8);
    int rc = wrap ? aes_kw_wrap(k, p, len, out) : aes_kw_unwrap(k, p, len, out);
    if (rc != 0)
        (void) ew__domexception_throw(ctx, "OperationError", wrap ? "AES-KW wrap failed" : "AES-KW unwrap failed: "
                                                                                            "integrity check");
}

/* wrapKey(format, key, wrappingKey, wrapAlgorithm) */
duk_ret_t ew__crypto_wrap_key(duk_context *ctx)
{
    const char *format = ew__ckey_read_format(ctx, 0);
    ew__calg_t alg;
    ew__calg_read_wrap(ctx, 3, false, &alg);
    ew__ckey_t *wk = ew__ckey_check(ctx, 2, alg.id, EW__USE_WRAP_KEY);
    ew__ckey_require(ctx, 1, "key");
    ew__ckey_export(ctx, format, 1);
    if (format[0] == 'j') {
        duk_json_encode(ctx, -1);
        duk_size_t n;
        const char *s = duk_get_lstring(ctx, -1, &n);
        ew__crypto_push_ab(ctx, s, n);
        duk_remove(ctx, -2);
    }
    duk_idx_t plain = duk_get_top_index(ctx);
    size_t len;
    uint8_t *p = duk_get_buffer_data(ctx, plain, &len);
    if (alg.id == EW__ALG_AES_KW)
        aes_kw(ctx, wk, p, len, true);
    else
        run_cipher(ctx, &alg, wk, p, len, true);
    mbedtls_platform_zeroize(p, len);
    return 1;
}

static duk_ret_t parse_json(duk_context *ctx, void *udata)
{
    (void) udata;
    duk_json_decode(ctx, -1);
    return 1;
}

/* unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable,
 * keyUsages) */
duk_ret_t ew__crypto_unwrap_key(duk_context *ctx)
{
    const char *format = ew__ckey_read_format(ctx, 0);
    ew__calg_t alg, key_alg;
    ew__calg_read_wrap(ctx, 3, true, &alg);
    ew__calg_read(ctx, 4, EW__OP_IMPORT, &key_alg);
    bool extractable = duk_to_boolean(ctx, 5);
    uint32_t usages = ew__calg_read_usages(ctx, 6);
    ew__ckey_t *uk = ew__ckey_check(ctx, 2, alg.id, EW__USE_UNWRAP_KEY);
    size_t len;
    const uint8_t *p = ew__dom_require_bytes(ctx, 1, &len, "wrappedKey");
    if (alg.id == EW__ALG_AES_KW)
        aes_kw(ctx, uk, p, len, false);
    else
        run_cipher(ctx, &alg, uk, p, len, false);
    duk_idx_t plain = duk_get_top_index(ctx);
    duk_size_t n;
    uint8_t *bytes = duk_get_buffer_data(ctx, plain, &n);
    if (format[0] == 'j') {
        ew__push_utf8(ctx, (const char *) bytes, n);
        if (duk_safe_call(ctx, parse_json, NULL, 1, 1) != DUK_EXEC_SUCCESS || !duk_is_object(ctx, -1)) {
            if (ew__isolate_aborting(ctx))
                (void) duk_throw(ctx);
            return ew__domexception_throw(ctx, "DataError", "The unwrapped key is not a JSON Web Key");
        }
    }
    ew__ckey_import(ctx, format, format[0] == 'j' ? duk_get_top_index(ctx) : plain, &key_alg, extractable, usages);
    mbedtls_platform_zeroize(bytes, n);
    return 1;
}
