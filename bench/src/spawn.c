/*
 * msp-bench-spawn — one process per call, for row 3 (and the msp-exec half
 * of row 7) of ci/bench.
 *
 *   msp-bench-spawn CALLS STDIN_FILE -- PROGRAM [ARG...]
 *
 * Spawns PROGRAM CALLS times, one after the other, with posix_spawnp (the
 * way an endpoint agent would run a command per call), stdin read from
 * STDIN_FILE ("-" for /dev/null), stdout and stderr sent to /dev/null, and
 * waits for each. Three untimed spawns first warm the page cache.
 *
 * Prints "US_PER_CALL MAX_RSS_KB": the mean wall time of spawn + run + wait,
 * and the peak resident set of the largest child (getrusage). Exits 1 when
 * any child does not exit 0, so a benchmark never times failures.
 */
#include "bench_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#define WARMUP_CALLS 3

extern char **environ;

static int spawn_once(char **argv, const char *stdin_file)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status = 0, rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_file, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "msp-bench-spawn: %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "msp-bench-spawn: %s: exit status 0x%x\n", argv[0],
                (unsigned)status);
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
