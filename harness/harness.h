/*
 * harness.h — internals of msp-contract shared by its subcommands.
 *
 * The harness loads the fixtures with the fixture model (contracts/fixture.h),
 * runs the real executor (executor/msp_executor.h) for each of them, and
 * reports. Nothing here is a public API.
 */
#ifndef MSP_HARNESS_H
#define MSP_HARNESS_H

#include <stdio.h>
#include <stddef.h>

#include <contracts/fixture.h>
#include <executor/msp_executor.h>

#define HX_EXIT_OK         0
#define HX_EXIT_FAILED     1
#define HX_EXIT_USAGE      64
#define HX_EXIT_DATA       65 /* fixtures could not be loaded */
#define HX_EXIT_NO_SERVER  69 /* provider: base URL unreachable */

#define HX_DEFAULT_KEY     "sk-test"
#define HX_DEFAULT_TENANT  "tenant-x"

#define HX_MAX_CREDENTIALS 16

/* --credential ROLE=FILE */
typedef struct hx_credential_opt {
    const char *role;
    const char *file;
} hx_credential_opt;

/* Options shared by the subcommands. */
#define HX_MAX_CONTRACT_DIRS 64

typedef struct hx_options {
    const char *contracts; /* the fixture directories, ", "-joined (output) */
    const char *const *contract_dirs; /* --contracts, repeatable */
    size_t n_contract_dirs;
    const char *filter;    /* fnmatch glob on fixture names, or NULL */
    const char *junit;     /* JUnit XML output path, or NULL */
    const char *html;      /* --html: the HTML report written, or NULL */
    int jobs;              /* parallel fixtures (verify) */
    int json;              /* machine output (coverage) */
    const char *base_url;  /* provider: the MSP under test */
    const char *state_cmd; /* provider: CMD setup|teardown NAME BASE_URL */
    const char *state_url; /* provider: Pact-style state-change URL */
    int list_states;       /* provider: list the states and exit */
    int provider_matrix;   /* coverage: the MSP-side check matrix */
    hx_credential_opt credentials[HX_MAX_CREDENTIALS];
    size_t n_credentials;
    const char *api_key_file; /* provider: replaces the default key */
    const char *ca_file;      /* provider: TLS CA bundle */
    const char *executor_cmd; /* verify: an msp-exec compatible program instead
                                 of the library */
    int verbose;
    int time_scale;   /* verify: max_ms budgets are multiplied by this (>= 1) */
    int fault_matrix; /* verify: run the fault matrix instead */
    const char *pact; /* export/import: the pact file */
    const char *consumer;      /* export: pacticipant names */
    const char *provider_name; /*   (defaults in pact_export.c) */
    const char *out;           /* import: the fixture directory written */
    int force;                 /* import: replace existing fixture files */
    const char *openapi;       /* export: the OpenAPI document written */
} hx_options;

/* What one run of the executor returned. */
typedef struct hx_run {
    int exit_code;
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
    int row;     /* exit-table row, 0 when unknown (external executor) */
    long status; /* HTTP status, 0 when none / unknown */
    char *body;  /* raw body (provider runs only) */
    size_t body_len;
    long long elapsed_ms;
    msp_result lib; /* in-process runs: owns out/err/body (msp_result_free) */
    int from_lib;
    /* External runs (--executor-cmd) only: */
    int usable; /* 1: the result line was read; out/err/exit_code hold */
    mspf_diffs protocol;   /* breaches of the protocol: exit status, result
                              line, exit_code not an int32 integer */
    long long reported_ms; /* the "elapsed_ms" it printed, or -1 */
    char *log;             /* what the program wrote on stderr (capped) */
    size_t log_len;
    size_t log_total;
} hx_run;

void hx_run_free(hx_run *r);

/* Keys by credential role, for one provider run (credentials.c). Keys are
 * never printed. */
typedef struct hx_keyring {
    struct {
        char *role;
        char *key;
    } items[HX_MAX_CREDENTIALS + 8];
    size_t n;
} hx_keyring;

/* Fills *k from the options: each --credential ROLE=FILE; role "valid"
 * from --api-key-file, else $BSM_MSP_API_KEY; with none of them at all,
 * every built-in role's default key (fake-msp's). Role "invalid" always has
 * its built-in key unless given. Returns 0, or -1 with a reason. */
int hx_keyring_load(const hx_options *o, hx_keyring *k, char *err,
                    size_t errlen);
/* The key of `role`, or NULL when the run has none. */
const char *hx_keyring_get(const hx_keyring *k, const char *role);
/* Wipes and frees the keys. */
void hx_keyring_free(hx_keyring *k);

/* How long past its own timeout an external executor may run before it is
 * killed, unless the run says otherwise (verify: times --time-scale). */
#define HX_KILL_MARGIN_MS 10000

/* Where and how to run: the executor configuration of one fixture. */
typedef struct hx_target {
    const char *base_url;
    const char *default_key; /* used when the fixture names none */
    const char *ca_file;
    int capture_body;
    const char *executor_cmd; /* NULL: in-process library */
    long long timeout_ms;     /* > 0: overrides the executor's timeout */
    long long deadline_ms;    /* > 0: overrides the context's deadline_ms */
    long long kill_after_ms;  /* > 0: an external program still running
                                 this long after its start is killed */
    long long kill_margin_ms; /* > 0: without kill_after_ms, an external
                                 program is killed this long past its
                                 timeout (default HX_KILL_MARGIN_MS) */
} hx_target;

/* The key a run of f sends: executor.api_key, else the built-in default
 * key of its credential role (executor.credential, else t->default_key). */
const char *hx_fixture_key(const mspf_fixture *f, const hx_target *t);

