/* The scrubber (fake-msp/src/scrub.h): every spelling of every key found
 * and replaced in one linear pass that never searches its own placeholder
 * (issue 19, findings 1, 2 and 6). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fm_testkit.h"
#include "scrub.h"
#include "test_timeout.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Scrubs text with keys; returns the result (malloc'd, the input copied
 * when nothing matched). */
static char *scrub(const char *const *keys, size_t n, size_t min_len,
                   const char *text)
{
    fm_scrub *s = fm_scrub_new(keys, n, min_len);
    unsigned char *out = NULL;
    size_t len = 0;
    int rc;

    cr_assert_not_null(s);
    rc = fm_scrub_run(s, (const unsigned char *)text, strlen(text), &out, &len);
    cr_assert_geq(rc, 0);
    fm_scrub_free(s);
    return rc ? (char *)out : strdup(text);
}

static void b64s(const char *in, int url, int pad, char *out)
{
    tk_base64(in, strlen(in), url, pad, out);
}

static void hex(const char *in, int upper, char *out)
{
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t i;
    for (i = 0; in[i]; i++) {
        out[2 * i] = d[(unsigned char)in[i] >> 4];
        out[2 * i + 1] = d[(unsigned char)in[i] & 15];
    }
    out[2 * i] = '\0';
}

Test(scrub, a_key_inside_its_own_placeholder_is_replaced_once,
     .timeout = TEST_TIMEOUT(10))
{
    /* finding 1: "RED", "ACT", "E" made the old scrubber find the key
     * again inside its own [REDACTED], for ever */
    static const char *const keys[] = {"E", "RED", "ACT", "REDACTED",
                                       "[REDACTED]"};
    char *out = scrub(keys, 5, 0, "x [REDACTED] y E z");
    cr_assert_str_eq(out, "x [REDACTED] y [REDACTED] z");
    free(out);
    out = scrub(keys, 1, 0, "EEE-ExE");
    cr_assert_str_eq(out, "[REDACTED]-[REDACTED]x[REDACTED]");
    free(out);
}

Test(scrub, a_key_under_the_minimum_is_left_out)
{
    static const char *const keys[] = {"e", "sk-live-7f3a9c2e41"};
    char *out = scrub(keys, 2, 8, "eee sk-live-7f3a9c2e41 eee");
    cr_assert_str_eq(out, "eee [REDACTED] eee");
    free(out);
}

Test(scrub, every_spelling_of_the_key_is_replaced)
{
    /* finding 6: every spelling the issue found in fixtures */
    static const char key[] = "sk-live/7f3a9c2e41";
    static const char *const keys[] = {key};
    char sp[24][256], buf[256], up[64], text[8192];
    size_t n = 0, i;
    char *out;
    fm_scrub *s;

    snprintf(buf, sizeof buf, "Bearer %s", key);
    b64s(buf, 0, 1, sp[n++]); /* base64("Bearer "+key) */
    snprintf(buf, sizeof buf, "x%s", key);
    b64s(buf, 0, 1, sp[n++]); /* offset 1 */
    snprintf(buf, sizeof buf, "xy%s", key);
    b64s(buf, 0, 1, sp[n++]); /* offset 2 */
    b64s(key, 0, 1, sp[n++]); /* offset 0, padded */
    b64s(key, 0, 0, sp[n++]); /* unpadded */
    b64s(key, 1, 0, sp[n++]); /* base64url */
    snprintf(buf, sizeof buf, "%s\n", key);
    b64s(buf, 0, 1, sp[n++]); /* base64(key+"\n") */
    snprintf(buf, sizeof buf, "{\"k\":\"%s\"}", key);
    b64s(buf, 1, 0, sp[n++]); /* inside a JSON blob */
    hex(key, 0, sp[n++]);
    hex(key, 1, sp[n++]);
    for (i = 0; key[i]; i++)
        up[i] = (char)(key[i] >= 'a' && key[i] <= 'z' ? key[i] - 32 : key[i]);
    up[i] = '\0';
    snprintf(sp[n++], 256, "%s", up);               /* upper-cased */
    snprintf(sp[n++], 256, "sk-live\\/7f3a9c2e41"); /* JSON \/ */
    {
        size_t k = 0;
        for (i = 0; key[i]; i++)
            k += (size_t)sprintf(sp[n] + k, "\\u%04X", (unsigned char)key[i]);
        n++;
    }
    snprintf(sp[n++], 256, "sk-live%%2F7f3a9c2e41"); /* URL-encoded */
    snprintf(sp[n++], 256,
             "%%73%%6b%%2d%%6c%%69%%76%%65%%2f%%37%%66%%33"
             "%%61%%39%%63%%32%%65%%34%%31"); /* every byte */
    s = fm_scrub_new(keys, 1, 8);
    cr_assert_not_null(s);
    for (i = 0; i < n; i++) {
        unsigned char *o = NULL;
        size_t len = 0;
        snprintf(text, sizeof text, "before %s after", sp[i]);
        cr_assert_eq(
            fm_scrub_run(s, (unsigned char *)text, strlen(text), &o, &len), 1,
            "spelling %zu not found: %s", i, sp[i]);
        cr_expect(strstr((char *)o, "[REDACTED]") != NULL);
        cr_expect(strncmp((char *)o, "before ", 7) == 0, "%s", o);
        cr_expect_not(fm_scrub_has(s, o, len), "%zu left: %s", i, o);
        free(o);
    }
    fm_scrub_free(s);
    /* an ordinary text is left byte for byte, nothing allocated */
    out = scrub(keys, 1, 8, "{\"memory_percent\":20.0,\"host\":\"sk-live\"}");
    cr_assert_str_eq(out, "{\"memory_percent\":20.0,\"host\":\"sk-live\"}");
    free(out);
}

