/*
 * marketing/uplift.c - uplift estimators and their held-out evaluation.
 *
 * Flow of lift_uplift_run: the rows with a treatment and an outcome are
 * split once (uplift_partition, strata = arm x outcome): one holdout, a
 * single round of fitting whose test rows are evaluated, or K folds, K
 * rounds in which round f's models are trained on the other folds and
 * give the uplifts of fold f only (cross-fitting: every row evaluated,
 * none by a model that saw it). In each round the T-learner
 * trains one model per arm on its training rows (the treatment column
 * dropped) and scores the rows of the round with each. The class transformation
 * builds a copy of the feature columns with z = y (treated) or 1 - y
 * (control) as a CSV text read back by lift_table_read_mem (the table
 * API is read-only by design, and the text keeps each column's type by
 * an explicit type override), balances each treatment's training arms by
 * a seeded subsample of the larger, and trains one model of z per
 * treatment. Scores become uplifts; each treatment is evaluated on the
 * test rows of its arm and the control arm.
 *
 * Evaluation (uplift_eval_sorted) walks rows in decreasing score once;
 * runs of equal scores are one step, so the order inside ties does not
 * change any figure. The bootstrap redraws the test rows as integer
 * weights (n_t draws of lift_rng_below among the treated rows and n_c
 * among the control rows: the experiment fixed the arm sizes, so the
 * resamples keep them), so each resample is one O(n) walk over the order
 * computed once. The perfect Qini, the scale of qini_normalised, is one
 * more walk over the rows ordered treated responders first, control
 * responders last. Cost per treatment and estimator:
 * O(n log n + B n) for n test rows and B resamples.
 */
#include <lift/model.h>
#include <lift/split.h>
#include <lift/table.h>
#include <lift/uplift.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/rng.h"
#include "data/parse.h"
#include "marketing/common.h"
#include "marketing/uplift.h"

#define MAX_PASS 64
#define CURVE_POINTS 20

enum { EST_T = 0, EST_CT, N_EST };
static const char *const est_name[N_EST] = {"t_learner",
                                            "class_transformation"};

struct lift_uplift_opts {
    char *treatment, *control, *target, *positive;
    bool use[N_EST];
    bool customers;
    double test_fraction, k, value, cost;
    size_t bootstrap;
    unsigned folds;
    uint64_t seed;
    size_t n_pass;
    char *pass_key[MAX_PASS], *pass_val[MAX_PASS];
    struct lift_mkt_progress pg;
};

enum lift_code lift_uplift_opts_new(struct lift_uplift_opts **out,
                                    struct lift_error *err)
{
    struct lift_uplift_opts *o = lift_calloc(1, sizeof *o);
    *out = NULL;
    if (!o)
        return lift_error_nomem(err, "uplift options");
    o->use[EST_T] = o->use[EST_CT] = true;
    o->test_fraction = 0.3;
    o->k = 0.3;
    o->value = 1;
    o->cost = 0;
    o->bootstrap = 1000;
    o->seed = 42;
    *out = o;
    return LIFT_OK;
}

void lift_uplift_opts_free(struct lift_uplift_opts *o)
{
    if (!o)
        return;
    lift_free(o->treatment);
    lift_free(o->control);
    lift_free(o->target);
    lift_free(o->positive);
    for (size_t i = 0; i < o->n_pass; i++) {
        lift_free(o->pass_key[i]);
        lift_free(o->pass_val[i]);
    }
    lift_free(o);
}

static enum lift_code set_real(double *dst, const char *key, const char *value,
                               double lo, double hi, bool lo_open,
                               struct lift_error *err)
{
    double v;
    if (!lift_parse_number(value, strlen(value), &v) || !isfinite(v) ||
        v < lo || v > hi || (lo_open && v <= lo))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "bad value '%s' for '%s': want a number in "
                              "%c%g, %g]",
                              value, key, lo_open ? '(' : '[', lo, hi);
    *dst = v;
    return LIFT_OK;
}

static enum lift_code set_estimators(struct lift_uplift_opts *o,
                                     const char *value, struct lift_error *err)
{
    bool use[N_EST] = {false, false};
    const char *p = value;
    while (*p) {
        size_t len = strcspn(p, ",");
        size_t e = 0;
        while (e < N_EST && !(strlen(est_name[e]) == len &&
                              strncmp(p, est_name[e], len) == 0))
            e++;
        if (e == N_EST)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "unknown estimator '%.*s': want "
                                  "t_learner or class_transformation",
                                  (int)len, p);
        use[e] = true;
        p += len + (p[len] == ',');
    }
    if (!use[EST_T] && !use[EST_CT])
        return lift_error_set(err, LIFT_ERR_INVALID, "no estimator named");
    memcpy(o->use, use, sizeof use);
    return LIFT_OK;
}

enum lift_code lift_uplift_opts_set(struct lift_uplift_opts *o, const char *key,
                                    const char *value, struct lift_error *err)
{
    if (!key || !value)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "missing option key or "
                              "value");
    if (strcmp(key, "treatment") == 0)
        return lift_mkt_text(&o->treatment, key, value, err);
    if (strcmp(key, "control") == 0)
        return lift_mkt_text(&o->control, key, value, err);
    if (strcmp(key, "target") == 0)
        return lift_mkt_text(&o->target, key, value, err);
    if (strcmp(key, "positive") == 0)
        return lift_mkt_text(&o->positive, key, value, err);
    if (strcmp(key, "customers") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad value '%s' for 'customers': want true "
                                  "or false",
                                  value);
        o->customers = strcmp(value, "true") == 0;
        return LIFT_OK;
    }
    if (strcmp(key, "estimators") == 0)
        return set_estimators(o, value, err);
    if (strcmp(key, "test-fraction") == 0) {
        enum lift_code rc =
            set_real(&o->test_fraction, key, value, 0, 1, true, err);
        if (!rc && o->test_fraction >= 1)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad value '%s' for '%s': want a number "
                                  "in (0, 1)",
                                  value, key);
        return rc;
    }
    if (strcmp(key, "k") == 0)
        return set_real(&o->k, key, value, 0, 1, true, err);
    if (strcmp(key, "value") == 0)
        return set_real(&o->value, key, value, -1e15, 1e15, false, err);
    if (strcmp(key, "cost") == 0)
        return set_real(&o->cost, key, value, -1e15, 1e15, false, err);
    if (strcmp(key, "folds") == 0) {
        double f;
        enum lift_code rc = set_real(&f, key, value, 0, 20, false, err);
        if (rc)
            return rc;
        if (f != floor(f) || f == 1)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad value '%s' for '%s': want 0 (one "
                                  "holdout split) or 2..20",
                                  value, key);
        o->folds = (unsigned)f;
        return LIFT_OK;
    }
    if (strcmp(key, "bootstrap") == 0) {
        double b;
        enum lift_code rc = set_real(&b, key, value, 0, 100000, false, err);
        if (rc)
            return rc;
        if (b != floor(b))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad value '%s' for '%s': want a whole "
                                  "number",
                                  value, key);
        o->bootstrap = (size_t)b;
        return LIFT_OK;
    }
    if (strcmp(key, "target") == 0 || strcmp(key, "task") == 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "option '%s' is set by uplift itself", key);
    /* A training option: check it now, replay it on every model. */
    struct lift_train_opts *to = NULL;
    enum lift_code rc = lift_train_opts_new(&to, err);
    if (!rc)
        rc = lift_train_opts_set(to, key, value, err);
    lift_train_opts_free(to);
    if (rc)
        return rc;
    if (strcmp(key, "seed") == 0) {
        double s;
        if (lift_parse_number(value, strlen(value), &s) && s >= 0)
            o->seed = (uint64_t)s;
    }
    if (o->n_pass == MAX_PASS)
        return lift_error_set(err, LIFT_ERR_LIMIT,
                              "more than %d training options", MAX_PASS);
    o->pass_key[o->n_pass] = lift_strdup(key);
    o->pass_val[o->n_pass] = lift_strdup(value);
    if (!o->pass_key[o->n_pass] || !o->pass_val[o->n_pass]) {
        lift_free(o->pass_key[o->n_pass]);
        lift_free(o->pass_val[o->n_pass]);
        return lift_error_nomem(err, "uplift options");
    }
    o->n_pass++;
    return LIFT_OK;
}

