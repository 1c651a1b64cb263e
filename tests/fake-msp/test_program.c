/* The fake-msp program: ready line, port file, a request, SIGTERM, --help,
 * bad flags. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fm_testkit.h"
#include "hx_spawn.h"

static const char *program(void)
{
    static char path[1024];
    const char *dir = getenv("MSP_BIN_DIR");

    cr_assert_not_null(dir, "MSP_BIN_DIR unset (run through ctest)");
    snprintf(path, sizeof path, "%s/fake-msp", dir);
    return path;
}

typedef struct child {
    pid_t pid;
    FILE *out; /* its stdout */
} child;

/* Starts the program with the project's one spawner; its stdout is read
 * line by line while it runs, its stderr discarded or the caller's. */
static child spawn(char *const argv[], int devnull_err)
{
    hx_spawn_opts o = {0};
    hx_proc p;
    char why[256];
    child c;

    o.stderr_to = devnull_err ? HX_STDERR_DISCARD : HX_STDERR_INHERIT;
    cr_assert_eq(
        hx_spawn_start((const char *const *)argv, &o, &p, why, sizeof why), 0,
        "%s", why);
    c.pid = p.pid;
    c.out = fdopen(p.out_fd, "r");
    cr_assert_not_null(c.out);
    return c;
}

static int wait_exit(pid_t pid)
{
    int st;

    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st), "did not exit normally");
    return WEXITSTATUS(st);
}

