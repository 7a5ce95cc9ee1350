/*
 * cli/target.c - `lift target` (whom to contact, how many, what it earns)
 * and `lift report` (one HTML page of charts): thin layers over
 * include/lift/marketing.h.
 *
 * Bad economics (a negative cost, a value <= 0, a budget below one
 * contact, conflicting limits, a value column holding text) are the
 * library's errors and exit 1 with its sentence; a flag without a number
 * is a usage error (exit 2).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

static const char target_usage[] =
    "usage: lift target MODEL FILE [reader flags] --cost C --value V\n"
    "       [--value-col COL] [--budget B | --max-contacts N | --min-roi R]\n"
    "       [--id COL] [-o selected.csv] [--json]\n"
    "\n"
    "Ranks the customers of FILE by expected profit (calibrated P(positive)\n"
    "x value - cost) and picks how many to contact: the most profitable\n"
    "count within the limit (none: maximise expected profit). Prints the\n"
    "plan next to contacting everyone and contacting at random, and, when\n"
    "FILE holds the target, the profit realised on its labels. -o writes\n"
    "the selection as CSV (row,score,expected_profit; row is 1-based, or\n"
    "the --id column's value).\n";

static const char report_usage[] =
    "usage: lift report MODEL FILE [reader flags] [--cost C --value V]\n"
    "       [--value-col COL] [--budget B | --max-contacts N | --min-roi R]\n"
    "       [--title T] -o report.html\n"
    "\n"
    "Writes one self-contained HTML page (inline SVG, no script, nothing\n"
    "fetched): metrics, cumulative gain and lift by decile, calibration,\n"
    "ROC, top importances, and with --cost and --value the campaign plan\n"
    "and its profit curve. FILE must hold the model's target.\n";

struct target_args {
    struct cli_args a;
    struct cli_reader rd;
    struct lift_campaign_opts eco;
    const char *model_path, *file, *output, *id, *title;
    bool json, has_cost, has_value;
};

/* Consumes one numeric flag into *out. */
static bool num_opt(struct cli_args *a, const char *flag, double *out,
                    bool *seen)
{
    const char *v;
    if (!cli_opt(a, flag, &v))
        return false;
    if (v && cli_parse_double(a, flag, v, out) && seen)
        *seen = true;
    return true;
}

