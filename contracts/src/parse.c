/*
 * parse.c — reading and validating one fixture document.
 *
 * Every key of the fixture structure is checked against the list of keys
 * its object may have (a typo must not silently weaken a contract); literal
 * bodies and params are free-form. Regexes are compiled here, once, so that
 * a bad pattern is refused at load with its path, and matching only reads.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fixture_internal.h"

#include <executor/msp_executor.h>
#include <executor/msp_util.h>

#define AT_HEADER MSPF_AT_HEADER
#define AT_BODY   MSPF_AT_BODY
#define AT_TEXT   MSPF_AT_TEXT

const char *mspf_error_format(const mspf_error *err, char *buf, size_t buflen)
{
    if (buflen == 0)
        return buf;
    snprintf(buf, buflen, "%s: %s: %s", err->file, err->path, err->reason);
    return buf;
}

static const char *const fault_names[MSPF_FAULT_KIND_COUNT] = {
    "none",    "reset",        "empty",
    "garbage", "hang",         "truncate",
    "dribble", "bad_chunking", "reset_after_headers"};

const char *mspf_fault_kind_name(mspf_fault_kind kind)
{
    if ((int)kind < 0 || kind >= MSPF_FAULT_KIND_COUNT)
        return "unknown";
    return fault_names[kind];
}

/* obj.key as a malloc'd string; NULL when absent and not required. */
static int str_member(pctx *p, const cJSON *obj, const char *key, int required,
                      char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return required ? Mspf_parse_fail_at(p, key, "missing required key")
                        : 0;
    if (!cJSON_IsString(v))
        return Mspf_parse_fail_at(p, key, "wrong type: expected a string");
    *out = strdup(v->valuestring);
    return *out ? 0 : Mspf_parse_fail_at(p, key, "out of memory");
}

/* obj.key as one of `names` (index into *out). */
static int enum_member(pctx *p, const cJSON *obj, const char *key,
                       const char *const *names, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t old;
    int i;
    if (!v)
        return 0;
    old = Mspf_parse_push_key(p, key);
    if (!cJSON_IsString(v)) {
        Mspf_parse_fail(p, "wrong type: expected a string");
        Mspf_parse_pop(p, old);
        return -1;
    }
    for (i = 0; names[i]; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            Mspf_parse_pop(p, old);
            return 0;
        }
    Mspf_parse_fail(p, "unknown value \"%s\"", v->valuestring);
    Mspf_parse_pop(p, old);
    return -1;
}

/* ---- matchers ------------------------------------------------------- */

static int add_regex(pctx *p, const cJSON *matcher, const char *pattern)
{
    regtab *t = p->rt;
    char msg[200];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        regentry *items = realloc(t->items, cap * sizeof(*items));
        if (!items)
            return Mspf_parse_fail(p, "out of memory");
        t->items = items;
        t->cap = cap;
    }
    if (strlen(pattern) > MSPF_REGEX_MAX_LEN)
        return Mspf_parse_fail(p, "regex longer than %u bytes",
                               MSPF_REGEX_MAX_LEN);
    if (mspf_regex_cost(pattern) > MSPF_REGEX_MAX_COST)
        return Mspf_parse_fail(
            p,
            "regex too costly to compile: its repetitions expand to "
            "more than %u nodes",
            MSPF_REGEX_MAX_COST);
    t->items[t->n].re = Mspf_regex_compile(pattern, msg, sizeof(msg));
    if (!t->items[t->n].re)
        return Mspf_parse_fail(p, "regex does not compile: %s", msg);
    t->items[t->n].node = matcher;
    atomic_init(&t->items[t->n].jit, NULL);
    atomic_init(&t->items[t->n].uses, 0);
    t->n++;
    return 0;
}

