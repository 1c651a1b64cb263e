/*
 * msp-contract — verifies the contract fixtures both ways: the executor
 * against the fake (verify), a real MSP against the fixtures (provider);
 * checks the fixtures (lint) and which exit rows and faults they pin
 * (coverage).
 */
#include "harness.h"
#include "diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <executor/msp_opts.h>

// clang-format off
static const char usage_text[] =
    "Usage:\n"
    "  msp-contract verify   [--contracts DIR]... [--filter GLOB] [--junit FILE] [-j N]\n"
    "                        [--executor-cmd CMD] [--fault-matrix] [--time-scale N]\n"
    "                        [--html FILE]\n"
    "  msp-contract provider --base-url URL [--contracts DIR]... [--filter GLOB]\n"
    "                        [--api-key-file FILE] [--credential ROLE=FILE]...\n"
    "                        [--state-url URL | --state-cmd CMD] [--junit FILE]\n"
    "                        [--ca-file FILE] [--html FILE]\n"
    "  msp-contract provider --list-states [--contracts DIR]...\n"
    "  msp-contract lint     [--contracts DIR]... [-v]\n"
    "  msp-contract coverage [--contracts DIR]... [--provider] [--json] [--html FILE]\n"
    "  msp-contract export   --pact FILE [--consumer NAME] [--provider NAME]\n"
    "                        [--contracts DIR]... [--filter GLOB]\n"
    "  msp-contract export   --openapi FILE [--contracts DIR]...\n"
    "  msp-contract import   --pact FILE --out DIR [--force]\n"
    "  msp-contract diff     OLD NEW [--json] [--junit FILE]\n"
    "                        [--fail-on executors|msps|any|none]\n"
    "  msp-contract --help\n"
    "  msp-contract --version   print \"msp-contract VERSION\" and exit 0\n"
    "\n"
    "Commands:\n"
    "  verify    Consumer side. Starts fake-msp in process on a free port with the\n"
    "            fixtures, runs the real executor with each fixture's context and\n"
    "            executor settings, and checks the request on the wire (from the\n"
    "            fake's journal) against \"request\" - or that nothing was sent where\n"
    "            \"request\" is null - and each result against \"expect\" (exit code,\n"
    "            stdout, stderr, max_ms) and the fixture's exit_row. Prints one line\n"
    "            per fixture, the differences of a failure as field / expected / got,\n"
    "            and a closing line \"N passed, N failed\". Provider-only fixtures\n"
    "            (provider.steps) are not run.\n"
    "  provider  Provider side (docs/provider.md). Runs each fixture marked\n"
    "            provider.verify against the MSP at --base-url: a fixture with\n"
    "            provider.steps sends each step's exact request (method, path,\n"
    "            headers, body) and checks status, headers, body and value rules;\n"
    "            any other goes through the real executor and its reply is\n"
    "            compared under provider.match. Every run sends fresh command ids\n"
    "            (UUIDv4) unless a fixture pins them. A fixture whose credential\n"
    "            role or provider state is not available is skipped with the reason.\n"
    "            Fault fixtures are never sent.\n"
    "  lint      Checks every fixture against the format and the semantic rules\n"
    "            (exit_row agrees with the expected exit code, ...), reporting\n"
    "            each problem as FILE: JSON-PATH: REASON.\n"
    "  coverage  Prints the exit-table coverage matrix: each row of the exit table\n"
    "            and each fault kind with the fixtures that pin it; with --provider\n"
    "            the MSP-side check table with the provider fixtures that pin each\n"
    "            row. Fails when a row (or a fault) has none.\n"
    "  export    Writes the fixtures a provider can replay as a Pact Specification V4\n"
    "            pact (one Synchronous/HTTP interaction each); lists the others on\n"
    "            stderr with the reason (docs/pact.md). With --openapi: the OpenAPI\n"
    "            3.1.0 document of the MSP API from the tool catalogue, its examples\n"
    "            from the fixtures (docs/openapi.md).\n"
    "  import    Turns each HTTP interaction of a V3 or V4 pact into a fixture in\n"
    "            --out DIR, its expect and exit_row from the executor's mapping.\n"
    "  diff      What changed between two fixture sets (directories or\n"
    "            git:REV:PATH) and whom it can break: executors, MSPs, both or\n"
    "            neither (docs/diff.md; msp-contract diff --help).\n"
    "\n"
    "Options:\n"
    "  --contracts DIR     fixture directory, repeatable: the fixtures of every DIR\n"
    "                      (a name in two of them is an error); default:\n"
    "                      ./contracts/fixtures, else the installed ones\n"
    "                      (PREFIX/share/msp-contract-kit/contracts/fixtures),\n"
    "                      else the source tree's this was built from\n"
    "  --filter GLOB       only fixtures whose name matches GLOB (fnmatch)\n"
    "  --junit FILE        also write a JUnit XML report to FILE\n"
    "  --html FILE         verify, provider, coverage: also write a self-contained\n"
    "                      HTML report to FILE (written when fixtures fail too;\n"
    "                      docs/reports.md)\n"
    "  -j, --jobs N        verify: fixtures run in parallel (default 8)\n"
    "  --executor-cmd CMD  verify: judge another executor. Each run is\n"
    "                      /bin/sh -c 'CMD \"$@\"' CMD --base-url URL --api-key-file /dev/fd/3\n"
    "                      --auth-mode M --tenant-id T --timeout-ms N --context /dev/fd/4 --json\n"
    "                      (any length; fd 3 and 4 are in-memory files, never on disk;\n"
    "                      fd 3 holds the key without a newline;\n"
    "                      BSM_MSP_BASE_URL/_AUTH_MODE/_TENANT_ID mirror the\n"
    "                      flags). It must print one line\n"
    "                      {\"exit_code\":N,\"stdout\":\"...\",\"stderr\":\"...\"} and exit\n"
    "                      with exit_code & 0xff. Checked: the exit status; exit_code,\n"
    "                      stdout and stderr byte for byte (NUL included), shown as\n"
    "                      printed (exit_code 1.5 fails as 1.5); a stdout that is not\n"
    "                      that line fails showing its first bytes; its stderr is shown\n"
    "                      with a failure; exit_row is derived from the stderr prefix\n"
    "                      (rows 6, 8, 9 only as a class); start-up (median of 3 runs\n"
    "                      with deadline_ms 0) does not count against max_ms, nor when\n"
    "                      the line carries \"elapsed_ms\". docs/executor-protocol.md\n"
    "  --fault-matrix      verify: every fixture with a 200 reply once under each fault\n"
    "                      kind and once delayed past the deadline (500 ms); each run\n"
    "                      must end in 124 by rows 3-5 within deadline + 1 s; prints the\n"
    "                      fixture x fault matrix. Works with --executor-cmd\n"
    "  --time-scale N      verify: multiply every max_ms budget by N, for slow\n"
    "                      machines, sanitizers or valgrind (default: $MSP_TIME_SCALE,\n"
    "                      else 1)\n"
    "  --base-url URL      provider: the MSP under test\n"
    "  --api-key-file F    provider: the key of role \"valid\" (default: $BSM_MSP_API_KEY)\n"
    "  --credential ROLE=FILE\n"
    "                      provider: the key of ROLE (valid, read_only, other_tenant,\n"
    "                      invalid), repeatable. With no key option at all, every\n"
    "                      role gets fake-msp's built-in key; role invalid always has one\n"
    "  --state-url URL     provider: POST {\"state\",\"params\",\"action\"} (Pact's\n"
    "                      provider-state convention) to URL before and after each\n"
    "                      fixture with states\n"
    "  --state-cmd CMD     provider: run CMD setup|teardown NAME BASE_URL instead\n"
    "                      (params in $MSP_STATE_PARAMS); non-zero fails the fixture\n"
    "  --list-states       provider: list each provider state with its fixtures\n"
    "  --ca-file FILE      provider: CA bundle to verify the MSP's TLS certificate\n"
    "  --provider          coverage: the MSP-side check matrix; export NAME: the\n"
    "                      provider's name in the pact\n"
    "  --json              coverage: machine-readable output\n"
    "  --pact FILE         export: the pact written; import: the pact read\n"
    "  --consumer NAME     export: the consumer's name in the pact\n"
    "  --out DIR           import: where the fixtures are written\n"
    "  --force             import: replace existing fixture files in DIR\n"
    "                      (never a symbolic link; default: refuse them)\n"
    "  --openapi FILE      export: write the OpenAPI document (JSON) instead\n"
    "  --fail-on SIDE      diff: exit 1 when a change can break SIDE (executors,\n"
    "                      msps, any: the default, or none); diff also takes --json\n"
    "                      and --junit FILE\n"
    "  -v, --verbose       lint: list clean fixtures too\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 all passed; 1 a fixture failed (or a row is unpinned);\n"
    "64 usage error; 65 the fixtures could not be loaded; provider: 69 the\n"
    "base URL cannot be reached, 130/143 interrupted by SIGINT/SIGTERM (every\n"
    "state set up torn down first).\n";
