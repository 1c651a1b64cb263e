/*
 * catalog.c — the two tables the provider side is built on: the credential
 * roles fixtures name instead of keys, and the MSP-side check table
 * (docs/provider.md) that provider fixtures pin.
 */
#include <search.h>
#include <stddef.h>
#include <string.h>

#include "fixture_internal.h"

#define COUNT(a) (sizeof(a) / sizeof(a)[0])

/* lfind() comparison: key a name, row a row of either table below, which
 * both open with their name. */
static int name_differs(const void *key, const void *row)
{
    return strcmp(key, *(const char *const *)row);
}

_Static_assert(offsetof(mspf_role, name) == 0, "a role opens with its name");
_Static_assert(offsetof(mspf_msp_check, name) == 0,
               "a check opens with its name");

static const mspf_role roles[] = {
    {"valid", "sk-test", 1, 0, 0,
     "a key of the server's tenant that may run every tool"},
    {"read_only", "sk-readonly", 1, 1, 0,
     "a key of the server's tenant that may run only read_only tools"},
    {"other_tenant", "sk-other", 1, 0, 1,
     "a valid key bound to another tenant than the server's"},
    {"invalid", "sk-wrong-0000", 0, 0, 0,
     "a key no server issues (the built-in one serves everywhere)"},
};

const mspf_role *mspf_roles(size_t *n)
{
    if (n)
        *n = COUNT(roles);
    return roles;
}

const mspf_role *mspf_role_find(const char *name)
{
    size_t n = COUNT(roles);
    return name ? lfind(name, roles, &n, sizeof roles[0], name_differs) : NULL;
}

static const mspf_msp_check checks[] = {
    {"unauthorized", 1, "401", "UNAUTHORIZED",
     "missing / malformed / unknown bearer token"},
    {"tenant_mismatch", 2, "403", "TENANT_MISMATCH",
     "token valid but bound to another tenant than the server's"},
    {"forbidden", 3, "403", "FORBIDDEN",
     "token valid but not allowed to run the tool"},
    {"correlation_mismatch", 4, "400", "IDEMPOTENCY_CORRELATION_MISMATCH",
     "X-Brainstorm-Command-Id and Idempotency-Key present and different"},
    {"payload_too_large", 5, "413", "PAYLOAD_TOO_LARGE",
     "body over the size limit"},
    {"validation_request", 6, "400", "VALIDATION",
     "Content-Type not JSON, body not JSON, tool/params/simulate missing or "
     "mistyped"},
    {"unknown_tool", 7, "404", "NOT_FOUND", "unknown tool"},
    {"validation_params", 8, "400", "VALIDATION",
     "params fail the tool's parameter schema"},
    {"changeset_required", 9, "400", "CHANGESET_REQUIRED",
     "tool needs a ChangeSet and simulate is false"},
    {"rate_limited", 10, "429", "RATE_LIMITED",
     "per-tenant rate limit exceeded; Retry-After"},
    {"replay", 11, "stored", "",
     "same Idempotency-Key, same request: the stored response byte for byte"},
    {"conflict", 12, "409", "CONFLICT",
     "same Idempotency-Key with a different request"},
    {"server_fault", 13, "500/503", "INTERNAL/UNAVAILABLE", "server fault"},
    {"tools", 0, "200", "",
     "GET /api/v1/god-mode/tools: every v1 tool with its parameter schema"},
    {"health", 0, "200", "", "GET /health"},
};

const mspf_msp_check *mspf_msp_checks(size_t *n)
{
    if (n)
        *n = COUNT(checks);
    return checks;
}

const mspf_msp_check *mspf_msp_check_find(const char *name)
{
    size_t n = COUNT(checks);
    return name ? lfind(name, checks, &n, sizeof checks[0], name_differs)
                : NULL;
}