/* Validates matcher object m (kind k) found at position `at`. */
static int check_matcher(pctx *p, const cJSON *m, matcher_kind k, int at)
{
    const cJSON *arg = m->child;
    size_t old = Mspf_parse_push_key(p, arg->string);
    int rc = 0;
    switch (k) {
    case M_REGEX:
        rc = cJSON_IsString(arg)
                 ? add_regex(p, m, arg->valuestring)
                 : Mspf_parse_fail(p, "wrong type: expected a string");
        break;
    case M_SAME_AS:
        if (at != AT_HEADER)
            rc = Mspf_parse_fail(p,
                                 "same_as is only allowed for request headers");
        else if (!cJSON_IsString(arg))
            rc = Mspf_parse_fail(p, "wrong type: expected a header name");
        break;
    case M_ABSENT:
        if (at == AT_TEXT)
            rc = Mspf_parse_fail(p, "absent is not allowed here");
        else if (!cJSON_IsTrue(arg))
            rc = Mspf_parse_fail(p, "wrong value: absent must be true");
        break;
    case M_JSON: rc = Mspf_parse_check_value(p, arg, AT_BODY); break;
    default: /* M_TYPE: any example */ break;
    }
    Mspf_parse_pop(p, old);
    return rc;
}

/* Validates a value that will be matched: literals and matchers. */
int Mspf_parse_check_header_value(pctx *p, const cJSON *v)
{
    if (Mspf_strtab_within(p->st, v) || strpbrk(v->valuestring, "\r\n") ||
        !msp_utf8_valid(v->valuestring, strlen(v->valuestring)))
        return Mspf_parse_fail(p, "a header value must not hold CR, LF, NUL "
                                  "or invalid UTF-8");
    return 0;
}

int Mspf_parse_check_value(pctx *p, const cJSON *v, int at)
{
    matcher_kind k = Mspf_matcher_of(v);
    const cJSON *c;
    size_t i = 0;
    if (k != M_NONE)
        return check_matcher(p, v, k, at);
    if (at != AT_BODY) {
        if (!cJSON_IsString(v))
            return Mspf_parse_fail(
                p, "wrong type: expected a string or a matcher");
        return at == AT_HEADER ? Mspf_parse_check_header_value(p, v) : 0;
    }
    if (cJSON_IsObject(v)) {
        cJSON_ArrayForEach(c, v)
        {
            size_t old = Mspf_parse_push_key(p, c->string);
            int rc = Mspf_parse_check_value(p, c, AT_BODY);
            Mspf_parse_pop(p, old);
            if (rc)
                return rc;
        }
    } else if (cJSON_IsArray(v)) {
        cJSON_ArrayForEach(c, v)
        {
            size_t old = Mspf_parse_push_index(p, i++);
            int rc;
            if (Mspf_matcher_of(c) == M_ABSENT) {
                Mspf_parse_fail(p, "absent is not allowed in an array");
                Mspf_parse_pop(p, old);
                return -1;
            }
            rc = Mspf_parse_check_value(p, c, AT_BODY);
            Mspf_parse_pop(p, old);
            if (rc)
                return rc;
        }
    }
    return 0;
}

char *Mspf_parse_wire_json(pctx *p, const cJSON *v, size_t *len)
{
    char *out;
    size_t start, end;
    if (!Mspf_strtab_within(p->st, v)) {
        char *text = cJSON_PrintUnformatted(v);
        out = text ? strdup(text) : NULL;
        cJSON_free(text);
        if (!out)
            Mspf_parse_fail(p, "out of memory");
        else
            *len = strlen(out);
        return out;
    }
    if (Mspf_json_span(p->text, p->text_len, p->root, v, &start, &end) != 0) {
        Mspf_parse_fail(p, "cannot find the value in the text");
        return NULL;
    }
    out = malloc(end - start + 1);
    if (!out) {
        Mspf_parse_fail(p, "out of memory");
        return NULL;
    }
    *len = Mspf_json_compact(p->text + start, end - start, out);
    out[*len] = '\0';
    return out;
}

/* ---- sections ------------------------------------------------------- */

