/* msp-contract diff, driven from outside: change pairs made from copies of
 * the bundled fixtures, each with the classification it must get; the
 * property that a change classified "neither" lets an executor (msp-exec)
 * and an MSP (fake-msp) that passed OLD pass NEW; git:REV:PATH; the
 * outputs and exit statuses. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include "test_timeout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <fake_msp/fake_msp.h>

#include "run_tool.h"

#include "test_tmpdir.h"

TestSuite(diff, .init = make_tmpdir_keyless, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(120));

/* ---- files ------------------------------------------------------------ */

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    cr_assert_not_null(fp, "cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static cJSON *load_bundled(const char *name)
{
    char rel[300], path[700];
    snprintf(rel, sizeof rel, "contracts/fixtures/%s.json", name);
    char *text = slurp(src_path(rel, path, sizeof path));
    cJSON *doc = cJSON_Parse(text);
    cr_assert_not_null(doc, "%s does not parse", name);
    free(text);
    return doc;
}

static void save(const char *dir, const char *name, const cJSON *doc)
{
    char *text = cJSON_Print(doc);
    char file[400];
    snprintf(file, sizeof file, "%s.json", name);
    cr_assert_eq(write_file(dir, file, text), 0);
    cJSON_free(text);
}

static void make_dir(char *buf, size_t len, const char *leaf)
{
    snprintf(buf, len, "%s/%s", tmpdir, leaf);
    cr_assert_eq(mkdir(buf, 0700), 0, "mkdir %s", buf);
}

/* The node at a '/'-separated path (array indexes as numbers); with
 * `parent`, the parent of it and *last its last segment. */
static cJSON *at(cJSON *doc, const char *path, int parent, char *last,
                 size_t lastlen)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *cur = doc;
    char *save_ptr = NULL, *seg = strtok_r(buf, "/", &save_ptr);
    while (seg) {
        char *next = strtok_r(NULL, "/", &save_ptr);
        if (!next && parent) {
            snprintf(last, lastlen, "%s", seg);
            return cur;
        }
        cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, atoi(seg))
                                 : cJSON_GetObjectItemCaseSensitive(cur, seg);
        cr_assert_not_null(cur, "no %s in %s", seg, path);
        seg = next;
    }
    return cur;
}

static void set_at(cJSON *doc, const char *path, const char *json)
{
    char last[200];
    cJSON *parent = at(doc, path, 1, last, sizeof last);
    cJSON *v = cJSON_Parse(json);
    cr_assert_not_null(v, "bad test value %s", json);
    if (cJSON_IsArray(parent))
        cr_assert(cJSON_ReplaceItemInArray(parent, atoi(last), v));
    else if (cJSON_GetObjectItemCaseSensitive(parent, last))
        cr_assert(cJSON_ReplaceItemInObjectCaseSensitive(parent, last, v));
    else
        cJSON_AddItemToObject(parent, last, v);
}

static void del_at(cJSON *doc, const char *path)
{
    char last[200];
    cJSON *parent = at(doc, path, 1, last, sizeof last);
    if (cJSON_IsArray(parent))
        cJSON_DeleteItemFromArray(parent, atoi(last));
    else
        cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
}

/* ---- running ------------------------------------------------------------ */

static spawned run(const char *const *args)
{
    char exe[512];
    char *argv[24];
    int n = 0;
    argv[n++] = (char *)bin_path("msp-contract", exe, sizeof exe);
    for (size_t i = 0; args[i] && n < 23; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    spawned r;
    cr_assert_eq(spawn_capture(argv, 60000, &r), 0);
    return r;
}

static cJSON *diff_json(const char *old_dir, const char *new_dir, int *status)
{
    const char *args[] = {"diff", old_dir, new_dir, "--json", NULL};
    spawned r = run(args);
    cJSON *doc = cJSON_Parse(r.out);
    cr_assert_not_null(doc, "not JSON: %s %s", r.out, r.err);
    *status = r.status;
    spawned_free(&r);
    return doc;
}

/* The change of `fixture` at `path`, or NULL. */
static const cJSON *change_at(const cJSON *doc, const char *fixture,
                              const char *path)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "changes"))
    {
        if (strcmp(cJSON_GetObjectItem(c, "fixture")->valuestring, fixture) ==
                0 &&
            strcmp(cJSON_GetObjectItem(c, "path")->valuestring, path) == 0)
            return c;
    }
    return NULL;
}

/* ---- change pairs ------------------------------------------------------- */

enum op {
    SET,
    DEL,
    RENAME,
    ADD,
    REMOVE
};

typedef struct pair {
    const char *fixture; /* the bundled fixture copied to OLD and NEW */
    enum op op;
    const char *where; /* SET/DEL: '/'-path; RENAME/ADD: the new name */
    const char *value; /* SET: JSON */
    const char *path;  /* the change expected, as reported */
    const char *severity;
} pair;

