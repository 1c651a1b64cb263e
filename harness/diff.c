/*
 * diff.c — `msp-contract diff OLD NEW`: what changed between two fixture
 * sets and whom it can break (docs/diff.md).
 */
#include "diff.h"
#include "harness.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static const char diff_usage[] =
    "Usage: msp-contract diff OLD NEW [--json] [--junit FILE]\n"
    "                         [--fail-on executors|msps|any|none]\n"
    "\n"
    "OLD and NEW are fixture directories, or git:REV:PATH (read from the git\n"
    "repository of the current directory without checking out, PATH from "
    "its\n"
    "root, e.g. git:main:contracts/fixtures). Every change is listed per\n"
    "fixture and JSON path and classified by whom it can break: executors "
    "(a\n"
    "run that passed OLD can fail NEW), MSPs (a provider run that passed OLD\n"
    "can fail NEW), both, or neither (docs/diff.md).\n"
    "\n"
    "  --json              machine-readable output (schema "
    "msp-contract-diff/1)\n"
    "  --junit FILE        also write JUnit XML, one testcase per change\n"
    "  --fail-on SIDE      exit 1 when a change can break SIDE: executors, "
    "msps,\n"
    "                      any (default) or none\n"
    "\n"
    "Exit status: 0 no change breaks the chosen side; 1 one does; 64 usage\n"
    "error; 65 a side could not be read.\n";

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
    fprintf(stderr,
            "msp-contract diff: %s%s%s\nTry 'msp-contract diff "
            "--help'.\n",
            what, arg ? ": " : "", arg ? arg : "");
    return HX_EXIT_USAGE;
}

int hx_diff_main(int argc, char **argv)
{
    enum {
        OPT_JSON = 256,
        OPT_JUNIT,
        OPT_FAIL_ON
    };
    const struct option longopts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c;
    const char *junit = NULL, *fail_on = "any";
    unsigned fail_mask = HX_BREAKS_BOTH;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON: json = 1; break;
        case OPT_JUNIT: junit = optarg; break;
        case OPT_FAIL_ON:
            fail_on = optarg;
            if (strcmp(optarg, "executors") == 0)
                fail_mask = HX_BREAKS_EXECUTORS;
            else if (strcmp(optarg, "msps") == 0)
                fail_mask = HX_BREAKS_MSPS;
            else if (strcmp(optarg, "any") == 0)
                fail_mask = HX_BREAKS_BOTH;
            else if (strcmp(optarg, "none") == 0)
                fail_mask = HX_BREAKS_NONE;
            else
                return usage("--fail-on wants executors, msps, any or none",
                             optarg);
            break;
        case 'h': fputs(diff_usage, stdout); return 0;
        case ':': return usage("option needs a value", argv[optind - 1]);
        default: return usage("unknown option", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return usage(argc - optind < 2 ? "wants OLD and NEW"
                                       : "unexpected argument",
                     argc - optind > 2 ? argv[optind + 2] : NULL);
    /* the two sides are read, then parsed, at once; a fixture whose text
     * is the same on both sides is not parsed at all */
    side_job jo = {.spec = argv[optind]}, jn = {.spec = argv[optind + 1]};
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
        if (json)
            hx_changes_print_json(stdout, &os, &ns, &ch, fail_mask, fail_on);
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
