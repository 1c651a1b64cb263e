/* Start, stop and survive: TLS, clean shutdown with hanging clients, junk
 * and idle connections, start-up errors, the request log. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fm_testkit.h"

static void add_hang(fake_msp *fm)
{
    tk_add_fixture(fm,
                   tk_fixture_json("hang", "hang-1",
                                   "\"response\":{\"status\":200,\"body\":{},"
                                   "\"fault\":{\"kind\":\"hang\"}}"));
}

typedef struct client {
    fake_msp *fm;
    const char *id;
    http_res res;
} client;

static void *run_client(void *arg)
{
    client *c = arg;

    tk_execute(c->fm, "sk-test", c->id, tk_body("msp.list_devices", "{}"),
               &c->res);
    return NULL;
}

/* Waits (bounded) until n responses are suspended in the server. */
static void wait_suspended(fake_msp *fm, size_t n)
{
    cr_assert_eq(fake_msp_wait_suspended(fm, n, test_ms(3000)), 0,
                 "the hang never began");
    cr_assert_geq(fake_msp_suspended(fm), n);
}

Test(lifecycle, stop_returns_promptly_while_clients_hang,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    client c = {fm, "hang-1", {0}};
    pthread_t th;
    long long t0;

    add_hang(fm);
    pthread_create(&th, NULL, run_client, &c);
    wait_suspended(fm, 1);
    t0 = tk_now_ms();
    fake_msp_stop(fm);
    /* far below the clients' own deadline, times the slow-run factor */
    cr_assert_lt(tk_now_ms() - t0, test_ms(5000));
    pthread_join(th, NULL);
    cr_assert_neq(c.res.rc, CURLE_OK);
    cr_assert_neq(c.res.rc, CURLE_OPERATION_TIMEDOUT,
                  "the client was released, not timed out");
    tk_free(&c.res);
}

