/*
 * test_cli.c — msp-exec, checked from outside: spawned from MSP_BIN_DIR
 * against the scriptable test server.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "helpers.h"
#include "hx_spawn.h"
#include "test_server.h"

static ts_server *srv;
static char exe[512];
static char url_env[128];
static char keyfile[64];

static void start(void)
{
    const char *bin = getenv("MSP_BIN_DIR");
    cr_assert_not_null(bin, "MSP_BIN_DIR must point at build/bin");
    snprintf(exe, sizeof exe, "%s/msp-exec", bin);
    srv = ts_start();
    cr_assert_not_null(srv);
    snprintf(url_env, sizeof url_env, "BSM_MSP_BASE_URL=%s", ts_url(srv));
    snprintf(keyfile, sizeof keyfile, "/tmp/msp-exec-key-XXXXXX");
    int fd = mkstemp(keyfile);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, TEST_KEY "\n", sizeof TEST_KEY),
                 (ssize_t)sizeof TEST_KEY);
    close(fd);
}

static void stop(void)
{
    ts_stop(srv);
    unlink(keyfile);
}

/* Generous: under valgrind every spawned msp-exec is traced too. */
TestSuite(cli, .init = start, .fini = stop, .timeout = TEST_TIMEOUT(90));

/* Runs msp-exec with args (NULL-terminated) and env (NULL-terminated). */
static hx_spawned run_env(const char *const *env, const char *in,
                          const char *const *args)
{
    const char *argv[32] = {exe};
    size_t n = 1;
    while (args[n - 1] && n < 31) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    static const char *const no_env[] = {NULL};
    hx_spawn_opts o = {.envp = env ? env : no_env,
                       .in = in,
                       .in_len = in ? strlen(in) : 0,
                       /* a hang guard: a 16 MiB reply took over 10 s in
                        * the -O0 --coverage build on a loaded machine */
                       .timeout_ms = TEST_TIMEOUT(60) * 1000LL};
    hx_spawned r;
    cr_assert_eq(hx_spawn_run(argv, &o, &r, NULL, 0), 0);
    cr_assert_not(r.timed_out);
    return r;
}

#define RUN(...) \
    run_env(default_env(), NULL, (const char *const[]){__VA_ARGS__, NULL})

static const char *const *default_env(void)
{
    static const char *env[4];
    env[0] = url_env;
    env[1] = "BSM_MSP_API_KEY=" TEST_KEY;
    env[2] = "BSM_MSP_TENANT_ID=tenant-a";
    env[3] = NULL;
    return env;
}

static void expect_usage(hx_spawned r, const char *want)
{
    cr_expect_eq(r.status, 64, "status %d, stderr %s", r.status, r.err);
    cr_expect(starts_with(r.err, "msp-exec: "), "%s", r.err);
    cr_expect(strstr(r.err, want) != NULL, "\"%s\" lacks \"%s\"", r.err, want);
    cr_expect_eq(strchr(r.err, '\n'), r.err + r.err_len - 1, "one line: %s",
                 r.err);
    cr_expect_str_eq(r.out, "");
    hx_spawned_free(&r);
}

Test(cli, help_prints_the_manual_and_exits_0)
{
    hx_spawned r = RUN("--help");
    cr_expect_eq(r.status, 0);
    const char *sections[] = {
        "SYNOPSIS",    "OPTIONS",        "ENVIRONMENT",
        "EXIT STATUS", "--api-key-file", "BSM_USE_MSP_EXECUTOR",
        "126"};
    for (size_t i = 0; i < 7; i++)
        cr_expect(strstr(r.out, sections[i]) != NULL, "missing %s",
                  sections[i]);
    cr_expect_eq(ts_connections(srv), 0);
    hx_spawned_free(&r);
}

