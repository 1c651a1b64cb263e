/*
 * fake_msp.h — a fake MSP god-mode server, usable as a library.
 *
 * Out of the box it imitates the MSP (auth, tenant, validation, tool
 * catalogue, idempotency, rate limits; docs/wire-contract.md, "The MSP
 * side"). Loaded with contract fixtures (contracts/include/contracts/
 * fixture.h) it replays their responses, faults included, and it journals
 * every request byte for byte. The fake-msp program is a thin main() over
 * this API; tests start it in process on port 0.
 *
 * Ownership: fake_msp_start() returns a server stopped and freed with
 * fake_msp_stop(). Journal entries returned by fake_msp_journal_find() are
 * copies, freed with fake_msp_entries_free(). *_free(NULL)/stop(NULL) do
 * nothing. The library never prints (except through `log`) and never exits.
 *
 * Threads: every function is thread-safe except fake_msp_stop(), which must
 * not race any other call on the same server (stop it last, from one
 * thread). Zero-init: fake_msp_options is set up with
 * fake_msp_options_init() (equivalent to zeroing it: every 0 / NULL field
 * means its default).
 *
 * Matching: fixtures are tried in load order (through an index on the
 * literal command id, tool and params they require, so only the fixtures
 * that could match are tried); the first whose "request"
 * matches (mspf_match_request) and that has response(s) answers, with its
 * responses served in turn (the last repeating). Fixture replies bypass the
 * realistic checks and the idempotency store. Everything else gets the
 * realistic MSP, or 500 NO_MATCHING_FIXTURE in strict mode (GET /health
 * and the admin API excepted).
 *
 * Faults are raw bytes written on the socket by a timer thread while the
 * connection is suspended (see fake-msp/src/sched.h); over TLS they are
 * written below the TLS layer, so use them over plain HTTP. A hang lasts
 * until the server stops or the client closes its connection. Garbage bytes
 * are splitmix64 output seeded with the fault's seed, else the server's,
 * the state advanced once per 8 bytes (little-endian), from the start for
 * every request.
 *
 * Admin API (same port; nothing under /__admin/ is journalled). Refused
 * with 403 unless Host names the bound address (or, bound to loopback,
 * localhost/127.0.0.1/[::1]) with the port, an Origin (if any) is such an
 * address too, Sec-Fetch-Site (if any) is same-origin or none, and, with
 * admin_token, "Authorization: Bearer TOKEN" is sent (else 401); POST and
 * PUT need Content-Type application/json (else 415); no_admin: 404.
 *   GET    /__admin/requests[?since=SEQ&limit=N]  streamed,
 *          {"dropped":N,"requests":[{"seq","time_ms",
 *          "method","path","headers":[[name,value],...],"body" (valid
 *          UTF-8) or "body_base64","fixture","status","violations":[..]}]}
 *          with Authorization values masked ("Bearer s…(7)", the policy of
 *          msp_mask_secret in executor/msp_util.h)
 *   DELETE /__admin/requests  clears the journal
 *   POST   /__admin/reset     = fake_msp_reset(); with ?fixtures=1 also
 *          removes the fixtures added at run time
 *   GET    /__admin/fixtures  {"count":N,"fixtures":[{"name","description",
 *          "exit_row","responses","served","statuses","faults"}]}
 *   POST   /__admin/fixtures  adds the fixture in the body: 201
 *          {"added":NAME}; 400 INVALID_FIXTURE "PATH: REASON"; 409 CONFLICT
 *          for a duplicate name or command id
 *   POST   /__admin/provider-states  {"state","params","action":"setup"|
 *          "teardown"} (Pact's provider-state call) for every bundled
 *          state: 200 {"state","action"}; 400 UNKNOWN_STATE; GET lists them
 *   PUT    /__admin/fixtures/NAME  replaces NAME (200 {"replaced":NAME})
 *          or adds it (201); DELETE removes it (200 {"deleted":NAME}, 404)
 * Strings in the journal that are not UTF-8 are {"base64":"..."}.
 */
#ifndef FAKE_MSP_H
#define FAKE_MSP_H

#include <stddef.h>
#include <contracts/fixture.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Room for any error message fake_msp_start / fake_msp_add_fixture write
 * (longer ones are cut to fit a smaller buffer). */
#define FAKE_MSP_ERRBUF_SIZE         2048

#define FAKE_MSP_DEFAULT_TOKEN       "sk-test"
#define FAKE_MSP_DEFAULT_TENANT      "tenant-x"
#define FAKE_MSP_DEFAULT_MAX_BODY    (1024u * 1024u)
#define FAKE_MSP_DEFAULT_JOURNAL_MAX 10000u
/* The journal also drops its oldest entries past this many bytes. */
#define FAKE_MSP_DEFAULT_JOURNAL_MAX_BYTES (64u * 1024u * 1024u)
/* Request headers at most (also the most there can be); more: 431. */
#define FAKE_MSP_DEFAULT_MAX_HEADERS 128u
/* Fixtures added at run time at most, by default (POST /__admin/fixtures,
 * fake_msp_add_fixture; counting those loaded at start). */
