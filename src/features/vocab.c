/*
 * features/vocab.c - vocabularies: one key arena, open addressing over
 * 16-byte slots that hold short keys themselves (features/vocab.h has
 * the layout).
 *
 * A key of up to 8 bytes is packed into one 64-bit word (its bytes in
 * order, zero above), with at most two overlapping loads; with the
 * length (in the tag) the word determines the key, so comparing words
 * compares keys. The hash of such a key is one round over that word.
 * Longer keys go 8 bytes a round, the last load overlapping. A round
 * xors a word in and multiplies by an odd constant (both invertible);
 * a final splitmix64-style avalanche spreads every input bit over the 64
 * output bits. The home slot is the hash's top bits and the tag keeps
 * bits 36..63, so a growing table places old slots from their tags
 * alone, reading the old table in order and writing the new one nearly
 * in order. A key is compared whole (its packed word, or its bytes for
 * a long one) on a tag match: the hash decides only where to look,
 * never what matches.
 */
#include "features/vocab.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full
#define SHORT_KEY 8
#define LONG_TAG 15u
#define MIN_BITS 6
#define TAG_BITS 28 /* hash bits in a tag */
#define MIN_ENTRIES 16
#define MIN_BYTES 256
#define BATCH 32 /* keys hashed and fetched ahead at once */

static uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static uint64_t load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* The bytes of a key of at most 8 bytes as one word, zero above (the
 * byte order of the machine: the word never leaves the process). */
