/*
 * config.c — executor configuration: defaults, validation, the env wiring,
 * auth modes and error strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "internal.h"

const char *msp_strerror(int err)
{
    switch (err) {
    case MSP_OK: return "success";
    case MSP_ERR_NOMEM: return "out of memory";
    case MSP_ERR_CONFIG: return "invalid configuration";
    case MSP_ERR_ARG: return "invalid argument";
    case MSP_ERR_CURL: return "libcurl initialisation failed";
    default: return "unknown error";
    }
}

const char *msp_auth_mode_name(msp_auth_mode mode)
{
    return mode == MSP_AUTH_JWT ? "jwt" : "service_key";
}

int msp_auth_mode_parse(const char *text, msp_auth_mode *out)
{
    if (!text || !out)
        return MSP_ERR_CONFIG;
    if (strcmp(text, "service_key") == 0)
        *out = MSP_AUTH_SERVICE_KEY;
    else if (strcmp(text, "jwt") == 0)
        *out = MSP_AUTH_JWT;
    else
        return MSP_ERR_CONFIG;
    return MSP_OK;
}

void msp_config_init(msp_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof *cfg);
    cfg->auth_mode = MSP_AUTH_SERVICE_KEY;
    cfg->default_timeout_ms = MSP_DEFAULT_TIMEOUT_MS;
}

/* Validation never echoes the API key: only its masked form. */
int msp_config_validate(const msp_config *cfg, char *errbuf, size_t errlen)
{
    if (!cfg) {
        Msp_set_error(errbuf, errlen, "configuration is NULL");
        return MSP_ERR_ARG;
    }
    const char *url = cfg->base_url;
    if (!url || !*url) {
        Msp_set_error(errbuf, errlen, "base_url is empty");
        return MSP_ERR_CONFIG;
    }
    size_t scheme = strncasecmp(url, "http://", MSP_STRLEN("http://")) == 0
                        ? MSP_STRLEN("http://")
                    : strncasecmp(url, "https://", MSP_STRLEN("https://")) == 0
                        ? MSP_STRLEN("https://")
                        : 0;
    if (scheme == 0 || url[scheme] == '\0' || url[scheme] == '/' ||
        Msp_has_control_byte(url, strlen(url)) || strpbrk(url, " ?#")) {
        /* A query or fragment would swallow the path appended to it. */
        Msp_set_error(errbuf, errlen,
                      "base_url must be an http:// or https:// URL with a host "
                      "and no query or fragment (got \"%.200s\")",
                      Msp_has_control_byte(url, strlen(url)) ? "<control bytes>"
                                                             : url);
        return MSP_ERR_CONFIG;
    }
    if (!cfg->api_key || !*cfg->api_key) {
        Msp_set_error(errbuf, errlen, "api_key is empty");
        return MSP_ERR_CONFIG;
    }
    if (strlen(cfg->api_key) < MSP_MIN_KEY_LEN) {
        /* Redacting a key of a few bytes from output would star out
         * ordinary text; such a key is no credential anyway. */
        Msp_set_error(errbuf, errlen,
                      "api_key is too short: %zu bytes, at least %d needed",
                      strlen(cfg->api_key), MSP_MIN_KEY_LEN);
        return MSP_ERR_CONFIG;
    }
    if (Msp_has_control_byte(cfg->api_key, strlen(cfg->api_key))) {
        char masked[MSP_MASK_BUF_SIZE];
        msp_mask_secret(cfg->api_key, masked, sizeof masked);
        Msp_set_error(errbuf, errlen,
                      "api_key contains a control byte (CR, LF or other) "
                      "and cannot go into a header (key %s)",
                      masked);
        return MSP_ERR_CONFIG;
    }
    if (cfg->auth_mode != MSP_AUTH_SERVICE_KEY &&
        cfg->auth_mode != MSP_AUTH_JWT) {
        Msp_set_error(errbuf, errlen,
                      "auth_mode must be service_key or jwt (got %d)",
                      (int)cfg->auth_mode);
        return MSP_ERR_CONFIG;
    }
    if (cfg->default_timeout_ms <= 0 ||
        cfg->default_timeout_ms > MSP_MAX_TIMEOUT_MS) {
        Msp_set_error(errbuf, errlen,
                      "default_timeout_ms must be a positive finite number "
                      "of at most %lld (got %lld)",
                      MSP_MAX_TIMEOUT_MS, cfg->default_timeout_ms);
        return MSP_ERR_CONFIG;
    }
    if (cfg->ca_file && (!*cfg->ca_file || access(cfg->ca_file, R_OK) != 0)) {
        Msp_set_error(errbuf, errlen,
                      "ca_file is not a readable file (got \"%.200s\")",
                      cfg->ca_file);
        return MSP_ERR_CONFIG;
    }
    return MSP_OK;
}

static const char *env_lookup(msp_getenv_fn fn, void *user, const char *name)
{
    const char *v = fn ? fn(user, name) : getenv(name);
    return (v && *v) ? v : NULL;
}

/* Checked in the spec's order; the texts are the spec's, verbatim. */
int msp_config_from_env(msp_config *cfg, msp_getenv_fn getenv_fn, void *user,
                        char *errbuf, size_t errlen)
{
    if (!cfg)
        return MSP_ERR_ARG;
    const char *use = env_lookup(getenv_fn, user, "BSM_USE_MSP_EXECUTOR");
    if (!use || strcmp(use, "1") != 0)
        return 0;
    static const char *const required[] = {
        "BSM_MSP_BASE_URL", "BSM_MSP_API_KEY", "BSM_MSP_TENANT_ID"};
    const char *values[3];
    for (size_t i = 0; i < 3; i++) {
        values[i] = env_lookup(getenv_fn, user, required[i]);
        if (!values[i]) {
            Msp_set_error(errbuf, errlen, "BSM_USE_MSP_EXECUTOR=1 but %s unset",
                          required[i]);
            return MSP_ERR_CONFIG;
        }
    }
    msp_auth_mode mode = MSP_AUTH_SERVICE_KEY;
    const char *mode_text = env_lookup(getenv_fn, user, "BSM_MSP_AUTH_MODE");
    if (mode_text && msp_auth_mode_parse(mode_text, &mode) != MSP_OK) {
        Msp_set_error(
            errbuf, errlen,
            "BSM_MSP_AUTH_MODE must be service_key or jwt (got \"%.100s\")",
            mode_text);
        return MSP_ERR_CONFIG;
    }
    msp_config_init(cfg);
    cfg->base_url = values[0];
    cfg->api_key = values[1];
    cfg->tenant_id = values[2];
    cfg->auth_mode = mode;
    return 1;
}
