/*
 * tests/unit/test_model.c - the model layer (models/model.c, options.c,
 * calibrate.c through the public API of lift/model.h): training on small
 * synthetic tables made in memory (binary, regression, multiclass), the
 * .lift bytes (byte-identical for one seed, round trip, every truncation,
 * a flipped byte, a newer version), explanations that add up to the raw
 * score, records with absent and unknown fields, strict mode, calibration
 * that lowers the calibration error, bad options, a one-class target and
 * cancellation through the progress callback.
 *
 * The synthetic data come from a fixed splitmix64 stream, so every run
 * sees the same rows.
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
#include <unistd.h>

#include <lift/metrics.h>
#include <lift/model.h>
#include <lift/table.h>

#include "core/hash.h"

/* ---- helpers ------------------------------------------------------------ */

#define assert_near(a, b, eps) near_impl((a), (b), (eps), __FILE__, __LINE__)

static void near_impl(double a, double b, double eps, const char *file,
                      int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%.17g != %.17g (tolerance %g)\n", a, b, eps);
        _fail(file, line);
    }
}

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double uniform(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

enum shape {
    SHAPE_BINARY,     /* x1,x2,c,y: y yes/no from a logistic model */
    SHAPE_RARE,       /* x1,y: y yes about 12% of the time */
    SHAPE_REGRESSION, /* x1,x2,c,y: y = 3 x1 - 2 x2 + c-effect + noise */
    SHAPE_MULTICLASS, /* x1,x2,y: y lo/mid/hi by regions of x1 + x2 */
};

/* A CSV text of n rows of the given shape (caller frees). */
static char *make_csv(enum shape shape, size_t n, uint64_t seed)
{
    size_t cap = 64 + n * 64, len = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    len += (size_t)snprintf(s, cap, "%s\n",
                            shape == SHAPE_RARE         ? "x1,y"
                            : shape == SHAPE_MULTICLASS ? "x1,x2,y"
                                                        : "x1,x2,c,y");
    static const char *const levels[] = {"a", "b", "c"};
    static const double effect[] = {1.0, -0.5, 0.0};
    for (size_t i = 0; i < n; i++) {
        double x1 = uniform(&seed) * 4 - 2, x2 = uniform(&seed) * 4 - 2;
        size_t c = (size_t)(uniform(&seed) * 3);
        double u = uniform(&seed);
        char *p = s + len;
        size_t left = cap - len;
        int k = 0;
        switch (shape) {
        case SHAPE_BINARY:
            k = snprintf(p, left, "%.4f,%.4f,%s,%s\n", x1, x2, levels[c],
                         u < sigmoid(1.5 * x1 - x2 + effect[c]) ? "yes" : "no");
            break;
        case SHAPE_RARE:
            k = snprintf(p, left, "%.4f,%s\n", x1,
                         u < sigmoid(2 * x1 - 3.5) ? "yes" : "no");
            break;
        case SHAPE_REGRESSION:
            k = snprintf(p, left, "%.4f,%.4f,%s,%.4f\n", x1, x2, levels[c],
                         3 * x1 - 2 * x2 + 2 * effect[c] + 1 + 0.1 * (u - 0.5));
            break;
        case SHAPE_MULTICLASS: {
            double z = x1 + x2 + 0.3 * (u - 0.5);
            k = snprintf(p, left, "%.4f,%.4f,%s\n", x1, x2,
                         z < -1  ? "lo"
                         : z < 1 ? "mid"
                                 : "hi");
            break;
        }
        }
        assert_true(k > 0 && (size_t)k < left);
        len += (size_t)k;
    }
    return s;
}

static struct lift_table *read_csv_text(const char *csv)
{
    struct lift_read_opts o;
    lift_read_opts_init(&o);
    o.sep = ',';
    o.name = "synthetic.csv";
    struct lift_table *t = NULL;
    struct lift_error err;
    memset(&err, 0, sizeof err);
    enum lift_code rc = lift_table_read_mem(csv, strlen(csv), &o, &t, &err);
    if (rc)
        fail_msg("read failed (%s): %s", lift_code_name(rc), err.msg);
    return t;
}

static struct lift_table *make_table(enum shape shape, size_t n, uint64_t seed)
{
    char *csv = make_csv(shape, n, seed);
    struct lift_table *t = read_csv_text(csv);
    free(csv);
    return t;
}

/* Options from key/value pairs, ending with NULL. */
static struct lift_train_opts *opts_of(const char *key, ...)
{
    struct lift_train_opts *o = NULL;
    assert_int_equal(lift_train_opts_new(&o, NULL), LIFT_OK);
    va_list ap;
    va_start(ap, key);
    for (const char *k = key; k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        struct lift_error err;
        enum lift_code rc = lift_train_opts_set(o, k, v, &err);
        if (rc)
            fail_msg("option %s=%s: %s", k, v, err.msg);
    }
    va_end(ap);
    return o;
}

static struct lift_model *train(const struct lift_table *t,
                                const struct lift_train_opts *o)
{
    struct lift_model *m = NULL;
    struct lift_error err;
    memset(&err, 0, sizeof err);
    enum lift_code rc = lift_model_train(t, NULL, 0, o, &m, &err);
    if (rc)
        fail_msg("train failed (%s): %s", lift_code_name(rc), err.msg);
    assert_non_null(m);
    return m;
}

static struct lift_model *train_binary(const struct lift_table *t)
{
    struct lift_train_opts *o =
        opts_of("target", "y", "positive", "yes", "seed", "7", NULL);
    struct lift_model *m = train(t, o);
    lift_train_opts_free(o);
    return m;
}

static void *model_bytes(const struct lift_model *m, size_t *len)
{
    void *data = NULL;
    struct lift_error err;
    enum lift_code rc = lift_model_to_bytes(m, &data, len, &err);
    if (rc)
        fail_msg("to_bytes failed: %s", err.msg);
    assert_non_null(data);
    return data;
}

static double *predict_all(const struct lift_model *m,
                           const struct lift_table *t)
{
    size_t n = lift_table_n_rows(t) * lift_model_n_outputs(m);
    double *out = malloc(n * sizeof *out);
    assert_non_null(out);
    struct lift_error err;
    enum lift_code rc = lift_model_predict_table(m, t, NULL, 0, out, &err);
    if (rc)
        fail_msg("predict failed (%s): %s", lift_code_name(rc), err.msg);
    return out;
}

static double auc_of(const struct lift_model *m, const struct lift_table *t,
                     const double *score)
{
    size_t n = lift_table_n_rows(t);
    double *y = malloc(n * sizeof *y);
    uint8_t *y8 = malloc(n);
    assert_non_null(y);
    assert_non_null(y8);
    assert_int_equal(lift_model_labels(m, t, NULL, n, y, NULL), LIFT_OK);
    for (size_t i = 0; i < n; i++)
        y8[i] = (uint8_t)(y[i] == 1.0);
    double auc = NAN;
    assert_int_equal(lift_auc(y8, score, NULL, n, &auc, NULL), LIFT_OK);
    free(y);
    free(y8);
    return auc;
}

static double ece_of(const struct lift_model *m, const struct lift_table *t,
                     const double *p)
{
    size_t n = lift_table_n_rows(t);
    double *y = malloc(n * sizeof *y);
    uint8_t *y8 = malloc(n);
    assert_non_null(y);
    assert_non_null(y8);
    assert_int_equal(lift_model_labels(m, t, NULL, n, y, NULL), LIFT_OK);
    for (size_t i = 0; i < n; i++)
        y8[i] = (uint8_t)(y[i] == 1.0);
    struct lift_calibration_bin bins[10];
    double ece = NAN;
    assert_int_equal(lift_metrics_calibration(y8, p, n, 10, bins, &ece, NULL),
                     LIFT_OK);
    free(y);
    free(y8);
    return ece;
}

static struct lift_field num_field(const char *name, double v)
{
    struct lift_field f = {name, LIFT_VALUE_NUMBER, v, NULL, 0};
    return f;
}

static struct lift_field str_field(const char *name, const char *s)
{
    struct lift_field f = {name, LIFT_VALUE_STRING, 0, s, strlen(s)};
    return f;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Rewrites the xxh64 trailer after an edit. */
static void reseal(unsigned char *b, size_t len)
{
    put_le64(b + len - 8, lift_xxh64(b, len - 8, 0));
}

/* One trained binary model shared by the tests that only read it. */
struct fixture {
    struct lift_table *t;
    struct lift_model *m;
};

static int setup_binary(void **state)
{
    setenv("SOURCE_DATE_EPOCH", "0", 1);
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->t = make_table(SHAPE_BINARY, 2000, 1);
    f->m = train_binary(f->t);
    *state = f;
    return 0;
}

static int teardown_binary(void **state)
{
    struct fixture *f = *state;
    lift_model_free(f->m);
    lift_table_free(f->t);
    free(f);
    return 0;
}

/* ---- training ----------------------------------------------------------- */

static void train_logistic_synthetic_learns_signal(void **state)
{
    struct fixture *f = *state;
    const struct lift_model *m = f->m;
    assert_int_equal(lift_model_task(m), LIFT_TASK_BINARY);
    assert_string_equal(lift_task_name(lift_model_task(m)), "binary");
    assert_string_equal(lift_model_kind(m), "logistic");
    assert_string_equal(lift_model_target(m), "y");
    assert_int_equal(lift_model_n_outputs(m), 1);
    assert_string_equal(lift_model_class(m, 0), "yes");
    assert_int_equal(lift_model_n_inputs(m), 3);
    assert_string_equal(lift_model_input_name(m, 0), "x1");
    assert_string_equal(lift_model_input_name(m, 1), "x2");
    assert_string_equal(lift_model_input_name(m, 2), "c");
    /* x1, x2, c=a, c=b, c=c */
    assert_int_equal(lift_model_n_features(m), 5);
    double *p = predict_all(m, f->t);
    for (size_t i = 0; i < lift_table_n_rows(f->t); i++)
        assert_true(p[i] > 0 && p[i] < 1);
    /* the generating model's own AUC on these rows is about 0.85 */
    struct lift_table *test = make_table(SHAPE_BINARY, 2000, 99);
    double *q = predict_all(m, test);
    double auc = auc_of(m, test, q);
    assert_true(auc > 0.8);
    free(q);
    free(p);
    lift_table_free(test);
    /* importance: x1 carries the most (coefficient 1.5 on a wide range) */
    struct lift_contribution imp[3];
    assert_int_equal(lift_model_importance(m, imp), 3);
    assert_string_equal(imp[0].column, "x1");
    assert_true(imp[0].value >= imp[1].value && imp[1].value >= imp[2].value);
    assert_true(imp[2].value > 0);
    assert_non_null(strstr(lift_model_info_json(m), "\"created\":0"));
}

static void labels_binary_positive_is_one(void **state)
{
    struct fixture *f = *state;
    struct lift_table *t = read_csv_text("x1,x2,c,y\n1,2,a,yes\n0,0,b,no\n"
                                         "1,1,c,\n");
    double y[3];
    assert_int_equal(lift_model_labels(f->m, t, NULL, 3, y, NULL), LIFT_OK);
    assert_near(y[0], 1.0, 0);
    assert_near(y[1], 0.0, 0);
    assert_true(isnan(y[2]));
    lift_table_free(t);
}

/* ---- the .lift bytes ---------------------------------------------------- */

static void to_bytes_same_seed_byte_identical(void **state)
{
    struct fixture *f = *state;
    setenv("SOURCE_DATE_EPOCH", "0", 1);
    struct lift_model *again = train_binary(f->t);
    size_t la, lb, lc;
    void *a = model_bytes(f->m, &la);
    void *b = model_bytes(again, &lb);
    void *c = model_bytes(again, &lc);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_int_equal(lb, lc);
    assert_memory_equal(b, c, lb);
    assert_memory_equal(a, "LIFTMDL\0", 8);
    free(a);
    free(b);
    free(c);
    lift_model_free(again);
}

static void from_bytes_round_trip_identical_predictions(void **state)
{
    struct fixture *f = *state;
    size_t len;
    void *data = model_bytes(f->m, &len);
    struct lift_model *m = NULL;
    struct lift_error err;
    enum lift_code rc = lift_model_from_bytes(data, len, &m, &err);
    if (rc)
        fail_msg("from_bytes failed: %s", err.msg);
    assert_string_equal(lift_model_kind(m), "logistic");
    assert_string_equal(lift_model_class(m, 0), "yes");
    assert_int_equal(lift_model_n_features(m), lift_model_n_features(f->m));
    assert_near(lift_model_train_seconds(m), 0, 0);
    assert_string_equal(lift_model_info_json(m), lift_model_info_json(f->m));
    double *p = predict_all(f->m, f->t);
    double *q = predict_all(m, f->t);
    assert_memory_equal(p, q, lift_table_n_rows(f->t) * sizeof *p);
    size_t len2;
    void *data2 = model_bytes(m, &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(data2, data, len);
    /* a file round trip too */
    char path[] = "/tmp/lift-test-model-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(lift_model_save(m, path, &err), LIFT_OK);
    struct lift_model *l = NULL;
    assert_int_equal(lift_model_load(path, &l, &err), LIFT_OK);
    double *r = predict_all(l, f->t);
    assert_memory_equal(p, r, lift_table_n_rows(f->t) * sizeof *p);
    unlink(path);
    lift_model_free(l);
    assert_int_equal(lift_model_load(path, &l, &err), LIFT_ERR_IO);
    assert_null(l);
    free(p);
    free(q);
    free(r);
    free(data);
    free(data2);
    lift_model_free(m);
}

static void from_bytes_every_truncation_corrupt(void **state)
{
    struct fixture *f = *state;
    size_t len;
    unsigned char *data = model_bytes(f->m, &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, data, n);
        struct lift_model *m = (struct lift_model *)1;
        struct lift_error err;
        enum lift_code rc = lift_model_from_bytes(cut, n, &m, &err);
        if (rc != LIFT_ERR_CORRUPT)
            fail_msg("%zu of %zu bytes: %s", n, len, lift_code_name(rc));
        assert_null(m);
        free(cut);
    }
    free(data);
}

static void from_bytes_flipped_byte_checksum_error(void **state)
{
    struct fixture *f = *state;
    size_t len;
    unsigned char *data = model_bytes(f->m, &len);
    size_t at[] = {8, 20, len / 2, len - 9, len - 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        data[at[i]] ^= 0x10;
        struct lift_model *m = NULL;
        struct lift_error err;
        assert_int_equal(lift_model_from_bytes(data, len, &m, &err),
                         LIFT_ERR_CORRUPT);
        assert_null(m);
        assert_non_null(strstr(err.msg, "checksum"));
        data[at[i]] ^= 0x10;
    }
    /* a bad magic is named as such */
    data[0] = 'X';
    struct lift_model *m = NULL;
    struct lift_error err;
    assert_int_equal(lift_model_from_bytes(data, len, &m, &err),
                     LIFT_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "magic"));
    free(data);
}

static void from_bytes_newer_version_unsupported(void **state)
{
    struct fixture *f = *state;
    size_t len;
    unsigned char *data = model_bytes(f->m, &len);
    put_le32(data + 8, 2);
    reseal(data, len);
    struct lift_model *m = NULL;
    struct lift_error err;
    assert_int_equal(lift_model_from_bytes(data, len, &m, &err),
                     LIFT_ERR_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(err.msg, "format 2"));
    put_le32(data + 8, 0);
    reseal(data, len);
    assert_int_equal(lift_model_from_bytes(data, len, &m, &err),
                     LIFT_ERR_CORRUPT);
    /* back to version 1 and resealed: loads again */
    put_le32(data + 8, 1);
    reseal(data, len);
    assert_int_equal(lift_model_from_bytes(data, len, &m, &err), LIFT_OK);
    lift_model_free(m);
    m = NULL;
    /* trailing garbage, resealed: corrupt, not ignored */
    unsigned char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, data, len - 8);
    longer[len - 8] = 0;
    reseal(longer, len + 1);
    assert_int_equal(lift_model_from_bytes(longer, len + 1, &m, &err),
                     LIFT_ERR_CORRUPT);
    assert_null(m);
    free(longer);
    free(data);
}