Test(cli, success_writes_stdout_and_stderr_verbatim)
{
    ts_push_response(
        srv, 200, "{\"exit_code\":3,\"stdout\":\"out\\n\",\"stderr\":\"err\"}");
    hx_spawned r = RUN("--tool", "msp.agent_health");
    cr_expect_eq(r.status, 3);
    cr_expect_str_eq(r.out, "out\n");
    cr_expect_str_eq(r.err, "err");
    hx_spawned_free(&r);
}

Test(cli, defaults_fill_command_id_params_and_deadline)
{
    hx_spawned r = RUN("--tool", "msp.agent_health");
    cr_expect_eq(r.status, 0);
    cr_assert_eq(ts_request_count(srv), 1);
    const ts_request *req = ts_request_at(srv, 0);
    char id[128], idem[128];
    cr_assert(ts_header(req, "X-Brainstorm-Command-Id", id, sizeof id));
    cr_assert(ts_header(req, "Idempotency-Key", idem, sizeof idem));
    cr_expect_str_eq(id, idem);
    regex_t re;
    regcomp(
        &re,
        "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        REG_EXTENDED | REG_NOSUB);
    cr_expect_eq(regexec(&re, id, 0, NULL, 0), 0, "not a UUIDv4: %s", id);
    regfree(&re);
    cr_expect_str_eq(
        req->body,
        "{\"tool\":\"msp.agent_health\",\"params\":{},\"simulate\":false}");
    cr_expect_not(ts_header(req, "X-Correlation-Id", id, sizeof id));
    hx_spawned_free(&r);
}

Test(cli, flags_set_every_context_field)
{
    hx_spawned r = RUN("--tool", "msp.process_kill", "--params", "{\"pid\":42}",
                       "--command-id", "cmd-1", "--correlation-id", "corr-9",
                       "--deadline-ms", "5000");
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(ts_request_count(srv), 1);
    const ts_request *req = ts_request_at(srv, 0);
    char v[64];
    cr_expect(ts_header(req, "X-Brainstorm-Command-Id", v, sizeof v));
    cr_expect_str_eq(v, "cmd-1");
    cr_expect(ts_header(req, "X-Correlation-Id", v, sizeof v));
    cr_expect_str_eq(v, "corr-9");
    cr_expect_str_eq(req->body,
                     "{\"tool\":\"msp.process_kill\",\"params\":{\"pid\":42},"
                     "\"simulate\":false}");
    hx_spawned_free(&r);
}

Test(cli, json_prints_the_whole_result)
{
    ts_push_response(srv, 403,
                     "{\"error\":{\"code\":\"FORBIDDEN\",\"message\":\"no\"}}");
    hx_spawned r = RUN("--tool", "t", "--json");
    cr_expect_eq(r.status, 126);
    cr_expect_str_eq(
        r.out,
        "{\"exit_code\":126,\"stdout\":\"\",\"stderr\":\"msp-executor: auth "
        "error (403 FORBIDDEN): no\"}\n");
    cr_expect_str_eq(r.err, "");
    hx_spawned_free(&r);
}

Test(cli, exit_status_is_the_exit_code_masked_to_a_byte)
{
    static const int codes[][2] = {{300, 44}, {-1, 255}, {256, 0}, {1, 1}};
    for (size_t i = 0; i < 4; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"exit_code\":%d}", codes[i][0]);
        ts_push_response(srv, 200, body);
        hx_spawned r = RUN("--tool", "t");
        cr_expect_eq(r.status, codes[i][1], "exit_code %d", codes[i][0]);
        hx_spawned_free(&r);
    }
}

Test(cli, expired_deadline_exits_124_without_sending)
{
    hx_spawned r = RUN("--tool", "t", "--deadline-ms", "0");
    cr_expect_eq(r.status, 124);
    cr_expect_str_eq(r.err, "msp-executor: deadline expired (0ms)");
    cr_expect_eq(ts_connections(srv), 0);
    hx_spawned_free(&r);
}

