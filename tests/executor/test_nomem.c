/*
 * test_nomem.c — every allocation the library makes may fail: the call
 * then returns MSP_ERR_NOMEM (or a complete result) and never crashes or
 * leaks. malloc/calloc/realloc are wrapped at link time (-Wl,--wrap) and
 * cJSON gets the same allocator through cJSON_InitHooks; only the test's
 * own thread is affected, so the test server keeps working.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "helpers.h"
#include "test_server.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static _Thread_local int countdown = -1; /* allocations left; -1: unlimited */
static _Thread_local int injected;

static int should_fail(void)
{
    if (countdown < 0)
        return 0;
    if (countdown == 0) {
        injected = 1;
        return 1;
    }
    countdown--;
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

static void *json_malloc(size_t n)
{
    return __wrap_malloc(n);
}

static ts_server *srv;

static void start(void)
{
    cJSON_Hooks hooks = {json_malloc, free};
    cJSON_InitHooks(&hooks);
    srv = ts_start();
    cr_assert_not_null(srv);
}

static void stop(void)
{
    ts_stop(srv);
}

TestSuite(nomem, .init = start, .fini = stop, .timeout = TEST_TIMEOUT(30));

/* Runs op with the n-th allocation failing, for n = 0, 1, ... until op
 * runs without an injected failure. op returns an msp_err. */
#define EVERY_FAILURE(op, on_ok)                                             \
    for (int n = 0; n < 500; n++) {                                          \
        injected = 0;                                                        \
        countdown = n;                                                       \
        int rc_ = (op);                                                      \
        countdown = -1;                                                      \
        cr_assert(rc_ == MSP_OK || rc_ == MSP_ERR_NOMEM, "rc %d at %d", rc_, \
                  n);                                                        \
        if (rc_ == MSP_OK) {                                                 \
            on_ok;                                                           \
        } else {                                                             \
            cr_assert(injected, "NOMEM without a failed allocation");        \
        }                                                                    \
        if (!injected)                                                       \
            break;                                                           \
    }

Test(nomem, executor_creation)
{
    msp_config cfg;
    msp_config_init(&cfg);
    cfg.base_url = ts_url(srv);
    cfg.api_key = TEST_KEY;
    cfg.ca_file = "/dev/null";
    msp_executor *ex = NULL;
    char err[128];
    EVERY_FAILURE(msp_executor_new(&cfg, &ex, err, sizeof err),
                  msp_executor_free(ex));
}

static void check_call(const char *response, int row)
{
    ts_action a = {TS_REPLY, ts_http(200, response), 0, 0};
    ts_set_default(srv, a);
    msp_config cfg;
    msp_config_init(&cfg);
    cfg.base_url = ts_url(srv);
    cfg.api_key = TEST_KEY;
    cfg.capture_body = 1;
    msp_context ctx = make_context(5000);
    msp_result r;
    /* Fresh executor each time so the handle creation is covered too. */
    for (int n = 0; n < 500; n++) {
        msp_executor *fresh;
        cr_assert_eq(msp_executor_new(&cfg, &fresh, NULL, 0), MSP_OK);
        injected = 0;
        countdown = n;
        int rc = msp_executor_execute(fresh, &ctx, &r);
        countdown = -1;
        cr_assert(rc == MSP_OK || rc == MSP_ERR_NOMEM);
        if (rc == MSP_OK) {
            cr_expect(r.row == row || (injected && (r.row == 4 || r.row == 3)),
                      "row %d: %s", r.row, r.err);
            msp_result_free(&r);
        }
        msp_executor_free(fresh);
        if (!injected)
            break;
    }
}

Test(nomem, call_with_a_tool_result)
{
    check_call("{\"exit_code\":0,\"stdout\":\"x\",\"stderr\":\"y\"}", 6);
}

Test(nomem, call_with_data_provider_json)
{
    check_call("{\"success\":true,\"data\":{\"a\":[1,2,3]}}", 8);
}

Test(nomem, refused_contexts)
{
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context expired = make_context(0);
    msp_context bad = make_context(5000);
    bad.params_json = "[1]";
    msp_result r;
    EVERY_FAILURE(msp_executor_execute(ex, &expired, &r), msp_result_free(&r));
    EVERY_FAILURE(msp_executor_execute(ex, &bad, &r), msp_result_free(&r));
    msp_executor_free(ex);
}

Test(nomem, mapping_every_row)
{
    static const struct {
        long status;
        const char *body;
    } cases[] = {
        {200, "{\"exit_code\":1,\"stdout\":\"o\"}"},
        {200, "{\"exit_code\":\"1\"}"},
        {200, "{\"exit_code\":1.5}"},
        {200, "{\"a\":1}"},
        {200, "raw"},
        {200, ""},
        {403, "{\"error\":{\"code\":\"C\",\"message\":\"m\"}}"},
        {503, "down"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msp_result r;
        EVERY_FAILURE(msp_map_response(cases[i].status, cases[i].body,
                                       strlen(cases[i].body), &r),
                      msp_result_free(&r));
    }
}

Test(nomem, result_to_json)
{
    msp_result r;
    cr_assert_eq(
        msp_map_response(200, "{\"exit_code\":0,\"stdout\":\"a\\nb\"}", 30, &r),
        MSP_OK);
    for (int n = 0; n < 100; n++) {
        injected = 0;
        countdown = n;
        char *json = msp_result_to_json(&r);
        countdown = -1;
        cr_assert(json || injected);
        free(json);
        if (!injected)
            break;
    }
    msp_result_free(&r);
}

Test(nomem, context_parse)
{
    static const char doc[] =
        "{\"command_id\":\"c\",\"tool\":\"t\",\"params\":{\"a\":1}}";
    msp_context ctx;
    msp_context_doc *d = NULL;
    for (int n = 0; n < 100; n++) {
        injected = 0;
        countdown = n;
        int rc = msp_context_parse(doc, sizeof doc - 1, &ctx, &d, NULL, 0);
        countdown = -1;
        /* cJSON cannot tell a failed allocation from bad input. */
        cr_assert(rc == MSP_OK ||
                  (injected && (rc == MSP_ERR_NOMEM || rc == MSP_ERR_CONFIG)));
        if (rc == MSP_OK)
            msp_context_doc_free(d);
        if (!injected)
            break;
    }
}