/* A dict-mode pipeline claiming far more features than its inputs define
 * is refused before the count sizes any table (found by fuzz_model: a
 * 1.6 kB file made the loader allocate and fill 8 GB). */
static void from_bytes_feature_count_beyond_inputs_corrupt(void **state)
{
    struct fixture *f = *state;
    size_t len;
    unsigned char *data = model_bytes(f->m, &len);
    /* magic 8, version 4, flags 4, task 1, "logistic" 4+8, "y" 4+1,
     * classes 8 + "yes" 4+3, then the pipeline: mode, bits, bins,
     * max_tokens (u32 each) and the feature count (u64) */
    size_t at = 8 + 4 + 4 + 1 + 12 + 5 + 8 + 7 + 16;
    uint64_t nf = 0;
    for (int i = 7; i >= 0; i--)
        nf = nf << 8 | data[at + (size_t)i];
    assert_int_equal(nf, lift_model_n_features(f->m));
    put_le64(data + at, ((uint64_t)1 << 24) + 5);
    reseal(data, len);
    struct lift_model *m = NULL;
    struct lift_error err;
    assert_int_equal(lift_model_from_bytes(data, len, &m, &err),
                     LIFT_ERR_CORRUPT);
    assert_null(m);
    assert_non_null(strstr(err.msg, "feature count"));
    free(data);
}

