/*
 * pact_rules.c — the fixture matchers as Pact V4 matching rules, examples
 * and generators (docs/pact.md, "Matchers"), for pact_export.c. Also the
 * credential-role table and the two-space JSON printer the Pact files share.
 */
#include "harness.h"
#include "pact.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <executor/msp_util.h>

static const struct {
    const char *key;
    const char *role;
} roles[] = {
    {"sk-test", "valid"},
    {"sk-readonly", "read_only"},
    {"sk-other", "other_tenant"},
    {"sk-wrong-0000", "invalid"},
};

const char *hx_pact_role_of_key(const char *key)
{
    if (!key)
        return "valid";
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].key, key) == 0)
            return roles[i].role;
    return NULL;
}

const char *hx_pact_key_of_role(const char *role)
{
    for (size_t i = 0; role && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].role, role) == 0)
            return roles[i].key;
    return NULL;
}

int hx_pact_fail(hx_pact_build *x, const char *fmt, ...)
{
    if (!x->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->why, sizeof x->why, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const char *hx_pact_matcher_of(const cJSON *v)
{
    static const char *const keys[] = {"regex", "same_as",     "json",
                                       "type",  "absent",      "present",
                                       "exact", "same_as_step"};
    if (!cJSON_IsObject(v) || !v->child)
        return NULL;
    /* {"same_as_step": N, "part": P} is the one two-member matcher */
    if (v->child->next &&
        !(cJSON_GetObjectItemCaseSensitive(v, "same_as_step") &&
          !v->child->next->next))
        return NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(v, keys[i]))
            return keys[i];
    return NULL;
}

int hx_pact_has_matcher(const cJSON *v)
{
    if (hx_pact_matcher_of(v))
        return 1;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
        if (hx_pact_has_matcher(c))
            return 1;
    return 0;
}

void hx_pact_add_rule(cJSON *category, const char *key, cJSON *matcher)
{
    cJSON *entry = cJSON_GetObjectItemCaseSensitive(category, key);
    if (!entry) {
        entry = cJSON_AddObjectToObject(category, key);
        cJSON_AddStringToObject(entry, "combine", "AND");
        cJSON_AddArrayToObject(entry, "matchers");
    }
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(entry, "matchers"),
                         matcher);
}

cJSON *hx_pact_rule(const char *match, const char *regex)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "match", match);
    if (regex)
        cJSON_AddStringToObject(m, "regex", regex);
    return m;
}

cJSON *hx_pact_search_rule(const char *ere)
{
    size_t n = strlen(ere) + 32;
    char *wrapped = malloc(n);
    cJSON *m = NULL;
    if (wrapped) {
        snprintf(wrapped, n, "[\\s\\S]*(?:%s)[\\s\\S]*", ere);
        m = hx_pact_rule("regex", wrapped);
        free(wrapped);
    }
    return m;
}

cJSON *hx_pact_state_generator(const char *value_name)
{
    char expr[128];
    snprintf(expr, sizeof expr, "${%s}", value_name);
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "type", "ProviderState");
    cJSON_AddStringToObject(g, "expression", expr);
    cJSON_AddStringToObject(g, "dataType", "STRING");
    return g;
}

cJSON *hx_pact_uuid_generator(void)
{
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "type", "Uuid");
    cJSON_AddStringToObject(g, "format", "lower-case-hyphenated");
    return g;
}

/* ---- an example string for a regex ------------------------------------ */

typedef struct gen {
    char *w, *end; /* output cursor and its limit (room for the NUL) */
    int bad;
} gen;

static void put(gen *g, char c)
{
    if (g->w < g->end)
        *g->w++ = c;
    else
        g->bad = 1;
}

static char class_char(const char *name, size_t n)
{
    static const struct {
        const char *name;
        char c;
    } map[] = {{"digit", '0'}, {"xdigit", '0'}, {"upper", 'A'},
               {"space", ' '}, {"blank", ' '},  {"punct", '.'}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].name) == n && strncmp(map[i].name, name, n) == 0)
            return map[i].c;
    return 'a';
}

/* One bracket expression at p ('[' already read): a character it accepts.
 * Returns the position after ']', or NULL. */
