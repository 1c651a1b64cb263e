/*
 * test_config.c — configuration validation at creation, auth modes, error
 * strings and secret masking.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static msp_config base_config(void)
{
    msp_config cfg;
    msp_config_init(&cfg);
    cfg.base_url = "http://127.0.0.1:1";
    cfg.api_key = TEST_KEY;
    return cfg;
}

/* Creating must fail with MSP_ERR_CONFIG and a message containing want;
 * the key never shows up in it. */
static void refused(const msp_config *cfg, const char *want)
{
    char err[512] = "";
    msp_executor *ex = (msp_executor *)0x1;
    cr_expect_eq(msp_executor_new(cfg, &ex, err, sizeof err), MSP_ERR_CONFIG,
                 "%s", want);
    cr_expect_eq(ex, (msp_executor *)0x1, "out-parameter untouched on failure");
    cr_expect(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err, want);
    cr_expect(strstr(err, "secret") == NULL, "key leaked: %s", err);
}

Test(config, defaults_are_service_key_and_30s, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg;
    memset(&cfg, 0x5a, sizeof cfg);
    msp_config_init(&cfg);
    cr_expect_eq(cfg.auth_mode, MSP_AUTH_SERVICE_KEY);
    cr_expect_eq(cfg.default_timeout_ms, 30000);
    cr_expect_null(cfg.base_url);
    cr_expect_null(cfg.api_key);
    cr_expect_null(cfg.log);
    msp_config_init(NULL);
}

Test(config, valid_config_creates_an_executor, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg = base_config();
    msp_executor *ex = NULL;
    cr_expect_eq(msp_config_validate(&cfg, NULL, 0), MSP_OK);
    cr_assert_eq(msp_executor_new(&cfg, &ex, NULL, 0), MSP_OK);
    cr_expect_not_null(ex);
    msp_executor_free(ex);
    msp_executor_free(NULL);
}

Test(config, zero_negative_or_absurd_timeout_is_refused,
     .timeout = TEST_TIMEOUT(5))
{
    long long bad[] = {0, -1, -30000, MSP_MAX_TIMEOUT_MS + 1,
                       9223372036854775807LL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msp_config cfg = base_config();
        cfg.default_timeout_ms = bad[i];
        refused(&cfg, "must be a positive finite number");
    }
    msp_config cfg = base_config();
    cfg.default_timeout_ms = MSP_MAX_TIMEOUT_MS;
    cr_expect_eq(msp_config_validate(&cfg, NULL, 0), MSP_OK);
}

Test(config, empty_or_missing_base_url_is_refused, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg = base_config();
    cfg.base_url = NULL;
    refused(&cfg, "base_url is empty");
    cfg.base_url = "";
    refused(&cfg, "base_url is empty");
}

Test(config, base_url_must_be_http_or_https, .timeout = TEST_TIMEOUT(5))
{
    const char *bad[] = {
        "ftp://host",      "127.0.0.1:8080",     "http://",
        "https:///x",      "file:///etc/passwd", "http://a b",
        "http://host\r\n", "http://host/x?a=1",  "http://host/#frag"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msp_config cfg = base_config();
        cfg.base_url = bad[i];
        refused(&cfg, "base_url must be an http:// or https:// URL");
    }
    msp_config cfg = base_config();
    cfg.base_url = "HTTPS://msp.example";
    cr_expect_eq(msp_config_validate(&cfg, NULL, 0), MSP_OK);
}

Test(config, empty_api_key_is_refused, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg = base_config();
    cfg.api_key = NULL;
    refused(&cfg, "api_key is empty");
    cfg.api_key = "";
    refused(&cfg, "api_key is empty");
}

Test(config, api_key_with_control_bytes_is_refused_without_echo,
     .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg = base_config();
    cfg.api_key = "sk-secret\r\nX-Evil: 1";
    refused(&cfg, "api_key contains a control byte");
    char err[512];
    msp_config_validate(&cfg, err, sizeof err);
    cr_expect(strstr(err, "Evil") == NULL, "%s", err);
}

Test(config, unknown_auth_mode_value_is_refused, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg = base_config();
    cfg.auth_mode = (msp_auth_mode)7;
    refused(&cfg, "auth_mode must be service_key or jwt (got 7)");
}

Test(config, unreadable_ca_file_is_refused, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg = base_config();
    cfg.ca_file = "/nonexistent/ca.pem";
    refused(&cfg, "ca_file is not a readable file");
    cfg.ca_file = "";
    refused(&cfg, "ca_file is not a readable file");
}