/* ---- scoring and explaining --------------------------------------------- */

static void explain_record_base_plus_contributions_equals_raw(void **state)
{
    struct fixture *f = *state;
    const struct lift_model *m = f->m;
    static const double xs[][2] = {{0, 0}, {1.5, -2}, {-1.9, 1.2}, {3, 3}};
    static const char *const cs[] = {"a", "b", "c", "never-seen"};
    for (size_t i = 0; i < 4; i++) {
        struct lift_field fl[3] = {num_field("x1", xs[i][0]),
                                   num_field("x2", xs[i][1]),
                                   str_field("c", cs[i])};
        struct lift_contribution con[3];
        size_t n = 0;
        double base = NAN, raw = NAN, score = NAN;
        struct lift_record_report rep;
        struct lift_error err;
        enum lift_code rc = lift_model_explain_record(
            m, fl, 3, 0, con, &n, &base, &raw, &score, &rep, &err);
        if (rc)
            fail_msg("explain failed: %s", err.msg);
        assert_int_equal(n, 3);
        double sum = base;
        for (size_t k = 0; k < n; k++) {
            sum += con[k].value;
            if (k)
                assert_true(fabs(con[k - 1].value) >= fabs(con[k].value));
        }
        assert_near(sum, raw, 1e-9);
        assert_near(score, sigmoid(raw), 1e-12);
        double p = NAN;
        assert_int_equal(
            lift_model_predict_record(m, fl, 3, true, &p, NULL, &err), LIFT_OK);
        assert_near(p, score, 1e-12);
        assert_int_equal(rep.n_absent, 0);
        assert_int_equal(rep.n_unknown, 0);
    }
    /* the learned effects have the generating signs */
    struct lift_field hi[3] = {num_field("x1", 2), num_field("x2", -2),
                               str_field("c", "a")};
    struct lift_field lo[3] = {num_field("x1", -2), num_field("x2", 2),
                               str_field("c", "b")};
    double ph, pl;
    assert_int_equal(
        lift_model_predict_record(m, hi, 3, false, &ph, NULL, NULL), LIFT_OK);
    assert_int_equal(
        lift_model_predict_record(m, lo, 3, false, &pl, NULL, NULL), LIFT_OK);
    assert_true(ph > 0.95);
    assert_true(pl < 0.05);
    /* output 1 does not exist for a binary model */
    struct lift_contribution con[3];
    size_t n;
    double base, raw, score;
    struct lift_error err;
    assert_int_equal(lift_model_explain_record(m, hi, 3, 1, con, &n, &base,
                                               &raw, &score, NULL, &err),
                     LIFT_ERR_INVALID);
}

