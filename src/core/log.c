/*
 * core/log.c - the logging callback.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

const char *lift_log_level_name(enum lift_log_level level)
{
    switch (level) {
    case LIFT_LOG_DEBUG:
        return "debug";
    case LIFT_LOG_INFO:
        return "info";
    case LIFT_LOG_WARN:
        return "warn";
    case LIFT_LOG_ERROR:
        return "error";
    }
    return "unknown";
}

void lift_log(const struct lift_logger *log, enum lift_log_level level,
              const char *fmt, ...)
{
    if (!log || !log->fn || level < log->min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log->fn(log->user, level, msg);
}
