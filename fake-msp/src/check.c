/* check.c — the executor-contract check of one execute request
 * (fake_msp_check_request in fake_msp.h). */
#include "fake_msp/fake_msp.h"
#include "check.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "executor/msp_util.h"

#define BEARER    "Bearer "
#define JSON_TYPE "application/json"

typedef struct vlist {
    char **v;
    size_t n;
    int failed;
} vlist;

static void add(vlist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add(vlist *l, const char *fmt, ...)
{
    char line[320];
    char **nv;
    va_list ap;

    if (l->failed)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    nv = realloc(l->v, (l->n + 1) * sizeof *nv);
    if (!nv) {
        l->failed = 1;
        return;
    }
    l->v = nv;
    if ((l->v[l->n] = strdup(line)) == NULL) {
        l->failed = 1;
        return;
    }
    l->n++;
}

static const char *header(const mspf_request *req, const char *name)
{
    size_t i;

    for (i = 0; i < req->n_headers; i++)
        if (fm_strieq(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

static void check_body(const cJSON *doc, vlist *l)
{
    const cJSON *m, *tool, *params, *sim;

    if (!doc) {
        add(l, "body is not JSON");
        return;
    }
    if (!cJSON_IsObject(doc)) {
        add(l, "body is not a JSON object");
        return;
    }
    tool = cJSON_GetObjectItemCaseSensitive(doc, "tool");
    params = cJSON_GetObjectItemCaseSensitive(doc, "params");
    sim = cJSON_GetObjectItemCaseSensitive(doc, "simulate");
    if (!tool)
        add(l, "body member \"tool\" missing");
    else if (!cJSON_IsString(tool))
        add(l, "body member \"tool\" is not a string");
    if (!params)
        add(l, "body member \"params\" missing");
    else if (!cJSON_IsObject(params))
        add(l, "body member \"params\" is not an object");
    if (!sim)
        add(l, "body member \"simulate\" missing");
    else if (!cJSON_IsFalse(sim))
        add(l, "body member \"simulate\" is not false");
    cJSON_ArrayForEach(m, doc)
    {
        const cJSON *k;
        if (strcmp(m->string, "tool") != 0 &&
            strcmp(m->string, "params") != 0 &&
            strcmp(m->string, "simulate") != 0) {
            add(l, "body has extra member \"%.200s\"", m->string);
            continue;
        }
        for (k = doc->child; k != m; k = k->next)
            if (strcmp(k->string, m->string) == 0) {
                add(l, "body has duplicate member \"%.200s\"", m->string);
                break;
            }
    }
}

int fm_check_request_doc(const mspf_request *req, const cJSON *doc,
                         char ***violations, size_t *n)
{
    const char *cmd = header(req, "X-Brainstorm-Command-Id");
    const char *key = header(req, "Idempotency-Key");
    const char *auth = header(req, "Authorization");
    const char *ct = header(req, "Content-Type");
    vlist l = {0};

    if (strcmp(req->method, "POST") != 0)
        add(&l, "method is %.16s, not POST", req->method);
    if (!cmd)
        add(&l, "X-Brainstorm-Command-Id missing");
    if (!key)
        add(&l, "Idempotency-Key missing");
    if (cmd && key && strcmp(cmd, key) != 0)
        add(&l, "Idempotency-Key differs from X-Brainstorm-Command-Id");
    if (!auth)
        add(&l, "Authorization missing");
    else if (strncmp(auth, BEARER, MSP_STRLEN(BEARER)) != 0 ||
             !auth[MSP_STRLEN(BEARER)] ||
             strchr(auth + MSP_STRLEN(BEARER), ' '))
        add(&l, "Authorization is not \"Bearer <token>\"");
    if (!ct)
        add(&l, "Content-Type missing");
    else if (strncasecmp(ct, JSON_TYPE, MSP_STRLEN(JSON_TYPE)) != 0 ||
             (ct[MSP_STRLEN(JSON_TYPE)] && ct[MSP_STRLEN(JSON_TYPE)] != ';' &&
              ct[MSP_STRLEN(JSON_TYPE)] != ' '))
        add(&l, "Content-Type is not application/json");
    check_body(doc, &l);
    if (l.failed) {
        fake_msp_violations_free(l.v, l.n);
        return -1;
    }
    *violations = l.v;
    *n = l.n;
    return 0;
}

int fake_msp_check_request(const mspf_request *req, char ***violations,
                           size_t *n)
{
    cJSON *doc = cJSON_ParseWithLength((const char *)req->body, req->body_len);
    int rc = fm_check_request_doc(req, doc, violations, n);

    cJSON_Delete(doc);
    return rc;
}

void fake_msp_violations_free(char **violations, size_t n)
{
    size_t i;

    if (!violations)
        return;
    for (i = 0; i < n; i++)
        free(violations[i]);
    free(violations);
}
