/*
 * pact_import.c — msp-contract import: each HTTP interaction of a Pact V3 or
 * V4 pact becomes one fixture in --out DIR. The context comes from the
 * request (tool and params from the body, the command id and correlation id
 * from their headers, the credential from the role); "expect" and
 * "exit_row" come from the executor's own mapping (msp_map_response) of the
 * response exactly as the fake will serve it, so the fixture verifies and
 * lints clean by construction. An interaction the executor could never send
 * (another method or path, a body other than {tool, params, simulate:
 * false}), or whose fixture could not say the same thing (a NUL or bytes
 * that are not UTF-8, a query, another header, a second header value, a
 * body rule with no fixture form, a status that is not one, the pact's own
 * credential, a file over the loader's limit), is left out and listed on
 * stderr with the reason (docs/pact.md). Files are written with
 * msp_write_file: never through a link, never over a file without --force.
 */
#include "harness.h"
#include "pact.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <executor/msp_util.h>

#define PACT_FILE_MAX (16u * 1024u * 1024u)
#define NAME_MAX_LEN  80
#define NAME_CAP      (NAME_MAX_LEN + 24) /* "-" and any suffix number */
#define EXECUTE_PATH  MSP_PATH_EXECUTE    /* the contract's, msp_executor.h */

/* A set of strings with a number each (open addressing, FNV-1a): the names
 * and ids written so far, and per base name the next suffix to try, so
 * naming n interactions that share a description is linear. */
typedef struct strmap {
    char **keys;
    size_t *vals;
    size_t cap, n;
} strmap;

typedef struct imp {
    int v4;
    char why[512];
    strmap names;   /* name -> next suffix for it as a base */
    strmap ids;     /* command ids written */
    strmap id_next; /* description -> next derived id to try */
    hx_pact_scan scan;
    /* the interaction being imported */
    char base[NAME_CAP], name[NAME_CAP], id[37];
    size_t id_try; /* > 0: id was derived; the description's next try */
} imp;

/* A header of a V3 (string) or V4 (array of strings) request/response, by
 * name in any case; NULL when absent. */
static const char *header(const cJSON *headers, const char *name)
{
    if (!name)
        return NULL;
    for (const cJSON *h = headers ? headers->child : NULL; h; h = h->next) {
        if (!h->string || strcasecmp(h->string, name) != 0)
            continue;
        if (cJSON_IsString(h))
            return h->valuestring;
        if (cJSON_IsArray(h) && cJSON_IsString(h->child))
            return h->child->valuestring;
    }
    return NULL;
}

/* FNV-1a, for ids and names that must be stable from one import to the
 * next. */
