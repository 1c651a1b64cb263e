/* admin.c — the admin API on the server's own port (the gate in front of
 * it, Host/Origin/token/content type, is in server.c):
 *   GET    /__admin/requests[?since=SEQ&limit=N]  the journal, streamed
 *   DELETE /__admin/requests   clears the journal
 *   POST   /__admin/reset      journal, idempotency store, sequences, rate
 *                              buckets, every provider state torn down;
 *                              with ?fixtures=1 also the fixtures added at
 *                              run time
 *   GET    /__admin/fixtures   names and a summary of each fixture
 *   POST   /__admin/fixtures   adds one fixture (the JSON body)
 *   PUT    /__admin/fixtures/NAME  replaces fixture NAME (or adds it)
 *   DELETE /__admin/fixtures/NAME  removes it
 *   POST   /__admin/provider-states  sets up / tears down a provider state
 *   GET    /__admin/provider-states  the states it knows (states.c) */
#include "server.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES_PATH FM_ADMIN_PREFIX "fixtures"

static char *error_json(const char *code, const char *message, size_t *len)
{
    return fm_error_body(code, message, NULL, NULL, len);
}

static enum MHD_Result reply_name(struct MHD_Connection *c, unsigned status,
                                  const char *key, const char *name)
{
    msp_buf b;
    size_t len;
    char *body;

    msp_buf_init(&b, FM_REPLY_MAX);
    msp_buf_printf(&b, "{\"%s\":", key);
    msp_buf_append_json(&b, name, strlen(name));
    msp_buf_append_str(&b, "}");
    body = msp_buf_take(&b, &len);
    return fm_queue_json(c, status, body, len);
}

/* Parses the request body as a fixture within what is left of the fixture
 * budget; NULL after queueing the 413/400 reply (*ok). */
static mspf_fixture *parse_body(fake_msp *fm, struct MHD_Connection *c,
                                const fm_req *r, enum MHD_Result *ok)
{
    mspf_fixture *f;
    mspf_error err;
    char msg[900];
    size_t len;
    char *body;

    *ok = MHD_NO; /* set on every path, the analyzer cannot see parse's */
    memset(&err, 0, sizeof err);
    if (r->too_large) {
        body = error_json("PAYLOAD_TOO_LARGE", "fixture over 1 MiB", &len);
        *ok = fm_queue_json(c, 413, body, len);
        return NULL;
    }
    if (mspf_fixture_parse_within(r->body.data ? r->body.data : "", r->body.len,
                                  NULL, fm_fx_budget_left(fm->fx), &f,
                                  &err) != 0) {
        snprintf(msg, sizeof msg, "%s: %s", err.path, err.reason);
        body = error_json("INVALID_FIXTURE", msg, &len);
        *ok = fm_queue_json(c, 400, body, len);
        return NULL;
    }
    return f;
}

/* The reply to a fixture the store refused (f is freed): 400
 * INVALID_FIXTURE when it is over the budget, else 409 CONFLICT. */
static enum MHD_Result store_refused(struct MHD_Connection *c, mspf_fixture *f,
                                     const mspf_error *err)
{
    int budget = strstr(err->reason, "budget") != NULL;
    char msg[900];
    size_t len;
    char *body;

    snprintf(msg, sizeof msg, "%s: %s", err->path, err->reason);
    mspf_fixture_free(f);
    body = error_json(budget ? "INVALID_FIXTURE" : "CONFLICT", msg, &len);
    return fm_queue_json(c, budget ? 400 : 409, body, len);
}

static enum MHD_Result add_fixture(fake_msp *fm, struct MHD_Connection *c,
                                   const fm_req *r)
{
    mspf_error err;
    enum MHD_Result ok;
    mspf_fixture *f = parse_body(fm, c, r, &ok);

    if (!f)
        return ok;
    memset(&err, 0, sizeof err);
    if (fm_fx_add(fm->fx, f, &err) != 0)
        return store_refused(c, f, &err);
    return reply_name(c, 201, "added", f->name);
}

static enum MHD_Result put_fixture(fake_msp *fm, struct MHD_Connection *c,
                                   const char *name, const fm_req *r)
{
    mspf_fixture *f;
    mspf_error err;
    char msg[900];
    size_t len;
    char *body;
    enum MHD_Result ok;
    int rc;

    f = parse_body(fm, c, r, &ok);
    if (!f)
        return ok;
    if (strcmp(f->name, name) != 0) {
        snprintf(msg, sizeof msg,
                 "$.name: \"%.200s\" is not the fixture named in the path "
                 "\"%.200s\"",
                 f->name, name);
        mspf_fixture_free(f);
        body = error_json("INVALID_FIXTURE", msg, &len);
        return fm_queue_json(c, 400, body, len);
    }
    memset(&err, 0, sizeof err);
    rc = fm_fx_replace(fm->fx, f, &err);
    if (rc < 0)
        return store_refused(c, f, &err);
    return reply_name(c, rc ? 200 : 201, rc ? "replaced" : "added", name);
}

/* ---- the journal, streamed one entry at a time ---------------------- */

typedef struct jstream {
    journal *j;
    unsigned long long after; /* last seq sent */
    size_t left;              /* entries still to send */
    int phase;                /* 0 head, 1 entries, 2 done */
    int any;
    msp_buf b;
    size_t off;
} jstream;