static const pair pairs[] = {
    /* executors: the same context and reply expect another result */
    {"auth-401", SET, "expect/exit_code", "1", "$.expect.exit_code",
     "executors"},
    {"happy-process-kill", SET, "expect/stdout", "\"other\\n\"",
     "$.expect.stdout", "executors"},
    {"happy-process-kill", SET, "expect/stdout", "{\"regex\": \"^Nope\"}",
     "$.expect.stdout", "executors"},
    {"auth-401", SET, "expect/stderr", "{\"regex\": \"^msp-executor: x\"}",
     "$.expect.stderr", "executors"},
    {"happy-process-kill", SET, "expect/max_ms", "100", "$.expect.max_ms",
     "executors"},
    {"sequence-503-then-200", SET, "expects/1/exit_code", "3",
     "$.expects[1].exit_code", "executors"},
    {"happy-process-kill", SET, "exit_row", "7", "$.exit_row", "executors"},
    /* executors: a request matcher got stricter */
    {"happy-process-kill", SET, "request/headers/X-New", "\"x\"",
     "$.request.headers.X-New", "executors"},
    {"happy-process-kill", SET, "request/headers/Content-Type",
     "\"application/json\"", "$.request.headers.Content-Type", "executors"},
    {"happy-process-kill", SET, "request/body/params/extra", "1",
     "$.request.body.params.extra", "executors"},
    {"happy-process-kill", SET, "request/body/simulate", "true",
     "$.request.body.simulate", "executors"},
    {"happy-process-kill", SET, "request/headers/Idempotency-Key",
     "\"64b85b75-8d60-4959-b1b3-865c233fd841\"",
     "$.request.headers.Idempotency-Key", "executors"},
    /* a relaxed command-id matcher lets fake-msp answer other fixtures */
    {"happy-process-kill", DEL, "request/headers/X-Brainstorm-Command-Id", NULL,
     "$.request.headers.X-Brainstorm-Command-Id", "executors"},
    /* executors: another input; not sent to an MSP */
    {"server-500", SET, "context/deadline_ms", "1000", "$.context.deadline_ms",
     "executors"},
    {"sequence-503-then-200", SET, "responses/0/status", "502",
     "$.responses[0].status", "executors"},
    {"auth-401", SET, "response/headers/X-Extra", "\"1\"",
     "$.response.headers.X-Extra", "executors"},
    {"happy-process-kill", SET, "response/body/stdout", "\"other\\n\"",
     "$.response.body.stdout", "executors"},
    {"idempotent-replay", SET, "repeat", "3", "$.repeat", "executors"},
    /* both: a provider-verified fixture's reply or context */
    {"happy-process-kill", SET, "response/status", "201", "$.response.status",
     "both"},
    {"happy-process-kill", SET, "response/body/exit_code", "\"0\"",
     "$.response.body.exit_code", "both"},
    {"auth-401", SET, "response/body/error/code", "\"NOPE\"",
     "$.response.body.error.code", "both"},
    {"happy-process-kill", SET, "context/tool", "\"msp.other\"",
     "$.context.tool", "both"},
    {"happy-process-kill", SET, "executor", "{\"credential\": \"read_only\"}",
     "$.executor.credential", "both"},
    /* MSPs */
    {"provider-rate-limited-429", SET, "provider/steps/1/expect/status", "430",
     "$.provider.steps[1].expect.status", "msps"},
    {"provider-rate-limited-429", SET, "provider/steps/1/expect/headers/X-New",
     "{\"regex\": \"^x\"}", "$.provider.steps[1].expect.headers.X-New", "msps"},
    {"provider-rate-limited-429", SET,
     "provider/steps/1/expect/headers/Retry-After", "{\"regex\": \"^[0-9]+$\"}",
     "$.provider.steps[1].expect.headers.Retry-After", "msps"},
    {"provider-rate-limited-429", SET, "provider/states/0/params/per_minute",
     "2", "$.provider.states[0].params.per_minute", "msps"},
    {"provider-rate-limited-429", SET,
     "provider/steps/0/request/body/params/query", "\"x\"",
     "$.provider.steps[0].request.body.params.query", "msps"},
    {"happy-process-kill", SET, "provider/state", "\"another state\"",
     "$.provider.state", "msps"},
    {"happy-process-kill", SET, "provider/match/body", "\"exact\"",
     "$.provider.match.body", "msps"},
    {"happy-process-kill", SET, "provider/match/values/$.stdout", "\"x\"",
     "$.provider.match.values[\"$.stdout\"]", "msps"},
    {"server-500", SET, "provider", "{\"verify\": true}", "$.provider.verify",
     "msps"},
    {"auth-401", SET, "response/body/error/message", "7",
     "$.response.body.error.message", "both"},
    /* neither */
    {"tool-exit-nonzero", SET, "description", "\"another\"", "$.description",
     "neither"},
    {"tool-exit-nonzero", SET, "tags", "[\"x\"]", "$.tags[0]", "neither"},
    {"happy-process-kill", SET, "expect/stdout",
     "{\"regex\": \"^Killed process 4242 \"}", "$.expect.stdout", "neither"},
    {"happy-process-kill", SET, "expect/stderr", "{\"type\": \"\"}",
     "$.expect.stderr", "neither"},
    {"auth-401", SET, "expect/stderr", "{\"type\": \"\"}", "$.expect.stderr",
     "neither"},
    {"happy-process-kill", DEL, "expect/stdout", NULL, "$.expect.stdout",
     "neither"},
    {"happy-process-kill", SET, "expect/max_ms", "5000", "$.expect.max_ms",
     "neither"},
    {"happy-process-kill", DEL, "request/headers/X-Correlation-Id", NULL,
     "$.request.headers.X-Correlation-Id", "neither"},
    {"happy-process-kill", SET, "request/headers/Content-Type",
     "{\"regex\": \"^application/\"}", "$.request.headers.Content-Type",
     "executors"}, /* regex -> regex: not decided, conservative */
    {"happy-process-kill", SET, "request/body/params/pid", "{\"type\": 1}",
     "$.request.body.params.pid", "neither"},
    {"happy-process-kill", SET, "request/headers/X-Correlation-Id",
     "{\"regex\": \"^corr-\"}", "$.request.headers.X-Correlation-Id",
     "neither"},
    {"happy-process-kill", SET, "response/body/stdout", "\"Killed\\n\"",
     "$.response.body.stdout", "executors"},
    {"happy-process-kill", SET, "provider/match/body", "\"error_code\"",
     "$.provider.match.body", "neither"},
    {"happy-process-kill", DEL, "provider/match/values/$.stderr", NULL,
     "$.provider.match.values[\"$.stderr\"]", "neither"},
    {"happy-process-kill", SET, "provider/verify", "false", "$.provider.verify",
     "neither"},
    {"provider-rate-limited-429", SET,
     "provider/steps/1/expect/headers/Retry-After", "{\"type\": \"\"}",
     "$.provider.steps[1].expect.headers.Retry-After", "neither"},
    {"provider-rate-limited-429", DEL,
     "provider/steps/1/expect/values/$.error.code", NULL,
     "$.provider.steps[1].expect.values[\"$.error.code\"]", "neither"},
    {"provider-rate-limited-429", SET, "provider/steps/0/name", "\"first\"",
     "$.provider.steps[0].name", "neither"},
    {"provider-rate-limited-429", SET, "provider/checks",
     "[\"rate_limited\", \"replay\"]", "$.provider.checks", "neither"},
    {"provider-tools-list", SET, "description", "\"the tools\"",
     "$.description", "neither"},
    {"data-provider-list-devices", SET, "expect/stdout/json/data/count",
     "{\"type\": 0}", "$.expect.stdout", "neither"},
    {"data-provider-list-devices", SET, "expect/stdout/json/data/count", "5",
     "$.expect.stdout", "executors"},
    {"empty-200-body", SET, "expect/stdout", "{\"json\": {}}",
     "$.expect.stdout", "neither"},
    {"tool-exit-nonzero", SET, "provider/match/values/$.stderr",
     "{\"type\": \"\"}", "$.provider.match.values[\"$.stderr\"]", "neither"},
    {"tool-exit-nonzero", SET, "provider/match/values/$.stderr",
     "{\"regex\": \"^kill: \"}", "$.provider.match.values[\"$.stderr\"]",
     "msps"},
    {"provider-health", RENAME, "provider-health-renamed", NULL, "$.name",
     "neither"},
    /* more of each class: matchers in request bodies, per-run replies and
     * expectations, provider steps, states and match values */
    {"happy-process-kill", SET, "expect/stdout", "{\"type\": \"\"}",
     "$.expect.stdout", "neither"},
    {"auth-401", DEL, "expect/stderr", NULL, "$.expect.stderr", "neither"},
    {"happy-process-kill", DEL, "expect/command_result", NULL,
     "$.expect.command_result", "neither"},
    {"happy-process-kill", SET, "expect/stderr", "{\"regex\": \"^$\"}",
     "$.expect.stderr", "neither"},
    {"happy-process-kill", SET, "request/body/params/agent_id",
     "{\"regex\": \"^agent-\"}", "$.request.body.params.agent_id", "neither"},
    {"happy-process-kill", SET, "request/body/params/agent_id",
     "{\"type\": \"\"}", "$.request.body.params.agent_id", "neither"},
    {"happy-process-kill", SET, "request/body/params/new", "{\"absent\": true}",
     "$.request.body.params.new", "neither"},
    {"happy-process-kill", SET, "provider/match/values/$.exit_code",
     "{\"type\": 0}", "$.provider.match.values[\"$.exit_code\"]", "neither"},
    {"provider-rate-limited-429", DEL, "provider/steps/1", NULL,
     "$.provider.steps[1]", "neither"},
    {"provider-rate-limited-429", SET, "provider/steps/0/expect/body",
     "{\"type\": {\"success\": true}}", "$.provider.steps[0].expect.body",
     "neither"},
    {"provider-rate-limited-429", DEL,
     "provider/steps/0/expect/body/type/risk_level", NULL,
     "$.provider.steps[0].expect.body", "neither"},
    {"provider-rate-limited-429", DEL,
     "provider/steps/1/expect/headers/Retry-After", NULL,
     "$.provider.steps[1].expect.headers.Retry-After", "neither"},
    {"sequence-503-then-200", SET, "expects/0/stderr", "{\"type\": \"\"}",
     "$.expects[0].stderr", "neither"},
    {"sequence-503-then-200", SET, "expects/1/stdout",
     "{\"regex\": \"^Killed\"}", "$.expects[1].stdout", "neither"},
    {"data-provider-list-devices", SET, "expect/stdout/json/data/devices",
     "{\"type\": []}", "$.expect.stdout", "neither"},
    {"happy-process-kill", SET, "request/body/params/pid", "4243",
     "$.request.body.params.pid", "executors"},
    {"happy-process-kill", SET, "request/body/params/agent_id", "{\"type\": 0}",
     "$.request.body.params.agent_id", "executors"},
    {"happy-process-kill", SET, "request/headers/Authorization",
     "\"Bearer sk-other\"", "$.request.headers.Authorization", "executors"},
    {"happy-process-kill", SET, "request/headers/X-Correlation-Id",
     "{\"absent\": true}", "$.request.headers.X-Correlation-Id", "executors"},
    {"happy-process-kill", SET, "expect/command_result/payload/stdout", "\"x\"",
     "$.expect.command_result.payload.stdout", "executors"},
    {"happy-process-kill", SET, "expect/stdout", "{\"json\": {}}",
     "$.expect.stdout", "executors"},
    {"idempotent-replay", DEL, "repeat", NULL, "$.repeat", "executors"},
    {"sequence-503-then-200", SET, "responses/0/body_text", "\"Down\\n\"",
     "$.responses[0].body_text", "executors"},
    {"sequence-503-then-200", SET, "responses/1/body/stdout", "\"x\\n\"",
     "$.responses[1].body.stdout", "executors"},
    {"happy-process-kill", SET, "response/body", "\"plain\"", "$.response.body",
     "both"},
    {"happy-process-kill", SET, "response/body/extra", "[1, 2, {\"a\": null}]",
     "$.response.body.extra", "both"},
    {"happy-process-kill", SET, "context/deadline_ms", "1000",
     "$.context.deadline_ms", "both"},
    {"happy-process-kill", DEL, "provider/state", NULL, "$.provider.state",
     "msps"},
    {"happy-process-kill", SET, "provider/match/values/$.new", "1",
     "$.provider.match.values[\"$.new\"]", "msps"},
    {"provider-rate-limited-429", SET, "provider/steps/0/expect/body/type/data",
     "{\"x\": 1}", "$.provider.steps[0].expect.body", "msps"},
    {"provider-rate-limited-429", SET,
     "provider/steps/1/expect/values/$.success", "true",
     "$.provider.steps[1].expect.values[\"$.success\"]", "msps"},
    {"provider-rate-limited-429", SET, "provider/steps/0/request/path",
     "\"/x\"", "$.provider.steps[0].request.path", "msps"},
    {"provider-rate-limited-429", SET, "provider/states/0/name", "\"other\"",
     "$.provider.states[0].name", "msps"},
    {"provider-rate-limited-429", DEL, "provider/states", NULL,
     "$.provider.states", "msps"},
    {"provider-health", SET, "provider/steps/0/request/method", "\"HEAD\"",
     "$.provider.steps[0].request.method", "msps"},
    /* pairing */
    {"happy-process-kill", RENAME, "happy-renamed", NULL, "$.name", "neither"},
    {"happy-process-kill", ADD, "happy-copy", NULL, "$", "both"},
    {"server-500", ADD, "server-500-copy", NULL, "$", "executors"},
    {"provider-health", ADD, "provider-health-copy", NULL, "$", "msps"},
    {"happy-process-kill", REMOVE, NULL, NULL, "$", "neither"},
};

