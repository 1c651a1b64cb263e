/*
 * proxy.h — fake-msp --proxy URL: every request (the admin API excepted) is
 * forwarded to the upstream with libcurl and its reply returned unchanged
 * (hop-by-hop headers dropped both ways); with --record DIR each exchange
 * also becomes a fixture (record.h).
 *
 * Threads: the access handler never waits for the upstream. It checks the
 * request-target (origin-form only, else 400: proxy_rules.h), admits the
 * exchange (at most --proxy-queue in flight and FM_PROXY_BUDGET bytes of
 * bodies held, else 503 with Retry-After), suspends the connection and
 * hands the exchange to the transfer thread, which drives every upstream
 * transfer at once with libcurl's multi interface (no worker to starve).
 * Every FM_PROXY_PROBE_MS it checks the clients of the exchanges in
 * flight: one whose client has gone is cancelled (never forwarded if not
 * started, aborted if started). A finished exchange is answered on that
 * thread; one to record goes to the recording thread, which builds the
 * fixture (fm_rec_exchange), journals, resumes the connection (the handler
 * then queues the reply: fm_replay_resumed) and writes the fixture file
 * (fm_rec_flush).
 * An upstream that cannot be reached, times out (--upstream-timeout), breaks
 * mid-reply or sends a reply the proxy cannot carry whole (over
 * FM_PROXY_MAX_REPLY bytes, over the budget, over FM_MAX_HEADERS headers)
 * gets the client a 502 BAD_GATEWAY naming the cause; nothing is recorded.
 * The --proxy URL is only ever shown with its userinfo masked ("***@").
 */
#ifndef FAKE_MSP_PROXY_H
#define FAKE_MSP_PROXY_H

#include <microhttpd.h>
#include <stddef.h>

#include "executor/msp_executor.h"

/* Reply bodies are buffered whole, up to the executor's own cap. */
#define FM_PROXY_MAX_REPLY MSP_RESPONSE_CAP
/* Bytes of request and reply bodies the proxy holds at once, all exchanges
 * together (a reply counts until libmicrohttpd has sent and freed it). */
#define FM_PROXY_BUDGET (96u * 1024u * 1024u)
/* How often the clients of exchanges in flight are checked. */
#define FM_PROXY_PROBE_MS 100

struct fm_req;
struct fake_msp;
struct fake_msp_options;
typedef struct fm_proxy fm_proxy;

/* Starts the transfer and recording threads. NULL with a reason in errbuf
 * (bad URL, unusable --record directory, bad --redact path); the reason
 * never quotes the URL's userinfo. */
fm_proxy *fm_proxy_new(struct fake_msp *fm, const struct fake_msp_options *opt,
                       char *errbuf, size_t errlen);

/* A request's head has arrived (declaring content_length body bytes, 0 when
 * unknown): reserves them in the budget (r->proxy_held) and returns MHD_YES
 * to read the body, or queues 503 with Retry-After (and Connection: close)
 * when the proxy is full, before the body is read. */
enum MHD_Result fm_proxy_head(struct fm_req *r, struct MHD_Connection *c,
                              const char *url, const char *method,
                              unsigned long long content_length);

/* Gives back budget bytes reserved by fm_proxy_head() and never used. */
void fm_proxy_release(fm_proxy *p, size_t n);

/* Takes a whole request: refuses it (400, 413, 503) or suspends the
 * connection and hands the exchange to the transfer thread. */
enum MHD_Result fm_proxy_dispatch(struct fm_req *r, struct MHD_Connection *c,
                                  const char *url, const char *method);

/* Aborts upstream exchanges in flight, resumes every connection (their
 * handlers then close them) and joins the threads. Before MHD stops. */
void fm_proxy_stop(fm_proxy *p);
void fm_proxy_free(fm_proxy *p);

#endif
