/*
 * server.c — lifecycle of the fake MSP and its access handler.
 *
 * Threads: libmicrohttpd with an epoll thread pool of two (each worker runs
 * its own event loop), plus the timer thread of sched.c for anything that
 * waits (delays, dribbles, hangs, raw fault bytes). The handler never
 * blocks: waiting requests are suspended and resumed by the timer thread.
 * Shared state and its locks: the journal ring (one short mutex), the
 * idempotency store (striped mutexes), the fixture registry (rwlock, atomic
 * sequence counters), the rate limiter (mutex, only with --rate-limit).
 */
#include "server.h"

#include <cjson/cJSON.h>
#include "check.h"
#include "strict.h"
#include "proxy.h"
#include "scrub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "executor/msp_executor.h"
#include "executor/msp_util.h"

void fake_msp_options_init(fake_msp_options *opt)
{
    memset(opt, 0, sizeof *opt);
}

/* Headers in arrival order (libmicrohttpd keeps them as received). */
typedef struct header_list {
    mspf_header h[FM_MAX_HEADERS];
    size_t n;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
    header_list *l = cls;

    (void)kind;
    if (l->n == FM_MAX_HEADERS)
        return MHD_NO;
    l->h[l->n].name = (char *)key;
    l->h[l->n].value = (char *)(value ? value : "");
    l->n++;
    return MHD_YES;
}

static const char *find_header(const header_list *l, const char *name)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (fm_strieq(l->h[i].name, name))
            return l->h[i].value;
    return NULL;
}

static void log_request(fake_msp *fm, const char *method, const char *url,
                        const header_list *hl, int status,
                        const mspf_fixture *fx, const mspf_response *resp)
{
    const char *auth = find_header(hl, "Authorization");
    char masked[128] = "-", line[900];

    if (!fm->log)
        return;
    if (auth)
        fm_mask_authorization(auth, masked, sizeof masked);
    snprintf(line, sizeof line, "%s %.300s %d%s%s%s%s auth=%s", method, url,
             status, fx ? " fixture=" : "", fx ? fx->name : "",
             resp && resp->fault.kind ? " fault=" : "",
             resp && resp->fault.kind ? mspf_fault_kind_name(resp->fault.kind)
                                      : "",
             masked);
    fm->log(fm->log_user, line);
}

static enum MHD_Result realistic(fake_msp *fm, struct MHD_Connection *c,
                                 const char *method, const char *url,
                                 const header_list *hl, const fm_req *r,
                                 const cJSON *doc, int *status)
{
    int get = strcmp(method, "GET") == 0;
    struct MHD_Response *m;
    fm_input in;
    fm_reply out;
    char num[32];
    enum MHD_Result ok;

    if (strcmp(url, MSP_PATH_EXECUTE) == 0) {
        if (strcmp(method, "POST") != 0)
            return fm_queue_error(c, (unsigned)(*status = 405),
                                  "METHOD_NOT_ALLOWED",
                                  "Method not allowed on this endpoint");
        if (atomic_load(&fm->unavailable))
            return fm_queue_error(c, (unsigned)(*status = 503), "UNAVAILABLE",
                                  "Service unavailable");
        in.authorization = find_header(hl, "Authorization");
        in.command_id = find_header(hl, "X-Brainstorm-Command-Id");
        in.idem_key = find_header(hl, "Idempotency-Key");
        in.content_type = find_header(hl, "Content-Type");
        in.doc = doc;
        in.too_large = r->too_large;
        in.body = r->body.data;
        in.body_len = r->body.len;
        if (fm_msp_execute(&fm->realm, &in, &out) != 0)
            return MHD_queue_response(c, (unsigned)(*status = 500), fm->r_500);
        *status = out.status;
        m = MHD_create_response_from_buffer(out.body_len, out.body,
                                            MHD_RESPMEM_MUST_FREE);
        if (!m) {
            free(out.body);
            return MHD_NO;
        }
        MHD_add_response_header(m, "Content-Type", "application/json");
        if (out.retry_after > 0) {
            snprintf(num, sizeof num, "%ld", out.retry_after);
            MHD_add_response_header(m, "Retry-After", num);
        }
        if (out.replayed)
            MHD_add_response_header(m, "Idempotent-Replayed", "true");
        ok = MHD_queue_response(c, (unsigned)out.status, m);
        MHD_destroy_response(m);
        return ok;
    }
    if (strcmp(url, MSP_PATH_TOOLS) == 0 || strcmp(url, MSP_PATH_HEALTH) == 0) {
        if (!get)
            return fm_queue_error(c, (unsigned)(*status = 405),
                                  "METHOD_NOT_ALLOWED",
                                  "Method not allowed on this endpoint");
        *status = 200;
        return MHD_queue_response(c, 200,
                                  url[1] == 'h' ? fm->r_health : fm->r_tools);
    }
    return fm_queue_error(c, (unsigned)(*status = 404), "NOT_FOUND",
                          "No such endpoint");
}

