/*
 * diff_rules.c — the value rules of msp-contract diff: when two values are
 * the same (strings byte for byte, bytes after a \u0000 too), and when a
 * new matcher or literal takes every value the old one took, decided by
 * the fixture model itself (mspf_value_matches: a regex runs on the
 * model's PCRE2 engine; a type example against the shape of another).
 */
#include "diff_classify.h"

#include <stdlib.h>
#include <string.h>

static int is_bool(const cJSON *v)
{
    return cJSON_IsBool(v);
}

/* Same JSON kind (true and false are one: boolean). */
static int same_kind(const cJSON *a, const cJSON *b)
{
    if (is_bool(a) || is_bool(b))
        return is_bool(a) && is_bool(b);
    return (a->type & 0xff) == (b->type & 0xff);
}

/* Exact equality, strings byte for byte (bytes after a \u0000 too),
 * numbers numerically, objects with the same members in any order. `a` is
 * from OLD, `b` from NEW. */
int hx_diff_eq(const hx_diff_docs *d, const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return a == b;
    if (!same_kind(a, b))
        return 0;
    if (is_bool(a))
        return a->type == b->type;
    if (cJSON_IsNumber(a))
        return a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a)) {
        size_t la = 0, lb = 0;
        const char *sa = mspf_json_string(d->old_js, a, &la);
        const char *sb = mspf_json_string(d->new_js, b, &lb);
        if (!sa)
            sa = a->valuestring, la = strlen(sa);
        if (!sb)
            sb = b->valuestring, lb = strlen(sb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!hx_diff_eq(d, x, y))
                return 0;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, a)
        {
            if (!hx_diff_eq(d, x,
                            cJSON_GetObjectItemCaseSensitive(b, x->string)))
                return 0;
        }
        return 1;
    }
    return 1; /* null */
}

/* The matcher an object is read as: its single key when that is a matcher
 * name (step rules add present, exact and same_as_step), else NULL. */
const char *hx_diff_matcher_of(const cJSON *v, int rules)
{
    static const char *const names[] = {"regex", "same_as", "json", "type",
                                        "absent"};
    if (!cJSON_IsObject(v) || !v->child)
        return NULL;
    if (rules && cJSON_GetObjectItemCaseSensitive(v, "same_as_step"))
        return "same_as_step";
    if (v->child->next)
        return NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(v->child->string, names[i]) == 0)
            return names[i];
    if (rules && (strcmp(v->child->string, "present") == 0 ||
                  strcmp(v->child->string, "exact") == 0))
        return v->child->string;
    return NULL;
}

/* A literal: no matcher anywhere and no string the cJSON tree cuts at a
 * NUL byte (the model would compare more bytes than mspf_value_matches()
 * sees). */
static int pure_literal(const mspf_json *js, const cJSON *v, int rules)
{
    if (hx_diff_matcher_of(v, rules))
        return 0;
    if (cJSON_IsString(v)) {
        size_t len = 0;
        const char *s = mspf_json_string(js, v, &len);
        return !s || len == strlen(v->valuestring);
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, v)
    {
        if (!pure_literal(js, x, rules))
            return 0;
    }
    return 1;
}

/* Every value that has the shape of type example `o` has the shape of
 * `n` (Mspf_match_type: same kind; object members of the example present
 * with their shape; array elements like the example's first). */
int hx_diff_type_weaker(const cJSON *o, const cJSON *n)
{
    if (!o || !n || !same_kind(o, n))
        return 0;
    if (cJSON_IsObject(n)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, n)
        {
            if (!hx_diff_type_weaker(
                    cJSON_GetObjectItemCaseSensitive(o, x->string), x))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(n)) {
        if (!n->child)
            return 1;
        return o->child && hx_diff_type_weaker(o->child, n->child);
    }
    return 1;
}

/* Every value the old matcher (or literal) takes, the new one takes too. */
int hx_diff_implied(const hx_diff_docs *d, const cJSON *o, const cJSON *n,
                    int rules)
{
    if (hx_diff_eq(d, o, n))
        return 1;
    if (!o || !n)
        return 0;
    const char *mo = hx_diff_matcher_of(o, rules),
               *mn = hx_diff_matcher_of(n, rules);
    if (mn) {
        const cJSON *an = n->child, *ao = mo ? o->child : NULL;
        if (strcmp(mn, "present") == 0)
            return !mo || strcmp(mo, "absent") != 0;
        if (strcmp(mn, "exact") == 0) {
            if (mo && strcmp(mo, "exact") == 0)
                return hx_diff_eq(d, ao, an);
            return !mo && pure_literal(d->old_js, o, rules) &&
                   hx_diff_eq(d, o, an);
        }
        if (strcmp(mn, "type") == 0) {
            if (mo && strcmp(mo, "type") == 0)
                return hx_diff_type_weaker(ao, an);
            if (mo && strcmp(mo, "regex") == 0)
                return cJSON_IsString(an);
            if (mo && strcmp(mo, "exact") == 0)
                return pure_literal(d->old_js, ao, 0) &&
                       mspf_value_matches(n, ao);
            return !mo && pure_literal(d->old_js, o, rules) &&
                   mspf_value_matches(n, o);
        }
        if (strcmp(mn, "json") == 0) {
            if (mo && strcmp(mo, "json") == 0)
                return hx_diff_implied(d, ao, an, rules);
            return !mo && pure_literal(d->old_js, o, rules) &&
                   mspf_value_matches(n, o);
        }
        if (strcmp(mn, "regex") == 0) {
            if (cJSON_IsString(an) && an->valuestring[0] == '\0' &&
                (!mo || strcmp(mo, "regex") == 0 || strcmp(mo, "exact") == 0))
                return !mo ? cJSON_IsString(o) : 1; /* "" takes any string */
            return !mo && pure_literal(d->old_js, o, rules) &&
                   mspf_value_matches(n, o);
        }
        return 0; /* absent, same_as, same_as_step: equal or stricter */
    }
    if (mo) {
        /* {"exact": v} against the literal v with no matcher in it */
        if (strcmp(mo, "exact") == 0 && pure_literal(d->new_js, n, rules))
            return hx_diff_eq(d, o->child, n);
        return 0;
    }
    if (cJSON_IsObject(o) && cJSON_IsObject(n)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, n)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(o, x->string);
            const char *m = hx_diff_matcher_of(x, rules);
            if (!y && !(m && strcmp(m, "absent") == 0))
                return 0;
            if (y && !hx_diff_implied(d, y, x, rules))
                return 0;
        }
        cJSON_ArrayForEach(x, o)
        {
            const char *m = hx_diff_matcher_of(x, rules);
            if (!cJSON_GetObjectItemCaseSensitive(n, x->string) &&
                !(m && strcmp(m, "absent") == 0))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(o) && cJSON_IsArray(n)) {
        const cJSON *x = o->child, *y = n->child;
        for (; x && y; x = x->next, y = y->next)
            if (!hx_diff_implied(d, x, y, rules))
                return 0;
        return !x && !y;
    }
    /* two literals that differ (1 and 1.0 are eq already) */
    return 0;
}
