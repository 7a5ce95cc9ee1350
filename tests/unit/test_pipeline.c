/*
 * tests/unit/test_pipeline.c - the feature pipeline (features/pipeline.c)
 * fitted on small in-memory tables, with every feature checked exactly:
 * standardisation (population std), the missing flag (only when training
 * had missing values), one-hot indices in first-appearance order, the
 * rare slot of min-count and the max-features cap, unseen levels,
 * missing-value sentinels read again from records, text tf-idf weights
 * and their L2 norm, crosses, hash mode, quantile bins and edges, the
 * binned view for trees (table, record and batch paths agree); binding a
 * table whose columns differ from training; wrong-type values; and the
 * saved pipeline (round trip, every truncation, every flipped byte).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lift/table.h>

#include "core/serial.h"
#include "features/pipeline.h"

/* ---- helpers ------------------------------------------------------------ */

/* cmocka's assert_float_equal takes floats; values here are doubles. */
#define assert_near(a, b, eps) near_impl((a), (b), (eps), __FILE__, __LINE__)

static void near_impl(double a, double b, double eps, const char *file,
                      int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}

static struct lift_table *table_with(const char *csv, const char *const *miss,
                                     size_t n_miss)
{
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.sep = ',';
    o.name = "t.csv";
    o.missing = miss;
    o.n_missing = n_miss;
    struct lift_table *t = NULL;
    struct lift_error err;
    memset(&err, 0, sizeof err);
    enum lift_code rc = lift_table_read_mem(csv, strlen(csv), &o, &t, &err);
    if (rc != LIFT_OK)
        fail_msg("read failed (%s): %s", lift_code_name(rc), err.msg);
    return t;
}

static struct lift_table *table(const char *csv)
{
    return table_with(csv, NULL, 0);
}

/* Text as plain words: unigrams, no stop words, raw tf - the tf-idf
 * arithmetic these tests check by hand (test_text.c covers the rest). */
static const struct lift_text_opts *plain_text(void)
{
    static struct lift_text_opts o;
    lift_text_opts_init(&o);
    o.stop = false;
    o.sublinear = false;
    o.ngrams = 1;
    o.char_min = o.char_max = 0;
    return &o;
}

static struct lift_pipeline_spec spec_default(void)
{
    struct lift_pipeline_spec s;
    memset(&s, 0, sizeof s);
    s.index = LIFT_INDEX_DICT;
    s.text_opts = plain_text();
    s.min_count = 1; /* text terms seen once count too */
    return s;
}

static struct lift_pipeline *fit(const struct lift_table *t,
                                 const struct lift_pipeline_spec *s)
{
    struct lift_pipeline *p = NULL;
    struct lift_error err;
    memset(&err, 0, sizeof err);
    enum lift_code rc = lift_pipeline_fit(t, NULL, 0, s, &p, &err);
    if (rc != LIFT_OK)
        fail_msg("fit failed (%s): %s", lift_code_name(rc), err.msg);
    assert_non_null(p);
    return p;
}

/* The index of the dict-mode feature named `name`, failing if absent. */
static uint32_t feature(const struct lift_pipeline *p, const char *name)
{
    char buf[256];
    for (uint32_t f = 0; f < lift_pipeline_n_features(p); f++) {
        const char *s = lift_pipeline_feature_name(p, f, buf, sizeof buf);
        if (s && strcmp(s, name) == 0)
            return f;
    }
    fail_msg("no feature named '%s'", name);
    return LIFT_FEATURE_NONE;
}

static void expect_names(const struct lift_pipeline *p,
                         const char *const *names, size_t n)
{
    char buf[256];
    assert_int_equal(lift_pipeline_n_features(p), n);
    for (uint32_t f = 0; f < n; f++) {
        const char *s = lift_pipeline_feature_name(p, f, buf, sizeof buf);
        assert_non_null(s);
        assert_string_equal(s, names[f]);
    }
}

/* Maps table row `row` (all columns bound by name). */
static void map_row(const struct lift_pipeline *p, const struct lift_table *t,
                    size_t row, struct lift_row *r)
{
    struct lift_binding *b = NULL;
    struct lift_error err;
    memset(&err, 0, sizeof err);
    size_t absent = 99;
    assert_int_equal(lift_pipeline_bind(p, t, false, &b, &absent, &err),
                     LIFT_OK);
    assert_int_equal(absent, 0);
    enum lift_code rc = lift_pipeline_map_table_row(b, row, r, &err);
    if (rc != LIFT_OK)
        fail_msg("map failed (%s): %s", lift_code_name(rc), err.msg);
    lift_binding_free(b);
}

static void map_fields(const struct lift_pipeline *p,
                       const struct lift_field *f, size_t n, struct lift_row *r,
                       struct lift_record_report *rep)
{
    struct lift_error err;
    memset(&err, 0, sizeof err);
    enum lift_code rc = lift_pipeline_map_record(p, f, n, false, r, rep, &err);
    if (rc != LIFT_OK)
        fail_msg("map_record failed (%s): %s", lift_code_name(rc), err.msg);
}

/* The value of feature f in r, NAN when the row does not hold it. */
static double value_of(const struct lift_row *r, uint32_t f)
{
    for (size_t j = 0; j < r->nnz; j++)
        if (r->idx[j] == f)
            return r->val[j];
    return NAN;
}

static struct lift_field str_field(const char *name, const char *s)
{
    struct lift_field f = {name, LIFT_VALUE_STRING, 0, s, strlen(s)};
    return f;
}

static struct lift_field num_field(const char *name, double v)
{
    struct lift_field f = {name, LIFT_VALUE_NUMBER, v, NULL, 0};
    return f;
}

/* ---- numeric ------------------------------------------------------------ */

