/* msp-contract verify, driven from outside: passes on the bundled fixtures,
 * fails readably, and catches a deliberately broken executor on exactly the
 * fixtures that pin the broken row. */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <contracts/fixture.h>

#include "run_tool.h"
#include "test_tmpdir.h"

TestSuite(verify, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(60));

static spawned verify(const char *dir, const char *extra1, const char *extra2)
{
    char exe[512], contracts[512];
    bin_path("msp-contract", exe, sizeof exe);
    if (!dir)
        dir = src_path("contracts/fixtures", contracts, sizeof contracts);
    char *argv[] = {exe, "verify",       "--contracts",  (char *)dir, "-j",
                    "8", (char *)extra1, (char *)extra2, NULL};
    if (!extra1)
        argv[6] = NULL;
    spawned r;
    cr_assert_eq(spawn_capture(argv, 50000, &r), 0);
    return r;
}

/* Names on the "FAIL name" lines of a verify run. */
static int failed_names(const char *out, char names[][128], int max)
{
    int n = 0;
    for (const char *p = out; p && *p && n < max;) {
        if (strncmp(p, "FAIL ", 5) == 0)
            sscanf(p + 5, "%127s", names[n++]);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}

static mspf_set *bundled(void)
{
    char dir[512];
    mspf_set *set = mspf_set_new();
    mspf_error err;
    cr_assert_geq(
        mspf_set_load_dir(set, src_path("contracts/fixtures", dir, sizeof dir),
                          &err),
        1, "%s: %s: %s", err.file, err.path, err.reason);
    return set;
}

Test(verify, passes_on_every_bundled_fixture)
{
    mspf_set *set = bundled();
    spawned r = verify(NULL, NULL, NULL);
    char want[64];
    size_t consumer = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++)
        consumer += mspf_set_get(set, i)->n_provider_steps == 0;
    snprintf(want, sizeof want, "%zu passed, 0 failed\n", consumer);
    cr_expect_eq(r.status, 0, "verify failed:\n%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, want), "no \"%s\" in:\n%s", want, r.out);
    cr_expect_eq(count_lines(r.out, "ok   "), (int)consumer,
                 "provider-only fixtures are not run by verify");
    spawned_free(&r);
    mspf_set_free(set);
}

Test(verify, external_executor_program_passes_like_the_library)
{
    char exe[512];
    bin_path("msp-exec", exe, sizeof exe);
    /* A process per call: give max_ms room for start-up on a loaded machine. */
    test_time_scale_env(20);
    spawned r = verify(NULL, "--executor-cmd", exe);
    cr_expect_eq(r.status, 0, "verify through msp-exec failed:\n%s%s", r.out,
                 r.err);
    cr_expect_not_null(strstr(r.out, " passed, 0 failed\n"));
    spawned_free(&r);
}

/* The key and context memfds are handed over at offset 0: an executor
 * that reads fd 3 and fd 4 itself (`<&3`, read(3, ...)) instead of opening
 * /dev/fd/3 gets the key and the context, not an empty file (they were
 * passed at their end, so such an executor sent an empty key). */
