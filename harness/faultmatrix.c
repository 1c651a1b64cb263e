/*
 * faultmatrix.c — `msp-contract verify --fault-matrix`: every fixture with
 * a 200 reply, run once under each fault kind of the fixture model and once
 * with its reply delayed past the deadline. Whatever the fault, the
 * executor must end in exit 124 by rows 3-5 (transport error, body not
 * read, body too large) within the deadline + 1 s: never a hang, a crash,
 * or a result made of half a reply.
 *
 * Each cell is a copy of the fixture (same context, same request matchers,
 * a fresh command id) whose reply is the fixture's 200 with the fault,
 * added to an in-process fake-msp. Cells run in parallel (-j): most of them
 * only wait for the deadline.
 *
 * A cell counts only when the fault was injected: fake-msp's journal must
 * show the cell's request served by the cell's fixture. A request that
 * matched no fixture (fake-msp then answers it realistically, without the
 * fault) or no request at all fails the cell saying so, with the first
 * difference between the request and the cell's fixture.
 */
#include "harness.h"
#include "html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fake_msp/fake_msp.h>

#include "hx_spawn.h"
#include "workers.h"

/* The context deadline of every cell, before --time-scale; and how much
 * later than it a run may end. */
#define FM_DEADLINE_MS 500
#define FM_GRACE_MS    1000
#define FM_BODY_MAX    4096u
/* The columns: the fault kinds, then a delay past the deadline. */
#define FM_DELAY_COL (MSPF_FAULT_KIND_COUNT - 1)
#define FM_COLS      (MSPF_FAULT_KIND_COUNT)

typedef struct fm_cell {
    const mspf_fixture *base;
    mspf_fixture *f; /* the faulty copy (owned by the fake once added) */
    int col;
    int passed;
    int exit_code;
    int row;
    long long ms;
    char *why; /* what went wrong; malloc'd */
} fm_cell;

typedef struct fm_job {
    const hx_options *opt;
    fake_msp *fake;
    hx_target target;
    long long deadline_ms;
    long long startup_ms;
    fm_cell *cells;
    size_t n;
} fm_job;

static const char *col_name(int col)
{
    return col == FM_DELAY_COL
               ? "delay"
               : mspf_fault_kind_name((mspf_fault_kind)(col + 1));
}

/* The fixture's first plain 200 reply, or NULL. */
static const mspf_response *reply_200(const mspf_fixture *f)
{
    if (f->target != MSPF_TARGET_FAKE || !f->expects_request)
        return NULL;
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].status == 200 &&
            f->responses[i].fault.kind == MSPF_FAULT_NONE)
            return &f->responses[i];
    return NULL;
}

/* Replaces every string equal to `from` inside v (header values) by `to`. */
static void replace_strings(cJSON *v, const char *from, const char *to)
{
    for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && strcmp(c->valuestring, from) == 0)
            cJSON_SetValuestring(c, to);
        else
            replace_strings(c, from, to);
    }
}

/* The reply of a cell: the fixture's 200 body with the fault, or delayed. */
static cJSON *faulty_reply(const mspf_response *r, int col, long long deadline)
{
    cJSON *resp = cJSON_CreateObject();
    cJSON *fault = cJSON_CreateObject();
    /* The fixture's body, its first FM_BODY_MAX bytes: no cell lets a whole
     * reply through, so more would only cost memory. At least two bytes,
     * so that a truncated one is short. */
    size_t len = strnlen((const char *)r->body, r->body_len);
    char body[FM_BODY_MAX + 1];
    if (len > FM_BODY_MAX)
        len = FM_BODY_MAX;
    memcpy(body, r->body, len);
    body[len] = '\0';
    if (len < 2) {
        len = 2;
        memcpy(body, "{}", 3);
    }
    cJSON_AddNumberToObject(resp, "status", 200);
    cJSON_AddStringToObject(resp, "body_text", body);
    if (col == FM_DELAY_COL) {
        cJSON_AddNumberToObject(resp, "delay_ms", (double)(deadline * 2));
        cJSON_Delete(fault);
        return resp;
    }
    mspf_fault_kind kind = (mspf_fault_kind)(col + 1);
    cJSON_AddStringToObject(fault, "kind", mspf_fault_kind_name(kind));
    if (kind == MSPF_FAULT_GARBAGE) {
        cJSON_AddNumberToObject(fault, "bytes", 64);
        cJSON_AddNumberToObject(fault, "seed", 1);
    } else if (kind == MSPF_FAULT_TRUNCATE) {
        size_t half = len / 2;
        cJSON_AddNumberToObject(fault, "after_bytes", (double)half);
    } else if (kind == MSPF_FAULT_DRIBBLE) {
        /* one byte per deadline: it can never finish in time */
        cJSON_AddNumberToObject(fault, "chunk_bytes", 1);
        cJSON_AddNumberToObject(fault, "interval_ms", (double)deadline);
    }
    cJSON_AddItemToObject(resp, "fault", fault);
    return resp;
}

