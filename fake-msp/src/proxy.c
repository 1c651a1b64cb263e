/* proxy.c — forwarding to an upstream MSP, and recording (see proxy.h). */
#include "proxy.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "record.h"
#include "server.h"

typedef struct px_job {
    struct px_job *next;
    fm_req *r;
    struct MHD_Connection *c;
    char *method;
    char *path;
    char *target; /* upstream URL + path + query */
    mspf_header *h;
    size_t n_h;
    unsigned char *body;
    size_t body_len;
} px_job;

/* One worker: its thread and the socket of its upstream connection (so that
 * a stop can shut it down and wake curl at once). */
typedef struct px_worker {
    struct fm_proxy *p;
    pthread_t thread;
    curl_socket_t fd; /* under p->lock; CURL_SOCKET_BAD when none */
} px_worker;

struct fm_proxy {
    fake_msp *fm;
    char *upstream; /* without a trailing '/' */
    char *ca_file;
    fm_recorder *rec;
    px_worker workers[FM_PROXY_WORKERS];
    size_t n_threads;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    px_job *head, *tail;
    int stopping;
};

/* Request headers that belong to one hop, or that curl sets itself. */
static int hop_header(const char *name)
{
    static const char *const hop[] = {
        "Connection",          "Keep-Alive", "Proxy-Authenticate",
        "Proxy-Authorization", "TE",         "Trailer",
        "Transfer-Encoding",   "Upgrade",    "Host",
        "Content-Length",      "Expect",     NULL};
    size_t i;

    for (i = 0; hop[i]; i++)
        if (fm_strieq(name, hop[i]))
            return 1;
    return 0;
}

static void job_free(px_job *j)
{
    size_t i;

    if (!j)
        return;
    for (i = 0; i < j->n_h; i++) {
        free(j->h[i].name);
        free(j->h[i].value);
    }
    free(j->h);
    free(j->method);
    free(j->path);
    free(j->target);
    free(j->body);
    free(j);
}

/* ---- one upstream exchange ------------------------------------------- */

typedef struct px_reply {
    fm_buf body;
    mspf_header h[FM_MAX_HEADERS];
    size_t n_h;
    int too_many_headers;
    fm_proxy *p;
} px_reply;

static curl_socket_t open_socket(void *user, curlsocktype purpose,
                                 struct curl_sockaddr *a)
{
    px_worker *w = user;
    curl_socket_t fd;

    (void)purpose;
    fd = socket(a->family, a->socktype, a->protocol);
    pthread_mutex_lock(&w->p->lock);
    if (fd != CURL_SOCKET_BAD && w->p->stopping) {
        close(fd);
        fd = CURL_SOCKET_BAD;
    }
    w->fd = fd;
    pthread_mutex_unlock(&w->p->lock);
    return fd;
}

static int close_socket(void *user, curl_socket_t fd)
{
    px_worker *w = user;

    pthread_mutex_lock(&w->p->lock);
    if (w->fd == fd)
        w->fd = CURL_SOCKET_BAD;
    pthread_mutex_unlock(&w->p->lock);
    return close(fd);
}

static void reply_clear_headers(px_reply *rp)
{
    size_t i;

    for (i = 0; i < rp->n_h; i++) {
        free(rp->h[i].name);
        free(rp->h[i].value);
    }
    rp->n_h = 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    px_reply *rp = user;
    size_t len = size * n, k;
    const char *colon;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        reply_clear_headers(rp); /* a new response (after 1xx) */
        return len;
    }
    colon = memchr(data, ':', len);
    if (!colon || colon == data)
        return len; /* the blank line, or a folded line: dropped */
    if (rp->n_h == FM_MAX_HEADERS) {
        rp->too_many_headers = 1;
        return len;
    }
    k = (size_t)(colon - data);
    rp->h[rp->n_h].name = strndup(data, k);
    colon++;
    while (colon < data + len && (*colon == ' ' || *colon == '\t'))
        colon++;
    k = (size_t)(data + len - colon);
    while (k > 0 && (colon[k - 1] == '\r' || colon[k - 1] == '\n' ||
                     colon[k - 1] == ' ' || colon[k - 1] == '\t'))
        k--;
    rp->h[rp->n_h].value = strndup(colon, k);
    if (!rp->h[rp->n_h].name || !rp->h[rp->n_h].value) {
        free(rp->h[rp->n_h].name);
        free(rp->h[rp->n_h].value);
        return 0; /* ENOMEM: abort */
    }
    rp->n_h++;
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    px_reply *rp = user;

    fm_buf_add(&rp->body, data, size * n);
    return rp->body.failed ? 0 : size * n;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un)
{
    px_reply *rp = user;
    int stop;

    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    pthread_mutex_lock(&rp->p->lock);
    stop = rp->p->stopping;
    pthread_mutex_unlock(&rp->p->lock);
    return stop;
}

