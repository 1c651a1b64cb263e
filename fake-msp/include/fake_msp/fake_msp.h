/*
 * fake_msp.h — a fake MSP god-mode server, usable as a library.
 *
 * Out of the box it imitates the MSP (auth, tenant, validation, tool
 * catalogue, idempotency, rate limits; spec/wire-contract.md, "The MSP
 * side"). Loaded with contract fixtures (contracts/include/contracts/
 * fixture.h) it replays their responses, faults included, and it journals
 * every request byte for byte. The fake-msp program is a thin main() over
 * this API; tests start it in process on port 0.
 *
 * Ownership: fake_msp_start() returns a server stopped and freed with
 * fake_msp_stop(). Journal entries returned by fake_msp_journal_find() are
 * copies, freed with fake_msp_entries_free(). *_free(NULL)/stop(NULL) do
 * nothing. The library never prints (except through `log`) and never exits.
 * All functions are thread-safe.
 */
#ifndef FAKE_MSP_H
#define FAKE_MSP_H

#include <stddef.h>
#include <contracts/fixture.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FAKE_MSP_DEFAULT_TOKEN "sk-test"
#define FAKE_MSP_DEFAULT_TENANT "tenant-x"
#define FAKE_MSP_DEFAULT_MAX_BODY (1024u * 1024u)
#define FAKE_MSP_DEFAULT_JOURNAL_MAX 10000u
#define FAKE_MSP_DEFAULT_IDEM_CAPACITY 100000u
#define FAKE_MSP_DEFAULT_IDEM_TTL_MS (24LL * 3600 * 1000)

typedef struct fake_msp_options {
    const char *host;              /* bind address; NULL: "127.0.0.1" */
    unsigned short port;           /* 0: any free port */
    const char *tenant;            /* the server's tenant; NULL: "tenant-x" */
    const char *const *keys;       /* extra "TOKEN=TENANT" credentials; sk-test=tenant-x always exists */
    size_t n_keys;
    const char *const *contract_dirs;  /* fixture directories to load */
    size_t n_contract_dirs;
    const char *const *fixture_files;  /* single fixture files to load */
    size_t n_fixture_files;
    int strict;                    /* unmatched requests get 404 NO_FIXTURE naming the closest */
    long rate_limit_per_min;       /* per tenant; 0: unlimited */
    size_t max_body;               /* 0: FAKE_MSP_DEFAULT_MAX_BODY */
    size_t journal_max;            /* 0: FAKE_MSP_DEFAULT_JOURNAL_MAX */
    size_t idem_capacity;          /* 0: FAKE_MSP_DEFAULT_IDEM_CAPACITY */
    long long idem_ttl_ms;         /* 0: FAKE_MSP_DEFAULT_IDEM_TTL_MS */
    unsigned long long seed;       /* for faults without their own seed */
    const char *tls_cert;          /* PEM files; both or neither */
    const char *tls_key;
    void (*log)(void *user, const char *line); /* optional request log */
    void *log_user;
} fake_msp_options;

/* Fills *opt with the defaults. */
void fake_msp_options_init(fake_msp_options *opt);

typedef struct fake_msp fake_msp;

/* Loads the fixtures, binds and starts serving. Returns 0 and sets *out, or
 * -1 with a one-line reason in errbuf (an invalid fixture is reported as
 * "FILE: PATH: REASON"). */
int fake_msp_start(const fake_msp_options *opt, fake_msp **out,
                   char *errbuf, size_t errlen);

/* The bound port, and the base URL "http[s]://HOST:PORT" (static storage
 * inside the server, valid until fake_msp_stop). */
unsigned short fake_msp_port(const fake_msp *fm);
const char *fake_msp_url(const fake_msp *fm);

/* Stops accepting, ends every open connection (hanging ones included),
 * waits for the server threads and frees everything. NULL-safe. */
void fake_msp_stop(fake_msp *fm);

/* Adds a fixture at run time (taking ownership on success). Refuses a
 * duplicate name or command id with a reason. */
int fake_msp_add_fixture(fake_msp *fm, mspf_fixture *f, char *errbuf,
                         size_t errlen);

/* Clears the journal, the idempotency store, the response sequences and
 * the rate buckets (POST /__admin/reset). */
void fake_msp_reset(fake_msp *fm);

/* One journalled request: exactly what arrived. */
typedef struct fake_msp_entry {
    unsigned long long seq;        /* arrival number, from 1 */
    long long time_ms;             /* wall clock, ms since the epoch */
    char *method;
    char *path;
    mspf_header *headers;          /* in arrival order, as received */
    size_t n_headers;
    unsigned char *body;           /* raw bytes, NUL-terminated */
    size_t body_len;
    char *fixture;                 /* name of the matched fixture, or NULL */
    int status;                    /* status sent, 0 for a fault */
    char **violations;             /* executor-contract violations */
    size_t n_violations;
} fake_msp_entry;

/* Copies every journalled request whose X-Brainstorm-Command-Id or
 * Idempotency-Key equals command_id (all requests when command_id is
 * NULL), oldest first. Returns 0 and sets *entries/*n (NULL/0 when none),
 * or -1 on ENOMEM. */
int fake_msp_journal_find(fake_msp *fm, const char *command_id,
                          fake_msp_entry **entries, size_t *n);
void fake_msp_entries_free(fake_msp_entry *entries, size_t n);

/* Entries dropped from the journal because it was full. */
unsigned long long fake_msp_journal_dropped(fake_msp *fm);

/* The server's seed (printed by the program so runs can be reproduced). */
unsigned long long fake_msp_seed(const fake_msp *fm);

#ifdef __cplusplus
}
#endif
#endif /* FAKE_MSP_H */
