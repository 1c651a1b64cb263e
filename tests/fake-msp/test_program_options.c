/* The fake-msp program's options (fake-msp/src/main.c): every value that
 * is out of range exits 64 naming the option it was given to; options that
 * need another one say which; the admin token file's failures say why
 * without echoing the file; and the options that are accepted take effect
 * in the server that starts (build/bin/fake-msp on port 0, spawned with
 * hx_spawn; upstreams are test servers on port 0). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fm_testkit.h"
#include "hx_spawn.h"
#include "test_server.h"
#include "test_timeout.h"

TestSuite(program_options, .timeout = TEST_TIMEOUT(60));

static const char *program(void)
{
    static char path[1024];
    const char *dir = getenv("MSP_BIN_DIR");

    cr_assert_not_null(dir, "MSP_BIN_DIR unset (run through ctest)");
    snprintf(path, sizeof path, "%s/fake-msp", dir);
    return path;
}

/* Runs the program to its end: its exit status, its stderr in err (without
 * valgrind's own "==" lines, which echo argv). */
static int run(const char *const *args, char *err, size_t cap)
{
    const char *argv[32];
    hx_spawn_opts o = {0};
    hx_spawned r;
    char why[256];
    const char *line, *nl;
    size_t n = 0, used = 0;
    int status;

    argv[n++] = program();
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    o.err_cap = 64 * 1024;
    o.out_cap = 64 * 1024;
    o.timeout_ms = 30000L * MSP_TEST_TIMEOUT_SCALE;
    cr_assert_eq(hx_spawn_run(argv, &o, &r, why, sizeof why), 0, "%s", why);
    for (line = r.err; line && *line; line = nl ? nl + 1 : "") {
        size_t k;
        nl = strchr(line, '\n');
        k = nl ? (size_t)(nl + 1 - line) : strlen(line);
        if (strncmp(line, "==", 2) == 0)
            continue;
        if (k > cap - 1 - used)
            k = cap - 1 - used;
        memcpy(err + used, line, k);
        used += k;
    }
    err[used] = '\0';
    cr_assert(r.exited && !r.timed_out, "%s did not exit", argv[1]);
    status = r.status;
    hx_spawned_free(&r);
    return status;
}

Test(program_options, each_value_out_of_range_exits_64_naming_its_option)
{
    static const char *const cases[][3] = {
        /* option, value, what stderr says */
        {"--max-connections", "0", "--max-connections wants 1..1000000"},
        {"--max-connections-per-ip", "1000001",
         "--max-connections-per-ip wants 1..1000000"},
        {"--request-budget-ms", "0", "--request-budget-ms wants 1..86400000"},
        {"--fixture-budget", "1023", "--fixture-budget wants 1024.."},
        {"--idem-max-bytes", "x", "--idem-max-bytes wants 1024.."},
        {"--journal-max-bytes", "2199023255552",
         "--journal-max-bytes wants 1024.."},
        {"--max-fixtures", "0", "--max-fixtures wants 1..10000000"},
        {"--max-headers", "0", "--max-headers wants 1.."},
        {"--upstream-timeout", "3600001",
         "--upstream-timeout wants 1..3600000"},
        {"--proxy-queue", "0", "--proxy-queue wants 1..100000"},
        {"--rate-limit", "-5", "--rate-limit wants a positive integer"},
        {"--max-body", "1073741825", "--max-body wants 1..1073741824"},
        {"--journal-max", "10000001", "--journal-max wants 1..10000000"},
        {"--idem-capacity", "1e3", "--idem-capacity wants 1..10000000"},
        {"--idem-ttl-ms", "", "--idem-ttl-ms wants a positive integer"},
        {"--seed", "18446744073709551616", "--seed wants an unsigned integer"},
        {"--port", "65536", "--port wants 0..65535"},
    };
    char err[4096];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = {cases[i][0], cases[i][1], NULL};
        cr_expect_eq(run(args, err, sizeof err), 64, "%s %s: %s", cases[i][0],
                     cases[i][1], err);
        cr_expect(strstr(err, cases[i][2]) != NULL, "%s %s: %s", cases[i][0],
                  cases[i][1], err);
    }
}

