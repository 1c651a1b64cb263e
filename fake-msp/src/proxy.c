/* proxy.c — the recording proxy's transport: admission, one libcurl multi
 * thread for every upstream transfer, cancellation of exchanges whose client
 * has gone, the replies (see proxy.h). */
#include "proxy.h"

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_rules.h"
#include "proxy_xfer.h"
#include "record.h"
#include "server.h"

#ifndef POLLRDHUP /* Linux's "the peer closed", even with bytes unread; */
#define POLLRDHUP 0x2000 /* <poll.h> shows it only with _GNU_SOURCE */
#endif

struct fm_proxy {
    fake_msp *fm;
    fm_upstream up;
    char *ca_file;
    fm_recorder *rec;
    long timeout_ms;
    size_t queue_max;
    atomic_size_t held; /* budget bytes held, all exchanges */
    CURLM *multi;
    pthread_t loop_thread, rec_thread;
    int loop_started, rec_started;
    struct pollfd *pfd; /* the transfer thread's probe, queue_max long */
    px_xfer **pfx;
    px_xfer *active; /* the transfer thread's own */
    pthread_mutex_t lock;
    pthread_cond_t cond;                 /* the recording thread waits on it */
    px_xfer *intake;                     /* under lock */
    px_xfer *to_record, *to_record_tail; /* under lock, FIFO */
    size_t in_flight; /* under lock: admitted, not answered */
    int stopping;     /* under lock */
    int loop_done;    /* under lock */
};

/* ---- the budget -------------------------------------------------------- */

int fm_proxy_reserve(fm_proxy *p, size_t n)
{
    size_t cur = atomic_load(&p->held);

    do {
        if (n > FM_PROXY_BUDGET || cur > FM_PROXY_BUDGET - n)
            return -1;
    } while (!atomic_compare_exchange_weak(&p->held, &cur, cur + n));
    return 0;
}

void fm_proxy_release(fm_proxy *p, size_t n)
{
    atomic_fetch_sub(&p->held, n);
}

/* ---- answering ----------------------------------------------------------- */

/* An MSP error body as a JSON response (Retry-After: 1 when retry). */
static struct MHD_Response *error_response(const char *code, const char *msg,
                                           int retry)
{
    size_t len;
    char *eb = fm_error_body(code, msg, NULL, NULL, &len);
    struct MHD_Response *m =
        eb ? MHD_create_response_from_buffer(len, eb, MHD_RESPMEM_MUST_FREE)
           : NULL;

    if (!m) {
        free(eb);
        return NULL;
    }
    MHD_add_response_header(m, "Content-Type", "application/json");
    if (retry)
        MHD_add_response_header(m, "Retry-After", "1");
    return m;
}

/* Why a body was refused: the budget is held. */
static void budget_msg(char *msg, size_t len)
{
    snprintf(msg, len,
             "the proxy holds its budget of %u bytes of bodies in flight; "
             "try again",
             (unsigned)FM_PROXY_BUDGET);
}

enum MHD_Result fm_proxy_head(fm_req *r, struct MHD_Connection *c,
                              const char *url, const char *method,
                              unsigned long long content_length)
{
    fm_proxy *p = r->fm->proxy;
    struct MHD_Response *m;
    char msg[200], note[300], *notes[1] = {note};
    size_t in_flight;
    enum MHD_Result ok = MHD_NO;

    pthread_mutex_lock(&p->lock);
    in_flight = p->in_flight;
    pthread_mutex_unlock(&p->lock);
    if (in_flight < p->queue_max &&
        (content_length == 0 ||
         fm_proxy_reserve(p, (size_t)content_length) == 0)) {
        r->proxy_held = (size_t)content_length;
        return MHD_YES;
    }
    if (in_flight >= p->queue_max)
        snprintf(msg, sizeof msg,
                 "the proxy has %zu exchanges in flight (--proxy-queue); "
                 "try again",
                 p->queue_max);
    else
        budget_msg(msg, sizeof msg);
    snprintf(note, sizeof note, "proxy: 503, not forwarded: %s", msg);
    fm_journal_append(p->fm->journal, method, url, NULL, 0,
                      (const unsigned char *)"", 0, NULL, 503, notes, 1);
    r->state = RS_DONE;
    r->door = 1;
    m = error_response("UNAVAILABLE", msg, 1);
    if (m) {
        MHD_add_response_header(m, "Connection", "close");
        ok = MHD_queue_response(c, 503, m);
        MHD_destroy_response(m);
    }
    return ok;
}

