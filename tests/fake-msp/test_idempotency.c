/* Idempotency: replay byte for byte, conflicts, concurrency, the store's
 * capacity and TTL. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fm_testkit.h"

#define KILL \
    tk_body("msp.process_kill", "{\"agent_id\":\"agent-001\",\"pid\":42}")

static fake_msp *start_with_store(size_t capacity, long long ttl_ms)
{
    fake_msp_options o;

    fake_msp_options_init(&o);
    o.idem_capacity = capacity;
    o.idem_ttl_ms = ttl_ms;
    return tk_start(&o);
}

Test(idempotency, same_key_same_request_replays_identical_bytes,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res a, b;
    char v[16];

    tk_execute(fm, "sk-test", "idem-1", tk_body("msp.list_devices", "{}"), &a);
    tk_execute(fm, "sk-test", "idem-1", tk_body("msp.list_devices", "{}"), &b);
    cr_assert_eq(a.status, 200);
    cr_assert_eq(b.status, 200);
    cr_assert_eq(a.len, b.len);
    cr_assert_eq(memcmp(a.body, b.body, a.len), 0);
    cr_assert_null(tk_header(&a, "Idempotent-Replayed", v, sizeof v));
    cr_assert_str_eq(tk_header(&b, "Idempotent-Replayed", v, sizeof v), "true");
    tk_free(&a);
    tk_free(&b);
    fake_msp_stop(fm);
}

Test(idempotency, same_key_different_request_is_409_conflict,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res a, b;

    tk_execute(fm, "sk-test", "idem-2", KILL, &a);
    tk_execute(
        fm, "sk-test", "idem-2",
        tk_body("msp.process_kill", "{\"agent_id\":\"agent-001\",\"pid\":43}"),
        &b);
    cr_assert_eq(a.status, 200);
    tk_assert_error(&b, 409, "CONFLICT", "Idempotency collision");
    tk_free(&a);
    tk_free(&b);
    fake_msp_stop(fm);
}

Test(idempotency, rejected_requests_are_not_stored, .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res a, b;

    tk_execute(fm, "sk-test", "idem-3", tk_body("msp.agent_health", "{}"), &a);
    tk_execute(fm, "sk-test", "idem-3",
               tk_body("msp.agent_health", "{\"agent_id\":\"x\"}"), &b);
    cr_assert_eq(a.status, 400);
    cr_assert_eq(b.status, 200, "%s", b.body);
    tk_free(&a);
    tk_free(&b);
    fake_msp_stop(fm);
}

typedef struct racer {
    fake_msp *fm;
    pthread_barrier_t *bar;
    http_res res;
} racer;

static void *race(void *arg)
{
    racer *r = arg;

    pthread_barrier_wait(r->bar);
    tk_execute(r->fm, "sk-test", "idem-race", KILL, &r->res);
    return NULL;
}

Test(idempotency, concurrent_same_key_yields_one_original_and_replays_or_409s,
     .timeout = TEST_TIMEOUT(20))
{
    enum {
        N = 8
    };
    fake_msp *fm = tk_start(NULL);
    pthread_barrier_t bar;
    pthread_t th[N];
    racer rs[N];
    int originals = 0, replays = 0, conflicts = 0, i;
    char v[16];

    pthread_barrier_init(&bar, NULL, N);
    for (i = 0; i < N; i++) {
        rs[i].fm = fm;
        rs[i].bar = &bar;
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    for (i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (rs[i].res.status == 200 &&
            tk_header(&rs[i].res, "Idempotent-Replayed", v, sizeof v))
            replays++;
        else if (rs[i].res.status == 200)
            originals++;
        else if (rs[i].res.status == 409)
            conflicts++;
        if (rs[i].res.status == 200)
            cr_assert_str_eq(
                rs[i].res.body,
                "{\"exit_code\":0,\"stdout\":\"Killed process 42 on "
                "agent-001\\n\",\"stderr\":\"\"}");
        tk_free(&rs[i].res);
    }
    cr_assert_eq(originals, 1);
    cr_assert_eq(originals + replays + conflicts, N);
    pthread_barrier_destroy(&bar);
    fake_msp_stop(fm);
}

Test(idempotency, store_evicts_the_oldest_beyond_capacity,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = start_with_store(2, 0);
    http_res r;
    char v[16];

    tk_execute(fm, "sk-test", "k1", KILL, &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "k2", KILL, &r);
    tk_free(&r);
    tk_execute(fm, "sk-test", "k3", KILL, &r);
    tk_free(&r);
    /* k1 was evicted: a different request under k1 is new, not a conflict */
    tk_execute(fm, "sk-test", "k1", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    cr_assert_null(tk_header(&r, "Idempotent-Replayed", v, sizeof v));
    tk_free(&r);
    /* k3 is still there */
    tk_execute(fm, "sk-test", "k3", KILL, &r);
    cr_assert_str_eq(tk_header(&r, "Idempotent-Replayed", v, sizeof v), "true");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(idempotency, large_store_is_striped_and_still_replays,
     .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = start_with_store(5000, 0);
    http_res r;
    char id[32], v[16];
    int i;

    for (i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "s-%d", i);
        tk_execute(fm, "sk-test", id, KILL, &r);
        cr_assert_eq(r.status, 200);
        tk_free(&r);
    }
    for (i = 0; i < 20; i++) {
        snprintf(id, sizeof id, "s-%d", i);
        tk_execute(fm, "sk-test", id, KILL, &r);
        cr_assert_str_eq(tk_header(&r, "Idempotent-Replayed", v, sizeof v),
                         "true");
        tk_free(&r);
    }
    fake_msp_stop(fm);
}

Test(idempotency, entries_replay_within_the_ttl, .timeout = TEST_TIMEOUT(10))
{
    /* A TTL no loaded machine outlasts between two requests (the test's
     * own hang guard is shorter): the replay is asserted unconditionally. */
    fake_msp *fm = start_with_store(0, 600000);
    http_res r;
    char v[16];

    tk_execute(fm, "sk-test", "t0", KILL, &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    tk_execute(fm, "sk-test", "t0", KILL, &r);
    cr_assert_str_eq(tk_header(&r, "Idempotent-Replayed", v, sizeof v), "true");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(idempotency, entries_expire_after_the_ttl, .timeout = TEST_TIMEOUT(10))
{
    /* The sleep outlasts the TTL however slow the machine: whether the
     * entry was stored is entries_replay_within_the_ttl's question. */
    fake_msp *fm = start_with_store(0, 200);
    struct timespec ts = {0, 300 * 1000000L};
    http_res r;
    char v[16];

    tk_execute(fm, "sk-test", "t1", KILL, &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    nanosleep(&ts,
              NULL); /* let the TTL pass: this waits for time, not readiness */
    tk_execute(fm, "sk-test", "t1", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    cr_assert_null(tk_header(&r, "Idempotent-Replayed", v, sizeof v));
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(idempotency, reset_clears_the_store, .timeout = TEST_TIMEOUT(10))
{
    fake_msp *fm = tk_start(NULL);
    http_res r;

    tk_execute(fm, "sk-test", "r1", KILL, &r);
    tk_free(&r);
    fake_msp_reset(fm);
    tk_execute(fm, "sk-test", "r1", tk_body("msp.list_devices", "{}"), &r);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
    fake_msp_stop(fm);
}
