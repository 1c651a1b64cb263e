/*
 * opts.c — msp_opts_parse(), the table-driven option parser of msp_opts.h,
 * over getopt_long: the table becomes getopt_long's struct option array
 * and short-option string, each value is stored by its row.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/msp_opts.h"

/* getopt_long's value for row i when the row has no letter: past every
 * letter, so the two never meet. */
#define ROW_BASE 256

int msp_opts_number(const char *text, unsigned long long min,
                    unsigned long long max, unsigned long long *out)
{
    const char *s = text;
    char *end;
    unsigned long long v;

    while (isspace((unsigned char)*s))
        s++;
    if (!*text || *s == '-') /* strtoull would negate it */
        return -1;
    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int takes_value(msp_opt_kind kind)
{
    return kind == MSP_OPT_STRING || kind == MSP_OPT_NUMBER ||
           kind == MSP_OPT_LIST || kind == MSP_OPT_CALL;
}

static msp_opts_status bad_table(msp_opts_result *res, const msp_opt *row,
                                 const char *why)
{
    res->status = MSP_OPTS_BAD_TABLE;
    res->opt = row;
    snprintf(res->why, sizeof res->why, "option table: %s%s%s", why,
             row && row->name ? ": --" : "", row && row->name ? row->name : "");
    return res->status;
}

/* The size a row's field must have (0: any of 1, 2, 4, 8 bytes; for a
 * list, a whole number of pointers). */
static int size_ok(const msp_opt *r)
{
    switch (r->kind) {
    case MSP_OPT_FLAG:
    case MSP_OPT_STOP: return r->size == sizeof(int);
    case MSP_OPT_STRING: return r->size == sizeof(const char *);
    case MSP_OPT_NUMBER:
        return r->size == 1 || r->size == 2 || r->size == 4 || r->size == 8;
    case MSP_OPT_LIST:
        return r->size >= sizeof(const char *) &&
               r->size % sizeof(const char *) == 0;
    case MSP_OPT_CALL:
    case MSP_OPT_CALL_FLAG: return r->call != NULL;
    }
    return 0;
}

/* 0 when the table can be parsed with, else MSP_OPTS_BAD_TABLE. */
static int check_table(const msp_opt *t, size_t n, msp_opts_result *res)
{
    if (n > MSP_OPTS_MAX)
        return bad_table(res, NULL, "more rows than MSP_OPTS_MAX");
    for (size_t i = 0; i < n; i++) {
        if (!t[i].name && !t[i].letter)
            return bad_table(res, &t[i], "a row without a name");
        if (t[i].letter &&
            (t[i].letter < 0 || t[i].letter > 127 || !isalnum(t[i].letter)))
            return bad_table(res, &t[i], "a letter getopt cannot take");
        if (!size_ok(&t[i]))
            return bad_table(res, &t[i], "a field of the wrong size");
        for (size_t j = 0; j < i; j++) {
            if (t[i].name && t[j].name && strcmp(t[i].name, t[j].name) == 0)
                return bad_table(res, &t[i], "two rows with one name");
            if (t[i].letter && t[i].letter == t[j].letter)
                return bad_table(res, &t[i], "two rows with one letter");
        }
    }
    return 0;
}

static void store_number(void *field, size_t size, unsigned long long v)
{
    if (size == 1) {
        uint8_t x = (uint8_t)v;
        memcpy(field, &x, sizeof x);
    } else if (size == 2) {
        uint16_t x = (uint16_t)v;
        memcpy(field, &x, sizeof x);
    } else if (size == 4) {
        uint32_t x = (uint32_t)v;
        memcpy(field, &x, sizeof x);
    } else {
        uint64_t x = v;
        memcpy(field, &x, sizeof x);
    }
}

static msp_opts_status refuse(msp_opts_result *res, msp_opts_status status,
                              const msp_opt *row, const char *arg)
{
    res->status = status;
    res->opt = row;
    res->arg = arg;
    return status;
}

/* Stores one value by its row. Returns MSP_OPTS_DONE to go on, else how
 * the parse ends. */
static msp_opts_status store(const msp_opt *row, void *dest, char *value,
                             const char *typed, msp_opts_result *res)
{
    char *field = (char *)dest + row->offset;
    int one = 1;
    unsigned long long v;
    size_t count;

    switch (row->kind) {
    case MSP_OPT_FLAG: memcpy(field, &one, sizeof one); break;
    case MSP_OPT_STOP:
        memcpy(field, &one, sizeof one);
        return refuse(res, MSP_OPTS_STOPPED, row, NULL);
    case MSP_OPT_STRING: memcpy(field, &value, sizeof value); break;
    case MSP_OPT_NUMBER:
        if (msp_opts_number(value, row->min, row->max, &v) != 0)
            return refuse(res, MSP_OPTS_BAD_NUMBER, row, value);
        store_number(field, row->size, v);
        break;
    case MSP_OPT_LIST:
        memcpy(&count, (char *)dest + row->count, sizeof count);
        if ((count + 1) * sizeof value > row->size) /* the array is full */
            return refuse(res, MSP_OPTS_TOO_MANY, row, value);
        memcpy(field + count * sizeof value, &value, sizeof value);
        count++;
        memcpy((char *)dest + row->count, &count, sizeof count);
        break;
    case MSP_OPT_CALL:
    case MSP_OPT_CALL_FLAG: {
        msp_opt_use use = {value, typed, res->why, sizeof res->why};
        if (row->call(dest, &use) != 0) {
            if (!res->why[0])
                snprintf(res->why, sizeof res->why, "--%s refused",
                         row->name ? row->name : "");
            return refuse(res, MSP_OPTS_REFUSED, row, value);
        }
        break;
    }
    }
    return MSP_OPTS_DONE;
}

static const msp_opt *row_of(const msp_opt *t, size_t n, int c)
{
    if (c >= ROW_BASE)
        return (size_t)(c - ROW_BASE) < n ? &t[c - ROW_BASE] : NULL;
    for (size_t i = 0; i < n; i++)
        if (c > 0 && t[i].letter == c)
            return &t[i];
    return NULL;
}

msp_opts_status msp_opts_parse(const msp_opt *table, size_t n, int argc,
                               char **argv, int first, void *dest,
                               msp_opts_result *res)
{
    struct option longopts[MSP_OPTS_MAX + 1];
    char letters[2 * MSP_OPTS_MAX + 2];
    size_t nl = 0, ns = 0;
    int c;

    memset(res, 0, sizeof *res);
    if (check_table(table, n, res) != 0)
        return res->status;
    letters[ns++] = ':'; /* a missing value is ':', not '?' */
    for (size_t i = 0; i < n; i++) {
        int has = takes_value(table[i].kind);
        if (table[i].letter) {
            letters[ns++] = (char)table[i].letter;
            if (has)
                letters[ns++] = ':';
        }
        if (table[i].name)
            longopts[nl++] = (struct option){
                table[i].name, has ? required_argument : no_argument, NULL,
                table[i].letter ? table[i].letter : ROW_BASE + (int)i};
    }
    letters[ns] = '\0';
    longopts[nl] = (struct option){NULL, 0, NULL, 0};

    /* argv[first - 1] stands as the program name; optind 0 makes getopt
     * start afresh (GNU), at the element after it. */
    char **args = argv + first - 1;
    int nargs = argc - first + 1;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(nargs, args, letters, longopts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            res->letter =
                c == '?' && optopt > 0 && optopt < ROW_BASE ? optopt : 0;
            return refuse(res, c == ':' ? MSP_OPTS_NO_VALUE : MSP_OPTS_UNKNOWN,
                          c == ':' ? row_of(table, n, optopt) : NULL,
                          args[optind - 1]);
        }
        const msp_opt *row = row_of(table, n, c);
        if (!row)
            return refuse(res, MSP_OPTS_UNKNOWN, NULL, args[optind - 1]);
        char *value = takes_value(row->kind) ? optarg : NULL;
        const char *typed = args[optind - 1];
        if (value && value == args[optind - 1] && optind >= 2)
            typed = args[optind - 2]; /* "--name VALUE": the name before */
        msp_opts_status st = store(row, dest, value, typed, res);
        if (st != MSP_OPTS_DONE) {
            res->next = optind + first - 1;
            return st;
        }
    }
    res->status = MSP_OPTS_DONE;
    res->next = optind + first - 1;
    return MSP_OPTS_DONE;
}
