/* strict.c — door checks (see strict.h). */
#include "strict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define MAX_DEPTH 64

typedef struct walker {
    const char *p, *end;
    char path[256];
    size_t plen;
    char *msg;
    size_t msglen;
} walker;

static void skip_ws(walker *w)
{
    while (w->p < w->end &&
           (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
        w->p++;
}

static int fail(walker *w, const char *what, const char *name)
{
    if (name)
        snprintf(w->msg, w->msglen, "%s \"%s%s%.100s\"", what, w->path,
                 w->plen ? "." : "", name);
    else
        snprintf(w->msg, w->msglen, "%s \"%s\"", what,
                 w->plen ? w->path : "(body)");
    return -1;
}

/* A decoded member name: its own block (NUL-terminated), its length. */
typedef struct member_name {
    char *p;
    size_t len;
} member_name;

/* Reads the string at w->p ('"') with the kit's one JSON string decoder
 * (msp_util.h: a lone surrogate reads as U+FFFD, so "\ud800" and "\udbff"
 * are the same name). A value is only checked: no U+0000. A name (nm not
 * NULL) is decoded into a new block in *nm, which the caller frees; its
 * NUL is the caller's to refuse, once the name is known. Returns 0, or -1
 * with the message set. */
static int read_string(walker *w, member_name *nm)
{
    char small[256];
    size_t n = (size_t)(w->end - w->p), used, len;
    int rc = msp_json_string_decode(w->p, n, &used, nm ? small : NULL,
                                    nm ? sizeof small : 0, &len,
                                    nm ? 0 : MSP_JSON_STR_NO_NUL);
    if (rc == MSP_JSON_STR_ENUL)
        return fail(w, "NUL in", NULL);
    if (rc != 0) {
        char what[64];
        snprintf(what, sizeof what, "%s in", msp_json_string_strerror(rc));
        return fail(w, what, NULL); /* "a raw control byte in \"a.b\"" */
    }
    if (nm) {
        if (!(nm->p = malloc(len + 1)))
            return fail(w, "out of memory in", NULL);
        if (len <= sizeof small)
            memcpy(nm->p, small, len);
        else /* a long name: decoded again, straight into its block */
            (void)msp_json_string_decode(w->p, n, &used, nm->p, len, &len, 0);
        nm->p[len] = '\0';
        nm->len = len;
    }
    w->p += used;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    const member_name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);

    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Moves to the next member or element of the object or array w->p is in,
 * past white space and commas. Returns 0 at its end (`close`) or the end of
 * the text, 1 otherwise. Inline: every request body runs through it (not
 * inlined, the quick walk costs some 6% more instructions). */
static inline int next_item(walker *w, char close)
{
    for (;;) {
        skip_ws(w);
        if (w->p >= w->end || *w->p == close)
            return 0;
        if (*w->p != ',')
            return 1;
        w->p++;
    }
}

/* Moves past a member name's ':' (and the white space before it). */
static void skip_colon(walker *w)
{
    skip_ws(w);
    if (w->p < w->end && *w->p == ':')
        w->p++;
}

/* Moves past a number, true, false or null (anything up to the next ',',
 * '}' or ']'), and always by at least one byte: callers pass what cJSON
 * took, but nothing must loop on text that is not JSON. */
static void skip_scalar(walker *w)
{
    const char *start = w->p;
    while (w->p < w->end && *w->p != ',' && *w->p != '}' && *w->p != ']')
        w->p++;
    if (w->p == start)
        w->p++;
}

static int value(walker *w, int depth);

static int object(walker *w, int depth)
{
    member_name *names = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0;

    w->p++;
    for (;;) {
        size_t old;
        if (!next_item(w, '}'))
            break;
        if (*w->p != '"') {
            rc = fail(w, "malformed JSON at", NULL);
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            member_name *nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                rc = fail(w, "out of memory in", NULL);
                break;
            }
            names = nn;
            cap = ncap;
        }
        if ((rc = read_string(w, &names[n])) != 0)
            break;
        n++;
        if (memchr(names[n - 1].p, '\0', names[n - 1].len)) {
            rc = fail(w, "NUL in the member name in", NULL);
            break;
        }
        old = w->plen;
        snprintf(w->path + old, sizeof w->path - old, "%s%.*s", old ? "." : "",
                 (int)(names[n - 1].len > 64 ? 64 : names[n - 1].len),
                 names[n - 1].p);
        w->plen = strlen(w->path);
        skip_colon(w);
        rc = value(w, depth + 1);
        w->plen = old;
        w->path[old] = '\0';
        if (rc)
            break;
    }
    if (w->p < w->end && *w->p == '}')
        w->p++;
    if (!rc && n > 1) {
        qsort(names, n, sizeof *names, name_cmp);
        for (i = 1; i < n && !rc; i++)
            if (name_cmp(&names[i - 1], &names[i]) == 0) {
                char nm[100];
                snprintf(nm, sizeof nm, "%.*s",
                         (int)(names[i].len > 64 ? 64 : names[i].len),
                         names[i].p);
                rc = fail(w, "duplicate member", nm);
            }
    }
    for (i = 0; i < n; i++)
        free(names[i].p);
    free(names);
    return rc;
}

static int array(walker *w, int depth)
{
    size_t i = 0;

    w->p++;
    for (;;) {
        size_t old;
        int rc;
        if (!next_item(w, ']'))
            break;
        old = w->plen;
        snprintf(w->path + old, sizeof w->path - old, "[%zu]", i++);
        w->plen = strlen(w->path);
        rc = value(w, depth + 1);
        w->plen = old;
        w->path[old] = '\0';
        if (rc)
            return rc;
    }
    if (w->p < w->end)
        w->p++;
    return 0;
}

static int value(walker *w, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(w, "nesting deeper than 64 levels at", NULL);
    skip_ws(w);
    if (w->p >= w->end)
        return 0;
    switch (*w->p) {
    case '{': return object(w, depth);
    case '[': return array(w, depth);
    case '"': return read_string(w, NULL);
    default: skip_scalar(w); return 0;
    }
}

/* ---- the common case, fast ------------------------------------------
 * Every execute request goes through fm_json_strict, and nearly every body
 * is small and plain: no escaped member name, no \u escape, a few members
 * per object. quick_value() walks such text the way value() does, without
 * decoding, allocating or building paths, and answers 1 only when value()
 * would pass it; anything else (a \u escape, an escape JSON does not have
 * or a raw control byte in a string, an escaped or repeated member name,
 * more than QUICK_NAMES members in one object, nesting past MAX_DEPTH, an
 * unterminated string) gets 0, and the full walk decides and words the
 * message. */
#define QUICK_NAMES 16

static int quick_value(walker *w, int depth);

/* w->p at '"': moves past the closing quote; 0 when unsure. */
static int quick_string(walker *w, int is_name)
{
    for (w->p++; w->p < w->end && *w->p != '"'; w->p++) {
        if ((unsigned char)*w->p < 0x20)
            return 0; /* a raw control byte: refused by the full walk */
        if (*w->p == '\\') {
            if (is_name || w->end - w->p < 2 ||
                !memchr("\"\\/bfnrt", w->p[1], 8))
                return 0; /* \u, or an escape JSON does not have */
            w->p++;
        }
    }
    if (w->p >= w->end)
        return 0;
    w->p++;
    return 1;
}

static int quick_object(walker *w, int depth)
{
    const char *name[QUICK_NAMES];
    size_t len[QUICK_NAMES], n = 0, i;

    w->p++;
    for (;;) {
        const char *start;
        if (!next_item(w, '}'))
            break;
        if (*w->p != '"' || n == QUICK_NAMES)
            return 0;
        start = w->p + 1;
        if (!quick_string(w, 1))
            return 0;
        for (i = 0; i < n; i++)
            if (len[i] == (size_t)(w->p - 1 - start) &&
                memcmp(name[i], start, len[i]) == 0)
                return 0;
        name[n] = start;
        len[n++] = (size_t)(w->p - 1 - start);
        skip_colon(w);
        if (!quick_value(w, depth + 1))
            return 0;
    }
    if (w->p < w->end && *w->p == '}')
        w->p++;
    return 1;
}

static int quick_array(walker *w, int depth)
{
    w->p++;
    while (next_item(w, ']'))
        if (!quick_value(w, depth + 1))
            return 0;
    if (w->p < w->end)
        w->p++;
    return 1;
}

static int quick_value(walker *w, int depth)
{
    if (depth > MAX_DEPTH)
        return 0;
    skip_ws(w);
    if (w->p >= w->end)
        return 1;
    switch (*w->p) {
    case '{': return quick_object(w, depth);
    case '[': return quick_array(w, depth);
    case '"': return quick_string(w, 0);
    default: skip_scalar(w); return 1;
    }
}

int fm_json_strict(const char *json, size_t len, char *msg, size_t msglen)
{
    walker w;

    memset(&w, 0, sizeof w);
    w.p = json;
    w.end = json + len;
    if (quick_value(&w, 0))
        return 0;
    w.p = json;
    w.msg = msg;
    w.msglen = msglen;
    return value(&w, 0);
}

static int name_allowed(const char *name, size_t n, const char *bound,
                        int loopback)
{
    static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
    size_t i, bl = strlen(bound);

    if (strchr(bound, ':')) { /* an IPv6 address is written in brackets */
        if (n == bl + 2 && name[0] == '[' && name[n - 1] == ']' &&
            strncasecmp(name + 1, bound, bl) == 0)
            return 1;
    } else if (n == bl && strncasecmp(name, bound, n) == 0) {
        return 1;
    }
    for (i = 0; loopback && i < sizeof local / sizeof local[0]; i++)
        if (n == strlen(local[i]) && strncasecmp(name, local[i], n) == 0)
            return 1;
    return 0;
}

int fm_host_allowed(const char *value, const char *bound_host,
                    unsigned short port, int loopback)
{
    const char *colon = value ? strrchr(value, ':') : NULL;
    char want[8];

    if (!colon || (value[0] == '[' && strchr(colon, ']')))
        return 0; /* no port: the port is part of what is checked */
    snprintf(want, sizeof want, "%u", (unsigned)port);
    if (strcmp(colon + 1, want) != 0)
        return 0;
    return name_allowed(value, (size_t)(colon - value), bound_host, loopback);
}

int fm_origin_allowed(const char *value, const char *bound_host,
                      unsigned short port, int loopback)
{
    if (strncasecmp(value, "http://", 7) == 0)
        return fm_host_allowed(value + 7, bound_host, port, loopback);
    if (strncasecmp(value, "https://", 8) == 0)
        return fm_host_allowed(value + 8, bound_host, port, loopback);
    return 0;
}

int fm_secret_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i;
    unsigned char d = la != lb;

    for (i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

int fm_content_type_json(const char *v)
{
    size_t n = strlen("application/json");

    if (!v)
        return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, "application/json", n) != 0)
        return 0;
    v += n;
    while (*v == ' ' || *v == '\t')
        v++;
    return *v == '\0' || *v == ';';
}
