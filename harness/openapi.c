/*
 * openapi.c — `msp-contract export --openapi FILE`: the MSP API as an
 * OpenAPI 3.1.0 document (docs/openapi.md), built from the tool catalogue
 * (contracts/tools.h), the MSP check table (mspf_msp_checks) and, for the
 * examples, the bundled fixtures. The output is deterministic: the
 * committed docs/openapi.json is this function's output, byte for byte.
 */
#include "harness.h"
#include "pact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <contracts/tools.h>

/* A fixture reply larger than this is not copied into the document. */
#define EXAMPLE_MAX (64u * 1024u)
/* Fixtures whose replies are broken on purpose (docs/openapi.md). */
#define MALFORMED_TAG "malformed-reply"

static const char ref_prefix[] = "#/components/schemas/";

static cJSON *ref(const char *name)
{
    char buf[256];
    cJSON *o = cJSON_CreateObject();
    snprintf(buf, sizeof buf, "%s%s", ref_prefix, name);
    cJSON_AddStringToObject(o, "$ref", buf);
    return o;
}

static cJSON *str_schema(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "string");
    return o;
}

static cJSON *const_schema(cJSON *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "const", value);
    return o;
}

static cJSON *required_list(const char *const *names)
{
    cJSON *a = cJSON_CreateArray();
    for (; *names; names++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*names));
    return a;
}

/* {"type":"object","properties":{},"required":[...],
 *  "additionalProperties":false}; the caller fills properties. */
static cJSON *closed_object(const char *description,
                            const char *const *required, cJSON **props)
{
    cJSON *o = cJSON_CreateObject();
    if (description)
        cJSON_AddStringToObject(o, "description", description);
    cJSON_AddStringToObject(o, "type", "object");
    *props = cJSON_AddObjectToObject(o, "properties");
    cJSON_AddItemToObject(o, "required", required_list(required));
    cJSON_AddFalseToObject(o, "additionalProperties");
    return o;
}

static int has_tag(const mspf_fixture *f, const char *tag)
{
    for (size_t i = 0; i < f->n_tags; i++)
        if (strcmp(f->tags[i], tag) == 0)
            return 1;
    return 0;
}

