/* msp-contract import, more of what a fixture cannot carry: each
 * interaction below is left out with its own reason (method, path, request
 * Content-Type, ids that differ, a header that is not a string, a request
 * body other than {tool, params, simulate: false}, status or OR rules, rules
 * with no fixture form, a base64 body that is not a string, a type rule on
 * text), while the forms a fixture can carry come through (a JSON body as a
 * string, a text reply, no status, an empty query, array paths, a V2 pact's
 * $.body rules and providerState). */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <contracts/fixture.h>

#include "run_tool.h"

#include "test_tmpdir.h"

static char out_dir[400];

TestSuite(import_refusals, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(60));

/* Writes text as tmpdir/p.json and imports it into tmpdir/out. */
static spawned import(const char *text)
{
    char pact[400];
    snprintf(pact, sizeof pact, "%s/p.json", tmpdir);
    snprintf(out_dir, sizeof out_dir, "%s/out", tmpdir);
    FILE *fp = fopen(pact, "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(text, 1, strlen(text), fp), strlen(text));
    cr_assert_eq(fclose(fp), 0);
    char exe[512];
    char *argv[] = {(char *)bin_path("msp-contract", exe, sizeof exe),
                    "import",
                    "--pact",
                    pact,
                    "--out",
                    out_dir,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 30000, &r), 0);
    return r;
}

/* Imports head, then its[0..n) joined with commas, then "]}". */
static spawned import_all(const char *head, const char *const *its, size_t n)
{
    size_t len = strlen(head) + 3;
    for (size_t i = 0; i < n; i++)
        len += strlen(its[i]) + 1;
    char *text = malloc(len);
    cr_assert_not_null(text);
    strcpy(text, head);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(text, ",");
        strcat(text, its[i]);
    }
    strcat(text, "]}");
    spawned r = import(text);
    free(text);
    return r;
}

#define IMPORT(head, its) import_all((head), (its), sizeof(its) / sizeof *(its))

/* The fixture import wrote as name, loaded (asserts it loads). */
static mspf_fixture *written(const char *name)
{
    char file[600];
    snprintf(file, sizeof file, "%s/%s.json", out_dir, name);
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(mspf_fixture_load(file, &f, &err), 0, "%s: %s", name,
                 err.reason);
    return f;
}

#define V4_HEAD                                                     \
    "{\"consumer\":{\"name\":\"c\"},\"provider\":{\"name\":\"p\"}," \
    "\"metadata\":{\"pactSpecification\":{\"version\":\"4.0\"}},"   \
    "\"interactions\":["
#define EXEC "/api/v1/god-mode/execute"
#define TOOL_BODY(EXTRA)                                                \
    "\"body\":{\"contentType\":\"application/json\",\"encoded\":false," \
    "\"content\":{\"tool\":\"msp.list_devices\",\"params\":{},"         \
    "\"simulate\":false" EXTRA "}}"
/* An HTTP interaction D: METHOD PATH, request members REQ (each ending in
 * ','), request body member BODY, response members RESP. */
#define HTTP(D, METHOD, PATH, REQ, BODY, RESP)                       \
    "{\"type\":\"Synchronous/HTTP\",\"description\":\"" D "\","      \
    "\"request\":{" REQ "\"method\":\"" METHOD "\",\"path\":\"" PATH \
    "\"," BODY "},\"response\":{" RESP "}}"
#define IT(D, REQ, RESP) HTTP(D, "POST", EXEC, REQ, TOOL_BODY(""), RESP)
#define JSON_REPLY(CONTENT)                                          \
    "\"status\":200,\"body\":{\"contentType\":\"application/json\"," \
    "\"encoded\":false,\"content\":" CONTENT "}"
#define OK_REPLY          JSON_REPLY("{\"exit_code\":0,\"stdout\":\"ok\"}")
#define BODY_RULES(RULES) ",\"matchingRules\":{\"body\":{" RULES "}}"
#define TYPE_ROOT         "\"$\":{\"matchers\":[{\"match\":\"type\"}]}"

#define expect_left_out(r, desc, why)                                        \
    cr_expect_not_null(strstr((r).err, "left out \"" desc "\": " why), "%s", \
                       (r).err)