static void fit_numeric_complete_standardises_with_population_std(void **st)
{
    (void)st;
    struct lift_table *t = table("x\n1\n2\n3\n4\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"x"};
    expect_names(p, names, 1);
    assert_int_equal(lift_pipeline_n_inputs(p), 1);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    double sd = sqrt(1.25); /* population: sum (x - 2.5)^2 / 4 */
    for (size_t i = 0; i < 4; i++) {
        map_row(p, t, i, &r);
        assert_int_equal(r.nnz, 1);
        assert_int_equal(r.idx[0], 0);
        assert_int_equal(r.src[0], 0);
        assert_near(r.val[0], ((double)(i + 1) - 2.5) / sd, 1e-6);
    }
    /* a record with the value missing: no missing flag exists, nothing */
    struct lift_field f = {"x", LIFT_VALUE_NULL, 0, NULL, 0};
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 0);
    /* a number given as a string parses */
    f = str_field("x", "5.5");
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 1);
    assert_near(r.val[0], 3.0 / sd, 1e-6);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void fit_numeric_with_missing_adds_flag_after_value(void **st)
{
    (void)st;
    struct lift_table *t = table("x\n1\nNA\n3\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"x", "x:missing"};
    expect_names(p, names, 2);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    map_row(p, t, 0, &r); /* mean 2, population std 1 */
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 0);
    assert_near(r.val[0], -1.0, 1e-6);
    map_row(p, t, 1, &r);
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 1);
    assert_near(r.val[0], 1.0, 0);
    map_row(p, t, 2, &r);
    assert_int_equal(r.nnz, 1);
    assert_near(r.val[0], 1.0, 1e-6);
    assert_int_equal(r.idx[0], 0);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void fit_numeric_constant_keeps_scale_one(void **st)
{
    (void)st;
    struct lift_table *t = table("x\n7\n7\n7\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(t, &s);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    struct lift_field f = num_field("x", 9);
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 1);
    assert_near(r.val[0], 2.0, 1e-6);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- categorical -------------------------------------------------------- */

static void fit_categorical_levels_indexed_in_first_appearance_order(void **st)
{
    (void)st;
    struct lift_table *t = table("c\nb\na\nb\nc\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"c=b", "c=a", "c=c"};
    expect_names(p, names, 3);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    static const uint32_t want[] = {0, 1, 0, 2};
    for (size_t i = 0; i < 4; i++) {
        map_row(p, t, i, &r);
        assert_int_equal(r.nnz, 1);
        assert_int_equal(r.idx[0], want[i]);
        assert_near(r.val[0], 1.0, 0);
    }
    /* no rare slot and no missing flag: unseen and missing map to nothing */
    struct lift_field f = str_field("c", "zzz");
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 0);
    f = str_field("c", "");
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 0);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void fit_categorical_min_count_sends_cut_levels_to_rare(void **st)
{
    (void)st;
    /* b 3, a 2, c 1, missing 1 */
    struct lift_table *t = table("c\nb\na\nb\nc\nb\na\nNA\n");
    struct lift_pipeline_spec s = spec_default();
    s.min_count = 2;
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"c=b", "c=a", "c:missing", "c=<rare>"};
    expect_names(p, names, 4);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    map_row(p, t, 3, &r); /* "c": below min-count */
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 3);
    map_row(p, t, 6, &r); /* missing */
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 2);
    struct lift_field f = str_field("c", "never-seen");
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 3);
    f = str_field("c", "a");
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 1);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void fit_categorical_max_features_keeps_most_frequent(void **st)
{
    (void)st;
    /* first appearance d, c, b, a; counts d 1, c 1, b 2, a 3; the cap of
     * 4 reserves 2 fixed slots per group, leaving room for a and b */
    struct lift_table *t = table("c\nd\nc\nb\nb\na\na\na\n");
    struct lift_pipeline_spec s = spec_default();
    s.max_features = 4;
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"c=b", "c=a", "c=<rare>"};
    expect_names(p, names, 3);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    map_row(p, t, 0, &r);
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 2);
    map_row(p, t, 5, &r);
    assert_int_equal(r.idx[0], 1);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- sentinels ---------------------------------------------------------- */

static void map_record_sentinel_spellings_read_as_missing(void **st)
{
    (void)st;
    static const char *const miss[] = {"age=999", "job=unknown"};
    struct lift_table *t =
        table_with("age,job\n30,admin\n999,unknown\n50,tech\n", miss, 2);
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_NUMERIC);
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"age", "age:missing", "job=admin",
                                        "job=tech", "job:missing"};
    expect_names(p, names, 5);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    map_row(p, t, 0, &r); /* mean 40, std 10 over 30 and 50 */
    assert_int_equal(r.nnz, 2);
    assert_near(value_of(&r, 0), -1.0, 1e-6);
    assert_near(value_of(&r, 2), 1.0, 0);
    map_row(p, t, 1, &r);
    assert_int_equal(r.nnz, 2);
    assert_near(value_of(&r, 1), 1.0, 0);
    assert_near(value_of(&r, 4), 1.0, 0);

    struct lift_field f[2] = {num_field("age", 999),
                              str_field("job", "unknown")};
    map_fields(p, f, 2, &r, NULL);
    assert_int_equal(r.nnz, 2);
    assert_int_equal(r.idx[0], 1);
    assert_int_equal(r.idx[1], 4);
    f[0] = str_field("age", "999");
    map_fields(p, f, 2, &r, NULL);
    assert_int_equal(r.nnz, 2);
    assert_int_equal(r.idx[0], 1);
    assert_int_equal(r.idx[1], 4);
    /* the default spellings are missing too */
    f[0] = str_field("age", "NA");
    f[1] = str_field("job", "null");
    map_fields(p, f, 2, &r, NULL);
    assert_int_equal(r.nnz, 2);
    assert_int_equal(r.idx[0], 1);
    assert_int_equal(r.idx[1], 4);
    /* 998 is an ordinary value */
    f[0] = num_field("age", 998);
    f[1] = str_field("job", "tech");
    map_fields(p, f, 2, &r, NULL);
    assert_int_equal(r.nnz, 2);
    assert_near(value_of(&r, 0), 95.8, 1e-5);
    assert_near(value_of(&r, 3), 1.0, 0);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- text --------------------------------------------------------------- */

static void map_text_weights_tfidf_with_unit_norm(void **st)
{
    (void)st;
    struct lift_table *t = table("t\nRed apple\nred car\nblue car\n");
    struct lift_pipeline_spec s = spec_default();
    static const char *const text[] = {"t"};
    s.text = text;
    s.n_text = 1;
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"t:red", "t:apple", "t:car", "t:blue"};
    expect_names(p, names, 4);
    /* idf = ln((1 + N) / (1 + df)) + 1 with N = 3 */
    double idf_red = log(4.0 / 3.0) + 1, idf_apple = log(4.0 / 2.0) + 1;
    double idf_car = idf_red;
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    map_row(p, t, 0, &r);
    assert_int_equal(r.nnz, 2);
    double n0 = sqrt(idf_red * idf_red + idf_apple * idf_apple);
    assert_near(value_of(&r, 0), idf_red / n0, 1e-6);
    assert_near(value_of(&r, 1), idf_apple / n0, 1e-6);

    /* term counts: "car car red zebra" has tf car 2, red 1; zebra unseen */
    struct lift_field f = str_field("t", "car, CAR; red zebra");
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 2);
    double wc = 2 * idf_car, wr = idf_red, n1 = sqrt(wc * wc + wr * wr);
    assert_near(value_of(&r, 2), wc / n1, 1e-6);
    assert_near(value_of(&r, 0), wr / n1, 1e-6);
    double norm = 0;
    for (size_t j = 0; j < r.nnz; j++) {
        norm += (double)r.val[j] * r.val[j];
        assert_int_equal(r.src[j], 0);
        if (j)
            assert_true(r.idx[j] > r.idx[j - 1]);
    }
    assert_near(norm, 1.0, 1e-6);
    /* only unseen tokens: nothing */
    f = str_field("t", "zebra!");
    map_fields(p, &f, 1, &r, NULL);
    assert_int_equal(r.nnz, 0);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- crosses ------------------------------------------------------------ */

