/* workers.c — threads sharing one numbered list of jobs (workers.h). */
#include "workers.h"

#include <stdlib.h>
#include <string.h>

static void *work(void *arg)
{
    hx_workers *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        size_t i = w->next < w->n ? w->next++ : w->n;
        pthread_mutex_unlock(&w->lock);
        if (i >= w->n)
            return NULL;
        w->run(w->arg, i);
    }
}

void hx_workers_start(hx_workers *w, size_t n, int jobs, hx_job_fn run,
                      void *arg)
{
    size_t nthreads = (size_t)(jobs > 0 ? jobs : 1);
    if (nthreads > n)
        nthreads = n;
    memset(w, 0, sizeof *w);
    w->run = run;
    w->arg = arg;
    w->n = n;
    pthread_mutex_init(&w->lock, NULL);
    w->tids = calloc(nthreads ? nthreads : 1, sizeof *w->tids);
    for (size_t i = 0; w->tids && i < nthreads; i++)
        if (pthread_create(&w->tids[w->started], NULL, work, w) == 0)
            w->started++;
    if (w->started == 0)
        work(w);
}

void hx_workers_join(hx_workers *w)
{
    for (size_t i = 0; i < w->started; i++)
        pthread_join(w->tids[i], NULL);
    free(w->tids);
    w->tids = NULL;
    w->started = 0;
    pthread_mutex_destroy(&w->lock);
}
