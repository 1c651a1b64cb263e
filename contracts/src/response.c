/*
 * response.c — one scripted reply: validated, and its body rendered once.
 *
 * The body comes from exactly one (or none) of "body" (JSON, printed
 * compactly), "body_text", "body_base64" (must decode) and "body_repeat"
 * ({"text","times"}: a large body without storing it, capped at 64 MiB).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "executor/msp_util.h"
#include "fixture_internal.h"

/* Strict base64 (RFC 4648, padded, canonical: msp_base64_decode). Returns
 * 0 and a malloc'd copy of the bytes with a NUL after them, or -1. */
static int b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
    size_t n = strlen(s);
    unsigned char *buf = malloc(MSP_BASE64_DECODED_MAX(n) + 1);
    ssize_t k;

    if (!buf)
        return -1;
    k = msp_base64_decode(s, n, 0, buf, MSP_BASE64_DECODED_MAX(n));
    if (k < 0) {
        free(buf);
        return -1;
    }
    buf[k] = '\0';
    *out = buf;
    *outlen = (size_t)k;
    return 0;
}

static int add_header(mspf_response *r, const char *name, const char *value)
{
    mspf_header *h = realloc(r->headers, (r->n_headers + 1) * sizeof(*h));
    if (!h)
        return -1;
    r->headers = h;
    h[r->n_headers].name = strdup(name);
    h[r->n_headers].value = strdup(value);
    r->n_headers++;
    return h[r->n_headers - 1].name && h[r->n_headers - 1].value ? 0 : -1;
}

