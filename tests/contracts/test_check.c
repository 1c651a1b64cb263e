/*
 * test_check.c — checking an executor result against "expect"/"expects",
 * the provider check against a real reply, and the content of the
 * differences both report.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_text.h"

TestSuite(mspf_check, .timeout = TEST_TIMEOUT(10));

static mspf_fixture *edited(const char *const *edits, size_t n)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_edits(edits, n, &f, &err), 0, "%s: %s", err.path,
                 err.reason);
    return f;
}

static mspf_outcome outcome(int code, const char *out, const char *err,
                            long long ms)
{
    mspf_outcome o = {0};
    o.exit_code = code;
    o.out = out;
    o.out_len = out ? strlen(out) : 0;
    o.err = err;
    o.err_len = err ? strlen(err) : 0;
    o.elapsed_ms = ms;
    return o;
}

static const mspf_diff *find(const mspf_diffs *d, const char *field)
{
    size_t i;
    for (i = 0; i < d->n; i++)
        if (strcmp(d->items[i].field, field) == 0)
            return &d->items[i];
    return NULL;
}

static void assert_diff(const mspf_diffs *d, const char *field,
                        const char *expected, const char *got)
{
    const mspf_diff *x = find(d, field);
    size_t i;
    for (i = 0; i < d->n; i++)
        cr_log_info("%s: expected %s got %s", d->items[i].field,
                    d->items[i].expected, d->items[i].got);
    cr_assert_not_null(x, "no difference at %s", field);
    cr_assert_str_eq(x->expected, expected, "%s", field);
    cr_assert_str_eq(x->got, got, "%s", field);
}

Test(mspf_check, a_matching_result_has_no_differences)
{
    static const char *const none[] = {"tags", "[]"};
    mspf_fixture *f = edited(none, 1);
    mspf_outcome o = outcome(0, "ok\n", "", 12);
    mspf_diffs d = {0};
    cr_assert_eq(mspf_check_result(f, 0, &o, &d), 1);
    cr_assert_eq(d.n, 0);
    cr_assert_eq(mspf_check_result(f, 5, &o, NULL), 1,
                 "every run uses the one expect");
    mspf_fixture_free(f);
}

Test(mspf_check, each_mismatch_names_field_expected_and_got)
{
    static const char *const none[] = {"tags", "[]"};
    mspf_fixture *f = edited(none, 1);
    mspf_outcome o = outcome(126, "", "msp-executor: auth error\n", 1500);
    mspf_diffs d = {0};
    cr_assert_eq(mspf_check_result(f, 0, &o, &d), 0);
    cr_assert_eq(d.n, 4);
    assert_diff(&d, "expect.exit_code", "0", "126");
    assert_diff(&d, "expect.stdout", "\"ok\\n\"", "\"\"");
    assert_diff(&d, "expect.stderr", "{\"regex\":\"^$\"}",
                "\"msp-executor: auth error\\n\"");
    assert_diff(&d, "expect.max_ms", "<= 1000 ms", "1500 ms");
    mspf_diffs_free(&d);
    cr_assert_eq(d.n, 0);
    cr_assert_null(d.items);
    mspf_fixture_free(f);
}

Test(mspf_check, json_expectations_name_the_nested_field)
{
    static const char *const edits[] = {
        "expect",
        "{\"exit_code\":0,\"stdout\":{\"json\":{\"data\":{\"count\":4,"
        "\"devices\":{\"type\":[{\"id\":\"\"}]}}}}}"};
    mspf_fixture *f = edited(edits, 1);
    mspf_outcome good = outcome(
        0, "{\"data\":{\"devices\":[{\"id\":\"d1\"}],\"count\":4.0}}", NULL, 1);
    mspf_outcome bad = outcome(
        0, "{\"data\":{\"devices\":[{\"id\":1}],\"count\":3}}", NULL, 1);
    mspf_outcome text = outcome(0, "OK", NULL, 1);
    mspf_diffs d = {0};
    cr_assert_eq(mspf_check_result(f, 0, &good, &d), 1);
    cr_assert_eq(mspf_check_result(f, 0, &bad, &d), 0);
    assert_diff(&d, "expect.stdout.data.count", "4", "3");
    assert_diff(&d, "expect.stdout.data.devices[0].id", "string", "number");
    mspf_diffs_free(&d);
    cr_assert_eq(mspf_check_result(f, 0, &text, &d), 0);
    cr_assert_not_null(find(&d, "expect.stdout"));
    cr_assert(strncmp(find(&d, "expect.stdout")->got, "not JSON: ", 10) == 0);
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_check, expects_apply_per_run_and_the_last_repeats)
{
    static const char *const edits[] = {
        "expect", NULL, "expects",
        "[{\"exit_code\":125,\"stderr\":{\"regex\":\"^msp-executor: server "
        "error\"}},"
        "{\"exit_code\":0,\"stdout\":\"done\"}]"};
    mspf_fixture *f = edited(edits, 2);
    mspf_outcome e125 =
        outcome(125, "", "msp-executor: server error (503): x", 1);
    mspf_outcome ok = outcome(0, "done", "", 1);
    cr_assert_eq(mspf_check_result(f, 0, &e125, NULL), 1);
    cr_assert_eq(mspf_check_result(f, 0, &ok, NULL), 0);
    cr_assert_eq(mspf_check_result(f, 1, &ok, NULL), 1);
    cr_assert_eq(mspf_check_result(f, 7, &ok, NULL), 1,
                 "the last expect repeats");
    cr_assert_eq(mspf_check_result(f, -1, &e125, NULL), 1,
                 "a negative run is the first");
    mspf_fixture_free(f);
}

Test(mspf_check, output_with_nul_bytes_is_compared_up_to_its_length)
{
    static const char *const edits[] = {"expect",
                                        "{\"exit_code\":0,\"stdout\":\"ab\"}"};
    mspf_fixture *f = edited(edits, 1);
    mspf_outcome o = outcome(0, "abcdef", NULL, 1);
    o.out_len = 2;
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 1);
    o.out = NULL;
    o.out_len = 0;
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 0, "NULL output is empty");
    cr_assert_eq(mspf_check_result(NULL, 0, &o, NULL), 0);
    cr_assert_eq(mspf_check_result(f, 0, NULL, NULL), 0);
    mspf_fixture_free(f);
}

Test(mspf_check, long_values_are_cut_with_their_size)
{
    static const char *const edits[] = {
        "expect", "{\"exit_code\":0,\"stdout\":\"short\"}"};
    mspf_fixture *f = edited(edits, 1);
    char *big = malloc(5001);
    mspf_outcome o = {0};
    mspf_diffs d = {0};
    const mspf_diff *x;
    memset(big, 'x', 5000);
    big[5000] = '\0';
    o = outcome(0, big, NULL, 1);
    cr_assert_eq(mspf_check_result(f, 0, &o, &d), 0);
    x = find(&d, "expect.stdout");
    cr_assert_not_null(x);
    cr_assert_lt(strlen(x->got), 240);
    cr_assert(strstr(x->got, "\xE2\x80\xA6(5002 bytes)"), "%s", x->got);
    mspf_diffs_free(&d);
    free(big);
    mspf_fixture_free(f);
}

Test(mspf_check, cutting_never_splits_a_utf8_character)
{
    static const char *const edits[] = {"expect",
                                        "{\"exit_code\":0,\"stdout\":\"\"}"};
    mspf_fixture *f = edited(edits, 1);
    char text[700] = "";
    mspf_outcome o = {0};
    mspf_diffs d = {0};
    int i;
    for (i = 0; i < 200; i++)
        strcat(text, "\xC3\xA9"); /* é, two bytes */
    o = outcome(0, text, NULL, 1);
    cr_assert_eq(mspf_check_result(f, 0, &o, &d), 0);
    /* the got text is "\"é…": quote + 99 whole characters = 199 bytes */
    cr_assert_eq(strncmp(d.items[0].got + 199, "\xE2\x80\xA6", 3), 0, "%s",
                 d.items[0].got);
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_check, diffs_add_copies_and_refuses_null)
{
    mspf_diffs d = {0};
    char field[8] = "f";
    int i;
    for (i = 0; i < 20; i++)
        cr_assert_eq(mspf_diffs_add(&d, field, "e", NULL), 0);
    field[0] = 'g';
    cr_assert_eq(d.n, 20);
    cr_assert_str_eq(d.items[19].field, "f");
    cr_assert_str_eq(d.items[19].got, "");
    cr_assert_eq(mspf_diffs_add(NULL, "f", "e", "g"), -1);
    cr_assert_eq(mspf_diffs_add(&d, NULL, NULL, NULL), 0);
    cr_assert_str_eq(d.items[20].field, "");
    mspf_diffs_free(&d);
    mspf_diffs_free(NULL);
}

