/*
 * provider.c — the provider check: each fixture marked provider.verify is
 * sent through the real executor to a real MSP, and the real reply is
 * compared with the fixture's response under its provider.match rules.
 * Fault fixtures are never sent to a real server.
 */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define STATE_CMD_TIMEOUT_MS 60000

static int has_fault(const mspf_fixture *f)
{
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].fault.kind != MSPF_FAULT_NONE)
            return 1;
    return 0;
}

/* Runs `<state_cmd> <state>` through sh, the state passed as one argument
 * (never spliced into the command line). Returns its exit status, or -1. */
static int run_state_cmd(const char *cmd, const char *state)
{
    char script[1024];
    snprintf(script, sizeof script, "%s \"$1\"", cmd);
    char *argv[] = {"sh",          "-c", script, "msp-contract-state",
                    (char *)state, NULL};
    pid_t pid;
    if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
        return -1;
    long long deadline = hx_now_ms() + STATE_CMD_TIMEOUT_MS;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (w < 0 && errno != EINTR)
            return -1;
        if (hx_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Reads the key from a file (first line), for --api-key-file. */
static char *read_key(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char buf[4096];
    char *line = fgets(buf, sizeof buf, fp);
    (void)fclose(fp); /* read-only: nothing to lose */
    if (!line)
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return buf[0] ? strdup(buf) : NULL;
}

static void provider_one(const hx_options *o, const hx_target *t, hx_case *c)
{
    const mspf_fixture *f = c->f;
    long long t0 = hx_now_ms();
    if (f->provider_state && o->state_cmd) {
        int st = run_state_cmd(o->state_cmd, f->provider_state);
        if (st != 0) {
            char note[600];
            snprintf(note, sizeof note,
                     "state command failed (status %d) for state \"%s\"", st,
                     f->provider_state);
            c->note = strdup(note);
            c->ms = hx_now_ms() - t0;
            return;
        }
    }
    int repeat = f->repeat > 0 ? f->repeat : 1;
    for (int i = 0; i < repeat && !c->note; i++) {
        hx_run run;
        char why[512];
        if (hx_run_fixture(f, t, &run, why, sizeof why) != 0) {
            c->note = strdup(why);
            break;
        }
        if (run.status == 0) {
            /* No HTTP reply at all: say what the executor saw. */
            hx_diff(&c->diffs, "response.status", "an HTTP response", "%.*s",
                    (int)(run.err_len > 300 ? 300 : run.err_len), run.err);
        } else {
            mspf_check_provider(f, i, run.status,
                                (const unsigned char *)run.body, run.body_len,
                                &c->diffs);
        }
        hx_run_free(&run);
    }
    c->ms = hx_now_ms() - t0;
    c->passed = !c->note && c->diffs.n == 0;
}

int hx_provider(const hx_options *o)
{
    if (!o->base_url) {
        fprintf(stderr, "msp-contract provider: --base-url URL is required\n");
        return HX_EXIT_USAGE;
    }
    char *key = NULL;
    if (o->api_key_file && !(key = read_key(o->api_key_file))) {
        fprintf(stderr, "msp-contract provider: cannot read a key from %s\n",
                o->api_key_file);
        return HX_EXIT_USAGE;
    }
    mspf_set *set = hx_load(o->contracts);
    if (!set) {
        free(key);
        return HX_EXIT_DATA;
    }
    hx_target t = {
        .base_url = o->base_url,
        .default_key = key ? key : HX_DEFAULT_KEY,
        .ca_file = o->ca_file,
        .capture_body = 1,
    };
    size_t total = mspf_set_count(set), n = 0;
    hx_case *cases = calloc(total ? total : 1, sizeof *cases);
    int rc = HX_EXIT_FAILED;
    if (!cases)
        goto out;
    for (size_t i = 0; i < total; i++) {
        mspf_fixture *f = mspf_set_get(set, i);
        if (f->provider_verify && hx_selected(o, f))
            cases[n++].f = f;
    }
    if (n == 0) {
        fprintf(stderr,
                "msp-contract provider: no fixture with provider.verify%s%s\n",
                o->filter ? " matches " : "", o->filter ? o->filter : "");
        goto out;
    }
    printf("msp-contract provider: %zu fixture(s) from %s against %s\n", n,
           o->contracts, o->base_url);
    long long t0 = hx_now_ms();
    size_t passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < n; i++) {
        hx_case *c = &cases[i];
        if (has_fault(c->f) || c->f->n_responses == 0 ||
            !c->f->expects_request) {
            c->skipped = 1;
            c->note = strdup(has_fault(c->f)
                                 ? "fault fixture: never sent to a real server"
                                 : "no scripted response to compare with");
        } else {
            provider_one(o, &t, c);
        }
        hx_print_case(stdout, c);
        (void)fflush(
            stdout); /* progress output; the exit status carries the verdict */
        if (c->skipped)
            skipped++;
        else if (c->passed)
            passed++;
        else
            failed++;
    }
    long long total_ms = hx_now_ms() - t0;
    printf("provider: %zu fixtures in %lld ms\n", n, total_ms);
    printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
    if (o->junit && hx_write_junit(o->junit, "msp-contract provider", cases, n,
                                   total_ms) != 0) {
        fprintf(stderr, "msp-contract: cannot write %s\n", o->junit);
        failed++;
    }
    rc = failed ? HX_EXIT_FAILED : HX_EXIT_OK;
out:
    for (size_t i = 0; cases && i < n; i++)
        hx_case_free(&cases[i]);
    free(cases);
    mspf_set_free(set);
    free(key);
    return rc;
}