static uint64_t pack(const unsigned char *p, size_t len)
{
    if (len >= 4)
        return load32(p) | (load32(p + len - 4) >> (8 * (8 - len))) << 32;
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static uint64_t avalanche(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t round64(uint64_t h, uint64_t w)
{
    h = (h ^ w) * K1;
    return h ^ (h >> 29);
}

static uint64_t hash_long(const unsigned char *p, size_t len)
{
    uint64_t h = (uint64_t)len * K2;
    for (size_t i = 0; i + 8 < len; i += 8)
        h = round64(h, load64(p + i));
    return avalanche(round64(h, load64(p + len - 8)));
}

static uint64_t hash_short(uint64_t w, size_t len)
{
    return avalanche(round64((uint64_t)len * K2, w));
}

uint64_t lift_vocab_hash(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    return len <= SHORT_KEY ? hash_short(pack(p, len), len) : hash_long(p, len);
}

/* Slot of hash h in a table of 2^bits slots: its top bits, which the
 * tag keeps (bits 36..63), so growing the table needs no key. */
static size_t home(uint64_t h, unsigned bits)
{
    return (size_t)(h >> (64 - bits));
}

static uint64_t tag_hash(uint32_t tag)
{
    return (uint64_t)(tag & ~LONG_TAG) << 32;
}

static uint32_t make_tag(uint64_t h, size_t len)
{
    return ((uint32_t)(h >> 32) & ~LONG_TAG) |
           (len <= SHORT_KEY ? (uint32_t)len : LONG_TAG);
}

void lift_vocab_init(struct lift_vocab *v)
{
    memset(v, 0, sizeof *v);
}

void lift_vocab_release(struct lift_vocab *v)
{
    lift_free(v->off);
    lift_free(v->feat);
    lift_free(v->idf);
    lift_free(v->bytes);
    lift_free(v->slots);
    lift_vocab_init(v);
}

static uint32_t key_len(const struct lift_vocab *v, uint64_t off)
{
    uint32_t n;
    memcpy(&n, v->bytes + off, sizeof n);
    return n;
}

const char *lift_vocab_key(const struct lift_vocab *v, size_t e, size_t *len)
{
    LIFT_ASSERT(e < v->n);
    if (len)
        *len = key_len(v, v->off[e]);
    return v->bytes + v->off[e] + sizeof(uint32_t);
}

/* A key, hashed once for a lookup and a possible insertion. */
struct probe {
    const char *s;
    size_t len;
    uint64_t word; /* packed short key */
    uint64_t h;
    uint32_t tag;
};

static struct probe make_probe(const char *s, size_t len)
{
    struct probe q = {s, len, 0, 0, 0};
    const unsigned char *p = (const unsigned char *)s;
    if (len <= SHORT_KEY) {
        q.word = pack(p, len);
        q.h = hash_short(q.word, len);
    } else {
        q.h = hash_long(p, len);
    }
    q.tag = make_tag(q.h, len);
    return q;
}

/* The slot holding q's key, or the empty slot where it would go. */
static size_t probe_slot(const struct lift_vocab *v, const struct probe *q)
{
    for (size_t i = home(q->h, v->bits);; i = (i + 1) & v->mask) {
        const struct lift_vocab_slot *sl = &v->slots[i];
        if (!sl->slot)
            return i;
        if (sl->tag != q->tag)
            continue;
        if (q->len <= SHORT_KEY) {
            if (sl->key == q->word)
                return i;
        } else if (key_len(v, sl->key) == q->len &&
                   memcmp(v->bytes + sl->key + sizeof(uint32_t), q->s,
                          q->len) == 0) {
            return i;
        }
    }
}

long lift_vocab_find(const struct lift_vocab *v, const char *s, size_t len)
{
    if (!v->slots)
        return -1;
    struct probe q = make_probe(s, len);
    uint32_t e = v->slots[probe_slot(v, &q)].slot;
    return e ? (long)e - 1 : -1;
}

static void fill(struct lift_vocab_slot *sl, const struct probe *q,
                 uint64_t off, size_t e)
{
    sl->key = q->len <= SHORT_KEY ? q->word : off;
    sl->tag = q->tag;
    sl->slot = (uint32_t)(e + 1);
}

/* Rebuilds the table with 2^bits slots. Old slots are read in order and
 * land in the new table in nearly the same order: their home slots come
 * from the top bits of the hash, which the tags hold while bits <=
 * TAG_BITS; past that, hashes are computed again from the keys. */
static enum lift_code rehash(struct lift_vocab *v, unsigned bits,
                             struct lift_error *err)
{
    size_t n_slots = (size_t)1 << bits, mask = n_slots - 1;
    struct lift_vocab_slot *slots = lift_calloc(n_slots, sizeof *slots);
    if (!slots)
        return lift_error_nomem(err, "vocabulary");
    for (size_t j = 0; v->slots && j <= v->mask; j++) {
        const struct lift_vocab_slot *sl = &v->slots[j];
        if (!sl->slot)
            continue;
        uint64_t h;
        if (bits <= TAG_BITS) {
            h = tag_hash(sl->tag);
        } else {
            size_t len;
            const char *k = lift_vocab_key(v, sl->slot - 1, &len);
            h = lift_vocab_hash(k, len);
        }
        size_t i = home(h, bits);
        while (slots[i].slot)
            i = (i + 1) & mask;
        slots[i] = *sl;
    }
    lift_free(v->slots);
    v->slots = slots;
    v->mask = mask;
    v->bits = bits;
    return LIFT_OK;
}

static enum lift_code grow_entries(struct lift_vocab *v, struct lift_error *err)
{
    size_t cap = v->cap ? v->cap * 2 : MIN_ENTRIES;
    uint64_t *off = lift_realloc_array(v->off, cap, sizeof *off);
    if (!off)
        return lift_error_nomem(err, "vocabulary");
    v->off = off;
    uint32_t *feat = lift_realloc_array(v->feat, cap, sizeof *feat);
    if (!feat)
        return lift_error_nomem(err, "vocabulary");
    v->feat = feat;
    float *idf = lift_realloc_array(v->idf, cap, sizeof *idf);
    if (!idf)
        return lift_error_nomem(err, "vocabulary");
    v->idf = idf;
    v->cap = cap;
    return LIFT_OK;
}

/* Appends q's key as a new entry; *slot is the empty slot probe_slot
 * found (looked up again when the table grows). */
static enum lift_code append(struct lift_vocab *v, const struct probe *q,
                             size_t slot, uint32_t feat, float idf,
                             size_t *entry, struct lift_error *err)
{
    enum lift_code rc;
    if (v->n >= LIFT_VOCAB_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "vocabulary larger than %zu entries",
                              LIFT_VOCAB_MAX);
    if (q->len >= UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT, "vocabulary entry too long");
    if (v->n == v->cap && (rc = grow_entries(v, err)))
        return rc;
    size_t need = sizeof(uint32_t) + q->len + 1;
    if (v->bytes_cap - v->n_bytes < need) {
        size_t cap = v->bytes_cap ? v->bytes_cap : MIN_BYTES;
        while (cap - v->n_bytes < need) {
            if (cap > SIZE_MAX / 2)
                return lift_error_nomem(err, "vocabulary");
            cap *= 2;
        }
        char *b = lift_realloc_array(v->bytes, cap, 1);
        if (!b)
            return lift_error_nomem(err, "vocabulary");
        v->bytes = b;
        v->bytes_cap = cap;
    }
    if (!v->slots || (v->n + 1) * 4 > (v->mask + 1) * 3) {
        if ((rc = rehash(v, v->slots ? v->bits + 1 : MIN_BITS, err)))
            return rc;
        slot = probe_slot(v, q);
    }
    uint64_t off = v->n_bytes;
    uint32_t l32 = (uint32_t)q->len;
    memcpy(v->bytes + off, &l32, sizeof l32);
    if (q->len)
        memcpy(v->bytes + off + sizeof l32, q->s, q->len);
    v->bytes[off + sizeof l32 + q->len] = '\0';
    v->n_bytes += need;
    size_t e = v->n++;
    v->off[e] = off;
    v->feat[e] = feat;
    v->idf[e] = idf;
    fill(&v->slots[slot], q, off, e);
    if (entry)
        *entry = e;
    return LIFT_OK;
}

enum lift_code lift_vocab_add(struct lift_vocab *v, const char *s, size_t len,
                              uint32_t feat, float idf, size_t *entry,
                              struct lift_error *err)
{
    struct probe q = make_probe(s, len);
    size_t slot = v->slots ? probe_slot(v, &q) : 0;
    LIFT_ASSERT(!v->slots || !v->slots[slot].slot);
    return append(v, &q, slot, feat, idf, entry, err);
}

enum lift_code lift_vocab_intern(struct lift_vocab *v, const char *s,
                                 size_t len, size_t *entry,
                                 struct lift_error *err)
{
    struct probe q = make_probe(s, len);
    size_t slot = 0;
    if (v->slots) {
        slot = probe_slot(v, &q);
        if (v->slots[slot].slot) {
            *entry = v->slots[slot].slot - 1;
            return LIFT_OK;
        }
    }
    return append(v, &q, slot, 0, 0.0f, entry, err);
}

enum lift_code lift_vocab_intern_many(struct lift_vocab *v, const char *bytes,
                                      const size_t *ends, size_t n,
                                      uint32_t *entries, struct lift_error *err)
{
    struct probe q[BATCH];
    for (size_t base = 0; base < n; base += BATCH) {
        size_t m = n - base < BATCH ? n - base : BATCH;
        for (size_t k = 0; k < m; k++) {
            size_t i = base + k, start = i ? ends[i - 1] : 0;
            q[k] = make_probe(bytes + start, ends[i] - start);
            if (v->slots)
                __builtin_prefetch(&v->slots[home(q[k].h, v->bits)]);
        }
        for (size_t k = 0; k < m; k++) {
            size_t slot = 0;
            if (v->slots) {
                slot = probe_slot(v, &q[k]);
                if (v->slots[slot].slot) {
                    entries[base + k] = v->slots[slot].slot - 1;
                    continue;
                }
            }
            size_t e;
            enum lift_code rc = append(v, &q[k], slot, 0, 0.0f, &e, err);
            if (rc)
                return rc;
            entries[base + k] = (uint32_t)e;
        }
    }
    return LIFT_OK;
}