Test(program, serves_until_sigterm_then_exits_zero, .timeout = TEST_TIMEOUT(20))
{
    char dir[] = "/tmp/fm-prog-XXXXXX", port_file[128], line[256], url[128],
         pbuf[16];
    char *argv[] = {(char *)program(), "--port",  "0",
                    "--port-file",     port_file, "-q",
                    "--seed",          "5",       NULL};
    unsigned port = 0;
    child c;
    FILE *pf;
    http_res r;
    long long t0;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    c = spawn(argv, 1);
    cr_assert_not_null(fgets(line, sizeof line, c.out), "no ready line");
    cr_assert_eq(
        sscanf(line, "fake-msp listening on http://127.0.0.1:%u\n", &port), 1,
        "%s", line);
    pf = fopen(port_file, "r");
    cr_assert_not_null(pf, "the port file is written before the ready line");
    cr_assert_not_null(fgets(pbuf, sizeof pbuf, pf));
    fclose(pf);
    cr_assert_eq((unsigned)atoi(pbuf), port);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/health", port);
    tk_http("GET", url, NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    t0 = tk_now_ms();
    kill(c.pid, SIGTERM);
    cr_assert_eq(wait_exit(c.pid), 0);
    /* a SIGTERM noticed only when something else wakes the server (a
     * request, the 60 s idle timeout), or never (the hang guard) */
    cr_assert_lt(tk_now_ms() - t0, test_ms(10000));
    fclose(c.out);
    unlink(port_file);
    rmdir(dir);
}

Test(program, logs_requests_to_stderr_with_the_key_masked,
     .timeout = TEST_TIMEOUT(20))
{
    char *argv[] = {(char *)program(),        "--port", "0", "--key",
                    "sk-secret-two=tenant-x", NULL};
    char line[256], url[128];
    unsigned port;
    http_res r;
    hx_spawn_opts o = {0};
    hx_proc p;
    FILE *out, *err;
    char all[4096] = "", why[256];
    int st;

    /* stdout (the ready line) and stderr (the log) both captured */
    cr_assert_eq(
        hx_spawn_start((const char *const *)argv, &o, &p, why, sizeof why), 0,
        "%s", why);
    out = fdopen(p.out_fd, "r");
    err = fdopen(p.err_fd, "r");
    cr_assert(out && err);
    cr_assert_not_null(fgets(line, sizeof line, out), "no ready line");
    cr_assert_eq(
        sscanf(line, "fake-msp listening on http://127.0.0.1:%u", &port), 1);
    {
        const char *h[] = {"Authorization: Bearer sk-secret-two", NULL};
        snprintf(url, sizeof url, "http://127.0.0.1:%u/health", port);
        tk_http("GET", url, h, NULL, 0, 0, &r);
        tk_free(&r);
    }
    kill(p.pid, SIGINT);
    while (fgets(line, sizeof line, err))
        if (strncmp(line, "==", 2) != 0) /* not valgrind's (they echo argv) */
            strncat(all, line, sizeof all - strlen(all) - 1);
    fclose(err);
    fclose(out);
    cr_assert_eq(waitpid(p.pid, &st, 0), p.pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", all);
    cr_assert(strstr(all, "fake-msp: seed "), "%s", all);
    cr_assert(strstr(all, "GET /health 200 auth=Bearer sk-\xe2\x80\xa6(13)"),
              "%s", all);
    cr_assert_null(strstr(all, "sk-secret-two"), "%s", all);
}

Test(program, help_prints_usage_and_exits_zero, .timeout = TEST_TIMEOUT(10))
{
    char *argv[] = {(char *)program(), "--help", NULL};
    char line[256];
    int saw_usage = 0, saw_strict = 0;
    child c = spawn(argv, 1);

    while (fgets(line, sizeof line, c.out)) {
        saw_usage |= strncmp(line, "Usage: fake-msp", 15) == 0;
        saw_strict |= strstr(line, "--strict") != NULL;
    }
    fclose(c.out);
    cr_assert_eq(wait_exit(c.pid), 0);
    cr_assert(saw_usage && saw_strict);
}

Test(program, bad_flags_exit_64,
     .timeout = TEST_TIMEOUT(60)) /* 13 runs: slow under valgrind */
{
    static const char *cases[][3] = {
        {"--bogus", NULL, NULL},      {"--port", "70000", NULL},
        {"--port", "x", NULL},        {"--rate-limit", "0", NULL},
        {"--max-body", "-1", NULL},   {"--journal-max", "0", NULL},
        {"--key", "nokey", NULL},     {"--tls-cert", "a.pem", NULL},
        {"--seed", "x", NULL},        {"--idem-capacity", "0", NULL},
        {"--idem-ttl-ms", "0", NULL}, {"extra", NULL, NULL},
        {"--port", NULL, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {(char *)program(), (char *)cases[i][0],
                        (char *)cases[i][1], NULL};
        child c = spawn(argv, 1);
        fclose(c.out);
        cr_assert_eq(wait_exit(c.pid), 64, "case %zu (%s)", i, cases[i][0]);
    }
}

Test(program, too_many_keys_is_refused_without_echoing_a_key,
     .timeout = TEST_TIMEOUT(10))
{
    static char line[32768]; /* valgrind echoes the whole command line */
    char cmd[16384], out[] = "/tmp/fm-keys-XXXXXX", text[512];
    size_t n, i;
    FILE *f;
    int fd = mkstemp(out);

    cr_assert_geq(fd, 0);
    close(fd);
    n = (size_t)snprintf(cmd, sizeof cmd, "'%s'", program());
    for (i = 0; i <= 256; i++) /* the 257th is one too many */
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, " --key=sk-secret-%zu=t",
                              i);
    snprintf(cmd + n, sizeof cmd - n, " >/dev/null 2>%s", out);
    cr_assert_lt(n, sizeof cmd - 100);
    cr_assert_eq(WEXITSTATUS(system(cmd)), 64);
    f = fopen(out, "r");
    cr_assert_not_null(f);
    text[0] = '\0';
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "==", 2) !=
            0) /* not valgrind's own lines (they echo argv) */
            strncat(text, line, sizeof text - strlen(text) - 1);
    fclose(f);
    unlink(out);
    cr_assert(strstr(text, "too many --key options"), "%s", text);
    cr_assert_null(strstr(text, "sk-secret"), "%s", text);
}

