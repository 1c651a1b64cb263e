/*
 * diff_classify.c — pairs the fixtures of two sets and classifies each
 * change by whom it can break, following the fixture model's semantics
 * (contracts/include/contracts/fixture.h, docs/fixture-format.md,
 * docs/provider.md):
 *
 *   executors  a run that passed OLD can fail NEW (another expected result
 *              for the same context and reply, a stricter request matcher,
 *              a new fixture);
 *   MSPs       a provider run that passed OLD can fail NEW (a step's
 *              expected status, header or value changed or got stricter, a
 *              new provider fixture, state or credential role);
 *   neither    descriptions and tags, a relaxed matcher, a removal.
 *
 * "Relaxed" is decided by the model itself: a new matcher relaxes an old
 * literal when mspf_value_matches() says it takes that literal (so a
 * regex is run by the model's PCRE2 engine); a type example relaxes
 * another when every value of the old shape has the new shape. Whatever
 * is not decided that way breaks (conservative); a field the diff does not
 * model breaks both sides.
 */
#include "diff.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <executor/msp_util.h>

#define VALUE_CAP    200
#define PATH_MAX_LEN 1024

/* What one pair of fixtures is being compared with. */
typedef struct cmp {
    hx_changes *out;
    const hx_side_fixture *o, *n;
    const char *fixture, *old_name, *kind;
    int pv;         /* NEW is sent to MSPs (provider.verify) */
    int body_mode;  /* NEW's provider.match.body: 0 error_code, 1 type, 2
                       exact */
    unsigned relax; /* whom a relaxed matcher breaks: none, but executors
                       for a request that does not pin its command id */
} cmp;

/* ---- values ---------------------------------------------------------- */

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
static int eq(const cmp *c, const cJSON *a, const cJSON *b)
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
        const char *sa = mspf_json_string(c->o->js, a, &la);
        const char *sb = mspf_json_string(c->n->js, b, &lb);
        if (!sa)
            sa = a->valuestring, la = strlen(sa);
        if (!sb)
            sb = b->valuestring, lb = strlen(sb);
        return la == lb && memcmp(sa, sb, la) == 0;
    }
    if (cJSON_IsArray(a)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!eq(c, x, y))
                return 0;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, a)
        {
            if (!eq(c, x, cJSON_GetObjectItemCaseSensitive(b, x->string)))
                return 0;
        }
        return 1;
    }
    return 1; /* null */
}

/* The matcher an object is read as: its single key when that is a matcher
 * name (step rules add present, exact and same_as_step), else NULL. */
static const char *matcher_of(const cJSON *v, int rules)
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
    if (matcher_of(v, rules))
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
static int type_weaker(const cJSON *o, const cJSON *n)
{
    if (!o || !n || !same_kind(o, n))
        return 0;
    if (cJSON_IsObject(n)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, n)
        {
            if (!type_weaker(cJSON_GetObjectItemCaseSensitive(o, x->string), x))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(n)) {
        if (!n->child)
            return 1;
        return o->child && type_weaker(o->child, n->child);
    }
    return 1;
}

/* Every value the old matcher (or literal) takes, the new one takes too. */
static int implied(const cmp *c, const cJSON *o, const cJSON *n, int rules)
{
    if (eq(c, o, n))
        return 1;
    if (!o || !n)
        return 0;
    const char *mo = matcher_of(o, rules), *mn = matcher_of(n, rules);
    if (mn) {
        const cJSON *an = n->child, *ao = mo ? o->child : NULL;
        if (strcmp(mn, "present") == 0)
            return !mo || strcmp(mo, "absent") != 0;
        if (strcmp(mn, "exact") == 0) {
            if (mo && strcmp(mo, "exact") == 0)
                return eq(c, ao, an);
            return !mo && pure_literal(c->o->js, o, rules) && eq(c, o, an);
        }
        if (strcmp(mn, "type") == 0) {
            if (mo && strcmp(mo, "type") == 0)
                return type_weaker(ao, an);
            if (mo && strcmp(mo, "regex") == 0)
                return cJSON_IsString(an);
            if (mo && strcmp(mo, "exact") == 0)
                return pure_literal(c->o->js, ao, 0) &&
                       mspf_value_matches(n, ao);
            return !mo && pure_literal(c->o->js, o, rules) &&
                   mspf_value_matches(n, o);
        }
        if (strcmp(mn, "json") == 0) {
            if (mo && strcmp(mo, "json") == 0)
                return implied(c, ao, an, rules);
            return !mo && pure_literal(c->o->js, o, rules) &&
                   mspf_value_matches(n, o);
        }
        if (strcmp(mn, "regex") == 0) {
            if (cJSON_IsString(an) && an->valuestring[0] == '\0' &&
                (!mo || strcmp(mo, "regex") == 0 || strcmp(mo, "exact") == 0))
                return !mo ? cJSON_IsString(o) : 1; /* "" takes any string */
            return !mo && pure_literal(c->o->js, o, rules) &&
                   mspf_value_matches(n, o);
        }
        return 0; /* absent, same_as, same_as_step: equal or stricter */
    }
    if (mo) {
        /* {"exact": v} against the literal v with no matcher in it */
        if (strcmp(mo, "exact") == 0 && pure_literal(c->n->js, n, rules))
            return eq(c, o->child, n);
        return 0;
    }
    if (cJSON_IsObject(o) && cJSON_IsObject(n)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, n)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(o, x->string);
            const char *m = matcher_of(x, rules);
            if (!y && !(m && strcmp(m, "absent") == 0))
                return 0;
            if (y && !implied(c, y, x, rules))
                return 0;
        }
        cJSON_ArrayForEach(x, o)
        {
            const char *m = matcher_of(x, rules);
            if (!cJSON_GetObjectItemCaseSensitive(n, x->string) &&
                !(m && strcmp(m, "absent") == 0))
                return 0;
        }
        return 1;
    }
    if (cJSON_IsArray(o) && cJSON_IsArray(n)) {
        const cJSON *x = o->child, *y = n->child;
        for (; x && y; x = x->next, y = y->next)
            if (!implied(c, x, y, rules))
                return 0;
        return !x && !y;
    }
    /* two literals that differ (1 and 1.0 are eq already) */
    return 0;
}