/* The batched explanation of table rows equals the per-record one, for
 * rows given and for all rows, and per-row outputs of a multiclass model
 * are honoured. */
static void explain_table_equals_explain_record(void **state)
{
    struct fixture *f = *state;
    const struct lift_model *m = f->m;
    const struct lift_table *t = f->t;
    size_t ni = lift_model_n_inputs(m), n = lift_table_n_rows(t);
    assert_int_equal(ni, 3);
    double *contrib = calloc(n * ni, sizeof *contrib);
    double *base = calloc(n, sizeof *base), *raw = calloc(n, sizeof *raw);
    assert_non_null(contrib);
    assert_non_null(base);
    assert_non_null(raw);
    struct lift_error err;
    assert_int_equal(
        lift_model_explain_table(m, t, NULL, 0, NULL, contrib, base, raw, &err),
        LIFT_OK);
    const double *x1 = lift_table_values(t, 0), *x2 = lift_table_values(t, 1);
    const uint32_t *c = lift_table_codes(t, 2);
    for (size_t i = 0; i < n; i += 97) {
        struct lift_field fl[3] = {
            num_field("x1", x1[i]), num_field("x2", x2[i]),
            str_field("c", lift_table_level(t, 2, c[i], NULL))};
        struct lift_contribution con[3];
        size_t nc;
        double b, r, score;
        assert_int_equal(lift_model_explain_record(m, fl, 3, 0, con, &nc, &b,
                                                   &r, &score, NULL, &err),
                         LIFT_OK);
        assert_near(base[i], b, 1e-12);
        assert_near(raw[i], r, 1e-12);
        for (size_t k = 0; k < nc; k++) {
            size_t g = 0;
            while (strcmp(lift_model_input_name(m, g), con[k].column) != 0)
                g++;
            assert_near(contrib[i * ni + g], con[k].value, 1e-12);
        }
    }
    /* rows given: the same values in the order given */
    uint32_t rows[2] = {5, 2};
    double c2[6], b2[2], r2[2];
    assert_int_equal(
        lift_model_explain_table(m, t, rows, 2, NULL, c2, b2, r2, &err),
        LIFT_OK);
    assert_near(r2[0], raw[5], 1e-12);
    assert_near(r2[1], raw[2], 1e-12);
    assert_near(c2[3], contrib[2 * ni], 1e-12);
    /* an output the model does not have */
    size_t k1[2] = {0, 1};
    assert_int_equal(
        lift_model_explain_table(m, t, rows, 2, k1, c2, b2, r2, &err),
        LIFT_ERR_INVALID);
    free(contrib);
    free(base);
    free(raw);
}

