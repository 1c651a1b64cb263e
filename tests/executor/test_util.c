/*
 * test_util.c — the shared helpers of executor/msp_util.h: the one
 * redaction, JSON quoting, JSON-path building and key-file reading every
 * component uses. (The masking vectors are in test_config.c.)
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/msp_util.h"

TestSuite(util, .timeout = TEST_TIMEOUT(5));

/* Redacts secret in a copy of text; checks the result and the count. */
static void expect_redacted(const char *secret, const char *text,
                            const char *want, size_t count)
{
    char buf[512];
    size_t n = strlen(text);
    cr_assert_lt(n, sizeof buf);
    memcpy(buf, text, n + 1);
    cr_expect_eq(msp_redact_secret(buf, n, secret, strlen(secret)), count,
                 "%s in %s", secret, text);
    cr_expect_str_eq(buf, want, "%s in %s", secret, text);
}

Test(util, redact_hides_the_raw_secret_everywhere_it_occurs)
{
    expect_redacted("sk-secret", "a sk-secret b sk-secret",
                    "a ********* b *********", 2);
    expect_redacted("sk-secret", "no secret here", "no secret here", 0);
    expect_redacted("sk-secret", "sk-secre", "sk-secre", 0);
}

Test(util, redact_hides_every_json_escaped_spelling)
{
    /* one character escaped, lower and upper hex */
    expect_redacted("sk-secret", "x\\u0073k-secret", "x**************", 1);
    expect_redacted("sk-secret", "\\u0073\\u006B-secret", "*******************",
                    1);
    /* every character escaped */
    expect_redacted("abcdef", "[\\u0061\\u0062\\u0063\\u0064\\u0065\\u0066]",
                    "[************************************]", 1);
    /* \/ \" \\ for the characters JSON may escape that way */
    expect_redacted("sk/a\"b\\c", "v=sk\\/a\\\"b\\\\c;", "v=***********;", 1);
    expect_redacted("sk/a\"b\\c", "v=sk/a\\\"b\\u005cc;", "v=**************;",
                    1);
    /* the raw form of a key holding a backslash */
    expect_redacted("ab\\ncd", "[ab\\ncd]", "[******]", 1);
    /* non-ASCII: \u00e9 and a surrogate pair stand for UTF-8 bytes */
    expect_redacted("k\xc3\xa9y-\xf0\x9f\x98\x80", "k\\u00e9y-\\ud83d\\ude00!",
                    "*********************!", 1);
    expect_redacted("k\xc3\xa9y-\xf0\x9f\x98\x80", "k\\u00E9y-\xf0\x9f\x98\x80",
                    "*************", 1);
}

Test(util, redact_leaves_near_misses_and_the_rest_of_the_text)
{
    expect_redacted("sk-secret", "\\u0073k-secreT", "\\u0073k-secreT", 0);
    expect_redacted("sk-secret", "\\u007", "\\u007", 0);
    expect_redacted("sk-secret", "\\", "\\", 0);
    char nothing[] = "abc";
    cr_expect_eq(msp_redact_secret(nothing, 3, "", 0), 0);
    cr_expect_eq(msp_redact_secret(NULL, 0, "abc", 3), 0);
}

static int to_buf(void *user, const void *p, size_t n)
{
    char *b = user;
    size_t len = strlen(b);
    if (len + n >= 256)
        return 7;
    memcpy(b + len, p, n);
    b[len + n] = '\0';
    return 0;
}

static void expect_quoted(const char *s, size_t n, const char *want)
{
    char out[256] = "";
    cr_expect_eq(msp_json_quote(s, n, to_buf, out), 0);
    cr_expect_str_eq(out, want);
}

