#define _GNU_SOURCE /* asprintf */
/*
 * run.c — runs one fixture's context through an executor: the library in
 * process (the default), or an msp-exec compatible program (--executor-cmd),
 * which lets the same fixtures judge another implementation.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

extern char **environ;

#define EXTERNAL_OUTPUT_CAP (64u * 1024u * 1024u)

long long hx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hx_run_free(hx_run *r)
{
    if (!r)
        return;
    if (r->from_lib) {
        msp_result_free(&r->lib);
    } else {
        free(r->out);
        free(r->err);
        free(r->body);
    }
    memset(r, 0, sizeof *r);
}

static void fill_config(const mspf_fixture *f, const hx_target *t,
                        msp_config *cfg)
{
    msp_config_init(cfg);
    cfg->base_url = t->base_url;
    cfg->api_key = hx_fixture_key(f, t);
    if (f->auth_mode >= 0)
        cfg->auth_mode = (msp_auth_mode)f->auth_mode;
    cfg->tenant_id = HX_DEFAULT_TENANT;
    if (f->default_timeout_ms > 0)
        cfg->default_timeout_ms = f->default_timeout_ms;
    cfg->ca_file = t->ca_file;
    cfg->capture_body = t->capture_body;
}

static int run_library(const mspf_fixture *f, const hx_target *t, hx_run *run,
                       char *errbuf, size_t errlen)
{
    msp_config cfg;
    fill_config(f, t, &cfg);
    msp_executor *ex = NULL;
    if (msp_executor_new(&cfg, &ex, errbuf, errlen) != 0)
        return -1;

    msp_context ctx = {
        .command_id = f->command_id,
        .tool = f->tool,
        .params_json = f->params_json,
        .deadline_ms = f->deadline_ms,
        .correlation_id = f->correlation_id,
    };
    msp_result res;
    memset(&res, 0, sizeof res);
    int rc = msp_executor_execute(ex, &ctx, &res);
    msp_executor_free(ex);
    if (rc != 0) {
        snprintf(errbuf, errlen, "msp_executor_execute: %s", msp_strerror(rc));
        return -1;
    }
    run->lib = res;
    run->from_lib = 1;
    run->exit_code = res.exit_code;
    run->out = res.out;
    run->out_len = res.out_len;
    run->err = res.err;
    run->err_len = res.err_len;
    run->row = res.row;
    run->status = res.http_status;
    run->body = res.body;
    run->body_len = res.body_len;
    run->elapsed_ms = res.elapsed_ms;
    return 0;
}

/* Writes `len` bytes to a fresh private temporary file; returns its path
 * (malloc'd) or NULL. */
static char *write_temp(const char *tag, const char *data, size_t len)
{
    const char *dir = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/msp-contract-%s-XXXXXX", dir && *dir ? dir : "/tmp",
                 tag) < 0)
        return NULL;
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fd);
    if (off != len) {
        unlink(path);
        free(path);
        return NULL;
    }
    return path;
}

static char *context_json(const mspf_fixture *f)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "command_id", f->command_id);
    cJSON_AddStringToObject(o, "tool", f->tool);
    cJSON *params = cJSON_Parse(f->params_json ? f->params_json : "{}");
    if (params)
        cJSON_AddItemToObject(o, "params", params);
    cJSON_AddNumberToObject(o, "deadline_ms", (double)f->deadline_ms);
    if (f->correlation_id)
        cJSON_AddStringToObject(o, "correlation_id", f->correlation_id);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Reads all of fd into a malloc'd buffer (capped), with a deadline. */
static int slurp(int fd, char **buf, size_t *len, long long deadline_ms)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    if (!b)
        return -1;
    for (;;) {
        long long left = deadline_ms - hx_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        if (n + 1 >= cap) {
            if (cap >= EXTERNAL_OUTPUT_CAP)
                break;
            char *nb = realloc(b, cap * 2);
            if (!nb)
                break;
            b = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

static char *json_string_dup(const cJSON *obj, const char *key, size_t *len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    *len = strlen(s);
    return strdup(s);
}

static int run_external(const mspf_fixture *f, const hx_target *t, hx_run *run,
                        char *errbuf, size_t errlen)
{
    int rc = -1;
    char *ctx = context_json(f);
    const char *key = hx_fixture_key(f, t);
    char *ctx_path = ctx ? write_temp("ctx", ctx, strlen(ctx)) : NULL;
    char *key_path = write_temp("key", key, strlen(key));
    char timeout[32], script[1024];
    long long timeout_ms = f->default_timeout_ms > 0 ? f->default_timeout_ms
                                                     : MSP_DEFAULT_TIMEOUT_MS;
    snprintf(timeout, sizeof timeout, "%lld", timeout_ms);
    snprintf(script, sizeof script, "%s \"$@\"", t->executor_cmd);
    const char *mode = f->auth_mode == MSP_AUTH_JWT ? "jwt" : "service_key";
    int pipefd[2] = {-1, -1};
    if (!ctx_path || !key_path || pipe(pipefd) != 0) {
        snprintf(errbuf, errlen, "cannot prepare the executor command: %s",
                 strerror(errno));
        goto out;
    }
    char *argv[] = {"sh",
                    "-c",
                    script,
                    "msp-exec",
                    "--base-url",
                    (char *)t->base_url,
                    "--api-key-file",
                    key_path,
                    "--auth-mode",
                    (char *)mode,
                    "--tenant-id",
                    HX_DEFAULT_TENANT,
                    "--timeout-ms",
                    timeout,
                    "--context",
                    ctx_path,
                    "--json",
                    NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    pid_t pid;
    long long t0 = hx_now_ms();
    int sp = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (sp != 0) {
        snprintf(errbuf, errlen, "cannot run %s: %s", t->executor_cmd,
                 strerror(sp));
        close(pipefd[0]);
        goto out;
    }
    char *out = NULL;
    size_t out_len = 0;
    /* The executor bounds itself by its timeout; allow it a margin. */
    slurp(pipefd[0], &out, &out_len, t0 + timeout_ms + 10000);
    close(pipefd[0]);
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    run->elapsed_ms = hx_now_ms() - t0;
    cJSON *doc = out ? cJSON_ParseWithLength(out, out_len) : NULL;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "exit_code");
    if (!cJSON_IsNumber(code)) {
        snprintf(errbuf, errlen,
                 "%s printed no {\"exit_code\",...} JSON (exit status %d)",
                 t->executor_cmd, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    } else {
        run->exit_code = code->valueint;
        run->out = json_string_dup(doc, "stdout", &run->out_len);
        run->err = json_string_dup(doc, "stderr", &run->err_len);
        rc = run->out && run->err ? 0 : -1;
    }
    cJSON_Delete(doc);
    free(out);
out:
    if (ctx_path)
        unlink(ctx_path);
    if (key_path)
        unlink(key_path);
    free(ctx_path);
    free(key_path);
    free(ctx);
    return rc;
}

int hx_run_fixture(const mspf_fixture *f, const hx_target *t, hx_run *run,
                   char *errbuf, size_t errlen)
{
    memset(run, 0, sizeof *run);
    if (t->executor_cmd)
        return run_external(f, t, run, errbuf, errlen);
    return run_library(f, t, run, errbuf, errlen);
}
