/*
 * match.c — evaluating matchers and recording differences.
 *
 * A value to match is a literal (compared as JSON: numbers numerically,
 * objects key-set equal, arrays element-wise) or a matcher object with
 * exactly one of regex / same_as / json / type / absent. Evaluation only
 * reads the fixture, so one fixture serves any number of threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "executor/msp_util.h"
#include "fixture_internal.h"

#define ELLIPSIS "\xE2\x80\xA6" /* what Mspf_cut_text appends */

/* ---- differences ---------------------------------------------------- */

int mspf_diffs_add(mspf_diffs *d, const char *field, const char *expected,
                   const char *got)
{
    mspf_diff *it;
    if (!d)
        return -1;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        mspf_diff *items = realloc(d->items, cap * sizeof(*items));
        if (!items)
            return -1;
        d->items = items;
        d->cap = cap;
    }
    it = &d->items[d->n];
    it->field = strdup(field ? field : "");
    it->expected = strdup(expected ? expected : "");
    it->got = strdup(got ? got : "");
    it->at = -1;
    it->from = 0;
    if (!it->field || !it->expected || !it->got) {
        free(it->field);
        free(it->expected);
        free(it->got);
        return -1;
    }
    d->n++;
    return 0;
}

void mspf_diffs_free(mspf_diffs *d)
{
    size_t i;
    if (!d)
        return;
    for (i = 0; i < d->n; i++) {
        free(d->items[i].field);
        free(d->items[i].expected);
        free(d->items[i].got);
    }
    free(d->items);
    d->items = NULL;
    d->n = d->cap = 0;
}

char *Mspf_cut_text(const char *s, size_t len, size_t max)
{
    char *out;
    size_t keep = len;
    if (len > max) {
        keep = max;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
            keep--; /* do not split a UTF-8 sequence */
    }
    out = malloc(keep + 40);
    if (!out)
        return NULL;
    memcpy(out, s, keep);
    if (keep < len)
        snprintf(out + keep, 40, "\xE2\x80\xA6(%zu bytes)", len);
    else
        out[keep] = '\0';
    return out;
}

char *Mspf_json_text(const cJSON *v)
{
    char *text, *out;
    if (!v)
        return strdup("(absent)");
    text = cJSON_PrintUnformatted(v);
    if (!text)
        return NULL;
    out = strdup(text);
    cJSON_free(text);
    return out;
}

char *Mspf_redact_bearer(const char *s)
{
    const char *b = strstr(s, "Bearer ");
    size_t pre, tok = 0;
    char masked[MSP_MASK_BUF_SIZE], *token, *out;
    if (b)
        pre = (size_t)(b - s) + MSP_STRLEN("Bearer ");
    else /* no scheme: hide the whole (quoted) value */
        pre = s[0] == '"' ? 1 : 0;
    /* the token ends at an unescaped quote or at cut_text's ellipsis; any
     * other byte (a 0xE2 of some UTF-8 character included) is hidden */
    while (s[pre + tok] &&
           !(s[pre + tok] == '"' && (tok == 0 || s[pre + tok - 1] != '\\')) &&
           strncmp(s + pre + tok, ELLIPSIS, MSP_STRLEN(ELLIPSIS)) != 0)
        tok++;
    /* the one masking policy (executor/msp_util.h) */
    if (!(token = strndup(s + pre, tok)))
        return NULL;
    msp_mask_secret(token, masked, sizeof masked);
    msp_secret_free(token);
    size_t outlen = pre + strlen(masked) + strlen(s + pre + tok) + 1;
    out = malloc(outlen);
    if (!out)
        return NULL;
    (void)snprintf(out, outlen, "%.*s%s%s", (int)pre, s, masked, s + pre + tok);
    return out;
}

/* Is the path a request header named Authorization? */
static int is_auth_field(const char *field)
{
    static const char prefix[] = "request.headers.";
    return strncmp(field, prefix, sizeof(prefix) - 1) == 0 &&
           strcasecmp(field + sizeof(prefix) - 1, "authorization") == 0;
}