/* The value of a response header the fixture names (any case), or NULL. */
static const char *resp_header(const mspf_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

/* ---- components ------------------------------------------------------ */

static void add_tool_schemas(cJSON *schemas)
{
    size_t n;
    const mspf_tool *tools = mspf_tools(&n);
    char name[160];

    for (size_t i = 0; i < n; i++) {
        const mspf_tool *t = &tools[i];
        cJSON *props;

        snprintf(name, sizeof name, "Params.%s", t->name);
        cJSON *p = cJSON_Duplicate(mspf_tool_params(t), 1);
        cJSON_AddStringToObject(p, "title", name);
        cJSON_AddItemToObject(schemas, name, p);

        static const char *const req_members[] = {"tool", "params", "simulate",
                                                  NULL};
        char desc[512];
        snprintf(desc, sizeof desc,
                 "%s (risk %s%s). `simulate` is always false from the "
                 "executor.",
                 t->description, t->risk_level,
                 t->requires_changeset
                     ? "; answers 400 CHANGESET_REQUIRED unless simulate is "
                       "true"
                     : "");
        cJSON *rq = closed_object(desc, req_members, &props);
        cJSON_AddItemToObject(props, "tool",
                              const_schema(cJSON_CreateString(t->name)));
        cJSON_AddItemToObject(props, "params", ref(name));
        cJSON *sim = cJSON_AddObjectToObject(props, "simulate");
        cJSON_AddStringToObject(sim, "type", "boolean");
        snprintf(name, sizeof name, "%s", t->name); /* the discriminator's */
        cJSON_AddItemToObject(schemas, name, rq);

        if (t->reply != MSPF_REPLY_ENVELOPE)
            continue;
        snprintf(name, sizeof name, "Data.%s", t->name);
        cJSON *d = cJSON_Duplicate(mspf_tool_data(t), 1);
        cJSON_AddStringToObject(d, "title", name);
        cJSON_AddItemToObject(schemas, name, d);

        static const char *const env_req[] = {
            "success",  "tool",       "data", "risk_level",
            "trace_id", "command_id", NULL};
        static const char *const env_req_sim[] = {
            "success",  "tool",       "data",      "risk_level",
            "trace_id", "command_id", "simulated", NULL};
        snprintf(desc, sizeof desc,
                 "The success envelope of %s (exit-table row 8: the "
                 "executor prints it as compact JSON, exit 0).",
                 t->name);
        cJSON *env = closed_object(
            desc, t->simulated_flag ? env_req_sim : env_req, &props);
        cJSON_AddItemToObject(props, "success",
                              const_schema(cJSON_CreateTrue()));
        cJSON_AddItemToObject(props, "tool",
                              const_schema(cJSON_CreateString(t->name)));
        if (t->simulated_flag)
            cJSON_AddItemToObject(props, "simulated",
                                  const_schema(cJSON_CreateTrue()));
        cJSON_AddItemToObject(props, "data", ref(name));
        cJSON_AddItemToObject(props, "risk_level",
                              const_schema(cJSON_CreateString(t->risk_level)));
        cJSON_AddItemToObject(props, "trace_id", str_schema());
        cJSON_AddItemToObject(props, "command_id", str_schema());
        snprintf(name, sizeof name, "Envelope.%s", t->name);
        cJSON_AddItemToObject(schemas, name, env);
    }
}

static void add_execute_unions(cJSON *schemas)
{
    size_t n;
    const mspf_tool *tools = mspf_tools(&n);
    char name[160];

    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(
        req, "description",
        "The execute request: one branch per tool, chosen by `tool`. Each "
        "branch's schema is named after its tool, so the discriminator needs "
        "no mapping (validators such as ajv refuse one).");
    cJSON *one = cJSON_AddArrayToObject(req, "oneOf");
    cJSON *disc = cJSON_AddObjectToObject(req, "discriminator");
    cJSON_AddStringToObject(disc, "propertyName", "tool");
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(one, ref(tools[i].name));
    cJSON_AddItemToObject(schemas, "ExecuteRequest", req);

    cJSON *res = cJSON_CreateObject();
    cJSON_AddStringToObject(
        res, "description",
        "Every 200 shape: the success envelope of a data-provider tool "
        "(exit-table row 8) or the tool-result object of a tool that runs a "
        "command on the edge agent (row 6). The branches exclude each other "
        "by const members and additionalProperties:false, not only by "
        "required members.");
    one = cJSON_AddArrayToObject(res, "oneOf");
    for (size_t i = 0; i < n; i++) {
        if (tools[i].reply != MSPF_REPLY_ENVELOPE)
            continue;
        snprintf(name, sizeof name, "Envelope.%s", tools[i].name);
        cJSON_AddItemToArray(one, ref(name));
    }
    cJSON_AddItemToArray(one, ref("ToolResult"));
    cJSON_AddItemToObject(schemas, "ExecuteResult", res);
}

/* The error envelope; codes (taken) pins error.code to an enum, NULL leaves
 * it any non-empty string. A whole schema per status rather than allOf:
 * additionalProperties does not see through allOf. */
static cJSON *error_schema(cJSON *codes)
{
    cJSON *props, *p;
    static const char *const err_req[] = {"code", "message", NULL};
    cJSON *inner = closed_object(NULL, err_req, &props);
    p = cJSON_AddObjectToObject(props, "code");
    cJSON_AddStringToObject(p, "type", "string");
    if (codes)
        cJSON_AddItemToObject(p, "enum", codes);
    else
        cJSON_AddNumberToObject(p, "minLength", 1);
    cJSON_AddItemToObject(props, "message", str_schema());
    static const char *const env_req[] = {"success", "error", "tool",
                                          "trace_id", NULL};
    cJSON *err = closed_object(
        "An error body (docs/wire-contract.md, \"The MSP side\"). `tool` "
        "is the request's `tool` when the body was read and it is a string, "
        "else null; `trace_id` is `trace-` and the X-Brainstorm-Command-Id.",
        env_req, &props);
    cJSON_AddItemToObject(props, "success", const_schema(cJSON_CreateFalse()));
    cJSON_AddItemToObject(props, "error", inner);
    p = cJSON_AddObjectToObject(props, "tool");
    cJSON *types = cJSON_AddArrayToObject(p, "type");
    cJSON_AddItemToArray(types, cJSON_CreateString("string"));
    cJSON_AddItemToArray(types, cJSON_CreateString("null"));
    cJSON_AddItemToObject(props, "trace_id", str_schema());
    return err;
}

static void add_fixed_schemas(cJSON *schemas)
{
    cJSON *props, *p;
    static const char *const result_req[] = {"exit_code", "stdout", "stderr",
                                             NULL};
    cJSON *tr = closed_object(
        "The tool-result object (exit-table row 6): the executor exits with "
        "exit_code and prints stdout and stderr verbatim. A tool that runs a "
        "command answers this; a data-provider tool answers its envelope.",
        result_req, &props);
    p = cJSON_AddObjectToObject(props, "exit_code");
    cJSON_AddStringToObject(p, "type", "integer");
    cJSON_AddNumberToObject(p, "minimum", -2147483648.0);
    cJSON_AddNumberToObject(p, "maximum", 2147483647.0);
    cJSON_AddItemToObject(props, "stdout", str_schema());
    cJSON_AddItemToObject(props, "stderr", str_schema());
    cJSON_AddItemToObject(schemas, "ToolResult", tr);

    cJSON_AddItemToObject(schemas, "Error", error_schema(NULL));

    static const char *const tool_req[] = {"name",
                                           "domain",
                                           "product",
                                           "description",
                                           "parameters",
                                           "risk_level",
                                           "requires_changeset",
                                           NULL};
    cJSON *ti = closed_object("One tool of the catalogue.", tool_req, &props);
    cJSON_AddItemToObject(props, "name", str_schema());
    cJSON_AddItemToObject(props, "domain", str_schema());
    cJSON_AddItemToObject(props, "product",
                          const_schema(cJSON_CreateString("msp")));
    cJSON_AddItemToObject(props, "description", str_schema());
    p = cJSON_AddObjectToObject(props, "parameters");
    cJSON_AddStringToObject(p, "description",
                            "The tool's parameter schema (JSON Schema), "
                            "equal to components.schemas.Params.<tool>");
    cJSON_AddStringToObject(p, "type", "object");
    p = cJSON_AddObjectToObject(props, "risk_level");
    cJSON *e = cJSON_AddArrayToObject(p, "enum");
    cJSON_AddItemToArray(e, cJSON_CreateString("read_only"));
    cJSON_AddItemToArray(e, cJSON_CreateString("high"));
    cJSON_AddItemToArray(e, cJSON_CreateString("destructive"));
    p = cJSON_AddObjectToObject(props, "requires_changeset");
    cJSON_AddStringToObject(p, "type", "boolean");
    cJSON_AddItemToObject(schemas, "ToolInfo", ti);

    static const char *const list_req[] = {"product", "version", "tool_count",
                                           "tools", NULL};
    cJSON *tl = closed_object("GET /api/v1/god-mode/tools: the catalogue.",
                              list_req, &props);
    cJSON_AddItemToObject(props, "product",
                          const_schema(cJSON_CreateString("msp")));
    cJSON_AddItemToObject(props, "version", str_schema());
    p = cJSON_AddObjectToObject(props, "tool_count");
    cJSON_AddStringToObject(p, "type", "integer");
    cJSON_AddNumberToObject(p, "minimum", 0);
    p = cJSON_AddObjectToObject(props, "tools");
    cJSON_AddStringToObject(p, "type", "array");
    cJSON_AddItemToObject(p, "items", ref("ToolInfo"));
    cJSON_AddItemToObject(schemas, "ToolsList", tl);

    static const char *const health_req[] = {"status", "version", "product",
                                             NULL};
    cJSON *h = closed_object("GET /health.", health_req, &props);
    cJSON_AddItemToObject(props, "status", str_schema());
    cJSON_AddItemToObject(props, "version", str_schema());
    cJSON_AddItemToObject(props, "product",
                          const_schema(cJSON_CreateString("msp")));
    cJSON_AddItemToObject(schemas, "Health", h);
}

/* ---- statuses -------------------------------------------------------- */

typedef struct status_def {
    const char *key;  /* "400", "5XX" */
    const char *what; /* the response's description */
} status_def;

static const status_def statuses[] = {
    {"400",
     "IDEMPOTENCY_CORRELATION_MISMATCH (exit-table row 10), VALIDATION or "
     "CHANGESET_REQUIRED (row 14)"},
    {"401", "missing, malformed or unknown bearer token (row 11)"},
    {"403", "tenant mismatch or a read-only key asking for another tool "
            "(row 11)"},
    {"404", "unknown tool, or no such endpoint (row 12)"},
    {"405", "method not allowed on this endpoint (row 14)"},
    {"409", "Idempotency collision: the key was used for a different "
            "request, or the first one is still running (row 14)"},
    {"413", "body over the size limit (row 14)"},
    {"431", "more request headers than the server takes (fake-msp: "
            "--max-headers; row 14)"},
    {"429", "the tenant's rate limit is used up; Retry-After says when the "
            "window ends (row 14)"},
    {"500", "server fault (row 13)"},
    {"503", "unavailable, possibly as plain text (row 13)"},
    {"5XX", "any other server error (row 13)"},
};

/* error.code values for a status, from the check table; "405" and the
 * endpoint 404 are the router's (wire-contract.md). */
static cJSON *codes_for(const char *status)
{
    size_t n;
    const mspf_msp_check *checks = mspf_msp_checks(&n);
    cJSON *e = cJSON_CreateArray();

    if (strcmp(status, "405") == 0)
        cJSON_AddItemToArray(e, cJSON_CreateString("METHOD_NOT_ALLOWED"));
    if (strcmp(status, "431") == 0)
        cJSON_AddItemToArray(e, cJSON_CreateString("HEADERS_TOO_LARGE"));
    for (size_t i = 0; i < n; i++) {
        const char *st = checks[i].status, *code = checks[i].code;
        char one[64];
        /* "500/503" with "INTERNAL/UNAVAILABLE": the n-th of each */
        for (int k = 0; *st && *code; k++) {
            size_t sl = strcspn(st, "/"), cl = strcspn(code, "/");
            if (sl == strlen(status) && strncmp(st, status, sl) == 0 &&
                cl < sizeof one) {
                memcpy(one, code, cl);
                one[cl] = '\0';
                int dup = 0;
                const cJSON *x;
                cJSON_ArrayForEach(x, e) dup |=
                    strcmp(x->valuestring, one) == 0;
                if (!dup)
                    cJSON_AddItemToArray(e, cJSON_CreateString(one));
            }
            st += sl + (st[sl] == '/');
            code += cl + (code[cl] == '/');
        }
    }
    if (cJSON_GetArraySize(e) == 0) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

/* components.schemas.Error<status>: Error with error.code pinned. */
static void add_status_errors(cJSON *schemas)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        cJSON *codes = codes_for(statuses[i].key);
        char name[32];
        if (!codes)
            continue;
        snprintf(name, sizeof name, "Error%s", statuses[i].key);
        cJSON_AddItemToObject(schemas, name, error_schema(codes));
    }
}

