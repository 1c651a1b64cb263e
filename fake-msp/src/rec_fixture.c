/*
 * rec_fixture.c — the parts of a recorded fixture: the credential role,
 * --redact paths, scrubbing of what goes into the document, the reply and
 * its expectation, the request matchers and the whole document (see
 * record.h and docs/record.md).
 *
 * Every string that comes from the exchange is scrubbed (rec->scrub, every
 * spelling of every key remembered) where it enters the document; the
 * document's own skeleton (member names, the role's built-in key, regexes)
 * is never scrubbed, so no key can break another client's fixture.
 */
#include "rec_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_executor.h"
#include "executor/msp_util.h"
#include "util.h"

#define VAL_REDACTED "REDACTED"

/* ---- credential roles: the one place that writes them ----------------- */

/* A fixture names the role of the key (the fixture model's roles,
 * mspf_roles()), never the key recorded: "executor": {"credential": ROLE}
 * (nothing for the default role) and an Authorization matcher with the
 * role's built-in key, which verify and fake-msp issue for it. */
const char *fm_rec_role(long status, const char *error_code)
{
    if (status == 401)
        return "invalid";
    if (status == 403)
        return error_code && strcmp(error_code, "TENANT_MISMATCH") == 0
                   ? "other_tenant"
                   : "read_only";
    return MSPF_ROLE_DEFAULT;
}

/* The Authorization matcher of a role. */
static cJSON *role_auth_matcher(const char *role)
{
    const mspf_role *r = mspf_role_find(role);
    char v[160];

    snprintf(v, sizeof v, "Bearer %s",
             r ? r->default_key
               : mspf_role_find(MSPF_ROLE_DEFAULT)->default_key);
    return cJSON_CreateString(v);
}

/* "executor": {"credential": ROLE}, nothing for the default role. */
static void role_to_fixture(cJSON *doc, const char *role)
{
    cJSON *ex;

    if (strcmp(role, MSPF_ROLE_DEFAULT) == 0)
        return;
    ex = cJSON_AddObjectToObject(doc, "executor");
    cJSON_AddStringToObject(ex, "credential", role);
}

/* ---- redaction paths -------------------------------------------------- */

void fm_recx_rpath_free(rpath *p)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        free(p->steps[i].member);
    free(p->steps);
}

int fm_recx_rpath_parse(const char *text, rpath *out)
{
    const char *s = text;
    path_step *st;

    memset(out, 0, sizeof *out);
    if (strncmp(s, "$.", 2) == 0)
        s += 2;
    if (strncmp(s, "request.", 8) == 0)
        s += 8;
    else if (strncmp(s, "response.", 9) == 0) {
        s += 9;
        out->response = 1;
    } else
        return -1;
    while (*s) {
        st = realloc(out->steps, (out->n + 1) * sizeof *st);
        if (!st)
            return -1;
        out->steps = st;
        st = &out->steps[out->n];
        if (*s == '[') {
            char *end;
            st->member = NULL;
            if (s[1] == '*' && s[2] == ']') {
                st->index = -1;
                s += 3;
            } else {
                errno = 0;
                st->index = strtol(s + 1, &end, 10);
                if (errno || end == s + 1 || *end != ']' || st->index < 0)
                    return -1;
                s = end + 1;
            }
        } else {
            size_t n = strcspn(s, ".[");
            if (n == 0)
                return -1;
            st->member = strndup(s, n);
            if (!st->member)
                return -1;
            st->index = 0;
            s += n;
        }
        out->n++;
        if (*s == '.') {
            s++;
            if (!*s || *s == '.' || *s == '[')
                return -1;
        }
    }
    return out->n ? 0 : -1;
}

/* A placeholder of the same JSON type as v. */
static cJSON *placeholder(const cJSON *v)
{
    if (cJSON_IsString(v))
        return cJSON_CreateString(VAL_REDACTED);
    if (cJSON_IsNumber(v))
        return cJSON_CreateNumber(0);
    if (cJSON_IsBool(v))
        return cJSON_CreateFalse();
    if (cJSON_IsObject(v))
        return cJSON_CreateObject();
    if (cJSON_IsArray(v))
        return cJSON_CreateArray();
    return cJSON_CreateNull();
}

/* Replaces what the path reaches under node: with the placeholder (value
 * doc) and, when matcher is not NULL, with {"type": placeholder} in the
 * parallel matcher document. Returns how many values were redacted. */
