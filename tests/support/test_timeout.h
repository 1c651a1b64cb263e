/*
 * test_timeout.h - Criterion hang guards that scale with slow runs, and
 * the sanitizer settings every suite shares.
 *
 * Every .timeout in the suites is a hang guard, never a speed check (speed
 * is measured in bench/). Under valgrind a process runs 10-50x slower, so
 * ci/valgrind builds with -DMSP_TEST_TIMEOUT_SCALE=10 and every guard
 * written as TEST_TIMEOUT(s) grows with it.
 */
#ifndef MSP_TEST_TIMEOUT_H
#define MSP_TEST_TIMEOUT_H

#ifndef MSP_TEST_TIMEOUT_SCALE
#define MSP_TEST_TIMEOUT_SCALE 1
#endif

/* A Criterion .timeout of s seconds, scaled for slow builds. */
#define TEST_TIMEOUT(s) ((s)*MSP_TEST_TIMEOUT_SCALE)

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
