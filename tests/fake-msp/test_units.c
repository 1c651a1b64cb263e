/* Unit tests of the fake's internal modules (fake-msp/src):
 * escaping, masking, UTF-8, the idempotency store, the rate limiter. */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idem.h"
#include "journal.h"
#include "ratelimit.h"
#include "strict.h"
#include "util.h"

/* The buffer (msp_buf) and its JSON quoting: tests/executor/test_buf.c. */

/* The secret itself is masked by msp_mask_secret (its vectors are in
 * tests/executor/test_config.c); here: the scheme word handling. */
Test(units, authorization_values_are_masked_by_the_one_policy,
     .timeout = TEST_TIMEOUT(5))
{
    char out[64];

    fm_mask_authorization("Bearer sk-test", out, sizeof out);
    cr_assert_str_eq(out, "Bearer s\xe2\x80\xa6(7)");
    fm_mask_authorization("abc", out, sizeof out);
    cr_assert_str_eq(out, "\xe2\x80\xa6(3)");
    fm_mask_authorization("sk-test-no-scheme", out, sizeof out);
    cr_assert_str_eq(out, "sk-t\xe2\x80\xa6(17)");
    fm_mask_authorization("basic dXNlcjpwYXNz", out, sizeof out);
    cr_assert_str_eq(out, "basic dXN\xe2\x80\xa6(12)");
}

Test(units, an_unknown_scheme_word_is_masked_as_part_of_the_secret,
     .timeout = TEST_TIMEOUT(5))
{
    char out[64];

    /* a key sent without "Bearer" but with a trailing word */
    fm_mask_authorization("sk-live-0123456789abcdef extra", out, sizeof out);
    cr_assert_null(strstr(out, "0123456789"), "%s", out);
    cr_assert_str_eq(out, "sk-l\xe2\x80\xa6(30)");
}

Test(units, utf8_validation_refuses_bad_sequences, .timeout = TEST_TIMEOUT(5))
{
    cr_assert(fm_utf8_valid((const unsigned char *)"plain", 5));
    cr_assert(fm_utf8_valid(
        (const unsigned char *)"\xc3\xa9\xe2\x80\xa6\xf0\x9f\x98\x80", 9));
    cr_assert_not(fm_utf8_valid((const unsigned char *)"a\0b", 3));
    cr_assert_not(fm_utf8_valid((const unsigned char *)"\xff", 1));
    cr_assert_not(fm_utf8_valid((const unsigned char *)"\xc3", 1));
    cr_assert_not(fm_utf8_valid((const unsigned char *)"\xc3\x28", 2));
    cr_assert_not(fm_utf8_valid((const unsigned char *)"\xc0\x80", 2));
    cr_assert_not(fm_utf8_valid((const unsigned char *)"\xed\xa0\x80", 3));
    cr_assert_not(fm_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4));
}

Test(units, idem_store_tells_new_replay_conflict_and_in_flight,
     .timeout = TEST_TIMEOUT(5))
{
    idem_store *s = fm_idem_new(4, 1000);
    char *body = NULL;
    size_t len = 0;
    int status = 0;

    cr_assert_eq(fm_idem_begin(s, "k", "fp", 2, 0, &status, &body, &len),
                 IDEM_NEW);
    cr_assert_eq(fm_idem_begin(s, "k", "fp", 2, 1, &status, &body, &len),
                 IDEM_IN_FLIGHT);
    cr_assert_eq(fm_idem_begin(s, "k", "other", 5, 1, &status, &body, &len),
                 IDEM_CONFLICT);
    fm_idem_finish(s, "k", 201, "{}", 2);
    fm_idem_finish(s, "gone", 200, "{}", 2);
    cr_assert_eq(fm_idem_begin(s, "k", "fp", 2, 2, &status, &body, &len),
                 IDEM_REPLAY);
    cr_assert_eq(status, 201);
    cr_assert_str_eq(body, "{}");
    free(body);
    cr_assert_eq(fm_idem_count(s), 1);
    cr_assert_eq(fm_idem_begin(s, "k", "fp", 2, 5000, &status, &body, &len),
                 IDEM_NEW, "expired");
    fm_idem_clear(s);
    cr_assert_eq(fm_idem_count(s), 0);
    fm_idem_free(s);
    fm_idem_free(NULL);
}

Test(units, rate_limiter_opens_a_new_window_after_a_minute,
     .timeout = TEST_TIMEOUT(5))
{
    ratelimit *rl = fm_ratelimit_new(1);
    long retry = 0;
    char name[16];
    int i;

    cr_assert(fm_ratelimit_take(rl, "t", 0, &retry));
    cr_assert_not(fm_ratelimit_take(rl, "t", 30000, &retry));
    cr_assert_eq(retry, 30);
    cr_assert(fm_ratelimit_take(rl, "t", 60000, &retry));
    for (i = 0; i < 70; i++) {
        snprintf(name, sizeof name, "tenant-%d", i);
        fm_ratelimit_take(rl, name, 0, &retry);
    }
    fm_ratelimit_free(rl);
    fm_ratelimit_free(NULL);
}

