/*
 * tests/unit/test_error.c - error codes, names and message formatting
 * (core/error.c): every code has its documented name, messages are cut at
 * a UTF-8 boundary with "...", errno text is appended, NULL err is safe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* Fills text[0..size-1) with c and terminates it. */
static void fill_text(char *text, size_t size, char c)
{
    memset(text, c, size - 1);
    text[size - 1] = '\0';
}

/* The message fills the buffer and ends in "..." (it was cut). */
static void assert_cut_with_dots(const struct lift_error *err)
{
    size_t len = strlen(err->msg);
    assert_int_equal(len, LIFT_ERROR_MSG_MAX - 1);
    assert_memory_equal(err->msg + len - 3, "...", 3);
}

static void code_name_each_code_documented_name(void **state)
{
    (void)state;
    static const char *const names[] = {
        "ok",
        "invalid",
        "parse",
        "too_large",
        "no_memory",
        "io",
        "not_found",
        "conflict",
        "unsupported_media",
        "unprocessable",
        "unauthorized",
        "forbidden",
        "rate_limited",
        "corrupt",
        "cancelled",
        "unavailable",
        "internal",
        "quota_exceeded",
    };
    assert_int_equal(sizeof names / sizeof names[0], LIFT_CODE_COUNT);
    for (int c = 0; c < LIFT_CODE_COUNT; c++)
        assert_string_equal(lift_code_name((enum lift_code)c), names[c]);
}

static void code_name_out_of_range_unknown(void **state)
{
    (void)state;
    assert_string_equal(lift_code_name(LIFT_CODE_COUNT), "unknown");
    assert_string_equal(lift_code_name((enum lift_code)1000), "unknown");
    assert_string_equal(lift_code_name((enum lift_code)(-1)), "unknown");
}

static void error_clear_filled_error_reset(void **state)
{
    (void)state;
    struct lift_error err;
    lift_error_sys(&err, LIFT_ERR_IO, ENOENT, "cannot open '%s'", "x.csv");
    lift_error_clear(&err);
    assert_int_equal(err.code, LIFT_OK);
    assert_int_equal(err.sys_errno, 0);
    assert_string_equal(err.msg, "");
}

static void error_clear_null_no_crash(void **state)
{
    (void)state;
    lift_error_clear(NULL);
}

static void error_set_format_returns_code_and_message(void **state)
{
    (void)state;
    struct lift_error err;
    lift_error_clear(&err);
    enum lift_code rc =
        lift_error_set(&err, LIFT_ERR_PARSE, "line %d, column %d: bad '%s'", 42,
                       7, "bank.csv");
    assert_int_equal(rc, LIFT_ERR_PARSE);
    assert_int_equal(err.code, LIFT_ERR_PARSE);
    assert_int_equal(err.sys_errno, 0);
    assert_string_equal(err.msg, "line 42, column 7: bad 'bank.csv'");
}

static void error_set_null_err_returns_code(void **state)
{
    (void)state;
    assert_int_equal(lift_error_set(NULL, LIFT_ERR_LIMIT, "x %d", 1),
                     LIFT_ERR_LIMIT);
    assert_int_equal(lift_error_sys(NULL, LIFT_ERR_IO, EIO, "y"), LIFT_ERR_IO);
    assert_int_equal(lift_error_nomem(NULL, "z"), LIFT_ERR_NOMEM);
}

static void error_set_long_message_cut_with_dots(void **state)
{
    (void)state;
    char long_text[600];
    fill_text(long_text, sizeof long_text, 'a');
    struct lift_error err;
    lift_error_set(&err, LIFT_ERR_INVALID, "%s", long_text);
    assert_cut_with_dots(&err);
    assert_int_equal(err.msg[0], 'a');
}