/* s[from..len) cut to max bytes for showing: "…" before it when from > 0,
 * "…(LEN bytes)" after it when cut, never splitting a UTF-8 sequence. */
static char *cut_window(const char *s, size_t len, size_t from, size_t max)
{
    size_t keep = len - from;
    char *out;
    if (keep > max) {
        keep = max;
        while (keep > 0 && ((unsigned char)s[from + keep] & 0xC0) == 0x80)
            keep--;
    }
    out = malloc(keep + 48);
    if (!out)
        return NULL;
    (void)snprintf(out, 48, "%s", from ? ELLIPSIS : "");
    size_t o = strlen(out);
    memcpy(out + o, s + from, keep);
    out[o + keep] = '\0';
    if (from + keep < len)
        (void)snprintf(out + o + keep, 40, ELLIPSIS "(%zu bytes)", len);
    return out;
}

int Mspf_diff_text(mctx *m, const char *expected, const char *got)
{
    char *e, *g;
    size_t el, gl, at = 0, from = 0;
    if (!m->diffs)
        return 0;
    el = strlen(expected);
    gl = strlen(got);
    while (at < el && at < gl && expected[at] == got[at])
        at++;
    /* a difference past what the cut shows: show the window around it */
    if (at + 16 > MSPF_DIFF_CUT && (el > MSPF_DIFF_CUT || gl > MSPF_DIFF_CUT)) {
        from = at - 64;
        while (from > 0 && ((unsigned char)expected[from] & 0xC0) == 0x80)
            from--;
    }
    e = cut_window(expected, el, from, MSPF_DIFF_CUT);
    g = cut_window(got, gl, from, MSPF_DIFF_CUT);
    if (e && g && is_auth_field(m->path)) {
        char *re = Mspf_redact_bearer(e), *rg = Mspf_redact_bearer(g);
        free(e);
        free(g);
        e = re;
        g = rg;
    }
    if (e && g && mspf_diffs_add(m->diffs, m->path, e, g) == 0) {
        m->diffs->items[m->diffs->n - 1].at =
            at == el && at == gl ? -1 : (long)at;
        m->diffs->items[m->diffs->n - 1].from = (long)from;
    }
    free(e);
    free(g);
    return 0;
}

/* A value as shown in a difference: a string with its NUL bytes as
 * \u0000, anything else as compact JSON. */
static char *value_text(const mctx *m, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        size_t len;
        const char *s = Mspf_str(m, v, &len);
        return Mspf_quote_bytes(s, len);
    }
    return Mspf_json_text(v);
}

int Mspf_diff_json(mctx *m, const cJSON *expected, const cJSON *got)
{
    char *e, *g;
    if (!m->diffs)
        return 0;
    e = value_text(m, expected);
    g = value_text(m, got);
    if (e && g)
        Mspf_diff_text(m, e, g);
    free(e);
    free(g);
    return 0;
}

int Mspf_diff_bytes(mctx *m, const cJSON *expected, const char *got, size_t len)
{
    char *e, *g;
    if (!m->diffs)
        return 0;
    e = value_text(m, expected);
    g = Mspf_quote_bytes(got, len);
    if (e && g)
        Mspf_diff_text(m, e, g);
    free(e);
    free(g);
    return 0;
}

/* ---- context -------------------------------------------------------- */

void Mspf_mctx_init(mctx *m, const regtab *rt, mspf_diffs *diffs,
                    const char *root)
{
    m->rt = rt;
    m->st[0] = m->st[1] = NULL;
    m->diffs = diffs;
    m->path[0] = '\0';
    m->plen = 0;
    /* the path only names differences: without a list to add them to (a
     * yes/no match, fake-msp's per request), it is never built */
    if (diffs) {
        snprintf(m->path, sizeof(m->path), "%s", root);
        m->plen = strlen(m->path);
    }
}

