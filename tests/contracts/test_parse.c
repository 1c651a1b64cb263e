/*
 * test_parse.c — reading and validating one fixture: every field lands in
 * the model, defaults apply, bodies render once, and every kind of mistake
 * is refused with the JSON path and a reason.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture_text.h"
#include "fixture_internal.h"

TestSuite(mspf_parse, .timeout = TEST_TIMEOUT(10));

Test(mspf_parse, complete_fixture_fills_every_field)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(mspf_fixture_parse(BASE_FIXTURE, strlen(BASE_FIXTURE),
                                    "x.json", &f, &err),
                 0, "%s: %s", err.path, err.reason);
    cr_assert_str_eq(f->name, "base");
    cr_assert_str_eq(f->description, "a complete fixture");
    cr_assert_eq(f->n_tags, 2);
    cr_assert_str_eq(f->tags[1], "t2");
    cr_assert_eq(f->exit_row, 6);
    cr_assert_str_eq(f->file, "x.json");
    cr_assert_str_eq(f->api_key, "sk-test");
    cr_assert_eq(f->auth_mode, 1);
    cr_assert_eq(f->default_timeout_ms, 500);
    cr_assert_eq(f->target, MSPF_TARGET_FAKE);
    cr_assert_str_eq(f->command_id, "11111111-2222-4333-8444-555555555555");
    cr_assert_str_eq(f->tool, "msp.process_kill");
    cr_assert_str_eq(f->params_json, "{\"agent_id\":\"agent-001\",\"pid\":42}");
    cr_assert_eq(f->deadline_ms, 1000);
    cr_assert_str_eq(f->correlation_id, "corr-1");
    cr_assert_eq(f->repeat, 2);
    cr_assert_eq(f->expects_request, 1);
    cr_assert_eq(f->n_responses, 1);
    cr_assert_eq(f->responses[0].status, 200);
    cr_assert_eq(f->responses[0].delay_ms, 5);
    cr_assert_eq(f->responses[0].fault.kind, MSPF_FAULT_NONE);
    cr_assert_str_eq((char *)f->responses[0].body,
                     "{\"exit_code\":0,\"stdout\":\"ok\\n\",\"stderr\":\"\"}");
    cr_assert_eq(f->responses[0].body_len,
                 strlen((char *)f->responses[0].body));
    cr_assert_eq(f->provider_verify, 1);
    cr_assert_str_eq(f->provider_state, "agent-001 runs pid 42");
    cr_assert_not_null(f->doc);
    mspf_fixture_free(f);
}

Test(mspf_parse, response_headers_keep_order_and_get_a_default_content_type)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("response.headers",
                               "{\"X-B\":\"2\",\"X-A\":\"1\"}", &f, &err),
                 0);
    cr_assert_eq(f->responses[0].n_headers, 3);
    cr_assert_str_eq(f->responses[0].headers[0].name, "X-B");
    cr_assert_str_eq(f->responses[0].headers[1].name, "X-A");
    cr_assert_str_eq(f->responses[0].headers[2].name, "Content-Type");
    cr_assert_str_eq(f->responses[0].headers[2].value, "application/json");
    mspf_fixture_free(f);
}

Test(mspf_parse, a_named_content_type_is_kept_whatever_its_case)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("response",
                               "{\"headers\":{\"content-type\":\"text/csv\"},"
                               "\"body_text\":\"a,b\\n\"}",
                               &f, &err),
                 0);
    cr_assert_eq(f->responses[0].n_headers, 1);
    cr_assert_str_eq(f->responses[0].headers[0].value, "text/csv");
    cr_assert_eq(f->responses[0].status, 200, "status defaults to 200");
    mspf_fixture_free(f);
}

Test(mspf_parse, body_text_is_sent_as_plain_text)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("response",
                               "{\"status\":503,\"body_text\":\"down\\n\"}", &f,
                               &err),
                 0);
    cr_assert_str_eq((char *)f->responses[0].body, "down\n");
    cr_assert_eq(f->responses[0].body_len, 5);
    cr_assert_str_eq(f->responses[0].headers[0].value,
                     "text/plain; charset=utf-8");
    mspf_fixture_free(f);
}

Test(mspf_parse, body_base64_is_decoded_to_raw_bytes)
{
    static const char *const cases[][2] = {{"aGVsbG8=", "hello"},
                                           {"aGk=", "hi"},
                                           {"YWJj", "abc"},
                                           {"", ""},
                                           {"+/8=", "\xfb\xff"}};
    size_t i;
    for (i = 0; i < 5; i++) {
        mspf_fixture *f = NULL;
        mspf_error err;
        char json[128];
        snprintf(json, sizeof(json), "{\"body_base64\":\"%s\"}", cases[i][0]);
        cr_assert_eq(parse_mutated("response", json, &f, &err), 0, "%s",
                     err.reason);
        cr_assert_eq(f->responses[0].body_len, strlen(cases[i][1]));
        cr_assert_str_eq((char *)f->responses[0].body, cases[i][1]);
        cr_assert_eq(f->responses[0].n_headers, 0,
                     "no Content-Type is invented");
        mspf_fixture_free(f);
    }
}

Test(mspf_parse, body_base64_keeps_nul_bytes)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(
        parse_mutated("response", "{\"body_base64\":\"AAEC\"}", &f, &err), 0);
    cr_assert_eq(f->responses[0].body_len, 3);
    cr_assert_eq(memcmp(f->responses[0].body, "\0\1\2", 3), 0);
    mspf_fixture_free(f);
}

/* One text per byte string: stray bits after the last byte, whitespace or
 * missing padding are refused, not silently decoded. */
