/*
 * cli/inspect.c - `lift inspect FILE [reader flags] [--target COL]
 * [--positive L] [--json]`: the schema, types, missing values, distinct
 * counts, ranges, top levels and the target's class balance of a file.
 * Both outputs come from the library's one description document
 * (lift_table_describe_json).
 */
#include <stdio.h>
#include <stdlib.h>
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

static long long jint(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void print_column(json_t *c)
{
    const char *type = json_string_value(json_object_get(c, "type"));
    printf("  %-20s %-11s %8lld %8lld  ",
           json_string_value(json_object_get(c, "name")), type,
           jint(c, "missing"), jint(c, "distinct"));
    json_t *top = json_object_get(c, "top");
    if (top) {
        size_t i;
        json_t *e;
        json_array_foreach(top, i, e)
        {
            if (i == 3)
                break;
            const char *v = json_string_value(json_object_get(e, "value"));
            printf("%s%.*s%s (%lld)", i ? ", " : "", 24, v,
                   strlen(v) > 24 ? "..." : "", jint(e, "count"));
        }
    } else if (jint(c, "count")) {
        printf("%.6g .. %.6g, mean %.6g",
               json_number_value(json_object_get(c, "min")),
               json_number_value(json_object_get(c, "max")),
               json_number_value(json_object_get(c, "mean")));
    }
    printf("\n");
}

static void print_doc(json_t *doc, const char *file)
{
    printf("%s: %lld rows x %lld columns, separator '%s'\n", file,
           jint(doc, "rows"), jint(doc, "cols"),
           json_string_value(json_object_get(doc, "sep")));
    if (jint(doc, "replaced_bytes"))
        printf("  (%lld invalid UTF-8 bytes replaced)\n",
               jint(doc, "replaced_bytes"));
    printf("  %-20s %-11s %8s %8s  %s\n", "column", "type", "missing",
           "distinct", "summary");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "columns"), i, c) print_column(c);
    json_t *tg = json_object_get(doc, "target");
    if (!tg)
        return;
    printf("target '%s':", json_string_value(json_object_get(tg, "column")));
    json_t *levels = json_object_get(tg, "levels"),
           *rates = json_object_get(tg, "rates");
    const char *k;
    json_t *v;
    size_t n = 0, total = json_object_size(levels);
    json_object_foreach(levels, k, v)
    {
        printf(" %s %lld (%.2f %%)%s", k, (long long)json_integer_value(v),
               100.0 * json_number_value(json_object_get(rates, k)),
               ++n < total ? "," : "");
    }
    if (jint(tg, "missing"))
        printf(", missing %lld", jint(tg, "missing"));
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
    struct lift_table *t = NULL;
    char *text = NULL;
    int rc = CLI_OK;
    if (lift_table_read_csv(file, &rd.opts, &t, &err) ||
        lift_table_describe_json(t, target, positive, &text, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "lift: error: bad description: %s\n", jerr.text);
        rc = CLI_FAIL;
        goto done;
    }
    if (json) {
        json_t *out = json_object();
        json_object_set_new(out, "file", json_string(file));
        json_object_update(out, doc);
        json_decref(doc);
        rc = cli_json_print(out);
    } else {
        print_doc(doc, file);
        json_decref(doc);
    }
done:
    free(text);
    lift_table_free(t);
    return rc;
}