Test(import_refusals, requests_the_executor_never_sends_are_left_out)
{
    static const char *const its[] = {
        HTTP("get", "GET", EXEC, "", TOOL_BODY(""), OK_REPLY),
        HTTP("other path", "POST", "/api/v2/execute", "", TOOL_BODY(""),
             OK_REPLY),
        IT("text request", "\"headers\":{\"Content-Type\":[\"text/plain\"]},",
           OK_REPLY),
        IT("ids differ",
           "\"headers\":{\"X-Brainstorm-Command-Id\":[\"a\"],"
           "\"Idempotency-Key\":[\"b\"]},",
           OK_REPLY),
        IT("number header", "\"headers\":{\"X-Correlation-Id\":5},", OK_REPLY),
        HTTP("extra member", "POST", EXEC, "", TOOL_BODY(",\"x\":1"), OK_REPLY),
        HTTP("simulated", "POST", EXEC, "",
             "\"body\":{\"contentType\":\"application/json\","
             "\"content\":{\"tool\":\"msp.list_devices\","
             "\"simulate\":true}}",
             OK_REPLY),
        "{\"description\":\"untyped\",\"request\":{},\"response\":{}}",
        IT("good", "", OK_REPLY)};
    spawned r = IMPORT(V4_HEAD, its);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_left_out(r, "get", "the executor only sends POST " EXEC);
    expect_left_out(r, "other path", "the executor only sends POST " EXEC);
    expect_left_out(r, "text request",
                    "the request requires Content-Type text/plain");
    expect_left_out(r, "ids differ",
                    "X-Brainstorm-Command-Id and Idempotency-Key differ");
    expect_left_out(r, "number header",
                    "the request header X-Correlation-Id is not a string");
    expect_left_out(r, "extra member",
                    "the executor only sends a body {tool, params, simulate: "
                    "false}");
    expect_left_out(r, "simulated",
                    "the executor only sends a body {tool, params, simulate: "
                    "false}");
    expect_left_out(r, "untyped", "not an HTTP interaction (type missing)");
    cr_expect_not_null(strstr(r.out, "1 fixture(s) written"), "%s", r.out);
    mspf_fixture_free(written("good"));
    spawned_free(&r);
}

Test(import_refusals, response_rules_without_a_fixture_form_are_left_out)
{
    static const char *const its[] = {
        IT("status rule", "",
           OK_REPLY ",\"matchingRules\":{\"status\":{\"$\":{\"matchers\":[{"
                    "\"match\":\"statusCode\",\"status\":\"success\"}]}}}"),
        IT("or rule", "",
           OK_REPLY BODY_RULES(
               TYPE_ROOT ",\"$.stdout\":{\"combine\":\"OR\",\"matchers\":[{"
                         "\"match\":\"type\"},{\"match\":\"equality\"}]}")),
        IT("root regex", "",
           OK_REPLY BODY_RULES(
               "\"$\":{\"matchers\":[{\"match\":\"regex\",\"regex\":\"x\"}]}")),
        IT("plain regex", "",
           OK_REPLY BODY_RULES(TYPE_ROOT
                               ",\"$.stdout\":{\"matchers\":[{\"match\":"
                               "\"regex\",\"regex\":\"^o\"}]}")),
        IT("no value", "",
           OK_REPLY BODY_RULES(TYPE_ROOT ",\"$.nope\":{\"matchers\":[{"
                                         "\"match\":\"equality\"}]}")),
        IT("two rules", "",
           OK_REPLY BODY_RULES(TYPE_ROOT
                               ",\"$.stdout\":{\"matchers\":[{\"match\":"
                               "\"equality\"},{\"match\":\"equality\"}]}")),
        IT("bad path", "",
           OK_REPLY BODY_RULES(TYPE_ROOT ",\"$.a[x]\":{\"matchers\":[{"
                                         "\"match\":\"equality\"}]}")),
        IT("empty member", "",
           OK_REPLY BODY_RULES(TYPE_ROOT ",\"$..a\":{\"matchers\":[{"
                                         "\"match\":\"equality\"}]}")),
        IT("type on text", "",
           "\"status\":200,\"body\":{\"contentType\":\"text/plain\","
           "\"content\":\"hi\"}" BODY_RULES(TYPE_ROOT)),
        IT("base64 object", "",
           "\"status\":200,\"body\":{\"contentType\":\"application/"
           "octet-stream\",\"encoded\":\"base64\",\"content\":{}}")};
    spawned r = IMPORT(V4_HEAD, its);
    /* nothing written: exit 1, each reason on stderr */
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    expect_left_out(r, "status rule", "the response has status matching rules");
    expect_left_out(r, "or rule",
                    "the response body rules at $.stdout combine with OR");
    expect_left_out(r, "root regex",
                    "the response body rule regex at $ has no fixture form "
                    "(only type)");
    expect_left_out(r, "plain regex",
                    "the response body rule regex at $.stdout has no fixture "
                    "form (only a regex as export writes it");
    expect_left_out(r, "no value",
                    "the response body rule equality at $.nope: the body has "
                    "no value there");
    expect_left_out(r, "two rules", "two response body rules at $.stdout");
    expect_left_out(r, "bad path",
                    "the response body rule equality at $.a[x]: the path has "
                    "no fixture form");
    expect_left_out(r, "empty member",
                    "the response body rule equality at $..a: the path has "
                    "no fixture form");
    expect_left_out(r, "type on text",
                    "a type rule on a body that is not JSON");
    expect_left_out(r, "base64 object", "a base64 body that is not a string");
    cr_expect_not_null(strstr(r.out, "0 fixture(s) written"), "%s", r.out);
    spawned_free(&r);
}

