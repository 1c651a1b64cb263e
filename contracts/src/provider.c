/*
 * provider.c — the provider block of a fixture: reading it (states, the
 * MSP-side checks it pins, credentials by role, raw-request steps, value
 * rules) and checking real replies against a step's expectations.
 *
 * Steps stay in the cJSON document: the harness substitutes fresh command
 * ids into a copy before sending, so the checks here take the (copied)
 * expectation rather than reading the fixture.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fixture_internal.h"

#define MAX_STEPS        MSPF_STEPS_MAX
#define BODY_REPEAT_MAX  MSPF_BODY_REPEAT_MAX
#define STEP_FIELD_BYTES 64

/* ---- reading -------------------------------------------------------- */

static int want_bool(pctx *p, const cJSON *obj, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return Mspf_parse_fail_at(p, key, "wrong type: expected a boolean");
    *out = cJSON_IsTrue(v);
    return 0;
}

static int want_role(pctx *p, const cJSON *obj, const char *key, int nullable)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || (nullable && cJSON_IsNull(v)))
        return 0;
    if (!cJSON_IsString(v))
        return Mspf_parse_fail_at(p, key,
                                  nullable
                                      ? "wrong type: expected a role "
                                        "name or null"
                                      : "wrong type: expected a role name");
    if (!mspf_role_find(v->valuestring))
        return Mspf_parse_fail_at(p, key, "unknown credential role");
    return 0;
}

static int add_state(pctx *p, mspf_fixture *f, const char *name,
                     const cJSON *params)
{
    mspf_state *s = &f->provider_states[f->n_provider_states];
    char *text;
    if (params && !cJSON_IsObject(params))
        return Mspf_parse_fail_at(p, "params",
                                  "wrong type: expected an object");
    s->name = strdup(name);
    text = params ? cJSON_PrintUnformatted(params) : NULL;
    s->params_json = strdup(text ? text : "{}");
    cJSON_free(text);
    if (!s->name || !s->params_json) {
        free(s->name);
        free(s->params_json);
        return Mspf_parse_fail(p, "out of memory");
    }
    f->n_provider_states++;
    return 0;
}

/* "state": "name", or "states": [{"name": ..., "params": {...}}, ...]. */
static int parse_states(pctx *p, const cJSON *pr, mspf_fixture *f)
{
    static const char *const keys[] = {"name", "params", NULL};
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(pr, "state");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(pr, "states");
    const cJSON *c;
    size_t i = 0, n;
    if (one && many)
        return Mspf_parse_fail_at(p, "states",
                                  "\"state\" and \"states\" are exclusive");
    if (one && !cJSON_IsString(one))
        return Mspf_parse_fail_at(p, "state", "wrong type: expected a string");
    if (many && (!cJSON_IsArray(many) || cJSON_GetArraySize(many) < 1))
        return Mspf_parse_fail_at(p, "states",
                                  "wrong type: expected a non-empty array");
    n = one ? 1 : many ? (size_t)cJSON_GetArraySize(many) : 0;
    if (n == 0)
        return 0;
    f->provider_states = calloc(n, sizeof *f->provider_states);
    if (!f->provider_states)
        return Mspf_parse_fail(p, "out of memory");
    if (one) {
        if (add_state(p, f, one->valuestring, NULL))
            return -1;
    } else {
        cJSON_ArrayForEach(c, many)
        {
            size_t old = Mspf_parse_push_key(p, "states");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
            int rc;
            Mspf_parse_push_index(p, i++);
            rc = Mspf_parse_want_object(p, c) ||
                 Mspf_parse_check_keys(p, c, keys);
            if (!rc && !cJSON_IsString(name))
                rc = Mspf_parse_fail_at(p, "name",
                                        "missing required key (a string)");
            if (!rc)
                rc = add_state(p, f, name->valuestring,
                               cJSON_GetObjectItemCaseSensitive(c, "params"));
            Mspf_parse_pop(p, old);
            if (rc)
                return -1;
        }
    }
    if (f->n_provider_states == 0 || !f->provider_states[0].name)
        return Mspf_parse_fail(p, "out of memory");
    f->provider_state = strdup(f->provider_states[0].name);
    return f->provider_state ? 0 : Mspf_parse_fail(p, "out of memory");
}

