/*
 * rec_internal.h — the recorder's parts, shared by record.c (admission and
 * the entries), rec_fixture.c (the fixture document) and rec_write.c
 * (names, staging and writing). Not a public interface: its functions
 * are fm_recx_* (the recorder's internals; fm_rec_* is record.h).
 */
#ifndef FAKE_MSP_REC_INTERNAL_H
#define FAKE_MSP_REC_INTERNAL_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stddef.h>

#include "record.h"
#include "scrub.h"

/* The request Content-Type an executor sends; the only one recorded. */
#define REC_CONTENT_TYPE "application/json"
#define REC_MAX_REDACT   64
/* A key shorter than this is forwarded but never recorded nor remembered:
 * too short to scrub from a body without destroying it. */
#define FM_REC_MIN_KEY 8
/* The newest keys remembered for scrubbing later exchanges. */
#define FM_REC_MAX_KEYS 16
/* The longest retry sequence one fixture holds ("repeat"). */
#define FM_REC_MAX_SEQUENCE 16
/* The JSON values request and reply bodies may hold together (each is a
 * 64-byte node once parsed). */
#define FM_REC_MAX_VALUES 100000
/* What the open entries' documents may hold in all (an estimate: text
 * plus cJSON nodes); past it the oldest entries are closed. */
#define FM_REC_BUDGET (64u * 1024u * 1024u)

typedef struct path_step {
    char *member; /* NULL: an array step */
    long index;   /* -1: every element */
} path_step;

typedef struct rpath {
    int response; /* 0: request body, 1: response body */
    path_step *steps;
    size_t n;
} rpath;

/* An entry's versions: built under the recorder's lock, written under its
 * io lock; a write older than the last one written is skipped. */
typedef struct wstate {
    unsigned long built, written;
} wstate;

typedef struct entry {
    char *name;
    char *command_id;             /* as sent */
    unsigned long long body_hash; /* the request body (retry detection) */
    size_t body_len;
    char *role;
    unsigned long long ambig; /* hash of tool, params, correlation id, role */
    int literal_id;
    int reused_id; /* the command id was another fixture's: fresh context */
    int closed;    /* documents dropped (budget): no more retries */
    cJSON *context, *request, *responses, *expects;
    size_t held; /* the estimate counted against FM_REC_BUDGET */
    int exit_row;
    long first_status;
    char *tool; /* scrubbed */
    wstate *ws; /* versions built and written (stable pointer) */
} entry;

/* A fixture text waiting to be written (fm_rec_flush). */
struct fm_rec_pending {
    struct fm_rec_pending *next;
    wstate *ws;
    unsigned long version;
    char *name;
    char *text;
    size_t len;
};

/* The next free suffix of a base name ("list-devices-200"). */
typedef struct name_seq {
    char *base;
    int next;
} name_seq;

struct fm_recorder {
    pthread_mutex_t lock;
    pthread_mutex_t io; /* file writes (fm_rec_flush) */
    name_seq *names;
    size_t n_names;
    char *dir;
    rpath redact[REC_MAX_REDACT];
    size_t n_redact;
    entry *e;
    size_t n, cap;
    size_t oldest_open;          /* entries before it are closed */
    size_t held;                 /* sum of the open entries' held */
    char *keys[FM_REC_MAX_KEYS]; /* remembered, oldest first */
    size_t n_keys;
    fm_scrub *scrub; /* every spelling of keys[] */
    unsigned long long rng;
    unsigned long tmp_seq;
};

/* ---- rec_fixture.c ----------------------------------------------------- */

int fm_recx_rpath_parse(const char *text, rpath *out);
void fm_recx_rpath_free(rpath *p);
/* Redacts what path reaches under node (and {"type"} in matcher, if not
 * NULL); returns how many values. */
int fm_recx_redact_walk(cJSON *node, cJSON *matcher, const path_step *st,
                        size_t n);
/* Scrubs every string and member name under node; returns how many were
 * changed, -1 on ENOMEM. again: the strings are a print of scrubbed data
 * (fm_scrub_run_again). */
int fm_recx_scrub_tree(cJSON *node, const fm_scrub *s, int again);
/* A malloc'd scrubbed copy of s (NUL-terminated); NULL on ENOMEM. */
char *fm_recx_scrub_str(const fm_scrub *s, const char *str);
const char *fm_recx_header(const fm_exchange *x, int response,
                           const char *name);
int fm_recx_skip_resp_header(const char *name);
/* The response part and the expectation of one reply (scrubbed). */
int fm_recx_reply_parts(fm_recorder *rec, const fm_exchange *x,
                        cJSON **resp_out, cJSON **expect_out, int *row);
void fm_recx_error_code(const fm_exchange *x, char *out, size_t outlen);
/* The request matchers of an entry: method, path, headers as sent. */
cJSON *fm_recx_request_matchers(fm_recorder *rec, const fm_exchange *x,
                                const char *role, cJSON *matchbody);
cJSON *fm_recx_build_doc(const entry *e);

/* ---- rec_write.c ------------------------------------------------------- */

void fm_recx_fresh_uuid(fm_recorder *rec, char out[37]);
int fm_recx_make_name(fm_recorder *rec, const char *tool, long status,
                      char *out, size_t outlen);
/* Builds the entry's fixture text, checks it (no spelling of own_key's
 * scrubber, at most MSPF_FILE_MAX bytes, the fixture model loads it) and
 * queues it on *pending. 1 (why set) when it must not be written. */
int fm_recx_stage_entry(fm_recorder *rec, entry *e, const fm_scrub *own_key,
                        fm_rec_pending **pending, char *why, size_t whylen);

#endif
