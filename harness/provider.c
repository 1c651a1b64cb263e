/*
 * provider.c — the provider check: each fixture marked provider.verify is
 * run against a real MSP. A provider-only fixture (provider.steps) sends
 * each step's raw request itself and checks the reply against the step's
 * expect; any other fixture goes through the real executor and its reply
 * is compared with the fixture's response under provider.match. Fault
 * fixtures are never sent to a real server.
 *
 * Every run sends fresh command ids: each UUID in a fixture's requests and
 * expectations is replaced by a new UUIDv4, the same one everywhere in the
 * fixture (unless provider.pin_command_id), so a rerun against a server
 * with a persistent idempotency store does not collide with earlier runs.
 * Credentials come by role (credentials.c), states around each fixture
 * (states.c).
 *
 * Every state set up is torn down on every exit path the process controls:
 * a failure, SIGINT or SIGTERM (interrupt.c: the run stops at the next
 * check, tears down, prints "interrupted" with the partial tally and exits
 * 130 / 143; a second signal aborts the teardown). A fixture that gets no
 * HTTP reply at all makes the run look at the base URL once: when that
 * cannot be reached either, the run stops there with one line and exit 69
 * instead of failing every fixture the same way.
 */
#include "harness.h"
#include "html.h"
#include "http.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "executor/msp_util.h"

#define STEP_TIMEOUT_MS  30000
#define PROBE_TIMEOUT_MS 10000
#define INTERRUPTED      "interrupted"
#define UUID_LEN         36
#define IDMAP_MAX        64
#define STEP_HEADERS     MSPF_STEP_HEADERS_MAX

/* Old UUID -> fresh UUIDv4, for one fixture's run. */
typedef struct idmap {
    char from[IDMAP_MAX][UUID_LEN + 1];
    char to[IDMAP_MAX][UUID_LEN + 1];
    size_t n;
} idmap;

typedef struct prov {
    const hx_options *o;
    hx_keyring keys;
    int no_reply; /* the current fixture got no HTTP reply once */
    int dead;     /* the base URL cannot be reached: stop */
    char dead_why[600];
} prov;

static int want_provider(const mspf_fixture *f)
{
    return f->provider_verify;
}

static int has_fault(const mspf_fixture *f)
{
    for (size_t i = 0; i < f->n_responses; i++)
        if (f->responses[i].fault.kind != MSPF_FAULT_NONE)
            return 1;
    return 0;
}

/* The fresh id for `old` (UUID_LEN bytes), added when new; NULL when full
 * or when the kernel gives no randomness (the id is then kept). */
static const char *fresh_id(idmap *m, const char *old)
{
    for (size_t i = 0; i < m->n; i++)
        if (strncasecmp(m->from[i], old, UUID_LEN) == 0)
            return m->to[i];
    if (m->n == IDMAP_MAX || msp_uuid4(m->to[m->n]) != 0)
        return NULL;
    memcpy(m->from[m->n], old, UUID_LEN);
    m->from[m->n][UUID_LEN] = '\0';
    return m->to[m->n++];
}

/* Replaces, in place, every UUID inside every string of v. */
static void refresh_ids(cJSON *v, idmap *m)
{
    cJSON *c;
    if (cJSON_IsString(v) && v->valuestring) {
        char *s = v->valuestring;
        size_t len = strlen(s);
        for (size_t i = 0; i + UUID_LEN <= len; i++)
            if (msp_uuid_valid(s + i, UUID_LEN, MSP_UUID_ANY_CASE)) {
                const char *to = fresh_id(m, s + i);
                if (to)
                    memcpy(s + i, to, UUID_LEN);
                i += UUID_LEN - 1;
            }
        return;
    }
    for (c = v ? v->child : NULL; c; c = c->next)
        refresh_ids(c, m);
}

/* ---- credentials ---------------------------------------------------- */

/* The role of a step's request: its own "credential" (null: none at all),
 * else the fixture's, else "valid". *none set for null. */
static const char *step_role(const mspf_fixture *f, const cJSON *req, int *none)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(req, "credential");
    *none = cJSON_IsNull(c);
    if (cJSON_IsString(c))
        return c->valuestring;
    return f->credential ? f->credential : MSPF_ROLE_DEFAULT;
}

