/*
 * fuzz_admin_fixture.c — libFuzzer target for what POST and PUT
 * /__admin/fixtures do with a request body: the fixture parsed within what
 * is left of the fixture memory budget (mspf_fixture_parse_within), added
 * to or replacing a fixture in the registry of a running fake
 * (fm_fx_add / fm_fx_replace), listed (fm_fx_to_json), matched, and
 * removed again; plus the door's strict JSON walk of the same bytes
 * (fm_json_strict: duplicate members, NUL).
 *
 * Input: one byte choosing POST (even) or PUT (odd), then the body.
 * Checked besides the sanitizers: a refusal has a path and a reason; an
 * accepted fixture fits the budget; the listing is JSON; after the removal
 * the registry is empty and holds no bytes beyond what is buried; the
 * walker's message is non-empty exactly when it refuses. The registry's
 * budget is 4 MiB, so no input can make the target hold more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fixtures.h"
#include "strict.h"
#include "fuzz_check.h"

#define BUDGET (4u * 1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fx_registry *reg;
    mspf_fixture *f = NULL;
    mspf_error err;
    char msg[300];
    const char *body;
    size_t len;
    msp_buf b;
    cJSON *doc;
    int put;

    if (size < 1 || size > 1024 * 1024 + 1)
        return 0;
    if (!reg) {
        reg = fm_fx_new(100, BUDGET);
        CHECK(reg != NULL);
        fm_fx_started(reg);
    }
    put = data[0] & 1;
    body = (const char *)data + 1;
    len = size - 1;

    msg[0] = '\0';
    if (fm_json_strict(body, len, msg, sizeof msg) != 0)
        CHECK(msg[0] != '\0');

    memset(&err, 0, sizeof err);
    if (mspf_fixture_parse_within(body, len, NULL, fm_fx_budget_left(reg), &f,
                                  &err) != 0) {
        CHECK(f == NULL);
        CHECK(err.path[0] != '\0' && err.reason[0] != '\0');
        return 0;
    }
    CHECK(mspf_fixture_bytes(f) > 0);
    memset(&err, 0, sizeof err);
    if ((put ? fm_fx_replace(reg, f, &err) : fm_fx_add(reg, f, &err)) < 0) {
        CHECK(err.reason[0] != '\0');
        mspf_fixture_free(f);
        return 0;
    }
    CHECK(fm_fx_count(reg) == 1);
    msp_buf_init(&b, FM_REPLY_MAX);
    fm_fx_to_json(reg, &b);
    CHECK(!b.failed);
    doc = cJSON_ParseWithLength(b.data, b.len);
    CHECK(doc != NULL);
    cJSON_Delete(doc);
    free(b.data);
    {
        mspf_request req = {"POST", "/api/v1/god-mode/execute",  NULL,
                            0,      (const unsigned char *)"{}", 2};
        const mspf_fixture *hit = NULL;
        if (fm_fx_match(reg, &req, NULL, &hit))
            fm_fx_release(reg);
    }
    CHECK(fm_fx_remove(reg, f->name) == 0);
    CHECK(fm_fx_count(reg) == 0);
    CHECK(fm_fx_budget_left(reg) == BUDGET); /* nothing in flight: freed */
    return 0;
}
