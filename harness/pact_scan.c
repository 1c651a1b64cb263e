/*
 * pact_scan.c — the strict JSON check import runs before cJSON sees a pact
 * (or a JSON body carried as a string): it says where the text stops being
 * JSON, refuses nesting past HX_PACT_DEPTH_MAX, and marks each interaction
 * holding a string cJSON cannot carry unchanged — a NUL (cJSON ends the
 * string there) or bytes that are not UTF-8 (written back, they would make
 * a fixture that is not JSON).
 */
#include "pact.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_util.h"

typedef struct scan {
    const unsigned char *start, *p, *end;
    int depth;
    long cur; /* the interaction being read, or -1 */
    int seen; /* the top-level "interactions" member was read */
    hx_pact_scan *out;
} scan;

static int fail(scan *s, const char *what)
{
    snprintf(s->out->error, sizeof s->out->error, "%s at offset %zu", what,
             (size_t)(s->p - s->start));
    return -1;
}

static void mark(scan *s, unsigned flag)
{
    hx_pact_scan *o = s->out;
    if (s->cur < 0) {
        o->outside |= flag;
        return;
    }
    size_t i = (size_t)s->cur;
    if (i >= o->n_flags) {
        size_t n = o->n_flags ? o->n_flags : 64;
        while (n <= i)
            n *= 2;
        unsigned char *g = realloc(o->flags, n);
        if (!g) {
            o->outside |= flag; /* still refused, as a whole */
            return;
        }
        memset(g + o->n_flags, 0, n - o->n_flags);
        o->flags = g;
        o->n_flags = n;
    }
    o->flags[i] |= (unsigned char)flag;
}

