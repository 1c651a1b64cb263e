/* The recorder's rules (record.c, rec_fixture.c, rec_write.c): which
 * exchanges it refuses and why, which --redact paths it takes and what a
 * redacted value becomes, how a reply is kept (roles, base64, whitespace,
 * empty bodies, NUL in tool output, repeated headers), how fixtures are
 * named and pinned, and what a write failure says. Exchanges are handed to
 * fm_rec_exchange as the proxy hands them; fixtures are read back from a
 * fresh directory. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contracts/fixture.h"
#include "fm_testkit.h"
#include "record.h"
#include "test_timeout.h"

#define KEY "sk-live-5d1c7b9e20"
#define CID "7d3e2c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"

static char dir[256];

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/fm-recrules-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown_dir(void)
{
    char cmd[400];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(recorder_rules, .init = setup_dir, .fini = teardown_dir,
          .timeout = TEST_TIMEOUT(30));

static fm_recorder *recorder(const char *const *redact, size_t n)
{
    char err[512];
    fm_recorder *r = fm_rec_new(dir, redact, n, err, sizeof err);

    cr_assert_not_null(r, "%s", err);
    return r;
}

/* One exchange. Fields left 0/NULL take the executor's defaults: POST to
 * execute, KEY, CID in both id headers, application/json, status 200, a
 * JSON reply. */
typedef struct xchg {
    const char *method, *path, *auth, *cid, *ikey, *ctype, *corr;
    const char *req_body;
    long status;
    const char *rh[4][2]; /* reply headers besides Content-Type */
    const char *resp_body;
    size_t resp_len; /* 0: strlen(resp_body) */
} xchg;

static const char *const default_req =
    "{\"tool\":\"msp.agent_health\",\"params\":{\"agent_id\":\"a-1\"},"
    "\"simulate\":false}";
static const char *const default_resp =
    "{\"exit_code\":0,\"stdout\":\"ok\",\"stderr\":\"\"}";

/* Hands x to the recorder and flushes what it staged; returns
 * fm_rec_exchange's result, the fixture's name in name, why in why. */
static int record(fm_recorder *rec, const xchg *in, char name[256],
                  char why[600])
{
    char auth[700];
    mspf_header req[8], resp[6];
    size_t nreq = 0, nresp = 0, i;
    fm_rec_pending *pending = NULL;
    fm_exchange x;
    char fwhy[600];
    int rc;

    snprintf(auth, sizeof auth, "Bearer %s", KEY);
    req[nreq++] =
        (mspf_header){"Authorization", (char *)(in->auth ? in->auth : auth)};
    req[nreq++] = (mspf_header){"X-Brainstorm-Command-Id",
                                (char *)(in->cid ? in->cid : CID)};
    req[nreq++] = (mspf_header){"Idempotency-Key", (char *)(in->ikey  ? in->ikey
                                                            : in->cid ? in->cid
                                                                      : CID)};
    req[nreq++] = (mspf_header){
        "Content-Type", (char *)(in->ctype ? in->ctype : "application/json")};
    if (in->corr)
        req[nreq++] = (mspf_header){"X-Correlation-Id", (char *)in->corr};
    resp[nresp++] = (mspf_header){"Content-Type", "application/json"};
    for (i = 0; i < 4 && in->rh[i][0]; i++)
        resp[nresp++] =
            (mspf_header){(char *)in->rh[i][0], (char *)in->rh[i][1]};
    memset(&x, 0, sizeof x);
    x.method = in->method ? in->method : "POST";
    x.path = in->path ? in->path : "/api/v1/god-mode/execute";
    x.req_headers = req;
    x.n_req_headers = nreq;
    x.req_body =
        (const unsigned char *)(in->req_body ? in->req_body : default_req);
    x.req_body_len = strlen((const char *)x.req_body);
    x.status = in->status ? in->status : 200;
    x.resp_headers = resp;
    x.n_resp_headers = nresp;
    x.resp_body =
        (const unsigned char *)(in->resp_body ? in->resp_body : default_resp);
    x.resp_body_len =
        in->resp_len ? in->resp_len : strlen((const char *)x.resp_body);
    rc = fm_rec_exchange(rec, &x, name, 256, &pending, why, 600);
    cr_assert_eq(fm_rec_flush(rec, pending, fwhy, sizeof fwhy), 0, "%s", fwhy);
    return rc;
}

