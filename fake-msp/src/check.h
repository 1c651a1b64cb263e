/*
 * check.h — the executor-contract check on an already parsed body, so the
 * server parses each execute body once (fake_msp_check_request parses).
 */
#ifndef FAKE_MSP_CHECK_H
#define FAKE_MSP_CHECK_H

#include <cjson/cJSON.h>
#include "fake_msp/fake_msp.h"

/* As fake_msp_check_request(); doc is req's body parsed (NULL: not JSON). */
int fm_check_request_doc(const mspf_request *req, const cJSON *doc,
                         char ***violations, size_t *n);

#endif
