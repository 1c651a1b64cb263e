/*
 * tls_server.c — see tls_server.h.
 */
#include "tls_server.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tls_server {
    struct MHD_Daemon *daemon;
    char *cert;
    char *key;
    int port;
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

int tls_material_make(tls_material *m)
{
    char cmd[4096];
    snprintf(m->dir, sizeof m->dir, "/tmp/msp-tls-XXXXXX");
    if (!mkdtemp(m->dir))
        return -1;
    snprintf(m->ca_pem, sizeof m->ca_pem, "%s/ca.pem", m->dir);
    snprintf(m->cert_pem, sizeof m->cert_pem, "%s/srv.pem", m->dir);
    snprintf(m->key_pem, sizeof m->key_pem, "%s/srv.key", m->dir);
    snprintf(
        cmd, sizeof cmd,
        "(cd %s && "
        "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
        "-nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj /CN=msp-test-ca "
        "-addext basicConstraints=critical,CA:TRUE "
        "-addext keyUsage=critical,keyCertSign,cRLSign && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
        "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial "
        "-out srv.pem -days 2 -extfile ext.cnf) >/dev/null 2>&1",
        m->dir);
    return system(cmd) == 0 ? 0 : -1;
}

void tls_material_remove(const tls_material *m)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", m->dir);
    (void)!system(cmd);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static const char body[] =
        "{\"exit_code\":0,\"stdout\":\"tls ok\",\"stderr\":\"\"}";
    (void)cls, (void)url, (void)method, (void)version, (void)upload;
    if (*con_cls == NULL) {
        *con_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(
        sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

tls_server *tls_server_start(const tls_material *m)
{
    tls_server *s = calloc(1, sizeof *s);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->cert = slurp(m->cert_pem);
    s->key = slurp(m->key_pem);
    if (s->cert && s->key)
        s->daemon = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0, NULL, NULL,
            answer, NULL, MHD_OPTION_SOCK_ADDR, &a, MHD_OPTION_HTTPS_MEM_CERT,
            s->cert, MHD_OPTION_HTTPS_MEM_KEY, s->key, MHD_OPTION_END);
    if (!s->daemon) {
        tls_server_stop(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    return s;
}

int tls_server_port(const tls_server *s)
{
    return s->port;
}

void tls_server_stop(tls_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    free(s->cert);
    free(s->key);
    free(s);
}
