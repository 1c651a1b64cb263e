/*
 * strtab.c — the exact bytes of JSON strings that hold a NUL.
 *
 * cJSON decodes "a\u0000b" into the C string "a": every later strcmp,
 * strlen or print sees only the bytes before the NUL. So that a fixture can
 * pin a NUL (and an expectation differing only after one fails), the text a
 * document was parsed from is walked once in step with cJSON's tree (which
 * keeps document order); each string node holding a NUL gets its whole
 * decoded value and length recorded here. Strings without a NUL (nearly
 * all) are not recorded: their valuestring is already exact.
 */
#include <stdlib.h>
#include <string.h>

#include "executor/msp_util.h"
#include "fixture_internal.h"

typedef struct walker {
    const char *s;
    size_t len;
    size_t i;
    strtab *t;           /* where NUL strings go, or NULL */
    const cJSON *target; /* the node whose span is wanted, or NULL */
    size_t start, end;   /* its span, once found */
    int found;
} walker;

/* cJSON counts every byte <= 0x20 as whitespace. */
static void skip_space(walker *w)
{
    while (w->i < w->len && (unsigned char)w->s[w->i] <= 0x20)
        w->i++;
}

/* w->i at an opening quote: moves past the closing one. */
static void skip_string(walker *w)
{
    for (w->i++; w->i < w->len && w->s[w->i] != '"'; w->i++)
        if (w->s[w->i] == '\\')
            w->i++;
    if (w->i < w->len)
        w->i++;
}

/* w->i at the opening quote of string node `node` (NULL: a member name):
 * records its whole decoded bytes and moves past it. Returns 0, or -1 on
 * ENOMEM. */
static int record(walker *w, const cJSON *node)
{
    strtab *t = w->t;
    const char *lit = w->s + w->i;
    size_t avail = w->len - w->i, used, n;
    char *bytes;

    if (msp_json_string_decode(lit, avail, &used, NULL, 0, &n, 0) != 0 ||
        !(bytes = malloc(n + 1)))
        return -1;
    (void)msp_json_string_decode(lit, avail, &used, bytes, n, &n, 0);
    bytes[n] = '\0';
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 4;
        strentry *items = realloc(t->items, cap * sizeof(*items));
        if (!items) {
            free(bytes);
            return -1;
        }
        t->items = items;
        t->cap = cap;
    }
    t->items[t->n].node = node;
    t->items[t->n].len = n;
    t->items[t->n].bytes = bytes;
    t->n++;
    w->i += used;
    return 0;
}

/* w->i at an opening quote: moves past the closing one. With a table, the
 * literal is read by the kit's one JSON string decoder (msp_util.h): one it
 * refuses (cJSON let raw control bytes and \u00g0 through) fails the walk
 * with MSPF_STRTAB_NOT_JSON, and a value (node not NULL) holding U+0000 is
 * recorded. */
static int read_string(walker *w, const cJSON *node)
{
    size_t used, n;
    int rc;

    if (!w->t) {
        skip_string(w);
        return 0;
    }
    rc = msp_json_string_decode(w->s + w->i, w->len - w->i, &used, NULL, 0, &n,
                                node ? MSP_JSON_STR_NO_NUL : 0);
    if (rc == MSP_JSON_STR_ENUL)
        return record(w, node);
    if (rc != 0)
        return MSPF_STRTAB_NOT_JSON;
    w->i += used;
    return 0;
}

static int walk(walker *w, const cJSON *node)
{
    size_t start;
    int rc = 0;
    skip_space(w);
    start = w->i;
    if (w->i >= w->len)
        return 0; /* cut short: cJSON accepted it, so nothing left to find */
    if (cJSON_IsString(node)) {
        rc = read_string(w, node);
    } else if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
        const cJSON *c;
        w->i++; /* { or [ */
        for (c = node->child; c && rc == 0; c = c->next) {
            skip_space(w);
            if (cJSON_IsObject(node)) {
                if ((rc = read_string(w, NULL)) != 0) /* the member name */
                    break;
                skip_space(w);
                w->i++; /* : */
            }
            rc = walk(w, c);
            skip_space(w);
            if (w->i < w->len && w->s[w->i] == ',')
                w->i++;
        }
        skip_space(w);
        w->i++; /* } or ] */
    } else {    /* number, true, false, null */
        while (w->i < w->len && (unsigned char)w->s[w->i] > 0x20 &&
               !strchr(",]}", w->s[w->i]))
            w->i++;
    }
    if (w->i > w->len)
        w->i = w->len;
    if (node == w->target) {
        w->start = start;
        w->end = w->i;
        w->found = 1;
    }
    return rc;
}

static void skip_bom(walker *w)
{
    if (w->len >= 3 && memcmp(w->s, "\xEF\xBB\xBF", 3) == 0)
        w->i = 3;
}

int Mspf_strtab_build(strtab *t, const char *json, size_t len,
                      const cJSON *root)
{
    walker w = {.s = json, .len = len, .t = t};
    if (!json || !root)
        return 0;
    skip_bom(&w);
    return walk(&w, root);
}

void Mspf_strtab_free(strtab *t)
{
    size_t i;
    if (!t)
        return;
    for (i = 0; i < t->n; i++)
        free(t->items[i].bytes);
    free(t->items);
    memset(t, 0, sizeof(*t));
}