static cJSON *fixture_doc(const char *name)
{
    char path[600];
    FILE *f;
    long n;
    char *p;
    cJSON *doc;
    mspf_fixture *fx = NULL;
    mspf_error err;

    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    memset(&err, 0, sizeof err);
    cr_assert_eq(mspf_fixture_parse(p, (size_t)n, name, &fx, &err), 0,
                 "the fixture model refuses %s: %s: %s", name, err.path,
                 err.reason);
    mspf_fixture_free(fx);
    doc = cJSON_Parse(p);
    free(p);
    cr_assert_not_null(doc);
    return doc;
}

/* The node at a dotted path of members ("response.body.a"). */
static cJSON *at(cJSON *doc, const char *path)
{
    char buf[256], *save = NULL, *tok;

    snprintf(buf, sizeof buf, "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && doc;
         tok = strtok_r(NULL, ".", &save))
        doc = cJSON_GetObjectItemCaseSensitive(doc, tok);
    return doc;
}

static int files_in_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    cr_assert_not_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- what is not recorded ------------------------------------------------ */

Test(recorder_rules, exchanges_an_executor_could_not_have_sent_are_refused)
{
    static const struct {
        xchg x;
        const char *why;
    } cases[] = {
        {{.method = "GET"}, "not an execute request"},
        {{.path = "/api/v1/other"}, "not an execute request"},
        {{.auth = "Basic dXNlcjpwYXNzd29yZA=="}, "no bearer credential"},
        {{.auth = "Bearer "}, "no bearer credential"},
        {{.ikey = "8d3e2c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"},
         "X-Brainstorm-Command-Id and Idempotency-Key"},
        {{.cid = "", .ikey = ""},
         "X-Brainstorm-Command-Id and Idempotency-Key"},
        {{.status = 99}, "status 99 out of range"},
        {{.status = 600}, "status 600 out of range"},
        {{.corr = "corr\r\nX-Injected: 1"},
         "request header X-Correlation-Id holds CR, LF"},
        {{.rh = {{"X-Trace", "a\nb"}}}, "a reply header holds CR, LF"},
        {{.rh = {{"X-Bad-\xff", "v"}}}, "a reply header holds CR, LF"},
        {{.ctype = "text/plain"}, "Content-Type is not application/json"},
        {{.req_body = "{\"tool\":\"\",\"params\":{}}"},
         "the body is not {\"tool\", \"params\", ...}"},
        {{.req_body = "{\"tool\":\"msp.x\",\"params\":[]}"},
         "the body is not {\"tool\", \"params\", ...}"},
        {{.req_body = "not json"}, "the body is not {\"tool\", \"params\""},
    };
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_expect_eq(record(rec, &cases[i].x, name, why), 1, "case %zu: %s", i,
                     why);
        cr_expect(strstr(why, cases[i].why) != NULL, "case %zu: %s", i, why);
        cr_expect_eq(name[0], '\0', "case %zu named %s", i, name);
    }
    cr_expect_eq(files_in_dir(), 0);
    fm_rec_free(rec);
}

Test(recorder_rules, a_credential_over_512_bytes_is_never_recorded)
{
    char auth[700];
    xchg x = {0};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];

    memcpy(auth, "Bearer ", 7);
    memset(auth + 7, 'k', 600);
    auth[607] = '\0';
    x.auth = auth;
    cr_expect_eq(record(rec, &x, name, why), 1, "%s", why);
    cr_expect(strstr(why, "over 512 bytes is never recorded") != NULL, "%s",
              why);
    cr_expect_eq(files_in_dir(), 0);
    fm_rec_free(rec);
}

Test(recorder_rules, a_recorder_needs_a_writable_directory)
{
    char err[512] = "", file[300];
    FILE *f;

    snprintf(file, sizeof file, "%s/plain-file", dir);
    f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_expect_null(fm_rec_new(file, NULL, 0, err, sizeof err));
    cr_expect(strstr(err, "not a writable directory") != NULL, "%s", err);
    cr_expect_null(fm_rec_new("/nonexistent/fm-rec", NULL, 0, err, sizeof err));
    cr_expect(strstr(err, "/nonexistent/fm-rec: not a writable directory") !=
                  NULL,
              "%s", err);
}