/* ---- evaluation --------------------------------------------------------- */

struct scored {
    double s;
    uint32_t i;
};

static int by_score_desc(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

enum lift_code uplift_order(const double *score, size_t n, uint32_t *order,
                            struct lift_error *err)
{
    struct scored *tmp = lift_malloc_array(n, sizeof *tmp);
    if (!tmp)
        return lift_error_nomem(err, "uplift order");
    for (size_t i = 0; i < n; i++) {
        tmp[i].s = isnan(score[i]) ? -INFINITY : score[i];
        tmp[i].i = (uint32_t)i;
    }
    qsort(tmp, n, sizeof *tmp, by_score_desc);
    for (size_t i = 0; i < n; i++)
        order[i] = tmp[i].i;
    lift_free(tmp);
    return LIFT_OK;
}

static double rate_diff(double yt, double nt, double yc, double nc)
{
    if (nt <= 0 || nc <= 0)
        return NAN;
    return yt / nt - yc / nc;
}

void uplift_eval_sorted(const uint32_t *order, const double *score,
                        const uint8_t *arm, const uint8_t *y, const uint32_t *w,
                        size_t n, double k, struct lift_uplift_stats *out,
                        double *cx, double *cq, size_t *n_pts)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += w ? (double)w[i] : 1.0;
    double nt = 0, nc = 0, yt = 0, yc = 0, cum = 0;
    double x0 = 0, q0 = 0, u0 = 0, qarea = 0, uarea = 0;
    double kcut = k * total, at_k = NAN;
    bool k_done = false;
    size_t pts = 0;
    if (cx) {
        cx[0] = cq[0] = 0;
        pts = 1;
    }
    for (size_t j = 0; j < n; j++) {
        uint32_t r = order[j];
        double wr = w ? (double)w[r] : 1.0;
        if (!k_done && cum >= kcut) {
            at_k = rate_diff(yt, nt, yc, nc);
            k_done = true;
        }
        cum += wr;
        if (arm[r]) {
            nt += wr;
            yt += wr * y[r];
        } else {
            nc += wr;
            yc += wr * y[r];
        }
        /* A point only at the end of a run of equal scores. */
        if (j + 1 < n && score[order[j + 1]] == score[r])
            continue;
        if (wr == 0 && j + 1 < n)
            continue;
        double x = cum / total;
        double q = nc > 0 ? (yt - yc * nt / nc) / total : yt / total;
        double d = rate_diff(yt, nt, yc, nc);
        double u = isnan(d) ? 0 : d * x;
        qarea += (x - x0) * (q + q0) / 2;
        uarea += (x - x0) * (u + u0) / 2;
        x0 = x;
        q0 = q;
        u0 = u;
        if (cx) {
            cx[pts] = x;
            cq[pts] = q;
            pts++;
        }
    }
    if (!k_done)
        at_k = rate_diff(yt, nt, yc, nc);
    bool ok = nt > 0 && nc > 0;
    out->qini = ok ? qarea - q0 / 2 : NAN;
    out->auuc = ok ? uarea : NAN;
    out->auuc_random = ok ? u0 / 2 : NAN;
    out->uplift_at_k = at_k;
    if (n_pts)
        *n_pts = pts;
}

enum lift_code lift_uplift_evaluate(const double *score, const uint8_t *arm,
                                    const uint8_t *y, const uint32_t *w,
                                    size_t n, double k,
                                    struct lift_uplift_stats *out,
                                    struct lift_error *err)
{
    if (n == 0 || n > UINT32_MAX || !(k > 0 && k <= 1))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "uplift evaluation needs rows and k in (0, 1]");
    uint32_t *order = lift_malloc_array(n, sizeof *order);
    if (!order)
        return lift_error_nomem(err, "uplift order");
    enum lift_code rc = uplift_order(score, n, order, err);
    if (!rc)
        uplift_eval_sorted(order, score, arm, y, w, n, k, out, NULL, NULL,
                           NULL);
    lift_free(order);
    return rc;
}

enum lift_code uplift_perfect_qini(const uint8_t *arm, const uint8_t *y,
                                   size_t n, double *qini,
                                   struct lift_error *err)
{
    *qini = NAN;
    if (n == 0)
        return LIFT_OK;
    double *s = lift_malloc_array(n, sizeof *s);
    uint32_t *order = lift_malloc_array(n, sizeof *order);
    enum lift_code rc = LIFT_OK;
    if (!s || !order) {
        rc = lift_error_nomem(err, "uplift perfect ranking");
        goto done;
    }
    /* Treated responders first, control responders last, the rest one
     * tied step between them. */
    for (size_t i = 0; i < n; i++)
        s[i] = y[i] ? (arm[i] ? 1 : -1) : 0;
    if ((rc = uplift_order(s, n, order, err)))
        goto done;
    struct lift_uplift_stats st;
    uplift_eval_sorted(order, s, arm, y, NULL, n, 1.0, &st, NULL, NULL, NULL);
    *qini = st.qini;
done:
    lift_free(s);
    lift_free(order);
    return rc;
}

