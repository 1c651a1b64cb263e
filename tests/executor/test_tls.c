/*
 * test_tls.c — HTTPS against a CA generated at test time: verified with
 * ca_file, refused without it.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "tls_server.h"

static tls_material mat;
static tls_server *srv;
static char url[64];

static void start(void)
{
    cr_assert_eq(tls_material_make(&mat), 0,
                 "openssl could not make test certificates");
    srv = tls_server_start(&mat);
    cr_assert_not_null(srv);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", tls_server_port(srv));
}

static void stop(void)
{
    tls_server_stop(srv);
    tls_material_remove(&mat);
}

TestSuite(tls, .init = start, .fini = stop, .timeout = TEST_TIMEOUT(20));

static msp_result call(const char *ca_file, int insecure)
{
    msp_config cfg;
    msp_executor *ex;
    char err[256];
    msp_config_init(&cfg);
    cfg.base_url = url;
    cfg.api_key = TEST_KEY;
    cfg.ca_file = ca_file;
    cfg.insecure_skip_verify = insecure;
    cr_assert_eq(msp_executor_new(&cfg, &ex, err, sizeof err), MSP_OK, "%s",
                 err);
    msp_context ctx = make_context(5000);
    msp_result r;
    cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
    msp_executor_free(ex);
    return r;
}

Test(tls, verified_with_the_test_ca)
{
    msp_result r = call(mat.ca_pem, 0);
    cr_expect_eq(r.row, 6, "%s", r.err);
    cr_expect_str_eq(r.out, "tls ok");
    msp_result_free(&r);
}

Test(tls, refused_without_the_ca)
{
    msp_result r = call(NULL, 0);
    cr_expect_eq(r.row, 3);
    cr_expect_eq(r.exit_code, 124);
    cr_expect(starts_with(r.err, "msp-executor: transport error: "), "%s",
              r.err);
    msp_result_free(&r);
}

Test(tls, insecure_skip_verify_accepts_any_certificate)
{
    msp_result r = call(NULL, 1);
    cr_expect_eq(r.row, 6, "%s", r.err);
    msp_result_free(&r);
}
