/*
 * test_record.c — fake-msp as a recording proxy (--proxy, --record,
 * --redact): a session of msp-exec calls recorded through a proxy in front
 * of a fake MSP over TLS, then lint, verify and provider on the recorded
 * directory as it is; the key in no recorded byte; 502s; 16 clients.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/msp_executor.h"
#include "fm_testkit.h"
#include "hx_spawn.h"
#include "test_timeout.h"
#include "tls_server.h"

#define LIVE_KEY  "sk-live-7f3a9c2e41"
#define RO_KEY    "sk-ro-real-5d1b88"
#define OT_KEY    "sk-ot-real-9e0c17"
#define BAD_KEY   "sk-bad-real-00a1"
#define CID_RETRY "5b0e2c1d-7a4f-4e2b-9c3d-0f1e2d3c4b5a"
#define CID_5XX   "8c7d6e5f-4a3b-4c2d-8e1f-0a9b8c7d6e5f"

static char work[256];

/* A program run with an empty environment and a deadline, its output
 * captured (harness/spawn). */
typedef hx_spawned spawn_result;

static int spawn_run(const char *const argv[], int timeout_ms, spawn_result *r)
{
    static const char *const no_env[] = {NULL};
    hx_spawn_opts o;
    memset(&o, 0, sizeof o);
    o.envp = no_env;
    o.timeout_ms = timeout_ms;
    return hx_spawn_run(argv, &o, r, NULL, 0);
}

static void spawn_result_free(spawn_result *r)
{
    hx_spawned_free(r);
}

