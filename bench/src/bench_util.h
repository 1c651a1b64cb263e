/*
 * bench_util.h — what the benchmark drivers share: a monotonic clock,
 * strict number parsing, and a runner that starts N threads at once.
 *
 * The drivers are programs, not library code: they print one result line
 * on stdout and exit 0, or a reason on stderr and exit 1.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>

/* Microseconds on CLOCK_MONOTONIC. */
double bench_now_us(void);

/* Parses a decimal integer in [min, max] into *out. Returns 0, or -1 when
 * text is not entirely such a number (*out untouched). */
int bench_parse_long(const char *text, long min, long max, long *out);

/* A worker for bench_run_threads(): does its warm-up, calls
 * bench_threads_ready(), then does the timed work. Returns 0 on success,
 * non-zero when a call failed. */
typedef int (*bench_worker_fn)(void *arg, int index);

/* Blocks the calling worker until every worker is warm; the clock starts
 * when the last one arrives. Each worker must call it exactly once. */
void bench_threads_ready(void);

/* Runs fn(arg, i) for i in 0..n-1 on n threads, started together by
 * bench_threads_ready(). Stores the wall time of the timed part (from the
 * moment all are ready to the moment the last one ends) in *wall_us.
 * Returns 0 when every worker returned 0, else -1. */
int bench_run_threads(int n, bench_worker_fn fn, void *arg, double *wall_us);

#endif /* BENCH_UTIL_H */
