/*
 * pact_export.c — msp-contract export: the fixtures a provider can replay,
 * written as a Pact Specification V4 pact (one "Synchronous/HTTP"
 * interaction per fixture). docs/pact.md is the mapping, rule by rule; in
 * short:
 *   - an executor-driven fixture (context + request + one response, marked
 *     provider.verify) gives its request with the matchers mapped
 *     (pact_rules.c) and its response compared as provider.match says;
 *   - a provider-only fixture of one step (provider.steps) gives that raw
 *     request and its expectation (status, header rules, body, values);
 *   - the Authorization value becomes a role placeholder with a regex rule
 *     and a ProviderState generator; command ids get ProviderState (an id
 *     sent twice) or Uuid generators, so every run sends fresh ones.
 * Fixtures that cannot be expressed (faults, transport-only, executor-only,
 * scenarios of several steps, rules Pact has no form for) are left out and
 * listed on stderr with the reason.
 */
#include "harness.h"
#include "pact.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <executor/msp_util.h>

#define DEFAULT_CONSUMER "brainstorm-msp-executor"
#define DEFAULT_PROVIDER "msp-god-mode-api"
#define MAX_IDS          32

static const cJSON *member(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

static cJSON *string_array(const char *s)
{
    return cJSON_CreateStringArray((const char *const[]){s}, 1);
}

/* The credential role of an executor-driven fixture: executor.credential,
 * else the role of executor.api_key (NULL: a key no role names). */
static const char *fixture_role(const mspf_fixture *f)
{
    const cJSON *c = member(member(f->doc, "executor"), "credential");
    return cJSON_IsString(c) ? c->valuestring : hx_pact_role_of_key(f->api_key);
}

/* "a credential of role R" {"role": R}, then the fixture's own states
 * (provider.states with their params, or provider.state). */
static void add_states(cJSON *it, const char *role, const cJSON *provider)
{
    cJSON *states = cJSON_AddArrayToObject(it, "providerStates");
    if (role) {
        char name[200];
        snprintf(name, sizeof name, "%s%s", HX_PACT_ROLE_STATE_PREFIX, role);
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "name", name);
        cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "params"), "role",
                                role);
        cJSON_AddItemToArray(states, st);
    }
    const cJSON *many = member(provider, "states");
    const cJSON *one = member(provider, "state");
    const cJSON *s;
    cJSON_ArrayForEach(s, many)
    {
        const cJSON *name = member(s, "name");
        const cJSON *params = member(s, "params");
        if (!cJSON_IsString(name))
            continue;
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "name", name->valuestring);
        if (cJSON_IsObject(params) && params->child)
            cJSON_AddItemToObject(st, "params", cJSON_Duplicate(params, 1));
        cJSON_AddItemToArray(states, st);
    }
    if (!many && cJSON_IsString(one)) {
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "name", one->valuestring);
        cJSON_AddItemToArray(states, st);
    }
}

/* The role placeholder for Authorization, its rule and its generator. */
static void authorization(hx_pact_build *x, cJSON *headers, const char *name,
                          const char *role)
{
    char ph[160];
    snprintf(ph, sizeof ph, "Bearer <role:%s>", role);
    cJSON_AddItemToObject(headers, name, string_array(ph));
    hx_pact_add_rule(x->header_rules, name,
                     hx_pact_rule("regex", "^Bearer .+$"));
    cJSON_AddItemToObject(x->header_gens, name,
                          hx_pact_state_generator(HX_PACT_AUTH_VALUE));
}

/* One request header of an executor-driven fixture: its example (none when
 * absent), rule and generator. `all` is the fixture's header object (for
 * same_as). */
