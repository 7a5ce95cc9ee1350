/*
 * data/describe.c - a table's schema and statistics as one JSON document
 * (`lift inspect --json` and the server's dataset routes print it).
 *
 * Target levels: a categorical target lists its levels; a numeric one its
 * distinct values formatted with %.15g (so 0/1 columns read "0", "1"), up
 * to 64 of them.
 */
#include <lift/table.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define MAX_TARGET_LEVELS 64

static json_t *real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *integer(size_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *column_json(const struct lift_table *t, size_t col,
                           const struct lift_col_stats *st)
{
    enum lift_col_type type = lift_table_col_type(t, col);
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string(lift_table_col_name(t, col)));
    json_object_set_new(c, "type", json_string(lift_col_type_name(type)));
    json_object_set_new(c, "count", integer(st->count));
    json_object_set_new(c, "missing", integer(st->missing));
    json_object_set_new(c, "distinct", integer(st->distinct));
    if (type == LIFT_COL_CATEGORICAL || type == LIFT_COL_TEXT) {
        json_t *top = json_array();
        for (size_t k = 0; k < st->n_top; k++) {
            json_t *e = json_object();
            json_object_set_new(
                e, "value",
                json_string(lift_table_level(t, col, st->top_code[k], NULL)));
            json_object_set_new(e, "count", integer(st->top_count[k]));
            json_array_append_new(top, e);
        }
        json_object_set_new(c, "top", top);
        json_object_set_new(c, "mean_length", real(st->mean_len));
    } else {
        json_object_set_new(c, "min", real(st->min));
        json_object_set_new(c, "max", real(st->max));
        json_object_set_new(c, "mean", real(st->mean));
        json_object_set_new(c, "std", real(st->std));
    }
    return c;
}

struct level {
    char text[128];
    size_t count;
};

/* Distinct target values (at most cap) with counts; *missing counted. */
static size_t target_levels(const struct lift_table *t, size_t col,
                            struct level *lv, size_t cap, size_t *missing)
{
    size_t n = 0, rows = lift_table_n_rows(t);
    const uint32_t *codes = lift_table_codes(t, col);
    *missing = 0;
    if (codes) {
        size_t k = lift_table_n_levels(t, col);
        for (uint32_t c = 0; c < k && n < cap; c++, n++) {
            snprintf(lv[n].text, sizeof lv[n].text, "%s",
                     lift_table_level(t, col, c, NULL));
            lv[n].count = lift_table_level_count(t, col, c);
        }
        for (size_t r = 0; r < rows; r++)
            *missing += codes[r] == LIFT_MISSING_CODE;
        return n;
    }
    const double *v = lift_table_values(t, col);
    for (size_t r = 0; r < rows; r++) {
        if (isnan(v[r])) {
            (*missing)++;
            continue;
        }
        char text[64];
        snprintf(text, sizeof text, "%.15g", v[r]);
        size_t i = 0;
        while (i < n && strcmp(lv[i].text, text) != 0)
            i++;
        if (i == n) {
            if (n == cap)
                continue;
            snprintf(lv[n].text, sizeof lv[n].text, "%s", text);
            lv[n++].count = 0;
        }
        lv[i].count++;
    }
    return n;
}

static enum lift_code target_json(const struct lift_table *t, size_t col,
                                  const char *name, const char *positive,
                                  json_t **out, struct lift_error *err)
{
    struct level lv[MAX_TARGET_LEVELS];
    size_t missing;
    size_t n = target_levels(t, col, lv, MAX_TARGET_LEVELS, &missing);
    size_t present = lift_table_n_rows(t) - missing, pos = 0;
    bool found = false;
    for (size_t k = 0; k < n && positive; k++)
        if (strcmp(lv[k].text, positive) == 0) {
            found = true;
            pos = lv[k].count;
        }
    if (positive && !found)
        return lift_error_set(err, LIFT_ERR_NOT_FOUND,
                              "no value '%s' in target column '%s'", positive,
                              name);
    json_t *tg = json_object(), *levels = json_object(), *rates = json_object();
    json_object_set_new(tg, "column", json_string(name));
    for (size_t k = 0; k < n; k++) {
        json_object_set_new(levels, lv[k].text, integer(lv[k].count));
        json_object_set_new(
            rates, lv[k].text,
            real(present ? (double)lv[k].count / (double)present : NAN));
    }
    json_object_set_new(tg, "levels", levels);
    json_object_set_new(tg, "rates", rates);
    json_object_set_new(tg, "missing", integer(missing));
    if (positive) {
        json_object_set_new(tg, "positive", json_string(positive));
        json_object_set_new(
            tg, "positive_rate",
            real(present ? (double)pos / (double)present : NAN));
    }
    *out = tg;
    return LIFT_OK;
}

enum lift_code lift_table_describe_json(const struct lift_table *t,
                                        const char *target,
                                        const char *positive, char **json,
                                        struct lift_error *err)
{
    *json = NULL;
    size_t target_col = 0;
    enum lift_code rc;
    if (positive && !target)
        return lift_error_set(err, LIFT_ERR_INVALID,
                              "a positive label needs a target column");
    if (target && (rc = lift_table_col_index(t, target, &target_col, err)))
        return rc;
    json_t *doc = json_object(), *cols = json_array();
    if (!doc || !cols) {
        json_decref(doc);
        json_decref(cols);
        return lift_error_nomem(err, "description");
    }
    char sep = lift_table_sep(t);
    char sep_text[8];
    snprintf(sep_text, sizeof sep_text, "%s",
             sep == '\t' ? "tab" : (char[]){sep, '\0'});
    json_object_set_new(doc, "rows", integer(lift_table_n_rows(t)));
    json_object_set_new(doc, "cols", integer(lift_table_n_cols(t)));
    json_object_set_new(doc, "sep", json_string(sep_text));
    json_object_set_new(doc, "replaced_bytes",
                        integer(lift_table_n_replaced(t)));
    json_object_set_new(doc, "columns", cols);
    for (size_t c = 0; c < lift_table_n_cols(t); c++) {
        struct lift_col_stats st;
        if ((rc = lift_table_col_stats(t, c, &st, err))) {
            json_decref(doc);
            return rc;
        }
        json_array_append_new(cols, column_json(t, c, &st));
    }
    if (target) {
        json_t *tg;
        if ((rc = target_json(t, target_col, target, positive, &tg, err))) {
            json_decref(doc);
            return rc;
        }
        json_object_set_new(doc, "target", tg);
    }
    *json = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(doc);
    return *json ? LIFT_OK : lift_error_nomem(err, "description");
}
