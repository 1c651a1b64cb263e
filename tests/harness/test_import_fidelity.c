/* Import fidelity (issue 20, findings 5-7): a pact is other people's data.
 * What a fixture cannot carry unchanged is left out with the reason, the
 * written fixture is always JSON, a broken pact says what is wrong, and a
 * key found in a pact is never written. */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run_tool.h"

#include "test_tmpdir.h"

TestSuite(import_fidelity, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(60));

static char out_dir[400];

/* Writes text as tmpdir/p.json and imports it into tmpdir/out. */
static spawned import_text(const char *text, size_t len)
{
    char pact[400];
    snprintf(pact, sizeof pact, "%s/p.json", tmpdir);
    snprintf(out_dir, sizeof out_dir, "%s/out", tmpdir);
    FILE *fp = fopen(pact, "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(text, 1, len, fp), len);
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

static spawned import(const char *text)
{
    return import_text(text, strlen(text));
}

#define HEAD                                                        \
    "{\"consumer\":{\"name\":\"c\"},\"provider\":{\"name\":\"p\"}," \
    "\"metadata\":{\"pactSpecification\":{\"version\":\"4.0\"}},"   \
    "\"interactions\":["
#define TAIL "]}"
#define REQ_BODY                                                        \
    "\"body\":{\"contentType\":\"application/json\",\"encoded\":false," \
    "\"content\":{\"tool\":\"msp.list_devices\",\"params\":{},"         \
    "\"simulate\":false}}"
/* An interaction described D whose request has extra members REQ (each
 * ending in ','), whose response has members RESP. */
#define IT(D, REQ, RESP)                                                   \
    "{\"type\":\"Synchronous/HTTP\",\"description\":\"" D "\","            \
    "\"request\":{" REQ "\"method\":\"POST\",\"path\":\"/api/v1/god-mode/" \
    "execute\"," REQ_BODY "},\"response\":{" RESP "}}"
#define JSON_REPLY(CONTENT)                                          \
    "\"status\":200,\"body\":{\"contentType\":\"application/json\"," \
    "\"encoded\":false,\"content\":" CONTENT "}"
#define GOOD IT("good", "", JSON_REPLY("{\"exit_code\":0,\"stdout\":\"ok\"}"))

static size_t count_files(void)
{
    DIR *d = opendir(out_dir);
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Every file written parses as JSON (cJSON accepts bytes that are not
 * UTF-8, so check that too). */
static void expect_every_file_is_json(void)
{
    DIR *d = opendir(out_dir);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[800], cmd[1000];
        snprintf(path, sizeof path, "%s/%s", out_dir, e->d_name);
        snprintf(cmd, sizeof cmd,
                 "python3 -c 'import json,sys; json.load(open(sys.argv[1], "
                 "encoding=\"utf-8\"))' '%s' 2>/dev/null || "
                 "! command -v python3 >/dev/null",
                 path);
        cr_expect_eq(system(cmd), 0, "%s is not JSON", path);
    }
    closedir(d);
}

#define expect_left_out(r, desc, why)                                        \
    cr_expect_not_null(strstr((r).err, "left out \"" desc "\": " why), "%s", \
                       (r).err)

/* Finding 5. */
Test(import_fidelity, a_nul_in_a_reply_is_left_out_not_cut)
{
    spawned r = import(HEAD IT(
        "nul stdout", "",
        JSON_REPLY("{\"exit_code\":0,\"stdout\":"
                   "\"a\\u0000b\"}")) "," IT("nul in a json "
                                             "string body",
                                             "",
                                             JSON_REPLY("\"{"
                                                        "\\\"exit_"
                                                        "code\\\":0,"
                                                        "\\\"stdout"
                                                        "\\\":"
                                                        "\\\"a\\\\u0"
                                                        "000b\\\"}"
                                                        "\"")) "," GOOD TAIL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_left_out(r, "nul stdout", "a string holds \\u0000");
    expect_left_out(r, "nul in a json string body",
                    "a JSON body string holds \\u0000");
    cr_expect_eq(count_files(), 1);
    spawned_free(&r);
}

/* Finding 5: the list found however its name is escaped, as cJSON does. */
Test(import_fidelity, a_nul_under_an_escaped_interactions_name_is_left_out)
{
    spawned r = import("{\"interaction\\u0073\":[" IT(
        "nul stdout", "",
        JSON_REPLY("{\"exit_code\":0,\"stdout\":\"a\\u0000b\"}")) "]}");
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    expect_left_out(r, "nul stdout", "a string holds \\u0000");
    cr_expect_eq(count_files(), 0);
    spawned_free(&r);
}

/* Finding 5. */
Test(import_fidelity, bytes_that_are_not_utf8_are_left_out)
{
    spawned r = import(HEAD IT(
        "latin1", "",
        JSON_REPLY("{\"exit_code\":0,\"stdout\":\"caf\xe9\"}")) "," GOOD TAIL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "bytes that are not UTF-8"), "%s", r.err);
    cr_expect_eq(count_files(), 1);
    expect_every_file_is_json();
    spawned_free(&r);
    /* a consumer name that is not UTF-8 is only a label: left off */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out_dir);
    cr_assert_eq(system(cmd), 0);
    r = import("{\"consumer\":{\"name\":\"c\xff\"},\"metadata\":{"
               "\"pactSpecification\":{\"version\":\"4.0\"}},"
               "\"interactions\":[" GOOD "]}");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_eq(count_files(), 1);
    expect_every_file_is_json();
    spawned_free(&r);
}

/* Finding 6. */
Test(import_fidelity, constraints_a_fixture_cannot_carry_are_left_out)
{
    spawned r = import(HEAD IT("query", "\"query\":{\"a\":[\"1\"]},", JSON_REPLY("{}")) "," IT(
        "extra header",
        "\"headers\":{\"X-Tenant\":[\"t1\"],\"Content-Type\":"
        "[\"application/json\"]},",
        JSON_REPLY(
            "{}")) "," IT("two values",
                          "\"headers\":{\"X-Correlation-Id\":["
                          "\"a\",\"b\"]},",
                          JSON_REPLY(
                              "{}")) "," IT("two response "
                                            "values",
                                            "",
                                            "\"status\":200,"
                                            "\"headers\":{\"X-"
                                            "A\":[\"1\",\"2\"]"
                                            "}") "," IT("body "
                                                        "rule",
                                                        "",
                                                        JSON_REPLY(
                                                            "{"
                                                            "\""
                                                            "st"
                                                            "do"
                                                            "ut"
                                                            "\""
                                                            ":"
                                                            "\""
                                                            "x"
                                                            "\""
                                                            "}") ",\"matchingRu"
                                                                 "les\":{"
                                                                 "\"body\":{"
                                                                 "\"$.stdout\":"
                                                                 "{\"combine\":"
                                                                 "\"AND\","
                                                                 "\"matchers\":"
                                                                 "[{\"match\":"
                                                                 "\"type\"}]}}"
                                                                 "}") "," IT("o"
                                                                             "d"
                                                                             "d"
                                                                             " "
                                                                             "r"
                                                                             "u"
                                                                             "l"
                                                                             "e",
                                                                             "",
                                                                             JSON_REPLY(
                                                                                 "{\"n\":1}") ",\"matchingRules\":{\"body\":{"
                                                                                              "\"$\":{\"matchers\":[{\"match\":\"type\"}]},"
                                                                                              "\"$.n\":{\"matchers\":[{\"match\":\"integer\"}]}}}") "," GOOD
                           TAIL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_left_out(r, "query", "the request has a query");
    expect_left_out(r, "extra header",
                    "the request requires the header "
                    "X-Tenant");
    expect_left_out(r, "two values",
                    "the request header X-Correlation-Id has "
                    "2 values");
    expect_left_out(r, "two response values",
                    "the response header X-A has 2 "
                    "values");
    expect_left_out(r, "body rule",
                    "the response body rule at $.stdout "
                    "without a type rule on $");
    expect_left_out(r, "odd rule",
                    "the response body rule integer at $.n has "
                    "no fixture form");
    cr_expect_eq(count_files(), 1);
    spawned_free(&r);
}

/* Finding 6: what a fixture can carry comes through (type on $, equality
 * and export's regex at paths). */
Test(import_fidelity, body_rules_with_a_fixture_form_come_through)
{
    spawned r = import(HEAD IT(
        "rules", "",
        JSON_REPLY(
            "{\"exit_code\":0,\"stdout\":\"ok\"}") ",\"matchingRules\":{"
                                                   "\"body\":{"
                                                   "\"$\":{\"matchers\":[{"
                                                   "\"match\":\"type\"}]},"
                                                   "\"$.exit_code\":{"
                                                   "\"matchers\":[{\"match\":"
                                                   "\"equality\"}]},"
                                                   "\"$.stdout\":{\"matchers\":"
                                                   "[{\"match\":\"regex\","
                                                   "\"regex\":"
                                                   "\"[\\\\s\\\\S]*(?:^o)["
                                                   "\\\\s\\\\S]*\"}]}}}") TAIL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    char path[600];
    snprintf(path, sizeof path, "%s/rules.json", out_dir);
    FILE *fp = fopen(path, "r");
    cr_assert_not_null(fp);
    static char buf[1 << 16];
    buf[fread(buf, 1, sizeof buf - 1, fp)] = '\0';
    fclose(fp);
    cr_expect_not_null(strstr(buf, "\"$.exit_code\": 0"), "%s", buf);
    cr_expect_not_null(strstr(buf, "\"regex\": \"^o\""), "%s", buf);
    cr_expect_not_null(strstr(buf, "\"body\": \"type\""), "%s", buf);
    spawned_free(&r);
}

/* Finding 7. */
Test(import_fidelity, a_status_that_is_not_an_http_status_is_left_out)
{
    spawned r = import(HEAD IT("null", "", "\"status\":null") "," IT(
        "string", "",
        "\"status\":\"200\"") "," IT("fraction", "",
                                     "\"status\":200.5") "," IT("huge", "",
                                                                "\"status\":"
                                                                "1e308") "," GOOD
                           TAIL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_left_out(r, "null",
                    "the response status null is not an HTTP "
                    "status");
    expect_left_out(r, "string", "the response status \"200\" is not");
    expect_left_out(r, "fraction", "the response status 200.5 is not");
    expect_left_out(r, "huge", "the response status 1e+308 is not");
    cr_expect_eq(count_files(), 1);
    spawned_free(&r);
}

/* Finding 7. */
Test(import_fidelity, a_broken_pact_says_what_is_wrong)
{
    static const struct {
        const char *text, *says;
    } cases[] = {
        {"", "not JSON: empty (no JSON value)"},
        {"  \n", "not JSON: empty (no JSON value)"},
        {HEAD GOOD, "not JSON: the text ends inside an array at offset"},
        {"{\"interactions\": [1,]}", "not JSON: a JSON value expected at "
                                     "offset 20"},
        {"{\"a\":1} x", "not JSON: more text after the JSON value at offset 8"},
        {"{\"consumer\":{},\"messages\":[]}",
         "message pacts are not supported"},
        {"{\"hello\": 1}", "not a pact (no \"interactions\" array)"},
        {"[1]", "not a pact (the JSON value is not an object)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        spawned r = import(cases[i].text);
        cr_expect_eq(r.status, 65, "case %zu: %s", i, r.err);
        cr_expect_not_null(strstr(r.err, cases[i].says), "case %zu: %s", i,
                           r.err);
        spawned_free(&r);
    }
    char deep[4096] = "{\"interactions\":";
    for (int i = 0; i < 300; i++)
        strcat(deep, "[");
    spawned r = import(deep);
    cr_expect_eq(r.status, 65);
    cr_expect_not_null(strstr(r.err, "too deep (more than 200 levels"), "%s",
                       r.err);
    spawned_free(&r);
}

/* Finding 7: a reply that makes a fixture over the loader's 1 MiB limit. */
Test(import_fidelity, a_fixture_over_the_size_limit_is_left_out)
{
    size_t big = 1100 * 1024;
    char *text = malloc(big + 4096);
    cr_assert_not_null(text);
    int n = snprintf(text, 4096,
                     HEAD "{\"type\":\"Synchronous/HTTP\",\"description\":"
                          "\"big\",\"request\":{\"method\":\"POST\","
                          "\"path\":\"/api/v1/god-mode/execute\"," REQ_BODY
                          "},\"response\":{\"status\":200,\"body\":{"
                          "\"contentType\":\"text/plain\",\"encoded\":"
                          "false,\"content\":\"");
    memset(text + n, 'a', big);
    snprintf(text + (size_t)n + big, 4096, "\"}}}," GOOD TAIL);
    spawned r = import(text);
    free(text);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_left_out(r, "big", "the fixture would be ");
    cr_expect_not_null(strstr(r.err, "lint and the loader refuse it"), "%s",
                       r.err);
    cr_expect_eq(count_files(), 1);
    spawned_free(&r);
}

/* Finding 7: the pact's own key is never written to a fixture. */
#define KEY         "sk-live-9f8e7d6c5b4a"
#define WITH_KEY(S) "\"headers\":{\"Authorization\":[\"" S " " KEY "\"]},"
#define LEAKY                                                              \
    "{\"type\":\"Synchronous/HTTP\",\"description\":\"leaky\","            \
    "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/"        \
    "execute\"," WITH_KEY(                                                 \
        "Bearer") "\"body\":{\"contentType\":"                             \
                  "\"application/"                                         \
                  "json\",\"encoded\":false,\"content\":{\"tool\":"        \
                  "\"msp.list_devices\",\"params\":{\"note\":"             \
                  "\"sk-live-\\u0039f8e7d6c5b4a\"},\"simulate\":false}}}," \
                  "\"response\":{\"status\":200}}"
#define ECHO                            \
    IT("echo " KEY, WITH_KEY("Bearer"), \
       JSON_REPLY("{\"stdout\":\"key " KEY "\"}"))
#define TOKEN                             \
    IT("token scheme", WITH_KEY("Token"), \
       JSON_REPLY("{\"stdout\":\"" KEY "\"}"))
#define CLEAN IT("clean", WITH_KEY("Bearer"), JSON_REPLY("{\"stdout\":\"ok\"}"))

Test(import_fidelity, the_pacts_key_is_never_copied_into_a_fixture)
{
    spawned r = import(HEAD LEAKY "," ECHO "," TOKEN "," CLEAN TAIL);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    expect_left_out(r, "leaky",
                    "the request's Authorization credential "
                    "appears in what the fixture would hold");
    expect_left_out(r, "echo ********************",
                    "the request's Authorization credential");
    expect_left_out(r, "token scheme",
                    "the request's Authorization credential");
    cr_expect_null(strstr(r.err, "9f8e7d6c5b4a"), "%s", r.err);
    cr_expect_null(strstr(r.out, "9f8e7d6c5b4a"), "%s", r.out);
    cr_expect_eq(count_files(), 1);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -rq 9f8e7d6c5b4a '%s'", out_dir);
    cr_expect_neq(system(cmd), 0, "the key is in a fixture");
    spawned_free(&r);
}
