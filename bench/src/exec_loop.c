/*
 * msp-bench-exec — the executor side of rows 1 and 2 of ci/bench.
 *
 *   msp-bench-exec URL THREADS CALLS
 *
 * One executor shared by THREADS threads; each makes CALLS sequential
 * msp_executor_execute() calls (after a short warm-up) with a fresh command
 * id each time, exactly the request msp-bench-curl sends by hand.
 *
 * Prints "US_PER_CALL CALLS_PER_SECOND" like msp-bench-curl. Exits 1 when
 * any call does not map to exit code 0 through row 6 of the exit table.
 */
#include "bench_util.h"

#include <executor/msp_executor.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WARMUP_CALLS 20

struct run {
    msp_executor *ex;
    long calls;
};

static int one_call(const struct run *r, int thread, long i)
{
    char id[96];
    msp_context ctx;
    msp_result res;
    int ok;

    /* A lowercase UUID, unique per process, thread and call (warm-up
     * calls have i = -1 .. -WARMUP_CALLS). */
    snprintf(id, sizeof id, "%08lx-%04x-4000-9000-%012lx",
             (unsigned long)getpid(), (unsigned)thread & 0xffffu,
             (unsigned long)(i + WARMUP_CALLS));
    memset(&ctx, 0, sizeof ctx);
    ctx.command_id = id;
    ctx.tool = "msp.list_devices";
    ctx.params_json = "{\"query\":\"laptop\"}";
    ctx.deadline_ms = 30000;
    if (msp_executor_execute(r->ex, &ctx, &res) != 0)
        return -1;
    ok = res.exit_code == 0 && res.row == 6;
    if (!ok)
        fprintf(stderr, "msp-bench-exec: row %d exit %d: %.200s\n", res.row,
                res.exit_code, res.err ? res.err : "");
    msp_result_free(&res);
    return ok ? 0 : -1;
}

static int worker(void *arg, int index)
{
    const struct run *r = arg;
    int failed = 0;
    long i;

    for (i = 0; !failed && i < WARMUP_CALLS; i++)
        failed |= one_call(r, index, -1 - i) != 0;
    bench_threads_ready();
    for (i = 0; !failed && i < r->calls; i++)
        failed |= one_call(r, index, i) != 0;
    return failed;
}

int main(int argc, char **argv)
{
    struct run r;
    msp_config cfg;
    long threads;
    double wall_us;
    char err[256];
    int rc;

    if (argc != 4 || bench_parse_long(argv[2], 1, 256, &threads) != 0 ||
        bench_parse_long(argv[3], 1, 10000000, &r.calls) != 0) {
        fprintf(stderr, "usage: msp-bench-exec URL THREADS CALLS\n");
        return 1;
    }
    msp_config_init(&cfg);
    cfg.base_url = argv[1];
    cfg.api_key = "sk-test";
    cfg.tenant_id = "tenant-x";
    if (msp_executor_new(&cfg, &r.ex, err, sizeof err) != 0) {
        fprintf(stderr, "msp-bench-exec: %s\n", err);
        return 1;
    }
    rc = bench_run_threads((int)threads, worker, &r, &wall_us);
    if (rc == 0)
        printf("%.3f %.1f\n", wall_us / (double)r.calls,
               (double)threads * (double)r.calls / (wall_us / 1e6));
    msp_executor_free(r.ex);
    return rc == 0 ? 0 : 1;
}
