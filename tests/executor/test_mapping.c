/*
 * test_mapping.c — the pure (status, body) → result mapping, rows 6..14,
 * checked against the exit table it is driven by.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "internal.h"

static msp_result map(long status, const char *body)
{
    msp_result r;
    cr_assert_eq(msp_map_response(status, body, strlen(body), &r), MSP_OK);
    return r;
}

static void expect(long status, const char *body, int row, int exit_code,
                   const char *out, const char *err)
{
    msp_result r = map(status, body);
    cr_expect_eq(r.row, row, "status %ld body %s: row %d", status, body, r.row);
    cr_expect_eq(r.exit_code, exit_code, "status %ld body %s: exit %d", status,
                 body, r.exit_code);
    cr_expect_str_eq(r.out, out);
    cr_expect_eq(r.out_len, strlen(out));
    cr_expect_str_eq(r.err, err);
    cr_expect_eq(r.err_len, strlen(err));
    cr_expect_eq(r.http_status, (int)status);
    msp_result_free(&r);
}

Test(mapping, table_has_fourteen_rows_in_order, .timeout = TEST_TIMEOUT(5))
{
    const msp_exit_row *t = msp_exit_table();
    for (int i = 0; i < MSP_EXIT_ROWS; i++) {
        cr_expect_eq(t[i].row, i + 1);
        cr_expect_not_null(t[i].what);
        cr_expect_not_null(t[i].stderr_prefix);
    }
    cr_expect_eq(t[5].exit_code, -1, "row 6 is the tool's own code");
}

/* One response per row the mapping decides; each result must carry the
 * row's exit code and start with the row's stderr prefix. */
Test(mapping, every_row_produces_its_table_prefix_and_exit_code,
     .timeout = TEST_TIMEOUT(5))
{
    static const struct {
        int row;
        long status;
        const char *body;
    } cases[] = {
        {6, 200, "{\"exit_code\":3,\"stdout\":\"o\",\"stderr\":\"e\"}"},
        {7, 200, "{\"exit_code\":\"1\"}"},
        {8, 200, "{\"success\":true}"},
        {9, 200, "plain text"},
        {10, 400,
         "{\"error\":{\"code\":\"IDEMPOTENCY_CORRELATION_MISMATCH\","
         "\"message\":\"m\"}}"},
        {11, 401, "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"m\"}}"},
        {12, 404, "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"m\"}}"},
        {13, 503, "down"},
        {14, 409, "{\"error\":{\"code\":\"CONFLICT\",\"message\":\"m\"}}"},
    };
    const msp_exit_row *t = msp_exit_table();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msp_result r = map(cases[i].status, cases[i].body);
        const msp_exit_row *row = &t[cases[i].row - 1];
        cr_expect_eq(r.row, cases[i].row);
        if (row->exit_code >= 0)
            cr_expect_eq(r.exit_code, row->exit_code, "row %d", row->row);
        cr_expect(starts_with(r.err, row->stderr_prefix), "row %d: %s",
                  row->row, r.err);
        msp_result_free(&r);
    }
}

Test(mapping, row6_passes_tool_result_verbatim, .timeout = TEST_TIMEOUT(5))
{
    expect(200, "{\"exit_code\":0,\"stdout\":\"hello\\n\",\"stderr\":\"warn\"}",
           6, 0, "hello\n", "warn");
}

Test(mapping, row6_keeps_negative_and_large_exit_codes,
     .timeout = TEST_TIMEOUT(5))
{
    expect(200, "{\"exit_code\":-1}", 6, -1, "", "");
    expect(200, "{\"exit_code\":300}", 6, 300, "", "");
    expect(200, "{\"exit_code\":2147483647}", 6, 2147483647, "", "");
    expect(200, "{\"exit_code\":-2147483648}", 6, -2147483647 - 1, "", "");
    expect(200, "{\"exit_code\":2.0}", 6, 2, "", "");
}

Test(mapping, row6_ignores_non_string_stdout_and_stderr,
     .timeout = TEST_TIMEOUT(5))
{
    expect(200, "{\"exit_code\":1,\"stdout\":42,\"stderr\":null}", 6, 1, "",
           "");
}

