/*
 * html_report.c — the --html reports of verify, verify --fault-matrix,
 * provider and coverage: one self-contained page each (html.h), written
 * whatever the verdict, every value escaped and every key masked.
 */
#include "html.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *report_target;
static unsigned long long report_seed;

void hx_html_target(const char *target, unsigned long long seed)
{
    report_target = target;
    report_seed = seed;
}

/* What each fault column does, for the legend (the catalogue of
 * docs/fixture-format.md, "Faults"). */
static const char *fault_what(const char *kind)
{
    static const struct {
        const char *kind, *what;
    } t[] = {
        {"reset", "the connection is reset (RST) right after the request"},
        {"empty", "clean close, no byte of reply"},
        {"garbage", "64 seeded random bytes, then close"},
        {"hang", "nothing, ever: only the deadline ends it"},
        {"truncate", "full Content-Length, half of the body, then close"},
        {"dribble", "the reply one byte per deadline"},
        {"bad_chunking", "chunked encoding with a malformed chunk size"},
        {"reset_after_headers", "status line and headers, then RST"},
        {"delay", "the whole reply, delayed to twice the deadline"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].kind, kind) == 0)
            return t[i].what;
    return "";
}

static const char *col_name(int col, int ncols)
{
    return col == ncols - 1 ? "delay"
                            : mspf_fault_kind_name((mspf_fault_kind)(col + 1));
}

static hx_page *open_page(const hx_options *o, const char *title)
{
    char err[600];
    hx_page *p = hx_page_open(o->html, title, err, sizeof err);
    if (!p)
        fprintf(stderr, "msp-contract: cannot write the HTML report: %s\n",
                err);
    return p;
}

static int close_page(hx_page *p)
{
    char err[600];
    if (hx_page_close(p, err, sizeof err) != 0) {
        fprintf(stderr, "msp-contract: cannot write the HTML report: %s\n",
                err);
        return -1;
    }
    return 0;
}

/* "… seed N — target URL — contracts DIRS — written at T" */
static void put_context(hx_page *p, const hx_options *o)
{
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        (void)strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    if (report_seed)
        hx_page_rawf(p, " &middot; seed <b id=\"seed\">%llu</b>", report_seed);
    if (report_target) {
        /* a URL's user:password@ is never shown */
        const char *scheme = strstr(report_target, "://");
        const char *host = scheme ? scheme + 3 : report_target;
        const char *at = strchr(host, '@'), *slash = strchr(host, '/');
        hx_page_raw(p, " &middot; target <b id=\"target\">");
        if (at && (!slash || at < slash)) {
            char head[16];
            snprintf(head, sizeof head, "%.*s", (int)(host - report_target),
                     report_target);
            hx_page_text(p, head);
            hx_page_raw(p, "…@");
            hx_page_text(p, at + 1);
        } else {
            hx_page_text(p, report_target);
        }
        hx_page_raw(p, "</b>");
    }
    if (o->executor_cmd) {
        hx_page_raw(p, " &middot; executor <b id=\"executor\">");
        hx_page_text(p, o->executor_cmd);
        hx_page_raw(p, "</b>");
    }
    hx_page_raw(p, "</div>\n<p class=\"muted\">contracts: ");
    hx_page_text(p, o->contracts);
    if (o->filter) {
        hx_page_raw(p, " &middot; --filter ");
        hx_page_text(p, o->filter);
    }
    hx_page_rawf(p, " &middot; written %s by msp-contract %s</p>\n", when,
                 MSP_EXECUTOR_VERSION);
}

static void put_filter(hx_page *p, int with_failed)
{
    hx_page_raw(p,
                "<div id=\"filter\" hidden><label>filter <input id=\"q\" "
                "type=\"search\" placeholder=\"name, field, text\"></label>");
    if (with_failed)
        hx_page_raw(p, " <label><input id=\"onlyfail\" type=\"checkbox\"> "
                       "failures only</label>");
    hx_page_raw(p, "</div>\n");
}