/* ---- examples from the fixtures --------------------------------------- */

/* Whether a fixture's reply is an example of the API: a consumer fixture
 * with scripted replies, no fault, not marked malformed. */
static int reply_example_ok(const mspf_fixture *f)
{
    if (f->n_provider_steps || !f->n_responses || !f->expects_request ||
        has_tag(f, MALFORMED_TAG))
        return 0;
    const cJSON *path = mspf_json_path(f->doc, "$.request.path");
    return !cJSON_IsString(path) ||
           strcmp(path->valuestring, MSP_PATH_EXECUTE) == 0;
}

static cJSON *media(cJSON *content, const char *type, cJSON *schema)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(content, type);
    if (!m) {
        m = cJSON_AddObjectToObject(content, type);
        cJSON_AddItemToObject(m, "schema", schema);
    } else {
        cJSON_Delete(schema);
    }
    return m;
}

static void add_example(cJSON *m, const char *name, const char *summary,
                        cJSON *value)
{
    cJSON *ex = cJSON_GetObjectItemCaseSensitive(m, "examples");
    if (!ex)
        ex = cJSON_AddObjectToObject(m, "examples");
    if (cJSON_GetObjectItemCaseSensitive(ex, name)) {
        cJSON_Delete(value);
        return;
    }
    cJSON *e = cJSON_AddObjectToObject(ex, name);
    cJSON_AddStringToObject(e, "summary", summary);
    cJSON_AddItemToObject(e, "value", value);
}

