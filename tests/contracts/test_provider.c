/*
 * test_provider.c — the provider block of the fixture model
 * (contracts/src/provider.c, catalog.c): provider-only fixtures with raw
 * steps, states, checks and roles are read into the model; mistakes are
 * refused with their path; JSON paths; step checks with values carried
 * between steps.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contracts/fixture.h>

TestSuite(mspf_provider, .timeout = TEST_TIMEOUT(10));

#define STEPS_FIXTURE                                                        \
    "{\"name\":\"p\",\"description\":\"d\",\"provider\":{\"verify\":true,"   \
    "\"checks\":[\"replay\",\"health\"],\"credential\":\"read_only\","       \
    "\"states\":[{\"name\":\"s1\",\"params\":{\"n\":1}},{\"name\":\"s2\"}]," \
    "\"pin_command_id\":true,\"steps\":["                                    \
    "{\"name\":\"one\",\"request\":{\"method\":\"POST\",\"path\":\"/x\","    \
    "\"headers\":{\"A\":\"1\",\"B\":null},\"body\":{\"k\":1}},"              \
    "\"expect\":{\"status\":200}},"                                          \
    "{\"request\":{\"method\":\"GET\",\"path\":\"/y\",\"credential\":null,"  \
    "\"headers\":{\"C\":{\"same_as_step\":1,\"part\":\"$.id\"}}},"           \
    "\"expect\":{\"status\":200,\"body\":{\"same_as_step\":1,\"part\":"      \
    "\"body\"},\"headers\":{\"R\":{\"present\":true}},"                      \
    "\"values\":{\"$.a\":{\"regex\":\"^x\"}}}}]}}"

static int parse(const char *text, mspf_fixture **f, mspf_error *err)
{
    *f = NULL;
    return mspf_fixture_parse(text, strlen(text), NULL, f, err);
}

Test(mspf_provider, a_provider_only_fixture_fills_the_model)
{
    mspf_fixture *f;
    mspf_error err;
    cr_assert_eq(parse(STEPS_FIXTURE, &f, &err), 0, "%s: %s", err.path,
                 err.reason);
    cr_expect_eq(f->provider_verify, 1);
    cr_expect_eq(f->n_provider_steps, 2);
    cr_expect_eq(f->pin_command_id, 1);
    cr_expect_str_eq(f->credential, "read_only");
    cr_expect_eq(f->n_provider_checks, 2);
    cr_expect_str_eq(f->provider_checks[1], "health");
    cr_expect_eq(f->n_provider_states, 2);
    cr_expect_str_eq(f->provider_states[0].name, "s1");
    cr_expect_str_eq(f->provider_states[0].params_json, "{\"n\":1}");
    cr_expect_str_eq(f->provider_states[1].params_json, "{}");
    cr_expect_str_eq(f->provider_state, "s1");
    cr_expect_null(f->command_id, "no context");
    cr_expect_eq(f->expects_request, 0);
    cr_expect_eq(f->exit_row, 0);
    cr_expect_eq(cJSON_GetArraySize(mspf_provider_steps(f)), 2);
    mspf_fixture_free(f);
}

Test(mspf_provider, an_executor_credential_role_is_read)
{
    static const char text[] =
        "{\"name\":\"e\",\"description\":\"d\",\"exit_row\":8,"
        "\"executor\":{\"credential\":\"other_tenant\"},"
        "\"context\":{\"command_id\":\"c\",\"tool\":\"t\"},\"request\":null,"
        "\"expect\":{\"exit_code\":0},\"provider\":{\"verify\":true,\"state\":"
        "\"s\",\"match\":{\"values\":{\"$.exit_code\":1}}}}";
    mspf_fixture *f;
    mspf_error err;
    cr_assert_eq(parse(text, &f, &err), 0, "%s: %s", err.path, err.reason);
    cr_expect_str_eq(f->credential, "other_tenant");
    cr_expect_null(f->api_key);
    cr_expect_eq(f->n_provider_states, 1);
    cr_expect_str_eq(f->provider_state, "s");
    mspf_fixture_free(f);
}

/* STEPS_FIXTURE with `from` replaced by `to` must be refused at `path`. */
static void refused(const char *from, const char *to, const char *path,
                    const char *reason)
{
    char text[4096];
    const char *at = strstr(STEPS_FIXTURE, from);
    cr_assert_not_null(at, "%s", from);
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - STEPS_FIXTURE),
             STEPS_FIXTURE, to, at + strlen(from));
    mspf_fixture *f;
    mspf_error err;
    cr_expect_eq(parse(text, &f, &err), -1, "accepted: %s", text);
    cr_expect_str_eq(err.path, path, "%s", err.reason);
    cr_expect(strstr(err.reason, reason), "\"%s\" lacks \"%s\"", err.reason,
              reason);
    mspf_fixture_free(f);
}

