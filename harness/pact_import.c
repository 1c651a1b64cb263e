/*
 * pact_import.c — msp-contract import: each HTTP interaction of a Pact V3 or
 * V4 pact becomes one fixture in --out DIR. The context comes from the
 * request (tool and params from the body, the command id and correlation id
 * from their headers, the credential from the role); "expect" and
 * "exit_row" come from the executor's own mapping (msp_map_response) of the
 * response exactly as the fake will serve it, so the fixture verifies and
 * lints clean by construction. An interaction the executor could never send
 * (another method or path, a body other than {tool, params, simulate:
 * false}) is left out and listed on stderr with the reason.
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

#define PACT_FILE_MAX (16u * 1024u * 1024u)
#define NAME_MAX_LEN  80
#define EXECUTE_PATH  "/api/v1/god-mode/execute"

typedef struct imp {
    int v4;
    char why[512];
    char **names; /* names and ids written so far (unique in a set) */
    char **ids;
    size_t n;
} imp;

static char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = malloc(PACT_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, PACT_FILE_MAX + 1, fp) : 0;
    (void)fclose(fp); /* read-only */
    if (!buf || n > PACT_FILE_MAX) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

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

static int is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    if (!s || strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == '-' ? s[i] != '-'
                            : !isxdigit((unsigned char)s[i]) ||
                                  isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

static int taken(char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

/* The command id: the pact's own when it is a lowercase UUID not used yet,
 * else a UUIDv4-shaped id derived from the description. */
static void command_id(imp *im, const char *given, const char *desc,
                       char out[37])
{
    if (is_uuid(given) && !taken(im->ids, im->n, given)) {
        memcpy(out, given, 37);
        return;
    }
    uint64_t a = hash(desc, 14695981039346656037ULL), b = hash(desc, a);
    do {
        snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
                 (unsigned)(a >> 16) & 0xffffu, (unsigned)a & 0xfffu,
                 0x8000u | ((unsigned)(b >> 48) & 0x3fffu),
                 (unsigned long long)(b & 0xffffffffffffULL));
        b++;
    } while (taken(im->ids, im->n, out));
}

/* A file name from the description: lowercase letters, digits and '-'. */
static void fixture_name(imp *im, const char *desc, size_t index,
                         char out[NAME_MAX_LEN + 8])
{
    size_t n = 0;
    for (const char *p = desc; *p && n < NAME_MAX_LEN; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 128)
            out[n++] = (char)tolower(c);
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, NAME_MAX_LEN + 8, "interaction-%zu", index + 1);
    char base[NAME_MAX_LEN + 8];
    memcpy(base, out, sizeof base);
    for (int k = 2; taken(im->names, im->n, out) && k < 10000; k++)
        snprintf(out, NAME_MAX_LEN + 8, "%.*s-%d", NAME_MAX_LEN, base, k);
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
        cJSON *parsed = cJSON_Parse(content->valuestring);
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

/* "type" when the pact compares the response body by type at its root,
 * else "exact". */
static const char *body_match(const cJSON *resp)
{
    const cJSON *mr = cJSON_GetObjectItem(resp, "matchingRules");
    const cJSON *b = cJSON_GetObjectItem(mr, "body");
    const cJSON *root = b ? cJSON_GetObjectItem(b, "$") : NULL;
    if (!root && mr)
        root = cJSON_GetObjectItem(mr, "$.body"); /* V2/V3 flat form */
    const cJSON *ms = cJSON_GetObjectItem(root, "matchers");
    const cJSON *m = ms ? ms->child : root;
    const cJSON *kind = cJSON_GetObjectItem(m, "match");
    return cJSON_IsString(kind) && strcmp(kind->valuestring, "type") == 0
               ? "type"
               : "exact";
}

/* Builds the fixture document of one interaction, or NULL with im->why. */
static cJSON *fixture_of(imp *im, const cJSON *it, size_t index,
                         const char *pair, char name[NAME_MAX_LEN + 8])
{
    const cJSON *type = cJSON_GetObjectItem(it, "type");
    if (im->v4 && (!cJSON_IsString(type) ||
                   strcmp(type->valuestring, "Synchronous/HTTP") != 0)) {
        fail(im, "not an HTTP interaction (type %s)",
             cJSON_IsString(type) ? type->valuestring : "missing");
        return NULL;
    }
    const cJSON *req = cJSON_GetObjectItem(it, "request");
    const cJSON *resp = cJSON_GetObjectItem(it, "response");
    const cJSON *dj = cJSON_GetObjectItem(it, "description");
    const char *desc = cJSON_IsString(dj) ? dj->valuestring : "";
    const cJSON *method = cJSON_GetObjectItem(req, "method");
    const cJSON *path = cJSON_GetObjectItem(req, "path");
    if (!cJSON_IsObject(req) || !cJSON_IsObject(resp)) {
        fail(im, "no request or no response");
        return NULL;
    }
    if (!cJSON_IsString(method) ||
        strcasecmp(method->valuestring, "POST") != 0 || !cJSON_IsString(path) ||
        strcmp(path->valuestring, EXECUTE_PATH) != 0) {
        fail(im, "the executor only sends POST " EXECUTE_PATH "");
        return NULL;
    }
    cJSON *rb = NULL, *sb = NULL;
    char *rtext = NULL, *stext = NULL;
    int rb64, sb64;
    const cJSON *hdrs = cJSON_GetObjectItem(req, "headers");
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
    if (body_of(im, resp, &sb, &stext, &sb64) != 0) {
        cJSON_Delete(rb);
        return NULL;
    }

    char id[37];
    const char *given = header(hdrs, "X-Brainstorm-Command-Id");
    command_id(im, given ? given : header(hdrs, "Idempotency-Key"), desc, id);
    fixture_name(im, desc, index, name);
    const char *corr = header(hdrs, "X-Correlation-Id");
    const char *role = role_of(hdrs, cJSON_GetObjectItem(it, "providerStates"));
    const char *key = hx_pact_key_of_role(role);
    const cJSON *st = cJSON_GetObjectItem(resp, "status");
    long status = cJSON_IsNumber(st) ? (long)st->valuedouble : 200;

    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "name", name);
    char text[1024];
    snprintf(text, sizeof text, "Imported from the pact %s: %s", pair, desc);
    cJSON_AddStringToObject(f, "description", text);
    cJSON_AddItemToObject(f, "tags",
                          cJSON_CreateStringArray((const char *[]){"pact"}, 1));
    cJSON_AddNumberToObject(f, "exit_row", 6); /* add_expect sets it */
    if (strcmp(role, "valid") != 0)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(f, "executor"),
                                "credential", role);
    cJSON *ctx = cJSON_AddObjectToObject(f, "context");
    cJSON_AddStringToObject(ctx, "command_id", id);
    cJSON_AddStringToObject(ctx, "tool", tool->valuestring);
    cJSON_AddItemToObject(ctx, "params",
                          params ? cJSON_Duplicate(params, 1)
                                 : cJSON_CreateObject());
    cJSON_AddNumberToObject(ctx, "deadline_ms", 30000);
    if (corr)
        cJSON_AddStringToObject(ctx, "correlation_id", corr);

    cJSON *r = cJSON_AddObjectToObject(f, "request");
    cJSON_AddStringToObject(r, "method", "POST");
    cJSON_AddStringToObject(r, "path", EXECUTE_PATH);
    cJSON *h = cJSON_AddObjectToObject(r, "headers");
    snprintf(text, sizeof text, "Bearer %s", key);
    cJSON_AddStringToObject(h, "Authorization", text);
    cJSON_AddStringToObject(h, "X-Brainstorm-Command-Id", id);
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
    cJSON_AddStringToObject(body, "tool", tool->valuestring);
    cJSON_AddItemToObject(body, "params",
                          params ? cJSON_Duplicate(params, 1)
                                 : cJSON_CreateObject());
    cJSON_AddFalseToObject(body, "simulate");
    cJSON_Delete(rb);

    cJSON *rs = cJSON_AddObjectToObject(f, "response");
    cJSON_AddNumberToObject(rs, "status", (double)status);
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
    if (sb)
        cJSON_AddItemToObject(rs, "body", sb);
    else if (stext)
        cJSON_AddStringToObject(rs, sb64 ? "body_base64" : "body_text", stext);
    free(stext);
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
    cJSON_AddStringToObject(pm, "body", body_match(resp));
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