/* Uplift of a random k share of the weighted rows (perm reshuffled). */
static double random_k(struct lift_rng *rng, uint32_t *perm, const uint8_t *arm,
                       const uint8_t *y, const uint32_t *w, size_t n,
                       double kcut)
{
    lift_rng_shuffle(rng, perm, n);
    double nt = 0, nc = 0, yt = 0, yc = 0, cum = 0;
    for (size_t j = 0; j < n && cum < kcut; j++) {
        uint32_t r = perm[j];
        double wr = (double)w[r];
        cum += wr;
        if (arm[r]) {
            nt += wr;
            yt += wr * y[r];
        } else {
            nc += wr;
            yc += wr * y[r];
        }
    }
    return rate_diff(yt, nt, yc, nc);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* uplift_bootstrap, reporting stage "bootstrap" to pg (may cancel)
 * before every resample. */
static enum lift_code bootstrap(const uint32_t *order, const double *score,
                                const uint8_t *arm, const uint8_t *y, size_t n,
                                double k, size_t b, uint64_t seed, double *lo,
                                double *hi, double *beats,
                                const struct lift_mkt_progress *pg,
                                struct lift_error *err)
{
    *lo = *hi = *beats = NAN;
    if (b == 0)
        return LIFT_OK;
    uint32_t *w = lift_malloc_array(n, sizeof *w);
    uint32_t *perm = lift_malloc_array(n, sizeof *perm);
    uint32_t *by_arm = lift_malloc_array(n, sizeof *by_arm);
    double *qs = lift_malloc_array(b, sizeof *qs);
    if (!w || !perm || !by_arm || !qs) {
        lift_free(w);
        lift_free(perm);
        lift_free(by_arm);
        lift_free(qs);
        return lift_error_nomem(err, "uplift bootstrap");
    }
    struct lift_rng rng, prng;
    lift_rng_split(&rng, seed, 1);
    lift_rng_split(&prng, seed, 2);
    /* by_arm: the treated rows, then the control rows. */
    size_t n_t = 0, n_c = 0;
    for (size_t i = 0; i < n; i++) {
        perm[i] = (uint32_t)i;
        n_t += arm[i] != 0;
    }
    for (size_t i = 0, jt = 0; i < n; i++) {
        if (arm[i])
            by_arm[jt++] = (uint32_t)i;
        else
            by_arm[n_t + n_c++] = (uint32_t)i;
    }
    size_t wins = 0, nq = 0;
    for (size_t r = 0; r < b; r++) {
        enum lift_code rc = lift_mkt_progress(
            pg, "bootstrap", (unsigned)(r + 1), (unsigned)b, err);
        if (rc) {
            lift_free(w);
            lift_free(perm);
            lift_free(by_arm);
            lift_free(qs);
            return rc;
        }
        /* Stratified: n_t draws among the treated, n_c among the control
         * rows, so every resample keeps the design's arm sizes. */
        memset(w, 0, n * sizeof *w);
        for (size_t i = 0; i < n_t; i++)
            w[by_arm[lift_rng_below(&rng, n_t)]]++;
        for (size_t i = 0; i < n_c; i++)
            w[by_arm[n_t + lift_rng_below(&rng, n_c)]]++;
        struct lift_uplift_stats st;
        uplift_eval_sorted(order, score, arm, y, w, n, k, &st, NULL, NULL,
                           NULL);
        double rnd = random_k(&prng, perm, arm, y, w, n, k * (double)n);
        if (!isnan(st.uplift_at_k) && !isnan(rnd) && st.uplift_at_k > rnd)
            wins++;
        if (!isnan(st.qini))
            qs[nq++] = st.qini;
    }
    if (nq) {
        qsort(qs, nq, sizeof *qs, cmp_double);
        *lo = qs[(size_t)floor(0.025 * (double)(nq - 1) + 0.5)];
        *hi = qs[(size_t)floor(0.975 * (double)(nq - 1) + 0.5)];
    }
    *beats = (double)wins / (double)b;
    lift_free(w);
    lift_free(perm);
    lift_free(by_arm);
    lift_free(qs);
    return LIFT_OK;
}

enum lift_code uplift_bootstrap(const uint32_t *order, const double *score,
                                const uint8_t *arm, const uint8_t *y, size_t n,
                                double k, size_t b, uint64_t seed, double *lo,
                                double *hi, double *beats,
                                struct lift_error *err)
{
    return bootstrap(order, score, arm, y, n, k, b, seed, lo, hi, beats, NULL,
                     err);
}

/* ---- fitting ------------------------------------------------------------ */

struct run {
    const struct lift_table *t;
    const struct lift_uplift_opts *o;
    size_t tcol, ycol;
    uint32_t control;
    size_t n_levels;
    uint32_t *arm_of; /* per table row: level code, or MISSING */
    uint8_t *y;       /* per table row */
    /* per table row: 0 excluded; holdout: 1 test, 2 train; k-fold: fold
     * + 1, each fold a test part in its round */
    uint8_t *part;
    unsigned n_rounds; /* 1 (holdout) or the folds */
    const char *pos_text;
    struct lift_table *ct; /* class-transformation copy */
    char *zname;
    /* per level (treatments only): uplift per table row and estimator */
    double *up[N_EST];
};

bool uplift_is_test(const uint8_t *part, unsigned n_rounds, size_t r)
{
    return part[r] && (unsigned)(part[r] - 1) < n_rounds;
}

bool uplift_is_train(const uint8_t *part, unsigned n_rounds, size_t r,
                     unsigned f)
{
    if (!part[r])
        return false;
    return n_rounds == 1 ? part[r] == 2 : part[r] - 1u != f;
}

bool uplift_scored_by(const uint8_t *part, unsigned n_rounds, size_t r,
                      unsigned f)
{
    if (!part[r])
        return false;
    return n_rounds == 1 || part[r] - 1u == f;
}

/* Row r is evaluated (a test row of some round). */
static bool is_test(const struct run *u, size_t r)
{
    return uplift_is_test(u->part, u->n_rounds, r);
}

/* Row r trains the models of round f. */
static bool is_train(const struct run *u, size_t r, unsigned f)
{
    return uplift_is_train(u->part, u->n_rounds, r, f);
}

/* Row r takes its uplift from the models of round f: every row from the
 * one holdout round; its own fold's round under k-fold. */
static bool scored_by(const struct run *u, size_t r, unsigned f)
{
    return uplift_scored_by(u->part, u->n_rounds, r, f);
}

static json_t *real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static enum lift_code make_opts(const struct run *u, const char *target,
                                const char *positive, const char *drop,
                                struct lift_train_opts **out,
                                struct lift_error *err)
{
    const struct lift_uplift_opts *o = u->o;
    enum lift_code rc = lift_train_opts_new(out, err);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    if (!rc)
        rc = lift_train_opts_set(*out, "seed", seed, err);
    for (size_t i = 0; !rc && i < o->n_pass; i++)
        rc = lift_train_opts_set(*out, o->pass_key[i], o->pass_val[i], err);
    if (!rc)
        rc = lift_train_opts_set(*out, "task", "binary", err);
    if (!rc)
        rc = lift_train_opts_set(*out, "target", target, err);
    if (!rc && positive)
        rc = lift_train_opts_set(*out, "positive", positive, err);
    if (!rc && drop)
        rc = lift_train_opts_set(*out, "drop", drop, err);
    /* a cancellation reaches into the models' training too */
    if (!rc && o->pg.fn)
        lift_train_opts_set_progress(*out, o->pg.fn, o->pg.user);
    if (rc) {
        lift_train_opts_free(*out);
        *out = NULL;
    }
    return rc;
}

/* Trains on rows, scores every table row of tab into p. */
static enum lift_code fit_score(const struct run *u,
                                const struct lift_table *tab,
                                const uint32_t *rows, size_t n_rows,
                                const char *target, const char *positive,
                                const char *drop, const char *what, double *p,
                                struct lift_error *err)
{
    struct lift_train_opts *to = NULL;
    struct lift_model *m = NULL;
    enum lift_code rc = make_opts(u, target, positive, drop, &to, err);
    if (!rc)
        rc = lift_model_train(tab, rows, n_rows, to, &m, err);
    if (!rc)
        rc = lift_model_predict_table(m, tab, NULL, 0, p, err);
    if (rc)
        lift_error_prefix(err, what);
    lift_model_free(m);
    lift_train_opts_free(to);
    return rc;
}

static enum lift_code csv_text(struct lift_buf *b, const char *s,
                               struct lift_error *err)
{
    enum lift_code rc = lift_buf_putc(b, '"', err);
    for (const char *p = s; !rc && *p; p++) {
        if (*p == '"')
            rc = lift_buf_putc(b, '"', err);
        if (!rc)
            rc = lift_buf_putc(b, *p, err);
    }
    return rc ? rc : lift_buf_putc(b, '"', err);
}

/* The feature columns (all but treatment and outcome) and z, as a table. */
static enum lift_code build_ct_table(struct run *u, struct lift_error *err)
{
    const struct lift_table *t = u->t;
    size_t nc = lift_table_n_cols(t), nr = lift_table_n_rows(t);
    struct lift_buf b;
    lift_buf_init(&b, 0, "uplift table");
    const char **types = lift_calloc(nc + 1, sizeof *types);
    char **specs = lift_calloc(nc + 1, sizeof *specs);
    enum lift_code rc = LIFT_OK;
    size_t n_types = 0;
    if (!types || !specs) {
        rc = lift_error_nomem(err, "uplift table");
        goto done;
    }
    /* A name for z that no column has. */
    struct lift_buf zn;
    lift_buf_init(&zn, 256, "column name");
    rc = lift_buf_puts(&zn, "uplift_z", err);
    size_t dummy;
    while (!rc && lift_table_col_index(t, zn.data, &dummy, NULL) == LIFT_OK)
        rc = lift_buf_putc(&zn, '_', err);
    u->zname = rc ? NULL : lift_buf_detach(&zn, NULL);
    lift_buf_release(&zn);
    if (rc)
        goto done;
    bool first = true;
    for (size_t c = 0; !rc && c < nc; c++) {
        if (c == u->tcol || c == u->ycol)
            continue;
        enum lift_col_type ty = lift_table_col_type(t, c);
        const char *tn = ty == LIFT_COL_TEXT          ? "text"
                         : ty == LIFT_COL_CATEGORICAL ? "categorical"
                                                      : "numeric";
        struct lift_buf sb;
        lift_buf_init(&sb, 0, "type");
        rc = lift_buf_printf(&sb, err, "%s=%s", lift_table_col_name(t, c), tn);
        specs[n_types] = rc ? NULL : lift_buf_detach(&sb, NULL);
        lift_buf_release(&sb);
        if (rc)
            break;
        types[n_types] = specs[n_types];
        n_types++;
        if (!first)
            rc = lift_buf_putc(&b, ',', err);
        first = false;
        if (!rc)
            rc = csv_text(&b, lift_table_col_name(t, c), err);
    }
    if (!rc)
        rc = lift_buf_putc(&b, first ? '"' : ',', err);
    if (!rc)
        rc = first ? lift_buf_printf(&b, err, "%s\"\n", u->zname)
                   : lift_buf_printf(&b, err, "\"%s\"\n", u->zname);
    for (size_t r = 0; !rc && r < nr; r++) {
        for (size_t c = 0; !rc && c < nc; c++) {
            if (c == u->tcol || c == u->ycol)
                continue;
            enum lift_col_type ty = lift_table_col_type(t, c);
            if (!lift_table_is_missing(t, c, r)) {
                if (ty == LIFT_COL_TEXT || ty == LIFT_COL_CATEGORICAL) {
                    uint32_t code = lift_table_codes(t, c)[r];
                    rc = csv_text(&b, lift_table_level(t, c, code, NULL), err);
                } else {
                    rc = lift_buf_printf(&b, err, "%.17g",
                                         lift_table_values(t, c)[r]);
                }
            }
            if (!rc)
                rc = lift_buf_putc(&b, ',', err);
        }
        if (rc)
            break;
        if (u->part[r]) {
            bool treated = u->arm_of[r] != u->control;
            int z = treated ? u->y[r] : 1 - u->y[r];
            rc = lift_buf_printf(&b, err, "%d\n", z);
        } else {
            rc = lift_buf_puts(&b, "\n", err);
        }
    }
    if (rc)
        goto done;
    struct lift_read_opts ro;
    lift_read_opts_init(&ro);
    ro.sep = ',';
    ro.types = types;
    ro.n_types = n_types;
    ro.name = "class-transformation table";
    rc = lift_table_read_mem(b.data, b.len, &ro, &u->ct, err);
done:
    for (size_t i = 0; specs && i < n_types; i++)
        lift_free(specs[i]);
    lift_free(specs);
    lift_free(types);
    lift_buf_release(&b);
    return rc;
}

/* The rows with an arm (arm_of[r] != LIFT_MISSING_CODE), stratified by
 * arm x outcome: one seeded holdout, or seeded k folds. */
enum lift_code uplift_partition(const uint32_t *arm_of, const uint8_t *y,
                                size_t nr, size_t n_levels, unsigned folds,
                                double test_fraction, uint64_t seed,
                                uint8_t *part, unsigned *n_rounds,
                                size_t *n_train, size_t *n_test,
                                struct lift_error *err)
{
    uint32_t *elig = lift_malloc_array(nr ? nr : 1, sizeof *elig);
    uint32_t *strata = lift_malloc_array(nr ? nr : 1, sizeof *strata);
    struct lift_split sp = {0};
    uint32_t *fold = NULL;
    enum lift_code rc = LIFT_OK;
    *n_rounds = 0;
    *n_train = *n_test = 0;
    memset(part, 0, nr);
    if (!elig || !strata) {
        rc = lift_error_nomem(err, "uplift split");
        goto done;
    }
    if (folds == 1 || folds > 254) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "bad number of folds %u: want 0 (one holdout "
                            "split) or 2..254",
                            folds);
        goto done;
    }
    size_t n = 0;
    for (size_t r = 0; r < nr; r++) {
        if (arm_of[r] == LIFT_MISSING_CODE)
            continue;
        elig[n] = (uint32_t)r;
        strata[n] = arm_of[r] * 2 + y[r];
        n++;
    }
    if (folds >= 2) {
        if ((rc = lift_split_kfold(n, strata, 2 * n_levels, folds, seed, &fold,
                                   err)))
            goto done;
        for (size_t i = 0; i < n; i++)
            part[elig[i]] = (uint8_t)(fold[i] + 1);
        *n_rounds = folds;
        *n_test = n;
        *n_train = n - n / folds;
    } else {
        if ((rc = lift_split_holdout(n, strata, 2 * n_levels, test_fraction,
                                     seed, &sp, err)))
            goto done;
        for (size_t i = 0; i < sp.n_test; i++)
            part[elig[sp.test[i]]] = 1;
        for (size_t i = 0; i < sp.n_train; i++)
            part[elig[sp.train[i]]] = 2;
        *n_rounds = 1;
        *n_test = sp.n_test;
        *n_train = sp.n_train;
    }
