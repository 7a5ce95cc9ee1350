/*
 * server/conns.h - the request deadline of `lift serve`: a connection
 * may take at most a fixed time to deliver a request, headers and body,
 * however slowly it trickles bytes.
 *
 * libmicrohttpd's own timeout (--timeout) is an inactivity timeout: a
 * client sending one byte a second resets it forever and keeps its
 * connection slot. The tracker adds a deadline per request:
 *
 *     deadline = start + request_timeout + received / min_rate
 *
 * start is when the connection opened (so the TLS handshake and the
 * headers count) or when the previous response on it completed
 * (keep-alive: the gap before the next request counts too); received is
 * the body bytes delivered so far, so a large upload keeps going as long
 * as it averages min_rate bytes a second past the first request_timeout
 * seconds. Once the whole request is in, no deadline applies until its
 * response completes (handlers and slow readers are the idle timeout's
 * business).
 *
 * Why a thread: libmicrohttpd offers no per-request deadline.
 * MHD_set_connection_option(MHD_CONNECTION_OPTION_TIMEOUT) only changes
 * the inactivity timeout, and the access handler, where returning MHD_NO
 * would end a request, is not called before the headers are complete,
 * so nothing inside libmicrohttpd's callbacks can bound the header phase.
 *
 * A reaper thread wakes every CONNS_TICK_MS, and shuts down (shutdown(2),
 * SHUT_RDWR) the socket of each connection past its deadline; the
 * connection's own thread then sees the end of the stream and closes it
 * through libmicrohttpd as usual (the completion callback runs, uploads
 * are removed). shutdown does not close the descriptor, and
 * libmicrohttpd calls the CLOSED notification before it closes the
 * socket: the reaper and that notification take the same mutex, so the
 * reaper never touches a descriptor that was closed and reused.
 *
 * Thread-safety: every function may be called from any thread;
 * conn_body is lock-free (an atomic counter), the others take the
 * tracker's mutex for a few instructions.
 */
#ifndef LIFT_SERVER_CONNS_H
#define LIFT_SERVER_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include <lift/error.h>
#include <lift/log.h>
#include <microhttpd.h>

#define CONNS_TICK_MS 200

struct conns;
struct conn;

/* Starts a tracker and its reaper thread. request_timeout_s 0 disables
 * the deadline (no thread starts, every call is a no-op); min_rate 0
 * means bodies get no extension. Reaped connections are reported to log
 * at LIFT_LOG_INFO. LIFT_ERR_NOMEM, LIFT_ERR_INTERNAL (no thread). */
enum lift_code conns_new(unsigned request_timeout_s, size_t min_rate,
                         struct lift_logger log, struct conns **out,
                         struct lift_error *err);
/* Stops the reaper and frees the tracker; every tracked connection must
 * be closed first (stop the daemon before). NULL is a no-op. */
void conns_free(struct conns *cs);

/* The deadline formula above, in seconds on the clock of start. */
double conns_deadline(double start, unsigned request_timeout_s,
                      uint64_t received, size_t min_rate);
/* The number of connections reaped so far. */
uint64_t conns_reaped(struct conns *cs);

/* Tracks the socket fd from now; NULL when out of memory (the
 * connection then goes untracked) or when the deadline is disabled. */
struct conn *conn_open(struct conns *cs, int fd);
/* The same, with the request's clock started at start (CLOCK_MONOTONIC
 * seconds) rather than now: connections opened at one instant. */
struct conn *conn_open_at(struct conns *cs, int fd, double start);
/* Stops tracking c, before its socket is closed. NULL is a no-op. */
void conn_close(struct conns *cs, struct conn *c);
/* A call of the access handler is about to happen, offered body bytes
 * with it: the first call of a request means its headers are in; a
 * later call offering 0 bytes means the whole request is in (no
 * deadline until conn_done). */
void conn_access(struct conns *cs, struct conn *c, size_t offered);
/* n more body bytes were received (consumed by the handler). */
void conn_body(struct conn *c, size_t n);
/* The response completed: the next request's clock starts now. */
void conn_done(struct conns *cs, struct conn *c);

/* libmicrohttpd glue. conns_notify is the MHD_OPTION_NOTIFY_CONNECTION
 * callback (cls: the tracker); it keeps the struct conn in the socket
 * context. conns_of is that struct conn (NULL when untracked). */
void conns_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                  enum MHD_ConnectionNotificationCode toe);
struct conn *conns_of(struct MHD_Connection *mc);

#endif
