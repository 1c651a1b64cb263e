/*
 * test_transport.c — what the executor does when the network or the server
 * misbehaves: rows 3, 4 and 5, timeouts, redirects, and the log lines.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

TestSuite(transport, .init = start, .fini = stop, .timeout = TEST_TIMEOUT(15));

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static msp_result call(long long deadline_ms, log_sink *sink)
{
    msp_executor *ex = make_executor(ts_url(srv), sink);
    msp_context ctx = make_context(deadline_ms);
    msp_result r;
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    msp_executor_free(ex);
    return r;
}

static void push(ts_kind kind, const char *bytes)
{
    ts_action a = {kind, bytes, 0, 0};
    ts_push(srv, a);
}

static void expect_row(const msp_result *r, int row, int exit_code,
                       const char *prefix)
{
    cr_expect_eq(r->row, row, "row %d: %s", r->row, r->err);
    cr_expect_eq(r->exit_code, exit_code);
    cr_expect_str_eq(r->out, "");
    cr_expect(starts_with(r->err, prefix), "%s", r->err);
    cr_expect(starts_with(r->err, msp_exit_table()[row - 1].stderr_prefix),
              "row %d prefix in the table: %s", row, r->err);
}

Test(transport, connection_refused_is_a_transport_error)
{
    /* A port that was just free: bind, read it back, close. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    msp_executor *ex = make_executor(url, NULL);
    msp_context ctx = make_context(5000);
    msp_result r;
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    expect_row(&r, 3, 124, "msp-executor: transport error: ");
    cr_expect(strstr(r.err, "onnect") != NULL, "%s", r.err);
    cr_expect_eq(r.http_status, 0);
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(transport, unresolvable_host_is_a_transport_error)
{
    msp_executor *ex = make_executor("http://no-such-host.invalid", NULL);
    msp_context ctx = make_context(5000);
    msp_result r;
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    expect_row(&r, 3, 124, "msp-executor: transport error: ");
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(transport, reset_before_a_response_is_a_transport_error)
{
    push(TS_RESET, NULL);
    msp_result r = call(5000, NULL);
    expect_row(&r, 3, 124, "msp-executor: transport error: ");
    msp_result_free(&r);
}

Test(transport, close_without_a_reply_is_a_transport_error)
{
    push(TS_CLOSE, NULL);
    msp_result r = call(5000, NULL);
    expect_row(&r, 3, 124, "msp-executor: transport error: ");
    cr_expect(strstr(r.err, "Empty reply") != NULL, "%s", r.err);
    msp_result_free(&r);
}

Test(transport, garbage_instead_of_a_status_line_is_a_transport_error)
{
    push(TS_REPLY_CLOSE, "SSH-2.0-OpenSSH_9.2\r\n\r\n");
    msp_result r = call(5000, NULL);
    expect_row(&r, 3, 124, "msp-executor: transport error: ");
    msp_result_free(&r);
}

Test(transport, deadline_bounds_a_server_that_never_answers)
{
    push(TS_HANG, NULL);
    long long t0 = now_ms();
    msp_result r = call(200, NULL);
    long long took = now_ms() - t0;
    expect_row(&r, 3, 124, "msp-executor: transport error: ");
    cr_expect(strstr(r.err, "imed out") != NULL, "%s", r.err);
    /* Not before the deadline; the upper bound is loose for a loaded
     * machine: without the deadline the call would hang until the server
     * stops. */
    cr_expect(took >= 190 && took < test_ms(5000), "took %lld ms", took);
    msp_result_free(&r);
}

