/*
 * pact.h — what msp-contract's Pact export and import share: the credential
 * roles (a Pact never carries a key, only the role a request needs) and the
 * names of the provider-state values the exported generators read.
 * docs/pact.md describes the mapping in full. Nothing here is a public API.
 */
#ifndef MSP_HARNESS_PACT_H
#define MSP_HARNESS_PACT_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* The provider state every exported interaction carries for its credential:
 * "a credential of role R" with params {"role": "R"}. A state handler
 * answers it with {"authorization": "Bearer <key of R>"}, and any setup call
 * may answer {"commandId": "<fresh UUIDv4>"}; the ProviderState generators
 * of the pact put them in the request. Without them the example values are
 * sent. */
#define HX_PACT_ROLE_STATE_PREFIX "a credential of role "
#define HX_PACT_AUTH_VALUE        "authorization"
#define HX_PACT_COMMAND_ID_VALUE  "commandId"

/* The role a bundled test key stands for, or NULL for a key no role names
 * (such a fixture is not exported: a literal key never goes into a pact). */
const char *hx_pact_role_of_key(const char *key);

/* The bundled fake's default key of a role (fake-msp accepts each), or NULL
 * for an unknown role. Import uses it so verify can run the fixture. */
const char *hx_pact_key_of_role(const char *role);

/* doc as JSON text indented with two spaces (the layout of the bundled
 * fixtures). Returns a new string (free()), or NULL when out of memory. */
char *hx_pact_print(const cJSON *doc);

#endif /* MSP_HARNESS_PACT_H */