Test(program_options, an_option_that_needs_another_exits_64_naming_both)
{
    static const char *const cases[][6] = {
        {"--record", "/tmp", NULL, NULL, NULL,
         "--record and --ca-file need --proxy URL"},
        {"--ca-file", "/dev/null", NULL, NULL, NULL,
         "--record and --ca-file need --proxy URL"},
        {"--upstream-timeout", "100", NULL, NULL, NULL,
         "--upstream-timeout and --proxy-queue need --proxy URL"},
        {"--proxy-queue", "4", NULL, NULL, NULL,
         "--upstream-timeout and --proxy-queue need --proxy URL"},
        {"--proxy", "http://127.0.0.1:9/", "--redact", "request.params.x", NULL,
         "--redact needs --record DIR"},
        {"--tls-key", "k.pem", NULL, NULL, NULL,
         "--tls-cert and --tls-key go together"},
        {"--proxy", NULL, NULL, NULL, NULL, "--proxy needs a value"},
    };
    char err[4096];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[] = {cases[i][0], cases[i][1], cases[i][2],
                              cases[i][3], NULL};
        cr_expect_eq(run(args, err, sizeof err), 64, "case %zu: %s", i, err);
        cr_expect(strstr(err, cases[i][5]) != NULL, "case %zu: %s", i, err);
    }
}

