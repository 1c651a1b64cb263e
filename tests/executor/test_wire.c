/*
 * test_wire.c — the exact request on the wire, and the contexts that are
 * refused before a single byte is sent (rows 1 and 2).
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "test_server.h"

static ts_server *srv;

static void start(void)
{
    srv = ts_start();
    cr_assert_not_null(srv);
}

static void stop(void)
{
    ts_stop(srv);
}

TestSuite(wire, .init = start, .fini = stop, .timeout = TEST_TIMEOUT(10));

static msp_result run(msp_executor *ex, const msp_context *ctx)
{
    msp_result r;
    cr_assert_eq(msp_executor_execute(ex, ctx, &r), MSP_OK);
    return r;
}

static void expect_header(const ts_request *req, const char *name,
                          const char *want)
{
    char v[512];
    cr_expect(ts_header(req, name, v, sizeof v), "header %s missing", name);
    cr_expect_str_eq(v, want, "header %s", name);
}

Test(wire, request_has_the_contract_shape)
{
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    msp_result r = run(ex, &ctx);
    cr_expect_eq(r.row, 6, "%s", r.err);
    cr_expect_str_eq(r.out, "ok");
    cr_assert_eq(ts_request_count(srv), 1);
    const ts_request *req = ts_request_at(srv, 0);
    cr_expect_str_eq(req->method, "POST");
    cr_expect_str_eq(req->path, "/api/v1/god-mode/execute");
    expect_header(req, "Content-Type", "application/json");
    expect_header(req, "Authorization", "Bearer " TEST_KEY);
    expect_header(req, "X-Brainstorm-Command-Id", TEST_ID);
    expect_header(req, "Idempotency-Key", TEST_ID);
    expect_header(req, "X-Correlation-Id", "corr-0001");
    char v[64];
    cr_expect_not(ts_header(req, "Expect", v, sizeof v),
                  "no Expect: 100-continue");
    cr_expect_not(ts_header(req, "X-Tenant-Id", v, sizeof v),
                  "tenant never on the wire");
    cr_expect(strstr(req->headers, "tenant-a") == NULL,
              "tenant never on the wire");
    cr_expect_str_eq(
        req->body,
        "{\"tool\":\"msp.list_devices\",\"params\":{\"query\":\"laptop\"},"
        "\"simulate\":false}");
    cJSON *body = cJSON_Parse(req->body);
    cr_expect(cJSON_IsObject(body));
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(body, "simulate")));
    cJSON_Delete(body);
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, headers_come_in_a_stable_order)
{
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    msp_result r = run(ex, &ctx);
    const ts_request *req = ts_request_at(srv, 0);
    cr_assert_not_null(req);
    const char *names[] = {
        "Content-Type:", "Authorization:", "X-Brainstorm-Command-Id:",
        "Idempotency-Key:", "X-Correlation-Id:"};
    const char *prev = req->headers;
    for (size_t i = 0; i < 5; i++) {
        const char *at = strstr(req->headers, names[i]);
        cr_expect(at != NULL && at >= prev, "%s out of order", names[i]);
        prev = at ? at : prev;
    }
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, one_trailing_slash_on_the_base_url_is_dropped)
{
    char url[128];
    snprintf(url, sizeof url, "%s/", ts_url(srv));
    msp_executor *ex = make_executor(url, NULL);
    msp_context ctx = make_context(5000);
    msp_result r = run(ex, &ctx);
    cr_assert_eq(ts_request_count(srv), 1);
    cr_expect_str_eq(ts_request_at(srv, 0)->path, "/api/v1/god-mode/execute");
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, base_url_path_prefix_is_kept)
{
    char url[128];
    snprintf(url, sizeof url, "%s/msp/", ts_url(srv));
    msp_executor *ex = make_executor(url, NULL);
    msp_context ctx = make_context(5000);
    msp_result r = run(ex, &ctx);
    cr_assert_eq(ts_request_count(srv), 1);
    cr_expect_str_eq(ts_request_at(srv, 0)->path,
                     "/msp/api/v1/god-mode/execute");
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, jwt_mode_sends_the_same_bearer_header)
{
    msp_config cfg;
    msp_executor *ex;
    msp_config_init(&cfg);
    cfg.base_url = ts_url(srv);
    cfg.api_key = "eyJhbGciOiJIUzI1NiJ9.eyJ0IjoxfQ.sig";
    cfg.auth_mode = MSP_AUTH_JWT;
    cr_assert_eq(msp_executor_new(&cfg, &ex, NULL, 0), MSP_OK);
    msp_context ctx = make_context(5000);
    msp_result r = run(ex, &ctx);
    cr_assert_eq(ts_request_count(srv), 1);
    expect_header(ts_request_at(srv, 0), "Authorization",
                  "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ0IjoxfQ.sig");
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, correlation_id_is_omitted_when_absent)
{
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    ctx.correlation_id = NULL;
    msp_result r = run(ex, &ctx);
    cr_assert_eq(ts_request_count(srv), 1);
    char v[64];
    cr_expect_not(
        ts_header(ts_request_at(srv, 0), "X-Correlation-Id", v, sizeof v));
    expect_header(ts_request_at(srv, 0), "Idempotency-Key", TEST_ID);
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, null_params_are_sent_as_an_empty_object)
{
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    ctx.params_json = NULL;
    ctx.tool = "msp.\"quoted\"\\tool";
    msp_result r = run(ex, &ctx);
    cr_assert_eq(ts_request_count(srv), 1);
    cr_expect_str_eq(ts_request_at(srv, 0)->body,
                     "{\"tool\":\"msp.\\\"quoted\\\"\\\\tool\",\"params\":{},"
                     "\"simulate\":false}");
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, large_params_are_sent_whole)
{
    size_t n = 1200000;
    char *params = malloc(n + 32);
    strcpy(params, "{\"blob\":\"");
    memset(params + 9, 'a', n);
    strcpy(params + 9 + n, "\"}");
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    ctx.params_json = params;
    msp_result r = run(ex, &ctx);
    cr_expect_eq(r.row, 6, "%s", r.err);
    cr_assert_eq(ts_request_count(srv), 1);
    cr_expect(strstr(ts_request_at(srv, 0)->body, params) != NULL);
    msp_result_free(&r);
    /* The grown request buffer is released, and the next call still works. */
    ctx.params_json = "{}";
    r = run(ex, &ctx);
    cr_expect_eq(r.row, 6, "%s", r.err);
    cr_expect_str_eq(
        ts_request_at(srv, 1)->body,
        "{\"tool\":\"msp.list_devices\",\"params\":{},\"simulate\":false}");
    msp_result_free(&r);
    msp_executor_free(ex);
    free(params);
}