static enum MHD_Result strict_miss(fake_msp *fm, struct MHD_Connection *c,
                                   const mspf_request *mreq, int *status)
{
    char msg[1200], full[1300];
    size_t len;
    char *body;

    fm_fx_closest(fm->fx, mreq, msg, sizeof msg);
    snprintf(full, sizeof full, "no fixture matches; %s", msg);
    body = fm_error_body("NO_MATCHING_FIXTURE", full, NULL, NULL, &len);
    *status = 500;
    return fm_queue_json(c, 500, body, len);
}

/* Appends a copy of text to a violations array (nothing on ENOMEM). */
static void add_violation(char ***viol, size_t *n, const char *text)
{
    char **nv = realloc(*viol, (*n + 1) * sizeof *nv);

    if (!nv)
        return;
    *viol = nv;
    nv[*n] = strdup(text);
    if (nv[*n])
        (*n)++;
}

/* Counts the Content-Length headers and whether they differ. */
typedef struct cl_count {
    size_t n;
    const char *first;
    int differ;
} cl_count;

static enum MHD_Result count_cl(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    cl_count *k = cls;

    (void)kind;
    if (!fm_strieq(key, "Content-Length"))
        return MHD_YES;
    if (k->n++ == 0)
        k->first = value ? value : "";
    else if (strcmp(k->first, value ? value : "") != 0)
        k->differ = 1;
    return MHD_YES;
}

/* Refuses what no request may carry, before its body is read: more headers
 * than FM_MAX_HEADERS (431) and Content-Length headers that disagree (400),
 * closing the connection after the reply (the rest of the bytes cannot be
 * framed). Returns 1 when refused (r->door_ok holds what to return); else
 * 0 with the first Content-Length value (or NULL) in *cl. */
static int door_refuses(fake_msp *fm, struct MHD_Connection *c, fm_req *r,
                        const char **cl)
{
    cl_count k = {0, NULL, 0};
    int n;
    unsigned status = 0;
    const char *code = NULL;
    char msg[160];
    size_t len;
    char *body;
    struct MHD_Response *m;

    /* one walk: the iterator never stops early, so it returns the count */
    n = MHD_get_connection_values(c, MHD_HEADER_KIND, count_cl, &k);
    if (n < 0 || (size_t)n > fm->max_headers) {
        status = 431;
        code = "HEADERS_TOO_LARGE";
        snprintf(msg, sizeof msg, "more than %zu request headers (%d)",
                 fm->max_headers, n);
    } else if (k.differ) {
        status = 400;
        code = "VALIDATION";
        snprintf(msg, sizeof msg,
                 "Content-Length: %zu headers with different values", k.n);
    }
    *cl = k.first;
    if (!status)
        return 0;
    r->state = RS_DONE;
    r->door = 1;
    body = fm_error_body(code, msg, NULL, NULL, &len);
    m = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : NULL;
    if (!m) {
        free(body);
        r->door_ok = MHD_NO;
        return 1;
    }
    MHD_add_response_header(m, "Content-Type", "application/json");
    MHD_add_response_header(m, "Connection", "close");
    r->door_ok = MHD_queue_response(c, status, m);
    MHD_destroy_response(m);
    return 1;
}

/* The admin API's gate (see fake_msp.h). Returns 1 and queues the refusal
 * (*ok) when the request may not reach it. */