static void put_row_name(hx_page *p, int row)
{
    const msp_exit_row *t = msp_exit_table();
    if (row >= 1 && row <= MSP_EXIT_ROWS) {
        hx_page_rawf(p, "%d <span class=\"muted\">", row);
        hx_page_text(p, t[row - 1].name);
        hx_page_raw(p, "</span>");
    } else {
        hx_page_raw(p, "&ndash;");
    }
}

static void put_tag(hx_page *p, const char *prefix, const char *text)
{
    hx_page_raw(p, "<span class=\"tag\">");
    if (prefix)
        hx_page_text(p, prefix);
    hx_page_text(p, text);
    hx_page_raw(p, "</span>");
}

/* The checks a fixture pins: its exit row's exit code, its faults, its
 * MSP-side checks and provider states. */
static void put_pins(hx_page *p, const mspf_fixture *f)
{
    char buf[32];
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].fault.kind != MSPF_FAULT_NONE)
            put_tag(p, "fault ",
                    mspf_fault_kind_name(f->responses[i].fault.kind));
        else if (f->responses[i].status) {
            snprintf(buf, sizeof buf, "%d", f->responses[i].status);
            put_tag(p, "reply ", buf);
        }
    if (!f->expects_request)
        put_tag(p, NULL, "nothing sent");
    for (size_t i = 0; i < f->n_provider_checks; i++)
        put_tag(p, "check ", f->provider_checks[i]);
    for (size_t i = 0; i < f->n_provider_states; i++)
        put_tag(p, "state ", f->provider_states[i].name);
}

/* Opens the summary line with the verdict: `yes` in green when ok, else
 * `no` in red; the caller writes the rest of the line. */
static void put_verdict(hx_page *p, int ok, const char *yes, const char *no)
{
    hx_page_rawf(p,
                 "<div class=\"summary\" id=\"summary\"><span "
                 "class=\"%s\">%s</span>",
                 ok ? "pass" : "fail", ok ? yes : no);
}

/* The counts of a run, after its verdict on the summary line. */
static void put_counts(hx_page *p, size_t passed, size_t failed, size_t skipped)
{
    put_verdict(p, failed == 0, "PASSED", "FAILED");
    hx_page_rawf(p,
                 " &middot; <b id=\"passed\">%zu</b> passed &middot; <b "
                 "id=\"failed\">%zu</b> failed &middot; <b "
                 "id=\"skipped\">%zu</b> skipped",
                 passed, failed, skipped);
}