// clang-format on

int hx_usage(const char *who, const char *what, const char *arg)
{
    fprintf(stderr, "%s: %s%s%s\nTry '%s --help'.\n", who, what,
            arg ? ": " : "", arg ? arg : "", who);
    return HX_EXIT_USAGE;
}

int hx_opts_error(const char *who, const msp_opts_result *r)
{
    char what[96];

    switch (r->status) {
    case MSP_OPTS_UNKNOWN: return hx_usage(who, "unknown option", r->arg);
    case MSP_OPTS_NO_VALUE:
        return hx_usage(who, "option needs a value", r->arg);
    case MSP_OPTS_BAD_NUMBER: return hx_usage(who, r->opt->what, r->arg);
    case MSP_OPTS_TOO_MANY:
        snprintf(what, sizeof what, "too many --%s options", r->opt->name);
        return hx_usage(who, what, NULL);
    default: return hx_usage(who, r->why, NULL);
    }
}

static int usage_error(const char *what, const char *arg)
{
    return hx_usage("msp-contract", what, arg);
}

static const char *default_contracts(void)
{
    struct stat st;
    if (stat("contracts/fixtures", &st) == 0 && S_ISDIR(st.st_mode))
        return "contracts/fixtures";
    return mspf_bundled_dir(); /* installed, else the build's source tree */
}

