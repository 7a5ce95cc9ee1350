/*
 * test_segment.c - k-means++ and the silhouette (marketing/segment.c) on
 * small data worked out by hand: two separated triangles (labels and
 * inertia 8/3), k equal to the rows (inertia 0), the same seed giving the
 * same fit, a silhouette computed on paper, and lift_segment_run's errors
 * and report on a table read from memory.
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

/* cmocka's assert_float_equal works in float. */
#define assert_near(a, b, eps) assert_true(fabs((a) - (b)) <= (eps))

#include <lift/segment.h>
#include <lift/table.h>

#include "marketing/segment.h"

static const double tri[] = {0, 0, 0, 1, 1, 0, 10, 10, 10, 11, 11, 10};

static void kmeans_two_triangles_exact(void **state)
{
    (void)state;
    double c[4], inertia;
    uint32_t label[6];
    unsigned it;
    assert_int_equal(kmeans_fit(tri, 6, 2, 2, 5, 100, 1e-4, 42, c, label,
                                &inertia, &it, NULL, NULL),
                     LIFT_OK);
    /* Each triangle's centroid is a third of the way in: squared
     * distances 2/9 + 5/9 + 5/9 = 4/3 per triangle. */
    assert_near(inertia, 8.0 / 3.0, 1e-12);
    assert_true(label[0] == label[1] && label[1] == label[2]);
    assert_true(label[3] == label[4] && label[4] == label[5]);
    assert_true(label[0] != label[3]);
}

static void kmeans_k_equals_rows_zero_inertia(void **state)
{
    (void)state;
    double c[12], inertia;
    uint32_t label[6];
    unsigned it;
    assert_int_equal(kmeans_fit(tri, 6, 2, 6, 3, 100, 1e-4, 1, c, label,
                                &inertia, &it, NULL, NULL),
                     LIFT_OK);
    assert_near(inertia, 0, 1e-12);
}

static void kmeans_same_seed_same_fit(void **state)
{
    (void)state;
    double x[200];
    for (size_t i = 0; i < 200; i++)
        x[i] = sin((double)i * 1.7) * 3 + (double)(i % 3);
    double c1[8], c2[8], in1, in2;
    uint32_t l1[100], l2[100];
    unsigned it1, it2;
    assert_int_equal(kmeans_fit(x, 100, 2, 4, 4, 300, 1e-4, 7, c1, l1, &in1,
                                &it1, NULL, NULL),
                     LIFT_OK);
    assert_int_equal(kmeans_fit(x, 100, 2, 4, 4, 300, 1e-4, 7, c2, l2, &in2,
                                &it2, NULL, NULL),
                     LIFT_OK);
    assert_true(in1 == in2);
    assert_memory_equal(c1, c2, sizeof c1);
    assert_memory_equal(l1, l2, sizeof l1);
}

static void silhouette_line_matches_paper(void **state)
{
    (void)state;
    const double x[] = {0, 1, 10, 11};
    const uint32_t label[] = {0, 0, 1, 1}, rows[] = {0, 1, 2, 3};
    double s;
    assert_int_equal(silhouette_mean(x, 1, rows, 4, label, 2, &s, NULL),
                     LIFT_OK);
    /* Outer points: (10.5 - 1) / 10.5; inner: (9.5 - 1) / 9.5. */
    assert_near(s, (9.5 / 10.5 + 8.5 / 9.5) / 2, 1e-12);
}

static struct lift_table *table(const char *csv)
{
    struct lift_table *t = NULL;
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    assert_int_equal(lift_table_read_mem(csv, strlen(csv), &o, &t, NULL),
                     LIFT_OK);
    return t;
}

static void run_k_larger_than_rows_invalid(void **state)
{
    (void)state;
    struct lift_table *t = table("a,b\n1,x\n2,y\n");
    struct lift_segment_opts *o = NULL;
    struct lift_error err;
    char *json = NULL;
    assert_int_equal(lift_segment_opts_new(&o, NULL), LIFT_OK);
    assert_int_equal(lift_segment_opts_set(o, "k", "3", NULL), LIFT_OK);
    assert_int_equal(lift_segment_run(t, o, &json, &err), LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "larger than the 2 rows"));
    assert_null(json);
    assert_int_equal(lift_segment_opts_set(o, "k", "0", &err),
                     LIFT_ERR_INVALID);
    lift_segment_opts_free(o);
    lift_table_free(t);
}

static void run_reports_sizes_and_rates(void **state)
{
    (void)state;
    struct lift_table *t = table("a,c,y\n0,p,1\n1,p,1\n0,p,0\n"
                                 "20,q,0\n21,q,0\n20,q,0\n");
    struct lift_segment_opts *o = NULL;
    char *json = NULL;
    assert_int_equal(lift_segment_opts_new(&o, NULL), LIFT_OK);
    assert_int_equal(lift_segment_opts_set(o, "k", "2", NULL), LIFT_OK);
    assert_int_equal(lift_segment_opts_set(o, "target", "y", NULL), LIFT_OK);
    assert_int_equal(lift_segment_run(t, o, &json, NULL), LIFT_OK);
    assert_non_null(strstr(json, "\"size\":3"));
    assert_non_null(strstr(json, "\"features\":3"));
    assert_non_null(strstr(json, "\"level\":\"p\""));
    free(json);
    lift_segment_opts_free(o);
    lift_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kmeans_two_triangles_exact),
        cmocka_unit_test(kmeans_k_equals_rows_zero_inertia),
        cmocka_unit_test(kmeans_same_seed_same_fit),
        cmocka_unit_test(silhouette_line_matches_paper),
        cmocka_unit_test(run_k_larger_than_rows_invalid),
        cmocka_unit_test(run_reports_sizes_and_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