int fm_recx_redact_walk(cJSON *node, cJSON *matcher, const path_step *st,
                        size_t n)
{
    int count = 0, i, size;

    if (!node || n == 0)
        return 0;
    if (st->member) {
        cJSON *child, *mchild;
        if (!cJSON_IsObject(node))
            return 0;
        child = cJSON_GetObjectItemCaseSensitive(node, st->member);
        mchild = matcher ? cJSON_GetObjectItemCaseSensitive(matcher, st->member)
                         : NULL;
        if (!child)
            return 0;
        if (n > 1)
            return fm_recx_redact_walk(child, mchild, st + 1, n - 1);
        if (matcher) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddItemToObject(m, "type", placeholder(child));
            cJSON_ReplaceItemInObjectCaseSensitive(matcher, st->member, m);
        }
        cJSON_ReplaceItemInObjectCaseSensitive(node, st->member,
                                               placeholder(child));
        return 1;
    }
    if (!cJSON_IsArray(node))
        return 0;
    size = cJSON_GetArraySize(node);
    for (i = 0; i < size; i++) {
        cJSON *child, *mchild;
        if (st->index >= 0 && i != st->index)
            continue;
        child = cJSON_GetArrayItem(node, i);
        mchild = matcher ? cJSON_GetArrayItem(matcher, i) : NULL;
        if (n > 1) {
            count += fm_recx_redact_walk(child, mchild, st + 1, n - 1);
            continue;
        }
        if (matcher) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddItemToObject(m, "type", placeholder(child));
            cJSON_ReplaceItemInArray(matcher, i, m);
        }
        cJSON_ReplaceItemInArray(node, i, placeholder(child));
        count++;
    }
    return count;
}

/* ---- scrubbing what enters the document -------------------------------- */

char *fm_recx_scrub_str(const fm_scrub *s, const char *str)
{
    unsigned char *out = NULL;
    size_t len = 0;
    int rc =
        fm_scrub_run(s, (const unsigned char *)str, strlen(str), &out, &len);

    if (rc == 0)
        return strdup(str);
    return rc < 0 ? NULL : (char *)out;
}

int fm_recx_scrub_tree(cJSON *node, const fm_scrub *s, int again)
{
    unsigned char *out = NULL;
    size_t len = 0;
    int count = 0, rc;
    cJSON *c;

    if (!node)
        return 0;
    if (node->string && !(node->type & cJSON_StringIsConst)) {
        rc = (again ? fm_scrub_run_again
                    : fm_scrub_run)(s, (const unsigned char *)node->string,
                                    strlen(node->string), &out, &len);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            cJSON_free(node->string);
            node->string = (char *)out; /* cJSON frees it with free() */
            count++;
        }
    }
    if (cJSON_IsString(node) && node->valuestring) {
        rc = (again ? fm_scrub_run_again
                    : fm_scrub_run)(s, (const unsigned char *)node->valuestring,
                                    strlen(node->valuestring), &out, &len);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            cJSON_free(node->valuestring);
            node->valuestring = (char *)out;
            count++;
        }
    }
    for (c = node->child; c; c = c->next) {
        rc = fm_recx_scrub_tree(c, s, again);
        if (rc < 0)
            return -1;
        count += rc;
    }
    return count;
}

/* in[0..len) in padded standard base64: a malloc'd string, or NULL. */
static char *b64(const unsigned char *in, size_t len)
{
    size_t cap = msp_base64_encoded_len(len, 0) + 1;
    char *out = malloc(cap);

    if (out && msp_base64_encode(in, len, 0, out, cap) < 0) {
        free(out);
        out = NULL;
    }
    return out;
}

/* ---- the reply ---------------------------------------------------------- */

const char *fm_recx_header(const fm_exchange *x, int response, const char *name)
{
    const mspf_header *h = response ? x->resp_headers : x->req_headers;
    size_t n = response ? x->n_resp_headers : x->n_req_headers, i;

    for (i = 0; i < n; i++)
        if (fm_strieq(h[i].name, name))
            return h[i].value;
    return NULL;
}

/* Response headers worth pinning: not hop-by-hop, not per-message. */
int fm_recx_skip_resp_header(const char *name)
{
    static const char *const skip[] = {"Connection",
                                       "Keep-Alive",
                                       "Transfer-Encoding",
                                       "Content-Length",
                                       "Date",
                                       "Upgrade",
                                       "Trailer",
                                       "TE",
                                       "Proxy-Authenticate",
                                       NULL};
    size_t i;

    for (i = 0; skip[i]; i++)
        if (fm_strieq(name, skip[i]))
            return 1;
    return 0;
}

