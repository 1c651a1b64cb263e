/*
 * fuzz_fixture_parse.c — libFuzzer target for mspf_fixture_parse(), the
 * contract fixture loader, and for the matchers a loaded fixture carries.
 *
 * Input: the fixture JSON text, not NUL-terminated. A fixture that loads is
 * then exercised the way the harness and the fake use it: its request
 * matcher against a request built from the fixture's own context, its
 * "expect" against a neutral outcome, and its provider check against its
 * own first response. A refused fixture must come with a reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contracts/fixture.h>

#include "fuzz_check.h"

/* A provider-only fixture: each step's expectations against a reply that
 * echoes the step's own request body, earlier steps serving same_as_step. */
static void exercise_steps(const mspf_fixture *f)
{
    const cJSON *steps = mspf_provider_steps(f), *s;
    mspf_header h[1] = {{"Content-Type", "application/json"}};
    mspf_reply replies[MSPF_STEPS_MAX];
    char *bodies[MSPF_STEPS_MAX] = {0};
    size_t i = 0;
    CHECK(f->exit_row == 0 && f->command_id == NULL && steps != NULL);
    CHECK((size_t)cJSON_GetArraySize(steps) == f->n_provider_steps);
    cJSON_ArrayForEach(s, steps)
    {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "request");
        const cJSON *exp = cJSON_GetObjectItemCaseSensitive(s, "expect");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(exp, "status");
        CHECK(req != NULL && exp != NULL && cJSON_IsNumber(st));
        bodies[i] = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(req, "body"));
        replies[i] = (mspf_reply){
            .status = (long)st->valuedouble,
            .headers = h,
            .n_headers = 1,
            .body = (const unsigned char *)(bodies[i] ? bodies[i] : ""),
            .body_len = bodies[i] ? strlen(bodies[i]) : 0};
        mspf_diffs d = {0};
        int ok = mspf_check_step(exp, replies, i + 1, "response", &d);
        CHECK(ok == 1 || d.n > 0);
        mspf_diffs_free(&d);
        i++;
    }
    for (size_t k = 0; k < i; k++)
        cJSON_free(bodies[k]);
}

static void exercise(const mspf_fixture *f)
{
    if (f->n_provider_steps) {
        exercise_steps(f);
        return;
    }
    CHECK(f->name != NULL && f->exit_row >= 1 && f->exit_row <= 14);
    CHECK(f->repeat >= 1);

    mspf_header headers[4] = {
        {"Content-Type", "application/json"},
        {"Authorization", "Bearer sk-test"},
        {"X-Brainstorm-Command-Id", f->command_id ? f->command_id : ""},
        {"Idempotency-Key", f->command_id ? f->command_id : ""},
    };
    char body[512];
    int n = snprintf(
        body, sizeof body, "{\"tool\":\"%s\",\"params\":%s,\"simulate\":false}",
        f->tool ? f->tool : "", f->params_json ? f->params_json : "{}");
    size_t body_len =
        n < 0 ? 0 : ((size_t)n < sizeof body ? (size_t)n : sizeof body - 1);
    mspf_request req = {"POST", "/api/v1/god-mode/execute",  headers,
                        4,      (const unsigned char *)body, body_len};
    mspf_diffs why = {0};
    int matched = mspf_match_request(f, &req, &why);
    CHECK(matched == 0 || matched == 1);
    mspf_diffs_free(&why);

    mspf_outcome o = {0, "", 0, "", 0, 1, NULL, 0};
    mspf_diffs diffs = {0};
    for (int run = 0; run < f->repeat && run < 4; run++) {
        int ok = mspf_check_result(f, run, &o, &diffs);
        CHECK(ok == 1 || diffs.n > 0);
    }
    mspf_diffs_free(&diffs);

    if (f->n_responses > 0) {
        const mspf_response *r = &f->responses[0];
        CHECK(r->body_len == 0 || r->body != NULL);
        mspf_diffs pd = {0};
        int ok =
            mspf_check_provider(f, 0, r->status, r->body, r->body_len, &pd);
        CHECK(ok == 1 || pd.n > 0);
        mspf_diffs_free(&pd);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json =
        malloc(size ? size : 1); /* exact size: reads past len trip ASan */
    if (!json)
        return 0;
    if (size)
        memcpy(json, data, size);
    mspf_fixture *f = NULL;
    mspf_error err;
    memset(&err, 0, sizeof err);
    if (mspf_fixture_parse(json, size, NULL, &f, &err) == 0) {
        CHECK(f != NULL);
        exercise(f);
        mspf_fixture_free(f);
    } else {
        CHECK(f == NULL);
        CHECK(err.reason[0] != '\0');
    }
    free(json);
    return 0;
}
