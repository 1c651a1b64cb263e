#define _GNU_SOURCE /* pipe2 */
/*
 * hx_spawn.c — see hx_spawn.h.
 */
#include "hx_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "executor/msp_util.h"

extern char **environ;

#define READ_CHUNK 65536
/* Once the child has exited, what is left in its pipes is read, at most
 * this many chunks: a background process it started may hold them open
 * (and even keep writing) forever. */
#define DRAIN_CHUNKS 64
/* Without a pidfd, how often the loop looks whether the child exited. */
#define EXIT_POLL_MS 50

/* The children not reaped yet (0: a free slot), for the signal handler. */
#define LIVE_MAX 256
static atomic_int live[LIVE_MAX];

static void live_add(pid_t pid)
{
    for (size_t i = 0; i < LIVE_MAX; i++) {
        int none = 0;
        if (atomic_compare_exchange_strong(&live[i], &none, (int)pid))
            return;
    }
}

static void live_remove(pid_t pid)
{
    for (size_t i = 0; i < LIVE_MAX; i++) {
        int was = (int)pid;
        if (atomic_compare_exchange_strong(&live[i], &was, 0))
            return;
    }
}

/* Held across posix_spawn and live_add, so the killer never misses a child
 * that exists but is not listed yet. */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

static sigset_t ending_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

/* The thread that takes SIGINT and SIGTERM (blocked everywhere else). */
static void *killer(void *unused)
{
    sigset_t set = ending_signals();
    int sig = SIGTERM;
    (void)unused;
    if (sigwait(&set, &sig) != 0)
        return NULL;
    pthread_mutex_lock(&spawn_lock);
    for (size_t i = 0; i < LIVE_MAX; i++) {
        int pid = atomic_load(&live[i]);
        if (pid > 0)
            (void)kill(-pid, SIGKILL);
    }
    /* end by the same signal, as if there were no handler */
    (void)signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    (void)pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    (void)raise(sig);
    _exit(128 + sig);
}

void hx_spawn_kill_children_on_signal(void)
{
    sigset_t set = ending_signals();
    pthread_t t;
    /* before any other thread exists: they all inherit the mask */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return;
    if (pthread_create(&t, NULL, killer, NULL) != 0) {
        (void)pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        return;
    }
    (void)pthread_detach(t);
}

long long hx_spawn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_err(char *errbuf, size_t errlen, const char *what, int err)
{
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s: %s", what, strerror(err));
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_pipes(int in[2], int out[2], int err[2])
{
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&err[i]);
    }
}

int hx_spawn_start(const char *const argv[], const hx_spawn_opts *o, hx_proc *p,
                   char *errbuf, size_t errlen)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc;
    p->pid = -1;
    p->in_fd = p->out_fd = p->err_fd = -1;
    if (!argv || !argv[0] || o->n_pass_fds > HX_SPAWN_MAX_PASS_FDS) {
        set_err(errbuf, errlen, "spawn", EINVAL);
        return -1;
    }
    /* a child that exits before reading its stdin must not kill us: the
     * process-wide change hx_spawn.h documents at hx_spawn_start */
    (void)signal(SIGPIPE, SIG_IGN);
    if ((o->in && pipe2(in, O_CLOEXEC) != 0) ||
        (!o->discard && !o->inherit_output &&
         (pipe2(out, O_CLOEXEC) != 0 ||
          (o->stderr_to == HX_STDERR_PIPE && pipe2(err, O_CLOEXEC) != 0)))) {
        rc = errno;
        close_pipes(in, out, err);
        set_err(errbuf, errlen, "pipe", rc);
        return -1;
    }
    /* copies above every target (3 .. 3+n-1), close-on-exec in this
     * process: a concurrent spawn never inherits them */
    int pass[HX_SPAWN_MAX_PASS_FDS];
    size_t npass = 0;
    for (; npass < o->n_pass_fds; npass++) {
        pass[npass] =
            fcntl(o->pass_fds[npass], F_DUPFD_CLOEXEC, 3 + (int)o->n_pass_fds);
        if (pass[npass] < 0)
            break;
    }
    if (npass != o->n_pass_fds) {
        rc = errno;
        for (size_t i = 0; i < npass; i++)
            close(pass[i]);
        close_pipes(in, out, err);
        set_err(errbuf, errlen, "passing fds", rc);
        return -1;
    }
    posix_spawn_file_actions_init(&fa);
    if (o->in)
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    else
        posix_spawn_file_actions_addopen(
            &fa, STDIN_FILENO, o->stdin_path ? o->stdin_path : "/dev/null",
            O_RDONLY, 0);
    if (o->discard) {
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
                                         O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
                                         O_WRONLY, 0);
    } else if (!o->inherit_output) {
        posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
        if (o->stderr_to == HX_STDERR_PIPE)
            posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
        else if (o->stderr_to == HX_STDERR_DISCARD)
            posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
                                             O_WRONLY, 0);
    }
    /* after stdio: a pipe end may itself be numbered 3 .. 3+n-1 */
    for (size_t i = 0; i < npass; i++)
        posix_spawn_file_actions_adddup2(&fa, pass[i], 3 + (int)i);
    posix_spawnattr_init(&attr);
    /* the child starts with no signal blocked, whatever this thread blocks */
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attr, 0);
    p->started_ms = hx_spawn_now_ms();
    char *const *env =
        (char *const *)(o->envp ? o->envp : (const char *const *)environ);
    pthread_mutex_lock(&spawn_lock);
    rc = o->search_path ? posix_spawnp(&p->pid, argv[0], &fa, &attr,
                                       (char *const *)argv, env)
                        : posix_spawn(&p->pid, argv[0], &fa, &attr,
                                      (char *const *)argv, env);
    if (rc == 0)
        live_add(p->pid);
    pthread_mutex_unlock(&spawn_lock);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    for (size_t i = 0; i < npass; i++)
        close(pass[i]);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    if (rc != 0) {
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&err[0]);
        p->pid = -1;
        set_err(errbuf, errlen, argv[0], rc);
        return -1;
    }
    p->in_fd = in[1];
    p->out_fd = out[0];
    p->err_fd = err[0];
    if (p->in_fd >= 0)
        (void)fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
    return 0;
}