/* The first role the fixture needs that the run has no key for, or NULL. */
static const char *missing_role(const prov *pv, const mspf_fixture *f)
{
    const cJSON *steps = mspf_provider_steps(f), *s;
    int none;
    if (!steps) {
        const char *role = f->credential ? f->credential : MSPF_ROLE_DEFAULT;
        return f->api_key || hx_keyring_get(&pv->keys, role) ? NULL : role;
    }
    cJSON_ArrayForEach(s, steps)
    {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "request");
        const char *role = step_role(f, req, &none);
        if (!none && !hx_keyring_get(&pv->keys, role))
            return role;
    }
    return NULL;
}

/* ---- an executor-driven fixture ------------------------------------- */

static void run_executor(prov *pv, hx_case *c, idmap *ids)
{
    const mspf_fixture *f = c->f;
    mspf_fixture run = *f; /* shallow: only two pointers differ */
    hx_target t = {.base_url = pv->o->base_url,
                   .default_key = hx_keyring_get(&pv->keys, MSPF_ROLE_DEFAULT),
                   .ca_file = pv->o->ca_file,
                   .capture_body = 1};
    char fresh[UUID_LEN + 1];
    if (!f->pin_command_id &&
        msp_uuid_valid(f->command_id, strlen(f->command_id),
                       MSP_UUID_ANY_CASE)) {
        const char *to = fresh_id(ids, f->command_id);
        if (to) {
            memcpy(fresh, to, sizeof fresh);
            run.command_id = fresh;
        }
    }
    if (!f->api_key)
        run.api_key = (char *)hx_keyring_get(
            &pv->keys, f->credential ? f->credential : MSPF_ROLE_DEFAULT);
    int repeat = f->repeat > 0 ? f->repeat : 1;
    for (int i = 0; i < repeat && !c->note; i++) {
        if (hx_interrupted()) {
            c->note = strdup(INTERRUPTED);
            break;
        }
        hx_run r;
        char why[512];
        if (hx_run_fixture(&run, &t, &r, why, sizeof why) != 0) {
            c->note = strdup(why);
            break;
        }
        if (r.status == 0) {
            pv->no_reply = 1;
            hx_diff(&c->diffs, "response.status", "an HTTP response", "%.*s",
                    (int)(r.err_len > 300 ? 300 : r.err_len), r.err);
        } else
            mspf_check_provider(&run, i, r.status,
                                (const unsigned char *)r.body, r.body_len,
                                &c->diffs);
        hx_run_free(&r);
    }
}

/* ---- a provider-only fixture: raw steps ----------------------------- */

/* Renders a step's body; *has 0 when it has none. The caller frees *out. */
static int step_body(const cJSON *req, unsigned char **out, size_t *len,
                     int *has, int *json)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(req, "body");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(req, "body_text");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(req, "body_repeat");
    *out = NULL;
    *len = 0;
    *has = b || t || r;
    *json = b != NULL;
    if (b) {
        char *s = cJSON_PrintUnformatted(b);
        if (!s)
            return -1;
        *out = (unsigned char *)strdup(s);
        cJSON_free(s);
    } else if (t) {
        *out = (unsigned char *)strdup(t->valuestring);
    } else if (r) {
        const char *unit =
            cJSON_GetObjectItemCaseSensitive(r, "repeat")->valuestring;
        size_t n = (size_t)cJSON_GetObjectItemCaseSensitive(r, "bytes")
                       ->valuedouble,
               ul = strlen(unit);
        *out = malloc(n + 1);
        for (size_t i = 0; *out && i < n; i++)
            (*out)[i] = (unsigned char)unit[i % ul];
        if (*out)
            (*out)[n] = '\0';
    } else {
        return 0;
    }
    if (!*out)
        return -1;
    *len = strlen((char *)*out);
    if (r)
        *len =
            (size_t)cJSON_GetObjectItemCaseSensitive(r, "bytes")->valuedouble;
    return 0;
}