/* A tool's output may hold NUL bytes: JSON carries them as \u0000, and the
 * result must keep every byte (cJSON alone would stop at the first). */
static void expect_bytes(const char *body, const char *out, size_t out_len,
                         const char *err, size_t err_len)
{
    msp_result r = map(200, body);
    cr_assert_eq(r.row, 6, "body %s: row %d", body, r.row);
    cr_expect_eq(r.out_len, out_len, "body %s: stdout length %zu", body,
                 r.out_len);
    cr_expect(r.out_len == out_len && memcmp(r.out, out, out_len) == 0,
              "body %s: stdout bytes", body);
    cr_expect_eq(r.err_len, err_len, "body %s: stderr length %zu", body,
                 r.err_len);
    cr_expect(r.err_len == err_len && memcmp(r.err, err, err_len) == 0,
              "body %s: stderr bytes", body);
    msp_result_free(&r);
}

Test(mapping, row6_keeps_nul_bytes_in_stdout_and_stderr,
     .timeout = TEST_TIMEOUT(5))
{
    expect_bytes(
        "{\"exit_code\":0,\"stdout\":\"a\\u0000b\",\"stderr\":\"x\\u0000\"}",
        "a\0b", 3, "x\0", 2);
    expect_bytes("{\"exit_code\":0,\"stdout\":\"\\u0000\"}", "\0", 1, "", 0);
}

/* Found by fuzz_map_response (fuzz/regressions/): cJSON read "\u" with a
 * non-hex digit as U+0000; JSON.parse rejects it, so the body is not JSON. */
Test(mapping, row9_a_bad_hex_escape_is_not_json, .timeout = TEST_TIMEOUT(5))
{
    static const char body[] =
        "{\"exit_code\":0,\"stdout\":\"a\\u0x00b\",\"stderr\":\"\\u0000\"}";
    expect(200, body, 9, 0, body, "");
}

Test(mapping, row6_nul_path_decodes_every_escape, .timeout = TEST_TIMEOUT(5))
{
    /* \u00e9 -> 2 bytes, a surrogate pair -> 4 bytes, the short escapes */
    static const char want[] =
        "\0\xC3\xA9\xF0\x9F\x98\x80\xE2\x82\xAC\n\t\r\b\f\"\\/raw";
    expect_bytes("{\"exit_code\":0,\"stdout\":"
                 "\"\\u0000\\u00e9\\ud83d\\ude00\\u20AC\\n\\t\\r\\b\\f"
                 "\\\"\\\\\\/raw\"}",
                 want, sizeof want - 1, "", 0);
}

Test(mapping, row6_nul_path_takes_the_top_level_member_only,
     .timeout = TEST_TIMEOUT(5))
{
    /* "stdout" inside a nested object, an array and a string value are not
     * the member; an escaped member name is */
    expect_bytes(
        "{\"meta\":{\"stdout\":\"no\",\"x\":[1,{\"stdout\":\"no\"}]},\"note\":"
        "\"\\\"stdout\\\":\","
        "\"list\":[\"stdout\",{}],\"n\":-1.5e3,\"t\":true,\"exit_code\":2,"
        "\"std\\u006fut\":\"y\\u0000es\",\"stderr\":\"e\"}",
        "y\0es", 4, "e", 1);
}

Test(mapping, row6_nul_path_ignores_non_string_members,
     .timeout = TEST_TIMEOUT(5))
{
    expect_bytes("{\"exit_code\":1,\"stdout\":[\"\\u0000\"],\"stderr\":{\"a\":"
                 "\"\\u0000\"}}",
                 "", 0, "", 0);
    /* an escaped backslash before "u0000" is not a NUL escape */
    expect_bytes("{\"exit_code\":1,\"stdout\":\"a\\\\u0000\"}", "a\\u0000", 7,
                 "", 0);
}

Test(mapping, row8_keeps_nul_escapes_by_compacting_the_text_as_written,
     .timeout = TEST_TIMEOUT(5))
{
    /* cJSON's print would stop the string at the NUL */
    expect(200,
           "\xef\xbb\xbf {\"devices\" : [ {\"name\":\"a b\\u0000c\"} "
           "],\n\"n\":1.0 }",
           8, 0, "{\"devices\":[{\"name\":\"a b\\u0000c\"}],\"n\":1.0}", "");
    /* without a NUL just the same: numbers and escapes as sent */
    expect(200, "{\"n\" : 1.0, \"s\":\"\\u00e9\"}", 8, 0,
           "{\"n\":1.0,\"s\":\"\\u00e9\"}", "");
}

