/* The provider-state endpoint (POST /__admin/provider-states, the Pact
 * convention) and the built-in keys of the credential roles: a fake with
 * no options serves every bundled state and accepts each role's key. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include <cjson/cJSON.h>

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

/* Issue 20, finding 10: a reset leaves no state behind. */
Test(states, reset_clears_every_provider_state)
{
    static const char *const json[] = {"Content-Type: application/json", NULL};
    fake_msp *fm = tk_start(NULL);
    http_res r;
    state(fm, "{\"state\":\"the MSP is unavailable\",\"action\":\"setup\"}",
          &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    state(fm,
          "{\"state\":\"the tenant's rate limit is low\",\"params\":{"
          "\"per_minute\":1}}",
          &r);
    tk_free(&r);
    tk_http("POST", tk_url(fm, "/__admin/reset"), json, "{}", 2, 0, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    for (int i = 0; i < 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "r%d", i);
        tk_execute(fm, "sk-test", id, tk_body("msp.list_devices", "{}"), &r);
        cr_expect_eq(r.status, 200, "request %d after the reset: %ld %s", i,
                     r.status, r.body);
        tk_free(&r);
    }
    fake_msp_stop(fm);
}

/* Issue 20, finding 10: a NUL or control byte is never part of a name. */
Test(states, a_state_name_with_nul_or_control_bytes_is_refused)
{
    static const char *const bodies[] = {
        "{\"state\":\"the MSP is unavailable\\u0000x\",\"action\":\"setup\"}",
        "{\"state\":\"the MSP is unavailable\\u0000\"}",
        "{\"state\":\"the MSP\\nis unavailable\"}",
        "{\"state\":\"the MSP is unavailable\\u001b[0m\"}",
        "{\"state\":\"the MSP is unavailable\\u007f\"}",
    };
    fake_msp *fm = tk_start(NULL);
    http_res r;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        state(fm, bodies[i], &r);
        tk_assert_error(&r, 400, "VALIDATION", NULL);
        tk_free(&r);
    }
    tk_execute(fm, "sk-test", "a", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200, "no state was set up: %ld", r.status);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* Issue 20, finding 14: what `pact verifier --state-change-url` sends for
 * an exported pact is answered by the fake itself. */
Test(states, credential_states_answer_the_built_in_key_and_a_fresh_id)
{
    static const struct {
        const char *role, *key;
    } roles[] = {{"valid", "sk-test"},
                 {"read_only", "sk-readonly"},
                 {"other_tenant", "sk-other"},
                 {"invalid", "sk-wrong-0000"}};
    fake_msp *fm = tk_start(NULL);
    http_res r;
    char body[300], prev[64] = "";
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"state\":\"a credential of role %s\",\"params\":{\"role\":"
                 "\"%s\"},\"action\":\"setup\"}",
                 roles[i].role, roles[i].role);
        state(fm, body, &r);
        cr_assert_eq(r.status, 200, "%s: %s", roles[i].role, r.body);
        cJSON *doc = cJSON_Parse(r.body);
        const cJSON *auth =
            cJSON_GetObjectItemCaseSensitive(doc, "authorization");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "commandId");
        char want[64];
        snprintf(want, sizeof want, "Bearer %s", roles[i].key);
        cr_expect(cJSON_IsString(auth) && strcmp(auth->valuestring, want) == 0,
                  "%s", r.body);
        cr_assert(cJSON_IsString(id) && strlen(id->valuestring) == 36, "%s",
                  r.body);
        cr_expect_eq(id->valuestring[14], '4', "a UUIDv4: %s", r.body);
        cr_expect(strchr("89ab", id->valuestring[19]) != NULL, "%s", r.body);
        cr_expect_neq(strcmp(id->valuestring, prev), 0, "a fresh id each time");
        snprintf(prev, sizeof prev, "%s", id->valuestring);
        cJSON_Delete(doc);
        tk_free(&r);
    }
    /* the empty name (an interaction without a state), setup and teardown */
    state(fm, "{\"state\":\"\",\"params\":{}}", &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    cr_expect_not_null(strstr(r.body, "\"commandId\":"), "%s", r.body);
    tk_free(&r);
    state(fm, "{\"state\":\"\",\"action\":\"teardown\"}", &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    state(fm,
          "{\"state\":\"a credential of role valid\",\"params\":{\"role\":"
          "\"valid\"},\"action\":\"teardown\"}",
          &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    /* other states give a fresh id too */
    state(fm, "{\"state\":\"pid 1 on agent-001 may not be killed\"}", &r);
    cr_expect_not_null(strstr(r.body, "\"commandId\":"), "%s", r.body);
    tk_free(&r);
    /* an unknown role, or a role that disagrees with the name */
    state(fm, "{\"state\":\"a credential of role root\"}", &r);
    tk_assert_error(&r, 400, "VALIDATION", "root");
    tk_free(&r);
    state(fm,
          "{\"state\":\"a credential of role valid\",\"params\":{\"role\":"
          "\"read_only\"}}",
          &r);
    tk_assert_error(&r, 400, "VALIDATION", NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* Issue 20, finding 14: `pact verifier` without --state-change-teardown
 * never tears down; each interaction starts with its credential state (or
 * the empty name), which ends what the one before (its states, then its
 * request) left set up. */
Test(states, a_credential_or_empty_setup_ends_the_states_left_set_up)
{
    static const char *const starts[] = {
        "{\"state\":\"a credential of role valid\",\"params\":{\"role\":"
        "\"valid\"},\"action\":\"setup\"}",
        "{\"state\":\"\",\"params\":{},\"action\":\"setup\"}"};
    fake_msp *fm = tk_start(NULL);
    http_res r;
    for (size_t i = 0; i < 2; i++) {
        char id[8];
        state(fm, "{\"state\":\"the MSP is unavailable\"}", &r);
        tk_free(&r);
        snprintf(id, sizeof id, "u%zu", i); /* the earlier one's request */
        tk_execute(fm, "sk-test", id, tk_body("msp.list_devices", "{}"), &r);
        tk_assert_error(&r, 503, "UNAVAILABLE", NULL);
        tk_free(&r);
        state(fm, starts[i], &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        tk_free(&r);
        snprintf(id, sizeof id, "s%zu", i);
        tk_execute(fm, "sk-test", id, tk_body("msp.list_devices", "{}"), &r);
        cr_expect_eq(r.status, 200, "still unavailable after %s", starts[i]);
        tk_free(&r);
    }
    /* within one interaction, the credential comes first: what follows it
     * holds */
    state(fm, starts[0], &r);
    tk_free(&r);
    state(fm, "{\"state\":\"the MSP is unavailable\"}", &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "t", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 503, "UNAVAILABLE", NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* The reply names the state it answered, byte for byte: the name was read
 * from the request after the request's parse tree was freed (garbage, or a
 * use-after-free under ASan). Long names too, and every kind of state. */
Test(states, the_reply_echoes_the_state_name_it_answered)
{
    static const char *const names[] = {
        "the MSP is unavailable", "pid 1 on agent-001 may not be killed",
        "the tenant's rate limit is low", "a credential of role valid", ""};
    fake_msp *fm = tk_start(NULL);
    http_res r;
    char body[5000], longname[4001];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (int setup = 1; setup >= 0; setup--) {
            snprintf(body, sizeof body, "{\"state\":\"%s\",\"action\":\"%s\"}",
                     names[i], setup ? "setup" : "teardown");
            state(fm, body, &r);
            cr_assert_eq(r.status, 200, "%s: %s", names[i], r.body);
            cJSON *doc = cJSON_Parse(r.body);
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "state");
            cr_expect(cJSON_IsString(s) &&
                          strcmp(s->valuestring, names[i]) == 0,
                      "asked \"%s\", the reply says %s", names[i], r.body);
            cJSON_Delete(doc);
            tk_free(&r);
        }
    }
    /* an unknown long name is named in the refusal (cut, never garbage) */
    snprintf(body, sizeof body, "{\"state\":\"%s\"}", longname);
    state(fm, body, &r);
    tk_assert_error(&r, 400, "UNKNOWN_STATE", "nnnnnnnnnnnnnnnnnnnn");
    tk_free(&r);
    fake_msp_stop(fm);
}

/* An interaction's states in any order: the setup of a credential state
 * named after "the MSP is unavailable" ended it (every setup of a credential
 * state reset the states), so a pact listing its states in another order
 * than the export failed with 200 for 503. A new interaction begins with
 * the first setup after a request, whatever state it names. */
Test(states, an_interaction_keeps_its_states_in_any_order)
{
    static const char *const cred =
        "{\"state\":\"a credential of role valid\",\"params\":{\"role\":"
        "\"valid\"}}";
    fake_msp *fm = tk_start(NULL);
    http_res r;
    /* one interaction: unavailable, then its credential */
    state(fm, "{\"state\":\"the MSP is unavailable\"}", &r);
    tk_free(&r);
    state(fm, cred, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "a", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 503, "UNAVAILABLE", NULL);
    tk_free(&r);
    /* the next starts with a state that changes nothing, then its
     * credential: what the one before left is gone */
    state(fm, "{\"state\":\"pid 1 on agent-001 may not be killed\"}", &r);
    tk_free(&r);
    state(fm, cred, &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "b", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200, "still unavailable: %s", r.body);
    tk_free(&r);
    /* a low rate limit set up after the credential holds for its request */
    state(fm, cred, &r);
    tk_free(&r);
    state(fm,
          "{\"state\":\"the tenant's rate limit is low\",\"params\":{"
          "\"per_minute\":1}}",
          &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "c", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "d", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 429, "RATE_LIMITED", NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}