/* Runs the fixture's context once. Returns 0 and fills *run, or -1 with a
 * reason in errbuf when the executor could not even be set up (config
 * refused, spawn failed). */
int hx_run_fixture(const mspf_fixture *f, const hx_target *t, hx_run *run,
                   char *errbuf, size_t errlen);

/* The time of a run that counts against max_ms and the fault matrix's
 * deadline: the library's own; else the program's "elapsed_ms"; else its
 * wall time minus its start-up (never below 0). */
long long hx_run_ms(const hx_run *r, long long startup_ms);

/* The exit-table row a result shows: the row whose stderr prefix stderr
 * starts with; 0 for "6, 8 or 9" (the tool's own result or a reply passed
 * through: nothing in the result tells them apart). For external
 * executors, which report no row. */
int hx_row_of_result(const char *err, size_t err_len);

/* The CommandResult the endpoint-stub sends for a result, as JSON text
 * (malloc'd, NULL on ENOMEM): exit 0 → lifecycle_state "completed" with
 * payload {stdout, stderr, exit_code}; any other exit → "failed", payload
 * null, error {code SANDBOX_TOOL_ERROR, message "tool exited with N:
 * <stderr>"}. */
char *hx_command_result(const char *command_id, int exit_code, const char *out,
                        size_t out_len, const char *err, size_t err_len,
                        size_t *len);

/* s[0..n) for a diff: at most `cap` bytes, control bytes and NUL escaped
 * (\n, \x00), "…(N bytes)" when cut. malloc'd. */
char *hx_visible_head(const char *s, size_t n, size_t total, size_t cap);

/* The outcome of one fixture, for the report. */
typedef struct hx_case {
    const mspf_fixture *f;
    int done;
    int passed;
    int skipped;
    long long ms;
    char *note; /* skip reason or set-up error; malloc'd */
    mspf_diffs diffs;
} hx_case;

void hx_case_free(hx_case *c);

/* Prints one case as "ok|FAIL|skip  name (N ms)" plus its diffs. */
void hx_print_case(FILE *out, const hx_case *c);

/* Writes s as XML attribute or text content (markup and control bytes
 * escaped), for every JUnit writer. */
void hx_xml_put(FILE *out, const char *s);

/* Writes fmt with each "%s" replaced by its argument (never NULL), escaped
 * as hx_xml_put does; the rest of fmt goes out as is (no other
 * conversion). */
void hx_xml_printf(FILE *out, const char *fmt, ...);

/* Writes a JUnit XML report. Returns 0 or -1 with errno set. */
int hx_write_junit(const char *path, const char *suite, const hx_case *cases,
                   size_t n, long long total_ms);

/* The selected cases of one run (cases.c, shared by verify and provider). */
typedef struct hx_cases {
    hx_case *items;
    size_t n;
} hx_cases;

/* Which fixtures a command runs at all. */
typedef int (*hx_want_fn)(const mspf_fixture *f);

/* Selects the fixtures of set that `want` takes and --filter matches, in
 * set order. Returns 0, or -1 after printing why (none, or no memory). */
int hx_cases_select(const hx_options *o, const mspf_set *set, hx_want_fn want,
                    const char *command, hx_cases *out);
void hx_cases_free(hx_cases *cs);

typedef struct hx_tally {
    size_t passed, failed, skipped;
} hx_tally;

/* Prints one finished case and counts it. */
void hx_tally_case(hx_tally *t, const hx_case *c);

/* Prints "<command>: N fixtures in T ms" and "N passed, N failed[, N
 * skipped]", writes --junit; returns the exit status. */
int hx_finish(const hx_options *o, const char *command, const hx_cases *cs,
              hx_tally *t, long long total_ms, int with_skipped);

/* Loads every --contracts directory into one new set (a fixture name or
 * command id in two of them is an error), printing the error on failure. */
mspf_set *hx_load(const hx_options *o);

/* Fixture selection by --filter. */
int hx_selected(const hx_options *o, const mspf_fixture *f);

/* Monotonic milliseconds. */
long long hx_now_ms(void);

/* Appends a printf-formatted diff. */
void hx_diff(mspf_diffs *d, const char *field, const char *expected,
             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets up (setup 1) or tears down one provider state through --state-url
 * or else --state-cmd (states.c). Returns 0, or -1 with *output (malloc'd)
 * saying why, with what the endpoint or command printed. */
int hx_state_change(const hx_options *o, const mspf_state *s, int setup,
                    char **output);

/* SIGINT/SIGTERM as a flag (interrupt.c): install, then poll
 * hx_interrupted() (the signal, 0 when none) and exit 128 + it after
 * cleaning up; a second signal ends the process at once. */
void hx_interrupt_install(void);
void hx_interrupt_restore(void);
int hx_interrupted(void);

/* An external program's start-up in ms: the median of three runs of a
 * context whose deadline has already expired (row 1: no network). */
long long hx_measure_startup(const hx_target *t);

/* The subcommands; each returns the process exit status. */
int hx_verify(const hx_options *o);
int hx_fault_matrix(const hx_options *o); /* verify --fault-matrix */
int hx_provider(const hx_options *o);
int hx_lint(const hx_options *o);
int hx_coverage(const hx_options *o);
int hx_pact_export(const hx_options *o); /* pact_export.c */
int hx_pact_import(const hx_options *o); /* pact_import.c */
/* openapi.c: export --openapi FILE */
int hx_openapi_export(const hx_options *o);
/* The OpenAPI 3.1.0 document of the MSP API, its examples from set's
 * fixtures (openapi.c); free with cJSON_Delete. */
cJSON *hx_openapi_build(const mspf_set *set);

/* Loads every --contracts directory of o into one set (export). */
mspf_set *hx_load_all(const hx_options *o);

#endif /* MSP_HARNESS_H */
