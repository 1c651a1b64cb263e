#define _GNU_SOURCE /* asprintf */
/*
 * states.c — provider states, set up before and torn down after each
 * fixture that names them: Pact's way (--state-url: POST {"state", "params",
 * "action"}) or a script's way (--state-cmd: CMD setup|teardown NAME
 * BASE_URL, the params as JSON in $MSP_STATE_PARAMS). What they print is
 * kept for the report, which shows it only when the call fails.
 */
#include "harness.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hx_spawn.h"

extern char **environ;

#define STATE_TIMEOUT_MS 60000
#define STATE_OUTPUT_CAP 4096

static char *cut(const char *text, size_t len)
{
    char *out;
    if (len > STATE_OUTPUT_CAP)
        len = STATE_OUTPUT_CAP;
    out = malloc(len + 1);
    if (out) {
        memcpy(out, text, len);
        out[len] = '\0';
        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
            out[--len] = '\0';
    }
    return out;
}

static int by_url(const hx_options *o, const mspf_state *s, int setup,
                  char **output)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *params = cJSON_Parse(s->params_json);
    char *body;
    char msg[700];
    hx_http_reply r;
    int rc = -1;
    cJSON_AddStringToObject(doc, "state", s->name);
    cJSON_AddItemToObject(doc, "params",
                          params ? params : cJSON_CreateObject());
    cJSON_AddStringToObject(doc, "action", setup ? "setup" : "teardown");
    body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!body) {
        *output = strdup("out of memory");
        return -1;
    }
    hx_http_request q = {.base_url = o->state_url,
                         .path = "",
                         .method = "POST",
                         .body = (const unsigned char *)body,
                         .body_len = strlen(body),
                         .has_body = 1,
                         .body_is_json = 1,
                         .ca_file = o->ca_file,
                         .timeout_ms = STATE_TIMEOUT_MS};
    if (hx_http_send(&q, &r) != 0) {
        snprintf(msg, sizeof msg, "%s: %s", o->state_url, r.error);
        *output = strdup(msg);
    } else if (r.status < 200 || r.status > 299) {
        char *shown = cut(r.body ? (const char *)r.body : "", r.body_len);
        snprintf(msg, sizeof msg, "%s answered %ld: %s", o->state_url, r.status,
                 shown ? shown : "");
        free(shown);
        *output = strdup(msg);
    } else {
        rc = 0;
    }
    hx_http_reply_free(&r);
    cJSON_free(body);
    return rc;
}

static int by_cmd(const hx_options *o, const mspf_state *s, int setup,
                  char **output)
{
    char *script = NULL, *params = NULL, msg[STATE_OUTPUT_CAP + 200];
    if (asprintf(&script, "%s \"$@\"", o->state_cmd) < 0)
        script = NULL;
    if (asprintf(&params, "MSP_STATE_PARAMS=%s", s->params_json) < 0)
        params = NULL;
    /* this process's environment plus MSP_STATE_PARAMS, for this call only */
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    const char **envp = calloc(nenv + 2, sizeof *envp);
    if (!script || !params || !envp) {
        free(script);
        free(params);
        free(envp);
        *output = strdup("out of memory");
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "MSP_STATE_PARAMS=", 17) != 0)
            envp[k++] = environ[i];
    envp[k++] = params;
    envp[k] = NULL;
    const char *argv[] = {"/bin/sh",
                          "-c",
                          script,
                          "msp-contract-state",
                          setup ? "setup" : "teardown",
                          s->name,
                          o->base_url,
                          NULL};
    hx_spawn_opts so = {.envp = envp,
                        .out_cap = STATE_OUTPUT_CAP,
                        .err_cap = STATE_OUTPUT_CAP,
                        .timeout_ms = STATE_TIMEOUT_MS};
    hx_spawned r;
    char why[512];
    int rc = hx_spawn_run(argv, &so, &r, why, sizeof why);
    free(script);
    free(params);
    free(envp);
    if (rc != 0) {
        hx_spawned_free(&r);
        snprintf(msg, sizeof msg, "cannot run the state command: %s", why);
        *output = strdup(msg);
        return -1;
    }
    int code = r.timed_out || !r.exited ? -1 : r.status;
    if (code == 0) {
        hx_spawned_free(&r);
        return 0;
    }
    /* what it printed: stdout, then stderr */
    char both[2 * STATE_OUTPUT_CAP + 2];
    size_t n = 0;
    memcpy(both, r.out, r.out_len);
    n += r.out_len;
    if (r.out_len && r.err_len && r.out[r.out_len - 1] != '\n')
        both[n++] = '\n';
    memcpy(both + n, r.err, r.err_len);
    n += r.err_len;
    char *shown = cut(both, n > STATE_OUTPUT_CAP ? STATE_OUTPUT_CAP : n);
    snprintf(msg, sizeof msg, "state command %s (status %d)%s%s",
             r.timed_out ? "timed out" : "failed", code,
             shown && *shown ? ": " : "", shown ? shown : "");
    free(shown);
    hx_spawned_free(&r);
    *output = strdup(msg);
    return -1;
}

int hx_state_change(const hx_options *o, const mspf_state *s, int setup,
                    char **output)
{
    *output = NULL;
    if (o->state_url)
        return by_url(o, s, setup, output);
    return by_cmd(o, s, setup, output);
}