Test(mspf_parse, body_base64_refuses_non_canonical_text)
{
    static const char *const bad[] = {"QR==", "aGl=", "aGk",
                                      "aG k=", "aGk=\\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mspf_fixture *f = NULL;
        mspf_error err;
        char json[128];
        snprintf(json, sizeof(json), "{\"body_base64\":\"%s\"}", bad[i]);
        cr_expect_neq(parse_mutated("response", json, &f, &err), 0, "%s",
                      bad[i]);
        cr_expect(strstr(err.reason, "not valid base64"), "%s: %s", bad[i],
                  err.reason);
        mspf_fixture_free(f);
    }
}

Test(mspf_parse, body_repeat_renders_the_text_times_over)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(
        parse_mutated("response",
                      "{\"body_repeat\":{\"text\":\"ab\",\"times\":3}}", &f,
                      &err),
        0);
    cr_assert_eq(f->responses[0].body_len, 6);
    cr_assert_str_eq((char *)f->responses[0].body, "ababab");
    cr_assert_str_eq(f->responses[0].headers[0].value,
                     "text/plain; charset=utf-8");
    mspf_fixture_free(f);
}

Test(mspf_parse, body_repeat_can_exceed_the_executor_cap)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("response",
                               "{\"body_repeat\":{\"text\":"
                               "\"0123456789abcdef\",\"times\":1062500}}",
                               &f, &err),
                 0);
    cr_assert_eq(f->responses[0].body_len, 17000000);
    cr_assert_eq(
        memcmp(f->responses[0].body + 16999984, "0123456789abcdef", 16), 0);
    mspf_fixture_free(f);
}

Test(mspf_parse, no_body_renders_empty)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("response", "{\"status\":204}", &f, &err), 0);
    cr_assert_eq(f->responses[0].body_len, 0);
    cr_assert_str_eq((char *)f->responses[0].body, "");
    cr_assert_eq(f->responses[0].n_headers, 0);
    mspf_fixture_free(f);
}

