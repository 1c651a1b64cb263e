/*
 * msp.h — the realistic MSP: credentials, the tool catalogue and the
 * execute endpoint's checks in the order of docs/wire-contract.md ("The
 * MSP side"), then idempotency and the tools' canned replies.
 *
 * Which responses the idempotency store keeps: every response produced
 * after the idempotency check, i.e. every response of a tool that ran
 * (all of them 2xx here). Rejections before it (401..429) are not stored,
 * so a retry after fixing the request is not answered from the store.
 */
#ifndef FAKE_MSP_MSP_H
#define FAKE_MSP_MSP_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "idem.h"
#include "ratelimit.h"

#include "executor/msp_executor.h"

/* The kit's one version (executor/msp_executor.h). */
#define FAKE_MSP_VERSION MSP_EXECUTOR_VERSION

typedef struct fm_token {
    char *token;
    char *tenant;
    int read_only;
} fm_token;

typedef struct fm_realm {
    const char *tenant; /* the server's tenant */
    fm_token *tokens;
    size_t n_tokens;
    size_t max_body;
    idem_store *idem;
    ratelimit *rl; /* NULL: unlimited */
} fm_realm;

/* Parses "TOKEN=TENANT[:read_only]" into *t (strings malloc'd). Returns 0,
 * or -1 with a reason in errbuf. */
int fm_token_parse(const char *spec, fm_token *t, char *errbuf, size_t errlen);

/* What the execute endpoint needs from a request; NULL for absent headers. */
typedef struct fm_input {
    const char *authorization;
    const char *command_id; /* X-Brainstorm-Command-Id */
    const char *idem_key;   /* Idempotency-Key */
    const char *content_type;
    const cJSON *doc; /* the body parsed; NULL: not JSON or too large */
    int too_large;    /* the body passed max_body */
    const char *body; /* the raw body (may be NULL when empty) */
    size_t body_len;
} fm_input;

typedef struct fm_reply {
    int status;
    char *body; /* malloc'd JSON, NUL-terminated */
    size_t body_len;
    long retry_after;  /* > 0: send Retry-After */
    int replayed;      /* 1: send Idempotent-Replayed: true */
    const char *token; /* the bearer token seen (borrowed), for the log */
} fm_reply;

/* Runs the execute endpoint. Returns 0 with *out filled (free out->body),
 * or -1 on ENOMEM. */
int fm_msp_execute(fm_realm *r, const fm_input *in, fm_reply *out);

/* An error body {"success":false,"error":{...},"tool":...,"trace_id":...}
 * (malloc'd). tool may be NULL; trace NULL generates one. */
char *fm_error_body(const char *code, const char *message, const char *tool,
                    const char *trace, size_t *len);

/* The GET /api/v1/god-mode/tools and GET /health bodies (static). */
const char *fm_tools_json(void);
const char *fm_health_json(void);

#endif
