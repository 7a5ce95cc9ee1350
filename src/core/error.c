/*
 * core/error.c - error codes, names and message formatting.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_names[LIFT_CODE_COUNT] = {
    [LIFT_OK] = "ok",
    [LIFT_ERR_INVALID] = "invalid",
    [LIFT_ERR_PARSE] = "parse",
    [LIFT_ERR_LIMIT] = "too_large",
    [LIFT_ERR_NOMEM] = "no_memory",
    [LIFT_ERR_IO] = "io",
    [LIFT_ERR_NOT_FOUND] = "not_found",
    [LIFT_ERR_CONFLICT] = "conflict",
    [LIFT_ERR_UNSUPPORTED] = "unsupported_media",
    [LIFT_ERR_UNPROCESSABLE] = "unprocessable",
    [LIFT_ERR_UNAUTHORIZED] = "unauthorized",
    [LIFT_ERR_FORBIDDEN] = "forbidden",
    [LIFT_ERR_RATE_LIMITED] = "rate_limited",
    [LIFT_ERR_CORRUPT] = "corrupt",
    [LIFT_ERR_CANCELLED] = "cancelled",
    [LIFT_ERR_UNAVAILABLE] = "unavailable",
    [LIFT_ERR_INTERNAL] = "internal",
    [LIFT_ERR_QUOTA] = "quota_exceeded",
};

const char *lift_code_name(enum lift_code code)
{
    if ((int)code < 0 || code >= LIFT_CODE_COUNT || !code_names[code])
        return "unknown";
    return code_names[code];
}

void lift_error_clear(struct lift_error *err)
{
    if (!err)
        return;
    err->code = LIFT_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}

/* Cuts msg so that it ends in "..." at a UTF-8 character boundary. */
static void mark_truncated(char *msg, size_t cap)
{
    size_t end = cap - 4;
    while (end > 0 && ((unsigned char)msg[end] & 0xC0) == 0x80)
        end--;
    memcpy(msg + end, "...", 4);
}

static void format_into(struct lift_error *err, const char *fmt, va_list ap)
{
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n < 0)
        snprintf(err->msg, sizeof err->msg, "(unformattable message)");
    else if ((size_t)n >= sizeof err->msg)
        mark_truncated(err->msg, sizeof err->msg);
}

enum lift_code lift_error_set(struct lift_error *err, enum lift_code code,
                              const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->sys_errno = 0;
    va_list ap;
    va_start(ap, fmt);
    format_into(err, fmt, ap);
    va_end(ap);
    return code;
}

enum lift_code lift_error_sys(struct lift_error *err, enum lift_code code,
                              int sys_errno, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->sys_errno = sys_errno;
    va_list ap;
    va_start(ap, fmt);
    format_into(err, fmt, ap);
    va_end(ap);
    if (sys_errno) {
        size_t len = strlen(err->msg);
        int n = snprintf(err->msg + len, sizeof err->msg - len, ": %s",
                         strerror(sys_errno));
        if (n < 0 || (size_t)n >= sizeof err->msg - len)
            mark_truncated(err->msg, sizeof err->msg);
    }
    return code;
}

enum lift_code lift_error_nomem(struct lift_error *err, const char *what)
{
    return lift_error_set(err, LIFT_ERR_NOMEM, "out of memory (%s)", what);
}

void lift_error_prefix(struct lift_error *err, const char *prefix)
{
    if (!err)
        return;
    char tmp[LIFT_ERROR_MSG_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s: %s", prefix, err->msg);
    if (n >= 0 && (size_t)n >= sizeof tmp)
        mark_truncated(tmp, sizeof tmp);
    memcpy(err->msg, tmp, sizeof tmp);
}

void lift_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "lift: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