/* raw[0..len) as one whole JSON value (whitespace around it allowed). */
static cJSON *parse_whole(const unsigned char *raw, size_t len)
{
    const char *end = NULL, *stop = (const char *)raw + len;
    cJSON *doc = cJSON_ParseWithLengthOpts((const char *)raw, len, &end, 0);

    while (doc && end && end < stop &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (doc && end != stop) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

/* Puts bytes[0..len) into resp as "body_text" (UTF-8) or "body_base64",
 * byte for byte; *replay gets a copy. */
static int verbatim(const unsigned char *bytes, size_t len, cJSON *resp,
                    char **replay, size_t *replay_len)
{
    char *enc;

    *replay = malloc(len + 1);
    if (!*replay)
        return -1;
    memcpy(*replay, bytes, len);
    (*replay)[len] = '\0';
    *replay_len = len;
    if (len == 0)
        return 0;
    if (fm_utf8_valid(bytes, len) && !memchr(bytes, '\0', len)) {
        /* bytes need not end in a NUL (the proxy's buffer does not):
         * the copy does. */
        cJSON_AddStringToObject(resp, "body_text", *replay);
        return 0;
    }
    enc = b64(bytes, len);
    if (!enc)
        return -1;
    cJSON_AddStringToObject(resp, "body_base64", enc);
    free(enc);
    return 0;
}

/* Puts the reply body orig[0..len) into resp; raw[0..raw_len) is orig with
 * every spelling replaced (raw == orig when none was found). A JSON body
 * is parsed from orig, redacted (--redact) and its decoded strings scrubbed
 * (so a key behind \u escapes is found too: each string scanned once, on
 * the original text, so no placeholder is scanned again). Unchanged, it is
 * kept as written: "body" when it prints back to the same bytes, else
 * "body_text", so "20.0" stays "20.0". Changed, it is "body" printed
 * compactly (or, should that print still hold a spelling, as in a number,
 * that print scrubbed once, as "body_text"). Not JSON: raw, verbatim.
 * *replay gets the bytes the fake will send (malloc'd). */
static int body_part(fm_recorder *rec, const unsigned char *orig,
                     const unsigned char *raw, size_t len, size_t raw_len,
                     cJSON *resp, char **replay, size_t *replay_len)
{
    cJSON *body = len ? parse_whole(orig, len) : NULL;
    unsigned char *again = NULL;
    char *compact;
    size_t r, clen, alen = 0;
    int changed = raw != orig, sc, rc;

    if (!body)
        return verbatim(raw, raw_len, resp, replay, replay_len);
    for (r = 0; r < rec->n_redact; r++)
        if (rec->redact[r].response)
            changed += fm_recx_redact_walk(body, NULL, rec->redact[r].steps,
                                           rec->redact[r].n);
    sc = fm_recx_scrub_tree(body, rec->scrub, 0);
    compact = sc < 0 ? NULL : cJSON_PrintUnformatted(body);
    if (!compact) {
        cJSON_Delete(body);
        return -1;
    }
    changed += sc;
    clen = strlen(compact);
    if (!changed && (clen != len || memcmp(compact, orig, len) != 0)) {
        cJSON_Delete(body);
        free(compact);
        return verbatim(orig, len, resp, replay, replay_len);
    }
    rc = fm_scrub_run_again(rec->scrub, (const unsigned char *)compact, clen,
                            &again, &alen);
    if (rc != 0) {
        cJSON_Delete(body);
        free(compact);
        rc = rc < 0 ? -1 : verbatim(again, alen, resp, replay, replay_len);
        free(again);
        return rc;
    }
    cJSON_AddItemToObject(resp, "body", body);
    *replay = compact;
    *replay_len = clen;
    return 0;
}

/* The expectation of a reply: msp_map_response() of what the fake will
 * send. */
static cJSON *expectation(long status, const char *replay, size_t len, int *row)
{
    msp_result res;
    cJSON *expect;

    if (msp_map_response(status, replay, len, &res) != 0)
        return NULL;
    expect = cJSON_CreateObject();
    if (expect) {
        cJSON_AddNumberToObject(expect, "exit_code", res.exit_code);
        if (memchr(res.out, '\0', res.out_len)) {
            cJSON *m = cJSON_AddObjectToObject(expect, "stdout");
            cJSON_AddStringToObject(m, "type", "");
        } else {
            cJSON_AddStringToObject(expect, "stdout", res.out);
        }
        if (memchr(res.err, '\0', res.err_len)) {
            cJSON *m = cJSON_AddObjectToObject(expect, "stderr");
            cJSON_AddStringToObject(m, "type", "");
        } else {
            cJSON_AddStringToObject(expect, "stderr", res.err);
        }
    }
    *row = res.row;
    msp_result_free(&res);
    return expect;
}

/* A reply header, name and value scrubbed; the first of a name wins. */
static int add_header(cJSON *hdrs, const fm_scrub *s, const mspf_header *h)
{
    char *n = fm_recx_scrub_str(s, h->name), *v = NULL;
    int rc = -1;

    if (n && cJSON_GetObjectItem(hdrs, n))
        rc = 0;
    else if (n && (v = fm_recx_scrub_str(s, h->value)) != NULL)
        rc = cJSON_AddStringToObject(hdrs, n, v) ? 0 : -1;
    free(n);
    free(v);
    return rc;
}

int fm_recx_reply_parts(fm_recorder *rec, const fm_exchange *x,
                        cJSON **resp_out, cJSON **expect_out, int *row)
{
    cJSON *resp = cJSON_CreateObject(), *hdrs = NULL, *expect = NULL;
    const unsigned char *body =
        x->resp_body ? x->resp_body : (const unsigned char *)"";
    unsigned char *raw = NULL;
    char *replay = NULL;
    size_t rawlen = x->resp_body_len, replay_len = 0, i;
    int rc;

    rc = fm_scrub_run(rec->scrub, body, x->resp_body_len, &raw, &rawlen);
    if (!resp || rc < 0)
        goto nomem;
    cJSON_AddNumberToObject(resp, "status", (double)x->status);
    for (i = 0; i < x->n_resp_headers; i++) {
        const mspf_header *h = &x->resp_headers[i];
        if (fm_recx_skip_resp_header(h->name))
            continue;
        if (!hdrs)
            hdrs = cJSON_AddObjectToObject(resp, "headers");
        if (add_header(hdrs, rec->scrub, h) != 0)
            goto nomem;
    }
    if (body_part(rec, body, rc ? raw : body, x->resp_body_len, rawlen, resp,
                  &replay, &replay_len) != 0 ||
        !(expect = expectation(x->status, replay, replay_len, row)) ||
        fm_recx_scrub_tree(expect, rec->scrub, 1) < 0)
        goto nomem;
    free(replay);
    free(raw);
    *resp_out = resp;
    *expect_out = expect;
    return 0;
nomem:
    cJSON_Delete(expect);
    cJSON_Delete(resp);
    free(replay);
    free(raw);
    return -1;
}

void fm_recx_error_code(const fm_exchange *x, char *out, size_t outlen)
{
    cJSON *doc = x->resp_body_len
                     ? cJSON_ParseWithLength((const char *)x->resp_body,
                                             x->resp_body_len)
                     : NULL;
    const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(doc, "error"), "code"));

    snprintf(out, outlen, "%s", code ? code : "");
    cJSON_Delete(doc);
}

