/*
 * scrub.c — every spelling of every key, found in one pass (see scrub.h).
 *
 * The spellings are folded to lower case and put in a trie; the trie is
 * completed into a deterministic automaton (Aho–Corasick: a missing edge
 * follows the failure link), over an alphabet of the byte classes the
 * needles use (class 0: every other byte), upper- and lower-case letters
 * sharing a class. Each state knows the longest needle ending there, so a
 * walk over the input yields, at each byte, the longest match ending at it;
 * the matches are merged into stretches and the output written once.
 */
#include "scrub.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_util.h"

struct fm_scrub {
    unsigned char cls[256];   /* byte -> class; 0: in no needle */
    unsigned char first[256]; /* 1: a needle starts with this byte */
    size_t k;                 /* classes, class 0 included */
    uint32_t *delta;          /* n_nodes * k */
    uint32_t *maxlen;         /* longest needle ending in the state */
    size_t n_nodes;
    size_t n_needles;
    int blank; /* a byte in no needle (blanks placeholders), or -1 */
};

/* ---- the spellings of one key ----------------------------------------- */

typedef struct needles {
    char **s;
    size_t *len;
    size_t n, cap;
} needles;

static int add_needle(needles *nd, char *s, size_t len)
{
    size_t i;

    if (!s)
        return -1;
    if (len == 0) {
        free(s);
        return 0;
    }
    for (i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
    if (nd->n == nd->cap) {
        size_t ncap = nd->cap ? nd->cap * 2 : 32;
        char **ns = realloc(nd->s, ncap * sizeof *ns);
        size_t *nl;
        if (!ns) {
            free(s);
            return -1;
        }
        nd->s = ns;
        nl = realloc(nd->len, ncap * sizeof *nl);
        if (!nl) {
            free(s);
            return -1;
        }
        nd->len = nl;
        nd->cap = ncap;
    }
    nd->s[nd->n] = s;
    nd->len[nd->n++] = len;
    return 0;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* style 'j': \u00xx, 'u': %xx, 'h': xx; all: every byte, else only bytes
 * outside the URL's unreserved set ('/' as "\/" for style 's'). */
static char *escape(const unsigned char *key, size_t n, char style, int all,
                    size_t *out_len)
{
    static const char hex[] = "0123456789abcdef";
    char *out = malloc(n * 6 + 1), *o = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = key[i];
        if (style == 's') {
            if (c == '/')
                *o++ = '\\';
            *o++ = (char)c;
            continue;
        }
        if (!all && unreserved(c)) {
            *o++ = (char)c;
            continue;
        }
        if (style == 'j') {
            memcpy(o, "\\u00", 4);
            o += 4;
        } else if (style == 'u') {
            *o++ = '%';
        }
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
    }
    *o = '\0';
    *out_len = (size_t)(o - out);
    return out;
}

/* The base64 characters that stand for key alone when it starts at byte
 * offset `align` (0..2) of a longer run: the characters whose six bits all
 * come from the key. url: the base64url alphabet. */
static char *b64_core(const unsigned char *key, size_t n, unsigned align,
                      int url, size_t *out_len)
{
    unsigned flags = MSP_B64_NOPAD | (url ? MSP_B64_URL : 0u);
    size_t from = (8 * align + 5) / 6, to = 8 * (align + n) / 6;
    size_t cap = msp_base64_encoded_len(align + n, flags) + 1, k = 0;
    unsigned char *run = malloc(align + n);
    char *out = malloc(cap);

    if (!run || !out) {
        free(run);
        free(out);
        return NULL;
    }
    /* the key behind align zero bytes, encoded whole; then only the
     * characters made of key bits alone are kept */
    memset(run, 0, align);
    memcpy(run + align, key, n);
    if (msp_base64_encode(run, align + n, flags, out, cap) >= 0 && to > from) {
        k = to - from;
        memmove(out, out + from, k);
    }
    explicit_bzero(out + k, cap - k);
    explicit_bzero(run, align + n);
    free(run);
    *out_len = k;
    return out;
}

static int spellings(needles *nd, const unsigned char *key, size_t n)
{
    size_t len = 0;
    unsigned a;
    int rc = 0;
    char *raw = malloc(n + 1);

    if (raw)
        memcpy(raw, key, n);
    rc |= add_needle(nd, raw, n);
    raw = escape(key, n, 'j', 1, &len);
    rc |= add_needle(nd, raw, len);
    if (memchr(key, '/', n)) {
        raw = escape(key, n, 's', 1, &len);
        rc |= add_needle(nd, raw, len);
    }
    raw = escape(key, n, 'u', 1, &len);
    rc |= add_needle(nd, raw, len);
    raw = escape(key, n, 'u', 0, &len);
    rc |= add_needle(nd, raw, len);
    raw = escape(key, n, 'h', 1, &len);
    rc |= add_needle(nd, raw, len);
    for (a = 0; a < 3; a++) {
        raw = b64_core(key, n, a, 0, &len);
        rc |= add_needle(nd, raw, len);
        raw = b64_core(key, n, a, 1, &len);
        rc |= add_needle(nd, raw, len);
    }
    return rc ? -1 : 0;
}

static void needles_free(needles *nd)
{
    size_t i;

    for (i = 0; i < nd->n; i++)
        free(nd->s[i]);
    free(nd->s);
    free(nd->len);
}

/* ---- the automaton ----------------------------------------------------- */

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Inserts the needles into a trie whose missing edges are UINT32_MAX. */
static int build_trie(fm_scrub *s, const needles *nd)
{
    size_t total = 1, i, j;

    for (i = 0; i < nd->n; i++)
        total += nd->len[i];
    s->delta = malloc(total * s->k * sizeof *s->delta);
    s->maxlen = calloc(total, sizeof *s->maxlen);
    if (!s->delta || !s->maxlen)
        return -1;
    memset(s->delta, 0xff, total * s->k * sizeof *s->delta);
    s->n_nodes = 1;
    for (i = 0; i < nd->n; i++) {
        uint32_t u = 0;
        for (j = 0; j < nd->len[i]; j++) {
            uint32_t *e =
                &s->delta[u * s->k + s->cls[(unsigned char)nd->s[i][j]]];
            if (*e == UINT32_MAX)
                *e = (uint32_t)s->n_nodes++;
            u = *e;
        }
        if (s->maxlen[u] < nd->len[i])
            s->maxlen[u] = (uint32_t)nd->len[i];
    }
    return 0;
}

/* Completes the trie: breadth first, a missing edge takes the failure
 * state's edge, and each state inherits the failure state's longest
 * match. */
static int complete(fm_scrub *s)
{
    uint32_t *queue = malloc(s->n_nodes * sizeof *queue),
             *fail = calloc(s->n_nodes, sizeof *fail);
    size_t head = 0, tail = 0, c;

    if (!queue || !fail) {
        free(queue);
        free(fail);
        return -1;
    }
    for (c = 0; c < s->k; c++) {
        uint32_t v = s->delta[c];
        if (v == UINT32_MAX || v == 0) {
            s->delta[c] = 0;
        } else {
            fail[v] = 0;
            queue[tail++] = v;
        }
    }
    while (head < tail) {
        uint32_t u = queue[head++];
        if (s->maxlen[u] < s->maxlen[fail[u]])
            s->maxlen[u] = s->maxlen[fail[u]];
        for (c = 0; c < s->k; c++) {
            uint32_t v = s->delta[u * s->k + c];
            uint32_t f = s->delta[fail[u] * s->k + c];
            if (v == UINT32_MAX) {
                s->delta[u * s->k + c] = f;
            } else {
                fail[v] = f;
                queue[tail++] = v;
            }
        }
    }
    free(queue);
    free(fail);
    return 0;
}

fm_scrub *fm_scrub_new(const char *const *keys, size_t n, size_t min_len)
{
    fm_scrub *s;
    needles nd = {0};
    size_t i, j;
    int rc = 0;

    if (n > FM_SCRUB_MAX_KEYS)
        return NULL;
    for (i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(keys[i]);
        if (len > FM_SCRUB_MAX_KEY)
            rc = -1;
        else if (len >= min_len && len > 0)
            rc = spellings(&nd, (const unsigned char *)keys[i], len);
    }
    s = rc == 0 ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        needles_free(&nd);
        return NULL;
    }
    s->k = 1;
    for (i = 0; i < nd.n; i++)
        for (j = 0; j < nd.len[i]; j++) {
            unsigned char c = (unsigned char)nd.s[i][j];
            if (!s->cls[c])
                s->cls[c] = (unsigned char)s->k++;
        }
    for (i = 'A'; i <= 'Z'; i++)
        s->cls[i] = s->cls[fold((unsigned char)i)];
    for (i = 0; i < nd.n; i++) {
        unsigned char c = (unsigned char)nd.s[i][0];
        s->first[c] = s->first[c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c] = 1;
    }
    s->n_needles = nd.n;
    s->blank = -1;
    for (i = 1; i < 256 && s->blank < 0; i++)
        if (!s->cls[i])
            s->blank = (int)i;
    if (build_trie(s, &nd) != 0 || complete(s) != 0) {
        needles_free(&nd);
        fm_scrub_free(s);
        return NULL;
    }
    needles_free(&nd);
    return s;
}