Test(cli, malformed_command_lines_exit_64)
{
    expect_usage(RUN("--tool", "t", "--bogus"), "unknown option --bogus");
    expect_usage(RUN("--tool"), "option --tool needs a value");
    expect_usage(RUN("--tool", "t", "extra"), "unexpected argument #3");
    expect_usage(RUN("--json"), "one of --context or --tool is required");
    expect_usage(RUN("--context", "-", "--tool", "t"),
                 "--context excludes --tool");
    cr_expect_eq(ts_connections(srv), 0);
}

Test(cli, unknown_short_option_is_named)
{
    expect_usage(RUN("-xv", "--tool", "t"), "unknown option -x ");
}

/* A value given to a flag ("--json=1") was reported as the unknown option
 * "-" followed by a control character; it names the flag now. */
Test(cli, a_value_given_to_a_flag_names_the_flag)
{
    expect_usage(RUN("--tool", "t", "--json=1"), "unknown option --json ");
    expect_usage(RUN("--tool", "t", "--from-env=yes"),
                 "unknown option --from-env ");
}

Test(cli, a_key_given_as_a_flag_value_is_refused_and_never_echoed)
{
    /* "--api-key" would otherwise abbreviate --api-key-file and the error
     * would quote the key as a file name. */
    const char *tries[][2] = {{"--api-key", "sk-live-SECRET"},
                              {"--api", "sk-live-SECRET"},
                              {"--api-key=sk-live-SECRET", NULL},
                              {"--apikey=sk-live-SECRET", NULL}};
    for (size_t i = 0; i < 4; i++) {
        hx_spawned r = tries[i][1]
                           ? RUN(tries[i][0], tries[i][1], "--tool", "t")
                           : RUN(tries[i][0], "--tool", "t");
        cr_expect(strstr(r.err, "SECRET") == NULL, "key echoed: %s", r.err);
        expect_usage(r, "unknown option --api");
    }
    cr_expect_eq(ts_connections(srv), 0);
}

Test(cli, auth_mode_flag_wins_over_a_bad_environment_value)
{
    const char *env[] = {url_env, "BSM_MSP_API_KEY=" TEST_KEY,
                         "BSM_MSP_AUTH_MODE=x", NULL};
    hx_spawned r = run_env(
        env, NULL,
        (const char *const[]){"--auth-mode", "jwt", "--tool", "t", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(ts_request_count(srv), 1);
    hx_spawned_free(&r);
}

Test(cli, key_echoed_by_the_server_never_reaches_the_output)
{
    ts_push_response(srv, 200,
                     "{\"exit_code\":0,\"stdout\":\"" TEST_KEY
                     "\",\"stderr\":\"" TEST_KEY "\"}");
    ts_push_response(srv, 401, "bad key " TEST_KEY);
    hx_spawned r = RUN("--tool", "t", "-v");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, TEST_KEY) == NULL, "stdout: %s", r.out);
    cr_expect(strstr(r.err, TEST_KEY) == NULL, "stderr: %s", r.err);
    hx_spawned_free(&r);
    r = RUN("--tool", "t", "--json", "-v");
    cr_expect_eq(r.status, 126);
    cr_expect(strstr(r.out, "bad key *") != NULL, "stdout: %s", r.out);
    cr_expect(strstr(r.out, TEST_KEY) == NULL, "stdout: %s", r.out);
    cr_expect(strstr(r.err, TEST_KEY) == NULL, "stderr: %s", r.err);
    hx_spawned_free(&r);
}