static int parse_checks(pctx *p, const cJSON *pr, mspf_fixture *f)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(pr, "checks");
    const cJSON *c;
    size_t i = 0;
    if (!a)
        return 0;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1)
        return Mspf_parse_fail_at(p, "checks",
                                  "wrong type: expected a non-empty array of "
                                  "check names");
    f->provider_checks = calloc((size_t)cJSON_GetArraySize(a), sizeof(char *));
    if (!f->provider_checks)
        return Mspf_parse_fail(p, "out of memory");
    cJSON_ArrayForEach(c, a)
    {
        size_t old = Mspf_parse_push_key(p, "checks");
        Mspf_parse_push_index(p, i++);
        if (!cJSON_IsString(c) || !mspf_msp_check_find(c->valuestring)) {
            Mspf_parse_fail(p, "not a row of the MSP-side check table (see "
                               "msp-contract coverage --provider)");
            Mspf_parse_pop(p, old);
            return -1;
        }
        Mspf_parse_pop(p, old);
        f->provider_checks[f->n_provider_checks] = strdup(c->valuestring);
        if (!f->provider_checks[f->n_provider_checks])
            return Mspf_parse_fail(p, "out of memory");
        f->n_provider_checks++;
    }
    return 0;
}

/* Is v {"same_as_step": N, "part": P}? */
static int is_step_ref(const cJSON *v)
{
    return cJSON_IsObject(v) &&
           cJSON_GetObjectItemCaseSensitive(v, "same_as_step") != NULL;
}

static int is_present(const cJSON *v)
{
    return cJSON_IsObject(v) && v->child && !v->child->next &&
           strcmp(v->child->string, "present") == 0;
}

/* {"exact": v}: v compared as plain JSON, no matcher inside it (for values
 * such as a JSON Schema's {"type": "string"}). */
static int is_exact(const cJSON *v)
{
    return cJSON_IsObject(v) && v->child && !v->child->next &&
           strcmp(v->child->string, "exact") == 0;
}

/* A reference to an earlier step; `step` is the 1-based current step. */
static int check_step_ref(pctx *p, const cJSON *v, size_t step)
{
    static const char *const keys[] = {"same_as_step", "part", NULL};
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(v, "part");
    long long n = 0;
    if (Mspf_parse_check_keys(p, v, keys) ||
        Mspf_parse_int_member(p, v, "same_as_step", 1, 1, MAX_STEPS, &n))
        return -1;
    if ((size_t)n >= step)
        return Mspf_parse_fail_at(p, "same_as_step",
                                  "must name an earlier step (counted from 1)");
    if (!cJSON_IsString(part) ||
        !(strcmp(part->valuestring, "body") == 0 ||
          strcmp(part->valuestring, "status") == 0 ||
          (strncmp(part->valuestring, "header:", 7) == 0 &&
           part->valuestring[7]) ||
          part->valuestring[0] == '$'))
        return Mspf_parse_fail_at(p, "part",
                                  "expected \"body\", \"status\", "
                                  "\"header:NAME\" or a JSON path \"$...\"");
    return 0;
}

/* A rule in expect.headers / expect.values / match.values. */
static int check_rule(pctx *p, const cJSON *v, size_t step, int at)
{
    if (is_step_ref(v))
        return check_step_ref(p, v, step);
    if (is_exact(v))
        return 0;
    if (is_present(v))
        return cJSON_IsTrue(v->child)
                   ? 0
                   : Mspf_parse_fail(p, "wrong value: present must be true");
    return Mspf_parse_check_value(p, v, at);
}

