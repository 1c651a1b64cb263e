/* replay.c — serving fixture responses: plain replies through MHD, faults
 * as raw bytes on the socket (see server.h and docs/fixture-format.md
 * "Faults"). Garbage comes from splitmix64 seeded with the fault's seed,
 * else the server's, so the same fixture always sends the same bytes. */
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void fm_replay_arm_reset(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct linger lg = {1, 0};

    if (ci)
        setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static int skip_header(const char *name)
{
    return fm_strieq(name, "Content-Length") ||
           fm_strieq(name, "Transfer-Encoding") ||
           fm_strieq(name, "Connection");
}

static struct MHD_Response *mhd_response(const mspf_response *resp)
{
    struct MHD_Response *m = MHD_create_response_from_buffer(
        resp->body_len, resp->body, MHD_RESPMEM_PERSISTENT);
    size_t i;

    if (!m)
        return NULL;
    for (i = 0; i < resp->n_headers; i++)
        if (!skip_header(resp->headers[i].name))
            MHD_add_response_header(m, resp->headers[i].name,
                                    resp->headers[i].value);
    return m;
}

/* The raw bytes of a fault: status line and headers (and the bad chunk
 * size); the body is not copied but sent from the fixture (job->body), so
 * many connections replaying one large body share it. */
static char *raw_bytes(const fake_msp *fm, const mspf_response *resp,
                       sched_job *job, size_t *len)
{
    static const char chunk_tail[] = "\r\n0\r\n\r\n";
    const mspf_fault *f = &resp->fault;
    const char *reason = MHD_get_reason_phrase_for((unsigned)resp->status);
    msp_buf b;
    msp_buf_init(&b, FM_REPLY_MAX);
    size_t i;

    if (f->kind == MSPF_FAULT_GARBAGE) {
        unsigned long long st = f->has_seed ? f->seed : fm->seed;
        for (i = 0; i < f->bytes; i += 8) {
            unsigned long long v = fm_splitmix64(&st);
            msp_buf_append(&b, &v, f->bytes - i < 8 ? f->bytes - i : 8);
        }
        return msp_buf_take(&b, len);
    }
    msp_buf_printf(&b, "HTTP/1.1 %d %s\r\n", resp->status,
                   reason && *reason ? reason : "Unknown");
    for (i = 0; i < resp->n_headers; i++)
        if (!skip_header(resp->headers[i].name))
            msp_buf_printf(&b, "%s: %s\r\n", resp->headers[i].name,
                           resp->headers[i].value);
    if (f->kind == MSPF_FAULT_BAD_CHUNKING) {
        msp_buf_append_str(
            &b, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        /* "zz" is not a hex chunk size */
        msp_buf_printf(&b, "zz\r\n");
        job->body = (const char *)resp->body;
        job->body_len = resp->body_len;
        job->tail = chunk_tail;
        job->tail_len = sizeof chunk_tail - 1;
        return msp_buf_take(&b, len);
    }
    msp_buf_printf(&b, "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                   resp->body_len);
    job->body = (const char *)resp->body;
    if (f->kind == MSPF_FAULT_TRUNCATE)
        job->body_len =
            f->after_bytes < resp->body_len ? f->after_bytes : resp->body_len;
    else if (f->kind == MSPF_FAULT_DRIBBLE)
        job->body_len = resp->body_len;
    return msp_buf_take(&b, len);
}

static enum MHD_Result suspend(fm_req *r, struct MHD_Connection *c,
                               long long due)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

    r->job.conn = c;
    r->job.due_ms = due;
    r->job.fd = ci ? ci->connect_fd : -1;
    r->state = RS_SUSPENDED;
    if (fm_sched_add(r->fm->sched, &r->job) != 0) {
        r->state = RS_DONE;
        return MHD_NO; /* stopping */
    }
    return MHD_YES;
}

void fm_replay_drop(void *m)
{
    MHD_destroy_response(m);
}

/* The response's reply object, made once and kept in its cell (MHD counts
 * the connections that queue it): the same bytes as a fresh one, as the
 * reply depends on the fixture alone. NULL on ENOMEM. */
static struct MHD_Response *kept_response(const mspf_response *resp,
                                          fm_fx_cell *cell)
{
    struct MHD_Response *m = atomic_load_explicit(cell, memory_order_acquire);
    void *none = NULL;

    if (m)
        return m;
    m = mhd_response(resp);
    if (m && !atomic_compare_exchange_strong(cell, &none, m)) {
        MHD_destroy_response(m); /* another thread made it first */
        m = none;
    }
    return m;
}

enum MHD_Result fm_replay_serve(fm_req *r, struct MHD_Connection *c,
                                const mspf_response *resp, fm_fx_cell *cell,
                                int *status)
{
    const mspf_fault *f = &resp->fault;
    long long due;
    struct MHD_Response *m;
    enum MHD_Result ok;

    *status = 0;
    if (f->kind == MSPF_FAULT_NONE && resp->delay_ms <= 0 && cell) {
        /* the hot path: a plain reply, now */
        m = kept_response(resp, cell);
        if (!m)
            return MHD_NO;
        *status = resp->status;
        r->state = RS_DONE;
        return MHD_queue_response(c, (unsigned)resp->status, m);
    }
    due = fm_mono_ms() + (resp->delay_ms > 0 ? resp->delay_ms : 0);
    switch (f->kind) {
    case MSPF_FAULT_NONE:
        *status = resp->status;
        r->resp = mhd_response(resp);
        if (!r->resp)
            return MHD_NO;
        r->status = (unsigned)resp->status;
        r->after = AFTER_RESPOND;
        if (resp->delay_ms > 0)
            return suspend(r, c, due);
        r->state = RS_DONE;
        ok = MHD_queue_response(c, r->status, r->resp);
        MHD_destroy_response(r->resp);
        r->resp = NULL;
        return ok;
    case MSPF_FAULT_RESET:
    case MSPF_FAULT_EMPTY:
        r->after = f->kind == MSPF_FAULT_RESET ? AFTER_RESET : AFTER_CLOSE;
        if (resp->delay_ms > 0)
            return suspend(r, c, due);
        if (f->kind == MSPF_FAULT_RESET)
            fm_replay_arm_reset(c);
        r->state = RS_DONE;
        return MHD_NO;
    case MSPF_FAULT_HANG:
        r->after = AFTER_CLOSE;
        return suspend(r, c, SCHED_NEVER);
    default:
        r->raw = raw_bytes(r->fm, resp, &r->job, &r->job.raw_len);
        if (!r->raw)
            return MHD_NO;
        r->job.raw = r->raw;
        if (f->kind == MSPF_FAULT_DRIBBLE) {
            *status = resp->status; /* the whole response arrives */
            r->job.chunk = f->chunk_bytes ? f->chunk_bytes : 1;
            r->job.interval_ms = f->interval_ms;
        }
        r->after = f->kind == MSPF_FAULT_RESET_AFTER_HEADERS ? AFTER_RESET
                                                             : AFTER_CLOSE;
        return suspend(r, c, due);
    }
}

enum MHD_Result fm_replay_resumed(fm_req *r, struct MHD_Connection *c)
{
    enum MHD_Result ok;

    r->state = RS_DONE;
    if (r->after == AFTER_RESPOND && !r->job.write_failed &&
        !atomic_load(&r->fm->stopping)) {
        ok = MHD_queue_response(c, r->status, r->resp);
        MHD_destroy_response(r->resp);
        r->resp = NULL;
        return ok;
    }
    if (r->after == AFTER_RESET)
        fm_replay_arm_reset(c);
    return MHD_NO;
}
