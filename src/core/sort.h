/*
 * core/sort.h - sorting unsigned 32-bit keys in place, in linear time.
 *
 * Short arrays (at most 32 keys) by insertion; longer ones by a
 * least-significant-digit radix sort on bytes (a counting pass through
 * the caller's scratch per byte in which keys differ, four at most), so
 * the time is O(n) whatever the input, and no comparison callback is
 * called per pair as with qsort.
 */
#ifndef LIFT_CORE_SORT_H
#define LIFT_CORE_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Sorts a[0..n) ascending; tmp must hold n keys (unused when n <= 32;
 * may then be NULL). */
void lift_sort_u32(uint32_t *a, uint32_t *tmp, size_t n);

#endif
