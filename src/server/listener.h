/*
 * server/listener.h - one libmicrohttpd daemon of `lift serve`, with
 * everything every listener of the service shares: the listen address,
 * the epoll thread pool, the idle timeout, the request deadline
 * (conns.h), HTTPS (tls.h) and libmicrohttpd's log.
 *
 * The caller gives its access handler and completion callback; the
 * listener wraps both to keep the deadline tracker informed (the handler
 * needs no code for it). A second daemon (another address, another
 * handler) is a second listener_new and listener_start with its own
 * cfg.
 */
#ifndef LIFT_SERVER_LISTENER_H
#define LIFT_SERVER_LISTENER_H

#include <stddef.h>

#include <lift/error.h>
#include <lift/log.h>
#include <microhttpd.h>

struct listener_cfg {
    const char *listen;         /* "HOST:PORT" (IPv4); port 0 picks one */
    unsigned threads;           /* the epoll thread pool; 0: 2 */
    unsigned idle_timeout_s;    /* libmicrohttpd's inactivity timeout */
    unsigned request_timeout_s; /* the deadline of conns.h; 0: none */
    size_t min_rate;            /* body bytes/s extending it; 0: none */
    unsigned connection_limit;  /* 0: 10000 */
    const char *tls_cert;       /* PEM paths: both (HTTPS) or neither */
    const char *tls_key;
    MHD_AccessHandlerCallback on_request;
    void *request_cls;
    MHD_RequestCompletedCallback on_completed; /* may be NULL */
    void *completed_cls;
    /* libmicrohttpd's messages (LIFT_LOG_WARN) and reaped connections
     * (LIFT_LOG_INFO); fn NULL drops them */
    struct lift_logger log;
};

struct listener;

/* Checks the address and loads the TLS files (nothing is bound yet).
 * LIFT_ERR_INVALID: a bad address, only one of tls_cert and tls_key, a
 * bad certificate or key (tls.h has every error of the files);
 * LIFT_ERR_UNSUPPORTED: TLS asked of a libmicrohttpd built without it;
 * LIFT_ERR_IO, LIFT_ERR_NOMEM. cfg's strings need not outlive the
 * call. */
enum lift_code listener_new(const struct listener_cfg *cfg,
                            struct listener **out, struct lift_error *err);
/* Binds and starts serving: LIFT_ERR_IO with libmicrohttpd's own reason
 * when it gave one ("cannot listen on '127.0.0.1:80': Failed to bind to
 * port 80: Permission denied"). */
enum lift_code listener_start(struct listener *l, struct lift_error *err);
/* The bound port (after listener_start). */
unsigned listener_port(const struct listener *l);
/* Stops accepting, closes every connection (completion callbacks run),
 * stops the reaper and frees l. NULL is a no-op. */
void listener_free(struct listener *l);

#endif