static int header_value(hx_pact_build *x, const cJSON *all, const cJSON *h,
                        const char *role, int depth, cJSON *headers,
                        const char *name)
{
    const mspf_fixture *f = x->f;
    const char *m = hx_pact_matcher_of(h);
    if (strcasecmp(name, "Authorization") == 0) {
        authorization(x, headers, name, role); /* never a key in a pact */
        return 0;
    }
    if (m && strcmp(m, "absent") == 0)
        return 0;
    if (m && strcmp(m, "same_as") == 0) {
        const cJSON *target = cJSON_IsString(h->child)
                                  ? member(all, h->child->valuestring)
                                  : NULL;
        if (!target || depth > 0)
            return hx_pact_fail(x, "same_as of header %s names no plain header",
                                name);
        return header_value(x, all, target, role, depth + 1, headers, name);
    }
    char ex[1024];
    if (m && strcmp(m, "regex") == 0) {
        if (!cJSON_IsString(h->child) ||
            hx_pact_regex_example(h->child->valuestring, ex, sizeof ex) != 0)
            return hx_pact_fail(x, "regex of header %s has no example value",
                                name);
        hx_pact_add_rule(x->header_rules, name,
                         hx_pact_search_rule(h->child->valuestring));
    } else if (m && strcmp(m, "type") == 0 && cJSON_IsString(h->child)) {
        snprintf(ex, sizeof ex, "%s", h->child->valuestring);
        hx_pact_add_rule(x->header_rules, name, hx_pact_rule("type", NULL));
    } else if (m && strcmp(m, "json") == 0 && !hx_pact_has_matcher(h->child)) {
        char *text = cJSON_PrintUnformatted(h->child);
        snprintf(ex, sizeof ex, "%s", text ? text : "");
        cJSON_free(text);
    } else if (!m && cJSON_IsString(h)) {
        snprintf(ex, sizeof ex, "%s", h->valuestring);
        if (x->fresh_ids && f->command_id &&
            strcmp(h->valuestring, f->command_id) == 0)
            cJSON_AddItemToObject(
                x->header_gens, name,
                hx_pact_state_generator(HX_PACT_COMMAND_ID_VALUE));
    } else {
        return hx_pact_fail(x, "header %s: this matcher has no Pact equivalent",
                            name);
    }
    cJSON_AddItemToObject(headers, name, string_array(ex));
    return 0;
}

static int has_fault(const mspf_fixture *f)
{
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].fault.kind != MSPF_FAULT_NONE)
            return 1;
    return 0;
}

/* Why a fixture has no Pact interaction, or NULL when it has one. */
static const char *left_out(const mspf_fixture *f, char *buf, size_t cap)
{
    const cJSON *provider = member(f->doc, "provider");
    const cJSON *steps = member(provider, "steps");
    if (steps) {
        int n = cJSON_GetArraySize(steps);
        if (!f->provider_verify)
            return "provider.verify not set";
        if (n != 1) {
            snprintf(buf, cap,
                     "a scenario of %d steps: Pact interactions are "
                     "independent, and each step builds on the one before",
                     n);
            return buf;
        }
        return NULL;
    }
    if (!f->expects_request)
        return "transport-only: nothing may reach a server (request: null)";
    if (f->target == MSPF_TARGET_CLOSED_PORT)
        return "transport-only: points the executor at a closed port";
    if (has_fault(f)) {
        for (size_t i = 0; i < f->n_responses; i++)
            if (f->responses[i].fault.kind != MSPF_FAULT_NONE)
                snprintf(buf, cap,
                         "fault \"%s\": no HTTP response a Pact can describe",
                         mspf_fault_kind_name(f->responses[i].fault.kind));
        return buf;
    }
    if (f->n_responses == 0)
        return "no scripted response: the server's own behaviour answers "
               "(executor-only)";
    if (!f->provider_verify)
        return "executor-only: provider.verify not set (a reply scripted to "
               "exercise the executor)";
    if (f->n_responses > 1 || f->repeat > 1)
        return "a sequence of runs: a Pact interaction is one request and "
               "one response";
    if (!fixture_role(f))
        return "a literal credential no role names (a pact never carries a "
               "key)";
    /* A rendered JSON body is text: the escape stands as six characters. */
    if (f->responses[0].body &&
        strstr((const char *)f->responses[0].body, "\\u0000"))
        return "a body string holds \\u0000: the pact's JSON writer (cJSON) "
               "would end it at the NUL, so the reply could not be carried "
               "byte for byte";
    return NULL;
}