Test(verify, an_executor_reading_fd_3_and_4_directly_gets_key_and_context)
{
    char exe[512], contracts[512], cmd[1600], path[400];
    bin_path("msp-exec", exe, sizeof exe);
    snprintf(cmd, sizeof cmd,
             "cat <&3 > '%s/fd3'; cat <&4 > '%s/fd4'; exec '%s' \"$@\"", tmpdir,
             tmpdir, exe);
    char *argv[] = {
        (char *)bin_path("msp-contract", path, sizeof path),
        "verify",
        "--contracts",
        (char *)src_path("contracts/fixtures", contracts, sizeof contracts),
        "--filter",
        "happy-process-kill",
        "--executor-cmd",
        cmd,
        NULL};
    test_time_scale_env(20);
    spawned r;
    cr_assert_eq(spawn_capture(argv, 50000, &r), 0);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    spawned_free(&r);
    char got[256] = "";
    snprintf(path, sizeof path, "%s/fd3", tmpdir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    cr_expect_str_eq(got, "sk-test", "what fd 3 gave: \"%s\"", got);
    snprintf(path, sizeof path, "%s/fd4", tmpdir);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    cr_expect(n > 0 && got[0] == '{', "what fd 4 gave: \"%s\"", got);
}

/* The fixtures that pin "403 → 126": row 11 with a 403 in the expected stderr.
 */
static int pins_403(const mspf_fixture *f)
{
    if (f->exit_row != 11)
        return 0;
    const cJSON *expect = cJSON_GetObjectItemCaseSensitive(f->doc, "expect");
    char *text = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(expect, "stderr"));
    int yes = text && strstr(text, "403") != NULL;
    cJSON_free(text);
    return yes;
}

Test(verify, broken_executor_fails_exactly_the_fixtures_that_pin_its_row)
{
    char script[512];
    src_path("tests/harness/broken-403-as-1.sh", script, sizeof script);
    test_time_scale_env(20);
    spawned r = verify(NULL, "--executor-cmd", script);
    cr_assert_eq(r.status, 1, "a broken executor passed:\n%s", r.out);

    char got[64][128];
    int ngot = failed_names(r.out, got, 64);
    mspf_set *set = bundled();
    int nwant = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        if (!pins_403(f))
            continue;
        nwant++;
        int found = 0;
        for (int k = 0; k < ngot; k++)
            found |= strcmp(got[k], f->name) == 0;
        cr_expect(found, "fixture %s pins 403 → 126 but did not fail", f->name);
    }
    cr_expect_geq(
        nwant, 2,
        "expected at least the TENANT_MISMATCH and FORBIDDEN fixtures");
    cr_expect_eq(ngot, nwant, "failed %d fixtures, %d pin the broken row:\n%s",
                 ngot, nwant, r.out);
    cr_expect_not_null(strstr(r.out, "expect.exit_code"),
                       "the diff names the field:\n%s", r.out);
    spawned_free(&r);
    mspf_set_free(set);
}

static const char wrong_expectation[] =
    "{\"name\":\"wrong-exit\",\"description\":\"expects 126 where the tool "
    "succeeds\","
    "\"exit_row\":6,"
    "\"context\":{\"command_id\":\"0b6f7f0e-8d1c-4b8e-9a55-4c7f2d1e0a01\","
    "\"tool\":\"msp.process_kill\","
    "\"params\":{\"agent_id\":\"agent-001\",\"pid\":4242},\"deadline_ms\":"
    "30000},"
    "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/execute\","
    "\"headers\":{\"X-Brainstorm-Command-Id\":\"0b6f7f0e-8d1c-4b8e-9a55-"
    "4c7f2d1e0a01\"}},"
    "\"response\":{\"status\":200,\"body\":{\"exit_code\":0,\"stdout\":"
    "\"done\\n\",\"stderr\":\"\"}},"
    "\"expect\":{\"exit_code\":126,\"stdout\":\"done\\n\",\"stderr\":\"\"}}";

Test(verify, a_failure_prints_field_expected_and_got)
{
    cr_assert_eq(write_file(tmpdir, "wrong-exit.json", wrong_expectation), 0);
    spawned r = verify(tmpdir, NULL, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.out, "FAIL wrong-exit"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "expect.exit_code"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "expected: 126"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "got:      0"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "0 passed, 1 failed\n"), "%s", r.out);
    spawned_free(&r);
}

static const char sends_but_must_not[] =
    "{\"name\":\"must-not-send\",\"description\":\"claims nothing is sent, but "
    "the deadline is fine\","
    "\"exit_row\":1,"
    "\"context\":{\"command_id\":\"5d0c9a3e-2f4b-4d6a-8e1f-3a7b9c0d1e02\","
    "\"tool\":\"msp.list_devices\","
    "\"params\":{},\"deadline_ms\":30000},"
    "\"request\":null,"
    "\"expect\":{\"exit_code\":124,\"stdout\":\"\",\"stderr\":{\"regex\":\"^"
    "msp-executor: deadline expired\"}}}";

