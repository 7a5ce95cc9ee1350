/*
 * cli/inspect.c - `lift inspect FILE [reader flags] [--target COL]
 * [--positive L] [--json]`: the schema, types, missing values, distinct
 * counts, ranges, top levels and the target's class balance of a file.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: lift inspect FILE [reader flags] [--target COL [--positive L]] "
    "[--json]\n"
    "\n"
    "Reads FILE and prints each column's type, missing count, distinct\n"
    "count, range or top levels, and the class balance of --target.\n"
    "Reader flags: --sep S, --no-header, --columns a,b, --no-quote,\n"
    "--missing [COL=]V1,V2 (repeatable), --type COL=TYPE (repeatable),\n"
    "--utf8 strict|replace, --max-rows N, --max-field N, --max-line N,\n"
    "--max-cols N.\n";

/* The display text of a target value: the level, or the number. */
static void value_text(const struct lift_table *t, size_t col, size_t row,
                       char *buf, size_t cap)
{
    const uint32_t *codes = lift_table_codes(t, col);
    if (codes)
        snprintf(buf, cap, "%s", lift_table_level(t, col, codes[row], NULL));
    else
        snprintf(buf, cap, "%.15g", lift_table_values(t, col)[row]);
}

struct target_level {
    char text[128];
    size_t count;
};

