/*
 * pctx.c — the parse context: the JSON path of the value being read and
 * the checks every parser of a fixture part shares. parse.c (the document)
 * and response.c (one response) both use these; neither calls the other
 * back, so there is no cycle between them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "executor/msp_util.h"
#include "fixture_internal.h"

size_t Mspf_parse_push_key(pctx *p, const char *key)
{
    return msp_json_path_push_key(p->path, sizeof(p->path), &p->plen, key);
}

size_t Mspf_parse_push_index(pctx *p, size_t i)
{
    return msp_json_path_push_index(p->path, sizeof(p->path), &p->plen, i);
}

void Mspf_parse_pop(pctx *p, size_t len)
{
    msp_json_path_pop(p->path, &p->plen, len);
}

int Mspf_parse_fail(pctx *p, const char *fmt, ...)
{
    va_list ap;
    snprintf(p->err->path, sizeof(p->err->path), "%s", p->path);
    va_start(ap, fmt);
    vsnprintf(p->err->reason, sizeof(p->err->reason), fmt, ap);
    va_end(ap);
    return -1;
}

/* Fails at path.key. */
int Mspf_parse_fail_at(pctx *p, const char *key, const char *reason)
{
    size_t old = Mspf_parse_push_key(p, key);
    Mspf_parse_fail(p, "%s", reason);
    Mspf_parse_pop(p, old);
    return -1;
}

int Mspf_parse_check_keys(pctx *p, const cJSON *obj, const char *const *allowed)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, obj)
    {
        size_t i;
        for (i = 0; allowed[i]; i++)
            if (strcmp(c->string, allowed[i]) == 0)
                break;
        if (!allowed[i]) {
            size_t old = Mspf_parse_push_key(p, c->string);
            Mspf_parse_fail(p, "unknown key \"%s\"", c->string);
            Mspf_parse_pop(p, old);
            return -1;
        }
    }
    return 0;
}

int Mspf_parse_want_object(pctx *p, const cJSON *v)
{
    return cJSON_IsObject(v)
               ? 0
               : Mspf_parse_fail(p, "wrong type: expected an object");
}

/* An integer in [lo, hi] at the current path. */
int Mspf_parse_get_int(pctx *p, const cJSON *v, long long lo, long long hi,
                       long long *out)
{
    if (!cJSON_IsNumber(v) || floor(v->valuedouble) != v->valuedouble)
        return Mspf_parse_fail(p, "wrong type: expected an integer");
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return Mspf_parse_fail(p,
                               "value out of range: %.17g (allowed %lld..%lld)",
                               v->valuedouble, lo, hi);
    *out = (long long)v->valuedouble;
    return 0;
}

/* obj.key as an integer; `*out` unchanged when the key is absent, or
 * refused when `required`. */
int Mspf_parse_int_member(pctx *p, const cJSON *obj, const char *key,
                          int required, long long lo, long long hi,
                          long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t old;
    int rc;
    if (!v)
        return required ? Mspf_parse_fail_at(p, key, "missing required key")
                        : 0;
    old = Mspf_parse_push_key(p, key);
    rc = Mspf_parse_get_int(p, v, lo, hi, out);
    Mspf_parse_pop(p, old);
    return rc;
}
