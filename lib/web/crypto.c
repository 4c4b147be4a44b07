/*
 * crypto.c — the `crypto` global (Web Crypto API, https://w3c.github.io/webcrypto/): getRandomValues,
 * randomUUID and crypto.subtle, plus the per-thread CSPRNG, SubtleCrypto's promise plumbing, digest and
 * the Workers extension subtle.timingSafeEqual.
 *
 * Every isolate gets only `crypto` (one object) and the small Crypto prototype at start. SubtleCrypto and
 * CryptoKey, with their ~20 native functions, are made the first time a script touches crypto.subtle or
 * one of those global names, since most Workers never do (ARCHITECTURE.md: memory per isolate).
 * SubtleCrypto methods compute synchronously — mbedTLS is fast next to a Duktape call, and a thread pool
 * would buy nothing on one event loop per thread — inside a protected call, and return a settled promise:
 * a thrown error becomes the rejection, except when a CPU or memory limit fired (the aborting invariant in
 * lib/core/internal.h). Randomness comes from one mbedTLS CTR_DRBG per thread, seeded from getrandom()
 * and reseeded in a child after fork(). The algorithms live in crypto_alg.c, crypto_key.c, crypto_jwk.c
 * and crypto_ops.c (crypto.h). Installed by ew__web_init() (web.c).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "core/builtins.h"
#include "crypto.h"

#define STASH_SUBTLE DUK_HIDDEN_SYMBOL("pSC")
#define CRYPTO_SUBTLE DUK_HIDDEN_SYMBOL("cs") /* the crypto object's SubtleCrypto, made on first access */

/* ---------------------------------------------------------------------------------------------------------
 * CSPRNG: one CTR_DRBG per thread (an isolate belongs to one thread, so no lock). A fork() bumps
 * fork_generation in the child, so a forked child never repeats its parent's stream.
 */

static _Thread_local struct {
    mbedtls_ctr_drbg_context drbg;
    unsigned generation;
    bool ready;
} rng;
static volatile unsigned fork_generation;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    fork_generation++;
}

static void register_atfork(void)
{
    (void) pthread_atfork(NULL, NULL, on_fork_child);
}

static int getrandom_entropy(void *unused, unsigned char *buf, size_t len)
{
    (void) unused;
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
        }
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

static int rng_seed(void)
{
    static const unsigned char pers[] = "libedgeworker crypto";
    (void) pthread_once(&atfork_once, register_atfork);
    if (rng.ready)
        mbedtls_ctr_drbg_free(&rng.drbg);
    mbedtls_ctr_drbg_init(&rng.drbg);
    rng.ready = false;
    int rc = mbedtls_ctr_drbg_seed(&rng.drbg, getrandom_entropy, NULL, pers, sizeof(pers) - 1);
    if (rc != 0) {
        mbedtls_ctr_drbg_free(&rng.drbg);
        return rc;
    }
    rng.generation = fork_generation;
    rng.ready = true;
    return 0;
}