static int parse(struct target_args *ta, int argc, char **argv, const char *cmd,
                 const char *usage)
{
    struct cli_args *a = &ta->a;
    cli_args_init(a, argc, argv, 2, cmd);
    cli_reader_init(&ta->rd);
    lift_campaign_opts_init(&ta->eco);
    while (a->i < argc && !a->bad) {
        if (cli_flag(a, "--help") || cli_flag(a, "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if (cli_flag(a, "--json")) {
            ta->json = true;
            continue;
        }
        if (cli_opt(a, "-o", &ta->output) ||
            cli_opt(a, "--output", &ta->output) ||
            cli_opt(a, "--id", &ta->id) ||
            cli_opt(a, "--value-col", &ta->eco.value_col) ||
            cli_opt(a, "--title", &ta->title))
            continue;
        if (num_opt(a, "--cost", &ta->eco.cost, &ta->has_cost) ||
            num_opt(a, "--value", &ta->eco.value, &ta->has_value) ||
            num_opt(a, "--budget", &ta->eco.budget, NULL) ||
            num_opt(a, "--max-contacts", &ta->eco.max_contacts, NULL) ||
            num_opt(a, "--min-roi", &ta->eco.min_roi, NULL))
            continue;
        if (cli_reader_opt(a, &ta->rd))
            continue;
        const char *p = cli_positional(a);
        if (p && !ta->model_path)
            ta->model_path = p;
        else if (p && !ta->file)
            ta->file = p;
        else if (p)
            cli_usage_error(a, "unexpected argument '%s'", p);
        else
            cli_unknown(a);
    }
    if (!a->bad && !ta->model_path)
        cli_usage_error(a, "no model file");
    if (!a->bad && !ta->file)
        cli_usage_error(a, "no input file");
    return a->bad ? CLI_USAGE : CLI_OK;
}

/* Writes data to path atomically: a temp file beside it, fsync, rename. */
static void print_totals(const char *name, json_t *o)
{
    json_t *roi = json_object_get(o, "roi");
    printf("  %-22s %8lld %11.1f %12.2f %11.2f %12.2f", name,
           (long long)json_integer_value(json_object_get(o, "contacts")),
           json_number_value(json_object_get(o, "conversions")),
           json_number_value(json_object_get(o, "revenue")),
           json_number_value(json_object_get(o, "cost")),
           json_number_value(json_object_get(o, "profit")));
    if (json_is_number(roi))
        printf(" %8.1f %%", 100 * json_number_value(roi));
    printf("\n");
}

static void print_plan(json_t *doc)
{
    json_t *cut = json_object_get(doc, "cutoff");
    json_t *lim = json_object_get(doc, "limit");
    printf("cut-off: contact %lld of %lld customers (%.1f %%), limit %s",
           (long long)json_integer_value(json_object_get(cut, "contacts")),
           (long long)json_integer_value(json_object_get(doc, "rows")),
           100 * json_number_value(json_object_get(cut, "fraction")),
           json_string_value(json_object_get(lim, "kind")));
    if (json_is_number(json_object_get(lim, "value")))
        printf(" %g", json_number_value(json_object_get(lim, "value")));
    if (json_is_number(json_object_get(cut, "score")))
        printf(", lowest score taken %.4f",
               json_number_value(json_object_get(cut, "score")));
    printf("\n\n  %-22s %8s %11s %12s %11s %12s %10s\n", "expected", "contacts",
           "conversions", "revenue", "cost", "profit", "ROI");
    print_totals("plan", json_object_get(doc, "plan"));
    print_totals("everyone", json_object_get(doc, "everyone"));
    print_totals("random, same count", json_object_get(doc, "random"));
    json_t *real = json_object_get(doc, "realised");
    if (real) {
        printf("\n  %-22s %8s %11s %12s %11s %12s %10s\n", "realised (labels)",
               "contacts", "conversions", "revenue", "cost", "profit", "ROI");
        print_totals("plan", json_object_get(real, "plan"));
        print_totals("top 10 %", json_object_get(real, "top_10"));
        print_totals("top 20 %", json_object_get(real, "top_20"));
        print_totals("top 30 %", json_object_get(real, "top_30"));
        print_totals("everyone", json_object_get(real, "everyone"));
        json_t *lt = json_object_get(doc, "lift_table");
        if (json_array_size(lt))
            printf("\n  top-decile lift over random: %.2f\n",
                   json_number_value(
                       json_object_get(json_array_get(lt, 0), "lift")));
    }
}

int cmd_target(int argc, char **argv)
{
    struct target_args ta = {0};
    int rc = parse(&ta, argc, argv, "target", target_usage);
    if (rc)
        return rc == -1 ? CLI_OK : rc;
    if (!ta.has_cost || (!ta.has_value && !ta.eco.value_col)) {
        cli_usage_error(&ta.a, "give --cost and --value (or --value-col)");
        return CLI_USAGE;
    }
    struct lift_error err;
    struct lift_model *m = NULL;
    struct lift_table *t = NULL;
    struct lift_campaign *c = NULL;
    char *text = NULL, *csv = NULL;
    size_t csv_len = 0;
    json_t *doc = NULL;
    if (lift_campaign_opts_check(&ta.eco, &err) ||
        lift_model_load(ta.model_path, &m, &err) ||
        lift_table_read_csv(ta.file, &ta.rd.opts, &t, &err) ||
        lift_campaign_plan(m, t, &ta.eco, &c, &err) ||
        lift_campaign_json(c, t, ta.id, 0, &text, &err) ||
        (ta.output && lift_campaign_csv(c, t, ta.id, &csv, &csv_len, &err))) {
        rc = cli_fail(&err);
        goto done;
    }
    if (ta.output && (rc = cli_write_file_atomic(ta.output, csv, csv_len)))
        goto done;
    json_error_t jerr;
    if (!(doc = json_loads(text, 0, &jerr))) {
        fprintf(stderr, "lift: error: bad plan document: %s\n", jerr.text);
        rc = CLI_FAIL;
        goto done;
    }
    json_object_del(doc, "selected");
    json_object_set_new(doc, "model", json_string(ta.model_path));
    json_object_set_new(doc, "file", json_string(ta.file));
    if (ta.output)
        json_object_set_new(doc, "output", json_string(ta.output));
    if (ta.json) {
        rc = cli_json_print(doc);
        doc = NULL;
    } else {
        print_plan(doc);
        if (ta.output)
            printf("\nselected customers written to %s\n", ta.output);
    }
done:
    json_decref(doc);
    free(text);
    free(csv);
    lift_campaign_free(c);
    lift_model_free(m);
    lift_table_free(t);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    struct target_args ta = {0};
    int rc = parse(&ta, argc, argv, "report", report_usage);
    if (rc)
        return rc == -1 ? CLI_OK : rc;
    bool economics = ta.has_cost || ta.has_value || ta.eco.value_col;
    if (economics && (!ta.has_cost || (!ta.has_value && !ta.eco.value_col))) {
        cli_usage_error(&ta.a, "give both --cost and --value (or neither)");
        return CLI_USAGE;
    }
    if (!ta.output) {
        cli_usage_error(&ta.a, "give -o report.html");
        return CLI_USAGE;
    }
    struct lift_error err;
    struct lift_model *m = NULL;
    struct lift_table *t = NULL;
    char *html = NULL;
    size_t len = 0;
    if ((economics && lift_campaign_opts_check(&ta.eco, &err)) ||
        lift_model_load(ta.model_path, &m, &err) ||
        lift_table_read_csv(ta.file, &ta.rd.opts, &t, &err) ||
        lift_report_html(m, t, ta.title ? ta.title : ta.model_path,
                         economics ? &ta.eco : NULL, &html, &len, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if ((rc = cli_write_file_atomic(ta.output, html, len)))
        goto done;
    if (ta.json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "output", json_string(ta.output));
        json_object_set_new(doc, "bytes", json_integer((json_int_t)len));
        rc = cli_json_print(doc);
    } else {
        printf("report written to %s (%zu bytes)\n", ta.output, len);
    }
done:
    free(html);
    lift_model_free(m);
    lift_table_free(t);
    return rc;
}