Test(mapping, row7_exit_code_not_a_number, .timeout = TEST_TIMEOUT(5))
{
    static const char pre[] = "msp-executor: malformed 200 response: exit_code "
                              "field present but not a finite number (got ";
    char want[256];
    const char *bad[] = {"\"1\"", "null", "true", "{}", "[1]"};
    for (size_t i = 0; i < 5; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"exit_code\":%s}", bad[i]);
        snprintf(want, sizeof want, "%s%s)", pre, bad[i]);
        expect(200, body, 7, 124, "", want);
    }
}

Test(mapping, row7_exit_code_not_an_integer, .timeout = TEST_TIMEOUT(5))
{
    static const char pre[] = "msp-executor: malformed 200 response: exit_code "
                              "field present but not an integer (got ";
    char want[256];
    snprintf(want, sizeof want, "%s1.5)", pre);
    expect(200, "{\"exit_code\":1.5}", 7, 124, "", want);
    snprintf(want, sizeof want, "%s1e12)", pre); /* as the server wrote it */
    expect(200, "{\"exit_code\":1e12}", 7, 124, "", want);
    snprintf(want, sizeof want, "%s2147483648)", pre);
    expect(200, "{\"exit_code\":2147483648}", 7, 124, "", want);
}

Test(mapping, row7_infinite_exit_code_is_not_finite, .timeout = TEST_TIMEOUT(5))
{
    msp_result r = map(200, "{\"exit_code\":1e999}");
    cr_expect_eq(r.row, 7);
    cr_expect(strstr(r.err, "not a finite number") != NULL, "%s", r.err);
    msp_result_free(&r);
}

Test(mapping, row8_reserialises_json_compactly, .timeout = TEST_TIMEOUT(5))
{
    expect(200, "{ \"success\" : true,\n \"data\": {\"n\": [1, 2]} }\n", 8, 0,
           "{\"success\":true,\"data\":{\"n\":[1,2]}}", "");
    expect(200, "[1, 2]", 8, 0, "[1,2]", "");
    expect(200, "\"text\"", 8, 0, "\"text\"", "");
}

Test(mapping, row8_empty_body_counts_as_empty_object,
     .timeout = TEST_TIMEOUT(5))
{
    expect(200, "", 8, 0, "{}", "");
}

Test(mapping, row9_non_json_body_is_passed_raw, .timeout = TEST_TIMEOUT(5))
{
    expect(200, "not json", 9, 0, "not json", "");
    expect(200, "{\"a\":1} trailing", 9, 0, "{\"a\":1} trailing", "");
}

Test(mapping, row9_keeps_nul_bytes_in_a_raw_body, .timeout = TEST_TIMEOUT(5))
{
    msp_result r;
    cr_assert_eq(msp_map_response(200, "a\0b", 3, &r), MSP_OK);
    cr_expect_eq(r.row, 9);
    cr_expect_eq(r.out_len, 3);
    cr_expect_eq(memcmp(r.out, "a\0b", 4), 0);
    msp_result_free(&r);
}

Test(mapping, row10_idempotency_mismatch, .timeout = TEST_TIMEOUT(5))
{
    expect(
        400,
        "{\"success\":false,\"error\":{\"code\":\"IDEMPOTENCY_CORRELATION_"
        "MISMATCH\","
        "\"message\":\"Idempotency-Key must equal X-Brainstorm-Command-Id\"}}",
        10, 124, "",
        "msp-executor: header consistency violation: Idempotency-Key must "
        "equal "
        "X-Brainstorm-Command-Id");
}

Test(mapping, row11_auth_errors_with_code_and_message,
     .timeout = TEST_TIMEOUT(5))
{
    expect(403,
           "{\"success\":false,\"error\":{\"code\":\"TENANT_MISMATCH\","
           "\"message\":"
           "\"Authenticated tenant does not match request "
           "tenant\"},\"tool\":\"t\"}",
           11, 126, "",
           "msp-executor: auth error (403 TENANT_MISMATCH): Authenticated "
           "tenant does not "
           "match request tenant");
    expect(
        401,
        "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"Authentication "
        "required\"}}",
        11, 126, "",
        "msp-executor: auth error (401 UNAUTHORIZED): Authentication required");
}

