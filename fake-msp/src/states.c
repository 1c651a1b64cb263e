/*
 * states.c — the provider-state endpoint, POST /__admin/provider-states.
 *
 * The body is the Pact provider-state convention, {"state": NAME,
 * "params": {...}, "action": "setup"|"teardown"} (what `pact verifier
 * --state-change-url` and `msp-contract provider --state-url` send); the
 * reply is 200 with a JSON object. Every state the bundled fixtures name is
 * known here; teardown restores what setup changed. An unknown state is
 * 400 UNKNOWN_STATE, so a misspelt state never passes silently; a name
 * with a NUL or a control byte is 400 VALIDATION.
 *
 * So that `pact verifier --state-change-url http://FAKE/__admin/provider-
 * states` works against a fake started with no options, this endpoint also
 * answers what an exported pact asks (docs/pact.md): the state `a credential
 * of role R` (params {"role": R}) with {"authorization": "Bearer <the
 * built-in key of R>"}, the empty name (an interaction without a state)
 * with 200, and every setup with a fresh UUIDv4 "commandId". POST
 * /__admin/reset tears every state down (fm_states_reset).
 *
 * A state setup that follows a request outside /__admin/ starts a new
 * interaction (the verifier sets up all of an interaction's states, then
 * sends its request): it first tears down what an earlier interaction left
 * set up, so the verifier passes without --state-change-teardown too (else
 * "the MSP is unavailable" would answer 503 to every later interaction),
 * whatever the order of an interaction's states (a credential state named
 * after "the MSP is unavailable" no longer ends it).
 */
#include "server.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "executor/msp_util.h"

#define ROLE_STATE "a credential of role "

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

void fm_states_reset(fake_msp *fm)
{
    atomic_store(&fm->unavailable, 0);
    if (fm->rl)
        fm_ratelimit_set(fm->rl, fm->rate_limit_default);
}

/* 1 when a request outside /__admin/ came since the last state setup:
 * this setup is the first of a new interaction. */
static int new_interaction(fake_msp *fm)
{
    unsigned long now = atomic_load(&fm->api_requests);
    return atomic_exchange(&fm->states_at, now) != now;
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
    msp_buf b;
    msp_buf_init(&b, FM_REPLY_MAX);
    size_t i, len;
    char *body;
    msp_buf_append_str(&b, "{\"states\":[");
    for (i = 0; i < sizeof states / sizeof states[0]; i++) {
        if (i)
            msp_buf_append_str(&b, ",");
        msp_buf_append_json(&b, states[i].name, strlen(states[i].name));
    }
    msp_buf_append_str(&b, "]}");
    body = msp_buf_take(&b, &len);
    return fm_queue_json(c, 200, body, len);
}

/* 1 when name[0..len) has no NUL and no control byte (C0, DEL). */
static int printable_name(const char *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == 0x7f)
            return 0;
    }
    return 1;
}

/* The role of "a credential of role R": params.role, which must agree with
 * the name's R when both are given. NULL with msg when neither names a
 * known role. */
static const mspf_role *credential_role(const char *name, const cJSON *params,
                                        char *msg, size_t msglen)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, "role");
    const char *in_name = name + strlen(ROLE_STATE);
    const char *role = in_name;
    const mspf_role *r;
    if (p) {
        if (!cJSON_IsString(p) ||
            (*in_name && strcmp(p->valuestring, in_name) != 0)) {
            snprintf(msg, msglen,
                     "params.role must be the role the state names (%.100s)",
                     in_name);
            return NULL;
        }
        role = p->valuestring;
    }
    r = mspf_role_find(role);
    if (!r)
        snprintf(msg, msglen, "no such credential role: %.100s", role);
    return r;
}