done:
    if (rc)
        memset(part, 0, nr);
    free(fold);
    lift_split_release(&sp);
    lift_free(elig);
    lift_free(strata);
    return rc;
}

/* ---- the run ------------------------------------------------------------ */

static enum lift_code resolve(struct run *u, size_t *n_elig,
                              struct lift_error *err)
{
    const struct lift_table *t = u->t;
    const struct lift_uplift_opts *o = u->o;
    if (!o->treatment || !o->control || !o->target)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "uplift needs a treatment column, a control "
                              "label and a target");
    enum lift_code rc;
    if ((rc = lift_table_col_index(t, o->treatment, &u->tcol, err)) ||
        (rc = lift_table_col_index(t, o->target, &u->ycol, err)))
        return rc;
    if (u->tcol == u->ycol)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "treatment and target are the same column "
                              "'%s'",
                              o->target);
    enum lift_col_type tt = lift_table_col_type(t, u->tcol);
    if (tt != LIFT_COL_CATEGORICAL && tt != LIFT_COL_TEXT)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "treatment column '%s' is %s; it must be "
                              "categorical (--type %s=categorical)",
                              o->treatment, lift_col_type_name(tt),
                              o->treatment);
    u->n_levels = lift_table_n_levels(t, u->tcol);
    u->control =
        lift_table_find_level(t, u->tcol, o->control, strlen(o->control));
    if (u->control == LIFT_MISSING_CODE)
        return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "no control label '%s' in treatment column "
                              "'%s'",
                              o->control, o->treatment);
    if (u->n_levels < 2)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "treatment column '%s' has one level ('%s'): "
                              "uplift needs a control and at least one "
                              "treatment",
                              o->treatment, o->control);
    size_t nr = lift_table_n_rows(t);
    const uint32_t *codes = lift_table_codes(t, u->tcol);
    enum lift_col_type yt = lift_table_col_type(t, u->ycol);
    const double *yv = lift_table_values(t, u->ycol);
    const uint32_t *yc = lift_table_codes(t, u->ycol);
    double pos_num = 1;
    uint32_t pos_code = LIFT_MISSING_CODE;
    if (yv) {
        if (o->positive &&
            !lift_parse_number(o->positive, strlen(o->positive), &pos_num))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "positive label '%s' is not a number, "
                                  "but target '%s' is %s",
                                  o->positive, o->target,
                                  lift_col_type_name(yt));
    } else {
        if (!o->positive)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "target '%s' is %s: name its positive "
                                  "label (--positive)",
                                  o->target, lift_col_type_name(yt));
        pos_code =
            lift_table_find_level(t, u->ycol, o->positive, strlen(o->positive));
        if (pos_code == LIFT_MISSING_CODE)
            return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                                  "no value '%s' in target column '%s'",
                                  o->positive, o->target);
    }
    *n_elig = 0;
    for (size_t r = 0; r < nr; r++) {
        u->arm_of[r] = codes[r];
        if (codes[r] == LIFT_MISSING_CODE ||
            lift_table_is_missing(t, u->ycol, r)) {
            u->arm_of[r] = LIFT_MISSING_CODE;
            continue;
        }
        if (yv) {
            if (!o->positive && yv[r] != 0 && yv[r] != 1)
                return lift_error_set(
                    err, LIFT_ERR_UNPROCESSABLE,
                    "line %zu: target '%s' holds %g; an uplift outcome is "
                    "0/1 (or name the positive value with --positive)",
                    lift_table_row_line(t, r), o->target, yv[r]);
            u->y[r] = yv[r] == pos_num;
        } else {
            u->y[r] = yc[r] == pos_code;
        }
        (*n_elig)++;
    }
    return LIFT_OK;
}

