/* util.c — buffers, escaping, masking, clocks (see util.h). */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "executor/msp_util.h"

#define BUF_FIRST_ALLOC 1024

void fm_buf_init(fm_buf *b, size_t cap_max)
{
    memset(b, 0, sizeof *b);
    b->cap_max = cap_max;
}

static int buf_reserve(fm_buf *b, size_t extra)
{
    size_t max = b->cap_max;
    size_t need, ncap;
    char *np;

    if (b->failed)
        return -1;
    if (extra > max || b->len + 1 > max - extra) {
        b->failed = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : BUF_FIRST_ALLOC;
    while (ncap < need)
        ncap *= 2;
    if (ncap > max)
        ncap = max;
    np = realloc(b->p, ncap);
    if (!np) {
        b->failed = 1;
        return -1;
    }
    b->p = np;
    b->cap = ncap;
    return 0;
}

void fm_buf_add(fm_buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) != 0 || !b->p)
        return;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void fm_buf_adds(fm_buf *b, const char *s)
{
    fm_buf_add(b, s, strlen(s));
}

void fm_buf_addf(fm_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        fm_buf_add(b, small, (size_t)n);
        return;
    }
    if (buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static int buf_write(void *user, const void *data, size_t len)
{
    fm_buf *b = user;
    fm_buf_add(b, data, len);
    return b->failed;
}

void fm_buf_json_str(fm_buf *b, const char *s, size_t len)
{
    /* the one JSON escaper (executor/msp_util.h) */
    (void)msp_json_quote(s, len, buf_write, b);
}

char *fm_buf_take(fm_buf *b, size_t *len)
{
    char *p;

    if (!b->failed && !b->p)
        fm_buf_add(b, "", 0);
    if (b->failed) {
        free(b->p);
        b->p = NULL;
        b->len = b->cap = 0;
        return NULL;
    }
    p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

/* Only a well-known scheme word is shown: anything else before a space
 * may itself be the secret (e.g. "sk-live-... x"). */
static int known_scheme(const char *s, size_t n)
{
    static const char *const schemes[] = {"Bearer", "Basic", "Digest", "Token"};
    size_t i;

    for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (strlen(schemes[i]) == n && strncasecmp(s, schemes[i], n) == 0)
            return 1;
    return 0;
}

void fm_mask_authorization(const char *value, char *out, size_t outlen)
{
    const char *sp = strchr(value, ' ');
    char masked[MSP_MASK_BUF_SIZE];

    /* the one masking policy (executor/msp_util.h) */
    if (sp && known_scheme(value, (size_t)(sp - value))) {
        msp_mask_secret(sp + 1, masked, sizeof masked);
        snprintf(out, outlen, "%.*s %s", (int)(sp - value), value, masked);
    } else {
        msp_mask_secret(value, out, outlen);
    }
}

long long fm_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long fm_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned long long fm_splitmix64(unsigned long long *state)
{
    unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int fm_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t k, more;
        unsigned long cp;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            more = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= more)
            return 0;
        for (k = 1; k <= more; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((more == 1 && cp < 0x80) || (more == 2 && cp < 0x800) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += more + 1;
    }
    return 1;
}

int fm_strieq(const char *a, const char *b)
{
    /* first bytes that differ beyond case (bit 0x20) settle most calls */
    return ((unsigned char)(a[0] ^ b[0]) & ~0x20u) == 0 &&
           strcasecmp(a, b) == 0;
}
