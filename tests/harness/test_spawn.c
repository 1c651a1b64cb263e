/* hx_spawn, the one process spawner: argv as given, stdin bytes, output
 * captured to a cap with NUL bytes, deadlines that kill the whole group. */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>

#include "hx_spawn.h"

TestSuite(spawn, .timeout = TEST_TIMEOUT(30));

static hx_spawned run(const char *script, const hx_spawn_opts *o)
{
    const char *argv[] = {"/bin/sh", "-c", script, "sh", NULL};
    hx_spawned r;
    char why[256];
    cr_assert_eq(hx_spawn_run(argv, o, &r, why, sizeof why), 0, "%s", why);
    return r;
}

Test(spawn, captures_stdout_stderr_and_status_with_nul_bytes)
{
    hx_spawn_opts o = {.timeout_ms = 10000};
    hx_spawned r = run("printf 'a\\000b'; printf 'err' >&2; exit 3", &o);
    cr_expect_eq(r.status, 3);
    cr_expect(r.exited);
    cr_expect_eq(r.out_len, 3);
    cr_expect_eq(memcmp(r.out, "a\0b", 3), 0);
    cr_expect_str_eq(r.err, "err");
    cr_expect_not(r.timed_out);
    hx_spawned_free(&r);
}

Test(spawn, feeds_stdin_and_closes_it)
{
    hx_spawn_opts o = {.in = "hello\n", .in_len = 6, .timeout_ms = 10000};
    hx_spawned r = run("cat", &o);
    cr_expect_str_eq(r.out, "hello\n");
    cr_expect_eq(r.status, 0);
    hx_spawned_free(&r);
}

Test(spawn, keeps_output_to_the_cap_and_counts_the_rest)
{
    hx_spawn_opts o = {.out_cap = 10, .timeout_ms = 10000};
    hx_spawned r = run("head -c 100000 /dev/zero", &o);
    cr_expect_eq(r.out_len, 10);
    cr_expect_eq(r.out_total, 100000);
    cr_expect_eq(r.status, 0);
    hx_spawned_free(&r);
}

Test(spawn, a_deadline_kills_the_child_and_what_it_started)
{
    hx_spawn_opts o = {.timeout_ms = 300};
    long long t0 = hx_spawn_now_ms();
    /* the grandchild keeps stdout open: only a group kill ends the wait */
    hx_spawned r = run("sleep 30 & sleep 30", &o);
    cr_expect(r.timed_out);
    cr_expect_not(r.exited);
    cr_expect_eq(r.signal, SIGKILL);
    /* not before the deadline; and cut at it, not after the 30 s sleeps */
    cr_expect_geq(hx_spawn_now_ms() - t0, 290);
    cr_expect_lt(hx_spawn_now_ms() - t0, test_ms(5000));
    hx_spawned_free(&r);
}

/* Issue 20, finding 11: the end is the child's exit, not EOF. */
Test(spawn, a_background_helper_holding_stdout_does_not_delay_the_exit)
{
    hx_spawn_opts o = {.timeout_ms = 20000};
    long long t0 = hx_spawn_now_ms();
    /* the helper keeps stdout and stderr open for 60 s; its pid is printed
     * so that the test can end it */
    hx_spawned r = run("sleep 60 & echo \"pid $!\"; echo done >&2; exit 0", &o);
    long long ms = hx_spawn_now_ms() - t0;
    cr_expect_eq(r.status, 0);
    cr_expect(r.exited);
    cr_expect_not(r.timed_out, "waited for EOF, not the exit");
    /* the helper holds stdout for 60 s; a wait for EOF is cut at 20 s */
    cr_expect_lt(ms, test_ms(15000), "took %lld ms", ms);
    cr_expect_str_eq(r.err, "done\n");
    int pid = 0;
    cr_expect_eq(sscanf(r.out, "pid %d", &pid), 1, "%s", r.out);
    if (pid > 0)
        kill(pid, SIGKILL);
    hx_spawned_free(&r);
}

Test(spawn, a_long_argument_list_is_passed_whole)
{
    static char big[100000];
    memset(big, 'x', sizeof big - 1);
    const char *argv[] = {"/bin/sh", "-c", "printf %s \"$1\" | wc -c",
                          "sh",      big,  NULL};
    hx_spawn_opts o = {.timeout_ms = 10000};
    hx_spawned r;
    cr_assert_eq(hx_spawn_run(argv, &o, &r, NULL, 0), 0);
    cr_expect_eq(atoi(r.out), (int)sizeof big - 1, "%s", r.out);
    hx_spawned_free(&r);
}

Test(spawn, a_missing_program_is_an_error_with_a_reason)
{
    const char *argv[] = {"/nonexistent/program", NULL};
    hx_spawn_opts o = {.timeout_ms = 1000};
    hx_spawned r;
    char why[256] = "";
    cr_expect_eq(hx_spawn_run(argv, &o, &r, why, sizeof why), -1);
    cr_expect_not_null(strstr(why, "/nonexistent/program"), "%s", why);
    hx_spawned_free(&r);
}

Test(spawn, start_then_stop_ends_a_long_running_child)
{
    const char *argv[] = {"/bin/sleep", "30", NULL};
    hx_spawn_opts o = {.discard = 1};
    hx_proc p;
    int status;
    cr_assert_eq(hx_spawn_start(argv, &o, &p, NULL, 0), 0);
    cr_expect_eq(hx_proc_wait(&p, 0, &status), 0, "still running");
    int st = hx_proc_stop(&p, 2000);
    cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
}
