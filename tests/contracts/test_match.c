/*
 * test_match.c — matchers and request matching: every matcher kind matches
 * and refuses, literals compare as JSON, headers are case-insensitive,
 * same_as and absent do what they say, and mismatches are explained.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <string.h>

#include "fixture_text.h"

TestSuite(mspf_match, .timeout = TEST_TIMEOUT(10));

/* mspf_value_matches on two JSON texts ("" for got: absent). */
static int matches(const char *expected, const char *got)
{
    cJSON *e = cJSON_Parse(expected);
    cJSON *g = got[0] ? cJSON_Parse(got) : NULL;
    int r;
    cr_assert_not_null(e, "bad test JSON %s", expected);
    cr_assert(!got[0] || g, "bad test JSON %s", got);
    r = mspf_value_matches(e, g);
    cJSON_Delete(e);
    cJSON_Delete(g);
    return r;
}

Test(mspf_match, literals_compare_as_json)
{
    cr_assert(matches("1", "1.0"), "numbers compare numerically");
    cr_assert(!matches("1", "2"));
    cr_assert(!matches("1", "\"1\""), "types must agree");
    cr_assert(matches("\"a\"", "\"a\""));
    cr_assert(!matches("\"a\"", "\"A\""));
    cr_assert(matches("true", "true"));
    cr_assert(!matches("true", "false"));
    cr_assert(matches("null", "null"));
    cr_assert(!matches("null", "0"));
    cr_assert(!matches("\"a\"", ""), "absent never equals a literal");
}

Test(mspf_match, objects_must_have_the_same_keys)
{
    cr_assert(matches("{\"a\":1,\"b\":[1,2]}", "{\"b\":[1,2],\"a\":1}"),
              "order is free");
    cr_assert(!matches("{\"a\":1}", "{\"a\":1,\"b\":2}"), "an extra key fails");
    cr_assert(!matches("{\"a\":1,\"b\":2}", "{\"a\":1}"),
              "a missing key fails");
    cr_assert(!matches("{\"a\":1}", "{\"a\":2}"));
    cr_assert(matches("{}", "{}"));
}

Test(mspf_match, arrays_compare_element_by_element)
{
    cr_assert(matches("[1,\"x\",null]", "[1,\"x\",null]"));
    cr_assert(!matches("[1,2]", "[2,1]"));
    cr_assert(!matches("[1,2]", "[1,2,3]"));
    cr_assert(!matches("[1,2]", "{}"));
}

Test(mspf_match, regex_matches_strings_only)
{
    cr_assert(matches("{\"regex\":\"^msp\\\\.\"}", "\"msp.list_devices\""));
    cr_assert(!matches("{\"regex\":\"^msp\\\\.\"}", "\"mspxlist\""));
    cr_assert(matches("{\"regex\":\"a|b\"}", "\"b\""), "extended syntax");
    cr_assert(!matches("{\"regex\":\"1\"}", "1"), "a number is not a string");
    cr_assert(!matches("{\"regex\":\"x\"}", ""), "absent does not match");
    cr_assert(!matches("{\"regex\":\"(\"}", "\"(\""),
              "a pattern that cannot compile");
    cr_assert(!matches("{\"regex\":5}", "\"5\""));
}

/* The dialect: PCRE2 read as POSIX ERE without REG_NEWLINE was. */
Test(mspf_match, regex_keeps_the_ere_meaning_of_dot_dollar_and_classes)
{
    cr_assert(matches("{\"regex\":\"^a.b$\"}", "\"a\\nb\""),
              "'.' matches a newline");
    cr_assert(!matches("{\"regex\":\"^ab$\"}", "\"ab\\n\""),
              "'$' only at the very end");
    cr_assert(matches("{\"regex\":\"^[[:alpha:]]{3}[0-9]+$\"}", "\"abc123\""));
    cr_assert(matches("{\"regex\":\"\\\\(401\"}", "\"x(401\""),
              "an escaped parenthesis");
}

/* A backtracking pattern stops at the match limit: a non-match, counted,
 * in well under the seconds glibc's regexec took (issue 15). */
Test(mspf_match, regex_past_its_match_limit_is_a_counted_non_match)
{
    char got[440] = "\"";
    unsigned long before = mspf_regex_limit_hits();

    memset(got + 1, 'a', 418);
    strcpy(got + 419, "bc\"");
    cr_assert(!matches("{\"regex\":\"(a|aa)*\\\\1c\"}", got));
    cr_assert_eq(mspf_regex_limit_hits(), before + 1);
    got[419] = 'c'; /* now it can match */
    got[420] = '"';
    got[421] = '\0';
    cr_assert(matches("{\"regex\":\"(a|aa)*\\\\1c\"}", got));
}

