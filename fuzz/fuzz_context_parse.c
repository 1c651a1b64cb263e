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

#include "fuzz_check.h"

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
            /* the member cJSON finds, forwarded as written: same value */
            cJSON *params = cJSON_Parse(ctx.params_json);
            CHECK(cJSON_IsObject(params));
            cJSON *whole = cJSON_ParseWithLength(json, size);
            CHECK(whole != NULL);
            const cJSON *member =
                cJSON_GetObjectItemCaseSensitive(whole, "params");
            if (cJSON_IsObject(member)) {
                /* compared as printed: cJSON_Compare looks members up by
                 * name, which duplicate names defeat */
                char *a = cJSON_PrintUnformatted(params);
                char *b = cJSON_PrintUnformatted(member);
                CHECK(a && b && strcmp(a, b) == 0);
                cJSON_free(a);
                cJSON_free(b);
            } else
                CHECK(strcmp(ctx.params_json, "{}") == 0);
            cJSON_Delete(whole);
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
