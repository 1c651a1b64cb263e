/*
 * uuid.c — the one UUIDv4 generator and the one UUID validator of the kit
 * (msp_util.h): fresh command ids for provider runs and for fake-msp's
 * provider-state answers, ids derived from seeds for reproducible output,
 * and the shape check every component uses to recognise an id.
 */
#include "executor/msp_util.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

void msp_uuid4_from_bits(uint64_t hi, uint64_t lo, char out[MSP_UUID_BUF_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    for (int i = 0, k = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hex[b[i] >> 4];
        out[k++] = hex[b[i] & 15];
    }
    out[MSP_UUID_BUF_SIZE - 1] = '\0';
}

int msp_uuid4(char out[MSP_UUID_BUF_SIZE])
{
    unsigned char b[16];
    uint64_t hi = 0, lo = 0;
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r < 0 && errno != EINTR)
            return -1; /* ENOSYS, or a sandbox's EPERM: never spin */
    }
    for (int i = 0; i < 8; i++) {
        hi = hi << 8 | b[i];
        lo = lo << 8 | b[8 + i];
    }
    msp_uuid4_from_bits(hi, lo, out);
    return 0;
}

int msp_uuid_valid(const char *s, size_t n, unsigned flags)
{
    if (!s || n != MSP_UUID_BUF_SIZE - 1)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                     ((flags & MSP_UUID_ANY_CASE) && c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    /* s[19] is a hex digit by now, upper case only under ANY_CASE */
    if (flags & MSP_UUID_V4)
        return s[14] == '4' && strchr("89abAB", s[19]) != NULL;
    return 1;
}
