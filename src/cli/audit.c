/*
 * cli/audit.c - `lift admin audit`: exports the audit log of a data dir.
 *
 *   lift admin audit --data-dir DIR [--tenant NAME] [--format jsonl|csv]
 *                    [-o FILE]
 *
 * Entries come newest first, as GET /v1/audit gives them, read from the
 * registry in pages of AUDIT_PAGE (so the registry lock is never held
 * long while a server writes beside it). Without --tenant every entry is
 * exported, the operator's own (tenant null / empty) included; --tenant
 * also names a deleted tenant (the one last deleted under that name when
 * no tenant has it now). With -o
 * the file is written atomically (cli_write_file_atomic): a failed export
 * leaves no half-written file.
 *
 * jsonl: one object a line, the fields of GET /v1/audit
 * ({"id","tenant","key","action","object","status","time"}, time in unix
 * seconds). csv: a header line, then id,time,tenant,key,action,object,
 * status, time as ISO 8601 UTC. An entry holds names and ids only: no
 * record values, no keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lift/store.h>

#include "cli/cli.h"

#define AUDIT_PAGE 1000

static const char usage[] =
    "usage: lift admin audit --data-dir DIR [--tenant NAME]\n"
    "                        [--format jsonl|csv] [-o FILE]\n"
    "\n"
    "Exports the audit log of a `lift serve` data dir, newest first: every\n"
    "write (who: tenant and key id; what: action and object name; when;\n"
    "outcome: HTTP status), all tenants' and the operator's unless\n"
    "--tenant is given. jsonl (the default) prints one JSON object a line;\n"
    "csv a header and id,time,tenant,key,action,object,status. -o writes\n"
    "FILE atomically instead of printing.\n";

/* One entry as a CSV row. */
static void csv_row(FILE *f, json_t *e)
{
    char when[40] = "";
    time_t t = (time_t)json_integer_value(json_object_get(e, "time"));
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char *tenant = json_string_value(json_object_get(e, "tenant"));
    fprintf(f, "%lld,%s,",
            (long long)json_integer_value(json_object_get(e, "id")), when);
    cli_csv_field(f, tenant ? tenant : "");
    fprintf(f, ",%lld,",
            (long long)json_integer_value(json_object_get(e, "key")));
    cli_csv_field(f, json_string_value(json_object_get(e, "action")));
    fputc(',', f);
    cli_csv_field(f, json_string_value(json_object_get(e, "object")));
    fprintf(f, ",%lld\n",
            (long long)json_integer_value(json_object_get(e, "status")));
}

/* Writes every entry of tenant (all when < 0) to f. */
static int export(struct lift_store *s, int64_t tenant, bool csv, FILE *f)
{
    struct lift_error err;
    int64_t before = 0;
    if (csv)
        fputs("id,time,tenant,key,action,object,status\n", f);
    for (;;) {
        char *text;
        if (lift_store_audit_page(s, tenant, before, AUDIT_PAGE, &text, &err))
            return cli_fail(&err);
        json_t *page = json_loads(text, 0, NULL);
        free(text);
        if (!page) {
            fprintf(stderr, "lift: error: bad JSON from the store\n");
            return CLI_FAIL;
        }
        size_t i, n = json_array_size(page);
        json_t *e;
        json_array_foreach(page, i, e)
        {
            if (csv) {
                csv_row(f, e);
            } else {
                char *line = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
                if (!line) {
                    json_decref(page);
                    fprintf(stderr, "lift: error: out of memory\n");
                    return CLI_FAIL;
                }
                fprintf(f, "%s\n", line);
                free(line);
            }
            before = json_integer_value(json_object_get(e, "id"));
        }
        json_decref(page);
        if (n < AUDIT_PAGE)
            return CLI_OK;
    }
}

int cmd_admin_audit(struct cli_args *a)
{
    const char *dir = NULL, *tenant_name = NULL, *format = "jsonl";
    const char *out = NULL, *p;
    while (a->i < a->argc && !a->bad) {
        if (cli_flag(a, "--help") || cli_flag(a, "-h")) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (cli_opt(a, "--data-dir", &dir) ||
            cli_opt(a, "--tenant", &tenant_name) ||
            cli_opt(a, "--format", &format) || cli_opt(a, "-o", &out))
            continue;
        if ((p = cli_positional(a))) {
            cli_usage_error(a, "unexpected argument '%s'", p);
            continue;
        }
        cli_unknown(a);
    }
    if (!a->bad && !dir)
        cli_usage_error(a, "--data-dir DIR is required");
    if (!a->bad && strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0)
        cli_usage_error(a, "--format takes jsonl or csv, not '%s'", format);
    if (a->bad)
        return CLI_USAGE;
    struct lift_store *s = NULL;
    struct lift_error err;
    if (lift_store_open(dir, &s, &err))
        return cli_fail(&err);
    int64_t tenant = -1;
    int rc = CLI_OK;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    /* a deleted tenant's entries stay: its name still finds them */
    if (tenant_name &&
        lift_store_tenant_lookup(s, tenant_name, &tenant, NULL, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    f = out ? open_memstream(&buf, &len) : stdout;
    if (!f) {
        fprintf(stderr, "lift: error: out of memory\n");
        rc = CLI_FAIL;
        goto done;
    }
    rc = export(s, tenant, strcmp(format, "csv") == 0, f);
    if (out) {
        if (fclose(f) != 0 && rc == CLI_OK) {
            fprintf(stderr, "lift: error: out of memory\n");
            rc = CLI_FAIL;
        }
        if (rc == CLI_OK)
            rc = cli_write_file_atomic(out, buf ? buf : "", len);
    } else if (fflush(stdout) != 0) {
        fprintf(stderr, "lift: error: cannot write the export\n");
        rc = CLI_FAIL;
    }
done:
    free(buf);
    lift_store_close(s);
    return rc;
}