static uint64_t hash(const char *s, uint64_t h)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t *map_find(const strmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    size_t i = (size_t)hash(key, 14695981039346656037ULL) & (m->cap - 1);
    for (; m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (strcmp(m->keys[i], key) == 0)
            return &m->vals[i];
    return NULL;
}

/* Sets key's number (adding a copy of key). Returns 0, or -1 when out of
 * memory. */
static int map_put(strmap *m, const char *key, size_t val)
{
    size_t *v = map_find(m, key);
    if (v) {
        *v = val;
        return 0;
    }
    if (2 * (m->n + 1) > m->cap) {
        strmap g = {.cap = m->cap ? 2 * m->cap : 256};
        g.keys = calloc(g.cap, sizeof *g.keys);
        g.vals = calloc(g.cap, sizeof *g.vals);
        if (!g.keys || !g.vals) {
            free(g.keys);
            free(g.vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j =
                (size_t)hash(m->keys[i], 14695981039346656037ULL) & (g.cap - 1);
            while (g.keys[j])
                j = (j + 1) & (g.cap - 1);
            g.keys[j] = m->keys[i];
            g.vals[j] = m->vals[i];
        }
        g.n = m->n;
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    char *copy = strdup(key);
    if (!copy)
        return -1;
    size_t i = (size_t)hash(key, 14695981039346656037ULL) & (m->cap - 1);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = copy;
    m->vals[i] = val;
    m->n++;
    return 0;
}

static void map_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* The command id: the pact's own when it is a lowercase UUID not used yet,
 * else a UUIDv4-shaped id derived from the description (the next one not
 * used: each description remembers where its search stopped). */
static void command_id(const imp *im, const char *given, const char *desc,
                       char out[37], size_t *next_out)
{
    *next_out = 0;
    if (given && msp_uuid_valid(given, strlen(given), 0) &&
        !map_find(&im->ids, given)) {
        memcpy(out, given, 37);
        return;
    }
    uint64_t a = hash(desc, 14695981039346656037ULL), b = hash(desc, a);
    const size_t *next = map_find(&im->id_next, desc);
    size_t offset = next ? *next : 0;
    b += offset;
    do {
        msp_uuid4_from_bits(a, b, out);
        b++;
        *next_out = ++offset;
    } while (map_find(&im->ids, out));
}

/* A file name from the description: lowercase letters, digits and '-';
 * "-2", "-3"… when taken (base keeps the name before the suffix). */
static void fixture_name(const imp *im, const char *desc, size_t index,
                         char base[NAME_CAP], char out[NAME_CAP])
{
    size_t n = 0;
    for (const char *p = desc; *p && n < NAME_MAX_LEN; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 128)
            base[n++] = (char)tolower(c);
        else if (n > 0 && base[n - 1] != '-')
            base[n++] = '-';
    }
    while (n > 0 && base[n - 1] == '-')
        n--;
    base[n] = '\0';
    if (n == 0)
        snprintf(base, NAME_CAP, "interaction-%zu", index + 1);
    memcpy(out, base, NAME_CAP);
    const size_t *next = map_find(&im->names, base);
    for (size_t k = next && *next ? *next : 2; map_find(&im->names, out); k++)
        snprintf(out, NAME_CAP, "%.*s-%zu", NAME_MAX_LEN, base, k);
}

/* Records name (made from base) and id as used. Returns 0, or -1 when out
 * of memory. */
static int names_commit(imp *im, const char *base, const char *name,
                        const char *desc, const char *id, size_t id_next)
{
    size_t k = 2;
    if (strcmp(base, name) != 0)
        k = (size_t)strtoull(name + strlen(base) + 1, NULL, 10) + 1;
    const size_t *own = map_find(&im->names, name);
    if (map_put(&im->names, name, own ? *own : 2) != 0 ||
        map_put(&im->names, base, k) != 0 || map_put(&im->ids, id, 0) != 0)
        return -1;
    return id_next ? map_put(&im->id_next, desc, id_next) : 0;
}

static int fail(imp *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records why the interaction is left out. */
static int fail(imp *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->why, sizeof im->why, fmt, ap);
    va_end(ap);
    return -1;
}

/* The body of a V3 or V4 request/response as JSON (*json, a new item) or as
 * bytes (*text, a new string; *b64 when it is base64 text). */
static int body_of(imp *im, const cJSON *msg, cJSON **json, char **text,
                   int *b64)
{
    const cJSON *b = cJSON_GetObjectItem(msg, "body");
    *json = NULL;
    *text = NULL;
    *b64 = 0;
    if (!b || cJSON_IsNull(b))
        return 0;
    const cJSON *content = b;
    const char *ctype =
        header(cJSON_GetObjectItem(msg, "headers"), "Content-Type");
    if (im->v4) {
        content = cJSON_GetObjectItem(b, "content");
        const cJSON *ct = cJSON_GetObjectItem(b, "contentType");
        const cJSON *enc = cJSON_GetObjectItem(b, "encoded");
        if (cJSON_IsString(ct))
            ctype = ct->valuestring;
        if (!content)
            return 0;
        if (cJSON_IsString(enc) && strcmp(enc->valuestring, "base64") == 0) {
            if (!cJSON_IsString(content))
                return fail(im, "a base64 body that is not a string");
            *text = strdup(content->valuestring);
            *b64 = 1;
            return 0;
        }
    }
    int json_type = !ctype || strstr(ctype, "json") != NULL;
    if (cJSON_IsString(content) && !json_type) {
        *text = strdup(content->valuestring);
        return 0;
    }
    if (cJSON_IsString(content) && json_type) {
        /* JSON carried as a string: the same strict check as the pact */
        hx_pact_scan sc;
        const char *t = content->valuestring;
        int ok = hx_pact_scan_text(t, strlen(t), &sc) == 0;
        unsigned flags = sc.outside;
        hx_pact_scan_free(&sc);
        if (ok && (flags & HX_PACT_SCAN_NUL))
            return fail(im, "a JSON body string holds \\u0000: a fixture "
                            "written with cJSON would end the string there");
        if (ok && (flags & HX_PACT_SCAN_NOT_UTF8))
            return fail(im, "a JSON body string holds bytes that are not "
                            "UTF-8");
        cJSON *parsed = ok ? cJSON_Parse(t) : NULL;
        *json = parsed ? parsed : cJSON_Duplicate(content, 1);
        return 0;
    }
    *json = cJSON_Duplicate(content, 1);
    return 0;
}

/* The credential role: the "<role:R>" placeholder of an exported pact, else
 * a role provider state's params, else a bundled key's role, else "valid". */
static const char *role_of(const cJSON *headers, const cJSON *states)
{
    static char role[64];
    const char *auth = header(headers, "Authorization");
    const char *ph = auth ? strstr(auth, "<role:") : NULL;
    if (ph && sscanf(ph, "<role:%63[a-z_]>", role) == 1 &&
        hx_pact_key_of_role(role))
        return role;
    for (const cJSON *s = states ? states->child : NULL; s; s = s->next) {
        const cJSON *r =
            cJSON_GetObjectItem(cJSON_GetObjectItem(s, "params"), "role");
        if (cJSON_IsString(r) && hx_pact_key_of_role(r->valuestring))
            return r->valuestring;
    }
    if (auth && strncmp(auth, "Bearer ", 7) == 0) {
        const char *r = hx_pact_role_of_key(auth + 7);
        if (r && strcmp(auth + 7, "") != 0)
            return r;
    }
    return "valid";
}

/* The first provider state that is not a credential role, or NULL. */
static const char *state_of(const cJSON *it)
{
    const cJSON *states = cJSON_GetObjectItem(it, "providerStates");
    for (const cJSON *s = states ? states->child : NULL; s; s = s->next) {
        const cJSON *n = cJSON_GetObjectItem(s, "name");
        if (cJSON_IsString(n) &&
            strncmp(n->valuestring, HX_PACT_ROLE_STATE_PREFIX,
                    strlen(HX_PACT_ROLE_STATE_PREFIX)) != 0)
            return n->valuestring;
    }
    const cJSON *v2 = cJSON_GetObjectItem(it, "providerState");
    return cJSON_IsString(v2) ? v2->valuestring : NULL;
}

/* The headers the fixture of an imported interaction carries (the ones the
 * executor sends); a pact requiring any other is left out. */
static const char *const carried_headers[] = {
    "Authorization", "X-Brainstorm-Command-Id", "Idempotency-Key",
    "Content-Type", "X-Correlation-Id"};

/* -1 with why when a header of msg has several values or is not a string
 * (a fixture header has one value). */
static int single_values(imp *im, const cJSON *headers, const char *what)
{
    for (const cJSON *h = headers ? headers->child : NULL; h; h = h->next) {
        int n = cJSON_IsArray(h) ? cJSON_GetArraySize(h) : 1;
        int strings =
            cJSON_IsString(h) || (cJSON_IsArray(h) && cJSON_IsString(h->child));
        if (n > 1)
            return fail(im,
                        "the %s header %s has %d values: a fixture carries "
                        "one",
                        what, h->string, n);
        if (!strings)
            return fail(im, "the %s header %s is not a string", what,
                        h->string);
    }
    return 0;
}

/* What the request requires that a fixture cannot: a query, a header the
 * executor does not send, a second value, a Content-Type other than JSON,
 * two different ids. Returns 0, or -1 with why. */
static int check_request(imp *im, const cJSON *req)
{
    const cJSON *q = cJSON_GetObjectItem(req, "query");
    if (q && !cJSON_IsNull(q) && !(cJSON_IsString(q) && !q->valuestring[0]) &&
        !(cJSON_IsObject(q) && !q->child))
        return fail(im, "the request has a query: the executor sends none "
                        "and a fixture cannot require one");
    const cJSON *hdrs = cJSON_GetObjectItem(req, "headers");
    if (single_values(im, hdrs, "request") != 0)
        return -1;
    for (const cJSON *h = hdrs ? hdrs->child : NULL; h; h = h->next) {
        int known = 0;
        for (size_t i = 0; i < sizeof carried_headers / sizeof *carried_headers;
             i++)
            known |= strcasecmp(h->string, carried_headers[i]) == 0;
        if (!known)
            return fail(im,
                        "the request requires the header %s: a fixture "
                        "carries only the headers the executor sends",
                        h->string);
    }
    const char *ct = header(hdrs, "Content-Type");
    if (ct && strncasecmp(ct, "application/json", 16) != 0)
        return fail(im,
                    "the request requires Content-Type %s: the executor "
                    "sends application/json",
                    ct);
    const char *id = header(hdrs, "X-Brainstorm-Command-Id");
    const char *key = header(hdrs, "Idempotency-Key");
    if (id && key && strcmp(id, key) != 0)
        return fail(im, "X-Brainstorm-Command-Id and Idempotency-Key differ: "
                        "the executor sends the same id in both");
    return 0;
}

/* The HTTP status of the response: an integer 100-599; Pact's default 200
 * when the pact gives none. Returns 0, or -1 with why. */
static int status_of(imp *im, const cJSON *resp, int *status)
{
    const cJSON *st = cJSON_GetObjectItem(resp, "status");
    if (!st) {
        *status = 200;
        return 0;
    }
    double v = cJSON_IsNumber(st) ? st->valuedouble : 0;
    if (!cJSON_IsNumber(st) || !(v >= 100 && v <= 599) || v != (double)(int)v) {
        char *text = cJSON_PrintUnformatted(st);
        fail(im,
             "the response status %.40s is not an HTTP status (an integer "
             "100-599)",
             text ? text : "?");
        cJSON_free(text);
        return -1;
    }
    *status = (int)v;
    return 0;
}

/* What the executor could send: a Synchronous/HTTP interaction (V4) with
 * a request POST EXECUTE_PATH and a response whose headers and status a
 * fixture can hold. Returns 0 with *status, or -1 with im->why. */
static int check_interaction(imp *im, const cJSON *it, int *status)
{
    const cJSON *type = cJSON_GetObjectItem(it, "type");
    if (im->v4 && (!cJSON_IsString(type) ||
                   strcmp(type->valuestring, "Synchronous/HTTP") != 0))
        return fail(im, "not an HTTP interaction (type %s)",
                    cJSON_IsString(type) ? type->valuestring : "missing");
    const cJSON *req = cJSON_GetObjectItem(it, "request");
    const cJSON *resp = cJSON_GetObjectItem(it, "response");
    const cJSON *method = cJSON_GetObjectItem(req, "method");
    const cJSON *path = cJSON_GetObjectItem(req, "path");
    if (!cJSON_IsObject(req) || !cJSON_IsObject(resp))
        return fail(im, "no request or no response");
    if (!cJSON_IsString(method) ||
        strcasecmp(method->valuestring, "POST") != 0 || !cJSON_IsString(path) ||
        strcmp(path->valuestring, EXECUTE_PATH) != 0)
        return fail(im, "the executor only sends POST " EXECUTE_PATH "");
    if (check_request(im, req) != 0 ||
        single_values(im, cJSON_GetObjectItem(resp, "headers"), "response") !=
            0 ||
        status_of(im, resp, status) != 0)
        return -1;
    return 0;
}

/* The request body as JSON when it is one the executor sends, {tool,
 * params, simulate: false} (a new item), else NULL with im->why. */
static cJSON *request_body(imp *im, const cJSON *req)
{
    cJSON *rb = NULL;
    char *rtext = NULL;
    int rb64;
    if (body_of(im, req, &rb, &rtext, &rb64) != 0)
        return NULL;
    free(rtext);
    const cJSON *tool = cJSON_GetObjectItem(rb, "tool");
    const cJSON *params = cJSON_GetObjectItem(rb, "params");
    const cJSON *sim = cJSON_GetObjectItem(rb, "simulate");
    int extra = 0;
    for (const cJSON *c = rb ? rb->child : NULL; c; c = c->next)
        extra |= strcmp(c->string, "tool") != 0 &&
                 strcmp(c->string, "params") != 0 &&
                 strcmp(c->string, "simulate") != 0;
    if (!cJSON_IsObject(rb) || !cJSON_IsString(tool) || !tool->valuestring[0] ||
        (params && !cJSON_IsObject(params)) || (sim && !cJSON_IsFalse(sim)) ||
        extra) {
        cJSON_Delete(rb);
        fail(im, "the executor only sends a body {tool, params, simulate: "
                 "false}");
        return NULL;
    }
    return rb;
}

/* The response of an interaction, as the fixture will hold it. */
typedef struct reply {
    int status;
    cJSON *json; /* the body as JSON, else text (base64 when b64) */
    char *text;
    int b64;
    const char *mode; /* provider.match.body */
    cJSON *values;    /* provider.match.values, or NULL */
} reply;

/* "name", "description", "tags", "exit_row" and "executor". */
static void add_head(cJSON *f, const imp *im, const char *pair,
                     const char *desc, const char *role)
{
    cJSON_AddStringToObject(f, "name", im->name);
    size_t tlen = strlen(pair) + strlen(desc) + 64;
    char *long_text = malloc(tlen);
    if (long_text)
        snprintf(long_text, tlen, "Imported from the pact %s: %s", pair, desc);
    cJSON_AddStringToObject(f, "description", long_text ? long_text : desc);
    free(long_text);
    cJSON_AddItemToObject(f, "tags",
                          cJSON_CreateStringArray((const char *[]){"pact"}, 1));
    cJSON_AddNumberToObject(f, "exit_row", 6); /* add_expect sets it */
    if (strcmp(role, "valid") != 0)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(f, "executor"),
                                "credential", role);
}

/* "context" and "request": what the executor is given and must send. */
static void add_call(cJSON *f, const imp *im, const cJSON *rb, const char *corr,
                     const char *key)
{
    const char *tool = cJSON_GetObjectItem(rb, "tool")->valuestring;
    const cJSON *params = cJSON_GetObjectItem(rb, "params");
    cJSON *ctx = cJSON_AddObjectToObject(f, "context");
    cJSON_AddStringToObject(ctx, "command_id", im->id);
    cJSON_AddStringToObject(ctx, "tool", tool);
    cJSON_AddItemToObject(ctx, "params",
                          params ? cJSON_Duplicate(params, 1)
                                 : cJSON_CreateObject());
    cJSON_AddNumberToObject(ctx, "deadline_ms", 30000);
    if (corr)
        cJSON_AddStringToObject(ctx, "correlation_id", corr);

    char text[1024];
    cJSON *r = cJSON_AddObjectToObject(f, "request");
    cJSON_AddStringToObject(r, "method", "POST");
    cJSON_AddStringToObject(r, "path", EXECUTE_PATH);
    cJSON *h = cJSON_AddObjectToObject(r, "headers");
    snprintf(text, sizeof text, "Bearer %s", key);
    cJSON_AddStringToObject(h, "Authorization", text);
    cJSON_AddStringToObject(h, "X-Brainstorm-Command-Id", im->id);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(h, "Idempotency-Key"),
                            "same_as", "X-Brainstorm-Command-Id");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(h, "Content-Type"), "regex",
                            "^application/json");
    if (corr)
        cJSON_AddStringToObject(h, "X-Correlation-Id", corr);
    else
        cJSON_AddTrueToObject(cJSON_AddObjectToObject(h, "X-Correlation-Id"),
                              "absent");
    cJSON *body = cJSON_AddObjectToObject(r, "body");
    cJSON_AddStringToObject(body, "tool", tool);
    cJSON_AddItemToObject(body, "params",
                          params ? cJSON_Duplicate(params, 1)
                                 : cJSON_CreateObject());
    cJSON_AddFalseToObject(body, "simulate");
}

