/*
 * pact_export.c — msp-contract export: the fixtures a provider can replay,
 * written as a Pact Specification V4 pact (one "Synchronous/HTTP"
 * interaction per fixture). docs/pact.md is the mapping, rule by rule; in
 * short:
 *   - literals stay literals (Pact compares them for equality);
 *     {"regex"} -> a regex rule with an example value; {"type"} -> a type
 *     rule; {"same_as": H} -> H's example and H's rule (exact when H is a
 *     literal); {"json"} -> its compact text; {"absent"} -> left out (Pact
 *     cannot forbid a header or member);
 *   - the Authorization value becomes a role placeholder with a regex rule
 *     and a ProviderState generator; the command id headers get a
 *     ProviderState generator (fresh ids when the state handler gives one);
 *   - the response body is compared the way provider.match says: "type" ->
 *     a type rule on "$" with error.code kept exact, "exact" -> no rule,
 *     "error_code" -> only {"error":{"code"}} in the pact.
 * Fixtures that cannot be expressed are left out and listed on stderr with
 * the reason.
 */
#include "harness.h"
#include "pact.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define PATH_MAX_LEN     512

#define DEFAULT_CONSUMER "brainstorm-msp-executor"
#define DEFAULT_PROVIDER "msp-god-mode-api"

/* One interaction being built, and why it could not be (why[0] != 0). */
typedef struct xp {
    const mspf_fixture *f;
    cJSON *body_rules;
    cJSON *header_rules;
    cJSON *header_gens;
    char why[512];
} xp;

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

static int fail(xp *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records why the fixture cannot be exported (the first reason wins). */
static int fail(xp *x, const char *fmt, ...)
{
    if (!x->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->why, sizeof x->why, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The matcher key of a {"regex"|"same_as"|"json"|"type"|"absent"} object,
 * or NULL for a literal. */
static const char *matcher_of(const cJSON *v)
{
    static const char *const keys[] = {"regex", "same_as", "json", "type",
                                       "absent"};
    if (!cJSON_IsObject(v) || !v->child || v->child->next)
        return NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (v->child->string && strcmp(v->child->string, keys[i]) == 0)
            return keys[i];
    return NULL;
}

/* Appends `matcher` to the rule list of `key` in a matchingRules category
 * (V4 form: {"combine": "AND", "matchers": [...]}). Takes the matcher. */
static void add_rule(cJSON *category, const char *key, cJSON *matcher)
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

static cJSON *rule(const char *match, const char *regex)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "match", match);
    if (regex)
        cJSON_AddStringToObject(m, "regex", regex);
    return m;
}

static cJSON *state_generator(const char *value_name)
{
    char expr[128];
    snprintf(expr, sizeof expr, "${%s}", value_name);
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "type", "ProviderState");
    cJSON_AddStringToObject(g, "expression", expr);
    cJSON_AddStringToObject(g, "dataType", "STRING");
    return g;
}

/* An example value for a regex: the pattern itself once its anchors are
 * dropped, when nothing else in it is special. Returns 0, or -1 when the
 * pattern needs a real generator (the fixture is then left out). */
static int regex_example(const char *re, char *out, size_t cap)
{
    size_t n = strlen(re);
    const char *s = re;
    if (*s == '^')
        s++, n--;
    if (n > 0 && s[n - 1] == '$' && (n < 2 || s[n - 2] != '\\'))
        n--;
    if (n == 0 || n >= cap || strcspn(s, ".[]()*+?{}|\\^$") < n)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* A JSONPath child: $.name, or $['odd name'] when the name is not a plain
 * identifier. -1 when it would not fit. */
static int path_child(char *out, const char *parent, const char *key)
{
    int plain = *key != '\0';
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            plain = 0;
    int n = plain
                ? snprintf(out, PATH_MAX_LEN, "%s.%s", parent, key)
                : (strchr(key, '\'')
                       ? -1
                       : snprintf(out, PATH_MAX_LEN, "%s['%s']", parent, key));
    return (n < 0 || n >= PATH_MAX_LEN) ? -1 : 0;
}

static int has_matcher(const cJSON *v)
{
    if (matcher_of(v))
        return 1;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next)
        if (has_matcher(c))
            return 1;
    return 0;
}

