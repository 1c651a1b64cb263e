/* msp.c — the realistic MSP execute endpoint (see msp.h). */
#include "msp.h"

#include <ctype.h>
#include <pthread.h>
#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <contracts/tools.h>

#include "strict.h"
#include "util.h"

/* The built-in tools are the catalogue's (contracts/tools.h); what each one
 * answers is chosen by name here. */
typedef enum tool_kind {
    T_LIST_DEVICES,
    T_AGENT_HEALTH,
    T_PROCESS_KILL,
    T_DEVICE_WIPE,
    T_UNKNOWN
} tool_kind;

static tool_kind kind_of(const mspf_tool *t)
{
    static const char *const names[] = {"msp.list_devices", "msp.agent_health",
                                        "msp.process_kill", "msp.device_wipe"};
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(t->name, names[i]) == 0)
            return (tool_kind)i;
    return T_UNKNOWN;
}

static const char health_json[] =
    "{\"status\":\"healthy\",\"version\":\"" FAKE_MSP_VERSION
    "\",\"product\":\"msp\"}";

/* The tools list is small and fixed: a cap well above it. */
#define TOOLS_JSON_MAX (64u * 1024u)

static pthread_once_t tools_once = PTHREAD_ONCE_INIT;
static char *tools_json; /* built once from the catalogue, kept */

static void build_tools_json(void)
{
    msp_buf b;
    size_t i, n;
    const mspf_tool *tools = mspf_tools(&n);
    msp_buf_init(&b, TOOLS_JSON_MAX);
    msp_buf_printf(&b,
                   "{\"product\":\"msp\",\"version\":\"" FAKE_MSP_VERSION
                   "\",\"tool_count\":%zu,\"tools\":[",
                   n);
    for (i = 0; i < n; i++) {
        const mspf_tool *t = &tools[i];
        msp_buf_append_str(&b, i ? ",{\"name\":" : "{\"name\":");
        msp_buf_append_json(&b, t->name, strlen(t->name));
        msp_buf_append_str(&b, ",\"domain\":");
        msp_buf_append_json(&b, t->domain, strlen(t->domain));
        msp_buf_append_str(&b, ",\"product\":\"msp\",\"description\":");
        msp_buf_append_json(&b, t->description, strlen(t->description));
        msp_buf_append_str(&b, ",\"parameters\":");
        msp_buf_append_str(&b, t->params_schema); /* compact JSON already */
        msp_buf_append_str(&b, ",\"risk_level\":");
        msp_buf_append_json(&b, t->risk_level, strlen(t->risk_level));
        msp_buf_printf(&b, ",\"requires_changeset\":%s}",
                       t->requires_changeset ? "true" : "false");
    }
    msp_buf_append_str(&b, "]}");
    tools_json = msp_buf_take(&b, NULL);
}

const char *fm_tools_json(void)
{
    pthread_once(&tools_once, build_tools_json);
    return tools_json ? tools_json : "{\"tools\":[]}";
}
const char *fm_health_json(void)
{
    return health_json;
}

/* The devices, each with its JSON rendered once (no printf per request). */
typedef struct device {
    const char *hostname, *os, *id, *agent_id, *json;
} device;

#define DEVICE(id, host, os, agent, online)                             \
    {                                                                   \
        host, os, id, agent,                                            \
            "{\"id\":\"" id "\",\"hostname\":\"" host "\",\"os\":\"" os \
            "\",\"agent_id\":\"" agent "\",\"online\":" online "}"      \
    }

static const device devices[] = {
    DEVICE("dev-001", "ws-finance-01", "Windows 11", "agent-001", "true"),
    DEVICE("dev-002", "ws-hr-02", "Windows 10", "agent-002", "true"),
    DEVICE("dev-003", "mbp-design-03", "macOS 14", "agent-003", "false"),
    DEVICE("dev-004", "srv-db-01", "Ubuntu 22.04", "agent-004", "true"),
};