Test(mspf_provider, mistakes_are_refused_with_path_and_reason)
{
    refused("\"description\":\"d\",", "\"description\":\"d\",\"exit_row\":1,",
            "$.exit_row", "no consumer part");
    refused("\"credential\":\"read_only\"", "\"credential\":\"root\"",
            "$.provider.credential", "unknown credential role");
    refused("[\"replay\",\"health\"]", "[\"replay\",\"telepathy\"]",
            "$.provider.checks[1]", "MSP-side check table");
    refused("\"same_as_step\":1,\"part\":\"$.id\"",
            "\"same_as_step\":2,\"part\":\"$.id\"",
            "$.provider.steps[1].request.headers.C.same_as_step",
            "earlier step");
    refused("\"part\":\"body\"", "\"part\":\"bod\"",
            "$.provider.steps[1].expect.body.part", "JSON path");
    refused("\"body\":{\"k\":1}", "\"body\":{\"k\":1},\"body_text\":\"x\"",
            "$.provider.steps[0].request.body", "exclusive");
    refused("\"path\":\"/x\"", "\"path\":\"x\"",
            "$.provider.steps[0].request.path", "from \"/\"");
    refused("\"A\":\"1\"", "\"A\":\"1\\r\\nX: y\"",
            "$.provider.steps[0].request.headers.A", "CR/LF");
    refused("\"$.a\"", "\"a\"", "$.provider.steps[1].expect.values.a",
            "JSON path");
    refused("{\"present\":true}", "{\"present\":false}",
            "$.provider.steps[1].expect.headers.R", "present must be true");
    refused("\"status\":200}}", "\"status\":99}}",
            "$.provider.steps[0].expect.status", "out of range");
    refused("\"pin_command_id\":true", "\"pin_command_id\":1",
            "$.provider.pin_command_id", "boolean");
    refused("\"verify\":true,", "\"verify\":true,\"match\":{},",
            "$.provider.match", "each step's expect");
    refused("\"regex\":\"^x\"", "\"regex\":\"(\"",
            "$.provider.steps[1].expect.values.$.a.regex", "compile");
}

Test(mspf_provider, json_paths_reach_members_indexes_and_named_elements)
{
    cJSON *doc = cJSON_Parse(
        "{\"a\":{\"b\":[10,{\"c\":true}]},\"tools\":[{\"name\":\"x\",\"v\":1},"
        "{\"name\":\"y\",\"v\":2}]}");
    cr_assert_not_null(doc);
    cr_expect_eq(mspf_json_path(doc, "$"), doc);
    cr_expect_eq(mspf_json_path(doc, "$.a.b[0]")->valueint, 10);
    cr_expect(cJSON_IsTrue(mspf_json_path(doc, "$.a.b[1].c")));
    cr_expect_eq(mspf_json_path(doc, "$.tools[name=y].v")->valueint, 2);
    cr_expect_null(mspf_json_path(doc, "$.tools[name=z]"));
    cr_expect_null(mspf_json_path(doc, "$.a.b[7]"));
    cr_expect_null(mspf_json_path(doc, "$.a.b[x]"));
    cr_expect_null(mspf_json_path(doc, "a.b"));
    cr_expect_null(mspf_json_path(doc, "$..a"));
    cr_expect_null(mspf_json_path(doc, "$.a[0"));
    cJSON_Delete(doc);
}

static mspf_reply reply(long status, const char *body, const mspf_header *h,
                        size_t nh)
{
    return (mspf_reply){.status = status,
                        .headers = h,
                        .n_headers = nh,
                        .body = (const unsigned char *)body,
                        .body_len = strlen(body)};
}

