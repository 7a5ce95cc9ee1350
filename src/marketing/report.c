/*
 * marketing/report.c - one self-contained HTML page about a model: the
 * headline metrics, the campaign plan, and charts drawn here as inline
 * SVG (no script, no fonts or styles fetched: it opens from a file with
 * no network, and prints).
 *
 * Every chart is <svg class="chart" id=ID data-points=N> and its N data
 * points are the elements of class "pt" inside it (circles on curves,
 * rects in bar charts), each with data-x and data-y, so that a test can
 * count them and read them back. Axes, guides (the diagonal of a random
 * ranking, lift 1, the chosen cut-off) carry other classes.
 *
 * Charts: cumulative gain by decile (11 points, 0 included), lift by
 * decile (10 bars), the expected profit curve of the campaign plan (its
 * sampled points, the realised profit beside it as a plain line) with the
 * cut-off, calibration (the non-empty of 10 bins), ROC (at most 101
 * points sampled from the distinct thresholds, both ends included), and
 * the top 10 input columns by importance.
 */
#include <lift/lift.h>
#include <lift/marketing.h>
#include <lift/metrics.h>

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "eval/metrics.h"
#include "marketing/target.h"

#define ROC_POINTS 101
#define TOP_FEATURES 10

/* Plot geometry: the data area inside a W x H picture. */
enum { W = 540, H = 330, ML = 64, MR = 20, MT = 20, MB = 52 };

struct chart {
    struct lift_buf *b;
    struct lift_error *err;
    enum lift_code rc;
    double x0, x1, y0, y1;
    bool no_x_ticks; /* bar charts label their bars instead */
    bool no_y_ticks;
};

static void put(struct chart *c, const char *fmt, ...) LIFT_PRINTF(2, 3);

