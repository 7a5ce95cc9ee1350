/*
 * cli/learn.c - `lift train`, `lift cv`, `lift eval`, `lift predict` and
 * `lift explain`: thin layers over include/lift/model.h and metrics.h.
 *
 * Training flags map one to one onto lift_train_opts_set keys (--lr 0.1
 * is key "lr"), so the CLI and the server accept the same options with
 * the same messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Keys that are flags without a value. */
static const char *const bool_keys[] = {"strict", "stem", "no-stop-words",
                                        "token-classes", "sublinear-tf"};

/* Consumes `--key VALUE` for any training option; false if the current
 * argument is not one (unknown keys are usage errors). */
static bool train_opt(struct cli_args *a, struct lift_train_opts *o)
{
    const char *arg = a->argv[a->i];
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
        return false;
    char key[64];
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    if (klen >= sizeof key)
        return false;
    memcpy(key, arg + 2, klen);
    key[klen] = '\0';
    for (size_t i = 0; i < sizeof bool_keys / sizeof bool_keys[0]; i++)
        if (bool_keys[i] && strcmp(key, bool_keys[i]) == 0 && !eq) {
            a->i++;
            struct lift_error err;
            if (lift_train_opts_set(o, key, "true", &err))
                cli_usage_error(a, "%s", err.msg);
            return true;
        }
    struct lift_error err;
    if (strcmp(key, "stop-words") == 0) {
        /* the option takes the words; the flag names a file of them */
        const char *path;
        char *words = NULL;
        if (!cli_opt(a, "--stop-words", &path))
            return false;
        if (path && cli_read_text_file(a, path, &words) &&
            lift_train_opts_set(o, key, words, &err))
            cli_usage_error(a, "%s: %s", path, err.msg);
        free(words);
        return true;
    }
    /* probe the key: an unknown one is not ours */
    if (lift_train_opts_set(o, key, "", &err) &&
        strncmp(err.msg, "unknown option", 14) == 0)
        return false;
    const char *value;
    char flag[80];
    snprintf(flag, sizeof flag, "--%s", key);
    if (!cli_opt(a, flag, &value))
        return false;
    if (value && lift_train_opts_set(o, key, value, &err))
        cli_usage_error(a, "%s", err.msg);
    return true;
}

static int progress_tty(void *user, const struct lift_progress *p)
{
    (void)user;
    if (p->epoch)
        fprintf(stderr, "\r%s epoch %u/%u loss %.5f%s%s %.4f   ", p->stage,
                p->epoch, p->epochs, p->loss, p->metric ? " valid " : "",
                p->metric ? p->metric : "", p->metric ? p->valid_metric : 0.0);
    return 0;
}

static const char train_usage[] =
    "usage: lift train FILE --target COL [--positive L] -o MODEL [options]\n"
    "\n"
    "Options: --task binary|regression|multiclass, --model "
    "logistic|linear|softmax|mlp,\n"
    "--drop a,b, --text c, --cross a,b, --index dict|hash, --bits N,\n"
    "--min-count N, --max-features N, --bins N, --epochs N, --batch N,\n"
    "--lr X, --l1 X, --l2 X, --optimizer lbfgs|sgd|adagrad|adam,\n"
    "--class-weight none|balanced, --valid F, --patience K, --tol X,\n"
    "--seed N, --threads N, --calibration none|platt|isotonic,\n"
    "--calib-fraction F, --json, and the reader flags of 'lift inspect'.\n"
    "Text (--text COL): --lang en|zh|de|fr|es|pt, --stop-words FILE,\n"
    "--no-stop-words, --stem, --ngrams 1..3, --char-ngrams 0|N|MIN,MAX,\n"
    "--token-classes, --sublinear-tf[=false] (docs/TEXT.md); gbdt:\n"
    "--text-terms N, the top N terms as columns (1..4096, default 200).\n"
    "MLP (--model mlp): --hidden 64,64, --activation relu|tanh,\n"
    "--dropout P, --mem-limit BYTES (docs/CLI.md).\n";

