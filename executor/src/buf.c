/*
 * buf.c — the one capped growable buffer (msp_buf, executor/msp_util.h)
 * and small helpers of the executor.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_util.h"
#include "internal.h"

#define BUF_FIRST_ALLOC 1024 /* the first growth (capped at max + 1) */

void msp_buf_init(msp_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

/* Latches err as the buffer's failure; returns -1 with errno set. */
static int buf_fail(msp_buf *b, int err)
{
    if (!b->failed)
        b->failed = err;
    errno = b->failed;
    return -1;
}

/* Makes room for n more content bytes and the NUL. Returns 0, or -1 (the
 * failure latched). */
static int buf_grow(msp_buf *b, size_t n)
{
    size_t limit = b->max;
    if (b->failed)
        return buf_fail(b, b->failed);
    if (n > limit || b->len > limit - n)
        return buf_fail(b, EFBIG);
    size_t need = b->len + n + 1; /* + NUL */
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : BUF_FIRST_ALLOC;
    while (cap < need)
        cap *= 2;
    if (cap - 1 > limit) /* cap > limit + 1, without overflow */
        cap = limit + 1;
    char *grown = realloc(b->data, cap);
    if (!grown)
        return buf_fail(b, ENOMEM);
    b->data = grown;
    b->cap = cap;
    return 0;
}

int msp_buf_append(msp_buf *b, const void *p, size_t n)
{
    if (buf_grow(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int msp_buf_append_str(msp_buf *b, const char *s)
{
    return msp_buf_append(b, s, strlen(s));
}

int msp_buf_printf(msp_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return buf_fail(b, EINVAL);
    if ((size_t)n < sizeof small)
        return msp_buf_append(b, small, (size_t)n);
    /* Too long for the stack: formatted again, straight into the room. */
    if (buf_grow(b, (size_t)n) != 0)
        return -1;
    va_start(ap, fmt);
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

size_t msp_utf8_seq(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t len;
    unsigned int cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

int msp_utf8_valid(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0, seq;
    while (i < n) {
        seq = msp_utf8_seq(s + i, n - i);
        if (seq == 0)
            return 0;
        i += seq;
    }
    return 1;
}

static int buf_write(void *user, const void *p, size_t n)
{
    return msp_buf_append(user, p, n);
}

int msp_buf_append_json(msp_buf *b, const char *s, size_t n)
{
    return msp_json_quote(s, n, buf_write, b) ? -1 : 0;
}

void msp_buf_reset(msp_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *msp_buf_take(msp_buf *b, size_t *len)
{
    if (b->failed) {
        msp_buf_free(b);
        return NULL;
    }
    char *p = b->data ? b->data : calloc(1, 1);
    if (!p)
        return NULL;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void msp_buf_free(msp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

int Msp_has_control_byte(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

void Msp_set_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    /* clang-analyzer-valist reports ap as uninitialised here (a false
     * positive: it is started on the line above). */
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}