/* Evaluates uplift scores on the test rows of one treatment. */
static enum lift_code evaluate_one(const struct run *u, uint32_t level,
                                   const double *up, json_t *dst,
                                   struct lift_error *err)
{
    size_t nr = lift_table_n_rows(u->t), n = 0;
    for (size_t r = 0; r < nr; r++)
        n += is_test(u, r) &&
             (u->arm_of[r] == level || u->arm_of[r] == u->control);
    double *s = lift_malloc_array(n ? n : 1, sizeof *s);
    uint8_t *arm = lift_malloc_array(n ? n : 1, 1);
    uint8_t *y = lift_malloc_array(n ? n : 1, 1);
    uint32_t *order = lift_malloc_array(n ? n : 1, sizeof *order);
    double *cx = lift_malloc_array(n + 1, sizeof *cx);
    double *cq = lift_malloc_array(n + 1, sizeof *cq);
    enum lift_code rc = LIFT_OK;
    if (!s || !arm || !y || !order || !cx || !cq) {
        rc = lift_error_nomem(err, "uplift evaluation");
        goto done;
    }
    double mean = 0;
    size_t j = 0;
    for (size_t r = 0; r < nr; r++) {
        if (!is_test(u, r) ||
            (u->arm_of[r] != level && u->arm_of[r] != u->control))
            continue;
        s[j] = up[r];
        arm[j] = u->arm_of[r] == level;
        y[j] = u->y[r];
        mean += up[r];
        j++;
    }
    mean /= (double)n;
    if ((rc = uplift_order(s, n, order, err)))
        goto done;
    struct lift_uplift_stats st;
    size_t pts;
    uplift_eval_sorted(order, s, arm, y, NULL, n, u->o->k, &st, cx, cq, &pts);
    double lo, hi, beats, perfect;
    if ((rc =
             bootstrap(order, s, arm, y, n, u->o->k, u->o->bootstrap,
                       u->o->seed + level, &lo, &hi, &beats, &u->o->pg, err)) ||
        (rc = uplift_perfect_qini(arm, y, n, &perfect, err)))
        goto done;
    json_t *curve = json_array();
    if (!curve) {
        rc = lift_error_nomem(err, "uplift report");
        goto done;
    }
    /* About CURVE_POINTS points: the first point at or past each step. */
    double next = 0;
    for (size_t i = 0; i < pts; i++) {
        if (cx[i] + 1e-12 < next && i + 1 < pts)
            continue;
        json_t *p = json_pack("[ff]", cx[i], cq[i]);
        if (!p || json_array_append_new(curve, p)) {
            json_decref(curve);
            rc = lift_error_nomem(err, "uplift report");
            goto done;
        }
        next = cx[i] + 1.0 / CURVE_POINTS;
    }
    if ((rc = lift_mkt_json_add(dst, "qini", real(st.qini), err)) ||
        (rc = lift_mkt_json_add(dst, "qini_lo", real(lo), err)) ||
        (rc = lift_mkt_json_add(dst, "qini_hi", real(hi), err)) ||
        (rc = lift_mkt_json_add(dst, "qini_perfect", real(perfect), err)) ||
        (rc = lift_mkt_json_add(dst, "qini_normalised",
                                real(perfect > 0 ? st.qini / perfect : NAN),
                                err)) ||
        (rc = lift_mkt_json_add(dst, "auuc", real(st.auuc), err)) ||
        (rc = lift_mkt_json_add(dst, "auuc_random", real(st.auuc_random),
                                err)) ||
        (rc = lift_mkt_json_add(dst, "uplift_at_k", real(st.uplift_at_k),
                                err)) ||
        (rc = lift_mkt_json_add(dst, "top_beats_random", real(beats), err)) ||
        (rc = lift_mkt_json_add(dst, "average_effect", real(mean), err)) ||
        (rc = lift_mkt_json_add(dst, "qini_curve", curve, err)))
        goto done;
done:
    lift_free(s);
    lift_free(arm);
    lift_free(y);
    lift_free(order);
    lift_free(cx);
    lift_free(cq);
    return rc;
}