int fm_proxy_body(fm_req *r, size_t total)
{
    size_t more;

    if (total <= r->proxy_held)
        return 0;
    more = total - r->proxy_held;
    if (more < FM_PROXY_BODY_STEP)
        more = FM_PROXY_BODY_STEP;
    if (fm_proxy_reserve(r->fm->proxy, more) != 0) {
        r->proxy_full = 1;
        return -1;
    }
    r->proxy_held += more;
    return 0;
}

/* Journals and logs the exchange (note: why nothing was recorded, or ""). */
static void report(fm_proxy *p, const char *method, const char *path,
                   const mspf_header *h, size_t n_h, const unsigned char *body,
                   size_t body_len, const char *recorded, int status,
                   const char *note)
{
    fake_msp *fm = p->fm;
    char *notes[1] = {(char *)note};
    const char *auth = NULL;
    char masked[128] = "-", line[1600];
    size_t i;

    fm_journal_append(fm->journal, method, path, h, n_h,
                      body ? body : (const unsigned char *)"", body_len,
                      recorded, status, notes, note[0] ? 1 : 0);
    if (!fm->log)
        return;
    for (i = 0; i < n_h && !auth; i++)
        if (fm_strieq(h[i].name, "Authorization"))
            auth = h[i].value;
    if (auth)
        fm_mask_authorization(auth, masked, sizeof masked);
    snprintf(line, sizeof line,
             "%.16s %.300s %d proxied%s%.200s%s%.600s auth=%s", method, path,
             status, recorded ? " recorded=" : "", recorded ? recorded : "",
             note[0] ? " " : "", note, masked);
    fm->log(fm->log_user, line);
}

/* Resumes x's connection (its handler queues r->resp, or closes when it is
 * NULL with AFTER_CLOSE), forgets x and frees it. */
static void resume_and_free(fm_proxy *p, px_xfer *x)
{
    pthread_mutex_lock(&p->lock); /* first: the client's next request */
    p->in_flight--;               /* must find its slot free */
    pthread_mutex_unlock(&p->lock);
    MHD_resume_connection(x->c); /* x->r may be freed from here on */
    fm_px_free(x);
}

/* Answers a finished exchange: its reply, or a 502 naming the cause. */
static void answer(fm_proxy *p, px_xfer *x, const char *recorded,
                   const char *why_not)
{
    fm_req *r = x->r;
    char msg[800], note[900] = "";

    if (x->status > 0) {
        r->resp = fm_px_reply_response(x);
        r->status = (unsigned)x->status;
        if (why_not && *why_not)
            snprintf(note, sizeof note, "proxy: not recorded: %.700s", why_not);
    } else {
        fm_upstream_scrub(&p->up, x->cause);
        snprintf(msg, sizeof msg, "upstream %.200s failed: %.500s", p->up.shown,
                 x->cause);
        snprintf(note, sizeof note, "proxy: 502, %s; nothing recorded", msg);
        r->resp = error_response("BAD_GATEWAY", msg, 0);
        r->status = 502;
    }
    r->after = AFTER_RESPOND;
    report(p, x->method, x->path, x->h, x->n_h, x->body, x->body_len, recorded,
           (int)r->status, note);
    resume_and_free(p, x);
}

/* The client of x has gone: nothing is sent to it; the connection closes. */
static void cancel(fm_proxy *p, px_xfer *x)
{
    char note[200];

    snprintf(note, sizeof note, "proxy: the client went away; exchange %s",
             x->started ? "aborted in flight"
                        : "cancelled before it was forwarded");
    x->r->resp = NULL;
    x->r->after = AFTER_CLOSE;
    report(p, x->method, x->path, x->h, x->n_h, x->body, x->body_len, NULL, 0,
           note);
    resume_and_free(p, x);
}

/* Builds and writes the fixture of a finished exchange, then answers. */
static void record_and_answer(fm_proxy *p, px_xfer *x)
{
    char name[256] = "", why[600] = "", line[1000];
    fm_rec_pending *pending = NULL;
    fm_exchange ex = {
        .method = x->method,
        .path = x->path,
        .req_headers = x->h,
        .n_req_headers = x->n_h,
        .req_body = x->body ? x->body : (const unsigned char *)"",
        .req_body_len = x->body_len,
        .status = x->status,
        .resp_headers = x->rh,
        .n_resp_headers = x->n_rh,
        .resp_body = (const unsigned char *)(x->rb ? x->rb : ""),
        .resp_body_len = x->rb_len,
    };
    int rc = fm_rec_exchange(p->rec, &ex, name, sizeof name, &pending, why,
                             sizeof why);

    answer(p, x, rc == 0 ? name : NULL, rc == 0 ? "" : why);
    if (pending && fm_rec_flush(p->rec, pending, why, sizeof why) != 0 &&
        p->fm->log) {
        snprintf(line, sizeof line, "record: %s not written: %.600s", name,
                 why);
        p->fm->log(p->fm->log_user, line);
    }
}

