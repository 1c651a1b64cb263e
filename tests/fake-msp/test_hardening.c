/* fake-msp against hostile clients, fixtures and web pages (issue 15): each
 * test is one finding, bounded and on loopback. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fm_testkit.h"

static const char *const json_type[] = {"Content-Type: application/json", NULL};

TestSuite(hardening, .timeout = TEST_TIMEOUT(60));

/* Sends req on a new connection; reads what comes back until the server
 * closes or timeout_ms pass. Returns the bytes read (NUL-terminated in
 * buf); *closed says whether the server closed. */
static size_t exchange(fake_msp *fm, const char *req, size_t len, char *buf,
                       size_t cap, long timeout_ms, int *closed)
{
    int fd = tk_connect(fm);
    size_t got = 0;
    long long deadline = tk_now_ms() + timeout_ms;

    *closed = 0;
    cr_assert_eq(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    while (got + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        long left = (long)(deadline - tk_now_ms());
        ssize_t n;
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0) {
            *closed = 1;
            break;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    return got;
}

static int status_of(const char *reply)
{
    int st = 0;

    return sscanf(reply, "HTTP/1.1 %d", &st) == 1 ? st : 0;
}

/* ---- regex ---------------------------------------------------------- */

/* What the issue asked for (an answer within 50 ms) is a speed, and a
 * shared machine does not keep it; what makes it true is the match limit,
 * checked here by steps, not time: 24 a's then "baac" match after some
 * 590 000 backtracking steps, past the fixture limit (100 000) and well
 * within PCRE2's default (10 000 000, some 300 ms a match) or no limit
 * (glibc regexec). A matcher with either answers 418 to it. */
Test(hardening, a_backtracking_regex_stops_at_the_match_limit_and_is_journalled)
{
    static const char fx[] =
        "{\"name\":\"evil-regex\",\"description\":\"d\",\"exit_row\":6,"
        "\"context\":{\"command_id\":\"c-1\",\"tool\":\"msp.list_devices\","
        "\"params\":{},\"deadline_ms\":30000},"
        "\"request\":{\"method\":\"POST\",\"path\":"
        "\"/api/v1/god-mode/execute\",\"headers\":{\"X-Probe\":"
        "{\"regex\":\"(a|aa)*\\\\1c\"}}},\"response\":{\"status\":418},"
        "\"expect\":{\"exit_code\":0}}";
    char probe[440] = "X-Probe: ";
    const char *hdrs[] = {probe, "Content-Type: application/json", NULL};
    fake_msp *fm = tk_start(NULL);
    fake_msp_entry *e;
    size_t n, i, k;
    http_res r;
    int seen, round;

    tk_add_fixture(fm, fx);
    /* 420 a's (the report's probe: PCRE2 sees no 'c' and stops at once),
     * then 418 a's and "bc" (a 'c' to look for: the backtracking runs into
     * the match limit), then the 24 a's and "baac" that match past it */
    for (round = 0; round < 3; round++) {
        memset(probe + 9, 'a', 420);
        probe[429] = '\0';
        if (round == 1)
            memcpy(probe + 9 + 418, "bc", 2);
        if (round == 2)
            strcpy(probe + 9 + 24, "baac");
        tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), hdrs, "{}", 2,
                0, &r);
        cr_assert_eq(r.rc, CURLE_OK, "round %d: %s", round, r.err);
        cr_expect_neq(r.status, 418, "round %d: no match", round);
        /* a worker held for the whole backtracking (seconds with glibc,
         * unbounded for the 418 a's) would reach this; a loaded machine
         * answers the bounded match in well under it */
        cr_expect_lt(r.elapsed_ms, test_ms(2000), "round %d took %lld ms",
                     round, r.elapsed_ms);
        tk_free(&r);
    }
    cr_assert_eq(fake_msp_journal_find(fm, NULL, &e, &n), 0);
    cr_assert_eq(n, 3);
    for (k = 1; k < 3; k++) {
        seen = 0;
        for (i = 0; i < e[k].n_violations; i++)
            seen |= strstr(e[k].violations[i], "match limit") != NULL;
        cr_expect(seen, "round %zu: the limit hit is journalled", k);
    }
    fake_msp_entries_free(e, n);
    /* /health still answers at once */
    tk_http("GET", tk_url(fm, "/health"), NULL, NULL, 0, 1000, &r);
    cr_expect_eq(r.status, 200);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* ---- HTTP strictness ------------------------------------------------ */

Test(hardening, conflicting_content_lengths_get_400_and_a_close)
{
    static const char req[] =
        "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 2\r\nContent-Length: 60\r\n\r\n"
        "{}GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    fake_msp *fm = tk_start(NULL);
    char buf[4096];
    int closed;

    exchange(fm, req, sizeof req - 1, buf, sizeof buf, 3000, &closed);
    cr_expect_eq(status_of(buf), 400, "%s", buf);
    cr_expect(strstr(buf, "Content-Length") != NULL, "%s", buf);
    cr_expect(closed, "the connection is closed");
    cr_expect_null(strstr(buf + 12, "HTTP/1.1 200"), "no second request: %s",
                   buf);
    fake_msp_stop(fm);
}

Test(hardening, more_than_128_headers_get_431)
{
    fake_msp *fm = tk_start(NULL);
    char *req = malloc(64 * 1024), buf[4096];
    size_t len = 0;
    int i, closed;

    cr_assert_not_null(req);
    len += (size_t)sprintf(req + len, "POST /api/v1/god-mode/execute "
                                      "HTTP/1.1\r\nHost: x\r\n");
    for (i = 0; i < 200; i++)
        len += (size_t)sprintf(req + len, "X-Filler-%d: %d\r\n", i, i);
    len += (size_t)sprintf(req + len, "Authorization: Bearer sk-test\r\n"
                                      "Content-Length: 0\r\n\r\n");
    exchange(fm, req, len, buf, sizeof buf, 3000, &closed);
    cr_expect_eq(status_of(buf), 431, "%s", buf);
    free(req);
    fake_msp_stop(fm);
}

Test(hardening, bytes_that_are_not_utf8_in_a_header_keep_the_journal_json)
{
    static const char req[] =
        "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer sk-test\r\n"
        "X-Brainstorm-Command-Id: bad-\xff\xfe-id\r\n"
        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    fake_msp *fm = tk_start(NULL);
    char buf[4096];
    int closed;
    http_res r;
    cJSON *doc;

    exchange(fm, req, sizeof req - 1, buf, sizeof buf, 3000, &closed);
    cr_expect_eq(status_of(buf), 400, "%s", buf);
    cr_expect(strstr(buf, "X-Brainstorm-Command-Id") != NULL, "%s", buf);
    cr_expect_null(strstr(buf, "\xff"), "the bytes are not echoed");
    tk_http("GET", tk_url(fm, "/__admin/requests"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    doc = cJSON_Parse(r.body);
    cr_expect_not_null(doc, "journal is JSON: %s", r.body);
    cr_expect_null(strstr(r.body, "\xff"), "no raw byte in the journal");
    cr_expect(strstr(r.body, "{\"base64\":\"YmFkLf/+LWlk\"}") != NULL, "%s",
              r.body);
    cJSON_Delete(doc);
    tk_free(&r);
    fake_msp_stop(fm);
}

static void expect_validation(fake_msp *fm, const char *const *headers,
                              const char *body, const char *field)
{
    http_res r;

    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), headers, body,
            strlen(body), 0, &r);
    tk_assert_error(&r, 400, "VALIDATION", field);
    tk_free(&r);
}

Test(hardening, execute_refuses_nul_duplicates_empty_key_and_other_types)
{
    const char *plain[] = {"Authorization: Bearer sk-test",
                           "Content-Type: application/json", NULL};
    const char *empty_key[] = {"Authorization: Bearer sk-test",
                               "Content-Type: application/json",
                               "Idempotency-Key;", NULL};
    const char *jsonx[] = {"Authorization: Bearer sk-test",
                           "Content-Type: application/jsonx", NULL};
    const char *charset[] = {"Authorization: Bearer sk-test",
                             "Content-Type: application/json; charset=utf-8",
                             NULL};
    fake_msp *fm = tk_start(NULL);
    const char *ok_body = "{\"tool\":\"msp.list_devices\",\"params\":{},"
                          "\"simulate\":false}";
    http_res r;

    expect_validation(fm, plain,
                      "{\"tool\":\"msp.list_devices\\u0000x\",\"params\":{},"
                      "\"simulate\":false}",
                      "NUL in \"tool\"");
    expect_validation(fm, plain,
                      "{\"tool\":\"msp.list_devices\",\"tool\":"
                      "\"msp.device_wipe\",\"params\":{},\"simulate\":false}",
                      "duplicate member \"tool\"");
    expect_validation(fm, plain,
                      "{\"tool\":\"msp.list_devices\",\"params\":{\"query\":"
                      "\"a\",\"qu\\u0065ry\":\"b\"},\"simulate\":false}",
                      "duplicate member \"params.query\"");
    expect_validation(fm, empty_key, ok_body, "Idempotency-Key");
    expect_validation(fm, jsonx, ok_body, "Content-Type");
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), charset, ok_body,
            strlen(ok_body), 0, &r);
    cr_expect_eq(r.status, 200, "%s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* Issue 23: the server reads request strings with the kit's one JSON
 * string decoder. A lone surrogate is U+FFFD (cJSON alone refused the body
 * as not JSON), so two different ones are one member name; "\u00g0", which
 * cJSON read as U+0000 unseen by the NUL check, is refused. */
Test(hardening, execute_reads_lone_surrogates_as_one_name_and_refuses_bad_hex)
{
    const char *plain[] = {"Authorization: Bearer sk-test",
                           "Content-Type: application/json", NULL};
    fake_msp *fm = tk_start(NULL);
    expect_validation(fm, plain,
                      "{\"tool\":\"msp.list_devices\",\"params\":{\"\\ud800\":"
                      "1,\"\\udbff\":2},\"simulate\":false}",
                      "duplicate member \"params.\xEF\xBF\xBD\"");
    expect_validation(fm, plain,
                      "{\"tool\":\"msp.list_devices\\u00g0x\",\"params\":{},"
                      "\"simulate\":false}",
                      "an escape JSON does not have in \"tool\"");
    fake_msp_stop(fm);
}

/* ---- admin API ------------------------------------------------------ */

static long admin(fake_msp *fm, const char *method, const char *path,
                  const char *const *headers, const char *body)
{
    http_res r;
    long st;

    tk_http(method, tk_url(fm, path), headers, body, body ? strlen(body) : 0, 0,
            &r);
    st = r.status;
    tk_free(&r);
    return st;
}

Test(hardening, admin_refuses_other_hosts_other_origins_and_non_json)
{
    fake_msp *fm = tk_start(NULL);
    char localhost[64], origin[96];
    const char *evil_host[] = {"Host: evil.example:80", NULL};
    const char *rebind[] = {localhost, NULL};
    const char *evil_origin[] = {"Origin: http://evil.example", NULL};
    const char *same_origin[] = {origin, NULL};
    const char *cross[] = {"Sec-Fetch-Site: cross-site", NULL};
    const char *text[] = {"Content-Type: text/plain", NULL};
    const char *fx = tk_fixture_json("catch", "c-1", "\"response\":{}");

    snprintf(localhost, sizeof localhost, "Host: localhost:%u",
             (unsigned)fake_msp_port(fm));
    snprintf(origin, sizeof origin, "Origin: http://127.0.0.1:%u",
             (unsigned)fake_msp_port(fm));
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", evil_host, NULL), 403);
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", rebind, NULL), 200);
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", evil_origin, NULL), 403);
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", same_origin, NULL), 200);
    cr_expect_eq(admin(fm, "POST", "/__admin/reset", cross, NULL), 403);
    /* a page cannot plant a catch-all fixture, even sending JSON */
    {
        const char *host_json[] = {"Host: evil.example:80",
                                   "Content-Type: application/json", NULL};
        const char *origin_json[] = {"Origin: http://evil.example",
                                     "Content-Type: application/json", NULL};
        cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", host_json, fx),
                     403);
        cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", origin_json, fx),
                     403);
    }
    cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", text, fx), 415);
    cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", NULL, fx), 415,
                 "curl's default form type");
    cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", json_type, fx), 201);
    fake_msp_stop(fm);
}

