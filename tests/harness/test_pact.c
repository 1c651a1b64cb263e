/* msp-contract export and import, driven from outside, without the Pact CLI
 * (ci/pact runs the real Pact verifier and stub on what export writes). */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <regex.h>

#include <cjson/cJSON.h>
#include <contracts/fixture.h>

#include "run_tool.h"

#include "test_tmpdir.h"

TestSuite(pact_export, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(30));
TestSuite(pact_import, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(30));

/* msp-contract with up to 6 arguments after the command (NULL ends them). */
static spawned contract(const char *cmd, const char *a1, const char *a2,
                        const char *a3, const char *a4, const char *a5,
                        const char *a6)
{
    char exe[512];
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    (char *)cmd,
                    (char *)a1,
                    (char *)a2,
                    (char *)a3,
                    (char *)a4,
                    (char *)a5,
                    (char *)a6,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 20000, &r), 0);
    return r;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

/* Exports the bundled fixtures to tmpdir/p.json and parses the pact. */
static cJSON *export_bundled(spawned *r)
{
    char contracts[512], pact[400];
    snprintf(pact, sizeof pact, "%s/p.json", tmpdir);
    *r = contract("export", "--pact", pact, "--contracts",
                  src_path("contracts/fixtures", contracts, sizeof contracts),
                  NULL, NULL);
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    cJSON *doc = cJSON_Parse(slurp(pact));
    cr_assert_not_null(doc);
    return doc;
}

static const cJSON *interaction(const cJSON *pact, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(pact, "interactions"))
    {
        const cJSON *d = cJSON_GetObjectItem(it, "description");
        if (cJSON_IsString(d) && strcmp(d->valuestring, name) == 0)
            return it;
    }
    cr_assert_fail("no interaction %s", name);
    return NULL;
}

/* The bundled fixtures docs/pact.md says export keeps (executor-driven;
 * single-step provider-only fixtures come on top), and how many there are. */
static size_t replayable(size_t *total)
{
    char dir[512];
    mspf_set *set = mspf_set_new();
    mspf_error err;
    cr_assert_geq(
        mspf_set_load_dir(set, src_path("contracts/fixtures", dir, sizeof dir),
                          &err),
        1);
    size_t n = 0;
    *total = mspf_set_count(set);
    for (size_t i = 0; i < *total; i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        n += f->provider_verify && f->expects_request && f->n_responses == 1 &&
             f->responses[0].fault.kind == MSPF_FAULT_NONE && f->repeat == 1;
    }
    mspf_set_free(set);
    return n;
}

Test(pact_export, writes_one_v4_http_interaction_per_replayable_fixture)
{
    spawned r;
    cJSON *pact = export_bundled(&r);
    size_t total, want = replayable(&total);
    const cJSON *list = cJSON_GetObjectItem(pact, "interactions");
    size_t got = (size_t)cJSON_GetArraySize(list);
    cr_expect_geq(got, want);
    cr_expect_str_eq(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(pact, "metadata"),
                                "pactSpecification"),
            "version")
            ->valuestring,
        "4.0");
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        cr_expect_str_eq(cJSON_GetObjectItem(it, "type")->valuestring,
                         "Synchronous/HTTP");
    }
    /* every fixture is either in the pact or listed with its reason */
    cr_expect_eq((size_t)count_lines(r.err, "left out "), total - got, "%s",
                 r.err);
    cJSON_Delete(pact);
    spawned_free(&r);
}

Test(pact_export, lists_each_left_out_fixture_with_its_reason)
{
    spawned r;
    cJSON *pact = export_bundled(&r);
    cr_expect_not_null(strstr(r.err, "fault-reset "), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "fault \"reset\""), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "transport-only"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "executor-only"), "%s", r.err);
    cJSON_Delete(pact);
    spawned_free(&r);
}

Test(pact_export, never_writes_a_key)
{
    spawned r;
    cJSON *pact = export_bundled(&r);
    char path[400];
    snprintf(path, sizeof path, "%s/p.json", tmpdir);
    const char *text = slurp(path);
    cr_expect_null(strstr(text, "sk-"), "a key in the pact");
    const cJSON *auth = cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(interaction(pact, "auth-403-forbidden"),
                                "request"),
            "headers"),
        "Authorization");
    cr_expect_str_eq(auth->child->valuestring, "Bearer <role:read_only>");
    cJSON_Delete(pact);
    spawned_free(&r);
}