/* ---- recording ------------------------------------------------------- */

static char *cut(char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (!s || len <= VALUE_CAP)
        return s;
    char *t = malloc(VALUE_CAP + 40);
    if (!t) {
        free(s);
        return NULL;
    }
    size_t k = VALUE_CAP;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--; /* never cut a UTF-8 sequence */
    memcpy(t, s, k);
    snprintf(t + k, 40, "\xe2\x80\xa6(%zu bytes)", len);
    free(s);
    return t;
}

/* A path's last segment names a secret: an Authorization header or a
 * literal API key. */
static int secret_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *last = dot ? dot + 1 : path;
    return strcasecmp(last, "Authorization") == 0 ||
           strcmp(last, "api_key") == 0 || strstr(path, "\"Authorization\"");
}

/* s masked by msp_mask_secret()'s policy, a "Bearer " prefix kept. */
static char *masked_text(const char *s)
{
    char masked[128];
    int bearer = strncasecmp(s, "Bearer ", 7) == 0;
    msp_mask_secret(bearer ? s + 7 : s, masked, sizeof masked);
    size_t len = strlen(masked) + 8;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s", bearer ? "Bearer " : "", masked);
    return out;
}

/* Masks, in a copy of a subtree, every Authorization header and api_key
 * value (a matcher under one shows as its kind only). */
static int mask_tree(cJSON *v)
{
    cJSON *x;
    cJSON_ArrayForEach(x, v)
    {
        if (x->string && (strcasecmp(x->string, "Authorization") == 0 ||
                          strcmp(x->string, "api_key") == 0)) {
            char *m = cJSON_IsString(x) ? masked_text(x->valuestring)
                                        : strdup("(a matcher, not shown)");
            if (!m ||
                !cJSON_ReplaceItemViaPointer(v, x, cJSON_CreateString(m))) {
                free(m);
                return -1;
            }
            free(m);
            return mask_tree(v); /* x was replaced: walk again */
        }
        if ((cJSON_IsObject(x) || cJSON_IsArray(x)) && mask_tree(x) != 0)
            return -1;
    }
    return 0;
}

static char *render(const mspf_json *js, const cJSON *v, const char *path)
{
    if (!v)
        return NULL;
    if (strcmp(path, "$") == 0) { /* a whole fixture: its name */
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "name");
        const char *s = cJSON_IsString(name) ? name->valuestring : "?";
        return cut(mspf_json_quote(s, strlen(s)));
    }
    if (secret_path(path)) {
        if (!cJSON_IsString(v))
            return strdup("(a matcher, not shown)");
        char *m = masked_text(v->valuestring);
        char *q = m ? mspf_json_quote(m, strlen(m)) : NULL;
        free(m);
        return q;
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
        cJSON *copy = cJSON_Duplicate(v, 1);
        char *p =
            copy && mask_tree(copy) == 0 ? cJSON_PrintUnformatted(copy) : NULL;
        cJSON_Delete(copy);
        if (!p)
            return NULL;
        char *s = strdup(p);
        cJSON_free(p);
        return cut(s);
    }
    if (cJSON_IsString(v)) {
        size_t len = 0;
        const char *s = mspf_json_string(js, v, &len);
        return cut(s ? mspf_json_quote(s, len)
                     : mspf_json_quote(v->valuestring, strlen(v->valuestring)));
    }
    char *p = cJSON_PrintUnformatted(v);
    if (!p)
        return NULL;
    char *s = strdup(p);
    cJSON_free(p);
    return cut(s);
}

