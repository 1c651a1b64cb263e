/*
 * msp-bench-spawn — one process per call, for row 3 (and the msp-exec half
 * of row 7) of ci/bench.
 *
 *   msp-bench-spawn CALLS STDIN_FILE -- PROGRAM [ARG...]
 *
 * Spawns PROGRAM CALLS times, one after the other, with hx_spawn (the
 * project's one spawner: posix_spawnp, the way an endpoint agent would run
 * a command per call), stdin read from
 * STDIN_FILE ("-" for /dev/null), stdout and stderr sent to /dev/null, and
 * waits for each. Three untimed spawns first warm the page cache.
 *
 * Prints "US_PER_CALL MAX_RSS_KB": the mean wall time of spawn + run + wait,
 * and the peak resident set of the largest child (getrusage). Exits 1 when
 * any child does not exit 0, so a benchmark never times failures.
 */
#include "bench_util.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "hx_spawn.h"

#define WARMUP_CALLS 3

static int spawn_once(char **argv, const char *stdin_file)
{
    hx_spawn_opts o = {
        .stdin_path = stdin_file, .discard = 1, .search_path = 1};
    hx_spawned r;
    char why[512];
    if (hx_spawn_run((const char *const *)argv, &o, &r, why, sizeof why) != 0) {
        fprintf(stderr, "msp-bench-spawn: %s\n", why);
        return -1;
    }
    int ok = r.exited && r.status == 0, status = r.status;
    hx_spawned_free(&r);
    if (!ok) {
        fprintf(stderr, "msp-bench-spawn: %s: exit status %d\n", argv[0],
                status);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *stdin_file;
    struct rusage ru;
    long calls, i;
    double t0, t1;

    if (argc < 5 || strcmp(argv[3], "--") != 0 ||
        bench_parse_long(argv[1], 1, 1000000, &calls) != 0) {
        fprintf(
            stderr,
            "usage: msp-bench-spawn CALLS STDIN_FILE -- PROGRAM [ARG...]\n");
        return 1;
    }
    stdin_file = strcmp(argv[2], "-") == 0 ? "/dev/null" : argv[2];
    for (i = 0; i < WARMUP_CALLS; i++)
        if (spawn_once(argv + 4, stdin_file) != 0)
            return 1;
    t0 = bench_now_us();
    for (i = 0; i < calls; i++)
        if (spawn_once(argv + 4, stdin_file) != 0)
            return 1;
    t1 = bench_now_us();
    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 1;
    printf("%.1f %ld\n", (t1 - t0) / (double)calls, ru.ru_maxrss);
    return 0;
}