/* The responses key a status falls under, or NULL when the API has none. */
static const char *status_key(int status, char *buf, size_t len)
{
    snprintf(buf, len, "%d", status);
    if (status == 200)
        return buf;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (strcmp(statuses[i].key, buf) == 0)
            return buf;
    return status >= 500 && status <= 599 ? "5XX" : NULL;
}

static void add_reply_examples(cJSON *responses, const mspf_set *set)
{
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        if (!reply_example_ok(f))
            continue;
        for (size_t j = 0; j < f->n_responses; j++) {
            const mspf_response *r = &f->responses[j];
            char kbuf[16], name[300];
            const char *key = status_key(r->status, kbuf, sizeof kbuf);
            const char *ct = resp_header(r, "Content-Type");
            cJSON *resp =
                key ? cJSON_GetObjectItemCaseSensitive(responses, key) : NULL;
            if (!resp || r->fault.kind != MSPF_FAULT_NONE ||
                r->body_len > EXAMPLE_MAX || !ct)
                continue;
            cJSON *content = cJSON_GetObjectItemCaseSensitive(resp, "content");
            cJSON *value = NULL, *m = NULL;
            if (strncasecmp(ct, "application/json", 16) == 0) {
                /* cJSON strings end at a NUL: a body with \u0000 goes in
                 * as written */
                value = strstr((const char *)r->body, "\\u0000")
                            ? cJSON_CreateRaw((const char *)r->body)
                            : cJSON_ParseWithLength((const char *)r->body,
                                                    r->body_len);
                m = cJSON_GetObjectItemCaseSensitive(content,
                                                     "application/json");
            } else if (strncasecmp(ct, "text/plain", 10) == 0) {
                m = cJSON_GetObjectItemCaseSensitive(content, "text/plain");
                value = m ? cJSON_CreateString((const char *)r->body) : NULL;
            }
            if (!m || !value) {
                cJSON_Delete(value);
                continue;
            }
            if (j == 0)
                snprintf(name, sizeof name, "%s", f->name);
            else
                snprintf(name, sizeof name, "%s-%zu", f->name, j + 1);
            add_example(m, name, f->description ? f->description : f->name,
                        value);
        }
    }
}