/* ---- --redact ------------------------------------------------------------ */

Test(recorder_rules, a_redact_path_that_names_no_value_is_refused_naming_it)
{
    static const char *const bad[] = {"params.token",
                                      "request.",
                                      "request.a..b",
                                      "request.a.",
                                      "request.a.[0]",
                                      "request.a[",
                                      "request.a[-1]",
                                      "request.a[x]",
                                      "response.list[2",
                                      "$.headers.secret",
                                      ""};
    char err[512];
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *one[] = {bad[i]};
        err[0] = '\0';
        cr_expect_null(fm_rec_new(dir, one, 1, err, sizeof err), "%s", bad[i]);
        cr_expect(strstr(err, "want request.PATH or response.PATH") != NULL,
                  "%s: %s", bad[i], err);
        if (bad[i][0])
            cr_expect(strstr(err, bad[i]) != NULL, "%s: %s", bad[i], err);
    }
}

Test(recorder_rules, at_most_64_redact_paths_are_taken)
{
    const char *paths[65];
    char err[512] = "";
    size_t i;
    fm_recorder *rec;

    for (i = 0; i < 65; i++)
        paths[i] = "request.params.x";
    cr_expect_null(fm_rec_new(dir, paths, 65, err, sizeof err));
    cr_expect(strstr(err, "at most 64 --redact paths") != NULL, "%s", err);
    rec = fm_rec_new(dir, paths, 64, err, sizeof err);
    cr_expect_not_null(rec, "%s", err);
    fm_rec_free(rec);
}

Test(recorder_rules, a_redacted_value_keeps_its_json_type)
{
    const char *redact[] = {
        "$.request.params.n",      "request.params.b",
        "request.params.o",        "request.params.a",
        "request.params.z",        "request.params.s.deeper",
        "request.params.gone",     "request.params.l[*]",
        "response.rows[*].token",  "response.list[1]",
        "response.rows[0].missing"};
    xchg x = {0};
    fm_recorder *rec = recorder(redact, sizeof redact / sizeof redact[0]);
    char name[256], why[600];
    cJSON *doc, *n;

    x.req_body =
        "{\"tool\":\"msp.agent_health\",\"params\":{\"n\":42,\"b\":true,"
        "\"o\":{\"k\":\"v\"},\"a\":[1,2],\"z\":null,\"s\":\"str\","
        "\"l\":[\"p\",7]},\"simulate\":false}";
    x.resp_body = "{\"exit_code\":0,\"stdout\":\"ok\",\"stderr\":\"\","
                  "\"rows\":[{\"token\":\"t-1\"},{\"token\":9}],"
                  "\"list\":[\"keep\",\"drop\",\"keep\"]}";
    cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    doc = fixture_doc(name);
    /* the context (what the executor is asked to send) */
    n = at(doc, "context.params");
    cr_expect_eq(cJSON_GetObjectItem(n, "n")->valuedouble, 0);
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItem(n, "b")));
    cr_expect(cJSON_IsObject(cJSON_GetObjectItem(n, "o")));
    cr_expect_null(cJSON_GetObjectItem(n, "o")->child);
    cr_expect(cJSON_IsArray(cJSON_GetObjectItem(n, "a")));
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(n, "a")), 0);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItem(n, "z")));
    cr_expect_str_eq(cJSON_GetObjectItem(n, "s")->valuestring, "str",
                     "a path through a string leaves it");
    cr_expect_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(n, "l"), 0)->valuestring,
        "REDACTED");
    cr_expect_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(n, "l"), 1)->valuedouble, 0);
    /* the request matcher: the value's type */
    n = at(doc, "request.body.params");
    cr_expect_eq(at(n, "n.type")->valuedouble, 0);
    cr_expect(cJSON_IsFalse(at(n, "b.type")));
    cr_expect_str_eq(
        at(cJSON_GetArrayItem(cJSON_GetObjectItem(n, "l"), 0), "type")
            ->valuestring,
        "REDACTED");
    /* the reply */
    n = at(doc, "response.body");
    cr_expect_str_eq(
        at(cJSON_GetArrayItem(cJSON_GetObjectItem(n, "rows"), 0), "token")
            ->valuestring,
        "REDACTED");
    cr_expect_eq(
        at(cJSON_GetArrayItem(cJSON_GetObjectItem(n, "rows"), 1), "token")
            ->valuedouble,
        0);
    cr_expect_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(n, "list"), 0)->valuestring,
        "keep");
    cr_expect_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(n, "list"), 1)->valuestring,
        "REDACTED");
    cr_expect_str_eq(
        cJSON_GetArrayItem(cJSON_GetObjectItem(n, "list"), 2)->valuestring,
        "keep");
    cJSON_Delete(doc);
    fm_rec_free(rec);
}

