/* fixtures.c — the replay registry (see fixtures.h). */
#include "fixtures.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    mspf_fixture *f;
    atomic_size_t served;
} slot;

struct fx_registry {
    pthread_rwlock_t lock;
    mspf_set *set;
    slot *slots;
    size_t n;
    size_t cap;
    size_t max; /* fixtures fx_add accepts in all */
    atomic_size_t count;
};

fx_registry *fm_fx_new(size_t max_fixtures)
{
    fx_registry *reg = calloc(1, sizeof *reg);

    if (!reg)
        return NULL;
    reg->max = max_fixtures;
    reg->set = mspf_set_new();
    if (!reg->set) {
        free(reg);
        return NULL;
    }
    pthread_rwlock_init(&reg->lock, NULL);
    return reg;
}

void fm_fx_free(fx_registry *reg)
{
    if (!reg)
        return;
    mspf_set_free(reg->set);
    free(reg->slots);
    pthread_rwlock_destroy(&reg->lock);
    free(reg);
}

/* Mirrors fixtures the set holds but the slots do not yet (caller holds the
 * write lock). */
static int sync_slots(fx_registry *reg, mspf_error *err)
{
    size_t total = mspf_set_count(reg->set);

    if (total > reg->cap) {
        size_t ncap = reg->cap ? reg->cap : 16;
        slot *ns;
        while (ncap < total)
            ncap *= 2;
        ns = realloc(reg->slots, ncap * sizeof *ns);
        if (!ns) {
            snprintf(err->reason, sizeof err->reason, "out of memory");
            return -1;
        }
        reg->slots = ns;
        reg->cap = ncap;
    }
    while (reg->n < total) {
        reg->slots[reg->n].f = mspf_set_get(reg->set, reg->n);
        atomic_init(&reg->slots[reg->n].served, 0);
        reg->n++;
    }
    atomic_store(&reg->count, reg->n);
    return 0;
}

int fm_fx_add(fx_registry *reg, mspf_fixture *f, mspf_error *err)
{
    int rc;

    pthread_rwlock_wrlock(&reg->lock);
    if (reg->n >= reg->max) {
        snprintf(err->path, sizeof err->path, "$");
        snprintf(err->reason, sizeof err->reason,
                 "too many fixtures: %zu loaded already (the limit)", reg->max);
        pthread_rwlock_unlock(&reg->lock);
        return -1;
    }
    rc = mspf_set_add(reg->set, f, err);
    if (rc == 0)
        rc = sync_slots(reg, err);
    pthread_rwlock_unlock(&reg->lock);
    return rc;
}

int fm_fx_load_dir(fx_registry *reg, const char *dir, mspf_error *err)
{
    int rc;

    pthread_rwlock_wrlock(&reg->lock);
    rc = mspf_set_load_dir(reg->set, dir, err) < 0 ? -1 : 0;
    if (sync_slots(reg, err) != 0)
        rc = -1;
    pthread_rwlock_unlock(&reg->lock);
    return rc;
}

int fm_fx_load_file(fx_registry *reg, const char *file, mspf_error *err)
{
    mspf_fixture *f;

    if (mspf_fixture_load(file, &f, err) != 0)
        return -1;
    if (fm_fx_add(reg, f, err) != 0) {
        mspf_fixture_free(f);
        return -1;
    }
    return 0;
}

size_t fm_fx_count(fx_registry *reg)
{
    return atomic_load(&reg->count);
}

const mspf_response *fm_fx_match(fx_registry *reg, const mspf_request *req,
                                 const mspf_fixture **fixture)
{
    const mspf_response *r = NULL;
    size_t i;

    pthread_rwlock_rdlock(&reg->lock);
    for (i = 0; i < reg->n && !r; i++) {
        slot *s = &reg->slots[i];
        size_t k;
        if (s->f->n_responses == 0 || !mspf_match_request(s->f, req, NULL))
            continue;
        k = atomic_fetch_add(&s->served, 1);
        r = &s->f->responses[k < s->f->n_responses ? k : s->f->n_responses - 1];
        *fixture = s->f;
    }
    pthread_rwlock_unlock(&reg->lock);
    return r;
}

void fm_fx_closest(fx_registry *reg, const mspf_request *req, char *msg,
                   size_t len)
{
    mspf_diffs best = {0};
    const char *best_name = NULL;
    size_t i;

    pthread_rwlock_rdlock(&reg->lock);
    for (i = 0; i < reg->n; i++) {
        mspf_fixture *f = reg->slots[i].f;
        mspf_diffs d = {0};
        if (f->n_responses == 0 || !f->expects_request)
            continue;
        mspf_match_request(f, req, &d);
        if (d.n > 0 && (!best_name || d.n < best.n)) {
            mspf_diffs_free(&best);
            best = d;
            best_name = f->name;
        } else {
            mspf_diffs_free(&d);
        }
    }
    if (best_name)
        snprintf(msg, len, "closest: %s: %s expected %s got %s", best_name,
                 best.items[0].field, best.items[0].expected,
                 best.items[0].got);
    else
        snprintf(msg, len, "no fixtures loaded");
    pthread_rwlock_unlock(&reg->lock);
    mspf_diffs_free(&best);
}

void fm_fx_reset_sequences(fx_registry *reg)
{
    size_t i;

    pthread_rwlock_rdlock(&reg->lock);
    for (i = 0; i < reg->n; i++)
        atomic_store(&reg->slots[i].served, 0);
    pthread_rwlock_unlock(&reg->lock);
}

void fm_fx_to_json(fx_registry *reg, fm_buf *b)
{
    size_t i, k;

    pthread_rwlock_rdlock(&reg->lock);
    fm_buf_addf(b, "{\"count\":%zu,\"fixtures\":[", reg->n);
    for (i = 0; i < reg->n; i++) {
        const mspf_fixture *f = reg->slots[i].f;
        fm_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
        fm_buf_json_str(b, f->name, strlen(f->name));
        fm_buf_adds(b, ",\"description\":");
        fm_buf_json_str(b, f->description,
                        f->description ? strlen(f->description) : 0);
        fm_buf_addf(
            b,
            ",\"exit_row\":%d,\"responses\":%zu,\"served\":%zu,\"statuses\":[",
            f->exit_row, f->n_responses, atomic_load(&reg->slots[i].served));
        for (k = 0; k < f->n_responses; k++)
            fm_buf_addf(b, "%s%d", k ? "," : "", f->responses[k].status);
        fm_buf_adds(b, "],\"faults\":[");
        for (k = 0; k < f->n_responses; k++)
            fm_buf_addf(b, "%s\"%s\"", k ? "," : "",
                        mspf_fault_kind_name(f->responses[k].fault.kind));
        fm_buf_adds(b, "]}");
    }
    fm_buf_adds(b, "]}");
    pthread_rwlock_unlock(&reg->lock);
}
