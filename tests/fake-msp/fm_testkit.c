/* fm_testkit.c — see fm_testkit.h. */
#include "fm_testkit.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include "test_timeout.h"
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "executor/msp_util.h"

long long tk_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

fake_msp *tk_start(const fake_msp_options *opt)
{
    fake_msp_options def;
    fake_msp *fm = NULL;
    char err[1024] = "";

    if (!opt) {
        fake_msp_options_init(&def);
        opt = &def;
    }
    cr_assert_eq(fake_msp_start(opt, &fm, err, sizeof err), 0, "start: %s",
                 err);
    cr_assert_not_null(fm);
    return fm;
}

typedef struct sink {
    char *p;
    size_t len;
    size_t cap;
} sink;

/* Grows geometrically: a 100 MB journal arrives in 16 KB pieces. */
static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    sink *s = ud;
    size_t add = size * n;

    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *np;
        while (cap < s->len + add + 1)
            cap *= 2;
        np = realloc(s->p, cap);
        if (!np)
            return 0;
        s->p = np;
        s->cap = cap;
    }
    memcpy(s->p + s->len, ptr, add);
    s->len += add;
    s->p[s->len] = '\0';
    return add;
}

void tk_http(const char *method, const char *url, const char *const *headers,
             const char *body, size_t body_len, long timeout_ms, http_res *out)
{
    CURL *h = curl_easy_init();
    struct curl_slist *sl = NULL;
    sink b = {0}, hd = {0};
    long long t0;

    memset(out, 0, sizeof *out);
    cr_assert_not_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* the default is a hang guard, scaled for slow runs (valgrind) */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     timeout_ms ? timeout_ms : 5000L * test_time_scale());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, out->err);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    sl = curl_slist_append(sl, "Expect:");
    for (; headers && *headers; headers++)
        sl = curl_slist_append(sl, *headers);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, sl);
    t0 = tk_now_ms();
    out->rc = curl_easy_perform(h);
    out->elapsed_ms = tk_now_ms() - t0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.p ? b.p : strdup("");
    out->len = b.len;
    out->headers = hd.p ? hd.p : strdup("");
    out->hlen = hd.len;
    curl_slist_free_all(sl);
    curl_easy_cleanup(h);
}

void tk_free(http_res *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

const char *tk_url(fake_msp *fm, const char *path)
{
    static char ring[8][512];
    static int i;
    char *u = ring[i++ % 8];

    snprintf(u, 512, "%s%s", fake_msp_url(fm), path);
    return u;
}

void tk_execute(fake_msp *fm, const char *token, const char *id,
                const char *body, http_res *out)
{
    char auth[256], cmd[300], key[300];
    const char *h[5];
    size_t n = 0;

    if (token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        h[n++] = auth;
    }
    if (id) {
        snprintf(cmd, sizeof cmd, "X-Brainstorm-Command-Id: %s", id);
        snprintf(key, sizeof key, "Idempotency-Key: %s", id);
        h[n++] = cmd;
        h[n++] = key;
    }
    h[n++] = "Content-Type: application/json";
    h[n] = NULL;
    tk_http("POST", tk_url(fm, "/api/v1/god-mode/execute"), h, body,
            strlen(body), 0, out);
}

const char *tk_header(const http_res *r, const char *name, char *buf,
                      size_t len)
{
    size_t nl = strlen(name);
    const char *p = r->headers;

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(eol - v), v);
            return buf;
        }
        p = eol + 2;
    }
    return NULL;
}

void tk_assert_error(const http_res *r, long status, const char *code,
                     const char *message_part)
{
    cJSON *doc, *err, *c, *m;

    cr_assert_eq(r->rc, CURLE_OK, "transport: %s", r->err);
    cr_assert_eq(r->status, status, "status %ld, want %ld: %s", r->status,
                 status, r->body);
    doc = cJSON_Parse(r->body);
    cr_assert_not_null(doc, "not JSON: %s", r->body);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(doc, "success")), "%s",
              r->body);
    err = cJSON_GetObjectItem(doc, "error");
    c = cJSON_GetObjectItem(err, "code");
    m = cJSON_GetObjectItem(err, "message");
    cr_assert(cJSON_IsString(c) && cJSON_IsString(m), "%s", r->body);
    cr_assert_str_eq(c->valuestring, code, "%s", r->body);
    if (message_part)
        cr_assert(strstr(m->valuestring, message_part) != NULL,
                  "message \"%s\" lacks \"%s\"", m->valuestring, message_part);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(doc, "trace_id")), "%s",
              r->body);
    cr_assert(cJSON_GetObjectItem(doc, "tool") != NULL, "%s", r->body);
    cJSON_Delete(doc);
}

void tk_add_fixture(fake_msp *fm, const char *json)
{
    mspf_fixture *f = NULL;
    mspf_error e;
    char err[1024] = "", why[1600];

    memset(&e, 0, sizeof e);
    cr_assert_eq(mspf_fixture_parse(json, strlen(json), NULL, &f, &e), 0,
                 "parse: %s", mspf_error_format(&e, why, sizeof why));
    cr_assert_eq(fake_msp_add_fixture(fm, f, err, sizeof err), 0, "add: %s",
                 err);
}

const char *tk_fixture_json(const char *name, const char *command_id,
                            const char *response_json)
{
    static char buf[16384];

    snprintf(buf, sizeof buf,
             "{\"name\":\"%s\",\"description\":\"test fixture\",\"exit_row\":6,"
             "\"context\":{\"command_id\":\"%s\",\"tool\":\"msp.list_devices\","
             "\"params\":{},"
             "\"deadline_ms\":30000},"
             "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/"
             "execute\","
             "\"headers\":{\"X-Brainstorm-Command-Id\":\"%s\"}},"
             "%s,"
             "\"expect\":{\"exit_code\":0}}",
             name, command_id, command_id, response_json);
    return buf;
}

int tk_connect(fake_msp *fm)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(fake_msp_port(fm));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

const char *tk_body(const char *tool, const char *params)
{
    static char buf[4096];

    snprintf(buf, sizeof buf,
             "{\"tool\":\"%s\",\"params\":%s,\"simulate\":false}", tool,
             params);
    return buf;
}

void tk_base64(const char *in, size_t n, int url, int pad, char *out)
{
    unsigned flags = (url ? MSP_B64_URL : 0u) | (pad ? 0u : MSP_B64_NOPAD);
    cr_assert_geq(msp_base64_encode(in, n, flags, out,
                                    msp_base64_encoded_len(n, flags) + 1),
                  0);
}
