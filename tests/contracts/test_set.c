/*
 * test_set.c — fixture sets: unique names and command ids, lookups, and
 * loading a directory in file-name order, stopping at an invalid fixture.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture_text.h"

/* ---- sets --------------------------------------------------------------- */

TestSuite(mspf_set, .timeout = TEST_TIMEOUT(10));

static mspf_fixture *with(const char *name, const char *command_id)
{
    char n[80], c[80];
    const char *edits[4] = {"name", n, "context.command_id", c};
    mspf_fixture *f = NULL;
    mspf_error err;
    snprintf(n, sizeof(n), "\"%s\"", name);
    snprintf(c, sizeof(c), "\"%s\"", command_id);
    cr_assert_eq(parse_edits(edits, 2, &f, &err), 0);
    return f;
}

Test(mspf_set, a_duplicate_name_is_refused)
{
    mspf_set *s = mspf_set_new();
    mspf_fixture *a = with("a", "id-1"), *b = with("a", "id-2");
    mspf_error err;
    cr_assert_eq(mspf_set_add(s, a, &err), 0);
    cr_assert_eq(mspf_set_add(s, b, &err), -1);
    cr_assert_str_eq(err.path, "$.name");
    cr_assert_str_eq(
        err.reason,
        "duplicate name \"a\" (also in fixture \"a\" from base.json)");
    cr_assert_eq(mspf_set_count(s), 1);
    mspf_fixture_free(b);
    mspf_set_free(s);
}

Test(mspf_set, a_duplicate_command_id_is_refused)
{
    mspf_set *s = mspf_set_new();
    mspf_fixture *a = with("a", "id-1"), *b = with("b", "id-1");
    mspf_error err;
    cr_assert_eq(mspf_set_add(s, a, &err), 0);
    cr_assert_eq(mspf_set_add(s, b, &err), -1);
    cr_assert_str_eq(err.file, "base.json");
    cr_assert_str_eq(err.path, "$.context.command_id");
    cr_assert_str_eq(
        err.reason,
        "duplicate command id \"id-1\" (also in fixture \"a\" from base.json)");
    mspf_fixture_free(b);
    mspf_set_free(s);
}

Test(mspf_set, lookups_by_index_and_name)
{
    mspf_set *s = mspf_set_new();
    size_t i;
    for (i = 0; i < 40; i++) {
        char n[16], c[16];
        snprintf(n, sizeof(n), "f%02zu", i);
        snprintf(c, sizeof(c), "c%02zu", i);
        cr_assert_eq(mspf_set_add(s, with(n, c), NULL), 0);
    }
    cr_assert_eq(mspf_set_count(s), 40);
    cr_assert_str_eq(mspf_set_get(s, 39)->name, "f39");
    cr_assert_null(mspf_set_get(s, 40));
    cr_assert_str_eq(mspf_set_find(s, "f07")->command_id, "c07");
    cr_assert_null(mspf_set_find(s, "nope"));
    cr_assert_null(mspf_set_find(s, NULL));
    cr_assert_eq(mspf_set_count(NULL), 0);
    cr_assert_null(mspf_set_get(NULL, 0));
    cr_assert_null(mspf_set_find(NULL, "f01"));
    mspf_set_free(s);
    mspf_set_free(NULL);
}

Test(mspf_set, adding_to_no_set_is_refused)
{
    mspf_fixture *a = with("a", "id-1");
    mspf_error err;
    cr_assert_eq(mspf_set_add(NULL, a, &err), -1);
    cr_assert_str_eq(err.reason, "no set");
    cr_assert_eq(mspf_set_add(NULL, NULL, &err), -1);
    mspf_fixture_free(a);
}

#include "test_tmpdir.h"

/* Writes BASE_FIXTURE renamed to `name` with command id `cid` as FILE. */
static void write_fixture(const char *file, const char *name, const char *cid)
{
    mspf_fixture *f = with(name, cid);
    char *text = cJSON_PrintUnformatted(f->doc);
    char path[256];
    FILE *fp;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
    fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
    cJSON_free(text);
    mspf_fixture_free(f);
}

TestSuite(mspf_dir, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(10));

Test(mspf_dir, loads_json_files_in_name_order_skipping_the_schema)
{
    mspf_set *s = mspf_set_new();
    mspf_error err;
    FILE *fp;
    char path[256];
    write_fixture("zeta.json", "zeta", "id-z");
    write_fixture("alpha.json", "alpha", "id-a");
    snprintf(path, sizeof(path), "%s/fixture.schema.json", tmpdir);
    fp = fopen(path, "w");
    fputs("{\"$schema\":\"x\"}", fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/README.md", tmpdir);
    fp = fopen(path, "w");
    fputs("# not a fixture\n", fp);
    fclose(fp);
    cr_assert_eq(mspf_set_load_dir(s, tmpdir, &err), 2, "%s", err.reason);
    cr_assert_str_eq(mspf_set_get(s, 0)->name, "alpha");
    cr_assert_str_eq(mspf_set_get(s, 1)->name, "zeta");
    mspf_set_free(s);
}

Test(mspf_dir, stops_at_the_first_invalid_fixture)
{
    mspf_set *s = mspf_set_new();
    mspf_error err;
    char expected[256];
    write_fixture("a.json", "a", "id-a");
    write_fixture("b.json", "wrong-name", "id-b");
    snprintf(expected, sizeof(expected), "%s/b.json", tmpdir);
    cr_assert_eq(mspf_set_load_dir(s, tmpdir, &err), -1);
    cr_assert_str_eq(err.file, expected);
    cr_assert_str_eq(err.path, "$.name");
    mspf_set_free(s);
}

Test(mspf_dir, refuses_duplicates_across_files)
{
    mspf_set *s = mspf_set_new();
    mspf_error err;
    write_fixture("a.json", "a", "id-same");
    write_fixture("b.json", "b", "id-same");
    cr_assert_eq(mspf_set_load_dir(s, tmpdir, &err), -1);
    cr_assert_str_eq(err.path, "$.context.command_id");
    cr_assert(strstr(err.reason, "also in fixture \"a\""), "%s", err.reason);
    mspf_set_free(s);
}

Test(mspf_dir, a_missing_directory_is_refused)
{
    mspf_set *s = mspf_set_new();
    mspf_error err;
    cr_assert_eq(mspf_set_load_dir(s, "/nonexistent/fixtures", &err), -1);
    cr_assert(strstr(err.reason, "cannot open directory"), "%s", err.reason);
    cr_assert_eq(mspf_set_load_dir(NULL, tmpdir, &err), -1);
    cr_assert_eq(mspf_set_load_dir(s, NULL, NULL), -1);
    cr_assert_eq(mspf_set_load_dir(s, tmpdir, NULL), 0,
                 "an empty directory loads nothing");
    mspf_set_free(s);
}