struct learn_args {
    struct cli_args a;
    struct cli_reader rd;
    struct lift_train_opts *o;
    const char *file, *output, *model_path, *id, *record, *time_col, *split;
    bool json;
    size_t folds;
    double test_fraction;
    size_t klass;
    bool has_class;
};

/* Parses the common arguments of train and cv. */
static int parse_learn(struct learn_args *la, int argc, char **argv,
                       const char *cmd, const char *usage)
{
    struct cli_args *a = &la->a;
    cli_args_init(a, argc, argv, 2, cmd);
    cli_reader_init(&la->rd);
    la->folds = 5;
    la->test_fraction = 0.2;
    struct lift_error err;
    if (lift_train_opts_new(&la->o, &err))
        return cli_fail(&err);
    while (a->i < argc && !a->bad) {
        const char *v;
        if (cli_flag(a, "--help") || cli_flag(a, "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if (cli_flag(a, "--json")) {
            la->json = true;
            continue;
        }
        if (cli_opt(a, "-o", &la->output) ||
            cli_opt(a, "--output", &la->output))
            continue;
        if (cli_opt(a, "--folds", &v)) {
            if (v && cli_parse_size(a, "--folds", v, &la->folds) &&
                (la->folds < 2 || la->folds > 100))
                cli_usage_error(a, "--folds takes 2 to 100, not %zu",
                                la->folds);
            continue;
        }
        if (cli_opt(a, "--split", &la->split) ||
            cli_opt(a, "--time-col", &la->time_col))
            continue;
        if (cli_opt(a, "--test-fraction", &v)) {
            if (v &&
                cli_parse_double(a, "--test-fraction", v, &la->test_fraction) &&
                (la->test_fraction <= 0 || la->test_fraction >= 1))
                cli_usage_error(a, "--test-fraction takes a number in (0, 1)");
            continue;
        }
        if (cli_reader_opt(a, &la->rd) || train_opt(a, la->o))
            continue;
        const char *p = cli_positional(a);
        if (p && !la->file) {
            la->file = p;
            continue;
        }
        if (p)
            cli_usage_error(a, "unexpected argument '%s'", p);
        else
            cli_unknown(a);
    }
    if (!a->bad && !la->file)
        cli_usage_error(a, "no input file");
    return a->bad ? CLI_USAGE : CLI_OK;
}

int cmd_train(int argc, char **argv)
{
    double t0 = now();
    struct learn_args la = {0};
    int rc = parse_learn(&la, argc, argv, "train", train_usage);
    if (rc == -1 || rc != CLI_OK) {
        lift_train_opts_free(la.o);
        return rc == -1 ? CLI_OK : rc;
    }
    if (!la.output) {
        cli_usage_error(&la.a, "no output model (-o MODEL)");
        lift_train_opts_free(la.o);
        return CLI_USAGE;
    }
    struct lift_error err;
    struct lift_table *t = NULL;
    struct lift_model *m = NULL;
    if (isatty(2) && !la.json)
        lift_train_opts_set_progress(la.o, progress_tty, NULL);
    if (lift_table_read_csv(la.file, &la.rd.opts, &t, &err) ||
        lift_model_train(t, NULL, 0, la.o, &m, &err) ||
        lift_model_save(m, la.output, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (isatty(2) && !la.json)
        fprintf(stderr, "\n");
    double total = now() - t0;
    json_error_t jerr;
    json_t *info = json_loads(lift_model_info_json(m), 0, &jerr);
    if (!info) {
        fprintf(stderr, "lift: error: bad model info: %s\n", jerr.text);
        rc = CLI_FAIL;
        goto done;
    }
    json_object_set_new(info, "model", json_string(la.output));
    json_object_set_new(info, "train_s",
                        json_real(lift_model_train_seconds(m)));
    json_object_set_new(info, "total_s", json_real(total));
    if (la.json) {
        rc = cli_json_print(info);
    } else {
        printf("trained %s (%s) on %lld rows x %zu features in %.3f s "
               "(total %.3f s) -> %s\n",
               lift_model_kind(m), lift_task_name(lift_model_task(m)),
               (long long)json_integer_value(
                   json_object_get(json_object_get(info, "rows"), "train")),
               lift_model_n_features(m), lift_model_train_seconds(m), total,
               la.output);
        json_t *vm = json_object_get(info, "valid_metrics");
        const char *k;
        json_t *v;
        if (vm) {
            printf("validation:");
            json_object_foreach(vm, k, v)
                printf(" %s %.4f", k, json_number_value(v));
            printf("\n");
        }
        json_decref(info);
    }
done:
    lift_model_free(m);
    lift_table_free(t);
    lift_train_opts_free(la.o);
    return rc;
}

/* ---- metrics ------------------------------------------------------------ */

/* The library's evaluation document, parsed for printing. */
static json_t *evaluate(const struct lift_model *m, const struct lift_table *t)
{
    struct lift_error err;
    char *text;
    if (lift_evaluate_json(m, t, NULL, 0, &text, &err)) {
        cli_fail(&err);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    free(text);
    if (!doc)
        fprintf(stderr, "lift: error: bad evaluation document: %s\n",
                jerr.text);
    return doc;
}

static void print_metrics(json_t *doc)
{
    static const char *const keys[] = {
        "rows",   "auc", "pr_auc",  "logloss", "brier", "accuracy", "precision",
        "recall", "f1",  "f1_best", "rmse",    "mae",   "r2",       "macro_f1"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(doc, keys[i]);
        if (json_is_integer(v))
            printf("%-10s %lld\n", keys[i], (long long)json_integer_value(v));
        else if (json_is_real(v))
            printf("%-10s %.4f\n", keys[i], json_real_value(v));
    }
    json_t *lt = json_object_get(doc, "lift_table");
    if (lt) {
        printf("decile   rows  positives   rate    lift  cum_gain\n");
        size_t i;
        json_t *r;
        json_array_foreach(lt, i, r)
        {
            printf(
                "%6lld %6lld %10lld %6.3f %7.2f %9.3f\n",
                (long long)json_integer_value(json_object_get(r, "decile")),
                (long long)json_integer_value(json_object_get(r, "rows")),
                (long long)json_integer_value(json_object_get(r, "positives")),
                json_number_value(json_object_get(r, "rate")),
                json_number_value(json_object_get(r, "lift")),
                json_number_value(json_object_get(r, "cum_gain")));
        }
    }
    json_t *cal = json_object_get(doc, "calibration");
    if (cal)
        printf("calibration error (ECE) before %.4f, after %.4f\n",
               json_number_value(json_object_get(cal, "ece_before")),
               json_number_value(json_object_get(cal, "ece_after")));
}

static const char eval_usage[] =
    "usage: lift eval MODEL FILE [reader flags] [--json]\n"
    "\n"
    "Scores FILE with MODEL and compares with its target column: AUC, PR "
    "AUC,\nlog loss, accuracy, precision, recall, F1, Brier, the decile lift "
    "table\nand calibration (binary); RMSE, MAE, R2 (regression); accuracy "
    "and\nmacro-F1 (multiclass).\n";

/* Parses MODEL FILE [reader flags] plus the command's extras. */
/* The flags each of eval, predict and explain takes. */
enum {
    TAKES_JSON = 1u,   /* --json */
    TAKES_OUTPUT = 2u, /* -o / --output, --id */
    TAKES_RECORD = 4u, /* --record, --class */
    TAKES_READER = 8u, /* the reader flags, and FILE */
};

static int parse_model_file(struct learn_args *la, int argc, char **argv,
                            const char *cmd, const char *usage, unsigned takes)
{
    struct cli_args *a = &la->a;
    bool need_file = takes & TAKES_READER;
    cli_args_init(a, argc, argv, 2, cmd);
    cli_reader_init(&la->rd);
    while (a->i < argc && !a->bad) {
        const char *v;
        if (cli_flag(a, "--help") || cli_flag(a, "-h")) {
            fputs(usage, stdout);
            return -1;
        }
        if ((takes & TAKES_JSON) && cli_flag(a, "--json")) {
            la->json = true;
            continue;
        }
        if ((takes & TAKES_OUTPUT) && (cli_opt(a, "-o", &la->output) ||
                                       cli_opt(a, "--output", &la->output) ||
                                       cli_opt(a, "--id", &la->id)))
            continue;
        if ((takes & TAKES_RECORD) && cli_opt(a, "--record", &la->record))
            continue;
        if ((takes & TAKES_RECORD) && cli_opt(a, "--class", &v)) {
            if (v && cli_parse_size(a, "--class", v, &la->klass))
                la->has_class = true;
            continue;
        }
        if ((takes & TAKES_READER) && cli_reader_opt(a, &la->rd))
            continue;
        const char *p = cli_positional(a);
        if (p && !la->model_path) {
            la->model_path = p;
            continue;
        }
        if (p && need_file && !la->file) {
            la->file = p;
            continue;
        }
        if (p)
            cli_usage_error(a, "unexpected argument '%s'", p);
        else
            cli_unknown(a);
    }
    if (!a->bad && !la->model_path)
        cli_usage_error(a, "no model file");
    if (!a->bad && need_file && !la->file)
        cli_usage_error(a, "no input file");
    return a->bad ? CLI_USAGE : CLI_OK;
}

int cmd_eval(int argc, char **argv)
{
    struct learn_args la = {0};
    int rc = parse_model_file(&la, argc, argv, "eval", eval_usage,
                              TAKES_JSON | TAKES_READER);
    if (rc)
        return rc == -1 ? CLI_OK : rc;
    struct lift_error err;
    struct lift_model *m = NULL;
    struct lift_table *t = NULL;
    if (lift_model_load(la.model_path, &m, &err) ||
        lift_table_read_csv(la.file, &la.rd.opts, &t, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    json_t *doc = evaluate(m, t);
    if (!doc) {
        rc = CLI_FAIL;
        goto done;
    }
    json_object_set_new(doc, "model", json_string(la.model_path));
    json_object_set_new(doc, "file", json_string(la.file));
    if (la.json) {
        rc = cli_json_print(doc);
    } else {
        print_metrics(doc);
        json_decref(doc);
    }
done:
    lift_model_free(m);
    lift_table_free(t);
    return rc;
}

static const char predict_usage[] =
    "usage: lift predict MODEL FILE [reader flags] [--id COL] [-o OUT]\n"
    "\n"
    "Writes one line per record: row,score (row is the 1-based data record\n"
    "number, or the --id column's value); multiclass: row,class,score.\n"
    "Regression scores are the predicted value.\n";

int cmd_predict(int argc, char **argv)
{
    struct learn_args la = {0};
    int rc = parse_model_file(&la, argc, argv, "predict", predict_usage,
                              TAKES_OUTPUT | TAKES_READER);
    if (rc)
        return rc == -1 ? CLI_OK : rc;
    struct lift_error err;
    struct lift_model *m = NULL;
    struct lift_table *t = NULL;
    double *p = NULL;
    char *buf = NULL;
    size_t buf_len = 0;
    FILE *f = NULL;
    size_t id_col = 0;
    if (lift_model_load(la.model_path, &m, &err) ||
        lift_table_read_csv(la.file, &la.rd.opts, &t, &err) ||
        (la.id && lift_table_col_index(t, la.id, &id_col, &err))) {
        rc = cli_fail(&err);
        goto done;
    }
    size_t n = lift_table_n_rows(t), k = lift_model_n_outputs(m);
    p = malloc(n * k * sizeof *p);
    if (!p) {
        fprintf(stderr, "lift: error: out of memory (scores)\n");
        rc = CLI_FAIL;
        goto done;
    }
    if (lift_model_predict_table(m, t, NULL, 0, p, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    f = la.output ? open_memstream(&buf, &buf_len) : stdout;
    if (!f) {
        rc = CLI_FAIL;
        goto done;
    }
    bool multi = lift_model_task(m) == LIFT_TASK_MULTICLASS;
    fprintf(f, "%s,%sscore\n", la.id ? la.id : "row", multi ? "class," : "");
    for (size_t i = 0; i < n; i++) {
        if (la.id) {
            char num[64];
            const uint32_t *codes = lift_table_codes(t, id_col);
            if (codes && codes[i] != LIFT_MISSING_CODE)
                cli_csv_field(f, lift_table_level(t, id_col, codes[i], NULL));
            else if (!codes && !isnan(lift_table_values(t, id_col)[i])) {
                snprintf(num, sizeof num, "%.15g",
                         lift_table_values(t, id_col)[i]);
                fputs(num, f);
            }
        } else {
            fprintf(f, "%zu", i + 1);
        }
        if (multi) {
            size_t best = 0;
            for (size_t c = 1; c < k; c++)
                if (p[i * k + c] > p[i * k + best])
                    best = c;
            fputc(',', f);
            cli_csv_field(f, lift_model_class(m, best));
            fprintf(f, ",%.9g\n", p[i * k + best]);
        } else {
            fprintf(f, ",%.9g\n", p[i]);
        }
    }
    if (la.output) {
        fclose(f);
        f = NULL;
        rc = cli_write_file_atomic(la.output, buf, buf_len);
    } else if (fflush(stdout) != 0) {
        fprintf(stderr, "lift: error: cannot write the output\n");
        rc = CLI_FAIL;
    }
done:
    if (f && f != stdout)
        fclose(f);
    free(buf);
    free(p);
    lift_model_free(m);
    lift_table_free(t);
    return rc;
}

static const char cv_usage[] =
    "usage: lift cv FILE --target COL [--positive L] [--folds K] [options] "
    "[--json]\n"
    "       lift cv FILE --target COL --split time [--time-col C] "
    "[--test-fraction F]\n"
    "\n"
    "Stratified k-fold cross-validation (mean and std of each metric), or\n"
    "one out-of-time split: train on the earlier rows, test on the last\n"
    "fraction (ordered by --time-col, or by file order). Takes every option\n"
    "of 'lift train'.\n";

int cmd_cv(int argc, char **argv)
{
    double t0 = now();
    struct learn_args la = {0};
    int rc = parse_learn(&la, argc, argv, "cv", cv_usage);
    if (rc == -1 || rc != CLI_OK) {
        lift_train_opts_free(la.o);
        return rc == -1 ? CLI_OK : rc;
    }
    struct lift_error err;
    struct lift_table *t = NULL;
    char *text = NULL;
    json_t *doc = NULL;
    bool by_time = la.split && strcmp(la.split, "time") == 0;
    if (la.split && !by_time) {
        cli_usage_error(&la.a, "--split takes 'time', not '%s'", la.split);
        rc = CLI_USAGE;
        goto done;
    }
    /* folds drawn with the training seed (--seed, default 42) */
    uint64_t seed = 42;
    for (int i = 2; i < argc; i++)
        if (strncmp(argv[i], "--seed=", 7) == 0)
            seed = strtoull(argv[i] + 7, NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[i + 1], NULL, 10);
    struct lift_cv_opts cv = {(unsigned)la.folds, by_time, la.time_col,
                              la.test_fraction, seed};
    if (lift_table_read_csv(la.file, &la.rd.opts, &t, &err) ||
        lift_cv_json(t, la.o, &cv, &text, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    json_error_t jerr;
    if (!(doc = json_loads(text, 0, &jerr))) {
        fprintf(stderr, "lift: error: bad cv document: %s\n", jerr.text);
        rc = CLI_FAIL;
        goto done;
    }
    json_object_set_new(doc, "total_s", json_real(now() - t0));
    if (la.json) {
        rc = cli_json_print(doc);
        doc = NULL;
    } else {
        printf("%s, %zu fold%s:\n", by_time ? "out-of-time" : "k-fold",
               by_time ? (size_t)1 : la.folds,
               by_time || la.folds == 1 ? "" : "s");
        const char *k;
        json_t *v;
        json_object_foreach(doc, k, v) if (json_is_object(v))
            printf("  %-9s %.4f +- %.4f\n", k,
                   json_number_value(json_object_get(v, "mean")),
                   json_number_value(json_object_get(v, "std")));
    }
done:
    json_decref(doc);
    free(text);
    lift_table_free(t);
    lift_train_opts_free(la.o);
    return rc;
}

static const char explain_usage[] =
    "usage: lift explain MODEL --record JSON [--class K] [--json]\n"
    "\n"
    "Explains one record's score: each input column's contribution to the\n"
    "raw score (log-odds for classifiers), which sum with the base value to\n"
    "it. Without --record, prints the model's global importance (mean\n"
    "|contribution|, and for trees each column's share of the split gain).\n";

/* Converts a JSON object into fields; *n set; NULL + message on error. */
static struct lift_field *fields_of(json_t *obj, size_t *n, char *msg,
                                    size_t cap)
{
    size_t count = json_object_size(obj), i = 0;
    struct lift_field *f = calloc(count ? count : 1, sizeof *f);
    if (!f) {
        snprintf(msg, cap, "out of memory");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        f[i].name = key;
        if (json_is_null(v)) {
            f[i].kind = LIFT_VALUE_NULL;
        } else if (json_is_number(v)) {
            f[i].kind = LIFT_VALUE_NUMBER;
            f[i].num = json_number_value(v);
        } else if (json_is_boolean(v)) {
            f[i].kind = LIFT_VALUE_BOOL;
            f[i].num = json_is_true(v) ? 1 : 0;
        } else if (json_is_string(v)) {
            f[i].kind = LIFT_VALUE_STRING;
            f[i].str = json_string_value(v);
            f[i].len = json_string_length(v);
        } else {
            snprintf(msg, cap,
                     "field '%s' must be a string, number, boolean or null",
                     key);
            free(f);
            return NULL;
        }
        i++;
    }
    *n = count;
    return f;
}

int cmd_explain(int argc, char **argv)
{
    struct learn_args la = {0};
    int rc = parse_model_file(&la, argc, argv, "explain", explain_usage,
                              TAKES_JSON | TAKES_RECORD);
    if (rc)
        return rc == -1 ? CLI_OK : rc;
    struct lift_error err;
    struct lift_model *m = NULL;
    json_t *rec = NULL, *doc = NULL;
    struct lift_field *fields = NULL;
    struct lift_contribution *c = NULL, *gc = NULL;
    double *graw = NULL;
    if (lift_model_load(la.model_path, &m, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    size_t ni = lift_model_n_inputs(m);
    c = calloc(ni ? ni : 1, sizeof *c);
    if (!c) {
        rc = CLI_FAIL;
        goto done;
    }
    doc = json_object();
    if (!la.record) {
        size_t n = lift_model_importance(m, c);
        /* gain importance (trees), looked up by column beside |SHAP| */
        gc = calloc(ni ? ni : 1, sizeof *gc);
        graw = calloc(ni ? ni : 1, sizeof *graw);
        if (!gc || !graw) {
            rc = CLI_FAIL;
            goto done;
        }
        size_t ngain = lift_model_gain_importance(m, gc, graw);
        json_t *imp = json_array();
        if (!la.json && ngain)
            printf("%-24s %8s %8s\n", "column", "|SHAP|", "gain");
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "column", json_string(c[i].column));
            json_object_set_new(e, "importance", cli_json_real(c[i].value));
            size_t j = 0;
            while (j < ngain && strcmp(gc[j].column, c[i].column) != 0)
                j++;
            if (j < ngain) {
                json_object_set_new(e, "gain", cli_json_real(gc[j].value));
                json_object_set_new(e, "gain_total", cli_json_real(graw[j]));
                if (!la.json)
                    printf("%-24s %8.5f %8.5f\n", c[i].column, c[i].value,
                           gc[j].value);
            } else if (!la.json) {
                printf("%-24s %.5f\n", c[i].column, c[i].value);
            }
            json_array_append_new(imp, e);
        }
        json_object_set_new(doc, "importance", imp);
    } else {
        json_error_t jerr;
        rec = json_loads(la.record, JSON_REJECT_DUPLICATES, &jerr);
        if (!rec) {
            fprintf(stderr, "lift: error: --record: line %d, column %d: %s\n",
                    jerr.line, jerr.column, jerr.text);
            rc = CLI_USAGE;
            goto done;
        }
        if (!json_is_object(rec)) {
            fprintf(stderr, "lift: error: --record must be a JSON object\n");
            rc = CLI_USAGE;
            goto done;
        }
        char msg[256];
        size_t nf;
        if (!(fields = fields_of(rec, &nf, msg, sizeof msg))) {
            fprintf(stderr, "lift: error: %s\n", msg);
            rc = CLI_FAIL;
            goto done;
        }
        size_t n;
        double base, raw, score;
        struct lift_record_report rep;
        if (lift_model_explain_record(m, fields, nf, la.klass, c, &n, &base,
                                      &raw, &score, &rep, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        json_object_set_new(doc, "score", cli_json_real(score));
        json_object_set_new(doc, "raw", cli_json_real(raw));
        json_object_set_new(doc, "base", cli_json_real(base));
        if (lift_model_class(m, la.klass))
            json_object_set_new(doc, "class",
                                json_string(lift_model_class(m, la.klass)));
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_object();
            json_object_set_new(e, "column", json_string(c[i].column));
            json_object_set_new(e, "contribution", cli_json_real(c[i].value));
            json_array_append_new(arr, e);
        }
        json_object_set_new(doc, "contributions", arr);
        json_t *warn = json_array();
        for (size_t i = 0; i < rep.n_absent && i < LIFT_WARN_NAMES; i++) {
            char w[300];
            snprintf(w, sizeof w, "field '%s' is absent: read as missing",
                     rep.absent[i]);
            json_array_append_new(warn, json_string(w));
        }
        for (size_t i = 0; i < rep.n_unknown && i < LIFT_WARN_NAMES; i++) {
            char w[300];
            snprintf(w, sizeof w, "field '%s' is not used by the model",
                     rep.unknown[i]);
            json_array_append_new(warn, json_string(w));
        }
        json_object_set_new(doc, "warnings", warn);
        if (!la.json) {
            printf("score %.6f (raw %.6f = base %.6f + contributions)\n", score,
                   raw, base);
            for (size_t i = 0; i < n; i++)
                printf("  %-24s %+.6f\n", c[i].column, c[i].value);
            size_t i;
            json_t *w;
            json_array_foreach(warn, i, w)
                fprintf(stderr, "lift: warning: %s\n", json_string_value(w));
        }
    }
    if (la.json) {
        rc = cli_json_print(doc);
        doc = NULL;
    }
done:
    json_decref(doc);
    json_decref(rec);
    free(fields);
    free(c);
    free(gc);
    free(graw);
    lift_model_free(m);
    return rc;
}
