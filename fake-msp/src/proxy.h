/*
 * proxy.h — fake-msp --proxy URL: every request (the admin API excepted) is
 * forwarded to the upstream with libcurl and its reply returned unchanged;
 * with --record DIR each exchange also becomes a fixture (record.h).
 *
 * Threads: the access handler never waits for the upstream. It suspends the
 * connection (MHD_suspend_connection) and queues a job; one of
 * FM_PROXY_WORKERS worker threads, each with its own curl handle (so its
 * upstream connection stays alive), sends the request, builds the fixture,
 * journals the exchange, prepares the MHD response in the request and
 * resumes the connection (the handler then queues it: fm_replay_resumed),
 * then writes the fixture file (fm_rec_flush).
 * An upstream that cannot be reached, or breaks mid-reply, gets the client
 * a 502 BAD_GATEWAY naming the cause; nothing is recorded.
 */
#ifndef FAKE_MSP_PROXY_H
#define FAKE_MSP_PROXY_H

#include <microhttpd.h>
#include <stddef.h>

#define FM_PROXY_WORKERS 16
/* Replies from the upstream are buffered whole, up to this size. */
#define FM_PROXY_MAX_REPLY (64u * 1024u * 1024u)
/* The whole upstream exchange, at most. */
#define FM_PROXY_TIMEOUT_MS 120000L

struct fm_req;
struct fake_msp;
struct fake_msp_options;
typedef struct fm_proxy fm_proxy;

/* Starts the workers. NULL with a reason in errbuf (bad URL, unusable
 * --record directory, bad --redact path). */
fm_proxy *fm_proxy_new(struct fake_msp *fm, const struct fake_msp_options *opt,
                       char *errbuf, size_t errlen);

/* Takes a whole request: suspends the connection and queues it. */
enum MHD_Result fm_proxy_dispatch(struct fm_req *r, struct MHD_Connection *c,
                                  const char *url, const char *method);

/* Aborts upstream exchanges in flight, resumes every connection (their
 * handlers then close them) and joins the workers. Before MHD stops. */
void fm_proxy_stop(fm_proxy *p);
void fm_proxy_free(fm_proxy *p);

#endif
