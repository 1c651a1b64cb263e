/*
 * util.c — the shared helpers of msp_util.h: masking, redaction, JSON
 * string escaping, JSON paths and the key-file reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/msp_util.h"
#include "internal.h"

#define KEY_READ_CHUNK 4096

size_t msp_mask_shown(size_t n)
{
    size_t quarter = n / 4;
    return quarter < MSP_MASK_SHOWN_MAX ? quarter : MSP_MASK_SHOWN_MAX;
}

void msp_mask_secret(const char *secret, char *buf, size_t buflen)
{
    if (!buf || buflen == 0)
        return;
    size_t n = secret ? strlen(secret) : 0;
    size_t shown = msp_mask_shown(n);
    char head[MSP_MASK_SHOWN_MAX + 1] = {0};
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)secret[i];
        head[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    snprintf(buf, buflen, "%s\xe2\x80\xa6(%zu)", head, n);
}

static unsigned hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return (unsigned)(c - '0');
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (unsigned)((c | 0x20) - 'a' + 10);
    return 16;
}

/* The code point of "\uXXXX" at t[i..len), or -1. */
static long u_escape(const char *t, size_t len, size_t i)
{
    if (len - i < 6 || t[i] != '\\' || t[i + 1] != 'u')
        return -1;
    unsigned v = 0;
    for (size_t k = 2; k < 6; k++) {
        unsigned d = hex_digit(t[i + k]);
        if (d > 15)
            return -1;
        v = v * 16 + d;
    }
    return (long)v;
}

/* Reads one character of a JSON string spelling at t[i] (i < len): a raw
 * byte or an escape. Writes its bytes to out (1..4) and returns how many
 * text bytes it took. */
static size_t spelled_char(const char *t, size_t len, size_t i, char out[4],
                           size_t *outn)
{
    *outn = 1;
    out[0] = t[i];
    if (t[i] != '\\' || i + 1 >= len)
        return 1;
    switch (t[i + 1]) {
    case '"':
    case '\\':
    case '/': out[0] = t[i + 1]; return 2;
    case 'b': out[0] = '\b'; return 2;
    case 'f': out[0] = '\f'; return 2;
    case 'n': out[0] = '\n'; return 2;
    case 'r': out[0] = '\r'; return 2;
    case 't': out[0] = '\t'; return 2;
    default: break;
    }
    long cp = u_escape(t, len, i);
    if (cp < 0)
        return 1;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = u_escape(t, len, i + 6);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            unsigned long full = 0x10000ul +
                                 ((unsigned long)(cp - 0xD800) << 10) +
                                 (unsigned long)(lo - 0xDC00);
            *outn = Msp_utf8_encode(full, out);
            return 12;
        }
    }
    *outn = Msp_utf8_encode((unsigned long)cp, out);
    return 6;
}

/* The end of a spelling of secret starting at text[i], or 0. */
static size_t spelling_end(const char *text, size_t len, size_t i,
                           const char *secret, size_t secret_len)
{
    size_t k = 0;
    while (k < secret_len && i < len) {
        char c[4];
        size_t cn;
        size_t used = spelled_char(text, len, i, c, &cn);
        if (cn > secret_len - k || memcmp(c, secret + k, cn) != 0)
            return 0;
        k += cn;
        i += used;
    }
    return k == secret_len ? i : 0;
}

size_t msp_redact_secret(char *text, size_t len, const char *secret,
                         size_t secret_len)
{
    size_t count = 0;
    if (!text || !secret || secret_len == 0 || len < secret_len)
        return 0;
    /* Raw first: a key holding a backslash is also matched as written. */
    for (size_t i = 0; i + secret_len <= len; i++) {
        if (text[i] == secret[0] && memcmp(text + i, secret, secret_len) == 0) {
            memset(text + i, '*', secret_len);
            i += secret_len - 1;
            count++;
        }
    }
    if (!memchr(text, '\\', len))
        return count;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '\\' && text[i] != secret[0])
            continue;
        size_t end = spelling_end(text, len, i, secret, secret_len);
        if (end) {
            memset(text + i, '*', end - i);
            i = end - 1;
            count++;
        }
    }
    return count;
}

/* A byte msp_json_quote() copies as it is: 0x20..0x7f but '"' and
 * '\\'. */
