/* The realistic MSP: every check of the execute endpoint in order, the
 * tool replies, the catalogue, /health, 404 and 405. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <string.h>

#include "fm_testkit.h"

static fake_msp *fm;

static void setup(void)
{
    static const char *keys[] = {"sk-other=tenant-y",
                                 "sk-ro=tenant-x:read_only"};
    fake_msp_options o;

    fake_msp_options_init(&o);
    o.keys = keys;
    o.n_keys = 2;
    o.max_body = 4096;
    fm = tk_start(&o);
}

static void teardown(void)
{
    fake_msp_stop(fm);
}

TestSuite(realistic, .init = setup, .fini = teardown,
          .timeout = TEST_TIMEOUT(10));

#define LIST tk_body("msp.list_devices", "{}")

Test(realistic, missing_bearer_is_401_unauthorized)
{
    http_res r;

    tk_execute(fm, NULL, "c-1", LIST, &r);
    tk_assert_error(&r, 401, "UNAUTHORIZED", "Authentication required");
    tk_free(&r);
}

Test(realistic, malformed_authorization_is_401)
{
    const char *h[] = {"Authorization: Basic abc",
                       "Content-Type: application/json", NULL};
    http_res r;

    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, LIST,
            strlen(LIST), 0, &r);
    tk_assert_error(&r, 401, "UNAUTHORIZED", "Bearer");
    tk_free(&r);
}

Test(realistic, unknown_token_is_401)
{
    http_res r;

    tk_execute(fm, "sk-nope", "c-1", LIST, &r);
    tk_assert_error(&r, 401, "UNAUTHORIZED", "unknown API key");
    cr_assert_null(strstr(r.body, "sk-nope"), "the key must not be echoed");
    tk_free(&r);
}

Test(realistic, token_of_another_tenant_is_403_tenant_mismatch)
{
    http_res r;

    tk_execute(fm, "sk-other", "c-1", LIST, &r);
    tk_assert_error(&r, 403, "TENANT_MISMATCH",
                    "Authenticated tenant does not match request tenant");
    tk_free(&r);
}

Test(realistic, read_only_token_may_not_run_a_high_risk_tool)
{
    http_res r;

    tk_execute(fm, "sk-ro", "c-1",
               tk_body("msp.process_kill", "{\"agent_id\":\"a\",\"pid\":9}"),
               &r);
    tk_assert_error(&r, 403, "FORBIDDEN", "Insufficient permissions");
    tk_free(&r);
}

Test(realistic, read_only_token_may_run_a_read_only_tool)
{
    http_res r;

    tk_execute(fm, "sk-ro", "c-1", LIST, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
}

Test(realistic, different_id_headers_are_400_idempotency_correlation_mismatch)
{
    const char *h[] = {"Authorization: Bearer sk-test",
                       "X-Brainstorm-Command-Id: a", "Idempotency-Key: b",
                       "Content-Type: application/json", NULL};
    http_res r;

    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, LIST,
            strlen(LIST), 0, &r);
    tk_assert_error(&r, 400, "IDEMPOTENCY_CORRELATION_MISMATCH",
                    "Idempotency-Key must equal X-Brainstorm-Command-Id");
    tk_free(&r);
}

Test(realistic, body_over_max_body_is_413)
{
    char big[6000];
    http_res r;

    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tk_execute(fm, "sk-test", "c-1", big, &r);
    tk_assert_error(&r, 413, "PAYLOAD_TOO_LARGE", "4096");
    tk_free(&r);
}

Test(realistic, chunked_body_over_max_body_is_413)
{
    const char *h[] = {"Authorization: Bearer sk-test",
                       "Content-Type: application/json",
                       "Transfer-Encoding: chunked", NULL};
    char big[6000];
    http_res r;

    memset(big, ' ', sizeof big);
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, big, sizeof big,
            0, &r);
    tk_assert_error(&r, 413, "PAYLOAD_TOO_LARGE", NULL);
    tk_free(&r);
}

Test(realistic, non_json_content_type_is_400_validation)
{
    const char *h[] = {"Authorization: Bearer sk-test",
                       "Content-Type: text/plain", NULL};
    http_res r;

    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, LIST,
            strlen(LIST), 0, &r);
    tk_assert_error(&r, 400, "VALIDATION", "Content-Type");
    tk_free(&r);
}

Test(realistic, body_that_is_not_json_is_400_validation)
{
    http_res r;

    tk_execute(fm, "sk-test", "c-1", "{not json", &r);
    tk_assert_error(&r, 400, "VALIDATION", "not valid JSON");
    tk_free(&r);
}

Test(realistic, body_that_is_not_an_object_is_400_validation)
{
    http_res r;

    tk_execute(fm, "sk-test", "c-1", "[1]", &r);
    tk_assert_error(&r, 400, "VALIDATION", "JSON object");
    tk_free(&r);
}

Test(realistic, missing_or_mistyped_fields_are_named)
{
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"params\":{},\"simulate\":false}", "'tool'"},
        {"{\"tool\":7,\"params\":{},\"simulate\":false}", "'tool'"},
        {"{\"tool\":\"msp.list_devices\",\"simulate\":false}", "'params'"},
        {"{\"tool\":\"msp.list_devices\",\"params\":[],\"simulate\":false}",
         "'params'"},
        {"{\"tool\":\"msp.list_devices\",\"params\":{}}", "'simulate'"},
        {"{\"tool\":\"msp.list_devices\",\"params\":{},\"simulate\":\"no\"}",
         "'simulate'"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_res r;
        tk_execute(fm, "sk-test", "c-1", cases[i].body, &r);
        tk_assert_error(&r, 400, "VALIDATION", cases[i].field);
        tk_free(&r);
    }
}

Test(realistic, unknown_tool_is_404_not_found)
{
    http_res r;

    tk_execute(fm, "sk-test", "c-1", tk_body("msp.nonexistent", "{}"), &r);
    tk_assert_error(&r, 404, "NOT_FOUND", "Unknown tool: msp.nonexistent");
    tk_free(&r);
}

Test(realistic, schema_failures_are_400_validation_naming_the_parameter)
{
    static const struct {
        const char *tool, *params, *msg;
    } cases[] = {
        {"msp.agent_health", "{}", "Missing required parameter: agent_id"},
        {"msp.process_kill", "{\"agent_id\":\"a\",\"pid\":0}",
         "Invalid parameter: pid must be an integer from 1 to 4194304"},
        {"msp.process_kill", "{\"agent_id\":\"a\",\"pid\":1.5}",
         "Invalid parameter: pid must be an integer from 1 to 4194304"},
        {"msp.process_kill", "{\"agent_id\":\"a\",\"pid\":\"9\"}",
         "Invalid parameter: pid must be an integer from 1 to 4194304"},
        {"msp.process_kill", "{\"agent_id\":\"a\",\"pid\":4194305}",
         "Invalid parameter: pid must be an integer from 1 to 4194304"},
        {"msp.process_kill", "{\"agent_id\":\"a\"}",
         "Missing required parameter: pid"},
        {"msp.list_devices", "{\"query\":5}",
         "Invalid parameter: query must be a string"},
        {"msp.list_devices", "{\"colour\":\"red\"}",
         "Unknown parameter: colour"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_res r;
        tk_execute(fm, "sk-test", NULL, tk_body(cases[i].tool, cases[i].params),
                   &r);
        tk_assert_error(&r, 400, "VALIDATION", cases[i].msg);
        tk_free(&r);
    }
}

Test(realistic, destructive_tool_without_simulate_is_400_changeset_required)
{
    http_res r;

    tk_execute(fm, "sk-test", "c-1",
               tk_body("msp.device_wipe", "{\"agent_id\":\"a\"}"), &r);
    tk_assert_error(&r, 400, "CHANGESET_REQUIRED", "msp.device_wipe");
    tk_free(&r);
}

Test(realistic, destructive_tool_with_simulate_is_a_dry_run)
{
    http_res r;

    tk_execute(fm, "sk-test", "c-1",
               "{\"tool\":\"msp.device_wipe\",\"params\":{\"agent_id\":\"a\"},"
               "\"simulate\":true}",
               &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"simulated\":true") != NULL, "%s", r.body);
    tk_free(&r);
}

Test(realistic, error_body_carries_tool_and_trace_of_the_command)
{
    http_res r;
    cJSON *d;

    tk_execute(fm, "sk-test", "cmd-77", tk_body("msp.agent_health", "{}"), &r);
    d = cJSON_Parse(r.body);
    cr_assert_str_eq(cJSON_GetObjectItem(d, "tool")->valuestring,
                     "msp.agent_health");
    cr_assert_str_eq(cJSON_GetObjectItem(d, "trace_id")->valuestring,
                     "trace-cmd-77");
    cJSON_Delete(d);
    tk_free(&r);
}

Test(realistic, list_devices_replies_with_the_fixed_device_list)
{
    http_res r;
    cJSON *d, *data;

    tk_execute(fm, "sk-test", "cmd-1", LIST, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strncmp(r.body,
                      "{\"success\":true,\"tool\":\"msp.list_devices\","
                      "\"data\":{\"devices\":"
                      "[{\"id\":\"dev-001\",\"hostname\":\"ws-finance-01\","
                      "\"os\":\"Windows 11\","
                      "\"agent_id\":\"agent-001\",\"online\":true},",
                      150) == 0,
              "%s", r.body);
    d = cJSON_Parse(r.body);
    data = cJSON_GetObjectItem(d, "data");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(data, "devices")), 4);
    cr_assert_eq(cJSON_GetObjectItem(data, "count")->valueint, 4);
    cr_assert_str_eq(cJSON_GetObjectItem(d, "risk_level")->valuestring,
                     "read_only");
    cr_assert_str_eq(cJSON_GetObjectItem(d, "trace_id")->valuestring,
                     "trace-cmd-1");
    cr_assert_str_eq(cJSON_GetObjectItem(d, "command_id")->valuestring,
                     "cmd-1");
    cJSON_Delete(d);
    tk_free(&r);
}

Test(realistic, list_devices_filters_by_query_and_agent_id)
{
    http_res r;

    tk_execute(fm, "sk-test", "q-1",
               tk_body("msp.list_devices", "{\"query\":\"FINANCE\"}"), &r);
    cr_assert(strstr(r.body, "\"count\":1") && strstr(r.body, "ws-finance-01"),
              "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "q-2",
               tk_body("msp.list_devices", "{\"agent_id\":\"agent-00\"}"), &r);
    cr_assert(strstr(r.body, "\"count\":4"), "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "q-3",
               tk_body("msp.list_devices", "{\"query\":\"zzz\"}"), &r);
    cr_assert(strstr(r.body, "\"devices\":[],\"count\":0"), "%s", r.body);
    tk_free(&r);
}

Test(realistic, agent_health_replies_exactly)
{
    http_res r;

    tk_execute(fm, "sk-test", "h-1",
               tk_body("msp.agent_health", "{\"agent_id\":\"agent-002\"}"), &r);
    cr_assert_str_eq(r.body, "{\"success\":true,\"tool\":\"msp.agent_health\","
                             "\"data\":{\"agent_id\":"
                             "\"agent-002\",\"status\":\"healthy\",\"last_"
                             "seen\":\"2026-11-26T00:00:00Z\","
                             "\"cpu_percent\":12.5,\"memory_percent\":41.0,"
                             "\"agent_version\":\"4.2.1\"},"
                             "\"risk_level\":\"read_only\",\"trace_id\":"
                             "\"trace-h-1\",\"command_id\":\"h-1\"}");
    tk_free(&r);
}

Test(realistic, process_kill_replies_like_a_command)
{
    http_res r;

    tk_execute(fm, "sk-test", "k-1",
               tk_body("msp.process_kill",
                       "{\"agent_id\":\"agent-001\",\"pid\":4711}"),
               &r);
    cr_assert_str_eq(
        r.body,
        "{\"exit_code\":0,\"stdout\":\"Killed process 4711 on agent-001\\n\","
        "\"stderr\":\"\"}");
    tk_free(&r);
    tk_execute(
        fm, "sk-test", "k-2",
        tk_body("msp.process_kill", "{\"agent_id\":\"agent-001\",\"pid\":1}"),
        &r);
    cr_assert_str_eq(r.body, "{\"exit_code\":1,\"stdout\":\"\",\"stderr\":"
                             "\"kill: (1) - Operation not permitted\\n\"}");
    tk_free(&r);
}

Test(realistic, without_any_id_header_a_trace_is_generated)
{
    http_res r;

    tk_execute(fm, "sk-test", NULL, LIST, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"trace_id\":\"trace-gen-"), "%s", r.body);
    tk_free(&r);
}

Test(realistic, tools_catalogue_lists_four_tools_with_schemas)
{
    http_res r;
    cJSON *d, *t;
    int n = 0, changeset = 0;

    tk_http("GET", tk_url(fm, "/api/v1/god-mode/tools"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    d = cJSON_Parse(r.body);
    cr_assert_str_eq(cJSON_GetObjectItem(d, "product")->valuestring, "msp");
    cr_assert_eq(cJSON_GetObjectItem(d, "tool_count")->valueint, 4);
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(d, "tools"))
    {
        n++;
        cr_assert(cJSON_IsObject(cJSON_GetObjectItem(t, "parameters")));
        cr_assert(cJSON_IsString(cJSON_GetObjectItem(t, "risk_level")));
        cr_assert(cJSON_IsString(cJSON_GetObjectItem(t, "domain")));
        cr_assert(cJSON_IsString(cJSON_GetObjectItem(t, "description")));
        changeset += cJSON_IsTrue(cJSON_GetObjectItem(t, "requires_changeset"));
    }
    cr_assert_eq(n, 4);
    cr_assert_eq(changeset, 1);
    cJSON_Delete(d);
    tk_free(&r);
}

Test(realistic, health_reports_healthy)
{
    http_res r;
    char ct[64];

    tk_http("GET", tk_url(fm, "/health"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, "\"status\":\"healthy\"") &&
              strstr(r.body, "\"product\":\"msp\""));
    cr_assert_str_eq(tk_header(&r, "Content-Type", ct, sizeof ct),
                     "application/json");
    tk_free(&r);
}

Test(realistic, unknown_path_is_404_json)
{
    http_res r;

    tk_http("GET", tk_url(fm, "/nope"), NULL, NULL, 0, 0, &r);
    tk_assert_error(&r, 404, "NOT_FOUND", NULL);
    tk_free(&r);
    tk_http("GET", tk_url(fm, "/__admin/nope"), NULL, NULL, 0, 0, &r);
    tk_assert_error(&r, 404, "NOT_FOUND", NULL);
    tk_free(&r);
}

Test(realistic, wrong_method_is_405)
{
    http_res r;

    tk_http("GET", tk_url(fm, "/api/v1/god-mode/execute"), NULL, NULL, 0, 0,
            &r);
    tk_assert_error(&r, 405, "METHOD_NOT_ALLOWED", NULL);
    tk_free(&r);
    tk_http("POST", tk_url(fm, "/health"), NULL, "x", 1, 0, &r);
    cr_assert_eq(r.status, 405);
    tk_free(&r);
    tk_http("PUT", tk_url(fm, "/__admin/reset"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 405);
    tk_free(&r);
}

/* The door's strict JSON check has a fast walk for plain bodies (issue 23,
 * CPU per request) and hands everything it is unsure of to the full walk:
 * each case here takes the hand-over, and must still be refused. */
