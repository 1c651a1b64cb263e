/*
 * conns.h — the open connections and the time budget for receiving a
 * request.
 *
 * libmicrohttpd's connection timeout counts idle time only, so a client
 * sending a byte a second holds a connection for ever. Every connection is
 * registered here when it opens (MHD_OPTION_NOTIFY_CONNECTION) with the
 * time its current request began (the connection's start, then the end of
 * the previous request); a sweeper thread shuts down (shutdown(2), which
 * libmicrohttpd sees as the peer closing) every connection still receiving
 * a request past the budget. A request whose headers and body have arrived
 * is no longer timed (its reply may be a long scripted delay or hang).
 */
#ifndef FAKE_MSP_CONNS_H
#define FAKE_MSP_CONNS_H

#include <microhttpd.h>

typedef struct fm_conns fm_conns;

/* budget_ms > 0. NULL on failure (no memory, no thread). */
fm_conns *fm_conns_new(long long budget_ms);
/* Stops the sweeper (call before MHD_stop_daemon). NULL-safe. */
void fm_conns_stop(fm_conns *cs);
/* Frees (after MHD_stop_daemon: every connection has been closed). */
void fm_conns_free(fm_conns *cs);

/* The MHD_OPTION_NOTIFY_CONNECTION callback; cls is the fm_conns. */
void fm_conns_notify(void *cls, struct MHD_Connection *c, void **socket_ctx,
                     enum MHD_ConnectionNotificationCode code);

/* The request on c has fully arrived / has been answered (the next one
 * begins now). */
void fm_conns_received(struct MHD_Connection *c);
void fm_conns_request_done(struct MHD_Connection *c);

/* Connections closed for passing the budget, ever. */
unsigned long long fm_conns_expired(fm_conns *cs);

#endif