Test(mspf_match, json_matcher_parses_strings_first)
{
    cr_assert(matches("{\"json\":{\"a\":1}}", "\"{\\\"a\\\": 1.0}\""));
    cr_assert(!matches("{\"json\":{\"a\":1}}", "\"{\\\"a\\\":2}\""));
    cr_assert(!matches("{\"json\":{\"a\":1}}", "\"not json\""));
    cr_assert(matches("{\"json\":{\"a\":1}}", "{\"a\":1}"),
              "a JSON value is compared as is");
    cr_assert(!matches("{\"json\":{}}", ""));
    cr_assert(matches("{\"json\":{\"a\":{\"regex\":\"^x\"}}}",
                      "\"{\\\"a\\\":\\\"xyz\\\"}\""),
              "matchers nest inside json");
}

Test(mspf_match, type_matcher_checks_kind_and_shape)
{
    cr_assert(matches("{\"type\":\"s\"}", "\"other\""));
    cr_assert(!matches("{\"type\":\"s\"}", "1"));
    cr_assert(matches("{\"type\":1}", "2.5"));
    cr_assert(matches("{\"type\":true}", "false"),
              "true and false are one type");
    cr_assert(matches("{\"type\":null}", "null"));
    cr_assert(!matches("{\"type\":null}", "{}"));
    cr_assert(!matches("{\"type\":1}", ""));
}

Test(mspf_match, type_matcher_allows_extra_keys_but_not_missing_ones)
{
    cr_assert(matches("{\"type\":{\"a\":1}}", "{\"a\":7,\"extra\":true}"));
    cr_assert(!matches("{\"type\":{\"a\":1,\"b\":\"\"}}", "{\"a\":7}"));
    cr_assert(!matches("{\"type\":{\"a\":1}}", "{\"a\":\"7\"}"));
    cr_assert(
        matches("{\"type\":{\"o\":{\"n\":1}}}", "{\"o\":{\"n\":2,\"m\":3}}"));
}

Test(mspf_match, type_matcher_checks_every_element_against_the_first_example)
{
    cr_assert(matches("{\"type\":[{\"id\":\"\"}]}",
                      "[{\"id\":\"a\"},{\"id\":\"b\",\"x\":1}]"));
    cr_assert(
        !matches("{\"type\":[{\"id\":\"\"}]}", "[{\"id\":\"a\"},{\"id\":2}]"));
    cr_assert(matches("{\"type\":[1]}", "[]"), "no elements: nothing to check");
    cr_assert(matches("{\"type\":[]}", "[1,\"x\",{}]"),
              "an empty example takes any array");
    cr_assert(!matches("{\"type\":[]}", "{}"));
}

Test(mspf_match, absent_matches_only_nothing)
{
    cr_assert(matches("{\"absent\":true}", ""));
    cr_assert(!matches("{\"absent\":true}", "null"));
    cr_assert(matches("{\"a\":1,\"b\":{\"absent\":true}}", "{\"a\":1}"));
    cr_assert(
        !matches("{\"a\":1,\"b\":{\"absent\":true}}", "{\"a\":1,\"b\":0}"));
}

Test(mspf_match, same_as_outside_headers_never_matches)
{
    cr_assert(!matches("{\"same_as\":\"X\"}", "\"X\""));
}

Test(mspf_match, null_expected_never_matches)
{
    cr_assert_eq(mspf_value_matches(NULL, NULL), 0);
}

/* ---- requests ----------------------------------------------------------- */

#define CID "11111111-2222-4333-8444-555555555555"
#define GOOD_BODY                                                            \
    "{\"tool\":\"msp.process_kill\",\"params\":{\"agent_id\":\"agent-001\"," \
    "\"pid\":42},\"simulate\":false}"

static mspf_fixture *base(void)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    cr_assert_eq(
        mspf_fixture_parse(BASE_FIXTURE, strlen(BASE_FIXTURE), NULL, &f, &err),
        0);
    return f;
}

/* A request as the executor sends it, with headers as given. */
static mspf_request make_request(const mspf_header *h, size_t n,
                                 const char *body)
{
    mspf_request r;
    r.method = "POST";
    r.path = "/api/v1/god-mode/execute";
    r.headers = h;
    r.n_headers = n;
    r.body = (const unsigned char *)body;
    r.body_len = body ? strlen(body) : 0;
    return r;
}

