/*
 * coverage.c — the exit-table coverage matrix: each row of the exit table
 * (from msp_exit_table(), the same table the executor maps with) and each
 * fault kind of the catalogue, with the fixtures that pin it. A row or a
 * fault with no fixture fails the command.
 */
#include "harness.h"
#include "html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Whether fixture f pins the item `what` of one table (an exit-table row,
 * a fault kind, an MSP-side check). */
typedef int (*pins_fn)(const mspf_fixture *f, const void *what);

static int pins_row(const mspf_fixture *f, const void *row)
{
    return f->exit_row == *(const int *)row;
}

static int uses_fault(const mspf_fixture *f, const void *kind)
{
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].fault.kind == *(const mspf_fault_kind *)kind)
            return 1;
    return 0;
}

static int pins_check(const mspf_fixture *f, const void *check)
{
    if (!f->provider_verify)
        return 0;
    for (size_t i = 0; i < f->n_provider_checks; i++)
        if (strcmp(f->provider_checks[i], check) == 0)
            return 1;
    return 0;
}

/* Adds "fixtures" to item: the names of the fixtures of set that pin
 * `what`. Returns how many there are. */
static int add_fixtures(cJSON *item, const mspf_set *set, pins_fn pins,
                        const void *what)
{
    cJSON *names = cJSON_AddArrayToObject(item, "fixtures");
    size_t n = mspf_set_count(set);
    for (size_t i = 0; i < n; i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        if (pins(f, what))
            cJSON_AddItemToArray(names, cJSON_CreateString(f->name));
    }
    return cJSON_GetArraySize(names);
}

static void print_json(const cJSON *doc)
{
    char *s = cJSON_Print(doc);
    if (s)
        puts(s);
    cJSON_free(s);
}

/* Builds {"rows":[...],"faults":[...],"uncovered":{"rows":[..],"faults":[..]}}.
 */
static cJSON *matrix(const mspf_set *set, int *uncovered)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    cJSON *faults = cJSON_AddArrayToObject(root, "faults");
    cJSON *un = cJSON_AddObjectToObject(root, "uncovered");
    cJSON *un_rows = cJSON_AddArrayToObject(un, "rows");
    cJSON *un_faults = cJSON_AddArrayToObject(un, "faults");
    const msp_exit_row *table = msp_exit_table();
    *uncovered = 0;
    for (int r = 0; r < MSP_EXIT_ROWS; r++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddNumberToObject(row, "row", table[r].row);
        cJSON_AddStringToObject(row, "name", table[r].name);
        cJSON_AddNumberToObject(row, "exit_code", table[r].exit_code);
        cJSON_AddStringToObject(row, "what", table[r].what);
        if (add_fixtures(row, set, pins_row, &table[r].row) == 0) {
            cJSON_AddItemToArray(un_rows, cJSON_CreateNumber(table[r].row));
            (*uncovered)++;
        }
        cJSON_AddItemToArray(rows, row);
    }
    for (int k = 1; k < MSPF_FAULT_KIND_COUNT; k++) {
        mspf_fault_kind kind = (mspf_fault_kind)k;
        cJSON *fault = cJSON_CreateObject();
        cJSON_AddStringToObject(fault, "kind", mspf_fault_kind_name(kind));
        if (add_fixtures(fault, set, uses_fault, &kind) == 0) {
            cJSON_AddItemToArray(
                un_faults, cJSON_CreateString(mspf_fault_kind_name(kind)));
            (*uncovered)++;
        }
        cJSON_AddItemToArray(faults, fault);
    }
    return root;
}

static void print_names(const cJSON *names)
{
    const cJSON *s;
    int first = 1;
    if (cJSON_GetArraySize(names) == 0) {
        printf("MISSING");
        return;
    }
    cJSON_ArrayForEach(s, names)
    {
        printf("%s%s", first ? "" : ", ", s->valuestring);
        first = 0;
    }
}

#define WHAT_WIDTH 58

/* How many bytes of s fit in a line of `width` columns without cutting a
 * word (a single word longer than the line is cut). */
static int wrap_at(const char *s, int width)
{
    int len = (int)strlen(s), cut = -1;
    if (len <= width)
        return len;
    for (int i = 0; i <= width; i++)
        if (s[i] == ' ')
            cut = i;
    return cut > 0 ? cut : width;
}

static void print_table(const cJSON *m)
{
    const cJSON *row;
    printf("%-4s %-5s %-*s %s\n", "row", "exit", WHAT_WIDTH, "what happened",
           "fixtures");
    cJSON_ArrayForEach(row, cJSON_GetObjectItem(m, "rows"))
    {
        int code = cJSON_GetObjectItem(row, "exit_code")->valueint;
        char exit_text[16];
        if (code < 0)
            snprintf(exit_text, sizeof exit_text, "tool");
        else
            snprintf(exit_text, sizeof exit_text, "%d", code);
        const char *what = cJSON_GetObjectItem(row, "what")->valuestring;
        int n = wrap_at(what, WHAT_WIDTH);
        printf("%-4d %-5s %-*.*s ", cJSON_GetObjectItem(row, "row")->valueint,
               exit_text, WHAT_WIDTH, n, what);
        print_names(cJSON_GetObjectItem(row, "fixtures"));
        putchar('\n');
        /* the rest of "what happened" on continuation lines, cut between
         * words, never inside one */
        for (what += n; *what; what += n) {
            while (*what == ' ')
                what++;
            n = wrap_at(what, WHAT_WIDTH);
            printf("%-4s %-5s %.*s\n", "", "", n, what);
        }
    }
    printf("\n%-20s %s\n", "fault", "fixtures");
    const cJSON *fault;
    cJSON_ArrayForEach(fault, cJSON_GetObjectItem(m, "faults"))
    {
        printf("%-20s ", cJSON_GetObjectItem(fault, "kind")->valuestring);
        print_names(cJSON_GetObjectItem(fault, "fixtures"));
        putchar('\n');
    }
}

