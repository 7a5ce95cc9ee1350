/*
 * features/vocab.h - the pipeline's vocabularies: byte strings to dense
 * entry numbers 0..n-1 in insertion order, with a feature index and an
 * idf weight per entry.
 *
 * Layout: every key lives in one byte arena, prefixed by its 32-bit
 * length and followed by a NUL; entry e's key starts at off[e]. The
 * table is open addressing with linear probing over 16-byte slots (four
 * to a cache line), at most three quarters full (a smaller table has
 * fewer fresh pages to fault in, which costs more than the longer
 * probes). A slot holds the entry number, 28 bits of the key's hash with
 * the key's length (0..8, or 15 for a longer key) as its tag, and the
 * key itself when it has at most 8 bytes (zero-padded; most words and
 * character n-grams), else the key's arena offset. A probe compares the
 * tag first; a short key is then compared in the slot, so its lookup
 * touches one cache line; a long key's touches its arena bytes too. (A
 * table of entry numbers over separate arrays of hashes, lengths and
 * string pointers touched five.)
 *
 * The hash is lift_vocab_hash (this module's own, seeded by nothing);
 * it never leaves the process: model files store the keys, and a loaded
 * vocabulary is rebuilt by lift_vocab_add. Hash-mode feature slots use
 * lift_hash (xxh3), not this.
 *
 * Lookups are O(1) expected; lift_vocab_add is amortised O(key length)
 * (the table doubles when it would pass 3/4 full, the arena and the
 * entry arrays double when full). A vocabulary holds at most
 * LIFT_VOCAB_MAX entries. Not thread-safe for writing; concurrent
 * lookups on a vocabulary nobody writes are safe.
 */
#ifndef LIFT_FEATURES_VOCAB_H
#define LIFT_FEATURES_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>

#define LIFT_VOCAB_MAX ((size_t)1 << 28)

struct lift_vocab_slot {
    uint64_t key;  /* a key of <= 8 bytes, zero-padded; else arena offset */
    uint32_t tag;  /* hash bits 36..63, then 4 bits of length */
    uint32_t slot; /* entry + 1; 0: empty */
};

struct lift_vocab {
    size_t n, cap;
    uint64_t *off; /* per entry: arena offset of its length prefix */
    uint32_t *feat;
    float *idf;
    char *bytes; /* the arena */
    size_t n_bytes, bytes_cap;
    struct lift_vocab_slot *slots;
    size_t mask;   /* slots - 1; 0 with no slots */
    unsigned bits; /* slots = 2^bits */
};

/* The hash of a key (stable within a process only; see above). */
uint64_t lift_vocab_hash(const char *s, size_t len);

/* An empty vocabulary (no allocation); _release frees and empties it. */
void lift_vocab_init(struct lift_vocab *v);
void lift_vocab_release(struct lift_vocab *v);

/* Entry of key s[0..len), or -1. */
long lift_vocab_find(const struct lift_vocab *v, const char *s, size_t len);

/* Appends key s[0..len) (which the caller knows is absent) as entry n
 * with the given feature and idf, returned through *entry (may be NULL).
 * LIFT_ERR_LIMIT past LIFT_VOCAB_MAX entries or for a key of 4 GB,
 * LIFT_ERR_NOMEM; on error the vocabulary is unchanged. */
enum lift_code lift_vocab_add(struct lift_vocab *v, const char *s, size_t len,
                              uint32_t feat, float idf, size_t *entry,
                              struct lift_error *err);

/* The entry of key s[0..len) through *entry, appended (feature 0, idf 0)
 * when absent: one hash and one probe for both. Errors as
 * lift_vocab_add. */
enum lift_code lift_vocab_intern(struct lift_vocab *v, const char *s,
                                 size_t len, size_t *entry,
                                 struct lift_error *err);

/* lift_vocab_intern of n keys in order, key i being
 * bytes[i ? ends[i - 1] : 0 .. ends[i]); their entries into entries[i].
 * The same as n calls, but all keys are hashed first and their slots
 * fetched ahead, so the cache misses of the lookups overlap. On an error
 * the keys before the failing one are in. */
enum lift_code lift_vocab_intern_many(struct lift_vocab *v, const char *bytes,
                                      const size_t *ends, size_t n,
                                      uint32_t *entries,
                                      struct lift_error *err);

/* Key of entry e (NUL-terminated, valid until the next add or release);
 * its length through *len when len is not NULL. */
const char *lift_vocab_key(const struct lift_vocab *v, size_t e, size_t *len);

#endif
