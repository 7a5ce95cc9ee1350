/*
 * test_target.c - campaign targeting and the report (marketing/target.c,
 * marketing/report.c).
 *
 * A logistic model is trained on a 600-row table made in memory (x in
 * [0, 1), y = yes with a rate rising in x, a value column, a text column).
 * The plan's cut-off under each limit is checked against an obvious
 * search: every k over the expected profits sorted by qsort, the best
 * allowed one kept. Also: every bad economics sentence, the CSV and JSON
 * shapes, the report's chart point counts, and cleanup under injected
 * allocation failures.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <lift/marketing.h>
#include <lift/model.h>
#include <lift/table.h>

#include "core/alloc.h"

enum { N = 600 };

struct fixture {
    struct lift_table *t;
    struct lift_model *m;
    double p[N];
};

static int setup(void **state)
{
    static struct fixture f;
    char *csv = malloc(64 * (N + 1));
    size_t len = (size_t)sprintf(csv, "x,z,order,name,y\n");
    for (unsigned i = 0; i < N; i++) {
        double x = (double)((i * 37u) % N) / N;
        /* a deterministic pseudo-random draw with P(yes) = 0.02 + 0.5 x^2 */
        double u = (double)((i * 7919u + 13u) % 1000u) / 1000.0;
        len += (size_t)sprintf(csv + len, "%.4f,%u,%u,c%u,%s\n", x, i % 7,
                               50 + (i * 13u) % 200u, i,
                               u < 0.02 + 0.5 * x * x ? "yes" : "no");
    }
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    struct lift_error err;
    struct lift_train_opts *to = NULL;
    if (lift_table_read_mem(csv, len, &o, &f.t, &err) ||
        lift_train_opts_new(&to, &err) ||
        lift_train_opts_set(to, "target", "y", &err) ||
        lift_train_opts_set(to, "positive", "yes", &err) ||
        lift_train_opts_set(to, "drop", "order,name", &err) ||
        lift_model_train(f.t, NULL, 0, to, &f.m, &err) ||
        lift_model_predict_table(f.m, f.t, NULL, N, f.p, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        free(csv);
        lift_train_opts_free(to);
        return -1;
    }
    lift_train_opts_free(to);
    free(csv);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lift_model_free(f->m);
    lift_table_free(f->t);
    return 0;
}

static int desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* The obvious search: the best k under a per-k admissibility rule. */
enum rule { ANY, MAX_K, ROI };

static size_t brute_k(const struct fixture *f, const double *value, double cost,
                      enum rule rule, double limit, double *profit)
{
    double e[N];
    for (size_t i = 0; i < N; i++)
        e[i] = f->p[i] * value[i] - cost;
    qsort(e, N, sizeof e[0], desc);
    size_t best = 0;
    double best_profit = 0, sum = 0;
    for (size_t k = 1; k <= N; k++) {
        sum += e[k - 1];
        if (rule == MAX_K && (double)k > limit)
            break;
        if (rule == ROI && sum < limit * cost * (double)k)
            continue;
        if (sum > best_profit + 1e-9) {
            best_profit = sum;
            best = k;
        }
    }
    *profit = best_profit;
    return best;
}

static double plan_profit(const struct lift_campaign *c)
{
    double sum = 0;
    for (size_t i = 0; i < lift_campaign_n_selected(c); i++) {
        double e;
        lift_campaign_ranked(c, i, NULL, NULL, &e);
        sum += e;
    }
    return sum;
}

static struct lift_campaign *plan(struct fixture *f,
                                  const struct lift_campaign_opts *o)
{
    struct lift_campaign *c = NULL;
    struct lift_error err;
    enum lift_code rc = lift_campaign_plan(f->m, f->t, o, &c, &err);
    if (rc)
        fail_msg("plan: %s", err.msg);
    return c;
}