Test(mapping, row11_raw_body_when_not_the_error_shape,
     .timeout = TEST_TIMEOUT(5))
{
    expect(401, "nope", 11, 126, "", "msp-executor: auth error (401): nope");
    expect(403, "{\"error\":\"flat\"}", 11, 126, "",
           "msp-executor: auth error (403): {\"error\":\"flat\"}");
}

Test(mapping, row11_code_without_message_uses_raw_body,
     .timeout = TEST_TIMEOUT(5))
{
    expect(403, "{\"error\":{\"code\":\"FORBIDDEN\"}}", 11, 126, "",
           "msp-executor: auth error (403 FORBIDDEN): "
           "{\"error\":{\"code\":\"FORBIDDEN\"}}");
}

Test(mapping, row12_tool_unknown, .timeout = TEST_TIMEOUT(5))
{
    expect(404,
           "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"Unknown tool: "
           "msp.x\"}}",
           12, 127, "",
           "msp-executor: tool unknown (404 NOT_FOUND): Unknown tool: msp.x");
    expect(404, "", 12, 127, "", "msp-executor: tool unknown (404): ");
}

Test(mapping, row13_server_error_shows_raw_body, .timeout = TEST_TIMEOUT(5))
{
    expect(503, "Service Unavailable", 13, 125, "",
           "msp-executor: server error (503): Service Unavailable");
    expect(500, "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"boom\"}}", 13,
           125, "",
           "msp-executor: server error (500): "
           "{\"error\":{\"code\":\"INTERNAL\",\"message\":"
           "\"boom\"}}");
    expect(599, "x", 13, 125, "", "msp-executor: server error (599): x");
}

Test(mapping, row14_any_other_status, .timeout = TEST_TIMEOUT(5))
{
    expect(302, "moved", 14, 1, "",
           "msp-executor: unexpected status (302): moved");
    expect(400,
           "{\"error\":{\"code\":\"VALIDATION\",\"message\":\"Missing required "
           "parameter\"}}",
           14, 1, "",
           "msp-executor: unexpected status (400 VALIDATION): Missing required "
           "parameter");
    expect(429,
           "{\"error\":{\"code\":\"RATE_LIMITED\",\"message\":\"slow down\"}}",
           14, 1, "",
           "msp-executor: unexpected status (429 RATE_LIMITED): slow down");
    expect(201, "{}", 14, 1, "", "msp-executor: unexpected status (201): {}");
    expect(600, "x", 14, 1, "", "msp-executor: unexpected status (600): x");
    expect(499, "x", 14, 1, "", "msp-executor: unexpected status (499): x");
}

Test(mapping, null_arguments_are_refused, .timeout = TEST_TIMEOUT(5))
{
    msp_result r;
    cr_expect_eq(msp_map_response(200, "x", 1, NULL), MSP_ERR_ARG);
    cr_expect_eq(msp_map_response(200, NULL, 1, &r), MSP_ERR_ARG);
    cr_assert_eq(msp_map_response(200, NULL, 0, &r), MSP_OK);
    cr_expect_str_eq(r.out, "{}");
    msp_result_free(&r);
    msp_result_free(NULL);
}

Test(mapping, result_to_json_escapes_and_keeps_bytes,
     .timeout = TEST_TIMEOUT(5))
{
    msp_result r;
    cr_assert_eq(msp_map_response(200, "q\"\\\n\t\r\x01\0\xc3\xa9\xff", 11, &r),
                 MSP_OK);
    char *json = msp_result_to_json(&r);
    cr_assert_not_null(json);
    cr_expect_str_eq(
        json, "{\"exit_code\":0,\"stdout\":\"q\\\"\\\\\\n\\t\\r\\u0001\\u0000"
              "\xc3\xa9\\ufffd\",\"stderr\":\"\"}");
    free(json);
    msp_result_free(&r);
    cr_expect_null(msp_result_to_json(NULL));
}