Test(pact_export, gives_both_command_id_headers_one_fresh_id_generator)
{
    spawned r;
    cJSON *pact = export_bundled(&r);
    const cJSON *req =
        cJSON_GetObjectItem(interaction(pact, "happy-process-kill"), "request");
    const cJSON *h = cJSON_GetObjectItem(req, "headers");
    cr_expect_str_eq(
        cJSON_GetObjectItem(h, "Idempotency-Key")->child->valuestring,
        cJSON_GetObjectItem(h, "X-Brainstorm-Command-Id")->child->valuestring);
    const cJSON *g =
        cJSON_GetObjectItem(cJSON_GetObjectItem(req, "generators"), "header");
    const char *names[] = {"Idempotency-Key", "X-Brainstorm-Command-Id"};
    for (int i = 0; i < 2; i++) {
        const cJSON *one = cJSON_GetObjectItem(g, names[i]);
        cr_assert_not_null(one, "%s has no generator", names[i]);
        cr_expect_str_eq(cJSON_GetObjectItem(one, "type")->valuestring,
                         "ProviderState");
        cr_expect_str_eq(cJSON_GetObjectItem(one, "expression")->valuestring,
                         "${commandId}");
    }
    cJSON_Delete(pact);
    spawned_free(&r);
}

Test(pact_export, compares_bodies_by_type_but_error_code_exactly)
{
    spawned r;
    cJSON *pact = export_bundled(&r);
    const cJSON *rules = cJSON_GetObjectItem(
        cJSON_GetObjectItem(
            cJSON_GetObjectItem(interaction(pact, "tool-unknown-404"),
                                "response"),
            "matchingRules"),
        "body");
    const cJSON *root = cJSON_GetObjectItem(rules, "$");
    const cJSON *code = cJSON_GetObjectItem(rules, "$.error.code");
    cr_assert_not_null(root);
    cr_assert_not_null(code);
    cr_expect_str_eq(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(root, "matchers")->child, "match")
                         ->valuestring,
                     "type");
    cr_expect_str_eq(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(code, "matchers")->child, "match")
                         ->valuestring,
                     "equality");
    cJSON_Delete(pact);
    spawned_free(&r);
}

Test(pact_export, reads_every_contracts_directory)
{
    char a[512], b[512], pact[400];
    snprintf(pact, sizeof pact, "%s/p.json", tmpdir);
    spawned r =
        contract("export", "--pact", pact, "--contracts",
                 src_path("contracts/fixtures", a, sizeof a), "--contracts",
                 src_path("tests/pact/broken", b, sizeof b));
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "left out tool-unknown-wrong-code"), "%s",
                       r.err);
    spawned_free(&r);
}

Test(pact_export, refuses_a_run_without_a_pact_file)
{
    spawned r = contract("export", NULL, NULL, NULL, NULL, NULL, NULL);
    cr_expect_eq(r.status, 64);
    cr_expect_not_null(strstr(r.err, "--pact FILE is required"), "%s", r.err);
    spawned_free(&r);
}

Test(pact_export, reports_an_unwritable_pact_file)
{
    spawned r = contract("export", "--pact", "/nonexistent-dir/p.json", NULL,
                         NULL, NULL, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.err, "cannot write /nonexistent-dir/p.json"),
                       "%s", r.err);
    spawned_free(&r);
}

static spawned import(const char *pact_rel, const char *out_dir)
{
    char pact[512];
    return contract("import", "--pact", src_path(pact_rel, pact, sizeof pact),
                    "--out", out_dir, NULL, NULL);
}

Test(pact_import, turns_each_http_interaction_into_a_loadable_fixture)
{
    char out[400], file[500];
    snprintf(out, sizeof out, "%s/v4", tmpdir);
    spawned r = import("tests/pact/hand-written-v4.json", out);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "4 fixture(s) written"), "%s", r.out);
    static const struct {
        const char *name;
        int row, exit_code;
    } want[] = {{"kill-a-process-on-agent-003", 6, 0},
                {"list-the-devices", 8, 0},
                {"a-read-only-credential-may-not-kill", 11, 126},
                {"the-msp-is-down", 13, 125}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(file, sizeof file, "%s/%s.json", out, want[i].name);
        mspf_fixture *f = NULL;
        mspf_error err;
        cr_assert_eq(mspf_fixture_load(file, &f, &err), 0, "%s: %s",
                     want[i].name, err.reason);
        cr_expect_eq(f->exit_row, want[i].row, "%s", want[i].name);
        const cJSON *code = cJSON_GetObjectItem(
            cJSON_GetObjectItem(f->doc, "expect"), "exit_code");
        cr_expect_eq(code->valueint, want[i].exit_code, "%s", want[i].name);
        mspf_fixture_free(f);
    }
    spawned_free(&r);
}