Test(realistic, strict_fast_walk_hands_over_what_it_cannot_judge)
{
    static const char *const refused[] = {
        /* a repeat hidden by an escape in the name */
        "{\"tool\":\"msp.list_devices\",\"params\":{},\"simulate\":false,"
        "\"\\u0074ool\":\"msp.list_devices\"}",
        /* a repeat past the fast walk's 16 names of one object */
        "{\"tool\":\"msp.list_devices\",\"params\":{\"a\":1,\"b\":2,\"c\":3,"
        "\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,"
        "\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,\"a\":18},"
        "\"simulate\":false}",
        /* a NUL written as an escape */
        "{\"tool\":\"msp.list_devices\",\"params\":{\"q\":\"a\\u0000b\"},"
        "\"simulate\":false}",
        /* a plain repeat, which the fast walk finds itself */
        "{\"tool\":\"msp.list_devices\",\"params\":{\"q\":1,\"q\":2},"
        "\"simulate\":false}",
    };
    size_t i;
    http_res r;

    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        tk_execute(fm, "sk-test", NULL, refused[i], &r);
        tk_assert_error(&r, 400, "VALIDATION", "Request body: ");
        tk_free(&r);
    }
    /* escapes in values that cannot be a NUL are not refused */
    tk_execute(
        fm, "sk-test", NULL,
        "{\"tool\":\"msp.list_devices\",\"params\":{\"query\":\"a\\\"b\\n\"},"
        "\"simulate\":false}",
        &r);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    tk_free(&r);
}