Test(mapping, result_to_json_replaces_invalid_utf8, .timeout = TEST_TIMEOUT(5))
{
    /* overlong, surrogate, truncated, out of range, valid 4-byte */
    static const char body[] =
        "\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xf4\x90\x80\x80|\xf0\x9f\x98\x80";
    msp_result r;
    cr_assert_eq(msp_map_response(200, body, sizeof body - 1, &r), MSP_OK);
    char *json = msp_result_to_json(&r);
    cr_expect_str_eq(
        json,
        "{\"exit_code\":0,\"stdout\":\"\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
        "\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd|\xf0\x9f\x98\x80\","
        "\"stderr\":\"\"}");
    free(json);
    msp_result_free(&r);
}

Test(mapping, result_to_json_of_an_empty_result, .timeout = TEST_TIMEOUT(5))
{
    msp_result r = {0};
    r.exit_code = -1;
    char *json = msp_result_to_json(&r);
    cr_expect_str_eq(json,
                     "{\"exit_code\":-1,\"stdout\":\"\",\"stderr\":\"\"}");
    free(json);
}

/* jsonraw.c, the walker behind rows 6 and 8 and the context reader: it
 * must stay inside the bytes it is given whatever they are, even though
 * the executor only hands it documents cJSON accepted. */
/* The one JSON string decoder (msp_util.h) as jsonraw.c calls it: its
 * decoded length, or (size_t)-1 when it refuses the literal. */
static size_t decode(const char *lit, char *out, size_t cap)
{
    size_t used, n;
    if (msp_json_string_decode(lit, strlen(lit), &used, out, cap, &n, 0) != 0)
        return (size_t)-1;
    return n;
}

Test(jsonraw, decode_cuts_its_output_at_the_cap_and_refuses_a_cut_literal,
     .timeout = TEST_TIMEOUT(5))
{
    char out[16];
    cr_expect_eq(decode("\"abcdef\"", out, 3), 6, "the whole length");
    cr_expect_eq(memcmp(out, "abc", 3), 0, "the first cap bytes");
    cr_expect_eq(decode("\"\\u00e9\"", out, 1), 2,
                 "a 2-byte character cut by the cap");
    cr_expect_eq(out[0], '\xC3');
    cr_expect_eq(decode("\"ab\\", out, sizeof out), (size_t)-1,
                 "a literal cut after a backslash");
    cr_expect_eq(decode("\"\\u12", out, sizeof out), (size_t)-1,
                 "\\u with 2 digits left");
    cr_expect_eq(decode("\"x", out, sizeof out), (size_t)-1,
                 "no closing quote");
}

Test(jsonraw, decode_takes_surrogate_pairs_and_reads_lone_halves_as_fffd,
     .timeout = TEST_TIMEOUT(5))
{
    char out[16];
    cr_assert_eq(decode("\"\\ud83d\\ude00\"", out, sizeof out), 4);
    cr_expect_eq(memcmp(out, "\xF0\x9F\x98\x80", 4), 0);
    /* a lone half becomes U+FFFD, as a JS runtime writes it out */
    cr_assert_eq(decode("\"\\ud83d\\u0041\"", out, sizeof out), 4);
    cr_expect_eq(memcmp(out,
                        "\xEF\xBF\xBD"
                        "A",
                        4),
                 0);
    cr_assert_eq(decode("\"\\ud83dx\"", out, sizeof out), 4);
    cr_expect_eq(memcmp(out,
                        "\xEF\xBF\xBD"
                        "x",
                        4),
                 0);
}

Test(jsonraw, member_finds_only_top_level_members_and_never_reads_past_the_end,
     .timeout = TEST_TIMEOUT(5))
{
    static const char *const missing[] = {
        "",
        "[]",
        "{",
        "{\"a\"",
        "{\"a\":",
        "{\"a\":1",
        "{\"a\":1,",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":{\"b\":1}}",
        ("{\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
         "b"
         "bb\":1}"),
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        msp_span v = Msp_json_member(missing[i], strlen(missing[i]), "b");
        cr_expect_null(v.p, "%s", missing[i]);
    }
    msp_span v = Msp_json_member("{\"a\":[1,\"]\"],\"b\":  tru", 22, "b");
    cr_assert_not_null(v.p);
    cr_expect_eq(v.n, 3, "a value cut by the end of the text");
    /* a name too long to compare is never the one asked for */
    char longname[80];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_expect_null(Msp_json_member("{\"n\":1}", 7, longname).p);
}