int fm_token_parse(const char *spec, fm_token *t, char *errbuf, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    const char *colon;
    size_t tenant_len;
    int ro = 0;

    if (!eq || eq == spec || !eq[1]) {
        snprintf(errbuf, errlen, "--key wants TOKEN=TENANT[:read_only]");
        return -1;
    }
    colon = strchr(eq + 1, ':');
    tenant_len = colon ? (size_t)(colon - eq - 1) : strlen(eq + 1);
    if (colon) {
        if (strcmp(colon + 1, "read_only") != 0) {
            snprintf(errbuf, errlen,
                     "--key: unknown role \"%s\" (only read_only)", colon + 1);
            return -1;
        }
        ro = 1;
    }
    if (tenant_len == 0) {
        snprintf(errbuf, errlen,
                 "--key wants TOKEN=TENANT[:read_only]: empty tenant");
        return -1;
    }
    t->token = strndup(spec, (size_t)(eq - spec));
    t->tenant = strndup(eq + 1, tenant_len);
    t->read_only = ro;
    if (!t->token || !t->tenant) {
        free(t->token);
        free(t->tenant);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static atomic_ullong trace_counter;

char *fm_error_body(const char *code, const char *message, const char *tool,
                    const char *trace, size_t *len)
{
    msp_buf b;
    msp_buf_init(&b, FM_REPLY_MAX);
    char gen[48];

    if (!trace) {
        snprintf(gen, sizeof gen, "trace-gen-%llu",
                 atomic_fetch_add(&trace_counter, 1) + 1);
        trace = gen;
    }
    msp_buf_append_str(&b, "{\"success\":false,\"error\":{\"code\":\"");
    msp_buf_append_str(&b, code);
    msp_buf_append_str(&b, "\",\"message\":");
    msp_buf_append_json(&b, message, strlen(message));
    msp_buf_append_str(&b, "},\"tool\":");
    msp_buf_append_json(&b, tool, tool ? strlen(tool) : 0);
    msp_buf_append_str(&b, ",\"trace_id\":");
    msp_buf_append_json(&b, trace, strlen(trace));
    msp_buf_append_str(&b, "}");
    return msp_buf_take(&b, len);
}

/* Per-call state of fm_msp_execute. */
typedef struct call {
    fm_realm *r;
    const fm_input *in;
    fm_reply *out;
    const cJSON *doc;
    const char *tool; /* from the body when it is a string */
    const char *command_id;
    char trace[320];
} call;

static int fail(call *c, int status, const char *code, const char *message)
{
    c->out->status = status;
    c->out->body =
        fm_error_body(code, message, c->tool, c->trace, &c->out->body_len);
    return c->out->body ? 0 : -1;
}

static const fm_token *find_token(const fm_realm *r, const char *token)
{
    size_t i;

    for (i = 0; i < r->n_tokens; i++)
        if (strcmp(r->tokens[i].token, token) == 0)
            return &r->tokens[i];
    return NULL;
}

static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle), i;

    for (; *hay; hay++) {
        for (i = 0; i < n && hay[i] &&
                    tolower((unsigned char)hay[i]) ==
                        tolower((unsigned char)needle[i]);
             i++)
            ;
        if (i == n)
            return 1;
    }
    return n == 0;
}

static void envelope_tail(msp_buf *b, const char *risk, const call *c)
{
    msp_buf_append_str(b, ",\"risk_level\":\"");
    msp_buf_append_str(b, risk);
    msp_buf_append_str(b, "\",\"trace_id\":");
    msp_buf_append_json(b, c->trace, strlen(c->trace));
    msp_buf_append_str(b, ",\"command_id\":");
    msp_buf_append_json(b, c->command_id, strlen(c->command_id));
    msp_buf_append_str(b, "}");
}

static const char *param_str(const cJSON *params, const char *name)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, name);

    return cJSON_IsString(p) ? p->valuestring : NULL;
}