Test(util, json_quote_escapes_to_valid_json)
{
    expect_quoted("plain", 5, "\"plain\"");
    expect_quoted("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    expect_quoted("\n\r\t\b\x01\x7f", 6, "\"\\n\\r\\t\\u0008\\u0001\x7f\"");
    expect_quoted("a\0b", 3, "\"a\\u0000b\"");
    expect_quoted("\xc3\xa9\xf0\x9f\x98\x80", 6,
                  "\"\xc3\xa9\xf0\x9f\x98\x80\"");
    /* bytes that are not UTF-8: a stray continuation, a cut sequence, a
     * surrogate encoded in UTF-8, an overlong form */
    expect_quoted("\x80x\xc3", 3, "\"\\ufffdx\\ufffd\"");
    expect_quoted("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    expect_quoted("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
    expect_quoted(NULL, 0, "null");
}

Test(util, json_quote_stops_at_the_writers_error)
{
    char out[256];
    memset(out, 'x', 250);
    out[250] = '\0';
    cr_expect_eq(msp_json_quote("0123456789", 10, to_buf, out), 7);
}

Test(util, json_path_pushes_and_pops_keys_and_indexes)
{
    char path[32] = "expect";
    size_t len = strlen(path);
    size_t a = msp_json_path_push_key(path, sizeof path, &len, "stdout");
    size_t b = msp_json_path_push_index(path, sizeof path, &len, 12);
    cr_expect_str_eq(path, "expect.stdout[12]");
    cr_expect_eq(len, strlen(path));
    msp_json_path_pop(path, &len, b);
    cr_expect_str_eq(path, "expect.stdout");
    msp_json_path_pop(path, &len, a);
    cr_expect_str_eq(path, "expect");
}

Test(util, json_path_truncates_at_its_cap)
{
    char path[12] = "root";
    size_t len = 4;
    size_t old = msp_json_path_push_key(path, sizeof path, &len,
                                        "a-very-long-member-name");
    cr_expect_str_eq(path, "root.a-very");
    cr_expect_eq(len, 11);
    msp_json_path_push_index(path, sizeof path, &len, 3);
    cr_expect_eq(len, 11);
    msp_json_path_pop(path, &len, old);
    cr_expect_str_eq(path, "root");
}

/* Writes bytes to a fresh temporary file; returns its path (static). */
static const char *key_file(const char *bytes, size_t n)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/msp-util-key-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    return path;
}

static void expect_key(const char *bytes, size_t cap, const char *want,
                       int want_errno)
{
    const char *path = key_file(bytes, strlen(bytes));
    errno = 0;
    char *key = msp_read_key_file(path, cap);
    if (want) {
        cr_expect_not_null(key, "file \"%s\"", bytes);
        if (key)
            cr_expect_str_eq(key, want);
    } else {
        cr_expect_null(key, "file \"%s\"", bytes);
        cr_expect_eq(errno, want_errno, "file \"%s\": errno %d", bytes, errno);
    }
    msp_secret_free(key);
    unlink(path);
}

Test(util, key_file_gives_the_whole_first_line)
{
    expect_key("sk-key\n", 64, "sk-key", 0);
    expect_key("sk-key\r\nsecond line\n", 64, "sk-key", 0);
    expect_key("sk-key", 64, "sk-key", 0);
    expect_key(" spaced key \n", 64, " spaced key ", 0);
    expect_key("\nsk-key\n", 64, NULL, ENODATA);
    expect_key("", 64, NULL, ENODATA);
}

Test(util, key_file_takes_any_length_up_to_the_cap)
{
    size_t n = 10000; /* longer than any fixed line buffer of old */
    char *text = malloc(n + 2);
    memset(text, 'k', n);
    text[n] = '\n';
    text[n + 1] = '\0';
    char *want = strndup(text, n);
    expect_key(text, n, want, 0);
    expect_key(text, n - 1, NULL, EFBIG);
    text[n] = '\0';
    expect_key(text, n - 1, NULL, EFBIG);
    free(text);
    free(want);
}

Test(util, key_file_that_cannot_be_read_says_why)
{
    errno = 0;
    cr_expect_null(msp_read_key_file("/nonexistent/key", 64));
    cr_expect_eq(errno, ENOENT);
    msp_secret_free(NULL);
}

Test(util, strlen_macro_counts_a_literal)
{
    cr_expect_eq(MSP_STRLEN("abc"), 3);
    cr_expect_eq(MSP_STRLEN(""), 0);
}

Test(util, uuid4_is_a_fresh_lowercase_version_4_uuid)
{
    char a[MSP_UUID_BUF_SIZE], b[MSP_UUID_BUF_SIZE];
    msp_uuid4(a);
    msp_uuid4(b);
    cr_assert_eq(strlen(a), 36);
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        cr_expect(dash ? a[i] == '-' : strchr("0123456789abcdef", a[i]) != NULL,
                  "%s", a);
    }
    cr_expect_eq(a[14], '4', "%s", a);
    cr_expect_not_null(strchr("89ab", a[19]), "%s", a);
    cr_expect_neq(strcmp(a, b), 0, "two calls, two ids");
}

