/* fixtures.c — the replay registry (see fixtures.h).
 *
 * Matching scales with an index: each fixture that can answer sits in
 * exactly one candidate list, under the most selective key its "request"
 * allows —
 *   "i" + the literal X-Brainstorm-Command-Id it requires, else
 *   "p" + the literal body.tool + the literal body.params (canonical JSON:
 *         members sorted, numbers as %.17g), else
 *   "t" + the literal body.tool, else
 *   the list of the rest.
 * A request can only match fixtures in the lists under its own keys, so it
 * tries those (at most four lists, merged in load order, so the first
 * fixture in load order still wins) instead of every fixture. Up to
 * FX_SCAN_MAX fixtures, a plain scan. */
#include "fixtures.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    mspf_fixture *f;
    atomic_size_t served;
    size_t bytes;      /* mspf_fixture_bytes(f) */
    int run_time;      /* added after start (admin API) */
    fm_fx_cell *cells; /* one per response (fm_fx_match_cell); or NULL */
} slot;

/* A removed or replaced fixture, kept until no request can hold it. */
typedef struct grave {
    struct grave *next;
    mspf_fixture *f;
    size_t bytes;
    fm_fx_cell *cells;
} grave;

/* Slot numbers in ascending (load) order. */
typedef struct ix_list {
    size_t *v;
    size_t n, cap;
} ix_list;

typedef struct ix_cell {
    char *key; /* NULL: empty */
    size_t key_len;
    ix_list list;
} ix_cell;

struct fx_registry {
    pthread_rwlock_t lock;
    ix_cell *cells; /* open addressing, power of two */
    size_t n_cells, used;
    ix_list rest;
    size_t n_body_keys; /* fixtures under "p" or "t" keys */
    int ix_broken;      /* a fixture could not be filed: scan instead */
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
    void (*drop)(void *);   /* frees what a cell holds (fm_fx_set_drop) */
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

void fm_fx_set_drop(fx_registry *reg, void (*drop)(void *))
{
    reg->drop = drop;
}

/* Empty cells for f's responses; NULL on ENOMEM (then nothing is kept). */
static fm_fx_cell *new_cells(const mspf_fixture *f)
{
    size_t n = f->n_responses ? f->n_responses : 1, i;
    fm_fx_cell *cells = malloc(n * sizeof *cells);

    for (i = 0; cells && i < n; i++)
        atomic_init(&cells[i], NULL);
    return cells;
}

static void drop_cells(fx_registry *reg, fm_fx_cell *cells, size_t n)
{
    size_t i;

    for (i = 0; cells && i < n; i++) {
        void *p = atomic_load(&cells[i]);
        if (p && reg->drop)
            reg->drop(p);
    }
    free(cells);
}

void fm_fx_free(fx_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->n; i++)
        drop_cells(reg, reg->slots[i].cells, reg->slots[i].f->n_responses);
    mspf_set_free(reg->set);
    free(reg->slots);
    for (size_t i = 0; i < reg->n_cells; i++) {
        free(reg->cells[i].key);
        free(reg->cells[i].list.v);
    }
    free(reg->cells);
    free(reg->rest.v);
    while (reg->graves) {
        grave *g = reg->graves;
        reg->graves = g->next;
        drop_cells(reg, g->cells, g->f->n_responses);
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
        drop_cells(reg, g->cells, g->f->n_responses);
        mspf_fixture_free(g->f);
        free(g);
    }
}

static void bury(fx_registry *reg, mspf_fixture *f, size_t bytes,
                 fm_fx_cell *cells)
{
    grave *g = malloc(sizeof *g);

    if (!g) { /* cannot defer: leak rather than free under a reader */
        return;
    }
    g->f = f;
    g->bytes = bytes;
    g->cells = cells;
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

/* ---- the index ---------------------------------------------------------- */

static unsigned long long ix_hash(const char *k, size_t n)
{
    unsigned long long h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h;
}

static ix_cell *ix_find(ix_cell *cells, size_t n_cells, const char *k, size_t n)
{
    size_t i;

    if (!n_cells)
        return NULL;
    for (i = (size_t)ix_hash(k, n) & (n_cells - 1);;
         i = (i + 1) & (n_cells - 1)) {
        ix_cell *c = &cells[i];
        if (!c->key || (c->key_len == n && memcmp(c->key, k, n) == 0))
            return c;
    }
}

static int ix_list_add(ix_list *l, size_t idx)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 2;
        size_t *nv = realloc(l->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = idx;
    return 0;
}

static int ix_grow(fx_registry *reg)
{
    size_t n = reg->n_cells ? reg->n_cells * 2 : 64, i;
    ix_cell *cells = calloc(n, sizeof *cells);

    if (!cells)
        return -1;
    for (i = 0; i < reg->n_cells; i++)
        if (reg->cells[i].key)
            *ix_find(cells, n, reg->cells[i].key, reg->cells[i].key_len) =
                reg->cells[i];
    free(reg->cells);
    reg->cells = cells;
    reg->n_cells = n;
    return 0;
}

static int ix_put(fx_registry *reg, const char *k, size_t n, size_t idx)
{
    ix_cell *c;

    if ((reg->used + 1) * 2 > reg->n_cells && ix_grow(reg) != 0)
        return -1;
    c = ix_find(reg->cells, reg->n_cells, k, n);
    if (!c->key) {
        c->key = malloc(n + 1);
        if (!c->key)
            return -1;
        memcpy(c->key, k, n);
        c->key[n] = '\0';
        c->key_len = n;
        reg->used++;
    }
    return ix_list_add(&c->list, idx);
}

/* 1 when v is an object the fixture model reads as a matcher. */
static int is_matcher(const cJSON *v)
{
    static const char *const keys[] = {"regex", "same_as", "json",
                                       "type",  "absent",  NULL};
    size_t i;

    if (!cJSON_IsObject(v) || !v->child || v->child->next)
        return 0;
    for (i = 0; keys[i]; i++)
        if (strcmp(v->child->string, keys[i]) == 0)
            return 1;
    return 0;
}

static int cmp_members(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string,
                  (*(const cJSON *const *)b)->string);
}

