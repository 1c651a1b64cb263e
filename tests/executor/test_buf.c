/*
 * test_buf.c — msp_buf, the one capped growable buffer of
 * executor/msp_util.h: the cap held to the byte, the NUL always there, a
 * failure that latches and keeps what was there, reset, take and free.
 * realloc is wrapped at link time (-Wl,--wrap=realloc) so that a test can
 * make the next growth run out of memory.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_util.h"

void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

static _Thread_local int fail_next_realloc;

void *__wrap_realloc(void *p, size_t n)
{
    if (fail_next_realloc) {
        fail_next_realloc = 0;
        return NULL;
    }
    return __real_realloc(p, n);
}

TestSuite(buf, .timeout = TEST_TIMEOUT(5));

/* Appending s fails with errno err and leaves b holding kept. */
static void refused(msp_buf *b, const char *s, int err, const char *kept)
{
    errno = 0;
    cr_assert_eq(msp_buf_append_str(b, s), -1, "\"%s\" appended", s);
    cr_assert_eq(errno, err);
    cr_assert_str_eq(b->data, kept);
}

Test(buf, holds_exactly_its_cap_and_refuses_one_byte_more)
{
    msp_buf b;
    msp_buf_init(&b, 8);
    cr_assert_eq(msp_buf_append_lit(&b, "1234"), 0);
    cr_assert_eq(msp_buf_append_lit(&b, "5678"), 0);
    cr_assert_eq(b.len, 8);
    cr_assert_leq(b.cap, 9, "never allocates more than cap + 1");
    refused(&b, "9", EFBIG, "12345678");
    msp_buf_free(&b);
}

Test(buf, refuses_a_single_append_larger_than_its_cap)
{
    msp_buf b;
    msp_buf_init(&b, 3);
    errno = 0;
    cr_assert_eq(msp_buf_append_lit(&b, "1234"), -1);
    cr_assert_eq(errno, EFBIG);
    cr_assert_eq(b.len, 0);
    cr_assert_null(b.data, "nothing is allocated for a refused append");
    msp_buf_free(&b);
}

Test(buf, is_nul_terminated_after_every_append_even_an_empty_one)
{
    msp_buf b;
    msp_buf_init(&b, 64);
    cr_assert_eq(msp_buf_append(&b, "", 0), 0);
    cr_assert_not_null(b.data);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(msp_buf_append(&b, "ab\0cd", 5), 0);
    cr_assert_eq(b.len, 5);
    cr_assert_eq(b.data[5], '\0');
    cr_assert_eq(memcmp(b.data, "ab\0cd", 6), 0);
    cr_assert_eq(msp_buf_append_str(&b, "ef"), 0);
    cr_assert_eq(b.len, 7);
    cr_assert_eq(b.data[7], '\0');
    msp_buf_free(&b);
}

Test(buf, failure_latches_and_leaves_the_content_intact)
{
    msp_buf b;
    msp_buf_init(&b, 5);
    cr_assert_eq(msp_buf_append_lit(&b, "abc"), 0);
    cr_assert_eq(msp_buf_append_lit(&b, "def"), -1);
    cr_assert_eq(b.failed, EFBIG);
    cr_assert_str_eq(b.data, "abc");
    cr_assert_eq(b.len, 3);
    /* it would fit, but the buffer has failed: later appends fail too,
     * so a run of appends never leaves a hole */
    refused(&b, "d", EFBIG, "abc");
    msp_buf_free(&b);
}

Test(buf, out_of_memory_fails_with_enomem_and_keeps_the_content)
{
    msp_buf b;
    char big[1024];
    memset(big, 'x', sizeof big);
    msp_buf_init(&b, 1u << 20);
    cr_assert_eq(msp_buf_append_lit(&b, "kept"), 0);
    fail_next_realloc = 1;
    errno = 0;
    cr_assert_eq(msp_buf_append(&b, big, sizeof big), -1);
    cr_assert_eq(errno, ENOMEM);
    cr_assert_eq(b.failed, ENOMEM);
    cr_assert_str_eq(b.data, "kept");
    cr_assert_null(msp_buf_take(&b, NULL), "a failed buffer is not taken");
    cr_assert_null(b.data);
    cr_assert_eq(b.failed, 0);
}

Test(buf, reset_empties_and_clears_the_failure_keeping_memory_and_cap)
{
    msp_buf b;
    msp_buf_init(&b, 4);
    cr_assert_eq(msp_buf_append_lit(&b, "abcd"), 0);
    cr_assert_eq(msp_buf_append_lit(&b, "e"), -1);
    char *mem = b.data;
    msp_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.failed, 0);
    cr_assert_eq(b.max, 4);
    cr_assert_eq(b.data, mem);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(msp_buf_append_lit(&b, "wxyz"), 0);
    refused(&b, "!", EFBIG, "wxyz");
    msp_buf_free(&b);
}

