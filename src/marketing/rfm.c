/*
 * marketing/rfm.c - RFM scores and segments, from columns or from
 * transactions.
 *
 * Transactions are grouped by customer: a categorical or text id column
 * already carries a dense code per distinct id; a numeric id is mapped
 * to dense codes by sorting its distinct values. One pass then keeps per
 * customer the last date, the count and the sum of amounts. Scores come
 * from one sort of each measure: the number of values strictly below
 * (or above) a value is a binary search in the sorted array, so ties get
 * one score whatever their order. O(n log n) overall.
 */
#include <lift/rfm.h>
#include <lift/table.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "data/parse.h"
#include "marketing/common.h"
#include "marketing/rfm.h"

#define N_SEG 8
static const char *const seg_names[N_SEG] = {
    "champions", "loyal",      "potential loyalists", "new",
    "at risk",   "can't lose", "hibernating",         "lost"};

enum { CHAMP, LOYAL, POTENTIAL, NEW, AT_RISK, CANT_LOSE, HIBERNATING, LOST };

/* rf_table[5 - r][f - 1], the table of include/lift/rfm.h. */
static const unsigned char rf_table[5][5] = {
    {NEW, POTENTIAL, POTENTIAL, CHAMP, CHAMP},
    {NEW, POTENTIAL, POTENTIAL, LOYAL, CHAMP},
    {HIBERNATING, HIBERNATING, POTENTIAL, LOYAL, LOYAL},
    {HIBERNATING, HIBERNATING, AT_RISK, AT_RISK, CANT_LOSE},
    {LOST, LOST, AT_RISK, AT_RISK, CANT_LOSE},
};

const char *lift_rfm_segment(unsigned r, unsigned f)
{
    if (r < 1 || r > 5 || f < 1 || f > 5)
        return "unscored";
    return seg_names[rf_table[5 - r][f - 1]];
}

struct lift_rfm_opts {
    char *recency, *frequency, *monetary;
    char *customer, *date, *amount;
    double as_of; /* NAN: the day after the latest purchase */
    char *as_of_text;
    bool customers;
    struct lift_mkt_progress pg;
};

enum lift_code lift_rfm_opts_new(struct lift_rfm_opts **out,
                                 struct lift_error *err)
{
    struct lift_rfm_opts *o = lift_calloc(1, sizeof *o);
    *out = NULL;
    if (!o)
        return lift_error_nomem(err, "rfm options");
    o->as_of = NAN;
    *out = o;
    return LIFT_OK;
}

void lift_rfm_opts_free(struct lift_rfm_opts *o)
{
    if (!o)
        return;
    lift_free(o->recency);
    lift_free(o->frequency);
    lift_free(o->monetary);
    lift_free(o->customer);
    lift_free(o->date);
    lift_free(o->amount);
    lift_free(o->as_of_text);
    lift_free(o);
}

enum lift_code lift_rfm_opts_set(struct lift_rfm_opts *o, const char *key,
                                 const char *value, struct lift_error *err)
{
    if (!key || !value)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "missing option key or value");
    if (strcmp(key, "recency") == 0)
        return lift_mkt_text(&o->recency, key, value, err);
    if (strcmp(key, "frequency") == 0)
        return lift_mkt_text(&o->frequency, key, value, err);
    if (strcmp(key, "monetary") == 0)
        return lift_mkt_text(&o->monetary, key, value, err);
    if (strcmp(key, "customer") == 0)
        return lift_mkt_text(&o->customer, key, value, err);
    if (strcmp(key, "date") == 0)
        return lift_mkt_text(&o->date, key, value, err);
    if (strcmp(key, "amount") == 0)
        return lift_mkt_text(&o->amount, key, value, err);
    if (strcmp(key, "as-of") == 0) {
        double v;
        if (!lift_parse_date(value, strlen(value), &v))
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad value '%s' for 'as-of': want an ISO "
                                  "8601 date (YYYY-MM-DD)",
                                  value);
        o->as_of = v;
        return lift_mkt_text(&o->as_of_text, key, value, err);
    }
    if (strcmp(key, "customers") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return lift_error_set(err, LIFT_ERR_INVALID,
                                  "bad value '%s' for 'customers': want true "
                                  "or false",
                                  value);
        o->customers = strcmp(value, "true") == 0;
        return LIFT_OK;
    }
    return lift_error_set(err, LIFT_ERR_INVALID, "unknown option '%s'", key);
}

