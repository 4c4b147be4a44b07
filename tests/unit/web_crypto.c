/* WebCrypto (lib/web/crypto*.c) on a bare heap: crypto.getRandomValues/randomUUID, and crypto.subtle against
 * known-answer vectors (FIPS 180 SHA, RFC 4231 HMAC, RFC 5869 HKDF, RFC 6070 PBKDF2, NIST AES-GCM/CBC/CTR,
 * RFC 3394 AES-KW), sign/verify round trips, key import/export, the spec's error names, and JWT verification
 * (HS256, RS256, ES256) of tokens made once with OpenSSL 3.0 from fixed keys (the vectors below). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "web/internal.h"

/* Made with OpenSSL 3.0.19: HMAC secret "libedgeworker-test-secret-0123456789", an RSA-2048 key and a
 * P-256 key; payload {"sub":"1234567890","name":"libedgeworker","iat":1700000000}. */
static const char JWT_HS256[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6ImxpYmVkZ2V3b3JrZXIiLCJpYXQ"
    "iOjE3MDAwMDAwMDB9.WrNle_5DY3J5L8DpSt-anmGVsGBGbq-ldHtpXG9kcaI";
static const char JWT_RS256[] =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6ImxpYmVkZ2V3b3JrZXIiLCJpYXQ"
    "iOjE3MDAwMDAwMDB9.PNBoC-m-wmSOehA2bYsbMSCkU7upy6a9iivmUq4kt8lRsmBnh7voJmW9R1RcbA8FPlrav_crURCkqodF5j"
    "cmUDORU9pLwqUsqUZSaNdzKStbip0bq7fwy1XQSS1suJ1aEKxE_57jMacUq7c1wNsPNhQ7k3MXnPYOLOvUALPdtF0CDnRb-erCy8"
    "LkXsRmRc_H7VmH3KwCubYzPVKWXIgFioI29WMGQAN2bObV-XiN7MTCnCODhRVn93tdDlWlQUrTY_uxLhVpcUwb8FcLZc1Q7GrlO-"
    "Wb2-YQ8-JvsAFlm4u78UupVWhGAxnnWJAES1Fx77jWlwDJAeZraCle31IsjQ";
static const char JWT_ES256[] =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6ImxpYmVkZ2V3b3JrZXIiLCJpYXQ"
    "iOjE3MDAwMDAwMDB9.OSSWynTi27ThV3xT0-7R8TuqVkJF8h6LLEo6f0WkJ-sRdp7o8UtYh7se98DckOWUjQWIvGlWuZVGPvMkK8"
    "XBgA";
static const char RSA_PUBLIC_JWK[] =
    "{\"kty\":\"RSA\",\"n\":\"kj2uZg0S4t4Zn0D823ISs9uIkglGPJyHm-M9-Qr4R3_hfvUSMuh5IVa6PaTX6rnBlBrMPqcz02VNaLfb_z"
    "sxN7rhkoEGwEmvZRLv-zKzZCm_mzzxRDCKe3ZG9RtsuHDaOB1fF0Ou0tJ29GmQg1d25WkjRIUE76dxVrCvdLX0h1I-SkoDvJZiX2"
    "pvtEKOX3olqVKZJn7RyJmp0wgRSMd44qhSCgXvYgMwvGs9_NXuKBkP8bFXP07U7pEektxd63P1VC91badhvCAnbNAMSkKzyvsI8Q"
    "z-kPx64WSN774Uj5Iu1P2KoNYZXWbmcN2hpjWhm3vZUvmDE-5pjg-0v_UpLQ\",\"e\":\"AQAB\",\"alg\":\"RS256\"}";
static const char EC_PUBLIC_JWK[] =
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"-nu1TtxLEIFCWOVsLmePGp8pFLnb3azB3QAF0x4K3w4\",\"y\":\"MGYFDmL-ej1B6JAv2Tk"
    "ZV7MG5cqAmPTJHqEkeVCJDsI\"}";
static const char RSA_SPKI_B64[] =
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAkj2uZg0S4t4Zn0D823ISs9uIkglGPJyHm+M9+Qr4R3/hfvUSMuh5IVa6"
    "PaTX6rnBlBrMPqcz02VNaLfb/zsxN7rhkoEGwEmvZRLv+zKzZCm/mzzxRDCKe3ZG9RtsuHDaOB1fF0Ou0tJ29GmQg1d25WkjRIUE"
    "76dxVrCvdLX0h1I+SkoDvJZiX2pvtEKOX3olqVKZJn7RyJmp0wgRSMd44qhSCgXvYgMwvGs9/NXuKBkP8bFXP07U7pEektxd63P1"
    "VC91badhvCAnbNAMSkKzyvsI8Qz+kPx64WSN774Uj5Iu1P2KoNYZXWbmcN2hpjWhm3vZUvmDE+5pjg+0v/UpLQIDAQAB";
static const char EC_SPKI_B64[] =
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+nu1TtxLEIFCWOVsLmePGp8pFLnb3azB3QAF0x4K3w4wZgUOYv56PUHokC/ZORlX"
    "swblyoCY9MkeoSR5UIkOwg==";
static const char EC_PKCS8_B64[] =
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgwkCS1z+aKENMF+us12VVf6/Vb91o0vv3vczYXVaLmiqhRANCAAT6"
    "e7VO3EsQgUJY5WwuZ48anykUudvdrMHdAAXTHgrfDjBmBQ5i/no9QeiQL9k5GVezBuXKgJj0yR6hJHlQiQ7C";

static duk_context *ctx;

/* ES5 helpers every test may use. */
static const char prelude[] =
    "function hex(b) { var u = new Uint8Array(b), s = ''; for (var i = 0; i < u.length; i++)"
    "  s += (u[i] < 16 ? '0' : '') + u[i].toString(16); return s; }"
    "function unhex(s) { var u = new Uint8Array(s.length / 2); for (var i = 0; i < u.length; i++)"
    "  u[i] = parseInt(s.substr(2 * i, 2), 16); return u; }"
    "function utf8(s) { return new TextEncoder().encode(s); }"
    "function b64u(s) { s = s.replace(/-/g, '+').replace(/_/g, '/'); while (s.length % 4) s += '=';"
    "  var b = atob(s), u = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) u[i] = b.charCodeAt(i);"
    "  return u; }"
    "function b64(s) { var b = atob(s), u = new Uint8Array(b.length); for (var i = 0; i < b.length; i++)"
    "  u[i] = b.charCodeAt(i); return u; }"
    "var subtle = crypto.subtle;"
    "function show(v) { return v instanceof ArrayBuffer ? hex(v) : (v && typeof v === 'object' &&"
    "  !(v instanceof Error)) ? JSON.stringify(v) : String(v); }"
    "function verifyJwt(token, key, alg) { var p = token.split('.');"
    "  return subtle.verify(alg, key, b64u(p[2]), utf8(p[0] + '.' + p[1])).then(function (ok) {"
    "    return ok ? JSON.parse(new TextDecoder().decode(b64u(p[1]))).name : 'bad signature'; }); }";

static void setup(void)
{
    ctx = duk_create_heap_default();
    ew__microtask_init(ctx);
    ew__builtins_init(ctx);
    ew__promise_init(ctx);
    ew__collections_init(ctx);
    ew__web_init(ctx);
    cr_assert_eq(duk_peval_string(ctx, prelude), 0, "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
}

static void teardown(void)
{
    duk_destroy_heap(ctx);
}

TestSuite(web_crypto, .init = setup, .fini = teardown);

/* Evaluates ES5 source and returns String(result), or "THROWN <name>: <message>". */
static const char *run(const char *js)
{
    static char out[8192];
    if (duk_peval_string(ctx, js) != DUK_EXEC_SUCCESS) {
        duk_get_prop_string(ctx, -1, "name");
        duk_get_prop_string(ctx, -2, "message");
        snprintf(out, sizeof(out), "THROWN %s: %s", duk_safe_to_string(ctx, -2), duk_safe_to_string(ctx, -1));
        duk_pop_3(ctx);
        return out;
    }
    snprintf(out, sizeof(out), "%s", duk_safe_to_string(ctx, -1));
    duk_pop(ctx);
    return out;
}

/* Evaluates an expression giving a promise, drains the microtasks, and returns show(value) or
 * "REJECTED <name>: <message>" (or "PENDING"). */
static const char *await_js(const char *expr)
{
    static char js[16384];
    snprintf(js, sizeof(js),
             "var R = 'PENDING'; Promise.resolve().then(function () { return (%s); }).then("
             "function (v) { R = show(v); }, function (e) { R = 'REJECTED ' + e.name + ': ' + e.message; }); R",
             expr);
    const char *r = run(js);
    cr_assert(strncmp(r, "THROWN", 6) != 0, "%s", r);
    ew__microtask_drain(ctx);
    return run("R");
}

static void set_global(const char *name, const char *value)
{
    duk_push_global_object(ctx);
    duk_push_string(ctx, value);
    duk_put_prop_string(ctx, -2, name);
    duk_pop(ctx);
}

#define EXPECT(expr, expected)                                                                               \
    do {                                                                                                     \
        const char *got_ = await_js(expr);                                                                   \
        cr_expect_str_eq(got_, (expected), "%s\n  got: %s", (expr), got_);                                  \
    } while (0)

/* ---------------------------------------------------------------------------------------------------------
 * crypto.getRandomValues / randomUUID
 */

Test(web_crypto, get_random_values_fills_integer_arrays)
{
    cr_expect_str_eq(run("var a = new Uint32Array(64); crypto.getRandomValues(a) === a"), "true");
    cr_expect_str_eq(run("var z = 0; for (var i = 0; i < 64; i++) if (a[i] === 0) z++; z < 4"), "true");
    cr_expect_str_eq(run("crypto.getRandomValues(new Int8Array(65536)).length"), "65536");
    cr_expect_str_eq(run("crypto.getRandomValues(new Uint8ClampedArray(3)).length"), "3");
}

Test(web_crypto, get_random_values_rejects_floats_and_big_arrays)
{
    cr_expect_str_eq(run("try { crypto.getRandomValues(new Float64Array(2)) } catch (e) { e.name + ' ' + e.code }"),
                     "TypeMismatchError 17");
    cr_expect_str_eq(run("try { crypto.getRandomValues(new DataView(new ArrayBuffer(2))) } catch (e) { e.name }"),
                     "TypeMismatchError");
    cr_expect_str_eq(run("try { crypto.getRandomValues(new Uint8Array(65537)) } catch (e) { e.name + ' ' + e.code }"),
                     "QuotaExceededError 22");
    cr_expect_str_eq(run("try { crypto.getRandomValues(3) } catch (e) { e.name }"), "TypeError");
}

Test(web_crypto, random_uuid_is_version_4)
{
    cr_expect_str_eq(run("/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/"
                         ".test(crypto.randomUUID())"),
                     "true");
    cr_expect_str_eq(run("crypto.randomUUID() !== crypto.randomUUID()"), "true");
}

Test(web_crypto, globals_and_classes)
{
    cr_expect_str_eq(run("crypto.subtle === crypto.subtle"), "true");
    cr_expect_str_eq(run("crypto.subtle instanceof SubtleCrypto && crypto instanceof Crypto"), "true");
    cr_expect_str_eq(run("try { new CryptoKey() } catch (e) { e.name }"), "TypeError");
    cr_expect_str_eq(run("Object.prototype.toString.call(crypto.subtle)"), "[object SubtleCrypto]");
}

/* ---------------------------------------------------------------------------------------------------------
 * digest (FIPS 180-4 examples; MD5 from RFC 1321)
 */

Test(web_crypto, digest_known_answers)
{
    EXPECT("subtle.digest('SHA-1', utf8('abc'))", "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT("subtle.digest({ name: 'SHA-256' }, utf8('abc'))",
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT("subtle.digest('sha-384', utf8('abc'))",
           "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
    EXPECT("subtle.digest('SHA-512', utf8('abc').buffer)",
           "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643c"
           "e80e2a9ac94fa54ca49f");
    EXPECT("subtle.digest('MD5', new Uint8Array(0))", "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT("subtle.digest('SHA-256', new DataView(utf8('xabcx').buffer, 1, 3))",
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(web_crypto, digest_errors_reject)
{
    EXPECT("subtle.digest('SHA-3', new Uint8Array(1))", "REJECTED NotSupportedError: Unrecognized hash algorithm name: SHA-3");
    cr_expect(strncmp(await_js("subtle.digest('SHA-256', 'text')"), "REJECTED TypeError", 18) == 0);
    cr_expect_str_eq(run("subtle.digest('nope') instanceof Promise"), "true"); /* rejects, never throws */
    ew__microtask_drain(ctx);
}

/* ---------------------------------------------------------------------------------------------------------
 * HMAC (RFC 4231 test cases 1 and 2)
 */

Test(web_crypto, hmac_rfc4231)
{
    EXPECT("subtle.importKey('raw', unhex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'), { name: 'HMAC', hash: 'SHA-256' },"
           " false, ['sign']).then(function (k) { return subtle.sign('HMAC', k, utf8('Hi There')); })",
           "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT("subtle.importKey('raw', unhex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'), { name: 'HMAC', hash: 'SHA-512' },"
           " false, ['sign']).then(function (k) { return subtle.sign('HMAC', k, utf8('Hi There')); })",
           "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb6"
           "1f1702e696c203a126854");
    EXPECT("subtle.importKey('raw', utf8('Jefe'), { name: 'HMAC', hash: { name: 'SHA-384' } }, false, ['sign'])"
           ".then(function (k) { return subtle.sign({ name: 'HMAC' }, k, utf8('what do ya want for nothing?')); })",
           "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649");
}

Test(web_crypto, hmac_verify_and_key_properties)
{
    EXPECT("subtle.importKey('raw', utf8('Jefe'), { name: 'HMAC', hash: 'SHA-256' }, true, ['verify', 'sign'])"
           ".then(function (k) { return [k.type, k.extractable, k.usages.join(), k.algorithm.name,"
           " k.algorithm.hash.name, k.algorithm.length, k.algorithm === k.algorithm, k instanceof CryptoKey].join(); })",
           "secret,true,sign,verify,HMAC,SHA-256,32,true,true");
    EXPECT("subtle.importKey('raw', utf8('Jefe'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])"
           ".then(function (k) { return subtle.verify('HMAC', k, unhex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'),"
           " utf8('what do ya want for nothing?')); })",
           "true");
    EXPECT("subtle.importKey('raw', utf8('Jefe'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])"
           ".then(function (k) { return subtle.verify('HMAC', k, new Uint8Array(32), utf8('x')); })",
           "false");
}

Test(web_crypto, usage_and_algorithm_mismatch_is_invalid_access)
{
    EXPECT("subtle.importKey('raw', utf8('Jefe'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])"
           ".then(function (k) { return subtle.sign('HMAC', k, utf8('x')); })",
           "REJECTED InvalidAccessError: The requested operation is not valid for the provided key: its usages do "
           "not include 'sign'");
    cr_expect(strncmp(await_js("subtle.importKey('raw', new Uint8Array(16), 'AES-GCM', false, ['encrypt'])"
                               ".then(function (k) { return subtle.sign('HMAC', k, utf8('x')); })"),
                      "REJECTED InvalidAccessError", 27) == 0);
    EXPECT("subtle.importKey('raw', utf8('k'), { name: 'HMAC', hash: 'SHA-256' }, false, ['encrypt'])",
           "REJECTED SyntaxError: Cannot create a key using the specified key usages.");
    EXPECT("subtle.importKey('raw', utf8('k'), { name: 'HMAC', hash: 'SHA-256' }, false, [])",
           "REJECTED SyntaxError: Usages cannot be empty when creating a key.");
    cr_expect(strncmp(await_js("subtle.importKey('raw', utf8('k'), { name: 'HMAC' }, false, ['sign'])"),
                      "REJECTED TypeError", 18) == 0);
    cr_expect(strncmp(await_js("subtle.importKey('xml', utf8('k'), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign'])"),
                      "REJECTED TypeError", 18) == 0);
}

Test(web_crypto, hmac_jwk_import_and_export)
{
    /* RFC 7515 appendix A.1's HS256 key. */
    set_global("JWK", "{\"kty\":\"oct\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}");
    EXPECT("subtle.importKey('jwk', JSON.parse(JWK), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign'])"
           ".then(function (k) { return subtle.sign('HMAC', k, utf8('eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KIC"
           "JleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ')); })"
           ".then(function (sig) { return btoa(String.fromCharCode.apply(null, new Uint8Array(sig))); })",
           "dBjftJeZ4CVP+mB92K27uhbUJU1p1r/wW1gFWFOEjXk=");
    EXPECT("subtle.importKey('jwk', JSON.parse(JWK), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign'])"
           ".then(function (k) { return subtle.exportKey('jwk', k); })"
           ".then(function (j) { return [j.kty, j.alg, j.k === JSON.parse(JWK).k, j.ext, j.key_ops.join()].join(); })",
           "oct,HS256,true,true,sign");
    EXPECT("subtle.importKey('jwk', { kty: 'oct', k: 'AAAA', alg: 'HS512' }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign'])",
           "REJECTED DataError: The JWK \"alg\" member was inconsistent with that specified by the Web Crypto call (HS256)");
    EXPECT("subtle.importKey('jwk', { kty: 'oct', k: 'AAAA', ext: false }, { name: 'HMAC', hash: 'SHA-256' }, true, ['sign'])",
           "REJECTED DataError: The JWK \"ext\" member was false but the key is to be extractable");
    EXPECT("subtle.importKey('raw', utf8('abc'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])"
           ".then(function (k) { return subtle.exportKey('raw', k); })",
           "REJECTED InvalidAccessError: The key is not extractable");
}

Test(web_crypto, hmac_generate_key)
{
    EXPECT("subtle.generateKey({ name: 'HMAC', hash: 'SHA-512' }, true, ['sign', 'verify'])"
           ".then(function (k) { return subtle.exportKey('raw', k); }).then(function (b) { return b.byteLength; })",
           "128");
    EXPECT("subtle.generateKey({ name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign'])"
           ".then(function (k) { return k.algorithm.length; })",
           "256");
}

/* ---------------------------------------------------------------------------------------------------------
 * AES (NIST SP 800-38D test cases 3 and 4; SP 800-38A F.2.1 and F.5.1; RFC 3394 section 4.1)
 */

#define GCM_KEY "unhex('feffe9928665731c6d6a8f9467308308')"
#define GCM_PT "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_CT "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"

Test(web_crypto, aes_gcm_nist)
{
    EXPECT("subtle.importKey('raw', " GCM_KEY ", 'AES-GCM', false, ['encrypt']).then(function (k) {"
           " return subtle.encrypt({ name: 'AES-GCM', iv: unhex('cafebabefacedbaddecaf888') }, k, unhex('" GCM_PT "1aafd255')); })",
           GCM_CT "473f5985" "4d5c2af327cd64a62cf35abd2ba6fab4");
    EXPECT("subtle.importKey('raw', " GCM_KEY ", 'AES-GCM', false, ['encrypt']).then(function (k) {"
           " return subtle.encrypt({ name: 'AES-GCM', iv: unhex('cafebabefacedbaddecaf888'),"
           " additionalData: unhex('feedfacedeadbeeffeedfacedeadbeefabaddad2') }, k, unhex('" GCM_PT "')); })",
           GCM_CT "5bc94fbc3221a5db94fae95ae7121a47");
    EXPECT("subtle.importKey('raw', " GCM_KEY ", 'AES-GCM', false, ['decrypt']).then(function (k) {"
           " return subtle.decrypt({ name: 'AES-GCM', iv: unhex('cafebabefacedbaddecaf888'),"
           " additionalData: unhex('feedfacedeadbeeffeedfacedeadbeefabaddad2') }, k, unhex('" GCM_CT "5bc94fbc3221a5db94fae95ae7121a47')); })",
           GCM_PT);
}

Test(web_crypto, aes_gcm_rejects_tampering)
{
    EXPECT("subtle.importKey('raw', " GCM_KEY ", 'AES-GCM', false, ['decrypt']).then(function (k) {"
           " return subtle.decrypt({ name: 'AES-GCM', iv: unhex('cafebabefacedbaddecaf888') }, k, unhex('" GCM_CT "5bc94fbc3221a5db94fae95ae7121a48')); })",
           "REJECTED OperationError: Decryption failed: the data or the tag is invalid");
    EXPECT("subtle.importKey('raw', new Uint8Array(20), 'AES-GCM', false, ['decrypt'])",
           "REJECTED DataError: Imported AES key length must be 128, 192 or 256 bits but provided 160.");
    EXPECT("subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']).then(function (k) {"
           " var iv = crypto.getRandomValues(new Uint8Array(12));"
           " return subtle.encrypt({ name: 'AES-GCM', iv: iv, tagLength: 96 }, k, utf8('hello')).then(function (c) {"
           "  return subtle.decrypt({ name: 'AES-GCM', iv: iv, tagLength: 96 }, k, c); }); })"
           ".then(function (p) { return new TextDecoder().decode(p); })",
           "hello");
}

Test(web_crypto, aes_cbc_and_ctr_nist)
{
    EXPECT("subtle.importKey('raw', unhex('2b7e151628aed2a6abf7158809cf4f3c'), 'AES-CBC', false, ['encrypt']).then(function (k) {"
           " return subtle.encrypt({ name: 'AES-CBC', iv: unhex('000102030405060708090a0b0c0d0e0f') }, k,"
           " unhex('6bc1bee22e409f96e93d7e117393172a')); }).then(function (c) { return hex(c).substr(0, 32) + ' ' + c.byteLength; })",
           "7649abac8119b246cee98e9b12e9197d 32");
    EXPECT("subtle.importKey('raw', unhex('2b7e151628aed2a6abf7158809cf4f3c'), 'AES-CBC', false, ['encrypt', 'decrypt']).then(function (k) {"
           " var p = { name: 'AES-CBC', iv: new Uint8Array(16) };"
           " return subtle.encrypt(p, k, utf8('sixteen bytes!!!')).then(function (c) { return subtle.decrypt(p, k, c); }); })"
           ".then(function (p) { return new TextDecoder().decode(p); })",
           "sixteen bytes!!!");
    EXPECT("subtle.importKey('raw', unhex('2b7e151628aed2a6abf7158809cf4f3c'), 'AES-CTR', false, ['encrypt']).then(function (k) {"
           " return subtle.encrypt({ name: 'AES-CTR', counter: unhex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff'), length: 64 }, k,"
           " unhex('6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51')); })",
           "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
    /* A 1-bit counter wraps within its bit: from ...01 the second block uses counter ...00. */
    EXPECT("subtle.importKey('raw', new Uint8Array(16), 'AES-CTR', false, ['encrypt']).then(function (k) {"
           " var c1 = new Uint8Array(16); c1[15] = 0xff;"
           " return Promise.all([subtle.encrypt({ name: 'AES-CTR', counter: c1, length: 1 }, k, new Uint8Array(32)),"
           "  subtle.encrypt({ name: 'AES-CTR', counter: unhex('000000000000000000000000000000fe'), length: 1 }, k,"
           "  new Uint8Array(16))]); }).then(function (c) { return hex(c[0]).substr(32) === hex(c[1]); })",
           "true");
    EXPECT("subtle.importKey('raw', new Uint8Array(16), 'AES-CTR', false, ['encrypt']).then(function (k) {"
           " return subtle.encrypt({ name: 'AES-CTR', counter: new Uint8Array(16), length: 1 }, k, new Uint8Array(48)); })",
           "REJECTED OperationError: The input is too long for the counter length");
}

Test(web_crypto, aes_kw_rfc3394)
{
    EXPECT("Promise.all([subtle.importKey('raw', unhex('000102030405060708090a0b0c0d0e0f'), 'AES-KW', false, ['wrapKey']),"
           " subtle.importKey('raw', unhex('00112233445566778899aabbccddeeff'), 'AES-GCM', true, ['encrypt'])])"
           ".then(function (ks) { return subtle.wrapKey('raw', ks[1], ks[0], 'AES-KW'); })",
           "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
    EXPECT("subtle.importKey('raw', unhex('000102030405060708090a0b0c0d0e0f'), 'AES-KW', false, ['unwrapKey'])"
           ".then(function (kek) { return subtle.unwrapKey('raw', unhex('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5'),"
           " kek, 'AES-KW', 'AES-GCM', true, ['encrypt']); }).then(function (k) { return subtle.exportKey('raw', k); })",
           "00112233445566778899aabbccddeeff");
    EXPECT("subtle.importKey('raw', unhex('000102030405060708090a0b0c0d0e0f'), 'AES-KW', false, ['unwrapKey'])"
           ".then(function (kek) { return subtle.unwrapKey('raw', unhex('1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe6'),"
           " kek, 'AES-KW', 'AES-GCM', true, ['encrypt']); })",
           "REJECTED OperationError: AES-KW unwrap failed: integrity check");
}

Test(web_crypto, wrap_jwk_with_aes_gcm)
{
    EXPECT("Promise.all([subtle.generateKey({ name: 'AES-GCM', length: 128 }, false, ['wrapKey', 'unwrapKey']),"
           " subtle.importKey('raw', utf8('Jefe'), { name: 'HMAC', hash: 'SHA-256' }, true, ['sign'])]).then(function (ks) {"
           " var p = { name: 'AES-GCM', iv: new Uint8Array(12) };"
           " return subtle.wrapKey('jwk', ks[1], ks[0], p).then(function (w) {"
           "  return subtle.unwrapKey('jwk', w, ks[0], p, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']); }); })"
           ".then(function (k) { return subtle.sign('HMAC', k, utf8('what do ya want for nothing?')); })",
           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* ---------------------------------------------------------------------------------------------------------
 * HKDF (RFC 5869 A.1), PBKDF2 (RFC 6070), ECDH
 */

Test(web_crypto, hkdf_rfc5869)
{
    EXPECT("subtle.importKey('raw', unhex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'), 'HKDF', false, ['deriveBits'])"
           ".then(function (k) { return subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: unhex('000102030405060708090a0b0c'),"
           " info: unhex('f0f1f2f3f4f5f6f7f8f9') }, k, 42 * 8); })",
           "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    EXPECT("subtle.importKey('raw', utf8('x'), 'HKDF', true, ['deriveBits'])",
           "REJECTED SyntaxError: HKDF keys cannot be extractable");
}

Test(web_crypto, pbkdf2_rfc6070)
{
    const char *base = "subtle.importKey('raw', utf8('password'), 'PBKDF2', false, ['deriveBits', 'deriveKey'])"
                       ".then(function (k) { return subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-1', salt: utf8('salt'),"
                       " iterations: %s }, k, 160); })";
    char js[1024];
    snprintf(js, sizeof(js), base, "1");
    EXPECT(js, "0c60c80f961f0e71f3a9b524af6012062fe037a6");
    snprintf(js, sizeof(js), base, "2");
    EXPECT(js, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    snprintf(js, sizeof(js), base, "4096");
    EXPECT(js, "4b007901b765489abead49d926f721d065a429c1");
    snprintf(js, sizeof(js), base, "0");
    EXPECT(js, "REJECTED OperationError: PBKDF2 iterations must not be zero");
    EXPECT("subtle.importKey('raw', utf8('password'), 'PBKDF2', false, ['deriveKey']).then(function (k) {"
           " return subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-1', salt: utf8('salt'), iterations: 1 }, k,"
           " { name: 'AES-GCM', length: 128 }, true, ['encrypt']); }).then(function (k) { return subtle.exportKey('raw', k); })",
           "0c60c80f961f0e71f3a9b524af601206");
}

Test(web_crypto, ecdh_agrees)
{
    EXPECT("Promise.all([subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']),"
           " subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits'])]).then(function (ks) {"
           " return Promise.all([subtle.deriveBits({ name: 'ECDH', public: ks[1].publicKey }, ks[0].privateKey, 256),"
           "  subtle.deriveBits({ name: 'ECDH', public: ks[0].publicKey }, ks[1].privateKey, null)]); })"
           ".then(function (b) { return hex(b[0]) === hex(b[1]) && b[0].byteLength === 32; })",
           "true");
}

/* ---------------------------------------------------------------------------------------------------------
 * RSA and ECDSA
 */

Test(web_crypto, rsa_round_trips)
{
    EXPECT("subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]),"
           " hash: 'SHA-256' }, true, ['sign', 'verify']).then(function (kp) {"
           " return subtle.sign('RSASSA-PKCS1-v1_5', kp.privateKey, utf8('msg')).then(function (s) {"
           "  return Promise.all([subtle.verify('RSASSA-PKCS1-v1_5', kp.publicKey, s, utf8('msg')),"
           "   subtle.verify('RSASSA-PKCS1-v1_5', kp.publicKey, s, utf8('msh')), s.byteLength,"
           "   kp.publicKey.algorithm.modulusLength, hex(kp.publicKey.algorithm.publicExponent), kp.privateKey.usages.join(),"
           "   kp.publicKey.usages.join(), kp.publicKey.extractable]); }); })"
           ".then(function (r) { return r.join(); })",
           "true,false,128,1024,010001,sign,verify,true");
}

Test(web_crypto, rsa_pss_and_oaep_with_exported_keys)
{
    EXPECT("subtle.generateKey({ name: 'RSA-PSS', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]),"
           " hash: 'SHA-256' }, true, ['sign', 'verify']).then(function (kp) {"
           " return Promise.all([subtle.exportKey('spki', kp.publicKey), subtle.exportKey('pkcs8', kp.privateKey)]); })"
           ".then(function (der) { return Promise.all([subtle.importKey('spki', der[0], { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['verify']),"
           "  subtle.importKey('pkcs8', der[1], { name: 'RSA-PSS', hash: 'SHA-256' }, false, ['sign'])]); })"
           ".then(function (ks) { var a = { name: 'RSA-PSS', saltLength: 32 };"
           " return subtle.sign(a, ks[1], utf8('m')).then(function (s) { return subtle.verify(a, ks[0], s, utf8('m')); }); })",
           "true");
    EXPECT("subtle.generateKey({ name: 'RSA-OAEP', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]),"
           " hash: 'SHA-256' }, true, ['encrypt', 'decrypt']).then(function (kp) {"
           " return subtle.exportKey('jwk', kp.privateKey).then(function (j) {"
           "  return subtle.importKey('jwk', j, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']); })"
           " .then(function (priv) { var a = { name: 'RSA-OAEP', label: utf8('L') };"
           "  return subtle.encrypt(a, kp.publicKey, utf8('secret')).then(function (c) { return subtle.decrypt(a, priv, c); }); }); })"
           ".then(function (p) { return new TextDecoder().decode(p); })",
           "secret");
}

Test(web_crypto, ecdsa_round_trip_and_formats)
{
    EXPECT("subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']).then(function (kp) {"
           " var a = { name: 'ECDSA', hash: 'SHA-384' };"
           " return subtle.sign(a, kp.privateKey, utf8('m')).then(function (s) {"
           "  return subtle.exportKey('raw', kp.publicKey).then(function (raw) {"
           "   return subtle.importKey('raw', raw, { name: 'ECDSA', namedCurve: 'P-384' }, true, ['verify']); })"
           "  .then(function (pub) { return Promise.all([subtle.verify(a, pub, s, utf8('m')), s.byteLength,"
           "   pub.algorithm.namedCurve]); }); }); }).then(function (r) { return r.join(); })",
           "true,96,P-384");
    set_global("EC_PKCS8", EC_PKCS8_B64);
    set_global("EC_JWK", EC_PUBLIC_JWK);
    EXPECT("subtle.importKey('pkcs8', b64(EC_PKCS8), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign'])"
           ".then(function (k) { return Promise.all([subtle.exportKey('jwk', k), subtle.exportKey('pkcs8', k)]); })"
           ".then(function (r) { var j = JSON.parse(EC_JWK);"
           " return [r[0].kty, r[0].crv, r[0].x === j.x, r[0].y === j.y, typeof r[0].d, r[1].byteLength > 100].join(); })",
           "EC,P-256,true,true,string,true");
    EXPECT("subtle.importKey('pkcs8', b64(EC_PKCS8), { name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign'])",
           "REJECTED DataError: The key's curve (P-256) does not match namedCurve P-384");
}

Test(web_crypto, ed25519_is_not_supported)
{
    EXPECT("subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])",
           "REJECTED NotSupportedError: Ed25519 is not supported: libedgeworker's crypto library (mbedTLS 2.28) does "
           "not implement it");
    EXPECT("subtle.importKey('raw', new Uint8Array(32), 'Ed25519', false, ['verify'])",
           "REJECTED NotSupportedError: Ed25519 is not supported: libedgeworker's crypto library (mbedTLS 2.28) does "
           "not implement it");
}

Test(web_crypto, timing_safe_equal)
{
    cr_expect_str_eq(run("subtle.timingSafeEqual(utf8('abc'), utf8('abc'))"), "true");
    cr_expect_str_eq(run("subtle.timingSafeEqual(utf8('abc'), utf8('abd').buffer)"), "false");
    cr_expect_str_eq(run("try { subtle.timingSafeEqual(utf8('abc'), utf8('ab')) } catch (e) { e.name }"), "TypeError");
}

/* ---------------------------------------------------------------------------------------------------------
 * JWT verification end to end: the way a Worker checks a bearer token.
 */

Test(web_crypto, jwt_hs256)
{
    set_global("TOKEN", JWT_HS256);
    EXPECT("subtle.importKey('raw', utf8('libedgeworker-test-secret-0123456789'), { name: 'HMAC', hash: 'SHA-256' },"
           " false, ['verify']).then(function (k) { return verifyJwt(TOKEN, k, 'HMAC'); })",
           "libedgeworker");
    EXPECT("subtle.importKey('raw', utf8('wrong secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])"
           ".then(function (k) { return verifyJwt(TOKEN, k, 'HMAC'); })",
           "bad signature");
}

Test(web_crypto, jwt_rs256_with_jwk_and_spki)
{
    set_global("TOKEN", JWT_RS256);
    set_global("JWK", RSA_PUBLIC_JWK);
    set_global("SPKI", RSA_SPKI_B64);
    EXPECT("subtle.importKey('jwk', JSON.parse(JWK), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify'])"
           ".then(function (k) { return verifyJwt(TOKEN, k, 'RSASSA-PKCS1-v1_5'); })",
           "libedgeworker");
    EXPECT("subtle.importKey('spki', b64(SPKI), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify'])"
           ".then(function (k) { return verifyJwt(TOKEN.replace('.eyJ', '.eyK'), k, 'RSASSA-PKCS1-v1_5'); })",
           "bad signature");
    EXPECT("subtle.importKey('spki', b64(SPKI), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify'])"
           ".then(function (k) { return subtle.exportKey('jwk', k); }).then(function (j) {"
           " return j.n === JSON.parse(JWK).n && j.e === 'AQAB' && j.alg === 'RS256'; })",
           "true");
    EXPECT("subtle.importKey('jwk', JSON.parse(JWK), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }, false, ['verify'])",
           "REJECTED DataError: The JWK \"alg\" member was inconsistent with that specified by the Web Crypto call (RS384)");
}

Test(web_crypto, jwt_es256_with_jwk_and_spki)
{
    set_global("TOKEN", JWT_ES256);
    set_global("JWK", EC_PUBLIC_JWK);
    set_global("SPKI", EC_SPKI_B64);
    EXPECT("subtle.importKey('jwk', JSON.parse(JWK), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])"
           ".then(function (k) { return verifyJwt(TOKEN, k, { name: 'ECDSA', hash: 'SHA-256' }); })",
           "libedgeworker");
    EXPECT("subtle.importKey('spki', b64(SPKI), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])"
           ".then(function (k) { return verifyJwt(TOKEN, k, { name: 'ECDSA', hash: 'SHA-256' }); })",
           "libedgeworker");
    EXPECT("subtle.importKey('spki', b64(SPKI), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])"
           ".then(function (k) { return verifyJwt(TOKEN, k, { name: 'ECDSA', hash: 'SHA-384' }); })",
           "bad signature");
}

Test(web_crypto, fake_keys_are_not_keys)
{
    EXPECT("subtle.importKey('raw', utf8('Jefe'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])"
           ".then(function (k) { return subtle.sign('HMAC', Object.create(k), utf8('x')); })",
           "REJECTED TypeError: key is not a CryptoKey");
}