size_t Mspf_mctx_push_key(mctx *m, const char *key)
{
    if (!m->diffs)
        return m->plen;
    return msp_json_path_push_key(m->path, sizeof(m->path), &m->plen, key);
}

size_t Mspf_mctx_push_index(mctx *m, size_t i)
{
    if (!m->diffs)
        return m->plen;
    return msp_json_path_push_index(m->path, sizeof(m->path), &m->plen, i);
}

void Mspf_mctx_pop(mctx *m, size_t len)
{
    msp_json_path_pop(m->path, &m->plen, len);
}

/* ---- matchers ------------------------------------------------------- */

matcher_kind Mspf_matcher_of(const cJSON *v)
{
    static const char *const names[] = {NULL,   "regex", "same_as",
                                        "json", "type",  "absent"};
    int k;
    if (!cJSON_IsObject(v) || !v->child || v->child->next)
        return M_NONE;
    for (k = M_REGEX; k <= M_ABSENT; k++)
        if (strcmp(v->child->string, names[k]) == 0)
            return (matcher_kind)k;
    return M_NONE;
}

regentry *Mspf_regtab_find(const regtab *t, const cJSON *node)
{
    size_t i;
    for (i = 0; t && i < t->n; i++)
        if (t->items[i].node == node)
            return &t->items[i];
    return NULL;
}

const char *Mspf_str(const mctx *m, const cJSON *v, size_t *len)
{
    size_t i, j;
    for (i = 0; i < 2; i++)
        for (j = 0; m->st[i] && j < m->st[i]->n; j++)
            if (m->st[i]->items[j].node == v) {
                *len = m->st[i]->items[j].len;
                return m->st[i]->items[j].bytes;
            }
    return Mspf_strtab_bytes(NULL, v, len);
}

/* ---- regexes (PCRE2, bounded) ---------------------------------------- */

static _Thread_local unsigned long regex_limit_hits;

unsigned long mspf_regex_limit_hits(void)
{
    return regex_limit_hits;
}

/* The dialect (fixture.h): PCRE2 on bytes, unanchored, '.' matching any
 * byte and '$' only the very end, as POSIX ERE without REG_NEWLINE. */
pcre2_code *Mspf_regex_compile(const char *pattern, char *msg, size_t len)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY |
                                       PCRE2_NEVER_BACKSLASH_C |
                                       PCRE2_NEVER_UTF | PCRE2_NEVER_UCP,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR text[160];
        if (pcre2_get_error_message(code, text, sizeof text) < 0)
            snprintf((char *)text, sizeof text, "error %d", code);
        snprintf(msg, len, "%s at offset %zu", (const char *)text, (size_t)off);
    }
    return re;
}

/* The bounded match context is the same for every match: made once. The
 * match data is per thread (pcre2_match writes it), kept for the thread's
 * life and freed when it ends: a fixture server matches on every request,
 * and two allocations per regex were a tenth of its CPU per request. */
static pthread_once_t regex_once = PTHREAD_ONCE_INIT;
static pcre2_match_context *regex_mc;
static pthread_key_t regex_md_key;
static int regex_md_key_ok;

static void free_match_data(void *md)
{
    pcre2_match_data_free(md);
}

static void regex_init(void)
{
    regex_mc = pcre2_match_context_create(NULL);
    if (regex_mc) {
        pcre2_set_match_limit(regex_mc, MSPF_REGEX_MATCH_LIMIT);
        pcre2_set_depth_limit(regex_mc, MSPF_REGEX_DEPTH_LIMIT);
        pcre2_set_heap_limit(regex_mc, MSPF_REGEX_HEAP_LIMIT_KIB);
    }
    regex_md_key_ok = pthread_key_create(&regex_md_key, free_match_data) == 0;
}

