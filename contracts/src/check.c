/*
 * check.c — the three comparisons a fixture drives: a request on the wire
 * against "request", an executor result against "expect", and a real MSP's
 * reply against "response" (the provider check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fixture_internal.h"

/* A matching context over fixture f: its regexes and NUL strings. */
static void init_ctx(mctx *m, const mspf_fixture *f, mspf_diffs *diffs,
                     const char *root)
{
    const fixture_priv *priv = f->priv;
    Mspf_mctx_init(m, priv ? &priv->regexes : NULL, diffs, root);
    m->st[0] = priv ? &priv->strings : NULL;
}

/* Header names compare without case; first bytes that differ beyond case
 * (bit 0x20) settle most of the calls a fixture server makes. */
static int name_eq(const char *a, const char *b)
{
    return ((unsigned char)(a[0] ^ b[0]) & ~0x20u) == 0 &&
           strcasecmp(a, b) == 0;
}

static const char *find_header(const mspf_request *req, const char *name)
{
    size_t i;
    for (i = 0; i < req->n_headers; i++)
        if (req->headers[i].name && name_eq(req->headers[i].name, name))
            return req->headers[i].value ? req->headers[i].value : "";
    return NULL;
}

/* A literal string field (method, path): exact. */
static int match_field(mctx *m, const cJSON *r, const char *key,
                       const char *got)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(r, key);
    size_t old;
    int ok = 1;
    if (!cJSON_IsString(exp) || (got && strcmp(exp->valuestring, got) == 0))
        return 1;
    old = Mspf_mctx_push_key(m, key);
    {
        cJSON *g = got ? cJSON_CreateString(got) : NULL;
        ok = Mspf_diff_json(m, exp, g);
        cJSON_Delete(g);
    }
    Mspf_mctx_pop(m, old);
    return ok;
}

/* A literal or a regex that holds, without building a cJSON string for the
 * header (a fixture server matches every request): 1 on a match; 0 sends
 * the caller the slow way, which also records the difference. */
static int match_header_fast(const mctx *m, const cJSON *exp, const char *value)
{
    size_t len, vlen = strlen(value);
    const char *e;

    switch (Mspf_matcher_of(exp)) {
    case M_NONE:
        if (!cJSON_IsString(exp))
            return 0;
        e = Mspf_str(m, exp, &len);
        return len == vlen && memcmp(e, value, len) == 0;
    case M_REGEX: return Mspf_match_regex(m, exp, value, vlen) == 1;
    default: return 0;
    }
}

static int match_header(mctx *m, const mspf_request *req, const cJSON *exp)
{
    const char *value = find_header(req, exp->string);
    cJSON *got;
    int ok;
    if (Mspf_matcher_of(exp) == M_SAME_AS) {
        const char *other = find_header(req, exp->child->valuestring);
        int secret;
        char want[600], *shown, *g;
        if (value && other && strcmp(value, other) == 0)
            return 1;
        /* a header that must equal Authorization holds the API key: mask
         * both sides of the difference */
        secret = strcasecmp(exp->child->valuestring, "Authorization") == 0;
        shown = other && secret ? Mspf_redact_bearer(other) : NULL;
        snprintf(want, sizeof(want), "same as %.100s (%.400s)",
                 exp->child->valuestring,
                 !other   ? "(absent)"
                 : secret ? (shown ? shown : "\xE2\x80\xA6")
                          : other);
        free(shown);
        got = value ? cJSON_CreateString(value) : NULL;
        g = Mspf_json_text(got);
        cJSON_Delete(got);
        if (g && secret) {
            char *rg = Mspf_redact_bearer(g);
            free(g);
            g = rg;
        }
        if (g)
            Mspf_diff_text(m, want, g);
        free(g);
        return 0;
    }
    if (value && match_header_fast(m, exp, value))
        return 1;
    got = value ? cJSON_CreateString(value) : NULL;
    ok = Mspf_match_value(m, exp, got);
    cJSON_Delete(got);
    return ok;
}

/* body: the request's body already parsed, or NULL to parse it here. */
static int match_body(mctx *m, const cJSON *exp, const mspf_request *req,
                      const cJSON *body)
{
    const char *text = req->body ? (const char *)req->body : "";
    size_t len = req->body ? req->body_len : 0;

    if (body)
        return Mspf_match_json_doc(m, exp, text, len, body);
    return Mspf_match_json_text(m, exp, text, len);
}

int mspf_match_request(const mspf_fixture *f, const mspf_request *req,
                       mspf_diffs *why)
{
    return mspf_match_request_json(f, req, NULL, why);
}

