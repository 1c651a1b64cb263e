/*
 * http.c — one raw HTTP exchange with libcurl, for provider steps and
 * provider-state calls: exactly the method, path, headers and body a
 * fixture gives (no executor in between), the whole reply captured with
 * caps and a deadline. Redirects are not followed.
 */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "executor/msp_util.h"

#define REPLY_BODY_CAP    (16u * 1024u * 1024u)
#define REPLY_HEADERS_MAX 128

typedef struct sink {
    msp_buf body; /* capped at REPLY_BODY_CAP */
    int over;
} sink;

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    sink *s = user;
    size_t n = size * nmemb;
    if (msp_buf_append(&s->body, data, n) != 0) {
        s->over = errno == EFBIG;
        return 0;
    }
    return n;
}

static void drop_headers(hx_http_reply *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    r->n_headers = 0;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    hx_http_reply *r = user;
    size_t n = size * nmemb, len = n;
    const char *colon;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        drop_headers(r); /* a new status line: 100 Continue came first */
        return n;
    }
    colon = memchr(data, ':', len);
    if (!colon || r->n_headers == REPLY_HEADERS_MAX)
        return n;
    if (!r->headers) {
        r->headers = calloc(REPLY_HEADERS_MAX, sizeof *r->headers);
        if (!r->headers)
            return 0;
    }
    const char *v = colon + 1;
    while (v < data + len && (*v == ' ' || *v == '\t'))
        v++;
    r->headers[r->n_headers].name = strndup(data, (size_t)(colon - data));
    r->headers[r->n_headers].value = strndup(v, (size_t)(data + len - v));
    if (!r->headers[r->n_headers].name || !r->headers[r->n_headers].value) {
        free(r->headers[r->n_headers].name);
        free(r->headers[r->n_headers].value);
        return 0;
    }
    r->n_headers++;
    return n;
}

int hx_http_send(const hx_http_request *q, hx_http_reply *r)
{
    CURL *h = curl_easy_init();
    struct curl_slist *list = NULL;
    char url[4096], line[8192], cerr[CURL_ERROR_SIZE] = "";
    sink s = {.over = 0};
    CURLcode rc;
    int has_ct = 0;
    memset(r, 0, sizeof *r);
    msp_buf_init(&s.body, REPLY_BODY_CAP);
    if (!h) {
        snprintf(r->error, sizeof r->error, "cannot create a curl handle");
        return -1;
    }
    snprintf(
        url, sizeof url, "%.*s%s",
        (int)(strlen(q->base_url) -
              (q->base_url[0] && q->base_url[strlen(q->base_url) - 1] == '/'
                   ? 1
                   : 0)),
        q->base_url, q->path);
    for (size_t i = 0; i < q->n_headers; i++) {
        if (strcasecmp(q->headers[i].name, "Content-Type") == 0)
            has_ct = 1;
        if (q->headers[i].value)
            snprintf(line, sizeof line, "%s: %s", q->headers[i].name,
                     q->headers[i].value);
        else /* "Name:" makes curl leave out a header it would add */
            snprintf(line, sizeof line, "%s:", q->headers[i].name);
        struct curl_slist *nl = curl_slist_append(list, line);
        memset(line, 0, sizeof line); /* may hold a key */
        if (!nl)
            goto nomem;
        list = nl;
    }
    if (q->has_body && !has_ct) {
        struct curl_slist *nl = curl_slist_append(
            list, q->body_is_json ? "Content-Type: application/json"
                                  : "Content-Type: text/plain; charset=utf-8");
        if (!nl)
            goto nomem;
        list = nl;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, q->timeout_ms);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "msp-contract-provider");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    if (q->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, q->ca_file);
    if (q->has_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)q->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                         q->body_len ? (const char *)q->body : "");
    }
    if (strcmp(q->method, q->has_body ? "POST" : "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
    if (strcmp(q->method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    rc = curl_easy_perform(h);
    if (s.body.data) /* else no body: NULL, as before */
        r->body = (unsigned char *)msp_buf_take(&s.body, &r->body_len);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    } else {
        snprintf(r->error, sizeof r->error, "transport error: %s",
                 s.over    ? "reply body over 16 MiB"
                 : cerr[0] ? cerr
                           : curl_easy_strerror(rc));
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
nomem:
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    snprintf(r->error, sizeof r->error, "out of memory");
    return -1;
}

void hx_http_reply_free(hx_http_reply *r)
{
    if (!r)
        return;
    drop_headers(r);
    free(r->headers);
    free(r->body);
    memset(r, 0, sizeof *r);
}