static ssize_t jstream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    jstream *st = cls;
    size_t n;

    (void)pos;
    while (st->off == st->b.len) {
        unsigned long long seq, dropped = 0;
        msp_buf_reset(&st->b);
        st->off = 0;
        if (st->phase == 2)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (st->phase == 0) {
            fm_journal_entry_json(st->j, ~0ULL, &st->b, &dropped);
            msp_buf_printf(&st->b, "{\"dropped\":%llu,\"requests\":[", dropped);
            st->phase = 1;
        } else if (st->left == 0) {
            msp_buf_append_str(&st->b, "]}");
            st->phase = 2;
        } else {
            if (st->any)
                msp_buf_append_str(&st->b, ",");
            seq = fm_journal_entry_json(st->j, st->after, &st->b, NULL);
            if (!seq) {
                st->b.len = 0;
                msp_buf_append_str(&st->b, "]}");
                st->phase = 2;
            } else {
                st->any = 1;
                st->after = seq;
                st->left--;
            }
        }
        if (st->b.failed)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    n = st->b.len - st->off < max ? st->b.len - st->off : max;
    memcpy(buf, st->b.data + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void jstream_free(void *cls)
{
    jstream *st = cls;

    free(st->b.data);
    free(st);
}

static int parse_count(const char *s, unsigned long long *out)
{
    char *end;

    if (!s)
        return 0;
    if (!*s || *s == '-')
        return -1;
    *out = strtoull(s, &end, 10);
    return *end ? -1 : 0;
}

static enum MHD_Result journal_get(fake_msp *fm, struct MHD_Connection *c)
{
    unsigned long long since = 0, limit = ~0ULL;
    struct MHD_Response *m;
    enum MHD_Result ok;
    jstream *st;

    if (parse_count(
            MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since"),
            &since) != 0 ||
        parse_count(
            MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"),
            &limit) != 0)
        return fm_queue_error(c, 400, "VALIDATION",
                              "since and limit are unsigned integers");
    st = calloc(1, sizeof *st);
    if (!st)
        return fm_queue_json(c, 500, NULL, 0);
    st->j = fm->journal;
    st->after = since;
    st->left = limit > SIZE_MAX ? SIZE_MAX : (size_t)limit;
    msp_buf_init(&st->b, SIZE_MAX / 2); /* one entry; the entries are capped */
    m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                          jstream_read, st, jstream_free);
    if (!m) {
        jstream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(m, "Content-Type", "application/json");
    ok = MHD_queue_response(c, 200, m);
    MHD_destroy_response(m);
    return ok;
}

enum MHD_Result fm_admin_handle(fake_msp *fm, struct MHD_Connection *c,
                                const char *method, const char *url,
                                const fm_req *r)
{
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    int del = strcmp(method, "DELETE") == 0;
    msp_buf b;
    msp_buf_init(&b, FM_REPLY_MAX);
    size_t len;
    char *body;

    if (strcmp(url, FM_ADMIN_PREFIX) == 0 && get)
        return fm_dashboard(fm, c);
    if (strcmp(url, FM_ADMIN_PREFIX "requests") == 0) {
        if (get)
            return journal_get(fm, c);
        if (del) {
            fm_journal_clear(fm->journal);
            return fm_queue_json(c, 200, strdup("{\"cleared\":true}"), 16);
        }
    } else if (strcmp(url, FM_ADMIN_PREFIX "reset") == 0) {
        if (post) {
            const char *fx = MHD_lookup_connection_value(
                c, MHD_GET_ARGUMENT_KIND, "fixtures");
            size_t removed = 0;
            fake_msp_reset(fm);
            if (fx && (strcmp(fx, "1") == 0 || strcmp(fx, "true") == 0))
                removed = fm_fx_remove_run_time(fm->fx);
            msp_buf_printf(&b, "{\"reset\":true,\"fixtures_removed\":%zu}",
                           removed);
            body = msp_buf_take(&b, &len);
            return fm_queue_json(c, 200, body, len);
        }
    } else if (strcmp(url, FM_ADMIN_PREFIX "provider-states") == 0) {
        return fm_states_handle(fm, c, method, r);
    } else if (strcmp(url, FIXTURES_PATH) == 0) {
        if (get) {
            fm_fx_to_json(fm->fx, &b);
            body = msp_buf_take(&b, &len);
            return fm_queue_json(c, 200, body, len);
        }
        if (post)
            return add_fixture(fm, c, r);
    } else if (strncmp(url, FIXTURES_PATH "/", sizeof FIXTURES_PATH) == 0 &&
               url[sizeof FIXTURES_PATH]) {
        const char *name = url + sizeof FIXTURES_PATH;
        if (strcmp(method, "PUT") == 0)
            return put_fixture(fm, c, name, r);
        if (del) {
            if (fm_fx_remove(fm->fx, name) != 0)
                return fm_queue_error(c, 404, "NOT_FOUND", "No such fixture");
            return reply_name(c, 200, "deleted", name);
        }
    } else {
        return fm_queue_error(c, 404, "NOT_FOUND", "No such admin endpoint");
    }
    return fm_queue_error(c, 405, "METHOD_NOT_ALLOWED",
                          "Method not allowed on this endpoint");
}