/* One output stream: its first b.max bytes kept, every byte counted in
 * total. */
typedef struct sink {
    msp_buf b;
    size_t total;
} sink;

static int sink_add(sink *s, const char *p, size_t n)
{
    size_t room = s->b.max - s->b.len;
    s->total += n;
    return msp_buf_append(&s->b, p, n < room ? n : room);
}

int hx_proc_wait(hx_proc *p, long long timeout_ms, int *status)
{
    long long until = hx_spawn_now_ms() + timeout_ms;
    for (;;) {
        pid_t w = waitpid(p->pid, status, timeout_ms < 0 ? 0 : WNOHANG);
        if (w == p->pid)
            return 1;
        if (w < 0 && errno != EINTR)
            return 1; /* not ours any more: nothing to wait for */
        if (timeout_ms >= 0 && hx_spawn_now_ms() >= until)
            return 0;
        struct timespec nap = {0, 1000000};
        nanosleep(&nap, NULL);
    }
}

static void close_all(hx_proc *p)
{
    close_fd(&p->in_fd);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
}

int hx_proc_stop(hx_proc *p, long long grace_ms)
{
    int status = 0;
    close_all(p);
    if (p->pid <= 0)
        return 0;
    kill(-p->pid, SIGTERM);
    if (!hx_proc_wait(p, grace_ms > 0 ? grace_ms : 1, &status)) {
        kill(-p->pid, SIGKILL);
        hx_proc_wait(p, -1, &status);
    }
    live_remove(p->pid);
    p->pid = -1;
    return status;
}

/* A pollable fd that becomes readable when pid exits, or -1 (old kernel). */
static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, pid, 0);
    if (fd >= 0) {
        (void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
        return (int)fd;
    }
#else
    (void)pid;
#endif
    return -1;
}

/* Reads, without waiting, what is already in the child's pipes (bounded by
 * DRAIN_CHUNKS), then closes them. */
