/*
 * context.c — the tool context: the JSON reader and the row-2 checks that
 * keep a value off the wire when it cannot go there safely.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal.h"

#define FIELD_MAX 256 /* tool and correlation_id, bytes */

struct msp_context_doc {
    cJSON *root;
    char *params; /* the params member's own text (cJSON_malloc'd) */
};

void msp_context_doc_free(msp_context_doc *doc)
{
    if (!doc)
        return;
    cJSON_free(doc->params);
    cJSON_Delete(doc->root);
    free(doc);
}

static int is_json_object_text(const char *text)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    int ok = cJSON_IsObject(j);
    cJSON_Delete(j);
    return ok;
}

int Msp_context_check(const msp_context *ctx, char *why, size_t whylen)
{
    const char *id = ctx->command_id;
    const char *cid = ctx->correlation_id;
    size_t tool_len = ctx->tool ? strlen(ctx->tool) : 0;

    if (!id || !*id)
        Msp_set_error(why, whylen, "command_id is empty");
    else if (Msp_has_control_byte(id, strlen(id)))
        Msp_set_error(why, whylen,
                      "command_id contains a control byte (CR, LF or other)");
    else if (tool_len == 0)
        Msp_set_error(why, whylen, "tool is empty");
    else if (tool_len > FIELD_MAX)
        Msp_set_error(why, whylen, "tool is longer than %d bytes (%zu)",
                      FIELD_MAX, tool_len);
    else if (cid && !*cid)
        Msp_set_error(why, whylen, "correlation_id is empty");
    else if (cid && strlen(cid) > FIELD_MAX)
        Msp_set_error(why, whylen,
                      "correlation_id is longer than %d bytes (%zu)", FIELD_MAX,
                      strlen(cid));
    else if (cid && Msp_has_control_byte(cid, strlen(cid)))
        Msp_set_error(
            why, whylen,
            "correlation_id contains a control byte (CR, LF or other)");
    else if (ctx->params_json && !is_json_object_text(ctx->params_json))
        Msp_set_error(why, whylen, "params_json is not a JSON object");
    else
        return 0;
    return -1;
}

/* 1 when s[0..n) holds a byte JSON never allows raw (cJSON lets control
 * bytes, NUL included, pass as whitespace or inside strings). */
static int has_raw_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' &&
            s[i] != '\r')
            return 1;
    return 0;
}

/* params as given: its own text; cJSON's print of it when that text is
 * not strict JSON (raw control bytes, which cJSON lets through). */
static char *params_text(const char *json, size_t len, const cJSON *params)
{
    msp_span raw = Msp_json_member(json, len, "params");
    if (!raw.n || has_raw_control(raw.p, raw.n))
        return cJSON_PrintUnformatted(params);
    char *text = cJSON_malloc(raw.n + 1);
    if (text) {
        memcpy(text, raw.p, raw.n);
        text[raw.n] = '\0';
    }
    return text;
}

static int fail(char *errbuf, size_t errlen, const char *member,
                const char *what)
{
    Msp_set_error(errbuf, errlen, "context: \"%s\" %s", member, what);
    return MSP_ERR_CONFIG;
}

/* cJSON would cut "a\u0000b" to "a": a command id or tool silently changed.
 * Refuse a string member that holds a NUL byte instead. */
static int check_no_nul(const char *json, size_t len, char *errbuf,
                        size_t errlen)
{
    static const char *const names[] = {"command_id", "tool", "correlation_id"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        msp_span v = Msp_json_member(json, len, names[i]);
        if (v.n && v.p[0] == '"' && Msp_json_has_nul(v.p, v.n))
            return fail(errbuf, errlen, names[i], "contains a NUL byte");
    }
    return MSP_OK;
}

int msp_context_parse(const char *json, size_t len, msp_context *ctx,
                      msp_context_doc **doc, char *errbuf, size_t errlen)
{
    if (!json || !ctx || !doc)
        return MSP_ERR_ARG;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    while (root && end < json + len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (!cJSON_IsObject(root) || end != json + len) {
        cJSON_Delete(root);
        Msp_set_error(errbuf, errlen, "context: not a JSON object");
        return MSP_ERR_CONFIG;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "command_id");
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(root, "tool");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
    const cJSON *deadline =
        cJSON_GetObjectItemCaseSensitive(root, "deadline_ms");
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(root, "correlation_id");
    int rc = MSP_OK;

    if (!id)
        rc = fail(errbuf, errlen, "command_id", "is missing");
    else if (!cJSON_IsString(id))
        rc = fail(errbuf, errlen, "command_id", "must be a string");
    else if (!tool)
        rc = fail(errbuf, errlen, "tool", "is missing");
    else if (!cJSON_IsString(tool))
        rc = fail(errbuf, errlen, "tool", "must be a string");
    else if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params))
        rc = fail(errbuf, errlen, "params", "must be an object");
    else if (deadline && !cJSON_IsNull(deadline) &&
             (!cJSON_IsNumber(deadline) ||
              deadline->valuedouble != floor(deadline->valuedouble) ||
              fabs(deadline->valuedouble) > 9e15))
        rc = fail(errbuf, errlen, "deadline_ms", "must be an integer");
    else if (cid && !cJSON_IsNull(cid) && !cJSON_IsString(cid))
        rc = fail(errbuf, errlen, "correlation_id", "must be a string");
    else if (Msp_json_has_nul(json, len))
        rc = check_no_nul(json, len, errbuf, errlen);
    if (rc != MSP_OK) {
        cJSON_Delete(root);
        return rc;
    }

    msp_context_doc *d = calloc(1, sizeof *d);
    char *text = cJSON_IsObject(params) ? params_text(json, len, params) : NULL;
    if (!d || (cJSON_IsObject(params) && !text)) {
        free(d);
        cJSON_free(text);
        cJSON_Delete(root);
        return MSP_ERR_NOMEM;
    }
    d->root = root;
    d->params = text;
    memset(ctx, 0, sizeof *ctx);
    ctx->command_id = id->valuestring;
    ctx->tool = tool->valuestring;
    ctx->params_json = text ? text : "{}";
    ctx->deadline_ms = deadline && cJSON_IsNumber(deadline)
                           ? (long long)deadline->valuedouble
                           : MSP_DEFAULT_TIMEOUT_MS;
    ctx->correlation_id = cid && cJSON_IsString(cid) ? cid->valuestring : NULL;
    *doc = d;
    return MSP_OK;
}
