/*
 * base64.c — the one base64 encoder and decoder of the kit (msp_util.h),
 * RFC 4648 §4 (standard alphabet) and §5 (URL alphabet), padded or not.
 * The decoder is strict: a text it accepts has exactly one encoding.
 */
#include "executor/msp_util.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t msp_base64_encoded_len(size_t n, unsigned flags)
{
    if (flags & MSP_B64_NOPAD)
        return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
    return n / 3 * 4 + (n % 3 ? 4 : 0);
}

ssize_t msp_base64_encode(const void *in, size_t n, unsigned flags, char *out,
                          size_t cap)
{
    const unsigned char *s = in;
    const char *al = flags & MSP_B64_URL ? url_alphabet : std_alphabet;
    size_t i, k = 0;

    /* past this the length would not fit a ssize_t */
    if (n > ((size_t)SSIZE_MAX - 4) / 4 * 3 ||
        cap <= msp_base64_encoded_len(n, flags)) {
        errno = ERANGE;
        return -1;
    }
    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        out[k++] = al[v >> 18 & 63];
        out[k++] = al[v >> 12 & 63];
        out[k++] = al[v >> 6 & 63];
        out[k++] = al[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        out[k++] = al[v >> 18 & 63];
        out[k++] = al[v >> 12 & 63];
        if (i + 1 < n)
            out[k++] = al[v >> 6 & 63];
        if (!(flags & MSP_B64_NOPAD))
            while (k % 4)
                out[k++] = '=';
    }
    out[k] = '\0';
    return (ssize_t)k;
}

/* The value of one digit of the alphabet, or -1. */
static int digit(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* The number of digits of in[0..n) (its length without the padding), or
 * SIZE_MAX when in is not base64 by flags. Checks everything but the
 * capacity, so the decoder writes nothing for a text it refuses. */
static size_t digits_of(const unsigned char *s, size_t n, unsigned flags)
{
    int url = (flags & MSP_B64_URL) != 0, d = 0;
    size_t pad = 0, len, i;

    if (n > 0 && s[n - 1] == '=')
        pad = n > 1 && s[n - 2] == '=' ? 2 : 1;
    if (pad ? (flags & MSP_B64_NOPAD) || n % 4 != 0
            : !(flags & (MSP_B64_NOPAD | MSP_B64_ANYPAD)) && n % 4 != 0)
        return SIZE_MAX;
    len = n - pad;
    if (len % 4 == 1)
        return SIZE_MAX;
    for (i = 0; i < len; i++)
        if ((d = digit(s[i], url)) < 0)
            return SIZE_MAX;
    /* canonical: the bits past the last whole byte are zero (RFC 4648
     * §3.5), so no two texts decode to the same bytes */
    if ((len % 4 == 2 && (d & 15)) || (len % 4 == 3 && (d & 3)))
        return SIZE_MAX;
    return len;
}

ssize_t msp_base64_decode(const char *in, size_t n, unsigned flags, void *out,
                          size_t cap)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = out;
    int url = (flags & MSP_B64_URL) != 0;
    size_t len = digits_of(s, n, flags), need, i, k = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (len == SIZE_MAX) {
        errno = EINVAL;
        return -1;
    }
    need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > cap || need > (size_t)SSIZE_MAX) {
        errno = ERANGE;
        return -1;
    }
    for (i = 0; i < len; i++) {
        acc = (acc << 6 | (uint32_t)digit(s[i], url)) & 0xffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    return (ssize_t)k;
}