static void plan_no_limit_matches_brute_force(void **state)
{
    struct fixture *f = *state;
    double v[N], want;
    for (size_t i = 0; i < N; i++)
        v[i] = 40;
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = 3;
    o.value = 40;
    struct lift_campaign *c = plan(f, &o);
    size_t k = brute_k(f, v, 3, ANY, 0, &want);
    assert_true(k > 0 && k < N);
    assert_int_equal(lift_campaign_n_selected(c), k);
    assert_true(fabs(plan_profit(c) - want) < 1e-9);
    /* ranked by expected profit, the selection all profitable */
    double prev = INFINITY;
    for (size_t i = 0; i < N; i++) {
        double e;
        lift_campaign_ranked(c, i, NULL, NULL, &e);
        assert_true(e <= prev);
        assert_true(i < k ? e > 0 : e <= 0);
        prev = e;
    }
    lift_campaign_free(c);
}

static void plan_limits_match_brute_force(void **state)
{
    struct fixture *f = *state;
    double v[N], want;
    for (size_t i = 0; i < N; i++)
        v[i] = 40;
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = 3;
    o.value = 40;
    o.budget = 100; /* 33 contacts */
    struct lift_campaign *c = plan(f, &o);
    assert_int_equal(lift_campaign_n_selected(c),
                     brute_k(f, v, 3, MAX_K, 33, &want));
    assert_int_equal(lift_campaign_n_selected(c), 33);
    assert_true(fabs(plan_profit(c) - want) < 1e-9);
    lift_campaign_free(c);

    lift_campaign_opts_init(&o);
    o.cost = 3;
    o.value = 40;
    o.max_contacts = 10;
    c = plan(f, &o);
    assert_int_equal(lift_campaign_n_selected(c), 10);
    lift_campaign_free(c);

    for (double roi = 0; roi <= 6; roi += 1.5) {
        lift_campaign_opts_init(&o);
        o.cost = 3;
        o.value = 40;
        o.min_roi = roi;
        c = plan(f, &o);
        size_t k = brute_k(f, v, 3, ROI, roi, &want);
        assert_int_equal(lift_campaign_n_selected(c), k);
        assert_true(fabs(plan_profit(c) - want) < 1e-9);
        assert_true(k == 0 || plan_profit(c) >= roi * 3 * (double)k - 1e-9);
        lift_campaign_free(c);
    }
}

static void plan_value_column_matches_brute_force(void **state)
{
    struct fixture *f = *state;
    size_t col;
    assert_int_equal(lift_table_col_index(f->t, "order", &col, NULL), LIFT_OK);
    const double *v = lift_table_values(f->t, col);
    double want;
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = 8;
    o.value_col = "order";
    struct lift_campaign *c = plan(f, &o);
    assert_int_equal(lift_campaign_n_selected(c),
                     brute_k(f, v, 8, ANY, 0, &want));
    assert_true(fabs(plan_profit(c) - want) < 1e-9);
    lift_campaign_free(c);
}

static void check_bad(struct fixture *f, const struct lift_campaign_opts *o,
                      enum lift_code code, const char *want)
{
    struct lift_campaign *c = (struct lift_campaign *)1;
    struct lift_error err;
    assert_int_equal(lift_campaign_plan(f->m, f->t, o, &c, &err), code);
    assert_null(c);
    if (!strstr(err.msg, want))
        fail_msg("message '%s' lacks '%s'", err.msg, want);
}

static void plan_bad_economics_say_why(void **state)
{
    struct fixture *f = *state;
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = -5;
    o.value = 100;
    check_bad(f, &o, LIFT_ERR_INVALID, "cost per contact must be");
    o.cost = 5;
    o.value = 0;
    check_bad(f, &o, LIFT_ERR_INVALID, "must be > 0, not 0");
    o.value = NAN;
    check_bad(f, &o, LIFT_ERR_INVALID, "value per conversion is missing");
    o.value = 100;
    o.budget = 4;
    check_bad(f, &o, LIFT_ERR_INVALID, "below the cost of one contact");
    o.max_contacts = 3;
    check_bad(f, &o, LIFT_ERR_INVALID, "conflicting limits");
    o.budget = NAN;
    o.max_contacts = 2.5;
    check_bad(f, &o, LIFT_ERR_INVALID, "whole number");
    o.max_contacts = NAN;
    o.cost = 0;
    o.min_roi = 1;
    check_bad(f, &o, LIFT_ERR_INVALID, "needs a cost per contact > 0");
    lift_campaign_opts_init(&o);
    o.cost = 1;
    o.value_col = "name";
    check_bad(f, &o, LIFT_ERR_UNPROCESSABLE,
              "value column 'name' is categorical, not numeric");
    o.value_col = "nope";
    check_bad(f, &o, LIFT_ERR_NOT_FOUND, "nope");
}

