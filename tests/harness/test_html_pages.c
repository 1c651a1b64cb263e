/* msp-contract's other HTML pages, driven from outside: `provider --html`
 * (against an in-process fake-msp, passing and failing), `coverage --html`
 * and `coverage --provider --html` hold the expected names and counts,
 * escape a hostile fixture name and show a failure's first differing byte.
 * (ci/browser loads the same pages in Chromium; these run under ctest.) */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <contracts/fixture.h>
#include <fake_msp/fake_msp.h>

#include "run_tool.h"

#include "test_fake.h"
#include "test_tmpdir.h"

TestSuite(html_pages, .init = make_tmpdir_keyless, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(90));

/* msp-contract ARGS... --html tmpdir/page.html; the page's text in *page
 * (free()), NULL when none was written. */
static spawned run_html(const char *const *args, char **page)
{
    char exe[512], html[300];
    char *argv[32];
    int n = 0;
    snprintf(html, sizeof html, "%s/page.html", tmpdir);
    argv[n++] = (char *)bin_path("msp-contract", exe, sizeof exe);
    for (size_t i = 0; args[i] && n < 29; i++)
        argv[n++] = (char *)args[i];
    argv[n++] = "--html";
    argv[n++] = html;
    argv[n] = NULL;
    spawned r;
    cr_assert_eq(spawn_capture(argv, 60000, &r), 0);
    *page = NULL;
    FILE *f = fopen(html, "rb");
    if (f) {
        char *buf = calloc(1, 8 << 20);
        cr_assert_not_null(buf);
        size_t got = fread(buf, 1, (8 << 20) - 1, f);
        buf[got] = '\0';
        fclose(f);
        *page = buf;
    }
    return r;
}

/* The bundled set: its size, or (provider_only) its provider fixtures. */
static size_t bundled_count(int provider_only, mspf_set **keep)
{
    char dir[512];
    mspf_set *set = mspf_set_new();
    mspf_error err;
    cr_assert_geq(
        mspf_set_load_dir(set, src_path("contracts/fixtures", dir, sizeof dir),
                          &err),
        1);
    size_t n = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++)
        n += !provider_only || mspf_set_get(set, i)->provider_verify;
    if (keep)
        *keep = set;
    else
        mspf_set_free(set);
    return n;
}

/* The bundled happy-process-kill, named `name` (cJSON_Delete it). */
static cJSON *happy_named(const char *name)
{
    char src[512];
    FILE *f = fopen(
        src_path("contracts/fixtures/happy-process-kill.json", src, sizeof src),
        "rb");
    cr_assert_not_null(f);
    char *text = calloc(1, 1 << 20);
    cr_assert_not_null(text);
    text[fread(text, 1, (1 << 20) - 1, f)] = '\0';
    fclose(f);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(doc);
    cJSON_ReplaceItemInObject(doc, "name", cJSON_CreateString(name));
    return doc;
}

/* Writes doc as tmpdir/fixtures/NAME.json; returns tmpdir/fixtures. */
static const char *save_fixture(cJSON *doc, const char *name)
{
    static char dir[400];
    char file[300];
    char *out = cJSON_Print(doc);
    snprintf(dir, sizeof dir, "%s/fixtures", tmpdir);
    (void)mkdir(dir, 0700);
    snprintf(file, sizeof file, "%s.json", name);
    cr_assert_eq(write_file(dir, file, out), 0);
    cJSON_free(out);
    cJSON_Delete(doc);
    return dir;
}

/* A copy of happy-process-kill named `name` in tmpdir/fixtures. */
static const char *hostile_fixture_dir(const char *name)
{
    return save_fixture(happy_named(name), name);
}

static int contains(const char *page, const char *what)
{
    return page && strstr(page, what) != NULL;
}

Test(html_pages, coverage_page_names_every_fixture_and_counts_rows_and_faults)
{
    char contracts[512], want[128];
    const char *args[] = {
        "coverage", "--contracts",
        src_path("contracts/fixtures", contracts, sizeof contracts), NULL};
    char *page = NULL;
    spawned r = run_html(args, &page);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert_not_null(page, "no coverage page written");
    cr_expect(contains(page, "ALL PINNED"));
    cr_expect(contains(page, "<b id=\"rows-pinned\">14</b> of 14"));
    cr_expect(contains(page, "id=\"faults-pinned\""));
    mspf_set *set = NULL;
    size_t n = bundled_count(0, &set);
    snprintf(want, sizeof want, "<b id=\"fixtures\">%zu</b> fixtures", n);
    cr_expect(contains(page, want), "want %s", want);
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        snprintf(want, sizeof want, "<td class=\"name\">%s</td>",
                 mspf_set_get(set, i)->name);
        cr_expect(contains(page, want), "matrix row of %s",
                  mspf_set_get(set, i)->name);
    }
    mspf_set_free(set);
    cr_expect(contains(page, "<table id=\"rows\">"));
    cr_expect(contains(page, "<table id=\"fault-rows\">"));
    cr_expect(contains(page, "id=\"matrix\""));
    cr_expect(contains(page, "<td class=\"pin\">&#10003;</td>"));
    cr_expect(contains(page, "fault slow-body") ||
                  contains(page, "<th class=\"rot\">fault "),
              "a column per fault");
    cr_expect(contains(page, "Content-Security-Policy"));
    free(page);
    spawned_free(&r);
}