static void predict_record_unknown_and_absent_fields_fill_report(void **state)
{
    struct fixture *f = *state;
    struct lift_field fl[3] = {num_field("x1", 1), str_field("zzz", "q"),
                               num_field("age", 40)};
    struct lift_record_report rep;
    memset(&rep, 0xff, sizeof rep);
    double p = NAN;
    struct lift_error err;
    assert_int_equal(
        lift_model_predict_record(f->m, fl, 3, false, &p, &rep, &err), LIFT_OK);
    assert_true(p > 0 && p < 1);
    assert_int_equal(rep.n_absent, 2);
    assert_string_equal(rep.absent[0], "x2");
    assert_string_equal(rep.absent[1], "c");
    assert_int_equal(rep.n_unknown, 2);
    assert_string_equal(rep.unknown[0], "zzz");
    assert_string_equal(rep.unknown[1], "age");
    /* absent reads as missing: the same score as explicit nulls */
    struct lift_field nulls[3] = {num_field("x1", 1),
                                  {"x2", LIFT_VALUE_NULL, 0, NULL, 0},
                                  {"c", LIFT_VALUE_NULL, 0, NULL, 0}};
    double q = NAN;
    assert_int_equal(
        lift_model_predict_record(f->m, nulls, 3, true, &q, &rep, &err),
        LIFT_OK);
    assert_near(q, p, 0);
    assert_int_equal(rep.n_absent, 0);
    assert_int_equal(rep.n_unknown, 0);
}