/* Converts a body value with matchers at `path` to its Pact example (*out,
 * NULL when the member is to be left out), adding rules to x->body_rules.
 * Returns 0 or -1 with x->why set. */
static int body_value(xp *x, const cJSON *v, const char *path, cJSON **out)
{
    const char *m = matcher_of(v);
    *out = NULL;
    if (m && strcmp(m, "absent") == 0)
        return 0;
    if (m && strcmp(m, "regex") == 0) {
        char ex[1024];
        if (!cJSON_IsString(v->child) ||
            regex_example(v->child->valuestring, ex, sizeof ex) != 0)
            return fail(x, "regex at %s has no example value a Pact can carry",
                        path);
        add_rule(x->body_rules, path, rule("regex", v->child->valuestring));
        *out = cJSON_CreateString(ex);
        return 0;
    }
    if (m && strcmp(m, "type") == 0) {
        if (body_value(x, v->child, path, out) != 0)
            return -1;
        add_rule(x->body_rules, path, rule("type", NULL));
        return 0;
    }
    if (m && strcmp(m, "json") == 0) {
        if (has_matcher(v->child))
            return fail(x,
                        "{\"json\"} holding matchers at %s: no Pact "
                        "equivalent",
                        path);
        char *text = cJSON_PrintUnformatted(v->child);
        *out = text ? cJSON_CreateString(text) : NULL;
        cJSON_free(text);
        return *out ? 0 : fail(x, "%s", "out of memory");
    }
    if (m) /* same_as: request headers only, refused by the fixture model */
        return fail(x, "%s matcher at %s has no Pact equivalent", m, path);
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        cJSON *o =
            cJSON_IsObject(v) ? cJSON_CreateObject() : cJSON_CreateArray();
        int i = 0;
        for (const cJSON *c = v->child; c; c = c->next, i++) {
            char sub[PATH_MAX_LEN];
            int bad = cJSON_IsObject(v)
                          ? path_child(sub, path, c->string)
                          : (snprintf(sub, sizeof sub, "%s[%d]", path, i) >=
                             (int)sizeof sub);
            cJSON *cv = NULL;
            if (bad) {
                cJSON_Delete(o);
                return fail(x, "a JSON path past %s is too long", path);
            }
            if (body_value(x, c, sub, &cv) != 0) {
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

/* One request header: its example (NULL: left out), rule and generator.
 * `all` is the fixture's header object (for same_as). */
static int header_value(xp *x, const cJSON *all, const cJSON *h,
                        const char *role, int depth, cJSON *headers,
                        const char *name)
{
    const mspf_fixture *f = x->f;
    const char *m = matcher_of(h);
    if (strcasecmp(name, "Authorization") == 0) {
        /* Never a key in a pact: the role stands in for it. */
        char ph[160];
        snprintf(ph, sizeof ph, "Bearer <role:%s>", role);
        cJSON_AddItemToObject(headers, name,
                              cJSON_CreateStringArray((const char *[]){ph}, 1));
        add_rule(x->header_rules, name, rule("regex", "^Bearer .+$"));
        cJSON_AddItemToObject(x->header_gens, name,
                              state_generator(HX_PACT_AUTH_VALUE));
        return 0;
    }
    if (m && strcmp(m, "absent") == 0)
        return 0;
    if (m && strcmp(m, "same_as") == 0) {
        const cJSON *target =
            cJSON_IsString(h->child)
                ? cJSON_GetObjectItem(all, h->child->valuestring)
                : NULL;
        if (!target || depth > 0)
            return fail(x, "same_as of header %s names no plain header", name);
        return header_value(x, all, target, role, depth + 1, headers, name);
    }
    char ex[1024];
    if (m && strcmp(m, "regex") == 0) {
        if (!cJSON_IsString(h->child) ||
            regex_example(h->child->valuestring, ex, sizeof ex) != 0)
            return fail(x, "regex of header %s has no example value", name);
        add_rule(x->header_rules, name, rule("regex", h->child->valuestring));
    } else if (m && strcmp(m, "type") == 0 && cJSON_IsString(h->child)) {
        snprintf(ex, sizeof ex, "%s", h->child->valuestring);
        add_rule(x->header_rules, name, rule("type", NULL));
    } else if (m && strcmp(m, "json") == 0 && !has_matcher(h->child)) {
        char *text = cJSON_PrintUnformatted(h->child);
        snprintf(ex, sizeof ex, "%s", text ? text : "");
        cJSON_free(text);
    } else if (!m && cJSON_IsString(h)) {
        snprintf(ex, sizeof ex, "%s", h->valuestring);
        if (f->command_id && strcmp(h->valuestring, f->command_id) == 0)
            cJSON_AddItemToObject(x->header_gens, name,
                                  state_generator(HX_PACT_COMMAND_ID_VALUE));
    } else {
        return fail(x, "header %s: this matcher has no Pact equivalent", name);
    }
    cJSON_AddItemToObject(headers, name,
                          cJSON_CreateStringArray((const char *[]){ex}, 1));
    return 0;
}

static int has_fault(const mspf_fixture *f)
{
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].fault.kind != MSPF_FAULT_NONE)
            return 1;
    return 0;
}

/* Why a fixture has no Pact interaction, or NULL when it has one. */
static const char *left_out(const mspf_fixture *f, char *buf, size_t cap)
{
    if (!f->expects_request)
        return "transport-only: nothing may reach a server (request: null)";
    if (f->target == MSPF_TARGET_CLOSED_PORT)
        return "transport-only: points the executor at a closed port";
    if (has_fault(f)) {
        for (size_t i = 0; i < f->n_responses; i++)
            if (f->responses[i].fault.kind != MSPF_FAULT_NONE)
                snprintf(buf, cap,
                         "fault \"%s\": no HTTP response a Pact can describe",
                         mspf_fault_kind_name(f->responses[i].fault.kind));
        return buf;
    }
    if (f->n_responses == 0)
        return "no scripted response: the server's own behaviour answers "
               "(executor-only)";
    if (!f->provider_verify)
        return "executor-only: a reply scripted for the executor that a "
               "provider is not asked to give (provider.verify not set)";
    if (f->n_responses > 1 || f->repeat > 1)
        return "a sequence of runs: a Pact interaction is one request and "
               "one response";
    if (!hx_pact_role_of_key(f->api_key))
        return "a literal credential no role names (a pact never carries a "
               "key)";
    return NULL;
}

static cJSON *v4_body(cJSON *content, const char *content_type, int base64)
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

static const char *response_header(const mspf_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static int add_response(xp *x, cJSON *inter)
{
    const mspf_fixture *f = x->f;
    const mspf_response *r = &f->responses[0];
    const cJSON *doc = cJSON_GetObjectItem(f->doc, "response");
    if (!doc)
        doc = cJSON_GetArrayItem(cJSON_GetObjectItem(f->doc, "responses"), 0);
    const cJSON *pm = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(f->doc, "provider"), "match"),
        "body");
    const char *how = cJSON_IsString(pm) ? pm->valuestring : "type";
    if (cJSON_GetObjectItem(doc, "body_repeat"))
        return fail(x, "a generated body (body_repeat) is not a Pact body");

    cJSON *resp = cJSON_AddObjectToObject(inter, "response");
    cJSON_AddNumberToObject(resp, "status", r->status);
    cJSON *hdrs = cJSON_AddObjectToObject(resp, "headers");
    for (size_t i = 0; i < r->n_headers; i++)
        cJSON_AddItemToObject(
            hdrs, r->headers[i].name,
            cJSON_CreateStringArray((const char *[]){r->headers[i].value}, 1));
    const char *ctype = response_header(r, "Content-Type");
    const cJSON *json = cJSON_GetObjectItem(doc, "body");
    cJSON *rules = cJSON_CreateObject();
    if (json) {
        const cJSON *code =
            cJSON_GetObjectItem(cJSON_GetObjectItem(json, "error"), "code");
        cJSON *content = NULL;
        if (strcmp(how, "error_code") == 0) {
            content = cJSON_CreateObject();
            if (code)
                cJSON_AddItemToObject(cJSON_AddObjectToObject(content, "error"),
                                      "code", cJSON_Duplicate(code, 1));
        } else {
            content = cJSON_Duplicate(json, 1);
            if (strcmp(how, "type") == 0) {
                add_rule(rules, "$", rule("type", NULL));
                if (cJSON_IsString(code))
                    add_rule(rules, "$.error.code", rule("equality", NULL));
            }
        }
        cJSON_AddItemToObject(
            resp, "body",
            v4_body(content, ctype ? ctype : "application/json", 0));
    } else if (r->body_len > 0 && strcmp(how, "exact") == 0) {
        /* A text body is compared only under "exact", as its bytes. */
        const cJSON *b64 = cJSON_GetObjectItem(doc, "body_base64");
        cJSON *content = b64 ? cJSON_Duplicate(b64, 1)
                             : cJSON_CreateString((const char *)r->body);
        cJSON_AddItemToObject(
            resp, "body",
            v4_body(content, ctype ? ctype : "application/octet-stream",
                    b64 != NULL));
    }
    if (rules->child)
        cJSON_AddItemToObject(cJSON_AddObjectToObject(resp, "matchingRules"),
                              "body", rules);
    else
        cJSON_Delete(rules);
    return 0;
}

