/*
 * diff_classify.h — between the parts of msp-contract diff's comparison:
 * diff_pair.c pairs the fixtures, diff_classify.c walks a pair's blocks
 * and records each change, diff_rules.c decides when two values are the
 * same and when a new matcher takes every value the old one took. Nothing
 * here prints; nothing is a public API.
 */
#ifndef MSP_HARNESS_DIFF_CLASSIFY_H
#define MSP_HARNESS_DIFF_CLASSIFY_H

#include "diff.h"

/* The documents a pair of values comes from: strings are compared with
 * their exact bytes (mspf_json_string), bytes after a \u0000 included. */
typedef struct hx_diff_docs {
    const mspf_json *old_js, *new_js;
} hx_diff_docs;

/* Exact equality, strings byte for byte, numbers numerically, objects with
 * the same members in any order; a from OLD, b from NEW; NULL is absent. */
int hx_diff_eq(const hx_diff_docs *d, const cJSON *a, const cJSON *b);
/* The matcher an object is read as: its single key when that is a matcher
 * name (with rules, the step rules present, exact and same_as_step too),
 * else NULL. Static. */
const char *hx_diff_matcher_of(const cJSON *v, int rules);
/* Every value with the shape of type example o has the shape of n. */
int hx_diff_type_weaker(const cJSON *o, const cJSON *n);
/* Every value the old matcher (or literal) o takes, the new one n takes. */
int hx_diff_implied(const hx_diff_docs *d, const cJSON *o, const cJSON *n,
                    int rules);

/* Appends the changes between fixture o of OLD and n of NEW to out; kind
 * is "changed", or "renamed" (the change names o's name too). */
void hx_diff_compare(hx_changes *out, const hx_side_fixture *o,
                     const hx_side_fixture *n, const char *kind);
/* Appends one change at path (old_value from o's document, new_value from
 * n's; "$" is a whole fixture, shown by its name); kind "added" (o NULL),
 * "removed" (n NULL) or "renamed". Secrets are masked, long values cut. */
void hx_diff_add(hx_changes *out, const hx_side_fixture *o,
                 const hx_side_fixture *n, const char *kind, const char *path,
                 const cJSON *old_value, const cJSON *new_value,
                 unsigned breaks, const char *why);

#endif /* MSP_HARNESS_DIFF_CLASSIFY_H */
