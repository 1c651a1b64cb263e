/* msp-contract provider, driven from outside against fake-msp: the bundled
 * set passes against a fake started with no options (states through its
 * state endpoint, fresh ids on every run), credentials and states that are
 * not available skip with the reason, and servers that each break one
 * thing of the MSP-side contract fail with a diff naming the fixture. */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <contracts/fixture.h>
#include <fake_msp/fake_msp.h>

#include "hx_spawn.h"
#include "run_tool.h"

#include "test_fake.h"
#include "test_tmpdir.h"

TestSuite(provider, .init = make_tmpdir_keyless, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(60));

/* A fake-msp as `fake-msp` with no options runs it, plus optionally one
 * fixture that answers wrongly and a larger body limit. */
static fake_msp *start_fake_with(const char *broken, size_t max_body)
{
    fake_msp_options o;
    char path[512], file[600];
    const char *files[1];
    fake_msp_options_init(&o);
    if (broken) {
        snprintf(file, sizeof file, "%s/%s.json",
                 src_path("tests/harness/broken", path, sizeof path), broken);
        files[0] = file;
        o.fixture_files = files;
        o.n_fixture_files = 1;
    }
    o.max_body = max_body;
    return test_fake_start_opts(&o);
}

/* ... with --state-url at the fake's own state endpoint. */
static spawned provider_states(const fake_msp *fm, const char *const *more)
{
    char url[400];
    const char *args[24] = {"--state-url", url};
    size_t n = 2;
    snprintf(url, sizeof url, "%s/__admin/provider-states", fake_msp_url(fm));
    for (size_t i = 0; more && more[i] && n < 23; i++)
        args[n++] = more[i];
    args[n] = NULL;
    return test_fake_provider(fake_msp_url(fm), args, 50000);
}

static spawned provider(const char *url, const char *opt, const char *val)
{
    const char *args[] = {opt, val, NULL};
    return test_fake_provider(url, opt ? args : NULL, 50000);
}

/* Bundled fixtures marked provider.verify; with_state: those with a state. */
static size_t count_provider(int with_state)
{
    char dir[512];
    mspf_set *set = mspf_set_new();
    mspf_error err;
    cr_assert_geq(
        mspf_set_load_dir(set, src_path("contracts/fixtures", dir, sizeof dir),
                          &err),
        1);
    size_t n = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        n += f->provider_verify && (!with_state || f->n_provider_states);
    }
    mspf_set_free(set);
    return n;
}