Test(import_refusals, forms_a_fixture_can_carry_come_through)
{
    static const char *const its[] = {
        HTTP("json as a string", "POST", EXEC,
             "\"query\":{},\"headers\":{\"content-type\":\"application/json; "
             "charset=utf-8\",\"X-Correlation-Id\":[\"corr-1\"]},",
             "\"body\":{\"contentType\":\"application/json\",\"content\":"
             "\"{\\\"tool\\\":\\\"msp.list_devices\\\",\\\"params\\\":{}}\"}",
             "\"headers\":{\"X-Served-By\":\"fake\"},\"body\":{\"contentType\":"
             "\"text/plain\",\"content\":\"plain words\"}"),
        IT("array paths", "\"query\":\"\",",
           JSON_REPLY("{\"data\":{\"devices\":[{\"id\":\"d1\"},{\"id\":"
                      "\"d2\"}]}}")
               BODY_RULES(TYPE_ROOT
                          ",\"$.data.devices[1].id\":{\"matchers\":[{"
                          "\"match\":\"equality\"}]},\"$.data.devices\":{"
                          "\"matchers\":[{\"match\":\"type\"}]}"))};
    spawned r = IMPORT(V4_HEAD, its);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "2 fixture(s) written"), "%s%s", r.out,
                       r.err);
    mspf_fixture *f = written("json-as-a-string");
    const cJSON *resp = cJSON_GetObjectItem(f->doc, "response");
    cr_expect_eq(cJSON_GetObjectItem(resp, "status")->valueint, 200,
                 "no status is Pact's 200");
    cr_expect_str_eq(
        cJSON_GetStringValue(cJSON_GetObjectItem(resp, "body_text")),
        "plain words");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(resp, "headers"), "X-Served-By")),
                     "fake");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(f->doc, "context"), "tool")),
                     "msp.list_devices", "the tool from the string body");
    cr_expect_str_eq(
        cJSON_GetStringValue(cJSON_GetObjectItem(
            cJSON_GetObjectItem(f->doc, "context"), "correlation_id")),
        "corr-1");
    cr_expect_eq(f->exit_row, 9, "a text reply: raw body on stdout");
    mspf_fixture_free(f);
    f = written("array-paths");
    const cJSON *match =
        cJSON_GetObjectItem(cJSON_GetObjectItem(f->doc, "provider"), "match");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(match, "body")),
                     "type");
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(match, "values"),
                                         "$.data.devices[1].id");
    cr_expect_str_eq(cJSON_GetStringValue(v), "d2",
                     "equality at an array path keeps its example");
    mspf_fixture_free(f);
    spawned_free(&r);
}