Test(hardening, admin_token_is_required_when_set_and_no_admin_turns_it_off)
{
    fake_msp_options o;
    fake_msp *fm;
    const char *good[] = {"Authorization: Bearer adm-secret-1", NULL};
    const char *bad[] = {"Authorization: Bearer adm-secret-2", NULL};
    char err[256];

    fake_msp_options_init(&o);
    o.admin_token = "adm-secret-1";
    fm = tk_start(&o);
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", NULL, NULL), 401);
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", bad, NULL), 401);
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", good, NULL), 200);
    cr_expect_eq(admin(fm, "GET", "/health", NULL, NULL), 200);
    fake_msp_stop(fm);

    fake_msp_options_init(&o);
    o.no_admin = 1;
    fm = tk_start(&o);
    cr_expect_eq(admin(fm, "GET", "/__admin/requests", NULL, NULL), 404);
    cr_expect_eq(admin(fm, "GET", "/health", NULL, NULL), 200);
    fake_msp_stop(fm);

    fake_msp_options_init(&o);
    o.host = "0.0.0.0";
    cr_expect_eq(fake_msp_start(&o, &fm, err, sizeof err), -1);
    cr_expect(strstr(err, "admin token") != NULL, "%s", err);
}

/* ---- connections ---------------------------------------------------- */

