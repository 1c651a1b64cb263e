/*
 * msp-bench-mhd — the raw libmicrohttpd reference for row 13 of ci/bench.
 *
 *   msp-bench-mhd PORT
 *
 * Listens on 127.0.0.1:PORT with fake-msp's polling set-up (internal
 * polling thread, epoll, turbo, a pool of 2 threads; none of its
 * suspend/resume, connection callback or limits) and answers every
 * request, body read and discarded, with the canned executor reply
 * nginx and bench/fixtures/bench-canned-reply.json give:
 * 200 {"exit_code":0,"stdout":"ok\n","stderr":""}. It is the least a
 * libmicrohttpd server must do per request, so fake-msp's replay path is
 * measured against it. Runs until SIGTERM or SIGINT, then exits 0.
 */
#include "bench_util.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CANNED "{\"exit_code\":0,\"stdout\":\"ok\\n\",\"stderr\":\"\"}"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Every request: skip the body, queue the one shared response. */
static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static int first_call;
    struct MHD_Response *canned = cls;

    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = &first_call;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(c, MHD_HTTP_OK, canned);
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    struct MHD_Response *canned;
    struct MHD_Daemon *d;
    struct sigaction act;
    long port;

    if (argc != 2 || bench_parse_long(argv[1], 1, 65535, &port) != 0) {
        fprintf(stderr, "usage: msp-bench-mhd PORT\n");
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    canned = MHD_create_response_from_buffer(strlen(CANNED), (void *)CANNED,
                                             MHD_RESPMEM_PERSISTENT);
    if (!canned || MHD_add_response_header(canned, "Content-Type",
                                           "application/json") != MHD_YES) {
        fprintf(stderr, "msp-bench-mhd: cannot build the response\n");
        return 1;
    }
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO,
        (uint16_t)port, NULL, NULL, answer, canned, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "msp-bench-mhd: cannot listen on 127.0.0.1:%ld\n",
                port);
        MHD_destroy_response(canned);
        return 1;
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(canned);
    return 0;
}