/* Sends step i (0-based) and checks its reply. Returns 0 to go on. */
static int run_step(prov *pv, hx_case *c, const cJSON *step, size_t i,
                    size_t nsteps, hx_http_reply *replies, mspf_reply *views)
{
    const mspf_fixture *f = c->f;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(step, "request");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(step, "expect");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(step, "name");
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(req, "headers"), *h;
    mspf_header headers[STEP_HEADERS + 1];
    char *owned[STEP_HEADERS + 1];
    char root[200], auth[8300];
    size_t nh = 0, no = 0;
    int none, has_auth = 0, rc = -1;
    if (nsteps > 1)
        snprintf(root, sizeof root, "step %zu%s%.100s%s response", i + 1,
                 cJSON_IsString(name) ? " (" : "",
                 cJSON_IsString(name) ? name->valuestring : "",
                 cJSON_IsString(name) ? ")" : "");
    else
        snprintf(root, sizeof root, "response");
    cJSON_ArrayForEach(h, hs)
    {
        char why[300];
        size_t len;
        if (nh == STEP_HEADERS)
            break;
        has_auth |= strcasecmp(h->string, "Authorization") == 0;
        headers[nh].name = h->string;
        headers[nh].value = cJSON_IsString(h) ? h->valuestring : NULL;
        if (cJSON_IsObject(h)) {
            char *text = NULL, field[300];
            snprintf(field, sizeof field, "%.150s request.headers.%.100s", root,
                     h->string);
            if (mspf_step_value(h, views, i, &text, &len, why, sizeof why) !=
                0) {
                hx_diff(&c->diffs, field, "a value from an earlier step", "%s",
                        why);
                goto out;
            }
            headers[nh].value = owned[no++] = text;
            if (strpbrk(text, "\r\n")) { /* never a header injection */
                hx_diff(&c->diffs, field, "a value without CR/LF", "%.200s",
                        text);
                goto out;
            }
        }
        nh++;
    }
    const char *role = step_role(f, req, &none);
    if (!none && !has_auth) {
        snprintf(auth, sizeof auth, "Bearer %s",
                 hx_keyring_get(&pv->keys, role));
        headers[nh].name = "Authorization";
        headers[nh++].value = auth;
    }
    unsigned char *body;
    size_t body_len;
    int has_body, json;
    if (step_body(req, &body, &body_len, &has_body, &json) != 0) {
        c->note = strdup("out of memory");
        goto out;
    }
    hx_http_request q = {
        .base_url = pv->o->base_url,
        .path = cJSON_GetObjectItemCaseSensitive(req, "path")->valuestring,
        .method = cJSON_GetObjectItemCaseSensitive(req, "method")->valuestring,
        .headers = headers,
        .n_headers = nh,
        .body = body,
        .body_len = body_len,
        .has_body = has_body,
        .body_is_json = json,
        .ca_file = pv->o->ca_file,
        .timeout_ms = STEP_TIMEOUT_MS};
    int sent = hx_http_send(&q, &replies[i]);
    memset(auth, 0, sizeof auth);
    free(body);
    if (sent != 0) {
        char field[260];
        pv->no_reply = 1;
        snprintf(field, sizeof field, "%s.status", root);
        hx_diff(&c->diffs, field, "an HTTP response", "%s", replies[i].error);
        goto out;
    }
    views[i] = (mspf_reply){.status = replies[i].status,
                            .headers = replies[i].headers,
                            .n_headers = replies[i].n_headers,
                            .body = replies[i].body,
                            .body_len = replies[i].body_len};
    rc = mspf_check_step(exp, views, i + 1, root, &c->diffs) ? 0 : -1;
out:
    for (size_t k = 0; k < no; k++)
        free(owned[k]);
    return rc;
}

static void run_steps(prov *pv, hx_case *c, idmap *ids)
{
    cJSON *steps = cJSON_Duplicate(mspf_provider_steps(c->f), 1);
    size_t n = (size_t)cJSON_GetArraySize(steps), i = 0;
    hx_http_reply *replies = calloc(n ? n : 1, sizeof *replies);
    mspf_reply *views = calloc(n ? n : 1, sizeof *views);
    const cJSON *s;
    if (!steps || !replies || !views) {
        c->note = strdup("out of memory");
    } else {
        if (!c->f->pin_command_id)
            refresh_ids(steps, ids);
        cJSON_ArrayForEach(s, steps)
        {
            if (hx_interrupted()) {
                c->note = strdup(INTERRUPTED);
                break;
            }
            /* a failed step ends the scenario: later steps build on it */
            if (run_step(pv, c, s, i++, n, replies, views) != 0)
                break;
        }
    }
    for (size_t k = 0; replies && k < n; k++)
        hx_http_reply_free(&replies[k]);
    free(replies);
    free(views);
    cJSON_Delete(steps);
}