/* Response headers the proxy does not pass on (MHD sets its own framing). */
static int skip_reply_header(const char *name)
{
    return fm_strieq(name, "Content-Length") ||
           fm_strieq(name, "Transfer-Encoding") ||
           fm_strieq(name, "Connection") || fm_strieq(name, "Keep-Alive");
}

/* Sends the job upstream. Returns the status (> 0), or 0 with the cause in
 * cause. */
static long exchange(px_worker *w, CURL *curl, const px_job *j, px_reply *rp,
                     char *cause, size_t causelen)
{
    fm_proxy *p = w->p;
    struct curl_slist *hl = NULL, *t;
    char errbuf[CURL_ERROR_SIZE] = "", *line;
    int have_ct = 0, have_accept = 0;
    long status = 0;
    CURLcode rc;
    size_t i, n;

    curl_easy_reset(curl); /* keeps the connection cache */
    for (i = 0; i < j->n_h; i++) {
        if (hop_header(j->h[i].name))
            continue;
        have_ct |= fm_strieq(j->h[i].name, "Content-Type");
        have_accept |= fm_strieq(j->h[i].name, "Accept");
        /* whole, however long (MHD's connection memory bounds it) */
        n = strlen(j->h[i].name) + strlen(j->h[i].value) + 3;
        line = malloc(n);
        if (!line)
            goto nomem;
        if (j->h[i].value[0])
            snprintf(line, n, "%s: %s", j->h[i].name, j->h[i].value);
        else
            snprintf(line, n, "%s;", j->h[i].name);
        t = curl_slist_append(hl, line);
        free(line);
        if (!t)
            goto nomem;
        hl = t;
    }
    /* Nothing the client did not send: no curl defaults. */
    if (!have_ct && (t = curl_slist_append(hl, "Content-Type:")))
        hl = t;
    if (!have_accept && (t = curl_slist_append(hl, "Accept:")))
        hl = t;
    if ((t = curl_slist_append(hl, "Expect:")))
        hl = t;
    curl_easy_setopt(curl, CURLOPT_URL, j->target);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, FM_PROXY_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, rp);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, rp);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, rp);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, w);
    curl_easy_setopt(curl, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(curl, CURLOPT_CLOSESOCKETDATA, w);
    if (p->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, p->ca_file);
    if (strcmp(j->method, "GET") == 0 && j->body_len == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(j->method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, j->method);
        if (j->body_len > 0 || strcmp(j->method, "POST") == 0 ||
            strcmp(j->method, "PUT") == 0 || strcmp(j->method, "PATCH") == 0) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
                             j->body ? (char *)j->body : "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)j->body_len);
        }
    }
    rp->body.cap_max = FM_PROXY_MAX_REPLY;
    rc = curl_easy_perform(curl);
    curl_slist_free_all(hl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 100 && status <= 999 && !rp->too_many_headers)
            return status;
        snprintf(cause, causelen, "%s",
                 rp->too_many_headers ? "over 128 reply headers"
                                      : "no valid HTTP status");
        return 0;
    }
    if (rp->body.failed)
        snprintf(cause, causelen, "reply over %u bytes", FM_PROXY_MAX_REPLY);
    else
        snprintf(cause, causelen, "%s%s%s", curl_easy_strerror(rc),
                 errbuf[0] ? ": " : "", errbuf);
    return 0;
nomem:
    curl_slist_free_all(hl);
    snprintf(cause, causelen, "out of memory");
    return 0;
}

static struct MHD_Response *mhd_reply(px_reply *rp)
{
    size_t len = 0, i;
    char *body = fm_buf_take(&rp->body, &len);
    struct MHD_Response *m = MHD_create_response_from_buffer(
        len, body ? body : (void *)"",
        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);

    if (!m) {
        free(body);
        return NULL;
    }
    for (i = 0; i < rp->n_h; i++)
        if (!skip_reply_header(rp->h[i].name))
            MHD_add_response_header(m, rp->h[i].name, rp->h[i].value);
    return m;
}

