/*
 * consumer.c — an outside program using the installed libmsp_executor, built
 * by ci/install-check both with pkg-config + cc and with CMake
 * find_package(MspExecutor).
 *
 *   consumer BASE_URL
 *
 * Runs msp.list_devices through the executor against BASE_URL (a fake-msp:
 * token sk-test belongs to tenant tenant-x) and checks the outcome: exit 0
 * with the devices JSON on stdout; then a wrong key must map to exit 126
 * (auth error). Exit status 0 when both hold, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <executor/msp_executor.h>

static int run(const char *base_url, const char *key, const char *command_id,
               msp_result *res)
{
    msp_config cfg;
    msp_config_init(&cfg);
    cfg.base_url = base_url;
    cfg.api_key = key;
    cfg.tenant_id = "tenant-x";
    cfg.default_timeout_ms = 10000;
    msp_executor *ex;
    char err[256];
    if (msp_executor_new(&cfg, &ex, err, sizeof err) != 0) {
        fprintf(stderr, "consumer: %s\n", err);
        return -1;
    }
    msp_context ctx = {.command_id = command_id,
                       .tool = "msp.list_devices",
                       .params_json = "{\"query\":\"laptop\"}",
                       .deadline_ms = 10000};
    int rc = msp_executor_execute(ex, &ctx, res);
    msp_executor_free(ex);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer BASE_URL\n");
        return 64;
    }
    msp_result ok, denied;
    if (run(argv[1], "sk-test", "6f1c2b0e-8a4d-4c1e-9f3a-0d2b7e5c9a11", &ok))
        return 1;
    int good = ok.exit_code == 0 && ok.row == 8 && ok.out_len > 0 &&
               strstr(ok.out, "\"devices\"") != NULL;
    printf("consumer: list_devices -> exit %d (row %d): %.80s\n", ok.exit_code,
           ok.row, ok.out ? ok.out : "");
    msp_result_free(&ok);
    if (run(argv[1], "sk-wrong", "7a2d3c1f-9b5e-4d2f-8a4b-1e3c8f6d0b22",
            &denied))
        return 1;
    good &= denied.exit_code == 126;
    printf("consumer: wrong key -> exit %d: %.80s\n", denied.exit_code,
           denied.err ? denied.err : "");
    msp_result_free(&denied);
    if (!good)
        fprintf(stderr, "consumer: unexpected outcome\n");
    return good ? 0 : 1;
}
