/*
 * tests/unit/test_buf.c - the capped growable buffer (core/buf.c): growth
 * keeps contents and the trailing NUL, the limit fails with LIFT_ERR_LIMIT
 * and a message naming it while leaving the contents alone, detach hands
 * the storage over.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"

static void buf_init_defaults_empty(void **state)
{
    (void)state;
    struct lift_buf b;
    lift_buf_init(&b, 0, NULL);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_true(b.limit == SIZE_MAX / 2);
    assert_string_equal(b.what, "buffer");
    lift_buf_release(&b);
}

static void buf_append_pieces_concatenated_terminated(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    lift_buf_init(&b, 0, "test");
    assert_int_equal(lift_buf_append(&b, "abc", 3, &err), LIFT_OK);
    assert_int_equal(lift_buf_putc(&b, '-', &err), LIFT_OK);
    assert_int_equal(lift_buf_puts(&b, "xyz", &err), LIFT_OK);
    assert_int_equal(lift_buf_append(&b, "", 0, &err), LIFT_OK);
    assert_int_equal(b.len, 7);
    assert_string_equal(b.data, "abc-xyz");
    assert_int_equal(b.data[b.len], '\0');
    lift_buf_release(&b);
}

static void buf_append_zero_bytes_empty_string(void **state)
{
    (void)state;
    struct lift_buf b;
    lift_buf_init(&b, 0, NULL);
    assert_int_equal(lift_buf_append(&b, "", 0, NULL), LIFT_OK);
    assert_non_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    lift_buf_release(&b);
}

static void buf_append_embedded_nul_kept(void **state)
{
    (void)state;
    struct lift_buf b;
    lift_buf_init(&b, 0, NULL);
    assert_int_equal(lift_buf_append(&b, "a\0b", 3, NULL), LIFT_OK);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b\0", 4);
    lift_buf_release(&b);
}

static void buf_append_many_bytes_grows_keeps_contents(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    lift_buf_init(&b, 0, NULL);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(lift_buf_putc(&b, (char)('a' + i % 26), &err),
                         LIFT_OK);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap >= b.len + 1);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], 'a' + (int)(i % 26));
    assert_int_equal(b.data[b.len], '\0');
    lift_buf_release(&b);
}

static void buf_append_past_limit_error_names_limit(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    lift_error_clear(&err);
    lift_buf_init(&b, 10, "request body");
    assert_int_equal(lift_buf_append(&b, "12345678", 8, &err), LIFT_OK);
    assert_int_equal(lift_buf_append(&b, "abc", 3, &err), LIFT_ERR_LIMIT);
    assert_int_equal(err.code, LIFT_ERR_LIMIT);
    assert_string_equal(err.msg,
                        "request body is larger than the limit of 10 bytes");
    /* the contents are as they were */
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    lift_buf_release(&b);
}

static void buf_append_exactly_limit_ok(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    lift_buf_init(&b, 100, "field");
    for (int i = 0; i < 10; i++)
        assert_int_equal(lift_buf_append(&b, "0123456789", 10, &err), LIFT_OK);
    assert_int_equal(b.len, 100);
    assert_true(b.cap <= 101);
    assert_int_equal(lift_buf_putc(&b, 'x', &err), LIFT_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "field"));
    assert_non_null(strstr(err.msg, "100"));
    assert_int_equal(b.len, 100);
    lift_buf_release(&b);
}

static void buf_reserve_overflowing_extra_limit_error(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    lift_buf_init(&b, 0, "line");
    assert_int_equal(lift_buf_puts(&b, "x", &err), LIFT_OK);
    assert_int_equal(lift_buf_reserve(&b, SIZE_MAX, &err), LIFT_ERR_LIMIT);
    assert_int_equal(err.code, LIFT_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "line"));
    assert_string_equal(b.data, "x");
    lift_buf_release(&b);
}

static void buf_printf_short_appended(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    lift_buf_init(&b, 0, NULL);
    assert_int_equal(lift_buf_puts(&b, "auc=", &err), LIFT_OK);
    assert_int_equal(
        lift_buf_printf(&b, &err, "%.3f n=%d %s", 0.79312, 41188, "rows"),
        LIFT_OK);
    assert_string_equal(b.data, "auc=0.793 n=41188 rows");
    assert_int_equal(b.len, strlen("auc=0.793 n=41188 rows"));
    lift_buf_release(&b);
}

static void buf_printf_longer_than_stack_grows(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    char text[1001];
    memset(text, 'q', 1000);
    text[1000] = '\0';
    lift_buf_init(&b, 0, NULL);
    assert_int_equal(lift_buf_putc(&b, '<', &err), LIFT_OK);
    assert_int_equal(lift_buf_printf(&b, &err, "%s>%05d", text, 42), LIFT_OK);
    assert_int_equal(b.len, 1 + 1000 + 1 + 5);
    assert_int_equal(b.data[0], '<');
    assert_memory_equal(b.data + 1, text, 1000);
    assert_string_equal(b.data + 1001, ">00042");
    lift_buf_release(&b);
}

