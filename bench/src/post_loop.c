/*
 * msp-bench-post — a fixed number of execute requests over one keep-alive
 * connection, for row 13 of ci/bench (instructions per request of a server
 * under callgrind, where wrk's duration-bound count would not do).
 *
 *   msp-bench-post PORT CALLS [TOOL PARAMS_JSON]
 *
 * Sends CALLS sequential "POST /api/v1/god-mode/execute" requests to
 * 127.0.0.1:PORT, shaped as bench/wrk/execute.lua shapes them (the wire
 * contract's headers, a fresh lowercase UUID command id per request whose
 * fourth group is 8000, body {"tool":TOOL,"params":PARAMS,"simulate":false},
 * default msp.list_devices and {}). A plain socket and a hand-written
 * HTTP/1.1 exchange keep the client's own work small. Prints the
 * microseconds per request; exits 1 when any reply is not a 200 with a
 * Content-Length body, or when nothing answers within 60 s per request.
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REPLY_CAP  65536
#define WAIT_MS    60000
#define REQ_CAP    2048
#define PARAMS_CAP 1024

/* Reads until one whole reply (headers + Content-Length body) is in buf.
 * Returns its status code, or -1. */
static int read_reply(int fd, char *buf)
{
    size_t have = 0, need = 0;
    const char *end, *cl;
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t n;

    for (;;) {
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end && !need) {
            cl = strstr(buf, "\r\nContent-Length: ");
            if (!cl || cl > end)
                cl = strstr(buf, "\r\ncontent-length: ");
            if (!cl || cl > end)
                return -1;
            need = (size_t)(end + 4 - buf) +
                   strtoul(cl + strlen("\r\nContent-Length: "), NULL, 10);
            if (need >= REPLY_CAP)
                return -1;
        }
        if (need && have >= need)
            return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? atoi(buf + 9) : -1;
        if (have >= REPLY_CAP - 1 || poll(&p, 1, WAIT_MS) != 1)
            return -1;
        n = read(fd, buf + have, REPLY_CAP - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
}

static int send_all(int fd, const char *p, size_t len)
{
    ssize_t n;

    while (len) {
        n = write(fd, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static char reply[REPLY_CAP];
    char req[REQ_CAP], body[PARAMS_CAP + 128], id[64];
    const char *tool = argc == 5 ? argv[3] : "msp.list_devices";
    const char *params = argc == 5 ? argv[4] : "{}";
    struct sockaddr_in sa;
    long port, calls, i;
    int fd, one = 1, status, len, blen;
    double t0;

    if ((argc != 3 && argc != 5) ||
        bench_parse_long(argv[1], 1, 65535, &port) != 0 ||
        bench_parse_long(argv[2], 1, 100000000, &calls) != 0 ||
        strlen(tool) > 64 || strlen(params) > PARAMS_CAP) {
        fprintf(stderr,
                "usage: msp-bench-post PORT CALLS [TOOL PARAMS_JSON]\n");
        return 1;
    }
    blen = snprintf(body, sizeof body,
                    "{\"tool\":\"%s\",\"params\":%s,\"simulate\":false}", tool,
                    params);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("msp-bench-post: connect");
        return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    t0 = bench_now_us();
    for (i = 0; i < calls; i++) {
        snprintf(id, sizeof id, "%08lx-0000-4000-8000-%012lx",
                 (unsigned long)getpid() & 0xffffffffUL, (unsigned long)i);
        len = snprintf(req, sizeof req,
                       "POST /api/v1/god-mode/execute HTTP/1.1\r\n"
                       "Host: 127.0.0.1:%ld\r\n"
                       "Content-Type: application/json\r\n"
                       "Authorization: Bearer sk-test\r\n"
                       "X-Brainstorm-Command-Id: %s\r\n"
                       "Idempotency-Key: %s\r\n"
                       "Content-Length: %d\r\n\r\n%s",
                       port, id, id, blen, body);
        if (len <= 0 || (size_t)len >= sizeof req ||
            send_all(fd, req, (size_t)len) != 0) {
            fprintf(stderr, "msp-bench-post: request %ld not sent\n", i);
            return 1;
        }
        status = read_reply(fd, reply);
        if (status != 200) {
            fprintf(stderr, "msp-bench-post: request %ld: status %d\n", i,
                    status);
            return 1;
        }
    }
    printf("%.3f\n", (bench_now_us() - t0) / (double)calls);
    close(fd);
    return 0;
}
