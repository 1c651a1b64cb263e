/* Fixture faults: what a client sees for each kind of the catalogue, and
 * delays. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fm_testkit.h"

static fake_msp *fm;

static void setup(void)
{
    fake_msp_options o;

    fake_msp_options_init(&o);
    o.seed = 42;
    fm = tk_start(&o);
}

static void teardown(void)
{
    fake_msp_stop(fm);
}

TestSuite(faults, .init = setup, .fini = teardown, .timeout = TEST_TIMEOUT(10));

#define OK_BODY \
    "{\"exit_code\":0,\"stdout\":\"hello from the agent\\n\",\"stderr\":\"\"}"

static void add_fault(const char *name, const char *fault_json, long delay_ms)
{
    char resp[1024];

    snprintf(resp, sizeof resp,
             "\"response\":{\"status\":200,\"body\":" OK_BODY
             ",\"delay_ms\":%ld,\"fault\":%s}",
             delay_ms, fault_json);
    tk_add_fixture(fm, tk_fixture_json(name, name, resp));
}

static void call(const char *id, long timeout_ms, http_res *r)
{
    char cmd[128];
    const char *h[] = {cmd, "Content-Type: application/json", NULL};
    const char *body = tk_body("msp.list_devices", "{}");

    snprintf(cmd, sizeof cmd, "X-Brainstorm-Command-Id: %s", id);
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, body,
            strlen(body), timeout_ms, r);
}

Test(faults, no_fault_replays_status_headers_and_body)
{
    http_res r;
    char v[64];

    tk_add_fixture(
        fm, tk_fixture_json(
                "plain", "plain",
                "\"response\":{\"status\":201,\"headers\":{\"X-Extra\":\"1\"},"
                "\"body\":" OK_BODY "}"));
    call("plain", 0, &r);
    cr_assert_eq(r.rc, CURLE_OK, "%s", r.err);
    cr_assert_eq(r.status, 201);
    cr_assert_str_eq(r.body, OK_BODY);
    cr_assert_str_eq(tk_header(&r, "X-Extra", v, sizeof v), "1");
    tk_free(&r);
}

Test(faults, delay_postpones_the_reply)
{
    http_res r;

    tk_add_fixture(
        fm, tk_fixture_json("slow", "slow",
                            "\"response\":{\"status\":200,\"body\":" OK_BODY
                            ",\"delay_ms\":150}"));
    call("slow", 0, &r);
    cr_assert_eq(r.rc, CURLE_OK, "%s", r.err);
    cr_assert_eq(r.status, 200);
    cr_assert_geq(r.elapsed_ms, 140);
    tk_free(&r);
}

Test(faults, delay_longer_than_the_client_timeout_times_out)
{
    http_res r;

    tk_add_fixture(
        fm, tk_fixture_json("slower", "slower",
                            "\"response\":{\"status\":200,\"body\":" OK_BODY
                            ",\"delay_ms\":2000}"));
    call("slower", 200, &r);
    cr_assert_eq(r.rc, CURLE_OPERATION_TIMEDOUT, "%d %s", r.rc, r.err);
    tk_free(&r);
}

Test(faults, reset_is_a_recv_error_without_a_status)
{
    http_res r;

    add_fault("reset", "{\"kind\":\"reset\"}", 0);
    call("reset", 0, &r);
    cr_assert_eq(r.rc, CURLE_RECV_ERROR, "%d %s", r.rc, r.err);
    cr_assert_eq(r.status, 0);
    tk_free(&r);
}

Test(faults, delayed_reset_waits_then_resets)
{
    http_res r;

    add_fault("reset-late", "{\"kind\":\"reset\"}", 100);
    call("reset-late", 0, &r);
    cr_assert_eq(r.rc, CURLE_RECV_ERROR, "%d %s", r.rc, r.err);
    cr_assert_geq(r.elapsed_ms, 90);
    tk_free(&r);
}

Test(faults, empty_is_got_nothing)
{
    http_res r;

    add_fault("empty", "{\"kind\":\"empty\"}", 0);
    call("empty", 0, &r);
    cr_assert_eq(r.rc, CURLE_GOT_NOTHING, "%d %s", r.rc, r.err);
    tk_free(&r);
}

Test(faults, delayed_empty_is_got_nothing)
{
    http_res r;

    add_fault("empty-late", "{\"kind\":\"empty\"}", 50);
    call("empty-late", 0, &r);
    cr_assert_eq(r.rc, CURLE_GOT_NOTHING, "%d %s", r.rc, r.err);
    tk_free(&r);
}

Test(faults, garbage_is_not_http)
{
    http_res r;

    add_fault("garbage", "{\"kind\":\"garbage\",\"bytes\":64,\"seed\":7}", 0);
    call("garbage", 0, &r);
    cr_assert(r.rc == CURLE_WEIRD_SERVER_REPLY ||
                  r.rc == CURLE_UNSUPPORTED_PROTOCOL,
              "%d %s", r.rc, r.err);
    cr_assert_eq(r.status, 0);
    tk_free(&r);
}

static size_t raw_exchange(const char *id, unsigned char *buf, size_t cap)
{
    char req[512];
    int fd = tk_connect(fm), n;
    size_t got = 0;
    ssize_t k;

    n = snprintf(req, sizeof req,
                 "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
                 "X-Brainstorm-Command-Id: %s\r\nContent-Length: 2\r\n\r\n{}",
                 id);
    cr_assert_eq(send(fd, req, (size_t)n, 0), n);
    while (got < cap && (k = recv(fd, buf + got, cap - got, 0)) > 0)
        got += (size_t)k;
    close(fd);
    return got;
}

static unsigned long long splitmix(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

Test(faults, garbage_bytes_are_splitmix64_of_the_fixture_seed)
{
    unsigned char a[100], b[100], want[24];
    unsigned long long st = 7, v;
    int i;

    add_fault("garbage-raw", "{\"kind\":\"garbage\",\"bytes\":20,\"seed\":7}",
              0);
    cr_assert_eq(raw_exchange("garbage-raw", a, sizeof a), 20);
    cr_assert_eq(raw_exchange("garbage-raw", b, sizeof b), 20);
    cr_assert_eq(memcmp(a, b, 20), 0);
    for (i = 0; i < 3; i++) {
        v = splitmix(&st);
        memcpy(want + 8 * i, &v, 8);
    }
    cr_assert_eq(memcmp(a, want, 20), 0);
}

Test(faults, garbage_without_a_seed_uses_the_server_seed)
{
    unsigned char a[64], want[8];
    unsigned long long st = 42, v;

    add_fault("garbage-srv", "{\"kind\":\"garbage\",\"bytes\":8}", 0);
    cr_assert_eq(fake_msp_seed(fm), 42);
    cr_assert_eq(raw_exchange("garbage-srv", a, sizeof a), 8);
    v = splitmix(&st);
    memcpy(want, &v, 8);
    cr_assert_eq(memcmp(a, want, 8), 0);
}

Test(faults, hang_sends_nothing_until_the_client_gives_up)
{
    http_res r;

    add_fault("hang", "{\"kind\":\"hang\"}", 0);
    call("hang", 300, &r);
    cr_assert_eq(r.rc, CURLE_OPERATION_TIMEDOUT, "%d %s", r.rc, r.err);
    cr_assert_eq(r.status, 0);
    cr_assert_geq(r.elapsed_ms, 290);
    tk_free(&r);
}

Test(faults, truncate_cuts_the_body_after_n_bytes)
{
    http_res r;

    add_fault("trunc", "{\"kind\":\"truncate\",\"after_bytes\":10}", 0);
    call("trunc", 0, &r);
    cr_assert_eq(r.rc, CURLE_PARTIAL_FILE, "%d %s", r.rc, r.err);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, 10);
    cr_assert_eq(memcmp(r.body, OK_BODY, 10), 0);
    tk_free(&r);
}

Test(faults, dribble_delivers_the_whole_reply_slowly)
{
    http_res r;
    size_t len = strlen(OK_BODY);

    add_fault("dribble",
              "{\"kind\":\"dribble\",\"chunk_bytes\":40,\"interval_ms\":20}",
              0);
    call("dribble", 0, &r);
    cr_assert_eq(r.rc, CURLE_OK, "%d %s", r.rc, r.err);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, len);
    cr_assert_str_eq(r.body, OK_BODY);
    /* headers + body are > 120 bytes: at least 3 pauses of 20 ms */
    cr_assert_geq(r.elapsed_ms, 60);
    tk_free(&r);
}