/* Builds the faulty copy of `base` for column `col`. */
static mspf_fixture *make_cell(const mspf_fixture *base, int col, size_t id,
                               long long deadline, char *err, size_t errlen)
{
    char cmd_id[64], name[300];
    snprintf(cmd_id, sizeof cmd_id, "00000000-0000-4000-8000-%012zx", id + 1);
    snprintf(name, sizeof name, "%.200s~%s", base->name, col_name(col));
    cJSON *doc = cJSON_Duplicate(base->doc, 1);
    if (!doc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    static const char *const dropped[] = {"response", "responses", "expect",
                                          "expects",  "repeat",    "provider",
                                          "name",     "exit_row"};
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(doc, dropped[i]);
    cJSON_AddStringToObject(doc, "name", name);
    cJSON_AddNumberToObject(doc, "exit_row", 3);
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(doc, "context");
    cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(ctx, "command_id"),
                         cmd_id);
    replace_strings(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "request"), "headers"),
        base->command_id, cmd_id);
    cJSON_AddItemToObject(doc, "response",
                          faulty_reply(reply_200(base), col, deadline));
    cJSON *expect = cJSON_CreateObject();
    cJSON_AddNumberToObject(expect, "exit_code", 124);
    cJSON_AddItemToObject(doc, "expect", expect);
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    mspf_fixture *f = NULL;
    mspf_error e;
    if (!text || mspf_fixture_parse(text, strlen(text), NULL, &f, &e) != 0) {
        char buf[1400];
        snprintf(err, errlen, "%s",
                 text ? mspf_error_format(&e, buf, sizeof buf)
                      : "out of memory");
        f = NULL;
    }
    cJSON_free(text);
    return f;
}

static void set_why(fm_cell *c, const char *why)
{
    free(c->why);
    c->why = strdup(why);
}

/* 1 when the journal shows the cell's request served by the cell's own
 * fixture (the fault injected); else 0 with why. */
static int reached_fixture(fm_job *job, const fm_cell *c, char *why, size_t len)
{
    fake_msp_entry *e = NULL;
    size_t n = 0, i;
    if (fake_msp_journal_find(job->fake, c->f->command_id, &e, &n) != 0) {
        snprintf(why, len, "could not read fake-msp's journal: out of memory");
        return 0;
    }
    for (i = 0; i < n; i++)
        if (e[i].fixture && strcmp(e[i].fixture, c->f->name) == 0)
            break;
    if (n == 0) {
        snprintf(why, len,
                 "no request with command id %s reached fake-msp: the fault "
                 "was never injected",
                 c->f->command_id);
    } else if (i == n) {
        mspf_request req = {.method = e[0].method,
                            .path = e[0].path,
                            .headers = e[0].headers,
                            .n_headers = e[0].n_headers,
                            .body = e[0].body,
                            .body_len = e[0].body_len};
        mspf_diffs d = {0};
        char head[300];
        mspf_match_request(c->f, &req, &d);
        if (e[0].fixture)
            snprintf(head, sizeof head, "matched fixture %.150s instead",
                     e[0].fixture);
        else
            snprintf(head, sizeof head,
                     "matched no fixture (fake-msp answered %d, without the "
                     "fault)",
                     e[0].status);
        if (d.n)
            snprintf(why, len,
                     "the request did not reach its fixture: it %s; the fault "
                     "was never injected; closest: %.150s: %.100s expected "
                     "%.150s got %.150s",
                     head, c->f->name, d.items[0].field, d.items[0].expected,
                     d.items[0].got);
        else
            snprintf(why, len,
                     "the request did not reach its fixture %.150s: it %s; "
                     "the fault was never injected",
                     c->f->name, head);
        mspf_diffs_free(&d);
    }
    fake_msp_entries_free(e, n);
    return n > 0 && i < n;
}

