/*
 * cli/text.c - `lift text tokenize` and `lift text keywords`: the terms a
 * model sees in a text column, and the terms that characterise it or an
 * outcome. Thin layers over include/lift/text.h; the text flags are the
 * keys of lift_text_opts_set, as `lift train` spells them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define MAX_WORDS_FILE ((size_t)64 << 20)

static const char usage[] =
    "usage: lift text tokenize FILE --text COL [reader flags] [text flags]\n"
    "                          [--json]\n"
    "       lift text keywords FILE --text COL [reader flags] [text flags]\n"
    "                          [--target COL [--positive L]] [--top N]\n"
    "                          [--min-docs N] [--json]\n"
    "\n"
    "tokenize prints the terms of each row as a model reads them.\n"
    "keywords prints the top tf-idf terms; with --target, the terms that\n"
    "most raise and most lower the odds of the outcome (smoothed log-odds\n"
    "ratio over documents, terms in at least --min-docs rows, default 3).\n"
    "Text flags: --lang en|zh|de|fr|es|pt, --stop-words FILE,\n"
    "--no-stop-words, --stem, --ngrams 1..3, --char-ngrams 0|N|MIN,MAX,\n"
    "--token-classes, --sublinear-tf[=false]. Reader flags as in\n"
    "'lift inspect'.\n";

bool cli_read_text_file(struct cli_args *a, const char *path, char **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_usage_error(a, "cannot open '%s': %s", path, strerror(errno));
        return false;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap >= MAX_WORDS_FILE) {
                cli_usage_error(a, "'%s' is larger than 64 MiB", path);
                free(buf);
                buf = NULL;
                break;
            }
            char *g = realloc(buf, cap * 2);
            if (!g) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = g;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0)
            break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (!buf || failed) {
        if (buf || failed)
            cli_usage_error(a, "cannot read '%s'", path);
        free(buf);
        return false;
    }
    buf[n] = '\0';
    *out = buf;
    return true;
}

static const char *const flag_keys[] = {"stem", "no-stop-words",
                                        "token-classes", "sublinear-tf"};

/* Consumes one text flag (the lift_text_opts_set keys). */
static bool text_opt(struct cli_args *a, struct lift_text_opts *o)
{
    const char *arg = a->argv[a->i];
    if (strncmp(arg, "--", 2) != 0)
        return false;
    char key[32];
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (klen == 0 || klen >= sizeof key)
        return false;
    memcpy(key, arg + 2, klen);
    key[klen] = '\0';
    if (!lift_text_opts_has_key(key))
        return false;
    struct lift_error err;
    for (size_t i = 0; i < sizeof flag_keys / sizeof flag_keys[0]; i++)
        if (!eq && strcmp(key, flag_keys[i]) == 0) {
            a->i++;
            if (lift_text_opts_set(o, key, "true", &err))
                cli_usage_error(a, "%s", err.msg);
            return true;
        }
    char flag[40];
    const char *value;
    snprintf(flag, sizeof flag, "--%s", key);
    if (!cli_opt(a, flag, &value) || !value)
        return true;
    if (strcmp(key, "stop-words") == 0) {
        char *words;
        if (cli_read_text_file(a, value, &words) &&
            lift_text_opts_set(o, key, words, &err))
            cli_usage_error(a, "%s: %s", value, err.msg);
        free(words);
        return true;
    }
    if (lift_text_opts_set(o, key, value, &err))
        cli_usage_error(a, "%s", err.msg);
    return true;
}

struct row_terms {
    json_t *arr; /* --json */
    bool first;
};

static int print_term(void *user, const char *tok, size_t len)
{
    struct row_terms *r = user;
    if (r->arr) {
        json_array_append_new(r->arr, json_stringn(tok, len));
        return 0;
    }
    printf("%s%.*s", r->first ? "" : " | ", (int)len, tok);
    r->first = false;
    return 0;
}

static int tokenize(const struct lift_table *t, size_t col,
                    const struct lift_text_opts *o, bool json)
{
    struct lift_error err;
    struct lift_text_tokenizer *tk;
    if (lift_text_tokenizer_new(o, &tk, &err))
        return cli_fail(&err);
    json_t *rows = json ? json_array() : NULL;
    int rc = CLI_OK;
    const uint32_t *codes = lift_table_codes(t, col);
    for (size_t r = 0; r < lift_table_n_rows(t); r++) {
        size_t line = lift_table_row_line(t, r);
        struct row_terms rt = {json ? json_array() : NULL, true};
        if (!json)
            printf("%zu\t", line);
        if (codes[r] != LIFT_MISSING_CODE) {
            size_t len;
            const char *s = lift_table_level(t, col, codes[r], &len);
            if (lift_text_tokenize(tk, s, len, print_term, &rt, &err)) {
                char where[300];
                snprintf(where, sizeof where, "line %zu, column '%s'", line,
                         lift_table_col_name(t, col));
                lift_error_prefix(&err, where);
                if (!json)
                    printf("\n");
                json_decref(rt.arr);
                rc = cli_fail(&err);
                break;
            }
        }
        if (json) {
            json_t *o1 = json_object();
            json_object_set_new(o1, "line", json_integer((json_int_t)line));
            json_object_set_new(o1, "terms", rt.arr);
            json_array_append_new(rows, o1);
        } else {
            printf("\n");
        }
    }
    lift_text_tokenizer_free(tk);
    if (json && rc == CLI_OK) {
        json_t *doc = json_object();
        json_object_set_new(doc, "column",
                            json_string(lift_table_col_name(t, col)));
        json_object_set_new(doc, "rows", rows);
        return cli_json_print(doc);
    }
    json_decref(rows);
    return rc;
}

