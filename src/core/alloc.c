/*
 * core/alloc.c - overflow-checked allocation with fault injection.
 *
 * The fault counter is an atomic so that threaded code sees one sequence;
 * which thread gets the failing call then depends on scheduling, so tests
 * that walk N do it over single-threaded code paths.
 */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef LIFT_ALLOC_HOOK
static atomic_long alloc_counter;
static atomic_long alloc_fail_nth = -1; /* -1: not read from env yet */

static bool should_fail(void)
{
    long nth = atomic_load(&alloc_fail_nth);
    if (nth < 0) {
        const char *env = getenv("LIFT_FAIL_ALLOC");
        long v = env ? strtol(env, NULL, 10) : 0;
        if (v < 0)
            v = 0;
        long expected = -1;
        atomic_compare_exchange_strong(&alloc_fail_nth, &expected, v);
        nth = atomic_load(&alloc_fail_nth);
    }
    long count = atomic_fetch_add(&alloc_counter, 1) + 1;
    return nth > 0 && count == nth;
}
#else
static bool should_fail(void)
{
    return false;
}
#endif

bool lift_alloc_fail_at(long nth)
{
#ifdef LIFT_ALLOC_HOOK
    atomic_store(&alloc_counter, 0);
    atomic_store(&alloc_fail_nth, nth < 0 ? 0 : nth);
    return true;
#else
    (void)nth;
    return false;
#endif
}

long lift_alloc_count(void)
{
#ifdef LIFT_ALLOC_HOOK
    return atomic_load(&alloc_counter);
#else
    return 0;
#endif
}

bool lift_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}

bool lift_add_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_add_overflow(a, b, out);
}

void *lift_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *lift_calloc(size_t n, size_t size)
{
    size_t total;
    if (lift_mul_overflow(n, size, &total) || should_fail())
        return NULL;
    return calloc(total ? n : 1, total ? size : 1);
}

void *lift_malloc_array(size_t n, size_t size)
{
    size_t total;
    if (lift_mul_overflow(n, size, &total))
        return NULL;
    return lift_malloc(total);
}

void *lift_realloc_array(void *p, size_t n, size_t size)
{
    size_t total;
    if (lift_mul_overflow(n, size, &total) || should_fail())
        return NULL;
    return realloc(p, total ? total : 1);
}

void lift_free(void *p)
{
    free(p);
}

char *lift_strndup(const char *s, size_t n)
{
    size_t total;
    if (lift_add_overflow(n, 1, &total))
        return NULL;
    char *d = lift_malloc(total);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *lift_strdup(const char *s)
{
    return lift_strndup(s, strlen(s));
}
