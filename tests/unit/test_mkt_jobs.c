/*
 * test_mkt_jobs.c - what the uplift, segments and RFM jobs rest on: the
 * library's checks (lift_*_check: the run's errors, no fitting, the
 * caller's progress callback never called), progress and cancellation at
 * the runs' safe points (a callback that says stop ends the run there
 * with LIFT_ERR_CANCELLED and no report), and the server's request
 * parser and check (server/marketing.h) with the codes the routes
 * answer. Tables are read from memory.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <lift/rfm.h>
#include <lift/segment.h>
#include <lift/table.h>
#include <lift/uplift.h>

#include "server/marketing.h"

/* 40 rows: an arm (ctrl/mail), a 0/1 outcome, two features, and
 * transactions columns. */
static struct lift_table *experiment(void)
{
    char csv[8192];
    size_t n =
        (size_t)snprintf(csv, sizeof csv, "arm,y,x,c,customer,date,amount\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(
            csv + n, sizeof csv - n, "%s,%d,%d,%s,c%d,2008-0%d-1%d,%d\n",
            i % 2 ? "mail" : "ctrl", (i * 7 + i / 3) % 3 == 0, i % 9,
            i % 3 ? "red" : "blue", i % 11, 1 + i % 3, i % 10, 1 + i % 13);
    struct lift_table *t = NULL;
    struct lift_error err;
    assert_int_equal(lift_table_read_mem(csv, n, NULL, &t, &err), LIFT_OK);
    return t;
}

/* A progress callback: counts the calls of each stage, stops at the
 * n-th call of stage `stop` (never when NULL). */
struct counter {
    const char *stop;
    unsigned at, calls, stop_calls, last_step, last_steps;
};

static int count(void *user, const struct lift_progress *p)
{
    struct counter *c = user;
    c->calls++;
    if (c->stop && strcmp(p->stage, c->stop) == 0) {
        c->last_step = p->epoch;
        c->last_steps = p->epochs;
        if (++c->stop_calls == c->at)
            return 1;
    }
    return 0;
}

static void segment_check_runs_no_fit(void **state)
{
    (void)state;
    struct lift_table *t = experiment();
    struct lift_segment_opts *o;
    struct lift_error err;
    struct counter c = {0};
    assert_int_equal(lift_segment_opts_new(&o, &err), LIFT_OK);
    lift_segment_opts_set_progress(o, count, &c);
    assert_int_equal(lift_segment_opts_set(o, "k", "3", &err), LIFT_OK);
    assert_int_equal(lift_segment_check(t, o, &err), LIFT_OK);
    assert_int_equal(c.calls, 0);
    assert_int_equal(lift_segment_opts_set(o, "k", "41", &err), LIFT_OK);
    assert_int_equal(lift_segment_check(t, o, &err), LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "k = 41 is larger than the 40 rows"));
    assert_int_equal(lift_segment_opts_set(o, "k", "2", &err), LIFT_OK);
    assert_int_equal(lift_segment_opts_set(o, "columns", "x,nope", &err),
                     LIFT_OK);
    assert_int_equal(lift_segment_check(t, o, &err), LIFT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    lift_segment_opts_free(o);
    lift_table_free(t);
}

static void segment_cancel_in_kmeans(void **state)
{
    (void)state;
    struct lift_table *t = experiment();
    struct lift_segment_opts *o;
    struct lift_error err;
    struct counter c = {"kmeans", 3, 0, 0, 0, 0};
    char *json = (char *)"x";
    assert_int_equal(lift_segment_opts_new(&o, &err), LIFT_OK);
    assert_int_equal(lift_segment_opts_set(o, "k", "3", &err), LIFT_OK);
    assert_int_equal(lift_segment_opts_set(o, "n-init", "4", &err), LIFT_OK);
    lift_segment_opts_set_progress(o, count, &c);
    assert_int_equal(lift_segment_run(t, o, &json, &err), LIFT_ERR_CANCELLED);
    assert_null(json);
    assert_int_equal(c.stop_calls, 3);
    assert_int_equal(c.last_steps, 4);
    assert_non_null(strstr(err.msg, "kmeans"));
    /* without a stop: a report, the same as without a callback */
    char *plain = NULL;
    c = (struct counter){0};
    assert_int_equal(lift_segment_run(t, o, &json, &err), LIFT_OK);
    assert_true(c.calls >= 4); /* check + one per restart at least */
    lift_segment_opts_set_progress(o, NULL, NULL);
    assert_int_equal(lift_segment_run(t, o, &plain, &err), LIFT_OK);
    assert_string_equal(json, plain);
    free(json);
    free(plain);
    lift_segment_opts_free(o);
    lift_table_free(t);
}

