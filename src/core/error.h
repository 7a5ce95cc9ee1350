/*
 * core/error.h - filling a struct lift_error (see include/lift/error.h).
 *
 * lift_error_set formats the message with vsnprintf into the fixed buffer;
 * a message longer than LIFT_ERROR_MSG_MAX - 1 bytes is cut at a UTF-8
 * boundary and ends in "...". Each returns the code it was given so that a
 * caller can write `return lift_error_set(err, LIFT_ERR_IO, ...)`.
 *
 * LIFT_ASSERT is the only thing in the library that aborts: an always-on
 * check of an invariant (not of input), printing file:line to stderr.
 */
#ifndef LIFT_CORE_ERROR_H
#define LIFT_CORE_ERROR_H

#include <lift/error.h>

#if defined(__GNUC__)
#define LIFT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LIFT_NORETURN __attribute__((noreturn))
#define LIFT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LIFT_LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define LIFT_PRINTF(a, b)
#define LIFT_NORETURN
#define LIFT_UNLIKELY(x) (x)
#define LIFT_LIKELY(x) (x)
#endif

/* lift_error_set, lift_error_sys and lift_error_prefix are public
 * (include/lift/error.h). */

/* The common out-of-memory error: "out of memory (<what>)". */
enum lift_code lift_error_nomem(struct lift_error *err, const char *what);

LIFT_NORETURN void lift_assert_fail(const char *expr, const char *file,
                                    int line);

#define LIFT_ASSERT(e)                                                         \
    ((e) ? (void)0 : lift_assert_fail(#e, __FILE__, __LINE__))

#endif
