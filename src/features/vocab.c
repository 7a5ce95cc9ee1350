/*
 * features/vocab.c - vocabularies: one key arena, open addressing over
 * 16-byte slots (features/vocab.h has the layout).
 *
 * The hash reads a key of up to 16 bytes with at most two (overlapping)
 * loads, which cover every byte, so for a given length the loaded words
 * determine the key; longer keys go 8 bytes a round. Rounds xor a word
 * in and multiply by an odd constant (both invertible), and a final
 * splitmix64-style avalanche spreads every input bit over the 64 output
 * bits, so the index (low bits) and the tag (high bits) are close to
 * independent. Keys are compared byte for byte on a tag match: the hash
 * decides only where to look, never what matches.
 */
#include "features/vocab.h"

#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full
#define MIN_SLOTS 64
#define MIN_ENTRIES 16
#define MIN_BYTES 256

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

uint64_t lift_vocab_hash(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    uint64_t h = (uint64_t)len * K2;
    if (len <= 8) {
        uint64_t w;
        if (len >= 4)
            w = load32(p) | load32(p + len - 4) << 32;
        else if (len)
            w = (uint64_t)p[0] | (uint64_t)p[len >> 1] << 8 |
                (uint64_t)p[len - 1] << 16;
        else
            w = 0;
        return avalanche(round64(h, w));
    }
    if (len <= 16)
        return avalanche(round64(round64(h, load64(p)), load64(p + len - 8)));
    size_t i = 0;
    for (; i + 8 < len; i += 8)
        h = round64(h, load64(p + i));
    return avalanche(round64(h, load64(p + len - 8)));
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

long lift_vocab_find_h(const struct lift_vocab *v, const char *s, size_t len,
                       uint64_t h)
{
    if (!v->slots)
        return -1;
    uint32_t tag = (uint32_t)(h >> 32);
    for (size_t i = (size_t)h & v->mask;; i = (i + 1) & v->mask) {
        const struct lift_vocab_slot *sl = &v->slots[i];
        if (!sl->slot)
            return -1;
        if (sl->tag != tag)
            continue;
        const char *k = v->bytes + sl->off;
        if (key_len(v, sl->off) == len &&
            memcmp(k + sizeof(uint32_t), s, len) == 0)
            return (long)sl->slot - 1;
    }
}

long lift_vocab_find(const struct lift_vocab *v, const char *s, size_t len)
{
    return lift_vocab_find_h(v, s, len, lift_vocab_hash(s, len));
}

static void place(struct lift_vocab_slot *slots, size_t mask, uint64_t h,
                  uint64_t off, size_t e)
{
    size_t i = (size_t)h & mask;
    while (slots[i].slot)
        i = (i + 1) & mask;
    slots[i].off = off;
    slots[i].tag = (uint32_t)(h >> 32);
    slots[i].slot = (uint32_t)(e + 1);
}

/* Rebuilds the table with n_slots slots (a power of two above 2n). */
static enum lift_code rehash(struct lift_vocab *v, size_t n_slots,
                             struct lift_error *err)
{
    struct lift_vocab_slot *slots = lift_calloc(n_slots, sizeof *slots);
    if (!slots)
        return lift_error_nomem(err, "vocabulary");
    for (size_t e = 0; e < v->n; e++) {
        size_t len;
        const char *k = lift_vocab_key(v, e, &len);
        place(slots, n_slots - 1, lift_vocab_hash(k, len), v->off[e], e);
    }
    lift_free(v->slots);
    v->slots = slots;
    v->mask = n_slots - 1;
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

enum lift_code lift_vocab_add_h(struct lift_vocab *v, const char *s, size_t len,
                                uint64_t h, uint32_t feat, float idf,
                                size_t *entry, struct lift_error *err)
{
    enum lift_code rc;
    if (v->n >= LIFT_VOCAB_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "vocabulary larger than %zu entries",
                              LIFT_VOCAB_MAX);
    if (len >= UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT, "vocabulary entry too long");
    if (v->n == v->cap && (rc = grow_entries(v, err)))
        return rc;
    size_t need = sizeof(uint32_t) + len + 1;
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
    if ((!v->slots || (v->n + 1) * 2 > v->mask + 1) &&
        (rc = rehash(v, v->slots ? (v->mask + 1) * 2 : MIN_SLOTS, err)))
        return rc;
    uint64_t off = v->n_bytes;
    uint32_t l32 = (uint32_t)len;
    memcpy(v->bytes + off, &l32, sizeof l32);
    if (len)
        memcpy(v->bytes + off + sizeof l32, s, len);
    v->bytes[off + sizeof l32 + len] = '\0';
    v->n_bytes += need;
    size_t e = v->n++;
    v->off[e] = off;
    v->feat[e] = feat;
    v->idf[e] = idf;
    place(v->slots, v->mask, h, off, e);
    if (entry)
        *entry = e;
    return LIFT_OK;
}

enum lift_code lift_vocab_add(struct lift_vocab *v, const char *s, size_t len,
                              uint32_t feat, float idf, size_t *entry,
                              struct lift_error *err)
{
    return lift_vocab_add_h(v, s, len, lift_vocab_hash(s, len), feat, idf,
                            entry, err);
}