int hx_html_cases(const hx_options *o, const char *command, const hx_cases *cs,
                  const hx_tally *t, long long total_ms)
{
    char title[128];
    if (!o->html)
        return 0;
    snprintf(title, sizeof title, "msp-contract %s", command);
    hx_page *p = open_page(o, title);
    if (!p)
        return -1;
    put_counts(p, t->passed, t->failed, t->skipped);
    hx_page_rawf(p, " &middot; %zu fixtures in <b id=\"time\">%lld</b> ms",
                 cs->n, total_ms);
    put_context(p, o);
    if (t->failed) {
        hx_page_raw(p, "<p id=\"failed-list\">failed:");
        for (size_t i = 0, k = 0; i < cs->n; i++) {
            const hx_case *c = &cs->items[i];
            if (c->skipped || c->passed)
                continue;
            hx_page_rawf(p, "%s <a href=\"#case-%zu\">", k++ ? "," : "", i);
            hx_page_text(p, c->f->name);
            hx_page_raw(p, "</a>");
        }
        hx_page_raw(p, "</p>\n");
    }
    put_filter(p, 1);
    hx_page_raw(p, "<table class=\"filterable\" id=\"cases\"><thead><tr>"
                   "<th>verdict</th><th>fixture</th><th>ms</th>"
                   "<th>exit row</th><th>pins</th><th>differences</th>"
                   "</tr></thead><tbody>\n");
    for (size_t i = 0; i < cs->n; i++) {
        const hx_case *c = &cs->items[i];
        const char *cls = c->skipped ? "skip" : c->passed ? "pass" : "fail";
        hx_page_rawf(p,
                     "<tr class=\"case%s\" id=\"case-%zu\"><td "
                     "class=\"%s\">%s</td><td>",
                     !c->skipped && !c->passed ? " failed" : "", i, cls,
                     c->skipped  ? "skip"
                     : c->passed ? "ok"
                                 : "FAIL");
        hx_page_raw(p, "<span class=\"name\">");
        hx_page_text(p, c->f->name);
        hx_page_raw(p, "</span>");
        if (c->f->description) {
            hx_page_raw(p, "<div class=\"desc\">");
            hx_page_text(p, c->f->description);
            hx_page_raw(p, "</div>");
        }
        hx_page_rawf(p, "</td><td class=\"num\">%lld</td><td>", c->ms);
        put_row_name(p, c->f->exit_row);
        hx_page_raw(p, "</td><td>");
        put_pins(p, c->f);
        hx_page_raw(p, "</td><td>");
        if (c->note) {
            hx_page_raw(p, "<div class=\"note\">");
            hx_page_bytes(p, c->note, strlen(c->note));
            hx_page_raw(p, "</div>");
        }
        for (size_t k = 0; k < c->diffs.n; k++)
            hx_page_diff(p, c->diffs.items[k].field, c->diffs.items[k].expected,
                         c->diffs.items[k].got, c->diffs.items[k].at,
                         c->diffs.items[k].from);
        hx_page_raw(p, "</td></tr>\n");
    }
    hx_page_raw(p, "</tbody></table>\n");
    return close_page(p);
}