#define N_PAIRS (sizeof pairs / sizeof *pairs)

/* Builds OLD and NEW for pair p under tmpdir; returns NEW's fixture name. */
static const char *build_pair(const pair *p, char *old_dir, char *new_dir,
                              size_t len)
{
    make_dir(old_dir, len, "old");
    make_dir(new_dir, len, "new");
    cJSON *doc = load_bundled(p->fixture);
    save(old_dir, p->fixture, doc);
    const char *name = p->fixture;
    switch (p->op) {
    case SET: set_at(doc, p->where, p->value); break;
    case DEL: del_at(doc, p->where); break;
    case RENAME:
    case ADD:
        name = p->where;
        cJSON_ReplaceItemInObjectCaseSensitive(doc, "name",
                                               cJSON_CreateString(name));
        break;
    case REMOVE: name = NULL; break;
    }
    if (p->op == ADD) {
        /* the copy needs its own command id; OLD keeps the original */
        char *text = cJSON_PrintUnformatted(doc);
        const cJSON *ctx = cJSON_GetObjectItem(doc, "context");
        const cJSON *id = cJSON_GetObjectItem(ctx, "command_id");
        if (id) {
            char *hit;
            while ((hit = strstr(text, id->valuestring)) != NULL)
                memcpy(hit, "0123abcd", 8);
        }
        cJSON_Delete(doc);
        doc = cJSON_Parse(text);
        cJSON_free(text);
        cJSON *orig = load_bundled(p->fixture);
        save(new_dir, p->fixture, orig);
        cJSON_Delete(orig);
    }
    if (name)
        save(new_dir, name, doc);
    cJSON_Delete(doc);
    return name;
}

