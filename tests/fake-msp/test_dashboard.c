/*
 * test_dashboard.c — GET /__admin/, the dashboard: an HTML page behind the
 * admin gate, hostile request bytes shown as text, keys masked, the
 * journal newest first with paging, the closest fixture of a request no
 * fixture matched; a browser's Basic token reads and never writes.
 * (ci/browser loads the page in Chromium.)
 */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <string.h>

#include "fm_testkit.h"

TestSuite(dashboard, .timeout = TEST_TIMEOUT(30));

#define HOSTILE "<script>document.title='PWNED'</script>"

Test(dashboard, is_an_html_page_with_a_csp_and_its_own_nonce)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    char type[128], csp[400];
    tk_http("GET", tk_url(fm, "/__admin/"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_expect_str_eq(tk_header(&r, "Content-Type", type, sizeof type),
                     "text/html; charset=utf-8");
    cr_assert_not_null(
        tk_header(&r, "Content-Security-Policy", csp, sizeof csp));
    cr_expect(strstr(csp, "default-src 'none'") && strstr(csp, "'nonce-"));
    const char *nonce = strstr(csp, "'nonce-") + 7;
    char want[64];
    snprintf(want, sizeof want, "<script nonce=\"%.32s\">", nonce);
    cr_expect(strstr(r.body, want) != NULL, "the page's script has the nonce");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(dashboard, shows_hostile_request_bytes_as_text_and_masks_the_key)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    const char *h[] = {"Authorization: Bearer sk-test",
                       "Content-Type: application/json", "X-Hostile: " HOSTILE,
                       NULL};
    static const char body[] = "{\"tool\":\"<img src=x onerror=1>\0\x01\"}";
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, body,
            sizeof body - 1, 0, &r);
    tk_free(&r);
    tk_http("GET", tk_url(fm, "/__admin/"), NULL, NULL, 0, 0, &r);
    cr_assert_eq(r.status, 200);
    cr_expect(strstr(r.body, HOSTILE) == NULL, "markup passed through");
    cr_expect(strstr(r.body, "&lt;script&gt;document.title=&#39;PWNED&#39;"
                             "&lt;/script&gt;") != NULL);
    cr_expect(strstr(r.body, "&lt;img src=x onerror=1&gt;") != NULL);
    cr_expect(strstr(r.body, "<span class=\"cc\">\xe2\x90\x80</span>"
                             "<span class=\"cc\">\\x01</span>") != NULL,
              "NUL and \\x01 not shown");
    cr_expect(strstr(r.body, "sk-test") == NULL, "the key is in the page");
    cr_expect(strstr(r.body, "Bearer s\xe2\x80\xa6(7)") != NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(dashboard, names_the_closest_fixture_of_an_unmatched_request)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    tk_add_fixture(
        fm, tk_fixture_json("near-miss", "11111111-1111-4111-8111-111111111111",
                            "\"response\":{\"status\":200,\"body\":{}}"));
    tk_execute(fm, "sk-test", "22222222-2222-4222-8222-222222222222",
               tk_body("msp.agent_health", "{\"agent_id\":\"agent-001\"}"), &r);
    tk_free(&r);
    tk_http("GET", tk_url(fm, "/__admin/"), NULL, NULL, 0, 0, &r);
    cr_expect(strstr(r.body, "id=\"unmatched-count\">1<") != NULL);
    cr_expect(strstr(r.body, "closest: near-miss: ") != NULL, "%s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(dashboard, pages_the_journal_newest_first)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    for (int i = 0; i < 7; i++) {
        tk_http("GET", tk_url(fm, "/health"), NULL, NULL, 0, 0, &r);
        tk_free(&r);
    }
    tk_http("GET", tk_url(fm, "/__admin/?limit=3"), NULL, NULL, 0, 0, &r);
    const char *first = strstr(r.body, "<tr class=\"req\" id=\"req-");
    cr_assert_not_null(first);
    cr_expect(strncmp(first + 24, "7\"", 2) == 0, "newest first: %.40s", first);
    cr_expect(strstr(r.body, "page 1 of 3") != NULL);
    tk_free(&r);
    tk_http("GET", tk_url(fm, "/__admin/?limit=3&page=2"), NULL, NULL, 0, 0,
            &r);
    cr_expect(strstr(r.body, "page 3 of 3") != NULL);
    cr_expect(strstr(r.body, "id=\"req-1\"") != NULL);
    cr_expect(strstr(r.body, "id=\"req-2\"") == NULL);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(dashboard, sits_behind_the_admin_gate)
{
    fake_msp_options o;
    fake_msp_options_init(&o);
    o.admin_token = "tok-123456789";
    fake_msp *fm = tk_start(&o);
    http_res r;
    char www[128];
    tk_http("GET", tk_url(fm, "/__admin/"), NULL, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 401);
    cr_expect(tk_header(&r, "WWW-Authenticate", www, sizeof www) &&
              strncmp(www, "Basic ", 6) == 0);
    tk_free(&r);
    const char *bearer[] = {"Authorization: Bearer tok-123456789", NULL};
    tk_http("GET", tk_url(fm, "/__admin/"), bearer, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200);
    cr_expect(strstr(r.body, "tok-123456789") == NULL);
    tk_free(&r);
    const char *host[] = {"Host: evil.example", NULL};
    tk_http("GET", tk_url(fm, "/__admin/"), host, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 403);
    tk_free(&r);
    const char *origin[] = {"Authorization: Bearer tok-123456789",
                            "Origin: http://evil.example", NULL};
    tk_http("GET", tk_url(fm, "/__admin/"), origin, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 403);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(dashboard, a_browsers_basic_token_reads_and_never_writes)
{
    fake_msp_options o;
    fake_msp_options_init(&o);
    o.admin_token = "tok-123456789";
    fake_msp *fm = tk_start(&o);
    http_res r;
    /* base64("me:tok-123456789") */
    const char *basic[] = {"Authorization: Basic bWU6dG9rLTEyMzQ1Njc4OQ==",
                           "Content-Type: application/json", NULL};
    tk_http("GET", tk_url(fm, "/__admin/"), basic, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200);
    tk_free(&r);
    tk_http("DELETE", tk_url(fm, "/__admin/requests"), basic, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 401);
    tk_free(&r);
    tk_http("POST", tk_url(fm, "/__admin/reset"), basic, "{}", 2, 0, &r);
    cr_expect_eq(r.status, 401);
    tk_free(&r);
    /* base64("me:wrong") */
    const char *wrong[] = {"Authorization: Basic bWU6d3Jvbmc=", NULL};
    tk_http("GET", tk_url(fm, "/__admin/"), wrong, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 401);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* The Basic token is decoded strictly (msp_base64_decode): unpadded is
 * fine, but text after the padding or stray bits in the last digit are not
 * the token (the old decoder stopped at the first '=' and dropped them). */
Test(dashboard, a_basic_token_is_strict_base64_padded_or_not)
{
    fake_msp_options o;
    fake_msp_options_init(&o);
    o.admin_token = "tok-123456789";
    fake_msp *fm = tk_start(&o);
    static const struct {
        const char *header;
        long status;
    } cases[] = {
        {"Authorization: Basic bWU6dG9rLTEyMzQ1Njc4OQ==", 200},
        {"Authorization: Basic bWU6dG9rLTEyMzQ1Njc4OQ", 200},
        {"Authorization: Basic bWU6dG9rLTEyMzQ1Njc4OQ==x", 401},
        {"Authorization: Basic bWU6dG9rLTEyMzQ1Njc4OR==", 401},
        {"Authorization: Basic bWU6dG9r LTEyMzQ1Njc4OQ==", 401},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_res r;
        const char *h[] = {cases[i].header, NULL};
        tk_http("GET", tk_url(fm, "/__admin/"), h, NULL, 0, 0, &r);
        cr_expect_eq(r.status, cases[i].status, "%s", cases[i].header);
        tk_free(&r);
    }
    fake_msp_stop(fm);
}

Test(dashboard, a_page_of_nul_bodies_stays_under_its_cap)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    static char body[64 * 1024]; /* NUL bytes: the widest escape */
    const char *h[] = {"Content-Type: application/json", NULL};
    for (int i = 0; i < 30; i++) {
        tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, body,
                sizeof body, 0, &r);
        tk_free(&r);
    }
    tk_http("GET", tk_url(fm, "/__admin/?limit=100"), NULL, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200, "%.300s", r.body);
    cr_expect(strstr(r.body, "65536 bytes") != NULL);
    cr_expect(strstr(r.body, "more bytes") != NULL, "the body is not cut");
    tk_free(&r);
    fake_msp_stop(fm);
}