int mspf_match_request_json(const mspf_fixture *f, const mspf_request *req,
                            const cJSON *body, mspf_diffs *why)
{
    const cJSON *r, *h, *c;
    mctx m;
    int ok = 1;
    if (!f || !req)
        return 0;
    init_ctx(&m, f, why, "request");
    if (!f->expects_request) {
        char got[300];
        snprintf(got, sizeof(got), "%.100s %.180s",
                 req->method ? req->method : "?", req->path ? req->path : "?");
        Mspf_diff_text(&m, "(no request at all)", got);
        return 0;
    }
    r = cJSON_GetObjectItemCaseSensitive(f->doc, "request");
    ok &= match_field(&m, r, "method", req->method);
    ok &= match_field(&m, r, "path", req->path);
    h = cJSON_GetObjectItemCaseSensitive(r, "headers");
    cJSON_ArrayForEach(c, h)
    {
        size_t old;
        if (!ok && !why)
            return 0;
        old = Mspf_mctx_push_key(&m, "headers");
        Mspf_mctx_push_key(&m, c->string);
        ok &= match_header(&m, req, c);
        Mspf_mctx_pop(&m, old);
    }
    c = cJSON_GetObjectItemCaseSensitive(r, "body");
    if (c && (ok || why)) {
        size_t old = Mspf_mctx_push_key(&m, "body");
        ok &= match_body(&m, c, req, body);
        Mspf_mctx_pop(&m, old);
    }
    return ok;
}

/* The "expect" object for run number `run` (the last one repeating). */
static const cJSON *expect_for(const mspf_fixture *f, int run)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(f->doc, "expect");
    const cJSON *many;
    int n;
    if (e)
        return e;
    many = cJSON_GetObjectItemCaseSensitive(f->doc, "expects");
    n = cJSON_GetArraySize(many);
    if (run >= n)
        run = n - 1;
    return cJSON_GetArrayItem(many, run < 0 ? 0 : run);
}

/* stdout/stderr: a literal is exact (every byte, NUL included), {"json": v}
 * parses the text, a regex runs over all of it, {"type": ...} sees a
 * string. */
static int match_text(mctx *m, const cJSON *exp, const char *text, size_t len)
{
    size_t elen;
    const char *e;
    switch (Mspf_matcher_of(exp)) {
    case M_JSON: return Mspf_match_json_text(m, exp->child, text, len);
    case M_REGEX:
        if (Mspf_match_regex(m, exp, text, len) == 1) /* -1: limit hit */
            return 1;
        break;
    case M_TYPE:
        if (cJSON_IsString(exp->child))
            return 1;
        break;
    default:
        e = Mspf_str(m, exp, &elen);
        if (cJSON_IsString(exp) && elen == len && memcmp(e, text, len) == 0)
            return 1;
        break;
    }
    return Mspf_diff_bytes(m, exp, text, len);
}

int mspf_check_result(const mspf_fixture *f, int run, const mspf_outcome *o,
                      mspf_diffs *diffs)
{
    static const char *const texts[] = {"stdout", "stderr"};
    const cJSON *e, *v;
    mctx m;
    int ok = 1;
    size_t i;
    if (!f || !o)
        return 0;
    e = expect_for(f, run);
    init_ctx(&m, f, diffs, "expect");
    v = cJSON_GetObjectItemCaseSensitive(e, "exit_code");
    if (cJSON_IsNumber(v) && (int)v->valuedouble != o->exit_code) {
        char a[32], b[32];
        size_t old = Mspf_mctx_push_key(&m, "exit_code");
        snprintf(a, sizeof(a), "%d", (int)v->valuedouble);
        snprintf(b, sizeof(b), "%d", o->exit_code);
        ok = Mspf_diff_text(&m, a, b);
        Mspf_mctx_pop(&m, old);
    }
    for (i = 0; i < 2; i++) {
        const char *text = i == 0 ? o->out : o->err;
        size_t len = i == 0 ? o->out_len : o->err_len;
        v = cJSON_GetObjectItemCaseSensitive(e, texts[i]);
        if (v) {
            size_t old = Mspf_mctx_push_key(&m, texts[i]);
            ok &= match_text(&m, v, text ? text : "", text ? len : 0);
            Mspf_mctx_pop(&m, old);
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(e, "command_result");
    if (v) {
        size_t old = Mspf_mctx_push_key(&m, "command_result");
        if (!o->command_result)
            ok = Mspf_diff_text(&m, "a CommandResult", "(none produced)");
        else
            ok &= Mspf_match_json_text(&m, v, o->command_result,
                                       o->command_result_len);
        Mspf_mctx_pop(&m, old);
    }
    v = cJSON_GetObjectItemCaseSensitive(e, "max_ms");
    if (cJSON_IsNumber(v) && o->elapsed_ms > (long long)v->valuedouble) {
        char a[48], b[48];
        size_t old = Mspf_mctx_push_key(&m, "max_ms");
        snprintf(a, sizeof(a), "<= %lld ms", (long long)v->valuedouble);
        snprintf(b, sizeof(b), "%lld ms", o->elapsed_ms);
        ok = Mspf_diff_text(&m, a, b);
        Mspf_mctx_pop(&m, old);
    }
    return ok;
}

static const char *provider_body_mode(const mspf_fixture *f)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(f->doc, "provider");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(p, "match");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(m, "body");
    return cJSON_IsString(b) ? b->valuestring : "type";
}

static const cJSON *error_code_of(const cJSON *body)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(body, "error");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    return cJSON_IsString(c) ? c : NULL;
}