Test(program, a_start_failure_exits_one, .timeout = TEST_TIMEOUT(10))
{
    char *argv[] = {(char *)program(),     "--port", "0", "--fixture",
                    "/nonexistent/x.json", NULL};
    child c = spawn(argv, 1);
    char line[256];

    cr_assert_null(fgets(line, sizeof line, c.out), "no ready line on failure");
    fclose(c.out);
    cr_assert_eq(wait_exit(c.pid), 1);
}

Test(program, all_value_flags_are_accepted, .timeout = TEST_TIMEOUT(20))
{
    char dir[] = "/tmp/fm-flags-XXXXXX";
    char *argv[] = {(char *)program(),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--contracts",
                    dir,
                    "--tenant",
                    "tenant-x",
                    "--strict",
                    "--rate-limit",
                    "100",
                    "--max-body",
                    "2048",
                    "--journal-max",
                    "10",
                    "--idem-capacity",
                    "10",
                    "--idem-ttl-ms",
                    "1000",
                    "--seed",
                    "9",
                    "--key",
                    "k=tenant-x",
                    "-q",
                    NULL};
    char line[256];
    child c;

    cr_assert_not_null(mkdtemp(dir));
    c = spawn(argv, 1);
    cr_assert_not_null(fgets(line, sizeof line, c.out));
    cr_assert(strncmp(line, "fake-msp listening on http://127.0.0.1:", 39) == 0,
              "%s", line);
    kill(c.pid, SIGTERM);
    cr_assert_eq(wait_exit(c.pid), 0);
    fclose(c.out);
    rmdir(dir);
}

Test(program, sigterm_stops_promptly_while_a_client_hangs,
     .timeout = TEST_TIMEOUT(20))
{
    char dir[] = "/tmp/fm-hang-XXXXXX", file[128], line[256], url[128];
    char *argv[] = {
        (char *)program(), "--port", "0", "--fixture", file, "-q", NULL};
    static const char req[] =
        "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
        "X-Brainstorm-Command-Id: hang-1\r\nContent-Length: 2\r\n\r\n{}";
    long long deadline, t0;
    unsigned port;
    child c;
    FILE *f;
    int fd;
    http_res r;
    struct sockaddr_in a;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/hang.json", dir);
    f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs(tk_fixture_json(
              "hang", "hang-1",
              "\"response\":{\"status\":200,\"fault\":{\"kind\":\"hang\"}}"),
          f);
    fclose(f);
    c = spawn(argv, 1);
    cr_assert_not_null(fgets(line, sizeof line, c.out));
    cr_assert_eq(
        sscanf(line, "fake-msp listening on http://127.0.0.1:%u", &port), 1,
        "%s", line);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    /* the entry is journalled once the hang has begun */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/__admin/requests", port);
    deadline = tk_now_ms() + test_ms(8000);
    for (;;) {
        int seen;
        tk_http("GET", url, NULL, NULL, 0, 0, &r);
        seen = strstr(r.body, "hang-1") != NULL;
        tk_free(&r);
        if (seen)
            break;
        cr_assert_lt(tk_now_ms(), deadline, "the request never arrived");
    }
    t0 = tk_now_ms();
    kill(c.pid, SIGTERM);
    cr_assert_eq(wait_exit(c.pid), 0);
    /* a stop that waits for the hanging reply waits for the client (never
     * here) or the 30 s request budget */
    cr_assert_lt(tk_now_ms() - t0, test_ms(10000));
    close(fd);
    fclose(c.out);
    unlink(file);
    rmdir(dir);
}

/* Runs the program to its end; returns its exit status and its stderr (not
 * valgrind's own lines, which echo argv) in err. */