static void error_set_long_utf8_cut_at_char_boundary(void **state)
{
    (void)state;
    /* 200 copies of U+00E9 (2 bytes each): the cut must not split one */
    char text[401];
    for (int i = 0; i < 200; i++) {
        text[2 * i] = (char)0xC3;
        text[2 * i + 1] = (char)0xA9;
    }
    text[400] = '\0';
    for (size_t shift = 0; shift < 2; shift++) {
        struct lift_error err;
        lift_error_set(&err, LIFT_ERR_INVALID, "%.*s%s", (int)shift, "x", text);
        size_t len = strlen(err.msg);
        assert_true(len >= 3 && len < LIFT_ERROR_MSG_MAX);
        assert_memory_equal(err.msg + len - 3, "...", 3);
        size_t body = len - 3 - shift;
        /* what stays before "..." is whole two-byte characters */
        assert_int_equal(body % 2, 0);
        for (size_t i = shift; i < len - 3; i += 2) {
            assert_int_equal((unsigned char)err.msg[i], 0xC3);
            assert_int_equal((unsigned char)err.msg[i + 1], 0xA9);
        }
    }
}

static void error_sys_errno_appends_strerror(void **state)
{
    (void)state;
    struct lift_error err;
    enum lift_code rc =
        lift_error_sys(&err, LIFT_ERR_IO, ENOENT, "cannot open '%s'", "a.csv");
    assert_int_equal(rc, LIFT_ERR_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    char want[LIFT_ERROR_MSG_MAX];
    snprintf(want, sizeof want, "cannot open 'a.csv': %s", strerror(ENOENT));
    assert_string_equal(err.msg, want);
}

static void error_sys_zero_errno_no_suffix(void **state)
{
    (void)state;
    struct lift_error err;
    lift_error_sys(&err, LIFT_ERR_IO, 0, "short read of '%s'", "m.lift");
    assert_int_equal(err.sys_errno, 0);
    assert_string_equal(err.msg, "short read of 'm.lift'");
}

static void error_sys_long_message_still_terminated(void **state)
{
    (void)state;
    char long_text[300];
    fill_text(long_text, sizeof long_text, 'b');
    struct lift_error err;
    lift_error_sys(&err, LIFT_ERR_IO, EACCES, "%s", long_text);
    assert_cut_with_dots(&err);
    assert_int_equal(err.sys_errno, EACCES);
}

static void error_nomem_what_named(void **state)
{
    (void)state;
    struct lift_error err;
    assert_int_equal(lift_error_nomem(&err, "column values"), LIFT_ERR_NOMEM);
    assert_int_equal(err.code, LIFT_ERR_NOMEM);
    assert_string_equal(err.msg, "out of memory (column values)");
}

static void error_prefix_short_prepended(void **state)
{
    (void)state;
    struct lift_error err;
    lift_error_set(&err, LIFT_ERR_NOT_FOUND, "no column 'y'");
    lift_error_prefix(&err, "bank.csv");
    assert_string_equal(err.msg, "bank.csv: no column 'y'");
    assert_int_equal(err.code, LIFT_ERR_NOT_FOUND);
}

static void error_prefix_long_cut_with_dots(void **state)
{
    (void)state;
    char long_text[250];
    fill_text(long_text, sizeof long_text, 'c');
    struct lift_error err;
    lift_error_set(&err, LIFT_ERR_INVALID, "%s", long_text);
    lift_error_prefix(&err, "prefix");
    assert_cut_with_dots(&err);
    assert_memory_equal(err.msg, "prefix: ccc", 11);
}

static void error_prefix_null_no_crash(void **state)
{
    (void)state;
    lift_error_prefix(NULL, "x");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(code_name_each_code_documented_name),
        cmocka_unit_test(code_name_out_of_range_unknown),
        cmocka_unit_test(error_clear_filled_error_reset),
        cmocka_unit_test(error_clear_null_no_crash),
        cmocka_unit_test(error_set_format_returns_code_and_message),
        cmocka_unit_test(error_set_null_err_returns_code),
        cmocka_unit_test(error_set_long_message_cut_with_dots),
        cmocka_unit_test(error_set_long_utf8_cut_at_char_boundary),
        cmocka_unit_test(error_sys_errno_appends_strerror),
        cmocka_unit_test(error_sys_zero_errno_no_suffix),
        cmocka_unit_test(error_sys_long_message_still_terminated),
        cmocka_unit_test(error_nomem_what_named),
        cmocka_unit_test(error_prefix_short_prepended),
        cmocka_unit_test(error_prefix_long_cut_with_dots),
        cmocka_unit_test(error_prefix_null_no_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