/* ---- the request -------------------------------------------------------- */

/* A header matcher: the value as sent (scrubbed), or {"absent": true}. */
static int literal_or_absent(cJSON *hdrs, const char *name, const char *value,
                             const fm_scrub *s)
{
    char *v;

    if (!value) {
        cJSON *ab = cJSON_AddObjectToObject(hdrs, name);
        return ab && cJSON_AddBoolToObject(ab, "absent", 1) ? 0 : -1;
    }
    v = fm_recx_scrub_str(s, value);
    if (!v)
        return -1;
    cJSON_AddStringToObject(hdrs, name, v);
    free(v);
    return 0;
}

cJSON *fm_recx_request_matchers(fm_recorder *rec, const fm_exchange *x,
                                const char *role, cJSON *matchbody)
{
    cJSON *req = cJSON_CreateObject(), *hdrs, *same;

    if (!req) {
        cJSON_Delete(matchbody);
        return NULL;
    }
    cJSON_AddStringToObject(req, "method", "POST");
    cJSON_AddStringToObject(req, "path", MSP_PATH_EXECUTE);
    hdrs = cJSON_AddObjectToObject(req, "headers");
    cJSON_AddItemToObject(hdrs, "Authorization", role_auth_matcher(role));
    cJSON_AddStringToObject(hdrs, "X-Brainstorm-Command-Id", ""); /* doc */
    same = cJSON_AddObjectToObject(hdrs, "Idempotency-Key");
    cJSON_AddStringToObject(same, "same_as", "X-Brainstorm-Command-Id");
    /* as sent: admission took only the executor's exact value, which is
     * written as a constant (a remembered key equal to it cannot blank it) */
    cJSON_AddStringToObject(hdrs, "Content-Type", REC_CONTENT_TYPE);
    if (literal_or_absent(hdrs, "X-Correlation-Id",
                          fm_recx_header(x, 0, "X-Correlation-Id"),
                          rec->scrub) != 0) {
        cJSON_Delete(matchbody);
        cJSON_Delete(req);
        return NULL;
    }
    cJSON_AddItemToObject(req, "body", matchbody);
    return req;
}

