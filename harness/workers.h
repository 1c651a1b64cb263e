/*
 * workers.h — a few threads working through one numbered list of jobs:
 * verify's cases and the fault matrix's cells.
 */
#ifndef MSP_HARNESS_WORKERS_H
#define MSP_HARNESS_WORKERS_H

#include <pthread.h>
#include <stddef.h>

/* Runs job i (0 <= i < n) of arg's list; called once for each i, from any
 * of the threads. */
typedef void (*hx_job_fn)(void *arg, size_t i);

typedef struct hx_workers {
    hx_job_fn run;
    void *arg;
    size_t n;
    size_t next; /* the next job to hand out; under lock */
    pthread_mutex_t lock;
    pthread_t *tids;
    size_t started;
} hx_workers;

/* Starts min(jobs, n) threads (at least one) that take the jobs 0..n-1 in
 * order, each job once, and run them. When no thread can be started, the
 * calling thread runs every job before this returns. */
void hx_workers_start(hx_workers *w, size_t n, int jobs, hx_job_fn run,
                      void *arg);

/* Waits until every job has run and frees what hx_workers_start took. */
void hx_workers_join(hx_workers *w);

#endif
