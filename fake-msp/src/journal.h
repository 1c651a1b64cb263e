/*
 * journal.h — the request journal: a bounded ring of what arrived.
 *
 * Appending is O(1) under a short mutex; when the ring is full (max
 * entries, or max_bytes of entries in all) the oldest entries are dropped
 * and counted. The newest entry is always kept, even alone over max_bytes.
 * Each entry is a single allocation.
 */
#ifndef FAKE_MSP_JOURNAL_H
#define FAKE_MSP_JOURNAL_H

#include <stddef.h>
#include "fake_msp/fake_msp.h"
#include "util.h"

typedef struct journal journal;

journal *fm_journal_new(size_t max, size_t max_bytes);
void fm_journal_free(journal *j);
void fm_journal_clear(journal *j);
unsigned long long fm_journal_dropped(journal *j);

/* Records one request (everything copied); seq and time are assigned here.
 * Returns the seq, or 0 on ENOMEM (the entry is then lost, not counted). */
unsigned long long
fm_journal_append(journal *j, const char *method, const char *path,
                  const mspf_header *headers, size_t n_headers,
                  const unsigned char *body, size_t body_len,
                  const char *fixture, int status, char *const *violations,
                  size_t n_violations);

/* The credentials the server knows (its keys, the built-in role keys, the
 * admin token): the JSON of an entry masks each of them, and the entry's
 * own bearer key, in every spelling scrub.h finds, wherever they appear
 * (header values, path and query, body, violations), as "[REDACTED]";
 * everything else stays byte for byte. Keys shorter than
 * FM_JOURNAL_MIN_KEY bytes are only masked in Authorization. Masking
 * happens when the journal is read, never on the request path. Returns 0,
 * or -1 on ENOMEM (the previous set stays). */
#define FM_JOURNAL_MIN_KEY 4
int fm_journal_set_secrets(journal *j, const char *const *keys, size_t n);

/* See fake_msp_journal_find(). */
int fm_journal_find(journal *j, const char *command_id, fake_msp_entry **out,
                    size_t *n);

/* Appends the JSON of the oldest entry whose seq is past `after` to b
 * (Authorization masked; strings that are not UTF-8 as {"base64":...}, a
 * body as "body", or "body_base64" when it is not UTF-8 or escaping would
 * make it longer than base64) and returns its seq, or 0 when there is none.
 * *dropped (may be NULL) gets the dropped count. One entry at a time, so a
 * reader of the whole journal never holds more than one entry's JSON. */
unsigned long long fm_journal_entry_json(journal *j, unsigned long long after,
                                         msp_buf *b,
                                         unsigned long long *dropped);

/* Appends {"dropped":N,"requests":[...]} to b, credentials masked (see
 * fm_journal_set_secrets). */
void fm_journal_to_json(journal *j, msp_buf *b);

#endif
