/*
 * test_context.c — the ToolExecutorContext JSON reader.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <string.h>

#include "helpers.h"

static int parse(const char *json, msp_context *ctx, msp_context_doc **doc,
                 char *err)
{
    return msp_context_parse(json, strlen(json), ctx, doc, err, 256);
}

Test(context, parses_every_member, .timeout = TEST_TIMEOUT(5))
{
    msp_context ctx;
    msp_context_doc *doc = NULL;
    char err[256];
    cr_assert_eq(
        parse("{\"command_id\":\"c1\",\"tool\":\"msp.x\",\"params\":{\"a\": "
              "[1, 2]},"
              "\"deadline_ms\":1500,\"correlation_id\":\"corr\",\"extra\":1}",
              &ctx, &doc, err),
        MSP_OK, "%s", err);
    cr_expect_str_eq(ctx.command_id, "c1");
    cr_expect_str_eq(ctx.tool, "msp.x");
    cr_expect_str_eq(ctx.params_json, "{\"a\": [1, 2]}");
    cr_expect_eq(ctx.deadline_ms, 1500);
    cr_expect_str_eq(ctx.correlation_id, "corr");
    msp_context_doc_free(doc);
    msp_context_doc_free(NULL);
}

Test(context, optional_members_take_their_defaults, .timeout = TEST_TIMEOUT(5))
{
    msp_context ctx;
    msp_context_doc *doc = NULL;
    char err[256];
    cr_assert_eq(parse(" {\"command_id\":\"c\",\"tool\":\"t\",\"params\":null,"
                       "\"correlation_id\":null} \n",
                       &ctx, &doc, err),
                 MSP_OK, "%s", err);
    cr_expect_str_eq(ctx.params_json, "{}");
    cr_expect_eq(ctx.deadline_ms, 30000);
    cr_expect_null(ctx.correlation_id);
    msp_context_doc_free(doc);
}

Test(context, negative_deadline_is_kept, .timeout = TEST_TIMEOUT(5))
{
    msp_context ctx;
    msp_context_doc *doc = NULL;
    char err[256];
    cr_assert_eq(
        parse("{\"command_id\":\"c\",\"tool\":\"t\",\"deadline_ms\":-5}", &ctx,
              &doc, err),
        MSP_OK);
    cr_expect_eq(ctx.deadline_ms, -5);
    msp_context_doc_free(doc);
}

static void expect_params(const char *json, const char *want)
{
    msp_context ctx;
    msp_context_doc *doc = NULL;
    char err[256] = "";
    cr_assert_eq(
        msp_context_parse(json, strlen(json), &ctx, &doc, err, sizeof err),
        MSP_OK, "%s: %s", json, err);
    cr_expect_str_eq(ctx.params_json, want, "%s", json);
    msp_context_doc_free(doc);
}

Test(context, params_are_forwarded_as_written_not_reserialised,
     .timeout = TEST_TIMEOUT(5))
{
    /* Big integers, 1.0 and escapes would all change through a reprint. */
    expect_params(
        "{\"command_id\":\"c\",\"tool\":\"t\",\"params\":{\"n\":"
        "12345678901234567891,"
        "\"f\":1.0,\"s\":\"\\u00e9\\/\"}}",
        "{\"n\":12345678901234567891,\"f\":1.0,\"s\":\"\\u00e9\\/\"}");
    /* Members before params of every kind are stepped over. */
    expect_params(
        "\xef\xbb\xbf "
        "{\"s\":\"p\\\"}{[\",\"a\":[1,{\"params\":2}],\"o\":{\"x\":\"}\"},"
        "\"n\":-1.5e3 ,\"t\":true,\"z\":null,\"e\":{},"
        "\"params\" :\t{ \"k\" : [ ] } , \"deadline_ms\":5,"
        "\"command_id\":\"c\",\"tool\":\"t\"}",
        "{ \"k\" : [ ] }");
    /* The first params wins, as in cJSON. */
    expect_params("{\"command_id\":\"c\",\"tool\":\"t\",\"params\":{\"a\":1.0},"
                  "\"params\":{\"b\":2}}",
                  "{\"a\":1.0}");
}

Test(context, params_named_with_escapes_are_found_as_cjson_finds_them,
     .timeout = TEST_TIMEOUT(5))
{
    /* the member cJSON finds (decoded names), forwarded as written */
    expect_params(
        "{\"command_id\":\"c\",\"tool\":\"t\",\"par\\u0061ms\":{\"a\": 1.0}}",
        "{\"a\": 1.0}");
    expect_params("{\"c\\u0020\":1,\"command_id\":\"c\",\"tool\":\"t\","
                  "\"params\":{\"a\": 1}}",
                  "{\"a\": 1}");
    /* "params\u0000x" is "params" to cJSON (a C string compare), and first */
    expect_params(
        "{\"params\\u0000x\":{\"a\":1.0},\"command_id\":\"c\",\"tool\":\"t\","
        "\"params\":{\"b\":2}}",
        "{\"a\":1.0}");
}