/* Difference in means on the test rows, normal 95 % interval. */
static json_t *diff_in_means(const struct run *u, uint32_t level)
{
    size_t nr = lift_table_n_rows(u->t);
    double nt = 0, nc = 0, yt = 0, yc = 0;
    for (size_t r = 0; r < nr; r++) {
        if (!is_test(u, r))
            continue;
        if (u->arm_of[r] == level) {
            nt++;
            yt += u->y[r];
        } else if (u->arm_of[r] == u->control) {
            nc++;
            yc += u->y[r];
        }
    }
    double pt = yt / nt, pc = yc / nc, d = pt - pc;
    double se = sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc);
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:I,s:I}", "effect", real(d), "lo",
                     real(d - 1.959964 * se), "hi", real(d + 1.959964 * se),
                     "treated_rate", real(pt), "control_rate", real(pc),
                     "treated", (json_int_t)nt, "control", (json_int_t)nc);
}

static enum lift_code fit_round(struct run *u, unsigned f, uint32_t *rows,
                                struct lift_error *err)
{
    const struct lift_table *t = u->t;
    const struct lift_uplift_opts *o = u->o;
    size_t nr = lift_table_n_rows(t), L = u->n_levels;
    enum lift_code rc = LIFT_OK;
    char what[300];
    if (o->use[EST_T]) {
        double *pc = lift_malloc_array(nr, sizeof *pc);
        double *pt = lift_malloc_array(nr, sizeof *pt);
        if (!pc || !pt) {
            lift_free(pc);
            lift_free(pt);
            return lift_error_nomem(err, "uplift scores");
        }
        size_t n = 0;
        for (size_t r = 0; r < nr; r++)
            if (is_train(u, r, f) && u->arm_of[r] == u->control)
                rows[n++] = (uint32_t)r;
        snprintf(what, sizeof what, "t_learner, arm '%s'", o->control);
        rc = fit_score(u, t, rows, n, o->target, u->pos_text, o->treatment,
                       what, pc, err);
        for (uint32_t l = 0; !rc && l < L; l++) {
            if (l == u->control || !lift_table_level_count(t, u->tcol, l))
                continue;
            n = 0;
            for (size_t r = 0; r < nr; r++)
                if (is_train(u, r, f) && u->arm_of[r] == l)
                    rows[n++] = (uint32_t)r;
            snprintf(what, sizeof what, "t_learner, arm '%s'",
                     lift_table_level(t, u->tcol, l, NULL));
            rc = fit_score(u, t, rows, n, o->target, u->pos_text, o->treatment,
                           what, pt, err);
            for (size_t r = 0; !rc && r < nr; r++)
                if (scored_by(u, r, f))
                    u->up[EST_T][(size_t)l * nr + r] = pt[r] - pc[r];
        }
        lift_free(pc);
        lift_free(pt);
        if (rc)
            return rc;
    }
    if (o->use[EST_CT]) {
        if (!u->ct && (rc = build_ct_table(u, err)))
            return rc;
        double *pz = lift_malloc_array(nr, sizeof *pz);
        uint32_t *crows = lift_malloc_array(nr, sizeof *crows);
        if (!pz || !crows) {
            lift_free(pz);
            lift_free(crows);
            return lift_error_nomem(err, "uplift scores");
        }
        size_t ncon = 0;
        for (size_t r = 0; r < nr; r++)
            if (is_train(u, r, f) && u->arm_of[r] == u->control)
                crows[ncon++] = (uint32_t)r;
        for (uint32_t l = 0; !rc && l < L; l++) {
            if (l == u->control || !lift_table_level_count(t, u->tcol, l))
                continue;
            size_t nt = 0;
            for (size_t r = 0; r < nr; r++)
                if (is_train(u, r, f) && u->arm_of[r] == l)
                    rows[nt++] = (uint32_t)r;
            /* Balance the arms: a seeded subsample of the larger. */
            struct lift_rng rng;
            lift_rng_split(&rng, o->seed, 100 + l);
            size_t keep_t = nt, keep_c = ncon;
            uint32_t *tmp = lift_malloc_array(ncon, sizeof *tmp);
            if (!tmp) {
                rc = lift_error_nomem(err, "uplift rows");
                break;
            }
            memcpy(tmp, crows, ncon * sizeof *tmp);
            if (nt > ncon) {
                lift_rng_shuffle(&rng, rows, nt);
                keep_t = ncon;
            } else if (ncon > nt) {
                lift_rng_shuffle(&rng, tmp, ncon);
                keep_c = nt;
            }
            memcpy(rows + keep_t, tmp, keep_c * sizeof *tmp);
            lift_free(tmp);
            snprintf(what, sizeof what, "class_transformation, treatment '%s'",
                     lift_table_level(t, u->tcol, l, NULL));
            rc = fit_score(u, u->ct, rows, keep_t + keep_c, u->zname, "1", NULL,
                           what, pz, err);
            for (size_t r = 0; !rc && r < nr; r++)
                if (scored_by(u, r, f))
                    u->up[EST_CT][(size_t)l * nr + r] = 2 * pz[r] - 1;
        }
        lift_free(pz);
        lift_free(crows);
    }
    return rc;
}