void fm_scrub_free(fm_scrub *s)
{
    if (!s)
        return;
    free(s->delta);
    free(s->maxlen);
    free(s);
}

size_t fm_scrub_needles(const fm_scrub *s)
{
    return s ? s->n_needles : 0;
}

/* The next match at or after *i: returns the longest needle length ending
 * at the byte before the new *i, 0 at the end of the input. *state carries
 * the automaton between calls. */
static size_t next_match(const fm_scrub *s, const unsigned char *buf,
                         size_t len, size_t *i, uint32_t *state)
{
    size_t at = *i;
    uint32_t u = *state;

    while (at < len) {
        if (u == 0) /* the prefilter: skip to a byte a needle starts with */
            while (at < len && !s->first[buf[at]])
                at++;
        if (at == len)
            break;
        u = s->delta[u * s->k + s->cls[buf[at++]]];
        if (s->maxlen[u]) {
            *i = at;
            *state = u;
            return s->maxlen[u];
        }
    }
    *i = at;
    *state = u;
    return 0;
}

int fm_scrub_has(const fm_scrub *s, const unsigned char *buf, size_t len)
{
    size_t i = 0;
    uint32_t u = 0;

    return s && s->n_needles && next_match(s, buf, len, &i, &u) ? 1 : 0;
}

