/*
 * cli/cli.h - shared pieces of the `lift` command: argument scanning,
 * reader flags, error reporting, JSON output.
 *
 * The CLI uses only the public API (include/lift/). Exit codes: 0 ok,
 * 1 failure, 2 usage. Errors go to stderr as "lift: error: <message>".
 */
#ifndef LIFT_CLI_H
#define LIFT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <lift/lift.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli_args {
    int argc;
    char **argv;
    int i;           /* next argument to look at */
    const char *cmd; /* e.g. "inspect", for messages */
    bool bad;        /* a usage error was already reported */
};

/* Reader flags shared by every command that reads a file. */
#define CLI_MAX_SPECS 64
struct cli_reader {
    struct lift_read_opts opts;
    const char *missing[CLI_MAX_SPECS];
    const char *types[CLI_MAX_SPECS];
};

void cli_args_init(struct cli_args *a, int argc, char **argv, int first,
                   const char *cmd);
/* True (and consumed) when the current argument is the flag `name`. */
bool cli_flag(struct cli_args *a, const char *name);
/* True (and consumed) when the current argument is `name VALUE` or
 * `name=VALUE`; a missing value is a usage error (a->bad). */
bool cli_opt(struct cli_args *a, const char *name, const char **val);
/* Current argument, if it does not start with "--" (a positional). */
const char *cli_positional(struct cli_args *a);
/* Reports an unknown argument and sets a->bad. */
void cli_unknown(struct cli_args *a);

void cli_reader_init(struct cli_reader *r);
/* Consumes one reader flag if the current argument is one: --sep S,
 * --no-header, --columns a,b, --no-quote, --missing SPEC (repeatable),
 * --type col=T (repeatable), --utf8 strict|replace, --max-rows N,
 * --max-field N, --max-line N, --max-cols N. */
bool cli_reader_opt(struct cli_args *a, struct cli_reader *r);

/* Parses a whole number / a real; on failure reports a usage error. */
bool cli_parse_size(struct cli_args *a, const char *flag, const char *s,
                    size_t *out);
bool cli_parse_double(struct cli_args *a, const char *flag, const char *s,
                      double *out);

/* A quota value (cli/quota.c): a whole number (with bytes, a K, M, G or
 * T suffix, powers of 1024), "unlimited" (LIFT_QUOTA_UNLIMITED) or,
 * with allow_default, "default" (LIFT_QUOTA_DEFAULT). */
bool cli_parse_quota(struct cli_args *a, const char *flag, const char *s,
                     bool bytes, bool allow_default, int64_t *out);
/* "N" or "N,BURST" (each >= 1; *burst LIFT_QUOTA_DEFAULT without one),
 * "unlimited" or, with allow_default, "default" (in *rps). */
bool cli_parse_rate(struct cli_args *a, const char *flag, const char *s,
                    bool allow_default, int64_t *rps, int64_t *burst);
/* Bytes as "812", "1.5K", "23M". */
void cli_format_bytes(int64_t v, char *out, size_t cap);

void cli_usage_error(struct cli_args *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "lift: error: <err->msg>" and returns CLI_FAIL. */
int cli_fail(const struct lift_error *err);

/* Writes data to path atomically: a temp file beside it, fsync, rename;
 * on failure the temp file is removed and the old path left as it was.
 * Prints the error; returns CLI_OK or CLI_FAIL. */
int cli_write_file_atomic(const char *path, const char *data, size_t len);

/* Writes one CSV field, quoted (with "" escapes) when it holds a comma,
 * a quote or a line end. */
void cli_csv_field(FILE *f, const char *s);

/* JSON helpers: a real that is NaN or infinite becomes null. */
json_t *cli_json_real(double v);
/* Prints the document to stdout (indented) and releases it. */
int cli_json_print(json_t *doc);
/* Parses a report the library returned as JSON text; NULL (and the
 * error printed) when it does not parse. */
json_t *cli_report_doc(const char *text);

int cmd_inspect(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_cv(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_admin(int argc, char **argv);
/* `lift admin audit` (cli/audit.c); a positioned after "audit". */
int cmd_admin_audit(struct cli_args *a);
int cmd_serve(int argc, char **argv);
int cmd_text(int argc, char **argv);
/* Reads a whole text file (at most 64 MiB) into *out (free()); false
 * after reporting a usage error. */
bool cli_read_text_file(struct cli_args *a, const char *path, char **out);
int cmd_target(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_uplift(int argc, char **argv);
int cmd_segment(int argc, char **argv);
int cmd_rfm(int argc, char **argv);

#endif
