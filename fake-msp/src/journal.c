/* journal.c — bounded request ring (see journal.h). */
#include "journal.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "executor/msp_util.h"
#include "scrub.h"

struct journal {
    pthread_mutex_t lock;
    fake_msp_entry **ring;
    size_t max;
    size_t head; /* index of the oldest */
    size_t count;
    size_t max_bytes;
    size_t bytes; /* sum of the entries' allocation sizes */
    unsigned long long next_seq;
    unsigned long long dropped;
    fm_scrub *known; /* the server's credentials, every spelling */
    char **known_keys;
    size_t n_known;
    char *own_key; /* the last entry's bearer key not in known_keys */
    fm_scrub *own;
};

/* The size of one entry's block, kept in front of it for the byte count. */
typedef struct sized {
    size_t size;
    fake_msp_entry e;
} sized;

#define SIZED_OF(ent) ((sized *)(void *)((char *)(ent)-offsetof(sized, e)))

journal *fm_journal_new(size_t max, size_t max_bytes)
{
    journal *j = calloc(1, sizeof *j);

    if (!j)
        return NULL;
    j->ring = calloc(max, sizeof *j->ring);
    if (!j->ring) {
        free(j);
        return NULL;
    }
    j->max = max;
    j->max_bytes = max_bytes;
    j->next_seq = 1;
    pthread_mutex_init(&j->lock, NULL);
    return j;
}

static void clear_locked(journal *j)
{
    size_t i;

    for (i = 0; i < j->count; i++) {
        free(SIZED_OF(j->ring[(j->head + i) % j->max]));
        j->ring[(j->head + i) % j->max] = NULL;
    }
    j->head = j->count = 0;
    j->bytes = 0;
}

static void free_secrets(journal *j)
{
    size_t i;

    for (i = 0; i < j->n_known; i++)
        free(j->known_keys[i]);
    free(j->known_keys);
    fm_scrub_free(j->known);
}

int fm_journal_set_secrets(journal *j, const char *const *keys, size_t n)
{
    fm_scrub *s = fm_scrub_new(keys, n, FM_JOURNAL_MIN_KEY);
    char **copy = calloc(n ? n : 1, sizeof *copy);
    size_t i;

    for (i = 0; s && copy && i < n; i++)
        if (!(copy[i] = strdup(keys[i])))
            break;
    if (!s || !copy || i < n) {
        while (copy && i > 0)
            free(copy[--i]);
        free(copy);
        fm_scrub_free(s);
        return -1;
    }
    pthread_mutex_lock(&j->lock);
    free_secrets(j);
    j->known = s;
    j->known_keys = copy;
    j->n_known = n;
    pthread_mutex_unlock(&j->lock);
    return 0;
}

void fm_journal_free(journal *j)
{
    if (!j)
        return;
    clear_locked(j);
    free_secrets(j);
    free(j->own_key);
    fm_scrub_free(j->own);
    pthread_mutex_destroy(&j->lock);
    free(j->ring);
    free(j);
}

void fm_journal_clear(journal *j)
{
    pthread_mutex_lock(&j->lock);
    clear_locked(j);
    j->dropped = 0;
    j->next_seq = 1;
    pthread_mutex_unlock(&j->lock);
}

unsigned long long fm_journal_dropped(journal *j)
{
    unsigned long long d;

    pthread_mutex_lock(&j->lock);
    d = j->dropped;
    pthread_mutex_unlock(&j->lock);
    return d;
}

/* How many header name and value lengths fm_journal_append measures once
 * and remembers for the copy (past them it measures again). */
#define JOURNAL_LENS 64

/* Bump allocator over the entry's single block. */
typedef struct arena {
    char *p;
} arena;

static char *arena_str(arena *a, const char *s, size_t n)
{
    char *d = a->p;

    memcpy(d, s, n);
    d[n] = '\0';
    a->p += n + 1;
    return d;
}