/* Canonical JSON of v into b: members sorted, numbers %.17g (-0 as 0).
 * -1 when v holds a matcher (fixture side), a duplicate member, or on
 * ENOMEM: then v cannot be keyed. */
static int canon(const cJSON *v, msp_buf *b, int fixture)
{
    const cJSON *c;
    size_t n = 0, i;

    if (fixture && is_matcher(v))
        return -1;
    if (cJSON_IsObject(v)) {
        const cJSON **m;
        for (c = v->child; c; c = c->next)
            n++;
        m = malloc((n ? n : 1) * sizeof *m);
        if (!m)
            return -1;
        for (i = 0, c = v->child; c; c = c->next)
            m[i++] = c;
        qsort(m, n, sizeof *m, cmp_members);
        msp_buf_append_str(b, "{");
        for (i = 0; i < n; i++) {
            if (i && strcmp(m[i - 1]->string, m[i]->string) == 0) {
                free(m);
                return -1;
            }
            if (i)
                msp_buf_append_str(b, ",");
            msp_buf_append_json(b, m[i]->string, strlen(m[i]->string));
            msp_buf_append_str(b, ":");
            if (canon(m[i], b, fixture) != 0) {
                free(m);
                return -1;
            }
        }
        free(m);
        msp_buf_append_str(b, "}");
    } else if (cJSON_IsArray(v)) {
        msp_buf_append_str(b, "[");
        for (c = v->child; c; c = c->next) {
            if (c != v->child)
                msp_buf_append_str(b, ",");
            if (canon(c, b, fixture) != 0)
                return -1;
        }
        msp_buf_append_str(b, "]");
    } else if (cJSON_IsNumber(v)) {
        msp_buf_printf(b, "%.17g", v->valuedouble == 0 ? 0.0 : v->valuedouble);
    } else if (cJSON_IsString(v)) {
        msp_buf_append_json(b, v->valuestring, strlen(v->valuestring));
    } else if (cJSON_IsBool(v)) {
        msp_buf_append_str(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        msp_buf_append_str(b, "null");
    } else {
        return -1;
    }
    return b->failed ? -1 : 0;
}

/* The key of tool + params: "p" TOOL NUL CANON (or "t" TOOL when params is
 * NULL). Returns 0 and fills b, or -1. */
static int body_key(const char *tool, const cJSON *params, int fixture,
                    msp_buf *b)
{
    msp_buf_append_str(b, params ? "p" : "t");
    msp_buf_append_str(b, tool);
    if (params) {
        msp_buf_append(b, "", 1);
        if (canon(params, b, fixture) != 0)
            return -1;
    }
    return b->failed ? -1 : 0;
}

/* A header the fixture requires literally (names any case), or NULL. */
static const char *literal_header(const cJSON *headers, const char *name)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, headers)
    {
        if (c->string && fm_strieq(c->string, name) && cJSON_IsString(c))
            return c->valuestring;
    }
    return NULL;
}

/* Files slot i under its key (caller holds the write lock). */
/* Keys are capped (a key past the cap, like ENOMEM, means: scan). */
#define FX_KEY_MAX (64u * 1024u * 1024u)

