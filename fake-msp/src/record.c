/*
 * record.c — proxied exchanges to contract fixtures (see record.h and
 * docs/record.md): what may be recorded, the keys remembered for
 * scrubbing, the entries (one per fixture) and their memory budget.
 *
 * The fixture document is built by rec_fixture.c from parts kept per entry
 * (context, request matchers, responses, expectations, role), so a retry
 * extends it into a sequence (at most FM_REC_MAX_SEQUENCE replies) and an
 * ambiguity found later can pin an earlier fixture's command id;
 * rec_write.c names, checks and writes it.
 */
#include "rec_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contracts/fixture.h"
#include "executor/msp_executor.h"
#include "util.h"

#define MAX_ENTRIES 100000

fm_recorder *fm_rec_new(const char *dir, const char *const *redact,
                        size_t n_redact, char *errbuf, size_t errlen)
{
    fm_recorder *rec;
    struct stat st;
    size_t i;

    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        access(dir, W_OK | X_OK) != 0) {
        snprintf(errbuf, errlen, "--record %s: not a writable directory", dir);
        return NULL;
    }
    if (n_redact > REC_MAX_REDACT) {
        snprintf(errbuf, errlen, "at most %d --redact paths", REC_MAX_REDACT);
        return NULL;
    }
    rec = calloc(1, sizeof *rec);
    if (!rec || !(rec->dir = strdup(dir))) {
        free(rec);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    for (i = 0; i < n_redact; i++) {
        if (fm_recx_rpath_parse(redact[i], &rec->redact[i]) != 0) {
            fm_recx_rpath_free(&rec->redact[i]);
            rec->n_redact = i;
            fm_rec_free(rec);
            snprintf(errbuf, errlen,
                     "--redact \"%.200s\": want request.PATH or "
                     "response.PATH (members by '.', elements by [N] or [*])",
                     redact[i]);
            return NULL;
        }
        rec->n_redact = i + 1;
    }
    rec->rng = (unsigned long long)fm_wall_ms() * 0x9E3779B97F4A7C15ULL ^
               (unsigned long long)getpid();
    pthread_mutex_init(&rec->lock, NULL);
    pthread_mutex_init(&rec->io, NULL);
    return rec;
}

/* Drops what an entry's document is built from (it can no longer be
 * extended or pinned); its name, id and hashes stay. */
static void entry_close(fm_recorder *rec, entry *e)
{
    cJSON_Delete(e->context);
    cJSON_Delete(e->request);
    cJSON_Delete(e->responses);
    cJSON_Delete(e->expects);
    e->context = e->request = e->responses = e->expects = NULL;
    if (rec)
        rec->held -= e->held;
    e->held = 0;
    e->closed = 1;
}

static void entry_free(entry *e)
{
    entry_close(NULL, e);
    free(e->name);
    free(e->command_id);
    free(e->role);
    free(e->tool);
    free(e->ws);
}

void fm_rec_free(fm_recorder *rec)
{
    size_t i;

    if (!rec)
        return;
    for (i = 0; i < rec->n; i++)
        entry_free(&rec->e[i]);
    free(rec->e);
    for (i = 0; i < rec->n_names; i++)
        free(rec->names[i].base);
    free(rec->names);
    for (i = 0; i < rec->n_keys; i++)
        free(rec->keys[i]);
    fm_scrub_free(rec->scrub);
    for (i = 0; i < rec->n_redact; i++)
        fm_recx_rpath_free(&rec->redact[i]);
    free(rec->dir);
    pthread_mutex_destroy(&rec->lock);
    pthread_mutex_destroy(&rec->io);
    free(rec);
}

/* FNV-1a, 64 bits: retry and ambiguity detection without holding the
 * bodies. */
static unsigned long long hash_bytes(unsigned long long h, const void *p,
                                     size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}

#define HASH_INIT 0xcbf29ce484222325ULL

/* Remembers key (FM_REC_MIN_KEY bytes or more; the newest
 * FM_REC_MAX_KEYS) and rebuilds the scrubber when it is new. */
static int remember_key(fm_recorder *rec, const char *key)
{
    fm_scrub *s;
    size_t i;

    for (i = 0; i < rec->n_keys; i++)
        if (strcmp(rec->keys[i], key) == 0)
            return 0;
    if (rec->n_keys == FM_REC_MAX_KEYS) { /* keep the newest */
        free(rec->keys[0]);
        memmove(&rec->keys[0], &rec->keys[1],
                (FM_REC_MAX_KEYS - 1) * sizeof rec->keys[0]);
        rec->n_keys--;
    }
    rec->keys[rec->n_keys] = strdup(key);
    if (!rec->keys[rec->n_keys])
        return -1;
    rec->n_keys++;
    s = fm_scrub_new((const char *const *)rec->keys, rec->n_keys,
                     FM_REC_MIN_KEY);
    if (!s) { /* forget it again: keys[] is what the scrubber searches */
        free(rec->keys[--rec->n_keys]);
        return -1;
    }
    fm_scrub_free(rec->scrub);
    rec->scrub = s;
    return 0;
}