Test(context, a_nul_byte_in_an_id_or_the_tool_is_refused_not_cut_short,
     .timeout = TEST_TIMEOUT(5))
{
    /* cJSON would read "abc\u0000def" as "abc": another command id */
    static const char *const docs[][2] = {
        {"{\"command_id\":\"abc\\u0000def\",\"tool\":\"t\"}", "command_id"},
        {"{\"command_id\":\"c\",\"tool\":\"msp.list_devices\\u0000x\"}",
         "tool"},
        {"{\"command_id\":\"c\",\"tool\":\"t\",\"correlation_id\":\"\\u0000\"}",
         "correlation_id"},
        {"{\"command_id\":\"a\\u0zzzb\",\"tool\":\"t\"}", "command_id"},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        msp_context ctx;
        msp_context_doc *doc = NULL;
        char err[256] = "", want[64];
        cr_expect_eq(msp_context_parse(docs[i][0], strlen(docs[i][0]), &ctx,
                                       &doc, err, sizeof err),
                     MSP_ERR_CONFIG, "%s", docs[i][0]);
        snprintf(want, sizeof want, "context: \"%s\" contains a NUL byte",
                 docs[i][1]);
        cr_expect_str_eq(err, want);
        cr_expect_null(doc);
    }
    /* a NUL elsewhere (params, other members) is fine */
    expect_params("{\"x\":\"\\u0000\",\"command_id\":\"c\",\"tool\":\"t\","
                  "\"params\":{\"s\":\"\\u0000\"}}",
                  "{\"s\":\"\\u0000\"}");
}

Test(context, params_with_raw_control_bytes_are_printed_by_cjson,
     .timeout = TEST_TIMEOUT(5))
{
    /* cJSON takes NUL and other control bytes as whitespace, and raw ones
     * inside strings: forwarded as they are, they would cut the text or
     * make it invalid JSON. */
    static const char doc[] = "{\"command_id\":\"c\",\"tool\":\"t\",\"params\":"
                              "{\x01\"a\"\0:\"x\x02\"}}";
    msp_context ctx;
    msp_context_doc *d = NULL;
    cr_assert_eq(msp_context_parse(doc, sizeof doc - 1, &ctx, &d, NULL, 0),
                 MSP_OK);
    cr_expect_str_eq(ctx.params_json, "{\"a\":\"x\\u0002\"}");
    msp_context_doc_free(d);
    /* A key with a raw NUL in it is "params" to cJSON (a C string compare):
     * that member, as written. */
    static const char nul_key[] = "{\"params\0x\":{\"a\":1.0},\"command_id\":"
                                  "\"c\",\"tool\":\"t\",\"params\":{\"b\":2}}";
    cr_assert_eq(
        msp_context_parse(nul_key, sizeof nul_key - 1, &ctx, &d, NULL, 0),
        MSP_OK);
    cr_expect_str_eq(ctx.params_json, "{\"a\":1.0}");
    msp_context_doc_free(d);
    expect_params(
        "{\"command_id\":\"c\",\"tool\":\"t\",\"params\":{\t\"a\":\r\n1.0}}",
        "{\t\"a\":\r\n1.0}");
}

Test(context, bad_documents_name_the_member, .timeout = TEST_TIMEOUT(5))
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"[]", "not a JSON object"},
        {"{", "not a JSON object"},
        {"{} x", "not a JSON object"},
        {"{\"tool\":\"t\"}", "\"command_id\" is missing"},
        {"{\"command_id\":1,\"tool\":\"t\"}",
         "\"command_id\" must be a string"},
        {"{\"command_id\":\"c\"}", "\"tool\" is missing"},
        {"{\"command_id\":\"c\",\"tool\":null}", "\"tool\" must be a string"},
        {"{\"command_id\":\"c\",\"tool\":\"t\",\"params\":[1]}",
         "\"params\" must be an object"},
        {"{\"command_id\":\"c\",\"tool\":\"t\",\"deadline_ms\":\"5\"}",
         "\"deadline_ms\" must be an integer"},
        {"{\"command_id\":\"c\",\"tool\":\"t\",\"deadline_ms\":1.5}",
         "\"deadline_ms\" must be an integer"},
        {"{\"command_id\":\"c\",\"tool\":\"t\",\"deadline_ms\":1e300}",
         "\"deadline_ms\" must be an integer"},
        {"{\"command_id\":\"c\",\"tool\":\"t\",\"correlation_id\":5}",
         "\"correlation_id\" must be a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        msp_context ctx;
        msp_context_doc *doc = (msp_context_doc *)0x1;
        char err[256] = "";
        cr_expect_eq(parse(cases[i].json, &ctx, &doc, err), MSP_ERR_CONFIG,
                     "%s", cases[i].json);
        cr_expect(strstr(err, cases[i].want) != NULL, "%s: %s", cases[i].json,
                  err);
        cr_expect_eq(doc, (msp_context_doc *)0x1);
    }
}

Test(context, null_arguments_are_refused, .timeout = TEST_TIMEOUT(5))
{
    msp_context ctx;
    msp_context_doc *doc;
    cr_expect_eq(msp_context_parse(NULL, 0, &ctx, &doc, NULL, 0), MSP_ERR_ARG);
    cr_expect_eq(msp_context_parse("{}", 2, NULL, &doc, NULL, 0), MSP_ERR_ARG);
    cr_expect_eq(msp_context_parse("{}", 2, &ctx, NULL, NULL, 0), MSP_ERR_ARG);
}
