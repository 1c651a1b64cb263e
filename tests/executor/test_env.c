/*
 * test_env.c — the BSM_USE_MSP_EXECUTOR=1 env wiring, every message.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* A fake environment: "NAME=value" strings. */
static const char *fake_getenv(void *user, const char *name)
{
    const char *const *env = user;
    size_t n = strlen(name);
    for (; *env; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

static int from_env(const char *const *env, msp_config *cfg, char *err)
{
    return msp_config_from_env(cfg, fake_getenv, (void *)env, err, 256);
}

#define FULL                                                      \
    "BSM_USE_MSP_EXECUTOR=1", "BSM_MSP_BASE_URL=http://msp:8080", \
        "BSM_MSP_API_KEY=" TEST_KEY, "BSM_MSP_TENANT_ID=tenant-a"

Test(env, not_requested_when_unset_or_not_1, .timeout = TEST_TIMEOUT(5))
{
    const char *unset[] = {"BSM_MSP_BASE_URL=http://x", NULL};
    const char *zero[] = {"BSM_USE_MSP_EXECUTOR=0", NULL};
    const char *yes[] = {"BSM_USE_MSP_EXECUTOR=true", NULL};
    msp_config cfg;
    char err[256] = "";
    memset(&cfg, 0x5a, sizeof cfg);
    cr_expect_eq(from_env(unset, &cfg, err), 0);
    cr_expect_eq(from_env(zero, &cfg, err), 0);
    cr_expect_eq(from_env(yes, &cfg, err), 0);
    cr_expect_eq(cfg.auth_mode, (msp_auth_mode)0x5a5a5a5a, "cfg untouched");
    cr_expect_str_eq(err, "");
}

Test(env, requested_and_complete_fills_the_config, .timeout = TEST_TIMEOUT(5))
{
    const char *env[] = {FULL, NULL};
    msp_config cfg;
    char err[256];
    cr_assert_eq(from_env(env, &cfg, err), 1);
    cr_expect_str_eq(cfg.base_url, "http://msp:8080");
    cr_expect_str_eq(cfg.api_key, TEST_KEY);
    cr_expect_str_eq(cfg.tenant_id, "tenant-a");
    cr_expect_eq(cfg.auth_mode, MSP_AUTH_SERVICE_KEY);
    cr_expect_eq(cfg.default_timeout_ms, 30000);
}

Test(env, missing_values_fail_in_the_spec_order, .timeout = TEST_TIMEOUT(5))
{
    static const struct {
        const char *env[4];
        const char *want;
    } cases[] = {
        {{"BSM_USE_MSP_EXECUTOR=1", NULL},
         "BSM_USE_MSP_EXECUTOR=1 but BSM_MSP_BASE_URL unset"},
        {{"BSM_USE_MSP_EXECUTOR=1", "BSM_MSP_BASE_URL=", "BSM_MSP_API_KEY=k",
          NULL},
         "BSM_USE_MSP_EXECUTOR=1 but BSM_MSP_BASE_URL unset"},
        {{"BSM_USE_MSP_EXECUTOR=1", "BSM_MSP_BASE_URL=http://x", NULL},
         "BSM_USE_MSP_EXECUTOR=1 but BSM_MSP_API_KEY unset"},
        {{"BSM_USE_MSP_EXECUTOR=1", "BSM_MSP_BASE_URL=http://x",
          "BSM_MSP_API_KEY=k", NULL},
         "BSM_USE_MSP_EXECUTOR=1 but BSM_MSP_TENANT_ID unset"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msp_config cfg;
        char err[256] = "";
        cr_expect_eq(from_env(cases[i].env, &cfg, err), MSP_ERR_CONFIG);
        cr_expect_str_eq(err, cases[i].want);
    }
}

Test(env, auth_mode_jwt_and_default, .timeout = TEST_TIMEOUT(5))
{
    const char *jwt[] = {FULL, "BSM_MSP_AUTH_MODE=jwt", NULL};
    const char *sk[] = {FULL, "BSM_MSP_AUTH_MODE=service_key", NULL};
    const char *empty[] = {FULL, "BSM_MSP_AUTH_MODE=", NULL};
    msp_config cfg;
    char err[256];
    cr_assert_eq(from_env(jwt, &cfg, err), 1);
    cr_expect_eq(cfg.auth_mode, MSP_AUTH_JWT);
    cr_assert_eq(from_env(sk, &cfg, err), 1);
    cr_expect_eq(cfg.auth_mode, MSP_AUTH_SERVICE_KEY);
    cr_assert_eq(from_env(empty, &cfg, err), 1);
    cr_expect_eq(cfg.auth_mode, MSP_AUTH_SERVICE_KEY);
}

Test(env, unknown_auth_mode_names_variable_and_value,
     .timeout = TEST_TIMEOUT(5))
{
    const char *env[] = {FULL, "BSM_MSP_AUTH_MODE=oauth", NULL};
    msp_config cfg;
    char err[256];
    cr_expect_eq(from_env(env, &cfg, err), MSP_ERR_CONFIG);
    cr_expect_str_eq(
        err, "BSM_MSP_AUTH_MODE must be service_key or jwt (got \"oauth\")");
}

Test(env, reads_the_process_environment_by_default, .timeout = TEST_TIMEOUT(5))
{
    msp_config cfg;
    char err[256];
    setenv("BSM_USE_MSP_EXECUTOR", "1", 1);
    setenv("BSM_MSP_BASE_URL", "https://msp.example", 1);
    setenv("BSM_MSP_API_KEY", TEST_KEY, 1);
    setenv("BSM_MSP_TENANT_ID", "t", 1);
    unsetenv("BSM_MSP_AUTH_MODE");
    cr_assert_eq(msp_config_from_env(&cfg, NULL, NULL, err, sizeof err), 1);
    cr_expect_str_eq(cfg.base_url, "https://msp.example");
    cr_expect_eq(msp_config_from_env(NULL, NULL, NULL, err, sizeof err),
                 MSP_ERR_ARG);
}
