/* ratelimit.c — fixed window per tenant (see ratelimit.h). */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RL_TENANTS   64
#define RL_WINDOW_MS 60000LL

typedef struct bucket {
    char tenant[128];
    long long window_start;
    long count;
} bucket;

struct ratelimit {
    pthread_mutex_t lock;
    long per_min;
    bucket buckets[RL_TENANTS];
    size_t n;
};

ratelimit *fm_ratelimit_new(long per_min)
{
    ratelimit *rl = calloc(1, sizeof *rl);

    if (!rl)
        return NULL;
    rl->per_min = per_min;
    pthread_mutex_init(&rl->lock, NULL);
    return rl;
}

void fm_ratelimit_free(ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->lock);
    free(rl);
}

void fm_ratelimit_set(ratelimit *rl, long per_min)
{
    pthread_mutex_lock(&rl->lock);
    rl->per_min = per_min;
    rl->n = 0;
    pthread_mutex_unlock(&rl->lock);
}

void fm_ratelimit_clear(ratelimit *rl)
{
    pthread_mutex_lock(&rl->lock);
    rl->n = 0;
    pthread_mutex_unlock(&rl->lock);
}

int fm_ratelimit_take(ratelimit *rl, const char *tenant, long long now_ms,
                      long *retry_after_s)
{
    bucket *b = NULL;
    size_t i;
    int ok;

    pthread_mutex_lock(&rl->lock);
    if (rl->per_min <= 0) {
        pthread_mutex_unlock(&rl->lock);
        return 1;
    }
    for (i = 0; i < rl->n && !b; i++)
        if (strncmp(rl->buckets[i].tenant, tenant, sizeof b->tenant - 1) == 0)
            b = &rl->buckets[i];
    if (!b) {
        b = &rl->buckets[rl->n < RL_TENANTS ? rl->n++ : RL_TENANTS - 1];
        strncpy(b->tenant, tenant, sizeof b->tenant - 1);
        b->tenant[sizeof b->tenant - 1] = '\0';
        b->window_start = now_ms;
        b->count = 0;
    }
    if (now_ms - b->window_start >= RL_WINDOW_MS) {
        b->window_start = now_ms;
        b->count = 0;
    }
    ok = b->count < rl->per_min;
    if (ok)
        b->count++;
    else
        *retry_after_s =
            (long)((b->window_start + RL_WINDOW_MS - now_ms + 999) / 1000);
    pthread_mutex_unlock(&rl->lock);
    return ok;
}

long fm_ratelimit_get(ratelimit *rl)
{
    long v;

    if (!rl)
        return 0;
    pthread_mutex_lock(&rl->lock);
    v = rl->per_min;
    pthread_mutex_unlock(&rl->lock);
    return v;
}