static void *recording_thread(void *arg)
{
    fm_proxy *p = arg;
    px_xfer *x;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->to_record && !p->loop_done)
            pthread_cond_wait(&p->cond, &p->lock);
        x = p->to_record;
        if (x && !(p->to_record = x->next))
            p->to_record_tail = NULL;
        pthread_mutex_unlock(&p->lock);
        if (!x)
            return NULL; /* the transfer thread has ended, nothing left */
        record_and_answer(p, x);
    }
}

/* ---- the transfer thread ------------------------------------------------- */

static void unlink_active(fm_proxy *p, px_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        p->active = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->next = x->prev = NULL;
}

/* A transfer has ended (result from curl): answer, or pass on to record. */
static void finished(fm_proxy *p, px_xfer *x, CURLcode rc)
{
    unlink_active(p, x);
    curl_multi_remove_handle(p->multi, x->easy);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
        if (x->status < 100 || x->status > 999) {
            x->status = 0;
            snprintf(x->cause, sizeof x->cause, "no valid HTTP status");
        }
    } else if (!x->cause[0]) {
        snprintf(x->cause, sizeof x->cause, "%s%s%s", curl_easy_strerror(rc),
                 x->errbuf[0] ? ": " : "", x->errbuf);
    }
    if (x->status > 0)
        fm_px_drop_hop_headers(x);
    if (x->status > 0 && p->rec) {
        pthread_mutex_lock(&p->lock);
        x->next = NULL; /* FIFO: a retry is recorded after its first try */
        if (p->to_record_tail)
            p->to_record_tail->next = x;
        else
            p->to_record = x;
        p->to_record_tail = x;
        pthread_cond_signal(&p->cond);
        pthread_mutex_unlock(&p->lock);
        return;
    }
    answer(p, x, NULL, "");
}

static void start(fm_proxy *p, px_xfer *x)
{
    if (fm_px_prepare(x, p->timeout_ms, p->ca_file) != 0 ||
        curl_multi_add_handle(p->multi, x->easy)) {
        snprintf(x->cause, sizeof x->cause, "out of memory");
        answer(p, x, NULL, "");
        return;
    }
    x->started = 1;
    x->next = p->active;
    x->prev = NULL;
    if (p->active)
        p->active->prev = x;
    p->active = x;
}

/* Cancels every exchange in flight whose client has closed or reset its
 * connection (one poll(2) for all of them). */
static void probe_clients(fm_proxy *p)
{
    size_t n = 0, i;
    px_xfer *x;

    for (x = p->active; x && n < p->queue_max; x = x->next) {
        p->pfd[n].fd = x->client_fd;
        p->pfd[n].events = POLLRDHUP;
        p->pfd[n].revents = 0;
        p->pfx[n++] = x;
    }
    if (n == 0 || poll(p->pfd, (nfds_t)n, 0) <= 0)
        return;
    for (i = 0; i < n; i++)
        if (p->pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
            x = p->pfx[i];
            unlink_active(p, x);
            curl_multi_remove_handle(p->multi, x->easy);
            cancel(p, x);
        }
}

