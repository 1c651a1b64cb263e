/*
 * msp-bench-curl — the bare libcurl reference for rows 1 and 2 of ci/bench.
 *
 *   msp-bench-curl URL THREADS CALLS
 *
 * Each of THREADS threads owns one reused easy handle and makes CALLS
 * sequential MSP calls (after a short warm-up): the wire contract's headers
 * built per call (the command id differs each time), the JSON body printed
 * per call, the reply collected into a capped buffer and parsed with cJSON
 * into exit_code / stdout / stderr. That is the least a hand-written client
 * must do, so it is what the executor is measured against.
 *
 * Prints "US_PER_CALL CALLS_PER_SECOND": the wall time of the timed part
 * divided by CALLS, and THREADS*CALLS divided by that wall time. Exits 1
 * when any call does not end in a 200 with an integer exit_code.
 */
#include "bench_util.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/msp_util.h"

#define WARMUP_CALLS 20
#define BODY_LIMIT   ((size_t)16 * 1024 * 1024)

struct run {
    char url[1024];
    long calls;
};

struct reply {
    int exit_code;
    char *out;
    char *err;
};

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    msp_buf *b = user;
    return msp_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

static char *dup_string_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

/* One call: the same request the executor sends, then the same parse. */
static int one_call(CURL *h, const struct run *r, int thread, long i)
{
    char id[96], hdr_id[128], hdr_idem[128];
    char body[256];
    struct curl_slist *hs = NULL;
    msp_buf buf;
    struct reply rep = {0, NULL, NULL};
    long status = 0;
    cJSON *doc, *code;
    int rc = -1;

    msp_buf_init(&buf, BODY_LIMIT);
    /* A lowercase UUID, unique per process, thread and call (warm-up
     * calls have i = -1 .. -WARMUP_CALLS). */
    snprintf(id, sizeof id, "%08lx-%04x-4000-9000-%012lx",
             (unsigned long)getpid(), (unsigned)thread & 0xffffu,
             (unsigned long)(i + WARMUP_CALLS));
    snprintf(hdr_id, sizeof hdr_id, "X-Brainstorm-Command-Id: %s", id);
    snprintf(hdr_idem, sizeof hdr_idem, "Idempotency-Key: %s", id);
    hs = curl_slist_append(hs, "Content-Type: application/json");
    hs = curl_slist_append(hs, "Authorization: Bearer sk-test");
    hs = curl_slist_append(hs, hdr_id);
    hs = curl_slist_append(hs, hdr_idem);
    snprintf(body, sizeof body,
             "{\"tool\":\"msp.list_devices\",\"params\":{\"query\":\"laptop\"},"
             "\"simulate\":false}");

    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);

    if (curl_easy_perform(h) == CURLE_OK &&
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        status == 200) {
        doc = cJSON_ParseWithLength(buf.data ? buf.data : "", buf.len);
        code = cJSON_GetObjectItemCaseSensitive(doc, "exit_code");
        if (cJSON_IsNumber(code)) {
            rep.exit_code = code->valueint;
            rep.out = dup_string_member(doc, "stdout");
            rep.err = dup_string_member(doc, "stderr");
            rc = rep.exit_code == 0 ? 0 : -1;
        }
        cJSON_Delete(doc);
    }
    free(rep.out);
    free(rep.err);
    msp_buf_free(&buf);
    curl_slist_free_all(hs);
    return rc;
}

static int worker(void *arg, int index)
{
    const struct run *r = arg;
    CURL *h = curl_easy_init();
    int failed = 0;
    long i;

    for (i = 0; h && !failed && i < WARMUP_CALLS; i++)
        failed |= one_call(h, r, index, -1 - i) != 0;
    bench_threads_ready();
    for (i = 0; h && !failed && i < r->calls; i++)
        failed |= one_call(h, r, index, i) != 0;
    if (!h || failed)
        fprintf(stderr, "msp-bench-curl: thread %d: a call failed\n", index);
    curl_easy_cleanup(h);
    return h && !failed ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct run r;
    long threads;
    double wall_us;

    if (argc != 4 || strlen(argv[1]) >= sizeof r.url ||
        bench_parse_long(argv[2], 1, 256, &threads) != 0 ||
        bench_parse_long(argv[3], 1, 10000000, &r.calls) != 0) {
        fprintf(stderr, "usage: msp-bench-curl URL THREADS CALLS\n");
        return 1;
    }
    snprintf(r.url, sizeof r.url, "%s", argv[1]);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    if (bench_run_threads((int)threads, worker, &r, &wall_us) != 0) {
        curl_global_cleanup();
        return 1;
    }
    printf("%.3f %.1f\n", wall_us / (double)r.calls,
           (double)threads * (double)r.calls / (wall_us / 1e6));
    curl_global_cleanup();
    return 0;
}
