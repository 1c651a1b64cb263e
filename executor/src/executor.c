/*
 * executor.c — the executor handle: a pool of configured curl easy handles
 * (each keeps its connection alive), the call itself, and the log lines.
 *
 * A call borrows one idle handle from the pool (mutex-protected), so calls
 * from several threads run in parallel on separate handles and a sequential
 * caller always gets the same warm handle and connection back. Per call the
 * only allocations are the result and the parse of the response; the
 * request body, the header list and the response buffer are reused.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "internal.h"

#define POOL_IDLE_MAX   16         /* idle handles kept; more are closed */
#define KEEP_BUFFER_MAX (1u << 20) /* a larger response buffer is released */
#define LOG_LINE_MAX    1024
#define ID_IN_LOG_MAX   128
#define ERROR_CODE_MAX  64  /* error.code as shown in the log line */
#define WHY_MAX         160 /* a row 2 reason */
#define USER_AGENT      "msp-executor/" MSP_EXECUTOR_VERSION
/* A request body or header text never outgrows this. */
#define REQUEST_MAX ((size_t)MSP_RESPONSE_CAP * 4)

enum {
    HDR_TYPE,
    HDR_AUTH,
    HDR_COMMAND,
    HDR_IDEMPOTENCY,
    HDR_CORRELATION,
    HDR_EXPECT,
    HDR_COUNT
};

/* One pooled easy handle with everything a call reuses. */
typedef struct slot {
    struct slot *next;
    CURL *curl;
    msp_buf body;    /* the request body */
    msp_buf hdrtext; /* the per-call header lines, NUL-separated */
    msp_buf resp;    /* the response body, capped at MSP_RESPONSE_CAP */
    int too_large;
    struct curl_slist
        hdr[HDR_COUNT]; /* a list curl reads; never freed by curl */
    char errbuf[CURL_ERROR_SIZE];
} slot;

