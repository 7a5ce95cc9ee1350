/*
 * core/sort.c - insertion sort for short arrays, byte-wise LSD radix sort
 * for long ones (core/sort.h).
 *
 * Each radix pass counts the keys per byte value, turns the counts into
 * start positions and moves the keys, in order, between a and tmp: a
 * stable counting sort, so after the passes over bytes 0 to 3 the keys
 * are in order. A byte that no two keys differ in (found from the OR and
 * the AND of all keys) needs no pass: small keys take one or two.
 * Passes alternate direction; the result is copied back to a when it
 * ends in tmp.
 */
#include "core/sort.h"

#include <string.h>

#define SHORT 32

static void insertion(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > x) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

void lift_sort_u32(uint32_t *a, uint32_t *tmp, size_t n)
{
    if (n <= SHORT) {
        insertion(a, n);
        return;
    }
    /* bytes where keys differ: only those need a pass */
    uint32_t any = 0, all = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        any |= a[i];
        all &= a[i];
    }
    uint32_t differ = any ^ all;
    uint32_t *src = a, *dst = tmp;
    for (unsigned shift = 0; shift < 32; shift += 8) {
        if (!((differ >> shift) & 0xff))
            continue; /* every key has this byte: the pass moves nothing */
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xff]++;
        size_t pos = 0;
        for (unsigned b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t x = src[i];
            dst[count[(x >> shift) & 0xff]++] = x;
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof *a);
}
