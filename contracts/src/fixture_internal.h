/*
 * fixture_internal.h — what the files of the fixture model share privately.
 *
 * parse.c validates a document and compiles its regexes into a regtab that
 * hangs off mspf_fixture.priv; match.c evaluates matchers (looking regexes
 * up by the cJSON node of their matcher object); check.c compares requests,
 * results and provider replies and formats the differences.
 */
#ifndef MSPF_FIXTURE_INTERNAL_H
#define MSPF_FIXTURE_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdatomic.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "contracts/fixture.h"

#define MSPF_MAX_FILE_BYTES   MSPF_FILE_MAX
#define MSPF_MAX_REPEAT_BYTES MSPF_BODY_REPEAT_MAX
#define MSPF_DIFF_CUT         200u

/* Regexes: at most this long, and at most this big once their
 * repetitions are expanded (mspf_regex_cost). */
#define MSPF_REGEX_MAX_LEN  4096u
#define MSPF_REGEX_MAX_COST 20000u

/* What one match may cost (pcre2_set_match_limit, _depth_limit,
 * _heap_limit); past any of them the match is a non-match. */
#define MSPF_REGEX_MATCH_LIMIT    100000u
#define MSPF_REGEX_DEPTH_LIMIT    5000u
#define MSPF_REGEX_HEAP_LIMIT_KIB 4096u

/* A regex's matches before it is JIT-compiled: a one-off check (verify,
 * lint) never pays for the compiler; a fixture server does after a few
 * requests. The JIT only answers match or no match: a JIT limit or error
 * runs the interpreter under the limits above, so a limit hit means what
 * it always did. */
#define MSPF_REGEX_JIT_AFTER 8u

/* Estimated size of pattern once its bounded repetitions are expanded. */
size_t mspf_regex_cost(const char *pattern);

/* Compiles a fixture regex (PCRE2, the options of the documented dialect);
 * NULL with a reason in msg when it does not compile. */
pcre2_code *Mspf_regex_compile(const char *pattern, char *msg, size_t len);

/* One compiled regex, keyed by the matcher object {"regex": "..."} it
 * came from. A regex matched often (a fixture server's hot path) also gets
 * a JIT-compiled copy, made once by the thread whose match is the
 * MSPF_REGEX_JIT_AFTER-th and published atomically (match.c). */
typedef struct regentry {
    const cJSON *node;
    pcre2_code *re;
    _Atomic(pcre2_code *) jit; /* NULL until made; freed with re */
    atomic_uint uses;          /* matches run, counted until jit is made */
} regentry;

typedef struct regtab {
    regentry *items;
    size_t n;
    size_t cap;
} regtab;

/* Strings holding a NUL byte, which cJSON's valuestring cuts short: their
 * whole decoded bytes, keyed by the cJSON node (strtab.c). */
typedef struct strentry {
    const cJSON *node;
    char *bytes; /* NUL-terminated; len excludes the terminator */
    size_t len;
} strentry;

typedef struct strtab {
    strentry *items;
    size_t n;
    size_t cap;
} strtab;

/* Walks json[0..len) (the text root was parsed from) and records every
 * string of the tree that holds a NUL. Returns 0, -1 on ENOMEM, or
 * MSPF_STRTAB_NOT_JSON when a string (a value or a member name) is one the
 * kit's JSON string decoder refuses though cJSON took it (a raw control
 * byte, a \u with a non-hex digit): not JSON. */
#define MSPF_STRTAB_NOT_JSON (-2)
int Mspf_strtab_build(strtab *t, const char *json, size_t len,
                      const cJSON *root);
void Mspf_strtab_free(strtab *t);
/* The exact bytes of string node v (its valuestring when not recorded). */
const char *Mspf_strtab_bytes(const strtab *t, const cJSON *v, size_t *len);
/* 1 when a recorded string is v or inside v. */
int Mspf_strtab_within(const strtab *t, const cJSON *v);
/* The span [*start, *end) of target's text inside json (parsed into root).
 * Returns 0, or -1 when target is not in the tree. */
