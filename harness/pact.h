/*
 * pact.h — what msp-contract's Pact export and import share: the credential
 * roles (a Pact never carries a key, only the role a request needs), the
 * names of the provider-state values the exported generators read, and the
 * matcher-to-Pact mapping (pact_rules.c). docs/pact.md describes it in full.
 * Nothing here is a public API.
 */
#ifndef MSP_HARNESS_PACT_H
#define MSP_HARNESS_PACT_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <contracts/fixture.h>

/* The provider state every exported interaction with a credential carries:
 * "a credential of role R" with params {"role": "R"}. A state handler
 * answers it with {"authorization": "Bearer <key of R>"}, and any setup call
 * may answer {"commandId": "<fresh UUIDv4>"}; the ProviderState generators
 * of the pact put them in the request. Without them the example values are
 * sent. */
#define HX_PACT_ROLE_STATE_PREFIX "a credential of role "
#define HX_PACT_AUTH_VALUE        "authorization"
#define HX_PACT_COMMAND_ID_VALUE  "commandId"
#define HX_PACT_PATH_MAX          512

/* The role a bundled test key stands for ("valid" for NULL), or NULL for a
 * key no role names (such a fixture is not exported: a literal key never
 * goes into a pact). */
const char *hx_pact_role_of_key(const char *key);

/* The bundled fake's default key of a role, or NULL for an unknown role.
 * Import uses it so verify can run the fixture. */
const char *hx_pact_key_of_role(const char *role);

/* One interaction being built, and why it could not be (why[0] != 0). The
 * rule and generator objects are owned by the builder until attached. */
typedef struct hx_pact_build {
    const mspf_fixture *f;
    int fresh_ids; /* ids in the request get generators (not pinned) */
    cJSON *body_rules;
    cJSON *header_rules;
    cJSON *header_gens;
    cJSON *body_gens;
    char why[512];
} hx_pact_build;

/* Records why the fixture cannot be exported (the first reason wins).
 * Returns -1. */
int hx_pact_fail(hx_pact_build *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The matcher key of a fixture matcher object ("regex", "same_as", "json",
 * "type", "absent", "present", "exact", "same_as_step"), or NULL for a
 * literal. */
const char *hx_pact_matcher_of(const cJSON *v);
int hx_pact_has_matcher(const cJSON *v); /* anywhere inside v */

/* Appends matcher (taken) to the rules of key in a matchingRules category,
 * in the V4 form {"combine": "AND", "matchers": [...]}. */
void hx_pact_add_rule(cJSON *category, const char *key, cJSON *matcher);
/* {"match": match[, "regex": regex]}, a new item. */
cJSON *hx_pact_rule(const char *match, const char *regex);
/* A regex rule for a fixture regex. The fixture's ERE searches (regexec);
 * Pact's regex must match the whole value (Oniguruma in pact_matching), so
 * the rule is "[\s\S]*(?:ERE)[\s\S]*" (no inline flags: Oniguruma's Ruby
 * syntax has no (?s)). A '.' of the ERE then matches no newline. */
cJSON *hx_pact_search_rule(const char *ere);
/* A ProviderState generator reading ${value_name}; a Uuid generator. */
cJSON *hx_pact_state_generator(const char *value_name);
cJSON *hx_pact_uuid_generator(void);

/* An example string matching the POSIX ERE re (first branch of each
 * alternation, one copy or the minimum count of each repetition, a member
 * of each bracket), checked with regexec. Returns 0, or -1 when none is
 * found. */
int hx_pact_regex_example(const char *re, char *out, size_t cap);

/* A JSONPath child, $.name or $['odd name'], in out (HX_PACT_PATH_MAX).
 * Returns 0, or -1 when it would not fit. */
int hx_pact_path_child(char *out, const char *parent, const char *key);

/* A body value with matchers at path, as its Pact example (*out, NULL when
 * the member is left out), rules added to x->body_rules. Returns 0, or -1
 * with x->why set. */
int hx_pact_body_value(hx_pact_build *x, const cJSON *v, const char *path,
                       cJSON **out);

/* The "values" rules of a provider expectation (JSON path -> rule) as
 * examples set in *content (created when NULL) and rules in x->body_rules.
 * Returns 0, or -1 with x->why set (a [name=x] filter, present/absent). */
int hx_pact_values(hx_pact_build *x, cJSON **content, const cJSON *values);

/* A lowercase UUID. */
int hx_pact_is_uuid(const char *s);

/* A V4 body object {"content", "contentType", "encoded"} (content taken). */
cJSON *hx_pact_v4_body(cJSON *content, const char *content_type, int base64);

/* doc as JSON text indented with two spaces (the layout of the bundled
 * fixtures). Returns a new string (free()), or NULL when out of memory. */
char *hx_pact_print(const cJSON *doc);

/* The strict JSON check of pact_scan.c. HX_PACT_SCAN_NUL: a string holds
 * \u0000 (cJSON would cut it there); HX_PACT_SCAN_NOT_UTF8: a string holds
 * bytes that are not UTF-8. */
#define HX_PACT_DEPTH_MAX     200
#define HX_PACT_SCAN_NUL      1u
#define HX_PACT_SCAN_NOT_UTF8 2u
typedef struct hx_pact_scan {
    char error[160];      /* why the text is not JSON, with the offset */
    unsigned outside;     /* flags of strings outside any interaction */
    unsigned char *flags; /* per element of the top-level "interactions" */
    size_t n_flags;
} hx_pact_scan;

/* Checks text[0..len) is one JSON value (RFC 8259, nesting at most
 * HX_PACT_DEPTH_MAX, no lone surrogate escape) and flags the strings of
 * each interaction. Returns 0, or -1 with out->error set. Release out with
 * hx_pact_scan_free() either way. */
int hx_pact_scan_text(const char *text, size_t len, hx_pact_scan *out);
/* The flags of the strings of interaction index. */
unsigned hx_pact_scan_flags(const hx_pact_scan *sc, size_t index);
void hx_pact_scan_free(hx_pact_scan *sc);

/* The fixture form of a pact response's body matching rules (V2 "$.body…"
 * keys or V3/V4 categories; pact_import_rules.c): *mode "type" when $ is
 * compared by type, else "exact" (then no other rule may loosen a path);
 * *values the equality and regex rules by fixture path (a new object the
 * caller owns, or NULL when none). body is the response body as JSON, NULL
 * when it is not JSON. Returns 0, or -1 with the reason in why. */
int hx_pact_import_rules(const cJSON *resp, const cJSON *body,
                         const char **mode, cJSON **values, char *why,
                         size_t why_size);

#endif /* MSP_HARNESS_PACT_H */
