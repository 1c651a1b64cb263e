/*
 * verify.c — the consumer check. Starts fake-msp in process on a free port
 * with the fixtures, runs the real executor with each fixture's context and
 * checks (a) what reached the wire, from the fake's journal, against
 * "request" — or that nothing did, where nothing may — and (b) each result
 * against "expect", including max_ms and the exit-table row.
 */
#include "harness.h"
#include "html.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fake_msp/fake_msp.h>

#include "hx_spawn.h"
#include "workers.h"

/* The consumer check runs every fixture with a context: not the
 * provider-only ones (provider.steps). */
static int is_consumer(const mspf_fixture *f)
{
    return f->n_provider_steps == 0;
}

typedef struct verify_job {
    const hx_options *opt;
    fake_msp *fake;
    hx_target fake_target;
    hx_target closed_target;
    hx_case *cases;
    size_t n;
    long long startup_ms; /* external executor: start-up, not counted */
    pthread_mutex_t lock; /* guards the cases' done */
    pthread_cond_t done;
} verify_job;

/* A loopback port that refuses connections: bound, never listening, held
 * for the whole run so that nothing else can take it. */
static int closed_port(unsigned short *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int same_run(const hx_run *a, const hx_run *b)
{
    return a->exit_code == b->exit_code && a->out_len == b->out_len &&
           a->err_len == b->err_len &&
           memcmp(a->out, b->out, a->out_len) == 0 &&
           memcmp(a->err, b->err, a->err_len) == 0;
}

static void check_wire(verify_job *job, hx_case *c)
{
    const mspf_fixture *f = c->f;
    fake_msp_entry *e = NULL;
    size_t n = 0;
    if (fake_msp_journal_find(job->fake, f->command_id, &e, &n) != 0) {
        hx_diff(&c->diffs, "request", "the journal", "out of memory");
        return;
    }
    if (!f->expects_request) {
        if (n != 0)
            hx_diff(&c->diffs, "request",
                    "no request on the wire (request: null)",
                    "%zu request(s) received", n);
    } else if (f->target == MSPF_TARGET_FAKE && n != (size_t)f->repeat) {
        char want[64];
        snprintf(want, sizeof want, "%d request(s), one per run", f->repeat);
        hx_diff(&c->diffs, "request.count", want, "%zu", n);
    }
    for (size_t i = 0; f->expects_request && i < n; i++) {
        mspf_request req = {
            .method = e[i].method,
            .path = e[i].path,
            .headers = e[i].headers,
            .n_headers = e[i].n_headers,
            .body = e[i].body,
            .body_len = e[i].body_len,
        };
        mspf_match_request(f, &req, &c->diffs);
        for (size_t k = 0; k < e[i].n_violations; k++)
            hx_diff(&c->diffs, "wire.contract",
                    "no executor-contract violation", "%s", e[i].violations[k]);
    }
    fake_msp_entries_free(e, n);
}

/* The row a run shows: the executor's own (in process), else derived from
 * the result's stderr prefix (0: 6, 8 or 9). */
static int shown_row(const hx_run *r)
{
    return r->from_lib ? r->row : hx_row_of_result(r->err, r->err_len);
}

static int row_agrees(int shown, int want)
{
    return shown ? shown == want : want == 6 || want == 8 || want == 9;
}

/* An external program's stderr, shown with a failure (capped). */
static void add_log(hx_case *c, const hx_run *r, int run)
{
    char field[64];
    char *head = hx_visible_head(r->log, r->log_len, r->log_total, 600);
    if (!head)
        return;
    snprintf(field, sizeof field, "executor.log%s",
             run > 0 ? " (a rerun)" : "");
    hx_diff(&c->diffs, field, "(what the program wrote on stderr)", "%s", head);
    free(head);
}

static void verify_one(verify_job *job, hx_case *c)
{
    const mspf_fixture *f = c->f;
    const hx_target *t = f->target == MSPF_TARGET_CLOSED_PORT
                             ? &job->closed_target
                             : &job->fake_target;
    int repeat = f->repeat > 0 ? f->repeat : 1;
    hx_run *runs = calloc((size_t)repeat, sizeof *runs);
    long long t0 = hx_now_ms();
    int rows_seen = 0, row_ok = 0, ran = 0;
    char rows[128] = "";
    for (int i = 0; runs && i < repeat; i++) {
        char why[512];
        if (hx_run_fixture(f, t, &runs[i], why, sizeof why) != 0) {
            c->note = strdup(why);
            break;
        }
        ran++;
        hx_run *r = &runs[i];
        for (size_t k = 0; k < r->protocol.n; k++)
            mspf_diffs_add(&c->diffs, r->protocol.items[k].field,
                           r->protocol.items[k].expected,
                           r->protocol.items[k].got);
        if (!r->from_lib && !r->usable)
            continue;
        /* Start-up of an external program is not the executor's time. A
         * budget N times larger is the same as a clock N times faster. */
        long long ms = hx_run_ms(r, job->startup_ms);
        size_t cr_len = 0;
        char *cr = hx_command_result(f->command_id, r->exit_code, r->out,
                                     r->out_len, r->err, r->err_len, &cr_len);
        mspf_outcome o = {
            .exit_code = r->exit_code,
            .out = r->out,
            .out_len = r->out_len,
            .err = r->err,
            .err_len = r->err_len,
            .elapsed_ms = ms / job->opt->time_scale,
            .command_result = cr,
            .command_result_len = cr_len,
        };
        mspf_check_result(f, i, &o, &c->diffs);
        free(cr);
        int row = shown_row(r);
        rows_seen++;
        row_ok |= row_agrees(row, f->exit_row);
        size_t used = strlen(rows);
        if (row)
            snprintf(rows + used, sizeof rows - used, "%s%d", used ? "," : "",
                     row);
        else
            snprintf(rows + used, sizeof rows - used, "%s6/8/9",
                     used ? "," : "");
        if (i > 0 && f->n_responses == 0 && !same_run(&runs[0], &runs[i]))
            hx_diff(&c->diffs, "replay",
                    "every run returns the first run's result, byte for byte",
                    "run %d differs (exit %d vs %d)", i + 1, runs[i].exit_code,
                    runs[0].exit_code);
    }
    if (!runs)
        c->note = strdup("out of memory");
    if (rows_seen && !row_ok) {
        char want[32];
        snprintf(want, sizeof want, "%d", f->exit_row);
        hx_diff(&c->diffs, "exit_row", want, "decided by row %s", rows);
    }
    if (ran == repeat)
        check_wire(job, c);
    if (c->note || c->diffs.n)
        for (int i = 0; runs && i < ran; i++)
            if (runs[i].log_len)
                add_log(c, &runs[i], i);
    for (int i = 0; runs && i < repeat; i++)
        hx_run_free(&runs[i]);
    free(runs);
    c->ms = hx_now_ms() - t0;
    c->passed = !c->note && c->diffs.n == 0;
}

long long hx_measure_startup(const hx_target *t)
{
    mspf_fixture probe = {.name = "startup-probe",
                          .command_id = "00000000-0000-4000-8000-000000000000",
                          .tool = "msp.agent_health",
                          .params_json = "{}",
                          .deadline_ms = 0,
                          .auth_mode = -1,
                          .repeat = 1};
    long long ms[3];
    for (int i = 0; i < 3; i++) {
        hx_run r;
        char why[512];
        ms[i] = 0;
        if (hx_run_fixture(&probe, t, &r, why, sizeof why) == 0)
            ms[i] = r.elapsed_ms;
        hx_run_free(&r);
    }
    long long lo = ms[0] < ms[1] ? ms[0] : ms[1];
    long long hi = ms[0] < ms[1] ? ms[1] : ms[0];
    return ms[2] < lo ? lo : ms[2] > hi ? hi : ms[2];
}

static void verify_job_case(void *arg, size_t i)
{
    verify_job *job = arg;
    verify_one(job, &job->cases[i]);
    pthread_mutex_lock(&job->lock);
    job->cases[i].done = 1;
    pthread_cond_broadcast(&job->done);
    pthread_mutex_unlock(&job->lock);
}

int hx_verify(const hx_options *o)
{
    hx_spawn_kill_children_on_signal(); /* no executor outlives a Ctrl-C */
    mspf_set *set = hx_load(o);
    if (!set)
        return HX_EXIT_DATA;

    fake_msp_options fo;
    fake_msp_options_init(&fo);
    fo.contract_dirs = o->contract_dirs;
    fo.n_contract_dirs = o->n_contract_dirs;
    fo.journal_max = 100000;
    fake_msp *fake = NULL;
    char err[1024];
    if (fake_msp_start(&fo, &fake, err, sizeof err) != 0) {
        fprintf(stderr, "msp-contract: cannot start fake-msp: %s\n", err);
        mspf_set_free(set);
        return HX_EXIT_DATA;
    }
    unsigned short port = 0;
    int closed_fd = closed_port(&port);
    char closed_url[64];
    snprintf(closed_url, sizeof closed_url, "http://127.0.0.1:%u", port);

    verify_job job = {.opt = o, .fake = fake};
    job.fake_target = (hx_target){
        .base_url = fake_msp_url(fake),
        .default_key = HX_DEFAULT_KEY,
        .executor_cmd = o->executor_cmd,
        .kill_margin_ms = (long long)HX_KILL_MARGIN_MS * o->time_scale};
    job.closed_target = job.fake_target;
    job.closed_target.base_url = closed_url;
    pthread_mutex_init(&job.lock, NULL);
    pthread_cond_init(&job.done, NULL);

    hx_cases cs = {0};
    int rc = HX_EXIT_FAILED;
    if (hx_cases_select(o, set, is_consumer, "verify", &cs) != 0)
        goto out;
    job.cases = cs.items;
    job.n = cs.n;
    if (closed_fd < 0) {
        fprintf(stderr, "msp-contract: cannot set up the run\n");
        goto out;
    }
    printf("msp-contract verify: %zu fixture(s) from %s against fake-msp at %s "
           "(seed %llu), -j %d\n",
           job.n, o->contracts, fake_msp_url(fake), fake_msp_seed(fake),
           o->jobs);
    if (o->executor_cmd) {
        job.startup_ms = hx_measure_startup(&job.closed_target);
        printf("executor: %s (start-up %lld ms, not counted against max_ms)\n",
               o->executor_cmd, job.startup_ms);
    }
    if (o->time_scale > 1)
        printf("time scale %d: max_ms budgets are %d times larger (times below "
               "are divided by %d)\n",
               o->time_scale, o->time_scale, o->time_scale);
    hx_html_target(fake_msp_url(fake), fake_msp_seed(fake));
    (void)fflush(
        stdout); /* progress output; the exit status carries the verdict */

    long long t0 = hx_now_ms();
    hx_workers workers;
    hx_workers_start(&workers, job.n, o->jobs, verify_job_case, &job);

    /* Report in fixture order as results come in. */
    hx_tally tally = {0};
    for (size_t i = 0; i < job.n; i++) {
        pthread_mutex_lock(&job.lock);
        while (!job.cases[i].done)
            pthread_cond_wait(&job.done, &job.lock);
        pthread_mutex_unlock(&job.lock);
        hx_tally_case(&tally, &job.cases[i]);
    }
    hx_workers_join(&workers);
    rc = hx_finish(o, "verify", &cs, &tally, hx_now_ms() - t0, 0);
out:
    hx_cases_free(&cs);
    if (closed_fd >= 0)
        close(closed_fd);
    fake_msp_stop(fake);
    pthread_cond_destroy(&job.done);
    pthread_mutex_destroy(&job.lock);
    mspf_set_free(set);
    return rc;
}
