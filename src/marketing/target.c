/*
 * marketing/target.c - campaign targeting: rank customers by expected
 * profit and choose how many to contact within a limit.
 *
 * Maths. Customer i converts with calibrated probability p_i and is then
 * worth v_i; a contact costs c. Its expected profit is e_i = p_i v_i - c.
 * Contacting a set S earns E[profit] = sum_S p_i v_i - |S| c, and for a
 * given |S| = k the best set is the k largest e_i, so the plan ranks rows
 * by e_i once (stable merge sort of eval/metrics.h: equal e_i in row
 * order) and only chooses k. Prefix sums of p_i and p_i v_i give every
 * k's totals in O(1), so the choice scans k = 0..n:
 *   none          argmax_k profit(k)
 *   budget B      argmax over k c <= B
 *   max contacts  argmax over k <= N
 *   min ROI R     argmax over k with profit(k) >= R k c (k = 0 allowed)
 * Ties keep the smaller k: the same money for fewer contacts. Because e_i
 * decreases along the rank, the cumulative ROI decreases too, but the
 * scan does not rely on it.
 *
 * Contacting k customers at random earns k * mean(p v) - k c in
 * expectation. With labels (the table holds the model's target), the same
 * prefix sums over y_i and y_i v_i give the profit realised on the truth.
 *
 * Cost: one prediction pass, one O(n log n) sort, O(n) memory (a few
 * doubles per row).
 */
#include <lift/marketing.h>
#include <lift/metrics.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "marketing/target.h"

void lift_campaign_opts_init(struct lift_campaign_opts *o)
{
    o->cost = 0;
    o->value = NAN;
    o->value_col = NULL;
    o->budget = NAN;
    o->max_contacts = NAN;
    o->min_roi = NAN;
}

enum lift_code lift_campaign_opts_check(const struct lift_campaign_opts *o,
                                        struct lift_error *err)
{
    if (!isfinite(o->cost) || o->cost < 0)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "cost per contact must be a number >= 0, not %g",
                              o->cost);
    if (o->value_col && !isnan(o->value))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "give a value per conversion or a value "
                              "column ('%s'), not both",
                              o->value_col);
    if (!o->value_col && isnan(o->value))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "value per conversion is missing: give a value "
                              "> 0 or a value column");
    if (!o->value_col && !(isfinite(o->value) && o->value > 0))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "value per conversion must be > 0, not %g",
                              o->value);
    int n_limits =
        !isnan(o->budget) + !isnan(o->max_contacts) + !isnan(o->min_roi);
    if (n_limits > 1)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "conflicting limits: give one of budget, "
                              "max_contacts or min_roi, not %d",
                              n_limits);
    if (!isnan(o->budget)) {
        if (o->cost <= 0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "a budget needs a cost per contact > 0");
        if (!isfinite(o->budget) || o->budget < o->cost)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "budget %g is below the cost of one "
                                  "contact (%g)",
                                  o->budget, o->cost);
    }
    if (!isnan(o->max_contacts) &&
        (!isfinite(o->max_contacts) || o->max_contacts < 1 ||
         o->max_contacts != floor(o->max_contacts) || o->max_contacts > 1e15))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "max_contacts must be a whole number >= 1, "
                              "not %g",
                              o->max_contacts);
    if (!isnan(o->min_roi)) {
        if (!isfinite(o->min_roi))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "min_roi must be a finite number");
        if (o->cost <= 0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "a minimum ROI needs a cost per contact > 0");
    }
    return LIFT_OK;
}

void lift_campaign_free(struct lift_campaign *c)
{
    if (!c)
        return;
    lift_free(c->value_col);
    lift_free(c->rank);
    lift_free(c->p);
    lift_free(c->v);
    lift_free(c->cum_conv);
    lift_free(c->cum_rev);
    lift_free(c->y);
    lift_free(c->real_conv);
    lift_free(c->real_rev);
    lift_free(c);
}

size_t lift_campaign_n_rows(const struct lift_campaign *c)
{
    return c->n;
}

size_t lift_campaign_n_selected(const struct lift_campaign *c)
{
    return c->k;
}

void lift_campaign_ranked(const struct lift_campaign *c, size_t i, size_t *row,
                          double *score, double *profit)
{
    size_t r = c->rank[i].row;
    if (row)
        *row = r;
    if (score)
        *score = c->p[r];
    if (profit)
        *profit = c->rank[i].score;
}