static void add_request_examples(cJSON *m, const mspf_set *set)
{
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        const mspf_tool *t = f->tool ? mspf_tool_find(f->tool) : NULL;
        char msg[256];
        if (!t || !reply_example_ok(f) || !f->params_json)
            continue;
        cJSON *params = cJSON_Parse(f->params_json);
        if (!params || !mspf_tool_params_check(t, params, msg, sizeof msg)) {
            cJSON_Delete(params);
            continue;
        }
        cJSON *body = cJSON_CreateObject();
        cJSON_AddStringToObject(body, "tool", f->tool);
        cJSON_AddItemToObject(body, "params", params);
        cJSON_AddFalseToObject(body, "simulate");
        add_example(m, f->name, f->description ? f->description : f->name,
                    body);
    }
}

/* ---- paths ----------------------------------------------------------- */

static cJSON *header_param(const char *name, int required,
                           const char *description)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name", name);
    cJSON_AddStringToObject(p, "in", "header");
    cJSON_AddBoolToObject(p, "required", required);
    cJSON_AddStringToObject(p, "description", description);
    cJSON *s = cJSON_AddObjectToObject(p, "schema");
    cJSON_AddStringToObject(s, "type", "string");
    cJSON_AddNumberToObject(s, "minLength", 1);
    cJSON_AddStringToObject(s, "pattern", "^[^\\u0000-\\u001f\\u007f]+$");
    return p;
}