unsigned long long
fm_journal_append(journal *j, const char *method, const char *path,
                  const mspf_header *headers, size_t n_headers,
                  const unsigned char *body, size_t body_len,
                  const char *fixture, int status, char *const *violations,
                  size_t n_violations)
{
    size_t size = sizeof(sized), i;
    size_t method_len = strlen(method), path_len = strlen(path);
    size_t fixture_len = fixture ? strlen(fixture) : 0;
    size_t lens[JOURNAL_LENS]; /* the first headers' name and value lengths */
    fake_msp_entry *e;
    sized *blk;
    unsigned long long seq;
    arena a;

    size += n_headers * sizeof(mspf_header) + n_violations * sizeof(char *);
    size += method_len + path_len + body_len + 3;
    size += fixture ? fixture_len + 1 : 0;
    for (i = 0; i < n_headers; i++) {
        size_t name_len = strlen(headers[i].name);
        size_t value_len = strlen(headers[i].value);
        if (2 * i + 1 < JOURNAL_LENS) {
            lens[2 * i] = name_len;
            lens[2 * i + 1] = value_len;
        }
        size += name_len + value_len + 2;
    }
    for (i = 0; i < n_violations; i++)
        size += strlen(violations[i]) + 1;
    blk = malloc(size);
    if (!blk)
        return 0;
    blk->size = size;
    e = &blk->e;
    e->headers = (mspf_header *)(void *)(e + 1);
    e->violations = (char **)(void *)(e->headers + n_headers);
    a.p = (char *)(e->violations + n_violations);
    e->n_headers = n_headers;
    e->n_violations = n_violations;
    e->method = arena_str(&a, method, method_len);
    e->path = arena_str(&a, path, path_len);
    e->body = (unsigned char *)arena_str(&a, (const char *)body, body_len);
    e->body_len = body_len;
    e->fixture = fixture ? arena_str(&a, fixture, fixture_len) : NULL;
    for (i = 0; i < n_headers; i++) {
        int memo = 2 * i + 1 < JOURNAL_LENS;
        e->headers[i].name = arena_str(
            &a, headers[i].name, memo ? lens[2 * i] : strlen(headers[i].name));
        e->headers[i].value =
            arena_str(&a, headers[i].value,
                      memo ? lens[2 * i + 1] : strlen(headers[i].value));
    }
    for (i = 0; i < n_violations; i++)
        e->violations[i] = arena_str(&a, violations[i], strlen(violations[i]));
    e->status = status;
    e->time_ms = fm_wall_ms();

    pthread_mutex_lock(&j->lock);
    seq = e->seq = j->next_seq++;
    while (j->count == j->max || (j->count && j->bytes + size > j->max_bytes)) {
        sized *old = SIZED_OF(j->ring[j->head]);
        j->bytes -= old->size;
        free(old);
        j->ring[j->head] = NULL;
        j->head = (j->head + 1) % j->max;
        j->count--;
        j->dropped++;
    }
    j->ring[(j->head + j->count) % j->max] = e;
    j->count++;
    j->bytes += size;
    pthread_mutex_unlock(&j->lock);
    return seq;
}

static const char *header_value(const fake_msp_entry *e, const char *name)
{
    size_t i;

    for (i = 0; i < e->n_headers; i++)
        if (fm_strieq(e->headers[i].name, name))
            return e->headers[i].value;
    return NULL;
}