static int run_stderr(char *const argv[], char *err, size_t cap)
{
    hx_spawn_opts o = {0};
    hx_spawned r;
    char why[256];
    const char *line, *nl;

    o.err_cap = 64 * 1024;
    o.timeout_ms = test_ms(30000);
    cr_assert_eq(
        hx_spawn_run((const char *const *)argv, &o, &r, why, sizeof why), 0,
        "%s", why);
    size_t used = 0;
    for (line = r.err; line && *line; line = nl ? nl + 1 : "") {
        size_t n;
        nl = strchr(line, '\n');
        n = nl ? (size_t)(nl + 1 - line) : strlen(line);
        if (strncmp(line, "==", 2) == 0) /* valgrind's own lines */
            continue;
        if (n > cap - 1 - used)
            n = cap - 1 - used;
        memcpy(err + used, line, n);
        used += n;
    }
    err[used] = '\0';
    cr_assert(r.exited && !r.timed_out);
    int status = r.status;
    hx_spawned_free(&r);
    return status;
}

Test(program, usage_errors_never_echo_what_could_be_a_key,
     .timeout = TEST_TIMEOUT(30))
{
    static const char *cases[][3] = {
        {"--kye=SECRET-1=t", NULL, NULL}, {"--key", "SECRET-2=t:admin", NULL},
        {"SECRET-3", NULL, NULL},         {"--key", "SECRET-4", NULL},
        {"--key=SECRET-5=", NULL, NULL},  {"--admin-token", "", NULL},
    };
    char err[4096];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {(char *)program(), (char *)cases[i][0],
                        (char *)cases[i][1], NULL};
        cr_expect_eq(run_stderr(argv, err, sizeof err), 64, "case %zu: %s", i,
                     err);
        cr_expect_null(strstr(err, "SECRET"), "case %zu: %s", i, err);
        cr_expect(strstr(err, "fake-msp: ") != NULL, "case %zu: %s", i, err);
    }
}

/* " -5" was read by strtoull as 2^64 - 5 and taken as a seed. */
Test(program, a_negative_number_is_refused_in_every_spelling,
     .timeout = TEST_TIMEOUT(30))
{
    static const char *cases[][2] = {{"--seed", " -5"},
                                     {"--seed", "-0"},
                                     {"--port", " -1"},
                                     {"--max-body", "\t-1"}};
    char err[4096];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {(char *)program(), (char *)cases[i][0],
                        (char *)cases[i][1], NULL};
        cr_expect_eq(run_stderr(argv, err, sizeof err), 64, "case %zu: %s", i,
                     err);
        cr_expect(strstr(err, " wants ") != NULL, "case %zu: %s", i, err);
    }
}

Test(program, a_busy_port_says_why, .timeout = TEST_TIMEOUT(20))
{
    char *argv[] = {(char *)program(), "--port", "0", "-q", NULL};
    char port[16], err[4096], line[256];
    char *argv2[] = {(char *)program(), "--port", port, "-q", NULL};
    child c = spawn(argv, 1);
    unsigned p;

    cr_assert_not_null(fgets(line, sizeof line, c.out));
    cr_assert_eq(sscanf(line, "fake-msp listening on http://127.0.0.1:%u", &p),
                 1);
    snprintf(port, sizeof port, "%u", p);
    cr_expect_eq(run_stderr(argv2, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(err, "cannot listen on 127.0.0.1:") != NULL, "%s", err);
    cr_expect(strstr(err, ": Address already in use") != NULL, "%s", err);
    kill(c.pid, SIGTERM);
    cr_assert_eq(wait_exit(c.pid), 0);
    fclose(c.out);
}

Test(program, a_non_loopback_address_needs_an_admin_token,
     .timeout = TEST_TIMEOUT(10))
{
    char *argv[] = {(char *)program(), "--host", "0.0.0.0",
                    "--port",          "0",      NULL};
    char err[4096];

    cr_expect_eq(run_stderr(argv, err, sizeof err), 1, "%s", err);
    cr_expect(strstr(err, "admin token") != NULL, "%s", err);
}

Test(program, the_admin_token_file_guards_the_admin_api,
     .timeout = TEST_TIMEOUT(20))
{
    char file[] = "/tmp/fm-token-XXXXXX", line[256], url[128];
    char *argv[] = {(char *)program(),
                    "--port",
                    "0",
                    "--admin-token-file",
                    file,
                    "-q",
                    NULL};
    const char *good[] = {"Authorization: Bearer adm-tok-123", NULL};
    int fd = mkstemp(file);
    unsigned port;
    child c;
    http_res r;

    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "adm-tok-123\n", 12), 12);
    close(fd);
    c = spawn(argv, 1);
    cr_assert_not_null(fgets(line, sizeof line, c.out));
    cr_assert_eq(
        sscanf(line, "fake-msp listening on http://127.0.0.1:%u", &port), 1);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/__admin/requests", port);
    tk_http("GET", url, NULL, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 401);
    tk_free(&r);
    tk_http("GET", url, good, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200);
    tk_free(&r);
    kill(c.pid, SIGTERM);
    cr_assert_eq(wait_exit(c.pid), 0);
    fclose(c.out);
    unlink(file);
}

