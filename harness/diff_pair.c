/*
 * diff_pair.c — pairs the fixtures of two sides for msp-contract diff: by
 * name, and a removed and an added fixture with the same command id and
 * request (for a provider-only one, its steps' requests) as a rename; each
 * pair is compared by diff_classify.c, every change sorted most severe
 * first.
 */
#include "diff.h"
#include "diff_classify.h"

#include <stdlib.h>
#include <string.h>

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key)
                               : NULL;
}

static int provider_only(const hx_side_fixture *s)
{
    return s->provider_only;
}

/* What makes two fixtures under different names the same one: the command
 * id and the request (for a provider-only one: its steps' requests). */
static char *rename_key(const hx_side_fixture *s)
{
    const cJSON *root = mspf_json_root(s->js);
    const cJSON *prov = get(root, "provider");
    cJSON *tmp = cJSON_CreateArray();
    if (!tmp)
        return NULL;
    if (provider_only(s)) {
        const cJSON *st;
        cJSON_ArrayForEach(st, get(prov, "steps"))
        {
            cJSON *r = cJSON_Duplicate(get(st, "request"), 1);
            if (r)
                cJSON_AddItemToArray(tmp, r);
        }
        cJSON_AddItemToArray(tmp, cJSON_CreateString("steps"));
    } else {
        cJSON_AddItemToArray(tmp, cJSON_CreateString(s->command_id));
        cJSON *r = cJSON_Duplicate(get(root, "request"), 1);
        if (r)
            cJSON_AddItemToArray(tmp, r);
    }
    char *p = cJSON_PrintUnformatted(tmp);
    cJSON_Delete(tmp);
    if (!p)
        return NULL;
    char *k = strdup(p);
    cJSON_free(p);
    return k;
}

typedef struct keyed {
    char *key;
    size_t idx;
    int used;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

/* The first entry of rk (sorted) with key that no rename took yet. */
static keyed *find_unused(keyed *rk, size_t nr, const char *key)
{
    size_t lo = 0, hi = nr;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(rk[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < nr && strcmp(rk[lo].key, key) == 0; lo++)
        if (!rk[lo].used)
            return &rk[lo];
    return NULL;
}

static unsigned added_breaks(const hx_side_fixture *s)
{
    if (provider_only(s))
        return s->provider_verify ? HX_BREAKS_MSPS : HX_BREAKS_NONE;
    return HX_BREAKS_EXECUTORS |
           (s->provider_verify ? HX_BREAKS_MSPS : HX_BREAKS_NONE);
}

int hx_breaks_rank(unsigned breaks)
{
    switch (breaks & HX_BREAKS_BOTH) {
    case HX_BREAKS_BOTH: return 0;
    case HX_BREAKS_EXECUTORS: return 1;
    case HX_BREAKS_MSPS: return 2;
    default: return 3;
    }
}

const char *hx_breaks_name(unsigned breaks)
{
    static const char *const names[] = {"both", "executors", "msps", "neither"};
    return names[hx_breaks_rank(breaks)];
}

static int cmp_change(const void *a, const void *b)
{
    const hx_change *x = a, *y = b;
    int r = hx_breaks_rank(x->breaks) - hx_breaks_rank(y->breaks);
    if (r)
        return r;
    r = strcmp(x->fixture, y->fixture);
    if (r)
        return r;
    return (x->order > y->order) - (x->order < y->order);
}

int hx_changes_compute(const hx_side *os, const hx_side *ns, hx_changes *out)
{
    memset(out, 0, sizeof *out);
    size_t *removed = malloc((os->n + 1) * sizeof *removed);
    size_t *addedv = malloc((ns->n + 1) * sizeof *addedv);
    size_t nr = 0, na = 0, i = 0, j = 0;
    if (!removed || !addedv) {
        free(removed);
        free(addedv);
        return -1;
    }
    while (i < os->n || j < ns->n) {
        int r = i == os->n   ? 1
                : j == ns->n ? -1
                             : strcmp(os->items[i].name, ns->items[j].name);
        if (r < 0)
            removed[nr++] = i++;
        else if (r > 0)
            addedv[na++] = j++;
        else if (os->items[i].same || !os->items[i].js || !ns->items[j].js) {
            i++; /* the same text on both sides */
            j++;
        } else {
            size_t before = out->n;
            hx_diff_compare(out, &os->items[i], &ns->items[j], "changed");
            out->fixtures_changed += out->n > before;
            i++;
            j++;
        }
    }
    /* renames: a removed and an added fixture with the same key */
    keyed *rk = calloc(nr + 1, sizeof *rk);
    if (!rk)
        out->oom = 1;
    for (size_t k = 0; rk && k < nr; k++) {
        rk[k].key = rename_key(&os->items[removed[k]]);
        rk[k].idx = removed[k];
        if (!rk[k].key)
            out->oom = 1;
    }
    if (rk && !out->oom && nr > 1)
        qsort(rk, nr, sizeof *rk, cmp_keyed);
    for (size_t k = 0; k < na && rk && !out->oom; k++) {
        const hx_side_fixture *s = &ns->items[addedv[k]];
        keyed probe = {.key = nr ? rename_key(s) : NULL, .idx = 0};
        keyed *hit = probe.key ? find_unused(rk, nr, probe.key) : NULL;
        free(probe.key);
        if (hit) {
            const hx_side_fixture *o = &os->items[hit->idx];
            hit->used = 1;
            hx_diff_add(out, o, s, "renamed", "$.name",
                        get(mspf_json_root(o->js), "name"),
                        get(mspf_json_root(s->js), "name"), HX_BREAKS_NONE,
                        "a rename: the same command id and request");
            hx_diff_compare(out, o, s, "renamed");
        } else {
            unsigned b = added_breaks(s);
            hx_diff_add(
                out, NULL, s, "added", "$", NULL, mspf_json_root(s->js), b,
                b == HX_BREAKS_NONE ? "a new fixture no side runs"
                : provider_only(s)  ? "a new provider fixture: the MSP must "
                                      "pass it"
                                    : "a new fixture: a new requirement");
        }
        out->fixtures_changed++;
    }
    for (size_t k = 0; k < nr && rk; k++) {
        if (!rk[k].used) {
            const hx_side_fixture *s = &os->items[rk[k].idx];
            hx_diff_add(out, s, NULL, "removed", "$", mspf_json_root(s->js),
                        NULL, HX_BREAKS_NONE,
                        "a fixture removed: nothing requires it any more");
            out->fixtures_changed++;
        }
        free(rk[k].key);
    }
    free(rk);
    free(removed);
    free(addedv);
    if (out->n > 1)
        qsort(out->items, out->n, sizeof *out->items, cmp_change);
    return out->oom ? -1 : 0;
}

void hx_changes_free(hx_changes *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].fixture);
        free(c->items[i].old_name);
        free(c->items[i].path);
        free(c->items[i].old_value);
        free(c->items[i].new_value);
    }
    free(c->items);
    memset(c, 0, sizeof *c);
}