static const mspf_header good_headers[] = {
    {"authorization", "Bearer sk-test"}, {"CONTENT-TYPE", "application/json"},
    {"x-brainstorm-command-id", CID},    {"Idempotency-Key", CID},
    {"X-Correlation-Id", "corr-1"},
};

static int has_diff(const mspf_diffs *d, const char *field,
                    const char *expected, const char *got)
{
    size_t i;
    for (i = 0; i < d->n; i++)
        if (strcmp(d->items[i].field, field) == 0 &&
            (!expected || strcmp(d->items[i].expected, expected) == 0) &&
            (!got || strcmp(d->items[i].got, got) == 0))
            return 1;
    return 0;
}

static void dump(const mspf_diffs *d)
{
    size_t i;
    for (i = 0; i < d->n; i++)
        cr_log_info("%s: expected %s got %s", d->items[i].field,
                    d->items[i].expected, d->items[i].got);
}

Test(mspf_match, the_executors_request_matches_whatever_the_header_case)
{
    mspf_fixture *f = base();
    mspf_request r = make_request(good_headers, 5, GOOD_BODY);
    mspf_diffs d = {0};
    int ok = mspf_match_request(f, &r, &d);
    dump(&d);
    cr_assert_eq(ok, 1);
    cr_assert_eq(d.n, 0);
    cr_assert_eq(mspf_match_request(f, &r, NULL), 1);
    mspf_fixture_free(f);
}

Test(mspf_match, method_and_path_must_be_exact)
{
    mspf_fixture *f = base();
    mspf_request r = make_request(good_headers, 5, GOOD_BODY);
    mspf_diffs d = {0};
    r.method = "GET";
    r.path = "/api/v1/god-mode/tools";
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.method", "\"POST\"", "\"GET\""));
    cr_assert(has_diff(&d, "request.path", "\"/api/v1/god-mode/execute\"",
                       "\"/api/v1/god-mode/tools\""));
    cr_assert_eq(mspf_match_request(f, &r, NULL), 0);
    r.method = NULL;
    mspf_diffs_free(&d);
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.method", "\"POST\"", "(absent)"));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, same_as_needs_both_headers_equal)
{
    mspf_fixture *f = base();
    mspf_header h[5];
    mspf_request r;
    mspf_diffs d = {0};
    memcpy(h, good_headers, sizeof(h));
    h[3].value = "22222222-2222-4333-8444-555555555555";
    r = make_request(h, 5, GOOD_BODY);
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.headers.Idempotency-Key",
                       "same as X-Brainstorm-Command-Id (" CID ")",
                       "\"22222222-2222-4333-8444-555555555555\""));
    mspf_diffs_free(&d);
    r = make_request(h, 3, GOOD_BODY); /* no Idempotency-Key at all */
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(
        has_diff(&d, "request.headers.Idempotency-Key", NULL, "(absent)"));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, a_missing_header_is_reported_absent)
{
    mspf_fixture *f = base();
    mspf_request r =
        make_request(good_headers, 4, GOOD_BODY); /* no X-Correlation-Id */
    mspf_diffs d = {0};
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.headers.X-Correlation-Id", "\"corr-1\"",
                       "(absent)"));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, absent_header_matcher_refuses_a_present_header)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    mspf_request r = make_request(good_headers, 5, GOOD_BODY);
    mspf_diffs d = {0};
    cr_assert_eq(parse_mutated("request.headers.X-Correlation-Id",
                               "{\"absent\":true}", &f, &err),
                 0);
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.headers.X-Correlation-Id", "(absent)",
                       "\"corr-1\""));
    r = make_request(good_headers, 4, GOOD_BODY);
    cr_assert_eq(mspf_match_request(f, &r, NULL), 1);
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, header_regex_is_compiled_at_load_and_applied)
{
    mspf_fixture *f = base();
    mspf_header h[5];
    mspf_request r;
    mspf_diffs d = {0};
    memcpy(h, good_headers, sizeof(h));
    h[1].value = "text/plain";
    r = make_request(h, 5, GOOD_BODY);
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.headers.Content-Type",
                       "{\"regex\":\"^application/json\"}", "\"text/plain\""));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, json_and_type_header_matchers)
{
    static const char *const edits[] = {
        "request.headers.X-Json", "{\"json\":{\"n\":1}}",
        "request.headers.X-Any", "{\"type\":\"\"}"};
    mspf_fixture *f = NULL;
    mspf_error err;
    mspf_header h[7];
    mspf_request r;
    memcpy(h, good_headers, sizeof(good_headers));
    h[5].name = "x-json";
    h[5].value = "{\"n\": 1}";
    h[6].name = "X-ANY";
    h[6].value = "whatever";
    r = make_request(h, 7, GOOD_BODY);
    cr_assert_eq(parse_edits(edits, 2, &f, &err), 0, "%s", err.reason);
    cr_assert_eq(mspf_match_request(f, &r, NULL), 1);
    h[5].value = "{\"n\": 2}";
    cr_assert_eq(mspf_match_request(f, &r, NULL), 0);
    h[5].value = "{\"n\": 1}";
    r.n_headers = 6;
    cr_assert_eq(mspf_match_request(f, &r, NULL), 0,
                 "type needs the header present");
    mspf_fixture_free(f);
}