const char *Mspf_strtab_bytes(const strtab *t, const cJSON *v, size_t *len)
{
    size_t i;
    for (i = 0; t && i < t->n; i++)
        if (t->items[i].node == v) {
            *len = t->items[i].len;
            return t->items[i].bytes;
        }
    *len = v && v->valuestring ? strlen(v->valuestring) : 0;
    return v && v->valuestring ? v->valuestring : "";
}

static int subtree_has(const cJSON *v, const cJSON *node)
{
    const cJSON *c;
    if (v == node)
        return 1;
    for (c = v->child; c; c = c->next)
        if (subtree_has(c, node))
            return 1;
    return 0;
}

int Mspf_strtab_within(const strtab *t, const cJSON *v)
{
    size_t i;
    for (i = 0; t && v && i < t->n; i++)
        if (subtree_has(v, t->items[i].node))
            return 1;
    return 0;
}

int Mspf_json_span(const char *json, size_t len, const cJSON *root,
                   const cJSON *target, size_t *start, size_t *end)
{
    walker w = {.s = json, .len = len, .target = target};
    skip_bom(&w);
    (void)walk(&w, root);
    if (!w.found)
        return -1;
    *start = w.start;
    *end = w.end;
    return 0;
}

size_t Mspf_json_compact(const char *json, size_t len, char *out)
{
    size_t i = 0, n = 0;
    while (i < len) {
        if (json[i] == '"') {
            size_t s = i;
            walker w = {.s = json, .len = len, .i = i};
            skip_string(&w);
            i = w.i;
            memcpy(out + n, json + s, i - s);
            n += i - s;
        } else if ((unsigned char)json[i] <= 0x20) {
            i++;
        } else {
            out[n++] = json[i++];
        }
    }
    return n;
}

char *Mspf_quote_bytes(const char *s, size_t len)
{
    /* cJSON escapes each NUL-free run; the runs are joined with \u0000 */
    size_t cap = 3, n = 0, i = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[n++] = '"';
    while (i <= len) {
        size_t run = strnlen(s + i, len - i);
        char *seg = malloc(run + 1), *q;
        cJSON *str;
        size_t qlen;
        if (!seg) {
            free(out);
            return NULL;
        }
        memcpy(seg, s + i, run);
        seg[run] = '\0';
        str = cJSON_CreateString(seg);
        free(seg);
        q = str ? cJSON_PrintUnformatted(str) : NULL;
        cJSON_Delete(str);
        qlen = q ? strlen(q) : 0;
        if (!q || qlen < 2) {
            cJSON_free(q);
            free(out);
            return NULL;
        }
        {
            char *grown = realloc(out, cap + qlen + 8);
            if (!grown) {
                cJSON_free(q);
                free(out);
                return NULL;
            }
            out = grown;
            cap += qlen + 8;
        }
        memcpy(out + n, q + 1, qlen - 2);
        n += qlen - 2;
        cJSON_free(q);
        i += run;
        if (i < len) {
            memcpy(out + n, "\\u0000", 6);
            n += 6;
        }
        i++;
    }
    out[n++] = '"';
    out[n] = '\0';
    return out;
}

cJSON *mspf_cjson_parse(const char *text, size_t len, const char **end)
{
    const char *cend = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &cend, 0);
    char *copy;

    if (!root && len && (copy = malloc(len)) != NULL) {
        memcpy(copy, text, len);
        if (msp_json_fffd_lone_surrogates(copy, len) > 0) {
            root = cJSON_ParseWithLengthOpts(copy, len, &cend, 0);
            if (cend)
                cend = text + (cend - copy);
        }
        free(copy);
    }
    if (end)
        *end = cend;
    return root;
}

/* ---- public: a document read with its exact text --------------------- */

struct mspf_json {
    cJSON *root;
    strtab st;
    char *text;
    size_t len;
};

int mspf_json_parse(const char *text, size_t len, mspf_json **out)
{
    mspf_json *d;
    const char *end = NULL;
    if (!text || !out)
        return -1;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -1;
    d->root = mspf_cjson_parse(text, len, &end);
    if (d->root) /* only whitespace may follow the value */
        while (end < text + len && (unsigned char)*end <= 0x20 && *end)
            end++;
    d->text = d->root ? malloc(len + 1) : NULL;
    if (!d->root || end < text + len || !d->text ||
        Mspf_strtab_build(&d->st, text, len, d->root) != 0) {
        mspf_json_free(d);
        return -1;
    }
    memcpy(d->text, text, len);
    d->text[len] = '\0';
    d->len = len;
    *out = d;
    return 0;
}

const cJSON *mspf_json_root(const mspf_json *d)
{
    return d ? d->root : NULL;
}

const char *mspf_json_string(const mspf_json *d, const cJSON *v, size_t *len)
{
    if (!cJSON_IsString(v)) {
        *len = 0;
        return NULL;
    }
    return Mspf_strtab_bytes(d ? &d->st : NULL, v, len);
}

const char *mspf_json_value_text(const mspf_json *d, const cJSON *v,
                                 size_t *len)
{
    size_t start, end;
    if (!d || !v || Mspf_json_span(d->text, d->len, d->root, v, &start, &end))
        return NULL;
    *len = end - start;
    return d->text + start;
}

void mspf_json_free(mspf_json *d)
{
    if (!d)
        return;
    cJSON_Delete(d->root);
    Mspf_strtab_free(&d->st);
    free(d->text);
    free(d);
}

char *mspf_json_quote(const char *s, size_t len)
{
    return Mspf_quote_bytes(s, len);
}
