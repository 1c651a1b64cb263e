#define _GNU_SOURCE /* setenv in the child's environment */
/*
 * states.c — provider states, set up before and torn down after each
 * fixture that names them: Pact's way (--state-url: POST {"state", "params",
 * "action"}) or a script's way (--state-cmd: CMD setup|teardown NAME
 * BASE_URL, the params as JSON in $MSP_STATE_PARAMS). What they print is
 * kept for the report, which shows it only when the call fails.
 */
#include "harness.h"
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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
    char script[1200], buf[STATE_OUTPUT_CAP + 1];
    size_t n = 0;
    int pipefd[2], status = 0;
    pid_t pid;
    snprintf(script, sizeof script, "%s \"$@\"", o->state_cmd);
    char *argv[] = {"sh",
                    "-c",
                    script,
                    "msp-contract-state",
                    setup ? "setup" : "teardown",
                    s->name,
                    (char *)o->base_url,
                    NULL};
    if (pipe(pipefd) != 0) {
        *output = strdup("cannot create a pipe");
        return -1;
    }
    /* the child inherits MSP_STATE_PARAMS from here; set per call */
    setenv("MSP_STATE_PARAMS", s->params_json, 1);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    int sp = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    unsetenv("MSP_STATE_PARAMS");
    close(pipefd[1]);
    if (sp != 0) {
        close(pipefd[0]);
        snprintf(buf, sizeof buf, "cannot run the state command: %s",
                 strerror(sp));
        *output = strdup(buf);
        return -1;
    }
    long long deadline = hx_now_ms() + STATE_TIMEOUT_MS;
    int timed_out = 0;
    for (;;) {
        long long left = deadline - hx_now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
        int pr = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        char chunk[1024];
        ssize_t r = read(pipefd[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        size_t take = (size_t)r;
        if (take > STATE_OUTPUT_CAP - n)
            take = STATE_OUTPUT_CAP - n; /* keep reading, stop keeping */
        memcpy(buf + n, chunk, take);
        n += take;
    }
    close(pipefd[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = timed_out ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 0)
        return 0;
    char *shown = cut(buf, n);
    char msg[STATE_OUTPUT_CAP + 200];
    snprintf(msg, sizeof msg, "state command %s (status %d)%s%s",
             timed_out ? "timed out" : "failed", code,
             shown && *shown ? ": " : "", shown ? shown : "");
    free(shown);
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