static int write_fixture(const char *dir, const char *name, const cJSON *doc)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s.json", dir, name) >=
        (int)sizeof path)
        return -1;
    char *text = hx_pact_print(doc);
    FILE *fp = text ? fopen(path, "w") : NULL;
    int ok = fp && fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    if (fp)
        ok = (fclose(fp) == 0) && ok;
    free(text);
    return ok ? 0 : -1;
}

int hx_pact_import(const hx_options *o)
{
    if (!o->pact || !o->out) {
        fprintf(
            stderr,
            "msp-contract import: --pact FILE and --out DIR are required\n");
        return HX_EXIT_USAGE;
    }
    size_t len = 0;
    char *text = read_all(o->pact, &len);
    if (!text) {
        fprintf(stderr, "msp-contract import: cannot read %s: %s\n", o->pact,
                strerror(errno));
        return HX_EXIT_DATA;
    }
    cJSON *pact = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *list = cJSON_GetObjectItem(pact, "interactions");
    if (!cJSON_IsArray(list)) {
        fprintf(stderr,
                "msp-contract import: %s: not a pact (no "
                "\"interactions\" array)\n",
                o->pact);
        cJSON_Delete(pact);
        return HX_EXIT_DATA;
    }
    const cJSON *meta = cJSON_GetObjectItem(pact, "metadata");
    const cJSON *spec = cJSON_GetObjectItem(
        cJSON_GetObjectItem(meta, "pactSpecification"), "version");
    imp im = {0};
    im.v4 = cJSON_IsString(spec) && spec->valuestring[0] == '4';
    const cJSON *cons =
        cJSON_GetObjectItem(cJSON_GetObjectItem(pact, "consumer"), "name");
    const cJSON *prov =
        cJSON_GetObjectItem(cJSON_GetObjectItem(pact, "provider"), "name");
    char pair[300];
    snprintf(pair, sizeof pair, "%s -> %s",
             cJSON_IsString(cons) ? cons->valuestring : "consumer",
             cJSON_IsString(prov) ? prov->valuestring : "provider");
    if (mkdir(o->out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "msp-contract import: cannot create %s: %s\n", o->out,
                strerror(errno));
        cJSON_Delete(pact);
        return HX_EXIT_FAILED;
    }
    size_t total = (size_t)cJSON_GetArraySize(list), written = 0, left = 0;
    im.names = calloc(total + 1, sizeof *im.names);
    im.ids = calloc(total + 1, sizeof *im.ids);
    if (!im.names || !im.ids) {
        fprintf(stderr, "msp-contract import: out of memory\n");
        free(im.names);
        free(im.ids);
        cJSON_Delete(pact);
        return HX_EXIT_FAILED;
    }
    int rc = HX_EXIT_OK;
    size_t index = 0;
    for (const cJSON *it = list->child; it; it = it->next, index++) {
        char name[NAME_MAX_LEN + 8];
        im.why[0] = '\0';
        cJSON *doc = fixture_of(&im, it, index, pair, name);
        if (doc && add_expect(&im, doc, name) != 0) {
            cJSON_Delete(doc);
            doc = NULL;
        }
        const cJSON *d = cJSON_GetObjectItem(it, "description");
        if (!doc) {
            fprintf(stderr, "left out \"%s\": %s\n",
                    cJSON_IsString(d) ? d->valuestring : "?", im.why);
            left++;
            continue;
        }
        if (write_fixture(o->out, name, doc) != 0) {
            fprintf(stderr, "msp-contract import: cannot write %s/%s.json\n",
                    o->out, name);
            rc = HX_EXIT_FAILED;
        } else {
            const cJSON *cid = cJSON_GetObjectItem(
                cJSON_GetObjectItem(doc, "context"), "command_id");
            im.names[im.n] = strdup(name);
            im.ids[im.n] = strdup(cid->valuestring);
            if (im.names[im.n] && im.ids[im.n])
                im.n++;
            written++;
        }
        cJSON_Delete(doc);
    }
    printf("msp-contract import: %zu fixture(s) written to %s, %zu "
           "interaction(s) left out\n",
           written, o->out, left);
    for (size_t i = 0; i < im.n; i++) {
        free(im.names[i]);
        free(im.ids[i]);
    }
    free(im.names);
    free(im.ids);
    cJSON_Delete(pact);
    if (written == 0 && rc == HX_EXIT_OK)
        rc = HX_EXIT_FAILED;
    return rc;
}