Test(program_options, an_admin_token_file_that_cannot_serve_exits_64_saying_why)
{
    char dir[] = "/tmp/fm-opt-XXXXXX", missing[128], empty[128], big[128],
         err[4096];
    char token[700];
    FILE *f;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(missing, sizeof missing, "%s/none", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    snprintf(big, sizeof big, "%s/big", dir);
    f = fopen(empty, "w");
    cr_assert_not_null(f);
    fputs("\n", f);
    fclose(f);
    memset(token, 'T', sizeof token - 1);
    memcpy(token, "TOKSECRET", 9);
    token[sizeof token - 1] = '\0';
    f = fopen(big, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n", token);
    fclose(f);
    {
        const char *args[] = {"--admin-token-file", missing, NULL};
        cr_expect_eq(run(args, err, sizeof err), 64, "%s", err);
        cr_expect(strstr(err, "--admin-token-file: cannot read") != NULL, "%s",
                  err);
    }
    {
        const char *args[] = {"--admin-token-file", empty, NULL};
        cr_expect_eq(run(args, err, sizeof err), 64, "%s", err);
        cr_expect(strstr(err, "has no token on its first line") != NULL, "%s",
                  err);
    }
    {
        const char *args[] = {"--admin-token-file", big, NULL};
        cr_expect_eq(run(args, err, sizeof err), 64, "%s", err);
        cr_expect(strstr(err, "is over 511 bytes") != NULL, "%s", err);
        cr_expect_null(strstr(err, "TOKSECRET"), "the token was echoed: %s",
                       err);
    }
    unlink(empty);
    unlink(big);
    rmdir(dir);
}

Test(program_options, a_proxy_url_without_a_scheme_fails_to_start_saying_so)
{
    const char *args[] = {"--port", "0", "--proxy", "user:pw@upstream.example",
                          NULL};
    char err[4096];

    cr_expect_eq(run(args, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(err, "--proxy wants an http:// or https:// URL") != NULL,
              "%s", err);
    cr_expect_null(strstr(err, "pw@"), "%s", err);
}

/* ---- options that are taken ------------------------------------------- */

typedef struct server {
    hx_proc p;
    FILE *out;
    unsigned port;
} server;

/* Starts the program with args (plus --port 0 -q) and reads its ready
 * line. */
static server serve(const char *const *args)
{
    const char *argv[48];
    hx_spawn_opts o = {0};
    server s;
    char why[256], line[256];
    size_t n = 0;

    argv[n++] = program();
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "-q";
    for (; *args && n < 47; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    o.stderr_to = HX_STDERR_DISCARD;
    cr_assert_eq(hx_spawn_start(argv, &o, &s.p, why, sizeof why), 0, "%s", why);
    s.out = fdopen(s.p.out_fd, "r");
    cr_assert_not_null(s.out);
    cr_assert_not_null(fgets(line, sizeof line, s.out), "no ready line");
    cr_assert_eq(
        sscanf(line, "fake-msp listening on http://127.0.0.1:%u", &s.port), 1,
        "%s", line);
    return s;
}

static void stop(server *s)
{
    int st;

    fclose(s->out); /* its fd is p.out_fd: not closed twice */
    s->p.out_fd = -1;
    st = hx_proc_stop(&s->p, 10000L * MSP_TEST_TIMEOUT_SCALE);
    cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d", st);
}

static const char *url(const server *s, const char *path)
{
    static char u[4][256];
    static int i;
    char *p = u[i++ % 4];

    snprintf(p, 256, "http://127.0.0.1:%u%s", s->port, path);
    return p;
}

Test(program_options, bundled_serves_the_fixtures_shipped_with_the_kit)
{
    const char *args[] = {"--bundled", NULL};
    const char *h[] = {"Authorization: Bearer sk-wrong-0000",
                       "X-Brainstorm-Command-Id: "
                       "1c4791ee-3406-44c6-b2a5-d2231ce16349",
                       "Idempotency-Key: 1c4791ee-3406-44c6-b2a5-d2231ce16349",
                       "X-Correlation-Id: corr-1c4791ee",
                       "Content-Type: application/json",
                       NULL};
    const char *body =
        "{\"tool\":\"msp.list_devices\",\"params\":{},\"simulate\":false}";
    server s = serve(args);
    http_res r;

    /* the bundled auth-401 fixture's reply, trace id and all */
    tk_http("POST", url(&s, "/api/v1/god-mode/execute"), h, body, strlen(body),
            0, &r);
    cr_expect_eq(r.status, 401, "%s", r.body);
    cr_expect(strstr(r.body, "trace-1c4791ee-3406-44c6-b2a5-d2231ce16349") !=
                  NULL,
              "%s", r.body);
    tk_free(&r);
    stop(&s);
}

Test(program_options, an_admin_token_given_inline_guards_the_admin_api)
{
    const char *args[] = {"--admin-token", "adm-inline-77", NULL};
    const char *good[] = {"Authorization: Bearer adm-inline-77", NULL};
    const char *bad[] = {"Authorization: Bearer adm-inline-78", NULL};
    server s = serve(args);
    http_res r;

    tk_http("DELETE", url(&s, "/__admin/requests"), bad, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 401, "%s", r.body);
    tk_free(&r);
    tk_http("GET", url(&s, "/__admin/requests"), good, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    stop(&s);
}

/* The proxy and limit options together: the server starts, forwards to the
 * upstream, applies --max-headers before forwarding, and has no admin API
 * (--no-admin). */
Test(program_options, proxy_limit_and_budget_options_take_effect)
{
    char dir[] = "/tmp/fm-opt-rec-XXXXXX", upstream[64];
    ts_server *up = ts_start();
    const char *args[] = {"--proxy",
                          upstream,
                          "--record",
                          dir,
                          "--redact",
                          "request.params.secret",
                          "--upstream-timeout",
                          "20000",
                          "--proxy-queue",
                          "8",
                          "--ca-file",
                          "/dev/null",
                          "--max-connections",
                          "64",
                          "--max-connections-per-ip",
                          "32",
                          "--request-budget-ms",
                          "20000",
                          "--fixture-budget",
                          "1048576",
                          "--idem-max-bytes",
                          "1048576",
                          "--journal-max-bytes",
                          "1048576",
                          "--max-fixtures",
                          "100",
                          "--max-headers",
                          "40",
                          "--no-admin",
                          NULL};
    const char *many[64];
    char names[50][32];
    server s;
    http_res r;
    size_t i;

    cr_assert_not_null(up);
    cr_assert_not_null(mkdtemp(dir));
    snprintf(upstream, sizeof upstream, "%s/", ts_url(up));
    s = serve(args);
    tk_http("GET", url(&s, "/health"), NULL, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200, "%s %s", r.err, r.body);
    tk_free(&r);
    cr_expect_eq(ts_request_count(up), 1, "forwarded to the upstream");
    for (i = 0; i < 50; i++) {
        snprintf(names[i], sizeof names[i], "X-Extra-%zu: v", i);
        many[i] = names[i];
    }
    many[50] = NULL;
    tk_http("GET", url(&s, "/health"), many, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 431, "%s", r.body);
    tk_free(&r);
    cr_expect_eq(ts_request_count(up), 1, "--max-headers applies first");
    tk_http("GET", url(&s, "/__admin/requests"), NULL, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 404, "%s", r.body);
    tk_free(&r);
    stop(&s);
    ts_stop(up);
    rmdir(dir);
}