/* Checks `expect` (JSON text) against replies; returns the diffs. */
static int check(const char *expect, const mspf_reply *r, size_t n,
                 mspf_diffs *d)
{
    cJSON *e = cJSON_Parse(expect);
    cr_assert_not_null(e, "%s", expect);
    int ok = mspf_check_step(e, r, n, "step 2 response", d);
    cJSON_Delete(e);
    return ok;
}

Test(mspf_provider, a_step_is_checked_by_status_headers_body_and_values)
{
    mspf_header h[] = {{"retry-after", "30"}, {"Content-Type", "x/y"}};
    mspf_reply r[] = {
        reply(429, "{\"error\":{\"code\":\"RATE_LIMITED\"},\"n\":3}", h, 2)};
    mspf_diffs d = {0};
    cr_expect_eq(
        check("{\"status\":429,\"headers\":{\"Retry-After\":{\"regex\":\"^[1-"
              "9][0-9]*$\"},\"X-None\":{\"absent\":true}},\"body\":{\"type\":{"
              "\"n\":0}},\"values\":{\"$.error.code\":\"RATE_LIMITED\",\"$.n\":"
              "{\"type\":0},\"$.error\":{\"present\":true},\"$.error.x\":{"
              "\"absent\":true}}}",
              r, 1, &d),
        1);
    cr_expect_eq(d.n, 0);
    cr_expect_eq(
        check("{\"status\":200,\"headers\":{\"Retry-After\":{\"regex\":\"^x\"},"
              "\"X-None\":{\"present\":true}},\"values\":{\"$.error.code\":"
              "\"NOT_FOUND\",\"$.gone\":{\"present\":true}}}",
              r, 1, &d),
        0);
    cr_assert_eq(d.n, 5);
    cr_expect_str_eq(d.items[0].field, "step 2 response.status");
    cr_expect_str_eq(d.items[0].expected, "200");
    cr_expect_str_eq(d.items[0].got, "429");
    cr_expect_str_eq(d.items[1].field, "step 2 response.headers.Retry-After");
    cr_expect_str_eq(d.items[2].field, "step 2 response.headers.X-None");
    cr_expect_str_eq(d.items[2].got, "(absent)");
    cr_expect_str_eq(d.items[3].field, "step 2 response.body.error.code");
    cr_expect_str_eq(d.items[3].expected, "\"NOT_FOUND\"");
    cr_expect_str_eq(d.items[3].got, "\"RATE_LIMITED\"");
    cr_expect_str_eq(d.items[4].field, "step 2 response.body.gone");
    mspf_diffs_free(&d);
}

Test(mspf_provider, values_carry_between_steps_byte_for_byte)
{
    mspf_header h1[] = {{"X-Id", "abc"}};
    mspf_reply same[] = {reply(200, "{\"id\":\"abc\",\"t\":1}", h1, 1),
                         reply(200, "{\"id\":\"abc\",\"t\":1}", h1, 1)};
    mspf_reply other[] = {reply(200, "{\"id\":\"abc\",\"t\":1}", h1, 1),
                          reply(200, "{\"id\":\"abc\", \"t\":1}", h1, 1)};
    static const char exp[] =
        "{\"status\":200,\"body\":{\"same_as_step\":1,\"part\":\"body\"},"
        "\"headers\":{\"X-Id\":{\"same_as_step\":1,\"part\":\"$.id\"}},"
        "\"values\":{\"$.t\":{\"same_as_step\":1,\"part\":\"$.t\"},\"$.id\":{"
        "\"same_as_step\":1,\"part\":\"header:x-id\"}}}";
    mspf_diffs d = {0};
    cr_expect_eq(check(exp, same, 2, &d), 1);
    cr_expect_eq(d.n, 0, "%s: %s / %s", d.n ? d.items[0].field : "",
                 d.n ? d.items[0].expected : "", d.n ? d.items[0].got : "");
    cr_expect_eq(check(exp, other, 2, &d), 0, "one space differs");
    cr_assert_eq(d.n, 1);
    cr_expect_str_eq(d.items[0].field, "step 2 response.body");
    cr_expect(strstr(d.items[0].expected, "same as step 1 body"));
    mspf_diffs_free(&d);
}