/* Criterion runs each parameter in a fresh process image: pass indexes,
 * never pointers. */
static size_t all_pairs[N_PAIRS];

ParameterizedTestParameters(diff, change_pair_is_classified)
{
    for (size_t i = 0; i < N_PAIRS; i++)
        all_pairs[i] = i;
    return cr_make_param_array(size_t, all_pairs, N_PAIRS);
}

/* Each pair: the change shows at its path with its class, and the exit
 * status is 1 exactly when some change breaks a side. */
ParameterizedTest(size_t *ip, diff, change_pair_is_classified)
{
    const pair *p = &pairs[*ip];
    char old_dir[400], new_dir[400];
    const char *name = build_pair(p, old_dir, new_dir, sizeof old_dir);
    int status;
    cJSON *doc = diff_json(old_dir, new_dir, &status);
    const char *fixture = name ? name : p->fixture;
    const cJSON *c = change_at(doc, fixture, p->path);
    char *all = cJSON_Print(doc);
    cr_assert_not_null(c, "%s %s: no change at %s in\n%s", p->fixture,
                       p->where ? p->where : "", p->path, all);
    cr_expect_str_eq(cJSON_GetObjectItem(c, "severity")->valuestring,
                     p->severity, "%s %s -> %s:\n%s", p->fixture,
                     p->where ? p->where : "", p->value ? p->value : "", all);
    int breaking = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItem(doc, "changes"))
    {
        breaking |= cJSON_GetArraySize(cJSON_GetObjectItem(x, "breaks")) > 0;
    }
    cr_expect_eq(status, breaking ? 1 : 0, "%s", all);
    if (strcmp(p->severity, "neither") == 0)
        cr_expect_eq(breaking, 0, "a neither pair with a breaking change:\n%s",
                     all);
    cJSON_free(all);
    cJSON_Delete(doc);
}

