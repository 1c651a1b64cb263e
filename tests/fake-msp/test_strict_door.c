/* The door checks of fake-msp (strict.c) seen from a client: a request
 * body whose member names repeat under another spelling, hold a NUL or
 * nest too deep is refused with a message naming where; bodies that only
 * look unusual (many members, escapes in values, whitespace) pass; the
 * admin API's Host, Origin and Content-Type checks take what a browser on
 * this server sends and nothing else. A fake in process on port 0, libcurl
 * clients. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fm_testkit.h"
#include "test_timeout.h"

TestSuite(strict_door, .timeout = TEST_TIMEOUT(30));

static const char *const plain[] = {"Authorization: Bearer sk-test",
                                    "Content-Type: application/json", NULL};

/* POSTs body to execute and returns the response (free with tk_free). */
static void execute(fake_msp *fm, const char *body, http_res *r)
{
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), plain, body,
            strlen(body), 0, r);
}

static void expect_refused(fake_msp *fm, const char *body, const char *why)
{
    http_res r;

    execute(fm, body, &r);
    tk_assert_error(&r, 400, "VALIDATION", why);
    tk_free(&r);
}

/* A list_devices body whose "params" object is params_text. */
static const char *with_params(const char *params_text)
{
    static char b[8192];

    snprintf(b, sizeof b,
             "{\"tool\":\"msp.list_devices\",\"params\":%s,\"simulate\":false}",
             params_text);
    return b;
}

Test(strict_door, a_member_name_spelled_with_a_two_byte_escape_is_a_duplicate)
{
    fake_msp *fm = tk_start(NULL);

    /* "café" written once as UTF-8, once as \u00e9 */
    expect_refused(fm, with_params("{\"caf\xc3\xa9\":1,\"caf\\u00e9\":2}"),
                   "duplicate member \"params.caf\xc3\xa9\"");
    fake_msp_stop(fm);
}

Test(strict_door,
     a_member_name_spelled_with_an_upper_case_three_byte_escape_is_a_duplicate)
{
    fake_msp *fm = tk_start(NULL);

    /* the euro sign, once as UTF-8, once as \u20AC (upper-case hex) */
    expect_refused(fm, with_params("{\"\xe2\x82\xac\":1, \"\\u20AC\" : 2}"),
                   "duplicate member \"params.\xe2\x82\xac\"");
    fake_msp_stop(fm);
}

Test(strict_door, short_escapes_in_member_names_decode_to_the_same_name)
{
    fake_msp *fm = tk_start(NULL);

    /* \n \t \r \b \f \/ against the same characters as \u escapes */
    expect_refused(fm,
                   with_params("{\"k\\n\\t\\r\\b\\f\\/\":1,"
                               "\"k\\u000a\\u0009\\u000d\\u0008\\u000c/\":2}"),
                   "duplicate member \"params.k");
    fake_msp_stop(fm);
}

Test(strict_door, a_nul_in_a_member_name_is_refused)
{
    fake_msp *fm = tk_start(NULL);

    expect_refused(fm, with_params("{\"a\\u0000b\":1}"),
                   "NUL in the member name in \"params\"");
    fake_msp_stop(fm);
}

Test(strict_door, a_duplicate_inside_an_array_is_named_by_its_index)
{
    fake_msp *fm = tk_start(NULL);

    expect_refused(
        fm, with_params("{\"list\":[1, \"x\", [], {\"a\":1,\"\\u0061\":2}]}"),
        "duplicate member \"params.list[3].a\"");
    fake_msp_stop(fm);
}

Test(strict_door, a_nul_in_an_array_element_is_refused_naming_it)
{
    fake_msp *fm = tk_start(NULL);

    expect_refused(fm, with_params("{\"list\":[\"ok\",\"x\\u0000y\"]}"),
                   "NUL in \"params.list[1]\"");
    fake_msp_stop(fm);
}

Test(strict_door, nesting_past_64_levels_is_refused)
{
    fake_msp *fm = tk_start(NULL);
    char params[512];
    size_t i, k = 0;

    /* within cJSON's own limit, past the door's: 70 arrays in params */
    params[k++] = '{';
    memcpy(params + k, "\"deep\":", 7);
    k += 7;
    for (i = 0; i < 70; i++)
        params[k++] = '[';
    for (i = 0; i < 70; i++)
        params[k++] = ']';
    params[k++] = '}';
    params[k] = '\0';
    expect_refused(fm, with_params(params), "nesting deeper than 64 levels");
    fake_msp_stop(fm);
}

/* Bodies the quick walk leaves to the full one, that the full one passes:
 * the door says nothing about them (whatever the tool then answers). */