/* The tool's reply (always 200 here). */
static int run_tool(call *c, const mspf_tool *t, const cJSON *params,
                    int simulate)
{
    const char *agent = param_str(params, "agent_id");
    msp_buf b;
    msp_buf_init(&b, FM_REPLY_MAX);
    size_t i, n = 0;

    switch (kind_of(t)) {
    case T_LIST_DEVICES: {
        const char *q = param_str(params, "query");
        msp_buf_append_str(&b,
                           "{\"success\":true,\"tool\":\"msp.list_devices\","
                           "\"data\":{\"devices\":[");
        for (i = 0; i < sizeof devices / sizeof devices[0]; i++) {
            const device *d = &devices[i];
            if (q && !contains_ci(d->hostname, q) && !contains_ci(d->os, q) &&
                !contains_ci(d->id, q))
                continue;
            if (agent && !strstr(d->agent_id, agent))
                continue;
            if (n++)
                msp_buf_append(&b, ",", 1);
            msp_buf_append_str(&b, d->json);
        }
        msp_buf_printf(&b, "],\"count\":%zu}", n);
        envelope_tail(&b, t->risk_level, c);
        break;
    }
    case T_AGENT_HEALTH:
        msp_buf_append_str(&b,
                           "{\"success\":true,\"tool\":\"msp.agent_health\","
                           "\"data\":{\"agent_id\":");
        msp_buf_append_json(&b, agent, strlen(agent));
        msp_buf_append_str(
            &b,
            ",\"status\":\"healthy\",\"last_seen\":\"2026-11-26T00:00:00Z\","
            "\"cpu_percent\":12.5,\"memory_percent\":41.0,\"agent_version\":"
            "\"4.2.1\"}");
        envelope_tail(&b, t->risk_level, c);
        break;
    case T_PROCESS_KILL: {
        long pid =
            (long)cJSON_GetObjectItemCaseSensitive(params, "pid")->valuedouble;
        msp_buf s;
        msp_buf_init(&s, FM_REPLY_MAX);
        char *text;
        size_t len;
        if (pid == 1) {
            msp_buf_append_str(&b,
                               "{\"exit_code\":1,\"stdout\":\"\",\"stderr\":"
                               "\"kill: (1) - Operation not permitted\\n\"}");
            break;
        }
        msp_buf_printf(&s, "%s process %ld on %s\n",
                       simulate ? "Would kill" : "Killed", pid, agent);
        text = msp_buf_take(&s, &len);
        if (!text)
            return -1;
        msp_buf_append_str(&b, "{\"exit_code\":0,\"stdout\":");
        msp_buf_append_json(&b, text, len);
        msp_buf_append_str(&b, ",\"stderr\":\"\"}");
        free(text);
        break;
    }
    case T_DEVICE_WIPE: /* only reachable with simulate:true */
        msp_buf_append_str(
            &b,
            "{\"success\":true,\"tool\":\"msp.device_wipe\",\"simulated\":true,"
            "\"data\":{\"agent_id\":");
        msp_buf_append_json(&b, agent, strlen(agent));
        msp_buf_append_str(&b, ",\"would_wipe\":true}");
        envelope_tail(&b, t->risk_level, c);
        break;
    case T_UNKNOWN: /* a catalogue tool without a reply here */
        msp_buf_append_str(&b,
                           "{\"exit_code\":0,\"stdout\":\"\",\"stderr\":\"\"}");
        break;
    }
    c->out->status = 200;
    c->out->body = msp_buf_take(&b, &c->out->body_len);
    return c->out->body ? 0 : -1;
}

static int starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* An id header (absent is fine) fit to echo in JSON: UTF-8, no control
 * characters. */
