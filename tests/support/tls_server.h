/*
 * tls_server.h — an HTTPS test server (libmicrohttpd + GnuTLS) and a
 * throwaway CA generated at test time with the openssl CLI.
 */
#ifndef MSP_TLS_SERVER_H
#define MSP_TLS_SERVER_H

/* Paths of freshly generated test-only material in a temp directory. */
typedef struct tls_material {
    char dir[256];
    char ca_pem[300];   /* the CA certificate (a ca_file for the executor) */
    char cert_pem[300]; /* the server certificate for 127.0.0.1, signed by the
                           CA */
    char key_pem[300];  /* the server key */
} tls_material;

/* Generates a CA and a server certificate (SAN IP:127.0.0.1). Returns 0
 * or -1. Remove with tls_material_remove(). */
int tls_material_make(tls_material *m);
void tls_material_remove(const tls_material *m);

typedef struct tls_server tls_server;

/* Starts an HTTPS server on 127.0.0.1:0 answering every request with
 * 200 {"exit_code":0,"stdout":"tls ok","stderr":""}. NULL on failure. */
tls_server *tls_server_start(const tls_material *m);
int tls_server_port(const tls_server *s);
void tls_server_stop(tls_server *s);

#endif
