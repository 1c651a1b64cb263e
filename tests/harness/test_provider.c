/* msp-contract provider, driven from outside against fake-msp: it passes
 * against the realistic fake and fails, naming the field, against a
 * deliberately divergent one. */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <contracts/fixture.h>
#include <fake_msp/fake_msp.h>

#include "run_tool.h"

static const char *const extra_keys[] = {"sk-other=tenant-y",
                                         "sk-readonly=tenant-x:read_only"};

static fake_msp *start_fake(const char *fixture_dir)
{
    fake_msp_options o;
    fake_msp_options_init(&o);
    o.keys = extra_keys;
    o.n_keys = 2;
    if (fixture_dir) {
        o.contract_dirs = &fixture_dir;
        o.n_contract_dirs = 1;
    }
    fake_msp *fm = NULL;
    char err[512];
    cr_assert_eq(fake_msp_start(&o, &fm, err, sizeof err), 0, "%s", err);
    return fm;
}

static spawned provider(const char *url, const char *opt, const char *val)
{
    char exe[512], contracts[512];
    char *argv[] = {
        (char *)bin_path("msp-contract", exe, sizeof exe),
        "provider",
        "--base-url",
        (char *)url,
        "--contracts",
        (char *)src_path("contracts/fixtures", contracts, sizeof contracts),
        (char *)opt,
        (char *)val,
        NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 50000, &r), 0);
    return r;
}

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
        n += f->provider_verify && (!with_state || f->provider_state);
    }
    mspf_set_free(set);
    return n;
}

Test(provider, passes_against_the_realistic_fake, .timeout = TEST_TIMEOUT(60))
{
    fake_msp *fm = start_fake(NULL);
    spawned r = provider(fake_msp_url(fm), NULL, NULL);
    size_t n = count_provider(0);
    char want[64];
    snprintf(want, sizeof want, "%zu passed, 0 failed, 0 skipped\n", n);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_geq(
        n, 8, "the bundled set marks the reproducible cases for provider runs");
    cr_expect_not_null(strstr(r.out, want), "want \"%s\" in:\n%s", want, r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, fails_against_a_divergent_fake_naming_the_field,
     .timeout = TEST_TIMEOUT(60))
{
    char dir[512];
    fake_msp *fm =
        start_fake(src_path("tests/harness/divergent", dir, sizeof dir));
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

Test(provider, runs_the_state_command_with_each_state,
     .timeout = TEST_TIMEOUT(60))
{
    char tmp[] = "/tmp/msp-provider-XXXXXX";
    cr_assert_not_null(mkdtemp(tmp));
    char log[300], cmd[400];
    snprintf(log, sizeof log, "%s/states", tmp);
    snprintf(cmd, sizeof cmd, "printf '%%s\\n' >>%s", log);
    fake_msp *fm = start_fake(NULL);
    spawned r = provider(fake_msp_url(fm), "--state-cmd", cmd);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    FILE *fp = fopen(log, "r");
    cr_assert_not_null(fp, "the state command never ran");
    size_t lines = 0;
    char line[512];
    while (fgets(line, sizeof line, fp))
        lines++;
    fclose(fp);
    cr_expect_eq(lines, count_provider(1));
    cr_expect_gt(lines, 0);
    unlink(log);
    rmdir(tmp);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(provider, a_failing_state_command_fails_its_fixture,
     .timeout = TEST_TIMEOUT(60))
{
    fake_msp *fm = start_fake(NULL);
    spawned r = provider(fake_msp_url(fm), "--state-cmd", "false");
    cr_expect_eq(r.status, 1);
    cr_expect_eq((size_t)count_lines(r.out, "FAIL "), count_provider(1), "%s",
                 r.out);
    cr_expect_not_null(strstr(r.out, "state command failed"), "%s", r.out);
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

Test(provider, unreachable_server_fails_every_fixture_readably,
     .timeout = TEST_TIMEOUT(60))
{
    char url[64];
    int fd = refusing_url(url, sizeof url);
    spawned r = provider(url, NULL, NULL);
    close(fd);
    cr_expect_eq(r.status, 1);
    cr_expect_eq((size_t)count_lines(r.out, "FAIL "), count_provider(0), "%s",
                 r.out);
    cr_expect_not_null(strstr(r.out, "transport error"), "%s", r.out);
    spawned_free(&r);
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