/* ---- scores ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Values of s[0..n) strictly below v. */
static size_t below(const double *s, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Values of s[0..n) strictly above v. */
static size_t above(const double *s, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n - lo;
}

enum lift_code rfm_scores(const double *v, size_t n, bool lower_better,
                          uint8_t *score, struct lift_error *err)
{
    double *s = lift_malloc_array(n ? n : 1, sizeof *s);
    if (!s)
        return lift_error_nomem(err, "rfm scores");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            s[m++] = v[i];
    qsort(s, m, sizeof *s, cmp_double);
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) {
            score[i] = 0;
            continue;
        }
        size_t c = lower_better ? above(s, m, v[i]) : below(s, m, v[i]);
        /* 5 c < 5 m, so the score stays in 1..5 */
        score[i] = (uint8_t)(1 + (5 * c) / m);
    }
    lift_free(s);
    return LIFT_OK;
}

/* ---- input -------------------------------------------------------------- */

struct customers {
    size_t n;
    double *r, *f, *m;
    /* the id of customer i: a table row whose id cell names it */
    size_t *row;
    size_t id_col; /* (size_t)-1 in columns mode: ids are row numbers */
};

static enum lift_code numeric_col(const struct lift_table *t, const char *name,
                                  const char *role, size_t *col,
                                  struct lift_error *err)
{
    enum lift_code rc = lift_table_col_index(t, name, col, err);
    if (rc)
        return rc;
    enum lift_col_type ty = lift_table_col_type(t, *col);
    if (ty != LIFT_COL_NUMERIC && ty != LIFT_COL_BOOLEAN)
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "%s column '%s' is %s; it must be numeric", role,
                              name, lift_col_type_name(ty));
    return LIFT_OK;
}

static enum lift_code from_columns(const struct lift_table *t,
                                   const struct lift_rfm_opts *o,
                                   struct customers *c, struct lift_error *err)
{
    size_t rc_, fc, mc, n = lift_table_n_rows(t);
    enum lift_code rc;
    if ((rc = numeric_col(t, o->recency, "recency", &rc_, err)) ||
        (rc = numeric_col(t, o->frequency, "frequency", &fc, err)) ||
        (rc = numeric_col(t, o->monetary, "monetary", &mc, err)))
        return rc;
    c->n = n;
    c->id_col = (size_t)-1;
    c->r = lift_malloc_array(n ? n : 1, sizeof *c->r);
    c->f = lift_malloc_array(n ? n : 1, sizeof *c->f);
    c->m = lift_malloc_array(n ? n : 1, sizeof *c->m);
    c->row = lift_malloc_array(n ? n : 1, sizeof *c->row);
    if (!c->r || !c->f || !c->m || !c->row)
        return lift_error_nomem(err, "rfm customers");
    memcpy(c->r, lift_table_values(t, rc_), n * sizeof *c->r);
    memcpy(c->f, lift_table_values(t, fc), n * sizeof *c->f);
    memcpy(c->m, lift_table_values(t, mc), n * sizeof *c->m);
    for (size_t i = 0; i < n; i++)
        c->row[i] = i;
    return LIFT_OK;
}

struct keyed {
    double v;
    uint32_t row;
};

static int by_key(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Dense customer codes per row (UINT32_MAX: no id); *n_keys of them. */
static enum lift_code customer_codes(const struct lift_table *t, size_t col,
                                     uint32_t *code, size_t *n_keys,
                                     struct lift_error *err)
{
    size_t n = lift_table_n_rows(t);
    const uint32_t *codes = lift_table_codes(t, col);
    if (codes) {
        for (size_t i = 0; i < n; i++)
            code[i] = codes[i] == LIFT_MISSING_CODE ? UINT32_MAX : codes[i];
        *n_keys = lift_table_n_levels(t, col);
        return LIFT_OK;
    }
    const double *v = lift_table_values(t, col);
    struct keyed *k = lift_malloc_array(n ? n : 1, sizeof *k);
    if (!k)
        return lift_error_nomem(err, "rfm customers");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        code[i] = UINT32_MAX;
        if (!isnan(v[i])) {
            k[m].v = v[i];
            k[m].row = (uint32_t)i;
            m++;
        }
    }
    qsort(k, m, sizeof *k, by_key);
    size_t keys = 0;
    for (size_t i = 0; i < m; i++) {
        if (i && k[i].v != k[i - 1].v)
            keys++;
        code[k[i].row] = (uint32_t)keys;
    }
    *n_keys = m ? keys + 1 : 0;
    lift_free(k);
    return LIFT_OK;
}