/* ---- how a reply is kept ------------------------------------------------- */

Test(recorder_rules, the_reply_status_picks_the_credential_role)
{
    static const struct {
        long status;
        const char *body, *role, *key;
    } cases[] = {
        {401,
         "{\"success\":false,\"error\":{\"code\":\"UNAUTHORIZED\","
         "\"message\":\"no\"}}",
         "invalid", NULL},
        {403,
         "{\"success\":false,\"error\":{\"code\":\"TENANT_MISMATCH\","
         "\"message\":\"no\"}}",
         "other_tenant", NULL},
        {403,
         "{\"success\":false,\"error\":{\"code\":\"FORBIDDEN\","
         "\"message\":\"no\"}}",
         "read_only", NULL},
    };
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xchg x = {0};
        cJSON *doc;
        const char *auth;
        char cid[40];
        snprintf(cid, sizeof cid, "7d3e2c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6%zu", i);
        x.cid = cid;
        x.status = cases[i].status;
        x.resp_body = cases[i].body;
        cr_assert_eq(record(rec, &x, name, why), 0, "case %zu: %s", i, why);
        doc = fixture_doc(name);
        cr_expect_str_eq(at(doc, "executor.credential")->valuestring,
                         cases[i].role, "case %zu", i);
        auth = at(doc, "request.headers.Authorization")->valuestring;
        cr_expect(strncmp(auth, "Bearer ", 7) == 0, "%s", auth);
        cr_expect_null(strstr(auth, KEY), "the live key is in %s", name);
        cJSON_Delete(doc);
    }
    fm_rec_free(rec);
}

Test(recorder_rules, a_binary_reply_is_kept_as_base64_with_its_padding)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *b64;
    } cases[] = {
        {"\xff", 1, "/w=="},
        {"\xff\xfe", 2, "//4="},
        {"\xff\xfe\xfd", 3, "//79"},
        {"a\0b\xfe", 4, "YQBi/g=="},
    };
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xchg x = {0};
        cJSON *doc;
        char cid[40];
        snprintf(cid, sizeof cid, "6d3e2c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6%zu", i);
        x.cid = cid;
        x.resp_body = cases[i].bytes;
        x.resp_len = cases[i].len;
        cr_assert_eq(record(rec, &x, name, why), 0, "case %zu: %s", i, why);
        doc = fixture_doc(name);
        cr_expect_str_eq(at(doc, "response.body_base64")->valuestring,
                         cases[i].b64, "case %zu", i);
        cJSON_Delete(doc);
    }
    fm_rec_free(rec);
}

Test(recorder_rules, a_json_reply_with_trailing_whitespace_is_kept_as_written)
{
    xchg x = {0};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    cJSON *doc;

    x.resp_body = "{\"exit_code\":0,\"stdout\":\"ok\",\"stderr\":\"\"} \r\n";
    cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    doc = fixture_doc(name);
    cr_expect_str_eq(
        at(doc, "response.body_text")->valuestring,
        "{\"exit_code\":0,\"stdout\":\"ok\",\"stderr\":\"\"} \r\n");
    cJSON_Delete(doc);
    fm_rec_free(rec);
}