/* Each member of obj (a map of header names or JSON paths) is a rule. */
static int check_rules(pctx *p, const cJSON *obj, const char *key, size_t step,
                       int at, int paths)
{
    const cJSON *c;
    size_t old;
    if (!obj)
        return 0;
    old = Mspf_parse_push_key(p, key);
    if (Mspf_parse_want_object(p, obj)) {
        Mspf_parse_pop(p, old);
        return -1;
    }
    cJSON_ArrayForEach(c, obj)
    {
        size_t o2 = Mspf_parse_push_key(p, c->string);
        int rc = 0;
        if (paths && c->string[0] != '$')
            rc = Mspf_parse_fail(p, "a JSON path starts with \"$\"");
        if (!rc)
            rc = check_rule(p, c, step, at);
        Mspf_parse_pop(p, o2);
        if (rc) {
            Mspf_parse_pop(p, old);
            return -1;
        }
    }
    Mspf_parse_pop(p, old);
    return 0;
}

static int parse_step_request(pctx *p, const cJSON *r, size_t step)
{
    static const char *const keys[] = {"method",      "path", "credential",
                                       "headers",     "body", "body_text",
                                       "body_repeat", NULL};
    static const char *const rkeys[] = {"repeat", "bytes", NULL};
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "method");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(r, "path");
    const cJSON *h, *c, *rep;
    int bodies = 0;
    if (Mspf_parse_want_object(p, r) || Mspf_parse_check_keys(p, r, keys))
        return -1;
    if (!cJSON_IsString(m) || !m->valuestring[0] ||
        strpbrk(m->valuestring, " \r\n"))
        return Mspf_parse_fail_at(p, "method",
                                  "missing required key (a method name)");
    if (!cJSON_IsString(path) || path->valuestring[0] != '/' ||
        strpbrk(path->valuestring, " \r\n"))
        return Mspf_parse_fail_at(p, "path",
                                  "missing required key (a path from \"/\")");
    if (want_role(p, r, "credential", 1))
        return -1;
    h = cJSON_GetObjectItemCaseSensitive(r, "headers");
    if (h) {
        size_t old = Mspf_parse_push_key(p, "headers");
        if (Mspf_parse_want_object(p, h) ||
            (cJSON_GetArraySize(h) > MSPF_STEP_HEADERS_MAX &&
             Mspf_parse_fail(p, "more than %d headers",
                             MSPF_STEP_HEADERS_MAX))) {
            Mspf_parse_pop(p, old);
            return -1;
        }
        cJSON_ArrayForEach(c, h)
        {
            size_t o2 = Mspf_parse_push_key(p, c->string);
            int rc = 0;
            if (strpbrk(c->string, ": \r\n") || !c->string[0])
                rc = Mspf_parse_fail(p, "not a header name");
            else if (is_step_ref(c))
                rc = check_step_ref(p, c, step);
            else if (!cJSON_IsNull(c) &&
                     !(cJSON_IsString(c) && !strpbrk(c->valuestring, "\r\n")))
                rc = Mspf_parse_fail(
                    p, "wrong type: expected a string without CR/LF, null "
                       "(leave the header out) or {\"same_as_step\"...}");
            Mspf_parse_pop(p, o2);
            if (rc) {
                Mspf_parse_pop(p, old);
                return -1;
            }
        }
        Mspf_parse_pop(p, old);
    }
    bodies = !!cJSON_GetObjectItemCaseSensitive(r, "body") +
             !!cJSON_GetObjectItemCaseSensitive(r, "body_text") +
             !!cJSON_GetObjectItemCaseSensitive(r, "body_repeat");
    if (bodies > 1)
        return Mspf_parse_fail_at(p, "body",
                                  "body, body_text and body_repeat are "
                                  "exclusive");
    c = cJSON_GetObjectItemCaseSensitive(r, "body_text");
    if (c && !cJSON_IsString(c))
        return Mspf_parse_fail_at(p, "body_text",
                                  "wrong type: expected a string");
    rep = cJSON_GetObjectItemCaseSensitive(r, "body_repeat");
    if (rep) {
        size_t old = Mspf_parse_push_key(p, "body_repeat");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(rep, "repeat");
        long long bytes = 0;
        int rc = Mspf_parse_want_object(p, rep) ||
                 Mspf_parse_check_keys(p, rep, rkeys) ||
                 Mspf_parse_int_member(p, rep, "bytes", 1, 1, BODY_REPEAT_MAX,
                                       &bytes);
        if (!rc && (!cJSON_IsString(text) || !text->valuestring[0]))
            rc = Mspf_parse_fail_at(p, "repeat",
                                    "missing required key (a non-empty "
                                    "string)");
        Mspf_parse_pop(p, old);
        if (rc)
            return -1;
    }
    return 0;
}