Test(mspf_provider, a_step_value_names_what_is_missing)
{
    mspf_reply r[] = {reply(201, "{\"a\":{\"b\":[1,2]}}", NULL, 0)};
    cJSON *ref = cJSON_Parse("{\"same_as_step\":1,\"part\":\"$.a.b\"}");
    char *text = NULL, why[200];
    size_t len = 0;
    cr_assert_eq(mspf_step_value(ref, r, 1, &text, &len, why, sizeof why), 0);
    cr_expect_str_eq(text, "[1,2]");
    free(text);
    cJSON_Delete(ref);
    ref = cJSON_Parse("{\"same_as_step\":1,\"part\":\"status\"}");
    cr_assert_eq(mspf_step_value(ref, r, 1, &text, &len, why, sizeof why), 0);
    cr_expect_str_eq(text, "201");
    free(text);
    cJSON_Delete(ref);
    ref = cJSON_Parse("{\"same_as_step\":1,\"part\":\"header:Retry-After\"}");
    cr_expect_eq(mspf_step_value(ref, r, 1, &text, &len, why, sizeof why), -1);
    cr_expect(strstr(why, "no header Retry-After"), "%s", why);
    cJSON_Delete(ref);
    ref = cJSON_Parse("{\"same_as_step\":2,\"part\":\"body\"}");
    cr_expect_eq(mspf_step_value(ref, r, 1, &text, &len, why, sizeof why), -1);
    cr_expect(strstr(why, "not run"), "%s", why);
    cJSON_Delete(ref);
}

Test(mspf_provider, exact_compares_json_schemas_without_reading_matchers)
{
    mspf_reply r[] = {reply(200, "{\"p\":{\"type\":\"string\"}}", NULL, 0)};
    mspf_diffs d = {0};
    cr_expect_eq(check("{\"status\":200,\"values\":{\"$.p\":{\"exact\":{"
                       "\"type\":\"string\"}}}}",
                       r, 1, &d),
                 1);
    cr_expect_eq(check("{\"status\":200,\"values\":{\"$.p\":{\"exact\":{"
                       "\"type\":\"integer\"}}}}",
                       r, 1, &d),
                 0);
    cr_expect_eq(d.n, 1);
    mspf_diffs_free(&d);
}

Test(mspf_provider, provider_match_values_check_an_executor_driven_reply)
{
    static const char text[] =
        "{\"name\":\"k\",\"description\":\"d\",\"exit_row\":6,"
        "\"context\":{\"command_id\":\"c\",\"tool\":\"t\"},\"request\":{},"
        "\"response\":{\"body\":{\"exit_code\":1}},"
        "\"expect\":{\"exit_code\":1},\"provider\":{\"verify\":true,"
        "\"match\":{\"values\":{\"$.exit_code\":1}}}}";
    mspf_fixture *f;
    mspf_error err;
    mspf_diffs d = {0};
    cr_assert_eq(parse(text, &f, &err), 0, "%s: %s", err.path, err.reason);
    static const char zero[] = "{\"exit_code\":0}";
    cr_expect_eq(mspf_check_provider(f, 0, 200, (const unsigned char *)zero,
                                     strlen(zero), &d),
                 0, "type alone would pass exit 0");
    cr_assert_eq(d.n, 1);
    cr_expect_str_eq(d.items[0].field, "response.body.exit_code");
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_provider, the_tables_know_every_role_and_check)
{
    size_t n;
    const mspf_role *roles = mspf_roles(&n);
    cr_expect_eq(n, 4);
    cr_expect_str_eq(roles[0].name, MSPF_ROLE_DEFAULT);
    cr_expect_str_eq(mspf_role_find("read_only")->default_key, "sk-readonly");
    cr_expect_eq(mspf_role_find("invalid")->issued, 0);
    cr_expect_null(mspf_role_find("admin"));
    const mspf_msp_check *c = mspf_msp_checks(&n);
    for (size_t i = 0; i < MSPF_MSP_CHECK_ROWS; i++)
        cr_expect_eq(c[i].row, (int)i + 1, "%s", c[i].name);
    cr_expect_str_eq(mspf_msp_check_find("rate_limited")->code, "RATE_LIMITED");
    cr_expect_null(mspf_msp_check_find("x"));
}