/* ---- the property: "neither" lets whoever passed OLD pass NEW ------------ */

static size_t neither_pairs[N_PAIRS];

static size_t collect_neither(void)
{
    size_t n = 0;
    for (size_t i = 0; i < N_PAIRS; i++)
        if (strcmp(pairs[i].severity, "neither") == 0 && pairs[i].op != REMOVE)
            neither_pairs[n++] = i;
    return n;
}

ParameterizedTestParameters(diff, neither_change_keeps_every_pass)
{
    size_t n = collect_neither();
    return cr_make_param_array(size_t, neither_pairs, n);
}

/* verify with msp-exec, provider against fake-msp: both pass on OLD and on
 * NEW. */
static void passes(const char *dir, const char *name, int provider_verify,
                   int executor_driven, const char *side)
{
    char exec[512], url[400], states[500];
    if (executor_driven) {
        const char *args[] = {"verify",
                              "--contracts",
                              dir,
                              "--executor-cmd",
                              bin_path("msp-exec", exec, sizeof exec),
                              "--time-scale",
                              "20",
                              NULL};
        spawned r = run(args);
        cr_expect_eq(r.status, 0, "verify on %s (%s):\n%s%s", side, name, r.out,
                     r.err);
        spawned_free(&r);
    }
    if (provider_verify) {
        fake_msp_options o;
        fake_msp_options_init(&o);
        fake_msp *fm = NULL;
        char err[512];
        cr_assert_eq(fake_msp_start(&o, &fm, err, sizeof err), 0, "%s", err);
        snprintf(url, sizeof url, "%s", fake_msp_url(fm));
        snprintf(states, sizeof states, "%s/__admin/provider-states", url);
        const char *args[] = {"provider", "--base-url",  url,    "--contracts",
                              dir,        "--state-url", states, NULL};
        spawned r = run(args);
        cr_expect_eq(r.status, 0, "provider on %s (%s):\n%s%s", side, name,
                     r.out, r.err);
        cr_expect_not_null(strstr(r.out, "1 passed"), "%s", r.out);
        spawned_free(&r);
        fake_msp_stop(fm);
    }
}

ParameterizedTest(size_t *ip, diff, neither_change_keeps_every_pass)
{
    const pair *p = &pairs[*ip];
    char old_dir[400], new_dir[400];
    const char *name = build_pair(p, old_dir, new_dir, sizeof old_dir);
    int status;
    cJSON *doc = diff_json(old_dir, new_dir, &status);
    cr_assert_eq(status, 0, "not classified neither");
    cJSON_Delete(doc);
    cJSON *f = load_bundled(p->fixture);
    const cJSON *prov = cJSON_GetObjectItem(f, "provider");
    int executor_driven = !cJSON_GetObjectItem(prov, "steps");
    int old_pv = cJSON_IsTrue(cJSON_GetObjectItem(prov, "verify"));
    cJSON_Delete(f);
    passes(old_dir, p->fixture, old_pv, executor_driven, "OLD");
    char file[800];
    snprintf(file, sizeof file, "%s/%s.json", new_dir, name);
    char *text = slurp(file);
    cJSON *nf = cJSON_Parse(text);
    free(text);
    int new_pv = cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(nf, "provider"), "verify"));
    cJSON_Delete(nf);
    passes(new_dir, name, new_pv, executor_driven, "NEW");
}

/* The property's control: a change classified as breaking executors does
 * make verify fail NEW (so passing NEW above is not vacuous). */
Test(diff, breaking_change_fails_verify_on_new)
{
    char old_dir[400], new_dir[400], exec[512];
    const pair p = {"auth-401",           SET,        "expect/exit_code", "1",
                    "$.expect.exit_code", "executors"};
    build_pair(&p, old_dir, new_dir, sizeof old_dir);
    const char *args[] = {"verify",
                          "--contracts",
                          new_dir,
                          "--executor-cmd",
                          bin_path("msp-exec", exec, sizeof exec),
                          "--time-scale",
                          "20",
                          NULL};
    spawned r = run(args);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    spawned_free(&r);
}

/* ---- outputs, options and errors ------------------------------------------
 */

/* OLD and NEW with one change of each class. */
static void four_changes(char *old_dir, char *new_dir, size_t len)
{
    make_dir(old_dir, len, "old");
    make_dir(new_dir, len, "new");
    const char *names[] = {"auth-401", "happy-process-kill",
                           "provider-rate-limited-429", "tool-exit-nonzero"};
    for (size_t i = 0; i < 4; i++) {
        cJSON *doc = load_bundled(names[i]);
        save(old_dir, names[i], doc);
        if (i == 0)
            set_at(doc, "expect/exit_code", "1");
        else if (i == 1)
            set_at(doc, "response/status", "201");
        else if (i == 2)
            set_at(doc, "provider/steps/1/expect/status", "430");
        else
            set_at(doc, "description", "\"x\"");
        save(new_dir, names[i], doc);
        cJSON_Delete(doc);
    }
}

Test(diff, text_groups_changes_most_severe_first)
{
    char old_dir[400], new_dir[400];
    four_changes(old_dir, new_dir, sizeof old_dir);
    const char *args[] = {"diff", old_dir, new_dir, NULL};
    spawned r = run(args);
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    const char *both = strstr(r.out, "breaks executors and MSPs (");
    const char *ex = strstr(r.out, "\nbreaks executors (");
    const char *msps = strstr(r.out, "breaks MSPs (");
    const char *neither = strstr(r.out, "breaks neither (");
    cr_assert(both && ex && msps && neither, "%s", r.out);
    cr_expect(both < ex && ex < msps && msps < neither, "%s", r.out);
    cr_expect_not_null(strstr(r.out, "$.response.status"), "%s", r.out);
    cr_expect_not_null(strstr(r.out, "4 changes in 4 fixtures"), "%s", r.out);
    spawned_free(&r);
}

