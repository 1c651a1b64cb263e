/*
 * util.h — small helpers shared by the fake-msp modules: a capped growing
 * buffer, JSON string escaping, key masking and clocks.
 */
#ifndef FAKE_MSP_UTIL_H
#define FAKE_MSP_UTIL_H

#include <stddef.h>

/* A growing byte buffer like curl's dynbuf: its cap is set by
 * fm_buf_init(). `p` is always NUL-terminated once anything was appended;
 * `failed` latches on ENOMEM or when `cap_max` would be passed (a buffer
 * never initialised has cap 0 and fails at once), so callers check once at
 * the end. Free `p` with free(). */
typedef struct fm_buf {
    char *p;
    size_t len;
    size_t cap;
    size_t cap_max; /* set by fm_buf_init */
    int failed;
} fm_buf;

/* The cap of a reply or journal buffer built in memory. */
#define FM_REPLY_MAX (64u * 1024u * 1024u)

/* Starts an empty buffer that never holds more than cap_max bytes. */
void fm_buf_init(fm_buf *b, size_t cap_max);

void fm_buf_add(fm_buf *b, const void *data, size_t len);
void fm_buf_adds(fm_buf *b, const char *s);
void fm_buf_addf(fm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s (len bytes) as a quoted JSON string with msp_json_quote()
 * (bytes that are not UTF-8 become \ufffd); NULL appends null. */
void fm_buf_json_str(fm_buf *b, const char *s, size_t len);
/* Takes the bytes out of b (caller frees); NULL if b failed. */
char *fm_buf_take(fm_buf *b, size_t *len);

/* Masks an Authorization value with msp_mask_secret(): "Bearer s…(7)"
 * (the one policy: at most 4 bytes and a quarter shown); the scheme word is
 * kept only for Bearer, Basic, Digest and Token, otherwise the whole value
 * is masked as one secret. */
void fm_mask_authorization(const char *value, char *out, size_t outlen);

long long fm_mono_ms(void);
long long fm_wall_ms(void);

/* splitmix64: the PRNG behind garbage bytes (state advanced in place). */
unsigned long long fm_splitmix64(unsigned long long *state);

/* 1 when the n bytes are valid UTF-8 without NUL. */
int fm_utf8_valid(const unsigned char *s, size_t n);

/* Case-insensitive equality of ASCII strings. */
int fm_strieq(const char *a, const char *b);

#endif