Test(units, journal_json_base64_pads_one_and_two_byte_tails,
     .timeout = TEST_TIMEOUT(5))
{
    journal *j = fm_journal_new(4, 1u << 20);
    mspf_header h = {"Authorization", "Bearer secret-token"};
    msp_buf b;
    msp_buf_init(&b, FM_REPLY_MAX);
    char *s;

    fm_journal_append(j, "POST", "/a", &h, 1, (const unsigned char *)"\xff", 1,
                      NULL, 0, NULL, 0);
    fm_journal_append(j, "POST", "/b", NULL, 0,
                      (const unsigned char *)"\xff\xfe", 2, "fx", 200, NULL, 0);
    fm_journal_to_json(j, &b);
    s = msp_buf_take(&b, NULL);
    cr_assert(strstr(s, "\"body_base64\":\"/w==\""), "%s", s);
    cr_assert(strstr(s, "\"body_base64\":\"//4=\""), "%s", s);
    cr_assert(strstr(s, "\"fixture\":\"fx\""), "%s", s);
    cr_assert_null(strstr(s, "secret-token"), "%s", s);
    free(s);
    fm_journal_free(j);
    fm_journal_free(NULL);
}

Test(units, journal_drops_the_oldest_entries_past_its_byte_cap,
     .timeout = TEST_TIMEOUT(5))
{
    static unsigned char body[3000];
    journal *j = fm_journal_new(100, 8000);
    fake_msp_entry *e = NULL;
    size_t n = 0;
    int i;

    memset(body, 'b', sizeof body);
    for (i = 0; i < 5; i++)
        cr_assert_neq(fm_journal_append(j, "POST", "/x", NULL, 0, body,
                                        sizeof body, NULL, 200, NULL, 0),
                      0);
    /* 5 entries of > 3000 bytes: only two fit in 8000 */
    cr_assert_eq(fm_journal_find(j, NULL, &e, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(e[0].seq, 4);
    cr_assert_eq(e[1].seq, 5);
    cr_assert_eq(fm_journal_dropped(j), 3);
    fake_msp_entries_free(e, n);
    /* one entry alone over the cap is still kept */
    fm_journal_free(j);
    j = fm_journal_new(100, 100);
    cr_assert_neq(fm_journal_append(j, "POST", "/y", NULL, 0, body, sizeof body,
                                    NULL, 200, NULL, 0),
                  0);
    cr_assert_eq(fm_journal_find(j, NULL, &e, &n), 0);
    cr_assert_eq(n, 1);
    fake_msp_entries_free(e, n);
    fm_journal_clear(j);
    cr_assert_eq(fm_journal_find(j, NULL, &e, &n), 0);
    cr_assert_eq(n, 0);
    fm_journal_free(j);
}

Test(units, an_aborted_idem_key_starts_afresh_instead_of_staying_in_flight,
     .timeout = TEST_TIMEOUT(5))
{
    idem_store *s = fm_idem_new(4, 1000);
    char *body = NULL;
    size_t len = 0;
    int status = 0;

    cr_assert_eq(fm_idem_begin(s, "k", "fp", 2, 0, &status, &body, &len),
                 IDEM_NEW);
    fm_idem_abort(s, "k");
    fm_idem_abort(s, "unknown");
    /* a retry, even with another request, runs again */
    cr_assert_eq(fm_idem_begin(s, "k", "fp2", 3, 1, &status, &body, &len),
                 IDEM_NEW);
    cr_assert_eq(fm_idem_begin(s, "k", "fp2", 3, 1, &status, &body, &len),
                 IDEM_IN_FLIGHT);
    fm_idem_finish(s, "k", 200, "{\"a\":1}", 7);
    fm_idem_abort(s, "k"); /* finished: nothing to give up */
    cr_assert_eq(fm_idem_begin(s, "k", "fp2", 3, 2, &status, &body, &len),
                 IDEM_REPLAY);
    cr_assert_eq(status, 200);
    cr_assert_str_eq(body, "{\"a\":1}");
    free(body);
    cr_assert_eq(fm_idem_count(s), 1);
    fm_idem_free(s);
}

/* found by fuzz_admin_fixture: the strict JSON walk stood still at a '}'
 * inside an array (fuzz/regressions/fuzz_admin_fixture/) */
Test(units, strict_json_walk_always_moves_on_even_past_non_json)
{
    char msg[128];

    cr_expect_eq(fm_json_strict("[}", 2, msg, sizeof msg), 0);
    cr_expect_eq(fm_json_strict("{\"a\":[}]}", 9, msg, sizeof msg), 0);
    cr_expect_eq(fm_json_strict("{\"a\":1,\"a\":2}", 13, msg, sizeof msg), -1);
    cr_expect_str_eq(msg, "duplicate member \"a\"");
    cr_expect_eq(
        fm_json_strict("{\"b\":{\"c\":\"x\\u0000\"}}", 21, msg, sizeof msg),
        -1);
    cr_expect_str_eq(msg, "NUL in \"b.c\"");
}
