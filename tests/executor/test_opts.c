/*
 * test_opts.c — the one option parser (executor/msp_opts.h) msp-exec,
 * fake-msp and msp-contract read their command lines with: bounds, a
 * missing value, unknown options, repeated options and tables with
 * duplicate rows.
 */
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "executor/msp_opts.h"

TestSuite(opts, .timeout = TEST_TIMEOUT(5));

struct cli {
    const char *host, *name;
    unsigned short port;
    uint8_t level;
    unsigned jobs;
    unsigned long long seed;
    const char *dirs[3];
    size_t ndirs;
    int quiet, help;
    const char *typed; /* what the handler saw */
};

static int check_key(void *dest, msp_opt_use *use)
{
    struct cli *c = dest;
    c->typed = use->typed;
    if (strcmp(use->value, "bad") == 0) {
        snprintf(use->why, use->why_size, "--key: %s is refused", use->value);
        return -1;
    }
    c->name = use->value;
    return 0;
}

#define AT(member) MSP_OPT_FIELD(struct cli, member)

static const msp_opt table[] = {
    {.name = "host", .kind = MSP_OPT_STRING, AT(host)},
    {.name = "port",
     .kind = MSP_OPT_NUMBER,
     AT(port),
     0,
     65535,
     "--port wants 0..65535"},
    {.name = "port-file", .kind = MSP_OPT_STRING, AT(name)},
    {.name = "level", .kind = MSP_OPT_NUMBER, AT(level), 1, 9, "--level"},
    {.name = "jobs",
     .letter = 'j',
     .kind = MSP_OPT_NUMBER,
     AT(jobs),
     1,
     256,
     "-j wants 1..256"},
    {.name = "seed", .kind = MSP_OPT_NUMBER, AT(seed), 0, UINT64_MAX, "--seed"},
    {.name = "contracts",
     .kind = MSP_OPT_LIST,
     AT(dirs),
     .count = offsetof(struct cli, ndirs)},
    {.name = "key-file", .kind = MSP_OPT_CALL, .call = check_key},
    {.name = "quiet", .letter = 'q', .kind = MSP_OPT_FLAG, AT(quiet)},
    {.name = "help", .letter = 'h', .kind = MSP_OPT_STOP, AT(help)},
};
#define N_ROWS (sizeof table / sizeof table[0])

/* Parses a NULL-terminated argument list (after "prog") into *c. */
static msp_opts_status parse(struct cli *c, msp_opts_result *r,
                             const char *const *args)
{
    static char copies[16][64];
    char *argv[17] = {"prog"};
    int argc = 1;
    for (; args[argc - 1]; argc++) {
        cr_assert_lt(argc, 16);
        snprintf(copies[argc], sizeof copies[argc], "%s", args[argc - 1]);
        argv[argc] = copies[argc];
    }
    memset(c, 0, sizeof *c);
    return msp_opts_parse(table, N_ROWS, argc, argv, 1, c, r);
}

#define PARSE(c, r, ...) parse(c, r, (const char *const[]){__VA_ARGS__, NULL})

Test(opts, numbers_at_their_bounds_are_stored_in_fields_of_every_width)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--port", "65535", "--level=9", "-j1", "--seed",
                       "18446744073709551615"),
                 MSP_OPTS_DONE);
    cr_expect_eq(c.port, 65535);
    cr_expect_eq(c.level, 9);
    cr_expect_eq(c.jobs, 1u);
    cr_expect_eq(c.seed, UINT64_MAX);
    cr_assert_eq(PARSE(&c, &r, "--port", "0", "--level", "1", "-j", "256"),
                 MSP_OPTS_DONE);
    cr_expect_eq(c.port, 0);
    cr_expect_eq(c.level, 1);
    cr_expect_eq(c.jobs, 256u);
}

Test(opts, a_number_past_its_bounds_is_refused_with_the_row_and_the_value)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--port", "65536"), MSP_OPTS_BAD_NUMBER);
    cr_expect_str_eq(r.opt->what, "--port wants 0..65535");
    cr_expect_str_eq(r.arg, "65536");
    cr_expect_eq(PARSE(&c, &r, "--level", "0"), MSP_OPTS_BAD_NUMBER);
    cr_expect_eq(PARSE(&c, &r, "-j", "257"), MSP_OPTS_BAD_NUMBER);
    cr_expect_str_eq(r.opt->what, "-j wants 1..256");
    cr_expect_eq(PARSE(&c, &r, "--seed", "18446744073709551616"),
                 MSP_OPTS_BAD_NUMBER);
}

