#define _GNU_SOURCE /* asprintf */
/*
 * run.c — runs one fixture's context through an executor: the library in
 * process (the default), or an msp-exec compatible program (--executor-cmd),
 * which lets the same fixtures judge another implementation.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hx_spawn.h"

extern char **environ;

/* An external executor's result line: a 16 MiB reply escaped as JSON can
 * grow to six times its size. Its stderr is only shown, so less is kept. */
#define HX_RESULT_LINE_CAP (128u * 1024u * 1024u)
#define HX_LOG_CAP         (64u * 1024u)

long long hx_now_ms(void)
{
    return hx_spawn_now_ms();
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
    free(r->log);
    mspf_diffs_free(&r->protocol);
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
    if (t->timeout_ms > 0)
        cfg->default_timeout_ms = t->timeout_ms;
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
        .deadline_ms = t->deadline_ms > 0 ? t->deadline_ms : f->deadline_ms,
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

/* An anonymous in-memory file (memfd) holding `len` bytes, sealed against
 * change, close-on-exec; the fd, or -1 with errno. It never has a name on
 * any file system: an external executor gets it as /dev/fd/N, and it is
 * gone when the last process holding it ends, however that ends (SIGKILL
 * included). Nothing holding a key is ever written to a directory. */
static int memfd_with(const char *tag, const char *data, size_t len)
{
    int fd = memfd_create(tag, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off != len) {
        int e = errno ? errno : EIO;
        close(fd);
        errno = e;
        return -1;
    }
    (void)fcntl(fd, F_ADD_SEALS,
                F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    /* the child shares this offset: one that reads fd 3 itself (`<&3`,
     * read(3, ...)) must find the key, not the end of it */
    if (lseek(fd, 0, SEEK_SET) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The ToolExecutorContext of f as JSON, params spliced in as written (so a
 * \u0000 in them survives). malloc'd. */
static char *context_json(const mspf_fixture *f, long long deadline_ms)
{
    cJSON *o = cJSON_CreateObject();
    char *head, *out = NULL;
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "command_id", f->command_id);
    cJSON_AddStringToObject(o, "tool", f->tool);
    cJSON_AddNumberToObject(o, "deadline_ms", (double)deadline_ms);
    if (f->correlation_id)
        cJSON_AddStringToObject(o, "correlation_id", f->correlation_id);
    head = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (head && strlen(head) >= 2) {
        head[strlen(head) - 1] = '\0'; /* drop the closing brace */
        if (asprintf(&out, "%s,\"params\":%s}", head,
                     f->params_json ? f->params_json : "{}") < 0)
            out = NULL;
    }
    cJSON_free(head);
    return out;
}

char *hx_visible_head(const char *s, size_t n, size_t total, size_t cap)
{
    size_t keep = n < cap ? n : cap, o = 0;
    char *out = malloc(keep * 4 + 48);
    if (!out)
        return NULL;
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            o += (size_t)sprintf(out + o, "\\n");
        else if (c == '\t')
            o += (size_t)sprintf(out + o, "\\t");
        else if (c == '\r')
            o += (size_t)sprintf(out + o, "\\r");
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)sprintf(out + o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
    if (total > keep)
        snprintf(out + o, 48, "\xE2\x80\xA6(%zu bytes)", total);
    return out;
}

long long hx_run_ms(const hx_run *r, long long startup_ms)
{
    long long ms = r->from_lib           ? r->elapsed_ms
                   : r->reported_ms >= 0 ? r->reported_ms
                                         : r->elapsed_ms - startup_ms;
    return ms > 0 ? ms : 0;
}

int hx_row_of_result(const char *err, size_t err_len)
{
    const msp_exit_row *t = msp_exit_table();
    for (int i = 0; i < MSP_EXIT_ROWS; i++) {
        size_t n = strlen(t[i].stderr_prefix);
        if (n && err_len >= n && memcmp(err, t[i].stderr_prefix, n) == 0)
            return t[i].row;
    }
    return 0;
}

/* s as a JSON string literal (NUL as \u0000), appended to *b. */
static int put_quoted(char **b, size_t *len, const char *s, size_t n)
{
    char *q = mspf_json_quote(s, n);
    size_t qn = q ? strlen(q) : 0;
    char *nb = q ? realloc(*b, *len + qn + 1) : NULL;
    if (!nb) {
        free(q);
        return -1;
    }
    memcpy(nb + *len, q, qn + 1);
    *b = nb;
    *len += qn;
    free(q);
    return 0;
}

static int put_text(char **b, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *nb = realloc(*b, *len + n + 1);
    if (!nb)
        return -1;
    memcpy(nb + *len, s, n + 1);
    *b = nb;
    *len += n;
    return 0;
}

/* Until the executor exports the endpoint-stub's mapping
 * (msp_result_to_command_result), it is built here, in this one place. */
char *hx_command_result(const char *command_id, int exit_code, const char *out,
                        size_t out_len, const char *err, size_t err_len,
                        size_t *len)
{
    char *b = NULL;
    size_t n = 0;
    int rc = put_text(&b, &n, "{\"type\":\"CommandResult\",\"command_id\":");
    rc |= put_quoted(&b, &n, command_id, strlen(command_id));
    if (exit_code == 0) {
        rc |= put_text(&b, &n,
                       ",\"lifecycle_state\":\"completed\",\"error\":null,"
                       "\"payload\":{\"stdout\":");
        rc |= put_quoted(&b, &n, out, out_len);
        rc |= put_text(&b, &n, ",\"stderr\":");
        rc |= put_quoted(&b, &n, err, err_len);
        rc |= put_text(&b, &n, ",\"exit_code\":0}}");
    } else {
        char *msg = NULL;
        int mlen = asprintf(&msg, "tool exited with %d: ", exit_code);
        char *full = mlen >= 0 ? malloc((size_t)mlen + err_len + 1) : NULL;
        if (full) {
            memcpy(full, msg, (size_t)mlen);
            memcpy(full + mlen, err, err_len);
            full[(size_t)mlen + err_len] = '\0';
        }
        rc |= put_text(&b, &n,
                       ",\"lifecycle_state\":\"failed\",\"payload\":null,"
                       "\"error\":{\"code\":\"SANDBOX_TOOL_ERROR\","
                       "\"message\":");
        rc |= full ? put_quoted(&b, &n, full, (size_t)mlen + err_len) : -1;
        rc |= put_text(&b, &n, "}}");
        free(msg);
        free(full);
    }
    if (rc != 0 || !b) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}

/* A JSON number spelled as an integer (-?digits) within int32. */
static int int32_text(const char *t, size_t n, int *out)
{
    size_t i = t[0] == '-' ? 1 : 0;
    long long v = 0;
    if (n == i || n - i > 10 || (t[i] == '0' && n - i > 1))
        return 0;
    for (size_t k = i; k < n; k++) {
        if (t[k] < '0' || t[k] > '9')
            return 0;
        v = v * 10 + (t[k] - '0');
    }
    if (i)
        v = -v;
    if (v < INT32_MIN || v > INT32_MAX)
        return 0;
    *out = (int)v;
    return 1;
}

#define RESULT_LINE \
    "one JSON line {\"exit_code\":N,\"stdout\":\"...\",\"stderr\":\"...\"}"
#define SHOWN_BYTES 300u

/* Reads the program's stdout as the result line into run, recording what
 * is wrong with it in run->protocol. */
static void read_result(const hx_spawned *sp, hx_run *run)
{
    mspf_json *doc = NULL;
    const cJSON *root, *code, *out, *err;
    char *head;
    if (mspf_json_parse(sp->out, sp->out_len, &doc) != 0 ||
        !cJSON_IsObject(mspf_json_root(doc))) {
        head =
            hx_visible_head(sp->out, sp->out_len, sp->out_total, SHOWN_BYTES);
        hx_diff(&run->protocol, "executor.stdout", RESULT_LINE,
                sp->out_len ? "%s" : "nothing%s", head ? head : "");
        free(head);
        mspf_json_free(doc);
        return;
    }
    root = mspf_json_root(doc);
    code = cJSON_GetObjectItemCaseSensitive(root, "exit_code");
    out = cJSON_GetObjectItemCaseSensitive(root, "stdout");
    err = cJSON_GetObjectItemCaseSensitive(root, "stderr");
    size_t tlen = 0;
    const char *text = code ? mspf_json_value_text(doc, code, &tlen) : NULL;
    if (!cJSON_IsNumber(code) || !text ||
        !int32_text(text, tlen, &run->exit_code)) {
        char *shown = text ? hx_visible_head(text, tlen, tlen, SHOWN_BYTES)
                           : strdup("(absent)");
        hx_diff(&run->protocol, "executor.exit_code",
                "an integer in -2147483648..2147483647, written as one", "%s",
                shown ? shown : "?");
        free(shown);
    }
    if (!cJSON_IsString(out) || !cJSON_IsString(err)) {
        hx_diff(&run->protocol,
                !cJSON_IsString(out) ? "executor.stdout" : "executor.stderr",
                RESULT_LINE, "%s is %s",
                !cJSON_IsString(out) ? "\"stdout\"" : "\"stderr\"",
                (!cJSON_IsString(out) ? out : err) ? "not a string" : "absent");
    }
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(root, "elapsed_ms");
    if (ms) {
        size_t mlen = 0;
        const char *mt = mspf_json_value_text(doc, ms, &mlen);
        int v = -1;
        if (!cJSON_IsNumber(ms) || !mt || !int32_text(mt, mlen, &v) || v < 0) {
            char *shown =
                mt ? hx_visible_head(mt, mlen, mlen, SHOWN_BYTES) : NULL;
            hx_diff(&run->protocol, "executor.elapsed_ms",
                    "absent, or an integer >= 0 (milliseconds)", "%s",
                    shown ? shown : "?");
            free(shown);
        } else {
            run->reported_ms = v;
        }
    }
    if (run->protocol.n == 0) {
        size_t n;
        const char *b = mspf_json_string(doc, out, &n);
        run->out = malloc(n + 1);
        if (run->out) {
            memcpy(run->out, b, n + 1);
            run->out_len = n;
        }
        b = mspf_json_string(doc, err, &n);
        run->err = malloc(n + 1);
        if (run->err) {
            memcpy(run->err, b, n + 1);
            run->err_len = n;
        }
        run->usable = run->out && run->err;
    }
    mspf_json_free(doc);
}

/* What the program's exit says, when it is not exit_code & 0xff. */
static void check_exit_status(const hx_spawned *sp, long long limit_ms,
                              hx_run *run)
{
    char want[96];
    if (run->usable)
        snprintf(want, sizeof want, "exit status %d (exit_code & 0xff)",
                 run->exit_code & 0xff);
    else
        snprintf(want, sizeof want, "an exit status");
    if (sp->timed_out)
        hx_diff(&run->protocol, "executor.exit_status", want,
                "still running after %lld ms: killed", limit_ms);
    else if (!sp->exited)
        hx_diff(&run->protocol, "executor.exit_status", want,
                "killed by signal %d", sp->signal);
    else if (run->usable && sp->status != (run->exit_code & 0xff))
        hx_diff(&run->protocol, "executor.exit_status", want, "exit status %d",
                sp->status);
}

static int run_external(const mspf_fixture *f, const hx_target *t, hx_run *run,
                        char *errbuf, size_t errlen)
{
    int rc = -1;
    char *ctx =
        context_json(f, t->deadline_ms > 0 ? t->deadline_ms : f->deadline_ms);
    const char *key = hx_fixture_key(f, t);
    /* fd 3 and 4 of the executor: /dev/fd/3 and /dev/fd/4 */
    int fds[2] = {memfd_with("msp-contract-key", key, strlen(key)),
                  ctx ? memfd_with("msp-contract-ctx", ctx, strlen(ctx)) : -1};
    char timeout[32], *script = NULL;
    char env_url[1100], env_mode[64], env_tenant[128];
    long long timeout_ms = t->timeout_ms > 0           ? t->timeout_ms
                           : f->default_timeout_ms > 0 ? f->default_timeout_ms
                                                       : MSP_DEFAULT_TIMEOUT_MS;
    snprintf(timeout, sizeof timeout, "%lld", timeout_ms);
    const char *mode = f->auth_mode == MSP_AUTH_JWT ? "jwt" : "service_key";
    if (fds[0] < 0 || fds[1] < 0 ||
        asprintf(&script, "%s \"$@\"", t->executor_cmd) < 0) {
        script = NULL;
        snprintf(errbuf, errlen, "cannot prepare the executor command: %s",
                 strerror(errno));
        goto out;
    }
    /* The configuration, also as the BSM_MSP_* environment (never the
     * key: it is only in the memfd). */
    snprintf(env_url, sizeof env_url, "BSM_MSP_BASE_URL=%s", t->base_url);
    snprintf(env_mode, sizeof env_mode, "BSM_MSP_AUTH_MODE=%s", mode);
    snprintf(env_tenant, sizeof env_tenant, "BSM_MSP_TENANT_ID=%s",
             HX_DEFAULT_TENANT);
    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    const char **envp = calloc(nenv + 4, sizeof *envp);
    if (!envp) {
        snprintf(errbuf, errlen, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (strncmp(environ[i], "BSM_", 4) != 0)
            envp[k++] = environ[i];
    envp[k++] = env_url;
    envp[k++] = env_mode;
    envp[k++] = env_tenant;
    envp[k] = NULL;
    const char *argv[] = {
        "/bin/sh",      "-c",        script,           t->executor_cmd,
        "--base-url",   t->base_url, "--api-key-file", "/dev/fd/3",
        "--auth-mode",  mode,        "--tenant-id",    HX_DEFAULT_TENANT,
        "--timeout-ms", timeout,     "--context",      "/dev/fd/4",
        "--json",       NULL};
    /* The executor bounds itself by its timeout; allow it a margin. */
    long long margin =
        t->kill_margin_ms > 0 ? t->kill_margin_ms : HX_KILL_MARGIN_MS;
    long long limit =
        t->kill_after_ms > 0 ? t->kill_after_ms : timeout_ms + margin;
    hx_spawn_opts so = {.envp = envp,
                        .out_cap = HX_RESULT_LINE_CAP,
                        .err_cap = HX_LOG_CAP,
                        .timeout_ms = limit,
                        .pass_fds = fds,
                        .n_pass_fds = 2};
    hx_spawned sp;
    run->reported_ms = -1;
    if (hx_spawn_run(argv, &so, &sp, errbuf, errlen) != 0) {
        free(envp);
        hx_spawned_free(&sp);
        goto out;
    }
    free(envp);
    run->elapsed_ms = sp.elapsed_ms;
    run->log = sp.err;
    run->log_len = sp.err_len;
    run->log_total = sp.err_total;
    sp.err = NULL;
    if (sp.out_total > sp.out_len)
        hx_diff(&run->protocol, "executor.stdout", RESULT_LINE,
                "%zu bytes, over the %u-byte cap", sp.out_total,
                HX_RESULT_LINE_CAP);
    else
        read_result(&sp, run);
    check_exit_status(&sp, limit, run);
    if (run->reported_ms > sp.elapsed_ms)
        hx_diff(&run->protocol, "executor.elapsed_ms",
                "at most the run's wall time", "%lld ms, of %lld ms",
                run->reported_ms, sp.elapsed_ms);
    hx_spawned_free(&sp);
    rc = 0;
out:
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(script);
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