struct msp_executor {
    char *url;
    char *auth_header; /* "Authorization: Bearer <key>" */
    size_t key_offset;
    size_t key_len;
    char *ca_file;
    int insecure;
    int capture_body;
    long long default_timeout_ms;
    msp_log_fn log;
    void *log_user;
    pthread_mutex_t lock;
    slot *idle;
    unsigned idle_count;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_global_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Frees a buffer that held the key, wiping its n bytes first. */
static void free_secret(char *s, size_t n)
{
    if (s)
        explicit_bzero(s, n);
    free(s);
}

int msp_executor_new(const msp_config *cfg, msp_executor **out, char *errbuf,
                     size_t errlen)
{
    if (!out) {
        Msp_set_error(errbuf, errlen, "out is NULL");
        return MSP_ERR_ARG;
    }
    int rc = msp_config_validate(cfg, errbuf, errlen);
    if (rc != MSP_OK)
        return rc;
    pthread_once(&curl_once, curl_global_once);
    if (curl_init_result != CURLE_OK) {
        Msp_set_error(errbuf, errlen, "curl_global_init failed");
        return MSP_ERR_CURL;
    }
    msp_executor *ex = calloc(1, sizeof *ex);
    if (!ex)
        goto nomem;
    size_t base_len = strlen(cfg->base_url);
    if (cfg->base_url[base_len - 1] == '/')
        base_len--;
    size_t key_len = strlen(cfg->api_key);
    static const char auth[] = "Authorization: Bearer ";
    ex->url = malloc(base_len + sizeof MSP_PATH_EXECUTE);
    ex->auth_header = malloc(sizeof auth + key_len);
    ex->ca_file = cfg->ca_file ? dup_str(cfg->ca_file) : NULL;
    if (!ex->url || !ex->auth_header || (cfg->ca_file && !ex->ca_file))
        goto nomem;
    memcpy(ex->url, cfg->base_url, base_len);
    memcpy(ex->url + base_len, MSP_PATH_EXECUTE, sizeof MSP_PATH_EXECUTE);
    memcpy(ex->auth_header, auth, sizeof auth - 1);
    memcpy(ex->auth_header + sizeof auth - 1, cfg->api_key, key_len + 1);
    ex->key_offset = sizeof auth - 1;
    ex->key_len = key_len;
    ex->insecure = cfg->insecure_skip_verify;
    ex->capture_body = cfg->capture_body;
    ex->default_timeout_ms = cfg->default_timeout_ms;
    ex->log = cfg->log;
    ex->log_user = cfg->log_user;
    pthread_mutex_init(&ex->lock, NULL);
    *out = ex;
    return MSP_OK;
nomem:
    if (ex) {
        free(ex->url);
        free(ex->auth_header); /* the key was not copied in yet */
        free(ex->ca_file);
        free(ex);
    }
    Msp_set_error(errbuf, errlen, "out of memory");
    return MSP_ERR_NOMEM;
}

static void slot_free(slot *s)
{
    curl_easy_cleanup(s->curl);
    msp_buf_free(&s->body);
    msp_buf_free(&s->hdrtext);
    msp_buf_free(&s->resp);
    free(s);
}

void msp_executor_free(msp_executor *ex)
{
    if (!ex)
        return;
    while (ex->idle) {
        slot *s = ex->idle;
        ex->idle = s->next;
        slot_free(s);
    }
    pthread_mutex_destroy(&ex->lock);
    free(ex->url);
    free_secret(ex->auth_header, ex->key_offset + ex->key_len);
    free(ex->ca_file);
    free(ex);
}

/* The write callback: appends to the slot's buffer, refusing past the cap. */
static size_t on_body(char *p, size_t size, size_t n, void *user)
{
    slot *s = user;
    size_t len = size * n;
    if (len > MSP_RESPONSE_CAP - s->resp.len) {
        s->too_large = 1;
        return 0;
    }
    return msp_buf_append(&s->resp, p, len) == 0 ? len : 0;
}

/* A fresh handle with every option that does not change per call. */
static slot *slot_new(const msp_executor *ex)
{
    slot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    msp_buf_init(&s->body, REQUEST_MAX);
    msp_buf_init(&s->hdrtext, REQUEST_MAX);
    msp_buf_init(&s->resp, MSP_RESPONSE_CAP);
    s->curl = curl_easy_init();
    if (!s->curl) {
        free(s);
        return NULL;
    }
    CURL *c = s->curl;
    curl_easy_setopt(c, CURLOPT_URL, ex->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)MSP_RESPONSE_CAP);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->hdr);
    if (ex->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ex->ca_file);
    if (ex->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return s;
}

static slot *slot_acquire(msp_executor *ex)
{
    pthread_mutex_lock(&ex->lock);
    slot *s = ex->idle;
    if (s) {
        ex->idle = s->next;
        ex->idle_count--;
    }
    pthread_mutex_unlock(&ex->lock);
    return s ? s : slot_new(ex);
}

static void slot_release(msp_executor *ex, slot *s)
{
    if (s->resp.cap > KEEP_BUFFER_MAX)
        msp_buf_free(&s->resp);
    if (s->body.cap > KEEP_BUFFER_MAX)
        msp_buf_free(&s->body);
    pthread_mutex_lock(&ex->lock);
    if (ex->idle_count < POOL_IDLE_MAX) {
        s->next = ex->idle;
        ex->idle = s;
        ex->idle_count++;
        s = NULL;
    }
    pthread_mutex_unlock(&ex->lock);
    if (s)
        slot_free(s);
}