static int admin_refused(fake_msp *fm, struct MHD_Connection *c,
                         const char *method, const fm_req *r,
                         enum MHD_Result *ok)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *origin =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *site =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
    const char *auth =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *ct =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");

    if (fm->no_admin) {
        *ok = fm_queue_error(c, 404, "NOT_FOUND",
                             "The admin API is off (--no-admin)");
        return 1;
    }
    if (!fm->any_host &&
        !fm_host_allowed(host, fm->host, fm->port, fm->loopback)) {
        *ok = fm_queue_error(c, 403, "FORBIDDEN",
                             "admin API: the Host header does not name this "
                             "server (HOST:PORT)");
        return 1;
    }
    if ((origin && !fm_origin_allowed(origin, fm->host, fm->port,
                                      fm->loopback || fm->any_host)) ||
        (site && !fm_strieq(site, "same-origin") && !fm_strieq(site, "none"))) {
        *ok = fm_queue_error(c, 403, "FORBIDDEN",
                             "admin API: cross-site request refused");
        return 1;
    }
    if (fm->admin_token &&
        !fm_dashboard_basic_ok(method, auth, fm->admin_token) &&
        (!auth || strncasecmp(auth, "Bearer ", 7) != 0 ||
         !fm_secret_eq(auth + 7, fm->admin_token))) {
        if (strcmp(method, "GET") == 0) {
            *ok = fm_dashboard_ask_token(c);
            return 1;
        }
        *ok = fm_queue_error(c, 401, "UNAUTHORIZED",
                             "admin API: Authorization: Bearer <admin token> "
                             "required");
        return 1;
    }
    /* a body needs application/json; no other type is taken, body or not */
    if ((strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) &&
        (ct || r->body.len || r->too_large) && !fm_content_type_json(ct)) {
        *ok = fm_queue_error(c, 415, "UNSUPPORTED_MEDIA_TYPE",
                             "admin API: Content-Type must be "
                             "application/json");
        return 1;
    }
    return 0;
}

static int is_admin(const char *url)
{
    return strncmp(url, FM_ADMIN_PREFIX, MSP_STRLEN(FM_ADMIN_PREFIX)) == 0;
}