Test(strict_door, many_members_escaped_values_and_whitespace_pass_the_door)
{
    fake_msp *fm = tk_start(NULL);
    char params[4096];
    size_t k = 0;
    int i;
    http_res r;

    /* 40 distinct members (the quick walk keeps 16) */
    k += (size_t)snprintf(params + k, sizeof params - k, "{");
    for (i = 0; i < 40; i++)
        k += (size_t)snprintf(params + k, sizeof params - k, "%s\"m%d\": %d",
                              i ? ", " : "", i, i);
    snprintf(params + k, sizeof params - k, "}");
    execute(fm, with_params(params), &r);
    cr_expect_null(strstr(r.body, "Request body:"), "%s", r.body);
    cr_expect_neq(r.status, 0, "%s", r.err);
    tk_free(&r);

    /* escapes in values and nested arrays, spread over lines */
    execute(fm,
            "{\n\t\"tool\" : \"msp.list_devices\",\r\n \"params\" : {\"q\" : "
            "\"\\u00e9\\n\", \"l\" : [ [ 1 , 2 ] , { \"a\" : \"\\u0041\" } ]"
            " } ,\n \"simulate\" : false }",
            &r);
    cr_expect_null(strstr(r.body, "Request body:"), "%s", r.body);
    cr_expect_neq(r.status, 0, "%s", r.err);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* ---- the admin API's door ----------------------------------------------- */

static long admin_get(fake_msp *fm, const char *header)
{
    const char *h[] = {header, NULL};
    http_res r;
    long st;

    tk_http("GET", tk_url(fm, "/__admin/requests"), h, NULL, 0, 0, &r);
    st = r.status;
    tk_free(&r);
    return st;
}

Test(strict_door, a_host_naming_another_server_on_this_port_is_refused)
{
    fake_msp *fm = tk_start(NULL);
    char evil[96], spoof[96];

    snprintf(evil, sizeof evil, "Host: evil.example:%u",
             (unsigned)fake_msp_port(fm));
    /* the bound address followed by more: not a prefix match */
    snprintf(spoof, sizeof spoof, "Host: 127.0.0.10:%u",
             (unsigned)fake_msp_port(fm));
    cr_expect_eq(admin_get(fm, evil), 403, "DNS rebinding on the right port");
    cr_expect_eq(admin_get(fm, spoof), 403);
    cr_expect_eq(admin_get(fm, "Host: 127.0.0.1"), 403, "no port");
    fake_msp_stop(fm);
}

Test(strict_door, an_https_origin_of_this_server_passes_other_schemes_do_not)
{
    fake_msp *fm = tk_start(NULL);
    char https[96], ftp[96], other_port[96];

    snprintf(https, sizeof https, "Origin: https://localhost:%u",
             (unsigned)fake_msp_port(fm));
    snprintf(ftp, sizeof ftp, "Origin: ftp://127.0.0.1:%u",
             (unsigned)fake_msp_port(fm));
    snprintf(
        other_port, sizeof other_port, "Origin: http://127.0.0.1:%u",
        (unsigned)(fake_msp_port(fm) == 65535 ? 1 : fake_msp_port(fm) + 1));
    cr_expect_eq(admin_get(fm, https), 200);
    cr_expect_eq(admin_get(fm, ftp), 403);
    cr_expect_eq(admin_get(fm, other_port), 403);
    fake_msp_stop(fm);
}

Test(strict_door, on_ipv6_loopback_the_bracketed_address_is_this_server)
{
    fake_msp_options o;
    fake_msp *fm;
    char err[512] = "", url[128], host[96], bad[96];
    const char *good_h[] = {host, NULL}, *bad_h[] = {bad, NULL};
    http_res r;

    fake_msp_options_init(&o);
    o.host = "::1";
    if (fake_msp_start(&o, &fm, err, sizeof err) != 0)
        cr_skip_test("no IPv6 loopback here: %s", err);
    snprintf(url, sizeof url, "http://[::1]:%u/__admin/requests",
             (unsigned)fake_msp_port(fm));
    snprintf(host, sizeof host, "Host: [::1]:%u", (unsigned)fake_msp_port(fm));
    snprintf(bad, sizeof bad, "Host: [::2]:%u", (unsigned)fake_msp_port(fm));
    tk_http("GET", url, good_h, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 200, "%s %s", r.err, r.body);
    tk_free(&r);
    tk_http("GET", url, bad_h, NULL, 0, 0, &r);
    cr_expect_eq(r.status, 403, "%s %s", r.err, r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(strict_door, json_with_a_parameter_after_a_space_is_json_and_jsonx_is_not)
{
    fake_msp *fm = tk_start(NULL);
    const char *spaced[] = {"Content-Type: application/json ; charset=utf-8",
                            NULL};
    const char *suffixed[] = {"Content-Type: application/json x", NULL};
    const char *fx = tk_fixture_json("door-ct", "c-door", "\"response\":{}");
    http_res r;

    tk_http("POST", tk_url(fm, "/__admin/fixtures"), spaced, fx, strlen(fx), 0,
            &r);
    cr_expect_eq(r.status, 201, "%s", r.body);
    tk_free(&r);
    tk_http("POST", tk_url(fm, "/__admin/fixtures"), suffixed, fx, strlen(fx),
            0, &r);
    cr_expect_eq(r.status, 415, "%s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}