int Mspf_json_span(const char *json, size_t len, const cJSON *root,
                   const cJSON *target, size_t *start, size_t *end);
/* Copies json[0..len) to out (room for len bytes) without the whitespace
 * outside strings; strings as written. Returns the bytes written. */
size_t Mspf_json_compact(const char *json, size_t len, char *out);
/* s[0..len) as a JSON string literal, quotes included, a NUL as \u0000.
 * malloc'd; NULL on ENOMEM. */
char *Mspf_quote_bytes(const char *s, size_t len);

/* The private part of a fixture. */
typedef struct fixture_priv {
    regtab regexes;
    strtab strings; /* of the fixture document */
} fixture_priv;

void Mspf_regtab_free(regtab *t);
regentry *Mspf_regtab_find(const regtab *t, const cJSON *node);

/* Matcher keys; a matcher is an object with exactly one of them. */
typedef enum matcher_kind {
    M_NONE = 0,
    M_REGEX,
    M_SAME_AS,
    M_JSON,
    M_TYPE,
    M_ABSENT
} matcher_kind;

/* The kind of matcher `v` is, or M_NONE for a literal. */
matcher_kind Mspf_matcher_of(const cJSON *v);

/* Evaluation context: regexes of the fixture (may be NULL: compiled on the
 * fly), where to put differences (may be NULL), and the field path of the
 * value being compared (e.g. "request.body.params"). */
typedef struct mctx {
    const regtab *rt;
    const strtab *st[2]; /* NUL strings of the expected / got documents */
    mspf_diffs *diffs;
    char path[512];
    size_t plen;
} mctx;

void Mspf_mctx_init(mctx *m, const regtab *rt, mspf_diffs *diffs,
                    const char *root);
/* Appends ".key" or "[i]" to the path; returns the previous length for
 * Mspf_mctx_pop(). */
size_t Mspf_mctx_push_key(mctx *m, const char *key);
size_t Mspf_mctx_push_index(mctx *m, size_t i);
void Mspf_mctx_pop(mctx *m, size_t len);

/* Compares got (NULL: absent) against expected (literal or matcher). */
int Mspf_match_value(mctx *m, const cJSON *expected, const cJSON *got);
/* Compares got against `example` by type and shape only. */
int Mspf_match_type(mctx *m, const cJSON *example, const cJSON *got);
/* Runs the regex of a {"regex": ...} matcher against text[0..len): 1
 * match, 0 no match, -1 a limit was hit (a non-match; counted for
 * mspf_regex_limit_hits). */
int Mspf_match_regex(const mctx *m, const cJSON *matcher, const char *text,
                     size_t len);
/* {"json": arg} against text[0..len): parses it (strings keep their NUL
 * bytes) and compares; a text that is not JSON is a difference. */
int Mspf_match_json_text(mctx *m, const cJSON *arg, const char *text,
                         size_t len);
/* The same with text already parsed (parsed: cJSON's tree of exactly that
 * text, NULL when it is not JSON). */
int Mspf_match_json_doc(mctx *m, const cJSON *arg, const char *text, size_t len,
                        const cJSON *parsed);
/* The exact bytes of string node v, from m's tables. */
const char *Mspf_str(const mctx *m, const cJSON *v, size_t *len);

/* Records a difference at the current path; expected/got are shown as
 * given (cut to ~200 chars). Returns 0 so callers can `return diff(...)`. */
int Mspf_diff_text(mctx *m, const char *expected, const char *got);
/* Same, with JSON values rendered compactly ("(absent)" for NULL). */
int Mspf_diff_json(mctx *m, const cJSON *expected, const cJSON *got);

/* Same, got being text[0..len) shown as a JSON string (NUL as \u0000). */
int Mspf_diff_bytes(mctx *m, const cJSON *expected, const char *got,
                    size_t len);

