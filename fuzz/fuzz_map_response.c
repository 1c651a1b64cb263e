/*
 * fuzz_map_response.c — libFuzzer target for msp_map_response(), the pure
 * (status, body) → result mapping of exit-table rows 6..14.
 *
 * Input: the first 2 bytes, big-endian, modulo 1000, are the HTTP status;
 * the rest is the body. Besides the sanitizers, every result is checked
 * against the exit table: the row agrees with the status, the exit code
 * and the stderr prefix come from that row, stdout/stderr are empty where
 * the contract says so, and the JSON form of the result parses back with
 * the same exit code. A broken invariant aborts (a crash for libFuzzer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <executor/msp_executor.h>

#include "fuzz_check.h"

/* Row 6: stdout and stderr agree with cJSON's reading of the member up to
 * its first NUL byte (cJSON stops there; the mapping keeps the rest).
 * cJSON is the oracle only where it accepts the body: it refuses some
 * JSON the mapping takes (lone surrogate escapes, nesting past 1000). */
static void check_tool_streams(const char *body, size_t len,
                               const msp_result *r)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (!j)
        return;
    const cJSON *out = cJSON_GetObjectItemCaseSensitive(j, "stdout");
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "stderr");
    const char *o = cJSON_IsString(out) ? out->valuestring : "";
    const char *e = cJSON_IsString(err) ? err->valuestring : "";
    CHECK(strlen(r->out) == strlen(o) && memcmp(r->out, o, strlen(o)) == 0);
    CHECK(strlen(r->err) == strlen(e) && memcmp(r->err, e, strlen(e)) == 0);
    CHECK(r->out_len >= strlen(o) && r->err_len >= strlen(e));
    cJSON_Delete(j);
}

/* The row the contract requires for a status, or 0 when the body decides
 * (200: rows 6..9; 400: row 10 or 14). */
static int row_for_status(long status)
{
    if (status == 200 || status == 400)
        return 0;
    if (status == 401 || status == 403)
        return 11;
    if (status == 404)
        return 12;
    if (status >= 500 && status <= 599)
        return 13;
    return 14;
}

static void check_json_form(const msp_result *r)
{
    char *json = msp_result_to_json(r);
    CHECK(json != NULL);
    cJSON *doc = cJSON_Parse(json);
    CHECK(doc != NULL);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "exit_code");
    CHECK(cJSON_IsNumber(code) && code->valuedouble == (double)r->exit_code);
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "stdout")));
    CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, "stderr")));
    cJSON_Delete(doc);
    free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    long status = (long)(((unsigned)data[0] << 8 | data[1]) % 1000u);
    const char *body = (const char *)data + 2;
    size_t body_len = size - 2;

    msp_result r;
    memset(&r, 0xA5, sizeof r); /* written only on success: poison it */
    CHECK(msp_map_response(status, body, body_len, &r) == 0);

    CHECK(r.out != NULL && r.err != NULL);
    CHECK(r.out[r.out_len] == '\0' && r.err[r.err_len] == '\0');
    CHECK(r.row >= 6 && r.row <= MSP_EXIT_ROWS);
    const msp_exit_row *row = &msp_exit_table()[r.row - 1];
    CHECK(row->row == r.row);
    if (r.row != 6)
        CHECK(r.exit_code == row->exit_code);
    size_t plen = strlen(row->stderr_prefix);
    CHECK(r.err_len >= plen && memcmp(r.err, row->stderr_prefix, plen) == 0);

    int want = row_for_status(status);
    if (want)
        CHECK(r.row == want);
    else if (status == 200)
        CHECK(r.row >= 6 && r.row <= 9);
    else
        CHECK(r.row == 10 || r.row == 14);

    if (r.row == 7 || r.row >= 10)
        CHECK(r.out_len == 0);
    if (r.row == 8 || r.row == 9)
        CHECK(r.err_len == 0 && r.exit_code == 0);
    if (r.row == 9)
        CHECK(r.out_len == body_len && memcmp(r.out, body, body_len) == 0);
    if (r.row == 6)
        check_tool_streams(body, body_len, &r);
    if (r.row == 8) { /* compacted as written: still JSON, and a fixpoint */
        msp_result again;
        CHECK(msp_map_response(200, r.out, r.out_len, &again) == 0);
        CHECK(again.row == 8 && again.out_len == r.out_len &&
              memcmp(again.out, r.out, r.out_len) == 0);
        msp_result_free(&again);
    }

    check_json_form(&r);
    msp_result_free(&r);
    CHECK(r.out == NULL && r.err == NULL);
    return 0;
}
