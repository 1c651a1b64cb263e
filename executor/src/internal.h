/*
 * internal.h — helpers shared by the executor's sources (not installed).
 *
 * Library-internal names start with Msp_; statics are bare.
 */
#ifndef MSP_EXECUTOR_INTERNAL_H
#define MSP_EXECUTOR_INTERNAL_H

#include <stddef.h>

#include "executor/msp_executor.h"
#include "executor/msp_util.h"

/* A borrowed byte span. */
typedef struct msp_span {
    const char *p;
    size_t n;
} msp_span;

/* The escapers' fast path: writes the longest run of s[*i..n) that plain()
 * passes through unchanged, in one write (none for an empty run), and moves
 * *i past it. Returns write's code. Inline, so that plain() is too. */
static inline int Msp_write_plain_run(const char *s, size_t n, size_t *i,
                                      int (*plain)(unsigned char c),
                                      msp_write_fn write, void *user)
{
    const size_t from = *i;
    size_t run = from;
    while (run < n && plain((unsigned char)s[run]))
        run++;
    *i = run;
    return run > from ? write(user, s + from, run - from) : 0;
}

/* Like Msp_result_fill, but leaves room for out_room bytes of stdout
 * (res->out, NUL-terminated at out_room) for the caller to write; the
 * caller then sets res->out_len and the NUL. */
int Msp_result_alloc(msp_result *res, int row, int exit_code, size_t out_room,
                     const msp_span *parts, size_t nparts);

/* Fills *res for table row `row`: exit_code is the table's (or `exit_code`
 * for row 6), out is copied, err is the row's stderr prefix followed by the
 * parts. Returns 0 or MSP_ERR_NOMEM (leaving *res untouched). */
int Msp_result_fill(msp_result *res, int row, int exit_code, const char *out,
                    size_t out_len, const msp_span *parts, size_t nparts);

/* msp_map_response that also reports error.code (when the body had one)
 * into code (NUL-terminated, truncated to codelen; may be NULL). */
int Msp_map_response(long status, const char *body, size_t body_len,
                     msp_result *res, char *code, size_t codelen);

/* jsonraw.c: strict validation, and members read from the text. */

/* 1 when json[0..len) is one JSON text as RFC 8259 (and JSON.parse)
 * defines it, whitespace around it and a leading UTF-8 byte order mark
 * allowed; 0 when not; -1 when out of memory. Iterative: any depth, memory
 * one bit per nesting level. */
int Msp_json_valid(const char *json, size_t len);

/* The verbatim text of the value of the first top-level member cJSON would
 * find under name (its decoded name read as a C string), or {NULL, 0}. */
msp_span Msp_json_member(const char *json, size_t len, const char *name);

/* jsonstr.c: four hex digits p[0..4) (n bytes are readable) into *v;
 * 0, or -1 when n < 4 or one is not a hex digit (*v untouched). */
int Msp_hex4(const char *p, size_t n, unsigned *v);

/* jsonstr.c: the UTF-8 form of code point cp (below 0x110000) in out;
 * returns its length, 1 to 4. */
size_t Msp_utf8_encode(unsigned long cp, char out[4]);

/* 1 when s[0..n) holds a raw NUL byte or a \u escape cJSON reads as U+0000
 * (\u0000, or \u with a bad hex digit). */
int Msp_json_has_nul(const char *s, size_t n);

/* Copies json[0..len) into out (room for len bytes) without the
 * whitespace between tokens (and a byte order mark); strings are copied as
 * written. Returns the bytes written. */
size_t Msp_json_compact(const char *json, size_t len, char *out);

/* Row 2 checks: writes why the context cannot go on the wire, naming the
 * field, and returns -1; or returns 0 when it can. */
int Msp_context_check(const msp_context *ctx, char *why, size_t whylen);

/* 1 when s[0..n) holds a byte < 0x20 or 0x7f. */
int Msp_has_control_byte(const char *s, size_t n);

/* Writes msg (NUL-terminated, truncated) into errbuf when errbuf is set. */
void Msp_set_error(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* MSP_EXECUTOR_INTERNAL_H */
