/*
 * fuzz_fake_request.c — libFuzzer target for fake_msp_check_request(), the
 * fake MSP's check of an execute request against the executor contract
 * (method, the two id headers, bearer token, content type, exact body
 * shape), a pure function of the request.
 *
 * Input, HTTP-like:  METHOD \n PATH \n (Name: value \n)* \n BODY
 * (a header line without ':' is a header with an empty value). Checked
 * besides the sanitizers: every violation is a non-empty line, the list is
 * NULL exactly when empty, and a second check of the same request gives
 * the same verdict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fake_msp/fake_msp.h>

#include "fuzz_check.h"

#define MAX_HEADERS 16

/* Cuts the next line off [*p, end) into a malloc'd string (NUL bytes end
 * it early); *eof is set when no line was left. */
static char *take_line(const uint8_t **p, const uint8_t *end, int *eof)
{
    *eof = *p >= end;
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *stop = nl ? nl : end;
    size_t n = (size_t)(stop - *p);
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, *p, n);
        s[n] = '\0';
    }
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    int eof;
    char *method = take_line(&p, end, &eof);
    char *path = take_line(&p, end, &eof);
    char *lines[MAX_HEADERS];
    mspf_header headers[MAX_HEADERS];
    size_t n_headers = 0;
    while (n_headers < MAX_HEADERS) {
        char *line = take_line(&p, end, &eof);
        if (!line || eof || line[0] == '\0') {
            free(line);
            break;
        }
        lines[n_headers] = line;
        char *colon = strchr(line, ':');
        headers[n_headers].name = line;
        headers[n_headers].value = colon ? colon + 1 : line + strlen(line);
        if (colon) {
            *colon = '\0';
            while (*headers[n_headers].value == ' ')
                headers[n_headers].value++;
        }
        n_headers++;
    }
    size_t body_len = (size_t)(end - p);
    unsigned char *body =
        malloc(body_len ? body_len : 1); /* exact size for ASan */

    if (method && path && body) {
        if (body_len)
            memcpy(body, p, body_len);
        mspf_request req = {method, path, headers, n_headers, body, body_len};
        char **v = NULL, **again = NULL;
        size_t n = 0, n_again = 0;
        CHECK(fake_msp_check_request(&req, &v, &n) == 0);
        CHECK((n == 0) == (v == NULL));
        for (size_t i = 0; i < n; i++)
            CHECK(v[i] != NULL && v[i][0] != '\0');
        CHECK(fake_msp_check_request(&req, &again, &n_again) == 0);
        CHECK(n_again == n);
        for (size_t i = 0; i < n; i++)
            CHECK(strcmp(v[i], again[i]) == 0);
        fake_msp_violations_free(v, n);
        fake_msp_violations_free(again, n_again);
    }

    free(body);
    for (size_t i = 0; i < n_headers; i++)
        free(lines[i]);
    free(method);
    free(path);
    return 0;
}