static void skip_ws(scan *s)
{
    while (s->p < s->end &&
           (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int hex4(scan *s, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++, s->p++) {
        if (s->p >= s->end)
            return fail(s, "a \\u escape cut short");
        unsigned c = *s->p, d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return fail(s, "a \\u escape that is not hexadecimal");
        *v = *v * 16 + d;
    }
    return 0;
}

/* A string; *key_is_interactions when it spells exactly "interactions". */
static int string(scan *s, int *key_is_interactions)
{
    /* the string decoded, as far as "interactions" goes (cJSON finds the
     * member however it is escaped) */
    char key[16];
    size_t klen = 0;
    int plain = 1; /* every character so far fits the comparison */
    s->p++;        /* past the quote */
    for (;;) {
        if (s->p >= s->end)
            return fail(s, "a string cut short");
        unsigned c = *s->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(s, "a control byte inside a string");
        if (c >= 0x80) {
            plain = 0;
            size_t n = msp_utf8_seq(s->p, (size_t)(s->end - s->p));
            if (n == 0) {
                mark(s, HX_PACT_SCAN_NOT_UTF8);
                s->p++;
            } else {
                s->p += n;
            }
            continue;
        }
        if (c != '\\') {
            if (klen < sizeof key)
                key[klen] = (char)c;
            klen++;
            s->p++;
            continue;
        }
        if (++s->p >= s->end)
            return fail(s, "a string cut short");
        c = *s->p;
        if (c != 'u') {
            if (!strchr("\"\\/bfnrt", (int)c))
                return fail(s, "an unknown escape in a string");
            plain = 0; /* no such character in "interactions" */
            s->p++;
            continue;
        }
        s->p++;
        unsigned v, lo;
        if (hex4(s, &v) != 0)
            return -1;
        if (v == 0)
            mark(s, HX_PACT_SCAN_NUL);
        if (v >= 0x80)
            plain = 0;
        else if (klen < sizeof key)
            key[klen] = (char)v;
        klen++;
        if (v >= 0xdc00 && v <= 0xdfff)
            return fail(s, "a lone UTF-16 low surrogate");
        if (v >= 0xd800 && v <= 0xdbff) {
            if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
                return fail(s, "a lone UTF-16 high surrogate");
            s->p += 2;
            if (hex4(s, &lo) != 0)
                return -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return fail(s, "a lone UTF-16 high surrogate");
        }
    }
    if (key_is_interactions)
        *key_is_interactions =
            plain && klen == 12 && memcmp(key, "interactions", 12) == 0;
    s->p++; /* the closing quote */
    return 0;
}

static int digits(scan *s)
{
    const unsigned char *from = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return s->p > from ? 0 : fail(s, "a number without digits");
}

static int number(scan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (digits(s) != 0)
        return -1;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (digits(s) != 0)
            return -1;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (digits(s) != 0)
            return -1;
    }
    return 0;
}

enum {
    PLAIN,
    TOP,
    INTERACTIONS
};

static int value(scan *s, int role);

static int container(scan *s, int role)
{
    int object = *s->p == '{';
    unsigned char close = object ? '}' : ']';
    if (++s->depth > HX_PACT_DEPTH_MAX) {
        snprintf(s->out->error, sizeof s->out->error,
                 "too deep (more than %d levels of nesting) at offset %zu",
                 HX_PACT_DEPTH_MAX, (size_t)(s->p - s->start));
        return -1;
    }
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    for (long i = 0;; i++) {
        int child = PLAIN;
        if (object) {
            int is_list = 0;
            if (s->p >= s->end || *s->p != '"')
                return fail(s, s->p >= s->end ? "the text ends inside an object"
                                              : "a member name expected");
            if (string(s, &is_list) != 0)
                return -1;
            if (role == TOP && is_list && !s->seen) {
                s->seen = 1;
                child = INTERACTIONS;
            }
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return fail(s, "':' expected");
            s->p++;
        }
        long outer = s->cur;
        if (role == INTERACTIONS)
            s->cur = i;
        int rc = value(s, child);
        s->cur = outer;
        if (rc != 0)
            return -1;
        skip_ws(s);
        if (s->p >= s->end)
            return fail(s, object ? "the text ends inside an object"
                                  : "the text ends inside an array");
        if (*s->p == close) {
            s->p++;
            s->depth--;
            return 0;
        }
        if (*s->p != ',')
            return fail(s,
                        object ? "',' or '}' expected" : "',' or ']' expected");
        s->p++;
        skip_ws(s);
    }
}

static int value(scan *s, int role)
{
    skip_ws(s);
    if (s->p >= s->end)
        return fail(s, "the text ends where a value was expected");
    unsigned c = *s->p;
    if (c == '{')
        return container(s, role == TOP ? TOP : PLAIN);
    if (c == '[')
        return container(s, role == INTERACTIONS ? INTERACTIONS : PLAIN);
    if (c == '"')
        return string(s, NULL);
    if (c == '-' || (c >= '0' && c <= '9'))
        return number(s);
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, words[i], n) == 0) {
            s->p += n;
            return 0;
        }
    }
    return fail(s, "a JSON value expected");
}

int hx_pact_scan_text(const char *text, size_t len, hx_pact_scan *out)
{
    memset(out, 0, sizeof *out);
    scan s = {.start = (const unsigned char *)text,
              .p = (const unsigned char *)text,
              .end = (const unsigned char *)text + len,
              .cur = -1,
              .out = out};
    skip_ws(&s);
    if (s.p == s.end) {
        snprintf(out->error, sizeof out->error, "empty (no JSON value)");
        return -1;
    }
    if (value(&s, TOP) != 0)
        return -1;
    skip_ws(&s);
    if (s.p != s.end)
        return fail(&s, "more text after the JSON value");
    return 0;
}

unsigned hx_pact_scan_flags(const hx_pact_scan *sc, size_t index)
{
    return index < sc->n_flags ? (unsigned)sc->flags[index] : 0u;
}

void hx_pact_scan_free(hx_pact_scan *sc)
{
    free(sc->flags);
    sc->flags = NULL;
    sc->n_flags = 0;
}