static int header_ok(const char *v)
{
    const unsigned char *p = (const unsigned char *)v;

    if (!v)
        return 1;
    for (; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return fm_utf8_valid((const unsigned char *)v, strlen(v));
}

/* After the checks: idempotency, then the tool. */
static int execute_checked(call *c, const fm_token *tok, const mspf_tool *t,
                           const cJSON *params, int simulate)
{
    idem_outcome o;
    msp_buf fp;
    msp_buf_init(&fp, FM_REPLY_MAX);
    char *fps, *pj;
    size_t fp_len;
    int status = 0, rc;

    if (!c->in->idem_key)
        return run_tool(c, t, params, simulate);
    pj = cJSON_PrintUnformatted(params);
    if (!pj)
        return -1;
    msp_buf_append_str(&fp, tok->tenant);
    msp_buf_append(&fp, "\n", 1);
    msp_buf_append_str(&fp, t->name);
    msp_buf_append(&fp, "\n", 1);
    msp_buf_append_str(&fp, pj);
    msp_buf_append_str(&fp, simulate ? "\ntrue" : "\nfalse");
    cJSON_free(pj);
    fps = msp_buf_take(&fp, &fp_len);
    if (!fps)
        return -1;
    o = fm_idem_begin(c->r->idem, c->in->idem_key, fps, fp_len, fm_mono_ms(),
                      &status, &c->out->body, &c->out->body_len);
    free(fps);
    switch (o) {
    case IDEM_NEW:
        rc = run_tool(c, t, params, simulate);
        if (rc == 0)
            fm_idem_finish(c->r->idem, c->in->idem_key, c->out->status,
                           c->out->body, c->out->body_len);
        else
            fm_idem_abort(c->r->idem, c->in->idem_key);
        return rc;
    case IDEM_REPLAY:
        c->out->status = status;
        c->out->replayed = 1;
        return 0;
    case IDEM_CONFLICT:
        return fail(c, 409, "CONFLICT",
                    "Idempotency collision: this Idempotency-Key was used for "
                    "a different request");
    case IDEM_IN_FLIGHT:
        return fail(c, 409, "CONFLICT",
                    "Idempotency collision: a request with this "
                    "Idempotency-Key is still in flight");
    default: return -1;
    }
}

static int execute(call *c)
{
    const fm_input *in = c->in;
    const char *auth = in->authorization, *token;
    const fm_token *tok;
    const mspf_tool *t = NULL;
    const cJSON *jtool, *params, *sim;
    char msg[320];
    long retry;

    if (!auth)
        return fail(c, 401, "UNAUTHORIZED", "Authentication required");
    if (!starts_with_ci(auth, "Bearer ") || !auth[7] || strchr(auth + 7, ' '))
        return fail(c, 401, "UNAUTHORIZED",
                    "Authentication required: Authorization must be \"Bearer "
                    "<token>\"");
    token = auth + 7;
    c->out->token = token;
    tok = find_token(c->r, token);
    if (!tok)
        return fail(c, 401, "UNAUTHORIZED",
                    "Authentication required: unknown API key");
    if (strcmp(tok->tenant, c->r->tenant) != 0)
        return fail(c, 403, "TENANT_MISMATCH",
                    "Authenticated tenant does not match request tenant");

    c->doc = in->doc;
    jtool = cJSON_GetObjectItemCaseSensitive(c->doc, "tool");
    if (cJSON_IsString(jtool)) {
        c->tool = jtool->valuestring;
        t = mspf_tool_find(c->tool);
    }
    if (tok->read_only && t && strcmp(t->risk_level, "read_only") != 0)
        return fail(c, 403, "FORBIDDEN",
                    "Insufficient permissions: this API key may only run "
                    "read_only tools");
    if (in->idem_key && !*in->idem_key)
        return fail(c, 400, "VALIDATION", "Idempotency-Key must not be empty");
    if (!header_ok(in->command_id) || !header_ok(in->idem_key)) {
        snprintf(msg, sizeof msg,
                 "%s must be valid UTF-8 without control "
                 "characters",
                 !header_ok(in->command_id) ? "X-Brainstorm-Command-Id"
                                            : "Idempotency-Key");
        return fail(c, 400, "VALIDATION", msg);
    }
    if (in->command_id && in->idem_key &&
        strcmp(in->command_id, in->idem_key) != 0)
        return fail(c, 400, "IDEMPOTENCY_CORRELATION_MISMATCH",
                    "Idempotency-Key must equal X-Brainstorm-Command-Id when "
                    "both are present");
    if (in->too_large) {
        snprintf(msg, sizeof msg, "Request body exceeds the limit of %zu bytes",
                 c->r->max_body);
        return fail(c, 413, "PAYLOAD_TOO_LARGE", msg);
    }
    if (!fm_content_type_json(in->content_type))
        return fail(c, 400, "VALIDATION",
                    "Content-Type must be application/json");
    if (!c->doc)
        return fail(c, 400, "VALIDATION", "Request body is not valid JSON");
    if (fm_json_strict(in->body ? in->body : "", in->body_len, msg + 14,
                       sizeof msg - 14) != 0) {
        memcpy(msg, "Request body: ", 14); /* e.g. duplicate member "tool" */
        return fail(c, 400, "VALIDATION", msg);
    }
    if (!cJSON_IsObject(c->doc))
        return fail(c, 400, "VALIDATION", "Request body must be a JSON object");
    if (!cJSON_IsString(jtool))
        return fail(c, 400, "VALIDATION",
                    "Field 'tool' is required and must be a string");
    params = cJSON_GetObjectItemCaseSensitive(c->doc, "params");
    if (!cJSON_IsObject(params))
        return fail(c, 400, "VALIDATION",
                    "Field 'params' is required and must be an object");
    sim = cJSON_GetObjectItemCaseSensitive(c->doc, "simulate");
    if (!cJSON_IsBool(sim))
        return fail(c, 400, "VALIDATION",
                    "Field 'simulate' is required and must be a boolean");
    if (!t) {
        snprintf(msg, sizeof msg, "Unknown tool: %.256s", c->tool);
        return fail(c, 404, "NOT_FOUND", msg);
    }
    if (!mspf_tool_params_check(t, params, msg, sizeof msg))
        return fail(c, 400, "VALIDATION", msg);
    if (t->requires_changeset && cJSON_IsFalse(sim)) {
        snprintf(msg, sizeof msg,
                 "Tool %s requires an approved ChangeSet; run it with "
                 "simulate:true or through a ChangeSet",
                 t->name);
        return fail(c, 400, "CHANGESET_REQUIRED", msg);
    }
    if (c->r->rl &&
        !fm_ratelimit_take(c->r->rl, tok->tenant, fm_mono_ms(), &retry)) {
        c->out->retry_after = retry;
        snprintf(msg, sizeof msg,
                 "Rate limit exceeded for tenant %.128s; retry after %ld s",
                 tok->tenant, retry);
        return fail(c, 429, "RATE_LIMITED", msg);
    }
    return execute_checked(c, tok, t, params, cJSON_IsTrue(sim));
}

int fm_msp_execute(fm_realm *r, const fm_input *in, fm_reply *out)
{
    call c;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&c, 0, sizeof c);
    c.r = r;
    c.in = in;
    c.out = out;
    c.command_id = in->command_id ? in->command_id : in->idem_key;
    if (c.command_id && (!header_ok(in->command_id) ||
                         !header_ok(in->idem_key) || !*c.command_id))
        c.command_id = NULL; /* refused in execute(); never echoed */
    if (c.command_id)
        snprintf(c.trace, sizeof c.trace, "trace-%.256s", c.command_id);
    else {
        snprintf(c.trace, sizeof c.trace, "trace-gen-%llu",
                 atomic_fetch_add(&trace_counter, 1) + 1);
        c.command_id = c.trace + 6;
    }
    rc = execute(&c);
    return rc;
}
