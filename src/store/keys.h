/*
 * store/keys.h - API keys and the secret that hashes them (libsodium).
 *
 * A key is "lift_" followed by the 43-character URL-safe base64 (no
 * padding) of 32 random bytes. The registry keeps only
 * BLAKE2b-256(key bytes) keyed with the 32-byte secret of the data dir,
 * so a copy of the registry without the secret file reveals no key and
 * cannot test guesses offline. Parsing is constant time in the key's
 * content (sodium_base642bin); the length and the prefix are not secret.
 */
#ifndef LIFT_STORE_KEYS_H
#define LIFT_STORE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <lift/error.h>
#include <lift/store.h>

#define KEYS_RAW_BYTES 32
#define KEYS_HASH_BYTES 32
#define KEYS_SECRET_BYTES 32
#define KEYS_PREFIX "lift_"
#define KEYS_PREFIX_LEN 5

/* sodium_init (idempotent and thread-safe). INTERNAL when it fails. */
enum lift_code keys_init(struct lift_error *err);

/* Reads DIR/secret, creating it (0600, written to tmp/ then linked into
 * place, so two processes agree on one secret) when absent. CORRUPT for
 * a secret of the wrong size or not a regular file. */
enum lift_code keys_load_secret(const char *dir,
                                unsigned char secret[KEYS_SECRET_BYTES],
                                struct lift_error *err);

/* A new random key: its text and its bytes. */
void keys_generate(char text[LIFT_KEY_LEN + 1],
                   unsigned char raw[KEYS_RAW_BYTES]);
/* The bytes of a presented key; false when it is not a well-formed key
 * (wrong length, prefix or alphabet, or non-canonical base64). */
bool keys_parse(const char *text, size_t len,
                unsigned char raw[KEYS_RAW_BYTES]);
/* The stored form of a key. */
void keys_hash(const unsigned char secret[KEYS_SECRET_BYTES],
               const unsigned char raw[KEYS_RAW_BYTES],
               unsigned char hash[KEYS_HASH_BYTES]);
/* Constant-time equality of two hashes. */
bool keys_hash_equal(const unsigned char *a, const unsigned char *b);

/* n random bytes as 2n lowercase hex characters and a NUL. */
void keys_random_hex(char *out, size_t n_bytes);

/* Wipes secret material. */
void keys_wipe(void *p, size_t n);

#endif