/* ---- one fixture ---------------------------------------------------- */

/* 1 when the base URL gives any HTTP reply to GET /; else 0, with the
 * transport error in pv->dead_why. */
static int base_reachable(prov *pv)
{
    hx_http_request q = {.base_url = pv->o->base_url,
                         .path = "/",
                         .method = "GET",
                         .ca_file = pv->o->ca_file,
                         .timeout_ms = PROBE_TIMEOUT_MS};
    hx_http_reply r;
    int ok = hx_http_send(&q, &r) == 0;
    if (!ok)
        snprintf(pv->dead_why, sizeof pv->dead_why, "%s", r.error);
    hx_http_reply_free(&r);
    return ok;
}

static void provider_one(prov *pv, hx_case *c)
{
    const mspf_fixture *f = c->f;
    const hx_options *o = pv->o;
    long long t0 = hx_now_ms();
    char note[700];
    size_t up = 0;
    idmap ids = {.n = 0};
    const char *role = missing_role(pv, f);
    pv->no_reply = 0;
    if (role) {
        snprintf(note, sizeof note, "needs credential %s: --credential %s=FILE",
                 role, role);
        c->skipped = 1;
        c->note = strdup(note);
        return;
    }
    if (f->n_provider_states && !o->state_url && !o->state_cmd) {
        snprintf(note, sizeof note,
                 "needs provider state \"%.300s\": --state-url URL or "
                 "--state-cmd CMD",
                 f->provider_states[0].name);
        c->skipped = 1;
        c->note = strdup(note);
        return;
    }
    for (; up < f->n_provider_states; up++) {
        char *out = NULL;
        if (hx_interrupted()) {
            c->note = strdup(INTERRUPTED);
            break;
        }
        if (hx_state_change(o, &f->provider_states[up], 1, &out) != 0) {
            snprintf(note, sizeof note, "state setup \"%.200s\" failed: %.400s",
                     f->provider_states[up].name, out ? out : "");
            c->note = strdup(note);
            free(out);
            break;
        }
    }
    if (!c->note && hx_interrupted())
        c->note = strdup(INTERRUPTED);
    if (!c->note) {
        if (f->n_provider_steps)
            run_steps(pv, c, &ids);
        else
            run_executor(pv, c, &ids);
    }
    /* whatever happened above, and even after a signal */
    while (up-- > 0) {
        char *out = NULL;
        if (hx_state_change(o, &f->provider_states[up], 0, &out) != 0)
            hx_diff(&c->diffs, "provider state teardown",
                    f->provider_states[up].name, "%.400s", out ? out : "");
        free(out);
    }
    if (pv->no_reply && !base_reachable(pv))
        pv->dead = 1;
    c->ms = hx_now_ms() - t0;
    c->passed = !c->note && c->diffs.n == 0;
}

/* ---- --list-states -------------------------------------------------- */

static int list_states(const mspf_set *set)
{
    size_t n = mspf_set_count(set), shown = 0;
    for (size_t i = 0; i < n; i++) {
        const mspf_fixture *f = mspf_set_get(set, i);
        for (size_t s = 0; s < f->n_provider_states; s++) {
            const char *name = f->provider_states[s].name;
            int seen = 0;
            /* once per state, at its first fixture */
            for (size_t j = 0; j < i && !seen; j++) {
                const mspf_fixture *g = mspf_set_get(set, j);
                for (size_t t = 0; t < g->n_provider_states; t++)
                    seen |= strcmp(g->provider_states[t].name, name) == 0;
            }
            for (size_t t = 0; t < s; t++)
                seen |= strcmp(f->provider_states[t].name, name) == 0;
            if (seen)
                continue;
            printf("%s\n", name);
            shown++;
            for (size_t j = i; j < n; j++) {
                const mspf_fixture *g = mspf_set_get(set, j);
                for (size_t t = 0; t < g->n_provider_states; t++)
                    if (strcmp(g->provider_states[t].name, name) == 0) {
                        printf("    %s  params %s\n", g->name,
                               g->provider_states[t].params_json);
                        break;
                    }
            }
        }
    }
    printf("%zu provider state(s)\n", shown);
    return HX_EXIT_OK;
}