Test(mspf_parse, fault_parameters_are_read_per_kind)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("response.fault",
                               "{\"kind\":\"garbage\",\"bytes\":64,\"seed\":7}",
                               &f, &err),
                 0);
    cr_assert_eq(f->responses[0].fault.kind, MSPF_FAULT_GARBAGE);
    cr_assert_eq(f->responses[0].fault.bytes, 64);
    cr_assert_eq(f->responses[0].fault.seed, 7);
    cr_assert_eq(f->responses[0].fault.has_seed, 1);
    mspf_fixture_free(f);

    cr_assert_eq(parse_mutated("response.fault",
                               "{\"kind\":\"garbage\",\"bytes\":1}", &f, &err),
                 0);
    cr_assert_eq(f->responses[0].fault.has_seed, 0);
    mspf_fixture_free(f);

    cr_assert_eq(parse_mutated("response.fault",
                               "{\"kind\":\"truncate\",\"after_bytes\":0}", &f,
                               &err),
                 0);
    cr_assert_eq(f->responses[0].fault.kind, MSPF_FAULT_TRUNCATE);
    cr_assert_eq(f->responses[0].fault.after_bytes, 0);
    mspf_fixture_free(f);

    cr_assert_eq(
        parse_mutated(
            "response.fault",
            "{\"kind\":\"dribble\",\"chunk_bytes\":3,\"interval_ms\":9}", &f,
            &err),
        0);
    cr_assert_eq(f->responses[0].fault.kind, MSPF_FAULT_DRIBBLE);
    cr_assert_eq(f->responses[0].fault.chunk_bytes, 3);
    cr_assert_eq(f->responses[0].fault.interval_ms, 9);
    mspf_fixture_free(f);
}

Test(mspf_parse, every_fault_kind_name_parses_back)
{
    int k;
    for (k = 1; k < MSPF_FAULT_KIND_COUNT; k++) {
        static const char *const params[] = {
            "",
            "",
            "",
            ",\"bytes\":1",
            "",
            ",\"after_bytes\":1",
            ",\"chunk_bytes\":1,\"interval_ms\":0",
            "",
            ""};
        mspf_fixture *f = NULL;
        mspf_error err;
        char json[160];
        snprintf(json, sizeof(json), "{\"kind\":\"%s\"%s}",
                 mspf_fault_kind_name((mspf_fault_kind)k), params[k]);
        cr_assert_eq(parse_mutated("response.fault", json, &f, &err), 0, "%s",
                     json);
        cr_assert_eq(f->responses[0].fault.kind, (mspf_fault_kind)k);
        mspf_fixture_free(f);
    }
    cr_assert_str_eq(mspf_fault_kind_name(MSPF_FAULT_NONE), "none");
    cr_assert_str_eq(mspf_fault_kind_name(MSPF_FAULT_KIND_COUNT), "unknown");
}

Test(mspf_parse, defaults_apply_to_a_minimal_fixture)
{
    static const char min[] =
        "{\"name\":\"m\",\"description\":\"\",\"exit_row\":1,"
        "\"context\":{\"command_id\":\"c\",\"tool\":\"t\"},\"request\":null,"
        "\"expect\":{\"exit_code\":124}}";
    mspf_fixture *f = NULL;
    cr_assert_eq(mspf_fixture_parse(min, strlen(min), NULL, &f, NULL), 0);
    cr_assert_str_eq(f->file, "<memory>");
    cr_assert_null(f->api_key);
    cr_assert_eq(f->auth_mode, -1);
    cr_assert_eq(f->default_timeout_ms, 0);
    cr_assert_eq(f->target, MSPF_TARGET_FAKE);
    cr_assert_str_eq(f->params_json, "{}");
    cr_assert_eq(f->deadline_ms, 30000);
    cr_assert_null(f->correlation_id);
    cr_assert_eq(f->repeat, 1);
    cr_assert_eq(f->expects_request, 0);
    cr_assert_eq(f->n_responses, 0);
    cr_assert_eq(f->n_tags, 0);
    cr_assert_eq(f->provider_verify, 0);
    cr_assert_null(f->provider_state);
    mspf_fixture_free(f);
}

Test(mspf_parse, closed_port_target_and_service_key_mode)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(
        parse_mutated(
            "executor",
            "{\"target\":\"closed_port\",\"auth_mode\":\"service_key\"}", &f,
            &err),
        0);
    cr_assert_eq(f->target, MSPF_TARGET_CLOSED_PORT);
    cr_assert_eq(f->auth_mode, 0);
    mspf_fixture_free(f);
}