static void raise_nofile(void)
{
    struct rlimit rl;

    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    cr_assert_geq(rl.rlim_cur, 2400, "RLIMIT_NOFILE hard limit too low");
}

#define SLOW_CLIENTS 1100

Test(hardening, health_answers_with_1100_slow_clients_connected,
     .timeout = TEST_TIMEOUT(60))
{
    static const char prefix[] = "POST /api/v1/god-mode/execute HTTP/1.1\r\n";
    static int fds[SLOW_CLIENTS];
    fake_msp *fm;
    http_res r;
    int i, round;

    raise_nofile();
    fm = tk_start(NULL);
    for (i = 0; i < SLOW_CLIENTS; i++) {
        fds[i] = tk_connect(fm);
        fcntl(fds[i], F_SETFL, O_NONBLOCK);
    }
    /* a byte a second from each, three rounds; /health each round */
    for (round = 0; round < 3; round++) {
        long long t0 = tk_now_ms();
        for (i = 0; i < SLOW_CLIENTS; i++)
            (void)send(fds[i], prefix + round, 1, MSG_NOSIGNAL);
        /* a server whose slots the slow clients hold answers only when
         * they are dropped, at the 30 s request budget */
        tk_http("GET", tk_url(fm, "/health"), NULL, NULL, 0, test_ms(10000),
                &r);
        cr_expect_eq(r.status, 200, "round %d: %s", round, r.err);
        tk_free(&r);
        while (tk_now_ms() - t0 < 1000)
            poll(NULL, 0, (int)(1000 - (tk_now_ms() - t0)));
    }
    for (i = 0; i < SLOW_CLIENTS; i++)
        close(fds[i]);
    fake_msp_stop(fm);
}