/* The whole request has arrived: answer it and journal it. */
static enum MHD_Result dispatch(fm_req *r, struct MHD_Connection *c,
                                const char *url, const char *method)
{
    fake_msp *fm = r->fm;
    header_list hl;
    mspf_request mreq;
    const mspf_fixture *fx = NULL;
    const mspf_response *resp = NULL;
    fm_fx_cell *cell = NULL;
    char **viol = NULL;
    size_t n_viol = 0;
    int status = 0, execute;
    cJSON *doc = NULL;
    enum MHD_Result ok;

    r->state = RS_DONE;
    fm_conns_received(c);
    if (is_admin(url)) {
        if (admin_refused(fm, c, method, r, &ok))
            return ok;
        return fm_admin_handle(fm, c, method, url, r);
    }
    atomic_fetch_add(&fm->api_requests, 1); /* states.c: a new interaction */
    if (fm->proxy)
        return fm_proxy_dispatch(r, c, url, method);
    hl.n = 0;
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &hl);
    mreq.method = method;
    mreq.path = url;
    mreq.headers = hl.h;
    mreq.n_headers = hl.n;
    mreq.body = (const unsigned char *)(r->body.data ? r->body.data : "");
    mreq.body_len = r->body.len;

    execute = strcmp(url, MSP_PATH_EXECUTE) == 0;
    if (execute && !r->too_large)
        doc = mspf_cjson_parse((const char *)mreq.body, mreq.body_len, NULL);
    if (execute && fm_check_request_doc(&mreq, doc, &viol, &n_viol) != 0)
        n_viol = 0;
    if (fm_fx_count(fm->fx)) {
        unsigned long hits = mspf_regex_limit_hits();
        resp = fm_fx_match_cell(fm->fx, &mreq, doc, &fx, &cell);
        if (mspf_regex_limit_hits() != hits)
            add_violation(&viol, &n_viol,
                          "a fixture regex hit its match limit (PCRE2 "
                          "match/depth/heap limit): treated as no match");
    }
    if (resp) {
        /* Journal before serving: a delayed or faulty reply goes out from the
         * timer thread, possibly before this handler returns, and whoever
         * reads the journal after seeing the reply must find the request. */
        status = resp->fault.kind == MSPF_FAULT_NONE ||
                         resp->fault.kind == MSPF_FAULT_DRIBBLE
                     ? resp->status
                     : 0;
        r->holds_fixture = 1; /* released when the request completes */
        fm_journal_append(fm->journal, method, url, hl.h, hl.n, mreq.body,
                          mreq.body_len, fx->name, status, viol, n_viol);
        ok = fm_replay_serve(r, c, resp, cell, &status);
    } else {
        if (fm->strict && strcmp(url, MSP_PATH_HEALTH) != 0)
            ok = strict_miss(fm, c, &mreq, &status);
        else
            ok = realistic(fm, c, method, url, &hl, r, doc, &status);
        /* MHD sends a queued reply only after this handler returns. */
        fm_journal_append(fm->journal, method, url, hl.h, hl.n, mreq.body,
                          mreq.body_len, NULL, status, viol, n_viol);
    }
    cJSON_Delete(doc);
    fake_msp_violations_free(viol, n_viol);
    log_request(fm, method, url, &hl, status, fx, resp);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    fake_msp *fm = cls;
    fm_req *r = *con_cls;
    size_t cap;

    (void)version;
    if (!r) {
        const char *cl;
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        r->fm = fm;
        msp_buf_init(&r->body,
                     is_admin(url) ? FM_ADMIN_MAX_BODY : fm->max_body);
        *con_cls = r;
        if (atomic_load(&fm->stopping))
            return MHD_NO;
        if (door_refuses(fm, c, r, &cl)) /* cl: as MHD would look it up */
            return r->door_ok;
        if (cl && !is_admin(url) && strtoull(cl, NULL, 10) > fm->max_body) {
            /* answer before the body is read */
            r->too_large = 1;
            return dispatch(r, c, url, method);
        }
        if (fm->proxy && !is_admin(url)) /* room for the body, or 503 */
            return fm_proxy_head(r, c, url, method,
                                 cl ? strtoull(cl, NULL, 10) : 0);
        return MHD_YES;
    }
    if (r->state == RS_SUSPENDED)
        return fm_replay_resumed(r, c);
    if (*upload_size) {
        cap = r->body.max;
        if (r->state == RS_READING && !r->too_large && !r->proxy_full) {
            if (*upload_size > cap - r->body.len) { /* past the cap */
                r->too_large = 1; /* keep reading, stop buffering */
                free(r->body.data);
                msp_buf_init(&r->body, cap);
            } else if (fm->proxy && !is_admin(url) &&
                       fm_proxy_body(r, r->body.len + *upload_size) != 0) {
                free(r->body.data); /* keep reading, stop buffering: 503 */
                msp_buf_init(&r->body, cap);
            } else {
                msp_buf_append(&r->body, upload, *upload_size);
                if (r->body.failed)
                    return MHD_NO;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->state != RS_READING)
        return MHD_YES;
    return dispatch(r, c, url, method);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    fm_req *r = *con_cls;

    (void)cls;
    (void)toe;
    if (!r)
        return;
    fm_conns_request_done(c);
    if (r->resp)
        MHD_destroy_response(r->resp);
    if (r->holds_fixture)
        fm_fx_release(r->fm->fx);
    if (r->proxy_held)
        fm_proxy_release(r->fm->proxy, r->proxy_held);
    free(r->body.data);
    free(r->raw);
    free(r);
    *con_cls = NULL;
}

static struct MHD_Response *static_json(const char *body)
{
    struct MHD_Response *m = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);

    if (m)
        MHD_add_response_header(m, "Content-Type", "application/json");
    return m;
}

static char *read_pem(const char *file, char *errbuf, size_t errlen)
{
    char *p = NULL;
    size_t n = 0;

    /* msp_read_file never blocks on a FIFO and refuses non-regular files */
    if (msp_read_file(file, 65535, &p, &n) != 0) {
        int e = errno;
        if (e == EFBIG)
            snprintf(errbuf, errlen, "%s: over 64 KiB", file);
        else
            snprintf(errbuf, errlen, "cannot open %s: %s", file,
                     msp_file_strerror(e));
        return NULL;
    }
    if (n == 0) {
        free(p);
        snprintf(errbuf, errlen, "%s: empty, unreadable or over 64 KiB", file);
        return NULL;
    }
    return p;
}