Test(mspf_parse, responses_are_kept_in_order)
{
    static const char *const edits[] = {
        "response", NULL, "responses",
        "[{\"status\":503,\"body_text\":\"x\"},{\"status\":200}]"};
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_edits(edits, 2, &f, &err), 0, "%s: %s", err.path,
                 err.reason);
    cr_assert_eq(f->n_responses, 2);
    cr_assert_eq(f->responses[0].status, 503);
    cr_assert_eq(f->responses[1].status, 200);
    mspf_fixture_free(f);
}

Test(mspf_parse, no_response_means_the_realistic_fake_answers)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("response", NULL, &f, &err), 0);
    cr_assert_eq(f->n_responses, 0);
    cr_assert_null(f->responses);
    mspf_fixture_free(f);
}

Test(mspf_parse, expects_are_accepted_instead_of_expect)
{
    static const char *const edits[] = {
        "expect", NULL, "expects",
        "[{\"exit_code\":125},{\"exit_code\":0,\"stdout\":{\"json\":{}}}]"};
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_edits(edits, 2, &f, &err), 0, "%s: %s", err.path,
                 err.reason);
    mspf_fixture_free(f);
}

typedef struct pair_refusal {
    const char *edits[4];
    const char *path;
    const char *reason;
} pair_refusal;

static const pair_refusal pair_refusals[] = {
    {{"response", NULL, "responses", "[]"}, "$.responses", "non-empty array"},
    {{"response", NULL, "responses", "{}"}, "$.responses", "non-empty array"},
    {{"response", NULL, "responses",
      "[{\"status\":200},{\"fault\":{\"kind\":\"x\"}}]"},
     "$.responses[1].fault.kind",
     "unknown fault kind"},
    {{"expect", NULL, "expects", "[]"}, "$.expects", "non-empty array"},
    {{"expect", NULL, "expects", "[{\"exit_code\":0},{\"exit_code\":1.5}]"},
     "$.expects[1].exit_code",
     "expected an integer"},
};

Test(mspf_parse, sequences_are_refused_with_the_index)
{
    size_t i;
    for (i = 0; i < sizeof(pair_refusals) / sizeof(pair_refusals[0]); i++) {
        const pair_refusal *r = &pair_refusals[i];
        mspf_fixture *f = NULL;
        mspf_error err;
        int rc = parse_edits(r->edits, 2, &f, &err);
        cr_expect_eq(rc, -1, "%s accepted", r->edits[3]);
        if (rc != -1) {
            mspf_fixture_free(f);
            continue;
        }
        cr_expect_str_eq(err.path, r->path, "%s: reason: %s", r->edits[3],
                         err.reason);
        cr_expect(strstr(err.reason, r->reason) != NULL, "%s", err.reason);
    }
}

Test(mspf_parse, control_bytes_in_context_strings_are_kept)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(parse_mutated("context.correlation_id", "\"a\\r\\nX-Evil: 1\"",
                               &f, &err),
                 0);
    cr_assert_str_eq(f->correlation_id, "a\r\nX-Evil: 1");
    mspf_fixture_free(f);
}

Test(mspf_parse, error_is_formatted_as_file_path_reason)
{
    mspf_error err = {"f.json", "$.a", "bad"};
    char buf[64], tiny[4];
    cr_assert_str_eq(mspf_error_format(&err, buf, sizeof(buf)),
                     "f.json: $.a: bad");
    cr_assert_str_eq(mspf_error_format(&err, tiny, sizeof(tiny)), "f.j");
    cr_assert_eq(mspf_error_format(&err, tiny, 0), tiny);
}

Test(mspf_parse, invalid_json_is_refused_at_the_root)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(mspf_fixture_parse("{\"name\":", 8, "x.json", &f, &err), -1);
    cr_assert_null(f);
    cr_assert_str_eq(err.file, "x.json");
    cr_assert_str_eq(err.path, "$");
    cr_assert(strstr(err.reason, "invalid JSON"), "%s", err.reason);
    cr_assert_eq(mspf_fixture_parse(NULL, 0, NULL, &f, &err), -1);
    cr_assert_eq(mspf_fixture_parse("[]", 2, NULL, NULL, &err), -1);
    cr_assert_eq(mspf_fixture_parse("[]", 2, NULL, &f, &err), -1);
    cr_assert(strstr(err.reason, "wrong type"), "%s", err.reason);
}

