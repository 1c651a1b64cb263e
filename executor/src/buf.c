/*
 * buf.c — the capped growable buffer and the JSON string writer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int Msp_buf_append(msp_buf *b, const void *p, size_t n, size_t limit)
{
    if (n > limit || b->len > limit - n)
        return -1;
    size_t need = b->len + n + 1; /* + NUL */
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
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

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
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

int Msp_buf_append_json_string(msp_buf *b, const char *s, size_t n,
                               size_t limit)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    if (Msp_buf_append(b, "\"", 1, limit))
        return -1;
    while (i < n) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t run = i;
        while (run < n && u[run] >= 0x20 && u[run] < 0x80 && u[run] != '"' &&
               u[run] != '\\')
            run++;
        if (run > i && Msp_buf_append(b, s + i, run - i, limit))
            return -1;
        i = run;
        if (i == n)
            break;
        char esc[8];
        size_t elen;
        size_t seq = u[i] >= 0x80 ? utf8_seq(u + i, n - i) : 1;
        if (u[i] >= 0x80 && seq > 0) {
            if (Msp_buf_append(b, s + i, seq, limit))
                return -1;
            i += seq;
            continue;
        }
        if (u[i] >= 0x80) {
            memcpy(esc, "\\ufffd", 6);
            elen = 6;
        } else if (u[i] == '"' || u[i] == '\\') {
            esc[0] = '\\';
            esc[1] = (char)u[i];
            elen = 2;
        } else if (u[i] == '\n') {
            memcpy(esc, "\\n", 2);
            elen = 2;
        } else if (u[i] == '\t') {
            memcpy(esc, "\\t", 2);
            elen = 2;
        } else if (u[i] == '\r') {
            memcpy(esc, "\\r", 2);
            elen = 2;
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[u[i] >> 4];
            esc[5] = hex[u[i] & 0xf];
            elen = 6;
        }
        if (Msp_buf_append(b, esc, elen, limit))
            return -1;
        i++;
    }
    return Msp_buf_append(b, "\"", 1, limit);
}

void Msp_buf_free(msp_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
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

void Msp_redact(char *s, size_t n, const char *secret, size_t secret_len)
{
    if (secret_len == 0 || n < secret_len)
        return;
    for (size_t i = 0; i <= n - secret_len; i++) {
        if (s[i] == secret[0] && memcmp(s + i, secret, secret_len) == 0) {
            memset(s + i, '*', secret_len);
            i += secret_len - 1;
        }
    }
}

void Msp_set_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}
