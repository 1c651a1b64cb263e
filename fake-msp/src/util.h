/*
 * util.h — small helpers shared by the fake-msp modules: the reply cap, key
 * masking and clocks. Buffers are the executor's msp_buf (msp_util.h).
 */
#ifndef FAKE_MSP_UTIL_H
#define FAKE_MSP_UTIL_H

#include <stddef.h>

#include "executor/msp_util.h"

/* The cap of a reply or journal buffer built in memory (an msp_buf,
 * executor/msp_util.h). */
#define FM_REPLY_MAX (64u * 1024u * 1024u)

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