/* Each refusal: 124, row, message, and the server saw no connection. */
static void refused(msp_context ctx, int row, const char *want)
{
    log_sink sink = {0};
    msp_executor *ex = make_executor(ts_url(srv), &sink);
    msp_result r = run(ex, &ctx);
    cr_expect_eq(r.exit_code, 124);
    cr_expect_eq(r.row, row);
    cr_expect_str_eq(r.out, "");
    cr_expect_str_eq(r.err, want);
    cr_expect(starts_with(r.err, msp_exit_table()[row - 1].stderr_prefix),
              "row %d prefix in the table: %s", row, r.err);
    cr_expect_eq(r.http_status, 0);
    cr_expect_eq(ts_connections(srv), 0, "nothing may be sent");
    cr_expect_eq(sink.errors, 1);
    cr_expect(strstr(sink.text, "\r") == NULL &&
                  strchr(sink.text, '\n') == sink.text + strlen(sink.text) - 1,
              "one clean log line: %s", sink.text);
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, expired_deadline_sends_nothing)
{
    refused(make_context(0), 1, "msp-executor: deadline expired (0ms)");
    refused(make_context(-250), 1, "msp-executor: deadline expired (-250ms)");
}

Test(wire, header_injection_in_command_id_is_refused_before_sending)
{
    msp_context ctx = make_context(5000);
    ctx.command_id = "abc\r\nX-Evil: 1";
    refused(ctx, 2,
            "msp-executor: invalid request: command_id contains a control byte "
            "(CR, LF or "
            "other)");
}

