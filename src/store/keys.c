/*
 * store/keys.c - API keys, their keyed hashes and the data dir's secret.
 */
#include "store/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/error.h"

#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define B64_LEN (LIFT_KEY_LEN - KEYS_PREFIX_LEN)

/* sodium_base64_ENCODED_LEN counts the NUL */
_Static_assert(sodium_base64_ENCODED_LEN(KEYS_RAW_BYTES, B64_VARIANT) ==
                   B64_LEN + 1,
               "LIFT_KEY_LEN must fit 32 bytes of unpadded base64url");
_Static_assert(crypto_generichash_KEYBYTES == KEYS_SECRET_BYTES,
               "the secret is one BLAKE2b key");

enum lift_code keys_init(struct lift_error *err)
{
    if (sodium_init() < 0)
        return lift_error_set(err, LIFT_ERR_INTERNAL,
                              "cannot initialise libsodium");
    return LIFT_OK;
}

void keys_generate(char text[LIFT_KEY_LEN + 1],
                   unsigned char raw[KEYS_RAW_BYTES])
{
    randombytes_buf(raw, KEYS_RAW_BYTES);
    memcpy(text, KEYS_PREFIX, KEYS_PREFIX_LEN);
    sodium_bin2base64(text + KEYS_PREFIX_LEN, B64_LEN + 1, raw, KEYS_RAW_BYTES,
                      B64_VARIANT);
}

/* 1 when lo <= v <= hi, else 0, for v, lo, hi in 0..255, without a
 * branch or a table lookup on v: v - lo wraps to a value with bit 31 set
 * when v < lo, hi - v when v > hi. */
static unsigned in_range(unsigned v, unsigned lo, unsigned hi)
{
    return (((v - lo) | (hi - v)) >> 31) ^ 1U;
}

/* 1 when some character of s[0..n) is outside A-Z a-z 0-9 - _, in time
 * that depends on n only. libsodium 1.0.18's sodium_base642bin reads
 * every byte from 0x80 up as '_' in the URL-safe alphabet (found by
 * tests/fuzz/fuzz_key.c), so the alphabet is checked here first. */
static unsigned outside_alphabet(const char *s, size_t n)
{
    unsigned bad = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = (unsigned char)s[i];
        unsigned ok = in_range(v, 'A', 'Z') | in_range(v, 'a', 'z') |
                      in_range(v, '0', '9') | in_range(v, '-', '-') |
                      in_range(v, '_', '_');
        bad |= ok ^ 1U;
    }
    return bad;
}

bool keys_parse(const char *text, size_t len, unsigned char raw[KEYS_RAW_BYTES])
{
    if (!text || len != LIFT_KEY_LEN ||
        memcmp(text, KEYS_PREFIX, KEYS_PREFIX_LEN) != 0 ||
        outside_alphabet(text + KEYS_PREFIX_LEN, B64_LEN))
        return false;
    size_t n = 0;
    const char *end = NULL;
    /* rejects non-zero padding bits, so each key has exactly one text */
    if (sodium_base642bin(raw, KEYS_RAW_BYTES, text + KEYS_PREFIX_LEN, B64_LEN,
                          NULL, &n, &end, B64_VARIANT) != 0)
        return false;
    return n == KEYS_RAW_BYTES && end == text + LIFT_KEY_LEN;
}

void keys_hash(const unsigned char secret[KEYS_SECRET_BYTES],
               const unsigned char raw[KEYS_RAW_BYTES],
               unsigned char hash[KEYS_HASH_BYTES])
{
    crypto_generichash(hash, KEYS_HASH_BYTES, raw, KEYS_RAW_BYTES, secret,
                       KEYS_SECRET_BYTES);
}

bool keys_hash_equal(const unsigned char *a, const unsigned char *b)
{
    return sodium_memcmp(a, b, KEYS_HASH_BYTES) == 0;
}

void keys_random_hex(char *out, size_t n_bytes)
{
    unsigned char buf[32];
    LIFT_ASSERT(n_bytes <= sizeof buf);
    randombytes_buf(buf, n_bytes);
    sodium_bin2hex(out, 2 * n_bytes + 1, buf, n_bytes);
}

void keys_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

/* Reads exactly the secret from an open file. */
static enum lift_code read_secret(int fd, const char *path,
                                  unsigned char secret[KEYS_SECRET_BYTES],
                                  struct lift_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot stat '%s'",
                              path);
    if (!S_ISREG(st.st_mode))
        return lift_error_set(err, LIFT_ERR_CORRUPT,
                              "secret '%s' is not a regular file", path);
    if (st.st_size != KEYS_SECRET_BYTES)
        return lift_error_set(err, LIFT_ERR_CORRUPT,
                              "secret '%s' has %lld bytes, expected %d", path,
                              (long long)st.st_size, KEYS_SECRET_BYTES);
    size_t got = 0;
    while (got < KEYS_SECRET_BYTES) {
        ssize_t n = read(fd, secret + got, KEYS_SECRET_BYTES - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot read '%s'",
                                  path);
        if (n == 0)
            return lift_error_set(err, LIFT_ERR_CORRUPT,
                                  "secret '%s' is shorter than %d bytes", path,
                                  KEYS_SECRET_BYTES);
        got += (size_t)n;
    }
    return LIFT_OK;
}

static enum lift_code write_all(int fd, const void *p, size_t n,
                                const char *path, struct lift_error *err)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot write '%s'",
                                  path);
        b += w;
        n -= (size_t)w;
    }
    return LIFT_OK;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Writes a new secret to a temp file and links it to `path`; link fails
 * with EEXIST when another process got there first, whose secret wins. */
static enum lift_code create_secret(const char *dir, const char *path,
                                    bool *lost, struct lift_error *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/tmp/secret.XXXXXX", dir);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0)
        return lift_error_sys(err, LIFT_ERR_IO, errno,
                              "cannot create a temp file in '%s/tmp'", dir);
    unsigned char secret[KEYS_SECRET_BYTES];
    randombytes_buf(secret, sizeof secret);
    enum lift_code code = write_all(fd, secret, sizeof secret, tmp, err);
    keys_wipe(secret, sizeof secret);
    if (!code && fsync(fd) != 0)
        code =
            lift_error_sys(err, LIFT_ERR_IO, errno, "cannot fsync '%s'", tmp);
    close(fd);
    *lost = false;
    if (!code && link(tmp, path) != 0) {
        if (errno == EEXIST)
            *lost = true;
        else
            code = lift_error_sys(err, LIFT_ERR_IO, errno, "cannot create '%s'",
                                  path);
    }
    unlink(tmp);
    if (!code && !*lost && fsync_path(dir) != 0)
        code =
            lift_error_sys(err, LIFT_ERR_IO, errno, "cannot fsync '%s'", dir);
    return code;
}

enum lift_code keys_load_secret(const char *dir,
                                unsigned char secret[KEYS_SECRET_BYTES],
                                struct lift_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/secret", dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            enum lift_code code = read_secret(fd, path, secret, err);
            close(fd);
            return code;
        }
        if (errno != ENOENT)
            return lift_error_sys(err, LIFT_ERR_IO, errno, "cannot open '%s'",
                                  path);
        bool lost = false;
        enum lift_code code = create_secret(dir, path, &lost, err);
        if (code)
            return code;
    }
    return lift_error_set(err, LIFT_ERR_IO, "cannot create '%s'", path);
}