static const char *response_header(const mspf_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* Attaches x's body rules as response.matchingRules.body (or drops them). */
/* msg's "matchingRules" object, made when it has none (one per message:
 * a second one would be a duplicate key, and a reader keeps only one). */
static cJSON *matching_rules(cJSON *msg)
{
    cJSON *mr = cJSON_GetObjectItemCaseSensitive(msg, "matchingRules");
    return mr ? mr : cJSON_AddObjectToObject(msg, "matchingRules");
}

static void attach_body_rules(hx_pact_build *x, cJSON *msg)
{
    if (x->body_rules->child) {
        cJSON_AddItemToObject(matching_rules(msg), "body", x->body_rules);
        x->body_rules = cJSON_CreateObject();
    }
}

/* The response of an executor-driven fixture, compared as provider.match
 * says. */
static int add_response(hx_pact_build *x, cJSON *inter)
{
    const mspf_fixture *f = x->f;
    const mspf_response *r = &f->responses[0];
    const cJSON *doc = member(f->doc, "response");
    if (!doc)
        doc = cJSON_GetArrayItem(member(f->doc, "responses"), 0);
    const cJSON *match = member(member(f->doc, "provider"), "match");
    const cJSON *pm = member(match, "body");
    const char *how = cJSON_IsString(pm) ? pm->valuestring : "type";
    if (member(doc, "body_repeat"))
        return hx_pact_fail(
            x, "%s", "a generated body (body_repeat) is not a Pact body");

    cJSON *resp = cJSON_AddObjectToObject(inter, "response");
    cJSON_AddNumberToObject(resp, "status", r->status);
    cJSON *hdrs = cJSON_AddObjectToObject(resp, "headers");
    for (size_t i = 0; i < r->n_headers; i++)
        cJSON_AddItemToObject(hdrs, r->headers[i].name,
                              string_array(r->headers[i].value));
    const char *ctype = response_header(r, "Content-Type");
    const cJSON *json = member(doc, "body");
    if (json) {
        const cJSON *code = member(member(json, "error"), "code");
        cJSON *content = NULL;
        if (strcmp(how, "error_code") == 0) {
            content = cJSON_CreateObject();
            if (code)
                cJSON_AddItemToObject(cJSON_AddObjectToObject(content, "error"),
                                      "code", cJSON_Duplicate(code, 1));
        } else {
            content = cJSON_Duplicate(json, 1);
            if (strcmp(how, "type") == 0) {
                hx_pact_add_rule(x->body_rules, "$",
                                 hx_pact_rule("type", NULL));
                if (cJSON_IsString(code))
                    hx_pact_add_rule(x->body_rules, "$.error.code",
                                     hx_pact_rule("equality", NULL));
            }
        }
        if (hx_pact_values(x, &content, member(match, "values")) != 0) {
            cJSON_Delete(content);
            return -1;
        }
        cJSON_AddItemToObject(
            resp, "body",
            hx_pact_v4_body(content, ctype ? ctype : "application/json", 0));
    } else if (r->body_len > 0 && strcmp(how, "exact") == 0) {
        /* A text body is compared only under "exact", as its bytes. */
        const cJSON *b64 = member(doc, "body_base64");
        cJSON *content = b64 ? cJSON_Duplicate(b64, 1)
                             : cJSON_CreateString((const char *)r->body);
        cJSON_AddItemToObject(
            resp, "body",
            hx_pact_v4_body(content, ctype ? ctype : "application/octet-stream",
                            b64 != NULL));
    }
    attach_body_rules(x, resp);
    return 0;
}

/* The parts every interaction has; returns the new interaction. */
static cJSON *new_interaction(const mspf_fixture *f)
{
    cJSON *it = cJSON_CreateObject();
    cJSON_AddStringToObject(it, "type", "Synchronous/HTTP");
    cJSON_AddStringToObject(it, "key", f->name);
    cJSON_AddStringToObject(it, "description", f->name);
    if (f->description)
        cJSON_AddItemToObject(cJSON_AddObjectToObject(it, "comments"), "text",
                              string_array(f->description));
    cJSON_AddFalseToObject(it, "pending");
    return it;
}

/* Moves x's request rules and generators into the request object r. */
static void attach_request_rules(hx_pact_build *x, cJSON *r)
{
    if (x->header_rules->child || x->body_rules->child) {
        cJSON *mr = cJSON_AddObjectToObject(r, "matchingRules");
        if (x->header_rules->child) {
            cJSON_AddItemToObject(mr, "header", x->header_rules);
            x->header_rules = cJSON_CreateObject();
        }
        if (x->body_rules->child) {
            cJSON_AddItemToObject(mr, "body", x->body_rules);
            x->body_rules = cJSON_CreateObject();
        }
    }
    if (x->header_gens->child || x->body_gens->child) {
        cJSON *g = cJSON_AddObjectToObject(r, "generators");
        if (x->header_gens->child) {
            cJSON_AddItemToObject(g, "header", x->header_gens);
            x->header_gens = cJSON_CreateObject();
        }
        if (x->body_gens->child) {
            cJSON_AddItemToObject(g, "body", x->body_gens);
            x->body_gens = cJSON_CreateObject();
        }
    }
}

/* The interaction of an executor-driven fixture. Returns 0 or -1. */
static int executor_interaction(hx_pact_build *x, cJSON *it)
{
    const mspf_fixture *f = x->f;
    const char *role = fixture_role(f);
    const cJSON *req = member(f->doc, "request");
    add_states(it, role, member(f->doc, "provider"));
    cJSON *r = cJSON_AddObjectToObject(it, "request");
    const cJSON *method = member(req, "method");
    const cJSON *path = member(req, "path");
    cJSON_AddStringToObject(
        r, "method", cJSON_IsString(method) ? method->valuestring : "POST");
    cJSON_AddStringToObject(
        r, "path", cJSON_IsString(path) ? path->valuestring : MSP_PATH_EXECUTE);
    cJSON *headers = cJSON_AddObjectToObject(r, "headers");
    const cJSON *fh = member(req, "headers");
    for (const cJSON *h = fh ? fh->child : NULL; h; h = h->next)
        if (header_value(x, fh, h, role, 0, headers, h->string) != 0)
            return -1;
    if (!cJSON_HasObjectItem(headers, "Authorization")) /* always sent */
        authorization(x, headers, "Authorization", role);
    const cJSON *body = member(req, "body");
    if (body) {
        cJSON *content = NULL;
        if (hx_pact_body_value(x, body, "$", &content) != 0)
            return -1;
        if (content)
            cJSON_AddItemToObject(
                r, "body", hx_pact_v4_body(content, "application/json", 0));
    }
    attach_request_rules(x, r);
    return add_response(x, it);
}

/* ---- provider-only fixtures: one raw step ------------------------------- */

/* Where the UUIDs of a step's request are: each distinct value with the
 * header names / body paths holding it. */
typedef struct ids {
    struct {
        const char *value;
        int n;
        char where[4][HX_PACT_PATH_MAX]; /* "h:NAME" or a body path */
    } v[MAX_IDS];
    size_t n;
} ids;

static void note_id(ids *d, const char *value, const char *where)
{
    size_t i = 0;
    while (i < d->n && strcmp(d->v[i].value, value) != 0)
        i++;
    if (i == d->n) {
        if (d->n == MAX_IDS)
            return;
        d->v[d->n].value = value;
        d->v[d->n].n = 0;
        d->n++;
    }
    if (d->v[i].n < 4)
        snprintf(d->v[i].where[d->v[i].n++], HX_PACT_PATH_MAX, "%s", where);
}

static void body_ids(ids *d, const cJSON *v, const char *path)
{
    if (cJSON_IsString(v) && hx_pact_is_uuid(v->valuestring))
        note_id(d, v->valuestring, path);
    int i = 0;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next, i++) {
        char sub[HX_PACT_PATH_MAX];
        if (cJSON_IsObject(v) ? hx_pact_path_child(sub, path, c->string) == 0
                              : snprintf(sub, sizeof sub, "%s[%d]", path, i) <
                                    (int)sizeof sub)
            body_ids(d, c, sub);
    }
}

