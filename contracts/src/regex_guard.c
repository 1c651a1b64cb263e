/*
 * regex_guard.c — refuses regexes whose compiled form would explode.
 *
 * Fixture regexes are compiled with PCRE2 (match.c), which, like glibc's
 * regcomp() before it, copies a sub-expression once per repetition count,
 * so "((a{100}){100}){100}" would become a million nodes (found by
 * fuzz_fixture_parse when regcomp() took gigabytes). Fixtures reach
 * fake-msp over the admin API, so a fixture must not be able to do that.
 * mspf_regex_cost() walks the POSIX extended syntax just far enough to estimate
 * the size regcomp() expands a pattern to: one per atom, a sum over a sequence
 * and over the branches of an alternation, times the repetition count of a
 * bound
 * ({m}, {m,n}: n; {m,}: m + 1) and twice for * + ?. The estimate saturates
 * just above any limit a caller uses; syntax errors are left to the compiler.
 */
#include <stddef.h>

#include "fixture_internal.h"

#define COST_CAP  ((size_t)1 << 40) /* saturation: far above any limit */
#define DEPTH_MAX 64 /* nested groups walked; deeper = too costly */

static size_t sat_add(size_t a, size_t b)
{
    return a > COST_CAP - b ? COST_CAP : a + b;
}

static size_t sat_mul(size_t a, size_t b)
{
    return (b && a > COST_CAP / b) ? COST_CAP : a * b;
}

/* The count of a bound at *pp ('{'), moving *pp past it; 0 when what
 * follows is not a bound (the compiler treats or rejects it). */
static size_t bound(const char **pp)
{
    const char *p = *pp + 1;
    size_t m = 0, n = 0;
    int has_m = 0, comma = 0, has_n = 0;

    for (; *p >= '0' && *p <= '9'; p++, has_m = 1)
        m = m > 100000 ? m : m * 10 + (size_t)(*p - '0');
    if (*p == ',') {
        comma = 1;
        for (p++; *p >= '0' && *p <= '9'; p++, has_n = 1)
            n = n > 100000 ? n : n * 10 + (size_t)(*p - '0');
    }
    if (*p != '}' || (!has_m && !has_n))
        return 0;
    *pp = p + 1;
    if (comma && !has_n)
        return m + 1; /* {m,}: m copies and a loop */
    if (comma && n > m)
        m = n;        /* {m,n}: n copies */
    return m ? m : 1; /* {m}; {0} and {0,0} still cost the atom */
}

/* Past a bracket expression at *p ('['). */
static const char *skip_bracket(const char *p)
{
    p++;
    if (*p == '^')
        p++;
    if (*p == ']')
        p++; /* a leading ']' is a member */
    while (*p && *p != ']') {
        if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
            char close = p[1];
            p += 2;
            while (*p && !(*p == close && p[1] == ']'))
                p++;
            if (*p)
                p += 2;
        } else {
            p++;
        }
    }
    return *p ? p + 1 : p;
}

/* Cost of the alternation at *pp, up to a ')' (depth > 0) or the end. */
static size_t alternation(const char **pp, int depth)
{
    const char *p = *pp;
    size_t total = 0, seq = 0;

    while (*p && !(*p == ')' && depth > 0)) {
        size_t atom = 1;
        if (*p == '|') {
            total = sat_add(total, seq);
            seq = 0;
            p++;
            continue;
        }
        if (*p == '(') {
            p++;
            if (depth >= DEPTH_MAX)
                return COST_CAP;
            atom = sat_add(alternation(&p, depth + 1), 1);
            if (*p == ')')
                p++;
        } else if (*p == '[') {
            p = skip_bracket(p);
        } else if (*p == '\\' && p[1]) {
            p += 2;
        } else {
            p++;
        }
        for (;;) { /* quantifiers, several in a row multiply */
            if (*p == '*' || *p == '+' || *p == '?') {
                atom = sat_mul(atom, 2);
                p++;
            } else if (*p == '{') {
                size_t k = bound(&p);
                if (!k)
                    break;
                atom = sat_mul(atom, k);
            } else {
                break;
            }
        }
        seq = sat_add(seq, atom);
    }
    *pp = p;
    return sat_add(total, seq);
}

size_t mspf_regex_cost(const char *pattern)
{
    const char *p = pattern;
    size_t cost = 0;

    /* an unbalanced ')' at the top ends alternation(): count what follows too
     */
    while (*p) {
        cost = sat_add(cost, alternation(&p, 0));
        if (*p)
            p++;
    }
    return cost;
}