static int json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

int msp_json_quote(const char *s, size_t n, msp_write_fn write, void *user)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    int rc;

    if (!s)
        return write(user, "null", MSP_STRLEN("null"));
    if ((rc = write(user, "\"", 1)) != 0)
        return rc;
    while (i < n) {
        if ((rc = Msp_write_plain_run(s, n, &i, json_plain, write, user)) != 0)
            return rc;
        if (i == n)
            break;
        if (u[i] >= 0x80) {
            size_t seq = msp_utf8_seq(u + i, n - i);
            rc = seq ? write(user, s + i, seq)
                     : write(user, "\\ufffd", MSP_STRLEN("\\ufffd"));
            if (rc != 0)
                return rc;
            i += seq ? seq : 1;
            continue;
        }
        char esc[6] = {'\\', (char)u[i]};
        size_t elen = 2;
        if (u[i] == '\n')
            esc[1] = 'n';
        else if (u[i] == '\t')
            esc[1] = 't';
        else if (u[i] == '\r')
            esc[1] = 'r';
        else if (u[i] != '"' && u[i] != '\\') {
            memcpy(esc, "\\u00", MSP_STRLEN("\\u00"));
            esc[4] = hex[u[i] >> 4];
            esc[5] = hex[u[i] & 0xf];
            elen = 6;
        }
        if ((rc = write(user, esc, elen)) != 0)
            return rc;
        i++;
    }
    return write(user, "\"", 1);
}

/* Appends text[0..n) to path, cut at cap; returns the old length. */
static size_t path_push(char *path, size_t cap, size_t *len, const char *text,
                        size_t n)
{
    size_t old = *len;
    if (!path || cap == 0 || old >= cap)
        return old;
    if (n > cap - 1 - old)
        n = cap - 1 - old;
    memcpy(path + old, text, n);
    path[old + n] = '\0';
    *len = old + n;
    return old;
}

size_t msp_json_path_push_key(char *path, size_t cap, size_t *len,
                              const char *key)
{
    size_t n = key ? strlen(key) : 0;
    size_t old = path_push(path, cap, len, ".", 1);
    if (*len > old)
        path_push(path, cap, len, key ? key : "", n);
    return old;
}

size_t msp_json_path_push_index(char *path, size_t cap, size_t *len,
                                size_t index)
{
    char text[32];
    int n = snprintf(text, sizeof text, "[%zu]", index);
    return path_push(path, cap, len, text, (size_t)n);
}

void msp_json_path_pop(char *path, size_t *len, size_t old)
{
    if (!path || old > *len)
        return;
    *len = old;
    path[old] = '\0';
}

void msp_secret_free(char *secret)
{
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    }
}

char *msp_read_key_file(const char *path, size_t cap)
{
    if (!path || cap == 0 || cap > ((size_t)-1) / 2) {
        errno = EINVAL;
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    /* Room for cap bytes, a CR, the newline that ends the line and a NUL:
     * read with read(2) so no stdio buffer keeps a copy. */
    size_t room = cap + 2, n = 0;
    char *buf = malloc(room + 1);
    char *nl = NULL;
    int err = 0;
    if (!buf)
        err = ENOMEM;
    while (!err && !nl && n < room) {
        size_t want = room - n < KEY_READ_CHUNK ? room - n : KEY_READ_CHUNK;
        ssize_t got = read(fd, buf + n, want);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            err = errno;
            break;
        }
        if (got == 0)
            break;
        nl = memchr(buf + n, '\n', (size_t)got);
        n += (size_t)got;
    }
    (void)close(fd); /* read-only: nothing to lose */
    char *key = NULL;
    if (!err) {
        size_t line = nl ? (size_t)(nl - buf) : n;
        if (nl && line > 0 && buf[line - 1] == '\r')
            line--;
        if (line == 0)
            err = ENODATA;
        else if (line > cap || (!nl && n == room))
            err = EFBIG;
        else if (!(key = malloc(line + 1)))
            err = ENOMEM;
        else {
            memcpy(key, buf, line);
            key[line] = '\0';
        }
    }
    if (buf) {
        explicit_bzero(buf, room + 1);
        free(buf);
    }
    if (err)
        errno = err;
    return key;
}
