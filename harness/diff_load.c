/*
 * diff_load.c — one side of `msp-contract diff`: a fixture directory, or
 * "git:REV:PATH" read from git's object store (git ls-tree and git cat-file
 * --batch through the project's spawner, never a shell, never a checkout).
 */
#include "diff.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/msp_util.h"
#include "hx_spawn.h"

#define GIT_TIMEOUT_MS  120000
#define GIT_OUT_CAP     (512u * 1024u * 1024u)
#define GIT_ERR_CAP     4096u
#define SIDE_MAX_FILES  200000u
#define SCHEMA_FILENAME "fixture.schema.json"

/* The fixtures read so far are hx_side_fixture records in an msp_buf
 * (executor/msp_util.h), capped at room for SIDE_MAX_FILES of them: the
 * loaders refuse more files than that before they are kept. */
#define SIDE_BUF_MAX (SIDE_MAX_FILES * sizeof(hx_side_fixture))

/* Parses for validation with no body rendered over this many bytes: a
 * set of copies of oversized-body would otherwise render gigabytes. */
#define PARSE_BUDGET (1024u * 1024u)

/* Keeps one file's text (copied) under its base name without ".json". */
static int keep(msp_buf *b, const char *text, size_t len, const char *origin,
                const char *base, char *err, size_t errlen)
{
    if (len > MSPF_FILE_MAX) {
        snprintf(err, errlen, "%s: over %u bytes", origin, MSPF_FILE_MAX);
        return -1;
    }
    hx_side_fixture s = {0};
    s.name = strndup(base, strlen(base) - 5);
    s.origin = strdup(origin);
    s.text = malloc(len + 1);
    if (s.text) {
        memcpy(s.text, text, len);
        s.text[len] = '\0';
        s.len = len;
    }
    if (!s.name || !s.origin || !s.text ||
        msp_buf_append(b, &s, sizeof s) != 0) {
        free(s.name);
        free(s.origin);
        free(s.text);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int wanted_name(const char *name)
{
    size_t len = strlen(name);
    return len > 5 && strcmp(name + len - 5, ".json") == 0 &&
           strcmp(name, SCHEMA_FILENAME) != 0 && name[0] != '.';
}

/* A copy of doc's text with every body_repeat.times cut to 1, after
 * checking the repeat stays under MSPF_BODY_REPEAT_MAX; NULL when one does
 * not (reason in err) or on ENOMEM. */
static char *without_repeats(const cJSON *doc, const char *origin, char *err,
                             size_t errlen)
{
    cJSON *copy = cJSON_Duplicate(doc, 1);
    cJSON *one = cJSON_GetObjectItemCaseSensitive(copy, "response");
    cJSON *many = cJSON_GetObjectItemCaseSensitive(copy, "responses");
    cJSON *list[1024];
    size_t n = 0;
    if (one)
        list[n++] = one;
    cJSON *r;
    cJSON_ArrayForEach(r, many)
    {
        if (n < sizeof list / sizeof *list)
            list[n++] = r;
    }
    for (size_t i = 0; copy && i < n; i++) {
        cJSON *rep = cJSON_GetObjectItemCaseSensitive(list[i], "body_repeat");
        cJSON *text = cJSON_GetObjectItemCaseSensitive(rep, "text");
        cJSON *times = cJSON_GetObjectItemCaseSensitive(rep, "times");
        if (!cJSON_IsString(text) || !cJSON_IsNumber(times))
            continue;
        if (times->valuedouble * (double)strlen(text->valuestring) >
            (double)MSPF_BODY_REPEAT_MAX) {
            snprintf(err, errlen,
                     "%s: body_repeat: value out of range: body "
                     "over 64 MiB",
                     origin);
            cJSON_Delete(copy);
            return NULL;
        }
        cJSON_SetNumberValue(times, 1);
    }
    char *p = copy ? cJSON_PrintUnformatted(copy) : NULL;
    cJSON_Delete(copy);
    if (!p)
        snprintf(err, errlen, "%s: out of memory", origin);
    return p;
}

/* Validates one fixture's text with the model and keeps what the diff
 * needs of it, then drops the text. */
static int parse_one(hx_side_fixture *s, char *err, size_t errlen)
{
    mspf_fixture *f = NULL;
    mspf_error e = {0};
    mspf_json *js = NULL;
    const char *origin = s->origin;
    int rc = mspf_fixture_parse_within(s->text, s->len, origin, PARSE_BUDGET,
                                       &f, &e);
    if (rc != 0 && strstr(e.reason, "over the memory budget") &&
        mspf_json_parse(s->text, s->len, &js) == 0) {
        char *small = without_repeats(mspf_json_root(js), origin, err, errlen);
        if (!small) {
            mspf_json_free(js);
            return -1;
        }
        memset(&e, 0, sizeof e);
        rc = mspf_fixture_parse(small, strlen(small), origin, &f, &e);
        cJSON_free(small);
    }
    if (rc != 0) {
        char buf[MSPF_ERRBUF_SIZE];
        snprintf(err, errlen, "%s", mspf_error_format(&e, buf, sizeof buf));
        mspf_json_free(js);
        return -1;
    }
    if (strcmp(f->name, s->name) != 0) {
        snprintf(err, errlen,
                 "%s: $.name: name \"%.100s\" does not equal the file base "
                 "name \"%.100s\"",
                 origin, f->name, s->name);
        mspf_fixture_free(f);
        mspf_json_free(js);
        return -1;
    }
    if (!js && mspf_json_parse(s->text, s->len, &js) != 0) {
        snprintf(err, errlen, "%s: out of memory", origin);
        mspf_fixture_free(f);
        return -1;
    }
    s->command_id =
        f->n_provider_steps || !f->command_id ? NULL : strdup(f->command_id);
    if (!s->command_id && !f->n_provider_steps && f->command_id) {
        snprintf(err, errlen, "%s: out of memory", origin);
        mspf_fixture_free(f);
        mspf_json_free(js);
        return -1;
    }
    s->provider_verify = f->provider_verify;
    s->provider_only = f->n_provider_steps > 0;
    s->js = js;
    mspf_fixture_free(f);
    free(s->text);
    s->text = NULL;
    return 0;
}

/* Reads a regular file, refusing anything else and anything over the cap. */
static char *read_regular(const char *path, size_t *len, char *err,
                          size_t errlen)
{
    char *text = NULL;
    if (msp_read_file(path, MSPF_FILE_MAX, &text, len) == 0)
        return text;
    if (errno == EFBIG)
        snprintf(err, errlen, "%s: over %u bytes", path, MSPF_FILE_MAX);
    else
        snprintf(err, errlen, "%s: %s", path,
                 errno == EISDIR ? "not a regular file"
                                 : msp_file_strerror(errno));
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(const char *dir, msp_buf *b, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!wanted_name(e->d_name))
            continue;
        if (n == SIDE_MAX_FILES) {
            snprintf(err, errlen, "%s: more than %u fixtures", dir,
                     SIDE_MAX_FILES);
            rc = -1;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 128;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                rc = -1;
                snprintf(err, errlen, "out of memory");
                break;
            }
            names = p;
        }
        if (!(names[n] = strdup(e->d_name))) {
            rc = -1;
            snprintf(err, errlen, "out of memory");
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[4096];
        size_t len = 0;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >=
            sizeof path) {
            snprintf(err, errlen, "%s: path too long", dir);
            rc = -1;
            break;
        }
        char *text = read_regular(path, &len, err, errlen);
        if (!text || keep(b, text, len, path, names[i], err, errlen) != 0)
            rc = -1;
        free(text);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Runs git with argv (after "git"), stdin `in`; returns 0 with *r filled
 * when it exited 0. */
static int run_git(const char *const *args, const char *in, size_t in_len,
                   hx_spawned *r, char *err, size_t errlen)
{
    const char *argv[12] = {"git"};
    size_t k = 1;
    for (; args[k - 1] && k < 11; k++)
        argv[k] = args[k - 1];
    argv[k] = NULL;
    hx_spawn_opts so = {.in = in,
                        .in_len = in_len,
                        .out_cap = GIT_OUT_CAP,
                        .err_cap = GIT_ERR_CAP,
                        .timeout_ms = GIT_TIMEOUT_MS,
                        .search_path = 1};
    char why[256] = "";
    memset(r, 0, sizeof *r);
    if (hx_spawn_run(argv, &so, r, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot run git: %s", why);
        hx_spawned_free(r);
        return -1;
    }
    if (r->timed_out || !r->exited || r->status != 0 ||
        r->out_total > r->out_len) {
        const char *e = r->err ? r->err : "";
        size_t el = r->err_len;
        while (el && (e[el - 1] == '\n' || e[el - 1] == '\r'))
            el--;
        snprintf(err, errlen, "git %s: %s%.*s", args[0],
                 r->timed_out                ? "timed out"
                 : r->out_total > r->out_len ? "output too large"
                 : el                        ? ""
                                             : "failed",
                 (int)(el > 300 ? 300 : el), e);
        hx_spawned_free(r);
        return -1;
    }
    return 0;
}

/* git:REV:PATH. */
static int load_git(const char *spec, msp_buf *b, char *err, size_t errlen)
{
    const char *rev = spec + 4, *colon = strchr(rev, ':');
    if (!colon || colon == rev || rev[0] == '-') {
        snprintf(err, errlen,
                 "%s: want git:REV:PATH (e.g. git:main:contracts/fixtures)",
                 spec);
        return -1;
    }
    char revbuf[512], commit[600], tree[1600];
    size_t rl = (size_t)(colon - rev);
    const char *path = colon + 1;
    if (rl >= sizeof revbuf || strlen(path) > 1000) {
        snprintf(err, errlen, "%s: revision or path too long", spec);
        return -1;
    }
    memcpy(revbuf, rev, rl);
    revbuf[rl] = '\0';
    while (path[0] == '/')
        path++;
    hx_spawned r;
    const char *gitdir[] = {"rev-parse", "--git-dir", NULL};
    if (run_git(gitdir, NULL, 0, &r, err, errlen) != 0) {
        char inner[256];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "%s: not in a git repository (%s)", spec, inner);
        return -1;
    }
    hx_spawned_free(&r);
    snprintf(commit, sizeof commit, "%s^{commit}", revbuf);
    const char *verify[] = {"rev-parse", "--verify", "--quiet", commit, NULL};
    if (run_git(verify, NULL, 0, &r, err, errlen) != 0) {
        snprintf(err, errlen, "%s: unknown git revision \"%s\"", spec, revbuf);
        return -1;
    }
    hx_spawned_free(&r);
    snprintf(tree, sizeof tree, "%s:%s", revbuf, path);
    const char *ls[] = {"ls-tree", "-z", tree, NULL};
    if (run_git(ls, NULL, 0, &r, err, errlen) != 0) {
        char inner[400];
        snprintf(inner, sizeof inner, "%s", err);
        snprintf(err, errlen, "%s: no directory \"%s\" in %s (%s)", spec, path,
                 revbuf, inner);
        return -1;
    }
    /* "<mode> <type> <oid>\t<name>\0": the blobs to read, in name order
     * (git sorts tree entries by name). */
    size_t cap = 0, n = 0;
    char *in = NULL, **names = NULL;
    size_t in_len = 0, in_cap = 0;
    int rc = 0;
    for (size_t at = 0; at < r.out_len && rc == 0;) {
        char *ent = r.out + at;
        size_t el = strnlen(ent, r.out_len - at);
        at += el + 1;
        char *tab = memchr(ent, '\t', el);
        if (!tab)
            continue;
        *tab = '\0';
        const char *name = tab + 1;
        char mode[16], type[16], oid[80];
        if (sscanf(ent, "%15s %15s %79s", mode, type, oid) != 3 ||
            strcmp(type, "blob") != 0 || !wanted_name(name))
            continue;
        if (n == SIDE_MAX_FILES) {
            snprintf(err, errlen, "%s: more than %u fixtures", spec,
                     SIDE_MAX_FILES);
            rc = -1;
            break;
        }
        size_t ol = strlen(oid);
        if (n == cap) {
            cap = cap ? cap * 2 : 128;
            char **p = realloc(names, cap * sizeof *p);
            if (!p) {
                rc = -1;
                break;
            }
            names = p;
        }
        if (in_len + ol + 2 > in_cap) {
            in_cap = (in_len + ol + 2) * 2;
            char *p = realloc(in, in_cap);
            if (!p) {
                rc = -1;
                break;
            }
            in = p;
        }
        memcpy(in + in_len, oid, ol);
        in_len += ol;
        in[in_len++] = '\n';
        names[n] = (char *)name; /* points into r.out, which lives on */
        n++;
    }
    if (rc != 0 && !err[0])
        snprintf(err, errlen, "out of memory");
    hx_spawned blobs = {0};
    const char *cat[] = {"cat-file", "--batch", NULL};
    if (rc == 0 && n > 0 && run_git(cat, in, in_len, &blobs, err, errlen) != 0)
        rc = -1;
    /* "<oid> blob <size>\n<bytes>\n" per object, in request order. */
    size_t at = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *nl = memchr(blobs.out + at, '\n', blobs.out_len - at);
        unsigned long long size = 0;
        char origin[1700];
        snprintf(origin, sizeof origin, "git:%s:%s%s%s", revbuf, path,
                 path[0] ? "/" : "", names[i]);
        const char *kind =
            nl ? memchr(blobs.out + at, ' ', (size_t)(nl - (blobs.out + at)))
               : NULL;
        char *end = NULL;
        if (kind && strncmp(kind, " blob ", 6) == 0) {
            errno = 0;
            size = strtoull(kind + 6, &end, 10);
        }
        if (!nl || !kind || end != nl || errno != 0 ||
            size > blobs.out_len - (size_t)(nl + 1 - blobs.out)) {
            snprintf(err, errlen, "%s: git cat-file gave no blob", origin);
            rc = -1;
            break;
        }
        char *text = nl + 1;
        if (keep(b, text, (size_t)size, origin, names[i], err, errlen) != 0)
            rc = -1;
        at = (size_t)(text - blobs.out) + (size_t)size + 1;
    }
    hx_spawned_free(&blobs);
    free(names);
    free(in);
    hx_spawned_free(&r);
    return rc;
}

static int cmp_fixture(const void *a, const void *b)
{
    const hx_side_fixture *x = a, *y = b;
    return strcmp(x->name, y->name);
}

int hx_side_load(const char *spec, hx_side *side, char *err, size_t errlen)
{
    msp_buf b;
    msp_buf_init(&b, SIDE_BUF_MAX);
    memset(side, 0, sizeof *side);
    err[0] = '\0';
    int rc = strncmp(spec, "git:", 4) == 0 ? load_git(spec, &b, err, errlen)
                                           : load_dir(spec, &b, err, errlen);
    /* The records kept (also after a failure) become the side's; its
     * memory moves without a copy. */
    side->items = (hx_side_fixture *)(void *)b.data;
    side->n = b.len / sizeof *side->items;
    if (rc == 0 && side->n > 1) {
        qsort(side->items, side->n, sizeof *side->items, cmp_fixture);
        for (size_t i = 1; i < side->n; i++)
            if (strcmp(side->items[i - 1].name, side->items[i].name) == 0) {
                snprintf(err, errlen, "%s: duplicate fixture name \"%.200s\"",
                         spec, side->items[i].name);
                rc = -1;
                break;
            }
    }
    side->label = strdup(spec);
    if (rc != 0 || !side->label) {
        if (rc == 0)
            snprintf(err, errlen, "out of memory");
        hx_side_free(side);
        return -1;
    }
    return 0;
}

void hx_side_free(hx_side *side)
{
    if (!side)
        return;
    for (size_t i = 0; i < side->n; i++) {
        free(side->items[i].name);
        free(side->items[i].command_id);
        free(side->items[i].origin);
        free(side->items[i].text);
        mspf_json_free(side->items[i].js);
    }
    free(side->items);
    free(side->label);
    memset(side, 0, sizeof *side);
}

void hx_sides_mark_same(hx_side *a, hx_side *b)
{
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        int r = strcmp(a->items[i].name, b->items[j].name);
        if (r < 0) {
            i++;
        } else if (r > 0) {
            j++;
        } else {
            hx_side_fixture *x = &a->items[i++], *y = &b->items[j++];
            if (x->text && y->text && x->len == y->len &&
                memcmp(x->text, y->text, x->len) == 0) {
                x->same = y->same = 1;
                free(x->text);
                free(y->text);
                x->text = y->text = NULL;
            }
        }
    }
}

int hx_side_parse(hx_side *side, char *err, size_t errlen)
{
    err[0] = '\0';
    for (size_t i = 0; i < side->n; i++)
        if (!side->items[i].same && !side->items[i].js &&
            parse_one(&side->items[i], err, errlen) != 0)
            return -1;
    return 0;
}