Test(cli, bad_option_values_exit_64)
{
    expect_usage(RUN("--tool", "t", "--timeout-ms", "abc"),
                 "--timeout-ms must be an integer");
    expect_usage(RUN("--tool", "t", "--deadline-ms", "5s"),
                 "--deadline-ms must be an integer");
    expect_usage(RUN("--tool", "t", "--auth-mode", "oauth"),
                 "--auth-mode must be service_key or jwt");
    expect_usage(RUN("--tool", "t", "--api-key-file", "/nonexistent"),
                 "cannot read a key from --api-key-file /nonexistent");
    expect_usage(RUN("--context", "/nonexistent"),
                 "cannot read --context /nonexistent");
    expect_usage(RUN("--tool", "t", "--timeout-ms", "0"),
                 "must be a positive finite number");
    expect_usage(RUN("--tool", "t", "--ca-file", "/nonexistent/ca.pem"),
                 "ca_file is not a readable file");
    expect_usage(RUN("--tool", "t", "--base-url", "ftp://x"),
                 "base_url must be an http:// or https:// URL");
    cr_expect_eq(ts_connections(srv), 0);
}

Test(cli, missing_configuration_exits_64)
{
    const char *no_url[] = {"BSM_MSP_API_KEY=k", NULL};
    expect_usage(
        run_env(no_url, NULL, (const char *const[]){"--tool", "t", NULL}),
        "no base URL (use --base-url or BSM_MSP_BASE_URL)");
    const char *no_key[] = {url_env, NULL};
    expect_usage(
        run_env(no_key, NULL, (const char *const[]){"--tool", "t", NULL}),
        "no API key (use --api-key-file or BSM_MSP_API_KEY)");
    const char *bad_mode[] = {url_env, "BSM_MSP_API_KEY=k",
                              "BSM_MSP_AUTH_MODE=x", NULL};
    expect_usage(
        run_env(bad_mode, NULL, (const char *const[]){"--tool", "t", NULL}),
        "BSM_MSP_AUTH_MODE must be service_key or jwt (got \"x\")");
}

Test(cli, key_file_and_flags_override_the_environment)
{
    const char *env[] = {"BSM_MSP_BASE_URL=http://127.0.0.1:1",
                         "BSM_MSP_API_KEY=wrong-key", "BSM_MSP_AUTH_MODE=jwt",
                         NULL};
    hx_spawned r = run_env(
        env, NULL,
        (const char *const[]){"--base-url", ts_url(srv), "--api-key-file",
                              keyfile, "--auth-mode", "service_key",
                              "--tenant-id", "t2", "--tool", "t", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(ts_request_count(srv), 1);
    char v[128];
    cr_expect(ts_header(ts_request_at(srv, 0), "Authorization", v, sizeof v));
    cr_expect_str_eq(v, "Bearer " TEST_KEY, "trailing newline stripped");
    hx_spawned_free(&r);
}

Test(cli, verbose_logs_with_the_key_masked)
{
    hx_spawned r = RUN("--tool", "t", "-v", "--api-key-file", keyfile,
                       "--command-id", "c-7");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.err, "key=sk-t\xe2\x80\xa6(19)") != NULL, "%s", r.err);
    cr_expect(strstr(r.err, "[msp-executor] command c-7 \xe2\x86\x92 200 (") !=
                  NULL,
              "%s", r.err);
    cr_expect(strstr(r.err, TEST_KEY) == NULL, "key leaked: %s", r.err);
    cr_expect(strstr(r.out, TEST_KEY) == NULL);
    hx_spawned_free(&r);
}

Test(cli, from_env_requires_the_gate)
{
    expect_usage(RUN("--from-env", "--tool", "t"),
                 "--from-env given but BSM_USE_MSP_EXECUTOR is not 1");
}

Test(cli, from_env_prints_the_wiring_errors_verbatim)
{
    const char *env[] = {"BSM_USE_MSP_EXECUTOR=1", url_env, "BSM_MSP_API_KEY=k",
                         NULL};
    expect_usage(
        run_env(env, NULL,
                (const char *const[]){"--from-env", "--tool", "t", NULL}),
        "msp-exec: BSM_USE_MSP_EXECUTOR=1 but BSM_MSP_TENANT_ID unset");
    const char *mode[] = {"BSM_USE_MSP_EXECUTOR=1",  url_env,
                          "BSM_MSP_API_KEY=k",       "BSM_MSP_TENANT_ID=t",
                          "BSM_MSP_AUTH_MODE=basic", NULL};
    expect_usage(
        run_env(mode, NULL,
                (const char *const[]){"--from-env", "--tool", "t", NULL}),
        "BSM_MSP_AUTH_MODE must be service_key or jwt (got \"basic\")");
}

