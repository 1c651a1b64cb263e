/*
 * scrub.h — finding credentials in any spelling, and replacing them, in one
 * linear pass (the recorder's fixtures, the journal's JSON).
 *
 * A scrubber is built once from a set of keys: each key gives its
 * spellings (raw, JSON \u00XX escapes, "\/" for "/", URL-encoded in full or
 * only the reserved bytes, hex, and the base64 and base64url text that
 * stands for the key at each of the three byte alignments of a longer run:
 * so base64("Bearer "+key), base64(key+"\n"), padded or not, are caught).
 * Matching folds ASCII case (the key upper- or lower-cased, upper- or
 * lower-case hex). All spellings of all keys are searched at once with an
 * Aho–Corasick automaton: one walk over the input, linear in its length
 * whatever it holds; the replacement is written into a new buffer, so the
 * placeholder is never searched again.
 */
#ifndef FAKE_MSP_SCRUB_H
#define FAKE_MSP_SCRUB_H

#include <stddef.h>

#define FM_SCRUB_PLACEHOLDER "[REDACTED]"
/* Keys longer than this are refused by fm_scrub_new (their spellings would
 * make the automaton large). */
#define FM_SCRUB_MAX_KEY  512
#define FM_SCRUB_MAX_KEYS 64

typedef struct fm_scrub fm_scrub;

/* Builds a scrubber for n keys (NUL-terminated); a key shorter than
 * min_len is left out (too short to tell from ordinary text). NULL on
 * ENOMEM, n over FM_SCRUB_MAX_KEYS or a key over FM_SCRUB_MAX_KEY bytes.
 * Free with fm_scrub_free (NULL does nothing). */
fm_scrub *fm_scrub_new(const char *const *keys, size_t n, size_t min_len);
void fm_scrub_free(fm_scrub *s);

/* How many needles (spellings) it searches; 0 for NULL. */
size_t fm_scrub_needles(const fm_scrub *s);

/* 1 when buf holds a spelling of a key, else 0 (s NULL: 0). */
int fm_scrub_has(const fm_scrub *s, const unsigned char *buf, size_t len);

/* Replaces every stretch of buf covered by spellings (overlapping or
 * adjacent ones merged) with FM_SCRUB_PLACEHOLDER. Returns 0 when nothing
 * matched (nothing allocated, *out untouched), 1 with a new NUL-terminated
 * buffer in *out (*out_len bytes, free()), -1 on ENOMEM. */
int fm_scrub_run(const fm_scrub *s, const unsigned char *buf, size_t len,
                 unsigned char **out, size_t *out_len);

/* fm_scrub_run and fm_scrub_has for text a scrubber already wrote (a
 * print of scrubbed data): its placeholders are not searched, so scrubbing
 * again never nests them ("[[REDACTED]]" for a key such as "REDACTED"). */
int fm_scrub_run_again(const fm_scrub *s, const unsigned char *buf, size_t len,
                       unsigned char **out, size_t *out_len);
int fm_scrub_has_again(const fm_scrub *s, const unsigned char *buf, size_t len);

#endif