static int entry_has_id(const fake_msp_entry *e, const char *id)
{
    const char *a = header_value(e, "X-Brainstorm-Command-Id");
    const char *b = header_value(e, "Idempotency-Key");

    return (a && strcmp(a, id) == 0) || (b && strcmp(b, id) == 0);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_s(const char *s)
{
    return s ? dup_n(s, strlen(s)) : NULL;
}

static int copy_entry(fake_msp_entry *d, const fake_msp_entry *s)
{
    size_t i;

    memset(d, 0, sizeof *d);
    d->seq = s->seq;
    d->time_ms = s->time_ms;
    d->status = s->status;
    d->method = dup_s(s->method);
    d->path = dup_s(s->path);
    d->body = (unsigned char *)dup_n((const char *)s->body, s->body_len);
    d->body_len = s->body_len;
    d->fixture = dup_s(s->fixture);
    d->headers = calloc(s->n_headers ? s->n_headers : 1, sizeof *d->headers);
    d->violations =
        calloc(s->n_violations ? s->n_violations : 1, sizeof(char *));
    if (!d->method || !d->path || !d->body || (s->fixture && !d->fixture) ||
        !d->headers || !d->violations)
        return -1;
    for (i = 0; i < s->n_headers; i++) {
        d->headers[i].name = dup_s(s->headers[i].name);
        d->headers[i].value = dup_s(s->headers[i].value);
        d->n_headers = i + 1;
        if (!d->headers[i].name || !d->headers[i].value)
            return -1;
    }
    for (i = 0; i < s->n_violations; i++) {
        d->violations[i] = dup_s(s->violations[i]);
        d->n_violations = i + 1;
        if (!d->violations[i])
            return -1;
    }
    return 0;
}

void fake_msp_entries_free(fake_msp_entry *entries, size_t n)
{
    size_t i, k;

    if (!entries)
        return;
    for (i = 0; i < n; i++) {
        fake_msp_entry *e = &entries[i];
        for (k = 0; k < e->n_headers; k++) {
            free(e->headers[k].name);
            free(e->headers[k].value);
        }
        for (k = 0; k < e->n_violations; k++)
            free(e->violations[k]);
        free(e->headers);
        free(e->violations);
        free(e->method);
        free(e->path);
        free(e->body);
        free(e->fixture);
    }
    free(entries);
}

int fm_journal_find(journal *j, const char *command_id, fake_msp_entry **out,
                    size_t *n)
{
    fake_msp_entry *res = NULL;
    size_t i, k = 0;
    int rc = 0;

    pthread_mutex_lock(&j->lock);
    if (j->count) {
        res = calloc(j->count, sizeof *res);
        if (!res)
            rc = -1;
    }
    for (i = 0; rc == 0 && i < j->count; i++) {
        const fake_msp_entry *e = j->ring[(j->head + i) % j->max];
        if (command_id && !entry_has_id(e, command_id))
            continue;
        if (copy_entry(&res[k++], e) != 0)
            rc = -1;
    }
    pthread_mutex_unlock(&j->lock);
    if (rc != 0) {
        fake_msp_entries_free(res, k);
        return -1;
    }
    if (k == 0) {
        free(res);
        res = NULL;
    }
    *out = res;
    *n = k;
    return 0;
}

/* Bytes base64() encodes at a time: a multiple of 3, so the pieces join. */
#define B64_CHUNK 768

/* s[0..n) in padded standard base64, appended to b. */
static void base64(msp_buf *b, const unsigned char *s, size_t n)
{
    char out[B64_CHUNK / 3 * 4 + 1];

    for (size_t i = 0; i < n; i += B64_CHUNK) {
        size_t m = n - i < B64_CHUNK ? n - i : B64_CHUNK;
        ssize_t k = msp_base64_encode(s + i, m, 0, out, sizeof out);
        msp_buf_append(b, out, (size_t)k);
    }
}

/* Bytes msp_buf_append_json writes for s (without the quotes). */
static size_t escaped_len(const unsigned char *s, size_t n)
{
    size_t i, len = 0;

    for (i = 0; i < n; i++)
        len += s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' ? 1
               : s[i] == '"' || s[i] == '\\' || s[i] == '\n' || s[i] == '\r' ||
                       s[i] == '\t'
                   ? 2
                   : 6;
    return len;
}

/* A string that is valid UTF-8 as a JSON string, anything else as
 * {"base64":"..."}, so the journal is valid JSON whatever arrived. */
static void text_json(msp_buf *b, const char *s)
{
    size_t n = strlen(s);

    if (fm_utf8_valid((const unsigned char *)s, n)) {
        msp_buf_append_json(b, s, n);
        return;
    }
    msp_buf_append_str(b, "{\"base64\":\"");
    base64(b, (const unsigned char *)s, n);
    msp_buf_append_str(b, "\"}");
}

/* The scrubber of the entry's own bearer key when the server does not know
 * it (cached: a client sends many requests with one key); NULL when there
 * is none. Caller holds j->lock. */
static const fm_scrub *own_scrub(journal *j, const fake_msp_entry *e)
{
    const char *auth = header_value(e, "Authorization"), *key, *sp;
    size_t i;

    if (!auth || !(sp = strchr(auth, ' ')))
        return NULL;
    key = sp + 1;
    if (strlen(key) < FM_JOURNAL_MIN_KEY)
        return NULL;
    for (i = 0; i < j->n_known; i++)
        if (strcmp(j->known_keys[i], key) == 0)
            return NULL;
    if (j->own_key && strcmp(j->own_key, key) == 0)
        return j->own;
    free(j->own_key);
    fm_scrub_free(j->own);
    j->own_key = strdup(key);
    j->own = j->own_key ? fm_scrub_new(&key, 1, FM_JOURNAL_MIN_KEY) : NULL;
    return j->own;
}

/* s[0..n) with every spelling of a credential masked: s itself when
 * nothing matched (nothing allocated), else a buffer in *tmp (free()). */
static const unsigned char *masked(const fm_scrub *const sc[2],
                                   const unsigned char *s, size_t *n,
                                   unsigned char **tmp)
{
    const unsigned char *cur = s;
    size_t k;

    *tmp = NULL;
    for (k = 0; k < 2; k++) {
        unsigned char *out = NULL;
        size_t len = 0;
        int rc = fm_scrub_run(sc[k], cur, *n, &out, &len);
        if (rc < 0) { /* ENOMEM: never show it unmasked */
            free(*tmp);
            *tmp = NULL;
            *n = 0;
            return (const unsigned char *)"";
        }
        if (rc > 0) {
            free(*tmp);
            *tmp = out;
            cur = out;
            *n = len;
        }
    }
    return cur;
}

static void masked_text_json(msp_buf *b, const fm_scrub *const sc[2],
                             const char *s)
{
    unsigned char *tmp;
    size_t n = strlen(s);
    const unsigned char *m = masked(sc, (const unsigned char *)s, &n, &tmp);

    text_json(b, (const char *)m);
    free(tmp);
}

static void entry_to_json(journal *j, const fake_msp_entry *e, msp_buf *b)
{
    const fm_scrub *sc[2] = {j->known, own_scrub(j, e)};
    const unsigned char *body;
    unsigned char *tmp;
    char masked_auth[128];
    size_t i, body_len = e->body_len;

    msp_buf_printf(b, "{\"seq\":%llu,\"time_ms\":%lld,\"method\":", e->seq,
                   e->time_ms);
    text_json(b, e->method);
    msp_buf_append_str(b, ",\"path\":");
    masked_text_json(b, sc, e->path);
    msp_buf_append_str(b, ",\"headers\":[");
    for (i = 0; i < e->n_headers; i++) {
        const char *v = e->headers[i].value;
        msp_buf_append_str(b, i ? ",[" : "[");
        text_json(b, e->headers[i].name);
        msp_buf_append_str(b, ",");
        if (fm_strieq(e->headers[i].name, "Authorization")) {
            fm_mask_authorization(v, masked_auth, sizeof masked_auth);
            text_json(b, masked_auth);
        } else {
            masked_text_json(b, sc, v);
        }
        msp_buf_append_str(b, "]");
    }
    msp_buf_append_str(b, "],");
    body = masked(sc, e->body, &body_len, &tmp);
    if (fm_utf8_valid(body, body_len) &&
        escaped_len(body, body_len) <= body_len / 3 * 4 + 8) {
        msp_buf_append_str(b, "\"body\":");
        msp_buf_append_json(b, (const char *)body, body_len);
    } else {
        msp_buf_append_str(b, "\"body_base64\":\"");
        base64(b, body, body_len);
        msp_buf_append_str(b, "\"");
    }
    free(tmp);
    msp_buf_append_str(b, ",\"fixture\":");
    msp_buf_append_json(b, e->fixture, e->fixture ? strlen(e->fixture) : 0);
    msp_buf_printf(b, ",\"status\":%d,\"violations\":[", e->status);
    for (i = 0; i < e->n_violations; i++) {
        if (i)
            msp_buf_append_str(b, ",");
        masked_text_json(b, sc, e->violations[i]);
    }
    msp_buf_append_str(b, "]}");
}

void fm_journal_to_json(journal *j, msp_buf *b)
{
    size_t i;

    pthread_mutex_lock(&j->lock);
    msp_buf_printf(b, "{\"dropped\":%llu,\"requests\":[", j->dropped);
    for (i = 0; i < j->count; i++) {
        if (i)
            msp_buf_append_str(b, ",");
        entry_to_json(j, j->ring[(j->head + i) % j->max], b);
    }
    msp_buf_append_str(b, "]}");
    pthread_mutex_unlock(&j->lock);
}

unsigned long long fm_journal_entry_json(journal *j, unsigned long long after,
                                         msp_buf *b,
                                         unsigned long long *dropped)
{
    unsigned long long seq = 0, oldest;
    size_t i;

    pthread_mutex_lock(&j->lock);
    if (dropped)
        *dropped = j->dropped;
    if (j->count) {
        oldest = j->ring[j->head]->seq;
        i = after >= oldest ? (size_t)(after - oldest + 1) : 0;
        if (i < j->count) {
            const fake_msp_entry *e = j->ring[(j->head + i) % j->max];
            entry_to_json(j, e, b);
            seq = e->seq;
        }
    }
    pthread_mutex_unlock(&j->lock);
    return seq;
}
