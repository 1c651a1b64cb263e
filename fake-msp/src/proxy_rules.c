/* proxy_rules.c — the upstream URL, its shown form and the hop-by-hop
 * headers of the recording proxy (see proxy_rules.h). */
#include "proxy_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* The longest upstream path built (base path + request path, encoded). */
#define PATH_MAX_BYTES (64u * 1024u)

void fm_upstream_free(fm_upstream *u)
{
    if (!u)
        return;
    curl_url_cleanup(u->base);
    free(u->base_path);
    free(u->shown);
    free(u->user);
    free(u->password);
    memset(u, 0, sizeof *u);
}

/* A part of h, decoded, or NULL when absent. */
static char *part(CURLU *h, CURLUPart what, unsigned flags)
{
    char *v = NULL;

    if (curl_url_get(h, what, &v, flags) != CURLUE_OK)
        return NULL;
    return v;
}

static int set_shown(fm_upstream *u, char *errbuf, size_t errlen)
{
    char *scheme = part(u->base, CURLUPART_SCHEME, 0);
    char *host = part(u->base, CURLUPART_HOST, 0);
    char *port = part(u->base, CURLUPART_PORT, 0);
    size_t n;
    int rc = -1;

    if (!scheme || !host || !*host) {
        snprintf(errbuf, errlen, "--proxy URL names no host");
        goto out;
    }
    n = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) +
        strlen(u->base_path) + 16;
    u->shown = malloc(n);
    if (!u->shown) {
        snprintf(errbuf, errlen, "out of memory");
        goto out;
    }
    snprintf(u->shown, n, "%s://%s%s%s%s%s", scheme,
             u->user || u->password ? "***@" : "", host, port ? ":" : "",
             port ? port : "", u->base_path);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    return rc;
}

/* Copies a curl-allocated string into malloc'd memory (NULL stays NULL). */
static char *own(char *curl_str)
{
    char *s = curl_str ? strdup(curl_str) : NULL;

    curl_free(curl_str);
    return s;
}

int fm_upstream_parse(const char *url, fm_upstream *u, char *errbuf,
                      size_t errlen)
{
    CURLUcode uc;
    char *path;
    size_t n;

    memset(u, 0, sizeof *u);
    if (strncasecmp(url, "http://", 7) != 0 &&
        strncasecmp(url, "https://", 8) != 0) {
        snprintf(errbuf, errlen, "--proxy wants an http:// or https:// URL");
        return -1;
    }
    if (strpbrk(url, "?# \t\r\n")) {
        snprintf(errbuf, errlen, "--proxy URL: no query, fragment or space");
        return -1;
    }
    u->base = curl_url();
    if (!u->base) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    uc = curl_url_set(u->base, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        /* not quoted: the URL may hold gateway credentials */
        snprintf(errbuf, errlen, "--proxy URL is not valid: %s",
                 curl_url_strerror(uc));
        fm_upstream_free(u);
        return -1;
    }
    u->user = own(part(u->base, CURLUPART_USER, CURLU_URLDECODE));
    u->password = own(part(u->base, CURLUPART_PASSWORD, CURLU_URLDECODE));
    path = part(u->base, CURLUPART_PATH, 0);
    u->base_path = strdup(path ? path : "");
    curl_free(path);
    if (!u->base_path) {
        snprintf(errbuf, errlen, "out of memory");
        fm_upstream_free(u);
        return -1;
    }
    n = strlen(u->base_path);
    while (n > 0 && u->base_path[n - 1] == '/')
        u->base_path[--n] = '\0';
    if (set_shown(u, errbuf, errlen) != 0) {
        fm_upstream_free(u);
        return -1;
    }
    return 0;
}

/* "." or "..", also with ";parameters" (servlet containers take "..;" for
 * "..", so /base/..;/x would climb out of the base path there). */
static int dot_segment(const char *seg, size_t len)
{
    const char *semi = memchr(seg, ';', len);

    if (semi)
        len = (size_t)(semi - seg);
    return (len == 1 && seg[0] == '.') ||
           (len == 2 && seg[0] == '.' && seg[1] == '.');
}

int fm_origin_form(const char *path, char *why, size_t whylen)
{
    const char *s, *seg;

    if (path[0] != '/' || path[1] == '/') {
        snprintf(why, whylen,
                 "the request-target is not origin-form (\"/path\"): it "
                 "must start with a single '/'");
        return -1;
    }
    for (s = path; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20 || ch == 0x7f || ch == '@' || ch == '\\') {
            snprintf(why, whylen,
                     "the request-target path holds a byte the proxy does "
                     "not forward (0x%02x: '@', '\\' or a control byte)",
                     ch);
            return -1;
        }
    }
    for (seg = path + 1;; seg = s + 1) {
        s = strchr(seg, '/');
        if (dot_segment(seg, s ? (size_t)(s - seg) : strlen(seg))) {
            snprintf(why, whylen,
                     "the request-target path holds a \".\" or \"..\" "
                     "segment");
            return -1;
        }
        if (!s)
            break;
    }
    return 0;
}