/* The default key of every issued credential role (contracts/fixture.h)
 * beyond sk-test, after the --key credentials so that those win: a
 * read-only key of the server's tenant, a key of another tenant. */
#define FM_ROLE_TOKENS_MAX 8
static int add_role_tokens(fake_msp *fm)
{
    size_t n, i;
    const mspf_role *roles = mspf_roles(&n);
    for (i = 0; i < n && i < FM_ROLE_TOKENS_MAX; i++) {
        fm_token *t = &fm->realm.tokens[fm->realm.n_tokens];
        const char *tenant = fm->tenant;
        if (!roles[i].issued ||
            strcmp(roles[i].default_key, FAKE_MSP_DEFAULT_TOKEN) == 0)
            continue;
        if (roles[i].other_tenant)
            tenant =
                strcmp(fm->tenant, "tenant-y") == 0 ? "tenant-z" : "tenant-y";
        t->token = strdup(roles[i].default_key);
        t->tenant = strdup(tenant);
        t->read_only = roles[i].read_only;
        fm->realm.n_tokens++;
        if (!t->token || !t->tenant)
            return -1;
    }
    return 0;
}

/* Every credential the server knows, masked in its journal. */
static int journal_secrets(fake_msp *fm)
{
    const char *keys[FM_SCRUB_MAX_KEYS];
    size_t i, n = 0;

    for (i = 0; i < fm->realm.n_tokens && n + 1 < FM_SCRUB_MAX_KEYS; i++)
        if (strlen(fm->realm.tokens[i].token) <= FM_SCRUB_MAX_KEY)
            keys[n++] = fm->realm.tokens[i].token;
    if (fm->admin_token && strlen(fm->admin_token) <= FM_SCRUB_MAX_KEY)
        keys[n++] = fm->admin_token;
    return fm_journal_set_secrets(fm->journal, keys, n);
}