Test(hardening, past_the_per_address_limit_a_connection_is_closed_at_once)
{
    fake_msp_options o;
    fake_msp *fm;
    int fds[4], extra, i;
    char c;
    struct pollfd p;
    long long t0;

    fake_msp_options_init(&o);
    o.max_connections_per_ip = 4;
    fm = tk_start(&o);
    for (i = 0; i < 4; i++)
        fds[i] = tk_connect(fm);
    extra = tk_connect(fm);
    t0 = tk_now_ms();
    p.fd = extra;
    p.events = POLLIN;
    /* a connection let in past the limit would be held until the 30 s
     * request budget or the 60 s idle timeout */
    cr_assert_eq(poll(&p, 1, (int)test_ms(5000)), 1, "not closed");
    cr_expect_leq(recv(extra, &c, 1, 0), 0, "closed without a byte");
    cr_expect_lt(tk_now_ms() - t0, test_ms(5000));
    close(extra);
    for (i = 0; i < 4; i++)
        close(fds[i]);
    fake_msp_stop(fm);
}

Test(hardening, a_request_still_arriving_past_its_budget_is_dropped)
{
    static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    fake_msp_options o;
    fake_msp *fm;
    int fd;
    size_t i;
    long long t0;
    char c;
    ssize_t n = 1;

    fake_msp_options_init(&o);
    o.request_budget_ms = 500;
    fm = tk_start(&o);
    fd = tk_connect(fm);
    t0 = tk_now_ms();
    /* a byte every 100 ms, never the last three: never idle, never done */
    for (i = 0; i < sizeof req - 3; i++) {
        struct pollfd p = {fd, POLLIN, 0};
        if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1)
            break;
        if (poll(&p, 1, 100) == 1)
            break;
    }
    {
        /* without the budget the request would be held until the 60 s
         * idle timeout (it is never idle for long, never complete) */
        struct pollfd p = {fd, POLLIN, 0};
        cr_assert_eq(poll(&p, 1, (int)test_ms(10000)), 1, "not dropped");
        n = recv(fd, &c, 1, 0);
    }
    cr_expect_leq(n, 0, "dropped, no reply");
    /* not before the budget: a request still arriving is not cut early */
    cr_expect_geq(tk_now_ms() - t0, 450, "dropped before its 500 ms budget");
    close(fd);
    /* a request that arrives in time is unaffected */
    {
        http_res r;
        tk_http("GET", tk_url(fm, "/health"), NULL, NULL, 0, 0, &r);
        cr_expect_eq(r.status, 200);
        tk_free(&r);
    }
    fake_msp_stop(fm);
}

