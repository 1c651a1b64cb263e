/*
 * mapping.c — the exit table and the pure (status, body) → result mapping.
 *
 * The table is the only place an exit code or a stderr prefix is written
 * down; the mapping picks a row and Msp_result_fill takes both from it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "internal.h"

static const msp_exit_row exit_table[MSP_EXIT_ROWS] = {
    {1, "deadline_ms <= 0: no request is sent", 124,
     "msp-executor: deadline expired ("},
    {2, "a context value cannot go on the wire: no request is sent", 124,
     "msp-executor: invalid request: "},
    {3, "no HTTP response (refused, DNS, TLS, reset, timeout, garbage)", 124,
     "msp-executor: transport error: "},
    {4, "status received but the body could not be read", 124,
     "msp-executor: response read failed: "},
    {5, "body larger than the cap", 124, "msp-executor: response too large"},
    {6, "200 with an integer exit_code: the tool's own result", -1, ""},
    {7, "200 with an exit_code that is not an int32 integer", 124,
     "msp-executor: malformed 200 response: "},
    {8, "200 with any other JSON: re-serialised on stdout", 0, ""},
    {9, "200 with a body that is not JSON: raw body on stdout", 0, ""},
    {10, "400 IDEMPOTENCY_CORRELATION_MISMATCH", 124,
     "msp-executor: header consistency violation: "},
    {11, "401 or 403", 126, "msp-executor: auth error ("},
    {12, "404", 127, "msp-executor: tool unknown ("},
    {13, "500..599", 125, "msp-executor: server error ("},
    {14, "any other status (3xx are never followed)", 1,
     "msp-executor: unexpected status ("},
};

const msp_exit_row *msp_exit_table(void)
{
    return exit_table;
}

void msp_result_free(msp_result *r)
{
    if (!r)
        return;
    free(r->out); /* err lives in the same block */
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* out and err share one allocation: one malloc per result. */
int Msp_result_fill(msp_result *res, int row, int exit_code, const char *out,
                    size_t out_len, const msp_span *parts, size_t nparts)
{
    const msp_exit_row *r = &exit_table[row - 1];
    size_t plen = strlen(r->stderr_prefix);
    size_t err_len = plen;
    for (size_t i = 0; i < nparts; i++)
        err_len += parts[i].n;
    char *block = malloc(out_len + err_len + 2);
    if (!block)
        return MSP_ERR_NOMEM;
    if (out_len)
        memcpy(block, out, out_len);
    block[out_len] = '\0';
    char *err = block + out_len + 1;
    char *w = err;
    memcpy(w, r->stderr_prefix, plen);
    w += plen;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n)
            memcpy(w, parts[i].p, parts[i].n);
        w += parts[i].n;
    }
    *w = '\0';
    memset(res, 0, sizeof *res);
    res->exit_code = row == 6 ? exit_code : r->exit_code;
    res->out = block;
    res->out_len = out_len;
    res->err = err;
    res->err_len = err_len;
    res->row = row;
    return MSP_OK;
}

static msp_span span(const char *s)
{
    msp_span sp = {s, s ? strlen(s) : 0};
    return sp;
}

/* Parses the whole body as JSON (trailing whitespace allowed), or NULL. */
static cJSON *parse_whole(const char *body, size_t len)
{
    const char *end = NULL;
    if (len == 0)
        return NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!j)
        return NULL;
    while (end < body + len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != body + len) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static const char *string_member(const cJSON *obj, const char *name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* A string member's bytes, NUL bytes included, in a new block (*out stays
 * NULL when the member is absent or not a string). cJSON's valuestring
 * stops at the first "\u0000". */
static int raw_string(const char *body, size_t len, const char *name,
                      char **out, size_t *n)
{
    msp_span v = Msp_json_member(body, len, name);
    *out = NULL;
    if (!v.n || v.p[0] != '"')
        return MSP_OK;
    if (!(*out = malloc(v.n)))
        return MSP_ERR_NOMEM;
    *n = Msp_json_decode(v.p, v.n, *out, v.n);
    return MSP_OK;
}

/* Row 6: the tool's stdout and stderr, NUL bytes included. */
static int map_tool_result(const cJSON *j, int code, const char *body,
                           size_t len, msp_result *res)
{
    msp_span err = span(string_member(j, "stderr"));
    msp_span out = span(string_member(j, "stdout"));
    char *raw_out = NULL, *raw_err = NULL;
    size_t n = 0;
    int rc = MSP_OK;

    if (Msp_json_has_nul(body, len)) {
        rc = raw_string(body, len, "stdout", &raw_out, &n);
        if (raw_out)
            out = (msp_span){raw_out, n};
        if (rc == MSP_OK)
            rc = raw_string(body, len, "stderr", &raw_err, &n);
        if (raw_err)
            err = (msp_span){raw_err, n};
    }
    if (rc == MSP_OK)
        rc = Msp_result_fill(res, 6, code, out.p, out.n, &err, 1);
    free(raw_out);
    free(raw_err);
    return rc;
}