/* "response", a placeholder "expect" and "provider"; takes the reply's
 * body and values. */
static void add_reply(cJSON *f, const cJSON *it, const cJSON *resp, reply *rp)
{
    cJSON *rs = cJSON_AddObjectToObject(f, "response");
    cJSON_AddNumberToObject(rs, "status", rp->status);
    const cJSON *rh = cJSON_GetObjectItem(resp, "headers");
    cJSON *outh = NULL;
    for (const cJSON *c = rh ? rh->child : NULL; c; c = c->next) {
        const char *v = header(rh, c->string);
        if (!v)
            continue;
        if (!outh)
            outh = cJSON_AddObjectToObject(rs, "headers");
        cJSON_AddStringToObject(outh, c->string, v);
    }
    if (rp->json)
        cJSON_AddItemToObject(rs, "body", rp->json);
    else if (rp->text)
        cJSON_AddStringToObject(rs, rp->b64 ? "body_base64" : "body_text",
                                rp->text);
    free(rp->text);
    /* add_expect fills it from the mapping once the fixture parses */
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(f, "expect"), "exit_code",
                            0);

    cJSON *pv = cJSON_AddObjectToObject(f, "provider");
    cJSON_AddTrueToObject(pv, "verify");
    const char *state = state_of(it);
    if (state)
        cJSON_AddStringToObject(pv, "state", state);
    cJSON *pm = cJSON_AddObjectToObject(pv, "match");
    cJSON_AddStringToObject(pm, "status", "exact");
    cJSON_AddStringToObject(pm, "body", rp->mode);
    if (rp->values)
        cJSON_AddItemToObject(pm, "values", rp->values);
}

