/*
 * idem.h — the idempotency store: Idempotency-Key → the first response.
 *
 * Bounded by a capacity (oldest entry evicted first, FIFO) and a TTL (every
 * entry lives the same time, so expired entries are always the oldest and
 * are dropped from the front). Lookups and inserts are O(1): a chained hash
 * table per stripe. Keys hash to one of up to 16 stripes, each with its own
 * mutex, table and FIFO, so concurrent requests rarely share a lock; below
 * 1024 entries of capacity there is a single stripe and eviction is exact.
 */
#ifndef FAKE_MSP_IDEM_H
#define FAKE_MSP_IDEM_H

#include <stddef.h>

typedef struct idem_store idem_store;

/* capacity >= 1, ttl_ms >= 1. NULL on ENOMEM. Free with fm_idem_free(). */
idem_store *fm_idem_new(size_t capacity, long long ttl_ms);
void fm_idem_free(idem_store *s);
/* Caps the bytes held (entries, keys and stored replies; split evenly
 * between the stripes): the oldest entries are evicted first, and a reply
 * over a stripe's share is not stored (a retry runs again). */
void fm_idem_set_max_bytes(idem_store *s, size_t max_bytes);
/* Bytes held (all stripes). */
size_t fm_idem_bytes(idem_store *s);
/* Drops every entry. */
void fm_idem_clear(idem_store *s);
/* Number of entries held (all stripes). */
size_t fm_idem_count(idem_store *s);

typedef enum idem_outcome {
    IDEM_NEW = 0,  /* reserved: the caller runs the tool, then idem_finish */
    IDEM_REPLAY,   /* *status, *body and *len hold a copy of the stored reply */
    IDEM_CONFLICT, /* same key, different request */
    IDEM_IN_FLIGHT, /* same key, first request not answered yet */
    IDEM_NOMEM
} idem_outcome;

/* Looks `key` up. A fingerprint identifies the request (tenant, tool,
 * params, simulate). On IDEM_REPLAY *body is a malloc'd copy (caller
 * frees, NUL-terminated) of the stored JSON reply. */
idem_outcome fm_idem_begin(idem_store *s, const char *key, const char *fp,
                           size_t fp_len, long long now_ms, int *status,
                           char **body, size_t *len);

/* Stores the reply of a key reserved by fm_idem_begin (copied). A key evicted
 * meanwhile is simply not stored. */
void fm_idem_finish(idem_store *s, const char *key, int status,
                    const char *body, size_t len);

/* Gives up a key reserved by idem_begin whose reply could not be made
 * (ENOMEM), so that a retry runs again instead of getting 409 "in flight"
 * until the entry expires. Does nothing for a finished or unknown key. */
void fm_idem_abort(idem_store *s, const char *key);

#endif