/* ---- fixtures replaced, deleted, reset (issue 16) ------------------- */

Test(hardening, admin_replaces_and_deletes_fixtures_by_name)
{
    fake_msp *fm = tk_start(NULL);
    char fx[16384];
    http_res r;

    snprintf(fx, sizeof fx, "%s",
             tk_fixture_json("swap", "s-1", "\"response\":{\"status\":201}"));
    cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", json_type, fx), 201);
    tk_execute(fm, "sk-test", "s-1", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 201);
    tk_free(&r);
    snprintf(fx, sizeof fx, "%s",
             tk_fixture_json("swap", "s-1", "\"response\":{\"status\":202}"));
    cr_expect_eq(admin(fm, "PUT", "/__admin/fixtures/swap", json_type, fx), 200,
                 "replaced");
    tk_execute(fm, "sk-test", "s-1", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 202);
    tk_free(&r);
    cr_expect_eq(admin(fm, "PUT", "/__admin/fixtures/other", json_type, fx),
                 400, "the body names another fixture");
    cr_expect_eq(admin(fm, "DELETE", "/__admin/fixtures/swap", NULL, NULL),
                 200);
    cr_expect_eq(admin(fm, "DELETE", "/__admin/fixtures/swap", NULL, NULL),
                 404);
    tk_execute(fm, "sk-test", "s-1", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200, "the realistic MSP again");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(hardening, reset_keeps_fixtures_unless_asked_to_drop_run_time_ones)
{
    fake_msp *fm = tk_start(NULL);
    const char *fx =
        tk_fixture_json("kept", "k-1", "\"response\":{\"status\":203}");
    http_res r;

    cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", json_type, fx), 201);
    cr_expect_eq(admin(fm, "POST", "/__admin/reset", NULL, NULL), 200);
    tk_execute(fm, "sk-test", "k-1", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 203, "kept by a plain reset");
    tk_free(&r);
    tk_http("POST", tk_url(fm, "/__admin/reset?fixtures=1"), NULL, NULL, 0, 0,
            &r);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "\"fixtures_removed\":1") != NULL, "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "k-1", tk_body("msp.list_devices", "{}"), &r);
    cr_expect_eq(r.status, 200, "gone after ?fixtures=1");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(hardening, a_replaced_fixture_outlives_the_request_it_is_serving)
{
    fake_msp *fm = tk_start(NULL);
    char fx[16384];
    int fd, i;
    char buf[65536];
    size_t got = 0;
    static const char req[] =
        "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
        "X-Brainstorm-Command-Id: dr-1\r\nContent-Length: 0\r\n\r\n";

    snprintf(fx, sizeof fx, "%s",
             tk_fixture_json("drip2", "dr-1",
                             "\"response\":{\"status\":200,\"body_repeat\":{"
                             "\"text\":\"0123456789\",\"times\":20},"
                             "\"fault\":{\"kind\":\"dribble\",\"chunk_bytes\":"
                             "20,\"interval_ms\":10}}"));
    cr_assert_eq(admin(fm, "POST", "/__admin/fixtures", json_type, fx), 201);
    fd = tk_connect(fm);
    cr_assert_eq(send(fd, req, sizeof req - 1, 0), (ssize_t)(sizeof req - 1));
    cr_assert_eq(fake_msp_wait_suspended(fm, 1, 2000), 0);
    for (i = 0; i < 3; i++) { /* removed and re-added while it dribbles */
        cr_expect_eq(admin(fm, "DELETE", "/__admin/fixtures/drip2", NULL, NULL),
                     200);
        cr_expect_eq(admin(fm, "POST", "/__admin/fixtures", json_type, fx),
                     201);
    }
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        ssize_t n;
        if (poll(&p, 1, 3000) != 1)
            break;
        n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    cr_expect(strstr(buf, "01234567890123456789") != NULL, "%s", buf);
    cr_expect_eq(strlen(strstr(buf, "\r\n\r\n") + 4), 200, "the whole body");
    close(fd);
    fake_msp_stop(fm);
}