Test(pact_import, maps_a_role_placeholder_to_that_credential_role)
{
    char out[400], file[500];
    snprintf(out, sizeof out, "%s/v4", tmpdir);
    spawned r = import("tests/pact/hand-written-v4.json", out);
    cr_assert_eq(r.status, 0, "%s", r.err);
    snprintf(file, sizeof file, "%s/a-read-only-credential-may-not-kill.json",
             out);
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(mspf_fixture_load(file, &f, &err), 0, "%s", err.reason);
    cr_expect_str_eq(f->credential, "read_only");
    cr_expect_null(f->api_key);
    mspf_fixture_free(f);
    spawned_free(&r);
}

Test(pact_import, leaves_out_what_the_executor_cannot_send)
{
    char out[400];
    snprintf(out, sizeof out, "%s/v4", tmpdir);
    spawned r = import("tests/pact/hand-written-v4.json", out);
    cr_expect_eq(r.status, 0);
    cr_expect_not_null(strstr(r.err, "left out \"health check\": the executor "
                                     "only sends POST"),
                       "%s", r.err);
    cr_expect_not_null(
        strstr(r.err, "not an HTTP interaction (type Asynchronous/Messages)"),
        "%s", r.err);
    spawned_free(&r);
}

Test(pact_import, writes_the_same_bytes_twice)
{
    char out1[400], out2[400], a[600], b[600];
    snprintf(out1, sizeof out1, "%s/one", tmpdir);
    snprintf(out2, sizeof out2, "%s/two", tmpdir);
    spawned r1 = import("tests/pact/hand-written-v3.json", out1);
    spawned r2 = import("tests/pact/hand-written-v3.json", out2);
    cr_assert_eq(r1.status, 0, "%s", r1.err);
    cr_assert_eq(r2.status, 0, "%s", r2.err);
    snprintf(a, sizeof a, "%s/an-unknown-tool.json", out1);
    snprintf(b, sizeof b, "%s/an-unknown-tool.json", out2);
    char *first = strdup(slurp(a));
    cr_expect_str_eq(first, slurp(b));
    free(first);
    spawned_free(&r1);
    spawned_free(&r2);
}

Test(pact_import, refuses_a_file_that_is_not_a_pact)
{
    char out[400];
    snprintf(out, sizeof out, "%s/x", tmpdir);
    cr_assert_eq(write_file(tmpdir, "np.json", "{\"hello\": 1}"), 0);
    char np[400];
    snprintf(np, sizeof np, "%s/np.json", tmpdir);
    spawned r = contract("import", "--pact", np, "--out", out, NULL, NULL);
    cr_expect_eq(r.status, 65);
    cr_expect_not_null(strstr(r.err, "not a pact"), "%s", r.err);
    spawned_free(&r);
}

Test(pact_import, refuses_a_run_without_its_options)
{
    spawned r = contract("import", "--pact", "x.json", NULL, NULL, NULL, NULL);
    cr_expect_eq(r.status, 64);
    cr_expect_not_null(strstr(r.err, "--out DIR"), "%s", r.err);
    spawned_free(&r);
}

/* A provider fixture whose correlation header is a regex and whose stderr
 * must merely be non-empty. */
static const char regex_fixture[] =
    "{\"name\":\"regex-header\",\"description\":\"d\",\"exit_row\":6,"
    "\"context\":{\"command_id\":\"6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\","
    "\"tool\":\"msp.process_kill\",\"params\":{\"agent_id\":\"agent-001\","
    "\"pid\":1},\"correlation_id\":\"corr-6a1b2c3d\"},"
    "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/execute\","
    "\"headers\":{\"X-Correlation-Id\":{\"regex\":\"^corr-[0-9a-f]{8}$\"}}},"
    "\"response\":{\"status\":200,\"body\":{\"exit_code\":1,\"stdout\":\"\","
    "\"stderr\":\"kill: (1) - Operation not permitted\\n\"}},"
    "\"expect\":{\"exit_code\":1},"
    "\"provider\":{\"verify\":true,\"match\":{\"status\":\"exact\","
    "\"body\":\"type\"}}}";

