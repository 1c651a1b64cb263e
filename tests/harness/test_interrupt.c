/* Interruption (issue 20, findings 8 and 9): a provider run stopped by
 * SIGINT or SIGTERM tears down every state it set up, says "interrupted"
 * with the partial tally and exits 130 / 143, so the next run passes; a
 * verify run killed in any way (SIGKILL included) leaves no file holding
 * the key in the temporary directory. The signals come from the state
 * command or the executor itself, at a known point: no sleeps, no races. */
#define _GNU_SOURCE /* strcasestr */
#include <criterion/criterion.h>
#include "test_timeout.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <fake_msp/fake_msp.h>

#include "hx_spawn.h"
#include "run_tool.h"

#define UNAVAILABLE "the MSP is unavailable"

#include "test_fake.h"
#include "test_tmpdir.h"

TestSuite(interrupt, .init = make_tmpdir_keyless, .fini = remove_tmpdir,
          .timeout = TEST_TIMEOUT(90));

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    static char none[] = "";
    if (!f)
        return strdup(none);
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The state command: logs "ACTION NAME", applies the state at fake-msp's
 * endpoint, and on the setup of UNAVAILABLE signals msp-contract (its
 * parent's pid is passed as $1). */
static const char *state_script(void)
{
    static char path[400];
    static const char text[] =
        "#!/bin/sh\n"
        "parent=$1 sig=$2 log=$3; shift 3\n"
        "printf '%s %s\\n' \"$1\" \"$2\" >> \"$log\"\n"
        "body=$(printf '{\"state\":\"%s\",\"action\":\"%s\",\"params\":%s}' "
        "\"$2\" \"$1\" \"$MSP_STATE_PARAMS\")\n"
        "curl -sf -o /dev/null -H 'Content-Type: application/json' "
        "--data \"$body\" \"$3/__admin/provider-states\" || exit 1\n"
        "if [ \"$1\" = setup ] && [ \"$2\" = '" UNAVAILABLE "' ]; then\n"
        "  kill -\"$sig\" \"$parent\"\n"
        "fi\n";
    cr_assert_eq(write_file(tmpdir, "state.sh", text), 0);
    snprintf(path, sizeof path, "%s/state.sh", tmpdir);
    chmod(path, 0700);
    return path;
}

static void interrupted_by_state_cmd(const char *sig, int want_status)
{
    if (system("command -v curl >/dev/null 2>&1") != 0)
        cr_skip_test("needs curl for the state command");
    fake_msp *fm = test_fake_start(NULL);
    char cmd[1200], log[400], url[400];
    snprintf(log, sizeof log, "%s/states.log", tmpdir);
    snprintf(cmd, sizeof cmd, "'%s' \"$PPID\" %s '%s'", state_script(), sig,
             log);
    const char *args[] = {"--state-cmd", cmd, NULL};
    spawned r = test_fake_provider(fake_msp_url(fm), args, 80000);
    cr_expect_eq(r.status, want_status, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "msp-contract provider: interrupted by "
                                     "SIG"),
                       "%s", r.out);
    cr_expect_not_null(strstr(r.out, "every state set up was torn down"), "%s",
                       r.out);
    /* the partial tally */
    cr_expect_not_null(strstr(r.out, " passed, "), "%s", r.out);
    cr_expect_null(strstr(r.out, "ok   provider-server-unavailable-503"),
                   "the interrupted fixture did not run to its end:\n%s",
                   r.out);
    /* every setup has its teardown, in reverse order */
    char *text = slurp(log);
    const char *up = strstr(text, "setup " UNAVAILABLE "\n");
    const char *down = strstr(text, "teardown " UNAVAILABLE "\n");
    cr_expect_not_null(up, "%s", text);
    cr_expect(down && down > up, "no teardown after the signal:\n%s", text);
    free(text);
    spawned_free(&r);
    /* the next, correct run passes: the server is available again */
    snprintf(url, sizeof url, "%s/__admin/provider-states", fake_msp_url(fm));
    const char *again[] = {"--state-url", url, NULL};
    r = test_fake_provider(fake_msp_url(fm), again, 80000);
    cr_expect_eq(r.status, 0, "the next run failed:\n%s", r.out);
    spawned_free(&r);
    fake_msp_stop(fm);
}

Test(interrupt, sigint_during_provider_state_cmd_tears_down_and_exits_130)
{
    interrupted_by_state_cmd("INT", 130);
}

Test(interrupt, sigterm_during_provider_state_cmd_tears_down_and_exits_143)
{
    interrupted_by_state_cmd("TERM", 143);
}

/* ---- --state-url: a state endpoint in this process ------------------- */

