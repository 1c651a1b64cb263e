/*
 * buf.c — the capped growable buffer and the JSON string writer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_util.h"
#include "internal.h"

#define BUF_FIRST_ALLOC 256

void Msp_buf_init(msp_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

int Msp_buf_append(msp_buf *b, const void *p, size_t n)
{
    size_t limit = b->max;
    if (n > limit || b->len > limit - n)
        return -1;
    size_t need = b->len + n + 1; /* + NUL */
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : BUF_FIRST_ALLOC;
        while (cap < need)
            cap *= 2;
        if (cap > limit + 1)
            cap = limit + 1;
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -1;
        b->data = grown;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

size_t Msp_utf8_seq(const unsigned char *s, size_t n)
{
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

static int buf_write(void *user, const void *p, size_t n)
{
    return Msp_buf_append(user, p, n);
}

int Msp_buf_append_json_string(msp_buf *b, const char *s, size_t n)
{
    return msp_json_quote(s, n, buf_write, b);
}

void Msp_buf_free(msp_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
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
