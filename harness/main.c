/*
 * msp-contract — verifies the contract fixtures both ways: the executor
 * against the fake (verify), a real MSP against the fixtures (provider);
 * checks the fixtures (lint) and which exit rows and faults they pin
 * (coverage).
 */
#include "harness.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

static const char usage_text[] =
    "Usage:\n"
    "  msp-contract verify   [--contracts DIR]... [--filter GLOB] [--junit "
    "FILE] "
    "[-j N]\n"
    "                        [--executor-cmd CMD] [--fault-matrix] "
    "[--time-scale N]\n"
    "  msp-contract provider --base-url URL [--contracts DIR]... [--filter "
    "GLOB]\n"
    "                        [--api-key-file FILE] [--credential "
    "ROLE=FILE]...\n"
    "                        [--state-url URL | --state-cmd CMD] [--junit "
    "FILE]\n"
    "                        [--ca-file FILE]\n"
    "  msp-contract provider --list-states [--contracts DIR]...\n"
    "  msp-contract lint     [--contracts DIR]... [-v]\n"
    "  msp-contract coverage [--contracts DIR]... [--provider] [--json]\n"
    "  msp-contract export   --pact FILE [--consumer NAME] [--provider NAME]\n"
    "                        [--contracts DIR]... [--filter GLOB]\n"
    "  msp-contract export   --openapi FILE [--contracts DIR]...\n"
    "  msp-contract import   --pact FILE --out DIR [--force]\n"
    "  msp-contract --help\n"
    "  msp-contract --version   print \"msp-contract VERSION\" and exit 0\n"
    "\n"
    "Commands:\n"
    "  verify    Consumer side. Starts fake-msp in process on a free port with "
    "the\n"
    "            fixtures, runs the real executor with each fixture's context "
    "and\n"
    "            executor settings, and checks the request on the wire (from "
    "the\n"
    "            fake's journal) against \"request\" - or that nothing was "
    "sent where\n"
    "            \"request\" is null - and each result against \"expect\" "
    "(exit code,\n"
    "            stdout, stderr, max_ms) and the fixture's exit_row. Prints "
    "one line\n"
    "            per fixture, the differences of a failure as field / expected "
    "/ got,\n"
    "            and a closing line \"N passed, N failed\". Provider-only "
    "fixtures\n"
    "            (provider.steps) are not run.\n"
    "  provider  Provider side (docs/provider.md). Runs each fixture marked\n"
    "            provider.verify against the MSP at --base-url: a fixture "
    "with\n"
    "            provider.steps sends each step's exact request (method, "
    "path,\n"
    "            headers, body) and checks status, headers, body and value "
    "rules;\n"
    "            any other goes through the real executor and its reply is\n"
    "            compared under provider.match. Every run sends fresh command "
    "ids\n"
    "            (UUIDv4) unless a fixture pins them. A fixture whose "
    "credential\n"
    "            role or provider state is not available is skipped with the "
    "reason.\n"
    "            Fault fixtures are never sent.\n"
    "  lint      Checks every fixture against the format and the semantic "
    "rules\n"
    "            (exit_row agrees with the expected exit code, ...), "
    "reporting\n"
    "            each problem as FILE: JSON-PATH: REASON.\n"
    "  coverage  Prints the exit-table coverage matrix: each row of the exit "
    "table\n"
    "            and each fault kind with the fixtures that pin it; with "
    "--provider\n"
    "            the MSP-side check table with the provider fixtures that pin "
    "each\n"
    "            row. Fails when a row (or a fault) has none.\n"
    "  export    Writes the fixtures a provider can replay as a Pact "
    "Specification V4\n"
    "            pact (one Synchronous/HTTP interaction each); lists the "
    "others on\n"
    "            stderr with the reason (docs/pact.md). With --openapi: the "
    "OpenAPI\n"
    "            3.1.0 document of the MSP API from the tool catalogue, its "
    "examples\n"
    "            from the fixtures (docs/openapi.md).\n"
    "  import    Turns each HTTP interaction of a V3 or V4 pact into a "
    "fixture in\n"
    "            --out DIR, its expect and exit_row from the executor's "
    "mapping.\n"
    "\n"
    "Options:\n"
    "  --contracts DIR     fixture directory, repeatable: the fixtures of "
    "every "
    "DIR\n"
    "                      (a name in two of them is an error); default:\n"
    "                      ./contracts/fixtures, else the installed ones\n"
    "                      "
    "(PREFIX/share/msp-contract-kit/contracts/fixtures),\n"
    "                      else the source tree's this was built from\n"
    "  --filter GLOB       only fixtures whose name matches GLOB (fnmatch)\n"
    "  --junit FILE        also write a JUnit XML report to FILE\n"
    "  -j, --jobs N        verify: fixtures run in parallel (default 8)\n"
    "  --executor-cmd CMD  verify: judge another executor. Each run is\n"
    "                      /bin/sh -c 'CMD \"$@\"' CMD --base-url URL "
    "--api-key-file /dev/fd/3\n"
    "                      --auth-mode M --tenant-id T --timeout-ms N "
    "--context /dev/fd/4 --json\n"
    "                      (any length; fd 3 and 4 are in-memory files, never "
    "on disk;\n"
    "                      fd 3 holds the key without a newline;\n"
    "                      BSM_MSP_BASE_URL/_AUTH_MODE/_TENANT_ID/_TIMEOUT_MS "
    "mirror the\n"
    "                      flags). It must print one line\n"
    "                      "
    "{\"exit_code\":N,\"stdout\":\"...\",\"stderr\":\"...\"} "
    "and exit\n"
    "                      with exit_code & 0xff. Checked: the exit status; "
    "exit_code,\n"
    "                      stdout and stderr byte for byte (NUL included), "
    "shown as\n"
    "                      printed (exit_code 1.5 fails as 1.5); a stdout that "
    "is not\n"
    "                      that line fails showing its first bytes; its stderr "
    "is shown\n"
    "                      with a failure; exit_row is derived from the "
    "stderr prefix\n"
    "                      (rows 6, 8, 9 only as a class); start-up (median "
    "of 3 runs\n"
    "                      with deadline_ms 0) does not count against max_ms, "
    "nor when\n"
    "                      the line carries \"elapsed_ms\". "
    "docs/executor-protocol.md\n"
    "  --fault-matrix      verify: every fixture with a 200 reply once under "
    "each fault\n"
    "                      kind and once delayed past the deadline (500 ms); "
    "each run\n"
    "                      must end in 124 by rows 3-5 within deadline + 1 s; "
    "prints the\n"
    "                      fixture x fault matrix. Works with --executor-cmd\n"
    "  --time-scale N      verify: multiply every max_ms budget by N, for "
    "slow\n"
    "                      machines, sanitizers or valgrind (default: "
    "$MSP_TIME_SCALE,\n"
    "                      else 1)\n"
    "  --base-url URL      provider: the MSP under test\n"
    "  --api-key-file F    provider: the key of role \"valid\" (default: "
    "$BSM_MSP_API_KEY)\n"
    "  --credential ROLE=FILE\n"
    "                      provider: the key of ROLE (valid, read_only, "
    "other_tenant,\n"
    "                      invalid), repeatable. With no key option at all, "
    "every\n"
    "                      role gets fake-msp's built-in key; role invalid "
    "always has one\n"
    "  --state-url URL     provider: POST {\"state\",\"params\",\"action\"} "
    "(Pact's\n"
    "                      provider-state convention) to URL before and after "
    "each\n"
    "                      fixture with states\n"
    "  --state-cmd CMD     provider: run CMD setup|teardown NAME BASE_URL "
    "instead\n"
    "                      (params in $MSP_STATE_PARAMS); non-zero fails the "
    "fixture\n"
    "  --list-states       provider: list each provider state with its "
    "fixtures\n"
    "  --ca-file FILE      provider: CA bundle to verify the MSP's TLS "
    "certificate\n"
    "  --provider          coverage: the MSP-side check matrix; export NAME: "
    "the\n"
    "                      provider's name in the pact\n"
    "  --json              coverage: machine-readable output\n"
    "  --pact FILE         export: the pact written; import: the pact read\n"
    "  --consumer NAME     export: the consumer's name in the pact\n"
    "  --out DIR           import: where the fixtures are written\n"
    "  --force             import: replace existing fixture files in DIR\n"
    "                      (never a symbolic link; default: refuse them)\n"
    "  --openapi FILE      export: write the OpenAPI document (JSON) "
    "instead\n"
    "  -v, --verbose       lint: list clean fixtures too\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 all passed; 1 a fixture failed (or a row is unpinned);\n"
    "64 usage error; 65 the fixtures could not be loaded; provider: 69 the\n"
    "base URL cannot be reached, 130/143 interrupted by SIGINT/SIGTERM (every\n"
    "state set up torn down first).\n";

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "msp-contract: %s%s%s\nTry 'msp-contract --help'.\n", what,
            arg ? ": " : "", arg ? arg : "");
    return HX_EXIT_USAGE;
}