static int client_gone(int fd)
{
    struct pollfd pf = {fd, POLLRDHUP, 0};

    return fd >= 0 && poll(&pf, 1, 0) > 0 &&
           (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Everything still held when the proxy stops gets a 502 (which the
 * stopping server turns into a close). */
static void abort_all(fm_proxy *p, px_xfer *in)
{
    px_xfer *x;

    while ((x = p->active)) {
        unlink_active(p, x);
        curl_multi_remove_handle(p->multi, x->easy);
        snprintf(x->cause, sizeof x->cause, "fake-msp is stopping");
        answer(p, x, NULL, "");
    }
    while ((x = in)) {
        in = x->next;
        snprintf(x->cause, sizeof x->cause, "fake-msp is stopping");
        answer(p, x, NULL, "");
    }
}

static void *transfer_thread(void *arg)
{
    fm_proxy *p = arg;
    long long next_probe = 0;
    int running, stop, left;
    px_xfer *in, *x;
    CURLMsg *m;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        in = p->intake;
        p->intake = NULL;
        stop = p->stopping;
        pthread_mutex_unlock(&p->lock);
        if (stop) {
            abort_all(p, in);
            break;
        }
        while ((x = in)) {
            in = x->next;
            if (client_gone(x->client_fd))
                cancel(p, x);
            else
                start(p, x);
        }
        curl_multi_perform(p->multi, &running);
        while ((m = curl_multi_info_read(p->multi, &left)))
            if (m->msg == CURLMSG_DONE) {
                x = NULL;
                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
                if (x)
                    finished(p, x, m->data.result);
            }
        if (p->active && fm_mono_ms() >= next_probe) {
            probe_clients(p);
            next_probe = fm_mono_ms() + FM_PROXY_PROBE_MS;
        }
        curl_multi_poll(p->multi, NULL, 0, p->active ? FM_PROXY_PROBE_MS : 1000,
                        NULL);
    }
    pthread_mutex_lock(&p->lock);
    p->loop_done = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------
 */

fm_proxy *fm_proxy_new(fake_msp *fm, const fake_msp_options *opt, char *errbuf,
                       size_t errlen)
{
    fm_proxy *p;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(errbuf, errlen, "cannot initialise libcurl");
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->fm = fm;
    p->timeout_ms = opt->upstream_timeout_ms > 0
                        ? opt->upstream_timeout_ms
                        : FAKE_MSP_DEFAULT_UPSTREAM_TIMEOUT_MS;
    p->queue_max =
        opt->proxy_queue ? opt->proxy_queue : FAKE_MSP_DEFAULT_PROXY_QUEUE;
    if (fm_upstream_parse(opt->proxy_url, &p->up, errbuf, errlen) != 0) {
        fm_proxy_free(p);
        return NULL;
    }
    p->multi = curl_multi_init();
    p->pfd = calloc(p->queue_max, sizeof *p->pfd);
    p->pfx = calloc(p->queue_max, sizeof *p->pfx);
    if (!p->multi || !p->pfd || !p->pfx ||
        (opt->proxy_ca_file && !(p->ca_file = strdup(opt->proxy_ca_file)))) {
        fm_proxy_free(p);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    if (opt->record_dir) {
        p->rec = fm_rec_new(opt->record_dir, opt->redact, opt->n_redact, errbuf,
                            errlen);
        if (!p->rec) {
            fm_proxy_free(p);
            return NULL;
        }
    }
    p->loop_started =
        pthread_create(&p->loop_thread, NULL, transfer_thread, p) == 0;
    p->rec_started =
        p->loop_started &&
        pthread_create(&p->rec_thread, NULL, recording_thread, p) == 0;
    if (!p->rec_started) {
        fm_proxy_free(p);
        snprintf(errbuf, errlen, "cannot start the proxy threads");
        return NULL;
    }
    return p;
}

/* Collects a request header (MHD_get_connection_values). */
static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    px_xfer *x = cls;
    mspf_header *h = x->h + x->n_h;

    (void)kind;
    if (x->n_h == FM_MAX_HEADERS)
        return MHD_NO;
    h->name = strdup(key);
    h->value = strdup(value ? value : "");
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return MHD_NO;
    }
    x->n_h++;
    return MHD_YES;
}

/* Query arguments, re-encoded ("k=v&k2"). */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    msp_buf *b = cls;
    char *k = curl_easy_escape(NULL, key, 0);
    char *v = value ? curl_easy_escape(NULL, value, 0) : NULL;

    (void)kind;
    if (b->len)
        msp_buf_append_str(b, "&");
    msp_buf_append_str(b, k ? k : "");
    if (value) {
        msp_buf_append_str(b, "=");
        msp_buf_append_str(b, v ? v : "");
    }
    curl_free(k);
    curl_free(v);
    return MHD_YES;
}

/* Answers here, without forwarding, and journals why. */
static enum MHD_Result refuse(fm_proxy *p, px_xfer *x, unsigned status,
                              const char *code, const char *msg, int retry)
{
    struct MHD_Response *m = error_response(code, msg, retry);
    char note[700];
    enum MHD_Result ok = MHD_NO;

    snprintf(note, sizeof note, "proxy: %u, not forwarded: %.600s", status,
             msg);
    x->r->state = RS_DONE;
    report(p, x->method, x->path, x->h, x->n_h, x->body, x->body_len, NULL,
           (int)status, note);
    if (m) {
        ok = MHD_queue_response(x->c, status, m);
        MHD_destroy_response(m);
    }
    fm_px_free(x);
    return ok;
}