Test(mspf_parse, text_after_the_document_is_refused)
{
    char text[sizeof(BASE_FIXTURE) + 8];
    mspf_fixture *f = NULL;
    mspf_error err;
    snprintf(text, sizeof(text), "%s \n}", BASE_FIXTURE);
    cr_assert_eq(mspf_fixture_parse(text, strlen(text), NULL, &f, &err), -1);
    cr_assert(strstr(err.reason, "text after the JSON value"), "%s",
              err.reason);
    snprintf(text, sizeof(text), "%s \n\t", BASE_FIXTURE);
    cr_assert_eq(mspf_fixture_parse(text, strlen(text) + 1, NULL, &f, &err), 0,
                 "trailing blanks and a NUL are fine: %s", err.reason);
    mspf_fixture_free(f);
}

Test(mspf_parse, free_of_null_does_nothing)
{
    mspf_fixture_free(NULL);
}

/* ---- refusals: table-driven -------------------------------------------- */

typedef struct refusal {
    const char *member; /* dotted path to change */
    const char *value;  /* new JSON value, NULL: delete */
    const char *path;   /* expected error path */
    const char *reason; /* expected substring of the reason */
} refusal;

static const refusal refusals[] = {
    {"respone", "{}", "$.respone", "unknown key \"respone\""},
    {"context.cmd", "\"x\"", "$.context.cmd", "unknown key"},
    {"response.fault", "{\"kind\":\"reset\",\"bytes\":1}",
     "$.response.fault.bytes", "unknown key"},
    {"response.colour", "1", "$.response.colour", "unknown key"},
    {"expect.stout", "\"\"", "$.expect.stout", "unknown key"},
    {"executor.key", "\"\"", "$.executor.key", "unknown key"},
    {"provider.match.headers", "\"exact\"", "$.provider.match.headers",
     "unknown key"},
    {"request.query", "\"\"", "$.request.query", "unknown key"},
    {"exit_row", "\"6\"", "$.exit_row", "wrong type"},
    {"exit_row", "15", "$.exit_row", "value out of range"},
    {"exit_row", "6.5", "$.exit_row", "expected an integer"},
    {"exit_row", NULL, "$.exit_row", "missing required key"},
    {"name", NULL, "$.name", "missing required key"},
    {"name", "\"\"", "$.name", "empty name"},
    {"name", "7", "$.name", "wrong type"},
    {"description", NULL, "$.description", "missing required key"},
    {"tags", "\"t\"", "$.tags", "wrong type"},
    {"tags", "[\"a\",3]", "$.tags[1]", "wrong type"},
    {"repeat", "0", "$.repeat", "value out of range"},
    {"context", NULL, "$.context", "missing required key"},
    {"context", "[]", "$.context", "expected an object"},
    {"context.command_id", NULL, "$.context.command_id",
     "missing required key"},
    {"context.tool", "1", "$.context.tool", "wrong type"},
    {"context.params", "[]", "$.context.params", "expected an object"},
    {"context.deadline_ms", "\"soon\"", "$.context.deadline_ms", "wrong type"},
    {"executor", "1", "$.executor", "expected an object"},
    {"executor.api_key", "1", "$.executor.api_key", "wrong type"},
    {"executor.auth_mode", "\"oauth\"", "$.executor.auth_mode",
     "unknown value \"oauth\""},
    {"executor.auth_mode", "1", "$.executor.auth_mode", "wrong type"},
    {"executor.target", "\"nowhere\"", "$.executor.target", "unknown value"},
    {"executor.default_timeout_ms", "0", "$.executor.default_timeout_ms",
     "value out of range"},
    {"request", NULL, "$.request", "missing required key"},
    {"request", "\"POST\"", "$.request", "expected an object"},
    {"request.method", "1", "$.request.method", "wrong type"},
    {"request.path", "1", "$.request.path", "wrong type"},
    {"request.headers", "[]", "$.request.headers", "expected an object"},
    {"request.headers.Content-Type", "{\"regex\":\"([\"}",
     "$.request.headers.Content-Type.regex", "regex does not compile"},
    {"request.headers.Content-Type", "{\"regex\":5}",
     "$.request.headers.Content-Type.regex", "wrong type"},
    {"request.headers.X-N", "5", "$.request.headers.X-N",
     "expected a string or a matcher"},
    {"request.headers.Idempotency-Key", "{\"same_as\":1}",
     "$.request.headers.Idempotency-Key.same_as", "wrong type"},
    {"request.headers.X-Gone", "{\"absent\":false}",
     "$.request.headers.X-Gone.absent", "absent must be true"},
    {"request.body.tool", "{\"same_as\":\"X\"}", "$.request.body.tool.same_as",
     "only allowed for request headers"},
    {"request.body.params", "{\"list\":[1,{\"regex\":\"(\"}]}",
     "$.request.body.params.list[1].regex", "regex does not compile"},
    {"request.body.params", "{\"list\":[{\"absent\":true}]}",
     "$.request.body.params.list[0]", "absent is not allowed in an array"},
    {"request.body.params", "{\"agent_id\":{\"regex\":\"[\"}}",
     "$.request.body.params.agent_id.regex", "regex does not compile"},
    /* found by fuzz_fixture_parse: glibc's regcomp copies a sub-expression
     * per repetition, so these take gigabytes */
    {"request.headers.Content-Type", "{\"regex\":\"((a{100}){100}){100}\"}",
     "$.request.headers.Content-Type.regex", "regex too costly to compile"},
    {"expect.stderr", "{\"regex\":\"got++++++++++++++++++++++++++++++ true\"}",
     "$.expect.stderr.regex", "regex too costly to compile"},
    {"response", "[]", "$.response", "expected an object"},
    {"response.status", "700", "$.response.status", "value out of range"},
    {"response.delay_ms", "-1", "$.response.delay_ms", "value out of range"},
    {"response.headers", "[]", "$.response.headers", "expected an object"},
    {"response.headers", "{\"X-N\":1}", "$.response.headers.X-N", "wrong type"},
    {"response.body_text", "\"x\"", "$.response.body_text", "only one of"},
    {"response.fault", "\"reset\"", "$.response.fault", "expected an object"},
    {"response.fault", "{\"kind\":\"resett\"}", "$.response.fault.kind",
     "unknown fault kind \"resett\""},
    {"response.fault", "{\"kind\":1}", "$.response.fault.kind", "wrong type"},
    {"response.fault", "{}", "$.response.fault.kind", "missing required key"},
    {"response.fault", "{\"kind\":\"garbage\"}", "$.response.fault.bytes",
     "missing required key"},
    {"response.fault", "{\"kind\":\"garbage\",\"bytes\":0}",
     "$.response.fault.bytes", "value out of range"},
    {"response.fault", "{\"kind\":\"garbage\",\"bytes\":2000000}",
     "$.response.fault.bytes", "value out of range"},
    {"response.fault", "{\"kind\":\"garbage\",\"bytes\":1,\"seed\":-1}",
     "$.response.fault.seed", "value out of range"},
    {"response.fault", "{\"kind\":\"truncate\"}",
     "$.response.fault.after_bytes", "missing required key"},
    {"response.fault",
     "{\"kind\":\"dribble\",\"chunk_bytes\":0,\"interval_ms\":1}",
     "$.response.fault.chunk_bytes", "value out of range"},
    {"response.fault", "{\"kind\":\"dribble\",\"chunk_bytes\":1}",
     "$.response.fault.interval_ms", "missing required key"},
    {"response", "{\"body_base64\":\"!!!!\"}", "$.response.body_base64",
     "not valid base64"},
    {"response", "{\"body_base64\":\"abc\"}", "$.response.body_base64",
     "not valid base64"},
    {"response", "{\"body_base64\":\"a===\"}", "$.response.body_base64",
     "not valid base64"},
    {"response", "{\"body_base64\":\"ab=c\"}", "$.response.body_base64",
     "not valid base64"},
    {"response", "{\"body_base64\":1}", "$.response.body_base64", "wrong type"},
    {"response", "{\"body_text\":1}", "$.response.body_text", "wrong type"},
    {"response", "{\"body_repeat\":\"x\"}", "$.response.body_repeat",
     "expected an object"},
    {"response", "{\"body_repeat\":{\"times\":1}}",
     "$.response.body_repeat.text", "missing required key"},
    {"response", "{\"body_repeat\":{\"text\":\"\",\"times\":1}}",
     "$.response.body_repeat.text", "non-empty string"},
    {"response", "{\"body_repeat\":{\"text\":\"x\"}}",
     "$.response.body_repeat.times", "missing required key"},
    {"response", "{\"body_repeat\":{\"text\":\"xx\",\"times\":40000000}}",
     "$.response.body_repeat.times", "over 64 MiB"},
    {"response", "{\"body_repeat\":{\"text\":\"x\",\"times\":1,\"n\":1}}",
     "$.response.body_repeat.n", "unknown key"},
    {"responses", "[{}]", "$.responses", "exclusive"},
    {"expect", NULL, "$.expect", "missing required key"},
    {"expect", "[]", "$.expect", "expected an object"},
    {"expects", "[{\"exit_code\":0}]", "$.expects", "exclusive"},
    {"expect.exit_code", NULL, "$.expect.exit_code", "missing required key"},
    {"expect.exit_code", "3000000000", "$.expect.exit_code",
     "value out of range"},
    {"expect.max_ms", "0", "$.expect.max_ms", "value out of range"},
    {"expect.stdout", "{\"absent\":true}", "$.expect.stdout.absent",
     "not allowed here"},
    {"expect.stdout", "{\"same_as\":\"x\"}", "$.expect.stdout.same_as",
     "only allowed for request headers"},
    {"expect.stdout", "1", "$.expect.stdout", "expected a string or a matcher"},
    {"expect.stderr", "{\"json\":{\"a\":{\"regex\":\"(\"}}}",
     "$.expect.stderr.json.a.regex", "regex does not compile"},
    {"provider", "true", "$.provider", "expected an object"},
    {"provider.verify", "\"yes\"", "$.provider.verify", "expected a boolean"},
    {"provider.state", "1", "$.provider.state", "wrong type"},
    {"provider.match", "\"type\"", "$.provider.match", "expected an object"},
    {"provider.match.body", "\"fuzzy\"", "$.provider.match.body",
     "unknown value"},
    {"provider.match.status", "\"type\"", "$.provider.match.status",
     "unknown value"},
};

