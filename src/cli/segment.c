/*
 * cli/segment.c - `lift segment FILE [--k K | --k auto] [--columns a,b |
 * --drop a,b] [--target COL [--positive L]] [--seed N] [--n-init N]
 * [--max-iter N] [--tol T] [--k-max K] [--sample N] [reader flags]
 * [--json]`: k-means segments of a customer file, each with its size,
 * centroid, distinguishing levels and response rate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: lift segment FILE [--k K|auto] [--columns a,b | --drop a,b]\n"
    "       [--target COL [--positive L]] [--seed N] [--n-init N]\n"
    "       [--max-iter N] [--tol T] [--k-max K] [--sample N]\n"
    "       [reader flags] [--json]\n"
    "\n"
    "Segments the rows by k-means++ on standardised numeric columns and\n"
    "one-hot categorical ones. Without --k, k = 2..k-max is chosen by the\n"
    "mean silhouette of a seeded sample of at most --sample rows.\n"
    "--columns selects the columns to cluster (it does not rename them as\n"
    "the reader flag of other commands does).\n";

static const char *const keys[] = {"k",        "columns", "drop",   "target",
                                   "positive", "seed",    "n-init", "max-iter",
                                   "tol",      "k-max",   "sample"};

static void print_report(json_t *doc)
{
    printf("k = %lld, inertia %.6g, %lld rows, %lld encoded columns\n",
           (long long)json_integer_value(json_object_get(doc, "k")),
           json_number_value(json_object_get(doc, "inertia")),
           (long long)json_integer_value(json_object_get(doc, "rows")),
           (long long)json_integer_value(json_object_get(doc, "features")));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "segments"), i, s)
    {
        printf("\nsegment %lld: %lld rows (%.1f %%)",
               (long long)json_integer_value(json_object_get(s, "segment")),
               (long long)json_integer_value(json_object_get(s, "size")),
               100 * json_number_value(json_object_get(s, "share")));
        json_t *rr = json_object_get(s, "response_rate");
        if (json_is_number(rr))
            printf(", response rate %.4f", json_number_value(rr));
        printf("\n");
        const char *name;
        json_t *v;
        json_object_foreach(json_object_get(s, "centroid"), name, v)
        {
            printf("  %-20s %.6g\n", name, json_number_value(v));
        }
        size_t j;
        json_t *d;
        json_array_foreach(json_object_get(s, "distinguishing"), j, d)
        {
            printf("  %s = %s: %.1f %% (overall %.1f %%)\n",
                   json_string_value(json_object_get(d, "column")),
                   json_string_value(json_object_get(d, "level")),
                   100 * json_number_value(json_object_get(d, "share")),
                   100 * json_number_value(json_object_get(d, "overall")));
        }
    }
}

int cmd_segment(int argc, char **argv)
{
    struct cli_args a;
    struct cli_reader rd;
    struct lift_error err;
    struct lift_segment_opts *o = NULL;
    const char *file = NULL;
    bool json = false;
    if (lift_segment_opts_new(&o, &err))
        return cli_fail(&err);
    cli_args_init(&a, argc, argv, 2, "segment");
    cli_reader_init(&rd);
    while (a.i < argc && !a.bad) {
        const char *p, *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            fputs(usage, stdout);
            lift_segment_opts_free(o);
            return CLI_OK;
        }
        if (cli_flag(&a, "--json")) {
            json = true;
            continue;
        }
        bool taken = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !taken; k++) {
            char flag[32];
            snprintf(flag, sizeof flag, "--%s", keys[k]);
            if (cli_opt(&a, flag, &v)) {
                taken = true;
                if (v && lift_segment_opts_set(o, keys[k], v, &err))
                    cli_usage_error(&a, "%s", err.msg);
            }
        }
        /* After the segment keys: --columns here selects columns. */
        if (taken || cli_reader_opt(&a, &rd))
            continue;
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
    if (a.bad) {
        lift_segment_opts_free(o);
        return CLI_USAGE;
    }
    struct lift_table *t = NULL;
    char *text = NULL;
    int rc = CLI_OK;
    if (lift_table_read_csv(file, &rd.opts, &t, &err) ||
        lift_segment_run(t, o, &text, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    json_t *doc = cli_report_doc(text);
    if (!doc) {
        rc = CLI_FAIL;
        goto done;
    }
    if (json) {
        rc = cli_json_print(doc);
    } else {
        print_report(doc);
        json_decref(doc);
    }
done:
    free(text);
    lift_table_free(t);
    lift_segment_opts_free(o);
    return rc;
}
