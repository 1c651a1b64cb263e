/*
 * test_bundled.c — the bundled fixture set (contracts/fixtures): it loads
 * whole, ids are unique UUIDv4s, every exit row and every fault has a
 * fixture, the required cases exist, and each provider-verified fixture
 * scripts a response that passes its own provider check.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include "test_timeout.h"
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contracts/fixture.h>
#include <executor/msp_executor.h>

static char fixtures_dir[1024];
static mspf_set *bundled;

static void load_bundled(void)
{
    const char *src = getenv("MSP_SOURCE_DIR");
    mspf_error err;
    char buf[1400];
    cr_assert(src, "MSP_SOURCE_DIR must be set by ctest");
    snprintf(fixtures_dir, sizeof(fixtures_dir), "%s/contracts/fixtures", src);
    bundled = mspf_set_new();
    cr_assert(mspf_set_load_dir(bundled, fixtures_dir, &err) > 0, "%s",
              mspf_error_format(&err, buf, sizeof(buf)));
}

static void free_bundled(void)
{
    mspf_set_free(bundled);
}

TestSuite(mspf_bundled, .init = load_bundled, .fini = free_bundled,
          .timeout = TEST_TIMEOUT(20));

Test(mspf_bundled, every_json_file_in_the_directory_is_loaded)
{
    size_t json = 0;
    struct dirent *e;
    DIR *d = opendir(fixtures_dir);
    cr_assert_not_null(d, "%s", fixtures_dir);
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        json += n > 5 && strcmp(e->d_name + n - 5, ".json") == 0;
    }
    closedir(d);
    cr_assert_eq(mspf_set_count(bundled), json);
    cr_assert_geq(mspf_set_count(bundled), 40);
}

Test(mspf_bundled, fixtures_come_in_file_name_order)
{
    size_t i;
    for (i = 1; i < mspf_set_count(bundled); i++)
        cr_assert_lt(strcmp(mspf_set_get(bundled, i - 1)->file,
                            mspf_set_get(bundled, i)->file),
                     0);
}

Test(mspf_bundled, command_ids_are_uuid_v4_unless_the_case_is_about_the_id)
{
    regex_t re;
    size_t i;
    cr_assert_eq(regcomp(&re,
                         "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{"
                         "3}-[0-9a-f]{12}$",
                         REG_EXTENDED | REG_NOSUB),
                 0);
    for (i = 0; i < mspf_set_count(bundled); i++) {
        const mspf_fixture *f = mspf_set_get(bundled, i);
        if ((f->exit_row == 2 && strstr(f->name, "command-id")) ||
            f->n_provider_steps) /* provider-only: no context */
            continue;
        cr_assert_eq(regexec(&re, f->command_id, 0, NULL, 0), 0, "%s: %s",
                     f->name, f->command_id);
    }
    regfree(&re);
}

Test(mspf_bundled, every_exit_row_has_a_fixture)
{
    int seen[MSP_EXIT_ROWS + 1] = {0};
    size_t i;
    int row;
    for (i = 0; i < mspf_set_count(bundled); i++)
        seen[mspf_set_get(bundled, i)->exit_row]++;
    for (row = 1; row <= MSP_EXIT_ROWS; row++)
        cr_assert_gt(seen[row], 0, "no fixture pins exit row %d", row);
}

Test(mspf_bundled, every_fault_kind_has_a_fixture)
{
    int seen[MSPF_FAULT_KIND_COUNT] = {0};
    size_t i, j;
    int k;
    for (i = 0; i < mspf_set_count(bundled); i++) {
        const mspf_fixture *f = mspf_set_get(bundled, i);
        for (j = 0; j < f->n_responses; j++)
            seen[f->responses[j].fault.kind]++;
    }
    for (k = 1; k < MSPF_FAULT_KIND_COUNT; k++)
        cr_assert_gt(seen[k], 0, "no fixture for fault %s",
                     mspf_fault_kind_name((mspf_fault_kind)k));
}

Test(mspf_bundled, the_required_cases_exist)
{
    static const char *const required[] = {"happy-process-kill",
                                           "tool-exit-nonzero",
                                           "data-provider-list-devices",
                                           "empty-200-body",
                                           "non-json-200",
                                           "malformed-exit-code-string",
                                           "malformed-exit-code-null",
                                           "malformed-exit-code-bool",
                                           "malformed-exit-code-object",
                                           "malformed-exit-code-float",
                                           "malformed-exit-code-out-of-range",
                                           "deadline-expired",
                                           "header-injection-command-id",
                                           "timeout-slow-reply",
                                           "connection-refused",
                                           "fault-reset",
                                           "fault-empty",
                                           "fault-garbage",
                                           "fault-hang",
                                           "fault-truncate",
                                           "fault-dribble",
                                           "fault-bad-chunking",
                                           "fault-reset-after-headers",
                                           "oversized-body",
                                           "idempotency-mismatch-400",
                                           "auth-401",
                                           "auth-403-tenant-mismatch",
                                           "auth-403-forbidden",
                                           "tool-unknown-404",
                                           "server-500",
                                           "server-503-plain-text",
                                           "validation-400",
                                           "changeset-required-400",
                                           "conflict-409",
                                           "payload-too-large-413",
                                           "rate-limited-429",
                                           "redirect-302-not-followed",
                                           "auth-mode-jwt",
                                           "correlation-id-forwarded",
                                           "correlation-id-omitted",
                                           "idempotent-replay",
                                           "sequence-503-then-200"};
    size_t i;
    for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        cr_assert_not_null(mspf_set_find(bundled, required[i]), "missing %s",
                           required[i]);
}

