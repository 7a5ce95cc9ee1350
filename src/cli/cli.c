/*
 * cli/cli.c - argument scanning, reader flags, errors and JSON output.
 */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>

void cli_args_init(struct cli_args *a, int argc, char **argv, int first,
                   const char *cmd)
{
    a->argc = argc;
    a->argv = argv;
    a->i = first;
    a->cmd = cmd;
    a->bad = false;
}

void cli_usage_error(struct cli_args *a, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lift: error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'lift %s --help')\n", a->cmd);
    a->bad = true;
}

bool cli_flag(struct cli_args *a, const char *name)
{
    if (a->i < a->argc && strcmp(a->argv[a->i], name) == 0) {
        a->i++;
        return true;
    }
    return false;
}

bool cli_opt(struct cli_args *a, const char *name, const char **val)
{
    if (a->i >= a->argc)
        return false;
    const char *arg = a->argv[a->i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (arg[n] == '=') {
        *val = arg + n + 1;
        a->i++;
        return true;
    }
    if (arg[n] != '\0')
        return false;
    if (a->i + 1 >= a->argc) {
        cli_usage_error(a, "%s needs a value", name);
        a->i++;
        *val = NULL;
        return true;
    }
    *val = a->argv[a->i + 1];
    a->i += 2;
    return true;
}

const char *cli_positional(struct cli_args *a)
{
    if (a->i < a->argc &&
        (strncmp(a->argv[a->i], "--", 2) != 0 || a->argv[a->i][2] == '\0') &&
        strcmp(a->argv[a->i], "-o") != 0)
        return a->argv[a->i++];
    return NULL;
}

void cli_unknown(struct cli_args *a)
{
    cli_usage_error(a, "unknown argument '%s'", a->argv[a->i]);
    a->i++;
}

bool cli_parse_size(struct cli_args *a, const char *flag, const char *s,
                    size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!s || !*s || *end || errno || s[0] == '-') {
        cli_usage_error(a, "%s takes a whole number, not '%s'", flag,
                        s ? s : "");
        return false;
    }
    *out = (size_t)v;
    return true;
}

bool cli_parse_double(struct cli_args *a, const char *flag, const char *s,
                      double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0.0;
    if (!s || !*s || *end || errno || !isfinite(v)) {
        cli_usage_error(a, "%s takes a number, not '%s'", flag, s ? s : "");
        return false;
    }
    *out = v;
    return true;
}

void cli_reader_init(struct cli_reader *r)
{
    memset(r, 0, sizeof *r);
    lift_read_opts_init(&r->opts);
    r->opts.missing = r->missing;
    r->opts.types = r->types;
}

bool cli_reader_opt(struct cli_args *a, struct cli_reader *r)
{
    const char *v;
    struct lift_error err;
    if (cli_opt(a, "--sep", &v)) {
        if (v && lift_parse_sep(v, &r->opts.sep, &err)) {
            cli_usage_error(a, "%s", err.msg);
        }
        return true;
    }
    if (cli_flag(a, "--no-header")) {
        r->opts.no_header = true;
        return true;
    }
    if (cli_flag(a, "--no-quote")) {
        r->opts.no_quote = true;
        return true;
    }
    if (cli_opt(a, "--columns", &v)) {
        r->opts.columns = v;
        return true;
    }
    if (cli_opt(a, "--missing", &v)) {
        if (v && r->opts.n_missing == CLI_MAX_SPECS)
            cli_usage_error(a, "more than %d --missing flags", CLI_MAX_SPECS);
        else if (v)
            r->missing[r->opts.n_missing++] = v;
        return true;
    }
    if (cli_opt(a, "--type", &v)) {
        if (v && r->opts.n_types == CLI_MAX_SPECS)
            cli_usage_error(a, "more than %d --type flags", CLI_MAX_SPECS);
        else if (v)
            r->types[r->opts.n_types++] = v;
        return true;
    }
    if (cli_opt(a, "--utf8", &v)) {
        if (v && strcmp(v, "strict") == 0)
            r->opts.utf8 = LIFT_UTF8_STRICT;
        else if (v && strcmp(v, "replace") == 0)
            r->opts.utf8 = LIFT_UTF8_REPLACE;
        else if (v)
            cli_usage_error(a, "--utf8 takes strict or replace, not '%s'", v);
        return true;
    }
    static const struct {
        const char *flag;
        size_t offset;
    } caps[] = {
        {"--max-rows", offsetof(struct lift_read_opts, max_rows)},
        {"--max-field", offsetof(struct lift_read_opts, max_field)},
        {"--max-line", offsetof(struct lift_read_opts, max_line)},
        {"--max-cols", offsetof(struct lift_read_opts, max_cols)},
    };
    for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++)
        if (cli_opt(a, caps[k].flag, &v)) {
            size_t n;
            if (v && cli_parse_size(a, caps[k].flag, v, &n))
                *(size_t *)(void *)((char *)&r->opts + caps[k].offset) = n;
            return true;
        }
    return false;
}

int cli_fail(const struct lift_error *err)
{
    fprintf(stderr, "lift: error: %s\n", err->msg);
    return CLI_FAIL;
}

json_t *cli_json_real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *cli_report_doc(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!doc)
        fprintf(stderr, "lift: error: bad report: %s\n", jerr.text);
    return doc;
}

int cli_json_print(json_t *doc)
{
    if (!doc) {
        fprintf(stderr, "lift: error: out of memory (json output)\n");
        return CLI_FAIL;
    }
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    json_decref(doc);
    fputc('\n', stdout);
    if (rc != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "lift: error: cannot write the output\n");
        return CLI_FAIL;
    }
    return CLI_OK;
}

int cli_write_file_atomic(const char *path, const char *data, size_t len)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        fprintf(stderr, "lift: error: out of memory\n");
        return CLI_FAIL;
    }
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "lift: error: cannot create a file beside '%s': %s\n",
                path, strerror(errno));
        free(tmp);
        return CLI_FAIL;
    }
    int rc = CLI_OK;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off != len || fsync(fd) != 0 || fchmod(fd, 0644) != 0) {
        fprintf(stderr, "lift: error: cannot write '%s': %s\n", path,
                strerror(errno));
        rc = CLI_FAIL;
    }
    if (close(fd) != 0 && rc == CLI_OK) {
        fprintf(stderr, "lift: error: cannot write '%s': %s\n", path,
                strerror(errno));
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK && rename(tmp, path) != 0) {
        fprintf(stderr, "lift: error: cannot rename to '%s': %s\n", path,
                strerror(errno));
        rc = CLI_FAIL;
    }
    if (rc != CLI_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

void cli_csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
