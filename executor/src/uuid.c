/*
 * uuid.c — the one UUIDv4 generator of the kit (msp_util.h): fresh command
 * ids for provider runs and for fake-msp's provider-state answers.
 */
#include "executor/msp_util.h"

#include <sys/random.h>
#include <sys/types.h>

void msp_uuid4(char out[MSP_UUID_BUF_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r > 0)
            got += (size_t)r;
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