static int drain(hx_proc *p, sink *so, sink *se)
{
    int rc = 0;
    for (int round = 0; round < DRAIN_CHUNKS; round++) {
        struct pollfd fds[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
        if (p->out_fd < 0 && p->err_fd < 0)
            break;
        int pr = poll(fds, 2, 0);
        if (pr <= 0)
            break;
        for (int i = 0; i < 2; i++) {
            char buf[READ_CHUNK];
            int *fd = i == 0 ? &p->out_fd : &p->err_fd;
            if (*fd < 0 || !fds[i].revents)
                continue;
            ssize_t n = read(*fd, buf, sizeof buf);
            if (n > 0) {
                if (sink_add(i == 0 ? so : se, buf, (size_t)n) != 0)
                    rc = -1;
            } else if (n == 0 || errno != EINTR) {
                close_fd(fd);
            }
        }
    }
    close_all(p);
    return rc;
}

int hx_spawn_finish(hx_proc *p, const hx_spawn_opts *o, hx_spawned *r)
{
    sink so = {.total = 0}, se = {.total = 0};
    long long deadline = o->timeout_ms > 0 ? p->started_ms + o->timeout_ms : 0;
    size_t written = 0;
    int rc = 0, status = 0, reaped = 0;
    memset(r, 0, sizeof *r);
    msp_buf_init(&so.b, o->out_cap ? o->out_cap : HX_SPAWN_DEFAULT_CAP);
    msp_buf_init(&se.b, o->err_cap ? o->err_cap : HX_SPAWN_DEFAULT_CAP);
    if (p->in_fd >= 0 && o->in_len == 0)
        close_fd(&p->in_fd);
    /* The end is the child's exit, not EOF on its output: a background
     * process it leaves behind may keep the pipes open. */
    int pidfd = open_pidfd(p->pid);
    while (p->out_fd >= 0 || p->err_fd >= 0 || p->in_fd >= 0) {
        pid_t w = waitpid(p->pid, &status, WNOHANG);
        if (w == p->pid || (w < 0 && errno == ECHILD)) {
            reaped = 1;
            if (drain(p, &so, &se) != 0)
                rc = -1;
            break;
        }
        struct pollfd fds[4] = {{p->out_fd, POLLIN, 0},
                                {p->err_fd, POLLIN, 0},
                                {p->in_fd, POLLOUT, 0},
                                {pidfd, POLLIN, 0}};
        long long left = deadline ? deadline - hx_spawn_now_ms() : 1000;
        long long nap = pidfd >= 0 ? 1000 : EXIT_POLL_MS;
        if (left <= 0) {
            r->timed_out = 1;
            break;
        }
        int pr = poll(fds, 4, (int)(left > nap ? nap : left));
        if (pr < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        for (int i = 0; pr > 0 && i < 2; i++) {
            char buf[READ_CHUNK];
            int *fd = i == 0 ? &p->out_fd : &p->err_fd;
            ssize_t n;
            if (*fd < 0 || !fds[i].revents)
                continue;
            n = read(*fd, buf, sizeof buf);
            if (n > 0) {
                if (sink_add(i == 0 ? &so : &se, buf, (size_t)n) != 0)
                    rc = -1;
            } else if (n == 0 || errno != EINTR) {
                close_fd(fd);
            }
        }
        if (pr > 0 && p->in_fd >= 0 && fds[2].revents) {
            ssize_t n = write(p->in_fd, o->in + written, o->in_len - written);
            if (n > 0)
                written += (size_t)n;
            if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
                written == o->in_len)
                close_fd(&p->in_fd);
        }
    }
    close_all(p);
    if (pidfd >= 0)
        close(pidfd);
    /* Both pipes closed: it is exiting; still bounded by the deadline. */
    if (!r->timed_out && !reaped) {
        long long wait_ms = -1; /* no deadline: until it ends */
        if (deadline) {
            wait_ms = deadline - hx_spawn_now_ms();
            if (wait_ms < 0)
                wait_ms = 0; /* only look */
        }
        reaped = hx_proc_wait(p, wait_ms, &status);
        r->timed_out = !reaped;
    }
    if (!reaped) {
        kill(-p->pid, SIGKILL);
        hx_proc_wait(p, -1, &status);
    }
    live_remove(p->pid);
    p->pid = -1;
    r->elapsed_ms = hx_spawn_now_ms() - p->started_ms;
    r->exited = WIFEXITED(status);
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r->status = r->exited ? WEXITSTATUS(status) : 128 + r->signal;
    r->out = msp_buf_take(&so.b, &r->out_len); /* "" when it wrote nothing */
    r->out_total = so.total;
    r->err = msp_buf_take(&se.b, &r->err_len);
    r->err_total = se.total;
    return r->out && r->err ? rc : -1;
}

int hx_spawn_run(const char *const argv[], const hx_spawn_opts *o,
                 hx_spawned *r, char *errbuf, size_t errlen)
{
    hx_proc p;
    memset(r, 0, sizeof *r);
    if (hx_spawn_start(argv, o, &p, errbuf, errlen) != 0)
        return -1;
    if (hx_spawn_finish(&p, o, r) != 0) {
        set_err(errbuf, errlen, "reading its output", errno ? errno : EIO);
        return -1;
    }
    return 0;
}

void hx_spawned_free(hx_spawned *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}