Test(wire, control_bytes_in_correlation_id_are_refused)
{
    msp_context ctx = make_context(5000);
    ctx.correlation_id = "corr\n";
    refused(ctx, 2,
            "msp-executor: invalid request: correlation_id contains a control "
            "byte (CR, LF or "
            "other)");
    ctx.correlation_id = "corr\x7f";
    refused(ctx, 2,
            "msp-executor: invalid request: correlation_id contains a control "
            "byte (CR, LF or "
            "other)");
}

Test(wire, empty_command_id_or_tool_is_refused)
{
    msp_context ctx = make_context(5000);
    ctx.command_id = "";
    refused(ctx, 2, "msp-executor: invalid request: command_id is empty");
    ctx.command_id = NULL;
    refused(ctx, 2, "msp-executor: invalid request: command_id is empty");
    ctx = make_context(5000);
    ctx.tool = "";
    refused(ctx, 2, "msp-executor: invalid request: tool is empty");
    ctx.tool = NULL;
    refused(ctx, 2, "msp-executor: invalid request: tool is empty");
}

Test(wire, overlong_tool_or_correlation_id_is_refused)
{
    char long_text[300];
    memset(long_text, 'a', 257);
    long_text[257] = '\0';
    msp_context ctx = make_context(5000);
    ctx.tool = long_text;
    refused(
        ctx, 2,
        "msp-executor: invalid request: tool is longer than 256 bytes (257)");
    ctx = make_context(5000);
    ctx.correlation_id = long_text;
    refused(ctx, 2,
            "msp-executor: invalid request: correlation_id is longer than 256 "
            "bytes (257)");
    ctx.correlation_id = "";
    refused(ctx, 2, "msp-executor: invalid request: correlation_id is empty");
}

Test(wire, params_that_are_not_an_object_are_refused)
{
    const char *bad[] = {"[]", "1", "{\"a\":", "{} {}", ""};
    for (size_t i = 0; i < 5; i++) {
        msp_context ctx = make_context(5000);
        ctx.params_json = bad[i];
        refused(
            ctx, 2,
            "msp-executor: invalid request: params_json is not a JSON object");
    }
}

Test(wire, a_256_byte_tool_is_accepted)
{
    char tool[257];
    memset(tool, 't', 256);
    tool[256] = '\0';
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    ctx.tool = tool;
    msp_result r = run(ex, &ctx);
    cr_expect_eq(r.row, 6, "%s", r.err);
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(wire, raw_body_is_captured_only_when_asked)
{
    static const char body[] = "{ \"exit_code\" : 0 ,\"stdout\":\"x\"}";
    ts_push_response(srv, 200, body);
    ts_push_response(srv, 200, body);
    msp_executor *plain = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    msp_result r = run(plain, &ctx);
    cr_expect_null(r.body);
    cr_expect_eq(r.body_len, 0);
    msp_result_free(&r);
    msp_executor_free(plain);

    msp_config cfg;
    msp_executor *ex;
    msp_config_init(&cfg);
    cfg.base_url = ts_url(srv);
    cfg.api_key = TEST_KEY;
    cfg.capture_body = 1;
    cr_assert_eq(msp_executor_new(&cfg, &ex, NULL, 0), MSP_OK);
    r = run(ex, &ctx);
    cr_expect_eq(r.row, 6);
    cr_assert_not_null(r.body);
    cr_expect_str_eq(r.body, body);
    cr_expect_eq(r.body_len, sizeof body - 1);
    msp_result_free(&r);
    cr_expect_null(r.body, "freed and zeroed");
    msp_executor_free(ex);
}
