/* msp-contract export --openapi, driven from outside (ci/openapi runs
 * Redocly, Prism and swagger-mock-validator on what it writes). */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run_tool.h"

#include "test_tmpdir.h"

TestSuite(openapi_export, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(30));

static spawned export_to(const char *path, const char *extra)
{
    char exe[512], fx[512];
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    "export",
                    "--openapi",
                    (char *)path,
                    "--contracts",
                    (char *)src_path("contracts/fixtures", fx, sizeof fx),
                    (char *)extra,
                    extra ? "x.json" : NULL,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 20000, &r), 0);
    return r;
}

static char text[1 << 20];

static cJSON *load(const char *path)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    cJSON *doc = cJSON_Parse(text);
    cr_assert_not_null(doc, "%s is not JSON", path);
    return doc;
}

/* The document export writes for the bundled fixtures (parsed; its text in
 * `text`). */
static cJSON *exported(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/openapi.json", tmpdir);
    spawned r = export_to(path, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    spawned_free(&r);
    return load(path);
}

static const cJSON *execute_responses(const cJSON *doc)
{
    const cJSON *post = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "paths"),
                            "/api/v1/god-mode/execute"),
        "post");
    cr_assert_not_null(post);
    return cJSON_GetObjectItem(post, "responses");
}

Test(openapi_export, writes_openapi_3_1_with_every_status_of_the_check_table)
{
    cJSON *doc = exported();
    cr_assert_str_eq(cJSON_GetObjectItem(doc, "openapi")->valuestring, "3.1.0");
    const cJSON *resp = execute_responses(doc);
    static const char *const statuses[] = {"200", "400", "401", "403",
                                           "404", "409", "413", "429",
                                           "431", "500", "503", "5XX"};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        cr_assert_not_null(cJSON_GetObjectItem(resp, statuses[i]), "%s",
                           statuses[i]);
    cr_assert_not_null(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "429"), "headers"),
        "Retry-After"));
    cJSON_Delete(doc);
}

Test(openapi_export, pid_bound_in_the_document_is_1_to_4194304)
{
    cJSON *doc = exported();
    const cJSON *pid = cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(
                cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "components"),
                                    "schemas"),
                "Params.msp.process_kill"),
            "properties"),
        "pid");
    cr_assert_eq(cJSON_GetObjectItem(pid, "minimum")->valueint, 1);
    cr_assert_eq(cJSON_GetObjectItem(pid, "maximum")->valueint, 4194304);
    cJSON_Delete(doc);
}

Test(openapi_export, examples_are_named_after_fixtures_without_malformed_ones)
{
    cJSON *doc = exported();
    const cJSON *ex = cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(
                cJSON_GetObjectItem(execute_responses(doc), "200"), "content"),
            "application/json"),
        "examples");
    cr_assert_not_null(cJSON_GetObjectItem(ex, "data-provider-agent-health"));
    cr_assert_not_null(cJSON_GetObjectItem(ex, "happy-process-kill"));
    cr_assert_null(cJSON_GetObjectItem(ex, "malformed-exit-code-string"));
    cr_assert_null(cJSON_GetObjectItem(ex, "non-json-200"));
    /* a reply string with NUL bytes keeps them (cJSON alone would cut it) */
    cr_assert_not_null(strstr(text, "\"stdout\":\"a\\u0000b\\u0000c\\n\""));
    cJSON_Delete(doc);
}

Test(openapi_export, refuses_openapi_together_with_pact)
{
    char path[300];
    snprintf(path, sizeof path, "%s/openapi.json", tmpdir);
    spawned r = export_to(path, "--pact");
    cr_assert_eq(r.status, 64, "%s", r.err);
    cr_assert_not_null(strstr(r.err, "--openapi"));
    cr_assert_neq(access(path, F_OK), 0);
    spawned_free(&r);
}

/* A symlink at the path is refused, neither followed nor replaced: the
 * rename replaced it, and `export --openapi /dev/stdout` run as root turned
 * the system's /dev/stdout link into a regular file. */
Test(openapi_export, refuses_a_symlink_at_the_path_and_leaves_link_and_target)
{
    char path[300], target[300], got[300] = {0};
    snprintf(path, sizeof path, "%s/openapi.json", tmpdir);
    snprintf(target, sizeof target, "%s/elsewhere", tmpdir);
    cr_assert_eq(write_file(tmpdir, "elsewhere", "keep"), 0);
    cr_assert_eq(symlink(target, path), 0);
    spawned r = export_to(path, NULL);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "symbolic link"), "%s", r.err);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the symlink was replaced");
    cr_expect_gt(readlink(path, got, sizeof got - 1), 0);
    cr_expect_str_eq(got, target);
    FILE *fp = fopen(target, "rb");
    cr_assert_not_null(fp);
    char keep[16] = {0};
    cr_assert_eq(fread(keep, 1, sizeof keep - 1, fp), 4);
    fclose(fp);
    cr_assert_str_eq(keep, "keep");
    /* no temporary file left next to it */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2", tmpdir);
    cr_assert_eq(system(cmd), 0);
    spawned_free(&r);
}

/* A FIFO (or a device) at the path is refused with the reason, never
 * replaced by a regular file; a directory and a missing directory too. */
Test(openapi_export, refuses_a_fifo_a_directory_or_a_missing_directory)
{
    char path[300];
    snprintf(path, sizeof path, "%s/fifo.json", tmpdir);
    cr_assert_eq(mkfifo(path, 0600), 0);
    spawned r = export_to(path, NULL);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "not a regular file"), "%s", r.err);
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
    spawned_free(&r);
    r = export_to(tmpdir, NULL);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "directory"), "%s", r.err);
    spawned_free(&r);
    snprintf(path, sizeof path, "%s/no/such/dir/x.json", tmpdir);
    r = export_to(path, NULL);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "No such file or directory"), "%s", r.err);
    spawned_free(&r);
}