static int parse_executor(pctx *p, const cJSON *e, mspf_fixture *f)
{
    static const char *const keys[] = {"api_key",   "credential",
                                       "auth_mode", "default_timeout_ms",
                                       "target",    NULL};
    static const char *const modes[] = {"service_key", "jwt", NULL};
    static const char *const targets[] = {"fake", "closed_port", NULL};
    int target = 0;
    if (Mspf_parse_want_object(p, e) || Mspf_parse_check_keys(p, e, keys) ||
        str_member(p, e, "api_key", 0, &f->api_key) ||
        str_member(p, e, "credential", 0, &f->credential) ||
        enum_member(p, e, "auth_mode", modes, &f->auth_mode) ||
        Mspf_parse_int_member(p, e, "default_timeout_ms", 0, 1, 86400000LL,
                              &f->default_timeout_ms) ||
        enum_member(p, e, "target", targets, &target))
        return -1;
    if (f->api_key && f->credential)
        return Mspf_parse_fail_at(
            p, "credential", "\"api_key\" and \"credential\" are exclusive");
    if (f->credential && !mspf_role_find(f->credential))
        return Mspf_parse_fail_at(p, "credential", "unknown credential role");
    f->target = (mspf_target)target;
    return 0;
}

static int parse_context(pctx *p, const cJSON *c, mspf_fixture *f)
{
    static const char *const keys[] = {
        "command_id", "tool", "params", "deadline_ms", "correlation_id", NULL};
    const cJSON *params;
    if (Mspf_parse_want_object(p, c) || Mspf_parse_check_keys(p, c, keys) ||
        str_member(p, c, "command_id", 1, &f->command_id) ||
        str_member(p, c, "tool", 1, &f->tool) ||
        str_member(p, c, "correlation_id", 0, &f->correlation_id) ||
        Mspf_parse_int_member(p, c, "deadline_ms", 0, -86400000LL, 86400000LL,
                              &f->deadline_ms))
        return -1;
    params = cJSON_GetObjectItemCaseSensitive(c, "params");
    if (params && !cJSON_IsObject(params))
        return Mspf_parse_fail_at(p, "params",
                                  "wrong type: expected an object");
    if (params) {
        size_t len, old = Mspf_parse_push_key(p, "params");
        f->params_json = Mspf_parse_wire_json(p, params, &len);
        Mspf_parse_pop(p, old);
        return f->params_json ? 0 : -1;
    }
    f->params_json = strdup("{}");
    return f->params_json ? 0
                          : Mspf_parse_fail_at(p, "params", "out of memory");
}

static int parse_request(pctx *p, const cJSON *r, mspf_fixture *f)
{
    static const char *const keys[] = {"method", "path", "headers", "body",
                                       NULL};
    const cJSON *h, *c;
    char *s = NULL;
    if (cJSON_IsNull(r)) {
        f->expects_request = 0;
        return 0;
    }
    f->expects_request = 1;
    if (Mspf_parse_want_object(p, r) || Mspf_parse_check_keys(p, r, keys))
        return -1;
    if (str_member(p, r, "method", 0, &s))
        return -1;
    free(s);
    s = NULL;
    if (str_member(p, r, "path", 0, &s))
        return -1;
    free(s);
    h = cJSON_GetObjectItemCaseSensitive(r, "headers");
    if (h) {
        size_t old = Mspf_parse_push_key(p, "headers");
        if (Mspf_parse_want_object(p, h)) {
            Mspf_parse_pop(p, old);
            return -1;
        }
        cJSON_ArrayForEach(c, h)
        {
            size_t o2 = Mspf_parse_push_key(p, c->string);
            int rc = Mspf_parse_check_value(p, c, AT_HEADER);
            Mspf_parse_pop(p, o2);
            if (rc) {
                Mspf_parse_pop(p, old);
                return rc;
            }
        }
        Mspf_parse_pop(p, old);
    }
    c = cJSON_GetObjectItemCaseSensitive(r, "body");
    if (c) {
        size_t old = Mspf_parse_push_key(p, "body");
        int rc = Mspf_parse_check_value(p, c, AT_BODY);
        Mspf_parse_pop(p, old);
        return rc;
    }
    return 0;
}

