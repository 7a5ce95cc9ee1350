/*
 * core/log.h - emitting through a struct lift_logger (include/lift/log.h).
 * Formats into a stack buffer (cut at 1 KiB) and calls the callback; a NULL
 * logger or callback costs one branch.
 */
#ifndef LIFT_CORE_LOG_H
#define LIFT_CORE_LOG_H

#include <lift/log.h>

#include "core/error.h"

void lift_log(const struct lift_logger *log, enum lift_log_level level,
              const char *fmt, ...) LIFT_PRINTF(3, 4);

#endif
