/*
 * lift/log.h - the library never prints; it reports through a callback.
 *
 * A struct lift_logger is passed to long-running calls (training, loading).
 * fn == NULL silences everything. The callback may be called from worker
 * threads; it must be thread-safe if the logger is shared.
 */
#ifndef LIFT_LOG_H
#define LIFT_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum lift_log_level {
    LIFT_LOG_DEBUG = 0,
    LIFT_LOG_INFO,
    LIFT_LOG_WARN,
    LIFT_LOG_ERROR,
};

typedef void (*lift_log_fn)(void *user, enum lift_log_level level,
                            const char *msg);

struct lift_logger {
    lift_log_fn fn;
    void *user;
    enum lift_log_level min_level; /* messages below it are dropped */
};

/* The lowercase name of a level ("debug", "info", "warn", "error"). */
const char *lift_log_level_name(enum lift_log_level level);

#ifdef __cplusplus
}
#endif
#endif
