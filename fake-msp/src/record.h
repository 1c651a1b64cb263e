/*
 * record.h — turning proxied exchanges into contract fixtures (fake-msp
 * --proxy URL --record DIR). One fixture file per distinct exchange, written
 * atomically (a temporary file in DIR, then rename); a retry of the same
 * command id with the same request becomes the next response of the same
 * fixture. The credential is never written: the fixture names its role.
 * Building is serialised by one mutex, writing by another, so a client
 * gets its reply before the file is written (see docs/record.md).
 */
#ifndef FAKE_MSP_RECORD_H
#define FAKE_MSP_RECORD_H

#include <stddef.h>
#include "contracts/fixture.h"

typedef struct fm_recorder fm_recorder;
typedef struct fm_rec_pending fm_rec_pending;

/* What the proxy saw: the request as sent and the upstream reply. */
typedef struct fm_exchange {
    const char *method;
    const char *path;
    const mspf_header *req_headers;
    size_t n_req_headers;
    const unsigned char *req_body;
    size_t req_body_len;
    long status;
    const mspf_header *resp_headers;
    size_t n_resp_headers;
    const unsigned char *resp_body;
    size_t resp_body_len;
} fm_exchange;

/* Creates a recorder writing into dir (which must exist and be writable).
 * redact: JSON paths "request.PATH" (into the request body) or
 * "response.PATH" (into the response body), PATH being member names
 * separated by '.', with [N] or [*] for array elements. NULL with a reason
 * in errbuf on a bad path or an unusable directory. */
fm_recorder *fm_rec_new(const char *dir, const char *const *redact,
                        size_t n_redact, char *errbuf, size_t errlen);
void fm_rec_free(fm_recorder *rec);

/* Records one exchange: builds and checks the fixture text(s) to write
 * (the new or extended fixture, and an earlier one whose command id it
 * must now pin) and returns them in *pending, to be written by
 * fm_rec_flush() — after the client has its reply. Returns 0 with the
 * fixture's name in name, 1 when the exchange is not recordable (why says
 * so: not an execute request, ids missing, ...), -1 on an error (why says
 * so). Never writes a credential; why never holds one. */
int fm_rec_exchange(fm_recorder *rec, const fm_exchange *x, char *name,
                    size_t namelen, fm_rec_pending **pending, char *why,
                    size_t whylen);

/* Writes (temporary file + rename) and frees what fm_rec_exchange staged,
 * skipping a text older than one already written for the same fixture.
 * NULL does nothing. Returns 0, or -1 with the first failure in why. */
int fm_rec_flush(fm_recorder *rec, fm_rec_pending *pending, char *why,
                 size_t whylen);

/* The credential role (mspf_roles()) a fixture names for a reply:
 * "invalid" for 401, "other_tenant" for 403 TENANT_MISMATCH, "read_only"
 * for another 403, else "valid". */
const char *fm_rec_role(long status, const char *error_code);

#endif