/* Builds the fixture document of one interaction, or NULL with im->why. */
static cJSON *fixture_of(imp *im, const cJSON *it, size_t index,
                         const char *pair)
{
    reply rp = {0};
    if (check_interaction(im, it, &rp.status) != 0)
        return NULL;
    const cJSON *req = cJSON_GetObjectItem(it, "request");
    const cJSON *resp = cJSON_GetObjectItem(it, "response");
    cJSON *rb = request_body(im, req);
    if (!rb)
        return NULL;
    if (body_of(im, resp, &rp.json, &rp.text, &rp.b64) != 0 ||
        hx_pact_import_rules(resp, rp.json, &rp.mode, &rp.values, im->why,
                             sizeof im->why) != 0) {
        cJSON_Delete(rb);
        cJSON_Delete(rp.json);
        free(rp.text);
        return NULL;
    }

    const cJSON *dj = cJSON_GetObjectItem(it, "description");
    const char *desc = cJSON_IsString(dj) ? dj->valuestring : "";
    const cJSON *hdrs = cJSON_GetObjectItem(req, "headers");
    const char *given = header(hdrs, "X-Brainstorm-Command-Id");
    command_id(im, given ? given : header(hdrs, "Idempotency-Key"), desc,
               im->id, &im->id_try);
    fixture_name(im, desc, index, im->base, im->name);
    const char *role = role_of(hdrs, cJSON_GetObjectItem(it, "providerStates"));

    cJSON *f = cJSON_CreateObject();
    add_head(f, im, pair, desc, role);
    add_call(f, im, rb, header(hdrs, "X-Correlation-Id"),
             hx_pact_key_of_role(role));
    cJSON_Delete(rb);
    add_reply(f, it, resp, &rp);
    return f;
}