/* One process for the whole table (fast); cr_expect reports every case
 * that fails, named by its member and value. */
Test(mspf_parse, each_mistake_is_refused_with_path_and_reason)
{
    size_t i;
    for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        const refusal *r = &refusals[i];
        mspf_fixture *f = NULL;
        mspf_error err;
        int rc = parse_mutated(r->member, r->value, &f, &err);
        cr_expect_eq(rc, -1, "%s = %s was accepted", r->member,
                     r->value ? r->value : "(deleted)");
        if (rc != -1) {
            mspf_fixture_free(f);
            continue;
        }
        cr_expect_null(f);
        cr_expect_str_eq(err.file, "base.json");
        cr_expect_str_eq(err.path, r->path, "%s = %s: path %s, reason %s",
                         r->member, r->value ? r->value : "(deleted)", err.path,
                         err.reason);
        cr_expect(strstr(err.reason, r->reason) != NULL,
                  "%s: reason \"%s\" lacks \"%s\"", r->member, err.reason,
                  r->reason);
    }
    cr_assert_gt(i, 90);
}

/* ---- loading files ------------------------------------------------------ */

static char tmpdir[64];

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/mspf-parse-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text, size_t len)
{
    char path[256];
    FILE *fp;
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    cr_assert_eq(fwrite(text, 1, len, fp), len);
    fclose(fp);
}

