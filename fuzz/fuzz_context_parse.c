/*
 * fuzz_context_parse.c — libFuzzer target for msp_context_parse(), the
 * ToolExecutorContext JSON reader of msp-exec.
 *
 * Input: the JSON text, not NUL-terminated (the parser must honour len).
 * On success the context is checked against the header's promises:
 * command_id and tool are set, params_json is an object's text, and every
 * string stays readable until msp_context_doc_free(). On failure the reason
 * is a non-empty NUL-terminated line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <executor/msp_executor.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                       \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "fuzz_context_parse: %s:%d: invariant failed: %s\n", \
                    __FILE__, __LINE__, #cond);                           \
            abort();                                                      \
        }                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy, so ASan sees any read past len. */
    char *json = malloc(size ? size : 1);
    if (!json)
        return 0;
    if (size)
        memcpy(json, data, size);

    msp_context ctx;
    msp_context_doc *doc = NULL;
    char errbuf[256];
    memset(errbuf, 'x', sizeof errbuf);
    int rc = msp_context_parse(json, size, &ctx, &doc, errbuf, sizeof errbuf);
    if (rc == 0) {
        CHECK(doc != NULL);
        CHECK(ctx.command_id != NULL && ctx.tool != NULL);
        (void)strlen(ctx.command_id);
        (void)strlen(ctx.tool);
        if (ctx.correlation_id)
            (void)strlen(ctx.correlation_id);
        if (ctx.params_json) {
            cJSON *params = cJSON_Parse(ctx.params_json);
            CHECK(cJSON_IsObject(params));
            cJSON_Delete(params);
        }
        msp_context_doc_free(doc);
    } else {
        CHECK(rc == MSP_ERR_CONFIG || rc == MSP_ERR_NOMEM);
        CHECK(memchr(errbuf, '\0', sizeof errbuf) != NULL);
        CHECK(errbuf[0] != '\0');
    }
    free(json);
    return 0;
}
