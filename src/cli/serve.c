/*
 * cli/serve.c - `lift serve --data-dir DIR --listen HOST:PORT [--threads
 * N] [--job-threads N] [--train-threads N] [--max-body SIZE]
 * [--max-records N] [--timeout S] [--request-timeout S] [--min-rate SIZE]
 * [--tls-cert F --tls-key F] [--port-file F] [--metrics-listen HOST:PORT]
 * [--quota-* ...]`: runs the HTTP service until SIGTERM or SIGINT, then
 * stops gracefully. The server's log (closed slow connections,
 * libmicrohttpd's messages) goes to stderr.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: lift serve --data-dir DIR [--listen HOST:PORT] [--threads N]\n"
    "                  [--job-threads N] [--train-threads N]\n"
    "                  [--max-body SIZE] [--max-records N]\n"
    "                  [--timeout SECONDS] [--request-timeout SECONDS]\n"
    "                  [--min-rate SIZE] [--tls-cert FILE --tls-key FILE]\n"
    "                  [--port-file FILE] [--metrics-listen HOST:PORT]\n"
    "                  [--quota-storage SIZE] [--quota-datasets N]\n"
    "                  [--quota-models N] [--quota-jobs N]\n"
    "                  [--quota-rps N[,BURST]]\n"
    "\n"
    "Serves the HTTP/JSON API (docs/HTTP_API.md) from the data dir (created\n"
    "0700 when absent) until SIGTERM or SIGINT. --listen defaults to\n"
    "127.0.0.1:8080; port 0 picks a free port, which --port-file records.\n"
    "SIZE takes a K, M or G suffix (--max-body 64M). --metrics-listen\n"
    "serves GET /metrics (Prometheus text) on a second address without a\n"
    "key: bind it to an address only the scraper reaches.\n"
    "\n"
    "--timeout (default 30) closes a connection idle that long. A request,\n"
    "headers and body, must arrive within --request-timeout seconds\n"
    "(default 30) plus one second per --min-rate bytes of body (default\n"
    "16K): a client trickling bytes is closed, a large upload at 16 KiB/s\n"
    "or more goes through. --tls-cert and --tls-key (PEM, the key\n"
    "unencrypted) serve HTTPS (TLS 1.2 and 1.3) instead of HTTP.\n"
    "\n"
    "--train-threads bounds the threads all jobs (training, scoring) use\n"
    "together (default: the cores less one, at least 1). The --quota-*\n"
    "flags are the limits of every tenant without its own (lift admin\n"
    "tenant quota): storage bytes, datasets, models, jobs queued or\n"
    "running, requests per second with an optional burst (default: the\n"
    "rate). Each takes 'unlimited', the default.\n";

/* The server's log: "lift: info: closed the connection from ...". */
static void log_stderr(void *user, enum lift_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "lift: %s: %s\n", lift_log_level_name(level), msg);
}

static bool parse_bytes(struct cli_args *a, const char *flag, const char *s,
                        size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1ull << 10;
    else if (*end == 'M' || *end == 'm')
        mul = 1ull << 20;
    else if (*end == 'G' || *end == 'g')
        mul = 1ull << 30;
    if (mul != 1)
        end++;
    if (!*s || *end || errno || s[0] == '-' || v == 0 ||
        v > (1ull << 40) / mul) {
        cli_usage_error(a, "%s takes a size such as 64M, not '%s'", flag, s);
        return false;
    }
    *out = (size_t)(v * mul);
    return true;
}

static bool parse_seconds(struct cli_args *a, const char *flag, const char *s,
                          unsigned *out)
{
    size_t n;
    if (!cli_parse_size(a, flag, s, &n))
        return false;
    if (n < 1 || n > 86400) {
        cli_usage_error(a, "%s takes 1..86400 seconds, not '%s'", flag, s);
        return false;
    }
    *out = (unsigned)n;
    return true;
}

/* The --quota-* flags; true when the current argument was one. */
static bool quota_opt(struct cli_args *a, struct lift_quota *q)
{
    static const struct {
        const char *flag;
        size_t offset;
        bool bytes;
    } counts[] = {
        {"--quota-storage", offsetof(struct lift_quota, storage), true},
        {"--quota-datasets", offsetof(struct lift_quota, datasets), false},
        {"--quota-models", offsetof(struct lift_quota, models), false},
        {"--quota-jobs", offsetof(struct lift_quota, jobs), false},
    };
    const char *v;
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++)
        if (cli_opt(a, counts[k].flag, &v)) {
            int64_t *field = (int64_t *)(void *)((char *)q + counts[k].offset);
            if (v)
                cli_parse_quota(a, counts[k].flag, v, counts[k].bytes, false,
                                field);
            return true;
        }
    if (cli_opt(a, "--quota-rps", &v)) {
        if (v)
            cli_parse_rate(a, "--quota-rps", v, false, &q->rps, &q->burst);
        return true;
    }
    return false;
}

