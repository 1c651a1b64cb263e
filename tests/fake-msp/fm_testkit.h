/*
 * fm_testkit.h — helpers for the fake-msp tests: start a fake on port 0,
 * send requests with libcurl, read JSON error bodies, build fixtures.
 * Failures are Criterion assertions, so callers stay short.
 */
#ifndef FM_TESTKIT_H
#define FM_TESTKIT_H

#include <curl/curl.h>
#include <stddef.h>

#include "fake_msp/fake_msp.h"

typedef struct http_res {
    CURLcode rc;
    long status;
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
    char *headers; /* raw response header block, malloc'd */
    size_t hlen;
    long long elapsed_ms;
    char err[CURL_ERROR_SIZE];
} http_res;

/* Starts a fake with *opt (NULL: defaults); asserts success. */
fake_msp *tk_start(const fake_msp_options *opt);

/* One request. headers: NULL-terminated "Name: value" list (may be NULL).
 * body NULL sends none. timeout_ms 0: 5000. Never asserts on transport
 * errors (they are results). Free with tk_free(). */
void tk_http(const char *method, const char *url, const char *const *headers,
             const char *body, size_t body_len, long timeout_ms, http_res *out);
void tk_free(http_res *r);

/* POST /api/v1/god-mode/execute the executor's way: bearer token (NULL:
 * no Authorization), both id headers = id (NULL: neither), JSON type. */
void tk_execute(fake_msp *fm, const char *token, const char *id,
                const char *body, http_res *out);

/* fm's base URL + path, in a static per-call buffer ring. */
const char *tk_url(fake_msp *fm, const char *path);

/* The value of a response header (case-insensitive) copied into buf, or
 * NULL when absent. */
const char *tk_header(const http_res *r, const char *name, char *buf,
                      size_t len);

/* Asserts the body is an MSP error with this status and code, and that
 * the message contains `message_part` (NULL: any). */
void tk_assert_error(const http_res *r, long status, const char *code,
                     const char *message_part);

/* Parses and adds a fixture from JSON text; asserts success. */
void tk_add_fixture(fake_msp *fm, const char *json);

/* A minimal fixture JSON matching POST execute with this command id, with
 * the given "response" object text. Static buffer, valid until next call. */
const char *tk_fixture_json(const char *name, const char *command_id,
                            const char *response_json);

/* A TCP connection to fm's port (blocking), or asserts. */
int tk_connect(fake_msp *fm);

/* Execute body for tool+params. Static buffer. */
const char *tk_body(const char *tool, const char *params);

long long tk_now_ms(void);

/* in[0..n) in base64 (url: the base64url alphabet; pad: with '=') into
 * out (room for 4 * (n + 2) / 3 + 1 bytes), NUL-terminated. */
void tk_base64(const char *in, size_t n, int url, int pad, char *out);

#endif