#define FAKE_MSP_DEFAULT_MAX_FIXTURES 10000u
/* Small enough that a benchmark's unique keys keep RSS low. */
#define FAKE_MSP_DEFAULT_IDEM_CAPACITY 4096u
#define FAKE_MSP_DEFAULT_IDEM_TTL_MS   (24LL * 3600 * 1000)
/* Bytes all fixtures together may hold (rendered bodies, body_repeat,
 * every entry of "responses"); a fixture that would pass it is refused
 * when loaded (start: an error; admin API: 400 naming it). */
#define FAKE_MSP_DEFAULT_FIXTURE_BUDGET (128u * 1024u * 1024u)
/* Bytes of stored replies the idempotency store keeps at most (oldest
 * evicted first), besides idem_capacity entries. */
#define FAKE_MSP_DEFAULT_IDEM_MAX_BYTES (32u * 1024u * 1024u)
/* Connections open at once, in all and from one address; past them a new
 * connection is closed at once. */
#define FAKE_MSP_DEFAULT_MAX_CONNECTIONS        4096u
#define FAKE_MSP_DEFAULT_MAX_CONNECTIONS_PER_IP 2048u
/* Time from a request's first byte (or the end of the previous request on
 * the connection) until it has fully arrived; past it the connection is
 * closed. Idle time alone is cut at 60 s. */
#define FAKE_MSP_DEFAULT_REQUEST_BUDGET_MS 30000LL
/* Recording proxy: the longest upstream exchange, and the exchanges in
 * flight at once (past them 503 with Retry-After). */
#define FAKE_MSP_DEFAULT_UPSTREAM_TIMEOUT_MS 30000L
#define FAKE_MSP_DEFAULT_PROXY_QUEUE         256u

typedef struct fake_msp_options {
    const char *host;        /* bind address; NULL: "127.0.0.1" */
    unsigned short port;     /* 0: any free port */
    const char *tenant;      /* the server's tenant; NULL: "tenant-x" */
    const char *const *keys; /* extra "TOKEN=TENANT" credentials; the
                                built-in key of every credential role
                                (mspf_roles) is issued after them */
    size_t n_keys;
    const char *const *contract_dirs; /* fixture directories to load */
    size_t n_contract_dirs;
    const char *const *fixture_files; /* single fixture files to load */
    size_t n_fixture_files;
    int strict; /* unmatched requests get 500 NO_MATCHING_FIXTURE naming the
                   closest */
    long rate_limit_per_min; /* per tenant; 0: unlimited */
    size_t max_body;         /* 0: FAKE_MSP_DEFAULT_MAX_BODY */
    size_t journal_max;      /* 0: FAKE_MSP_DEFAULT_JOURNAL_MAX */
    size_t
        idem_capacity; /* 0: FAKE_MSP_DEFAULT_IDEM_CAPACITY (FIFO eviction) */
    long long idem_ttl_ms;   /* 0: FAKE_MSP_DEFAULT_IDEM_TTL_MS */
    size_t max_fixtures;     /* 0: FAKE_MSP_DEFAULT_MAX_FIXTURES */
    unsigned long long seed; /* for faults without their own seed */
    const char *tls_cert;    /* PEM files; both or neither */
    const char *tls_key;
    void (*log)(void *user, const char *line); /* optional request log */
    void *log_user;
    /* Admin API (/__admin/): off when no_admin (404); with admin_token set,
     * every admin request needs "Authorization: Bearer TOKEN". Binding an
     * address other than loopback needs one or the other. */
    int no_admin;
    const char *admin_token;
    size_t max_connections;        /* 0: FAKE_MSP_DEFAULT_MAX_CONNECTIONS */
    size_t max_connections_per_ip; /* 0: ..._PER_IP */
    long long request_budget_ms;   /* 0: FAKE_MSP_DEFAULT_REQUEST_BUDGET_MS */
    size_t fixture_budget;         /* 0: FAKE_MSP_DEFAULT_FIXTURE_BUDGET */
    size_t idem_max_bytes;         /* 0: FAKE_MSP_DEFAULT_IDEM_MAX_BYTES */
    size_t journal_max_bytes;      /* 0: FAKE_MSP_DEFAULT_JOURNAL_MAX_BYTES */
    size_t max_headers; /* 0: FAKE_MSP_DEFAULT_MAX_HEADERS; at most that */
    /* Recording proxy (docs/record.md): every request but the admin API is
     * forwarded to proxy_url (http or https; TLS verified, against
     * proxy_ca_file when set) and the reply returned unchanged; 502
     * BAD_GATEWAY when the upstream fails. The journal's "fixture" is the
     * fixture recorded, its violations a "proxy: ..." note when nothing
     * was. With record_dir, one fixture per exchange is written there;
     * redact lists JSON paths ("request.params.token",
     * "response.data.devices[*].serial") whose values are replaced. */
    const char *proxy_url;
    const char *proxy_ca_file;
    const char *record_dir;
    const char *const *redact;
    size_t n_redact;
    long upstream_timeout_ms; /* 0: FAKE_MSP_DEFAULT_UPSTREAM_TIMEOUT_MS */
    size_t proxy_queue;       /* 0: FAKE_MSP_DEFAULT_PROXY_QUEUE */
} fake_msp_options;