static void make_work(void)
{
    snprintf(work, sizeof work, "/tmp/fm-record-XXXXXX");
    cr_assert_not_null(mkdtemp(work));
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static const char *bin(const char *name)
{
    static char buf[4][600];
    static int k;
    const char *d = getenv("MSP_BIN_DIR");
    char *b = buf[k++ % 4];
    snprintf(b, 600, "%s/%s", d ? d : "build/bin", name);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static const char *key_file(const char *key)
{
    static char buf[4][400];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 400, "%s/key-%d", work, k);
    write_file(p, key);
    return p;
}

/* Runs msp-exec against url; returns its exit status. */
static int exec_call(const char *url, const char *key, const char *tool,
                     const char *params, const char *cid, const char *corr)
{
    const char *argv[16];
    int n = 0;
    spawn_result r;
    argv[n++] = bin("msp-exec");
    argv[n++] = "--base-url";
    argv[n++] = url;
    argv[n++] = "--api-key-file";
    argv[n++] = key_file(key);
    argv[n++] = "--tool";
    argv[n++] = tool;
    argv[n++] = "--params";
    argv[n++] = params;
    if (cid) {
        argv[n++] = "--command-id";
        argv[n++] = cid;
    }
    if (corr) {
        argv[n++] = "--correlation-id";
        argv[n++] = corr;
    }
    argv[n] = NULL;
    cr_assert_eq(spawn_run(argv, 20000, &r), 0);
    int st = r.status;
    spawn_result_free(&r);
    return st;
}

/* Runs msp-contract CMD --contracts dir [extra...]; returns its status and
 * shows its output when it is not `want`. */
static int contract_want(const char *cmd, const char *dir, int want,
                         const char *a1, const char *a2, const char *a3,
                         const char *a4)
{
    const char *argv[] = {
        bin("msp-contract"), cmd, "--contracts", dir, a1, a2, a3, a4, NULL};
    spawn_result r;
    cr_assert_eq(spawn_run(argv, 60000, &r), 0);
    int st = r.status;
    if (st != want)
        cr_log_error("msp-contract %s: %s\n%s", cmd, r.out, r.err);
    spawn_result_free(&r);
    return st;
}

static int contract(const char *cmd, const char *dir, const char *a1,
                    const char *a2, const char *a3, const char *a4)
{
    return contract_want(cmd, dir, 0, a1, a2, a3, a4);
}

static int count_fixtures(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    cr_assert_not_null(d);
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strstr(e->d_name, ".json"))
            n++;
        else if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp."))
            cr_assert_fail("a temporary file was left: %s", e->d_name);
    closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char *p = malloc(2 * 1024 * 1024);
    *len = fread(p, 1, 2 * 1024 * 1024 - 1, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

typedef struct session {
    tls_material tls;
    fake_msp *up, *proxy;
    char rec[300];
} session;

static const char *const up_keys[] = {
    LIVE_KEY "=tenant-x",
    RO_KEY "=tenant-x:read_only",
    OT_KEY "=tenant-y",
};

static void start_session(session *s, const char *const *redact,
                          size_t n_redact)
{
    fake_msp_options o;
    make_work();
    cr_assert_eq(tls_material_make(&s->tls), 0);
    fake_msp_options_init(&o);
    o.tls_cert = s->tls.cert_pem;
    o.tls_key = s->tls.key_pem;
    o.keys = up_keys;
    o.n_keys = sizeof up_keys / sizeof up_keys[0];
    s->up = tk_start(&o);
    cr_assert_eq(strncmp(fake_msp_url(s->up), "https://", 8), 0);
    /* the 5xx comes from a fixture the upstream replays: it matches the
     * params, so it also answers the fresh ids a provider run sends */
    tk_add_fixture(
        s->up,
        "{\"name\":\"upstream-503\",\"description\":\"overloaded\","
        "\"exit_row\":13,\"context\":{\"command_id\":\"" CID_5XX "\","
        "\"tool\":\"msp.agent_health\",\"params\":{\"agent_id\":"
        "\"agent-503\"}},\"request\":{\"method\":\"POST\",\"path\":\"/api/"
        "v1/god-mode/execute\",\"body\":{\"tool\":\"msp.agent_health\","
        "\"params\":{\"agent_id\":\"agent-503\"},\"simulate\":false}},"
        "\"response\":{\"status\":503,\"body_text\":\"overloaded, retry "
        "later\"},\"expect\":{\"exit_code\":125}}");
    snprintf(s->rec, sizeof s->rec, "%s/rec", work);
    cr_assert_eq(mkdir(s->rec, 0700), 0);
    fake_msp_options_init(&o);
    o.proxy_url = fake_msp_url(s->up);
    o.proxy_ca_file = s->tls.ca_pem;
    o.record_dir = s->rec;
    o.redact = redact;
    o.n_redact = n_redact;
    s->proxy = tk_start(&o);
}

/* Stops the proxy: its workers write what they staged before it returns,
 * so the recorded directory is complete afterwards. */
static void stop_proxy(session *s)
{
    fake_msp_stop(s->proxy);
    s->proxy = NULL;
}

static void stop_session(session *s)
{
    fake_msp_stop(s->proxy);
    fake_msp_stop(s->up);
    tls_material_remove(&s->tls);
    rm_rf(work);
}

/* The session of the issue: the three v1 tools, 401, 403 (both kinds),
 * 404, a retried command id, a 409 and a 5xx. */
static void record_session(session *s)
{
    const char *px = fake_msp_url(s->proxy);
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.list_devices",
                           "{\"query\":\"laptop\"}", NULL, "corr-ld-1"),
                 0);
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.agent_health",
                           "{\"agent_id\":\"agent-001\"}", NULL, NULL),
                 0);
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.process_kill",
                           "{\"agent_id\":\"agent-002\",\"pid\":5150}",
                           CID_RETRY, "corr-retry"),
                 0);
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.process_kill",
                           "{\"agent_id\":\"agent-002\",\"pid\":5150}",
                           CID_RETRY, "corr-retry"),
                 0); /* the retry: replayed by the upstream */
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.process_kill",
                           "{\"agent_id\":\"agent-002\",\"pid\":6160}",
                           CID_RETRY, "corr-retry"),
                 1); /* same id, another request: 409 */
    cr_assert_eq(exec_call(px, BAD_KEY, "msp.list_devices", "{}", NULL, NULL),
                 126);
    cr_assert_eq(exec_call(px, RO_KEY, "msp.process_kill",
                           "{\"agent_id\":\"agent-001\",\"pid\":4243}", NULL,
                           NULL),
                 126);
    cr_assert_eq(exec_call(px, OT_KEY, "msp.agent_health",
                           "{\"agent_id\":\"agent-003\"}", NULL, NULL),
                 126);
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.no_such_tool", "{}", NULL, NULL),
                 127);
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.agent_health",
                           "{\"agent_id\":\"agent-503\"}", CID_5XX, NULL),
                 125);
    cr_assert_eq(exec_call(px, LIVE_KEY, "msp.list_devices", "{}", NULL, NULL),
                 0);
}