static void print_list(json_t *arr, const char *title, bool target)
{
    printf("%s\n", title);
    if (target)
        printf("  %-28s %7s %9s %7s %9s %9s\n", "term", "z", "log-odds", "docs",
               "positive", "negative");
    else
        printf("  %-28s %9s %7s\n", "term", "score", "docs");
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *term = json_string_value(json_object_get(e, "term"));
        long long docs = json_integer_value(json_object_get(e, "docs"));
        if (target)
            printf("  %-28s %7.2f %9.3f %7lld %9lld %9lld\n", term,
                   json_number_value(json_object_get(e, "z")),
                   json_number_value(json_object_get(e, "log_odds")), docs,
                   (long long)json_integer_value(
                       json_object_get(e, "positive_docs")),
                   (long long)json_integer_value(
                       json_object_get(e, "negative_docs")));
        else
            printf("  %-28s %9.3f %7lld\n", term,
                   json_number_value(json_object_get(e, "score")), docs);
    }
}

static int keywords(const struct lift_table *t, const char *col,
                    const char *target, const char *positive,
                    const struct lift_text_opts *o, size_t top, size_t min_docs,
                    bool json, const char *file)
{
    struct lift_error err;
    char *text = NULL;
    if (lift_text_keywords_json(t, col, target, positive, o, top, min_docs,
                                &text, &err))
        return cli_fail(&err);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    free(text);
    if (!doc) {
        fprintf(stderr, "lift: error: bad keywords document: %s\n", jerr.text);
        return CLI_FAIL;
    }
    if (json) {
        json_object_set_new(doc, "file", json_string(file));
        return cli_json_print(doc);
    }
    printf("%s: column '%s', %lld rows\n", file, col,
           (long long)json_integer_value(json_object_get(doc, "rows")));
    if (target) {
        print_list(json_object_get(doc, "raise"),
                   "terms that raise the odds:", true);
        print_list(json_object_get(doc, "lower"),
                   "terms that lower the odds:", true);
    } else {
        print_list(json_object_get(doc, "terms"), "top tf-idf terms:", false);
    }
    json_decref(doc);
    return CLI_OK;
}

int cmd_text(int argc, char **argv)
{
    if (argc < 3 || strcmp(argv[2], "--help") == 0 ||
        strcmp(argv[2], "-h") == 0) {
        fputs(usage, argc < 3 ? stderr : stdout);
        return argc < 3 ? CLI_USAGE : CLI_OK;
    }
    const char *sub = argv[2];
    bool is_kw = strcmp(sub, "keywords") == 0;
    if (!is_kw && strcmp(sub, "tokenize") != 0) {
        fprintf(stderr, "lift: error: unknown text command '%s'\n%s", sub,
                usage);
        return CLI_USAGE;
    }
    struct cli_args a;
    struct cli_reader rd;
    struct lift_error err;
    struct lift_text_opts *o;
    if (lift_text_opts_new(&o, &err))
        return cli_fail(&err);
    const char *file = NULL, *col = NULL, *target = NULL, *positive = NULL, *v;
    size_t top = 20, min_docs = 3;
    bool json = false;
    cli_args_init(&a, argc, argv, 3, is_kw ? "text keywords" : "text tokenize");
    cli_reader_init(&rd);
    while (a.i < argc && !a.bad) {
        const char *p;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            fputs(usage, stdout);
            lift_text_opts_free(o);
            return CLI_OK;
        }
        if (cli_reader_opt(&a, &rd) || cli_opt(&a, "--text", &col) ||
            text_opt(&a, o))
            continue;
        if (is_kw && (cli_opt(&a, "--target", &target) ||
                      cli_opt(&a, "--positive", &positive)))
            continue;
        if (is_kw && cli_opt(&a, "--top", &v)) {
            if (v && cli_parse_size(&a, "--top", v, &top) && top == 0)
                cli_usage_error(&a, "--top must be at least 1");
            continue;
        }
        if (is_kw && cli_opt(&a, "--min-docs", &v)) {
            if (v)
                cli_parse_size(&a, "--min-docs", v, &min_docs);
            continue;
        }
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
    if (!a.bad && !col)
        cli_usage_error(&a, "no --text column");
    if (!a.bad && positive && !target)
        cli_usage_error(&a, "--positive needs --target");
    if (a.bad) {
        lift_text_opts_free(o);
        return CLI_USAGE;
    }
    struct lift_table *t = NULL;
    int rc;
    size_t c;
    /* the text column is read as text whatever it looks like */
    if (lift_table_read_csv(file, &rd.opts, &t, &err) ||
        lift_table_col_index(t, col, &c, &err)) {
        rc = cli_fail(&err);
    } else if (!lift_table_codes(t, c)) {
        fprintf(stderr, "lift: error: column '%s' is %s, not text\n", col,
                lift_col_type_name(lift_table_col_type(t, c)));
        rc = CLI_FAIL;
    } else if (is_kw) {
        rc = keywords(t, col, target, positive, o, top, min_docs, json, file);
    } else {
        rc = tokenize(t, c, o, json);
    }
    lift_table_free(t);
    lift_text_opts_free(o);
    return rc;
}
