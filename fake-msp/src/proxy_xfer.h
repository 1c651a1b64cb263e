/*
 * proxy_xfer.h — one exchange of the recording proxy (proxy.h) as libcurl
 * sees it: its request, its easy handle and header list, the reply as it
 * arrives (headers, and a body buffered up to FM_PROXY_MAX_REPLY within the
 * proxy's byte budget), and the MHD response made of that reply.
 *
 * Ownership: a px_xfer is calloc'd by proxy.c and freed with fm_px_free(),
 * which releases the budget bytes it still holds. fm_px_reply_response()
 * moves the body (and its budget bytes) into the MHD response, which gives
 * them back when libmicrohttpd frees it.
 */
#ifndef FAKE_MSP_PROXY_XFER_H
#define FAKE_MSP_PROXY_XFER_H

#include <curl/curl.h>
#include <microhttpd.h>
#include <stddef.h>

#include "proxy.h"
#include "server.h"

/* One exchange, from admission until its connection is resumed. */
typedef struct px_xfer {
    struct px_xfer *next, *prev; /* intake, active or done list */
    fm_proxy *p;
    fm_req *r;
    struct MHD_Connection *c;
    int client_fd;
    char *method;
    char *path;
    mspf_header *h; /* request headers as received */
    size_t n_h;
    unsigned char *body;
    size_t body_len;
    CURLU *url;
    CURL *easy;
    struct curl_slist *hl;
    int started; /* handed to curl: the upstream may have seen it */
    /* the reply */
    mspf_header rh[FM_MAX_HEADERS];
    size_t n_rh;
    char *rb;
    size_t rb_len, rb_cap;
    unsigned long long expect_len; /* Content-Length, when given */
    size_t held;                   /* budget bytes held (request + reply) */
    long status;                   /* > 0 once a whole reply has arrived */
    char cause[400]; /* why a callback stopped the transfer, else empty */
    char errbuf[CURL_ERROR_SIZE];
} px_xfer;

/* Takes n bytes of the budget: 0, or -1 (nothing taken) when they do not
 * fit. (proxy.c) */
int fm_proxy_reserve(fm_proxy *p, size_t n);

/* Frees x and everything it holds (NULL does nothing). */
void fm_px_free(px_xfer *x);

/* Creates x's easy handle for x->url: the request headers (hop-by-hop ones,
 * Host, Content-Length and Expect dropped), method and body, the reply
 * callbacks. Returns 0, or -1 on ENOMEM. */
int fm_px_prepare(px_xfer *x, long timeout_ms, const char *ca_file);

/* Drops the hop-by-hop reply headers (kept while the reply arrives: the
 * Connection header names others). */
void fm_px_drop_hop_headers(px_xfer *x);

/* The reply as an MHD response (Content-Length left to MHD), taking x's
 * body. NULL on ENOMEM. */
struct MHD_Response *fm_px_reply_response(px_xfer *x);

#endif