enum MHD_Result fm_states_handle(fake_msp *fm, struct MHD_Connection *c,
                                 const char *method, const fm_req *r)
{
    const cJSON *state, *params, *action;
    const mspf_role *role = NULL;
    mspf_json *jd = NULL;
    const cJSON *doc;
    size_t name_len = 0;
    char id[MSP_UUID_BUF_SIZE];
    char msg[300] = "";
    msp_buf b;
    msp_buf_init(&b, FM_REPLY_MAX);
    size_t i, len;
    int setup, rc;
    char *body;

    if (strcmp(method, "GET") == 0)
        return list_states(c);
    if (strcmp(method, "POST") != 0)
        return fm_queue_error(c, 405, "METHOD_NOT_ALLOWED",
                              "Method not allowed on this endpoint");
    /* parsed keeping each string's length, so that a \u0000 is seen */
    if (!r->too_large && r->body.data &&
        mspf_json_parse(r->body.data, r->body.len, &jd) != 0)
        jd = NULL;
    doc = jd ? mspf_json_root(jd) : NULL;
    state = cJSON_GetObjectItemCaseSensitive(doc, "state");
    params = cJSON_GetObjectItemCaseSensitive(doc, "params");
    action = cJSON_GetObjectItemCaseSensitive(doc, "action");
    if (!cJSON_IsString(state) || (params && !cJSON_IsObject(params)) ||
        (action && !cJSON_IsString(action)) ||
        (action && strcmp(action->valuestring, "setup") != 0 &&
         strcmp(action->valuestring, "teardown") != 0)) {
        mspf_json_free(jd);
        return fm_queue_error(
            c, 400, "VALIDATION",
            "want {\"state\": NAME, \"params\": {...}, \"action\": "
            "\"setup\"|\"teardown\"}");
    }
    const char *name = mspf_json_string(jd, state, &name_len);
    if (!name || !printable_name(name, name_len)) {
        mspf_json_free(jd);
        return fm_queue_error(c, 400, "VALIDATION",
                              "a state name has no NUL and no control byte");
    }
    /* Pact sends no action for a plain setup call */
    setup = !action || strcmp(action->valuestring, "setup") == 0;
    if (setup && msp_uuid4(id) != 0) {
        mspf_json_free(jd);
        return fm_queue_error(c, 500, "INTERNAL",
                              "no randomness for a command id");
    }
    if (setup && new_interaction(fm))
        fm_states_reset(fm);
    for (i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(states[i].name, name) == 0)
            break;
    if (i < sizeof states / sizeof states[0]) {
        rc = states[i].fn(fm, params, setup, msg, sizeof msg);
    } else if (strncmp(name, ROLE_STATE, strlen(ROLE_STATE)) == 0) {
        role = credential_role(name, params, msg, sizeof msg);
        rc = role ? 0 : -1;
    } else if (*name) { /* "": the verifier's call for no state */
        snprintf(msg, sizeof msg, "no such provider state: %.200s", name);
        mspf_json_free(jd);
        return fm_queue_error(c, 400, "UNKNOWN_STATE", msg);
    } else {
        rc = 0;
    }
    if (rc != 0) {
        mspf_json_free(jd);
        return fm_queue_error(c, 400, "VALIDATION", msg);
    }
    msp_buf_append_str(&b, "{\"state\":");
    msp_buf_append_json(&b, name, name_len); /* name lives in jd */
    mspf_json_free(jd);
    msp_buf_append_str(&b, setup ? ",\"action\":\"setup\""
                                 : ",\"action\":\"teardown\"");
    if (setup) {
        /* the values an exported pact's ProviderState generators read */
        if (role) {
            char value[300]; /* a built-in key: not a secret */
            snprintf(value, sizeof value, "Bearer %s", role->default_key);
            msp_buf_append_str(&b, ",\"authorization\":");
            msp_buf_append_json(&b, value, strlen(value));
        }
        msp_buf_printf(&b, ",\"commandId\":\"%s\"", id);
    }
    msp_buf_append_str(&b, "}");
    body = msp_buf_take(&b, &len);
    return fm_queue_json(c, 200, body, len);
}
