/*
 * fuzz_json_string.c — libFuzzer target for msp_json_string_decode(), the
 * one JSON string decoder, and msp_json_fffd_lone_surrogates(), its helper
 * for cJSON.
 *
 * Input: the bytes after a '"' the target adds (so most inputs are string
 * literals). Checked on every input: a literal read ends at a '"' inside
 * the input, its decoded form is never longer than it, measuring alone
 * gives the same answer, a cut output is the prefix of the whole one, and
 * the lone-surrogate rewrite keeps the length and decodes to the same
 * bytes (it only respells what the rule reads as U+FFFD).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <executor/msp_util.h>

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size + 1, used, len, used2, len2;
    char *lit = malloc(n), *out = malloc(n), *cut = malloc(n), *copy;
    if (!lit || !out || !cut)
        abort();
    lit[0] = '"';
    if (size)
        memcpy(lit + 1, data, size);
    int rc = msp_json_string_decode(lit, n, &used, out, n, &len, 0);
    if (rc == 0) {
        CHECK(used >= 2 && used <= n && lit[used - 1] == '"');
        CHECK(len <= used - 2);
        CHECK(msp_json_string_decode(lit, n, &used2, NULL, 0, &len2, 0) == 0);
        CHECK(used2 == used && len2 == len);
        size_t cap = len / 2;
        CHECK(msp_json_string_decode(lit, n, &used2, cut, cap, &len2, 0) == 0);
        CHECK(len2 == len && memcmp(cut, out, cap) == 0);
        CHECK((msp_json_string_decode(lit, n, &used2, NULL, 0, &len2,
                                      MSP_JSON_STR_NO_NUL) ==
               MSP_JSON_STR_ENUL) == (memchr(out, '\0', len) != NULL));
        copy = malloc(used);
        if (!copy)
            abort();
        memcpy(copy, lit, used);
        (void)msp_json_fffd_lone_surrogates(copy, used);
        CHECK(msp_json_string_decode(copy, used, &used2, cut, n, &len2, 0) ==
              0);
        CHECK(used2 == used && len2 == len && memcmp(cut, out, len) == 0);
        free(copy);
    } else {
        CHECK(rc == MSP_JSON_STR_ECUT || rc == MSP_JSON_STR_ECONTROL ||
              rc == MSP_JSON_STR_EESCAPE);
    }
    free(lit);
    free(out);
    free(cut);
    return 0;
}