static pcre2_match_data *thread_match_data(void)
{
    pcre2_match_data *md;

    if (!regex_md_key_ok)
        return NULL;
    md = pthread_getspecific(regex_md_key);
    if (!md) {
        md = pcre2_match_data_create(1, NULL);
        if (md && pthread_setspecific(regex_md_key, md) != 0) {
            pcre2_match_data_free(md);
            md = NULL;
        }
    }
    return md;
}

/* 1 match, 0 no match, -1 a limit was hit (counted; a non-match). */
static int run_regex(const pcre2_code *re, const char *text, size_t len)
{
    pcre2_match_data *md;
    int rc = PCRE2_ERROR_NOMEMORY;

    (void)pthread_once(&regex_once, regex_init);
    md = thread_match_data();
    if (regex_mc && md)
        rc = pcre2_match(re, (PCRE2_SPTR)text, len, 0, PCRE2_NO_JIT, md,
                         regex_mc); /* NULs too */
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    regex_limit_hits++; /* match, depth or heap limit, or out of memory */
    return -1;
}

/* Makes e's JIT copy (a copy: pcre2_jit_compile writes the code a
 * concurrent match reads). Without JIT support, or on ENOMEM, e keeps
 * using the interpreter. */
static void make_jit(regentry *e)
{
    pcre2_code *copy = pcre2_code_copy(e->re), *none = NULL;

    if (copy && pcre2_jit_compile(copy, PCRE2_JIT_COMPLETE) == 0 &&
        atomic_compare_exchange_strong(&e->jit, &none, copy))
        return;
    pcre2_code_free(copy);
}

/* As run_regex, through e's JIT copy once there is one; the JIT decides
 * only match or no match, anything else is asked of the interpreter. */
static int run_entry(regentry *e, const char *text, size_t len)
{
    pcre2_code *jit = atomic_load_explicit(&e->jit, memory_order_acquire);
    pcre2_match_data *md;
    int rc;

    if (!jit) {
        if (atomic_fetch_add(&e->uses, 1) + 1 == MSPF_REGEX_JIT_AFTER)
            make_jit(e);
        return run_regex(e->re, text, len);
    }
    (void)pthread_once(&regex_once, regex_init);
    md = thread_match_data();
    if (!regex_mc || !md)
        return run_regex(e->re, text, len);
    rc = pcre2_jit_match(jit, (PCRE2_SPTR)text, len, 0, 0, md, regex_mc);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return run_regex(e->re, text, len);
}

int Mspf_match_regex(const mctx *m, const cJSON *matcher, const char *text,
                     size_t len)
{
    regentry *e = Mspf_regtab_find(m->rt, matcher);
    pcre2_code *tmp;
    char msg[200];
    int ok;
    if (e)
        return run_entry(e, text, len);
    /* not compiled at load (a matcher handed in directly): compile now */
    if (!cJSON_IsString(matcher->child) ||
        strlen(matcher->child->valuestring) > MSPF_REGEX_MAX_LEN ||
        mspf_regex_cost(matcher->child->valuestring) > MSPF_REGEX_MAX_COST)
        return 0;
    tmp = Mspf_regex_compile(matcher->child->valuestring, msg, sizeof msg);
    if (!tmp)
        return 0;
    ok = run_regex(tmp, text, len);
    pcre2_code_free(tmp);
    return ok;
}

/* v's JSON type as an index into type_names, read from its type bits as
 * cJSON_IsBool, _IsNull, _IsNumber, _IsString and _IsArray read them, in
 * that order (anything else counts as an object), without their calls: a
 * fixture server compares the types of every literal of every request. */
static const char *const type_names[] = {
    "(absent)", "boolean", "null", "number", "string", "array", "object"};

static int type_kind(const cJSON *v)
{
    if (!v)
        return 0;
    if (v->type & (cJSON_True | cJSON_False))
        return 1;
    switch (v->type & 0xFF) {
    case cJSON_NULL: return 2;
    case cJSON_Number: return 3;
    case cJSON_String: return 4;
    case cJSON_Array: return 5;
    default: return 6;
    }
}

