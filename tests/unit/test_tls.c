/*
 * tests/unit/test_tls.c - the checks of the HTTPS certificate and key
 * (server/tls.c), on files made here with GnuTLS: a self-signed ECDSA
 * certificate, its key, a second key, the key encrypted (PKCS#8), an
 * expired certificate, a text that is not PEM, a file over the cap and
 * one with a NUL byte. Each error names its file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server/tls.h"

struct pki {
    char dir[64];
    char cert[128], key[128], other_key[128], enc_key[128], expired[128],
        text[128], big[128], nul[128], missing[128];
};

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_datum(const char *path, gnutls_datum_t *d)
{
    write_file(path, d->data, d->size);
    gnutls_free(d->data);
}

static gnutls_x509_privkey_t new_key(void)
{
    gnutls_x509_privkey_t k;
    assert_int_equal(gnutls_x509_privkey_init(&k), 0);
    assert_int_equal(gnutls_x509_privkey_generate(
                         k, GNUTLS_PK_ECDSA,
                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
                     0);
    return k;
}

/* A self-signed certificate of key k valid over [from, to]. */
static void write_cert(const char *path, gnutls_x509_privkey_t k, time_t from,
                       time_t to)
{
    gnutls_x509_crt_t c;
    unsigned char serial[1] = {1};
    assert_int_equal(gnutls_x509_crt_init(&c), 0);
    assert_int_equal(gnutls_x509_crt_set_version(c, 3), 0);
    assert_int_equal(gnutls_x509_crt_set_serial(c, serial, 1), 0);
    assert_int_equal(gnutls_x509_crt_set_activation_time(c, from), 0);
    assert_int_equal(gnutls_x509_crt_set_expiration_time(c, to), 0);
    assert_int_equal(gnutls_x509_crt_set_dn_by_oid(
                         c, GNUTLS_OID_X520_COMMON_NAME, 0, "127.0.0.1", 9),
                     0);
    assert_int_equal(gnutls_x509_crt_set_key(c, k), 0);
    assert_int_equal(gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0), 0);
    gnutls_datum_t d;
    assert_int_equal(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d), 0);
    write_datum(path, &d);
    gnutls_x509_crt_deinit(c);
}

static int setup(void **state)
{
    struct pki *p = calloc(1, sizeof *p);
    assert_non_null(p);
    strcpy(p->dir, "/tmp/lift-test-tls-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
#define PATH(field, name)                                                      \
    snprintf(p->field, sizeof p->field, "%s/%s", p->dir, name)
    PATH(cert, "cert.pem");
    PATH(key, "key.pem");
    PATH(other_key, "other.pem");
    PATH(enc_key, "enc.pem");
    PATH(expired, "expired.pem");
    PATH(text, "text.pem");
    PATH(big, "big.pem");
    PATH(nul, "nul.pem");
    PATH(missing, "missing.pem");
#undef PATH
    time_t t = time(NULL);
    gnutls_x509_privkey_t k = new_key(), other = new_key();
    write_cert(p->cert, k, t - 3600, t + 86400);
    write_cert(p->expired, k, t - 7 * 86400, t - 86400);
    gnutls_datum_t d;
    assert_int_equal(gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d),
                     0);
    write_datum(p->key, &d);
    assert_int_equal(
        gnutls_x509_privkey_export2(other, GNUTLS_X509_FMT_PEM, &d), 0);
    write_datum(p->other_key, &d);
    assert_int_equal(gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM,
                                                       "secret", 0, &d),
                     0);
    write_datum(p->enc_key, &d);
    gnutls_x509_privkey_deinit(k);
    gnutls_x509_privkey_deinit(other);
    write_file(p->text, "hello, not a certificate\n", 25);
    char *big = malloc(TLS_PEM_MAX + 1);
    assert_non_null(big);
    memset(big, 'A', TLS_PEM_MAX + 1);
    write_file(p->big, big, TLS_PEM_MAX + 1);
    free(big);
    write_file(p->nul, "-----BEGIN\0", 11);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pki *p = *state;
    const char *files[] = {p->cert,    p->key,  p->other_key, p->enc_key,
                           p->expired, p->text, p->big,       p->nul};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(files[i]);
    rmdir(p->dir);
    free(p);
    return 0;
}