static void run_job(px_worker *w, CURL *curl, px_job *j)
{
    fm_proxy *p = w->p;
    fake_msp *fm = p->fm;
    fm_req *r = j->r;
    px_reply rp;
    char cause[600] = "", name[256] = "", why[600] = "", note[900] = "",
         line[1600];
    char *notes[1];
    long status = 0;
    size_t body_len;
    int stopping, recorded = 0;
    fm_rec_pending *pending = NULL;

    memset(&rp, 0, sizeof rp);
    rp.p = p;
    pthread_mutex_lock(&p->lock);
    stopping = p->stopping;
    pthread_mutex_unlock(&p->lock);
    if (!stopping && curl)
        status = exchange(w, curl, j, &rp, cause, sizeof cause);
    else
        snprintf(cause, sizeof cause, "%s",
                 curl ? "fake-msp is stopping" : "no curl handle");
    if (status > 0 && p->rec) {
        fm_exchange x = {
            .method = j->method,
            .path = j->path,
            .req_headers = j->h,
            .n_req_headers = j->n_h,
            .req_body = j->body ? j->body : (const unsigned char *)"",
            .req_body_len = j->body_len,
            .status = status,
            .resp_headers = rp.h,
            .n_resp_headers = rp.n_h,
            .resp_body = (const unsigned char *)(rp.body.p ? rp.body.p : ""),
            .resp_body_len = rp.body.len,
        };
        int rc = fm_rec_exchange(p->rec, &x, name, sizeof name, &pending, why,
                                 sizeof why);
        recorded = rc == 0;
        if (rc != 0)
            snprintf(note, sizeof note, "proxy: not recorded: %s", why);
    }
    if (status > 0) {
        r->resp = mhd_reply(&rp);
        r->status = (unsigned)status;
    } else {
        char *eb;
        char msg[800];
        snprintf(msg, sizeof msg, "upstream %.150s failed: %s", p->upstream,
                 cause);
        snprintf(note, sizeof note, "proxy: 502, %s; nothing recorded", msg);
        eb = fm_error_body("BAD_GATEWAY", msg, NULL, NULL, &body_len);
        r->resp = eb ? MHD_create_response_from_buffer(body_len, eb,
                                                       MHD_RESPMEM_MUST_FREE)
                     : NULL;
        if (eb && !r->resp)
            free(eb);
        if (r->resp)
            MHD_add_response_header(r->resp, "Content-Type",
                                    "application/json");
        r->status = 502;
    }
    r->after = AFTER_RESPOND;
    notes[0] = note;
    fm_journal_append(fm->journal, j->method, j->path, j->h, j->n_h,
                      j->body ? j->body : (const unsigned char *)"",
                      j->body_len, recorded ? name : NULL, (int)r->status,
                      notes, note[0] ? 1 : 0);
    if (fm->log) {
        const char *auth = NULL;
        char masked[128] = "-";
        size_t i;
        for (i = 0; i < j->n_h && !auth; i++)
            if (fm_strieq(j->h[i].name, "Authorization"))
                auth = j->h[i].value;
        if (auth)
            fm_mask_authorization(auth, masked, sizeof masked);
        snprintf(line, sizeof line,
                 "%.16s %.300s %u proxied%s%.200s%s%.600s auth=%s", j->method,
                 j->path, r->status, recorded ? " recorded=" : "",
                 recorded ? name : "", note[0] ? " " : "", note, masked);
        fm->log(fm->log_user, line);
    }
    reply_clear_headers(&rp);
    free(rp.body.p);
    MHD_resume_connection(j->c); /* r may be freed from here on */
    if (pending && fm_rec_flush(p->rec, pending, why, sizeof why) != 0 &&
        fm->log) {
        snprintf(line, sizeof line, "record: %s not written: %.600s", name,
                 why);
        fm->log(fm->log_user, line);
    }
}

static void *worker(void *arg)
{
    px_worker *w = arg;
    fm_proxy *p = w->p;
    CURL *curl = curl_easy_init();
    px_job *j;

    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->lock);
        j = p->head;
        if (j) {
            p->head = j->next;
            if (!p->head)
                p->tail = NULL;
        }
        pthread_mutex_unlock(&p->lock);
        if (!j)
            break; /* stopping, queue empty */
        run_job(w, curl, j);
        job_free(j);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