static int parse_expect(pctx *p, const cJSON *e)
{
    static const char *const keys[] = {"exit_code", "stdout", "stderr",
                                       "max_ms",    "row",    "command_result",
                                       NULL};
    static const char *const texts[] = {"stdout", "stderr"};
    const cJSON *v_cr;
    long long v = 0;
    size_t i;
    if (Mspf_parse_want_object(p, e) || Mspf_parse_check_keys(p, e, keys) ||
        Mspf_parse_int_member(p, e, "exit_code", 1, INT_MIN, INT_MAX, &v) ||
        Mspf_parse_int_member(p, e, "max_ms", 0, 1, 86400000LL, &v))
        return -1;
    for (i = 0; i < 2; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, texts[i]);
        if (t) {
            size_t old = Mspf_parse_push_key(p, texts[i]);
            int rc = Mspf_parse_check_value(p, t, AT_TEXT);
            Mspf_parse_pop(p, old);
            if (rc)
                return rc;
        }
    }
    v_cr = cJSON_GetObjectItemCaseSensitive(e, "command_result");
    if (v_cr) {
        size_t old = Mspf_parse_push_key(p, "command_result");
        int rc = Mspf_matcher_of(v_cr) == M_NONE && !cJSON_IsObject(v_cr)
                     ? Mspf_parse_fail(p, "wrong type: expected an object")
                     : Mspf_parse_check_value(p, v_cr, AT_BODY);
        Mspf_parse_pop(p, old);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_responses(pctx *p, const cJSON *doc, mspf_fixture *f)
{
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(doc, "response");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(doc, "responses");
    const cJSON *c;
    size_t n, i = 0;
    if (one && many)
        return Mspf_parse_fail_at(
            p, "responses", "\"response\" and \"responses\" are exclusive");
    if (!one && !many)
        return 0;
    if (many && (!cJSON_IsArray(many) || cJSON_GetArraySize(many) < 1))
        return Mspf_parse_fail_at(p, "responses",
                                  "wrong type: expected a non-empty array");
    n = one ? 1 : (size_t)cJSON_GetArraySize(many);
    f->responses = calloc(n, sizeof(*f->responses));
    if (!f->responses)
        return Mspf_parse_fail(p, "out of memory");
    if (one) {
        size_t old = Mspf_parse_push_key(p, "response");
        f->n_responses = 1;
        if (Mspf_parse_response(p, one, &f->responses[0])) {
            Mspf_parse_pop(p, old);
            return -1;
        }
        Mspf_parse_pop(p, old);
        return 0;
    }
    cJSON_ArrayForEach(c, many)
    {
        size_t old = Mspf_parse_push_key(p, "responses");
        Mspf_parse_push_index(p, i);
        f->n_responses = i + 1;
        if (Mspf_parse_response(p, c, &f->responses[i])) {
            Mspf_parse_pop(p, old);
            return -1;
        }
        Mspf_parse_pop(p, old);
        i++;
    }
    return 0;
}

static int parse_expects(pctx *p, const cJSON *doc)
{
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(doc, "expect");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(doc, "expects");
    const cJSON *c;
    size_t i = 0;
    if (one && many)
        return Mspf_parse_fail_at(p, "expects",
                                  "\"expect\" and \"expects\" are exclusive");
    if (!one && !many)
        return Mspf_parse_fail_at(p, "expect", "missing required key");
    if (one) {
        size_t old = Mspf_parse_push_key(p, "expect");
        int rc = parse_expect(p, one);
        Mspf_parse_pop(p, old);
        return rc;
    }
    if (!cJSON_IsArray(many) || cJSON_GetArraySize(many) < 1)
        return Mspf_parse_fail_at(p, "expects",
                                  "wrong type: expected a non-empty array");
    cJSON_ArrayForEach(c, many)
    {
        size_t old = Mspf_parse_push_key(p, "expects");
        int rc;
        Mspf_parse_push_index(p, i++);
        rc = parse_expect(p, c);
        Mspf_parse_pop(p, old);
        if (rc)
            return rc;
    }
    return 0;
}

static int parse_tags(pctx *p, const cJSON *tags, mspf_fixture *f)
{
    const cJSON *c;
    size_t n, i = 0;
    if (!tags)
        return 0;
    if (!cJSON_IsArray(tags))
        return Mspf_parse_fail_at(p, "tags",
                                  "wrong type: expected an array of strings");
    n = (size_t)cJSON_GetArraySize(tags);
    f->tags = calloc(n ? n : 1, sizeof(char *));
    if (!f->tags)
        return Mspf_parse_fail(p, "out of memory");
    cJSON_ArrayForEach(c, tags)
    {
        if (!cJSON_IsString(c)) {
            size_t old = Mspf_parse_push_key(p, "tags");
            Mspf_parse_push_index(p, i);
            Mspf_parse_fail(p, "wrong type: expected a string");
            Mspf_parse_pop(p, old);
            return -1;
        }
        f->tags[i] = strdup(c->valuestring);
        if (!f->tags[i])
            return Mspf_parse_fail(p, "out of memory");
        f->n_tags = ++i;
    }
    return 0;
}

/* A fixture with provider.steps: the provider check alone runs it. */
static int parse_provider_only(pctx *p, const cJSON *doc, mspf_fixture *f)
{
    static const char *const consumer[] = {
        "exit_row", "executor",  "context", "repeat",  "request",
        "response", "responses", "expect",  "expects", NULL};
    size_t i, old;
    int rc;
    for (i = 0; consumer[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(doc, consumer[i]))
            return Mspf_parse_fail_at(
                p, consumer[i],
                "a provider-only fixture (provider.steps) "
                "has no consumer part");
    if (str_member(p, doc, "name", 1, &f->name) ||
        str_member(p, doc, "description", 1, &f->description) ||
        parse_tags(p, cJSON_GetObjectItemCaseSensitive(doc, "tags"), f))
        return -1;
    if (f->name[0] == '\0')
        return Mspf_parse_fail_at(p, "name", "value out of range: empty name");
    f->expects_request = 0;
    old = Mspf_parse_push_key(p, "provider");
    rc = Mspf_parse_provider(
        p, cJSON_GetObjectItemCaseSensitive(doc, "provider"), f);
    Mspf_parse_pop(p, old);
    return rc;
}

static int parse_doc(pctx *p, const cJSON *doc, mspf_fixture *f)
{
    static const char *const keys[] = {
        "name",    "description", "tags",     "exit_row", "executor",
        "context", "repeat",      "request",  "response", "responses",
        "expect",  "expects",     "provider", NULL};
    const cJSON *v;
    long long row = 0, repeat = 1;
    if (Mspf_parse_want_object(p, doc) || Mspf_parse_check_keys(p, doc, keys))
        return -1;
    if (cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "provider"), "steps"))
        return parse_provider_only(p, doc, f);
    if (str_member(p, doc, "name", 1, &f->name) ||
        str_member(p, doc, "description", 1, &f->description) ||
        parse_tags(p, cJSON_GetObjectItemCaseSensitive(doc, "tags"), f) ||
        Mspf_parse_int_member(p, doc, "exit_row", 1, 1, MSP_EXIT_ROWS, &row) ||
        Mspf_parse_int_member(p, doc, "repeat", 0, 1, 1000, &repeat))
        return -1;
    if (!f->name || f->name[0] == '\0')
        return Mspf_parse_fail_at(p, "name", "value out of range: empty name");
    p->name = f->name;
    f->exit_row = (int)row;
    f->repeat = (int)repeat;

    v = cJSON_GetObjectItemCaseSensitive(doc, "executor");
    if (v) {
        size_t old = Mspf_parse_push_key(p, "executor");
        int rc = parse_executor(p, v, f);
        Mspf_parse_pop(p, old);
        if (rc)
            return rc;
    }
    v = cJSON_GetObjectItemCaseSensitive(doc, "context");
    if (!v)
        return Mspf_parse_fail_at(p, "context", "missing required key");
    {
        size_t old = Mspf_parse_push_key(p, "context");
        int rc = parse_context(p, v, f);
        Mspf_parse_pop(p, old);
        if (rc)
            return rc;
    }
    v = cJSON_GetObjectItemCaseSensitive(doc, "request");
    if (!v)
        return Mspf_parse_fail_at(
            p, "request", "missing required key (use null for \"no request\")");
    {
        size_t old = Mspf_parse_push_key(p, "request");
        int rc = parse_request(p, v, f);
        Mspf_parse_pop(p, old);
        if (rc)
            return rc;
    }
    if (parse_responses(p, doc, f) || parse_expects(p, doc))
        return -1;
    v = cJSON_GetObjectItemCaseSensitive(doc, "provider");
    if (v) {
        size_t old = Mspf_parse_push_key(p, "provider");
        int rc = Mspf_parse_provider(p, v, f);
        Mspf_parse_pop(p, old);
        if (rc)
            return rc;
    }
    return 0;
}