/* Fills "exit_row" and "expect" from the executor's mapping of the body the
 * fake will serve (the fixture model renders it; parsing the draft gets the
 * same bytes). Returns 0, or -1 with im->why set. */
static int add_expect(imp *im, cJSON *doc, const char *name)
{
    char *text = cJSON_PrintUnformatted(doc);
    mspf_fixture *f = NULL;
    mspf_error err;
    if (!text || mspf_fixture_parse(text, strlen(text), name, &f, &err) != 0) {
        char buf[1400];
        cJSON_free(text);
        return fail(im, "%s",
                    text ? mspf_error_format(&err, buf, sizeof buf)
                         : "out of memory");
    }
    cJSON_free(text);
    msp_result res;
    memset(&res, 0, sizeof res);
    const mspf_response *r = &f->responses[0];
    msp_map_response(r->status, (const char *)r->body, r->body_len, &res);
    mspf_fixture_free(f);
    if (memchr(res.out, '\0', res.out_len) ||
        memchr(res.err, '\0', res.err_len)) {
        msp_result_free(&res);
        return fail(im, "the result holds a NUL byte a fixture string cannot "
                        "carry");
    }
    cJSON_SetNumberValue(cJSON_GetObjectItem(doc, "exit_row"), res.row);
    cJSON *ex = cJSON_CreateObject();
    cJSON_AddNumberToObject(ex, "exit_code", res.exit_code);
    cJSON_AddStringToObject(ex, "stdout", res.out ? res.out : "");
    cJSON_AddStringToObject(ex, "stderr", res.err ? res.err : "");
    cJSON_ReplaceItemInObjectCaseSensitive(doc, "expect", ex);
    msp_result_free(&res);
    return 0;
}