static const char *bracket(const char *p, char *out)
{
    int negate = *p == '^';
    char set[256] = {0};
    char first = 0;
    if (negate)
        p++;
    for (int i = 0; *p && (*p != ']' || i == 0); i++) {
        char c = *p;
        if (c == '[' && p[1] == ':') {
            const char *e = strstr(p + 2, ":]");
            if (!e)
                return NULL;
            c = class_char(p + 2, (size_t)(e - p - 2));
            p = e + 2;
        } else if (p[1] == '-' && p[2] && p[2] != ']') {
            for (int k = (unsigned char)c; k <= (unsigned char)p[2]; k++)
                set[k] = 1;
            p += 3;
            if (!first)
                first = c;
            continue;
        } else {
            p++;
        }
        set[(unsigned char)c] = 1;
        if (!first)
            first = c;
    }
    if (*p != ']')
        return NULL;
    if (negate) {
        static const char try[] = "xa0_Z9 .";
        first = 0;
        for (const char *t = try; *t && !first; t++)
            if (!set[(unsigned char)*t])
                first = *t;
    }
    *out = first;
    return first ? p + 1 : NULL;
}

/* A sequence up to ')' or the end; the first branch of an alternation. */
static const char *sequence(gen *g, const char *p, int depth)
{
    while (*p && *p != ')' && !g->bad) {
        if (*p == '|') { /* skip the other branches */
            int level = 0;
            for (; *p && (level > 0 || *p != ')'); p++) {
                if (*p == '\\' && p[1])
                    p++;
                else if (*p == '(')
                    level++;
                else if (*p == ')')
                    level--;
            }
            break;
        }
        char *start = g->w;
        if (*p == '^' || *p == '$') {
            p++;
            continue;
        } else if (*p == '(') {
            if (depth > 16) {
                g->bad = 1;
                return p;
            }
            p = sequence(g, p + 1, depth + 1);
            if (*p != ')') {
                g->bad = 1;
                return p;
            }
            p++;
        } else if (*p == '[') {
            char c;
            p = bracket(p + 1, &c);
            if (!p) {
                g->bad = 1;
                return "";
            }
            put(g, c);
        } else if (*p == '\\' && p[1]) {
            char c = p[1];
            put(g, c == 'd' ? '0' : c == 's' ? ' ' : c == 'w' ? 'a' : c);
            p += 2;
        } else {
            put(g, *p == '.' ? 'x' : *p);
            p++;
        }
        /* a quantifier: keep one copy, or the minimum count when above 1 */
        if (*p == '*' || *p == '+' || *p == '?') {
            p++;
        } else if (*p == '{') {
            char *e;
            long n = strtol(p + 1, &e, 10);
            const char *close = strchr(p, '}');
            if (!close || n < 0 || n > 64) {
                g->bad = 1;
                return p;
            }
            size_t len = (size_t)(g->w - start);
            if (n == 0 && e[0] == ',' && e[1] == '}') {
                /* {0,}: one copy is fine */
            } else if (n == 0) {
                g->w = start;
            } else {
                for (long k = 1; k < n && !g->bad; k++)
                    for (size_t i = 0; i < len; i++)
                        put(g, start[i]);
            }
            p = close + 1;
        }
    }
    return p;
}

