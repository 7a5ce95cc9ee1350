/*
 * tests/unit/test_conns.c - the request deadline tracker
 * (server/conns.c) on real sockets, without libmicrohttpd: the tracker
 * holds one end of a socketpair, the test watches the other for the end
 * of stream that the reaper's shutdown(2) causes.
 *
 * Scenarios run side by side with a 1 s request timeout and a 4096
 * bytes/s minimum rate: headers never finished (closed after ~1 s), a
 * body of 4096 bytes (deadline 2 s), a request received whole (never
 * closed while its response runs), a response completed (its clock
 * restarts), and a tracker with the deadline off.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/conns.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Called on the reaper thread: counts only (no cmocka asserts there). */
struct capture {
    atomic_int calls;
    atomic_int headers; /* messages about the header phase */
    atomic_int not_info;
    atomic_int more; /* N summed over "closed N more connections ..." */
};

static void capture_fn(void *user, enum lift_log_level level, const char *msg)
{
    struct capture *c = user;
    if (level != LIFT_LOG_INFO)
        atomic_fetch_add(&c->not_info, 1);
    atomic_fetch_add(&c->calls, 1);
    if (strstr(msg, "request headers not received within 1 s"))
        atomic_fetch_add(&c->headers, 1);
    int more;
    if (sscanf(msg, "closed %d more connections past their request deadline",
               &more) == 1)
        atomic_fetch_add(&c->more, more);
}

/* Seconds until the peer end reads end-of-stream, or -1 within limit. */
static double eof_after(int fd, double t0, double limit)
{
    for (;;) {
        double left = t0 + limit - now();
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) > 0) {
            char b;
            if (read(fd, &b, 1) == 0)
                return now() - t0;
        }
    }
}

static void conns_deadline_adds_a_second_per_min_rate_bytes(void **state)
{
    (void)state;
    assert_true(conns_deadline(100.0, 30, 0, 16384) == 130.0);
    assert_true(conns_deadline(100.0, 30, 16384 * 10, 16384) == 140.0);
    assert_true(conns_deadline(100.0, 2, 1 << 20, 0) == 102.0);
}

static void conns_reaper_closes_only_requests_past_deadline(void **state)
{
    (void)state;
    struct capture cap;
    atomic_init(&cap.calls, 0);
    atomic_init(&cap.headers, 0);
    atomic_init(&cap.not_info, 0);
    atomic_init(&cap.more, 0);
    struct lift_logger log = {capture_fn, &cap, LIFT_LOG_DEBUG};
    struct conns *cs;
    struct lift_error err;
    assert_int_equal(conns_new(1, 4096, log, &cs, &err), LIFT_OK);

    enum { HEADERS, BODY, RECEIVED, DONE, N };
    int sp[N][2];
    struct conn *c[N];
    double t0 = now();
    for (int i = 0; i < N; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
        c[i] = conn_open(cs, sp[i][0]);
        assert_non_null(c[i]);
    }
    /* BODY: headers in, 4096 bytes of body: deadline 1 + 1 s */
    conn_access(cs, c[BODY], 0);
    conn_access(cs, c[BODY], 4096);
    conn_body(c[BODY], 4096);
    /* RECEIVED: the whole request is in (a call offering 0 bytes) */
    conn_access(cs, c[RECEIVED], 0);
    conn_access(cs, c[RECEIVED], 0);
    /* DONE: received, then its response completes at 0.7 s */
    conn_access(cs, c[DONE], 0);
    conn_access(cs, c[DONE], 0);

    while (now() < t0 + 0.7)
        usleep(10000);
    conn_done(cs, c[DONE]); /* the next request's clock: 0.7 + 1 s */
    double h = eof_after(sp[HEADERS][1], t0, 3.0);
    assert_true(h >= 0.95 && h <= 1.0 + 0.5);
    double d = eof_after(sp[DONE][1], t0, 4.0);
    assert_true(d >= 1.65 && d <= 1.7 + 0.5);
    double b = eof_after(sp[BODY][1], t0, 4.0);
    assert_true(b >= 1.95 && b <= 2.0 + 0.5);
    /* well past every deadline: the received request stays open */
    assert_true(eof_after(sp[RECEIVED][1], now(), 0.5) < 0);
    assert_int_equal(conns_reaped(cs), 3);
    assert_int_equal(atomic_load(&cap.calls), 3);
    assert_int_equal(atomic_load(&cap.headers), 2); /* HEADERS, DONE */
    assert_int_equal(atomic_load(&cap.not_info), 0);

    for (int i = 0; i < N; i++) {
        conn_close(cs, c[i]);
        close(sp[i][0]);
        close(sp[i][1]);
    }
    conns_free(cs);
}

/* 40 connections past their deadline at once: all are shut down in one
 * reaper pass, which logs 32 one by one and the other 8 in one line. The
 * 40 clocks start at one instant (conn_open_at), so no pass can fall
 * between their deadlines however slowly the loop opening them runs
 * (short of the 1 s timeout itself). */
static void conns_many_reaped_at_once_logged_in_one_batch(void **state)
{
    (void)state;
    struct capture cap;
    atomic_init(&cap.calls, 0);
    atomic_init(&cap.headers, 0);
    atomic_init(&cap.not_info, 0);
    atomic_init(&cap.more, 0);
    struct lift_logger log = {capture_fn, &cap, LIFT_LOG_INFO};
    struct conns *cs;
    struct lift_error err;
    assert_int_equal(conns_new(1, 0, log, &cs, &err), LIFT_OK);
    enum { N = 40 };
    int sp[N][2];
    struct conn *c[N];
    double t0 = now();
    for (int i = 0; i < N; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp[i]), 0);
        assert_non_null(c[i] = conn_open_at(cs, sp[i][0], t0));
    }
    for (int i = 0; i < N; i++)
        assert_true(eof_after(sp[i][1], t0, 3.0) >= 0.95);
    while (atomic_load(&cap.headers) + atomic_load(&cap.more) < N &&
           now() < t0 + 5)
        usleep(10000);
    assert_int_equal(conns_reaped(cs), N);
    assert_int_equal(atomic_load(&cap.headers), 32);
    assert_int_equal(atomic_load(&cap.more), N - 32);
    assert_int_equal(atomic_load(&cap.calls), 33);
    for (int i = 0; i < N; i++) {
        conn_close(cs, c[i]);
        close(sp[i][0]);
        close(sp[i][1]);
    }
    conns_free(cs);
}

static void conns_timeout_zero_tracks_nothing(void **state)
{
    (void)state;
    struct lift_logger log = {NULL, NULL, LIFT_LOG_DEBUG};
    struct conns *cs;
    struct lift_error err;
    assert_int_equal(conns_new(0, 4096, log, &cs, &err), LIFT_OK);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    struct conn *c = conn_open(cs, sp[0]);
    assert_null(c);
    conn_access(cs, c, 0); /* no-ops on NULL */
    conn_body(c, 10);
    conn_done(cs, c);
    conn_close(cs, c);
    assert_int_equal(conns_reaped(cs), 0);
    conns_free(cs);
    close(sp[0]);
    close(sp[1]);
    conns_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conns_deadline_adds_a_second_per_min_rate_bytes),
        cmocka_unit_test(conns_reaper_closes_only_requests_past_deadline),
        cmocka_unit_test(conns_many_reaped_at_once_logged_in_one_batch),
        cmocka_unit_test(conns_timeout_zero_tracks_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