/* Fills *opt with the defaults (all zero). */
void fake_msp_options_init(fake_msp_options *opt);

typedef struct fake_msp fake_msp;

/* Loads the fixtures, binds and starts serving. Everything in *opt is read
 * or copied during the call (only log/log_user are kept). Returns 0 and
 * sets *out, or -1 with a one-line reason in errbuf (an invalid fixture is
 * reported as "FILE: PATH: REASON"). */
int fake_msp_start(const fake_msp_options *opt, fake_msp **out, char *errbuf,
                   size_t errlen);

/* The bound port (never 0 once started), and the base URL "http[s]://HOST:PORT"
 * (static storage inside the server, valid until fake_msp_stop). */
unsigned short fake_msp_port(const fake_msp *fm);
const char *fake_msp_url(const fake_msp *fm);

/* Stops accepting, ends every open connection (hanging ones included),
 * waits for the server threads and frees everything. NULL-safe. Not
 * thread-safe: must not race any other call on fm, and fm is invalid
 * afterwards. */
void fake_msp_stop(fake_msp *fm);

/* Adds a fixture at run time. Returns 0 and takes ownership of f (freed by
 * fake_msp_stop); or -1 with a reason in errbuf, f still the caller's: a
 * duplicate name or command id, more than max_fixtures, or out of memory. */
int fake_msp_add_fixture(fake_msp *fm, mspf_fixture *f, char *errbuf,
                         size_t errlen);

/* Clears the journal, the idempotency store, the response sequences and
 * the rate buckets, and tears every provider state down (POST
 * /__admin/reset). */
void fake_msp_reset(fake_msp *fm);

/* One journalled request: exactly what arrived. */
typedef struct fake_msp_entry {
    unsigned long long seq; /* arrival number, from 1 */
    long long time_ms;      /* wall clock, ms since the epoch */
    char *method;
    char *path;
    mspf_header *headers; /* in arrival order, as received */
    size_t n_headers;
    unsigned char *body; /* raw bytes, NUL-terminated */
    size_t body_len;
    char *fixture;     /* name of the matched fixture, or NULL */
    int status;        /* status sent, 0 for a fault */
    char **violations; /* executor-contract violations */
    size_t n_violations;
} fake_msp_entry;

/* Copies every journalled request (admin requests are not journalled) whose
 * X-Brainstorm-Command-Id or Idempotency-Key equals command_id (all requests
 * when command_id is NULL), oldest first. Returns 0 and sets *entries and *n
 * (NULL and 0 when none), or -1 on ENOMEM. */
int fake_msp_journal_find(fake_msp *fm, const char *command_id,
                          fake_msp_entry **entries, size_t *n);
void fake_msp_entries_free(fake_msp_entry *entries, size_t n);

/* The number of entries dropped from the journal because it was full
 * since start or the last clearing of the journal. */
unsigned long long fake_msp_journal_dropped(fake_msp *fm);

/* The server's seed (printed by the program so runs can be reproduced).
 * An options seed of 0 makes the server pick one from the clock. */
unsigned long long fake_msp_seed(const fake_msp *fm);

/* Checks one execute request against the executor contract: method POST,
 * X-Brainstorm-Command-Id and Idempotency-Key both present and equal,
 * "Authorization: Bearer <token>", Content-Type application/json, and a
 * body that is exactly {"tool":string,"params":object,"simulate":false}
 * with no other (or duplicate) members. Sets *violations to a malloc'd
 * array of *n malloc'd messages such as "Idempotency-Key missing" or
 * "body has extra member \"x\"" (NULL/0 when clean; free with
 * fake_msp_violations_free). Returns 0, or -1 on ENOMEM. Pure function:
 * also the entry point of the request-check fuzz target. */
int fake_msp_check_request(const mspf_request *req, char ***violations,
                           size_t *n);
void fake_msp_violations_free(char **violations, size_t n);

/* The number of requests whose response is suspended (delayed, dribbling
 * or hanging) right now. Lets tests wait for "the hang has begun". */
size_t fake_msp_suspended(fake_msp *fm);

/* Blocks until at least n responses are suspended, or timeout_ms passes
 * (no polling: woken by the server). Returns 0, or -1 on timeout. */
int fake_msp_wait_suspended(fake_msp *fm, size_t n, long timeout_ms);

/* Blocks until at most n responses are suspended (e.g. a hang released
 * because its client went away: the server notices within ~200 ms), or
 * timeout_ms passes. Returns 0, or -1 on timeout. */
int fake_msp_wait_released(fake_msp *fm, size_t n, long timeout_ms);

#ifdef __cplusplus
}
#endif
#endif /* FAKE_MSP_H */