Test(diff, fail_on_chooses_the_side)
{
    char old_dir[400], new_dir[400];
    make_dir(old_dir, sizeof old_dir, "old");
    make_dir(new_dir, sizeof new_dir, "new");
    cJSON *doc = load_bundled("provider-rate-limited-429");
    save(old_dir, "provider-rate-limited-429", doc);
    set_at(doc, "provider/steps/1/expect/status", "430");
    save(new_dir, "provider-rate-limited-429", doc);
    cJSON_Delete(doc);
    const char *expect[][2] = {
        {"executors", "0"}, {"msps", "1"}, {"any", "1"}, {"none", "0"}};
    for (size_t i = 0; i < 4; i++) {
        const char *args[] = {"diff",      old_dir,      new_dir,
                              "--fail-on", expect[i][0], NULL};
        spawned r = run(args);
        cr_expect_eq(r.status, atoi(expect[i][1]), "--fail-on %s: %s%s",
                     expect[i][0], r.out, r.err);
        spawned_free(&r);
    }
    const char *bad[] = {"diff", old_dir, new_dir, "--fail-on", "all", NULL};
    spawned r = run(bad);
    cr_expect_eq(r.status, 64, "%s", r.err);
    spawned_free(&r);
}

Test(diff, json_has_the_documented_schema)
{
    char old_dir[400], new_dir[400];
    four_changes(old_dir, new_dir, sizeof old_dir);
    int status;
    cJSON *doc = diff_json(old_dir, new_dir, &status);
    cr_expect_eq(status, 1);
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "schema")->valuestring,
                     "msp-contract-diff/1");
    cr_expect_str_eq(cJSON_GetObjectItem(doc, "result")->valuestring,
                     "breaking");
    const cJSON *sum = cJSON_GetObjectItem(doc, "summary");
    cr_expect_eq(cJSON_GetObjectItem(sum, "changes")->valueint, 4);
    cr_expect_eq(cJSON_GetObjectItem(sum, "break_executors")->valueint, 2);
    cr_expect_eq(cJSON_GetObjectItem(sum, "break_msps")->valueint, 2);
    cr_expect_eq(cJSON_GetObjectItem(sum, "break_neither")->valueint, 1);
    const char *order[] = {"both", "executors", "msps", "neither"};
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "changes"))
    {
        cr_assert_lt(i, 4);
        cr_expect_str_eq(cJSON_GetObjectItem(c, "severity")->valuestring,
                         order[i]);
        const char *keys[] = {"fixture", "old_fixture", "kind",   "path",
                              "old",     "new",         "breaks", "why"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            cr_expect_not_null(cJSON_GetObjectItem(c, keys[k]), "%s", keys[k]);
        i++;
    }
    cJSON_Delete(doc);
}

Test(diff, junit_fails_the_breaking_changes_only)
{
    char old_dir[400], new_dir[400], xml[500];
    four_changes(old_dir, new_dir, sizeof old_dir);
    snprintf(xml, sizeof xml, "%s/diff.xml", tmpdir);
    const char *args[] = {"diff", old_dir,     new_dir,     "--junit",
                          xml,    "--fail-on", "executors", NULL};
    spawned r = run(args);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    spawned_free(&r);
    char *text = slurp(xml);
    cr_expect_not_null(strstr(text, "tests=\"4\" failures=\"2\""), "%s", text);
    cr_expect_not_null(strstr(text, "classname=\"diff.neither\""), "%s", text);
    free(text);
}

Test(diff, authorization_values_are_masked)
{
    char old_dir[400], new_dir[400];
    make_dir(old_dir, sizeof old_dir, "old");
    make_dir(new_dir, sizeof new_dir, "new");
    cJSON *doc = load_bundled("happy-process-kill");
    save(old_dir, "happy-process-kill", doc);
    set_at(doc, "request/headers/Authorization",
           "\"Bearer sk-live-0123456789\"");
    save(new_dir, "happy-process-kill", doc);
    cJSON_Delete(doc);
    const char *args[] = {"diff", old_dir, new_dir, NULL};
    spawned r = run(args);
    cr_expect_eq(r.status, 1, "%s", r.out);
    cr_expect_not_null(strstr(r.out, "$.request.headers.Authorization"), "%s",
                       r.out);
    cr_expect_null(strstr(r.out, "sk-live-0123456789"), "%s", r.out);
    cr_expect_null(strstr(r.out, "sk-test"), "%s", r.out);
    spawned_free(&r);
}

/* cJSON stops a string at \u0000: the diff compares the exact bytes. */
Test(diff, bytes_after_a_nul_in_a_string_count)
{
    char old_dir[400], new_dir[400], rel[300], path[700];
    make_dir(old_dir, sizeof old_dir, "old");
    make_dir(new_dir, sizeof new_dir, "new");
    snprintf(rel, sizeof rel, "contracts/fixtures/tool-output-nul-bytes.json");
    char *text = slurp(src_path(rel, path, sizeof path));
    cr_assert_eq(write_file(old_dir, "tool-output-nul-bytes.json", text), 0);
    char *hit = strstr(text, "\\u0000");
    cr_assert_not_null(hit);
    hit += 6; /* the byte after the first \u0000 */
    cr_assert(*hit != '"' && *hit != '\\', "%s", hit);
    *hit = *hit == 'x' ? 'y' : 'x';
    cr_assert_eq(write_file(new_dir, "tool-output-nul-bytes.json", text), 0);
    free(text);
    int status;
    cJSON *doc = diff_json(old_dir, new_dir, &status);
    cr_expect_eq(status, 1);
    cr_expect_gt(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "changes")), 0);
    cJSON_Delete(doc);
}