/* Fresh ids, the way `msp-contract provider` makes them: an id sent in one
 * place gets a Uuid generator; the first id sent in several places (both id
 * headers) reads ${commandId} everywhere, so they stay equal. */
static void id_generators(hx_pact_build *x, const ids *d)
{
    int shared_done = 0;
    for (size_t i = 0; i < d->n; i++) {
        int shared = d->v[i].n > 1;
        if (shared && shared_done)
            continue; /* a second shared id keeps its example */
        shared_done |= shared;
        for (int k = 0; k < d->v[i].n; k++) {
            const char *w = d->v[i].where[k];
            cJSON *g = shared
                           ? hx_pact_state_generator(HX_PACT_COMMAND_ID_VALUE)
                           : hx_pact_uuid_generator();
            if (strncmp(w, "h:", 2) == 0)
                cJSON_AddItemToObject(x->header_gens, w + 2, g);
            else
                cJSON_AddItemToObject(x->body_gens, w, g);
        }
    }
}

/* The expectation's header rules as response headers and rules. */
static int expect_headers(hx_pact_build *x, const cJSON *rules, cJSON *resp)
{
    if (!rules)
        return 0;
    cJSON *hdrs = cJSON_AddObjectToObject(resp, "headers");
    cJSON *hr = cJSON_CreateObject();
    for (const cJSON *h = rules->child; h; h = h->next) {
        const char *m = hx_pact_matcher_of(h);
        char ex[1024];
        if (!m && cJSON_IsString(h)) {
            snprintf(ex, sizeof ex, "%s", h->valuestring);
        } else if (m && strcmp(m, "regex") == 0 && cJSON_IsString(h->child) &&
                   hx_pact_regex_example(h->child->valuestring, ex,
                                         sizeof ex) == 0) {
            hx_pact_add_rule(hr, h->string,
                             hx_pact_search_rule(h->child->valuestring));
        } else if (m && strcmp(m, "present") == 0) {
            snprintf(ex, sizeof ex, "%s", "present");
            hx_pact_add_rule(hr, h->string, hx_pact_rule("regex", "[\\s\\S]*"));
        } else if (m && strcmp(m, "type") == 0 && cJSON_IsString(h->child)) {
            snprintf(ex, sizeof ex, "%s", h->child->valuestring);
            hx_pact_add_rule(hr, h->string, hx_pact_rule("type", NULL));
        } else {
            cJSON_Delete(hr);
            return hx_pact_fail(x,
                                "response header %s: this rule has no Pact "
                                "form (Pact cannot forbid a header)",
                                h->string);
        }
        cJSON_AddItemToObject(hdrs, h->string, string_array(ex));
    }
    if (hr->child)
        cJSON_AddItemToObject(matching_rules(resp), "header", hr);
    else
        cJSON_Delete(hr);
    return 0;
}