static const char *type_name(const cJSON *v)
{
    return type_names[type_kind(v)];
}

int Mspf_match_type(mctx *m, const cJSON *example, const cJSON *got)
{
    const cJSON *c;
    int ok = 1;
    size_t i = 0;
    if (!got || strcmp(type_name(example), type_name(got)) != 0)
        return Mspf_diff_text(m, type_name(example), type_name(got));
    if (cJSON_IsObject(example)) {
        cJSON_ArrayForEach(c, example)
        {
            size_t old = Mspf_mctx_push_key(m, c->string);
            ok &= Mspf_match_type(
                m, c, cJSON_GetObjectItemCaseSensitive(got, c->string));
            Mspf_mctx_pop(m, old);
            if (!ok && !m->diffs)
                return 0;
        }
    } else if (cJSON_IsArray(example) && example->child) {
        cJSON_ArrayForEach(c, got)
        {
            size_t old = Mspf_mctx_push_index(m, i++);
            ok &= Mspf_match_type(m, example->child, c);
            Mspf_mctx_pop(m, old);
            if (!ok && !m->diffs)
                return 0;
        }
    }
    return ok;
}

static int match_literal(mctx *m, const cJSON *exp, const cJSON *got);

static int match_object(mctx *m, const cJSON *exp, const cJSON *got)
{
    const cJSON *c;
    int ok = 1;
    cJSON_ArrayForEach(c, exp)
    {
        size_t old = Mspf_mctx_push_key(m, c->string);
        ok &= Mspf_match_value(
            m, c, cJSON_GetObjectItemCaseSensitive(got, c->string));
        Mspf_mctx_pop(m, old);
        if (!ok && !m->diffs)
            return 0;
    }
    cJSON_ArrayForEach(c, got)
    {
        if (!cJSON_GetObjectItemCaseSensitive(exp, c->string)) {
            size_t old = Mspf_mctx_push_key(m, c->string);
            ok = Mspf_diff_json(m, NULL, c);
            Mspf_mctx_pop(m, old);
            if (!m->diffs)
                return 0;
        }
    }
    return ok;
}

static int match_array(mctx *m, const cJSON *exp, const cJSON *got)
{
    const cJSON *e = exp->child, *g = got->child;
    int ok = 1;
    size_t i = 0;
    if (cJSON_GetArraySize(exp) != cJSON_GetArraySize(got)) {
        char a[64], b[64];
        snprintf(a, sizeof(a), "array of %d", cJSON_GetArraySize(exp));
        snprintf(b, sizeof(b), "array of %d", cJSON_GetArraySize(got));
        return Mspf_diff_text(m, a, b);
    }
    for (; e && g; e = e->next, g = g->next) {
        size_t old = Mspf_mctx_push_index(m, i++);
        ok &= Mspf_match_value(m, e, g);
        Mspf_mctx_pop(m, old);
        if (!ok && !m->diffs)
            return 0;
    }
    return ok;
}

static int match_literal(mctx *m, const cJSON *exp, const cJSON *got)
{
    if (!got || type_kind(exp) != type_kind(got))
        return Mspf_diff_json(m, exp, got);
    if (cJSON_IsObject(exp))
        return match_object(m, exp, got);
    if (cJSON_IsArray(exp))
        return match_array(m, exp, got);
    if (cJSON_IsString(exp)) {
        size_t elen, glen;
        const char *e = Mspf_str(m, exp, &elen), *g = Mspf_str(m, got, &glen);
        if (elen == glen && memcmp(e, g, elen) == 0)
            return 1;
        return Mspf_diff_json(m, exp, got);
    }
    if ((cJSON_IsNumber(exp) && exp->valuedouble == got->valuedouble) ||
        (cJSON_IsBool(exp) && exp->type == got->type) || cJSON_IsNull(exp))
        return 1;
    return Mspf_diff_json(m, exp, got);
}