int Mspf_parse_hold(pctx *p, size_t n)
{
    if (p->budget && n > p->budget - p->held)
        return Mspf_parse_fail(
            p,
            "fixture \"%.100s\" is over the memory budget: its responses "
            "would hold more than %zu bytes (bodies, repeats, every entry of "
            "\"responses\")",
            p->name ? p->name : "?", p->budget);
    p->held += n;
    return 0;
}

size_t mspf_fixture_bytes(const mspf_fixture *f)
{
    size_t i, j, n = sizeof *f;

    for (i = 0; f && i < f->n_responses; i++) {
        const mspf_response *r = &f->responses[i];
        n += sizeof *r + r->body_len + 1;
        for (j = 0; j < r->n_headers; j++)
            n += strlen(r->headers[j].name) + strlen(r->headers[j].value) + 2;
    }
    return n;
}

int mspf_fixture_parse(const char *json, size_t len, const char *origin,
                       mspf_fixture **out, mspf_error *err)
{
    return mspf_fixture_parse_within(json, len, origin, 0, out, err);
}

int mspf_fixture_parse_within(const char *json, size_t len, const char *origin,
                              size_t budget, mspf_fixture **out,
                              mspf_error *err)
{
    mspf_error scratch;
    mspf_fixture *f;
    fixture_priv *priv;
    const char *end = NULL;
    pctx p;
    int rc;

    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", origin ? origin : "<memory>");
    snprintf(err->path, sizeof(err->path), "$");
    if (!json || !out) {
        snprintf(err->reason, sizeof(err->reason), "no input");
        return -1;
    }
    f = calloc(1, sizeof(*f));
    priv = calloc(1, sizeof(*priv));
    if (!f || !priv) {
        free(f);
        free(priv);
        snprintf(err->reason, sizeof(err->reason), "out of memory");
        return -1;
    }
    f->priv = priv;
    f->auth_mode = -1;
    f->deadline_ms = 30000;
    f->repeat = 1;
    f->file = strdup(origin ? origin : "<memory>");
    f->doc = mspf_cjson_parse(json, len, &end);
    if (f->doc) /* cJSON stops after the value: only blanks may follow */
        while (end < json + len &&
               (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
            end++;
    if (!f->doc || (end < json + len && *end != '\0')) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0, line = 1,
               col = 1;
        for (size_t i = 0; i < at && i < len; i++, col++)
            if (json[i] == '\n') {
                line++;
                col = 0;
            }
        snprintf(err->reason, sizeof(err->reason),
                 "%s at line %zu, column %zu (byte %zu)",
                 f->doc ? "text after the JSON value" : "invalid JSON", line,
                 col, at);
        mspf_fixture_free(f);
        return -1;
    }
    if ((rc = Mspf_strtab_build(&priv->strings, json, len, f->doc)) != 0) {
        snprintf(err->reason, sizeof(err->reason), "%s",
                 rc == MSPF_STRTAB_NOT_JSON
                     ? "invalid JSON: a string holds a raw control byte or "
                       "an escape JSON does not have"
                     : "out of memory");
        mspf_fixture_free(f);
        return -1;
    }
    memset(&p, 0, sizeof(p));
    p.err = err;
    p.rt = &priv->regexes;
    p.st = &priv->strings;
    p.text = json;
    p.text_len = len;
    p.root = f->doc;
    p.budget = budget;
    snprintf(p.path, sizeof(p.path), "$");
    p.plen = 1;
    if (!f->file || parse_doc(&p, f->doc, f)) {
        if (!f->file)
            snprintf(err->reason, sizeof(err->reason), "out of memory");
        mspf_fixture_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

/* "dir/auth-401.json" → "auth-401" (in buf). */
static void base_name(const char *file, char *buf, size_t cap)
{
    const char *slash = strrchr(file, '/');
    const char *b = slash ? slash + 1 : file;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".json") == 0)
        n -= 5;
    snprintf(buf, cap, "%.*s", (int)n, b);
}

int mspf_fixture_load(const char *file, mspf_fixture **out, mspf_error *err)
{
    mspf_error scratch;
    mspf_fixture *f = NULL;
    char *buf;
    char base[256];
    size_t n;

    if (!err)
        err = &scratch;
    memset(err, 0, sizeof(*err));
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "(null)");
    snprintf(err->path, sizeof(err->path), "$");
    /* never blocks on a FIFO or device, refuses what is not a file */
    if (!file || msp_read_file(file, MSPF_MAX_FILE_BYTES, &buf, &n) != 0) {
        int e = file ? errno : EINVAL;
        if (e == EFBIG)
            snprintf(err->reason, sizeof(err->reason),
                     "file larger than %u bytes", MSPF_MAX_FILE_BYTES);
        else
            snprintf(err->reason, sizeof(err->reason), "cannot open: %s",
                     msp_file_strerror(e));
        return -1;
    }
    if (mspf_fixture_parse(buf, n, file, &f, err)) {
        free(buf);
        return -1;
    }
    free(buf);
    base_name(file, base, sizeof(base));
    if (!f->name || strcmp(base, f->name) != 0) { /* name: set by the parse */
        snprintf(err->path, sizeof(err->path), "$.name");
        snprintf(err->reason, sizeof(err->reason),
                 "name \"%.200s\" does not equal the file base name \"%.200s\"",
                 f->name ? f->name : "", base);
        mspf_fixture_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

void Mspf_regtab_free(regtab *t)
{
    size_t i;
    for (i = 0; i < t->n; i++) {
        pcre2_code_free(t->items[i].re);
        pcre2_code_free(atomic_load(&t->items[i].jit));
    }
    free(t->items);
    memset(t, 0, sizeof(*t));
}

void mspf_fixture_free(mspf_fixture *f)
{
    size_t i, j;
    if (!f)
        return;
    free(f->name);
    free(f->description);
    for (i = 0; i < f->n_tags; i++)
        free(f->tags[i]);
    free(f->tags);
    free(f->file);
    free(f->api_key);
    free(f->command_id);
    free(f->tool);
    free(f->params_json);
    free(f->correlation_id);
    for (i = 0; i < f->n_responses; i++) {
        mspf_response *r = &f->responses[i];
        for (j = 0; j < r->n_headers; j++) {
            free(r->headers[j].name);
            free(r->headers[j].value);
        }
        free(r->headers);
        free(r->body);
    }
    free(f->responses);
    free(f->provider_state);
    for (i = 0; i < f->n_provider_states; i++) {
        free(f->provider_states[i].name);
        free(f->provider_states[i].params_json);
    }
    free(f->provider_states);
    for (i = 0; i < f->n_provider_checks; i++)
        free(f->provider_checks[i]);
    free(f->provider_checks);
    free(f->credential);
    cJSON_Delete(f->doc);
    if (f->priv) {
        Mspf_regtab_free(&((fixture_priv *)f->priv)->regexes);
        Mspf_strtab_free(&((fixture_priv *)f->priv)->strings);
        free(f->priv);
    }
    free(f);
}
