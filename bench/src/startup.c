/*
 * msp-bench-startup — launch to first 200, for row 6 of ci/bench.
 *
 *   msp-bench-startup free-port
 *       prints a loopback port that was free a moment ago
 *   msp-bench-startup wait PORT PATH
 *       probes until GET PATH on 127.0.0.1:PORT answers 200 (5 s at most),
 *       for a server ci/bench started itself
 *   msp-bench-startup PORT PATH -- PROGRAM [ARG...]
 *       spawns PROGRAM (which must listen on 127.0.0.1:PORT), then tries
 *       "GET PATH" in a tight loop of connect attempts until one is answered
 *       with a 200; prints the milliseconds from spawn to that status line,
 *       then stops the program (SIGTERM, SIGKILL after 3 s) and reaps it.
 *
 * Gives up after 5 s, or as soon as the program exits, with exit status 1.
 * Probe connections are closed with a reset so no TIME_WAIT is left on the
 * server's port between runs.
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hx_spawn.h"

#define GIVE_UP_US    5e6
#define STOP_GRACE_US 3e6

static void loopback(struct sockaddr_in *sa, unsigned short port)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    loopback(&sa, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("msp-bench-startup: free-port");
        return 1;
    }
    printf("%u\n", (unsigned)ntohs(sa.sin_port));
    close(fd);
    return 0;
}

static void close_with_reset(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* One probe: 1 when the server answered 200, 0 when it is not there yet or
 * answered something else, before `until_us`. */
static int probe(unsigned short port, const char *path, double until_us)
{
    struct sockaddr_in sa;
    char req[512], buf[256];
    size_t got = 0;
    int fd, ok = 0;

    loopback(&sa, port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        sched_yield(); /* let the starting server have the CPU */
        return 0;
    }
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             path);
    if (write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
        while (got < sizeof buf - 1 && !memchr(buf, '\n', got)) {
            struct pollfd p = {fd, POLLIN, 0};
            double left_ms = (until_us - bench_now_us()) / 1e3;
            ssize_t n;
            if (left_ms <= 0 || poll(&p, 1, (int)left_ms + 1) <= 0)
                break;
            n = read(fd, buf + got, sizeof buf - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        buf[got] = '\0';
        ok =
            strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 8, " 200", 4) == 0;
    }
    close_with_reset(fd);
    return ok;
}

static int wait_for(long port, const char *path)
{
    double until = bench_now_us() + GIVE_UP_US;

    while (bench_now_us() < until)
        if (probe((unsigned short)port, path, until))
            return 0;
    fprintf(stderr, "msp-bench-startup: nothing answered 200 on port %ld\n",
            port);
    return 1;
}

int main(int argc, char **argv)
{
    hx_spawn_opts opts = {.discard = 1, .search_path = 1};
    hx_proc proc;
    char why[512];
    long port;
    double t0, until;
    int up = 0, ended = 0, status;

    if (argc == 2 && strcmp(argv[1], "free-port") == 0)
        return free_port();
    if (argc == 4 && strcmp(argv[1], "wait") == 0 &&
        bench_parse_long(argv[2], 1, 65535, &port) == 0)
        return wait_for(port, argv[3]);
    if (argc < 5 || strcmp(argv[3], "--") != 0 ||
        bench_parse_long(argv[1], 1, 65535, &port) != 0) {
        fprintf(stderr,
                "usage: msp-bench-startup free-port\n"
                "       msp-bench-startup wait PORT PATH\n"
                "       msp-bench-startup PORT PATH -- PROGRAM [ARG...]\n");
        return 1;
    }
    t0 = bench_now_us();
    if (hx_spawn_start((const char *const *)argv + 4, &opts, &proc, why,
                       sizeof why) != 0) {
        fprintf(stderr, "msp-bench-startup: %s\n", why);
        return 1;
    }
    until = t0 + GIVE_UP_US;
    while (bench_now_us() < until &&
           !(ended = hx_proc_wait(&proc, 0, &status))) {
        if (probe((unsigned short)port, argv[2], until)) {
            up = 1;
            break;
        }
    }
    if (up)
        printf("%.2f\n", (bench_now_us() - t0) / 1e3);
    else
        fprintf(stderr,
                "msp-bench-startup: %s never answered 200 on port %ld\n",
                argv[4], port);
    if (!ended)
        hx_proc_stop(&proc, STOP_GRACE_US / 1000);
    return up ? 0 : 1;
}