/* 1 when a header value may be written: no CR, LF or NUL, valid UTF-8. */
static int header_value_ok(const char *v)
{
    size_t n = strlen(v);

    return !memchr(v, '\r', n) && !memchr(v, '\n', n) &&
           fm_utf8_valid((const unsigned char *)v, n);
}

static int encoded(const fm_exchange *x, int response)
{
    const char *ce = fm_recx_header(x, response, "Content-Encoding");

    return ce && *ce && !fm_strieq(ce, "identity");
}

/* How many JSON values buf holds at least (separators and openers outside
 * strings), counting no further than limit + 1: a body of many tiny values
 * would take 64 bytes per value once parsed (and several copies while the
 * fixture is built and checked). */
static size_t json_values(const unsigned char *buf, size_t len, size_t limit)
{
    size_t i, n = 0;
    int in_str = 0;

    for (i = 0; i < len && n <= limit; i++) {
        unsigned char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == ',' || c == '[' || c == '{' || c == ':') {
            n++;
        }
    }
    return n;
}

/* The checks on headers and sizes; 1 with why when not recordable. */
static int admit_shape(const fm_exchange *x, char *why, size_t whylen)
{
    static const char *const req_written[] = {
        "Content-Type", "X-Correlation-Id", "X-Brainstorm-Command-Id", NULL};
    const char *ct = fm_recx_header(x, 0, "Content-Type");
    size_t i;

    if (x->req_body_len + x->resp_body_len > MSPF_FILE_MAX) {
        snprintf(why, whylen,
                 "the bodies (%zu bytes) would make a fixture over the %u "
                 "bytes that lint accepts",
                 x->req_body_len + x->resp_body_len, MSPF_FILE_MAX);
        return 1;
    }
    if (json_values(x->req_body, x->req_body_len, FM_REC_MAX_VALUES) +
            json_values(x->resp_body, x->resp_body_len, FM_REC_MAX_VALUES) >
        FM_REC_MAX_VALUES) {
        snprintf(why, whylen,
                 "the bodies hold over %d JSON values (the recorder's memory "
                 "bound)",
                 FM_REC_MAX_VALUES);
        return 1;
    }
    if (encoded(x, 0) || encoded(x, 1)) {
        snprintf(why, whylen,
                 "a body with a Content-Encoding cannot be scrubbed");
        return 1;
    }
    for (i = 0; req_written[i]; i++) {
        const char *v = fm_recx_header(x, 0, req_written[i]);
        if (v && !header_value_ok(v)) {
            snprintf(why, whylen,
                     "request header %s holds CR, LF, NUL or invalid UTF-8",
                     req_written[i]);
            return 1;
        }
    }
    for (i = 0; i < x->n_resp_headers; i++)
        if (!fm_recx_skip_resp_header(x->resp_headers[i].name) &&
            (!header_value_ok(x->resp_headers[i].value) ||
             !header_value_ok(x->resp_headers[i].name))) {
            snprintf(why, whylen,
                     "a reply header holds CR, LF, NUL or invalid UTF-8");
            return 1;
        }
    if (!ct || strcmp(ct, REC_CONTENT_TYPE) != 0) {
        snprintf(why, whylen,
                 "Content-Type is not application/json (what an executor "
                 "sends)");
        return 1;
    }
    return 0;
}

/* 1 for a built-in role key (sk-test, sk-readonly, ...): public, in the
 * docs and in every fixture's Authorization matcher, so it is recorded
 * whatever its length and neither remembered nor scrubbed. */
static int public_key(const char *key)
{
    size_t n, i;
    const mspf_role *roles = mspf_roles(&n);

    for (i = 0; i < n; i++)
        if (roles[i].default_key && strcmp(roles[i].default_key, key) == 0)
            return 1;
    return 0;
}

/* What an executor could have sent, and may be recorded safely. Returns 0
 * with the key in *key, or 1 with why. */
