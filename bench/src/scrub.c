/*
 * msp-bench-scrub — the recorder's scrubber on a large reply, for row 14 of
 * ci/bench.
 *
 *   msp-bench-scrub MIB KEYS
 *
 * Builds a scrubber for KEYS keys (every spelling of each, as the recorder
 * does), fills MIB MiB with JSON-ish text over the letters the spellings
 * use (one key planted in the middle), scrubs it once and prints the
 * milliseconds the scrub took ("MS").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scrub.h"

int main(int argc, char **argv)
{
    static const char letters[] = "sk-live\"{}:,0123456789abcdefABCDEF+/=";
    char names[FM_SCRUB_MAX_KEYS][48];
    const char *keys[FM_SCRUB_MAX_KEYS];
    long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 16;
    long nk = argc > 2 ? strtol(argv[2], NULL, 10) : 16;
    unsigned long long x = 88172645463325252ULL;
    unsigned char *in, *out = NULL;
    size_t n, i, len = 0;
    struct timespec t0, t1;
    fm_scrub *s;

    if (mib < 1 || mib > 1024 || nk < 1 || nk > FM_SCRUB_MAX_KEYS) {
        fprintf(stderr, "usage: msp-bench-scrub MIB(1..1024) KEYS(1..%d)\n",
                FM_SCRUB_MAX_KEYS);
        return 2;
    }
    for (i = 0; i < (size_t)nk; i++) {
        snprintf(names[i], sizeof names[i], "sk-live-%02zu-7f3a9c2e41ab", i);
        keys[i] = names[i];
    }
    n = (size_t)mib * 1024 * 1024;
    in = malloc(n);
    s = fm_scrub_new(keys, (size_t)nk, 8);
    if (!in || !s) {
        fprintf(stderr, "msp-bench-scrub: out of memory\n");
        return 1;
    }
    for (i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        in[i] = (unsigned char)letters[x % (sizeof letters - 1)];
    }
    memcpy(in + n / 2, names[0], strlen(names[0]));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (fm_scrub_run(s, in, n, &out, &len) != 1) {
        fprintf(stderr, "msp-bench-scrub: the planted key was not found\n");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.1f\n", (double)(t1.tv_sec - t0.tv_sec) * 1000.0 +
                         (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    free(out);
    free(in);
    fm_scrub_free(s);
    return 0;
}
