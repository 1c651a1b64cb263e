/*
 * lint.c — schema and semantic checks of every fixture, each problem
 * reported with the file, the JSON path and the reason. Unlike loading a
 * set, lint reads on past a bad file so that one run shows every problem.
 */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <executor/msp_util.h>

static int is_fixture_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return d->d_name[0] != '.' && n > 5 &&
           strcmp(d->d_name + n - 5, ".json") == 0 &&
           strcmp(d->d_name, "fixture.schema.json") != 0;
}

static void problem(size_t *count, const char *file, const char *path,
                    const char *reason)
{
    printf("error: %s: %s: %s\n", file, path, reason);
    (*count)++;
}

/* The exit codes the fixture expects, one per "expects" entry. */
static int expected_codes(const mspf_fixture *f, int *codes, int max)
{
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(f->doc, "expect");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(f->doc, "expects");
    int n = 0;
    if (cJSON_IsObject(one)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(one, "exit_code");
        if (cJSON_IsNumber(c))
            codes[n++] = c->valueint;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, many)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "exit_code");
        if (n < max && cJSON_IsNumber(c))
            codes[n++] = c->valueint;
    }
    return n;
}

/* Rules the schema cannot state: they tie a fixture to the exit table and
 * to what the harness can do with it. */
static void semantic(const mspf_fixture *f, size_t *count)
{
    const msp_exit_row *table = msp_exit_table();
    char reason[512];
    if (f->n_provider_steps) { /* provider-only: no exit row, no context */
        if (!f->provider_verify)
            problem(count, f->file, "$.provider.verify",
                    "a fixture with steps is only run by provider: set "
                    "verify true");
        if (!f->n_provider_checks)
            problem(count, f->file, "$.provider.checks",
                    "name the MSP-side check(s) it pins");
        return;
    }
    if (f->exit_row < 1 || f->exit_row > MSP_EXIT_ROWS) {
        char why[64];
        snprintf(why, sizeof why, "not a row of the exit table (1..%d)",
                 MSP_EXIT_ROWS);
        problem(count, f->file, "$.exit_row", why);
        return;
    }
    const msp_exit_row *row = &table[f->exit_row - 1];
    int codes[16], n = expected_codes(f, codes, 16), match = 0;
    for (int i = 0; i < n; i++)
        match |= row->exit_code < 0 || codes[i] == row->exit_code;
    if (!match) {
        snprintf(reason, sizeof reason,
                 "row %d (%s) exits %d, but no expected exit_code is %d",
                 row->row, row->what, row->exit_code, row->exit_code);
        problem(count, f->file, "$.expect.exit_code", reason);
    }
    int faulty = 0;
    for (size_t i = 0; i < f->n_responses; i++)
        faulty |= f->responses[i].fault.kind != MSPF_FAULT_NONE;
    if (faulty && f->provider_verify)
        problem(count, f->file, "$.provider.verify",
                "a fault fixture is never sent to a real MSP");
    if (f->provider_verify && f->n_responses == 0)
        problem(count, f->file, "$.provider.verify",
                "needs a scripted response to compare with");
    if (!f->expects_request && f->n_responses > 0)
        problem(count, f->file, "$.response",
                "a fixture with \"request\": null is never answered");
    if (f->target == MSPF_TARGET_CLOSED_PORT && f->expects_request)
        problem(count, f->file, "$.request",
                "nothing listens on a closed port: must be null");
    if ((f->exit_row == 1 || f->exit_row == 2) && f->expects_request)
        problem(count, f->file, "$.request",
                "rows 1 and 2 send nothing: must be null");
    if (f->exit_row != 2 &&
        !msp_uuid_valid(f->command_id,
                        f->command_id ? strlen(f->command_id) : 0, 0))
        problem(count, f->file, "$.context.command_id", "not a lowercase UUID");
    if (f->repeat > 1 && f->n_responses == 0 && f->exit_row != 6 &&
        f->exit_row != 8)
        problem(count, f->file, "$.repeat",
                "a replay fixture should pin a success row (6 or 8)");
}

/* Finds the member at a parse error's path ("$.a.b[2].c") and detaches it
 * from doc, so that a re-parse can go on to the next problem. Only object
 * members are removed (an array element would shift the indices of later
 * paths). Returns 0 when removed, -1 when the path names nothing removable
 * (a missing key, an array element, a key with '.' or '[' in it). */