Test(mspf_bundled, provider_verified_fixtures_script_a_response)
{
    static const char *const verified[] = {"happy-process-kill",
                                           "tool-exit-nonzero",
                                           "data-provider-list-devices",
                                           "data-provider-agent-health",
                                           "auth-401",
                                           "auth-403-tenant-mismatch",
                                           "auth-403-forbidden",
                                           "tool-unknown-404",
                                           "validation-400",
                                           "changeset-required-400",
                                           "auth-mode-jwt",
                                           "correlation-id-forwarded"};
    size_t i;
    for (i = 0; i < sizeof(verified) / sizeof(verified[0]); i++) {
        const mspf_fixture *f = mspf_set_find(bundled, verified[i]);
        cr_assert_not_null(f, "%s", verified[i]);
        cr_assert_eq(f->provider_verify, 1, "%s", verified[i]);
        cr_assert_eq(f->n_responses, 1, "%s", verified[i]);
    }
}

Test(mspf_bundled, each_scripted_response_passes_its_own_provider_check)
{
    size_t i;
    for (i = 0; i < mspf_set_count(bundled); i++) {
        const mspf_fixture *f = mspf_set_get(bundled, i);
        const mspf_response *r = f->n_responses ? &f->responses[0] : NULL;
        if (!r)
            continue;
        cr_assert_eq(
            mspf_check_provider(f, 0, r->status, r->body, r->body_len, NULL), 1,
            "%s", f->name);
    }
}

Test(mspf_bundled, fixtures_without_a_request_expect_exit_124)
{
    size_t i;
    for (i = 0; i < mspf_set_count(bundled); i++) {
        const mspf_fixture *f = mspf_set_get(bundled, i);
        if (!f->expects_request) {
            mspf_outcome o = {124, "", 0, "msp-executor: x", 15, 0, NULL, 0};
            mspf_diffs d = {0};
            mspf_check_result(f, 0, &o, &d);
            cr_assert(d.n == 0 ||
                          strcmp(d.items[0].field, "expect.exit_code") != 0,
                      "%s", f->name);
            mspf_diffs_free(&d);
        }
    }
}

Test(mspf_bundled, slow_cases_are_bounded_in_time)
{
    size_t i;
    for (i = 0; i < mspf_set_count(bundled); i++) {
        const mspf_fixture *f = mspf_set_get(bundled, i);
        size_t j;
        for (j = 0; j < f->n_responses; j++) {
            const mspf_response *r = &f->responses[j];
            if (r->delay_ms > 0 || r->fault.kind == MSPF_FAULT_HANG) {
                cr_assert_gt(f->default_timeout_ms, 0,
                             "%s needs a short timeout", f->name);
                cr_assert_leq(f->default_timeout_ms, 500, "%s", f->name);
                cr_assert_leq(r->delay_ms, 1500, "%s", f->name);
            }
        }
    }
}

Test(mspf_bundled, every_msp_side_check_has_a_provider_fixture)
{
    size_t n, k, i, verified = 0;
    const mspf_msp_check *checks = mspf_msp_checks(&n);
    cr_assert_eq(n, MSPF_MSP_CHECK_ROWS + 2, "13 rows, tools and health");
    for (k = 0; k < n; k++) {
        int pinned = 0;
        for (i = 0; i < mspf_set_count(bundled); i++) {
            const mspf_fixture *f = mspf_set_get(bundled, i);
            for (size_t c = 0; c < f->n_provider_checks; c++)
                pinned |= f->provider_verify &&
                          strcmp(f->provider_checks[c], checks[k].name) == 0;
        }
        cr_expect(pinned, "no provider fixture pins %s", checks[k].name);
    }
    for (i = 0; i < mspf_set_count(bundled); i++)
        verified += mspf_set_get(bundled, i)->provider_verify != 0;
    cr_expect_geq(verified, 25);
}

Test(mspf_bundled, provider_fixtures_name_credential_roles_not_keys)
{
    size_t i;
    for (i = 0; i < mspf_set_count(bundled); i++) {
        const mspf_fixture *f = mspf_set_get(bundled, i);
        if (f->provider_verify)
            cr_expect_null(f->api_key, "%s names a literal key", f->name);
    }
}
