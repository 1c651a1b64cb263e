/*
 * test_fake.h - the harness suites' fake-msp and provider runs: a fake-msp
 * in this process on port 0, and `msp-contract provider` against it over
 * the bundled fixtures. Failures are Criterion assertions.
 *
 * Compiled into each harness test binary with run_tool.c (its spawner,
 * bin_path and src_path), as tests/harness/CMakeLists.txt lists it.
 */
#ifndef MSP_TEST_FAKE_H
#define MSP_TEST_FAKE_H

#include <fake_msp/fake_msp.h>

#include "run_tool.h"

/* Starts a fake-msp with *o (NULL: the defaults, as `fake-msp` with no
 * options runs it); asserts success. Stop it with fake_msp_stop(). */
fake_msp *test_fake_start_opts(const fake_msp_options *o);

/* The defaults plus, when contract_dir is not NULL, the fixtures of that
 * directory (--contracts). */
fake_msp *test_fake_start(const char *contract_dir);

/* Runs msp-contract provider [--base-url url] --contracts <the bundled
 * fixtures> args... (args NULL-terminated, may be NULL; url NULL: none),
 * killed past timeout_ms; asserts it ran. Free with spawned_free(). */
spawned test_fake_provider(const char *url, const char *const *args,
                           long timeout_ms);

#endif