Test(transport, default_timeout_bounds_a_long_deadline)
{
    msp_config cfg;
    msp_executor *ex;
    msp_config_init(&cfg);
    cfg.base_url = ts_url(srv);
    cfg.api_key = TEST_KEY;
    cfg.default_timeout_ms = 150;
    cr_assert_eq(msp_executor_new(&cfg, &ex, NULL, 0), MSP_OK);
    push(TS_HANG, NULL);
    msp_context ctx = make_context(60000);
    msp_result r;
    long long t0 = now_ms();
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    long long took = now_ms() - t0;
    /* the 150 ms default, not the 60 s deadline */
    cr_expect(took >= 140 && took < test_ms(5000), "took %lld ms", took);
    expect_row(&r, 3, 124, "msp-executor: transport error: ");
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(transport, truncated_body_is_a_read_failure)
{
    push(TS_REPLY_CLOSE,
         "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"exit_co");
    msp_result r = call(5000, NULL);
    expect_row(&r, 4, 124, "msp-executor: response read failed: ");
    cr_expect_eq(r.http_status, 200);
    msp_result_free(&r);
}

Test(transport, reset_mid_body_is_a_read_failure)
{
    push(TS_PARTIAL_RESET,
         "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"exit_co");
    msp_result r = call(5000, NULL);
    expect_row(&r, 4, 124, "msp-executor: response read failed: ");
    msp_result_free(&r);
}

Test(transport, timeout_mid_body_is_a_read_failure)
{
    push(TS_PARTIAL_HANG,
         "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"exit_co");
    long long t0 = now_ms();
    msp_result r = call(300, NULL);
    long long took = now_ms() - t0;
    /* the 300 ms deadline, not the server's endless hang */
    cr_expect(took >= 290 && took < test_ms(5000), "took %lld ms", took);
    expect_row(&r, 4, 124, "msp-executor: response read failed: ");
    cr_expect(strstr(r.err, "imed out") != NULL, "%s", r.err);
    msp_result_free(&r);
}

Test(transport, content_length_over_the_cap_is_too_large)
{
    push(TS_PARTIAL_HANG,
         "HTTP/1.1 200 OK\r\nContent-Length: 16777217\r\n\r\nxxxx");
    msp_result r = call(5000, NULL);
    expect_row(&r, 5, 124,
               "msp-executor: response too large (over 16777216 bytes)");
    msp_result_free(&r);
}

Test(transport, chunked_body_over_the_cap_is_too_large)
{
    push(TS_FLOOD_CHUNKED, NULL);
    msp_result r = call(10000, NULL);
    expect_row(&r, 5, 124,
               "msp-executor: response too large (over 16777216 bytes)");
    msp_result_free(&r);
}

Test(transport, body_of_exactly_the_cap_is_accepted)
{
    size_t cap = MSP_RESPONSE_CAP;
    const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n\r\n";
    char *resp = malloc(sizeof head + cap);
    memcpy(resp, head, sizeof head - 1);
    memset(resp + sizeof head - 1, 'x', cap);
    ts_action a = {TS_REPLY, resp, sizeof head - 1 + cap, 0};
    ts_push(srv, a);
    free(resp);
    msp_result r = call(10000, NULL);
    cr_expect_eq(r.row, 9, "%s", r.err);
    cr_expect_eq(r.out_len, cap);
    msp_result_free(&r);
}

Test(transport, redirect_is_not_followed)
{
    ts_server *other = ts_start();
    char resp[256];
    snprintf(resp, sizeof resp,
             "HTTP/1.1 302 Found\r\nLocation: %s/api/v1/god-mode/execute\r\n"
             "Content-Length: 5\r\n\r\nmoved",
             ts_url(other));
    push(TS_REPLY, resp);
    msp_result r = call(5000, NULL);
    cr_expect_eq(r.row, 14);
    cr_expect_eq(r.exit_code, 1);
    cr_expect_str_eq(r.err, "msp-executor: unexpected status (302): moved");
    cr_expect_eq(ts_connections(other), 0,
                 "the token must not leave for another host");
    ts_stop(other);
    msp_result_free(&r);
}

Test(transport, error_statuses_map_through_the_table)
{
    static const struct {
        int status;
        const char *body;
        int exit_code;
        const char *err;
    } cases[] = {
        {403,
         "{\"error\":{\"code\":\"TENANT_MISMATCH\",\"message\":\"Authenticated "
         "tenant does "
         "not match request tenant\"}}",
         126,
         "msp-executor: auth error (403 TENANT_MISMATCH): Authenticated tenant "
         "does not "
         "match request tenant"},
        {404,
         "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"Unknown tool: "
         "msp.x\"}}",
         127,
         "msp-executor: tool unknown (404 NOT_FOUND): Unknown tool: msp.x"},
        {503, "busy", 125, "msp-executor: server error (503): busy"},
        {400,
         "{\"error\":{\"code\":\"IDEMPOTENCY_CORRELATION_MISMATCH\","
         "\"message\":\"m\"}}",
         124, "msp-executor: header consistency violation: m"},
    };
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ts_push_response(srv, cases[i].status, cases[i].body);
        msp_context ctx = make_context(5000);
        msp_result r;
        cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
        cr_expect_eq(r.exit_code, cases[i].exit_code);
        cr_expect_str_eq(r.err, cases[i].err);
        cr_expect_eq(r.http_status, cases[i].status);
        msp_result_free(&r);
    }
    msp_executor_free(ex);
}

Test(transport, delayed_reply_within_the_deadline_succeeds)
{
    ts_action a = {TS_DELAY_REPLY, ts_http(200, "{\"exit_code\":7}"), 0, 100};
    ts_push(srv, a);
    msp_result r = call(3000, NULL);
    cr_expect_eq(r.row, 6);
    cr_expect_eq(r.exit_code, 7);
    cr_expect_geq(r.elapsed_ms, 90);
    msp_result_free(&r);
}

Test(transport, success_logs_one_info_line)
{
    log_sink sink = {0};
    ts_push_response(srv, 200, "{\"exit_code\":0}");
    msp_result r = call(5000, &sink);
    cr_expect_eq(sink.lines, 1);
    cr_expect_eq(sink.errors, 0);
    cr_expect(starts_with(sink.text, "[msp-executor] command " TEST_ID
                                     " \xe2\x86\x92 200 ("),
              "%s", sink.text);
    cr_expect(strstr(sink.text, "ms)\n") != NULL, "%s", sink.text);
    msp_result_free(&r);
}

Test(transport, http_error_logs_status_and_code)
{
    log_sink sink = {0};
    ts_push_response(
        srv, 403,
        "{\"error\":{\"code\":\"TENANT_MISMATCH\",\"message\":\"m\"}}");
    msp_result r = call(5000, &sink);
    cr_expect_eq(sink.errors, 1);
    cr_expect(starts_with(sink.text, "[msp-executor] command " TEST_ID
                                     " \xe2\x86\x92 403 TENANT_MISMATCH ("),
              "%s", sink.text);
    msp_result_free(&r);
}

Test(transport, transport_failure_logs_an_error_line)
{
    log_sink sink = {0};
    push(TS_CLOSE, NULL);
    msp_result r = call(5000, &sink);
    cr_expect_eq(sink.errors, 1);
    cr_expect(starts_with(sink.text, "[msp-executor] command " TEST_ID
                                     " \xe2\x86\x92 transport error: "),
              "%s", sink.text);
    msp_result_free(&r);
}

Test(transport, api_key_echoed_by_a_server_never_reaches_stderr_or_logs)
{
    log_sink sink = {0};
    ts_push_response(srv, 500, "request had Authorization: Bearer " TEST_KEY);
    msp_result r = call(5000, &sink);
    cr_expect_eq(r.row, 13);
    cr_expect(strstr(r.err, TEST_KEY) == NULL, "%s", r.err);
    cr_expect(strstr(r.err, "Bearer ***") != NULL, "%s", r.err);
    cr_expect(strstr(sink.text, TEST_KEY) == NULL, "%s", sink.text);
    msp_result_free(&r);
}

Test(transport, api_key_echoed_in_a_200_body_never_reaches_stdout_or_the_body)
{
    msp_config cfg;
    msp_executor *ex;
    msp_config_init(&cfg);
    cfg.base_url = ts_url(srv);
    cfg.api_key = TEST_KEY;
    cfg.capture_body = 1;
    cr_assert_eq(msp_executor_new(&cfg, &ex, NULL, 0), MSP_OK);
    ts_push_response(srv, 200,
                     "{\"exit_code\":0,\"stdout\":\"token " TEST_KEY "\"}");
    ts_push_response(srv, 200, "echo: Bearer " TEST_KEY);
    msp_context ctx = make_context(5000);
    for (int row = 6; row <= 9; row += 3) {
        msp_result r;
        cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
        cr_expect_eq(r.row, row, "%s", r.err);
        cr_expect(strstr(r.out, TEST_KEY) == NULL, "stdout: %s", r.out);
        cr_expect(strstr(r.out, "*******************") != NULL, "stdout: %s",
                  r.out);
        cr_assert_not_null(r.body);
        cr_expect(strstr(r.body, TEST_KEY) == NULL, "body: %s", r.body);
        msp_result_free(&r);
    }
    msp_executor_free(ex);
}

Test(transport, large_response_buffer_is_released_between_calls)
{
    /* 2 MiB then a small one on the same executor: both correct. */
    size_t n = 2u << 20;
    char *big = malloc(n + 64);
    int h =
        snprintf(big, 64, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
    memset(big + h, 'y', n);
    ts_action a = {TS_REPLY, big, (size_t)h + n, 0};
    ts_push(srv, a);
    free(big);
    ts_push_response(srv, 200, "{\"exit_code\":0,\"stdout\":\"small\"}");
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    msp_result r;
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    cr_expect_eq(r.out_len, n);
    msp_result_free(&r);
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    cr_expect_str_eq(r.out, "small");
    msp_result_free(&r);
    msp_executor_free(ex);
}

Test(transport, control_bytes_from_the_server_stay_out_of_log_lines)
{
    log_sink sink = {0};
    ts_push_response(srv, 403,
                     "{\"error\":{\"code\":\"A\\nB\",\"message\":\"m\"}}");
    msp_result r = call(5000, &sink);
    cr_expect_eq(sink.lines, 1);
    cr_expect(strstr(sink.text, "403 A B (") != NULL, "%s", sink.text);
    cr_expect_eq(strchr(sink.text, '\n'), sink.text + strlen(sink.text) - 1,
                 "%s", sink.text);
    msp_result_free(&r);
}

Test(transport, command_id_in_log_lines_is_capped)
{
    log_sink sink = {0};
    char id[400];
    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    msp_executor *ex = make_executor(ts_url(srv), &sink);
    msp_context ctx = make_context(0);
    ctx.command_id = id;
    msp_result r;
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    cr_expect(strstr(sink.text, id) == NULL);
    cr_expect(strstr(sink.text, id + sizeof id - 1 - 128) != NULL,
              "128 bytes of the id kept");
    msp_result_free(&r);
    msp_executor_free(ex);
}