static void put(struct chart *c, const char *fmt, ...)
{
    if (c->rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    c->rc = lift_buf_vprintf(c->b, c->err, fmt, ap);
    va_end(ap);
}

/* Text with &, <, >, " escaped. */
static void put_text(struct chart *c, const char *s)
{
    for (; *s && !c->rc; s++) {
        switch (*s) {
        case '&':
            put(c, "&amp;");
            break;
        case '<':
            put(c, "&lt;");
            break;
        case '>':
            put(c, "&gt;");
            break;
        case '"':
            put(c, "&quot;");
            break;
        default:
            c->rc = lift_buf_putc(c->b, *s, c->err);
        }
    }
}

static double px(const struct chart *c, double x)
{
    double f = c->x1 > c->x0 ? (x - c->x0) / (c->x1 - c->x0) : 0;
    return ML + f * (W - ML - MR);
}

static double py(const struct chart *c, double y)
{
    double f = c->y1 > c->y0 ? (y - c->y0) / (c->y1 - c->y0) : 0;
    return H - MB - f * (H - MT - MB);
}

/* Opens a chart: the svg element, frame, 5 ticks per axis and labels. */
static void chart_open(struct chart *c, const char *id, const char *title,
                       size_t n_points, const char *xlabel, const char *ylabel)
{
    put(c,
        "<figure><figcaption>%s</figcaption>\n"
        "<svg class=\"chart\" id=\"%s\" data-points=\"%zu\" "
        "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
        "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n"
        "<rect class=\"bg\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
        title, id, n_points, W, H, W, H, ML, MT, W - ML - MR, H - MT - MB);
    for (int i = 0; i <= 4; i++) {
        double xv = c->x0 + (c->x1 - c->x0) * i / 4.0;
        double yv = c->y0 + (c->y1 - c->y0) * i / 4.0;
        if (!c->no_x_ticks)
            put(c,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" "
                "y2=\"%d\"/><text class=\"tick\" x=\"%.1f\" y=\"%d\" "
                "text-anchor=\"middle\">%.3g</text>\n",
                px(c, xv), MT, px(c, xv), H - MB, px(c, xv), H - MB + 16, xv);
        /* money axes: whole numbers rather than 5.69e+04 */
        if (!c->no_y_ticks)
            put(c,
                fabs(c->y1 - c->y0) >= 100
                    ? "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
                      "y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" y=\"%.1f\" "
                      "text-anchor=\"end\">%.0f</text>\n"
                    : "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
                      "y2=\"%.1f\"/><text class=\"tick\" x=\"%d\" y=\"%.1f\" "
                      "text-anchor=\"end\">%.3g</text>\n",
                ML, py(c, yv), W - MR, py(c, yv), ML - 6, py(c, yv) + 4, yv);
    }
    put(c,
        "<text class=\"axis\" x=\"%d\" y=\"%d\" "
        "text-anchor=\"middle\">%s</text>\n"
        "<text class=\"axis\" x=\"14\" y=\"%d\" text-anchor=\"middle\" "
        "transform=\"rotate(-90 14 %d)\">%s</text>\n",
        (ML + W - MR) / 2, H - 12, xlabel, (MT + H - MB) / 2, (MT + H - MB) / 2,
        ylabel);
}

static void chart_close(struct chart *c)
{
    put(c, "</svg></figure>\n");
}

/* A guide line in data coordinates. */
static void guide(struct chart *c, const char *cls, double xa, double ya,
                  double xb, double yb)
{
    put(c,
        "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
        "y2=\"%.1f\"/>\n",
        cls, px(c, xa), py(c, ya), px(c, xb), py(c, yb));
}

/* A curve through (x[i], y[i]): a polyline, and with points a circle of
 * class "pt" on each. */
static void curve(struct chart *c, const char *cls, const double *x,
                  const double *y, size_t n, bool points)
{
    put(c, "<polyline class=\"%s\" points=\"", cls);
    for (size_t i = 0; i < n; i++)
        put(c, "%s%.1f,%.1f", i ? " " : "", px(c, x[i]), py(c, y[i]));
    put(c, "\"/>\n");
    for (size_t i = 0; points && i < n; i++)
        put(c,
            "<circle class=\"pt\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" "
            "data-x=\"%.6g\" data-y=\"%.6g\"/>\n",
            px(c, x[i]), py(c, y[i]), x[i], y[i]);
}

/* ---- the charts --------------------------------------------------------- */

static void chart_gain(struct chart *c, const struct lift_gains_row *g)
{
    double x[LIFT_DECILES + 1], y[LIFT_DECILES + 1];
    x[0] = y[0] = 0;
    for (size_t d = 0; d < LIFT_DECILES; d++) {
        x[d + 1] = (double)(d + 1) / LIFT_DECILES;
        y[d + 1] = isnan(g[d].cum_gain) ? 0 : g[d].cum_gain;
    }
    c->x0 = 0, c->x1 = 1, c->y0 = 0, c->y1 = 1;
    chart_open(c, "gain", "Cumulative gain: share of all positives reached",
               LIFT_DECILES + 1, "share of customers contacted (by score)",
               "share of positives");
    guide(c, "diag", 0, 0, 1, 1);
    curve(c, "line", x, y, LIFT_DECILES + 1, true);
    chart_close(c);
}

static void chart_lift(struct chart *c, const struct lift_gains_row *g)
{
    double top = 1;
    for (size_t d = 0; d < LIFT_DECILES; d++)
        if (isfinite(g[d].lift) && g[d].lift > top)
            top = g[d].lift;
    c->x0 = 0, c->x1 = LIFT_DECILES, c->y0 = 0, c->y1 = ceil(top);
    c->no_x_ticks = true;
    chart_open(c, "lift", "Lift by decile (1 = random)", LIFT_DECILES,
               "decile (1 = highest scores)", "lift over random");
    double bw = (W - ML - MR) / (double)LIFT_DECILES;
    for (size_t d = 0; d < LIFT_DECILES; d++) {
        double l = isfinite(g[d].lift) ? g[d].lift : 0;
        double y = py(c, l), x = px(c, (double)d);
        put(c,
            "<rect class=\"pt\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\" data-x=\"%zu\" data-y=\"%.6g\"/>\n"
            "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
            "text-anchor=\"middle\">%.2f</text>\n",
            x + bw * 0.15, y, bw * 0.7, (H - MB) - y, d + 1, l, x + bw / 2,
            y - 4, l);
        put(c,
            "<text class=\"tick\" x=\"%.1f\" y=\"%d\" "
            "text-anchor=\"middle\">%zu</text>\n",
            x + bw / 2, H - MB + 16, d + 1);
    }
    c->no_x_ticks = false;
    guide(c, "diag", 0, 1, LIFT_DECILES, 1);
    chart_close(c);
}

/* The profit curve's sample: the plan's curve points (as in its JSON). */
static size_t profit_points(const struct lift_campaign *p, size_t *ks)
{
    size_t n = 0, prev = SIZE_MAX;
    bool cut_done = false;
    for (size_t j = 0; j <= LIFT_CURVE_POINTS; j++) {
        size_t k = campaign_curve_k(p, j);
        if (!cut_done && p->k <= k) {
            if (p->k != prev)
                ks[n++] = prev = p->k;
            cut_done = true;
        }
        if (k != prev)
            ks[n++] = prev = k;
    }
    return n;
}

static void chart_profit(struct chart *c, const struct lift_campaign *p)
{
    size_t ks[LIFT_CURVE_POINTS + 2];
    size_t n = profit_points(p, ks);
    double x[LIFT_CURVE_POINTS + 2], y[LIFT_CURVE_POINTS + 2],
        yr[LIFT_CURVE_POINTS + 2];
    double lo = 0, hi = 0;
    for (size_t i = 0; i < n; i++) {
        struct campaign_totals s;
        campaign_expected(p, ks[i], &s);
        x[i] = (double)ks[i] / (double)p->n;
        y[i] = s.profit;
        yr[i] = s.profit;
        if (p->has_labels) {
            campaign_realised(p, ks[i], &s);
            yr[i] = s.profit;
        }
        lo = fmin(lo, fmin(y[i], yr[i]));
        hi = fmax(hi, fmax(y[i], yr[i]));
    }
    if (hi <= lo)
        hi = lo + 1;
    c->x0 = 0, c->x1 = 1, c->y0 = lo, c->y1 = hi;
    chart_open(c, "profit",
               "Profit curve: expected profit (dots), realised on the labels "
               "(dashed), chosen cut-off (red)",
               n, "share of customers contacted (by expected profit)",
               "profit");
    guide(c, "zero", 0, 0, 1, 0);
    if (p->has_labels)
        curve(c, "real", x, yr, n, false);
    curve(c, "line", x, y, n, true);
    double xc = (double)p->k / (double)p->n;
    struct campaign_totals s;
    campaign_expected(p, p->k, &s);
    guide(c, "cut", xc, lo, xc, hi);
    put(c,
        "<circle class=\"cutoff\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\" "
        "data-x=\"%.6g\" data-y=\"%.6g\"/>\n",
        px(c, xc), py(c, s.profit), xc, s.profit);
    chart_close(c);
}

static void chart_calibration(struct chart *c,
                              const struct lift_calibration_bin *bins,
                              size_t n_bins)
{
    double x[16], y[16];
    size_t n = 0;
    for (size_t i = 0; i < n_bins && n < 16; i++)
        if (bins[i].count) {
            x[n] = bins[i].mean_pred;
            y[n++] = bins[i].rate;
        }
    c->x0 = 0, c->x1 = 1, c->y0 = 0, c->y1 = 1;
    chart_open(c, "calibration",
               "Calibration: observed rate against predicted probability "
               "(10 bins)",
               n, "mean predicted probability", "observed positive rate");
    guide(c, "diag", 0, 0, 1, 1);
    curve(c, "line", x, y, n, true);
    chart_close(c);
}

/* ROC points at each distinct score, sampled to at most ROC_POINTS. */
static enum lift_code chart_roc(struct chart *c, const uint8_t *y,
                                const double *p, size_t n, size_t positives)
{
    struct lift_ranked *r;
    enum lift_code rc = lift_rank_desc(p, n, &r, c->err);
    if (rc)
        return rc;
    double *fx = lift_malloc_array(n + 1, sizeof *fx);
    double *fy = lift_malloc_array(n + 1, sizeof *fy);
    if (!fx || !fy) {
        rc = lift_error_nomem(c->err, "roc curve");
        goto done;
    }
    double neg = (double)(n - positives), pos = (double)positives;
    size_t m = 0, tp = 0, fp = 0;
    fx[m] = fy[m] = 0;
    m++;
    for (size_t i = 0; i < n; i++) {
        if (y[r[i].row])
            tp++;
        else
            fp++;
        if (i + 1 < n && r[i + 1].score == r[i].score)
            continue;
        fx[m] = neg > 0 ? (double)fp / neg : 0;
        fy[m] = pos > 0 ? (double)tp / pos : 0;
        m++;
    }
    double sx[ROC_POINTS], sy[ROC_POINTS];
    size_t k = 0, prev = SIZE_MAX;
    for (size_t j = 0; j < ROC_POINTS; j++) {
        size_t i = m <= ROC_POINTS
                       ? j
                       : (size_t)llround((double)j * (double)(m - 1) /
                                         (ROC_POINTS - 1));
        if (i >= m || i == prev)
            continue;
        prev = i;
        sx[k] = fx[i];
        sy[k++] = fy[i];
    }
    c->x0 = 0, c->x1 = 1, c->y0 = 0, c->y1 = 1;
    chart_open(c, "roc", "ROC: true positive rate against false positive rate",
               k, "false positive rate", "true positive rate");
    guide(c, "diag", 0, 0, 1, 1);
    curve(c, "line", sx, sy, k, true);
    chart_close(c);
done:
    lift_free(fx);
    lift_free(fy);
    lift_free(r);
    return rc;
}

static enum lift_code chart_importance(struct chart *c,
                                       const struct lift_model *m)
{
    size_t n_in = lift_model_n_inputs(m);
    struct lift_contribution *imp =
        lift_malloc_array(n_in ? n_in : 1, sizeof *imp);
    if (!imp)
        return lift_error_nomem(c->err, "importance");
    size_t n = lift_model_importance(m, imp);
    if (n > TOP_FEATURES)
        n = TOP_FEATURES;
    double top = 0;
    for (size_t i = 0; i < n; i++)
        top = fmax(top, fabs(imp[i].value));
    c->x0 = 0, c->x1 = top > 0 ? top : 1, c->y0 = 0, c->y1 = 1;
    c->no_y_ticks = true;
    chart_open(c, "importance",
               "Top input columns by importance (mean |contribution|)", n,
               "mean |contribution| to the log-odds", "");
    double bh = (H - MT - MB) / (double)TOP_FEATURES;
    for (size_t i = 0; i < n; i++) {
        double v = fabs(imp[i].value);
        double y = MT + bh * (double)i;
        put(c,
            "<rect class=\"pt\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\" data-x=\"%.6g\" data-y=\"%zu\"/>\n"
            "<text class=\"label\" x=\"%.1f\" y=\"%.1f\">",
            ML, y + bh * 0.15, px(c, v) - ML, bh * 0.7, v, i + 1,
            px(c, v) + 4 > W - 140 ? (double)ML + 4 : px(c, v) + 4,
            y + bh * 0.62);
        put_text(c, imp[i].column);
        put(c, "</text>\n");
    }
    chart_close(c);
    c->no_y_ticks = false;
    lift_free(imp);
    return LIFT_OK;
}

/* ---- the page ----------------------------------------------------------- */

static const char css[] =
    "body{font:14px/1.4 sans-serif;margin:24px;color:#222;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:24px 0 8px}"
    "table{border-collapse:collapse;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f0f3f7}td:first-child,th:first-child{text-align:left}"
    "figure{display:inline-block;margin:8px 16px 16px 0;vertical-align:top}"
    "figcaption{font-weight:bold;margin-bottom:4px;max-width:540px}"
    ".bg{fill:#fafbfc;stroke:#999}.grid{stroke:#e3e6ea}"
    ".tick{font-size:11px;fill:#555}.axis{font-size:12px;fill:#333}"
    ".label{font-size:12px;fill:#222}"
    ".line{fill:none;stroke:#1f5fbf;stroke-width:2}"
    ".real{fill:none;stroke:#2a9d50;stroke-width:2;stroke-dasharray:6 4}"
    "circle.pt{fill:#1f5fbf}rect.pt{fill:#4a86d9}"
    ".diag{stroke:#999;stroke-dasharray:4 4}.zero{stroke:#666}"
    ".cut{stroke:#d62728;stroke-width:2}.cutoff{fill:#d62728}"
    ".note{color:#555}";

static void row(struct chart *c, const char *name,
                const struct campaign_totals *s)
{
    put(c,
        "<tr><td>%s</td><td>%zu</td><td>%.1f</td><td>%.2f</td>"
        "<td>%.2f</td><td>%.2f</td><td>",
        name, s->contacts, s->conversions, s->revenue, s->cost, s->profit);
    if (isfinite(s->roi))
        put(c, "%.1f %%", 100 * s->roi);
    put(c, "</td></tr>\n");
}

static void campaign_tables(struct chart *c, const struct lift_campaign *p)
{
    struct campaign_totals s;
    put(c,
        "<h2>Campaign plan</h2>\n<p>Cost per contact %.4g, value per "
        "conversion ",
        p->cost);
    if (p->value_col) {
        put(c, "from column '");
        put_text(c, p->value_col);
        put(c, "'");
    } else {
        put(c, "%.4g", p->value);
    }
    put(c,
        ". Chosen cut-off: contact <b>%zu</b> of %zu customers "
        "(%.1f %%), the highest expected profit",
        p->k, p->n, 100.0 * (double)p->k / (double)p->n);
    if (p->limit == LIMIT_BUDGET)
        put(c, " within a budget of %.4g", p->limit_value);
    else if (p->limit == LIMIT_CONTACTS)
        put(c, " within %.0f contacts", p->limit_value);
    else if (p->limit == LIMIT_ROI)
        put(c, " with an ROI of at least %.4g", p->limit_value);
    put(c, ".</p>\n<table><tr><th>expected</th><th>contacts</th>"
           "<th>conversions</th><th>revenue</th><th>cost</th><th>profit</th>"
           "<th>ROI</th></tr>\n");
    campaign_expected(p, p->k, &s);
    row(c, "plan", &s);
    campaign_expected(p, p->n, &s);
    row(c, "everyone", &s);
    double k = (double)p->k, n = (double)p->n;
    s.contacts = p->k;
    s.conversions = p->cum_conv[p->n] / n * k;
    s.revenue = p->cum_rev[p->n] / n * k;
    s.cost = k * p->cost;
    s.profit = s.revenue - s.cost;
    s.roi = s.cost > 0 ? s.profit / s.cost : NAN;
    row(c, "random, same count", &s);
    put(c, "</table>\n");
    if (!p->has_labels)
        return;
    put(c, "<table><tr><th>realised on the labels</th><th>contacts</th>"
           "<th>conversions</th><th>revenue</th><th>cost</th><th>profit</th>"
           "<th>ROI</th></tr>\n");
    campaign_realised(p, p->k, &s);
    row(c, "plan", &s);
    static const unsigned tops[] = {10, 20, 30};
    for (size_t i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "top %u %%", tops[i]);
        campaign_realised(p, (size_t)llround(n * tops[i] / 100.0), &s);
        row(c, name, &s);
    }
    campaign_realised(p, p->n, &s);
    row(c, "everyone", &s);
    put(c, "</table>\n");
}

