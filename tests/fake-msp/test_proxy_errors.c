/* The recording proxy's error and edge paths (proxy.c, proxy_xfer.c,
 * proxy_rules.c): upstream URLs and record directories it cannot use are
 * refused at start saying why (without the URL's credentials), a full
 * queue and an over-long body are answered without forwarding, HEAD,
 * empty replies, empty header values and chunked bodies cross it intact,
 * its log masks the credential, and a fixture it cannot write is logged.
 * The upstream is a raw test server on port 0 (tests/support), the fake
 * runs in process, clients are libcurl. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fm_testkit.h"
#include "test_server.h"
#include "test_timeout.h"

TestSuite(proxy_errors, .timeout = TEST_TIMEOUT(60));

#define LIVE_KEY "sk-live-3e9f1a7c5b2d"
#define CID      "2b8e4c1d-9a3f-4e5b-8c7d-6f0e1d2c3b4a"

/* ---- helpers ------------------------------------------------------------ */

typedef struct logbook {
    pthread_mutex_t lock;
    char text[16384];
    size_t len;
} logbook;

static void on_log(void *user, const char *line)
{
    logbook *b = user;
    size_t n = strlen(line);

    pthread_mutex_lock(&b->lock);
    if (b->len + n + 2 < sizeof b->text) {
        memcpy(b->text + b->len, line, n);
        b->len += n;
        b->text[b->len++] = '\n';
        b->text[b->len] = '\0';
    }
    pthread_mutex_unlock(&b->lock);
}

/* Waits (with a deadline) until the log holds part. */
static int log_has(logbook *b, const char *part, long timeout_ms)
{
    long long end = tk_now_ms() + timeout_ms;
    int found;

    for (;;) {
        pthread_mutex_lock(&b->lock);
        found = strstr(b->text, part) != NULL;
        pthread_mutex_unlock(&b->lock);
        if (found || tk_now_ms() >= end)
            return found;
        poll(NULL, 0, 10);
    }
}

static int start_error(fake_msp_options *o, char *err, size_t errlen)
{
    fake_msp *fm = NULL;
    int rc = fake_msp_start(o, &fm, err, errlen);

    if (rc == 0)
        fake_msp_stop(fm);
    return rc;
}

static void wait_requests(ts_server *s, int n, long timeout_ms)
{
    long long end = tk_now_ms() + timeout_ms;

    while (ts_request_count(s) < n) {
        cr_assert_lt(tk_now_ms(), end, "the upstream saw %d of %d requests",
                     ts_request_count(s), n);
        poll(NULL, 0, 10);
    }
}

static fake_msp *proxy_to(ts_server *up, fake_msp_options *o)
{
    static char url[128];

    snprintf(url, sizeof url, "%s/", ts_url(up));
    o->proxy_url = url;
    return tk_start(o);
}

/* ---- start ----------------------------------------------------------------
 */

Test(proxy_errors, an_upstream_url_it_cannot_use_fails_start_saying_why)
{
    static const char *const cases[][2] = {
        {"ftp://upstream.example/", "wants an http:// or https:// URL"},
        {"upstream.example:8080", "wants an http:// or https:// URL"},
        {"http://upstream.example/api?x=1", "no query, fragment or space"},
        {"http://upstream.example/a#frag", "no query, fragment or space"},
        {"http://upstream.example/a b", "no query, fragment or space"},
        {"http://gw-user:gw-sekret-77@[::1/", "--proxy URL is not valid"},
        {"https://gw-user:gw-sekret-77@up stream/", "no query, fragment"},
    };
    fake_msp_options o;
    char err[512];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_msp_options_init(&o);
        o.proxy_url = cases[i][0];
        err[0] = '\0';
        cr_expect_neq(start_error(&o, err, sizeof err), 0, "%s", cases[i][0]);
        cr_expect(strstr(err, cases[i][1]) != NULL, "%s: %s", cases[i][0], err);
        cr_expect_null(strstr(err, "gw-sekret"), "%s: %s", cases[i][0], err);
    }
}

Test(proxy_errors, a_record_directory_that_is_not_there_fails_start)
{
    fake_msp_options o;
    char err[512] = "";

    fake_msp_options_init(&o);
    o.proxy_url = "http://127.0.0.1:9/";
    o.record_dir = "/nonexistent/fm-record";
    cr_expect_neq(start_error(&o, err, sizeof err), 0);
    cr_expect(strstr(err, "/nonexistent/fm-record: not a writable directory") !=
                  NULL,
              "%s", err);
}

