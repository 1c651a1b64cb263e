/*
 * test_server.c — see test_server.h.
 */
#define _GNU_SOURCE /* memmem */
#include "test_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS    256
#define MAX_REQUESTS 1024
#define MAX_QUEUE    256
#define HEAD_MAX     16384
#define BODY_MAX     (4u << 20)

typedef struct owned_action {
    ts_kind kind;
    char *bytes;
    size_t len;
    int delay_ms;
} owned_action;

typedef struct conn {
    ts_server *srv;
    int fd;
    pthread_t thread;
} conn;

struct ts_server {
    int listen_fd;
    int stop_pipe[2];
    int port;
    char url[64];
    pthread_t acceptor;
    pthread_mutex_t lock;
    volatile int stopping;
    owned_action queue[MAX_QUEUE];
    int q_head, q_len;
    owned_action dflt;
    conn conns[MAX_CONNS];
    int n_conns;
    ts_request requests[MAX_REQUESTS];
    int n_requests;
};

static owned_action own(ts_action a)
{
    owned_action o = {a.kind, NULL, 0, a.delay_ms};
    if (a.bytes) {
        o.len = a.len ? a.len : strlen(a.bytes);
        o.bytes = malloc(o.len + 1);
        memcpy(o.bytes, a.bytes, o.len);
        o.bytes[o.len] = '\0';
    }
    return o;
}

