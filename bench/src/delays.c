/*
 * msp-bench-delays — how much of the contract suite is deliberate waiting,
 * for row 8 of ci/bench.
 *
 *   msp-bench-delays DIR
 *
 * Loads the fixtures in DIR and, for each, adds up the time its scripted
 * replies make the executor wait on purpose: delay_ms before a reply, the
 * pauses of a dribble, and the whole call timeout for a hang — each capped
 * by that call's timeout, min(deadline_ms, default_timeout_ms), and summed
 * over the fixture's repeats. Prints "FIXTURES SUM_MS MAX_MS": the
 * deliberate waiting of the whole suite run serially, and of the slowest
 * fixture (the least wall time any parallel run needs).
 */
#include <contracts/fixture.h>
#include <executor/msp_executor.h>
#include <stdio.h>

/* Bytes of status line and headers a dribble also sends, roughly. */
#define HEADER_BYTES_GUESS 160

static long long response_wait_ms(const mspf_response *r, long long timeout)
{
    long long ms = r->delay_ms;

    if (r->fault.kind == MSPF_FAULT_HANG)
        return timeout;
    if (r->fault.kind == MSPF_FAULT_DRIBBLE && r->fault.chunk_bytes > 0) {
        size_t total = r->body_len + HEADER_BYTES_GUESS;
        size_t writes =
            (total + r->fault.chunk_bytes - 1) / r->fault.chunk_bytes;
        ms += (long long)writes * r->fault.interval_ms;
    }
    return ms < timeout ? ms : timeout;
}

static long long fixture_wait_ms(const mspf_fixture *f)
{
    long long timeout = f->default_timeout_ms > 0 ? f->default_timeout_ms
                                                  : MSP_DEFAULT_TIMEOUT_MS;
    long long ms = 0;
    int run;

    if (f->deadline_ms < timeout)
        timeout = f->deadline_ms;
    if (timeout <= 0 || !f->expects_request || f->target != MSPF_TARGET_FAKE ||
        f->n_responses == 0)
        return 0;
    for (run = 0; run < f->repeat; run++) {
        size_t i =
            (size_t)run < f->n_responses ? (size_t)run : f->n_responses - 1;
        ms += response_wait_ms(&f->responses[i], timeout);
    }
    return ms;
}

int main(int argc, char **argv)
{
    mspf_set *set;
    mspf_error err;
    char buf[1400];
    long long sum = 0, max = 0;
    size_t i, n;

    if (argc != 2) {
        fprintf(stderr, "usage: msp-bench-delays DIR\n");
        return 1;
    }
    set = mspf_set_new();
    if (!set || mspf_set_load_dir(set, argv[1], &err) < 0) {
        fprintf(stderr, "msp-bench-delays: %s\n",
                set ? mspf_error_format(&err, buf, sizeof buf)
                    : "out of memory");
        mspf_set_free(set);
        return 1;
    }
    n = mspf_set_count(set);
    for (i = 0; i < n; i++) {
        long long ms = fixture_wait_ms(mspf_set_get(set, i));
        sum += ms;
        if (ms > max)
            max = ms;
    }
    printf("%zu %lld %lld\n", n, sum, max);
    mspf_set_free(set);
    return 0;
}