Test(program, sigterm_stops_promptly_under_a_backtracking_regex_load,
     .timeout = TEST_TIMEOUT(30))
{
    char dir[] = "/tmp/fm-re-XXXXXX", file[128], line[256], req[1024];
    char probe[421];
    char *argv[] = {
        (char *)program(), "--port", "0", "--fixture", file, "-q", NULL};
    int fds[16], i, n;
    unsigned port;
    child c;
    FILE *f;
    long long t0;
    struct sockaddr_in a;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/evil.json", dir);
    f = fopen(file, "w");
    cr_assert_not_null(f);
    fputs("{\"name\":\"evil\",\"description\":\"d\",\"exit_row\":6,"
          "\"context\":{\"command_id\":\"e-1\",\"tool\":\"msp.list_devices\","
          "\"params\":{},\"deadline_ms\":30000},\"request\":{\"method\":"
          "\"POST\",\"path\":\"/api/v1/god-mode/execute\",\"headers\":{"
          "\"X-Probe\":{\"regex\":\"(a|aa)*\\\\1c\"}}},\"response\":{},"
          "\"expect\":{\"exit_code\":0}}",
          f);
    fclose(f);
    c = spawn(argv, 1);
    cr_assert_not_null(fgets(line, sizeof line, c.out));
    cr_assert_eq(
        sscanf(line, "fake-msp listening on http://127.0.0.1:%u", &port), 1);
    /* 418 a's then "bc": a 'c' to look for, so PCRE2 backtracks into its
     * match limit (tests/fake-msp/test_hardening.c shows the same probe is
     * matched and journalled as a limit hit) */
    memset(probe, 'a', 418);
    memcpy(probe + 418, "bc", 3);
    n = snprintf(req, sizeof req,
                 "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
                 "X-Probe: %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: 2\r\n\r\n{}",
                 probe);
    cr_assert(n > 0 && (size_t)n < sizeof req);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (i = 0; i < 16; i++) {
        int k;
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(connect(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        for (k = 0; k < 4; k++) /* pipelined: up to 64 matches queued */
            (void)send(fds[i], req, (size_t)n, MSG_NOSIGNAL);
    }
    t0 = tk_now_ms();
    kill(c.pid, SIGTERM);
    cr_assert_eq(wait_exit(c.pid), 0);
    /* a stop that serves the 64 queued matches first takes 64 times a
     * match: some 19 s with PCRE2's default limit, far more unbounded */
    cr_expect_lt(tk_now_ms() - t0, test_ms(5000), "took %lld ms",
                 tk_now_ms() - t0);
    for (i = 0; i < 16; i++)
        close(fds[i]);
    fclose(c.out);
    unlink(file);
    rmdir(dir);
}