/* One entry per row with a treatment and an outcome: its line, the
 * uplift of each treatment by the first estimator used, the best. */
static enum lift_code customer_rows(const struct run *u, json_t *doc,
                                    struct lift_error *err)
{
    const struct lift_table *t = u->t;
    const struct lift_uplift_opts *o = u->o;
    size_t nr = lift_table_n_rows(t), L = u->n_levels;
    int e = o->use[EST_T] ? EST_T : EST_CT;
    json_t *rows = json_array();
    enum lift_code rc = lift_mkt_json_add(doc, "customer_rows", rows, err);
    if (!rc)
        rc = lift_mkt_json_add(doc, "customer_estimator",
                               json_string(est_name[e]), err);
    for (size_t r = 0; r < nr && !rc; r++) {
        if (u->arm_of[r] == LIFT_MISSING_CODE)
            continue;
        json_t *up = json_object();
        const char *best = "none";
        double bv = 0;
        for (uint32_t l = 0; l < L && up; l++) {
            if (l == u->control || !lift_table_level_count(t, u->tcol, l))
                continue;
            double v = u->up[e][(size_t)l * nr + r];
            const char *lab = lift_table_level(t, u->tcol, l, NULL);
            if (json_object_set_new(up, lab, real(v))) {
                json_decref(up);
                up = NULL;
                break;
            }
            if (v * o->value - o->cost > bv) {
                bv = v * o->value - o->cost;
                best = lab;
            }
        }
        json_t *row = up ? json_pack("{s:I,s:o,s:s}", "line",
                                     (json_int_t)lift_table_row_line(t, r),
                                     "uplift", up, "best", best)
                         : NULL;
        if (!row || json_array_append_new(rows, row))
            rc = lift_error_nomem(err, "uplift report");
    }
    return rc;
}

static enum lift_code report(struct run *u, json_t *doc, size_t n_elig,
                             size_t n_train, size_t n_test,
                             struct lift_error *err)
{
    const struct lift_table *t = u->t;
    const struct lift_uplift_opts *o = u->o;
    size_t nr = lift_table_n_rows(t), L = u->n_levels;
    enum lift_code rc;
    if ((rc = lift_mkt_json_add(doc, "treatment", json_string(o->treatment),
                                err)) ||
        (rc =
             lift_mkt_json_add(doc, "control", json_string(o->control), err)) ||
        (rc = lift_mkt_json_add(doc, "target", json_string(o->target), err)) ||
        (rc = lift_mkt_json_add(
             doc, "positive",
             o->positive ? json_string(o->positive) : json_null(), err)) ||
        (rc = lift_mkt_json_add(doc, "rows", json_integer((json_int_t)n_elig),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "train_rows",
                                json_integer((json_int_t)n_train), err)) ||
        (rc = lift_mkt_json_add(doc, "test_rows",
                                json_integer((json_int_t)n_test), err)) ||
        (rc = lift_mkt_json_add(
             doc, "test_fraction",
             o->folds ? json_null() : json_real(o->test_fraction), err)) ||
        (rc = lift_mkt_json_add(doc, "folds",
                                json_integer((json_int_t)o->folds), err)) ||
        (rc = lift_mkt_json_add(
             doc, "evaluation",
             json_string(o->folds ? "cross_fitting" : "holdout"), err)) ||
        (rc = lift_mkt_json_add(doc, "k", json_real(o->k), err)) ||
        (rc = lift_mkt_json_add(doc, "bootstrap",
                                json_integer((json_int_t)o->bootstrap), err)) ||
        (rc = lift_mkt_json_add(doc, "seed", json_integer((json_int_t)o->seed),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "value", json_real(o->value), err)) ||
        (rc = lift_mkt_json_add(doc, "cost", json_real(o->cost), err)))
        return rc;
    json_t *arms = json_array(), *trs = json_array();
    if ((rc = lift_mkt_json_add(doc, "arms", arms, err)) ||
        (rc = lift_mkt_json_add(doc, "treatments", trs, err)))
        return rc;
    for (uint32_t l = 0; l < L; l++) {
        double n = 0, pos = 0;
        for (size_t r = 0; r < nr; r++)
            if (u->arm_of[r] == l) {
                n++;
                pos += u->y[r];
            }
        if (n == 0)
            continue;
        json_t *a = json_pack("{s:s,s:I,s:o}", "label",
                              lift_table_level(t, u->tcol, l, NULL), "rows",
                              (json_int_t)n, "rate", real(pos / n));
        if (!a || json_array_append_new(arms, a))
            return lift_error_nomem(err, "uplift report");
        if (l == u->control)
            continue;
        json_t *tr = json_object(), *ests = json_object();
        if (!tr || json_array_append_new(trs, tr))
            return lift_error_nomem(err, "uplift report");
        if ((rc = lift_mkt_json_add(
                 tr, "label",
                 json_string(lift_table_level(t, u->tcol, l, NULL)), err)) ||
            (rc = lift_mkt_json_add(tr, "difference_in_means",
                                    diff_in_means(u, l), err)) ||
            (rc = lift_mkt_json_add(tr, "estimators", ests, err)))
            return rc;
        for (int e = 0; e < N_EST; e++) {
            if (!o->use[e])
                continue;
            json_t *ej = json_object();
            if ((rc = lift_mkt_json_add(ests, est_name[e], ej, err)) ||
                (rc = evaluate_one(u, l, u->up[e] + (size_t)l * nr, ej, err)))
                return rc;
        }
    }
    /* Best treatment and targeting, per estimator, over eligible rows. */
    json_t *best = json_object(), *tgt = json_object();
    if ((rc = lift_mkt_json_add(doc, "best_treatment", best, err)) ||
        (rc = lift_mkt_json_add(doc, "targeting", tgt, err)))
        return rc;
    size_t *cnt = lift_calloc(L + 1, sizeof *cnt);
    if (!cnt)
        return lift_error_nomem(err, "uplift report");
    for (int e = 0; e < N_EST && !rc; e++) {
        if (!o->use[e])
            continue;
        memset(cnt, 0, (L + 1) * sizeof *cnt);
        double targeted = 0, resp = 0, profit = 0;
        for (size_t r = 0; r < nr; r++) {
            if (u->arm_of[r] == LIFT_MISSING_CODE)
                continue;
            size_t bl = L;
            double bv = 0, bu = 0;
            for (uint32_t l = 0; l < L; l++) {
                if (l == u->control || !lift_table_level_count(t, u->tcol, l))
                    continue;
                double up = u->up[e][(size_t)l * nr + r];
                double v = up * o->value - o->cost;
                if (v > bv) {
                    bv = v;
                    bu = up;
                    bl = l;
                }
            }
            cnt[bl]++;
            if (bl < L) {
                targeted++;
                resp += bu;
                profit += bv;
            }
        }
        json_t *bj = json_object();
        if ((rc = lift_mkt_json_add(best, est_name[e], bj, err)))
            break;
        for (uint32_t l = 0; l <= L && !rc; l++) {
            if (l < L &&
                (l == u->control || !lift_table_level_count(t, u->tcol, l)))
                continue;
            rc = lift_mkt_json_add(
                bj, l < L ? lift_table_level(t, u->tcol, l, NULL) : "none",
                json_integer((json_int_t)cnt[l]), err);
        }
        if (!rc)
            rc = lift_mkt_json_add(tgt, est_name[e],
                                   json_pack("{s:I,s:o,s:o}", "targeted",
                                             (json_int_t)targeted,
                                             "expected_responses", real(resp),
                                             "expected_profit", real(profit)),
                                   err);
    }
    lift_free(cnt);
    if (!rc && o->customers)
        rc = customer_rows(u, doc, err);
    return rc;
}