Test(lifecycle, a_hang_is_released_when_its_client_goes_away,
     .timeout = TEST_TIMEOUT(10))
{
    static const char req[] =
        "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
        "X-Brainstorm-Command-Id: hang-1\r\nContent-Length: 2\r\n\r\n{}";
    fake_msp *fm = tk_start(NULL);
    int fd = tk_connect(fm), keep = tk_connect(fm);
    http_res r;

    add_hang(fm);
    cr_assert_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    cr_assert_eq(send(keep, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    wait_suspended(fm, 2);
    close(fd);
    /* the abandoned one is released, the one still connected hangs on */
    cr_assert_eq(fake_msp_wait_released(fm, 1, 5000), 0,
                 "the abandoned hang was kept");
    cr_assert_eq(fake_msp_suspended(fm), 1);
    cr_assert_eq(fake_msp_wait_released(fm, 0, 300), -1);
    /* and the server still answers */
    tk_execute(fm, "sk-test", "after-hang", tk_body("msp.list_devices", "{}"),
               &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    fake_msp_stop(fm);
    close(keep);
}

Test(lifecycle, stop_releases_delayed_and_dribbling_responses_too,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    client a = {fm, "slow-1", {0}}, b = {fm, "drib-1", {0}};
    pthread_t ta, tb;
    long long t0;

    tk_add_fixture(
        fm,
        tk_fixture_json(
            "slow", "slow-1",
            "\"response\":{\"status\":200,\"body\":{},\"delay_ms\":30000}"));
    tk_add_fixture(fm,
                   tk_fixture_json("drib", "drib-1",
                                   "\"response\":{\"status\":200,\"body\":{"
                                   "\"a\":\"bbbbbbbbbbbbbbbbbbbb\"},"
                                   "\"fault\":{\"kind\":\"dribble\",\"chunk_"
                                   "bytes\":1,\"interval_ms\":1000}}"));
    pthread_create(&ta, NULL, run_client, &a);
    pthread_create(&tb, NULL, run_client, &b);
    wait_suspended(fm, 2);
    t0 = tk_now_ms();
    fake_msp_stop(fm);
    /* far below the clients' own deadline, times the slow-run factor */
    cr_assert_lt(tk_now_ms() - t0, test_ms(5000));
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_neq(a.res.rc, CURLE_OK);
    cr_assert_neq(b.res.rc, CURLE_OK);
    tk_free(&a.res);
    tk_free(&b.res);
}

Test(lifecycle, junk_and_idle_connections_do_not_hurt_later_requests,
     .timeout = TEST_TIMEOUT(10))
{
    static const char junk[] = "\x00\xff\x13GARBAGE NOT HTTP\r\n\r\n";
    fake_msp *fm = tk_start(NULL);
    int idle = tk_connect(fm), bad = tk_connect(fm), idle2 = tk_connect(fm);
    char buf[256];
    http_res r;

    cr_assert_eq(
        send(idle2, "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost", 44, 0),
        44);
    struct timeval tv = {1, 0};

    setsockopt(bad, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    cr_assert_eq(send(bad, junk, sizeof junk - 1, 0),
                 (ssize_t)(sizeof junk - 1));
    (void)recv(bad, buf, sizeof buf, 0);

    close(bad);
    tk_execute(fm, "sk-test", "after-junk", tk_body("msp.list_devices", "{}"),
               &r);
    cr_assert_eq(r.status, 200);
    /* well below the client's own timeout (5 s, scaled): a worker held by
     * the junk or idle connections (60 s idle timeout) times it out */
    cr_assert_lt(r.elapsed_ms, test_ms(4000));
    tk_free(&r);
    fake_msp_stop(fm);
    close(idle);
    close(idle2);
}

static char tmpdir[64];

static void make_cert(void)
{
    char cmd[512];

    snprintf(tmpdir, sizeof tmpdir, "/tmp/fm-tls-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s/key.pem -out %s/cert.pem -days 1 -subj /CN=127.0.0.1 "
             ">/dev/null 2>&1",
             tmpdir, tmpdir);
    cr_assert_eq(system(cmd), 0, "openssl failed");
}

static void drop_cert(void)
{
    char p[128];

    snprintf(p, sizeof p, "%s/key.pem", tmpdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/cert.pem", tmpdir);
    unlink(p);
    rmdir(tmpdir);
}

Test(lifecycle, serves_https_with_a_pem_certificate_and_key,
     .timeout = TEST_TIMEOUT(20))
{
    char cert[128], key[128];
    fake_msp_options o;
    fake_msp *fm;
    http_res r;

    make_cert();
    snprintf(cert, sizeof cert, "%s/cert.pem", tmpdir);
    snprintf(key, sizeof key, "%s/key.pem", tmpdir);
    fake_msp_options_init(&o);
    o.tls_cert = cert;
    o.tls_key = key;
    fm = tk_start(&o);
    cr_assert(strncmp(fake_msp_url(fm), "https://127.0.0.1:", 18) == 0, "%s",
              fake_msp_url(fm));
    tk_execute(fm, "sk-test", "tls-1", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.rc, CURLE_OK, "%s", r.err);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    fake_msp_stop(fm);
    drop_cert();
}

static void expect_start_error(const fake_msp_options *o, const char *part)
{
    fake_msp *fm = NULL;
    char err[1024] = "";

    cr_assert_eq(fake_msp_start(o, &fm, err, sizeof err), -1);
    cr_assert_null(fm);
    cr_assert(strstr(err, part) != NULL, "\"%s\" lacks \"%s\"", err, part);
}

Test(lifecycle, start_errors_say_why, .timeout = TEST_TIMEOUT(10))
{
    static const char *bad_keys[] = {"no-equals"};
    static const char *bad_role[] = {"t=x:admin"};
    static const char *no_tenant[] = {"t=:read_only"};
    fake_msp_options o;
    fake_msp *fm = tk_start(NULL);

    fake_msp_options_init(&o);
    o.host = "not-an-ip";
    expect_start_error(&o, "not an IP address");
    fake_msp_options_init(&o);
    o.port = fake_msp_port(fm);
    expect_start_error(&o, "cannot listen");
    fake_msp_options_init(&o);
    o.tls_cert = "/nonexistent.pem";
    expect_start_error(&o, "both");
    o.tls_key = "/nonexistent-key.pem";
    expect_start_error(&o, "cannot open /nonexistent.pem");
    fake_msp_options_init(&o);
    o.keys = bad_keys;
    o.n_keys = 1;
    expect_start_error(&o, "TOKEN=TENANT");
    o.keys = bad_role;
    expect_start_error(&o, "unknown role");
    o.keys = no_tenant;
    expect_start_error(&o, "empty tenant");
    fake_msp_stop(fm);
}

Test(lifecycle, binds_ipv6_loopback_and_brackets_the_url,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp_options o;
    fake_msp *fm;
    http_res r;

    fake_msp_options_init(&o);
    o.host = "::1";
    fm = tk_start(&o);
    cr_assert(strncmp(fake_msp_url(fm), "http://[::1]:", 13) == 0, "%s",
              fake_msp_url(fm));
    tk_http("GET", tk_url(fm, "/health"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200, "%s", r.err);
    tk_free(&r);
    fake_msp_stop(fm);
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[8192];

static void capture(void *user, const char *line)
{
    (void)user;
    pthread_mutex_lock(&log_lock);
    strncat(log_text, line, sizeof log_text - strlen(log_text) - 2);
    strcat(log_text, "\n");
    pthread_mutex_unlock(&log_lock);
}

Test(lifecycle, the_request_log_masks_the_key, .timeout = TEST_TIMEOUT(10))
{
    fake_msp_options o;
    fake_msp *fm;
    http_res r;

    fake_msp_options_init(&o);
    o.log = capture;
    o.host = "localhost";
    fm = tk_start(&o);
    tk_execute(fm, "sk-test", "log-1", tk_body("msp.list_devices", "{}"), &r);
    tk_free(&r);
    tk_add_fixture(
        fm,
        tk_fixture_json(
            "logged", "log-2",
            "\"response\":{\"status\":200,\"fault\":{\"kind\":\"empty\"}}"));
    tk_execute(fm, "sk-test", "log-2", tk_body("msp.list_devices", "{}"), &r);
    tk_free(&r);
    fake_msp_stop(fm);
    cr_assert(strstr(log_text, "POST /api/v1/god-mode/execute 200 auth=Bearer "
                               "s\xe2\x80\xa6(7)"),
              "%s", log_text);
    cr_assert(strstr(log_text, "fixture=logged fault=empty"), "%s", log_text);
    cr_assert_null(strstr(log_text, "sk-test"), "%s", log_text);
}

Test(lifecycle, waiting_for_a_suspension_times_out_when_none_comes,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    long long t0 = tk_now_ms();

    cr_assert_eq(fake_msp_wait_suspended(fm, 1, 50), -1);
    cr_assert_geq(tk_now_ms() - t0, 45);
    cr_assert_eq(fake_msp_suspended(fm), 0);
    fake_msp_stop(fm);
}

Test(lifecycle, a_chosen_seed_is_kept_and_zero_picks_one,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp_options o;
    fake_msp *fm;

    fake_msp_options_init(&o);
    o.seed = 1234;
    fm = tk_start(&o);
    cr_assert_eq(fake_msp_seed(fm), 1234);
    fake_msp_stop(fm);
    fm = tk_start(NULL);
    cr_assert_neq(fake_msp_seed(fm), 0);
    cr_assert_gt(fake_msp_port(fm), 0);
    fake_msp_stop(fm);
}
