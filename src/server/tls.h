/*
 * server/tls.h - the certificate and key of `lift serve --tls-cert F
 * --tls-key F`, read and checked before libmicrohttpd sees them.
 *
 * libmicrohttpd takes PEM text in memory and, when it is wrong, fails
 * to start with a log line at best. Reading the files here, with a size
 * cap, and parsing them with GnuTLS gives one clear error each: which
 * file, and whether it is unreadable, not PEM, encrypted, expired or a
 * key that does not belong to the certificate.
 */
#ifndef LIFT_SERVER_TLS_H
#define LIFT_SERVER_TLS_H

#include <stddef.h>

#include <lift/error.h>

/* Cap on a PEM file (a certificate chain is a few KiB). */
#define TLS_PEM_MAX ((size_t)256 << 10)
/* GnuTLS priorities: its NORMAL cipher suites, TLS 1.2 and 1.3 only
 * (no SSL 3.0, TLS 1.0 or 1.1). */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct tls_pem {
    char *cert; /* NUL-terminated PEM text, owned */
    char *key;  /* NUL-terminated PEM text, owned; wiped on release */
};

/* Reads and checks both files: LIFT_ERR_IO (cannot open or read: the
 * path and the system's reason), LIFT_ERR_LIMIT (over TLS_PEM_MAX),
 * LIFT_ERR_INVALID naming the file (not a regular file, no PEM
 * certificate, no PEM private key, an encrypted key, an expired
 * certificate, a key that does not match the certificate),
 * LIFT_ERR_NOMEM. On failure *out holds nothing. Thread-safe. */
enum lift_code tls_pem_load(const char *cert_path, const char *key_path,
                            struct tls_pem *out, struct lift_error *err);
/* Frees both texts (the key's bytes are zeroed first). */
void tls_pem_release(struct tls_pem *p);

#endif
