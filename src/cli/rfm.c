/*
 * cli/rfm.c - `lift rfm FILE (--recency COL --frequency COL --monetary COL
 * | --customer COL --date COL --amount COL [--as-of DATE]) [-o OUT.csv]
 * [reader flags] [--json]`: RFM quintile scores and named segments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: lift rfm FILE --recency COL --frequency COL --monetary COL\n"
    "       lift rfm FILE --customer COL --date COL --amount COL "
    "[--as-of DATE]\n"
    "       [-o OUT.csv] [--customers] [reader flags] [--json]\n"
    "\n"
    "Scores each customer 1..5 on recency, frequency and monetary value\n"
    "(quintiles, ties sharing a score) and names its segment from the R x F\n"
    "table (champions, loyal, potential loyalists, new, at risk, can't\n"
    "lose, hibernating, lost). From transactions, lift aggregates per\n"
    "customer: days since the last purchase as of --as-of (default: the\n"
    "day after the latest), number of purchases, sum of amounts.\n"
    "-o writes one line per customer; --customers lists them in --json.\n";

static const char *const keys[] = {
    "recency", "frequency", "monetary", "customer", "date", "amount", "as-of"};

static int write_rows(json_t *doc, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        fprintf(stderr, "lift: error: out of memory (rows)\n");
        return CLI_FAIL;
    }
    fputs("customer,recency,frequency,monetary,r,f,m,segment\n", f);
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "customer_rows"), i, r)
    {
        json_t *id = json_object_get(r, "customer");
        if (json_is_string(id))
            cli_csv_field(f, json_string_value(id));
        else if (json_is_integer(id))
            fprintf(f, "%lld", (long long)json_integer_value(id));
        else
            fprintf(f, "%.17g", json_number_value(id));
        fprintf(f, ",%.17g,%.17g,%.17g,%lld,%lld,%lld,",
                json_number_value(json_object_get(r, "recency")),
                json_number_value(json_object_get(r, "frequency")),
                json_number_value(json_object_get(r, "monetary")),
                (long long)json_integer_value(json_object_get(r, "r")),
                (long long)json_integer_value(json_object_get(r, "f")),
                (long long)json_integer_value(json_object_get(r, "m")));
        cli_csv_field(f, json_string_value(json_object_get(r, "segment")));
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

static void print_report(json_t *doc)
{
    printf("%lld customers, %lld scored",
           (long long)json_integer_value(json_object_get(doc, "customers")),
           (long long)json_integer_value(json_object_get(doc, "scored")));
    json_t *as_of = json_object_get(doc, "as_of");
    if (json_is_string(as_of))
        printf(", as of %s", json_string_value(as_of));
    printf("\n  %-20s %9s %7s %10s %10s %12s\n", "segment", "customers",
           "share", "recency", "frequency", "monetary");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "segments"), i, s)
    {
        printf("  %-20s %9lld %6.1f%% %10.2f %10.2f %12.2f\n",
               json_string_value(json_object_get(s, "segment")),
               (long long)json_integer_value(json_object_get(s, "customers")),
               100 * json_number_value(json_object_get(s, "share")),
               json_number_value(json_object_get(s, "recency")),
               json_number_value(json_object_get(s, "frequency")),
               json_number_value(json_object_get(s, "monetary")));
    }
}

int cmd_rfm(int argc, char **argv)
{
    struct cli_args a;
    struct cli_reader rd;
    struct lift_error err;
    struct lift_rfm_opts *o = NULL;
    const char *file = NULL, *out = NULL;
    bool json = false, list = false;
    if (lift_rfm_opts_new(&o, &err))
        return cli_fail(&err);
    cli_args_init(&a, argc, argv, 2, "rfm");
    cli_reader_init(&rd);
    while (a.i < argc && !a.bad) {
        const char *p, *v;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            fputs(usage, stdout);
            lift_rfm_opts_free(o);
            return CLI_OK;
        }
        if (cli_flag(&a, "--json")) {
            json = true;
            continue;
        }
        if (cli_flag(&a, "--customers")) {
            list = true;
            continue;
        }
        if (cli_opt(&a, "-o", &out) || cli_reader_opt(&a, &rd))
            continue;
        bool taken = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0] && !taken; k++) {
            char flag[32];
            snprintf(flag, sizeof flag, "--%s", keys[k]);
            if (cli_opt(&a, flag, &v)) {
                taken = true;
                if (v && lift_rfm_opts_set(o, keys[k], v, &err))
                    cli_usage_error(&a, "%s", err.msg);
            }
        }
        if (taken)
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
    if (!a.bad && (list || out) &&
        lift_rfm_opts_set(o, "customers", "true", &err))
        cli_usage_error(&a, "%s", err.msg);
    if (a.bad) {
        lift_rfm_opts_free(o);
        return CLI_USAGE;
    }
    struct lift_table *t = NULL;
    char *text = NULL;
    int rc = CLI_OK;
    if (lift_table_read_csv(file, &rd.opts, &t, &err) ||
        lift_rfm_run(t, o, &text, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    json_t *doc = cli_report_doc(text);
    if (!doc) {
        rc = CLI_FAIL;
        goto done;
    }
    if (out && (rc = write_rows(doc, out)) != CLI_OK) {
        json_decref(doc);
        goto done;
    }
    if (out && !list)
        json_object_del(doc, "customer_rows");
    if (json) {
        rc = cli_json_print(doc);
    } else {
        print_report(doc);
        json_decref(doc);
    }
done:
    free(text);
    lift_table_free(t);
    lift_rfm_opts_free(o);
    return rc;
}