TestSuite(mspf_load, .init = make_tmpdir, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(10));

Test(mspf_load, a_file_whose_name_matches_loads)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    char path[256];
    write_file("base.json", BASE_FIXTURE, strlen(BASE_FIXTURE));
    snprintf(path, sizeof(path), "%s/base.json", tmpdir);
    cr_assert_eq(mspf_fixture_load(path, &f, &err), 0, "%s", err.reason);
    cr_assert_str_eq(f->file, path);
    mspf_fixture_free(f);
}

Test(mspf_load, a_name_that_differs_from_the_file_is_refused)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    char path[256];
    write_file("other.json", BASE_FIXTURE, strlen(BASE_FIXTURE));
    snprintf(path, sizeof(path), "%s/other.json", tmpdir);
    cr_assert_eq(mspf_fixture_load(path, &f, &err), -1);
    cr_assert_null(f);
    cr_assert_str_eq(err.file, path);
    cr_assert_str_eq(err.path, "$.name");
    cr_assert(strstr(err.reason, "does not equal the file base name \"other\""),
              "%s", err.reason);
}

Test(mspf_load, a_missing_file_is_refused)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(mspf_fixture_load("/nonexistent/x.json", &f, &err), -1);
    cr_assert(strstr(err.reason, "cannot open"), "%s", err.reason);
    cr_assert_eq(mspf_fixture_load(NULL, &f, NULL), -1);
}