Test(mspf_match, body_is_compared_as_json_with_matchers)
{
    mspf_fixture *f = base();
    mspf_request r = make_request(
        good_headers, 5,
        "{\"simulate\":false,\"params\":{\"pid\":7,\"agent_id\":\"agent-001\"},"
        "\"tool\":\"msp.process_kill\"}");
    mspf_diffs d = {0};
    cr_assert_eq(mspf_match_request(f, &r, NULL), 1,
                 "key order and the pid value are free");
    r = make_request(
        good_headers, 5,
        "{\"tool\":\"msp.process_kill\",\"params\":{\"agent_id\":\"agent-001\","
        "\"pid\":\"7\"},\"simulate\":true}");
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.body.params.pid", "number", "string"));
    cr_assert(has_diff(&d, "request.body.simulate", "false", "true"));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, an_extra_body_member_is_a_difference)
{
    mspf_fixture *f = base();
    mspf_request r = make_request(
        good_headers, 5,
        "{\"tool\":\"msp.process_kill\",\"params\":{\"agent_id\":\"agent-001\","
        "\"pid\":42},\"simulate\":false,\"dry\":1}");
    mspf_diffs d = {0};
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.body.dry", "(absent)", "1"));
    cr_assert_eq(mspf_match_request(f, &r, NULL), 0);
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, a_body_that_is_not_json_is_a_difference)
{
    mspf_fixture *f = base();
    mspf_request r = make_request(good_headers, 5, "tool=msp.process_kill");
    mspf_diffs d = {0};
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(
        has_diff(&d, "request.body", NULL, "not JSON: tool=msp.process_kill"));
    mspf_diffs_free(&d);
    r = make_request(good_headers, 5, NULL);
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.body", NULL, "not JSON: "));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, a_fixture_without_request_matches_nothing)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    mspf_request r = make_request(good_headers, 5, GOOD_BODY);
    mspf_diffs d = {0};
    cr_assert_eq(parse_mutated("request", "null", &f, &err), 0);
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request", "(no request at all)",
                       "POST /api/v1/god-mode/execute"));
    cr_assert_eq(mspf_match_request(f, &r, NULL), 0);
    cr_assert_eq(mspf_match_request(NULL, &r, NULL), 0);
    cr_assert_eq(mspf_match_request(f, NULL, NULL), 0);
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, a_request_without_headers_or_body_rules_matches_any)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    mspf_request r = make_request(NULL, 0, "garbage");
    cr_assert_eq(parse_mutated("request", "{\"method\":\"POST\"}", &f, &err),
                 0);
    cr_assert_eq(mspf_match_request(f, &r, NULL), 1);
    mspf_fixture_free(f);
}

/* The base fixture matched against the good request with its Authorization
 * value replaced: asserts the mismatch and leaves its differences in *d. h
 * holds the request's headers (r points into it). */
static mspf_fixture *mismatch_authorization(char *value, mspf_header h[5],
                                            mspf_request *r, mspf_diffs *d)
{
    mspf_fixture *f = base();
    memcpy(h, good_headers, 5 * sizeof(*h));
    h[0].value = value;
    *r = make_request(h, 5, GOOD_BODY);
    cr_assert_eq(mspf_match_request(f, r, d), 0);
    return f;
}

