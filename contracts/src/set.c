/*
 * set.c — a set of fixtures with unique names and command ids, loaded from
 * a directory in name order so that every run sees the same set.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_internal.h"

struct mspf_set {
    mspf_fixture **items;
    size_t n;
    size_t cap;
};

mspf_set *mspf_set_new(void)
{
    return calloc(1, sizeof(mspf_set));
}

void mspf_set_free(mspf_set *set)
{
    size_t i;
    if (!set)
        return;
    for (i = 0; i < set->n; i++)
        mspf_fixture_free(set->items[i]);
    free(set->items);
    free(set);
}

static void set_error(mspf_error *err, const mspf_fixture *f, const char *path,
                      const char *reason, const char *value,
                      const mspf_fixture *other)
{
    if (!err)
        return;
    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s",
             f->file ? f->file : "<memory>");
    snprintf(err->path, sizeof(err->path), "%s", path);
    if (other) /* name the other file: sets may span directories */
        snprintf(
            err->reason, sizeof(err->reason),
            "%.80s \"%.100s\" (also in fixture \"%.100s\"%s%.150s)", reason,
            value, other->name,
            other->file && strcmp(other->file, "<memory>") != 0 ? " from " : "",
            other->file && strcmp(other->file, "<memory>") != 0 ? other->file
                                                                : "");
    else
        snprintf(err->reason, sizeof(err->reason), "%s", reason);
}

int mspf_set_add(mspf_set *set, mspf_fixture *f, mspf_error *err)
{
    size_t i;
    if (!set || !f) {
        if (f)
            set_error(err, f, "$", "no set", NULL, NULL);
        return -1;
    }
    for (i = 0; i < set->n; i++) {
        const mspf_fixture *o = set->items[i];
        if (strcmp(o->name, f->name) == 0) {
            set_error(err, f, "$.name", "duplicate name", f->name, o);
            return -1;
        }
        if (o->command_id && f->command_id &&
            strcmp(o->command_id, f->command_id) == 0) {
            set_error(err, f, "$.context.command_id", "duplicate command id",
                      f->command_id, o);
            return -1;
        }
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        mspf_fixture **items = realloc(set->items, cap * sizeof(*items));
        if (!items) {
            set_error(err, f, "$", "out of memory", NULL, NULL);
            return -1;
        }
        set->items = items;
        set->cap = cap;
    }
    set->items[set->n++] = f;
    return 0;
}

mspf_fixture *mspf_set_take(mspf_set *set, size_t i)
{
    mspf_fixture *f;
    if (!set || i >= set->n)
        return NULL;
    f = set->items[i];
    memmove(&set->items[i], &set->items[i + 1],
            (set->n - i - 1) * sizeof(*set->items));
    set->n--;
    return f;
}

mspf_fixture *mspf_set_put(mspf_set *set, size_t i, mspf_fixture *f,
                           mspf_error *err)
{
    mspf_fixture *old;
    size_t k;
    if (!set || !f || i >= set->n) {
        if (f)
            set_error(err, f, "$", "no such fixture", NULL, NULL);
        return NULL;
    }
    for (k = 0; k < set->n; k++) {
        const mspf_fixture *o = set->items[k];
        if (k == i)
            continue;
        if (strcmp(o->name, f->name) == 0) {
            set_error(err, f, "$.name", "duplicate name", f->name, o);
            return NULL;
        }
        if (strcmp(o->command_id, f->command_id) == 0) {
            set_error(err, f, "$.context.command_id", "duplicate command id",
                      f->command_id, o);
            return NULL;
        }
    }
    old = set->items[i];
    set->items[i] = f;
    return old;
}

static int is_fixture_file(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0 &&
           strcmp(name, "fixture.schema.json") != 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mspf_set_load_dir(mspf_set *set, const char *dir, mspf_error *err)
{
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int loaded = 0;
    struct dirent *de;
    DIR *d = dir ? opendir(dir) : NULL;
    mspf_error scratch;

    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", dir ? dir : "(null)");
    snprintf(err->path, sizeof(err->path), "$");
    if (!d || !set) {
        snprintf(err->reason, sizeof(err->reason), "cannot open directory: %s",
                 strerror(d ? EINVAL : errno));
        if (d)
            closedir(d);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (!is_fixture_file(de->d_name))
            continue;
        if (n == cap) {
            char **grown =
                realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (de) {
        snprintf(err->reason, sizeof(err->reason), "out of memory");
        loaded = -1;
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (i = 0; i < n && loaded >= 0; i++) {
        char path[4096];
        mspf_fixture *f = NULL;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (mspf_fixture_load(path, &f, err) || mspf_set_add(set, f, err)) {
            mspf_fixture_free(f);
            loaded = -1;
        } else {
            loaded++;
        }
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return loaded;
}

size_t mspf_set_count(const mspf_set *set)
{
    return set ? set->n : 0;
}

mspf_fixture *mspf_set_get(const mspf_set *set, size_t i)
{
    return set && i < set->n ? set->items[i] : NULL;
}

mspf_fixture *mspf_set_find(const mspf_set *set, const char *name)
{
    size_t i;
    for (i = 0; set && name && i < set->n; i++)
        if (strcmp(set->items[i]->name, name) == 0)
            return set->items[i];
    return NULL;
}