Test(proxy_errors, a_redact_path_it_cannot_follow_fails_start_naming_it)
{
    fake_msp_options o;
    char dir[] = "/tmp/fm-pxerr-XXXXXX", err[512] = "";
    const char *redact[] = {"request.params.ok", "body.token"};

    cr_assert_not_null(mkdtemp(dir));
    fake_msp_options_init(&o);
    o.proxy_url = "http://127.0.0.1:9/";
    o.record_dir = dir;
    o.redact = redact;
    o.n_redact = 2;
    cr_expect_neq(start_error(&o, err, sizeof err), 0);
    cr_expect(strstr(err, "--redact \"body.token\"") != NULL, "%s", err);
    rmdir(dir);
}

/* ---- refused without forwarding ---------------------------------------- */

typedef struct bg_req {
    fake_msp *fm;
    http_res r;
} bg_req;

static void *send_one(void *arg)
{
    bg_req *b = arg;

    tk_http("GET", tk_url(b->fm, "/slow"), NULL, NULL, 0,
            30000L * MSP_TEST_TIMEOUT_SCALE, &b->r);
    return NULL;
}

Test(proxy_errors, a_full_queue_gets_503_naming_the_option)
{
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    pthread_t t;
    bg_req b;
    http_res r;

    cr_assert_not_null(up);
    ts_push(up, (ts_action){TS_HANG, NULL, 0, 0});
    fake_msp_options_init(&o);
    o.proxy_queue = 1;
    o.upstream_timeout_ms = 20000L * MSP_TEST_TIMEOUT_SCALE;
    fm = proxy_to(up, &o);
    memset(&b, 0, sizeof b);
    b.fm = fm;
    cr_assert_eq(pthread_create(&t, NULL, send_one, &b), 0);
    wait_requests(up, 1, 10000L * MSP_TEST_TIMEOUT_SCALE);
    tk_http("GET", tk_url(fm, "/second"), NULL, NULL, 0, 0, &r);
    tk_assert_error(&r, 503, "UNAVAILABLE", "--proxy-queue");
    tk_free(&r);
    cr_expect_eq(ts_request_count(up), 1, "the second was forwarded");
    fake_msp_stop(fm); /* answers the hanging one */
    pthread_join(t, NULL);
    tk_free(&b.r);
    ts_stop(up);
}

Test(proxy_errors, a_body_over_max_body_gets_413_and_is_never_forwarded)
{
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    char body[4096];
    http_res r;
    const char *h[] = {"Content-Type: application/json", NULL};

    cr_assert_not_null(up);
    fake_msp_options_init(&o);
    o.max_body = 1024;
    fm = proxy_to(up, &o);
    memset(body, 'x', sizeof body);
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, body,
            sizeof body, 0, &r);
    tk_assert_error(&r, 413, "PAYLOAD_TOO_LARGE", NULL);
    tk_free(&r);
    cr_expect_eq(ts_request_count(up), 0);
    fake_msp_stop(fm);
    ts_stop(up);
}

/* ---- crossing it intact ------------------------------------------------- */

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

Test(proxy_errors, a_head_request_is_forwarded_as_head)
{
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    CURL *h = curl_easy_init();
    long status = 0;
    CURLcode rc;

    cr_assert_not_null(up);
    ts_push(up, (ts_action){TS_REPLY,
                            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                            "X-Head: yes\r\n\r\n",
                            0, 0});
    fake_msp_options_init(&o);
    fm = proxy_to(up, &o);
    curl_easy_setopt(h, CURLOPT_URL, tk_url(fm, "/status"));
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L * MSP_TEST_TIMEOUT_SCALE);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(h);
    cr_expect_eq(rc, CURLE_OK, "%s", curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    cr_expect_eq(status, 200);
    curl_easy_cleanup(h);
    cr_assert_eq(ts_request_count(up), 1);
    cr_expect_str_eq(ts_request_at(up, 0)->method, "HEAD");
    fake_msp_stop(fm);
    ts_stop(up);
}

Test(proxy_errors, an_empty_reply_comes_back_empty_with_its_status)
{
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    http_res r;
    char v[64];

    cr_assert_not_null(up);
    ts_push(up,
            (ts_action){TS_REPLY,
                        "HTTP/1.1 204 No Content\r\nX-Seen: 1\r\n\r\n", 0, 0});
    fake_msp_options_init(&o);
    fm = proxy_to(up, &o);
    tk_http("DELETE", tk_url(fm, "/thing/1"), NULL, NULL, 0, 0, &r);
    cr_expect_eq(r.rc, CURLE_OK, "%s", r.err);
    cr_expect_eq(r.status, 204);
    cr_expect_eq(r.len, 0);
    cr_expect_not_null(tk_header(&r, "X-Seen", v, sizeof v));
    tk_free(&r);
    cr_expect_str_eq(ts_request_at(up, 0)->method, "DELETE");
    fake_msp_stop(fm);
    ts_stop(up);
}

