/*
 * msp_opts.h — the one command-line parser of the kit's programs
 * (msp-exec, fake-msp, msp-contract).
 *
 * A program describes its options as a table of msp_opt rows: the name,
 * the kind of value, where the value goes (a field of the program's own
 * options struct, by offset: MSP_OPT_FIELD) and, for a number, its bounds.
 * msp_opts_parse() reads argv with getopt_long (GNU rules: options and
 * operands in any order, "--name=value", unique abbreviations, "--" ends
 * the options) and stores each value as it comes. It never prints and
 * never exits: a refusal comes back as an msp_opts_result, which the
 * program words in its own voice (every program keeps its messages).
 *
 * Ownership: the strings stored are argv's own (nothing is allocated); an
 * MSP_OPT_CALL handler owns whatever it keeps. It drives getopt_long's
 * process-wide state (optind, optarg): one parse at a time, from main.
 */
#ifndef MSP_EXECUTOR_MSP_OPTS_H
#define MSP_EXECUTOR_MSP_OPTS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Rows in one table at most. */
#define MSP_OPTS_MAX 64

/* Where a row's value goes: the offset and size of member in type. */
#define MSP_OPT_FIELD(type, member) \
    offsetof(type, member), sizeof(((type *)0)->member)

/* Rows, compact: `field` is MSP_OPT_FIELD(type, member), `letter` the
 * short name or 0, `kind` for MSP_OPT_ROW one of FLAG, STOP and STRING,
 * for MSP_OPT_CALL_ROW CALL or CALL_FLAG. */
#define MSP_OPT_ROW(name, letter, kind, field)               \
    {                                                        \
        (name), (letter), (kind), field, 0, 0, NULL, 0, NULL \
    }
#define MSP_OPT_NUMBER_ROW(name, letter, field, min, max, what)                \
    {                                                                          \
        (name), (letter), MSP_OPT_NUMBER, field, (min), (max), (what), 0, NULL \
    }
#define MSP_OPT_LIST_ROW(name, field, count)                      \
    {                                                             \
        (name), 0, MSP_OPT_LIST, field, 0, 0, NULL, (count), NULL \
    }
#define MSP_OPT_CALL_ROW(name, kind, call)             \
    {                                                  \
        (name), 0, (kind), 0, 0, 0, 0, NULL, 0, (call) \
    }

typedef enum msp_opt_kind {
    MSP_OPT_FLAG,     /* no value: the int field is set to 1 */
    MSP_OPT_STOP,     /* no value: the int field is set to 1 and parsing stops
                         there (--help, --version) */
    MSP_OPT_STRING,   /* the const char * field takes the value; the last one
                         given wins */
    MSP_OPT_NUMBER,   /* a whole decimal number in [min, max] (msp_opts_number)
                         into an unsigned or non-negative integer field of 1,
                         2, 4 or 8 bytes; max must fit the field */
    MSP_OPT_LIST,     /* repeatable: the value appended to a const char *
                         array field (its size is the cap), the count in the
                         size_t field at offset `count` */
    MSP_OPT_CALL,     /* takes a value, handed to `call` */
    MSP_OPT_CALL_FLAG /* no value; `call` is called */
} msp_opt_kind;

/* What an MSP_OPT_CALL handler is given. */
typedef struct msp_opt_use {
    char *value;       /* argv's value; NULL for MSP_OPT_CALL_FLAG */
    const char *typed; /* the argv element that named the option, as typed
                          ("--api-key-file", "--proxy=URL", "-j4") */
    char *why;         /* a refusing handler writes its message here */
    size_t why_size;
} msp_opt_use;

/* A handler: dest is msp_opts_parse()'s. Returns 0, or -1 with use->why
 * set (the parse stops with MSP_OPTS_REFUSED). */
typedef int (*msp_opt_fn)(void *dest, msp_opt_use *use);

/* One option. Rows are usually written with designated initializers. */
typedef struct msp_opt {
    const char *name; /* the long name, without "--" */
    int letter;       /* the short name ('q'), or 0 */
    msp_opt_kind kind;
    size_t offset;               /* the field in dest (MSP_OPT_FIELD) */
    size_t size;                 /*   and its size in bytes */
    unsigned long long min, max; /* MSP_OPT_NUMBER: bounds, inclusive */
    const char *what; /* MSP_OPT_NUMBER: how a bad value is refused, e.g.
                         "--port wants 0..65535" */
    size_t count;     /* MSP_OPT_LIST: offset of the size_t count */
    msp_opt_fn call;  /* MSP_OPT_CALL, MSP_OPT_CALL_FLAG */
} msp_opt;

typedef enum msp_opts_status {
    MSP_OPTS_DONE,       /* every option read; operands start at `next` */
    MSP_OPTS_STOPPED,    /* an MSP_OPT_STOP option was met (`opt`) */
    MSP_OPTS_UNKNOWN,    /* no row has it (or an abbreviation is ambiguous,
                            or a value was given to an option without one) */
    MSP_OPTS_NO_VALUE,   /* an option that takes a value came last */
    MSP_OPTS_BAD_NUMBER, /* an MSP_OPT_NUMBER value out of its bounds */
    MSP_OPTS_TOO_MANY,   /* an MSP_OPT_LIST option once more than its cap */
    MSP_OPTS_REFUSED,    /* a handler refused the value: `why` */
    MSP_OPTS_BAD_TABLE   /* two rows share a name or a letter, a row has
                            neither, a field size is not 1, 2, 4 or 8, or
                            more than MSP_OPTS_MAX rows: a program bug */
} msp_opts_status;

/* How a parse ended. */
typedef struct msp_opts_result {
    msp_opts_status status;
    const msp_opt *opt; /* the row concerned; NULL for MSP_OPTS_UNKNOWN */
    const char *arg;    /* UNKNOWN, NO_VALUE: the argv element as typed
                           (it may hold "=value"); BAD_NUMBER, TOO_MANY,
                           REFUSED: the value; else NULL */
    int letter;         /* UNKNOWN: the unknown short option's letter, else
                           0 */
    int next;           /* DONE: argv index of the first operand (argc when
                           there is none); getopt_long moves the operands
                           after the options */
    char why[512];      /* REFUSED, BAD_TABLE: the reason */
} msp_opts_result;

/* Parses argv[first..argc-1] against table[0..n-1], storing each value
 * into dest as it is read; argv[first - 1] is taken as the program's name
 * (first is 1 for a program, 2 after a command word). Resets getopt's
 * state (optind) first, so it may be called more than once. Returns
 * res->status; on anything but MSP_OPTS_DONE the fields stored so far stay
 * stored. */
msp_opts_status msp_opts_parse(const msp_opt *table, size_t n, int argc,
                               char **argv, int first, void *dest,
                               msp_opts_result *res);

/* A whole decimal number in [min, max]: digits, after what strtoull skips
 * (white space, a '+'); never negative, nothing after the digits. Returns
 * 0 with *out set, or -1. */
int msp_opts_number(const char *text, unsigned long long min,
                    unsigned long long max, unsigned long long *out);

#ifdef __cplusplus
}
#endif

#endif /* MSP_EXECUTOR_MSP_OPTS_H */