static void segment_cancel_between_k_candidates(void **state)
{
    (void)state;
    struct lift_table *t = experiment();
    struct lift_segment_opts *o;
    struct lift_error err;
    struct counter c = {"choose_k", 2, 0, 0, 0, 0};
    char *json = NULL;
    assert_int_equal(lift_segment_opts_new(&o, &err), LIFT_OK);
    assert_int_equal(lift_segment_opts_set(o, "k-max", "5", &err), LIFT_OK);
    lift_segment_opts_set_progress(o, count, &c);
    assert_int_equal(lift_segment_run(t, o, &json, &err), LIFT_ERR_CANCELLED);
    assert_null(json);
    assert_int_equal(c.last_step, 2);
    assert_int_equal(c.last_steps, 4);
    lift_segment_opts_free(o);
    lift_table_free(t);
}

static struct lift_uplift_opts *uplift_opts(const char *treatment)
{
    struct lift_uplift_opts *o;
    struct lift_error err;
    assert_int_equal(lift_uplift_opts_new(&o, &err), LIFT_OK);
    assert_int_equal(lift_uplift_opts_set(o, "treatment", treatment, &err),
                     LIFT_OK);
    assert_int_equal(lift_uplift_opts_set(o, "control", "ctrl", &err), LIFT_OK);
    assert_int_equal(lift_uplift_opts_set(o, "target", "y", &err), LIFT_OK);
    assert_int_equal(lift_uplift_opts_set(o, "drop", "customer,date", &err),
                     LIFT_OK);
    assert_int_equal(lift_uplift_opts_set(o, "bootstrap", "50", &err), LIFT_OK);
    return o;
}

static void uplift_check_and_cancel_in_bootstrap(void **state)
{
    (void)state;
    struct lift_table *t = experiment();
    struct lift_error err;
    struct lift_uplift_opts *o = uplift_opts("arm");
    struct counter c = {"bootstrap", 7, 0, 0, 0, 0};
    lift_uplift_opts_set_progress(o, count, &c);
    assert_int_equal(lift_uplift_check(t, o, &err), LIFT_OK);
    assert_int_equal(c.calls, 0);
    char *json = NULL;
    assert_int_equal(lift_uplift_run(t, o, &json, &err), LIFT_ERR_CANCELLED);
    assert_null(json);
    assert_int_equal(c.last_step, 7);
    assert_int_equal(c.last_steps, 50);
    assert_non_null(strstr(err.msg, "bootstrap"));
    lift_uplift_opts_free(o);
    /* a treatment that is not categorical: the run's error, at once */
    o = uplift_opts("x");
    assert_int_equal(lift_uplift_check(t, o, &err), LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "must be categorical"));
    lift_uplift_opts_free(o);
    lift_table_free(t);
    /* a treatment column with one level */
    static const char one[] = "arm,y,x\nctrl,0,1\nctrl,1,2\nctrl,0,3\n";
    assert_int_equal(lift_table_read_mem(one, sizeof one - 1, NULL, &t, &err),
                     LIFT_OK);
    o = uplift_opts("arm");
    assert_int_equal(lift_uplift_opts_set(o, "drop", "", &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_uplift_check(t, o, &err), LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "has one level ('ctrl')"));
    lift_uplift_opts_free(o);
    lift_table_free(t);
}

static void rfm_check_date_not_a_date(void **state)
{
    (void)state;
    struct lift_table *t = experiment();
    struct lift_rfm_opts *o;
    struct lift_error err;
    struct counter c = {"check", 1, 0, 0, 0, 0};
    char *json = NULL;
    assert_int_equal(lift_rfm_opts_new(&o, &err), LIFT_OK);
    assert_int_equal(lift_rfm_opts_set(o, "customer", "customer", &err),
                     LIFT_OK);
    assert_int_equal(lift_rfm_opts_set(o, "date", "date", &err), LIFT_OK);
    assert_int_equal(lift_rfm_opts_set(o, "amount", "amount", &err), LIFT_OK);
    assert_int_equal(lift_rfm_check(t, o, &err), LIFT_OK);
    lift_rfm_opts_set_progress(o, count, &c);
    assert_int_equal(lift_rfm_run(t, o, &json, &err), LIFT_ERR_CANCELLED);
    assert_null(json);
    assert_int_equal(lift_rfm_opts_set(o, "date", "c", &err), LIFT_OK);
    assert_int_equal(lift_rfm_check(t, o, &err), LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "not an ISO 8601 date"));
    lift_rfm_opts_free(o);
    lift_table_free(t);
}