/* Builds the body and the header list in the slot's reusable buffers. */
static int build_request(const msp_executor *ex, const msp_context *ctx,
                         slot *s)
{
    const char *params = ctx->params_json ? ctx->params_json : "{}";
    const char *cid = ctx->correlation_id;
    size_t id_len = strlen(ctx->command_id);

    msp_buf_reset(&s->body);
    msp_buf_reset(&s->hdrtext);
    if (msp_buf_append_lit(&s->body, "{\"tool\":") ||
        msp_buf_append_json(&s->body, ctx->tool, strlen(ctx->tool)) ||
        msp_buf_append_lit(&s->body, ",\"params\":") ||
        msp_buf_append(&s->body, params, strlen(params)) ||
        msp_buf_append_lit(&s->body, ",\"simulate\":false}"))
        return MSP_ERR_NOMEM;

    /* Three lines, NUL-separated; pointers are taken once the buffer
     * stops moving. */
    size_t off_idem, off_corr = 0;
    if (msp_buf_append_lit(&s->hdrtext, "X-Brainstorm-Command-Id: ") ||
        msp_buf_append(&s->hdrtext, ctx->command_id, id_len + 1))
        return MSP_ERR_NOMEM;
    off_idem = s->hdrtext.len;
    if (msp_buf_append_lit(&s->hdrtext, "Idempotency-Key: ") ||
        msp_buf_append(&s->hdrtext, ctx->command_id, id_len + 1))
        return MSP_ERR_NOMEM;
    if (cid) {
        off_corr = s->hdrtext.len;
        if (msp_buf_append_lit(&s->hdrtext, "X-Correlation-Id: ") ||
            msp_buf_append(&s->hdrtext, cid, strlen(cid) + 1))
            return MSP_ERR_NOMEM;
    }
    char *t = s->hdrtext.data;
    s->hdr[HDR_TYPE].data = (char *)"Content-Type: application/json";
    s->hdr[HDR_AUTH].data = ex->auth_header;
    s->hdr[HDR_COMMAND].data = t;
    s->hdr[HDR_IDEMPOTENCY].data = t + off_idem;
    s->hdr[HDR_CORRELATION].data = cid ? t + off_corr : NULL;
    /* An empty Expect: keeps curl from waiting for "100 Continue". */
    s->hdr[HDR_EXPECT].data = (char *)"Expect:";
    for (int i = 0; i < HDR_COUNT - 1; i++)
        s->hdr[i].next = &s->hdr[i + 1];
    s->hdr[HDR_EXPECT].next = NULL;
    if (!cid)
        s->hdr[HDR_IDEMPOTENCY].next = &s->hdr[HDR_EXPECT];
    return MSP_OK;
}

/* Keeps a copy of the raw body in res (msp_config.capture_body). */
static int capture(msp_result *res, const char *body, size_t len)
{
    res->body = malloc(len + 1);
    if (!res->body) {
        msp_result_free(res);
        return MSP_ERR_NOMEM;
    }
    if (len)
        memcpy(res->body, body, len);
    res->body[len] = '\0';
    res->body_len = len;
    return MSP_OK;
}

static int transfer(msp_executor *ex, const msp_context *ctx, msp_result *res,
                    char *code, size_t codelen)
{
    slot *s = slot_acquire(ex);
    if (!s)
        return MSP_ERR_NOMEM;
    int rc = build_request(ex, ctx, s);
    if (rc != MSP_OK) {
        slot_release(ex, s);
        return rc;
    }
    long long timeout = ctx->deadline_ms < ex->default_timeout_ms
                            ? ctx->deadline_ms
                            : ex->default_timeout_ms;
    CURL *c = s->curl;
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body.data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout);
    msp_buf_reset(&s->resp);
    s->too_large = 0;
    s->errbuf[0] = '\0';

    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (s->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        char over[48];
        msp_span detail = {over, (size_t)snprintf(over, sizeof over,
                                                  " (over %u bytes)",
                                                  MSP_RESPONSE_CAP)};
        rc = Msp_result_fill(res, MSP_ROW_TOO_LARGE, 0, "", 0, &detail, 1);
    } else if (cc != CURLE_OK) {
        msp_span reason = {s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc),
                           0};
        reason.n = strlen(reason.p);
        rc = Msp_result_fill(res,
                             status ? MSP_ROW_READ_FAILED : MSP_ROW_TRANSPORT,
                             0, "", 0, &reason, 1);
    } else {
        rc = Msp_map_response(status, s->resp.data, s->resp.len, res, code,
                              codelen);
        if (rc == MSP_OK && ex->capture_body)
            rc = capture(res, s->resp.data, s->resp.len);
    }
    if (rc == MSP_OK)
        res->http_status = (int)status;
    slot_release(ex, s);
    return rc;
}