/* The credential of an interaction's Authorization header when it is a
 * real one (not a role placeholder, not a bundled test key): what follows
 * the scheme ("Bearer ", "Token "…), else the whole value; NULL when there
 * is none. */
static const char *pact_credential(const cJSON *it)
{
    const char *auth = header(
        cJSON_GetObjectItem(cJSON_GetObjectItem(it, "request"), "headers"),
        "Authorization");
    if (!auth)
        return NULL;
    const char *space = strchr(auth, ' '); /* past the scheme, if any */
    const char *tok = space ? space : auth;
    while (*tok == ' ')
        tok++;
    if (!*tok || strstr(tok, "<role:") || hx_pact_role_of_key(tok))
        return NULL;
    return tok;
}

/* The fixture file's bytes (text and a newline), or NULL with why: the
 * pact's own credential appears in it (in any JSON spelling), or it would
 * be larger than the loader and lint accept. */
static char *fixture_text(imp *im, const cJSON *doc, const char *cred,
                          size_t *len)
{
    char *text = hx_pact_print(doc);
    if (!text) {
        fail(im, "out of memory");
        return NULL;
    }
    size_t n = strlen(text);
    if (cred && msp_redact_secret(text, n, cred, strlen(cred)) > 0) {
        free(text);
        fail(im, "the request's Authorization credential appears in what the "
                 "fixture would hold (params, body or headers): a key from a "
                 "pact is never written to a fixture");
        return NULL;
    }
    if (n + 1 > MSPF_FILE_MAX) {
        free(text);
        fail(im,
             "the fixture would be %zu bytes, over the %u bytes a fixture "
             "file may have (lint and the loader refuse it)",
             n + 1, MSPF_FILE_MAX);
        return NULL;
    }
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        fail(im, "out of memory");
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

/* Why the pact is not one import reads, or NULL. */
static const char *not_a_pact(const cJSON *pact, char *buf, size_t cap)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(pact, "interactions");
    if (cJSON_IsArray(list))
        return NULL;
    if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(pact, "messages")))
        return "a message pact (\"messages\"): message pacts are not "
               "supported, only HTTP interactions";
    snprintf(buf, cap, "not a pact (%s)",
             !cJSON_IsObject(pact) ? "the JSON value is not an object"
             : list                ? "\"interactions\" is not an array"
                                   : "no \"interactions\" array");
    return buf;
}

