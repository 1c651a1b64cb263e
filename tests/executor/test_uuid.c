/*
 * test_uuid.c — the one UUIDv4 generator and the one UUID validator
 * (msp_util.h). getrandom(2) is wrapped (-Wl,--wrap=getrandom) so that a
 * kernel without randomness can be played.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "executor/msp_util.h"

TestSuite(uuid, .timeout = TEST_TIMEOUT(5));

/* 0: the real getrandom; else fail with this errno (EINTR only once). */
static int fail_errno;

ssize_t __real_getrandom(void *buf, size_t n, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags);
ssize_t __wrap_getrandom(void *buf, size_t n, unsigned flags)
{
    if (fail_errno) {
        errno = fail_errno;
        if (fail_errno == EINTR)
            fail_errno = 0;
        return -1;
    }
    return __real_getrandom(buf, n, flags);
}

static int valid(const char *s, unsigned flags)
{
    return msp_uuid_valid(s, s ? strlen(s) : 0, flags);
}

Test(uuid, lowercase_any_version_is_the_default_shape)
{
    cr_expect(valid("123e4567-e89b-12d3-a456-426614174000", 0), "version 1");
    cr_expect(valid("00000000-0000-0000-0000-000000000000", 0), "nil");
    cr_expect(valid("6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f", 0));
    cr_expect(!valid("6F1C2A4E-8D3B-4C5A-9E7F-0A1B2C3D4E5F", 0), "upper");
    cr_expect(!valid("6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5F", 0), "one upper");
}

Test(uuid, any_case_accepts_upper_hex)
{
    cr_expect(valid("6F1C2A4E-8D3B-4C5A-9E7F-0A1B2C3D4E5F", MSP_UUID_ANY_CASE));
    cr_expect(valid("6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f", MSP_UUID_ANY_CASE));
    cr_expect(
        !valid("6G1C2A4E-8D3B-4C5A-9E7F-0A1B2C3D4E5F", MSP_UUID_ANY_CASE));
}

Test(uuid, version_4_flag_wants_the_version_and_variant)
{
    unsigned v4 = MSP_UUID_V4;
    cr_expect(valid("6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f", v4));
    cr_expect(valid("6f1c2a4e-8d3b-4c5a-8e7f-0a1b2c3d4e5f", v4));
    cr_expect(valid("6f1c2a4e-8d3b-4c5a-be7f-0a1b2c3d4e5f", v4));
    cr_expect(!valid("123e4567-e89b-12d3-a456-426614174000", v4), "v1");
    cr_expect(!valid("6f1c2a4e-8d3b-4c5a-ce7f-0a1b2c3d4e5f", v4), "variant");
    cr_expect(!valid("6f1c2a4e-8d3b-4c5a-7e7f-0a1b2c3d4e5f", v4), "variant");
    cr_expect(
        valid("6F1C2A4E-8D3B-4C5A-BE7F-0A1B2C3D4E5F", v4 | MSP_UUID_ANY_CASE));
    cr_expect(!valid("6F1C2A4E-8D3B-4C5A-BE7F-0A1B2C3D4E5F", v4));
}

Test(uuid, nothing_but_exactly_one_uuid_is_valid)
{
    static const char *const bad[] = {
        "",
        "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5",   /* 35 */
        "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f0", /* 37 */
        " 6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5",
        "6f1c2a4e8d3b-4c5a-9e7f-0a1b2c3d4e5f0", /* a dash moved */
        "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5-",
        "{6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5}",
        "6f1c2a4e_8d3b_4c5a_9e7f_0a1b2c3d4e5f",
        "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5\n",
        "urn:uuid:6f1c2a4e-8d3b-4c5a-9e7f-0a1b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect(!valid(bad[i], MSP_UUID_ANY_CASE), "\"%s\"", bad[i]);
    cr_expect(!valid(NULL, 0));
    /* a length is what is checked: a UUID at the start of a longer text */
    const char *text = "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f and more";
    cr_expect(msp_uuid_valid(text, 36, 0));
    cr_expect(!msp_uuid_valid(text, strlen(text), 0));
    cr_expect(!msp_uuid_valid("6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5\0", 36, 0));
}

Test(uuid, fresh_ids_are_valid_version_4_and_differ)
{
    char a[MSP_UUID_BUF_SIZE], b[MSP_UUID_BUF_SIZE];
    cr_assert_eq(msp_uuid4(a), 0);
    cr_assert_eq(msp_uuid4(b), 0);
    cr_expect(valid(a, MSP_UUID_V4), "%s", a);
    cr_expect(valid(b, MSP_UUID_V4), "%s", b);
    cr_expect_neq(strcmp(a, b), 0);
}

/* The recorder and the pact importer used to print their seeded ids with
 * this format; msp_uuid4_from_bits keeps every id they wrote the same. */
Test(uuid, from_bits_matches_the_old_seeded_format)
{
    static const uint64_t v[][2] = {
        {0, 0},
        {UINT64_MAX, UINT64_MAX},
        {0x0123456789abcdefULL, 0xfedcba9876543210ULL},
        {0xdeadbeefcafef00dULL, 0x1234000000000001ULL},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint64_t a = v[i][0], b = v[i][1];
        char old[64], now[MSP_UUID_BUF_SIZE];
        snprintf(old, sizeof old, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                 (unsigned long long)(a >> 32),
                 (unsigned long long)((a >> 16) & 0xffff),
                 (unsigned long long)(a & 0xfff),
                 (unsigned long long)(((b >> 48) & 0x3fff) | 0x8000),
                 (unsigned long long)(b & 0xffffffffffffULL));
        msp_uuid4_from_bits(a, b, now);
        cr_expect_str_eq(now, old);
        cr_expect(valid(now, MSP_UUID_V4), "%s", now);
    }
}

Test(uuid, no_randomness_fails_instead_of_spinning)
{
    char id[MSP_UUID_BUF_SIZE] = "untouched";
    fail_errno = EPERM; /* what some sandboxes answer */
    errno = 0;
    cr_expect_eq(msp_uuid4(id), -1);
    cr_expect_eq(errno, EPERM);
    cr_expect_str_eq(id, "untouched");
    fail_errno = ENOSYS;
    cr_expect_eq(msp_uuid4(id), -1);
    fail_errno = 0;
}

Test(uuid, an_interrupted_read_is_retried)
{
    char id[MSP_UUID_BUF_SIZE];
    fail_errno = EINTR;
    cr_expect_eq(msp_uuid4(id), 0);
    cr_expect(valid(id, MSP_UUID_V4), "%s", id);
}
