/*
 * tools.c — the tool catalogue (contracts/tools.h): one row per v1 tool with
 * its JSON Schemas as text, and the small schema check fake-msp validates
 * params with. docs/wire-contract.md ("Tools") states the same bounds; the
 * ctest contracts_catalog_matches_docs holds the two together.
 */
#include <contracts/tools.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define STR     "{\"type\":\"string\"}"
#define PERCENT "{\"type\":\"number\",\"minimum\":0,\"maximum\":100}"

static const mspf_tool tools[] = {
    {"msp.list_devices", "devices",
     "List managed devices, optionally filtered by a hostname/OS query or an "
     "agent id",
     "{\"type\":\"object\",\"properties\":{\"query\":" STR ",\"agent_id\":" STR
     "},\"required\":[],\"additionalProperties\":false}",
     MSPF_REPLY_ENVELOPE,
     "{\"type\":\"object\",\"properties\":{"
     "\"devices\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
     "\"properties\":{\"id\":" STR ",\"hostname\":" STR ",\"os\":" STR
     ",\"agent_id\":" STR ",\"online\":{\"type\":\"boolean\"}},"
     "\"required\":[\"id\",\"hostname\",\"os\",\"agent_id\",\"online\"],"
     "\"additionalProperties\":false}},"
     "\"count\":{\"type\":\"integer\",\"minimum\":0}},"
     "\"required\":[\"devices\",\"count\"],\"additionalProperties\":false}",
     "read_only", 0, 0},
    {"msp.agent_health", "agents", "Health of one edge agent",
     "{\"type\":\"object\",\"properties\":{\"agent_id\":" STR
     "},\"required\":[\"agent_id\"],\"additionalProperties\":false}",
     MSPF_REPLY_ENVELOPE,
     "{\"type\":\"object\",\"properties\":{\"agent_id\":" STR ",\"status\":" STR
     ",\"last_seen\":{\"type\":\"string\","
     "\"format\":\"date-time\"},\"cpu_percent\":" PERCENT
     ",\"memory_percent\":" PERCENT ",\"agent_version\":" STR "},"
     "\"required\":[\"agent_id\",\"status\",\"last_seen\",\"cpu_percent\","
     "\"memory_percent\",\"agent_version\"],\"additionalProperties\":false}",
     "read_only", 0, 0},
    {"msp.process_kill", "processes",
     "Kill a process on the device of an edge agent",
     "{\"type\":\"object\",\"properties\":{\"agent_id\":" STR
     ",\"pid\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":4194304}},"
     "\"required\":[\"agent_id\",\"pid\"],\"additionalProperties\":false}",
     MSPF_REPLY_RESULT, NULL, "high", 0, 0},
    {"msp.device_wipe", "devices",
     "Factory-reset a device (needs an approved ChangeSet)",
     "{\"type\":\"object\",\"properties\":{\"agent_id\":" STR
     "},\"required\":[\"agent_id\"],\"additionalProperties\":false}",
     MSPF_REPLY_ENVELOPE,
     "{\"type\":\"object\",\"properties\":{\"agent_id\":" STR
     ",\"would_wipe\":{\"type\":\"boolean\"}},"
     "\"required\":[\"agent_id\",\"would_wipe\"],"
     "\"additionalProperties\":false}",
     "destructive", 1, 1},
};

#define N_TOOLS (sizeof tools / sizeof tools[0])

static pthread_once_t parse_once = PTHREAD_ONCE_INIT;
static cJSON *params_doc[N_TOOLS];
static cJSON *data_doc[N_TOOLS];

static void parse_all(void)
{
    size_t i;
    for (i = 0; i < N_TOOLS; i++) {
        params_doc[i] = cJSON_Parse(tools[i].params_schema);
        data_doc[i] =
            tools[i].data_schema ? cJSON_Parse(tools[i].data_schema) : NULL;
    }
}

const mspf_tool *mspf_tools(size_t *n)
{
    if (n)
        *n = N_TOOLS;
    return tools;
}

const mspf_tool *mspf_tool_find(const char *name)
{
    size_t i;
    for (i = 0; name && i < N_TOOLS; i++)
        if (strcmp(tools[i].name, name) == 0)
            return &tools[i];
    return NULL;
}

static size_t index_of(const mspf_tool *t)
{
    return (size_t)(t - tools);
}

const cJSON *mspf_tool_params(const mspf_tool *t)
{
    pthread_once(&parse_once, parse_all);
    return t ? params_doc[index_of(t)] : NULL;
}

const cJSON *mspf_tool_data(const mspf_tool *t)
{
    pthread_once(&parse_once, parse_all);
    return t ? data_doc[index_of(t)] : NULL;
}

/* Whether v has the JSON Schema type `type` (integer: a whole number). */
static int has_type(const cJSON *v, const char *type)
{
    if (strcmp(type, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(v);
    if (strcmp(type, "object") == 0)
        return cJSON_IsObject(v);
    if (strcmp(type, "array") == 0)
        return cJSON_IsArray(v);
    if (strcmp(type, "number") == 0)
        return cJSON_IsNumber(v) && isfinite(v->valuedouble);
    if (strcmp(type, "integer") == 0)
        return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
               floor(v->valuedouble) == v->valuedouble;
    return 0;
}

/* One member against its property schema; 1 when it holds. */
static int member_ok(const char *name, const cJSON *v, const cJSON *s,
                     char *msg, size_t len)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
    const cJSON *min = cJSON_GetObjectItemCaseSensitive(s, "minimum");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(s, "maximum");
    int ok = !cJSON_IsString(type) || has_type(v, type->valuestring);

    if (ok && cJSON_IsNumber(v)) {
        if (cJSON_IsNumber(min) && v->valuedouble < min->valuedouble)
            ok = 0;
        if (cJSON_IsNumber(max) && v->valuedouble > max->valuedouble)
            ok = 0;
    }
    if (ok)
        return 1;
    if (cJSON_IsNumber(min) && cJSON_IsNumber(max))
        snprintf(msg, len,
                 "Invalid parameter: %s must be an %s from %.0f to "
                 "%.0f",
                 name, type ? type->valuestring : "number", min->valuedouble,
                 max->valuedouble);
    else
        snprintf(msg, len, "Invalid parameter: %s must be a%s %s", name,
                 type && strchr("aeiou", type->valuestring[0]) ? "n" : "",
                 type ? type->valuestring : "value");
    return 0;
}

int mspf_tool_params_check(const mspf_tool *t, const cJSON *params, char *msg,
                           size_t len)
{
    const cJSON *schema = mspf_tool_params(t), *props, *req, *r, *p;

    if (!schema) {
        snprintf(msg, len, "Tool %s has no parameter schema", t->name);
        return 0;
    }
    if (!cJSON_IsObject(params)) {
        snprintf(msg, len, "Field 'params' must be an object");
        return 0;
    }
    props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    req = cJSON_GetObjectItemCaseSensitive(schema, "required");
    cJSON_ArrayForEach(r, req)
    {
        if (cJSON_IsString(r) &&
            !cJSON_GetObjectItemCaseSensitive(params, r->valuestring)) {
            snprintf(msg, len, "Missing required parameter: %s",
                     r->valuestring);
            return 0;
        }
    }
    cJSON_ArrayForEach(p, params)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(props, p->string);
        if (!s) {
            snprintf(msg, len, "Unknown parameter: %.200s", p->string);
            return 0;
        }
        if (!member_ok(p->string, p, s, msg, len))
            return 0;
    }
    return 1;
}