Test(pact_export, gives_a_regex_an_example_it_matches_and_a_whole_value_rule)
{
    cr_assert_eq(write_file(tmpdir, "regex-header.json", regex_fixture), 0);
    char pact[400];
    snprintf(pact, sizeof pact, "%s/p.json", tmpdir);
    spawned r =
        contract("export", "--pact", pact, "--contracts", tmpdir, NULL, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cJSON *doc = cJSON_Parse(slurp(pact));
    const cJSON *req =
        cJSON_GetObjectItem(interaction(doc, "regex-header"), "request");
    const char *ex = cJSON_GetObjectItem(cJSON_GetObjectItem(req, "headers"),
                                         "X-Correlation-Id")
                         ->child->valuestring;
    cr_expect_str_eq(ex, "corr-00000000");
    const cJSON *rule = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(req, "matchingRules"),
                            "header"),
        "X-Correlation-Id");
    cr_expect_str_eq(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(rule, "matchers")->child, "regex")
                         ->valuestring,
                     "[\\s\\S]*(?:^corr-[0-9a-f]{8}$)[\\s\\S]*");
    cJSON_Delete(doc);
    spawned_free(&r);
}

Test(pact_export, refuses_pact_options_on_other_commands)
{
    spawned r = contract("verify", "--pact", "p.json", NULL, NULL, NULL, NULL);
    cr_expect_eq(r.status, 64);
    cr_expect_not_null(strstr(r.err, "--pact is for export and import"), "%s",
                       r.err);
    spawned_free(&r);
    r = contract("export", "--pact", "p.json", "--out", "d", NULL, NULL);
    cr_expect_eq(r.status, 64);
    spawned_free(&r);
}

static cJSON *export_cases(spawned *r)
{
    char dir[512], pact[400];
    snprintf(pact, sizeof pact, "%s/cases.json", tmpdir);
    *r = contract("export", "--pact", pact, "--contracts",
                  src_path("tests/pact/export-cases", dir, sizeof dir), NULL,
                  NULL);
    cr_assert_eq(r->status, 0, "%s%s", r->out, r->err);
    cJSON *doc = cJSON_Parse(slurp(pact));
    cr_assert_not_null(doc);
    return doc;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b,
                       const char *c)
{
    const cJSON *v = cJSON_GetObjectItem(o, a);
    if (b)
        v = cJSON_GetObjectItem(v, b);
    if (c)
        v = cJSON_GetObjectItem(v, c);
    return v;
}

Test(pact_export, maps_every_matcher_kind_and_lists_what_has_no_pact_form)
{
    spawned r;
    cJSON *pact = export_cases(&r);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pact, "interactions")),
                 6);
    cr_expect_not_null(strstr(r.err, "left out step-no-credential"), "%s",
                       r.err);
    cr_expect_not_null(strstr(r.err, "Pact cannot forbid a header"), "%s",
                       r.err);
    cr_expect_not_null(strstr(r.err, "values rule absent at $.stderr"), "%s",
                       r.err);
    cr_expect_not_null(strstr(r.err, "regex of header X-None has no example"),
                       "%s", r.err);
    const cJSON *req =
        at(interaction(pact, "rich-request"), "request", NULL, NULL);
    const char *alt = at(req, "headers", "X-Alt", NULL)->child->valuestring;
    regex_t rx;
    cr_assert_eq(regcomp(&rx, "^(ab|cd)[[:digit:]]{2}x?y*z+\\.[^a-z]_.$",
                         REG_EXTENDED | REG_NOSUB),
                 0);
    cr_expect_eq(regexec(&rx, alt, 0, NULL, 0), 0, "example %s", alt);
    regfree(&rx);
    cr_expect_str_eq(at(req, "headers", "X-Json", NULL)->child->valuestring,
                     "{\"k\":1}");
    cr_expect_null(at(req, "headers", "X-Correlation-Id", NULL));
    cr_expect(cJSON_IsArray(at(req, "body", "content", "odd key")));
    cr_expect_not_null(at(req, "matchingRules", "body", "$.list[1]"));
    cr_expect_null(at(req, "body", "content", "gone"));
    const cJSON *resp =
        at(interaction(pact, "rich-request"), "response", NULL, NULL);
    cr_expect_not_null(at(resp, "matchingRules", "body", "$.data.when"));
    cr_expect_str_eq(
        at(interaction(pact, "rich-request"), "providerStates", NULL, NULL)
            ->child->next->child->valuestring,
        "the tenant has no devices");
    cJSON_Delete(pact);
    spawned_free(&r);
}