enum lift_code lift_uplift_run(const struct lift_table *t,
                               const struct lift_uplift_opts *o, char **json,
                               struct lift_error *err)
{
    *json = NULL;
    size_t nr = lift_table_n_rows(t);
    struct run u = {.t = t, .o = o};
    uint32_t *rows = NULL;
    json_t *doc = NULL;
    enum lift_code rc = LIFT_OK;
    if (nr > UINT32_MAX)
        return lift_error_set(err, LIFT_ERR_LIMIT, "more than %u rows",
                              UINT32_MAX);
    u.arm_of = lift_malloc_array(nr, sizeof *u.arm_of);
    u.y = lift_calloc(nr, 1);
    u.part = lift_calloc(nr, 1);
    rows = lift_malloc_array(nr, sizeof *rows);
    if (!u.arm_of || !u.y || !u.part || !rows) {
        rc = lift_error_nomem(err, "uplift");
        goto done;
    }
    size_t n_elig = 0;
    if ((rc = resolve(&u, &n_elig, err)))
        goto done;
    u.pos_text = o->positive                    ? o->positive
                 : lift_table_values(t, u.ycol) ? "1"
                                                : NULL;
    size_t L = u.n_levels;
    /* Each arm needs rows on both sides of the split. */
    for (uint32_t l = 0; l < L; l++) {
        size_t c = 0;
        for (size_t r = 0; r < nr; r++)
            c += u.arm_of[r] == l;
        if (lift_table_level_count(t, u.tcol, l) && c < 4) {
            rc = lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                "arm '%s' of '%s' has %zu rows with an "
                                "outcome; uplift needs at least 4",
                                lift_table_level(t, u.tcol, l, NULL),
                                o->treatment, c);
            goto done;
        }
    }
    size_t n_train, n_test;
    if ((rc = uplift_partition(u.arm_of, u.y, nr, L, o->folds, o->test_fraction,
                               o->seed, u.part, &u.n_rounds, &n_train, &n_test,
                               err)))
        goto done;
    for (int e = 0; e < N_EST; e++) {
        if (!o->use[e])
            continue;
        u.up[e] = lift_calloc(L * nr, sizeof(double));
        if (!u.up[e]) {
            rc = lift_error_nomem(err, "uplift scores");
            goto done;
        }
    }
    if ((rc = lift_mkt_progress(&o->pg, "check", 0, 0, err)))
        goto done;
    for (unsigned f = 0; f < u.n_rounds; f++)
        if ((rc = lift_mkt_progress(&o->pg, "round", f + 1, u.n_rounds, err)) ||
            (rc = fit_round(&u, f, rows, err)))
            goto done;
    if (!(doc = json_object())) {
        rc = lift_error_nomem(err, "uplift report");
        goto done;
    }
    if ((rc = report(&u, doc, n_elig, n_train, n_test, err)))
        goto done;
    if (!(*json = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10))))
        rc = lift_error_nomem(err, "uplift report");
done:
    json_decref(doc);
    lift_table_free(u.ct);
    lift_free(u.zname);
    for (int e = 0; e < N_EST; e++)
        lift_free(u.up[e]);
    lift_free(u.arm_of);
    lift_free(u.y);
    lift_free(u.part);
    lift_free(rows);
    return rc;
}

void lift_uplift_opts_set_progress(struct lift_uplift_opts *o,
                                   lift_progress_fn fn, void *user)
{
    o->pg.fn = fn;
    o->pg.user = user;
}

enum lift_code lift_uplift_check(const struct lift_table *t,
                                 const struct lift_uplift_opts *o,
                                 struct lift_error *err)
{
    struct lift_uplift_opts c = *o;
    bool reached = false;
    char *json = NULL;
    c.pg.fn = lift_mkt_check_stop;
    c.pg.user = &reached;
    enum lift_code rc = lift_uplift_run(t, &c, &json, err);
    free(json);
    return lift_mkt_check_result(rc, reached, err);
}