Test(jsonraw, has_nul_sees_raw_nul_bytes_and_escapes_read_as_u0000,
     .timeout = TEST_TIMEOUT(5))
{
    cr_expect(Msp_json_has_nul("a\0b", 3));
    cr_expect(Msp_json_has_nul("\\u0000", 6));
    cr_expect(Msp_json_has_nul("\\u00g0", 6),
              "a bad hex digit reads as U+0000");
    cr_expect_not(Msp_json_has_nul("\\u0001", 6));
    cr_expect_not(Msp_json_has_nul("\\\\u0000", 7), "an escaped backslash");
    cr_expect_not(Msp_json_has_nul("\\u000", 5),
                  "cut short: not an escape cJSON accepts");
    cr_expect_not(Msp_json_has_nul("ab\\", 3));
}

Test(jsonraw, compact_removes_whitespace_outside_strings_only,
     .timeout = TEST_TIMEOUT(5))
{
    static const char in[] =
        "\xef\xbb\xbf { \"a b\" :\t[ 1 ,\n\"\\\" x\" ] }\x01";
    char out[sizeof in];
    size_t n = Msp_json_compact(in, sizeof in - 1, out);
    static const char want[] = "{\"a b\":[1,\"\\\" x\"]}";
    cr_assert_eq(n, sizeof want - 1, "%.*s", (int)n, out);
    cr_expect_eq(memcmp(out, want, n), 0, "%.*s", (int)n, out);
}