Test(record, session_over_tls_passes_lint_verify_and_provider_unedited,
     .timeout = TEST_TIMEOUT(120))
{
    session s;
    start_session(&s, NULL, 0);
    record_session(&s);
    stop_proxy(&s);
    /* 11 calls, one a retry of an earlier one: 10 fixtures */
    cr_assert_eq(count_fixtures(s.rec), 10);
    char path[600];
    size_t len;
    snprintf(path, sizeof path, "%s/process-kill-200.json", s.rec);
    char *retry = slurp(path, &len);
    cr_expect_not_null(strstr(retry, "\"repeat\": 2"), "%s", retry);
    cr_expect_not_null(strstr(retry, "\"responses\""));
    cr_expect_not_null(strstr(retry, "\"Idempotent-Replayed\": \"true\""));
    free(retry);
    snprintf(path, sizeof path, "%s/process-kill-409.json", s.rec);
    char *conflict = slurp(path, &len);
    cr_expect_not_null(strstr(conflict, "\"verify\": false"), "%s", conflict);
    free(conflict);
    snprintf(path, sizeof path, "%s/agent-health-503.json", s.rec);
    char *fivexx = slurp(path, &len);
    cr_expect_not_null(
        strstr(fivexx, "\"body_text\": \"overloaded, retry later\""), "%s",
        fivexx);
    free(fivexx);
    snprintf(path, sizeof path, "%s/process-kill-403.json", s.rec);
    char *ro = slurp(path, &len);
    cr_expect_not_null(strstr(ro, "\"credential\": \"read_only\""), "%s", ro);
    cr_expect_not_null(strstr(ro, "\"Authorization\": \"Bearer sk-readonly\""),
                       "%s", ro);
    free(ro);

    cr_assert_eq(contract("lint", s.rec, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(contract("verify", s.rec, NULL, NULL, NULL, NULL), 0);
    /* coverage reads it and reports what it pins (not all 14 rows: 1) */
    cr_assert_eq(contract_want("coverage", s.rec, 1, NULL, NULL, NULL, NULL),
                 1);
    {
        char ro_cred[450], ot_cred[450];
        snprintf(ro_cred, sizeof ro_cred, "read_only=%s", key_file(RO_KEY));
        snprintf(ot_cred, sizeof ot_cred, "other_tenant=%s", key_file(OT_KEY));
        const char *argv[] = {
            bin("msp-contract"), "provider", "--contracts", s.rec, "--base-url",
            fake_msp_url(s.up), "--ca-file", s.tls.ca_pem,
            /* the keys that were recorded, by role */
            "--api-key-file", key_file(LIVE_KEY), "--credential", ro_cred,
            "--credential", ot_cred, NULL};
        spawn_result r;
        cr_assert_eq(spawn_run(argv, 60000, &r), 0);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert_not_null(strstr(r.out, "9 passed, 0 failed, 0 skipped"), "%s",
                           r.out);
        spawn_result_free(&r);
    }
    stop_session(&s);
}

static void expect_absent(const char *dir, const char *what, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    cr_assert_not_null(d);
    while ((e = readdir(d))) {
        char path[600];
        size_t len;
        if (e->d_name[0] == '.' && (!e->d_name[1] || e->d_name[1] == '.'))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = slurp(path, &len);
        cr_expect_null(strstr(text, needle), "%s spelling of the key in %s",
                       what, e->d_name);
        free(text);
    }
    closedir(d);
}

static void b64(const char *in, char *out)
{
    static const char al[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), i;
    const unsigned char *s = (const unsigned char *)in;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (unsigned)s[i + 1] << 8 | s[i + 2];
        *out++ = al[v >> 18 & 63];
        *out++ = al[v >> 12 & 63];
        *out++ = al[v >> 6 & 63];
        *out++ = al[v & 63];
    }
    if (i < n) {
        unsigned v =
            (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0u);
        *out++ = al[v >> 18 & 63];
        *out++ = al[v >> 12 & 63];
        *out++ = i + 1 < n ? al[v >> 6 & 63] : '=';
        *out++ = '=';
    }
    *out = '\0';
}

static void expect_no_spelling(const char *dir, const char *key)
{
    char buf[512], *o;
    size_t i;
    expect_absent(dir, "raw", key);
    b64(key, buf);
    expect_absent(dir, "base64", buf);
    for (o = buf, i = 0; key[i]; i++)
        o += sprintf(o, "\\u%04x", (unsigned char)key[i]);
    expect_absent(dir, "JSON \\u-escaped", buf);
    for (o = buf, i = 0; key[i]; i++)
        o += sprintf(o, "\\u%04X", (unsigned char)key[i]);
    expect_absent(dir, "JSON \\u-escaped (upper)", buf);
    for (o = buf, i = 0; key[i]; i++)
        o += sprintf(o, "%%%02X", (unsigned char)key[i]);
    expect_absent(dir, "URL-encoded", buf);
    for (o = buf, i = 0; key[i]; i++)
        o += sprintf(o, "%%%02x", (unsigned char)key[i]);
    expect_absent(dir, "URL-encoded (lower)", buf);
}

Test(record, no_recorded_byte_holds_a_key_in_any_spelling,
     .timeout = TEST_TIMEOUT(120))
{
    session s;
    start_session(&s, NULL, 0);
    /* the upstream echoes the key back, in every spelling */
    char body[2048], b[256];
    b64(LIVE_KEY, b);
    snprintf(body, sizeof body,
             "\"response\":{\"status\":200,\"body\":{\"echo\":\"%s\","
             "\"b64\":\"%s\",\"url\":\"%s\"}}",
             LIVE_KEY, b, "sk%2Dlive%2D7f3a9c2e41");
    tk_add_fixture(s.up, tk_fixture_json("echo",
                                         "0d3c2b1a-0000-4000-8000-"
                                         "00000000e0e0",
                                         body));
    tk_add_fixture(
        s.up, tk_fixture_json(
                  "echo-text", "0d3c2b1a-0000-4000-8000-00000000e0e1",
                  "\"response\":{\"status\":500,\"body_text\":\"bad "
                  "key \\\\u0073\\\\u006b-live-7f3a9c2e41 / " LIVE_KEY "\"}"));
    record_session(&s);
    cr_assert_eq(exec_call(fake_msp_url(s.proxy), LIVE_KEY, "msp.list_devices",
                           "{}", "0d3c2b1a-0000-4000-8000-00000000e0e0", NULL),
                 0);
    cr_assert_eq(exec_call(fake_msp_url(s.proxy), LIVE_KEY, "msp.list_devices",
                           "{}", "0d3c2b1a-0000-4000-8000-00000000e0e1", NULL),
                 125);
    stop_proxy(&s);
    cr_assert_eq(count_fixtures(s.rec), 12);
    expect_no_spelling(s.rec, LIVE_KEY);
    expect_no_spelling(s.rec, RO_KEY);
    expect_no_spelling(s.rec, OT_KEY);
    expect_no_spelling(s.rec, BAD_KEY);
    cr_assert_eq(contract("lint", s.rec, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(contract("verify", s.rec, NULL, NULL, NULL, NULL), 0);
    stop_session(&s);
}

Test(record, redact_replaces_values_with_a_placeholder_and_a_type_matcher,
     .timeout = TEST_TIMEOUT(120))
{
    static const char *const redact[] = {"request.params.query", "request.tool",
                                         "response.data.devices[*].hostname"};
    session s;
    start_session(&s, redact, 3);
    cr_assert_eq(exec_call(fake_msp_url(s.proxy), LIVE_KEY, "msp.list_devices",
                           "{\"query\":\"windows\"}", NULL, NULL),
                 0);
    stop_proxy(&s);
    char path[600];
    size_t len;
    snprintf(path, sizeof path, "%s/list-devices-200.json", s.rec);
    char *text = slurp(path, &len);
    cr_expect_null(strstr(text, "windows"), "%s", text);
    cr_expect_not_null(strstr(text, "\"query\": {\n"), "%s", text);
    cr_expect_not_null(strstr(text, "\"type\": \"REDACTED\""), "%s", text);
    cr_expect_not_null(strstr(text, "\"hostname\": \"REDACTED\""), "%s", text);
    cr_expect_null(strstr(text, "ws-finance-01"), "%s", text);
    cr_expect_not_null(strstr(text, "Windows 11"), "%s", text); /* kept */
    free(text);
    cr_assert_eq(contract("lint", s.rec, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(contract("verify", s.rec, NULL, NULL, NULL, NULL), 0);
    stop_session(&s);
}

Test(record, replies_come_back_unchanged, .timeout = TEST_TIMEOUT(60))
{
    session s;
    http_res direct, via;
    start_session(&s, NULL, 0);
    tk_add_fixture(
        s.up,
        tk_fixture_json("custom", "11111111-2222-4333-8444-555555555555",
                        "\"response\":{\"status\":299,\"headers\":{\"X-"
                        "Custom\":\"a b\",\"Content-Type\":\"text/x-odd\"},"
                        "\"body_base64\":\"AAEC/w==\"}"));
    const char *const h[] = {"Authorization: Bearer " LIVE_KEY,
                             "X-Brainstorm-Command-Id: "
                             "11111111-2222-4333-8444-555555555555",
                             "Idempotency-Key: "
                             "11111111-2222-4333-8444-555555555555",
                             "Content-Type: application/json", NULL};
    const char *body = tk_body("msp.list_devices", "{}");
    tk_http("POST", tk_url(s.proxy, "/api/v1/god-mode/execute"), h, body,
            strlen(body), 10000, &via);
    cr_assert_eq(via.rc, CURLE_OK);
    cr_expect_eq(via.status, 299);
    cr_assert_eq(via.len, 4);
    cr_expect_eq(memcmp(via.body, "\x00\x01\x02\xff", 4), 0);
    char v[128];
    cr_expect_str_eq(tk_header(&via, "X-Custom", v, sizeof v), "a b");
    cr_expect_str_eq(tk_header(&via, "Content-Type", v, sizeof v),
                     "text/x-odd");
    tk_free(&via);
    /* GET with a query: forwarded, same answer as straight */
    tk_http("GET", tk_url(s.proxy, "/api/v1/god-mode/tools?x=1"), NULL, NULL, 0,
            10000, &via);
    tk_http("GET", tk_url(s.up, "/api/v1/god-mode/tools?x=1"), NULL, NULL, 0,
            10000, &direct);
    cr_expect_eq(via.status, 200);
    cr_expect_eq(via.len, direct.len);
    cr_expect_eq(memcmp(via.body, direct.body, via.len), 0);
    tk_free(&via);
    tk_free(&direct);
    /* the admin API stays the proxy's own */
    tk_http("GET", tk_url(s.proxy, "/__admin/requests"), NULL, NULL, 0, 10000,
            &via);
    cr_expect_eq(via.status, 200);
    cr_expect_not_null(strstr(via.body, "\"fixture\":\"list-devices-299\""),
                       "%s", via.body);
    cr_expect_null(strstr(via.body, LIVE_KEY));
    tk_free(&via);
    /* the binary reply is recorded as base64, and verifies */
    stop_proxy(&s);
    cr_assert_eq(contract("verify", s.rec, NULL, NULL, NULL, NULL), 0);
    stop_session(&s);
}

Test(record,
     unreachable_upstream_gets_502_naming_the_cause_and_nothing_recorded,
     .timeout = TEST_TIMEOUT(60))
{
    fake_msp_options o;
    fake_msp *dead, *proxy;
    char url[64], rec[300];
    http_res r;
    make_work();
    dead = tk_start(NULL);
    snprintf(url, sizeof url, "%s", fake_msp_url(dead));
    fake_msp_stop(dead); /* nothing listens there now */
    snprintf(rec, sizeof rec, "%s/rec", work);
    cr_assert_eq(mkdir(rec, 0700), 0);
    fake_msp_options_init(&o);
    o.proxy_url = url;
    o.record_dir = rec;
    proxy = tk_start(&o);
    tk_execute(proxy, LIVE_KEY, "22222222-3333-4444-8555-666666666666",
               tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 502, "BAD_GATEWAY", "connect");
    tk_free(&r);
    cr_expect_eq(count_fixtures(rec), 0);
    fake_msp_entry *e;
    size_t n;
    cr_assert_eq(fake_msp_journal_find(proxy, NULL, &e, &n), 0);
    cr_assert_eq(n, 1);
    cr_expect_eq(e[0].status, 502);
    cr_assert_eq(e[0].n_violations, 1);
    cr_expect_not_null(strstr(e[0].violations[0], "nothing recorded"), "%s",
                       e[0].violations[0]);
    fake_msp_entries_free(e, n);
    fake_msp_stop(proxy);
    rm_rf(work);
}

Test(record, upstream_breaking_mid_reply_gets_502_and_nothing_recorded,
     .timeout = TEST_TIMEOUT(60))
{
    fake_msp_options o;
    fake_msp *up, *proxy;
    char rec[300];
    http_res r;
    make_work();
    up = tk_start(NULL); /* faults over plain HTTP */
    tk_add_fixture(
        up, tk_fixture_json("broken", "33333333-4444-4555-8666-777777777777",
                            "\"response\":{\"status\":200,\"body\":{\"a\":1},"
                            "\"fault\":{\"kind\":\"reset_after_headers\"}}"));
    snprintf(rec, sizeof rec, "%s/rec", work);
    cr_assert_eq(mkdir(rec, 0700), 0);
    fake_msp_options_init(&o);
    o.proxy_url = fake_msp_url(up);
    o.record_dir = rec;
    proxy = tk_start(&o);
    tk_execute(proxy, LIVE_KEY, "33333333-4444-4555-8666-777777777777",
               tk_body("msp.list_devices", "{}"), &r);
    tk_assert_error(&r, 502, "BAD_GATEWAY", "failed");
    tk_free(&r);
    cr_expect_eq(count_fixtures(rec), 0);
    fake_msp_stop(proxy);
    fake_msp_stop(up);
    rm_rf(work);
}

typedef struct client_arg {
    const char *url;
    int id;
    int failures;
} client_arg;

#define CLIENTS    16
#define PER_CLIENT 3

static void *client(void *p)
{
    client_arg *a = p;
    msp_config cfg;
    msp_executor *ex;
    char err[256];
    msp_config_init(&cfg);
    cfg.base_url = a->url;
    cfg.api_key = LIVE_KEY;
    if (msp_executor_new(&cfg, &ex, err, sizeof err) != 0) {
        a->failures++;
        return NULL;
    }
    for (int i = 0; i < PER_CLIENT; i++) {
        char cid[40], params[80];
        snprintf(cid, sizeof cid, "%08x-0000-4000-8000-%012x", a->id, i);
        snprintf(params, sizeof params,
                 "{\"agent_id\":\"agent-%03d\",\"pid\":%d}", a->id, 1000 + i);
        msp_context ctx = {.command_id = cid,
                           .tool = "msp.process_kill",
                           .params_json = params,
                           .deadline_ms = 30000};
        for (int k = 0; k < (i == 0 ? 2 : 1); k++) { /* the first retried */
            msp_result res;
            msp_executor_execute(ex, &ctx, &res);
            a->failures += res.exit_code != 0;
            msp_result_free(&res);
        }
    }
    msp_executor_free(ex);
    return NULL;
}

Test(record, sixteen_concurrent_clients_record_one_fixture_per_exchange,
     .timeout = TEST_TIMEOUT(120))
{
    session s;
    pthread_t t[CLIENTS];
    client_arg a[CLIENTS];
    start_session(&s, NULL, 0);
    for (int i = 0; i < CLIENTS; i++) {
        a[i] = (client_arg){.url = fake_msp_url(s.proxy), .id = i + 1};
        cr_assert_eq(pthread_create(&t[i], NULL, client, &a[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(a[i].failures, 0);
    }
    stop_proxy(&s);
    cr_assert_eq(count_fixtures(s.rec), CLIENTS * PER_CLIENT);
    mspf_set *set = mspf_set_new();
    mspf_error err;
    memset(&err, 0, sizeof err);
    cr_assert_eq(mspf_set_load_dir(set, s.rec, &err), CLIENTS * PER_CLIENT,
                 "%s: %s: %s", err.file, err.path, err.reason);
    int sequences = 0;
    for (size_t i = 0; i < mspf_set_count(set); i++)
        sequences += mspf_set_get(set, i)->repeat == 2;
    cr_expect_eq(sequences, CLIENTS);
    mspf_set_free(set);
    cr_assert_eq(contract("lint", s.rec, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(contract("verify", s.rec, NULL, NULL, NULL, NULL), 0);
    stop_session(&s);
}

Test(record, recorded_directory_replays_through_fake_msp_contracts,
     .timeout = TEST_TIMEOUT(120))
{
    session s;
    fake_msp_options o;
    const char *dirs[1];
    start_session(&s, NULL, 0);
    record_session(&s);
    stop_proxy(&s);
    fake_msp_options_init(&o);
    dirs[0] = s.rec;
    o.contract_dirs = dirs;
    o.n_contract_dirs = 1;
    o.strict = 1;
    fake_msp *replay = tk_start(&o);
    /* the role's key (valid: sk-test) gets the recorded reply */
    cr_assert_eq(exec_call(fake_msp_url(replay), "sk-test", "msp.agent_health",
                           "{\"agent_id\":\"agent-001\"}", NULL, NULL),
                 0);
    cr_assert_eq(exec_call(fake_msp_url(replay), "sk-test", "msp.no_such_tool",
                           "{}", NULL, NULL),
                 127);
    fake_msp_entry *e;
    size_t n;
    cr_assert_eq(fake_msp_journal_find(replay, NULL, &e, &n), 0);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(e[0].fixture, "agent-health-200");
    cr_expect_str_eq(e[1].fixture, "no-such-tool-404");
    fake_msp_entries_free(e, n);
    fake_msp_stop(replay);
    stop_session(&s);
}

/* ---- the fixture index (fixtures.c) ----------------------------------- */

static const char *ix_fixture(const char *name, const char *cid_matcher,
                              const char *body_matcher, int status)
{
    static char buf[4096];
    static unsigned seq;
    seq++;
    snprintf(buf, sizeof buf,
             "{\"name\":\"%s\",\"description\":\"index\",\"exit_row\":14,"
             "\"context\":{\"command_id\":\"%08x-0000-4000-8000-000000000000\","
             "\"tool\":\"msp.process_kill\",\"params\":{}},"
             "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/"
             "execute\",\"headers\":{\"X-Brainstorm-Command-Id\":%s}%s%s},"
             "\"response\":{\"status\":%d,\"body\":{\"n\":\"%s\"}},"
             "\"expect\":{\"exit_code\":1}}",
             name, seq, cid_matcher, body_matcher ? ",\"body\":" : "",
             body_matcher ? body_matcher : "", status, name);
    return buf;
}

#define ANY_UUID "{\"regex\":\"^[0-9a-f-]{36}$\"}"

/* Fixtures nothing requests, so that the index (not the scan of a small
 * set) does the matching. */
static void add_fillers(fake_msp *fm)
{
    char name[32], id[64];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "filler-%02d", i);
        snprintf(id, sizeof id, "\"f111111%d-0000-4000-8000-000000000000\"",
                 i % 10);
        tk_add_fixture(fm, ix_fixture(name, i < 10 ? id : ANY_UUID,
                                      i < 10 ? NULL
                                             : "{\"tool\":\"msp.none\","
                                               "\"params\":{},"
                                               "\"simulate\":false}",
                                      299));
    }
}

Test(index, the_first_fixture_in_load_order_still_wins_across_keys)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    /* a catch-all first (the "rest" list), then a literal command id */
    tk_add_fixture(fm, ix_fixture("any", ANY_UUID, NULL, 201));
    tk_add_fixture(fm, ix_fixture("by-id",
                                  "\"44444444-5555-4666-8777-888888888888\"",
                                  NULL, 202));
    add_fillers(fm);
    tk_execute(fm, "sk-test", "44444444-5555-4666-8777-888888888888",
               tk_body("msp.process_kill", "{}"), &r);
    cr_expect_eq(r.status, 201);
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(index, params_match_whatever_the_member_order_and_number_spelling)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    tk_add_fixture(fm, ix_fixture("other", ANY_UUID,
                                  "{\"tool\":\"msp.process_kill\",\"params\":"
                                  "{\"agent_id\":\"a\",\"pid\":2},"
                                  "\"simulate\":false}",
                                  202));
    tk_add_fixture(fm, ix_fixture("kill", ANY_UUID,
                                  "{\"tool\":\"msp.process_kill\",\"params\":"
                                  "{\"agent_id\":\"a\",\"pid\":1},"
                                  "\"simulate\":false}",
                                  203));
    tk_add_fixture(fm, ix_fixture("typed", ANY_UUID,
                                  "{\"tool\":\"msp.agent_health\",\"params\":"
                                  "{\"agent_id\":{\"type\":\"x\"}},"
                                  "\"simulate\":false}",
                                  204));
    add_fillers(fm);
    tk_execute(fm, "sk-test", "55555555-5555-4666-8777-888888888888",
               tk_body("msp.process_kill", "{\"pid\":1.0,\"agent_id\":\"a\"}"),
               &r);
    cr_expect_eq(r.status, 203, "%s", r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "66666666-5555-4666-8777-888888888888",
               tk_body("msp.agent_health", "{\"agent_id\":\"agent-9\"}"), &r);
    cr_expect_eq(r.status, 204, "a params matcher: keyed by tool alone");
    tk_free(&r);
    tk_execute(fm, "sk-test", "77777777-5555-4666-8777-888888888888",
               tk_body("msp.process_kill", "{\"pid\":3,\"agent_id\":\"a\"}"),
               &r);
    cr_expect_eq(r.status, 200, "no fixture: the realistic MSP answers");
    tk_free(&r);
    fake_msp_stop(fm);
}

Test(index, thousands_of_fixtures_each_request_finds_its_own,
     .timeout = TEST_TIMEOUT(60))
{
    fake_msp_options o;
    fake_msp_options_init(&o);
    o.max_fixtures = 3000;
    fake_msp *fm = tk_start(&o);
    char name[32], body[256];
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof name, "f%04d", i);
        snprintf(body, sizeof body,
                 "{\"tool\":\"msp.process_kill\",\"params\":{\"agent_id\":"
                 "\"a\",\"pid\":%d},\"simulate\":false}",
                 i);
        tk_add_fixture(fm, ix_fixture(name, ANY_UUID, body, 200 + i % 50));
    }
    for (int i = 0; i < 3000; i += 299) {
        http_res r;
        char params[64], want[32];
        snprintf(params, sizeof params, "{\"agent_id\":\"a\",\"pid\":%d}", i);
        tk_execute(fm, "sk-test", "88888888-5555-4666-8777-888888888888",
                   tk_body("msp.process_kill", params), &r);
        cr_expect_eq(r.status, 200 + i % 50);
        snprintf(want, sizeof want, "\"f%04d\"", i);
        cr_expect_not_null(strstr(r.body, want), "%s", r.body);
        tk_free(&r);
    }
    fake_msp_stop(fm);
}

Test(record, stop_is_prompt_while_the_upstream_hangs,
     .timeout = TEST_TIMEOUT(30))
{
    fake_msp_options o;
    fake_msp *up = tk_start(NULL), *proxy;
    tk_add_fixture(
        up, tk_fixture_json("hang", "99999999-4444-4555-8666-777777777777",
                            "\"response\":{\"fault\":{\"kind\":\"hang\"}}"));
    fake_msp_options_init(&o);
    o.proxy_url = fake_msp_url(up);
    proxy = tk_start(&o);
    int fd = tk_connect(proxy);
    char req[1024];
    const char *body = tk_body("msp.list_devices", "{}");
    int n = snprintf(req, sizeof req,
                     "POST /api/v1/god-mode/execute HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer sk-test\r\n"
                     "X-Brainstorm-Command-Id: "
                     "99999999-4444-4555-8666-777777777777\r\n"
                     "Idempotency-Key: 99999999-4444-4555-8666-777777777777\r\n"
                     "Content-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    cr_assert_eq(write(fd, req, (size_t)n), n);
    cr_assert_eq(fake_msp_wait_suspended(up, 1, test_ms(5000)), 0,
                 "the request reached the upstream, which hangs");
    long long t0 = tk_now_ms();
    fake_msp_stop(proxy);
    long long ms = tk_now_ms() - t0;
    /* a stop that waits for the exchange in flight waits for the 30 s
     * upstream timeout (the upstream hangs until it is stopped itself) */
    cr_expect_lt(ms, test_ms(5000), "stop took %lld ms", ms);
    close(fd);
    fake_msp_stop(up);
}

Test(index, a_removed_fixture_leaves_the_others_found)
{
    fake_msp *fm = tk_start(NULL);
    http_res r;
    add_fillers(fm);
    tk_add_fixture(fm, ix_fixture("kept", ANY_UUID,
                                  "{\"tool\":\"msp.process_kill\",\"params\":"
                                  "{\"agent_id\":\"k\",\"pid\":7},"
                                  "\"simulate\":false}",
                                  207));
    /* removing an earlier fixture shifts every later one */
    tk_http("DELETE", tk_url(fm, "/__admin/fixtures/filler-03"), NULL, NULL, 0,
            5000, &r);
    cr_assert_eq(r.status / 100, 2, "%ld %s", r.status, r.body);
    tk_free(&r);
    tk_execute(fm, "sk-test", "12121212-5555-4666-8777-888888888888",
               tk_body("msp.process_kill", "{\"agent_id\":\"k\",\"pid\":7}"),
               &r);
    cr_expect_eq(r.status, 207, "%s", r.body);
    tk_free(&r);
    fake_msp_stop(fm);
}

/* Issue 19, finding 9: a reply's numbers as written ("20.0", not 20), the
 * Content-Type as sent, and lint, verify and provider accept the file. */
Test(record, a_number_written_20_0_is_recorded_and_replayed_as_written,
     .timeout = TEST_TIMEOUT(120))
{
    session s;
    char path[600];
    size_t len;
    start_session(&s, NULL, 0);
    tk_add_fixture(
        s.up,
        "{\"name\":\"upstream-20\",\"description\":\"a number as written\","
        "\"exit_row\":6,\"context\":{\"command_id\":"
        "\"9a9b9c9d-0000-4000-8000-000000000020\",\"tool\":"
        "\"msp.agent_health\",\"params\":{\"agent_id\":\"agent-20\"}},"
        "\"request\":{\"method\":\"POST\",\"path\":\"/api/v1/god-mode/"
        "execute\",\"body\":{\"tool\":\"msp.agent_health\",\"params\":{"
        "\"agent_id\":\"agent-20\"},\"simulate\":false}},\"response\":{"
        "\"status\":200,\"headers\":{\"Content-Type\":\"application/json\"},"
        "\"body_text\":\"{\\\"success\\\":true,\\\"data\\\":{"
        "\\\"memory_percent\\\":20.0}}\"},\"expect\":{\"exit_code\":0}}");
    cr_assert_eq(exec_call(fake_msp_url(s.proxy), LIVE_KEY, "msp.agent_health",
                           "{\"agent_id\":\"agent-20\"}", NULL, NULL),
                 0);
    stop_proxy(&s);
    cr_assert_eq(count_fixtures(s.rec), 1);
    snprintf(path, sizeof path, "%s/agent-health-200.json", s.rec);
    char *text = slurp(path, &len);
    cr_expect_not_null(strstr(text, "\\\"memory_percent\\\":20.0}"), "%s",
                       text);
    cr_expect_not_null(strstr(text, "\"Content-Type\": \"application/json\""),
                       "%s", text);
    cr_expect_null(strstr(text, "regex\": \"^application/json"), "%s", text);
    free(text);
    cr_assert_eq(contract("lint", s.rec, NULL, NULL, NULL, NULL), 0);
    cr_assert_eq(contract("verify", s.rec, NULL, NULL, NULL, NULL), 0);
    {
        const char *argv[] = {bin("msp-contract"),
                              "provider",
                              "--contracts",
                              s.rec,
                              "--base-url",
                              fake_msp_url(s.up),
                              "--ca-file",
                              s.tls.ca_pem,
                              "--api-key-file",
                              key_file(LIVE_KEY),
                              NULL};
        spawn_result r;
        cr_assert_eq(spawn_run(argv, 60000, &r), 0);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        spawn_result_free(&r);
    }
    stop_session(&s);
}
