/*
 * cli/uplift.c - `lift uplift FILE --treatment COL --control LABEL
 * --target COL [--positive L] [--model KIND] [--drop a,b] [--seed N]
 * [uplift and training options] [reader flags] [--json]`.
 * Every `--key VALUE` that is not a reader flag goes to
 * lift_uplift_opts_set, which takes the uplift keys and checks training
 * keys; the report is the library's JSON document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: lift uplift FILE --treatment COL --control LABEL --target COL\n"
    "       [--positive L] [--model KIND] [--drop a,b] [--seed N]\n"
    "       [--estimators t_learner,class_transformation]\n"
    "       [--test-fraction F] [--k F] [--bootstrap B] [--value V]\n"
    "       [--cost C] [--folds K] [-o OUT.csv] [training options]\n"
    "       [reader flags] [--json]\n"
    "\n"
    "Fits uplift models (T-learner and class transformation) on a\n"
    "randomised campaign and evaluates them on a seeded held-out split\n"
    "(--test-fraction) or, with --folds K, by K-fold cross-fitting (every\n"
    "row scored by the models of the other folds): Qini coefficient with\n"
    "a bootstrap interval (resamples within each arm), normalised Qini,\n"
    "AUUC, uplift at the top k share, the average effect beside the\n"
    "difference in means, the best treatment per customer and targeting\n"
    "by uplift x value - cost.\n"
    "-o writes each row's file line, uplift per treatment and best\n"
    "treatment (T-learner unless --estimators names only the other).\n";

/* Consumes `--key VALUE` (or --key=VALUE) into o; false when the current
 * argument is not an option. */
static bool uplift_opt(struct cli_args *a, struct lift_uplift_opts *o)
{
    const char *arg = a->argv[a->i];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
        return false;
    char key[64], flag[80];
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (klen >= sizeof key)
        return false;
    memcpy(key, arg + 2, klen);
    key[klen] = '\0';
    snprintf(flag, sizeof flag, "--%s", key);
    const char *value;
    if (!cli_opt(a, flag, &value))
        return false;
    struct lift_error err;
    if (value && lift_uplift_opts_set(o, key, value, &err))
        cli_usage_error(a, "%s", err.msg);
    return true;
}

static int write_rows(json_t *doc, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        fprintf(stderr, "lift: error: out of memory (rows)\n");
        return CLI_FAIL;
    }
    json_t *rows = json_object_get(doc, "customer_rows");
    json_t *first = json_array_get(rows, 0);
    const char *lab;
    json_t *v;
    fputs("line", f);
    json_object_foreach(json_object_get(first, "uplift"), lab, v)
    {
        fputc(',', f);
        char name[512];
        snprintf(name, sizeof name, "uplift_%s", lab);
        cli_csv_field(f, name);
    }
    fputs(",best\n", f);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        fprintf(f, "%lld",
                (long long)json_integer_value(json_object_get(r, "line")));
        json_object_foreach(json_object_get(r, "uplift"), lab, v)
        {
            fprintf(f, ",%.6g", json_number_value(v));
        }
        fputc(',', f);
        cli_csv_field(f, json_string_value(json_object_get(r, "best")));
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "lift: error: out of memory (rows)\n");
        free(buf);
        return CLI_FAIL;
    }
    int rc = cli_write_file_atomic(path, buf, len);
    free(buf);
    return rc;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0 / 0.0;
}

static void print_report(json_t *doc)
{
    const char *ev = json_string_value(json_object_get(doc, "evaluation"));
    if (ev && strcmp(ev, "cross_fitting") == 0)
        printf("%lld rows, %lld-fold cross-fitting: every row scored by "
               "models trained on the other folds (%lld rows each)\n",
               (long long)num(doc, "rows"), (long long)num(doc, "folds"),
               (long long)num(doc, "train_rows"));
    else
        printf("%lld rows, held-out split: models trained on %lld rows, "
               "evaluated on the other %lld\n",
               (long long)num(doc, "rows"), (long long)num(doc, "train_rows"),
               (long long)num(doc, "test_rows"));
    printf("k = %.2f, %lld bootstrap resamples within each arm\n",
           num(doc, "k"), (long long)num(doc, "bootstrap"));
    size_t i;
    json_t *tr;
    json_array_foreach(json_object_get(doc, "treatments"), i, tr)
    {
        json_t *d = json_object_get(tr, "difference_in_means");
        printf("\n%s vs %s: difference in means %.5f [%.5f, %.5f]\n",
               json_string_value(json_object_get(tr, "label")),
               json_string_value(json_object_get(doc, "control")),
               num(d, "effect"), num(d, "lo"), num(d, "hi"));
        printf("  %-22s %9s %21s %7s %9s %9s %8s %9s\n", "estimator", "qini",
               "95% interval", "norm", "auuc", "uplift@k", "beats", "effect");
        const char *name;
        json_t *e;
        json_object_foreach(json_object_get(tr, "estimators"), name, e)
        {
            printf("  %-22s %9.5f [%9.5f,%9.5f] %7.4f %9.5f %9.5f %8.3f "
                   "%9.5f\n",
                   name, num(e, "qini"), num(e, "qini_lo"), num(e, "qini_hi"),
                   num(e, "qini_normalised"), num(e, "auuc"),
                   num(e, "uplift_at_k"), num(e, "top_beats_random"),
                   num(e, "average_effect"));
        }
    }
    const char *name;
    json_t *b;
    printf("\nbest treatment per customer (uplift x %g - %g > 0):\n",
           num(doc, "value"), num(doc, "cost"));
    json_object_foreach(json_object_get(doc, "best_treatment"), name, b)
    {
        printf("  %-22s", name);
        const char *lab;
        json_t *c;
        json_object_foreach(b, lab, c)
        {
            printf(" %s %lld;", lab, (long long)json_integer_value(c));
        }
        json_t *tg = json_object_get(json_object_get(doc, "targeting"), name);
        printf(" expected profit %.2f\n", num(tg, "expected_profit"));
    }
}

int cmd_uplift(int argc, char **argv)
{
    struct cli_args a;
    struct cli_reader rd;
    struct lift_error err;
    struct lift_uplift_opts *o = NULL;
    const char *file = NULL, *out = NULL;
    bool json = false;
    if (lift_uplift_opts_new(&o, &err))
        return cli_fail(&err);
    cli_args_init(&a, argc, argv, 2, "uplift");
    cli_reader_init(&rd);
    while (a.i < argc && !a.bad) {
        const char *p;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            fputs(usage, stdout);
            lift_uplift_opts_free(o);
            return CLI_OK;
        }
        if (cli_flag(&a, "--json")) {
            json = true;
            continue;
        }
        if (cli_opt(&a, "-o", &out) || cli_reader_opt(&a, &rd) ||
            uplift_opt(&a, o))
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
    if (!a.bad && out && lift_uplift_opts_set(o, "customers", "true", &err))
        cli_usage_error(&a, "%s", err.msg);
    if (a.bad) {
        lift_uplift_opts_free(o);
        return CLI_USAGE;
    }
    struct lift_table *t = NULL;
    char *text = NULL;
    int rc = CLI_OK;
    if (lift_table_read_csv(file, &rd.opts, &t, &err) ||
        lift_uplift_run(t, o, &text, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    json_t *doc = cli_report_doc(text);
    if (!doc) {
        rc = CLI_FAIL;
        goto done;
    }
    if (out) {
        rc = write_rows(doc, out);
        json_object_del(doc, "customer_rows");
        if (rc != CLI_OK) {
            json_decref(doc);
            goto done;
        }
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
    lift_uplift_opts_free(o);
    return rc;
}