int cmd_serve(int argc, char **argv)
{
    struct cli_args a;
    struct lift_server_opts o;
    const char *port_file = NULL, *v;
    lift_server_opts_init(&o);
    o.listen = "127.0.0.1:8080";
    cli_args_init(&a, argc, argv, 2, "serve");
    while (a.i < argc && !a.bad) {
        size_t n;
        if (cli_flag(&a, "--help") || cli_flag(&a, "-h")) {
            fputs(usage, stdout);
            return CLI_OK;
        }
        if (cli_opt(&a, "--data-dir", &o.data_dir) ||
            cli_opt(&a, "--listen", &o.listen) ||
            cli_opt(&a, "--port-file", &port_file) ||
            cli_opt(&a, "--metrics-listen", &o.metrics_listen) ||
            cli_opt(&a, "--tls-cert", &o.tls_cert) ||
            cli_opt(&a, "--tls-key", &o.tls_key))
            continue;
        if (cli_opt(&a, "--threads", &v)) {
            if (v && cli_parse_size(&a, "--threads", v, &n))
                o.threads = (unsigned)n;
            continue;
        }
        if (cli_opt(&a, "--job-threads", &v)) {
            if (v && cli_parse_size(&a, "--job-threads", v, &n))
                o.job_threads = (unsigned)n;
            continue;
        }
        if (cli_opt(&a, "--train-threads", &v)) {
            if (v && cli_parse_size(&a, "--train-threads", v, &n)) {
                if (n < 1 || n > 256)
                    cli_usage_error(&a, "--train-threads takes 1..256");
                o.train_threads = (unsigned)n;
            }
            continue;
        }
        if (quota_opt(&a, &o.quota))
            continue;
        if (cli_opt(&a, "--max-records", &v)) {
            if (v && cli_parse_size(&a, "--max-records", v, &n))
                o.max_records = n;
            continue;
        }
        if (cli_opt(&a, "--timeout", &v)) {
            if (v)
                parse_seconds(&a, "--timeout", v, &o.timeout_s);
            continue;
        }
        if (cli_opt(&a, "--request-timeout", &v)) {
            if (v)
                parse_seconds(&a, "--request-timeout", v, &o.request_timeout_s);
            continue;
        }
        if (cli_opt(&a, "--min-rate", &v)) {
            if (v)
                parse_bytes(&a, "--min-rate", v, &o.min_rate);
            continue;
        }
        if (cli_opt(&a, "--max-body", &v)) {
            if (v)
                parse_bytes(&a, "--max-body", v, &o.max_body);
            continue;
        }
        cli_unknown(&a);
    }
    if (!a.bad && !o.data_dir)
        cli_usage_error(&a, "no --data-dir");
    if (!a.bad && (o.threads > 256 || o.job_threads > 64))
        cli_usage_error(&a, "--threads takes 1..256, --job-threads 1..64");
    if (!a.bad && !o.tls_cert != !o.tls_key)
        cli_usage_error(&a, "%s needs %s too",
                        o.tls_cert ? "--tls-cert" : "--tls-key",
                        o.tls_cert ? "--tls-key" : "--tls-cert");
    if (a.bad)
        return CLI_USAGE;

    /* block the stop signals in every thread; this one waits for them */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    o.log.fn = log_stderr;
    o.log.min_level = LIFT_LOG_INFO;
    struct lift_error err;
    struct lift_server *s;
    if (lift_server_start(&o, &s, &err))
        return cli_fail(&err);
    unsigned port = lift_server_port(s);
    fprintf(stderr, "lift: serving %s%s on port %u (data dir %s)\n",
            o.tls_cert ? "HTTPS on " : "", o.listen, port, o.data_dir);
    if (o.metrics_listen)
        fprintf(stderr, "lift: metrics on %s, port %u\n", o.metrics_listen,
                lift_server_metrics_port(s));
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
            rename(tmp, port_file) != 0) {
            fprintf(stderr, "lift: error: cannot write '%s'\n", port_file);
            lift_server_stop(s);
            return CLI_FAIL;
        }
    }
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "lift: stopping (signal %d)\n", sig);
    lift_server_stop(s);
    return CLI_OK;
}