static int setup(fake_msp *fm, const fake_msp_options *opt, char *errbuf,
                 size_t errlen)
{
    mspf_error err;
    char reason[1400];
    size_t i;

    fm->tenant = strdup(opt->tenant ? opt->tenant : FAKE_MSP_DEFAULT_TENANT);
    if (!fm->tenant)
        goto nomem;
    fm->realm.tenant = fm->tenant;
    fm->realm.max_body = fm->max_body;
    fm->realm.tokens =
        calloc(opt->n_keys + 1 + FM_ROLE_TOKENS_MAX, sizeof(fm_token));
    if (!fm->realm.tokens)
        goto nomem;
    fm->realm.tokens[0].token = strdup(FAKE_MSP_DEFAULT_TOKEN);
    fm->realm.tokens[0].tenant = strdup(FAKE_MSP_DEFAULT_TENANT);
    fm->realm.n_tokens = 1;
    if (!fm->realm.tokens[0].token || !fm->realm.tokens[0].tenant)
        goto nomem;
    for (i = 0; i < opt->n_keys; i++) {
        if (fm_token_parse(opt->keys[i], &fm->realm.tokens[i + 1], errbuf,
                           errlen) != 0)
            return -1;
        fm->realm.n_tokens++;
    }
    if (add_role_tokens(fm) != 0)
        goto nomem;
    fm->idem = fm_idem_new(opt->idem_capacity ? opt->idem_capacity
                                              : FAKE_MSP_DEFAULT_IDEM_CAPACITY,
                           opt->idem_ttl_ms > 0 ? opt->idem_ttl_ms
                                                : FAKE_MSP_DEFAULT_IDEM_TTL_MS);
    if (fm->idem)
        fm_idem_set_max_bytes(fm->idem, opt->idem_max_bytes
                                            ? opt->idem_max_bytes
                                            : FAKE_MSP_DEFAULT_IDEM_MAX_BYTES);
    fm->journal = fm_journal_new(
        opt->journal_max ? opt->journal_max : FAKE_MSP_DEFAULT_JOURNAL_MAX,
        opt->journal_max_bytes ? opt->journal_max_bytes
                               : FAKE_MSP_DEFAULT_JOURNAL_MAX_BYTES);
    fm->fx = fm_fx_new(opt->max_fixtures ? opt->max_fixtures
                                         : FAKE_MSP_DEFAULT_MAX_FIXTURES,
                       opt->fixture_budget ? opt->fixture_budget
                                           : FAKE_MSP_DEFAULT_FIXTURE_BUDGET);
    if (fm->fx) /* the fixtures' kept reply objects (replay.c) */
        fm_fx_set_drop(fm->fx, fm_replay_drop);
    /* always there, so that a provider state can lower the limit */
    fm->rate_limit_default =
        opt->rate_limit_per_min > 0 ? opt->rate_limit_per_min : 0;
    fm->rl = fm_ratelimit_new(fm->rate_limit_default);
    fm->realm.idem = fm->idem;
    fm->realm.rl = fm->rl;
    if (!fm->idem || !fm->journal || !fm->fx || !fm->rl)
        goto nomem;
    for (i = 0; i < opt->n_contract_dirs; i++) {
        memset(&err, 0, sizeof err);
        if (fm_fx_load_dir(fm->fx, opt->contract_dirs[i], &err) != 0) {
            snprintf(errbuf, errlen, "%s",
                     mspf_error_format(&err, reason, sizeof reason));
            return -1;
        }
    }
    for (i = 0; i < opt->n_fixture_files; i++) {
        memset(&err, 0, sizeof err);
        if (fm_fx_load_file(fm->fx, opt->fixture_files[i], &err) != 0) {
            snprintf(errbuf, errlen, "%s",
                     mspf_error_format(&err, reason, sizeof reason));
            return -1;
        }
    }
    fm_fx_started(fm->fx);
    fm->r_health = static_json(fm_health_json());
    fm->r_tools = static_json(fm_tools_json());
    fm->r_500 =
        static_json("{\"success\":false,\"error\":{\"code\":\"INTERNAL\","
                    "\"message\":\"out of memory\"},\"tool\":null,"
                    "\"trace_id\":\"trace-oom\"}");
    if (!fm->r_health || !fm->r_tools || !fm->r_500)
        goto nomem;
    fm->no_admin = opt->no_admin;
    if (opt->admin_token) {
        if (!*opt->admin_token) {
            snprintf(errbuf, errlen, "the admin token is empty");
            return -1;
        }
        fm->admin_token = strdup(opt->admin_token);
        if (!fm->admin_token)
            goto nomem;
    }
    if (journal_secrets(fm) != 0)
        goto nomem;
    fm->conns = fm_conns_new(opt->request_budget_ms > 0
                                 ? opt->request_budget_ms
                                 : FAKE_MSP_DEFAULT_REQUEST_BUDGET_MS);
    if (!fm->conns)
        goto nomem;
    if (opt->record_dir && !opt->proxy_url) {
        snprintf(errbuf, errlen, "recording needs --proxy URL");
        return -1;
    }
    if (opt->proxy_url && !(fm->proxy = fm_proxy_new(fm, opt, errbuf, errlen)))
        return -1;
    if (opt->tls_cert || opt->tls_key) {
        if (!opt->tls_cert || !opt->tls_key) {
            snprintf(errbuf, errlen, "TLS needs both a certificate and a key");
            return -1;
        }
        fm->tls_cert = read_pem(opt->tls_cert, errbuf, errlen);
        if (!fm->tls_cert)
            return -1;
        fm->tls_key = read_pem(opt->tls_key, errbuf, errlen);
        if (!fm->tls_key)
            return -1;
        fm->tls = 1;
    }
    return 0;
nomem:
    snprintf(errbuf, errlen, "out of memory");
    return -1;
}