Test(recorder_rules, an_empty_reply_is_recorded_without_a_body)
{
    xchg x = {0};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    cJSON *doc;

    x.status = 204;
    x.resp_body = "";
    cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    cr_expect_str_eq(name, "agent-health-204");
    doc = fixture_doc(name);
    cr_expect_eq(at(doc, "response.status")->valuedouble, 204);
    cr_expect_null(at(doc, "response.body"));
    cr_expect_null(at(doc, "response.body_text"));
    cr_expect_null(at(doc, "response.body_base64"));
    cJSON_Delete(doc);
    fm_rec_free(rec);
}

Test(recorder_rules, tool_output_holding_a_nul_is_expected_by_type)
{
    xchg x = {0};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    cJSON *doc;

    x.resp_body =
        "{\"exit_code\":0,\"stdout\":\"a\\u0000b\",\"stderr\":\"e\\u0000\"}";
    cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    doc = fixture_doc(name);
    cr_expect(cJSON_IsObject(at(doc, "expect.stdout")),
              "stdout with a NUL cannot be a string matcher");
    cr_expect_str_eq(at(doc, "expect.stdout.type")->valuestring, "");
    cr_expect_str_eq(at(doc, "expect.stderr.type")->valuestring, "");
    cJSON_Delete(doc);
    fm_rec_free(rec);
}

Test(recorder_rules, the_first_of_repeated_reply_headers_is_pinned)
{
    xchg x = {0};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    cJSON *doc;

    x.rh[0][0] = "X-Trace";
    x.rh[0][1] = "first";
    x.rh[1][0] = "x-trace";
    x.rh[1][1] = "second";
    x.rh[2][0] = "Date";
    x.rh[2][1] = "Tue, 08 Dec 2026 02:00:00 GMT";
    cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    doc = fixture_doc(name);
    cr_expect_str_eq(at(doc, "response.headers.X-Trace")->valuestring, "first");
    cr_expect_null(at(doc, "response.headers.Date"), "per-message header");
    cJSON_Delete(doc);
    fm_rec_free(rec);
}

/* ---- names, ids, keys, writes -------------------------------------------- */

Test(recorder_rules, an_existing_fixture_file_is_never_overwritten)
{
    char path[600], text[64] = "";
    FILE *f;
    xchg x = {0};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];

    snprintf(path, sizeof path, "%s/agent-health-200.json", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("left by an earlier run\n", f);
    fclose(f);
    cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    cr_expect_str_eq(name, "agent-health-200-2");
    f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_not_null(fgets(text, sizeof text, f));
    fclose(f);
    cr_expect_str_eq(text, "left by an earlier run\n");
    fm_rec_free(rec);
}

Test(recorder_rules, a_tool_name_becomes_a_lower_case_dashed_file_name)
{
    xchg x = {0};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    cJSON *doc;

    x.req_body = "{\"tool\":\"msp.Agent__Health!!\",\"params\":{},"
                 "\"simulate\":false}";
    cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    cr_expect_str_eq(name, "agent-health-200");
    doc = fixture_doc(name);
    cr_expect_str_eq(at(doc, "context.tool")->valuestring,
                     "msp.Agent__Health!!");
    cJSON_Delete(doc);
    fm_rec_free(rec);
}

Test(recorder_rules,
     a_command_id_that_is_not_a_lower_case_uuid_is_matched_as_is)
{
    static const char *const ids[] = {"CMD-42",
                                      "7D3E2C1B-6A5F-4E3D-8C2B-1A0F9E8D7C6B",
                                      "7d3e2c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6g"};
    fm_recorder *rec = recorder(NULL, 0);
    char name[256], why[600];
    size_t i;
    cJSON *doc, *m;

    /* each its own params: two fixtures told apart by the id alone would
     * pin it anyway */
    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        xchg x = {0};
        char body[200];
        snprintf(body, sizeof body,
                 "{\"tool\":\"msp.agent_health\",\"params\":{\"agent_id\":"
                 "\"id-%zu\"},\"simulate\":false}",
                 i);
        x.cid = ids[i];
        x.req_body = body;
        cr_assert_eq(record(rec, &x, name, why), 0, "%s: %s", ids[i], why);
        doc = fixture_doc(name);
        m = at(doc, "request.headers.X-Brainstorm-Command-Id");
        cr_expect(cJSON_IsString(m), "%s: a literal matcher", ids[i]);
        if (cJSON_IsString(m))
            cr_expect_str_eq(m->valuestring, ids[i]);
        cJSON_Delete(doc);
    }
    /* a lower-case UUID: any UUID matches */
    {
        xchg x = {0};
        cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
        doc = fixture_doc(name);
        m = at(doc, "request.headers.X-Brainstorm-Command-Id");
        cr_expect(cJSON_IsString(cJSON_GetObjectItem(m, "regex")));
        cJSON_Delete(doc);
    }
    fm_rec_free(rec);
}

