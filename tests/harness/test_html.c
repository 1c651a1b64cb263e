/* msp-contract --html, driven from outside: the report is written when a
 * fixture fails, holds no key, is replaced atomically and never written
 * through a symlink. (ci/browser loads the pages in Chromium.) */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run_tool.h"

#include "test_tmpdir.h"

TestSuite(html_report, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(60));

static spawned tool(const char *cmd, const char *dir, const char *html)
{
    char exe[512], contracts[512];
    if (!dir)
        dir = src_path("contracts/fixtures", contracts, sizeof contracts);
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    (char *)cmd,
                    "--contracts",
                    (char *)dir,
                    "--html",
                    (char *)html,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 30000, &r), 0);
    return r;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 4 << 20);
    size_t n = fread(buf, 1, (4 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* happy-process-kill, renamed, wanting another key and another stdout. */
static void write_failing_fixture(const char *dir)
{
    char src[512], path[600];
    char *text = slurp(src_path("contracts/fixtures/happy-process-kill.json",
                                src, sizeof src));
    cr_assert_not_null(text);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    cJSON_ReplaceItemInObject(doc, "name", cJSON_CreateString("fails-<b>"));
    cJSON *headers =
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "request"), "headers");
    cJSON_ReplaceItemInObject(headers, "Authorization",
                              cJSON_CreateString("Bearer sk-wanted-key"));
    cJSON *expect = cJSON_GetObjectItem(doc, "expect");
    cJSON_DeleteItemFromObject(expect, "command_result");
    cJSON_ReplaceItemInObject(expect, "stdout",
                              cJSON_CreateString("Killed process 4243"));
    cJSON_DeleteItemFromObject(doc, "provider");
    char *out = cJSON_Print(doc);
    snprintf(path, sizeof path, "%s/fixtures", dir);
    cr_assert_eq(mkdir(path, 0700), 0);
    cr_assert_eq(write_file(path, "fails-<b>.json", out), 0);
    cJSON_free(out);
    cJSON_Delete(doc);
}

Test(html_report, is_written_when_a_fixture_fails_and_holds_no_key)
{
    char dir[300], html[300];
    write_failing_fixture(tmpdir);
    snprintf(dir, sizeof dir, "%s/fixtures", tmpdir);
    snprintf(html, sizeof html, "%s/verify.html", tmpdir);
    spawned r = tool("verify", dir, html);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    char *page = slurp(html);
    cr_assert_not_null(page, "no report written for a failing run");
    cr_expect(strstr(page, "<b id=\"failed\">1</b>") != NULL);
    cr_expect(strstr(page, "fails-&lt;b&gt;") != NULL, "name not escaped");
    cr_expect(strstr(page, "fails-<b>") == NULL);
    cr_expect(strstr(page, "first difference at byte 19") != NULL,
              "stdout differs at byte 19 of its JSON text");
    cr_expect(strstr(page, "<mark>") != NULL);
    cr_expect(strstr(page, "request.headers.Authorization") != NULL);
    cr_expect(strstr(page, "sk-test") == NULL, "the key sent is in the page");
    cr_expect(strstr(page, "sk-wanted-key") == NULL,
              "the key wanted is in the page");
    cr_expect(strstr(page, "Content-Security-Policy") != NULL);
    free(page);
    spawned_free(&r);
}

Test(html_report, refuses_to_write_through_a_symlink)
{
    char link[300], target[300];
    snprintf(link, sizeof link, "%s/report.html", tmpdir);
    snprintf(target, sizeof target, "%s/elsewhere", tmpdir);
    cr_assert_eq(write_file(tmpdir, "elsewhere", "untouched"), 0);
    cr_assert_eq(symlink(target, link), 0);
    spawned r = tool("coverage", NULL, link);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "symbolic link") != NULL, "%s", r.err);
    char *kept = slurp(target);
    cr_expect_str_eq(kept, "untouched");
    free(kept);
    struct stat st;
    cr_expect(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    spawned_free(&r);
}

Test(html_report, replaces_an_old_report_and_leaves_no_temporary_file)
{
    char html[300];
    snprintf(html, sizeof html, "%s/coverage.html", tmpdir);
    cr_assert_eq(write_file(tmpdir, "coverage.html", "old"), 0);
    spawned r = tool("coverage", NULL, html);
    cr_expect_eq(r.status, 0, "%s", r.err);
    spawned_free(&r);
    char *page = slurp(html);
    cr_expect(page && strncmp(page, "<!DOCTYPE html>", 15) == 0);
    cr_expect(page && strstr(page, "rows-pinned\">14</b>") != NULL);
    free(page);
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int others = 0;
    while ((e = readdir(d)) != NULL)
        others += e->d_name[0] != '.' ? strcmp(e->d_name, "coverage.html") != 0
                                      : strcmp(e->d_name, ".") != 0 &&
                                            strcmp(e->d_name, "..") != 0;
    closedir(d);
    cr_expect_eq(others, 0, "a temporary file was left behind");
}

Test(html_report, is_only_for_verify_provider_and_coverage)
{
    char html[300];
    snprintf(html, sizeof html, "%s/lint.html", tmpdir);
    spawned r = tool("lint", NULL, html);
    cr_expect_eq(r.status, 64);
    cr_expect(strstr(r.err, "--html is for verify, provider and coverage"));
    spawned_free(&r);
}
