/*
 * tools.h — the MSP tool catalogue: the one table of v1 tools that
 * fake-msp serves (validation, replies, GET /api/v1/god-mode/tools), the
 * provider fixtures pin and `msp-contract export --openapi` describes
 * (docs/openapi.md). Everything here is static storage: nothing to free.
 */
#ifndef MSPF_TOOLS_H
#define MSPF_TOOLS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a tool's 200 reply is (docs/wire-contract.md, "Tools"). */
typedef enum mspf_reply_kind {
    MSPF_REPLY_ENVELOPE = 0, /* {"success":true,"tool":...,"data":{...},...}:
                                exit-table row 8 */
    MSPF_REPLY_RESULT        /* {"exit_code":N,"stdout":...,"stderr":...}:
                                exit-table row 6 */
} mspf_reply_kind;

/* The largest pid msp.process_kill takes (docs/wire-contract.md). */
#define MSPF_PID_MAX 4194304

/* One tool. The schemas are JSON Schema (draft 2020-12) as JSON text. */
typedef struct mspf_tool {
    const char *name;          /* "msp.list_devices" */
    const char *domain;        /* "devices" */
    const char *description;   /* one sentence */
    const char *params_schema; /* what `params` must be; served verbatim
                                  (parsed) as the tool's "parameters" */
    mspf_reply_kind reply;
    const char *data_schema; /* MSPF_REPLY_ENVELOPE: the schema of `data`;
                                MSPF_REPLY_RESULT: NULL */
    const char *risk_level;  /* "read_only", "high", "destructive" */
    int requires_changeset;  /* 1: 400 CHANGESET_REQUIRED unless simulate */
    int simulated_flag;      /* 1: its envelope carries "simulated":true */
} mspf_tool;

/* The catalogue, in the order GET /api/v1/god-mode/tools lists it (*n
 * entries). */
const mspf_tool *mspf_tools(size_t *n);

/* The tool called name, or NULL. */
const mspf_tool *mspf_tool_find(const char *name);

/* The tool's params schema parsed (cached after the first call, shared,
 * never freed: do not modify), or NULL on ENOMEM. Thread-safe. */
const cJSON *mspf_tool_params(const mspf_tool *t);

/* The tool's data schema parsed like mspf_tool_params(); NULL for a
 * MSPF_REPLY_RESULT tool. */
const cJSON *mspf_tool_data(const mspf_tool *t);

/* Checks params (a JSON object) against the tool's params schema, the
 * subset the catalogue uses: type object/string/integer/number/boolean,
 * properties, required, additionalProperties:false, minimum, maximum.
 * Returns 1 when valid, else 0 with the reason in msg, in the words of
 * docs/wire-contract.md ("Missing required parameter: agent_id", "Unknown
 * parameter: x", "Invalid parameter: pid must be an integer from 1 to
 * 4194304"). */
int mspf_tool_params_check(const mspf_tool *t, const cJSON *params, char *msg,
                           size_t len);

#ifdef __cplusplus
}
#endif
#endif /* MSPF_TOOLS_H */
