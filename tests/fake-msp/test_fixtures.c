/* Fixture replay: matching, sequences, --strict, loading, the admin
 * fixture endpoints. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fm_testkit.h"

static const char *const json_type[] = {"Content-Type: application/json", NULL};

static void call(fake_msp *fm, const char *id, http_res *r)
{
    tk_execute(fm, "sk-test", id, tk_body("msp.list_devices", "{}"), r);
}

Test(fixtures, responses_are_served_in_turn_and_the_last_repeats,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res r;

    tk_add_fixture(fm,
                   tk_fixture_json(
                       "seq", "seq-1",
                       "\"responses\":[{\"status\":503,\"body_text\":\"busy\"},"
                       "{\"status\":200,\"body\":{\"n\":2}}]"));
    call(fm, "seq-1", &r);
    cr_assert_eq(r.status, 503);
    cr_assert_str_eq(r.body, "busy");
    tk_free(&r);
    call(fm, "seq-1", &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"n\":2}");
    tk_free(&r);
    call(fm, "seq-1", &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    fake_msp_reset(fm);
    call(fm, "seq-1", &r);
    cr_assert_eq(r.status, 503, "reset restarts the sequence");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(fixtures, unmatched_requests_get_the_realistic_reply,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res r;

    tk_add_fixture(
        fm,
        tk_fixture_json("only", "only-1",
                        "\"response\":{\"status\":500,\"body_text\":\"x\"}"));
    call(fm, "other", &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"tool\":\"msp.list_devices\""));
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(fixtures, fixture_without_a_response_never_matches,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res r;

    tk_add_fixture(
        fm,
        "{\"name\":\"noresp\",\"description\":\"d\",\"exit_row\":6,"
        "\"context\":{\"command_id\":\"nr-1\",\"tool\":\"msp.list_devices\","
        "\"params\":{},\"deadline_ms\":1000},"
        "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/"
        "execute\"},"
        "\"expect\":{\"exit_code\":0}}");
    call(fm, "nr-1", &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"command_id\":\"nr-1\""), "%s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(fixtures, strict_mode_names_the_closest_fixture,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp_options o;
    fake_msp *fm;
    http_res r;

    fake_msp_options_init(&o);
    o.strict = 1;
    fm = tk_start(&o);
    call(fm, "nothing", &r);
    tk_assert_error(&r, 500, "NO_MATCHING_FIXTURE",
                    "no fixture matches; no fixtures loaded");
    tk_free(&r);
    tk_add_fixture(
        fm, tk_fixture_json("near", "near-1",
                            "\"response\":{\"status\":200,\"body\":{}}"));
    call(fm, "near-2", &r);
    tk_assert_error(&r, 500, "NO_MATCHING_FIXTURE",
                    "no fixture matches; closest: near: "
                    "request.headers.X-Brainstorm-Command-Id");
    cr_assert(strstr(r.body, "near-2"), "%s", r.body);
    tk_free(&r);
    tk_http("GET", tk_url(fm, "/health"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200, "health stays available in strict mode");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(fixtures, strict_mode_masks_the_key_in_the_closest_difference,
     .timeout = TEST_TIMEOUT(10))
{
    static const char fx[] =
        "{\"name\":\"auth\",\"description\":\"d\",\"exit_row\":6,"
        "\"context\":{\"command_id\":\"auth-1\",\"tool\":\"msp.list_devices\","
        "\"params\":{},"
        "\"deadline_ms\":30000},"
        "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/"
        "execute\","
        "\"headers\":{\"X-Echo\":{\"same_as\":\"Authorization\"},"
        "\"Authorization\":\"Bearer sk-test\"}},"
        "\"response\":{\"status\":200,\"body\":{}},\"expect\":{\"exit_code\":0}"
        "}";
    fake_msp_options o;
    fake_msp *fm;
    http_res r;

    fake_msp_options_init(&o);
    o.strict = 1;
    fm = tk_start(&o);
    tk_add_fixture(fm, fx);
    tk_execute(fm, "sk-live-0123456789abcdef", "auth-1",
               tk_body("msp.list_devices", "{}"), &r);
    /* the first difference is X-Echo, which must equal the key */
    tk_assert_error(&r, 500, "NO_MATCHING_FIXTURE",
                    "closest: auth: request.headers.X-Echo");
    cr_assert_null(strstr(r.body, "0123456789"), "%s", r.body);
    cr_assert(strstr(r.body, "Bearer sk-l\xe2\x80\xa6(24)"), "%s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(fixtures, admin_lists_fixtures_with_a_summary, .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    cJSON *d, *f;

    tk_add_fixture(fm,
                   tk_fixture_json("listed", "l-1",
                                   "\"response\":{\"status\":200,\"body\":{},"
                                   "\"fault\":{\"kind\":\"empty\"}}"));
    tk_http("GET", tk_url(fm, "/__admin/fixtures"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    d = cJSON_Parse(r.body);
    cr_assert_eq(cJSON_GetObjectItem(d, "count")->valueint, 1);
    f = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "fixtures"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(f, "name")->valuestring, "listed");
    cr_assert_eq(cJSON_GetObjectItem(f, "responses")->valueint, 1);
    cr_assert_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(f, "faults"), 0)->valuestring,
        "empty");
    cJSON_Delete(d);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(fixtures, admin_post_adds_a_fixture_that_then_matches,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    const char *json = tk_fixture_json(
        "posted", "p-1", "\"response\":{\"status\":202,\"body\":{\"ok\":1}}");
    http_res r;

    tk_http("POST", tk_url(fm, "/__admin/fixtures"), json_type, json,
            strlen(json), 0, &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"added\":\"posted\"}");
    tk_free(&r);
    call(fm, "p-1", &r);
    cr_assert_eq(r.status, 202);
    tk_free(&r);
    json = tk_fixture_json("posted", "p-2",
                           "\"response\":{\"status\":200,\"body\":{}}");
    tk_http("POST", tk_url(fm, "/__admin/fixtures"), json_type, json,
            strlen(json), 0, &r);
    tk_assert_error(&r, 409, "CONFLICT", "posted");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(fixtures, admin_post_refuses_an_invalid_fixture_with_path_and_reason,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    const char *json =
        tk_fixture_json("bad", "b-1",
                        "\"response\":{\"status\":200,\"body\":{},"
                        "\"fault\":{\"kind\":\"resett\"}}");
    http_res r;

    tk_http("POST", tk_url(fm, "/__admin/fixtures"), json_type, json,
            strlen(json), 0, &r);
    tk_assert_error(&r, 400, "INVALID_FIXTURE", "$.response.fault");
    tk_free(&r);
    tk_http("POST", tk_url(fm, "/__admin/fixtures"), json_type, "{", 1, 0, &r);
    tk_assert_error(&r, 400, "INVALID_FIXTURE", NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}

static char *temp_dir(void)
{
    char *d = strdup("/tmp/fm-fixtures-XXXXXX");

    cr_assert_not_null(mkdtemp(d));
    return d;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static void remove_dir(char *dir, const char *const *names)
{
    char path[512];

    for (; *names; names++) {
        snprintf(path, sizeof path, "%s/%s", dir, *names);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

Test(fixtures, contract_dirs_and_files_are_loaded_at_start,
     .timeout = TEST_TIMEOUT(10))
{
    static const char *const names[] = {"d1.json", "f1.json", NULL};
    char *dir = temp_dir(), file[512];
    const char *dirs[1], *files[1];
    fake_msp_options o;
    fake_msp *fm;
    http_res r;

    write_file(dir, "d1.json",
               tk_fixture_json("d1", "d-1",
                               "\"response\":{\"status\":203,\"body\":{}}"));
    write_file(dir, "f1.json",
               tk_fixture_json("f1", "f-1", "\"response\":{\"status\":204}"));
    snprintf(file, sizeof file, "%s/f1.json", dir);
    fake_msp_options_init(&o);
    dirs[0] = dir;
    o.contract_dirs = dirs;
    o.n_contract_dirs = 1;
    fm = tk_start(&o);
    call(fm, "d-1", &r);
    cr_assert_eq(r.status, 203);
    tk_free(&r);
    fake_msp_stop(fm);

    fake_msp_options_init(&o);
    files[0] = file;
    o.fixture_files = files;
    o.n_fixture_files = 1;
    fm = tk_start(&o);
    call(fm, "f-1", &r);
    cr_assert_eq(r.status, 204);
    tk_free(&r);
    fake_msp_stop(fm);
    remove_dir(dir, names);
}

Test(fixtures, an_invalid_fixture_file_stops_the_start_with_file_path_reason,
     .timeout = TEST_TIMEOUT(10))
{
    static const char *const names[] = {"broken.json", NULL};
    char *dir = temp_dir(), file[512], err[1024] = "";
    const char *dirs[1], *files[1];
    fake_msp_options o;
    fake_msp *fm = NULL;

    write_file(dir, "broken.json", "{\"name\":\"broken\"}");
    fake_msp_options_init(&o);
    dirs[0] = dir;
    o.contract_dirs = dirs;
    o.n_contract_dirs = 1;
    cr_assert_eq(fake_msp_start(&o, &fm, err, sizeof err), -1);
    cr_assert_null(fm);
    cr_assert(strstr(err, "broken.json: $"), "%s", err);

    snprintf(file, sizeof file, "%s/broken.json", dir);
    fake_msp_options_init(&o);
    files[0] = file;
    o.fixture_files = files;
    o.n_fixture_files = 1;
    cr_assert_eq(fake_msp_start(&o, &fm, err, sizeof err), -1);
    cr_assert(strstr(err, "broken.json: $"), "%s", err);
    remove_dir(dir, names);
}

Test(fixtures, duplicate_names_are_refused_at_run_time,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    mspf_fixture *f = NULL;
    const char *json =
        tk_fixture_json("dup", "dup-1", "\"response\":{\"status\":200}");
    char err[512] = "";

    tk_add_fixture(fm, json);
    json = tk_fixture_json("dup", "dup-2", "\"response\":{\"status\":200}");
    cr_assert_eq(mspf_fixture_parse(json, strlen(json), NULL, &f, NULL), 0);
    cr_assert_eq(fake_msp_add_fixture(fm, f, err, sizeof err), -1);
    cr_assert(strstr(err, "dup"), "%s", err);
    mspf_fixture_free(f);
    fake_msp_stop(fm);
}

Test(fixtures, the_number_of_fixtures_is_capped, .timeout = TEST_TIMEOUT(10))
{
    fake_msp_options o;
    fake_msp_options_init(&o);
    o.max_fixtures = 20;
    fake_msp *fm = tk_start(&o);
    mspf_fixture *f = NULL;
    char name[32], id[64], err[512] = "";

    for (unsigned i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "cap-%u", i);
        snprintf(id, sizeof id, "cap-id-%u", i);
        tk_add_fixture(
            fm, tk_fixture_json(name, id, "\"response\":{\"status\":200}"));
    }
    const char *json = tk_fixture_json("one-too-many", "cap-id-x",
                                       "\"response\":{\"status\":200}");
    cr_assert_eq(mspf_fixture_parse(json, strlen(json), NULL, &f, NULL), 0);
    cr_assert_eq(fake_msp_add_fixture(fm, f, err, sizeof err), -1);
    cr_assert(strstr(err, "too many fixtures"), "%s", err);
    mspf_fixture_free(f);
    fake_msp_stop(fm);
}

/* A plain reply's object is made once and kept with its fixture: every
 * replay sends the same status, headers and body, and a fixture replaced
 * or removed through the admin API never answers with the kept one. */
Test(fixtures, a_replaced_fixture_never_answers_with_its_kept_reply,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    const char *json;
    char buf[64];
    http_res r;
    int i;

    tk_add_fixture(fm, tk_fixture_json("kept", "k-1",
                                       "\"response\":{\"status\":202,"
                                       "\"headers\":{\"X-V\":\"one\"},"
                                       "\"body\":{\"v\":1}}"));
    for (i = 0; i < 3; i++) {
        call(fm, "k-1", &r);
        cr_assert_eq(r.status, 202, "replay %d", i);
        cr_assert_str_eq(r.body, "{\"v\":1}", "replay %d", i);
        cr_assert_str_eq(tk_header(&r, "X-V", buf, sizeof buf), "one");
        cr_assert_str_eq(tk_header(&r, "Content-Type", buf, sizeof buf),
                         "application/json");
        tk_free(&r);
    }
    json = tk_fixture_json("kept", "k-1",
                           "\"response\":{\"status\":201,"
                           "\"headers\":{\"X-V\":\"two\"},"
                           "\"body\":{\"v\":2}}");
    tk_http("PUT", tk_url(fm, "/__admin/fixtures/kept"), json_type, json,
            strlen(json), 0, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    for (i = 0; i < 2; i++) {
        call(fm, "k-1", &r);
        cr_assert_eq(r.status, 201, "replay %d", i);
        cr_assert_str_eq(r.body, "{\"v\":2}", "replay %d", i);
        cr_assert_str_eq(tk_header(&r, "X-V", buf, sizeof buf), "two");
        tk_free(&r);
    }
    tk_http("DELETE", tk_url(fm, "/__admin/fixtures/kept"), NULL, NULL, 0, 0,
            &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    call(fm, "k-1", &r);
    cr_assert_eq(r.status, 200, "the realistic reply again");
    cr_assert_null(tk_header(&r, "X-V", buf, sizeof buf));
    tk_free(&r);
    fake_msp_stop(fm);
}