int hx_pact_regex_example(const char *re, char *out, size_t cap)
{
    if (cap < 2)
        return -1;
    gen g = {.w = out, .end = out + cap - 1};
    const char *rest = sequence(&g, re, 0);
    if (g.bad || *rest)
        return -1;
    *g.w = '\0';
    regex_t rx;
    if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
        return -1;
    int ok = regexec(&rx, out, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok ? 0 : -1;
}

/* ---- JSON paths and bodies ----------------------------------------------- */

int hx_pact_path_child(char *out, const char *parent, const char *key)
{
    int plain = *key != '\0';
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            plain = 0;
    int n = plain ? snprintf(out, HX_PACT_PATH_MAX, "%s.%s", parent, key)
                  : (strchr(key, '\'') ? -1
                                       : snprintf(out, HX_PACT_PATH_MAX,
                                                  "%s['%s']", parent, key));
    return (n < 0 || n >= HX_PACT_PATH_MAX) ? -1 : 0;
}

int hx_pact_body_value(hx_pact_build *x, const cJSON *v, const char *path,
                       cJSON **out)
{
    const char *m = hx_pact_matcher_of(v);
    *out = NULL;
    if (m && strcmp(m, "absent") == 0)
        return 0;
    if (m && strcmp(m, "regex") == 0) {
        char ex[1024];
        if (!cJSON_IsString(v->child) ||
            hx_pact_regex_example(v->child->valuestring, ex, sizeof ex) != 0)
            return hx_pact_fail(
                x, "regex at %s has no example value a Pact can carry", path);
        hx_pact_add_rule(x->body_rules, path,
                         hx_pact_search_rule(v->child->valuestring));
        *out = cJSON_CreateString(ex);
        return 0;
    }
    if (m && strcmp(m, "type") == 0) {
        if (hx_pact_body_value(x, v->child, path, out) != 0)
            return -1;
        hx_pact_add_rule(x->body_rules, path, hx_pact_rule("type", NULL));
        return 0;
    }
    if (m && strcmp(m, "exact") == 0) {
        *out = cJSON_Duplicate(v->child, 1);
        return 0;
    }
    if (m && strcmp(m, "json") == 0) {
        if (hx_pact_has_matcher(v->child))
            return hx_pact_fail(
                x, "{\"json\"} holding matchers at %s: no Pact equivalent",
                path);
        char *text = cJSON_PrintUnformatted(v->child);
        *out = text ? cJSON_CreateString(text) : NULL;
        cJSON_free(text);
        return *out ? 0 : hx_pact_fail(x, "%s", "out of memory");
    }
    if (m)
        return hx_pact_fail(x, "%s matcher at %s has no Pact equivalent", m,
                            path);
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        cJSON *o =
            cJSON_IsObject(v) ? cJSON_CreateObject() : cJSON_CreateArray();
        int i = 0;
        for (const cJSON *c = v->child; c; c = c->next, i++) {
            char sub[HX_PACT_PATH_MAX];
            int bad = cJSON_IsObject(v)
                          ? hx_pact_path_child(sub, path, c->string)
                          : (snprintf(sub, sizeof sub, "%s[%d]", path, i) >=
                             (int)sizeof sub);
            cJSON *cv = NULL;
            if (bad) {
                cJSON_Delete(o);
                return hx_pact_fail(x, "a JSON path past %s is too long", path);
            }
            if (hx_pact_body_value(x, c, sub, &cv) != 0) {
                cJSON_Delete(o);
                return -1;
            }
            if (!cv)
                continue;
            if (cJSON_IsObject(o))
                cJSON_AddItemToObject(o, c->string, cv);
            else
                cJSON_AddItemToArray(o, cv);
        }
        *out = o;
        return 0;
    }
    *out = cJSON_Duplicate(v, 1);
    return 0;
}

/* The value at a path "$.a.b[0]" of root, or NULL (no filters, no quotes).
 */
static const cJSON *get_path(const cJSON *root, const char *path)
{
    if (!root || strncmp(path, "$", 1) != 0)
        return NULL;
    const cJSON *node = root;
    for (const char *p = path + 1; *p && node;) {
        if (*p == '.') {
            char key[256];
            size_t n = strcspn(p + 1, ".[");
            if (n == 0 || n >= sizeof key)
                return NULL;
            memcpy(key, p + 1, n);
            key[n] = '\0';
            node = cJSON_GetObjectItemCaseSensitive(node, key);
            p += 1 + n;
        } else if (p[0] == '[' && p[1] >= '0' && p[1] <= '9') {
            char *e;
            long i = strtol(p + 1, &e, 10);
            if (*e != ']')
                return NULL;
            node = cJSON_GetArrayItem(node, (int)i);
            p = e + 1;
        } else {
            return NULL;
        }
    }
    return node;
}