static void parse_request(void **state)
{
    (void)state;
    struct mkt_job *mj = NULL;
    struct lift_error err;
    static const char body[] =
        "{\"treatment\":\"arm\",\"dataset\":\"exp\",\"bootstrap\":20,"
        "\"customers\":true,\"k\":0.25}";
    assert_int_equal(
        mkt_job_parse(MKT_UPLIFT, body, sizeof body - 1, &mj, &err), LIFT_OK);
    assert_non_null(mj);
    assert_int_equal(mj->kind, MKT_UPLIFT);
    assert_string_equal(mj->dataset, "exp");
    assert_string_equal(mj->params_json,
                        "{\"bootstrap\":20,\"customers\":true,\"dataset\":"
                        "\"exp\",\"k\":0.25,\"treatment\":\"arm\"}");
    assert_string_equal(mkt_kind_name(mj->kind), "uplift");
    mkt_job_free(mj);
}

static void parse_request_errors(void **state)
{
    (void)state;
    static const struct {
        enum mkt_kind kind;
        const char *body;
        enum lift_code code;
        const char *text;
    } cases[] = {
        {MKT_SEGMENTS, "{\"dataset\":", LIFT_ERR_PARSE, "line 1, column"},
        {MKT_SEGMENTS, "{\"dataset\":\"a\",\"dataset\":\"b\"}", LIFT_ERR_PARSE,
         "duplicate"},
        {MKT_RFM, "[1]", LIFT_ERR_UNPROCESSABLE, "JSON object"},
        {MKT_RFM, "{\"recency\":\"r\"}", LIFT_ERR_UNPROCESSABLE,
         "'dataset' must be"},
        {MKT_RFM, "{\"dataset\":\"a b\"}", LIFT_ERR_UNPROCESSABLE,
         "not a dataset name"},
        {MKT_SEGMENTS, "{\"dataset\":\"d\",\"drop\":[\"x\"]}",
         LIFT_ERR_UNPROCESSABLE, "'drop' must be a string"},
        {MKT_SEGMENTS, "{\"dataset\":\"d\",\"k\":null}", LIFT_ERR_UNPROCESSABLE,
         "'k' must be"},
        {MKT_SEGMENTS, "{\"dataset\":\"d\",\"k\":1001}", LIFT_ERR_UNPROCESSABLE,
         "'k'"},
        {MKT_UPLIFT, "{\"dataset\":\"d\",\"k\":2}", LIFT_ERR_UNPROCESSABLE,
         "'k'"},
        {MKT_RFM, "{\"dataset\":\"d\",\"as-of\":\"soon\"}",
         LIFT_ERR_UNPROCESSABLE, "as-of"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mkt_job *mj = (struct mkt_job *)&i;
        struct lift_error err;
        enum lift_code rc = mkt_job_parse(cases[i].kind, cases[i].body,
                                          strlen(cases[i].body), &mj, &err);
        if (rc != cases[i].code || !strstr(err.msg, cases[i].text))
            fail_msg("case %zu: code %d, '%s'", i, (int)rc, err.msg);
        assert_null(mj);
        assert_int_equal(err.code, rc);
    }
}

static void check_request_codes(void **state)
{
    (void)state;
    struct lift_table *t = experiment();
    struct mkt_job *mj = NULL;
    struct lift_error err;
    static const char k_big[] = "{\"dataset\":\"d\",\"k\":41}";
    assert_int_equal(
        mkt_job_parse(MKT_SEGMENTS, k_big, sizeof k_big - 1, &mj, &err),
        LIFT_OK);
    /* the library's INVALID is the route's 422 */
    assert_int_equal(mkt_job_check(mj, t, &err), LIFT_ERR_UNPROCESSABLE);
    assert_int_equal(err.code, LIFT_ERR_UNPROCESSABLE);
    mkt_job_free(mj);
    static const char no_col[] = "{\"dataset\":\"d\",\"treatment\":\"nope\","
                                 "\"control\":\"ctrl\",\"target\":\"y\"}";
    assert_int_equal(
        mkt_job_parse(MKT_UPLIFT, no_col, sizeof no_col - 1, &mj, &err),
        LIFT_OK);
    assert_int_equal(mkt_job_check(mj, t, &err), LIFT_ERR_NOT_FOUND);
    mkt_job_free(mj);
    lift_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(segment_check_runs_no_fit),
        cmocka_unit_test(segment_cancel_in_kmeans),
        cmocka_unit_test(segment_cancel_between_k_candidates),
        cmocka_unit_test(uplift_check_and_cancel_in_bootstrap),
        cmocka_unit_test(rfm_check_date_not_a_date),
        cmocka_unit_test(parse_request),
        cmocka_unit_test(parse_request_errors),
        cmocka_unit_test(check_request_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
