/* The admin API's edges (admin.c): PUT of a name not yet there adds it,
 * a body that is not a fixture or is over 1 MiB is refused with the status
 * that says so, a fixture past the fixture budget is refused naming the
 * budget, and the journal's paging takes unsigned integers only. A fake in
 * process on port 0, libcurl clients. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fm_testkit.h"
#include "test_timeout.h"

TestSuite(admin_api, .timeout = TEST_TIMEOUT(30));

static const char *const json_type[] = {"Content-Type: application/json", NULL};

static void admin(fake_msp *fm, const char *method, const char *path,
                  const char *body, size_t len, http_res *r)
{
    tk_http(method, tk_url(fm, path), body ? json_type : NULL, body, len, 0, r);
}

Test(admin_api, put_of_a_name_not_yet_there_adds_it_with_201)
{
    fake_msp *fm = tk_start(NULL);
    const char *fx =
        tk_fixture_json("fresh", "f-1", "\"response\":{\"status\":202}");
    http_res r;

    admin(fm, "PUT", "/__admin/fixtures/fresh", fx, strlen(fx), &r);
    cr_expect_eq(r.status, 201, "%s", r.body);
    cr_expect(strstr(r.body, "added") != NULL, "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "f-1", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 202, "the fixture answers: %s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(admin_api, put_of_text_that_is_not_a_fixture_gets_400_and_keeps_the_old)
{
    fake_msp *fm = tk_start(NULL);
    const char *fx =
        tk_fixture_json("kept", "k-1", "\"response\":{\"status\":202}");
    http_res r;

    admin(fm, "POST", "/__admin/fixtures", fx, strlen(fx), &r);
    cr_assert_eq(r.status, 201, "%s", r.body);
    tk_free(&r);
    admin(fm, "PUT", "/__admin/fixtures/kept", "{\"name\":\"kept\",", 15, &r);
    tk_assert_error(&r, 400, "INVALID_FIXTURE", NULL);
    tk_free(&r);
    tk_execute(fm, "sk-test", "k-1", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 202, "the old fixture still answers: %s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(admin_api, a_fixture_past_the_fixture_budget_is_refused_naming_it)
{
    fake_msp_options o;
    fake_msp *fm;
    char resp[12000], pad[10000];
    const char *fx;
    http_res r;

    fake_msp_options_init(&o);
    o.fixture_budget = 16 * 1024;
    fm = tk_start(&o);
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    snprintf(resp, sizeof resp,
             "\"response\":{\"status\":200,\"body_text\":\"%s\"}", pad);
    fx = tk_fixture_json("one", "b-1", resp);
    admin(fm, "POST", "/__admin/fixtures", fx, strlen(fx), &r);
    cr_assert_eq(r.status, 201, "the first fits: %s", r.body);
    tk_free(&r);
    fx = tk_fixture_json("two", "b-2", resp);
    admin(fm, "POST", "/__admin/fixtures", fx, strlen(fx), &r);
    tk_assert_error(&r, 400, "INVALID_FIXTURE", "budget");
    tk_free(&r);
    fx = tk_fixture_json("three", "b-3", resp);
    admin(fm, "PUT", "/__admin/fixtures/three", fx, strlen(fx), &r);
    tk_assert_error(&r, 400, "INVALID_FIXTURE", "budget");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(admin_api, journal_paging_takes_unsigned_integers_only)
{
    static const char *const bad[] = {
        "/__admin/requests?since=-1", "/__admin/requests?limit=ten",
        "/__admin/requests?since=", "/__admin/requests?limit=5x"};
    fake_msp *fm = tk_start(NULL);
    http_res r;
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        admin(fm, "GET", bad[i], NULL, 0, &r);
        tk_assert_error(&r, 400, "VALIDATION",
                        "since and limit are unsigned integers");
        tk_free(&r);
    }
    admin(fm, "GET", "/__admin/requests?since=0&limit=1", NULL, 0, &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}