static int parse_step_expect(pctx *p, const cJSON *e, size_t step)
{
    static const char *const keys[] = {"status", "headers", "body", "values",
                                       NULL};
    const cJSON *b;
    long long status = 0;
    if (Mspf_parse_want_object(p, e) || Mspf_parse_check_keys(p, e, keys) ||
        Mspf_parse_int_member(p, e, "status", 1, 100, 599, &status) ||
        check_rules(p, cJSON_GetObjectItemCaseSensitive(e, "headers"),
                    "headers", step, MSPF_AT_HEADER, 0) ||
        check_rules(p, cJSON_GetObjectItemCaseSensitive(e, "values"), "values",
                    step, MSPF_AT_BODY, 1))
        return -1;
    b = cJSON_GetObjectItemCaseSensitive(e, "body");
    if (b) {
        size_t old = Mspf_parse_push_key(p, "body");
        int rc = is_step_ref(b) ? check_step_ref(p, b, step)
                                : Mspf_parse_check_value(p, b, MSPF_AT_BODY);
        Mspf_parse_pop(p, old);
        return rc;
    }
    return 0;
}

static int parse_steps(pctx *p, const cJSON *steps, mspf_fixture *f)
{
    static const char *const keys[] = {"name", "request", "expect", NULL};
    const cJSON *s;
    size_t i = 0;
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) < 1 ||
        cJSON_GetArraySize(steps) > MAX_STEPS)
        return Mspf_parse_fail_at(p, "steps",
                                  "wrong type: expected an array of 1..32 "
                                  "steps");
    cJSON_ArrayForEach(s, steps)
    {
        size_t old = Mspf_parse_push_key(p, "steps");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
        const cJSON *rq = cJSON_GetObjectItemCaseSensitive(s, "request");
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(s, "expect");
        int rc;
        Mspf_parse_push_index(p, i++);
        rc = Mspf_parse_want_object(p, s) || Mspf_parse_check_keys(p, s, keys);
        if (!rc && name && !cJSON_IsString(name))
            rc = Mspf_parse_fail_at(p, "name", "wrong type: expected a string");
        if (!rc && (!rq || !ex))
            rc = Mspf_parse_fail_at(p, rq ? "expect" : "request",
                                    "missing required key");
        if (!rc) {
            size_t o2 = Mspf_parse_push_key(p, "request");
            rc = parse_step_request(p, rq, i);
            Mspf_parse_pop(p, o2);
        }
        if (!rc) {
            size_t o2 = Mspf_parse_push_key(p, "expect");
            rc = parse_step_expect(p, ex, i);
            Mspf_parse_pop(p, o2);
        }
        Mspf_parse_pop(p, old);
        if (rc)
            return -1;
    }
    f->n_provider_steps = i;
    return 0;
}

