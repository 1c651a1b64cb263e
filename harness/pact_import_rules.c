/*
 * pact_import_rules.c — a pact's response-body matching rules in fixture
 * form, for pact_import.c: the Pact body paths as fixture value paths, the
 * regex rules export writes back as the fixture's ERE, equality rules as
 * literal values, a type rule on $ as provider.match.body "type". A rule
 * with no fixture form is refused with the reason (docs/pact.md).
 */
#include "pact.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where the reason of a refusal goes. */
typedef struct reason {
    char *buf;
    size_t size;
} reason;

__attribute__((format(printf, 2, 3))) static int fail(reason *why,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->buf, why->size, fmt, ap);
    va_end(ap);
    return -1;
}

/* A fixture value path ($.a.b[0]) from a Pact body path ($.a.b[0], or
 * $.body.a.b[0] in a V2 pact when v2), its example in body (NULL when
 * absent). Returns 0, or -1 when the path has no fixture form. */
static int rule_path(const char *pact_path, int v2, const cJSON *body,
                     char out[HX_PACT_PATH_MAX], const cJSON **example)
{
    const char *p = pact_path;
    if (v2) {
        if (strncmp(p, "$.body", 6) != 0 ||
            (p[6] && p[6] != '.' && p[6] != '['))
            return -1;
        p += 6;
    } else {
        if (*p != '$')
            return -1;
        p++;
    }
    if (snprintf(out, HX_PACT_PATH_MAX, "$%s", p) >= HX_PACT_PATH_MAX)
        return -1;
    const cJSON *at = body;
    while (*p) {
        char name[HX_PACT_PATH_MAX];
        size_t n = 0;
        if (*p == '.') {
            for (p++; isalnum((unsigned char)*p) || *p == '_' || *p == '-';)
                name[n++] = *p++;
            name[n] = '\0';
            if (n == 0)
                return -1;
            at = cJSON_IsObject(at) ? cJSON_GetObjectItemCaseSensitive(at, name)
                                    : NULL;
        } else if (*p == '[') {
            char *end;
            unsigned long i = strtoul(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || !isdigit((unsigned char)p[1]))
                return -1;
            p = end + 1;
            at = cJSON_IsArray(at) && i < (unsigned long)cJSON_GetArraySize(at)
                     ? cJSON_GetArrayItem(at, (int)i)
                     : NULL;
        } else {
            return -1;
        }
    }
    *example = at;
    return 0;
}

/* The ERE R of a rule written as export writes it, "[\s\S]*(?:R)[\s\S]*",
 * or NULL. */
static char *export_regex(const char *re)
{
    static const char head[] = "[\\s\\S]*(?:", tail[] = ")[\\s\\S]*";
    size_t n = strlen(re), h = sizeof head - 1, t = sizeof tail - 1;
    if (n < h + t || strncmp(re, head, h) != 0 || strcmp(re + n - t, tail) != 0)
        return NULL;
    char *r = strndup(re + h, n - h - t);
    return r;
}

