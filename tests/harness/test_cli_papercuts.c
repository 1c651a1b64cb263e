/* msp-contract papercuts a newcomer hit (issue 16): repeated --contracts,
 * lint reporting every problem of a file, no "(null)" when verify finds
 * nothing, the coverage table never cutting a word. */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <executor/msp_executor.h>

#include "run_tool.h"

#include "test_tmpdir.h"

static char dir_a[96], dir_b[96];

/* Two contracts directories, a and b, in the suite's tmpdir. */
static void make_dirs(void)
{
    make_tmpdir();
    snprintf(dir_a, sizeof dir_a, "%s/a", tmpdir);
    snprintf(dir_b, sizeof dir_b, "%s/b", tmpdir);
    cr_assert_eq(mkdir(dir_a, 0700), 0);
    cr_assert_eq(mkdir(dir_b, 0700), 0);
}

TestSuite(papercuts, .init = make_dirs, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(60));

/* Copies the bundled fixture NAME into dir. */
static void copy_fixture(const char *name, const char *dir)
{
    char src[512], cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s/%s.json' '%s/'",
             src_path("contracts/fixtures", src, sizeof src), name, dir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static spawned run(const char *const *args)
{
    char exe[512];
    char *argv[16] = {(char *)bin_path("msp-contract", exe, sizeof exe)};
    size_t n = 1;
    for (; args[n - 1] && n < 15; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    spawned r;
    cr_assert_eq(spawn_capture(argv, 40000, &r), 0);
    return r;
}

Test(papercuts, verify_uses_every_contracts_directory)
{
    copy_fixture("happy-process-kill", dir_a);
    copy_fixture("auth-401", dir_a);
    copy_fixture("tool-unknown-404", dir_b);
    spawned r = run((const char *[]){"verify", "--contracts", dir_a,
                                     "--contracts", dir_b, NULL});
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "3 fixture(s) from "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "tool-unknown-404"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "happy-process-kill"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "3 passed, 0 failed"), "%s", r.out);
    spawned_free(&r);
}

Test(papercuts, lint_and_coverage_read_every_contracts_directory)
{
    copy_fixture("happy-process-kill", dir_a);
    copy_fixture("auth-401", dir_b);
    spawned r = run((const char *[]){"lint", "--contracts", dir_a,
                                     "--contracts", dir_b, NULL});
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "lint: 2 fixture file(s)"), "%s", r.out);
    spawned_free(&r);
    r = run((const char *[]){"coverage", "--contracts", dir_a, "--contracts",
                             dir_b, "--json", NULL});
    cr_expect_not_null(strstr(r.out, "\"happy-process-kill\""), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "\"auth-401\""), "%s", r.out);
    spawned_free(&r);
}

Test(papercuts, a_fixture_name_in_two_directories_is_a_clear_error)
{
    copy_fixture("auth-401", dir_a);
    copy_fixture("auth-401", dir_b);
    spawned r = run((const char *[]){"verify", "--contracts", dir_a,
                                     "--contracts", dir_b, NULL});
    cr_expect_eq(r.status, 65, "%s%s", r.out, r.err);
    char first[600];
    snprintf(first, sizeof first, "from %s/auth-401.json", dir_a);
    cr_expect_not_null(strstr(r.err, "duplicate name \"auth-401\""), "%s",
                       r.err);
    cr_expect_not_null(strstr(r.err, first), "%s", r.err);
    cr_expect_not_null(strstr(r.err, dir_b), "%s", r.err);
    spawned_free(&r);
}

Test(papercuts, verify_without_filter_and_without_fixtures_names_the_dir)
{
    spawned r = run((const char *[]){"verify", "--contracts", dir_a, NULL});
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_null(strstr(r.err, "(null)"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "no fixture to run in "), "%s", r.err);
    cr_expect_not_null(strstr(r.err, dir_a), "%s", r.err);
    spawned_free(&r);
}

Test(papercuts, verify_with_a_filter_matching_nothing_names_the_filter)
{
    copy_fixture("auth-401", dir_a);
    spawned r = run((const char *[]){"verify", "--contracts", dir_a, "--filter",
                                     "nothing-*", NULL});
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.err, "matches --filter 'nothing-*'"), "%s",
                       r.err);
    spawned_free(&r);
}

#define BAD_FIXTURE                                                         \
    "{\"name\":\"many\",\"description\":\"d\",\"exit_row\":8,\"colour\":1," \
    "\"context\":{\"command_id\":\"6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\"," \
    "\"tool\":\"msp.list_devices\",\"deadline\":5},\"request\":null,"       \
    "\"tags\":7,\"expect\":{\"exit_code\":0,\"stdot\":\"\"}}"

Test(papercuts, lint_reports_every_problem_of_a_file)
{
    cr_assert_eq(write_file(dir_a, "many.json", BAD_FIXTURE), 0);
    spawned r = run((const char *[]){"lint", "--contracts", dir_a, NULL});
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.out, "many.json: $.colour: unknown key"), "%s",
                       r.out);
    cr_expect_not_null(
        strstr(r.out, "many.json: $.context.deadline: unknown key"), "%s",
        r.out);
    cr_expect_not_null(strstr(r.out, "many.json: $.tags: "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "many.json: $.expect.stdot: unknown key"),
                       "%s", r.out);
    cr_expect_eq(count_lines(r.out, "error: "), 4, "%s", r.out);
    cr_expect_not_null(strstr(r.out, "4 problem(s)"), "%s", r.out);
    spawned_free(&r);
}

Test(papercuts, lint_reports_invalid_json_with_line_and_column)
{
    cr_assert_eq(
        write_file(dir_a, "broken.json",
                   "{\n  \"name\": \"broken\",\n  \"exit_row\" 8\n}\n"),
        0);
    spawned r = run((const char *[]){"lint", "--contracts", dir_a, NULL});
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(
        strstr(r.out, "broken.json: $: invalid JSON at line 3, column 14"),
        "%s", r.out);
    cr_expect_eq(count_lines(r.out, "error: "), 1, "%s", r.out);
    spawned_free(&r);
}

/* Every word of every "what happened" appears whole in the table. */
Test(papercuts, coverage_table_never_cuts_a_word)
{
    char src[512];
    spawned r = run((const char *[]){
        "coverage", "--contracts",
        src_path("contracts/fixtures", src, sizeof src), NULL});
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    const msp_exit_row *t = msp_exit_table();
    for (int i = 0; i < MSP_EXIT_ROWS; i++) {
        char what[512];
        snprintf(what, sizeof what, "%s", t[i].what);
        for (char *save = NULL, *w = strtok_r(what, " ", &save); w;
             w = strtok_r(NULL, " ", &save)) {
            char word[256];
            snprintf(word, sizeof word, " %s", w);
            cr_expect_not_null(strstr(r.out, word), "row %d: \"%s\" cut in\n%s",
                               t[i].row, w, r.out);
        }
    }
    spawned_free(&r);
}
