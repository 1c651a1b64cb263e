/*
 * test_timeout.h - Criterion hang guards and wall-clock bounds that scale
 * with slow runs, and the sanitizer settings every suite shares.
 *
 * One knob slows everything down: MSP_TIME_SCALE (1 to 1000), the factor
 * msp-contract applies to fixture budgets. Nothing else scales time in
 * tests/ or ci/ (no per-suite SLOW or SPEED_SCALE factors).
 *
 * - Criterion reads a test's .timeout at compile time, so a build for slow
 *   runs bakes the same factor in: ci/valgrind builds with
 *   -DMSP_TEST_TIMEOUT_SCALE=$MSP_TIME_SCALE (10 by default) and exports
 *   MSP_TIME_SCALE; ci/sanitize exports MSP_TIME_SCALE=3. Every guard
 *   written as TEST_TIMEOUT(s) grows with it. MSP_TEST_TIMEOUT_SCALE is
 *   that baked-in copy, not a second knob: read it only through
 *   TEST_TIMEOUT() and test_time_scale() (or, as test_cli.c does, to know
 *   that this is a slow build).
 * - Every wall-clock bound or wait deadline inside a test is written as
 *   test_ms(ms), which multiplies by test_time_scale().
 * - A test that runs msp-contract with larger budgets (a process per
 *   call) uses test_time_scale_env(f): the child sees f times the factor.
 *
 * Bounds are about behaviour, never speed (speed is measured in bench/):
 * a lower bound where the behaviour is "not before the deadline", and an
 * upper bound only as tight as it must be to tell the behaviour from the
 * broken one (cut at a 200 ms deadline, not after the 30 s reply: 5 s).
 * ctest runs the suites in parallel and Criterion with --jobs 4 on a
 * shared 2-core machine, so a bound that a quiet machine meets with a
 * factor of 10 to spare can still fail; each bound says in a comment what
 * broken behaviour it catches.
 */
#ifndef MSP_TEST_TIMEOUT_H
#define MSP_TEST_TIMEOUT_H

#ifndef MSP_TEST_TIMEOUT_SCALE
#define MSP_TEST_TIMEOUT_SCALE 1
#endif

/* A Criterion .timeout of s seconds, scaled for slow builds. */
#define TEST_TIMEOUT(s) ((s)*MSP_TEST_TIMEOUT_SCALE)

#include <stdio.h>
#include <stdlib.h>

/* The factor for wall-clock bounds inside a test: MSP_TIME_SCALE (1 to
 * 1000) when set, else the build's MSP_TEST_TIMEOUT_SCALE; the larger of
 * the two, so a slow build is never judged by a fast run's bound. */
static inline long test_time_scale(void)
{
    const char *e = getenv("MSP_TIME_SCALE");
    char *end = NULL;
    long v = e ? strtol(e, &end, 10) : 0;

    if (!e || end == e || *end || v < 1 || v > 1000)
        v = 1;
    return v > MSP_TEST_TIMEOUT_SCALE ? v : MSP_TEST_TIMEOUT_SCALE;
}

/* ms milliseconds times test_time_scale(): a bound or deadline in a test. */
static inline long test_ms(long ms)
{
    return ms * test_time_scale();
}

/* Sets MSP_TIME_SCALE for the programs the test runs next (and for its
 * own later bounds) to factor times test_time_scale(), at most 1000: a
 * run that needs more room than usual (a process per call) on top of
 * whatever slow-run factor is in force, never in place of it. */
static inline void test_time_scale_env(long factor)
{
    char v[24];
    long f = factor * test_time_scale();

    snprintf(v, sizeof v, "%ld", f < 1000 ? f : 1000);
    setenv("MSP_TIME_SCALE", v, 1);
}

/* Criterion 2.4's runner leaks a small block of its own in some suites
 * (48 bytes from libcriterion.so, depending on how its test set is laid
 * out); keep the sanitizer build's leak check (ci/sanitize) about our
 * code. Every suite includes this header, so every test binary gets it;
 * weak, as each binary is one suite file plus libraries. */
const char *__lsan_default_suppressions(void);
__attribute__((weak)) const char *__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}

#endif