Test(pact_export, gives_raw_step_ids_their_own_generators)
{
    spawned r;
    cJSON *pact = export_cases(&r);
    const cJSON *two =
        at(interaction(pact, "step-text"), "request", "generators", "header");
    cr_expect_str_eq(at(two, "Idempotency-Key", "type", NULL)->valuestring,
                     "Uuid");
    cr_expect_str_eq(
        at(two, "X-Brainstorm-Command-Id", "type", NULL)->valuestring, "Uuid");
    cr_expect_null(cJSON_GetObjectItem(two, "Authorization"),
                   "an explicit Authorization is sent as written");
    const cJSON *body = at(interaction(pact, "step-json-role"), "request",
                           "generators", "body");
    cr_expect_str_eq(
        at(body, "$.params.agent_id", "expression", NULL)->valuestring,
        "${commandId}");
    cr_expect_str_eq(at(body, "$.params.x[0]", "type", NULL)->valuestring,
                     "Uuid");
    cr_expect_null(at(interaction(pact, "error-code-only"), "request",
                      "generators", "header")
                       ->child->next,
                   "pinned ids get no generator, only Authorization has one");
    const cJSON *content =
        at(interaction(pact, "error-code-only"), "response", "body", "content");
    cr_expect_null(cJSON_GetObjectItem(content, "success"));
    cr_expect_str_eq(at(content, "error", "code", NULL)->valuestring,
                     "NOT_FOUND");
    cJSON_Delete(pact);
    spawned_free(&r);
}

Test(pact_import, reads_base64_bodies_roles_and_odd_ids)
{
    char out[400], file[500];
    snprintf(out, sizeof out, "%s/cases", tmpdir);
    spawned r = import("tests/pact/import-cases.json", out);
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_not_null(strstr(r.out, "4 fixture(s) written"), "%s", r.out);
    cr_expect_not_null(strstr(r.err, "left out \"nul reply\": the result "
                                     "holds a NUL byte"),
                       "%s", r.err);
    cr_expect_not_null(strstr(r.err, "left out \"no response\""), "%s", r.err);
    static const struct {
        const char *name, *credential;
        int row;
    } want[] = {{"binary-reply", NULL, 9},
                {"binary-reply-2", "other_tenant", 11},
                {"interaction-3", "invalid", 11},
                {"empty-reply", NULL, 8}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        snprintf(file, sizeof file, "%s/%s.json", out, want[i].name);
        mspf_fixture *f = NULL;
        mspf_error err;
        cr_assert_eq(mspf_fixture_load(file, &f, &err), 0, "%s: %s",
                     want[i].name, err.reason);
        cr_expect_eq(f->exit_row, want[i].row, "%s", want[i].name);
        if (want[i].credential)
            cr_expect_str_eq(f->credential, want[i].credential, "%s",
                             want[i].name);
        mspf_fixture_free(f);
    }
    spawned_free(&r);
}

Test(pact_import, reports_a_pact_it_cannot_read_or_a_directory_it_cannot_make)
{
    char out[400];
    snprintf(out, sizeof out, "%s/x", tmpdir);
    spawned r = contract("import", "--pact", "/nonexistent/p.json", "--out",
                         out, NULL, NULL);
    cr_expect_eq(r.status, 65);
    cr_expect_not_null(strstr(r.err, "cannot read /nonexistent/p.json"), "%s",
                       r.err);
    spawned_free(&r);
    char pact[512];
    r = contract("import", "--pact",
                 src_path("tests/pact/hand-written-v3.json", pact, sizeof pact),
                 "--out", "/nonexistent/dir", NULL, NULL);
    cr_expect_eq(r.status, 1);
    cr_expect_not_null(strstr(r.err, "cannot create /nonexistent/dir"), "%s",
                       r.err);
    spawned_free(&r);
}