typedef int (*command_fn)(const hx_options *);

/* The commands that share the options below (diff has its own). */
static const struct command {
    const char *name;
    command_fn run;
} commands[] = {
    {"verify", hx_verify},      {"provider", hx_provider},
    {"lint", hx_lint},          {"coverage", hx_coverage},
    {"export", hx_pact_export}, {"import", hx_pact_import},
};

/* Everything the command line sets. */
struct cli {
    hx_options o;
    const char *dirs[HX_MAX_CONTRACT_DIRS];
    size_t ndirs;
    char label[4096]; /* the directories, ", "-joined */
    int help;
};

/* --credential ROLE=FILE, repeatable. */
static int add_credential(void *dest, msp_opt_use *use)
{
    hx_options *o = &((struct cli *)dest)->o;
    char *role = use->value, *eq = strchr(role, '=');

    if (!eq || eq == role || !eq[1]) {
        snprintf(use->why, use->why_size, "--credential wants ROLE=FILE: %s",
                 role);
        return -1;
    }
    *eq = '\0';
    if (!mspf_role_find(role)) {
        snprintf(use->why, use->why_size,
                 "--credential: unknown role (valid, read_only, "
                 "other_tenant, invalid): %s",
                 role);
        return -1;
    }
    if (o->n_credentials == HX_MAX_CREDENTIALS) {
        snprintf(use->why, use->why_size, "too many --credential options");
        return -1;
    }
    o->credentials[o->n_credentials].role = role;
    o->credentials[o->n_credentials++].file = eq + 1;
    return 0;
}

