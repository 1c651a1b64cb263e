/*
 * server.h — the fake_msp object and the request state shared by the
 * modules of the server: server.c (lifecycle, access handler, routing),
 * replay.c (fixture responses and faults), admin.c (/__admin/ API).
 */
#ifndef FAKE_MSP_SERVER_H
#define FAKE_MSP_SERVER_H

#include <stdatomic.h>
#include <microhttpd.h>

#include "fake_msp/fake_msp.h"
#include "conns.h"
#include "fixtures.h"
#include "idem.h"
#include "journal.h"
#include "msp.h"
#include "ratelimit.h"
#include "sched.h"
#include "util.h"

/* Headers a request may have (max_headers is at most this): 431 past. */
#define FM_MAX_HEADERS    FAKE_MSP_DEFAULT_MAX_HEADERS
#define FM_ADMIN_MAX_BODY (1024u * 1024u)

struct fake_msp {
    struct MHD_Daemon *daemon;
    char url[300];
    unsigned short port;
    atomic_int stopping;
    unsigned long long seed;
    int strict;
    int tls;
    size_t max_body;
    void (*log)(void *user, const char *line);
    void *log_user;

    fm_realm realm;
    idem_store *idem;
    ratelimit *rl;
    journal *journal;
    fx_registry *fx;
    sched *sched;
    struct fm_proxy *proxy; /* --proxy: forward everything (proxy.h) */

    long rate_limit_default; /* per minute, 0: unlimited (states.c restores) */
    atomic_int unavailable;  /* provider state: execute answers 503 */
    atomic_ulong api_requests; /* requests outside /__admin/ so far */
    atomic_ulong states_at;    /* api_requests at the last state setup */

    struct MHD_Response *r_health, *r_tools, *r_500;
    char *tls_cert, *tls_key;
    char *tenant;

    fm_conns *conns;
    char host[64]; /* the bound address as given ("::1", "127.0.0.1") */
    int loopback;  /* bound to a loopback address */
    int any_host;  /* bound to a wildcard address: Host not checked */
    int no_admin;
    char *admin_token;
    size_t max_headers;
};

/* What happens when a suspended request's handler runs again. */
typedef enum after_wait {
    AFTER_RESPOND = 0, /* queue resp */
    AFTER_CLOSE,       /* close (FIN) */
    AFTER_RESET        /* close with SO_LINGER {1,0}: RST */
} after_wait;

typedef enum req_state {
    RS_READING = 0,
    RS_SUSPENDED,
    RS_DONE
} req_state;

/* One request (MHD's *con_cls), freed when MHD completes it. */
typedef struct fm_req {
    fake_msp *fm;
    msp_buf body;
    int too_large;
    req_state state;
    sched_job job;
    after_wait after;
    struct MHD_Response *resp; /* for AFTER_RESPOND */
    unsigned status;
    char *raw;         /* fault bytes */
    int holds_fixture; /* got a fixture response (fm_fx_release) */
    int door; /* refused at the door (431, conflicting Content-Length) */
    enum MHD_Result door_ok;
    size_t proxy_held; /* --proxy: body bytes reserved (proxy.h) */
    int proxy_full;    /* --proxy: the body did not fit the budget: 503 */
} fm_req;

/* Serves a fixture response (delay and faults included); a plain reply
 * with no delay reuses the reply object kept in cell (fm_fx_match_cell;
 * NULL: a fresh one). Returns what the access handler returns; *status is
 * the status sent, 0 for a fault that sends no complete response (all but
 * dribble). */
enum MHD_Result fm_replay_serve(fm_req *r, struct MHD_Connection *c,
                                const mspf_response *resp, fm_fx_cell *cell,
                                int *status);
/* Frees a reply object kept in a response's cell (fm_fx_set_drop). */
void fm_replay_drop(void *m);

/* Finishes a request whose suspension ended. */
enum MHD_Result fm_replay_resumed(fm_req *r, struct MHD_Connection *c);

/* Sets SO_LINGER {1,0} so the coming close is a reset. */
void fm_replay_arm_reset(struct MHD_Connection *c);

/* The admin API: every path under this prefix (fake-msp.1). */
#define FM_ADMIN_PREFIX "/__admin/"

/* Answers an /__admin/ request. */
enum MHD_Result fm_admin_handle(fake_msp *fm, struct MHD_Connection *c,
                                const char *method, const char *url,
                                const fm_req *r);

/* Answers GET /__admin/, the dashboard page (dashboard.c). */
enum MHD_Result fm_dashboard(fake_msp *fm, struct MHD_Connection *c);
/* 1 when a GET carries "Authorization: Basic base64(ANY:TOKEN)" (strict
 * base64, padded or not; nothing after it): how a
 * browser sends the admin token (read-only requests only). */
int fm_dashboard_basic_ok(const char *method, const char *auth,
                          const char *token);
/* 401 with WWW-Authenticate: Basic, so that a browser asks for the token. */
enum MHD_Result fm_dashboard_ask_token(struct MHD_Connection *c);

/* Answers POST /__admin/provider-states (the Pact provider-state body
 * {"state","params","action"}) and GET (the known states) (states.c). */
/* Tears every provider state down (POST /__admin/reset). */
void fm_states_reset(fake_msp *fm);
enum MHD_Result fm_states_handle(fake_msp *fm, struct MHD_Connection *c,
                                 const char *method, const fm_req *r);

/* Queues a malloc'd JSON body (taken: MHD frees it). NULL (ENOMEM, or a
 * journal dump over its cap) queues 500 INTERNAL instead. */
enum MHD_Result fm_queue_json(struct MHD_Connection *c, unsigned status,
                              char *body, size_t len);

/* Queues an MSP error body with a generated trace id. */
enum MHD_Result fm_queue_error(struct MHD_Connection *c, unsigned status,
                               const char *code, const char *message);

#endif