/* Appends path to b, percent-encoding every byte but unreserved ones,
 * sub-delims, ':' and '/' (MHD hands the path over decoded). */
static void add_encoded(msp_buf *b, const char *path)
{
    static const char keep[] = "-._~!$&'()*+,;=:/";
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;

    for (s = (const unsigned char *)path; *s; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
            (*s >= '0' && *s <= '9') || strchr(keep, *s)) {
            msp_buf_append(b, s, 1);
        } else {
            char e[3] = {'%', hex[*s >> 4], hex[*s & 15]};
            msp_buf_append(b, e, 3);
        }
    }
}

int fm_upstream_target(const fm_upstream *u, const char *path,
                       const char *query, CURLU **out, char *why, size_t whylen)
{
    msp_buf b;
    CURLU *t;
    char *full;
    int bad;

    if (fm_origin_form(path, why, whylen) != 0)
        return -1;
    msp_buf_init(&b, PATH_MAX_BYTES);
    msp_buf_append_str(&b, u->base_path);
    add_encoded(&b, path);
    full = msp_buf_take(&b, NULL);
    if (!full) {
        snprintf(why, whylen, "the request path is over %u bytes encoded",
                 PATH_MAX_BYTES);
        return -1;
    }
    t = curl_url_dup(u->base);
    bad = !t || curl_url_set(t, CURLUPART_PATH, full, 0) != CURLUE_OK ||
          curl_url_set(t, CURLUPART_QUERY, query && *query ? query : NULL, 0) !=
              CURLUE_OK ||
          curl_url_set(t, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK;
    free(full);
    if (bad) {
        curl_url_cleanup(t);
        snprintf(why, whylen, "the upstream URL cannot be built");
        return -1;
    }
    *out = t;
    return 0;
}

static void scrub_one(char *text, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    char *hit;

    if (n < 3)
        return;
    while ((hit = strstr(text, secret))) {
        memcpy(hit, "***", 3);
        memmove(hit + 3, hit + n, strlen(hit + n) + 1);
        text = hit + 3;
    }
}

void fm_upstream_scrub(const fm_upstream *u, char *text)
{
    scrub_one(text, u->password);
    scrub_one(text, u->user);
}

int fm_http_token(const char *s, size_t n)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    size_t i;

    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || (s[i] && strchr(extra, s[i]))))
            return 0;
    return n > 0;
}

int fm_request_head_check(const char *method, const mspf_header *h, size_t n,
                          char *why, size_t whylen)
{
    const unsigned char *v;
    size_t i;

    if (!fm_http_token(method, strlen(method))) {
        snprintf(why, whylen, "the request method is not an HTTP token");
        return 400;
    }
    if (strcmp(method, "CONNECT") == 0 || strcmp(method, "TRACE") == 0) {
        snprintf(why, whylen, "the proxy does not forward %s", method);
        return 405;
    }
    for (i = 0; i < n; i++) {
        if (!fm_http_token(h[i].name, strlen(h[i].name))) {
            snprintf(why, whylen, "a request header name is not a token");
            return 400;
        }
        for (v = (const unsigned char *)h[i].value; *v; v++)
            if ((*v < 0x20 && *v != '\t') || *v == 0x7f) {
                snprintf(why, whylen,
                         "request header %.100s holds a control byte "
                         "(0x%02x) the proxy does not forward",
                         h[i].name, *v);
                return 400;
            }
    }
    return 0;
}

/* Is name one of the comma-separated tokens of a Connection value? */
static int named_in(const char *value, const char *name)
{
    size_t n = strlen(name);
    const char *s = value;

    while (*s) {
        size_t k;
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        k = strcspn(s, ",");
        while (k > 0 && (s[k - 1] == ' ' || s[k - 1] == '\t'))
            k--;
        if (k == n && n > 0 && strncasecmp(s, name, n) == 0)
            return 1;
        s += strcspn(s, ",");
    }
    return 0;
}

int fm_hop_header(const char *name, const mspf_header *h, size_t n)
{
    static const char *const hop[] = {"Connection",
                                      "Proxy-Connection",
                                      "Keep-Alive",
                                      "TE",
                                      "Trailer",
                                      "Transfer-Encoding",
                                      "Upgrade",
                                      "Proxy-Authenticate",
                                      "Proxy-Authorization",
                                      NULL};
    size_t i;

    for (i = 0; hop[i]; i++)
        if (fm_strieq(name, hop[i]))
            return 1;
    for (i = 0; i < n; i++)
        if (fm_strieq(h[i].name, "Connection") && named_in(h[i].value, name))
            return 1;
    return 0;
}
