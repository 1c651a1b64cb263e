/*
 * states.c — the provider-state endpoint, POST /__admin/provider-states.
 *
 * The body is the Pact provider-state convention, {"state": NAME,
 * "params": {...}, "action": "setup"|"teardown"} (what `pact verifier
 * --state-change-url` and `msp-contract provider --state-url` send); the
 * reply is 200 with a JSON object. Every state the bundled fixtures name is
 * known here; teardown restores what setup changed. An unknown state is
 * 400 UNKNOWN_STATE, so a misspelt state never passes silently.
 */
#include "server.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

/* What a state does; `setup` 0 is teardown. Returns 0, or -1 with msg. */
typedef int (*state_fn)(fake_msp *fm, const cJSON *params, int setup, char *msg,
                        size_t msglen);

/* Data the fake always has (agent-001, its processes, pid 1 protected, the
 * built-in credential roles): nothing to change. */
static int nothing(fake_msp *fm, const cJSON *params, int setup, char *msg,
                   size_t msglen)
{
    (void)fm;
    (void)params;
    (void)setup;
    (void)msg;
    (void)msglen;
    return 0;
}

/* params {"per_minute": N} (default 1): the tenant's limit for the fixture. */
static int low_rate_limit(fake_msp *fm, const cJSON *params, int setup,
                          char *msg, size_t msglen)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(params, "per_minute");
    long per_min = 1;
    if (!setup) {
        fm_ratelimit_set(fm->rl, fm->rate_limit_default);
        return 0;
    }
    if (n) {
        if (!cJSON_IsNumber(n) || n->valuedouble < 1 ||
            n->valuedouble > 1000000) {
            snprintf(msg, msglen, "params.per_minute wants 1..1000000");
            return -1;
        }
        per_min = (long)n->valuedouble;
    }
    fm_ratelimit_set(fm->rl, per_min);
    return 0;
}

static int unavailable(fake_msp *fm, const cJSON *params, int setup, char *msg,
                       size_t msglen)
{
    (void)params;
    (void)msg;
    (void)msglen;
    atomic_store(&fm->unavailable, setup);
    return 0;
}

static const struct {
    const char *name;
    state_fn fn;
} states[] = {
    {"agent-001 runs a process with pid 4242", nothing},
    {"pid 1 on agent-001 may not be killed", nothing},
    {"the tenant's rate limit is low", low_rate_limit},
    {"the MSP is unavailable", unavailable},
};

static enum MHD_Result list_states(struct MHD_Connection *c)
{
    fm_buf b;
    fm_buf_init(&b, FM_REPLY_MAX);
    size_t i, len;
    char *body;
    fm_buf_adds(&b, "{\"states\":[");
    for (i = 0; i < sizeof states / sizeof states[0]; i++) {
        if (i)
            fm_buf_adds(&b, ",");
        fm_buf_json_str(&b, states[i].name, strlen(states[i].name));
    }
    fm_buf_adds(&b, "]}");
    body = fm_buf_take(&b, &len);
    return fm_queue_json(c, 200, body, len);
}

enum MHD_Result fm_states_handle(fake_msp *fm, struct MHD_Connection *c,
                                 const char *method, const fm_req *r)
{
    const cJSON *state, *params, *action;
    cJSON *doc;
    char msg[300] = "";
    fm_buf b;
    fm_buf_init(&b, FM_REPLY_MAX);
    size_t i, len;
    int setup, rc;
    char *body;

    if (strcmp(method, "GET") == 0)
        return list_states(c);
    if (strcmp(method, "POST") != 0)
        return fm_queue_error(c, 405, "METHOD_NOT_ALLOWED",
                              "Method not allowed on this endpoint");
    doc = r->too_large || !r->body.p
              ? NULL
              : cJSON_ParseWithLength(r->body.p, r->body.len);
    state = cJSON_GetObjectItemCaseSensitive(doc, "state");
    params = cJSON_GetObjectItemCaseSensitive(doc, "params");
    action = cJSON_GetObjectItemCaseSensitive(doc, "action");
    if (!cJSON_IsString(state) || (params && !cJSON_IsObject(params)) ||
        (action && !cJSON_IsString(action)) ||
        (action && strcmp(action->valuestring, "setup") != 0 &&
         strcmp(action->valuestring, "teardown") != 0)) {
        cJSON_Delete(doc);
        return fm_queue_error(
            c, 400, "VALIDATION",
            "want {\"state\": NAME, \"params\": {...}, \"action\": "
            "\"setup\"|\"teardown\"}");
    }
    /* Pact sends no action for a plain setup call */
    setup = !action || strcmp(action->valuestring, "setup") == 0;
    for (i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(states[i].name, state->valuestring) == 0)
            break;
    if (i == sizeof states / sizeof states[0]) {
        snprintf(msg, sizeof msg, "no such provider state: %.200s",
                 state->valuestring);
        cJSON_Delete(doc);
        return fm_queue_error(c, 400, "UNKNOWN_STATE", msg);
    }
    rc = states[i].fn(fm, params, setup, msg, sizeof msg);
    cJSON_Delete(doc);
    if (rc != 0)
        return fm_queue_error(c, 400, "VALIDATION", msg);
    fm_buf_adds(&b, "{\"state\":");
    fm_buf_json_str(&b, states[i].name, strlen(states[i].name));
    fm_buf_adds(&b,
                setup ? ",\"action\":\"setup\"}" : ",\"action\":\"teardown\"}");
    body = fm_buf_take(&b, &len);
    return fm_queue_json(c, 200, body, len);
}
