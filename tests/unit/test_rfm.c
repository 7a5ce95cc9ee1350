/*
 * test_rfm.c - RFM quintile scores and segments (marketing/rfm.c): exact
 * quintiles without ties, ties sharing one score, missing values left
 * out, the R x F table's corners, and transactions aggregated from a
 * table in memory, with a date column that is not a date refused.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <lift/rfm.h>
#include <lift/table.h>

#include "marketing/rfm.h"

static void scores_without_ties_are_quintiles(void **state)
{
    (void)state;
    double v[10];
    uint8_t s[10];
    for (size_t i = 0; i < 10; i++)
        v[i] = (double)(i + 1);
    assert_int_equal(rfm_scores(v, 10, false, s, NULL), LIFT_OK);
    const uint8_t up[] = {1, 1, 2, 2, 3, 3, 4, 4, 5, 5};
    assert_memory_equal(s, up, 10);
    assert_int_equal(rfm_scores(v, 10, true, s, NULL), LIFT_OK);
    const uint8_t down[] = {5, 5, 4, 4, 3, 3, 2, 2, 1, 1};
    assert_memory_equal(s, down, 10);
}

static void scores_ties_share_a_score(void **state)
{
    (void)state;
    const double v[] = {1, 1, 1, 1, 2, 3, 3};
    uint8_t s[7];
    assert_int_equal(rfm_scores(v, 7, false, s, NULL), LIFT_OK);
    /* below(2) = 4, below(3) = 5: 1 + 20/7 = 3, 1 + 25/7 = 4. */
    const uint8_t want[] = {1, 1, 1, 1, 3, 4, 4};
    assert_memory_equal(s, want, 7);
    const double same[] = {5, 5, 5};
    uint8_t s3[3];
    assert_int_equal(rfm_scores(same, 3, true, s3, NULL), LIFT_OK);
    assert_true(s3[0] == 1 && s3[1] == 1 && s3[2] == 1);
}

static void scores_missing_left_out(void **state)
{
    (void)state;
    const double v[] = {NAN, 1, 2, NAN, 3, 4, 5};
    uint8_t s[7];
    assert_int_equal(rfm_scores(v, 7, false, s, NULL), LIFT_OK);
    const uint8_t want[] = {0, 1, 2, 0, 3, 4, 5};
    assert_memory_equal(s, want, 7);
}

static void segment_table_corners(void **state)
{
    (void)state;
    assert_string_equal(lift_rfm_segment(5, 5), "champions");
    assert_string_equal(lift_rfm_segment(5, 1), "new");
    assert_string_equal(lift_rfm_segment(4, 4), "loyal");
    assert_string_equal(lift_rfm_segment(4, 2), "potential loyalists");
    assert_string_equal(lift_rfm_segment(2, 3), "at risk");
    assert_string_equal(lift_rfm_segment(1, 5), "can't lose");
    assert_string_equal(lift_rfm_segment(2, 1), "hibernating");
    assert_string_equal(lift_rfm_segment(1, 1), "lost");
    assert_string_equal(lift_rfm_segment(0, 3), "unscored");
}

static enum lift_code run(const char *csv, const char *as_of, char **json,
                          struct lift_error *err)
{
    struct lift_table *t = NULL;
    struct lift_read_opts ro;
    lift_read_opts_init(&ro);
    assert_int_equal(lift_table_read_mem(csv, strlen(csv), &ro, &t, NULL),
                     LIFT_OK);
    struct lift_rfm_opts *o = NULL;
    assert_int_equal(lift_rfm_opts_new(&o, NULL), LIFT_OK);
    assert_int_equal(lift_rfm_opts_set(o, "customer", "id", NULL), LIFT_OK);
    assert_int_equal(lift_rfm_opts_set(o, "date", "day", NULL), LIFT_OK);
    assert_int_equal(lift_rfm_opts_set(o, "amount", "amt", NULL), LIFT_OK);
    assert_int_equal(lift_rfm_opts_set(o, "customers", "true", NULL), LIFT_OK);
    if (as_of)
        assert_int_equal(lift_rfm_opts_set(o, "as-of", as_of, NULL), LIFT_OK);
    enum lift_code rc = lift_rfm_run(t, o, json, err);
    lift_rfm_opts_free(o);
    lift_table_free(t);
    return rc;
}

static void transactions_aggregate_per_customer(void **state)
{
    (void)state;
    char *json = NULL;
    assert_int_equal(run("id,day,amt\n"
                         "a,2020-01-01,10\nb,2020-01-05,1\na,2020-01-09,5\n",
                         "2020-01-10", &json, NULL),
                     LIFT_OK);
    /* a: last purchase 1 day before, 2 purchases, 15; b: 5 days, 1, 1 */
    assert_non_null(strstr(json, "\"customer\":\"a\",\"recency\":1.0"));
    assert_non_null(strstr(json, "\"frequency\":2.0,\"monetary\":15.0"));
    assert_non_null(strstr(json, "\"customer\":\"b\",\"recency\":5.0"));
    assert_non_null(strstr(json, "\"as_of\":\"2020-01-10\""));
    free(json);
}

static void transactions_bad_date_unprocessable(void **state)
{
    (void)state;
    char *json = NULL;
    struct lift_error err;
    assert_int_equal(
        run("id,day,amt\na,2020-01-01,1\nb,yesterday,2\n", NULL, &json, &err),
        LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "'yesterday'"));
    assert_null(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scores_without_ties_are_quintiles),
        cmocka_unit_test(scores_ties_share_a_score),
        cmocka_unit_test(scores_missing_left_out),
        cmocka_unit_test(segment_table_corners),
        cmocka_unit_test(transactions_aggregate_per_customer),
        cmocka_unit_test(transactions_bad_date_unprocessable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