/* ---- the document ------------------------------------------------------- */
/* The fixture document of an entry. */
cJSON *fm_recx_build_doc(const entry *e)
{
    cJSON *doc = cJSON_CreateObject(), *tags, *provider, *match;
    int n = cJSON_GetArraySize(e->responses);
    char desc[700], row[16];

    if (!doc)
        return NULL;
    cJSON_AddStringToObject(doc, "name", e->name);
    snprintf(desc, sizeof desc,
             "Recorded through fake-msp --proxy: %.200s answered %ld%s "
             "(credential role %s)%s",
             e->tool, e->first_status,
             n > 1 ? ", then replayed the stored reply" : "", e->role,
             e->reused_id ? "; the command id was already another "
                            "fixture's, so the context carries a fresh one"
                          : "");
    cJSON_AddStringToObject(doc, "description", desc);
    tags = cJSON_AddArrayToObject(doc, "tags");
    snprintf(row, sizeof row, "row%d", e->exit_row);
    cJSON_AddItemToArray(tags, cJSON_CreateString("recorded"));
    cJSON_AddItemToArray(tags, cJSON_CreateString(row));
    if (n > 1)
        cJSON_AddItemToArray(tags, cJSON_CreateString("idempotency"));
    cJSON_AddNumberToObject(doc, "exit_row", e->exit_row);
    provider = cJSON_CreateObject();
    role_to_fixture(doc, e->role);
    cJSON_AddItemToObject(doc, "context", cJSON_Duplicate(e->context, 1));
    if (n > 1)
        cJSON_AddNumberToObject(doc, "repeat", n);
    cJSON_AddItemToObject(doc, "request", cJSON_Duplicate(e->request, 1));
    {
        cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "request"), "headers");
        cJSON *m;
        if (e->literal_id) {
            m = cJSON_CreateString(cJSON_GetStringValue(
                cJSON_GetObjectItemCaseSensitive(e->context, "command_id")));
        } else {
            m = cJSON_CreateObject();
            cJSON_AddStringToObject(m, "regex", MSP_UUID_REGEX);
        }
        cJSON_ReplaceItemInObjectCaseSensitive(hdrs, "X-Brainstorm-Command-Id",
                                               m);
    }
    if (n == 1) {
        cJSON_AddItemToObject(
            doc, "response",
            cJSON_Duplicate(cJSON_GetArrayItem(e->responses, 0), 1));
        cJSON_AddItemToObject(
            doc, "expect",
            cJSON_Duplicate(cJSON_GetArrayItem(e->expects, 0), 1));
    } else {
        cJSON_AddItemToObject(doc, "responses",
                              cJSON_Duplicate(e->responses, 1));
        cJSON_AddItemToObject(doc, "expects", cJSON_Duplicate(e->expects, 1));
    }
    /* A provider can replay it unless the context's id is not the one the
     * MSP saw (a reused id: the MSP's answer depended on that history). */
    cJSON_AddBoolToObject(provider, "verify", !e->reused_id);
    match = cJSON_AddObjectToObject(provider, "match");
    cJSON_AddStringToObject(match, "status", "exact");
    cJSON_AddStringToObject(match, "body", "type");
    /* "verify" first, as people write it */
    {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(provider, "verify");
        cJSON_InsertItemInArray(provider, 0, v);
    }
    cJSON_AddItemToObject(doc, "provider", provider);
    return doc;
}
