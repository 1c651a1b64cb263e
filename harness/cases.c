/*
 * cases.c — what verify and provider share around running fixtures: which
 * fixtures a run takes (the command's own rule plus --filter), counting
 * verdicts as they are printed, and the closing lines and JUnit report.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <executor/msp_util.h>

int hx_cases_select(const hx_options *o, const mspf_set *set, hx_want_fn want,
                    const char *command, hx_cases *out)
{
    size_t total = mspf_set_count(set);
    out->n = 0;
    out->items = calloc(total ? total : 1, sizeof *out->items);
    if (!out->items) {
        fprintf(stderr, "msp-contract %s: out of memory\n", command);
        return -1;
    }
    for (size_t i = 0; i < total; i++) {
        mspf_fixture *f = mspf_set_get(set, i);
        if ((!want || want(f)) && hx_selected(o, f))
            out->items[out->n++].f = f;
    }
    if (out->n == 0) {
        if (o->filter)
            fprintf(stderr,
                    "msp-contract %s: no fixture to run in %s matches --filter "
                    "'%s'\n",
                    command, o->contracts, o->filter);
        else
            fprintf(stderr, "msp-contract %s: no fixture to run in %s\n",
                    command, o->contracts);
        return -1;
    }
    return 0;
}

void hx_cases_free(hx_cases *cs)
{
    for (size_t i = 0; cs->items && i < cs->n; i++)
        hx_case_free(&cs->items[i]);
    free(cs->items);
    cs->items = NULL;
    cs->n = 0;
}

void hx_tally_case(hx_tally *t, const hx_case *c)
{
    hx_print_case(stdout, c);
    (void)fflush(stdout); /* progress output; the exit status carries the
                             verdict */
    if (c->skipped)
        t->skipped++;
    else if (c->passed)
        t->passed++;
    else
        t->failed++;
}

int hx_finish(const hx_options *o, const char *command, const hx_cases *cs,
              hx_tally *t, long long total_ms, int with_skipped)
{
    char suite[64];
    printf("%s: %zu fixtures in %lld ms\n", command, cs->n, total_ms);
    if (with_skipped)
        printf("%zu passed, %zu failed, %zu skipped\n", t->passed, t->failed,
               t->skipped);
    else
        printf("%zu passed, %zu failed\n", t->passed, t->failed);
    snprintf(suite, sizeof suite, "msp-contract %s", command);
    if (o->junit &&
        hx_write_junit(o->junit, suite, cs->items, cs->n, total_ms) != 0) {
        fprintf(stderr, "msp-contract: cannot write %s: %s\n", o->junit,
                msp_file_strerror(errno));
        t->failed++;
    }
    return t->failed ? HX_EXIT_FAILED : HX_EXIT_OK;
}