Test(html_pages, coverage_provider_page_counts_checks_and_provider_fixtures)
{
    char contracts[512], want[128];
    const char *args[] = {
        "coverage", "--provider", "--contracts",
        src_path("contracts/fixtures", contracts, sizeof contracts), NULL};
    char *page = NULL;
    spawned r = run_html(args, &page);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert_not_null(page, "no coverage --provider page written");
    cr_expect(contains(page, "msp-contract coverage --provider"));
    cr_expect(contains(page, "ALL PINNED"));
    cr_expect(contains(page, "id=\"checks-pinned\""));
    cr_expect(contains(page, "<table id=\"checks\">"));
    mspf_set *set = NULL;
    size_t n = bundled_count(1, &set);
    cr_assert_gt(n, 0);
    snprintf(want, sizeof want, "<b id=\"fixtures\">%zu</b> provider fixtures",
             n);
    cr_expect(contains(page, want), "want %s", want);
    size_t rows = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        snprintf(want, sizeof want, "<td class=\"name\">%s</td>", f->name);
        cr_expect_eq(contains(page, want), f->provider_verify != 0,
                     "a matrix row for %s exactly when it is a provider "
                     "fixture",
                     f->name);
        rows += f->provider_verify && f->n_provider_checks;
    }
    mspf_set_free(set);
    if (rows)
        cr_expect(contains(page, "<td class=\"pin\">&#10003;</td>"));
    free(page);
    spawned_free(&r);
}

Test(html_pages, coverage_pages_escape_a_hostile_fixture_name)
{
    const char *name = "x<img src=x onerror=alert(1)>&\"'";
    const char *dir = hostile_fixture_dir(name);
    for (int provider = 0; provider <= 1; provider++) {
        const char *args[] = {
            "coverage", provider ? "--provider" : "--contracts",
            provider ? "--contracts" : dir, provider ? dir : NULL, NULL};
        char *page = NULL;
        spawned r = run_html(args, &page);
        cr_assert_not_null(page, "no page (provider %d): %s", provider, r.err);
        cr_expect(contains(page, "x&lt;img src=x onerror=alert(1)&gt;&amp;"),
                  "the name is not escaped (provider %d)", provider);
        cr_expect(!contains(page, "<img src=x"),
                  "a raw tag from the name (provider %d)", provider);
        cr_expect(contains(page, "UNPINNED"),
                  "one fixture pins little (provider %d)", provider);
        free(page);
        spawned_free(&r);
    }
}

Test(html_pages, provider_page_passes_every_fixture_and_names_the_target)
{
    char contracts[512], state[400], want[128];
    fake_msp *fm = test_fake_start(NULL);
    snprintf(state, sizeof state, "%s/__admin/provider-states",
             fake_msp_url(fm));
    const char *args[] = {
        "provider",
        "--base-url",
        fake_msp_url(fm),
        "--state-url",
        state,
        "--contracts",
        src_path("contracts/fixtures", contracts, sizeof contracts),
        NULL};
    char *page = NULL;
    spawned r = run_html(args, &page);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert_not_null(page, "no provider page written: %s", r.err);
    cr_expect(contains(page, "msp-contract provider"));
    cr_expect(contains(page, "PASSED"));
    cr_expect(contains(page, "<b id=\"failed\">0</b>"));
    size_t n = bundled_count(1, NULL);
    snprintf(want, sizeof want, "<b id=\"passed\">%zu</b>", n);
    cr_expect(contains(page, want), "want %s", want);
    cr_expect(contains(page, "<b id=\"target\">"), "the target is shown");
    cr_expect(contains(page, fake_msp_url(fm) + strlen("http://")));
    cr_expect(contains(page, "<span class=\"tag\">check "),
              "the checks a fixture pins are tagged");
    cr_expect(!contains(page, "failed-list"));
    cr_expect(!contains(page, "sk-"), "a key in the page");
    free(page);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(html_pages, provider_page_shows_a_failures_field_and_first_differing_byte)
{
    char dir[512];
    fake_msp *fm =
        test_fake_start(src_path("tests/harness/divergent", dir, sizeof dir));
    char contracts[512];
    const char *args[] = {
        "provider",
        "--base-url",
        fake_msp_url(fm),
        "--filter",
        "*list-devices*",
        "--contracts",
        src_path("contracts/fixtures", contracts, sizeof contracts),
        NULL};
    char *page = NULL;
    spawned r = run_html(args, &page);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert_not_null(page, "no page for a failing provider run: %s", r.err);
    cr_expect(contains(page, "FAILED"));
    cr_expect(contains(page, "failed-list"), "the failures are listed first");
    cr_expect(contains(page, "<tr class=\"case failed\""));
    cr_expect(contains(page, "devices[0].hostname"), "the field is named");
    cr_expect(contains(page, "first difference at byte "),
              "the first differing byte is shown");
    cr_expect(contains(page, "<mark>"), "the difference is marked");
    cr_expect(contains(page, "--filter *list-devices*"),
              "the filter is in the context line");
    free(page);
    spawned_free(&r);
    fake_msp_stop(fm);
}

/* happy-process-kill as dir/fixtures/NAME.json with the reply's stdout and
 * stderr and the expected stdout and stderr replaced; no provider block, no
 * command_result. Returns the fixtures directory. */
static const char *differing_fixture(const char *name, const char *got_out,
                                     const char *want_out, const char *got_err,
                                     const char *want_err)
{
    cJSON *doc = happy_named(name);
    cJSON_DeleteItemFromObject(doc, "provider");
    cJSON *body =
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "response"), "body");
    cJSON_ReplaceItemInObject(body, "stdout", cJSON_CreateString(got_out));
    cJSON_ReplaceItemInObject(body, "stderr", cJSON_CreateString(got_err));
    cJSON *expect = cJSON_GetObjectItem(doc, "expect");
    cJSON_DeleteItemFromObject(expect, "command_result");
    cJSON_ReplaceItemInObject(expect, "stdout", cJSON_CreateString(want_out));
    cJSON_ReplaceItemInObject(expect, "stderr", cJSON_CreateString(want_err));
    return save_fixture(doc, name);
}