enum lift_code lift_report_html(const struct lift_model *m,
                                const struct lift_table *t, const char *title,
                                const struct lift_campaign_opts *o, char **html,
                                size_t *len, struct lift_error *err)
{
    *html = NULL;
    *len = 0;
    if (lift_model_task(m) != LIFT_TASK_BINARY)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "the report needs a binary model, not a %s one",
                              lift_task_name(lift_model_task(m)));
    size_t col;
    struct lift_error ignored;
    if (lift_table_col_index(t, lift_model_target(m), &col, &ignored))
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "the report needs the target column '%s' in "
                              "the table",
                              lift_model_target(m));
    struct lift_campaign_opts plain;
    if (!o) {
        /* the plan's ranking and labels serve the charts; its economics
         * are not shown */
        lift_campaign_opts_init(&plain);
        plain.value = 1;
    }
    struct lift_campaign *p = NULL;
    enum lift_code rc = lift_campaign_plan(m, t, o ? o : &plain, &p, err);
    if (rc)
        return rc;
    struct lift_buf b;
    lift_buf_init(&b, 0, "report");
    struct chart c = {&b, err, LIFT_OK, 0, 1, 0, 1, false, false};
    /* rows with a target only, for the metrics */
    size_t n = 0;
    uint8_t *y = lift_malloc(p->n);
    double *s = lift_malloc_array(p->n, sizeof *s);
    if (!y || !s) {
        rc = lift_error_nomem(err, "report");
        goto done;
    }
    double *yt = lift_malloc_array(p->n, sizeof *yt);
    if (!yt || (rc = lift_model_labels(m, t, NULL, p->n, yt, err))) {
        if (!yt)
            rc = lift_error_nomem(err, "report");
        lift_free(yt);
        goto done;
    }
    for (size_t i = 0; i < p->n; i++)
        if (!isnan(yt[i])) {
            y[n] = yt[i] == 1.0;
            s[n++] = p->p[i];
        }
    lift_free(yt);
    if (n < LIFT_DECILES) {
        rc = lift_error_set(err, LIFT_ERR_INVALID,
                            "the report needs at least %d rows with a "
                            "target, not %zu",
                            LIFT_DECILES, n);
        goto done;
    }
    struct lift_binary_metrics bm;
    struct lift_gains_row g[LIFT_DECILES];
    struct lift_calibration_bin bins[10];
    double ece;
    if ((rc = lift_metrics_binary(y, s, NULL, n, &bm, err)) ||
        (rc = lift_metrics_gains(y, s, n, LIFT_DECILES, g, err)) ||
        (rc = lift_metrics_calibration(y, s, n, 10, bins, &ece, err)))
        goto done;
    put(&c, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>lift report: ");
    put_text(&c, title ? title : "model");
    put(&c, "</title>\n<style>%s</style></head><body>\n<h1>lift report: ", css);
    put_text(&c, title ? title : "model");
    put(&c, "</h1>\n<p class=\"note\">%s model of '", lift_model_kind(m));
    put_text(&c, lift_model_target(m));
    put(&c, "' = '");
    put_text(&c, lift_model_class(m, 0));
    put(&c,
        "', scored on %zu rows (%zu positives, rate %.2f %%). Drawn by "
        "lift %s; no script, nothing fetched.</p>\n",
        n, bm.positives, 100.0 * (double)bm.positives / (double)n,
        lift_version());
    put(&c,
        "<table><tr><th>metric</th><th>value</th></tr>\n"
        "<tr><td>ROC AUC</td><td>%.4f</td></tr>\n"
        "<tr><td>average precision</td><td>%.4f</td></tr>\n"
        "<tr><td>log loss</td><td>%.4f</td></tr>\n"
        "<tr><td>Brier score</td><td>%.4f</td></tr>\n"
        "<tr><td>calibration error (ECE)</td><td>%.4f</td></tr>\n"
        "<tr><td>top-decile lift</td><td>%.2f</td></tr>\n</table>\n",
        bm.auc, bm.pr_auc, bm.logloss, bm.brier, ece, g[0].lift);
    if (o)
        campaign_tables(&c, p);
    put(&c, "<h2>Charts</h2>\n");
    chart_gain(&c, g);
    chart_lift(&c, g);
    if (o)
        chart_profit(&c, p);
    chart_calibration(&c, bins, 10);
    if (!c.rc && (rc = chart_roc(&c, y, s, n, bm.positives)))
        goto done;
    if (!c.rc && (rc = chart_importance(&c, m)))
        goto done;
    if (!o)
        put(&c, "<p class=\"note\">Give a cost per contact and a value per "
                "conversion for the campaign plan and its profit "
                "curve.</p>\n");
    put(&c, "</body></html>\n");
    rc = c.rc;
done:
    lift_free(y);
    lift_free(s);
    lift_campaign_free(p);
    if (rc) {
        lift_buf_release(&b);
        return rc;
    }
    *html = lift_buf_detach(&b, len);
    return LIFT_OK;
}
