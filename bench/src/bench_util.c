/* bench_util.c — clock, parsing, thread start line and capped buffers. */
#include "bench_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int bench_parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long v;

    if (!text || !*text)
        return -1;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* The start line: workers count themselves in; the last one stamps the
 * start time and releases everybody. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_open = PTHREAD_COND_INITIALIZER;
static int gate_waiting;
static int gate_expected;
static int gate_released;
static double gate_start_us;

void bench_threads_ready(void)
{
    pthread_mutex_lock(&gate_lock);
    if (++gate_waiting == gate_expected) {
        gate_released = 1;
        gate_start_us = bench_now_us();
        pthread_cond_broadcast(&gate_open);
    }
    while (!gate_released)
        pthread_cond_wait(&gate_open, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
}

struct worker {
    pthread_t thread;
    bench_worker_fn fn;
    void *arg;
    int index;
    int rc;
};

static void *worker_main(void *p)
{
    struct worker *w = p;
    w->rc = w->fn(w->arg, w->index);
    return NULL;
}

int bench_run_threads(int n, bench_worker_fn fn, void *arg, double *wall_us)
{
    struct worker *ws = calloc((size_t)n, sizeof *ws);
    int i, started = 0, failed = 0;

    if (!ws)
        return -1;
    gate_waiting = 0;
    gate_released = 0;
    gate_expected = n;
    for (i = 0; i < n; i++) {
        ws[i].fn = fn;
        ws[i].arg = arg;
        ws[i].index = i;
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
            break;
        started++;
    }
    if (started < n) {
        /* Release the ones already waiting, then report the failure. */
        pthread_mutex_lock(&gate_lock);
        gate_released = 1;
        pthread_cond_broadcast(&gate_open);
        pthread_mutex_unlock(&gate_lock);
        failed = 1;
    }
    for (i = 0; i < started; i++) {
        pthread_join(ws[i].thread, NULL);
        if (ws[i].rc != 0)
            failed = 1;
    }
    *wall_us = bench_now_us() - gate_start_us;
    free(ws);
    return failed ? -1 : 0;
}