/* Loads (cert, key), expects code and a message holding every needle. */
static void expect(const char *cert, const char *key, enum lift_code code,
                   const char *needle1, const char *needle2)
{
    struct tls_pem pem;
    struct lift_error err;
    lift_error_clear(&err);
    enum lift_code rc = tls_pem_load(cert, key, &pem, &err);
    if (rc != code || (needle1 && !strstr(err.msg, needle1)) ||
        (needle2 && !strstr(err.msg, needle2)))
        fail_msg("expected %s with '%s' and '%s', got %s: %s",
                 lift_code_name(code), needle1 ? needle1 : "",
                 needle2 ? needle2 : "", lift_code_name(rc), err.msg);
    assert_null(pem.cert);
    assert_null(pem.key);
}

static void tls_pem_load_matching_pair_ok(void **state)
{
    struct pki *p = *state;
    struct tls_pem pem;
    struct lift_error err;
    assert_int_equal(tls_pem_load(p->cert, p->key, &pem, &err), LIFT_OK);
    assert_non_null(strstr(pem.cert, "-----BEGIN CERTIFICATE-----"));
    assert_non_null(strstr(pem.key, "PRIVATE KEY-----"));
    tls_pem_release(&pem);
    assert_null(pem.cert);
    assert_null(pem.key);
    tls_pem_release(NULL);
}

static void tls_pem_load_missing_file_io_with_path(void **state)
{
    struct pki *p = *state;
    expect(p->missing, p->key, LIFT_ERR_IO, p->missing,
           "No such file or directory");
    expect(p->cert, p->missing, LIFT_ERR_IO, "cannot open TLS key", p->missing);
}

static void tls_pem_load_not_pem_invalid_naming_file(void **state)
{
    struct pki *p = *state;
    expect(p->text, p->key, LIFT_ERR_INVALID, "no PEM certificate in", p->text);
    expect(p->cert, p->cert, LIFT_ERR_INVALID, "no PEM private key in",
           p->cert);
    expect(p->dir, p->key, LIFT_ERR_INVALID, "is not a regular file", p->dir);
}

static void tls_pem_load_other_key_mismatch(void **state)
{
    struct pki *p = *state;
    expect(p->cert, p->other_key, LIFT_ERR_INVALID, p->other_key,
           "does not match the certificate");
}

static void tls_pem_load_encrypted_key_invalid(void **state)
{
    struct pki *p = *state;
    expect(p->cert, p->enc_key, LIFT_ERR_INVALID, "is encrypted", p->enc_key);
}

static void tls_pem_load_expired_cert_invalid(void **state)
{
    struct pki *p = *state;
    expect(p->expired, p->key, LIFT_ERR_INVALID, "expired on", p->expired);
}

static void tls_pem_load_over_cap_or_nul_refused(void **state)
{
    struct pki *p = *state;
    expect(p->big, p->key, LIFT_ERR_LIMIT, "over the limit of 262144 bytes",
           p->big);
    expect(p->nul, p->key, LIFT_ERR_INVALID, "NUL byte", p->nul);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tls_pem_load_matching_pair_ok),
        cmocka_unit_test(tls_pem_load_missing_file_io_with_path),
        cmocka_unit_test(tls_pem_load_not_pem_invalid_naming_file),
        cmocka_unit_test(tls_pem_load_other_key_mismatch),
        cmocka_unit_test(tls_pem_load_encrypted_key_invalid),
        cmocka_unit_test(tls_pem_load_expired_cert_invalid),
        cmocka_unit_test(tls_pem_load_over_cap_or_nul_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