static void add(cmp *c, const char *path, const cJSON *o, const cJSON *n,
                unsigned breaks, const char *why)
{
    hx_changes *out = c->out;
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 64;
        hx_change *p = realloc(out->items, cap * sizeof *p);
        if (!p) {
            out->oom = 1;
            return;
        }
        out->items = p;
        out->cap = cap;
    }
    hx_change *ch = &out->items[out->n];
    memset(ch, 0, sizeof *ch);
    ch->fixture = strdup(c->fixture);
    ch->old_name = c->old_name ? strdup(c->old_name) : NULL;
    ch->kind = c->kind;
    ch->path = strdup(path);
    ch->old_value = render(c->o ? c->o->js : NULL, o, path);
    ch->new_value = render(c->n ? c->n->js : NULL, n, path);
    ch->breaks = breaks;
    ch->why = why;
    ch->order = out->n;
    if (!ch->fixture || !ch->path || (c->old_name && !ch->old_name) ||
        (o && !ch->old_value) || (n && !ch->new_value)) {
        free(ch->fixture);
        free(ch->old_name);
        free(ch->path);
        free(ch->old_value);
        free(ch->new_value);
        out->oom = 1;
        return;
    }
    out->n++;
}

static void child_path(char *buf, size_t len, const char *path, const char *key)
{
    int plain = key[0] != '\0';
    for (const char *k = key; *k && plain; k++)
        plain = (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
                (*k >= '0' && *k <= '9') || *k == '_' || *k == '-';
    if (plain) {
        snprintf(buf, len, "%s.%s", path, key);
        return;
    }
    size_t at = (size_t)snprintf(buf, len, "%s[\"", path);
    for (const char *k = key; *k && at + 4 < len; k++) {
        if (*k == '"' || *k == '\\')
            buf[at++] = '\\';
        buf[at++] = *k;
    }
    if (at + 3 <= len)
        snprintf(buf + at, len - at, "\"]");
}

static void index_path(char *buf, size_t len, const char *path, size_t i)
{
    snprintf(buf, len, "%s[%zu]", path, i);
}

static const char WHY_UNMODELLED[] =
    "a field the diff does not model: conservatively breaks both sides";

/* Reports every leaf where o and n differ, each with the same class. */
static void walk_any(cmp *c, const char *path, const cJSON *o, const cJSON *n,
                     unsigned breaks, const char *why)
{
    char sub[PATH_MAX_LEN];
    if (eq(c, o, n))
        return;
    if (o && n && cJSON_IsObject(o) && cJSON_IsObject(n)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, o)
        {
            child_path(sub, sizeof sub, path, x->string);
            walk_any(c, sub, x, cJSON_GetObjectItemCaseSensitive(n, x->string),
                     breaks, why);
        }
        cJSON_ArrayForEach(x, n)
        {
            if (cJSON_GetObjectItemCaseSensitive(o, x->string))
                continue;
            child_path(sub, sizeof sub, path, x->string);
            walk_any(c, sub, NULL, x, breaks, why);
        }
        return;
    }
    if (o && n && cJSON_IsArray(o) && cJSON_IsArray(n) &&
        cJSON_GetArraySize(o) == cJSON_GetArraySize(n)) {
        size_t i = 0;
        for (const cJSON *x = o->child, *y = n->child; x && y;
             x = x->next, y = y->next, i++) {
            index_path(sub, sizeof sub, path, i);
            walk_any(c, sub, x, y, breaks, why);
        }
        return;
    }
    add(c, path, o, n, breaks, why);
}

static const char WHY_RELAXED[] =
    "matcher relaxed: every value the old one took, the new one takes";
static const char WHY_STEALS[] =
    "a relaxed request matcher of a fixture that does not pin "
    "X-Brainstorm-Command-Id: fake-msp picks replies by request, so its "
    "reply can answer other fixtures' requests";
static const char WHY_ABSENT_SAME[] =
    "a member {\"absent\": true} added or removed: the same meaning";

/* A matcher tree (request body, expected stdout, step expectations):
 * reported per member where both sides are plain objects or arrays of the
 * same length, each difference breaking `stricter` unless the new matcher
 * takes everything the old one took. */
static void walk_matcher(cmp *c, const char *path, const cJSON *o,
                         const cJSON *n, int rules, unsigned stricter,
                         const char *why)
{
    char sub[PATH_MAX_LEN];
    if (eq(c, o, n))
        return;
    if (o && n && cJSON_IsObject(o) && cJSON_IsObject(n) &&
        !matcher_of(o, rules) && !matcher_of(n, rules)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, o)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(n, x->string);
            const char *m = matcher_of(x, rules);
            child_path(sub, sizeof sub, path, x->string);
            if (!y)
                add(c, sub, x, NULL,
                    m && strcmp(m, "absent") == 0 ? HX_BREAKS_NONE : stricter,
                    m && strcmp(m, "absent") == 0
                        ? WHY_ABSENT_SAME
                        : "a member of a literal object removed: it must now "
                          "be missing");
            else
                walk_matcher(c, sub, x, y, rules, stricter, why);
        }
        cJSON_ArrayForEach(x, n)
        {
            if (cJSON_GetObjectItemCaseSensitive(o, x->string))
                continue;
            const char *m = matcher_of(x, rules);
            child_path(sub, sizeof sub, path, x->string);
            add(c, sub, NULL, x,
                m && strcmp(m, "absent") == 0 ? HX_BREAKS_NONE : stricter,
                m && strcmp(m, "absent") == 0
                    ? WHY_ABSENT_SAME
                    : "a member added to a literal object: now required");
        }
        return;
    }
    if (o && n && cJSON_IsArray(o) && cJSON_IsArray(n) &&
        cJSON_GetArraySize(o) == cJSON_GetArraySize(n)) {
        size_t i = 0;
        for (const cJSON *x = o->child, *y = n->child; x && y;
             x = x->next, y = y->next, i++) {
            index_path(sub, sizeof sub, path, i);
            walk_matcher(c, sub, x, y, rules, stricter, why);
        }
        return;
    }
    if (implied(c, o, n, rules))
        add(c, path, o, n, c->relax, c->relax ? WHY_STEALS : WHY_RELAXED);
    else
        add(c, path, o, n, stricter, why);
}

