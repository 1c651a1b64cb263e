/*
 * test_base64.c — the one base64 encoder and decoder (msp_util.h): the
 * RFC 4648 §10 vectors, the URL alphabet, unpadded text, and everything
 * the strict decoder refuses.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <errno.h>
#include <string.h>

#include "executor/msp_util.h"

TestSuite(base64, .timeout = TEST_TIMEOUT(5));

/* RFC 4648 §10. */
static const char *const rfc[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};
#define N_RFC (sizeof rfc / sizeof rfc[0])

/* Encodes then decodes in[0..n) with flags; checks both against want. */
static void round_trip(const void *in, size_t n, unsigned flags,
                       const char *want)
{
    char enc[64];
    unsigned char dec[64];
    ssize_t k = msp_base64_encode(in, n, flags, enc, sizeof enc);
    cr_assert_eq(k, (ssize_t)strlen(want), "flags %u: %s", flags, want);
    cr_expect_str_eq(enc, want);
    cr_expect_eq(msp_base64_encoded_len(n, flags), strlen(want));
    k = msp_base64_decode(want, strlen(want), flags, dec, sizeof dec);
    cr_assert_eq(k, (ssize_t)n, "decoding %s (flags %u)", want, flags);
    cr_expect_eq(memcmp(dec, in, n), 0, "%s", want);
}

Test(base64, rfc4648_vectors_encode_and_decode)
{
    for (size_t i = 0; i < N_RFC; i++)
        round_trip(rfc[i][0], strlen(rfc[i][0]), 0, rfc[i][1]);
}

Test(base64, unpadded_drops_the_equals_signs_both_ways)
{
    for (size_t i = 0; i < N_RFC; i++) {
        char want[16];
        size_t n = strcspn(rfc[i][1], "=");
        memcpy(want, rfc[i][1], n);
        want[n] = '\0';
        round_trip(rfc[i][0], strlen(rfc[i][0]), MSP_B64_NOPAD, want);
    }
}

Test(base64, url_alphabet_uses_dash_and_underscore)
{
    static const unsigned char b[] = {0xfb, 0xff, 0xbf};
    round_trip(b, 3, 0, "+/+/");
    round_trip(b, 3, MSP_B64_URL, "-_-_");
    round_trip(b, 2, MSP_B64_URL, "-_8=");
    round_trip(b, 2, MSP_B64_URL | MSP_B64_NOPAD, "-_8");
}

Test(base64, every_byte_value_round_trips)
{
    unsigned char all[256], back[256];
    char enc[400];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (unsigned flags = 0; flags < 4; flags++) {
        ssize_t k = msp_base64_encode(all, sizeof all, flags, enc, sizeof enc);
        cr_assert_gt(k, 0);
        cr_assert_eq(
            msp_base64_decode(enc, (size_t)k, flags, back, sizeof back), 256);
        cr_assert_eq(memcmp(all, back, 256), 0);
    }
}

Test(base64, any_padding_accepts_both_forms)
{
    unsigned char b[8];
    cr_expect_eq(msp_base64_decode("Zm8=", 4, MSP_B64_ANYPAD, b, sizeof b), 2);
    cr_expect_eq(msp_base64_decode("Zm8", 3, MSP_B64_ANYPAD, b, sizeof b), 2);
    cr_expect_eq(memcmp(b, "fo", 2), 0);
    cr_expect_eq(msp_base64_decode("Zm8==", 5, MSP_B64_ANYPAD, b, sizeof b), -1,
                 "padding that does not complete a quantum");
}

/* Each of these is refused with EINVAL under flags, out left untouched. */
static void refused(const char *text, unsigned flags)
{
    unsigned char out[16];
    memset(out, 0xa5, sizeof out);
    errno = 0;
    cr_expect_eq(msp_base64_decode(text, strlen(text), flags, out, sizeof out),
                 -1, "\"%s\" (flags %u) accepted", text, flags);
    cr_expect_eq(errno, EINVAL, "\"%s\"", text);
    for (size_t i = 0; i < sizeof out; i++)
        cr_assert_eq(out[i], 0xa5, "\"%s\": out written", text);
}

Test(base64, strict_decoder_refuses_bad_characters)
{
    refused("!!!!", 0);
    refused("Zm9v\n", MSP_B64_ANYPAD);
    refused("Zm 9", 0);
    refused("Zm9-", 0);           /* URL digit in standard text */
    refused("Zm9+", MSP_B64_URL); /* standard digit in URL text */
    refused("Zm\0v", 0);
}

Test(base64, strict_decoder_refuses_bad_padding)
{
    refused("abc", 0); /* padded text must be whole quanta */
    refused("a===", 0);
    refused("====", 0);
    refused("ab=c", 0);
    refused("Zg=", 0);
    refused("Zg===", 0);
    refused("Zg==", MSP_B64_NOPAD);
    refused("Z", MSP_B64_NOPAD); /* 4k+1 digits hold no whole byte */
    refused("Zm9vY", MSP_B64_ANYPAD);
}

Test(base64, strict_decoder_refuses_non_canonical_trailing_bits)
{
    refused("Zh==", 0); /* "Zg==" with a stray low bit */
    refused("Zm9=", 0); /* "Zm8=" likewise */
    refused("Zh", MSP_B64_NOPAD);
    unsigned char b[4];
    cr_expect_eq(msp_base64_decode("Zg==", 4, 0, b, sizeof b), 1);
}

Test(base64, too_small_a_buffer_is_erange_never_an_overflow)
{
    char enc[8];
    unsigned char dec[2];
    errno = 0;
    cr_expect_eq(msp_base64_encode("foobar", 6, 0, enc, 8), -1,
                 "8 characters and the NUL need 9");
    cr_expect_eq(errno, ERANGE);
    cr_expect_eq(msp_base64_encode("", 0, 0, enc, 0), -1);
    cr_expect_eq(msp_base64_encode(NULL, 0, 0, enc, 1), 0);
    cr_expect_str_eq(enc, "");
    errno = 0;
    cr_expect_eq(msp_base64_decode("Zm9v", 4, 0, dec, sizeof dec), -1);
    cr_expect_eq(errno, ERANGE);
    cr_expect_leq(3, MSP_BASE64_DECODED_MAX(4));
    cr_expect_leq(2, MSP_BASE64_DECODED_MAX(3));
}