static cJSON *json_response(const char *description, const char *schema)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "description", description);
    media(cJSON_AddObjectToObject(r, "content"), "application/json",
          ref(schema));
    return r;
}

static cJSON *execute_responses(const mspf_set *set)
{
    cJSON *rs = cJSON_CreateObject();
    cJSON *ok = json_response(
        "The tool ran (or, with Idempotent-Replayed: true, the stored reply of "
        "an earlier run with the same Idempotency-Key and the same request, "
        "byte for byte).",
        "ExecuteResult");
    cJSON *h = cJSON_AddObjectToObject(cJSON_AddObjectToObject(ok, "headers"),
                                       "Idempotent-Replayed");
    cJSON_AddStringToObject(h, "description",
                            "\"true\" on a replay of a stored reply; absent "
                            "on a fresh run");
    cJSON_AddItemToObject(cJSON_AddObjectToObject(h, "schema"), "const",
                          cJSON_CreateString("true"));
    cJSON_AddItemToObject(rs, "200", ok);

    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        const char *key = statuses[i].key;
        char name[32];
        cJSON *codes = codes_for(key);
        snprintf(name, sizeof name, codes ? "Error%s" : "Error", key);
        cJSON_Delete(codes);
        cJSON *r = json_response(statuses[i].what, name);
        if (strcmp(key, "429") == 0) {
            cJSON *ra = cJSON_AddObjectToObject(
                cJSON_AddObjectToObject(r, "headers"), "Retry-After");
            cJSON_AddStringToObject(ra, "description",
                                    "whole seconds until the tenant's window "
                                    "ends, at least 1");
            cJSON_AddTrueToObject(ra, "required");
            cJSON *s = cJSON_AddObjectToObject(ra, "schema");
            cJSON_AddStringToObject(s, "type", "integer");
            cJSON_AddNumberToObject(s, "minimum", 1);
        }
        if (key[0] == '5') {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "type", "string");
            media(cJSON_GetObjectItemCaseSensitive(r, "content"), "text/plain",
                  t);
        }
        cJSON_AddItemToObject(rs, key, r);
    }
    add_reply_examples(rs, set);
    return rs;
}

/* Adds the operation `method` to path, with its operationId and summary. */
static cJSON *add_operation(cJSON *path, const char *method, const char *id,
                            const char *summary)
{
    cJSON *op = cJSON_AddObjectToObject(path, method);
    cJSON_AddStringToObject(op, "operationId", id);
    cJSON_AddStringToObject(op, "summary", summary);
    return op;
}