static void totals(size_t k, double conv, double rev, double cost,
                   struct campaign_totals *out)
{
    out->contacts = k;
    out->conversions = conv;
    out->revenue = rev;
    out->cost = (double)k * cost;
    out->profit = rev - out->cost;
    out->roi = out->cost > 0 ? out->profit / out->cost : NAN;
}

void campaign_expected(const struct lift_campaign *c, size_t k,
                       struct campaign_totals *out)
{
    totals(k, c->cum_conv[k], c->cum_rev[k], c->cost, out);
}

void campaign_realised(const struct lift_campaign *c, size_t k,
                       struct campaign_totals *out)
{
    totals(k, c->real_conv[k], c->real_rev[k], c->cost, out);
}

size_t campaign_curve_k(const struct lift_campaign *c, size_t j)
{
    return (size_t)llround((double)j * (double)c->n / LIFT_CURVE_POINTS);
}

/* Fills c->v from the options: the constant, or the value column. */
static enum lift_code read_values(struct lift_campaign *c,
                                  const struct lift_table *t,
                                  const struct lift_campaign_opts *o,
                                  struct lift_error *err)
{
    if (!o->value_col) {
        for (size_t i = 0; i < c->n; i++)
            c->v[i] = o->value;
        return LIFT_OK;
    }
    size_t col;
    enum lift_code rc = lift_table_col_index(t, o->value_col, &col, err);
    if (rc) {
        lift_error_prefix(err, "value column");
        return rc;
    }
    enum lift_col_type type = lift_table_col_type(t, col);
    if (type != LIFT_COL_NUMERIC)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "value column '%s' is %s, not numeric",
                              o->value_col, lift_col_type_name(type));
    const double *x = lift_table_values(t, col);
    for (size_t i = 0; i < c->n; i++) {
        if (isnan(x[i])) {
            c->v[i] = 0;
            c->value_missing++;
        } else if (!isfinite(x[i]) || x[i] < 0) {
            return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                                  "line %zu: value column '%s' holds %g; "
                                  "values must be finite and >= 0",
                                  lift_table_row_line(t, i), o->value_col,
                                  x[i]);
        } else {
            c->v[i] = x[i];
        }
    }
    return LIFT_OK;
}

/* The labels, when the table holds the model's target column. */
static enum lift_code read_labels(struct lift_campaign *c,
                                  const struct lift_model *m,
                                  const struct lift_table *t,
                                  struct lift_error *err)
{
    size_t col;
    struct lift_error ignored;
    if (lift_table_col_index(t, lift_model_target(m), &col, &ignored))
        return LIFT_OK;
    double *y = lift_malloc_array(c->n, sizeof *y);
    c->y = lift_malloc(c->n);
    c->real_conv = lift_malloc_array(c->n + 1, sizeof *c->real_conv);
    c->real_rev = lift_malloc_array(c->n + 1, sizeof *c->real_rev);
    enum lift_code rc = LIFT_OK;
    if (!y || !c->y || !c->real_conv || !c->real_rev) {
        rc = lift_error_nomem(err, "campaign labels");
        goto done;
    }
    if ((rc = lift_model_labels(m, t, NULL, c->n, y, err)))
        goto done;
    for (size_t i = 0; i < c->n; i++) {
        if (isnan(y[i]))
            c->no_target++;
        c->y[i] = y[i] == 1.0;
        c->positives += c->y[i];
    }
    c->real_conv[0] = c->real_rev[0] = 0;
    for (size_t i = 0; i < c->n; i++) {
        size_t r = c->rank[i].row;
        c->real_conv[i + 1] = c->real_conv[i] + c->y[r];
        c->real_rev[i + 1] = c->real_rev[i] + c->y[r] * c->v[r];
    }
    c->has_labels = true;
done:
    lift_free(y);
    return rc;
}

/* Chooses the cut-off (see the file comment). */
static void choose(struct lift_campaign *c)
{
    size_t kmax = c->n;
    if (c->limit == LIMIT_BUDGET) {
        double m = floor(c->limit_value / c->cost);
        if (m < (double)kmax)
            kmax = (size_t)m;
    } else if (c->limit == LIMIT_CONTACTS && c->limit_value < (double)kmax) {
        kmax = (size_t)c->limit_value;
    }
    size_t best = 0;
    double best_profit = 0;
    for (size_t k = 1; k <= kmax; k++) {
        double cost = (double)k * c->cost;
        double profit = c->cum_rev[k] - cost;
        if (c->limit == LIMIT_ROI && profit < c->limit_value * cost)
            continue;
        if (profit > best_profit) {
            best_profit = profit;
            best = k;
        }
    }
    c->k = best;
}