/* Counts the target's distinct values (at most 64 are listed). */
static size_t target_levels(const struct lift_table *t, size_t col,
                            struct target_level *lv, size_t cap,
                            size_t *missing)
{
    size_t n = 0;
    *missing = 0;
    const uint32_t *codes = lift_table_codes(t, col);
    if (codes) {
        size_t k = lift_table_n_levels(t, col);
        for (uint32_t c = 0; c < k && n < cap; c++, n++) {
            snprintf(lv[n].text, sizeof lv[n].text, "%s",
                     lift_table_level(t, col, c, NULL));
            lv[n].count = lift_table_level_count(t, col, c);
        }
        for (size_t r = 0; r < lift_table_n_rows(t); r++)
            *missing += codes[r] == LIFT_MISSING_CODE;
        return n;
    }
    char text[128];
    for (size_t r = 0; r < lift_table_n_rows(t); r++) {
        if (lift_table_is_missing(t, col, r)) {
            (*missing)++;
            continue;
        }
        value_text(t, col, r, text, sizeof text);
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

static json_t *column_json(const struct lift_table *t, size_t col,
                           const struct lift_col_stats *st)
{
    enum lift_col_type type = lift_table_col_type(t, col);
    json_t *c = json_object();
    json_object_set_new(c, "name", json_string(lift_table_col_name(t, col)));
    json_object_set_new(c, "type", json_string(lift_col_type_name(type)));
    json_object_set_new(c, "count", json_integer((json_int_t)st->count));
    json_object_set_new(c, "missing", json_integer((json_int_t)st->missing));
    json_object_set_new(c, "distinct", json_integer((json_int_t)st->distinct));
    if (type == LIFT_COL_CATEGORICAL || type == LIFT_COL_TEXT) {
        json_t *top = json_array();
        for (size_t k = 0; k < st->n_top; k++) {
            json_t *e = json_object();
            json_object_set_new(
                e, "value",
                json_string(lift_table_level(t, col, st->top_code[k], NULL)));
            json_object_set_new(e, "count",
                                json_integer((json_int_t)st->top_count[k]));
            json_array_append_new(top, e);
        }
        json_object_set_new(c, "top", top);
        json_object_set_new(c, "mean_length", cli_json_real(st->mean_len));
    } else {
        json_object_set_new(c, "min", cli_json_real(st->min));
        json_object_set_new(c, "max", cli_json_real(st->max));
        json_object_set_new(c, "mean", cli_json_real(st->mean));
        json_object_set_new(c, "std", cli_json_real(st->std));
    }
    return c;
}

static void print_column(const struct lift_table *t, size_t col,
                         const struct lift_col_stats *st)
{
    enum lift_col_type type = lift_table_col_type(t, col);
    printf("  %-20s %-11s %8zu %8zu  ", lift_table_col_name(t, col),
           lift_col_type_name(type), st->missing, st->distinct);
    if (type == LIFT_COL_CATEGORICAL || type == LIFT_COL_TEXT) {
        for (size_t k = 0; k < st->n_top && k < 3; k++) {
            const char *lv = lift_table_level(t, col, st->top_code[k], NULL);
            printf("%s%.*s%s (%zu)", k ? ", " : "", 24, lv,
                   strlen(lv) > 24 ? "..." : "", st->top_count[k]);
        }
    } else if (st->count) {
        printf("%.6g .. %.6g, mean %.6g", st->min, st->max, st->mean);
    }
    printf("\n");
}

int cmd_inspect(int argc, char **argv)
{
    struct cli_args a;
    struct cli_reader rd;
    const char *file = NULL, *target = NULL, *positive = NULL;
    bool json = false;
    cli_args_init(&a, argc, argv, 2, "inspect");
    cli_reader_init(&rd);
    while (a.i < argc && !a.bad) {
        const char *p;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (cli_reader_opt(&a, &rd) || cli_opt(&a, "--target", &target) ||
            cli_opt(&a, "--positive", &positive))
            continue;
        if (cli_flag(&a, "--json")) {
            json = true;
            continue;
        }
        if ((p = cli_positional(&a)) && !file) {
            file = p;
            continue;
        }
        if (p)
            cli_usage_error(&a, "unexpected argument '%s'", p);
        else
            cli_unknown(&a);
    }
    if (!a.bad && !file)
        cli_usage_error(&a, "no input file");
    if (!a.bad && positive && !target)
        cli_usage_error(&a, "--positive needs --target");
    if (a.bad)
        return CLI_USAGE;

    struct lift_error err;
    struct lift_table *t;
    if (lift_table_read_csv(file, &rd.opts, &t, &err))
        return cli_fail(&err);
    size_t target_col = 0;
    if (target && lift_table_col_index(t, target, &target_col, &err)) {
        lift_table_free(t);
        return cli_fail(&err);
    }
    size_t n_rows = lift_table_n_rows(t), n_cols = lift_table_n_cols(t);
    char sep = lift_table_sep(t);
    char sep_text[8];
    if (sep == '\t')
        snprintf(sep_text, sizeof sep_text, "tab");
    else
        snprintf(sep_text, sizeof sep_text, "%c", sep);

    json_t *doc = NULL, *cols = NULL;
    if (json) {
        doc = json_object();
        json_object_set_new(doc, "file", json_string(file));
        json_object_set_new(doc, "rows", json_integer((json_int_t)n_rows));
        json_object_set_new(doc, "cols", json_integer((json_int_t)n_cols));
        json_object_set_new(doc, "sep", json_string(sep_text));
        json_object_set_new(doc, "replaced_bytes",
                            json_integer((json_int_t)lift_table_n_replaced(t)));
        cols = json_array();
        json_object_set_new(doc, "columns", cols);
    } else {
        printf("%s: %zu rows x %zu columns, separator '%s'\n", file, n_rows,
               n_cols, sep_text);
        if (lift_table_n_replaced(t))
            printf("  (%zu invalid UTF-8 bytes replaced)\n",
                   lift_table_n_replaced(t));
        printf("  %-20s %-11s %8s %8s  %s\n", "column", "type", "missing",
               "distinct", "summary");
    }
    int rc = CLI_OK;
    for (size_t c = 0; c < n_cols; c++) {
        struct lift_col_stats st;
        if (lift_table_col_stats(t, c, &st, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        if (json)
            json_array_append_new(cols, column_json(t, c, &st));
        else
            print_column(t, c, &st);
    }
    if (target) {
        struct target_level lv[64];
        size_t missing;
        size_t n = target_levels(t, target_col, lv, 64, &missing);
        size_t present = n_rows - missing, pos_count = 0;
        bool pos_found = false;
        for (size_t k = 0; k < n; k++)
            if (positive && strcmp(lv[k].text, positive) == 0) {
                pos_found = true;
                pos_count = lv[k].count;
            }
        if (positive && !pos_found) {
            fprintf(stderr,
                    "lift: error: no value '%s' in target column '%s'\n",
                    positive, target);
            rc = CLI_FAIL;
            goto done;
        }
        if (json) {
            json_t *tg = json_object(), *levels = json_object(),
                   *rates = json_object();
            json_object_set_new(tg, "column", json_string(target));
            for (size_t k = 0; k < n; k++) {
                json_object_set_new(levels, lv[k].text,
                                    json_integer((json_int_t)lv[k].count));
                json_object_set_new(
                    rates, lv[k].text,
                    cli_json_real(
                        present ? (double)lv[k].count / (double)present : NAN));
            }
            json_object_set_new(tg, "levels", levels);
            json_object_set_new(tg, "rates", rates);
            json_object_set_new(tg, "missing",
                                json_integer((json_int_t)missing));
            if (positive) {
                json_object_set_new(tg, "positive", json_string(positive));
                json_object_set_new(
                    tg, "positive_rate",
                    cli_json_real(present ? (double)pos_count / (double)present
                                          : NAN));
            }
            json_object_set_new(doc, "target", tg);
        } else {
            printf("target '%s':", target);
            for (size_t k = 0; k < n; k++)
                printf(" %s %zu (%.2f %%)%s", lv[k].text, lv[k].count,
                       present ? 100.0 * (double)lv[k].count / (double)present
                               : 0.0,
                       k + 1 < n ? "," : "");
            if (missing)
                printf(", missing %zu", missing);
            printf("\n");
        }
    }
    if (json) {
        rc = cli_json_print(doc);
        doc = NULL;
    }
done:
    json_decref(doc);
    lift_table_free(t);
    return rc;
}