/* Writes one fixture file: never through a symbolic link, never over an
 * existing file unless --force. Returns 0, or -1 with the message
 * printed. */
static int write_fixture(const hx_options *o, const char *name,
                         const char *text, size_t len)
{
    char path[4200];
    int err = ENAMETOOLONG;
    if (snprintf(path, sizeof path, "%s/%s.json", o->out, name) <
        (int)sizeof path) {
        if (msp_write_file(path, text, len, 0644,
                           MSP_WRITE_NO_SYNC |
                               (o->force ? MSP_WRITE_REPLACE : 0)) == 0)
            return 0;
        err = errno;
    }
    fprintf(stderr, "msp-contract import: cannot write %s/%s.json: %s%s\n",
            o->out, name, msp_file_strerror(err),
            err == EEXIST && !o->force
                ? " (not replaced; --force replaces a regular file)"
                : "");
    return -1;
}

/* The pact, parsed, or NULL with the reason printed (not readable, not
 * JSON and where, too deep, empty, not a pact). */
static cJSON *read_pact(const char *file, hx_pact_scan *scan)
{
    size_t len = 0;
    char *text = NULL;
    if (msp_read_file(file, PACT_FILE_MAX, &text, &len) != 0) {
        int e = errno;
        fprintf(stderr, "msp-contract import: cannot read %s: %s\n", file,
                e == EFBIG ? "larger than 16 MiB" : msp_file_strerror(e));
        return NULL;
    }
    if (hx_pact_scan_text(text, len, scan) != 0) {
        fprintf(stderr, "msp-contract import: %s: not JSON: %s\n", file,
                scan->error);
        free(text);
        return NULL;
    }
    cJSON *pact = cJSON_ParseWithLength(text, len);
    if (!pact) {
        const char *at = cJSON_GetErrorPtr();
        fprintf(stderr,
                "msp-contract import: %s: not JSON (cJSON stops at offset "
                "%zu)\n",
                file,
                at && at >= text && at <= text + len ? (size_t)(at - text)
                                                     : len);
        free(text);
        return NULL;
    }
    free(text);
    char why[200];
    const char *bad = not_a_pact(pact, why, sizeof why);
    if (bad) {
        fprintf(stderr, "msp-contract import: %s: %s\n", file, bad);
        cJSON_Delete(pact);
        return NULL;
    }
    return pact;
}

/* The fixture bytes of one interaction, or NULL with im->why. */
static char *import_one(imp *im, const cJSON *it, size_t index,
                        const char *pair, size_t *len)
{
    unsigned flags = hx_pact_scan_flags(&im->scan, index);
    if (flags & HX_PACT_SCAN_NUL) {
        fail(im, "a string holds \\u0000: a fixture written with cJSON would "
                 "end it there, so the bytes after it would be lost");
        return NULL;
    }
    if (flags & HX_PACT_SCAN_NOT_UTF8) {
        fail(im, "a string holds bytes that are not UTF-8: the fixture would "
                 "not be JSON");
        return NULL;
    }
    cJSON *doc = fixture_of(im, it, index, pair);
    if (doc && add_expect(im, doc, im->name) != 0) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    char *text = doc ? fixture_text(im, doc, pact_credential(it), len) : NULL;
    cJSON_Delete(doc);
    return text;
}

