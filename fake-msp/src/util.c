/* util.c — masking, clocks, small string checks (see util.h). */
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "executor/msp_util.h"

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
    return !memchr(s, '\0', n) && msp_utf8_valid(s, n);
}

int fm_strieq(const char *a, const char *b)
{
    /* first bytes that differ beyond case (bit 0x20) settle most calls */
    return ((unsigned char)(a[0] ^ b[0]) & ~0x20u) == 0 &&
           strcasecmp(a, b) == 0;
}