/* Named rules (request headers, step expect headers: names any case;
 * match/step values: JSON paths): a rule removed breaks nobody, a rule
 * added breaks `stricter`, a changed one as walk_matcher. */
static void walk_named(cmp *c, const char *path, const cJSON *o, const cJSON *n,
                       int any_case, int rules, unsigned stricter,
                       const char *added_why, const char *why)
{
    char sub[PATH_MAX_LEN];
    const cJSON *x;
    if (eq(c, o, n))
        return;
    if ((o && !cJSON_IsObject(o)) || (n && !cJSON_IsObject(n))) {
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
        return;
    }
    cJSON_ArrayForEach(x, o)
    {
        const cJSON *y = any_case
                             ? cJSON_GetObjectItem(n, x->string)
                             : cJSON_GetObjectItemCaseSensitive(n, x->string);
        child_path(sub, sizeof sub, path, x->string);
        if (!y)
            add(c, sub, x, NULL, c->relax,
                c->relax ? WHY_STEALS
                         : "a rule removed: nothing is checked there any more");
        else
            walk_matcher(c, sub, x, y, rules, stricter, why);
    }
    cJSON_ArrayForEach(x, n)
    {
        const cJSON *y = any_case
                             ? cJSON_GetObjectItem(o, x->string)
                             : cJSON_GetObjectItemCaseSensitive(o, x->string);
        if (y)
            continue;
        child_path(sub, sizeof sub, path, x->string);
        add(c, sub, NULL, x, stricter, added_why);
    }
}

/* An optional matcher whose absence means "anything" (request method,
 * path and body, expected stdout/stderr/command_result). */
static void walk_optional(cmp *c, const char *path, const cJSON *o,
                          const cJSON *n, int rules, unsigned stricter,
                          const char *why)
{
    if (eq(c, o, n))
        return;
    if (!n)
        add(c, path, o, NULL, c->relax,
            c->relax ? WHY_STEALS : "no longer checked: anything is taken");
    else if (!o)
        add(c, path, NULL, n, stricter, "newly checked: a new requirement");
    else
        walk_matcher(c, path, o, n, rules, stricter, why);
}

/* ---- the fixture's blocks ----------------------------------------------- */

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key)
                               : NULL;
}

/* Calls fn for every key of o or n (o's order, then n's new keys). */
typedef void (*key_fn)(cmp *c, const char *path, const char *key,
                       const cJSON *o, const cJSON *n);

static void each_key(cmp *c, const char *path, const cJSON *o, const cJSON *n,
                     key_fn fn)
{
    char sub[PATH_MAX_LEN];
    const cJSON *x;
    if (o && !cJSON_IsObject(o))
        o = NULL;
    if (n && !cJSON_IsObject(n))
        n = NULL;
    cJSON_ArrayForEach(x, o)
    {
        const cJSON *y = get(n, x->string);
        if (eq(c, x, y))
            continue;
        child_path(sub, sizeof sub, path, x->string);
        fn(c, sub, x->string, x, y);
    }
    cJSON_ArrayForEach(x, n)
    {
        if (get(o, x->string))
            continue;
        child_path(sub, sizeof sub, path, x->string);
        fn(c, sub, x->string, NULL, x);
    }
}

static unsigned msp_if(const cmp *c)
{
    return c->pv ? HX_BREAKS_MSPS : HX_BREAKS_NONE;
}

static void executor_key(cmp *c, const char *path, const char *key,
                         const cJSON *o, const cJSON *n)
{
    (void)key;
    walk_any(c, path, o, n, HX_BREAKS_EXECUTORS | msp_if(c),
             "the executor is run with another configuration or credential");
}

static void context_key(cmp *c, const char *path, const char *key,
                        const cJSON *o, const cJSON *n)
{
    (void)key;
    walk_any(c, path, o, n, HX_BREAKS_EXECUTORS | msp_if(c),
             "the executor is handed another context (and sends another "
             "request)");
}

static const char WHY_REQUEST[] =
    "a request matcher got stricter or different: a request the old one "
    "took can be refused";