static void teardown(fake_msp *fm)
{
    size_t i;

    if (fm->realm.tokens)
        for (i = 0; i < fm->realm.n_tokens; i++) {
            free(fm->realm.tokens[i].token);
            free(fm->realm.tokens[i].tenant);
        }
    free(fm->realm.tokens);
    fm_proxy_free(fm->proxy);
    fm_idem_free(fm->idem);
    fm_ratelimit_free(fm->rl);
    fm_journal_free(fm->journal);
    fm_fx_free(fm->fx);
    fm_sched_free(fm->sched);
    if (fm->r_health)
        MHD_destroy_response(fm->r_health);
    if (fm->r_tools)
        MHD_destroy_response(fm->r_tools);
    if (fm->r_500)
        MHD_destroy_response(fm->r_500);
    fm_conns_free(fm->conns);
    free(fm->admin_token);
    free(fm->tls_cert);
    free(fm->tls_key);
    free(fm->tenant);
    free(fm);
}

/* Binds and listens here rather than in libmicrohttpd, so that a failure
 * says why ("Address already in use"). */
static int listen_socket(const struct sockaddr *sa, socklen_t salen, char *why,
                         size_t whylen)
{
    int one = 1, s = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        (sa->sa_family == AF_INET6 &&
         setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one)) ||
        bind(s, sa, salen) != 0 || listen(s, 1024) != 0) {
        snprintf(why, whylen, ": %s", strerror(errno));
        if (s >= 0)
            close(s);
        return -1;
    }
    return s;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)
                          ->sin_addr.s_addr) >>
                24) == 127;
    return IN6_IS_ADDR_LOOPBACK(
        &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

static int is_wildcard(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)sa)
                   ->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(
        &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

static int bind_start(fake_msp *fm, const fake_msp_options *opt, char *errbuf,
                      size_t errlen)
{
    const char *host = opt->host ? opt->host : "127.0.0.1";
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    struct sockaddr *sa;
    socklen_t salen;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    const union MHD_DaemonInfo *di;
    int v6 = strchr(host, ':') != NULL, ls;
    char why[200] = "";
    size_t max_conn = opt->max_connections ? opt->max_connections
                                           : FAKE_MSP_DEFAULT_MAX_CONNECTIONS;
    size_t per_ip = opt->max_connections_per_ip
                        ? opt->max_connections_per_ip
                        : FAKE_MSP_DEFAULT_MAX_CONNECTIONS_PER_IP;

    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (v6) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(opt->port);
        if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1)
            goto badhost;
        sa = (struct sockaddr *)&a6;
        salen = sizeof a6;
        flags |= MHD_USE_IPv6;
    } else {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(opt->port);
        if (inet_pton(AF_INET, host, &a4.sin_addr) != 1)
            goto badhost;
        sa = (struct sockaddr *)&a4;
        salen = sizeof a4;
    }
    snprintf(fm->host, sizeof fm->host, "%s", host);
    fm->loopback = is_loopback(sa);
    fm->any_host = is_wildcard(sa);
    if (!fm->loopback && !fm->no_admin && !fm->admin_token) {
        snprintf(errbuf, errlen,
                 "binding %s (not loopback) needs an admin token "
                 "(--admin-token-file) or --no-admin",
                 host);
        return -1;
    }
    if (per_ip > max_conn)
        per_ip = max_conn;
    ls = listen_socket(sa, salen, why, sizeof why);
    if (ls < 0) {
        snprintf(errbuf, errlen, "cannot listen on %s%s%s:%u%s", v6 ? "[" : "",
                 host, v6 ? "]" : "", (unsigned)opt->port, why);
        return -1;
    }
    if (fm->tls)
        flags |= MHD_USE_TLS;
    fm->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, fm, MHD_OPTION_LISTEN_SOCKET, ls,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2, MHD_OPTION_NOTIFY_COMPLETED,
        completed, fm, MHD_OPTION_NOTIFY_CONNECTION, fm_conns_notify, fm->conns,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conn,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)per_ip,
        fm->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, fm->tls_cert,
        MHD_OPTION_HTTPS_MEM_KEY, fm->tls_key, MHD_OPTION_END);
    if (!fm->daemon) {
        close(ls);
        snprintf(errbuf, errlen, "cannot serve on %s%s%s:%u%s", v6 ? "[" : "",
                 host, v6 ? "]" : "", (unsigned)opt->port,
                 fm->tls ? " (the TLS certificate/key is invalid?)"
                         : " (libmicrohttpd refused to start)");
        return -1;
    }
    di = MHD_get_daemon_info(fm->daemon, MHD_DAEMON_INFO_BIND_PORT);
    fm->port = di ? di->port : opt->port;
    snprintf(fm->url, sizeof fm->url, "%s://%s%s%s:%u",
             fm->tls ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "",
             (unsigned)fm->port);
    return 0;