/* ---- provider ----------------------------------------------------------- */

#define DEVICES_FIXTURE_RESPONSE                                             \
    "{\"status\":200,\"body\":{\"success\":true,\"data\":{\"devices\":[{"    \
    "\"id\":\"dev-001\","                                                    \
    "\"hostname\":\"ws-finance-01\",\"online\":true}],\"count\":1},\"trace_" \
    "id\":\"t\"}}"

/* The provider check of BASE_FIXTURE with `response` and match.body = mode
 * ("" removes provider.match: the default applies). */
static int provider(const char *mode, const char *response, long status,
                    const char *body, mspf_diffs *d)
{
    char match[64];
    const char *edits[4] = {"provider.match", match, "response", response};
    mspf_fixture *f;
    int r;
    snprintf(match, sizeof(match), "{\"status\":\"exact\",\"body\":\"%s\"}",
             mode);
    if (!mode[0])
        edits[1] = NULL;
    f = edited(edits, 2);
    r = mspf_check_provider(f, 0, status, (const unsigned char *)body,
                            body ? strlen(body) : 0, d);
    mspf_fixture_free(f);
    return r;
}

Test(mspf_check, provider_type_mode_accepts_other_values_of_the_same_shape)
{
    const char *real = "{\"success\":false,\"data\":{\"devices\":[{\"id\":"
                       "\"dev-9\",\"hostname\":\"h\","
                       "\"online\":false,\"os\":\"x\"}],\"count\":9},\"trace_"
                       "id\":\"u\",\"more\":1}";
    cr_assert_eq(provider("type", DEVICES_FIXTURE_RESPONSE, 200, real, NULL),
                 1);
    cr_assert_eq(provider("", DEVICES_FIXTURE_RESPONSE, 200, real, NULL), 1,
                 "type is the default");
}