Test(cli, from_env_runs_the_call)
{
    const char *env[] = {"BSM_USE_MSP_EXECUTOR=1", url_env,
                         "BSM_MSP_API_KEY=" TEST_KEY, "BSM_MSP_TENANT_ID=t",
                         NULL};
    hx_spawned r = run_env(
        env, NULL, (const char *const[]){"--from-env", "--tool", "t", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_str_eq(r.out, "ok");
    cr_expect_eq(ts_request_count(srv), 1);
    hx_spawned_free(&r);
}

static const char context_json[] =
    "{\"command_id\":\"ctx-1\",\"tool\":\"msp.list_devices\",\"params\":{\"q\":"
    "\"x\"},"
    "\"deadline_ms\":4000,\"correlation_id\":\"corr-ctx\"}";

static void expect_context_request(void)
{
    cr_assert_eq(ts_request_count(srv), 1);
    const ts_request *req = ts_request_at(srv, 0);
    char v[64];
    cr_expect(ts_header(req, "Idempotency-Key", v, sizeof v));
    cr_expect_str_eq(v, "ctx-1");
    cr_expect(ts_header(req, "X-Correlation-Id", v, sizeof v));
    cr_expect_str_eq(v, "corr-ctx");
    cr_expect_str_eq(req->body, "{\"tool\":\"msp.list_devices\",\"params\":{"
                                "\"q\":\"x\"},\"simulate\":false}");
}

Test(cli, context_from_a_file)
{
    char path[] = "/tmp/msp-exec-ctx-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, context_json, sizeof context_json - 1),
                 (ssize_t)sizeof context_json - 1);
    close(fd);
    hx_spawned r = RUN("--context", path);
    unlink(path);
    cr_expect_eq(r.status, 0, "%s", r.err);
    expect_context_request();
    hx_spawned_free(&r);
}

Test(cli, context_from_stdin)
{
    hx_spawned r = run_env(default_env(), context_json,
                           (const char *const[]){"--context", "-", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    expect_context_request();
    hx_spawned_free(&r);
}

Test(cli, invalid_context_document_exits_64)
{
    expect_usage(run_env(default_env(), "{\"tool\":\"t\"}",
                         (const char *const[]){"--context", "-", NULL}),
                 "context: \"command_id\" is missing");
}

Test(cli, binary_body_reaches_stdout_intact)
{
    ts_action a = {TS_REPLY,
                   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\na\0b\xff\n", 43,
                   0};
    ts_push(srv, a);
    hx_spawned r = RUN("--tool", "t");
    cr_expect_eq(r.status, 0);
    cr_expect_eq(r.out_len, 5);
    cr_expect_eq(memcmp(r.out, "a\0b\xff\n", 5), 0);
    hx_spawned_free(&r);
}

Test(cli, oversized_context_is_refused)
{
    char path[] = "/tmp/msp-exec-big-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, (off_t)(17u << 20)), 0);
    close(fd);
    hx_spawned r = RUN("--context", path);
    unlink(path);
    expect_usage(r, "over 16 MiB");
}

Test(cli, version_prints_the_version_macro_and_exits_0)
{
    hx_spawned r = RUN("--version");
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.out, "msp-exec " MSP_EXECUTOR_VERSION "\n");
    cr_expect_eq(ts_connections(srv), 0);
    hx_spawned_free(&r);
}

/* The EXIT STATUS section is the exit table, printed from it. */
Test(cli, help_exit_status_lists_every_row_of_the_table)
{
    hx_spawned r = RUN("--help");
    const msp_exit_row *t = msp_exit_table();
    for (int i = 0; i < MSP_EXIT_ROWS; i++) {
        char line[256];
        if (t[i].exit_code < 0)
            snprintf(line, sizeof line, "    N    row %2d  %s", t[i].row,
                     t[i].what);
        else
            snprintf(line, sizeof line, "    %-3d  row %2d  %s\n",
                     t[i].exit_code, t[i].row, t[i].what);
        cr_expect(strstr(r.out, line) != NULL, "--help lacks \"%s\"", line);
    }
    cr_expect(strstr(r.out, "--version") && strstr(r.out, "--command-result"));
    hx_spawned_free(&r);
}

Test(cli, command_result_prints_the_endpoint_stubs_message)
{
    ts_push_response(srv, 200,
                     "{\"exit_code\":0,\"stdout\":\"out\",\"stderr\":\"\"}");
    hx_spawned r =
        RUN("--tool", "t", "--command-id", "cmd-7", "--command-result");
    cr_expect_eq(r.status, 0);
    cr_expect_str_eq(r.out,
                     "{\"type\":\"CommandResult\",\"command_id\":\"cmd-7\","
                     "\"lifecycle_state\":\"completed\",\"error\":null,"
                     "\"payload\":{\"stdout\":\"out\",\"stderr\":\"\","
                     "\"exit_code\":0}}\n");
    hx_spawned_free(&r);
    ts_push_response(srv, 404, "{\"error\":{\"code\":\"TOOL_NOT_FOUND\"}}");
    r = RUN("--tool", "t", "--command-id", "cmd-8", "--command-result");
    cr_expect_eq(r.status, 127);
    cr_expect_str_eq(
        r.out, "{\"type\":\"CommandResult\",\"command_id\":\"cmd-8\","
               "\"lifecycle_state\":\"failed\",\"payload\":null,\"error\":{"
               "\"code\":\"SANDBOX_TOOL_ERROR\",\"message\":\"tool exited "
               "with 127: msp-executor: tool unknown (404 TOOL_NOT_FOUND): "
               "{\\\"error\\\":{\\\"code\\\":\\\"TOOL_NOT_FOUND\\\"}}\"}}\n");
    hx_spawned_free(&r);
    expect_usage(RUN("--tool", "t", "--json", "--command-result"),
                 "--json and --command-result exclude each other");
}

Test(cli, params_that_are_not_an_object_are_a_usage_error)
{
    static const char *const bad[] = {"{bad", "[1]", "1", "null", "{} x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_usage(RUN("--tool", "t", "--params", bad[i]),
                     "--params must be a JSON object");
    cr_expect_eq(ts_request_count(srv), 0, "nothing was sent");
}

/* A key pasted in the wrong place never reaches the terminal. */
Test(cli, no_usage_error_echoes_an_argument_that_could_be_a_key)
{
    static const char *const lines[][4] = {
        {"--tool", "t", "sk-live-SECRET-4242", NULL},
        {"--tool", "t", "--auth-mode", "sk-live-SECRET-4242"},
        {"--tool", "t", "--timeout-ms", "sk-live-SECRET-4242"},
        {"--tool", "t", "--deadline-ms", "sk-live-SECRET-4242"},
        {"--tool", "t", "--apikey=sk-live-SECRET-4242", NULL},
        {"--tool", "t", "--api-key", "sk-live-SECRET-4242"},
        {"--tool", "t", "--params", "sk-live-SECRET-4242"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        hx_spawned r =
            run_env(default_env(), NULL,
                    (const char *const[]){lines[i][0], lines[i][1], lines[i][2],
                                          lines[i][3], NULL});
        cr_expect_eq(r.status, 64, "line %zu: %s", i, r.err);
        cr_expect(strstr(r.err, "SECRET") == NULL, "line %zu: %s", i, r.err);
        cr_expect(strstr(r.out, "SECRET") == NULL, "line %zu: %s", i, r.out);
        hx_spawned_free(&r);
    }
}

/* A 3-byte key would turn every "abc" of a tool's output into a mask: it
 * is refused before anything is sent, and not echoed. */
Test(cli, a_key_too_short_to_redact_safely_is_refused)
{
    const char *env[] = {url_env, "BSM_MSP_API_KEY=abc", "BSM_MSP_TENANT_ID=t",
                         NULL};
    ts_push_response(srv, 200, "{\"exit_code\":0,\"stdout\":\"abc abc\"}");
    hx_spawned r =
        run_env(env, NULL, (const char *const[]){"--tool", "t", NULL});
    cr_expect_eq(r.status, 64, "%s", r.err);
    cr_expect(strstr(r.err, "abc") == NULL, "%s", r.err);
    cr_expect_eq(ts_request_count(srv), 0, "nothing was sent");
    hx_spawned_free(&r);
}

/* ---- the key in every spelling a server can echo it ------------------ */

#define ODD_KEY "sk-a/b\"c\\d-4242"

/* 1 when needle occurs in hay[0..n). */
static int holds(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

/* Runs msp-exec with ODD_KEY against a reply of status and body, with the
 * extra flag (or NULL), and checks no spelling of the key got out. */
static void expect_no_key(int status, const char *body, const char *flag)
{
    static const char *const spellings[] = {ODD_KEY, "a/b",     "a\\/b",
                                            "4242",  "\\u0034", "\\u0061"};
    const char *env[] = {url_env, "BSM_MSP_API_KEY=" ODD_KEY,
                         "BSM_MSP_TENANT_ID=t", NULL};
    ts_push_response(srv, status, body);
    /* a fixed command id: a random one could hold "4242" */
    hx_spawned r = run_env(env, NULL,
                           (const char *const[]){"--tool", "t", "--command-id",
                                                 "cmd-1", flag, NULL});
    for (size_t i = 0; i < sizeof spellings / sizeof spellings[0]; i++) {
        cr_expect(!holds(r.out, r.out_len, spellings[i]), "stdout holds %s: %s",
                  spellings[i], r.out);
        cr_expect(!holds(r.err, r.err_len, spellings[i]), "stderr holds %s: %s",
                  spellings[i], r.err);
    }
    cr_expect(memchr(r.out, '*', r.out_len) || memchr(r.err, '*', r.err_len),
              "the key was starred out: %s | %s", r.out, r.err);
    hx_spawned_free(&r);
}

Test(cli, the_key_never_leaves_in_any_spelling_or_row)
{
    static const char *const flags[] = {NULL, "--json", "-v"};
    /* JSON escapes: minimal, every char \u-escaped in mixed-case hex, \/ */
    static const char *const in_json[] = {
        "\"sk-a/b\\\"c\\\\d-4242\"",
        ("\"\\u0073\\u006B\\u002d\\u0061\\u002F\\u0062\\u0022\\u0063\\u005C"
         "\\u0064\\u002d\\u0034\\u0032\\u0034\\u0032\""),
        "\"sk-a\\/b\\u0022c\\u005cd-4242\"",
    };
    for (size_t f = 0; f < 3; f++) {
        for (size_t i = 0; i < 3; i++) {
            char body[512];
            /* row 6: stdout and stderr */
            snprintf(body, sizeof body,
                     "{\"exit_code\":0,\"stdout\":%s,\"stderr\":%s}",
                     in_json[i], in_json[i]);
            expect_no_key(200, body, flags[f]);
            /* row 8: the JSON as written */
            snprintf(body, sizeof body, "{\"echo\":%s}", in_json[i]);
            expect_no_key(200, body, flags[f]);
            /* row 13: the raw body in stderr (and the -v line) */
            expect_no_key(500, body, flags[f]);
            /* row 11: the error message */
            snprintf(body, sizeof body,
                     "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":%s}}",
                     in_json[i]);
            expect_no_key(401, body, flags[f]);
        }
        /* row 9: the raw body */
        expect_no_key(200, "not json: " ODD_KEY, flags[f]);
    }
}

/* ---- bounded memory -------------------------------------------------- */

/* Peak RSS is the real program's figure: meaningless (and slow) under a
 * sanitizer's shadow memory or valgrind (a scaled timeout). */
#if defined(__SANITIZE_ADDRESS__) || MSP_TEST_TIMEOUT_SCALE > 1
#define RSS_MEASURABLE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEASURABLE 0
#else
#define RSS_MEASURABLE 1
#endif
#else
#define RSS_MEASURABLE 1
#endif

/* Peak RSS of msp-exec given a 16 MiB JSON array (the cap, exactly) as a
 * reply with this status; the test process's only waited-for child is
 * msp-exec, so RUSAGE_CHILDREN's ru_maxrss is its peak. */
static long peak_rss_kib(int status, int *exit_status)
{
    size_t n = MSP_RESPONSE_CAP; /* "[0,0,...,0]" */
    char head[160];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      status, n);
    char *reply = malloc((size_t)hn + n);
    cr_assert_not_null(reply);
    memcpy(reply, head, (size_t)hn);
    char *b = reply + hn;
    b[0] = '[';
    for (size_t i = 1; i < n - 1; i += 2) {
        b[i] = '0';
        b[i + 1] = ',';
    }
    b[n - 2] = '0';
    b[n - 1] = ']';
    ts_action a = {TS_REPLY, reply, (size_t)hn + n, 0};
    ts_push(srv, a);
    free(reply);
    hx_spawned r = RUN("--tool", "t");
    *exit_status = r.status;
    cr_expect_eq(
        r.status == 0 ? r.out_len : r.err_len,
        r.status == 0 ? n : n + strlen("msp-executor: server error (500): "),
        "the whole array came out");
    hx_spawned_free(&r);
    struct rusage ru;
    cr_assert_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
    return ru.ru_maxrss;
}

static void expect_peak_under_64_mb(int status, int want_exit)
{
    int st;
    long kib = peak_rss_kib(status, &st);
    cr_expect_eq(st, want_exit);
    cr_expect_lt(kib, 64 * 1024, "peak RSS %ld KiB", kib);
    printf("msp-exec peak RSS, 16 MiB array on a %d: %ld KiB\n", status, kib);
}

Test(cli, a_16_mib_array_on_a_200_stays_under_64_mb,
     .disabled = !RSS_MEASURABLE)
{
    expect_peak_under_64_mb(200, 0);
}

Test(cli, a_16_mib_array_on_a_500_stays_under_64_mb,
     .disabled = !RSS_MEASURABLE)
{
    expect_peak_under_64_mb(500, 125);
}

/* One version macro for the three programs of the kit. */
Test(cli, every_program_prints_the_one_version)
{
    static const char *const programs[] = {"msp-exec", "fake-msp",
                                           "msp-contract"};
    const char *bin = getenv("MSP_BIN_DIR");
    for (size_t i = 0; i < 3; i++) {
        char path[600], want[64];
        snprintf(path, sizeof path, "%s/%s", bin, programs[i]);
        snprintf(want, sizeof want, "%s " MSP_EXECUTOR_VERSION "\n",
                 programs[i]);
        const char *argv[] = {path, "--version", NULL};
        static const char *const no_env[] = {NULL};
        hx_spawn_opts o = {.envp = no_env, .timeout_ms = 10000};
        hx_spawned r;
        cr_assert_eq(hx_spawn_run(argv, &o, &r, NULL, 0), 0);
        cr_expect_eq(r.status, 0, "%s", programs[i]);
        cr_expect_str_eq(r.out, want);
        hx_spawned_free(&r);
        /* and each --help documents it */
        const char *help[] = {path, "--help", NULL};
        cr_assert_eq(hx_spawn_run(help, &o, &r, NULL, 0), 0);
        cr_expect(strstr(r.out, "--version") != NULL, "%s --help", programs[i]);
        hx_spawned_free(&r);
    }
}
