/* admin.c — the admin API on the server's own port, not subject to auth:
 *   GET    /__admin/requests   the journal (Authorization masked)
 *   DELETE /__admin/requests   clears the journal
 *   POST   /__admin/reset      journal, idempotency store, sequences, rate
 * buckets GET    /__admin/fixtures   names and a summary of each fixture POST
 * /__admin/fixtures   adds one fixture (the JSON body)
 *   POST   /__admin/provider-states  sets up / tears down a provider state
 *   GET    /__admin/provider-states  the states it knows (states.c) */
#include "server.h"

#include <stdio.h>
#include <string.h>

static char *error_json(const char *code, const char *message, size_t *len)
{
    return fm_error_body(code, message, NULL, NULL, len);
}

static enum MHD_Result add_fixture(fake_msp *fm, struct MHD_Connection *c,
                                   const fm_req *r)
{
    mspf_fixture *f;
    mspf_error err;
    char msg[900];
    size_t len;
    char *body;
    fm_buf b;
    fm_buf_init(&b, FM_REPLY_MAX);

    memset(&err, 0, sizeof err);
    if (r->too_large) {
        body = error_json("PAYLOAD_TOO_LARGE", "fixture over 1 MiB", &len);
        return fm_queue_json(c, 413, body, len);
    }
    if (mspf_fixture_parse(r->body.p ? r->body.p : "", r->body.len, NULL, &f,
                           &err) != 0) {
        snprintf(msg, sizeof msg, "%s: %s", err.path, err.reason);
        body = error_json("INVALID_FIXTURE", msg, &len);
        return fm_queue_json(c, 400, body, len);
    }
    if (fake_msp_add_fixture(fm, f, msg, sizeof msg) != 0) {
        mspf_fixture_free(f);
        body = error_json("CONFLICT", msg, &len);
        return fm_queue_json(c, 409, body, len);
    }
    fm_buf_adds(&b, "{\"added\":");
    fm_buf_json_str(&b, f->name, strlen(f->name));
    fm_buf_adds(&b, "}");
    body = fm_buf_take(&b, &len);
    return fm_queue_json(c, 201, body, len);
}

enum MHD_Result fm_admin_handle(fake_msp *fm, struct MHD_Connection *c,
                                const char *method, const char *url,
                                const fm_req *r)
{
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    fm_buf b;
    fm_buf_init(&b, FM_REPLY_MAX);
    size_t len;
    char *body;

    if (strcmp(url, "/__admin/requests") == 0) {
        if (get) {
            fm_journal_to_json(fm->journal, &b);
            body = fm_buf_take(&b, &len);
            return fm_queue_json(c, 200, body, len);
        }
        if (strcmp(method, "DELETE") == 0) {
            fm_journal_clear(fm->journal);
            return fm_queue_json(c, 200, strdup("{\"cleared\":true}"), 16);
        }
    } else if (strcmp(url, "/__admin/reset") == 0) {
        if (post) {
            fake_msp_reset(fm);
            return fm_queue_json(c, 200, strdup("{\"reset\":true}"), 14);
        }
    } else if (strcmp(url, "/__admin/provider-states") == 0) {
        return fm_states_handle(fm, c, method, r);
    } else if (strcmp(url, "/__admin/fixtures") == 0) {
        if (get) {
            fm_fx_to_json(fm->fx, &b);
            body = fm_buf_take(&b, &len);
            return fm_queue_json(c, 200, body, len);
        }
        if (post)
            return add_fixture(fm, c, r);
    } else {
        return fm_queue_error(c, 404, "NOT_FOUND", "No such admin endpoint");
    }
    return fm_queue_error(c, 405, "METHOD_NOT_ALLOWED",
                          "Method not allowed on this endpoint");
}