Test(mspf_check, provider_type_mode_names_the_field_that_differs)
{
    mspf_diffs d = {0};
    const char *real = "{\"success\":true,\"data\":{\"devices\":[{\"id\":\"dev-"
                       "9\",\"hostname\":7,"
                       "\"online\":true}]},\"trace_id\":\"u\"}";
    cr_assert_eq(provider("type", DEVICES_FIXTURE_RESPONSE, 201, real, &d), 0);
    assert_diff(&d, "response.status", "200", "201");
    assert_diff(&d, "response.body.data.devices[0].hostname", "string",
                "number");
    assert_diff(&d, "response.body.data.count", "number", "(absent)");
    mspf_diffs_free(&d);
    cr_assert_eq(
        provider("type", DEVICES_FIXTURE_RESPONSE, 200, "not json", &d), 0);
    assert_diff(&d, "response.body", "object", "(absent)");
    mspf_diffs_free(&d);
}

#define ERROR_RESPONSE                                                 \
    "{\"status\":403,\"body\":{\"success\":false,\"error\":{\"code\":" \
    "\"TENANT_MISMATCH\","                                             \
    "\"message\":\"Authenticated tenant does not match request tenant\"}}}"

Test(mspf_check, provider_requires_the_same_error_code)
{
    mspf_diffs d = {0};
    const char *other_msg =
        "{\"success\":false,\"error\":{\"code\":\"TENANT_MISMATCH\","
        "\"message\":\"tenant mismatch\"}}";
    const char *other_code =
        "{\"success\":false,\"error\":{\"code\":\"FORBIDDEN\","
        "\"message\":\"x\"}}";
    cr_assert_eq(provider("type", ERROR_RESPONSE, 403, other_msg, NULL), 1);
    cr_assert_eq(provider("error_code", ERROR_RESPONSE, 403, other_msg, NULL),
                 1);
    cr_assert_eq(provider("type", ERROR_RESPONSE, 403, other_code, &d), 0);
    assert_diff(&d, "response.body.error.code", "\"TENANT_MISMATCH\"",
                "\"FORBIDDEN\"");
    mspf_diffs_free(&d);
    cr_assert_eq(provider("error_code", ERROR_RESPONSE, 403, "{\"a\":1}", &d),
                 0);
    assert_diff(&d, "response.body.error.code", "\"TENANT_MISMATCH\"",
                "(absent)");
    mspf_diffs_free(&d);
}