Test(buf, free_releases_the_memory_and_leaves_it_usable_with_its_cap)
{
    msp_buf b;
    msp_buf_init(&b, 4);
    cr_assert_eq(msp_buf_append_lit(&b, "abcde"), -1);
    msp_buf_free(&b);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    cr_assert_eq(b.failed, 0);
    cr_assert_eq(b.max, 4);
    cr_assert_eq(msp_buf_append_lit(&b, "abcd"), 0);
    cr_assert_eq(msp_buf_append_lit(&b, "e"), -1);
    msp_buf_free(&b);
    msp_buf_free(&b); /* twice: nothing to release */
}

Test(buf, take_hands_over_the_content_and_empties_the_buffer)
{
    msp_buf b;
    size_t len = 99;
    msp_buf_init(&b, 16);
    cr_assert_eq(msp_buf_append_lit(&b, "hello"), 0);
    char *s = msp_buf_take(&b, &len);
    cr_assert_str_eq(s, "hello");
    cr_assert_eq(len, 5);
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.max, 16);
    free(s);
}

Test(buf, take_of_a_buffer_never_appended_to_gives_an_empty_string)
{
    msp_buf b;
    size_t len = 99;
    msp_buf_init(&b, 16);
    char *s = msp_buf_take(&b, &len);
    cr_assert_str_eq(s, "");
    cr_assert_eq(len, 0);
    free(s);
}

Test(buf, take_of_a_failed_buffer_gives_null_and_leaves_len_untouched)
{
    msp_buf b;
    size_t len = 99;
    msp_buf_init(&b, 8);
    cr_assert_eq(msp_buf_append_str(&b, "12345"), 0);
    cr_assert_eq(msp_buf_append_str(&b, "6789"), -1);
    cr_assert_null(msp_buf_take(&b, &len));
    cr_assert_eq(len, 99);
    cr_assert_null(b.data);
}

Test(buf, zeroed_buffer_has_cap_zero_and_holds_only_nothing)
{
    msp_buf b = {0};
    cr_assert_eq(msp_buf_append(&b, "", 0), 0);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(msp_buf_append_lit(&b, "x"), -1);
    cr_assert_eq(b.failed, EFBIG);
    msp_buf_free(&b);
}

Test(buf, printf_grows_for_text_longer_than_its_stack_room)
{
    msp_buf b;
    char big[600];
    size_t len;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    msp_buf_init(&b, 1024);
    cr_assert_eq(msp_buf_append_lit(&b, "["), 0);
    cr_assert_eq(msp_buf_printf(&b, "<%s>%d", big, 7), 0);
    char *s = msp_buf_take(&b, &len);
    cr_assert_eq(len, 1 + 1 + (sizeof big - 1) + 1 + 1);
    cr_assert_eq(s[len], '\0');
    cr_assert_eq(strncmp(s, "[<xxx", 5), 0);
    cr_assert_str_eq(s + len - 3, "x>7");
    free(s);
}

Test(buf, printf_holds_its_cap_for_short_and_long_text)
{
    msp_buf b;
    char big[600];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    msp_buf_init(&b, 6);
    cr_assert_eq(msp_buf_printf(&b, "%s=%d", "ab", 123), 0);
    cr_assert_str_eq(b.data, "ab=123");
    cr_assert_eq(msp_buf_printf(&b, "%d", 4), -1);
    cr_assert_str_eq(b.data, "ab=123");
    msp_buf_free(&b);
    msp_buf_init(&b, sizeof big - 2);
    errno = 0;
    cr_assert_eq(msp_buf_printf(&b, "%s", big), -1);
    cr_assert_eq(errno, EFBIG);
    cr_assert_eq(b.len, 0);
    msp_buf_free(&b);
}

Test(buf, append_json_quotes_the_text_and_writes_null_for_null)
{
    msp_buf b;
    msp_buf_init(&b, 64);
    cr_assert_eq(msp_buf_append_json(&b, "a\"b\\c\n\x01", 7), 0);
    cr_assert_eq(msp_buf_append_lit(&b, " "), 0);
    cr_assert_eq(msp_buf_append_json(&b, NULL, 0), 0);
    cr_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\u0001\" null");
    msp_buf_free(&b);
}

Test(buf, append_json_past_the_cap_fails_and_keeps_the_content)
{
    msp_buf b;
    msp_buf_init(&b, 8);
    cr_assert_eq(msp_buf_append_lit(&b, "k:"), 0);
    cr_assert_eq(msp_buf_append_json(&b, "long value", 10), -1);
    cr_assert_eq(b.failed, EFBIG);
    cr_assert_leq(b.len, 8);
    cr_assert_eq(strncmp(b.data, "k:\"", 3), 0,
                 "what was there, and what the quoter wrote before the cap, "
                 "stays");
    msp_buf_free(&b);
}