int hx_html_fault_matrix(const hx_options *o, const hx_html_cell *cells,
                         size_t nfix, int ncols, long long deadline_ms,
                         long long total_ms)
{
    if (!o->html)
        return 0;
    size_t n = nfix * (size_t)ncols, failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !cells[i].passed;
    hx_page *p = open_page(o, "msp-contract verify --fault-matrix");
    if (!p)
        return -1;
    put_counts(p, n - failed, failed, 0);
    hx_page_rawf(p,
                 " &middot; %zu fixtures &times; %d faults = %zu runs in <b "
                 "id=\"time\">%lld</b> ms &middot; deadline %lld ms",
                 nfix, ncols, n, total_ms, deadline_ms);
    put_context(p, o);
    hx_page_rawf(p,
                 "<p>Every fixture with a 200 reply, once under each fault "
                 "and once delayed past the deadline: each run must end in "
                 "exit 124 by rows 3&ndash;5 within %lld ms + 1 s. A cell "
                 "shows the row that decided it and the time.</p>\n",
                 deadline_ms);
    put_filter(p, 1);
    hx_page_raw(p, "<table class=\"grid filterable\" id=\"matrix\"><thead>"
                   "<tr><th class=\"name\">fixture \\ fault</th>");
    for (int k = 0; k < ncols; k++) {
        hx_page_raw(p, "<th class=\"fault\" title=\"");
        hx_page_text(p, fault_what(col_name(k, ncols)));
        hx_page_raw(p, "\">");
        hx_page_text(p, col_name(k, ncols));
        hx_page_raw(p, "</th>");
    }
    hx_page_raw(p, "</tr></thead><tbody>\n");
    for (size_t i = 0; i < nfix; i++) {
        const hx_html_cell *row = &cells[i * (size_t)ncols];
        int bad = 0;
        for (int k = 0; k < ncols; k++)
            bad |= !row[k].passed;
        hx_page_rawf(p, "<tr%s><td class=\"name\">",
                     bad ? " class=\"failed\"" : "");
        hx_page_text(p, row[0].fixture);
        hx_page_raw(p, "</td>");
        for (int k = 0; k < ncols; k++) {
            const hx_html_cell *c = &row[k];
            if (c->passed) {
                hx_page_rawf(p,
                             "<td class=\"ok\" title=\"exit %d, row %d, "
                             "%lld ms\">ok r%d<br><span "
                             "class=\"muted\">%lld ms</span></td>",
                             c->exit_code, c->row, c->ms, c->row, c->ms);
            } else {
                hx_page_raw(p, "<td class=\"bad\" title=\"");
                hx_page_text(p, c->why ? c->why : "failed");
                hx_page_rawf(p,
                             "\"><a href=\"#cell-%zu-%d\">FAIL</a><br><span "
                             "class=\"muted\">exit %d r%d</span></td>",
                             i, k, c->exit_code, c->row);
            }
        }
        hx_page_raw(p, "</tr>\n");
    }
    hx_page_raw(p, "</tbody></table>\n<h2>Faults</h2>\n<table "
                   "id=\"faults\"><thead><tr><th>fault</th><th>what the "
                   "fake does</th></tr></thead><tbody>\n");
    for (int k = 0; k < ncols; k++) {
        hx_page_raw(p, "<tr><td class=\"field\">");
        hx_page_text(p, col_name(k, ncols));
        hx_page_raw(p, "</td><td>");
        hx_page_text(p, fault_what(col_name(k, ncols)));
        hx_page_raw(p, "</td></tr>\n");
    }
    hx_page_raw(p, "</tbody></table>\n");
    if (failed) {
        hx_page_raw(p, "<h2>Failing cells</h2>\n<table class=\"filterable\" "
                       "id=\"failures\"><thead><tr><th>fixture</th><th>fault"
                       "</th><th>exit</th><th>row</th><th>ms</th><th>why</th>"
                       "</tr></thead><tbody>\n");
        for (size_t i = 0; i < n; i++) {
            const hx_html_cell *c = &cells[i];
            if (c->passed)
                continue;
            hx_page_rawf(p, "<tr class=\"failed\" id=\"cell-%zu-%d\"><td>",
                         i / (size_t)ncols, (int)(i % (size_t)ncols));
            hx_page_text(p, c->fixture);
            hx_page_raw(p, "</td><td>");
            hx_page_text(p, col_name((int)(i % (size_t)ncols), ncols));
            hx_page_rawf(p,
                         "</td><td class=\"num\">%d</td><td "
                         "class=\"num\">%d</td><td class=\"num\">%lld</td><td>",
                         c->exit_code, c->row, c->ms);
            hx_page_bytes(p, c->why ? c->why : "failed",
                          c->why ? strlen(c->why) : 6);
            hx_page_raw(p, "</td></tr>\n");
        }
        hx_page_raw(p, "</tbody></table>\n");
    }
    return close_page(p);
}

static int has_fault(const mspf_fixture *f, mspf_fault_kind k)
{
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].fault.kind == k)
            return 1;
    return 0;
}

static void put_names(hx_page *p, const cJSON *names)
{
    const cJSON *s;
    int first = 1;
    if (cJSON_GetArraySize(names) == 0) {
        hx_page_raw(p, "<span class=\"missing\">MISSING</span>");
        return;
    }
    cJSON_ArrayForEach(s, names)
    {
        hx_page_raw(p, first ? "" : ", ");
        hx_page_text(p, cJSON_GetStringValue(s));
        first = 0;
    }
}

static int count_uncovered(const cJSON *arr, int *total)
{
    const cJSON *x;
    int un = 0;
    *total = 0;
    cJSON_ArrayForEach(x, arr)
    {
        (*total)++;
        un += cJSON_GetArraySize(cJSON_GetObjectItem(x, "fixtures")) == 0;
    }
    return un;
}

