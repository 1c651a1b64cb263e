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

#include "internal.h"

static const msp_exit_row exit_table[] = {
#define ROW(name, row, exit_code, what, prefix) \
    {row, what, exit_code, prefix, #name},
    MSP_EXIT_TABLE(ROW)
#undef ROW
};
_Static_assert(sizeof exit_table / sizeof exit_table[0] == MSP_EXIT_ROWS,
               "MSP_EXIT_ROWS counts the rows of the exit table");

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
int Msp_result_alloc(msp_result *res, int row, int exit_code, size_t out_room,
                     const msp_span *parts, size_t nparts)
{
    const msp_exit_row *r = &exit_table[row - 1];
    size_t plen = strlen(r->stderr_prefix);
    size_t err_len = plen;
    for (size_t i = 0; i < nparts; i++)
        err_len += parts[i].n;
    char *block = malloc(out_room + err_len + 2);
    if (!block)
        return MSP_ERR_NOMEM;
    block[out_room] = '\0';
    char *err = block + out_room + 1;
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
    res->exit_code = row == MSP_ROW_TOOL_RESULT ? exit_code : r->exit_code;
    res->out = block;
    res->out_len = out_room;
    res->err = err;
    res->err_len = err_len;
    res->row = row;
    return MSP_OK;
}

int Msp_result_fill(msp_result *res, int row, int exit_code, const char *out,
                    size_t out_len, const msp_span *parts, size_t nparts)
{
    int rc = Msp_result_alloc(res, row, exit_code, out_len, parts, nparts);
    if (rc == MSP_OK && out_len)
        memcpy(res->out, out, out_len);
    return rc;
}

static msp_span span(const char *s)
{
    msp_span sp = {s, s ? strlen(s) : 0};
    return sp;
}

/* A string member's bytes, NUL bytes included, in a new block (*out stays
 * NULL when the member is absent or not a string). */
static int raw_string(msp_span obj, const char *name, char **out, size_t *n)
{
    msp_span v = Msp_json_member(obj.p, obj.n, name);
    *out = NULL;
    *n = 0;
    if (!v.n || v.p[0] != '"')
        return MSP_OK;
    if (!(*out = malloc(v.n)))
        return MSP_ERR_NOMEM;
    size_t used;
    if (msp_json_string_decode(v.p, v.n, &used, *out, v.n, n, 0) != 0) {
        free(*out); /* never: the body passed Msp_json_valid */
        *out = NULL;
        *n = 0;
    }
    return MSP_OK;
}

/* Row 6: the tool's stdout and stderr, NUL bytes included. */
static int map_tool_result(int code, const char *body, size_t len,
                           msp_result *res)
{
    msp_span doc = {body, len};
    char *raw_out = NULL, *raw_err = NULL;
    size_t out_n = 0, err_n = 0;
    int rc = raw_string(doc, "stdout", &raw_out, &out_n);
    if (rc == MSP_OK)
        rc = raw_string(doc, "stderr", &raw_err, &err_n);
    msp_span err = {raw_err ? raw_err : "", err_n};
    if (rc == MSP_OK)
        rc = Msp_result_fill(res, MSP_ROW_TOOL_RESULT, code,
                             raw_out ? raw_out : "", out_n, &err, 1);
    free(raw_out);
    free(raw_err);
    return rc;
}

/* Row 7: the member as the server wrote it, whitespace removed. */
static int map_malformed(msp_span ec, const char *why, msp_result *res)
{
    char *json = malloc(ec.n ? ec.n : 1);
    if (!json)
        return MSP_ERR_NOMEM;
    msp_span parts[] = {span("exit_code field present but not "),
                        span(why),
                        span(" (got "),
                        {json, Msp_json_compact(ec.p, ec.n, json)},
                        span(")")};
    int rc = Msp_result_fill(res, MSP_ROW_MALFORMED_200, 0, "", 0, parts, 5);
    free(json);
    return rc;
}

/* Rows 6 and 7: exit_code read from its text, checked as JSON.parse and
 * Number.isInteger would see it. */
static int map_exit_code(msp_span ec, const char *body, size_t len,
                         msp_result *res)
{
    char c = ec.p[0];
    if (c != '-' && (c < '0' || c > '9'))
        return map_malformed(ec, "a finite number", res);
    char num[64];
    double v;
    if (ec.n >= sizeof num) {
        /* a long numeral: strtod needs a NUL-terminated copy */
        char *copy = malloc(ec.n + 1);
        if (!copy)
            return MSP_ERR_NOMEM;
        memcpy(copy, ec.p, ec.n);
        copy[ec.n] = '\0';
        v = strtod(copy, NULL);
        free(copy);
    } else {
        memcpy(num, ec.p, ec.n);
        num[ec.n] = '\0';
        v = strtod(num, NULL);
    }
    if (!isfinite(v))
        return map_malformed(ec, "a finite number", res);
    if (v != floor(v) || v < INT32_MIN || v > INT32_MAX)
        return map_malformed(ec, "an integer", res);
    return map_tool_result((int)v, body, len, res);
}

static int map_ok(const char *body, size_t len, msp_result *res)
{
    if (len == 0)
        return Msp_result_fill(res, MSP_ROW_PROVIDER_JSON, 0, "{}",
                               MSP_STRLEN("{}"), NULL, 0);
    int valid = Msp_json_valid(body, len);
    if (valid < 0)
        return MSP_ERR_NOMEM;
    if (!valid)
        return Msp_result_fill(res, MSP_ROW_NOT_JSON, 0, body, len, NULL, 0);
    msp_span ec = Msp_json_member(body, len, "exit_code");
    if (ec.n)
        return map_exit_code(ec, body, len, res);
    /* Row 8: the JSON as written, the whitespace outside strings removed,
     * compacted straight into the result. */
    int rc = Msp_result_alloc(res, MSP_ROW_PROVIDER_JSON, 0, len, NULL, 0);
    if (rc == MSP_OK) {
        res->out_len = Msp_json_compact(body, len, res->out);
        res->out[res->out_len] = '\0';
    }
    return rc;
}

static int map_error(long status, const char *body, size_t len, msp_result *res,
                     char *codebuf, size_t codelen)
{
    int valid = Msp_json_valid(body, len);
    if (valid < 0)
        return MSP_ERR_NOMEM;
    msp_span error =
        valid ? Msp_json_member(body, len, "error") : (msp_span){0};
    char *code = NULL, *message = NULL;
    size_t code_n = 0, message_n = 0;
    int rc = MSP_OK;
    if (error.n && error.p[0] == '{') {
        rc = raw_string(error, "code", &code, &code_n);
        if (rc == MSP_OK)
            rc = raw_string(error, "message", &message, &message_n);
    }
    if (code) /* an identifier: read up to a NUL, as a C string */
        code_n = strnlen(code, code_n);
    msp_span msg =
        message ? (msp_span){message, message_n} : (msp_span){body, len};
    msp_span raw = {body, len};
    msp_span code_sp = {code ? code : "", code_n};
    char st[24];
    snprintf(st, sizeof st, "%ld", status);
    msp_span parts[5];
    size_t n = 0;
    int row;

    if (status == 400 && code &&
        code_n == MSP_STRLEN("IDEMPOTENCY_CORRELATION_MISMATCH") &&
        memcmp(code, "IDEMPOTENCY_CORRELATION_MISMATCH", code_n) == 0) {
        row = MSP_ROW_HEADER_MISMATCH;
        parts[n++] = msg;
    } else if (status >= 500 && status <= 599) {
        row = MSP_ROW_SERVER_ERROR;
        parts[n++] = span(st);
        parts[n++] = span("): ");
        parts[n++] = raw;
    } else {
        row = (status == 401 || status == 403) ? MSP_ROW_AUTH
              : status == 404                  ? MSP_ROW_TOOL_UNKNOWN
                                               : MSP_ROW_UNEXPECTED_STATUS;
        parts[n++] = span(st);
        parts[n++] = span(code ? " " : "");
        parts[n++] = code_sp;
        parts[n++] = span("): ");
        parts[n++] = msg;
    }
    if (codebuf && codelen)
        snprintf(codebuf, codelen, "%.*s", (int)(code_n < 256 ? code_n : 256),
                 code ? code : "");
    if (rc == MSP_OK)
        rc = Msp_result_fill(res, row, 0, "", 0, parts, n);
    free(code);
    free(message);
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

/* Room for any result serialised: 6 bytes per byte of out and err at
 * worst, plus the fixed text. */
#define JSON_OUT_MAX ((size_t)-1 / 8)

char *msp_result_to_json(const msp_result *r)
{
    if (!r)
        return NULL;
    msp_buf b;
    char head[48];
    msp_buf_init(&b, JSON_OUT_MAX);
    snprintf(head, sizeof head, "{\"exit_code\":%d,\"stdout\":", r->exit_code);
    if (msp_buf_append(&b, head, strlen(head)) ||
        msp_buf_append_json(&b, r->out ? r->out : "",
                            r->out ? r->out_len : 0) ||
        msp_buf_append_lit(&b, ",\"stderr\":") ||
        msp_buf_append_json(&b, r->err ? r->err : "",
                            r->err ? r->err_len : 0) ||
        msp_buf_append_lit(&b, "}")) {
        msp_buf_free(&b);
        return NULL;
    }
    return b.data;
}

char *msp_result_to_command_result(const msp_result *r, const char *command_id)
{
    if (!r || !command_id)
        return NULL;
    msp_buf b;
    char num[32];
    const char *out = r->out ? r->out : "", *err = r->err ? r->err : "";
    size_t out_len = r->out ? r->out_len : 0, err_len = r->err ? r->err_len : 0;
    int fail;
    msp_buf_init(&b, JSON_OUT_MAX);
    fail =
        msp_buf_append_lit(&b, "{\"type\":\"CommandResult\",\"command_id\":") ||
        msp_buf_append_json(&b, command_id, strlen(command_id));
    if (!fail && r->exit_code == 0) {
        fail =
            msp_buf_append_lit(&b, ",\"lifecycle_state\":\"completed\","
                                   "\"error\":null,\"payload\":{\"stdout\":") ||
            msp_buf_append_json(&b, out, out_len) ||
            msp_buf_append_lit(&b, ",\"stderr\":") ||
            msp_buf_append_json(&b, err, err_len) ||
            msp_buf_append_lit(&b, ",\"exit_code\":0}}");
    } else if (!fail) {
        /* the message is one JSON string: "tool exited with N: " + stderr */
        msp_buf msg;
        msp_buf_init(&msg, JSON_OUT_MAX);
        int n =
            snprintf(num, sizeof num, "tool exited with %d: ", r->exit_code);
        fail = msp_buf_append(&msg, num, (size_t)n) ||
               (err_len && msp_buf_append(&msg, err, err_len)) ||
               msp_buf_append_lit(&b, ",\"lifecycle_state\":\"failed\","
                                      "\"payload\":null,\"error\":{\"code\":"
                                      "\"SANDBOX_TOOL_ERROR\",\"message\":") ||
               msp_buf_append_json(&b, msg.data, msg.len) ||
               msp_buf_append_lit(&b, "}}");
        msp_buf_free(&msg);
    }
    if (fail) {
        msp_buf_free(&b);
        return NULL;
    }
    return b.data;
}
