/* Per-tenant rate limit: 429 RATE_LIMITED with Retry-After. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdlib.h>
#include <string.h>

#include "fm_testkit.h"

static const char *const json_type[] = {"Content-Type: application/json", NULL};

static fake_msp *start_limited(long per_min)
{
    static const char *keys[] = {"sk-two=tenant-x"};
    fake_msp_options o;

    fake_msp_options_init(&o);
    o.rate_limit_per_min = per_min;
    o.keys = keys;
    o.n_keys = 1;
    return tk_start(&o);
}

Test(ratelimit, requests_over_the_limit_get_429_with_retry_after,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = start_limited(2);
    http_res r;
    char v[32];
    long s;

    tk_execute(fm, "sk-test", "a", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    tk_execute(fm, "sk-test", "b", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    tk_execute(fm, "sk-test", "c", tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 429, "RATE_LIMITED", "Rate limit exceeded");
    cr_assert_not_null(tk_header(&r, "Retry-After", v, sizeof v));
    s = strtol(v, NULL, 10);
    cr_assert(s >= 1 && s <= 60, "Retry-After %s", v);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(ratelimit, the_limit_is_per_tenant_not_per_token,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = start_limited(1);
    http_res r;

    tk_execute(fm, "sk-test", "a", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    tk_execute(fm, "sk-two", "b", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 429);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(ratelimit, reset_refills_the_buckets, .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = start_limited(1);
    http_res r;

    tk_execute(fm, "sk-test", "a", tk_body("msp.list_devices", "{}"), &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "b", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 429);
    tk_free(&r);
    tk_http("POST", tk_url(fm, "/__admin/reset"), json_type, "", 0, 0, &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    tk_execute(fm, "sk-test", "c", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(ratelimit, rejected_requests_before_the_limiter_do_not_count,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = start_limited(1);
    http_res r;

    tk_execute(fm, "sk-test", "a", tk_body("msp.nonexistent", "{}"), &r);
    cr_assert_eq(r.status, 404);
    tk_free(&r);
    tk_execute(fm, "sk-test", "b", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    fake_msp_stop(fm);
}
