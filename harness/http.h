/*
 * http.h — one raw HTTP exchange (http.c), for the provider check's steps
 * and its provider-state calls. Internal to msp-contract.
 */
#ifndef MSP_HARNESS_HTTP_H
#define MSP_HARNESS_HTTP_H

#include <stddef.h>

#include <contracts/fixture.h>

typedef struct hx_http_request {
    const char *base_url; /* one trailing '/' is dropped */
    const char *path;
    const char *method;
    const mspf_header *headers; /* value NULL: leave the header out */
    size_t n_headers;
    const unsigned char *body;
    size_t body_len;
    int has_body;
    int body_is_json; /* default Content-Type when none is given */
    const char *ca_file;
    long timeout_ms;
} hx_http_request;

typedef struct hx_http_reply {
    long status;
    mspf_header *headers; /* as received (the last response's) */
    size_t n_headers;
    unsigned char *body; /* NUL-terminated; body_len excludes it */
    size_t body_len;
    char error[512]; /* why there is no reply */
} hx_http_reply;

/* Sends q and waits for the whole reply (at most 16 MiB of body). Returns
 * 0 with *r filled, or -1 with r->error set (no HTTP reply). Either way
 * free *r with hx_http_reply_free. */
int hx_http_send(const hx_http_request *q, hx_http_reply *r);
void hx_http_reply_free(hx_http_reply *r);

#endif