typedef struct span {
    size_t from, to;
} span;

/* Writes buf with each span replaced by the placeholder. */
static unsigned char *rewrite(const unsigned char *buf, size_t len,
                              const span *sp, size_t n, size_t *out_len)
{
    static const char ph[] = FM_SCRUB_PLACEHOLDER;
    size_t covered = 0, i, at = 0, o = 0, total;
    unsigned char *out;

    for (i = 0; i < n; i++)
        covered += sp[i].to - sp[i].from;
    total = len - covered + n * (sizeof ph - 1);
    out = malloc(total + 1);
    if (!out)
        return NULL;
    for (i = 0; i < n; i++) {
        memcpy(out + o, buf + at, sp[i].from - at);
        o += sp[i].from - at;
        memcpy(out + o, ph, sizeof ph - 1);
        o += sizeof ph - 1;
        at = sp[i].to;
    }
    memcpy(out + o, buf + at, len - at);
    o += len - at;
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* Finds the spans of buf (searched as `hay`, of the same length) and
 * writes buf with them replaced. */
static int run(const fm_scrub *s, const unsigned char *hay,
               const unsigned char *buf, size_t len, unsigned char **out,
               size_t *out_len);

int fm_scrub_run(const fm_scrub *s, const unsigned char *buf, size_t len,
                 unsigned char **out, size_t *out_len)
{
    return run(s, buf, buf, len, out, out_len);
}

/* A copy of buf with every placeholder blanked (bytes of no needle); NULL
 * when buf has none (*none = 1) or on ENOMEM (*none = 0). */
static unsigned char *blanked(const fm_scrub *s, const unsigned char *buf,
                              size_t len, int *none)
{
    static const char ph[] = FM_SCRUB_PLACEHOLDER;
    const size_t pl = sizeof ph - 1;
    unsigned char *copy = NULL;
    size_t i = 0;

    *none = 1;
    while (i + pl <= len) {
        const unsigned char *p = memchr(buf + i, '[', len - i - pl + 1);
        if (!p)
            break;
        i = (size_t)(p - buf);
        if (memcmp(p, ph, pl) != 0) {
            i++;
            continue;
        }
        if (!copy) {
            *none = 0;
            if (!(copy = malloc(len ? len : 1)))
                return NULL;
            memcpy(copy, buf, len);
        }
        memset(copy + i, s->blank, pl);
        i += pl;
    }
    return copy;
}

int fm_scrub_run_again(const fm_scrub *s, const unsigned char *buf, size_t len,
                       unsigned char **out, size_t *out_len)
{
    int none, rc;
    unsigned char *hay;

    if (!s || !s->n_needles)
        return 0;
    if (s->blank < 0) /* every byte is in a needle: cannot blank */
        return run(s, buf, buf, len, out, out_len);
    hay = blanked(s, buf, len, &none);
    if (!hay && !none)
        return -1;
    rc = run(s, hay ? hay : buf, buf, len, out, out_len);
    free(hay);
    return rc;
}

int fm_scrub_has_again(const fm_scrub *s, const unsigned char *buf, size_t len)
{
    int none, rc;
    unsigned char *hay;

    if (!fm_scrub_has(s, buf, len))
        return 0;
    if (s->blank < 0)
        return 1;
    hay = blanked(s, buf, len, &none);
    if (!hay)
        return 1; /* ENOMEM, or no placeholder: it holds one */
    rc = fm_scrub_has(s, hay, len);
    free(hay);
    return rc;
}

static int run(const fm_scrub *s, const unsigned char *hay,
               const unsigned char *buf, size_t len, unsigned char **out,
               size_t *out_len)
{
    span *sp = NULL;
    size_t n = 0, cap = 0, i = 0, m;
    uint32_t u = 0;
    unsigned char *res;

    if (!s || !s->n_needles)
        return 0;
    while ((m = next_match(s, hay, len, &i, &u)) != 0) {
        span v = {i - m, i};
        /* matches end in order; one reaching back merges the earlier */
        while (n && sp[n - 1].to >= v.from) {
            if (sp[n - 1].from < v.from)
                v.from = sp[n - 1].from;
            n--;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            span *ns = realloc(sp, ncap * sizeof *ns);
            if (!ns) {
                free(sp);
                return -1;
            }
            sp = ns;
            cap = ncap;
        }
        sp[n++] = v;
    }
    if (n == 0)
        return 0;
    res = rewrite(buf, len, sp, n, out_len);
    free(sp);
    if (!res)
        return -1;
    *out = res;
    return 1;
}