Test(mspf_check, provider_error_code_mode_ignores_the_rest_of_the_body)
{
    cr_assert_eq(
        provider("error_code", DEVICES_FIXTURE_RESPONSE, 200, "[1,2]", NULL),
        1);
}

Test(mspf_check, provider_exact_mode_compares_values)
{
    mspf_diffs d = {0};
    const char *same = "{\"success\":false,\"error\":{\"message\":"
                       "\"Authenticated tenant does not "
                       "match request tenant\",\"code\":\"TENANT_MISMATCH\"}}";
    const char *other =
        "{\"success\":false,\"error\":{\"code\":\"TENANT_MISMATCH\","
        "\"message\":\"tenant mismatch\"}}";
    cr_assert_eq(provider("exact", ERROR_RESPONSE, 403, same, NULL), 1);
    cr_assert_eq(provider("exact", ERROR_RESPONSE, 403, other, &d), 0);
    assert_diff(&d, "response.body.error.message",
                "\"Authenticated tenant does not match request tenant\"",
                "\"tenant mismatch\"");
    mspf_diffs_free(&d);
}

Test(mspf_check, provider_exact_mode_compares_text_bodies_byte_for_byte)
{
    mspf_diffs d = {0};
    const char *resp = "{\"status\":503,\"body_text\":\"Service Unavailable\"}";
    cr_assert_eq(provider("exact", resp, 503, "Service Unavailable", NULL), 1);
    cr_assert_eq(provider("exact", resp, 503, "Service unavailable", &d), 0);
    assert_diff(&d, "response.body", "Service Unavailable",
                "Service unavailable");
    mspf_diffs_free(&d);
    cr_assert_eq(provider("exact", resp, 503, NULL, NULL), 0);
    cr_assert_eq(provider("type", resp, 503, "anything at all", NULL), 1,
                 "a text body has no shape to compare");
}

Test(mspf_check, provider_uses_the_response_of_the_run)
{
    static const char *const edits[] = {"response", NULL, "responses",
                                        "[{\"status\":503,\"body_text\":\"x\"},"
                                        "{\"status\":200,\"body\":{\"a\":1}}]"};
    mspf_fixture *f = edited(edits, 2);
    cr_assert_eq(
        mspf_check_provider(f, 0, 503, (const unsigned char *)"y", 1, NULL), 1);
    cr_assert_eq(mspf_check_provider(
                     f, 1, 200, (const unsigned char *)"{\"a\":2}", 7, NULL),
                 1);
    cr_assert_eq(
        mspf_check_provider(f, 9, 503, (const unsigned char *)"y", 1, NULL), 0,
        "the last response repeats");
    cr_assert_eq(
        mspf_check_provider(f, -3, 503, (const unsigned char *)"y", 1, NULL),
        1);
    mspf_fixture_free(f);
}

