/*
 * diff.c — `msp-contract diff OLD NEW`: what changed between two fixture
 * sets and whom it can break (docs/diff.md).
 */
#include "diff.h"
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <executor/msp_opts.h>

// clang-format off
static const char diff_usage[] =
    "Usage: msp-contract diff OLD NEW [--json] [--junit FILE]\n"
    "                         [--fail-on executors|msps|any|none]\n"
    "\n"
    "OLD and NEW are fixture directories, or git:REV:PATH (read from the git\n"
    "repository of the current directory without checking out, PATH from its\n"
    "root, e.g. git:main:contracts/fixtures). Every change is listed per\n"
    "fixture and JSON path and classified by whom it can break: executors (a\n"
    "run that passed OLD can fail NEW), MSPs (a provider run that passed OLD\n"
    "can fail NEW), both, or neither (docs/diff.md).\n"
    "\n"
    "  --json              machine-readable output (schema msp-contract-diff/1)\n"
    "  --junit FILE        also write JUnit XML, one testcase per change\n"
    "  --fail-on SIDE      exit 1 when a change can break SIDE: executors, msps,\n"
    "                      any (default) or none\n"
    "\n"
    "Exit status: 0 no change breaks the chosen side; 1 one does; 64 usage\n"
    "error; 65 a side could not be read.\n";
// clang-format on

typedef struct side_job {
    const char *spec;
    hx_side side;
    int rc;
    char err[2048];
} side_job;

static void *load_job(void *arg)
{
    side_job *j = arg;
    j->rc = hx_side_load(j->spec, &j->side, j->err, sizeof j->err);
    return NULL;
}

static void *parse_job(void *arg)
{
    side_job *j = arg;
    j->rc = hx_side_parse(&j->side, j->err, sizeof j->err);
    return NULL;
}

/* Runs fn on both jobs, the first on a thread of its own when one starts. */
static void both(void *(*fn)(void *), side_job *a, side_job *b)
{
    pthread_t t;
    int threaded = pthread_create(&t, NULL, fn, a) == 0;
    if (!threaded)
        fn(a);
    fn(b);
    if (threaded)
        pthread_join(t, NULL);
}

/* Prints the failed side(s); returns 1 when one failed. */
static int failed(const side_job *jo, const side_job *jn)
{
    if (jo->rc != 0)
        fprintf(stderr, "msp-contract diff: OLD: %s\n", jo->err);
    if (jn->rc != 0)
        fprintf(stderr, "msp-contract diff: NEW: %s\n", jn->err);
    return jo->rc != 0 || jn->rc != 0;
}

static int usage(const char *what, const char *arg)
{
    return hx_usage("msp-contract diff", what, arg);
}

/* What the options set. */
struct diff_cli {
    int json, help;
    const char *junit, *fail_on;
    unsigned fail_mask;
};

static int set_fail_on(void *dest, msp_opt_use *use)
{
    static const struct {
        const char *name;
        unsigned mask;
    } sides[] = {{"executors", HX_BREAKS_EXECUTORS},
                 {"msps", HX_BREAKS_MSPS},
                 {"any", HX_BREAKS_BOTH},
                 {"none", HX_BREAKS_NONE}};
    struct diff_cli *c = dest;

    for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++)
        if (strcmp(use->value, sides[i].name) == 0) {
            c->fail_on = use->value;
            c->fail_mask = sides[i].mask;
            return 0;
        }
    snprintf(use->why, use->why_size,
             "--fail-on wants executors, msps, any or none: %s", use->value);
    return -1;
}

#define AT(member) MSP_OPT_FIELD(struct diff_cli, member)

static const msp_opt options[] = {
    MSP_OPT_ROW("json", 0, MSP_OPT_FLAG, AT(json)),
    MSP_OPT_ROW("junit", 0, MSP_OPT_STRING, AT(junit)),
    MSP_OPT_CALL_ROW("fail-on", MSP_OPT_CALL, set_fail_on),
    MSP_OPT_ROW("help", 'h', MSP_OPT_STOP, AT(help)),
};

int hx_diff_main(int argc, char **argv)
{
    struct diff_cli c = {.fail_on = "any", .fail_mask = HX_BREAKS_BOTH};
    msp_opts_result r;
    switch (msp_opts_parse(options, sizeof options / sizeof options[0], argc,
                           argv, 2, &c, &r)) {
    case MSP_OPTS_DONE: break;
    case MSP_OPTS_STOPPED: fputs(diff_usage, stdout); return 0;
    default: return hx_opts_error("msp-contract diff", &r);
    }
    int next = r.next;
    const char *junit = c.junit;
    unsigned fail_mask = c.fail_mask;
    if (argc - next != 2)
        return usage(argc - next < 2 ? "wants OLD and NEW"
                                     : "unexpected argument",
                     argc - next > 2 ? argv[next + 2] : NULL);
    /* the two sides are read, then parsed, at once; a fixture whose text
     * is the same on both sides is not parsed at all */
    side_job jo = {.spec = argv[next]}, jn = {.spec = argv[next + 1]};
    both(load_job, &jo, &jn);
    int bad = failed(&jo, &jn);
    if (!bad) {
        hx_sides_mark_same(&jo.side, &jn.side);
        both(parse_job, &jo, &jn);
        bad = failed(&jo, &jn);
    }
    if (bad) {
        hx_side_free(&jo.side);
        hx_side_free(&jn.side);
        return HX_EXIT_DATA;
    }
    hx_side os = jo.side, ns = jn.side;
    hx_changes ch;
    int rc = HX_EXIT_OK;
    if (hx_changes_compute(&os, &ns, &ch) != 0) {
        fprintf(stderr, "msp-contract diff: out of memory\n");
        rc = HX_EXIT_DATA;
    } else {
        if (c.json)
            hx_changes_print_json(stdout, &os, &ns, &ch, fail_mask, c.fail_on);
        else
            hx_changes_print_text(stdout, &os, &ns, &ch, fail_mask);
        for (size_t i = 0; i < ch.n; i++)
            if (ch.items[i].breaks & fail_mask)
                rc = HX_EXIT_FAILED;
        if (junit && hx_changes_write_junit(junit, &ch, fail_mask) != 0) {
            fprintf(stderr, "msp-contract diff: cannot write %s: %s\n", junit,
                    strerror(errno));
            rc = HX_EXIT_DATA;
        }
    }
    hx_changes_free(&ch);
    hx_side_free(&os);
    hx_side_free(&ns);
    return rc;
}
