/*
 * features/vocab.h - the pipeline's vocabularies: byte strings to dense
 * entry numbers 0..n-1 in insertion order, with a feature index and an
 * idf weight per entry.
 *
 * Layout: every key lives in one byte arena, prefixed by its 32-bit
 * length and followed by a NUL; entry e's key starts at off[e]. The
 * table is open addressing with linear probing over 16-byte slots that
 * hold the key's arena offset, 32 bits of its hash and the entry number,
 * at most half full. A probe compares the stored hash bits first, so a
 * lookup touches the slot's cache line and, for a match, the key's: two
 * lines, where a table of entry numbers over separate arrays of hashes,
 * lengths and string pointers touched five.
 *
 * The hash is lift_vocab_hash (this module's own, seeded by nothing);
 * it never leaves the process: model files store the keys, and a loaded
 * vocabulary is rebuilt by lift_vocab_add. Hash-mode feature slots use
 * lift_hash (xxh3), not this.
 *
 * Lookups are O(1) expected; lift_vocab_add is amortised O(key length)
 * (the table doubles when it would pass half full, the arena and the
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
    uint64_t off;  /* arena offset of the key's length prefix */
    uint32_t tag;  /* high 32 bits of the key's hash */
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
    size_t mask; /* slots - 1; 0 with no slots */
};

/* The hash of a key (stable within a process only; see above). */
uint64_t lift_vocab_hash(const char *s, size_t len);

/* An empty vocabulary (no allocation); _release frees and empties it. */
void lift_vocab_init(struct lift_vocab *v);
void lift_vocab_release(struct lift_vocab *v);

/* Entry of key s[0..len), or -1. _find_h takes lift_vocab_hash(s, len),
 * for callers that hash once and look up in several places. */
long lift_vocab_find(const struct lift_vocab *v, const char *s, size_t len);
long lift_vocab_find_h(const struct lift_vocab *v, const char *s, size_t len,
                       uint64_t h);

/* Appends key s[0..len) (which the caller knows is absent) as entry n
 * with the given feature and idf, returned through *entry (may be NULL).
 * LIFT_ERR_LIMIT past LIFT_VOCAB_MAX entries or a key of 4 GB,
 * LIFT_ERR_NOMEM; on error the vocabulary is unchanged. _add_h takes the
 * key's lift_vocab_hash. */
enum lift_code lift_vocab_add(struct lift_vocab *v, const char *s, size_t len,
                              uint32_t feat, float idf, size_t *entry,
                              struct lift_error *err);
enum lift_code lift_vocab_add_h(struct lift_vocab *v, const char *s, size_t len,
                                uint64_t h, uint32_t feat, float idf,
                                size_t *entry, struct lift_error *err);

/* Key of entry e (NUL-terminated, valid until the next add or release);
 * its length through *len when len is not NULL. */
const char *lift_vocab_key(const struct lift_vocab *v, size_t e, size_t *len);

#endif