/* Builds the interaction of one fixture, or NULL with x->why set. */
static cJSON *interaction(xp *x)
{
    const mspf_fixture *f = x->f;
    const char *role = hx_pact_role_of_key(f->api_key);
    const cJSON *req = cJSON_GetObjectItem(f->doc, "request");
    cJSON *it = cJSON_CreateObject();
    x->body_rules = cJSON_CreateObject();
    x->header_rules = cJSON_CreateObject();
    x->header_gens = cJSON_CreateObject();

    cJSON_AddStringToObject(it, "type", "Synchronous/HTTP");
    cJSON_AddStringToObject(it, "key", f->name);
    cJSON_AddStringToObject(it, "description", f->name);
    if (f->description)
        cJSON_AddItemToObject(
            cJSON_AddObjectToObject(it, "comments"), "text",
            cJSON_CreateStringArray((const char *[]){f->description}, 1));
    cJSON_AddFalseToObject(it, "pending");
    cJSON *states = cJSON_AddArrayToObject(it, "providerStates");
    char sname[200];
    snprintf(sname, sizeof sname, "%s%s", HX_PACT_ROLE_STATE_PREFIX, role);
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "name", sname);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(st, "params"), "role",
                            role);
    cJSON_AddItemToArray(states, st);
    if (f->provider_state) {
        st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "name", f->provider_state);
        cJSON_AddItemToArray(states, st);
    }

    cJSON *r = cJSON_AddObjectToObject(it, "request");
    const cJSON *method = cJSON_GetObjectItem(req, "method");
    const cJSON *path = cJSON_GetObjectItem(req, "path");
    cJSON_AddStringToObject(
        r, "method", cJSON_IsString(method) ? method->valuestring : "POST");
    cJSON_AddStringToObject(r, "path",
                            cJSON_IsString(path) ? path->valuestring
                                                 : "/api/v1/god-mode/execute");
    cJSON *headers = cJSON_AddObjectToObject(r, "headers");
    const cJSON *fh = cJSON_GetObjectItem(req, "headers");
    for (const cJSON *h = fh ? fh->child : NULL; h; h = h->next)
        if (header_value(x, fh, h, role, 0, headers, h->string) != 0)
            goto bad;
    const cJSON *body = cJSON_GetObjectItem(req, "body");
    if (body) {
        cJSON *content = NULL;
        if (body_value(x, body, "$", &content) != 0)
            goto bad;
        if (content)
            cJSON_AddItemToObject(r, "body",
                                  v4_body(content, "application/json", 0));
    }
    if (x->header_rules->child || x->body_rules->child) {
        cJSON *mr = cJSON_AddObjectToObject(r, "matchingRules");
        if (x->header_rules->child) {
            cJSON_AddItemToObject(mr, "header", x->header_rules);
            x->header_rules = NULL;
        }
        if (x->body_rules->child) {
            cJSON_AddItemToObject(mr, "body", x->body_rules);
            x->body_rules = NULL;
        }
    }
    if (x->header_gens->child) {
        cJSON_AddItemToObject(cJSON_AddObjectToObject(r, "generators"),
                              "header", x->header_gens);
        x->header_gens = NULL;
    }
    if (add_response(x, it) != 0)
        goto bad;
    cJSON_Delete(x->body_rules);
    cJSON_Delete(x->header_rules);
    cJSON_Delete(x->header_gens);
    return it;
