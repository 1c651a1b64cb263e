/* spawn.c — see spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct sink {
    char *buf;
    size_t len, cap;
} sink;

static int sink_read(int fd, sink *s)
{
    if (s->cap - s->len < 4097) {
        size_t cap = s->cap ? s->cap * 2 : 8192;
        char *b = realloc(s->buf, cap);
        if (!b)
            return -1;
        s->buf = b;
        s->cap = cap;
    }
    ssize_t n = read(fd, s->buf + s->len, s->cap - s->len - 1);
    if (n > 0)
        s->len += (size_t)n;
    if (s->buf)
        s->buf[s->len] = '\0';
    return n > 0 ? 1 : (n == 0 ? 0 : (errno == EINTR ? 1 : -1));
}

int spawn_capture(char *const argv[], long timeout_ms, spawned *r)
{
    int po[2], pe[2];
    if (pipe(po) != 0)
        return -1;
    if (pipe(pe) != 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return -1;
    }
    sink out = {0}, err = {0};
    struct pollfd p[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
    long long deadline = now_ms() + timeout_ms;
    int open_fds = 2;
    while (open_fds > 0 && now_ms() < deadline) {
        if (poll(p, 2, 100) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP))) {
                if (sink_read(p[i].fd, i ? &err : &out) <= 0) {
                    close(p[i].fd);
                    p[i].fd = -1;
                    open_fds--;
                }
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (p[i].fd >= 0)
            close(p[i].fd);
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    r->out = out.buf ? out.buf : strdup("");
    r->err = err.buf ? err.buf : strdup("");
    return 0;
}

void spawned_free(spawned *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *bin_path(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("MSP_BIN_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : "build/bin", name);
    return buf;
}

const char *src_path(const char *rel, char *buf, size_t len)
{
    const char *dir = getenv("MSP_SOURCE_DIR");
    snprintf(buf, len, "%s/%s", dir ? dir : ".", rel);
    return buf;
}

int write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t plen = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, plen) == 0)
            n++;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return n;
}
