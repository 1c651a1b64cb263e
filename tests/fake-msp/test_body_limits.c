/* Request bodies at and past their caps (server.c): a body of exactly
 * --max-body bytes is served, one byte more gets 413, and an admin body
 * over 1 MiB gets 413 however its pieces arrive. Each used to lose the
 * connection without a reply when the body reached the cap exactly (the
 * buffer keeps a NUL after the body, so a full cap did not fit). A fake in
 * process on port 0, libcurl clients. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fm_testkit.h"
#include "test_timeout.h"

TestSuite(body_limits, .timeout = TEST_TIMEOUT(30));

static const char *const exec_headers[] = {
    "Authorization: Bearer sk-test", "Content-Type: application/json", NULL};

/* A list_devices body padded with spaces to n bytes (malloc'd). */
static char *padded_body(size_t n)
{
    static const char b[] =
        "{\"tool\":\"msp.list_devices\",\"params\":{},\"simulate\":false}";
    char *p = malloc(n + 1);

    cr_assert_not_null(p);
    cr_assert_geq(n, sizeof b - 1);
    memcpy(p, b, sizeof b - 1);
    memset(p + sizeof b - 1, ' ', n - (sizeof b - 1));
    p[n] = '\0';
    return p;
}

Test(body_limits, a_body_of_exactly_max_body_bytes_is_served)
{
    static const size_t sizes[] = {1023, 1024};
    fake_msp_options o;
    fake_msp *fm;
    size_t i;

    fake_msp_options_init(&o);
    o.max_body = 1024;
    fm = tk_start(&o);
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *body = padded_body(sizes[i]);
        http_res r;
        tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), exec_headers,
                body, sizes[i], 0, &r);
        cr_expect_eq(r.rc, CURLE_OK, "%zu bytes: %s", sizes[i], r.err);
        cr_expect_eq(r.status, 200, "%zu bytes: %s", sizes[i], r.body);
        tk_free(&r);
        free(body);
    }
    fake_msp_stop(fm);
}

Test(body_limits, one_byte_over_max_body_gets_413)
{
    fake_msp_options o;
    fake_msp *fm;
    char *body = padded_body(1025);
    http_res r;

    fake_msp_options_init(&o);
    o.max_body = 1024;
    fm = tk_start(&o);
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), exec_headers, body,
            1025, 0, &r);
    tk_assert_error(&r, 413, "PAYLOAD_TOO_LARGE", "1024 bytes");
    tk_free(&r);
    free(body);
    fake_msp_stop(fm);
}

/* libcurl sends a large body in 64 KiB pieces: the sixteenth ends exactly
 * at 1 MiB, the admin API's cap. */
Test(body_limits, an_admin_body_over_1_mib_gets_413)
{
    static const size_t sizes[] = {(1u << 20) + 1, (1u << 20) + 4096,
                                   (1u << 20) + 65536};
    const char *const json_type[] = {"Content-Type: application/json", NULL};
    fake_msp *fm = tk_start(NULL);
    size_t i;

    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *body = malloc(sizes[i]);
        http_res r;
        cr_assert_not_null(body);
        memset(body, ' ', sizes[i]);
        body[0] = '{';
        body[sizes[i] - 1] = '}';
        tk_http("POST", tk_url(fm, "/__admin/fixtures"), json_type, body,
                sizes[i], 0, &r);
        cr_expect_eq(r.rc, CURLE_OK, "%zu bytes: %s", sizes[i], r.err);
        tk_assert_error(&r, 413, "PAYLOAD_TOO_LARGE", "1 MiB");
        tk_free(&r);
        tk_http("PUT", tk_url(fm, "/__admin/fixtures/big"), json_type, body,
                sizes[i], 0, &r);
        cr_expect_eq(r.rc, CURLE_OK, "%zu bytes: %s", sizes[i], r.err);
        tk_assert_error(&r, 413, "PAYLOAD_TOO_LARGE", "1 MiB");
        tk_free(&r);
        free(body);
    }
    fake_msp_stop(fm);
}