/* The interaction of a provider-only fixture of one step. */
static int step_interaction(hx_pact_build *x, cJSON *it)
{
    const cJSON *provider = member(x->f->doc, "provider");
    const cJSON *step = cJSON_GetArrayItem(member(provider, "steps"), 0);
    const cJSON *req = member(step, "request");
    const cJSON *expect = member(step, "expect");
    if (hx_pact_has_matcher(req) || !expect)
        return hx_pact_fail(x, "%s",
                            "a step request with values from another step");
    const cJSON *cred = member(req, "credential");
    if (!cred)
        cred = member(provider, "credential");
    const char *role = cJSON_IsNull(cred)     ? NULL
                       : cJSON_IsString(cred) ? cred->valuestring
                                              : "valid";
    const cJSON *fh = member(req, "headers");
    const cJSON *auth = NULL;
    for (const cJSON *h = fh ? fh->child : NULL; h; h = h->next)
        if (strcasecmp(h->string, "Authorization") == 0)
            auth = h;
    if (auth) /* an explicit header wins over the role */
        role = NULL;
    add_states(it, role, provider);

    cJSON *r = cJSON_AddObjectToObject(it, "request");
    const cJSON *method = member(req, "method");
    const cJSON *path = member(req, "path");
    cJSON_AddStringToObject(
        r, "method", cJSON_IsString(method) ? method->valuestring : "GET");
    cJSON_AddStringToObject(r, "path",
                            cJSON_IsString(path) ? path->valuestring : "/");
    cJSON *headers = cJSON_AddObjectToObject(r, "headers");
    ids found = {0};
    int ctype_named = 0;
    if (role)
        authorization(x, headers, "Authorization", role);
    for (const cJSON *h = fh ? fh->child : NULL; h; h = h->next) {
        if (strcasecmp(h->string, "Content-Type") == 0)
            ctype_named = 1;
        if (cJSON_IsNull(h))
            continue; /* left out on purpose */
        if (!cJSON_IsString(h))
            return hx_pact_fail(x, "request header %s is not a string",
                                h->string);
        if (h == auth && strncmp(h->valuestring, "Bearer ", 7) == 0 &&
            hx_pact_role_of_key(h->valuestring + 7)) {
            authorization(x, headers, h->string,
                          hx_pact_role_of_key(h->valuestring + 7));
            continue;
        }
        cJSON_AddItemToObject(headers, h->string, string_array(h->valuestring));
        if (hx_pact_is_uuid(h->valuestring)) {
            char where[HX_PACT_PATH_MAX];
            snprintf(where, sizeof where, "h:%s", h->string);
            note_id(&found, h->valuestring, where);
        }
    }
    const cJSON *body = member(req, "body");
    const cJSON *text = member(req, "body_text");
    if (member(req, "body_repeat"))
        return hx_pact_fail(x, "%s",
                            "a generated body (body_repeat) is not a Pact "
                            "body");
    if (body || cJSON_IsString(text)) {
        const char *ct =
            body ? "application/json" : "text/plain; charset=utf-8";
        if (!ctype_named)
            cJSON_AddItemToObject(headers, "Content-Type", string_array(ct));
        const cJSON *named = member(headers, "Content-Type");
        if (cJSON_IsArray(named) && cJSON_IsString(named->child))
            ct = named->child->valuestring;
        cJSON *content = body ? cJSON_Duplicate(body, 1)
                              : cJSON_CreateString(text->valuestring);
        if (body)
            body_ids(&found, body, "$");
        cJSON_AddItemToObject(r, "body", hx_pact_v4_body(content, ct, 0));
    }
    if (x->fresh_ids)
        id_generators(x, &found);
    attach_request_rules(x, r);

    cJSON *resp = cJSON_AddObjectToObject(it, "response");
    const cJSON *status = member(expect, "status");
    if (!cJSON_IsNumber(status))
        return hx_pact_fail(x, "%s", "the step expects no plain status");
    cJSON_AddNumberToObject(resp, "status", status->valuedouble);
    if (expect_headers(x, member(expect, "headers"), resp) != 0)
        return -1;
    cJSON *content = NULL;
    const cJSON *eb = member(expect, "body");
    if (eb && hx_pact_body_value(x, eb, "$", &content) != 0)
        return -1;
    if (hx_pact_values(x, &content, member(expect, "values")) != 0) {
        cJSON_Delete(content);
        return -1;
    }
    if (content)
        cJSON_AddItemToObject(resp, "body",
                              hx_pact_v4_body(content, "application/json", 0));
    attach_body_rules(x, resp);
    return 0;
}

