/*
 * test_tmpdir.h - a fresh scratch directory per test, for the suites that
 * write files (fixtures, reports, keys):
 *
 *   #include "test_tmpdir.h"
 *   TestSuite(verify, .init = make_tmpdir, .fini = remove_tmpdir);
 *
 *   TestSuite(provider, .init = make_tmpdir_keyless, ...)  (no key in env)
 *
 * tmpdir holds "/tmp/msp-test-XXXXXX" as made by mkdtemp() (no quote in
 * it); remove_tmpdir deletes it with everything under it (rm -rf).
 * Header-only and static, as the suite files include it after Criterion's
 * header and each keeps its own tmpdir.
 */
#ifndef MSP_TEST_TMPDIR_H
#define MSP_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static char tmpdir[64]; /* "/tmp/msp-test-XXXXXX" */

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/msp-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp");
}

/* make_tmpdir with BSM_MSP_API_KEY unset: for the suites whose runs take
 * a key from options only (inline: not every suite uses it). */
static inline void make_tmpdir_keyless(void)
{
    unsetenv("BSM_MSP_API_KEY");
    make_tmpdir();
}

static void remove_tmpdir(void)
{
    char cmd[512];

    if (!tmpdir[0])
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
}

#endif