static enum lift_code from_transactions(const struct lift_table *t,
                                        const struct lift_rfm_opts *o,
                                        struct customers *c, double *as_of,
                                        struct lift_error *err)
{
    size_t idc, dc, ac, n = lift_table_n_rows(t);
    enum lift_code rc;
    if ((rc = lift_table_col_index(t, o->customer, &idc, err)) ||
        (rc = lift_table_col_index(t, o->date, &dc, err)) ||
        (rc = numeric_col(t, o->amount, "amount", &ac, err)))
        return rc;
    enum lift_col_type dt = lift_table_col_type(t, dc);
    if (dt != LIFT_COL_DATE) {
        /* Name a value that is not a date, when there is one. */
        const uint32_t *codes = lift_table_codes(t, dc);
        for (size_t i = 0; codes && i < n; i++) {
            if (codes[i] == LIFT_MISSING_CODE)
                continue;
            size_t len;
            const char *s = lift_table_level(t, dc, codes[i], &len);
            double tmp;
            if (!lift_parse_date(s, len, &tmp))
                return lift_error_set(
                    err, LIFT_ERR_UNPROCESSABLE,
                    "line %zu: date column '%s' holds '%.40s', which is not "
                    "an ISO 8601 date (YYYY-MM-DD)",
                    lift_table_row_line(t, i), o->date, s);
        }
        return lift_error_set(err, LIFT_ERR_UNPROCESSABLE,
                              "date column '%s' is %s, not a date", o->date,
                              lift_col_type_name(dt));
    }
    uint32_t *code = lift_malloc_array(n ? n : 1, sizeof *code);
    if (!code)
        return lift_error_nomem(err, "rfm customers");
    size_t nk = 0;
    if ((rc = customer_codes(t, idc, code, &nk, err))) {
        lift_free(code);
        return rc;
    }
    const double *date = lift_table_values(t, dc);
    const double *amt = lift_table_values(t, ac);
    double *last = lift_malloc_array(nk ? nk : 1, sizeof *last);
    double *cnt = lift_calloc(nk ? nk : 1, sizeof *cnt);
    double *sum = lift_calloc(nk ? nk : 1, sizeof *sum);
    size_t *row = lift_malloc_array(nk ? nk : 1, sizeof *row);
    if (!last || !cnt || !sum || !row) {
        rc = lift_error_nomem(err, "rfm customers");
        goto fail;
    }
    double latest = -INFINITY;
    for (size_t k = 0; k < nk; k++) {
        last[k] = -INFINITY;
        row[k] = (size_t)-1;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t k = code[i];
        if (k == UINT32_MAX || isnan(date[i]))
            continue;
        if (row[k] == (size_t)-1)
            row[k] = i;
        if (date[i] > last[k])
            last[k] = date[i];
        if (date[i] > latest)
            latest = date[i];
        cnt[k]++;
        if (!isnan(amt[i]))
            sum[k] += amt[i];
    }
    /* Default as-of: midnight UTC after the latest purchase. */
    *as_of = !isnan(o->as_of) ? o->as_of : (floor(latest / 86400) + 1) * 86400;
    size_t m = 0;
    for (size_t k = 0; k < nk; k++)
        m += row[k] != (size_t)-1;
    c->n = m;
    c->id_col = idc;
    c->r = lift_malloc_array(m ? m : 1, sizeof *c->r);
    c->f = lift_malloc_array(m ? m : 1, sizeof *c->f);
    c->m = lift_malloc_array(m ? m : 1, sizeof *c->m);
    c->row = lift_malloc_array(m ? m : 1, sizeof *c->row);
    if (!c->r || !c->f || !c->m || !c->row) {
        rc = lift_error_nomem(err, "rfm customers");
        goto fail;
    }
    /* Customers in order of first appearance. */
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t k = code[i];
        if (k == UINT32_MAX || row[k] != i)
            continue;
        c->row[j] = i;
        c->r[j] = floor((*as_of - last[k]) / 86400);
        c->f[j] = cnt[k];
        c->m[j] = sum[k];
        j++;
    }
fail:
    lift_free(code);
    lift_free(last);
    lift_free(cnt);
    lift_free(sum);
    lift_free(row);
    return rc;
}

/* ---- the report --------------------------------------------------------- */

static json_t *real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *customer_id(const struct lift_table *t,
                           const struct customers *c, size_t i)
{
    if (c->id_col == (size_t)-1)
        return json_integer((json_int_t)lift_table_row_line(t, c->row[i]));
    const uint32_t *codes = lift_table_codes(t, c->id_col);
    if (codes)
        return json_string(
            lift_table_level(t, c->id_col, codes[c->row[i]], NULL));
    return json_real(lift_table_values(t, c->id_col)[c->row[i]]);
}

static void date_text(double secs, char *buf, size_t cap)
{
    time_t s = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(buf, cap, "%Y-%m-%d", &tm))
        snprintf(buf, cap, "%.0f", secs);
}