badhost:
    snprintf(errbuf, errlen, "not an IP address: %.100s", host);
    return -1;
}

int fake_msp_start(const fake_msp_options *opt, fake_msp **out, char *errbuf,
                   size_t errlen)
{
    fake_msp *fm = calloc(1, sizeof *fm);

    if (!fm) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    fm->max_body = opt->max_body ? opt->max_body : FAKE_MSP_DEFAULT_MAX_BODY;
    fm->strict = opt->strict;
    fm->max_headers = opt->max_headers && opt->max_headers < FM_MAX_HEADERS
                          ? opt->max_headers
                          : FM_MAX_HEADERS;
    fm->log = opt->log;
    fm->log_user = opt->log_user;
    fm->seed = opt->seed ? opt->seed
                         : ((unsigned long long)fm_wall_ms() * 2654435761ULL) ^
                               (unsigned long long)getpid();
    if (setup(fm, opt, errbuf, errlen) != 0) {
        teardown(fm);
        return -1;
    }
    fm->sched = fm_sched_new();
    if (!fm->sched) {
        snprintf(errbuf, errlen, "cannot start the timer thread");
        teardown(fm);
        return -1;
    }
    if (bind_start(fm, opt, errbuf, errlen) != 0) {
        teardown(fm);
        return -1;
    }
    *out = fm;
    return 0;
}

unsigned short fake_msp_port(const fake_msp *fm)
{
    return fm->port;
}

const char *fake_msp_url(const fake_msp *fm)
{
    return fm->url;
}

unsigned long long fake_msp_seed(const fake_msp *fm)
{
    return fm->seed;
}

/* No MHD_quiesce_daemon() here: in libmicrohttpd 0.9.75 with a thread pool
 * in epoll mode it races the workers removing the listen socket from their
 * own epoll sets, and the loser aborts ("Failed to remove listen FD from
 * epoll set"). It is not needed either: once fm_sched_stop() returns, every
 * suspended connection has been resumed and fm_sched_add() refuses new ones,
 * so a request accepted between here and MHD_stop_daemon() is answered or
 * closed without suspending, and MHD_stop_daemon() closes the rest. */
void fake_msp_stop(fake_msp *fm)
{
    if (!fm)
        return;
    atomic_store(&fm->stopping, 1);
    fm_sched_stop(fm->sched);
    fm_conns_stop(fm->conns);
    fm_proxy_stop(fm->proxy);
    MHD_stop_daemon(fm->daemon);
    teardown(fm);
}

int fake_msp_add_fixture(fake_msp *fm, mspf_fixture *f, char *errbuf,
                         size_t errlen)
{
    mspf_error err;

    memset(&err, 0, sizeof err);
    if (fm_fx_add(fm->fx, f, &err) != 0) {
        snprintf(errbuf, errlen, "%s: %s", err.path, err.reason);
        return -1;
    }
    return 0;
}

void fake_msp_reset(fake_msp *fm)
{
    fm_journal_clear(fm->journal);
    fm_idem_clear(fm->idem);
    fm_fx_reset_sequences(fm->fx);
    if (fm->rl)
        fm_ratelimit_clear(fm->rl);
    fm_states_reset(fm);
}

int fake_msp_journal_find(fake_msp *fm, const char *command_id,
                          fake_msp_entry **entries, size_t *n)
{
    return fm_journal_find(fm->journal, command_id, entries, n);
}

unsigned long long fake_msp_journal_dropped(fake_msp *fm)
{
    return fm_journal_dropped(fm->journal);
}

size_t fake_msp_suspended(fake_msp *fm)
{
    return fm_sched_count(fm->sched);
}

int fake_msp_wait_suspended(fake_msp *fm, size_t n, long timeout_ms)
{
    return fm_sched_wait_count(fm->sched, n, timeout_ms);
}

int fake_msp_wait_released(fake_msp *fm, size_t n, long timeout_ms)
{
    return fm_sched_wait_at_most(fm->sched, n, timeout_ms);
}