Test(util, redact_decodes_the_short_escapes_and_three_byte_characters)
{
    /* a key holding control characters, spelled with JSON's short escapes */
    expect_redacted("a\b\f\n\r\tz", "[a\\b\\f\\n\\r\\tz]", "[************]", 1);
    /* U+20AC, three UTF-8 bytes, spelled \u20ac and \u20AC */
    expect_redacted("pay\xe2\x82\xac", "x pay\\u20ac y", "x ********* y", 1);
    expect_redacted("pay\xe2\x82\xac", "pay\\u20AC", "*********", 1);
    /* U+00E9 as two bytes, from a two-byte spelling */
    expect_redacted("\xc3\xa9t\xc3\xa9", "\\u00e9t\\u00e9", "*************", 1);
}

Test(util, redact_leaves_a_lone_surrogate_and_bad_hex_alone)
{
    /* a high surrogate with no low one stands for nothing in the key */
    expect_redacted("k\xf0\x9f\x98\x80", "k\\ud83d!", "k\\ud83d!", 0);
    expect_redacted("k\xf0\x9f\x98\x80", "k\\ud83d\\u0041", "k\\ud83d\\u0041",
                    0);
    /* not hex digits: no escape, compared as written */
    expect_redacted("kA", "k\\u00g1", "k\\u00g1", 0);
    expect_redacted("kA", "k\\q", "k\\q", 0);
}

Test(util, key_file_rejects_invalid_arguments_and_unreadable_files)
{
    errno = 0;
    cr_expect_null(msp_read_key_file(NULL, 64));
    cr_expect_eq(errno, EINVAL);
    errno = 0;
    cr_expect_null(msp_read_key_file("/etc/hostname", 0));
    cr_expect_eq(errno, EINVAL, "a cap of 0");
    errno = 0;
    cr_expect_null(msp_read_key_file("/etc/hostname", (size_t)-1));
    cr_expect_eq(errno, EINVAL, "a cap past half the address space");
    errno = 0;
    cr_expect_null(msp_read_key_file("/tmp", 64));
    cr_expect_eq(errno, EISDIR, "a directory opens but cannot be read");
}

Test(util, mask_shows_at_most_a_quarter_and_no_control_bytes)
{
    char buf[64];
    msp_mask_secret("sk-\x01\x7f"
                    "abcdefghijk",
                    buf, sizeof buf);
    cr_expect_str_eq(buf, "sk-?\xe2\x80\xa6(16)");
    msp_mask_secret(NULL, buf, sizeof buf);
    cr_expect_str_eq(buf, "\xe2\x80\xa6(0)");
    cr_expect_eq(msp_mask_shown(3), 0);
    buf[0] = 'q';
    msp_mask_secret("secret", buf, 0);
    cr_expect_eq(buf[0], 'q', "a zero-length buffer is not written");
    msp_mask_secret("secret", NULL, 8);
}

/* The one UTF-8 rule (RFC 3629) the executor, the fixture model, fake-msp
 * and the Pact scanner share. */
Test(util, utf8_accepts_shortest_forms_and_refuses_the_rest)
{
    cr_assert_eq(msp_utf8_seq("a", 1), 1);
    cr_assert_eq(msp_utf8_seq("\0", 1), 1);
    cr_assert_eq(msp_utf8_seq("\xc3\xa9", 2), 2);         /* e acute */
    cr_assert_eq(msp_utf8_seq("\xe2\x82\xac", 3), 3);     /* euro */
    cr_assert_eq(msp_utf8_seq("\xf0\x9f\x98\x80", 4), 4); /* emoji */
    cr_assert_eq(msp_utf8_seq("\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
    cr_assert_eq(msp_utf8_seq("\xc0\x80", 2), 0);         /* overlong NUL */
    cr_assert_eq(msp_utf8_seq("\xe0\x80\xaf", 3), 0);     /* overlong '/' */
    cr_assert_eq(msp_utf8_seq("\xed\xa0\x80", 3), 0);     /* surrogate */
    cr_assert_eq(msp_utf8_seq("\xf4\x90\x80\x80", 4), 0); /* > U+10FFFF */
    cr_assert_eq(msp_utf8_seq("\xe2\x82", 2), 0);         /* cut short */
    cr_assert_eq(msp_utf8_seq("\x80", 1), 0);             /* lone tail */
    cr_assert_eq(msp_utf8_seq("\xff", 1), 0);
    cr_assert(msp_utf8_valid("caf\xc3\xa9 \xe2\x82\xac", 9));
    cr_assert(msp_utf8_valid("a\0b", 3), "a NUL byte is valid UTF-8");
    cr_assert(msp_utf8_valid("", 0));
    cr_assert_not(msp_utf8_valid("ok\xe2\x82", 4), "a sequence cut at the end");
    cr_assert_not(msp_utf8_valid("\xed\xb0\x80ok", 5), "a lone low surrogate");
}