Test(mspf_check, provider_without_a_scripted_response_cannot_hold)
{
    static const char *const edits[] = {"response", NULL};
    mspf_fixture *f = edited(edits, 1);
    mspf_diffs d = {0};
    cr_assert_eq(mspf_check_provider(f, 0, 200, NULL, 0, &d), 0);
    assert_diff(&d, "response", "(a scripted response)",
                "(none in the fixture)");
    cr_assert_eq(mspf_check_provider(NULL, 0, 200, NULL, 0, &d), 0);
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

/* ---- NUL bytes: every comparison carries lengths -------------------- */

/* The bundled row-6 NUL fixture with `from` replaced by `to` in its text
 * (the edit keeps the \u0000 escapes that a cJSON round trip would cut). */
static mspf_fixture *nul_fixture(const char *from, const char *to)
{
    char path[1024], *text, *out;
    const char *dir = getenv("MSP_SOURCE_DIR");
    mspf_fixture *f = NULL;
    mspf_error err;
    FILE *fp;
    size_t n;
    snprintf(path, sizeof path,
             "%s/contracts/fixtures/tool-output-nul-bytes.json",
             dir ? dir : ".");
    fp = fopen(path, "rb");
    cr_assert_not_null(fp, "%s", path);
    text = calloc(1, 65536);
    n = fread(text, 1, 65535, fp);
    fclose(fp);
    { /* without its command_result: these tests produce none */
        char *cr = strstr(text, "\n    \"command_result\"");
        char *next = cr ? strstr(cr, "\n    \"exit_code\"") : NULL;
        cr_assert_not_null(next);
        memmove(cr, next, strlen(next) + 1);
        n = strlen(text);
    }
    out = calloc(1, n + strlen(to) + 1);
    if (from) {
        char *at = strstr(text, from);
        cr_assert_not_null(at, "%s not in the fixture", from);
        memcpy(out, text, (size_t)(at - text));
        strcat(out, to);
        strcat(out, at + strlen(from));
    } else {
        memcpy(out, text, n);
    }
    cr_assert_eq(mspf_fixture_parse(out, strlen(out), NULL, &f, &err), 0,
                 "%s: %s", err.path, err.reason);
    free(text);
    free(out);
    return f;
}

Test(mspf_check, an_expectation_differing_only_after_a_nul_fails)
{
    mspf_fixture *f =
        nul_fixture("\"stdout\": \"a\\u0000b\\u0000c\\n\",\n    \"stderr\"",
                    "\"stdout\": \"a\\u0000XYZ\",\n    \"stderr\"");
    mspf_outcome o = outcome(0, "a\0b", "warn\0tail", 1);
    mspf_diffs d = {0};
    o.out_len = 3;
    o.err_len = 9;
    cr_assert_eq(mspf_check_result(f, 0, &o, &d), 0);
    assert_diff(&d, "expect.stdout", "\"a\\u0000XYZ\"", "\"a\\u0000b\"");
    cr_assert_eq(d.n, 1, "stderr holds: %zu differences", d.n);
    mspf_diffs_free(&d);
    o.out = "a\0XYZ";
    o.out_len = 5;
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 1);
    mspf_fixture_free(f);
}

Test(mspf_check, output_differing_only_after_a_nul_fails)
{
    mspf_fixture *f = nul_fixture(NULL, "");
    mspf_outcome o = outcome(0, "a\0b\0c\n", "warn\0tail", 1);
    o.out_len = 6;
    o.err_len = 9;
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 1);
    o.err_len = 4; /* "warn": the bytes after the NUL are missing */
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 0);
    o.err = "warn\0TAIL";
    o.err_len = 9;
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 0);
    mspf_fixture_free(f);
}

Test(mspf_check, a_regex_sees_the_bytes_after_a_nul)
{
    mspf_fixture *f =
        nul_fixture("\"stderr\": \"warn\\u0000tail\",\n    \"max_ms\"",
                    "\"stderr\": {\"regex\": \"^warn$\"},\n    \"max_ms\"");
    mspf_outcome o = outcome(0, "a\0b\0c\n", "warn\0tail", 1);
    o.out_len = 6;
    o.err_len = 9;
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 0, "^warn$ is not all");
    o.err_len = 4;
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 1);
    mspf_fixture_free(f);
}

