/* The journal: exact request capture, contract violations, bounds, the
 * admin endpoints and key masking. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fm_testkit.h"

static fake_msp *fm;

static void setup(void)
{
    fake_msp_options o;

    fake_msp_options_init(&o);
    o.journal_max = 3;
    fm = tk_start(&o);
}

static void teardown(void)
{
    fake_msp_stop(fm);
}

TestSuite(journal, .init = setup, .fini = teardown,
          .timeout = TEST_TIMEOUT(10));

static void raw_request(const char *req, size_t len)
{
    int fd = tk_connect(fm);
    char buf[4096];

    cr_assert_eq(send(fd, req, len, 0), (ssize_t)len);
    cr_assert_gt(recv(fd, buf, sizeof buf, 0), 0);
    close(fd);
}

Test(journal, headers_are_kept_in_arrival_order_with_raw_body_bytes)
{
    static const char req[] =
        "POST /api/v1/god-mode/execute HTTP/1.1\r\n"
        "Host: h\r\nx-zeta: 1\r\nAuthorization: Bearer sk-test\r\n"
        "X-Alpha: 2\r\nX-Brainstorm-Command-Id: order-1\r\n"
        "Content-Length: 5\r\n\r\n\x01\x02{}\xff";
    fake_msp_entry *e = NULL;
    size_t n = 0;

    raw_request(req, sizeof req - 1);
    cr_assert_eq(fake_msp_journal_find(fm, "order-1", &e, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(e[0].n_headers, 6);
    cr_assert_str_eq(e[0].headers[0].name, "Host");
    cr_assert_str_eq(e[0].headers[1].name, "x-zeta");
    cr_assert_str_eq(e[0].headers[2].name, "Authorization");
    cr_assert_str_eq(e[0].headers[2].value, "Bearer sk-test",
                     "raw through the C API");
    cr_assert_str_eq(e[0].headers[3].name, "X-Alpha");
    cr_assert_eq(e[0].body_len, 5);
    cr_assert_eq(memcmp(e[0].body, "\x01\x02{}\xff", 5), 0);
    cr_assert_str_eq(e[0].method, "POST");
    cr_assert_str_eq(e[0].path, "/api/v1/god-mode/execute");
    cr_assert_eq(e[0].seq, 1);
    cr_assert_gt(e[0].time_ms, 0);
    fake_msp_entries_free(e, n);
}

Test(journal, a_clean_executor_request_has_no_violations)
{
    fake_msp_entry *e = NULL;
    size_t n = 0;
    http_res r;

    tk_execute(fm, "sk-test", "clean-1", tk_body("msp.list_devices", "{}"), &r);
    tk_free(&r);
    cr_assert_eq(fake_msp_journal_find(fm, "clean-1", &e, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(e[0].n_violations, 0);
    cr_assert_eq(e[0].status, 200);
    cr_assert_null(e[0].fixture);
    fake_msp_entries_free(e, n);
}

static int has(const fake_msp_entry *e, const char *v)
{
    size_t i;

    for (i = 0; i < e->n_violations; i++)
        if (strcmp(e->violations[i], v) == 0)
            return 1;
    return 0;
}

Test(journal, contract_violations_are_recorded)
{
    static const char body[] = "{\"tool\":\"msp.list_devices\",\"params\":[],"
                               "\"simulate\":true,\"x\":1}";
    const char *h[] = {"X-Brainstorm-Command-Id: viol-1",
                       "Authorization: Token abc", "Content-Type: text/plain",
                       NULL};
    fake_msp_entry *e = NULL;
    size_t n = 0;
    http_res r;

    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, body,
            sizeof body - 1, 0, &r);
    tk_free(&r);
    cr_assert_eq(fake_msp_journal_find(fm, "viol-1", &e, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert(has(&e[0], "Idempotency-Key missing"));
    cr_assert(has(&e[0], "Authorization is not \"Bearer <token>\""));
    cr_assert(has(&e[0], "Content-Type is not application/json"));
    cr_assert(has(&e[0], "body member \"params\" is not an object"));
    cr_assert(has(&e[0], "body member \"simulate\" is not false"));
    cr_assert(has(&e[0], "body has extra member \"x\""));
    fake_msp_entries_free(e, n);
}

Test(journal, the_check_reports_every_kind_of_violation)
{
    mspf_header hs[] = {{"X-Brainstorm-Command-Id", "a"},
                        {"Idempotency-Key", "b"}};
    mspf_request req = {"GET",
                        "/api/v1/god-mode/execute",
                        hs,
                        2,
                        (const unsigned char *)"{\"tool\":1,\"tool\":\"x\"}",
                        21};
    char **v = NULL;
    size_t n = 0, i;
    int found[6] = {0};

    cr_assert_eq(fake_msp_check_request(&req, &v, &n), 0);
    for (i = 0; i < n; i++) {
        found[0] |= strcmp(v[i], "method is GET, not POST") == 0;
        found[1] |=
            strcmp(v[i],
                   "Idempotency-Key differs from X-Brainstorm-Command-Id") == 0;
        found[2] |= strcmp(v[i], "Authorization missing") == 0;
        found[3] |= strcmp(v[i], "Content-Type missing") == 0;
        found[4] |= strcmp(v[i], "body member \"tool\" is not a string") == 0;
        found[5] |= strcmp(v[i], "body has duplicate member \"tool\"") == 0;
    }
    for (i = 0; i < 6; i++)
        cr_assert(found[i], "violation %zu missing", i);
    fake_msp_violations_free(v, n);

    req.body = (const unsigned char *)"[]";
    req.body_len = 2;
    cr_assert_eq(fake_msp_check_request(&req, &v, &n), 0);
    cr_assert_str_eq(v[n - 1], "body is not a JSON object");
    fake_msp_violations_free(v, n);
    req.body = (const unsigned char *)"{";
    req.body_len = 1;
    cr_assert_eq(fake_msp_check_request(&req, &v, &n), 0);
    cr_assert_str_eq(v[n - 1], "body is not JSON");
    fake_msp_violations_free(v, n);
    req.body = (const unsigned char *)"{}";
    req.body_len = 2;
    cr_assert_eq(fake_msp_check_request(&req, &v, &n), 0);
    cr_assert_str_eq(v[n - 1], "body member \"simulate\" missing");
    fake_msp_violations_free(v, n);
}

Test(journal, the_ring_drops_the_oldest_and_counts_them)
{
    char id[16];
    fake_msp_entry *e = NULL;
    size_t n = 0;
    http_res r;
    int i;

    for (i = 1; i <= 5; i++) {
        snprintf(id, sizeof id, "ring-%d", i);
        tk_execute(fm, "sk-test", id, tk_body("msp.list_devices", "{}"), &r);
        tk_free(&r);
    }
    cr_assert_eq(fake_msp_journal_find(fm, NULL, &e, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(e[0].seq, 3);
    cr_assert_eq(e[2].seq, 5);
    cr_assert_eq(fake_msp_journal_dropped(fm), 2);
    fake_msp_entries_free(e, n);
    cr_assert_eq(fake_msp_journal_find(fm, "ring-1", &e, &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_null(e);
}

Test(journal, admin_requests_show_the_journal_with_the_key_masked)
{
    static const char bin[] =
        "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n\xff\xfe\x00";
    http_res r;
    cJSON *d, *reqs, *e, *h;

    tk_execute(fm, "sk-test", "mask-1", tk_body("msp.list_devices", "{}"), &r);
    tk_free(&r);
    raw_request(bin, sizeof bin - 1);
    tk_http("GET", tk_url(fm, "/__admin/requests"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_null(strstr(r.body, "sk-test"), "the key leaked: %s", r.body);
    d = cJSON_Parse(r.body);
    cr_assert_not_null(d, "%s", r.body);
    cr_assert_eq(cJSON_GetObjectItem(d, "dropped")->valueint, 0);
    reqs = cJSON_GetObjectItem(d, "requests");
    cr_assert_eq(cJSON_GetArraySize(reqs), 2,
                 "admin requests are not journalled");
    e = cJSON_GetArrayItem(reqs, 0);
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(e, "headers"))
    {
        if (strcmp(cJSON_GetArrayItem(h, 0)->valuestring, "Authorization") == 0)
            cr_assert_str_eq(cJSON_GetArrayItem(h, 1)->valuestring,
                             "Bearer s\xe2\x80\xa6(7)");
    }
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(e, "body")));
    cr_assert_eq(cJSON_GetObjectItem(e, "status")->valueint, 200);
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(e, "violations")));
    e = cJSON_GetArrayItem(reqs, 1);
    cr_assert_null(cJSON_GetObjectItem(e, "body"));
    cr_assert_str_eq(cJSON_GetObjectItem(e, "body_base64")->valuestring,
                     "//4A");
    cJSON_Delete(d);
    tk_free(&r);
}

Test(journal, admin_delete_clears_the_journal)
{
    fake_msp_entry *e = NULL;
    size_t n = 0;
    http_res r;

    tk_execute(fm, "sk-test", "del-1", tk_body("msp.list_devices", "{}"), &r);
    tk_free(&r);
    tk_http("DELETE", tk_url(fm, "/__admin/requests"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    cr_assert_eq(fake_msp_journal_find(fm, NULL, &e, &n), 0);
    cr_assert_eq(n, 0);
}

Test(journal, fixture_matches_are_named_in_the_entry)
{
    fake_msp_entry *e = NULL;
    size_t n = 0;
    http_res r;

    tk_add_fixture(
        fm, tk_fixture_json("named", "named-1",
                            "\"response\":{\"status\":200,\"body\":{}}"));
    tk_execute(fm, "sk-test", "named-1", tk_body("msp.list_devices", "{}"), &r);
    tk_free(&r);
    cr_assert_eq(fake_msp_journal_find(fm, "named-1", &e, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(e[0].fixture, "named");
    cr_assert_eq(e[0].status, 200);
    fake_msp_entries_free(e, n);
}

Test(journal, free_of_null_does_nothing)
{
    fake_msp_entries_free(NULL, 0);
    fake_msp_violations_free(NULL, 0);
    fake_msp_stop(NULL);
    cr_assert(1);
}
