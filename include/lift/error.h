/*
 * lift/error.h - the one error model of the library, the CLI and the server.
 *
 * Every fallible call returns an enum lift_code (LIFT_OK == 0) and takes a
 * struct lift_error *err as its last argument. On failure the call fills
 * *err with the code, the errno that caused it (0 when none) and one
 * sentence: lowercase, no final period, problem first, subject quoted,
 * position when known ("line 42, column 7: unterminated quoted field in
 * 'bank.csv'"). err may be NULL when the caller wants only the code.
 *
 * The caller owns the struct; nothing in it needs freeing.
 */
#ifndef LIFT_ERROR_H
#define LIFT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum lift_code {
    LIFT_OK = 0,
    LIFT_ERR_INVALID,       /* bad argument or malformed input (400) */
    LIFT_ERR_PARSE,         /* input text could not be parsed (400) */
    LIFT_ERR_LIMIT,         /* a size or count cap was exceeded (413) */
    LIFT_ERR_NOMEM,         /* allocation failed (500) */
    LIFT_ERR_IO,            /* read, write, open, fsync failed (500) */
    LIFT_ERR_NOT_FOUND,     /* no such object or column (404) */
    LIFT_ERR_CONFLICT,      /* object exists or is in the wrong state (409) */
    LIFT_ERR_UNSUPPORTED,   /* unsupported media type or format (415) */
    LIFT_ERR_UNPROCESSABLE, /* well-formed but wrong shape or type (422) */
    LIFT_ERR_UNAUTHORIZED,  /* missing or bad credentials (401) */
    LIFT_ERR_FORBIDDEN,     /* credentials lack the right (403) */
    LIFT_ERR_RATE_LIMITED,  /* too many requests (429) */
    LIFT_ERR_CORRUPT,       /* a stored file fails its checks (422/500) */
    LIFT_ERR_CANCELLED,     /* the operation was cancelled */
    LIFT_ERR_UNAVAILABLE,   /* temporarily unable to serve (503) */
    LIFT_ERR_INTERNAL,      /* a bug: an invariant did not hold (500) */
    LIFT_ERR_QUOTA,         /* a tenant's storage or count quota (403) */
    LIFT_CODE_COUNT
};

#define LIFT_ERROR_MSG_MAX 256

struct lift_error {
    enum lift_code code;
    int sys_errno;
    char msg[LIFT_ERROR_MSG_MAX];
};

/* The stable snake_case name of a code ("ok", "invalid", "parse",
 * "too_large", "no_memory", "io", "not_found", "conflict",
 * "unsupported_media", "unprocessable", "unauthorized", "forbidden",
 * "rate_limited", "corrupt", "cancelled", "unavailable", "internal",
 * "quota_exceeded").
 * Never NULL; an out-of-range code gives "unknown". Thread-safe. */
const char *lift_code_name(enum lift_code code);

/* Resets *err to LIFT_OK with an empty message. err may be NULL. */
void lift_error_clear(struct lift_error *err);

#if defined(__GNUC__)
#define LIFT_FORMAT_ATTR(a, b) __attribute__((format(printf, a, b)))
#else
#define LIFT_FORMAT_ATTR(a, b)
#endif

/* Fills *err (err may be NULL) and returns code, so that a caller can
 * write `return lift_error_set(err, LIFT_ERR_IO, ...)`. A message longer
 * than LIFT_ERROR_MSG_MAX - 1 bytes is cut at a UTF-8 boundary and ends
 * in "...". */
enum lift_code lift_error_set(struct lift_error *err, enum lift_code code,
                              const char *fmt, ...) LIFT_FORMAT_ATTR(3, 4);
/* As lift_error_set, and records sys_errno; appends ": <strerror>" when
 * sys_errno is not 0. */
enum lift_code lift_error_sys(struct lift_error *err, enum lift_code code,
                              int sys_errno, const char *fmt, ...)
    LIFT_FORMAT_ATTR(4, 5);
/* Prefixes the existing message with "<prefix>: " (cut to fit). */
void lift_error_prefix(struct lift_error *err, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