int Mspf_parse_provider(pctx *p, const cJSON *pr, mspf_fixture *f)
{
    static const char *const keys[] = {"verify",     "state",          "states",
                                       "match",      "checks",         "steps",
                                       "credential", "pin_command_id", NULL};
    static const char *const mkeys[] = {"status", "body", "values", NULL};
    static const char *const bodies[] = {"type", "exact", "error_code"};
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(pr, "steps");
    const cJSON *m, *c;
    if (Mspf_parse_want_object(p, pr) || Mspf_parse_check_keys(p, pr, keys) ||
        want_bool(p, pr, "verify", &f->provider_verify) ||
        want_bool(p, pr, "pin_command_id", &f->pin_command_id) ||
        parse_states(p, pr, f) || parse_checks(p, pr, f))
        return -1;
    m = cJSON_GetObjectItemCaseSensitive(pr, "match");
    if (m) {
        size_t old = Mspf_parse_push_key(p, "match");
        int rc =
            Mspf_parse_want_object(p, m) || Mspf_parse_check_keys(p, m, mkeys);
        c = cJSON_GetObjectItemCaseSensitive(m, "status");
        if (!rc && c &&
            !(cJSON_IsString(c) && !strcmp(c->valuestring, "exact")))
            rc = Mspf_parse_fail_at(p, "status", "unknown value");
        c = cJSON_GetObjectItemCaseSensitive(m, "body");
        if (!rc && c &&
            !(cJSON_IsString(c) && (!strcmp(c->valuestring, bodies[0]) ||
                                    !strcmp(c->valuestring, bodies[1]) ||
                                    !strcmp(c->valuestring, bodies[2]))))
            rc = Mspf_parse_fail_at(p, "body", "unknown value");
        if (!rc)
            rc = check_rules(p, cJSON_GetObjectItemCaseSensitive(m, "values"),
                             "values", 1, MSPF_AT_BODY, 1);
        Mspf_parse_pop(p, old);
        if (rc)
            return -1;
        if (steps)
            return Mspf_parse_fail_at(p, "match",
                                      "a fixture with steps states its "
                                      "expectations in each step's expect");
    }
    c = cJSON_GetObjectItemCaseSensitive(pr, "credential");
    if (c && !steps)
        return Mspf_parse_fail_at(p, "credential",
                                  "only for a fixture with steps (else "
                                  "executor.credential)");
    if (want_role(p, pr, "credential", 0))
        return -1;
    if (c && cJSON_IsString(c)) {
        f->credential = strdup(c->valuestring);
        if (!f->credential)
            return Mspf_parse_fail(p, "out of memory");
    }
    if (cJSON_GetObjectItemCaseSensitive(pr, "pin_command_id") && !steps &&
        !f->command_id)
        return Mspf_parse_fail_at(p, "pin_command_id", "nothing to pin");
    return steps ? parse_steps(p, steps, f) : 0;
}

const cJSON *mspf_provider_steps(const mspf_fixture *f)
{
    if (!f || !f->n_provider_steps)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(f->doc, "provider"), "steps");
}

/* ---- JSON paths ----------------------------------------------------- */

const cJSON *mspf_json_path(const cJSON *doc, const char *path)
{
    const cJSON *v = doc;
    const char *s = path;
    char key[256];
    if (!doc || !path || *s++ != '$')
        return NULL;
    while (*s && v) {
        size_t n;
        if (*s == '.') {
            s++;
            n = strcspn(s, ".[");
            if (n == 0 || n >= sizeof key)
                return NULL;
            memcpy(key, s, n);
            key[n] = '\0';
            v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, key)
                                  : NULL;
            s += n;
        } else if (*s == '[') {
            const char *end = strchr(++s, ']');
            const char *eq;
            if (!end || end == s || (size_t)(end - s) >= sizeof key)
                return NULL;
            memcpy(key, s, (size_t)(end - s));
            key[end - s] = '\0';
            eq = strchr(key, '=');
            if (eq) { /* [member=value]: the first element with it */
                const cJSON *e, *found = NULL;
                const cJSON *arr = cJSON_IsArray(v) ? v : NULL;
                key[eq - key] = '\0';
                cJSON_ArrayForEach(e, arr)
                {
                    const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, key);
                    if (cJSON_IsString(m) &&
                        strcmp(m->valuestring, eq + 1) == 0) {
                        found = e;
                        break;
                    }
                }
                v = found;
            } else {
                char *stop;
                long i = strtol(key, &stop, 10);
                if (*stop || i < 0 || !cJSON_IsArray(v))
                    return NULL;
                v = cJSON_GetArrayItem(v, (int)i);
            }
            s = end + 1;
        } else {
            return NULL;
        }
    }
    return v;
}

/* ---- checking ------------------------------------------------------- */