Test(diff, identical_sets_exit_0)
{
    char contracts[512];
    src_path("contracts/fixtures", contracts, sizeof contracts);
    const char *args[] = {"diff", contracts, contracts, NULL};
    spawned r = run(args);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "0 changes in 0 fixtures"), "%s", r.out);
    spawned_free(&r);
}

Test(diff, unreadable_side_and_usage_errors)
{
    char contracts[512], missing[400], bad[400];
    src_path("contracts/fixtures", contracts, sizeof contracts);
    snprintf(missing, sizeof missing, "%s/nope", tmpdir);
    const char *a1[] = {"diff", missing, contracts, NULL};
    spawned r = run(a1);
    cr_expect_eq(r.status, 65, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "OLD"), "%s", r.err);
    spawned_free(&r);
    make_dir(bad, sizeof bad, "bad");
    cr_assert_eq(write_file(bad, "x.json", "{\"name\": \"x\"}"), 0);
    const char *a2[] = {"diff", contracts, bad, NULL};
    r = run(a2);
    cr_expect_eq(r.status, 65, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "x.json"), "%s", r.err);
    spawned_free(&r);
    const char *a3[] = {"diff", contracts, NULL};
    r = run(a3);
    cr_expect_eq(r.status, 64, "%s", r.err);
    spawned_free(&r);
}

/* ---- git:REV:PATH -----------------------------------------------------------
 */

static int git(const char *repo, const char *a1, const char *a2, const char *a3)
{
    char *argv[] = {"/usr/bin/git",
                    "-C",
                    (char *)repo,
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@example.invalid",
                    (char *)a1,
                    (char *)a2,
                    (char *)a3,
                    NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 30000, &r), 0);
    int st = r.status;
    spawned_free(&r);
    return st;
}

Test(diff, reads_a_git_revision_without_checkout)
{
    if (access("/usr/bin/git", X_OK) != 0)
        cr_skip_test("no /usr/bin/git");
    char repo[400], fx[500];
    make_dir(repo, sizeof repo, "repo");
    snprintf(fx, sizeof fx, "%s/fx", repo);
    cr_assert_eq(mkdir(fx, 0700), 0);
    cJSON *doc = load_bundled("auth-401");
    save(fx, "auth-401", doc);
    cJSON *doc2 = load_bundled("provider-health");
    save(fx, "provider-health", doc2);
    cJSON_Delete(doc2);
    cr_assert_eq(git(repo, "init", "-q", NULL), 0);
    cr_assert_eq(git(repo, "add", "fx", NULL), 0);
    cr_assert_eq(git(repo, "commit", "-qm", "fixtures"), 0);
    set_at(doc, "expect/exit_code", "1");
    save(fx, "auth-401", doc); /* changed in the work tree only */
    cJSON_Delete(doc);
    cr_assert_eq(chdir(repo), 0);
    const char *args[] = {"diff", "git:HEAD:fx", "fx", "--json", NULL};
    spawned r = run(args);
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cJSON *out = cJSON_Parse(r.out);
    cr_assert_not_null(out, "%s%s", r.out, r.err);
    cr_expect_not_null(change_at(out, "auth-401", "$.expect.exit_code"), "%s",
                       r.out);
    cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(out, "changes")), 1);
    cJSON_Delete(out);
    spawned_free(&r);
    const char *same[] = {"diff", "git:HEAD:fx", "git:HEAD:fx", NULL};
    r = run(same);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    spawned_free(&r);
    const char *norev[] = {"diff", "git:no-such-rev:fx", "fx", NULL};
    r = run(norev);
    cr_expect_eq(r.status, 65, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "unknown git revision"), "%s", r.err);
    spawned_free(&r);
    const char *nopath[] = {"diff", "git:HEAD:nope", "fx", NULL};
    r = run(nopath);
    cr_expect_eq(r.status, 65, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "no directory"), "%s", r.err);
    spawned_free(&r);
}

Test(diff, git_side_outside_a_repository_is_a_clear_error)
{
    char dir[400];
    make_dir(dir, sizeof dir, "plain");
    cr_assert_eq(chdir(dir), 0);
    setenv("GIT_CEILING_DIRECTORIES", tmpdir, 1);
    const char *args[] = {"diff", "git:HEAD:fx", ".", NULL};
    spawned r = run(args);
    cr_expect_eq(r.status, 65, "%s", r.err);
    cr_expect_not_null(strstr(r.err, "not in a git repository"), "%s", r.err);
    spawned_free(&r);
}

/* ---- scale ------------------------------------------------------------------
 */

/* 10 000 fixtures a side (copies of the bundled set, oversized-body among
 * them): every change found, none invented. The time is measured by
 * bench/diff/run.sh, not here. */