/* Builds the interaction of one fixture, or NULL with x->why set. */
static cJSON *interaction(hx_pact_build *x)
{
    const cJSON *provider = member(x->f->doc, "provider");
    x->fresh_ids = !cJSON_IsTrue(member(provider, "pin_command_id"));
    x->body_rules = cJSON_CreateObject();
    x->header_rules = cJSON_CreateObject();
    x->header_gens = cJSON_CreateObject();
    x->body_gens = cJSON_CreateObject();
    cJSON *it = new_interaction(x->f);
    int rc = member(provider, "steps") ? step_interaction(x, it)
                                       : executor_interaction(x, it);
    cJSON_Delete(x->body_rules);
    cJSON_Delete(x->header_rules);
    cJSON_Delete(x->header_gens);
    cJSON_Delete(x->body_gens);
    if (rc != 0) {
        cJSON_Delete(it);
        return NULL;
    }
    return it;
}

/* Writes text and a newline to path through an unpredictable temporary
 * file and a rename (msp_write_file), so a reader never sees half a pact:
 * an existing pact is replaced, a symbolic link at path is refused. */
static int write_atomic(const char *path, const char *text)
{
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    if (!line) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(line, text, n);
    line[n] = '\n';
    int rc = msp_write_file(path, line, n + 1, 0644, MSP_WRITE_REPLACE);
    int err = errno;
    free(line);
    errno = err;
    return rc;
}

