/*
 * test_timeout.h - Criterion hang guards that scale with slow runs, and
 * the sanitizer settings every suite shares.
 *
 * Every .timeout in the suites is a hang guard, never a speed check (speed
 * is measured in bench/). One knob slows everything down for slow runs:
 * MSP_TIME_SCALE, the factor msp-contract applies to fixture budgets.
 * Criterion reads a test's .timeout at compile time, so a build for slow
 * runs bakes the same factor in: ci/valgrind builds with
 * -DMSP_TEST_TIMEOUT_SCALE=$MSP_TIME_SCALE (10 by default) and exports
 * MSP_TIME_SCALE, and every guard written as TEST_TIMEOUT(s) grows with it.
 * A wall-clock bound inside a test uses test_time_scale().
 */
#ifndef MSP_TEST_TIMEOUT_H
#define MSP_TEST_TIMEOUT_H

#ifndef MSP_TEST_TIMEOUT_SCALE
#define MSP_TEST_TIMEOUT_SCALE 1
#endif

/* A Criterion .timeout of s seconds, scaled for slow builds. */
#define TEST_TIMEOUT(s) ((s)*MSP_TEST_TIMEOUT_SCALE)

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