static void request_key(cmp *c, const char *path, const char *key,
                        const cJSON *o, const cJSON *n)
{
    if (strcmp(key, "headers") == 0)
        walk_named(c, path, o, n, 1, 0, HX_BREAKS_EXECUTORS,
                   "a header now required", WHY_REQUEST);
    else if (strcmp(key, "method") == 0 || strcmp(key, "path") == 0 ||
             strcmp(key, "body") == 0)
        walk_optional(c, path, o, n, 0, HX_BREAKS_EXECUTORS, WHY_REQUEST);
    else
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

static void compare_request(cmp *c, const cJSON *o, const cJSON *n)
{
    if (eq(c, o, n))
        return;
    if (!cJSON_IsObject(o) || !cJSON_IsObject(n)) {
        add(c, "$.request", o, n, HX_BREAKS_EXECUTORS,
            cJSON_IsNull(n) ? "now nothing may be sent"
                            : "a request is now expected");
        return;
    }
    /* fake-msp answers the first fixture (file order) whose request
     * matches: relaxing one that does not pin its own command id with a
     * literal can make it answer other fixtures' requests */
    const cJSON *id =
        cJSON_GetObjectItem(get(n, "headers"), "X-Brainstorm-Command-Id");
    const cJSON *root = mspf_json_root(c->n->js);
    int replies = get(root, "response") || get(root, "responses");
    c->relax =
        replies && !cJSON_IsString(id) ? HX_BREAKS_EXECUTORS : HX_BREAKS_NONE;
    each_key(c, "$.request", o, n, request_key);
    c->relax = HX_BREAKS_NONE;
}

/* The reply body under provider.match.body: what of it an MSP's reply
 * must now have that it did not need before. */
static unsigned body_msp(cmp *c, const char *path, const cJSON *o,
                         const cJSON *n)
{
    if (!c->pv)
        return 0;
    if (c->body_mode == 2)
        return HX_BREAKS_MSPS;
    /* error.code is compared in every mode */
    size_t pl = strlen(path), sl = strlen(".body.error.code");
    if (pl > sl && strcmp(path + pl - sl, ".body.error.code") == 0)
        return HX_BREAKS_MSPS;
    if (c->body_mode == 0) /* error_code: nothing more */
        return 0;
    if (!n)
        return 0; /* a member the example no longer has */
    return type_weaker(o, n) ? 0 : HX_BREAKS_MSPS;
}

static void walk_body(cmp *c, const char *path, const cJSON *o, const cJSON *n)
{
    char sub[PATH_MAX_LEN];
    static const char why[] = "the executor gets another reply";
    static const char why_msp[] =
        "the executor gets another reply; an MSP's reply must now have "
        "another status, error code or shape";
    if (eq(c, o, n))
        return;
    if (o && n && cJSON_IsObject(o) && cJSON_IsObject(n)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, o)
        {
            const cJSON *y = get(n, x->string);
            child_path(sub, sizeof sub, path, x->string);
            walk_body(c, sub, x, y);
        }
        cJSON_ArrayForEach(x, n)
        {
            if (get(o, x->string))
                continue;
            child_path(sub, sizeof sub, path, x->string);
            walk_body(c, sub, NULL, x);
        }
        return;
    }
    unsigned m = body_msp(c, path, o, n);
    add(c, path, o, n, HX_BREAKS_EXECUTORS | m, m ? why_msp : why);
}