typedef struct state_server {
    int fd;
    unsigned short port;
    pid_t child; /* signalled on the first setup of UNAVAILABLE */
    int signal;
    char log[8192];
    size_t len;
    int signalled;
    pthread_mutex_t lock;
} state_server;

static void serve_one(state_server *s, int c)
{
    char buf[16384];
    size_t n = 0;
    char *body = NULL;
    long want = -1;
    for (;;) {
        ssize_t got = read(c, buf + n, sizeof buf - 1 - n);
        if (got <= 0)
            return;
        n += (size_t)got;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && want < 0) {
            const char *cl = strcasestr(buf, "Content-Length:");
            want = cl ? strtol(cl + 15, NULL, 10) : 0;
            body = end + 4;
        }
        if (body && (long)(n - (size_t)(body - buf)) >= want)
            break;
        if (n == sizeof buf - 1)
            return;
    }
    cJSON *doc = cJSON_Parse(body);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "state");
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(doc, "action");
    int setup = cJSON_IsString(ac) && strcmp(ac->valuestring, "setup") == 0;
    pthread_mutex_lock(&s->lock);
    s->len += (size_t)snprintf(s->log + s->len, sizeof s->log - s->len,
                               "%s %s\n", setup ? "setup" : "teardown",
                               cJSON_IsString(st) ? st->valuestring : "?");
    if (s->len >= sizeof s->log)
        s->len = sizeof s->log - 1;
    if (setup && cJSON_IsString(st) &&
        strcmp(st->valuestring, UNAVAILABLE) == 0 && !s->signalled) {
        s->signalled = 1;
        kill(s->child, s->signal); /* before the reply: no race */
    }
    pthread_mutex_unlock(&s->lock);
    cJSON_Delete(doc);
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Type: "
                                "application/json\r\nContent-Length: 2\r\n"
                                "Connection: close\r\n\r\n{}";
    (void)!write(c, reply, sizeof reply - 1);
}

static void *serve(void *arg)
{
    state_server *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        serve_one(s, c);
        close(c);
    }
}

static void interrupted_by_state_url(int sig, int want_status)
{
    fake_msp *fm = test_fake_start(NULL);
    state_server s = {.signal = sig};
    pthread_mutex_init(&s.lock, NULL);
    s.fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    cr_assert_eq(bind(s.fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s.fd, 16), 0);
    cr_assert_eq(getsockname(s.fd, (struct sockaddr *)&a, &alen), 0);
    char state_url[64], exe[512], contracts[512];
    snprintf(state_url, sizeof state_url, "http://127.0.0.1:%u/",
             ntohs(a.sin_port));
    const char *argv[] = {
        bin_path("msp-contract", exe, sizeof exe),
        "provider",
        "--base-url",
        fake_msp_url(fm),
        "--contracts",
        src_path("contracts/fixtures", contracts, sizeof contracts),
        "--state-url",
        state_url,
        NULL};
    hx_spawn_opts o = {.timeout_ms = 80000};
    hx_proc p;
    char why[256];
    pthread_mutex_lock(&s.lock); /* s.child is set before the first call */
    cr_assert_eq(hx_spawn_start(argv, &o, &p, why, sizeof why), 0, "%s", why);
    s.child = p.pid;
    pthread_mutex_unlock(&s.lock);
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, serve, &s), 0);
    hx_spawned r;
    cr_assert_eq(hx_spawn_finish(&p, &o, &r), 0);
    shutdown(s.fd, SHUT_RDWR);
    close(s.fd);
    pthread_join(tid, NULL);
    cr_expect_eq(r.status, want_status, "%s%s", r.out, r.err);
    cr_expect_not_null(strstr(r.out, "interrupted by SIG"), "%s", r.out);
    cr_expect(s.signalled, "the state was never set up:\n%s", s.log);
    /* every setup has its teardown */
    size_t setups = 0, teardowns = 0;
    for (const char *l = s.log; *l; l = strchr(l, '\n') + 1) {
        setups += strncmp(l, "setup ", 6) == 0;
        teardowns += strncmp(l, "teardown ", 9) == 0;
    }
    cr_expect_eq(setups, teardowns, "states left set up:\n%s", s.log);
    cr_expect_not_null(strstr(s.log, "teardown " UNAVAILABLE "\n"), "%s",
                       s.log);
    hx_spawned_free(&r);
    pthread_mutex_destroy(&s.lock);
    fake_msp_stop(fm);
}

Test(interrupt, sigint_during_provider_state_url_tears_down_and_exits_130)
{
    interrupted_by_state_url(SIGINT, 130);
}

Test(interrupt, sigterm_during_provider_state_url_tears_down_and_exits_143)
{
    interrupted_by_state_url(SIGTERM, 143);
}

/* ---- verify: no key left behind --------------------------------------- */

/* 1 when a file under dir (recursively) holds needle, or is named
 * msp-contract-*; its path in found. */