const char *ts_http(int status, const char *body)
{
    static _Thread_local char buf[65536];
    snprintf(buf, sizeof buf,
             "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             status, strlen(body), body);
    return buf;
}

/* Waits for fd to be ready for `events` or the stop pipe; -1 on stop or
 * timeout (timeout_ms < 0: only the stop pipe ends the wait). */
static int wait_fd(ts_server *s, int fd, short events, int timeout_ms)
{
    struct pollfd p[2] = {{fd, events, 0}, {s->stop_pipe[0], POLLIN, 0}};
    for (;;) {
        int step = timeout_ms < 0 || timeout_ms > 500 ? 500 : timeout_ms;
        int n = poll(p, 2, step);
        if (s->stopping || (n > 0 && p[1].revents))
            return -1;
        if (n > 0 && p[0].revents)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
        if (timeout_ms >= 0) {
            timeout_ms -= step;
            if (timeout_ms <= 0)
                return 1; /* timed out */
        }
    }
}

static int send_all(ts_server *s, int fd, const char *p, size_t n)
{
    while (n > 0) {
        if (wait_fd(s, fd, POLLOUT, -1) != 0)
            return -1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void reset_close(int fd)
{
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

static int find_header(const char *block, const char *name, char *buf,
                       size_t len)
{
    size_t nlen = strlen(name);
    for (const char *line = block; *line;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(eol - v);
            if (vl >= len)
                vl = len - 1;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            return 1;
        }
        line = eol + 2;
    }
    return 0;
}

int ts_header(const ts_request *r, const char *name, char *buf, size_t len)
{
    return find_header(r->headers, name, buf, len);
}

/* Reads one request into *req. Returns 0, or -1 when the peer closed or
 * the server stops. buf/have carry bytes across requests. */
static int read_request(ts_server *s, int fd, char *buf, size_t *have,
                        ts_request *req)
{
    char *end;
    while (!(end = memmem(buf, *have, "\r\n\r\n", 4))) {
        if (*have >= HEAD_MAX - 1 || wait_fd(s, fd, POLLIN, -1) != 0)
            return -1;
        ssize_t r = recv(fd, buf + *have, HEAD_MAX - 1 - *have, 0);
        if (r <= 0)
            return -1;
        *have += (size_t)r;
    }
    size_t head_len = (size_t)(end - buf) + 4;
    memset(req, 0, sizeof *req);
    char *line_end = memmem(buf, head_len, "\r\n", 2);
    char first[1024];
    size_t fl = (size_t)(line_end - buf) < sizeof first - 1
                    ? (size_t)(line_end - buf)
                    : sizeof first - 1;
    memcpy(first, buf, fl);
    first[fl] = '\0';
    sscanf(first, "%15s %511s", req->method, req->path);
    size_t hl = head_len - (size_t)(line_end + 2 - buf) - 2;
    if (hl >= sizeof req->headers)
        hl = sizeof req->headers - 1;
    memcpy(req->headers, line_end + 2, hl);
    req->headers[hl] = '\0';

    char cl[32];
    size_t body_len = 0;
    if (find_header(req->headers, "Content-Length", cl, sizeof cl))
        body_len = (size_t)strtoul(cl, NULL, 10);
    if (body_len > BODY_MAX)
        return -1;
    req->body = malloc(body_len + 1);
    size_t got = *have - head_len < body_len ? *have - head_len : body_len;
    memcpy(req->body, buf + head_len, got);
    memmove(buf, buf + head_len + got, *have - head_len - got);
    *have -= head_len + got;
    while (got < body_len) {
        if (wait_fd(s, fd, POLLIN, -1) != 0)
            break;
        ssize_t r = recv(fd, req->body + got, body_len - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    req->body[got] = '\0';
    req->body_len = got;
    if (got < body_len) {
        free(req->body);
        return -1;
    }
    return 0;
}

static owned_action next_action(ts_server *s, int *queued)
{
    pthread_mutex_lock(&s->lock);
    owned_action a = s->dflt;
    *queued = s->q_len > 0;
    if (s->q_len > 0) {
        a = s->queue[s->q_head];
        s->q_head = (s->q_head + 1) % MAX_QUEUE;
        s->q_len--;
    }
    pthread_mutex_unlock(&s->lock);
    return a;
}

static int flood(ts_server *s, int fd)
{
    static const char head[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    static char chunk[65536 + 16];
    size_t n = (size_t)snprintf(chunk, 16, "10000\r\n");
    memset(chunk + n, 'x', 65536);
    memcpy(chunk + n + 65536, "\r\n", 2);
    if (send_all(s, fd, head, sizeof head - 1))
        return -1;
    for (int i = 0; i < 17 * 16; i++)
        if (send_all(s, fd, chunk, n + 65536 + 2))
            return -1;
    return send_all(s, fd, "0\r\n\r\n", 5);
}

/* Runs one action; returns 0 to keep the connection, -1 when it is over
 * (fd already closed when *closed is set). */
static int perform(ts_server *s, int fd, const owned_action *a,
                   const ts_request *req, int *closed)
{
    char tmp[1024];
    switch (a->kind) {
    case TS_DELAY_REPLY:
        if (wait_fd(s, s->stop_pipe[0], POLLIN, a->delay_ms) != 1)
            return -1;
        /* fall through */
    case TS_REPLY: return send_all(s, fd, a->bytes, a->len);
    case TS_REPLY_CLOSE: send_all(s, fd, a->bytes, a->len); return -1;
    case TS_CLOSE: return -1;
    case TS_RESET:
        reset_close(fd);
        *closed = 1;
        return -1;
    case TS_PARTIAL_RESET:
        send_all(s, fd, a->bytes, a->len);
        reset_close(fd);
        *closed = 1;
        return -1;
    case TS_PARTIAL_HANG:
        send_all(s, fd, a->bytes, a->len);
        /* fall through */
    case TS_HANG:
        while (wait_fd(s, fd, POLLIN, -1) == 0 &&
               recv(fd, tmp, sizeof tmp, 0) > 0)
            ;
        return -1;
    case TS_ECHO_ID: {
        char id[256] = "", body[512];
        ts_header(req, "X-Brainstorm-Command-Id", id, sizeof id);
        snprintf(body, sizeof body,
                 "{\"exit_code\":0,\"stdout\":\"%s\",\"stderr\":\"\"}", id);
        const char *resp = ts_http(200, body);
        return send_all(s, fd, resp, strlen(resp));
    }
    case TS_FLOOD_CHUNKED: flood(s, fd); return -1;
    }
    return -1;
}

static void *serve(void *arg)
{
    conn *c = arg;
    ts_server *s = c->srv;
    char *buf = malloc(HEAD_MAX);
    size_t have = 0;
    int closed = 0;
    for (;;) {
        ts_request req;
        if (read_request(s, c->fd, buf, &have, &req) != 0)
            break;
        /* Recorded before the answer goes out, so a client that has its
         * answer always finds its request here. */
        pthread_mutex_lock(&s->lock);
        int keep = s->n_requests < MAX_REQUESTS;
        if (keep)
            s->requests[s->n_requests++] = req;
        pthread_mutex_unlock(&s->lock);
        int queued;
        owned_action a = next_action(s, &queued);
        int rc = perform(s, c->fd, &a, &req, &closed);
        if (queued)
            free(a.bytes);
        if (!keep)
            free(req.body);
        if (rc != 0)
            break;
    }
    if (!closed)
        close(c->fd);
    free(buf);
    return NULL;
}

static void *accept_loop(void *arg)
{
    ts_server *s = arg;
    while (wait_fd(s, s->listen_fd, POLLIN, -1) == 0) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        if (s->n_conns >= MAX_CONNS) {
            pthread_mutex_unlock(&s->lock);
            close(fd);
            continue;
        }
        conn *c = &s->conns[s->n_conns];
        c->srv = s;
        c->fd = fd;
        if (pthread_create(&c->thread, NULL, serve, c) == 0)
            s->n_conns++;
        else
            close(fd);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

ts_server *ts_start(void)
{
    ts_server *s = calloc(1, sizeof *s);
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    if (!s)
        return NULL;
    pthread_mutex_init(&s->lock, NULL);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s->listen_fd < 0 || pipe(s->stop_pipe) != 0 ||
        bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->listen_fd, 64) != 0 ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &alen) != 0) {
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    ts_action d = {
        TS_REPLY,
        ts_http(200, "{\"exit_code\":0,\"stdout\":\"ok\",\"stderr\":\"\"}"), 0,
        0};
    s->dflt = own(d);
    if (pthread_create(&s->acceptor, NULL, accept_loop, s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void ts_stop(ts_server *s)
{
    if (!s)
        return;
    s->stopping = 1;
    (void)!write(s->stop_pipe[1], "x", 1);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->n_conns; i++)
        pthread_join(s->conns[i].thread, NULL);
    close(s->listen_fd);
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    for (int i = 0; i < s->n_requests; i++)
        free(s->requests[i].body);
    for (int i = 0; i < s->q_len; i++)
        free(s->queue[(s->q_head + i) % MAX_QUEUE].bytes);
    free(s->dflt.bytes);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int ts_port(const ts_server *s)
{
    return s->port;
}

const char *ts_url(const ts_server *s)
{
    return s->url;
}

void ts_push(ts_server *s, ts_action a)
{
    owned_action o = own(a);
    pthread_mutex_lock(&s->lock);
    if (s->q_len < MAX_QUEUE) {
        s->queue[(s->q_head + s->q_len) % MAX_QUEUE] = o;
        s->q_len++;
        o.bytes = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    free(o.bytes);
}

void ts_set_default(ts_server *s, ts_action a)
{
    owned_action o = own(a);
    pthread_mutex_lock(&s->lock);
    owned_action old = s->dflt;
    s->dflt = o;
    pthread_mutex_unlock(&s->lock);
    free(old.bytes);
}

void ts_push_response(ts_server *s, int status, const char *body)
{
    ts_action a = {TS_REPLY, ts_http(status, body), 0, 0};
    ts_push(s, a);
}

int ts_connections(ts_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->n_conns;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int ts_request_count(ts_server *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->n_requests;
    pthread_mutex_unlock(&s->lock);
    return n;
}

const ts_request *ts_request_at(ts_server *s, int i)
{
    pthread_mutex_lock(&s->lock);
    const ts_request *r = i >= 0 && i < s->n_requests ? &s->requests[i] : NULL;
    pthread_mutex_unlock(&s->lock);
    return r;
}