static void buf_printf_past_limit_error_contents_kept(void **state)
{
    (void)state;
    struct lift_buf b;
    struct lift_error err;
    lift_buf_init(&b, 300, "json");
    assert_int_equal(lift_buf_printf(&b, &err, "%0250d", 7), LIFT_OK);
    assert_int_equal(b.len, 250);
    /* 100 bytes: formatted on the stack, then refused by the append */
    assert_int_equal(lift_buf_printf(&b, &err, "%0100d", 1), LIFT_ERR_LIMIT);
    assert_string_equal(err.msg, "json is larger than the limit of 300 bytes");
    assert_int_equal(b.len, 250);
    /* 400 bytes: too long for the stack, refused by the reserve */
    lift_error_clear(&err);
    assert_int_equal(lift_buf_printf(&b, &err, "%0400d", 3), LIFT_ERR_LIMIT);
    assert_int_equal(err.code, LIFT_ERR_LIMIT);
    assert_int_equal(b.len, 250);
    assert_int_equal(b.data[0], '0');
    assert_int_equal(b.data[249], '7');
    assert_int_equal(b.data[250], '\0');
    lift_buf_release(&b);
}

static void buf_append_alloc_failure_nomem_names_what(void **state)
{
    (void)state;
#ifdef LIFT_ALLOC_HOOK
    struct lift_buf b;
    struct lift_error err;
    lift_buf_init(&b, 0, "token list");
    lift_alloc_fail_at(1);
    assert_int_equal(lift_buf_puts(&b, "x", &err), LIFT_ERR_NOMEM);
    assert_string_equal(err.msg, "out of memory (token list)");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* the next try succeeds */
    assert_int_equal(lift_buf_puts(&b, "y", &err), LIFT_OK);
    assert_string_equal(b.data, "y");
    lift_alloc_fail_at(0);
    lift_buf_release(&b);
#else
    skip();
#endif
}

static void buf_clear_keeps_storage(void **state)
{
    (void)state;
    struct lift_buf b;
    lift_buf_init(&b, 0, NULL);
    assert_int_equal(lift_buf_puts(&b, "some text", NULL), LIFT_OK);
    char *data = b.data;
    size_t cap = b.cap;
    lift_buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    assert_int_equal(lift_buf_puts(&b, "new", NULL), LIFT_OK);
    assert_string_equal(b.data, "new");
    lift_buf_release(&b);
}

static void buf_detach_hands_over_storage(void **state)
{
    (void)state;
    struct lift_buf b;
    lift_buf_init(&b, 0, NULL);
    assert_int_equal(lift_buf_puts(&b, "owned", NULL), LIFT_OK);
    size_t len = 0;
    char *s = lift_buf_detach(&b, &len);
    assert_non_null(s);
    assert_int_equal(len, 5);
    assert_string_equal(s, "owned");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    /* the buffer can be used again, independently */
    assert_int_equal(lift_buf_puts(&b, "next", NULL), LIFT_OK);
    assert_string_equal(b.data, "next");
    assert_string_equal(s, "owned");
    lift_free(s);
    lift_buf_release(&b);
}

static void buf_detach_empty_null_zero_length(void **state)
{
    (void)state;
    struct lift_buf b;
    lift_buf_init(&b, 0, NULL);
    size_t len = 99;
    assert_null(lift_buf_detach(&b, &len));
    assert_int_equal(len, 0);
    assert_null(lift_buf_detach(&b, NULL));
}

static void buf_release_twice_safe(void **state)
{
    (void)state;
    struct lift_buf b;
    lift_buf_init(&b, 0, NULL);
    assert_int_equal(lift_buf_puts(&b, "x", NULL), LIFT_OK);
    lift_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    lift_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(buf_init_defaults_empty),
        cmocka_unit_test(buf_append_pieces_concatenated_terminated),
        cmocka_unit_test(buf_append_zero_bytes_empty_string),
        cmocka_unit_test(buf_append_embedded_nul_kept),
        cmocka_unit_test(buf_append_many_bytes_grows_keeps_contents),
        cmocka_unit_test(buf_append_past_limit_error_names_limit),
        cmocka_unit_test(buf_append_exactly_limit_ok),
        cmocka_unit_test(buf_reserve_overflowing_extra_limit_error),
        cmocka_unit_test(buf_printf_short_appended),
        cmocka_unit_test(buf_printf_longer_than_stack_grows),
        cmocka_unit_test(buf_printf_past_limit_error_contents_kept),
        cmocka_unit_test(buf_append_alloc_failure_nomem_names_what),
        cmocka_unit_test(buf_clear_keeps_storage),
        cmocka_unit_test(buf_detach_hands_over_storage),
        cmocka_unit_test(buf_detach_empty_null_zero_length),
        cmocka_unit_test(buf_release_twice_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