static int ix_add(fx_registry *reg, size_t i)
{
    const mspf_fixture *f = reg->slots[i].f;
    const cJSON *req, *body, *tool, *params;
    const char *cid;
    msp_buf b;
    int rc;

    msp_buf_init(&b, FX_KEY_MAX);
    if (f->n_responses == 0 || !f->expects_request)
        return 0; /* never answers */
    req = cJSON_GetObjectItemCaseSensitive(f->doc, "request");
    cid = literal_header(cJSON_GetObjectItemCaseSensitive(req, "headers"),
                         "X-Brainstorm-Command-Id");
    if (cid) {
        msp_buf_append_str(&b, "i");
        msp_buf_append_str(&b, cid);
        rc = b.failed ? -1 : ix_put(reg, b.data, b.len, i);
        free(b.data);
        return rc;
    }
    body = cJSON_GetObjectItemCaseSensitive(req, "body");
    tool = cJSON_IsObject(body) && !is_matcher(body)
               ? cJSON_GetObjectItemCaseSensitive(body, "tool")
               : NULL;
    if (!tool || !cJSON_IsString(tool))
        return ix_list_add(&reg->rest, i);
    params = cJSON_GetObjectItemCaseSensitive(body, "params");
    if (!params || body_key(tool->valuestring, params, 1, &b) != 0) {
        free(b.data);
        msp_buf_init(&b, FX_KEY_MAX);
        if (body_key(tool->valuestring, NULL, 1, &b) != 0) {
            free(b.data);
            return -1;
        }
    }
    rc = ix_put(reg, b.data, b.len, i);
    free(b.data);
    if (rc == 0)
        reg->n_body_keys++;
    return rc;
}

/* Files every slot again (after a removal or a replacement moved or
 * changed them; caller holds the write lock). */
static void ix_rebuild(fx_registry *reg)
{
    size_t i;

    for (i = 0; i < reg->n_cells; i++) {
        free(reg->cells[i].key);
        free(reg->cells[i].list.v);
    }
    free(reg->cells);
    reg->cells = NULL;
    reg->n_cells = reg->used = 0;
    reg->rest.n = 0;
    reg->n_body_keys = 0;
    reg->ix_broken = 0;
    for (i = 0; i < reg->n; i++)
        if (ix_add(reg, i) != 0)
            reg->ix_broken = 1; /* still served, by a scan */
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
        bury(reg, mspf_set_take(reg->set, (size_t)i), s->bytes, s->cells);
        memmove(s, s + 1, (reg->n - (size_t)i - 1) * sizeof *s);
        reg->n--;
        atomic_store(&reg->count, reg->n);
        ix_rebuild(reg);
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
    bury(reg, old, reg->slots[i].bytes, reg->slots[i].cells);
    reg->slots[i].f = f;
    reg->slots[i].cells = new_cells(f);
    reg->slots[i].bytes = bytes;
    reg->slots[i].run_time = 1;
    reg->held += bytes;
    atomic_store(&reg->slots[i].served, 0);
    ix_rebuild(reg);
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
        bury(reg, mspf_set_take(reg->set, i), s->bytes, s->cells);
        memmove(s, s + 1, (reg->n - i - 1) * sizeof *s);
        reg->n--;
        removed++;
    }
    atomic_store(&reg->count, reg->n);
    if (removed)
        ix_rebuild(reg);
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
        s->cells = new_cells(s->f);
        reg->held += s->bytes;
        if (ix_add(reg, reg->n) != 0)
            reg->ix_broken = 1; /* still served, by a scan */
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

/* Tries slot i; on a match advances its sequence. Caller holds the lock. */
static const mspf_response *try_slot(fx_registry *reg, size_t i,
                                     const mspf_request *req, const cJSON *body,
                                     const mspf_fixture **fixture,
                                     fm_fx_cell **cell)
{
    slot *s = &reg->slots[i];
    size_t k;

    if (s->f->n_responses == 0 ||
        !mspf_match_request_json(s->f, req, body, NULL))
        return NULL;
    k = atomic_fetch_add(&s->served, 1);
    atomic_fetch_add(&reg->inflight, 1); /* until fm_fx_release */
    if (k >= s->f->n_responses)
        k = s->f->n_responses - 1;
    *fixture = s->f;
    *cell = s->cells ? &s->cells[k] : NULL;
    return &s->f->responses[k];
}

static const ix_list *lookup(fx_registry *reg, const msp_buf *k)
{
    ix_cell *c;

    if (k->failed || !k->data)
        return NULL;
    c = ix_find(reg->cells, reg->n_cells, k->data, k->len);
    return c && c->key ? &c->list : NULL;
}

static const char *request_header(const mspf_request *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->n_headers; i++)
        if (req->headers[i].name && fm_strieq(req->headers[i].name, name))
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

/* Up to this many fixtures a scan costs no more than the index (each
 * fixture whose headers match parses the body once more: recorded-style
 * fixtures, told apart only by their params, make a scan of 10 cost twice
 * the index in ci/bench row 11). */
#define FX_SCAN_MAX 4