static void predict_record_strict_unknown_or_absent_unprocessable(void **state)
{
    struct fixture *f = *state;
    struct lift_field fl[4] = {num_field("x1", 1), num_field("x2", 0),
                               str_field("c", "a"), num_field("extra", 1)};
    double p;
    struct lift_error err;
    assert_int_equal(
        lift_model_predict_record(f->m, fl, 4, true, &p, NULL, &err),
        LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'extra'"));
    assert_int_equal(
        lift_model_predict_record(f->m, fl, 2, true, &p, NULL, &err),
        LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'c'"));
    assert_int_equal(
        lift_model_predict_record(f->m, fl, 3, true, &p, NULL, &err), LIFT_OK);
    /* a string that is not a number, for a numeric input */
    fl[0] = str_field("x1", "twelve");
    assert_int_equal(
        lift_model_predict_record(f->m, fl, 3, false, &p, NULL, &err),
        LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "'x1'"));
}

static void predict_table_wrong_type_names_column_and_line(void **state)
{
    struct fixture *f = *state;
    struct lift_table *t = read_csv_text("c,x1\na,0.5\nb,oops\n");
    double p[2];
    struct lift_error err;
    assert_int_equal(lift_model_predict_table(f->m, t, NULL, 0, p, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "line 3"));
    assert_non_null(strstr(err.msg, "'x1'"));
    lift_table_free(t);
    /* the same table without the bad line scores like the record path */
    t = read_csv_text("c,x1\na,0.5\n");
    assert_int_equal(lift_model_predict_table(f->m, t, NULL, 0, p, &err),
                     LIFT_OK);
    struct lift_field fl[2] = {str_field("c", "a"), num_field("x1", 0.5)};
    double q;
    assert_int_equal(
        lift_model_predict_record(f->m, fl, 2, false, &q, NULL, &err), LIFT_OK);
    assert_near(p[0], q, 1e-12);
    lift_table_free(t);
}

/* ---- calibration -------------------------------------------------------- */

static void calibration_on_reweighted_model_reduces_ece(void **state)
{
    (void)state;
    /* balanced class weights push a rare class's probabilities up: the
     * raw model is badly calibrated; platt and isotonic undo that */
    struct lift_table *t = make_table(SHAPE_RARE, 6000, 3);
    struct lift_table *test = make_table(SHAPE_RARE, 6000, 4);
    static const char *const methods[] = {"platt", "isotonic"};
    for (size_t i = 0; i < 2; i++) {
        struct lift_train_opts *o =
            opts_of("target", "y", "positive", "yes", "class-weight",
                    "balanced", "calibration", methods[i], NULL);
        struct lift_model *m = train(t, o);
        size_t n = lift_table_n_rows(test);
        double *cal = predict_all(m, test);
        double *raw = malloc(n * sizeof *raw);
        assert_non_null(raw);
        assert_int_equal(
            lift_model_predict_table_uncalibrated(m, test, NULL, 0, raw, NULL),
            LIFT_OK);
        double e_raw = ece_of(m, test, raw), e_cal = ece_of(m, test, cal);
        print_message("%s: ece %.4f uncalibrated, %.4f calibrated\n",
                      methods[i], e_raw, e_cal);
        assert_true(e_raw > 0.15);
        assert_true(e_cal < 0.03);
        /* calibration keeps the ranking (isotonic may only tie) */
        double auc_raw = auc_of(m, test, raw), auc_cal = auc_of(m, test, cal);
        assert_true(auc_cal > auc_raw - 0.01);
        free(raw);
        free(cal);
        lift_model_free(m);
        lift_train_opts_free(o);
    }
    lift_table_free(test);
    lift_table_free(t);
}

/* ---- other tasks -------------------------------------------------------- */

static void train_regression_recovers_linear_target(void **state)
{
    (void)state;
    struct lift_table *t = make_table(SHAPE_REGRESSION, 2000, 5);
    struct lift_train_opts *o = opts_of("target", "y", NULL);
    struct lift_model *m = train(t, o);
    assert_int_equal(lift_model_task(m), LIFT_TASK_REGRESSION);
    assert_string_equal(lift_model_kind(m), "linear");
    assert_int_equal(lift_model_n_outputs(m), 1);
    assert_null(lift_model_class(m, 0));
    struct lift_table *test = make_table(SHAPE_REGRESSION, 1000, 6);
    size_t n = lift_table_n_rows(test);
    double *pred = predict_all(m, test);
    double *y = malloc(n * sizeof *y);
    assert_non_null(y);
    assert_int_equal(lift_model_labels(m, test, NULL, n, y, NULL), LIFT_OK);
    struct lift_regression_metrics rm;
    assert_int_equal(lift_metrics_regression(y, pred, NULL, n, &rm, NULL),
                     LIFT_OK);
    /* the noise is uniform on [-0.05, 0.05]: rmse 0.029 at best */
    assert_true(rm.rmse < 0.1);
    assert_true(rm.r2 > 0.999);
    /* a record: 3 * 1 - 2 * 0 + 2 * 1 + 1 = 6 for c = a */
    struct lift_field fl[3] = {num_field("x1", 1), num_field("x2", 0),
                               str_field("c", "a")};
    double v;
    assert_int_equal(lift_model_predict_record(m, fl, 3, true, &v, NULL, NULL),
                     LIFT_OK);
    assert_near(v, 6.0, 0.1);
    struct lift_contribution con[3];
    size_t nc;
    double base, raw, score;
    assert_int_equal(lift_model_explain_record(m, fl, 3, 0, con, &nc, &base,
                                               &raw, &score, NULL, NULL),
                     LIFT_OK);
    double sum = base;
    for (size_t k = 0; k < nc; k++)
        sum += con[k].value;
    assert_near(sum, raw, 1e-9);
    assert_near(score, raw, 0);
    free(y);
    free(pred);
    lift_table_free(test);
    lift_model_free(m);
    lift_table_free(t);
    lift_train_opts_free(o);
}

static void train_multiclass_softmax_separates_regions(void **state)
{
    (void)state;
    struct lift_table *t = make_table(SHAPE_MULTICLASS, 3000, 7);
    struct lift_train_opts *o = opts_of("target", "y", NULL);
    struct lift_model *m = train(t, o);
    assert_int_equal(lift_model_task(m), LIFT_TASK_MULTICLASS);
    assert_string_equal(lift_model_kind(m), "softmax");
    size_t k = lift_model_n_outputs(m);
    assert_int_equal(k, 3);
    struct lift_table *test = make_table(SHAPE_MULTICLASS, 1000, 8);
    size_t n = lift_table_n_rows(test);
    double *p = predict_all(m, test);
    double *y = malloc(n * sizeof *y);
    uint32_t *yt = malloc(n * sizeof *yt), *yp = malloc(n * sizeof *yp);
    assert_non_null(y);
    assert_non_null(yt);
    assert_non_null(yp);
    assert_int_equal(lift_model_labels(m, test, NULL, n, y, NULL), LIFT_OK);
    for (size_t i = 0; i < n; i++) {
        double sum = 0;
        size_t best = 0;
        for (size_t c = 0; c < k; c++) {
            sum += p[i * k + c];
            if (p[i * k + c] > p[i * k + best])
                best = c;
        }
        assert_near(sum, 1.0, 1e-9);
        yt[i] = (uint32_t)y[i];
        yp[i] = (uint32_t)best;
    }
    struct lift_multiclass_metrics mm;
    assert_int_equal(lift_metrics_multiclass(yt, yp, NULL, n, k, &mm, NULL),
                     LIFT_OK);
    assert_true(mm.accuracy > 0.9);
    assert_true(mm.macro_f1 > 0.85);
    /* the class of a clear record */
    struct lift_field fl[2] = {num_field("x1", 2), num_field("x2", 2)};
    double q[3];
    assert_int_equal(lift_model_predict_record(m, fl, 2, true, q, NULL, NULL),
                     LIFT_OK);
    size_t best = 0;
    for (size_t c = 1; c < 3; c++)
        if (q[c] > q[best])
            best = c;
    assert_string_equal(lift_model_class(m, best), "hi");
    /* explanations per output add up as well */
    for (size_t c = 0; c < 3; c++) {
        struct lift_contribution con[2];
        size_t nc;
        double base, raw, score;
        assert_int_equal(lift_model_explain_record(m, fl, 2, c, con, &nc, &base,
                                                   &raw, &score, NULL, NULL),
                         LIFT_OK);
        assert_near(base + con[0].value + con[1].value, raw, 1e-9);
        assert_near(score, q[c], 1e-12);
    }
    /* a class the model does not know */
    struct lift_table *odd = read_csv_text("x1,x2,y\n0,0,huge\n");
    double yo;
    struct lift_error err;
    assert_int_equal(lift_model_labels(m, odd, NULL, 1, &yo, &err),
                     LIFT_ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "huge"));
    lift_table_free(odd);
    free(y);
    free(yt);
    free(yp);
    free(p);
    lift_table_free(test);
    lift_model_free(m);
    lift_table_free(t);
    lift_train_opts_free(o);
}