static int admit(const fm_exchange *x, const char **key, char *why,
                 size_t whylen)
{
    const char *auth = fm_recx_header(x, 0, "Authorization");
    const char *cid = fm_recx_header(x, 0, "X-Brainstorm-Command-Id");
    const char *ikey = fm_recx_header(x, 0, "Idempotency-Key");
    size_t klen;

    if (strcmp(x->method, "POST") != 0 ||
        strcmp(x->path, MSP_PATH_EXECUTE) != 0) {
        snprintf(why, whylen, "not an execute request");
        return 1;
    }
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        snprintf(why, whylen,
                 "no bearer credential (the executor always sends one)");
        return 1;
    }
    klen = strlen(auth + 7);
    if (!public_key(auth + 7) &&
        (klen < FM_REC_MIN_KEY || klen > FM_SCRUB_MAX_KEY)) {
        snprintf(why, whylen,
                 "a credential under %d or over %d bytes is never recorded "
                 "(it cannot be scrubbed safely)",
                 FM_REC_MIN_KEY, FM_SCRUB_MAX_KEY);
        return 1;
    }
    if (!cid || !ikey || strcmp(cid, ikey) != 0 || !*cid) {
        snprintf(why, whylen,
                 "X-Brainstorm-Command-Id and Idempotency-Key missing or "
                 "different (the executor sends both, equal)");
        return 1;
    }
    if (x->status < 100 || x->status > 599) {
        snprintf(why, whylen, "status %ld out of range", x->status);
        return 1;
    }
    *key = auth + 7;
    return admit_shape(x, why, whylen);
}

/* Bytes a tree holds, roughly: its nodes and strings. */
static size_t tree_size(const cJSON *n)
{
    size_t s = 0;

    for (; n; n = n->next) {
        s += sizeof *n + (n->string ? strlen(n->string) + 1 : 0) +
             (cJSON_IsString(n) && n->valuestring ? strlen(n->valuestring) + 1
                                                  : 0);
        s += tree_size(n->child);
    }
    return s;
}

/* Counts e against the budget and closes the oldest entries (never e)
 * while the open ones hold more than FM_REC_BUDGET. */
static void account(fm_recorder *rec, entry *e)
{
    size_t now = tree_size(e->context) + tree_size(e->request) +
                 tree_size(e->responses) + tree_size(e->expects);

    rec->held = rec->held - e->held + now;
    e->held = now;
    while (rec->held > FM_REC_BUDGET && rec->oldest_open < rec->n) {
        entry *o = &rec->e[rec->oldest_open++];
        if (o != e && !o->closed)
            entry_close(rec, o);
    }
}

/* A retry of entry e: the next reply of its sequence. */
static int extend(fm_recorder *rec, entry *e, const fm_scrub *own, cJSON **resp,
                  cJSON **expect, char *name, size_t namelen,
                  fm_rec_pending **pending, char *why, size_t whylen)
{
    int rc;

    if (e->closed) {
        snprintf(why, whylen,
                 "%s is closed (the recorder's memory budget): a retry is "
                 "not added",
                 e->name);
        return 1;
    }
    if (cJSON_GetArraySize(e->responses) >= FM_REC_MAX_SEQUENCE) {
        snprintf(why, whylen, "%s already holds %d responses (the cap)",
                 e->name, FM_REC_MAX_SEQUENCE);
        return 1;
    }
    cJSON_AddItemToArray(e->responses, *resp);
    cJSON_AddItemToArray(e->expects, *expect);
    *resp = *expect = NULL;
    rc = fm_recx_stage_entry(rec, e, own, pending, why, whylen);
    if (rc != 0) { /* not written: the entry stays as it was */
        int last = cJSON_GetArraySize(e->responses) - 1;
        cJSON_DeleteItemFromArray(e->responses, last);
        cJSON_DeleteItemFromArray(e->expects, last);
        return rc;
    }
    snprintf(name, namelen, "%s", e->name);
    account(rec, e);
    return 0;
}

/* The context of a new entry: the request as sent, scrubbed. */
static cJSON *new_context(fm_recorder *rec, const entry *e, const char *cid,
                          const cJSON *params, const char *corr)
{
    cJSON *ctx = cJSON_CreateObject();
    char id[37], *c;
    size_t i;

    if (!ctx)
        return NULL;
    if (e->reused_id) {
        do {
            fm_recx_fresh_uuid(rec, id);
            for (i = 0; i < rec->n && strcmp(rec->e[i].command_id, id) != 0;
                 i++)
                ;
        } while (i < rec->n);
        cJSON_AddStringToObject(ctx, "command_id", id);
    } else {
        cJSON_AddStringToObject(ctx, "command_id", cid);
    }
    cJSON_AddStringToObject(ctx, "tool", e->tool);
    cJSON_AddItemToObject(ctx, "params", cJSON_Duplicate(params, 1));
    cJSON_AddNumberToObject(ctx, "deadline_ms", 30000);
    if (corr) {
        c = fm_recx_scrub_str(rec->scrub, corr);
        if (!c) {
            cJSON_Delete(ctx);
            return NULL;
        }
        cJSON_AddStringToObject(ctx, "correlation_id", c);
        free(c);
    }
    if (fm_recx_scrub_tree(ctx, rec->scrub, 0) < 0) {
        cJSON_Delete(ctx);
        return NULL;
    }
    return ctx;
}

