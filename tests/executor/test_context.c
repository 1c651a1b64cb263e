/*
 * test_context.c — the ToolExecutorContext JSON reader.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

static int parse(const char *json, msp_context *ctx, msp_context_doc **doc, char *err)
{
    return msp_context_parse(json, strlen(json), ctx, doc, err, 256);
}

Test(context, parses_every_member, .timeout = 5)
{
    msp_context ctx;
    msp_context_doc *doc = NULL;
    char err[256];
    cr_assert_eq(parse("{\"command_id\":\"c1\",\"tool\":\"msp.x\",\"params\":{\"a\": [1, 2]},"
                       "\"deadline_ms\":1500,\"correlation_id\":\"corr\",\"extra\":1}",
                       &ctx, &doc, err),
                 MSP_OK, "%s", err);
    cr_expect_str_eq(ctx.command_id, "c1");
    cr_expect_str_eq(ctx.tool, "msp.x");
    cr_expect_str_eq(ctx.params_json, "{\"a\":[1,2]}");
    cr_expect_eq(ctx.deadline_ms, 1500);
    cr_expect_str_eq(ctx.correlation_id, "corr");
    msp_context_doc_free(doc);
    msp_context_doc_free(NULL);
}

Test(context, optional_members_take_their_defaults, .timeout = 5)
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

Test(context, negative_deadline_is_kept, .timeout = 5)
{
    msp_context ctx;
    msp_context_doc *doc = NULL;
    char err[256];
    cr_assert_eq(parse("{\"command_id\":\"c\",\"tool\":\"t\",\"deadline_ms\":-5}", &ctx, &doc, err),
                 MSP_OK);
    cr_expect_eq(ctx.deadline_ms, -5);
    msp_context_doc_free(doc);
}

Test(context, bad_documents_name_the_member, .timeout = 5)
{
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"[]", "not a JSON object"},
        {"{", "not a JSON object"},
        {"{} x", "not a JSON object"},
        {"{\"tool\":\"t\"}", "\"command_id\" must be a string"},
        {"{\"command_id\":1,\"tool\":\"t\"}", "\"command_id\" must be a string"},
        {"{\"command_id\":\"c\"}", "\"tool\" must be a string"},
        {"{\"command_id\":\"c\",\"tool\":\"t\",\"params\":[1]}", "\"params\" must be an object"},
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
        cr_expect_eq(parse(cases[i].json, &ctx, &doc, err), MSP_ERR_CONFIG, "%s", cases[i].json);
        cr_expect(strstr(err, cases[i].want) != NULL, "%s: %s", cases[i].json, err);
        cr_expect_eq(doc, (msp_context_doc *)0x1);
    }
}

Test(context, null_arguments_are_refused, .timeout = 5)
{
    msp_context ctx;
    msp_context_doc *doc;
    cr_expect_eq(msp_context_parse(NULL, 0, &ctx, &doc, NULL, 0), MSP_ERR_ARG);
    cr_expect_eq(msp_context_parse("{}", 2, NULL, &doc, NULL, 0), MSP_ERR_ARG);
    cr_expect_eq(msp_context_parse("{}", 2, &ctx, NULL, NULL, 0), MSP_ERR_ARG);
}
