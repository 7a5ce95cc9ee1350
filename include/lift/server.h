/*
 * lift/server.h - `lift serve`: the multi-tenant HTTP/JSON service.
 *
 * One process serves every tenant from one data dir (lift/store.h):
 * uploads, training jobs, model versions, scoring and explanations, over
 * the API of docs/HTTP_API.md. HTTP runs on libmicrohttpd's internal
 * epoll thread pool; training runs in a separate job pool, never on an
 * HTTP thread. Models are scored from immutable reference-counted
 * snapshots, so promoting or deleting a version never disturbs requests
 * in flight.
 */
#ifndef LIFT_SERVER_H
#define LIFT_SERVER_H

#include <stddef.h>

#include <lift/error.h>
#include <lift/log.h>
#include <lift/store.h>

#ifdef __cplusplus
extern "C" {
#endif

struct lift_server_opts {
    const char *data_dir;
    const char *listen;   /* "HOST:PORT"; port 0 picks a free one */
    unsigned threads;     /* HTTP threads; 0: 2 */
    unsigned job_threads; /* training workers; 0: 1 */
    size_t max_body;      /* request body cap in bytes; 0: 64 MiB */
    size_t max_records;   /* records per predict request; 0: 10000 */
    unsigned timeout_s;   /* idle connection timeout; 0: 30 s */
    /* "HOST:PORT" of a second listener serving only GET /metrics, with
     * no key (for a scraper on an internal address); NULL: none */
    const char *metrics_listen;
    /* The deadline of one request, headers and body: it must arrive
     * within request_timeout_s seconds of the connection opening (or of
     * the previous response on it), plus one second per min_rate bytes
     * of body received; past it the connection is closed. 0: 30 s and
     * 16 KiB/s. */
    unsigned request_timeout_s;
    size_t min_rate;
    /* HTTPS: paths of the PEM certificate (chain) and its unencrypted
     * private key, both or neither (NULL: plain HTTP). */
    const char *tls_cert;
    const char *tls_key;
    /* The limits of tenants without an override (lift/store.h): every
     * field LIFT_QUOTA_UNLIMITED after lift_server_opts_init, burst
     * LIFT_QUOTA_DEFAULT (= rps). */
    struct lift_quota quota;
    /* Threads all running jobs share: a job gets what it asks (training:
     * lift_train_opts_threads; bulk scoring: one) up to what the others
     * leave, at least one, and waits, still queued, while none is left.
     * 0: one less than the cores this process may run on, at least 1,
     * so that background jobs never take every core from scoring. */
    unsigned train_threads;
    /* libmicrohttpd's messages and closed slow connections */
    struct lift_logger log;
};

void lift_server_opts_init(struct lift_server_opts *o);

struct lift_server;

/* Opens the data dir and starts listening (on metrics_listen too when
 * set). LIFT_ERR_INVALID for a bad listen address or quota, only one of
 * tls_cert and tls_key, or a certificate or key that is not PEM, is encrypted
 * or expired, or does not match (the message names the file); LIFT_ERR_IO when
 * a TLS file cannot be read (path and reason) or an address cannot be bound
 * (with libmicrohttpd's reason); LIFT_ERR_LIMIT for a TLS file over 256 KiB;
 * LIFT_ERR_UNSUPPORTED for TLS without TLS support in libmicrohttpd; and the
 * errors of lift_store_open. The TLS files and the addresses are checked before
 * the data dir is opened. */
enum lift_code lift_server_start(const struct lift_server_opts *o,
                                 struct lift_server **out,
                                 struct lift_error *err);
/* The bound port (useful with port 0). */
unsigned lift_server_port(const struct lift_server *s);
/* The bound port of the metrics listener; 0 when there is none. */
unsigned lift_server_metrics_port(const struct lift_server *s);
/* Graceful stop: no new connections, in-flight requests finish, running
 * jobs stop at their next safe point (marked cancelled), the registry
 * closes. Frees s. */
void lift_server_stop(struct lift_server *s);

#ifdef __cplusplus
}
#endif
#endif