int hx_provider(const hx_options *o)
{
    if (o->list_states) {
        mspf_set *set = hx_load(o);
        if (!set)
            return HX_EXIT_DATA;
        int rc = list_states(set);
        mspf_set_free(set);
        return rc;
    }
    if (!o->base_url) {
        fprintf(stderr, "msp-contract provider: --base-url URL is required\n");
        return HX_EXIT_USAGE;
    }
    prov pv = {.o = o};
    char err[600];
    if (hx_keyring_load(o, &pv.keys, err, sizeof err) != 0) {
        fprintf(stderr, "msp-contract provider: %s\n", err);
        hx_keyring_free(&pv.keys);
        return HX_EXIT_USAGE;
    }
    const char *env_key = getenv("BSM_MSP_API_KEY");
    if (!o->api_key_file && !(env_key && *env_key) && o->n_credentials == 0)
        fprintf(stderr,
                "msp-contract provider: no --api-key-file, --credential or "
                "BSM_MSP_API_KEY: sending fake-msp's built-in key of each "
                "role (right for fake-msp only)\n");
    mspf_set *set = hx_load(o);
    if (!set) {
        hx_keyring_free(&pv.keys);
        return HX_EXIT_DATA;
    }
    hx_cases cs = {0};
    int rc = HX_EXIT_FAILED;
    if (hx_cases_select(o, set, want_provider, "provider", &cs) != 0)
        goto out;
    hx_html_target(o->base_url, 0);
    for (size_t i = 0; i < pv.keys.n; i++)
        hx_html_secret(pv.keys.items[i].key);
    printf("msp-contract provider: %zu fixture(s) from %s against %s\n", cs.n,
           o->contracts, o->base_url);
    long long t0 = hx_now_ms();
    hx_tally tally = {0};
    size_t ran = 0;
    hx_interrupt_install();
    for (size_t i = 0; i < cs.n && !hx_interrupted() && !pv.dead; i++) {
        hx_case *c = &cs.items[i];
        if (has_fault(c->f) ||
            (!c->f->n_provider_steps &&
             (c->f->n_responses == 0 || !c->f->expects_request))) {
            c->skipped = 1;
            c->note = strdup(has_fault(c->f)
                                 ? "fault fixture: never sent to a real server"
                                 : "no scripted response to compare with");
        } else {
            provider_one(&pv, c);
        }
        if (pv.dead) {
            fprintf(stderr,
                    "msp-contract provider: cannot reach %s (%s): stopped at "
                    "fixture %zu of %zu, %s\n",
                    o->base_url, pv.dead_why, i + 1, cs.n, c->f->name);
            break;
        }
        if (c->note && strcmp(c->note, INTERRUPTED) == 0 && c->diffs.n == 0)
            c->skipped = 1; /* cut short: neither passed nor failed */
        hx_tally_case(&tally, c);
        ran++;
    }
    int sig = hx_interrupted();
    hx_cases done = {.items = cs.items, .n = ran};
    if (sig)
        printf("msp-contract provider: interrupted by %s after %zu of %zu "
               "fixture(s); every state set up was torn down\n",
               sig == SIGINT ? "SIGINT" : "SIGTERM", ran, cs.n);
    if (pv.dead || sig) {
        if (ran || sig)
            (void)hx_finish(o, "provider", &done, &tally, hx_now_ms() - t0, 1);
        rc = pv.dead ? HX_EXIT_NO_SERVER : 128 + sig;
    } else {
        rc = hx_finish(o, "provider", &cs, &tally, hx_now_ms() - t0, 1);
    }
    hx_interrupt_restore();
out:
    hx_cases_free(&cs);
    mspf_set_free(set);
    hx_keyring_free(&pv.keys);
    return rc;
}