Test(opts, a_negative_number_is_refused_in_every_spelling)
{
    struct cli c;
    msp_opts_result r;
    cr_expect_eq(PARSE(&c, &r, "--seed", "-1"), MSP_OPTS_BAD_NUMBER);
    cr_expect_eq(PARSE(&c, &r, "--seed", " -5"), MSP_OPTS_BAD_NUMBER);
    cr_expect_eq(PARSE(&c, &r, "--port", "-0"), MSP_OPTS_BAD_NUMBER);
}

Test(opts, a_number_with_text_after_it_or_no_digits_is_refused)
{
    static const char *const bad[] = {"12a", "", "+", " ", "0x10", "1 "};
    unsigned long long v = 7;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(msp_opts_number(bad[i], 0, 100, &v), -1, "\"%s\"", bad[i]);
    cr_expect_eq(v, 7u, "nothing stored on a refusal");
    cr_expect_eq(msp_opts_number("+42", 0, 100, &v), 0);
    cr_expect_eq(v, 42u);
}

Test(opts, an_option_given_last_without_its_value_is_reported_missing)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--port"), MSP_OPTS_NO_VALUE);
    cr_expect_str_eq(r.arg, "--port");
    cr_expect_str_eq(r.opt->name, "port");
    cr_assert_eq(PARSE(&c, &r, "-q", "-j"), MSP_OPTS_NO_VALUE);
    cr_expect_str_eq(r.arg, "-j");
}

Test(opts, an_unknown_long_option_is_reported_as_typed_without_a_letter)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--kye=SECRET"), MSP_OPTS_UNKNOWN);
    cr_expect_str_eq(r.arg, "--kye=SECRET");
    cr_expect_eq(r.letter, 0);
    cr_expect_null(r.opt);
}

Test(opts, an_unknown_short_option_reports_its_letter)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "-x"), MSP_OPTS_UNKNOWN);
    cr_expect_eq(r.letter, 'x');
}

Test(opts, a_value_given_to_an_option_without_one_is_unknown)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--quiet=1"), MSP_OPTS_UNKNOWN);
    cr_expect_str_eq(r.arg, "--quiet=1");
    cr_expect_eq(PARSE(&c, &r, "--contracts=a", "--level=1"), MSP_OPTS_DONE);
}

Test(opts, a_unique_abbreviation_is_taken_and_an_ambiguous_one_is_unknown)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--ho", "h", "--se", "3"), MSP_OPTS_DONE);
    cr_expect_str_eq(c.host, "h");
    cr_expect_eq(c.seed, 3u);
    cr_expect_eq(PARSE(&c, &r, "--po", "1"), MSP_OPTS_UNKNOWN);
    cr_expect_eq(PARSE(&c, &r, "--port", "1"), MSP_OPTS_DONE,
                 "an exact name beats a longer one it starts");
}

Test(opts, a_repeated_option_keeps_the_last_value)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--host", "a", "--port", "1", "--host", "b",
                       "--port", "2"),
                 MSP_OPTS_DONE);
    cr_expect_str_eq(c.host, "b");
    cr_expect_eq(c.port, 2);
}

Test(opts, a_repeated_list_option_appends_each_value_up_to_its_cap)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(
        PARSE(&c, &r, "--contracts", "a", "--contracts=b", "--contracts", "c"),
        MSP_OPTS_DONE);
    cr_assert_eq(c.ndirs, 3u);
    cr_expect_str_eq(c.dirs[0], "a");
    cr_expect_str_eq(c.dirs[2], "c");
    cr_assert_eq(PARSE(&c, &r, "--contracts", "a", "--contracts", "b",
                       "--contracts", "c", "--contracts", "d"),
                 MSP_OPTS_TOO_MANY);
    cr_expect_str_eq(r.opt->name, "contracts");
    cr_expect_str_eq(r.arg, "d");
    cr_expect_eq(c.ndirs, 3u, "the array is never overrun");
}