static cJSON *execute_path(const mspf_set *set)
{
    cJSON *path = cJSON_CreateObject();
    cJSON *op = add_operation(path, "post", "execute", "Run one tool");
    cJSON_AddStringToObject(
        op, "description",
        "Runs one tool of the catalogue. The MSP checks, in order, the "
        "bearer token, the tenant, the key's permission, the id headers, the "
        "body size, the Content-Type, the body, the tool, its params, the "
        "ChangeSet rule, the rate limit and the idempotency store; the first "
        "failing check answers (docs/wire-contract.md, \"The MSP side\"). "
        "What the executor makes of each reply is the exit table in "
        "docs/wire-contract.md.");
    cJSON *params = cJSON_AddArrayToObject(op, "parameters");
    cJSON_AddItemToArray(
        params,
        header_param("X-Brainstorm-Command-Id", 1,
                     "The command's id. Must equal Idempotency-Key when both "
                     "are present (else 400 "
                     "IDEMPOTENCY_CORRELATION_MISMATCH); echoed as "
                     "command_id and in trace_id."));
    cJSON_AddItemToArray(
        params,
        header_param("Idempotency-Key", 1,
                     "Equal to X-Brainstorm-Command-Id (else 400 "
                     "IDEMPOTENCY_CORRELATION_MISMATCH). The same key with the "
                     "same request replays the stored reply "
                     "(Idempotent-Replayed: true); with another request, or "
                     "while the first runs, 409 CONFLICT."));
    cJSON_AddItemToArray(params,
                         header_param("X-Correlation-Id", 0,
                                      "The caller's correlation id; sent only "
                                      "when the context has one."));
    cJSON *body = cJSON_AddObjectToObject(op, "requestBody");
    cJSON_AddTrueToObject(body, "required");
    cJSON *m = media(cJSON_AddObjectToObject(body, "content"),
                     "application/json", ref("ExecuteRequest"));
    add_request_examples(m, set);
    cJSON_AddItemToObject(op, "responses", execute_responses(set));

    /* Any other method: 405 (wire-contract.md, check 1). */
    cJSON *get = add_operation(path, "get", "executeWrongMethod",
                               "Not allowed: execute takes POST only");
    cJSON *rs = cJSON_AddObjectToObject(get, "responses");
    cJSON_AddItemToObject(rs, "405",
                          json_response("method not allowed", "Error405"));
    return path;
}

static cJSON *plain_get(const char *id, const char *summary, const char *schema,
                        cJSON *example)
{
    cJSON *path = cJSON_CreateObject();
    cJSON *op = add_operation(path, "get", id, summary);
    cJSON_AddItemToObject(op, "security", cJSON_CreateArray());
    cJSON *rs = cJSON_AddObjectToObject(op, "responses");
    cJSON *ok = json_response(summary, schema);
    if (example) {
        cJSON *m = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ok, "content"),
            "application/json");
        cJSON_AddItemToObject(m, "example", example);
    }
    cJSON_AddItemToObject(rs, "200", ok);
    return path;
}

/* The tools list as fake-msp serves it, from the catalogue. */
static cJSON *tools_example(void)
{
    size_t n;
    const mspf_tool *tools = mspf_tools(&n);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "product", "msp");
    cJSON_AddStringToObject(doc, "version", MSP_EXECUTOR_VERSION);
    cJSON_AddNumberToObject(doc, "tool_count", (double)n);
    cJSON *list = cJSON_AddArrayToObject(doc, "tools");
    for (size_t i = 0; i < n; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", tools[i].name);
        cJSON_AddStringToObject(t, "domain", tools[i].domain);
        cJSON_AddStringToObject(t, "product", "msp");
        cJSON_AddStringToObject(t, "description", tools[i].description);
        cJSON_AddItemToObject(t, "parameters",
                              cJSON_Duplicate(mspf_tool_params(&tools[i]), 1));
        cJSON_AddStringToObject(t, "risk_level", tools[i].risk_level);
        cJSON_AddBoolToObject(t, "requires_changeset",
                              tools[i].requires_changeset);
        cJSON_AddItemToArray(list, t);
    }
    return doc;
}