static void map_cross_one_hot_of_level_pairs(void **st)
{
    (void)st;
    struct lift_table *t = table("a,b\nx,u\ny,u\nx,v\nx,u\n");
    struct lift_pipeline_spec s = spec_default();
    static const char *const cross[] = {"a,b"};
    s.cross = cross;
    s.n_cross = 1;
    struct lift_pipeline *p = fit(t, &s);
    assert_int_equal(lift_pipeline_n_groups(p), 3);
    assert_string_equal(lift_pipeline_group_name(p, 2), "a&b");
    /* a=x a=y b=u b=v, then the pairs x&u y&u x&v */
    assert_int_equal(lift_pipeline_n_features(p), 7);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    map_row(p, t, 2, &r);
    assert_int_equal(r.nnz, 3);
    assert_int_equal(r.idx[0], 0);
    assert_int_equal(r.idx[1], 3);
    assert_int_equal(r.idx[2], 6);
    assert_int_equal(r.src[2], 2);
    /* a pair never seen: no cross rare slot exists, so nothing */
    struct lift_field f[2] = {str_field("a", "y"), str_field("b", "v")};
    map_fields(p, f, 2, &r, NULL);
    assert_int_equal(r.nnz, 2);
    assert_int_equal(r.idx[0], 1);
    assert_int_equal(r.idx[1], 3);
    /* the record path gives the same cross as the table path */
    f[0] = str_field("a", "y");
    f[1] = str_field("b", "u");
    map_fields(p, f, 2, &r, NULL);
    assert_int_equal(r.nnz, 3);
    assert_int_equal(r.idx[2], 5);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* The header documents cross feature names as "a&b=x&y". */
static void feature_name_cross_joins_levels_with_ampersand(void **st)
{
    (void)st;
    struct lift_table *t = table("a,b\nx,u\ny,u\nx,v\nx,u\n");
    struct lift_pipeline_spec s = spec_default();
    static const char *const cross[] = {"a,b"};
    s.cross = cross;
    s.n_cross = 1;
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"a=x",     "a=y",     "b=u",    "b=v",
                                        "a&b=x&u", "a&b=y&u", "a&b=x&v"};
    expect_names(p, names, 7);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- hash mode ---------------------------------------------------------- */

static void map_hash_mode_indices_below_bits_and_stable(void **st)
{
    (void)st;
    struct lift_table *t =
        table("n,c,t\n1,a,hello world\n2,b,hello there\n,a,\n");
    struct lift_pipeline_spec s = spec_default();
    static const char *const text[] = {"t"};
    s.text = text;
    s.n_text = 1;
    s.index = LIFT_INDEX_HASH;
    s.bits = 16;
    struct lift_pipeline *p = fit(t, &s);
    assert_int_equal(lift_pipeline_mode(p), LIFT_INDEX_HASH);
    assert_int_equal(lift_pipeline_n_features(p), 1u << 16);
    char buf[64];
    assert_null(lift_pipeline_feature_name(p, 0, buf, sizeof buf));
    struct lift_row r1, r2;
    assert_int_equal(lift_row_init(&r1, p, NULL), LIFT_OK);
    assert_int_equal(lift_row_init(&r2, p, NULL), LIFT_OK);
    for (size_t i = 0; i < 3; i++) {
        map_row(p, t, i, &r1);
        assert_true(r1.nnz > 0);
        for (size_t j = 0; j < r1.nnz; j++)
            assert_true(r1.idx[j] < (1u << 16));
    }
    /* rows 0 and 2 share c = a: the same slot */
    map_row(p, t, 0, &r1);
    map_row(p, t, 2, &r2);
    uint32_t c0 = LIFT_FEATURE_NONE, c2 = LIFT_FEATURE_NONE;
    for (size_t j = 0; j < r1.nnz; j++)
        if (r1.src[j] == 1)
            c0 = r1.idx[j];
    for (size_t j = 0; j < r2.nnz; j++)
        if (r2.src[j] == 1)
            c2 = r2.idx[j];
    assert_int_not_equal(c0, LIFT_FEATURE_NONE);
    assert_int_equal(c0, c2);
    /* a level never seen still hashes (no vocabulary), stably */
    struct lift_field f = str_field("c", "zz-new");
    map_fields(p, &f, 1, &r1, NULL);
    map_fields(p, &f, 1, &r2, NULL);
    uint32_t z1 = LIFT_FEATURE_NONE, z2 = LIFT_FEATURE_NONE;
    for (size_t j = 0; j < r1.nnz; j++)
        if (r1.src[j] == 1)
            z1 = r1.idx[j];
    for (size_t j = 0; j < r2.nnz; j++)
        if (r2.src[j] == 1)
            z2 = r2.idx[j];
    assert_true(z1 < (1u << 16));
    assert_int_equal(z1, z2);
    /* the text "hello hello" is one slot with weight 1 (tf, normalised) */
    f = str_field("t", "hello hello");
    struct lift_field g[2] = {f, num_field("n", 1)};
    map_fields(p, g, 2, &r1, NULL);
    size_t n_text = 0;
    for (size_t j = 0; j < r1.nnz; j++)
        if (r1.src[j] == 2) {
            n_text++;
            assert_near(r1.val[j], 1.0, 1e-6);
        }
    assert_int_equal(n_text, 1);
    lift_row_release(&r1);
    lift_row_release(&r2);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- quantile bins ------------------------------------------------------ */

static void fit_bins_edges_at_quantiles(void **st)
{
    (void)st;
    /* 8 distinct values, 4 bins: edges v[2], v[4], v[6] = 3, 5, 7 and bin
     * b holds edges[b-1] < x <= edges[b] */
    struct lift_table *t = table("x\n8\n1\n2\n3\n4\n5\n6\n7\n");
    struct lift_pipeline_spec s = spec_default();
    s.bins = 4;
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"x:bin0", "x:bin1", "x:bin2", "x:bin3"};
    expect_names(p, names, 4);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    static const double xs[] = {-5, 1, 3, 3.5, 5, 5.01, 7, 7.5, 100};
    static const uint32_t bin[] = {0, 0, 0, 1, 1, 2, 2, 3, 3};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        struct lift_field f = num_field("x", xs[i]);
        map_fields(p, &f, 1, &r, NULL);
        assert_int_equal(r.nnz, 1);
        assert_int_equal(r.idx[0], bin[i]);
        assert_near(r.val[0], 1.0, 0);
    }
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void fit_bins_few_distinct_values_one_bin_each(void **st)
{
    (void)st;
    /* distinct 1, 2, 5 (<= bins): edges 1, 2, so three bins */
    struct lift_table *t = table("x\n1\n1\n2\n5\n");
    struct lift_pipeline_spec s = spec_default();
    s.bins = 4;
    struct lift_pipeline *p = fit(t, &s);
    static const char *const names[] = {"x:bin0", "x:bin1", "x:bin2"};
    expect_names(p, names, 3);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    for (size_t i = 0; i < 4; i++) {
        map_row(p, t, i, &r);
        assert_int_equal(r.nnz, 1);
        assert_int_equal(r.idx[0], i < 2 ? 0 : i == 2 ? 1 : 2);
    }
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void fit_bad_bins_or_bits_invalid(void **st)
{
    (void)st;
    struct lift_table *t = table("x\n1\n2\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = NULL;
    struct lift_error err;
    s.bins = 1;
    assert_int_equal(lift_pipeline_fit(t, NULL, 0, &s, &p, &err),
                     LIFT_ERR_INVALID);
    assert_null(p);
    assert_non_null(strstr(err.msg, "bins"));
    s.bins = 0;
    s.index = LIFT_INDEX_HASH;
    s.bits = 15;
    assert_int_equal(lift_pipeline_fit(t, NULL, 0, &s, &p, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "bits"));
    s.index = LIFT_INDEX_DICT;
    static const char *const drop[] = {"nope"};
    s.drop = drop;
    s.n_drop = 1;
    assert_int_equal(lift_pipeline_fit(t, NULL, 0, &s, &p, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    static const char *const drop_x[] = {"x"};
    s.drop = drop_x;
    assert_int_equal(lift_pipeline_fit(t, NULL, 0, &s, &p, &err),
                     LIFT_ERR_INVALID);
    assert_null(p);
    lift_table_free(t);
}

static void fit_rows_subset_uses_only_those_rows(void **st)
{
    (void)st;
    struct lift_table *t = table("x,c\n1,a\n3,b\n100,z\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = NULL;
    static const uint32_t rows[] = {0, 1};
    assert_int_equal(lift_pipeline_fit(t, rows, 2, &s, &p, NULL), LIFT_OK);
    static const char *const names[] = {"x", "c=a", "c=b"};
    expect_names(p, names, 3);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    map_row(p, t, 2, &r); /* mean 2, std 1; z unseen, no rare slot */
    assert_int_equal(r.nnz, 1);
    assert_near(r.val[0], 98.0, 1e-5);
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- the binned view (trees) ------------------------------------------- */

static void bin_upper_default_edges_at_quantile_ranks(void **st)
{
    (void)st;
    /* 1..1000 with the default 255 bins: edges v[q * n / 255], q = 1..254 */
    char *csv = malloc(8 * 1000 + 8);
    assert_non_null(csv);
    size_t len = (size_t)sprintf(csv, "x\n");
    for (int i = 1; i <= 1000; i++)
        len += (size_t)sprintf(csv + len, "%d\n", i);
    struct lift_table *t = table(csv);
    free(csv);
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(t, &s);
    assert_int_equal(lift_pipeline_n_bin_cols(p), 1);
    unsigned n_bins = 0;
    bool categorical = true;
    lift_pipeline_bin_col(p, 0, &n_bins, &categorical);
    assert_false(categorical);
    assert_int_equal(n_bins, 255);
    for (unsigned k = 0; k < 254; k++)
        assert_near(lift_pipeline_bin_upper(p, 0, k),
                    (double)((k + 1) * 1000 / 255 + 1), 0);
    assert_true(isinf(lift_pipeline_bin_upper(p, 0, 254)));
    /* the standardised feature is unaffected by the edges */
    static const char *const names[] = {"x"};
    expect_names(p, names, 1);
    lift_pipeline_free(p);
    lift_table_free(t);

    /* few distinct values: every one but the largest is an edge */
    t = table("x\n1\n1\n2\n5\n");
    p = fit(t, &s);
    lift_pipeline_bin_col(p, 0, &n_bins, &categorical);
    assert_int_equal(n_bins, 3);
    assert_near(lift_pipeline_bin_upper(p, 0, 0), 1.0, 0);
    assert_near(lift_pipeline_bin_upper(p, 0, 1), 2.0, 0);
    assert_true(isinf(lift_pipeline_bin_upper(p, 0, 2)));
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void bin_table_row_matches_record_and_transform(void **st)
{
    (void)st;
    /* x: edges 1, 2, 2.5, 3; c: a kept (3 rows), b and c cut by min-count 2 */
    static const char csv[] = "x,c\n1,a\n2,b\n3,a\nNA,c\n4,a\n2.5,NA\n";
    struct lift_table *t = table(csv);
    struct lift_pipeline_spec s = spec_default();
    s.min_count = 2;
    struct lift_pipeline *p = fit(t, &s);
    unsigned n_bins;
    bool categorical;
    lift_pipeline_bin_col(p, 1, &n_bins, &categorical);
    assert_true(categorical);
    assert_int_equal(n_bins, 1);
    assert_string_equal(lift_pipeline_bin_level(p, 1, 0), "a");
    assert_null(lift_pipeline_bin_level(p, 1, 1));
    assert_null(lift_pipeline_bin_level(p, 0, 0));
    static const uint8_t want[6][2] = {
        {0, 0}, {1, LIFT_BIN_RARE},
        {3, 0}, {LIFT_BIN_MISSING, LIFT_BIN_RARE},
        {4, 0}, {2, LIFT_BIN_MISSING},
    };
    static const char *const xs[] = {"1", "2", "3", "NA", "4", "2.5"};
    static const char *const cs[] = {"a", "b", "a", "c", "a", "NA"};
    struct lift_binding *b = NULL;
    assert_int_equal(lift_pipeline_bind(p, t, true, &b, NULL, NULL), LIFT_OK);
    uint8_t all[2 * 6];
    assert_int_equal(lift_pipeline_bin_transform(b, NULL, 6, all, NULL),
                     LIFT_OK);
    for (size_t r = 0; r < 6; r++) {
        uint8_t codes[2], rec[2];
        assert_int_equal(lift_pipeline_bin_table_row(b, r, codes, NULL),
                         LIFT_OK);
        struct lift_field f[2] = {str_field("x", xs[r]), str_field("c", cs[r])};
        assert_int_equal(
            lift_pipeline_bin_record(p, f, 2, true, rec, NULL, NULL), LIFT_OK);
        for (size_t c = 0; c < 2; c++) {
            if (codes[c] != want[r][c] || rec[c] != want[r][c] ||
                all[c * 6 + r] != want[r][c])
                fail_msg("row %zu col %zu: table %u, record %u, transform "
                         "%u, want %u",
                         r, c, codes[c], rec[c], all[c * 6 + r], want[r][c]);
        }
    }
    /* an unseen level is rare; an absent field is missing */
    struct lift_field f = str_field("c", "zzz");
    uint8_t rec[2];
    assert_int_equal(lift_pipeline_bin_record(p, &f, 1, false, rec, NULL, NULL),
                     LIFT_OK);
    assert_int_equal(rec[0], LIFT_BIN_MISSING);
    assert_int_equal(rec[1], LIFT_BIN_RARE);
    lift_binding_free(b);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- text terms for trees ---------------------------------------------- */

static void *save_bytes(const struct lift_pipeline *p, size_t *len);

/* Rows of text_terms_csv: t holds the text, y a number. */
static const char text_terms_csv[] = "y,t\n"
                                     "1,red fox\n"
                                     "2,blue fox\n"
                                     "3,red red wine\n"
                                     "4,fox and wine\n"
                                     "5,\n";
static const char *const text_terms_rows[] = {
    "red fox", "blue fox", "red red wine", "fox and wine", NULL};

/* The tf-idf weight of `term` in `text` computed directly: raw tf times
 * ln((1 + N) / (1 + df)) + 1 over the whole-word vocabulary of the rows,
 * L2-normalised over the text's terms. */
static double direct_tfidf(const char *text, const char *term)
{
    if (!text)
        return 0.0;
    const char *words[8];
    size_t n = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *w = strtok(buf, " "); w && n < 8; w = strtok(NULL, " "))
        words[n++] = w;
    double norm = 0.0, mine = 0.0;
    for (size_t i = 0; i < n; i++) {
        bool first = true;
        size_t tf = 0;
        for (size_t j = 0; j < n; j++) {
            if (strcmp(words[i], words[j]) == 0) {
                first = first && j >= i;
                tf++;
            }
        }
        if (!first)
            continue;
        size_t df = 0;
        for (size_t r = 0; r < 5; r++) {
            if (!text_terms_rows[r])
                continue;
            char row[64];
            snprintf(row, sizeof row, "%s", text_terms_rows[r]);
            bool has = false;
            for (char *w = strtok(row, " "); w; w = strtok(NULL, " "))
                has = has || strcmp(w, words[i]) == 0;
            df += has;
        }
        /* strtok's state was used by the inner loop: words[] are copies
         * of pointers into buf, still valid */
        double wt = (double)tf * (log(6.0 / (1.0 + (double)df)) + 1.0);
        norm += wt * wt;
        if (strcmp(words[i], term) == 0)
            mine = wt;
    }
    return norm > 0 ? mine / sqrt(norm) : 0.0;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct lift_pipeline_spec text_terms_spec(unsigned n)
{
    struct lift_pipeline_spec s = spec_default();
    static const char *const text[] = {"t"};
    s.text = text;
    s.n_text = 1;
    s.text_terms = n;
    return s;
}

static void text_terms_are_top_df_terms_ties_by_bytes(void **st)
{
    (void)st;
    struct lift_table *t = table(text_terms_csv);
    /* df: fox 3, red 2, wine 2, blue 1, and 1 */
    struct lift_pipeline_spec s = text_terms_spec(4);
    struct lift_pipeline *p = fit(t, &s);
    assert_int_equal(lift_pipeline_n_bin_cols(p), 2 + 4);
    static const char *const want[] = {"fox", "red", "wine", "and"};
    for (size_t k = 0; k < 4; k++) {
        assert_string_equal(lift_pipeline_bin_term(p, 2 + k), want[k]);
        assert_int_equal(lift_pipeline_bin_col_group(p, 2 + k), 1);
    }
    assert_null(lift_pipeline_bin_term(p, 1));
    assert_int_equal(lift_pipeline_bin_col_group(p, 0), 0);
    assert_int_equal(lift_pipeline_bin_col_group(p, 1), 1);
    lift_pipeline_free(p);
    /* more terms asked than the vocabulary has: every term */
    s = text_terms_spec(100);
    p = fit(t, &s);
    assert_int_equal(lift_pipeline_n_bin_cols(p), 2 + 5);
    assert_string_equal(lift_pipeline_bin_term(p, 6), "blue");
    lift_pipeline_free(p);
    /* none asked: no term columns; too many: refused naming the limit */
    s = text_terms_spec(0);
    p = fit(t, &s);
    assert_int_equal(lift_pipeline_n_bin_cols(p), 2);
    lift_pipeline_free(p);
    s = text_terms_spec(LIFT_PIPELINE_MAX_TEXT_TERMS + 1);
    struct lift_error err;
    assert_int_equal(lift_pipeline_fit(t, NULL, 0, &s, &p, &err),
                     LIFT_ERR_INVALID);
    assert_null(p);
    assert_non_null(strstr(err.msg, "between 1 and 4096"));
    /* hash mode has no vocabulary to rank */
    s = text_terms_spec(3);
    s.index = LIFT_INDEX_HASH;
    s.bits = 16;
    assert_int_equal(lift_pipeline_fit(t, NULL, 0, &s, &p, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "'t'"));
    lift_table_free(t);
}

static void text_terms_columns_equal_direct_tfidf(void **st)
{
    (void)st;
    struct lift_table *t = table(text_terms_csv);
    struct lift_pipeline_spec s = text_terms_spec(3);
    struct lift_pipeline *p = fit(t, &s);
    enum { NC = 5, NR = 5 };
    assert_int_equal(lift_pipeline_n_bin_cols(p), NC);
    struct lift_binding *b = NULL;
    assert_int_equal(lift_pipeline_bind(p, t, true, &b, NULL, NULL), LIFT_OK);
    uint8_t all[NC * NR];
    assert_int_equal(lift_pipeline_bin_transform(b, NULL, NR, all, NULL),
                     LIFT_OK);
    for (size_t k = 0; k < 3; k++) {
        size_t col = 2 + k;
        const char *term = lift_pipeline_bin_term(p, col);
        /* the edges: every distinct non-zero weight but the largest */
        double w[NR], nz[NR];
        size_t n_nz = 0;
        for (size_t r = 0; r < NR; r++) {
            w[r] = direct_tfidf(text_terms_rows[r], term);
            if (w[r] > 0)
                nz[n_nz++] = w[r];
        }
        qsort(nz, n_nz, sizeof *nz, cmp_dbl);
        unsigned n_bins;
        bool cat;
        lift_pipeline_bin_col(p, col, &n_bins, &cat);
        assert_false(cat);
        assert_near(lift_pipeline_bin_upper(p, col, 0), 0.0, 0);
        size_t distinct = 0;
        for (size_t i = 0; i < n_nz; i++) {
            if (i && fabs(nz[i] - nz[i - 1]) < 1e-6)
                continue;
            distinct++;
            if (i + 1 < n_nz)
                assert_near(lift_pipeline_bin_upper(p, col, (unsigned)distinct),
                            nz[i], 1e-6);
        }
        assert_int_equal(n_bins, distinct + 1);
        assert_true(isinf(lift_pipeline_bin_upper(p, col, n_bins - 1)));
        /* each row's code is the bin of its weight: code c holds
         * upper(c - 1) < w <= upper(c), code 0 the absent term */
        for (size_t r = 0; r < NR; r++) {
            uint8_t c = all[col * NR + r];
            if (w[r] == 0) {
                if (c != 0)
                    fail_msg("term '%s' row %zu: code %u, want 0", term, r, c);
                continue;
            }
            assert_true(c >= 1 && c < n_bins);
            assert_true(lift_pipeline_bin_upper(p, col, c - 1u) < w[r] - 1e-6);
            assert_true(lift_pipeline_bin_upper(p, col, c) >= w[r] - 1e-6);
        }
    }
    /* the text column itself stays missing; table row, record and batch
     * paths agree */
    for (size_t r = 0; r < NR; r++) {
        uint8_t codes[NC], rec[NC];
        assert_int_equal(lift_pipeline_bin_table_row(b, r, codes, NULL),
                         LIFT_OK);
        struct lift_field f[2] = {num_field("y", (double)r + 1),
                                  text_terms_rows[r]
                                      ? str_field("t", text_terms_rows[r])
                                      : str_field("t", "")};
        assert_int_equal(
            lift_pipeline_bin_record(p, f, 2, true, rec, NULL, NULL), LIFT_OK);
        assert_int_equal(codes[1], LIFT_BIN_MISSING);
        for (size_t c = 0; c < NC; c++)
            if (codes[c] != all[c * NR + r] || rec[c] != all[c * NR + r])
                fail_msg("row %zu col %zu: table %u, record %u, transform %u",
                         r, c, codes[c], rec[c], all[c * NR + r]);
    }
    /* unseen words weigh nothing; a known term among them keeps its
     * share of the row's norm */
    uint8_t rec[NC];
    struct lift_field f = str_field("t", "zebra quokka");
    assert_int_equal(lift_pipeline_bin_record(p, &f, 1, false, rec, NULL, NULL),
                     LIFT_OK);
    assert_int_equal(rec[2], 0);
    assert_int_equal(rec[3], 0);
    assert_int_equal(rec[4], 0);
    f = str_field("t", "zebra fox");
    assert_int_equal(lift_pipeline_bin_record(p, &f, 1, false, rec, NULL, NULL),
                     LIFT_OK);
    assert_string_equal(lift_pipeline_bin_term(p, 2), "fox");
    /* "fox" alone weighs 1, above every training weight: the last bin */
    unsigned n_bins;
    bool cat;
    lift_pipeline_bin_col(p, 2, &n_bins, &cat);
    assert_int_equal(rec[2], n_bins - 1);
    lift_binding_free(b);
    lift_pipeline_free(p);
    lift_table_free(t);
}

static void text_terms_memo_and_round_trip_identical(void **st)
{
    (void)st;
    struct lift_table *t = table(text_terms_csv);
    struct lift_pipeline_spec s = text_terms_spec(3);
    struct lift_pipeline *p = NULL, *q = NULL;
    struct lift_pipeline_memo *memo = NULL;
    struct lift_error err;
    assert_int_equal(lift_pipeline_fit_memo(t, NULL, 0, &s, &p, &memo, &err),
                     LIFT_OK);
    size_t len;
    void *data = save_bytes(p, &len);
    struct lift_reader r;
    lift_reader_init(&r, data, len);
    enum lift_code rc = lift_pipeline_load(&r, &q, &err);
    if (rc)
        fail_msg("load failed (%s): %s", lift_code_name(rc), err.msg);
    assert_int_equal(lift_reader_left(&r), 0);
    assert_int_equal(lift_pipeline_n_bin_cols(q), 5);
    for (size_t c = 2; c < 5; c++) {
        assert_string_equal(lift_pipeline_bin_term(q, c),
                            lift_pipeline_bin_term(p, c));
        unsigned na, nb;
        bool ca, cb;
        lift_pipeline_bin_col(p, c, &na, &ca);
        lift_pipeline_bin_col(q, c, &nb, &cb);
        assert_int_equal(na, nb);
        for (unsigned k = 0; k + 1 < na; k++)
            assert_true(lift_pipeline_bin_upper(p, c, k) ==
                        lift_pipeline_bin_upper(q, c, k));
    }
    size_t len2;
    void *data2 = save_bytes(q, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(data2, data, len);
    /* codes: from the memo, analysed again, and through the loaded copy */
    struct lift_binding *bp = NULL, *bq = NULL;
    assert_int_equal(lift_pipeline_bind(p, t, true, &bp, NULL, NULL), LIFT_OK);
    assert_int_equal(lift_pipeline_bind(q, t, true, &bq, NULL, NULL), LIFT_OK);
    uint8_t a[25], b[25], c[25];
    assert_int_equal(
        lift_pipeline_bin_transform_memo(bp, memo, NULL, 5, a, NULL), LIFT_OK);
    assert_int_equal(lift_pipeline_bin_transform(bp, NULL, 5, b, NULL),
                     LIFT_OK);
    assert_int_equal(lift_pipeline_bin_transform(bq, NULL, 5, c, NULL),
                     LIFT_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(a, c, sizeof a);
    lift_binding_free(bp);
    lift_binding_free(bq);
    free(data2);
    free(data);
    lift_pipeline_memo_free(memo);
    lift_pipeline_free(q);
    lift_pipeline_free(p);
    lift_table_free(t);
}

/* ---- binding ------------------------------------------------------------ */

static void bind_reordered_table_missing_column_reads_missing(void **st)
{
    (void)st;
    struct lift_table *train = table("a,b,c\n1,x,p\n,y,q\n3,x,\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(train, &s);
    static const char *const names[] = {"a",   "a:missing", "b=x",      "b=y",
                                        "c=p", "c=q",       "c:missing"};
    expect_names(p, names, 7);
    /* columns in another order, b absent, an extra column */
    struct lift_table *t = table("extra,c,a\n9,q,3\n9,p,\n");
    struct lift_binding *b = NULL;
    struct lift_error err;
    size_t absent = 0;
    assert_int_equal(lift_pipeline_bind(p, t, false, &b, &absent, &err),
                     LIFT_OK);
    assert_int_equal(absent, 1);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    assert_int_equal(lift_pipeline_map_table_row(b, 0, &r, &err), LIFT_OK);
    /* a = 3: (3 - 2) / 1; b absent, no b missing flag; c = q */
    assert_int_equal(r.nnz, 2);
    assert_int_equal(r.idx[0], 0);
    assert_near(r.val[0], 1.0, 1e-6);
    assert_int_equal(r.idx[1], 5);
    assert_int_equal(lift_pipeline_map_table_row(b, 1, &r, &err), LIFT_OK);
    assert_int_equal(r.nnz, 2);
    assert_int_equal(r.idx[0], 1);
    assert_int_equal(r.idx[1], 4);
    /* transform gives the same rows as a CSR matrix */
    struct lift_csr x;
    assert_int_equal(lift_pipeline_transform(b, NULL, 2, &x, &err), LIFT_OK);
    assert_int_equal(x.n_rows, 2);
    assert_int_equal(x.n_cols, 7);
    assert_int_equal(x.indptr[2], 4);
    assert_int_equal(x.idx[0], 0);
    assert_int_equal(x.idx[1], 5);
    assert_int_equal(x.idx[2], 1);
    assert_int_equal(x.idx[3], 4);
    lift_csr_release(&x);
    lift_binding_free(b);

    b = NULL;
    assert_int_equal(lift_pipeline_bind(p, t, true, &b, &absent, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_null(b);
    assert_non_null(strstr(err.msg, "'b'"));
    lift_row_release(&r);
    lift_table_free(t);
    lift_pipeline_free(p);
    lift_table_free(train);
}

static void map_table_row_text_in_numeric_column_unprocessable(void **st)
{
    (void)st;
    struct lift_table *train = table("x,c\n1,a\n2,b\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(train, &s);
    struct lift_table *t = table("x,c\n1,a\n2,b\nabc,a\n");
    assert_int_equal(lift_table_col_type(t, 0), LIFT_COL_CATEGORICAL);
    struct lift_binding *b = NULL;
    struct lift_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(lift_pipeline_bind(p, t, true, &b, NULL, &err), LIFT_OK);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    assert_int_equal(lift_pipeline_map_table_row(b, 1, &r, &err), LIFT_OK);
    assert_int_equal(r.nnz, 2);
    assert_near(r.val[0], 1.0, 1e-6);
    assert_int_equal(lift_pipeline_map_table_row(b, 2, &r, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "line 4"));
    assert_non_null(strstr(err.msg, "'x'"));
    assert_non_null(strstr(err.msg, "'abc'"));
    struct lift_csr x;
    assert_int_equal(lift_pipeline_transform(b, NULL, 3, &x, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_null(x.indptr);
    /* the same through a record names the field */
    struct lift_field f = str_field("x", "abc");
    assert_int_equal(lift_pipeline_map_record(p, &f, 1, false, &r, NULL, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'x'"));
    lift_row_release(&r);
    lift_binding_free(b);
    lift_table_free(t);
    lift_pipeline_free(p);
    lift_table_free(train);
}

static void map_record_report_and_strict(void **st)
{
    (void)st;
    struct lift_table *train = table("x,c\n1,a\n2,b\n");
    struct lift_pipeline_spec s = spec_default();
    struct lift_pipeline *p = fit(train, &s);
    struct lift_row r;
    assert_int_equal(lift_row_init(&r, p, NULL), LIFT_OK);
    struct lift_field f[2] = {str_field("c", "b"), num_field("zzz", 1)};
    struct lift_record_report rep;
    map_fields(p, f, 2, &r, &rep);
    assert_int_equal(rep.n_absent, 1);
    assert_string_equal(rep.absent[0], "x");
    assert_int_equal(rep.n_unknown, 1);
    assert_string_equal(rep.unknown[0], "zzz");
    assert_int_equal(r.nnz, 1);
    assert_int_equal(r.idx[0], 2);
    struct lift_error err;
    assert_int_equal(lift_pipeline_map_record(p, f, 2, true, &r, &rep, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'zzz'"));
    assert_int_equal(lift_pipeline_map_record(p, f, 1, true, &r, &rep, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'x'"));
    struct lift_field twice[2] = {num_field("x", 1), num_field("x", 2)};
    assert_int_equal(
        lift_pipeline_map_record(p, twice, 2, false, &r, &rep, &err),
        LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "twice"));
    lift_row_release(&r);
    lift_pipeline_free(p);
    lift_table_free(train);
}

/* ---- save and load ------------------------------------------------------ */

static const char rich_csv[] = "n,c,d,t\n"
                               "1.5,a,u,the red fox\n"
                               ",b,u,a blue fox\n"
                               "4,a,v,red red wine\n"
                               "999,c,,\n"
                               "2,unknown,v,fox and wine\n";

static struct lift_pipeline *fit_rich(const struct lift_table *t,
                                      enum lift_index_mode mode)
{
    struct lift_pipeline_spec s = spec_default();
    static const char *const text[] = {"t"};
    static const char *const cross[] = {"c,d"};
    s.text = text;
    s.n_text = 1;
    s.cross = cross;
    s.n_cross = 1;
    s.min_count = 1;
    s.index = mode;
    s.bits = 18;
    s.text_terms = mode == LIFT_INDEX_DICT ? 3 : 0; /* term columns saved */
    return fit(t, &s);
}

static void *save_bytes(const struct lift_pipeline *p, size_t *len)
{
    struct lift_writer w;
    lift_writer_init(&w);
    assert_int_equal(lift_pipeline_save(p, &w, NULL), LIFT_OK);
    void *data = lift_buf_detach(&w.buf, len);
    lift_writer_release(&w);
    return data;
}

static void assert_same_rows(const struct lift_pipeline *a,
                             const struct lift_pipeline *b,
                             const struct lift_table *t)
{
    struct lift_row ra, rb;
    assert_int_equal(lift_row_init(&ra, a, NULL), LIFT_OK);
    assert_int_equal(lift_row_init(&rb, b, NULL), LIFT_OK);
    for (size_t i = 0; i < lift_table_n_rows(t); i++) {
        map_row(a, t, i, &ra);
        map_row(b, t, i, &rb);
        assert_int_equal(ra.nnz, rb.nnz);
        assert_true(ra.nnz > 0);
        assert_memory_equal(ra.idx, rb.idx, ra.nnz * sizeof *ra.idx);
        assert_memory_equal(ra.val, rb.val, ra.nnz * sizeof *ra.val);
        assert_memory_equal(ra.src, rb.src, ra.nnz * sizeof *ra.src);
    }
    lift_row_release(&ra);
    lift_row_release(&rb);
}

static void save_load_round_trip_identical_rows(void **st)
{
    (void)st;
    static const char *const miss[] = {"n=999", "c=unknown"};
    struct lift_table *t = table_with(rich_csv, miss, 2);
    for (int mode = 0; mode < 2; mode++) {
        struct lift_pipeline *p = fit_rich(t, (enum lift_index_mode)mode);
        size_t len;
        void *data = save_bytes(p, &len);
        struct lift_reader r;
        lift_reader_init(&r, data, len);
        struct lift_pipeline *q = NULL;
        struct lift_error err;
        memset(&err, 0, sizeof err);
        enum lift_code rc = lift_pipeline_load(&r, &q, &err);
        if (rc)
            fail_msg("load failed (%s): %s", lift_code_name(rc), err.msg);
        assert_int_equal(lift_reader_left(&r), 0);
        assert_int_equal(lift_pipeline_n_features(q),
                         lift_pipeline_n_features(p));
        assert_int_equal(lift_pipeline_n_groups(q), 5);
        assert_string_equal(lift_pipeline_group_name(q, 4), "c&d");
        char b1[128], b2[128];
        for (uint32_t f = 0; mode == 0 && f < lift_pipeline_n_features(p); f++)
            assert_string_equal(
                lift_pipeline_feature_name(p, f, b1, sizeof b1),
                lift_pipeline_feature_name(q, f, b2, sizeof b2));
        assert_same_rows(p, q, t);
        /* the sentinels travel with the pipeline */
        struct lift_row row;
        assert_int_equal(lift_row_init(&row, q, NULL), LIFT_OK);
        struct lift_field fl[2] = {num_field("n", 999),
                                   str_field("c", "unknown")};
        map_fields(q, fl, 2, &row, NULL);
        if (mode == 0) {
            /* d is absent from the record: missing as well */
            assert_int_equal(row.nnz, 3);
            assert_int_equal(row.idx[0], feature(q, "n:missing"));
            assert_int_equal(row.idx[1], feature(q, "c:missing"));
            assert_int_equal(row.idx[2], feature(q, "d:missing"));
        }
        /* saving the loaded pipeline gives the same bytes */
        size_t len2;
        void *data2 = save_bytes(q, &len2);
        assert_int_equal(len2, len);
        assert_memory_equal(data2, data, len);
        free(data2);
        lift_row_release(&row);
        lift_pipeline_free(q);
        lift_pipeline_free(p);
        free(data);
    }
    lift_table_free(t);
}

static void load_every_truncation_corrupt(void **st)
{
    (void)st;
    struct lift_table *t = table_with(rich_csv, NULL, 0);
    for (int mode = 0; mode < 2; mode++) {
        struct lift_pipeline *p = fit_rich(t, (enum lift_index_mode)mode);
        size_t len;
        unsigned char *data = save_bytes(p, &len);
        for (size_t n = 0; n < len; n++) {
            /* a copy of exactly n bytes, so ASan sees any overread */
            unsigned char *cut = malloc(n ? n : 1);
            assert_non_null(cut);
            memcpy(cut, data, n);
            struct lift_reader r;
            lift_reader_init(&r, cut, n);
            struct lift_pipeline *q = (struct lift_pipeline *)1;
            struct lift_error err;
            enum lift_code rc = lift_pipeline_load(&r, &q, &err);
            if (rc != LIFT_ERR_CORRUPT)
                fail_msg("%zu of %zu bytes: %s", n, len, lift_code_name(rc));
            assert_null(q);
            assert_true(err.msg[0] != '\0');
            free(cut);
        }
        free(data);
        lift_pipeline_free(p);
    }
    lift_table_free(t);
}

static void load_flipped_bytes_never_crash(void **st)
{
    (void)st;
    struct lift_table *t = table_with(rich_csv, NULL, 0);
    for (int mode = 0; mode < 2; mode++) {
        struct lift_pipeline *p = fit_rich(t, (enum lift_index_mode)mode);
        size_t len;
        unsigned char *data = save_bytes(p, &len);
        size_t n_failed = 0;
        for (size_t i = 0; i < len; i++) {
            for (int bit = 0; bit < 8; bit += 7) {
                unsigned char *copy = malloc(len);
                assert_non_null(copy);
                memcpy(copy, data, len);
                copy[i] ^= (unsigned char)(1u << bit);
                struct lift_reader r;
                lift_reader_init(&r, copy, len);
                struct lift_pipeline *q = NULL;
                struct lift_error err;
                enum lift_code rc = lift_pipeline_load(&r, &q, &err);
                if (rc) {
                    assert_null(q);
                    n_failed++;
                } else {
                    /* a pipeline that loads must map any row safely */
                    struct lift_row row;
                    assert_int_equal(lift_row_init(&row, q, NULL), LIFT_OK);
                    struct lift_field fl[4] = {
                        num_field("n", 2), str_field("c", "a"),
                        str_field("d", "u"), str_field("t", "red fox")};
                    (void)lift_pipeline_map_record(q, fl, 4, false, &row, NULL,
                                                   NULL);
                    for (size_t j = 0; j < row.nnz; j++)
                        assert_true(row.idx[j] < lift_pipeline_n_features(q));
                    /* and bin it, term columns included */
                    uint8_t *codes = malloc(lift_pipeline_n_bin_cols(q));
                    assert_non_null(codes);
                    (void)lift_pipeline_bin_record(q, fl, 4, false, codes, NULL,
                                                   NULL);
                    free(codes);
                    lift_row_release(&row);
                    lift_pipeline_free(q);
                }
                free(copy);
            }
        }
        /* the header bytes at least are checked */
        assert_true(n_failed > 0);
        free(data);
        lift_pipeline_free(p);
    }
    lift_table_free(t);
}

/* ---- the fit's memo of text values -------------------------------------- */

static void assert_same_csr(const struct lift_csr *a, const struct lift_csr *b)
{
    assert_int_equal(a->n_rows, b->n_rows);
    assert_int_equal(a->n_cols, b->n_cols);
    assert_memory_equal(a->indptr, b->indptr,
                        (a->n_rows + 1) * sizeof *a->indptr);
    size_t nnz = a->indptr[a->n_rows];
    if (nnz) {
        assert_memory_equal(a->idx, b->idx, nnz * sizeof *a->idx);
        assert_memory_equal(a->val, b->val, nnz * sizeof *a->val); /* bits */
    }
}

/* Fits s on fit_rows with and without the memo (the same pipeline, byte
 * for byte), then maps map_rows from the memo and by analysing every
 * value: the same matrix, bit for bit; the memo handed with a binding
 * of the other pipeline is ignored. Returns the matrix's entries. */
static size_t memo_case(const struct lift_table *t, const uint32_t *fit_rows,
                        size_t n_fit, const struct lift_pipeline_spec *s,
                        const uint32_t *map_rows, size_t n_map)
{
    struct lift_pipeline *p = NULL, *q = NULL;
    struct lift_pipeline_memo *memo = NULL;
    struct lift_error err;
    assert_int_equal(
        lift_pipeline_fit_memo(t, fit_rows, n_fit, s, &p, &memo, &err),
        LIFT_OK);
    assert_non_null(memo);
    assert_int_equal(lift_pipeline_fit(t, fit_rows, n_fit, s, &q, &err),
                     LIFT_OK);
    size_t lp, lq;
    void *bp = save_bytes(p, &lp), *bq = save_bytes(q, &lq);
    assert_int_equal(lp, lq);
    assert_memory_equal(bp, bq, lp);
    free(bp);
    free(bq);
    struct lift_binding *b = NULL, *b_other = NULL;
    assert_int_equal(lift_pipeline_bind(p, t, false, &b, NULL, &err), LIFT_OK);
    assert_int_equal(lift_pipeline_bind(q, t, false, &b_other, NULL, &err),
                     LIFT_OK);
    struct lift_csr with, without, other;
    assert_int_equal(
        lift_pipeline_transform_memo(b, memo, map_rows, n_map, &with, &err),
        LIFT_OK);
    assert_int_equal(
        lift_pipeline_transform(b, map_rows, n_map, &without, &err), LIFT_OK);
    assert_same_csr(&with, &without);
    assert_int_equal(lift_pipeline_transform_memo(b_other, memo, map_rows,
                                                  n_map, &other, &err),
                     LIFT_OK);
    assert_same_csr(&other, &without);
    size_t nnz = with.indptr[with.n_rows];
    lift_csr_release(&with);
    lift_csr_release(&without);
    lift_csr_release(&other);
    lift_binding_free(b);
    lift_binding_free(b_other);
    lift_pipeline_memo_free(memo);
    lift_pipeline_free(p);
    lift_pipeline_free(q);
    return nnz;
}

static void transform_memo_same_matrix_with_every_input_kind(void **st)
{
    (void)st;
    /* repeated texts, an empty and a quoted "NA" text, a text longer
     * than max_tokens, non-ASCII, beside numeric, categorical and a
     * cross */
    static const char csv[] =
        "n,c,d,t\n"
        "1.5,a,u,the red fox\n"
        ",b,u,a blue fox\n"
        "4,a,v,the red fox\n"
        "999,c,,\n"
        "2,a,v,\"NA\"\n"
        "3,b,u,\"one two three four five six seven\"\n"
        "5,c,v,Stra\xc3\x9f\x65 \xe4\xb8\xad\xe6\x96\x87 fox\n"
        "6,a,u,a blue fox\n";
    static const char *const miss[] = {"n=999"};
    struct lift_table *t = table_with(csv, miss, 1);
    struct lift_pipeline_spec s = spec_default();
    static const char *const text[] = {"t"};
    static const char *const cross[] = {"c,d"};
    s.text = text;
    s.n_text = 1;
    s.cross = cross;
    s.n_cross = 1;
    s.max_tokens = 6;
    struct lift_text_opts o;
    lift_text_opts_init(&o); /* the defaults: n-grams, character grams */
    s.text_opts = &o;
    const uint32_t fit_rows[] = {0, 1, 2, 3, 4, 5, 6};
    const uint32_t all[] = {7, 6, 5, 4, 3, 2, 1, 0, 0, 2};
    for (unsigned mt = 4; mt <= 400; mt *= 10) {
        s.max_tokens = mt; /* 4 and 40 cut long values; 400 cuts none */
        assert_true(memo_case(t, fit_rows, 7, &s, all, 10) > 20);
        assert_true(memo_case(t, NULL, 0, &s, NULL, 8) > 20);
    }
    lift_table_free(t);
}

static struct lift_table *read_sms(void)
{
    const char *d = getenv("LIFT_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/sms-spam-collection/SMSSpamCollection",
             d && *d ? d : "../shared/data");
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fclose(f);
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.sep = '\t';
    o.no_header = true;
    o.no_quote = true;
    o.columns = "label,text";
    struct lift_table *t = NULL;
    struct lift_error err;
    if (lift_table_read_csv(path, &o, &t, &err))
        fail_msg("%s: %s", path, err.msg);
    return t;
}

static void transform_memo_same_matrix_on_real_sms(void **st)
{
    (void)st;
    struct lift_table *t = read_sms();
    if (!t) {
        skip();
        return;
    }
    size_t n = lift_table_n_rows(t), n_fit = 0;
    uint32_t *fit_rows = malloc(n * sizeof *fit_rows);
    uint32_t *all = malloc(n * sizeof *all);
    assert_true(fit_rows && all);
    for (size_t i = 0; i < n; i++) {
        if (i % 5)
            fit_rows[n_fit++] = (uint32_t)i;
        all[i] = (uint32_t)i; /* the fifth never fitted */
    }
    struct lift_pipeline_spec s = spec_default();
    static const char *const text[] = {"text"};
    s.text = text;
    s.n_text = 1;
    s.target = "label";
    s.min_count = 0; /* text terms in 2 rows, as lift train */
    struct lift_text_opts o;
    lift_text_opts_init(&o);
    s.text_opts = &o;
    assert_true(memo_case(t, fit_rows, n_fit, &s, all, n) > 1000000);
    /* values cut at 40 terms, and the widest settings */
    s.max_tokens = 40;
    o.ngrams = 3;
    o.char_min = 1;
    o.char_max = 6;
    o.classes = true;
    o.stem = true;
    assert_true(memo_case(t, fit_rows, n_fit, &s, fit_rows, n_fit) > 100000);
    free(fit_rows);
    free(all);
    lift_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fit_numeric_complete_standardises_with_population_std),
        cmocka_unit_test(fit_numeric_with_missing_adds_flag_after_value),
        cmocka_unit_test(fit_numeric_constant_keeps_scale_one),
        cmocka_unit_test(
            fit_categorical_levels_indexed_in_first_appearance_order),
        cmocka_unit_test(fit_categorical_min_count_sends_cut_levels_to_rare),
        cmocka_unit_test(fit_categorical_max_features_keeps_most_frequent),
        cmocka_unit_test(map_record_sentinel_spellings_read_as_missing),
        cmocka_unit_test(map_text_weights_tfidf_with_unit_norm),
        cmocka_unit_test(map_cross_one_hot_of_level_pairs),
        cmocka_unit_test(feature_name_cross_joins_levels_with_ampersand),
        cmocka_unit_test(map_hash_mode_indices_below_bits_and_stable),
        cmocka_unit_test(fit_bins_edges_at_quantiles),
        cmocka_unit_test(fit_bins_few_distinct_values_one_bin_each),
        cmocka_unit_test(fit_bad_bins_or_bits_invalid),
        cmocka_unit_test(bin_upper_default_edges_at_quantile_ranks),
        cmocka_unit_test(bin_table_row_matches_record_and_transform),
        cmocka_unit_test(text_terms_are_top_df_terms_ties_by_bytes),
        cmocka_unit_test(text_terms_columns_equal_direct_tfidf),
        cmocka_unit_test(text_terms_memo_and_round_trip_identical),
        cmocka_unit_test(fit_rows_subset_uses_only_those_rows),
        cmocka_unit_test(bind_reordered_table_missing_column_reads_missing),
        cmocka_unit_test(map_table_row_text_in_numeric_column_unprocessable),
        cmocka_unit_test(map_record_report_and_strict),
        cmocka_unit_test(save_load_round_trip_identical_rows),
        cmocka_unit_test(load_every_truncation_corrupt),
        cmocka_unit_test(load_flipped_bytes_never_crash),
        cmocka_unit_test(transform_memo_same_matrix_with_every_input_kind),
        cmocka_unit_test(transform_memo_same_matrix_on_real_sms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