bad:
    cJSON_Delete(x->body_rules);
    cJSON_Delete(x->header_rules);
    cJSON_Delete(x->header_gens);
    cJSON_Delete(it);
    return NULL;
}

/* cJSON_Print indents with tabs and writes ":\t"; the bundled fixtures (and
 * most pacts) use two spaces and ": ". A tab is always escaped inside a JSON
 * string, so every raw tab is layout. */
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

/* Writes text to path through a temporary file and a rename, so a reader
 * never sees half a pact. */
static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof tmp)
        return -1;
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return -1;
    int ok = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    ok = (fclose(fp) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        (void)unlink(tmp);
        return -1;
    }
    return 0;
}

/* Loads every --contracts directory into one set. */
mspf_set *hx_load_all(const hx_options *o)
{
    if (o->n_contract_dirs <= 1)
        return hx_load(o->n_contract_dirs ? o->contract_dirs[0] : o->contracts);
    mspf_set *set = mspf_set_new();
    for (size_t i = 0; set && i < o->n_contract_dirs; i++) {
        mspf_error err;
        if (mspf_set_load_dir(set, o->contract_dirs[i], &err) < 0) {
            char buf[1400];
            fprintf(stderr, "msp-contract: %s\n",
                    mspf_error_format(&err, buf, sizeof buf));
            mspf_set_free(set);
            return NULL;
        }
    }
    return set;
}