/* "left out "DESCRIPTION": why" on stderr; the description with the
 * pact's credential starred out, "?" when there is none or it is not
 * UTF-8. */
static void print_left_out(const imp *im, const cJSON *it, const char *desc)
{
    const char *cred = pact_credential(it);
    char *shown =
        desc && msp_utf8_valid(desc, strlen(desc)) ? strdup(desc) : NULL;
    if (shown && cred)
        (void)msp_redact_secret(shown, strlen(shown), cred, strlen(cred));
    fprintf(stderr, "left out \"%s\": %s\n", shown ? shown : "?", im->why);
    free(shown);
}

int hx_pact_import(const hx_options *o)
{
    if (!o->pact || !o->out) {
        fprintf(
            stderr,
            "msp-contract import: --pact FILE and --out DIR are required\n");
        return HX_EXIT_USAGE;
    }
    imp im = {0};
    cJSON *pact = read_pact(o->pact, &im.scan);
    if (!pact) {
        hx_pact_scan_free(&im.scan);
        return HX_EXIT_DATA;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(pact, "interactions");
    const cJSON *meta = cJSON_GetObjectItem(pact, "metadata");
    const cJSON *spec = cJSON_GetObjectItem(
        cJSON_GetObjectItem(meta, "pactSpecification"), "version");
    im.v4 = cJSON_IsString(spec) && spec->valuestring[0] == '4';
    const cJSON *cons =
        cJSON_GetObjectItem(cJSON_GetObjectItem(pact, "consumer"), "name");
    const cJSON *prov =
        cJSON_GetObjectItem(cJSON_GetObjectItem(pact, "provider"), "name");
    /* only a label in each fixture's description, but a fixture is JSON */
    int cons_ok = cJSON_IsString(cons) &&
                  msp_utf8_valid(cons->valuestring, strlen(cons->valuestring));
    int prov_ok = cJSON_IsString(prov) &&
                  msp_utf8_valid(prov->valuestring, strlen(prov->valuestring));
    char pair[300];
    snprintf(pair, sizeof pair, "%s -> %s",
             cons_ok ? cons->valuestring : "consumer",
             prov_ok ? prov->valuestring : "provider");
    size_t written = 0, left = 0, index = 0;
    int rc = HX_EXIT_OK;
    struct stat st;
    if (mkdir(o->out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "msp-contract import: cannot create %s: %s\n", o->out,
                strerror(errno));
        rc = HX_EXIT_FAILED;
        list = NULL;
    } else if (stat(o->out, &st) != 0 || !S_ISDIR(st.st_mode)) {
        /* one line, not one per interaction */
        fprintf(stderr, "msp-contract import: --out %s is not a directory\n",
                o->out);
        rc = HX_EXIT_FAILED;
        list = NULL;
    }
    for (const cJSON *it = list ? list->child : NULL; it;
         it = it->next, index++) {
        im.why[0] = '\0';
        size_t len = 0;
        char *text = import_one(&im, it, index, pair, &len);
        const cJSON *d = cJSON_GetObjectItem(it, "description");
        const char *desc = cJSON_IsString(d) ? d->valuestring : "";
        if (!text) {
            print_left_out(&im, it, cJSON_IsString(d) ? desc : NULL);
            left++;
            continue;
        }
        int wrc = write_fixture(o, im.name, text, len);
        free(text);
        if (names_commit(&im, im.base, im.name, desc, im.id, im.id_try) != 0) {
            fprintf(stderr, "msp-contract import: out of memory\n");
            rc = HX_EXIT_FAILED;
            break;
        }
        if (wrc != 0)
            rc = HX_EXIT_FAILED;
        else
            written++;
    }
    if (list)
        printf("msp-contract import: %zu fixture(s) written to %s, %zu "
               "interaction(s) left out\n",
               written, o->out, left);
    map_free(&im.names);
    map_free(&im.ids);
    map_free(&im.id_next);
    hx_pact_scan_free(&im.scan);
    cJSON_Delete(pact);
    if (written == 0 && rc == HX_EXIT_OK)
        rc = HX_EXIT_FAILED;
    return rc;
}