static void response_key(cmp *c, const char *path, const char *key,
                         const cJSON *o, const cJSON *n)
{
    if (strcmp(key, "status") == 0)
        walk_any(c, path, o, n, HX_BREAKS_EXECUTORS | msp_if(c),
                 "another reply status: the executor gets another reply and "
                 "an MSP must answer it");
    else if (strcmp(key, "body") == 0) {
        char root[PATH_MAX_LEN];
        snprintf(root, sizeof root, "%s", path);
        walk_body(c, root, o, n);
    } else if (strcmp(key, "body_text") == 0 ||
               strcmp(key, "body_base64") == 0 ||
               strcmp(key, "body_repeat") == 0)
        walk_any(c, path, o, n, HX_BREAKS_EXECUTORS | msp_if(c),
                 "the executor gets another reply body (an MSP's reply is "
                 "compared with it)");
    else if (strcmp(key, "headers") == 0 || strcmp(key, "delay_ms") == 0 ||
             strcmp(key, "fault") == 0)
        walk_any(c, path, o, n, HX_BREAKS_EXECUTORS,
                 "the executor gets another reply");
    else
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

/* "response"/"responses" and "expect"/"expects": entry i of run i, the
 * last repeating. */
static const cJSON *nth(const cJSON *doc, const char *one, const char *many,
                        size_t i, size_t *count)
{
    const cJSON *a = get(doc, many);
    if (cJSON_IsArray(a)) {
        size_t k = (size_t)cJSON_GetArraySize(a);
        *count = k;
        return k ? cJSON_GetArrayItem(a, (int)(i < k ? i : k - 1)) : NULL;
    }
    const cJSON *s = get(doc, one);
    *count = s ? 1 : 0;
    return s;
}

static void per_run(cmp *c, const char *one, const char *many, key_fn fn,
                    unsigned none_breaks)
{
    const cJSON *O = mspf_json_root(c->o->js), *N = mspf_json_root(c->n->js);
    size_t no = 0, nn = 0;
    nth(O, one, many, 0, &no);
    nth(N, one, many, 0, &nn);
    size_t runs = no > nn ? no : nn;
    for (size_t i = 0; i < runs; i++) {
        char path[PATH_MAX_LEN];
        size_t k;
        const cJSON *o = nth(O, one, many, i, &k);
        const cJSON *n = nth(N, one, many, i, &k);
        if (cJSON_IsArray(get(N, many)) || (!nn && cJSON_IsArray(get(O, many))))
            snprintf(path, sizeof path, "$.%s[%zu]", many, i);
        else
            snprintf(path, sizeof path, "$.%s", one);
        if (eq(c, o, n))
            continue;
        if (!o || !n) {
            add(c, path, o, n, none_breaks,
                !n ? "no scripted reply now: the fake's realistic MSP answers"
                   : "a scripted reply instead of the fake's realistic MSP");
            continue;
        }
        each_key(c, path, o, n, fn);
    }
}

static void expect_key(cmp *c, const char *path, const char *key,
                       const cJSON *o, const cJSON *n)
{
    static const char why[] =
        "the same context and reply now expect another result";
    if (strcmp(key, "exit_code") == 0)
        walk_any(c, path, o, n, HX_BREAKS_EXECUTORS,
                 "the same context and reply now expect another exit code");
    else if (strcmp(key, "stdout") == 0 || strcmp(key, "stderr") == 0 ||
             strcmp(key, "command_result") == 0)
        walk_optional(c, path, o, n, 0, HX_BREAKS_EXECUTORS, why);
    else if (strcmp(key, "max_ms") == 0) {
        if (!n || (o && cJSON_IsNumber(o) && cJSON_IsNumber(n) &&
                   n->valuedouble >= o->valuedouble))
            add(c, path, o, n, HX_BREAKS_NONE, "a time budget relaxed");
        else
            add(c, path, o, n, HX_BREAKS_EXECUTORS,
                "a time budget tightened or added");
    } else if (strcmp(key, "row") == 0)
        walk_any(c, path, o, n, HX_BREAKS_NONE,
                 "expect.row is ignored (exit_row counts)");
    else
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

static const char WHY_MSP_RULE[] =
    "an MSP's reply must now have another status, header or value";

static int body_rank(const cJSON *provider)
{
    const cJSON *b = get(get(provider, "match"), "body");
    if (!cJSON_IsString(b) || strcmp(b->valuestring, "type") == 0)
        return 1;
    return strcmp(b->valuestring, "exact") == 0 ? 2 : 0;
}

static void match_key(cmp *c, const char *path, const char *key, const cJSON *o,
                      const cJSON *n)
{
    unsigned m = msp_if(c);
    if (strcmp(key, "values") == 0)
        walk_named(c, path, o, n, 0, 1, m, "a value rule added", WHY_MSP_RULE);
    else if (strcmp(key, "body") == 0) {
        int ro = cJSON_IsString(o)
                     ? (strcmp(o->valuestring, "exact") == 0        ? 2
                        : strcmp(o->valuestring, "error_code") == 0 ? 0
                                                                    : 1)
                     : 1;
        int rn = c->body_mode;
        add(c, path, o, n, rn > ro ? m : HX_BREAKS_NONE,
            rn > ro ? "the reply body is compared more strictly"
                    : "the reply body is compared less strictly");
    } else if (strcmp(key, "status") == 0)
        walk_any(c, path, o, n, m, WHY_MSP_RULE);
    else
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

static void step_expect_key(cmp *c, const char *path, const char *key,
                            const cJSON *o, const cJSON *n)
{
    unsigned m = msp_if(c);
    if (strcmp(key, "status") == 0)
        walk_any(c, path, o, n, m, "a step's expected status changed");
    else if (strcmp(key, "headers") == 0)
        walk_named(c, path, o, n, 1, 1, m, "a reply header now required",
                   WHY_MSP_RULE);
    else if (strcmp(key, "values") == 0)
        walk_named(c, path, o, n, 0, 1, m, "a value rule added", WHY_MSP_RULE);
    else if (strcmp(key, "body") == 0)
        walk_optional(c, path, o, n, 1, m, WHY_MSP_RULE);
    else
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

static void step_key(cmp *c, const char *path, const char *key, const cJSON *o,
                     const cJSON *n)
{
    if (strcmp(key, "name") == 0)
        walk_any(c, path, o, n, HX_BREAKS_NONE, "a step's name is a label");
    else if (strcmp(key, "request") == 0)
        walk_any(c, path, o, n, msp_if(c), "the MSP is sent another request");
    else if (strcmp(key, "expect") == 0)
        each_key(c, path, cJSON_IsObject(o) ? o : NULL,
                 cJSON_IsObject(n) ? n : NULL, step_expect_key);
    else
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

static void compare_steps(cmp *c, const char *path, const cJSON *o,
                          const cJSON *n)
{
    char sub[PATH_MAX_LEN];
    if (!cJSON_IsArray(o) || !cJSON_IsArray(n)) {
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
        return;
    }
    size_t i = 0;
    const cJSON *x = o->child, *y = n->child;
    for (; x && y; x = x->next, y = y->next, i++) {
        index_path(sub, sizeof sub, path, i);
        if (!eq(c, x, y))
            each_key(c, sub, x, y, step_key);
    }
    for (; y; y = y->next, i++) {
        index_path(sub, sizeof sub, path, i);
        add(c, sub, NULL, y, msp_if(c), "a new step the MSP must pass");
    }
    for (; x; x = x->next, i++) {
        index_path(sub, sizeof sub, path, i);
        add(c, sub, x, NULL, HX_BREAKS_NONE,
            "a step removed from the end: the ones before never refer to "
            "later steps");
    }
}

static void provider_key(cmp *c, const char *path, const char *key,
                         const cJSON *o, const cJSON *n)
{
    unsigned m = msp_if(c);
    if (strcmp(key, "verify") == 0)
        add(c, path, o, n, cJSON_IsTrue(n) ? HX_BREAKS_MSPS : HX_BREAKS_NONE,
            cJSON_IsTrue(n) ? "a new provider fixture: the MSP must pass it"
                            : "no longer sent to an MSP");
    else if (strcmp(key, "checks") == 0)
        walk_any(c, path, o, n, HX_BREAKS_NONE,
                 "checks are labels for coverage --provider");
    else if (strcmp(key, "state") == 0 || strcmp(key, "states") == 0)
        walk_any(c, path, o, n, m,
                 "another provider state the MSP must set up");
    else if (strcmp(key, "credential") == 0)
        walk_any(c, path, o, n, m, "another credential role");
    else if (strcmp(key, "pin_command_id") == 0)
        walk_any(c, path, o, n, m, "the MSP is sent other command ids");
    else if (strcmp(key, "match") == 0)
        each_key(c, path, o, n, match_key);
    else if (strcmp(key, "steps") == 0)
        compare_steps(c, path, o, n);
    else
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

static void top_key(cmp *c, const char *path, const char *key, const cJSON *o,
                    const cJSON *n)
{
    if (strcmp(key, "name") == 0)
        return; /* the pairing reports renames */
    if (strcmp(key, "description") == 0 || strcmp(key, "tags") == 0)
        walk_any(c, path, o, n, HX_BREAKS_NONE,
                 "descriptions and tags break nobody");
    else if (strcmp(key, "exit_row") == 0)
        walk_any(c, path, o, n, HX_BREAKS_EXECUTORS,
                 "verify checks the exit-table row that decided the run");
    else if (strcmp(key, "executor") == 0)
        each_key(c, path, o, n, executor_key);
    else if (strcmp(key, "context") == 0)
        each_key(c, path, o, n, context_key);
    else if (strcmp(key, "repeat") == 0)
        walk_any(c, path, o, n, HX_BREAKS_EXECUTORS | msp_if(c),
                 "the context is run another number of times");
    else if (strcmp(key, "request") == 0)
        compare_request(c, o, n);
    else if (strcmp(key, "provider") == 0)
        each_key(c, path, o, n, provider_key);
    else if (strcmp(key, "response") != 0 && strcmp(key, "responses") != 0 &&
             strcmp(key, "expect") != 0 && strcmp(key, "expects") != 0)
        walk_any(c, path, o, n, HX_BREAKS_BOTH, WHY_UNMODELLED);
}

static int provider_only(const hx_side_fixture *s)
{
    return s->provider_only;
}

static void compare_fixture(cmp *c)
{
    const cJSON *O = mspf_json_root(c->o->js), *N = mspf_json_root(c->n->js);
    if (eq(c, O, N))
        return;
    c->pv = c->n->provider_verify;
    c->body_mode = body_rank(get(N, "provider"));
    if (provider_only(c->o) != provider_only(c->n)) {
        add(c, "$", O, N, HX_BREAKS_BOTH,
            "changed between an executor-driven and a provider-only fixture");
        return;
    }
    each_key(c, "$", O, N, top_key);
    if (!provider_only(c->n)) {
        per_run(c, "response", "responses", response_key,
                HX_BREAKS_EXECUTORS | msp_if(c));
        per_run(c, "expect", "expects", expect_key, HX_BREAKS_EXECUTORS);
    }
}

/* ---- pairing ------------------------------------------------------------- */

/* What makes two fixtures under different names the same one: the command
 * id and the request (for a provider-only one: its steps' requests). */
static char *rename_key(const hx_side_fixture *s)
{
    const cJSON *root = mspf_json_root(s->js);
    const cJSON *prov = get(root, "provider");
    cJSON *tmp = cJSON_CreateArray();
    if (!tmp)
        return NULL;
    if (provider_only(s)) {
        const cJSON *st;
        cJSON_ArrayForEach(st, get(prov, "steps"))
        {
            cJSON *r = cJSON_Duplicate(get(st, "request"), 1);
            if (r)
                cJSON_AddItemToArray(tmp, r);
        }
        cJSON_AddItemToArray(tmp, cJSON_CreateString("steps"));
    } else {
        cJSON_AddItemToArray(tmp, cJSON_CreateString(s->command_id));
        cJSON *r = cJSON_Duplicate(get(root, "request"), 1);
        if (r)
            cJSON_AddItemToArray(tmp, r);
    }
    char *p = cJSON_PrintUnformatted(tmp);
    cJSON_Delete(tmp);
    if (!p)
        return NULL;
    char *k = strdup(p);
    cJSON_free(p);
    return k;
}

typedef struct keyed {
    char *key;
    size_t idx;
    int used;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

static unsigned added_breaks(const hx_side_fixture *s)
{
    if (provider_only(s))
        return s->provider_verify ? HX_BREAKS_MSPS : HX_BREAKS_NONE;
    return HX_BREAKS_EXECUTORS |
           (s->provider_verify ? HX_BREAKS_MSPS : HX_BREAKS_NONE);
}

int hx_breaks_rank(unsigned breaks)
{
    switch (breaks & HX_BREAKS_BOTH) {
    case HX_BREAKS_BOTH: return 0;
    case HX_BREAKS_EXECUTORS: return 1;
    case HX_BREAKS_MSPS: return 2;
    default: return 3;
    }
}

const char *hx_breaks_name(unsigned breaks)
{
    static const char *const names[] = {"both", "executors", "msps", "neither"};
    return names[hx_breaks_rank(breaks)];
}

static int cmp_change(const void *a, const void *b)
{
    const hx_change *x = a, *y = b;
    int r = hx_breaks_rank(x->breaks) - hx_breaks_rank(y->breaks);
    if (r)
        return r;
    r = strcmp(x->fixture, y->fixture);
    if (r)
        return r;
    return (x->order > y->order) - (x->order < y->order);
}

int hx_changes_compute(const hx_side *os, const hx_side *ns, hx_changes *out)
{
    memset(out, 0, sizeof *out);
    size_t *removed = malloc((os->n + 1) * sizeof *removed);
    size_t *addedv = malloc((ns->n + 1) * sizeof *addedv);
    size_t nr = 0, na = 0, i = 0, j = 0;
    if (!removed || !addedv) {
        free(removed);
        free(addedv);
        return -1;
    }
    while (i < os->n || j < ns->n) {
        int r = i == os->n   ? 1
                : j == ns->n ? -1
                             : strcmp(os->items[i].name, ns->items[j].name);
        if (r < 0)
            removed[nr++] = i++;
        else if (r > 0)
            addedv[na++] = j++;
        else if (os->items[i].same || !os->items[i].js || !ns->items[j].js) {
            i++; /* the same text on both sides */
            j++;
        } else {
            cmp c = {.out = out,
                     .o = &os->items[i],
                     .n = &ns->items[j],
                     .fixture = ns->items[j].name,
                     .kind = "changed"};
            size_t before = out->n;
            compare_fixture(&c);
            out->fixtures_changed += out->n > before;
            i++;
            j++;
        }
    }
    /* renames: a removed and an added fixture with the same key */
    keyed *rk = calloc(nr + 1, sizeof *rk);
    if (!rk)
        out->oom = 1;
    for (size_t k = 0; rk && k < nr; k++) {
        rk[k].key = rename_key(&os->items[removed[k]]);
        rk[k].idx = removed[k];
        if (!rk[k].key)
            out->oom = 1;
    }
    if (rk && !out->oom && nr > 1)
        qsort(rk, nr, sizeof *rk, cmp_keyed);
    for (size_t k = 0; k < na && rk && !out->oom; k++) {
        const hx_side_fixture *s = &ns->items[addedv[k]];
        keyed probe = {.key = nr ? rename_key(s) : NULL, .idx = 0};
        keyed *hit = NULL;
        if (probe.key) {
            /* the first unused entry with this key */
            size_t lo = 0, hi = nr;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(rk[mid].key, probe.key) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < nr && strcmp(rk[lo].key, probe.key) == 0; lo++)
                if (!rk[lo].used) {
                    hit = &rk[lo];
                    break;
                }
        }
        free(probe.key);
        cmp c = {.out = out, .n = s, .fixture = s->name};
        if (hit) {
            hit->used = 1;
            c.o = &os->items[hit->idx];
            c.old_name = c.o->name;
            c.kind = "renamed";
            const cJSON *on = get(mspf_json_root(c.o->js), "name");
            const cJSON *nn = get(mspf_json_root(s->js), "name");
            add(&c, "$.name", on, nn, HX_BREAKS_NONE,
                "a rename: the same command id and request");
            compare_fixture(&c);
        } else {
            c.kind = "added";
            unsigned b = added_breaks(s);
            add(&c, "$", NULL, mspf_json_root(s->js), b,
                b == HX_BREAKS_NONE ? "a new fixture no side runs"
                : provider_only(s)  ? "a new provider fixture: the MSP must "
                                      "pass it"
                                    : "a new fixture: a new requirement");
        }
        out->fixtures_changed++;
    }
    for (size_t k = 0; k < nr && rk; k++) {
        if (!rk[k].used) {
            const hx_side_fixture *s = &os->items[rk[k].idx];
            cmp c = {.out = out, .o = s, .fixture = s->name, .kind = "removed"};
            add(&c, "$", mspf_json_root(s->js), NULL, HX_BREAKS_NONE,
                "a fixture removed: nothing requires it any more");
            out->fixtures_changed++;
        }
        free(rk[k].key);
    }
    free(rk);
    free(removed);
    free(addedv);
    if (out->n > 1)
        qsort(out->items, out->n, sizeof *out->items, cmp_change);
    return out->oom ? -1 : 0;
}

void hx_changes_free(hx_changes *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].fixture);
        free(c->items[i].old_name);
        free(c->items[i].path);
        free(c->items[i].old_value);
        free(c->items[i].new_value);
    }
    free(c->items);
    memset(c, 0, sizeof *c);
}