enum lift_code lift_campaign_plan(const struct lift_model *m,
                                  const struct lift_table *t,
                                  const struct lift_campaign_opts *o,
                                  struct lift_campaign **out,
                                  struct lift_error *err)
{
    *out = NULL;
    enum lift_code rc = lift_campaign_opts_check(o, err);
    if (rc)
        return rc;
    if (lift_model_task(m) != LIFT_TASK_BINARY)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "campaign targeting needs a binary model, not "
                              "a %s one",
                              lift_task_name(lift_model_task(m)));
    size_t n = lift_table_n_rows(t);
    if (n == 0)
        return lift_error_set(err, LIFT_ERR_INVALID, "no rows to target");
    struct lift_campaign *c = lift_calloc(1, sizeof *c);
    if (!c)
        return lift_error_nomem(err, "campaign");
    c->n = n;
    c->cost = o->cost;
    c->value = o->value_col ? NAN : o->value;
    if (!isnan(o->budget)) {
        c->limit = LIMIT_BUDGET;
        c->limit_value = o->budget;
    } else if (!isnan(o->max_contacts)) {
        c->limit = LIMIT_CONTACTS;
        c->limit_value = o->max_contacts;
    } else if (!isnan(o->min_roi)) {
        c->limit = LIMIT_ROI;
        c->limit_value = o->min_roi;
    }
    c->p = lift_malloc_array(n, sizeof *c->p);
    c->v = lift_malloc_array(n, sizeof *c->v);
    c->cum_conv = lift_malloc_array(n + 1, sizeof *c->cum_conv);
    c->cum_rev = lift_malloc_array(n + 1, sizeof *c->cum_rev);
    double *e = lift_malloc_array(n, sizeof *e);
    if (!c->p || !c->v || !c->cum_conv || !c->cum_rev || !e ||
        (o->value_col && !(c->value_col = lift_strdup(o->value_col)))) {
        rc = lift_error_nomem(err, "campaign");
        goto done;
    }
    if ((rc = read_values(c, t, o, err)) ||
        (rc = lift_model_predict_table(m, t, NULL, n, c->p, err)))
        goto done;
    for (size_t i = 0; i < n; i++) {
        if (isnan(c->p[i])) {
            rc = lift_error_set(err, LIFT_ERR_INTERNAL,
                                "line %zu: the model gave no score",
                                lift_table_row_line(t, i));
            goto done;
        }
        e[i] = c->p[i] * c->v[i] - c->cost;
    }
    if ((rc = lift_rank_desc(e, n, &c->rank, err)))
        goto done;
    c->cum_conv[0] = c->cum_rev[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = c->rank[i].row;
        c->cum_conv[i + 1] = c->cum_conv[i] + c->p[r];
        c->cum_rev[i + 1] = c->cum_rev[i] + c->p[r] * c->v[r];
    }
    if ((rc = read_labels(c, m, t, err)))
        goto done;
    choose(c);
done:
    lift_free(e);
    if (rc)
        lift_campaign_free(c);
    else
        *out = c;
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *integer(size_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *totals_json(const struct campaign_totals *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "contacts", integer(s->contacts));
    json_object_set_new(o, "conversions", real(s->conversions));
    json_object_set_new(o, "revenue", real(s->revenue));
    json_object_set_new(o, "cost", real(s->cost));
    json_object_set_new(o, "profit", real(s->profit));
    json_object_set_new(o, "roi", real(s->roi));
    return o;
}

static const char *limit_name(enum campaign_limit l)
{
    switch (l) {
    case LIMIT_BUDGET:
        return "budget";
    case LIMIT_CONTACTS:
        return "max_contacts";
    case LIMIT_ROI:
        return "min_roi";
    default:
        return "none";
    }
}

/* Appends the cell of column col, row r, as text (a JSON string). */
static json_t *cell_json(const struct lift_table *t, size_t col, size_t r)
{
    const uint32_t *codes = lift_table_codes(t, col);
    if (codes)
        return codes[r] == LIFT_MISSING_CODE
                   ? json_null()
                   : json_string(lift_table_level(t, col, codes[r], NULL));
    double x = lift_table_values(t, col)[r];
    if (isnan(x))
        return json_null();
    char num[64];
    snprintf(num, sizeof num, "%.15g", x);
    return json_string(num);
}