/* What JSON.parse rejects is not JSON: the body goes out raw (row 9). */
Test(mapping, row9_text_json_parse_rejects_is_not_json,
     .timeout = TEST_TIMEOUT(5))
{
    static const char *const bodies[] = {"5.",
                                         "-07",
                                         "01",
                                         "+1",
                                         ".5",
                                         "1e",
                                         "1e+",
                                         "-",
                                         "[1,]",
                                         "{\"a\":1,}",
                                         "[,1]",
                                         "{'a':1}",
                                         "NaN",
                                         "Infinity",
                                         "-Infinity",
                                         "[1 2]",
                                         "{\"a\" 1}",
                                         "{\"a\":}",
                                         "{1:2}",
                                         "\"a\nb\"",
                                         "\"\\x41\"",
                                         "\"\\u12\"",
                                         "\"\\u12G4\"",
                                         "tru",
                                         "nul",
                                         "[",
                                         "{",
                                         "\"open",
                                         "[]]",
                                         "{\"a\":1}}",
                                         "\x0b{}",
                                         "{\"exit_code\":-07}",
                                         "{\"exit_code\":5.}",
                                         "{\"exit_code\":01}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        expect(200, bodies[i], 9, 0, bodies[i], "");
}

Test(mapping, row8_accepts_what_json_parse_accepts, .timeout = TEST_TIMEOUT(5))
{
    static const struct {
        const char *body, *out;
    } ok[] = {
        {"0", "0"},
        {"-0", "-0"},
        {"1.2345678901234567e+19", "1.2345678901234567e+19"},
        {"12345678901234567890123", "12345678901234567890123"},
        {" [ 1E5 , -0.0e-0 ] ", "[1E5,-0.0e-0]"},
        {"\"\\ud800\"", "\"\\ud800\""}, /* a lone surrogate escape */
        {"\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\""},
        {"{\"a\" : \"x y\" ,\"b\":[true,false,null]}",
         "{\"a\":\"x y\",\"b\":[true,false,null]}"},
        {"\t\r\n{}\n", "{}"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        expect(200, ok[i].body, 8, 0, ok[i].out, "");
}

Test(mapping, row8_any_depth_is_fine, .timeout = TEST_TIMEOUT(5))
{
    size_t depth = 100000;
    char *body = malloc(2 * depth + 1);
    memset(body, '[', depth);
    memset(body + depth, ']', depth);
    body[2 * depth] = '\0';
    msp_result r = map(200, body);
    cr_expect_eq(r.row, 8);
    cr_expect_eq(r.out_len, 2 * depth);
    msp_result_free(&r);
    body[2 * depth - 1] = '\0'; /* one bracket short */
    r = map(200, body);
    cr_expect_eq(r.row, 9);
    msp_result_free(&r);
    free(body);
}

Test(mapping, row6_exit_code_exactly_as_json_parse_reads_it,
     .timeout = TEST_TIMEOUT(5))
{
    expect(200, "{\"exit_code\":-0}", 6, 0, "", "");
    expect(200, "{\"exit_code\":1e2}", 6, 100, "", "");
    expect(200, "{\"exit_code\":3.0}", 6, 3, "", "");
    expect(200, "{\"exit_code\":-2147483648}", 6, INT32_MIN, "", "");
    expect(200, "{ \"exit_code\" : 300 , \"stdout\" : \"o\" }", 6, 300, "o",
           "");
}

Test(mapping, errors_read_only_error_code_and_message,
     .timeout = TEST_TIMEOUT(5))
{
    /* a large body around the error object: only the members are read */
    expect(404,
           "{\"data\":[1,2,{\"code\":\"NOT_ME\"}],\"error\":{\"detail\":[{}],"
           "\"code\":\"TOOL_NOT_FOUND\",\"message\":\"no such tool\"}}",
           12, 127, "",
           "msp-executor: tool unknown (404 TOOL_NOT_FOUND): no such tool");
    /* a body that is not strict JSON has no error object */
    expect(403, "{\"error\":{\"code\":\"X\",\"message\":\"m\",}}", 11, 126, "",
           "msp-executor: auth error (403): {\"error\":{\"code\":\"X\","
           "\"message\":\"m\",}}");
}

/* ---- the endpoint-stub's CommandResult ------------------------------ */

static void expect_command_result(long status, const char *body,
                                  const char *want)
{
    msp_result r = map(status, body);
    char *got = msp_result_to_command_result(&r, "cmd-1");
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want);
    free(got);
    msp_result_free(&r);
}

Test(command_result, exit_0_is_completed_with_the_payload,
     .timeout = TEST_TIMEOUT(5))
{
    expect_command_result(
        200, "{\"exit_code\":0,\"stdout\":\"a\\\"b\\n\",\"stderr\":\"w\"}",
        "{\"type\":\"CommandResult\",\"command_id\":\"cmd-1\","
        "\"lifecycle_state\":\"completed\",\"error\":null,\"payload\":{"
        "\"stdout\":\"a\\\"b\\n\",\"stderr\":\"w\",\"exit_code\":0}}");
    /* row 8 and row 9 exit 0 too */
    expect_command_result(
        200, "{\"success\":true}",
        "{\"type\":\"CommandResult\",\"command_id\":\"cmd-1\","
        "\"lifecycle_state\":\"completed\",\"error\":null,\"payload\":{"
        "\"stdout\":\"{\\\"success\\\":true}\",\"stderr\":\"\",\"exit_code\":"
        "0}}");
}

Test(command_result, any_other_exit_is_failed_with_sandbox_tool_error,
     .timeout = TEST_TIMEOUT(5))
{
    static const struct {
        long status;
        const char *body;
        const char *message;
    } cases[] = {
        /* the tool's own code (row 6), and each class of the table */
        {200, "{\"exit_code\":3,\"stderr\":\"boom\"}",
         "tool exited with 3: boom"},
        {200, "{\"exit_code\":-1}", "tool exited with -1: "},
        {200, "{\"exit_code\":\"x\"}",
         "tool exited with 124: msp-executor: malformed 200 response: "
         "exit_code field present but not a finite number (got \\\"x\\\")"},
        {500, "oops",
         "tool exited with 125: msp-executor: server error (500): oops"},
        {401, "{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"no\"}}",
         "tool exited with 126: msp-executor: auth error (401 UNAUTHORIZED): "
         "no"},
        {404, "nope",
         "tool exited with 127: msp-executor: tool unknown (404): nope"},
        {409, "c",
         "tool exited with 1: msp-executor: unexpected status (409): c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[512];
        snprintf(want, sizeof want,
                 "{\"type\":\"CommandResult\",\"command_id\":\"cmd-1\","
                 "\"lifecycle_state\":\"failed\",\"payload\":null,\"error\":{"
                 "\"code\":\"SANDBOX_TOOL_ERROR\",\"message\":\"%s\"}}",
                 cases[i].message);
        expect_command_result(cases[i].status, cases[i].body, want);
    }
}

Test(command_result, null_arguments_give_null, .timeout = TEST_TIMEOUT(5))
{
    msp_result r = {0};
    cr_expect_null(msp_result_to_command_result(NULL, "c"));
    cr_expect_null(msp_result_to_command_result(&r, NULL));
    char *empty = msp_result_to_command_result(&r, "c");
    cr_expect_str_eq(empty, "{\"type\":\"CommandResult\",\"command_id\":\"c\","
                            "\"lifecycle_state\":\"completed\",\"error\":null,"
                            "\"payload\":{\"stdout\":\"\",\"stderr\":\"\","
                            "\"exit_code\":0}}");
    free(empty);
}

Test(mapping, rows_have_names_generated_from_the_table,
     .timeout = TEST_TIMEOUT(5))
{
    const msp_exit_row *t = msp_exit_table();
    cr_expect_eq(MSP_EXIT_ROWS, 14);
    cr_expect_eq(MSP_ROW_DEADLINE, 1);
    cr_expect_eq(MSP_ROW_UNEXPECTED_STATUS, 14);
    cr_expect_str_eq(t[MSP_ROW_TOOL_RESULT - 1].name, "TOOL_RESULT");
    cr_expect_str_eq(t[MSP_ROW_SERVER_ERROR - 1].name, "SERVER_ERROR");
    for (int i = 0; i < MSP_EXIT_ROWS; i++)
        cr_expect_not_null(t[i].name);
}

/* The docs test: the exit tables of README.md and docs/wire-contract.md
 * say what msp_exit_table() says (exit code and stderr prefix per row). */
static void expect_doc_table(const char *relpath)
{
    const char *src = getenv("MSP_SOURCE_DIR");
    cr_assert_not_null(src, "MSP_SOURCE_DIR must point at the source tree");
    char path[1024], line[2048];
    snprintf(path, sizeof path, "%s/%s", src, relpath);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    const msp_exit_row *t = msp_exit_table();
    int in_table = 0, seen = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "| # | what happened | exit |", 28) == 0) {
            in_table = 1;
            continue;
        }
        if (line[0] != '|') {
            if (seen)
                break; /* the table ended */
            continue;
        }
        int row = 0;
        if (!in_table || sscanf(line, "| %d |", &row) != 1)
            continue;
        if (row < 1 || row > MSP_EXIT_ROWS)
            break;
        /* columns: # | what | exit | stdout | stderr */
        char *cols[5] = {0};
        int n = 0;
        char *save = NULL;
        for (char *p = strtok_r(line, "|", &save); p && n < 5;
             p = strtok_r(NULL, "|", &save))
            cols[n++] = p + strspn(p, " ");
        cr_assert_eq(n, 5, "%s row %d", relpath, row);
        char want[16];
        if (t[row - 1].exit_code < 0)
            snprintf(want, sizeof want, "that code");
        else
            snprintf(want, sizeof want, "%d ", t[row - 1].exit_code);
        cr_expect(strncmp(cols[2], want, strlen(want)) == 0,
                  "%s row %d: exit \"%s\", the table says %s", relpath, row,
                  cols[2], want);
        const char *prefix = t[row - 1].stderr_prefix;
        if (*prefix)
            cr_expect(cols[4][0] == '`' &&
                          strncmp(cols[4] + 1, prefix, strlen(prefix)) == 0,
                      "%s row %d: stderr \"%s\", the table says \"%s\"",
                      relpath, row, cols[4], prefix);
        cr_expect_eq(row, ++seen, "%s: rows in order", relpath);
    }
    fclose(f);
    cr_expect_eq(seen, MSP_EXIT_ROWS, "%s: %d rows", relpath, seen);
}

Test(mapping, docs_exit_tables_say_what_the_table_says,
     .timeout = TEST_TIMEOUT(5))
{
    expect_doc_table("README.md");
    expect_doc_table("docs/wire-contract.md");
}