/* Admits x (a slot in the queue, its body within the budget) and hands it
 * to the transfer thread. */
static enum MHD_Result admit(fm_proxy *p, px_xfer *x)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(x->c, MHD_CONNECTION_INFO_CONNECTION_FD);
    char msg[200];

    x->client_fd = ci ? ci->connect_fd : -1;
    /* the head reserved what it declared; the body is what arrived */
    if (x->r->proxy_held >= x->body_len) {
        fm_proxy_release(p, x->r->proxy_held - x->body_len);
        x->r->proxy_held = 0;
    } else if (fm_proxy_reserve(p, x->body_len - x->r->proxy_held) == 0) {
        x->r->proxy_held = 0;
    } else {
        budget_msg(msg, sizeof msg);
        return refuse(p, x, 503, "UNAVAILABLE", msg, 1);
    }
    x->held = x->body_len;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        x->r->state = RS_DONE;
        fm_px_free(x);
        return MHD_NO;
    }
    if (p->in_flight >= p->queue_max) {
        pthread_mutex_unlock(&p->lock);
        snprintf(msg, sizeof msg,
                 "the proxy has %zu exchanges in flight (--proxy-queue); "
                 "try again",
                 p->queue_max);
        return refuse(p, x, 503, "UNAVAILABLE", msg, 1);
    }
    p->in_flight++;
    x->r->state = RS_SUSPENDED;
    x->r->resp = NULL;
    MHD_suspend_connection(x->c);
    x->next = p->intake; /* LIFO until the thread takes them: fine */
    p->intake = x;
    pthread_mutex_unlock(&p->lock);
    curl_multi_wakeup(p->multi);
    return MHD_YES;
}

enum MHD_Result fm_proxy_dispatch(fm_req *r, struct MHD_Connection *c,
                                  const char *url, const char *method)
{
    fm_proxy *p = r->fm->proxy;
    px_xfer *x = calloc(1, sizeof *x);
    char why[300], *query;
    msp_buf q;
    int bad, status;

    if (!x)
        return MHD_NO;
    x->p = p;
    x->r = r;
    x->c = c;
    x->h = calloc(FM_MAX_HEADERS, sizeof *x->h);
    x->method = strdup(method);
    x->path = strdup(url);
    if (!x->h || !x->method || !x->path) {
        fm_px_free(x);
        return MHD_NO;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, x);
    if (r->too_large) {
        /* over --max-body: answered here, never forwarded */
        fm_px_free(x);
        r->state = RS_DONE;
        return fm_queue_error(c, 413, "PAYLOAD_TOO_LARGE",
                              "Request body too large");
    }
    if (r->proxy_full) {
        /* a body without Content-Length that outgrew the budget */
        char msg[200];
        budget_msg(msg, sizeof msg);
        return refuse(p, x, 503, "UNAVAILABLE", msg, 1);
    }
    x->body = (unsigned char *)r->body.data;
    x->body_len = r->body.len;
    r->body.data = NULL;
    r->body.len = r->body.cap = 0;
    status = fm_request_head_check(method, x->h, x->n_h, why, sizeof why);
    if (status != 0)
        return refuse(p, x, (unsigned)status,
                      status == 405 ? "METHOD_NOT_ALLOWED" : "VALIDATION", why,
                      0);
    msp_buf_init(&q, 1024u * 1024u);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    query = q.failed ? NULL : q.data;
    bad = q.failed ||
          fm_upstream_target(&p->up, url, query, &x->url, why, sizeof why) != 0;
    if (q.failed)
        snprintf(why, sizeof why, "the query string is over 1 MiB");
    free(q.data);
    if (bad)
        return refuse(p, x, 400, "VALIDATION", why, 0);
    return admit(p, x);
}

void fm_proxy_stop(fm_proxy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_mutex_unlock(&p->lock);
    if (p->loop_started) {
        curl_multi_wakeup(p->multi);
        pthread_join(p->loop_thread, NULL);
        p->loop_started = 0;
    }
    pthread_mutex_lock(&p->lock);
    p->loop_done = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (p->rec_started) {
        pthread_join(p->rec_thread, NULL);
        p->rec_started = 0;
    }
}

void fm_proxy_free(fm_proxy *p)
{
    if (!p)
        return;
    fm_proxy_stop(p);
    if (p->multi)
        curl_multi_cleanup(p->multi);
    fm_rec_free(p->rec);
    fm_upstream_free(&p->up);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->pfd);
    free(p->pfx);
    free(p->ca_file);
    free(p);
}