static void plan_negative_value_names_line(void **state)
{
    struct fixture *f = *state;
    const char csv[] = "x,z,v\n0.5,1,10\n0.2,2,-3\n";
    struct lift_read_opts ro;
    lift_read_opts_init(&ro);
    struct lift_table *t;
    struct lift_error err;
    assert_int_equal(lift_table_read_mem(csv, strlen(csv), &ro, &t, &err),
                     LIFT_OK);
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = 1;
    o.value_col = "v";
    struct lift_campaign *c;
    assert_int_equal(lift_campaign_plan(f->m, t, &o, &c, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "line 3"));
    /* no target in this table: a plan without realised figures */
    o.value_col = NULL;
    o.value = 100;
    assert_int_equal(lift_campaign_plan(f->m, t, &o, &c, &err), LIFT_OK);
    char *json;
    assert_int_equal(lift_campaign_json(c, t, NULL, 10, &json, &err), LIFT_OK);
    assert_null(strstr(json, "\"realised\""));
    free(json);
    lift_campaign_free(c);
    lift_table_free(t);
}

static void csv_and_json_shapes(void **state)
{
    struct fixture *f = *state;
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = 3;
    o.value = 40;
    struct lift_campaign *c = plan(f, &o);
    size_t k = lift_campaign_n_selected(c);
    struct lift_error err;
    char *text;
    size_t len;
    assert_int_equal(lift_campaign_csv(c, f->t, NULL, &text, &len, &err),
                     LIFT_OK);
    assert_int_equal(strncmp(text, "row,score,expected_profit\n", 26), 0);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, k + 1);
    size_t row;
    lift_campaign_ranked(c, 0, &row, NULL, NULL);
    char first[32];
    snprintf(first, sizeof first, "\n%zu,", row + 1);
    assert_non_null(strstr(text, first));
    free(text);
    assert_int_equal(lift_campaign_csv(c, f->t, "name", &text, &len, &err),
                     LIFT_OK);
    assert_int_equal(strncmp(text, "name,score,expected_profit\nc", 28), 0);
    free(text);
    assert_int_equal(lift_campaign_csv(c, f->t, "nope", &text, &len, &err),
                     LIFT_ERR_NOT_FOUND);

    char *json;
    assert_int_equal(lift_campaign_json(c, f->t, "name", 5, &json, &err),
                     LIFT_OK);
    json_t *doc = json_loads(json, 0, NULL);
    free(json);
    assert_non_null(doc);
    size_t n_curve = json_array_size(json_object_get(doc, "profit_curve"));
    assert_true(n_curve == LIFT_CURVE_POINTS + 1 ||
                n_curve == LIFT_CURVE_POINTS + 2);
    assert_int_equal(json_array_size(json_object_get(doc, "gain_curve")),
                     n_curve);
    assert_int_equal(json_array_size(json_object_get(doc, "selected")), 5);
    json_t *plan_ = json_object_get(doc, "plan");
    assert_int_equal(json_integer_value(json_object_get(plan_, "contacts")),
                     (json_int_t)k);
    assert_true(fabs(json_number_value(json_object_get(plan_, "profit")) -
                     plan_profit(c)) < 1e-6);
    json_t *real = json_object_get(doc, "realised");
    assert_non_null(json_object_get(real, "top_30"));
    assert_int_equal(json_array_size(json_object_get(doc, "lift_table")), 10);
    json_decref(doc);
    lift_campaign_free(c);
}