/* One rule of the response body at path. Returns 0, or -1 with why. */
static int body_rule(reason *why, const char *path, const cJSON *m, int v2,
                     const cJSON *body, int *type_root, cJSON *values)
{
    const cJSON *kind = cJSON_GetObjectItem(m, "match");
    const cJSON *re = cJSON_GetObjectItem(m, "regex");
    const char *k = cJSON_IsString(kind) ? kind->valuestring
                    : cJSON_IsString(re) ? "regex"
                                         : "?";
    char fpath[HX_PACT_PATH_MAX];
    const cJSON *ex = NULL;
    if (rule_path(path, v2, body, fpath, &ex) != 0)
        return fail(why,
                    "the response body rule %s at %s: the path has no "
                    "fixture form",
                    k, path);
    if (strcmp(fpath, "$") == 0) {
        if (strcmp(k, "type") != 0)
            return fail(why,
                        "the response body rule %s at $ has no fixture form "
                        "(only type)",
                        k);
        *type_root = 1;
        return 0;
    }
    if (strcmp(k, "type") == 0)
        return 0; /* under the type rule on $ (checked by the caller) */
    if (cJSON_GetObjectItemCaseSensitive(values, fpath))
        return fail(why, "two response body rules at %s", path);
    if (strcmp(k, "equality") == 0) {
        if (!ex)
            return fail(why,
                        "the response body rule equality at %s: the body has "
                        "no value there",
                        path);
        cJSON_AddItemToObject(values, fpath, cJSON_Duplicate(ex, 1));
        return 0;
    }
    char *ere = strcmp(k, "regex") == 0 && cJSON_IsString(re)
                    ? export_regex(re->valuestring)
                    : NULL;
    if (!ere)
        return fail(
            why, "the response body rule %s at %s has no fixture form%s", k,
            path,
            strcmp(k, "regex") == 0 ? " (only a regex as export writes it, "
                                      "[\\s\\S]*(?:ERE)[\\s\\S]*)"
                                    : "");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(values, fpath), "regex",
                            ere);
    free(ere);
    return 0;
}

/* The fixture form of the pact's response-body matching rules: *mode
 * "type" when $ is compared by type, else "exact" (then no other rule may
 * loosen a path), *values the equality and regex rules at paths (a new
 * object, or NULL when none). A rule with no fixture form leaves the
 * interaction out: comparing exactly instead would change the contract.
 * Returns 0, or -1 with why. */
int hx_pact_import_rules(const cJSON *resp, const cJSON *body,
                         const char **mode, cJSON **values, char *why_buf,
                         size_t why_size)
{
    reason why[1] = {{why_buf, why_size}};
    const cJSON *mr = cJSON_GetObjectItem(resp, "matchingRules");
    *mode = "exact";
    *values = NULL;
    if (!mr)
        return 0;
    const cJSON *st = cJSON_GetObjectItem(mr, "status");
    if (st && st->child)
        return fail(why, "the response has status matching rules: a fixture "
                         "compares the status exactly");
    cJSON *vals = cJSON_CreateObject();
    int type_root = 0, loosening = 0, rc = 0;
    const char *first = NULL;
    const cJSON *cat = cJSON_GetObjectItem(mr, "body");
    int v2 = !cat;
    for (const cJSON *r = v2 ? mr->child : cat->child; r && rc == 0;
         r = r->next) {
        if (v2 && strncmp(r->string, "$.body", 6) != 0)
            continue; /* $.headers…, $.status: not the body */
        const cJSON *ms = cJSON_GetObjectItem(r, "matchers");
        const cJSON *comb = cJSON_GetObjectItem(r, "combine");
        if (ms && cJSON_GetArraySize(ms) > 1 && cJSON_IsString(comb) &&
            strcmp(comb->valuestring, "OR") == 0) {
            rc = fail(why, "the response body rules at %s combine with OR",
                      r->string);
            break;
        }
        for (const cJSON *m = ms ? ms->child : r; m && rc == 0;
             m = ms ? m->next : NULL) {
            rc = body_rule(why, r->string, m, v2, body, &type_root, vals);
            const cJSON *kind = cJSON_GetObjectItem(m, "match");
            int equality = cJSON_IsString(kind) &&
                           strcmp(kind->valuestring, "equality") == 0;
            if (!loosening && !equality &&
                strcmp(r->string, v2 ? "$.body" : "$") != 0) {
                loosening = 1;
                first = r->string;
            }
        }
    }
    if (rc == 0 && loosening && !type_root)
        rc = fail(why,
                  "the response body rule at %s without a type rule on $: a "
                  "fixture would compare the whole body exactly",
                  first);
    if (rc != 0 || !vals->child || !type_root) { /* exact: implied */
        cJSON_Delete(vals);
        vals = NULL;
    }
    if (rc == 0 && type_root && !body)
        rc = fail(why, "a type rule on a body that is not JSON");
    if (rc == 0) {
        *mode = type_root ? "type" : "exact";
        *values = vals;
    }
    return rc;
}
