/*
 * helpers.h — small helpers shared by the executor test files.
 */
#ifndef MSP_EXECUTOR_TEST_HELPERS_H
#define MSP_EXECUTOR_TEST_HELPERS_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "executor/msp_executor.h"

#define TEST_KEY "sk-test-secret-4242"
#define TEST_ID  "3f0c2a4e-0b1d-4c57-9e7a-5d2b8c1e9f00"

/* Collects log lines (thread-safe) for assertions. */
typedef struct log_sink {
    pthread_mutex_t lock;
    char text[16384];
    int lines;
    int errors;
} log_sink;

static inline void sink_log(void *user, msp_log_level level, const char *line)
{
    log_sink *s = user;
    pthread_mutex_lock(&s->lock);
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof s->text - len, "%s\n", line);
    s->lines++;
    s->errors += level == MSP_LOG_ERROR;
    pthread_mutex_unlock(&s->lock);
}

/* An executor for base_url with the test key; asserts it was created. */
static inline msp_executor *make_executor(const char *base_url, log_sink *sink)
{
    msp_config cfg;
    msp_executor *ex = NULL;
    char err[256] = "";
    msp_config_init(&cfg);
    cfg.base_url = base_url;
    cfg.api_key = TEST_KEY;
    cfg.tenant_id = "tenant-a";
    if (sink) {
        pthread_mutex_init(&sink->lock, NULL);
        cfg.log = sink_log;
        cfg.log_user = sink;
    }
    cr_assert_eq(msp_executor_new(&cfg, &ex, err, sizeof err), MSP_OK, "%s",
                 err);
    return ex;
}

static inline msp_context make_context(long long deadline_ms)
{
    msp_context ctx = {TEST_ID, "msp.list_devices", "{\"query\":\"laptop\"}",
                       deadline_ms, "corr-0001"};
    return ctx;
}

static inline int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

#endif