int ew__crypto_rng(void *unused, unsigned char *buf, size_t len)
{
    (void) unused;
    if (!rng.ready || rng.generation != fork_generation) {
        int rc = rng_seed();
        if (rc != 0)
            return rc;
    }
    while (len > 0) {
        size_t n = len > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : len;
        int rc = mbedtls_ctr_drbg_random(&rng.drbg, buf, n);
        if (rc != 0)
            return rc;
        buf += n;
        len -= n;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------
 * Shared helpers (crypto.h)
 */

uint8_t *ew__crypto_push_ab_new(duk_context *ctx, size_t n)
{
    uint8_t *p = duk_push_buffer_raw(ctx, n, DUK_BUF_FLAG_NOZERO);
    duk_push_buffer_object(ctx, -1, 0, n, DUK_BUFOBJ_ARRAYBUFFER);
    duk_remove(ctx, -2);
    return p;
}

void ew__crypto_push_ab(duk_context *ctx, const void *p, size_t len)
{
    uint8_t *out = ew__crypto_push_ab_new(ctx, len);
    if (len > 0)
        memcpy(out, p, len);
}

duk_ret_t ew__crypto_fail(duk_context *ctx, const char *name, const char *what, int mbedtls_err)
{
    return ew__domexception_throw(ctx, name, "%s failed (mbedTLS error -0x%04x)", what, (unsigned) -mbedtls_err);
}

/* ---------------------------------------------------------------------------------------------------------
 * Crypto: getRandomValues, randomUUID, subtle
 */

static duk_ret_t crypto_get_random_values(duk_context *ctx)
{
    int kind = ew__bi_typed_kind(ctx, 0); /* 0 Int8 .. 6 Uint32, 7-8 floats */
    if (kind < 0 && !duk_is_buffer_data(ctx, 0))
        return duk_type_error(ctx, "Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of "
                                   "type 'ArrayBufferView'.");
    if (kind < 0 || kind > 6 || duk_is_buffer(ctx, 0))
        return ew__domexception_throw(ctx, "TypeMismatchError",
                                      "The data argument must be an integer-type TypedArray");
    duk_size_t len;
    uint8_t *p = duk_get_buffer_data(ctx, 0, &len);
    if (len > 65536)
        return ew__domexception_throw(ctx, "QuotaExceededError",
                                      "The ArrayBufferView's byte length (%lu) exceeds the number of bytes of "
                                      "entropy available via this API (65536)", (unsigned long) len);
    int rc = ew__crypto_rng(NULL, p, len);
    if (rc != 0)
        return ew__crypto_fail(ctx, "OperationError", "random generation", rc);
    duk_dup(ctx, 0);
    return 1;
}

static duk_ret_t crypto_random_uuid(duk_context *ctx)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t b[16];
    char s[36];
    int rc = ew__crypto_rng(NULL, b, sizeof(b));
    if (rc != 0)
        return ew__crypto_fail(ctx, "OperationError", "random generation", rc);
    b[6] = (uint8_t) ((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (uint8_t) ((b[8] & 0x3F) | 0x80); /* variant 10 */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s[o++] = '-';
        s[o++] = hex[b[i] >> 4];
        s[o++] = hex[b[i] & 15];
    }
    duk_push_lstring(ctx, s, sizeof(s));
    return 1;
}

static duk_ret_t illegal_ctor(duk_context *ctx)
{
    return duk_type_error(ctx, "Illegal constructor");
}

static void ensure_subtle_classes(duk_context *ctx);

static duk_ret_t crypto_subtle(duk_context *ctx)
{
    duk_push_this(ctx);
    if (!duk_is_object(ctx, -1))
        return duk_type_error(ctx, "Illegal invocation");
    if (duk_get_prop_literal(ctx, -1, CRYPTO_SUBTLE))
        return 1;
    duk_pop(ctx);
    ensure_subtle_classes(ctx);
    duk_push_object(ctx);
    ew__dom_push_proto(ctx, STASH_SUBTLE);
    duk_set_prototype(ctx, -2);
    duk_dup_top(ctx);
    duk_put_prop_literal(ctx, -3, CRYPTO_SUBTLE);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * SubtleCrypto: each method runs its operation in a protected call and returns a settled promise.
 */

typedef struct op {
    duk_c_function fn;
} op_t;

static duk_ret_t op_trampoline(duk_context *ctx, void *udata)
{
    return ((const op_t *) udata)->fn(ctx);
}

static duk_ret_t as_promise(duk_context *ctx, duk_c_function fn)
{
    op_t op = {fn};
    if (duk_safe_call(ctx, op_trampoline, &op, duk_get_top(ctx), 1) != DUK_EXEC_SUCCESS) {
        if (ew__isolate_aborting(ctx))
            (void) duk_throw(ctx);
        ew__promise_push_rejected(ctx);
    } else {
        ew__promise_push_resolved(ctx);
    }
    return 1;
}

/* digest(algorithm, data): SHA-1/256/384/512, and MD5 as Workers allows. The bytes are hashed in place:
 * the operation is synchronous, so no copy is needed to protect against later changes. */
static duk_ret_t op_digest(duk_context *ctx)
{
    mbedtls_md_type_t h = ew__calg_read_hash(ctx, 0, true);
    size_t len;
    const uint8_t *p = ew__dom_require_bytes(ctx, 1, &len, "data");
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(h);
    uint8_t *out = ew__crypto_push_ab_new(ctx, mbedtls_md_get_size(md));
    int rc = mbedtls_md(md, p, len, out);
    if (rc != 0)
        return ew__crypto_fail(ctx, "OperationError", "digest", rc);
    return 1;
}

static duk_ret_t op_import_key(duk_context *ctx)
{
    return ew__crypto_import_key(ctx);
}

#define SUBTLE_METHOD(js, op)                                                                                \
    static duk_ret_t subtle_##js(duk_context *ctx)                                                           \
    {                                                                                                        \
        return as_promise(ctx, op);                                                                          \
    }
SUBTLE_METHOD(digest, op_digest)
SUBTLE_METHOD(encrypt, ew__crypto_encrypt)
SUBTLE_METHOD(decrypt, ew__crypto_decrypt)
SUBTLE_METHOD(sign, ew__crypto_sign)
SUBTLE_METHOD(verify, ew__crypto_verify)
SUBTLE_METHOD(generate_key, ew__crypto_generate_key)
SUBTLE_METHOD(derive_key, ew__crypto_derive_key)
SUBTLE_METHOD(derive_bits, ew__crypto_derive_bits)
SUBTLE_METHOD(import_key, op_import_key)
SUBTLE_METHOD(export_key, ew__crypto_export_key)
SUBTLE_METHOD(wrap_key, ew__crypto_wrap_key)
SUBTLE_METHOD(unwrap_key, ew__crypto_unwrap_key)

/* timingSafeEqual(a, b) (Workers): synchronous; the comparison time depends only on the length. */
static duk_ret_t subtle_timing_safe_equal(duk_context *ctx)
{
    size_t na, nb;
    const uint8_t *a = ew__dom_require_bytes(ctx, 0, &na, "a");
    const uint8_t *b = ew__dom_require_bytes(ctx, 1, &nb, "b");
    if (na != nb)
        return duk_type_error(ctx, "Input buffers must have the same byte length.");
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < na; i++)
        diff |= a[i] ^ b[i];
    duk_push_boolean(ctx, diff == 0);
    return 1;
}

/* ---------------------------------------------------------------------------------------------------------
 * JS surface
 *
 *   crypto                                  an instance of Crypto (global)
 *   Crypto.prototype.getRandomValues(a)     crypto_get_random_values
 *   Crypto.prototype.randomUUID()           crypto_random_uuid
 *   Crypto.prototype.subtle                 crypto_subtle      getter; SubtleCrypto made on first access
 *   SubtleCrypto.prototype.digest           subtle_digest      -> op_digest
 *   SubtleCrypto.prototype.encrypt/decrypt  subtle_encrypt/... -> ew__crypto_encrypt/decrypt (crypto_ops.c)
 *   SubtleCrypto.prototype.sign/verify      -> ew__crypto_sign/verify (crypto_ops.c)
 *   SubtleCrypto.prototype.generateKey      -> ew__crypto_generate_key (crypto_key.c)
 *   SubtleCrypto.prototype.deriveKey/Bits   -> ew__crypto_derive_key/bits (crypto_ops.c)
 *   SubtleCrypto.prototype.importKey/exportKey -> ew__crypto_import_key/export_key (crypto_key.c)
 *   SubtleCrypto.prototype.wrapKey/unwrapKey -> ew__crypto_wrap_key/unwrap_key (crypto_ops.c)
 *   SubtleCrypto.prototype.timingSafeEqual  subtle_timing_safe_equal (synchronous, Workers)
 *   SubtleCrypto, CryptoKey                 global getters that make the classes on first access
 *   CryptoKey.prototype.type/extractable/algorithm/usages   crypto_key.c
 */

static const ew__method_t crypto_methods[] = {
    {"getRandomValues", crypto_get_random_values, 1, 1},
    {"randomUUID", crypto_random_uuid, 0, 0},
    {NULL, NULL, 0, 0},
};

static const ew__getter_t crypto_getters[] = {
    {"subtle", crypto_subtle},
    {NULL, NULL},
};

static const ew__class_t crypto_class = {
    .name = "Crypto",
    .ctor = illegal_ctor,
    .methods = crypto_methods,
    .getters = crypto_getters,
};

static const ew__method_t subtle_methods[] = {
    {"encrypt", subtle_encrypt, 3, 3},
    {"decrypt", subtle_decrypt, 3, 3},
    {"sign", subtle_sign, 3, 3},
    {"verify", subtle_verify, 4, 4},
    {"digest", subtle_digest, 2, 2},
    {"generateKey", subtle_generate_key, 3, 3},
    {"deriveKey", subtle_derive_key, 5, 5},
    {"deriveBits", subtle_derive_bits, 3, 2},
    {"importKey", subtle_import_key, 5, 5},
    {"exportKey", subtle_export_key, 2, 2},
    {"wrapKey", subtle_wrap_key, 4, 4},
    {"unwrapKey", subtle_unwrap_key, 7, 7},
    {"timingSafeEqual", subtle_timing_safe_equal, 2, 2},
    {NULL, NULL, 0, 0},
};

static const ew__class_t subtle_class = {
    .name = "SubtleCrypto",
    .ctor = illegal_ctor,
    .methods = subtle_methods,
};

/* Makes SubtleCrypto and CryptoKey once per heap and puts their constructors on the global object as
 * ordinary data properties (replacing the lazy getters). */
static void ensure_subtle_classes(duk_context *ctx)
{
    ew__dom_push_proto(ctx, STASH_SUBTLE);
    bool made = !duk_is_undefined(ctx, -1);
    duk_pop(ctx);
    if (made)
        return;
    duk_push_global_object(ctx);
    ew__dom_def_class(ctx, -1, &subtle_class, STASH_SUBTLE);
    duk_pop(ctx);
    ew__ckey_def_class(ctx); /* defines the global CryptoKey too */
}

/* Global SubtleCrypto / CryptoKey before first use (magic 0 / 1). */
static duk_ret_t lazy_global(duk_context *ctx)
{
    ensure_subtle_classes(ctx);
    duk_push_global_object(ctx);
    duk_get_prop_string(ctx, -1, duk_get_current_magic(ctx) == 0 ? "SubtleCrypto" : "CryptoKey");
    return 1;
}

static void def_lazy_global(duk_context *ctx, duk_idx_t global_idx, const char *name, int magic)
{
    duk_push_string(ctx, name);
    duk_push_c_function(ctx, lazy_global, 0);
    duk_set_magic(ctx, -1, magic);
    duk_def_prop(ctx, global_idx,
                 DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
}

void ew__crypto_init(duk_context *ctx, duk_idx_t global_idx)
{
    global_idx = duk_require_normalize_index(ctx, global_idx);
    ew__dom_def_class(ctx, global_idx, &crypto_class, DUK_HIDDEN_SYMBOL("pCR"));
    duk_push_object(ctx);
    duk_dup(ctx, -2);
    duk_set_prototype(ctx, -2);
    ew__def_hidden_value(ctx, global_idx, "crypto");
    duk_pop(ctx);
    def_lazy_global(ctx, global_idx, "SubtleCrypto", 0);
    def_lazy_global(ctx, global_idx, "CryptoKey", 1);
}
