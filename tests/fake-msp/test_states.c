/* The provider-state endpoint (POST /__admin/provider-states, the Pact
 * convention) and the built-in keys of the credential roles: a fake with
 * no options serves every bundled state and accepts each role's key. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdlib.h>
#include <string.h>

#include "fm_testkit.h"

TestSuite(states, .timeout = TEST_TIMEOUT(10));

static void state(fake_msp *fm, const char *body, http_res *r)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    tk_http("POST", tk_url(fm, "/__admin/provider-states"), json, body,
            strlen(body), 0, r);
}

Test(states, a_low_rate_limit_is_set_up_and_torn_down)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    char v[32];
    state(fm,
          "{\"state\":\"the tenant's rate limit is low\",\"params\":{"
          "\"per_minute\":1},\"action\":\"setup\"}",
          &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_not_null(strstr(r.body, "\"action\":\"setup\""), "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "a", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200);
    tk_free(&r);
    tk_execute(fm, "sk-test", "b", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 429, "RATE_LIMITED", NULL);
    cr_expect_not_null(tk_header(&r, "Retry-After", v, sizeof v));
    tk_free(&r);
    state(fm,
          "{\"state\":\"the tenant's rate limit is low\",\"params\":{},"
          "\"action\":\"teardown\"}",
          &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "c", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200, "teardown restores no limit");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(states, teardown_restores_the_configured_limit)
{
    fake_msp_options o;
    fake_msp_options_init(&o);
    o.rate_limit_per_min = 2;
    fake_msp *fm = tk_start(&o);
    http_res r;
    state(fm, "{\"state\":\"the tenant's rate limit is low\"}", &r);
    cr_expect_eq(r.status, 200, "Pact sends setup without an action");
    tk_free(&r);
    state(fm,
          "{\"state\":\"the tenant's rate limit is low\",\"action\":"
          "\"teardown\"}",
          &r);
    tk_free(&r);
    for (int i = 0; i < 2; i++) {
        tk_execute(fm, "sk-test", i ? "b" : "a",
                   tk_body("msp.list_devices", "{}"), &r);
        cr_expect_eq(r.status, 200);
        tk_free(&r);
    }
    tk_execute(fm, "sk-test", "c", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 429, "RATE_LIMITED", NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(states, an_unavailable_msp_answers_503_until_torn_down)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    state(fm, "{\"state\":\"the MSP is unavailable\",\"action\":\"setup\"}",
          &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "a", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 503, "UNAVAILABLE", NULL);
    tk_free(&r);
    state(fm, "{\"state\":\"the MSP is unavailable\",\"action\":\"teardown\"}",
          &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "b", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(states, an_unknown_state_or_a_bad_body_is_refused)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    state(fm, "{\"state\":\"the moon is full\",\"action\":\"setup\"}", &r);
    tk_assert_error(&r, 400, "UNKNOWN_STATE", "the moon is full");
    tk_free(&r);
    state(fm, "{\"state\":\"the MSP is unavailable\",\"action\":\"reboot\"}",
          &r);
    tk_assert_error(&r, 400, "VALIDATION", NULL);
    tk_free(&r);
    state(fm, "not json", &r);
    tk_assert_error(&r, 400, "VALIDATION", NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(states, get_lists_every_known_state)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    tk_http("GET", tk_url(fm, "/__admin/provider-states"), NULL, NULL, 0, 0,
            &r);
    cr_assert_eq(r.status, 200);
    cr_expect_not_null(strstr(r.body, "agent-001 runs a process with pid "
                                      "4242"));
    cr_expect_not_null(strstr(r.body, "pid 1 on agent-001 may not be killed"));
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(states, a_fake_without_options_issues_every_role_key)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    tk_execute(fm, "sk-readonly", "a", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200, "read_only may read");
    tk_free(&r);
    tk_execute(
        fm, "sk-readonly", "b",
        tk_body("msp.process_kill", "{\"agent_id\":\"agent-001\",\"pid\":42}"),
        &r);
    tk_assert_error(&r, 403, "FORBIDDEN", NULL);
    tk_free(&r);
    tk_execute(fm, "sk-other", "c", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 403, "TENANT_MISMATCH", NULL);
    tk_free(&r);
    tk_execute(fm, "sk-wrong-0000", "d", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 401, "UNAUTHORIZED", NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}
