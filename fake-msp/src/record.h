/*
 * record.h — turning proxied exchanges into contract fixtures (fake-msp
 * --proxy URL --record DIR). One fixture file per distinct exchange, written
 * atomically (a temporary file in DIR, then rename); a retry of the same
 * command id with the same request becomes the next response of the same
 * fixture. The credential is never written: the fixture names its role.
 * All calls are serialised by one mutex (see docs/record.md).
 */
#ifndef FAKE_MSP_RECORD_H
#define FAKE_MSP_RECORD_H

#include <stddef.h>
#include "contracts/fixture.h"

typedef struct fm_recorder fm_recorder;

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

/* Records one exchange. Returns 0 with the fixture's name in name (new or
 * extended), 1 when the exchange is not recordable (why says so: not an
 * execute request, ids missing, ...), -1 on an error (why says so). Never
 * writes a credential; why never holds one. */
int fm_rec_exchange(fm_recorder *rec, const fm_exchange *x, char *name,
                    size_t namelen, char *why, size_t whylen);

/* The credential role a fixture names for a reply (the one place to change
 * when roles change): "invalid" for 401, "other_tenant" for 403
 * TENANT_MISMATCH, "read_only" for another 403, else "valid". */
const char *fm_rec_role(long status, const char *error_code);

#endif