static int remove_at(cJSON *doc, const char *path)
{
    if (path[0] != '$')
        return -1;
    cJSON *node = doc;
    const char *p = path + 1;
    while (*p) {
        if (*p == '[') { /* an element: descend, but never remove one */
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || !end[1] || i < 0 || i > INT_MAX)
                return -1;
            node = cJSON_GetArrayItem(node, (int)i);
            p = end + 1;
        } else if (*p == '.') {
            char key[256];
            size_t n = strcspn(p + 1, ".[");
            if (n == 0 || n >= sizeof key)
                return -1;
            memcpy(key, p + 1, n);
            key[n] = '\0';
            p += 1 + n;
            if (!cJSON_IsObject(node))
                return -1;
            if (!*p) {
                if (!cJSON_GetObjectItemCaseSensitive(node, key))
                    return -1; /* a missing key */
                cJSON_DeleteItemFromObjectCaseSensitive(node, key);
                return 0;
            }
            node = cJSON_GetObjectItemCaseSensitive(node, key);
        } else {
            return -1;
        }
        if (!node)
            return -1;
    }
    return -1;
}

/* Every problem of a file the parser can get past: after each error the
 * offending member is removed and the document parsed again, up to 64
 * times; it stops at a problem it cannot step over (invalid JSON, a missing
 * key, an array element) or at an error its own removal caused. */
static void more_problems(const char *file, const mspf_error *first,
                          size_t *count)
{
    char removed[64][256];
    size_t nremoved = 0;
    char *text = NULL;
    size_t len = 0;
    if (msp_read_file(file, MSPF_FILE_MAX, &text, &len) != 0)
        text = NULL; /* the first problem said why */
    cJSON *doc = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    mspf_error err = *first;
    while (doc && nremoved < 64 && remove_at(doc, err.path) == 0) {
        snprintf(removed[nremoved++], sizeof removed[0], "%s", err.path);
        char *again = cJSON_PrintUnformatted(doc);
        mspf_fixture *f = NULL;
        int rc = again
                     ? mspf_fixture_parse(again, strlen(again), file, &f, &err)
                     : 0;
        cJSON_free(again);
        mspf_fixture_free(f);
        if (rc == 0)
            break;
        for (size_t i = 0; i < nremoved; i++) {
            size_t n = strlen(removed[i]);
            if (strncmp(err.path, removed[i], n) == 0 &&
                (err.path[n] == '\0' || err.path[n] == '.' ||
                 err.path[n] == '['))
                goto out; /* caused by a removal: nothing new */
        }
        problem(count, err.file[0] ? err.file : file, err.path, err.reason);
    }
out:
    cJSON_Delete(doc);
}

static int lint_dir(const hx_options *o, const char *dir, mspf_set *set,
                    size_t *problems, size_t *good)
{
    struct dirent **names = NULL;
    int nfiles = scandir(dir, &names, is_fixture_file, alphasort);
    if (nfiles < 0) {
        fprintf(stderr, "msp-contract lint: cannot read %s\n", dir);
        return -1;
    }
    for (int i = 0; i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        free(names[i]);
        mspf_fixture *f = NULL;
        mspf_error err;
        memset(&err, 0, sizeof err);
        if (mspf_fixture_load(path, &f, &err) != 0) {
            problem(problems, err.file[0] ? err.file : path,
                    err.path[0] ? err.path : "$", err.reason);
            more_problems(path, &err, problems);
            continue;
        }
        size_t before = *problems;
        semantic(f, problems);
        if (!set || mspf_set_add(set, f, &err) != 0) {
            problem(problems, path, err.path[0] ? err.path : "$",
                    set ? err.reason : "out of memory");
            mspf_fixture_free(f);
            continue;
        }
        if (*problems == before) {
            (*good)++;
            if (o->verbose)
                printf("ok   %s\n", path);
        }
    }
    free(names);
    return nfiles;
}

int hx_lint(const hx_options *o)
{
    mspf_set *set = mspf_set_new();
    size_t problems = 0, good = 0;
    int nfiles = 0;
    for (size_t d = 0; d < o->n_contract_dirs; d++) {
        int n = lint_dir(o, o->contract_dirs[d], set, &problems, &good);
        if (n < 0) {
            mspf_set_free(set);
            return HX_EXIT_DATA;
        }
        nfiles += n;
    }
    mspf_set_free(set);
    printf("lint: %d fixture file(s) in %s, %zu clean, %zu problem(s)\n",
           nfiles, o->contracts, good, problems);
    if (nfiles == 0) {
        fprintf(stderr, "msp-contract lint: no fixtures in %s\n", o->contracts);
        return HX_EXIT_FAILED;
    }
    return problems ? HX_EXIT_FAILED : HX_EXIT_OK;
}