/* Fills a new entry from the exchange; reqdoc is the parsed request body
 * (redacted here). -1 on ENOMEM. */
static int fill_entry(fm_recorder *rec, entry *e, const fm_exchange *x,
                      cJSON *reqdoc, const char *role)
{
    const char *cid = fm_recx_header(x, 0, "X-Brainstorm-Command-Id");
    const char *corr = fm_recx_header(x, 0, "X-Correlation-Id");
    cJSON *matchbody = cJSON_Duplicate(reqdoc, 1), *params;
    char *params_text;
    unsigned long long h = HASH_INIT;
    size_t r, i;

    for (i = 0; i < rec->n; i++)
        e->reused_id |= strcmp(rec->e[i].command_id, cid) == 0;
    for (r = 0; r < rec->n_redact && matchbody; r++)
        if (!rec->redact[r].response)
            fm_recx_redact_walk(reqdoc, matchbody, rec->redact[r].steps,
                                rec->redact[r].n);
    if (!matchbody || fm_recx_scrub_tree(matchbody, rec->scrub, 0) < 0) {
        cJSON_Delete(matchbody);
        return -1;
    }
    params = cJSON_GetObjectItemCaseSensitive(reqdoc, "params");
    e->context = new_context(rec, e, cid, params, corr);
    e->request = fm_recx_request_matchers(rec, x, role, matchbody);
    params_text = cJSON_PrintUnformatted(
        cJSON_GetObjectItemCaseSensitive(e->context, "params"));
    if (!e->context || !e->request || !params_text) {
        free(params_text);
        return -1;
    }
    /* Two fixtures whose matchers differ only by the command id pin it. */
    h = hash_bytes(h, e->tool, strlen(e->tool) + 1);
    h = hash_bytes(h, params_text, strlen(params_text) + 1);
    h = hash_bytes(h, corr ? corr : "", corr ? strlen(corr) + 1 : 0);
    h = hash_bytes(h, role, strlen(role) + 1);
    free(params_text);
    e->ambig = h;
    /* a reused id: the context has a fresh one, matched as any UUID */
    e->literal_id = !e->reused_id && !msp_uuid_valid(cid, strlen(cid), 0);
    return 0;
}

/* A new entry for the exchange; *resp and *expect are taken. */
static int add_entry(fm_recorder *rec, const fm_exchange *x, cJSON *reqdoc,
                     const char *tool, const char *role, const fm_scrub *own,
                     cJSON **resp, cJSON **expect, int row, char *name,
                     size_t namelen, fm_rec_pending **pending, char *why,
                     size_t whylen)
{
    const char *cid = fm_recx_header(x, 0, "X-Brainstorm-Command-Id");
    entry *e, *ne;
    size_t i;
    int rc;

    if (rec->n == MAX_ENTRIES) {
        snprintf(why, whylen, "%d fixtures recorded: the limit", MAX_ENTRIES);
        return 1;
    }
    if (rec->n == rec->cap) {
        size_t ncap = rec->cap ? rec->cap * 2 : 64;
        ne = realloc(rec->e, ncap * sizeof *ne);
        if (!ne)
            goto nomem;
        rec->e = ne;
        rec->cap = ncap;
    }
    e = &rec->e[rec->n];
    memset(e, 0, sizeof *e);
    e->command_id = strdup(cid);
    e->role = strdup(role);
    e->tool = fm_recx_scrub_str(rec->scrub, tool);
    e->responses = cJSON_CreateArray();
    e->expects = cJSON_CreateArray();
    e->ws = calloc(1, sizeof *e->ws);
    if (!e->command_id || !e->role || !e->tool || !e->responses ||
        !e->expects || !e->ws)
        goto fail;
    e->body_hash = hash_bytes(HASH_INIT, x->req_body, x->req_body_len);
    e->body_len = x->req_body_len;
    e->first_status = x->status;
    e->exit_row = row;
    cJSON_AddItemToArray(e->responses, *resp);
    cJSON_AddItemToArray(e->expects, *expect);
    *resp = *expect = NULL;
    if (fill_entry(rec, e, x, reqdoc, role) != 0)
        goto fail;
    for (i = 0; i < rec->n; i++)
        if (rec->e[i].ambig == e->ambig) {
            if (rec->e[i].closed && !rec->e[i].literal_id) {
                snprintf(why, whylen,
                         "%s (closed by the memory budget) would match it "
                         "too",
                         rec->e[i].name);
                entry_free(e);
                return 1;
            }
            e->literal_id = 1;
        }
    if (fm_recx_make_name(rec, e->tool, x->status, name, namelen) != 0 ||
        !(e->name = strdup(name)))
        goto fail;
    rc = fm_recx_stage_entry(rec, e, own, pending, why, whylen);
    if (rc != 0) {
        name[0] = '\0';
        entry_free(e);
        return rc;
    }
    rec->n++;
    account(rec, e);
    for (i = 0; i + 1 < rec->n; i++) {
        entry *o = &rec->e[i];
        if (o->ambig != e->ambig || o->literal_id)
            continue;
        o->literal_id = 1;
        if (fm_recx_stage_entry(rec, o, own, pending, why, whylen) != 0)
            rc = -1;
    }
    return rc;
fail:
    entry_free(e);
nomem:
    snprintf(why, whylen, "out of memory");
    return -1;
}