/* {"json": v} against got: a string is parsed as JSON first. */
static int match_json(mctx *m, const cJSON *arg, const cJSON *got)
{
    if (!cJSON_IsString(got))
        return Mspf_match_value(m, arg, got);
    {
        size_t len;
        const char *text = Mspf_str(m, got, &len);
        return Mspf_match_json_text(m, arg, text, len);
    }
}

/* Can a string of this JSON text hold U+0000? Only through a raw NUL byte
 * or a \u escape (cJSON reads "\u0000", and any non-hex digits, as 0):
 * without either, the table of such strings would stay empty, and is not
 * built. Conservative: any \u at all counts. */
static int may_hold_nul(const char *text, size_t len)
{
    const char *p = text, *end = text + len;

    if (!len)
        return 0;
    if (memchr(text, '\0', len))
        return 1;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p >= 2 && p[1] == 'u')
            return 1;
        p += end - p >= 2 ? 2 : 1;
    }
    return 0;
}

int Mspf_match_json_text(mctx *m, const cJSON *arg, const char *text,
                         size_t len)
{
    cJSON *parsed = mspf_cjson_parse(text, len, NULL);
    int ok = Mspf_match_json_doc(m, arg, text, len, parsed);
    cJSON_Delete(parsed);
    return ok;
}

int Mspf_match_json_doc(mctx *m, const cJSON *arg, const char *text, size_t len,
                        const cJSON *parsed)
{
    strtab st = {0};
    const strtab *saved = m->st[1];
    int ok;
    if (!parsed) {
        char *e = Mspf_json_text(arg);
        char *g = Mspf_cut_text(text, len, MSPF_DIFF_CUT);
        size_t msglen = g ? strlen(g) + 16 : 0;
        char *msg = g ? malloc(msglen) : NULL;
        if (msg)
            (void)snprintf(msg, msglen, "not JSON: %s", g);
        if (e && msg)
            Mspf_diff_text(m, e, msg);
        free(e);
        free(g);
        free(msg);
        return 0;
    }
    if (may_hold_nul(text, len) &&
        (ok = Mspf_strtab_build(&st, text, len, parsed)) != 0) {
        Mspf_strtab_free(&st);
        return Mspf_diff_text(m, "(the text, parsed)",
                              ok == MSPF_STRTAB_NOT_JSON
                                  ? "not JSON: a string with a raw control "
                                    "byte or a bad escape"
                                  : "out of memory");
    }
    m->st[1] = &st;
    ok = Mspf_match_value(m, arg, parsed);
    m->st[1] = saved;
    Mspf_strtab_free(&st);
    return ok;
}

int Mspf_match_value(mctx *m, const cJSON *expected, const cJSON *got)
{
    switch (Mspf_matcher_of(expected)) {
    case M_ABSENT: return got ? Mspf_diff_json(m, NULL, got) : 1;
    case M_REGEX: {
        int hit = 0;
        char *e;
        if (cJSON_IsString(got)) {
            size_t len;
            const char *text = Mspf_str(m, got, &len);
            hit = Mspf_match_regex(m, expected, text, len);
        }
        if (hit == 1)
            return 1;
        if (hit == 0)
            return Mspf_diff_json(m, expected, got);
        e = Mspf_json_text(expected);
        if (e)
            Mspf_diff_text(m, e,
                           "(regex match limit hit: treated as no match)");
        free(e);
        return 0;
    }
    case M_JSON:
        if (!got)
            return Mspf_diff_json(m, expected->child, got);
        return match_json(m, expected->child, got);
    case M_TYPE: return Mspf_match_type(m, expected->child, got);
    case M_SAME_AS: /* only meaningful for headers: see check.c */
        return Mspf_diff_json(m, expected, got);
    default: return match_literal(m, expected, got);
    }
}

int mspf_value_matches(const cJSON *expected, const cJSON *got)
{
    mctx m;
    if (!expected)
        return 0;
    Mspf_mctx_init(&m, NULL, NULL, "");
    return Mspf_match_value(&m, expected, got);
}