static const char *reply_header(const mspf_reply *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n_headers; i++)
        if (r->headers[i].name && strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value ? r->headers[i].value : "";
    return NULL;
}

static cJSON *parse_body(const mspf_reply *r)
{
    if (!r->body || r->body_len == 0)
        return NULL;
    return mspf_cjson_parse((const char *)r->body, r->body_len, NULL);
}

/* JSON value as text: a string's own characters, else compact JSON. */
static char *value_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    return Mspf_json_text(v);
}

int mspf_step_value(const cJSON *ref, const mspf_reply *replies, size_t n,
                    char **text, size_t *len, char *errbuf, size_t errlen)
{
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(ref, "same_as_step");
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(ref, "part");
    const mspf_reply *r;
    const char *p;
    char *out = NULL;
    if (!cJSON_IsNumber(step) || !cJSON_IsString(part) ||
        step->valuedouble < 1 || step->valuedouble > (double)n) {
        snprintf(errbuf, errlen, "refers to a step that has not run");
        return -1;
    }
    r = &replies[(size_t)step->valuedouble - 1];
    p = part->valuestring;
    if (strcmp(p, "body") == 0) {
        out = malloc(r->body_len + 1);
        if (out) {
            if (r->body_len)
                memcpy(out, r->body, r->body_len);
            out[r->body_len] = '\0';
            *len = r->body_len;
        }
    } else if (strcmp(p, "status") == 0) {
        out = malloc(24);
        if (out)
            *len = (size_t)snprintf(out, 24, "%ld", r->status);
    } else if (strncmp(p, "header:", 7) == 0) {
        const char *h = reply_header(r, p + 7);
        if (!h) {
            snprintf(errbuf, errlen, "step %d sent no header %.100s",
                     (int)step->valuedouble, p + 7);
            return -1;
        }
        out = strdup(h);
        if (out)
            *len = strlen(out);
    } else {
        cJSON *doc = parse_body(r);
        const cJSON *v = mspf_json_path(doc, p);
        if (!v) {
            snprintf(errbuf, errlen, "step %d's body has no %.100s",
                     (int)step->valuedouble, p);
            cJSON_Delete(doc);
            return -1;
        }
        out = value_text(v);
        if (out)
            *len = strlen(out);
        cJSON_Delete(doc);
    }
    if (!out) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    *text = out;
    return 0;
}

/* Compares `got` (text, NULL: absent) with the step value ref names. */
static int match_step_ref(mctx *m, const cJSON *ref, const mspf_reply *replies,
                          size_t n, const char *got, size_t got_len)
{
    char why[300], want[400], *text = NULL, *shown;
    size_t len = 0;
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(ref, "same_as_step");
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(ref, "part");
    int ok;
    if (mspf_step_value(ref, replies, n, &text, &len, why, sizeof why) != 0) {
        snprintf(want, sizeof want, "same as step %d %s",
                 (int)step->valuedouble, part->valuestring);
        return Mspf_diff_text(m, want, why);
    }
    ok = got && got_len == len && memcmp(got, text, len) == 0;
    if (!ok) {
        shown = Mspf_cut_text(text, len, MSPF_DIFF_CUT);
        snprintf(want, sizeof want, "same as step %d %s: %s",
                 (int)step->valuedouble, part->valuestring, shown ? shown : "");
        free(shown);
        shown = got ? Mspf_cut_text(got, got_len, MSPF_DIFF_CUT) : NULL;
        Mspf_diff_text(m, want, got ? (shown ? shown : "") : "(absent)");
        free(shown);
    }
    free(text);
    return ok;
}

/* One rule against a JSON value (NULL: absent). */
static int match_rule(mctx *m, const cJSON *rule, const cJSON *got,
                      const mspf_reply *replies, size_t n)
{
    if (is_present(rule))
        return got ? 1 : Mspf_diff_text(m, "present", "(absent)");
    if (is_exact(rule))
        return got && cJSON_Compare(rule->child, got, 1)
                   ? 1
                   : Mspf_diff_json(m, rule->child, got);
    if (is_step_ref(rule)) {
        char *t = got ? value_text(got) : NULL;
        int ok = match_step_ref(m, rule, replies, n, t, t ? strlen(t) : 0);
        free(t);
        return ok;
    }
    return Mspf_match_value(m, rule, got);
}