/* The own key's scrubber, for the last check of the text. */
static int record_locked(fm_recorder *rec, const fm_exchange *x, char *name,
                         size_t namelen, fm_rec_pending **pending, char *why,
                         size_t whylen)
{
    const char *cid = fm_recx_header(x, 0, "X-Brainstorm-Command-Id");
    const char *auth = fm_recx_header(x, 0, "Authorization");
    const char *key = NULL, *tool, *role;
    cJSON *reqdoc = NULL, *params, *resp = NULL, *expect = NULL;
    fm_scrub *own = NULL;
    unsigned long long bh;
    char code[64];
    size_t i;
    int row = 0, rc;

    /* every key seen is remembered, recorded or not (too short ones not) */
    if (auth && strncmp(auth, "Bearer ", 7) == 0 &&
        strlen(auth + 7) >= FM_REC_MIN_KEY &&
        strlen(auth + 7) <= FM_SCRUB_MAX_KEY && !public_key(auth + 7) &&
        remember_key(rec, auth + 7) != 0)
        goto nomem;
    if ((rc = admit(x, &key, why, whylen)) != 0)
        return rc;
    if (!public_key(key) && !(own = fm_scrub_new(&key, 1, 0)))
        goto nomem;
    reqdoc = cJSON_ParseWithLength((const char *)x->req_body, x->req_body_len);
    tool =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reqdoc, "tool"));
    params = cJSON_GetObjectItemCaseSensitive(reqdoc, "params");
    if (!tool || !*tool || !cJSON_IsObject(params)) {
        snprintf(why, whylen, "the body is not {\"tool\", \"params\", ...}");
        rc = 1;
        goto out;
    }
    fm_recx_error_code(x, code, sizeof code);
    role = fm_rec_role(x->status, code);
    if (fm_recx_reply_parts(rec, x, &resp, &expect, &row) != 0)
        goto nomem;
    /* A retry: the same command id, request and role. */
    bh = hash_bytes(HASH_INIT, x->req_body, x->req_body_len);
    for (i = 0; i < rec->n; i++) {
        entry *e = &rec->e[i];
        if (strcmp(e->command_id, cid) == 0 && !e->reused_id &&
            e->body_len == x->req_body_len && e->body_hash == bh &&
            strcmp(e->role, role) == 0) {
            rc = extend(rec, e, own, &resp, &expect, name, namelen, pending,
                        why, whylen);
            goto out;
        }
    }
    rc = add_entry(rec, x, reqdoc, tool, role, own, &resp, &expect, row, name,
                   namelen, pending, why, whylen);
    goto out;
nomem:
    snprintf(why, whylen, "out of memory");
    rc = -1;
out:
    fm_scrub_free(own);
    cJSON_Delete(resp);
    cJSON_Delete(expect);
    cJSON_Delete(reqdoc);
    return rc;
}

int fm_rec_exchange(fm_recorder *rec, const fm_exchange *x, char *name,
                    size_t namelen, fm_rec_pending **pending, char *why,
                    size_t whylen)
{
    int rc;

    name[0] = why[0] = '\0';
    *pending = NULL;
    pthread_mutex_lock(&rec->lock);
    rc = record_locked(rec, x, name, namelen, pending, why, whylen);
    pthread_mutex_unlock(&rec->lock);
    return rc;
}
