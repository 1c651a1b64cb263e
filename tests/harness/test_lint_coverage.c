/* msp-contract lint and coverage, driven from outside. */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <executor/msp_executor.h>

#include "run_tool.h"
#include "test_tmpdir.h"

TestSuite(lint, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(30));
TestSuite(coverage, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(30));

static spawned tool(const char *cmd, const char *dir, const char *flag)
{
    char exe[512], contracts[512];
    if (!dir)
        dir = src_path("contracts/fixtures", contracts, sizeof contracts);
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    (char *)cmd,
                    "--contracts",
                    (char *)dir,
                    (char *)flag,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 20000, &r), 0);
    return r;
}

#define FIXTURE(name, row, extra, expect_code)                              \
    "{\"name\":\"" name "\",\"description\":\"d\",\"exit_row\":" #row ","   \
    "\"context\":{\"command_id\":\"6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\"," \
    "\"tool\":\"msp.list_devices\"}," extra                                 \
    "\"expect\":{\"exit_code\":" #expect_code "}}"

Test(lint, bundled_fixtures_are_clean)
{
    spawned r = tool("lint", NULL, "-v");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, " 0 problem(s)"), "%s", r.out);
    cr_expect_gt(count_lines(r.out, "ok   "), 30, "%s", r.out);
    spawned_free(&r);
}

Test(lint, reports_every_bad_file_with_path_and_reason)
{
    cr_assert_eq(
        write_file(tmpdir, "typo.json",
                   FIXTURE("typo", 8, "\"request\":null,\"respones\":{},", 0)),
        0);
    cr_assert_eq(
        write_file(tmpdir, "wrong-name.json",
                   FIXTURE("not-the-file-name", 8, "\"request\":null,", 0)),
        0);
    spawned r = tool("lint", tmpdir, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.out, "typo.json: $.respones: "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "wrong-name.json: $.name: "), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "2 problem(s)"), "%s", r.out);
    spawned_free(&r);
}

Test(lint, exit_row_must_agree_with_the_expected_exit_code)
{
    /* Row 11 is an auth error: 126, never 1. */
    cr_assert_eq(
        write_file(tmpdir, "row-mismatch.json",
                   FIXTURE("row-mismatch", 11, "\"request\":null,", 1)),
        0);
    spawned r = tool("lint", tmpdir, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(
        strstr(r.out, "row-mismatch.json: $.expect.exit_code: row 11"), "%s",
        r.out);
    spawned_free(&r);
}

Test(lint, duplicate_command_ids_are_refused)
{
    cr_assert_eq(write_file(tmpdir, "one.json",
                            FIXTURE("one", 1, "\"request\":null,", 124)),
                 0);
    cr_assert_eq(write_file(tmpdir, "two.json",
                            FIXTURE("two", 1, "\"request\":null,", 124)),
                 0);
    spawned r = tool("lint", tmpdir, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_eq(count_lines(r.out, "error: "), 1, "%s", r.out);
    cr_expect_not_null(strstr(r.out, "two.json"), "%s", r.out);
    spawned_free(&r);
}

Test(lint, empty_directory_fails)
{
    spawned r = tool("lint", tmpdir, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.err, "no fixtures"));
    spawned_free(&r);
}

Test(coverage, every_row_and_fault_is_pinned_by_the_bundled_set)
{
    spawned r = tool("coverage", NULL, "--json");
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cJSON *m = cJSON_Parse(r.out);
    cr_assert_not_null(m, "not JSON: %s", r.out);
    const cJSON *rows = cJSON_GetObjectItem(m, "rows");
    cr_expect_eq(cJSON_GetArraySize(rows), MSP_EXIT_ROWS);
    const cJSON *row;
    cJSON_ArrayForEach(row, rows)
        cr_expect_gt(cJSON_GetArraySize(cJSON_GetObjectItem(row, "fixtures")),
                     0, "row %d", cJSON_GetObjectItem(row, "row")->valueint);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(m, "faults")), 8);
    const cJSON *un = cJSON_GetObjectItem(m, "uncovered");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(un, "rows")), 0);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(un, "faults")), 0);
    cJSON_Delete(m);
    spawned_free(&r);
}

