/*
 * test_schema.c — contracts/fixture.schema.json and the parser agree: the
 * schema is valid JSON of draft 2020-12, every property it lists is a key
 * the parser accepts, its required keys are the ones the parser requires,
 * and keys it does not list are refused by the parser.
 * (tests/contracts/validate_fixtures.py validates every fixture against
 * the schema itself when python3-jsonschema is installed.)
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_text.h"

static cJSON *schema;

static void load_schema(void)
{
    const char *src = getenv("MSP_SOURCE_DIR");
    char path[1024];
    FILE *fp;
    char *text = malloc(256 * 1024);
    size_t n;
    cr_assert(src, "MSP_SOURCE_DIR must be set by ctest");
    snprintf(path, sizeof(path), "%s/contracts/fixture.schema.json", src);
    fp = fopen(path, "r");
    cr_assert_not_null(fp, "%s", path);
    n = fread(text, 1, 256 * 1024 - 1, fp);
    fclose(fp);
    text[n] = '\0';
    schema = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(schema, "the schema is not valid JSON");
}

static void free_schema(void)
{
    cJSON_Delete(schema);
}

TestSuite(mspf_schema, .init = load_schema, .fini = free_schema,
          .timeout = TEST_TIMEOUT(10));

/* Follows a "/"-separated pointer below the schema root, resolving $ref. */
static const cJSON *at(const char *pointer)
{
    const cJSON *node = schema;
    char buf[256], *tok, *save = NULL;
    strncpy(buf, pointer, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    for (tok = strtok_r(buf, "/", &save); tok && node;
         tok = strtok_r(NULL, "/", &save)) {
        const cJSON *ref;
        node = cJSON_IsArray(node)
                   ? cJSON_GetArrayItem(node, atoi(tok))
                   : cJSON_GetObjectItemCaseSensitive(node, tok);
        ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
        if (cJSON_IsString(ref) &&
            strncmp(ref->valuestring, "#/$defs/", 8) == 0)
            node = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(schema, "$defs"),
                ref->valuestring + 8);
    }
    cr_assert_not_null(node, "no %s in the schema", pointer);
    return node;
}

Test(mspf_schema, is_draft_2020_12_and_closed)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(schema, "$schema");
    cr_assert(cJSON_IsString(s));
    cr_assert_str_eq(s->valuestring,
                     "https://json-schema.org/draft/2020-12/schema");
    cr_assert(cJSON_IsFalse(
        cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties")));
}

/* The objects of the format: schema location, and where the base fixture
 * has that object (dotted member path; "" is the document). */
typedef struct section {
    char schema_at[64];
    char member[32];
} section;

static const section sections[] = {
    {"", ""},
    {"properties/executor", "executor"},
    {"properties/context", "context"},
    {"properties/request/oneOf/1", "request"},
    {"properties/response", "response"},
    {"properties/expect", "expect"},
    {"properties/provider", "provider"},
    {"properties/provider/properties/match", "provider.match"},
};

static void member_path(const section *s, const char *key, char *buf,
                        size_t cap)
{
    snprintf(buf, cap, "%s%s%s", s->member, s->member[0] ? "." : "", key);
}

Test(mspf_schema, every_listed_property_is_accepted_by_the_parser)
{
    size_t i;
    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        const section *s = &sections[i];
        char ptr[1024];
        const cJSON *props, *p;
        snprintf(ptr, sizeof(ptr), "%s%sproperties", s->schema_at,
                 s->schema_at[0] ? "/" : "");
        props = at(ptr);
        cJSON_ArrayForEach(p, props)
        {
            char member[1024], unknown[1024];
            mspf_fixture *f = NULL;
            mspf_error err;
            member_path(s, p->string, member, sizeof(member));
            snprintf(unknown, sizeof(unknown), "unknown key \"%s\"", p->string);
            /* a plausible value; a type error is fine, "unknown key" is not */
            if (parse_mutated(member, "\"x\"", &f, &err) == 0)
                mspf_fixture_free(f);
            else
                cr_assert_null(strstr(err.reason, unknown),
                               "schema lists %s, parser refuses it", member);
        }
    }
}