/* Row 7: the member printed compactly with cJSON. */
static int map_malformed(const cJSON *ec, const char *why, msp_result *res)
{
    char *json = cJSON_PrintUnformatted(ec);
    if (!json)
        return MSP_ERR_NOMEM;
    msp_span parts[] = {span("exit_code field present but not "), span(why),
                        span(" (got "), span(json), span(")")};
    int rc = Msp_result_fill(res, 7, 0, "", 0, parts, 5);
    cJSON_free(json);
    return rc;
}

static int map_ok(const char *body, size_t len, msp_result *res)
{
    if (len == 0)
        return Msp_result_fill(res, 8, 0, "{}", 2, NULL, 0);
    cJSON *j = parse_whole(body, len);
    if (!j)
        return Msp_result_fill(res, 9, 0, body, len, NULL, 0);
    int rc;
    const cJSON *ec = cJSON_IsObject(j)
                          ? cJSON_GetObjectItemCaseSensitive(j, "exit_code")
                          : NULL;
    if (ec) {
        double v = ec->valuedouble;
        if (!cJSON_IsNumber(ec) || !isfinite(v)) {
            rc = map_malformed(ec, "a finite number", res);
        } else if (v != floor(v) || v < INT32_MIN || v > INT32_MAX) {
            rc = map_malformed(ec, "an integer", res);
        } else {
            rc = map_tool_result(j, (int)v, body, len, res);
        }
    } else if (Msp_json_has_nul(body, len)) {
        /* cJSON would print "a\u0000b" as "a": compact the text as written */
        char *json = malloc(len);
        rc = json ? Msp_result_fill(res, 8, 0, json,
                                    Msp_json_compact(body, len, json), NULL, 0)
                  : MSP_ERR_NOMEM;
        free(json);
    } else {
        char *json = cJSON_PrintUnformatted(j);
        rc = json ? Msp_result_fill(res, 8, 0, json, strlen(json), NULL, 0)
                  : MSP_ERR_NOMEM;
        cJSON_free(json);
    }
    cJSON_Delete(j);
    return rc;
}

static int map_error(long status, const char *body, size_t len, msp_result *res,
                     char *codebuf, size_t codelen)
{
    cJSON *j = parse_whole(body, len);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *code =
        cJSON_IsObject(error) ? string_member(error, "code") : NULL;
    const char *message =
        cJSON_IsObject(error) ? string_member(error, "message") : NULL;
    msp_span msg = message ? span(message) : (msp_span){body, len};
    msp_span raw = {body, len};
    char st[24];
    snprintf(st, sizeof st, "%ld", status);
    msp_span code_parts[] = {span(st), span(code ? " " : ""), span(code),
                             span("): ")};
    msp_span parts[5];
    size_t n = 0;
    int row;

    if (status == 400 && code &&
        strcmp(code, "IDEMPOTENCY_CORRELATION_MISMATCH") == 0) {
        row = 10;
        parts[n++] = msg;
    } else if (status >= 500 && status <= 599) {
        row = 13;
        parts[n++] = span(st);
        parts[n++] = span("): ");
        parts[n++] = raw;
    } else {
        row = (status == 401 || status == 403) ? 11 : status == 404 ? 12 : 14;
        memcpy(parts, code_parts, sizeof code_parts);
        n = 4;
        parts[n++] = msg;
    }
    if (codebuf && codelen)
        snprintf(codebuf, codelen, "%s", code ? code : "");
    int rc = Msp_result_fill(res, row, 0, "", 0, parts, n);
    cJSON_Delete(j);
    if (rc == MSP_OK)
        res->http_status = (int)status;
    return rc;
}

int Msp_map_response(long status, const char *body, size_t body_len,
                     msp_result *res, char *code, size_t codelen)
{
    if (!res || (!body && body_len))
        return MSP_ERR_ARG;
    if (!body)
        body = "";
    if (code && codelen)
        code[0] = '\0';
    if (status != 200)
        return map_error(status, body, body_len, res, code, codelen);
    int rc = map_ok(body, body_len, res);
    if (rc == MSP_OK)
        res->http_status = 200;
    return rc;
}

int msp_map_response(long status, const char *body, size_t body_len,
                     msp_result *res)
{
    return Msp_map_response(status, body, body_len, res, NULL, 0);
}

char *msp_result_to_json(const msp_result *r)
{
    if (!r)
        return NULL;
    msp_buf b = {0};
    char head[48];
    const size_t lim = SIZE_MAX / 4;
    snprintf(head, sizeof head, "{\"exit_code\":%d,\"stdout\":", r->exit_code);
    if (Msp_buf_append(&b, head, strlen(head), lim) ||
        Msp_buf_append_json_string(&b, r->out ? r->out : "",
                                   r->out ? r->out_len : 0, lim) ||
        Msp_buf_append(&b, ",\"stderr\":", 10, lim) ||
        Msp_buf_append_json_string(&b, r->err ? r->err : "",
                                   r->err ? r->err_len : 0, lim) ||
        Msp_buf_append(&b, "}", 1, lim)) {
        Msp_buf_free(&b);
        return NULL;
    }
    return b.data;
}