/* The MSP-side check table (rows 1..13, then the tools list and health)
 * with the provider fixtures that pin each. */
static int provider_coverage(const hx_options *o, const mspf_set *set)
{
    size_t nchecks, n = mspf_set_count(set), nprov = 0;
    const mspf_msp_check *checks = mspf_msp_checks(&nchecks);
    int uncovered = 0;
    cJSON *root = cJSON_CreateObject();
    cJSON *rows = cJSON_AddArrayToObject(root, "checks");
    cJSON *un = cJSON_AddArrayToObject(root, "uncovered");
    for (size_t i = 0; i < n; i++)
        nprov += mspf_set_get(set, i)->provider_verify != 0;
    for (size_t k = 0; k < nchecks; k++) {
        cJSON *row = cJSON_CreateObject();
        cJSON_AddStringToObject(row, "check", checks[k].name);
        cJSON_AddNumberToObject(row, "row", checks[k].row);
        cJSON_AddStringToObject(row, "status", checks[k].status);
        cJSON_AddStringToObject(row, "code", checks[k].code);
        cJSON_AddStringToObject(row, "what", checks[k].what);
        if (add_fixtures(row, set, pins_check, checks[k].name) == 0) {
            cJSON_AddItemToArray(un, cJSON_CreateString(checks[k].name));
            uncovered++;
        }
        cJSON_AddItemToArray(rows, row);
    }
    cJSON_AddNumberToObject(root, "provider_fixtures", (double)nprov);
    int html_failed = hx_html_provider_coverage(o, set, root) != 0;
    if (o->json) {
        print_json(root);
    } else {
        const cJSON *row;
        printf("%-4s %-22s %-8s %-33s %s\n", "row", "check", "status",
               "error.code", "provider fixtures");
        cJSON_ArrayForEach(row, rows)
        {
            int r = cJSON_GetObjectItem(row, "row")->valueint;
            char rtext[8];
            snprintf(rtext, sizeof rtext, r ? "%d" : "-", r);
            printf("%-4s %-22s %-8s %-33s ", rtext,
                   cJSON_GetObjectItem(row, "check")->valuestring,
                   cJSON_GetObjectItem(row, "status")->valuestring,
                   cJSON_GetObjectItem(row, "code")->valuestring);
            print_names(cJSON_GetObjectItem(row, "fixtures"));
            putchar('\n');
        }
        printf("\ncoverage --provider: %zu of %zu checks pinned, %zu provider "
               "fixture(s)\n",
               nchecks - (size_t)uncovered, nchecks, nprov);
    }
    cJSON_Delete(root);
    if (uncovered) {
        fprintf(stderr,
                "msp-contract coverage: %d MSP-side check(s) pinned by no "
                "provider fixture\n",
                uncovered);
        return HX_EXIT_FAILED;
    }
    return html_failed ? HX_EXIT_FAILED : HX_EXIT_OK;
}

int hx_coverage(const hx_options *o)
{
    mspf_set *set = hx_load(o);
    if (!set)
        return HX_EXIT_DATA;
    if (o->provider_matrix) {
        int rc = provider_coverage(o, set);
        mspf_set_free(set);
        return rc;
    }
    int uncovered = 0;
    cJSON *m = matrix(set, &uncovered);
    if (!m) {
        mspf_set_free(set);
        return HX_EXIT_FAILED;
    }
    int html_failed = hx_html_coverage(o, set, m) != 0;
    if (o->json) {
        print_json(m);
    } else {
        print_table(m);
        printf("\ncoverage: %d of %d rows and %d of %d faults pinned\n",
               MSP_EXIT_ROWS -
                   cJSON_GetArraySize(cJSON_GetObjectItem(
                       cJSON_GetObjectItem(m, "uncovered"), "rows")),
               MSP_EXIT_ROWS,
               MSPF_FAULT_KIND_COUNT - 1 -
                   cJSON_GetArraySize(cJSON_GetObjectItem(
                       cJSON_GetObjectItem(m, "uncovered"), "faults")),
               MSPF_FAULT_KIND_COUNT - 1);
    }
    cJSON_Delete(m);
    mspf_set_free(set);
    if (uncovered) {
        fprintf(
            stderr,
            "msp-contract coverage: %d row(s)/fault(s) pinned by no fixture\n",
            uncovered);
        return HX_EXIT_FAILED;
    }
    return html_failed ? HX_EXIT_FAILED : HX_EXIT_OK;
}