Test(html_pages, verify_page_folds_a_long_difference_around_its_first_byte)
{
    /* 300 bytes of stdout, one byte differing at 150, a control byte and a
     * two-byte character on the way (the diff's values are cut near 200
     * bytes before they reach the page) */
    char got[301], want[301];
    memset(got, 'a', 300);
    got[300] = '\0';
    memcpy(got + 10, "\x01\xc3\xa9", 3);
    memcpy(want, got, sizeof got);
    want[150] = 'Z';
    const char *dir = differing_fixture("long-stdout", got, want, "", "");
    const char *args[] = {"verify", "--contracts", dir, NULL};
    char *page = NULL;
    spawned r = run_html(args, &page);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert_not_null(page, "no page: %s", r.err);
    cr_expect(contains(page, "expect.stdout") || contains(page, "stdout"));
    /* the JSON text of the value: the quote, 10 a's, \u0001 (6 bytes), é
     * (2), then a's: byte 150 of the value is byte 1 + 150 + 5 */
    cr_expect(contains(page, "first difference at byte 156"),
              "the offset in the value's JSON text");
    cr_expect(contains(page, "<details><summary>all "),
              "a long value is folded with all of it inside");
    cr_expect(contains(page, "<span class=\"muted\">…</span>"),
              "the shown part is cut on both sides");
    cr_expect(contains(page, "<mark>Z</mark>"), "the differing byte marked");
    cr_expect(contains(page, "<span class=\"cc\">\\u0001</span>"),
              "the control byte shown as its escape");
    free(page);
    spawned_free(&r);
}

/* A difference far past what a shown value holds (about 200 bytes): the
 * page (and the terminal) still say where it is and show it marked. */
Test(html_pages, verify_page_shows_a_difference_past_the_cut)
{
    char got[1201], want[1201];
    memset(got, 'b', 1200);
    got[1200] = '\0';
    memcpy(want, got, sizeof got);
    want[900] = 'Q';
    const char *dir = differing_fixture("far-stdout", got, want, "", "");
    const char *args[] = {"verify", "--contracts", dir, NULL};
    char *page = NULL;
    spawned r = run_html(args, &page);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert_not_null(page, "no page: %s", r.err);
    /* byte 900 of the value is byte 901 of its JSON text (the quote) */
    cr_expect(contains(page, "first difference at byte 901"), "%s",
              strstr(page, "first difference")
                  ? strstr(page, "first difference")
                  : "(none)");
    cr_expect(contains(page, "<mark>Q</mark>"), "the differing byte marked");
    cr_expect(contains(r.out, "first difference at byte 901"), "%s", r.out);
    free(page);
    spawned_free(&r);
}

Test(html_pages, verify_page_marks_where_a_shorter_value_ends_and_masks_a_key)
{
    const char *dir = differing_fixture(
        "short-stdout", "Killed process 4242\n", "Killed process 4242\nmore",
        "auth: Bearer abcdefghijklmnopqrstuvwx refused", "");
    const char *args[] = {"verify", "--contracts", dir, NULL};
    char *page = NULL;
    spawned r = run_html(args, &page);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert_not_null(page, "no page: %s", r.err);
    cr_expect(contains(page, "first difference at byte 22"));
    cr_expect(contains(page, "<mark>&quot;</mark>"),
              "the shorter value's closing quote is marked");
    cr_expect(!contains(page, "abcdefghijklmnopqrstuvwx"),
              "a bearer key in the page");
    cr_expect(contains(page, "Bearer ab\xe2\x80\xa6("),
              "the key is shown masked");
    free(page);
    spawned_free(&r);
}