#define AT(member) MSP_OPT_FIELD(struct cli, member)

/* Reads the options after the command word into c. --provider is a flag
 * for coverage and a name for export. */
static msp_opts_status parse_options(int argc, char **argv, command_fn run,
                                     struct cli *c, msp_opts_result *r)
{
    /* static: the result's r->opt points into it after the return */
    static msp_opt options[] = {
        MSP_OPT_LIST_ROW("contracts", AT(dirs), offsetof(struct cli, ndirs)),
        MSP_OPT_ROW("filter", 0, MSP_OPT_STRING, AT(o.filter)),
        MSP_OPT_ROW("junit", 0, MSP_OPT_STRING, AT(o.junit)),
        MSP_OPT_ROW("html", 0, MSP_OPT_STRING, AT(o.html)),
        MSP_OPT_NUMBER_ROW("jobs", 'j', AT(o.jobs), 1, 256,
                           "-j wants a number from 1 to 256"),
        MSP_OPT_ROW("base-url", 0, MSP_OPT_STRING, AT(o.base_url)),
        MSP_OPT_ROW("state-cmd", 0, MSP_OPT_STRING, AT(o.state_cmd)),
        MSP_OPT_ROW("api-key-file", 0, MSP_OPT_STRING, AT(o.api_key_file)),
        MSP_OPT_ROW("ca-file", 0, MSP_OPT_STRING, AT(o.ca_file)),
        MSP_OPT_ROW("executor-cmd", 0, MSP_OPT_STRING, AT(o.executor_cmd)),
        MSP_OPT_NUMBER_ROW("time-scale", 0, AT(o.time_scale), 1, 1000,
                           "--time-scale wants a number from 1 to 1000"),
        MSP_OPT_CALL_ROW("credential", MSP_OPT_CALL, add_credential),
        MSP_OPT_ROW("state-url", 0, MSP_OPT_STRING, AT(o.state_url)),
        MSP_OPT_ROW("list-states", 0, MSP_OPT_FLAG, AT(o.list_states)),
        MSP_OPT_ROW("fault-matrix", 0, MSP_OPT_FLAG, AT(o.fault_matrix)),
        MSP_OPT_ROW("provider", 0, MSP_OPT_FLAG, AT(o.provider_matrix)),
        MSP_OPT_ROW("pact", 0, MSP_OPT_STRING, AT(o.pact)),
        MSP_OPT_ROW("consumer", 0, MSP_OPT_STRING, AT(o.consumer)),
        MSP_OPT_ROW("out", 0, MSP_OPT_STRING, AT(o.out)),
        MSP_OPT_ROW("force", 0, MSP_OPT_FLAG, AT(o.force)),
        MSP_OPT_ROW("openapi", 0, MSP_OPT_STRING, AT(o.openapi)),
        MSP_OPT_ROW("json", 0, MSP_OPT_FLAG, AT(o.json)),
        MSP_OPT_ROW("verbose", 'v', MSP_OPT_FLAG, AT(o.verbose)),
        MSP_OPT_ROW("help", 'h', MSP_OPT_STOP, AT(help)),
    };
    static const msp_opt provider_name =
        MSP_OPT_ROW("provider", 0, MSP_OPT_STRING, AT(o.provider_name));
    static const msp_opt provider_flag =
        MSP_OPT_ROW("provider", 0, MSP_OPT_FLAG, AT(o.provider_matrix));
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (options[i].name && strcmp(options[i].name, "provider") == 0)
            options[i] = run == hx_pact_export ? provider_name : provider_flag;
    return msp_opts_parse(options, sizeof options / sizeof options[0], argc,
                          argv, 2, c, r);
}