static const char *default_contracts(void)
{
    struct stat st;
    if (stat("contracts/fixtures", &st) == 0 && S_ISDIR(st.st_mode))
        return "contracts/fixtures";
    return mspf_bundled_dir(); /* installed, else the build's source tree */
}

enum {
    OPT_CONTRACTS = 256,
    OPT_FILTER,
    OPT_JUNIT,
    OPT_BASE_URL,
    OPT_STATE_CMD,
    OPT_JSON,
    OPT_KEY_FILE,
    OPT_CA_FILE,
    OPT_EXECUTOR_CMD,
    OPT_TIME_SCALE,
    OPT_CREDENTIAL,
    OPT_STATE_URL,
    OPT_LIST_STATES,
    OPT_PROVIDER,
    OPT_FAULT_MATRIX,
    OPT_PACT,
    OPT_CONSUMER,
    OPT_OUT,
    OPT_FORCE,
    OPT_OPENAPI
};

/* Parses a whole decimal number in [lo, hi]; -1 when it is not one. */
static long parse_count(const char *text, long lo, long hi)
{
    char *end;
    long v = strtol(text, &end, 10);
    return (*text && !*end && v >= lo && v <= hi) ? v : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing command (verify, provider, lint, coverage, "
                           "export or import)",
                           NULL);
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        puts("msp-contract " MSP_EXECUTOR_VERSION);
        return 0;
    }
    int (*run)(const hx_options *) = NULL;
    if (strcmp(cmd, "verify") == 0)
        run = hx_verify;
    else if (strcmp(cmd, "provider") == 0)
        run = hx_provider;
    else if (strcmp(cmd, "lint") == 0)
        run = hx_lint;
    else if (strcmp(cmd, "coverage") == 0)
        run = hx_coverage;
    else if (strcmp(cmd, "export") == 0)
        run = hx_pact_export;
    else if (strcmp(cmd, "import") == 0)
        run = hx_pact_import;
    else
        return usage_error("unknown command", cmd);

    static const char *dirs[HX_MAX_CONTRACT_DIRS];
    static char label[4096];
    size_t ndirs = 0;
    hx_options o = {.jobs = 8, .time_scale = 1};
    const char *scale_env = getenv("MSP_TIME_SCALE");
    if (scale_env && *scale_env) {
        long v = parse_count(scale_env, 1, 1000);
        if (v < 0)
            return usage_error("MSP_TIME_SCALE wants a number from 1 to 1000",
                               scale_env);
        o.time_scale = (int)v;
    }
    /* --provider is a flag for coverage and a name for export */
    const struct option longopts[] = {
        {"contracts", required_argument, NULL, OPT_CONTRACTS},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"junit", required_argument, NULL, OPT_JUNIT},
        {"jobs", required_argument, NULL, 'j'},
        {"base-url", required_argument, NULL, OPT_BASE_URL},
        {"state-cmd", required_argument, NULL, OPT_STATE_CMD},
        {"api-key-file", required_argument, NULL, OPT_KEY_FILE},
        {"ca-file", required_argument, NULL, OPT_CA_FILE},
        {"executor-cmd", required_argument, NULL, OPT_EXECUTOR_CMD},
        {"time-scale", required_argument, NULL, OPT_TIME_SCALE},
        {"credential", required_argument, NULL, OPT_CREDENTIAL},
        {"state-url", required_argument, NULL, OPT_STATE_URL},
        {"list-states", no_argument, NULL, OPT_LIST_STATES},
        {"fault-matrix", no_argument, NULL, OPT_FAULT_MATRIX},
        {"provider", run == hx_pact_export ? required_argument : no_argument,
         NULL, OPT_PROVIDER},
        {"pact", required_argument, NULL, OPT_PACT},
        {"consumer", required_argument, NULL, OPT_CONSUMER},
        {"out", required_argument, NULL, OPT_OUT},
        {"force", no_argument, NULL, OPT_FORCE},
        {"openapi", required_argument, NULL, OPT_OPENAPI},
        {"json", no_argument, NULL, OPT_JSON},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":j:vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CONTRACTS:
            if (ndirs == HX_MAX_CONTRACT_DIRS)
                return usage_error("too many --contracts options", NULL);
            dirs[ndirs++] = optarg;
            break;
        case OPT_PACT: o.pact = optarg; break;
        case OPT_CONSUMER: o.consumer = optarg; break;
        case OPT_OUT: o.out = optarg; break;
        case OPT_FORCE: o.force = 1; break;
        case OPT_OPENAPI: o.openapi = optarg; break;
        case OPT_FILTER: o.filter = optarg; break;
        case OPT_JUNIT: o.junit = optarg; break;
        case OPT_BASE_URL: o.base_url = optarg; break;
        case OPT_STATE_CMD: o.state_cmd = optarg; break;
        case OPT_KEY_FILE: o.api_key_file = optarg; break;
        case OPT_CA_FILE: o.ca_file = optarg; break;
        case OPT_EXECUTOR_CMD: o.executor_cmd = optarg; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_STATE_URL: o.state_url = optarg; break;
        case OPT_LIST_STATES: o.list_states = 1; break;
        case OPT_PROVIDER:
            if (run == hx_pact_export)
                o.provider_name = optarg;
            else
                o.provider_matrix = 1;
            break;
        case OPT_CREDENTIAL: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1])
                return usage_error("--credential wants ROLE=FILE", optarg);
            *eq = '\0';
            if (!mspf_role_find(optarg))
                return usage_error("--credential: unknown role (valid, "
                                   "read_only, other_tenant, invalid)",
                                   optarg);
            if (o.n_credentials == HX_MAX_CREDENTIALS)
                return usage_error("too many --credential options", NULL);
            o.credentials[o.n_credentials].role = optarg;
            o.credentials[o.n_credentials++].file = eq + 1;
            break;
        }
        case OPT_FAULT_MATRIX: o.fault_matrix = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case 'j': {
            long j = parse_count(optarg, 1, 256);
            if (j < 0)
                return usage_error("-j wants a number from 1 to 256", optarg);
            o.jobs = (int)j;
            break;
        }
        case OPT_TIME_SCALE: {
            long v = parse_count(optarg, 1, 1000);
            if (v < 0)
                return usage_error("--time-scale wants a number from 1 to 1000",
                                   optarg);
            o.time_scale = (int)v;
            break;
        }
        case ':': return usage_error("option needs a value", argv[optind - 1]);
        default: return usage_error("unknown option", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (ndirs == 0)
        dirs[ndirs++] = default_contracts();
    for (size_t i = 0, len = 0; i < ndirs && len < sizeof label; i++)
        len += (size_t)snprintf(label + len, sizeof label - len, "%s%s",
                                i ? ", " : "", dirs[i]);
    o.contract_dirs = dirs;
    o.n_contract_dirs = ndirs;
    o.contracts = label;
    if (o.base_url && run != hx_provider)
        return usage_error("--base-url is for the provider command", NULL);
    if ((o.state_url || o.state_cmd || o.n_credentials || o.list_states ||
         o.api_key_file) &&
        run != hx_provider)
        return usage_error("--state-url, --state-cmd, --credential, "
                           "--api-key-file and --list-states are for the "
                           "provider command",
                           NULL);
    if (o.state_url && o.state_cmd)
        return usage_error("--state-url and --state-cmd are exclusive", NULL);
    if (o.provider_matrix && run != hx_coverage)
        return usage_error("--provider is for the coverage command", NULL);
    if ((o.pact && run != hx_pact_export && run != hx_pact_import) ||
        (o.consumer && run != hx_pact_export) ||
        ((o.out || o.force) && run != hx_pact_import))
        return usage_error("--pact is for export and import, --consumer for "
                           "export, --out and --force for import",
                           NULL);
    if (o.executor_cmd && run != hx_verify)
        return usage_error("--executor-cmd is for the verify command", NULL);
    if (o.fault_matrix && run != hx_verify)
        return usage_error("--fault-matrix is for the verify command", NULL);
    if (o.fault_matrix)
        run = hx_fault_matrix;
    if (o.openapi && (run != hx_pact_export || o.pact))
        return usage_error("--openapi is for export, without --pact", NULL);
    if (o.openapi)
        run = hx_openapi_export;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = run(&o);
    curl_global_cleanup();
    return rc;
}
