/*
 * spawn.c — see spawn.h.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void append(char **buf, size_t *len, const char *p, size_t n)
{
    *buf = realloc(*buf, *len + n + 1);
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
}

int spawn_run(const char *const argv[], const char *const envp[],
              const char *in, size_t in_len, int timeout_ms, spawn_result *r)
{
    static const char *const empty_env[] = {NULL};
    int pin[2], pout[2], perr[2];
    memset(r, 0, sizeof *r);
    signal(SIGPIPE, SIG_IGN); /* a child that exits early must not kill us */
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    if (pipe(pin) || pipe(pout) || pipe(perr))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        close(pin[1]);
        close(pout[0]);
        close(perr[0]);
        execve(argv[0], (char *const *)argv,
               (char *const *)(envp ? envp : empty_env));
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    size_t written = 0;
    int in_fd = pin[1];
    if (in_len == 0) {
        close(in_fd);
        in_fd = -1;
    }
    long long deadline = now_ms() + timeout_ms;
    int open_fds = 2;
    while (open_fds > 0) {
        struct pollfd p[3] = {
            {pout[0], POLLIN, 0}, {perr[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
        long long left = deadline - now_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            r->timed_out = 1;
            break;
        }
        if (poll(p, 3, (int)left) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd >= 0 && p[i].revents) {
                char buf[65536];
                ssize_t n = read(p[i].fd, buf, sizeof buf);
                if (n > 0) {
                    if (i == 0)
                        append(&r->out, &r->out_len, buf, (size_t)n);
                    else
                        append(&r->err, &r->err_len, buf, (size_t)n);
                } else {
                    close(p[i].fd);
                    if (i == 0)
                        pout[0] = -1;
                    else
                        perr[0] = -1;
                    open_fds--;
                }
            }
        }
        if (in_fd >= 0 && p[2].revents) {
            ssize_t n = write(in_fd, in + written, in_len - written);
            if (n > 0)
                written += (size_t)n;
            if (n < 0 || written == in_len) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0)
        close(in_fd);
    if (pout[0] >= 0)
        close(pout[0]);
    if (perr[0] >= 0)
        close(perr[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 0;
}

void spawn_result_free(spawn_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}