/* Options given to a command that has no use for them. Returns 0 or 64;
 * *run becomes the fault matrix or the OpenAPI export when asked. */
static int check_combinations(const hx_options *o, command_fn *run)
{
    if (o->base_url && *run != hx_provider)
        return usage_error("--base-url is for the provider command", NULL);
    if ((o->state_url || o->state_cmd || o->n_credentials || o->list_states ||
         o->api_key_file) &&
        *run != hx_provider)
        return usage_error("--state-url, --state-cmd, --credential, "
                           "--api-key-file and --list-states are for the "
                           "provider command",
                           NULL);
    if (o->state_url && o->state_cmd)
        return usage_error("--state-url and --state-cmd are exclusive", NULL);
    if (o->provider_matrix && *run != hx_coverage)
        return usage_error("--provider is for the coverage command", NULL);
    if ((o->pact && *run != hx_pact_export && *run != hx_pact_import) ||
        (o->consumer && *run != hx_pact_export) ||
        ((o->out || o->force) && *run != hx_pact_import))
        return usage_error("--pact is for export and import, --consumer for "
                           "export, --out and --force for import",
                           NULL);
    if (o->executor_cmd && *run != hx_verify)
        return usage_error("--executor-cmd is for the verify command", NULL);
    if (o->fault_matrix && *run != hx_verify)
        return usage_error("--fault-matrix is for the verify command", NULL);
    if (o->html && *run != hx_verify && *run != hx_provider &&
        *run != hx_coverage)
        return usage_error("--html is for verify, provider and coverage", NULL);
    if (o->fault_matrix)
        *run = hx_fault_matrix;
    if (o->openapi && (*run != hx_pact_export || o->pact))
        return usage_error("--openapi is for export, without --pact", NULL);
    if (o->openapi)
        *run = hx_openapi_export;
    return 0;
}

/* The fixture directories: --contracts, else the default; and their
 * label for the output. */
static void set_contract_dirs(struct cli *c)
{
    if (c->ndirs == 0)
        c->dirs[c->ndirs++] = default_contracts();
    for (size_t i = 0, len = 0; i < c->ndirs && len < sizeof c->label; i++)
        len += (size_t)snprintf(c->label + len, sizeof c->label - len, "%s%s",
                                i ? ", " : "", c->dirs[i]);
    c->o.contract_dirs = c->dirs;
    c->o.n_contract_dirs = c->ndirs;
    c->o.contracts = c->label;
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
    if (strcmp(cmd, "diff") == 0)
        return hx_diff_main(argc, argv); /* its own options (diff.c) */
    command_fn run = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            run = commands[i].run;
    if (!run)
        return usage_error("unknown command", cmd);

    static struct cli c = {.o = {.jobs = 8, .time_scale = 1}};
    const char *scale_env = getenv("MSP_TIME_SCALE");
    unsigned long long scale;
    if (scale_env && *scale_env) {
        if (msp_opts_number(scale_env, 1, 1000, &scale) != 0)
            return usage_error("MSP_TIME_SCALE wants a number from 1 to 1000",
                               scale_env);
        c.o.time_scale = (int)scale;
    }
    msp_opts_result r;
    switch (parse_options(argc, argv, run, &c, &r)) {
    case MSP_OPTS_DONE: break;
    case MSP_OPTS_STOPPED: fputs(usage_text, stdout); return 0;
    default: return hx_opts_error("msp-contract", &r);
    }
    if (r.next < argc)
        return usage_error("unexpected argument", argv[r.next]);
    set_contract_dirs(&c);
    int rc = check_combinations(&c.o, &run);
    if (rc != 0)
        return rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = run(&c.o);
    curl_global_cleanup();
    return rc;
}