Test(mspf_schema, keys_outside_the_schema_are_refused_by_the_parser)
{
    static const char *const typos[] = {
        "nam",   "expected", "respones", "header", "bodytext",
        "delay", "exitcode", "stdOut",   "verfy",  "timeout"};
    size_t i, j;
    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        const section *s = &sections[i];
        char ptr[1024];
        const cJSON *props;
        snprintf(ptr, sizeof(ptr), "%s%sproperties", s->schema_at,
                 s->schema_at[0] ? "/" : "");
        props = at(ptr);
        for (j = 0; j < sizeof(typos) / sizeof(typos[0]); j++) {
            char member[1024];
            mspf_fixture *f = NULL;
            mspf_error err;
            cr_assert_null(cJSON_GetObjectItemCaseSensitive(props, typos[j]));
            member_path(s, typos[j], member, sizeof(member));
            cr_assert_eq(parse_mutated(member, "1", &f, &err), -1,
                         "%s accepted", member);
            cr_assert(strstr(err.reason, "unknown key"), "%s: %s", member,
                      err.reason);
        }
    }
}

Test(mspf_schema, required_keys_agree_with_the_parser)
{
    size_t i;
    for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
        const section *s = &sections[i];
        char ptr[1024];
        const cJSON *props, *req, *p;
        snprintf(ptr, sizeof(ptr), "%s%sproperties", s->schema_at,
                 s->schema_at[0] ? "/" : "");
        props = at(ptr);
        req = cJSON_GetObjectItemCaseSensitive(
            s->schema_at[0] ? at(s->schema_at) : schema, "required");
        cJSON_ArrayForEach(p, props)
        {
            char member[1024];
            mspf_fixture *f = NULL;
            mspf_error err;
            int required = 0, rc;
            const cJSON *r;
            cJSON_ArrayForEach(r, req) required |=
                strcmp(r->valuestring, p->string) == 0;
            if (!s->schema_at[0]) {
                /* a consumer fixture (no provider.steps): the "else" of
                 * the top level's provider-only condition */
                const cJSON *creq = cJSON_GetObjectItemCaseSensitive(
                    at("allOf/1/else"), "required");
                cJSON_ArrayForEach(r, creq) required |=
                    strcmp(r->valuestring, p->string) == 0;
            }
            member_path(s, p->string, member, sizeof(member));
            rc = parse_mutated(member, NULL, &f, &err);
            mspf_fixture_free(f);
            if (required)
                cr_assert(rc == -1 &&
                              strstr(err.reason, "missing required key"),
                          "schema requires %s, parser does not", member);
            else if (strcmp(member, "expect") !=
                     0) /* expect or expects: checked below */
                cr_assert_eq(rc, 0, "parser requires %s: %s", member,
                             err.reason);
        }
    }
}

Test(mspf_schema, fault_kinds_in_the_schema_are_the_catalogue)
{
    const cJSON *variants = at("$defs/fault/oneOf");
    const cJSON *v;
    int seen[MSPF_FAULT_KIND_COUNT] = {0};
    int k;
    cJSON_ArrayForEach(v, variants)
    {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(v, "properties"), "kind");
        const cJSON *names = cJSON_GetObjectItemCaseSensitive(kind, "enum");
        const cJSON *one = cJSON_GetObjectItemCaseSensitive(kind, "const");
        const cJSON *n;
        for (k = 1; k < MSPF_FAULT_KIND_COUNT; k++) {
            const char *name = mspf_fault_kind_name((mspf_fault_kind)k);
            if (one && strcmp(one->valuestring, name) == 0)
                seen[k]++;
            cJSON_ArrayForEach(n, names) seen[k] +=
                strcmp(n->valuestring, name) == 0;
        }
    }
    for (k = 1; k < MSPF_FAULT_KIND_COUNT; k++)
        cr_assert_eq(seen[k], 1, "fault %s appears %d times in the schema",
                     mspf_fault_kind_name((mspf_fault_kind)k), seen[k]);
}