const mspf_response *fm_fx_match(fx_registry *reg, const mspf_request *req,
                                 const cJSON *body,
                                 const mspf_fixture **fixture)
{
    fm_fx_cell *cell;

    return fm_fx_match_cell(reg, req, body, fixture, &cell);
}

const mspf_response *fm_fx_match_cell(fx_registry *reg, const mspf_request *req,
                                      const cJSON *body,
                                      const mspf_fixture **fixture,
                                      fm_fx_cell **cell)
{
    const mspf_response *r = NULL;
    const ix_list *lists[4];
    size_t pos[4] = {0, 0, 0, 0}, n_lists = 0, i;
    msp_buf ki, kp, kt;
    const char *cid;
    cJSON *doc = NULL;
    int scan = 0;

    pthread_rwlock_rdlock(&reg->lock);
    if (reg->n <= FX_SCAN_MAX || reg->ix_broken) {
        for (i = 0; i < reg->n && !r; i++)
            r = try_slot(reg, i, req, body, fixture, cell);
        pthread_rwlock_unlock(&reg->lock);
        return r;
    }
    /* the index's keys, built only when the index is used */
    cid = request_header(req, "X-Brainstorm-Command-Id");
    msp_buf_init(&ki, FX_KEY_MAX);
    msp_buf_init(&kp, FX_KEY_MAX);
    msp_buf_init(&kt, FX_KEY_MAX);
    if (cid) {
        msp_buf_append_str(&ki, "i");
        msp_buf_append_str(&ki, cid);
        scan |= ki.failed;
        lists[n_lists] = lookup(reg, &ki);
        n_lists += lists[n_lists] != NULL;
    }
    if (reg->n_body_keys) {
        const cJSON *tool, *params;
        if (!body)
            body = doc =
                cJSON_ParseWithLength((const char *)req->body, req->body_len);
        tool = cJSON_GetObjectItemCaseSensitive(body, "tool");
        params = cJSON_GetObjectItemCaseSensitive(body, "params");
        if (cJSON_IsString(tool)) {
            /* a duplicate member (no canonical form), or past the cap */
            if (params && body_key(tool->valuestring, params, 0, &kp) != 0)
                scan = 1;
            lists[n_lists] = params ? lookup(reg, &kp) : NULL;
            n_lists += lists[n_lists] != NULL;
            if (body_key(tool->valuestring, NULL, 0, &kt) != 0)
                scan = 1;
            lists[n_lists] = lookup(reg, &kt);
            n_lists += lists[n_lists] != NULL;
        }
    }
    if (reg->rest.n)
        lists[n_lists++] = &reg->rest;
    if (scan) {
        for (i = 0; i < reg->n && !r; i++)
            r = try_slot(reg, i, req, body, fixture, cell);
    } else {
        /* merge the lists in load order: the first match wins */
        for (;;) {
            size_t best = (size_t)-1, which = 0, l;
            for (l = 0; l < n_lists; l++)
                if (pos[l] < lists[l]->n && lists[l]->v[pos[l]] < best) {
                    best = lists[l]->v[pos[l]];
                    which = l;
                }
            if (best == (size_t)-1)
                break;
            pos[which]++;
            if ((r = try_slot(reg, best, req, body, fixture, cell)) != NULL)
                break;
        }
    }
    pthread_rwlock_unlock(&reg->lock);
    cJSON_Delete(doc);
    free(ki.data);
    free(kp.data);
    free(kt.data);
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

void fm_fx_to_json(fx_registry *reg, msp_buf *b)
{
    size_t i, k;

    pthread_rwlock_rdlock(&reg->lock);
    msp_buf_printf(b, "{\"count\":%zu,\"fixtures\":[", reg->n);
    for (i = 0; i < reg->n; i++) {
        const mspf_fixture *f = reg->slots[i].f;
        msp_buf_append_str(b, i ? ",{\"name\":" : "{\"name\":");
        msp_buf_append_json(b, f->name, strlen(f->name));
        msp_buf_append_str(b, ",\"description\":");
        msp_buf_append_json(b, f->description,
                            f->description ? strlen(f->description) : 0);
        msp_buf_printf(
            b,
            ",\"exit_row\":%d,\"responses\":%zu,\"served\":%zu,\"statuses\":[",
            f->exit_row, f->n_responses, atomic_load(&reg->slots[i].served));
        for (k = 0; k < f->n_responses; k++)
            msp_buf_printf(b, "%s%d", k ? "," : "", f->responses[k].status);
        msp_buf_append_str(b, "],\"faults\":[");
        for (k = 0; k < f->n_responses; k++)
            msp_buf_printf(b, "%s\"%s\"", k ? "," : "",
                           mspf_fault_kind_name(f->responses[k].fault.kind));
        msp_buf_append_str(b, "]}");
    }
    msp_buf_append_str(b, "]}");
    pthread_rwlock_unlock(&reg->lock);
}
