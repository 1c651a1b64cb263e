/*
 * fixture_text.h — a complete fixture used as the base of the model tests,
 * and a helper that parses it with one member changed or removed.
 */
#ifndef MSPF_TEST_FIXTURE_TEXT_H
#define MSPF_TEST_FIXTURE_TEXT_H

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <contracts/fixture.h>

#define BASE_FIXTURE                                                           \
    "{\"name\":\"base\",\"description\":\"a complete "                         \
    "fixture\",\"tags\":[\"t1\",\"t2\"],"                                      \
    "\"exit_row\":6,"                                                          \
    "\"executor\":{\"api_key\":\"sk-test\",\"auth_mode\":\"jwt\",\"default_"   \
    "timeout_ms\":500,"                                                        \
    "\"target\":\"fake\"},"                                                    \
    "\"context\":{\"command_id\":\"11111111-2222-4333-8444-555555555555\","    \
    "\"tool\":\"msp.process_kill\",\"params\":{\"agent_id\":\"agent-001\","    \
    "\"pid\":42},"                                                             \
    "\"deadline_ms\":1000,\"correlation_id\":\"corr-1\"},"                     \
    "\"repeat\":2,"                                                            \
    "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/execute\","  \
    "\"headers\":{\"Authorization\":\"Bearer sk-test\","                       \
    "\"X-Brainstorm-Command-Id\":\"11111111-2222-4333-8444-555555555555\","    \
    "\"Idempotency-Key\":{\"same_as\":\"X-Brainstorm-Command-Id\"},"           \
    "\"Content-Type\":{\"regex\":\"^application/json\"},"                      \
    "\"X-Correlation-Id\":\"corr-1\"},"                                        \
    "\"body\":{\"tool\":\"msp.process_kill\",\"params\":{\"agent_id\":"        \
    "\"agent-001\","                                                           \
    "\"pid\":{\"type\":1}},\"simulate\":false}},"                              \
    "\"response\":{\"status\":200,\"headers\":{\"X-Trace\":\"t-1\"},"          \
    "\"body\":{\"exit_code\":0,\"stdout\":\"ok\\n\",\"stderr\":\"\"},\"delay_" \
    "ms\":5,\"fault\":null},"                                                  \
    "\"expect\":{\"exit_code\":0,\"stdout\":\"ok\\n\",\"stderr\":{\"regex\":"  \
    "\"^$\"},"                                                                 \
    "\"max_ms\":1000,\"row\":6},"                                              \
    "\"provider\":{\"verify\":true,\"state\":\"agent-001 runs pid 42\","       \
    "\"match\":{\"status\":\"exact\",\"body\":\"type\"}}}"

/* Parses BASE_FIXTURE after applying `n` edits: edits[2i] is a dotted
 * member path (e.g. "response.fault"), edits[2i+1] its new JSON value, or
 * NULL to delete it. Returns mspf_fixture_parse()'s result. */
static inline int parse_edits(const char *const *edits, size_t n,
                              mspf_fixture **out, mspf_error *err)
{
    cJSON *doc = cJSON_Parse(BASE_FIXTURE);
    char *text;
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        cJSON *obj = doc;
        char buf[256], *key, *next;
        strncpy(buf, edits[2 * i], sizeof(buf) - 1);
        buf[sizeof(buf) - 1] = '\0';
        key = buf;
        while ((next = strchr(key, '.')) != NULL) {
            *next = '\0';
            obj = cJSON_GetObjectItemCaseSensitive(obj, key);
            key = next + 1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
        if (edits[2 * i + 1])
            cJSON_AddItemToObject(obj, key, cJSON_Parse(edits[2 * i + 1]));
    }
    text = cJSON_PrintUnformatted(doc);
    rc = mspf_fixture_parse(text, strlen(text), "base.json", out, err);
    cJSON_free(text);
    cJSON_Delete(doc);
    return rc;
}

/* parse_edits() with one edit. */
static inline int parse_mutated(const char *path, const char *value,
                                mspf_fixture **out, mspf_error *err)
{
    const char *edits[2] = {path, value};
    return parse_edits(edits, 1, out, err);
}

#endif /* MSPF_TEST_FIXTURE_TEXT_H */