int mspf_check_values(const cJSON *values, const mspf_reply *replies, size_t n,
                      const char *root, mspf_diffs *diffs)
{
    const cJSON *c;
    cJSON *doc;
    mctx m;
    int ok = 1;
    if (!replies || n == 0)
        return 0;
    if (!values)
        return 1;
    doc = parse_body(&replies[n - 1]);
    Mspf_mctx_init(&m, NULL, diffs, root);
    cJSON_ArrayForEach(c, values)
    {
        size_t old = m.plen;
        /* "$.a.b" -> "<root>.body.a.b" */
        snprintf(m.path + old, sizeof m.path - old, ".body%s", c->string + 1);
        m.plen = strlen(m.path);
        ok &= match_rule(&m, c, mspf_json_path(doc, c->string), replies, n - 1);
        Mspf_mctx_pop(&m, old);
    }
    cJSON_Delete(doc);
    return ok;
}

int mspf_check_step(const cJSON *expect, const mspf_reply *replies, size_t n,
                    const char *root, mspf_diffs *diffs)
{
    const mspf_reply *r;
    const cJSON *st, *h, *c, *b;
    mctx m;
    int ok = 1;
    if (!expect || !replies || n == 0)
        return 0;
    r = &replies[n - 1];
    Mspf_mctx_init(&m, NULL, diffs, root);
    st = cJSON_GetObjectItemCaseSensitive(expect, "status");
    if (cJSON_IsNumber(st) && (long)st->valuedouble != r->status) {
        char a[32], g[32];
        size_t old = Mspf_mctx_push_key(&m, "status");
        snprintf(a, sizeof a, "%d", (int)st->valuedouble);
        snprintf(g, sizeof g, "%ld", r->status);
        ok = Mspf_diff_text(&m, a, g);
        Mspf_mctx_pop(&m, old);
    }
    h = cJSON_GetObjectItemCaseSensitive(expect, "headers");
    cJSON_ArrayForEach(c, h)
    {
        const char *v = reply_header(r, c->string);
        size_t old = Mspf_mctx_push_key(&m, "headers");
        Mspf_mctx_push_key(&m, c->string);
        if (is_step_ref(c)) {
            ok &= match_step_ref(&m, c, replies, n - 1, v, v ? strlen(v) : 0);
        } else {
            cJSON *got = v ? cJSON_CreateString(v) : NULL;
            ok &= match_rule(&m, c, got, replies, n - 1);
            cJSON_Delete(got);
        }
        Mspf_mctx_pop(&m, old);
    }
    b = cJSON_GetObjectItemCaseSensitive(expect, "body");
    if (b) {
        size_t old = Mspf_mctx_push_key(&m, "body");
        if (is_step_ref(b)) {
            ok &= match_step_ref(&m, b, replies, n - 1, (const char *)r->body,
                                 r->body_len);
        } else {
            cJSON *doc = parse_body(r);
            if (!doc) {
                char *raw =
                    Mspf_cut_text(r->body ? (const char *)r->body : "",
                                  r->body ? r->body_len : 0, MSPF_DIFF_CUT);
                char *e = Mspf_json_text(b);
                size_t glen = raw ? strlen(raw) + 16 : 0;
                char *g = raw ? malloc(glen) : NULL;
                if (g)
                    (void)snprintf(g, glen, "not JSON: %s", raw);
                if (e && g)
                    Mspf_diff_text(&m, e, g);
                free(raw);
                free(e);
                free(g);
                ok = 0;
            } else {
                ok &= Mspf_match_value(&m, b, doc);
            }
            cJSON_Delete(doc);
        }
        Mspf_mctx_pop(&m, old);
    }
    ok &= mspf_check_values(cJSON_GetObjectItemCaseSensitive(expect, "values"),
                            replies, n, root, diffs);
    return ok;
}
