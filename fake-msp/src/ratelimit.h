/*
 * ratelimit.h — per-tenant fixed-window rate limiter (N requests per
 * minute; the window starts with a tenant's first request).
 */
#ifndef FAKE_MSP_RATELIMIT_H
#define FAKE_MSP_RATELIMIT_H

typedef struct ratelimit ratelimit;

/* per_min <= 0: unlimited. NULL on ENOMEM. */
ratelimit *fm_ratelimit_new(long per_min);
/* Changes the limit (<= 0: unlimited) and clears the buckets. */
void fm_ratelimit_set(ratelimit *rl, long per_min);
void fm_ratelimit_free(ratelimit *rl);
/* The limit per minute in force (<= 0: unlimited). */
long fm_ratelimit_get(ratelimit *rl);
void fm_ratelimit_clear(ratelimit *rl);

/* Counts one request of `tenant` at now_ms. Returns 1 when allowed; 0 when
 * over the limit, with *retry_after_s set to the whole seconds (>= 1) until
 * the window ends. Tenants beyond the table size share one bucket. */
int fm_ratelimit_take(ratelimit *rl, const char *tenant, long long now_ms,
                      long *retry_after_s);

#endif
