/* idem.c — striped, bounded idempotency store (see idem.h). */
#include "idem.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IDEM_MAX_STRIPES      16u
#define IDEM_STRIPE_THRESHOLD 1024u

typedef struct entry {
    struct entry *next_hash;
    struct entry *next_fifo;
    uint64_t hash;
    uint64_t fp_hash[2]; /* the request's fingerprint, as two hashes */
    long long created_ms;
    int done;
    int aborted; /* idem_abort: the next idem_begin starts afresh */
    int status;
    char *body;
    size_t body_len;
    size_t key_len;
    size_t fp_len;
    char data[]; /* key NUL */
} entry;

typedef struct stripe {
    pthread_mutex_t lock;
    entry **buckets;
    size_t mask;
    entry *head; /* oldest */
    entry *tail;
    size_t count;
    size_t cap;
    size_t bytes;     /* held by the entries: sizes, keys, bodies */
    size_t max_bytes; /* 0: no byte cap */
} stripe;

struct idem_store {
    stripe stripes[IDEM_MAX_STRIPES];
    unsigned n_stripes;
    long long ttl_ms;
};

static uint64_t fnv1a_from(uint64_t h, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t fnv1a(const char *s, size_t n)
{
    return fnv1a_from(1469598103934665603ULL, s, n);
}

/* A second, independent 64-bit hash (FNV-1a from another basis, then
 * mixed), so two fingerprints are told apart by 128 bits. */
static uint64_t hash2(const char *s, size_t n)
{
    uint64_t z = fnv1a_from(0x9e3779b97f4a7c15ULL, s, n) ^ n;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

idem_store *fm_idem_new(size_t capacity, long long ttl_ms)
{
    idem_store *s = calloc(1, sizeof *s);
    unsigned i;

    if (!s)
        return NULL;
    s->n_stripes = capacity < IDEM_STRIPE_THRESHOLD ? 1 : IDEM_MAX_STRIPES;
    s->ttl_ms = ttl_ms;
    for (i = 0; i < s->n_stripes; i++) {
        stripe *st = &s->stripes[i];
        size_t nb = 16;
        st->cap = (capacity + s->n_stripes - 1) / s->n_stripes;
        while (nb < st->cap)
            nb *= 2;
        st->buckets = calloc(nb, sizeof *st->buckets);
        st->mask = nb - 1;
        pthread_mutex_init(&st->lock, NULL);
        if (!st->buckets) {
            s->n_stripes = i + 1;
            fm_idem_free(s);
            return NULL;
        }
    }
    return s;
}

/* Unlinks the oldest entry of the stripe (caller holds the lock). */
static void drop_oldest(stripe *st)
{
    entry *e = st->head, **pp;

    st->head = e->next_fifo;
    if (!st->head)
        st->tail = NULL;
    for (pp = &st->buckets[e->hash & st->mask]; *pp != e;
         pp = &(*pp)->next_hash)
        ;
    *pp = e->next_hash;
    st->count--;
    st->bytes -= sizeof *e + e->key_len + e->body_len;
    free(e->body);
    free(e);
}

void fm_idem_set_max_bytes(idem_store *s, size_t max_bytes)
{
    unsigned i;

    for (i = 0; i < s->n_stripes; i++) {
        pthread_mutex_lock(&s->stripes[i].lock);
        s->stripes[i].max_bytes = max_bytes / s->n_stripes;
        pthread_mutex_unlock(&s->stripes[i].lock);
    }
}

/* Entries and bytes held over all stripes, each stripe read under its
 * lock. */
static void totals(idem_store *s, size_t *count, size_t *bytes)
{
    unsigned i;

    *count = *bytes = 0;
    for (i = 0; i < s->n_stripes; i++) {
        pthread_mutex_lock(&s->stripes[i].lock);
        *count += s->stripes[i].count;
        *bytes += s->stripes[i].bytes;
        pthread_mutex_unlock(&s->stripes[i].lock);
    }
}

size_t fm_idem_bytes(idem_store *s)
{
    size_t count, bytes;

    totals(s, &count, &bytes);
    return bytes;
}

static void stripe_clear(stripe *st)
{
    while (st->head)
        drop_oldest(st);
}

void fm_idem_free(idem_store *s)
{
    unsigned i;

    if (!s)
        return;
    for (i = 0; i < s->n_stripes; i++) {
        if (s->stripes[i].buckets)
            stripe_clear(&s->stripes[i]);
        free(s->stripes[i].buckets);
        pthread_mutex_destroy(&s->stripes[i].lock);
    }
    free(s);
}

void fm_idem_clear(idem_store *s)
{
    unsigned i;

    for (i = 0; i < s->n_stripes; i++) {
        pthread_mutex_lock(&s->stripes[i].lock);
        stripe_clear(&s->stripes[i]);
        pthread_mutex_unlock(&s->stripes[i].lock);
    }
}

size_t fm_idem_count(idem_store *s)
{
    size_t count, bytes;

    totals(s, &count, &bytes);
    return count;
}

static entry *lookup(stripe *st, uint64_t h, const char *key, size_t key_len)
{
    entry *e;

    for (e = st->buckets[h & st->mask]; e; e = e->next_hash)
        if (e->hash == h && e->key_len == key_len &&
            memcmp(e->data, key, key_len) == 0)
            return e;
    return NULL;
}

idem_outcome fm_idem_begin(idem_store *s, const char *key, const char *fp,
                           size_t fp_len, long long now_ms, int *status,
                           char **body, size_t *len)
{
    size_t key_len = strlen(key);
    uint64_t h = fnv1a(key, key_len);
    uint64_t f1 = fnv1a(fp, fp_len), f2 = hash2(fp, fp_len);
    stripe *st = &s->stripes[(h >> 32) % s->n_stripes];
    idem_outcome out = IDEM_NEW;
    entry *e;

    pthread_mutex_lock(&st->lock);
    while (st->head && now_ms - st->head->created_ms >= s->ttl_ms)
        drop_oldest(st);
    e = lookup(st, h, key, key_len);
    if (e && e->aborted) {
        e->aborted = 0;
        e->fp_len = fp_len;
        e->fp_hash[0] = f1;
        e->fp_hash[1] = f2;
        pthread_mutex_unlock(&st->lock);
        return IDEM_NEW;
    }
    if (e) {
        if (e->fp_len != fp_len || e->fp_hash[0] != f1 || e->fp_hash[1] != f2)
            out = IDEM_CONFLICT;
        else if (!e->done)
            out = IDEM_IN_FLIGHT;
        else if ((*body = malloc(e->body_len + 1)) == NULL)
            out = IDEM_NOMEM;
        else {
            memcpy(*body, e->body, e->body_len + 1);
            *len = e->body_len;
            *status = e->status;
            out = IDEM_REPLAY;
        }
        pthread_mutex_unlock(&st->lock);
        return out;
    }
    e = malloc(sizeof *e + key_len + 1);
    if (!e) {
        pthread_mutex_unlock(&st->lock);
        return IDEM_NOMEM;
    }
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->created_ms = now_ms;
    e->key_len = key_len;
    e->fp_len = fp_len;
    e->fp_hash[0] = f1;
    e->fp_hash[1] = f2;
    memcpy(e->data, key, key_len + 1);
    if (st->count >= st->cap)
        drop_oldest(st);
    st->bytes += sizeof *e + key_len;
    while (st->max_bytes && st->bytes > st->max_bytes && st->head)
        drop_oldest(st);
    e->next_hash = st->buckets[h & st->mask];
    st->buckets[h & st->mask] = e;
    if (st->tail)
        st->tail->next_fifo = e;
    else
        st->head = e;
    st->tail = e;
    st->count++;
    pthread_mutex_unlock(&st->lock);
    return out;
}

void fm_idem_finish(idem_store *s, const char *key, int status,
                    const char *body, size_t len)
{
    size_t key_len = strlen(key);
    uint64_t h = fnv1a(key, key_len);
    stripe *st = &s->stripes[(h >> 32) % s->n_stripes];
    char *copy;
    entry *e;

    if (st->max_bytes && len > st->max_bytes) {
        fm_idem_abort(s, key); /* too big to keep: a retry runs again */
        return;
    }
    copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, body, len);
        copy[len] = '\0';
    }
    pthread_mutex_lock(&st->lock);
    e = lookup(st, h, key, key_len);
    if (e && !e->done && copy) {
        e->done = 1;
        e->status = status;
        e->body = copy;
        e->body_len = len;
        st->bytes += len;
        copy = NULL;
        /* the oldest go first; e itself stays (it fits: see above) */
        while (st->bytes > st->max_bytes && st->max_bytes && st->head != e)
            drop_oldest(st);
    }
    pthread_mutex_unlock(&st->lock);
    free(copy);
}

void fm_idem_abort(idem_store *s, const char *key)
{
    size_t key_len = strlen(key);
    uint64_t h = fnv1a(key, key_len);
    stripe *st = &s->stripes[(h >> 32) % s->n_stripes];
    entry *e;

    pthread_mutex_lock(&st->lock);
    e = lookup(st, h, key, key_len);
    if (e && !e->done)
        e->aborted = 1;
    pthread_mutex_unlock(&st->lock);
}