/* ---- options and errors ------------------------------------------------- */

static void opts_set_bad_value_invalid_naming_key(void **state)
{
    (void)state;
    struct lift_train_opts *o = NULL;
    assert_int_equal(lift_train_opts_new(&o, NULL), LIFT_OK);
    static const char *const bad[][2] = {
        {"lr", "-1"},           {"lr", "fast"},         {"epochs", "0"},
        {"epochs", "1.5"},      {"l2", "-0.1"},         {"seed", "-3"},
        {"model", "forest"},    {"task", "ranking"},    {"index", "trie"},
        {"bits", "8"},          {"calibration", "x"},   {"valid", "1.5"},
        {"class-weight", "up"}, {"activation", "gelu"}, {"optimizer", "nadam"},
        {"min-count", "0"},     {"cross", ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct lift_error err;
        memset(&err, 0, sizeof err);
        enum lift_code rc = lift_train_opts_set(o, bad[i][0], bad[i][1], &err);
        if (rc != LIFT_ERR_INVALID)
            fail_msg("%s=%s gave %s", bad[i][0], bad[i][1], lift_code_name(rc));
        if (!strstr(err.msg, bad[i][0]) || !strstr(err.msg, bad[i][1]))
            fail_msg("%s=%s: message '%s'", bad[i][0], bad[i][1], err.msg);
    }
    struct lift_error err;
    assert_int_equal(lift_train_opts_set(o, "learning-rate", "0.1", &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "'learning-rate'"));
    assert_int_equal(lift_train_opts_set(o, "drop", "a,,b", &err),
                     LIFT_ERR_INVALID);
    assert_int_equal(lift_train_opts_set(o, "lr", "0.05", &err), LIFT_OK);
    lift_train_opts_free(o);
}

static void train_one_class_target_invalid(void **state)
{
    (void)state;
    struct lift_table *t = read_csv_text("x,y\n1,no\n2,no\n3,no\n4,no\n");
    struct lift_train_opts *o = opts_of("target", "y", NULL);
    struct lift_model *m = (struct lift_model *)1;
    struct lift_error err;
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_INVALID);
    assert_null(m);
    assert_non_null(strstr(err.msg, "'y'"));
    assert_non_null(strstr(err.msg, "one value"));
    lift_train_opts_free(o);
    /* a positive label the column lacks */
    o = opts_of("target", "y", "positive", "yes", NULL);
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "one value"));
    lift_train_opts_free(o);
    lift_table_free(t);
}