/* Counts class="pt" inside the svg of id; returns its data-points. */
static long chart_points(const char *html, const char *id, long *counted)
{
    char key[64];
    snprintf(key, sizeof key, "id=\"%s\" data-points=\"", id);
    const char *s = strstr(html, key);
    if (!s)
        return -1;
    long declared = strtol(s + strlen(key), NULL, 10);
    const char *end = strstr(s, "</svg>");
    *counted = 0;
    for (const char *p = strstr(s, "class=\"pt\""); p && p < end;
         p = strstr(p + 1, "class=\"pt\""))
        (*counted)++;
    return declared;
}

static void report_charts_hold_their_points(void **state)
{
    struct fixture *f = *state;
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = 3;
    o.value = 40;
    char *html;
    size_t len;
    struct lift_error err;
    assert_int_equal(
        lift_report_html(f->m, f->t, "a <b> & c", &o, &html, &len, &err),
        LIFT_OK);
    assert_int_equal(strlen(html), len);
    assert_non_null(strstr(html, "a &lt;b&gt; &amp; c"));
    assert_null(strstr(html, "<script"));
    static const struct {
        const char *id;
        long want; /* -1: any positive */
    } charts[] = {{"gain", 11},        {"lift", 10}, {"profit", -1},
                  {"calibration", -1}, {"roc", -1},  {"importance", 2}};
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        long counted = -1;
        long declared = chart_points(html, charts[i].id, &counted);
        if (declared != counted || declared <= 0 ||
            (charts[i].want >= 0 && declared != charts[i].want))
            fail_msg("%s: declared %ld, counted %ld", charts[i].id, declared,
                     counted);
    }
    free(html);
    /* without economics: no profit chart */
    assert_int_equal(
        lift_report_html(f->m, f->t, NULL, NULL, &html, &len, &err), LIFT_OK);
    long counted;
    assert_int_equal(chart_points(html, "profit", &counted), -1);
    free(html);
}

static void report_needs_the_target(void **state)
{
    struct fixture *f = *state;
    const char csv[] = "x,z\n0.5,1\n0.2,2\n";
    struct lift_read_opts ro;
    lift_read_opts_init(&ro);
    struct lift_table *t;
    struct lift_error err;
    assert_int_equal(lift_table_read_mem(csv, strlen(csv), &ro, &t, &err),
                     LIFT_OK);
    char *html = (char *)1;
    size_t len;
    assert_int_equal(lift_report_html(f->m, t, NULL, NULL, &html, &len, &err),
                     LIFT_ERR_INVALID);
    assert_null(html);
    assert_non_null(strstr(err.msg, "target column 'y'"));
    lift_table_free(t);
}

static void plan_and_report_clean_up_on_nomem(void **state)
{
    struct fixture *f = *state;
    if (!lift_alloc_fail_at(0))
        skip();
    struct lift_campaign_opts o;
    lift_campaign_opts_init(&o);
    o.cost = 3;
    o.value = 40;
    bool done = false;
    for (long nth = 1; nth < 400 && !done; nth++) {
        struct lift_campaign *c = NULL;
        struct lift_error err;
        char *html = NULL;
        size_t len;
        lift_alloc_fail_at(nth);
        enum lift_code rc = lift_campaign_plan(f->m, f->t, &o, &c, &err);
        lift_alloc_fail_at(0);
        if (rc) {
            assert_null(c);
            continue;
        }
        lift_campaign_free(c);
        lift_alloc_fail_at(nth);
        rc = lift_report_html(f->m, f->t, NULL, &o, &html, &len, &err);
        lift_alloc_fail_at(0);
        if (rc)
            assert_null(html);
        free(html);
        done = nth > 60 && rc == LIFT_OK;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_no_limit_matches_brute_force),
        cmocka_unit_test(plan_limits_match_brute_force),
        cmocka_unit_test(plan_value_column_matches_brute_force),
        cmocka_unit_test(plan_bad_economics_say_why),
        cmocka_unit_test(plan_negative_value_names_line),
        cmocka_unit_test(csv_and_json_shapes),
        cmocka_unit_test(report_charts_hold_their_points),
        cmocka_unit_test(report_needs_the_target),
        cmocka_unit_test(plan_and_report_clean_up_on_nomem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