/* Compact JSON of v, "(absent)" for NULL; malloc'd (NULL on ENOMEM). */
char *Mspf_json_text(const cJSON *v);
/* A malloc'd copy of s cut to `max` bytes plus "…(N bytes)" when longer. */
char *Mspf_cut_text(const char *s, size_t len, size_t max);

/* "Bearer sk-test" → "Bearer sk-t…(7)"; without "Bearer " the whole
 * (quoted) value is masked: "\"sk-test\"" → "\"sk-t…(7)\"". malloc'd. */
char *Mspf_redact_bearer(const char *s);

/* ---- validation (parse.c), shared with response.c ------------------- */

/* Where the validator is in the document. */
typedef struct pctx {
    mspf_error *err;
    char path[256];
    size_t plen;
    regtab *rt;
    const strtab *st; /* NUL strings of the document */
    const char *text; /* the document's text, for members kept as written */
    size_t text_len;
    const cJSON *root;
    size_t budget;    /* bytes the responses may hold; 0: no limit */
    size_t held;      /* bytes rendered so far */
    const char *name; /* the fixture's name, once read */
} pctx;

/* Counts n more bytes against the budget before they are allocated;
 * -1 (error set) when that would pass it. */
int Mspf_parse_hold(pctx *p, size_t n);

/* The JSON text of v for the wire: compact cJSON output, or, when a string
 * in v holds a NUL (which cJSON would cut), v's own text with the
 * whitespace outside strings removed. malloc'd, length in *len; NULL with
 * p->err filled on failure. */
char *Mspf_parse_wire_json(pctx *p, const cJSON *v, size_t *len);

/* A literal header value (request matcher or response header): refused
 * (-1, error set) when it holds CR, LF, NUL or invalid UTF-8. */
int Mspf_parse_check_header_value(pctx *p, const cJSON *v);

/* Path edits: push returns the previous length for Mspf_parse_pop(). */
size_t Mspf_parse_push_key(pctx *p, const char *key);
size_t Mspf_parse_push_index(pctx *p, size_t i);
void Mspf_parse_pop(pctx *p, size_t len);
/* Fill p->err at the current path (or path.key); return -1. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int Mspf_parse_fail(pctx *p, const char *fmt, ...);
int Mspf_parse_fail_at(pctx *p, const char *key, const char *reason);
/* Refuses any key of obj not in the NULL-terminated `allowed`. */
int Mspf_parse_check_keys(pctx *p, const cJSON *obj,
                          const char *const *allowed);
int Mspf_parse_want_object(pctx *p, const cJSON *v);
/* An integer in [lo, hi]; obj.key left unchanged in *out when absent and
 * not required. */
int Mspf_parse_get_int(pctx *p, const cJSON *v, long long lo, long long hi,
                       long long *out);
int Mspf_parse_int_member(pctx *p, const cJSON *obj, const char *key,
                          int required, long long lo, long long hi,
                          long long *out);

/* Matcher positions: what a value may be there (parse.c). */
enum {
    MSPF_AT_HEADER, /* string literal or matcher; same_as and absent allowed */
    MSPF_AT_BODY,   /* any JSON, matchers at any depth; absent as a member */
    MSPF_AT_TEXT    /* stdout/stderr: string literal, regex, json or type */
};

/* Validates a value that will be matched (literal or matcher), compiling
 * its regexes into p->rt. */
int Mspf_parse_check_value(pctx *p, const cJSON *v, int at);

/* Parses the "provider" block (provider.c); `doc` is the whole fixture. */
int Mspf_parse_provider(pctx *p, const cJSON *pr, mspf_fixture *f);

/* Parses and renders one response object (response.c). */
int Mspf_parse_response(pctx *p, const cJSON *r, mspf_response *out);

#endif /* MSPF_FIXTURE_INTERNAL_H */
