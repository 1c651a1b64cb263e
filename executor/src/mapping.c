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

/*
 * Row 6 keeps NUL bytes. cJSON decodes "\u0000" into its NUL-terminated
 * valuestring, so a tool's stdout "a\u0000b" would come out as "a". When
 * the body holds that escape, stdout and stderr are decoded again from the
 * raw text by the small scanner below; it runs only on a body cJSON has
 * already accepted as JSON, so it needs no error handling of its own.
 */
static int has_nul_escape(const char *p, size_t len)
{
    const char *e = p + len;
    while ((p = memchr(p, '\\', (size_t)(e - p))) != NULL) {
        if (e - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
            return 1;
        p += (e - p >= 2) ? 2 : 1; /* skip the escaped character */
        if (p >= e)
            break;
    }
    return 0;
}

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at an opening quote: just past the closing one. */
static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p < e ? p + 1 : e;
}

/* Past one value of any kind. */
static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;
    while (p < e) {
        if (*p == '"') {
            p = skip_string(p, e);
            if (depth == 0)
                return p;
            continue;
        }
        if (*p == '{' || *p == '[') {
            depth++;
        } else if (*p == '}' || *p == ']') {
            if (depth == 0)
                return p;
            if (--depth == 0)
                return p + 1;
        } else if (*p == ',' && depth == 0) {
            return p;
        }
        p++;
    }
    return e;
}

/* Four hex digits; like cJSON, which accepts "\u" with a non-hex digit
 * and reads it as U+0000, any bad digit gives 0. */
static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        if (c >= '0' && c <= '9')
            v = v * 16 + (unsigned)(c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v = v * 16 + (unsigned)((c | 0x20) - 'a' + 10);
        else
            return 0;
    }
    return v;
}

/* p at an opening quote: decodes the string into out (room for the raw
 * length is enough) and returns the decoded length. */
static size_t decode_string(const char *p, const char *e, char *out)
{
    size_t n = 0;
    for (p++; p < e && *p != '"'; p++) {
        if (*p != '\\') {
            out[n++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp = hex4(p + 1);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - p >= 7 && p[1] == '\\' && p[2] == 'u') {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(p + 3) - 0xDC00);
                p += 6;
            }
            if (cp < 0x80) {
                out[n++] = (char)cp;
            } else if (cp < 0x800) {
                out[n++] = (char)(0xC0 | (cp >> 6));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[n++] = (char)(0xE0 | (cp >> 12));
                out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[n++] = (char)(0xF0 | (cp >> 18));
                out[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                out[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: out[n++] = *p; break; /* " \ / */
        }
    }
    return n;
}

/* The first member NAME of the top-level object, when it is a string,
 * decoded with its NUL bytes into a new block. 0: found; 1: absent or not
 * a string; MSP_ERR_NOMEM. */
static int raw_string_member(const char *body, size_t len, const char *name,
                             char **out, size_t *out_len)
{
    const char *p = skip_ws(body, body + len), *e = body + len;
    size_t nlen = strlen(name);

    if (p >= e || *p != '{')
        return 1;
    p = skip_ws(p + 1, e);
    while (p < e && *p == '"') {
        const char *key = p, *val;
        p = skip_ws(skip_string(p, e), e); /* at ':' */
        val = skip_ws(p + 1, e);
        /* member names are short: compare the decoded name */
        char kbuf[64];
        size_t klen = (size_t)(p - key) <= sizeof kbuf ? decode_string(key, p, kbuf) : SIZE_MAX;
        if (klen == nlen && memcmp(kbuf, name, nlen) == 0) {
            if (val >= e || *val != '"')
                return 1;
            const char *end = skip_string(val, e);
            char *buf = malloc((size_t)(end - val) + 1);
            if (!buf)
                return MSP_ERR_NOMEM;
            *out_len = decode_string(val, end, buf);
            *out = buf;
            return 0;
        }
        p = skip_ws(skip_value(val, e), e);
        if (p < e && *p == ',')
            p = skip_ws(p + 1, e);
    }
    return 1;
}

/* Row 6: the tool's stdout and stderr, NUL bytes included. */
static int map_tool_result(const cJSON *j, int code, const char *body,
                           size_t len, msp_result *res)
{
    msp_span err = span(string_member(j, "stderr"));
    msp_span out = span(string_member(j, "stdout"));
    char *raw_out = NULL, *raw_err = NULL;
    int rc = MSP_OK;

    if (has_nul_escape(body, len)) {
        size_t n;
        if (out.p && (rc = raw_string_member(body, len, "stdout", &raw_out, &n)) == 0)
            out = (msp_span){raw_out, n};
        if (rc >= 0 && err.p && (rc = raw_string_member(body, len, "stderr", &raw_err, &n)) == 0)
            err = (msp_span){raw_err, n};
    }
    if (rc >= 0)
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
    } else {
        char *json = cJSON_PrintUnformatted(j);
        rc = json ? Msp_result_fill(res, 8, 0, json, strlen(json), NULL, 0)
                  : MSP_ERR_NOMEM;
        cJSON_free(json);
    }
    cJSON_Delete(j);
    return rc;
}

static int map_error(long status, const char *body, size_t len,
                     msp_result *res, char *codebuf, size_t codelen)
{
    cJSON *j = parse_whole(body, len);
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *code = cJSON_IsObject(error) ? string_member(error, "code") : NULL;
    const char *message = cJSON_IsObject(error) ? string_member(error, "message") : NULL;
    msp_span msg = message ? span(message) : (msp_span){body, len};
    msp_span raw = {body, len};
    char st[24];
    snprintf(st, sizeof st, "%ld", status);
    msp_span code_parts[] = {span(st), span(code ? " " : ""), span(code), span("): ")};
    msp_span parts[5];
    size_t n = 0;
    int row;

    if (status == 400 && code && strcmp(code, "IDEMPOTENCY_CORRELATION_MISMATCH") == 0) {
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
        Msp_buf_append_json_string(&b, r->out ? r->out : "", r->out ? r->out_len : 0, lim) ||
        Msp_buf_append(&b, ",\"stderr\":", 10, lim) ||
        Msp_buf_append_json_string(&b, r->err ? r->err : "", r->err ? r->err_len : 0, lim) ||
        Msp_buf_append(&b, "}", 1, lim)) {
        Msp_buf_free(&b);
        return NULL;
    }
    return b.data;
}