int mspf_check_provider(const mspf_fixture *f, int run, long status,
                        const unsigned char *body, size_t body_len,
                        mspf_diffs *diffs)
{
    const mspf_response *r;
    const char *mode;
    cJSON *want, *got;
    strtab want_st = {0}, got_st = {0};
    mctx m;
    int ok = 1;
    if (!f)
        return 0;
    init_ctx(&m, f, diffs, "response");
    if (f->n_responses == 0)
        return Mspf_diff_text(&m, "(a scripted response)",
                              "(none in the fixture)");
    r = &f->responses[run < 0                        ? 0
                      : (size_t)run < f->n_responses ? (size_t)run
                                                     : f->n_responses - 1];
    if (status != r->status) {
        char a[32], b[32];
        size_t old = Mspf_mctx_push_key(&m, "status");
        snprintf(a, sizeof(a), "%d", r->status);
        snprintf(b, sizeof(b), "%ld", status);
        ok = Mspf_diff_text(&m, a, b);
        Mspf_mctx_pop(&m, old);
    }
    mode = provider_body_mode(f);
    want = mspf_cjson_parse((const char *)r->body, r->body_len, NULL);
    got = body ? mspf_cjson_parse((const char *)body, body_len, NULL) : NULL;
    /* strings holding a NUL compare whole (ENOMEM: as cJSON cut them) */
    (void)Mspf_strtab_build(&want_st, (const char *)r->body, r->body_len, want);
    if (got)
        (void)Mspf_strtab_build(&got_st, (const char *)body, body_len, got);
    m.st[0] = &want_st;
    m.st[1] = &got_st;
    Mspf_mctx_push_key(&m, "body");
    if (strcmp(mode, "exact") == 0) {
        if (want && got) {
            ok &= Mspf_match_value(&m, want, got);
        } else if (body_len != r->body_len ||
                   (body_len &&
                    (!body || memcmp(body, r->body, body_len) != 0))) {
            char *e = Mspf_cut_text((const char *)r->body, r->body_len,
                                    MSPF_DIFF_CUT);
            char *g = Mspf_cut_text(body ? (const char *)body : "",
                                    body ? body_len : 0, MSPF_DIFF_CUT);
            if (e && g)
                Mspf_diff_text(&m, e, g);
            free(e);
            free(g);
            ok = 0;
        }
    } else {
        const cJSON *code = error_code_of(want);
        if (code) {
            const cJSON *gcode = error_code_of(got);
            size_t old = Mspf_mctx_push_key(&m, "error");
            Mspf_mctx_push_key(&m, "code");
            if (!gcode || strcmp(gcode->valuestring, code->valuestring) != 0)
                ok = Mspf_diff_json(&m, code, gcode);
            Mspf_mctx_pop(&m, old);
        }
        if (strcmp(mode, "type") == 0 && want)
            ok &= Mspf_match_type(&m, want, got);
    }
    cJSON_Delete(want);
    cJSON_Delete(got);
    {
        /* provider.match.values: rules per JSON path, e.g. $.exit_code */
        const cJSON *pm = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(f->doc, "provider"), "match");
        mspf_reply reply = {
            .status = status, .body = body, .body_len = body_len};
        ok &= mspf_check_values(cJSON_GetObjectItemCaseSensitive(pm, "values"),
                                &reply, 1, "response", diffs);
    }
    Mspf_strtab_free(&want_st);
    Mspf_strtab_free(&got_st);
    return ok;
}
