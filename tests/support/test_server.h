/*
 * test_server.h — a small scriptable HTTP/1.1 test server on raw TCP.
 *
 * Binds 127.0.0.1:0, serves each connection on its own thread, reads one
 * request at a time (headers + Content-Length body), records it, and
 * answers with the next scripted action (or the default one). It counts
 * accepted connections. ts_stop() is prompt: every wait polls a self-pipe.
 * For the executor tests only; not hardened against hostile clients.
 */
#ifndef MSP_TEST_SERVER_H
#define MSP_TEST_SERVER_H

#include <stddef.h>

typedef enum ts_kind {
    TS_REPLY,         /* send bytes, keep the connection open */
    TS_REPLY_CLOSE,   /* send bytes, then close */
    TS_CLOSE,         /* close without sending a byte */
    TS_RESET,         /* close with a TCP reset (SO_LINGER 0) */
    TS_HANG,          /* never answer, until the client or the server goes */
    TS_DELAY_REPLY,   /* wait delay_ms, then as TS_REPLY */
    TS_PARTIAL_HANG,  /* send bytes, then never send more */
    TS_PARTIAL_RESET, /* send bytes, then reset */
    TS_ECHO_ID,      /* 200 {"exit_code":0,"stdout":<command id>,"stderr":""} */
    TS_FLOOD_CHUNKED /* 200 chunked body of 17 MiB (past the cap) */
} ts_kind;

typedef struct ts_action {
    ts_kind kind;
    const char *bytes; /* copied by ts_push / ts_set_default */
    size_t len;        /* 0: strlen(bytes) */
    int delay_ms;
} ts_action;

typedef struct ts_request {
    char method[16];
    char path[512];
    char headers[8192]; /* "Name: value\r\n" lines as received, in order */
    char *body;         /* NUL-terminated */
    size_t body_len;
} ts_request;

typedef struct ts_server ts_server;

/* Starts a server; NULL on failure. The default action is a keep-alive
 * 200 with body {"exit_code":0,"stdout":"ok","stderr":""}. */
ts_server *ts_start(void);

/* Stops the server, joins every thread, frees everything. NULL-safe. */
void ts_stop(ts_server *s);

int ts_port(const ts_server *s);

/* "http://127.0.0.1:<port>", owned by the server. */
const char *ts_url(const ts_server *s);

/* Queues an action for the next request (FIFO). */
void ts_push(ts_server *s, ts_action a);

/* Sets the action used once the queue is empty. */
void ts_set_default(ts_server *s, ts_action a);

/* Shorthands: a full response with the given status and body. */
void ts_push_response(ts_server *s, int status, const char *body);

int ts_connections(ts_server *s);
int ts_request_count(ts_server *s);

/* The i-th recorded request, or NULL. Valid until ts_stop(). */
const ts_request *ts_request_at(ts_server *s, int i);

/* Copies the value of the first header called name (case-insensitive) into
 * buf; returns 1 if found, 0 if not. */
int ts_header(const ts_request *r, const char *name, char *buf, size_t len);

/* A canned keep-alive response: status line, Content-Type JSON,
 * Content-Length, body. Returns a static-per-thread buffer. */
const char *ts_http(int status, const char *body);

#endif /* MSP_TEST_SERVER_H */