static void run_cell(fm_job *job, fm_cell *c)
{
    hx_run r;
    char why[512], msg[900];
    if (hx_run_fixture(c->f, &job->target, &r, why, sizeof why) != 0) {
        snprintf(msg, sizeof msg, "could not run: %s", why);
        set_why(c, msg);
        return;
    }
    c->exit_code = r.exit_code;
    c->row = r.from_lib ? r.row : hx_row_of_result(r.err, r.err_len);
    c->ms = hx_run_ms(&r, job->startup_ms);
    long long limit = job->deadline_ms + FM_GRACE_MS * job->opt->time_scale;
    char miss[1400];
    if (!reached_fixture(job, c, miss, sizeof miss)) {
        set_why(c, miss);
    } else if (r.protocol.n > 0) {
        {
            snprintf(msg, sizeof msg, "%s: %.300s", r.protocol.items[0].field,
                     r.protocol.items[0].got);
            set_why(c, msg);
        }
    } else if (r.exit_code != 124) {
        {
            snprintf(msg, sizeof msg, "exit %d, not 124", r.exit_code);
            set_why(c, msg);
        }
    } else if (c->row < 3 || c->row > 5) {
        {
            snprintf(msg, sizeof msg, "decided by row %d, not 3-5", c->row);
            set_why(c, msg);
        }
    } else if (r.out_len != 0) {
        {
            snprintf(msg, sizeof msg, "stdout not empty (%zu bytes)",
                     r.out_len);
            set_why(c, msg);
        }
    } else if (c->ms > limit) {
        {
            snprintf(msg, sizeof msg,
                     "ended %lld ms after the start, past the deadline + 1 s",
                     c->ms);
            set_why(c, msg);
        }
    } else {
        c->passed = 1;
    }
    if (!c->passed && r.err_len) {
        char *head = hx_visible_head(r.err, r.err_len, r.err_len, 200);
        char *was = c->why;
        c->why = NULL;
        snprintf(msg, sizeof msg, "%s; %lld ms; stderr %s", was ? was : "",
                 c->ms, head ? head : "");
        set_why(c, msg);
        free(was);
        free(head);
    }
    hx_run_free(&r);
}

static void run_cell_job(void *job, size_t i)
{
    run_cell(job, &((fm_job *)job)->cells[i]);
}

/* The grid, one row per fixture, one column per fault kind named in full
 * ("delay": the reply delayed past the deadline). */
static void print_matrix(const fm_job *job, size_t nfix)
{
    int width[FM_COLS], name_w = (int)strlen("fixture \\ fault");
    for (size_t i = 0; i < nfix; i++) {
        int n = (int)strlen(job->cells[i * FM_COLS].base->name);
        if (n > name_w)
            name_w = n;
    }
    if (name_w > 44)
        name_w = 44;
    printf("%-*s", name_w, "fixture \\ fault");
    for (int k = 0; k < FM_COLS; k++) {
        width[k] = (int)strlen(col_name(k));
        if (width[k] < 6)
            width[k] = 6;
        printf(" %-*s", width[k], col_name(k));
    }
    printf("\n");
    for (size_t i = 0; i < nfix; i++) {
        const fm_cell *row = &job->cells[i * FM_COLS];
        printf("%-*.*s", name_w, name_w, row[0].base->name);
        for (int k = 0; k < FM_COLS; k++) {
            char cell[16];
            if (row[k].passed)
                snprintf(cell, sizeof cell, "ok r%d", row[k].row);
            else
                snprintf(cell, sizeof cell, "FAIL");
            printf(" %-*s", width[k], cell);
        }
        printf("\n");
    }
}