Test(verify, request_null_fails_when_a_request_reaches_the_wire)
{
    cr_assert_eq(write_file(tmpdir, "must-not-send.json", sends_but_must_not),
                 0);
    spawned r = verify(tmpdir, NULL, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.out, "no request on the wire"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "1 request(s) received"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "exit_row"),
                       "the row check fires too:\n%s", r.out);
    spawned_free(&r);
}

Test(verify, filter_runs_only_matching_fixtures_and_junit_lists_them)
{
    mspf_set *set = bundled();
    int want = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++)
        want += strncmp(mspf_set_get(set, i)->name, "fault-", 6) == 0;
    cr_assert_gt(want, 0);
    char junit[512];
    snprintf(junit, sizeof junit, "%s/report.xml", tmpdir);
    char exe[512], contracts[512];
    char *argv[] = {
        (char *)bin_path("msp-contract", exe, sizeof exe),
        "verify",
        "--contracts",
        (char *)src_path("contracts/fixtures", contracts, sizeof contracts),
        "--filter",
        "fault-*",
        "--junit",
        junit,
        NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 50000, &r), 0);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, "ok   fault-"), want, "%s", r.out);
    cr_expect_eq(count_lines(r.out, "ok   "), want);

    FILE *fp = fopen(junit, "r");
    cr_assert_not_null(fp);
    char xml[65536];
    size_t n = fread(xml, 1, sizeof xml - 1, fp);
    xml[n] = '\0';
    fclose(fp);
    char tests_attr[64];
    snprintf(tests_attr, sizeof tests_attr, "tests=\"%d\" failures=\"0\"",
             want);
    cr_expect_not_null(strstr(xml, tests_attr), "%s", xml);
    cr_expect_not_null(
        strstr(xml, "<testcase classname=\"contracts\" name=\"fault-"));
    spawned_free(&r);
    mspf_set_free(set);
}

Test(verify, usage_errors_exit_64)
{
    char exe[512];
    bin_path("msp-contract", exe, sizeof exe);
    char *bad_j[] = {exe, "verify", "-j", "0", NULL};
    char *bad_cmd[] = {exe, "frobnicate", NULL};
    char *no_cmd[] = {exe, NULL};
    char *stray[] = {exe, "lint", "extra", NULL};
    char *bad_scale[] = {exe, "verify", "--time-scale", "0", NULL};
    char *base_url_elsewhere[] = {exe, "lint", "--base-url", "http://x", NULL};
    char *const *cases[] = {bad_j, bad_cmd,   no_cmd,
                            stray, bad_scale, base_url_elsewhere};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        spawned r;
        cr_assert_eq(spawn_capture(cases[i], 10000, &r), 0);
        cr_expect_eq(r.status, 64, "case %zu: status %d", i, r.status);
        cr_expect_not_null(strstr(r.err, "msp-contract: "), "case %zu: %s", i,
                           r.err);
        spawned_free(&r);
    }
    char *help[] = {exe, "--help", NULL};
    spawned r;
    cr_assert_eq(spawn_capture(help, 10000, &r), 0);
    cr_expect_eq(r.status, 0);
    cr_expect_not_null(strstr(r.out, "msp-contract provider --base-url URL"));
    spawned_free(&r);
}

Test(verify, unloadable_fixture_dir_exits_65_with_the_reason)
{
    cr_assert_eq(
        write_file(tmpdir, "broken.json", "{\"name\":\"broken\",\"bogus\":1}"),
        0);
    spawned r = verify(tmpdir, NULL, NULL);
    cr_expect_eq(r.status, 65);
    cr_expect_not_null(strstr(r.err, "broken.json"), "%s", r.err);
    spawned_free(&r);
}
