/*
 * test_threads.c — one executor shared by several threads, and connection
 * reuse across calls.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "test_server.h"

#define THREADS 8
#define CALLS   40

static ts_server *srv;

static void start(void)
{
    srv = ts_start();
    cr_assert_not_null(srv);
}

static void stop(void)
{
    ts_stop(srv);
}

TestSuite(threads, .init = start, .fini = stop, .timeout = TEST_TIMEOUT(20));

typedef struct worker {
    msp_executor *ex;
    int index;
    int correct;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < CALLS; i++) {
        char id[64];
        snprintf(id, sizeof id, "thread-%d-call-%d", w->index, i);
        msp_context ctx = {id, "msp.agent_health", "{}", 5000, NULL};
        msp_result r;
        if (msp_executor_execute(w->ex, &ctx, &r) != MSP_OK)
            continue;
        w->correct += r.row == 6 && r.exit_code == 0 && strcmp(r.out, id) == 0;
        msp_result_free(&r);
    }
    return NULL;
}

Test(threads, concurrent_calls_on_one_executor_all_get_their_own_result)
{
    ts_action echo = {TS_ECHO_ID, NULL, 0, 0};
    ts_set_default(srv, echo);
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ex, i, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(w[i].correct, CALLS, "thread %d: %d of %d correct", i,
                     w[i].correct, CALLS);
    }
    cr_expect_eq(ts_request_count(srv), THREADS * CALLS);
    cr_expect_leq(ts_connections(srv), THREADS,
                  "connections are pooled, not per call");
    msp_executor_free(ex);
}

Test(threads, sequential_calls_reuse_one_connection)
{
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    for (int i = 0; i < 50; i++) {
        msp_result r;
        cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
        cr_expect_eq(r.row, 6);
        msp_result_free(&r);
    }
    cr_expect_eq(ts_request_count(srv), 50);
    cr_expect_eq(ts_connections(srv), 1);
    msp_executor_free(ex);
}

Test(threads, a_closed_connection_is_replaced_transparently)
{
    ts_action close_after = {TS_REPLY_CLOSE, ts_http(200, "{\"exit_code\":0}"),
                             0, 0};
    ts_push(srv, close_after);
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    msp_context ctx = make_context(5000);
    for (int i = 0; i < 2; i++) {
        msp_result r;
        cr_assert_eq(msp_executor_execute(ex, &ctx, &r), MSP_OK);
        cr_expect_eq(r.row, 6, "call %d: %s", i, r.err);
        msp_result_free(&r);
    }
    cr_expect_eq(ts_connections(srv), 2);
    msp_executor_free(ex);
}

static pthread_barrier_t burst_start;

static void *one_call(void *arg)
{
    worker *w = arg;
    pthread_barrier_wait(&burst_start);
    msp_context ctx = {"burst", "msp.agent_health", "{}", 5000, NULL};
    msp_result r;
    if (msp_executor_execute(w->ex, &ctx, &r) == MSP_OK) {
        w->correct = r.row == 6;
        msp_result_free(&r);
    }
    return NULL;
}

Test(threads, a_burst_wider_than_the_idle_pool_is_served)
{
    /* 24 overlapping calls: more handles than the pool keeps idle (16).
     * The replies are held long enough for every call to be in flight. */
    enum {
        N = 24
    };
    ts_action slow = {TS_DELAY_REPLY, ts_http(200, "{\"exit_code\":0}"), 0,
                      1000};
    pthread_barrier_init(&burst_start, NULL, N);
    ts_set_default(srv, slow);
    msp_executor *ex = make_executor(ts_url(srv), NULL);
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){ex, i, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, one_call, &w[i]), 0);
    }
    int correct = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        correct += w[i].correct;
    }
    cr_expect_eq(correct, N);
    cr_expect_gt(ts_connections(srv), 16, "the calls overlapped");
    pthread_barrier_destroy(&burst_start);
    msp_executor_free(ex);
}
