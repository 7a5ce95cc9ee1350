/*
 * cli/main.c - the `lift` command: dispatch to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"inspect", cmd_inspect,
     "schema, types, missing values and target balance of a file"},
    {"train", cmd_train, "train a model and write it to a .lift file"},
    {"cv", cmd_cv, "cross-validate (k-fold or out-of-time) training options"},
    {"eval", cmd_eval, "metrics, lift table and calibration of a model"},
    {"predict", cmd_predict, "score every record of a file"},
    {"explain", cmd_explain, "why a record got its score; global importance"},
    {"admin", cmd_admin, "tenants, API keys and checks of a data dir"},
    {"serve", cmd_serve, "serve the HTTP/JSON API for many tenants"},
    {"text", cmd_text, "tokens and keywords of a text column"},
    {"target", cmd_target, "whom to contact under a budget, and what it earns"},
    {"report", cmd_report, "an HTML page of charts about a model"},
    {"uplift", cmd_uplift, "who is persuadable: uplift models, Qini, AUUC"},
    {"segment", cmd_segment, "customer segments by k-means"},
    {"rfm", cmd_rfm, "recency, frequency, monetary scores and segments"},
};

static void print_usage(FILE *f)
{
    fprintf(f, "usage: lift <command> [options]   (lift <command> --help)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("lift %s\n", lift_version());
        return CLI_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc, argv);
    fprintf(stderr, "lift: error: unknown command '%s'\n", argv[1]);
    print_usage(stderr);
    return CLI_USAGE;
}