int hx_fault_matrix(const hx_options *o)
{
    hx_spawn_kill_children_on_signal(); /* no executor outlives a Ctrl-C */
    mspf_set *set = hx_load(o);
    if (!set)
        return HX_EXIT_DATA;
    size_t total = mspf_set_count(set), nfix = 0;
    const mspf_fixture **fix = calloc(total ? total : 1, sizeof *fix);
    for (size_t i = 0; fix && i < total; i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        if (hx_selected(o, f) && reply_200(f))
            fix[nfix++] = f;
    }
    fake_msp_options fo;
    fake_msp_options_init(&fo);
    fo.journal_max = 100000;
    fake_msp *fake = NULL;
    char err[1400];
    int rc = HX_EXIT_FAILED;
    fm_job job = {.opt = o};
    if (!fix || nfix == 0) {
        fprintf(stderr, "msp-contract: %s\n",
                fix ? "no fixture with a 200 reply matches" : "out of memory");
        goto out;
    }
    if (fake_msp_start(&fo, &fake, err, sizeof err) != 0) {
        fprintf(stderr, "msp-contract: cannot start fake-msp: %s\n", err);
        rc = HX_EXIT_DATA;
        goto out;
    }
    job.fake = fake;
    job.deadline_ms = (long long)FM_DEADLINE_MS * o->time_scale;
    job.target = (hx_target){.base_url = fake_msp_url(fake),
                             .default_key = HX_DEFAULT_KEY,
                             .executor_cmd = o->executor_cmd,
                             .deadline_ms = job.deadline_ms,
                             .kill_after_ms = job.deadline_ms + 10000};
    job.n = nfix * FM_COLS;
    job.cells = calloc(job.n, sizeof *job.cells);
    if (!job.cells) {
        fprintf(stderr, "msp-contract: out of memory\n");
        goto out;
    }
    for (size_t i = 0; i < nfix; i++)
        for (int k = 0; k < FM_COLS; k++) {
            fm_cell *c = &job.cells[i * FM_COLS + (size_t)k];
            c->base = fix[i];
            c->col = k;
            c->f = make_cell(fix[i], k, i * FM_COLS + (size_t)k,
                             job.deadline_ms, err, sizeof err);
            if (!c->f || fake_msp_add_fixture(fake, c->f, err, sizeof err)) {
                fprintf(stderr, "msp-contract: %s~%s: %s\n", fix[i]->name,
                        col_name(k), err);
                mspf_fixture_free(c->f);
                c->f = NULL;
                goto out;
            }
        }
    printf("msp-contract verify --fault-matrix: %zu fixture(s) with a 200 "
           "reply x %d faults, deadline %lld ms, -j %d\n",
           nfix, FM_COLS, job.deadline_ms, o->jobs);
    if (o->executor_cmd) {
        job.startup_ms = hx_measure_startup(&job.target);
        printf("executor: %s (start-up %lld ms, not counted)\n",
               o->executor_cmd, job.startup_ms);
    }
    (void)fflush(stdout);
    long long t0 = hx_now_ms();
    hx_workers workers;
    hx_workers_start(&workers, job.n, o->jobs, run_cell_job, &job);
    hx_workers_join(&workers);
    long long total_ms = hx_now_ms() - t0;
    print_matrix(&job, nfix);
    size_t failed = 0;
    for (size_t i = 0; i < job.n; i++)
        if (!job.cells[i].passed) {
            failed++;
            printf("FAIL %s~%s: %s\n", job.cells[i].base->name,
                   col_name(job.cells[i].col),
                   job.cells[i].why ? job.cells[i].why : "?");
        }
    printf("fault matrix: %zu runs in %lld ms; each must end in exit 124 "
           "(rows 3-5) within %lld ms + 1 s\n",
           job.n, total_ms, job.deadline_ms);
    printf("%zu passed, %zu failed\n", job.n - failed, failed);
    rc = failed ? HX_EXIT_FAILED : HX_EXIT_OK;
    hx_html_cell *hc = o->html ? calloc(job.n, sizeof *hc) : NULL;
    for (size_t i = 0; hc && i < job.n; i++)
        hc[i] = (hx_html_cell){job.cells[i].base->name, job.cells[i].passed,
                               job.cells[i].exit_code,  job.cells[i].row,
                               job.cells[i].ms,         job.cells[i].why};
    hx_html_target(fake_msp_url(fake), fake_msp_seed(fake));
    if (o->html && (!hc || hx_html_fault_matrix(o, hc, nfix, FM_COLS,
                                                job.deadline_ms, total_ms)))
        rc = HX_EXIT_FAILED;
    free(hc);
out:
    fake_msp_stop(fake); /* frees the cells' fixtures */
    for (size_t i = 0; job.cells && i < job.n; i++)
        free(job.cells[i].why);
    free(job.cells);
    free(fix);
    mspf_set_free(set);
    return rc;
}