Test(proxy_errors, a_request_header_with_an_empty_value_reaches_the_upstream)
{
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    http_res r;
    const char *h[] = {"X-Empty;", "X-Full: v", NULL};
    char v[64] = "unset";

    cr_assert_not_null(up);
    fake_msp_options_init(&o);
    fm = proxy_to(up, &o);
    tk_http("GET", tk_url(fm, "/h"), h, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200, "%s", r.err);
    tk_free(&r);
    cr_assert_eq(ts_request_count(up), 1);
    cr_expect_eq(ts_header(ts_request_at(up, 0), "X-Empty", v, sizeof v), 1,
                 "%s", ts_request_at(up, 0)->headers);
    cr_expect_str_eq(v, "");
    cr_expect_eq(ts_header(ts_request_at(up, 0), "X-Full", v, sizeof v), 1);
    cr_expect_str_eq(v, "v");
    fake_msp_stop(fm);
    ts_stop(up);
}

Test(proxy_errors, a_chunked_request_body_is_forwarded_whole)
{
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    http_res r;
    const char *h[] = {"Transfer-Encoding: chunked",
                       "Content-Type: application/octet-stream", NULL};
    static char body[40000];
    size_t i;

    cr_assert_not_null(up);
    for (i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 26);
    fake_msp_options_init(&o);
    fm = proxy_to(up, &o);
    tk_http("POST", tk_url(fm, "/upload"), h, body, sizeof body, 0, &r);
    cr_expect_eq(r.status, 200, "%s %s", r.err, r.body);
    tk_free(&r);
    cr_assert_eq(ts_request_count(up), 1);
    cr_expect_eq(ts_request_at(up, 0)->body_len, sizeof body);
    cr_expect_eq(memcmp(ts_request_at(up, 0)->body, body, sizeof body), 0);
    fake_msp_stop(fm);
    ts_stop(up);
}

/* ---- its log ------------------------------------------------------------ */

static const char *const exec_headers[] = {
    "Authorization: Bearer " LIVE_KEY, "X-Brainstorm-Command-Id: " CID,
    "Idempotency-Key: " CID, "Content-Type: application/json", NULL};
static const char exec_body[] =
    "{\"tool\":\"msp.agent_health\",\"params\":{\"agent_id\":\"a-1\"},"
    "\"simulate\":false}";

Test(proxy_errors, the_log_line_of_a_forwarded_request_masks_its_credential)
{
    static logbook book = {PTHREAD_MUTEX_INITIALIZER, "", 0};
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    http_res r;

    cr_assert_not_null(up);
    fake_msp_options_init(&o);
    o.log = on_log;
    o.log_user = &book;
    fm = proxy_to(up, &o);
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), exec_headers,
            exec_body, strlen(exec_body), 0, &r);
    cr_expect_eq(r.status, 200, "%s", r.err);
    tk_free(&r);
    cr_expect(log_has(&book, "POST /api/v1/god-mode/execute 200 proxied",
                      10000L * MSP_TEST_TIMEOUT_SCALE),
              "%s", book.text);
    cr_expect(strstr(book.text, " auth=Bearer ") != NULL, "%s", book.text);
    cr_expect_null(strstr(book.text, LIVE_KEY), "%s", book.text);
    cr_expect_null(strstr(book.text, "3e9f1a7c5b2d"), "%s", book.text);
    fake_msp_stop(fm);
    ts_stop(up);
}

Test(proxy_errors, a_fixture_it_cannot_write_is_logged_and_the_reply_served)
{
    static logbook book = {PTHREAD_MUTEX_INITIALIZER, "", 0};
    ts_server *up = ts_start();
    fake_msp_options o;
    fake_msp *fm;
    char dir[] = "/tmp/fm-pxrec-XXXXXX";
    http_res r;

    cr_assert_not_null(up);
    cr_assert_not_null(mkdtemp(dir));
    fake_msp_options_init(&o);
    o.log = on_log;
    o.log_user = &book;
    o.record_dir = dir;
    fm = proxy_to(up, &o);
    cr_assert_eq(rmdir(dir), 0); /* gone between start and the exchange */
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), exec_headers,
            exec_body, strlen(exec_body), 0, &r);
    cr_expect_eq(r.status, 200, "%s", r.err);
    cr_expect(strstr(r.body, "\"stdout\":\"ok\"") != NULL, "%s", r.body);
    tk_free(&r);
    cr_expect(log_has(&book, "record: agent-health-200 not written: cannot",
                      10000L * MSP_TEST_TIMEOUT_SCALE),
              "%s", book.text);
    cr_expect_null(strstr(book.text, LIVE_KEY), "%s", book.text);
    fake_msp_stop(fm);
    ts_stop(up);
}