int hx_html_coverage(const hx_options *o, const mspf_set *set, const cJSON *m)
{
    if (!o->html)
        return 0;
    const cJSON *rows = cJSON_GetObjectItem(m, "rows");
    const cJSON *faults = cJSON_GetObjectItem(m, "faults");
    int nrows, nfaults;
    int un_rows = count_uncovered(rows, &nrows);
    int un_faults = count_uncovered(faults, &nfaults);
    size_t n = mspf_set_count(set);
    hx_page *p = open_page(o, "msp-contract coverage");
    if (!p)
        return -1;
    put_verdict(p, un_rows + un_faults == 0, "ALL PINNED", "UNPINNED");
    hx_page_rawf(p,
                 " &middot; <b id=\"rows-pinned\">%d</b> of %d exit-table "
                 "rows and <b id=\"faults-pinned\">%d</b> of %d faults "
                 "pinned by <b id=\"fixtures\">%zu</b> fixtures",
                 nrows - un_rows, nrows, nfaults - un_faults, nfaults, n);
    put_context(p, o);
    hx_page_raw(p, "<h2>Exit table</h2>\n<table id=\"rows\"><thead><tr>"
                   "<th>row</th><th>name</th><th>exit</th><th>what happened"
                   "</th><th>fixtures</th></tr></thead><tbody>\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, rows)
    {
        int code = cJSON_GetObjectItem(r, "exit_code")->valueint;
        hx_page_rawf(p, "<tr><td class=\"num\">%d</td><td>",
                     cJSON_GetObjectItem(r, "row")->valueint);
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "name")));
        if (code < 0)
            hx_page_raw(p, "</td><td>tool's</td><td>");
        else
            hx_page_rawf(p, "</td><td class=\"num\">%d</td><td>", code);
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "what")));
        hx_page_raw(p, "</td><td>");
        put_names(p, cJSON_GetObjectItem(r, "fixtures"));
        hx_page_raw(p, "</td></tr>\n");
    }
    hx_page_raw(p, "</tbody></table>\n<h2>Faults</h2>\n<table id=\"fault-"
                   "rows\"><thead><tr><th>fault</th><th>what the fake does"
                   "</th><th>fixtures</th></tr></thead><tbody>\n");
    cJSON_ArrayForEach(r, faults)
    {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(r, "kind"));
        hx_page_raw(p, "<tr><td class=\"field\">");
        hx_page_text(p, kind);
        hx_page_raw(p, "</td><td>");
        hx_page_text(p, fault_what(kind ? kind : ""));
        hx_page_raw(p, "</td><td>");
        put_names(p, cJSON_GetObjectItem(r, "fixtures"));
        hx_page_raw(p, "</td></tr>\n");
    }
    /* the matrix: one line per fixture, a column per row and per fault */
    hx_page_raw(p, "</tbody></table>\n<h2>Exit table &times; fixtures</h2>\n");
    put_filter(p, 0);
    hx_page_raw(p, "<table class=\"grid filterable\" id=\"matrix\"><thead>"
                   "<tr><th class=\"name\">fixture</th>");
    cJSON_ArrayForEach(r, rows)
    {
        hx_page_raw(p, "<th class=\"rot\" title=\"");
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "what")));
        hx_page_rawf(p, "\">%d ", cJSON_GetObjectItem(r, "row")->valueint);
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "name")));
        hx_page_raw(p, "</th>");
    }
    for (int k = 1; k < MSPF_FAULT_KIND_COUNT; k++) {
        hx_page_raw(p, "<th class=\"rot\">fault ");
        hx_page_text(p, mspf_fault_kind_name((mspf_fault_kind)k));
        hx_page_raw(p, "</th>");
    }
    hx_page_raw(p, "</tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        hx_page_raw(p, "<tr><td class=\"name\">");
        hx_page_text(p, f->name);
        hx_page_raw(p, "</td>");
        for (int k = 1; k <= nrows; k++)
            hx_page_raw(p, f->exit_row == k ? "<td class=\"pin\">&#10003;</td>"
                                            : "<td class=\"none\"></td>");
        for (int k = 1; k < MSPF_FAULT_KIND_COUNT; k++)
            hx_page_raw(p, has_fault(f, (mspf_fault_kind)k)
                               ? "<td class=\"pin\">&#10003;</td>"
                               : "<td class=\"none\"></td>");
        hx_page_raw(p, "</tr>\n");
    }
    hx_page_raw(p, "</tbody></table>\n");
    return close_page(p);
}