static void train_bad_target_or_columns_errors(void **state)
{
    (void)state;
    struct lift_table *t =
        read_csv_text("x,c,y\n1,a,no\n2,b,yes\n3,a,no\n4,b,yes\n");
    struct lift_model *m = NULL;
    struct lift_error err;
    struct lift_train_opts *o = opts_of("seed", "1", NULL);
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "target"));
    lift_train_opts_free(o);
    o = opts_of("target", "nope", NULL);
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    lift_train_opts_free(o);
    o = opts_of("target", "y", "drop", "zz", NULL);
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "'zz'"));
    lift_train_opts_free(o);
    o = opts_of("target", "y", "positive", "maybe", NULL);
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "'maybe'"));
    lift_train_opts_free(o);
    o = opts_of("target", "c", "task", "regression", NULL);
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_INVALID);
    assert_non_null(strstr(err.msg, "numeric"));
    lift_train_opts_free(o);
    o = opts_of("target", "y", "model", "linear", "task", "binary", NULL);
    assert_int_equal(lift_model_train(t, NULL, 0, o, &m, &err),
                     LIFT_ERR_INVALID);
    lift_train_opts_free(o);
    assert_null(m);
    lift_table_free(t);
}

struct progress_log {
    unsigned calls;
    unsigned cancel_at;
    unsigned last_epoch;
    bool saw_fit;
};

static int on_progress(void *user, const struct lift_progress *p)
{
    struct progress_log *l = user;
    l->calls++;
    if (p->stage && strcmp(p->stage, "fit") == 0) {
        l->saw_fit = true;
        l->last_epoch = p->epoch;
    }
    return l->calls >= l->cancel_at;
}

static void train_progress_returns_nonzero_cancelled(void **state)
{
    struct fixture *f = *state;
    struct lift_train_opts *o =
        opts_of("target", "y", "positive", "yes", "optimizer", "sgd", "epochs",
                "20", NULL);
    struct progress_log log = {0, 3, 0, false};
    lift_train_opts_set_progress(o, on_progress, &log);
    struct lift_model *m = (struct lift_model *)1;
    struct lift_error err;
    assert_int_equal(lift_model_train(f->t, NULL, 0, o, &m, &err),
                     LIFT_ERR_CANCELLED);
    assert_null(m);
    assert_int_equal(log.calls, 3);
    assert_true(log.saw_fit);
    assert_int_equal(log.last_epoch, 3);
    /* never cancelling: every epoch is reported, and training succeeds */
    struct progress_log all = {0, UINT32_MAX, 0, false};
    lift_train_opts_set_progress(o, on_progress, &all);
    assert_int_equal(lift_model_train(f->t, NULL, 0, o, &m, &err), LIFT_OK);
    assert_true(all.calls >= 1 && all.calls <= 20);
    assert_true(all.saw_fit);
    lift_model_free(m);
    lift_train_opts_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(train_logistic_synthetic_learns_signal),
        cmocka_unit_test(labels_binary_positive_is_one),
        cmocka_unit_test(to_bytes_same_seed_byte_identical),
        cmocka_unit_test(from_bytes_round_trip_identical_predictions),
        cmocka_unit_test(from_bytes_every_truncation_corrupt),
        cmocka_unit_test(from_bytes_flipped_byte_checksum_error),
        cmocka_unit_test(from_bytes_newer_version_unsupported),
        cmocka_unit_test(from_bytes_feature_count_beyond_inputs_corrupt),
        cmocka_unit_test(explain_record_base_plus_contributions_equals_raw),
        cmocka_unit_test(explain_table_equals_explain_record),
        cmocka_unit_test(predict_record_unknown_and_absent_fields_fill_report),
        cmocka_unit_test(predict_record_strict_unknown_or_absent_unprocessable),
        cmocka_unit_test(predict_table_wrong_type_names_column_and_line),
        cmocka_unit_test(train_progress_returns_nonzero_cancelled),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(calibration_on_reweighted_model_reduces_ece),
        cmocka_unit_test(train_regression_recovers_linear_target),
        cmocka_unit_test(train_multiclass_softmax_separates_regions),
        cmocka_unit_test(opts_set_bad_value_invalid_naming_key),
        cmocka_unit_test(train_one_class_target_invalid),
        cmocka_unit_test(train_bad_target_or_columns_errors),
    };
    int failed = cmocka_run_group_tests_name("binary model", tests,
                                             setup_binary, teardown_binary);
    failed += cmocka_run_group_tests_name("model", alone, NULL, NULL);
    return failed;
}