static int regex_holds(const char *ere, const cJSON *v)
{
    regex_t rx;
    if (!cJSON_IsString(v) || regcomp(&rx, ere, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&rx, v->valuestring, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

/* Puts value (taken) at a path "$.a.b[0]" of *root, creating the objects on
 * the way. Returns 0, or -1 (value freed) for a path it cannot follow. */
static int set_path(cJSON **root, const char *path, cJSON *value)
{
    if (strncmp(path, "$", 1) != 0 || !path[1]) {
        cJSON_Delete(value);
        return -1;
    }
    if (!*root)
        *root = cJSON_CreateObject();
    cJSON *node = *root;
    const char *p = path + 1;
    while (*p) {
        char key[256];
        long index = -1;
        if (*p == '.') {
            size_t n = strcspn(p + 1, ".[");
            if (n == 0 || n >= sizeof key)
                break;
            memcpy(key, p + 1, n);
            key[n] = '\0';
            p += 1 + n;
        } else if (p[0] == '[' && p[1] >= '0' && p[1] <= '9') {
            char *e;
            index = strtol(p + 1, &e, 10);
            if (*e != ']')
                break;
            p = e + 1;
        } else {
            break; /* ['quoted'] and [name=x] filters are not followed */
        }
        int last = *p == '\0';
        cJSON *next = index >= 0 ? cJSON_GetArrayItem(node, (int)index)
                                 : cJSON_GetObjectItemCaseSensitive(node, key);
        if (index >= 0 && (!cJSON_IsArray(node) ||
                           (!next && index != cJSON_GetArraySize(node))))
            break;
        if (index < 0 && !cJSON_IsObject(node))
            break;
        if (last || !next) {
            /* a container is made only where the path has none yet */
            cJSON *fresh = last          ? value
                           : p[0] == '[' ? cJSON_CreateArray()
                                         : cJSON_CreateObject();
            if (index >= 0 && next)
                cJSON_ReplaceItemInArray(node, (int)index, fresh);
            else if (index >= 0)
                cJSON_AddItemToArray(node, fresh);
            else if (next)
                cJSON_ReplaceItemInObjectCaseSensitive(node, key, fresh);
            else
                cJSON_AddItemToObject(node, key, fresh);
            if (last)
                return 0;
            next = fresh;
        }
        node = next;
    }
    cJSON_Delete(value);
    return -1;
}

int hx_pact_is_uuid(const char *s)
{
    return msp_uuid_valid(s, s ? strlen(s) : 0, 0);
}

int hx_pact_values(hx_pact_build *x, cJSON **content, const cJSON *values)
{
    for (const cJSON *v = values ? values->child : NULL; v; v = v->next) {
        const char *path = v->string;
        const char *m = hx_pact_matcher_of(v);
        if (!path || strchr(path, '=') || strchr(path, '\''))
            return hx_pact_fail(x, "values path %s: a filter has no Pact form",
                                path ? path : "?");
        cJSON *example = NULL, *r = NULL;
        const cJSON *have = get_path(*content, path);
        if (m && strcmp(m, "regex") == 0 && cJSON_IsString(v->child) &&
            regex_holds(v->child->valuestring, have)) {
            /* the body's own value is a fine example: keep it */
            hx_pact_add_rule(x->body_rules, path,
                             hx_pact_search_rule(v->child->valuestring));
            continue;
        }
        if (m && strcmp(m, "type") == 0 && have &&
            (have->type & 0xFF) == (v->child->type & 0xFF)) {
            hx_pact_add_rule(x->body_rules, path, hx_pact_rule("type", NULL));
            continue;
        }
        if (!m && cJSON_IsString(v) && x->fresh_ids &&
            hx_pact_is_uuid(v->valuestring)) {
            /* an id the run makes fresh: any UUID (docs/pact.md) */
            example = cJSON_CreateString(v->valuestring);
            r = hx_pact_rule("regex", MSP_UUID_REGEX);
        } else if (!m) {
            example = cJSON_Duplicate(v, 1);
            r = hx_pact_rule("equality", NULL);
        } else if (strcmp(m, "exact") == 0) {
            example = cJSON_Duplicate(v->child, 1);
            r = hx_pact_rule("equality", NULL);
        } else if (strcmp(m, "type") == 0 && !hx_pact_has_matcher(v->child)) {
            example = cJSON_Duplicate(v->child, 1);
            r = hx_pact_rule("type", NULL);
        } else if (strcmp(m, "regex") == 0 && cJSON_IsString(v->child)) {
            char ex[1024];
            if (hx_pact_regex_example(v->child->valuestring, ex, sizeof ex) !=
                0)
                return hx_pact_fail(x, "regex of %s has no example value",
                                    path);
            example = cJSON_CreateString(ex);
            r = hx_pact_search_rule(v->child->valuestring);
        } else {
            return hx_pact_fail(x, "values rule %s at %s has no Pact form", m,
                                path);
        }
        if (set_path(content, path, example) != 0) {
            cJSON_Delete(r);
            return hx_pact_fail(x, "values path %s cannot be followed", path);
        }
        hx_pact_add_rule(x->body_rules, path, r);
    }
    return 0;
}

cJSON *hx_pact_v4_body(cJSON *content, const char *content_type, int base64)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "content", content);
    cJSON_AddStringToObject(b, "contentType", content_type);
    if (base64)
        cJSON_AddStringToObject(b, "encoded", "base64");
    else
        cJSON_AddFalseToObject(b, "encoded");
    return b;
}

char *hx_pact_print(const cJSON *doc)
{
    char *raw = cJSON_Print(doc);
    char *out = raw ? malloc(2 * strlen(raw) + 1) : NULL, *w = out;
    for (const char *r = raw; out && *r; r++) {
        int tab = *r == '\t', colon = r > raw && r[-1] == ':';
        *w++ = tab ? ' ' : *r;
        if (tab && !colon)
            *w++ = ' ';
    }
    if (out)
        *w = '\0';
    cJSON_free(raw);
    return out;
}