static const char *key_file(const char *name, const char *key)
{
    static char path[4][400];
    static int next;
    char *p = path[next++ % 4];
    cr_assert_eq(write_file(tmpdir, name, key), 0);
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

Test(provider, every_bundled_fixture_passes_against_a_no_option_fake)
{
    fake_msp *fm = test_fake_start(NULL);
    spawned r = provider_states(fm, NULL);
    size_t n = count_provider(0);
    char want[64];
    snprintf(want, sizeof want, "%zu passed, 0 failed, 0 skipped\n", n);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_geq(n, 25, "at least 25 provider fixtures");
    cr_expect_not_null(strstr(r.out, want), "want \"%s\" in:\n%s", want, r.out);
    cr_expect_null(strstr(r.out, "sk-test"), "a key was printed:\n%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, a_rerun_against_the_same_server_passes_with_fresh_ids)
{
    fake_msp *fm = test_fake_start(NULL);
    spawned a = provider_states(fm, NULL);
    spawned b = provider_states(fm, NULL);
    cr_expect_eq(a.status, 0, "%s", a.out);
    cr_expect_eq(b.status, 0, "the second run collided:\n%s", b.out);
    /* the fixtures' own ids never reached the server */
    fake_msp_entry *e = NULL;
    size_t n = 0;
    cr_assert_eq(fake_msp_journal_find(
                     fm, "64b85b75-8d60-4959-b1b3-865c233fd841", &e, &n),
                 0);
    cr_expect_eq(n, 0, "happy-process-kill sent its fixture id");
    fake_msp_entries_free(e, n);
    spawned_free(&a);
    spawned_free(&b);
    fake_msp_stop(fm);
}

Test(provider, a_role_without_credential_is_skipped_with_the_exact_message)
{
    fake_msp *fm = test_fake_start(NULL);
    const char *args[] = {"--api-key-file", key_file("valid", "sk-test\n"),
                          NULL};
    spawned r = provider_states(fm, args);
    cr_expect_eq(r.status, 0, "skips never fail:\n%s", r.out);
    cr_expect_not_null(strstr(r.out, "(needs credential read_only: "
                                     "--credential read_only=FILE)"),
                       "%s", r.out);
    cr_expect_not_null(strstr(r.out, "(needs credential other_tenant: "
                                     "--credential other_tenant=FILE)"),
                       "%s", r.out);
    cr_expect_eq(count_lines(r.out, "skip auth-403-forbidden "), 1, "%s",
                 r.out);
    cr_expect_eq(count_lines(r.out, "ok   auth-401 "), 1,
                 "role invalid always has its built-in key:\n%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, credential_options_map_each_role_to_a_key_file)
{
    fake_msp *fm = test_fake_start(NULL);
    char ro[500], other[500];
    snprintf(ro, sizeof ro, "read_only=%s", key_file("ro", "sk-readonly\n"));
    snprintf(other, sizeof other, "other_tenant=%s",
             key_file("other", "sk-other"));
    const char *args[] = {"--api-key-file",
                          key_file("valid", "sk-test\r\n"),
                          "--credential",
                          ro,
                          "--credential",
                          other,
                          NULL};
    spawned r = provider_states(fm, args);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, "skip "), 0, "%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, a_wrong_key_for_a_role_fails_its_fixtures)
{
    fake_msp *fm = test_fake_start(NULL);
    const char *args[] = {"--api-key-file",
                          key_file("valid", "sk-not-issued-here"), NULL};
    spawned r = provider_states(fm, args);
    cr_expect_eq(r.status, 1, "%s", r.out);
    cr_expect_geq(count_lines(r.out, "FAIL data-provider-list-devices"), 1,
                  "%s", r.out);
    cr_expect_null(strstr(r.out, "sk-not-issued-here"), "key printed:\n%s",
                   r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, a_fixture_with_a_state_is_skipped_without_a_state_option)
{
    fake_msp *fm = test_fake_start(NULL);
    spawned r = provider(fake_msp_url(fm), NULL, NULL);
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect_eq((size_t)count_lines(r.out, "skip "), count_provider(1), "%s",
                 r.out);
    cr_expect_not_null(strstr(r.out, "skip provider-rate-limited-429"), "%s",
                       r.out);
    cr_expect_not_null(strstr(r.out, "(needs provider state \"the tenant's "
                                     "rate limit is low\": --state-url URL or "
                                     "--state-cmd CMD)"),
                       "%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, the_state_command_sets_up_and_tears_down_each_state)
{
    char log[300], cmd[400];
    snprintf(log, sizeof log, "%s/states", tmpdir);
    /* records each call; the states are not applied, so fixtures that need
     * one may fail: only the calls are checked here */
    snprintf(cmd, sizeof cmd,
             "printf '%%s|%%s|%%s|%%s\\n' \"$1\" \"$2\" \"$3\" "
             "\"$MSP_STATE_PARAMS\" >>%s; :",
             log);
    fake_msp *fm = test_fake_start(NULL);
    spawned r = provider(fake_msp_url(fm), "--state-cmd", cmd);
    cr_expect_eq(count_lines(r.out, "skip "), 0, "%s", r.out);
    FILE *fp = fopen(log, "r");
    cr_assert_not_null(fp, "the state command never ran");
    size_t lines = 0;
    char line[512], want[512];
    int saw = 0;
    snprintf(want, sizeof want,
             "setup|the tenant's rate limit is low|%s|{\"per_minute\":1}\n",
             fake_msp_url(fm));
    while (fgets(line, sizeof line, fp)) {
        lines++;
        saw |= strcmp(line, want) == 0;
    }
    fclose(fp);
    cr_expect_eq(lines, 2 * count_provider(1), "a setup and a teardown each");
    cr_expect(saw, "no line \"%s\"", want);
    spawned_free(&r);
    fake_msp_stop(fm);
}

/* Issue 20, finding 11: a state command that starts a background helper
 * (which keeps its stdout open) is done when it exits, not 60 s later. */
Test(provider, a_state_command_leaving_a_background_helper_returns_at_its_exit)
{
    char pids[300], cmd[600];
    snprintf(pids, sizeof pids, "%s/helpers", tmpdir);
    snprintf(cmd, sizeof cmd, "sleep 120 & echo $! >>%s; :", pids);
    fake_msp *fm = test_fake_start(NULL);
    const char *args[] = {"--state-cmd", cmd, "--filter", "happy-process-kill",
                          NULL};
    long long t0 = hx_spawn_now_ms();
    spawned r = test_fake_provider(fake_msp_url(fm), args, 50000);
    long long ms = hx_spawn_now_ms() - t0;
    /* the fixture's state is data the fake always has */
    cr_expect_eq(r.status, 0, "%s", r.out);
    cr_expect_null(strstr(r.out, "state command"), "%s", r.out);
    cr_expect_null(strstr(r.out, "state setup"), "%s", r.out);
    /* the helper holds stdout for 120 s */
    cr_expect_lt(ms, test_ms(30000),
                 "took %lld ms: waited for EOF, not the exit", ms);
    FILE *fp = fopen(pids, "r");
    cr_assert_not_null(fp, "the state command never ran");
    int pid, n = 0;
    while (fscanf(fp, "%d", &pid) == 1) {
        kill(pid, SIGKILL);
        n++;
    }
    fclose(fp);
    cr_expect_geq(n, 2, "a setup and a teardown");
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, a_failing_state_command_fails_its_fixture_showing_its_output)
{
    fake_msp *fm = test_fake_start(NULL);
    spawned r = provider(fake_msp_url(fm), "--state-cmd",
                         "echo no such state here; false");
    cr_expect_eq(r.status, 1);
    cr_expect_eq((size_t)count_lines(r.out, "FAIL "), count_provider(1), "%s",
                 r.out);
    cr_expect_not_null(strstr(r.out, "no such state here"), "%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, passing_fixtures_never_show_the_state_output)
{
    fake_msp *fm = test_fake_start(NULL);
    spawned r =
        provider(fake_msp_url(fm), "--state-cmd", "echo chatty state script");
    cr_expect_null(strstr(r.out, "chatty"), "%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, an_unknown_state_fails_at_the_fake_endpoint)
{
    fake_msp *fm = test_fake_start(NULL);
    char dir[512];
    cr_assert_eq(write_file(tmpdir, "needs-unknown-state.json",
                            "{\"name\":\"needs-unknown-state\","
                            "\"description\":\"d\",\"provider\":{\"verify\":"
                            "true,\"checks\":[\"health\"],\"state\":\"no such "
                            "state\",\"steps\":[{\"request\":{\"method\":"
                            "\"GET\",\"path\":\"/health\"},\"expect\":{"
                            "\"status\":200}}]}}"),
                 0);
    snprintf(dir, sizeof dir, "%s", tmpdir);
    char exe[512], url[400];
    snprintf(url, sizeof url, "%s/__admin/provider-states", fake_msp_url(fm));
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    "provider",
                    "--base-url",
                    (char *)fake_msp_url(fm),
                    "--contracts",
                    dir,
                    "--state-url",
                    url,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 20000, &r), 0);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "UNKNOWN_STATE"), "%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, list_states_names_each_state_with_its_fixtures)
{
    const char *args[] = {"--list-states", NULL};
    spawned r = test_fake_provider(NULL, args, 50000);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "the tenant's rate limit is low\n    "
                                     "provider-rate-limited-429  params "
                                     "{\"per_minute\":1}\n"),
                       "%s", r.out);
    cr_expect_not_null(strstr(r.out, "the MSP is unavailable\n"), "%s", r.out);
    spawned_free(&r);
}

Test(provider, fails_against_a_divergent_fake_naming_the_field)
{
    char dir[512];
    fake_msp *fm =
        test_fake_start(src_path("tests/harness/divergent", dir, sizeof dir));
    spawned r = provider(fake_msp_url(fm), "--filter", "*list-devices*");
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect_geq(count_lines(r.out, "FAIL "), 1, "%s", r.out);
    cr_expect_not_null(strstr(r.out, "devices[0].hostname"),
                       "the diff names the field:\n%s", r.out);
    cr_expect_not_null(strstr(r.out, "data.count"),
                       "the missing member is named:\n%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

/* A loopback URL that refuses connections: a bound socket that never listens.
 */
static int refusing_url(char *url, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    snprintf(url, len, "http://127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

/* Issue 20, finding 12: one clear line and exit 69, not one failure per
 * fixture. */
Test(provider, a_dead_base_url_stops_at_the_first_transport_failure)
{
    char url[64];
    int fd = refusing_url(url, sizeof url);
    spawned r = provider(url, "--state-cmd", "true");
    close(fd);
    cr_expect_eq(r.status, 69, "EX_UNAVAILABLE:\n%s%s", r.out, r.err);
    cr_expect_eq(count_lines(r.out, "FAIL "), 0, "%s", r.out);
    cr_expect_eq(count_lines(r.err, "msp-contract provider: cannot reach "), 1,
                 "%s", r.err);
    char want[128];
    snprintf(want, sizeof want, "cannot reach %s (", url);
    cr_expect_not_null(strstr(r.err, want), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "stopped at fixture 1 of "), "%s", r.err);
    spawned_free(&r);
}

Test(provider, without_a_key_option_it_says_the_built_in_keys_are_sent)
{
    fake_msp *fm = test_fake_start(NULL);
    const char *args[] = {"--filter", "happy-process-kill", NULL};
    spawned r = test_fake_provider(fake_msp_url(fm), args, 50000);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "sending fake-msp's built-in key of each "
                                     "role"),
                       "%s", r.err);
    cr_expect_null(strstr(r.err, "sk-"), "a key was printed: %s", r.err);
    spawned_free(&r);
    const char *with_key[] = {"--filter", "happy-process-kill",
                              "--api-key-file", key_file("k", "sk-test\n"),
                              NULL};
    r = test_fake_provider(fake_msp_url(fm), with_key, 50000);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_null(strstr(r.err, "built-in key"), "%s", r.err);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, base_url_is_required)
{
    char exe[512];
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    "provider", NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 10000, &r), 0);
    cr_expect_eq(r.status, 64);
    cr_expect_not_null(strstr(r.err, "--base-url"));
    spawned_free(&r);
}

Test(provider, an_unknown_credential_role_is_a_usage_error)
{
    const char *args[] = {"--credential", "admin=/dev/null", NULL};
    spawned r = test_fake_provider("http://127.0.0.1:1", args, 50000);
    cr_expect_eq(r.status, 64);
    cr_expect_not_null(strstr(r.err, "unknown role"), "%s", r.err);
    spawned_free(&r);
}

Test(provider, junit_names_the_failing_step)
{
    fake_msp *fm = start_fake_with("rate-limit-no-retry-after", 0);
    char junit[400];
    snprintf(junit, sizeof junit, "%s/provider.xml", tmpdir);
    const char *args[] = {"--junit", junit, NULL};
    spawned r = provider_states(fm, args);
    cr_expect_eq(r.status, 1);
    FILE *fp = fopen(junit, "r");
    cr_assert_not_null(fp);
    char xml[65536];
    size_t n = fread(xml, 1, sizeof xml - 1, fp);
    xml[n] = '\0';
    fclose(fp);
    cr_expect_not_null(strstr(xml, "name=\"provider-rate-limited-429\""));
    cr_expect_not_null(strstr(xml, "<failure message=\"step 2 (over the "
                                   "limit) response.headers.Retry-After\""),
                       "%s", xml);
    spawned_free(&r);
    fake_msp_stop(fm);
}

/* Runs the bundled set against a fake broken by one fixture and checks
 * that `fixture` fails with a diff whose field contains `field`. */
static void expect_caught(const char *broken, size_t max_body,
                          const char *fixture, const char *field)
{
    fake_msp *fm = start_fake_with(broken, max_body);
    spawned r = provider_states(fm, NULL);
    char line[200];
    cr_expect_eq(r.status, 1, "%s: the provider run passed:\n%s", broken,
                 r.out);
    snprintf(line, sizeof line, "FAIL %s ", fixture);
    cr_expect_eq(count_lines(r.out, line), 1, "%s: want \"%s\" in:\n%s", broken,
                 line, r.out);
    const char *at = strstr(r.out, line);
    cr_expect(at && strstr(at, field), "%s: no diff field \"%s\":\n%s", broken,
              field, r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, catches_a_server_without_the_correlation_mismatch_check)
{
    expect_caught("no-correlation-check", 0, "provider-correlation-mismatch",
                  "response.status");
}

Test(provider, catches_a_server_without_an_idempotency_store)
{
    expect_caught("no-idempotency-store", 0, "provider-conflict-409",
                  "step 2 (same id, other params) response.status");
}

Test(provider, catches_a_replay_with_a_new_trace_id)
{
    expect_caught("replay-new-trace-id", 0,
                  "provider-replay-by-echoed-command-id",
                  "step 2 (retry with the echoed id) response.body");
}

Test(provider, catches_a_429_without_retry_after)
{
    expect_caught("rate-limit-no-retry-after", 0, "provider-rate-limited-429",
                  "response.headers.Retry-After");
}

Test(provider, catches_a_404_whose_error_code_is_not_NOT_FOUND)
{
    expect_caught("not-found-code-misspelt", 0, "provider-unknown-tool",
                  "response.body.error.code");
}

Test(provider, catches_an_unknown_tool_answered_200)
{
    expect_caught("unknown-tool-200", 0, "tool-unknown-404", "response.status");
}

Test(provider, catches_a_server_without_413)
{
    expect_caught(NULL, 64u * 1024u * 1024u, "provider-payload-too-large",
                  "response.status");
}

Test(provider, catches_a_tools_list_missing_a_v1_tool)
{
    expect_caught("tools-list-missing-a-tool", 0, "provider-tools-list",
                  "tools[name=msp.device_wipe]");
}

Test(provider, catches_a_server_without_health)
{
    expect_caught("no-health", 0, "provider-health", "response.status");
}

Test(provider, catches_a_tenant_mismatch_answered_401)
{
    expect_caught("tenant-mismatch-as-401", 0, "auth-403-tenant-mismatch",
                  "response.status");
}

Test(provider, catches_a_kill_of_a_protected_pid_reported_as_exit_0)
{
    expect_caught("protected-kill-exit-0", 0, "tool-exit-nonzero",
                  "response.body.exit_code");
}

Test(provider, a_pinned_command_id_is_sent_verbatim)
{
    static const char id[] = "0b7e8c1a-3d2f-4a5b-9c6d-7e8f9a0b1c2d";
    char text[800];
    snprintf(text, sizeof text,
             "{\"name\":\"pinned\",\"description\":\"d\",\"provider\":{"
             "\"verify\":true,\"checks\":[\"health\"],\"pin_command_id\":true,"
             "\"steps\":[{\"request\":{\"method\":\"GET\",\"path\":\"/health\","
             "\"headers\":{\"X-Brainstorm-Command-Id\":\"%s\"}},\"expect\":{"
             "\"status\":200}}]}}",
             id);
    cr_assert_eq(write_file(tmpdir, "pinned.json", text), 0);
    fake_msp *fm = test_fake_start(NULL);
    char exe[512];
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    "provider",
                    "--base-url",
                    (char *)fake_msp_url(fm),
                    "--contracts",
                    tmpdir,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 20000, &r), 0);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    fake_msp_entry *e = NULL;
    size_t n = 0;
    cr_assert_eq(fake_msp_journal_find(fm, id, &e, &n), 0);
    cr_expect_eq(n, 1, "the pinned id went out as written");
    fake_msp_entries_free(e, n);
    spawned_free(&r);
    fake_msp_stop(fm);
}
