/*
 * tests/unit/test_log.c - the logging callback (core/log.c): levels below
 * the minimum are dropped, NULL loggers are silent, long messages are cut
 * to the stack buffer, the user pointer is passed through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/log.h"

struct capture {
    int calls;
    enum lift_log_level level;
    char msg[2048];
};

static void capture_fn(void *user, enum lift_log_level level, const char *msg)
{
    struct capture *c = user;
    c->calls++;
    c->level = level;
    strncpy(c->msg, msg, sizeof c->msg - 1);
    c->msg[sizeof c->msg - 1] = '\0';
}

static void log_level_name_each_level_name(void **state)
{
    (void)state;
    assert_string_equal(lift_log_level_name(LIFT_LOG_DEBUG), "debug");
    assert_string_equal(lift_log_level_name(LIFT_LOG_INFO), "info");
    assert_string_equal(lift_log_level_name(LIFT_LOG_WARN), "warn");
    assert_string_equal(lift_log_level_name(LIFT_LOG_ERROR), "error");
    assert_string_equal(lift_log_level_name((enum lift_log_level)42),
                        "unknown");
}

static void log_at_min_level_formatted_and_delivered(void **state)
{
    (void)state;
    struct capture c = {0};
    struct lift_logger log = {capture_fn, &c, LIFT_LOG_INFO};
    lift_log(&log, LIFT_LOG_INFO, "epoch %d loss %.4f", 3, 0.28127);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.level, LIFT_LOG_INFO);
    assert_string_equal(c.msg, "epoch 3 loss 0.2813");
    lift_log(&log, LIFT_LOG_ERROR, "%s", "bad");
    assert_int_equal(c.calls, 2);
    assert_int_equal(c.level, LIFT_LOG_ERROR);
    assert_string_equal(c.msg, "bad");
}

static void log_below_min_level_dropped(void **state)
{
    (void)state;
    struct capture c = {0};
    struct lift_logger log = {capture_fn, &c, LIFT_LOG_WARN};
    lift_log(&log, LIFT_LOG_DEBUG, "debug %d", 1);
    lift_log(&log, LIFT_LOG_INFO, "info %d", 2);
    assert_int_equal(c.calls, 0);
    lift_log(&log, LIFT_LOG_WARN, "warn %d", 3);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.msg, "warn 3");
}

static void log_null_logger_or_fn_silent(void **state)
{
    (void)state;
    struct capture c = {0};
    struct lift_logger log = {NULL, &c, LIFT_LOG_DEBUG};
    lift_log(NULL, LIFT_LOG_ERROR, "nobody hears %d", 1);
    lift_log(&log, LIFT_LOG_ERROR, "nobody hears %d", 2);
    assert_int_equal(c.calls, 0);
}

static void log_long_message_cut_to_buffer(void **state)
{
    (void)state;
    char text[1500];
    memset(text, 'm', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    struct capture c = {0};
    struct lift_logger log = {capture_fn, &c, LIFT_LOG_DEBUG};
    lift_log(&log, LIFT_LOG_DEBUG, "<%s>", text);
    assert_int_equal(c.calls, 1);
    assert_int_equal(strlen(c.msg), 1023);
    assert_int_equal(c.msg[0], '<');
    assert_int_equal(c.msg[1022], 'm');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_level_name_each_level_name),
        cmocka_unit_test(log_at_min_level_formatted_and_delivered),
        cmocka_unit_test(log_below_min_level_dropped),
        cmocka_unit_test(log_null_logger_or_fn_silent),
        cmocka_unit_test(log_long_message_cut_to_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
