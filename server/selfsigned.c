/*
 * selfsigned.c — `--local-protocol https` without --tls-cert: like `wrangler dev`, ew-server serves HTTPS
 * with a self-signed certificate for localhost (and 127.0.0.1, ::1) that it makes once and keeps in the
 * state folder (STATE/tls/localhost.pem and localhost-key.pem, the key readable by the owner only), so a
 * browser or `curl --cacert` can trust it across restarts. Made again when missing, unreadable or within a
 * day of expiry. ECDSA P-256, SHA-256, valid 365 days, with mbedTLS's x509write.
 */
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "selfsigned.h"

#define VALID_DAYS 365

/* subjectAltName: dNSName "localhost", iPAddress 127.0.0.1, iPAddress ::1 (DER). */
static const unsigned char SAN[] = {
    0x30, 0x23,
    0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't',
    0x87, 0x04, 127, 0, 0, 1,
    0x87, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

/* True if the pair at the paths loads and the certificate is valid for at least another day. */
static bool usable(const char *cert_path, const char *key_path)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    bool ok = mbedtls_x509_crt_parse_file(&crt, cert_path) == 0 &&
              mbedtls_pk_parse_keyfile(&key, key_path, NULL) == 0 && mbedtls_pk_check_pair(&crt.pk, &key) == 0;
    if (ok) {
        time_t t = time(NULL) + 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        const mbedtls_x509_time *to = &crt.valid_to;
        ok = to->year > tm.tm_year + 1900 ||
             (to->year == tm.tm_year + 1900 && (to->mon > tm.tm_mon + 1 || (to->mon == tm.tm_mon + 1 && to->day > tm.tm_mday)));
    }
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&key);
    return ok;
}

static bool write_file(const char *path, const unsigned char *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return false;
    bool ok = write(fd, data, len) == (ssize_t) len;
    ok = fsync(fd) == 0 && ok;
    return close(fd) == 0 && ok;
}

/* Makes the key and certificate into the two buffers (PEM, NUL-terminated). */
static int make(unsigned char *cert_pem, size_t cert_cap, unsigned char *key_pem, size_t key_cap)
{
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    char from[16], to[16];
    time_t now = time(NULL) - 3600, until = now + (time_t) VALID_DAYS * 86400;
    struct tm tm;
    strftime(from, sizeof(from), "%Y%m%d%H%M%S", gmtime_r(&now, &tm));
    strftime(to, sizeof(to), "%Y%m%d%H%M%S", gmtime_r(&until, &tm));
    int rc;
    if ((rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *) "ew-tls", 6)) ||
        (rc = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) ||
        (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), mbedtls_ctr_drbg_random, &drbg)) ||
        (rc = mbedtls_mpi_fill_random(&serial, 16, mbedtls_ctr_drbg_random, &drbg)) ||
        (rc = mbedtls_mpi_set_bit(&serial, 127, 0))) /* positive */
        goto out;
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, &key);
    mbedtls_x509write_crt_set_issuer_key(&crt, &key);
    if ((rc = mbedtls_x509write_crt_set_subject_name(&crt, "CN=localhost,O=ew-server local development")) ||
        (rc = mbedtls_x509write_crt_set_issuer_name(&crt, "CN=localhost,O=ew-server local development")) ||
        (rc = mbedtls_x509write_crt_set_serial(&crt, &serial)) ||
        (rc = mbedtls_x509write_crt_set_validity(&crt, from, to)) ||
        (rc = mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0)) || /* its own CA, for --cacert */
        (rc = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
                                                            MBEDTLS_X509_KU_KEY_CERT_SIGN)) ||
        (rc = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, SAN,
                                                  sizeof(SAN))) ||
        (rc = mbedtls_x509write_crt_pem(&crt, cert_pem, cert_cap, mbedtls_ctr_drbg_random, &drbg)) ||
        (rc = mbedtls_pk_write_key_pem(&key, key_pem, key_cap)))
        goto out;
out:
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    return rc;
}

bool srv_selfsigned_ensure(const char *state_dir, char *cert_path, char *key_path, size_t cap)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tls", state_dir);
    if ((size_t) snprintf(cert_path, cap, "%s/localhost.pem", dir) >= cap ||
        (size_t) snprintf(key_path, cap, "%s/localhost-key.pem", dir) >= cap) {
        fprintf(stderr, "ew-server: state folder path too long for the TLS files\n");
        return false;
    }
    if (usable(cert_path, key_path))
        return true;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "ew-server: cannot create %s: %s\n", dir, strerror(errno));
        return false;
    }
    static unsigned char cert_pem[4096], key_pem[2048];
    int rc = make(cert_pem, sizeof(cert_pem), key_pem, sizeof(key_pem));
    if (rc != 0) {
        char why[128];
        mbedtls_strerror(rc, why, sizeof(why));
        fprintf(stderr, "ew-server: cannot make a self-signed certificate: %s\n", why);
        return false;
    }
    if (!write_file(key_path, key_pem, strlen((char *) key_pem), 0600) ||
        !write_file(cert_path, cert_pem, strlen((char *) cert_pem), 0644)) {
        fprintf(stderr, "ew-server: cannot write %s: %s\n", dir, strerror(errno));
        return false;
    }
    printf("Made a self-signed certificate for localhost: %s (trust it to avoid browser warnings)\n", cert_path);
    return true;
}
