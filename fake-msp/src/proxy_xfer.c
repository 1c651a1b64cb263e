/* proxy_xfer.c — one upstream exchange through libcurl: request headers,
 * reply callbacks within the caps, the reply as an MHD response (see
 * proxy_xfer.h). */
#include "proxy_xfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_rules.h"

/* A reply body handed to libmicrohttpd, and the budget it holds. */
typedef struct px_body {
    fm_proxy *p;
    char *buf;
    size_t held;
} px_body;

static void body_freed(void *cls)
{
    px_body *b = cls;

    fm_proxy_release(b->p, b->held);
    free(b->buf);
    free(b);
}

static void clear_reply_headers(px_xfer *x)
{
    size_t i;

    for (i = 0; i < x->n_rh; i++) {
        free(x->rh[i].name);
        free(x->rh[i].value);
    }
    x->n_rh = 0;
}

void fm_px_free(px_xfer *x)
{
    size_t i;

    if (!x)
        return;
    for (i = 0; i < x->n_h; i++) {
        free(x->h[i].name);
        free(x->h[i].value);
    }
    clear_reply_headers(x);
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hl);
    curl_url_cleanup(x->url);
    free(x->h);
    free(x->method);
    free(x->path);
    free(x->body);
    free(x->rb);
    if (x->held)
        fm_proxy_release(x->p, x->held);
    free(x);
}

/* A header name: RFC 9110 tchars, at least one. */
static int token(const char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    size_t i;

    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || (s[i] && strchr(extra, s[i]))))
            return 0;
    return n > 0;
}

/* A header value as curl hands it over: no NUL, CR or LF but the line's own
 * CRLF at its end. */
static int printable(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return !memchr(s, '\0', n) && !memchr(s, '\r', n) && !memchr(s, '\n', n);
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    px_xfer *x = user;
    size_t len = size * n, k;
    const char *colon, *v;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        clear_reply_headers(x); /* a new response (after 1xx) */
        x->expect_len = 0;
        return len;
    }
    if (len <= 2 && (data[0] == '\r' || data[0] == '\n'))
        return len; /* the blank line */
    colon = memchr(data, ':', len);
    if (!colon || !token(data, (size_t)(colon - data)) ||
        !printable(colon + 1, (size_t)(data + len - colon - 1))) {
        snprintf(x->cause, sizeof x->cause,
                 "the upstream reply has a header line the proxy cannot "
                 "pass on whole (folded, no name, or a CR, LF or NUL inside)");
        return 0;
    }
    if (x->n_rh == FM_MAX_HEADERS) {
        snprintf(x->cause, sizeof x->cause,
                 "the upstream reply has more than %u headers",
                 (unsigned)FM_MAX_HEADERS);
        return 0;
    }
    k = (size_t)(colon - data);
    v = colon + 1;
    while (v < data + len && (*v == ' ' || *v == '\t'))
        v++;
    x->rh[x->n_rh].name = strndup(data, k);
    k = (size_t)(data + len - v);
    while (k > 0 && (v[k - 1] == '\r' || v[k - 1] == '\n' || v[k - 1] == ' ' ||
                     v[k - 1] == '\t'))
        k--;
    x->rh[x->n_rh].value = strndup(v, k);
    if (!x->rh[x->n_rh].name || !x->rh[x->n_rh].value) {
        free(x->rh[x->n_rh].name);
        free(x->rh[x->n_rh].value);
        snprintf(x->cause, sizeof x->cause, "out of memory");
        return 0;
    }
    if (fm_strieq(x->rh[x->n_rh].name, "Content-Length") &&
        strcmp(x->method, "HEAD") != 0) {
        x->expect_len = strtoull(x->rh[x->n_rh].value, NULL, 10);
        if (x->expect_len > FM_PROXY_MAX_REPLY) {
            snprintf(x->cause, sizeof x->cause,
                     "the upstream reply body is %llu bytes, over the "
                     "proxy's cap of %u",
                     x->expect_len, (unsigned)FM_PROXY_MAX_REPLY);
            x->n_rh++;
            return 0;
        }
    }
    x->n_rh++;
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    px_xfer *x = user;
    size_t len = size * n, cap;
    char *nb;

    if (len > FM_PROXY_MAX_REPLY - x->rb_len) {
        snprintf(x->cause, sizeof x->cause,
                 "the upstream reply body is over the proxy's cap of %u "
                 "bytes",
                 (unsigned)FM_PROXY_MAX_REPLY);
        return 0;
    }
    if (x->rb_len + len > x->rb_cap) {
        cap = x->rb_cap ? x->rb_cap * 2 : 16384;
        if (x->expect_len > cap)
            cap = (size_t)x->expect_len;
        if (cap < x->rb_len + len)
            cap = x->rb_len + len;
        if (cap > FM_PROXY_MAX_REPLY)
            cap = FM_PROXY_MAX_REPLY;
        if (fm_proxy_reserve(x->p, cap - x->rb_cap) != 0) {
            snprintf(x->cause, sizeof x->cause,
                     "the proxy holds its budget of %u bytes of bodies in "
                     "flight; this reply does not fit",
                     (unsigned)FM_PROXY_BUDGET);
            return 0;
        }
        nb = realloc(x->rb, cap);
        if (!nb) {
            fm_proxy_release(x->p, cap - x->rb_cap);
            snprintf(x->cause, sizeof x->cause, "out of memory");
            return 0;
        }
        x->held += cap - x->rb_cap;
        x->rb = nb;
        x->rb_cap = cap;
    }
    memcpy(x->rb + x->rb_len, data, len);
    x->rb_len += len;
    return len;
}