static void add_curves(json_t *doc, const struct lift_campaign *c)
{
    json_t *profit = json_array(), *gain = json_array();
    size_t prev = SIZE_MAX;
    bool cut_done = false;
    for (size_t j = 0; j <= LIFT_CURVE_POINTS; j++) {
        size_t ks[2], nk = 0, k = campaign_curve_k(c, j);
        if (!cut_done && c->k <= k) {
            ks[nk++] = c->k;
            cut_done = true;
        }
        ks[nk++] = k;
        for (size_t q = 0; q < nk; q++) {
            k = ks[q];
            if (k == prev)
                continue;
            prev = k;
            struct campaign_totals s;
            campaign_expected(c, k, &s);
            json_t *pp = json_object(), *gp = json_object();
            double frac = (double)k / (double)c->n;
            json_object_set_new(pp, "contacts", integer(k));
            json_object_set_new(pp, "fraction", real(frac));
            json_object_set_new(pp, "profit", real(s.profit));
            json_object_set_new(gp, "contacts", integer(k));
            json_object_set_new(gp, "fraction", real(frac));
            double total = c->cum_conv[c->n];
            json_object_set_new(gp, "expected_gain",
                                real(total > 0 ? s.conversions / total : NAN));
            if (c->has_labels) {
                struct campaign_totals r;
                campaign_realised(c, k, &r);
                json_object_set_new(pp, "realised_profit", real(r.profit));
                json_object_set_new(
                    gp, "gain",
                    real(c->positives ? r.conversions / (double)c->positives
                                      : NAN));
            }
            if (k == c->k) {
                json_object_set_new(pp, "cutoff", json_true());
                json_object_set_new(gp, "cutoff", json_true());
            }
            json_array_append_new(profit, pp);
            json_array_append_new(gain, gp);
        }
    }
    json_object_set_new(doc, "profit_curve", profit);
    json_object_set_new(doc, "gain_curve", gain);
}

static enum lift_code add_labels(json_t *doc, const struct lift_campaign *c,
                                 struct lift_error *err)
{
    json_object_set_new(doc, "positives", integer(c->positives));
    json_object_set_new(doc, "rows_missing_target", integer(c->no_target));
    json_t *r = json_object();
    struct campaign_totals s;
    campaign_realised(c, c->k, &s);
    json_object_set_new(r, "plan", totals_json(&s));
    campaign_realised(c, c->n, &s);
    json_object_set_new(r, "everyone", totals_json(&s));
    static const unsigned tops[] = {10, 20, 30};
    for (size_t i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "top_%u", tops[i]);
        campaign_realised(c, (size_t)llround((double)c->n * tops[i] / 100.0),
                          &s);
        json_object_set_new(r, key, totals_json(&s));
    }
    json_object_set_new(doc, "realised", r);
    if (c->n < LIFT_DECILES)
        return LIFT_OK;
    struct lift_gains_row g[LIFT_DECILES];
    enum lift_code rc =
        lift_metrics_gains(c->y, c->p, c->n, LIFT_DECILES, g, err);
    if (rc)
        return rc;
    json_t *lt = json_array();
    for (size_t d = 0; d < LIFT_DECILES; d++)
        json_array_append_new(
            lt,
            json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "decile",
                      (json_int_t)(d + 1), "rows", (json_int_t)g[d].rows,
                      "positives", (json_int_t)g[d].positives, "rate",
                      real(g[d].rate), "lift", real(g[d].lift), "cum_gain",
                      real(g[d].cum_gain), "cum_lift", real(g[d].cum_lift)));
    json_object_set_new(doc, "lift_table", lt);
    return LIFT_OK;
}