Test(config, null_arguments_are_refused, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg = base_config();
    msp_executor *ex;
    char err[64];
    cr_expect_eq(msp_config_validate(NULL, err, sizeof err), MSP_ERR_ARG);
    cr_expect_eq(msp_executor_new(NULL, &ex, err, sizeof err), MSP_ERR_ARG);
    cr_expect_eq(msp_executor_new(&cfg, NULL, err, sizeof err), MSP_ERR_ARG);
    msp_context ctx = make_context(1000);
    msp_result r;
    cr_expect_eq(msp_executor_execute(NULL, &ctx, &r), MSP_ERR_ARG);
}

Test(config, auth_modes_parse_and_name, .timeout = TEST_TIMEOUT(5))
{
    msp_auth_mode m = MSP_AUTH_JWT;
    cr_expect_eq(msp_auth_mode_parse("service_key", &m), MSP_OK);
    cr_expect_eq(m, MSP_AUTH_SERVICE_KEY);
    cr_expect_eq(msp_auth_mode_parse("jwt", &m), MSP_OK);
    cr_expect_eq(m, MSP_AUTH_JWT);
    cr_expect_eq(msp_auth_mode_parse("JWT", &m), MSP_ERR_CONFIG);
    cr_expect_eq(msp_auth_mode_parse(NULL, &m), MSP_ERR_CONFIG);
    cr_expect_eq(msp_auth_mode_parse("jwt", NULL), MSP_ERR_CONFIG);
    cr_expect_str_eq(msp_auth_mode_name(MSP_AUTH_SERVICE_KEY), "service_key");
    cr_expect_str_eq(msp_auth_mode_name(MSP_AUTH_JWT), "jwt");
}

Test(config, strerror_is_never_null, .timeout = TEST_TIMEOUT(5))
{
    int codes[] = {MSP_OK,      MSP_ERR_NOMEM, MSP_ERR_CONFIG,
                   MSP_ERR_ARG, MSP_ERR_CURL,  42};
    const char *want[] = {"success",
                          "out of memory",
                          "invalid configuration",
                          "invalid argument",
                          "libcurl initialisation failed",
                          "unknown error"};
    for (size_t i = 0; i < 6; i++)
        cr_expect_str_eq(msp_strerror(codes[i]), want[i]);
}

/* The one masking policy: never more than 4 bytes and never more than a
 * quarter of the secret, then its length. */
Test(config, mask_secret_shows_at_most_a_quarter_and_four_bytes,
     .timeout = TEST_TIMEOUT(5))
{
    static const struct {
        const char *secret;
        const char *want;
    } vectors[] = {
        {"sk-test", "s\xe2\x80\xa6(7)"},
        {TEST_KEY, "sk-t\xe2\x80\xa6(19)"},
        {"sk-live-0123456789abcdef0123456789", "sk-l\xe2\x80\xa6(34)"},
        {"abcdefgh", "ab\xe2\x80\xa6(8)"},
        {"abcd", "a\xe2\x80\xa6(4)"},
        {"abc", "\xe2\x80\xa6(3)"},
        {"a", "\xe2\x80\xa6(1)"},
        {"", "\xe2\x80\xa6(0)"},
        {"a\nbcdefghijklmnop", "a?bc\xe2\x80\xa6(17)"},
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "??\xe2\x80\xa6(8)"},
    };
    char buf[MSP_MASK_BUF_SIZE];
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        msp_mask_secret(vectors[i].secret, buf, sizeof buf);
        cr_expect_str_eq(buf, vectors[i].want, "secret #%zu", i);
    }
    for (size_t n = 0; n < 40; n++)
        cr_expect(msp_mask_shown(n) <= 4 && msp_mask_shown(n) * 4 <= n,
                  "%zu bytes show %zu", n, msp_mask_shown(n));
    msp_mask_secret(NULL, buf, sizeof buf);
    cr_expect_str_eq(buf, "\xe2\x80\xa6(0)");
    msp_mask_secret(TEST_KEY, buf, 4);
    cr_expect_str_eq(buf, "sk-");
    msp_mask_secret("sk-test", NULL, 4);
}

Test(config, key_shorter_than_the_minimum_is_refused,
     .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg;
    char err[MSP_ERRBUF_SIZE];
    msp_config_init(&cfg);
    cfg.base_url = "http://127.0.0.1:1";
    cfg.api_key = "abc";
    cr_expect_eq(msp_config_validate(&cfg, err, sizeof err), MSP_ERR_CONFIG);
    cr_expect(strstr(err, "too short") != NULL, "%s", err);
    cr_expect(strstr(err, "abc") == NULL, "the key is not echoed: %s", err);
    cfg.api_key = "abcdef";
    cr_expect_eq(msp_config_validate(&cfg, err, sizeof err), MSP_OK, "%s", err);
}