int hx_pact_export(const hx_options *o)
{
    if (!o->pact) {
        fprintf(stderr, "msp-contract export: --pact FILE is required\n");
        return HX_EXIT_USAGE;
    }
    mspf_set *set = hx_load_all(o);
    if (!set)
        return HX_EXIT_DATA;
    cJSON *pact = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(pact, "consumer"), "name",
                            o->consumer ? o->consumer : DEFAULT_CONSUMER);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(pact, "provider"), "name",
                            o->provider_name ? o->provider_name
                                             : DEFAULT_PROVIDER);
    cJSON *list = cJSON_AddArrayToObject(pact, "interactions");
    size_t n = 0, skipped = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        if (!hx_selected(o, f))
            continue;
        char buf[256];
        const char *why = left_out(f, buf, sizeof buf);
        xp x = {.f = f};
        cJSON *it = why ? NULL : interaction(&x);
        if (!it) {
            fprintf(stderr, "left out %-36s %s\n", f->name, why ? why : x.why);
            skipped++;
            continue;
        }
        cJSON_AddItemToArray(list, it);
        n++;
    }
    cJSON *meta = cJSON_AddObjectToObject(pact, "metadata");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "pactSpecification"),
                            "version", "4.0");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(meta, "msp-contract"),
                            "mapping", "docs/pact.md");
    char *text = hx_pact_print(pact);
    int rc = HX_EXIT_OK;
    if (!text || write_atomic(o->pact, text) != 0) {
        fprintf(stderr, "msp-contract export: cannot write %s: %s\n", o->pact,
                strerror(errno));
        rc = HX_EXIT_FAILED;
    } else {
        printf("msp-contract export: %zu interaction(s) written to %s, "
               "%zu fixture(s) left out\n",
               n, o->pact, skipped);
    }
    free(text);
    cJSON_Delete(pact);
    mspf_set_free(set);
    if (rc == HX_EXIT_OK && n == 0) {
        fprintf(stderr, "msp-contract export: no fixture could be exported\n");
        rc = HX_EXIT_FAILED;
    }
    return rc;
}