static int holds(const char *dir, const char *needle, char *found, size_t len)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int hit = 0;
    if (!d)
        return 0;
    while (!hit && (e = readdir(d))) {
        char path[1024];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            hit = holds(path, needle, found, len);
            continue;
        }
        char *text = S_ISREG(st.st_mode) ? slurp(path) : strdup("");
        hit = strncmp(e->d_name, "msp-contract-", 13) == 0 ||
              strstr(text, needle) != NULL;
        free(text);
        if (hit)
            snprintf(found, len, "%s", path);
    }
    closedir(d);
    return hit;
}

static void verify_killed(const char *sig)
{
    char tmp[400], exe[512], contracts[512], cmd[200], found[1024] = "";
    /* a private TMPDIR for msp-contract and what it starts */
    snprintf(tmp, sizeof tmp, "%s/tmp", tmpdir);
    cr_assert_eq(mkdir(tmp, 0700), 0);
    setenv("TMPDIR", tmp, 1);
    /* the executor reads its key, then kills msp-contract mid-run */
    snprintf(cmd, sizeof cmd,
             "head -c 64 \"$4\" >/dev/null; kill -%s \"$PPID\"; true", sig);
    char *argv[] = {
        (char *)bin_path("msp-contract", exe, sizeof exe),
        "verify",
        "--contracts",
        (char *)src_path("contracts/fixtures", contracts, sizeof contracts),
        "--filter",
        "happy-*",
        "--executor-cmd",
        cmd,
        NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 60000, &r), 0);
    cr_expect_geq(r.status, 128, "it was killed: %d\n%s%s", r.status, r.out,
                  r.err);
    cr_expect_eq(holds(tmp, "sk-test", found, sizeof found), 0,
                 "left behind: %s", found);
    spawned_free(&r);
    unsetenv("TMPDIR");
}

Test(interrupt, sigkill_during_verify_executor_cmd_leaves_no_key_file)
{
    verify_killed("KILL");
}

Test(interrupt, sigint_during_verify_executor_cmd_leaves_no_key_or_ctx_file)
{
    verify_killed("INT");
}

Test(interrupt, sigterm_during_verify_executor_cmd_leaves_no_key_or_ctx_file)
{
    verify_killed("TERM");
}

/* 1 when pid has ended (gone, or a zombie nobody reaped yet); waits up to
 * timeout_ms for it. */
static int ended_within(pid_t pid, long timeout_ms)
{
    for (long waited = 0; waited <= timeout_ms; waited += 20) {
        char path[64], st[512] = "";
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return 1;
        size_t n = fread(st, 1, sizeof st - 1, f);
        fclose(f);
        st[n] = '\0';
        const char *close_paren = strrchr(st, ')');
        if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z')
            return 1;
        struct timespec nap = {0, 20 * 1000000L};
        nanosleep(&nap, NULL);
    }
    return 0;
}

/* The executors run in process groups of their own (a deadline kills what
 * they start), so a Ctrl-C at the terminal never reached them: verify died
 * at once and left each running executor behind, key fd and all, until its
 * own timeout. Now SIGINT and SIGTERM kill them first. */
static void verify_signalled_kills_its_executors(const char *sig)
{
    char exe[512], contracts[512], cmd[600], pidfile[400];
    snprintf(pidfile, sizeof pidfile, "%s/executor.pid", tmpdir);
    snprintf(cmd, sizeof cmd,
             "echo $$ > '%s'; kill -%s \"$PPID\"; sleep 60; true", pidfile,
             sig);
    char *argv[] = {
        (char *)bin_path("msp-contract", exe, sizeof exe),
        "verify",
        "--contracts",
        (char *)src_path("contracts/fixtures", contracts, sizeof contracts),
        "--filter",
        "happy-process-kill",
        "--executor-cmd",
        cmd,
        NULL};
    spawned r;
    cr_assert_eq(spawn_capture(argv, 50000, &r), 0);
    cr_expect_geq(r.status, 128, "it was signalled: %d\n%s%s", r.status, r.out,
                  r.err);
    spawned_free(&r);
    char *text = slurp(pidfile);
    int pid = atoi(text);
    free(text);
    cr_assert_gt(pid, 1, "the executor ran");
    int gone = ended_within(pid, test_ms(10000)); /* else its 60 s sleep */
    if (!gone)
        kill(-pid, SIGKILL); /* its group: the sleep too */
    cr_expect(gone, "executor %d still runs after verify got SIG%s", pid, sig);
}

Test(interrupt, sigint_during_verify_kills_the_executors_it_started)
{
    verify_signalled_kills_its_executors("INT");
}

Test(interrupt, sigterm_during_verify_kills_the_executors_it_started)
{
    verify_signalled_kills_its_executors("TERM");
}