Test(coverage, table_names_rows_and_the_closing_count)
{
    spawned r = tool("coverage", NULL, NULL);
    cr_expect_eq(r.status, 0);
    cr_expect_not_null(
        strstr(r.out, "coverage: 14 of 14 rows and 8 of 8 faults pinned"), "%s",
        r.out);
    cr_expect_not_null(strstr(r.out, "reset_after_headers"), "%s", r.out);
    spawned_free(&r);
}

Test(coverage, a_row_without_fixture_fails_and_is_named)
{
    cr_assert_eq(
        write_file(tmpdir, "only-deadline.json",
                   FIXTURE("only-deadline", 1, "\"request\":null,", 124)),
        0);
    spawned r = tool("coverage", tmpdir, "--json");
    cr_expect_eq(r.status, 1);
    cJSON *m = cJSON_Parse(r.out);
    cr_assert_not_null(m);
    const cJSON *un = cJSON_GetObjectItem(m, "uncovered");
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(un, "rows")),
                 MSP_EXIT_ROWS - 1);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(un, "faults")), 8);
    cr_expect_not_null(strstr(r.err, "pinned by no fixture"));
    cJSON_Delete(m);
    spawned_free(&r);
}

Test(coverage, provider_matrix_pins_every_msp_side_check)
{
    spawned r = tool("coverage", NULL, "--provider");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "coverage --provider: 15 of 15 checks "
                                     "pinned"),
                       "%s", r.out);
    cr_expect_not_null(strstr(r.out, "correlation_mismatch   400      "
                                     "IDEMPOTENCY_CORRELATION_MISMATCH  "
                                     "provider-correlation-mismatch"),
                       "%s", r.out);
    spawned_free(&r);
}

Test(coverage, provider_matrix_fails_naming_a_check_without_fixture)
{
    cr_assert_eq(
        write_file(tmpdir, "only-health.json",
                   "{\"name\":\"only-health\",\"description\":\"d\","
                   "\"provider\":{\"verify\":true,\"checks\":[\"health\"],"
                   "\"steps\":[{\"request\":{\"method\":\"GET\",\"path\":"
                   "\"/health\"},\"expect\":{\"status\":200}}]}}"),
        0);
    char exe[512];
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    "coverage",
                    "--contracts",
                    tmpdir,
                    "--provider",
                    "--json",
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 20000, &r), 0);
    cr_expect_eq(r.status, 1);
    cJSON *m = cJSON_Parse(r.out);
    cr_assert_not_null(m, "%s", r.out);
    const cJSON *un = cJSON_GetObjectItem(m, "uncovered");
    cr_expect_eq(cJSON_GetArraySize(un), 14, "all but health");
    cr_expect_str_eq(cJSON_GetArrayItem(un, 0)->valuestring, "unauthorized");
    cr_expect_not_null(strstr(r.err, "pinned by no provider fixture"));
    cJSON_Delete(m);
    spawned_free(&r);
}

Test(lint, a_provider_only_fixture_must_name_its_checks)
{
    cr_assert_eq(
        write_file(tmpdir, "no-checks.json",
                   "{\"name\":\"no-checks\",\"description\":\"d\","
                   "\"provider\":{\"verify\":true,"
                   "\"steps\":[{\"request\":{\"method\":\"GET\",\"path\":"
                   "\"/health\"},\"expect\":{\"status\":200}}]}}"),
        0);
    spawned r = tool("lint", tmpdir, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.out, "$.provider.checks: name the MSP-side "
                                     "check(s) it pins"),
                       "%s", r.out);
    spawned_free(&r);
}
