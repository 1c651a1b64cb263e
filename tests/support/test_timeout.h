/*
 * test_timeout.h - Criterion hang guards that scale with slow runs.
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
#define TEST_TIMEOUT(s) ((s) * MSP_TEST_TIMEOUT_SCALE)

#endif
