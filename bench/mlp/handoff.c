/*
 * bench/mlp/handoff.c - what handing half a batch to a second thread
 * costs, against the half it would save (bench/RESULTS.md, mlp).
 *
 * A two-thread mlp step would wake a worker with half the batch's rows
 * and wait for its partial gradient: one round trip per batch. This
 * times that round trip between two threads with a mutex and condition
 * variable (what a library that must not burn a core can use) and with
 * a spinning flag (the fastest possible, at the price of a core spinning
 * through the whole fit), N times, and prints the median and the 90th
 * percentile in microseconds. Build: cc -O2 -pthread handoff.c.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 20000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn; /* 0: main's, 1: worker's; guarded by mu */
static atomic_int flag;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *cond_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        pthread_mutex_lock(&mu);
        while (turn != 1)
            pthread_cond_wait(&cv, &mu);
        turn = 0;
        pthread_cond_broadcast(&cv);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void *spin_worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < N; i++) {
        while (atomic_load(&flag) != 1)
            ;
        atomic_store(&flag, 0);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *name, double *t)
{
    qsort(t, N, sizeof *t, cmp);
    printf("%s round trip: median %.1f us, p90 %.1f us\n", name, t[N / 2],
           t[N * 9 / 10]);
}

int main(void)
{
    static double t[N];
    pthread_t th;
    pthread_create(&th, NULL, cond_worker, NULL);
    for (int i = 0; i < N; i++) {
        double t0 = now_us();
        pthread_mutex_lock(&mu);
        turn = 1;
        pthread_cond_broadcast(&cv);
        while (turn != 0)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        t[i] = now_us() - t0;
    }
    pthread_join(th, NULL);
    report("condvar", t);
    pthread_create(&th, NULL, spin_worker, NULL);
    for (int i = 0; i < N; i++) {
        double t0 = now_us();
        atomic_store(&flag, 1);
        while (atomic_load(&flag) != 0)
            ;
        t[i] = now_us() - t0;
    }
    pthread_join(th, NULL);
    report("spin", t);
    return 0;
}
