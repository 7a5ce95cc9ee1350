/*
 * server/tls.c - reads and checks the PEM certificate and key of the
 * HTTPS listener (tls.h).
 *
 * Order of the checks, each with its own message: read both files
 * (capped), parse the certificate chain, parse the key, refuse an
 * expired leaf certificate, then let GnuTLS pair them exactly as
 * libmicrohttpd will (gnutls_certificate_set_x509_key_mem2), which
 * compares the key with the certificate's public key.
 */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* gnutls_strerror without its final period (house style). */
static const char *gnutls_reason(int rc, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", gnutls_strerror(rc));
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '.')
        buf[n - 1] = '\0';
    return buf;
}

/* Reads the whole file at path (at most TLS_PEM_MAX bytes) into a
 * NUL-terminated buffer. what names the file in messages. */
static enum lift_code read_pem(const char *path, const char *what, char **out,
                               struct lift_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot open %s '%s'",
                              what, path);
    enum lift_code rc = LIFT_OK;
    char *buf = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot stat %s '%s'",
                            what, path);
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "%s '%s' is not a regular file", what, path);
        goto done;
    }
    if ((size_t)st.st_size > TLS_PEM_MAX) {
        rc = lift_error_set(err, LIFT_ERR_LIMIT,
                            "%s '%s' is over the limit of %zu bytes", what,
                            path, TLS_PEM_MAX);
        goto done;
    }
    if (!(buf = malloc(TLS_PEM_MAX + 1))) {
        rc = lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (%s)", what);
        goto done;
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, TLS_PEM_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot read %s '%s'",
                                what, path);
            goto done;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > TLS_PEM_MAX) { /* grew since fstat */
            rc = lift_error_set(err, LIFT_ERR_LIMIT,
                                "%s '%s' is over the limit of %zu bytes", what,
                                path, TLS_PEM_MAX);
            goto done;
        }
    }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "%s '%s' holds a NUL byte; expected PEM text", what,
                            path);
        goto done;
    }
    *out = buf;
    buf = NULL;
done:
    if (buf) {
        explicit_bzero(buf, TLS_PEM_MAX + 1);
        free(buf);
    }
    close(fd);
    return rc;
}

/* The certificate chain parses and its first (leaf) certificate has not
 * expired. */
static enum lift_code check_cert(const char *pem, const char *path,
                                 struct lift_error *err)
{
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    gnutls_x509_crt_t *crts = NULL;
    unsigned n = 0;
    char why[128];
    int rc =
        gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || n == 0)
        return lift_error_set(
            err, LIFT_ERR_INVALID,
            "no PEM certificate in '%s' (expected a -----BEGIN "
            "CERTIFICATE----- block): %s",
            path, rc < 0 ? gnutls_reason(rc, why, sizeof why) : "empty");
    enum lift_code code = LIFT_OK;
    time_t expires = gnutls_x509_crt_get_expiration_time(crts[0]);
    if (expires != (time_t)-1 && expires < time(NULL)) {
        struct tm tm;
        char when[32] = "?";
        if (gmtime_r(&expires, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        code =
            lift_error_set(err, LIFT_ERR_INVALID,
                           "the certificate in '%s' expired on %s", path, when);
    }
    for (unsigned i = 0; i < n; i++)
        gnutls_x509_crt_deinit(crts[i]);
    gnutls_free(crts);
    return code;
}

static enum lift_code check_key(const char *pem, const char *path,
                                struct lift_error *err)
{
    if (strstr(pem, "ENCRYPTED"))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "the private key in '%s' is encrypted; lift "
                              "serve takes an unencrypted key (keep the file "
                              "mode 0600)",
                              path);
    gnutls_x509_privkey_t key;
    char why[128];
    int rc = gnutls_x509_privkey_init(&key);
    if (rc < 0)
        return lift_error_set(err, LIFT_ERR_NOMEM,
                              "cannot check the private key: %s",
                              gnutls_reason(rc, why, sizeof why));
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    rc = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL,
                                     GNUTLS_PKCS_PLAIN);
    gnutls_x509_privkey_deinit(key);
    if (rc < 0)
        return lift_error_set(
            err, LIFT_ERR_INVALID,
            "no PEM private key in '%s' (expected a -----BEGIN PRIVATE "
            "KEY----- block): %s",
            path, gnutls_reason(rc, why, sizeof why));
    return LIFT_OK;
}

static enum lift_code check_pair(const struct tls_pem *p, const char *cert,
                                 const char *key, struct lift_error *err)
{
    gnutls_certificate_credentials_t cred;
    char why[128];
    int rc = gnutls_certificate_allocate_credentials(&cred);
    if (rc < 0)
        return lift_error_set(err, LIFT_ERR_NOMEM,
                              "cannot check the TLS key pair: %s",
                              gnutls_reason(rc, why, sizeof why));
    gnutls_datum_t c = {(unsigned char *)p->cert, (unsigned)strlen(p->cert)};
    gnutls_datum_t k = {(unsigned char *)p->key, (unsigned)strlen(p->key)};
    rc = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM,
                                              NULL, 0);
    gnutls_certificate_free_credentials(cred);
    if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "the private key in '%s' does not match the "
                              "certificate in '%s'",
                              key, cert);
    if (rc < 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "cannot use the certificate '%s' with the key "
                              "'%s': %s",
                              cert, key, gnutls_reason(rc, why, sizeof why));
    return LIFT_OK;
}

enum lift_code tls_pem_load(const char *cert_path, const char *key_path,
                            struct tls_pem *out, struct lift_error *err)
{
    memset(out, 0, sizeof *out);
    struct tls_pem p = {NULL, NULL};
    enum lift_code rc;
    if ((rc = read_pem(cert_path, "TLS certificate", &p.cert, err)) ||
        (rc = read_pem(key_path, "TLS key", &p.key, err)) ||
        (rc = check_cert(p.cert, cert_path, err)) ||
        (rc = check_key(p.key, key_path, err)) ||
        (rc = check_pair(&p, cert_path, key_path, err))) {
        tls_pem_release(&p);
        return rc;
    }
    *out = p;
    return LIFT_OK;
}

void tls_pem_release(struct tls_pem *p)
{
    if (!p)
        return;
    if (p->key) {
        explicit_bzero(p->key, strlen(p->key));
        free(p->key);
    }
    free(p->cert);
    p->cert = p->key = NULL;
}