Test(scrub, three_hundred_kb_of_one_letter_is_linear,
     .timeout = TEST_TIMEOUT(20))
{
    /* finding 2: the old scrubber copied the whole body per hit */
    static const char *const keys[] = {"eeeeeeee", "eeeeeeeeX"};
    size_t n = 300 * 1000, len = 0;
    unsigned char *in = malloc(n), *out = NULL;
    fm_scrub *s = fm_scrub_new(keys, 2, 8);
    double t0, ms;

    cr_assert_not_null(in);
    memset(in, 'e', n);
    t0 = now_ms();
    cr_assert_eq(fm_scrub_run(s, in, n, &out, &len), 1);
    ms = now_ms() - t0;
    cr_log_info("300 KB of 'e': %.1f ms", ms);
    cr_expect_str_eq((char *)out, "[REDACTED]");
    /* 1 ms here at a load average of 19; the old scrubber's copy of the
     * whole body per hit is 37 500 copies of 300 KB (some 11 GB) */
    cr_expect_lt(ms, (double)test_ms(2000), "%.1f ms", ms);
    free(out);
    free(in);
    fm_scrub_free(s);
}

Test(scrub, sixteen_mib_in_under_a_second, .timeout = TEST_TIMEOUT(30))
{
    enum {
        N = 16 * 1024 * 1024
    };
    const char *keys[FM_SCRUB_MAX_KEYS];
    char names[16][40];
    unsigned char *in = malloc(N), *out = NULL;
    size_t i, len = 0;
    unsigned long long x = 88172645463325252ULL;
    fm_scrub *s;
    double t0, ms;

    for (i = 0; i < 16; i++) {
        snprintf(names[i], sizeof names[i], "sk-live-%02zu-7f3a9c2e41ab", i);
        keys[i] = names[i];
    }
    s = fm_scrub_new(keys, 16, 8);
    cr_assert_not_null(in);
    cr_assert_not_null(s);
    for (i = 0; i < N; i++) { /* JSON-ish text, hex and base64 letters */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        in[i] = (unsigned char)"sk-live\"{}:,0123456789abcdefABCDEF+/="[x % 37];
    }
    memcpy(in + N / 2, names[3], strlen(names[3]));
    t0 = now_ms();
    cr_assert_eq(fm_scrub_run(s, in, N, &out, &len), 1);
    ms = now_ms() - t0;
    cr_log_info("16 MiB, 16 keys (%zu spellings): %.1f ms", fm_scrub_needles(s),
                ms);
    /* 250 ms here at a load average of 19 (the 1 s is for a quiet
     * machine: bench/); catches a scrub that is quadratic in the body or
     * copies it per hit, not a constant factor */
    cr_expect_lt(ms, (double)test_ms(10000), "%.1f ms", ms);
    cr_expect_not(fm_scrub_has(s, out, len));
    free(out);
    free(in);
    fm_scrub_free(s);
}