Test(import_refusals, a_v2_pact_reads_body_rules_and_the_provider_state)
{
    spawned r = import(
        "{\"consumer\":{\"name\":\"c\"},\"provider\":{\"name\":\"p\"},"
        "\"metadata\":{\"pactSpecification\":{\"version\":\"2.0.0\"}},"
        "\"interactions\":[{\"description\":\"v2 kill\",\"providerState\":"
        "\"agent-001 is online\",\"request\":{\"method\":\"POST\",\"path\":"
        "\"" EXEC "\",\"headers\":{\"Content-Type\":\"application/json\"},"
        "\"body\":{\"tool\":\"msp.process_kill\",\"params\":{\"pid\":1}}},"
        "\"response\":{\"status\":200,\"headers\":{\"Content-Type\":"
        "\"application/json\"},\"body\":{\"exit_code\":0,\"stdout\":\"ok\"},"
        "\"matchingRules\":{\"$.headers.Content-Type\":{\"match\":\"regex\","
        "\"regex\":\"json\"},\"$.body\":{\"match\":\"type\"},"
        "\"$.body.exit_code\":{\"match\":\"equality\"}}}},"
        "{\"description\":\"v2 bad path\",\"request\":{\"method\":\"POST\","
        "\"path\":\"" EXEC "\",\"body\":{\"tool\":\"msp.list_devices\"}},"
        "\"response\":{\"status\":200,\"body\":{\"a\":1},\"matchingRules\":{"
        "\"$.body\":{\"match\":\"type\"},\"$.bodyx\":{\"match\":"
        "\"equality\"}}}}]}");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_left_out(r, "v2 bad path",
                    "the response body rule equality at $.bodyx: the path has "
                    "no fixture form");
    mspf_fixture *f = written("v2-kill");
    const cJSON *pv = cJSON_GetObjectItem(f->doc, "provider");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(pv, "state")),
                     "agent-001 is online");
    const cJSON *match = cJSON_GetObjectItem(pv, "match");
    cr_expect_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(match, "body")),
                     "type");
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(match, "values"),
                                         "$.exit_code");
    cr_expect(cJSON_IsNumber(v) && v->valueint == 0,
              "$.body.exit_code became $.exit_code with its example");
    mspf_fixture_free(f);
    spawned_free(&r);
}

/* The strict scan of a pact names what is wrong with its text, for every
 * kind of fault, and imports nothing (exit 65). */
Test(import_refusals, broken_pact_text_names_each_kind_of_fault)
{
    static const struct {
        const char *text, *says;
    } cases[] = {
        {"{\"a\":\"\\u12", "a \\u escape cut short"},
        {"{\"a\":\"\\u12g4\"}", "a \\u escape that is not hexadecimal"},
        {"{\"a\":\"abc", "a string cut short"},
        {"{\"a\":\"a\tb\"}", "a control byte inside a string"},
        {"{\"a\":\"\\q\"}", "an unknown escape in a string"},
        {"{\"a\":\"\\udc00\"}", "a lone UTF-16 low surrogate"},
        {"{\"a\":\"\\ud800x\"}", "a lone UTF-16 high surrogate"},
        {"{\"a\":\"\\ud800\\u0041\"}", "a lone UTF-16 high surrogate"},
        {"{\"a\":-}", "a number without digits"},
        {"{\"a\":1.}", "a number without digits"},
        {"{\"a\":1e+}", "a number without digits"},
        {"{\"a\":1", "the text ends inside an object"},
        {"{\"a\":1,", "the text ends inside an object"},
        {"{a:1}", "a member name expected"},
        {"{\"a\" 1}", "':' expected"},
        {"{\"a\":1 \"b\":2}", "',' or '}' expected"},
        {"{\"a\":[1 2]}", "',' or ']' expected"},
        {"{\"a\":", "the text ends where a value was expected"},
        {"{\"a\":nul}", "a JSON value expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        spawned r = import(cases[i].text);
        cr_expect_eq(r.status, 65, "case %zu: %s", i, r.err);
        cr_expect_not_null(strstr(r.err, cases[i].says), "case %zu (%s): %s", i,
                           cases[i].text, r.err);
        spawned_free(&r);
    }
    /* a valid pact whose strings use every escape and a surrogate pair
     * scans; only its interaction decides what is written */
    spawned r = import(
        "{\"consumer\":{\"name\":\"c\\\"\\\\\\/"
        "\\b\\f\\n\\r\\t\\ud83d\\ude00\"},"
        "\"provider\":{\"name\":\"p\"},\"metadata\":{\"x\":[true,false,null,"
        "-1.5e+3,0,2E-2]},\"interactions\":[]}");
    cr_expect_eq(r.status, 1, "nothing to write: %s", r.err);
    cr_expect_null(strstr(r.err, "not JSON"), "%s", r.err);
    spawned_free(&r);
}