fm_proxy *fm_proxy_new(fake_msp *fm, const fake_msp_options *opt, char *errbuf,
                       size_t errlen)
{
    fm_proxy *p;
    size_t n;

    if (strncmp(opt->proxy_url, "http://", 7) != 0 &&
        strncmp(opt->proxy_url, "https://", 8) != 0) {
        snprintf(errbuf, errlen, "--proxy wants an http:// or https:// URL");
        return NULL;
    }
    if (strpbrk(opt->proxy_url, "?# \t\r\n")) {
        snprintf(errbuf, errlen, "--proxy URL: no query, fragment or space");
        return NULL;
    }
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
    if (!(p->upstream = strdup(opt->proxy_url)) ||
        (opt->proxy_ca_file && !(p->ca_file = strdup(opt->proxy_ca_file)))) {
        fm_proxy_free(p);
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    n = strlen(p->upstream);
    if (n > 0 && p->upstream[n - 1] == '/')
        p->upstream[n - 1] = '\0';
    p->fm = fm;
    if (opt->record_dir) {
        p->rec = fm_rec_new(opt->record_dir, opt->redact, opt->n_redact, errbuf,
                            errlen);
        if (!p->rec) {
            fm_proxy_free(p);
            return NULL;
        }
    }
    for (n = 0; n < FM_PROXY_WORKERS; n++) {
        p->workers[n].p = p;
        p->workers[n].fd = CURL_SOCKET_BAD;
        if (pthread_create(&p->workers[n].thread, NULL, worker,
                           &p->workers[n]) != 0)
            break;
        p->n_threads++;
    }
    if (p->n_threads == 0) {
        fm_proxy_free(p);
        snprintf(errbuf, errlen, "cannot start the proxy threads");
        return NULL;
    }
    return p;
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    px_job *j = cls;
    mspf_header *h = j->h + j->n_h;

    (void)kind;
    if (j->n_h == FM_MAX_HEADERS)
        return MHD_NO;
    h->name = strdup(key);
    h->value = strdup(value ? value : "");
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return MHD_NO;
    }
    j->n_h++;
    return MHD_YES;
}

/* Query arguments, re-encoded ("k=v&k2"), appended to the target. */
static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind,
                               const char *key, const char *value)
{
    fm_buf *b = cls;
    char *k = curl_easy_escape(NULL, key, 0);
    char *v = value ? curl_easy_escape(NULL, value, 0) : NULL;

    (void)kind;
    fm_buf_adds(b, b->len && strchr(b->p, '?') ? "&" : "?");
    fm_buf_adds(b, k ? k : "");
    if (value) {
        fm_buf_adds(b, "=");
        fm_buf_adds(b, v ? v : "");
    }
    curl_free(k);
    curl_free(v);
    return MHD_YES;
}

enum MHD_Result fm_proxy_dispatch(fm_req *r, struct MHD_Connection *c,
                                  const char *url, const char *method)
{
    fm_proxy *p = r->fm->proxy;
    px_job *j = calloc(1, sizeof *j);
    fm_buf target;

    fm_buf_init(&target, 1024u * 1024u); /* the URL: path and query */
    if (!j)
        return MHD_NO;
    j->h = calloc(FM_MAX_HEADERS, sizeof *j->h);
    j->method = strdup(method);
    j->path = strdup(url);
    if (!j->h || !j->method || !j->path) {
        job_free(j);
        return MHD_NO;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect, j);
    if (r->too_large) {
        /* over --max-body: answered here, never forwarded */
        job_free(j);
        r->state = RS_DONE;
        return fm_queue_error(c, 413, "PAYLOAD_TOO_LARGE",
                              "Request body too large");
    }
    j->body = (unsigned char *)r->body.p;
    j->body_len = r->body.len;
    r->body.p = NULL;
    r->body.len = r->body.cap = 0;
    fm_buf_adds(&target, p->upstream);
    fm_buf_adds(&target, url);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &target);
    j->target = fm_buf_take(&target, NULL);
    if (!j->target) {
        job_free(j);
        return MHD_NO;
    }
    j->r = r;
    j->c = c;
    pthread_mutex_lock(&p->lock);
    if (p->stopping) {
        pthread_mutex_unlock(&p->lock);
        job_free(j);
        r->state = RS_DONE;
        return MHD_NO;
    }
    r->state = RS_SUSPENDED;
    r->resp = NULL;
    MHD_suspend_connection(c);
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return MHD_YES;
}

void fm_proxy_stop(fm_proxy *p)
{
    size_t i;

    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    /* wake curl now, not at its next progress call (up to a second) */
    for (i = 0; i < p->n_threads; i++)
        if (p->workers[i].fd != CURL_SOCKET_BAD)
            shutdown(p->workers[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&p->lock);
    for (i = 0; i < p->n_threads; i++)
        pthread_join(p->workers[i].thread, NULL);
    p->n_threads = 0;
}

void fm_proxy_free(fm_proxy *p)
{
    if (!p)
        return;
    fm_proxy_stop(p);
    fm_rec_free(p->rec);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->upstream);
    free(p->ca_file);
    free(p);
}