enum lift_code lift_rfm_run(const struct lift_table *t,
                            const struct lift_rfm_opts *o, char **json,
                            struct lift_error *err)
{
    *json = NULL;
    bool cols = o->recency || o->frequency || o->monetary;
    bool tx = o->customer || o->date || o->amount;
    if (cols == tx || (cols && !(o->recency && o->frequency && o->monetary)) ||
        (tx && !(o->customer && o->date && o->amount)))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "rfm needs either recency, frequency and "
                              "monetary columns, or customer, date and "
                              "amount columns of transactions");
    struct customers c = {0};
    uint8_t *rs = NULL, *fs = NULL, *ms = NULL;
    json_t *doc = NULL;
    double as_of = NAN;
    enum lift_code rc = cols ? from_columns(t, o, &c, err)
                             : from_transactions(t, o, &c, &as_of, err);
    if (rc)
        goto done;
    if ((rc = lift_mkt_progress(&o->pg, "check", 0, 0, err)))
        goto done;
    size_t n = c.n, scored = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(c.r[i]) || isnan(c.f[i]) || isnan(c.m[i]))
            c.r[i] = c.f[i] = c.m[i] = NAN;
        else
            scored++;
    }
    rs = lift_malloc_array(n ? n : 1, 1);
    fs = lift_malloc_array(n ? n : 1, 1);
    ms = lift_malloc_array(n ? n : 1, 1);
    doc = json_object();
    if (!rs || !fs || !ms || !doc) {
        rc = lift_error_nomem(err, "rfm");
        goto done;
    }
    if ((rc = rfm_scores(c.r, n, true, rs, err)) ||
        (rc = rfm_scores(c.f, n, false, fs, err)) ||
        (rc = rfm_scores(c.m, n, false, ms, err)))
        goto done;
    char day[32];
    if (!cols)
        date_text(as_of, day, sizeof day);
    json_t *segs = json_array();
    if ((rc = lift_mkt_json_add(doc, "mode",
                                json_string(cols ? "columns" : "transactions"),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "customers", json_integer((json_int_t)n),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "scored", json_integer((json_int_t)scored),
                                err)) ||
        (rc = lift_mkt_json_add(doc, "as_of",
                                cols ? json_null() : json_string(day), err)) ||
        (rc = lift_mkt_json_add(doc, "segments", segs, err)))
        goto done;
    for (int s = 0; s <= N_SEG; s++) {
        double cnt = 0, sr = 0, sf = 0, sm = 0;
        for (size_t i = 0; i < n; i++) {
            int si = rs[i] ? rf_table[5 - rs[i]][fs[i] - 1] : N_SEG;
            if (si != s)
                continue;
            cnt++;
            sr += c.r[i];
            sf += c.f[i];
            sm += c.m[i];
        }
        if (s == N_SEG && cnt == 0)
            break;
        json_t *sj =
            json_pack("{s:s,s:I,s:o,s:o,s:o,s:o}", "segment",
                      s < N_SEG ? seg_names[s] : "unscored", "customers",
                      (json_int_t)cnt, "share", real(n ? cnt / (double)n : NAN),
                      "recency", real(s < N_SEG && cnt ? sr / cnt : NAN),
                      "frequency", real(s < N_SEG && cnt ? sf / cnt : NAN),
                      "monetary", real(s < N_SEG && cnt ? sm / cnt : NAN));
        if (!sj || json_array_append_new(segs, sj)) {
            rc = lift_error_nomem(err, "rfm report");
            goto done;
        }
    }
    if (o->customers) {
        json_t *rows = json_array();
        if ((rc = lift_mkt_json_add(doc, "customer_rows", rows, err)))
            goto done;
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_pack(
                "{s:o,s:o,s:o,s:o,s:i,s:i,s:i,s:s}", "customer",
                customer_id(t, &c, i), "recency", real(c.r[i]), "frequency",
                real(c.f[i]), "monetary", real(c.m[i]), "r", rs[i], "f", fs[i],
                "m", ms[i], "segment", lift_rfm_segment(rs[i], fs[i]));
            if (!r || json_array_append_new(rows, r)) {
                rc = lift_error_nomem(err, "rfm report");
                goto done;
            }
        }
    }
    if (!(*json = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12))))
        rc = lift_error_nomem(err, "rfm report");
done:
    json_decref(doc);
    lift_free(c.r);
    lift_free(c.f);
    lift_free(c.m);
    lift_free(c.row);
    lift_free(rs);
    lift_free(fs);
    lift_free(ms);
    return rc;
}

void lift_rfm_opts_set_progress(struct lift_rfm_opts *o, lift_progress_fn fn,
                                void *user)
{
    o->pg.fn = fn;
    o->pg.user = user;
}

enum lift_code lift_rfm_check(const struct lift_table *t,
                              const struct lift_rfm_opts *o,
                              struct lift_error *err)
{
    struct lift_rfm_opts c = *o;
    bool reached = false;
    char *json = NULL;
    c.pg.fn = lift_mkt_check_stop;
    c.pg.user = &reached;
    enum lift_code rc = lift_rfm_run(t, &c, &json, err);
    free(json);
    return lift_mkt_check_result(rc, reached, err);
}