/* The request headers to send: all but hop-by-hop ones and those curl sets
 * itself (Host, Content-Length, Expect); nothing the client did not send. */
static int build_headers(px_xfer *x)
{
    struct curl_slist *t;
    int have_ct = 0, have_accept = 0;
    char *line;
    size_t i, n;

    for (i = 0; i < x->n_h; i++) {
        const char *name = x->h[i].name;
        if (fm_hop_header(name, x->h, x->n_h) || fm_strieq(name, "Host") ||
            fm_strieq(name, "Content-Length") || fm_strieq(name, "Expect"))
            continue;
        have_ct |= fm_strieq(name, "Content-Type");
        have_accept |= fm_strieq(name, "Accept");
        /* whole, however long (MHD's connection memory bounds it) */
        n = strlen(name) + strlen(x->h[i].value) + 3;
        line = malloc(n);
        if (!line)
            return -1;
        if (x->h[i].value[0])
            snprintf(line, n, "%s: %s", name, x->h[i].value);
        else
            snprintf(line, n, "%s;", name);
        t = curl_slist_append(x->hl, line);
        free(line);
        if (!t)
            return -1;
        x->hl = t;
    }
    if (!have_ct && !(t = curl_slist_append(x->hl, "Content-Type:")))
        return -1;
    x->hl = have_ct ? x->hl : t;
    if (!have_accept && !(t = curl_slist_append(x->hl, "Accept:")))
        return -1;
    x->hl = have_accept ? x->hl : t;
    if (!(t = curl_slist_append(x->hl, "Expect:")))
        return -1;
    x->hl = t;
    return 0;
}

int fm_px_prepare(px_xfer *x, long timeout_ms, const char *ca_file)
{
    CURL *e = curl_easy_init();
    long connect_ms = timeout_ms < 10000 ? timeout_ms : 10000;

    if (!e || build_headers(x) != 0) {
        if (e)
            curl_easy_cleanup(e);
        return -1;
    }
    x->easy = e;
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_CURLU, x->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hl);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    if (ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
    if (strcmp(x->method, "GET") == 0 && x->body_len == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(x->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
        if (x->body_len > 0 || strcmp(x->method, "POST") == 0 ||
            strcmp(x->method, "PUT") == 0 || strcmp(x->method, "PATCH") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS,
                             x->body ? (char *)x->body : "");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)x->body_len);
        }
    }
    return 0;
}

void fm_px_drop_hop_headers(px_xfer *x)
{
    size_t i, k = 0;
    int *drop = calloc(x->n_rh ? x->n_rh : 1, sizeof *drop);

    if (!drop)
        return;
    for (i = 0; i < x->n_rh; i++)
        drop[i] = fm_hop_header(x->rh[i].name, x->rh, x->n_rh);
    for (i = 0; i < x->n_rh; i++) {
        if (drop[i]) {
            free(x->rh[i].name);
            free(x->rh[i].value);
        } else {
            x->rh[k++] = x->rh[i];
        }
    }
    x->n_rh = k;
    free(drop);
}

struct MHD_Response *fm_px_reply_response(px_xfer *x)
{
    struct MHD_Response *m;
    px_body *b = x->rb_len ? malloc(sizeof *b) : NULL;
    size_t i;

    if (b) {
        b->p = x->p;
        b->buf = x->rb;
        b->held = x->rb_cap;
        m = MHD_create_response_from_buffer_with_free_callback_cls(
            x->rb_len, x->rb, body_freed, b);
        if (!m) {
            free(b);
            return NULL;
        }
        x->held -= x->rb_cap;
        x->rb = NULL;
        x->rb_len = x->rb_cap = 0;
    } else {
        if (x->rb_len)
            return NULL; /* ENOMEM */
        m = MHD_create_response_from_buffer(0, (void *)"",
                                            MHD_RESPMEM_PERSISTENT);
        if (!m)
            return NULL;
    }
    for (i = 0; i < x->n_rh; i++)
        if (!fm_strieq(x->rh[i].name, "Content-Length"))
            MHD_add_response_header(m, x->rh[i].name, x->rh[i].value);
    return m;
}