Test(recorder_rules, the_newest_16_keys_stay_scrubbed_after_20_were_seen)
{
    fm_recorder *rec = recorder(NULL, 0);
    char keys[20][40], auth[64], body[2048], name[256], why[600];
    cJSON *doc;
    char *text;
    size_t i, k = 0;

    for (i = 0; i < 20; i++) {
        xchg x = {0};
        char cid[40];
        snprintf(keys[i], sizeof keys[i], "sk-rot-%02zu-9a8b7c6d5e", i);
        snprintf(auth, sizeof auth, "Bearer %s", keys[i]);
        snprintf(cid, sizeof cid, "5d3e2c1b-6a5f-4e3d-8c2b-1a0f9e8d7c%02zu", i);
        x.auth = auth;
        x.cid = cid;
        cr_assert_eq(record(rec, &x, name, why), 0, "key %zu: %s", i, why);
    }
    /* a reply naming the newest 16 keys, to the newest one */
    k += (size_t)snprintf(body + k, sizeof body - k,
                          "{\"exit_code\":0,\"stdout\":\"");
    for (i = 4; i < 20; i++)
        k += (size_t)snprintf(body + k, sizeof body - k, "%s ", keys[i]);
    snprintf(body + k, sizeof body - k, "\",\"stderr\":\"\"}");
    {
        xchg x = {0};
        x.auth = auth;
        x.cid = "4d3e2c1b-6a5f-4e3d-8c2b-1a0f9e8d7c6b";
        x.resp_body = body;
        cr_assert_eq(record(rec, &x, name, why), 0, "%s", why);
    }
    doc = fixture_doc(name);
    text = cJSON_PrintUnformatted(doc);
    for (i = 4; i < 20; i++)
        cr_expect_null(strstr(text, keys[i]), "key %zu written: %s", i, text);
    free(text);
    cJSON_Delete(doc);
    fm_rec_free(rec);
}

Test(recorder_rules,
     a_fixture_that_cannot_be_written_fails_the_flush_saying_why)
{
    fm_recorder *rec = recorder(NULL, 0);
    fm_rec_pending *pending = NULL;
    mspf_header req[4], resp[1];
    fm_exchange x;
    char name[256], why[600], auth[64], cmd[400];

    snprintf(auth, sizeof auth, "Bearer %s", KEY);
    req[0] = (mspf_header){"Authorization", auth};
    req[1] = (mspf_header){"X-Brainstorm-Command-Id", CID};
    req[2] = (mspf_header){"Idempotency-Key", CID};
    req[3] = (mspf_header){"Content-Type", "application/json"};
    resp[0] = (mspf_header){"Content-Type", "application/json"};
    memset(&x, 0, sizeof x);
    x.method = "POST";
    x.path = "/api/v1/god-mode/execute";
    x.req_headers = req;
    x.n_req_headers = 4;
    x.req_body = (const unsigned char *)default_req;
    x.req_body_len = strlen(default_req);
    x.status = 200;
    x.resp_headers = resp;
    x.n_resp_headers = 1;
    x.resp_body = (const unsigned char *)default_resp;
    x.resp_body_len = strlen(default_resp);
    cr_assert_eq(
        fm_rec_exchange(rec, &x, name, sizeof name, &pending, why, sizeof why),
        0, "%s", why);
    cr_assert_not_null(pending);
    /* the directory goes away between staging and writing */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    cr_expect_eq(fm_rec_flush(rec, pending, why, sizeof why), -1);
    cr_expect(strstr(why, "cannot create") != NULL, "%s", why);
    cr_expect(strstr(why, dir) != NULL, "%s", why);
    cr_assert_eq(mkdir(dir, 0700), 0); /* for the suite's teardown */
    fm_rec_free(rec);
}