static int pins_check(const mspf_fixture *f, const char *check)
{
    for (size_t i = 0; i < f->n_provider_checks; i++)
        if (strcmp(f->provider_checks[i], check) == 0)
            return 1;
    return 0;
}

int hx_html_provider_coverage(const hx_options *o, const mspf_set *set,
                              const cJSON *root)
{
    if (!o->html)
        return 0;
    const cJSON *checks = cJSON_GetObjectItem(root, "checks");
    int nchecks, un = count_uncovered(checks, &nchecks);
    size_t n = mspf_set_count(set), nprov = 0;
    for (size_t i = 0; i < n; i++)
        nprov += mspf_set_get(set, i)->provider_verify != 0;
    hx_page *p = open_page(o, "msp-contract coverage --provider");
    if (!p)
        return -1;
    put_verdict(p, un == 0, "ALL PINNED", "UNPINNED");
    hx_page_rawf(p,
                 " &middot; <b id=\"checks-pinned\">%d</b> of %d MSP-side "
                 "checks pinned by <b id=\"fixtures\">%zu</b> provider "
                 "fixtures",
                 nchecks - un, nchecks, nprov);
    put_context(p, o);
    hx_page_raw(p, "<h2>MSP check table</h2>\n<table id=\"checks\"><thead>"
                   "<tr><th>row</th><th>check</th><th>status</th><th>error."
                   "code</th><th>what</th><th>provider fixtures</th></tr>"
                   "</thead><tbody>\n");
    const cJSON *r;
    cJSON_ArrayForEach(r, checks)
    {
        int row = cJSON_GetObjectItem(r, "row")->valueint;
        if (row)
            hx_page_rawf(p,
                         "<tr><td class=\"num\">%d</td><td "
                         "class=\"field\">",
                         row);
        else
            hx_page_raw(p, "<tr><td>&ndash;</td><td class=\"field\">");
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "check")));
        hx_page_raw(p, "</td><td>");
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "status")));
        hx_page_raw(p, "</td><td>");
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "code")));
        hx_page_raw(p, "</td><td>");
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "what")));
        hx_page_raw(p, "</td><td>");
        put_names(p, cJSON_GetObjectItem(r, "fixtures"));
        hx_page_raw(p, "</td></tr>\n");
    }
    hx_page_raw(p, "</tbody></table>\n<h2>Check table &times; provider "
                   "fixtures</h2>\n");
    put_filter(p, 0);
    hx_page_raw(p, "<table class=\"grid filterable\" id=\"matrix\"><thead>"
                   "<tr><th class=\"name\">fixture</th>");
    cJSON_ArrayForEach(r, checks)
    {
        hx_page_raw(p, "<th class=\"rot\" title=\"");
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "what")));
        hx_page_raw(p, "\">");
        hx_page_text(p, cJSON_GetStringValue(cJSON_GetObjectItem(r, "check")));
        hx_page_raw(p, "</th>");
    }
    hx_page_raw(p, "</tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        if (!f->provider_verify)
            continue;
        hx_page_raw(p, "<tr><td class=\"name\">");
        hx_page_text(p, f->name);
        hx_page_raw(p, "</td>");
        cJSON_ArrayForEach(r, checks)
        {
            const char *name =
                cJSON_GetStringValue(cJSON_GetObjectItem(r, "check"));
            hx_page_raw(p, name && pins_check(f, name)
                               ? "<td class=\"pin\">&#10003;</td>"
                               : "<td class=\"none\"></td>");
        }
        hx_page_raw(p, "</tr>\n");
    }
    hx_page_raw(p, "</tbody></table>\n");
    return close_page(p);
}
