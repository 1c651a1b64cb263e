/* test_fake.c - see test_fake.h. */
#include "test_fake.h"

#include <criterion/criterion.h>
#include <stdio.h>

fake_msp *test_fake_start_opts(const fake_msp_options *o)
{
    fake_msp_options def;
    fake_msp *fm = NULL;
    char err[512] = "";

    if (!o) {
        fake_msp_options_init(&def);
        o = &def;
    }
    cr_assert_eq(fake_msp_start(o, &fm, err, sizeof err), 0, "%s", err);
    return fm;
}

fake_msp *test_fake_start(const char *contract_dir)
{
    fake_msp_options o;

    fake_msp_options_init(&o);
    if (contract_dir) {
        o.contract_dirs = &contract_dir;
        o.n_contract_dirs = 1;
    }
    return test_fake_start_opts(&o);
}

spawned test_fake_provider(const char *url, const char *const *args,
                           long timeout_ms)
{
    char exe[512], contracts[512];
    char *argv[32];
    int n = 0;
    spawned r;

    argv[n++] = (char *)bin_path("msp-contract", exe, sizeof exe);
    argv[n++] = "provider";
    if (url) {
        argv[n++] = "--base-url";
        argv[n++] = (char *)url;
    }
    argv[n++] = "--contracts";
    argv[n++] =
        (char *)src_path("contracts/fixtures", contracts, sizeof contracts);
    for (size_t i = 0; args && args[i] && n < 31; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    cr_assert_eq(spawn_capture(argv, timeout_ms, &r), 0);
    return r;
}