Test(faults, bad_chunking_is_a_chunk_error)
{
    http_res r;

    add_fault("badchunk", "{\"kind\":\"bad_chunking\"}", 0);
    call("badchunk", 0, &r);
    cr_assert(r.rc == CURLE_RECV_ERROR || r.rc == CURLE_WEIRD_SERVER_REPLY,
              "%d %s", r.rc, r.err);
    cr_assert_eq(r.status, 200);
    tk_free(&r);
}

Test(faults, reset_after_headers_gives_a_status_then_an_error)
{
    http_res r;

    add_fault("rah", "{\"kind\":\"reset_after_headers\"}", 0);
    call("rah", 0, &r);
    cr_assert(r.rc == CURLE_RECV_ERROR || r.rc == CURLE_PARTIAL_FILE, "%d %s",
              r.rc, r.err);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, 0);
    tk_free(&r);
}

Test(faults, faults_are_journalled_with_status_zero)
{
    fake_msp_entry *e = NULL;
    size_t n = 0;
    http_res r;

    add_fault("empty-j", "{\"kind\":\"empty\"}", 0);
    call("empty-j", 0, &r);
    tk_free(&r);
    cr_assert_eq(fake_msp_journal_find(fm, "empty-j", &e, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(e[0].status, 0);
    cr_assert_str_eq(e[0].fixture, "empty-j");
    fake_msp_entries_free(e, n);
}

static void *dribble_client(void *arg)
{
    call("fast-drib", test_ms(8000), arg); /* 300000 sends */
    return NULL;
}

Test(faults, a_fast_dribble_does_not_hold_up_other_delayed_replies,
     .timeout = TEST_TIMEOUT(40))
{
    http_res big, slow;
    pthread_t th;

    /* 1-byte writes with no pause: 300000 send() calls on the timer
     * thread, read as fast as they come */
    tk_add_fixture(
        fm, tk_fixture_json("fast-drib", "fast-drib",
                            "\"response\":{\"status\":200,"
                            "\"body_repeat\":{\"text\":\"x\",\"times\":300000},"
                            "\"fault\":{\"kind\":\"dribble\",\"chunk_bytes\":1,"
                            "\"interval_ms\":0}}"));
    tk_add_fixture(
        fm, tk_fixture_json(
                "short-delay", "short-delay",
                "\"response\":{\"status\":200,\"body\":{},\"delay_ms\":10}"));
    pthread_create(&th, NULL, dribble_client, &big);
    cr_assert_eq(fake_msp_wait_suspended(fm, 1, test_ms(3000)), 0);
    call("short-delay", test_ms(8000), &slow);
    pthread_join(th, NULL);
    cr_assert_eq(slow.status, 200, "%d %s", slow.rc, slow.err);
    cr_assert_eq(big.rc, CURLE_OK, "%d %s", big.rc, big.err);
    cr_assert_eq(big.len, 300000);
    cr_log_info("delay %lld ms, dribble %lld ms", slow.elapsed_ms,
                big.elapsed_ms);
    /* the delayed reply must not wait for the dribble to end */
    cr_assert_lt(slow.elapsed_ms * 2, big.elapsed_ms,
                 "delay %lld ms, dribble %lld ms", slow.elapsed_ms,
                 big.elapsed_ms);
    tk_free(&big);
    tk_free(&slow);
}