Test(mspf_load, a_file_over_one_mib_is_refused)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    char path[256];
    size_t n = 1024 * 1024 + 10;
    char *big = malloc(n);
    memset(big, ' ', n);
    write_file("big.json", big, n);
    free(big);
    snprintf(path, sizeof(path), "%s/big.json", tmpdir);
    cr_assert_eq(mspf_fixture_load(path, &f, &err), -1);
    cr_assert(strstr(err.reason, "larger than"), "%s", err.reason);
}

Test(mspf_load, an_invalid_file_reports_its_path)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    char path[256];
    write_file("bad.json", "{", 1);
    snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
    cr_assert_eq(mspf_fixture_load(path, &f, &err), -1);
    cr_assert_str_eq(err.file, path);
}

Test(mspf_parse,
     regex_cost_estimates_what_regcomp_expands_and_keeps_usual_patterns,
     .timeout = TEST_TIMEOUT(5))
{
    /* usual patterns stay far below the limit */
    cr_expect_lt(
        mspf_regex_cost(
            "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
        100);
    cr_expect_lt(mspf_regex_cost(
                     "^msp-executor: auth error \\(403 TENANT_MISMATCH\\): .*"),
                 100);
    cr_expect_lt(mspf_regex_cost("[]a{99}]|[[:digit:]{3}]"), 100,
                 "braces inside brackets are members");
    /* a bound multiplies its atom, nesting multiplies, a sequence adds */
    cr_expect_eq(mspf_regex_cost("a{7}"), 7);
    cr_expect_eq(mspf_regex_cost("a{2,9}b{3,}"), 9 + 4);
    cr_expect_eq(mspf_regex_cost("(a{10}){10}"), (10 + 1) * 10);
    cr_expect_eq(mspf_regex_cost("a|bc"), 3);
    cr_expect_gt(mspf_regex_cost("((a{100}){100}){100}"), MSPF_REGEX_MAX_COST);
    cr_expect_gt(mspf_regex_cost("a++++++++++++++++++++++++++++++++"),
                 MSPF_REGEX_MAX_COST);
    cr_expect_eq(mspf_regex_cost("a{20000}"), MSPF_REGEX_MAX_COST,
                 "the limit itself is allowed");
    /* not bounds: left to regcomp; unbalanced parentheses still counted */
    cr_expect_eq(mspf_regex_cost("a{x}"), 4);
    cr_expect_gt(mspf_regex_cost(")(((((a{99}){99}){99})"),
                 MSPF_REGEX_MAX_COST);
    /* nesting deeper than the walker goes counts as too costly */
    char deep[200];
    memset(deep, '(', 100);
    memset(deep + 100, ')', 99);
    deep[199] = '\0';
    cr_expect_gt(mspf_regex_cost(deep), MSPF_REGEX_MAX_COST);
}
