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
    size_t bytes; /* mspf_fixture_bytes(f) */
    int run_time; /* added after start (admin API) */
} slot;

/* A removed or replaced fixture, kept until no request can hold it. */
typedef struct grave {
    struct grave *next;
    mspf_fixture *f;
    size_t bytes;
} grave;

struct fx_registry {
    pthread_rwlock_t lock;
    mspf_set *set;
    slot *slots;
    size_t n;
    size_t cap;
    size_t max; /* fixtures fx_add accepts in all */
    atomic_size_t count;
    size_t budget; /* bytes all fixtures may hold */
    size_t held;   /* bytes held by the slots and the graveyard */
    grave *graves;
    atomic_size_t inflight; /* requests holding a fixture's response */
    int started;            /* past the start: additions are run-time */
};

fx_registry *fm_fx_new(size_t max_fixtures, size_t budget)
{
    fx_registry *reg = calloc(1, sizeof *reg);

    if (!reg)
        return NULL;
    reg->max = max_fixtures;
    reg->budget = budget;
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
    while (reg->graves) {
        grave *g = reg->graves;
        reg->graves = g->next;
        mspf_fixture_free(g->f);
        free(g);
    }
    pthread_rwlock_destroy(&reg->lock);
    free(reg);
}

/* Frees the graveyard when no request holds a fixture (write lock held:
 * no matcher is between finding a response and counting itself in). */
static void purge(fx_registry *reg)
{
    if (atomic_load(&reg->inflight) != 0)
        return;
    while (reg->graves) {
        grave *g = reg->graves;
        reg->graves = g->next;
        reg->held -= g->bytes;
        mspf_fixture_free(g->f);
        free(g);
    }
}

static void bury(fx_registry *reg, mspf_fixture *f, size_t bytes)
{
    grave *g = malloc(sizeof *g);

    if (!g) { /* cannot defer: leak rather than free under a reader */
        return;
    }
    g->f = f;
    g->bytes = bytes;
    g->next = reg->graves;
    reg->graves = g;
}

static int over_budget(fx_registry *reg, const mspf_fixture *f, size_t bytes,
                       mspf_error *err)
{
    purge(reg);
    if (bytes <= reg->budget && reg->held <= reg->budget - bytes)
        return 0;
    snprintf(err->path, sizeof err->path, "$");
    snprintf(err->reason, sizeof err->reason,
             "fixture \"%.100s\" would pass the fixture memory budget: it "
             "holds %zu bytes, %zu of %zu are held already",
             f->name, bytes, reg->held, reg->budget);
    return 1;
}

size_t fm_fx_budget_left(fx_registry *reg)
{
    size_t left;

    pthread_rwlock_wrlock(&reg->lock);
    purge(reg);
    left = reg->held < reg->budget ? reg->budget - reg->held : 0;
    pthread_rwlock_unlock(&reg->lock);
    return left ? left : 1; /* 0 would mean "no limit" to the parser */
}

void fm_fx_started(fx_registry *reg)
{
    pthread_rwlock_wrlock(&reg->lock);
    reg->started = 1;
    pthread_rwlock_unlock(&reg->lock);
}

void fm_fx_release(fx_registry *reg)
{
    atomic_fetch_sub(&reg->inflight, 1);
}

static long find_slot(fx_registry *reg, const char *name)
{
    size_t i;

    for (i = 0; i < reg->n; i++)
        if (strcmp(reg->slots[i].f->name, name) == 0)
            return (long)i;
    return -1;
}

int fm_fx_remove(fx_registry *reg, const char *name)
{
    long i;

    pthread_rwlock_wrlock(&reg->lock);
    i = find_slot(reg, name);
    if (i >= 0) {
        slot *s = &reg->slots[i];
        bury(reg, mspf_set_take(reg->set, (size_t)i), s->bytes);
        memmove(s, s + 1, (reg->n - (size_t)i - 1) * sizeof *s);
        reg->n--;
        atomic_store(&reg->count, reg->n);
        purge(reg);
    }
    pthread_rwlock_unlock(&reg->lock);
    return i >= 0 ? 0 : -1;
}

int fm_fx_replace(fx_registry *reg, mspf_fixture *f, mspf_error *err)
{
    long i;
    size_t bytes = mspf_fixture_bytes(f);
    mspf_fixture *old;

    pthread_rwlock_wrlock(&reg->lock);
    i = find_slot(reg, f->name);
    if (i < 0) {
        pthread_rwlock_unlock(&reg->lock);
        return fm_fx_add(reg, f, err) == 0 ? 0 : -1;
    }
    if (over_budget(reg, f, bytes, err)) {
        pthread_rwlock_unlock(&reg->lock);
        return -1;
    }
    old = mspf_set_put(reg->set, (size_t)i, f, err);
    if (!old) {
        pthread_rwlock_unlock(&reg->lock);
        return -1;
    }
    bury(reg, old, reg->slots[i].bytes);
    reg->slots[i].f = f;
    reg->slots[i].bytes = bytes;
    reg->slots[i].run_time = 1;
    reg->held += bytes;
    atomic_store(&reg->slots[i].served, 0);
    purge(reg);
    pthread_rwlock_unlock(&reg->lock);
    return 1;
}

size_t fm_fx_remove_run_time(fx_registry *reg)
{
    size_t i = 0, removed = 0;

    pthread_rwlock_wrlock(&reg->lock);
    while (i < reg->n) {
        slot *s = &reg->slots[i];
        if (!s->run_time) {
            i++;
            continue;
        }
        bury(reg, mspf_set_take(reg->set, i), s->bytes);
        memmove(s, s + 1, (reg->n - i - 1) * sizeof *s);
        reg->n--;
        removed++;
    }
    atomic_store(&reg->count, reg->n);
    purge(reg);
    pthread_rwlock_unlock(&reg->lock);
    return removed;
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
        slot *s = &reg->slots[reg->n];
        s->f = mspf_set_get(reg->set, reg->n);
        atomic_init(&s->served, 0);
        s->bytes = mspf_fixture_bytes(s->f);
        s->run_time = reg->started;
        reg->held += s->bytes;
        reg->n++;
        if (reg->held > reg->budget) {
            snprintf(err->file, sizeof err->file, "%s",
                     s->f->file ? s->f->file : "<memory>");
            snprintf(err->path, sizeof err->path, "$");
            snprintf(err->reason, sizeof err->reason,
                     "fixture \"%.100s\" passes the fixture memory budget "
                     "(%zu bytes held in all, the budget is %zu)",
                     s->f->name, reg->held, reg->budget);
            atomic_store(&reg->count, reg->n);
            return -1;
        }
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
    if (over_budget(reg, f, mspf_fixture_bytes(f), err)) {
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
        atomic_fetch_add(&reg->inflight, 1); /* until fm_fx_release */
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