Test(opts, a_table_with_two_rows_of_one_name_or_letter_is_refused)
{
    static const msp_opt names[] = {
        {.name = "host", .kind = MSP_OPT_STRING, AT(host)},
        {.name = "host", .kind = MSP_OPT_FLAG, AT(quiet)},
    };
    static const msp_opt letters[] = {
        {.name = "quiet", .letter = 'q', .kind = MSP_OPT_FLAG, AT(quiet)},
        {.name = "quick", .letter = 'q', .kind = MSP_OPT_FLAG, AT(help)},
    };
    static const msp_opt sizes[] = {
        {.name = "quiet", .kind = MSP_OPT_FLAG, AT(seed)},
    };
    char *argv[] = {"prog", NULL};
    struct cli c;
    msp_opts_result r;
    cr_expect_eq(msp_opts_parse(names, 2, 1, argv, 1, &c, &r),
                 MSP_OPTS_BAD_TABLE);
    cr_expect(strstr(r.why, "--host"), "%s", r.why);
    cr_expect_eq(msp_opts_parse(letters, 2, 1, argv, 1, &c, &r),
                 MSP_OPTS_BAD_TABLE);
    cr_expect_eq(msp_opts_parse(sizes, 1, 1, argv, 1, &c, &r),
                 MSP_OPTS_BAD_TABLE);
}

Test(opts, a_stop_option_ends_the_parse_before_later_errors)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--help", "--bogus"), MSP_OPTS_STOPPED);
    cr_expect_eq(c.help, 1);
    cr_expect_str_eq(r.opt->name, "help");
    cr_expect_eq(PARSE(&c, &r, "--bogus", "--help"), MSP_OPTS_UNKNOWN);
    cr_expect_eq(PARSE(&c, &r, "-qh"), MSP_OPTS_STOPPED);
    cr_expect_eq(c.quiet, 1);
}

Test(opts, operands_move_after_the_options_and_next_points_at_them)
{
    struct cli c;
    msp_opts_result r;
    char a0[] = "prog", a1[] = "one", a2[] = "-q", a3[] = "two", a4[] = "--",
         a5[] = "--help";
    char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    memset(&c, 0, sizeof c);
    cr_assert_eq(msp_opts_parse(table, N_ROWS, 6, argv, 1, &c, &r),
                 MSP_OPTS_DONE);
    cr_expect_eq(c.quiet, 1);
    cr_expect_eq(c.help, 0, "-- ends the options");
    cr_assert_eq(r.next, 3);
    cr_expect_str_eq(argv[3], "one");
    cr_expect_str_eq(argv[4], "two");
    cr_expect_str_eq(argv[5], "--help");
}

Test(opts, parsing_starts_after_a_command_word_and_runs_again_afresh)
{
    char a0[] = "prog", a1[] = "verify", a2[] = "-j", a3[] = "4", b2[] = "-q";
    char *first[] = {a0, a1, a2, a3, NULL};
    char *second[] = {a0, a1, b2, NULL};
    struct cli c = {0};
    msp_opts_result r;
    cr_assert_eq(msp_opts_parse(table, N_ROWS, 4, first, 2, &c, &r),
                 MSP_OPTS_DONE);
    cr_expect_eq(c.jobs, 4u);
    cr_expect_eq(r.next, 4);
    cr_expect_str_eq(first[1], "verify", "the command word stays");
    cr_assert_eq(msp_opts_parse(table, N_ROWS, 3, second, 2, &c, &r),
                 MSP_OPTS_DONE);
    cr_expect_eq(c.quiet, 1);
    cr_expect_eq(r.next, 3);
}

Test(opts, a_handler_sees_the_option_as_typed_and_its_refusal_is_kept)
{
    struct cli c;
    msp_opts_result r;
    cr_assert_eq(PARSE(&c, &r, "--key", "k"), MSP_OPTS_DONE);
    cr_expect_str_eq(c.typed, "--key", "an abbreviation shows as typed");
    cr_expect_str_eq(c.name, "k");
    cr_assert_eq(PARSE(&c, &r, "--key-file=k"), MSP_OPTS_DONE);
    cr_expect_str_eq(c.typed, "--key-file=k");
    cr_assert_eq(PARSE(&c, &r, "--key-file", "bad"), MSP_OPTS_REFUSED);
    cr_expect_str_eq(r.why, "--key: bad is refused");
    cr_expect_str_eq(r.arg, "bad");
}