Test(mspf_match, authorization_values_are_redacted_in_differences)
{
    mspf_header h[5];
    mspf_request r;
    mspf_diffs d = {0};
    mspf_fixture *f =
        mismatch_authorization("Bearer sk-other-secret", h, &r, &d);
    dump(&d);
    cr_assert(has_diff(&d, "request.headers.Authorization",
                       "\"Bearer s\xE2\x80\xA6(7)\"",
                       "\"Bearer sk-\xE2\x80\xA6(15)\""));
    cr_assert_null(strstr(d.items[0].got, "secret"));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, an_authorization_value_without_scheme_is_redacted_too)
{
    mspf_header h[5];
    mspf_request r;
    mspf_diffs d = {0};
    mspf_fixture *f = mismatch_authorization("sk-live-secret", h, &r, &d);
    cr_assert(has_diff(&d, "request.headers.Authorization", NULL,
                       "\"sk-\xE2\x80\xA6(14)\""));
    mspf_diffs_free(&d);
    h[0].value = "";
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    cr_assert(has_diff(&d, "request.headers.Authorization", NULL,
                       "\"\xE2\x80\xA6(0)\""));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, a_header_that_must_equal_authorization_shows_it_masked)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    mspf_header h[6];
    mspf_request r;
    mspf_diffs d = {0};
    size_t i;
    cr_assert_eq(parse_mutated("request.headers.X-Echo",
                               "{\"same_as\":\"Authorization\"}", &f, &err),
                 0);
    memcpy(h, good_headers, sizeof(good_headers));
    h[0].value = "Bearer sk-live-0123456789";
    h[5].name = "X-Echo";
    h[5].value = "Bearer sk-live-0123456780";
    r = make_request(h, 6, GOOD_BODY);
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    dump(&d);
    cr_assert(d.n > 0);
    for (i = 0; i < d.n; i++) {
        cr_assert_null(strstr(d.items[i].expected, "012345"), "%s",
                       d.items[i].expected);
        cr_assert_null(strstr(d.items[i].got, "012345"), "%s", d.items[i].got);
    }
    cr_assert(has_diff(&d, "request.headers.X-Echo",
                       "same as Authorization (Bearer sk-l\xE2\x80\xA6(18))",
                       "\"Bearer sk-l\xE2\x80\xA6(18)\""));
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

Test(mspf_match, a_multibyte_character_does_not_end_the_masked_token)
{
    mspf_header h[5];
    mspf_request r;
    mspf_diffs d = {0};
    mspf_fixture *f =
        mismatch_authorization("Bearer sk-\xE2\x82\xAC-secret-rest", h, &r, &d);
    dump(&d);
    cr_assert(has_diff(&d, "request.headers.Authorization", NULL,
                       "\"Bearer sk-?\xE2\x80\xA6(18)\""));
    mspf_diffs_free(&d);
    h[0].value = "Bearer ab\"cd-secret";
    cr_assert_eq(mspf_match_request(f, &r, &d), 0);
    dump(&d);
    cr_assert(d.n > 0);
    cr_assert_null(strstr(d.items[0].got, "secret"), "%s", d.items[0].got);
    mspf_diffs_free(&d);
    mspf_fixture_free(f);
}

/* A fixture's regex, matched often enough to be JIT-compiled (lazily,
 * after a few matches), answers as the interpreter did: a match, a
 * non-match, and a match-limit hit that stays a counted non-match. */
Test(mspf_match, a_regex_answers_the_same_once_jit_compiled)
{
    mspf_fixture *f = NULL;
    mspf_error err;
    mspf_header h[5];
    mspf_request r;
    char limit[440], ok[440];
    unsigned long before, hits, first = 0;
    int i;

    cr_assert_eq(parse_mutated("request.headers.Content-Type",
                               "{\"regex\":\"(a|aa)*\\\\1c\"}", &f, &err),
                 0, "%s: %s", err.path, err.reason);
    memset(limit, 'a', 418);
    strcpy(limit + 418, "bc");
    memset(ok, 'a', 418);
    strcpy(ok + 418, "c");
    memcpy(h, good_headers, sizeof(h));
    for (i = 0; i < 40; i++) {
        h[1].value = ok;
        r = make_request(h, 5, GOOD_BODY);
        cr_assert_eq(mspf_match_request(f, &r, NULL), 1, "round %d", i);
        h[1].value = "application/json";
        r = make_request(h, 5, GOOD_BODY);
        cr_assert_eq(mspf_match_request(f, &r, NULL), 0, "round %d", i);
        h[1].value = limit;
        r = make_request(h, 5, GOOD_BODY);
        before = mspf_regex_limit_hits();
        cr_assert_eq(mspf_match_request(f, &r, NULL), 0, "round %d", i);
        /* counted once per run: the header's fast path, then the slow */
        hits = mspf_regex_limit_hits() - before;
        cr_assert(hits > 0, "round %d", i);
        if (i == 0)
            first = hits;
        cr_assert_eq(hits, first, "round %d", i);
    }
    mspf_fixture_free(f);
}