/* Appends id to line, control bytes shown as '?', at most ID_IN_LOG_MAX
 * bytes (line has room for them: LOG_LINE_MAX is far larger). */
static void append_clean(char *line, const char *id)
{
    size_t len = strlen(line);
    for (size_t i = 0; id && id[i] && i < ID_IN_LOG_MAX; i++) {
        unsigned char c = (unsigned char)id[i];
        line[len++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    line[len] = '\0';
}

static void log_outcome(const msp_executor *ex, const msp_context *ctx,
                        const msp_result *r, const char *code)
{
    char line[LOG_LINE_MAX];
    static const char tag[] = "msp-executor: ";
    int ok = r->row == MSP_ROW_TOOL_RESULT || r->row == MSP_ROW_PROVIDER_JSON ||
             r->row == MSP_ROW_NOT_JSON;
    size_t len;

    snprintf(line, sizeof line, "[msp-executor] command ");
    append_clean(line, ctx->command_id);
    len = strlen(line);
    if (ok || r->row >= MSP_ROW_HEADER_MISMATCH)
        snprintf(line + len, sizeof line - len, " \xe2\x86\x92 %d%s%s (%lldms)",
                 r->http_status, *code ? " " : "", code, r->elapsed_ms);
    else
        snprintf(line + len, sizeof line - len, " \xe2\x86\x92 %.600s (%lldms)",
                 r->err + sizeof tag - 1, r->elapsed_ms);
    /* The message can quote a reason or a body: keep the line one line. */
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    msp_redact_secret(line, strlen(line), ex->auth_header + ex->key_offset,
                      ex->key_len);
    ex->log(ex->log_user, ok ? MSP_LOG_INFO : MSP_LOG_ERROR, line);
}

int msp_executor_execute(msp_executor *ex, const msp_context *ctx,
                         msp_result *res)
{
    if (!ex || !ctx || !res)
        return MSP_ERR_ARG;
    long long t0 = now_ms();
    msp_result r;
    char code[ERROR_CODE_MAX] = "";
    char why[WHY_MAX];
    int rc;

    if (ctx->deadline_ms <= 0) {
        char ms[32];
        msp_span d = {
            ms, (size_t)snprintf(ms, sizeof ms, "%lldms)", ctx->deadline_ms)};
        rc = Msp_result_fill(&r, MSP_ROW_DEADLINE, 0, "", 0, &d, 1);
    } else if (Msp_context_check(ctx, why, sizeof why) != 0) {
        msp_span d = {why, strlen(why)};
        rc = Msp_result_fill(&r, MSP_ROW_INVALID_REQUEST, 0, "", 0, &d, 1);
    } else {
        rc = transfer(ex, ctx, &r, code, sizeof code);
    }
    if (rc != MSP_OK)
        return rc;
    /* A server may echo the request back: never let the key out that way,
     * not even through the tool's stdout or the captured body. */
    const char *key = ex->auth_header + ex->key_offset;
    msp_redact_secret(r.out, r.out_len, key, ex->key_len);
    msp_redact_secret(r.err, r.err_len, key, ex->key_len);
    msp_redact_secret(r.body, r.body_len, key, ex->key_len);
    r.elapsed_ms = now_ms() - t0;
    if (ex->log)
        log_outcome(ex, ctx, &r, code);
    *res = r;
    return MSP_OK;
}
