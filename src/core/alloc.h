/*
 * core/alloc.h - the project's allocation wrappers.
 *
 * Every allocation in the library goes through these, so that sizes are
 * overflow-checked in one place and faults can be injected: with
 * LIFT_ALLOC_HOOK compiled in (the default outside release builds), the
 * environment variable LIFT_FAIL_ALLOC=N makes the Nth allocation from the
 * start of the process fail, and lift_alloc_fail_at(N) does the same from a
 * test (counting from that call; 0 turns it off). This debug counter is the
 * one process-wide mutable state of the library, as sqlite3FaultSim is.
 *
 * All return NULL on failure (overflow or exhaustion) and never print;
 * the caller turns NULL into LIFT_ERR_NOMEM. lift_free(NULL) is a no-op.
 */
#ifndef LIFT_CORE_ALLOC_H
#define LIFT_CORE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *lift_malloc(size_t size);
void *lift_calloc(size_t n, size_t size);
/* n * size bytes, uninitialised; NULL when the product overflows. */
void *lift_malloc_array(size_t n, size_t size);
/* Resizes to n * size bytes; on failure p is untouched and NULL returned. */
void *lift_realloc_array(void *p, size_t n, size_t size);
void lift_free(void *p);
char *lift_strdup(const char *s);
char *lift_strndup(const char *s, size_t n);

/* true when a * b overflows size_t; else *out = a * b. */
bool lift_mul_overflow(size_t a, size_t b, size_t *out);
/* true when a + b overflows size_t; else *out = a + b. */
bool lift_add_overflow(size_t a, size_t b, size_t *out);

/* Fault injection (no-ops without LIFT_ALLOC_HOOK): the nth allocation
 * from now fails (1 = the next one); 0 disables. Returns false when the
 * hook is not compiled in. */
bool lift_alloc_fail_at(long nth);
/* Allocations counted since the last lift_alloc_fail_at (or start). */
long lift_alloc_count(void);

#endif