static int has_header(const mspf_response *r, const char *name)
{
    size_t i;
    for (i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return 1;
    return 0;
}

static int parse_headers(pctx *p, const cJSON *h, mspf_response *r)
{
    const cJSON *c;
    size_t old = Mspf_parse_push_key(p, "headers");
    if (Mspf_parse_want_object(p, h))
        goto fail;
    cJSON_ArrayForEach(c, h)
    {
        if (!cJSON_IsString(c) || c->string[0] == '\0') {
            Mspf_parse_push_key(p, c->string);
            Mspf_parse_fail(p, "wrong type: expected a string");
            goto fail;
        }
        {
            size_t o2 = Mspf_parse_push_key(p, c->string);
            if (Mspf_parse_check_header_value(p, c))
                goto fail;
            Mspf_parse_pop(p, o2);
        }
        if (add_header(r, c->string, c->valuestring)) {
            Mspf_parse_fail(p, "out of memory");
            goto fail;
        }
    }
    Mspf_parse_pop(p, old);
    return 0;
fail:
    Mspf_parse_pop(p, old);
    return -1;
}

static int parse_fault(pctx *p, const cJSON *fo, mspf_fault *fault)
{
    static const char *const k_plain[] = {"kind", NULL};
    static const char *const k_garbage[] = {"kind", "bytes", "seed", NULL};
    static const char *const k_truncate[] = {"kind", "after_bytes", NULL};
    static const char *const k_dribble[] = {"kind", "chunk_bytes",
                                            "interval_ms", NULL};
    const cJSON *kind;
    const char *const *keys = k_plain;
    long long v = 0;
    int k;

    if (cJSON_IsNull(fo))
        return 0;
    if (Mspf_parse_want_object(p, fo))
        return -1;
    kind = cJSON_GetObjectItemCaseSensitive(fo, "kind");
    if (!kind)
        return Mspf_parse_fail_at(p, "kind", "missing required key");
    if (!cJSON_IsString(kind))
        return Mspf_parse_fail_at(p, "kind", "wrong type: expected a string");
    for (k = 1; k < MSPF_FAULT_KIND_COUNT; k++)
        if (strcmp(kind->valuestring,
                   mspf_fault_kind_name((mspf_fault_kind)k)) == 0)
            break;
    if (k == MSPF_FAULT_KIND_COUNT) {
        size_t old = Mspf_parse_push_key(p, "kind");
        Mspf_parse_fail(p, "unknown fault kind \"%.100s\"", kind->valuestring);
        Mspf_parse_pop(p, old);
        return -1;
    }
    fault->kind = (mspf_fault_kind)k;
    if (k == MSPF_FAULT_GARBAGE)
        keys = k_garbage;
    else if (k == MSPF_FAULT_TRUNCATE)
        keys = k_truncate;
    else if (k == MSPF_FAULT_DRIBBLE)
        keys = k_dribble;
    if (Mspf_parse_check_keys(p, fo, keys))
        return -1;
    switch (fault->kind) {
    case MSPF_FAULT_GARBAGE:
        if (Mspf_parse_int_member(p, fo, "bytes", 1, 1, 1024 * 1024, &v))
            return -1;
        fault->bytes = (size_t)v;
        if (cJSON_GetObjectItemCaseSensitive(fo, "seed")) {
            if (Mspf_parse_int_member(p, fo, "seed", 1, 0, 9007199254740991LL,
                                      &v))
                return -1;
            fault->seed = (unsigned long long)v;
            fault->has_seed = 1;
        }
        break;
    case MSPF_FAULT_TRUNCATE:
        if (Mspf_parse_int_member(p, fo, "after_bytes", 1, 0,
                                  MSPF_MAX_REPEAT_BYTES, &v))
            return -1;
        fault->after_bytes = (size_t)v;
        break;
    case MSPF_FAULT_DRIBBLE:
        if (Mspf_parse_int_member(p, fo, "chunk_bytes", 1, 1, 1024 * 1024, &v))
            return -1;
        fault->chunk_bytes = (size_t)v;
        if (Mspf_parse_int_member(p, fo, "interval_ms", 1, 0, 60000, &v))
            return -1;
        fault->interval_ms = (long)v;
        break;
    default: break;
    }
    return 0;
}

static int render_repeat(pctx *p, const cJSON *rep, mspf_response *r)
{
    static const char *const keys[] = {"text", "times", NULL};
    const cJSON *text;
    long long times = 0;
    size_t len, i;
    if (Mspf_parse_want_object(p, rep) || Mspf_parse_check_keys(p, rep, keys))
        return -1;
    text = cJSON_GetObjectItemCaseSensitive(rep, "text");
    if (!text)
        return Mspf_parse_fail_at(p, "text", "missing required key");
    if (!cJSON_IsString(text) || text->valuestring[0] == '\0')
        return Mspf_parse_fail_at(p, "text",
                                  "wrong type: expected a non-empty string");
    len = strlen(text->valuestring);
    if (Mspf_parse_int_member(p, rep, "times", 1, 1, MSPF_MAX_REPEAT_BYTES,
                              &times))
        return -1;
    if ((unsigned long long)times * len > MSPF_MAX_REPEAT_BYTES)
        return Mspf_parse_fail_at(p, "times",
                                  "value out of range: body over 64 MiB");
    if (Mspf_parse_hold(p, (size_t)times * len))
        return -1;
    r->body_len = (size_t)times * len;
    r->body = malloc(r->body_len + 1);
    if (!r->body)
        return Mspf_parse_fail(p, "out of memory");
    for (i = 0; i < (size_t)times; i++)
        memcpy(r->body + i * len, text->valuestring, len);
    r->body[r->body_len] = '\0';
    return 0;
}

/* Renders whichever body key is present into r->body. */
static int render_body(pctx *p, const cJSON *obj, mspf_response *r)
{
    static const char *const bodies[] = {"body", "body_text", "body_base64",
                                         "body_repeat"};
    const cJSON *which = NULL;
    const char *ctype = NULL;
    size_t i, old;
    int rc = 0;
    for (i = 0; i < 4; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, bodies[i]);
        if (v && which)
            return Mspf_parse_fail_at(
                p, bodies[i],
                "only one of body, body_text, "
                "body_base64 and body_repeat may be given");
        if (v)
            which = v;
    }
    if (!which) {
        r->body = calloc(1, 1);
        return r->body ? 0 : Mspf_parse_fail(p, "out of memory");
    }
    old = Mspf_parse_push_key(p, which->string);
    if (strcmp(which->string, "body") == 0) {
        r->body = (unsigned char *)Mspf_parse_wire_json(p, which, &r->body_len);
        rc = r->body ? 0 : -1;
        ctype = "application/json";
    } else if (strcmp(which->string, "body_text") == 0) {
        size_t n;
        const char *text = Mspf_strtab_bytes(p->st, which, &n);
        if (!cJSON_IsString(which))
            rc = Mspf_parse_fail(p, "wrong type: expected a string");
        else if (!(r->body = malloc(n + 1)))
            rc = Mspf_parse_fail(p, "out of memory");
        else {
            memcpy(r->body, text, n + 1);
            r->body_len = n;
        }
        ctype = "text/plain; charset=utf-8";
    } else if (strcmp(which->string, "body_base64") == 0) {
        if (!cJSON_IsString(which))
            rc = Mspf_parse_fail(p, "wrong type: expected a string");
        else if (b64_decode(which->valuestring, &r->body, &r->body_len))
            rc = Mspf_parse_fail(p, "not valid base64");
    } else {
        rc = render_repeat(p, which, r);
        ctype = "text/plain; charset=utf-8";
    }
    /* body_repeat was counted before it was rendered */
    if (rc == 0 && strcmp(which->string, "body_repeat") != 0)
        rc = Mspf_parse_hold(p, r->body_len);
    Mspf_parse_pop(p, old);
    if (rc == 0 && ctype && !has_header(r, "Content-Type") &&
        add_header(r, "Content-Type", ctype))
        rc = Mspf_parse_fail(p, "out of memory");
    return rc;
}

int Mspf_parse_response(pctx *p, const cJSON *r, mspf_response *out)
{
    static const char *const keys[] = {
        "status",      "headers",  "body",  "body_text", "body_base64",
        "body_repeat", "delay_ms", "fault", NULL};
    const cJSON *v;
    long long status = 200, delay = 0;
    if (Mspf_parse_want_object(p, r) || Mspf_parse_check_keys(p, r, keys) ||
        Mspf_parse_int_member(p, r, "status", 0, 100, 599, &status) ||
        Mspf_parse_int_member(p, r, "delay_ms", 0, 0, 600000, &delay))
        return -1;
    out->status = (int)status;
    out->delay_ms = (long)delay;
    v = cJSON_GetObjectItemCaseSensitive(r, "headers");
    if (v && parse_headers(p, v, out))
        return -1;
    v = cJSON_GetObjectItemCaseSensitive(r, "fault");
    if (v) {
        size_t old = Mspf_parse_push_key(p, "fault");
        int rc = parse_fault(p, v, &out->fault);
        Mspf_parse_pop(p, old);
        if (rc)
            return rc;
    }
    return render_body(p, r, out);
}