enum lift_code lift_campaign_json(const struct lift_campaign *c,
                                  const struct lift_table *t,
                                  const char *id_col, size_t n_list,
                                  char **json, struct lift_error *err)
{
    *json = NULL;
    size_t idc = 0;
    enum lift_code rc;
    if (t && id_col && (rc = lift_table_col_index(t, id_col, &idc, err)))
        return rc;
    json_t *doc = json_object();
    json_object_set_new(doc, "rows", integer(c->n));
    json_t *eco = json_object();
    json_object_set_new(eco, "cost", real(c->cost));
    if (c->value_col) {
        json_object_set_new(eco, "value_col", json_string(c->value_col));
        json_object_set_new(eco, "value_missing", integer(c->value_missing));
    } else {
        json_object_set_new(eco, "value", real(c->value));
    }
    json_object_set_new(doc, "economics", eco);
    json_object_set_new(
        doc, "limit",
        json_pack("{s:s,s:o}", "kind", limit_name(c->limit), "value",
                  c->limit ? real(c->limit_value) : json_null()));
    json_t *cut = json_object();
    json_object_set_new(cut, "contacts", integer(c->k));
    json_object_set_new(cut, "fraction", real((double)c->k / (double)c->n));
    if (c->k) {
        size_t last = c->rank[c->k - 1].row;
        json_object_set_new(cut, "score", real(c->p[last]));
        json_object_set_new(cut, "expected_profit_last",
                            real(c->rank[c->k - 1].score));
    }
    json_object_set_new(doc, "cutoff", cut);
    struct campaign_totals s;
    campaign_expected(c, c->k, &s);
    json_object_set_new(doc, "plan", totals_json(&s));
    campaign_expected(c, c->n, &s);
    json_object_set_new(doc, "everyone", totals_json(&s));
    /* random: k rows drawn uniformly earn k times the mean of p v */
    double mean_conv = c->cum_conv[c->n] / (double)c->n;
    double mean_rev = c->cum_rev[c->n] / (double)c->n;
    totals(c->k, mean_conv * (double)c->k, mean_rev * (double)c->k, c->cost,
           &s);
    json_object_set_new(doc, "random", totals_json(&s));
    if (c->has_labels && (rc = add_labels(doc, c, err))) {
        json_decref(doc);
        return rc;
    }
    add_curves(doc, c);
    json_t *sel = json_array();
    for (size_t i = 0; i < n_list && i < c->k; i++) {
        size_t r = c->rank[i].row;
        json_t *o = json_object();
        json_object_set_new(o, "row", integer(r + 1));
        if (t && id_col)
            json_object_set_new(o, "id", cell_json(t, idc, r));
        json_object_set_new(o, "score", real(c->p[r]));
        json_object_set_new(o, "expected_profit", real(c->rank[i].score));
        json_array_append_new(sel, o);
    }
    json_object_set_new(doc, "selected", sel);
    *json = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(doc);
    if (!*json)
        return lift_error_nomem(err, "campaign document");
    return LIFT_OK;
}

/* ---- CSV ---------------------------------------------------------------- */

static enum lift_code csv_field(struct lift_buf *b, const char *s,
                                struct lift_error *err)
{
    if (!strpbrk(s, ",\"\r\n"))
        return lift_buf_puts(b, s, err);
    enum lift_code rc = lift_buf_putc(b, '"', err);
    for (; !rc && *s; s++)
        if (!(rc = *s == '"' ? lift_buf_putc(b, '"', err) : LIFT_OK))
            rc = lift_buf_putc(b, *s, err);
    return rc ? rc : lift_buf_putc(b, '"', err);
}

enum lift_code lift_campaign_csv(const struct lift_campaign *c,
                                 const struct lift_table *t, const char *id_col,
                                 char **text, size_t *len,
                                 struct lift_error *err)
{
    *text = NULL;
    *len = 0;
    size_t idc = 0;
    enum lift_code rc;
    if (id_col && (rc = lift_table_col_index(t, id_col, &idc, err)))
        return rc;
    struct lift_buf b;
    lift_buf_init(&b, 0, "selection");
    rc = csv_field(&b, id_col ? id_col : "row", err);
    if (!rc)
        rc = lift_buf_puts(&b, ",score,expected_profit\n", err);
    for (size_t i = 0; !rc && i < c->k; i++) {
        size_t r = c->rank[i].row;
        if (!id_col) {
            rc = lift_buf_printf(&b, err, "%zu", r + 1);
        } else {
            const uint32_t *codes = lift_table_codes(t, idc);
            if (codes && codes[r] != LIFT_MISSING_CODE)
                rc = csv_field(&b, lift_table_level(t, idc, codes[r], NULL),
                               err);
            else if (!codes && !isnan(lift_table_values(t, idc)[r]))
                rc = lift_buf_printf(&b, err, "%.15g",
                                     lift_table_values(t, idc)[r]);
        }
        if (!rc)
            rc = lift_buf_printf(&b, err, ",%.9g,%.9g\n", c->p[r],
                                 c->rank[i].score);
    }
    if (rc) {
        lift_buf_release(&b);
        return rc;
    }
    *text = lift_buf_detach(&b, len);
    return LIFT_OK;
}
