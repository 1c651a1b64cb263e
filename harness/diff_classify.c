/*
 * diff_classify.c — classifies each change of a pair of fixtures (paired
 * by diff_pair.c) by whom it can break, following the fixture model's
 * semantics (contracts/include/contracts/fixture.h,
 * docs/fixture-format.md, docs/provider.md):
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
#include "diff_classify.h"

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

/* The value rules (diff_rules.c) over this pair's two documents. */
static hx_diff_docs docs_of(const cmp *c)
{
    hx_diff_docs d = {c->o ? c->o->js : NULL, c->n ? c->n->js : NULL};
    return d;
}

static int eq(const cmp *c, const cJSON *a, const cJSON *b)
{
    hx_diff_docs d = docs_of(c);
    return hx_diff_eq(&d, a, b);
}

static int implied(const cmp *c, const cJSON *o, const cJSON *n, int rules)
{
    hx_diff_docs d = docs_of(c);
    return hx_diff_implied(&d, o, n, rules);
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

/* A member of a literal object on one side only (o or n): an "absent"
 * matcher there changes nothing, anything else breaks `stricter`. */
static void one_sided(cmp *c, const char *path, const cJSON *o, const cJSON *n,
                      int rules, unsigned stricter, const char *why)
{
    const char *m = hx_diff_matcher_of(o ? o : n, rules);
    int absent = m && strcmp(m, "absent") == 0;
    add(c, path, o, n, absent ? HX_BREAKS_NONE : stricter,
        absent ? WHY_ABSENT_SAME : why);
}

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
        !hx_diff_matcher_of(o, rules) && !hx_diff_matcher_of(n, rules)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, o)
        {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(n, x->string);
            child_path(sub, sizeof sub, path, x->string);
            if (!y)
                one_sided(c, sub, x, NULL, rules, stricter,
                          "a member of a literal object removed: it must "
                          "now be missing");
            else
                walk_matcher(c, sub, x, y, rules, stricter, why);
        }
        cJSON_ArrayForEach(x, n)
        {
            if (cJSON_GetObjectItemCaseSensitive(o, x->string))
                continue;
            child_path(sub, sizeof sub, path, x->string);
            one_sided(c, sub, NULL, x, rules, stricter,
                      "a member added to a literal object: now required");
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
    return hx_diff_type_weaker(o, n) ? 0 : HX_BREAKS_MSPS;
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

/* A pair's comparison state: the fixture's name is NEW's (OLD's for a
 * removal); a rename also names OLD. */
static cmp pair_of(hx_changes *out, const hx_side_fixture *o,
                   const hx_side_fixture *n, const char *kind)
{
    cmp c = {.out = out,
             .o = o,
             .n = n,
             .fixture = n ? n->name : o->name,
             .old_name = strcmp(kind, "renamed") == 0 ? o->name : NULL,
             .kind = kind};
    return c;
}

void hx_diff_compare(hx_changes *out, const hx_side_fixture *o,
                     const hx_side_fixture *n, const char *kind)
{
    cmp c = pair_of(out, o, n, kind);
    compare_fixture(&c);
}

void hx_diff_add(hx_changes *out, const hx_side_fixture *o,
                 const hx_side_fixture *n, const char *kind, const char *path,
                 const cJSON *old_value, const cJSON *new_value,
                 unsigned breaks, const char *why)
{
    cmp c = pair_of(out, o, n, kind);
    add(&c, path, old_value, new_value, breaks, why);
}