Test(diff, ten_thousand_fixtures_a_side, .timeout = TEST_TIMEOUT(300))
{
    char old_dir[400], new_dir[400], contracts[512];
    make_dir(old_dir, sizeof old_dir, "old");
    make_dir(new_dir, sizeof new_dir, "new");
    const char *base[] = {"happy-process-kill", "oversized-body",
                          "provider-rate-limited-429", "auth-401"};
    (void)contracts;
    for (size_t b = 0; b < 4; b++) {
        cJSON *doc = load_bundled(base[b]);
        const cJSON *ctx = cJSON_GetObjectItem(doc, "context");
        char id[64] = "";
        if (ctx)
            snprintf(id, sizeof id, "%s",
                     cJSON_GetObjectItem(ctx, "command_id")->valuestring);
        char *tmpl = cJSON_PrintUnformatted(doc);
        cJSON_Delete(doc);
        for (size_t i = b; i < 10000; i += 4) {
            char name[128], fresh[64];
            snprintf(name, sizeof name, "%s-%05zu", base[b], i);
            snprintf(fresh, sizeof fresh, "%08zx-0000-4000-8000-000000000000",
                     i);
            cJSON *d = cJSON_Parse(tmpl);
            char *t;
            cJSON_ReplaceItemInObjectCaseSensitive(d, "name",
                                                   cJSON_CreateString(name));
            t = cJSON_PrintUnformatted(d);
            cJSON_Delete(d);
            for (char *hit; id[0] && (hit = strstr(t, id)) != NULL;)
                memcpy(hit, fresh, strlen(fresh));
            char file[200];
            snprintf(file, sizeof file, "%s.json", name);
            cr_assert_eq(write_file(old_dir, file, t), 0);
            if (i == 5000) { /* a changed description: neither */
                d = cJSON_Parse(t);
                set_at(d, "description", "\"changed\"");
                cJSON_free(t);
                t = cJSON_PrintUnformatted(d);
                cJSON_Delete(d);
            }
            if (i != 7001) /* removed */
                cr_assert_eq(write_file(new_dir, file, t), 0);
            cJSON_free(t);
        }
        cJSON_free(tmpl);
    }
    int status;
    cJSON *doc = diff_json(old_dir, new_dir, &status);
    const cJSON *sum = cJSON_GetObjectItem(doc, "summary");
    cr_expect_eq(status, 0);
    cr_expect_eq(cJSON_GetObjectItem(sum, "old_fixtures")->valueint, 10000);
    cr_expect_eq(cJSON_GetObjectItem(sum, "new_fixtures")->valueint, 9999);
    cr_expect_eq(cJSON_GetObjectItem(sum, "changes")->valueint, 2);
    cJSON_Delete(doc);
}

/* ---- reading a side ------------------------------------------------------
 */

/* diff OLD NEW where NEW is the bundled happy-process-kill plus `file`
 * holding `text` (NULL: make it a FIFO); returns the run. */
static spawned diff_with_extra(const char *file, const char *text)
{
    char old_dir[400], new_dir[400], path[600];
    make_dir(old_dir, sizeof old_dir, "old");
    make_dir(new_dir, sizeof new_dir, "new");
    cJSON *doc = load_bundled("happy-process-kill");
    save(old_dir, "happy-process-kill", doc);
    save(new_dir, "happy-process-kill", doc);
    cJSON_Delete(doc);
    if (text) {
        cr_assert_eq(write_file(new_dir, file, text), 0);
    } else {
        snprintf(path, sizeof path, "%s/%s", new_dir, file);
        cr_assert_eq(mkfifo(path, 0600), 0);
    }
    const char *args[] = {"diff", old_dir, new_dir, NULL};
    return run(args);
}

Test(diff, a_side_skips_hidden_and_non_json_files)
{
    spawned r = diff_with_extra(".hidden.json", "not json at all");
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    spawned_free(&r);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/new", tmpdir);
    cr_assert_eq(write_file(dir, "notes.txt", "not json either"), 0);
    char old_dir[400];
    snprintf(old_dir, sizeof old_dir, "%s/old", tmpdir);
    const char *args[] = {"diff", old_dir, dir, NULL};
    r = run(args);
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "0 changes"), "%s", r.out);
    spawned_free(&r);
}

Test(diff, a_fifo_in_a_side_is_refused_without_blocking)
{
    spawned r = diff_with_extra("pipe.json", NULL);
    cr_expect_eq(r.status, 65, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "pipe.json: not a regular file"), "%s",
                       r.err);
    spawned_free(&r);
}

Test(diff, a_fixture_file_over_the_size_limit_is_refused)
{
    size_t n = 1024u * 1024u + 16;
    char *big = malloc(n + 1);
    cr_assert_not_null(big);
    memset(big, ' ', n);
    big[n] = '\0';
    spawned r = diff_with_extra("big.json", big);
    free(big);
    cr_expect_eq(r.status, 65, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "big.json: over 1048576 bytes"), "%s",
                       r.err);
    spawned_free(&r);
}

Test(diff, a_fixture_named_unlike_its_file_is_refused)
{
    cJSON *doc = load_bundled("tool-exit-nonzero");
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    spawned r = diff_with_extra("another-name.json", text);
    cJSON_free(text);
    cr_expect_eq(r.status, 65, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "another-name.json"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "tool-exit-nonzero"), "%s", r.err);
    spawned_free(&r);
}

Test(diff, a_side_that_is_a_file_is_a_clear_error)
{
    char contracts[512], file[400];
    src_path("contracts/fixtures", contracts, sizeof contracts);
    cr_assert_eq(write_file(tmpdir, "plain", "x"), 0);
    snprintf(file, sizeof file, "%s/plain", tmpdir);
    const char *args[] = {"diff", contracts, file, NULL};
    spawned r = run(args);
    cr_expect_eq(r.status, 65, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.err, "NEW"), "%s", r.err);
    cr_expect_not_null(strstr(r.err, "plain"), "%s", r.err);
    spawned_free(&r);
}