Test(mspf_check, a_response_body_holding_nul_is_rendered_whole)
{
    mspf_fixture *f = nul_fixture(NULL, "");
    const mspf_response *r = &f->responses[0];
    static const char want[] =
        "{\"exit_code\":0,\"stdout\":\"a\\u0000b\\u0000c\\n\","
        "\"stderr\":\"warn\\u0000tail\"}";
    cr_assert_eq(r->body_len, strlen(want));
    cr_assert_eq(memcmp(r->body, want, r->body_len), 0, "%s", r->body);
    mspf_fixture_free(f);
    f = nul_fixture(
        "\"body\": {\"exit_code\": 0, \"stdout\": \"a\\u0000b\\u0000c\\n\", "
        "\"stderr\": \"warn\\u0000tail\"}",
        "\"body_text\": \"x\\u0000y\"");
    cr_assert_eq(f->responses[0].body_len, 3);
    cr_assert_eq(memcmp(f->responses[0].body, "x\0y", 3), 0);
    mspf_fixture_free(f);
}

Test(mspf_check, context_params_holding_nul_go_on_the_wire_whole)
{
    mspf_fixture *f = nul_fixture("\"params\": {\"agent_id\": \"agent-001\", "
                                  "\"pid\": 77},\n    \"deadline_ms\"",
                                  "\"params\": {\"agent_id\": \"a\\u0000b\", "
                                  "\"pid\": 77},\n    \"deadline_ms\"");
    cr_assert_str_eq(f->params_json, "{\"agent_id\":\"a\\u0000b\",\"pid\":77}");
    mspf_fixture_free(f);
}

Test(mspf_check, command_result_is_compared_as_json_with_matchers)
{
    mspf_fixture *f = nul_fixture(
        "\"max_ms\": 2000",
        "\"max_ms\": 2000, \"command_result\": {\"type\": \"CommandResult\", "
        "\"lifecycle_state\": \"completed\", \"command_id\": {\"type\": \"\"}, "
        "\"error\": null, \"payload\": {\"stdout\": \"a\\u0000b\\u0000c\\n\", "
        "\"stderr\": \"warn\\u0000tail\", \"exit_code\": 0}}");
    static const char good[] =
        "{\"type\":\"CommandResult\",\"command_id\":\"x\",\"lifecycle_state\":"
        "\"completed\",\"error\":null,\"payload\":{\"stdout\":"
        "\"a\\u0000b\\u0000"
        "c\\n\",\"stderr\":\"warn\\u0000tail\",\"exit_code\":0}}";
    mspf_outcome o = outcome(0, "a\0b\0c\n", "warn\0tail", 1);
    mspf_diffs d = {0};
    o.out_len = 6;
    o.err_len = 9;
    cr_assert_eq(mspf_check_result(f, 0, &o, &d), 0, "none produced");
    assert_diff(&d, "expect.command_result", "a CommandResult",
                "(none produced)");
    mspf_diffs_free(&d);
    o.command_result = good;
    o.command_result_len = strlen(good);
    cr_assert_eq(mspf_check_result(f, 0, &o, NULL), 1);
    char *bad = strdup(good);
    *strstr(bad, "tail") = 'T';
    o.command_result = bad;
    cr_assert_eq(mspf_check_result(f, 0, &o, &d), 0);
    assert_diff(&d, "expect.command_result.payload.stderr",
                "\"warn\\u0000tail\"", "\"warn\\u0000Tail\"");
    mspf_diffs_free(&d);
    free(bad);
    mspf_fixture_free(f);
}

Test(mspf_check, provider_exact_mode_sees_the_bytes_after_a_nul)
{
    mspf_fixture *f =
        nul_fixture("\"match\": {\"status\": \"exact\", \"body\": \"type\"}",
                    "\"match\": {\"status\": \"exact\", \"body\": \"exact\"}");
    const mspf_response *r = &f->responses[0];
    cr_assert_eq(mspf_check_provider(f, 0, 200, r->body, r->body_len, NULL), 1);
    static const char other[] =
        "{\"exit_code\":0,\"stdout\":\"a\\u0000b\\u0000X\\n\","
        "\"stderr\":\"warn\\u0000tail\"}";
    mspf_diffs d = {0};
    cr_assert_eq(mspf_check_provider(f, 0, 200, (const unsigned char *)other,
                                     strlen(other), &d),
                 0);
    assert_diff(&d, "response.body.stdout", "\"a\\u0000b\\u0000c\\n\"",
                "\"a\\u0000b\\u0000X\\n\"");
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}