mspf_set *hx_load_all(const hx_options *o)
{
    return hx_load(o); /* every --contracts directory */
}

int hx_pact_export(const hx_options *o)
{
    if (!o->pact) {
        fprintf(stderr, "msp-contract export: --pact FILE is required\n");
        return HX_EXIT_USAGE;
    }
    mspf_set *set = hx_load_all(o);
    if (!set)
        return HX_EXIT_DATA;
    cJSON *pact = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(pact, "consumer"), "name",
                            o->consumer ? o->consumer : DEFAULT_CONSUMER);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(pact, "provider"), "name",
                            o->provider_name ? o->provider_name
                                             : DEFAULT_PROVIDER);
    cJSON *list = cJSON_AddArrayToObject(pact, "interactions");
    size_t n = 0, skipped = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        if (!hx_selected(o, f))
            continue;
        char buf[256];
        const char *why = left_out(f, buf, sizeof buf);
        hx_pact_build x = {.f = f};
        cJSON *it = why ? NULL : interaction(&x);
        if (!it) {
            fprintf(stderr, "left out %-36s %s\n", f->name, why ? why : x.why);
            skipped++;
            continue;
        }
        cJSON_AddItemToArray(list, it);
        n++;
    }
    cJSON *meta = cJSON_AddObjectToObject(pact, "metadata");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "pactSpecification"),
                            "version", "4.0");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "msp-contract"),
                            "mapping", "docs/pact.md");
    char *text = hx_pact_print(pact);
    int rc = HX_EXIT_OK;
    if (!text || write_atomic(o->pact, text) != 0) {
        fprintf(stderr, "msp-contract export: cannot write %s: %s\n", o->pact,
                msp_file_strerror(text ? errno : ENOMEM));
        rc = HX_EXIT_FAILED;
    } else {
        printf("msp-contract export: %zu interaction(s) written to %s, "
               "%zu fixture(s) left out\n",
               n, o->pact, skipped);
    }
    free(text);
    cJSON_Delete(pact);
    mspf_set_free(set);
    if (rc == HX_EXIT_OK && n == 0) {
        fprintf(stderr, "msp-contract export: no fixture could be exported\n");
        rc = HX_EXIT_FAILED;
    }
    return rc;
}