cJSON *hx_openapi_build(const mspf_set *set)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "openapi", "3.1.0");
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "title", "MSP god-mode API");
    cJSON_AddStringToObject(info, "version", "1.0.0");
    cJSON_AddStringToObject(
        info, "description",
        "The MSP API the msp-executor calls, generated by `msp-contract "
        "export --openapi` from the tool catalogue (contracts/tools.h) and "
        "the bundled fixtures. What it cannot say (idempotency, rate-limit "
        "windows, the exit table): docs/openapi.md and "
        "docs/wire-contract.md.");
    cJSON *lic = cJSON_AddObjectToObject(info, "license");
    cJSON_AddStringToObject(lic, "name", "MIT");
    cJSON_AddStringToObject(lic, "identifier", "MIT");
    cJSON *servers = cJSON_AddArrayToObject(doc, "servers");
    cJSON *srv = cJSON_CreateObject();
    cJSON_AddStringToObject(srv, "url", "http://127.0.0.1:8080");
    cJSON_AddStringToObject(
        srv, "description",
        "an MSP (fake-msp --port 8080); replace with yours");
    cJSON_AddItemToArray(servers, srv);
    cJSON *sec = cJSON_AddArrayToObject(doc, "security");
    cJSON *bearer = cJSON_CreateObject();
    cJSON_AddItemToObject(bearer, "bearerAuth", cJSON_CreateArray());
    cJSON_AddItemToArray(sec, bearer);

    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    cJSON_AddItemToObject(paths, MSP_PATH_EXECUTE, execute_path(set));
    cJSON_AddItemToObject(paths, MSP_PATH_TOOLS,
                          plain_get("listTools",
                                    "Every v1 tool with its parameter schema",
                                    "ToolsList", tools_example()));
    cJSON_AddItemToObject(paths, MSP_PATH_HEALTH,
                          plain_get("health", "Liveness", "Health", NULL));

    cJSON *comp = cJSON_AddObjectToObject(doc, "components");
    cJSON *schemes = cJSON_AddObjectToObject(comp, "securitySchemes");
    cJSON *b = cJSON_AddObjectToObject(schemes, "bearerAuth");
    cJSON_AddStringToObject(b, "type", "http");
    cJSON_AddStringToObject(b, "scheme", "bearer");
    cJSON_AddStringToObject(b, "description",
                            "The tenant's API key: Authorization: Bearer "
                            "<key> (service_key and jwt modes alike)");
    cJSON *schemas = cJSON_AddObjectToObject(comp, "schemas");
    add_execute_unions(schemas);
    add_tool_schemas(schemas);
    add_fixed_schemas(schemas);
    add_status_errors(schemas);
    return doc;
}

/* Why path may not be written, or NULL: what is there already must be a
 * regular file. A symlink (/dev/stdout), a device, a FIFO or a directory
 * would be replaced by the rename (as root, /dev/stdout became a file). */
static const char *refusal(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return NULL; /* nothing there (or the write says why) */
    if (S_ISLNK(st.st_mode))
        return "it is a symbolic link (not followed, not replaced)";
    if (S_ISDIR(st.st_mode))
        return "it is a directory";
    if (!S_ISREG(st.st_mode))
        return "it is not a regular file (a device, FIFO or socket)";
    return NULL;
}

/* Writes text to path through a temporary file in the same directory and a
 * rename: a reader never sees half a document. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    if (snprintf(tmp, sizeof tmp, "%.*s.openapi.XXXXXX", dirlen, path) >=
        (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        close(fd);
        (void)unlink(tmp);
        return -1;
    }
    int ok = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF &&
             fflush(fp) == 0 && fsync(fileno(fp)) == 0 && fchmod(fd, 0644) == 0;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        (void)unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

int hx_openapi_export(const hx_options *o)
{
    mspf_set *set = hx_load(o);
    if (!set)
        return HX_EXIT_DATA;
    cJSON *doc = hx_openapi_build(set);
    char *text = doc ? hx_pact_print(doc) : NULL;
    int rc = HX_EXIT_OK;
    const char *why = refusal(o->openapi);
    if (why) {
        fprintf(stderr, "msp-contract export: cannot write %s: %s\n",
                o->openapi, why);
        rc = HX_EXIT_FAILED;
    } else if (!text || write_atomic(o->openapi, text) != 0) {
        fprintf(stderr, "msp-contract export: cannot write %s: %s\n",
                o->openapi, text ? strerror(errno) : "out of memory");
        rc = HX_EXIT_FAILED;
    } else {
        size_t n;
        (void)mspf_tools(&n);
        printf("msp-contract export: OpenAPI 3.1.0 document (%zu tools) "
               "written to %s\n",
               n, o->openapi);
    }
    free(text);
    cJSON_Delete(doc);
    mspf_set_free(set);
    return rc;
}
